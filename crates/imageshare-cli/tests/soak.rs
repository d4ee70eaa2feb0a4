//! Fault soak and crash convergence of `imageshare apply` (issue #9), loopback only.
//!
//! One manifest of 2,000 grants over the five surfaces, each image at or under its
//! surface's per-image maximum: 4 Lighthouse blueprints x 275 accounts (no maximum),
//! 2 UCloud images x 25 projects (maximum 50, one per call), 2 CVM images x 300
//! (maximum 500), 4 ECS images x 50 (maximum 50) and 5 SAS images x 10 (maximum 10).
//!
//! - **Soak** (`apply_converges_under_throttling_5xx_and_drops`): the CLI applies it while
//!   the emulator throttles 30 % of every action's requests, answers 5 % with the cloud's
//!   5xx, drops 2 % of the connections and adds latency. The final state is exactly the
//!   manifest, each grant was made by exactly one successful share call (successful share
//!   calls = batches), nothing outside the manifest is granted, and the retries the CLI
//!   prints (`retries.plan` and `retries.apply` of `apply --output json`) are, per
//!   provider, action and reason, exactly the faults the emulator served.
//! - **Retry accounting** (`the_library_report_accounts_for_every_fault_served`): the same
//!   world, fault plan and manifest through the library (plan, then the `Bulk` engine, as
//!   the CLI does): the failed attempts of the plan's retry log and of the bulk report, per
//!   provider, action and reason, are exactly the faults the emulator served, plan and
//!   apply each on its own.
//! - **SIGKILL** (`apply_killed_mid_run_converges_on_the_next_run`): apply is killed while
//!   it runs; what it left is a subset of the manifest, and the next apply completes it
//!   with exactly the share calls the remainder needs (nothing granted twice).

mod common;

use imageshare::testing::ConnectEmulator;
use imageshare::ClientBuilder;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use imageshare::core::bulk::Bulk;
use imageshare::core::plan::{self, SharePlan};
use imageshare::core::transport::{RetryCounts, RetryLog, RetryReason};
use imageshare::core::{CallContext, ImageKind, Provider, Region, Site};
use imageshare::manifest::Manifest;
use imageshare::{Connect, DynSharing};
use imageshare_emulator::world::ImageSeed;
use imageshare_emulator::{Emulator, FaultEvent, FaultKind, FaultPlan, FaultRule, World};
use serde_json::Value;

use common::{fresh_dir, is_read, owner_env, run_async, stderr, stdout, strings, OWNER};

/// The UCloud project of the owner (the one `owner_env` selects).
const OWNER_PROJECT: &str = "org-a1b2c3";
const TENCENT_REGION: &str = "ap-guangzhou";
const ALIBABA_REGION: &str = "cn-hangzhou";
const UCLOUD_REGION: &str = "cn-bj2";

/// One surface's share of the manifest.
struct Surface {
    provider: Provider,
    region: &'static str,
    prefix: &'static str,
    kind: ImageKind,
    images: usize,
    per_image: usize,
}

/// 1100 + 50 + 600 + 200 + 50 = 2000 grants. The long chains of calls (one image's
/// batches go one after the other) are split over several images, which `apply` works on
/// at once, and come first.
const SURFACES: [Surface; 5] = [
    Surface {
        provider: imageshare::tencent::LIGHTHOUSE,
        region: TENCENT_REGION,
        prefix: "lhbp-soak",
        kind: ImageKind::LightweightHost,
        images: 4,
        per_image: 275,
    },
    Surface {
        provider: imageshare::ucloud::UHOST,
        region: UCLOUD_REGION,
        prefix: "uimage-soak",
        kind: ImageKind::SystemDisk,
        images: 2,
        per_image: 25,
    },
    Surface {
        provider: imageshare::tencent::CVM,
        region: TENCENT_REGION,
        prefix: "img-soak",
        kind: ImageKind::SystemDisk,
        images: 2,
        per_image: 300,
    },
    Surface {
        provider: imageshare::alibaba::ECS,
        region: ALIBABA_REGION,
        prefix: "m-soakecs",
        kind: ImageKind::SystemDisk,
        images: 4,
        per_image: 50,
    },
    Surface {
        provider: imageshare::alibaba::SAS,
        region: ALIBABA_REGION,
        prefix: "m-soaksas",
        kind: ImageKind::LightweightHost,
        images: 5,
        per_image: 10,
    },
];

