//! `hozon renew`: the nightly job that keeps evidence alive. It asks the catalog (not the PDFs)
//! which archives are due — newest timestamp's TSA certificate (or, before a file's first
//! document timestamp, its signer's certificate) expiring within the window, or a weakening
//! algorithm — and for each adds, as new incremental revisions, fresh validation data
//! for the newest timestamp (DSS), a document timestamp over the whole file (PAdES B-LTA) and
//! a DSS with that new timestamp's own validation data.
//! The old file stays a byte prefix of the new one; files are replaced atomically; a TSA failure
//! leaves the file untouched and the row due, so the next night retries.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use crate::archive::catalog::Row;
use crate::archive::store::{Archive, ArchiveError};
use crate::clock::rfc3339;
use crate::config::Config;
use crate::evidence::{seal_rows, SealEvent};
use crate::pdf;
pub use crate::renewal::RenewItem;
use crate::renewal::{due_rows, newest_token, renewal_due, token_facts};
use crate::services::Services;
use crate::pades::{self, PrefixHash};
use crate::tsp::TimestampToken;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenewError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Catalog(#[from] crate::archive::catalog::CatalogError),
    #[error("cannot start the worker pool: {0}")]
    Pool(String),
}

#[derive(Debug, Clone)]
pub struct RenewOptions {
    pub archive: PathBuf,
    /// "pades" (a document timestamp per file) or "ers" (RFC 4998 records, one timestamp).
    pub evidence: String,
    pub within_days: u32,
    pub dry_run: bool,
    pub jobs: usize,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct RenewSummary {
    pub catalog_rows: u64,
    pub due: usize,
    pub renewed: usize,
    pub failed: usize,
    pub elapsed_secs: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RenewReport {
    pub items: Vec<RenewItem>,
    pub summary: RenewSummary,
}

impl RenewError {
    pub fn code(&self) -> &'static str {
        match self {
            RenewError::Archive(e) => e.code(),
            RenewError::Catalog(e) => e.code(),
            RenewError::Pool(_) => "internal",
        }
    }
}

impl RenewReport {
    pub fn all_ok(&self) -> bool {
        self.summary.failed == 0
    }
}

struct Failure {
    code: String,
    message: String,
}

fn fail(code: &str, message: impl Into<String>) -> Failure {
    Failure {
        code: code.into(),
        message: message.into(),
    }
}

/// Renew one archive file in memory: DSS for the newest timestamp, then a document timestamp.
/// Returns the new bytes (the old ones are a prefix) and the new token.
/// `hashed` is the SHA-256 state over all of `old`, when the caller has it: the new file's
/// SHA-256 is then returned too, without hashing the old bytes again.
pub fn renew_bytes(
    services: &Services,
    mut old: Vec<u8>,
    hashed: Option<PrefixHash>,
) -> Result<(Vec<u8>, TimestampToken, Option<[u8; 32]>), (String, String)> {
    old.reserve(pdf::REVISIONS_ROOM);
    let inner = || -> Result<(Vec<u8>, TimestampToken, Option<[u8; 32]>), Failure> {
        let now = services.clock.now();
        let newest = newest_token(&old)
            .map_err(|m| fail("malformed", m))?
            .ok_or_else(|| fail("not-timestamped", "no timestamp to renew"))?;
        let mut chains: Vec<Vec<openssl::x509::X509>> = services.trust.tsa_chain(&newest, now).into_iter().collect();
        // Files still at B-T also get their signers' chains, so every signature has its data.
        if pdf::read_dss(&old).map(|v| v.certs.is_empty()).unwrap_or(true) {
            for s in pdf::read_signatures(&old).map_err(|e| fail("malformed", e.to_string()))? {
                if s.kind == pdf::SigKind::Cades {
                    if let Ok(sd) = crate::cms::parse_signed_data(s.der()) {
                        if let Some(c) = sd.signer_certificate() {
                            chains.push(services.trust.chain_of(c, sd.certificates(), now));
                        }
                    }
                }
            }
        }
        let m = services.trust.validation_for(&chains);
        let old_len = old.len();
        let with_dss = pdf::append_dss(
            old,
            &pdf::Validation {
                certs: m.certs,
                crls: m.crls,
                ocsps: m.ocsps,
            },
        )
        .map_err(|e| fail(e.code(), e.to_string()))?;
        let (stamped, token, prefix) =
            pades::add_document_timestamp_continuing(with_dss, services.tsa.as_ref(), hashed)
                .map_err(|e| fail(e.code(), e.to_string()))?;
        // Then the new timestamp's own TSA chain and its revocation data in a DSS-only revision
        // (PAdES allows it after a document timestamp): a validator then finds the newest TSA's
        // status in the file, without going on line, until the next renewal. The next document
        // timestamp covers this revision too, which is what proves the data existed in time.
        let tsa_chains: Vec<Vec<openssl::x509::X509>> = services.trust.tsa_chain(&token, now).into_iter().collect();
        let t = services.trust.validation_for(&tsa_chains);
        let bytes = pdf::append_dss(
            stamped,
            &pdf::Validation {
                certs: t.certs,
                crls: t.crls,
                ocsps: t.ocsps,
            },
        )
        .map_err(|e| fail(e.code(), e.to_string()))?;
        if bytes.len() <= old_len {
            return Err(fail("internal", "renewal did not append"));
        }
        let sha256 = prefix.and_then(|p| p.finish(&bytes));
        Ok((bytes, token, sha256))
    };
    inner().map_err(|f| (f.code, f.message))
}

/// Run the nightly renewal over an archive folder.
pub fn run(
    cfg: &Config,
    services: &Services,
    opts: &RenewOptions,
    on_done: &(dyn Fn(&RenewItem) + Sync),
) -> Result<RenewReport, RenewError> {
    let started = Instant::now();
    let now = services.clock.now();
    let (archive, _recovery) = Archive::open(&opts.archive, &rfc3339(now))?;
    let due = due_rows(&archive, cfg, now, opts.within_days)?;
    let mut summary = RenewSummary {
        catalog_rows: archive.catalog.count()?,
        due: due.len(),
        ..Default::default()
    };
    if opts.dry_run || due.is_empty() {
        let items: Vec<RenewItem> = due
            .into_iter()
            .map(|(r, why)| RenewItem::new(&r, "would-renew", why))
            .collect();
        summary.elapsed_secs = started.elapsed().as_secs_f64();
        return Ok(RenewReport { items, summary });
    }
    if opts.evidence == "ers" {
        let mut archive = archive;
        let items = seal_rows(cfg, services, &mut archive, due, SealEvent::Renewal, on_done);
        for i in &items {
            match i.outcome {
                "renewed" => summary.renewed += 1,
                _ => summary.failed += 1,
            }
        }
        summary.elapsed_secs = started.elapsed().as_secs_f64();
        return Ok(RenewReport { items, summary });
    }
    let archive = Mutex::new(archive);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.max(1))
        .build()
        .map_err(|e| RenewError::Pool(e.to_string()))?;
    use rayon::prelude::*;
    let items: Vec<RenewItem> = pool.install(|| {
        due.into_par_iter()
            .map(|(row, why)| {
                let item = renew_one(cfg, services, &archive, row, why);
                on_done(&item);
                item
            })
            .collect()
    });
    for i in &items {
        match i.outcome {
            "renewed" => summary.renewed += 1,
            _ => summary.failed += 1,
        }
    }
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    Ok(RenewReport { items, summary })
}

