//! The `hozon` command: a thin clap front over the library. Each subcommand parses its flags,
//! loads the config and hands over to one library entry point; errors become exit codes here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes (documented in the README).
const EXIT_OK: u8 = 0;
const EXIT_FAILURES: u8 = 1;
const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "hozon",
    version,
    about = "Signed, timestamped, long-term verifiable archives of scanned medical records"
)]
struct Cli {
    /// Configuration file (default: $HOZON_CONFIG, then ./config/hozon.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check scans against their profile's resolution, colour and format rules.
    Check {
        /// Files or folders of scans.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Profile to apply (default: the sidecar's, then the config's default_profile).
        #[arg(long)]
        profile: Option<String>,
        /// Write a JSON report to FILE, or - for standard output.
        #[arg(long, value_name = "FILE|-")]
        json: Option<String>,
        /// Headers only: skip the integrity pass over the whole data (faster, catches less).
        #[arg(long)]
        no_integrity: bool,
    },
    /// Verify signed PDFs (any producer): signatures, timestamps, trust paths, long-term rule.
    Verify {
        /// Files or folders of PDFs (folders are walked).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Extra trusted root certificates (PEM); repeatable. Added to the config's [trust].
        #[arg(long, value_name = "PEM")]
        trust: Vec<PathBuf>,
        /// Fetch revocation data (CRL/OCSP) the files lack.
        #[arg(long)]
        online: bool,
        /// Validate as of this time (RFC 3339 or YYYY-MM-DD; default now).
        #[arg(long, value_name = "DATETIME")]
        at: Option<String>,
        /// Compare each file's SHA-256 with the archive catalog (catalog.sqlite above the files).
        #[arg(long)]
        catalog: bool,
        /// Write a JSON report to FILE, or - for standard output.
        #[arg(long, value_name = "FILE|-")]
        json: Option<String>,
        /// Language of the human report (ja or en; default from the locale).
        #[arg(long)]
        lang: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("hozon: error: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn load_config(explicit: Option<&std::path::Path>) -> anyhow::Result<hozon::config::Config> {
    let path = hozon::config::Config::locate(explicit);
    let cfg = hozon::config::Config::load(&path)?;
    for w in cfg.warnings() {
        eprintln!("hozon: warning: {w}");
    }
    Ok(cfg)
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Check {
            paths,
            profile,
            json,
            no_integrity,
        } => {
            let cfg = load_config(cli.config.as_deref())?;
            check(&cfg, &paths, profile.as_deref(), json.as_deref(), !no_integrity)
        }
        Command::Verify {
            paths,
            trust,
            online,
            at,
            catalog,
            json,
            lang,
        } => {
            let args = VerifyArgs {
                paths,
                trust,
                online,
                at,
                catalog,
                json,
                lang,
            };
            verify(cli.config.as_deref(), &args)
        }
    }
}

struct VerifyArgs {
    paths: Vec<PathBuf>,
    trust: Vec<PathBuf>,
    online: bool,
    at: Option<String>,
    catalog: bool,
    json: Option<String>,
    lang: Option<String>,
}

/// The config when there is one; verify also runs without (trust from --trust only).
fn optional_config(explicit: Option<&std::path::Path>) -> anyhow::Result<Option<hozon::config::Config>> {
    match load_config(explicit) {
        Ok(c) => Ok(Some(c)),
        Err(e)
            if explicit.is_none() && matches!(e.downcast_ref(), Some(hozon::config::ConfigError::NotFound { .. })) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// `hozon verify`: build the trust once, verify in parallel, render, exit 0 only when all valid.
fn verify(config: Option<&std::path::Path>, a: &VerifyArgs) -> anyhow::Result<u8> {
    use std::sync::Arc;
    let lang = hozon::i18n::Lang::pick(a.lang.as_deref());
    let clock: Arc<dyn hozon::clock::Clock> = Arc::from(hozon::clock::from_env().map_err(|e| anyhow::anyhow!(e))?);
    let at = match &a.at {
        Some(s) => hozon::clock::parse_datetime(s)
            .ok_or_else(|| anyhow::anyhow!("--at {s:?} is not an RFC 3339 date-time or YYYY-MM-DD"))?,
        None => clock.now(),
    };
    let cfg = optional_config(config)?;
    let (mut trust, source, max_bytes) = match &cfg {
        Some(cfg) => {
            let t = hozon::services::Trust::build(cfg, clock.clone(), a.online)?;
            (t.trust, t.revocation, cfg.limits.max_pdf_bytes)
        }
        None => {
            // The HTTP client loads the system's TLS roots: build it only when it will be used.
            let src: Arc<dyn hozon::ltv::RevocationSource> = if a.online {
                Arc::new(hozon::ltv::HttpRevocationSource::new(&Default::default())?)
            } else {
                Arc::new(hozon::ltv::NoRevocationSource)
            };
            (
                hozon::pki::TrustStore::new(),
                src,
                hozon::config::Limits::default().max_pdf_bytes,
            )
        }
    };
    for p in &a.trust {
        trust.add_root_pem(p)?;
    }
    if trust.roots().is_empty() {
        eprintln!(
            "hozon: warning: no trusted roots (give --trust PEM or [trust] in the config): every signer is untrusted"
        );
    }
    let files = hozon::verify::collect_files(&a.paths)?;
    let catalog = if a.catalog {
        Some(hozon::verify::CatalogIndex::load(&a.paths)?)
    } else {
        None
    };
    let opts = hozon::verify::VerifyOptions {
        at,
        max_file_bytes: max_bytes,
    };
    let verifier = hozon::verify::Verifier::new(trust, a.online.then_some(source), opts);
    if a.at.is_some() {
        eprintln!(
            "hozon: {}",
            hozon::i18n::tr(lang, "verify.simulated_at", &[("time", &hozon::clock::rfc3339(at))])
        );
    }
    let bar = progress_bar(files.len());
    let tick = || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let report = verifier.run(&files, catalog.as_ref(), &tick);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let human = report.render_human(lang);
    match a.json.as_deref() {
        Some("-") => {
            eprint!("{human}");
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Some(file) => {
            print!("{human}");
            let text = serde_json::to_string_pretty(&report)? + "\n";
            hozon::archive::atomic::write_atomic(std::path::Path::new(file), text.as_bytes())
                .map_err(|e| anyhow::anyhow!("cannot write {file}: {e}"))?;
        }
        None => print!("{human}"),
    }
    Ok(if report.all_valid() { EXIT_OK } else { EXIT_FAILURES })
}

/// A progress bar on stderr when it is a terminal and there is more than one file.
fn progress_bar(n: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    (n > 1 && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(n as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {eta}") {
            b.set_style(style);
        }
        b
    })
}

/// `hozon check`: human report on stdout (stderr when the JSON goes to stdout), JSON on request.
fn check(
    cfg: &hozon::config::Config,
    paths: &[PathBuf],
    profile: Option<&str>,
    json: Option<&str>,
    integrity: bool,
) -> anyhow::Result<u8> {
    let report = hozon::check::run(paths, cfg, profile, integrity)?;
    let human = report.render_human();
    match json {
        Some("-") => {
            eprint!("{human}");
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Some(file) => {
            print!("{human}");
            let text = serde_json::to_string_pretty(&report)? + "\n";
            hozon::archive::atomic::write_atomic(std::path::Path::new(file), text.as_bytes())
                .map_err(|e| anyhow::anyhow!("cannot write {file}: {e}"))?;
        }
        None => print!("{human}"),
    }
    Ok(if report.all_passed() { EXIT_OK } else { EXIT_FAILURES })
}
