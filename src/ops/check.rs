//! `hozon check`: every document found under the inputs is inspected page by page and judged
//! against its profile (`check::check_document`), documents in parallel; the result is a
//! `CheckReport` with per-document and per-page verdicts and reasons, serialized to the
//! documented JSON shape (the CLI renders it for people).

use std::path::PathBuf;

use rayon::prelude::*;
use serde::Serialize;

use crate::check::{check_document, CheckedDocument};
use crate::config::Config;
use crate::document::{discover, DiscoverError};
use crate::rules::{Finding, Severity};

/// Errors that stop a check run before any document is judged (exit code 2 territory).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    #[error("unknown profile {name:?}; the configuration defines: {known}")]
    UnknownProfile { name: String, known: String },
    #[error(transparent)]
    Discover(#[from] DiscoverError),
}

impl CheckError {
    pub fn code(&self) -> &'static str {
        match self {
            CheckError::UnknownProfile { .. } => "profile-unknown",
            CheckError::Discover(e) => e.code(),
        }
    }
}

/// Check everything under `paths`, documents in parallel, in discovery order.
/// File bytes are released as each document is done.
pub fn run(
    paths: &[PathBuf],
    cfg: &Config,
    profile_override: Option<&str>,
    integrity: bool,
) -> Result<CheckReport, CheckError> {
    if let Some(name) = profile_override {
        if cfg.profile(name).is_none() {
            let known = cfg.profiles.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(CheckError::UnknownProfile {
                name: name.to_string(),
                known,
            });
        }
    }
    let docs = discover(paths)?;
    let checked: Vec<CheckedDocument> = docs
        .par_iter()
        .map(|d| {
            let mut c = check_document(d, cfg, profile_override, integrity);
            c.drop_bytes();
            c
        })
        .collect();
    Ok(CheckReport::new(&checked))
}


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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn cfg() -> Config {
        let text =
            "[tsa]\nurl='builtin:demo'\n[profiles.chart]\nmax_pages = 2\n[profiles.prescription]\nmax_pages = 10\n";
        Config::from_toml(text, Path::new("t.toml"), Path::new(".")).unwrap()
    }

    fn jpeg(dpi: u16) -> Vec<u8> {
        crate::scan::jpeg_fixture(64, 90, dpi)
    }

    #[test]
    fn pages_are_numbered_across_the_document() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("カルテ");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("p1.jpg"), jpeg(300)).unwrap();
        std::fs::write(dir.join("p2.jpg"), jpeg(150)).unwrap();
        std::fs::write(dir.join("p3.png"), b"\x89PNG\r\n\x1a\nbroken").unwrap();
        let report = run(&[t.path().to_path_buf()], &cfg(), None, true).unwrap();
        let pages = &report.documents[0].pages;
        assert_eq!(
            pages.iter().map(|p| p.verdict).collect::<Vec<_>>(),
            [Verdict::Pass, Verdict::Fail, Verdict::Fail]
        );
        assert_eq!(pages[2].format, None);
    }

    #[test]
    fn unknown_profile_stops_the_run() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("a.jpg"), jpeg(300)).unwrap();
        let e = run(&[t.path().to_path_buf()], &cfg(), Some("nope"), true).unwrap_err();
        assert_eq!(e.code(), "profile-unknown");
    }

    #[test]
    fn extension_mismatch_is_a_warning_only() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("scan.png"), jpeg(300)).unwrap();
        let r = run(&[t.path().to_path_buf()], &cfg(), None, true).unwrap();
        assert!(r.all_passed());
        assert_eq!(r.documents[0].reasons[0].code, "extension-mismatch");
        assert_eq!(r.documents[0].reasons[0].severity, Severity::Warning);
    }

}
