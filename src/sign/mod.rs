//! Signers: the `Signer` seam (a key file, or a key on a PKCS#11 token), the digest and
//! signature algorithms hozon supports, and the handling of key files and their passwords.
//! Only raw signatures are made here; CMS structure lives in `cms`.

mod algorithm;
pub mod pkcs11;
mod secret;
mod software;
#[cfg(test)]
pub(crate) mod test_pki;

pub use algorithm::{DigestAlg, SignatureAlg};
pub use secret::{check_private_file, read_secret, Secret};
pub use pkcs11::{Pkcs11Signer, TokenError};
pub use software::SoftwareSigner;

use std::path::PathBuf;

/// Something that can make a raw signature with a certified key.
pub trait Signer: Send + Sync {
    /// The signer's own certificate.
    fn certificate(&self) -> &openssl::x509::X509;
    /// Issuers after the signer, nearest first (may include the root).
    fn chain(&self) -> &[openssl::x509::X509];
    fn algorithm(&self) -> SignatureAlg;
    /// Raw signature over `data` (the signer hashes it with `algorithm().digest()`).
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// Errors of key loading and signing. Messages never contain passwords.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    #[error("{path}: readable by group or others (mode {mode:o}); run `chmod 600 {path}`")]
    KeyPermissions { path: PathBuf, mode: u32 },
    #[error("cannot read {path}: {source}")]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    InvalidKey { path: PathBuf, message: String },
    #[error("the private key does not belong to the certificate {subject}")]
    KeyMismatch { subject: String },
    #[error("unsupported key or algorithm: {0}")]
    Unsupported(String),
    #[error("password not available: {0}")]
    SecretMissing(String),
    #[error("signer configuration: {0}")]
    Config(String),
    #[error("signing failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl SignError {
    pub fn code(&self) -> &'static str {
        match self {
            SignError::KeyPermissions { .. } => "key-permissions",
            SignError::Unreadable { .. } => "key-unreadable",
            SignError::InvalidKey { .. } => "key-invalid",
            SignError::KeyMismatch { .. } => "key-mismatch",
            SignError::Unsupported(_) => "key-unsupported",
            SignError::SecretMissing(_) => "secret-missing",
            SignError::Config(_) => "signer-config",
            SignError::Crypto(_) => "sign-failed",
            SignError::Token(e) => e.code(),
        }
    }
}
