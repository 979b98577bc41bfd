//! A timestamp token: the TSA's raw bytes (never re-encoded), its TSTInfo summary and the
//! parsed SignedData; verification of the CMS signature, ESS binding, EKU and imprint.

use openssl::x509::{X509Name, X509};
use rasn::prelude::*;
use rasn_cms::tsp::TstInfo;
use rasn_pkix::GeneralName;
use time::OffsetDateTime;

use super::{check_timestamping_eku, TspError};
use crate::cms::{der, oids, parse_signed_data, ParsedSignedData};
use crate::sign::DigestAlg;

/// What a TSTInfo says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TstInfoSummary {
    pub gen_time: OffsetDateTime,
    pub imprint_alg: DigestAlg,
    pub imprint: Vec<u8>,
    /// Serial number, unsigned big-endian.
    pub serial: Vec<u8>,
    /// Policy OID, dotted.
    pub policy: String,
    /// Nonce, unsigned big-endian.
    pub nonce: Option<Vec<u8>>,
    /// The TSA's name as `CN=..., O=...` when given as a directory name.
    pub tsa_name: Option<String>,
    /// Accuracy (seconds, millis, micros folded together).
    pub accuracy: Option<time::Duration>,
    pub ordering: bool,
}

/// A parsed RFC 3161 token.
#[derive(Debug, Clone)]
pub struct TimestampToken {
    /// The token exactly as the TSA sent it.
    pub der: Vec<u8>,
    pub info: TstInfoSummary,
    pub signed: ParsedSignedData,
}

fn malformed(m: impl std::fmt::Display) -> TspError {
    TspError::Malformed(m.to_string())
}

fn unsigned_bytes(i: &Integer) -> Result<Vec<u8>, TspError> {
    let b = der::integer_bytes(i)?;
    let n = b.iter().take_while(|&&x| x == 0).count().min(b.len().saturating_sub(1));
    Ok(b.get(n..).unwrap_or(&[]).to_vec())
}

fn small_int(i: &Option<Integer>) -> i64 {
    i.as_ref().and_then(|v| i64::try_from(v.clone()).ok()).unwrap_or(0)
}

pub(crate) fn name_text(name: &rasn_pkix::Name) -> Option<String> {
    let der = rasn::der::encode(name).ok()?;
    let n = X509Name::from_der(&der).ok()?;
    let parts: Vec<String> = n
        .entries()
        .map(|e| {
            let k = e.object().nid().short_name().unwrap_or("?");
            format!("{k}={}", e.data().to_string().unwrap_or_default())
        })
        .collect();
    Some(parts.join(", "))
}

impl TimestampToken {
    /// Parse a DER TimeStampToken (ContentInfo with SignedData over TSTInfo).
    pub fn parse(token_der: &[u8]) -> Result<Self, TspError> {
        der::read_exact(token_der)?;
        let signed = parse_signed_data(token_der)?;
        if *signed.encapsulated_content_type() != *oids::ID_CT_TST_INFO {
            return Err(malformed("eContentType is not id-ct-TSTInfo"));
        }
        let content = signed
            .encapsulated_content()
            .ok_or_else(|| malformed("no TSTInfo inside"))?;
        let tst: TstInfo = rasn::der::decode(content).map_err(|e| malformed(format!("TSTInfo: {e}")))?;
        let alg_oid = &tst.message_imprint.hash_algorithm.algorithm;
        let imprint_alg =
            DigestAlg::from_oid(alg_oid).ok_or_else(|| malformed(format!("imprint hash algorithm {alg_oid}")))?;
        let gen_time = OffsetDateTime::from_unix_timestamp(tst.gen_time.timestamp())
            .map_err(|e| malformed(format!("genTime: {e}")))?
            + time::Duration::nanoseconds(i64::from(tst.gen_time.timestamp_subsec_nanos()));
        let accuracy = tst.accuracy.as_ref().map(|a| {
            time::Duration::seconds(small_int(&a.seconds))
                + time::Duration::milliseconds(small_int(&a.millis))
                + time::Duration::microseconds(small_int(&a.micros))
        });
        let tsa_name = match &tst.tsa {
            Some(GeneralName::DirectoryName(n)) => name_text(n),
            Some(GeneralName::Uri(u)) | Some(GeneralName::DnsName(u)) | Some(GeneralName::Rfc822Name(u)) => {
                Some(u.to_string())
            }
            Some(_) | None => None,
        };
        let info = TstInfoSummary {
            gen_time,
            imprint_alg,
            imprint: tst.message_imprint.hashed_message.to_vec(),
            serial: unsigned_bytes(&tst.serial_number)?,
            policy: tst.policy.to_string(),
            nonce: tst.nonce.as_ref().map(unsigned_bytes).transpose()?,
            tsa_name,
            accuracy,
            ordering: tst.ordering,
        };
        Ok(TimestampToken {
            der: token_der.to_vec(),
            info,
            signed,
        })
    }

