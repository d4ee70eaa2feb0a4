//! The documented sharing limits of ECS and Simple Application Server, as data for the
//! core limit checker (`imageshare_core::Checked`). Section numbers refer to
//! `protocols/alibaba.md`; `[Sx]` are its source tags.

use imageshare_core::limits::{EncryptedPolicy, OrgTargetLimits, PrincipalForm};
use imageshare_core::ratelimit::{Rate, RateLimits};
use imageshare_core::{CopyLimits, ImageKind, PrincipalKind, ShareLimits};

use crate::{ECS, SAS};

/// Account ids are numeric main-account UIDs. Real UIDs have 16 digits, the API docs use
/// 10-digit examples (`1234567890`), and no document states a length, so the checker only
/// refuses what can never be an account id (empty, non-digits, RAM-user forms, absurd
/// lengths) and leaves "no such account" to the server (`InvalidAccount.NotFound`). RAM
/// users and sub-accounts (`alice@<uid>.onaliyun.com`, `acs:ram::<uid>:user/alice`) are
/// refused with a message saying so: sharing goes to main accounts only (1.1, 3.8).
const ACCOUNT_ID: PrincipalForm = PrincipalForm::NumericAccountId {
    min_len: 5,
    max_len: 20,
    sub_user_markers: &["@", "acs:ram:", ".onaliyun.com"],
    sub_user_name: "a RAM user or sub-account",
};

/// The prefix of ECS and SAS custom image ids (`m-bp18ygjuqnwhechc`).
const IMAGE_ID_PREFIX: &str = "m-";

/// The region named in errors about region ids.
const EXAMPLE_REGION: &str = "cn-hangzhou";

/// ECS (API 2014-05-26) custom-image sharing limits.
pub const ECS_LIMITS: ShareLimits = ShareLimits::new(
    ECS,
    IMAGE_ID_PREFIX,
    EXAMPLE_REGION,
    PrincipalKind::Account,
    // AddAccount.N takes Alibaba Cloud account ids (1.1).
    ACCOUNT_ID,
)
// "max 50 accounts per image" (1.1 [S5, S6]); server code QuotaExceed.ShareImageUser.
.with_max_sharees_per_image(Some(50))
// AddAccount.N / RemoveAccount.N: N = 1..10; beyond 10 the service silently ignores
// the rest (1.1), so the checker must batch by 10.
.with_max_principals_per_call(10)
// Custom images cannot be shared across regions; copy first (user guide, 1.1).
.with_same_region_only(true)
// "You can share only custom images created in your own account" (1.1).
.with_reshare_received(false)
// Custom images created from Marketplace images cannot be shared (ECS user guide).
.with_share_marketplace_derived(false)
// Service-key-encrypted images are refused
// (InvalidOperation.ServiceKeyEncryptedImageUnsupported); CMK-encrypted images need the
// RAM role, else AssumeRoleError (1.1, 2.2). The route from a service-key image to a
// shareable one is a copy encrypted with a CMK: CopyImage with Encrypted=true and
// KMSKeyId (ECS CopyImage API doc; ECS user guide "Share an encrypted image").
// DescribeImages does not say which key encrypts an image (its DiskDeviceMapping has
// only `Encrypted`: alibabacloud-go ecs-20140526 DescribeImagesResponseBody), so the
// checker's message for an encrypted ECS image covers both keys.
.with_encrypted(EncryptedPolicy::CustomerKeyWithAcknowledgement {
    prerequisite: "the image encrypted with a KMS customer-managed key (CMK), not the \
                       service key (a service-key image must first be copied with CopyImage \
                       Encrypted=true and KMSKeyId=<your CMK>; imageshare: \
                       EcsBuilder::kms_key_id, then copy), and the RAM role \
                       AliyunECSShareEncryptImageDefaultRole authorized in the owner account",
})
// The ECS product doc allows sharing between China, international and Japan site
// accounts; where the server refuses it answers InvalidImageId.BidMismatch (2.2).
.with_cross_site(true)
// ECS custom images are system-disk or whole-machine images.
.with_shareable_kinds(&[ImageKind::SystemDisk, ImageKind::WholeMachine])
// IncorrectImageStatus / OperationDenied.InvalidImageStatus (2.2).
.with_require_available(true)
// Decision: true. The ECS user guide on sharing says "You must unshare an image before
// you can delete it", and the shared-image FAQ [S15] says "you must unshare the custom
// image from any other users before deleting it" (1.5). DeleteImage's own `Force` flag
// is about instances using the image, not about sharees.
.with_delete_requires_unshare(true)
.with_source(
    "ECS ModifyImageSharePermission API doc and legacy doc, ECS user guide \
     \"Share or unshare custom images\", shared-image FAQ (alibaba.md 1.1, 1.5, 2.2)",
);

