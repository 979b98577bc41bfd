//! `hozon tsa serve`: the demo TSA, CRLs and OCSP responder over HTTP until stopped.

use hozon::i18n::tr;

use crate::cli::{clock, Ctx};
use crate::EXIT_OK;

pub fn serve(ctx: &Ctx, listen: &str) -> anyhow::Result<u8> {
    let lang = ctx.lang;
    let cfg = ctx.config()?;
    hozon::ops::tsa::serve(&cfg, clock()?, listen, &|l| {
        eprintln!("hozon: {}", tr(lang, "demo.banner", &[]));
        eprintln!("hozon: {}", tr(lang, "tsa.listening", &[("addr", &l.addr)]));
    })?;
    Ok(EXIT_OK)
}
