//! `Archive`: one open archive folder — an exclusive lock, the catalog and the audit log — and
//! the write protocol that keeps them in agreement across crashes:
//!
//! 1. catalog row with status `writing` (path and SHA-256 of the bytes about to be written);
//! 2. the PDF written atomically (temp, fsync, rename, fsync folder);
//! 3. the audit entry;
//! 4. the row marked `archived`.
//!
//! On open, rows left in `writing` are settled: a file on disk with the recorded SHA-256 is
//! finished (audit entry added if missing), anything else is dropped so the next run redoes it.
//! The catalog therefore never claims a file that is not complete on disk.
//!
//! Replacing an archived file with a longer revision of itself (renewal, correction) announces
//! the new SHA-256 in the row first (`pending_sha256`), then renames, logs and updates the row. On
//! open, a pending row whose file already has the new hash is finished; otherwise the announcement
//! is withdrawn and the old file, still in place, stays the truth.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::atomic;
pub use super::atomic::io_code;
use super::audit::{AuditError, AuditLog, NewEntry};
use super::catalog::{Catalog, CatalogError, Row, STATUS_ARCHIVED, STATUS_WRITING};
use super::crashpoint;
use super::layout;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    #[error("archive folder {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("archive {path} is in use by another hozon process (lock {lock})")]
    Locked { path: PathBuf, lock: PathBuf },
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The id already has a row (same scans archived earlier, or twice in one run).
    #[error("document {id} is already in the catalog ({path})")]
    AlreadyArchived { id: String, path: String },
    #[error("refusing unsafe archive path {0:?}")]
    UnsafePath(String),
}

impl ArchiveError {
    pub fn code(&self) -> &'static str {
        match self {
            ArchiveError::Io { source, .. } => io_code(source),
            ArchiveError::Locked { .. } => "archive-locked",
            ArchiveError::Catalog(e) => e.code(),
            ArchiveError::Audit(e) => e.code(),
            ArchiveError::UnsafePath(_) => "unsafe-path",
            ArchiveError::AlreadyArchived { .. } => "already-archived",
        }
    }
}

pub struct Archive {
    root: PathBuf,
    _lock: File,
    pub catalog: Catalog,
    pub audit: AuditLog,
}

