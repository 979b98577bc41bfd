//! Reading certificate extensions OpenSSL's Rust API does not expose (key usage bits, extended
//! key usage with its criticality, any extension by OID), through rasn-pkix.

use openssl::x509::X509Ref;
use rasn::types::ObjectIdentifier;

use super::PkiError;

pub const OID_KEY_USAGE: &[u32] = &[2, 5, 29, 15];
pub const OID_EXT_KEY_USAGE: &[u32] = &[2, 5, 29, 37];
pub const OID_SUBJECT_DIRECTORY_ATTRIBUTES: &[u32] = &[2, 5, 29, 9];
pub const OID_KP_TIME_STAMPING: &[u32] = &[1, 3, 6, 1, 5, 5, 7, 3, 8];
pub const OID_KP_OCSP_SIGNING: &[u32] = &[1, 3, 6, 1, 5, 5, 7, 3, 9];

/// The keyUsage bits hozon cares about (RFC 5280 4.2.1.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyUsageBits {
    pub digital_signature: bool,
    pub non_repudiation: bool,
    pub key_encipherment: bool,
    pub key_cert_sign: bool,
    pub crl_sign: bool,
}

impl KeyUsageBits {
    /// What a document signer (and a TSA) carries: digitalSignature + nonRepudiation.
    pub const SIGNING: KeyUsageBits = KeyUsageBits {
        digital_signature: true,
        non_repudiation: true,
        key_encipherment: false,
        key_cert_sign: false,
        crl_sign: false,
    };
    /// What a CA carries: keyCertSign + cRLSign.
    pub const CA: KeyUsageBits = KeyUsageBits {
        digital_signature: false,
        non_repudiation: false,
        key_encipherment: false,
        key_cert_sign: true,
        crl_sign: true,
    };

    pub fn is_empty(&self) -> bool {
        *self == KeyUsageBits::default()
    }

    /// Names of the set bits, for messages.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (on, name) in [
            (self.digital_signature, "digitalSignature"),
            (self.non_repudiation, "nonRepudiation"),
            (self.key_encipherment, "keyEncipherment"),
            (self.key_cert_sign, "keyCertSign"),
            (self.crl_sign, "cRLSign"),
        ] {
            if on {
                v.push(name);
            }
        }
        v
    }
}

/// One extension of a certificate: criticality and the DER inside the extnValue OCTET STRING.
#[derive(Debug, Clone)]
pub struct RawExtension {
    pub critical: bool,
    pub value: Vec<u8>,
}

/// The extension with `oid`, if the certificate has one. A certificate rasn cannot decode is an
/// error (the caller decides whether that is fatal).
pub fn find_extension(cert: &X509Ref, oid: &[u32]) -> Result<Option<RawExtension>, PkiError> {
    let der = cert.to_der().map_err(PkiError::ossl("encoding a certificate"))?;
    let parsed: rasn_pkix::Certificate =
        rasn::ber::decode(&der).map_err(|e| PkiError::Parse(format!("certificate extensions: {e}")))?;
    let Some(exts) = parsed.tbs_certificate.extensions else {
        return Ok(None);
    };
    Ok(exts.iter().find(|e| e.extn_id.as_ref() == oid).map(|e| RawExtension {
        critical: e.critical,
        value: e.extn_value.to_vec(),
    }))
}

/// The keyUsage extension's bits; `None` when the certificate has no keyUsage.
pub fn key_usage(cert: &X509Ref) -> Result<Option<KeyUsageBits>, PkiError> {
    let Some(ext) = find_extension(cert, OID_KEY_USAGE)? else {
        return Ok(None);
    };
    let bits: rasn_pkix::KeyUsage =
        rasn::ber::decode(&ext.value).map_err(|e| PkiError::Parse(format!("keyUsage: {e}")))?;
    let bit = |i: usize| bits.get(i).map(|b| *b).unwrap_or(false);
    Ok(Some(KeyUsageBits {
        digital_signature: bit(0),
        non_repudiation: bit(1),
        key_encipherment: bit(2),
        key_cert_sign: bit(5),
        crl_sign: bit(6),
    }))
}

/// The extendedKeyUsage purposes and whether the extension is critical; `None` when absent.
pub fn extended_key_usage(cert: &X509Ref) -> Result<Option<(bool, Vec<ObjectIdentifier>)>, PkiError> {
    let Some(ext) = find_extension(cert, OID_EXT_KEY_USAGE)? else {
        return Ok(None);
    };
    let purposes: rasn_pkix::ExtKeyUsageSyntax =
        rasn::ber::decode(&ext.value).map_err(|e| PkiError::Parse(format!("extendedKeyUsage: {e}")))?;
    Ok(Some((ext.critical, purposes)))
}

/// HTTP(S) URLs of the CRL distribution points (other schemes such as LDAP are skipped).
pub fn crl_urls(cert: &X509Ref) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(points) = cert.crl_distribution_points() {
        for dp in &points {
            let Some(name) = dp.distpoint() else { continue };
            let Some(full) = name.fullname() else {
                continue;
            };
            for gn in full {
                if let Some(uri) = gn.uri() {
                    if is_http(uri) {
                        out.push(uri.to_string());
                    }
                }
            }
        }
    }
    out
}

/// HTTP(S) URLs of OCSP responders from the authorityInfoAccess extension.
pub fn ocsp_urls(cert: &X509Ref) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(aia) = cert.authority_info() {
        for ad in &aia {
            if ad.method().nid() == openssl::nid::Nid::AD_OCSP {
                if let Some(uri) = ad.location().uri() {
                    if is_http(uri) {
                        out.push(uri.to_string());
                    }
                }
            }
        }
    }
    out
}

fn is_http(uri: &str) -> bool {
    let lower = uri.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Dotted text of an OID, for messages.
pub fn oid_text(oid: &ObjectIdentifier) -> String {
    oid.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(".")
}
