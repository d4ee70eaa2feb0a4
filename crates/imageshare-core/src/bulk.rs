//! The bulk fan-out engine: share (and unshare) many images with many principals, through
//! [`Checked`](crate::Checked) adapters, and report per `(image, principal)`.
//!
//! What does what:
//!
//! - **Batching** is the limit checker's: each image's principals go to one
//!   `Checked::share` / `Checked::unshare`, which dedupes, skips principals already granted
//!   (or not granted), checks every limit, and splits the rest into calls of the provider's
//!   per-call maximum. The engine never batches by itself.
//! - **Bounded concurrency** across images: at most [`BulkOptions::concurrency`] images are
//!   worked on at once (the batches of one image go one after the other, as the checker sends
//!   them).
//! - **Rate limits and retries** are the transport's: every attempt waits for a permit of
//!   its `(provider, action)` bucket and throttling / 5xx / dropped connections are retried
//!   with backoff. The engine adds [`BulkOptions::retry_passes`]: principals that still
//!   failed with a retryable error go through the checker once more, which re-reads the
//!   sharees first, so a grant whose answer was lost is found and never sent twice (and a
//!   share of an already-granted principal is a no-op on every cloud anyway).
//! - **Retry accounting**: each step runs in a [`RetryLog`] scope, so every failed attempt
//!   the transport saw (throttled, 5xx, connection, timeout; retried or given up) is in
//!   [`ImageOp::retries`], next to the engine's own [`ImageOp::retry_passes`];
//!   [`BulkReport::retries`] and [`BulkReport::retry_summary`] add them up.
//! - **Per-principal outcomes**: a [`BulkReport`] holds one [`ImageOp`] per image and
//!   operation, with the checker's [`ShareReport`] (granted, already-granted, revoked,
//!   not-granted, failed with its error) and the principals not attempted.
//! - **Cancellation**: [`Bulk::run_until`] takes any future as the signal (a
//!   `tokio::sync::watch` change, `CancellationToken::cancelled()`, `ctrl_c()`, a timer).
//!   Once it resolves no new image, step or retry pass is started; the images in flight
//!   finish the checker call they are in (so no request is abandoned with its effect
//!   unknown) and the report lists everything else as not attempted.
//!
//! ```
//! use imageshare_core::{
//!     bulk::Bulk, Checked, Image, ImageId, ImageKind, ImageOrigin, ImageState, Encryption,
//!     OutcomeKind, Principal, memory::InMemorySharing,
//! };
//! # use imageshare_core::memory::EXAMPLE_LIMITS as LIMITS;
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let backend = InMemorySharing::new("cn-hangzhou", LIMITS);
//! let images: Vec<ImageId> = (0..3).map(|i| ImageId::new(format!("m-{i}"))).collect();
//! for id in &images {
//!     backend.add_image(
//!         Image::new(id.clone(), "cn-hangzhou")
//!             .with_name("golden")
//!             .with_owner(Some(Principal::account("1000000001")))
//!             .with_state(ImageState::Available)
//!             .with_origin(ImageOrigin::Custom)
//!             .with_encryption(Encryption::None)
//!             .with_kind(ImageKind::SystemDisk),
//!     );
//! }
//! let checked = Checked::new(backend);
//! let to: Vec<Principal> = (0..25).map(|i| Principal::account(format!("20000000{i:02}"))).collect();
//!
//! let report = Bulk::new().concurrency(2).share_all(&checked, images.clone(), &to).run().await;
//! assert_eq!(report.count(OutcomeKind::Granted), 3 * 25);
//! assert!(report.is_complete());
//! // Three share calls per image (10 + 10 + 5), batched by the checker.
//! assert_eq!(checked.inner().calls().share, 3 * 3);
//! # });
//! ```

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;

use crate::context::CallContext;
use crate::error::Error;
use crate::model::{ImageId, OutcomeKind, Principal, Provider, Region, ShareOutcome, ShareReport};
use crate::plan::SharePlan;
use crate::sharing::ImageSharing;
use crate::transport::{RetryCounts, RetryLog};

/// Share or unshare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BulkOp {
    /// Grant access.
    Share,
    /// Revoke access.
    Unshare,
}

impl fmt::Display for BulkOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BulkOp::Share => "share",
            BulkOp::Unshare => "unshare",
        })
    }
}

