//! Wire models of the UCloud UHost image actions (serde, PascalCase as on the wire).
//!
//! Responses of the documented actions follow ucloud.md §1.3 and §2 (field names as in the
//! UHost API reference and ucloud-sdk-python3 0.11.150 `UHostImageSetSchema`). The models
//! of the project-sharing actions ([`SharedProjectSet`], [`DescribeImageShareResponse`],
//! [`SaveSharedImageResponse`] and [`UHostImageSet::owner_project_id`]) are **imageshare's
//! own**: UCloud publishes no such action (see the [crate docs](crate)).
//!
//! Every field has a default, so a response that leaves a field out still decodes. The
//! emulator serialises the same types, so both sides agree on the shape. Integers are read
//! leniently (a JSON number or a decimal string), as UCloud sometimes quotes numbers.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

/// `ImageType` of DescribeImage: `Base` (standard), `Business` (marketplace / industry),
/// `Custom`; any other value verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ImageType {
    /// Standard (public) image.
    Base,
    /// Marketplace / industry image.
    Business,
    /// Custom image of the caller's project.
    Custom,
    /// A value this crate does not know, verbatim.
    Other(String),
}

impl ImageType {
    /// The wire value.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            ImageType::Base => "Base",
            ImageType::Business => "Business",
            ImageType::Custom => "Custom",
            ImageType::Other(s) => s,
        }
    }
}

impl From<&str> for ImageType {
    fn from(s: &str) -> Self {
        match s {
            "Base" => ImageType::Base,
            "Business" => ImageType::Business,
            "Custom" => ImageType::Custom,
            other => ImageType::Other(other.to_owned()),
        }
    }
}

impl std::fmt::Display for ImageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `State` of an image: `Available`, `Making`, `Unavailable`, `Copying`.
pub mod state {
    /// Usable.
    pub const AVAILABLE: &str = "Available";
    /// Being made (CreateCustomImage, ImportCustomImage).
    pub const MAKING: &str = "Making";
    /// Not usable.
    pub const UNAVAILABLE: &str = "Unavailable";
    /// Being copied (CopyCustomImage target).
    pub const COPYING: &str = "Copying";
}

/// `FuncType` value of Lightweight App UHost (ULHost) images (`app`: 轻量云主机专用的镜像).
pub const FUNC_TYPE_LIGHTWEIGHT: &str = "app";

/// One price of an image (`PriceSet=1` only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BasePriceSet {
    /// Charge type (`Month`, `Year`, `Dynamic`, ...).
    pub charge_type: String,
    /// Price in yuan.
    pub price: f64,
    /// List price before discount.
    pub original_price: f64,
}

/// One image of a DescribeImage answer (`UHostImageSet`, ucloud.md §2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UHostImageSet {
    /// Availability zone.
    pub zone: String,
    /// Image id (`uimage-...`).
    pub image_id: String,
    /// Name.
    pub image_name: String,
    /// Business group.
    pub tag: String,
    /// `Linux` / `Windows`.
    pub os_type: String,
    /// OS name.
    pub os_name: String,
    /// `Base`, `Business` or `Custom` (see [`ImageType`]).
    pub image_type: String,
    /// Feature flags (`CloudInit`, `NetEnhanced_Ultra`, ...).
    pub features: Vec<String>,
    /// `gpu` / `app` (ULHost) / `uhost`.
    pub func_type: String,
    /// Industry images only.
    pub integrated_software: String,
    /// Industry images only.
    pub vendor: String,
    /// Industry images only.
    pub links: String,
    /// `Available`, `Making`, `Unavailable`, `Copying` (see [`state`]).
    pub state: String,
    /// Description.
    pub image_description: String,
    /// Unix seconds (0: not reported).
    #[serde(deserialize_with = "lenient_unix_time")]
    pub create_time: u64,
    /// Size (GB, unit undocumented).
    #[serde(deserialize_with = "lenient_u64")]
    pub image_size: u64,
    /// Empty, or e.g. `Broadwell`.
    #[serde(rename = "MinimalCPU")]
    pub minimal_cpu: String,
    /// `YYYY/MM/DD`.
    pub maintain_eol: String,
    /// Associated data-disk snapshots (a non-empty list means the image is more than a
    /// system-disk image).
    pub data_snapshot_ids: Vec<String>,
    /// Supported GPU types.
    #[serde(rename = "SupportedGPUTypes")]
    pub supported_gpu_types: Vec<String>,
    /// Scene categories.
    pub scene_categories: Vec<String>,
    /// Main installed software.
    pub primary_software: String,
    /// Prices, only when asked for with `PriceSet=1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_set: Option<Vec<BasePriceSet>>,
    /// **imageshare extension**, only in the answers of the shared-image listing action:
    /// the project that shares the image with the caller. Not a UCloud field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_project_id: Option<String>,
}

impl UHostImageSet {
    /// The `ImageType`, parsed.
    #[must_use]
    pub fn kind(&self) -> ImageType {
        ImageType::from(self.image_type.as_str())
    }
    /// True for Lightweight App UHost (ULHost) images (`FuncType` = `app`).
    #[must_use]
    pub fn is_lightweight(&self) -> bool {
        self.func_type == FUNC_TYPE_LIGHTWEIGHT
    }
}

