//! Tests of signature placeholders: byte ranges, prefix property, overflow, read-back, peers.

use super::*;
use crate::pdf::fixtures;
use crate::pdf::image::{ImageKind, ImagePage};
use crate::pdf::peers;
use crate::pdf::reader::read_signatures;
use time::macros::datetime;

pub fn base_pdf() -> Vec<u8> {
    let jpg = fixtures::jpeg(32, 32, true);
    let page = ImagePage {
        data: &jpg,
        kind: ImageKind::Jpeg,
        dpi_x: 300.0,
        dpi_y: 300.0,
    };
    crate::pdf::assemble(&[page, page], &fixtures::meta()).unwrap()
}

pub fn request(kind: SigKind) -> SignatureRequest {
    SignatureRequest {
        kind,
        name: Some("山田 花子".into()),
        reason: Some("スキャン保存".into()),
        location: Some("Tokyo".into()),
        contact_info: None,
        signing_time: Some(datetime!(2026-11-27 01:02:03 UTC)),
        contents_len: 4096,
    }
}

/// A DER-looking blob: SEQUENCE with a two-byte length, then filler.
pub fn dummy_der(body: usize) -> Vec<u8> {
    let mut v = vec![0x30, 0x82, (body >> 8) as u8, body as u8];
    v.extend((0..body).map(|i| (i % 7 + 1) as u8));
    v
}

/// Sign `pdf` with a dummy container.
pub fn sign_dummy(pdf: Vec<u8>, kind: SigKind) -> Vec<u8> {
    prepare_signature(pdf, &request(kind))
        .unwrap()
        .finish(&dummy_der(1000))
        .unwrap()
}

