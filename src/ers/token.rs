//! Reads what evidence records need from an RFC 3161 TimeStampToken: the message imprint, the
//! generation time and the TSA certificate's notAfter. This is parsing only; the signature and
//! the TSA's trust are judged by a [`super::TokenCheck`].

use rasn::types::{ObjectIdentifier, OctetString};
use rasn_cms::tsp::TstInfo;
use rasn_cms::{CertificateChoices, ContentInfo, SignedData, SignerIdentifier};
use rasn_pkix::{Certificate, Time};
use time::OffsetDateTime;

use super::{DigestAlgorithm, ErsError};

/// A token larger than this is refused before parsing (real ones are a few KB).
pub const MAX_TOKEN_BYTES: usize = 1 << 20;

const SIGNED_DATA: &[u32] = &[1, 2, 840, 113549, 1, 7, 2];
const TST_INFO: &[u32] = &[1, 2, 840, 113549, 1, 9, 16, 1, 4];
const SUBJECT_KEY_ID: &[u32] = &[2, 5, 29, 14];

/// The parts of a timestamp token an evidence record is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub algorithm: DigestAlgorithm,
    pub imprint: Vec<u8>,
    pub gen_time: OffsetDateTime,
    /// notAfter of the TSA certificate, when the token carries it.
    pub tsa_not_after: Option<OffsetDateTime>,
}

fn malformed(what: &str, e: impl std::fmt::Display) -> ErsError {
    ErsError::Malformed(format!("timestamp token: {what}: {e}"))
}

fn is(oid: &ObjectIdentifier, arcs: &[u32]) -> bool {
    let o: &[u32] = oid;
    o == arcs
}

/// Parse a TimeStampToken (ContentInfo → SignedData → TSTInfo).
pub fn read_token(der: &[u8]) -> Result<TokenInfo, ErsError> {
    if der.len() > MAX_TOKEN_BYTES {
        return Err(malformed("size", format!("{} bytes is too large", der.len())));
    }
    let ci: ContentInfo = rasn::ber::decode(der).map_err(|e| malformed("ContentInfo", e))?;
    if !is(&ci.content_type, SIGNED_DATA) {
        return Err(malformed("content type", "not SignedData"));
    }
    let sd: SignedData = rasn::ber::decode(ci.content.as_bytes()).map_err(|e| malformed("SignedData", e))?;
    if !is(&sd.encap_content_info.content_type, TST_INFO) {
        return Err(malformed("eContentType", "not id-ct-TSTInfo"));
    }
    let econtent = sd
        .encap_content_info
        .content
        .as_ref()
        .ok_or_else(|| malformed("eContent", "absent"))?;
    let tst: TstInfo = rasn::ber::decode(econtent).map_err(|e| malformed("TSTInfo", e))?;
    let algorithm = DigestAlgorithm::from_oid(&tst.message_imprint.hash_algorithm.algorithm)?;
    let imprint = tst.message_imprint.hashed_message.to_vec();
    if imprint.len() != algorithm.len() {
        return Err(malformed("messageImprint", "length does not match its algorithm"));
    }
    let gen_time = to_offset(tst.gen_time.timestamp(), tst.gen_time.timestamp_subsec_nanos())
        .ok_or_else(|| malformed("genTime", "out of range"))?;
    Ok(TokenInfo {
        algorithm,
        imprint,
        gen_time,
        tsa_not_after: signer_not_after(&sd),
    })
}

fn to_offset(secs: i64, nanos: u32) -> Option<OffsetDateTime> {
    let t = OffsetDateTime::from_unix_timestamp(secs).ok()?;
    Some(t + time::Duration::nanoseconds(i64::from(nanos)))
}

/// notAfter of the certificate that the (first) SignerInfo names.
fn signer_not_after(sd: &SignedData) -> Option<OffsetDateTime> {
    let sid = &sd.signer_infos.iter().next()?.sid;
    let cert = sd.certificates.as_ref()?.iter().find_map(|c| match c {
        CertificateChoices::Certificate(c) if names_signer(c, sid) => Some(c),
        _ => None,
    })?;
    let t = match &cert.tbs_certificate.validity.not_after {
        Time::Utc(t) => to_offset(t.timestamp(), t.timestamp_subsec_nanos()),
        Time::General(t) => to_offset(t.timestamp(), t.timestamp_subsec_nanos()),
    };
    t
}

fn names_signer(cert: &Certificate, sid: &SignerIdentifier) -> bool {
    let tbs = &cert.tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == tbs.issuer && ias.serial_number == tbs.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => tbs
            .extensions
            .iter()
            .flat_map(|x| x.iter())
            .filter(|e| is(&e.extn_id, SUBJECT_KEY_ID))
            .any(|e| rasn::der::decode::<OctetString>(&e.extn_value).is_ok_and(|id| id == *ski)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ers::test_tsa::{fake_token, TestTsa};
    use crate::ers::RootStamper;

    #[test]
    fn reads_imprint_and_gen_time_of_a_fake_token() {
        let d = DigestAlgorithm::Sha384.digest(b"root");
        let t = fake_token(DigestAlgorithm::Sha384, &d, "20260102030405Z");
        let info = read_token(&t).unwrap();
        assert_eq!(info.algorithm, DigestAlgorithm::Sha384);
        assert_eq!(info.imprint, d);
        assert_eq!(info.gen_time.unix_timestamp(), 1_767_323_045);
        assert_eq!(info.tsa_not_after, None);
    }

    #[test]
    fn garbage_and_truncation_are_malformed_not_panics() {
        let d = DigestAlgorithm::Sha256.digest(b"x");
        let t = fake_token(DigestAlgorithm::Sha256, &d, "20260102030405Z");
        for cut in [0, 1, 5, t.len() / 2, t.len() - 1] {
            assert_eq!(read_token(&t[..cut]).unwrap_err().code(), "ers-malformed");
        }
        assert_eq!(
            read_token(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).unwrap_err().code(),
            "ers-malformed"
        );
        assert_eq!(
            read_token(&vec![0u8; MAX_TOKEN_BYTES + 1]).unwrap_err().code(),
            "ers-malformed"
        );
    }

    #[test]
    fn openssl_token_gives_imprint_time_and_tsa_expiry() {
        let Some(tsa) = TestTsa::shared() else { return };
        let d = DigestAlgorithm::Sha256.digest(b"some root");
        let before = OffsetDateTime::now_utc() - time::Duration::seconds(2);
        let tok = tsa.stamp(DigestAlgorithm::Sha256, &d).unwrap();
        let info = read_token(&tok).unwrap();
        assert_eq!(info.imprint, d);
        assert!(info.gen_time >= before && info.gen_time <= OffsetDateTime::now_utc() + time::Duration::seconds(2));
        let na = info.tsa_not_after.expect("openssl puts the TSA cert in the token");
        assert!(
            na > OffsetDateTime::now_utc() + time::Duration::days(300),
            "TSA cert made for 400 days"
        );
        assert!(na < OffsetDateTime::now_utc() + time::Duration::days(500));
    }
}
