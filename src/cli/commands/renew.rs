//! `hozon renew ARCHIVE`: the nightly renewal; exit 1 when any due archive was not renewed.

use hozon::ops::renew::{RenewItem, RenewOptions};

use crate::cli::args::RenewArgs;
use crate::cli::{default_jobs, emit, progress_bar, render, signing_services, stderr_line, Ctx};
use crate::{EXIT_FAILURES, EXIT_OK};

pub fn exec(ctx: &Ctx, a: RenewArgs) -> anyhow::Result<u8> {
    let lang = ctx.lang;
    let cfg = ctx.config()?;
    let services = signing_services(&cfg, None, lang)?;
    let opts = RenewOptions {
        archive: a.archive,
        evidence: a.evidence.unwrap_or_else(|| cfg.renew.evidence.clone()),
        within_days: a.within.unwrap_or(cfg.renew.within_days),
        dry_run: a.dry_run,
        jobs: a.jobs.unwrap_or_else(|| default_jobs(&cfg)),
    };
    let bar = progress_bar();
    let on_done = |i: &RenewItem| match &bar {
        Some(b) => b.inc(1),
        None => stderr_line(&render::renew::progress(lang, i)),
    };
    let rep = hozon::ops::renew::run(&cfg, &services, &opts, &on_done)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    emit(a.json.as_deref(), &render::renew::human(lang, &rep), &rep)?;
    Ok(if rep.all_ok() { EXIT_OK } else { EXIT_FAILURES })
}
