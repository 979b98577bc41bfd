//! `hozon status ARCHIVE`: what needs attention.

use hozon::ops::status::StatusOptions;

use crate::cli::args::StatusArgs;
use crate::cli::{clock, emit, render, Ctx};
use crate::EXIT_OK;

pub fn exec(ctx: &Ctx, a: StatusArgs) -> anyhow::Result<u8> {
    let cfg = ctx.config().ok();
    let opts = StatusOptions {
        archive: a.archive,
        within_days: a.within,
    };
    let st = hozon::ops::status::run(cfg.as_ref(), &opts, clock()?.now())?;
    emit(a.json.as_deref(), &render::status::human(ctx.lang, &st), &st)?;
    Ok(EXIT_OK)
}
