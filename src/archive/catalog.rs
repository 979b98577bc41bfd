//! The catalog `<archive>/catalog.sqlite`: one row per archived document, so renewals, status
//! and reports read rows instead of PDFs. The archive files stay the truth (`hozon reindex`
//! rebuilds this from them); a row whose status is `writing` means the file may not be on disk.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    #[error("catalog {path}: {source}")]
    Sql { path: PathBuf, source: rusqlite::Error },
}

impl CatalogError {
    pub fn code(&self) -> &'static str {
        let CatalogError::Sql { source, .. } = self;
        match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => "disk-full",
            Some(rusqlite::ErrorCode::ReadOnly) | Some(rusqlite::ErrorCode::CannotOpen) => "archive-not-writable",
            _ => "catalog-error",
        }
    }
}

/// Row status.
pub const STATUS_WRITING: &str = "writing";
pub const STATUS_ARCHIVED: &str = "archived";

/// One document in the catalog.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub id: String,
    /// Path relative to the archive root, with '/' separators.
    pub archive_path: String,
    pub archive_sha256: String,
    pub archive_size: u64,
    pub status: String,
    pub profile: String,
    pub level: String,
    pub patient_id: Option<String>,
    pub document_type: Option<String>,
    pub document_date: Option<String>,
    /// JSON array of {"name","sha256","size"}.
    pub sources: String,
    /// The sidecar as JSON (or null).
    pub sidecar: String,
    pub signer: Option<String>,
    pub signer_role: Option<String>,
    pub information_manager: Option<String>,
    pub operator: Option<String>,
    pub pages: u32,
    /// RFC 3339 time of the signature timestamp (from the TSA).
    pub timestamp_time: Option<String>,
    /// RFC 3339 time of the newest timestamp of any kind.
    pub newest_timestamp_time: Option<String>,
    /// Expiry of the newest timestamp's TSA certificate.
    pub tsa_cert_expiry: Option<String>,
    /// When renewal is next due (RFC 3339).
    pub next_renewal_due: Option<String>,
    /// Newest timestamp's weakest algorithm note (e.g. "sha256/rsa2048").
    pub newest_timestamp_algs: Option<String>,
    pub retention_until: Option<String>,
    pub reference_copy: bool,
    pub paper_location: Option<String>,
    /// Comma-separated flags such as "late-scan".
    pub flags: String,
    pub archived_at: String,
    pub renewed_at: Option<String>,
    pub renewals: u32,
    /// Path of the RFC 4998 evidence record, when one exists.
    pub ers_path: Option<String>,
    /// SHA-256 of a replacement being written (renewal); cleared when it is in place.
    pub pending_sha256: Option<String>,
    /// Corrections (`hozon correct`): signed revisions added after the original signature.
    pub corrections: u32,
    /// Signer (/Name) of the latest correction.
    pub corrected_by: Option<String>,
    /// RFC 3339 time of the latest correction's signature timestamp.
    pub corrected_at: Option<String>,
}

const COLUMNS: &str = "id, archive_path, archive_sha256, archive_size, status, profile, level, patient_id, \
    document_type, document_date, sources, sidecar, signer, signer_role, information_manager, operator, pages, \
    timestamp_time, newest_timestamp_time, tsa_cert_expiry, next_renewal_due, newest_timestamp_algs, \
    retention_until, reference_copy, paper_location, flags, archived_at, renewed_at, renewals, ers_path, pending_sha256, \
    corrections, corrected_by, corrected_at";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    archive_path TEXT NOT NULL,
    archive_sha256 TEXT NOT NULL,
    archive_size INTEGER NOT NULL,
    status TEXT NOT NULL,
    profile TEXT NOT NULL,
    level TEXT NOT NULL,
    patient_id TEXT,
    document_type TEXT,
    document_date TEXT,
    sources TEXT NOT NULL,
    sidecar TEXT NOT NULL,
    signer TEXT,
    signer_role TEXT,
    information_manager TEXT,
    operator TEXT,
    pages INTEGER NOT NULL,
    timestamp_time TEXT,
    newest_timestamp_time TEXT,
    tsa_cert_expiry TEXT,
    next_renewal_due TEXT,
    newest_timestamp_algs TEXT,
    retention_until TEXT,
    reference_copy INTEGER NOT NULL,
    paper_location TEXT,
    flags TEXT NOT NULL,
    archived_at TEXT NOT NULL,
    renewed_at TEXT,
    renewals INTEGER NOT NULL DEFAULT 0,
    ers_path TEXT,
    pending_sha256 TEXT,
    corrections INTEGER NOT NULL DEFAULT 0,
    corrected_by TEXT,
    corrected_at TEXT
);
CREATE INDEX IF NOT EXISTS documents_due ON documents(next_renewal_due);
CREATE INDEX IF NOT EXISTS documents_archived_at ON documents(archived_at);
CREATE INDEX IF NOT EXISTS documents_algs ON documents(newest_timestamp_algs, status);
CREATE INDEX IF NOT EXISTS documents_unsettled ON documents(status) WHERE status != 'archived';
";

