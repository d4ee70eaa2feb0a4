//! # imageshare-emulator
//!
//! The multi-cloud emulator that referees imageshare's adapters (and the clouds' own
//! official SDKs): a real HTTP server on 127.0.0.1 that verifies signatures, holds
//! accounts, images and grants, and enforces each cloud's documented limits with its own
//! error codes.
//!
//! **Not built yet** (issue #3). This crate is a placeholder in the workspace layout; it
//! exports nothing, so nothing can mistake it for a working emulator.
