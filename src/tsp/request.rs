//! TimeStampReq building (random nonce, certReq, optional policy) and the client-side checks
//! of a TimeStampResp: status, nonce, imprint, policy and the token's own verification.

use rasn::prelude::*;
use rasn_cms::tsp::{MessageImprint, PkiStatus, PkiStatusInfo, TimeStampReq};

use super::{TimestampToken, TspError};
use crate::cms::der;
use crate::sign::DigestAlg;

/// One request, kept to check the reply against.
#[derive(Debug, Clone)]
pub struct TimestampRequest {
    pub der: Vec<u8>,
    pub alg: DigestAlg,
    pub digest: Vec<u8>,
    /// Unsigned big-endian nonce.
    pub nonce: Vec<u8>,
    pub policy: Option<ObjectIdentifier>,
}

fn invalid(m: impl std::fmt::Display) -> TspError {
    TspError::InvalidResponse(m.to_string())
}

pub(crate) fn parse_oid(s: &str) -> Result<ObjectIdentifier, TspError> {
    let arcs: Vec<u32> = s
        .split('.')
        .map(|p| p.parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| TspError::Config(format!("policy {s:?} is not an OID")))?;
    ObjectIdentifier::new(arcs).ok_or_else(|| TspError::Config(format!("policy {s:?} is not an OID")))
}

fn strip(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&x| x == 0).count();
    b.get(n..).unwrap_or(&[])
}

impl TimestampRequest {
    /// A request over `digest` with a random 64-bit nonce and certReq=true.
    pub fn new(alg: DigestAlg, digest: &[u8], policy: Option<&str>) -> Result<Self, TspError> {
        if digest.len() != alg.len() {
            return Err(TspError::Config(format!(
                "{}-byte digest for {}",
                digest.len(),
                alg.name()
            )));
        }
        let mut nonce = [0u8; 8];
        openssl::rand::rand_bytes(&mut nonce).map_err(|e| TspError::Config(e.to_string()))?;
        nonce[0] &= 0x7f;
        nonce[0] |= 0x01 << 6; // never shorter than 8 bytes, so lengths do not vary
        let policy = policy.map(parse_oid).transpose()?;
        let req = TimeStampReq {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm: rasn_pkix::AlgorithmIdentifier {
                    algorithm: alg.object_identifier(),
                    parameters: None,
                },
                hashed_message: OctetString::from(digest.to_vec()),
            },
            req_policy: policy.clone(),
            nonce: Some(der::integer_from_unsigned(&nonce)?),
            cert_req: true,
            extensions: None,
        };
        let der = rasn::der::encode(&req).map_err(|e| TspError::Config(e.to_string()))?;
        Ok(TimestampRequest {
            der,
            alg,
            digest: digest.to_vec(),
            nonce: nonce.to_vec(),
            policy,
        })
    }

    /// Check a DER TimeStampResp against this request; returns the verified token.
    pub fn check_response(&self, resp_der: &[u8]) -> Result<TimestampToken, TspError> {
        let resp = der::read_exact(resp_der).map_err(|e| invalid(format!("not DER: {e}")))?;
        if resp.tag != 0x30 {
            return Err(invalid("not a TimeStampResp"));
        }
        let kids = der::children(resp.value).map_err(invalid)?;
        let status_tlv = kids.first().ok_or_else(|| invalid("empty TimeStampResp"))?;
        let status: PkiStatusInfo =
            rasn::der::decode(status_tlv.raw).map_err(|e| invalid(format!("PKIStatusInfo: {e}")))?;
        let text = status
            .status_string
            .as_ref()
            .map(|t| t.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("; "));
        let name = match status.status {
            PkiStatus::Granted | PkiStatus::GrantedWithMods => None,
            PkiStatus::Rejection => Some("rejection"),
            PkiStatus::Waiting => Some("waiting"),
            PkiStatus::RevocationWarning => Some("revocationWarning"),
            PkiStatus::RevocationNotification => Some("revocationNotification"),
        };
        if let Some(status) = name {
            return Err(TspError::Rejected {
                status: status.into(),
                text,
            });
        }
        let token_tlv = kids.get(1).ok_or_else(|| invalid("status granted but no token"))?;
        if kids.len() > 2 {
            return Err(invalid("elements after the token"));
        }
        let token = TimestampToken::parse(token_tlv.raw).map_err(TspError::into_invalid_response)?;
        match &token.info.nonce {
            None => return Err(invalid("the token carries no nonce")),
            Some(n) if strip(n) != strip(&self.nonce) => return Err(invalid("nonce mismatch")),
            Some(_) => {}
        }
        if token.info.imprint_alg != self.alg || token.info.imprint != self.digest {
            return Err(invalid("message imprint mismatch"));
        }
        if let Some(p) = &self.policy {
            if token.info.policy != p.to_string() {
                return Err(invalid(format!("policy {} instead of {p}", token.info.policy)));
            }
        }
        token
            .verify(self.alg, &self.digest)
            .map_err(TspError::into_invalid_response)?;
        Ok(token)
    }
}

