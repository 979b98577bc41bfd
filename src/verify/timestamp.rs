//! Checking one RFC 3161 token found in a PDF: a signature timestamp (imprint over the CMS
//! signature value) or a document timestamp (imprint over the bytes its /ByteRange covers).
//! Here: parsing, imprint, the TSA's CMS signature and ESS binding, critical EKU timeStamping.
//! Whether the TSA's certificate path holds at the right time is `longterm`'s job.

use openssl::x509::X509;
use serde::Serialize;
use time::OffsetDateTime;

use super::reason::{Code, Reason};
use crate::pki::subject_line;
use crate::sign::DigestAlg;
use crate::tsp::{TimestampToken, TspError};

/// Which kind of timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimestampKind {
    /// id-aa-signatureTimeStampToken inside a signature's CMS.
    Signature,
    /// A /DocTimeStamp revision (ETSI.RFC3161).
    Document,
}

/// A token and what its own checks found.
#[derive(Debug, Clone)]
pub struct CheckedTimestamp {
    pub kind: TimestampKind,
    /// Field name for document timestamps.
    pub field: Option<String>,
    pub time: OffsetDateTime,
    /// The TSA as the token names it, else the TSA certificate's subject.
    pub tsa: String,
    pub tsa_cert: Option<X509>,
    /// Certificates and CRLs carried in the token.
    pub certs: Vec<X509>,
    pub crls: Vec<Vec<u8>>,
    /// End of the bytes it proves to exist (document timestamps), or of the signature's revision.
    pub covered_end: usize,
    /// None when the token's own checks passed.
    pub problem: Option<Reason>,
}

impl CheckedTimestamp {
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

fn problem(e: &TspError, what: &str) -> Reason {
    Reason::new(Code::TimestampInvalid, format!("{what}: {e} [{}]", e.code()))
}

/// Parse `token_der` and check it against data hashed by `digest_of` (called with the imprint's
/// algorithm, so the caller hashes exactly what the TSA hashed). None from `digest_of` means the
/// covered bytes cannot be hashed (reported as an imprint mismatch).
pub fn check_token(
    kind: TimestampKind,
    field: Option<&str>,
    token_der: &[u8],
    covered_end: usize,
    digest_of: impl FnOnce(DigestAlg) -> Option<Vec<u8>>,
) -> Result<CheckedTimestamp, Reason> {
    let what = match kind {
        TimestampKind::Signature => "signature timestamp".to_string(),
        TimestampKind::Document => format!("document timestamp {}", field.unwrap_or("?")),
    };
    let token = TimestampToken::parse(token_der).map_err(|e| match kind {
        // A document timestamp's /Contents is the whole token: unreadable means a malformed file.
        TimestampKind::Document => Reason::new(Code::Malformed, format!("{what}: {e}")),
        TimestampKind::Signature => problem(&e, &what),
    })?;
    let tsa_cert = token.tsa_certificate().cloned();
    let tsa = token
        .info
        .tsa_name
        .clone()
        .or_else(|| tsa_cert.as_ref().map(|c| subject_line(c)))
        .unwrap_or_else(|| "?".into());
    let digest = digest_of(token.info.imprint_alg);
    let problem = match digest {
        None => Some(problem(&TspError::ImprintMismatch, &what)),
        Some(d) => token
            .verify(token.info.imprint_alg, &d)
            .err()
            .map(|e| problem(&e, &what)),
    };
    Ok(CheckedTimestamp {
        kind,
        field: field.map(str::to_string),
        time: token.info.gen_time,
        tsa,
        tsa_cert,
        certs: token.signed.certificates().to_vec(),
        crls: token.signed.crls().to_vec(),
        covered_end,
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::sign::test_pki::{self, KeyKind, Usage};
    use crate::tsp::{BuiltinTsa, TimeStamper};
    use std::sync::Arc;
    use time::macros::datetime;

    fn tsa(usage: Usage) -> BuiltinTsa {
        let ca = test_pki::ca("CA");
        let key = test_pki::key(KeyKind::P256);
        let cert = test_pki::issue(&ca, &key, "時刻 TSA", usage);
        BuiltinTsa::new(
            key,
            cert,
            vec![ca.cert.clone()],
            Arc::new(FixedClock(datetime!(2030-05-01 12:00 UTC))),
        )
        .unwrap()
    }

    #[test]
    fn imprint_must_match_the_data() {
        let t = tsa(Usage::Tsa);
        let tok = t.timestamp_data(b"signature value").unwrap();
        let ok = check_token(TimestampKind::Signature, None, &tok.der, 10, |a| {
            a.digest(b"signature value").ok()
        })
        .unwrap();
        assert!(ok.is_ok(), "{:?}", ok.problem);
        assert_eq!(ok.time, datetime!(2030-05-01 12:00 UTC));
        assert!(ok.tsa.contains("時刻 TSA"), "{}", ok.tsa);
        let bad = check_token(TimestampKind::Signature, None, &tok.der, 10, |a| {
            a.digest(b"other").ok()
        })
        .unwrap();
        let p = bad.problem.unwrap();
        assert_eq!(p.code, Code::TimestampInvalid);
        assert!(p.message.contains("imprint"), "{}", p.message);
        let none = check_token(TimestampKind::Document, Some("DocTs1"), &tok.der, 10, |_| None).unwrap();
        assert!(!none.is_ok());
    }

    #[test]
    fn garbage_tokens_are_malformed_for_document_timestamps() {
        let e = check_token(TimestampKind::Document, Some("T"), b"\x30\x03\x02\x01\x01", 0, |_| None).unwrap_err();
        assert_eq!(e.code, Code::Malformed);
        let e = check_token(TimestampKind::Signature, None, b"junk", 0, |_| None).unwrap_err();
        assert_eq!(e.code, Code::TimestampInvalid);
    }
}
