//! `hozon correct`: a correction of an archived document (調剤済み処方箋: by a pharmacist) is a
//! new incremental revision carrying the corrector's PAdES signature with an RFC 3161 signature
//! timestamp, its /Reason the operator's note. Earlier bytes are never touched, so the original
//! scan's signature stays valid and the old file is a byte prefix of the new one.
//!
//! Only a signature revision (plus validation data) is appended: new pages, annotations or
//! attachments would be changes outside signature structures, which hozon's own verifier and
//! pyHanko's difference analysis report as a modification of the signed document. What was
//! corrected and why is the signed /Reason, the catalog row and the audit entry.
//!
//! Nothing is written unless every check passed: the signer's HPKI role (`correction_signer_role`
//! of the document's profile) is checked before the file is read or the TSA asked, and the file
//! must still be the one the catalog recorded.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::archive::catalog::{CatalogError, Row, STATUS_ARCHIVED};
use crate::archive::layout;
use crate::archive::store::{io_code, sha256_hex, Archive, ArchiveError};
use crate::clock::rfc3339;
use crate::config::{Config, Level};
use crate::pdf::PdfError;
use crate::services::Services;
use crate::pades::{self, PadesError, SignatureFields};
use crate::workflow;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CorrectError {
    #[error("{0} is not a hozon archive (no {catalog})", catalog = layout::CATALOG_FILE)]
    NotAnArchive(PathBuf),
    #[error("no archived document {0:?} in this archive (give its 32-digit id or its PDF path)")]
    UnknownDocument(String),
    #[error("--note is empty: say what was corrected and why")]
    NoteMissing,
    #[error("document {id} is not settled (status {status}); run `hozon audit` and retry")]
    NotArchived { id: String, status: String },
    #[error("document {id}: profile {profile:?} is not in the configuration")]
    UnknownProfile { id: String, profile: String },
    #[error("{0}")]
    RoleMismatch(String),
    #[error("{path}: the file differs from the catalog's SHA-256; not corrected (run hozon audit)")]
    FileAltered { path: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Sign(#[from] PadesError),
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error("the corrected file does not extend the archived one; nothing written")]
    NotAppended,
}

impl CorrectError {
    pub fn code(&self) -> &'static str {
        match self {
            CorrectError::NotAnArchive(_) => "not-an-archive",
            CorrectError::UnknownDocument(_) => "unknown-document",
            CorrectError::NoteMissing => "note-missing",
            CorrectError::NotArchived { .. } => "row-unfinished",
            CorrectError::UnknownProfile { .. } => "config-invalid",
            CorrectError::RoleMismatch(_) => "signer-role-mismatch",
            CorrectError::FileAltered { .. } => "file-altered",
            CorrectError::Io { source, .. } => io_code(source),
            CorrectError::Archive(e) => e.code(),
            CorrectError::Catalog(e) => e.code(),
            CorrectError::Sign(e) => e.code(),
            CorrectError::Pdf(e) => e.code(),
            CorrectError::NotAppended => "internal",
        }
    }

    /// True when the command line or the configuration was at fault (exit code 2), false when
    /// the correction itself was refused or failed (exit code 1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            CorrectError::NotAnArchive(_)
                | CorrectError::UnknownDocument(_)
                | CorrectError::NoteMissing
                | CorrectError::UnknownProfile { .. }
        ) || matches!(self, CorrectError::Archive(ArchiveError::Locked { .. }))
    }
}

#[derive(Debug, Clone)]
pub struct CorrectOptions {
    pub archive: PathBuf,
    /// Document id (32 hex digits) or the path of its archived PDF.
    pub document: String,
    /// What was corrected and why; becomes the signature's /Reason.
    pub note: String,
}

/// What a correction did.
#[derive(Debug, Clone, Serialize)]
pub struct CorrectReport {
    pub outcome: &'static str,
    pub id: String,
    pub path: PathBuf,
    pub profile: String,
    pub signer: String,
    pub signer_role: Option<String>,
    pub note: String,
    /// RFC 3339 time of the correction's signature timestamp.
    pub timestamp: String,
    pub level: String,
    /// This document's corrections so far, this one included.
    pub corrections: u32,
    pub sha256_before: String,
    pub sha256: String,
    /// Where the evidence record of the pre-correction bytes was moved (RFC 4998 records bind
    /// exact bytes, so it no longer matches the file); the row is due for a fresh seal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_evidence_record: Option<PathBuf>,
}