/// How the engine runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkOptions {
    /// Images worked on at once (at least 1). Default 32. Each image runs its calls one
    /// after another, so this bounds how many calls can wait at once; it must cover the
    /// images sleeping out a throttling backoff or a 1 s `retry-after` while the others
    /// keep the rate limiter's bucket busy. Measured at 200 images x 50 accounts against a
    /// 50/s quota with 20 % of the calls throttled and 5 % answered 5xx
    /// (`benches/bulk_floor.rs`, ECS, the slower cloud): wall / floor 1.37 at 16, 1.26 at 32.
    /// Well under the transport's concurrency bound (64).
    pub concurrency: usize,
    /// Further passes over the principals of an image that failed with a retryable error
    /// after the transport's own retries (each pass re-reads the sharees through the
    /// checker). Default 2: when a third of the requests fail (a throttled cloud), about
    /// one call in 150 exhausts the transport's 5 attempts, and a job of a few thousand
    /// grants makes hundreds of calls.
    pub retry_passes: u32,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self {
            concurrency: 32,
            retry_passes: 2,
        }
    }
}

/// One unit of work: on one image, unshare some principals, then share others.
#[derive(Clone)]
pub struct BulkItem<'a> {
    /// The adapter (normally a [`Checked`](crate::Checked) one: batching and limits are the
    /// checker's).
    pub adapter: &'a dyn ImageSharing,
    /// The image.
    pub image: ImageId,
    /// Principals to unshare first (so the per-image maximum has room).
    pub unshare: Vec<Principal>,
    /// Principals to share with, once the unshare step has fully succeeded.
    pub share: Vec<Principal>,
}

impl fmt::Debug for BulkItem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkItem")
            .field("provider", &self.adapter.provider())
            .field("image", &self.image)
            .field("unshare", &self.unshare.len())
            .field("share", &self.share.len())
            .finish()
    }
}

type Progress<'a> = Box<dyn Fn(&ImageOp) + Send + Sync + 'a>;

/// A bulk job: items, options, and [`run`](Self::run) / [`run_until`](Self::run_until).
#[derive(Default)]
pub struct Bulk<'a> {
    items: Vec<BulkItem<'a>>,
    options: BulkOptions,
    progress: Option<Progress<'a>>,
    cx: CallContext,
}

