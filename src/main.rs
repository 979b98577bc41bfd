//! The `hozon` command: parse the arguments, dispatch to the command's `exec` in `cli::commands`,
//! and turn the outcome into an exit code. Everything else lives in the library (`hozon::ops`
//! for the flows) and in `cli` (arguments and rendering).

mod cli;

use std::process::ExitCode;

use clap::Parser;

use cli::args::{Cli, Command, KeysCommand, TsaCommand};
use cli::commands;

/// Exit codes (documented in the README): everything passed / was done.
pub(crate) const EXIT_OK: u8 = 0;
/// The run finished but something did not: a scan rejected, a file invalid, a renewal failed…
pub(crate) const EXIT_FAILURES: u8 = 1;
/// Usage or configuration error; nothing was done.
pub(crate) const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    // For the error line: the language asked for, else the locale's (`--lang` may be the mistake).
    let lang = cli
        .lang
        .as_deref()
        .and_then(hozon::i18n::Lang::parse)
        .unwrap_or_else(|| hozon::i18n::Lang::pick(None));
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            cli::print_error(&e, lang);
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let lang = match cli.lang.as_deref() {
        Some(l) => hozon::i18n::Lang::parse(l).ok_or_else(|| cli::usage_error("cli.unknown_lang", &[("lang", &l)]))?,
        None => hozon::i18n::Lang::pick(None),
    };
    let ctx = cli::Ctx {
        lang,
        config: cli.config,
    };
    match cli.command {
        Command::Check(a) => commands::check::exec(&ctx, a),
        Command::Ingest(a) => commands::ingest::exec(&ctx, a),
        Command::Audit(a) => commands::audit::exec(&ctx, a),
        Command::Report(a) => commands::report::exec(&ctx, a),
        Command::Status(a) => commands::status::exec(&ctx, a),
        Command::Verify(a) => commands::verify::exec(&ctx, a),
        Command::Renew(a) => commands::renew::exec(&ctx, a),
        Command::Correct(a) => commands::correct::exec(&ctx, a),
        Command::Reindex(a) => commands::reindex::exec(&ctx, a),
        Command::Keys {
            command: KeysCommand::List(a),
        } => commands::keys::list(&ctx, a),
        Command::Tsa {
            command: TsaCommand::Serve { listen },
        } => commands::tsa::serve(&ctx, &listen),
    }
}
