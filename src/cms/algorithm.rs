//! Signature AlgorithmIdentifiers: what hozon writes for each `SignatureAlg`, and how one read
//! from a foreign CMS maps to OpenSSL verification settings (RSA PKCS#1, RSASSA-PSS, ECDSA).

use rasn::prelude::*;
use rasn_pkix::AlgorithmIdentifier;

use super::{oids, CmsError};
use crate::sign::{DigestAlg, SignatureAlg};

/// RSASSA-PSS-params (RFC 4055); absent fields take the (SHA-1) defaults.
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
struct RsaPssParams {
    #[rasn(tag(explicit(0)))]
    hash_algorithm: Option<AlgorithmIdentifier>,
    #[rasn(tag(explicit(1)))]
    mask_gen_algorithm: Option<AlgorithmIdentifier>,
    #[rasn(tag(explicit(2)))]
    salt_length: Option<Integer>,
    #[rasn(tag(explicit(3)))]
    trailer_field: Option<Integer>,
}

const NULL: [u8; 2] = [0x05, 0x00];

/// Digest AlgorithmIdentifier with absent parameters (RFC 5754).
pub(crate) fn digest_identifier(d: DigestAlg) -> AlgorithmIdentifier {
    AlgorithmIdentifier {
        algorithm: d.object_identifier(),
        parameters: None,
    }
}

/// The AlgorithmIdentifier hozon writes in SignerInfo.signatureAlgorithm.
pub(crate) fn signature_identifier(alg: SignatureAlg) -> Result<AlgorithmIdentifier, CmsError> {
    let with = |oid: &Oid, params: Option<Any>| AlgorithmIdentifier {
        algorithm: oid.to_owned(),
        parameters: params,
    };
    Ok(match alg {
        SignatureAlg::RsaPkcs1(d) => {
            let oid = match d {
                DigestAlg::Sha256 => oids::SHA256_WITH_RSA,
                DigestAlg::Sha384 => oids::SHA384_WITH_RSA,
                DigestAlg::Sha512 => oids::SHA512_WITH_RSA,
            };
            with(oid, Some(Any::new(NULL.to_vec())))
        }
        SignatureAlg::Ecdsa(d) => {
            let oid = match d {
                DigestAlg::Sha256 => oids::ECDSA_WITH_SHA256,
                DigestAlg::Sha384 => oids::ECDSA_WITH_SHA384,
                DigestAlg::Sha512 => oids::ECDSA_WITH_SHA512,
            };
            with(oid, None)
        }
        SignatureAlg::RsaPss(d) => {
            let hash = AlgorithmIdentifier {
                algorithm: d.object_identifier(),
                parameters: Some(Any::new(NULL.to_vec())),
            };
            let mgf_params = rasn::der::encode(&hash).map_err(|e| CmsError::Encode(e.to_string()))?;
            let params = RsaPssParams {
                hash_algorithm: Some(hash),
                mask_gen_algorithm: Some(with(oids::ID_MGF1, Some(Any::new(mgf_params)))),
                salt_length: Some(Integer::from(d.len() as i64)),
                trailer_field: None,
            };
            let der = rasn::der::encode(&params).map_err(|e| CmsError::Encode(e.to_string()))?;
            with(oids::ID_RSASSA_PSS, Some(Any::new(der)))
        }
    })
}

/// How to verify a signature read from a CMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureScheme {
    RsaPkcs1 {
        digest: DigestAlg,
    },
    RsaPss {
        digest: DigestAlg,
        mgf1_digest: DigestAlg,
        salt_len: u32,
    },
    Ecdsa {
        digest: DigestAlg,
    },
}

impl SignatureScheme {
    /// The closest `SignatureAlg` (PSS details aside).
    pub fn algorithm(self) -> SignatureAlg {
        match self {
            SignatureScheme::RsaPkcs1 { digest } => SignatureAlg::RsaPkcs1(digest),
            SignatureScheme::RsaPss { digest, .. } => SignatureAlg::RsaPss(digest),
            SignatureScheme::Ecdsa { digest } => SignatureAlg::Ecdsa(digest),
        }
    }
}

fn unsupported_digest(oid: &Oid) -> CmsError {
    CmsError::Unsupported(format!("digest algorithm {oid}"))
}

fn digest_of(ai: &AlgorithmIdentifier) -> Result<DigestAlg, CmsError> {
    DigestAlg::from_oid(&ai.algorithm).ok_or_else(|| unsupported_digest(&ai.algorithm))
}