impl fmt::Debug for Bulk<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulk")
            .field("items", &self.items)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<'a> Bulk<'a> {
    /// An empty job with the default options.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// An empty job with `options`.
    #[must_use]
    pub fn with_options(options: BulkOptions) -> Self {
        Self {
            options,
            ..Self::default()
        }
    }
    /// Images worked on at once (values below 1 become 1).
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.options.concurrency = n.max(1);
        self
    }
    /// Retry passes over retryable failures (see [`BulkOptions::retry_passes`]).
    #[must_use]
    pub fn retry_passes(mut self, n: u32) -> Self {
        self.options.retry_passes = n;
        self
    }
    /// The context every call of the job is made in (each image step collects its own
    /// retries under it, so a collector of `cx` sees the whole job's); a fresh one by
    /// default.
    #[must_use]
    pub fn context(mut self, cx: CallContext) -> Self {
        self.cx = cx;
        self
    }
    /// Called once per image and operation as soon as it is done (from the task running
    /// the job).
    #[must_use]
    pub fn on_progress(mut self, f: impl Fn(&ImageOp) + Send + Sync + 'a) -> Self {
        self.progress = Some(Box::new(f));
        self
    }
    /// Adds an item. Items run in any order; the unshare and share steps of one item run
    /// in that order.
    #[must_use]
    pub fn item(mut self, item: BulkItem<'a>) -> Self {
        self.items.push(item);
        self
    }
    /// Shares `image` with `to`.
    #[must_use]
    pub fn share(
        self,
        adapter: &'a dyn ImageSharing,
        image: impl Into<ImageId>,
        to: &[Principal],
    ) -> Self {
        self.item(BulkItem {
            adapter,
            image: image.into(),
            unshare: Vec::new(),
            share: to.to_vec(),
        })
    }
    /// Unshares `image` from `from`.
    #[must_use]
    pub fn unshare(
        self,
        adapter: &'a dyn ImageSharing,
        image: impl Into<ImageId>,
        from: &[Principal],
    ) -> Self {
        self.item(BulkItem {
            adapter,
            image: image.into(),
            unshare: from.to_vec(),
            share: Vec::new(),
        })
    }
    /// Shares every image of `images` with every principal of `to`.
    #[must_use]
    pub fn share_all(
        mut self,
        adapter: &'a dyn ImageSharing,
        images: impl IntoIterator<Item = ImageId>,
        to: &[Principal],
    ) -> Self {
        for image in images {
            self = self.share(adapter, image, to);
        }
        self
    }
    /// Unshares every image of `images` from every principal of `from`.
    #[must_use]
    pub fn unshare_all(
        mut self,
        adapter: &'a dyn ImageSharing,
        images: impl IntoIterator<Item = ImageId>,
        from: &[Principal],
    ) -> Self {
        for image in images {
            self = self.unshare(adapter, image, from);
        }
        self
    }
    /// Applies a [`SharePlan`] (its removals, then its additions); a no-op plan adds nothing.
    #[must_use]
    pub fn plan(self, adapter: &'a dyn ImageSharing, plan: &SharePlan) -> Self {
        if plan.is_noop() {
            return self;
        }
        self.item(BulkItem {
            adapter,
            image: plan.image.clone(),
            unshare: plan.remove.clone(),
            share: plan.add.clone(),
        })
    }
    /// Number of items.
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// True when there are no items.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Runs every item to the end.
    pub async fn run(self) -> BulkReport {
        self.run_until(std::future::pending()).await
    }

    /// Runs until every item is done or `cancel` resolves, whichever comes first; see the
    /// module docs for what cancellation leaves behind.
    pub async fn run_until(self, cancel: impl Future<Output = ()>) -> BulkReport {
        let started = Instant::now();
        let Bulk {
            items,
            options,
            progress,
            cx,
        } = self;
        let concurrency = options.concurrency.max(1);
        let cancelled = AtomicBool::new(false);
        let mut results: Vec<Option<Vec<ImageOp>>> = (0..items.len()).map(|_| None).collect();
        let mut in_flight = FuturesUnordered::new();
        let mut pending = items.iter().enumerate();
        let progress = progress.as_deref();
        let mut cancel = std::pin::pin!(cancel);
        loop {
            while !cancelled.load(Ordering::Relaxed) && in_flight.len() < concurrency {
                match pending.next() {
                    Some((i, item)) => {
                        let (cancelled, options, cx) = (&cancelled, &options, &cx);
                        in_flight.push(async move {
                            (i, run_item(cx, item, options, cancelled, progress).await)
                        });
                    }
                    None => break,
                }
            }
            if in_flight.is_empty() {
                break;
            }
            tokio::select! {
                biased;
                _ = &mut cancel, if !cancelled.load(Ordering::Relaxed) => {
                    tracing::debug!(in_flight = in_flight.len(), "bulk job cancelled");
                    cancelled.store(true, Ordering::Relaxed);
                }
                Some((i, ops)) = in_flight.next() => results[i] = Some(ops),
            }
        }
        let mut ops = Vec::new();
        for (item, result) in items.iter().zip(results) {
            match result {
                Some(r) => ops.extend(r),
                None => ops.extend(not_started(item)),
            }
        }
        BulkReport {
            ops,
            cancelled: cancelled.load(Ordering::Relaxed),
            elapsed: started.elapsed(),
        }
    }
}

/// What one step (unshare or share) of one image came to.
#[derive(Debug, Clone)]
pub struct ImageOp {
    /// The adapter's provider.
    pub provider: Provider,
    /// The adapter's region.
    pub region: Region,
    /// The image.
    pub image: ImageId,
    /// Share or unshare.
    pub op: BulkOp,
    /// Outcome of every principal that was attempted, in request order (deduplicated):
    /// the checker's outcomes of the last pass that included it.
    pub report: ShareReport,
    /// Principals not attempted: the job was cancelled first, (share step) the unshare
    /// step of the same image failed, or a batch of the step was refused with an error
    /// that is not retried, which stops the step's remaining batches.
    pub not_attempted: Vec<Principal>,
    /// The error of the whole step when its last pass failed as a whole (image lookup,
    /// a limit, every batch failed); the failed principals carry it too.
    pub error: Option<Arc<Error>>,
    /// Checker calls made for this step (0: not attempted).
    pub passes: u32,
    /// Every failed attempt of every API call of this step (its reads included), by
    /// provider, action and reason: the transport's retries and the attempts it gave up on.
    pub retries: RetryLog,
}

