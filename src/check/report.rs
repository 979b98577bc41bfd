//! The report of a check run: per document and per page verdicts with reasons, serialized to
//! the documented JSON shape, or rendered as one line per document for people.

use serde::Serialize;

use super::CheckedDocument;
use crate::rules::{Finding, Severity};

/// The report of a check run; serializes to the documented JSON shape.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub documents: Vec<DocumentReport>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentReport {
    pub path: String,
    pub profile: String,
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    pub pages: Vec<PageReport>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
}

impl Verdict {
    fn of(findings: &[&Finding]) -> Verdict {
        if findings.iter().any(|f| f.is_error()) {
            Verdict::Fail
        } else {
            Verdict::Pass
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub message: String,
    pub page: Option<usize>,
    pub severity: Severity,
}

impl From<&Finding> for Reason {
    fn from(f: &Finding) -> Self {
        Reason {
            code: f.code,
            message: f.message.clone(),
            page: f.page,
            severity: f.severity,
        }
    }
}

/// One page (a file that could not be inspected appears as one entry with its error).
#[derive(Debug, Clone, Serialize)]
pub struct PageReport {
    pub path: String,
    /// 0-based index within its file.
    pub index: usize,
    /// 1-based page number within the document.
    pub page: usize,
    pub format: Option<&'static str>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub dpi_x: Option<f64>,
    pub dpi_y: Option<f64>,
    pub color: Option<&'static str>,
    pub bits_per_channel: Option<u8>,
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub documents: usize,
    pub passed: usize,
    pub failed: usize,
    pub pages: usize,
}

/// Two decimals are plenty for a resolution and keep 299.9994 from looking like a defect.
fn dpi(v: Option<f64>) -> Option<f64> {
    v.map(|d| (d * 100.0).round() / 100.0)
}

impl CheckReport {
    pub fn new(checked: &[CheckedDocument]) -> Self {
        let documents: Vec<DocumentReport> = checked.iter().map(DocumentReport::new).collect();
        let passed = documents.iter().filter(|d| d.verdict == Verdict::Pass).count();
        let pages = documents.iter().map(|d| d.pages.len()).sum();
        let summary = Summary {
            documents: documents.len(),
            passed,
            failed: documents.len() - passed,
            pages,
        };
        CheckReport { documents, summary }
    }

    pub fn all_passed(&self) -> bool {
        self.summary.failed == 0
    }

    /// One line per document, its reasons underneath, then a summary line.
    pub fn render_human(&self) -> String {
        let mut out = String::new();
        for d in &self.documents {
            let (mark, n) = (if d.verdict == Verdict::Pass { "PASS" } else { "FAIL" }, d.pages.len());
            out.push_str(&format!(
                "{mark}  {}  [{}] {n} page{}\n",
                d.path,
                d.profile,
                if n == 1 { "" } else { "s" }
            ));
            for r in &d.reasons {
                let page = r.page.map(|p| format!("page {p}: ")).unwrap_or_default();
                let level = if r.severity == Severity::Warning {
                    "warning "
                } else {
                    ""
                };
                out.push_str(&format!("      {page}{level}{}: {}\n", r.code, r.message));
            }
        }
        let s = &self.summary;
        out.push_str(&format!(
            "{} document(s), {} page(s): {} passed, {} failed\n",
            s.documents, s.pages, s.passed, s.failed
        ));
        out
    }
}

impl DocumentReport {
    fn new(c: &CheckedDocument) -> Self {
        let all: Vec<&Finding> = c.findings.iter().collect();
        let mut pages = Vec::new();
        for scan in &c.scans {
            let path = scan.path.display().to_string();
            let reasons_for = |n: usize| -> Vec<&Finding> { c.findings.iter().filter(|f| f.page == Some(n)).collect() };
            match &scan.result {
                Ok(s) => {
                    for p in &s.pages {
                        let n = scan.first_page + p.index;
                        let r = reasons_for(n);
                        pages.push(PageReport {
                            path: path.clone(),
                            index: p.index,
                            page: n,
                            format: Some(p.format.as_str()),
                            width: Some(p.width),
                            height: Some(p.height),
                            dpi_x: dpi(p.dpi_x),
                            dpi_y: dpi(p.dpi_y),
                            color: Some(p.color.as_str()),
                            bits_per_channel: Some(p.bits_per_channel),
                            verdict: Verdict::of(&r),
                            reasons: r.into_iter().map(Reason::from).collect(),
                        });
                    }
                }
                Err(_) => {
                    let r = reasons_for(scan.first_page);
                    pages.push(PageReport {
                        path,
                        index: 0,
                        page: scan.first_page,
                        format: None,
                        width: None,
                        height: None,
                        dpi_x: None,
                        dpi_y: None,
                        color: None,
                        bits_per_channel: None,
                        verdict: Verdict::Fail,
                        reasons: r.into_iter().map(Reason::from).collect(),
                    });
                }
            }
        }
        DocumentReport {
            path: c.document.root.display().to_string(),
            profile: c.profile.clone(),
            verdict: Verdict::of(&all),
            reasons: all.into_iter().map(Reason::from).collect(),
            pages,
        }
    }
}
