//! Distribution: one image copied into many regions of its provider and every copy shared,
//! idempotently, resumably and pipelined.
//!
//! A platform team builds a golden image in one region, copies it into every region its
//! business accounts use and shares each copy with them, every release. [`plan_in`] says
//! what that would do per region; [`run_in`] does it:
//!
//! | step, per target region | trait call | adapter |
//! |---|---|---|
//! | find a copy made before | [`images_named_in`](ImageSharing::images_named_in) (the name [`CopyLimits::copy_identity`] gives) | target region |
//! | copy, when there is none | [`copy_to_regions_in`](ImageSharing::copy_to_regions_in) (batches of [`CopyLimits::max_regions_per_call`]) with [`CopyLimits::copy_name`] | source region |
//! | wait until it is available | [`image_in`](ImageSharing::image_in) every [`Wait::poll`], within [`Wait::timeout`] | target region |
//! | share it | [`crate::plan::plan_in`], then [`unshare_in`](ImageSharing::unshare_in) / [`share_in`](ImageSharing::share_in) | target region |
//!
//! The source's own region, when listed, is not copied: the source itself is shared there.
//!
//! - **Pipelined.** Every region runs on its own: a region's shares start as soon as its
//!   copy is ready, not when all copies are. The clouds' rate limits pace the calls.
//! - **Idempotent and resumable.** A copy is found again by its name (`<source name>-<source
//!   id>` where the copy action takes a name, the source's own name on Lighthouse, whose
//!   `SyncBlueprint` takes none), so a re-run, a retry after a timeout or a run after
//!   `kill -9` finds the copy (made, being made, or failed) and never makes a second one;
//!   shares are planned against the live sharees, so nothing is granted twice.
//! - **Failures stay in their region.** A refused copy, a copy the cloud marks failed
//!   ([`Error::CopyFailed`]), a copy still not available after [`Wait::timeout`]
//!   ([`Error::Timeout`]) or a failed share is reported for its region; the other regions
//!   go on. A copy that failed is reported, not deleted or replaced: that is the user's
//!   call.
//! - **Refused before anything is sent**: a provider without a cross-region copy (rule
//!   `cross-region-copy`), a pair across a border the copy does not cross (`copy-border`),
//!   a region without an adapter.
//!
//! Pass the limit-checked adapters ([`Checked`](crate::Checked)), as everywhere: the
//! checker applies the sharing rules in each region.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;

use crate::context::CallContext;
use crate::copy_limits::{no_cross_region_copy, CopyLimits};
use crate::error::{Error, Result};
use crate::model::{Image, ImageId, ImageState, Principal, Region, ShareReport};
use crate::plan::{self, SharePlan};
use crate::sharing::ImageSharing;

/// How long to wait for a copy to become available, and how often to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// Give up on a region whose copy is not available this long after it was started (or
    /// found still being made).
    pub timeout: Duration,
    /// Time between looks.
    pub poll: Duration,
}

impl Default for Wait {
    /// 60 minutes, looking every 10 seconds: a cross-region copy of a real image takes
    /// minutes to tens of minutes.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60 * 60),
            poll: Duration::from_secs(10),
        }
    }
}

/// What to distribute: an image of the source region, the regions to copy it into, and
/// who each copy is shared with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Distribution {
    /// The source image, in the source adapter's region.
    pub image: ImageId,
    /// The regions it must be in (duplicates count once; the source's own region means
    /// the source itself).
    pub regions: Vec<Region>,
    /// Who every copy (and the source, when its region is listed) is shared with.
    pub share_with: Vec<Principal>,
    /// Whether grants not in `share_with` are removed from the copies.
    pub prune: bool,
}

