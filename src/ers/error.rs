//! Errors of the evidence-record area, each with a stable reason code.

/// What went wrong while building, renewing, reading or verifying an evidence record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErsError {
    /// The bytes are not a well-formed DER `EvidenceRecord` (or token) this module can read.
    #[error("malformed evidence record: {0}")]
    Malformed(String),
    /// A digest algorithm other than SHA-256/384/512.
    #[error("unsupported digest algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// The caller passed unusable input (no leaves, digest of the wrong length, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The document's hash is not what the first archive timestamp covers.
    #[error("the evidence record does not cover this document: {0}")]
    DigestMismatch(String),
    /// A later archive timestamp or chain does not cover its predecessor.
    #[error("evidence chain broken: {0}")]
    ChainBroken(String),
    /// A timestamp token is not valid (signature, TSA path, time).
    #[error("timestamp {index} invalid: {reason}")]
    TimestampInvalid { index: usize, reason: String },
    /// The timestamp authority failed or answered with a token for something else.
    #[error("timestamping failed: {0}")]
    Stamper(String),
}

impl ErsError {
    pub fn code(&self) -> &'static str {
        match self {
            ErsError::Malformed(_) => "ers-malformed",
            ErsError::UnsupportedAlgorithm(_) => "ers-unsupported-algorithm",
            ErsError::InvalidInput(_) => "ers-invalid-input",
            ErsError::DigestMismatch(_) => "ers-digest-mismatch",
            ErsError::ChainBroken(_) => "ers-chain-broken",
            ErsError::TimestampInvalid { .. } => "ers-timestamp-invalid",
            ErsError::Stamper(_) => "ers-stamper-failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_prefixed() {
        let all = [
            ErsError::Malformed(String::new()),
            ErsError::UnsupportedAlgorithm(String::new()),
            ErsError::InvalidInput(String::new()),
            ErsError::DigestMismatch(String::new()),
            ErsError::ChainBroken(String::new()),
            ErsError::TimestampInvalid {
                index: 0,
                reason: String::new(),
            },
            ErsError::Stamper(String::new()),
        ];
        let mut codes: Vec<_> = all.iter().map(|e| e.code()).collect();
        assert!(codes.iter().all(|c| c.starts_with("ers-")));
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
