//! Client overhead: requests/s of imageshare vs the cloud's official Python SDK, calling the
//! same action of the same in-process emulator on loopback.
//!
//! | cloud   | imageshare               | Python SDK                                 |
//! |---------|--------------------------|--------------------------------------------|
//! | tencent | `sharees` (CVM)          | `CvmClient.DescribeImageSharePermission`   |
//! | alibaba | `sharees` (ECS, ACS3)    | `Client.describe_image_share_permission`   |
//! | ucloud  | `image` (UHost)          | `uhost().describe_image`                   |
//!
//! The emulator action is DescribeImageSharePermission (Tencent, Alibaba) and DescribeImage
//! (UCloud). Each is measured sequentially (one request after another) and with 16 in
//! flight (imageshare: 16 tasks sharing one client; Python: a pool of 16 threads, one
//! client each), for a fixed number of requests, after an untimed warm-up. imageshare goes
//! through `Connect::new(..).emulator(..).build()`, i.e. the limit checker and the
//! adapter's retry and concurrency layers, as a user would, with the client-side rate
//! limiter off (at the published quotas, 10 req/s for CVM DescribeImageSharePermission,
//! it would measure the limiter; the Python SDKs have no client-side limiter). The
//! emulator's call log is checked afterwards: each side sent exactly the number of
//! requests it claims, to the right action.
//!
//! A second table gives CPU time per request (Linux `/proc/self/task/*/schedstat`): the
//! imageshare threads, the Python process (`time.process_time`), and the emulator's
//! server threads.
//!
//! The emulator runs on its own Tokio runtime (2 workers) in this process for both
//! sides, so the ratio compares client overhead plus the same server cost.
//!
//! ```text
//! IMAGESHARE_INTEROP_PYTHON=target/interop-venv/bin/python cargo bench --bench overhead
//! IMAGESHARE_BENCH_QUICK=1 IMAGESHARE_INTEROP_PYTHON=... cargo bench --bench overhead
//! ```
//!
//! Exits non-zero on any request error or call-count mismatch, on either side.

#[path = "support/mod.rs"]
mod support;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use imageshare::core::transport::ClientOptions;
use imageshare::core::{ImageId, ImageSharing, Principal, Provider};
use imageshare::{Connect, DynSharing};
use imageshare_emulator::{Emulator, World};
use serde_json::json;

const OWNER: &str = "100000000001";
const PEER: &str = "100000000002";

struct Target {
    cloud: &'static str,
    provider: Provider,
    region: &'static str,
    image: &'static str,
    action: &'static str,
}

static TARGETS: [Target; 3] = [
    Target {
        cloud: "tencent",
        provider: Provider::TencentCvm,
        region: "ap-guangzhou",
        image: "img-6pb6lrmy",
        action: "DescribeImageSharePermission",
    },
    Target {
        cloud: "alibaba",
        provider: Provider::AlibabaEcs,
        region: "cn-hangzhou",
        image: "m-bp18ygjuqnwhechc",
        action: "DescribeImageSharePermission",
    },
    Target {
        cloud: "ucloud",
        provider: Provider::UCloud,
        region: "cn-bj2",
        image: "uimage-golden01",
        action: "DescribeImage",
    },
];

#[derive(Clone, Copy)]
struct Sizes {
    warmup: usize,
    sequential: usize,
    parallel: usize,
    in_flight: usize,
}

#[derive(Default, Clone, Copy)]
struct Rates {
    sequential: f64,
    parallel: f64,
}

/// CPU time per request, in microseconds: the client's (imageshare's threads, or the
/// Python process) and the emulator's server threads.
#[derive(Default, Clone, Copy)]
struct Cpu {
    client: Option<f64>,
    server: Option<f64>,
}

/// Thread-name prefixes of the two runtimes, to tell their CPU time apart.
const SERVER_THREADS: &str = "emulator";
const CLIENT_THREADS: &str = "bench-client";

/// CPU time (ns) of this process's threads so far, as (emulator threads, every other
/// thread), from Linux's `/proc/self/task/*/schedstat`; `None` where that is not
/// available.
fn cpu_ns() -> Option<(u64, u64)> {
    let mut server = 0;
    let mut other = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let Some(ns) = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        else {
            continue;
        };
        if comm.starts_with(SERVER_THREADS) {
            server += ns;
        } else {
            other += ns;
        }
    }
    (server + other > 0).then_some((server, other))
}

