//! Issue #15, section 3: `plan` of a 10,000-image manifest at the read quota, one image at
//! a time (the path `plan` took before batching) against the batched path, in one run.
//!
//! Per cloud (Alibaba ECS, Tencent CVM, Tencent Lighthouse), 10,000 images of one account
//! in one region, not shared yet and wanted with 3 accounts (the first plan of a release:
//! every plan adds 3 grants), planned through `Connect::new(..).emulator(..).build()` (the
//! limit checker and the adapter, as the CLI builds them), two ways:
//!
//! - one by one: `core::plan::plan_in` per image, 8 at a time (the CLI's `plan` before
//!   batching): one sharee listing per image, and on Lighthouse, whose listing cannot tell
//!   an unknown blueprint from an unshared one, a `DescribeBlueprints` after every empty
//!   listing;
//! - batched: `core::plan::plan_all_in` (what the CLI's `plan` runs now): where the listing
//!   looks images up (Lighthouse), the images are looked up 100 per call first and listed
//!   without that second read; elsewhere (ECS, CVM) the listing alone, `PLAN_CONCURRENCY`
//!   at a time.
//!
//! The emulator enforces a quota of [`quota`] requests/s on each read action (a sliding
//! one-second window per provider and action, as Alibaba and Tencent publish their quotas
//! per action), and the client's rate limiter is set to the same rate per action. The
//! floor of a run is the slowest action's calls / quota. The issue's floor, read calls
//! after batching / read quota, is printed next to it (every read against one quota, as
//! an account-wide read limit would count them).
//!
//! Every run is checked: each plan is the expected one (the 3 accounts to add), both paths
//! plan the same, no call failed except answers throttled by the quota (at most 2 % of the
//! calls, each retried by the client, and counted in the table), and the emulator answered
//! exactly the calls each path should make.
//!
//! ```text
//! cargo bench --bench plan_floor                           # full: 10,000 images, about 6 minutes
//! IMAGESHARE_BENCH_QUOTA=100 cargo bench --bench plan_floor  # the same at 100/s, about 11 minutes
//! IMAGESHARE_BENCH_QUICK=1 cargo bench --bench plan_floor  # quick: 500 images
//! ```
//!
//! Exits non-zero only on a correctness failure; time is reported, never enforced (a
//! noisy machine cannot fail CI).

#[path = "support/mod.rs"]
mod support;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imageshare::core::plan::{self, PlanRequest, SharePlan};
use imageshare::core::ratelimit::{Rate, RateLimits};
use imageshare::core::{CallContext, ImageId, Principal, Provider, Site};
use imageshare::testing::ConnectEmulator;
use imageshare::{ClientBuilder, Connect};
use imageshare_emulator::world::ImageSeed;
use imageshare_emulator::{Emulator, FaultPlan, FaultRule, World};

/// The emulator's quota on each read action, requests/s, and the client's rate for it.
/// 200/s gives a 5 ms slot, well above a call's loopback cost, so the floor is the quota
/// and not the machine. The client's limiter keeps 5 % of each second as margin (see
/// `core::ratelimit`), so the best ratio is about 1.05. The full run takes about 51 s per
/// cloud and path.
const DEFAULT_QUOTA: u32 = 200;

/// The quota of this run: `IMAGESHARE_BENCH_QUOTA` (requests/s per read action), else
/// [`DEFAULT_QUOTA`]. The ratio's loss to the client's limiter is about the timer's 1 ms
/// per slot, so it shrinks as the quota falls toward the clouds' published 10-40/s (and
/// the run grows: 10,000 / quota seconds per cloud and path).
fn quota() -> u32 {
    std::env::var("IMAGESHARE_BENCH_QUOTA")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&q: &u32| q > 0)
        .unwrap_or(DEFAULT_QUOTA)
}
/// Images planned at once by the one-by-one path (the CLI's `PLAN_CONCURRENCY` before).
const OLD_CONCURRENCY: usize = 8;
/// Ids per batched lookup (all three clouds).
const PER_LOOKUP: usize = 100;
const OWNER: &str = "100000000001";
const SEED: u64 = 15;

#[derive(Clone, Copy)]
struct Cloud {
    name: &'static str,
    provider: Provider,
    region: &'static str,
    /// The image lookup action and the sharee listing action.
    lookup: &'static str,
    listing: &'static str,
    /// Whether the listing looks an unshared image up (one lookup per image one by one).
    listing_looks_up: bool,
}

const CLOUDS: [Cloud; 3] = [
    Cloud {
        name: "alibaba ecs",
        provider: imageshare::alibaba::ECS,
        region: "cn-hangzhou",
        lookup: "DescribeImages",
        listing: "DescribeImageSharePermission",
        listing_looks_up: false,
    },
    Cloud {
        name: "tencent cvm",
        provider: imageshare::tencent::CVM,
        region: "ap-guangzhou",
        lookup: "DescribeImages",
        listing: "DescribeImageSharePermission",
        listing_looks_up: false,
    },
    Cloud {
        name: "lighthouse",
        provider: imageshare::tencent::LIGHTHOUSE,
        region: "ap-guangzhou",
        lookup: "DescribeBlueprints",
        listing: "DescribeBlueprintsShareAcrossAccountInfos",
        listing_looks_up: true,
    },
];

