//! `imageshare plan`: what `apply` would change for a manifest; and the steps both
//! commands take to get there (read and check the manifest, connect each provider and
//! region once, plan every image).

use imageshare::core::CallContext;
use imageshare::ClientBuilder;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::fmt;

use futures_util::future::join_all;
use imageshare::core::plan::{self, PlanRequest, SharePlan};
use imageshare::core::{AuditLog, ImageId, Provider, Region};
use imageshare::manifest::{Identity, Manifest, ManifestImage, MAX_MANIFEST_BYTES};
use imageshare::DynSharing;
use serde::Serialize;

use super::distribute::{share_lines, Distributed};
use crate::cli::{check_project_id, Global};
use crate::connect::{client_options, options_with};
use crate::exit::{usage, Failure};
use crate::files::read_stdin;
use crate::output::Document;
use crate::progress::{Counter, ProgressMode};

/// `imageshare plan -f FILE`.
pub async fn run(g: &Global, file: &str) -> Result<Plans, Failure> {
    let m = load(g, file)?;
    plan_manifest(&CallContext::new(), &connect_manifest(g, &m, None)?, &m).await
}

/// The manifest's entries without `regions` (planned and applied as sharing in their own
/// region), as a manifest, and those with `regions` (distributions).
fn split(m: &Manifest) -> (Manifest, Vec<ManifestImage>) {
    let (dist, plain): (Vec<ManifestImage>, Vec<ManifestImage>) = m
        .images
        .iter()
        .cloned()
        .partition(|i| !i.regions.is_empty());
    (
        Manifest {
            path: m.path.clone(),
            images: plain,
        },
        dist,
    )
}

/// Reads the manifest at `file` (`-`: standard input), whose parser checks every entry
/// (region, image id, principals, with file:line:col), and --project, before anything is
/// opened or sent. The file is read as [`Manifest::from_file`] says (a regular file of at
/// most [`MAX_MANIFEST_BYTES`]); standard input up to the same size.
pub fn load(g: &Global, file: &str) -> Result<Manifest, Failure> {
    let m = if file == "-" {
        let text = read_stdin("the manifest on standard input", MAX_MANIFEST_BYTES)?;
        Manifest::parse(&text, "<stdin>")
    } else {
        Manifest::from_file(file)
    }
    .map_err(|e| usage(e.to_string()))?;
    if let Some(project) = &g.project {
        for img in &m.images {
            check_project_id(img.provider, "--project", project)?;
        }
    }
    Ok(m)
}

/// Where an image entry is: `FILE:LINE`.
fn place(m: &Manifest, img: &ManifestImage) -> String {
    format!("{}:{}", m.path.display(), img.line)
}

/// One adapter per (provider, region, identity) of a manifest.
pub type Connections = BTreeMap<ConnectionKey, DynSharing>;

/// What one connection of a manifest run is for: a provider, a region, and who acts
/// (the entry's `profile` and `role`).
pub type ConnectionKey = (Provider, Region, Identity);

/// The connection key of a manifest entry.
pub fn key(img: &ManifestImage) -> ConnectionKey {
    (img.provider, img.region.clone(), img.identity.clone())
}

