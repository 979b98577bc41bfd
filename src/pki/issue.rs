//! Certificate issuing with OpenSSL's X509 builder, shared by the demo PKI and the test PKIs of
//! time-travel tests: arbitrary validity windows, subjects (UTF-8), key usage, EKU, hcRole and
//! CRL/OCSP URLs. Extensions the builder API lacks are DER-encoded with rasn.

use openssl::asn1::{Asn1Integer, Asn1Object, Asn1OctetString, Asn1Type};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509Extension, X509NameBuilder, X509Ref, X509};
use rasn::types::Ia5String;
use time::OffsetDateTime;

use super::asn1_time::from_offset;
use super::extensions::{KeyUsageBits, OID_KP_OCSP_SIGNING, OID_KP_TIME_STAMPING};
use super::PkiError;

/// What to put in a certificate. Start from [`CertSpec::new`] and set the fields you need.
#[derive(Debug, Clone)]
pub struct CertSpec {
    /// Subject attributes in order; values are written as UTF8String (country as PrintableString).
    pub subject: Vec<(Nid, String)>,
    /// Serial number (big-endian, positive); random 127 bits when `None`.
    pub serial: Option<Vec<u8>>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// basicConstraints cA=TRUE (critical) when set, with the optional path length.
    pub ca: Option<Option<u32>>,
    /// keyUsage (always critical); no extension when empty.
    pub key_usage: KeyUsageBits,
    /// extendedKeyUsage purposes as dotted OIDs; no extension when empty.
    pub ext_key_usage: Vec<String>,
    pub ext_key_usage_critical: bool,
    /// HPKI role ("Medical Doctor", "Pharmacist", ...) in subjectDirectoryAttributes.
    pub hc_role: Option<String>,
    /// CRL distribution point URLs.
    pub crl_urls: Vec<String>,
    /// OCSP responder URLs (authorityInfoAccess).
    pub ocsp_urls: Vec<String>,
    /// id-pkix-ocsp-nocheck, for OCSP responder certificates.
    pub ocsp_no_check: bool,
}