impl Distribution {
    /// `image` into `regions`, every copy shared with `share_with`, not pruning.
    pub fn new(
        image: impl Into<ImageId>,
        regions: impl IntoIterator<Item = Region>,
        share_with: impl IntoIterator<Item = Principal>,
    ) -> Self {
        let mut seen = Vec::new();
        for r in regions {
            if !seen.contains(&r) {
                seen.push(r);
            }
        }
        Self {
            image: image.into(),
            regions: seen,
            share_with: share_with.into_iter().collect(),
            prune: false,
        }
    }
    /// The same, removing grants not in `share_with` when `prune`.
    #[must_use]
    pub fn prune(mut self, prune: bool) -> Self {
        self.prune = prune;
        self
    }
}

/// Where a region's image stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CopyState {
    /// The source's own region: the source image itself is shared there.
    Source {
        /// The source image.
        image: ImageId,
    },
    /// No copy yet: one will be made.
    Needed,
    /// A copy is being made.
    Copying {
        /// The copy.
        image: ImageId,
        /// How far it has come, when the cloud says.
        #[serde(skip_serializing_if = "Option::is_none")]
        progress: Option<u8>,
    },
    /// The copy is available.
    Ready {
        /// The copy.
        image: ImageId,
    },
    /// The copy ended in a state it will not leave.
    Failed {
        /// The copy.
        image: ImageId,
        /// Its state.
        #[serde(rename = "image_state")]
        state: String,
    },
}

impl CopyState {
    /// The image of the region, when there is one (the source, or the copy).
    #[must_use]
    pub fn image(&self) -> Option<&ImageId> {
        match self {
            CopyState::Source { image }
            | CopyState::Copying { image, .. }
            | CopyState::Ready { image }
            | CopyState::Failed { image, .. } => Some(image),
            CopyState::Needed => None,
        }
    }
    fn of(image: &Image) -> Self {
        match &image.state {
            ImageState::Available => CopyState::Ready {
                image: image.id.clone(),
            },
            ImageState::Failed | ImageState::Unavailable => CopyState::Failed {
                image: image.id.clone(),
                state: image.state.to_string(),
            },
            ImageState::Pending | ImageState::Other(_) => CopyState::Copying {
                image: image.id.clone(),
                progress: image.progress,
            },
        }
    }
}

impl std::fmt::Display for CopyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CopyState::Source { image } => write!(f, "source {image}"),
            CopyState::Needed => f.write_str("copy needed"),
            CopyState::Copying {
                image,
                progress: Some(p),
            } => write!(f, "copying {image} ({p}%)"),
            CopyState::Copying {
                image,
                progress: None,
            } => write!(f, "copying {image}"),
            CopyState::Ready { image } => write!(f, "ready {image}"),
            CopyState::Failed { image, state } => write!(f, "copy {image} {state}"),
        }
    }
}

/// What distribution would do in one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RegionPlan {
    /// The region.
    pub region: Region,
    /// Where its image stands.
    pub copy: CopyState,
    /// The share changes. Against the live sharees where the region's image is available;
    /// where the copy is still to be made or being made (it has no sharees yet) every
    /// desired principal is to add, and `share.image` is the source.
    pub share: SharePlan,
}

/// What distribution would do: the source, and one plan per region in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DistributionPlan {
    /// The source image.
    pub source: ImageId,
    /// Its region.
    pub source_region: Region,
    /// The name its copies have ([`CopyLimits::copy_identity`]).
    pub copy_name: String,
    /// Per region.
    pub regions: Vec<RegionPlan>,
}

impl DistributionPlan {
    /// True when nothing would change: every region's image available and shared as asked.
    #[must_use]
    pub fn is_noop(&self) -> bool {
        self.regions.iter().all(|r| {
            matches!(r.copy, CopyState::Source { .. } | CopyState::Ready { .. })
                && r.share.is_noop()
        })
    }
}

/// How a region's image came to be, in a [`RegionReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CopyStep {
    /// The source's own region: no copy.
    Source,
    /// A copy made before was found (by a re-run, or after an interrupted run).
    Found,
    /// The copy was made now.
    Made,
    /// No copy exists: the copy was refused or failed to start, or the run was
    /// interrupted first.
    None,
}

