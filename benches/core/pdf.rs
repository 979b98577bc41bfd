//! PDF assembly: one A4 JPEG page passed through as DCTDecode with Info and XMP metadata.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use hozon::pdf;

use crate::fixtures;

pub fn bench(c: &mut Criterion) {
    let page = fixtures::page_jpeg();
    let meta = fixtures::metadata();
    let out = pdf::assemble(&[fixtures::image_page(page)], &meta).expect("assemble");
    // passthrough: the JPEG must appear verbatim in the PDF
    assert!(out.windows(page.len()).any(|w| w == page), "JPEG not passed through");

    let mut g = c.benchmark_group("pdf");
    g.throughput(Throughput::Bytes(page.len() as u64));
    g.bench_function("assemble_one_page", |b| {
        b.iter(|| pdf::assemble(&[fixtures::image_page(black_box(page))], &meta))
    });
    g.finish();
}