/// Correct one archived document, signed by `services.signer`.
pub fn run(cfg: &Config, services: &Services, opts: &CorrectOptions) -> Result<CorrectReport, CorrectError> {
    let note = opts.note.trim();
    if note.is_empty() {
        return Err(CorrectError::NoteMissing);
    }
    // Opening creates a missing archive folder: a mistyped ARCHIVE must not become a new archive.
    if !opts.archive.join(layout::CATALOG_FILE).is_file() {
        return Err(CorrectError::NotAnArchive(opts.archive.clone()));
    }
    let now = || rfc3339(services.clock.now());
    let (mut archive, _recovery) = Archive::open(&opts.archive, &now())?;
    let row = find_row(&archive, &opts.document)?;
    if row.status != STATUS_ARCHIVED {
        return Err(CorrectError::NotArchived {
            id: row.id,
            status: row.status,
        });
    }
    let profile = cfg.profile(&row.profile).ok_or_else(|| CorrectError::UnknownProfile {
        id: row.id.clone(),
        profile: row.profile.clone(),
    })?;
    if let Some(f) = workflow::role_finding(&row.profile, profile, services.signer_role.as_deref(), true) {
        return Err(CorrectError::RoleMismatch(f.message));
    }
    let path = archive.path_of(&row.archive_path)?;
    let old = std::fs::read(&path).map_err(|source| CorrectError::Io {
        path: path.clone(),
        source,
    })?;
    let sha256_before = sha256_hex(&old);
    if sha256_before != row.archive_sha256 {
        return Err(CorrectError::FileAltered { path });
    }

    let fields = SignatureFields {
        name: Some(services.signer_name.clone()),
        reason: Some(note.to_string()),
        location: services.signer_config.location.clone(),
        contact_info: services.signer_config.contact.clone(),
        signing_time: Some(services.clock.now()),
    };
    // A correction is always timestamped: its time must be proven, whatever the profile's level.
    let signed = pades::sign_pdf(
        old.clone(),
        services.signer.as_ref(),
        Some(services.tsa.as_ref()),
        &fields,
    )?;
    let token = signed.token.ok_or(CorrectError::NotAppended)?;
    let mut bytes = signed.pdf;
    let mut level = Level::BT;
    if profile.level >= Level::BLT {
        // Revocation gaps are recorded by verify and filled by renew; they do not stop a correction.
        let (b, _problems) = services.add_validation_data(bytes, Some(&token))?;
        bytes = b;
        level = Level::BLT;
    }
    let mut doc_token = None;
    if profile.level >= Level::BLTA {
        let (b, t) = pades::add_document_timestamp(bytes, services.tsa.as_ref())?;
        bytes = b;
        doc_token = Some(t);
        level = Level::BLTA;
    }
    if bytes.len() <= old.len() || !bytes.starts_with(&old) {
        return Err(CorrectError::NotAppended);
    }

    let mut r = row.clone();
    r.corrections += 1;
    r.corrected_by = Some(services.signer_name.clone());
    r.corrected_at = Some(rfc3339(token.info.gen_time));
    // The original signature's evidence still limits renewal: the correction's signature
    // timestamp does not cover it. Only a document timestamp (B-LTA) moves the due date.
    if let Some(t) = &doc_token {
        let (expiry, algs) = crate::renewal::token_facts(t);
        r.newest_timestamp_time = Some(rfc3339(t.info.gen_time));
        r.tsa_cert_expiry = expiry.map(rfc3339);
        r.next_renewal_due = expiry.map(|e| rfc3339(crate::renewal::renewal_due(e, cfg.renew.within_days)));
        r.newest_timestamp_algs = Some(algs);
    }
    let details = serde_json::json!({
        "path": r.archive_path,
        "profile": r.profile,
        "sha256_before": sha256_before,
        "sha256": sha256_hex(&bytes),
        "signer": services.signer_name,
        "signer_key": services.signer_key_name,
        "signer_role": services.signer_role,
        "note": note,
        "timestamp": r.corrected_at,
        "level": level.as_str(),
        "corrections": r.corrections,
    });
    // An evidence record binds the exact pre-correction bytes, so after the correction it would
    // call the file altered. It is moved aside first (still proving the original revision, a
    // prefix of the new file), never deleted, and the row becomes due so the next renewal seals
    // the corrected file. Moving it before the replace means a crash never pairs a record with
    // bytes it does not cover.
    let record = crate::evidence::record_path(&path);
    let superseded = if record.exists() {
        let aside = record.with_extension(format!("before-correction-{}.ers", r.corrections));
        std::fs::rename(&record, &aside)
            .and_then(|()| crate::archive::atomic::sync_dir(aside.parent().unwrap_or(Path::new("."))))
            .map_err(|source| CorrectError::Io {
                path: record.clone(),
                source,
            })?;
        r.ers_path = None;
        r.next_renewal_due = Some(now());
        Some(aside)
    } else {
        None
    };
    let mut details = details;
    if let (Some(map), Some(aside)) = (details.as_object_mut(), &superseded) {
        map.insert(
            "superseded_evidence_record".into(),
            serde_json::json!(aside.to_string_lossy()),
        );
    }
    let stored = archive.replace(r, &bytes, "corrected", details, &now())?;
    Ok(CorrectReport {
        outcome: "corrected",
        id: stored.id.clone(),
        path: path.clone(),
        profile: stored.profile.clone(),
        signer: services.signer_name.clone(),
        signer_role: services.signer_role.clone(),
        note: note.to_string(),
        timestamp: stored.corrected_at.clone().unwrap_or_default(),
        level: level.as_str().to_string(),
        corrections: stored.corrections,
        sha256_before,
        sha256: stored.archive_sha256,
        superseded_evidence_record: superseded,
    })
}

/// The row named by a document id, or by the path of its archived PDF (its file name is the id;
/// the path must then be that row's file, so a stray copy elsewhere is not mistaken for it).
fn find_row(archive: &Archive, document: &str) -> Result<Row, CorrectError> {
    let unknown = || CorrectError::UnknownDocument(document.to_string());
    if layout::is_document_id(document) {
        return archive.catalog.get(document)?.ok_or_else(unknown);
    }
    let given = Path::new(document);
    let id = given
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| layout::is_document_id(s))
        .ok_or_else(unknown)?;
    let row = archive.catalog.get(id)?.ok_or_else(unknown)?;
    let recorded = archive.path_of(&row.archive_path)?;
    let same = match (given.canonicalize(), recorded.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        Ok(row)
    } else {
        Err(unknown())
    }
}