/// DescribeImage answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeImageResponse {
    /// Images matching the filter, in all pages.
    #[serde(deserialize_with = "lenient_u64")]
    pub total_count: u64,
    /// This page.
    pub image_set: Vec<UHostImageSet>,
}

/// One task of a batch CopyCustomImage (`TargetRegionList.N`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CopyImageTaskInfo {
    /// Copy task id.
    pub task_id: String,
    /// New image id.
    pub target_image_id: String,
    /// Target region.
    pub target_region: String,
}

/// CopyCustomImage answer: `TargetImageId` and `TaskId` for a single copy, `Infos` for a
/// batch copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CopyCustomImageResponse {
    /// New image id (single copy only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_image_id: Option<String>,
    /// Copy task id (single copy only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// One entry per target region (batch copy only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub infos: Vec<CopyImageTaskInfo>,
}

/// TerminateCustomImage answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TerminateCustomImageResponse {
    /// The deleted image.
    pub image_id: String,
}

/// **imageshare's own** answer of the share and cancel-share actions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ShareCustomImageResponse {
    /// The image.
    pub image_id: String,
}

/// **imageshare's own**: one project an image is shared with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SharedProjectSet {
    /// Project id (`org-...`).
    pub project_id: String,
    /// Unix seconds of the share (0: not reported).
    #[serde(deserialize_with = "lenient_unix_time")]
    pub create_time: u64,
}

/// **imageshare's own** answer of the list-sharees action (paged like DescribeImage).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeImageShareResponse {
    /// Projects in all pages.
    #[serde(deserialize_with = "lenient_u64")]
    pub total_count: u64,
    /// This page, oldest share first.
    pub project_set: Vec<SharedProjectSet>,
}

/// **imageshare's own** answer of the save-shared-image action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SaveSharedImageResponse {
    /// The new custom image of the caller's project.
    pub image_id: String,
}

/// Reads an unsigned integer from a JSON number, a decimal string or `null` (0).
pub fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        U(u64),
        I(i64),
        F(f64),
        S(String),
        Null(()),
    }
    match Num::deserialize(d)? {
        Num::U(u) => Ok(u),
        Num::I(i) => u64::try_from(i).map_err(|_| de::Error::custom("negative integer")),
        Num::F(f) if f >= 0.0 && f.fract() == 0.0 => Ok(f as u64),
        Num::F(f) => Err(de::Error::custom(format!("{f} is not a whole number"))),
        Num::S(s) if s.trim().is_empty() => Ok(0),
        Num::S(s) => s
            .trim()
            .parse()
            .map_err(|_| de::Error::custom(format!("{s:?} is not a whole number"))),
        Num::Null(()) => Ok(0),
    }
}

/// Reads a `CreateTime` (Unix seconds) as [`lenient_u64`] does, except that a value that is
/// not a whole non-negative number reads as 0 ("not reported", logged at debug) instead of
/// failing the whole answer: one odd timestamp never fails a listing.
pub fn lenient_unix_time<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(lenient_u64(&value).unwrap_or_else(|e| {
        tracing::debug!(field = "CreateTime", %value, error = %e, "not Unix seconds; dropped");
        0
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_integers_and_defaults() {
        let r: DescribeImageResponse = serde_json::from_value(
            json!({"TotalCount": "3", "ImageSet": [{"ImageId": "uimage-a",
                "CreateTime": 1700000000, "ImageSize": "20", "MinimalCPU": "Broadwell"}]}),
        )
        .unwrap();
        assert_eq!(r.total_count, 3);
        assert_eq!(r.image_set[0].image_size, 20);
        assert_eq!(r.image_set[0].minimal_cpu, "Broadwell");
        assert_eq!(r.image_set[0].state, "");
        let empty: DescribeImageResponse = serde_json::from_value(json!({})).unwrap();
        assert_eq!(empty, DescribeImageResponse::default());
        assert!(
            serde_json::from_value::<DescribeImageShareResponse>(json!({"TotalCount": -1}))
                .is_err()
        );
        // A timestamp that is not Unix seconds is "not reported", not a failed answer.
        for odd in [json!(-1), json!("yesterday"), json!(1.5), json!({})] {
            let s: SharedProjectSet =
                serde_json::from_value(json!({"ProjectId": "org-a", "CreateTime": odd})).unwrap();
            assert_eq!((s.project_id.as_str(), s.create_time), ("org-a", 0));
        }
        let s: SharedProjectSet =
            serde_json::from_value(json!({"CreateTime": "1700000000"})).unwrap();
        assert_eq!(s.create_time, 1_700_000_000);
    }

    #[test]
    fn serialises_documented_names() {
        let v = serde_json::to_value(UHostImageSet {
            image_id: "uimage-a".into(),
            ..Default::default()
        })
        .unwrap();
        for k in [
            "MinimalCPU",
            "SupportedGPUTypes",
            "DataSnapshotIds",
            "ImageSize",
        ] {
            assert!(v.get(k).is_some(), "{k} missing in {v}");
        }
        assert!(v.get("PriceSet").is_none() && v.get("OwnerProjectId").is_none());
    }
}
