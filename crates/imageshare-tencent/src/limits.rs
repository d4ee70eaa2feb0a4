//! The documented sharing limits of Tencent Cloud CVM and Lighthouse, as data for the one
//! limit checker in `imageshare-core` (values and sources: tencent.md §1.1, §1.8, §2.x).
//!
//! # CVM: how many `AccountIds` per `ModifyImageSharePermission` call?
//!
//! Tencent publishes **no** per-call maximum; only the per-image total (500 accounts) and an
//! action-specific `InvalidParameterValue.LimitExceeded` ("number of parameter values exceeds
//! limit"), which shows that some server-side cap exists. What Tencent's own tools send:
//!
//! - tencentcloudstack/terraform-provider-tencentcloud,
//!   `tencentcloud/services/cvm/resource_tc_cvm_image_share_permission.go`: `Create` puts every
//!   element of the `account_ids` set into one request; `..._extension.go`: `Update` sends
//!   the whole added set in one SHARE call and the whole removed set in one CANCEL call, and
//!   `Delete` reads every current sharee with `DescribeImageSharePermission` and cancels them
//!   all in one call; `service_tencentcloud_cvm.go` (`CvmService.ModifyImageSharePermission`)
//!   passes the list through unchanged. No batching, no cap anywhere.
//! - TencentCloud/tencentcloud-cli `tccli/services/cvm/v20170312/api.json`: `AccountIds` is a
//!   plain required list with no maximum in its description; tccli sends what it is given.
//! - hashicorp/packer-plugin-tencentcloud `builder/tencentcloud/cvm/step_share_image.go`:
//!   all `share_accounts` in one call.
//!
//! So nobody documents or enforces a per-call cap, and nobody demonstrates a large batch
//! either (every published example sends one account). The default here is therefore the
//! smallest per-call cap Tencent documents for any image-sharing action, **10**
//! (Lighthouse `ShareBlueprintAcrossAccounts`, "账号个数取值最大为10"): well below the
//! generic CVM batch cap of 100 that many other CVM actions document, so it is very unlikely
//! to hit `InvalidParameterValue.LimitExceeded`, and it keeps a failed batch small. Cost: 500
//! accounts take 50 calls, 5 s at the documented 10 req/s. The adapter makes it configurable
//! (`ShareLimits::with_max_principals_per_call`).
//!
//! # Account ids
//!
//! Recipients are root-account ids (UINs): numeric, "not a QQ number". Published examples
//! have 10 digits (`1038493875`, `3205597606`) and 12 digits (`101104350000`,
//! `700000164995`); Tencent documents no length. Old accounts have shorter UINs and the
//! number space keeps growing, so the check accepts 5 to 20 digits: it still refuses what can
//! never be a UIN (names, sub-user ARNs, `qcs::cam::uin/...`), and the server remains the
//! authority (`InvalidAccountId.NotFound`).

use imageshare_core::limits::{EncryptedPolicy, PrincipalForm};
use imageshare_core::ratelimit::{Rate, RateLimits};
use imageshare_core::{CopyLimits, ImageKind, PrincipalKind, RegionBorder, ShareLimits};

/// Fewest digits accepted in a Tencent root-account id (see the module docs).
pub const ACCOUNT_ID_MIN_DIGITS: usize = 5;
/// Most digits accepted in a Tencent root-account id (see the module docs).
pub const ACCOUNT_ID_MAX_DIGITS: usize = 20;

/// The default number of `AccountIds` per CVM `ModifyImageSharePermission` call. Tencent
/// publishes no maximum; see the module docs for how this value was chosen.
pub const CVM_DEFAULT_MAX_ACCOUNTS_PER_CALL: usize = 10;

/// Accounts per Lighthouse `ShareBlueprintAcrossAccounts` /
/// `CancelShareBlueprintAcrossAccounts` call (documented: "at most 10").
pub const LIGHTHOUSE_MAX_ACCOUNTS_PER_CALL: usize = 10;

/// Accounts one CVM custom image can be shared with (documented, API page 213/15710 and the
/// current SDK docs: "每个自定义镜像最多可共享给500个账户"; older tccli specs said 50).
pub const CVM_MAX_SHAREES_PER_IMAGE: usize = 500;