#[test]
fn byte_range_covers_everything_but_the_contents_string() {
    let base = base_pdf();
    let prepared = prepare_signature(base.clone(), &request(SigKind::Cades)).unwrap();
    let [s, a, b, c] = prepared.byte_range();
    let [first, second] = prepared.covered();
    assert_eq!((first.len(), second.len()), (a, c));
    let der = dummy_der(1000);
    let signed = prepared.finish(&der).unwrap();
    assert_eq!(s, 0);
    assert_eq!(b + c, signed.len());
    assert_eq!(signed[a], b'<');
    assert_eq!(signed[b - 1], b'>');
    assert_eq!(b - a, 2 + 2 * 4096);
    assert!(signed.starts_with(&base), "old file must be a byte prefix");
    let br_text = format!("/ByteRange [0 {a} {b} {c}");
    assert!(String::from_utf8_lossy(&signed).contains(&br_text));

    let sigs = read_signatures(&signed).unwrap();
    assert_eq!(sigs.len(), 1);
    let e = &sigs[0];
    assert_eq!(e.field_name, "Signature1");
    assert_eq!(e.kind, SigKind::Cades);
    assert_eq!(e.sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
    assert_eq!(e.byte_range, [0, a, b, c]);
    assert_eq!(e.contents.len(), 4096);
    assert_eq!(e.der(), &der[..]);
    assert_eq!(e.name.as_deref(), Some("山田 花子"));
    assert_eq!(e.reason.as_deref(), Some("スキャン保存"));
    assert_eq!(e.signing_time, Some(datetime!(2026-11-27 01:02:03 UTC)));
    assert_eq!(e.revision, Some(1));
    peers::qpdf_check(&signed, "signature_finish");
}

#[test]
fn too_big_container_is_refused_and_unsigned_bytes_come_back() {
    let base = base_pdf();
    let mut req = request(SigKind::Cades);
    req.contents_len = 100;
    let prepared = prepare_signature(base.clone(), &req).unwrap();
    let err = prepare_signature(base.clone(), &req)
        .unwrap()
        .finish(&dummy_der(200))
        .unwrap_err();
    assert!(matches!(err, PdfError::TooSmall { needed: 204, room: 100 }), "{err:?}");
    assert_eq!(err.code(), "signature-too-small");
    assert_eq!(prepared.into_unsigned(), base);
    // Exactly full is fine.
    assert!(prepare_signature(base, &req).unwrap().finish(&dummy_der(96)).is_ok());
}

#[test]
fn second_signature_and_doc_timestamp_get_unique_fields() {
    let once = sign_dummy(base_pdf(), SigKind::Cades);
    let twice = sign_dummy(once.clone(), SigKind::DocTimestamp);
    assert!(twice.starts_with(&once));
    let sigs = read_signatures(&twice).unwrap();
    let names: Vec<_> = sigs.iter().map(|s| s.field_name.as_str()).collect();
    assert_eq!(names, ["Signature1", "Signature2"]);
    assert_eq!(sigs[1].kind, SigKind::DocTimestamp);
    assert_eq!(sigs[1].sub_filter.as_deref(), Some("ETSI.RFC3161"));
    assert_eq!(sigs[1].m_raw, None);
    assert_eq!((sigs[0].revision, sigs[1].revision), (Some(1), Some(2)));
    assert_eq!(crate::pdf::reader::revisions(&twice).unwrap().len(), 3);
    peers::qpdf_check(&twice, "doc_timestamp");
}

#[test]
fn pdfsig_lists_the_signature_fields() {
    if !peers::have("pdfsig", "pdfsig_lists") {
        return;
    }
    let signed = sign_dummy(sign_dummy(base_pdf(), SigKind::Cades), SigKind::Cades);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.pdf");
    std::fs::write(&p, &signed).unwrap();
    let (_, out) = peers::run("pdfsig", &["-nocert", peers::path_str(&p)]);
    assert!(out.contains("Signature #1") && out.contains("Signature #2"), "{out}");
    assert!(out.contains("Signature Type: ETSI.CAdES.detached"), "{out}");
    assert!(
        out.contains("Signed Document: Total document signed") || out.contains("Total document signed"),
        "{out}"
    );
}

/// Scanner-like inputs rewritten by qpdf: object streams + xref streams, and linearized.
#[test]
fn signs_foreign_pdfs_with_object_streams_and_linearization() {
    if !peers::have("qpdf", "foreign_pdfs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.pdf");
    std::fs::write(&src, base_pdf()).unwrap();
    for (name, args) in [
        ("objstm", vec!["--object-streams=generate"]),
        ("linear", vec!["--linearize"]),
    ] {
        let out_path = dir.path().join(format!("{name}.pdf"));
        let mut a: Vec<&str> = args.clone();
        a.push(peers::path_str(&src));
        a.push(peers::path_str(&out_path));
        let (ok, out) = peers::run("qpdf", &a);
        assert!(ok, "{out}");
        let foreign = std::fs::read(&out_path).unwrap();
        let signed = sign_dummy(foreign.clone(), SigKind::Cades);
        assert!(signed.starts_with(&foreign), "{name}");
        let sigs = read_signatures(&signed).unwrap();
        assert_eq!(sigs.len(), 1, "{name}");
        assert_eq!(sigs[0].covered_end(), signed.len(), "{name}");
        assert_eq!(crate::pdf::page_count(&signed).unwrap(), 2, "{name}");
        assert_eq!(
            crate::pdf::revisions(&signed).unwrap(),
            vec![foreign.len(), signed.len()],
            "{name}"
        );
        assert_eq!(sigs[0].revision, Some(1), "{name}");
        peers::qpdf_check(&signed, name);
    }
}

#[test]
fn encrypted_pdfs_are_refused() {
    if !peers::have("qpdf", "encrypted") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (src, enc) = (dir.path().join("s.pdf"), dir.path().join("e.pdf"));
    std::fs::write(&src, base_pdf()).unwrap();
    let args = [
        "--encrypt",
        "",
        "owner",
        "256",
        "--",
        peers::path_str(&src),
        peers::path_str(&enc),
    ];
    let (ok, out) = peers::run("qpdf", &args);
    assert!(ok, "{out}");
    let err = prepare_signature(std::fs::read(&enc).unwrap(), &request(SigKind::Cades)).unwrap_err();
    assert_eq!(err.code(), "encrypted");
}

#[test]
fn contents_len_is_bounded() {
    let mut req = request(SigKind::Cades);
    req.contents_len = 0;
    assert_eq!(
        prepare_signature(base_pdf(), &req).unwrap_err().code(),
        "invalid-request"
    );
    req.contents_len = MAX_CONTENTS + 1;
    assert_eq!(
        prepare_signature(base_pdf(), &req).unwrap_err().code(),
        "invalid-request"
    );
}
