//! Issue #17 bug 6: the checker's batches. A batch refused with an error that is not
//! retried stops the remaining batches of the image (the report says which principals
//! were not attempted and why); every failure that happened is reported, never only the
//! first.

use std::sync::Arc;

use imageshare_core::limits::{EncryptedPolicy, PrincipalForm};
use imageshare_core::memory::InMemorySharing;
use imageshare_core::{
    ApiError, Checked, Encryption, Error, Image, ImageKind, ImageSharingExt, OutcomeKind,
    Principal, PrincipalKind, Provider, ShareLimits, ShareReport,
};

const CLOUD: Provider = Provider::new("example-cloud");

/// 10 principals per call, as ECS.
const TABLE: ShareLimits = ShareLimits::new(
    CLOUD,
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
.with_encrypted(EncryptedPolicy::Allowed)
.with_cross_site(true)
.with_shareable_kinds(&[ImageKind::SystemDisk])
.with_require_available(true)
.with_delete_requires_unshare(false)
.with_source("test");

fn setup() -> Checked<InMemorySharing> {
    let backend = InMemorySharing::new("cn-hangzhou", TABLE);
    backend.add_image(
        Image::new("m-1", "cn-hangzhou")
            .with_name("golden")
            .with_owner(Some(Principal::account("1000000001")))
            .with_encryption(Encryption::None),
    );
    Checked::new(backend)
}

fn accounts(n: usize) -> Vec<Principal> {
    (0..n)
        .map(|i| Principal::account(format!("3{i:011}")))
        .collect()
}

fn api_error(code: &str, retryable: bool) -> Error {
    Error::from(
        ApiError::new(
            CLOUD,
            "ModifyImageSharePermission",
            if retryable { 503 } else { 404 },
            code,
            "refused",
        )
        .with_request_id(Some(format!("req-{code}")))
        .with_retry(retryable.then_some(imageshare_core::transport::RetryReason::ServerError)),
    )
}

fn partial(e: Error) -> ShareReport {
    match e {
        Error::Partial(r) => *r,
        other => panic!("expected Partial, got {other}"),
    }
}

#[tokio::test]
async fn a_refused_batch_stops_the_remaining_batches_and_says_which() {
    let c = setup();
    let to = accounts(490);
    c.inner()
        .fail_next(api_error("InvalidAccount.NotFound", false));
    let report = partial(c.share(&"m-1".into(), &to).await.unwrap_err());
    // One call was sent, not 49.
    assert_eq!(c.inner().calls().share, 1);
    assert_eq!(report.count(OutcomeKind::Failed), 10);
    assert_eq!(report.not_attempted(), &to[10..]);
    assert_eq!(
        report.stopped_by().and_then(|e| e.code()),
        Some("InvalidAccount.NotFound")
    );
    assert!(!report.is_complete());
    assert_eq!(report.summary(), "10 failed, 480 not-attempted");
    let text = report.to_string();
    for says in [
        "m-1: 10 failed, 480 not-attempted",
        "not sent after a refusal that is not retried (InvalidAccount.NotFound)",
        "account:300000000010, account:300000000011, account:300000000012, and 477 more",
        "fix the failed principals and run again",
    ] {
        assert!(text.contains(says), "{says:?} not in {text}");
    }
    assert!(c.inner().grants(&"m-1".into()).is_empty());
}

#[tokio::test]
async fn retryable_failures_do_not_stop_and_every_one_is_reported() {
    let c = setup();
    let to = accounts(30);
    // Batches 1 and 2 fail (retries exhausted), batch 3 succeeds.
    let backend = c.inner();
    backend.fail_next(api_error("ServiceUnavailable", true));
    backend.fail_next(api_error("ServiceUnavailable", true));
    let report = partial(c.share(&"m-1".into(), &to).await.unwrap_err());
    assert_eq!(backend.calls().share, 3, "every batch was sent");
    assert!(report.not_attempted().is_empty());
    assert_eq!(report.count(OutcomeKind::Failed), 20);
    assert_eq!(report.count(OutcomeKind::Granted), 10);
}

#[tokio::test]
async fn every_batch_failing_is_a_report_of_every_failure_not_the_first_error() {
    let c = setup();
    let to = accounts(25);
    for _ in 0..3 {
        c.inner().fail_next(api_error("ServiceUnavailable", true));
    }
    let report = partial(c.share(&"m-1".into(), &to).await.unwrap_err());
    assert_eq!(c.inner().calls().share, 3);
    assert_eq!(report.count(OutcomeKind::Failed), 25);
    assert_eq!(report.failures().count(), 25);
}

#[tokio::test]
async fn one_refused_call_is_still_the_error_itself() {
    let c = setup();
    c.inner()
        .fail_next(api_error("InvalidAccount.NotFound", false));
    let e = c.share(&"m-1".into(), &accounts(10)).await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidAccount.NotFound"));
}

#[tokio::test]
async fn a_refused_unshare_batch_stops_too() {
    let c = setup();
    let to = accounts(15);
    c.inner().seed_grants(&"m-1".into(), to.clone());
    c.inner()
        .fail_next(api_error("InvalidAccount.NotFound", false));
    let report = partial(c.unshare(&"m-1".into(), &to).await.unwrap_err());
    assert_eq!(c.inner().calls().unshare, 1);
    assert_eq!(report.not_attempted(), &to[10..]);
    assert_eq!(c.inner().grants(&"m-1".into()).len(), 15);
}

#[test]
fn extend_keeps_the_principals_not_attempted_and_the_first_cause() {
    let mut a = ShareReport::new("m-1".into());
    a.stop(accounts(2), Arc::new(api_error("A", false)));
    let mut b = ShareReport::new("m-1".into());
    b.stop(accounts(3), Arc::new(api_error("B", false)));
    a.extend(b);
    assert_eq!(a.not_attempted().len(), 5);
    assert_eq!(a.stopped_by().and_then(|e| e.code()), Some("A"));
    assert!(matches!(a.into_result(), Err(Error::Partial(_))));
}
