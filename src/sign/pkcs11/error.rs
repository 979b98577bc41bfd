//! What can go wrong with a token, each with the stable reason code the README lists. Setup
//! errors (module, token, PIN, key, mechanism, certificate) stop a run before anything is
//! written; `Removed` and `PinLocked` met in the middle of a batch fail the rest of it.

use cryptoki::error::{Error as CkError, RvError};

/// A PKCS#11 failure. Messages name tokens and keys, never a PIN.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("cannot load the PKCS#11 module {path}: {message}")]
    Module { path: String, message: String },
    #[error("no token {wanted} (tokens present: {present})", present = list_or_none(present))]
    TokenNotFound { wanted: String, present: Vec<String> },
    #[error("token {token}: the PIN is incorrect{note}", note = note_text(note))]
    PinIncorrect { token: String, note: Option<PinNote> },
    #[error("token {token}: the user PIN is locked{note}", note = note_text(note))]
    PinLocked { token: String, note: Option<PinNote> },
    #[error("token {token}: no private key {wanted} (keys present: {present})", present = list_or_none(present))]
    KeyNotFound { token: String, wanted: String, present: Vec<String> },
    #[error("token {token}: {detail}")]
    MechanismUnsupported { token: String, detail: String },
    #[error("token {token}: {detail}")]
    CertificateMismatch { token: String, detail: String },
    #[error("token {token}: no certificate for key {key} on the token; give `chain = \"chain.pem\"` in the signer's section")]
    CertificateNotFound { token: String, key: String },
    #[error("token {token} was removed, reset or logged out ({detail}); documents after it were not signed: reconnect it and run again")]
    Removed { token: String, detail: String },
    #[error("token {token}: {operation} failed: {detail}")]
    Failed { token: String, operation: &'static str, detail: String },
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// What the token tells of its PIN retry counter, or when the lock happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinNote {
    /// The wrong PIN just given locked it.
    LockedNow,
    FinalTry,
    CountLow,
    /// Locked before this run; no PIN was tried.
    LockedBefore,
    Expired,
}

impl PinNote {
    /// The i18n key under `pkcs11.note.`.
    pub fn key(self) -> &'static str {
        match self {
            PinNote::LockedNow => "locked-now",
            PinNote::FinalTry => "final-try",
            PinNote::CountLow => "count-low",
            PinNote::LockedBefore => "locked-before",
            PinNote::Expired => "expired",
        }
    }

    fn english(self) -> &'static str {
        match self {
            PinNote::LockedNow => "this wrong PIN made the token lock it",
            PinNote::FinalTry => "ONE try left before the token locks the PIN",
            PinNote::CountLow => "few tries left before the token locks the PIN",
            PinNote::LockedBefore => "locked before this run; no PIN was tried",
            PinNote::Expired => "the PIN has expired and must be changed",
        }
    }
}

fn note_text(n: &Option<PinNote>) -> String {
    n.map(|t| format!(" ({})", t.english())).unwrap_or_default()
}

