//! Verdicts and reason codes: what `hozon verify` says about a file and why. Codes are stable
//! (scripts and the JSON report use them); messages are for people.

use serde::Serialize;

/// The overall answer for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Valid,
    Indeterminate,
    Invalid,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Indeterminate => "indeterminate",
            Verdict::Invalid => "invalid",
        }
    }
}

/// Why a file is not simply valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Code {
    /// The message digest does not match the bytes the /ByteRange covers.
    DigestMismatch,
    /// The CMS signature or its signing-certificate binding does not verify.
    BadSignature,
    /// No path from the signer to a trusted root.
    UntrustedChain,
    /// The signer (or a CA of its path) was revoked before the time the signature is proven.
    Revoked,
    /// The signer's certificate has expired and no usable timestamp proves an earlier time.
    ExpiredNoTimestamp,
    /// The signer's certificate had expired (or was not yet valid) even at the proven time.
    CertificateTime,
    /// The signer's certificate may not sign documents (keyUsage / extendedKeyUsage).
    BadKeyUsage,
    /// A signature or document timestamp fails its own checks (imprint, signature, EKU, TSA path).
    TimestampInvalid,
    /// A later revision changed more than validation data, signatures or document timestamps.
    ModifiedAfterSigning,
    /// The file carries no signature.
    NotSigned,
    /// The file or a signature container cannot be read safely.
    Malformed,
    /// The file's SHA-256 is not the one the archive catalog recorded.
    CatalogMismatch,
    /// Revocation status needed but not available (indeterminate).
    RevocationUnknown,
    /// A signature format or algorithm hozon does not evaluate (indeterminate).
    Unsupported,
    /// The RFC 4998 evidence record cannot be read (truncated, not DER, encrypted content).
    ErsMalformed,
    /// The evidence record uses a hash algorithm hozon does not evaluate (indeterminate).
    ErsUnsupported,
    /// The evidence record does not cover this file: the file was altered, or the record
    /// belongs to another file.
    ErsDigestMismatch,
    /// A later archive timestamp or hash-tree renewal does not cover its predecessor.
    ErsChainBroken,
    /// A timestamp of the evidence record fails its checks or its TSA was not trusted and valid
    /// when the next one was made (the newest: at the validation time).
    ErsTimestampInvalid,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::DigestMismatch => "digest-mismatch",
            Code::BadSignature => "bad-signature",
            Code::UntrustedChain => "untrusted-chain",
            Code::Revoked => "revoked",
            Code::ExpiredNoTimestamp => "expired-no-timestamp",
            Code::CertificateTime => "certificate-not-valid-at-proven-time",
            Code::BadKeyUsage => "bad-key-usage",
            Code::TimestampInvalid => "timestamp-invalid",
            Code::ModifiedAfterSigning => "modified-after-signing",
            Code::NotSigned => "not-signed",
            Code::Malformed => "malformed",
            Code::CatalogMismatch => "catalog-mismatch",
            Code::RevocationUnknown => "revocation-unknown",
            Code::Unsupported => "unsupported",
            Code::ErsMalformed => "ers-malformed",
            Code::ErsUnsupported => "ers-unsupported-algorithm",
            Code::ErsDigestMismatch => "ers-digest-mismatch",
            Code::ErsChainBroken => "ers-chain-broken",
            Code::ErsTimestampInvalid => "ers-timestamp-invalid",
        }
    }

    /// What the code makes of the file's verdict.
    pub fn verdict(self) -> Verdict {
        match self {
            Code::RevocationUnknown | Code::Unsupported | Code::ErsUnsupported => Verdict::Indeterminate,
            _ => Verdict::Invalid,
        }
    }
}

impl From<&crate::ers::ErsError> for Code {
    /// The verify code for an evidence-record failure (same text as the error's own code, so
    /// the report and `hozon renew` speak alike).
    fn from(e: &crate::ers::ErsError) -> Code {
        use crate::ers::ErsError as E;
        match e {
            E::UnsupportedAlgorithm(_) => Code::ErsUnsupported,
            E::DigestMismatch(_) => Code::ErsDigestMismatch,
            E::ChainBroken(_) => Code::ErsChainBroken,
            E::TimestampInvalid { .. } | E::Stamper(_) => Code::ErsTimestampInvalid,
            _ => Code::ErsMalformed,
        }
    }
}

/// One reason with its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    #[serde(serialize_with = "code_str")]
    pub code: Code,
    pub message: String,
}

fn code_str<S: serde::Serializer>(c: &Code, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.as_str())
}

impl Reason {
    pub fn new(code: Code, message: impl Into<String>) -> Reason {
        Reason {
            code,
            message: message.into(),
        }
    }
}

/// The verdict the reasons add up to: any invalid reason wins, then any indeterminate one.
pub fn verdict_of(reasons: &[Reason]) -> Verdict {
    reasons.iter().map(|r| r.code.verdict()).max().unwrap_or(Verdict::Valid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_beats_indeterminate_beats_valid() {
        assert_eq!(verdict_of(&[]), Verdict::Valid);
        let unknown = Reason::new(Code::RevocationUnknown, "x");
        let bad = Reason::new(Code::Revoked, "y");
        assert_eq!(verdict_of(&[unknown.clone()]), Verdict::Indeterminate);
        assert_eq!(verdict_of(&[unknown, bad]), Verdict::Invalid);
    }

    #[test]
    fn json_carries_the_code_text() {
        let j = serde_json::to_value(Reason::new(Code::CatalogMismatch, "差し替え")).unwrap();
        assert_eq!(j["code"], "catalog-mismatch");
        assert_eq!(j["message"], "差し替え");
    }
}
