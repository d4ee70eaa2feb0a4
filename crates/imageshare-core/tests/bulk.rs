//! The bulk engine over `InMemorySharing` behind the limit checker: batching by the
//! per-call maximum, every grant made once, failures reported per principal (and retried
//! when retryable), bounded concurrency, and cancellation that leaves an accurate report.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use imageshare_core::bulk::{Bulk, BulkOp, BulkOptions};
use imageshare_core::memory::InMemorySharing;
use imageshare_core::memory::EXAMPLE_LIMITS;
use imageshare_core::plan;
use imageshare_core::{
    ApiError, CallContext, Checked, Encryption, Error, Image, ImageId, ImageSharing,
    ImageSharingExt, Layer, LimitRule, Principal, Provider, Result, ShareLimits, ShareOutcome,
    ShareReport,
};

const OWNER: &str = "1000000001";

const TABLE: ShareLimits = EXAMPLE_LIMITS.with_provider(Provider::new("alibaba-ecs"));

fn image(id: &str) -> Image {
    Image::new(id, "cn-hangzhou")
        .with_name("golden")
        .with_owner(Some(Principal::account(OWNER)))
        .with_encryption(Encryption::None)
}

fn images(n: usize) -> Vec<ImageId> {
    (0..n).map(|i| ImageId::new(format!("m-{i:03}"))).collect()
}

fn accounts(n: usize) -> Vec<Principal> {
    (0..n)
        .map(|i| Principal::account(format!("20000{i:05}")))
        .collect()
}

fn api_error(code: &str, retryable: bool) -> Error {
    Error::from(
        ApiError::new(
            Provider::new("alibaba-ecs"),
            "ModifyImageSharePermission",
            if retryable { 503 } else { 400 },
            code,
            "injected",
        )
        .with_request_id(Some("req-1".into()))
        .with_retry(retryable.then_some(if code.starts_with("Throttling") {
            imageshare_core::transport::RetryReason::Throttled
        } else {
            imageshare_core::transport::RetryReason::ServerError
        })),
    )
}

/// An in-memory backend with latency, failures by image, and an in-flight gauge.
#[derive(Debug)]
struct Faulty {
    inner: InMemorySharing,
    delay: Duration,
    /// image -> errors its next share/unshare calls return, in order.
    failures: Mutex<BTreeMap<ImageId, Vec<Error>>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Faulty {
    fn new(n_images: usize, delay: Duration) -> Self {
        let inner = InMemorySharing::new("cn-hangzhou", TABLE);
        for id in images(n_images) {
            inner.add_image(image(id.as_str()));
        }
        Self {
            inner,
            delay,
            failures: Mutex::new(BTreeMap::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        }
    }
    fn fail(&self, id: &str, errors: Vec<Error>) {
        self.failures.lock().unwrap().insert(id.into(), errors);
    }
    async fn mutate(
        &self,
        id: &ImageId,
        f: impl std::future::Future<Output = Result<ShareReport>>,
    ) -> Result<ShareReport> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        let injected = {
            let mut f = self.failures.lock().unwrap();
            f.get_mut(id)
                .and_then(|v| (!v.is_empty()).then(|| v.remove(0)))
        };
        let out = match injected {
            Some(e) => Err(e),
            None => f.await,
        };
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        out
    }
}

#[async_trait]
impl Layer for Faulty {
    type Inner = InMemorySharing;
    fn inner(&self) -> &InMemorySharing {
        &self.inner
    }
    async fn share_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        to: &[Principal],
    ) -> Result<ShareReport> {
        self.mutate(id, self.inner.share_in(cx, id, to)).await
    }
    async fn unshare_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        from: &[Principal],
    ) -> Result<ShareReport> {
        self.mutate(id, self.inner.unshare_in(cx, id, from)).await
    }
}
imageshare_core::impl_image_sharing_for_layer!([] Faulty);

/// Each image's grants hold no duplicate and equal `want`.
fn assert_grants(backend: &InMemorySharing, id: &ImageId, want: &BTreeSet<Principal>) {
    let grants = backend.grants(id);
    let set: BTreeSet<Principal> = grants.iter().cloned().collect();
    assert_eq!(
        set.len(),
        grants.len(),
        "{id}: duplicate grant in {grants:?}"
    );
    assert_eq!(&set, want, "{id}");
}

