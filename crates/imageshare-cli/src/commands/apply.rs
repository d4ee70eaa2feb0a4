//! `imageshare apply`: make the live sharees match a manifest, through the bulk engine.

use imageshare::ImageSharing;
use std::fmt;

use imageshare::core::bulk::{Bulk, BulkOp, BulkOptions, RetrySummary};
use imageshare::core::transport::RetryLog;
use imageshare::core::CallContext;
use serde::Serialize;

use super::plan::{connect_manifest, load, plan_manifest, Connections, Plans};
use crate::bulk::{self, BulkResults, Exit, StepSpec};
use crate::cli::Global;
use crate::exit::{usage, Failure};
use crate::output::Document;
use crate::trail;

/// `imageshare apply -f FILE [--yes]`: plans every image; without `--yes` prints the plan
/// and changes nothing (status 2), with it applies every plan that changes something.
pub async fn run(g: &Global, file: &str, yes: bool) -> Result<Applied, Failure> {
    let m = load(g, file)?;
    // Without --yes nothing is changed, so nothing is recorded.
    let log = if yes { trail::open(g)? } else { None };
    let conns = connect_manifest(g, &m, log.as_ref())?;
    let (cx, plan_log) = CallContext::new().collecting_retries();
    let plans = plan_manifest(&cx, &conns, &m).await;
    let plan_retries = plan_log.take();
    let plans = plans?;
    if plans.is_noop() {
        return Ok(Applied::NothingToDo(NothingToDo { changes: 0 }));
    }
    if !yes {
        return Ok(Applied::PlanOnly(plans));
    }
    Ok(Applied::Done(
        apply_plans(&conns, &plans, plan_retries).await,
    ))
}

/// Applies every plan that changes something with the bulk engine (its default options:
/// bounded concurrency across images, retry passes): unshare then share per image, every
/// call paced by the provider's rate limits (one limiter for the whole run, shared by
/// every adapter). Ctrl-C stops starting new work; what was done is printed and the
/// status is 5.
async fn apply_plans(
    conns: &Connections,
    plans: &Plans,
    plan: RetryLog,
) -> BulkResults<ApplyRetries> {
    let mut job = Bulk::with_options(BulkOptions::default());
    let mut specs = Vec::new();
    for (img, p) in plans.0.iter().filter(|(_, p)| !p.is_noop()) {
        let conn = &conns[&super::plan::key(img)];
        job = job.plan(conn, p);
        for (op, principals) in [(BulkOp::Unshare, &p.remove), (BulkOp::Share, &p.add)] {
            if !principals.is_empty() {
                specs.push(StepSpec {
                    provider: conn.provider(),
                    region: conn.region().clone(),
                    image: p.image.clone(),
                    op,
                    principals: principals.clone(),
                });
            }
        }
    }
    let steps = bulk::run(job, specs, "applying").await;
    let apply = steps.0.retry_summary();
    BulkResults::new(
        steps,
        ApplyRetries { plan, apply },
        Exit::FirstFailure,
        "run apply again to finish",
    )
}

/// What `apply` prints.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Applied {
    /// Every image already matches the manifest.
    NothingToDo(NothingToDo),
    /// The plan, without `--yes`: nothing was changed (status 2).
    PlanOnly(Plans),
    /// The bulk job's results.
    Done(BulkResults<ApplyRetries>),
}

/// Nothing to change. Text: `nothing to do`. JSON: `{"changes": 0}`.
#[derive(Debug, Serialize)]
pub struct NothingToDo {
    /// Always 0.
    changes: usize,
}

/// The retries of `apply`: the plan's reads and the bulk job's. Text: `plan SUMMARY;
/// apply SUMMARY`. JSON: `{"plan": [per action], "apply": {retry summary}}`.
#[derive(Debug, Serialize)]
pub struct ApplyRetries {
    /// The failed attempts of the plan's reads.
    plan: RetryLog,
    /// The bulk job's retries.
    apply: RetrySummary,
}

impl fmt::Display for ApplyRetries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plan {}; apply {}", self.plan, self.apply)
    }
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Applied::NothingToDo(_) => f.write_str("nothing to do"),
            Applied::PlanOnly(plans) => plans.fmt(f),
            Applied::Done(results) => results.fmt(f),
        }
    }
}

impl Document for Applied {
    fn verdict(&self) -> Result<(), Failure> {
        match self {
            Applied::NothingToDo(_) => Ok(()),
            Applied::PlanOnly(_) => Err(usage(
                "not applied: run again with --yes to apply this plan",
            )),
            Applied::Done(results) => results.verdict(),
        }
    }
}
