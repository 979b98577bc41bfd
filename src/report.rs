//! `hozon report` and `hozon status`: what an auditor and the records office need, read from the
//! catalog and the audit log (never from the PDFs): volume per day and profile, who signed and
//! scanned, rejections and their reasons, late scans, renewals, failures, documents past
//! retention (listed, never deleted), and what is due. HTML is one self-contained file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use crate::archive::audit;
use crate::archive::catalog::{Catalog, Row, STATUS_ARCHIVED};
use crate::archive::inspect::InspectError;
use crate::archive::layout::{self, JST};
use crate::clock::rfc3339;
use crate::config::{Config, Requirement};
use crate::i18n::{tr, Lang};
use crate::workflow;

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
pub struct DocLine {
    pub id: String,
    pub archive_path: String,
    pub profile: String,
    pub patient_id: Option<String>,
    pub document_type: Option<String>,
    pub document_date: Option<String>,
    pub signer: Option<String>,
    pub operator: Option<String>,
    pub timestamp_time: Option<String>,
    pub flags: String,
    pub retention_until: Option<String>,
    pub next_renewal_due: Option<String>,
    /// Corrections (`hozon correct`) and who signed the latest.
    pub corrections: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected_by: Option<String>,
}

impl From<&Row> for DocLine {
    fn from(r: &Row) -> Self {
        DocLine {
            id: r.id.clone(),
            archive_path: r.archive_path.clone(),
            profile: r.profile.clone(),
            patient_id: r.patient_id.clone(),
            document_type: r.document_type.clone(),
            document_date: r.document_date.clone(),
            signer: r.signer.clone(),
            operator: r.operator.clone(),
            timestamp_time: r.timestamp_time.clone(),
            flags: r.flags.clone(),
            retention_until: r.retention_until.clone(),
            next_renewal_due: r.next_renewal_due.clone(),
            corrections: r.corrections,
            corrected_by: r.corrected_by.clone(),
        }
    }
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

fn open_catalog(root: &Path) -> Result<Catalog, InspectError> {
    let p = root.join(layout::CATALOG_FILE);
    if !p.is_file() {
        return Err(InspectError::NotAnArchive(root.to_path_buf()));
    }
    Ok(Catalog::open(&p)?)
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

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An RFC 3339 instant as the records office reads it: Japan time, to the minute. The JSON and
/// CSV keep the exact UTC instants; anything unparsable is shown as it is.
fn in_japan_time(rfc3339: &str) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] JST");
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| t.to_offset(crate::archive::layout::JST).format(&format).ok())
        .unwrap_or_else(|| rfc3339.to_string())
}

/// CSV: one row per archived document in the period (UTF-8 with BOM so spreadsheet tools
/// read the Japanese correctly).
pub fn to_csv(r: &Report) -> String {
    let mut s = String::from("\u{feff}id,archive_path,profile,patient_id,document_type,document_date,signer,operator,timestamp,flags,retention_until,next_renewal_due\n");
    let q = |v: &Option<String>| csv_field(v.as_deref().unwrap_or(""));
    for d in &r.documents {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&d.id),
            csv_field(&d.archive_path),
            csv_field(&d.profile),
            q(&d.patient_id),
            q(&d.document_type),
            q(&d.document_date),
            q(&d.signer),
            q(&d.operator),
            q(&d.timestamp_time),
            csv_field(&d.flags),
            q(&d.retention_until),
            q(&d.next_renewal_due)
        );
    }
    s
}

fn csv_field(v: &str) -> String {
    // Quote always; neutralise spreadsheet formulas.
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    format!("\"{}\"", v.replace('"', "\"\""))
}

