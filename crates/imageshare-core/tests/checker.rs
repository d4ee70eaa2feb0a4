//! The limit checker: one test per rule, each showing the typed error and that nothing
//! was sent, plus batching, de-duplication and partial-failure reporting.

use imageshare_core::limits::{EncryptedPolicy, PrincipalForm};
use imageshare_core::memory::InMemorySharing;
use imageshare_core::memory::EXAMPLE_LIMITS;
use imageshare_core::{
    ApiError, CheckOptions, Checked, Encryption, Error, Image, ImageKind, ImageOrigin,
    ImageSharingExt, ImageState, LimitRule, Principal, PrincipalKind, Provider, ShareLimits,
    ShareOutcome, Site,
};

const OWNER: &str = "1000000001";

const TABLE: ShareLimits = EXAMPLE_LIMITS
    .with_provider(Provider::new("alibaba-sas"))
    .with_max_sharees_per_image(Some(5))
    .with_max_principals_per_call(2)
    .with_encrypted(EncryptedPolicy::CustomerKeyWithAcknowledgement {
        prerequisite: "a CMK and the sharing role",
    })
    .with_cross_site(false);

fn image(id: &str) -> Image {
    Image::new(id, "cn-hangzhou")
        .with_name("golden")
        .with_owner(Some(Principal::account(OWNER)))
        .with_owner_site(Some(Site::China))
        .with_encryption(Encryption::None)
}

fn setup_with(table: ShareLimits, img: Image, options: CheckOptions) -> Checked<InMemorySharing> {
    let backend = InMemorySharing::new("cn-hangzhou", table);
    backend.add_image(img);
    Checked::with_options(backend, options)
}

fn setup(img: Image) -> Checked<InMemorySharing> {
    setup_with(TABLE, img, CheckOptions::default())
}

fn acct(n: u64) -> Principal {
    Principal::account(format!("{}", 2_000_000_000u64 + n))
}

/// Shares `to` on `img` and expects the rule; asserts no mutating call was sent.
async fn expect_refused(checked: &Checked<InMemorySharing>, to: &[Principal], rule: LimitRule) {
    let err = checked
        .share(&"m-1".into(), to)
        .await
        .expect_err("should be refused");
    let v = err
        .as_limit()
        .unwrap_or_else(|| panic!("expected a limit violation, got {err}"));
    assert_eq!(v.rule, rule, "{err}");
    assert_eq!(v.provider, Provider::new("alibaba-sas"));
    assert!(!v.limit.is_empty() && !v.value.is_empty() && !v.explanation.is_empty());
    let msg = err.to_string();
    assert!(msg.contains(rule.name()), "{msg}");
    assert_eq!(
        checked.inner().calls().mutations(),
        0,
        "nothing may be sent"
    );
    assert!(checked.inner().share_batches().is_empty());
}

#[tokio::test]
async fn max_sharees_counts_current_plus_new_after_dedupe() {
    let c = setup(image("m-1"));
    c.inner()
        .seed_grants(&"m-1".into(), [acct(1), acct(2), acct(3)]);
    // acct(3) is already granted and acct(4) is given twice: 3 current + 2 new = 5, allowed.
    let ok = c
        .share(&"m-1".into(), &[acct(3), acct(4), acct(4), acct(5)])
        .await
        .unwrap();
    assert_eq!(ok.outcome(&acct(3)).unwrap().label(), "already-granted");
    assert_eq!(ok.count(imageshare_core::OutcomeKind::Granted), 2);
    assert_eq!(ok.len(), 3, "duplicates appear once");
    // One more is 6 > 5.
    let before = c.inner().calls().share;
    let err = c.share(&"m-1".into(), &[acct(6)]).await.unwrap_err();
    let v = err.as_limit().unwrap();
    assert_eq!(v.rule, LimitRule::MaxShareesPerImage);
    assert_eq!(v.limit, "5");
    assert!(v.value.contains("5 current + 1 new"), "{}", v.value);
    assert_eq!(c.inner().calls().share, before);
}

