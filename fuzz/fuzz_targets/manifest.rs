//! cargo-fuzz target `manifest`: see [`imageshare_fuzz::manifest`] for the input format and the
//! invariants checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = imageshare_fuzz::manifest(data);
});