/// ECS images shared with a resource directory, its folders and members through
/// Resource Sharing (API 2020-01-10; see [`crate::resource_sharing`]).
pub const ECS_ORG_TARGETS: OrgTargetLimits = OrgTargetLimits::new(
    "Alibaba Resource Sharing",
    // Resource directory ids `rd-...`, folder ids `fd-...` (API reference examples and
    // "View the ID of a resource directory / folder").
    "rd-",
    "fd-",
    // A member is an Alibaba Cloud account, given by its account id.
    ACCOUNT_ID,
)
// `Targets.N`: "The value of N can be from 1 to 5. This means that you can add up to
// 5 principals at a time" (API reference AssociateResourceShare / CreateResourceShare,
// alibabacloud.com/help/en/resource-management/resource-sharing/developer-reference/
// api-resourcesharing-2020-01-10-associateresourceshare); ROS
// ALIYUN::ResourceManager::ResourceShareAssociation says the same (field-2026-12.md 4).
.with_max_targets_per_call(5)
// `Resources.N`: "Valid values of N: 1 to 5" (official Python SDK
// alibabacloud-resourcesharing20200110 models/_associate_resource_share_request.py).
.with_max_resources_per_call(5)
.with_source(
    "Resource Sharing API reference AssociateResourceShare / CreateResourceShare, \
     official Python SDK alibabacloud-resourcesharing20200110 request models, ROS \
     ALIYUN::ResourceManager::ResourceShareAssociation (field-2026-12.md 4)",
);

/// ECS `CopyImage` (API 2014-05-26), the cross-region copy of a custom image.
/// Simple Application Server has none: its API (SWAS-OPEN 2020-06-01) has no copy action,
/// so [`SAS_LIMITS`]' adapter returns no copy table.
pub const ECS_COPY: CopyLimits = CopyLimits {
    action: "CopyImage",
    // `DestinationRegionId` is one string: one destination region per call (ECS API
    // reference CopyImage, https://www.alibabacloud.com/help/en/ecs/developer-reference/
    // api-ecs-2014-05-26-copyimage; alibaba.md 1.4).
    max_regions_per_call: 1,
    // `DestinationImageName`: "The name must be 2 to 128 characters in length. The name
    // must start with a letter" (same API reference; alibaba.md 1.4).
    max_name_chars: 128,
    // No border documented: "All the regions of Alibaba Cloud support image copying"
    // (ECS FAQ, https://www.alibabacloud.com/help/faq-detail/40569.htm), and neither the
    // CopyImage reference nor the user guide "Copy custom images" names a restriction
    // between the Chinese mainland and other regions. UNCONFIRMED that none exists; the
    // server stays the referee.
    border: None,
    // A region copies one image at a time and queues the rest (`Waiting`; CopyImage doc),
    // but the source stays usable: copies are not held back.
    source_busy_while_copying: false,
    source: "ECS API reference CopyImage (DestinationRegionId, DestinationImageName 2-128 \
             characters), ECS FAQ \"Copy custom images\" (all regions support copying; no \
             border documented, UNCONFIRMED) (alibaba.md 1.4)",
};

