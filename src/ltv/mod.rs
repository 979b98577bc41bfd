//! Validation data for long-term validation: where CRLs and OCSP responses come from (the
//! `RevocationSource` seam with an HTTP fetcher and an offline folder source) and the
//! collection of certificates and revocation data for the signer's and the TSA's chains.
//! Fetching is bounded: only http(s) to addresses the `address` policy allows, no redirects,
//! one deadline per file for all its fetches, run in parallel (`scope`).

pub mod address;
pub mod collect;
pub mod dir;
pub mod http;
pub mod scope;

use openssl::x509::X509;

pub use address::AddressPolicy;
pub use collect::{collect_validation, ValidationMaterial};
pub use dir::{DemoRevocationSource, DirRevocationSource};
pub use http::HttpRevocationSource;
pub use scope::{FetchAttempt, FetchScope};

/// Errors of fetching or reading revocation data. `code()` gives the stable reason code.
/// Clone, so that a per-run cache can hand the same failure to every asker.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RevError {
    #[error("{url}: timed out")]
    Timeout { url: String },
    #[error("{url}: response larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: HTTP status {status}")]
    HttpStatus { url: String, status: u16 },
    #[error("{url}: {message}")]
    Network { url: String, message: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("revocation data unusable: {0}")]
    Unusable(String),
    #[error("{url}: not fetched: only http and https URLs are")]
    SchemeRefused { url: String },
    #[error("{url}: not fetched: {reason}")]
    AddressRefused { url: String, reason: String },
    #[error("{url}: redirect to {location:?} not followed")]
    Redirect { url: String, location: String },
    #[error("{url}: not fetched or cut short: this file's time for fetching ran out")]
    Deadline { url: String },
}

impl RevError {
    pub fn code(&self) -> &'static str {
        match self {
            RevError::Timeout { .. } => "rev-timeout",
            RevError::TooLarge { .. } => "rev-too-large",
            RevError::HttpStatus { .. } => "rev-http-status",
            RevError::Network { .. } => "rev-network",
            RevError::Io { .. } => "rev-io",
            RevError::Unusable(_) => "rev-unusable",
            RevError::SchemeRefused { .. } => "rev-scheme-refused",
            RevError::AddressRefused { .. } => "rev-address-refused",
            RevError::Redirect { .. } => "rev-redirect-refused",
            RevError::Deadline { .. } => "rev-deadline",
        }
    }
}

/// Where revocation data for a certificate comes from. Implementations return raw bytes; the
/// caller checks signatures before trusting anything. `scope` is the file being worked on:
/// network sources keep to its deadline and log each URL they try there.
pub trait RevocationSource: Send + Sync {
    /// CRLs (DER or PEM bytes) that may cover `cert`, issued by `issuer`.
    fn crls_for(&self, cert: &X509, issuer: &X509, scope: &FetchScope) -> Result<Vec<Vec<u8>>, RevError>;
    /// A DER OCSP response for `cert`, if the source can get one.
    fn ocsp_for(&self, cert: &X509, issuer: &X509, scope: &FetchScope) -> Result<Option<Vec<u8>>, RevError>;
}

/// A source with nothing (offline without a CRL folder).
pub struct NoRevocationSource;

impl RevocationSource for NoRevocationSource {
    fn crls_for(&self, _: &X509, _: &X509, _: &FetchScope) -> Result<Vec<Vec<u8>>, RevError> {
        Ok(Vec::new())
    }
    fn ocsp_for(&self, _: &X509, _: &X509, _: &FetchScope) -> Result<Option<Vec<u8>>, RevError> {
        Ok(None)
    }
}
