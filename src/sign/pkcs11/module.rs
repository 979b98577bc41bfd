//! Loading a vendor's PKCS#11 module and finding its tokens. A module is initialised once per
//! process (a second C_Initialize is an error in PKCS#11) and kept: the signer and `hozon keys
//! list` share it, and the library is never finalised under a session still in use.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::slot::{Slot, TokenInfo};

use super::TokenError;

/// The initialised module at `path`, loading it on first use.
pub fn load(path: &Path) -> Result<Pkcs11, TokenError> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut modules = MODULES.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(m) = modules.get(path) {
        return Ok(m.clone());
    }
    let failed = |message: String| TokenError::Module { path: path.display().to_string(), message };
    if !path.is_file() {
        return Err(failed("no such file (install the vendor's PKCS#11 library or correct `module`)".into()));
    }
    let ctx = Pkcs11::new(path).map_err(|e| failed(e.to_string()))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(failed(format!("C_Initialize: {e}"))),
    }
    modules.insert(path.to_path_buf(), ctx.clone());
    Ok(ctx)
}

/// Which token a signer names: by label or by slot number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSelector {
    Label(String),
    Slot(u64),
}

impl std::fmt::Display for TokenSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSelector::Label(l) => write!(f, "\"{l}\""),
            TokenSelector::Slot(s) => write!(f, "in slot {s}"),
        }
    }
}

/// A slot with a token in it.
#[derive(Debug, Clone)]
pub struct PresentToken {
    pub slot: Slot,
    pub info: TokenInfo,
}

impl PresentToken {
    /// How messages name the token: its label, or its slot when it has none.
    pub fn name(&self) -> String {
        let label = self.info.label().trim();
        if label.is_empty() {
            format!("slot {}", self.slot.id())
        } else {
            format!("\"{label}\"")
        }
    }
}

/// Every slot that holds an initialised token.
pub fn tokens(ctx: &Pkcs11, module: &Path) -> Result<Vec<PresentToken>, TokenError> {
    let module_error = |e: CkError| TokenError::Module { path: module.display().to_string(), message: e.to_string() };
    let slots = ctx.get_slots_with_token().map_err(module_error)?;
    let mut out = Vec::with_capacity(slots.len());
    for slot in slots {
        // A reader whose card went away between the two calls is simply not listed.
        if let Ok(info) = ctx.get_token_info(slot) {
            if info.token_initialized() {
                out.push(PresentToken { slot, info });
            }
        }
    }
    Ok(out)
}

/// The one token `want` names, or `token-not-found` listing what is there.
pub fn find(ctx: &Pkcs11, module: &Path, want: &TokenSelector) -> Result<PresentToken, TokenError> {
    let present = tokens(ctx, module)?;
    let found = present.iter().find(|t| match want {
        TokenSelector::Label(l) => t.info.label().trim() == l.trim(),
        TokenSelector::Slot(s) => t.slot.id() == *s,
    });
    match found {
        Some(t) => Ok(t.clone()),
        None => Err(TokenError::TokenNotFound {
            wanted: want.to_string(),
            present: present
                .iter()
                .map(|t| format!("\"{}\" (slot {})", t.info.label().trim(), t.slot.id()))
                .collect(),
        }),
    }
}
