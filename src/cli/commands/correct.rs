//! `hozon correct ARCHIVE DOCUMENT`: one document, one line; a refusal or failure prints its
//! reason code (and JSON with `outcome` and `code` when asked) and exits 1, a usage error exits 2.

use hozon::ops::correct::CorrectOptions;

use crate::cli::args::CorrectArgs;
use crate::cli::{emit, render, signing_services, Ctx};
use crate::{EXIT_FAILURES, EXIT_OK, EXIT_USAGE};

pub fn exec(ctx: &Ctx, a: CorrectArgs) -> anyhow::Result<u8> {
    let lang = ctx.lang;
    let cfg = ctx.config()?;
    let opts = CorrectOptions {
        archive: a.archive,
        document: a.document,
        note: a.note,
    };
    let json = a.json.as_deref();
    let services = signing_services(&cfg, a.signer.as_deref(), lang)?;
    match hozon::ops::correct::run(&cfg, &services, &opts) {
        Ok(r) => {
            emit(json, &render::correct::corrected(lang, &r), &r)?;
            Ok(EXIT_OK)
        }
        Err(e) => {
            let human = render::correct::not_corrected(lang, &opts.document, &e);
            let outcome = if e.code() == "signer-role-mismatch" { "refused" } else { "failed" };
            let value = serde_json::json!({"outcome": outcome, "document": opts.document, "code": e.code(), "message": e.to_string()});
            match json {
                Some(_) => emit(json, &human, &value)?,
                None => eprint!("{human}"),
            }
            Ok(if e.is_usage() { EXIT_USAGE } else { EXIT_FAILURES })
        }
    }
}
