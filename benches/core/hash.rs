//! SHA-256 of one page, with the crate ingest uses (sha2) and with OpenSSL (the signer's hasher):
//! the floor every byte of input costs at least once.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use openssl::hash::{hash, MessageDigest};
use sha2::{Digest, Sha256};

use crate::fixtures;

pub fn bench(c: &mut Criterion) {
    let page = fixtures::page_jpeg();
    let a: [u8; 32] = Sha256::digest(page).into();
    let b = hash(MessageDigest::sha256(), page).expect("openssl sha256");
    assert_eq!(&a[..], &b[..], "sha2 and OpenSSL disagree");

    let mut g = c.benchmark_group("hash");
    g.throughput(Throughput::Bytes(page.len() as u64));
    g.bench_function("sha256_page_sha2", |bch| bch.iter(|| Sha256::digest(black_box(page))));
    g.bench_function("sha256_page_openssl", |bch| {
        bch.iter(|| hash(MessageDigest::sha256(), black_box(page)))
    });
    g.finish();
}
