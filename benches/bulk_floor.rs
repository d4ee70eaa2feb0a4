//! Issue #8, benchmark 3a: the bulk engine at the quota floor.
//!
//! 200 images x 50 accounts on Alibaba ECS and on Tencent CVM, shared by the bulk engine
//! (`imageshare::core::bulk::Bulk` with `BulkOptions::default()`, as the
//! CLI's `apply` runs it) through `Connect::new(..).emulator(..).build()` with the default retry policy
//! and client options (as the CLI builds its adapters). Both clouds take at most 10
//! accounts per `ModifyImageSharePermission`, so the job is 200 x 5 = 1,000 share calls
//! per cloud.
//!
//! The emulator enforces a quota of [`QUOTA`] requests/s on `ModifyImageSharePermission`
//! (a sliding one-second window, per provider and action); nothing limits the reads. The
//! client's rate limiter is configured for that quota: the share action at [`QUOTA`]/s,
//! every other action (the checker's `DescribeImages` and `DescribeImageSharePermission`
//! before each image's shares) at [`READ_RATE`]/s.
//!
//! The floor is (share calls after batching) / quota; the table gives wall time / floor.
//! Two modes per cloud:
//!
//! - clean: only the quota. Target <= 1.10.
//! - faults: the quota, plus 20 % of the share calls answered with the cloud's throttling
//!   code (`throttle_rate`, not charged to the quota) and 5 % with its 5xx (`error_rate`).
//!   Target <= 1.35. Every failed attempt spends a client permit (the transport asks the
//!   limiter before every attempt), so `attempts / quota` is a lower bound of its own,
//!   about `floor / (1 - 0.25)` = 1.333 x floor; the table prints the run's `attempts /
//!   share calls` next to the ratio.
//!
//! Every run is checked through the emulator's inspection API, not the client's word: each
//! image's grants are exactly the 50 wanted accounts (no duplicate, none missing), the
//! successful share calls are exactly the batches (nothing applied twice), every share
//! call the emulator logged either succeeded or was a fault it served, and no read was
//! refused.
//!
//! ```text
//! cargo bench --bench bulk_floor                           # full: about 2 minutes
//! IMAGESHARE_BENCH_QUICK=1 cargo bench --bench bulk_floor  # quick: 20 images x 10 accounts
//! ```
//!
//! Exits non-zero only on a correctness failure (a lost or duplicated grant, a call-count
//! mismatch, an error in the report). A missed time target is printed as MISSED, not
//! failed, so a noisy machine cannot fail CI; quick mode prints the ratios without targets.

#[path = "support/mod.rs"]
mod support;

use imageshare::testing::ConnectEmulator;
use imageshare::ClientBuilder;
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use imageshare::core::bulk::Bulk;
use imageshare::core::ratelimit::{Rate, RateLimits};
use imageshare::core::{ImageId, Principal, Provider, Site};
use imageshare::Connect;
use imageshare_emulator::world::ImageSeed;
use imageshare_emulator::{Emulator, FaultKind, FaultPlan, FaultRule, World};

/// The emulator's quota on `ModifyImageSharePermission`, requests per second. 50/s gives a
/// 20 ms slot per call, over 20x a call's loopback round trip and the client's and the
/// emulator's CPU (together well under 1 ms, benchmark 3b), so the floor is the quota and
/// not the machine, while the full run stays at about 20 s per cloud and mode. (The
/// clouds' published quotas are lower, CVM's 10/s; the ratio does not depend on Q as long
/// as a call costs far less than a slot, and a lower Q only makes the run longer.)
const QUOTA: u32 = 50;
/// The client's rate for every action but the share action. Each image costs two reads
/// (`DescribeImages`, `DescribeImageSharePermission`, one bucket each) per 5 share calls:
/// 10 reads/s per action at the floor, so 40/s leaves them 4x headroom.
const READ_RATE: f64 = 40.0;
/// Accounts per `ModifyImageSharePermission` on both clouds (the checker's batching).
const PER_CALL: usize = 10;
const SHARE: &str = "ModifyImageSharePermission";
const OWNER: &str = "100000000001";
const SEED: u64 = 20_240_603;

/// The injected faults of the faults mode, on the share action only.
const THROTTLE_RATE: f64 = 0.2;
const ERROR_RATE: f64 = 0.05;

const CLEAN_TARGET: f64 = 1.10;
const FAULTS_TARGET: f64 = 1.35;

#[derive(Clone, Copy)]
struct Cloud {
    name: &'static str,
    provider: Provider,
    region: &'static str,
}

const CLOUDS: [Cloud; 2] = [
    Cloud {
        name: "alibaba ecs",
        provider: imageshare::alibaba::ECS,
        region: "cn-hangzhou",
    },
    Cloud {
        name: "tencent cvm",
        provider: imageshare::tencent::CVM,
        region: "ap-guangzhou",
    },
];

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Clean,
    Faults,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Clean => "clean",
            Mode::Faults => "faults",
        }
    }
    fn target(self) -> f64 {
        match self {
            Mode::Clean => CLEAN_TARGET,
            Mode::Faults => FAULTS_TARGET,
        }
    }
    fn plan(self, provider: Provider) -> FaultPlan {
        let (throttle_rate, error_rate) = match self {
            Mode::Clean => (0.0, 0.0),
            Mode::Faults => (THROTTLE_RATE, ERROR_RATE),
        };
        FaultPlan::seeded(SEED).rule(
            FaultRule::new()
                .with_provider(provider)
                .with_action(SHARE)
                .with_qps(QUOTA)
                .with_throttle_rate(throttle_rate)
                .with_error_rate(error_rate),
        )
    }
}

