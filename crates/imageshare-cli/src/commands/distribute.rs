//! Manifest entries with `regions` (#15 §1): the image is copied into every listed region
//! and the source and every copy are shared with `share_with`, through the core's
//! distribution engine ([`imageshare::core::distribute`]): `plan` shows per region where
//! the copy stands (copy needed / copying NN% / ready / failed) and the share changes;
//! `apply` runs every region on its own (a region's shares start as soon as its copy is
//! ready), with progress on stderr, Ctrl-C, and a per-region report.
//!
//! Every region of an entry uses the connection of (provider, region, identity) that
//! [`connect_manifest`](super::plan::connect_manifest) opened from the command's one
//! `ClientOptions`, so one rate limiter paces every region's calls.
//!
//! A copy is found again by its name (the engine's copy identity), so a re-run, a run
//! after a timeout or after `kill -9` never copies twice: the report says to run `apply`
//! again to finish.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use futures_util::future::join_all;
use imageshare::core::distribute::{
    self, Adapters, CopyState, CopyStep, Distribution, DistributionPlan, DistributionReport,
    Progress, RegionReport, RunOptions, Wait,
};
use imageshare::core::plan::SharePlan;
use imageshare::core::{CallContext, CopyTarget, Error, ImageId, Region};
use imageshare::manifest::{Manifest, ManifestImage};
use imageshare::{DynSharing, ImageSharing};
use serde::Serialize;

use super::plan::{key, Connections};
use crate::dryrun::IntendedCall;
use crate::exit::{Failure, PARTIAL};
use crate::output::{ErrorFields, ShareResults};
use crate::progress::RegionProgress;

/// The distribution of a manifest entry: its image into its own region (the source,
/// shared there) and every listed region, shared with `share_with`, pruned as `prune`.
pub fn distribution_of(img: &ManifestImage) -> Distribution {
    let regions = std::iter::once(img.region.clone()).chain(img.regions.iter().cloned());
    Distribution::new(img.id.clone(), regions, img.share_with.iter().cloned()).prune(img.prune)
}

/// The adapters of an entry: its own connection, and one per listed region (every one
/// opened by `connect_manifest`).
fn adapters_of(
    conns: &Connections,
    img: &ManifestImage,
) -> (DynSharing, BTreeMap<Region, DynSharing>) {
    let source = conns[&key(img)].clone();
    let targets = img
        .regions
        .iter()
        .map(|r| {
            let k = (img.provider, r.clone(), img.identity.clone());
            (r.clone(), conns[&k].clone())
        })
        .collect();
    (source, targets)
}

/// Where an entry is: `FILE:LINE`.
fn place(m: &Manifest, img: &ManifestImage) -> String {
    format!("{}:{}", m.path.display(), img.line)
}

/// A manifest entry with `regions` and its distribution plan.
#[derive(Debug, Serialize)]
pub struct Distributed {
    /// The manifest's entry.
    pub image: ManifestImage,
    /// Per region: where the copy stands and the share changes.
    pub plan: DistributionPlan,
}

impl Distributed {
    /// Copies to make.
    pub fn copies(&self) -> usize {
        self.plan
            .regions
            .iter()
            .filter(|r| r.copy == CopyState::Needed)
            .count()
    }
    /// Grants and revokes to make (on copies still to be made or being made: every
    /// principal of `share_with`).
    pub fn share_changes(&self) -> (usize, usize) {
        self.plan.regions.iter().fold((0, 0), |(a, r), p| {
            (a + p.share.add.len(), r + p.share.remove.len())
        })
    }
}

