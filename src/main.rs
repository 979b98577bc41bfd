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
        Command::Check { paths, profile, json, no_integrity } => {
            let cfg = load_config(cli.config.as_deref())?;
            check(&cfg, &paths, profile.as_deref(), json.as_deref(), !no_integrity)
        }
    }
}

/// `hozon check`: human report on stdout (stderr when the JSON goes to stdout), JSON on request.
fn check(cfg: &hozon::config::Config, paths: &[PathBuf], profile: Option<&str>, json: Option<&str>, integrity: bool) -> anyhow::Result<u8> {
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
            hozon::archive::atomic::write_atomic(std::path::Path::new(file), text.as_bytes()).map_err(|e| anyhow::anyhow!("cannot write {file}: {e}"))?;
        }
        None => print!("{human}"),
    }
    Ok(if report.all_passed() { EXIT_OK } else { EXIT_FAILURES })
}
