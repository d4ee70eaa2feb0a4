//! Issue #17 bug 8: the advice for an encrypted image must work. A service-key image is
//! refused even with `allow_encrypted`, never advised to set it; an image whose key the
//! provider does not report gets advice for both keys.

use imageshare_core::limits::{EncryptedPolicy, PrincipalForm};
use imageshare_core::memory::InMemorySharing;
use imageshare_core::{
    CheckOptions, Checked, Encryption, Image, ImageKind, ImageSharingExt, LimitRule, Principal,
    PrincipalKind, Provider, ShareLimits,
};

const TABLE: ShareLimits = ShareLimits::new(
    Provider::new("example-cloud"),
    "m-",
    "cn-hangzhou",
    PrincipalKind::Account,
    PrincipalForm::NumericAccountId {
        min_len: 5,
        max_len: 20,
        sub_user_markers: &["@"],
        sub_user_name: "a sub-user",
    },
)
.with_max_sharees_per_image(None)
.with_max_principals_per_call(10)
.with_same_region_only(true)
.with_reshare_received(false)
.with_share_marketplace_derived(true)
.with_encrypted(EncryptedPolicy::CustomerKeyWithAcknowledgement {
    prerequisite: "encrypted with a customer key (copy it with KeyId=<key>)",
})
.with_cross_site(true)
.with_shareable_kinds(&[ImageKind::SystemDisk])
.with_require_available(true)
.with_delete_requires_unshare(false)
.with_source("test");

async fn refusal(encryption: Encryption, allow_encrypted: bool) -> String {
    let backend = InMemorySharing::new("cn-hangzhou", TABLE);
    backend.add_image(
        Image::new("m-1", "cn-hangzhou")
            .with_name("golden")
            .with_owner(Some(Principal::account("1000000001")))
            .with_encryption(encryption),
    );
    let options = CheckOptions::new().with_allow_encrypted(allow_encrypted);
    let c = Checked::with_options(backend, options);
    let e = c
        .share(&"m-1".into(), &[Principal::account("2000000001")])
        .await
        .unwrap_err();
    assert_eq!(
        e.as_limit().map(|v| v.rule),
        Some(LimitRule::EncryptedImage)
    );
    assert_eq!(c.inner().calls().mutations(), 0, "nothing sent");
    e.to_string()
}

#[tokio::test]
async fn a_service_key_image_is_never_advised_allow_encrypted() {
    for allow in [false, true] {
        let m = refusal(Encryption::ServiceKey, allow).await;
        assert!(m.contains("even with --allow-encrypted"), "{m}");
        assert!(m.contains("copy it with KeyId=<key>"), "{m}");
        assert!(
            m.contains("re-encrypted with your customer-managed key"),
            "{m}"
        );
        assert!(!m.contains("set CheckOptions::allow_encrypted"), "{m}");
    }
}

#[tokio::test]
async fn an_unreported_key_gets_advice_for_both_keys() {
    let m = refusal(Encryption::Unknown, false).await;
    for says in [
        "m-1 is encrypted (example-cloud does not report with which key)",
        "Encrypted with the service key: it cannot be shared, even with --allow-encrypted",
        "copy it with KeyId=<key>",
        "Encrypted with a customer-managed key: set CheckOptions::allow_encrypted",
    ] {
        assert!(m.contains(says), "{says:?} not in {m}");
    }
    let m = refusal(Encryption::CustomerKey, false).await;
    assert!(m.contains("set CheckOptions::allow_encrypted"), "{m}");
    assert!(!m.contains("service key"), "{m}");
}