/// Interpret a SignerInfo's signatureAlgorithm; `digest` is its digestAlgorithm, used where
/// the signature OID names no hash (rsaEncryption, id-ecPublicKey).
pub(crate) fn parse_signature_identifier(
    ai: &AlgorithmIdentifier,
    digest: Option<DigestAlg>,
) -> Result<SignatureScheme, CmsError> {
    let oid: &Oid = &ai.algorithm;
    let need_digest = || digest.ok_or_else(|| CmsError::Unsupported("digest algorithm of the signer".into()));
    let scheme = if oid == oids::RSA_ENCRYPTION {
        SignatureScheme::RsaPkcs1 { digest: need_digest()? }
    } else if oid == oids::SHA256_WITH_RSA {
        SignatureScheme::RsaPkcs1 {
            digest: DigestAlg::Sha256,
        }
    } else if oid == oids::SHA384_WITH_RSA {
        SignatureScheme::RsaPkcs1 {
            digest: DigestAlg::Sha384,
        }
    } else if oid == oids::SHA512_WITH_RSA {
        SignatureScheme::RsaPkcs1 {
            digest: DigestAlg::Sha512,
        }
    } else if oid == oids::ECDSA_WITH_SHA256 {
        SignatureScheme::Ecdsa {
            digest: DigestAlg::Sha256,
        }
    } else if oid == oids::ECDSA_WITH_SHA384 {
        SignatureScheme::Ecdsa {
            digest: DigestAlg::Sha384,
        }
    } else if oid == oids::ECDSA_WITH_SHA512 {
        SignatureScheme::Ecdsa {
            digest: DigestAlg::Sha512,
        }
    } else if oid == oids::ID_EC_PUBLIC_KEY {
        SignatureScheme::Ecdsa { digest: need_digest()? }
    } else if oid == oids::ID_RSASSA_PSS {
        parse_pss(ai)?
    } else {
        return Err(CmsError::Unsupported(format!("signature algorithm {oid}")));
    };
    Ok(scheme)
}

fn parse_pss(ai: &AlgorithmIdentifier) -> Result<SignatureScheme, CmsError> {
    let params = ai
        .parameters
        .as_ref()
        .ok_or_else(|| CmsError::Unsupported("RSASSA-PSS without parameters".into()))?;
    let p: RsaPssParams =
        rasn::der::decode(params.as_bytes()).map_err(|e| CmsError::Malformed(format!("RSASSA-PSS parameters: {e}")))?;
    // Absent hash/MGF mean SHA-1, which hozon does not accept.
    let digest = match &p.hash_algorithm {
        Some(h) => digest_of(h)?,
        None => return Err(CmsError::Unsupported("RSASSA-PSS with SHA-1".into())),
    };
    let mgf1_digest = match &p.mask_gen_algorithm {
        Some(m) if m.algorithm == *oids::ID_MGF1 => {
            let inner = m
                .parameters
                .as_ref()
                .ok_or_else(|| CmsError::Unsupported("MGF1 without hash".into()))?;
            let h: AlgorithmIdentifier = rasn::der::decode(inner.as_bytes())
                .map_err(|e| CmsError::Malformed(format!("MGF1 parameters: {e}")))?;
            digest_of(&h)?
        }
        Some(m) => return Err(CmsError::Unsupported(format!("mask generation {}", m.algorithm))),
        None => return Err(CmsError::Unsupported("RSASSA-PSS with MGF1-SHA-1".into())),
    };
    let salt_len = match &p.salt_length {
        Some(s) => u32::try_from(s.clone()).map_err(|_| CmsError::Malformed("RSASSA-PSS salt length".into()))?,
        None => 20,
    };
    if let Some(t) = &p.trailer_field {
        if *t != Integer::from(1) {
            return Err(CmsError::Unsupported("RSASSA-PSS trailer field".into()));
        }
    }
    Ok(SignatureScheme::RsaPss {
        digest,
        mgf1_digest,
        salt_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_identifiers_parse_back_to_the_same_scheme() {
        for alg in [
            SignatureAlg::RsaPkcs1(DigestAlg::Sha256),
            SignatureAlg::RsaPkcs1(DigestAlg::Sha512),
            SignatureAlg::RsaPss(DigestAlg::Sha256),
            SignatureAlg::RsaPss(DigestAlg::Sha384),
            SignatureAlg::Ecdsa(DigestAlg::Sha256),
            SignatureAlg::Ecdsa(DigestAlg::Sha384),
        ] {
            let ai = signature_identifier(alg).unwrap();
            let s = parse_signature_identifier(&ai, None).unwrap();
            assert_eq!(s.algorithm(), alg);
            if let SignatureScheme::RsaPss {
                salt_len, mgf1_digest, ..
            } = s
            {
                assert_eq!(salt_len as usize, alg.digest().len());
                assert_eq!(mgf1_digest, alg.digest());
            }
        }
    }

    #[test]
    fn generic_rsa_takes_the_signer_digest_and_unknown_oids_fail() {
        let ai = AlgorithmIdentifier {
            algorithm: oids::RSA_ENCRYPTION.to_owned(),
            parameters: None,
        };
        assert_eq!(
            parse_signature_identifier(&ai, Some(DigestAlg::Sha384)).unwrap(),
            SignatureScheme::RsaPkcs1 {
                digest: DigestAlg::Sha384
            }
        );
        assert!(parse_signature_identifier(&ai, None).is_err());
        let md5rsa = AlgorithmIdentifier {
            algorithm: Oid::const_new(&[1, 2, 840, 113549, 1, 1, 4]).to_owned(),
            parameters: None,
        };
        assert_eq!(
            parse_signature_identifier(&md5rsa, None).unwrap_err().code(),
            "cms-unsupported"
        );
    }
}