/// How one region ended.
#[derive(Debug)]
#[non_exhaustive]
pub struct RegionReport {
    /// The region.
    pub region: Region,
    /// How its image came to be.
    pub copy: CopyStep,
    /// Its image (the source, or the copy), when there is one.
    pub image: Option<ImageId>,
    /// The grants removed (pruning), when any were to remove.
    pub unshared: Option<ShareReport>,
    /// The grants made, when any were to make.
    pub shared: Option<ShareReport>,
    /// Why the region did not finish; `None` when it did. An interrupted region has
    /// `interrupted` set instead. Shared: one failed copy call of many regions is every
    /// one of its regions' error.
    pub error: Option<Arc<Error>>,
    /// The run was interrupted before the region finished.
    pub interrupted: bool,
    /// Time from the start of the run to the region's end.
    pub elapsed: Duration,
}

impl RegionReport {
    /// Whether the region finished: its image available and shared as asked.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.error.is_none() && !self.interrupted
    }
}

/// What [`run_in`] did, per region in the order given.
#[derive(Debug)]
#[non_exhaustive]
pub struct DistributionReport {
    /// The source image.
    pub source: ImageId,
    /// Per region.
    pub regions: Vec<RegionReport>,
}

impl DistributionReport {
    /// Whether every region finished.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.regions.iter().all(RegionReport::is_done)
    }
    /// The regions that did not finish.
    pub fn unfinished(&self) -> impl Iterator<Item = &RegionReport> {
        self.regions.iter().filter(|r| !r.is_done())
    }
}

/// A phase of one region's work, for [`Progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Phase {
    /// Looking for an earlier copy.
    Looking,
    /// The copy is being made (the event repeats at each look, with the progress).
    Copying,
    /// The copy is available; sharing it.
    Sharing,
    /// The region is done.
    Done,
    /// The region failed (its [`RegionReport::error`] says why).
    Failed,
}

/// One progress event of one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Progress {
    /// The region.
    pub region: Region,
    /// Its phase.
    pub phase: Phase,
    /// Its image, once known.
    pub image: Option<ImageId>,
    /// The copy's progress in percent, when the cloud says.
    pub percent: Option<u8>,
    /// Time since the start of the run.
    pub elapsed: Duration,
}

/// A progress callback: called from the task running the distribution.
pub type OnProgress<'a> = &'a (dyn Fn(&Progress) + Send + Sync);

/// The adapters of a distribution: the source region's, and one per target region, all
/// of one provider (normally [`Checked`](crate::Checked) adapters, or the registry's
/// `DynSharing`).
#[derive(Debug)]
pub struct Adapters<'a, A> {
    /// The adapter of the source image's region (copies are made from it, and it shares
    /// the source when the source's region is listed).
    pub source: &'a A,
    /// One adapter per target region, bound to that region.
    pub targets: &'a BTreeMap<Region, A>,
}

impl<A> Clone for Adapters<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A> Copy for Adapters<'_, A> {}

impl<'a, A: ImageSharing> Adapters<'a, A> {
    /// The source adapter and the target adapters of `targets`.
    #[must_use]
    pub fn new(source: &'a A, targets: &'a BTreeMap<Region, A>) -> Self {
        Self { source, targets }
    }
    /// The adapter of `region`: the target's, else the source's for its own region.
    fn of(&self, region: &Region) -> Option<&'a A> {
        self.targets
            .get(region)
            .or_else(|| (region == self.source.region()).then_some(self.source))
    }
}

/// Everything checked before anything is sent: the provider copies across regions, every
/// pair is allowed, every region has an adapter of the same provider bound to it.
fn check<A: ImageSharing>(
    adapters: Adapters<'_, A>,
    d: &Distribution,
) -> Result<Option<CopyLimits>> {
    let source = adapters.source;
    let from = source.region();
    let provider = source.provider();
    let limits = source.copy_limits().cloned();
    for region in &d.regions {
        source.limits().check_region(region, "regions")?;
        if region == from {
            continue;
        }
        let Some(copy) = &limits else {
            return Err(no_cross_region_copy(provider, region));
        };
        copy.check_pair(provider, from, region)?;
        let Some(target) = adapters.targets.get(region) else {
            return Err(Error::invalid_input(
                "regions",
                format!("no {provider} adapter was given for region {region}"),
            ));
        };
        if target.provider() != provider || target.region() != region {
            return Err(Error::invalid_input(
                "regions",
                format!(
                    "the adapter given for {region} is {} in {}, not {provider} in {region}",
                    target.provider(),
                    target.region()
                ),
            ));
        }
    }
    Ok(limits)
}

