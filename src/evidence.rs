//! RFC 4998 evidence records for archives: the seams between `ers` (hash trees, records) and
//! hozon's TSA client and trust store, and the bulk renewal that covers every due archive with
//! ONE timestamp. Each archive gets `<id>.ers` beside its PDF; the PDFs are never rewritten.
//! `seal_rows` is that sealing for catalog rows, shared by `hozon renew --evidence ers` and
//! `hozon ingest --seal ers`.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::archive::catalog::Row;
use crate::archive::store::Archive;
use crate::clock::rfc3339;
use crate::config::Config;
use crate::ers::{self, DigestAlgorithm, ErsError, EvidenceRecord, RootStamper, TokenCheck};
use crate::pki::trust::{validate_path, PathStatus, RevocationData, Usage};
use crate::pki::TrustStore;
use crate::renewal::{renewal_due, token_facts, RenewItem};
use crate::services::Services;
use crate::sign::DigestAlg;
use crate::tsp::{TimeStamper, TimestampToken};

/// Timestamps for hash-tree roots from hozon's configured TSA client.
pub struct TsaRootStamper<'a>(pub &'a dyn TimeStamper);

fn to_sign_alg(a: DigestAlgorithm) -> DigestAlg {
    match a {
        DigestAlgorithm::Sha256 => DigestAlg::Sha256,
        DigestAlgorithm::Sha384 => DigestAlg::Sha384,
        DigestAlgorithm::Sha512 => DigestAlg::Sha512,
    }
}

impl RootStamper for TsaRootStamper<'_> {
    fn stamp(&self, alg: DigestAlgorithm, digest: &[u8]) -> Result<Vec<u8>, ErsError> {
        self.0
            .timestamp(to_sign_alg(alg), digest)
            .map(|t| t.der)
            .map_err(|e| ErsError::Stamper(format!("{} ({})", e, e.code())))
    }
}

/// A token is good at `at` when its CMS signature, ESS binding and EKU hold and its TSA
/// certificate chains to the trust store and is valid (not expired, not revoked) at `at`.
pub struct TrustTokenCheck<'a> {
    pub trust: &'a TrustStore,
    pub revocation: RevocationData,
}

impl TokenCheck for TrustTokenCheck<'_> {
    fn check(&self, token_der: &[u8], at: OffsetDateTime) -> Result<OffsetDateTime, ErsError> {
        let bad = |reason: String| ErsError::TimestampInvalid { index: 0, reason };
        let t = TimestampToken::parse(token_der).map_err(|e| bad(e.to_string()))?;
        let imprint = t.info.imprint.clone();
        let cert = t.verify(t.info.imprint_alg, &imprint).map_err(|e| bad(e.to_string()))?;
        let report = validate_path(
            &cert,
            t.signed.certificates(),
            self.trust,
            at,
            &self.revocation,
            Usage::TimeStamping,
            false,
        );
        match report.status {
            PathStatus::Valid => Ok(t.info.gen_time),
            other => Err(bad(format!(
                "TSA certificate at {}: {other:?}",
                crate::clock::rfc3339(at)
            ))),
        }
    }
}

/// `<archive>/YYYY/MM/DD/<id>.ers` beside `<id>.pdf`.
pub fn record_path(pdf: &Path) -> PathBuf {
    pdf.with_extension("ers")
}

/// The hash algorithm for new trees: SHA-256 unless the config lists it as weakening.
pub fn tree_algorithm(weak: &[String]) -> DigestAlgorithm {
    let is_weak = |n: &str| weak.iter().any(|w| w.eq_ignore_ascii_case(n));
    [
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
    ]
    .into_iter()
    .find(|a| !is_weak(a.name()))
    .unwrap_or(DigestAlgorithm::Sha512)
}

/// What renewing one archive's evidence produced.
pub struct Renewed {
    pub record: EvidenceRecord,
    /// The newest token's time and TSA certificate expiry.
    pub gen_time: OffsetDateTime,
    pub tsa_not_after: Option<OffsetDateTime>,
    pub algorithm: DigestAlgorithm,
}

/// One archive due for ERS renewal: its PDF bytes and existing record, if any.
pub struct Due {
    pub pdf: Vec<u8>,
    pub record: Option<EvidenceRecord>,
}

