//! Checking one document: each of its files is inspected page by page (headers, then an
//! integrity pass) and judged against its profile's rules; the result is a `CheckedDocument`
//! with its findings. A broken file is a finding, never a stop. `ops::check` runs this over a
//! batch for `hozon check`; `ops::ingest` runs it before signing.

use std::path::{Path, PathBuf};

use crate::config::{Config, Profile};
use crate::document::Document;
use crate::rules::{self, Finding};
use crate::scan::{self, ScanError, ScanFile};

/// One source file of a document after inspection.
#[derive(Debug)]
pub struct CheckedScan {
    pub path: PathBuf,
    /// 1-based document page number of this file's first page.
    pub first_page: usize,
    pub result: Result<ScanFile, ScanError>,
    /// The bytes as read, for ingest to hash and embed without reading again.
    /// `None` when the file was not read (too large, I/O error) or after [`CheckedDocument::drop_bytes`].
    pub bytes: Option<Vec<u8>>,
}

impl CheckedScan {
    /// Pages this file contributes (a file that failed counts as one).
    pub fn page_count(&self) -> usize {
        self.result.as_ref().map(|s| s.pages.len()).unwrap_or(1)
    }
}

/// A document judged against its profile.
#[derive(Debug)]
pub struct CheckedDocument {
    pub document: Document,
    /// Name of the profile applied.
    pub profile: String,
    pub scans: Vec<CheckedScan>,
    /// Every finding, page numbers 1-based across the document.
    pub findings: Vec<Finding>,
    /// No finding of severity error.
    pub passed: bool,
}

impl CheckedDocument {
    pub fn page_count(&self) -> usize {
        self.scans.iter().map(CheckedScan::page_count).sum()
    }
    /// Release the file bytes (reports do not need them).
    pub fn drop_bytes(&mut self) {
        for s in &mut self.scans {
            s.bytes = None;
        }
    }
}

/// The profile name for a document: `--profile`, else the sidecar's, else the config default.
pub fn profile_name(doc: &Document, cfg: &Config, profile_override: Option<&str>) -> String {
    profile_override
        .map(str::to_string)
        .or_else(|| doc.sidecar.as_deref().and_then(|s| s.profile.clone()))
        .unwrap_or_else(|| cfg.default_profile.clone())
}

/// Check one document: reads each source once and keeps its bytes in the result.
/// `integrity == false` is header-only mode (no pass over the whole data).
pub fn check_document(
    doc: &Document,
    cfg: &Config,
    profile_override: Option<&str>,
    integrity: bool,
) -> CheckedDocument {
    let mut findings = Vec::new();
    if let Some(e) = &doc.sidecar_error {
        findings.push(Finding::error("sidecar-invalid", e.clone(), None));
    }
    let mut name = profile_name(doc, cfg, profile_override);
    let profile: &Profile = match cfg.profile(&name) {
        Some(p) => p,
        None => {
            let code = if profile_override.is_some() {
                "profile-unknown"
            } else {
                "sidecar-invalid"
            };
            findings.push(Finding::error(
                code,
                format!("field `profile`: {name:?} is not a profile in the configuration"),
                None,
            ));
            name = cfg.default_profile.clone();
            match cfg.profile(&name) {
                Some(p) => p,
                // Config validation guarantees the default exists; stay total anyway.
                None => return finish(doc, name, Vec::new(), findings),
            }
        }
    };
    if doc.sources.is_empty() {
        findings.push(Finding::error("empty-file", "the document folder holds no scan", None));
    }
    let mut scans = Vec::with_capacity(doc.sources.len());
    let mut next_page = 1;
    for path in &doc.sources {
        let (result, bytes) = inspect_file(path, cfg, integrity);
        let scan = CheckedScan {
            path: path.clone(),
            first_page: next_page,
            result,
            bytes,
        };
        findings.extend(scan_findings(&scan, profile));
        next_page += scan.page_count();
        scans.push(scan);
    }
    findings.extend(rules::check_document(next_page - 1, profile));
    finish(doc, name, scans, findings)
}

fn finish(doc: &Document, profile: String, scans: Vec<CheckedScan>, findings: Vec<Finding>) -> CheckedDocument {
    let passed = !findings.iter().any(Finding::is_error);
    CheckedDocument {
        document: doc.clone(),
        profile,
        scans,
        findings,
        passed,
    }
}