#[derive(Clone, Copy)]
struct Sizes {
    images: usize,
    accounts: usize,
}

/// What one run measured, all of it read from the emulator.
struct Row {
    cloud: Cloud,
    mode: Mode,
    batches: usize,
    /// Share calls the emulator received (first attempts and retries).
    attempts: usize,
    /// Throttling answers because the quota was full.
    quota_throttled: usize,
    /// Injected throttling answers (`throttle_rate`).
    injected_throttled: usize,
    /// Injected 5xx answers.
    server_errors: usize,
    /// Reads (every other action) the emulator received.
    reads: usize,
    wall: Duration,
    floor: Duration,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.wall.as_secs_f64() / self.floor.as_secs_f64()
    }
}

fn peers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("3000000{i:05}")).collect()
}

fn image_ids(provider: Provider, n: usize) -> Vec<ImageId> {
    (0..n)
        .map(|i| match provider {
            imageshare::tencent::CVM => ImageId::new(format!("img-floor{i:03}")),
            _ => ImageId::new(format!("m-floor{i:011}")),
        })
        .collect()
}

fn world(cloud: Cloud, mode: Mode, sizes: Sizes) -> Result<World, String> {
    let mut b = World::builder().account(OWNER, Site::China);
    for p in peers(sizes.accounts) {
        b = b.account(&p, Site::China);
    }
    for id in image_ids(cloud.provider, sizes.images) {
        b = b.image(ImageSeed::new(
            cloud.provider,
            id.as_str(),
            OWNER,
            cloud.region,
        ));
    }
    b.faults(mode.plan(cloud.provider))
        .build()
        .map_err(|e| format!("world: {e}"))
}

fn main() -> ExitCode {
    support::exit("bulk_floor", run())
}

fn run() -> Result<(), String> {
    let quick = support::quick();
    let sizes = if quick {
        Sizes {
            images: 20,
            accounts: 10,
        }
    } else {
        Sizes {
            images: 200,
            accounts: 50,
        }
    };
    // The emulator on its own runtime, as in benches/overhead.rs, so the client's tasks
    // do not queue behind the server's.
    let server_rt = support::runtime("emulator")?;
    let client_rt = support::runtime("bench-client")?;

    let mut rows = Vec::new();
    for mode in [Mode::Clean, Mode::Faults] {
        for cloud in CLOUDS {
            let emu = server_rt
                .block_on(Emulator::start(world(cloud, mode, sizes)?))
                .map_err(|e| format!("emulator: {e}"))?;
            let row = client_rt.block_on(one_run(&emu, cloud, mode, sizes))?;
            eprintln!(
                "{} {}: {} share calls in {:.2?} (floor {:.2?}, {:.3}x); {} attempts",
                cloud.name,
                mode.name(),
                row.batches,
                row.wall,
                row.floor,
                row.ratio(),
                row.attempts
            );
            rows.push(row);
            server_rt.block_on(emu.shutdown());
        }
    }
    print_table(&rows, sizes, quick);
    Ok(())
}

