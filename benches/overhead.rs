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
//! A third table is the floor: a bare HTTP client (one `reqwest::Client`, no imageshare
//! layer: no checker, no transport, no decoding into the model) sending the same signed
//! request (signed by the adapter's own pure signing function, as the adapter signs each
//! attempt), reading the whole answer and checking its status, in the same modes on the
//! same runtime. It gives imageshare's client CPU per request as a ratio to that floor
//! (target: at most 2x, sequential and in flight).
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

use imageshare::core::transport::{ClientOptions, HttpRequest, Method};
use imageshare::core::{time, ImageId, ImageSharingExt, Principal, Provider};
use imageshare::testing::ConnectEmulator;
use imageshare::{ClientBuilder, Connect, DynSharing};
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
        provider: imageshare::tencent::CVM,
        region: "ap-guangzhou",
        image: "img-6pb6lrmy",
        action: "DescribeImageSharePermission",
    },
    Target {
        cloud: "alibaba",
        provider: imageshare::alibaba::ECS,
        region: "cn-hangzhou",
        image: "m-bp18ygjuqnwhechc",
        action: "DescribeImageSharePermission",
    },
    Target {
        cloud: "ucloud",
        provider: imageshare::ucloud::UHOST,
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
    support::exit("overhead", run())
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

    let server_rt = support::runtime(SERVER_THREADS)?;
    let client_rt = support::runtime(CLIENT_THREADS)?;
    let emu = server_rt
        .block_on(Emulator::start(World::example()))
        .map_err(|e| format!("emulator: {e}"))?;

    let mut results = Vec::new();
    let mut floors = Vec::new();
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
        if t.cloud != "ucloud" {
            client_rt
                .block_on(sharing.share(&id, &[Principal::account(PEER)]))
                .map_err(|e| format!("{}: share with {PEER}: {e}", t.cloud))?;
        }

        let before = emu.action_count(t.provider, t.action);
        // Each call clones one `Arc` (the same for both sides), no more.
        let ours_call = {
            let shared = Arc::new((sharing.clone(), id.clone()));
            move || {
                let shared = shared.clone();
                async move { call(&shared.0, t, &shared.1).await }
            }
        };
        let (ours, cpu) = client_rt.block_on(measure(t, sizes, ours_call))?;
        let sent = sizes.warmup + sizes.sequential + sizes.parallel;
        let got = emu.action_count(t.provider, t.action) - before;
        if got != sent {
            return Err(format!(
                "{}: imageshare made {sent} calls but the emulator logged {got} {}",
                t.cloud, t.action
            ));
        }

        let signer = BareSigner::new(t, &emu)?;
        let before = emu.action_count(t.provider, t.action);
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| format!("reqwest: {e}"))?;
        let bare = {
            let shared = Arc::new((http, signer));
            move || {
                let shared = shared.clone();
                async move { bare_call(&shared.0, &shared.1, t).await }
            }
        };
        let (bare_rates, bare_cpu) = client_rt.block_on(measure(t, sizes, bare))?;
        let got = emu.action_count(t.provider, t.action) - before;
        if got != sent {
            return Err(format!(
                "{}: the bare client made {sent} calls but the emulator logged {got} {}",
                t.cloud, t.action
            ));
        }
        eprintln!(
            "bare client {}: sequential {:.0} req/s, {} in flight {:.0} req/s",
            t.cloud, bare_rates.sequential, sizes.in_flight, bare_rates.parallel
        );
        floors.push((t, cpu, bare_cpu));
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

    println!();
    println!(
        "Client CPU per request against the floor, us (bare: one reqwest client sending the \
         same request, signed by the adapter's own signing function; target: imageshare at \
         most 2x)"
    );
    println!(
        "{:<8} {:<13} {:>14} {:>9} {:>7}",
        "cloud", "mode", "imageshare us", "bare us", "ratio"
    );
    for (t, ours, bare) in &floors {
        for (i, mode) in ["sequential", parallel_mode.as_str()]
            .into_iter()
            .enumerate()
        {
            let ratio = match (ours[i].client, bare[i].client) {
                (Some(o), Some(b)) if b > 0.0 => format!("{:.2}x", o / b),
                _ => "-".to_owned(),
            };
            println!(
                "{:<8} {:<13} {:>14} {:>9} {:>7}",
                t.cloud,
                mode,
                us(ours[i].client),
                us(bare[i].client),
                ratio
            );
        }
    }
    Ok(())
}