fn newest(record: &EvidenceRecord) -> Result<(OffsetDateTime, Option<OffsetDateTime>, DigestAlgorithm), ErsError> {
    let last = record
        .timestamps()
        .last()
        .ok_or_else(|| ErsError::Malformed("evidence record without timestamps".into()))?;
    let info = last.token()?;
    Ok((info.gen_time, info.tsa_not_after, last.algorithm()?))
}

/// Renew a batch: new records for archives without one (one tree, one timestamp), timestamp
/// renewal for records whose algorithm is still strong (one timestamp per algorithm), hash-tree
/// renewal to `alg` for records whose algorithm became weak (one timestamp). Results are in input
/// order.
pub fn renew_batch(items: &[Due], weak: &[String], stamper: &dyn RootStamper) -> Result<Vec<Renewed>, ErsError> {
    let alg = tree_algorithm(weak);
    let is_weak = |a: DigestAlgorithm| weak.iter().any(|w| w.eq_ignore_ascii_case(a.name()));
    let mut out: Vec<Option<EvidenceRecord>> = vec![None; items.len()];
    let (mut fresh, mut extend, mut rehash) = (Vec::new(), Vec::new(), Vec::new());
    for (i, it) in items.iter().enumerate() {
        match &it.record {
            None => fresh.push(i),
            Some(r) => {
                let a = r.timestamps().last().map(|t| t.algorithm()).transpose()?.unwrap_or(alg);
                if is_weak(a) {
                    rehash.push(i)
                } else {
                    extend.push(i)
                }
            }
        }
    }
    if !fresh.is_empty() {
        let digests: Vec<Vec<u8>> = fresh.iter().map(|&i| alg.digest(&items[i].pdf)).collect();
        for (i, r) in fresh.iter().zip(ers::build_records(&digests, alg, stamper)?) {
            out[*i] = Some(r);
        }
    }
    if !extend.is_empty() {
        let recs: Vec<EvidenceRecord> = extend.iter().filter_map(|&i| items[i].record.clone()).collect();
        for (i, r) in extend.iter().zip(ers::renew_timestamps(&recs, stamper)?) {
            out[*i] = Some(r);
        }
    }
    if !rehash.is_empty() {
        let pairs: Vec<(EvidenceRecord, Vec<u8>)> = rehash
            .iter()
            .filter_map(|&i| items[i].record.clone().map(|r| (r, alg.digest(&items[i].pdf))))
            .collect();
        for (i, r) in rehash.iter().zip(ers::renew_hash_tree(&pairs, alg, stamper)?) {
            out[*i] = Some(r);
        }
    }
    out.into_iter()
        .map(|r| {
            let record = r.ok_or_else(|| ErsError::InvalidInput("a record was not produced".into()))?;
            let (gen_time, tsa_not_after, algorithm) = newest(&record)?;
            Ok(Renewed {
                record,
                gen_time,
                tsa_not_after,
                algorithm,
            })
        })
        .collect()
}
/// Why evidence records are being written: the nightly renewal (audit `renewed`, counted as a
/// renewal of the row) or an ingest batch sealing its newly archived PDFs (audit `sealed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealEvent {
    Renewal,
    Ingest,
}

impl SealEvent {
    pub fn done(self) -> &'static str {
        match self {
            SealEvent::Renewal => "renewed",
            SealEvent::Ingest => "sealed",
        }
    }
    pub fn failed(self) -> &'static str {
        match self {
            SealEvent::Renewal => "renew-failed",
            SealEvent::Ingest => "seal-failed",
        }
    }
}

