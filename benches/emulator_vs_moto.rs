//! The emulator against the server users would otherwise pick, moto's (issue #16, "Speed"):
//! start-up to first answer, and requests/s at concurrency 1 and 16, both servers measured
//! in one run, on 127.0.0.1 and ephemeral ports.
//!
//! | side | binary | request |
//! |---|---|---|
//! | emulator | `imageshare-emulator serve --port 0` (release build) | TC3-signed CVM `DescribeImages` of one image, signed afresh per request |
//! | moto | `moto_server` (`moto[server]` from PyPI, pinned, in a virtualenv under the target directory) | EC2 `DescribeImageAttribute` (`launchPermission`) of an image registered first, unsigned (moto checks no signature; an `Authorization` header names the service and region only) |
//!
//! Start-up to first answer: from spawning the process to the first successful answer of
//! a cloud call (the emulator: the signed `DescribeImages`, after it printed its address;
//! moto: `RegisterImage`, polled every 5 ms, which also loads moto's EC2 backend as any
//! first EC2 call does); the median of several starts. With TLS the client is built after
//! the start (it needs the CA the emulator wrote), inside the measured time.
//!
//! Requests/s: one `reqwest` client (keep-alive) on a 2-worker Tokio runtime in this
//! process; at concurrency 16, 16 tasks share it. (A single-threaded client measured
//! lower, within this shared machine's noise.) A fixed number of requests after an
//! untimed warm-up; every answer is checked (HTTP 200 and the action's answer), and the
//! emulator's call log (admin API) must hold exactly the requests sent, each `ok`.
//!
//! The target is the emulator at least 50x ahead of moto on each figure with TLS off; a
//! full run fails below it. Quick mode (`IMAGESHARE_BENCH_QUICK=1`, CI) uses small sizes and
//! fails only below 10x (a loose check on a shared machine), and when moto cannot be
//! installed it says so and measures the emulator alone.
//!
//! ```text
//! cargo bench --bench emulator_vs_moto                         # full sizes, about a minute
//! IMAGESHARE_BENCH_QUICK=1 cargo bench --bench emulator_vs_moto
//! ```
//!
//! `IMAGESHARE_EMULATOR_BIN` / `IMAGESHARE_MOTO_SERVER` name binaries to use instead of
//! building the emulator (`cargo build --profile bench -p imageshare-emulator`, release
//! settings, into this bench's target directory) and installing moto. `tests/run.sh` points
//! the former at the release binary the Python package step built (the binary the wheel
//! ships).

#[path = "support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use imageshare_core::time::now_unix;
use imageshare_tencent::signer::{sign as tc3_sign, Tc3Request};
use imageshare_tencent::TencentCredentials;

/// moto, pinned (installed with its server extra).
const MOTO: &str = "moto[server]==5.1.22";
/// The emulator must be this many times ahead of moto on every figure (TLS off).
const TARGET: f64 = 50.0;
/// Quick mode's floor (small sizes on a shared CI machine).
const QUICK_FLOOR: f64 = 10.0;
/// How long a server may take to answer its first request.
const START_LIMIT: Duration = Duration::from_secs(60);

/// The default world's owner of `img-6pb6lrmy` (examples/world.toml).
const TC_KEY: (&str, &str) = ("AKIDEMU0000000000000000000000001", "emu-tencent-secret-1");
const TC_PAYLOAD: &[u8] = br#"{"ImageIds":["img-6pb6lrmy"]}"#;
/// An `Authorization` header moto reads the service and region from (it verifies nothing).
const AWS_AUTH: &str = "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/ec2/aws4_request, \
                        SignedHeaders=host, Signature=00";

struct Sizes {
    emulator_starts: usize,
    moto_starts: usize,
    emulator_requests: usize,
    moto_requests: usize,
    emulator_warmup: usize,
    moto_warmup: usize,
}

const FULL: Sizes = Sizes {
    emulator_starts: 10,
    moto_starts: 3,
    emulator_requests: 20_000,
    moto_requests: 1_000,
    emulator_warmup: 500,
    moto_warmup: 20,
};

const QUICK: Sizes = Sizes {
    emulator_starts: 3,
    moto_starts: 1,
    emulator_requests: 2_000,
    moto_requests: 160,
    emulator_warmup: 100,
    moto_warmup: 10,
};

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The target directory this bench was built in (`<target>/release/deps/<bench>`).
fn target_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("{} is not under a target directory", exe.display()))
}