/// Image ids per CVM `DescribeImages` lookup (`ImageIds.N`, never combined with `Filters`).
/// The API page (213/15715, and `DescribeImagesRequestParams` in tencentcloud-sdk-go
/// `cvm/v20170312/models.go`) publishes no maximum for `ImageIds`, but an answer holds at
/// most `Limit` = 100 images ("默认为20，最大值为100"), so a batch of 100 ids sent with
/// `Limit` 100 is answered in one page; the emulator refuses more than 100, like
/// `DescribeBlueprints`.
pub const CVM_DESCRIBE_IMAGES_MAX_IDS: usize = 100;

/// Blueprint ids per Lighthouse `DescribeBlueprints` lookup (`BlueprintIds.N`, never with
/// `Filters`): "列表长度最大值为100" (tencentcloud-sdk-go `lighthouse/v20200324/models.go`,
/// `DescribeBlueprintsRequestParams`; API page 1207/47689), answered in one page with
/// `Limit` 100.
pub const LIGHTHOUSE_DESCRIBE_BLUEPRINTS_MAX_IDS: usize = 100;

/// What marks an account id as a user of an account rather than the account itself: a
/// CAM user name (`name@...`) or a CAM ARN (`qcs::cam::uin/...`).
pub const SUB_USER_MARKERS: &[&str] = &["@", "qcs::cam::"];
/// What such an id is called, in the limit checker's refusal.
pub const SUB_USER_NAME: &str = "a sub-user (CAM user) or collaborator";

/// The principal form both services accept: a root-account UIN of 5 to 20 digits.
const ACCOUNT_ID: PrincipalForm = PrincipalForm::NumericAccountId {
    min_len: ACCOUNT_ID_MIN_DIGITS,
    max_len: ACCOUNT_ID_MAX_DIGITS,
    sub_user_markers: SUB_USER_MARKERS,
    sub_user_name: SUB_USER_NAME,
};

/// A Tencent Cloud region id, named as an example in errors about region ids.
pub const EXAMPLE_REGION: &str = "ap-guangzhou";

/// Tencent CVM (API 2017-03-12) image sharing.
pub const CVM_LIMITS: ShareLimits = ShareLimits::new(
    crate::CVM,
    "img-",
    EXAMPLE_REGION,
    PrincipalKind::Account,
    ACCOUNT_ID,
)
.with_max_sharees_per_image(Some(CVM_MAX_SHAREES_PER_IMAGE))
// UNPUBLISHED by Tencent: a chosen safe default, see the module docs.
.with_max_principals_per_call(CVM_DEFAULT_MAX_ACCOUNTS_PER_CALL)
// Documented: "only into the same region of the recipient's account".
.with_same_region_only(true)
// UNCONFIRMED: the API page does not say a received image cannot be shared onward. The
// documented route for a recipient is SyncImages to the source region, which makes an
// own custom image that can then be shared. We refuse re-sharing and point there.
.with_reshare_received(false)
// Nothing documented about marketplace-derived custom images (the CVM Image object has
// no marketplace marker either); the server answers if it refuses. BYOL images are
// refused by the server (FailedOperation.BYOLImageShareFailed) and not modelled here.
.with_share_marketplace_derived(true)
// Documented: UnsupportedOperation.EncryptedImagesNotSupported.
.with_encrypted(EncryptedPolicy::Forbidden)
// Nothing documented for CVM about China-site vs international-site recipients (the
// Lighthouse error AccountIdInvalidAccountArea has no CVM counterpart), so the client
// does not ban it; the server's answer is the truth.
.with_cross_site(true)
// Documented: whole-instance images are refused (InvalidParameter.InstanceImageNotSupport).
.with_shareable_kinds(&[ImageKind::SystemDisk])
// Documented: the image must be NORMAL.
.with_require_available(true)
// Documented: DeleteImages refuses a shared image (InvalidImageId.InShared).
.with_delete_requires_unshare(true)
.with_source(
    "tencent.md §1.1/§1.8 (CVM API 213/15710, tencentcloud-sdk-go cvm/v20170312 \
     errors); per-call maximum unpublished, default 10 chosen from Terraform/tccli \
     behaviour (see imageshare_tencent::limits docs)",
);

