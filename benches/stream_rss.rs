//! 3d: memory while streaming sharees. Peak RSS of the client process while it streams the
//! 100,000 sharees of one image through the emulator's paging, on every paged surface,
//! against the peak RSS of collecting the same sharees into a `Vec`.
//!
//! The emulator does not live in the measured process: this binary re-executes itself as
//! the emulator server (a child that seeds a world with 100,000 sharees on one image per
//! surface, serves on 127.0.0.1:0 and prints its port), and once more per surface as a
//! client that collects the `Vec` (so its peak never mixes with the streaming one). The
//! streaming side runs in this, the parent, process: before each surface its peak RSS
//! (`VmHWM` of `/proc/self/status`) is reset through `/proc/self/clear_refs` and read again
//! after the last sharee. Every sharee is checked against the seeded order (no sharee lost,
//! duplicated or reordered), and the emulator's call log must show one listing call per
//! page for each side. Client-side rate limiting is off (`RateLimits::none()`).
//!
//! ```text
//! cargo bench --bench stream_rss                  # 100,000 sharees; fails at >= 64 MiB
//! IMAGESHARE_BENCH_QUICK=1 cargo bench --bench stream_rss   # 5,000 sharees
//! ```
//!
//! Exits non-zero when a count differs from what the emulator holds, on any request error,
//! and (full mode) when a streaming peak reaches 64 MiB. Linux only (`/proc`).

#[path = "support/mod.rs"]
mod support;

use imageshare::ClientBuilder;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::time::Instant;

use imageshare::core::paging::TryStreamExt;
use imageshare::core::ratelimit::RateLimits;
use imageshare::core::{ImageId, ImageKind, ImageSharingExt, Provider, Site};
use imageshare::{Connect, Credentials, DynSharing};
use imageshare_emulator::world::{Account, ImageSeed, Keys};
use imageshare_emulator::{Emulator, World};
use serde_json::json;

/// Which role this process plays (unset: the parent, which streams and measures).
const ROLE_VAR: &str = "IMAGESHARE_STREAM_RSS_ROLE";
/// Sharees per image (children).
const COUNT_VAR: &str = "IMAGESHARE_STREAM_RSS_SHAREES";
/// The emulator's base URL (collecting child).
const ENDPOINT_VAR: &str = "IMAGESHARE_STREAM_RSS_ENDPOINT";
/// The surface to collect (collecting child).
const SURFACE_VAR: &str = "IMAGESHARE_STREAM_RSS_SURFACE";

/// The owner of the images.
const OWNER: &str = "100000000001";
/// The streaming peak must stay under this (full mode).
const LIMIT_MIB: f64 = 64.0;

/// A paged sharee listing.
struct Surface {
    name: &'static str,
    provider: Provider,
    region: &'static str,
    image: &'static str,
    /// The listing action (for the emulator's call log).
    action: &'static str,
    /// Sharees per page the adapter asks for.
    page_size: usize,
}

static SURFACES: [Surface; 4] = [
    Surface {
        name: "alibaba-ecs",
        provider: imageshare::alibaba::ECS,
        region: "cn-hangzhou",
        image: "m-bp0000000000000001",
        action: "DescribeImageSharePermission",
        page_size: imageshare_alibaba::ecs::PAGE_SIZE as usize,
    },
    Surface {
        name: "alibaba-sas",
        provider: imageshare::alibaba::SAS,
        region: "cn-hangzhou",
        image: "m-sas000000000000001",
        action: "ListCustomImageShareAccounts",
        page_size: imageshare_alibaba::sas::SHAREES_PAGE_SIZE as usize,
    },
    Surface {
        name: "tencent-lighthouse",
        provider: imageshare::tencent::LIGHTHOUSE,
        region: "ap-guangzhou",
        image: "lhbp-b0000001",
        action: "DescribeBlueprintsShareAcrossAccountInfos",
        page_size: imageshare::tencent::PAGE_SIZE as usize,
    },
    Surface {
        name: "ucloud",
        provider: imageshare::ucloud::UHOST,
        region: "cn-bj2",
        image: "uimage-b0000001",
        action: imageshare::ucloud::SharingActions::DESCRIBE_SHARE,
        page_size: imageshare_ucloud::sharing::DEFAULT_PAGE_SIZE as usize,
    },
];