/// A TimeStampResp without token: `status` (2 rejection, 3 waiting), text and failInfo bit.
pub(crate) fn status_only_response(status: u8, text: &str, fail_bit: Option<usize>) -> Vec<u8> {
    let mut content = der::encode(0x02, &[status]);
    content.extend(der::encode(0x30, &der::encode(0x0c, text.as_bytes())));
    if let Some(bit) = fail_bit {
        // BIT STRING with the named bit set (bit 0 is the most significant of the first byte).
        let nbytes = bit / 8 + 1;
        let mut bits = vec![0u8; nbytes];
        if let Some(b) = bits.get_mut(bit / 8) {
            *b = 0x80 >> (bit % 8);
        }
        let unused = 7 - (bit % 8) as u8;
        content.extend(der::encode(0x03, &[vec![unused], bits].concat()));
    }
    der::encode(0x30, &der::encode(0x30, &content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_has_nonce_certreq_and_policy() {
        let d = DigestAlg::Sha384.digest(b"sig").unwrap();
        let r = TimestampRequest::new(DigestAlg::Sha384, &d, Some("1.3.6.1.4.1.99999.1.2")).unwrap();
        let back: TimeStampReq = rasn::der::decode(&r.der).unwrap();
        assert!(back.cert_req);
        assert_eq!(back.req_policy.unwrap().to_string(), "1.3.6.1.4.1.99999.1.2");
        assert_eq!(back.message_imprint.hashed_message.to_vec(), d);
        assert_eq!(r.nonce.len(), 8);
        let r2 = TimestampRequest::new(DigestAlg::Sha384, &d, None).unwrap();
        assert_ne!(r.nonce, r2.nonce);
        assert!(TimestampRequest::new(DigestAlg::Sha256, &d, None).is_err());
        assert_eq!(
            TimestampRequest::new(DigestAlg::Sha384, &d, Some("x.y"))
                .unwrap_err()
                .code(),
            "tsa-config"
        );
    }

    #[test]
    fn rejection_and_waiting_are_rejected_with_status() {
        let d = DigestAlg::Sha256.digest(b"sig").unwrap();
        let r = TimestampRequest::new(DigestAlg::Sha256, &d, None).unwrap();
        let e = r
            .check_response(&status_only_response(2, "bad request", Some(2)))
            .unwrap_err();
        assert_eq!(e.code(), "tsa-rejected");
        assert!(
            e.to_string().contains("rejection") && e.to_string().contains("bad request"),
            "{e}"
        );
        let e = r.check_response(&status_only_response(3, "later", None)).unwrap_err();
        assert!(e.to_string().contains("waiting"));
        for junk in [&b""[..], b"\x30\x00", b"<html>", b"\x30\x03\x02\x01\x00"] {
            assert_eq!(r.check_response(junk).unwrap_err().code(), "tsa-invalid-response");
        }
    }
}