/// Plans every entry of `entries` (the manifest's entries with `regions`), at the same
/// time; the first failure in manifest order (a refusal before sending: a provider
/// without cross-region copy, a pair across a border) ends it, with the entry's place.
pub async fn plan_all(
    cx: &CallContext,
    conns: &Connections,
    m: &Manifest,
    entries: &[ManifestImage],
) -> Result<Vec<Distributed>, Failure> {
    let planned = join_all(entries.iter().map(|img| async move {
        let (source, targets) = adapters_of(conns, img);
        let d = distribution_of(img);
        distribute::plan_in(cx, Adapters::new(&source, &targets), &d).await
    }))
    .await;
    entries
        .iter()
        .zip(planned)
        .map(|(img, p)| match p {
            Ok(plan) => Ok(Distributed {
                image: img.clone(),
                plan,
            }),
            Err(e) => Err(Failure::from(e).with_context(&place(m, img))),
        })
        .collect()
}

/// The lines of a share plan at `indent`: `+` to share, `-` to unshare, `=` unchanged,
/// `~` kept (as the plan of an entry without `regions`).
pub fn share_lines(f: &mut fmt::Formatter<'_>, p: &SharePlan, indent: &str) -> fmt::Result {
    for a in &p.add {
        writeln!(f, "{indent}+ {a}")?;
    }
    for r in &p.remove {
        writeln!(f, "{indent}- {r}")?;
    }
    for u in &p.unchanged {
        writeln!(f, "{indent}= {u}")?;
    }
    for k in &p.kept {
        writeln!(f, "{indent}~ {k} (not in the manifest, kept: prune is off)")?;
    }
    Ok(())
}

impl fmt::Display for Distributed {
    /// `provider region image: into N regions (copies named NAME)`, then per region
    /// `  region: copy needed | copying ID (NN%) | ready ID | source ID | copy ID failed`
    /// and its share lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (img, p) = (&self.image, &self.plan);
        writeln!(
            f,
            "{} {} {}: into {} regions (copies named {})",
            img.provider,
            img.region,
            p.source,
            img.regions.len(),
            p.copy_name
        )?;
        for r in &p.regions {
            let state = match &r.copy {
                CopyState::Failed { image, state } => {
                    format!("copy {image} failed ({state}): delete it, then run again")
                }
                other => other.to_string(),
            };
            writeln!(f, "  {}: {state}", r.region)?;
            share_lines(f, &r.share, "    ")?;
        }
        Ok(())
    }
}

/// The options of `apply` for entries with `regions`.
#[derive(Debug, Clone, Copy)]
pub struct CopyWait {
    /// `--copy-timeout`.
    pub timeout: Duration,
    /// `--copy-poll`.
    pub poll: Duration,
}

/// What `apply` did for one entry with `regions`.
#[derive(Debug)]
pub struct EntryResult {
    /// The manifest's entry.
    pub image: ManifestImage,
    /// The engine's report, or why the entry failed as a whole (before anything was sent
    /// for it).
    pub outcome: Result<DistributionReport, Error>,
}

/// Runs every entry's distribution at the same time until done or Ctrl-C, with progress
/// on stderr. Entries whose plan changes nothing are not run.
pub async fn apply_all(
    conns: &Connections,
    plans: &[Distributed],
    wait: CopyWait,
) -> Vec<EntryResult> {
    let cx = CallContext::new();
    let options = RunOptions::default().wait(Wait {
        timeout: wait.timeout,
        poll: wait.poll,
    });
    let runs = plans.iter().filter(|d| !d.plan.is_noop()).map(|d| {
        let cx = &cx;
        async move {
            let img = &d.image;
            let (source, targets) = adapters_of(conns, img);
            let dist = distribution_of(img);
            let reporter = RegionProgress::start(&format!("distribute {}", img.id));
            let on = |p: &Progress| reporter.on(p);
            let outcome = distribute::run_until(
                cx,
                Adapters::new(&source, &targets),
                &dist,
                options,
                Some(&on),
                crate::interrupt::interrupted(),
            )
            .await;
            drop(reporter);
            EntryResult {
                image: img.clone(),
                outcome,
            }
        }
    });
    join_all(runs).await
}