/// Tencent Lighthouse (API 2020-03-24) blueprint sharing across accounts.
pub const LIGHTHOUSE_LIMITS: ShareLimits = ShareLimits::new(
    crate::LIGHTHOUSE,
    "lhbp-",
    EXAMPLE_REGION,
    PrincipalKind::Account,
    ACCOUNT_ID,
)
// UNPUBLISHED: the total per blueprint is not documented; exceeding it gives
// LimitExceeded.ShareBlueprintAcrossAccountQuotaLimitExceeded.
.with_max_sharees_per_image(None)
// Documented: "账号个数取值最大为10".
.with_max_principals_per_call(LIGHTHOUSE_MAX_ACCOUNTS_PER_CALL)
// Blueprints are regional (SyncBlueprint copies them between regions) and every call is
// scoped by X-TC-Region, so a share happens in the blueprint's region.
.with_same_region_only(true)
// Documented: only custom (PRIVATE) blueprints can be shared; a received one is SHARED.
.with_reshare_received(false)
// Nothing documented.
.with_share_marketplace_derived(true)
// Lighthouse documents no encrypted blueprints; nothing to refuse.
.with_encrypted(EncryptedPolicy::Allowed)
// Documented: InvalidParameterValue.AccountIdInvalidAccountArea ("cannot share to an
// account of a different site").
.with_cross_site(false)
.with_shareable_kinds(&[ImageKind::LightweightHost])
// Documented: the blueprint must be NORMAL.
.with_require_available(true)
// UNCONFIRMED: DeleteBlueprints lists UnsupportedOperation.BlueprintOccupied, which may be
// the "still shared" answer. Unsharing first is always valid, so the client requires it.
.with_delete_requires_unshare(true)
.with_source(
    "tencent.md §2.1/§2.6/§7 (Lighthouse API 1207/101338, tencentcloud-sdk-go \
     lighthouse/v20200324 errors); per-blueprint total unpublished",
);

/// CVM `SyncImages` (API 2017-03-12), the cross-region copy of a custom image.
pub const CVM_COPY: CopyLimits = CopyLimits {
    action: "SyncImages",
    // `DestinationRegions` is a list, but no maximum is published (API page 213/15711,
    // tencentcloud-sdk-go `cvm/v20170312/models.go` `SyncImagesRequestParams`; tencent.md
    // 1.4): UNCONFIRMED. 10 is imageshare's choice, the cap Tencent documents for the
    // analogous Lighthouse `SyncBlueprint`; the adapter sends one region per call anyway.
    max_regions_per_call: 10,
    // `ImageName`: "目标镜像名称。默认使用源镜像名称。最多支持 60 个字符。" (SyncImagesRequest
    // in tencentcloud-sdk-java / -dotnet `cvm/v20170312`; tencent.md 1.4).
    max_name_chars: 60,
    // No border is documented: the request model only says that some regions do not
    // support synchronisation ("暂不支持部分地域同步", with a link to the copy guide
    // 213/4943); UNCONFIRMED, the server stays the referee.
    border: None,
    // Whether a syncing source refuses another SyncImages is not documented (the source
    // must be NORMAL, and `FailedOperation.InvalidImageState` means it is busy:
    // tencentcloud-sdk-python-cvm 3.1.178); UNCONFIRMED, so regions are not held back.
    source_busy_while_copying: false,
    source: "CVM API SyncImages (213/15711) and the SDK request model SyncImagesRequest \
             (ImageName at most 60 characters; DestinationRegions maximum unpublished, 10 \
             chosen; no border documented) (tencent.md 1.4)",
};

/// Tencent Cloud region ids in mainland China, the inside of the border Lighthouse's
/// `SyncBlueprint` does not cross. From the region lists of the CVM and Lighthouse docs
/// (cloud.tencent.com/document/product/213/6091 "地域和可用区", product/1207/47564): the
/// mainland cities Guangzhou, Shanghai, Nanjing, Beijing, Chengdu, Chongqing and the
/// finance zones; Hong Kong and every `ap-`/`na-`/`eu-`/`sa-` region elsewhere are
/// outside. The older or restricted ids (`ap-shenzhen`, `ap-tianjin`, `ap-wuhan`,
/// `ap-hangzhou` and their zones) are listed as the emulator treats them: UNCONFIRMED
/// whether Lighthouse serves them.
pub const MAINLAND_CHINA_REGIONS: &[&str] = &[
    "ap-beijing",
    "ap-beijing-fsi",
    "ap-chengdu",
    "ap-chongqing",
    "ap-guangzhou",
    "ap-nanjing",
    "ap-shanghai",
    "ap-shanghai-fsi",
    "ap-shenzhen",
    "ap-shenzhen-fsi",
    "ap-tianjin",
    "ap-wuhan",
    "ap-hangzhou",
];

