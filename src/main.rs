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
#[command(name = "hozon", version, about = "Signed, timestamped, long-term verifiable archives of scanned medical records")]
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
        Command::Check { .. } => {
            let _cfg = load_config(cli.config.as_deref())?;
            let _ = EXIT_FAILURES;
            anyhow::bail!("check: not yet implemented")
        }
    }
}