fn renew_one(cfg: &Config, services: &Services, archive: &Mutex<Archive>, row: Row, why: String) -> RenewItem {
    let mut item = RenewItem::new(&row, "failed", why);
    let now = || rfc3339(services.clock.now());
    let path = match archive.lock().map(|a| a.path_of(&row.archive_path)) {
        Ok(Ok(p)) => p,
        _ => {
            item.code = Some("unsafe-path".into());
            return item;
        }
    };
    let result = std::fs::read(&path)
        .map_err(|e| ("archive-io".to_string(), format!("{}: {e}", path.display())))
        .and_then(|old| {
            // One SHA-256 pass over the old bytes serves the integrity check, the document
            // timestamp's digest and the new file's hash (the new file only appends).
            let hashed = PrefixHash::of(&old).map_err(|e| (e.code().to_string(), e.to_string()))?;
            let sha = hashed.clone().finish(&old).map(hex::encode).unwrap_or_default();
            if sha != row.archive_sha256 {
                return Err((
                    "file-altered".to_string(),
                    "the file differs from the catalog's SHA-256; not touched (run hozon audit)".to_string(),
                ));
            }
            renew_bytes(services, old, Some(hashed))
        });
    let Ok(mut a) = archive.lock() else {
        item.code = Some("internal".into());
        return item;
    };
    match result {
        Ok((bytes, token, sha256)) => {
            let (expiry, algs) = token_facts(&token);
            let mut r = row.clone();
            r.newest_timestamp_time = Some(rfc3339(token.info.gen_time));
            r.tsa_cert_expiry = expiry.map(rfc3339);
            r.next_renewal_due = expiry.map(|e| rfc3339(renewal_due(e, cfg.renew.within_days)));
            r.newest_timestamp_algs = Some(algs);
            r.level = "B-LTA".into();
            r.renewed_at = Some(now());
            r.renewals += 1;
            let details = serde_json::json!({"path": r.archive_path, "timestamp": r.newest_timestamp_time, "tsa_cert_expiry": r.tsa_cert_expiry, "why": item.why});
            match a.replace_hashed(r, &bytes, sha256, "renewed", details, &now()) {
                Ok(r) => {
                    item.outcome = "renewed";
                    item.timestamp = r.newest_timestamp_time;
                }
                Err(e) => {
                    item.code = Some(e.code().into());
                    item.message = Some(e.to_string());
                }
            }
        }
        Err((code, message)) => {
            let _ = a.log(
                &now(),
                "renew-failed",
                Some(&row.id),
                serde_json::json!({"path": row.archive_path, "reasons": [{"code": code, "message": message}]}),
            );
            item.code = Some(code);
            item.message = Some(message);
        }
    }
    item
}