    /// The TSA certificate carried in the token, if any.
    pub fn tsa_certificate(&self) -> Option<&X509> {
        self.signed.signer_certificate()
    }

    /// Verify that the token covers `data_digest` (made with `data_digest_alg`), that its
    /// CMS signature and ESS binding hold, and that the TSA certificate is for timestamping.
    /// Returns the TSA certificate; trust in it is for `pki` to decide.
    pub fn verify(&self, data_digest_alg: DigestAlg, data_digest: &[u8]) -> Result<X509, TspError> {
        if self.info.imprint_alg != data_digest_alg || self.info.imprint != data_digest {
            return Err(TspError::ImprintMismatch);
        }
        let check = self.signed.verify_encapsulated()?;
        if check.ess.is_none() {
            return Err(malformed(
                "no ESS signing-certificate attribute binds the TSA certificate",
            ));
        }
        check_timestamping_eku(&check.signer)?;
        Ok(check.signer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::cms::{add_signature_timestamp, sign_detached};
    use crate::sign::test_pki::{self, openssl, peer_available, KeyKind, Usage};
    use crate::sign::Signer;
    use crate::tsp::{BuiltinTsa, TimeStamper};
    use std::sync::Arc;

    fn builtin() -> BuiltinTsa {
        let ca = test_pki::ca("CA");
        let key = test_pki::key(KeyKind::P256);
        let cert = test_pki::issue(&ca, &key, "TSA", Usage::Tsa);
        BuiltinTsa::new(key, cert, vec![ca.cert.clone()], Arc::new(SystemClock)).unwrap()
    }

    /// PAdES B-T in CMS terms: sign, timestamp the signature value, embed the raw token.
    #[test]
    fn signature_timestamp_round_trip() {
        let tsa = builtin();
        let ca = test_pki::ca("Signer CA");
        let s = test_pki::signer(&ca, KeyKind::Rsa2048, "医師 山田", Usage::Signer);
        let digest = DigestAlg::Sha256.digest(b"pdf ranges").unwrap();
        let pending = sign_detached(&s, &digest).unwrap();
        let tok = tsa.timestamp_data(pending.signature_value()).unwrap();
        let cms = pending.finish(Some(tok.der.clone())).unwrap();
        let parsed = crate::cms::parse_signed_data(&cms).unwrap();
        parsed.verify(&digest).unwrap();
        let raw = parsed.timestamp_tokens();
        assert_eq!(raw, vec![tok.der.as_slice()]);
        let back = TimestampToken::parse(raw[0]).unwrap();
        let sig_digest = DigestAlg::Sha256.digest(parsed.signature_value()).unwrap();
        back.verify(DigestAlg::Sha256, &sig_digest).unwrap();
        // The spliced variant carries the same token bytes.
        let plain = sign_detached(&s, &digest).unwrap().finish(None).unwrap();
        let spliced = add_signature_timestamp(&plain, &tok.der).unwrap();
        assert_eq!(
            crate::cms::parse_signed_data(&spliced).unwrap().timestamp_tokens(),
            vec![tok.der.as_slice()]
        );
        if peer_available("openssl", "signature_timestamp_round_trip") {
            let dir = tempfile::tempdir().unwrap();
            let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
            std::fs::write(p("c.der"), &cms).unwrap();
            std::fs::write(p("content"), b"pdf ranges").unwrap();
            std::fs::write(p("ca.pem"), ca.cert.to_pem().unwrap()).unwrap();
            let (ok, out) = openssl(&[
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                &p("c.der"),
                "-content",
                &p("content"),
                "-CAfile",
                &p("ca.pem"),
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ]);
            assert!(ok, "{out}");
        }
        let _ = s.certificate();
    }

    #[test]
    fn garbage_tokens_are_errors_not_panics() {
        let tsa = builtin();
        let d = DigestAlg::Sha256.digest(b"x").unwrap();
        let tok = tsa.timestamp(DigestAlg::Sha256, &d).unwrap();
        for n in (0..tok.der.len()).step_by(7) {
            assert!(TimestampToken::parse(&tok.der[..n]).is_err());
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            let mut b = tok.der.clone();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = (seed as usize) % b.len();
            b[i] ^= (seed >> 40) as u8 | 1;
            if let Ok(t) = TimestampToken::parse(&b) {
                let _ = t.verify(DigestAlg::Sha256, &d);
            }
        }
        // A signer-infos byte flipped: must not verify.
        let sig = tok.signed.signature_value();
        let at = tok.der.windows(sig.len()).position(|w| w == sig).unwrap();
        let mut b = tok.der.clone();
        b[at + 3] ^= 0x40;
        assert!(TimestampToken::parse(&b)
            .unwrap()
            .verify(DigestAlg::Sha256, &d)
            .is_err());
    }
}
