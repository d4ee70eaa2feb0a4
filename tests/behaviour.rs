//! The behaviour suite, run for every adapter against the emulator. The test bodies live
//! once in `behaviour/suite.rs`; each provider module only says how to build its adapter.
// Until every provider's target is plugged in, some suite helpers are unused.
#![allow(dead_code)]

#[path = "behaviour/suite.rs"]
mod suite;