pub struct Catalog {
    path: PathBuf,
    conn: Connection,
}

impl Catalog {
    /// Open or create the catalog (WAL, full sync: a committed row survives a crash).
    pub fn open(path: &Path) -> Result<Catalog, CatalogError> {
        let err = |source| CatalogError::Sql {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(err)?;
        // 512 KiB of page cache per connection (SQLite's default is 2 MB): a batch's memory must
        // not grow with the catalog, and the OS page cache serves the rest just as well.
        conn.pragma_update(None, "cache_size", -512).map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        let c = Catalog {
            path: path.to_path_buf(),
            conn,
        };
        c.migrate()?;
        Ok(c)
    }

    /// Columns added after the first release: older catalogs gain them on open.
    fn migrate(&self) -> Result<(), CatalogError> {
        let mut st = self
            .conn
            .prepare("PRAGMA table_info(documents)")
            .map_err(|e| self.err(e))?;
        let names: Vec<String> = st
            .query_map([], |r| r.get::<_, String>(1))
            .map_err(|e| self.err(e))?
            .filter_map(Result::ok)
            .collect();
        let added = [
            ("pending_sha256", "pending_sha256 TEXT"),
            ("corrections", "corrections INTEGER NOT NULL DEFAULT 0"),
            ("corrected_by", "corrected_by TEXT"),
            ("corrected_at", "corrected_at TEXT"),
        ];
        for (name, decl) in added {
            if !names.iter().any(|n| n == name) {
                self.conn
                    .execute_batch(&format!("ALTER TABLE documents ADD COLUMN {decl}"))
                    .map_err(|e| self.err(e))?;
            }
        }
        // Partial index: finding interrupted renewals must not scan a large catalog.
        self.conn
            .execute_batch("CREATE INDEX IF NOT EXISTS documents_pending ON documents(pending_sha256) WHERE pending_sha256 IS NOT NULL")
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn err(&self, source: rusqlite::Error) -> CatalogError {
        CatalogError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    /// Insert or replace a row.
    pub fn put(&self, r: &Row) -> Result<(), CatalogError> {
        let sql = format!("INSERT OR REPLACE INTO documents ({COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34)");
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut st| {
                st.execute(params![
                    r.id,
                    r.archive_path,
                    r.archive_sha256,
                    r.archive_size as i64,
                    r.status,
                    r.profile,
                    r.level,
                    r.patient_id,
                    r.document_type,
                    r.document_date,
                    r.sources,
                    r.sidecar,
                    r.signer,
                    r.signer_role,
                    r.information_manager,
                    r.operator,
                    r.pages,
                    r.timestamp_time,
                    r.newest_timestamp_time,
                    r.tsa_cert_expiry,
                    r.next_renewal_due,
                    r.newest_timestamp_algs,
                    r.retention_until,
                    r.reference_copy,
                    r.paper_location,
                    r.flags,
                    r.archived_at,
                    r.renewed_at,
                    r.renewals,
                    r.ers_path,
                    r.pending_sha256,
                    r.corrections,
                    r.corrected_by,
                    r.corrected_at
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn set_status(&self, id: &str, status: &str) -> Result<(), CatalogError> {
        self.conn
            .prepare_cached("UPDATE documents SET status = ?1 WHERE id = ?2")
            .and_then(|mut st| st.execute(params![status, id]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Remove every row (reindex, inside a transaction).
    pub fn delete_all(&self) -> Result<(), CatalogError> {
        self.conn
            .execute("DELETE FROM documents", [])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn delete(&self, id: &str) -> Result<(), CatalogError> {
        self.conn
            .execute("DELETE FROM documents WHERE id = ?1", params![id])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn get(&self, id: &str) -> Result<Option<Row>, CatalogError> {
        let sql = format!("SELECT {COLUMNS} FROM documents WHERE id = ?1");
        // Cached: ingest asks once per document; preparing the statement cost more than the look-up.
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut st| st.query_row(params![id], row_from_sql).optional())
            .map_err(|e| self.err(e))
    }

    /// Rows matching a WHERE clause (internal callers only; values bound as parameters).
    fn select(&self, where_clause: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<Row>, CatalogError> {
        let sql = format!("SELECT {COLUMNS} FROM documents {where_clause}");
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = st.query_map(args, row_from_sql).map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    pub fn all(&self) -> Result<Vec<Row>, CatalogError> {
        self.select("ORDER BY archived_at, id", &[])
    }

    /// Rows left in `writing` by an interrupted run.
    pub fn unfinished(&self) -> Result<Vec<Row>, CatalogError> {
        self.select(
            "INDEXED BY documents_unsettled WHERE status = ?1 AND status != 'archived'",
            &[&STATUS_WRITING],
        )
    }

    /// Rows with a replacement in flight (renewal interrupted).
    pub fn pending_replacements(&self) -> Result<Vec<Row>, CatalogError> {
        self.select("INDEXED BY documents_pending WHERE pending_sha256 IS NOT NULL", &[])
    }

    pub fn set_pending(&self, id: &str, sha: Option<&str>) -> Result<(), CatalogError> {
        self.conn
            .execute(
                "UPDATE documents SET pending_sha256 = ?1 WHERE id = ?2",
                params![sha, id],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The distinct algorithm notes of archived rows (read from an index: a handful of values
    /// however large the catalog).
    pub fn algorithm_notes(&self) -> Result<Vec<String>, CatalogError> {
        let mut st = self
            .conn
            .prepare("SELECT DISTINCT newest_timestamp_algs FROM documents INDEXED BY documents_algs WHERE newest_timestamp_algs IS NOT NULL AND status = ?1")
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([STATUS_ARCHIVED], |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Archived rows whose newest timestamp has the algorithm note `note`.
    pub fn with_algorithm_note(&self, note: &str) -> Result<Vec<Row>, CatalogError> {
        self.select(
            "INDEXED BY documents_algs WHERE newest_timestamp_algs = ?1 AND status = ?2 ORDER BY id",
            &[&note, &STATUS_ARCHIVED],
        )
    }

    /// Archived rows whose renewal is due at or before `until` (RFC 3339, compared as text:
    /// all times are stored in UTC 'Z' form so text order is time order). Uses the index.
    pub fn due(&self, until: &str) -> Result<Vec<Row>, CatalogError> {
        self.select(
            "WHERE next_renewal_due IS NOT NULL AND next_renewal_due <= ?1 AND status = ?2 ORDER BY next_renewal_due, id",
            &[&until, &STATUS_ARCHIVED],
        )
    }

    /// Rows archived within [from, to) (RFC 3339 text).
    pub fn archived_between(&self, from: &str, to: &str) -> Result<Vec<Row>, CatalogError> {
        self.select(
            "WHERE archived_at >= ?1 AND archived_at < ?2 ORDER BY archived_at, id",
            &[&from, &to],
        )
    }

    pub fn count(&self) -> Result<u64, CatalogError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM documents", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Run several writes in one transaction (bulk inserts, reindex).
    pub fn transaction<T>(&mut self, f: impl FnOnce(&Catalog) -> Result<T, CatalogError>) -> Result<T, CatalogError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| self.err(e))?;
        match f(self) {
            Ok(v) => {
                self.conn.execute_batch("COMMIT").map_err(|e| self.err(e))?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

fn row_from_sql(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        archive_path: r.get(1)?,
        archive_sha256: r.get(2)?,
        archive_size: r.get::<_, i64>(3)? as u64,
        status: r.get(4)?,
        profile: r.get(5)?,
        level: r.get(6)?,
        patient_id: r.get(7)?,
        document_type: r.get(8)?,
        document_date: r.get(9)?,
        sources: r.get(10)?,
        sidecar: r.get(11)?,
        signer: r.get(12)?,
        signer_role: r.get(13)?,
        information_manager: r.get(14)?,
        operator: r.get(15)?,
        pages: r.get(16)?,
        timestamp_time: r.get(17)?,
        newest_timestamp_time: r.get(18)?,
        tsa_cert_expiry: r.get(19)?,
        next_renewal_due: r.get(20)?,
        newest_timestamp_algs: r.get(21)?,
        retention_until: r.get(22)?,
        reference_copy: r.get(23)?,
        paper_location: r.get(24)?,
        flags: r.get(25)?,
        archived_at: r.get(26)?,
        renewed_at: r.get(27)?,
        renewals: r.get(28)?,
        ers_path: r.get(29)?,
        pending_sha256: r.get(30)?,
        corrections: r.get(31)?,
        corrected_by: r.get(32)?,
        corrected_at: r.get(33)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, due: &str) -> Row {
        Row {
            id: id.into(),
            archive_path: format!("2026/11/27/{id}.pdf"),
            archive_sha256: "ab".repeat(32),
            status: STATUS_ARCHIVED.into(),
            profile: "chart".into(),
            level: "B-LT".into(),
            patient_id: Some("P-000123".into()),
            document_type: Some("診療録".into()),
            sources: "[]".into(),
            sidecar: "null".into(),
            signer: Some("鈴木 次郎".into()),
            next_renewal_due: Some(due.into()),
            archived_at: "2026-11-27T00:00:00Z".into(),
            ..Default::default()
        }
    }

    #[test]
    fn put_get_and_due_selection() {
        let d = tempfile::tempdir().unwrap();
        let c = Catalog::open(&d.path().join("catalog.sqlite")).unwrap();
        c.put(&row("a", "2030-01-01T00:00:00Z")).unwrap();
        c.put(&row("b", "2035-01-01T00:00:00Z")).unwrap();
        let mut w = row("c", "2029-01-01T00:00:00Z");
        w.status = STATUS_WRITING.into();
        c.put(&w).unwrap();
        assert_eq!(c.get("a").unwrap().unwrap(), row("a", "2030-01-01T00:00:00Z"));
        let due: Vec<_> = c
            .due("2031-01-01T00:00:00Z")
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(due, vec!["a"], "writing rows are never due; later rows are not due yet");
        assert_eq!(c.unfinished().unwrap().len(), 1);
        assert_eq!(c.count().unwrap(), 3);
        c.delete("c").unwrap();
        assert!(c.get("c").unwrap().is_none());
    }

    #[test]
    fn catalog_from_before_corrections_gains_the_columns() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("catalog.sqlite");
        {
            let c = Catalog::open(&p).unwrap();
            c.put(&row("old", "2030-01-01T00:00:00Z")).unwrap();
            // What an archive written by an earlier hozon looks like.
            for col in ["corrections", "corrected_by", "corrected_at"] {
                c.conn
                    .execute_batch(&format!("ALTER TABLE documents DROP COLUMN {col}"))
                    .unwrap();
            }
        }
        let c = Catalog::open(&p).unwrap();
        let r = c.get("old").unwrap().unwrap();
        assert_eq!((r.corrections, r.corrected_by.as_deref()), (0, None));
        let mut fixed = r.clone();
        (fixed.corrections, fixed.corrected_by) = (1, Some("薬剤師".into()));
        c.put(&fixed).unwrap();
        assert_eq!(c.get("old").unwrap().unwrap(), fixed);
    }

    #[test]
    fn survives_reopen() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("catalog.sqlite");
        Catalog::open(&p)
            .unwrap()
            .put(&row("x", "2030-01-01T00:00:00Z"))
            .unwrap();
        assert_eq!(
            Catalog::open(&p).unwrap().get("x").unwrap().unwrap().signer.as_deref(),
            Some("鈴木 次郎")
        );
    }
}