/// One self-contained HTML page (inline CSS and SVG; no scripts, no external resources).
pub fn to_html(r: &Report, lang: Lang) -> String {
    let t = |k: &str| esc(&tr(lang, k, &[]));
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title>",
        if lang == Lang::Ja { "ja" } else { "en" },
        t("report.title")
    );
    h.push_str("<style>body{font-family:'Noto Sans CJK JP','Hiragino Sans',sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.3em .6em;font-size:90%}th{background:#eef}h1{font-size:150%}h2{font-size:120%;margin-top:1.5em}.bar{fill:#3a6ea5}.axis{stroke:#444}.lbl{font-size:11px}.empty{color:#777}</style></head><body>");
    let _ = write!(
        h,
        "<h1>{}</h1><p>{}: {} — {}<br>{}: {}<br>{}: {}</p>",
        t("report.title"),
        t("report.period"),
        esc(&in_japan_time(&r.from)),
        esc(&in_japan_time(&r.to)),
        t("report.archive"),
        esc(&r.archive),
        t("report.generated"),
        esc(&in_japan_time(&r.generated_at))
    );
    // daily volume chart
    let _ = write!(h, "<h2>{}</h2>", t("report.daily"));
    let mut days: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &r.per_day {
        *days.entry(d.date.as_str()).or_insert(0) += d.documents;
    }
    if days.is_empty() {
        let _ = write!(h, "<p class=\"empty\">{}</p>", t("report.none"));
    } else {
        let max = days.values().copied().max().unwrap_or(1).max(1);
        let bw = 28usize;
        let width = 60 + days.len() * (bw + 8);
        let _ = write!(h, "<svg id=\"daily-chart\" role=\"img\" width=\"{width}\" height=\"240\"><line class=\"axis\" x1=\"40\" y1=\"200\" x2=\"{}\" y2=\"200\"/>", width - 10);
        for (i, (day, n)) in days.iter().enumerate() {
            let bh = (*n as f64 / max as f64 * 170.0).round() as usize;
            let x = 50 + i * (bw + 8);
            let _ = write!(h, "<rect class=\"bar\" x=\"{x}\" y=\"{}\" width=\"{bw}\" height=\"{bh}\"><title>{} {}</title></rect><text class=\"lbl\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{n}</text><text class=\"lbl\" x=\"{}\" y=\"216\" text-anchor=\"middle\">{}</text>", 200 - bh, esc(day), n, x + bw / 2, 195 - bh, x + bw / 2, esc(day.get(5..).unwrap_or(day)));
        }
        h.push_str("</svg>");
    }
    table(
        &mut h,
        &t("report.per_day"),
        &[
            t("report.date"),
            t("report.profile"),
            t("report.documents"),
            t("report.pages"),
        ],
        r.per_day.iter().map(|d| {
            vec![
                d.date.clone(),
                d.profile.clone(),
                d.documents.to_string(),
                d.pages.to_string(),
            ]
        }),
        &t("report.none"),
    );
    table(
        &mut h,
        &t("report.by_signer"),
        &[t("report.signer"), t("report.documents")],
        r.by_signer.iter().map(|(k, v)| vec![k.clone(), v.to_string()]),
        &t("report.none"),
    );
    table(
        &mut h,
        &t("report.by_operator"),
        &[t("report.operator"), t("report.documents")],
        r.by_operator.iter().map(|(k, v)| vec![k.clone(), v.to_string()]),
        &t("report.none"),
    );
    table(
        &mut h,
        &t("report.rejections"),
        &[t("report.time"), t("report.path"), t("report.reasons")],
        r.rejections
            .iter()
            .map(|e| vec![e.time.clone(), e.path.clone().unwrap_or_default(), e.codes.join(", ")]),
        &t("report.none"),
    );
    table(
        &mut h,
        &t("report.late"),
        &[
            t("report.id"),
            t("report.patient"),
            t("report.document_date"),
            t("report.timestamp"),
        ],
        r.late_scans.iter().map(|d| {
            vec![
                d.id.clone(),
                d.patient_id.clone().unwrap_or_default(),
                d.document_date.clone().unwrap_or_default(),
                d.timestamp_time.clone().unwrap_or_default(),
            ]
        }),
        &t("report.none"),
    );
    table(
        &mut h,
        &t("report.renewals"),
        &[t("report.time"), t("report.id")],
        r.renewals
            .iter()
            .map(|e| vec![e.time.clone(), e.document_id.clone().unwrap_or_default()]),
        &t("report.none"),
    );
    table(
        &mut h,
        &t("report.failures"),
        &[t("report.time"), t("report.path"), t("report.reasons")],
        r.failures.iter().map(|e| {
            vec![
                e.time.clone(),
                e.path.clone().or(e.document_id.clone()).unwrap_or_default(),
                e.codes.join(", "),
            ]
        }),
        &t("report.none"),
    );
    table(
        &mut h,
        &t("report.past_retention"),
        &[t("report.id"), t("report.profile"), t("report.retention_until")],
        r.past_retention.iter().map(|d| {
            vec![
                d.id.clone(),
                d.profile.clone(),
                d.retention_until.clone().unwrap_or_default(),
            ]
        }),
        &t("report.none"),
    );
    table(
        &mut h,
        &t("report.documents_list"),
        &[
            t("report.id"),
            t("report.profile"),
            t("report.patient"),
            t("report.document_type"),
            t("report.signer"),
            t("report.timestamp"),
        ],
        r.documents.iter().map(|d| {
            vec![
                d.id.clone(),
                d.profile.clone(),
                d.patient_id.clone().unwrap_or_default(),
                d.document_type.clone().unwrap_or_default(),
                d.signer.clone().unwrap_or_default(),
                d.timestamp_time.clone().unwrap_or_default(),
            ]
        }),
        &t("report.none"),
    );
    h.push_str("</body></html>\n");
    h
}