/// What recovery found on open.
#[derive(Debug, Default, Clone)]
pub struct Recovery {
    pub finished: Vec<String>,
    pub dropped: Vec<String>,
    pub temps_removed: usize,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The file's SHA-256 (hex): the one its maker computed along the way, else hashed here.
fn known_or_hashed(known: Option<[u8; 32]>, pdf: &[u8]) -> String {
    known.map_or_else(|| sha256_hex(pdf), hex::encode)
}

impl Archive {
    /// Open (creating) an archive folder, take its lock, settle any interrupted writes.
    pub fn open(root: &Path, now: &str) -> Result<(Archive, Recovery), ArchiveError> {
        let io = |source| ArchiveError::Io {
            path: root.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(root).map_err(io)?;
        let lock_path = root.join(layout::LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(ArchiveError::Locked {
                    path: root.to_path_buf(),
                    lock: lock_path,
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let catalog = Catalog::open(&root.join(layout::CATALOG_FILE))?;
        let audit = AuditLog::open(&root.join(layout::AUDIT_FILE))?;
        let mut a = Archive {
            root: root.to_path_buf(),
            _lock: lock,
            catalog,
            audit,
        };
        let rec = a.recover(now)?;
        Ok((a, rec))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path_of(&self, relative: &str) -> Result<PathBuf, ArchiveError> {
        layout::resolve(&self.root, relative).ok_or_else(|| ArchiveError::UnsafePath(relative.to_string()))
    }

    fn recover(&mut self, now: &str) -> Result<Recovery, ArchiveError> {
        let mut rec = Recovery::default();
        rec.temps_removed = atomic::remove_stale_temps(&self.root).map_err(|source| ArchiveError::Io {
            path: self.root.clone(),
            source,
        })?;
        let pending = self.catalog.pending_replacements()?;
        let unfinished = self.catalog.unfinished()?;
        if pending.is_empty() && unfinished.is_empty() {
            return Ok(rec);
        }
        let (entries, _) = super::audit::read_and_check(&self.root.join(layout::AUDIT_FILE))?;
        for row in pending {
            let Some(want) = row.pending_sha256.clone() else {
                continue;
            };
            let on_disk = self.path_of(&row.archive_path).ok().and_then(|p| std::fs::read(p).ok());
            match on_disk {
                Some(b) if sha256_hex(&b) == want => {
                    // The new revision is in place. Its timestamp facts are not known here, so the
                    // row keeps the old ones: it stays due and the next renewal runs once more —
                    // harmless, and the catalog never claims evidence the file lacks.
                    let logged = entries.iter().any(|e| {
                        e.document_id.as_deref() == Some(row.id.as_str())
                            && e.details.get("sha256").and_then(|v| v.as_str()) == Some(want.as_str())
                    });
                    if !logged {
                        self.audit.append(
                            now,
                            "replaced",
                            Some(&row.id),
                            serde_json::json!({"path": row.archive_path, "sha256": want, "recovered": true}),
                        )?;
                        crashpoint::hit("recovery-replaced-logged");
                    }
                    let mut r = row.clone();
                    r.archive_sha256 = want;
                    r.archive_size = b.len() as u64;
                    r.pending_sha256 = None;
                    self.catalog.put(&r)?;
                    rec.finished.push(r.id);
                }
                _ => self.catalog.set_pending(&row.id, None)?,
            }
            crashpoint::hit("recovery-replacement-settled");
        }
        for row in unfinished {
            let complete = self
                .path_of(&row.archive_path)
                .ok()
                .and_then(|p| std::fs::read(p).ok())
                .is_some_and(|b| sha256_hex(&b) == row.archive_sha256);
            if complete {
                let logged = entries
                    .iter()
                    .any(|e| e.event == "archived" && e.document_id.as_deref() == Some(&row.id));
                if !logged {
                    self.audit
                        .append(now, "archived", Some(&row.id), archived_details(&row, true))?;
                    crashpoint::hit("recovery-archived-logged");
                }
                self.catalog.set_status(&row.id, STATUS_ARCHIVED)?;
                rec.finished.push(row.id);
            } else {
                self.catalog.delete(&row.id)?;
                rec.dropped.push(row.id);
            }
            crashpoint::hit("recovery-row-settled");
        }
        Ok(rec)
    }

    /// Store a new document: the write protocol above. `row.archive_path` must be set; the
    /// status, hash and size are filled in here. An id that already has a row is refused with
    /// `AlreadyArchived`: its row and file belong to an earlier store and must not be replaced
    /// (the same scans twice in one run would otherwise clobber the first row, then delete it).
    pub fn store_new(&mut self, row: Row, pdf: &[u8], now: &str) -> Result<Row, ArchiveError> {
        if let Some(existing) = self.catalog.get(&row.id)? {
            return Err(ArchiveError::AlreadyArchived {
                id: row.id,
                path: existing.archive_path,
            });
        }
        let prepared = prepare_new(&self.root, row, pdf, now)?;
        let durable = sync_new(vec![prepared])
            .pop()
            .ok_or_else(|| internal("no document synced"))??;
        self.store_durable(vec![durable])
            .pop()
            .ok_or_else(|| internal("no document stored"))?
    }

    /// Store a group of new documents whose files are already written and fsynced under
    /// temporary names (`prepare_new`, then `sync_new`, both without the archive): the write
    /// protocol above with each durable step shared by the group (group commit) — one catalog
    /// transaction for the `writing` rows, the renames, one fsync per folder, one audit write,
    /// one transaction marking them `archived`. The crash protocol is unchanged: every row is
    /// `writing` before its file has its name, and `archived` only after the folder fsync and the
    /// audit entry. When a group step fails, it is redone document by document, so each document
    /// gets its own outcome (a full disk fails the documents it hits, not the whole group).
    /// Results come in the order given.
    pub fn store_durable(&mut self, docs: Vec<DurableDocument>) -> Vec<Result<Row, ArchiveError>> {
        let mut out: Vec<Option<Result<Row, ArchiveError>>> = docs.iter().map(|_| None).collect();
        // 1. Ids that already have a row, or come twice in the group, are refused (the temp file
        //    is dropped, so removed).
        let mut live: Vec<(usize, DurableDocument)> = Vec::with_capacity(docs.len());
        for (i, d) in docs.into_iter().enumerate() {
            let earlier = live
                .iter()
                .find(|(_, l)| l.row.id == d.row.id)
                .map(|(_, l)| l.row.archive_path.clone());
            let refused = match self.catalog.get(&d.row.id) {
                Err(e) => Some(Err(e.into())),
                Ok(Some(existing)) => Some(Err(ArchiveError::AlreadyArchived {
                    id: d.row.id.clone(),
                    path: existing.archive_path,
                })),
                Ok(None) => earlier.map(|path| {
                    Err(ArchiveError::AlreadyArchived {
                        id: d.row.id.clone(),
                        path,
                    })
                }),
            };
            match refused {
                Some(r) => out[i] = Some(r),
                None => live.push((i, d)),
            }
        }
        // 2. The rows, status `writing`, in one transaction (or one by one when it fails).
        let group = self
            .catalog
            .transaction(|c| live.iter().try_for_each(|(_, d)| c.put(&d.row)));
        if group.is_err() {
            live = live
                .into_iter()
                .filter_map(|(i, d)| match self.catalog.put(&d.row) {
                    Ok(()) => Some((i, d)),
                    Err(e) => {
                        out[i] = Some(Err(e.into()));
                        None
                    }
                })
                .collect();
        }
        crashpoint::hit("rows-writing");
        // 3. The renames; 4. one fsync per folder. A document whose file did not get its name
        //    durably is forgotten: row deleted, file (if renamed) removed.
        let mut named: Vec<(usize, DurableDocument, PathBuf)> = Vec::with_capacity(live.len());
        let mut forget: Vec<String> = Vec::new();
        for (i, mut d) in live {
            let Some(file) = d.file.take() else {
                out[i] = Some(Err(internal("document without its file")));
                forget.push(d.row.id.clone());
                continue;
            };
            let path = file.path().to_path_buf();
            let dir = file.dir().to_path_buf();
            match file.persist_noclobber() {
                Ok(()) => named.push((i, d, dir)),
                Err(source) => {
                    out[i] = Some(Err(ArchiveError::Io { path, source }));
                    forget.push(d.row.id.clone());
                }
            }
        }
        let mut dirs: Vec<PathBuf> = named.iter().map(|(_, _, dir)| dir.clone()).collect();
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            if let Err(e) = atomic::sync_dir(&dir) {
                let kind = e.kind();
                for (i, d, _) in named.iter().filter(|(_, _, dd)| *dd == dir) {
                    if let Ok(p) = self.path_of(&d.row.archive_path) {
                        let _ = std::fs::remove_file(p);
                    }
                    out[*i] = Some(Err(ArchiveError::Io {
                        path: dir.clone(),
                        source: std::io::Error::new(kind, e.to_string()),
                    }));
                    forget.push(d.row.id.clone());
                }
                named.retain(|(_, _, dd)| *dd != dir);
            }
        }
        crashpoint::hit("folders-synced");
        // 5. The audit entries, one write and one fsync (or one by one when it fails). A document
        //    whose entry could not be written keeps its `writing` row: its file is complete, so
        //    the next open finishes it (entry and status), as after a crash here.
        let entries: Vec<NewEntry> = named
            .iter()
            .map(|(_, d, _)| NewEntry {
                time: &d.now,
                event: "archived",
                document_id: Some(&d.row.id),
                details: archived_details(&d.row, false),
            })
            .collect();
        let logged: Vec<bool> = match self.audit.append_many(entries) {
            Ok(_) => vec![true; named.len()],
            Err(_) => named
                .iter()
                .map(|(i, d, _)| {
                    match self
                        .audit
                        .append(&d.now, "archived", Some(&d.row.id), archived_details(&d.row, false))
                    {
                        Ok(_) => true,
                        Err(e) => {
                            out[*i] = Some(Err(e.into()));
                            false
                        }
                    }
                })
                .collect(),
        };
        crashpoint::hit("archived-logged");
        let done: Vec<(usize, Row)> = named
            .into_iter()
            .zip(logged)
            .filter(|(_, ok)| *ok)
            .map(|((i, mut d, _), _)| {
                d.row.status = STATUS_ARCHIVED.into();
                (i, d.row)
            })
            .collect();
        // 6. Rows `archived` (and forgotten rows deleted), one transaction, or one by one.
        let group = self.catalog.transaction(|c| {
            done.iter()
                .try_for_each(|(_, r)| c.set_status(&r.id, STATUS_ARCHIVED))?;
            forget.iter().try_for_each(|id| c.delete(id))
        });
        if group.is_err() {
            for id in &forget {
                let _ = self.catalog.delete(id);
            }
        }
        for (i, r) in done {
            out[i] = Some(match &group {
                Ok(()) => Ok(r),
                Err(_) => self
                    .catalog
                    .set_status(&r.id, STATUS_ARCHIVED)
                    .map(|()| r)
                    .map_err(Into::into),
            });
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(internal("document left without an outcome"))))
            .collect()
    }

    /// Replace an archived document's file with a longer revision of itself (renewal,
    /// correction), then log `event` and update its row. The old bytes stay until the rename, so a
    /// crash keeps the old file; the announced hash lets recovery (and `hozon audit`) tell an
    /// interrupted replacement from an altered file. `details` gains the new file's `sha256`.
    pub fn replace(
        &mut self,
        row: Row,
        pdf: &[u8],
        event: &str,
        details: serde_json::Value,
        now: &str,
    ) -> Result<Row, ArchiveError> {
        self.replace_hashed(row, pdf, None, event, details, now)
    }

    /// `replace` with the new file's SHA-256 when the caller has it already (renewal carries
    /// the hash of the old bytes on through what it appends).
    pub fn replace_hashed(
        &mut self,
        mut row: Row,
        pdf: &[u8],
        sha256: Option<[u8; 32]>,
        event: &str,
        mut details: serde_json::Value,
        now: &str,
    ) -> Result<Row, ArchiveError> {
        let path = self.path_of(&row.archive_path)?;
        let new_sha = known_or_hashed(sha256, pdf);
        self.catalog.set_pending(&row.id, Some(&new_sha))?;
        crashpoint::hit("pending-announced");
        if let Err(source) = atomic::write_atomic(&path, pdf) {
            let _ = self.catalog.set_pending(&row.id, None);
            return Err(ArchiveError::Io { path, source });
        }
        if let Some(map) = details.as_object_mut() {
            map.insert("sha256".into(), serde_json::Value::String(new_sha.clone()));
        }
        self.audit.append(now, event, Some(&row.id), details)?;
        crashpoint::hit("replaced-logged");
        row.archive_sha256 = new_sha;
        row.archive_size = pdf.len() as u64;
        row.pending_sha256 = None;
        self.catalog.put(&row)?;
        Ok(row)
    }

    /// Record a non-archiving event (rejection, failure) in the audit log.
    pub fn log(
        &mut self,
        now: &str,
        event: &str,
        document_id: Option<&str>,
        details: serde_json::Value,
    ) -> Result<(), ArchiveError> {
        self.audit.append(now, event, document_id, details)?;
        Ok(())
    }
}

/// A new document's file written under a temporary name in its final folder, not yet synced
/// (`prepare_new`). Made without the archive lock, by the thread that built the PDF.
pub struct NewDocument {
    row: Row,
    now: String,
    file: atomic::TempFile,
}

/// A new document whose file is on disk under its temporary name (`sync_new`), ready for
/// `Archive::store_durable`.
pub struct DurableDocument {
    row: Row,
    now: String,
    file: Option<atomic::SyncedTemp>,
}

impl NewDocument {
    pub fn row(&self) -> &Row {
        &self.row
    }
}

impl DurableDocument {
    pub fn row(&self) -> &Row {
        &self.row
    }
}

/// The heavy half of storing: hash `pdf` into the row (status `writing`, hash, size) and write
/// it beside its final path in archive `root`. Needs no lock: the temp name is unique and never
/// an archive file (an interrupted run's temps are removed on the next open).
pub fn prepare_new(root: &Path, row: Row, pdf: &[u8], now: &str) -> Result<NewDocument, ArchiveError> {
    prepare_new_hashed(root, row, pdf, None, now)
}

/// `prepare_new` with the file's SHA-256 when the caller already has it (ingest continues the
/// signature's hash over the pages instead of hashing them again).
pub fn prepare_new_hashed(
    root: &Path,
    mut row: Row,
    pdf: &[u8],
    sha256: Option<[u8; 32]>,
    now: &str,
) -> Result<NewDocument, ArchiveError> {
    let path =
        layout::resolve(root, &row.archive_path).ok_or_else(|| ArchiveError::UnsafePath(row.archive_path.clone()))?;
    row.archive_sha256 = known_or_hashed(sha256, pdf);
    row.archive_size = pdf.len() as u64;
    row.status = STATUS_WRITING.into();
    let file = atomic::write_temp(&path, pdf).map_err(|source| ArchiveError::Io { path, source })?;
    Ok(NewDocument {
        row,
        now: now.to_string(),
        file,
    })
}

/// fsync the files of several prepared documents at once (no lock needed). Results in order.
pub fn sync_new(docs: Vec<NewDocument>) -> Vec<Result<DurableDocument, ArchiveError>> {
    let mut meta = Vec::with_capacity(docs.len());
    let mut files = Vec::with_capacity(docs.len());
    for d in docs {
        meta.push((d.row, d.now, d.file.path().to_path_buf()));
        files.push(d.file);
    }
    meta.into_iter()
        .zip(atomic::sync_all(files))
        .map(|((row, now, path), synced)| match synced {
            Ok(f) => Ok(DurableDocument {
                row,
                now,
                file: Some(f),
            }),
            Err(source) => Err(ArchiveError::Io { path, source }),
        })
        .collect()
}

fn internal(what: &str) -> ArchiveError {
    ArchiveError::Io {
        path: PathBuf::new(),
        source: std::io::Error::other(what.to_string()),
    }
}

fn archived_details(row: &Row, recovered: bool) -> serde_json::Value {
    serde_json::json!({
        "path": row.archive_path,
        "sha256": row.archive_sha256,
        "profile": row.profile,
        "patient_id": row.patient_id,
        "document_type": row.document_type,
        "signer": row.signer,
        "timestamp": row.timestamp_time,
        "sources": serde_json::from_str::<serde_json::Value>(&row.sources).unwrap_or(serde_json::Value::Null),
        "recovered": recovered,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Regression (crash suite, renew trials): SIGKILL between the renewal's rename and the row
    /// update left the row with the old hash, so `hozon audit` called the file altered.
    #[test]
    fn interrupted_replacement_is_recognised_and_settled() {
        let d = tempfile::tempdir().unwrap();
        let renewed = |n: &str| format!("%PDF {n}+renewal").into_bytes();
        {
            let (mut a, _) = Archive::open(d.path(), "t").unwrap();
            for id in ["r1", "r2", "r3"] {
                a.store_new(row(id), format!("%PDF {id}").as_bytes(), "t").unwrap();
            }
            // what replace() has done when the kill lands before the rename (r1), after it (r2),
            // and after its audit entry (r3)
            a.catalog.set_pending("r1", Some(&sha256_hex(&renewed("r1")))).unwrap();
            for id in ["r2", "r3"] {
                a.catalog.set_pending(id, Some(&sha256_hex(&renewed(id)))).unwrap();
                atomic::write_atomic(&d.path().join(format!("2026/11/27/{id}.pdf")), &renewed(id)).unwrap();
            }
            a.log(
                "t",
                "renewed",
                Some("r3"),
                serde_json::json!({"sha256": sha256_hex(&renewed("r3"))}),
            )
            .unwrap();
        }
        let rep = super::super::inspect::audit_archive(d.path()).unwrap();
        let codes: Vec<&str> = rep.problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, vec!["row-unfinished", "row-unfinished"], "{:?}", rep.problems);
        let (a, rec) = Archive::open(d.path(), "t2").unwrap();
        assert_eq!(rec.finished, vec!["r2", "r3"]);
        let r1 = a.catalog.get("r1").unwrap().unwrap();
        assert_eq!((r1.archive_sha256, r1.pending_sha256), (sha256_hex(b"%PDF r1"), None));
        for id in ["r2", "r3"] {
            let r = a.catalog.get(id).unwrap().unwrap();
            assert_eq!((r.archive_sha256, r.pending_sha256), (sha256_hex(&renewed(id)), None));
        }
        drop(a);
        let (entries, _) = super::super::audit::read_and_check(&d.path().join(layout::AUDIT_FILE)).unwrap();
        let for_doc = |id: &str| entries.iter().filter(|e| e.document_id.as_deref() == Some(id)).count();
        // r2's replacement is logged by recovery; r3's entry was already there and is not repeated
        assert_eq!((for_doc("r1"), for_doc("r2"), for_doc("r3")), (1, 2, 2));
        let rep = super::super::inspect::audit_archive(d.path()).unwrap();
        assert!(rep.ok(), "{:?}", rep.problems);
    }

    /// A file and its catalog row rewritten together still disagree with the hash-chained log.
    #[test]
    fn file_and_row_rewritten_together_disagree_with_the_log() {
        let d = tempfile::tempdir().unwrap();
        {
            let (mut a, _) = Archive::open(d.path(), "t").unwrap();
            let mut r = a.store_new(row("x1"), b"%PDF genuine", "t").unwrap();
            std::fs::write(d.path().join("2026/11/27/x1.pdf"), b"%PDF forged").unwrap();
            r.archive_sha256 = sha256_hex(b"%PDF forged");
            a.catalog.put(&r).unwrap();
        }
        let rep = super::super::inspect::audit_archive(d.path()).unwrap();
        let codes: Vec<&str> = rep.problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, vec!["log-mismatch"], "{:?}", rep.problems);
    }

    #[test]
    fn store_writes_file_row_and_audit() {
        let d = tempfile::tempdir().unwrap();
        let (mut a, _) = Archive::open(d.path(), "t").unwrap();
        let r = a.store_new(row("d1"), b"%PDF-1.7 test", "t").unwrap();
        assert_eq!(
            std::fs::read(d.path().join("2026/11/27/d1.pdf")).unwrap(),
            b"%PDF-1.7 test"
        );
        assert_eq!(a.catalog.get("d1").unwrap().unwrap().status, STATUS_ARCHIVED);
        assert_eq!(r.archive_sha256, sha256_hex(b"%PDF-1.7 test"));
        let (entries, rep) = super::super::audit::read_and_check(&d.path().join(layout::AUDIT_FILE)).unwrap();
        assert!(rep.problems.is_empty());
        assert_eq!(entries.len(), 1);
        // the same id again never overwrites, and leaves the first row in place
        let e = a.store_new(row("d1"), b"other", "t").unwrap_err();
        assert_eq!(e.code(), "already-archived");
        let kept = a.catalog.get("d1").unwrap().unwrap();
        assert_eq!(kept.status, STATUS_ARCHIVED);
        assert_eq!(kept.archive_sha256, sha256_hex(b"%PDF-1.7 test"));
        assert_eq!(
            std::fs::read(d.path().join("2026/11/27/d1.pdf")).unwrap(),
            b"%PDF-1.7 test"
        );
    }

    #[test]
    fn group_store_archives_each_once_and_refuses_repeats() {
        let d = tempfile::tempdir().unwrap();
        let (mut a, _) = Archive::open(d.path(), "t").unwrap();
        a.store_new(row("old"), b"%PDF old", "t").unwrap();
        let docs: Vec<NewDocument> = ["g1", "g2", "old", "g1", "g3"]
            .iter()
            .map(|id| prepare_new(d.path(), row(id), format!("%PDF {id}").as_bytes(), "t2").unwrap())
            .collect();
        let durable: Vec<DurableDocument> = sync_new(docs).into_iter().map(Result::unwrap).collect();
        let got: Vec<Result<String, &str>> = a
            .store_durable(durable)
            .into_iter()
            .map(|r| r.map(|row| row.id).map_err(|e| e.code()))
            .collect();
        assert_eq!(
            got,
            vec![
                Ok("g1".into()),
                Ok("g2".into()),
                Err("already-archived"),
                Err("already-archived"),
                Ok("g3".into())
            ]
        );
        for id in ["g1", "g2", "g3"] {
            let r = a.catalog.get(id).unwrap().unwrap();
            assert_eq!(r.status, STATUS_ARCHIVED);
            let on_disk = std::fs::read(d.path().join(&r.archive_path)).unwrap();
            assert_eq!(on_disk, format!("%PDF {id}").as_bytes());
            assert_eq!(r.archive_sha256, sha256_hex(&on_disk));
        }
        assert_eq!(std::fs::read(d.path().join("2026/11/27/old.pdf")).unwrap(), b"%PDF old");
        assert_eq!(
            atomic::remove_stale_temps(d.path()).unwrap(),
            0,
            "refused documents leave no temp file"
        );
        let (entries, rep) = super::super::audit::read_and_check(&d.path().join(layout::AUDIT_FILE)).unwrap();
        assert!(rep.problems.is_empty(), "{:?}", rep.problems);
        let ids: Vec<&str> = entries.iter().filter_map(|e| e.document_id.as_deref()).collect();
        assert_eq!(ids, vec!["old", "g1", "g2", "g3"]);
        drop(a);
        let rep = super::super::inspect::audit_archive(d.path()).unwrap();
        assert!(rep.ok(), "{:?}", rep.problems);
    }

    /// A kill after the group's `writing` rows and renames (before the audit entries): the next
    /// open finishes each document whose file is complete, logging it once.
    #[test]
    fn group_interrupted_before_the_log_is_finished_on_open() {
        let d = tempfile::tempdir().unwrap();
        {
            let (a, _) = Archive::open(d.path(), "t").unwrap();
            for id in ["k1", "k2"] {
                let doc = prepare_new(d.path(), row(id), format!("%PDF {id}").as_bytes(), "t").unwrap();
                let durable = sync_new(vec![doc]).pop().unwrap().unwrap();
                a.catalog.put(durable.row()).unwrap();
                if id == "k1" {
                    durable.file.unwrap().persist_noclobber().unwrap();
                }
                // k2: killed before its rename (its temp file stays behind)
                else {
                    std::mem::forget(durable);
                }
            }
        }
        let (a, rec) = Archive::open(d.path(), "t2").unwrap();
        assert_eq!(rec.finished, vec!["k1"]);
        assert_eq!(rec.dropped, vec!["k2"]);
        assert_eq!(rec.temps_removed, 1);
        assert_eq!(a.catalog.get("k1").unwrap().unwrap().status, STATUS_ARCHIVED);
        drop(a);
        let rep = super::super::inspect::audit_archive(d.path()).unwrap();
        assert!(rep.ok(), "{:?}", rep.problems);
    }

    #[test]
    fn io_codes_survive_wrapping() {
        let full = std::io::Error::from_raw_os_error(28);
        assert_eq!(io_code(&full), "disk-full");
        // what tempfile hands back: same kind, errno hidden behind a path wrapper
        let wrapped = std::io::Error::new(full.kind(), format!("{full} at path \"x\""));
        assert_eq!(wrapped.raw_os_error(), None);
        assert_eq!(io_code(&wrapped), "disk-full");
        assert_eq!(io_code(&std::io::Error::from_raw_os_error(30)), "archive-not-writable");
        assert_eq!(io_code(&std::io::Error::other("x")), "archive-io");
    }

    #[test]
    fn second_open_is_refused_while_locked() {
        let d = tempfile::tempdir().unwrap();
        let (_a, _) = Archive::open(d.path(), "t").unwrap();
        let e = Archive::open(d.path(), "t").err().unwrap();
        assert_eq!(e.code(), "archive-locked");
    }

    #[test]
    fn recovery_finishes_complete_and_drops_missing() {
        let d = tempfile::tempdir().unwrap();
        {
            let (a, _) = Archive::open(d.path(), "t").unwrap();
            // simulate crashes: one row whose file made it, one whose file did not
            let mut done = row("done");
            done.status = STATUS_WRITING.into();
            done.archive_sha256 = sha256_hex(b"complete");
            a.catalog.put(&done).unwrap();
            atomic::write_atomic(&d.path().join("2026/11/27/done.pdf"), b"complete").unwrap();
            let mut lost = row("lost");
            lost.status = STATUS_WRITING.into();
            lost.archive_sha256 = sha256_hex(b"never");
            a.catalog.put(&lost).unwrap();
        }
        let (a, rec) = Archive::open(d.path(), "t").unwrap();
        assert_eq!(rec.finished, vec!["done"]);
        assert_eq!(rec.dropped, vec!["lost"]);
        assert_eq!(a.catalog.get("done").unwrap().unwrap().status, STATUS_ARCHIVED);
        assert!(a.catalog.get("lost").unwrap().is_none());
        let (entries, _) = super::super::audit::read_and_check(&d.path().join(layout::AUDIT_FILE)).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].document_id.as_deref(), Some("done"));
    }
}
