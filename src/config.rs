//! Configuration: `config/hozon.toml`, found via `--config`, `HOZON_CONFIG` or `./config/hozon.toml`.
//! Every section rejects unknown keys so a typo is an error, not a silently ignored setting.
//! Relative paths inside the file are resolved against the file's own folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Environment variable naming the config file.
pub const CONFIG_ENV: &str = "HOZON_CONFIG";
/// Where the config is looked for when neither `--config` nor `HOZON_CONFIG` is given.
pub const DEFAULT_CONFIG_PATH: &str = "config/hozon.toml";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("no configuration file: {path} does not exist (use --config FILE or set HOZON_CONFIG)")]
    NotFound { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: tsa.url {url:?} is plain http:// but [tsa] sets {what}: credentials go only over TLS (https://)")]
    CredentialsOverHttp {
        path: PathBuf,
        url: String,
        /// `username` and/or `client_pkcs12`.
        what: String,
    },
}

impl ConfigError {
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::CredentialsOverHttp { .. } => "credentials-over-http",
            _ => "config-invalid",
        }
    }
}

/// Colour modes a page may have. Names are what the config and reports use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ColorMode {
    /// 1-bit black and white.
    Bilevel,
    /// 8-bit grey (also 2/4-bit grey is reported as `gray` with its depth).
    Gray8,
    Gray16,
    Rgb8,
    Rgb16,
    Cmyk8,
    /// Palette images (PNG colour type 3, TIFF palette).
    Indexed,
}

impl ColorMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ColorMode::Bilevel => "bilevel",
            ColorMode::Gray8 => "gray8",
            ColorMode::Gray16 => "gray16",
            ColorMode::Rgb8 => "rgb8",
            ColorMode::Rgb16 => "rgb16",
            ColorMode::Cmyk8 => "cmyk8",
            ColorMode::Indexed => "indexed",
        }
    }
    /// True for modes that keep 24-bit colour or better.
    pub fn is_full_colour(self) -> bool {
        matches!(self, ColorMode::Rgb8 | ColorMode::Rgb16 | ColorMode::Cmyk8)
    }
}

/// Input formats, sniffed by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FormatName {
    Jpeg,
    Png,
    Tiff,
    Pdf,
}

impl FormatName {
    pub fn as_str(self) -> &'static str {
        match self {
            FormatName::Jpeg => "jpeg",
            FormatName::Png => "png",
            FormatName::Tiff => "tiff",
            FormatName::Pdf => "pdf",
        }
    }
}

/// Whether a profile requires something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Requirement {
    Required,
    Optional,
}

/// PAdES baseline levels that ingest can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    #[serde(rename = "B-B")]
    BB,
    #[serde(rename = "B-T")]
    BT,
    #[serde(rename = "B-LT")]
    BLT,
    #[serde(rename = "B-LTA")]
    BLTA,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::BB => "B-B",
            Level::BT => "B-T",
            Level::BLT => "B-LT",
            Level::BLTA => "B-LTA",
        }
    }
}

/// What to do with a per-encounter scan made later than the profile allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LatePolicy {
    Warn,
    Reject,
}

/// The rules for one kind of document (運用管理規程 in machine form).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Human description (may be Japanese).
    #[serde(default)]
    pub description: String,
    /// Minimum resolution per axis, dots per inch.
    #[serde(default = "default_min_dpi")]
    pub min_dpi: f64,
    /// Allowed colour modes.
    #[serde(default = "default_color_modes")]
    pub color_modes: Vec<ColorMode>,
    /// Accepted input formats.
    #[serde(default = "default_formats")]
    pub formats: Vec<FormatName>,
    /// Maximum pages in one document.
    #[serde(default = "default_max_pages")]
    pub max_pages: usize,
    #[serde(default = "required")]
    pub signature: Requirement,
    #[serde(default = "required")]
    pub timestamp: Requirement,
    /// PAdES level ingest produces.
    #[serde(default = "default_level")]
    pub level: Level,
    /// Retention period in years (counted from the document date).
    #[serde(default = "default_retention")]
    pub retention_years: u32,
    /// Per-encounter rule: business days allowed from document_date to the timestamp (None: no limit).
    #[serde(default)]
    pub scan_within_business_days: Option<u32>,
    #[serde(default = "default_late")]
    pub late_scan: LatePolicy,
    /// Backlog rule: a `plan_id` naming an approved plan is required.
    #[serde(default)]
    pub require_plan: bool,
    /// The sidecar must carry the operator's attestation (no overlaps, nothing outside the scan area).
    #[serde(default)]
    pub require_attestation: bool,
    /// Required hcRole of every signer under this profile (HPKI), if any.
    #[serde(default)]
    pub signer_role: Option<String>,
    /// Required hcRole of the signer of a correction (調剤済み処方箋: "Pharmacist").
    #[serde(default)]
    pub correction_signer_role: Option<String>,
    /// The archive is a reference copy; the paper stays the record (convenience scans).
    #[serde(default)]
    pub reference_copy: bool,
}

