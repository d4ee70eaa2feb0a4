//! Serde wire models of the CVM (2017-03-12) and Lighthouse (2020-03-24) actions the
//! adapters call (field names exactly as Tencent spells them; tencent.md §1, §2).
//!
//! Requests serialise in field order, with absent optional fields left out, so the JSON
//! body is compact and stable (the wiremock tests pin it byte for byte). Responses are
//! the contents of the `{"Response": {...}}` envelope; every field Tencent documents as
//! optional or nullable is an `Option` or defaults to empty, and unknown fields are
//! ignored, so a new field on Tencent's side never breaks decoding.

use serde::{Deserialize, Serialize};

/// A `Filter` (`{"Name": ..., "Values": [...]}`), as DescribeImages, DescribeBlueprints,
/// DescribeImagesToShare and DescribeBlueprintsShareAcrossAccountInfos take them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    /// Filter name, e.g. `image-type`.
    pub name: String,
    /// Values; ORed within one filter.
    pub values: Vec<String>,
}

impl Filter {
    /// A filter with one value.
    #[must_use]
    pub fn one(name: &str, value: &str) -> Self {
        Filter {
            name: name.to_owned(),
            values: vec![value.to_owned()],
        }
    }
}

/// A `Tag` (`{"Key": ..., "Value": ...}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Tag {
    /// Tag key.
    pub key: String,
    /// Tag value.
    pub value: String,
}

/// A response with nothing but `RequestId` (ModifyImageSharePermission, DeleteImages, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Empty {
    /// The request id.
    pub request_id: Option<String>,
}

// ------------------------------------------------------------------------------------ CVM

/// CVM `DescribeImages` request. `ImageIds` and `Filters` cannot be combined
/// (`InvalidParameter.InvalidParameterCoexistImageIdsFilters`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImagesRequest {
    /// Images to look up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_ids: Option<Vec<String>>,
    /// Filters (at most 10, 5 values each).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    /// Offset, default 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Page size, default 20, at most 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// CVM `DescribeImages` response.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeImagesResponse {
    /// Images matching the request (all pages).
    pub total_count: u64,
    /// This page.
    pub image_set: Vec<CvmImage>,
}

/// A CVM `Image` (tencent.md §1.3). Only `ImageId` is required to decode.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CvmImage {
    /// `img-...`.
    pub image_id: String,
    /// e.g. `CentOS 7.6 64位`.
    #[serde(default)]
    pub os_name: Option<String>,
    /// `PUBLIC_IMAGE`, `PRIVATE_IMAGE`, `SHARED_IMAGE`.
    #[serde(default)]
    pub image_type: Option<String>,
    /// ISO 8601 UTC.
    #[serde(default)]
    pub created_time: Option<String>,
    /// Name.
    #[serde(default)]
    pub image_name: Option<String>,
    /// Description.
    #[serde(default)]
    pub image_description: Option<String>,
    /// GiB.
    #[serde(default)]
    pub image_size: Option<i64>,
    /// `x86_64`, `arm`, `i386`.
    #[serde(default)]
    pub architecture: Option<String>,
    /// `CREATING`, `NORMAL`, `CREATEFAILED`, `SYNCING`, `IMPORTING`, `IMPORTFAILED` (and
    /// `USING` in the DeleteImages docs).
    #[serde(default)]
    pub image_state: Option<String>,
    /// e.g. `TencentOS`.
    #[serde(default)]
    pub platform: Option<String>,
    /// Creator account id, or `tencent` for public images.
    #[serde(default)]
    pub image_creator: Option<String>,
    /// `OFFICIAL`, `CREATE_IMAGE`, `EXTERNAL_IMPORT`.
    #[serde(default)]
    pub image_source: Option<String>,
    /// Sync percentage (nullable).
    #[serde(default)]
    pub sync_percent: Option<i64>,
    /// Whether cloud-init is supported.
    #[serde(default)]
    pub is_support_cloudinit: Option<bool>,
    /// Snapshots of the image's disks.
    #[serde(default)]
    pub snapshot_set: Option<Vec<CvmSnapshot>>,
    /// Tags.
    #[serde(default)]
    pub tags: Option<Vec<Tag>>,
    /// `TencentCloud` or `BYOL`.
    #[serde(default)]
    pub license_type: Option<String>,
    /// Image family.
    #[serde(default)]
    pub image_family: Option<String>,
    /// Deprecated flag.
    #[serde(default)]
    pub image_deprecated: Option<bool>,
}

/// A snapshot of a CVM image (`SnapshotSet` element).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CvmSnapshot {
    /// `snap-...`.
    pub snapshot_id: Option<String>,
    /// `SYSTEM_DISK` or `DATA_DISK`.
    pub disk_usage: Option<String>,
    /// GiB.
    pub disk_size: Option<i64>,
}

/// CVM `ModifyImageSharePermission` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyImageSharePermissionRequest {
    /// The image.
    pub image_id: String,
    /// Root-account ids of the recipients.
    pub account_ids: Vec<String>,
    /// `SHARE` or `CANCEL`.
    pub permission: String,
}

