//! The bulk engine against the emulator with injected faults (loopback only, bounded
//! sizes): 20 images x 30 accounts on Tencent CVM and Alibaba ECS with ~25 % of the share
//! calls throttled by a QPS quota, 5 % answered 5xx and some connections dropped.
//!
//! What is proven, through the emulator's inspection API (not the client's word):
//! - every grant is made exactly once: each image's grants are exactly the wanted set, with
//!   no duplicate, and the number of successful share calls is exactly the number of
//!   batches (nothing sent twice);
//! - every failure is reported per principal, and the report is the truth: a principal is
//!   reported granted if and only if the emulator holds its grant;
//! - cancellation leaves an accurate report (granted / not attempted) and starts nothing
//!   after it returns; running the job again completes it without duplicates;
//! - the client-side rate limiter keeps the request rate under the quota: with it, an
//!   emulator QPS quota never throttles; without it, the same job is throttled;
//! - the report accounts for every retry: its failed attempts per (provider, action) and
//!   reason are exactly the faults the emulator served during the job.

use imageshare::testing::ConnectEmulator;
use imageshare::ClientBuilder;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use imageshare::core::bulk::{Bulk, BulkOptions, BulkReport};
use imageshare::core::ratelimit::{Rate, RateLimits};
use imageshare::core::transport::{ClientOptions, RetryConfig, RetryCounts, RetryReason};
use imageshare::core::OutcomeKind;
use imageshare::core::{ImageId, Principal, Provider, Site};
use imageshare::{Connect, DynSharing};
use imageshare_emulator::world::{Encrypted, ImageSeed};
use imageshare_emulator::{Emulator, FaultEvent, FaultKind, FaultPlan, FaultRule, World};

const OWNER: &str = "100000000001";
const CVM_REGION: &str = "ap-guangzhou";
const ECS_REGION: &str = "cn-hangzhou";
const SHARE: &str = "ModifyImageSharePermission";

fn peers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("3000000000{i:02}")).collect()
}

fn cvm_images(n: usize) -> Vec<ImageId> {
    (0..n)
        .map(|i| ImageId::new(format!("img-bulk{i:04}")))
        .collect()
}

fn ecs_images(n: usize) -> Vec<ImageId> {
    (0..n)
        .map(|i| ImageId::new(format!("m-bulk{i:010}")))
        .collect()
}

/// An owner, 30 peers, 20 CVM and 20 ECS images, plus a few that cannot be shared.
fn world(faults: FaultPlan) -> World {
    let mut b = World::builder().account(OWNER, Site::China);
    for p in peers(30) {
        b = b.account(&p, Site::China);
    }
    for id in cvm_images(20) {
        b = b.image(ImageSeed::new(
            imageshare::tencent::CVM,
            id.as_str(),
            OWNER,
            CVM_REGION,
        ));
    }
    for id in ecs_images(20) {
        b = b.image(ImageSeed::new(
            imageshare::alibaba::ECS,
            id.as_str(),
            OWNER,
            ECS_REGION,
        ));
    }
    // Refused by the server (CVM does not say a image is encrypted, so the checker cannot).
    b = b.image(
        ImageSeed::new(imageshare::tencent::CVM, "img-encrypted", OWNER, CVM_REGION)
            .encrypted(Encrypted::Cmk),
    );
    // 25 grants already: 30 more would break ECS's 50 per image (refused by the checker).
    let first25: Vec<String> = (0..25).map(|i| format!("4000000000{i:02}")).collect();
    for p in &first25 {
        b = b.account(p, Site::China);
    }
    let refs: Vec<&str> = first25.iter().map(String::as_str).collect();
    b = b.image(
        ImageSeed::new(
            imageshare::alibaba::ECS,
            "m-crowded00000",
            OWNER,
            ECS_REGION,
        )
        .shared_with(&refs),
    );
    b.faults(faults).build().unwrap()
}

/// ~25 % of the share calls over the quota when the client sends at `client_rate`, 5 % 5xx
/// and 3 % dropped connections on them, 5 % 5xx and 2 % drops on every other action.
fn faulty(provider: Provider, quota: u32) -> FaultPlan {
    FaultPlan::seeded(20_240_601)
        .rule(
            FaultRule::new()
                .with_provider(provider)
                .with_action(SHARE)
                .with_qps(quota)
                .with_error_rate(0.05)
                .with_drop_rate(0.03),
        )
        .rule(
            FaultRule::new()
                .with_provider(provider)
                .with_error_rate(0.05)
                .with_drop_rate(0.02),
        )
}