/// Simple Application Server (SWAS-OPEN, API 2020-06-01) custom-image sharing limits.
pub const SAS_LIMITS: ShareLimits = ShareLimits::new(
    SAS,
    IMAGE_ID_PREFIX,
    EXAMPLE_REGION,
    PrincipalKind::Account,
    // "Cannot share with RAM users (only main account IDs)"; Account.N is a long (3.1, 3.8).
    ACCOUNT_ID,
)
// "A custom image can be shared with at most 10 Alibaba Cloud accounts" (3.8).
.with_max_sharees_per_image(Some(10))
// The per-call maximum is UNCONFIRMED (3.1); no call can usefully carry more than the
// per-image cap, so batch by 10.
.with_max_principals_per_call(10)
// "Cross-account sharing only within the same region" (3.8).
.with_same_region_only(true)
// "Recipients cannot ... re-share it" (3.8).
.with_reshare_received(false)
// SAS documents no marketplace rule and ListCustomImages reports no product code, so
// the checker does not restrict it; the server is the referee.
.with_share_marketplace_derived(true)
// SAS documents no encrypted-image rule and its API reports no encryption.
.with_encrypted(EncryptedPolicy::Allowed)
// "No sharing between China site and international site accounts" (3.8).
.with_cross_site(false)
// SAS images are lightweight-host images.
.with_shareable_kinds(&[ImageKind::LightweightHost])
// Not documented for SAS; the server is the referee.
.with_require_available(false)
// "Source must unshare before deleting"; DeleteCustomImage answers CustomImageInShare
// (3.7, 3.8).
.with_delete_requires_unshare(true)
.with_source(
    "SAS user guide \"Share custom images across accounts\", SWAS-OPEN \
     AddCustomImageShareAccount and DeleteCustomImage API docs, SWAS error codes \
     (alibaba.md 3.1, 3.7, 3.8)",
);

/// Client-side request rate of every ECS action: **imageshare's choice, not a published
/// quota**. Alibaba publishes no per-API QPS for `ModifyImageSharePermission`,
/// `DescribeImageSharePermission`, `DescribeImages`, `CopyImage` or `DeleteImage`
/// (alibaba.md 7: "not found — UNCONFIRMED"); 10/s is the quota Tencent publishes for the
/// same image-sharing actions on CVM, and is low enough that a bulk job is not throttled
/// by an account-level flow control set for interactive use. The server's `Throttling*`
/// answers are retried anyway. Change it with the builders' `rate_limit` / `rate_limits`.
pub const ECS_DEFAULT_RATE: Rate = Rate::per_second(10.0);

/// The SWAS-OPEN quotas Alibaba publishes: `ListRegions` 10 calls per minute per user
/// (alibaba.md 7 \[S19b\]). None is published for the image actions the adapter calls.
pub const SAS_RATE_TABLE: &[(&str, Rate)] = &[("ListRegions", Rate::per_minute(10.0))];

/// Client-side request rate of the SAS actions [`SAS_RATE_TABLE`] does not list:
/// **imageshare's choice** (unpublished, alibaba.md 7), 10/s as for ECS. Issue #8 mentions
/// "10 per minute" for share-to-ECS (`ModifyImageShareStatus`); the protocol notes found no
/// source for it, so it is not the default. Where it applies, set it with
/// `.rate_limit(SasAction::ModifyImageShareStatus, Rate::per_minute(10.0))`
/// ([`SasAction`](crate::SasAction)).
pub const SAS_DEFAULT_RATE: Rate = Rate::per_second(10.0);

/// The default client-side rate limits of the ECS adapter (every action at
/// [`ECS_DEFAULT_RATE`]).
#[must_use]
pub fn ecs_rate_limits() -> RateLimits {
    RateLimits::from_table(&[], Some(ECS_DEFAULT_RATE))
}

/// The default client-side rate limits of the SAS adapter ([`SAS_RATE_TABLE`], other
/// actions at [`SAS_DEFAULT_RATE`]).
#[must_use]
pub fn sas_rate_limits() -> RateLimits {
    RateLimits::from_table(SAS_RATE_TABLE, Some(SAS_DEFAULT_RATE))
}

// The tables are exercised through the core checker in tests/limits.rs.
