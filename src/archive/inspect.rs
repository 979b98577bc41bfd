//! Reading an archive without changing it: opening its catalog (`open_catalog`), listing its
//! PDFs, and the consistency check behind `hozon audit` — the audit log's hash chain, that every
//! catalog row has its file with the recorded SHA-256 and an `archived` log entry, and that no
//! PDF sits in the archive without a row. Reports; never repairs.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::atomic;
use super::audit;
use super::catalog::{Catalog, STATUS_ARCHIVED};
use super::layout;
use super::store::sha256_hex;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Problem {
    /// Stable code: audit-chain-broken, file-missing, file-altered, log-missing, log-mismatch, file-extra,
    /// row-unfinished, temp-leftover.
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct AuditReport {
    pub documents: usize,
    pub log_entries: usize,
    pub problems: Vec<Problem>,
}

impl AuditReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    #[error("{0} is not a hozon archive (no {catalog})", catalog = layout::CATALOG_FILE)]
    NotAnArchive(PathBuf),
    #[error(transparent)]
    Catalog(#[from] super::catalog::CatalogError),
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
}

impl InspectError {
    pub fn code(&self) -> &'static str {
        match self {
            InspectError::NotAnArchive(_) => "not-an-archive",
            InspectError::Catalog(e) => e.code(),
            InspectError::Audit(e) => e.code(),
        }
    }
}

/// The catalog of the archive at `root`, for reading; `not-an-archive` when there is none.
pub fn open_catalog(root: &Path) -> Result<Catalog, InspectError> {
    let p = root.join(layout::CATALOG_FILE);
    if !p.is_file() {
        return Err(InspectError::NotAnArchive(root.to_path_buf()));
    }
    Ok(Catalog::open(&p)?)
}

/// Check an archive folder (read-only; takes no lock so it can run beside a nightly job).
pub fn audit_archive(root: &Path) -> Result<AuditReport, InspectError> {
    let cat_path = root.join(layout::CATALOG_FILE);
    if !cat_path.is_file() {
        return Err(InspectError::NotAnArchive(root.to_path_buf()));
    }
    let catalog = Catalog::open(&cat_path)?;
    let (entries, chain) = audit::read_and_check(&root.join(layout::AUDIT_FILE))?;
    let mut rep = AuditReport {
        log_entries: entries.len(),
        ..Default::default()
    };
    for (line, msg) in chain.problems {
        rep.problems.push(Problem {
            code: "audit-chain-broken",
            message: format!("audit.jsonl line {line}: {msg}"),
            document_id: None,
            path: None,
        });
    }
    let mut logged: HashMap<&str, usize> = HashMap::new();
    // The newest SHA-256 the hash-chained log records for each document: a file and catalog row
    // rewritten together still disagree with it.
    let mut logged_sha: HashMap<&str, &str> = HashMap::new();
    for e in &entries {
        if let (Some(id), Some(sha)) = (
            e.document_id.as_deref(),
            e.details.get("sha256").and_then(|v| v.as_str()),
        ) {
            logged_sha.insert(id, sha);
        }
        if e.event == "archived" {
            if let Some(id) = e.document_id.as_deref() {
                *logged.entry(id).or_default() += 1;
            }
        }
    }
    let rows = catalog.all()?;
    rep.documents = rows.len();
    let mut known: HashSet<PathBuf> = HashSet::new();
    for row in &rows {
        let Some(path) = layout::resolve(root, &row.archive_path) else {
            rep.problems.push(Problem {
                code: "file-missing",
                message: format!("unsafe path {:?} in catalog", row.archive_path),
                document_id: Some(row.id.clone()),
                path: None,
            });
            continue;
        };
        known.insert(path.clone());
        if row.status != STATUS_ARCHIVED {
            rep.problems.push(Problem {
                code: "row-unfinished",
                message: format!("status {} (an interrupted run; the next ingest settles it)", row.status),
                document_id: Some(row.id.clone()),
                path: Some(path.clone()),
            });
            continue;
        }
        match std::fs::read(&path) {
            Err(e) => rep.problems.push(Problem {
                code: "file-missing",
                message: e.to_string(),
                document_id: Some(row.id.clone()),
                path: Some(path.clone()),
            }),
            Ok(bytes) => {
                let h = sha256_hex(&bytes);
                if row.pending_sha256.as_deref() == Some(h.as_str()) {
                    rep.problems.push(Problem {
                        code: "row-unfinished",
                        message: "a renewal or correction was interrupted after its file was written (the next run settles it)"
                            .into(),
                        document_id: Some(row.id.clone()),
                        path: Some(path.clone()),
                    });
                } else if h != row.archive_sha256 {
                    rep.problems.push(Problem {
                        code: "file-altered",
                        message: format!(
                            "SHA-256 {} differs from the catalog's {}",
                            &h[..16],
                            row.archive_sha256.get(..16).unwrap_or("?")
                        ),
                        document_id: Some(row.id.clone()),
                        path: Some(path.clone()),
                    });
                }
            }
        }
        if let Some(sha) = logged_sha.get(row.id.as_str()).filter(|s| **s != row.archive_sha256) {
            if row.pending_sha256.as_deref() != Some(*sha) {
                rep.problems.push(Problem {
                    code: "log-mismatch",
                    message: format!(
                        "the audit log's newest SHA-256 for this document is {}, the catalog's {}",
                        sha.get(..16).unwrap_or("?"),
                        row.archive_sha256.get(..16).unwrap_or("?")
                    ),
                    document_id: Some(row.id.clone()),
                    path: Some(path.clone()),
                });
            }
        }
        if !logged.contains_key(row.id.as_str()) {
            rep.problems.push(Problem {
                code: "log-missing",
                message: "no 'archived' entry in audit.jsonl".into(),
                document_id: Some(row.id.clone()),
                path: Some(path),
            });
        }
    }
    for p in pdfs_under(root) {
        if !known.contains(&p) {
            rep.problems.push(Problem {
                code: "file-extra",
                message: "PDF in the archive without a catalog row".into(),
                document_id: None,
                path: Some(p),
            });
        }
    }
    // A killed run leaves the temporary files of what it was writing (signed PDFs: patient
    // data) until the next run removes them. While a run holds the archive they are its work in
    // progress, and that run removed every older one when it took the lock.
    if !run_in_progress(root) {
        for p in atomic::temp_files_under(root) {
            rep.problems.push(Problem {
                code: "temp-leftover",
                message: "temporary file left by an interrupted run (the next ingest, renew or correct removes it)".into(),
                document_id: None,
                path: Some(p),
            });
        }
    }
    Ok(rep)
}

