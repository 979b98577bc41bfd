//! `hozon keys list` for people.

use hozon::i18n::{tr, Lang};
use hozon::ops::keys::KeysReport;

/// `hozon keys list` for people: each token, its keys with their certificates, and the line
/// to paste into `[signers.NAME]`.
pub fn human(lang: Lang, r: &KeysReport) -> String {
    let mut out = String::new();
    let mut line = |indent: usize, text: String| {
        out.push_str(&" ".repeat(indent));
        out.push_str(&text);
        out.push('\n');
    };
    for m in &r.modules {
        line(0, tr(lang, "keys.module", &[("module", &m.module.display()), ("library", &m.library)]));
        if m.tokens.is_empty() {
            line(2, tr(lang, "keys.no_tokens", &[]));
        }
        for t in &m.tokens {
            let pin = tr(lang, &format!("keys.pin.{}", t.pin_status), &[]);
            line(
                2,
                tr(
                    lang,
                    "keys.token",
                    &[
                        ("label", &t.label),
                        ("slot", &t.slot),
                        ("maker", &t.manufacturer),
                        ("model", &t.model),
                        ("serial", &t.serial),
                        ("pin", &pin),
                    ],
                ),
            );
            if !t.logged_in {
                line(4, tr(lang, "keys.not_logged_in", &[]));
            }
            if t.keys.is_empty() {
                line(4, tr(lang, "keys.no_keys", &[]));
            }
            for k in &t.keys {
                let private = tr(lang, &format!("keys.private.{}", k.private_key), &[]);
                let id = if k.id.is_empty() { "-".to_string() } else { k.id.clone() };
                line(4, tr(lang, "keys.key", &[("label", &k.label), ("id", &id), ("kind", &k.kind), ("private", &private)]));
                if let Some(c) = &k.certificate {
                    line(6, tr(lang, "keys.subject", &[("subject", &c.subject)]));
                    line(6, tr(lang, "keys.issuer", &[("issuer", &c.issuer)]));
                    line(6, tr(lang, "keys.validity", &[("from", &c.not_before), ("to", &c.not_after)]));
                    line(6, tr(lang, "keys.key_usage", &[("usage", &c.key_usage.join(", "))]));
                    if let Some(role) = &c.hc_role {
                        line(6, tr(lang, "keys.hc_role", &[("role", role)]));
                    }
                    if c.ca {
                        line(6, tr(lang, "keys.ca", &[]));
                    }
                }
                if let Some(cfg) = &k.config {
                    line(6, tr(lang, "keys.config", &[("line", cfg)]));
                }
            }
        }
    }
    out
}