fn default_min_dpi() -> f64 {
    300.0
}
fn default_color_modes() -> Vec<ColorMode> {
    vec![ColorMode::Rgb8, ColorMode::Gray8]
}
fn default_formats() -> Vec<FormatName> {
    vec![FormatName::Jpeg, FormatName::Png, FormatName::Tiff, FormatName::Pdf]
}
fn default_max_pages() -> usize {
    1000
}
fn required() -> Requirement {
    Requirement::Required
}
fn default_level() -> Level {
    Level::BLT
}
fn default_retention() -> u32 {
    5
}
fn default_late() -> LatePolicy {
    LatePolicy::Warn
}

impl Profile {
    /// Warnings for settings that lower precision below the guideline's long-standing 300 dpi /
    /// 24-bit colour reference (シQ-67: precision must not be lowered carelessly).
    pub fn precision_warnings(&self, name: &str) -> Vec<String> {
        let mut w = Vec::new();
        if self.min_dpi < 300.0 {
            w.push(format!(
                "profile '{name}': min_dpi = {} is below 300 dpi; make sure the 運用管理規程 justifies it",
                self.min_dpi
            ));
        }
        if !self.color_modes.iter().any(|m| m.is_full_colour()) {
            w.push(format!(
                "profile '{name}': no 24-bit colour mode is allowed (color_modes = {:?}); colour information will be lost",
                self.color_modes.iter().map(|m| m.as_str()).collect::<Vec<_>>()
            ));
        }
        w
    }
}

/// One signer (作業責任者) configured by name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerConfig {
    /// Display name written to the signature's /Name (may be Japanese).
    #[serde(default)]
    pub name: Option<String>,
    /// PKCS#12 file with key and chain.
    #[serde(default)]
    pub pkcs12: Option<PathBuf>,
    /// A key on a PKCS#11 token (HSM, HPKI IC card) instead of a file.
    #[serde(default)]
    pub pkcs11: Option<Pkcs11Config>,
    /// PEM private key (alternative to pkcs12).
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// PEM certificate chain, signer first (with `key`; optional with `pkcs11`, whose
    /// certificates are otherwise read from the token).
    #[serde(default)]
    pub chain: Option<PathBuf>,
    /// Environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the password (must not be readable by group or others).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Signature algorithm for RSA keys: "pkcs1" (default) or "pss".
    #[serde(default)]
    pub rsa_padding: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
}

/// Where a PKCS#11 signer's key lives: `pkcs11 = { module, token | slot, key | key_id,
/// pin_env | pin_file }`. The PIN never comes from the command line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Config {
    /// The vendor's PKCS#11 library, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// Token label (`hozon keys list` shows them).
    #[serde(default)]
    pub token: Option<String>,
    /// Slot number, instead of `token`.
    #[serde(default)]
    pub slot: Option<u64>,
    /// Label of the private key (CKA_LABEL).
    #[serde(default)]
    pub key: Option<String>,
    /// Id of the private key (CKA_ID) in hex, instead of `key`.
    #[serde(default)]
    pub key_id: Option<String>,
    /// Environment variable holding the user PIN.
    #[serde(default)]
    pub pin_env: Option<String>,
    /// File holding the user PIN (must not be readable by group or others).
    #[serde(default)]
    pub pin_file: Option<PathBuf>,
    /// Most sessions open at once (default: one per CPU); workers wait for a free one.
    #[serde(default)]
    pub sessions: Option<usize>,
}