/// Whether a hozon run holds the archive's lock right now. The lock is an flock, which cannot be
/// tested without taking it (and taking it, even shared, would make a run starting at that
/// moment fail with archive-locked), so this reads the kernel's lock table (Linux
/// `/proc/locks`) for the lock file's device and inode. Where there is no such table, or the
/// file system reports other numbers there (some overlay set-ups), it answers false: leftovers
/// are then reported rather than hidden.
fn run_in_progress(root: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(root.join(layout::LOCK_FILE)) else {
        return false;
    };
    let Ok(table) = std::fs::read_to_string("/proc/locks") else {
        return false;
    };
    // st_dev as glibc's major()/minor() split it; /proc/locks prints "MAJ:MIN:INODE" in hex:hex:dec.
    let dev = meta.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let id = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    table.lines().any(|l| {
        let fields: Vec<&str> = l.split_whitespace().collect();
        fields.contains(&"FLOCK") && fields.contains(&id.as_str())
    })
}

/// Every PDF below `root` (archive files; temp files never end in .pdf), sorted.
pub fn pdfs_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() && p.extension().is_some_and(|x| x == "pdf") => out.push(p),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::catalog::Row;
    use crate::archive::store::Archive;

    fn row(id: &str) -> Row {
        Row {
            id: id.into(),
            archive_path: format!("2026/11/27/{id}.pdf"),
            profile: "chart".into(),
            level: "B-LT".into(),
            sources: "[]".into(),
            sidecar: "null".into(),
            archived_at: "2026-11-27T00:00:00Z".into(),
            ..Default::default()
        }
    }

    fn archive_with(ids: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let (mut a, _) = Archive::open(d.path(), "t").unwrap();
        for id in ids {
            a.store_new(row(id), format!("%PDF {id}").as_bytes(), "t").unwrap();
        }
        d
    }

    fn codes(r: &AuditReport) -> Vec<&'static str> {
        r.problems.iter().map(|p| p.code).collect()
    }

    #[test]
    fn clean_archive_passes() {
        let d = archive_with(&["a", "b"]);
        let r = audit_archive(d.path()).unwrap();
        assert!(r.ok(), "{:?}", r.problems);
        assert_eq!((r.documents, r.log_entries), (2, 2));
    }

    #[test]
    fn missing_altered_and_extra_files_are_reported() {
        let d = archive_with(&["a", "b"]);
        std::fs::remove_file(d.path().join("2026/11/27/a.pdf")).unwrap();
        std::fs::write(d.path().join("2026/11/27/b.pdf"), b"%PDF replaced").unwrap();
        std::fs::write(d.path().join("2026/11/27/c.pdf"), b"%PDF stray").unwrap();
        let mut c = codes(&audit_archive(d.path()).unwrap());
        c.sort();
        assert_eq!(c, vec!["file-altered", "file-extra", "file-missing"]);
    }

    #[test]
    fn temp_leftovers_are_reported_until_a_run_removes_them() {
        let d = archive_with(&["a"]);
        let temp = d.path().join("2026/11/27").join(format!("{}signed.part", atomic::TEMP_PREFIX));
        std::fs::write(&temp, b"%PDF half of a signed file").unwrap();
        let r = audit_archive(d.path()).unwrap();
        assert_eq!(codes(&r), vec!["temp-leftover"]);
        assert_eq!(r.problems[0].path.as_deref(), Some(temp.as_path()));
        // While a run holds the archive, its temporary files are work in progress.
        {
            let (_a, _) = Archive::open(d.path(), "t").unwrap();
            assert!(!temp.exists(), "opening the archive removes older leftovers");
            std::fs::write(&temp, b"%PDF being written").unwrap();
            if std::path::Path::new("/proc/locks").exists() {
                let r = audit_archive(d.path()).unwrap();
                assert!(r.ok(), "a live run's temp file is not a leftover: {:?}", r.problems);
            }
        }
        // The run ended without removing it (as after kill -9): reported again.
        assert_eq!(codes(&audit_archive(d.path()).unwrap()), vec!["temp-leftover"]);
        let (_a, _) = Archive::open(d.path(), "t").unwrap();
        drop(_a);
        assert!(audit_archive(d.path()).unwrap().ok());
    }

    #[test]
    fn deleted_log_line_shows_as_chain_break_and_missing_entry() {
        let d = archive_with(&["a", "b", "c"]);
        let p = d.path().join(layout::AUDIT_FILE);
        let text = std::fs::read_to_string(&p).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, l)| l)
            .collect();
        std::fs::write(&p, kept.join("\n") + "\n").unwrap();
        let c = codes(&audit_archive(d.path()).unwrap());
        assert!(c.contains(&"audit-chain-broken") && c.contains(&"log-missing"), "{c:?}");
    }
}