/// Read (size-checked first), inspect and optionally verify one file.
fn inspect_file(path: &Path, cfg: &Config, integrity: bool) -> (Result<ScanFile, ScanError>, Option<Vec<u8>>) {
    let limits = &cfg.limits;
    let io = |e: std::io::Error| ScanError::Io { reason: e.to_string() };
    match std::fs::metadata(path) {
        Err(e) => return (Err(io(e)), None),
        Ok(m) if m.len() > limits.max_file_bytes => {
            let reason = format!("file is {} bytes, limit is {} bytes", m.len(), limits.max_file_bytes);
            return (Err(ScanError::TooLarge { reason }), None);
        }
        Ok(_) => {}
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return (Err(io(e)), None),
    };
    let result = scan::inspect(path, &bytes, limits).and_then(|s| {
        if integrity {
            scan::verify_integrity(&s, &bytes)?;
        }
        Ok(s)
    });
    (result, Some(bytes))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

fn scan_findings(scan: &CheckedScan, profile: &Profile) -> Vec<Finding> {
    let file = file_name(&scan.path);
    let s = match &scan.result {
        Err(e) => return vec![Finding::error(e.code(), format!("{file}: {e}"), Some(scan.first_page))],
        Ok(s) => s,
    };
    let mut out = Vec::new();
    if s.extension_mismatch {
        out.push(Finding::warning(
            "extension-mismatch",
            format!("{file}: the content is {}, the name says otherwise", s.format.as_str()),
            Some(scan.first_page),
        ));
    }
    for page in &s.pages {
        for mut f in rules::check_page(page, profile) {
            f.page = Some(scan.first_page + page.index);
            f.message = if s.pages.len() > 1 {
                format!("{file} page {}: {}", page.index + 1, f.message)
            } else {
                format!("{file}: {}", f.message)
            };
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::discover;

    fn cfg() -> Config {
        let text =
            "[tsa]\nurl='builtin:demo'\n[profiles.chart]\nmax_pages = 2\n[profiles.prescription]\nmax_pages = 10\n";
        Config::from_toml(text, Path::new("t.toml"), Path::new(".")).unwrap()
    }

    fn jpeg(dpi: u16) -> Vec<u8> {
        crate::scan::jpeg_fixture(64, 90, dpi)
    }

    #[test]
    fn pages_are_numbered_across_the_document_and_bytes_are_kept() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("カルテ");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("p1.jpg"), jpeg(300)).unwrap();
        std::fs::write(dir.join("p2.jpg"), jpeg(150)).unwrap();
        std::fs::write(dir.join("p3.png"), b"\x89PNG\r\n\x1a\nbroken").unwrap();
        let docs = discover(&[t.path().to_path_buf()]).unwrap();
        let c = check_document(&docs[0], &cfg(), None, true);
        assert!(!c.passed);
        let got: Vec<(&str, Option<usize>)> = c.findings.iter().map(|f| (f.code, f.page)).collect();
        assert_eq!(
            got,
            [
                ("low-resolution", Some(2)),
                ("unreadable", Some(3)),
                ("too-many-pages", None)
            ]
        );
        assert_eq!(c.scans[0].bytes.as_deref(), Some(jpeg(300).as_slice()));
    }

    #[test]
    fn profile_comes_from_override_then_sidecar_then_default() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("処方箋.jpg");
        std::fs::write(&f, jpeg(300)).unwrap();
        std::fs::write(t.path().join("処方箋.json"), r#"{"profile":"prescription"}"#).unwrap();
        let docs = discover(std::slice::from_ref(&f)).unwrap();
        assert_eq!(check_document(&docs[0], &cfg(), None, true).profile, "prescription");
        assert_eq!(check_document(&docs[0], &cfg(), Some("chart"), true).profile, "chart");
        std::fs::write(t.path().join("処方箋.json"), r#"{"profile":"nope"}"#).unwrap();
        let docs = discover(&[f]).unwrap();
        let c = check_document(&docs[0], &cfg(), None, true);
        assert_eq!((c.passed, c.findings[0].code), (false, "sidecar-invalid"));
    }

    #[test]
    fn file_over_the_size_limit_is_not_read() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("big.jpg"), jpeg(300)).unwrap();
        let mut c = cfg();
        c.limits.max_file_bytes = 10;
        let docs = discover(&[t.path().to_path_buf()]).unwrap();
        let d = check_document(&docs[0], &c, None, true);
        assert_eq!(d.findings[0].code, "too-large");
        assert!(d.scans[0].bytes.is_none());
    }
}
