//! `hozon audit` for people: one line per problem, then the counts.

use std::fmt::Write as _;

use hozon::i18n::{tr, Lang};
use hozon::ops::audit::AuditReport;

pub fn human(lang: Lang, rep: &AuditReport) -> String {
    let mut human = String::new();
    for p in &rep.problems {
        let what = p
            .path
            .as_ref()
            .map(|x| x.display().to_string())
            .or(p.document_id.clone())
            .unwrap_or_default();
        let _ = writeln!(human, "{:<20} {what}: {}", p.code, p.message);
    }
    human.push_str(&tr(
        lang,
        "audit.summary",
        &[("documents", &rep.documents), ("entries", &rep.log_entries), ("problems", &rep.problems.len())],
    ));
    human.push('\n');
    human
}