/// CVM `DescribeImageSharePermission` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImageSharePermissionRequest {
    /// The image.
    pub image_id: String,
}

/// CVM `DescribeImageSharePermission` response (not paged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeImageSharePermissionResponse {
    /// Every account the image is shared with.
    pub share_permission_set: Vec<SharePermission>,
}

/// One sharee of a CVM image (only these two fields exist; no `ImageId`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SharePermission {
    /// ISO 8601 UTC.
    #[serde(default)]
    pub created_time: Option<String>,
    /// The recipient account id.
    pub account_id: String,
}

/// CVM `SyncImages` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SyncImagesRequest {
    /// Exactly one image.
    pub image_ids: Vec<String>,
    /// Destination regions.
    pub destination_regions: Vec<String>,
    /// Name of the copies; the source name when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_name: Option<String>,
    /// Ask for the new image ids in the answer.
    pub image_set_required: bool,
}

/// CVM `SyncImages` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SyncImagesResponse {
    /// New images (empty unless `ImageSetRequired` was true).
    pub image_set: Vec<SyncImage>,
}

/// A new image made by `SyncImages`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SyncImage {
    /// The new image id.
    pub image_id: String,
    /// Its region.
    pub region: String,
}

/// CVM `DeleteImages` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteImagesRequest {
    /// Images to delete.
    pub image_ids: Vec<String>,
}

// ----------------------------------------------------------------------------- Lighthouse

/// Lighthouse `DescribeBlueprints` request. `BlueprintIds` and `Filters` cannot be
/// combined.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeBlueprintsRequest {
    /// Blueprints to look up (at most 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blueprint_ids: Option<Vec<String>>,
    /// Offset, default 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Page size, default 20, at most 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Filters (at most 10, 100 values each).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
}

/// Lighthouse `DescribeBlueprints` response.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeBlueprintsResponse {
    /// Blueprints matching (all pages).
    pub total_count: u64,
    /// This page.
    pub blueprint_set: Vec<Blueprint>,
}

/// A Lighthouse `Blueprint` (tencent.md §2.4). Only `BlueprintId` is required to decode.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Blueprint {
    /// `lhbp-...`.
    pub blueprint_id: String,
    /// `APP_OS`, `PURE_OS`, `DOCKER`, `PRIVATE`, `SHARED`, `GAME_PORTAL`.
    #[serde(default)]
    pub blueprint_type: Option<String>,
    /// `NORMAL`, `SYNCING`, `OFFLINE`, `CREATEFAILED`, `SYNCING_FAILED`, `ISOLATING`,
    /// `ISOLATED`, `DELETING`, `DESTROYING`.
    #[serde(default)]
    pub blueprint_state: Option<String>,
    /// Name.
    #[serde(default)]
    pub blueprint_name: Option<String>,
    /// Description (nullable).
    #[serde(default)]
    pub description: Option<String>,
    /// OS name.
    #[serde(default)]
    pub os_name: Option<String>,
    /// e.g. `CENTOS`.
    #[serde(default)]
    pub platform: Option<String>,
    /// `LINUX_UNIX` or `WINDOWS`.
    #[serde(default)]
    pub platform_type: Option<String>,
    /// ISO 8601 UTC (nullable).
    #[serde(default)]
    pub created_time: Option<String>,
    /// The CVM image a blueprint was shared from (CVM -> Lighthouse); `""` otherwise.
    #[serde(default)]
    pub image_id: Option<String>,
    /// Whether the blueprint is shared.
    #[serde(default)]
    pub blueprint_shared: Option<bool>,
    /// Required system-disk size, GB.
    #[serde(default)]
    pub required_system_disk_size: Option<i64>,
}

/// Lighthouse `ShareBlueprintAcrossAccounts` and `CancelShareBlueprintAcrossAccounts`
/// request (at most 10 accounts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BlueprintAccountsRequest {
    /// The blueprint.
    pub blueprint_id: String,
    /// Root-account ids.
    pub account_ids: Vec<String>,
}

/// Lighthouse `DescribeBlueprintsShareAcrossAccountInfos` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeBlueprintsShareAcrossAccountInfosRequest {
    /// Blueprints.
    pub blueprint_ids: Vec<String>,
    /// Offset.
    pub offset: u64,
    /// Page size (at most 100).
    pub limit: u64,
}

/// Lighthouse `DescribeBlueprintsShareAcrossAccountInfos` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeBlueprintsShareAcrossAccountInfosResponse {
    /// Grants matching (all pages).
    pub total_count: u64,
    /// This page.
    pub blueprint_share_across_account_info_set: Vec<BlueprintShareInfo>,
}

/// One cross-account grant of a blueprint.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BlueprintShareInfo {
    /// The blueprint.
    pub blueprint_id: String,
    /// The recipient account.
    pub account_id: String,
    /// ISO 8601 UTC.
    #[serde(default)]
    pub created_time: Option<String>,
}

