//! `hozon check PATH…`: human report on stdout (stderr when the JSON goes to stdout), JSON on request.

use crate::cli::args::CheckArgs;
use crate::cli::{emit, render, Ctx};
use crate::{EXIT_FAILURES, EXIT_OK};

pub fn exec(ctx: &Ctx, a: CheckArgs) -> anyhow::Result<u8> {
    let cfg = ctx.config()?;
    let report = hozon::ops::check::run(&a.paths, &cfg, a.profile.as_deref(), !a.no_integrity)?;
    emit(a.json.as_deref(), &render::check::human(&report, ctx.lang), &report)?;
    Ok(if report.all_passed() { EXIT_OK } else { EXIT_FAILURES })
}