impl TokenError {
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Module { .. } => "pkcs11-module",
            TokenError::TokenNotFound { .. } => "token-not-found",
            TokenError::PinIncorrect { .. } => "pin-incorrect",
            TokenError::PinLocked { .. } => "pin-locked",
            TokenError::KeyNotFound { .. } => "key-not-found",
            TokenError::MechanismUnsupported { .. } => "mechanism-unsupported",
            TokenError::CertificateMismatch { .. } => "certificate-mismatch",
            TokenError::CertificateNotFound { .. } => "certificate-not-found",
            TokenError::Removed { .. } => "token-removed",
            TokenError::Failed { .. } => "token-error",
        }
    }

    /// The values a translated message (`pkcs11.<code>` in i18n) fills in.
    pub fn message_args(&self) -> Vec<(&'static str, String)> {
        match self {
            TokenError::Module { path, message } => vec![("path", path.clone()), ("message", message.clone())],
            TokenError::TokenNotFound { wanted, present } => {
                vec![("wanted", wanted.clone()), ("present", list_or_none(present))]
            }
            TokenError::PinIncorrect { token, .. } | TokenError::PinLocked { token, .. } => vec![("token", token.clone())],
            TokenError::KeyNotFound { token, wanted, present } => vec![
                ("token", token.clone()),
                ("wanted", wanted.clone()),
                ("present", list_or_none(present)),
            ],
            TokenError::MechanismUnsupported { token, detail }
            | TokenError::CertificateMismatch { token, detail }
            | TokenError::Removed { token, detail } => vec![("token", token.clone()), ("detail", detail.clone())],
            TokenError::CertificateNotFound { token, key } => vec![("token", token.clone()), ("key", key.clone())],
            TokenError::Failed { token, operation, detail } => vec![
                ("token", token.clone()),
                ("operation", operation.to_string()),
                ("detail", detail.clone()),
            ],
        }
    }

    /// The note on the PIN's retry counter, for a translated message.
    pub fn pin_note(&self) -> Option<PinNote> {
        match self {
            TokenError::PinIncorrect { note, .. } | TokenError::PinLocked { note, .. } => *note,
            _ => None,
        }
    }

    /// True when every later operation on this token would fail the same way, so the rest of a
    /// batch fails at once with this error instead of asking the token again.
    pub fn ends_the_run(&self) -> bool {
        matches!(
            self,
            TokenError::Removed { .. }
                | TokenError::PinLocked { .. }
                | TokenError::MechanismUnsupported { .. }
                | TokenError::KeyNotFound { .. }
        )
    }

    /// Classify what the module returned for `operation` on `token`.
    pub(crate) fn from_cryptoki(token: &str, operation: &'static str, e: CkError) -> TokenError {
        let token = token.to_string();
        let CkError::Pkcs11(rv, _) = &e else {
            return TokenError::Failed { token, operation, detail: e.to_string() };
        };
        let detail = format!("{operation}: {}", rv_name(*rv));
        match rv {
            RvError::DeviceRemoved
            | RvError::TokenNotPresent
            | RvError::TokenNotRecognized
            | RvError::DeviceError
            | RvError::SessionClosed
            | RvError::SessionHandleInvalid
            | RvError::SessionCount
            | RvError::UserNotLoggedIn
            | RvError::CryptokiNotInitialized
            // The key found at setup is gone: the token was replaced or emptied under the run.
            | RvError::KeyHandleInvalid
            | RvError::ObjectHandleInvalid => TokenError::Removed { token, detail },
            RvError::PinLocked => TokenError::PinLocked { token, note: None },
            RvError::PinExpired => TokenError::PinLocked { token, note: Some(PinNote::Expired) },
            RvError::PinIncorrect => TokenError::PinIncorrect { token, note: None },
            RvError::MechanismInvalid
            | RvError::MechanismParamInvalid
            | RvError::KeyTypeInconsistent
            | RvError::KeyFunctionNotPermitted
            | RvError::KeySizeRange => TokenError::MechanismUnsupported {
                token,
                detail: format!("the token refuses this signature mechanism for the key ({detail})"),
            },
            _ => TokenError::Failed { token, operation, detail: rv_name(*rv) },
        }
    }
}

/// The CKR_ name of a return value (its Display is a paragraph of the specification).
fn rv_name(rv: RvError) -> String {
    let debug = format!("{rv:?}");
    let mut name = String::from("CKR");
    for c in debug.chars() {
        if c.is_ascii_uppercase() {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryptoki::context::Function;

    #[test]
    fn return_values_map_to_the_documented_codes() {
        let code = |rv| TokenError::from_cryptoki("t", "C_Sign", CkError::Pkcs11(rv, Function::Sign)).code();
        assert_eq!(code(RvError::DeviceRemoved), "token-removed");
        assert_eq!(code(RvError::TokenNotPresent), "token-removed");
        assert_eq!(code(RvError::SessionHandleInvalid), "token-removed");
        assert_eq!(code(RvError::UserNotLoggedIn), "token-removed");
        assert_eq!(code(RvError::PinLocked), "pin-locked");
        assert_eq!(code(RvError::PinIncorrect), "pin-incorrect");
        assert_eq!(code(RvError::MechanismInvalid), "mechanism-unsupported");
        assert_eq!(code(RvError::KeyHandleInvalid), "token-removed");
        assert_eq!(code(RvError::FunctionFailed), "token-error");
        let e = TokenError::from_cryptoki("t", "C_Sign", CkError::Pkcs11(RvError::DeviceRemoved, Function::Sign));
        assert!(e.ends_the_run());
        assert!(e.to_string().contains("CKR_DEVICE_REMOVED"), "{e}");
        assert!(!TokenError::Failed { token: "t".into(), operation: "C_Sign", detail: String::new() }.ends_the_run());
    }

    #[test]
    fn lists_name_what_is_present() {
        let e = TokenError::TokenNotFound { wanted: "label \"a\"".into(), present: vec!["b".into(), "c".into()] };
        assert!(e.to_string().contains("b, c"), "{e}");
        let e = TokenError::KeyNotFound { token: "t".into(), wanted: "x".into(), present: vec![] };
        assert!(e.to_string().contains("none"), "{e}");
    }
}