fn table(h: &mut String, title: &str, head: &[String], rows: impl Iterator<Item = Vec<String>>, none: &str) {
    let _ = write!(h, "<h2>{title}</h2>");
    let rows: Vec<Vec<String>> = rows.collect();
    if rows.is_empty() {
        let _ = write!(h, "<p class=\"empty\">{none}</p>");
        return;
    }
    h.push_str("<table><tr>");
    for c in head {
        let _ = write!(h, "<th>{c}</th>");
    }
    h.push_str("</tr>");
    for r in rows {
        h.push_str("<tr>");
        for c in r {
            let _ = write!(h, "<td>{}</td>", esc(&c));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
}

/// `hozon status`: due for renewal, late, unsigned, past retention.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub documents: u64,
    pub due_for_renewal: Vec<DocLine>,
    pub late_scans: Vec<DocLine>,
    pub unsigned: Vec<DocLine>,
    /// The limit `unsigned_overdue` applies, in business days.
    pub unsigned_alert_days: u32,
    /// Stored without a signature or timestamp their profile requires, for longer than
    /// `unsigned_alert_days` business days.
    pub unsigned_overdue: Vec<OverdueLine>,
    pub past_retention: Vec<DocLine>,
    pub unfinished: Vec<DocLine>,
}

/// A document still lacking its signature or timestamp past the limit.
#[derive(Debug, Clone, Serialize)]
pub struct OverdueLine {
    #[serde(flatten)]
    pub document: DocLine,
    /// What is missing: "signature", "timestamp".
    pub missing: Vec<&'static str>,
    /// The day the limit counts from (Japan time): the document date, else the day it was archived.
    pub since: String,
    /// The last business day within the limit.
    pub deadline: String,
}

/// When unsigned documents become overdue: `[workflow] unsigned_alert_days` business days
/// (default 1, as the per-encounter rule), skipping weekends and `[workflow] holidays`; only
/// what the document's profile requires counts (a convenience copy may stay unsigned).
pub struct UnsignedRule<'a> {
    pub days: u32,
    pub holidays: Vec<time::Date>,
    config: Option<&'a Config>,
}

impl<'a> UnsignedRule<'a> {
    /// Default limit of one business day.
    pub const DEFAULT_DAYS: u32 = 1;

    /// From the config; without one, the default limit and every signature and timestamp required.
    pub fn new(config: Option<&'a Config>) -> UnsignedRule<'a> {
        UnsignedRule {
            days: config
                .and_then(|c| c.workflow.unsigned_alert_days)
                .unwrap_or(Self::DEFAULT_DAYS),
            holidays: config.map(|c| workflow::holidays(&c.workflow)).unwrap_or_default(),
            config,
        }
    }

    /// What `row` lacks of what its profile requires (an unknown profile requires both).
    fn missing(&self, row: &Row) -> Vec<&'static str> {
        let profile = self.config.and_then(|c| c.profile(&row.profile));
        let required = |r: Option<Requirement>| r.is_none_or(|r| r == Requirement::Required);
        let mut out = Vec::new();
        if (row.signer.is_none() || row.level == "unsigned") && required(profile.map(|p| p.signature)) {
            out.push("signature");
        }
        if row.timestamp_time.is_none() && required(profile.map(|p| p.timestamp)) {
            out.push("timestamp");
        }
        out
    }

    /// The overdue line for `row` at `now`, if it is overdue.
    pub fn overdue(&self, row: &Row, now: OffsetDateTime) -> Option<OverdueLine> {
        if row.status != STATUS_ARCHIVED {
            return None; // unfinished rows are listed as such
        }
        let missing = self.missing(row);
        if missing.is_empty() {
            return None;
        }
        let since = row
            .document_date
            .as_deref()
            .and_then(workflow::local_date)
            .or_else(|| workflow::local_date(&row.archived_at))?;
        let deadline = workflow::deadline(since, self.days, &self.holidays);
        (now.to_offset(JST).date() > deadline).then(|| OverdueLine {
            document: DocLine::from(row),
            missing,
            since: since.to_string(),
            deadline: deadline.to_string(),
        })
    }
}