#[tokio::test]
async fn max_sharees_refuses_a_single_oversized_request() {
    let c = setup(image("m-1"));
    let many: Vec<Principal> = (0..10_001).map(acct).collect();
    expect_refused(&c, &many, LimitRule::MaxShareesPerImage).await;
}

#[tokio::test]
async fn principal_kind() {
    let c = setup(image("m-1"));
    expect_refused(
        &c,
        &[acct(1), Principal::project("org-abc")],
        LimitRule::PrincipalKind,
    )
    .await;
}

#[tokio::test]
async fn principal_form_numeric_and_ram_users() {
    let c = setup(image("m-1"));
    for bad in [
        "12ab5678",
        "123",
        "",
        "alice@1234567890123456.onaliyun.com",
        "acs:ram::1234567890123456:user/alice",
        "123456789012345678901",
    ] {
        expect_refused(&c, &[Principal::account(bad)], LimitRule::PrincipalForm).await;
    }
    let err = c
        .share(
            &"m-1".into(),
            &[Principal::account("bob@example.onaliyun.com")],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("RAM user"), "{err}");
}

#[tokio::test]
async fn principal_form_project_prefix() {
    let table = TABLE
        .with_principal_kind(PrincipalKind::Project)
        .with_principal_form(PrincipalForm::PrefixedId { prefix: "org-" });
    let c = setup_with(table, image("m-1"), CheckOptions::default());
    for bad in ["org-", "abc", "org-ab_c", "ORG-abc"] {
        expect_refused(&c, &[Principal::project(bad)], LimitRule::PrincipalForm).await;
    }
    expect_refused(&c, &[acct(1)], LimitRule::PrincipalKind).await;
    let ok = c
        .share(&"m-1".into(), &[Principal::project("org-ab12")])
        .await
        .unwrap();
    assert_eq!(ok.count(imageshare_core::OutcomeKind::Granted), 1);
}

#[tokio::test]
async fn share_with_self() {
    let c = setup(image("m-1"));
    expect_refused(
        &c,
        &[acct(1), Principal::account(OWNER)],
        LimitRule::ShareWithSelf,
    )
    .await;
}

#[tokio::test]
async fn same_region() {
    let mut img = image("m-1");
    img.region = "cn-shanghai".into();
    let c = setup(img);
    expect_refused(&c, &[acct(1)], LimitRule::SameRegion).await;
}

#[tokio::test]
async fn received_image_is_not_reshared() {
    let mut img = image("m-1");
    img.origin = ImageOrigin::Received;
    let c = setup(img);
    expect_refused(&c, &[acct(1)], LimitRule::ReceivedImage).await;
}

#[tokio::test]
async fn public_image() {
    let mut img = image("m-1");
    img.origin = ImageOrigin::Public;
    let c = setup(img);
    expect_refused(&c, &[acct(1)], LimitRule::PublicImage).await;
}

#[tokio::test]
async fn marketplace_derived() {
    let mut img = image("m-1");
    img.origin = ImageOrigin::MarketplaceDerived;
    let c = setup(img);
    expect_refused(&c, &[acct(1)], LimitRule::MarketplaceDerived).await;
    let allowed = TABLE.with_share_marketplace_derived(true);
    let mut img = image("m-1");
    img.origin = ImageOrigin::MarketplaceDerived;
    let c = setup_with(allowed, img, CheckOptions::default());
    assert!(c.share(&"m-1".into(), &[acct(1)]).await.is_ok());
}

#[tokio::test]
async fn encrypted_service_key_is_always_refused() {
    let mut img = image("m-1");
    img.encryption = Encryption::ServiceKey;
    let opts = CheckOptions::new().with_allow_encrypted(true);
    let c = setup_with(TABLE, img, opts);
    expect_refused(&c, &[acct(1)], LimitRule::EncryptedImage).await;
}

