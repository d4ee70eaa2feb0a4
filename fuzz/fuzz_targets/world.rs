//! cargo-fuzz target `world`: see [`imageshare_fuzz::world`] for the input format and the
//! invariants checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = imageshare_fuzz::world(data);
});