impl ImageOp {
    /// The engine's own retry passes over this step (checker calls after the first).
    #[must_use]
    pub fn retry_passes(&self) -> u32 {
        self.passes.saturating_sub(1)
    }
    /// True when some principal failed.
    #[must_use]
    pub fn has_failures(&self) -> bool {
        self.report.has_failures()
    }
    /// True when every principal was attempted and none failed.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.not_attempted.is_empty() && !self.report.has_failures()
    }
    /// The step's failure as one error: the whole-step error; else, when a refusal that
    /// is not retried stopped the step before it changed anything, that refusal; else
    /// `Error::Partial` with the report; `None` without failures.
    #[must_use]
    pub fn failure(&self) -> Option<Arc<Error>> {
        if let Some(e) = &self.error {
            return Some(e.clone());
        }
        if !self.has_failures() {
            return None;
        }
        if let Some(cause) = self.report.stopped_by() {
            if !self.report.iter().any(|(_, o)| o.is_change()) {
                return Some(cause.clone());
            }
        }
        Some(Arc::new(Error::Partial(Box::new(self.report.clone()))))
    }
}

/// The outcome of one `(image, operation, principal)`.
#[derive(Debug, Clone)]
pub enum BulkOutcome {
    /// Attempted; the checker's outcome.
    Done(ShareOutcome),
    /// Not attempted (cancelled, or skipped after a failed unshare step).
    NotAttempted,
}

impl BulkOutcome {
    /// The outcome's label, or `not-attempted`.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            BulkOutcome::Done(o) => o.label(),
            BulkOutcome::NotAttempted => "not-attempted",
        }
    }
    /// True for a failed attempt.
    #[must_use]
    pub fn is_failure(&self) -> bool {
        matches!(self, BulkOutcome::Done(o) if o.is_failure())
    }
}

impl fmt::Display for BulkOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BulkOutcome::Done(o) => o.fmt(f),
            BulkOutcome::NotAttempted => f.write_str("not-attempted"),
        }
    }
}

/// Every retry a bulk job took, in one serializable value (see
/// [`BulkReport::retry_summary`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetrySummary {
    /// Failed attempts the transport retried, by reason.
    pub retried: RetryCounts,
    /// Failed attempts the transport gave up on (the engine's retry passes took those
    /// principals again, if passes were left), by reason.
    pub gave_up: RetryCounts,
    /// The engine's retry passes, over every step.
    pub retry_passes: u32,
    /// The failed attempts per provider and action.
    pub by_action: RetryLog,
}

impl fmt::Display for RetrySummary {
    /// `7 retried (5 throttled, 2 connection), 1 given up (1 throttled), 1 retry pass`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.by_action)?;
        let s = if self.retry_passes == 1 { "" } else { "es" };
        write!(f, ", {} retry pass{s}", self.retry_passes)
    }
}

/// One row of a [`BulkReport`].
#[derive(Debug, Clone)]
pub struct BulkEntry<'r> {
    /// The step it belongs to (image, provider, region, operation).
    pub op: &'r ImageOp,
    /// The principal.
    pub principal: &'r Principal,
    /// What happened to it.
    pub outcome: BulkOutcome,
}

/// What a bulk job did, per image and operation and per principal.
#[derive(Debug, Clone)]
pub struct BulkReport {
    /// One entry per image and step, in the order the items were added (unshare before
    /// share within an item; steps with no principals are left out).
    pub ops: Vec<ImageOp>,
    /// Whether the job was cancelled before it finished.
    pub cancelled: bool,
    /// Wall time of the job.
    pub elapsed: Duration,
}

