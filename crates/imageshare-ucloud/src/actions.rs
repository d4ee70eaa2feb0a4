//! The API actions the UCloud adapter sends, as typed names: the keys of its client-side
//! rate limits (`ClientBuilder::rate_limit`), so a misspelt action does not compile.
//!
//! ```
//! use imageshare_core::{ClientBuilder, Rate};
//! use imageshare_ucloud::{UCloudImageSharing, UHostAction};
//!
//! let builder = UCloudImageSharing::builder()
//!     .region("cn-bj2")
//!     .rate_limit(UHostAction::DescribeImage, Rate::per_second(20.0));
//! # let _ = builder;
//! assert!("DescribeImages".parse::<UHostAction>().is_err());
//! ```
//!
//! The five sharing actions are named as the adapter sends them by default
//! ([`SharingActions`](crate::SharingActions): they are **not** in UCloud's published API,
//! see the crate docs). A rate is keyed by the name on the wire: an action renamed with the
//! builder's `actions` falls under the default rate
//! ([`UHOST_DEFAULT_RATE`](crate::limits::UHOST_DEFAULT_RATE)), or under a table given with
//! `rate_limits` (`RateLimits::with("TheNewName", rate)`).
//!
//! The other names are those of the official Go SDK (`ucloud/ucloud-sdk-go`:
//! `services/uhost/apis.go` `DescribeImage`, `CopyCustomImage`, `TerminateCustomImage`;
//! `services/uaccount/apis.go` `GetUserInfo`; `services/sts/apis.go` `AssumeRole`).

imageshare_core::provider_actions! {
    /// An action of the UCloud adapter ([`crate::UHOST`]): every action it sends, the sharing
    /// ones under their default names.
    pub enum UHostAction for crate::UHOST {
        /// Lists and looks up images (`image`, `images`).
        DescribeImage,
        /// Copies a custom image into another project or region (`copy`, `copy_to_project`).
        CopyCustomImage,
        /// Deletes a custom image (`delete`).
        TerminateCustomImage,
        /// Shares a custom image with projects (`share`; default name, unpublished).
        ShareCustomImage,
        /// Cancels the share of a custom image (`unshare`; default name, unpublished).
        CancelShareCustomImage,
        /// Lists the projects an image is shared with (`sharees`; default name, unpublished).
        DescribeCustomImageShare,
        /// Lists the images shared with the project (`shared_with_me`; default name, unpublished).
        DescribeSharedImage,
        /// Saves a shared image into the project (default name, unpublished).
        SaveSharedImage,
        /// UAccount: who the keys act as (`whoami`).
        GetUserInfo,
        /// STS: credentials of a role (`assume_role`).
        AssumeRole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SharingActions;
    use imageshare_core::ProviderAction;

    #[test]
    fn the_default_sharing_names_are_known_actions() {
        let d = SharingActions::default();
        for name in [
            &d.share,
            &d.cancel_share,
            &d.describe_share,
            &d.describe_shared,
            &d.save_shared,
        ] {
            assert_eq!(UHostAction::from_name(name).unwrap().name(), name.as_str());
        }
        for name in [
            crate::whoami::GET_USER_INFO,
            crate::credential::sts::ASSUME_ROLE,
        ] {
            assert!(UHostAction::from_name(name).is_ok(), "{name}");
        }
    }
}
