//! `hozon renew` for people: a line per due archive (outcome, path, why; the reason when it
//! failed) and the summary.

use std::fmt::Write as _;

use hozon::i18n::{tr, Lang};
use hozon::ops::renew::{RenewItem, RenewReport};

use super::pad;

/// Width of the outcome column.
const OUTCOME_COLS: usize = 12;

/// The progress line of a finished archive (stderr, when it is not a terminal).
pub fn progress(lang: Lang, i: &RenewItem) -> String {
    let outcome = tr(lang, &format!("renew.outcome.{}", i.outcome), &[]);
    format!("{} {}", pad(&outcome, OUTCOME_COLS), i.path)
}

pub fn human(lang: Lang, rep: &RenewReport) -> String {
    let mut human = String::new();
    for i in &rep.items {
        let _ = writeln!(human, "{}  ({})", progress(lang, i), i.why);
        if let (Some(c), Some(m)) = (&i.code, &i.message) {
            let _ = writeln!(human, "    {c}: {m}");
        }
    }
    let s = &rep.summary;
    human.push_str(&tr(
        lang,
        "renew.summary",
        &[
            ("rows", &s.catalog_rows),
            ("due", &s.due),
            ("renewed", &s.renewed),
            ("failed", &s.failed),
            ("secs", &format!("{:.3}", s.elapsed_secs)),
        ],
    ));
    human.push('\n');
    human
}