/// Connects every (provider, region) of a (checked) manifest once (an entry's own region,
/// and each region of its `regions`), before anything is sent, from one `ClientOptions`: one rate limiter paces the plan's reads and the apply's
/// writes alike. `audit` records the apply's grants and revokes.
pub fn connect_manifest(
    g: &Global,
    m: &Manifest,
    audit: Option<&AuditLog>,
) -> Result<Connections, Failure> {
    let client = client_options(g);
    let mut conns = Connections::new();
    // Each entry's own region, and the regions it is copied into (`regions`).
    let keys = m.images.iter().flat_map(|img| {
        std::iter::once((key(img), img)).chain(
            img.regions
                .iter()
                .map(move |r| ((img.provider, r.clone(), img.identity.clone()), img)),
        )
    });
    for (k, img) in keys {
        if let Entry::Vacant(slot) = conns.entry(k) {
            let region = slot.key().1.clone();
            let mut c = options_with(
                g,
                img.provider,
                Some(region.as_str()),
                client.clone(),
                audit,
            );
            if let Some(profile) = &img.identity.profile {
                c = c.profile(profile.as_str());
            }
            if let Some(role) = &img.identity.role {
                // The entry's role, with the command's session options.
                let mut assumed = imageshare::AssumeRole::new(role.as_str());
                if let Some(flags) = g.assume_role() {
                    assumed.session_name = flags.session_name;
                    assumed.external_id = flags.external_id;
                    assumed.duration = flags.duration;
                }
                c = c.assume_role(assumed);
            }
            let built = crate::connect::build(g, c)
                .map_err(|e| Failure::from(e).with_context(&place(m, img)))?;
            slot.insert(built);
        }
    }
    Ok(conns)
}

/// Plans every image of the manifest: those without `regions` with
/// [`plan_manifest_with`], then those with `regions` as distributions
/// ([`plan_all`](super::distribute::plan_all)); with progress on stderr
/// unless `--quiet` or `IMAGESHARE_PROGRESS=off` ([`ProgressMode::from_env`]).
pub async fn plan_manifest(
    cx: &CallContext,
    conns: &Connections,
    m: &Manifest,
) -> Result<Plans, Failure> {
    let progress = if crate::stderr::quiet() {
        ProgressMode::Off
    } else {
        ProgressMode::from_env()
    };
    let (plain, dist) = split(m);
    let mut plans = plan_manifest_with(cx, conns, &plain, progress).await?;
    plans.1 = super::distribute::plan_all(cx, conns, m, &dist).await?;
    Ok(plans)
}

/// Plans every image of the manifest, in manifest order: per connection, the sharees are
/// listed [`PLAN_CONCURRENCY`](plan::PLAN_CONCURRENCY) at a time, after a lookup in
/// batches where the listing would otherwise look each image up ([`plan::plan_all_in`]); the
/// connections are planned at the same time, each paced by its provider's read quota.
/// Progress goes to stderr as `progress` says (never stdout). The first failure in
/// manifest order (with the manifest line of its image) ends it.
pub async fn plan_manifest_with(
    cx: &CallContext,
    conns: &Connections,
    m: &Manifest,
    progress: ProgressMode,
) -> Result<Plans, Failure> {
    let counter = Counter::start(progress, "plan", "images", m.images.len() as u64);
    let tick = || counter.tick();
    // The manifest's entries per connection, by index.
    let mut groups: BTreeMap<ConnectionKey, Vec<usize>> = BTreeMap::new();
    for (i, img) in m.images.iter().enumerate() {
        groups.entry(key(img)).or_default().push(i);
    }
    let ids: Vec<ImageId> = m.images.iter().map(|img| img.id.as_str().into()).collect();
    let planned = join_all(groups.iter().map(|(k, indices)| {
        let (tick, ids) = (&tick, &ids);
        async move {
            let requests: Vec<PlanRequest<'_>> = indices
                .iter()
                .map(|&i| PlanRequest {
                    image: &ids[i],
                    desired: &m.images[i].share_with,
                    prune: m.images[i].prune,
                })
                .collect();
            (
                indices,
                plan::plan_all_in(&conns[k], cx, &requests, tick).await,
            )
        }
    }))
    .await;
    let mut results: Vec<Option<Result<SharePlan, imageshare::core::Error>>> =
        (0..m.images.len()).map(|_| None).collect();
    let mut lookup_failure: Option<(usize, imageshare::core::Error)> = None;
    for (indices, outcome) in planned {
        match outcome {
            Ok(plans) => {
                for (&i, p) in indices.iter().zip(plans) {
                    results[i] = Some(p);
                }
            }
            // A failed batch lookup fails every image of its connection; the first one is
            // where it is reported.
            Err(e) => {
                if lookup_failure.as_ref().is_none_or(|(j, _)| indices[0] < *j) {
                    lookup_failure = Some((indices[0], e));
                }
            }
        }
    }
    drop(counter);
    let mut plans = Vec::with_capacity(m.images.len());
    for (i, (img, result)) in m.images.iter().zip(results).enumerate() {
        match result {
            Some(Ok(p)) => plans.push((img.clone(), p)),
            Some(Err(e)) => return Err(Failure::from(e).with_context(&place(m, img))),
            None => {
                if let Some((j, e)) = lookup_failure.take() {
                    debug_assert_eq!(i, j);
                    return Err(Failure::from(e).with_context(&place(m, &m.images[j])));
                }
            }
        }
    }
    Ok(Plans(plans, Vec::new()))
}

