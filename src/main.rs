//! The `hozon` command: a thin clap front over the library. Each subcommand parses its flags,
//! loads the config and hands over to one library entry point; errors become exit codes here.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hozon::config::Config;
use hozon::i18n::{tr, Lang};

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
    /// Language of messages: ja or en (default: from the locale).
    #[arg(long, global = true)]
    lang: Option<String>,
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
    /// Check, assemble, sign, timestamp and archive scanned documents.
    Ingest {
        /// Files or folders of scans.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Archive folder (default: the config's `archive`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Profile to apply (default: the sidecar's, then the config's default_profile).
        #[arg(long)]
        profile: Option<String>,
        /// Signer (作業責任者) by its name in [signers] (default: default_signer).
        #[arg(long)]
        signer: Option<String>,
        /// Documents processed in parallel (default: number of CPUs; with an HTTP TSA at least tsa.concurrency).
        #[arg(long)]
        jobs: Option<usize>,
        /// Write a JSON report to FILE, or - for standard output.
        #[arg(long, value_name = "FILE|-")]
        json: Option<String>,
        /// Check and report what would be archived; sign and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// ers: seal the batch's new archives into RFC 4998 evidence records under one
        /// timestamp; none: do not (default: the config's `seal`).
        #[arg(long, value_parser = ["none", "ers"])]
        seal: Option<String>,
    },
    /// Check an archive's integrity: audit-log hash chain, catalog rows vs files vs log entries.
    Audit {
        archive: PathBuf,
        #[arg(long, value_name = "FILE|-")]
        json: Option<String>,
    },
    /// Auditor's report over a period: volume, people, rejections, late scans, renewals, retention.
    Report {
        archive: PathBuf,
        /// First day (YYYY-MM-DD or RFC 3339), inclusive.
        #[arg(long)]
        from: String,
        /// Last day (YYYY-MM-DD: the whole day is included; RFC 3339: exclusive).
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "html", value_parser = ["html", "csv", "json"])]
        format: String,
        /// Output file (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// What needs attention: due for renewal, late, unsigned, past retention, unfinished.
    Status {
        archive: PathBuf,
        /// Renewal window in days (default: renew.within_days).
        #[arg(long)]
        within: Option<u32>,
        #[arg(long, value_name = "FILE|-")]
        json: Option<String>,
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
        /// RFC 4998 evidence record to check with the (single) file, instead of the `<name>.ers`
        /// beside it (which is checked automatically when present).
        #[arg(long, value_name = "FILE")]
        ers: Option<PathBuf>,
        /// Write a JSON report to FILE, or - for standard output.
        #[arg(long, value_name = "FILE|-")]
        json: Option<String>,
    },
    /// Renew archives whose newest timestamp nears its TSA certificate's expiry (or uses a
    /// weakening algorithm): fresh validation data and a document timestamp (PAdES B-LTA).
    Renew {
        archive: PathBuf,
        /// Renew when the TSA certificate expires within DAYS (default: renew.within_days).
        #[arg(long, value_name = "DAYS")]
        within: Option<u32>,
        /// List what is due; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// pades: a document timestamp per file; ers: RFC 4998 evidence records under one
        /// timestamp (default: renew.evidence).
        #[arg(long, value_parser = ["pades", "ers"])]
        evidence: Option<String>,
        /// Archives renewed in parallel (default: number of CPUs; with an HTTP TSA at least tsa.concurrency).
        #[arg(long)]
        jobs: Option<usize>,
        #[arg(long, value_name = "FILE|-")]
        json: Option<String>,
    },
    /// Correct an archived document: a new signed, timestamped revision (the original signature
    /// stays valid). Prescriptions need a signer whose HPKI role is the profile's
    /// correction_signer_role (Pharmacist).
    Correct {
        /// Archive folder (with catalog.sqlite).
        archive: PathBuf,
        /// The document: its 32-digit id or the path of its archived PDF.
        document: String,
        /// Signer by its name in [signers] (default: default_signer).
        #[arg(long)]
        signer: Option<String>,
        /// What was corrected and why (the signature's /Reason, the catalog and the audit log).
        #[arg(long, required = true)]
        note: String,
        /// Write a JSON report to FILE, or - for standard output.
        #[arg(long, value_name = "FILE|-")]
        json: Option<String>,
    },
    /// Rebuild the archive's catalog from its PDFs (the files are the truth).
    Reindex {
        archive: PathBuf,
        #[arg(long, value_name = "FILE|-")]
        json: Option<String>,
    },
    /// The demo TSA.
    Tsa {
        #[command(subcommand)]
        command: TsaCommand,
    },
    /// Keys on PKCS#11 tokens (HSMs, HPKI IC cards).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// List tokens, their keys and certificates, and the `pkcs11 = {…}` line naming each key.
    List {
        /// PKCS#11 module (repeatable; default: the modules of the config's pkcs11 signers).
        #[arg(long, value_name = "PATH")]
        module: Vec<PathBuf>,
        /// Only the token with this label (needed with a PIN when several are present).
        #[arg(long, value_name = "LABEL")]
        token: Option<String>,
        /// Environment variable holding the token's user PIN, to list private keys too.
        #[arg(long, value_name = "VAR")]
        pin_env: Option<String>,
        /// File (mode 0600) holding the token's user PIN.
        #[arg(long, value_name = "FILE")]
        pin_file: Option<PathBuf>,
        /// Write a JSON report to FILE, or - for standard output.
        #[arg(long, value_name = "FILE|-")]
        json: Option<String>,
    },
}

