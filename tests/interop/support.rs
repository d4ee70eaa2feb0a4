//! Shared by the interop tests: which Python runs the clouds' official SDKs.

use std::ffi::OsString;

/// The variable `tests/run.sh` sets to a virtualenv's Python with every
/// `tests/interop/*/requirements.txt` installed.
pub const PYTHON_VAR: &str = "IMAGESHARE_INTEROP_PYTHON";

/// The interop Python. Outside CI, when the variable is unset, says the test is skipped
/// and returns `None`; under CI (`CI` set) an unset variable fails the test, so CI can
/// never pass without running the clouds' own SDKs.
pub fn python(cloud: &str) -> Option<OsString> {
    if let Some(p) = std::env::var_os(PYTHON_VAR).filter(|p| !p.is_empty()) {
        // A relative path is taken from the repository root (the test runs elsewhere).
        return Some(imageshare_tests::program_from_repo(p));
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{PYTHON_VAR} is not set under CI: run the tests through tests/run.sh"
    );
    println!(
        "skipped: {PYTHON_VAR} is not set; run tests/run.sh (it installs \
         tests/interop/{cloud}/requirements.txt into a virtualenv and sets {PYTHON_VAR})"
    );
    None
}
