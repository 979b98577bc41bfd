//! `hozon keys list`: tokens, keys and certificates on PKCS#11 modules.

use std::path::PathBuf;

use hozon::ops::keys::KeysOptions;

use crate::cli::args::KeysListArgs;
use crate::cli::{emit, render, Ctx};
use crate::EXIT_OK;

pub fn list(ctx: &Ctx, a: KeysListArgs) -> anyhow::Result<u8> {
    let modules = if a.module.is_empty() {
        // The modules the configured signers use, when there is a config.
        let cfg = ctx.optional_config()?;
        let mut m: Vec<PathBuf> = cfg
            .iter()
            .flat_map(|c| c.signers.values().filter_map(|s| s.pkcs11.as_ref().map(|p| c.resolve(&p.module))))
            .collect();
        m.sort();
        m.dedup();
        m
    } else {
        a.module
    };
    let pin = hozon::sign::read_secret(a.pin_env.as_deref(), a.pin_file.as_deref())?;
    let rep = hozon::ops::keys::list(KeysOptions {
        modules,
        token: a.token,
        pin,
    })?;
    emit(a.json.as_deref(), &render::keys::human(ctx.lang, &rep), &rep)?;
    Ok(EXIT_OK)
}
