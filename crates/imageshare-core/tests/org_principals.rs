//! The resource-directory principal kinds (`directory:`, `folder:`, `member:`): their
//! printed form reads back, and a provider without organisation sharing refuses them
//! with the `principal-kind` rule, while one with it checks their form and batches them
//! by its own per-call maximum.

use imageshare_core::limits::{OrgTargetLimits, PrincipalForm};
use imageshare_core::memory::EXAMPLE_LIMITS;
use imageshare_core::{Error, LimitRule, Principal, PrincipalKind, Provider, ShareLimits};

const FORM: PrincipalForm = PrincipalForm::NumericAccountId {
    min_len: 5,
    max_len: 20,
    sub_user_markers: &["@"],
    sub_user_name: "a RAM user",
};

const TABLE: ShareLimits = EXAMPLE_LIMITS
    .with_provider(Provider::new("tencent-cvm"))
    .with_image_id_prefix("img-")
    .with_example_region("ap-guangzhou")
    .with_principal_form(FORM)
    .with_max_sharees_per_image(Some(500))
    .with_delete_requires_unshare(false);

const ORG: OrgTargetLimits = OrgTargetLimits::new("Resource Sharing", "rd-", "fd-", FORM)
    .with_max_targets_per_call(5)
    .with_max_resources_per_call(5)
    .with_source("test");

#[test]
fn printed_forms_read_back() {
    for p in [
        Principal::account("1234567890"),
        Principal::project("org-abc"),
        Principal::directory("rd-3G6Z2a"),
        Principal::folder("fd-bVaRIG"),
        Principal::member("1234567890123456"),
    ] {
        let printed = p.to_string();
        assert_eq!(
            Principal::parse_prefixed(&printed),
            Some(p.clone()),
            "{printed}"
        );
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Principal>(&json).unwrap(), p);
    }
    assert_eq!(Principal::folder("fd-1").to_string(), "folder:fd-1");
    assert_eq!(
        Principal::parse_prefixed(" folder: fd-1 "),
        Some(Principal::folder("fd-1"))
    );
    assert_eq!(Principal::parse_prefixed("1234567890"), None);
    assert_eq!(Principal::parse_prefixed("team:x"), None);
    assert!(PrincipalKind::Folder.is_org() && !PrincipalKind::Account.is_org());
}

#[test]
fn provider_without_a_directory_refuses_org_kinds_naming_the_rule() {
    for p in [
        Principal::directory("rd-1"),
        Principal::folder("fd-1"),
        Principal::member("1234567890"),
    ] {
        match TABLE.check_principals(&[Principal::account("1234567890"), p.clone()]) {
            Err(Error::Limit(v)) => {
                assert_eq!(v.rule, LimitRule::PrincipalKind);
                assert_eq!(v.value, p.to_string());
                assert!(v.explanation.contains("no organisation sharing"), "{v}");
            }
            other => panic!("{p}: {other:?}"),
        }
    }
}

#[test]
fn provider_with_a_directory_checks_their_forms() {
    let ok = TABLE
        .check_principals_with(
            &[
                Principal::folder("fd-1"),
                Principal::folder("fd-1"),
                Principal::directory("rd-9"),
                Principal::member("1234567890"),
                Principal::account("1234567891"),
            ],
            Some(&ORG),
        )
        .unwrap();
    assert_eq!(ok.len(), 4, "deduplicated");
    for (bad, why) in [
        (Principal::folder("rd-1"), "folder id"),
        (Principal::directory("fd-1"), "resource directory id"),
        (Principal::folder("fd-"), "folder id"),
        (Principal::member("alice@1.onaliyun.com"), "RAM user"),
    ] {
        match TABLE.check_principals_with(std::slice::from_ref(&bad), Some(&ORG)) {
            Err(Error::Limit(v)) => {
                assert_eq!(v.rule, LimitRule::PrincipalForm, "{bad}");
                assert!(v.explanation.contains(why), "{bad}: {v}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn one_association_call_takes_at_most_five_targets() {
    let six: Vec<Principal> = (1..=6)
        .map(|i| Principal::folder(format!("fd-{i}")))
        .collect();
    match TABLE.org_targets_for_call(&six, &ORG) {
        Err(Error::InvalidInput { message, .. }) => {
            assert!(message.contains("at most 5"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        TABLE.org_targets_for_call(&six[..5], &ORG).unwrap().len(),
        5
    );
    assert!(TABLE
        .org_targets_for_call(&[Principal::account("1234567890")], &ORG)
        .is_err());
}