/// Lighthouse `SyncBlueprint` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SyncBlueprintRequest {
    /// The blueprint.
    pub blueprint_id: String,
    /// At most 10 regions, not the source region.
    pub destination_regions: Vec<String>,
}

/// Lighthouse `SyncBlueprint` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SyncBlueprintResponse {
    /// The new blueprint per region.
    pub destination_region_blueprint_set: Vec<DestinationRegionBlueprint>,
}

/// A blueprint made by `SyncBlueprint`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationRegionBlueprint {
    /// Region.
    pub region: String,
    /// New blueprint id.
    pub blueprint_id: String,
}

/// Lighthouse `DeleteBlueprints` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteBlueprintsRequest {
    /// Blueprints to delete.
    pub blueprint_ids: Vec<String>,
}

/// Lighthouse `DescribeImagesToShare` request (ImageIds and Filters cannot be combined).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImagesToShareRequest {
    /// CVM images to look up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_ids: Option<Vec<String>>,
    /// Offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Page size (at most 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// `image-id`, `image-name`, `image-type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
}

/// Lighthouse `DescribeImagesToShare` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeImagesToShareResponse {
    /// Images matching (all pages).
    pub total_count: u64,
    /// This page.
    pub image_set: Vec<ShareableCvmImage>,
}

/// A CVM image as Lighthouse's `DescribeImagesToShare` sees it: can it be shared to
/// Lighthouse, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ShareableCvmImage {
    /// The CVM image id.
    pub image_id: String,
    /// Name.
    #[serde(default)]
    pub image_name: Option<String>,
    /// `CREATE_IMAGE` or `EXTERNAL_IMPORT`.
    #[serde(default)]
    pub image_source: Option<String>,
    /// `SystemImage` or `InstanceImage`.
    #[serde(default)]
    pub image_class: Option<String>,
    /// CVM image state.
    #[serde(default)]
    pub image_state: Option<String>,
    /// Whether cloud-init is supported.
    #[serde(default)]
    pub is_support_cloudinit: Option<bool>,
    /// OS name.
    #[serde(default)]
    pub os_name: Option<String>,
    /// Platform.
    #[serde(default)]
    pub platform: Option<String>,
    /// ISO 8601 UTC.
    #[serde(default)]
    pub created_time: Option<String>,
    /// Whether it can be shared to Lighthouse.
    #[serde(default)]
    pub is_shareable: bool,
    /// Why not (`""` when shareable).
    #[serde(default)]
    pub unshareable_reason: Option<String>,
}

/// Lighthouse `ModifyImageSharePermission` request (CVM image -> own Lighthouse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LighthouseImageSharePermissionRequest {
    /// The CVM image id.
    pub image_id: String,
    /// `SHARE` or `CANCEL`.
    pub permission: String,
}

/// Lighthouse `ModifyImageSharePermission` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LighthouseImageSharePermissionResponse {
    /// The new blueprint (SHARE); null on CANCEL.
    pub blueprint_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_serialise_in_documented_order_without_absent_fields() {
        let r = ModifyImageSharePermissionRequest {
            image_id: "img-6pb6lrmy".into(),
            account_ids: vec!["1038493875".into()],
            permission: "SHARE".into(),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"ImageId":"img-6pb6lrmy","AccountIds":["1038493875"],"Permission":"SHARE"}"#
        );
        let d = DescribeImagesRequest {
            filters: Some(vec![Filter::one("image-type", "SHARED_IMAGE")]),
            offset: Some(0),
            limit: Some(100),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"Filters":[{"Name":"image-type","Values":["SHARED_IMAGE"]}],"Offset":0,"Limit":100}"#
        );
    }

    #[test]
    fn documented_image_example_decodes() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"TotalCount":1,"ImageSet":[{"ImageId":"img-qlzp4oea","OsName":"CentOS 7.4 64位","ImageType":"PRIVATE_IMAGE","CreatedTime":"2020-09-22T00:00:00+00:00","ImageName":"test-image","ImageDescription":"test-image","ImageSize":20,"Architecture":"x86_64","ImageState":"NORMAL","Platform":"CentOS","ImageCreator":"3205597606","ImageSource":"CREATE_IMAGE","SyncPercent":null,"IsSupportCloudinit":true,"SnapshotSet":[{"SnapshotId":"snap-gqa37j2p","DiskUsage":"SYSTEM_DISK","DiskSize":20}],"Tags":[{"Key":"myKey","Value":"myValue"}],"LicenseType":"TencentCloud"}],"RequestId":"5908394c"}"#,
        )
        .unwrap();
        let r: DescribeImagesResponse = serde_json::from_value(v).unwrap();
        assert_eq!(r.total_count, 1);
        let img = &r.image_set[0];
        assert_eq!(img.image_creator.as_deref(), Some("3205597606"));
        assert_eq!(img.sync_percent, None);
        assert_eq!(
            img.snapshot_set.as_ref().unwrap()[0].disk_usage.as_deref(),
            Some("SYSTEM_DISK")
        );
    }
}
