//! The report as one self-contained HTML page (inline CSS and SVG; no scripts, no external
//! resources), in the operator's language.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Report;
use crate::i18n::{tr, Lang};

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