#[tokio::test]
async fn shares_many_images_in_batches_each_grant_once() {
    let checked = Checked::new(Faulty::new(20, Duration::ZERO));
    let ids = images(20);
    let to = accounts(30);
    // Some grants exist already: they are reported, not sent.
    checked.inner().inner.seed_grants(&ids[0], to[..5].to_vec());

    let report = Bulk::new()
        .concurrency(4)
        .share_all(&checked, ids.clone(), &to)
        .run()
        .await;
    assert!(report.is_complete(), "{report}");
    assert!(!report.cancelled);
    assert_eq!(report.len(), 20 * 30);
    assert_eq!(
        report.count(imageshare_core::OutcomeKind::AlreadyGranted),
        5
    );
    assert_eq!(
        report.count(imageshare_core::OutcomeKind::Granted),
        20 * 30 - 5
    );
    assert_eq!(report.granted().count(), 20 * 30 - 5);
    let backend = &checked.inner().inner;
    // Batches of at most 10: 3 calls per image (10 + 10 + 10, or 10 + 10 + 5 for the image
    // with 5 already granted, which are not sent).
    let batches = backend.share_batches();
    assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 10));
    assert_eq!(batches.len(), 20 * 3);
    assert!(batches
        .iter()
        .all(|b| b.iter().all(|p| !to[..5].contains(p)) || b.len() == 10));
    assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 20 * 30 - 5);
    let want: BTreeSet<Principal> = to.iter().cloned().collect();
    for id in &ids {
        assert_grants(backend, id, &want);
    }

    // A second run sends nothing and reports every grant as already there.
    let before = backend.calls().share;
    let again = Bulk::new().share_all(&checked, ids, &to).run().await;
    assert_eq!(
        again.count(imageshare_core::OutcomeKind::AlreadyGranted),
        20 * 30
    );
    assert_eq!(backend.calls().share, before);
}

#[tokio::test]
async fn failures_are_reported_per_principal_and_retryable_ones_retried() {
    let checked = Checked::new(Faulty::new(6, Duration::ZERO));
    let ids = images(6);
    let to = accounts(25); // 3 batches: 10, 10, 5
    let f = checked.inner();
    // m-001: every batch of the first pass fails with a retryable error; the retry pass
    // (which re-reads the sharees) grants them all.
    f.fail(
        "m-001",
        vec![
            api_error("ServiceUnavailable", true),
            api_error("ServiceUnavailable", true),
            api_error("ServiceUnavailable", true),
        ],
    );
    // m-002: the first batch fails for good (not retryable), which stops the others
    // (#17 bug 6).
    f.fail("m-002", vec![api_error("InvalidAccount.NotFound", false)]);
    // m-003: does not exist.
    f.inner.delete(&"m-003".into()).await.unwrap();
    // m-004: a retryable failure that outlasts the retry pass.
    f.fail(
        "m-004",
        (0..6).map(|_| api_error("Throttling.User", true)).collect(),
    );

    let report = Bulk::with_options(BulkOptions {
        concurrency: 3,
        retry_passes: 1,
    })
    .share_all(&checked, ids.clone(), &to)
    .run()
    .await;
    assert_eq!(report.len(), 6 * 25);
    let by_image: BTreeMap<&ImageId, _> = report.ops.iter().map(|o| (&o.image, o)).collect();

    // m-000 and m-005: clean.
    for id in ["m-000", "m-005"] {
        let op = by_image[&ImageId::from(id)];
        assert!(op.is_complete() && op.passes == 1, "{id}: {:?}", op.report);
        assert_eq!(op.report.count(imageshare_core::OutcomeKind::Granted), 25);
    }
    // m-001: granted on the second pass.
    let op = by_image[&ImageId::from("m-001")];
    assert_eq!(op.passes, 2);
    assert_eq!(
        op.report.count(imageshare_core::OutcomeKind::Granted),
        25,
        "{}",
        op.report
    );
    assert!(op.error.is_none());
    // m-002: the first 10 failed with the provider's code; the refusal is not retried and
    // stops the image's other batches: the other 15 were not attempted; no retry pass.
    let op = by_image[&ImageId::from("m-002")];
    assert_eq!(op.passes, 1);
    assert_eq!(op.report.count(imageshare_core::OutcomeKind::Failed), 10);
    assert_eq!(op.report.count(imageshare_core::OutcomeKind::Granted), 0);
    assert_eq!(op.not_attempted, &to[10..]);
    for (p, e) in op.report.failures() {
        assert!(to[..10].contains(p));
        assert_eq!(e.code(), Some("InvalidAccount.NotFound"));
    }
    // Nothing changed: the step fails with the refusal itself, and its report says why
    // the rest was not sent.
    assert_eq!(
        op.failure().as_deref().and_then(Error::code),
        Some("InvalidAccount.NotFound")
    );
    assert_eq!(op.report.not_attempted(), &to[10..]);
    // m-003: not found, every principal failed with it, nothing sent.
    let op = by_image[&ImageId::from("m-003")];
    assert_eq!(op.report.count(imageshare_core::OutcomeKind::Failed), 25);
    assert!(matches!(op.error.as_deref(), Some(Error::NotFound { .. })));
    // m-004: still failing after the retry pass: every principal failed, with the code.
    let op = by_image[&ImageId::from("m-004")];
    assert_eq!(op.passes, 2);
    assert_eq!(op.report.count(imageshare_core::OutcomeKind::Failed), 25);
    assert!(op
        .report
        .failures()
        .all(|(_, e)| e.code() == Some("Throttling.User")));

    // Every failure is in the report, and the report matches the backend exactly.
    assert_eq!(report.failures().count(), 10 + 25 + 25);
    assert_eq!(report.count(imageshare_core::OutcomeKind::Failed), 60);
    assert_eq!(report.not_attempted_count(), 15);
    for entry in report.entries() {
        let granted = f.inner.grants(&entry.op.image).contains(entry.principal);
        assert_eq!(
            granted,
            entry.outcome.label() == "granted",
            "{} {}: {}",
            entry.op.image,
            entry.principal,
            entry.outcome
        );
    }
    for id in &ids {
        let g = f.inner.grants(id);
        let set: BTreeSet<_> = g.iter().collect();
        assert_eq!(set.len(), g.len(), "duplicate grant on {id}");
    }
}