#[tokio::test]
async fn encrypted_needs_acknowledgement() {
    let mut img = image("m-1");
    img.encryption = Encryption::Unknown;
    let c = setup(img.clone());
    expect_refused(&c, &[acct(1)], LimitRule::EncryptedImage).await;
    let opts = CheckOptions::new().with_allow_encrypted(true);
    let c = setup_with(TABLE, img, opts);
    let report = c.share(&"m-1".into(), &[acct(1)]).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 1);
}

#[tokio::test]
async fn encrypted_forbidden() {
    let table = TABLE.with_encrypted(EncryptedPolicy::Forbidden);
    let mut img = image("m-1");
    img.encryption = Encryption::CustomerKey;
    let opts = CheckOptions::new().with_allow_encrypted(true);
    let c = setup_with(table, img, opts);
    expect_refused(&c, &[acct(1)], LimitRule::EncryptedImage).await;
}

#[tokio::test]
async fn cross_site_with_known_sites() {
    let mut opts = CheckOptions::default();
    opts.principal_sites
        .insert(acct(1).id().to_owned(), Site::International);
    opts.principal_sites
        .insert(acct(2).id().to_owned(), Site::China);
    let c = setup_with(TABLE, image("m-1"), opts.clone());
    expect_refused(&c, &[acct(2), acct(1)], LimitRule::CrossSite).await;
    // Same site, and unknown site, pass.
    assert!(c.share(&"m-1".into(), &[acct(2), acct(3)]).await.is_ok());
    // A table that allows cross-site sharing does not apply the rule.
    let open = TABLE.with_cross_site(true);
    let c = setup_with(open, image("m-1"), opts);
    assert!(c.share(&"m-1".into(), &[acct(1)]).await.is_ok());
}

#[tokio::test]
async fn image_kind() {
    for kind in [ImageKind::LightweightHost, ImageKind::WholeMachine] {
        let mut img = image("m-1");
        img.kind = kind;
        let c = setup(img);
        expect_refused(&c, &[acct(1)], LimitRule::ImageKind).await;
    }
}

#[tokio::test]
async fn image_state() {
    for state in [
        ImageState::Pending,
        ImageState::Failed,
        ImageState::Unavailable,
        ImageState::Other("SYNCING".into()),
    ] {
        let mut img = image("m-1");
        img.state = state;
        let c = setup(img);
        expect_refused(&c, &[acct(1)], LimitRule::ImageState).await;
    }
}

#[tokio::test]
async fn delete_while_shared_then_unshare_all_and_delete() {
    let c = setup(image("m-1"));
    c.inner()
        .seed_grants(&"m-1".into(), [acct(1), acct(2), acct(3)]);
    let err = c.delete(&"m-1".into()).await.unwrap_err();
    let v = err.as_limit().unwrap();
    assert_eq!(v.rule, LimitRule::DeleteWhileShared);
    assert!(v.value.starts_with("3 sharees"), "{}", v.value);
    assert_eq!(c.inner().calls().mutations(), 0);

    let report = c.unshare_all_and_delete(&"m-1".into()).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Revoked), 3);
    // Two unshare batches (per-call max 2) and one delete.
    assert_eq!(c.inner().calls().unshare, 2);
    assert_eq!(c.inner().calls().delete, 1);
    assert!(matches!(
        c.image(&"m-1".into()).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn empty_principal_list_is_invalid_input() {
    let c = setup(image("m-1"));
    for r in [
        c.share(&"m-1".into(), &[]).await,
        c.unshare(&"m-1".into(), &[]).await,
    ] {
        assert!(matches!(r, Err(Error::InvalidInput { ref field, .. }) if field == "principals"));
    }
    assert_eq!(c.inner().calls().mutations(), 0);
}

#[tokio::test]
async fn missing_image_is_not_found_and_nothing_sent() {
    let c = setup(image("m-1"));
    let err = c.share(&"m-nope".into(), &[acct(1)]).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert_eq!(c.inner().calls().mutations(), 0);
}

#[tokio::test]
async fn batches_split_at_the_per_call_maximum() {
    let table = TABLE
        .with_max_sharees_per_image(Some(50))
        .with_max_principals_per_call(10);
    let c = setup_with(table, image("m-1"), CheckOptions::default());
    let to: Vec<Principal> = (0..23).map(acct).collect();
    let report = c.share(&"m-1".into(), &to).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 23);
    let sizes: Vec<usize> = c.inner().share_batches().iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![10, 10, 3]);
    // Report order follows the request order.
    let order: Vec<&Principal> = report.iter().map(|(p, _)| p).collect();
    assert_eq!(order, to.iter().collect::<Vec<_>>());
    // Sharing them again sends nothing.
    let again = c.share(&"m-1".into(), &to).await.unwrap();
    assert_eq!(
        again.count(imageshare_core::OutcomeKind::AlreadyGranted),
        23
    );
    assert_eq!(c.inner().calls().share, 3);
}

