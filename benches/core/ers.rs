//! RFC 4998 at the scale of a night's bulk renewal: hash tree, reduced trees and DER records for
//! 100,000 archive digests under ONE timestamp (built-in TSA), then the timestamp renewal of all
//! of them. The size of one record is printed: log2(N) hashes per level keep it small.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion};
use hozon::ers::{build_records, renew_timestamps, DigestAlgorithm};
use hozon::evidence::TsaRootStamper;
use hozon::sign::DigestAlg;

use crate::fixtures;

const ARCHIVES: u32 = 100_000;

pub fn bench(c: &mut Criterion) {
    let p = fixtures::pki();
    let stamper = TsaRootStamper(&p.tsa);
    let digests: Vec<Vec<u8>> = (0..ARCHIVES)
        .map(|i| DigestAlg::Sha256.digest(&i.to_be_bytes()).expect("digest"))
        .collect();
    let records = build_records(&digests, DigestAlgorithm::Sha256, &stamper).expect("records");
    let one = records[0].to_der().expect("der");
    eprintln!("ers: one record of {ARCHIVES} under one timestamp is {} bytes", one.len());

    let mut g = c.benchmark_group("ers");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.bench_function("seal_100k_archives_one_timestamp", |b| {
        b.iter(|| {
            let recs = build_records(black_box(&digests), DigestAlgorithm::Sha256, &stamper).expect("records");
            recs.iter().map(|r| r.to_der().map(|d| d.len()).unwrap_or(0)).sum::<usize>()
        })
    });
    g.bench_function("renew_100k_records_one_timestamp", |b| {
        b.iter_batched(
            || records.clone(),
            |recs| renew_timestamps(&recs, &stamper).expect("renewed").len(),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}