pub fn status(root: &Path, now: OffsetDateTime, within_days: u32, rule: &UnsignedRule) -> Result<Status, InspectError> {
    let catalog = open_catalog(root)?;
    let now_s = rfc3339(now);
    let horizon = rfc3339(now + time::Duration::days(i64::from(within_days)));
    let all = catalog.all()?;
    Ok(Status {
        documents: all.len() as u64,
        due_for_renewal: catalog.due(&horizon)?.iter().map(DocLine::from).collect(),
        late_scans: all
            .iter()
            .filter(|r| r.flags.split(',').any(|x| x == "late-scan"))
            .map(DocLine::from)
            .collect(),
        unsigned: all.iter().filter(|r| r.signer.is_none()).map(DocLine::from).collect(),
        unsigned_alert_days: rule.days,
        unsigned_overdue: all.iter().filter_map(|r| rule.overdue(r, now)).collect(),
        past_retention: all
            .iter()
            .filter(|r| r.retention_until.as_deref().is_some_and(|u| u < now_s.as_str()))
            .map(DocLine::from)
            .collect(),
        unfinished: catalog.unfinished()?.iter().map(DocLine::from).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn unsigned_documents_become_overdue_after_the_business_day_limit() {
        let cfg = Config::from_toml(
            "[tsa]\nurl='builtin:demo'\n[workflow]\nholidays=['2026-11-30']\n[profiles.chart]\n\
             [profiles.convenience]\nsignature='optional'\ntimestamp='optional'\n[profiles.bb]\ntimestamp='optional'\n",
            Path::new("t.toml"),
            Path::new("."),
        )
        .unwrap();
        let rule = UnsignedRule::new(Some(&cfg));
        assert_eq!(rule.days, 1, "default: one business day");
        let mut unsigned = row("u", "2026-11-27", "", "2031-11-27T00:00:00Z");
        (unsigned.signer, unsigned.level, unsigned.status) = (None, "unsigned".into(), STATUS_ARCHIVED.into());
        unsigned.document_date = Some("2026-11-27".into()); // a Friday
        let at = |t: &str| crate::clock::parse_datetime(t).unwrap();
        // Monday 30th is a holiday: Tuesday 1st is the last day within the limit.
        assert!(
            rule.overdue(&unsigned, at("2026-12-01T14:59:00Z")).is_none(),
            "Tue 23:59 JST"
        );
        let o = rule
            .overdue(&unsigned, at("2026-12-01T15:00:00Z"))
            .expect("Wed 00:00 JST is late");
        assert_eq!(
            (o.missing, o.since.as_str(), o.deadline.as_str()),
            (vec!["signature", "timestamp"], "2026-11-27", "2026-12-01")
        );
        // Without a document date the archive day counts.
        unsigned.document_date = None;
        unsigned.archived_at = "2026-11-30T16:00:00Z".into(); // Tue 1st in Japan
        assert!(rule.overdue(&unsigned, at("2026-12-02T12:00:00Z")).is_none());
        assert!(rule.overdue(&unsigned, at("2026-12-02T15:00:00Z")).is_some());
        // A convenience copy may stay unsigned; a signed B-B file lacks only its timestamp.
        let mut conv = unsigned.clone();
        conv.profile = "convenience".into();
        assert!(rule.overdue(&conv, at("2027-01-01")).is_none());
        let mut bb = row("b", "2026-11-27", "", "2031-11-27T00:00:00Z");
        bb.status = STATUS_ARCHIVED.into();
        assert_eq!(rule.overdue(&bb, at("2027-01-01")).unwrap().missing, vec!["timestamp"]);
        bb.profile = "bb".into();
        assert!(
            rule.overdue(&bb, at("2027-01-01")).is_none(),
            "the profile does not require a timestamp"
        );
        bb.timestamp_time = Some("2026-11-27T03:00:00Z".into());
        bb.profile = "chart".into();
        assert!(rule.overdue(&bb, at("2027-01-01")).is_none(), "signed and timestamped");
        let stricter = UnsignedRule {
            days: 3,
            ..UnsignedRule::new(Some(&cfg))
        };
        assert!(stricter.overdue(&unsigned, at("2026-12-03T15:00:00Z")).is_none());
    }

    #[test]
    fn status_lists_due_late_and_past_retention() {
        let d = fixture();
        let rule = UnsignedRule::new(None);
        let s = status(
            d.path(),
            crate::clock::parse_datetime("2026-11-27").unwrap(),
            400,
            &rule,
        )
        .unwrap();
        assert_eq!(s.documents, 3);
        assert!(s.due_for_renewal.is_empty());
        assert_eq!(s.late_scans.len(), 1);
        assert_eq!(s.past_retention.len(), 1);
        let s = status(
            d.path(),
            crate::clock::parse_datetime("2034-06-01").unwrap(),
            400,
            &rule,
        )
        .unwrap();
        assert_eq!(s.due_for_renewal.len(), 3);
    }
}