/// The copy of `source` among `found` (images of the copy's name): an available one
/// first, then one being made, then a failed one.
fn pick(found: Vec<Image>) -> Option<Image> {
    let rank = |i: &Image| match i.state {
        ImageState::Available => 0,
        ImageState::Pending | ImageState::Other(_) => 1,
        ImageState::Failed | ImageState::Unavailable => 2,
    };
    found.into_iter().min_by_key(rank)
}

/// The name the copies of `source` have in target regions.
fn identity(limits: Option<&CopyLimits>, source: &Image) -> String {
    limits.map_or_else(|| source.name.clone(), |l| l.copy_identity(source))
}

/// Where `region`'s image stands: the source in its own region, else the copy found by
/// name (or none).
async fn find<A: ImageSharing + ?Sized>(
    cx: &CallContext,
    target: &A,
    source: &Image,
    region: &Region,
    name: &str,
) -> Result<CopyState> {
    if region == &source.region {
        return Ok(CopyState::Source {
            image: source.id.clone(),
        });
    }
    let found = target.images_named_in(cx, name).await?;
    Ok(pick(found).map_or(CopyState::Needed, |i| CopyState::of(&i)))
}

/// What distributing `d` from `adapters.source` would do, per region, without changing
/// anything: 1 read of the source, then per target region 1 listing by name, and the
/// sharee listing of each available image.
pub async fn plan_in<A: ImageSharing>(
    cx: &CallContext,
    adapters: Adapters<'_, A>,
    d: &Distribution,
) -> Result<DistributionPlan> {
    let limits = check(adapters, d)?;
    let source = adapters.source.image_in(cx, &d.image).await?;
    let name = identity(limits.as_ref(), &source);
    let plans = d.regions.iter().map(|region| {
        let name = name.as_str();
        let source = &source;
        async move {
            let target = adapters
                .of(region)
                .expect("checked: every region has an adapter");
            let copy = find(cx, target, source, region, name).await?;
            let share = match &copy {
                CopyState::Source { image } | CopyState::Ready { image } => {
                    plan::plan_in(target, cx, image, &d.share_with, d.prune).await?
                }
                _ => plan::diff(
                    source.id.clone(),
                    std::iter::empty(),
                    &d.share_with,
                    d.prune,
                ),
            };
            Ok::<_, Error>(RegionPlan {
                region: region.clone(),
                copy,
                share,
            })
        }
    });
    let regions = futures_util::future::try_join_all(plans).await?;
    Ok(DistributionPlan {
        source: source.id.clone(),
        source_region: source.region.clone(),
        copy_name: name,
        regions,
    })
}

/// Options of [`run_in`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunOptions {
    /// How long to wait for each copy, and how often to look.
    pub wait: Wait,
}

impl RunOptions {
    /// The same with `wait`.
    #[must_use]
    pub fn wait(mut self, wait: Wait) -> Self {
        self.wait = wait;
        self
    }
}

/// Distributes `d` (see the module docs) until every region is done or failed. Fails as
/// a whole only before anything is sent (a refusal, or the source lookup); every later
/// failure is its region's, in the report.
pub async fn run_in<A: ImageSharing>(
    cx: &CallContext,
    adapters: Adapters<'_, A>,
    d: &Distribution,
    options: RunOptions,
    progress: Option<OnProgress<'_>>,
) -> Result<DistributionReport> {
    run_until(cx, adapters, d, options, progress, std::future::pending()).await
}