/// The release emulator binary: `$IMAGESHARE_EMULATOR_BIN`, else built here.
fn emulator_binary(target: &Path) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("IMAGESHARE_EMULATOR_BIN").filter(|p| !p.is_empty()) {
        return Ok(imageshare_tests::program_from_repo(p).into());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "--quiet",
            "-p",
            "imageshare-emulator",
        ])
        .args(["--bin", "imageshare-emulator"])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(imageshare_tests::REPO)
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of the emulator failed: {status}"));
    }
    Ok(target.join("release").join("imageshare-emulator"))
}

/// moto_server: `$IMAGESHARE_MOTO_SERVER`, else `MOTO` in `<target>/moto-venv` (installed
/// when missing); `None`, with the reason printed, when it cannot be installed.
fn moto_server(target: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("IMAGESHARE_MOTO_SERVER").filter(|p| !p.is_empty()) {
        return Some(imageshare_tests::program_from_repo(p).into());
    }
    let venv = target.join("moto-venv");
    let bin = venv.join("bin").join("moto_server");
    let stamp = venv.join(".moto-requirement");
    if bin.is_file() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(MOTO) {
        return Some(bin);
    }
    let run = |cmd: &mut Command| match cmd.stdout(Stdio::null()).status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{cmd:?}: {s}")),
        Err(e) => Err(format!("{cmd:?}: {e}")),
    };
    let python = std::env::var_os("IMAGESHARE_BENCH_PYTHON").unwrap_or_else(|| "python3".into());
    let pip = venv.join("bin").join("python");
    let installed = run(Command::new(&python).arg("-m").arg("venv").arg(&venv)).and_then(|()| {
        run(Command::new(&pip)
            .args(["-m", "pip", "install", "--quiet"])
            .args(["--disable-pip-version-check", MOTO]))
    });
    match installed.and_then(|()| std::fs::write(&stamp, MOTO).map_err(|e| e.to_string())) {
        Ok(()) => Some(bin),
        Err(e) => {
            println!("note: moto is not installable here ({e}); moto is skipped");
            None
        }
    }
}

/// The first line of the child's stdout, waited for at most `START_LIMIT`.
fn first_line(child: &mut Child) -> Result<String, String> {
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(START_LIMIT)
        .map_err(|_| "the emulator printed no address in time".to_owned())
}

/// A started emulator: its process, base URL and the client to call it with.
struct Emulator {
    _proc: Proc,
    url: String,
    host: String,
    client: reqwest::Client,
}

fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
}

/// Starts the emulator binary and makes its first signed call; the time from spawning to
/// that answer.
async fn start_emulator(
    bin: &Path,
    tls: bool,
    dir: &Path,
    plain: &reqwest::Client,
) -> Result<(Emulator, Duration), String> {
    let ca = dir.join("ca.pem");
    let t0 = Instant::now();
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--port", "0"]);
    if tls {
        cmd.arg("--tls").arg("--ca-out").arg(&ca);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let line = first_line(&mut child);
    let proc = Proc(child);
    let line = line?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected first line {line:?}"))?
        .to_owned();
    let client = if tls {
        let pem = std::fs::read(&ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| e.to_string())?;
        client_builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(cert)
            .build()
            .map_err(|e| e.to_string())?
    } else {
        plain.clone()
    };
    let host = url.split("://").nth(1).unwrap_or_default().to_owned();
    let emu = Emulator {
        _proc: proc,
        url,
        host,
        client,
    };
    let target = Target::Emulator(emu);
    target.call().await?;
    let elapsed = t0.elapsed();
    match target {
        Target::Emulator(emu) => Ok((emu, elapsed)),
        Target::Moto { .. } => unreachable!(),
    }
}

/// A started moto_server, its base URL and an image registered in it.
struct Moto {
    _proc: Proc,
    url: String,
    client: reqwest::Client,
    image: String,
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

async fn ec2(client: &reqwest::Client, url: &str, body: String) -> reqwest::Result<(u16, String)> {
    let resp = client
        .post(format!("{url}/"))
        .header("authorization", AWS_AUTH)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().await?))
}

