//! `hozon audit ARCHIVE`: exit 0 when the archive agrees with itself, 1 with problems.

use hozon::ops::audit::AuditOptions;

use crate::cli::args::AuditArgs;
use crate::cli::{emit, render, Ctx};
use crate::{EXIT_FAILURES, EXIT_OK};

pub fn exec(ctx: &Ctx, a: AuditArgs) -> anyhow::Result<u8> {
    let rep = hozon::ops::audit::run(&AuditOptions { archive: a.archive })?;
    emit(a.json.as_deref(), &render::audit::human(ctx.lang, &rep), &rep)?;
    Ok(if rep.ok() { EXIT_OK } else { EXIT_FAILURES })
}
