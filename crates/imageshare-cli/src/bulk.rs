//! The CLI's bulk jobs (`apply`, and `share` / `unshare` of several images): run through
//! the core bulk engine (`imageshare::core::bulk`, default options) with a progress bar
//! and Ctrl-C, and printed in one shape per `(image, operation)` step.

use std::fmt;

use imageshare::core::bulk::{Bulk, BulkOp, BulkReport, ImageOp, RetrySummary};
use imageshare::core::transport::RetryLog;
use imageshare::core::{ImageId, Principal, Provider, Region};
use serde::{Serialize, Serializer};

use crate::exit::{Failure, PARTIAL};
use crate::output::{Document, ErrorFields, PrincipalResult};
use crate::progress;

/// How a job with failures ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// With the status of its first failure (`apply`).
    FirstFailure,
    /// With status 5 when something else succeeded, else the first failure's
    /// (`share` / `unshare` of several images).
    Partial,
}

/// Resolves on Ctrl-C (never, where signals cannot be listened to).
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs `job` (`steps` image steps) with a progress bar on stderr until it is done or
/// Ctrl-C is pressed. After Ctrl-C no new step starts; the steps in flight finish the call
/// they are in and the report lists everything else as not attempted.
pub async fn run(job: Bulk<'_>, steps: usize, label: &str) -> BulkReport {
    let bar = progress::bar(steps as u64, label);
    let tick = bar.clone();
    let report = job
        .on_progress(move |op| {
            tick.set_message(format!("{} {} {}", op.provider, op.op, op.image));
            tick.inc(1);
        })
        .run_until(ctrl_c())
        .await;
    bar.finish_and_clear();
    report
}

/// `share` / `unshare` of several images: [`run`], then the results with the job's
/// retries, ending with status 5 when some failed and others did not (or on Ctrl-C).
pub async fn share_or_unshare(
    job: Bulk<'_>,
    steps: usize,
    label: &str,
) -> BulkResults<RetrySummary> {
    let report = run(job, steps, label).await;
    let retries = report.retry_summary();
    BulkResults::new(
        report,
        retries,
        Exit::Partial,
        "run the command again to finish",
    )
}

/// A finished job as printed, and how it ends. Text: the [`Steps`], then `retries: ` and
/// the retries. JSON: `{"results": [`[`StepResult`]`], "retries": R}`.
#[derive(Debug, Serialize)]
pub struct BulkResults<R> {
    /// The job's steps.
    pub results: Steps,
    /// The job's retries (`apply` adds its plan's).
    pub retries: R,
    /// How failures end the command.
    #[serde(skip)]
    exit: Exit,
    /// What to do after Ctrl-C to finish the job.
    #[serde(skip)]
    again: &'static str,
}

impl<R> BulkResults<R> {
    /// The results of `report` with `retries`; failures end the command as `exit` says,
    /// Ctrl-C with `again` as the advice.
    pub fn new(report: BulkReport, retries: R, exit: Exit, again: &'static str) -> Self {
        BulkResults {
            results: Steps(report),
            retries,
            exit,
            again,
        }
    }
}

impl<R: fmt::Display> fmt::Display for BulkResults<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}retries: {}", self.results, self.retries)
    }
}

impl<R: Serialize + fmt::Display> Document for BulkResults<R> {
    /// Its failure (see [`Exit`]), else status 5 when it was cancelled, else success.
    fn verdict(&self) -> Result<(), Failure> {
        let report = &self.results.0;
        if let Some(f) = self.results.first_failure() {
            let done = report.len()
                - report.count(imageshare::core::OutcomeKind::Failed)
                - report.not_attempted_count();
            return Err(match self.exit {
                Exit::Partial if done > 0 => Failure::new(
                    PARTIAL,
                    format!(
                        "partially applied: {}; first failure: {}",
                        report.summary(),
                        f.message
                    ),
                ),
                _ => f,
            });
        }
        if report.cancelled {
            return Err(Failure::new(
                PARTIAL,
                format!("cancelled: {}; {}", report.summary(), self.again),
            ));
        }
        Ok(())
    }
}

/// The steps of a finished job. Text: each principal's outcome per step, the step's
/// summary, what was not attempted and why; then the job's summary. JSON: one
/// [`StepResult`] per step shown.
#[derive(Debug)]
pub struct Steps(pub BulkReport);

impl Steps {
    /// The steps printed: every attempted one, and when the job was cancelled, those it
    /// did not start (a step skipped after a failed unshare is reported there).
    fn shown(&self) -> impl Iterator<Item = &ImageOp> {
        let cancelled = self.0.cancelled;
        self.0
            .ops
            .iter()
            .filter(move |op| op.passes > 0 || cancelled)
    }

    /// The first attempted step's failure.
    fn first_failure(&self) -> Option<Failure> {
        self.0
            .ops
            .iter()
            .filter(|op| op.passes > 0)
            .find_map(ImageOp::failure)
            .map(|e| Failure::from(e.as_ref()))
    }
}

impl fmt::Display for Steps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for op in self.shown() {
            let (image, what, left) = (&op.image, op.op, op.not_attempted.len());
            if op.passes == 0 {
                writeln!(
                    f,
                    "{image}: {what} of {left} principals not attempted (cancelled)"
                )?;
                continue;
            }
            for (p, o) in op.report.iter() {
                writeln!(f, "{image}: {what} {p}: {o}")?;
            }
            writeln!(f, "{}", op.report)?;
            if left > 0 {
                writeln!(f, "{image}: {what} of {left} principals not attempted")?;
            }
            if let Some(whole) = &op.error {
                writeln!(f, "{image}: {what} failed: {whole}")?;
            }
        }
        writeln!(f, "{}", self.0)
    }
}

impl Serialize for Steps {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.shown().map(StepResult::of))
    }
}

/// One step as JSON: `image`, `provider`, `region`, `operation`, `results` (per
/// principal), `not_attempted` when some were not, `error` and `code` when it failed,
/// `retries` (the transport's failed attempts by provider, action and reason) and
/// `retry_passes` (the engine's).
#[derive(Debug, Serialize)]
pub struct StepResult<'a> {
    /// The image.
    pub image: &'a ImageId,
    /// The adapter's provider.
    pub provider: Provider,
    /// The adapter's region.
    pub region: &'a Region,
    /// `share` or `unshare`.
    pub operation: BulkOp,
    /// Each attempted principal's outcome.
    pub results: Vec<PrincipalResult<'a>>,
    /// The principals not attempted.
    #[serde(skip_serializing_if = "<[Principal]>::is_empty")]
    pub not_attempted: &'a [Principal],
    /// The step's failure, when it failed.
    #[serde(flatten)]
    pub error: Option<ErrorFields>,
    /// The transport's failed attempts.
    pub retries: &'a RetryLog,
    /// The engine's retry passes.
    pub retry_passes: u32,
}

impl<'a> StepResult<'a> {
    /// The JSON of `op`.
    pub fn of(op: &'a ImageOp) -> Self {
        StepResult {
            image: &op.report.image,
            provider: op.provider,
            region: &op.region,
            operation: op.op,
            results: PrincipalResult::all(&op.report),
            not_attempted: &op.not_attempted,
            error: op.failure().map(|e| ErrorFields::of(&e)),
            retries: &op.retries,
            retry_passes: op.retry_passes(),
        }
    }
}
