//! `imageshare apply`: make the live sharees match a manifest, through the bulk engine.

use imageshare::ImageSharing;
use std::fmt;

use imageshare::core::bulk::{Bulk, BulkOp, BulkOptions, RetrySummary};
use imageshare::core::transport::RetryLog;
use imageshare::core::CallContext;
use serde::Serialize;

use futures_util::FutureExt;

use super::distribute::{self, CopyWait, Distributed, EntryResult};
use super::plan::{connect_manifest, load, plan_manifest, Connections, PlanEntry, Plans};
use crate::bulk::{self, BulkResults, Exit, StepSpec};
use crate::cli::Global;
use crate::confirm;
use crate::exit::{usage, Failure};
use crate::output::Document;
use crate::{interrupt, trail, wording};

/// `imageshare apply -f FILE [--yes]`: plans every image; with `--yes` applies every plan
/// that changes something. Without it, on a terminal the plan is shown and the question
/// asked ([`confirm`]); without a terminal the plan is printed and nothing is changed
/// (status 2).
/// Entries with `regions` are distributed ([`distribute::apply_all`]) after the others'
/// bulk job, each copy waited for as `wait` says; with `--dry-run`, only recorded
/// ([`distribute::dry_run_all`]).
pub async fn run(g: &Global, file: &str, yes: bool, wait: CopyWait) -> Result<Applied, Failure> {
    // A dry run applies through the dry-run layer: it needs no confirmation.
    let mut yes = yes || g.dry_run;
    let ask = !yes && confirm::terminal();
    let m = load(g, file)?;
    // Without --yes (and no one to ask) nothing is changed, so nothing is recorded.
    let log = if yes || ask { trail::open(g)? } else { None };
    let conns = connect_manifest(g, &m, log.as_ref())?;
    let (cx, plan_log) = CallContext::new().collecting_retries();
    let plans = plan_manifest(&cx, &conns, &m).await;
    let plan_retries = summary_of(plan_log.take());
    let plans = plans?;
    if ask && !plans.is_noop() {
        let question = format!(
            "{}\nApply these changes ({} to make)?",
            wording::cli(plans.to_string().trim_end()),
            plans.changes()
        );
        if !confirm::ask_terminal(&question, "not applied")? {
            return Err(confirm::declined("not applied"));
        }
        yes = true;
    }
    let applied = yes && !plans.is_noop();
    let plain = plans.0.iter().any(|(_, p)| !p.is_noop());
    let done = if applied && plain {
        Some(apply_plans(&conns, &plans).await)
    } else {
        None
    };
    let (mut distributed, mut skipped) = (Vec::new(), false);
    if applied && !plans.1.is_empty() {
        if g.dry_run {
            distribute::dry_run_all(&conns, &plans.1, &g.dry_run_calls).await?;
        } else if interrupt::interrupted().now_or_never().is_some() {
            // Ctrl-C during the bulk job: no distribution is started.
            skipped = plans.1.iter().any(|d| !d.plan.is_noop());
        } else {
            distributed = distribute::apply_all(&conns, &plans.1, wait).await;
        }
    }
    Ok(Applied {
        plans,
        applied,
        done,
        distributed,
        skipped,
        plan_retries,
    })
}

/// The retry summary of a log of failed attempts outside the bulk engine (no passes).
pub fn summary_of(log: RetryLog) -> RetrySummary {
    RetrySummary {
        retried: log.retried(),
        gave_up: log.gave_up(),
        retry_passes: 0,
        by_action: log,
    }
}

/// Applies every plan that changes something with the bulk engine (its default options:
/// bounded concurrency across images, retry passes): unshare then share per image, every
/// call paced by the provider's rate limits (one limiter for the whole run, shared by
/// every adapter). Ctrl-C stops starting new work; what was done is printed and the
/// status is 5.
async fn apply_plans(conns: &Connections, plans: &Plans) -> BulkResults<RetrySummary> {
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
        apply,
        Exit::FirstFailure,
        "run apply again to finish",
    )
}

/// What `apply` prints, in one shape whether it changed something or not. Text: `nothing
/// to do`, the plan (without `--yes`), or the bulk job's results. JSON: `{"changes",
/// "applied", "plans", "results", "retries": {"plan", "apply"}}` (SCHEMA.md).
#[derive(Debug)]
pub struct Applied {
    /// The plan of every manifest image.
    plans: Plans,
    /// Whether `--yes` (or the answer) applied changes.
    applied: bool,
    /// The bulk job's results, when `--yes` applied changes to entries without `regions`.
    done: Option<BulkResults<RetrySummary>>,
    /// What each entry with `regions` and changes did.
    distributed: Vec<EntryResult>,
    /// Ctrl-C came before the distributions started: none was.
    skipped: bool,
    /// The failed attempts of the plan's reads.
    plan_retries: RetrySummary,
}

/// The retries of `apply`: the plan's reads and the bulk job's, in one shape. Text: `plan
/// SUMMARY; apply SUMMARY`.
#[derive(Debug, Serialize)]
pub struct ApplyRetries<'a> {
    /// The plan's reads.
    plan: &'a RetrySummary,
    /// The bulk job's.
    apply: &'a RetrySummary,
}

impl fmt::Display for ApplyRetries<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plan {}; apply {}", self.plan, self.apply)
    }
}

impl Applied {
    /// The retries of the plan and of the job (none when nothing was applied).
    fn retries<'a>(&'a self, none: &'a RetrySummary) -> ApplyRetries<'a> {
        ApplyRetries {
            plan: &self.plan_retries,
            apply: self.done.as_ref().map_or(none, |d| &d.retries),
        }
    }
}

impl Serialize for Applied {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// The JSON shape of [`Applied`].
        #[derive(Serialize)]
        struct Shape<'a> {
            changes: usize,
            applied: bool,
            plans: Vec<PlanEntry<'a>>,
            results: serde_json::Value,
            retries: ApplyRetries<'a>,
            distributions: &'a [Distributed],
            distributed: &'a [EntryResult],
        }
        let results = match &self.done {
            Some(d) => serde_json::to_value(&d.results).map_err(serde::ser::Error::custom)?,
            None => serde_json::Value::Array(Vec::new()),
        };
        let none = RetrySummary::default();
        Shape {
            changes: self.plans.changes(),
            applied: self.applied,
            plans: self.plans.entries(),
            results,
            retries: self.retries(&none),
            distributions: &self.plans.1,
            distributed: &self.distributed,
        }
        .serialize(s)
    }
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.plans.is_noop() {
            return f.write_str("nothing to do");
        }
        if !self.applied {
            return self.plans.fmt(f);
        }
        if let Some(d) = &self.done {
            d.results.fmt(f)?;
        }
        for e in &self.distributed {
            e.fmt(f)?;
        }
        if self.skipped {
            writeln!(
                f,
                "entries with regions: not started (interrupted): run apply again"
            )?;
        }
        let none = RetrySummary::default();
        write!(f, "retries: {}", self.retries(&none))
    }
}

impl Document for Applied {
    fn verdict(&self) -> Result<(), Failure> {
        if self.plans.is_noop() {
            return Ok(());
        }
        if !self.applied {
            return Err(usage(
                "not applied: run again with --yes to apply this plan",
            ));
        }
        if let Some(d) = &self.done {
            d.verdict()?;
        }
        if self.skipped {
            return Err(Failure::new(
                crate::exit::PARTIAL,
                "cancelled: the entries with regions were not started; run apply again to \
                 finish",
            ));
        }
        distribute::verdict(&self.distributed)
    }
}