/// The adapter's own signing function for the target's action, without any imageshare
/// layer: what the bare client sends.
enum BareSigner {
    Alibaba(imageshare::alibaba::EcsImageSharing),
    Tencent(imageshare::tencent::TencentCvmImageSharing),
    UCloud(imageshare::ucloud::UCloudImageSharing),
}

impl BareSigner {
    fn new(t: &Target, emu: &Emulator) -> Result<Self, String> {
        let c = Connect::new(t.provider)
            .region(t.region)
            .emulator(emu, OWNER);
        let e = |e: imageshare::Error| format!("{}: bare signer: {e}", t.cloud);
        Ok(match t.cloud {
            "alibaba" => BareSigner::Alibaba(c.ecs().map_err(e)?),
            "tencent" => BareSigner::Tencent(c.cvm().map_err(e)?),
            _ => BareSigner::UCloud(c.ucloud().map_err(e)?),
        })
    }

    /// The signed request of one call, freshly signed (new timestamp and nonce).
    fn request(&self, t: &Target) -> Result<HttpRequest, String> {
        let signed = match self {
            BareSigner::Alibaba(ecs) => {
                let params: Vec<(String, String)> = [
                    ("RegionId", t.region),
                    ("ImageId", t.image),
                    ("PageNumber", "1"),
                    ("PageSize", "100"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
                let client = ecs.client();
                let credentials = client
                    .credentials()
                    .fixed()
                    .ok_or("the emulator account's keys are fixed credentials")?;
                client.sign_request(
                    credentials,
                    t.action,
                    &params,
                    time::now_unix(),
                    &time::nonce(),
                )
            }
            BareSigner::Tencent(cvm) => {
                let body = format!("{{\"ImageId\":\"{}\"}}", t.image);
                let client = cvm.client();
                let credentials = client
                    .credentials()
                    .fixed()
                    .ok_or("the emulator account's keys are fixed credentials")?;
                client.sign_request(credentials, t.action, body.as_bytes())
            }
            BareSigner::UCloud(uc) => {
                let client = uc.client();
                let credentials = client
                    .credentials()
                    .fixed()
                    .ok_or("the emulator account's keys are fixed credentials")?;
                Ok(client.signed_request(
                    credentials,
                    t.action,
                    vec![("ImageId".into(), t.image.into())],
                ))
            }
        };
        signed.map_err(|e| format!("{}: sign: {e}", t.cloud))
    }
}

/// One bare call: send, read the whole answer, check the status and that it names the
/// image.
async fn bare_call(http: &reqwest::Client, signer: &BareSigner, t: &Target) -> Result<(), String> {
    let req = signer.request(t)?;
    let method = match req.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
    };
    let resp = http
        .request(method, &req.url)
        .headers(req.headers)
        .body(req.body)
        .send()
        .await
        .map_err(|e| format!("{}: bare: {e}", t.cloud))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| format!("{}: bare: {e}", t.cloud))?;
    let text = String::from_utf8_lossy(&body);
    if !status.is_success() || !text.contains(expected_in_answer(t)) {
        return Err(format!("{}: bare: HTTP {status}: {text}", t.cloud));
    }
    Ok(())
}

/// What every successful answer of the target's action names: the sharee (share
/// listings) or the image (UCloud's DescribeImage).
fn expected_in_answer(t: &Target) -> &'static str {
    if t.cloud == "ucloud" {
        t.image
    } else {
        PEER
    }
}

/// One call of the target's action through imageshare, checked.
async fn call(sharing: &DynSharing, t: &Target, id: &ImageId) -> Result<(), String> {
    if t.cloud == "ucloud" {
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

/// Rates and CPU per request of `call` (one checked call of the target's action): an
/// untimed warm-up, `sequential` calls one after another, then `parallel` calls spread over
/// `in_flight` tasks. The same loop measures imageshare and the bare client.
async fn measure<F, Fut>(t: &Target, sizes: Sizes, call: F) -> Result<(Rates, [Cpu; 2]), String>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    for _ in 0..sizes.warmup {
        call().await?;
    }

    let cpu0 = cpu_ns();
    let start = Instant::now();
    for _ in 0..sizes.sequential {
        call().await?;
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
        let call = call.clone();
        tasks.spawn(async move {
            for _ in 0..n {
                call().await?;
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