fn throttled() -> Error {
    Error::from(
        ApiError::new(
            Provider::new("alibaba-sas"),
            "AddCustomImageShareAccount",
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
        )
        .with_request_id(Some("req-1".into()))
        .with_retry(Some(imageshare_core::transport::RetryReason::ServerError)),
    )
}

#[tokio::test]
async fn partial_batch_failure_is_reported_never_silent() {
    let c = setup(image("m-1"));
    // Batches: [1,2] ok, [3,4] fails, [5] ok.
    c.inner().seed_grants(&"m-1".into(), []);
    let to = [acct(1), acct(2), acct(3), acct(4), acct(5)];
    let backend = c.inner();
    // Fail the second share call only: queue a failure after the first succeeds.
    let first = c.share(&"m-1".into(), &to[..2]).await.unwrap();
    assert_eq!(first.count(imageshare_core::OutcomeKind::Granted), 2);
    backend.fail_next(throttled());
    let err = c.share(&"m-1".into(), &to[2..]).await.unwrap_err();
    // The first batch of this call ([3,4]) failed, the second ([5]) succeeded.
    let Error::Partial(report) = err else {
        panic!("expected Partial, got {err}")
    };
    assert_eq!(report.count(imageshare_core::OutcomeKind::Failed), 2);
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 1);
    let (p, e) = report.failures().next().unwrap();
    assert_eq!(p, &acct(3));
    assert_eq!(e.code(), Some("Throttling.User"));
    assert!(matches!(
        report.outcome(&acct(5)),
        Some(ShareOutcome::Granted)
    ));
    assert_eq!(backend.grants(&"m-1".into()).len(), 3);
}

#[tokio::test]
async fn total_failure_returns_the_error_itself() {
    let c = setup(image("m-1"));
    c.inner().fail_next(throttled());
    let err = c.share(&"m-1".into(), &[acct(1)]).await.unwrap_err();
    assert_eq!(err.code(), Some("Throttling.User"));
    assert_eq!(err.request_id(), Some("req-1"));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn unshare_skips_principals_without_grants() {
    let c = setup(image("m-1"));
    c.inner().seed_grants(&"m-1".into(), [acct(1)]);
    let report = c.unshare(&"m-1".into(), &[acct(1), acct(2)]).await.unwrap();
    assert_eq!(report.outcome(&acct(1)).unwrap().label(), "revoked");
    assert_eq!(report.outcome(&acct(2)).unwrap().label(), "not-granted");
    assert_eq!(c.inner().calls().unshare, 1);
    let again = c.unshare(&"m-1".into(), &[acct(1)]).await.unwrap();
    assert_eq!(again.count(imageshare_core::OutcomeKind::NotGranted), 1);
    assert_eq!(
        c.inner().calls().unshare,
        1,
        "nothing to revoke, nothing sent"
    );
}