/// `apply --dry-run` of the entries with `regions`: what the run would send is recorded,
/// nothing is copied or shared, from each entry's plan: a copy to each region whose copy
/// is needed (through the limit checker and the dry-run layer: `would copy ID to region
/// R`), then the share of the copy-to-be (`(the copy of ID in R)`); a copy being made is
/// shared once available (recorded on it); where the region's image is available, the
/// plan's unshare and share go through the checker and the dry-run layer as usual.
pub async fn dry_run_all(
    conns: &Connections,
    plans: &[Distributed],
    calls: &crate::dryrun::Recorder,
) -> Result<(), Failure> {
    let cx = CallContext::new();
    for d in plans {
        let img = &d.image;
        let (source, targets) = adapters_of(conns, img);
        for r in &d.plan.regions {
            let adapter = targets.get(&r.region).unwrap_or(&source);
            let record = |image: ImageId| {
                calls.record(IntendedCall {
                    provider: img.provider,
                    region: r.region.clone(),
                    operation: "share",
                    image,
                    principals: r.share.add.clone(),
                    target: None,
                });
            };
            match &r.copy {
                CopyState::Needed => {
                    let to = CopyTarget::Region {
                        region: r.region.clone(),
                        name: Some(d.plan.copy_name.clone()),
                    };
                    source.copy_in(&cx, &d.plan.source, to).await?;
                    if !r.share.add.is_empty() {
                        let id = format!("(the copy of {} in {})", d.plan.source, r.region);
                        record(ImageId::from(id.as_str()));
                    }
                }
                CopyState::Copying { image, .. } if !r.share.add.is_empty() => {
                    record(image.clone());
                }
                CopyState::Source { image } | CopyState::Ready { image } => {
                    if !r.share.remove.is_empty() {
                        adapter.unshare_in(&cx, image, &r.share.remove).await?;
                    }
                    if !r.share.add.is_empty() {
                        adapter.share_in(&cx, image, &r.share.add).await?;
                    }
                }
                // Nothing to share on a copy being made; a failed copy: the real run
                // reports it, nothing would be sent.
                _ => {}
            }
        }
    }
    Ok(())
}

/// What to do about a region that did not finish.
fn next_step(r: &RegionReport) -> String {
    if r.interrupted {
        return "interrupted: run apply again to finish (a copy already started goes on in \
                the cloud and is found again, never made twice)"
            .to_owned();
    }
    match r.error.as_deref() {
        Some(Error::CopyFailed { image, .. }) => format!(
            "the copy {image} failed: delete it (imageshare delete {image} --region {}), \
             then run apply again to copy anew",
            r.region
        ),
        Some(Error::Timeout { .. }) => "the copy is still being made: run apply again later \
             (the copy is found again, not made twice), or allow longer with --copy-timeout"
            .to_owned(),
        Some(_) => "fix the cause, then run apply again (what is done is found again, not \
                    done twice)"
            .to_owned(),
        None => String::new(),
    }
}

/// One region's result, as JSON: `region`, `copy` (`source`, `found`, `made`, `none`),
/// `image` (the region's image, or `null`), `unshared` / `shared` (share results, when
/// any were to make), `done`, `interrupted` (when true), `error` / `code` / `kind` and
/// `next` when not done, `elapsed_ms`.
#[derive(Debug, Serialize)]
struct RegionResult<'a> {
    region: &'a Region,
    copy: CopyStep,
    image: Option<&'a ImageId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unshared: Option<ShareResults>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shared: Option<ShareResults>,
    done: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    interrupted: bool,
    #[serde(flatten)]
    error: Option<ErrorFields>,
    /// The error's kind (`timeout`, `copy-failed`, `api`, ...), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "String::is_empty")]
    next: String,
    elapsed_ms: u128,
}

