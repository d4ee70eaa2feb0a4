//! imageshare's own tests, benchmarks, examples and README/SECURITY doctests, as one
//! workspace member that is never published.
//!
//! The targets are the files under `tests/`, `benches/` and `examples/` at the repository
//! root (this crate's `Cargo.toml` points at them). They drive the emulator through
//! `imageshare::testing` (cargo feature `emulator`); owning them here keeps the emulator
//! out of the facade package's dependency tree.
//!
//! Cargo runs tests and benchmarks with this crate's directory as the working directory,
//! so the files of the repository are found through [`REPO`], never through relative paths.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The repository root (this crate lives in `crates/imageshare-tests`).
pub const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// `rel`, a path relative to the repository root (`tests/interop/tencent/interop.py`).
pub fn repo_path(rel: impl AsRef<Path>) -> PathBuf {
    Path::new(REPO).join(rel)
}

/// A program named by an environment variable (`IMAGESHARE_INTEROP_PYTHON`), as given from
/// the repository root: a relative path with a directory part
/// (`target/interop-venv/bin/python`) is taken relative to [`REPO`], as it was when these
/// targets belonged to the root package; a bare name is left to the `PATH` lookup and an
/// absolute path is kept.
pub fn program_from_repo(program: OsString) -> OsString {
    let path = Path::new(&program);
    if path.is_relative() && path.components().count() > 1 {
        repo_path(path).into_os_string()
    } else {
        program
    }
}

/// The README's Rust snippets, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

/// SECURITY.md's Rust snippet, compiled as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../SECURITY.md")]
struct SecurityDoctests;
