//! Helpers shared by the CLI test files: run the binary with a clean environment, the
//! owner's keys as each cloud's own variables, and what counts as a mutating call.

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use imageshare_emulator::{CallRecord, Emulator};

/// The account of the example world that owns the images the tests act on.
pub const OWNER: &str = "100000000001";

/// A fresh, empty directory under the temp dir, unique to this process and `name`.
pub fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("imageshare-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the binary with a clean environment (only `PATH`, `HOME=home` and `env`).
pub fn run_in(home: &Path, args: &[String], env: &[(String, String)]) -> Output {
    command(home, args, env).output().unwrap()
}

/// The binary with a clean environment (only `PATH`, `HOME=home` and `env`), not started.
fn command(home: &Path, args: &[String], env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imageshare"));
    cmd.args(args).env_clear().env("HOME", home);
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// [`run_in`] with `input` on standard input (a pipe, closed after it), on a blocking
/// thread; the input is written from another thread, so a large one cannot deadlock.
pub async fn run_piped(
    home: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    input: Vec<u8>,
) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    tokio::task::spawn_blocking(move || {
        let mut child = command(&home, &args, &env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // The binary may stop reading early (a capped read): a broken pipe is fine.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        out
    })
    .await
    .unwrap()
}

/// [`run_in`] on a blocking thread, so that many runs and the emulator share a runtime.
pub async fn run_async(home: PathBuf, args: Vec<String>, env: Vec<(String, String)>) -> Output {
    tokio::task::spawn_blocking(move || run_in(&home, &args, &env))
        .await
        .unwrap()
}

/// The binary's stdout, lossily decoded.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The binary's stderr, lossily decoded.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `&str`s to owned `String`s.
pub fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// The owner account's keys as each cloud's own variables, and the emulator as endpoint.
pub fn owner_env(emu: &Emulator) -> Vec<(String, String)> {
    let k = emu.account(OWNER).unwrap().keys;
    let (t, a, u) = (k.tencent.unwrap(), k.alibaba.unwrap(), k.ucloud.unwrap());
    [
        ("TENCENTCLOUD_SECRET_ID", t.id),
        ("TENCENTCLOUD_SECRET_KEY", t.secret),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", a.id),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", a.secret),
        ("UCLOUD_PUBLIC_KEY", u.public),
        ("UCLOUD_PRIVATE_KEY", u.private),
        ("UCLOUD_PROJECT_ID", "org-a1b2c3".into()),
        ("IMAGESHARE_ENDPOINT", emu.base_url()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// True for an API action that only reads (`Describe*`, `List*`, `Get*`).
pub fn is_read(action: &str) -> bool {
    ["Describe", "List", "Get"]
        .iter()
        .any(|p| action.starts_with(p))
}

/// The calls of `calls` that may change something.
pub fn writes(calls: &[CallRecord]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| !is_read(&c.action))
        .map(|c| format!("{} {}", c.provider, c.action))
        .collect()
}

/// True when running as root, which reads files whatever their permission bits.
#[cfg(unix)]
pub fn is_root() -> bool {
    // The effective uid, without a libc dependency: /proc/self/status (Linux), else `id -u`.
    if let Ok(s) = std::fs::read_to_string("/proc/self/status") {
        if let Some(line) = s.lines().find(|l| l.starts_with("Uid:")) {
            return line.split_whitespace().nth(2) == Some("0");
        }
    }
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
