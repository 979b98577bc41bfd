//! RFC 3161 timestamps: requests and replies (`request`), tokens and their verification
//! (`token`), the `TimeStamper` seam with an HTTP client (`http`) and a built-in demo TSA
//! (`builtin`), and the small HTTP server behind `hozon tsa serve` (`server`).

mod builtin;
mod eku;
mod http;
mod request;
pub mod server;
mod token;

pub use builtin::{BuiltinTsa, DEMO_POLICY};
pub use eku::check_timestamping_eku;
pub use http::HttpTimeStamper;
pub use request::TimestampRequest;
pub use token::{TimestampToken, TstInfoSummary};

use crate::cms::CmsError;
use crate::sign::{DigestAlg, SignError};

/// Something that returns RFC 3161 tokens for digests.
pub trait TimeStamper: Send + Sync {
    /// A token over `digest`, made with `alg` (the message imprint).
    fn timestamp(&self, alg: DigestAlg, digest: &[u8]) -> Result<TimestampToken, TspError>;

    /// The imprint hash this time stamper is configured for.
    fn hash_algorithm(&self) -> DigestAlg {
        DigestAlg::Sha256
    }

    /// Hash `data` with `hash_algorithm()` and timestamp it (e.g. a signature value).
    fn timestamp_data(&self, data: &[u8]) -> Result<TimestampToken, TspError> {
        let alg = self.hash_algorithm();
        self.timestamp(alg, &alg.digest(data)?)
    }

    /// Answer a raw DER TimeStampReq with a DER TimeStampResp (for serving over HTTP).
    /// Time stampers that cannot sign themselves answer with a rejection.
    fn respond(&self, _request_der: &[u8]) -> Vec<u8> {
        request::status_only_response(2, "this time stamper does not serve requests", Some(25))
    }
}

/// Errors of timestamping and token verification.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TspError {
    /// Network failure, timeout, 5xx or 429 after the configured retries, or the deadline hit.
    #[error("timestamp authority unavailable: {0}")]
    Unavailable(String),
    /// The TSA answered with a PKIStatus other than granted.
    #[error("timestamp request rejected ({status}){}", text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    Rejected { status: String, text: Option<String> },
    /// The reply cannot be accepted: garbage, wrong type, too large, bad token, wrong nonce, ...
    #[error("invalid timestamp response: {0}")]
    InvalidResponse(String),
    /// A token (e.g. read from a PDF) is malformed.
    #[error("malformed timestamp token: {0}")]
    Malformed(String),
    #[error("the timestamp covers other data (message imprint mismatch)")]
    ImprintMismatch,
    #[error("the TSA certificate is not for timestamping: {0}")]
    BadEku(String),
    #[error("timestamp token signature: {0}")]
    Cms(#[from] CmsError),
    #[error("TSA configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error("TSA server: {0}")]
    Server(String),
    /// The TSA's certificate does not chain to a trusted root, or is not valid now.
    #[error("the TSA certificate is not trusted: {0}")]
    Untrusted(String),
}

impl TspError {
    pub fn code(&self) -> &'static str {
        match self {
            TspError::Unavailable(_) => "tsa-unavailable",
            TspError::Rejected { .. } => "tsa-rejected",
            TspError::InvalidResponse(_) => "tsa-invalid-response",
            TspError::Malformed(_) => "timestamp-malformed",
            TspError::ImprintMismatch => "timestamp-imprint-mismatch",
            TspError::BadEku(_) => "timestamp-bad-eku",
            TspError::Cms(e) => e.code(),
            TspError::Config(_) => "tsa-config",
            TspError::Sign(e) => e.code(),
            TspError::Server(_) => "tsa-server",
            TspError::Untrusted(_) => "tsa-untrusted",
        }
    }

    /// Turn a token-level failure into the client's `tsa-invalid-response`.
    pub(crate) fn into_invalid_response(self) -> TspError {
        match self {
            TspError::InvalidResponse(_) | TspError::Rejected { .. } | TspError::Unavailable(_) => self,
            other => TspError::InvalidResponse(format!("{other} [{}]", other.code())),
        }
    }
}
