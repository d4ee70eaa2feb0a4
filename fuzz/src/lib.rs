//! The fuzz harness of imageshare's parsers, as a library for the cargo-fuzz targets in
//! `fuzz_targets/`. The same file is compiled into the stable regression test
//! (`tests/fuzz_regressions.rs`), which replays every input stored under `regressions/`.
mod harness;
pub use harness::*;