/// [`run_in`] until every region is done or `cancel` resolves, whichever comes first.
/// Regions not finished when `cancel` resolves are reported `interrupted`; a copy they
/// started goes on in the cloud and the next run finds it.
///
/// Every region is looked at first (all at once); the regions without a copy are then
/// copied in batches of the provider's
/// [`max_regions_per_call`](CopyLimits::max_regions_per_call), one call per batch
/// ([`ImageSharing::copy_to_regions_in`]), the next batch after the source is available
/// again where the cloud holds it busy ([`CopyLimits::source_busy_while_copying`]). Each
/// region waits for its copy and shares it on its own, as soon as it is ready.
pub async fn run_until<A: ImageSharing>(
    cx: &CallContext,
    adapters: Adapters<'_, A>,
    d: &Distribution,
    options: RunOptions,
    progress: Option<OnProgress<'_>>,
    cancel: impl Future<Output = ()>,
) -> Result<DistributionReport> {
    let started = Instant::now();
    let limits = check(adapters, d)?;
    let source = adapters.source.image_in(cx, &d.image).await?;
    let name = identity(limits.as_ref(), &source);
    let copy_name = limits.as_ref().and_then(|l| l.copy_name(&source));
    let flow = Flow {
        cx,
        source_adapter: adapters.source,
        source: &source,
        name: &name,
        copy_name: copy_name.as_deref(),
        d,
        wait: options.wait,
        progress,
        started,
    };
    let target = |region: &Region| {
        adapters
            .of(region)
            .expect("checked: every region has an adapter")
    };
    let mut cancel = std::pin::pin!(cancel);
    let mut reports: Vec<Option<RegionReport>> = d.regions.iter().map(|_| None).collect();

    // Where every region stands.
    let looks = futures_util::future::join_all(
        d.regions
            .iter()
            .map(|region| flow.look(target(region), region)),
    );
    let looked = tokio::select! {
        looked = looks => Some(looked),
        () = &mut cancel => None,
    };
    if let Some(looked) = looked {
        // The regions without a copy wait for the copier's answer; the others go on.
        let mut to_copy = Vec::new();
        let mut running = FuturesUnordered::new();
        for (i, (region, state)) in d.regions.iter().zip(looked).enumerate() {
            let start = match state {
                Ok(CopyState::Needed) => {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    to_copy.push((region.clone(), tx));
                    Start::Copy(rx)
                }
                Ok(state) => Start::Looked(state),
                Err(e) => Start::Failed(e),
            };
            let flow = &flow;
            let target = target(region);
            running.push(async move { (i, flow.region(target, region, start).await) });
        }
        let copier = flow.copy_batches(limits.as_ref(), to_copy);
        let mut copier = std::pin::pin!(futures_util::FutureExt::fuse(copier));
        loop {
            tokio::select! {
                next = running.next() => match next {
                    Some((i, report)) => reports[i] = Some(report),
                    None => break,
                },
                () = &mut copier => {}
                () = &mut cancel => break,
            }
        }
    }
    let regions = reports
        .into_iter()
        .zip(&d.regions)
        .map(|(r, region)| {
            r.unwrap_or_else(|| RegionReport {
                region: region.clone(),
                copy: CopyStep::None,
                image: None,
                unshared: None,
                shared: None,
                error: None,
                interrupted: true,
                elapsed: started.elapsed(),
            })
        })
        .collect();
    Ok(DistributionReport {
        source: source.id.clone(),
        regions,
    })
}

/// Where the copier sends a region its copy's id, or why there is none.
type CopySender = tokio::sync::oneshot::Sender<Result<ImageId, Arc<Error>>>;

/// How a region's flow starts, after the look at every region.
enum Start {
    /// It has an image (the source, or a copy made before).
    Looked(CopyState),
    /// Its copy is being asked for: the copier answers with the copy's id.
    Copy(tokio::sync::oneshot::Receiver<Result<ImageId, Arc<Error>>>),
    /// The look failed.
    Failed(Error),
}

