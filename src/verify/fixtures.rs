//! Test-only: hozon-style signed PDFs at every PAdES level from a throw-away EC PKI, a built-in
//! TSA on a fixed clock, and CRLs issued on demand.

use std::sync::Arc;

use openssl::nid::Nid;
use openssl::x509::X509;
use time::macros::datetime;
use time::OffsetDateTime;

use crate::clock::FixedClock;
use crate::pdf::{self, ImageKind, ImagePage, PdfMetadata, SigKind, SignatureRequest, Validation};
use crate::pki::fixtures::{party, Party, T0, T_END};
use crate::pki::{issue_crl, CertSpec, CrlSpec, RevokedEntry, TrustStore};
use crate::sign::{DigestAlg, SoftwareSigner};
use crate::tsp::{BuiltinTsa, TimeStamper};

/// When the test documents are signed.
pub const SIGNED: OffsetDateTime = datetime!(2025-06-01 0:00 UTC);
/// The signer certificate's validity.
pub const SIGNER_FROM: OffsetDateTime = datetime!(2024-01-01 0:00 UTC);
pub const SIGNER_UNTIL: OffsetDateTime = datetime!(2027-01-01 0:00 UTC);

pub struct Pki {
    pub root: Party,
    pub inter: Party,
    pub signer: Party,
    pub tsa: Party,
}

impl Pki {
    pub fn new() -> Pki {
        let root = party(&CertSpec::ca("Verify Root", T0, T_END), None);
        let inter = party(&CertSpec::ca("Verify Intermediate", T0, T_END), Some(&root));
        let mut s = CertSpec::signer("医師 山田 太郎", SIGNER_FROM, SIGNER_UNTIL)
            .with_subject(Nid::ORGANIZATIONNAME, "保存病院");
        s.hc_role = Some("Medical Doctor".into());
        s.crl_urls = vec!["http://127.0.0.1:9/inter.crl".into()];
        let signer = party(&s, Some(&inter));
        let tsa = party(&CertSpec::tsa("Verify TSA", T0, T_END), Some(&inter));
        Pki {
            root,
            inter,
            signer,
            tsa,
        }
    }

    pub fn trust(&self) -> TrustStore {
        let mut t = TrustStore::new();
        t.add_root(self.root.cert.clone());
        t
    }

    pub fn tsa_at(&self, t: OffsetDateTime) -> BuiltinTsa {
        BuiltinTsa::new(
            self.tsa.key.clone(),
            self.tsa.cert.clone(),
            vec![self.inter.cert.clone()],
            Arc::new(FixedClock(t)),
        )
        .expect("tsa")
    }

    /// The intermediate's CRL at `this_update` (30 days), listing `revoked` (cert, when).
    pub fn crl(&self, this_update: OffsetDateTime, revoked: &[(&X509, OffsetDateTime)]) -> Vec<u8> {
        let spec = CrlSpec {
            this_update,
            next_update: Some(this_update + time::Duration::days(30)),
            number: 1,
            revoked: revoked
                .iter()
                .map(|(c, at)| RevokedEntry {
                    serial: c.serial_number().to_bn().expect("serial").to_vec(),
                    at: *at,
                    reason: Some(1),
                })
                .collect(),
        };
        issue_crl(&spec, &self.inter.cert, &self.inter.key).expect("crl")
    }
}

fn jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(24, 24, |x, y| image::Rgb([(x * 9) as u8, (y * 9) as u8, 128]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&img)
        .expect("jpeg");
    out
}

pub fn unsigned_pdf() -> Vec<u8> {
    let jpg = jpeg();
    let page = ImagePage {
        data: &jpg,
        kind: ImageKind::Jpeg,
        dpi_x: 300.0,
        dpi_y: 300.0,
    };
    let meta = PdfMetadata {
        title: Some("診療録".into()),
        author: None,
        subject: None,
        keywords: None,
        creator: "hozon test".into(),
        producer: "hozon test".into(),
        created: SIGNED,
        custom: vec![],
    };
    pdf::assemble(&[page, page], &meta).expect("assemble")
}

fn covered_digest(prepared: &pdf::PreparedSignature) -> Vec<u8> {
    let [a, b] = prepared.covered();
    let mut all = a.to_vec();
    all.extend_from_slice(b);
    DigestAlg::Sha256.digest(&all).expect("digest")
}

/// Sign `pdf` as `signer` (B-B), with a signature timestamp at `ts` when given (B-T).
pub fn sign(pki: &Pki, signer: &Party, pdf: Vec<u8>, ts: Option<OffsetDateTime>) -> Vec<u8> {
    let s = SoftwareSigner::new(signer.key.clone(), signer.cert.clone(), vec![pki.inter.cert.clone()]).expect("signer");
    let req = SignatureRequest {
        kind: SigKind::Cades,
        name: Some("医師 山田 太郎".into()),
        reason: None,
        location: None,
        contact_info: None,
        signing_time: Some(SIGNED),
        contents_len: 8192,
    };
    let prepared = pdf::prepare_signature(pdf, &req).expect("prepare");
    let pending = crate::cms::sign_detached(&s, &covered_digest(&prepared)).expect("cms");
    let token = ts.map(|t| {
        pki.tsa_at(t)
            .timestamp_data(pending.signature_value())
            .expect("tsa")
            .der
    });
    prepared.finish(&pending.finish(token).expect("finish")).expect("embed")
}

/// Append a DSS with the chain certificates and `crls` (B-LT).
pub fn dss(pki: &Pki, pdf: Vec<u8>, crls: Vec<Vec<u8>>) -> Vec<u8> {
    let certs = [&pki.signer.cert, &pki.inter.cert, &pki.root.cert, &pki.tsa.cert]
        .iter()
        .map(|c| c.to_der().expect("der"))
        .collect();
    pdf::append_dss(
        pdf,
        &Validation {
            certs,
            crls,
            ocsps: vec![],
        },
    )
    .expect("dss")
}

/// Append a document timestamp made at `t` (B-LTA).
pub fn doc_ts(pki: &Pki, pdf: Vec<u8>, t: OffsetDateTime) -> Vec<u8> {
    let req = SignatureRequest {
        kind: SigKind::DocTimestamp,
        name: None,
        reason: None,
        location: None,
        contact_info: None,
        signing_time: None,
        contents_len: 6144,
    };
    let prepared = pdf::prepare_signature(pdf, &req).expect("prepare");
    let tok = pki
        .tsa_at(t)
        .timestamp(DigestAlg::Sha256, &covered_digest(&prepared))
        .expect("tsa");
    prepared.finish(&tok.der).expect("embed")
}

/// A complete B-LTA file: signed and timestamped at SIGNED, DSS with a current CRL, document
/// timestamp an hour later.
pub fn lta(pki: &Pki) -> Vec<u8> {
    let signed = sign(pki, &pki.signer, unsigned_pdf(), Some(SIGNED));
    let with_dss = dss(pki, signed, vec![pki.crl(SIGNED - time::Duration::hours(1), &[])]);
    doc_ts(pki, with_dss, SIGNED + time::Duration::hours(1))
}
