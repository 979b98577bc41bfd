//! The binary's side of hozon: argument types (`args`), one `exec` per command that turns the
//! arguments into the library's options, runs the flow from `hozon::ops` and hands the report
//! to its renderer (`commands`), and the human renderings (`render`, every sentence from the
//! i18n catalogue). Only this module and `main.rs` write to stdout and stderr.

pub mod args;
pub mod commands;
pub mod render;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use hozon::config::Config;
use hozon::i18n::{tr, Lang};

/// What every command gets: the operator's language and the `--config` given, if any.
pub struct Ctx {
    pub lang: Lang,
    pub config: Option<PathBuf>,
}

impl Ctx {
    /// The configuration (`--config`, `$HOZON_CONFIG`, `./config/hozon.toml`); its warnings go
    /// to stderr.
    pub fn config(&self) -> anyhow::Result<Config> {
        let path = Config::locate(self.config.as_deref());
        let cfg = Config::load(&path)?;
        for w in cfg.warnings() {
            eprintln!("hozon: warning: {w}");
        }
        Ok(cfg)
    }

    /// The config when there is one; verify also runs without (trust from --trust only).
    pub fn optional_config(&self) -> anyhow::Result<Option<Config>> {
        match self.config() {
            Ok(c) => Ok(Some(c)),
            Err(e)
                if self.config.is_none()
                    && matches!(e.downcast_ref(), Some(hozon::config::ConfigError::NotFound { .. })) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// The clock every command uses: the system's, or `HOZON_SIMULATED_TIME` (tests), announced.
pub fn clock() -> anyhow::Result<Arc<dyn hozon::clock::Clock>> {
    if let Ok(v) = std::env::var(hozon::clock::SIMULATED_TIME_ENV) {
        if !v.is_empty() {
            eprintln!(
                "hozon: *** SIMULATED TIME {v} ({}) — for tests only ***",
                hozon::clock::SIMULATED_TIME_ENV
            );
        }
    }
    Ok(Arc::from(hozon::clock::from_env().map_err(anyhow::Error::msg)?))
}

/// Workers when `--jobs` is not given: one per core; with a TSA over HTTP at least as many as
/// requests the TSA may have in flight (`tsa.concurrency`), since workers then mostly wait on it.
pub fn default_jobs(cfg: &Config) -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    if cfg.tsa.url.starts_with("builtin:") {
        cores
    } else {
        cores.max(cfg.tsa.concurrency)
    }
}

/// The signer, TSA and trust for commands that sign or timestamp, after the demo banner when
/// the configuration uses the demo PKI.
pub fn signing_services(cfg: &Config, signer: Option<&str>, lang: Lang) -> anyhow::Result<hozon::services::Services> {
    let clock = clock()?;
    if cfg.uses_demo() {
        eprintln!("hozon: {}", tr(lang, "demo.banner", &[]));
    }
    Ok(hozon::services::Services::build(cfg, signer, clock)?)
}

/// A progress bar on stderr when it is a terminal (plain lines otherwise).
pub fn progress_bar() -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    })
}

/// Print `human` and write `value` as JSON to FILE or stdout ("-": human text goes to stderr).
pub fn emit<T: serde::Serialize>(json: Option<&str>, human: &str, value: &T) -> anyhow::Result<()> {
    match json {
        Some("-") => {
            eprint!("{human}");
            write_json(&mut std::io::stdout().lock(), value)?;
        }
        Some(file) => {
            print!("{human}");
            hozon::archive::atomic::write_atomic_with(Path::new(file), |w| write_json(w, value))
                .with_context(|| format!("cannot write {file}"))?;
        }
        None => print!("{human}"),
    }
    Ok(())
}

/// Pretty JSON and a newline, streamed: a large batch's report is never one string in memory.
pub fn write_json<T: serde::Serialize>(w: &mut dyn std::io::Write, value: &T) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// One progress line in one write: stderr is unbuffered, and `eprintln!` with padding writes
/// each piece on its own (a dozen system calls per document of a batch).
pub fn stderr_line(line: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(format!("{line}\n").as_bytes());
}

/// A command-line mistake found before anything ran: `usage` code, exit 2, the message in the
/// locale's language (the `--lang` given may be the mistake).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(String);

pub fn usage_error(key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> anyhow::Error {
    UsageError(tr(Lang::pick(None), key, args)).into()
}

/// The stable reason code of the first library error in the chain, so scripts (and the
/// operator) see e.g. `key-permissions` and not just prose.
pub fn reason_code(e: &anyhow::Error) -> Option<&'static str> {
    e.chain().find_map(|c| {
        c.downcast_ref::<UsageError>()
            .map(|_| "usage")
            .or_else(|| c.downcast_ref::<hozon::services::SetupError>().map(|x| x.code()))
            .or_else(|| c.downcast_ref::<hozon::ops::ingest::IngestError>().map(|x| x.code()))
            .or_else(|| c.downcast_ref::<hozon::config::ConfigError>().map(|x| x.code()))
            .or_else(|| c.downcast_ref::<hozon::archive::store::ArchiveError>().map(|x| x.code()))
            .or_else(|| c.downcast_ref::<hozon::archive::inspect::InspectError>().map(|x| x.code()))
            .or_else(|| c.downcast_ref::<hozon::ops::check::CheckError>().map(|x| x.code()))
            .or_else(|| c.downcast_ref::<hozon::sign::SignError>().map(|x| x.code()))
            .or_else(|| c.downcast_ref::<hozon::ops::verify::VerifyRunError>().map(|x| x.code()))
            .or_else(|| c.downcast_ref::<hozon::ops::tsa::ServeError>().map(|x| x.code()))
            .or_else(|| c.downcast_ref::<hozon::ops::keys::KeysError>().map(|x| x.code()))
    })
}

/// `hozon: error [code]: message` and, when the code has one, what to do.
pub fn print_error(e: &anyhow::Error, lang: Lang) {
    let message = token_message(e, lang).unwrap_or_else(|| error_chain(e));
    match reason_code(e) {
        Some(code) => {
            eprintln!("hozon: error [{code}]: {message}");
            if let Some(a) = hozon::i18n::advice(lang, code) {
                eprintln!("  → {a}");
            }
        }
        None => eprintln!("hozon: error: {message}"),
    }
}

/// A PKCS#11 token's error in the operator's language (`pkcs11.<code>` in i18n).
fn token_message(e: &anyhow::Error, lang: Lang) -> Option<String> {
    use hozon::ops::keys::KeysError;
    use hozon::sign::SignError;
    let t = e.chain().find_map(|c| match (c.downcast_ref::<SignError>(), c.downcast_ref::<KeysError>()) {
        (Some(SignError::Token(t)), _) | (_, Some(KeysError::Token(t))) | (_, Some(KeysError::Sign(SignError::Token(t)))) => {
            Some(t)
        }
        _ => None,
    })?;
    let args = t.message_args();
    let note = t
        .pin_note()
        .map(|n| format!(" ({})", tr(lang, &format!("pkcs11.note.{}", n.key()), &[])))
        .unwrap_or_default();
    let mut refs: Vec<(&str, &dyn std::fmt::Display)> =
        args.iter().map(|(k, v)| (*k, v as &dyn std::fmt::Display)).collect();
    refs.push(("note", &note));
    Some(tr(lang, &format!("pkcs11.{}", t.code()), &refs))
}

/// "outer: cause: cause", leaving out a cause whose text the outer message already carries
/// (library errors often embed their source).
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for c in e.chain() {
        let m = c.to_string();
        if !text.contains(&m) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&m);
        }
    }
    text
}