/// A manifest's image entry and its plan.
pub type Planned = (ManifestImage, SharePlan);

/// The plans of a manifest's images. Text: per image, `provider region image` and a line
/// per principal (`+` to share, `-` to unshare, `=` unchanged, `~` kept); per entry with
/// `regions`, a line per region (`copy needed`, `copying ID (NN%)`, `ready ID`, ...) and
/// its principals; then the totals. JSON: `{"changes": N, "plans": [{"image": manifest
/// entry, "plan": plan}], "distributions": [{"image": manifest entry, "plan":
/// distribution plan}]}` (SCHEMA.md).
#[derive(Debug)]
pub struct Plans(pub Vec<Planned>, pub Vec<Distributed>);

impl Plans {
    /// True when applying would change nothing.
    pub fn is_noop(&self) -> bool {
        self.0.iter().all(|(_, p)| p.is_noop()) && self.1.iter().all(|d| d.plan.is_noop())
    }

    /// The copies, grants and revokes applying would make.
    pub fn changes(&self) -> usize {
        let plain: usize = self
            .0
            .iter()
            .map(|(_, p)| p.add.len() + p.remove.len())
            .sum();
        let dist: usize = self
            .1
            .iter()
            .map(|d| {
                let (a, r) = d.share_changes();
                d.copies() + a + r
            })
            .sum();
        plain + dist
    }

    /// Each image and its plan, as JSON prints them.
    pub fn entries(&self) -> Vec<PlanEntry<'_>> {
        self.0
            .iter()
            .map(|(image, plan)| PlanEntry { image, plan })
            .collect()
    }
}

/// One manifest image and its plan, as JSON: `{"image": entry, "plan": plan}`.
#[derive(Debug, Serialize)]
pub struct PlanEntry<'a> {
    /// The manifest's entry.
    pub image: &'a ManifestImage,
    /// What applying would do.
    pub plan: &'a SharePlan,
}

impl Serialize for Plans {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// The JSON shape of [`Plans`].
        #[derive(Serialize)]
        struct Shape<'a> {
            changes: usize,
            plans: Vec<PlanEntry<'a>>,
            distributions: &'a [Distributed],
        }
        Shape {
            changes: self.changes(),
            plans: self.entries(),
            distributions: &self.1,
        }
        .serialize(s)
    }
}

impl fmt::Display for Plans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut adds, mut removes, mut copies) = (0, 0, 0);
        for (img, p) in &self.0 {
            writeln!(f, "{} {} {}", img.provider, img.region, p.image)?;
            share_lines(f, p, "  ")?;
            adds += p.add.len();
            removes += p.remove.len();
        }
        for d in &self.1 {
            d.fmt(f)?;
            let (a, r) = d.share_changes();
            adds += a;
            removes += r;
            copies += d.copies();
        }
        if self.is_noop() {
            writeln!(f, "nothing to do")
        } else if copies > 0 {
            writeln!(f, "{copies} to copy, {adds} to share, {removes} to unshare")
        } else {
            writeln!(f, "{adds} to share, {removes} to unshare")
        }
    }
}

impl Document for Plans {}
