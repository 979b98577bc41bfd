//! Tests of the signature reader on good and hostile input: every failure must be an error.

use super::*;
use crate::pdf::fixtures::{self, raw_pdf, MINIMAL};
use crate::pdf::signature::tests::{base_pdf, sign_dummy};
use crate::pdf::signature::SigKind;

fn signed() -> Vec<u8> {
    sign_dummy(base_pdf(), SigKind::Cades)
}

/// Replace the patched /ByteRange text with `text`, keeping the width.
fn with_byte_range(pdf: &[u8], text: &str) -> Vec<u8> {
    let at = crate::pdf::xref::find(pdf, b"/ByteRange [", 0).unwrap() + 11;
    let end = at + crate::pdf::xref::find(&pdf[at..], b"]", 0).unwrap() + 1;
    let mut t = text.as_bytes().to_vec();
    assert!(t.len() <= end - at, "replacement too long");
    t.resize(end - at, b' ');
    let mut out = pdf.to_vec();
    out[at..end].copy_from_slice(&t);
    out
}

#[test]
fn bad_byte_ranges_are_reported() {
    let good = signed();
    let [_, a, b, c] = read_signatures(&good).unwrap()[0].byte_range;
    let cases = [
        format!("[0 {a} {b} {c} 5]"),
        format!("[0 {a} {b}]"),
        format!("[0 -{a} {b} {c}]"),
        format!("[0 {b} {a} {c}]"),
        format!("[1 {a} {b} {c}]"),
        format!("[0 {} {b} {c}]", a + 1),
        format!("[0 {a} {} {c}]", b - 1),
        format!("[0 {a} {b} {}]", c + 1),
        format!("[0 {} {} {c}]", a - 20, b),
        format!("[0 {a} {b} 1.5]"),
    ];
    for case in cases {
        let err = read_signatures(&with_byte_range(&good, &case)).unwrap_err();
        assert_eq!(err.code(), "bad-byterange", "{case}: {err}");
    }
    // Unchanged text, same width: still fine.
    assert!(read_signatures(&with_byte_range(&good, &format!("[0 {a} {b} {c}]"))).is_ok());
}

#[test]
fn truncated_and_garbage_files_error_without_panicking() {
    let good = signed();
    for cut in (0..good.len()).step_by(good.len() / 300 + 1) {
        let _ = read_signatures(&good[..cut]);
        let _ = crate::pdf::dss::read_dss(&good[..cut]);
        let _ = revisions(&good[..cut]);
    }
    let noise = fixtures::noise(100_000, 3);
    assert!(read_signatures(&noise).is_err());
    let mut with_header = b"%PDF-1.7\n".to_vec();
    with_header.extend_from_slice(&noise);
    with_header.extend_from_slice(b"\nstartxref\n9\n%%EOF\n");
    assert!(read_signatures(&with_header).is_err());
    // Flip bytes across the file: any outcome but a panic, for every reader entry point.
    for i in (0..good.len()).step_by(good.len() / 200 + 1) {
        let mut bad = good.clone();
        bad[i] ^= 0x5A;
        exercise(&bad);
    }
}

fn exercise(pdf: &[u8]) {
    let _ = read_signatures(pdf);
    let _ = crate::pdf::dss::read_dss(pdf);
    let _ = crate::pdf::changes::classify_changes(pdf, 100);
    let _ = crate::pdf::pages::extract_page_images(pdf);
}

/// Object streams and xref streams (as qpdf writes them) damaged everywhere: no panics.
#[test]
fn damaged_object_streams_do_not_panic() {
    if !crate::pdf::peers::have("qpdf", "damaged_objstm") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("a.pdf"), dir.path().join("b.pdf"));
    std::fs::write(&src, signed()).unwrap();
    let args = [
        "--object-streams=generate",
        "--compress-streams=y",
        src.to_str().unwrap(),
        dst.to_str().unwrap(),
    ];
    let (ok, out) = crate::pdf::peers::run("qpdf", &args);
    assert!(ok, "{out}");
    let good = std::fs::read(&dst).unwrap();
    // A rewritten signed file no longer matches its /ByteRange: detected, not misread.
    assert_eq!(read_signatures(&good).unwrap_err().code(), "bad-byterange");
    assert_eq!(crate::pdf::pages::page_count(&good).unwrap(), 2);
    let tail = good.len().saturating_sub(3000);
    for i in (tail..good.len()).step_by(3) {
        let mut bad = good.clone();
        bad[i] = bad[i].wrapping_add(1);
        exercise(&bad);
    }
    for cut in (tail..good.len()).step_by(17) {
        exercise(&good[..cut]);
    }
}

