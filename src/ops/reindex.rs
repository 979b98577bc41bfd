//! `hozon reindex`: rebuild the catalog from the archive's PDFs. The files are the truth: each
//! carries its document id, profile, sources and sidecar facts in its Info dictionary (written
//! at ingest) and its timestamps in its signatures. Rows are replaced in one transaction, so
//! the catalog is either the old one or the rebuilt one.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::archive::catalog::{Row, STATUS_ARCHIVED};
use crate::archive::inspect::pdfs_under;
use crate::archive::layout;
use crate::archive::store::{sha256_hex, Archive, ArchiveError};
use crate::clock::rfc3339;
use crate::config::Config;
use crate::pdf;
use crate::tsp::TimestampToken;

#[derive(Debug, Clone, Serialize)]
pub struct ReindexProblem {
    pub path: PathBuf,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ReindexReport {
    pub files: usize,
    pub rows: usize,
    pub problems: Vec<ReindexProblem>,
}

/// Rebuild the catalog of the archive at `root`.
pub fn run(cfg: &Config, root: &Path, now: time::OffsetDateTime) -> Result<ReindexReport, ArchiveError> {
    let (mut archive, _) = Archive::open(root, &rfc3339(now))?;
    let (entries, _) = crate::archive::audit::read_and_check(&root.join(layout::AUDIT_FILE))?;
    let archived_at = |id: &str| {
        entries
            .iter()
            .find(|e| e.event == "archived" && e.document_id.as_deref() == Some(id))
            .map(|e| e.time.clone())
    };
    let mut rep = ReindexReport::default();
    let mut rows = Vec::new();
    for path in pdfs_under(root) {
        rep.files += 1;
        let rel = match path.strip_prefix(root) {
            Ok(r) => r
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => continue,
        };
        match row_from_file(cfg, &path, &rel) {
            Ok(mut row) => {
                row.archived_at = archived_at(&row.id)
                    .or_else(|| row.timestamp_time.clone())
                    .unwrap_or_else(|| rfc3339(now));
                rows.push(row);
            }
            Err((code, message)) => rep.problems.push(ReindexProblem { path, code, message }),
        }
    }
    rep.rows = rows.len();
    archive.catalog.transaction(|c| {
        c.delete_all()?;
        for r in &rows {
            c.put(r)?;
        }
        Ok(())
    })?;
    archive.log(
        &rfc3339(now),
        "reindexed",
        None,
        serde_json::json!({"files": rep.files, "rows": rep.rows, "problems": rep.problems.len()}),
    )?;
    Ok(rep)
}

fn row_from_file(cfg: &Config, path: &Path, rel: &str) -> Result<Row, (String, String)> {
    let bytes = std::fs::read(path).map_err(|e| ("archive-io".to_string(), e.to_string()))?;
    let info = pdf::read_info(&bytes).map_err(|e| (e.code().to_string(), e.to_string()))?;
    let get = |k: &str| info.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let id = get("HozonDocumentId")
        .filter(|i| layout::is_document_id(i))
        .ok_or_else(|| {
            (
                "not-hozon".to_string(),
                "no HozonDocumentId in the Info dictionary".to_string(),
            )
        })?;
    let sigs = pdf::read_signatures(&bytes).map_err(|e| (e.code().to_string(), e.to_string()))?;
    let mut sig_token: Option<TimestampToken> = None;
    let mut signer = None;
    let mut signer_role = None;
    let mut signer_expiry = None;
    let mut doc_timestamps = 0u32;
    // Signatures after the first are corrections (`hozon correct`); the latest one is recorded.
    let mut corrections = 0u32;
    let mut corrected: (Option<String>, Option<String>) = (None, None);
    for s in &sigs {
        match s.kind {
            pdf::SigKind::Cades if signer.is_some() => {
                corrections += 1;
                let time = crate::cms::parse_signed_data(s.der())
                    .ok()
                    .and_then(|sd| {
                        sd.timestamp_tokens()
                            .first()
                            .and_then(|t| TimestampToken::parse(t).ok())
                    })
                    .map(|t| rfc3339(t.info.gen_time));
                corrected = (s.name.clone(), time);
            }
            pdf::SigKind::Cades if signer.is_none() => {
                signer = s.name.clone();
                if let Ok(sd) = crate::cms::parse_signed_data(s.der()) {
                    signer_role = sd.signer_certificate().and_then(|c| crate::pki::hc_role(c));
                    signer_expiry = sd
                        .signer_certificate()
                        .and_then(|c| crate::pki::asn1_time::to_offset(c.not_after()).ok());
                    sig_token = sd
                        .timestamp_tokens()
                        .first()
                        .and_then(|t| TimestampToken::parse(t).ok());
                }
            }
            pdf::SigKind::DocTimestamp => doc_timestamps += 1,
            _ => {}
        }
    }
    let newest = crate::renewal::newest_token(&bytes).map_err(|m| ("malformed".to_string(), m))?;
    let has_dss = pdf::read_dss(&bytes).map(|v| !v.certs.is_empty()).unwrap_or(false);
    let level = match (signer.is_some(), sig_token.is_some(), has_dss, doc_timestamps > 0) {
        (false, ..) => "unsigned",
        (true, _, true, true) => "B-LTA",
        (true, true, true, false) => "B-LT",
        (true, true, false, _) => "B-T",
        _ => "B-B",
    };
    let (expiry, algs) = newest
        .as_ref()
        .map(crate::renewal::token_facts)
        .unwrap_or((None, String::new()));
    let profile_name = get("HozonProfile").unwrap_or_else(|| cfg.default_profile.clone());
    let profile = cfg.profile(&profile_name);
    let document_date = get("HozonDocumentDate");
    let mut flags = Vec::new();
    if let (Some(p), Some(t)) = (profile, sig_token.as_ref()) {
        if crate::workflow::after_timestamp(p, &cfg.workflow, document_date.as_deref(), t.info.gen_time).is_some() {
            flags.push("late-scan");
        }
    }
    let sources: Vec<serde_json::Value> = info
        .iter()
        .filter(|(k, _)| k.starts_with("HozonSource") && k["HozonSource".len()..].chars().all(|c| c.is_ascii_digit()))
        .map(|(_, v)| {
            let mut parts = v.rsplitn(3, ' ');
            let size = parts
                .next()
                .and_then(|s| s.strip_prefix("bytes:"))
                .and_then(|s| s.parse::<u64>().ok());
            let sha = parts.next().and_then(|s| s.strip_prefix("sha256:")).map(str::to_string);
            let name = parts.next().map(str::to_string);
            serde_json::json!({"name": name, "sha256": sha, "size": size})
        })
        .collect();
    let sidecar: serde_json::Map<String, serde_json::Value> = [
        ("patient_id", "HozonPatientId"),
        ("document_type", "HozonDocumentType"),
        ("document_date", "HozonDocumentDate"),
        ("scanned_by", "HozonScannedBy"),
        ("scanned_at", "HozonScannedAt"),
        ("information_manager", "HozonInformationManager"),
        ("responsible", "HozonResponsible"),
        ("plan_id", "HozonPlanId"),
        ("paper_location", "HozonPaperLocation"),
        ("notes", "HozonNotes"),
    ]
    .iter()
    .filter_map(|(field, key)| get(key).map(|v| (field.to_string(), serde_json::Value::String(v))))
    .collect();
    let retention_until = profile.and_then(|p| {
        let base = document_date
            .as_deref()
            .and_then(crate::workflow::local_date)
            .or_else(|| {
                sig_token
                    .as_ref()
                    .map(|t| t.info.gen_time.to_offset(layout::JST).date())
            })?;
        let d = base
            .replace_year(base.year() + i32::try_from(p.retention_years).ok()?)
            .ok()?;
        Some(rfc3339(d.midnight().assume_offset(layout::JST)))
    });
    Ok(Row {
        id,
        archive_path: rel.to_string(),
        archive_sha256: sha256_hex(&bytes),
        archive_size: bytes.len() as u64,
        status: STATUS_ARCHIVED.into(),
        profile: profile_name,
        level: level.into(),
        patient_id: get("HozonPatientId"),
        document_type: get("HozonDocumentType"),
        document_date,
        sources: serde_json::to_string(&sources).unwrap_or_else(|_| "[]".into()),
        sidecar: serde_json::to_string(&sidecar).unwrap_or_else(|_| "null".into()),
        signer,
        signer_role,
        information_manager: get("HozonInformationManager"),
        operator: get("HozonScannedBy"),
        pages: u32::try_from(pdf::page_count(&bytes).unwrap_or(0)).unwrap_or(0),
        timestamp_time: sig_token.as_ref().map(|t| rfc3339(t.info.gen_time)),
        newest_timestamp_time: newest.as_ref().map(|t| rfc3339(t.info.gen_time)),
        tsa_cert_expiry: expiry.map(rfc3339),
        next_renewal_due: crate::renewal::next_renewal_due(
            expiry,
            signer_expiry.filter(|_| doc_timestamps == 0),
            cfg.renew.within_days,
        )
        .map(rfc3339),
        newest_timestamp_algs: newest.as_ref().map(|_| algs),
        retention_until,
        reference_copy: get("HozonReferenceCopy").is_some(),
        paper_location: get("HozonPaperLocation"),
        flags: flags.join(","),
        archived_at: String::new(),
        renewed_at: None,
        renewals: doc_timestamps,
        ers_path: None,
        pending_sha256: None,
        corrections,
        corrected_by: corrected.0,
        corrected_at: corrected.1,
    })
}
