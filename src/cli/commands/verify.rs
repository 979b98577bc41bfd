//! `hozon verify FILE/DIR…`: exit 0 only when every file is valid.

use hozon::i18n::tr;
use hozon::ops::verify::{Started, VerifyOptions};

use crate::cli::args::VerifyArgs;
use crate::cli::{clock, emit, progress_bar, render, Ctx};
use crate::{EXIT_FAILURES, EXIT_OK};

pub fn exec(ctx: &Ctx, a: VerifyArgs) -> anyhow::Result<u8> {
    let lang = ctx.lang;
    let clock = clock()?;
    let at = match &a.at {
        Some(s) => Some(
            hozon::clock::parse_datetime(s)
                .ok_or_else(|| anyhow::anyhow!("--at {s:?} is not an RFC 3339 date-time or YYYY-MM-DD"))?,
        ),
        None => None,
    };
    let cfg = ctx.optional_config()?;
    let opts = VerifyOptions {
        paths: a.paths,
        trust: a.trust,
        online: a.online,
        at,
        catalog: a.catalog,
        ers: a.ers,
    };
    let bar = progress_bar();
    let on_start = |s: Started| {
        if s.no_trust_roots {
            eprintln!("hozon: warning: {}", tr(lang, "verify.no_trust_roots", &[]));
        }
        if at.is_some() {
            eprintln!(
                "hozon: {}",
                tr(lang, "verify.simulated_at", &[("time", &hozon::clock::rfc3339(s.at))])
            );
        }
        if let Some(b) = &bar {
            b.set_length(s.files as u64);
        }
    };
    let tick = || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let report = hozon::ops::verify::run(cfg.as_ref(), clock, &opts, &on_start, &tick)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    emit(a.json.as_deref(), &render::verify::human(lang, &report), &report)?;
    Ok(if report.all_valid() { EXIT_OK } else { EXIT_FAILURES })
}