impl BulkReport {
    /// Every `(image, operation, principal)` with its outcome: attempted ones first within
    /// each step, then the ones not attempted.
    pub fn entries(&self) -> impl Iterator<Item = BulkEntry<'_>> {
        self.ops.iter().flat_map(|op| {
            op.report
                .iter()
                .map(move |(p, o)| BulkEntry {
                    op,
                    principal: p,
                    outcome: BulkOutcome::Done(o.clone()),
                })
                .chain(op.not_attempted.iter().map(move |p| BulkEntry {
                    op,
                    principal: p,
                    outcome: BulkOutcome::NotAttempted,
                }))
        })
    }
    /// Number of entries whose outcome is of this kind.
    #[must_use]
    pub fn count(&self, kind: OutcomeKind) -> usize {
        self.ops.iter().map(|o| o.report.count(kind)).sum()
    }
    /// Number of principals not attempted (the job was cancelled, or an earlier step of
    /// their image failed).
    #[must_use]
    pub fn not_attempted_count(&self) -> usize {
        self.ops.iter().map(|o| o.not_attempted.len()).sum()
    }
    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ops
            .iter()
            .map(|o| o.report.len() + o.not_attempted.len())
            .sum()
    }
    /// True when the job had nothing to do.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `(image, principal, error)` of every failed attempt.
    pub fn failures(&self) -> impl Iterator<Item = (&ImageId, BulkOp, &Principal, &Arc<Error>)> {
        self.ops.iter().flat_map(|op| {
            op.report
                .failures()
                .map(move |(p, e)| (&op.image, op.op, p, e))
        })
    }
    /// `(image, operation, principal)` of every entry not attempted.
    pub fn not_attempted(&self) -> impl Iterator<Item = (&ImageId, BulkOp, &Principal)> {
        self.ops
            .iter()
            .flat_map(|op| op.not_attempted.iter().map(move |p| (&op.image, op.op, p)))
    }
    /// `(image, principal)` of every grant this job created.
    pub fn granted(&self) -> impl Iterator<Item = (&ImageId, &Principal)> {
        self.ops.iter().flat_map(|op| {
            op.report
                .iter()
                .filter(|(_, o)| matches!(o, ShareOutcome::Granted))
                .map(move |(p, _)| (&op.image, p))
        })
    }
    /// True when some attempt failed.
    pub fn has_failures(&self) -> bool {
        self.ops.iter().any(ImageOp::has_failures)
    }
    /// Every failed API attempt of the job (retried or given up), per provider and action.
    #[must_use]
    pub fn retries(&self) -> RetryLog {
        let mut log = RetryLog::new();
        for op in &self.ops {
            log.merge(&op.retries);
        }
        log
    }
    /// The engine's retry passes over every step.
    pub fn retry_passes(&self) -> u32 {
        self.ops.iter().map(ImageOp::retry_passes).sum()
    }
    /// The transport's retries and the engine's retry passes together.
    #[must_use]
    pub fn retry_summary(&self) -> RetrySummary {
        let by_action = self.retries();
        RetrySummary {
            retried: by_action.retried(),
            gave_up: by_action.gave_up(),
            retry_passes: self.retry_passes(),
            by_action,
        }
    }
    /// True when everything was attempted and nothing failed.
    pub fn is_complete(&self) -> bool {
        self.ops.iter().all(ImageOp::is_complete)
    }
    /// `3 granted, 1 failed, 2 not-attempted`, or `nothing to do`.
    #[must_use]
    pub fn summary(&self) -> String {
        let counts = OutcomeKind::ALL
            .iter()
            .map(|k| (self.count(*k), k.label()))
            .chain([(self.not_attempted_count(), "not-attempted")]);
        let parts: Vec<String> = counts
            .filter(|(n, _)| *n > 0)
            .map(|(n, label)| format!("{n} {label}"))
            .collect();
        if parts.is_empty() {
            "nothing to do".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

impl fmt::Display for BulkReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} image steps: {}{}",
            self.ops.len(),
            self.summary(),
            if self.cancelled { " (cancelled)" } else { "" }
        )
    }
}

fn empty_op(item: &BulkItem<'_>, op: BulkOp, not_attempted: Vec<Principal>) -> ImageOp {
    ImageOp {
        provider: item.adapter.provider(),
        region: item.adapter.region().clone(),
        image: item.image.clone(),
        op,
        report: ShareReport::new(item.image.clone()),
        not_attempted,
        error: None,
        passes: 0,
        retries: RetryLog::new(),
    }
}

fn not_started(item: &BulkItem<'_>) -> Vec<ImageOp> {
    let mut out = Vec::new();
    for (op, list) in [
        (BulkOp::Unshare, &item.unshare),
        (BulkOp::Share, &item.share),
    ] {
        if !list.is_empty() {
            out.push(empty_op(item, op, Principal::dedupe(list)));
        }
    }
    out
}