fn main() -> ExitCode {
    let role = std::env::var(ROLE_VAR).unwrap_or_default();
    let result = match role.as_str() {
        "" => parent(),
        "server" => server(),
        "collect" => collect(),
        other => Err(format!("unknown {ROLE_VAR} {other:?}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "stream_rss{}: {e}",
                if role.is_empty() { "" } else { " child" }
            );
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

/// A `/proc/self/status` figure in KiB (`VmHWM`, `VmRSS`).
fn status_kib(field: &str) -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status (Linux only): {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("/proc/self/status has no {field} figure"))
}

/// Resets this process's peak RSS to its current RSS (Linux 4.0+); false where refused.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The principal id of sharee `i` (the order the world seeds them in).
fn sharee_id(provider: Provider, i: usize) -> String {
    let account = format!("3{i:011}");
    if provider == imageshare::ucloud::UHOST {
        project_of(&account)
    } else {
        account
    }
}

fn project_of(account: &str) -> String {
    format!("org-p{account}")
}

fn count_from_env() -> Result<usize, String> {
    std::env::var(COUNT_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{COUNT_VAR} must be a number"))
}

// ------------------------------------------------------------------------- the server child

/// The world: the owner (with keys) first, so the emulator finds its key at once, then
/// `n` key-less accounts with one project each; one image per surface shared with all.
fn world(n: usize) -> Result<World, String> {
    let mut b = World::builder()
        .account(OWNER, Site::China)
        .project(&project_of(OWNER));
    let mut accounts = Vec::with_capacity(n);
    let mut projects = Vec::with_capacity(n);
    for i in 0..n {
        let id = sharee_id(imageshare::alibaba::ECS, i);
        projects.push(project_of(&id));
        accounts.push(id);
    }
    for (id, project) in accounts.iter().zip(&projects) {
        b = b.account_with(Account {
            id: id.clone(),
            site: Site::China,
            projects: vec![project.clone()],
            roles: Vec::new(),
            keys: Keys::default(),
        });
    }
    for s in &SURFACES {
        let (owner, grantees) = if s.provider == imageshare::ucloud::UHOST {
            (project_of(OWNER), &projects)
        } else {
            (OWNER.to_owned(), &accounts)
        };
        let kind: ImageKind =
            imageshare_emulator::engine::limits_for(s.provider).shareable_kinds[0];
        let mut seed = ImageSeed::new(s.provider, s.image, &owner, s.region).kind(kind);
        seed.shared_with = grantees.clone();
        b = b.image(seed);
    }
    b.build().map_err(|e| format!("world: {e}"))
}

/// Serves the world until stdin closes. Prints `{"port": .., "grants": {image: n}}` once
/// listening; answers a `counts` line with the calls per action so far.
fn server() -> Result<(), String> {
    let n = count_from_env()?;
    let rt = runtime()?;
    let emu = rt
        .block_on(Emulator::start(world(n)?))
        .map_err(|e| format!("emulator: {e}"))?;
    let grants: serde_json::Map<String, serde_json::Value> = SURFACES
        .iter()
        .map(|s| {
            (
                s.image.to_owned(),
                json!(emu.with_engine(|e| e.grants_of(s.image).len())),
            )
        })
        .collect();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        json!({"port": emu.addr().port(), "grants": grants})
    )
    .and_then(|()| out.flush())
    .map_err(|e| format!("stdout: {e}"))?;
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| format!("stdin: {e}"))?;
        if line.trim() == "counts" {
            let counts: serde_json::Map<String, serde_json::Value> = emu
                .action_counts()
                .into_iter()
                .map(|((p, action), n)| (format!("{p} {action}"), json!(n)))
                .collect();
            writeln!(out, "{}", serde_json::Value::Object(counts))
                .and_then(|()| out.flush())
                .map_err(|e| format!("stdout: {e}"))?;
        }
    }
    rt.block_on(emu.shutdown());
    Ok(())
}

/// The running server child: its stdin (closing it stops the server) and stdout.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Server {
    fn start(n: usize) -> Result<(Server, u16, serde_json::Value), String> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut child = Command::new(exe)
            .env(ROLE_VAR, "server")
            .env(COUNT_VAR, n.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the emulator child: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or("the emulator child has no stdout")?;
        let mut server = Server {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        };
        let ready = server.read_json()?;
        let port = ready["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| format!("the emulator child sent no port: {ready}"))?;
        Ok((server, port, ready["grants"].clone()))
    }

    fn read_json(&mut self) -> Result<serde_json::Value, String> {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| format!("emulator child stdout: {e}"))?;
        serde_json::from_str(&line)
            .map_err(|e| format!("emulator child: not a JSON line ({e}): {line:?}"))
    }

    /// Calls per `"<provider> <action>"` so far.
    fn counts(&mut self) -> Result<serde_json::Value, String> {
        let stdin = self.stdin.as_mut().ok_or("the emulator child is stopped")?;
        writeln!(stdin, "counts")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("emulator child stdin: {e}"))?;
        self.read_json()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // EOF on its stdin stops the child.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