/// Starts moto_server and polls with `RegisterImage` until it answers; the time from
/// spawning to that answer.
async fn start_moto(bin: &Path, client: &reqwest::Client) -> Result<(Moto, Duration), String> {
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let t0 = Instant::now();
    let proc = Proc(
        Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?,
    );
    let register =
        "Action=RegisterImage&Version=2016-11-15&Name=bench&RootDeviceName=%2Fdev%2Fsda1";
    while t0.elapsed() < START_LIMIT {
        if let Ok((200, body)) = ec2(client, &url, register.to_owned()).await {
            let elapsed = t0.elapsed();
            let image = body
                .split("<imageId>")
                .nth(1)
                .and_then(|s| s.split('<').next())
                .ok_or_else(|| format!("RegisterImage: no imageId in {body}"))?
                .to_owned();
            let moto = Moto {
                _proc: proc,
                url,
                client: client.clone(),
                image,
            };
            return Ok((moto, elapsed));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Err(format!("moto_server did not answer within {START_LIMIT:?}"))
}

enum Target {
    Emulator(Emulator),
    Moto(Moto),
}

impl Target {
    /// One measured call, its answer checked.
    async fn call(&self) -> Result<(), String> {
        match self {
            Target::Emulator(e) => {
                let creds = TencentCredentials::new(TC_KEY.0, TC_KEY.1);
                let req = Tc3Request::post_json(
                    "cvm",
                    &e.host,
                    "DescribeImages",
                    "2017-03-12",
                    TC_PAYLOAD,
                    now_unix(),
                )
                .region("ap-guangzhou");
                let sig = tc3_sign(&creds, &req);
                let mut b = e.client.post(format!("{}/", e.url));
                for (name, value) in &sig.headers {
                    if !name.eq_ignore_ascii_case("host") {
                        b = b.header(*name, value);
                    }
                }
                let resp = b.body(TC_PAYLOAD).send().await.map_err(|e| e.to_string())?;
                let status = resp.status().as_u16();
                let body = resp.bytes().await.map_err(|e| e.to_string())?;
                let ok = status == 200
                    && contains(&body, b"\"ImageSet\"")
                    && !contains(&body, b"\"Error\"");
                ok.then_some(())
                    .ok_or_else(|| format!("emulator: {status} {}", String::from_utf8_lossy(&body)))
            }
            Target::Moto(m) => {
                let body = format!(
                    "Action=DescribeImageAttribute&Version=2016-11-15&ImageId={}&Attribute=launchPermission",
                    m.image
                );
                let (status, text) = ec2(&m.client, &m.url, body)
                    .await
                    .map_err(|e| e.to_string())?;
                (status == 200 && text.contains("<launchPermission"))
                    .then_some(())
                    .ok_or_else(|| format!("moto: {status} {text}"))
            }
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `total` calls (rounded down to a multiple of `concurrency`) by `concurrency` tasks;
/// requests per second.
async fn load(target: &Arc<Target>, total: usize, concurrency: usize) -> Result<f64, String> {
    let per_task = total / concurrency;
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let t = Arc::clone(target);
            tokio::spawn(async move {
                for _ in 0..per_task {
                    t.call().await?;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    Ok((per_task * concurrency) as f64 / t0.elapsed().as_secs_f64())
}

/// The emulator's calls of `DescribeImages`: (count, all ok).
async fn logged(emu: &Emulator) -> Result<(usize, bool), String> {
    let url = format!("{}/_imageshare/calls?action=DescribeImages", emu.url);
    let bytes = emu
        .client
        .get(url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| e.to_string())?
        .bytes()
        .await
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let calls = v["calls"].as_array().ok_or("no calls")?;
    Ok((calls.len(), calls.iter().all(|c| c["outcome"] == "ok")))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Start-up (median) and requests/s at concurrency 1 and 16.
struct Figures {
    start: Duration,
    c1: f64,
    c16: f64,
}

async fn measure_emulator(bin: &Path, tls: bool, s: &Sizes, dir: &Path) -> Result<Figures, String> {
    let plain = client_builder().build().map_err(|e| e.to_string())?;
    let mut starts = Vec::new();
    let mut last = None;
    for _ in 0..s.emulator_starts {
        let (emu, took) = start_emulator(bin, tls, dir, &plain).await?;
        starts.push(took);
        last = Some(emu);
    }
    let emu = last.ok_or("no start")?;
    let target = Arc::new(Target::Emulator(emu));
    load(&target, s.emulator_warmup, 16).await?;
    let c1 = load(&target, s.emulator_requests, 1).await?;
    let c16 = load(&target, s.emulator_requests, 16).await?;
    let Target::Emulator(emu) = &*target else {
        unreachable!()
    };
    let expected =
        1 + s.emulator_warmup / 16 * 16 + s.emulator_requests + s.emulator_requests / 16 * 16;
    let (count, all_ok) = logged(emu).await?;
    if count != expected || !all_ok {
        return Err(format!(
            "emulator call log: {count} DescribeImages (all ok: {all_ok}), {expected} sent"
        ));
    }
    Ok(Figures {
        start: median(starts),
        c1,
        c16,
    })
}

async fn measure_moto(bin: &Path, s: &Sizes) -> Result<Figures, String> {
    let client = client_builder().build().map_err(|e| e.to_string())?;
    let mut starts = Vec::new();
    let mut last = None;
    for _ in 0..s.moto_starts {
        let (moto, took) = start_moto(bin, &client).await?;
        starts.push(took);
        last = Some(moto);
    }
    let target = Arc::new(Target::Moto(last.ok_or("no start")?));
    load(&target, s.moto_warmup, 16).await?;
    let c1 = load(&target, s.moto_requests, 1).await?;
    let c16 = load(&target, s.moto_requests, 16).await?;
    Ok(Figures {
        start: median(starts),
        c1,
        c16,
    })
}

/// One line of the table.
struct Row {
    what: &'static str,
    http: String,
    https: String,
    moto: Option<String>,
    /// How many times the emulator (http) is ahead of moto.
    ahead: Option<f64>,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

async fn run() -> Result<(), String> {
    let quick = support::quick();
    let s = if quick { &QUICK } else { &FULL };
    let target = target_dir()?;
    let dir = target.join("emulator-vs-moto");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let bin = emulator_binary(&target)?;
    let moto_bin = moto_server(&target);

    let http = measure_emulator(&bin, false, s, &dir).await?;
    let https = measure_emulator(&bin, true, s, &dir).await?;
    let moto = match &moto_bin {
        Some(b) => Some(measure_moto(b, s).await?),
        None => None,
    };

    println!(
        "\n## emulator vs moto_server ({} mode: emulator {} starts, {} requests; moto {} starts, {} requests)\n",
        if quick { "quick" } else { "full" },
        s.emulator_starts,
        s.emulator_requests,
        s.moto_starts,
        s.moto_requests
    );
    println!(
        "| figure | emulator (http) | emulator (https) | moto_server | emulator ahead (http) |"
    );
    println!("|---|---:|---:|---:|---:|");
    let rate = |v: f64| format!("{v:.0}");
    let rows = [
        Row {
            what: "start-up to first answer (median)",
            http: ms(http.start),
            https: ms(https.start),
            moto: moto.as_ref().map(|m| ms(m.start)),
            ahead: moto
                .as_ref()
                .map(|m| m.start.as_secs_f64() / http.start.as_secs_f64()),
        },
        Row {
            what: "requests/s, concurrency 1",
            http: rate(http.c1),
            https: rate(https.c1),
            moto: moto.as_ref().map(|m| rate(m.c1)),
            ahead: moto.as_ref().map(|m| http.c1 / m.c1),
        },
        Row {
            what: "requests/s, concurrency 16",
            http: rate(http.c16),
            https: rate(https.c16),
            moto: moto.as_ref().map(|m| rate(m.c16)),
            ahead: moto.as_ref().map(|m| http.c16 / m.c16),
        },
    ];
    let mut worst = f64::INFINITY;
    for r in &rows {
        let m = r.moto.as_deref().unwrap_or("skipped");
        let a = r.ahead.map_or("-".to_owned(), |a| format!("{a:.0}x"));
        println!("| {} | {} | {} | {m} | {a} |", r.what, r.http, r.https);
        worst = worst.min(r.ahead.unwrap_or(f64::INFINITY));
    }
    if moto.is_none() {
        println!("\nmoto was not measured: no ratio checked");
        return Ok(());
    }
    let floor = if quick { QUICK_FLOOR } else { TARGET };
    if worst < floor {
        return Err(format!(
            "the emulator is only {worst:.1}x ahead of moto_server on one figure (floor {floor}x)"
        ));
    }
    println!(
        "\nthe emulator is at least {worst:.0}x ahead of moto_server on each figure (target {TARGET}x{})",
        if worst < TARGET { ": NOT met, quick mode's sizes are small" } else { ": met" }
    );
    Ok(())
}

fn main() -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("emulator_vs_moto: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("emulator_vs_moto: {e}");
            ExitCode::FAILURE
        }
    }
}