#[derive(Clone, Copy, PartialEq)]
enum Path {
    OneByOne,
    Batched,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::OneByOne => "one by one",
            Path::Batched => "batched",
        }
    }
}

/// What one run measured, the calls read from the emulator.
struct Row {
    cloud: Cloud,
    path: Path,
    lookups: usize,
    listings: usize,
    other: usize,
    /// Answers throttled by the emulator's quota (then retried by the client).
    throttled: usize,
    wall: Duration,
    plans: Vec<SharePlan>,
}

impl Row {
    /// The slowest action's calls / quota.
    fn floor(&self) -> Duration {
        Duration::from_secs_f64(self.lookups.max(self.listings) as f64 / quota() as f64)
    }
    /// Every read call / one read quota (the issue's floor).
    fn shared_floor(&self) -> Duration {
        Duration::from_secs_f64((self.lookups + self.listings) as f64 / quota() as f64)
    }
    fn ratio(&self) -> f64 {
        self.wall.as_secs_f64() / self.floor().as_secs_f64()
    }
}

const PEERS: [&str; 3] = ["300000000001", "300000000002", "300000000003"];

fn image_ids(provider: Provider, n: usize) -> Vec<ImageId> {
    (0..n)
        .map(|i| match provider {
            imageshare::tencent::CVM => ImageId::new(format!("img-p{i:07}")),
            imageshare::tencent::LIGHTHOUSE => ImageId::new(format!("lhbp-{i:08x}")),
            _ => ImageId::new(format!("m-plan{i:010}")),
        })
        .collect()
}

fn world(cloud: Cloud, n: usize) -> Result<World, String> {
    let mut b = World::builder().account(OWNER, Site::China);
    for p in PEERS {
        b = b.account(p, Site::China);
    }
    for id in image_ids(cloud.provider, n) {
        b = b.image(ImageSeed::new(
            cloud.provider,
            id.as_str(),
            OWNER,
            cloud.region,
        ));
    }
    let quota = |action: &str| {
        FaultRule::new()
            .with_provider(cloud.provider)
            .with_action(action)
            .with_qps(quota())
    };
    b.faults(
        FaultPlan::seeded(SEED)
            .rule(quota(cloud.lookup))
            .rule(quota(cloud.listing)),
    )
    .build()
    .map_err(|e| format!("world: {e}"))
}

fn main() -> ExitCode {
    support::exit("plan_floor", run())
}

fn run() -> Result<(), String> {
    let quick = support::quick();
    let n = if quick { 500 } else { 10_000 };
    // The emulator on its own runtime, as in the other benches.
    let server_rt = support::runtime("emulator")?;
    let client_rt = support::runtime("bench-client")?;
    let mut rows = Vec::new();
    for cloud in CLOUDS {
        for path in [Path::OneByOne, Path::Batched] {
            let emu = server_rt
                .block_on(Emulator::start(world(cloud, n)?))
                .map_err(|e| format!("emulator: {e}"))?;
            let row = client_rt.block_on(one_run(&emu, cloud, path, n))?;
            eprintln!(
                "{} {}: {} lookups + {} listings in {:.2?} (floor {:.2?}, {:.3}x)",
                cloud.name,
                path.name(),
                row.lookups,
                row.listings,
                row.wall,
                row.floor(),
                row.ratio()
            );
            rows.push(row);
            server_rt.block_on(emu.shutdown());
        }
        let (old, new): (&Row, &Row) = (&rows[rows.len() - 2], &rows[rows.len() - 1]);
        if old.plans != new.plans {
            return Err(format!("{}: the two paths planned differently", cloud.name));
        }
    }
    print_table(&rows, n, quick);
    Ok(())
}

