//! ESS signing-certificate attributes (RFC 2634 v1, RFC 5035 v2): they bind the signer's
//! certificate into the signed attributes so it cannot be swapped. rasn has no ESS types.

use openssl::x509::X509;
use rasn::prelude::*;
use rasn_pkix::{AlgorithmIdentifier, GeneralName, GeneralNames, Name};

use super::CmsError;
use crate::sign::DigestAlg;

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
pub(crate) struct IssuerSerial {
    pub issuer: GeneralNames,
    pub serial_number: Integer,
}

/// ESSCertIDv2; `hash_algorithm` None means the DEFAULT sha256 (and must be omitted in DER).
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
pub(crate) struct EssCertIdV2 {
    pub hash_algorithm: Option<AlgorithmIdentifier>,
    pub cert_hash: OctetString,
    pub issuer_serial: Option<IssuerSerial>,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
pub(crate) struct SigningCertificateV2 {
    pub certs: SequenceOf<EssCertIdV2>,
    pub policies: Option<SequenceOf<Any>>,
}

/// ESSCertID (v1): SHA-1 hash of the certificate.
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
pub(crate) struct EssCertId {
    pub cert_hash: OctetString,
    pub issuer_serial: Option<IssuerSerial>,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
pub(crate) struct SigningCertificate {
    pub certs: SequenceOf<EssCertId>,
    pub policies: Option<SequenceOf<Any>>,
}

/// Which ESS attribute bound the signer certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EssBinding {
    /// signing-certificate (v1, SHA-1 hash).
    V1,
    /// signing-certificate-v2 with this hash.
    V2(DigestAlg),
}

fn enc_err(e: impl std::fmt::Display) -> CmsError {
    CmsError::Encode(e.to_string())
}

fn issuer_serial(cert: &X509) -> Result<IssuerSerial, CmsError> {
    let name: Name = rasn::der::decode(&cert.issuer_name().to_der()?).map_err(enc_err)?;
    let serial = cert.serial_number().to_bn()?.to_vec();
    Ok(IssuerSerial {
        issuer: vec![GeneralName::DirectoryName(name)],
        serial_number: super::der::integer_from_unsigned(&serial)?,
    })
}

/// DER of a SigningCertificateV2 value naming `cert` (hash with `alg`, issuer and serial).
pub(crate) fn signing_certificate_v2(cert: &X509, alg: DigestAlg) -> Result<Vec<u8>, CmsError> {
    let hash = alg.digest(&cert.to_der()?)?;
    let id = EssCertIdV2 {
        hash_algorithm: (alg != DigestAlg::Sha256).then(|| super::algorithm::digest_identifier(alg)),
        cert_hash: OctetString::from(hash),
        issuer_serial: Some(issuer_serial(cert)?),
    };
    rasn::der::encode(&SigningCertificateV2 {
        certs: vec![id],
        policies: None,
    })
    .map_err(enc_err)
}

fn issuer_serial_matches(is: &Option<IssuerSerial>, cert: &X509) -> Result<bool, CmsError> {
    let Some(is) = is else { return Ok(true) };
    let mine = issuer_serial(cert)?;
    let same_serial = is.serial_number == mine.serial_number;
    // The issuer is compared as DER of the directory name.
    let same_issuer = is.issuer.iter().any(|g| mine.issuer.first().is_some_and(|m| m == g));
    Ok(same_serial && same_issuer)
}

/// Check that the first ESSCertID(v2) of an attribute value names `cert`.
pub(crate) fn check_v2(value_der: &[u8], cert: &X509) -> Result<EssBinding, CmsError> {
    let sc: SigningCertificateV2 =
        rasn::der::decode(value_der).map_err(|e| CmsError::Malformed(format!("signing-certificate-v2: {e}")))?;
    let first = sc
        .certs
        .first()
        .ok_or_else(|| CmsError::Malformed("empty signing-certificate-v2".into()))?;
    let alg = match &first.hash_algorithm {
        None => DigestAlg::Sha256,
        Some(ai) => DigestAlg::from_oid(&ai.algorithm)
            .ok_or_else(|| CmsError::Unsupported(format!("ESS hash {}", ai.algorithm)))?,
    };
    let hash = alg.digest(&cert.to_der()?)?;
    if hash.as_slice() != first.cert_hash.as_ref() || !issuer_serial_matches(&first.issuer_serial, cert)? {
        return Err(CmsError::EssMismatch);
    }
    Ok(EssBinding::V2(alg))
}

/// Check that the first ESSCertID (v1, SHA-1) names `cert`.
pub(crate) fn check_v1(value_der: &[u8], cert: &X509) -> Result<EssBinding, CmsError> {
    let sc: SigningCertificate =
        rasn::der::decode(value_der).map_err(|e| CmsError::Malformed(format!("signing-certificate: {e}")))?;
    let first = sc
        .certs
        .first()
        .ok_or_else(|| CmsError::Malformed("empty signing-certificate".into()))?;
    // SHA-1 here only identifies a certificate we already hold; it is what RFC 2634 defines.
    let hash = openssl::hash::hash(openssl::hash::MessageDigest::sha1(), &cert.to_der()?)?;
    if &*hash != first.cert_hash.as_ref() || !issuer_serial_matches(&first.issuer_serial, cert)? {
        return Err(CmsError::EssMismatch);
    }
    Ok(EssBinding::V1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::test_pki::{self, KeyKind, Usage};
    use crate::sign::Signer;

    #[test]
    fn sha256_hash_algorithm_is_omitted_and_others_written() {
        let ca = test_pki::ca("CA");
        let s = test_pki::signer(&ca, KeyKind::P256, "s", Usage::Signer);
        let v = signing_certificate_v2(s.certificate(), DigestAlg::Sha256).unwrap();
        let sc: SigningCertificateV2 = rasn::der::decode(&v).unwrap();
        assert!(sc.certs[0].hash_algorithm.is_none());
        // SEQ { SEQ { SEQ(ESSCertIDv2) { OCTET STRING ... } } }: the id starts with the hash.
        let outer = super::super::der::read_exact(&v).unwrap();
        let certs = super::super::der::children(outer.value).unwrap();
        let id = super::super::der::children(certs[0].value).unwrap();
        let first_field = super::super::der::children(id[0].value).unwrap();
        assert_eq!(first_field[0].tag, 0x04);
        let v384 = signing_certificate_v2(s.certificate(), DigestAlg::Sha384).unwrap();
        let sc: SigningCertificateV2 = rasn::der::decode(&v384).unwrap();
        assert!(sc.certs[0].hash_algorithm.is_some());
        assert_eq!(
            check_v2(&v384, s.certificate()).unwrap(),
            EssBinding::V2(DigestAlg::Sha384)
        );
    }

    #[test]
    fn binding_rejects_another_certificate() {
        let ca = test_pki::ca("CA");
        let a = test_pki::signer(&ca, KeyKind::P256, "a", Usage::Signer);
        let b = test_pki::signer(&ca, KeyKind::P256, "b", Usage::Signer);
        let v = signing_certificate_v2(a.certificate(), DigestAlg::Sha256).unwrap();
        assert_eq!(
            check_v2(&v, a.certificate()).unwrap(),
            EssBinding::V2(DigestAlg::Sha256)
        );
        assert_eq!(check_v2(&v, b.certificate()).unwrap_err().code(), "cms-ess-mismatch");
    }
}
