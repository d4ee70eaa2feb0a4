//! Wire models of the ECS and SWAS-OPEN answers the adapters read (field names exact, from
//! the official SDK models; alibaba.md 1.2-1.5, 3.3-3.5). Only the fields imageshare uses
//! are declared; unknown fields are ignored. Numbers that the service or the SDK models
//! type inconsistently (ids, counts, sizes) are accepted as JSON numbers or strings.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// A JSON number or string, read as a string (`ImageOwnerId`, `UserId`, `AliyunId`).
fn de_string_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr {
        Num(serde_json::Number),
        Str(String),
        Null(()),
    }
    Ok(match NumOrStr::deserialize(d)? {
        NumOrStr::Num(n) => n.to_string(),
        NumOrStr::Str(s) => s,
        NumOrStr::Null(()) => String::new(),
    })
}

/// A JSON number or numeric string, read as `u64` (`PageNumber`, `TotalCount`, ...); an
/// empty string or null is 0.
fn de_u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let s = de_string_lenient(d)?;
    if s.is_empty() {
        return Ok(0);
    }
    s.parse::<u64>()
        .map_err(|_| serde::de::Error::custom(format!("expected a count, got {s:?}")))
}

/// A JSON bool or `"true"` / `"false"` string; null is false.
fn de_bool_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum BoolOrStr {
        Bool(bool),
        Str(String),
        Null(()),
    }
    Ok(match BoolOrStr::deserialize(d)? {
        BoolOrStr::Bool(b) => b,
        BoolOrStr::Str(s) => s.eq_ignore_ascii_case("true"),
        BoolOrStr::Null(()) => false,
    })
}

/// A success answer: its request id comes from the same parse as the rest of it, so an
/// answer is read from bytes once.
pub trait Answer: DeserializeOwned {
    /// The request id the answer carries (empty when it has none).
    fn request_id(&self) -> &str;
}

macro_rules! answers {
    ($($t:ty),* $(,)?) => {
        $(impl Answer for $t {
            fn request_id(&self) -> &str {
                &self.request_id
            }
        })*
    };
}

/// Any JSON answer, for actions without a model: its `RequestId` (or `requestId`).
impl Answer for serde_json::Value {
    fn request_id(&self) -> &str {
        ["RequestId", "requestId"]
            .iter()
            .find_map(|k| self.get(*k)?.as_str())
            .unwrap_or("")
    }
}

answers!(
    Empty,
    DescribeImagesResponse,
    DescribeImageSharePermissionResponse,
    CopyImageResponse,
    ListCustomImagesResponse,
    ListCustomImageShareAccountsResponse,
);

/// An answer with nothing but its request id (`ModifyImageSharePermission`,
/// `DeleteImage`, `AddCustomImageShareAccount`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Empty {
    /// The request id.
    #[serde(rename = "RequestId", alias = "requestId", default)]
    pub request_id: String,
}

/// ECS `DescribeImages` answer (alibaba.md 1.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeImagesResponse {
    /// The request id.
    #[serde(alias = "requestId")]
    pub request_id: String,
    /// Region of the images.
    pub region_id: String,
    /// Page number of this answer (1-based).
    #[serde(deserialize_with = "de_u64_lenient")]
    pub page_number: u64,
    /// Page size of this answer.
    #[serde(deserialize_with = "de_u64_lenient")]
    pub page_size: u64,
    /// Images matching the query, all pages together.
    #[serde(deserialize_with = "de_u64_lenient")]
    pub total_count: u64,
    /// `Images.Image[]`.
    pub images: EcsImages,
}

/// The `Images` wrapper object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct EcsImages {
    /// `Image[]`.
    #[serde(rename = "Image")]
    pub image: Vec<EcsImage>,
}

/// One entry of `Images.Image[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EcsImage {
    /// `m-...`.
    pub image_id: String,
    /// Display name.
    pub image_name: String,
    /// `system`, `self`, `others` or `marketplace`.
    pub image_owner_alias: String,
    /// Owner account id.
    #[serde(deserialize_with = "de_string_lenient")]
    pub image_owner_id: String,
    /// `Creating`, `Waiting`, `Available`, `UnAvailable`, `CreateFailed`, `Deprecated`.
    pub status: String,
    /// How far the image's creation (or copy) has come, e.g. `"45%"` (a string in the
    /// official SDK model `DescribeImagesResponseBodyImagesImage.Progress`; alibaba.md 1.3).
    pub progress: String,
    /// Marketplace product code; set for marketplace images and images derived from them.
    pub product_code: String,
    /// Community image.
    #[serde(deserialize_with = "de_bool_lenient")]
    pub is_public: bool,
    /// Created by CopyImage.
    #[serde(deserialize_with = "de_bool_lenient")]
    pub is_copied: bool,
    /// ISO 8601 UTC creation time.
    pub creation_time: String,
    /// Operating system type (`linux`, `windows`).
    #[serde(rename = "OSType")]
    pub os_type: String,
    /// `DiskDeviceMappings.DiskDeviceMapping[]`.
    pub disk_device_mappings: DiskDeviceMappings,
}

/// The `DiskDeviceMappings` wrapper object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DiskDeviceMappings {
    /// `DiskDeviceMapping[]`.
    #[serde(rename = "DiskDeviceMapping")]
    pub disk_device_mapping: Vec<DiskDeviceMapping>,
}

/// One disk of an image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DiskDeviceMapping {
    /// Device name (`/dev/xvda`).
    pub device: String,
    /// `system` or `data`.
    #[serde(rename = "Type")]
    pub disk_type: String,
    /// Size in GiB (a string in the SDK model).
    #[serde(deserialize_with = "de_string_lenient")]
    pub size: String,
    /// Snapshot of the disk.
    pub snapshot_id: String,
    /// Whether the snapshot is encrypted (the only encryption signal DescribeImages gives).
    #[serde(deserialize_with = "de_bool_lenient")]
    pub encrypted: bool,
}