/// ERS: all `rows` under one hash tree and ONE timestamp (new records for rows without one,
/// renewals for rows with one); `<id>.ers` written atomically beside each PDF, the PDFs
/// untouched, each catalog row updated with the newest timestamp and its renewal due date, an
/// audit entry per row. Used by `hozon renew --evidence ers` and `hozon ingest --seal ers`.
pub fn seal_rows(
    cfg: &Config,
    services: &Services,
    archive: &mut Archive,
    due: Vec<(Row, String)>,
    event: SealEvent,
    on_done: &(dyn Fn(&RenewItem) + Sync),
) -> Vec<RenewItem> {
    let now = || rfc3339(services.clock.now());
    let mut items = Vec::new();
    let mut batch: Vec<(Row, String, PathBuf)> = Vec::new();
    let mut dues: Vec<Due> = Vec::new();
    for (row, why) in due {
        let mut item = RenewItem::new(&row, "failed", why.clone());
        let loaded = archive
            .path_of(&row.archive_path)
            .map_err(|e| (e.code().to_string(), e.to_string()))
            .and_then(|pdf_path| {
                let pdf = std::fs::read(&pdf_path)
                    .map_err(|e| ("archive-io".to_string(), format!("{}: {e}", pdf_path.display())))?;
                if crate::archive::store::sha256_hex(&pdf) != row.archive_sha256 {
                    return Err((
                        "file-altered".to_string(),
                        "the file differs from the catalog's SHA-256; not touched".to_string(),
                    ));
                }
                let ers_path = record_path(&pdf_path);
                let record = match std::fs::read(&ers_path) {
                    Ok(der) => Some(
                        crate::ers::EvidenceRecord::from_der(&der)
                            .map_err(|e| (e.code().to_string(), format!("{}: {e}", ers_path.display())))?,
                    ),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(("archive-io".to_string(), e.to_string())),
                };
                Ok((pdf, record, ers_path))
            });
        match loaded {
            Ok((pdf, record, ers_path)) => {
                dues.push(Due { pdf, record });
                batch.push((row, why, ers_path));
            }
            Err((code, message)) => {
                item.code = Some(code);
                item.message = Some(message);
                on_done(&item);
                items.push(item);
            }
        }
    }
    if batch.is_empty() {
        return items;
    }
    match renew_batch(
        &dues,
        &cfg.renew.weak_algorithms,
        &TsaRootStamper(services.tsa.as_ref()),
    ) {
        Err(e) => {
            for (row, why, _) in batch {
                let _ = archive.log(&now(), event.failed(), Some(&row.id), serde_json::json!({"path": row.archive_path, "evidence": "ers", "reasons": [{"code": e.code(), "message": e.to_string()}]}));
                let item = RenewItem {
                    code: Some(e.code().to_string()),
                    message: Some(e.to_string()),
                    ..RenewItem::new(&row, "failed", why)
                };
                on_done(&item);
                items.push(item);
            }
        }
        Ok(renewed) => {
            for ((row, why, ers_path), r) in batch.into_iter().zip(renewed) {
                let mut item = RenewItem::new(&row, "failed", why);
                let written = r
                    .record
                    .to_der()
                    .map_err(|e| (e.code().to_string(), e.to_string()))
                    .and_then(|der| {
                        crate::archive::atomic::write_atomic(&ers_path, &der)
                            .map_err(|e| ("archive-io".to_string(), format!("{}: {e}", ers_path.display())))
                    });
                if let Err((code, message)) = written {
                    item.code = Some(code);
                    item.message = Some(message);
                    on_done(&item);
                    items.push(item);
                    continue;
                }
                let token = r
                    .record
                    .timestamps()
                    .last()
                    .and_then(|t| TimestampToken::parse(&t.time_stamp).ok());
                let (expiry, algs) = token
                    .as_ref()
                    .map(token_facts)
                    .unwrap_or((r.tsa_not_after, String::new()));
                let mut nr = row.clone();
                nr.ers_path = Some(row.archive_path.trim_end_matches(".pdf").to_string() + ".ers");
                nr.newest_timestamp_time = Some(rfc3339(r.gen_time));
                nr.tsa_cert_expiry = expiry.map(rfc3339);
                nr.next_renewal_due = expiry.map(|e| rfc3339(renewal_due(e, cfg.renew.within_days)));
                nr.newest_timestamp_algs = Some(format!("{},{}", r.algorithm.name(), algs));
                if event == SealEvent::Renewal {
                    nr.renewed_at = Some(now());
                    nr.renewals += 1;
                }
                let details = serde_json::json!({"path": nr.archive_path, "evidence": "ers", "record": nr.ers_path, "timestamp": nr.newest_timestamp_time, "tsa_cert_expiry": nr.tsa_cert_expiry, "why": item.why});
                let res = archive
                    .audit
                    .append(&now(), event.done(), Some(&nr.id), details)
                    .map_err(|e| (e.code().to_string(), e.to_string()))
                    .and_then(|_| {
                        archive
                            .catalog
                            .put(&nr)
                            .map_err(|e| (e.code().to_string(), e.to_string()))
                    });
                match res {
                    Ok(()) => {
                        item.outcome = event.done();
                        item.timestamp = nr.newest_timestamp_time;
                    }
                    Err((code, message)) => {
                        item.code = Some(code);
                        item.message = Some(message);
                    }
                }
                on_done(&item);
                items.push(item);
            }
        }
    }
    items
}
