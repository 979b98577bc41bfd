//! The PDF layer's error type: one enum, each variant with a stable reason code.

use thiserror::Error;

/// Everything that can go wrong while building, signing or reading a PDF.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PdfError {
    /// The input is not a PDF we can read safely (syntax, structure, limits, cycles).
    #[error("malformed PDF: {0}")]
    Malformed(String),
    /// A configured safety limit was hit (nesting, xref size, inflated size).
    #[error("PDF exceeds a safety limit: {0}")]
    Limit(String),
    /// A signature's /ByteRange is not the single gap around its /Contents.
    #[error("bad /ByteRange: {0}")]
    BadByteRange(String),
    /// The CMS does not fit in the reserved /Contents room; prepare again with more.
    #[error("signature container needs {needed} bytes but only {room} are reserved")]
    TooSmall { needed: usize, room: usize },
    /// An image we cannot embed (format, bit depth, colour model).
    #[error("unsupported image: {0}")]
    UnsupportedImage(String),
    /// An image that fails to decode.
    #[error("invalid image: {0}")]
    InvalidImage(String),
    /// The request itself is unusable (no pages, empty custom key, ...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Encrypted PDFs cannot be signed or read here.
    #[error("encrypted PDFs are not supported")]
    Encrypted,
}

impl PdfError {
    /// Stable reason code for reports and logs.
    pub fn code(&self) -> &'static str {
        match self {
            PdfError::Malformed(_) => "malformed",
            PdfError::Limit(_) => "limit-exceeded",
            PdfError::BadByteRange(_) => "bad-byterange",
            PdfError::TooSmall { .. } => "signature-too-small",
            PdfError::UnsupportedImage(_) => "unsupported-image",
            PdfError::InvalidImage(_) => "invalid-image",
            PdfError::InvalidRequest(_) => "invalid-request",
            PdfError::Encrypted => "encrypted",
        }
    }
}

/// Shorthand for a `Malformed` error.
pub(crate) fn malformed(msg: impl Into<String>) -> PdfError {
    PdfError::Malformed(msg.into())
}