/// The mainland-China border of Lighthouse's `SyncBlueprint`.
pub const MAINLAND_CHINA: RegionBorder = RegionBorder {
    inside: MAINLAND_CHINA_REGIONS,
    inside_name: "mainland China",
    outside_name: "outside mainland China",
};

/// Lighthouse `SyncBlueprint` (API 2020-03-24), the cross-region copy of a blueprint.
pub const LIGHTHOUSE_COPY: CopyLimits = CopyLimits {
    action: "SyncBlueprint",
    // Up to 10 destination regions (intl API page SyncBlueprint,
    // https://www.tencentcloud.com/zh/document/product/1103/75622; tencent.md 2.5).
    max_regions_per_call: 10,
    // SyncBlueprint takes no name (its parameters are BlueprintId and DestinationRegions
    // only): the copy keeps the blueprint's name (tencent.md 2.5).
    max_name_chars: 0,
    // No sync between mainland-China and other regions (same page): the server answers
    // InvalidParameterValue.NotSupportCrossBorderSyncBlueprint (tencent.md 2.5, 3.4, 7).
    border: Some(MAINLAND_CHINA),
    // A syncing blueprint is SYNCING, only NORMAL blueprints can be synced, and it is NORMAL
    // again "when the sync from the source region has ended" (DescribeBlueprints
    // BlueprintState; FailedOperation.UnableToSyncBlueprint: tencentcloud-sdk-python-lighthouse
    // 3.1.177): so every region goes in one call of up to 10, and a further batch waits.
    source_busy_while_copying: true,
    source: "Lighthouse API SyncBlueprint (tencentcloud.com 1103/75622): at most 10 destination regions, no \
             name, not between mainland China and other regions \
             (InvalidParameterValue.NotSupportCrossBorderSyncBlueprint) (tencent.md 2.5, 7)",
};

/// CVM's published per-action request quotas, requests per second (tencent.md §6, from the
/// "request frequency limit" line of each official API page: ModifyImageSharePermission,
/// DescribeImageSharePermission, SyncImages and DeleteImages 10/s, DescribeImages 40/s).
/// Whether Tencent counts them per account, per region or per key is not stated; the
/// client-side limiter counts per `(provider, action)` across every adapter sharing it,
/// which is never looser than any of those. Requests are spaced evenly (burst 1).
pub const CVM_RATE_TABLE: &[(&str, Rate)] = &[
    ("ModifyImageSharePermission", Rate::per_second(10.0)),
    ("DescribeImageSharePermission", Rate::per_second(10.0)),
    ("DescribeImages", Rate::per_second(40.0)),
    ("SyncImages", Rate::per_second(10.0)),
    ("DeleteImages", Rate::per_second(10.0)),
    // CBS, not CVM: the CVM adapter's encryption lookup (`crate::cbs`). Official API page
    // 362/15647: "A maximum of 20 requests can be initiated per second for this API."
    ("DescribeSnapshots", Rate::per_second(20.0)),
];

/// Rate of CVM actions [`CVM_RATE_TABLE`] does not list (CreateImage's quota is
/// UNCONFIRMED): 10/s, the smallest quota CVM publishes for an image action.
pub const CVM_DEFAULT_RATE: Rate = Rate::per_second(10.0);

/// Lighthouse's published per-action request quotas, requests per second (tencent.md §6):
/// the blueprint-sharing actions, the CVM-to-Lighthouse `ModifyImageSharePermission`,
/// `DescribeImagesToShare`, `SyncBlueprint`, `CreateBlueprint` and `DeleteBlueprints` 20/s;
/// `DescribeBlueprints` and `DescribeBlueprintInstances` 10/s.
pub const LIGHTHOUSE_RATE_TABLE: &[(&str, Rate)] = &[
    ("ShareBlueprintAcrossAccounts", Rate::per_second(20.0)),
    ("CancelShareBlueprintAcrossAccounts", Rate::per_second(20.0)),
    (
        "DescribeBlueprintsShareAcrossAccountInfos",
        Rate::per_second(20.0),
    ),
    ("ModifyImageSharePermission", Rate::per_second(20.0)),
    ("DescribeImagesToShare", Rate::per_second(20.0)),
    ("SyncBlueprint", Rate::per_second(20.0)),
    ("CreateBlueprint", Rate::per_second(20.0)),
    ("DeleteBlueprints", Rate::per_second(20.0)),
    ("DescribeBlueprints", Rate::per_second(10.0)),
    ("DescribeBlueprintInstances", Rate::per_second(10.0)),
];

