//! `hozon correct` for people: the one line of a correction made, refused or failed.

use hozon::i18n::{advice, tr, Lang};
use hozon::ops::correct::{CorrectError, CorrectReport};

pub fn corrected(lang: Lang, r: &CorrectReport) -> String {
    let role = r.signer_role.clone().unwrap_or_else(|| "-".into());
    tr(
        lang,
        "correct.corrected",
        &[
            ("id", &r.id),
            ("path", &r.path.display()),
            ("signer", &r.signer),
            ("role", &role),
            ("time", &r.timestamp),
            ("n", &r.corrections),
        ],
    ) + "\n"
}

/// A correction that did not happen, and what to do.
pub fn not_corrected(lang: Lang, document: &str, e: &CorrectError) -> String {
    let key = if e.is_usage() {
        "correct.usage"
    } else if e.code() == "signer-role-mismatch" {
        "correct.refused"
    } else {
        "correct.failed"
    };
    let mut human = tr(lang, key, &[("document", &document), ("code", &e.code()), ("message", e)]) + "\n";
    if let Some(a) = advice(lang, e.code()) {
        human.push_str(&format!("  → {a}\n"));
    }
    human
}
