//! The CLI's bulk jobs (`apply`, and `share` / `unshare` of several images): run through
//! the core bulk engine (`imageshare::core::bulk`, default options) with a progress bar
//! and Ctrl-C, and printed in one shape per `(image, operation)` step.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use imageshare::core::bulk::{Bulk, BulkOp, BulkReport, ImageOp, RetrySummary};
use imageshare::core::transport::RetryLog;
use imageshare::core::{CallContext, Error, ImageId, Principal, Provider, Region, ShareReport};
use imageshare::{DynSharing, ImageSharing};
use serde::{Serialize, Serializer};

use crate::exit::{Failure, PARTIAL};
use crate::output::{Document, ErrorFields, PrincipalResult, ShareResults};
use crate::{interrupt, progress};

/// How a job with failures ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// With the status of its first failure (`apply`).
    FirstFailure,
    /// With status 5 when something else succeeded, else the first failure's
    /// (`share` / `unshare` of several images).
    Partial,
}

/// How long after Ctrl-C the steps in flight may go on (each may be in the middle of
/// many calls, the checker's batches) before they are abandoned; well under
/// [`interrupt::GRACE`], so that the report is printed before the process ends.
const STEP_GRACE: Duration = Duration::from_millis(400);

/// One step a job will run: which adapter, image, operation and principals. A job's steps
/// are listed before it runs, so that a job stopped by Ctrl-C can say what it did not do.
#[derive(Debug, Clone)]
pub struct StepSpec {
    /// The adapter's provider.
    pub provider: Provider,
    /// The adapter's region.
    pub region: Region,
    /// The image.
    pub image: ImageId,
    /// Share or unshare.
    pub op: BulkOp,
    /// The principals.
    pub principals: Vec<Principal>,
}

/// Runs `job` (whose steps are `specs`) with a progress bar on stderr until it is done or
/// Ctrl-C is pressed. After Ctrl-C no new step starts; the steps in flight get
/// [`STEP_GRACE`] to finish, then are abandoned: the report lists them as interrupted
/// (their calls may have been carried out) and every step not started as not attempted.
pub async fn run(job: Bulk<'_>, specs: Vec<StepSpec>, label: &str) -> Steps {
    let bar = progress::bar(specs.len() as u64, label);
    let tick = bar.clone();
    let finished: Arc<Mutex<Vec<ImageOp>>> = Arc::default();
    let seen = finished.clone();
    let job = job
        .on_progress(move |op| {
            tick.set_message(format!("{} {} {}", op.provider, op.op, op.image));
            tick.inc(1);
            seen.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(op.clone());
        })
        .run_until(interrupt::interrupted());
    let started = Instant::now();
    let steps = tokio::select! {
        report = job => Steps(report, Vec::new()),
        () = async {
            interrupt::interrupted().await;
            tokio::time::sleep(STEP_GRACE).await;
        } => {
            let done = std::mem::take(&mut *finished.lock().unwrap_or_else(|e| e.into_inner()));
            abandoned(done, specs, started.elapsed())
        }
    };
    bar.finish_and_clear();
    steps
}

/// The report of a job abandoned after Ctrl-C: the steps that finished as they did; every
/// other step with nothing known about it, marked interrupted (the engine does not say
/// which of them were in flight, and those may have done part of their work).
fn abandoned(mut done: Vec<ImageOp>, specs: Vec<StepSpec>, elapsed: Duration) -> Steps {
    let mut ops = Vec::with_capacity(specs.len());
    let mut interrupted = Vec::new();
    for spec in specs {
        let found = done.iter().position(|op| {
            op.image == spec.image
                && op.op == spec.op
                && op.provider == spec.provider
                && op.region == spec.region
        });
        match found {
            Some(i) => ops.push(done.swap_remove(i)),
            None => {
                interrupted.push((spec.image.clone(), spec.op));
                ops.push(ImageOp {
                    provider: spec.provider,
                    region: spec.region,
                    report: ShareReport::new(spec.image.clone()),
                    image: spec.image,
                    op: spec.op,
                    not_attempted: spec.principals,
                    error: None,
                    passes: 0,
                    retries: RetryLog::new(),
                });
            }
        }
    }
    let report = BulkReport {
        ops,
        cancelled: true,
        elapsed,
    };
    Steps(report, interrupted)
}

/// `share` / `unshare` of several images: [`run`], then the results with the job's
/// retries, ending with status 5 when some failed and others did not (or on Ctrl-C).
pub async fn share_or_unshare(
    job: Bulk<'_>,
    specs: Vec<StepSpec>,
    label: &str,
) -> BulkResults<RetrySummary> {
    let steps = run(job, specs, label).await;
    let retries = steps.0.retry_summary();
    BulkResults::new(
        steps,
        retries,
        Exit::Partial,
        "run the command again to finish",
    )
}

