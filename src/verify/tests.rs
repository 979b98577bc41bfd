//! End-to-end checks of the verifier on hozon-style files built in the test (fixtures.rs):
//! every level, the long-term rule across time, revocation before and after the proven time,
//! untrusted roots, and tampering of every kind.

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::fixtures::{self, Pki, SIGNED};
use super::*;

fn verifier(trust: TrustStore, at: OffsetDateTime) -> Verifier {
    Verifier::new(
        trust,
        None,
        VerifyOptions {
            at,
            max_file_bytes: 1 << 30,
        },
    )
}

fn codes(f: &FileReport) -> Vec<&'static str> {
    f.reasons.iter().map(|r| r.code.as_str()).collect()
}

fn check(pki: &Pki, pdf: &[u8], at: OffsetDateTime) -> FileReport {
    verifier(pki.trust(), at).verify_bytes("t.pdf", pdf)
}

#[test]
fn lta_file_is_valid_now_and_after_the_signer_expired() {
    let pki = Pki::new();
    let pdf = fixtures::lta(&pki);
    let f = check(&pki, &pdf, SIGNED + Duration::days(1));
    assert_eq!(f.verdict, Verdict::Valid, "{:#?}", f.reasons);
    assert_eq!(f.level, Some(Level::BLTA));
    let s = &f.signatures[0];
    assert_eq!(s.signer.as_deref(), Some("医師 山田 太郎"));
    assert_eq!(s.role.as_deref(), Some("Medical Doctor"));
    assert_eq!(s.signed_at.as_deref(), Some("2025-06-01T00:00:00Z"));
    let kinds: Vec<TimestampKind> = s.timestamps.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, vec![TimestampKind::Signature, TimestampKind::Document]);
    assert_eq!(s.timestamps[1].time, "2025-06-01T01:00:00Z");
    assert!(s.timestamps[0].tsa.contains("Verify TSA"), "{}", s.timestamps[0].tsa);
    assert!(
        f.allowed_changes.iter().any(|c| c.contains("DSS")),
        "{:?}",
        f.allowed_changes
    );

    // 2035: the signer expired in 2027, but the timestamps prove the signature is from 2025.
    let later = check(&pki, &pdf, datetime!(2035-01-01 0:00 UTC));
    assert_eq!(later.verdict, Verdict::Valid, "{:#?}", later.reasons);
    assert_eq!(later.signatures[0].judged_at.as_deref(), Some("2025-06-01T00:00:00Z"));

    // 2041: the TSA's and root's certificates have expired too and nothing newer vouches.
    let too_late = check(&pki, &pdf, datetime!(2041-01-01 0:00 UTC));
    assert_eq!(too_late.verdict, Verdict::Invalid);
    let c = codes(&too_late);
    assert!(
        c.contains(&"timestamp-invalid") && c.contains(&"expired-no-timestamp"),
        "{c:?}"
    );
}

#[test]
fn timestamps_after_the_validation_time_do_not_count() {
    let pki = Pki::new();
    let signed = fixtures::sign(
        &pki,
        &pki.signer,
        fixtures::unsigned_pdf(),
        Some(datetime!(2026-12-01 0:00 UTC)),
    );
    let pdf = fixtures::dss(&pki, signed, vec![pki.crl(datetime!(2026-12-01 0:00 UTC), &[])]);
    // At 2028 the signature is proven from 2026-12 (signer valid then).
    assert_eq!(
        check(&pki, &pdf, datetime!(2028-01-01 0:00 UTC)).verdict,
        Verdict::Valid
    );
    // As of 2026-11 the timestamp does not exist yet: the signer is judged then (still valid).
    let f = check(&pki, &pdf, datetime!(2026-11-01 0:00 UTC));
    assert_eq!(f.signatures[0].judged_at.as_deref(), Some("2026-11-01T00:00:00Z"));
    assert!(
        f.signatures[0]
            .notes
            .iter()
            .any(|n| n.contains("after the validation time")),
        "{:?}",
        f.signatures[0].notes
    );
}

#[test]
fn without_timestamp_expiry_and_missing_revocation_decide() {
    let pki = Pki::new();
    let bb = fixtures::sign(&pki, &pki.signer, fixtures::unsigned_pdf(), None);
    let f = check(&pki, &bb, SIGNED + Duration::days(1));
    assert_eq!(f.verdict, Verdict::Indeterminate, "{:#?}", f.reasons);
    assert_eq!(codes(&f), vec!["revocation-unknown"]);
    assert_eq!(f.level, Some(Level::BB));
    let with_crl = fixtures::dss(&pki, bb.clone(), vec![pki.crl(SIGNED, &[])]);
    let f = check(&pki, &with_crl, SIGNED + Duration::days(1));
    assert_eq!(f.verdict, Verdict::Valid, "{:#?}", f.reasons);
    assert_eq!(f.level, Some(Level::BB));
    assert_eq!(
        codes(&check(&pki, &with_crl, datetime!(2030-01-01 0:00 UTC))),
        vec!["expired-no-timestamp"]
    );
    // The same file with a timestamp survives the expiry.
    let bt = fixtures::sign(&pki, &pki.signer, fixtures::unsigned_pdf(), Some(SIGNED));
    let bt = fixtures::dss(&pki, bt, vec![pki.crl(SIGNED, &[])]);
    let f = check(&pki, &bt, datetime!(2030-01-01 0:00 UTC));
    assert_eq!(f.verdict, Verdict::Valid, "{:#?}", f.reasons);
    assert_eq!(f.level, Some(Level::BLT));
}

