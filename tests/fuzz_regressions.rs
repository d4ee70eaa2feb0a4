//! Replays every input stored under `fuzz/regressions/<target>/` (crashes the fuzzers
//! found, minimized, and interesting corpus entries) through the same harness the
//! cargo-fuzz targets run (`fuzz/src/harness.rs`), on the stable toolchain, as part of
//! `cargo test`. The harness checks each parser's invariants (it panics on a violation);
//! here every input must also come back as a typed result: accepted, or refused with one
//! of the error kinds the target documents.
//!
//! The fuzzers themselves need nightly and run by hand (`fuzz/README.md`); CI runs only
//! this replay.

use std::path::PathBuf;

#[path = "../fuzz/src/harness.rs"]
mod harness;

use harness::{Outcome, Target, TARGETS};

/// The stored inputs of one target, sorted by file name.
fn stored_inputs(target: &str) -> Vec<PathBuf> {
    let dir = imageshare_tests::repo_path("fuzz/regressions").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every stored input of `name` and checks the outcome is typed; the stored inputs
/// must exercise both sides (at least one accepted, one refused).
fn replay(name: &str) {
    let target: &Target = TARGETS
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"));
    let files = stored_inputs(name);
    assert!(
        !files.is_empty(),
        "fuzz/regressions/{name}/ holds no input: store at least one"
    );
    let (mut accepted, mut refused) = (0, 0);
    for file in &files {
        let data = std::fs::read(file).expect("a readable input");
        match (target.run)(&data) {
            Outcome::Accepted => accepted += 1,
            Outcome::Refused { kind, message } => {
                assert!(
                    target.refusals.contains(&kind),
                    "{}: refused as {kind}, which {name} does not document: {message}",
                    file.display()
                );
                assert!(!message.is_empty(), "{}: an empty error", file.display());
                refused += 1;
            }
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "fuzz/regressions/{name}/: {accepted} accepted, {refused} refused; store both kinds"
    );
}

#[test]
fn alibaba_decode_regressions() {
    replay("alibaba_decode");
}

#[test]
fn tencent_decode_regressions() {
    replay("tencent_decode");
}

#[test]
fn ucloud_decode_regressions() {
    replay("ucloud_decode");
}

#[test]
fn manifest_regressions() {
    replay("manifest");
}

#[test]
fn world_regressions() {
    replay("world");
}