#[derive(Subcommand)]
enum TsaCommand {
    /// Serve the built-in demo TSA (POST / or /tsa) and the demo CRLs (GET /crl/NAME) over HTTP.
    Serve {
        /// Address to listen on (loopback by default).
        #[arg(long, default_value = "127.0.0.1:8318")]
        listen: String,
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
    let lang = Lang::pick(cli.lang.as_deref());
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let message = token_message(&e, lang).unwrap_or_else(|| error_chain(&e));
            match reason_code(&e) {
                Some(code) => {
                    eprintln!("hozon: error [{code}]: {message}");
                    if let Some(a) = hozon::i18n::advice(lang, code) {
                        eprintln!("  → {a}");
                    }
                }
                None => eprintln!("hozon: error: {message}"),
            }
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// A PKCS#11 token's error in the operator's language (`pkcs11.<code>` in i18n).
fn token_message(e: &anyhow::Error, lang: Lang) -> Option<String> {
    use hozon::ops::keys::KeysError;
    use hozon::sign::SignError;
    let t = e.chain().find_map(|c| match (c.downcast_ref::<SignError>(), c.downcast_ref::<KeysError>()) {
        (Some(SignError::Token(t)), _) | (_, Some(KeysError::Token(t))) | (_, Some(KeysError::Sign(SignError::Token(t)))) => Some(t),
        _ => None,
    })?;
    let args = t.message_args();
    let note = t
        .pin_note()
        .map(|n| format!(" ({})", tr(lang, &format!("pkcs11.note.{}", n.key()), &[])))
        .unwrap_or_default();
    let mut refs: Vec<(&str, &dyn std::fmt::Display)> = args.iter().map(|(k, v)| (*k, v as &dyn std::fmt::Display)).collect();
    refs.push(("note", &note));
    Some(tr(lang, &format!("pkcs11.{}", t.code()), &refs))
}

/// The stable reason code of the first library error in the chain, so scripts (and the
/// operator) see e.g. `key-permissions` and not just prose.
fn reason_code(e: &anyhow::Error) -> Option<&'static str> {
    e.chain().find_map(|c| {
        None.or_else(|| c.downcast_ref::<hozon::services::SetupError>().map(|x| x.code()))
            .or_else(|| c.downcast_ref::<hozon::ingest::IngestError>().map(|x| x.code()))
            .or_else(|| c.downcast_ref::<hozon::config::ConfigError>().map(|x| x.code()))
            .or_else(|| {
                c.downcast_ref::<hozon::archive::store::ArchiveError>()
                    .map(|x| x.code())
            })
            .or_else(|| {
                c.downcast_ref::<hozon::archive::inspect::InspectError>()
                    .map(|x| x.code())
            })
            .or_else(|| c.downcast_ref::<hozon::check::CheckError>().map(|x| x.code()))
            .or_else(|| c.downcast_ref::<hozon::sign::SignError>().map(|x| x.code()))
            .or_else(|| c.downcast_ref::<hozon::ops::keys::KeysError>().map(|x| x.code()))
    })
}

/// "outer: cause: cause", leaving out a cause whose text the outer message already carries
/// (library errors often embed their source).
fn error_chain(e: &anyhow::Error) -> String {
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

fn load_config(explicit: Option<&Path>) -> anyhow::Result<Config> {
    let path = hozon::config::Config::locate(explicit);
    let cfg = hozon::config::Config::load(&path)?;
    for w in cfg.warnings() {
        eprintln!("hozon: warning: {w}");
    }
    Ok(cfg)
}

/// Workers when `--jobs` is not given: one per core; with a TSA over HTTP at least as many as
/// requests the TSA may have in flight (`tsa.concurrency`), since workers then mostly wait on it.
fn default_jobs(cfg: &hozon::config::Config) -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    if cfg.tsa.url.starts_with("builtin:") {
        cores
    } else {
        cores.max(cfg.tsa.concurrency)
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let lang = Lang::pick(cli.lang.as_deref());
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
        Command::Ingest {
            inputs,
            out,
            profile,
            signer,
            jobs,
            json,
            dry_run,
            seal,
        } => {
            let cfg = load_config(cli.config.as_deref())?;
            let out = out
                .or_else(|| cfg.archive.as_ref().map(|a| cfg.resolve(a)))
                .context("no archive folder: give --out DIR or set `archive` in the config")?;
            let opts = hozon::ingest::IngestOptions {
                inputs,
                out,
                profile,
                jobs: jobs.unwrap_or_else(|| default_jobs(&cfg)),
                dry_run,
                seal: seal.unwrap_or_else(|| cfg.seal.clone()),
            };
            ingest(&cfg, opts, signer.as_deref(), json.as_deref(), lang)
        }
        Command::Audit { archive, json } => {
            let rep = hozon::archive::inspect::audit_archive(&archive)?;
            let mut human = String::new();
            for p in &rep.problems {
                let what = p
                    .path
                    .as_ref()
                    .map(|x| x.display().to_string())
                    .or(p.document_id.clone())
                    .unwrap_or_default();
                human.push_str(&format!("{:<20} {what}: {}\n", p.code, p.message));
            }
            human.push_str(&format!(
                "{} document(s), {} log entries, {} problem(s)\n",
                rep.documents,
                rep.log_entries,
                rep.problems.len()
            ));
            emit(json.as_deref(), &human, &rep)?;
            Ok(if rep.ok() { EXIT_OK } else { EXIT_FAILURES })
        }
        Command::Report {
            archive,
            from,
            to,
            format,
            output,
        } => {
            let cfg = load_config(cli.config.as_deref()).ok();
            let clock = clock()?;
            let from_t = hozon::clock::parse_datetime(&from)
                .with_context(|| format!("--from {from:?}: use YYYY-MM-DD or RFC 3339"))?;
            let mut to_t = hozon::clock::parse_datetime(&to)
                .with_context(|| format!("--to {to:?}: use YYYY-MM-DD or RFC 3339"))?;
            if to.len() == 10 {
                to_t += time::Duration::days(1); // a plain date includes that whole day
            }
            let (from_t, to_t) = (
                from_t.replace_offset(hozon::archive::layout::JST),
                to_t.replace_offset(hozon::archive::layout::JST),
            );
            let _ = cfg;
            let rep = hozon::report::build(&archive, from_t, to_t, clock.now())?;
            let text = match format.as_str() {
                "csv" => hozon::report::to_csv(&rep),
                "json" => serde_json::to_string_pretty(&rep)? + "\n",
                _ => hozon::report::to_html(&rep, lang),
            };
            match output {
                Some(p) => hozon::archive::atomic::write_atomic(&p, text.as_bytes())
                    .with_context(|| format!("cannot write {}", p.display()))?,
                None => print!("{text}"),
            }
            Ok(EXIT_OK)
        }
        Command::Status { archive, within, json } => {
            let cfg = load_config(cli.config.as_deref()).ok();
            let within = within.or(cfg.as_ref().map(|c| c.renew.within_days)).unwrap_or(400);
            let rule = hozon::report::UnsignedRule::new(cfg.as_ref());
            let st = hozon::report::status(&archive, clock()?.now(), within, &rule)?;
            let mut human = format!("{} document(s)\n", st.documents);
            for (label, list) in [
                ("due for renewal", &st.due_for_renewal),
                ("late scans", &st.late_scans),
                ("unsigned", &st.unsigned),
                ("past retention", &st.past_retention),
                ("unfinished", &st.unfinished),
            ] {
                human.push_str(&format!("{label}: {}\n", list.len()));
                for d in list.iter().take(50) {
                    human.push_str(&format!(
                        "  {}  {}  {}\n",
                        d.id,
                        d.archive_path,
                        d.next_renewal_due.as_deref().unwrap_or("")
                    ));
                }
            }
            human.push_str(&tr(
                lang,
                "status.unsigned_overdue",
                &[("days", &st.unsigned_alert_days), ("count", &st.unsigned_overdue.len())],
            ));
            human.push('\n');
            for o in st.unsigned_overdue.iter().take(50) {
                human.push_str(&format!(
                    "  {}  {}  {}  {} → {}\n",
                    o.document.id,
                    o.document.archive_path,
                    o.missing.join("+"),
                    o.since,
                    o.deadline
                ));
            }
            emit(json.as_deref(), &human, &st)?;
            Ok(EXIT_OK)
        }
        Command::Verify {
            paths,
            trust,
            online,
            at,
            catalog,
            ers,
            json,
        } => {
            let args = VerifyArgs {
                paths,
                trust,
                online,
                at,
                catalog,
                ers,
                json,
                lang: cli.lang.clone(),
            };
            verify(cli.config.as_deref(), &args)
        }
        Command::Renew {
            archive,
            within,
            dry_run,
            evidence,
            jobs,
            json,
        } => {
            let cfg = load_config(cli.config.as_deref())?;
            let services = signing_services(&cfg, None, lang)?;
            let opts = hozon::renew::RenewOptions {
                archive,
                evidence: evidence.unwrap_or_else(|| cfg.renew.evidence.clone()),
                within_days: within.unwrap_or(cfg.renew.within_days),
                dry_run,
                jobs: jobs.unwrap_or_else(|| default_jobs(&cfg)),
            };
            let bar = progress_bar();
            let on_done = |i: &hozon::renew::RenewItem| match &bar {
                Some(b) => b.inc(1),
                None => stderr_line(&format!("{:<12} {}", i.outcome, i.path)),
            };
            let rep = hozon::renew::run(&cfg, &services, &opts, &on_done)?;
            if let Some(b) = &bar {
                b.finish_and_clear();
            }
            let mut human = String::new();
            for i in &rep.items {
                human.push_str(&format!("{:<12} {}  ({})\n", i.outcome, i.path, i.why));
                if let (Some(c), Some(m)) = (&i.code, &i.message) {
                    human.push_str(&format!("    {c}: {m}\n"));
                }
            }
            let s = &rep.summary;
            human.push_str(&tr(
                lang,
                "renew.summary",
                &[
                    ("rows", &s.catalog_rows),
                    ("due", &s.due),
                    ("renewed", &s.renewed),
                    ("failed", &s.failed),
                    ("secs", &format!("{:.3}", s.elapsed_secs)),
                ],
            ));
            human.push('\n');
            emit(json.as_deref(), &human, &rep)?;
            Ok(if rep.all_ok() { EXIT_OK } else { EXIT_FAILURES })
        }
        Command::Correct {
            archive,
            document,
            signer,
            note,
            json,
        } => {
            let cfg = load_config(cli.config.as_deref())?;
            correct(
                &cfg,
                hozon::correct::CorrectOptions {
                    archive,
                    document,
                    note,
                },
                signer.as_deref(),
                json.as_deref(),
                lang,
            )
        }
        Command::Reindex { archive, json } => {
            let cfg = load_config(cli.config.as_deref())?;
            let rep = hozon::reindex::run(&cfg, &archive, clock()?.now())?;
            let mut human = String::new();
            for p in &rep.problems {
                human.push_str(&format!("{:<16} {}: {}\n", p.code, p.path.display(), p.message));
            }
            human.push_str(&format!(
                "{} file(s), {} catalog row(s) rebuilt, {} problem(s)\n",
                rep.files,
                rep.rows,
                rep.problems.len()
            ));
            emit(json.as_deref(), &human, &rep)?;
            Ok(if rep.problems.is_empty() {
                EXIT_OK
            } else {
                EXIT_FAILURES
            })
        }
        Command::Keys {
            command:
                KeysCommand::List {
                    module,
                    token,
                    pin_env,
                    pin_file,
                    json,
                },
        } => {
            let modules = if module.is_empty() {
                // The modules the configured signers use, when there is a config.
                let cfg = optional_config(cli.config.as_deref())?;
                let mut m: Vec<PathBuf> = cfg
                    .iter()
                    .flat_map(|c| c.signers.values().filter_map(|s| s.pkcs11.as_ref().map(|p| c.resolve(&p.module))))
                    .collect();
                m.sort();
                m.dedup();
                m
            } else {
                module
            };
            let pin = hozon::sign::read_secret(pin_env.as_deref(), pin_file.as_deref())?;
            let rep = hozon::ops::keys::list(hozon::ops::keys::KeysOptions { modules, token, pin })?;
            emit(json.as_deref(), &render_keys(lang, &rep), &rep)?;
            Ok(EXIT_OK)
        }
        Command::Tsa {
            command: TsaCommand::Serve { listen },
        } => {
            let cfg = load_config(cli.config.as_deref())?;
            let clock: Arc<dyn hozon::clock::Clock> = Arc::from(clock()?);
            let trust = hozon::services::Trust::build(&cfg, clock, false)?;
            let digest = hozon::sign::DigestAlg::from_name(&cfg.tsa.hash).unwrap_or(hozon::sign::DigestAlg::Sha256);
            let tsa = hozon::services::time_stamper(&cfg, &trust, digest)?;
            eprintln!("hozon: {}", tr(lang, "demo.banner", &[]));
            let server = hozon::tsp::server::TsaServer::bind(&listen)?;
            eprintln!(
                "hozon: demo TSA on http://{listen}/tsa, CRLs under http://{listen}/crl/, OCSP at http://{listen}/ocsp"
            );
            let stop = std::sync::atomic::AtomicBool::new(false);
            let demo = trust.demo.as_ref();
            let answer = |request: &[u8]| match demo {
                Some(d) => d.answer_ocsp_request(request, trust.clock.now()),
                None => hozon::pki::ocsp::error_response(true),
            };
            let ocsp: Option<&hozon::tsp::server::OcspAnswerer<'_>> =
                demo.map(|_| &answer as &hozon::tsp::server::OcspAnswerer<'_>);
            server.run_with_ocsp(tsa, demo.map(|d| d.crl_dir.as_path()), ocsp, &stop);
            Ok(EXIT_OK)
        }
    }
}

/// `hozon keys list` for people: each token, its keys with their certificates, and the line
/// to paste into `[signers.NAME]`.
fn render_keys(lang: Lang, r: &hozon::ops::keys::KeysReport) -> String {
    let mut out = String::new();
    let mut line = |indent: usize, text: String| {
        out.push_str(&" ".repeat(indent));
        out.push_str(&text);
        out.push('\n');
    };
    for m in &r.modules {
        line(0, tr(lang, "keys.module", &[("module", &m.module.display()), ("library", &m.library)]));
        if m.tokens.is_empty() {
            line(2, tr(lang, "keys.no_tokens", &[]));
        }
        for t in &m.tokens {
            let pin = tr(lang, &format!("keys.pin.{}", t.pin_status), &[]);
            line(
                2,
                tr(
                    lang,
                    "keys.token",
                    &[
                        ("label", &t.label),
                        ("slot", &t.slot),
                        ("maker", &t.manufacturer),
                        ("model", &t.model),
                        ("serial", &t.serial),
                        ("pin", &pin),
                    ],
                ),
            );
            if !t.logged_in {
                line(4, tr(lang, "keys.not_logged_in", &[]));
            }
            if t.keys.is_empty() {
                line(4, tr(lang, "keys.no_keys", &[]));
            }
            for k in &t.keys {
                let private = tr(lang, &format!("keys.private.{}", k.private_key), &[]);
                let id = if k.id.is_empty() { "-".to_string() } else { k.id.clone() };
                line(4, tr(lang, "keys.key", &[("label", &k.label), ("id", &id), ("kind", &k.kind), ("private", &private)]));
                if let Some(c) = &k.certificate {
                    line(6, tr(lang, "keys.subject", &[("subject", &c.subject)]));
                    line(6, tr(lang, "keys.issuer", &[("issuer", &c.issuer)]));
                    line(6, tr(lang, "keys.validity", &[("from", &c.not_before), ("to", &c.not_after)]));
                    line(6, tr(lang, "keys.key_usage", &[("usage", &c.key_usage.join(", "))]));
                    if let Some(role) = &c.hc_role {
                        line(6, tr(lang, "keys.hc_role", &[("role", role)]));
                    }
                    if c.ca {
                        line(6, tr(lang, "keys.ca", &[]));
                    }
                }
                if let Some(cfg) = &k.config {
                    line(6, tr(lang, "keys.config", &[("line", cfg)]));
                }
            }
        }
    }
    out
}

struct VerifyArgs {
    paths: Vec<PathBuf>,
    trust: Vec<PathBuf>,
    online: bool,
    at: Option<String>,
    catalog: bool,
    ers: Option<PathBuf>,
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
    if a.ers.is_some() && files.len() != 1 {
        anyhow::bail!(
            "--ers names the evidence record of one file, but {} files were given",
            files.len()
        );
    }
    let catalog = if a.catalog {
        Some(hozon::verify::CatalogIndex::load(&a.paths)?)
    } else {
        None
    };
    let opts = hozon::verify::VerifyOptions {
        at,
        max_file_bytes: max_bytes,
    };
    let mut verifier = hozon::verify::Verifier::new(trust, a.online.then_some(source), opts);
    if let Some(cfg) = &cfg {
        verifier = verifier.with_weak_algorithms(cfg.renew.weak_algorithms.clone());
    }
    if let Some(e) = &a.ers {
        verifier = verifier.with_record(e.clone());
    }
    if a.at.is_some() {
        eprintln!(
            "hozon: {}",
            hozon::i18n::tr(lang, "verify.simulated_at", &[("time", &hozon::clock::rfc3339(at))])
        );
    }
    let bar = progress_bar();
    if let Some(b) = &bar {
        b.set_length(files.len() as u64);
    }
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

fn clock() -> anyhow::Result<Box<dyn hozon::clock::Clock>> {
    if let Ok(v) = std::env::var(hozon::clock::SIMULATED_TIME_ENV) {
        if !v.is_empty() {
            eprintln!(
                "hozon: *** SIMULATED TIME {v} ({}) — for tests only ***",
                hozon::clock::SIMULATED_TIME_ENV
            );
        }
    }
    hozon::clock::from_env().map_err(anyhow::Error::msg)
}

/// A progress bar on stderr when it is a terminal (plain lines otherwise).
fn progress_bar() -> Option<indicatif::ProgressBar> {
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
fn emit<T: serde::Serialize>(json: Option<&str>, human: &str, value: &T) -> anyhow::Result<()> {
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
fn write_json<T: serde::Serialize>(w: &mut dyn std::io::Write, value: &T) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// The signer, TSA and trust for commands that sign or timestamp, after the demo banner when
/// the configuration uses the demo PKI.
fn signing_services(cfg: &Config, signer: Option<&str>, lang: Lang) -> anyhow::Result<hozon::services::Services> {
    let clock: Arc<dyn hozon::clock::Clock> = Arc::from(clock()?);
    if cfg.uses_demo() {
        eprintln!("hozon: {}", tr(lang, "demo.banner", &[]));
    }
    Ok(hozon::services::Services::build(cfg, signer, clock)?)
}

/// `hozon ingest`: progress on stderr (a bar on a terminal, a line per document otherwise),
/// the per-document result and summary on stdout (or JSON).
fn ingest(
    cfg: &Config,
    opts: hozon::ingest::IngestOptions,
    signer: Option<&str>,
    json: Option<&str>,
    lang: Lang,
) -> anyhow::Result<u8> {
    use hozon::ingest::Outcome;
    let services = signing_services(cfg, signer, lang)?;
    if let Some(d) = &services.trust.demo {
        if d.created {
            eprintln!("hozon: {}", tr(lang, "demo.created", &[("dir", &d.dir.display())]));
        }
    }
    let label = |o: Outcome| match o {
        Outcome::Archived => tr(lang, "ingest.archived", &[]),
        Outcome::AlreadyArchived => tr(lang, "ingest.already", &[]),
        Outcome::Rejected => tr(lang, "ingest.rejected", &[]),
        Outcome::Failed => tr(lang, "ingest.failed", &[]),
        Outcome::WouldArchive => tr(lang, "ingest.would", &[]),
    };
    let bar = progress_bar();
    let on_done = |r: &hozon::ingest::DocumentResult| match &bar {
        Some(b) => {
            b.inc(1);
            b.set_message(
                r.path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
        }
        None => stderr_line(&format!("{:<16} {}", label(r.outcome), r.path.display())),
    };
    let on_start = |n: usize| {
        if let Some(b) = &bar {
            b.set_length(n as u64);
        }
    };
    let report = hozon::ingest::run_with_progress(cfg, &services, &opts, &on_start, &on_done)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    // The per-document lines go out as they are made (a batch can be hundreds of thousands of
    // documents), to where `emit` sends the rest of the human text.
    {
        use std::io::Write;
        let mut out: Box<dyn Write> = match json {
            Some("-") => Box::new(std::io::BufWriter::new(std::io::stderr().lock())),
            _ => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        };
        for d in &report.documents {
            let target = d
                .archive_path
                .as_ref()
                .map(|p| format!(" → {}", p.display()))
                .unwrap_or_default();
            writeln!(out, "{:<16} {}{target}", label(d.outcome), d.path.display())?;
            for r in d.reasons.iter().chain(d.warnings.iter()) {
                writeln!(out, "    {}: {}", r.code, r.message)?;
                if let Some(a) = hozon::i18n::advice(lang, &r.code) {
                    writeln!(out, "      → {a}")?;
                }
            }
        }
        out.flush()?;
    }
    let mut human = String::new();
    let s = &report.summary;
    human.push_str(&tr(
        lang,
        "ingest.summary",
        &[
            ("archived", &s.archived),
            ("already", &s.already_archived),
            ("rejected", &s.rejected),
            ("failed", &s.failed),
            ("secs", &format!("{:.2}", s.elapsed_secs)),
            ("pps", &format!("{:.1}", s.pages_per_sec)),
        ],
    ));
    human.push('\n');
    if let Some(seal) = &report.seal {
        human.push_str(&tr(
            lang,
            "ingest.sealed",
            &[
                ("sealed", &seal.sealed),
                ("failed", &seal.failed),
                ("time", &seal.timestamp.as_deref().unwrap_or("-")),
            ],
        ));
        human.push('\n');
    }
    if report.demo {
        human.push_str(&tr(lang, "demo.banner", &[]));
        human.push('\n');
    }
    emit(json, &human, &report)?;
    Ok(if report.all_ok() { EXIT_OK } else { EXIT_FAILURES })
}

/// `hozon correct`: one document, one line; a refusal or failure prints its reason code (and
/// JSON with `outcome` and `code` when asked) and exits 1, a usage error exits 2.
fn correct(
    cfg: &Config,
    opts: hozon::correct::CorrectOptions,
    signer: Option<&str>,
    json: Option<&str>,
    lang: Lang,
) -> anyhow::Result<u8> {
    let services = signing_services(cfg, signer, lang)?;
    match hozon::correct::run(cfg, &services, &opts) {
        Ok(r) => {
            let role = r.signer_role.clone().unwrap_or_else(|| "-".into());
            let human = tr(
                lang,
                "correct.corrected",
                &[
                    ("id", &r.id),
                    ("path", &r.path.display()),
                    ("signer", &r.signer),
                    ("role", &role),
                    ("time", &r.timestamp),
                    ("n", &r.corrections),
                ],
            ) + "\n";
            emit(json, &human, &r)?;
            Ok(EXIT_OK)
        }
        Err(e) => {
            let key = if e.is_usage() {
                "correct.usage"
            } else if e.code() == "signer-role-mismatch" {
                "correct.refused"
            } else {
                "correct.failed"
            };
            let mut human = tr(
                lang,
                key,
                &[("document", &opts.document), ("code", &e.code()), ("message", &e)],
            ) + "\n";
            if let Some(a) = hozon::i18n::advice(lang, e.code()) {
                human.push_str(&format!("  → {a}\n"));
            }
            let outcome = if e.code() == "signer-role-mismatch" {
                "refused"
            } else {
                "failed"
            };
            let value = serde_json::json!({"outcome": outcome, "document": opts.document, "code": e.code(), "message": e.to_string()});
            match json {
                Some(_) => emit(json, &human, &value)?,
                None => eprint!("{human}"),
            }
            Ok(if e.is_usage() { EXIT_USAGE } else { EXIT_FAILURES })
        }
    }
}

/// `hozon check`: human report on stdout (stderr when the JSON goes to stdout), JSON on request.
fn check(
    cfg: &Config,
    paths: &[PathBuf],
    profile: Option<&str>,
    json: Option<&str>,
    integrity: bool,
) -> anyhow::Result<u8> {
    let report = hozon::check::run(paths, cfg, profile, integrity)?;
    let human = report.render_human();
    emit(json, &human, &report)?;
    Ok(if report.all_passed() { EXIT_OK } else { EXIT_FAILURES })
}

/// One progress line in one write: stderr is unbuffered, and `eprintln!` with padding writes
/// each piece on its own (a dozen system calls per document of a batch).
fn stderr_line(line: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(format!("{line}\n").as_bytes());
}