fn fast_retry(max_attempts: u32) -> RetryConfig {
    RetryConfig {
        max_attempts,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        multiplier: 2.0,
        max_elapsed: Some(Duration::from_secs(30)),
    }
}

fn connect(
    emu: &Emulator,
    provider: Provider,
    table: RateLimits,
    retry: RetryConfig,
) -> DynSharing {
    let region = match provider {
        imageshare::tencent::CVM => CVM_REGION,
        _ => ECS_REGION,
    };
    Connect::new(provider)
        .region(region)
        .emulator(emu, OWNER)
        .retry(retry)
        .rate_limits(table)
        .build()
        .unwrap()
}

fn principals(ids: &[String]) -> Vec<Principal> {
    ids.iter().map(|p| Principal::account(p.as_str())).collect()
}

/// The emulator's grants of `id`, with a check that none is duplicated.
fn grants(emu: &Emulator, id: &ImageId) -> BTreeSet<String> {
    let g = emu.grants(id.as_str());
    let set: BTreeSet<String> = g.iter().map(|g| g.principal.clone()).collect();
    assert_eq!(set.len(), g.len(), "{id}: duplicate grant");
    set
}

/// Successful calls of `action` (no error, not dropped).
fn successful(emu: &Emulator, provider: Provider, action: &str) -> usize {
    emu.calls()
        .iter()
        .filter(|c| c.provider == provider && c.action == action && c.error.is_none())
        .count()
}

/// Every entry agrees with the emulator: granted or already granted <=> grant held.
fn assert_report_is_the_truth(emu: &Emulator, report: &BulkReport) {
    for e in report.entries() {
        let held = grants(emu, &e.op.image).contains(e.principal.id());
        let says = matches!(e.outcome.label(), "granted" | "already-granted");
        assert_eq!(held, says, "{} {}: {}", e.op.image, e.principal, e.outcome);
    }
}

/// The failed attempts a client sees for each fault the emulator serves.
fn reason(kind: FaultKind) -> RetryReason {
    match kind {
        FaultKind::Throttle => RetryReason::Throttled,
        FaultKind::ServerError => RetryReason::ServerError,
        FaultKind::Drop => RetryReason::Connection,
        other => panic!("no retry reason for the fault kind {other:?}: add one here"),
    }
}

/// The report's failed attempts per (provider, action) equal the faults the emulator
/// served on the calls of the job (`served`): every retry, and every attempt given up,
/// is accounted for.
fn assert_retries_accounted(served: &[FaultEvent], report: &BulkReport) {
    let mut want: BTreeMap<(Provider, String), RetryCounts> = BTreeMap::new();
    for f in served {
        want.entry((f.provider, f.action.clone()))
            .or_default()
            .add(reason(f.kind));
    }
    let got: BTreeMap<(Provider, String), RetryCounts> = report
        .retries()
        .actions()
        .iter()
        .map(|a| ((a.provider, a.action.clone()), a.failed_attempts()))
        .collect();
    assert_eq!(got, want, "report retries vs faults served");
    let summary = report.retry_summary();
    let mut total = summary.retried;
    total.merge(&summary.gave_up);
    assert_eq!(total.total(), served.len() as u64, "{summary}");
}

fn share_faults(emu: &Emulator, provider: Provider) -> (usize, usize, usize) {
    let f: Vec<_> = emu
        .faults_served()
        .into_iter()
        .filter(|f| f.provider == provider && f.action == SHARE)
        .collect();
    let n = |k| f.iter().filter(|e| e.kind == k).count();
    (
        n(FaultKind::Throttle),
        n(FaultKind::ServerError),
        n(FaultKind::Drop),
    )
}