/// Shares every image with every account, then checks the emulator's state and logs.
async fn one_run(emu: &Emulator, cloud: Cloud, mode: Mode, sizes: Sizes) -> Result<Row, String> {
    let what = format!("{} {}", cloud.name, mode.name());
    let table = RateLimits::new()
        .with(SHARE, Rate::per_second(QUOTA as f64))
        .with_default(Some(Rate::per_second(READ_RATE)));
    let sharing = Connect::new(cloud.provider)
        .region(cloud.region)
        .emulator(emu, OWNER)
        .rate_limits(table)
        .build()
        .map_err(|e| format!("{what}: connect: {e}"))?;
    let ids = image_ids(cloud.provider, sizes.images);
    let wanted = peers(sizes.accounts);
    let to: Vec<Principal> = wanted
        .iter()
        .map(|p| Principal::account(p.as_str()))
        .collect();

    let started = Instant::now();
    // `Bulk::new()` takes `BulkOptions::default()`, as the CLI's `apply` does.
    let report = Bulk::new()
        .share_all(&sharing, ids.clone(), &to)
        .run()
        .await;
    let wall = started.elapsed();

    // The report: complete, every pair granted.
    if let Some((image, _, p, e)) = report.failures().next() {
        return Err(format!("{what}: {image} {p} failed: {e} ({report})"));
    }
    let pairs = sizes.images * sizes.accounts;
    if !report.is_complete() || report.count(imageshare::core::OutcomeKind::Granted) != pairs {
        return Err(format!("{what}: {report}, expected {pairs} granted"));
    }

    // The emulator: each image's grants are exactly the wanted accounts, once each.
    let want: BTreeSet<&str> = wanted.iter().map(String::as_str).collect();
    for id in &ids {
        let grants = emu.grants(id.as_str());
        let held: BTreeSet<&str> = grants.iter().map(|g| g.principal.as_str()).collect();
        if held.len() != grants.len() {
            return Err(format!("{what}: {id}: a grant is duplicated"));
        }
        if held != want {
            let lost = want.difference(&held).count();
            let extra = held.difference(&want).count();
            return Err(format!(
                "{what}: {id}: {lost} wanted grants missing, {extra} unexpected"
            ));
        }
    }

    // Every batch applied exactly once; every other share call is a fault the emulator
    // served; no read was refused.
    let batches = sizes.images * sizes.accounts.div_ceil(PER_CALL);
    let calls = emu.calls();
    let share_calls = || {
        calls
            .iter()
            .filter(|c| c.provider == cloud.provider && c.action == SHARE)
    };
    let attempts = share_calls().count();
    let succeeded = share_calls().filter(|c| c.error.is_none()).count();
    if succeeded != batches {
        return Err(format!(
            "{what}: {succeeded} successful {SHARE} calls, expected one per batch ({batches})"
        ));
    }
    let faults = emu.faults_served();
    let count = |f: &dyn Fn(&imageshare_emulator::FaultEvent) -> bool| {
        faults.iter().filter(|e| f(e)).count()
    };
    let on_share = |e: &imageshare_emulator::FaultEvent| e.action == SHARE;
    let quota_throttled = count(&|e| on_share(e) && e.kind == FaultKind::Throttle && e.quota);
    let injected_throttled = count(&|e| on_share(e) && e.kind == FaultKind::Throttle && !e.quota);
    let server_errors = count(&|e| on_share(e) && e.kind == FaultKind::ServerError);
    let served_on_share = count(&on_share);
    if attempts != succeeded + served_on_share {
        return Err(format!(
            "{what}: the emulator logged {attempts} {SHARE} calls: {succeeded} succeeded and \
             {served_on_share} were injected faults, so {} failed otherwise",
            attempts - succeeded - served_on_share
        ));
    }
    if served_on_share != faults.len() {
        return Err(format!(
            "{what}: {} faults served on reads, which have no fault rule",
            faults.len() - served_on_share
        ));
    }
    let reads: Vec<_> = calls.iter().filter(|c| c.action != SHARE).collect();
    if let Some(c) = reads.iter().find(|c| c.error.is_some()) {
        return Err(format!("{what}: a {} call failed: {:?}", c.action, c.error));
    }
    if mode == Mode::Clean && injected_throttled + server_errors > 0 {
        return Err(format!("{what}: faults injected in the clean mode"));
    }

    Ok(Row {
        cloud,
        mode,
        batches,
        attempts,
        quota_throttled,
        injected_throttled,
        server_errors,
        reads: reads.len(),
        wall,
        floor: Duration::from_secs_f64(batches as f64 / QUOTA as f64),
    })
}

fn print_table(rows: &[Row], sizes: Sizes, quick: bool) {
    println!();
    println!(
        "Bulk share at the quota floor ({} mode: {} images x {} accounts, {} accounts per \
         call, quota {QUOTA} {SHARE}/s, client at {QUOTA}/s and reads at {READ_RATE}/s, \
         concurrency {})",
        if quick { "quick" } else { "full" },
        sizes.images,
        sizes.accounts,
        PER_CALL,
        imageshare::core::bulk::BulkOptions::default().concurrency,
    );
    println!(
        "{:<12} {:<7} {:>6} {:>8} {:>9} {:>5} {:>5} {:>5} {:>6} {:>8} {:>8} {:>6} {:>7}  result",
        "cloud",
        "mode",
        "calls",
        "attempts",
        "att/call",
        "quota",
        "thr",
        "5xx",
        "reads",
        "floor s",
        "wall s",
        "ratio",
        "target",
    );
    for r in rows {
        let result = if quick {
            "not enforced (quick)".to_owned()
        } else if r.ratio() <= r.mode.target() {
            "MET".to_owned()
        } else {
            "MISSED".to_owned()
        };
        println!(
            "{:<12} {:<7} {:>6} {:>8} {:>9.3} {:>5} {:>5} {:>5} {:>6} {:>8.2} {:>8.2} {:>6.3} {:>7}  {}",
            r.cloud.name,
            r.mode.name(),
            r.batches,
            r.attempts,
            r.attempts as f64 / r.batches as f64,
            r.quota_throttled,
            r.injected_throttled,
            r.server_errors,
            r.reads,
            r.floor.as_secs_f64(),
            r.wall.as_secs_f64(),
            r.ratio(),
            format!("<={:.2}", r.mode.target()),
            result
        );
    }
    println!(
        "calls: share calls after batching (each applied exactly once, checked); attempts: \
         {SHARE} calls the emulator received; quota: refused by the quota; thr / 5xx: \
         injected; floor: calls / {QUOTA}/s; ratio: wall / floor"
    );
}
