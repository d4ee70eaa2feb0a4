//! Shared by the table-printing bench binaries (`overhead`, `sign_ratio`, `bulk_floor`,
//! `plan_floor`, ...): their runtime and exit status, quick mode, the
//! interop Python, and running a script under it.

#![allow(dead_code)]

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

pub mod http1;
pub mod pin;

/// The variable `tests/run.sh` sets to a virtualenv's Python with every
/// `tests/interop/*/requirements.txt` installed (the clouds' official SDKs).
pub const PYTHON_VAR: &str = "IMAGESHARE_INTEROP_PYTHON";

/// Quick mode (small sizes, for CI): `IMAGESHARE_BENCH_QUICK` set to anything but `0` or
/// empty, or a `--quick` argument (`cargo bench --bench NAME -- --quick`).
pub fn quick() -> bool {
    let env = std::env::var("IMAGESHARE_BENCH_QUICK")
        .map(|v| !v.is_empty() && v != "0")
        .unwrap_or(false);
    env || std::env::args().any(|a| a == "--quick")
}

/// The interop Python. Unset: under CI (`CI` set) that is an error (the comparison must
/// not silently vanish); outside CI the Python columns are skipped with a note.
pub fn python() -> Result<Option<OsString>, String> {
    if let Some(p) = std::env::var_os(PYTHON_VAR).filter(|p| !p.is_empty()) {
        // A relative path is taken from the repository root (the bench runs elsewhere).
        return Ok(Some(imageshare_tests::program_from_repo(p)));
    }
    if std::env::var_os("CI").is_some() {
        return Err(format!(
            "{PYTHON_VAR} is not set under CI: it must name a Python with \
             tests/interop/*/requirements.txt installed (tests/run.sh builds one)"
        ));
    }
    println!(
        "note: {PYTHON_VAR} is not set, so the official Python SDKs are not measured; \
         set it to a Python with tests/interop/*/requirements.txt installed"
    );
    Ok(None)
}

/// `benches/python/<name>`.
pub fn script(name: &str) -> PathBuf {
    imageshare_tests::repo_path("benches/python").join(name)
}

/// Runs `python script config` and parses the last line of its stdout as JSON. Its stderr
/// is passed through. A non-zero exit or an unreadable answer is an error.
pub fn run_python(
    python: &OsString,
    script_name: &str,
    config: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    let path = script(script_name);
    let out = Command::new(python)
        .arg(&path)
        .arg(config.to_string())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}):\n{stdout}",
            path.display(),
            out.status
        ));
    }
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).map_err(|e| {
        format!(
            "{}: the last line of stdout is not JSON ({e}):\n{stdout}",
            path.display()
        )
    })
}

/// A figure with thousands separators for the table (`12345.6` -> `12,346`).
pub fn grouped(x: f64) -> String {
    let n = x.round() as u64;
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A 2-worker Tokio runtime with its threads named `name` (the benches run the emulator
/// and the client each on one, so the client's tasks do not queue behind the server's).
pub fn runtime(name: &str) -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

/// The exit status of a bench's `run`: success, or its error on stderr as `bench: error`
/// and a failure.
pub fn exit(bench: &str, outcome: Result<(), String>) -> std::process::ExitCode {
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{bench}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