impl<'a> RegionResult<'a> {
    fn of(r: &'a RegionReport) -> Self {
        RegionResult {
            region: &r.region,
            copy: r.copy.clone(),
            image: r.image.as_ref(),
            unshared: r.unshared.clone().map(ShareResults),
            shared: r.shared.clone().map(ShareResults),
            done: r.is_done(),
            interrupted: r.interrupted,
            error: r.error.as_deref().map(ErrorFields::of),
            kind: r.error.as_deref().map(crate::exit::kind_of),
            next: next_step(r),
            elapsed_ms: r.elapsed.as_millis(),
        }
    }
}

impl Serialize for EntryResult {
    /// `{"image": entry, "source": ID, "regions": [RegionResult]}`, or for an entry that
    /// failed as a whole `{"image", "source": ID, "regions": [], "error", "code"}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shape<'a> {
            image: &'a ManifestImage,
            source: &'a ImageId,
            regions: Vec<RegionResult<'a>>,
            #[serde(flatten)]
            error: Option<ErrorFields>,
        }
        let (regions, error) = match &self.outcome {
            Ok(report) => (report.regions.iter().map(RegionResult::of).collect(), None),
            Err(e) => (Vec::new(), Some(ErrorFields::of(e))),
        };
        Shape {
            image: &self.image,
            source: &self.image.id,
            regions,
            error,
        }
        .serialize(s)
    }
}

impl fmt::Display for EntryResult {
    /// `provider region image:` then per region `  region: done (copy made ID; N granted)`
    /// or what went wrong and what to do next.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let img = &self.image;
        writeln!(f, "{} {} {}:", img.provider, img.region, img.id)?;
        let report = match &self.outcome {
            Ok(r) => r,
            Err(e) => return writeln!(f, "  failed before anything was sent: {e}"),
        };
        for r in &report.regions {
            let image = r
                .image
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let copy = match r.copy {
                CopyStep::Source => format!("source {image}"),
                CopyStep::Found => format!("copy found {image}"),
                CopyStep::Made => format!("copy made {image}"),
                _ => "no copy".to_owned(),
            };
            let mut shares = Vec::new();
            for report in [&r.unshared, &r.shared].into_iter().flatten() {
                shares.push(report.summary());
            }
            let shares = if shares.is_empty() {
                "shares unchanged".to_owned()
            } else {
                shares.join(", ")
            };
            if r.is_done() {
                writeln!(f, "  {}: done ({copy}; {shares})", r.region)?;
            } else {
                let why = match &r.error {
                    Some(e) => crate::wording::cli(&e.to_string()),
                    None => "interrupted".to_owned(),
                };
                writeln!(f, "  {}: not done ({copy}): {why}", r.region)?;
                writeln!(f, "    next: {}", next_step(r))?;
            }
        }
        Ok(())
    }
}

