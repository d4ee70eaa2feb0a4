//! The documented sharing limits of UCloud UHost custom images, as data for the one limit
//! checker in `imageshare-core`.

use imageshare_core::limits::{EncryptedPolicy, PrincipalForm};
use imageshare_core::ratelimit::{Rate, RateLimits};
use imageshare_core::{CopyLimits, ImageKind, PrincipalKind, ShareLimits};

use crate::UHOST;

/// UCloud UHost project sharing ("共享镜像", console only; ucloud.md §1.1).
///
/// From the product guide (UCloudDoc-Team/uhost `guide/image/sharingimage.md`, the same text
/// on UCloud Global `/en/docs/uhost/guide/image/shared_mirror`):
///
/// * shares go to **projects** (`org-...`), across projects and across accounts;
/// * **50 projects** per image at the same time (for more: copy the image, share the copy);
/// * **same region only** (copy the image to the target region first);
/// * **system-disk images only** (associated data-disk snapshots are not shared) and no
///   Lightweight App UHost (ULHost) images: kinds `[SystemDisk]`;
/// * only the sharer shares and cancels; a recipient may "Save Image" into its own custom
///   images but cannot share the received image onward: `reshare_received: false`.
///
/// Decisions where the guide is silent or the value is ours:
///
/// * `max_principals_per_call: 1` — **imageshare's choice**: UCloud publishes no share
///   action, so there is no per-call limit to copy. Every documented UCloud surface for
///   this takes one project at a time (the console asks for "the target project ID";
///   `CopyCustomImage` takes one `TargetProjectId`), so the adapter's overridable share
///   action carries one project per call. That also makes each project's outcome exact
///   (no undocumented partial-batch semantics). 50 projects cost at most 50 calls. A
///   deployment whose action accepts more can raise it with
///   [`ShareLimits::with_max_principals_per_call`].
/// * `delete_requires_unshare: false` — **documented**: "原自制镜像删除后，被共享方共享镜像将自动
///   不可见" (after the source custom image is deleted, the shared image becomes invisible
///   to the recipients). Deleting a shared image is therefore allowed, not refused, and the
///   checker must not demand an unshare first. It must not either because listing sharees
///   needs the unpublished action, which would make `delete` fail on the public cloud.
///   Callers who want recipients to keep working should unshare (or let them save a copy)
///   before deleting.
/// * `encrypted: Allowed` — **UNCONFIRMED**: neither the guide nor the API mentions image
///   encryption (`UHostImageSet` has no encryption field), so there is no documented rule
///   to enforce client-side; the server stays the judge.
/// * `share_marketplace_derived: true` — **UNCONFIRMED**: the guide names no rule for
///   custom images made from marketplace (`Business`) images.
/// * `require_available: true` — the guide shares a finished custom image; an image that
///   is `Making` or `Copying` is not one yet (imageshare's conservative reading).
/// * `cross_site: true` — the China/international site rule is an Alibaba SAS rule; the
///   guide shares across accounts with no site condition. (UCloud China and UCloud Global
///   are separate platforms whose project ids do not meet, which the server judges.)
pub const UHOST_LIMITS: ShareLimits = ShareLimits::new(
    UHOST,
    "uimage-",
    "cn-bj2",
    PrincipalKind::Project,
    PrincipalForm::PrefixedId { prefix: "org-" },
)
.with_max_sharees_per_image(Some(50))
.with_max_principals_per_call(1)
.with_same_region_only(true)
.with_reshare_received(false)
.with_share_marketplace_derived(true)
.with_encrypted(EncryptedPolicy::Allowed)
.with_cross_site(true)
.with_shareable_kinds(&[ImageKind::SystemDisk])
.with_require_available(true)
.with_delete_requires_unshare(false)
.with_source(
    "UCloud UHost guide 共享镜像 (docs.ucloud.cn/uhost/guide/image/sharingimage; \
     UCloud Global /en/docs/uhost/guide/image/shared_mirror): 50 projects per image, \
     same region, system-disk images only, no ULHost images, only the sharer shares \
     and cancels, deleting the source hides it from recipients. Sharing is console-only \
     (no public API action): the per-call maximum of 1 is imageshare's choice.",
);

/// Client-side request rate of every UCloud action: **imageshare's choice, not a published
/// quota**. UCloud publishes no numeric rate limit for its OpenAPI or the UHost image
/// actions; the only signal is RetCode 153 "API request throttled" (ucloud.md §6). 10/s is
/// the quota Tencent publishes for its image-sharing actions, a conservative pace for an
/// account-level limit; it applies to every action, so renamed sharing actions are covered
/// too. Change it with the builder's `rate_limit` / `rate_limits`.
pub const UHOST_DEFAULT_RATE: Rate = Rate::per_second(10.0);

/// The default client-side rate limits of the UCloud adapter (every action at
/// [`UHOST_DEFAULT_RATE`]).
#[must_use]
pub fn uhost_rate_limits() -> RateLimits {
    RateLimits::from_table(&[], Some(UHOST_DEFAULT_RATE))
}

/// Image ids per batched `DescribeImage` lookup (`ImageIds.N`). `ImageIds` ("镜像Id列表") is
/// in `DescribeImageRequest` of the official Go SDK since 0.22.36 (ucloud/ucloud-sdk-go
/// `services/uhost/apis.go`, commit 335598e, May 2025), with **no published maximum**
/// (UNCONFIRMED), and an answer holds at most `Limit` images, whose maximum is not
/// published either ([`crate::sharing::DEFAULT_PAGE_SIZE`]). 100 is **imageshare's
/// choice**, the page size imageshare already lists `DescribeImage` with; the lookup sends
/// `Limit` equal to the batch, and an id the answer leaves out is looked up on its own
/// ([`crate::lookup`]), so a lower server cap costs calls, never a wrong `NotFound`.
pub const DESCRIBE_IMAGE_MAX_IDS: usize = 100;

/// UHost `CopyCustomImage` with `TargetRegion`, the cross-region copy of a custom image
/// (into the adapter's own project; ucloud.md 1.3).
pub const UHOST_COPY: CopyLimits = CopyLimits {
    action: "CopyCustomImage",
    // `TargetRegion` is one region ("目标地域，不跨地域不用填", UCloud API reference
    // CopyCustomImage, UCloudDoc-Team/api `uhost-api/copy_custom_image.md`), which the
    // adapter sends; the batch form `TargetRegionList.N` (ucloud-sdk-go
    // `services/uhost/apis.go` `CopyCustomImageRequest`) publishes no maximum.
    max_regions_per_call: 1,
    // `TargetImageName`: "目标镜像名称", no length published (same reference); 63 is the
    // longest name terraform-provider-ucloud's generic name check accepts
    // (`ucloud/validators.go` `validateName`, `^[A-Za-z0-9\p{Han}-_.]{1,63}$`).
    // UNCONFIRMED for image names.
    max_name_chars: 63,
    // No border is documented for copies between UCloud regions: UNCONFIRMED, the server
    // stays the referee.
    border: None,
    // Nothing documents the source as busy while it is copied.
    source_busy_while_copying: false,
    source: "UCloud API reference CopyCustomImage (TargetRegion, TargetImageName; no \
             length or border published), name length 63 from terraform-provider-ucloud's \
             name check (UNCONFIRMED for images) (ucloud.md 1.3)",
};
