//! The API actions the Alibaba Cloud adapters send, as typed names: the keys of their
//! client-side rate limits (`ClientBuilder::rate_limit`), so a misspelt action does not
//! compile.
//!
//! ```
//! use imageshare_alibaba::{SasAction, SasImageSharing};
//! use imageshare_core::{ClientBuilder, Rate};
//!
//! // alibaba.md 7: "10 per minute" for share-to-ECS is unsourced, so not the default;
//! // where it applies, say so.
//! let builder = SasImageSharing::builder()
//!     .region("cn-hangzhou")
//!     .rate_limit(SasAction::ModifyImageShareStatus, Rate::per_minute(10.0));
//! # let _ = builder;
//! let err = "ModifyImageShareStatuss".parse::<SasAction>().unwrap_err();
//! assert!(err.to_string().contains("alibaba-sas has no action"));
//! ```
//!
//! The names are those of the official SDKs (`aliyun/alibabacloud-python-sdk`:
//! `ecs-20140526/.../client.py`, `swas-open-20200601/.../client.py`,
//! `resourcesharing-20200110/.../client.py`, `sts-20150401/.../client.py`, each action's
//! `action=` of its `OpenApiRequest` params). STS calls go through the adapter's transport,
//! so they are rated under the adapter's provider too.

imageshare_core::provider_actions! {
    /// An action of the ECS adapter ([`crate::ECS`]): every action it sends (ECS, Resource
    /// Sharing for organisation principals, STS).
    pub enum EcsAction for crate::ECS {
        /// Lists and looks up images (`image`, `images`, `shared_with_me`).
        DescribeImages,
        /// Shares or unshares an image with accounts (`share`, `unshare`), or publishes it (`publish`).
        ModifyImageSharePermission,
        /// Lists the accounts an image is shared with (`sharees`).
        DescribeImageSharePermission,
        /// Copies an image to another region (`copy`).
        CopyImage,
        /// Deletes a custom image (`delete`).
        DeleteImage,
        /// Resource Sharing: finds the resource share of an image (organisation principals).
        ListResourceShares,
        /// Resource Sharing: creates the resource share of an image.
        CreateResourceShare,
        /// Resource Sharing: adds targets to a resource share.
        AssociateResourceShare,
        /// Resource Sharing: removes targets from a resource share.
        DisassociateResourceShare,
        /// Resource Sharing: lists the targets of a resource share.
        ListResourceShareAssociations,
        /// Resource Sharing: accepts an invitation (recipient side).
        AcceptResourceShareInvitation,
        /// STS: who the credentials act as (`whoami`).
        GetCallerIdentity,
        /// STS: credentials of a role (`assume_role`, a profile in `RamRoleArn` mode).
        AssumeRole,
        /// STS: credentials of a role for an OIDC token (RRSA).
        AssumeRoleWithOIDC,
    }
}

imageshare_core::provider_actions! {
    /// An action of the Simple Application Server adapter ([`crate::SAS`]): every action it
    /// sends (SWAS-OPEN, STS), and those of [`SAS_RATE_TABLE`](crate::limits::SAS_RATE_TABLE).
    pub enum SasAction for crate::SAS {
        /// Lists and looks up custom images (`image`, `images`, `shared_with_me`).
        ListCustomImages,
        /// Shares a custom image with accounts (`share`).
        AddCustomImageShareAccount,
        /// Unshares a custom image from accounts (`unshare`).
        RemoveCustomImageShareAccount,
        /// Lists the accounts a custom image is shared with (`sharees`).
        ListCustomImageShareAccounts,
        /// Shares a custom image with ECS in the same account (`share_to_ecs`).
        ModifyImageShareStatus,
        /// Deletes a custom image (`delete`).
        DeleteCustomImage,
        /// Lists the regions (in the published rate table: 10 per minute).
        ListRegions,
        /// STS: who the credentials act as (`whoami`).
        GetCallerIdentity,
        /// STS: credentials of a role (`assume_role`, a profile in `RamRoleArn` mode).
        AssumeRole,
        /// STS: credentials of a role for an OIDC token (RRSA).
        AssumeRoleWithOIDC,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::SAS_RATE_TABLE;
    use imageshare_core::ProviderAction;

    #[test]
    fn every_rated_action_is_a_known_action() {
        for (name, _) in SAS_RATE_TABLE {
            assert_eq!(SasAction::from_name(name).unwrap().name(), *name);
        }
        assert_eq!(EcsAction::ALL.len(), 14);
        assert_eq!(SasAction::ALL.len(), 10);
        // Same name, another provider: a different action.
        assert_ne!(
            imageshare_core::Action::from(EcsAction::GetCallerIdentity),
            imageshare_core::Action::from(SasAction::GetCallerIdentity)
        );
    }
}