/// How the distributions end: success when every region of every entry is done; else
/// status 5 naming the regions not done (an entry refused as a whole with nothing else
/// done: its own failure).
pub fn verdict(results: &[EntryResult]) -> Result<(), Failure> {
    let mut not_done = Vec::new();
    let mut any_done = false;
    let mut whole = None;
    let mut interrupted = false;
    for e in results {
        match &e.outcome {
            Ok(report) => {
                for r in &report.regions {
                    if r.is_done() {
                        any_done = true;
                    } else {
                        interrupted |= r.interrupted;
                        not_done.push(format!("{} {}", e.image.id, r.region));
                    }
                }
            }
            Err(err) => {
                whole.get_or_insert(err);
                not_done.push(format!("{} (all regions)", e.image.id));
            }
        }
    }
    if not_done.is_empty() {
        return Ok(());
    }
    if let (Some(err), false) = (whole, any_done) {
        if not_done.len() == 1 {
            return Err(Failure::from(err));
        }
    }
    let what = if interrupted {
        "interrupted"
    } else {
        "partially applied"
    };
    Err(Failure::new(
        PARTIAL,
        format!(
            "{what}: not done in {}; run apply again to finish (copies already made or \
             being made are found again, never made twice)",
            not_done.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use imageshare::core::memory::InMemorySharing;
    use imageshare::core::{Checked, CopyLimits, Encryption, Image, Principal};

    use super::*;

    /// Copies by `CopyImage` rules, without a border.
    const COPY: CopyLimits = CopyLimits {
        action: "CopyImage",
        max_regions_per_call: 1,
        max_name_chars: 128,
        border: None,
        source_busy_while_copying: false,
        source: "test",
    };

    const MANIFEST: &str = r#"
[[image]]
provider = "alibaba-ecs"
region = "cn-hangzhou"
id = "m-golden0001"
share_with = ["1234567890123456"]
regions = ["cn-shanghai", "cn-beijing"]
"#;

    /// An in-memory ECS cloud with the golden image, and the manifest's connections
    /// (one view of it per region, behind the checker).
    fn cloud(m: &Manifest) -> (InMemorySharing, Connections) {
        let cloud = InMemorySharing::new("cn-hangzhou", imageshare::alibaba::ECS_LIMITS)
            .with_copy_limits(COPY);
        cloud.add_image(
            Image::new("m-golden0001", "cn-hangzhou")
                .with_name("golden")
                .with_owner(Some(Principal::account("1000000001")))
                .with_encryption(Encryption::None),
        );
        let img = &m.images[0];
        let conns = std::iter::once(img.region.clone())
            .chain(img.regions.iter().cloned())
            .map(|r| {
                let view: Arc<dyn ImageSharing> = Arc::new(cloud.in_region(r.clone()));
                ((img.provider, r, img.identity.clone()), Checked::new(view))
            })
            .collect();
        (cloud, conns)
    }

    fn states(plans: &[Distributed]) -> Vec<String> {
        plans[0]
            .plan
            .regions
            .iter()
            .map(|r| format!("{} {}", r.region, r.copy))
            .collect()
    }

    #[tokio::test]
    async fn plan_then_apply_then_nothing_to_do() {
        let m = Manifest::parse(MANIFEST, "m.toml").unwrap();
        let (cloud, conns) = cloud(&m);
        let cx = CallContext::new();
        let plans = plan_all(&cx, &conns, &m, &m.images)
            .await
            .unwrap_or_else(|f| panic!("{}", f.message));
        assert_eq!(
            states(&plans),
            [
                "cn-hangzhou source m-golden0001",
                "cn-shanghai copy needed",
                "cn-beijing copy needed"
            ]
        );
        assert_eq!((plans[0].copies(), plans[0].share_changes()), (2, (3, 0)));
        let text = plans[0].to_string();
        assert!(
            text.starts_with(
                "alibaba-ecs cn-hangzhou m-golden0001: into 2 regions (copies named \
                 golden-m-golden0001)\n  cn-hangzhou: source m-golden0001\n    + account:"
            ),
            "{text}"
        );
        let json = serde_json::to_value(&plans[0]).unwrap();
        assert_eq!(
            json["plan"]["regions"][1]["copy"]["state"], "needed",
            "{json}"
        );
        assert_eq!(json["image"]["regions"][0], "cn-shanghai", "{json}");

        let wait = CopyWait {
            timeout: Duration::from_secs(5),
            poll: Duration::from_millis(5),
        };
        let results = apply_all(&conns, &plans, wait).await;
        verdict(&results).unwrap_or_else(|f| panic!("{}", f.message));
        let report = results[0].outcome.as_ref().unwrap();
        let steps: Vec<CopyStep> = report.regions.iter().map(|r| r.copy.clone()).collect();
        assert_eq!(steps, [CopyStep::Source, CopyStep::Made, CopyStep::Made]);
        for r in ["cn-shanghai", "cn-beijing"] {
            let copies = cloud.images_in_region(&r.into());
            assert_eq!(copies.len(), 1, "{r}: {copies:?}");
            assert_eq!(copies[0].name, "golden-m-golden0001");
            assert_eq!(
                cloud.grants(&copies[0].id),
                [Principal::account("1234567890123456")]
            );
        }
        let json = serde_json::to_value(&results[0]).unwrap();
        let r = &json["regions"][1];
        assert_eq!(
            (&r["copy"], &r["done"]),
            (&"made".into(), &true.into()),
            "{json}"
        );
        assert_eq!(r["shared"]["results"][0]["outcome"], "granted", "{json}");
        assert!(
            r.get("next").is_none() && r.get("error").is_none(),
            "{json}"
        );
        let text = results[0].to_string();
        assert!(text.contains("  cn-shanghai: done (copy made m-"), "{text}");

        // Planned again: ready everywhere, nothing to run.
        let plans = plan_all(&cx, &conns, &m, &m.images)
            .await
            .unwrap_or_else(|f| panic!("{}", f.message));
        assert!(plans[0].plan.is_noop(), "{}", plans[0]);
        assert!(apply_all(&conns, &plans, wait).await.is_empty());
    }

    #[tokio::test]
    async fn a_copy_not_ready_in_time_is_its_regions_failure_and_status_5() {
        let m = Manifest::parse(MANIFEST, "m.toml").unwrap();
        let (cloud, conns) = cloud(&m);
        cloud.set_copies_pending(true);
        let cx = CallContext::new();
        let plans = plan_all(&cx, &conns, &m, &m.images)
            .await
            .unwrap_or_else(|f| panic!("{}", f.message));
        let wait = CopyWait {
            timeout: Duration::from_millis(50),
            poll: Duration::from_millis(10),
        };
        let results = apply_all(&conns, &plans, wait).await;
        let report = results[0].outcome.as_ref().unwrap();
        assert!(report.regions[0].is_done(), "the source's region is done");
        let r = &report.regions[1];
        assert!(
            matches!(r.error.as_deref(), Some(Error::Timeout { .. })),
            "{r:?}"
        );
        assert!(next_step(r).contains("--copy-timeout"));
        let json = serde_json::to_value(&results[0]).unwrap();
        assert_eq!(json["regions"][1]["kind"], "timeout", "{json}");
        assert_eq!(json["regions"][1]["done"], false, "{json}");
        let f = verdict(&results).unwrap_err();
        assert_eq!(f.code, PARTIAL);
        assert!(
            f.message
                .contains("m-golden0001 cn-shanghai, m-golden0001 cn-beijing"),
            "{}",
            f.message
        );
        assert!(f.message.contains("run apply again"), "{}", f.message);

        // The copies, pending, are found on the next plan: copying, not needed.
        let plans = plan_all(&cx, &conns, &m, &m.images)
            .await
            .unwrap_or_else(|f| panic!("{}", f.message));
        let s = states(&plans);
        assert!(s[1].starts_with("cn-shanghai copying m-"), "{s:?}");
        assert_eq!(plans[0].copies(), 0);
    }

    #[tokio::test]
    async fn a_provider_without_cross_region_copy_is_refused_naming_the_rule() {
        let m = Manifest::parse(MANIFEST, "m.toml").unwrap();
        let (_, mut conns) = cloud(&m);
        // The same cloud without a copy action.
        let bare = InMemorySharing::new("cn-hangzhou", imageshare::alibaba::ECS_LIMITS);
        for (k, v) in &mut conns {
            let view: Arc<dyn ImageSharing> = Arc::new(bare.in_region(k.1.clone()));
            *v = Checked::new(view);
        }
        let cx = CallContext::new();
        let f = plan_all(&cx, &conns, &m, &m.images).await.unwrap_err();
        assert_eq!(f.code, crate::exit::REFUSED, "{}", f.message);
        assert!(f.message.contains("cross-region-copy"), "{}", f.message);
        assert!(f.message.contains("m.toml:2"), "{}", f.message);
    }
}
