//! Certificate handling: trust stores and path validation at a chosen time with revocation
//! (`trust`), CRL parsing and issuing (`crl`), OCSP (`ocsp`), HPKI roles (`hcrole`), certificate
//! issuing for demo and test PKIs (`issue`), and the demo PKI itself (`demo`).
//! OpenSSL does every signature and hash; rasn encodes and decodes the ASN.1 around them.

pub mod asn1_time;
pub mod certcache;
pub mod crl;
pub mod demo;
pub mod extensions;
pub mod hcrole;
pub mod issue;
pub mod memo;
pub mod ocsp;
pub mod trust;

#[cfg(test)]
pub(crate) mod fixtures;

use std::path::PathBuf;

use time::OffsetDateTime;

pub use crl::{issue_crl, Crl, CrlSpec, RevokedEntry};
pub use demo::DemoPki;
pub use extensions::KeyUsageBits;
pub use hcrole::{hc_role, hc_role_extension};
pub use issue::{issue, new_ec_key, new_rsa_key, CertSpec};
pub use trust::{
    check_signer_before_signing, validate_path, PathReport, PathStatus, RevocationData, TrustStore, Usage,
};

/// Errors of certificate handling. `code()` gives the stable reason code for reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    #[error("cannot read or write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("not a certificate, key or CRL: {0}")]
    Parse(String),
    #[error("OpenSSL failed while {context}: {source}")]
    OpenSsl {
        context: &'static str,
        source: openssl::error::ErrorStack,
    },
    #[error("ASN.1 encoding failed: {0}")]
    Asn1(String),
    #[error("time out of range: {0}")]
    Time(String),
    #[error("signer certificate {subject} expired at {not_after} (now {now})")]
    SignerExpired {
        subject: String,
        not_after: String,
        now: String,
    },
    #[error("signer certificate {subject} is not valid before {not_before} (now {now})")]
    SignerNotYetValid {
        subject: String,
        not_before: String,
        now: String,
    },
    #[error("signer certificate does not chain to a trusted root: {0}")]
    SignerUntrusted(String),
    #[error("signer certificate may not sign documents: {0}")]
    SignerKeyUsage(String),
    #[error("signer certificate was revoked at {at} ({reason})")]
    SignerRevoked { at: String, reason: String },
    #[error("demo PKI in {dir} is incomplete ({missing} missing); move the folder away to recreate it")]
    DemoIncomplete { dir: PathBuf, missing: String },
}

impl PkiError {
    pub fn code(&self) -> &'static str {
        match self {
            PkiError::Io { .. } => "pki-io",
            PkiError::Parse(_) => "pki-parse",
            PkiError::OpenSsl { .. } => "pki-openssl",
            PkiError::Asn1(_) => "pki-asn1",
            PkiError::Time(_) => "pki-time",
            PkiError::SignerExpired { .. } => "signer-expired",
            PkiError::SignerNotYetValid { .. } => "signer-not-yet-valid",
            PkiError::SignerUntrusted(_) => "signer-untrusted",
            PkiError::SignerKeyUsage(_) => "signer-key-usage",
            PkiError::SignerRevoked { .. } => "signer-revoked",
            PkiError::DemoIncomplete { .. } => "demo-incomplete",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> PkiError {
        let path = path.into();
        move |source| PkiError::Io { path, source }
    }

    pub(crate) fn ossl(context: &'static str) -> impl FnOnce(openssl::error::ErrorStack) -> PkiError {
        move |source| PkiError::OpenSsl { context, source }
    }
}

/// One-line subject of a certificate for messages (RFC 2253-like, UTF-8 kept).
pub fn subject_line(cert: &openssl::x509::X509Ref) -> String {
    name_line(cert.subject_name())
}

/// One line for a distinguished name (subject or issuer), as `subject_line` writes it.
pub fn name_line(name: &openssl::x509::X509NameRef) -> String {
    let parts: Vec<String> = name
        .entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let val = e.data().to_string().unwrap_or_else(|_| "?".into());
            format!("{key}={val}")
        })
        .collect();
    parts.join(", ")
}

/// Lowercase hex of a certificate's serial number.
pub fn serial_hex(cert: &openssl::x509::X509Ref) -> String {
    cert.serial_number()
        .to_bn()
        .ok()
        .and_then(|b| b.to_hex_str().ok().map(|s| s.to_ascii_lowercase()))
        .unwrap_or_default()
}

pub(crate) fn fmt_time(t: OffsetDateTime) -> String {
    crate::clock::rfc3339(t)
}
