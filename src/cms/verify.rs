//! Cryptographic checks of a parsed SignedData: message-digest against the caller's digest,
//! content-type against eContentType, the signature over the signed attributes with the
//! signer's key, and the ESS binding. Trust in the certificate is `pki`'s job.

use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};
use openssl::x509::X509;

use super::algorithm::{parse_signature_identifier, SignatureScheme};
use super::{ess, oids, CmsError, EssBinding, ParsedSignedData};
use crate::sign::DigestAlg;

/// What a successful verification established.
#[derive(Debug, Clone)]
pub struct SignerCheck {
    pub signer: X509,
    pub digest_alg: DigestAlg,
    pub scheme: SignatureScheme,
    /// None when the CMS carries no ESS signing-certificate attribute (PAdES requires one).
    pub ess: Option<EssBinding>,
    /// A signingTime attribute is present (PAdES baseline forbids it).
    pub has_signing_time: bool,
}

/// Verify a raw signature over `data` with `cert`'s public key.
pub(crate) fn verify_signature(
    cert: &X509,
    scheme: SignatureScheme,
    data: &[u8],
    sig: &[u8],
) -> Result<bool, CmsError> {
    let key = cert.public_key()?;
    let (digest, pss) = match scheme {
        SignatureScheme::RsaPkcs1 { digest } | SignatureScheme::Ecdsa { digest } => (digest, None),
        SignatureScheme::RsaPss {
            digest,
            mgf1_digest,
            salt_len,
        } => (digest, Some((mgf1_digest, salt_len))),
    };
    let mut v = Verifier::new(digest.message_digest(), &key)?;
    if let Some((mgf1, salt)) = pss {
        v.set_rsa_padding(Padding::PKCS1_PSS)?;
        v.set_rsa_pss_saltlen(RsaPssSaltlen::custom(
            i32::try_from(salt).map_err(|_| CmsError::Malformed("salt".into()))?,
        ))?;
        v.set_rsa_mgf1_md(mgf1.message_digest())?;
    }
    // A malformed signature is an OpenSSL error, not a panic: both mean "does not verify".
    Ok(v.verify_oneshot(sig, data).unwrap_or(false))
}

impl ParsedSignedData {
    /// Check this SignedData against the digest of its (detached or encapsulated) content.
    pub fn verify(&self, content_digest: &[u8]) -> Result<SignerCheck, CmsError> {
        let signed = self
            .signed_attributes_der()
            .ok_or_else(|| CmsError::Unsupported("SignerInfo without signed attributes".into()))?;
        let digest_alg = self.digest_algorithm()?;
        let ct = self
            .content_type_attribute()?
            .ok_or(CmsError::MissingAttribute("content-type"))?;
        if ct != self.econtent_type {
            return Err(CmsError::ContentTypeMismatch);
        }
        let md = self
            .message_digest_attribute()?
            .ok_or(CmsError::MissingAttribute("message-digest"))?;
        if md != content_digest {
            return Err(CmsError::DigestMismatch);
        }
        let cert = self.signer_certificate().ok_or(CmsError::SignerNotFound)?;
        let scheme = parse_signature_identifier(&self.signature_algorithm, Some(digest_alg))?;
        if !verify_signature(cert, scheme, signed, &self.signature)? {
            return Err(CmsError::BadSignature);
        }
        let ess = if let Some(v2) = self.signed_attribute(oids::ID_AA_SIGNING_CERTIFICATE_V2)? {
            Some(ess::check_v2(v2, cert)?)
        } else if let Some(v1) = self.signed_attribute(oids::ID_AA_SIGNING_CERTIFICATE)? {
            Some(ess::check_v1(v1, cert)?)
        } else {
            None
        };
        Ok(SignerCheck {
            signer: cert.clone(),
            digest_alg,
            scheme,
            ess,
            has_signing_time: self.has_signing_time(),
        })
    }

