//! `hozon check` for people: one line per document, its reasons underneath, then a summary.

use hozon::i18n::{tr, Lang};
use hozon::ops::check::{CheckReport, Verdict};
use hozon::rules::Severity;

use super::pad;

pub fn human(r: &CheckReport, lang: Lang) -> String {
    let mut out = String::new();
    for d in &r.documents {
        let mark = tr(lang, if d.verdict == Verdict::Pass { "check.pass" } else { "check.fail" }, &[]);
        let n = d.pages.len();
        let pages = tr(lang, if n == 1 { "check.pages_one" } else { "check.pages_many" }, &[("n", &n)]);
        out.push_str(&tr(
            lang,
            "check.document",
            &[("mark", &pad(&mark, 4)), ("path", &d.path), ("profile", &d.profile), ("pages", &pages)],
        ));
        out.push('\n');
        for reason in &d.reasons {
            let page = reason
                .page
                .map(|p| tr(lang, "check.page_prefix", &[("page", &p)]))
                .unwrap_or_default();
            let level = if reason.severity == Severity::Warning {
                tr(lang, "check.warning_prefix", &[])
            } else {
                String::new()
            };
            out.push_str(&format!("      {page}{level}{}: {}\n", reason.code, reason.message));
        }
    }
    let s = &r.summary;
    out.push_str(&tr(
        lang,
        "check.summary",
        &[("documents", &s.documents), ("pages", &s.pages), ("passed", &s.passed), ("failed", &s.failed)],
    ));
    out.push('\n');
    out
}
