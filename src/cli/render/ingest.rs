//! `hozon ingest` for people: a line per document (with its reasons and what to do), the
//! summary, the seal line and the demo banner.

use std::fmt::Write as _;

use hozon::i18n::{advice, tr, Lang};
use hozon::ops::ingest::{DocumentResult, IngestReport, Outcome};

use super::pad;

/// Width of the outcome column.
const OUTCOME_COLS: usize = 16;

pub fn outcome(lang: Lang, o: Outcome) -> String {
    let key = match o {
        Outcome::Archived => "ingest.archived",
        Outcome::AlreadyArchived => "ingest.already",
        Outcome::Rejected => "ingest.rejected",
        Outcome::Failed => "ingest.failed",
        Outcome::WouldArchive => "ingest.would",
    };
    tr(lang, key, &[])
}

/// The progress line of a finished document (stderr, when it is not a terminal).
pub fn progress(lang: Lang, r: &DocumentResult) -> String {
    format!("{} {}", pad(&outcome(lang, r.outcome), OUTCOME_COLS), r.path.display())
}

/// A document's line, its reasons and warnings, and what to do about each.
pub fn document(lang: Lang, d: &DocumentResult) -> String {
    let mut out = String::new();
    let target = d
        .archive_path
        .as_ref()
        .map(|p| format!(" → {}", p.display()))
        .unwrap_or_default();
    let _ = writeln!(out, "{}{target}", progress(lang, d));
    for r in d.reasons.iter().chain(d.warnings.iter()) {
        let _ = writeln!(out, "    {}: {}", r.code, r.message);
        if let Some(a) = advice(lang, &r.code) {
            let _ = writeln!(out, "      → {a}");
        }
    }
    out
}

/// The summary, the seal line and the demo banner.
pub fn summary(lang: Lang, report: &IngestReport) -> String {
    let mut human = String::new();
    let s = &report.summary;
    human.push_str(&tr(
        lang,
        "ingest.summary",
        &[
            ("archived", &s.archived),
            ("already", &s.already_archived),
            ("rejected", &s.rejected),
            ("failed", &s.failed),
            ("secs", &format!("{:.2}", s.elapsed_secs)),
            ("pps", &format!("{:.1}", s.pages_per_sec)),
        ],
    ));
    human.push('\n');
    if let Some(seal) = &report.seal {
        human.push_str(&tr(
            lang,
            "ingest.sealed",
            &[
                ("sealed", &seal.sealed),
                ("failed", &seal.failed),
                ("time", &seal.timestamp.as_deref().unwrap_or("-")),
            ],
        ));
        human.push('\n');
    }
    if report.demo {
        human.push_str(&tr(lang, "demo.banner", &[]));
        human.push('\n');
    }
    human
}