const GRANTS: usize = 2000;
/// Peer accounts: enough for the largest image.
const ACCOUNTS: usize = 1100;
/// Peer UCloud projects (one per peer account, the first ones).
const PROJECTS: usize = 50;

fn account(i: usize) -> String {
    format!("300000{i:06}")
}

fn project(i: usize) -> String {
    format!("org-soak{i:03}")
}

/// One image of the manifest: where it lives and who it must be shared with.
struct Wanted {
    provider: Provider,
    region: &'static str,
    id: String,
    principals: BTreeSet<String>,
}

/// The manifest's images. Images of a surface take consecutive windows of the peers, so
/// no two images of a surface want the same set.
fn wanted() -> Vec<Wanted> {
    let mut out = Vec::new();
    for s in &SURFACES {
        for k in 0..s.images {
            let principals = (0..s.per_image)
                .map(|j| {
                    if s.provider == imageshare::ucloud::UHOST {
                        project((k * s.per_image + j) % PROJECTS)
                    } else {
                        account((k * s.per_image + j) % ACCOUNTS)
                    }
                })
                .collect();
            out.push(Wanted {
                provider: s.provider,
                region: s.region,
                id: format!("{}{k}", s.prefix),
                principals,
            });
        }
    }
    assert_eq!(
        out.iter().map(|w| w.principals.len()).sum::<usize>(),
        GRANTS
    );
    for (w, s) in out
        .iter()
        .zip(SURFACES.iter().flat_map(|s| (0..s.images).map(move |_| s)))
    {
        let max = imageshare::limits_of(s.provider)
            .unwrap()
            .max_sharees_per_image;
        assert!(max.is_none_or(|m| w.principals.len() <= m), "{}", w.id);
    }
    out
}

/// The owner (with its UCloud project), the peers, the images (none shared), `faults`.
fn world(faults: FaultPlan) -> World {
    let mut b = World::builder()
        .account(OWNER, Site::China)
        .project(OWNER_PROJECT);
    for i in 0..ACCOUNTS {
        b = b.account(&account(i), Site::China);
        if i < PROJECTS {
            b = b.project(&project(i));
        }
    }
    for s in &SURFACES {
        let owner = if s.provider == imageshare::ucloud::UHOST {
            OWNER_PROJECT
        } else {
            OWNER
        };
        for k in 0..s.images {
            let id = format!("{}{k}", s.prefix);
            b = b.image(ImageSeed::new(s.provider, &id, owner, s.region).kind(s.kind));
        }
    }
    b.faults(faults).build().unwrap()
}

/// 30 % throttled, 5 % 5xx, 2 % dropped connections and 1-4 ms of latency on every
/// action of every provider.
fn soak_faults() -> FaultPlan {
    FaultPlan::seeded(20_250_109).rule(
        FaultRule::new()
            .with_throttle_rate(0.30)
            .with_error_rate(0.05)
            .with_drop_rate(0.02)
            .with_latency_ms(1, 4),
    )
}