/// Timestamp authority client settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsaConfig {
    /// `builtin:demo` or an http(s) URL.
    pub url: String,
    /// Message imprint hash: sha256, sha384 or sha512.
    #[serde(default = "default_hash")]
    pub hash: String,
    /// Request a specific TSA policy OID.
    #[serde(default)]
    pub policy: Option<String>,
    /// Per-request timeout, seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
    /// Retries after the first attempt (only on transient failures).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// First backoff, milliseconds; doubled on each retry (Retry-After wins when larger).
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    /// Longest wait honoured from a Retry-After header, seconds.
    #[serde(default = "default_max_retry_after")]
    pub max_retry_after_secs: f64,
    /// Total deadline for one timestamp including retries, seconds.
    #[serde(default = "default_deadline")]
    pub deadline_secs: f64,
    /// Largest response accepted, bytes.
    #[serde(default = "default_max_response")]
    pub max_response_bytes: u64,
    /// Requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password_env: Option<String>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// PKCS#12 client certificate for TLS.
    #[serde(default)]
    pub client_pkcs12: Option<PathBuf>,
    /// Extra CA (PEM) trusted for the TSA's TLS certificate.
    #[serde(default)]
    pub tls_ca: Option<PathBuf>,
    /// Certificates (PEM) to trust as TSA roots in addition to `[trust]`.
    #[serde(default)]
    pub trust: Vec<PathBuf>,
}

fn default_hash() -> String {
    "sha256".into()
}
fn default_timeout() -> f64 {
    10.0
}
fn default_retries() -> u32 {
    2
}
fn default_backoff() -> u64 {
    500
}
fn default_max_retry_after() -> f64 {
    30.0
}
fn default_deadline() -> f64 {
    60.0
}
fn default_max_response() -> u64 {
    1 << 20
}
fn default_concurrency() -> usize {
    4
}

/// Trust anchors for verification and for checking signers before signing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustConfig {
    /// PEM files of trusted root certificates.
    #[serde(default)]
    pub roots: Vec<PathBuf>,
    /// PEM files of intermediate certificates that may help build paths (not trusted).
    #[serde(default)]
    pub intermediates: Vec<PathBuf>,
}

/// The demo PKI created on first run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {
    /// Create and use a demo PKI (NOT legally valid).
    #[serde(default)]
    pub enabled: bool,
    /// Folder for the demo PKI's keys and certificates.
    #[serde(default = "default_demo_dir")]
    pub dir: PathBuf,
    /// Base URL written into certificates as CRL distribution point (served by `hozon tsa serve`).
    #[serde(default = "default_demo_base")]
    pub base_url: String,
    /// Demo signer certificate lifetime, days (default 730).
    #[serde(default)]
    pub signer_days: Option<u32>,
    /// Demo TSA certificate lifetime, days (default 3652).
    #[serde(default)]
    pub tsa_days: Option<u32>,
    /// Rotate the demo TSA when fewer days than this are left (default 730).
    #[serde(default)]
    pub tsa_rotate_days: Option<u32>,
}

fn default_demo_dir() -> PathBuf {
    PathBuf::from("../.hozon/demo")
}
fn default_demo_base() -> String {
    "http://127.0.0.1:8318".into()
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            enabled: false,
            dir: default_demo_dir(),
            base_url: default_demo_base(),
            signer_days: None,
            tsa_days: None,
            tsa_rotate_days: None,
        }
    }
}

/// Revocation data fetching.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationConfig {
    /// Fetch CRLs and OCSP over the network at ingest/renew (verify only with --online).
    #[serde(default = "yes")]
    pub fetch: bool,
    #[serde(default = "default_rev_timeout")]
    pub timeout_secs: f64,
    /// All fetches for one file (a document at ingest, a PDF at verify) end after this many
    /// seconds together; they run in parallel.
    #[serde(default = "default_rev_deadline")]
    pub deadline_secs: f64,
    /// Largest CRL or OCSP response accepted, bytes.
    #[serde(default = "default_max_crl")]
    pub max_response_bytes: u64,
    /// Fetch from loopback and private (RFC 1918, unique-local) addresses too, for in-hospital
    /// responders. Link-local and other special addresses are never fetched from.
    #[serde(default)]
    pub allow_private_addresses: bool,
}

fn yes() -> bool {
    true
}
fn default_rev_timeout() -> f64 {
    10.0
}
fn default_rev_deadline() -> f64 {
    20.0
}
fn default_max_crl() -> u64 {
    16 << 20
}

impl Default for RevocationConfig {
    fn default() -> Self {
        RevocationConfig {
            fetch: true,
            timeout_secs: default_rev_timeout(),
            deadline_secs: default_rev_deadline(),
            max_response_bytes: default_max_crl(),
            allow_private_addresses: false,
        }
    }
}

