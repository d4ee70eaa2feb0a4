//! imageshare facade.
pub use imageshare_core as core;
