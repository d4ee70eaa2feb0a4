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
//!     Principal, memory::InMemorySharing,
//! };
//! # use imageshare_core::{PrincipalKind, Provider, ShareLimits, limits::{EncryptedPolicy, PrincipalForm}};
//! # const LIMITS: ShareLimits = ShareLimits {
//! #     provider: Provider::AlibabaEcs, principal_kind: PrincipalKind::Account,
//! #     principal_form: PrincipalForm::NumericAccountId { min_len: 5, max_len: 20 },
//! #     max_sharees_per_image: Some(50), max_principals_per_call: 10, same_region_only: true,
//! #     reshare_received: false, share_marketplace_derived: false,
//! #     encrypted: EncryptedPolicy::Forbidden, cross_site: true,
//! #     shareable_kinds: &[ImageKind::SystemDisk], require_available: true,
//! #     delete_requires_unshare: true, source: "example",
//! # };
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let backend = InMemorySharing::new("cn-hangzhou", LIMITS);
//! let images: Vec<ImageId> = (0..3).map(|i| ImageId::new(format!("m-{i}"))).collect();
//! for id in &images {
//!     backend.add_image(Image {
//!         id: id.clone(), name: "golden".into(), owner: Some(Principal::account("1000000001")),
//!         owner_site: None, region: "cn-hangzhou".into(), state: ImageState::Available,
//!         origin: ImageOrigin::Custom, encryption: Encryption::None,
//!         kind: ImageKind::SystemDisk, created_at: None,
//!     });
//! }
//! let checked = Checked::new(backend);
//! let to: Vec<Principal> = (0..25).map(|i| Principal::account(format!("20000000{i:02}"))).collect();
//!
//! let report = Bulk::new().concurrency(2).share_all(&checked, images.clone(), &to).run().await;
//! assert_eq!(report.count("granted"), 3 * 25);
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

use crate::error::Error;
use crate::model::{ImageId, Principal, Provider, Region, ShareOutcome, ShareReport};
use crate::plan::SharePlan;
use crate::sharing::ImageSharing;

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
    /// Images worked on at once (at least 1). Default 8: enough to keep a 10-40 requests/s
    /// bucket busy at loopback-to-cloud latencies while staying far under the transport's
    /// concurrency bound (64).
    pub concurrency: usize,
    /// Further passes over the principals of an image that failed with a retryable error
    /// after the transport's own retries (each pass re-reads the sharees through the
    /// checker). Default 1.
    pub retry_passes: u32,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
            retry_passes: 1,
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
    pub fn new() -> Self {
        Self::default()
    }
    /// An empty job with `options`.
    pub fn with_options(options: BulkOptions) -> Self {
        Self {
            options,
            ..Self::default()
        }
    }
    /// Images worked on at once (values below 1 become 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.options.concurrency = n.max(1);
        self
    }
    /// Retry passes over retryable failures (see [`BulkOptions::retry_passes`]).
    pub fn retry_passes(mut self, n: u32) -> Self {
        self.options.retry_passes = n;
        self
    }
    /// Called once per image and operation as soon as it is done (from the task running
    /// the job).
    pub fn on_progress(mut self, f: impl Fn(&ImageOp) + Send + Sync + 'a) -> Self {
        self.progress = Some(Box::new(f));
        self
    }
    /// Adds an item. Items run in any order; the unshare and share steps of one item run
    /// in that order.
    pub fn item(mut self, item: BulkItem<'a>) -> Self {
        self.items.push(item);
        self
    }
    /// Shares `image` with `to`.
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
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// True when there are no items.
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
                        let cancelled = &cancelled;
                        let options = &options;
                        in_flight.push(async move {
                            (i, run_item(item, options, cancelled, progress).await)
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
    /// Principals not attempted: the job was cancelled first, or (share step) the unshare
    /// step of the same image failed.
    pub not_attempted: Vec<Principal>,
    /// The error of the whole step when its last pass failed as a whole (image lookup,
    /// a limit, every batch failed); the failed principals carry it too.
    pub error: Option<Arc<Error>>,
    /// Checker calls made for this step (0: not attempted).
    pub passes: u32,
}

impl ImageOp {
    /// True when some principal failed.
    pub fn has_failures(&self) -> bool {
        self.report.has_failures()
    }
    /// True when every principal was attempted and none failed.
    pub fn is_complete(&self) -> bool {
        self.not_attempted.is_empty() && !self.report.has_failures()
    }
    /// The step's failure as one error, as a single checker call would have returned it:
    /// the whole-step error, else `Error::Partial` with the report; `None` without failures.
    pub fn failure(&self) -> Option<Arc<Error>> {
        if let Some(e) = &self.error {
            return Some(e.clone());
        }
        self.has_failures()
            .then(|| Arc::new(Error::Partial(Box::new(self.report.clone()))))
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
    pub fn label(&self) -> &'static str {
        match self {
            BulkOutcome::Done(o) => o.label(),
            BulkOutcome::NotAttempted => "not-attempted",
        }
    }
    /// True for a failed attempt.
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

const LABELS: [&str; 6] = [
    "granted",
    "already-granted",
    "revoked",
    "not-granted",
    "failed",
    "not-attempted",
];

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
    /// Number of entries with this label (`granted`, `already-granted`, `revoked`,
    /// `not-granted`, `failed`, `not-attempted`).
    pub fn count(&self, label: &str) -> usize {
        if label == "not-attempted" {
            return self.ops.iter().map(|o| o.not_attempted.len()).sum();
        }
        self.ops.iter().map(|o| o.report.count(label)).sum()
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.ops
            .iter()
            .map(|o| o.report.len() + o.not_attempted.len())
            .sum()
    }
    /// True when the job had nothing to do.
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
    /// True when everything was attempted and nothing failed.
    pub fn is_complete(&self) -> bool {
        self.ops.iter().all(ImageOp::is_complete)
    }
    /// `3 granted, 1 failed, 2 not-attempted`, or `nothing to do`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = LABELS
            .iter()
            .filter_map(|l| {
                let n = self.count(l);
                (n > 0).then(|| format!("{n} {l}"))
            })
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

/// Principals in order, without duplicates.
fn dedupe(principals: &[Principal]) -> Vec<Principal> {
    let mut out: Vec<Principal> = Vec::with_capacity(principals.len());
    for p in principals {
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    out
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
    }
}

fn not_started(item: &BulkItem<'_>) -> Vec<ImageOp> {
    let mut out = Vec::new();
    for (op, list) in [
        (BulkOp::Unshare, &item.unshare),
        (BulkOp::Share, &item.share),
    ] {
        if !list.is_empty() {
            out.push(empty_op(item, op, dedupe(list)));
        }
    }
    out
}

async fn run_item(
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
        let principals = dedupe(list);
        let result = if !unshare_ok || cancelled.load(Ordering::Relaxed) {
            empty_op(item, op, principals)
        } else {
            run_step(item, op, principals, options, cancelled).await
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
    while !todo.is_empty() {
        if passes > options.retry_passes || (passes > 0 && cancelled.load(Ordering::Relaxed)) {
            break;
        }
        passes += 1;
        let batch: Vec<Principal> = todo.iter().map(|&i| principals[i].clone()).collect();
        let result = match op {
            BulkOp::Share => item.adapter.share(&item.image, &batch).await,
            BulkOp::Unshare => item.adapter.unshare(&item.image, &batch).await,
        };
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
        for &i in &todo {
            let p = &principals[i];
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
    ImageOp {
        provider: item.adapter.provider(),
        region: item.adapter.region().clone(),
        image: item.image.clone(),
        op,
        report,
        not_attempted,
        error,
        passes,
    }
}