/// Limits that protect memory and time against hostile or broken input.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest pixel count of one page (judged from the header, before any allocation).
    #[serde(default = "default_max_pixels")]
    pub max_pixels: u64,
    /// Largest input file, bytes.
    #[serde(default = "default_max_file")]
    pub max_file_bytes: u64,
    /// Largest PDF hozon will read for verification, bytes.
    #[serde(default = "default_max_pdf")]
    pub max_pdf_bytes: u64,
    /// Memory that inflating scanner PDFs' streams may hold at once in the whole process, bytes,
    /// shared by all workers (`--jobs` cannot multiply it).
    #[serde(default = "default_max_inflate")]
    pub max_inflate_bytes: u64,
}

fn default_max_pixels() -> u64 {
    200_000_000
}
fn default_max_file() -> u64 {
    512 << 20
}
fn default_max_pdf() -> u64 {
    2 << 30
}
fn default_max_inflate() -> u64 {
    crate::pdf::DEFAULT_PROCESS_BUDGET
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: default_max_pixels(),
            max_file_bytes: default_max_file(),
            max_pdf_bytes: default_max_pdf(),
            max_inflate_bytes: default_max_inflate(),
        }
    }
}

/// Renewal (`hozon renew`) settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewConfig {
    /// Renew when the newest timestamp's TSA certificate expires within this many days.
    #[serde(default = "default_within")]
    pub within_days: u32,
    /// Algorithms considered weakening: "sha1", "sha224", "rsa<2048", ...
    #[serde(default = "default_weak")]
    pub weak_algorithms: Vec<String>,
    /// "pades" (document timestamp per file) or "ers" (RFC 4998 evidence records).
    #[serde(default = "default_evidence")]
    pub evidence: String,
}

fn default_within() -> u32 {
    400
}
fn default_weak() -> Vec<String> {
    vec!["sha1".into(), "md5".into(), "rsa<2048".into()]
}
fn default_evidence() -> String {
    "pades".into()
}

impl Default for RenewConfig {
    fn default() -> Self {
        RenewConfig {
            within_days: default_within(),
            weak_algorithms: default_weak(),
            evidence: default_evidence(),
        }
    }
}

/// Workflow rules that are not per-profile.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowConfig {
    /// Approved backlog implementation plans (実施計画書), by id.
    #[serde(default)]
    pub approved_plans: Vec<String>,
    /// Patients who objected to backlog scanning.
    #[serde(default)]
    pub objected_patients: Vec<String>,
    /// Non-working days besides weekends (YYYY-MM-DD).
    #[serde(default)]
    pub holidays: Vec<String>,
    /// `hozon status` lists documents lacking a required signature or timestamp after this many
    /// business days from their document date (else archive date); default 1.
    #[serde(default)]
    pub unsigned_alert_days: Option<u32>,
}

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Default archive folder when `--out` is not given.
    #[serde(default)]
    pub archive: Option<PathBuf>,
    /// Profile used when neither `--profile` nor the sidecar names one.
    #[serde(default = "default_profile")]
    pub default_profile: String,
    /// Signer used when `--signer` is not given.
    #[serde(default)]
    pub default_signer: Option<String>,
    /// What `hozon ingest` adds over each batch after archiving: "none", or "ers" (RFC 4998
    /// evidence records for the batch's new archives under one timestamp). `--seal` overrides.
    #[serde(default = "default_seal")]
    pub seal: String,
    #[serde(default)]
    pub demo: DemoConfig,
    pub tsa: TsaConfig,
    #[serde(default)]
    pub trust: TrustConfig,
    #[serde(default)]
    pub revocation: RevocationConfig,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub renew: RenewConfig,
    #[serde(default)]
    pub workflow: WorkflowConfig,
    #[serde(default)]
    pub signers: BTreeMap<String, SignerConfig>,
    pub profiles: BTreeMap<String, Profile>,
    /// Folder of the config file; relative paths resolve against it. Not part of the file.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// Where the config was read from. Not part of the file.
    #[serde(skip)]
    pub source: PathBuf,
}

fn default_profile() -> String {
    "chart".into()
}

fn default_seal() -> String {
    "none".into()
}