#[test]
fn cyclic_prev_and_huge_xref_counts_are_errors() {
    let base = raw_pdf(&MINIMAL, "/Size 4/Root 1 0 R");
    let xref = crate::pdf::xref::rfind(&base, b"xref\n0 4").unwrap();
    let cyclic = raw_pdf(&MINIMAL, &format!("/Size 4/Root 1 0 R/Prev {xref}"));
    assert_eq!(read_signatures(&cyclic).unwrap_err().code(), "malformed");
    let huge = String::from_utf8_lossy(&base).replace("xref\n0 4\n", "xref\n0 1000000000\n");
    assert_eq!(read_signatures(huge.as_bytes()).unwrap_err().code(), "limit-exceeded");
    assert!(read_signatures(&base).unwrap().is_empty());
}

#[test]
fn cyclic_references_and_deep_nesting_are_errors() {
    // /AcroForm 4 -> 5 -> 4 ... and a field tree whose kid is itself.
    let mut objs = MINIMAL.to_vec();
    objs[0] = b"<</Type/Catalog/Pages 2 0 R/AcroForm 4 0 R>>";
    objs.push(b"5 0 R");
    objs.push(b"4 0 R");
    let pdf = raw_pdf(&objs, "/Size 6/Root 1 0 R");
    assert_eq!(read_signatures(&pdf).unwrap_err().code(), "malformed");
    let mut objs = MINIMAL.to_vec();
    objs[0] = b"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R]>>>>";
    objs.push(b"<</T(a)/Kids[4 0 R]>>");
    assert_eq!(
        read_signatures(&raw_pdf(&objs, "/Size 5/Root 1 0 R"))
            .unwrap_err()
            .code(),
        "malformed"
    );
    let deep = format!("<</Type/Catalog/Pages 2 0 R/X {}{}>>", "[".repeat(200), "]".repeat(200));
    let mut objs = MINIMAL.to_vec();
    objs[0] = deep.as_bytes();
    assert_eq!(
        read_signatures(&raw_pdf(&objs, "/Size 4/Root 1 0 R"))
            .unwrap_err()
            .code(),
        "limit-exceeded"
    );
}

#[test]
fn flate_bomb_xref_stream_is_refused() {
    let bomb = crate::pdf::inflate::deflate(&vec![0u8; 40 << 20]);
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let at = pdf.len();
    pdf.extend_from_slice(
        format!(
            "1 0 obj\n<</Type/XRef/Size 1/W[1 4 2]/Filter/FlateDecode/Length {}>>\nstream\n",
            bomb.len()
        )
        .as_bytes(),
    );
    pdf.extend_from_slice(&bomb);
    pdf.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{at}\n%%EOF\n").as_bytes());
    assert_eq!(read_signatures(&pdf).unwrap_err().code(), "limit-exceeded");
}

#[test]
fn der_prefix_cuts_padding_only_when_the_header_says_so() {
    assert_eq!(
        der_prefix(&[0x30, 0x82, 0x00, 0x02, 1, 2, 0, 0]),
        &[0x30, 0x82, 0x00, 0x02, 1, 2]
    );
    assert_eq!(der_prefix(&[0x30, 0x03, 1, 2, 3, 0]), &[0x30, 0x03, 1, 2, 3]);
    // Declared longer than the data: keep everything.
    assert_eq!(der_prefix(&[0x30, 0x82, 0xFF, 0xFF, 1]), &[0x30, 0x82, 0xFF, 0xFF, 1]);
    assert_eq!(der_prefix(&[]), &[] as &[u8]);
}