#[test]
fn revocation_before_the_proven_time_is_fatal_after_it_is_not() {
    let pki = Pki::new();
    let signer = pki.signer.cert.clone();
    let bt = fixtures::sign(&pki, &pki.signer, fixtures::unsigned_pdf(), Some(SIGNED));
    let before = fixtures::dss(
        &pki,
        bt.clone(),
        vec![pki.crl(SIGNED, &[(&signer, SIGNED - Duration::days(10))])],
    );
    let f = check(&pki, &before, SIGNED + Duration::days(2));
    assert_eq!(codes(&f), vec!["revoked"], "{:#?}", f.reasons);

    let after_crl = pki.crl(SIGNED + Duration::days(11), &[(&signer, SIGNED + Duration::days(10))]);
    let after = fixtures::dss(&pki, bt, vec![after_crl.clone()]);
    let f = check(&pki, &after, SIGNED + Duration::days(20));
    assert_eq!(f.verdict, Verdict::Valid, "{:#?}", f.reasons);
    assert!(
        f.signatures[0].notes.iter().any(|n| n.contains("revoked")),
        "{:?}",
        f.signatures[0].notes
    );

    // Without a timestamp nothing proves the signature predates the revocation.
    let bb = fixtures::sign(&pki, &pki.signer, fixtures::unsigned_pdf(), None);
    let bb = fixtures::dss(&pki, bb, vec![after_crl]);
    assert_eq!(codes(&check(&pki, &bb, SIGNED + Duration::days(20))), vec!["revoked"]);
}

#[test]
fn another_root_is_untrusted() {
    let pki = Pki::new();
    let other = Pki::new();
    let pdf = fixtures::lta(&pki);
    let f = verifier(other.trust(), SIGNED + Duration::days(1)).verify_bytes("t.pdf", &pdf);
    let c = codes(&f);
    assert!(c.contains(&"untrusted-chain"), "{c:?}");
    assert_eq!(f.verdict, Verdict::Invalid);
}

#[test]
fn unsigned_truncated_and_garbage_files() {
    let pki = Pki::new();
    let at = SIGNED + Duration::days(1);
    assert_eq!(codes(&check(&pki, &fixtures::unsigned_pdf(), at)), vec!["not-signed"]);
    let pdf = fixtures::lta(&pki);
    for cut in [pdf.len() - 1, pdf.len() - 30, pdf.len() / 2, 100, 0] {
        let f = check(&pki, &pdf[..cut], at);
        assert_eq!(f.verdict, Verdict::Invalid, "cut at {cut}: {:#?}", f.reasons);
    }
    assert_eq!(codes(&check(&pki, b"%PDF-1.7\n garbage", at)), vec!["malformed"]);
}

#[test]
fn contents_swapped_from_another_file_is_a_digest_mismatch() {
    let pki = Pki::new();
    let at = SIGNED + Duration::days(1);
    let a = fixtures::sign(&pki, &pki.signer, fixtures::unsigned_pdf(), Some(SIGNED));
    let mut other_doc = fixtures::unsigned_pdf();
    other_doc.extend_from_slice(b"\n% another document\n");
    let b = fixtures::sign(&pki, &pki.signer, other_doc, Some(SIGNED));
    let gap = |p: &[u8]| {
        let e = &pdf::read_signatures(p).unwrap()[0];
        (e.byte_range[1], e.byte_range[2])
    };
    let (a0, a1) = gap(&a);
    let (b0, b1) = gap(&b);
    let mut swapped = a.clone();
    swapped[a0..a1].copy_from_slice(&b[b0..b1]);
    let f = check(&pki, &swapped, at);
    assert_eq!(codes(&f), vec!["digest-mismatch"], "{:#?}", f.reasons);
}

#[test]
fn a_revision_that_changes_a_page_is_modified_after_signing() {
    let pki = Pki::new();
    let pdf = fixtures::lta(&pki);
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let page = *doc.get_pages().get(&1).unwrap();
    let mut inc = lopdf::IncrementalDocument::create_from(pdf.clone(), doc);
    inc.opt_clone_object_to_new_document(page).unwrap();
    inc.new_document.get_dictionary_mut(page).unwrap().set("Rotate", 90);
    let mut out = Vec::new();
    inc.save_to(&mut out).unwrap();
    assert!(out.starts_with(&pdf));
    let f = check(&pki, &out, SIGNED + Duration::days(1));
    assert_eq!(codes(&f), vec!["modified-after-signing"], "{:#?}", f.reasons);
}

/// Flip bytes throughout a B-LTA file: every flip outside the newest document timestamp's
/// own /Contents (the only bytes no signature covers) must make the file not valid.
#[test]
fn byte_flips_inside_signed_ranges_are_all_detected() {
    let pki = Pki::new();
    let pdf = fixtures::lta(&pki);
    let v = verifier(pki.trust(), SIGNED + Duration::days(1));
    let sigs = pdf::read_signatures(&pdf).unwrap();
    let newest = sigs.iter().max_by_key(|s| s.covered_end()).unwrap();
    let (gap0, gap1) = (newest.byte_range[1], newest.byte_range[2]);
    let step = if std::env::var("HOZON_FULL_SWEEP").is_ok() {
        1
    } else {
        7
    };
    let mut tried = 0;
    for pos in (0..pdf.len()).step_by(step) {
        if (gap0..gap1).contains(&pos) {
            continue;
        }
        let mut bad = pdf.clone();
        bad[pos] ^= 0x01;
        let f = v.verify_bytes("flip", &bad);
        assert_ne!(
            f.verdict,
            Verdict::Valid,
            "flip at {pos} ({:?}) not detected",
            pdf[pos] as char
        );
        tried += 1;
    }
    assert!(tried > 1000, "{tried}");
}
