//! `hozon reindex ARCHIVE`: exit 0 when every file was read back, 1 with problems.

use crate::cli::args::ReindexArgs;
use crate::cli::{clock, emit, render, Ctx};
use crate::{EXIT_FAILURES, EXIT_OK};

pub fn exec(ctx: &Ctx, a: ReindexArgs) -> anyhow::Result<u8> {
    let cfg = ctx.config()?;
    let rep = hozon::ops::reindex::run(&cfg, &a.archive, clock()?.now())?;
    emit(a.json.as_deref(), &render::reindex::human(ctx.lang, &rep), &rep)?;
    Ok(if rep.problems.is_empty() { EXIT_OK } else { EXIT_FAILURES })
}
