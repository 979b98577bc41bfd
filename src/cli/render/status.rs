//! `hozon status` for people: each section with its count and up to 50 documents.

use std::fmt::Write as _;

use hozon::i18n::{tr, Lang};
use hozon::ops::status::Status;

/// Documents listed per section; the JSON has them all.
const LISTED: usize = 50;

pub fn human(lang: Lang, st: &Status) -> String {
    let mut human = tr(lang, "status.documents", &[("count", &st.documents)]);
    human.push('\n');
    for (key, list) in [
        ("status.due", &st.due_for_renewal),
        ("status.late", &st.late_scans),
        ("status.unsigned", &st.unsigned),
        ("status.past_retention", &st.past_retention),
        ("status.unfinished", &st.unfinished),
    ] {
        human.push_str(&tr(lang, key, &[("count", &list.len())]));
        human.push('\n');
        for d in list.iter().take(LISTED) {
            let _ = writeln!(
                human,
                "  {}  {}  {}",
                d.id,
                d.archive_path,
                d.next_renewal_due.as_deref().unwrap_or("")
            );
        }
    }
    human.push_str(&tr(
        lang,
        "status.unsigned_overdue",
        &[("days", &st.unsigned_alert_days), ("count", &st.unsigned_overdue.len())],
    ));
    human.push('\n');
    for o in st.unsigned_overdue.iter().take(LISTED) {
        let _ = writeln!(
            human,
            "  {}  {}  {}  {} → {}",
            o.document.id,
            o.document.archive_path,
            o.missing.join("+"),
            o.since,
            o.deadline
        );
    }
    human
}