/// What every region's flow shares.
struct Flow<'a, A> {
    cx: &'a CallContext,
    source_adapter: &'a A,
    source: &'a Image,
    name: &'a str,
    copy_name: Option<&'a str>,
    d: &'a Distribution,
    wait: Wait,
    progress: Option<OnProgress<'a>>,
    started: Instant,
}

impl<A: ImageSharing> Flow<'_, A> {
    fn emit(&self, region: &Region, phase: Phase, image: Option<&ImageId>, percent: Option<u8>) {
        if let Some(f) = self.progress {
            f(&Progress {
                region: region.clone(),
                phase,
                image: image.cloned(),
                percent,
                elapsed: self.started.elapsed(),
            });
        }
    }

    /// Where `region`'s image stands.
    async fn look(&self, target: &A, region: &Region) -> Result<CopyState> {
        self.emit(region, Phase::Looking, None, None);
        find(self.cx, target, self.source, region, self.name).await
    }

    /// Copies into the regions of `to_copy` in batches (see [`run_until`]) and answers
    /// each region's flow with its copy's id or why there is none.
    async fn copy_batches(&self, limits: Option<&CopyLimits>, to_copy: Vec<(Region, CopySender)>) {
        let per_call = limits.map_or(1, |l| l.max_regions_per_call.max(1));
        let busy = limits.is_some_and(|l| l.source_busy_while_copying);
        let mut pending = to_copy.into_iter().peekable();
        let mut first = true;
        while pending.peek().is_some() {
            let batch: Vec<_> = pending.by_ref().take(per_call).collect();
            let regions: Vec<Region> = batch.iter().map(|(r, _)| r.clone()).collect();
            let sent = if busy && !first {
                match self.until_source_available().await {
                    Ok(()) => self.copy_batch(&regions).await,
                    Err(e) => Err(e),
                }
            } else {
                self.copy_batch(&regions).await
            };
            first = false;
            match sent {
                Ok(results) => {
                    for ((_, tx), result) in batch.into_iter().zip(results) {
                        let _ = tx.send(result.map_err(Arc::new));
                    }
                }
                Err(e) => {
                    let e = Arc::new(e);
                    for (_, tx) in batch {
                        let _ = tx.send(Err(Arc::clone(&e)));
                    }
                }
            }
        }
    }

    async fn copy_batch(&self, regions: &[Region]) -> Result<Vec<Result<ImageId>>> {
        let results = self
            .source_adapter
            .copy_to_regions_in(self.cx, &self.source.id, regions, self.copy_name)
            .await?;
        if results.len() != regions.len() {
            return Err(Error::invalid_input(
                "regions",
                format!(
                    "{} answered {} copies for {} regions",
                    self.source_adapter.provider(),
                    results.len(),
                    regions.len()
                ),
            ));
        }
        Ok(results)
    }

    /// Waits until the source is available again (its copies made), within the wait.
    async fn until_source_available(&self) -> Result<()> {
        let deadline = tokio::time::Instant::now() + self.wait.timeout;
        loop {
            let image = self
                .source_adapter
                .image_in(self.cx, &self.source.id)
                .await?;
            if image.state == ImageState::Available {
                return Ok(());
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    provider: self.source_adapter.provider(),
                    operation: format!("next copies of {}", self.source.id),
                    message: format!(
                        "the source is still {} after {:?} (it is busy while copied); run \
                         again later: the copies made are found again",
                        image.state, self.wait.timeout
                    ),
                });
            }
            tokio::time::sleep(self.wait.poll.min(deadline - now)).await;
        }
    }

    /// One region, from its look to its end; never fails as a whole (its failure is in
    /// the report).
    async fn region(&self, target: &A, region: &Region, start: Start) -> RegionReport {
        let mut report = RegionReport {
            region: region.clone(),
            copy: CopyStep::None,
            image: None,
            unshared: None,
            shared: None,
            error: None,
            interrupted: false,
            elapsed: Duration::ZERO,
        };
        let span =
            tracing::info_span!("distribute.region", region = %region, source = %self.source.id);
        let outcome =
            tracing::Instrument::instrument(self.steps(target, region, start, &mut report), span)
                .await;
        if let Err(e) = outcome {
            self.emit(region, Phase::Failed, report.image.as_ref(), None);
            report.error = Some(e);
        } else {
            self.emit(region, Phase::Done, report.image.as_ref(), None);
        }
        report.elapsed = self.started.elapsed();
        report
    }

    async fn steps(
        &self,
        target: &A,
        region: &Region,
        start: Start,
        report: &mut RegionReport,
    ) -> Result<(), Arc<Error>> {
        let cx = self.cx;
        let image = match start {
            Start::Failed(e) => return Err(Arc::new(e)),
            Start::Copy(rx) => {
                let copy = rx.await.unwrap_or_else(|_| {
                    Err(Arc::new(Error::invalid_input(
                        "regions",
                        "the copy was not sent (the run ended first)",
                    )))
                })?;
                report.copy = CopyStep::Made;
                // The copy is under way from now, whatever the first look at it says.
                self.emit(region, Phase::Copying, Some(&copy), None);
                copy
            }
            Start::Looked(CopyState::Source { image }) => {
                report.copy = CopyStep::Source;
                image
            }
            Start::Looked(CopyState::Copying { image, .. } | CopyState::Ready { image }) => {
                report.copy = CopyStep::Found;
                image
            }
            Start::Looked(CopyState::Failed { image, state }) => {
                report.copy = CopyStep::Found;
                report.image = Some(image.clone());
                return Err(Arc::new(copy_failed(target, region, &image, state)));
            }
            Start::Looked(CopyState::Needed) => {
                unreachable!("a region without a copy starts with Start::Copy")
            }
        };
        report.image = Some(image.clone());
        if report.copy != CopyStep::Source {
            self.until_available(target, region, &image).await?;
        }
        self.emit(region, Phase::Sharing, Some(&image), None);
        let plan = plan::plan_in(target, cx, &image, &self.d.share_with, self.d.prune).await?;
        if !plan.remove.is_empty() {
            let r = target.unshare_in(cx, &image, &plan.remove).await?;
            report.unshared = Some(r.clone());
            r.into_result()?;
        }
        if !plan.add.is_empty() {
            let r = target.share_in(cx, &image, &plan.add).await?;
            report.shared = Some(r.clone());
            r.into_result()?;
        }
        Ok(())
    }
    /// Looks at the copy every poll until it is available, failed, or the wait is over.
    /// A copy the target region does not list yet (the clouds list a new copy after a
    /// moment) counts as being made.
    async fn until_available(&self, target: &A, region: &Region, image: &ImageId) -> Result<()> {
        let deadline = tokio::time::Instant::now() + self.wait.timeout;
        loop {
            let (state, percent) = match target.image_in(self.cx, image).await {
                Ok(i) => (i.state, i.progress),
                Err(Error::NotFound { .. }) => (ImageState::Pending, None),
                Err(e) => return Err(e),
            };
            match state {
                ImageState::Available => return Ok(()),
                ImageState::Failed | ImageState::Unavailable => {
                    return Err(copy_failed(target, region, image, state.to_string()))
                }
                ImageState::Pending | ImageState::Other(_) => {}
            }
            self.emit(region, Phase::Copying, Some(image), percent);
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    provider: target.provider(),
                    operation: format!("copy of {} to {region}", self.source.id),
                    message: format!(
                        "{image} is still {state}{} after {:?}; it goes on in the cloud: run \
                         again later (the copy is found again, not made twice), or allow \
                         longer (--copy-timeout)",
                        percent.map(|p| format!(" ({p}%)")).unwrap_or_default(),
                        self.wait.timeout
                    ),
                });
            }
            tokio::time::sleep(self.wait.poll.min(deadline - now)).await;
        }
    }
}

fn copy_failed<A: ImageSharing + ?Sized>(
    target: &A,
    region: &Region,
    image: &ImageId,
    state: String,
) -> Error {
    Error::CopyFailed {
        provider: target.provider(),
        region: region.to_string(),
        image: image.to_string(),
        state,
    }
}