/// `share` / `unshare` of one image: one call of the limit checker (which batches the
/// principals), with a spinner, in a context that collects its retries; its outcome is
/// the one step of a job, so that it prints in the shape of several images' (JSON) and as
/// the report of the one image (text). A failure before any principal was tried (the
/// image lookup, a limit) is returned as the error; a partial one is in the report.
pub async fn one_step(
    s: &DynSharing,
    spec: StepSpec,
) -> Result<BulkResults<RetrySummary>, Failure> {
    let (cx, log) = CallContext::new().collecting_retries();
    let (id, n) = (&spec.image, spec.principals.len());
    let started = Instant::now();
    let result = match spec.op {
        BulkOp::Share => {
            let message = format!("sharing {id} with {n} principals");
            progress::with_spinner(&message, s.share_in(&cx, id, &spec.principals)).await
        }
        BulkOp::Unshare => {
            let message = format!("unsharing {id} from {n} principals");
            progress::with_spinner(&message, s.unshare_in(&cx, id, &spec.principals)).await
        }
    };
    let report = match result {
        Ok(report) => report,
        Err(Error::Partial(report)) => *report,
        Err(e) => return Err(Failure::from(e)),
    };
    let op = ImageOp {
        provider: spec.provider,
        region: spec.region,
        image: spec.image,
        op: spec.op,
        // The principals a refused batch left unsent: listed as several images' are.
        not_attempted: report.not_attempted().to_vec(),
        report,
        error: None,
        passes: 1,
        retries: log.take(),
    };
    let report = BulkReport {
        ops: vec![op],
        cancelled: false,
        elapsed: started.elapsed(),
    };
    let retries = report.retry_summary();
    let mut results = BulkResults::new(
        Steps(report, Vec::new()),
        retries,
        Exit::Partial,
        "run the command again to finish",
    );
    results.single = true;
    Ok(results)
}

/// A job with no step (`unshare --all` of images without sharees): nothing was sent.
pub fn no_steps() -> BulkResults<RetrySummary> {
    let report = BulkReport {
        ops: Vec::new(),
        cancelled: false,
        elapsed: Duration::ZERO,
    };
    BulkResults::new(
        Steps(report, Vec::new()),
        RetrySummary::default(),
        Exit::Partial,
        "",
    )
}

/// A finished job as printed, and how it ends. Text: the [`Steps`], then `retries: ` and
/// the retries (one image of `share` / `unshare`: its report, [`ShareResults`]). JSON:
/// `{"results": [`[`StepResult`]`], "retries": R}`, whatever the number of images.
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
    /// One image of `share` / `unshare` ([`one_step`]): printed and ended as that image's
    /// report.
    #[serde(skip)]
    single: bool,
}

impl<R> BulkResults<R> {
    /// The results of `steps` with `retries`; failures end the command as `exit` says,
    /// Ctrl-C with `again` as the advice.
    pub fn new(steps: Steps, retries: R, exit: Exit, again: &'static str) -> Self {
        BulkResults {
            results: steps,
            retries,
            exit,
            again,
            single: false,
        }
    }

    /// The one step of a [`one_step`] job.
    fn single(&self) -> Option<&ImageOp> {
        self.single.then(|| self.results.0.ops.first()).flatten()
    }
}

impl<R: fmt::Display> fmt::Display for BulkResults<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(op) = self.single() {
            return ShareResults(op.report.clone()).fmt(f);
        }
        write!(f, "{}retries: {}", self.results, self.retries)
    }
}

impl<R: Serialize + fmt::Display> Document for BulkResults<R> {
    /// Its failure (see [`Exit`]), else status 5 when it was cancelled, else success. One
    /// image ([`one_step`]): its failure as the checker returned it.
    fn verdict(&self) -> Result<(), Failure> {
        if let Some(op) = self.single() {
            return match op.failure() {
                Some(e) => Err(Failure::from(e.as_ref())),
                None => Ok(()),
            };
        }
        let report = &self.results.0;
        if report.cancelled {
            let first = self
                .results
                .first_failure()
                .map(|f| format!("; first failure: {}", f.message))
                .unwrap_or_default();
            return Err(Failure::new(
                PARTIAL,
                format!("cancelled: {}{first}; {}", report.summary(), self.again),
            ));
        }
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
        Ok(())
    }
}

/// The steps of a finished job, and those abandoned in flight after Ctrl-C. Text: each
/// principal's outcome per step, the step's summary, what was not attempted and why; then
/// the job's summary. JSON: one [`StepResult`] per step shown.
#[derive(Debug)]
pub struct Steps(pub BulkReport, pub Vec<(ImageId, BulkOp)>);

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

    /// Whether `op` was abandoned after Ctrl-C (in flight, or not started).
    fn was_interrupted(&self, op: &ImageOp) -> bool {
        self.1.iter().any(|(i, o)| *i == op.image && *o == op.op)
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
            if self.was_interrupted(op) {
                writeln!(
                    f,
                    "{image}: {what} of {left} principals interrupted in flight or not \
                     started: some may have been carried out (`imageshare sharees {image}` \
                     shows where it stands)"
                )?;
                continue;
            }
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
        s.collect_seq(self.shown().map(|op| {
            let mut r = StepResult::of(op);
            r.interrupted = self.was_interrupted(op);
            r
        }))
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
    /// Abandoned after Ctrl-C, in flight or not started: some of its principals may have
    /// been carried out (shown only when true).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
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
            interrupted: false,
        }
    }
}