// ----------------------------------------------------------------------------- the clients

/// The owner's adapter for `s` on the emulator at `endpoint`, behind the limit checker,
/// with client-side rate limiting off. The keys come from a one-account world built the
/// way the server child builds its owner (never the 100,000 accounts: this process is
/// the one measured).
fn adapter(s: &Surface, endpoint: &str) -> Result<DynSharing, String> {
    let keys = World::builder()
        .account(OWNER, Site::China)
        .build()
        .map_err(|e| format!("world: {e}"))?;
    let owner = keys.account(OWNER).ok_or("owner account")?;
    let cloud = imageshare::registry::spec(s.provider)
        .ok_or("provider not compiled in")?
        .cloud;
    let credentials: Credentials = owner
        .credentials(cloud)
        .ok_or("the owner has no key for this cloud")?;
    let mut c = Connect::new(s.provider)
        .region(s.region)
        .endpoint(endpoint)
        .credentials(credentials)
        .rate_limits(RateLimits::none());
    if s.provider == imageshare::ucloud::UHOST {
        c = c.project(project_of(OWNER));
    }
    c.build().map_err(|e| format!("{}: connect: {e}", s.name))
}

/// Checks that sharee `i` is the one the world seeded `i`-th.
fn check_sharee(s: &Surface, i: usize, id: &str) -> Result<(), String> {
    let want = sharee_id(s.provider, i);
    if id == want {
        Ok(())
    } else {
        Err(format!("{}: sharee #{i} is {id}, expected {want}", s.name))
    }
}

/// Streams every sharee of `s`'s image, checking each; returns how many came.
async fn stream_all(a: &DynSharing, s: &Surface) -> Result<usize, String> {
    let id = ImageId::from(s.image);
    let mut stream = a.sharees_stream(&id);
    let mut n = 0;
    while let Some(sharee) = stream
        .try_next()
        .await
        .map_err(|e| format!("{}: sharee #{n}: {e}", s.name))?
    {
        check_sharee(s, n, sharee.principal.id())?;
        n += 1;
    }
    Ok(n)
}

/// The collecting child: `sharees()` into a `Vec`, checked; prints its count and peak RSS.
fn collect() -> Result<(), String> {
    let name = std::env::var(SURFACE_VAR).map_err(|_| format!("{SURFACE_VAR} is not set"))?;
    let endpoint = std::env::var(ENDPOINT_VAR).map_err(|_| format!("{ENDPOINT_VAR} is not set"))?;
    let s = SURFACES
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("unknown surface {name}"))?;
    let rt = runtime()?;
    let a = adapter(s, &endpoint)?;
    let started = Instant::now();
    let sharees = rt
        .block_on(a.sharees(&ImageId::from(s.image)))
        .map_err(|e| format!("{}: sharees: {e}", s.name))?;
    let seconds = started.elapsed().as_secs_f64();
    for (i, sharee) in sharees.iter().enumerate() {
        check_sharee(s, i, sharee.principal.id())?;
    }
    // Read while the Vec is alive.
    let hwm = status_kib("VmHWM")?;
    println!(
        "{}",
        json!({"count": std::hint::black_box(&sharees).len(), "hwm_kib": hwm, "seconds": seconds})
    );
    Ok(())
}

/// Runs the collecting child for `s`; returns (count, peak KiB, seconds).
fn collect_in_child(s: &Surface, endpoint: &str, n: usize) -> Result<(usize, u64, f64), String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let out = Command::new(exe)
        .env(ROLE_VAR, "collect")
        .env(COUNT_VAR, n.to_string())
        .env(SURFACE_VAR, s.name)
        .env(ENDPOINT_VAR, endpoint)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start the collecting child: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{}: the collecting child failed ({})",
            s.name, out.status
        ));
    }
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .map_err(|e| format!("{}: collecting child answer ({e}): {stdout}", s.name))?;
    match (
        v["count"].as_u64(),
        v["hwm_kib"].as_u64(),
        v["seconds"].as_f64(),
    ) {
        (Some(c), Some(h), Some(t)) => Ok((c as usize, h, t)),
        _ => Err(format!("{}: collecting child answer: {v}", s.name)),
    }
}