/// Rate of Lighthouse actions [`LIGHTHOUSE_RATE_TABLE`] does not list: 10/s, the smallest
/// quota Lighthouse publishes.
pub const LIGHTHOUSE_DEFAULT_RATE: Rate = Rate::per_second(10.0);

/// The default client-side rate limits of the CVM adapter ([`CVM_RATE_TABLE`], unlisted
/// actions at [`CVM_DEFAULT_RATE`]). Builders take another table with `rate_limits` or
/// change one action with `rate_limit`.
#[must_use]
pub fn cvm_rate_limits() -> RateLimits {
    RateLimits::from_table(CVM_RATE_TABLE, Some(CVM_DEFAULT_RATE))
}

/// The default client-side rate limits of the Lighthouse adapter
/// ([`LIGHTHOUSE_RATE_TABLE`], unlisted actions at [`LIGHTHOUSE_DEFAULT_RATE`]).
#[must_use]
pub fn lighthouse_rate_limits() -> RateLimits {
    RateLimits::from_table(LIGHTHOUSE_RATE_TABLE, Some(LIGHTHOUSE_DEFAULT_RATE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvm_table_matches_the_protocol_notes() {
        let l = &CVM_LIMITS;
        assert_eq!(l.provider, crate::CVM);
        assert_eq!(
            (l.image_id_prefix, l.example_region),
            ("img-", "ap-guangzhou")
        );
        assert_eq!(l.max_sharees_per_image, Some(500));
        assert_eq!(l.max_principals_per_call, 10);
        assert!(l.same_region_only && l.require_available && l.delete_requires_unshare);
        assert!(!l.reshare_received);
        assert_eq!(l.encrypted, EncryptedPolicy::Forbidden);
        assert_eq!(l.shareable_kinds, &[ImageKind::SystemDisk]);
        assert!(l.cross_site);
        assert_eq!(
            l.principal_form,
            PrincipalForm::NumericAccountId {
                min_len: 5,
                max_len: 20,
                sub_user_markers: &["@", "qcs::cam::"],
                sub_user_name: "a sub-user (CAM user) or collaborator",
            }
        );
        assert!(!l.source.is_empty());
    }

    #[test]
    fn lighthouse_table_matches_the_protocol_notes() {
        let l = &LIGHTHOUSE_LIMITS;
        assert_eq!(l.provider, crate::LIGHTHOUSE);
        assert_eq!(
            (l.image_id_prefix, l.example_region),
            ("lhbp-", "ap-guangzhou")
        );
        assert_eq!(l.principal_form, CVM_LIMITS.principal_form);
        assert_eq!(l.max_sharees_per_image, None);
        assert_eq!(l.max_principals_per_call, 10);
        assert_eq!(l.shareable_kinds, &[ImageKind::LightweightHost]);
        assert!(!l.cross_site && !l.reshare_received && l.require_available);
        assert_eq!(l.principal_kind, PrincipalKind::Account);
    }

    #[test]
    fn rate_tables_match_the_published_quotas() {
        let cvm = cvm_rate_limits();
        assert_eq!(
            cvm.rate("ModifyImageSharePermission"),
            Some(Rate::per_second(10.0))
        );
        assert_eq!(cvm.rate("DescribeImages"), Some(Rate::per_second(40.0)));
        // CBS, made by the CVM adapter for encryption (API page 362/15647).
        assert_eq!(cvm.rate("DescribeSnapshots"), Some(Rate::per_second(20.0)));
        assert_eq!(cvm.rate("CreateImage"), Some(CVM_DEFAULT_RATE));
        let lh = lighthouse_rate_limits();
        assert_eq!(
            lh.rate("ShareBlueprintAcrossAccounts"),
            Some(Rate::per_second(20.0))
        );
        assert_eq!(lh.rate("DescribeBlueprints"), Some(Rate::per_second(10.0)));
        assert!(cvm.validate().is_ok() && lh.validate().is_ok());
    }

    #[test]
    fn cvm_per_call_maximum_is_configurable() {
        let l = CVM_LIMITS.clone().with_max_principals_per_call(100);
        assert_eq!(l.max_principals_per_call, 100);
        assert_eq!(CVM_LIMITS.max_principals_per_call, 10);
    }
}
