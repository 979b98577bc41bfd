//! Why a scan cannot be inspected, each reason with its stable report code.

/// Errors of scan inspection and the integrity pass.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    #[error("the file is empty")]
    Empty,
    #[error("unsupported format: {reason}")]
    Unsupported { reason: String },
    #[error("unreadable: {reason}")]
    Unreadable { reason: String },
    #[error("too large: {reason}")]
    TooLarge { reason: String },
    #[error("cannot read the file: {reason}")]
    Io { reason: String },
}

impl ScanError {
    /// Stable reason code for reports.
    pub fn code(&self) -> &'static str {
        match self {
            ScanError::Empty => "empty-file",
            ScanError::Unsupported { .. } => "unsupported-format",
            ScanError::Unreadable { .. } | ScanError::Io { .. } => "unreadable",
            ScanError::TooLarge { .. } => "too-large",
        }
    }

    pub(crate) fn unreadable(reason: impl Into<String>) -> Self {
        ScanError::Unreadable { reason: reason.into() }
    }

    pub(crate) fn unsupported(reason: impl Into<String>) -> Self {
        ScanError::Unsupported { reason: reason.into() }
    }

    /// A read past the end of the data: the file is truncated or a length field lies.
    pub(crate) fn truncated(what: &str) -> Self {
        ScanError::Unreadable {
            reason: format!("truncated or corrupt: {what} runs past the end of the data"),
        }
    }
}