// -------------------------------------------------------------------------------- the parent

struct Row {
    surface: &'static Surface,
    pages: usize,
    stream_kib: u64,
    stream_seconds: f64,
    vec_kib: u64,
    vec_seconds: f64,
}

fn parent() -> Result<(), String> {
    let quick = support::quick();
    let n = if quick { 5_000 } else { 100_000 };
    let rt = runtime()?;
    let baseline = status_kib("VmRSS")?;
    let seeding = Instant::now();
    let (mut server, port, grants) = Server::start(n)?;
    eprintln!(
        "stream_rss: emulator child serving {n} sharees per image on 127.0.0.1:{port} (seeded \
         in {:.1} s)",
        seeding.elapsed().as_secs_f64()
    );
    let endpoint = format!("http://127.0.0.1:{port}");

    let mut resettable = true;
    let mut rows = Vec::new();
    for s in &SURFACES {
        let held = grants[s.image].as_u64().unwrap_or(0) as usize;
        if held != n {
            return Err(format!(
                "{}: the emulator holds {held} sharees of {}, not {n}",
                s.name, s.image
            ));
        }
        let a = adapter(s, &endpoint)?;
        resettable &= reset_peak();
        let started = Instant::now();
        let streamed = rt.block_on(stream_all(&a, s))?;
        let stream_seconds = started.elapsed().as_secs_f64();
        let stream_kib = status_kib("VmHWM")?;
        drop(a);
        if streamed != held {
            return Err(format!(
                "{}: streamed {streamed} sharees, the emulator holds {held}",
                s.name
            ));
        }
        let (collected, vec_kib, vec_seconds) = collect_in_child(s, &endpoint, n)?;
        if collected != held {
            return Err(format!(
                "{}: collected {collected} sharees, the emulator holds {held}",
                s.name
            ));
        }
        eprintln!(
            "stream_rss: {}: streamed {streamed} ({:.1} MiB peak), collected {collected} \
             ({:.1} MiB peak)",
            s.name,
            mib(stream_kib),
            mib(vec_kib)
        );
        rows.push(Row {
            surface: s,
            pages: n.div_ceil(s.page_size),
            stream_kib,
            stream_seconds,
            vec_kib,
            vec_seconds,
        });
    }

    // One listing call per page, for the stream and for the Vec.
    let counts = server.counts()?;
    for r in &rows {
        let key = format!("{} {}", r.surface.provider, r.surface.action);
        let got = counts[&key].as_u64().unwrap_or(0) as usize;
        if got != 2 * r.pages {
            return Err(format!(
                "{}: the emulator logged {got} {} calls, expected {} ({} pages, twice)",
                r.surface.name,
                r.surface.action,
                2 * r.pages,
                r.pages
            ));
        }
    }
    drop(server);

    println!();
    println!(
        "Peak RSS of the client while listing {} sharees of one image through the emulator's \
         paging ({} mode; emulator in a child process; client RSS before: {:.1} MiB)",
        support::grouped(n as f64),
        if quick { "quick" } else { "full" },
        mib(baseline)
    );
    if !resettable {
        println!(
            "note: /proc/self/clear_refs refused the peak reset: each stream figure is the \
             peak so far, surfaces included"
        );
    }
    println!(
        "{:<19} {:>9} {:>6} {:>17} {:>14} {:>14} {:>11}",
        "surface",
        "page size",
        "pages",
        "stream peak MiB",
        "Vec peak MiB",
        "stream items/s",
        "Vec items/s"
    );
    for r in &rows {
        println!(
            "{:<19} {:>9} {:>6} {:>17.1} {:>14.1} {:>14} {:>11}",
            r.surface.name,
            r.surface.page_size,
            r.pages,
            mib(r.stream_kib),
            mib(r.vec_kib),
            support::grouped(n as f64 / r.stream_seconds),
            support::grouped(n as f64 / r.vec_seconds),
        );
    }
    let worst = rows.iter().map(|r| r.stream_kib).max().unwrap_or(0);
    if !quick && mib(worst) >= LIMIT_MIB {
        return Err(format!(
            "streaming peaked at {:.1} MiB, the target is under {LIMIT_MIB} MiB",
            mib(worst)
        ));
    }
    Ok(())
}
