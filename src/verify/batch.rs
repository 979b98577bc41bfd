//! Runs over many files: walking folders for PDFs, checking files in parallel (rayon), and
//! comparing each file's SHA-256 with the archive catalog (`catalog.sqlite` in the folder given
//! or one of its ancestors), so a replaced file is caught even when it carries a valid signature.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::reason::{Code, Reason};
use super::report::{FileReport, VerifyReport};
use super::{Verifier, VerifyError};
use crate::archive::catalog::Catalog;
use crate::clock::rfc3339;

/// Most files one run walks (a guard against walking a whole disk by mistake).
const MAX_FILES: usize = 10_000_000;

/// Every PDF named or found under the folders named, in natural order per folder.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, VerifyError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| VerifyError::Io {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), VerifyError> {
    let io = |source| VerifyError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort_by(|a, b| natord::compare(&a.to_string_lossy(), &b.to_string_lossy()));
    for p in entries {
        if out.len() >= MAX_FILES {
            break;
        }
        // Symbolic links to folders are not followed (no cycles).
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")) {
            out.push(p);
        }
    }
    Ok(())
}

/// What the catalogs say each archived file's SHA-256 is, keyed by canonical path.
#[derive(Debug, Default)]
pub struct CatalogIndex {
    sha: HashMap<PathBuf, String>,
    /// Catalog folders found (canonical).
    roots: Vec<PathBuf>,
}

impl CatalogIndex {
    /// Find `catalog.sqlite` in each given path's folder or its ancestors and load its rows.
    pub fn load(paths: &[PathBuf]) -> Result<CatalogIndex, VerifyError> {
        let mut idx = CatalogIndex::default();
        for p in paths {
            let start = std::fs::canonicalize(p).map_err(|source| VerifyError::Io {
                path: p.clone(),
                source,
            })?;
            let root = start
                .ancestors()
                .find(|d| d.join("catalog.sqlite").is_file())
                .ok_or_else(|| VerifyError::NoCatalog(p.clone()))?
                .to_path_buf();
            if idx.roots.contains(&root) {
                continue;
            }
            let cat = Catalog::open(&root.join("catalog.sqlite"))?;
            for row in cat.all()? {
                idx.sha
                    .insert(root.join(&row.archive_path), row.archive_sha256.to_ascii_lowercase());
            }
            idx.roots.push(root);
        }
        Ok(idx)
    }

    /// A reason when `path`'s bytes are not what the catalog recorded.
    pub fn check(&self, path: &Path, bytes_sha256: &str) -> Option<Reason> {
        let canon = std::fs::canonicalize(path).ok()?;
        match self.sha.get(&canon) {
            Some(want) if want == bytes_sha256 => None,
            Some(want) => Some(Reason::new(
                Code::CatalogMismatch,
                format!("SHA-256 {bytes_sha256} differs from the catalog's {want}: the file was replaced or altered"),
            )),
            None => Some(Reason::new(
                Code::CatalogMismatch,
                "the file is not listed in the archive catalog",
            )),
        }
    }
}

impl Verifier {
    /// Verify `files` in parallel; `catalog` adds the catalog comparison; `progress` is called
    /// once per finished file (from worker threads).
    pub fn run(&self, files: &[PathBuf], catalog: Option<&CatalogIndex>, progress: &(dyn Fn() + Sync)) -> VerifyReport {
        let reports: Vec<FileReport> = files
            .par_iter()
            .map(|p| {
                let shown = p.to_string_lossy();
                // Read once: the same bytes are verified and, with --catalog, hashed whole.
                let r = match self.read(p) {
                    Ok(bytes) => {
                        let mut r = self.verify_with_record(&shown, &bytes, self.record_for(p).as_ref());
                        if let Some(c) = catalog {
                            let sha = hex::encode(Sha256::digest(&bytes));
                            if let Some(reason) = c.check(p, &sha) {
                                r.add(reason);
                            }
                            r.sha256 = Some(sha);
                        }
                        r
                    }
                    Err(reason) => {
                        let mut r = FileReport::new(&shown);
                        r.add(reason);
                        r
                    }
                };
                progress();
                r
            })
            .collect();
        VerifyReport::new(rfc3339(self.at()), reports)
    }
}