#[tokio::test]
async fn limit_violations_fail_the_image_without_a_request() {
    let checked = Checked::new(Faulty::new(2, Duration::ZERO));
    let to = accounts(51); // over the 50-per-image maximum
    let report = Bulk::new()
        .share(&checked, "m-000", &to)
        .share(&checked, "m-001", &to[..3])
        .run()
        .await;
    let op = &report.ops[0];
    assert_eq!(op.report.count(imageshare_core::OutcomeKind::Failed), 51);
    assert_eq!(
        op.error.as_ref().and_then(|e| e.as_limit()).map(|l| l.rule),
        Some(LimitRule::MaxShareesPerImage)
    );
    assert_eq!(op.passes, 1, "a limit violation is not retried");
    assert_eq!(
        report.ops[1]
            .report
            .count(imageshare_core::OutcomeKind::Granted),
        3
    );
    assert_eq!(checked.inner().inner.calls().share, 1);
}

#[tokio::test]
async fn concurrency_is_bounded_across_images() {
    let checked = Checked::new(Faulty::new(12, Duration::from_millis(15)));
    let report = Bulk::new()
        .concurrency(3)
        .share_all(&checked, images(12), &accounts(10))
        .run()
        .await;
    assert!(report.is_complete());
    let max = checked.inner().max_in_flight.load(Ordering::SeqCst);
    assert!((2..=3).contains(&max), "max in flight {max}");
}