impl Config {
    /// Locate the config: explicit path, then `HOZON_CONFIG`, then `./config/hozon.toml`.
    pub fn locate(explicit: Option<&Path>) -> PathBuf {
        if let Some(p) = explicit {
            return p.to_path_buf();
        }
        if let Ok(p) = std::env::var(CONFIG_ENV) {
            if !p.is_empty() {
                return PathBuf::from(p);
            }
        }
        PathBuf::from(DEFAULT_CONFIG_PATH)
    }

    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::NotFound {
                    path: path.to_path_buf(),
                })
            }
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source: e,
                })
            }
        };
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base
        };
        Self::from_toml(&text, path, &base)
    }

    /// Parse config text; `base` is the folder relative paths resolve against.
    pub fn from_toml(text: &str, source: &Path, base: &Path) -> Result<Config, ConfigError> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: source.to_path_buf(),
            message: e.to_string(),
        })?;
        cfg.base_dir = base.to_path_buf();
        cfg.source = source.to_path_buf();
        cfg.validate()?;
        Ok(cfg)
    }

    fn invalid(&self, message: String) -> ConfigError {
        ConfigError::Invalid {
            path: self.source.clone(),
            message,
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.profiles.is_empty() {
            return Err(self.invalid("no [profiles.*] defined".into()));
        }
        if !self.profiles.contains_key(&self.default_profile) {
            return Err(self.invalid(format!(
                "default_profile = {:?} is not a defined profile",
                self.default_profile
            )));
        }
        for (name, p) in &self.profiles {
            if !(p.min_dpi.is_finite() && p.min_dpi > 0.0) {
                return Err(self.invalid(format!("profile '{name}': min_dpi must be a positive number")));
            }
            if p.color_modes.is_empty() {
                return Err(self.invalid(format!("profile '{name}': color_modes is empty")));
            }
            if p.formats.is_empty() {
                return Err(self.invalid(format!("profile '{name}': formats is empty")));
            }
            if p.max_pages == 0 {
                return Err(self.invalid(format!("profile '{name}': max_pages must be at least 1")));
            }
            if p.signature == Requirement::Required && p.level < Level::BB {
                return Err(self.invalid(format!("profile '{name}': level below B-B")));
            }
        }
        for (name, sc) in &self.signers {
            if let Some(p) = &sc.pkcs11 {
                let bad = |m: &str| self.invalid(format!("signer '{name}': {m}"));
                if sc.pkcs12.is_some() || sc.key.is_some() || sc.password_env.is_some() || sc.password_file.is_some() {
                    return Err(bad("pkcs11 goes without pkcs12, key and password_*"));
                }
                if p.token.is_some() == p.slot.is_some() {
                    return Err(bad("pkcs11 needs one of token (label) or slot"));
                }
                if p.key.is_some() == p.key_id.is_some() {
                    return Err(bad("pkcs11 needs one of key (label) or key_id (hex)"));
                }
                if p.key_id.as_deref().is_some_and(|h| hex::decode(h).map_or(true, |b| b.is_empty())) {
                    return Err(bad("pkcs11.key_id must be hex digits, e.g. \"01\""));
                }
                if p.sessions == Some(0) {
                    return Err(bad("pkcs11.sessions must be at least 1"));
                }
            }
        }
        if let Some(s) = &self.default_signer {
            if !self.signers.contains_key(s) {
                return Err(self.invalid(format!("default_signer = {s:?} is not in [signers]")));
            }
        }
        match self.tsa.hash.as_str() {
            "sha256" | "sha384" | "sha512" => {}
            other => return Err(self.invalid(format!("tsa.hash = {other:?}: use sha256, sha384 or sha512"))),
        }
        if !(self.tsa.url.starts_with("builtin:")
            || self.tsa.url.starts_with("http://")
            || self.tsa.url.starts_with("https://"))
        {
            return Err(self.invalid(format!(
                "tsa.url = {:?}: use builtin:demo or an http(s) URL",
                self.tsa.url
            )));
        }
        // Basic auth would put the password on the wire in clear, and a client certificate
        // over plain HTTP is never presented: either way the operator meant TLS.
        let credentials: Vec<&str> = [
            self.tsa.username.is_some().then_some("username"),
            self.tsa.client_pkcs12.is_some().then_some("client_pkcs12"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if self.tsa.url.starts_with("http://") && !credentials.is_empty() {
            return Err(ConfigError::CredentialsOverHttp {
                path: self.source.clone(),
                url: self.tsa.url.clone(),
                what: credentials.join(" and "),
            });
        }
        for (key, v) in [
            ("revocation.timeout_secs", self.revocation.timeout_secs),
            ("revocation.deadline_secs", self.revocation.deadline_secs),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(self.invalid(format!("{key} = {v}: a positive number of seconds")));
            }
        }
        if self.limits.max_inflate_bytes < 1 << 20 {
            return Err(self.invalid(format!(
                "limits.max_inflate_bytes = {}: at least 1048576 (1 MiB)",
                self.limits.max_inflate_bytes
            )));
        }
        if self.tsa.concurrency == 0 {
            return Err(self.invalid("tsa.concurrency must be at least 1".into()));
        }
        match self.seal.as_str() {
            "none" | "ers" => {}
            other => return Err(self.invalid(format!("seal = {other:?}: use none or ers"))),
        }
        match self.renew.evidence.as_str() {
            "pades" | "ers" => {}
            other => return Err(self.invalid(format!("renew.evidence = {other:?}: use pades or ers"))),
        }
        for h in &self.workflow.holidays {
            if crate::clock::parse_datetime(h).is_none() {
                return Err(self.invalid(format!("workflow.holidays: {h:?} is not YYYY-MM-DD")));
            }
        }
        Ok(())
    }

    /// Resolve a path from the config file against its folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// Warnings to print when the config loads.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        for (name, p) in &self.profiles {
            w.extend(p.precision_warnings(name));
        }
        w
    }

    /// True when this run uses demo credentials or the built-in demo TSA (not legally valid).
    pub fn uses_demo(&self) -> bool {
        self.demo.enabled || self.tsa.url.starts_with("builtin:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[tsa]
url = "builtin:demo"
[profiles.chart]
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("test.toml"), Path::new("/etc/hozon"))
    }

    #[test]
    fn defaults_follow_the_guideline_reference() {
        let c = parse(MINIMAL).unwrap();
        let p = c.profile("chart").unwrap();
        assert_eq!(p.min_dpi, 300.0);
        assert_eq!(p.color_modes, vec![ColorMode::Rgb8, ColorMode::Gray8]);
        assert_eq!(p.level, Level::BLT);
        assert!(c.warnings().is_empty());
    }

    #[test]
    fn unknown_key_is_an_error_naming_the_key() {
        let e = parse(&format!("{MINIMAL}min_dpii = 300\n")).unwrap_err().to_string();
        assert!(e.contains("min_dpii"), "{e}");
        let e = parse("[tsa]\nurl='builtin:demo'\nretires=3\n[profiles.chart]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("retires"), "{e}");
    }

    #[test]
    fn mistyped_value_is_an_error() {
        let e = parse("[tsa]\nurl='builtin:demo'\n[profiles.chart]\nmin_dpi='high'\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("min_dpi"), "{e}");
        let e = parse("[tsa]\nurl='builtin:demo'\n[profiles.chart]\ncolor_modes=['rgb9']\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rgb9"), "{e}");
    }

    #[test]
    fn low_precision_profile_loads_with_warning() {
        let c = parse("[tsa]\nurl='builtin:demo'\n[profiles.chart]\nmin_dpi=200\ncolor_modes=['gray8']\n").unwrap();
        let w = c.warnings();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("200"));
    }

    #[test]
    fn relative_paths_resolve_against_config_folder() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(
            c.resolve(Path::new("keys/a.p12")),
            PathBuf::from("/etc/hozon/keys/a.p12")
        );
        assert_eq!(c.resolve(Path::new("/abs")), PathBuf::from("/abs"));
    }

    #[test]
    fn credentials_need_tls() {
        for extra in ["username = \"hospital\"\n", "client_pkcs12 = \"client.p12\"\n"] {
            let e = parse(&format!("[tsa]\nurl = \"http://tsa.example.jp/tsa\"\n{extra}[profiles.chart]\n")).unwrap_err();
            assert_eq!(e.code(), "credentials-over-http", "{e}");
            assert!(e.to_string().contains("https://"), "{e}");
            let ok = parse(&format!("[tsa]\nurl = \"https://tsa.example.jp/tsa\"\n{extra}[profiles.chart]\n"));
            assert!(ok.is_ok(), "{extra}: {:?}", ok.err());
        }
        // A password alone is not sent to an http:// TSA (it opens a client certificate).
        parse("[tsa]\nurl = \"http://tsa.example.jp/tsa\"\npassword_env = \"X\"\n[profiles.chart]\n").unwrap();
        parse("[tsa]\nurl = \"http://tsa.example.jp/tsa\"\n[profiles.chart]\n").unwrap();
    }

    #[test]
    fn shipped_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/hozon.toml");
        let c = Config::load(&path).unwrap();
        for p in ["chart", "backlog", "prescription", "convenience"] {
            assert!(c.profile(p).is_some(), "missing profile {p}");
        }
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        assert!(c.uses_demo());
    }
}