async fn every_grant_once_under_faults(provider: Provider) {
    let quota = 30;
    let emu = Emulator::start(world(faulty(provider, quota)))
        .await
        .unwrap();
    // The client is let through at 1.45 x the quota on the share action, so about a quarter
    // of those calls are throttled; the reads get 40/s.
    let table = RateLimits::new()
        .with(SHARE, Rate::per_second(quota as f64 * 1.45))
        .with_default(Some(Rate::per_second(40.0)));
    let sharing = connect(&emu, provider, table, fast_retry(10));
    let ids = match provider {
        imageshare::tencent::CVM => cvm_images(20),
        _ => ecs_images(20),
    };
    let to = principals(&peers(30));
    let started = Instant::now();
    let report = Bulk::with_options(BulkOptions {
        concurrency: 8,
        retry_passes: 1,
    })
    .share_all(&sharing, ids.clone(), &to)
    .run()
    .await;
    let elapsed = started.elapsed();

    assert!(
        report.is_complete(),
        "{report}: {:?}",
        report.failures().next()
    );
    assert_eq!(
        report.count(imageshare::core::OutcomeKind::Granted),
        20 * 30,
        "{report}"
    );
    let want: BTreeSet<String> = peers(30).into_iter().collect();
    for id in &ids {
        assert_eq!(grants(&emu, id), want, "{id}");
    }
    // Batches of 10: 3 per image, each applied exactly once (faults are served before the
    // request reaches the engine, so a retried call never lands twice).
    assert_eq!(successful(&emu, provider, SHARE), 20 * 3);
    assert_report_is_the_truth(&emu, &report);
    // Nothing ran before the job: every fault served is one of its failed attempts.
    assert_retries_accounted(&emu.faults_served(), &report);
    assert!(report.retry_summary().retried.throttled > 0, "{report}");

    // The faults did happen, in the proportions asked for.
    let (throttled, errors, drops) = share_faults(&emu, provider);
    let sent = emu.action_count(provider, SHARE);
    let others = emu
        .faults_served()
        .iter()
        .filter(|f| f.provider == provider && f.action != SHARE)
        .count();
    eprintln!(
        "{provider}: {} grants in {elapsed:?}; {SHARE}: {sent} sent, {throttled} throttled, \
         {errors} 5xx, {drops} dropped; {others} faults on reads",
        report.count(imageshare::core::OutcomeKind::Granted)
    );
    let share = throttled as f64 / sent as f64;
    assert!(
        // The quota throttles what the client sends above it; the first retry after a
        // throttling answer reuses its permit, so some retries meet a full window again.
        (0.15..=0.50).contains(&share),
        "throttled {throttled} of {sent}"
    );
    assert!(errors + drops > 0, "no 5xx or drop served on {SHARE}");
    assert!(others > 0, "no fault served on the read actions");
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cvm_every_grant_made_exactly_once_under_faults() {
    every_grant_once_under_faults(imageshare::tencent::CVM).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_every_grant_made_exactly_once_under_faults() {
    every_grant_once_under_faults(imageshare::alibaba::ECS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_is_reported_per_principal() {
    let emu = Emulator::start(world(faulty(imageshare::tencent::CVM, 40)))
        .await
        .unwrap();
    let fast = RateLimits::new().with_default(Some(Rate::per_second(60.0)));
    // Few attempts and no retry pass: some retryable faults surface as failures.
    let cvm = connect(&emu, imageshare::tencent::CVM, fast.clone(), fast_retry(2));
    let ecs = connect(&emu, imageshare::alibaba::ECS, fast, fast_retry(3));
    let to = principals(&peers(30));
    let cvm_ids = cvm_images(10);
    // Accounts the world does not have: the checker cannot know it, CVM refuses the first
    // batch with InvalidAccountId.NotFound, which is not retried. (The encrypted image,
    // this test's refusal before, is now refused by the checker: CBS reports it.)
    let strangers: Vec<String> = (0..30).map(|i| format!("5000000000{i:02}")).collect();
    let report = Bulk::new()
        .retry_passes(0)
        .share_all(&cvm, cvm_ids.clone(), &to)
        .share(&cvm, "img-bulk0010", &principals(&strangers))
        .share(&cvm, "img-missing", &to)
        .share(&ecs, "m-crowded00000", &to)
        .run()
        .await;
    assert_eq!(report.len(), 13 * 30);
    let op = |id: &str| report.ops.iter().find(|o| o.image.as_str() == id).unwrap();
    // Only a refusal that is not retried stops an image's remaining batches (#17 bug 6):
    // the one naming unknown accounts.
    let refused = op("img-bulk0010");
    assert_eq!(report.not_attempted_count(), refused.not_attempted.len());
    // Every entry is accounted for: an outcome per principal, nothing silent.
    let labelled: usize = [
        OutcomeKind::Granted,
        OutcomeKind::AlreadyGranted,
        OutcomeKind::Failed,
    ]
    .into_iter()
    .map(|k| report.count(k))
    .sum();
    assert_eq!(
        labelled + report.not_attempted_count(),
        report.len(),
        "{report}"
    );
    // The server's refusal, verbatim, for each principal sent; after it, nothing more.
    assert_eq!(
        refused.report.count(imageshare::core::OutcomeKind::Failed) + refused.not_attempted.len(),
        30
    );
    assert!(refused
        .report
        .failures()
        .all(|(_, e)| e.code() == Some("InvalidAccountId.NotFound") || e.is_retryable()));
    if !refused.not_attempted.is_empty() {
        assert!(refused
            .report
            .failures()
            .any(|(_, e)| e.code() == Some("InvalidAccountId.NotFound")));
    }
    // Not found, for each principal.
    let missing = op("img-missing");
    assert_eq!(
        missing.report.count(imageshare::core::OutcomeKind::Failed),
        30
    );
    // The checker's refusal (25 + 30 > 50), before any share call for that image.
    let crowded = op("m-crowded00000");
    assert_eq!(
        crowded.report.count(imageshare::core::OutcomeKind::Failed),
        30
    );
    assert!(
        crowded.error.as_ref().and_then(|e| e.as_limit()).is_some()
            || crowded.error.as_ref().is_some_and(|e| e.is_retryable())
    );
    assert_eq!(grants(&emu, &"m-crowded00000".into()).len(), 25);
    // Whatever the faults did to the 10 good images, the report says exactly what holds.
    assert_report_is_the_truth(&emu, &report);
    // With 2 attempts and no retry pass, the faults that ended a call are reported as
    // given up, and still accounted for.
    assert_retries_accounted(&emu.faults_served(), &report);
    assert_eq!(report.retry_passes(), 0);
    let failed_good: usize = cvm_ids
        .iter()
        .map(|id| {
            op(id.as_str())
                .report
                .count(imageshare::core::OutcomeKind::Failed)
        })
        .sum();
    for (image, _, p, e) in report.failures() {
        if cvm_ids.contains(image) {
            assert!(e.is_retryable(), "{image} {p}: {e}");
        }
    }
    let gave_up = report.retry_summary().gave_up.total();
    assert!(
        failed_good == 0 || gave_up > 0,
        "{failed_good} retryable failures but no attempt given up"
    );
    eprintln!(
        "failures: {} in all, {failed_good} on shareable images (retryable faults after 2 \
         attempts); retries: {}",
        report.count(imageshare::core::OutcomeKind::Failed),
        report.retry_summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_leaves_an_accurate_report() {
    let emu = Emulator::start(world(
        FaultPlan::seeded(3).rule(
            FaultRule::new()
                .with_provider(imageshare::tencent::CVM)
                .with_error_rate(0.05),
        ),
    ))
    .await
    .unwrap();
    let table = RateLimits::new()
        .with(SHARE, Rate::per_second(30.0))
        .with_default(Some(Rate::per_second(60.0)));
    let cvm = connect(&emu, imageshare::tencent::CVM, table, fast_retry(10));
    let ids = cvm_images(20);
    let to = principals(&peers(30));
    // 60 share calls at 30/s take 2 s: cancel after 0.6 s.
    let started = Instant::now();
    let report = Bulk::new()
        .concurrency(4)
        .share_all(&cvm, ids.clone(), &to)
        .run_until(tokio::time::sleep(Duration::from_millis(600)))
        .await;
    let returned = started.elapsed();
    assert!(report.cancelled);
    assert!(returned < Duration::from_millis(1600), "{returned:?}");
    let calls = emu.action_count(imageshare::tencent::CVM, SHARE);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        emu.action_count(imageshare::tencent::CVM, SHARE),
        calls,
        "nothing is sent after the report is returned"
    );
    assert_eq!(report.len(), 20 * 30);
    let (granted, skipped) = (
        report.count(imageshare::core::OutcomeKind::Granted),
        report.not_attempted_count(),
    );
    assert!(granted > 0 && skipped > 0, "{report}");
    assert_eq!(
        granted + skipped + report.count(imageshare::core::OutcomeKind::Failed),
        20 * 30
    );
    assert_report_is_the_truth(&emu, &report);
    for (image, _, p) in report.not_attempted() {
        assert!(!grants(&emu, image).contains(p.id()));
    }
    eprintln!("cancelled after {returned:?}: {report}");

    // Running the job again completes it: what was done is found, nothing is duplicated.
    let rest = Bulk::new()
        .concurrency(8)
        .share_all(&cvm, ids.clone(), &to)
        .run()
        .await;
    assert!(rest.is_complete(), "{rest}");
    assert_eq!(
        rest.count(imageshare::core::OutcomeKind::AlreadyGranted),
        granted
    );
    let want: BTreeSet<String> = peers(30).into_iter().collect();
    for id in &ids {
        assert_eq!(grants(&emu, id), want);
    }
    assert_eq!(successful(&emu, imageshare::tencent::CVM, SHARE), 20 * 3);
}

/// A share-only job of `images` x 30 accounts through `sharing`; returns the throttles the
/// emulator served on the share action and the wall time.
async fn quota_run(emu: &Emulator, sharing: &DynSharing, ids: &[ImageId]) -> (usize, Duration) {
    let started = Instant::now();
    let report = Bulk::new()
        .concurrency(8)
        .share_all(sharing, ids.to_vec(), &principals(&peers(30)))
        .run()
        .await;
    let elapsed = started.elapsed();
    assert!(report.is_complete(), "{report}");
    let throttled = emu
        .faults_served()
        .iter()
        .filter(|f| f.action == SHARE && f.kind == FaultKind::Throttle)
        .count();
    (throttled, elapsed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limiter_keeps_under_the_quota() {
    // The emulator enforces 25 share calls/s (sliding one-second window), nothing else.
    let quota = 25;
    let plan = FaultPlan::seeded(1).rule(
        FaultRule::new()
            .with_provider(imageshare::tencent::CVM)
            .with_action(SHARE)
            .with_qps(quota),
    );
    let ids = cvm_images(12); // 36 share calls

    // With the limiter at 90 % of the quota: never throttled, and paced at the rate.
    let emu = Emulator::start(world(plan.clone())).await.unwrap();
    let rate = quota as f64 * 0.9;
    let table = RateLimits::new()
        .with(SHARE, Rate::per_second(rate))
        .with_default(Some(Rate::per_second(100.0)));
    let cvm = connect(&emu, imageshare::tencent::CVM, table, fast_retry(10));
    let (throttled, elapsed) = quota_run(&emu, &cvm, &ids).await;
    assert_eq!(throttled, 0, "the client exceeded the quota");
    let floor = Duration::from_secs_f64(35.0 / rate);
    assert!(elapsed >= floor, "{elapsed:?} < {floor:?}");
    assert!(
        elapsed < floor * 2,
        "{elapsed:?} far above the floor {floor:?}"
    );
    eprintln!("limited at {rate}/s: 36 calls in {elapsed:?} (floor {floor:?}), 0 throttled");

    // Without the limiter the same job is throttled by the same quota.
    let emu = Emulator::start(world(plan)).await.unwrap();
    let cvm = Connect::new(imageshare::tencent::CVM)
        .region(CVM_REGION)
        .emulator(&emu, OWNER)
        .retry(fast_retry(20))
        .client_options(ClientOptions::default().without_rate_limiter())
        .build()
        .unwrap();
    let (throttled, elapsed) = quota_run(&emu, &cvm, &ids).await;
    assert!(throttled > 0, "the quota did not bite without the limiter");
    eprintln!("unlimited: 36 calls in {elapsed:?}, {throttled} throttled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_defaults_pace_cvm_shares_at_ten_per_second() {
    // CVM's published quota for ModifyImageSharePermission is 10/s; the default table holds
    // the client to it. 4 images x 30 accounts = 12 share calls: at least 1.1 s.
    let plan = FaultPlan::seeded(1).rule(
        FaultRule::new()
            .with_provider(imageshare::tencent::CVM)
            .with_action(SHARE)
            .with_qps(10),
    );
    let emu = Emulator::start(world(plan)).await.unwrap();
    let cvm = Connect::new(imageshare::tencent::CVM)
        .region(CVM_REGION)
        .emulator(&emu, OWNER)
        .retry(fast_retry(10))
        .build()
        .unwrap();
    assert_eq!(
        Connect::default_rate_limits(imageshare::tencent::CVM)
            .unwrap()
            .rate(SHARE),
        Some(Rate::per_second(10.0))
    );
    let (throttled, elapsed) = quota_run(&emu, &cvm, &cvm_images(4)).await;
    assert!(elapsed >= Duration::from_millis(1090), "{elapsed:?}");
    // Spaced exactly at the quota, loopback jitter may at worst make the server's sliding
    // window see one request early; the transport retries it.
    assert!(
        throttled <= 1,
        "{throttled} throttled at the published rate"
    );
    eprintln!("defaults: 12 calls in {elapsed:?}, {throttled} throttled");
}
