//! The command line as clap sees it: global options and one variant per command. Only
//! parsing lives here; `commands` turns these into the library's options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "hozon",
    version,
    about = "Signed, timestamped, long-term verifiable archives of scanned medical records"
)]
pub struct Cli {
    /// Configuration file (default: $HOZON_CONFIG, then ./config/hozon.toml).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Language of messages: ja or en (default: from the locale).
    #[arg(long, global = true)]
    pub lang: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check scans against their profile's resolution, colour and format rules.
    Check(CheckArgs),
    /// Check, assemble, sign, timestamp and archive scanned documents.
    Ingest(IngestArgs),
    /// Check an archive's integrity: audit-log hash chain, catalog rows vs files vs log entries.
    Audit(AuditArgs),
    /// Auditor's report over a period: volume, people, rejections, late scans, renewals, retention.
    Report(ReportArgs),
    /// What needs attention: due for renewal, late, unsigned, past retention, unfinished.
    Status(StatusArgs),
    /// Verify signed PDFs (any producer): signatures, timestamps, trust paths, long-term rule.
    Verify(VerifyArgs),
    /// Renew archives whose newest timestamp nears its TSA certificate's expiry (or uses a
    /// weakening algorithm): fresh validation data and a document timestamp (PAdES B-LTA).
    Renew(RenewArgs),
    /// Correct an archived document: a new signed, timestamped revision (the original signature
    /// stays valid). Prescriptions need a signer whose HPKI role is the profile's
    /// correction_signer_role (Pharmacist).
    Correct(CorrectArgs),
    /// Rebuild the archive's catalog from its PDFs (the files are the truth).
    Reindex(ReindexArgs),
    /// Keys on PKCS#11 tokens (HSMs, HPKI IC cards).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The demo TSA.
    Tsa {
        #[command(subcommand)]
        command: TsaCommand,
    },
}

#[derive(Args)]
pub struct CheckArgs {
    /// Files or folders of scans.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Profile to apply (default: the sidecar's, then the config's default_profile).
    #[arg(long)]
    pub profile: Option<String>,
    /// Write a JSON report to FILE, or - for standard output.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
    /// Headers only: skip the integrity pass over the whole data (faster, catches less).
    #[arg(long)]
    pub no_integrity: bool,
}

#[derive(Args)]
pub struct IngestArgs {
    /// Files or folders of scans.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Archive folder (default: the config's `archive`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Profile to apply (default: the sidecar's, then the config's default_profile).
    #[arg(long)]
    pub profile: Option<String>,
    /// Signer (作業責任者) by its name in [signers] (default: default_signer).
    #[arg(long)]
    pub signer: Option<String>,
    /// Documents processed in parallel (default: number of CPUs; with an HTTP TSA at least tsa.concurrency).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Write a JSON report to FILE, or - for standard output.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
    /// Check and report what would be archived; sign and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// ers: seal the batch's new archives into RFC 4998 evidence records under one
    /// timestamp; none: do not (default: the config's `seal`).
    #[arg(long, value_parser = ["none", "ers"])]
    pub seal: Option<String>,
}

#[derive(Args)]
pub struct AuditArgs {
    pub archive: PathBuf,
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

#[derive(Args)]
pub struct ReportArgs {
    pub archive: PathBuf,
    /// First day (YYYY-MM-DD or RFC 3339), inclusive.
    #[arg(long)]
    pub from: String,
    /// Last day (YYYY-MM-DD: the whole day is included; RFC 3339: exclusive).
    #[arg(long)]
    pub to: String,
    #[arg(long, default_value = "html", value_parser = ["html", "csv", "json"])]
    pub format: String,
    /// Output file (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct StatusArgs {
    pub archive: PathBuf,
    /// Renewal window in days (default: renew.within_days).
    #[arg(long)]
    pub within: Option<u32>,
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Files or folders of PDFs (folders are walked).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Extra trusted root certificates (PEM); repeatable. Added to the config's [trust].
    #[arg(long, value_name = "PEM")]
    pub trust: Vec<PathBuf>,
    /// Fetch revocation data (CRL/OCSP) the files lack.
    #[arg(long)]
    pub online: bool,
    /// Validate as of this time (RFC 3339 or YYYY-MM-DD; default now).
    #[arg(long, value_name = "DATETIME")]
    pub at: Option<String>,
    /// Compare each file's SHA-256 with the archive catalog (catalog.sqlite above the files).
    #[arg(long)]
    pub catalog: bool,
    /// RFC 4998 evidence record to check with the (single) file, instead of the `<name>.ers`
    /// beside it (which is checked automatically when present).
    #[arg(long, value_name = "FILE")]
    pub ers: Option<PathBuf>,
    /// Write a JSON report to FILE, or - for standard output.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

#[derive(Args)]
pub struct RenewArgs {
    pub archive: PathBuf,
    /// Renew when the TSA certificate expires within DAYS (default: renew.within_days).
    #[arg(long, value_name = "DAYS")]
    pub within: Option<u32>,
    /// List what is due; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// pades: a document timestamp per file; ers: RFC 4998 evidence records under one
    /// timestamp (default: renew.evidence).
    #[arg(long, value_parser = ["pades", "ers"])]
    pub evidence: Option<String>,
    /// Archives renewed in parallel (default: number of CPUs; with an HTTP TSA at least tsa.concurrency).
    #[arg(long)]
    pub jobs: Option<usize>,
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

#[derive(Args)]
pub struct CorrectArgs {
    /// Archive folder (with catalog.sqlite).
    pub archive: PathBuf,
    /// The document: its 32-digit id or the path of its archived PDF.
    pub document: String,
    /// Signer by its name in [signers] (default: default_signer).
    #[arg(long)]
    pub signer: Option<String>,
    /// What was corrected and why (the signature's /Reason, the catalog and the audit log).
    #[arg(long, required = true)]
    pub note: String,
    /// Write a JSON report to FILE, or - for standard output.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

#[derive(Args)]
pub struct ReindexArgs {
    pub archive: PathBuf,
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List tokens, their keys and certificates, and the `pkcs11 = {…}` line naming each key.
    List(KeysListArgs),
}

#[derive(Args)]
pub struct KeysListArgs {
    /// PKCS#11 module (repeatable; default: the modules of the config's pkcs11 signers).
    #[arg(long, value_name = "PATH")]
    pub module: Vec<PathBuf>,
    /// Only the token with this label (needed with a PIN when several are present).
    #[arg(long, value_name = "LABEL")]
    pub token: Option<String>,
    /// Environment variable holding the token's user PIN, to list private keys too.
    #[arg(long, value_name = "VAR")]
    pub pin_env: Option<String>,
    /// File (mode 0600) holding the token's user PIN.
    #[arg(long, value_name = "FILE")]
    pub pin_file: Option<PathBuf>,
    /// Write a JSON report to FILE, or - for standard output.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

#[derive(Subcommand)]
pub enum TsaCommand {
    /// Serve the built-in demo TSA (POST / or /tsa) and the demo CRLs (GET /crl/NAME) over HTTP.
    Serve {
        /// Address to listen on (loopback by default).
        #[arg(long, default_value = "127.0.0.1:8318")]
        listen: String,
    },
}

