//! `hozon reindex` for people: one line per problem, then the counts.

use std::fmt::Write as _;

use hozon::i18n::{tr, Lang};
use hozon::ops::reindex::ReindexReport;

pub fn human(lang: Lang, rep: &ReindexReport) -> String {
    let mut human = String::new();
    for p in &rep.problems {
        let _ = writeln!(human, "{:<16} {}: {}", p.code, p.path.display(), p.message);
    }
    human.push_str(&tr(
        lang,
        "reindex.summary",
        &[("files", &rep.files), ("rows", &rep.rows), ("problems", &rep.problems.len())],
    ));
    human.push('\n');
    human
}
