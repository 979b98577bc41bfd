//! Scan inspection: headers only (`inspect`) and the integrity pass over the whole JPEG
//! (`verify_integrity`: marker walk to EOI).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput};
use hozon::config::Limits;
use hozon::scan;

use crate::fixtures;

pub fn bench(c: &mut Criterion) {
    let page = fixtures::page_jpeg();
    let limits = Limits::default();
    let path = Path::new("page-0001.jpg");
    let info = scan::inspect(path, page, &limits).expect("inspect");
    assert_eq!(
        (info.pages.len(), info.pages.first().map(|p| p.width)),
        (1, Some(fixtures::WIDTH))
    );
    scan::verify_integrity(&info, page).expect("integrity");

    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Bytes(page.len() as u64));
    g.bench_function("inspect_headers_a4_jpeg", |b| {
        b.iter(|| scan::inspect(path, black_box(page), &limits))
    });
    g.bench_function("integrity_pass_a4_jpeg", |b| {
        b.iter(|| scan::verify_integrity(&info, black_box(page)))
    });
    g.finish();
}
