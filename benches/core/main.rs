//! Criterion benches of hozon's hot paths, one group per stage, on a realistic A4 300 dpi colour
//! JPEG page made in process: header inspection and the integrity pass (`scan`), SHA-256 of a
//! page (`hash`), PDF assembly (`pdf`), CMS and PAdES signing (`sign`), timestamp token and
//! whole-archive verification (`verify`), and RFC 4998 records for 100,000 archives (`ers`). Run with `cargo bench --bench core`; each group stays
//! under ~10 s. The pipeline benchmark against peer tools is `benches/pipeline.sh`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

mod ers;
mod fixtures;
mod hash;
mod pdf;
mod scan;
mod sign;
mod verify;

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = scan::bench, hash::bench, pdf::bench, sign::bench, verify::bench, ers::bench
}
criterion_main!(benches);