impl CertSpec {
    /// An end-entity spec with subject CN, no extensions besides the key identifiers.
    pub fn new(common_name: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> CertSpec {
        CertSpec {
            subject: vec![(Nid::COMMONNAME, common_name.to_string())],
            serial: None,
            not_before,
            not_after,
            ca: None,
            key_usage: KeyUsageBits::default(),
            ext_key_usage: Vec::new(),
            ext_key_usage_critical: false,
            hc_role: None,
            crl_urls: Vec::new(),
            ocsp_urls: Vec::new(),
            ocsp_no_check: false,
        }
    }

    /// A CA: basicConstraints cA, keyCertSign + cRLSign.
    pub fn ca(common_name: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> CertSpec {
        CertSpec {
            ca: Some(None),
            key_usage: KeyUsageBits::CA,
            ..CertSpec::new(common_name, not_before, not_after)
        }
    }

    /// A document signer: digitalSignature + nonRepudiation.
    pub fn signer(common_name: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> CertSpec {
        CertSpec {
            key_usage: KeyUsageBits::SIGNING,
            ..CertSpec::new(common_name, not_before, not_after)
        }
    }

    /// A TSA: digitalSignature + nonRepudiation, critical EKU timeStamping only (RFC 3161 2.3).
    pub fn tsa(common_name: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> CertSpec {
        CertSpec {
            key_usage: KeyUsageBits::SIGNING,
            ext_key_usage: vec![dotted(OID_KP_TIME_STAMPING)],
            ext_key_usage_critical: true,
            ..CertSpec::new(common_name, not_before, not_after)
        }
    }

    /// An OCSP responder: digitalSignature, EKU OCSPSigning, ocsp-nocheck.
    pub fn ocsp_responder(common_name: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> CertSpec {
        CertSpec {
            key_usage: KeyUsageBits {
                digital_signature: true,
                ..KeyUsageBits::default()
            },
            ext_key_usage: vec![dotted(OID_KP_OCSP_SIGNING)],
            ocsp_no_check: true,
            ..CertSpec::new(common_name, not_before, not_after)
        }
    }

    /// Adds a subject attribute (e.g. `Nid::ORGANIZATIONNAME`).
    pub fn with_subject(mut self, nid: Nid, value: &str) -> CertSpec {
        self.subject.push((nid, value.to_string()));
        self
    }
}

fn dotted(oid: &[u32]) -> String {
    oid.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(".")
}

/// A fresh RSA key.
pub fn new_rsa_key(bits: u32) -> Result<PKey<Private>, PkiError> {
    let rsa = Rsa::generate(bits).map_err(PkiError::ossl("generating an RSA key"))?;
    PKey::from_rsa(rsa).map_err(PkiError::ossl("wrapping an RSA key"))
}

/// A fresh P-256 key (fast; for tests).
pub fn new_ec_key() -> Result<PKey<Private>, PkiError> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(PkiError::ossl("loading P-256"))?;
    let ec = EcKey::generate(&group).map_err(PkiError::ossl("generating an EC key"))?;
    PKey::from_ec_key(ec).map_err(PkiError::ossl("wrapping an EC key"))
}

/// Issue a certificate for `subject_key` per `spec`, signed (SHA-256) by `issuer`'s key, or
/// self-signed by `subject_key` when `issuer` is `None`.
pub fn issue(
    spec: &CertSpec,
    subject_key: &PKeyRef<Private>,
    issuer: Option<(&X509Ref, &PKeyRef<Private>)>,
) -> Result<X509, PkiError> {
    let e = PkiError::ossl;
    let mut b = X509Builder::new().map_err(e("starting a certificate"))?;
    b.set_version(2).map_err(e("setting the version"))?;
    let serial = match &spec.serial {
        Some(bytes) => BigNum::from_slice(bytes).map_err(e("reading the serial"))?,
        None => random_serial()?,
    };
    let serial = Asn1Integer::from_bn(&serial).map_err(e("setting the serial"))?;
    b.set_serial_number(&serial).map_err(e("setting the serial"))?;

    let mut name = X509NameBuilder::new().map_err(e("building a name"))?;
    for (nid, value) in &spec.subject {
        let ty = if *nid == Nid::COUNTRYNAME {
            Asn1Type::PRINTABLESTRING
        } else {
            Asn1Type::UTF8STRING
        };
        name.append_entry_by_nid_with_type(*nid, value, ty)
            .map_err(e("adding a subject attribute"))?;
    }
    let name = name.build();
    b.set_subject_name(&name).map_err(e("setting the subject"))?;
    match issuer {
        Some((cert, _)) => b
            .set_issuer_name(cert.subject_name())
            .map_err(e("setting the issuer"))?,
        None => b.set_issuer_name(&name).map_err(e("setting the issuer"))?,
    }
    let (not_before, not_after) = (from_offset(spec.not_before)?, from_offset(spec.not_after)?);
    b.set_not_before(&not_before).map_err(e("setting notBefore"))?;
    b.set_not_after(&not_after).map_err(e("setting notAfter"))?;
    b.set_pubkey(subject_key).map_err(e("setting the public key"))?;

    if let Some(path_len) = spec.ca {
        let mut bc = BasicConstraints::new();
        bc.critical().ca();
        if let Some(n) = path_len {
            bc.pathlen(n);
        }
        b.append_extension(bc.build().map_err(e("basicConstraints"))?)
            .map_err(e("basicConstraints"))?;
    }
    if !spec.key_usage.is_empty() {
        let mut ku = KeyUsage::new();
        ku.critical();
        let k = spec.key_usage;
        if k.digital_signature {
            ku.digital_signature();
        }
        if k.non_repudiation {
            ku.non_repudiation();
        }
        if k.key_encipherment {
            ku.key_encipherment();
        }
        if k.key_cert_sign {
            ku.key_cert_sign();
        }
        if k.crl_sign {
            ku.crl_sign();
        }
        b.append_extension(ku.build().map_err(e("keyUsage"))?)
            .map_err(e("keyUsage"))?;
    }
    if !spec.ext_key_usage.is_empty() {
        let mut eku = ExtendedKeyUsage::new();
        if spec.ext_key_usage_critical {
            eku.critical();
        }
        for oid in &spec.ext_key_usage {
            eku.other(oid);
        }
        b.append_extension(eku.build().map_err(e("extendedKeyUsage"))?)
            .map_err(e("extendedKeyUsage"))?;
    }
    let ski = SubjectKeyIdentifier::new()
        .build(&b.x509v3_context(issuer.map(|(c, _)| c), None))
        .map_err(e("subjectKeyIdentifier"))?;
    b.append_extension(ski).map_err(e("subjectKeyIdentifier"))?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&b.x509v3_context(issuer.map(|(c, _)| c), None))
        .map_err(e("authorityKeyIdentifier"))?;
    b.append_extension(aki).map_err(e("authorityKeyIdentifier"))?;

    if !spec.crl_urls.is_empty() {
        b.append_extension(der_extension(
            "2.5.29.31",
            false,
            &crl_distribution_points(&spec.crl_urls)?,
        )?)
        .map_err(e("cRLDistributionPoints"))?;
    }
    if !spec.ocsp_urls.is_empty() {
        b.append_extension(der_extension(
            "1.3.6.1.5.5.7.1.1",
            false,
            &authority_info_access(&spec.ocsp_urls)?,
        )?)
        .map_err(e("authorityInfoAccess"))?;
    }
    if spec.ocsp_no_check {
        // id-pkix-ocsp-nocheck: value NULL.
        b.append_extension(der_extension("1.3.6.1.5.5.7.48.1.5", false, &[0x05, 0x00])?)
            .map_err(e("ocsp-nocheck"))?;
    }
    if let Some(role) = &spec.hc_role {
        b.append_extension(der_extension(
            "2.5.29.9",
            false,
            &super::hcrole::hc_role_extension(role)?,
        )?)
        .map_err(e("subjectDirectoryAttributes"))?;
    }

    let signing_key = issuer.map(|(_, k)| k).unwrap_or(subject_key);
    b.sign(signing_key, MessageDigest::sha256())
        .map_err(e("signing a certificate"))?;
    Ok(b.build())
}

/// A positive random serial of up to 127 bits (RFC 5280 allows 20 octets).
pub fn random_serial() -> Result<BigNum, PkiError> {
    let mut bn = BigNum::new().map_err(PkiError::ossl("making a serial"))?;
    bn.rand(127, MsbOption::MAYBE_ZERO, false)
        .map_err(PkiError::ossl("making a serial"))?;
    Ok(bn)
}

fn der_extension(oid: &str, critical: bool, der: &[u8]) -> Result<X509Extension, PkiError> {
    let e = PkiError::ossl;
    let oid = Asn1Object::from_str(oid).map_err(e("parsing an OID"))?;
    let value = Asn1OctetString::new_from_bytes(der).map_err(e("wrapping an extension"))?;
    X509Extension::new_from_der(&oid, critical, &value).map_err(e("building an extension"))
}

fn uri(url: &str) -> Result<rasn_pkix::GeneralName, PkiError> {
    let s = Ia5String::try_from(url.to_string()).map_err(|e| PkiError::Asn1(format!("URL {url:?}: {e}")))?;
    Ok(rasn_pkix::GeneralName::Uri(s))
}

fn crl_distribution_points(urls: &[String]) -> Result<Vec<u8>, PkiError> {
    let mut points: rasn_pkix::CrlDistributionPoints = Vec::new();
    for url in urls {
        points.push(rasn_pkix::DistributionPoint {
            distribution_point: Some(rasn_pkix::DistributionPointName::FullName(vec![uri(url)?])),
            reasons: None,
            crl_issuer: None,
        });
    }
    rasn::der::encode(&points).map_err(|e| PkiError::Asn1(e.to_string()))
}

fn authority_info_access(ocsp_urls: &[String]) -> Result<Vec<u8>, PkiError> {
    let ad_ocsp = rasn::types::ObjectIdentifier::new_unchecked(vec![1, 3, 6, 1, 5, 5, 7, 48, 1].into());
    let mut aia: rasn_pkix::AuthorityInfoAccessSyntax = Vec::new();
    for url in ocsp_urls {
        aia.push(rasn_pkix::AccessDescription {
            access_method: ad_ocsp.clone(),
            access_location: uri(url)?,
        });
    }
    rasn::der::encode(&aia).map_err(|e| PkiError::Asn1(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::extensions::{crl_urls, extended_key_usage, key_usage, ocsp_urls};
    use time::macros::datetime;

    #[test]
    fn issued_certificate_carries_the_spec() {
        let ca_key = new_ec_key().unwrap();
        let ca = issue(
            &CertSpec::ca(
                "テスト ルート",
                datetime!(2020-01-01 0:00 UTC),
                datetime!(2060-01-01 0:00 UTC),
            ),
            &ca_key,
            None,
        )
        .unwrap();
        let key = new_ec_key().unwrap();
        let mut spec = CertSpec::tsa(
            "TSA 一号",
            datetime!(2024-01-01 0:00 UTC),
            datetime!(2051-06-01 0:00 UTC),
        );
        spec.serial = Some(vec![0x01, 0x23]);
        spec.crl_urls = vec!["http://127.0.0.1:1/crl/root.crl".into()];
        spec.ocsp_urls = vec!["http://127.0.0.1:1/ocsp".into()];
        let cert = issue(&spec, &key, Some((&ca, &ca_key))).unwrap();

        assert!(cert.verify(&ca_key).unwrap());
        assert_eq!(ca.issued(&cert), openssl::x509::X509VerifyResult::OK);
        assert_eq!(crate::pki::subject_line(&cert), "CN=TSA 一号");
        assert_eq!(crate::pki::serial_hex(&cert), "0123");
        let nb = crate::pki::asn1_time::to_offset(cert.not_before()).unwrap();
        let na = crate::pki::asn1_time::to_offset(cert.not_after()).unwrap();
        assert_eq!(
            (nb, na),
            (datetime!(2024-01-01 0:00 UTC), datetime!(2051-06-01 0:00 UTC))
        );
        assert_eq!(key_usage(&cert).unwrap(), Some(KeyUsageBits::SIGNING));
        let (critical, purposes) = extended_key_usage(&cert).unwrap().unwrap();
        assert!(critical);
        assert_eq!(purposes.len(), 1);
        assert_eq!(purposes[0].as_ref(), OID_KP_TIME_STAMPING);
        assert_eq!(crl_urls(&cert), vec!["http://127.0.0.1:1/crl/root.crl".to_string()]);
        assert_eq!(ocsp_urls(&cert), vec!["http://127.0.0.1:1/ocsp".to_string()]);
        assert_eq!(key_usage(&ca).unwrap(), Some(KeyUsageBits::CA));
        assert!(extended_key_usage(&ca).unwrap().is_none());
    }

    #[test]
    fn openssl_cli_reads_the_extensions() {
        let Some(dir) = crate::pki::fixtures::openssl_cli("issue::openssl_cli_reads_the_extensions") else {
            return;
        };
        let key = new_ec_key().unwrap();
        let mut spec = CertSpec::signer(
            "デモ 医師",
            datetime!(2024-01-01 0:00 UTC),
            datetime!(2026-01-01 0:00 UTC),
        );
        spec.hc_role = Some("Medical Doctor".into());
        spec.crl_urls = vec!["http://example.test/a.crl".into()];
        let cert = issue(&spec, &key, None).unwrap();
        let path = dir.path().join("c.pem");
        std::fs::write(&path, cert.to_pem().unwrap()).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["x509", "-noout", "-text", "-nameopt", "utf8", "-in"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("Digital Signature, Non Repudiation"), "{text}");
        assert!(text.contains("URI:http://example.test/a.crl"), "{text}");
        assert!(text.contains("X509v3 Subject Directory Attributes"), "{text}");
        assert!(
            text.contains("CN = デモ 医師") || text.contains("CN=デモ 医師"),
            "{text}"
        );
    }
}
