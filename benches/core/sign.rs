//! Signing: a bare CMS SignedData over a digest (RSA-2048, PAdES attributes), then the whole
//! PAdES signature of a one-page PDF (placeholder, byte-range hash, CMS, embed) without and with
//! a built-in TSA timestamp (B-B, B-T).

use std::hint::black_box;

use criterion::{BatchSize, Criterion};
use hozon::cms;
use hozon::pades;
use hozon::sign::DigestAlg;
use hozon::tsp::TimeStamper;

use crate::fixtures;

pub fn bench(c: &mut Criterion) {
    let p = fixtures::pki();
    let digest = DigestAlg::Sha256.digest(fixtures::unsigned_pdf()).expect("digest");
    let der = cms::sign_detached(&p.signer, &digest)
        .and_then(|s| s.finish(None))
        .expect("cms");
    cms::parse_signed_data(&der)
        .and_then(|s| s.verify(&digest))
        .expect("own CMS verifies");
    let tsa: &dyn TimeStamper = &p.tsa;
    let fields = fixtures::fields();

    let mut g = c.benchmark_group("sign");
    g.bench_function("cms_sign_detached_rsa2048", |b| {
        b.iter(|| cms::sign_detached(&p.signer, black_box(&digest)).and_then(|s| s.finish(None)))
    });
    g.bench_function("builtin_tsa_token", |b| {
        b.iter(|| tsa.timestamp(DigestAlg::Sha256, black_box(&digest)))
    });
    g.bench_function("pades_b_b_one_page", |b| {
        b.iter_batched(
            || fixtures::unsigned_pdf().to_vec(),
            |pdf| pades::sign_pdf(pdf, &p.signer, None, &fields),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("pades_b_t_builtin_tsa_one_page", |b| {
        b.iter_batched(
            || fixtures::unsigned_pdf().to_vec(),
            |pdf| pades::sign_pdf(pdf, &p.signer, Some(tsa), &fields),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}
