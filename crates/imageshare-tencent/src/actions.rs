//! The API actions the Tencent Cloud adapters send, as typed names: the keys of their
//! client-side rate limits (`ClientBuilder::rate_limit`), so a misspelt action does not
//! compile.
//!
//! ```
//! use imageshare_core::{ClientBuilder, Rate};
//! use imageshare_tencent::{CvmAction, TencentCvmImageSharing};
//!
//! let builder = TencentCvmImageSharing::builder()
//!     .region("ap-guangzhou")
//!     .rate_limit(CvmAction::ModifyImageSharePermission, Rate::per_second(5.0));
//! # let _ = builder;
//! // A name read at run time is checked against the known ones.
//! let action: CvmAction = "DescribeImages".parse().unwrap();
//! assert_eq!(action, CvmAction::DescribeImages);
//! let err = "ModifyImageSharePermision".parse::<CvmAction>().unwrap_err();
//! assert!(err.to_string().contains("give one of ModifyImageSharePermission"));
//! ```
//!
//! The names are those of the official SDKs (`tencentcloud-sdk-go`,
//! `tencentcloud/cvm/v20170312/client.go`, `tencentcloud/cbs/v20170312/client.go`,
//! `tencentcloud/lighthouse/v20200324/client.go`: `WithApiInfo(service, version, action)`);
//! the rates published for them are in [`limits`](crate::limits).

imageshare_core::provider_actions! {
    /// An action of the CVM adapter ([`crate::CVM`]): every action it sends, and those of
    /// [`CVM_RATE_TABLE`](crate::limits::CVM_RATE_TABLE).
    pub enum CvmAction for crate::CVM {
        /// Shares or unshares a custom image with accounts (`share`, `unshare`).
        ModifyImageSharePermission,
        /// Lists the accounts an image is shared with (`sharees`).
        DescribeImageSharePermission,
        /// Lists and looks up images (`image`, `images`, `shared_with_me`).
        DescribeImages,
        /// Copies an image to other regions (`copy`).
        SyncImages,
        /// Deletes custom images (`delete`).
        DeleteImages,
        /// CBS, not CVM: the snapshots of an image, for its encryption (the adapter's encryption lookup; rated under CVM).
        DescribeSnapshots,
    }
}

imageshare_core::provider_actions! {
    /// An action of the Lighthouse adapter ([`crate::LIGHTHOUSE`]): every action it sends, and
    /// those of [`LIGHTHOUSE_RATE_TABLE`](crate::limits::LIGHTHOUSE_RATE_TABLE).
    pub enum LighthouseAction for crate::LIGHTHOUSE {
        /// Shares a custom blueprint with accounts (`share`).
        ShareBlueprintAcrossAccounts,
        /// Cancels the share of a blueprint with accounts (`unshare`).
        CancelShareBlueprintAcrossAccounts,
        /// Lists the accounts a blueprint is shared with (`sharees`).
        DescribeBlueprintsShareAcrossAccountInfos,
        /// Shares a CVM image with Lighthouse (`share_from_cvm`).
        ModifyImageSharePermission,
        /// Lists the CVM images that can be shared with Lighthouse.
        DescribeImagesToShare,
        /// Copies a blueprint to other regions (`copy`).
        SyncBlueprint,
        /// Creates a blueprint (in the published rate table; not sent by the adapter).
        CreateBlueprint,
        /// Deletes blueprints (`delete`).
        DeleteBlueprints,
        /// Lists and looks up blueprints (`image`, `images`, `shared_with_me`).
        DescribeBlueprints,
        /// The blueprints of instances (in the published rate table; not sent by the adapter).
        DescribeBlueprintInstances,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{CVM_RATE_TABLE, LIGHTHOUSE_RATE_TABLE};
    use imageshare_core::ProviderAction;

    #[test]
    fn every_rated_action_is_a_known_action() {
        for (name, _) in CVM_RATE_TABLE {
            assert_eq!(CvmAction::from_name(name).unwrap().name(), *name);
        }
        for (name, _) in LIGHTHOUSE_RATE_TABLE {
            assert_eq!(LighthouseAction::from_name(name).unwrap().name(), *name);
        }
        assert_eq!(CvmAction::ALL.len(), 6);
        assert_eq!(LighthouseAction::ALL.len(), 10);
        let e = "DescribeImage".parse::<CvmAction>().unwrap_err();
        assert_eq!(e.provider(), crate::CVM);
        assert!(e.known().contains(&"DescribeImages"));
    }
}