    /// For SignedData with encapsulated content (timestamp tokens): verify over that content.
    pub fn verify_encapsulated(&self) -> Result<SignerCheck, CmsError> {
        let content = self
            .encapsulated_content()
            .ok_or_else(|| CmsError::Malformed("no encapsulated content".into()))?;
        let digest = self.digest_algorithm()?.digest(content)?;
        self.verify(&digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cms::{parse_signed_data, sign_detached};
    use crate::sign::test_pki::{self, KeyKind, Usage};
    use crate::sign::{SignatureAlg, Signer};

    #[test]
    fn round_trip_verifies_and_detects_tampering() {
        let ca = test_pki::ca("CA");
        let s = test_pki::signer(&ca, KeyKind::P256, "署名", Usage::Signer);
        let digest = DigestAlg::Sha256.digest(b"%PDF byte ranges").unwrap();
        let cms = sign_detached(&s, &digest).unwrap().finish(None).unwrap();
        let p = parse_signed_data(&cms).unwrap();
        let check = p.verify(&digest).unwrap();
        assert_eq!(check.ess, Some(EssBinding::V2(DigestAlg::Sha256)));
        assert!(!check.has_signing_time);
        assert_eq!(check.signer.to_der().unwrap(), s.certificate().to_der().unwrap());
        assert_eq!(p.certificates().len(), 2);

        let other = DigestAlg::Sha256.digest(b"%PDF other").unwrap();
        assert_eq!(p.verify(&other).unwrap_err().code(), "cms-digest-mismatch");

        // Flip one byte inside the signed attributes (in the ESS hash, past the digest).
        let sa = p.signed_attributes_der().unwrap();
        let pos = crate::cms::der::offset_in(&cms, &cms[..]).unwrap()
            + cms.windows(sa.len() - 1).position(|w| w == &sa[1..]).unwrap()
            + sa.len()
            - 20;
        let mut bad = cms.clone();
        bad[pos] ^= 0x01;
        let e = parse_signed_data(&bad).unwrap().verify(&digest).unwrap_err();
        assert!(matches!(e.code(), "cms-bad-signature" | "cms-ess-mismatch"), "{e}");

        // Flip a byte of the signature value.
        let sig = p.signature_value();
        let at = cms.windows(sig.len()).position(|w| w == sig).unwrap() + 5;
        let mut bad = cms.clone();
        bad[at] ^= 0x80;
        assert_eq!(
            parse_signed_data(&bad).unwrap().verify(&digest).unwrap_err().code(),
            "cms-bad-signature"
        );
    }

    #[test]
    fn every_algorithm_round_trips() {
        let ca = test_pki::ca("CA");
        for (kind, alg) in [
            (KeyKind::Rsa2048, None),
            (KeyKind::Rsa2048, Some(SignatureAlg::RsaPss(DigestAlg::Sha256))),
            (KeyKind::P256, None),
            (KeyKind::P384, None),
        ] {
            let mut s = test_pki::signer(&ca, kind, "x", Usage::Signer);
            if let Some(a) = alg {
                s = s.with_algorithm(a).unwrap();
            }
            let d = s.algorithm().digest().digest(b"content").unwrap();
            let cms = sign_detached(&s, &d).unwrap().finish(None).unwrap();
            let p = parse_signed_data(&cms).unwrap();
            let c = p.verify(&d).unwrap();
            assert_eq!(c.scheme.algorithm(), s.algorithm());
        }
    }

    #[test]
    fn garbage_and_truncations_are_errors_not_panics() {
        let ca = test_pki::ca("CA");
        let s = test_pki::signer(&ca, KeyKind::P256, "x", Usage::Signer);
        let d = DigestAlg::Sha256.digest(b"c").unwrap();
        let cms = sign_detached(&s, &d)
            .unwrap()
            .finish(Some(vec![0x30, 0x03, 0x02, 0x01, 0x01]))
            .unwrap();
        for n in 0..cms.len() {
            assert!(parse_signed_data(&cms[..n]).is_err(), "prefix {n} parsed");
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for round in 0..3000 {
            let mut buf = cms.clone();
            for _ in 0..(1 + round % 4) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % buf.len();
                buf[i] = (seed >> 32) as u8;
            }
            if let Ok(p) = parse_signed_data(&buf) {
                let _ = p.verify(&d);
            }
        }
        for len in [0usize, 1, 7, 64, 1024] {
            let junk: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            assert!(parse_signed_data(&junk).is_err());
        }
        // Padding zeros after the CMS (PDF /Contents) are accepted.
        let mut padded = cms.clone();
        padded.extend(vec![0u8; 100]);
        assert_eq!(parse_signed_data(&padded).unwrap().der(), &cms[..]);
    }
}
