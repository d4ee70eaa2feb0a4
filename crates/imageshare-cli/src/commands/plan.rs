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

/// Connects every (provider, region) of a (checked) manifest once, before anything is
/// sent, from one `ClientOptions`: one rate limiter paces the plan's reads and the apply's
/// writes alike. `audit` records the apply's grants and revokes.
pub fn connect_manifest(
    g: &Global,
    m: &Manifest,
    audit: Option<&AuditLog>,
) -> Result<Connections, Failure> {
    let client = client_options(g);
    let mut conns = Connections::new();
    for img in &m.images {
        if let Entry::Vacant(slot) = conns.entry(key(img)) {
            let mut c = options_with(
                g,
                img.provider,
                Some(img.region.as_str()),
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

/// Plans every image of the manifest ([`plan_manifest_with`]), with progress on stderr
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
    plan_manifest_with(cx, conns, m, progress).await
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
    Ok(Plans(plans))
}

/// A manifest's image entry and its plan.
pub type Planned = (ManifestImage, SharePlan);

/// The plans of a manifest's images. Text: per image, `provider region image` and a line
/// per principal (`+` to share, `-` to unshare, `=` unchanged, `~` kept), then the
/// totals. JSON: `{"changes": N, "plans": [{"image": manifest entry, "plan": plan}]}`.
#[derive(Debug)]
pub struct Plans(pub Vec<Planned>);

impl Plans {
    /// True when applying would change nothing.
    pub fn is_noop(&self) -> bool {
        self.0.iter().all(|(_, p)| p.is_noop())
    }

    /// The grants and revokes applying would make.
    pub fn changes(&self) -> usize {
        self.0
            .iter()
            .map(|(_, p)| p.add.len() + p.remove.len())
            .sum()
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
        }
        Shape {
            changes: self.changes(),
            plans: self.entries(),
        }
        .serialize(s)
    }
}

impl fmt::Display for Plans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut adds, mut removes) = (0, 0);
        for (img, p) in &self.0 {
            writeln!(f, "{} {} {}", img.provider, img.region, p.image)?;
            for a in &p.add {
                writeln!(f, "  + {a}")?;
            }
            for r in &p.remove {
                writeln!(f, "  - {r}")?;
            }
            for u in &p.unchanged {
                writeln!(f, "  = {u}")?;
            }
            for k in &p.kept {
                writeln!(f, "  ~ {k} (not in the manifest, kept: prune is off)")?;
            }
            adds += p.add.len();
            removes += p.remove.len();
        }
        if adds + removes == 0 {
            writeln!(f, "nothing to do")
        } else {
            writeln!(f, "{adds} to share, {removes} to unshare")
        }
    }
}

impl Document for Plans {}
