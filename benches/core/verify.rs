//! Verification: one RFC 3161 token (parse, imprint, CMS signature, ESS binding, EKU), and one
//! whole archive file the way a verifier walks it — signatures found through the xref chain,
//! byte ranges hashed as they are in the file, CMS checked, its signature timestamp checked, the
//! DSS read and both certificate paths validated at the timestamp's time with the DSS's CRLs.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use hozon::cms;
use hozon::pdf::{self, SigKind};
use hozon::pki::{validate_path, RevocationData, TrustStore, Usage};
use hozon::sign::DigestAlg;
use hozon::tsp::{TimeStamper, TimestampToken};
use openssl::x509::X509;

use crate::fixtures;

/// Everything `hozon verify` must establish for a B-T/B-LT file, with the library's pieces.
/// Returns the number of signatures found valid and trusted.
fn verify_archive(bytes: &[u8], trust: &TrustStore) -> Result<usize, String> {
    let sigs = pdf::read_signatures(bytes).map_err(|e| e.to_string())?;
    let dss = pdf::read_dss(bytes).map_err(|e| e.to_string())?;
    let extra: Vec<X509> = dss.certs.iter().filter_map(|d| X509::from_der(d).ok()).collect();
    let revocation = RevocationData {
        crls: dss.crls.clone(),
        ocsps: dss.ocsps.clone(),
    };
    let mut ok = 0;
    for s in sigs.iter().filter(|s| s.kind == SigKind::Cades) {
        let signed = cms::parse_signed_data(s.der()).map_err(|e| e.to_string())?;
        let alg = signed.digest_algorithm().map_err(|e| e.to_string())?;
        let [a, b] = s.covered(bytes);
        let digest = hozon::pades::digest_ranges(alg, [a, b]).map_err(|e| e.to_string())?;
        let check = signed.verify(&digest).map_err(|e| e.to_string())?;
        let token_der = signed
            .timestamp_tokens()
            .first()
            .copied()
            .ok_or("no signature timestamp")?;
        let token = TimestampToken::parse(token_der).map_err(|e| e.to_string())?;
        let imprint = token
            .info
            .imprint_alg
            .digest(signed.signature_value())
            .map_err(|e| e.to_string())?;
        let tsa_cert = token
            .verify(token.info.imprint_alg, &imprint)
            .map_err(|e| e.to_string())?;
        let at = token.info.gen_time;
        let tsa_path = validate_path(&tsa_cert, &extra, trust, at, &revocation, Usage::TimeStamping, false);
        let signer_path = validate_path(
            &check.signer,
            &extra,
            trust,
            at,
            &revocation,
            Usage::DocumentSigning,
            false,
        );
        if !tsa_path.is_valid() || !signer_path.is_valid() {
            return Err(format!(
                "path: signer {:?}, TSA {:?}",
                signer_path.status, tsa_path.status
            ));
        }
        ok += 1;
    }
    Ok(ok)
}

pub fn bench(c: &mut Criterion) {
    let p = fixtures::pki();
    let tsa: &dyn TimeStamper = &p.tsa;
    let digest = DigestAlg::Sha256.digest(b"signature value").expect("digest");
    let token = tsa.timestamp(DigestAlg::Sha256, &digest).expect("token");
    let der = token.der.clone();
    TimestampToken::parse(&der)
        .and_then(|t| t.verify(DigestAlg::Sha256, &digest))
        .expect("token verifies");

    let archive = fixtures::archive_pdf();
    let mut trust = TrustStore::new();
    trust.add_root(p.demo.root.clone());
    assert_eq!(verify_archive(archive, &trust), Ok(1), "the bench archive must verify");
    // and a flipped byte inside the signed range must not
    let mut bad = archive.to_vec();
    if let Some(b) = bad.get_mut(archive.len() / 3) {
        *b ^= 0x20;
    }
    assert!(verify_archive(&bad, &trust).is_err(), "tampered archive verified");

    let mut g = c.benchmark_group("verify");
    g.bench_function("timestamp_token_parse_verify", |b| {
        b.iter(|| TimestampToken::parse(black_box(&der)).and_then(|t| t.verify(DigestAlg::Sha256, &digest)))
    });
    g.throughput(Throughput::Bytes(archive.len() as u64));
    g.bench_function("archive_one_page_b_lt", |b| {
        b.iter(|| verify_archive(black_box(archive), &trust))
    });
    g.finish();
}
