//! cargo-fuzz target: hozon_fuzz::pdf_signatures on arbitrary bytes (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hozon_fuzz::pdf_signatures(data);
});
