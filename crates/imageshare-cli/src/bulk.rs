//! The CLI's bulk jobs (`apply`, and `share` / `unshare` of several images): run through
//! the core bulk engine (`imageshare::core::bulk`, default options) with a progress bar
//! and Ctrl-C, and reported in one shape per `(image, operation)` step.

use imageshare::core::bulk::{Bulk, BulkReport, ImageOp};
use serde_json::{json, Value};

use crate::exit::{Failure, PARTIAL};
use crate::output::report_json;
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

/// A finished job as printed: text, one JSON entry per step, and its first failure.
pub struct Rendered {
    /// The text output.
    pub text: String,
    /// One entry per step that was attempted (and, when cancelled, per step that was not).
    pub results: Vec<Value>,
    /// The first failed step's error, as a failure.
    pub first_failure: Option<Failure>,
}

/// One step as JSON: `image`, `provider`, `region`, `operation`, `results` (per
/// principal), `not_attempted` when some were not, `error` and `code` when it failed,
/// `retries` (the transport's failed attempts by provider, action and reason) and
/// `retry_passes` (the engine's).
fn op_json(op: &ImageOp) -> Value {
    let mut v = report_json(&op.report);
    v["provider"] = json!(op.provider);
    v["region"] = json!(op.region);
    v["operation"] = json!(op.op);
    if !op.not_attempted.is_empty() {
        v["not_attempted"] = json!(op.not_attempted);
    }
    if let Some(e) = op.failure() {
        v["error"] = json!(e.to_string());
        v["code"] = json!(e.code());
    }
    v["retries"] = json!(op.retries);
    v["retry_passes"] = json!(op.retry_passes());
    v
}

/// Prints every step of `report`: each principal's outcome, the step's summary, what was
/// not attempted and why.
pub fn render(report: &BulkReport) -> Rendered {
    let mut text = String::new();
    let mut results = Vec::new();
    let mut first_failure: Option<Failure> = None;
    for op in &report.ops {
        if op.passes == 0 {
            // Skipped after a failed unshare (reported there), or cancelled.
            if report.cancelled {
                text.push_str(&format!(
                    "{}: {} of {} principals not attempted (cancelled)\n",
                    op.image,
                    op.op,
                    op.not_attempted.len()
                ));
                results.push(op_json(op));
            }
            continue;
        }
        for (p, o) in op.report.iter() {
            text.push_str(&format!("{}: {} {p}: {o}\n", op.image, op.op));
        }
        text.push_str(&format!("{}\n", op.report));
        if !op.not_attempted.is_empty() {
            text.push_str(&format!(
                "{}: {} of {} principals not attempted\n",
                op.image,
                op.op,
                op.not_attempted.len()
            ));
        }
        if let Some(e) = op.failure() {
            if let Some(whole) = &op.error {
                text.push_str(&format!("{}: {} failed: {whole}\n", op.image, op.op));
            }
            first_failure.get_or_insert_with(|| Failure::from(e.as_ref()));
        }
        results.push(op_json(op));
    }
    text.push_str(&format!("{report}\n"));
    Rendered {
        text,
        results,
        first_failure,
    }
}

/// How a reported job ends: its failure (see [`Exit`]), else status 5 when it was
/// cancelled (`again` says how to finish), else success.
pub fn finish(
    report: &BulkReport,
    first_failure: Option<Failure>,
    exit: Exit,
    again: &str,
) -> Result<(), Failure> {
    if let Some(f) = first_failure {
        let done = report.len() - report.count("failed") - report.count("not-attempted");
        return Err(match exit {
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
            format!("cancelled: {}; {again}", report.summary()),
        ));
    }
    Ok(())
}