async fn one_run(emu: &Emulator, cloud: Cloud, path: Path, n: usize) -> Result<Row, String> {
    let what = format!("{} {}", cloud.name, path.name());
    let table = RateLimits::new()
        .with(cloud.lookup, Rate::per_second(quota() as f64))
        .with(cloud.listing, Rate::per_second(quota() as f64))
        .with_default(Some(Rate::per_second(quota() as f64)));
    let sharing = Connect::new(cloud.provider)
        .region(cloud.region)
        .emulator(emu, OWNER)
        .rate_limits(table)
        .build()
        .map(Arc::new)
        .map_err(|e| format!("{what}: connect: {e}"))?;
    let ids = image_ids(cloud.provider, n);
    let desired: Vec<Principal> = PEERS.iter().map(|p| Principal::account(*p)).collect();
    let requests: Vec<PlanRequest<'_>> = ids
        .iter()
        .map(|image| PlanRequest {
            image,
            desired: &desired,
            prune: false,
        })
        .collect();
    let cx = CallContext::new();

    let started = Instant::now();
    let outcome: Vec<_> = match path {
        Path::OneByOne => {
            // `OLD_CONCURRENCY` plans in flight, started in order (a fair semaphore), as
            // the CLI's `buffered(8)` did.
            let slots = Arc::new(tokio::sync::Semaphore::new(OLD_CONCURRENCY));
            let desired = Arc::new(desired.clone());
            let tasks: Vec<_> = ids
                .iter()
                .map(|id| {
                    let (sharing, slots, desired, id) =
                        (sharing.clone(), slots.clone(), desired.clone(), id.clone());
                    tokio::spawn(async move {
                        let _slot = slots.acquire_owned().await.expect("never closed");
                        plan::plan_in(&*sharing, &CallContext::new(), &id, &desired, false).await
                    })
                })
                .collect();
            let mut done = Vec::with_capacity(n);
            for t in tasks {
                done.push(t.await.map_err(|e| format!("{what}: task: {e}"))?);
            }
            done
        }
        Path::Batched => plan::plan_all_in(&*sharing, &cx, &requests, &|| {})
            .await
            .map_err(|e| format!("{what}: lookup: {e}"))?,
    };
    let wall = started.elapsed();

    let mut plans = Vec::with_capacity(n);
    for (id, p) in ids.iter().zip(outcome) {
        let p = p.map_err(|e| format!("{what}: {id}: {e}"))?;
        if p.add != desired || !p.unchanged.is_empty() || !p.remove.is_empty() {
            return Err(format!("{what}: {id}: unexpected plan {p:?}"));
        }
        plans.push(p);
    }

    // The quota's throttling answers: the client retried each (reusing its permit, so they
    // cost no extra read), but every one means two requests reached the server closer
    // together than the client sent them by more than the limiter's margin. A few are
    // the machine's scheduling jitter (at most 0.36 % of the calls on a loaded machine);
    // more than 2 % is a limiter that does not hold the quota. Any other failed call fails
    // the run.
    let throttled = emu.faults_served().iter().filter(|f| f.quota).count();
    let calls: Vec<_> = emu.calls();
    let failed = calls.iter().filter(|c| c.error.is_some()).count();
    if failed != throttled {
        let c = calls.iter().find(|c| c.error.is_some());
        return Err(format!(
            "{what}: {failed} calls failed, {throttled} of them throttled by the quota; e.g. {:?}",
            c.map(|c| (&c.action, &c.error))
        ));
    }
    if throttled * 50 > calls.len() {
        return Err(format!(
            "{what}: {throttled} of {} calls throttled by the quota: the client's limiter \
             does not hold the quota",
            calls.len()
        ));
    }
    let calls: Vec<_> = calls.into_iter().filter(|c| c.error.is_none()).collect();
    let count = |a: &str| calls.iter().filter(|c| c.action == a).count();
    let (lookups, listings) = (count(cloud.lookup), count(cloud.listing));
    let other = calls.len() - lookups - listings;
    // Every image is listed once; looked up only where the listing would look it up: one
    // by one after each (empty) listing, or in batches first.
    let want_lookups = match (cloud.listing_looks_up, path) {
        (false, _) => 0,
        (true, Path::OneByOne) => n,
        (true, Path::Batched) => n.div_ceil(PER_LOOKUP),
    };
    if (lookups, listings, other) != (want_lookups, n, 0) {
        return Err(format!(
            "{what}: {lookups} {}, {listings} {} and {other} other calls for {n} images \
             ({want_lookups} lookups expected)",
            cloud.lookup, cloud.listing
        ));
    }
    Ok(Row {
        cloud,
        path,
        lookups,
        listings,
        other,
        throttled,
        wall,
        plans,
    })
}

fn print_table(rows: &[Row], n: usize, quick: bool) {
    println!();
    println!(
        "Plan at the read quota ({} mode: {n} images, not shared yet, each wanted with 3 \
         accounts; quota {}/s per read action on the emulator and in the client)",
        if quick { "quick" } else { "full" },
        quota(),
    );
    println!(
        "{:<12} {:<11} {:>8} {:>8} {:>6} {:>9} {:>8} {:>8} {:>6} {:>9} {:>9}",
        "cloud",
        "path",
        "lookups",
        "listings",
        "other",
        "throttled",
        "floor s",
        "wall s",
        "ratio",
        "1-quota s",
        "speed-up",
    );
    for pair in rows.chunks(2) {
        let old_wall = pair[0].wall.as_secs_f64();
        for r in pair {
            println!(
                "{:<12} {:<11} {:>8} {:>8} {:>6} {:>9} {:>8.2} {:>8.2} {:>6.3} {:>9.2} {:>8.2}x",
                r.cloud.name,
                r.path.name(),
                r.lookups,
                r.listings,
                r.other,
                r.throttled,
                r.floor().as_secs_f64(),
                r.wall.as_secs_f64(),
                r.ratio(),
                r.shared_floor().as_secs_f64(),
                old_wall / r.wall.as_secs_f64(),
            );
        }
    }
    println!(
        "lookups / listings / other: calls the emulator answered; throttled: answers \
         refused by its quota (retried by the client); floor: the slowest read \
         action's calls / {}/s; ratio: wall / floor; 1-quota: every read call / one \
         quota of {}/s (the floor if the cloud counted all reads together); speed-up: \
         the one-by-one wall / this wall",
        quota(),
        quota()
    );
}
