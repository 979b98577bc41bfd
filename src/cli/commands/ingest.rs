//! `hozon ingest`: progress on stderr (a bar on a terminal, a line per document otherwise),
//! the per-document result and summary on stdout (or JSON).

use anyhow::Context;
use hozon::i18n::tr;
use hozon::ops::ingest::{DocumentResult, IngestOptions};

use crate::cli::args::IngestArgs;
use crate::cli::{default_jobs, emit, progress_bar, render, signing_services, stderr_line, Ctx};
use crate::{EXIT_FAILURES, EXIT_OK};

pub fn exec(ctx: &Ctx, a: IngestArgs) -> anyhow::Result<u8> {
    let lang = ctx.lang;
    let cfg = ctx.config()?;
    let out = a
        .out
        .or_else(|| cfg.archive.as_ref().map(|p| cfg.resolve(p)))
        .context("no archive folder: give --out DIR or set `archive` in the config")?;
    let opts = IngestOptions {
        inputs: a.inputs,
        out,
        profile: a.profile,
        jobs: a.jobs.unwrap_or_else(|| default_jobs(&cfg)),
        dry_run: a.dry_run,
        seal: a.seal.unwrap_or_else(|| cfg.seal.clone()),
    };
    let services = signing_services(&cfg, a.signer.as_deref(), lang)?;
    if let Some(d) = &services.trust.demo {
        if d.created {
            eprintln!("hozon: {}", tr(lang, "demo.created", &[("dir", &d.dir.display())]));
        }
    }
    let bar = progress_bar();
    let on_done = |r: &DocumentResult| match &bar {
        Some(b) => {
            b.inc(1);
            b.set_message(
                r.path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
        }
        None => stderr_line(&render::ingest::progress(lang, r)),
    };
    let on_start = |n: usize| {
        if let Some(b) = &bar {
            b.set_length(n as u64);
        }
    };
    let report = hozon::ops::ingest::run_with_progress(&cfg, &services, &opts, &on_start, &on_done)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    // The per-document lines go out as they are made (a batch can be hundreds of thousands of
    // documents), to where `emit` sends the rest of the human text.
    {
        use std::io::Write;
        let mut out: Box<dyn Write> = match a.json.as_deref() {
            Some("-") => Box::new(std::io::BufWriter::new(std::io::stderr().lock())),
            _ => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        };
        for d in &report.documents {
            out.write_all(render::ingest::document(lang, d).as_bytes())?;
        }
        out.flush()?;
    }
    emit(a.json.as_deref(), &render::ingest::summary(lang, &report), &report)?;
    Ok(if report.all_ok() { EXIT_OK } else { EXIT_FAILURES })
}
