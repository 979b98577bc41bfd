//! cargo-fuzz target: hozon_fuzz::tsa_response on arbitrary bytes (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hozon_fuzz::tsa_response(data);
});
