//! cargo-fuzz target `ucloud_decode`: see [`imageshare_fuzz::ucloud_decode`] for the input format and the
//! invariants checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = imageshare_fuzz::ucloud_decode(data);
});
