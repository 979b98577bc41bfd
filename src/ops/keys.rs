//! `hozon keys list`: the tokens a PKCS#11 module sees, their keys and certificates (subject,
//! issuer, validity, key usage, HPKI role), and the `pkcs11 = {…}` line that names each
//! signing key — so records staff can configure a signer without other tools.
//!
//! Without a PIN only public objects show (certificates, public keys; on most tokens private
//! keys are private objects). With one, the named token is logged in for the listing only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use openssl::x509::X509;
use serde::Serialize;

use crate::clock::rfc3339;
use crate::pki;
use crate::sign::pkcs11::{self, module, objects, KeyObject, PresentToken, TokenContents};
use crate::sign::{Secret, SignError, TokenError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeysError {
    #[error("no PKCS#11 module: give --module PATH (e.g. /usr/lib/softhsm/libsofthsm2.so) or configure a [signers.NAME] pkcs11 section")]
    NoModule,
    #[error("a PIN logs in to one token: name it with --token LABEL ({count} tokens are present)")]
    PinNeedsToken { count: usize },
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Sign(#[from] SignError),
}

impl KeysError {
    pub fn code(&self) -> &'static str {
        match self {
            KeysError::NoModule | KeysError::PinNeedsToken { .. } => "usage",
            KeysError::Token(e) => e.code(),
            KeysError::Sign(e) => e.code(),
        }
    }
}

/// What to list.
pub struct KeysOptions {
    /// PKCS#11 modules to ask (each listed in turn).
    pub modules: Vec<PathBuf>,
    /// Only the token with this label.
    pub token: Option<String>,
    /// User PIN of that token (from a file or the environment; never argv).
    pub pin: Option<Secret>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeysReport {
    pub modules: Vec<ModuleReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleReport {
    pub module: PathBuf,
    /// Manufacturer and description the library gives of itself.
    pub library: String,
    pub tokens: Vec<TokenReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenReport {
    pub slot: u64,
    pub label: String,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    /// `ok`, `count-low`, `final-try` or `locked`: what the token says of its user PIN.
    pub pin_status: &'static str,
    /// Whether private keys were visible for this listing.
    pub logged_in: bool,
    /// Objects grouped by CKA_ID (else label): a key pair with its certificate is one entry.
    pub keys: Vec<KeyReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyReport {
    pub label: String,
    /// CKA_ID in hex (`key_id` in the config).
    pub id: String,
    /// "RSA 2048", "EC P-256", or empty when only a certificate is there.
    pub kind: String,
    /// `yes` (a private key that may sign), `no-sign` (one that may not), `absent`, or
    /// `unknown` (not logged in: private keys are not visible).
    pub private_key: &'static str,
    pub certificate: Option<CertificateReport>,
    /// The `pkcs11 = {…}` value naming this key, when it can sign (or may, once logged in).
    pub config: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertificateReport {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub key_usage: Vec<&'static str>,
    /// HPKI role (ISO 17090 hcRole), e.g. "Pharmacist".
    pub hc_role: Option<String>,
    /// A CA certificate (a chain certificate on the token, not a signer).
    pub ca: bool,
    /// The certified key: "RSA 2048", "EC P-256".
    pub key: String,
}

/// List every module's tokens.
pub fn list(opts: KeysOptions) -> Result<KeysReport, KeysError> {
    if opts.modules.is_empty() {
        return Err(KeysError::NoModule);
    }
    let mut pin = opts.pin;
    let mut modules = Vec::new();
    for path in &opts.modules {
        let ctx = module::load(path)?;
        let library = ctx
            .get_library_info()
            .map(|i| format!("{} {}", i.manufacturer_id().trim(), i.library_description().trim()))
            .unwrap_or_default();
        let mut present = module::tokens(&ctx, path)?;
        if let Some(label) = &opts.token {
            present.retain(|t| t.info.label().trim() == label.trim());
            if present.is_empty() {
                // The same error, with the same list, as a signer naming a missing token.
                module::find(&ctx, path, &module::TokenSelector::Label(label.clone()))?;
            }
        }
        if pin.is_some() && present.len() > 1 {
            return Err(KeysError::PinNeedsToken { count: present.len() });
        }
        let mut tokens = Vec::with_capacity(present.len());
        for t in &present {
            let contents = pkcs11::read_token(&ctx, t, pin.take())?;
            tokens.push(token_report(path, &contents));
        }
        modules.push(ModuleReport { module: path.clone(), library, tokens });
    }
    Ok(KeysReport { modules })
}

fn pin_status(t: &PresentToken) -> &'static str {
    if t.info.user_pin_locked() {
        "locked"
    } else if t.info.user_pin_final_try() {
        "final-try"
    } else if t.info.user_pin_count_low() {
        "count-low"
    } else {
        "ok"
    }
}

#[derive(Default)]
struct Group<'a> {
    private: Option<&'a KeyObject>,
    public: Option<&'a KeyObject>,
    cert: Option<(&'a objects::CertObject, X509)>,
}

fn token_report(module: &Path, c: &TokenContents) -> TokenReport {
    // Objects of one key pair share CKA_ID (PKCS#11 §4.4); label is the fallback.
    let group_of = |label: &str, id: &[u8]| {
        if id.is_empty() {
            format!("label:{label}")
        } else {
            format!("id:{}", hex::encode(id))
        }
    };
    let mut groups: BTreeMap<String, Group<'_>> = BTreeMap::new();
    for k in &c.private_keys {
        groups.entry(group_of(&k.label, &k.id)).or_default().private = Some(k);
    }
    for k in &c.public_keys {
        groups.entry(group_of(&k.label, &k.id)).or_default().public = Some(k);
    }
    for cert in &c.certificates {
        if let Ok(x) = X509::from_der(&cert.der) {
            groups.entry(group_of(&cert.label, &cert.id)).or_default().cert = Some((cert, x));
        }
    }
    let token_label = c.token.info.label().trim().to_string();
    let keys = groups
        .into_values()
        .map(|g| {
            let (label, id) = g
                .private
                .or(g.public)
                .map(|k| (k.label.clone(), k.id.clone()))
                .or_else(|| g.cert.as_ref().map(|(c, _)| (c.label.clone(), c.id.clone())))
                .unwrap_or_default();
            let certificate = g.cert.as_ref().map(|(_, x)| certificate_report(x));
            let kind = g
                .private
                .or(g.public)
                .map(KeyObject::kind)
                .or_else(|| certificate.as_ref().map(|c| c.key.clone()))
                .unwrap_or_default();
            let is_ca = certificate.as_ref().is_some_and(|c| c.ca);
            let private_key = match g.private {
                Some(k) if k.usable => "yes",
                Some(_) => "no-sign",
                None if c.logged_in => "absent",
                None => "unknown",
            };
            let may_sign = private_key == "yes" || (private_key == "unknown" && !is_ca);
            let config = may_sign.then(|| config_line(module, &token_label, &label, &id));
            KeyReport { label, id: hex::encode(&id), kind, private_key, certificate, config }
        })
        .collect();
    TokenReport {
        slot: c.token.slot.id(),
        label: token_label,
        manufacturer: c.token.info.manufacturer_id().trim().to_string(),
        model: c.token.info.model().trim().to_string(),
        serial: c.token.info.serial_number().trim().to_string(),
        pin_status: pin_status(&c.token),
        logged_in: c.logged_in,
        keys,
    }
}

fn certificate_report(x: &X509) -> CertificateReport {
    let time = |t: &openssl::asn1::Asn1TimeRef| pki::asn1_time::to_offset(t).map(rfc3339).unwrap_or_else(|_| t.to_string());
    CertificateReport {
        subject: pki::subject_line(x),
        issuer: pki::name_line(x.issuer_name()),
        serial: pki::serial_hex(x),
        not_before: time(x.not_before()),
        not_after: time(x.not_after()),
        key_usage: pki::extensions::key_usage(x).ok().flatten().map(|k| k.names()).unwrap_or_default(),
        hc_role: pki::hc_role(x),
        ca: pki::extensions::key_usage(x).ok().flatten().is_some_and(|k| k.key_cert_sign),
        key: x.public_key().map(|k| objects::public_key_kind(&k)).unwrap_or_default(),
    }
}

/// The TOML value naming this key, in the form `[signers.NAME] pkcs11 = …` takes.
fn config_line(module: &Path, token: &str, label: &str, id: &[u8]) -> String {
    let key = if !id.is_empty() {
        format!("key_id = \"{}\"", hex::encode(id))
    } else {
        format!("key = {}", toml_string(label))
    };
    format!(
        "{{ module = {}, token = {}, {key}, pin_env = \"HOZON_PIN\" }}",
        toml_string(&module.display().to_string()),
        toml_string(token)
    )
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_lines_parse_as_the_signer_section_wants() {
        let line = config_line(Path::new("/usr/lib/softhsm/libsofthsm2.so"), "病院 \"HSM\"", "鍵", &[0xab, 1]);
        let text = format!(
            "[tsa]\nurl = \"builtin:demo\"\n[profiles.chart]\n[signers.s]\npkcs11 = {line}\n"
        );
        let cfg = crate::config::Config::from_toml(&text, Path::new("h.toml"), Path::new("/")).unwrap();
        let p = cfg.signers["s"].pkcs11.as_ref().unwrap();
        assert_eq!(p.token.as_deref(), Some("病院 \"HSM\""));
        assert_eq!(p.key_id.as_deref(), Some("ab01"));
        assert_eq!(p.pin_env.as_deref(), Some("HOZON_PIN"));
        assert!(config_line(Path::new("/m.so"), "t", "label", &[]).contains("key = \"label\""));
    }
}
