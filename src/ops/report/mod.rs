//! `hozon report`: what an auditor needs over a period, read from the catalog and the audit log
//! (never from the PDFs): volume per day and profile, who signed and scanned, rejections and
//! their reasons, late scans, renewals, failures, documents past retention (listed, never
//! deleted). `build` gathers the typed [`Report`]; `html` (one self-contained file) and `csv`
//! are its two file formats.

mod csv;
mod html;

pub use self::csv::to_csv;
pub use self::html::to_html;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use crate::archive::audit;
use crate::archive::docline::DocLine;
use crate::archive::inspect::{open_catalog, InspectError};
use crate::archive::layout::{self, JST};
use crate::clock::rfc3339;

#[derive(Debug, Clone, Serialize, Default)]
pub struct DayCount {
    pub date: String,
    pub profile: String,
    pub documents: usize,
    pub pages: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventLine {
    pub time: String,
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    pub path: Option<String>,
    pub codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub archive: String,
    pub from: String,
    pub to: String,
    pub generated_at: String,
    pub per_day: Vec<DayCount>,
    pub by_signer: BTreeMap<String, usize>,
    pub by_operator: BTreeMap<String, usize>,
    pub documents: Vec<DocLine>,
    pub rejections: Vec<EventLine>,
    pub rejection_reasons: BTreeMap<String, usize>,
    pub failures: Vec<EventLine>,
    pub late_scans: Vec<DocLine>,
    pub renewals: Vec<EventLine>,
    pub past_retention: Vec<DocLine>,
}

fn event_line(e: &audit::Entry) -> EventLine {
    let codes = e
        .details
        .get("reasons")
        .and_then(|r| r.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.get("code").and_then(|c| c.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    EventLine {
        time: e.time.clone(),
        event: e.event.clone(),
        document_id: e.document_id.clone(),
        path: e.details.get("path").and_then(|p| p.as_str()).map(str::to_string),
        codes,
    }
}

/// Build the report for [from, to) (RFC 3339 or YYYY-MM-DD bounds, JST dates).
pub fn build(
    root: &Path,
    from: OffsetDateTime,
    to: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Report, InspectError> {
    let catalog = open_catalog(root)?;
    let (f, t) = (rfc3339(from), rfc3339(to));
    let rows = catalog.archived_between(&f, &t)?;
    let mut per_day: BTreeMap<(String, String), DayCount> = BTreeMap::new();
    let mut by_signer = BTreeMap::new();
    let mut by_operator = BTreeMap::new();
    for r in &rows {
        let day = crate::clock::parse_datetime(&r.archived_at)
            .map(|x| x.to_offset(JST).date().to_string())
            .unwrap_or_else(|| r.archived_at.clone());
        let e = per_day
            .entry((day.clone(), r.profile.clone()))
            .or_insert_with(|| DayCount {
                date: day,
                profile: r.profile.clone(),
                ..Default::default()
            });
        e.documents += 1;
        e.pages += u64::from(r.pages);
        *by_signer
            .entry(r.signer.clone().unwrap_or_else(|| "-".into()))
            .or_insert(0) += 1;
        *by_operator
            .entry(r.operator.clone().unwrap_or_else(|| "-".into()))
            .or_insert(0) += 1;
    }
    let (entries, _) = audit::read_and_check(&root.join(layout::AUDIT_FILE))?;
    let in_range = |e: &&audit::Entry| e.time.as_str() >= f.as_str() && e.time.as_str() < t.as_str();
    let rejections: Vec<EventLine> = entries
        .iter()
        .filter(in_range)
        .filter(|e| e.event == "rejected")
        .map(event_line)
        .collect();
    let mut rejection_reasons = BTreeMap::new();
    for r in &rejections {
        for c in &r.codes {
            *rejection_reasons.entry(c.clone()).or_insert(0) += 1;
        }
    }
    let failures = entries
        .iter()
        .filter(in_range)
        .filter(|e| matches!(e.event.as_str(), "failed" | "renew-failed" | "seal-failed"))
        .map(event_line)
        .collect();
    let renewals = entries
        .iter()
        .filter(in_range)
        .filter(|e| e.event == "renewed")
        .map(event_line)
        .collect();
    let now_s = rfc3339(now);
    let past_retention = catalog
        .all()?
        .iter()
        .filter(|r| r.retention_until.as_deref().is_some_and(|u| u < now_s.as_str()))
        .map(DocLine::from)
        .collect();
    Ok(Report {
        archive: root.display().to_string(),
        from: f,
        to: t,
        generated_at: now_s,
        per_day: per_day.into_values().collect(),
        by_signer,
        by_operator,
        late_scans: rows
            .iter()
            .filter(|r| r.flags.split(',').any(|x| x == "late-scan"))
            .map(DocLine::from)
            .collect(),
        documents: rows.iter().map(DocLine::from).collect(),
        rejections,
        rejection_reasons,
        failures,
        renewals,
        past_retention,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::archive::catalog::Row;
    use crate::archive::store::Archive;

    fn row(id: &str, day: &str, flags: &str, retention: &str) -> Row {
        Row {
            id: id.into(),
            archive_path: format!("x/{id}.pdf"),
            profile: "chart".into(),
            level: "B-LT".into(),
            sources: "[]".into(),
            sidecar: "null".into(),
            signer: Some("鈴木 次郎".into()),
            operator: Some("山田 花子".into()),
            pages: 3,
            flags: flags.into(),
            retention_until: Some(retention.into()),
            next_renewal_due: Some("2035-01-01T00:00:00Z".into()),
            archived_at: format!("{day}T03:00:00Z"),
            ..Default::default()
        }
    }

    fn fixture() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let (mut a, _) = Archive::open(d.path(), "2026-11-25T00:00:00Z").unwrap();
        a.store_new(
            row("a", "2026-11-24", "", "2031-11-24T00:00:00Z"),
            b"a",
            "2026-11-24T03:00:00Z",
        )
        .unwrap();
        a.store_new(
            row("b", "2026-11-25", "late-scan", "2031-11-25T00:00:00Z"),
            b"b",
            "2026-11-25T03:00:00Z",
        )
        .unwrap();
        a.store_new(
            row("c", "2026-11-25", "", "2020-01-01T00:00:00Z"),
            b"c",
            "2026-11-25T03:00:00Z",
        )
        .unwrap();
        a.log(
            "2026-11-25T04:00:00Z",
            "rejected",
            None,
            serde_json::json!({"path": "/in/低解像度.jpg", "reasons": [{"code": "low-resolution"}]}),
        )
        .unwrap();
        d
    }

    #[test]
    fn report_counts_days_people_rejections_and_retention() {
        let d = fixture();
        let from = crate::clock::parse_datetime("2026-11-01").unwrap();
        let to = crate::clock::parse_datetime("2026-12-01").unwrap();
        let now = crate::clock::parse_datetime("2026-11-27").unwrap();
        let r = build(d.path(), from, to, now).unwrap();
        assert_eq!(r.per_day.len(), 2);
        assert_eq!(r.per_day[1].documents, 2);
        assert_eq!(r.per_day[1].pages, 6);
        assert_eq!(r.by_signer.get("鈴木 次郎"), Some(&3));
        assert_eq!(r.rejection_reasons.get("low-resolution"), Some(&1));
        assert_eq!(r.late_scans.len(), 1);
        assert_eq!(
            r.past_retention.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
            vec!["c"]
        );
        let html = to_html(&r, Lang::Ja);
        assert!(
            html.contains("<svg id=\"daily-chart\"") && html.contains("鈴木 次郎") && html.contains("low-resolution")
        );
        assert!(!html.contains("<script") && !html.contains("http"), "self-contained");
        let csv = to_csv(&r);
        assert_eq!(csv.lines().count(), 4);
        // a narrower period excludes the first day
        let r2 = build(d.path(), crate::clock::parse_datetime("2026-11-25").unwrap(), to, now).unwrap();
        assert_eq!(r2.documents.len(), 2);
    }

    #[test]
    fn html_escapes_sidecar_values() {
        let mut r = build(
            fixture().path(),
            crate::clock::parse_datetime("2026-11-01T00:00:00+09:00").unwrap(),
            crate::clock::parse_datetime("2026-12-01T00:00:00+09:00").unwrap(),
            OffsetDateTime::now_utc(),
        )
        .unwrap();
        r.documents[0].patient_id = Some("<img src=x onerror=alert(1)>".into());
        let html = to_html(&r, Lang::En);
        assert!(!html.contains("<img"), "sidecar text must be escaped");
        // the period as the records office counts days: Japan time, not the UTC instants
        assert!(html.contains("2026-11-01 00:00 JST — 2026-12-01 00:00 JST"), "{html}");
    }
}