/// The manifest of [`wanted`], written to `dir`.
fn write_manifest(dir: &Path, wanted: &[Wanted]) -> PathBuf {
    let mut text = String::new();
    for w in wanted {
        let list: Vec<String> = w.principals.iter().map(|p| format!("\"{p}\"")).collect();
        text.push_str(&format!(
            "[[image]]\nprovider = \"{}\"\nregion = \"{}\"\nid = \"{}\"\nshare_with = [{}]\n\n",
            w.provider,
            w.region,
            w.id,
            list.join(", ")
        ));
    }
    let path = dir.join("soak.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// An image's grants, checked to hold no principal twice.
fn grants(emu: &Emulator, id: &str) -> BTreeSet<String> {
    let g = emu.grants(id);
    let set: BTreeSet<String> = g.iter().map(|g| g.principal.clone()).collect();
    assert_eq!(set.len(), g.len(), "{id}: a principal is granted twice");
    set
}

/// Every image of the emulator that holds a grant but is not in the manifest.
fn granted_outside(emu: &Emulator, wanted: &[Wanted]) -> Vec<String> {
    let ids: Vec<String> = emu.with_engine(|e| e.images().map(|i| i.id.clone()).collect());
    ids.into_iter()
        .filter(|id| !wanted.iter().any(|w| &w.id == id) && !emu.grants(id).is_empty())
        .collect()
}

/// The state is exactly the manifest: every wanted grant, nothing else, nothing twice.
fn assert_state_is_the_manifest(emu: &Emulator, wanted: &[Wanted]) {
    for w in wanted {
        assert_eq!(grants(emu, &w.id), w.principals, "{}", w.id);
    }
    assert_eq!(granted_outside(emu, wanted), Vec::<String>::new());
}

/// Share calls of `provider` the emulator answered with success (share and unshare are
/// the only writes `apply` makes, and the manifests here never prune).
fn successful_writes(emu: &Emulator) -> BTreeMap<Provider, usize> {
    let mut out = BTreeMap::new();
    for c in emu.calls() {
        if !is_read(&c.action) && c.error.is_none() {
            *out.entry(c.provider).or_insert(0) += 1;
        }
    }
    out
}

/// The share calls `missing` principals per image need: the checker's batches of the
/// provider's per-call maximum.
fn batches(wanted: &[Wanted], missing: impl Fn(&Wanted) -> usize) -> BTreeMap<Provider, usize> {
    let mut out = BTreeMap::new();
    for w in wanted {
        let per_call = imageshare::limits_of(w.provider)
            .unwrap()
            .max_principals_per_call;
        let n = missing(w).div_ceil(per_call);
        if n > 0 {
            *out.entry(w.provider).or_insert(0) += n;
        }
    }
    out
}

/// The failed attempt a client sees for each fault the emulator serves.
fn reason(kind: FaultKind) -> RetryReason {
    match kind {
        FaultKind::Throttle => RetryReason::Throttled,
        FaultKind::ServerError => RetryReason::ServerError,
        FaultKind::Drop => RetryReason::Connection,
        other => panic!("no retry reason for the fault kind {other:?}: add one here"),
    }
}

/// Faults served, per (provider, action), as the failed attempts they are.
fn served_as_attempts(served: &[FaultEvent]) -> BTreeMap<(Provider, String), RetryCounts> {
    let mut out: BTreeMap<(Provider, String), RetryCounts> = BTreeMap::new();
    for f in served {
        out.entry((f.provider, f.action.clone()))
            .or_default()
            .add(reason(f.kind));
    }
    out
}

/// A retry log's failed attempts (retried and given up) per (provider, action).
fn logged_attempts(log: &RetryLog) -> BTreeMap<(Provider, String), RetryCounts> {
    log.actions()
        .iter()
        .map(|a| ((a.provider, a.action.clone()), a.failed_attempts()))
        .collect()
}

/// The failed attempts (retried and given up) per (provider, action) of a retry log as
/// the CLI prints it: `[{"provider", "action", "retried": {..}, "gave_up": {..}}]`.
fn printed_attempts(log: &Value) -> BTreeMap<(Provider, String), RetryCounts> {
    let counts = |v: &Value| {
        let n = |reason: &str| {
            v[reason]
                .as_u64()
                .unwrap_or_else(|| panic!("no {reason} count in {v}"))
        };
        RetryCounts {
            throttled: n("throttled"),
            server_error: n("server_error"),
            connection: n("connection"),
            timeout: n("timeout"),
        }
    };
    let mut out: BTreeMap<(Provider, String), RetryCounts> = BTreeMap::new();
    for a in log
        .as_array()
        .unwrap_or_else(|| panic!("not a retry log: {log}"))
    {
        let provider: Provider = a["provider"].as_str().unwrap().parse().unwrap();
        let action = a["action"].as_str().unwrap().to_owned();
        let entry = out.entry((provider, action)).or_default();
        entry.merge(&counts(&a["retried"]));
        entry.merge(&counts(&a["gave_up"]));
    }
    out
}

/// Faults served, all actions together, as the failed attempts they are.
fn served_total(served: &[FaultEvent]) -> RetryCounts {
    let mut out = RetryCounts::default();
    for f in served {
        out.add(reason(f.kind));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_converges_under_throttling_5xx_and_drops() {
    let wanted = wanted();
    let emu = Emulator::start(world(soak_faults())).await.unwrap();
    let dir = fresh_dir("soak-faults");
    let manifest = write_manifest(&dir, &wanted);
    let args = strings(&[
        "--output",
        "json",
        "apply",
        "-f",
        manifest.to_str().unwrap(),
        "--yes",
    ]);

    let started = Instant::now();
    let o = run_async(dir.clone(), args, owner_env(&emu)).await;
    let elapsed = started.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // What the CLI prints: one entry per image step, every principal granted, no error.
    let out: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let entries = out["results"].as_array().unwrap();
    assert_eq!(entries.len(), wanted.len(), "{out}");
    let mut labels: BTreeMap<String, usize> = BTreeMap::new();
    for e in entries {
        assert!(e.get("error").is_none(), "{e}");
        for r in e["results"].as_array().unwrap() {
            *labels
                .entry(r["outcome"].as_str().unwrap().to_owned())
                .or_insert(0) += 1;
        }
    }
    // Faults are served before a request reaches the service, so no grant landed unseen:
    // every principal is reported granted by this run.
    assert_eq!(labels, BTreeMap::from([("granted".to_owned(), GRANTS)]));

    assert_state_is_the_manifest(&emu, &wanted);
    // Each batch landed through exactly one successful share call: a retried call never
    // lands twice and no principal was sent again once granted.
    assert_eq!(
        successful_writes(&emu),
        batches(&wanted, |w| w.principals.len())
    );

    // Every fault served is one failed attempt in the retries the CLI printed, with the
    // right provider, action and reason: the plan's reads and the apply's calls together.
    let served = emu.faults_served();
    let mut printed = printed_attempts(&out["retries"]["plan"]["by_action"]);
    for (key, counts) in printed_attempts(&out["retries"]["apply"]["by_action"]) {
        printed.entry(key).or_default().merge(&counts);
    }
    assert_eq!(printed, served_as_attempts(&served));

    // The faults were served on every surface, in about the proportions asked for.
    let kinds = served_total(&served);
    let requests = emu.calls().len();
    assert!(
        (0.2..0.4).contains(&(kinds.throttled as f64 / requests as f64)),
        "{} of {requests} throttled",
        kinds.throttled
    );
    assert!(kinds.server_error > 0 && kinds.connection > 0, "{kinds}");
    for s in &SURFACES {
        assert!(
            served.iter().any(|f| f.provider == s.provider),
            "no fault served on {}",
            s.provider
        );
    }
    eprintln!(
        "soak: {GRANTS} grants in {elapsed:?}: {requests} requests, faults served: {kinds:?}"
    );
}

/// One adapter per (provider, region) of the manifest, as the CLI connects them: one
/// `ClientOptions` (one rate limiter), the CLI's retry policy (the default).
fn connect_all(emu: &Emulator, m: &Manifest) -> BTreeMap<(Provider, Region), DynSharing> {
    let client = imageshare::core::transport::ClientOptions::default();
    let mut conns = BTreeMap::new();
    for img in &m.images {
        conns
            .entry((img.provider, img.region.clone()))
            .or_insert_with(|| {
                Connect::new(img.provider)
                    .region(img.region.clone())
                    .emulator(emu, OWNER)
                    .client_options(client.clone())
                    .build()
                    .unwrap()
            });
    }
    conns
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_report_accounts_for_every_fault_served() {
    let wanted = wanted();
    let emu = Emulator::start(world(soak_faults())).await.unwrap();
    let dir = fresh_dir("soak-accounting");
    let m = Manifest::from_file(write_manifest(&dir, &wanted)).unwrap();
    let conns = connect_all(&emu, &m);
    let conn = |p: Provider, r: &Region| &conns[&(p, r.clone())];

    // Plan (one image after the other), in a context collecting its retries, as `apply`
    // does.
    let t0 = Instant::now();
    let (cx, plan_log) = CallContext::new().collecting_retries();
    let mut plans: Vec<SharePlan> = Vec::new();
    for img in &m.images {
        let p = plan::plan_in(
            conn(img.provider, &img.region),
            &cx,
            &img.id.as_str().into(),
            &img.share_with,
            img.prune,
        )
        .await
        .unwrap();
        plans.push(p);
    }
    let plan_log = plan_log.take();
    let planned = emu.faults_served();
    assert_eq!(logged_attempts(&plan_log), served_as_attempts(&planned));

    // Apply through the bulk engine with its default options, as `apply` does.
    let mut job = Bulk::new();
    for (img, p) in m.images.iter().zip(&plans) {
        job = job.plan(conn(img.provider, &img.region), p);
    }
    let t1 = Instant::now();
    let report = job.run().await;
    let (plan_time, apply_time) = (t1 - t0, t1.elapsed());
    assert!(
        report.is_complete(),
        "{report}: {:?}",
        report.failures().next()
    );
    assert_eq!(report.count(imageshare::core::OutcomeKind::Granted), GRANTS);
    assert_state_is_the_manifest(&emu, &wanted);

    // Every fault served during the job is one failed attempt in the report, with the
    // right provider, action and reason; none is missing and none is counted twice.
    let served = emu.faults_served()[planned.len()..].to_vec();
    let summary = report.retry_summary();
    assert_eq!(
        logged_attempts(&summary.by_action),
        served_as_attempts(&served),
        "{summary}"
    );
    let mut total = summary.retried;
    total.merge(&summary.gave_up);
    assert_eq!(total.total(), served.len() as u64);
    assert!(summary.retried.throttled > 0 && summary.retried.server_error > 0);
    assert!(summary.retried.connection > 0, "{summary}");
    // The engine's retry passes took exactly the steps whose transport gave up.
    let gave_up_steps = report
        .ops
        .iter()
        .filter(|op| !op.retries.gave_up().is_empty())
        .count();
    assert!(summary.retry_passes as usize <= gave_up_steps, "{summary}");
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["retried"]["throttled"], summary.retried.throttled);
    eprintln!(
        "accounting: plan ({plan_time:?}): {plan_log} / {} faults served; apply \
         ({apply_time:?}): {summary} / {} faults served",
        planned.len(),
        served.len()
    );
}

/// Starts `imageshare` with a clean environment plus `env`, output discarded.
fn spawn(home: &Path, args: &[String], env: &[(String, String)]) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imageshare"));
    cmd.args(args)
        .env_clear()
        .env("HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn total_grants(emu: &Emulator, wanted: &[Wanted]) -> usize {
    wanted.iter().map(|w| emu.grants(&w.id).len()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_killed_mid_run_converges_on_the_next_run() {
    let wanted = wanted();
    // Latency only: the run takes seconds (paced by the client's rate limits), so it can
    // be killed in the middle; without faults the call counts below are exact.
    let slow = FaultPlan::seeded(7).rule(FaultRule::new().with_latency_ms(5, 15));
    let emu = Emulator::start(world(slow)).await.unwrap();
    let dir = fresh_dir("soak-kill");
    let manifest = write_manifest(&dir, &wanted);
    let args = strings(&["apply", "-f", manifest.to_str().unwrap(), "--yes"]);
    let env = owner_env(&emu);

    let mut child = spawn(&dir, &args, &env);
    // Wait until some grants landed, but far from all (bounded: 60 s).
    let deadline = Instant::now() + Duration::from_secs(60);
    let seen = loop {
        let n = total_grants(&emu, &wanted);
        if n >= GRANTS / 5 {
            break n;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "apply ended before it could be killed ({n} grants)"
        );
        assert!(Instant::now() < deadline, "only {n} grants after 60 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    child.kill().unwrap(); // SIGKILL on unix
    let status = child.wait().unwrap();
    assert!(!status.success(), "{status:?}");
    // A request already sent may still be answered (the emulator's latency is at most
    // 15 ms): let the state settle before looking at it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let left = total_grants(&emu, &wanted);
    assert!(
        left >= seen && left < GRANTS,
        "killed too late: {left} grants"
    );

    // What the killed run left is a subset of the manifest, and nothing else is granted.
    let after_kill: BTreeMap<String, BTreeSet<String>> = wanted
        .iter()
        .map(|w| (w.id.clone(), grants(&emu, &w.id)))
        .collect();
    for w in &wanted {
        let have = &after_kill[&w.id];
        assert!(have.is_subset(&w.principals), "{}: {have:?}", w.id);
    }
    assert_eq!(granted_outside(&emu, &wanted), Vec::<String>::new());
    let writes_before = successful_writes(&emu);

    // The next run completes it, sending exactly the share calls the remainder needs.
    let o = run_async(dir.clone(), args, env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_state_is_the_manifest(&emu, &wanted);
    let mut second_run = successful_writes(&emu);
    for (p, n) in &writes_before {
        *second_run.get_mut(p).unwrap() -= n;
    }
    second_run.retain(|_, n| *n > 0);
    let remainder = batches(&wanted, |w| w.principals.len() - after_kill[&w.id].len());
    assert_eq!(second_run, remainder);
    eprintln!(
        "killed with {left} of {GRANTS} grants; the next run made {} share calls",
        remainder.values().sum::<usize>()
    );
}
