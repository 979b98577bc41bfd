//! cargo-fuzz target: hozon_fuzz::cms_parse on arbitrary bytes (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hozon_fuzz::cms_parse(data);
});