#[tokio::test]
async fn cancellation_stops_new_work_and_reports_what_was_done() {
    let checked = Checked::new(Faulty::new(20, Duration::from_millis(20)));
    let ids = images(20);
    let to = accounts(25); // 3 calls per image, ~60 ms per image
    let (tx, mut rx) = tokio::sync::watch::channel(false);
    let progress = AtomicUsize::new(0);
    let job = Bulk::new()
        .concurrency(2)
        .on_progress(|op| {
            assert_eq!(op.op, BulkOp::Share);
            progress.fetch_add(1, Ordering::SeqCst);
        })
        .share_all(&checked, ids.clone(), &to)
        .run_until(async move {
            let _ = rx.wait_for(|c| *c).await;
        });
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        tx.send(true).unwrap();
    };
    let (report, ()) = tokio::join!(job, cancel);
    assert!(report.cancelled);
    let backend = &checked.inner().inner;
    let calls_at_return = backend.calls().share;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        backend.calls().share,
        calls_at_return,
        "nothing runs after the report is returned"
    );

    // Some images were done, some never started; none is half-reported.
    let done: Vec<_> = report.ops.iter().filter(|o| o.passes > 0).collect();
    let skipped: Vec<_> = report.ops.iter().filter(|o| o.passes == 0).collect();
    assert!(!done.is_empty() && !skipped.is_empty(), "{report}");
    assert_eq!(done.len() + skipped.len(), 20);
    assert_eq!(progress.load(Ordering::SeqCst), done.len());
    assert_eq!(
        report.count(imageshare_core::OutcomeKind::Granted),
        done.len() * 25
    );
    assert_eq!(report.not_attempted_count(), skipped.len() * 25);
    assert_eq!(report.len(), 20 * 25);
    // The report is the truth: granted <=> the backend holds the grant.
    for entry in report.entries() {
        let held = backend.grants(&entry.op.image).contains(entry.principal);
        assert_eq!(held, entry.outcome.label() == "granted");
    }
    assert_eq!(report.not_attempted().count(), skipped.len() * 25);
    assert!(report.summary().contains("not-attempted"), "{report}");

    // Running the same job again finishes the rest and changes nothing already done.
    let rest = Bulk::new()
        .concurrency(4)
        .share_all(&checked, ids.clone(), &to)
        .run()
        .await;
    assert!(rest.is_complete());
    assert_eq!(
        rest.count(imageshare_core::OutcomeKind::AlreadyGranted),
        done.len() * 25
    );
    assert_eq!(
        rest.count(imageshare_core::OutcomeKind::Granted),
        skipped.len() * 25
    );
    let want: BTreeSet<Principal> = to.iter().cloned().collect();
    for id in &ids {
        assert_grants(backend, id, &want);
    }
}

#[tokio::test]
async fn a_plan_unshares_first_and_skips_the_share_when_the_unshare_fails() {
    let checked = Checked::new(Faulty::new(2, Duration::ZERO));
    let f = checked.inner();
    let old = accounts(3);
    let new = &accounts(6)[3..];
    for id in images(2) {
        f.inner.seed_grants(&id, old.clone());
    }
    let desired: Vec<Principal> = new.to_vec();
    let plan0 = plan::plan(&checked, &"m-000".into(), &desired, true)
        .await
        .unwrap();
    let plan1 = plan::plan(&checked, &"m-001".into(), &desired, true)
        .await
        .unwrap();
    f.fail("m-001", vec![api_error("InvalidParameter", false)]);
    let report = Bulk::new()
        .plan(&checked, &plan0)
        .plan(&checked, &plan1)
        .run()
        .await;
    let ops: Vec<(String, BulkOp, String)> = report
        .ops
        .iter()
        .map(|o| (o.image.to_string(), o.op, o.report.summary()))
        .collect();
    assert_eq!(
        ops,
        [
            ("m-000".into(), BulkOp::Unshare, "3 revoked".into()),
            ("m-000".into(), BulkOp::Share, "3 granted".into()),
            ("m-001".into(), BulkOp::Unshare, "3 failed".into()),
            ("m-001".into(), BulkOp::Share, "nothing to do".into()),
        ]
    );
    assert_eq!(report.ops[3].not_attempted, new.to_vec());
    assert_grants(&f.inner, &"m-000".into(), &new.iter().cloned().collect());
    assert_grants(&f.inner, &"m-001".into(), &old.iter().cloned().collect());
    assert!(matches!(
        report.ops[2].report.outcome(&old[0]),
        Some(ShareOutcome::Failed(_))
    ));
}

#[tokio::test]
async fn duplicates_and_empty_steps() {
    let checked = Checked::new(Faulty::new(1, Duration::ZERO));
    let a = accounts(2);
    let report = Bulk::new()
        .share(
            &checked,
            "m-000",
            &[a[0].clone(), a[1].clone(), a[0].clone()],
        )
        .share(&checked, "m-000", &[])
        .run()
        .await;
    assert_eq!(report.ops.len(), 1, "an empty step is left out");
    assert_eq!(report.len(), 2);
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 2);
    assert!(Bulk::new().run().await.is_empty());
}

#[test]
fn a_job_can_be_spawned() {
    fn assert_send<T: Send>(_: &T) {}
    let checked = std::sync::Arc::new(Checked::new(Faulty::new(1, Duration::ZERO)));
    let job = {
        let checked = checked.clone();
        async move {
            Bulk::new()
                .share(&*checked, "m-000", &accounts(1))
                .run_until(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
        }
    };
    assert_send(&job);
}
