//! From a digest hozon computed to what the token signs, and from what the token returns to the
//! signature value CMS carries: `CKM_RSA_PKCS` over a DigestInfo (RFC 8017 §9.2),
//! `CKM_RSA_PKCS_PSS` over the bare digest with MGF1 and a salt as long as the hash (as the
//! software signer does), `CKM_ECDSA` over the bare digest, whose r‖s answer becomes the DER
//! ECDSA-Sig-Value of RFC 5480 / X9.62.

use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;

use crate::sign::{DigestAlg, SignError, SignatureAlg};

/// The mechanism type a signature algorithm needs from the token.
pub fn mechanism_type(alg: SignatureAlg) -> MechanismType {
    match alg {
        SignatureAlg::RsaPkcs1(_) => MechanismType::RSA_PKCS,
        SignatureAlg::RsaPss(_) => MechanismType::RSA_PKCS_PSS,
        SignatureAlg::Ecdsa(_) => MechanismType::ECDSA,
    }
}

/// The mechanism (with its parameters) and the bytes to hand to C_Sign for `digest`.
pub fn prepare(alg: SignatureAlg, digest: &[u8]) -> Result<(Mechanism<'static>, Vec<u8>), SignError> {
    Ok(match alg {
        SignatureAlg::RsaPkcs1(d) => (Mechanism::RsaPkcs, digest_info(d, digest)?),
        SignatureAlg::RsaPss(d) => {
            let (hash_alg, mgf) = match d {
                DigestAlg::Sha256 => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
                DigestAlg::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
                DigestAlg::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
            };
            let s_len = cryptoki::types::Ulong::from(d.len() as std::os::raw::c_ulong);
            (Mechanism::RsaPkcsPss(PkcsPssParams { hash_alg, mgf, s_len }), digest.to_vec())
        }
        SignatureAlg::Ecdsa(_) => (Mechanism::Ecdsa, digest.to_vec()),
    })
}

/// The signature value as CMS carries it: RSA as returned, ECDSA converted from r‖s to DER.
pub fn finish(alg: SignatureAlg, raw: Vec<u8>) -> Result<Vec<u8>, SignError> {
    match alg {
        SignatureAlg::Ecdsa(_) => ecdsa_raw_to_der(&raw),
        _ => Ok(raw),
    }
}

/// DER DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier (parameters NULL), digest
/// OCTET STRING }, the input of an EMSA-PKCS1-v1_5 signature whose hash was made outside.
pub fn digest_info(alg: DigestAlg, digest: &[u8]) -> Result<Vec<u8>, SignError> {
    if digest.len() != alg.len() {
        return Err(SignError::Unsupported(format!("a {} digest of {} bytes", alg.name(), digest.len())));
    }
    #[derive(rasn::AsnType, rasn::Encode)]
    struct DigestInfo {
        algorithm: rasn_pkix::AlgorithmIdentifier,
        digest: rasn::types::OctetString,
    }
    let value = DigestInfo {
        algorithm: rasn_pkix::AlgorithmIdentifier {
            algorithm: alg.object_identifier(),
            parameters: Some(rasn::types::Any::new(vec![0x05, 0x00])),
        },
        digest: digest.to_vec().into(),
    };
    rasn::der::encode(&value).map_err(|e| SignError::Unsupported(format!("DigestInfo: {e}")))
}

/// PKCS#11 returns an ECDSA signature as r‖s, each as long as the curve's order; CMS wants
/// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }.
pub fn ecdsa_raw_to_der(raw: &[u8]) -> Result<Vec<u8>, SignError> {
    if raw.is_empty() || raw.len() % 2 != 0 || raw.len() > 2 * 66 {
        return Err(SignError::Unsupported(format!(
            "the token returned an ECDSA signature of {} bytes (expected r‖s)",
            raw.len()
        )));
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let sig = EcdsaSig::from_private_components(BigNum::from_slice(r)?, BigNum::from_slice(s)?)?;
    Ok(sig.to_der()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::test_pki::{self, KeyKind, Usage};
    use crate::sign::Signer;

    #[test]
    fn digest_info_is_the_rfc_8017_encoding() {
        // RFC 8017 §9.2, note 1: the DER prefix of a SHA-256 DigestInfo.
        let prefix = hex::decode("3031300d060960864801650304020105000420").unwrap();
        let d = [7u8; 32];
        assert_eq!(digest_info(DigestAlg::Sha256, &d).unwrap(), [prefix, d.to_vec()].concat());
        let p384 = hex::decode("3041300d060960864801650304020205000430").unwrap();
        assert_eq!(digest_info(DigestAlg::Sha384, &[1; 48]).unwrap()[..19], p384[..]);
        assert!(digest_info(DigestAlg::Sha256, &[0; 20]).is_err());
    }

    #[test]
    fn raw_rsa_over_digest_info_equals_the_software_signature() {
        // PKCS#1 v1.5 is deterministic: the token's CKM_RSA_PKCS over our DigestInfo must give
        // exactly the bytes OpenSSL's own SHA-256 RSA signature gives.
        let ca = test_pki::ca("CA");
        let key = test_pki::key(KeyKind::Rsa2048);
        let cert = test_pki::issue(&ca, &key, "rsa", Usage::Signer);
        let sw = crate::sign::SoftwareSigner::new(key.clone(), cert, vec![]).unwrap();
        let data = b"signed attributes";
        let (mech, input) = prepare(sw.algorithm(), &DigestAlg::Sha256.digest(data).unwrap()).unwrap();
        assert!(matches!(mech, Mechanism::RsaPkcs));
        let rsa = key.rsa().unwrap();
        let mut raw = vec![0u8; rsa.size() as usize];
        let n = rsa.private_encrypt(&input, &mut raw, openssl::rsa::Padding::PKCS1).unwrap();
        raw.truncate(n);
        assert_eq!(finish(sw.algorithm(), raw).unwrap(), sw.sign(data).unwrap());
    }

    #[test]
    fn ecdsa_r_s_round_trips_to_der() {
        let key = test_pki::key(KeyKind::P256);
        let digest = DigestAlg::Sha256.digest(b"x").unwrap();
        let sig = EcdsaSig::sign(&digest, &key.ec_key().unwrap()).unwrap();
        let mut raw = vec![0u8; 64];
        let (r, s) = (sig.r().to_vec(), sig.s().to_vec());
        raw[32 - r.len()..32].copy_from_slice(&r);
        raw[64 - s.len()..].copy_from_slice(&s);
        let der = ecdsa_raw_to_der(&raw).unwrap();
        let back = EcdsaSig::from_der(&der).unwrap();
        assert!(back.verify(&digest, &key.ec_key().unwrap()).unwrap());
        assert_eq!(der, sig.to_der().unwrap());
        assert_eq!(ecdsa_raw_to_der(&raw[..63]).unwrap_err().code(), "key-unsupported");
        assert!(ecdsa_raw_to_der(&[]).is_err());
    }

    #[test]
    fn pss_uses_the_digest_as_hash_and_salt_length() {
        let (mech, input) = prepare(SignatureAlg::RsaPss(DigestAlg::Sha384), &[3; 48]).unwrap();
        let Mechanism::RsaPkcsPss(p) = mech else { panic!("not PSS") };
        assert_eq!(p.hash_alg, MechanismType::SHA384);
        assert_eq!(input.len(), 48);
        assert_eq!(mechanism_type(SignatureAlg::Ecdsa(DigestAlg::Sha256)), MechanismType::ECDSA);
    }
}