/// CPU microseconds per request between two `cpu_ns` readings.
fn cpu_per_request(before: Option<(u64, u64)>, after: Option<(u64, u64)>, n: usize) -> Cpu {
    match (before, after) {
        (Some((s0, c0)), Some((s1, c1))) => Cpu {
            client: Some(c1.saturating_sub(c0) as f64 / 1e3 / n as f64),
            server: Some(s1.saturating_sub(s0) as f64 / 1e3 / n as f64),
        },
        _ => Cpu::default(),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("overhead: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime(name: &str) -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

fn run() -> Result<(), String> {
    let quick = support::quick();
    let sizes = if quick {
        Sizes {
            warmup: 5,
            sequential: 100,
            parallel: 200,
            in_flight: 16,
        }
    } else {
        Sizes {
            warmup: 50,
            sequential: 2_000,
            parallel: 4_000,
            in_flight: 16,
        }
    };
    let python = support::python()?;

    let server_rt = runtime(SERVER_THREADS)?;
    let client_rt = runtime(CLIENT_THREADS)?;
    let emu = server_rt
        .block_on(Emulator::start(World::example()))
        .map_err(|e| format!("emulator: {e}"))?;

    let mut results = Vec::new();
    for t in &TARGETS {
        let sharing = Connect::new(t.provider)
            .region(t.region)
            .emulator(&emu, OWNER)
            // The published quotas (CVM DescribeImageSharePermission: 10/s) would make this
            // a measure of the client-side rate limiter; the Python SDKs have none.
            .client_options(ClientOptions::default().without_rate_limiter())
            .build()
            .map_err(|e| format!("{}: connect: {e}", t.cloud))?;
        let sharing = Arc::new(sharing);
        let id = ImageId::from(t.image);

        // One sharee, so DescribeImageSharePermission answers a non-empty list.
        if t.provider != Provider::UCloud {
            client_rt
                .block_on(sharing.share(&id, &[Principal::account(PEER)]))
                .map_err(|e| format!("{}: share with {PEER}: {e}", t.cloud))?;
        }

        let before = emu.action_count(t.provider, t.action);
        let (ours, cpu) = client_rt.block_on(measure(&sharing, t, &id, sizes))?;
        let sent = sizes.warmup + sizes.sequential + sizes.parallel;
        let got = emu.action_count(t.provider, t.action) - before;
        if got != sent {
            return Err(format!(
                "{}: imageshare made {sent} calls but the emulator logged {got} {}",
                t.cloud, t.action
            ));
        }
        eprintln!(
            "imageshare {}: sequential {:.0} req/s, {} in flight {:.0} req/s",
            t.cloud, ours.sequential, sizes.in_flight, ours.parallel
        );
        results.push((t, ours, cpu));
    }

    let theirs = match &python {
        None => None,
        Some(python) => Some(python_rates(python, &emu, sizes)?),
    };

    server_rt.block_on(emu.shutdown());

    println!();
    println!(
        "Client overhead against the in-process emulator ({} mode: {} sequential, {} with {} \
         in flight, after {} warm-up requests)",
        if quick { "quick" } else { "full" },
        sizes.sequential,
        sizes.parallel,
        sizes.in_flight,
        sizes.warmup
    );
    println!(
        "{:<8} {:<29} {:<13} {:>16} {:>13} {:>7}",
        "cloud", "action", "mode", "imageshare req/s", "python req/s", "ratio"
    );
    let parallel_mode = format!("{} in flight", sizes.in_flight);
    for (t, ours, _) in &results {
        let py = theirs.as_ref().and_then(|p: &serde_json::Value| {
            Some(Rates {
                sequential: p[t.cloud]["sequential"].as_f64()?,
                parallel: p[t.cloud]["parallel"].as_f64()?,
            })
        });
        for (mode, mine, other) in [
            ("sequential", ours.sequential, py.map(|p| p.sequential)),
            (
                parallel_mode.as_str(),
                ours.parallel,
                py.map(|p| p.parallel),
            ),
        ] {
            let (py_col, ratio) = match other {
                Some(o) => (support::grouped(o), format!("{:.1}x", mine / o)),
                None => ("-".to_owned(), "-".to_owned()),
            };
            println!(
                "{:<8} {:<29} {:<13} {:>16} {:>13} {:>7}",
                t.cloud,
                t.action,
                mode,
                support::grouped(mine),
                py_col,
                ratio
            );
        }
    }

    println!();
    println!(
        "CPU per request, us (imageshare: its threads in this process; python: the Python \
         process; emulator: its server threads during the imageshare run)"
    );
    println!(
        "{:<8} {:<13} {:>14} {:>10} {:>7} {:>12}",
        "cloud", "mode", "imageshare us", "python us", "ratio", "emulator us"
    );
    let us = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{x:.0}"));
    for (t, _, cpu) in &results {
        for (i, (mode, key)) in [
            ("sequential", "sequential"),
            (parallel_mode.as_str(), "parallel"),
        ]
        .into_iter()
        .enumerate()
        {
            let py = theirs
                .as_ref()
                .and_then(|p| p[t.cloud]["cpu_us"][key].as_f64());
            let ratio = match (py, cpu[i].client) {
                (Some(p), Some(c)) if c > 0.0 => format!("{:.1}x", p / c),
                _ => "-".to_owned(),
            };
            println!(
                "{:<8} {:<13} {:>14} {:>10} {:>7} {:>12}",
                t.cloud,
                mode,
                us(cpu[i].client),
                us(py),
                ratio,
                us(cpu[i].server)
            );
        }
    }
    Ok(())
}

/// One call of the target's action through imageshare, checked.
async fn call(sharing: &DynSharing, t: &Target, id: &ImageId) -> Result<(), String> {
    if t.provider == Provider::UCloud {
        let img = sharing
            .image(id)
            .await
            .map_err(|e| format!("{}: image: {e}", t.cloud))?;
        if img.id != *id {
            return Err(format!("{}: image answered {}", t.cloud, img.id));
        }
    } else {
        let sharees = sharing
            .sharees(id)
            .await
            .map_err(|e| format!("{}: sharees: {e}", t.cloud))?;
        if sharees.len() != 1 {
            return Err(format!(
                "{}: {} sharees, expected 1",
                t.cloud,
                sharees.len()
            ));
        }
    }
    Ok(())
}

async fn measure(
    sharing: &Arc<DynSharing>,
    t: &'static Target,
    id: &ImageId,
    sizes: Sizes,
) -> Result<(Rates, [Cpu; 2]), String> {
    for _ in 0..sizes.warmup {
        call(sharing, t, id).await?;
    }

    let cpu0 = cpu_ns();
    let start = Instant::now();
    for _ in 0..sizes.sequential {
        call(sharing, t, id).await?;
    }
    let sequential = sizes.sequential as f64 / start.elapsed().as_secs_f64();
    let cpu_seq = cpu_per_request(cpu0, cpu_ns(), sizes.sequential);

    // `in_flight` tasks, each doing its share of the requests one after another.
    let cpu0 = cpu_ns();
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..sizes.in_flight {
        let n = sizes.parallel / sizes.in_flight
            + usize::from(worker < sizes.parallel % sizes.in_flight);
        let sharing = sharing.clone();
        let id = id.clone();
        tasks.spawn(async move {
            for _ in 0..n {
                call(&sharing, t, &id).await?;
            }
            Ok::<(), String>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| format!("{}: task: {e}", t.cloud))??;
    }
    let parallel = sizes.parallel as f64 / start.elapsed().as_secs_f64();
    let cpu_par = cpu_per_request(cpu0, cpu_ns(), sizes.parallel);
    Ok((
        Rates {
            sequential,
            parallel,
        },
        [cpu_seq, cpu_par],
    ))
}

/// Runs benches/python/overhead.py against the same emulator and checks its calls.
fn python_rates(
    python: &std::ffi::OsString,
    emu: &Emulator,
    sizes: Sizes,
) -> Result<serde_json::Value, String> {
    let owner = emu
        .account(OWNER)
        .ok_or_else(|| format!("{OWNER} is not in the world"))?;
    let tc = owner.keys.tencent.clone().ok_or("no Tencent key")?;
    let ali = owner.keys.alibaba.clone().ok_or("no Alibaba key")?;
    let uc = owner.keys.ucloud.clone().ok_or("no UCloud key")?;
    let project = owner.projects.first().cloned().ok_or("no UCloud project")?;
    let [tencent, alibaba, ucloud] = &TARGETS;
    let config = json!({
        "base_url": emu.base_url(),
        "warmup": sizes.warmup,
        "sequential": sizes.sequential,
        "parallel": sizes.parallel,
        "in_flight": sizes.in_flight,
        "clouds": ["tencent", "alibaba", "ucloud"],
        "tencent": {
            "secret_id": tc.id, "secret_key": tc.secret,
            "region": tencent.region, "image": tencent.image,
        },
        "alibaba": {
            "key_id": ali.id, "secret": ali.secret,
            "region": alibaba.region, "image": alibaba.image,
        },
        "ucloud": {
            "public_key": uc.public, "private_key": uc.private, "project_id": project,
            "region": ucloud.region, "image": ucloud.image,
        },
    });
    let before: Vec<usize> = TARGETS
        .iter()
        .map(|t| emu.action_count(t.provider, t.action))
        .collect();
    let out = support::run_python(python, "overhead.py", &config)?;
    for (t, before) in TARGETS.iter().zip(before) {
        let claimed = out[t.cloud]["calls"].as_u64().unwrap_or(0) as usize;
        let got = emu.action_count(t.provider, t.action) - before;
        if got != claimed || claimed == 0 {
            return Err(format!(
                "{}: the Python SDK made {claimed} calls but the emulator logged {got} {}",
                t.cloud, t.action
            ));
        }
    }
    Ok(out)
}
