//! cargo-fuzz target `tencent_decode`: see [`imageshare_fuzz::tencent_decode`] for the input format and the
//! invariants checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = imageshare_fuzz::tencent_decode(data);
});
