//! CMS SignedData for PAdES signatures and RFC 3161 tokens: building a detached signature over
//! a digest (signed attributes content-type, message-digest, ESS signing-certificate-v2; never
//! signingTime), adding a signature timestamp as unsigned attribute, and parsing/verifying any
//! SignedData a PDF may carry. Knows nothing about PDFs; trust paths live in `pki`.

mod algorithm;
mod attributes;
mod build;
pub(crate) mod der;
mod embed;
mod ess;
pub mod oids;
mod parse;
mod verify;

pub use algorithm::SignatureScheme;
pub use attributes::pades_signed_attributes;
pub use build::{encode_signed_data, sign_detached, Encapsulated, PendingSignature, SignedDataParts};
pub use der::MAX_DER_BYTES;
pub use embed::add_signature_timestamp;
pub use ess::EssBinding;
pub use parse::{parse_signed_data, ParsedAttribute, ParsedSignedData, SignerIdentifier};
pub use verify::SignerCheck;

#[allow(unused_imports)]
pub(crate) use attributes::signed_attributes;
#[allow(unused_imports)]
pub(crate) use build::sign_encapsulated;

use crate::sign::SignError;

/// Errors of CMS building, parsing and verification.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CmsError {
    #[error("malformed CMS: {0}")]
    Malformed(String),
    #[error("CMS structure of {size} bytes exceeds the limit of {max}")]
    TooLarge { size: usize, max: usize },
    #[error("unsupported in CMS: {0}")]
    Unsupported(String),
    #[error("signed attribute {0} is missing")]
    MissingAttribute(&'static str),
    #[error("the message-digest attribute does not match the signed content")]
    DigestMismatch,
    #[error("the content-type attribute does not match the encapsulated content type")]
    ContentTypeMismatch,
    #[error("the signer's certificate is not in the CMS")]
    SignerNotFound,
    #[error("the signature does not verify with the signer's certificate")]
    BadSignature,
    #[error("the ESS signing-certificate attribute does not name the signer's certificate")]
    EssMismatch,
    #[error("cannot encode CMS: {0}")]
    Encode(String),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error("OpenSSL: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}

impl CmsError {
    pub fn code(&self) -> &'static str {
        match self {
            CmsError::Malformed(_) => "cms-malformed",
            CmsError::TooLarge { .. } => "cms-too-large",
            CmsError::Unsupported(_) => "cms-unsupported",
            CmsError::MissingAttribute(_) => "cms-missing-attribute",
            CmsError::DigestMismatch => "cms-digest-mismatch",
            CmsError::ContentTypeMismatch => "cms-content-type-mismatch",
            CmsError::SignerNotFound => "cms-signer-not-found",
            CmsError::BadSignature => "cms-bad-signature",
            CmsError::EssMismatch => "cms-ess-mismatch",
            CmsError::Encode(_) => "cms-encode",
            CmsError::Sign(e) => e.code(),
            CmsError::Crypto(_) => "cms-crypto",
        }
    }
}
