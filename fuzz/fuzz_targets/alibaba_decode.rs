//! cargo-fuzz target `alibaba_decode`: see [`imageshare_fuzz::alibaba_decode`] for the input format and the
//! invariants checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = imageshare_fuzz::alibaba_decode(data);
});