/// ECS `DescribeImageSharePermission` answer (alibaba.md 1.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeImageSharePermissionResponse {
    /// The request id.
    #[serde(alias = "requestId")]
    pub request_id: String,
    /// Region.
    pub region_id: String,
    /// Image.
    pub image_id: String,
    /// Page number of this answer.
    #[serde(deserialize_with = "de_u64_lenient")]
    pub page_number: u64,
    /// Page size of this answer.
    #[serde(deserialize_with = "de_u64_lenient")]
    pub page_size: u64,
    /// Accounts the image is shared with, all pages together.
    #[serde(deserialize_with = "de_u64_lenient")]
    pub total_count: u64,
    /// `Accounts.Account[]`.
    pub accounts: ShareAccounts,
    /// `ShareGroups.ShareGroup[]`.
    pub share_groups: ShareGroups,
}

/// The `Accounts` wrapper object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ShareAccounts {
    /// `Account[]`.
    #[serde(rename = "Account")]
    pub account: Vec<ShareAccount>,
}

/// One account an ECS image is shared with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ShareAccount {
    /// The account id.
    #[serde(deserialize_with = "de_string_lenient")]
    pub aliyun_id: String,
    /// When it was shared, ISO 8601 UTC (the field is `SharedTime`, not `CreateTime`).
    pub shared_time: String,
}

/// The `ShareGroups` wrapper object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ShareGroups {
    /// `ShareGroup[]`.
    #[serde(rename = "ShareGroup")]
    pub share_group: Vec<ShareGroup>,
}

/// A share group (`all` for a community image).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ShareGroup {
    /// The group.
    pub group: String,
}

/// ECS `CopyImage` answer (alibaba.md 1.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CopyImageResponse {
    /// The request id.
    #[serde(alias = "requestId")]
    pub request_id: String,
    /// The id of the copy.
    pub image_id: String,
}

/// SWAS `ListCustomImages` answer (alibaba.md 3.5). Counts are strings in the SDK model
/// and numbers in the docs' examples; both are accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListCustomImagesResponse {
    /// The request id.
    #[serde(alias = "requestId")]
    pub request_id: String,
    /// Page number of this answer.
    #[serde(deserialize_with = "de_u64_lenient")]
    pub page_number: u64,
    /// Page size of this answer.
    #[serde(deserialize_with = "de_u64_lenient")]
    pub page_size: u64,
    /// Images matching the query, all pages together.
    #[serde(deserialize_with = "de_u64_lenient")]
    pub total_count: u64,
    /// `CustomImages[]` (a plain array, no wrapper object).
    pub custom_images: Vec<SasCustomImage>,
}

/// One entry of `CustomImages[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SasCustomImage {
    /// `m-...`.
    pub image_id: String,
    /// Display name.
    pub name: String,
    /// Status code: `0` copying, `1` available, `2` unavailable, `3` creation failed,
    /// `4` creating.
    #[serde(deserialize_with = "de_string_lenient")]
    pub status: String,
    /// ISO 8601 UTC creation time.
    pub creation_time: String,
    /// Region.
    pub region_id: String,
    /// Owner account id.
    #[serde(deserialize_with = "de_string_lenient")]
    pub user_id: String,
    /// Shared to ECS (ModifyImageShareStatus).
    #[serde(deserialize_with = "de_bool_lenient")]
    pub in_share: bool,
    /// Shared with other accounts.
    #[serde(deserialize_with = "de_bool_lenient")]
    pub in_share_user: bool,
    /// Operating system type.
    pub os_type: String,
}

/// SWAS `ListCustomImageShareAccounts` answer (alibaba.md 3.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListCustomImageShareAccountsResponse {
    /// The request id.
    #[serde(alias = "requestId")]
    pub request_id: String,
    /// Page number of this answer.
    #[serde(deserialize_with = "de_u64_lenient")]
    pub page_number: u64,
    /// Page size of this answer.
    #[serde(deserialize_with = "de_u64_lenient")]
    pub page_size: u64,
    /// Accounts the image is shared with, all pages together.
    #[serde(deserialize_with = "de_u64_lenient")]
    pub total_count: u64,
    /// `ImageShareUsers[]` (a plain array).
    pub image_share_users: Vec<ImageShareUser>,
}

/// One account a SAS image is shared with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageShareUser {
    /// The account id (a JSON number).
    #[serde(deserialize_with = "de_string_lenient")]
    pub user_id: String,
    /// When it was shared.
    pub shared_time: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_numbers_strings_and_bools() {
        let r: ListCustomImagesResponse = serde_json::from_str(
            r#"{"RequestId":"r","PageNumber":"1","PageSize":10,"TotalCount":"3",
                "CustomImages":[{"ImageId":"m-1","Status":1,"UserId":1234567890123456,
                "InShare":"true","InShareUser":false,"Unknown":{"x":1}}]}"#,
        )
        .unwrap();
        assert_eq!((r.page_number, r.page_size, r.total_count), (1, 10, 3));
        let img = &r.custom_images[0];
        assert_eq!(img.status, "1");
        assert_eq!(img.user_id, "1234567890123456");
        assert!(img.in_share && !img.in_share_user);

        let r: DescribeImagesResponse =
            serde_json::from_str(r#"{"RequestId":"r","TotalCount":null}"#).unwrap();
        assert_eq!(r.total_count, 0);
        assert!(r.images.image.is_empty());
        assert!(serde_json::from_str::<DescribeImagesResponse>(r#"{"TotalCount":"x"}"#).is_err());
    }
}