async fn run_item(
    cx: &CallContext,
    item: &BulkItem<'_>,
    options: &BulkOptions,
    cancelled: &AtomicBool,
    progress: Option<&(dyn Fn(&ImageOp) + Send + Sync + '_)>,
) -> Vec<ImageOp> {
    let mut out = Vec::new();
    let mut unshare_ok = true;
    for (op, list) in [
        (BulkOp::Unshare, &item.unshare),
        (BulkOp::Share, &item.share),
    ] {
        if list.is_empty() {
            continue;
        }
        let principals = Principal::dedupe(list);
        let result = if !unshare_ok || cancelled.load(Ordering::Relaxed) {
            empty_op(item, op, principals)
        } else {
            run_step(cx, item, op, principals, options, cancelled).await
        };
        if op == BulkOp::Unshare {
            unshare_ok = result.is_complete();
        }
        if let Some(f) = progress {
            f(&result);
        }
        out.push(result);
    }
    out
}

/// One step of one image: a checker call, then retry passes over retryable failures.
async fn run_step(
    cx: &CallContext,
    item: &BulkItem<'_>,
    op: BulkOp,
    principals: Vec<Principal>,
    options: &BulkOptions,
    cancelled: &AtomicBool,
) -> ImageOp {
    let mut outcomes: Vec<Option<ShareOutcome>> = vec![None; principals.len()];
    let mut todo: Vec<usize> = (0..principals.len()).collect();
    let mut error = None;
    let mut passes = 0;
    let mut retries = RetryLog::new();
    let mut stopped_by = None;
    while !todo.is_empty() {
        if passes > options.retry_passes || (passes > 0 && cancelled.load(Ordering::Relaxed)) {
            break;
        }
        passes += 1;
        let batch: Vec<Principal> = todo.iter().map(|&i| principals[i].clone()).collect();
        let (step_cx, log) = cx.collecting_retries();
        let result = match op {
            BulkOp::Share => item.adapter.share_in(&step_cx, &item.image, &batch).await,
            BulkOp::Unshare => item.adapter.unshare_in(&step_cx, &item.image, &batch).await,
        };
        retries.merge(&log.take());
        let report = match result {
            Ok(r) => {
                error = None;
                Some(r)
            }
            Err(Error::Partial(r)) => {
                error = None;
                Some(*r)
            }
            Err(e) => {
                tracing::debug!(image = %item.image, %op, pass = passes, error = %e, "bulk step failed");
                error = Some(Arc::new(e));
                None
            }
        };
        // Not sent: an earlier batch of the checker call was refused (not retried).
        let unsent: std::collections::HashSet<&Principal> = report
            .iter()
            .flat_map(|r| r.not_attempted().iter())
            .collect();
        if let Some(cause) = report.as_ref().and_then(ShareReport::stopped_by) {
            stopped_by = Some(cause.clone());
        }
        for &i in &todo {
            let p = &principals[i];
            if unsent.contains(p) {
                outcomes[i] = None;
                continue;
            }
            outcomes[i] = Some(match (&report, &error) {
                (Some(r), _) => r.outcome(p).cloned().unwrap_or_else(|| {
                    ShareOutcome::Failed(Arc::new(Error::invalid_input(
                        "report",
                        format!("the adapter reported nothing for {p}"),
                    )))
                }),
                (None, Some(e)) => ShareOutcome::Failed(e.clone()),
                (None, None) => unreachable!("a step result is a report or an error"),
            });
        }
        todo.retain(|&i| matches!(&outcomes[i], Some(ShareOutcome::Failed(e)) if e.is_retryable()));
    }
    let mut report = ShareReport::new(item.image.clone());
    let mut not_attempted = Vec::new();
    for (p, o) in principals.into_iter().zip(outcomes) {
        match o {
            Some(o) => report.push(p, o),
            None => not_attempted.push(p),
        }
    }
    if let Some(cause) = stopped_by {
        // The step's report says why the rest was not sent, as the checker's did.
        report.stop(not_attempted.iter().cloned(), cause);
    }
    ImageOp {
        provider: item.adapter.provider(),
        region: item.adapter.region().clone(),
        image: item.image.clone(),
        op,
        report,
        not_attempted,
        error,
        passes,
        retries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use crate::limits::{EncryptedPolicy, PrincipalForm};
    use crate::memory::InMemorySharing;
    use crate::model::{Encryption, Image, ImageKind, ImageOrigin, ImageState, PrincipalKind};
    use crate::transport::{
        ApiCall, ClientOptions, HttpRequest, Method, RetryConfig, RetryReason, Transport,
    };
    use crate::{Checked, Layer, ShareLimits};
    use async_trait::async_trait;
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const LIMITS: ShareLimits = ShareLimits {
        provider: Provider::new("alibaba-ecs"),
        image_id_prefix: "m-",
        example_region: "cn-hangzhou",
        principal_kind: PrincipalKind::Account,
        principal_form: PrincipalForm::NumericAccountId {
            min_len: 5,
            max_len: 20,
            sub_user_markers: &["@", "acs:ram:", ".onaliyun.com"],
            sub_user_name: "a RAM user or sub-account",
        },
        max_sharees_per_image: Some(50),
        max_principals_per_call: 10,
        same_region_only: true,
        reshare_received: false,
        share_marketplace_derived: false,
        encrypted: EncryptedPolicy::Forbidden,
        cross_site: true,
        shareable_kinds: &[ImageKind::SystemDisk],
        require_available: true,
        delete_requires_unshare: true,
        source: "test",
    };
    const SHARE: &str = "ModifyImageSharePermission";

    /// The in-memory backend behind a real [`Transport`]: every share first makes an API
    /// call to a wiremock server at `/<image>` (which answers with the faults the test
    /// mounted), and lands only when that call succeeds.
    #[derive(Debug)]
    struct OverHttp {
        inner: InMemorySharing,
        transport: Transport,
        base: String,
    }

    impl OverHttp {
        async fn call(&self, cx: &CallContext, id: &ImageId) -> Result<(), Error> {
            let call = ApiCall {
                provider: Provider::new("alibaba-ecs"),
                action: SHARE,
                region: "cn-hangzhou",
                idempotent: true,
            };
            let url = format!("{}/{id}", self.base);
            let build = |_| {
                Ok(HttpRequest {
                    method: Method::Post,
                    url: url.clone(),
                    headers: Default::default(),
                    body: Default::default(),
                })
            };
            let decode = |resp: crate::transport::HttpResponse| {
                if resp.status == 200 {
                    return Ok(());
                }
                let code = String::from_utf8_lossy(&resp.body).into_owned();
                // Classified as the adapter of a cloud whose throttling codes start with
                // `Throttling` would.
                let retry = if code.starts_with("Throttling") {
                    Some(RetryReason::Throttled)
                } else {
                    RetryReason::of_status(resp.status)
                };
                Err(Error::from(ApiError {
                    provider: Provider::new("alibaba-ecs"),
                    action: SHARE.into(),
                    status: resp.status,
                    code,
                    message: "injected".into(),
                    request_id: None,
                    retry,
                    retry_after: None,
                }))
            };
            self.transport.call(cx, call, build, decode).await
        }
    }

    #[async_trait]
    impl Layer for OverHttp {
        type Inner = InMemorySharing;
        fn inner(&self) -> &InMemorySharing {
            &self.inner
        }
        async fn share_in(
            &self,
            cx: &CallContext,
            id: &ImageId,
            to: &[Principal],
        ) -> Result<ShareReport, Error> {
            self.call(cx, id).await?;
            self.inner.share_in(cx, id, to).await
        }
    }
    crate::impl_image_sharing_for_layer!([] OverHttp);

    async fn mount(server: &MockServer, image: &str, faults: &[(u16, &str)]) {
        let at = format!("/{image}");
        for (i, (status, code)) in faults.iter().enumerate() {
            Mock::given(path(at.as_str()))
                .respond_with(
                    ResponseTemplate::new(*status)
                        .set_body_string(*code)
                        .set_delay(Duration::from_millis(5)),
                )
                .up_to_n_times(1)
                .with_priority(1 + i as u8)
                .mount(server)
                .await;
        }
        Mock::given(path(at.as_str()))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(5)))
            .with_priority(100)
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn each_step_reports_its_own_retries_and_the_report_adds_them_up() {
        let server = MockServer::start().await;
        let inner = InMemorySharing::new("cn-hangzhou", LIMITS);
        let ids: Vec<ImageId> = (0..4).map(|i| ImageId::new(format!("m-{i}"))).collect();
        for id in &ids {
            inner.add_image(Image {
                id: id.clone(),
                name: "golden".into(),
                owner: Some(Principal::account("1000000001")),
                owner_site: None,
                region: "cn-hangzhou".into(),
                state: ImageState::Available,
                origin: ImageOrigin::Custom,
                encryption: Encryption::None,
                kind: ImageKind::SystemDisk,
                created_at: None,
                progress: None,
            });
        }
        // m-0: two throttles then fine; m-1: one 503; m-2: nothing; m-3: throttled on
        // three attempts in a row, so its first pass gives up and the retry pass shares.
        mount(
            &server,
            "m-0",
            &[(400, "Throttling.User"), (429, "Throttling")],
        )
        .await;
        mount(&server, "m-1", &[(503, "ServiceUnavailable")]).await;
        mount(&server, "m-2", &[]).await;
        mount(&server, "m-3", &[(400, "Throttling.User"); 3]).await;
        let retry = RetryConfig {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            multiplier: 2.0,
            max_elapsed: None,
        };
        let transport =
            Transport::new(ClientOptions::default().without_rate_limiter(), retry).expect("client");
        let checked = Checked::new(OverHttp {
            inner,
            transport,
            base: server.uri(),
        });
        let to: Vec<Principal> = (0..5)
            .map(|i| Principal::account(format!("200000000{i}")))
            .collect();

        let report = Bulk::new()
            .concurrency(4)
            .retry_passes(1)
            .share_all(&checked, ids.clone(), &to)
            .run()
            .await;
        assert!(report.is_complete(), "{report}");
        assert_eq!(report.count(OutcomeKind::Granted), 4 * 5);
        let op = |i: usize| &report.ops[i];
        let throttled = |n| RetryCounts {
            throttled: n,
            ..RetryCounts::default()
        };
        assert_eq!(op(0).retries.retried(), throttled(2));
        assert_eq!(
            op(1).retries.retried(),
            RetryCounts {
                server_error: 1,
                ..RetryCounts::default()
            }
        );
        assert!(op(2).retries.is_empty());
        assert_eq!(op(3).retries.retried(), throttled(2));
        assert_eq!(op(3).retries.gave_up(), throttled(1));
        assert_eq!(
            [0, 1, 2, 3].map(|i| op(i).retry_passes()),
            [0, 0, 0, 1],
            "only m-3 needed the engine's retry pass"
        );
        for i in 0..4 {
            assert!(op(i).retries.actions().iter().all(|a| a.action == SHARE));
        }

        let summary = report.retry_summary();
        assert_eq!(
            summary.retried,
            RetryCounts {
                throttled: 4,
                server_error: 1,
                ..RetryCounts::default()
            }
        );
        assert_eq!(summary.gave_up, throttled(1));
        assert_eq!(summary.retry_passes, 1);
        assert_eq!(report.retries(), summary.by_action);
        assert_eq!(
            summary.to_string(),
            "5 retried (4 throttled, 1 server-error), 1 given up (1 throttled), 1 retry pass"
        );
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["retried"]["throttled"], 4);
        assert_eq!(json["gave_up"]["throttled"], 1);
        assert_eq!(json["retry_passes"], 1);
        assert_eq!(json["by_action"][0]["action"], SHARE);
        // Every failed attempt the server served is in the report: 2 + 1 + 0 + 3.
        assert_eq!(summary.by_action.failed_attempts().total(), 6);
    }

    #[tokio::test]
    async fn a_job_without_faults_reports_no_retries() {
        let backend = InMemorySharing::new("cn-hangzhou", LIMITS);
        let checked = Checked::new(backend);
        let report = Bulk::new()
            .share(&checked, "m-missing", &[Principal::account("2000000001")])
            .run()
            .await;
        // The image does not exist: a failure, but no retry material.
        assert!(report.has_failures());
        let s = report.retry_summary();
        assert!(s.retried.is_empty() && s.gave_up.is_empty() && s.by_action.is_empty());
        assert_eq!(s.retry_passes, 0);
        assert_eq!(s.to_string(), "0 retried, 0 retry passes");
    }
}
