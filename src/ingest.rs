//! `hozon ingest`: documents → check → lossless PDF → PAdES signature + RFC 3161 timestamp →
//! validation data (B-LT) → optional document timestamp (B-LTA) → archive. Documents run in
//! parallel on a bounded pool; a failure of one is reported and the batch goes on. Nothing is
//! archived unless every step the profile requires succeeded.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::archive::catalog::{Row, STATUS_ARCHIVED};
use crate::archive::layout;
use crate::archive::store::{Archive, ArchiveError};
use crate::check::{self, CheckedDocument};
use crate::clock::rfc3339;
use crate::config::{Config, FormatName, Level, Requirement};
use crate::document::Document;
use crate::pdf;
use crate::tsp::TimestampToken;
use crate::services::Services;
use crate::sign::pades::{self, SignatureFields};
use crate::workflow;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("{0}")]
    Discover(String),
    #[error("cannot start the worker pool: {0}")]
    Pool(String),
}

impl IngestError {
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::Archive(e) => e.code(),
            IngestError::Discover(_) => "input-invalid",
            IngestError::Pool(_) => "internal",
        }
    }
}

#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub profile: Option<String>,
    pub jobs: usize,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Archived,
    AlreadyArchived,
    Rejected,
    Failed,
    /// --dry-run: passed the checks, nothing written.
    WouldArchive,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentResult {
    pub path: PathBuf,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub profile: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_path: Option<PathBuf>,
    pub pages: usize,
    pub source_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    pub reasons: Vec<Reason>,
    pub warnings: Vec<Reason>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub documents: usize,
    pub archived: usize,
    pub already_archived: usize,
    pub rejected: usize,
    pub failed: usize,
    pub pages: usize,
    pub source_bytes: u64,
    pub elapsed_secs: f64,
    pub pages_per_sec: f64,
    pub mb_per_sec: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    pub archive: PathBuf,
    pub demo: bool,
    pub documents: Vec<DocumentResult>,
    pub summary: Summary,
}

impl IngestReport {
    pub fn all_ok(&self) -> bool {
        self.summary.rejected == 0 && self.summary.failed == 0
    }
}

struct Ctx<'a> {
    cfg: &'a Config,
    services: &'a Services,
    archive: Option<Mutex<Archive>>,
    opts: &'a IngestOptions,
}

/// Run a batch.
pub fn run(cfg: &Config, services: &Services, opts: &IngestOptions) -> Result<IngestReport, IngestError> {
    run_with_progress(cfg, services, opts, &|_| {}, &|_| {})
}

/// Run a batch; `on_start` gets the number of documents, `on_done` is called once per document
/// as it finishes (progress display).
pub fn run_with_progress(
    cfg: &Config,
    services: &Services,
    opts: &IngestOptions,
    on_start: &dyn Fn(usize),
    on_done: &(dyn Fn(&DocumentResult) + Sync),
) -> Result<IngestReport, IngestError> {
    let started = Instant::now();
    let docs = crate::document::discover(&opts.inputs).map_err(|e| IngestError::Discover(e.to_string()))?;
    on_start(docs.len());
    let now = rfc3339(services.clock.now());
    let archive = if opts.dry_run {
        None
    } else {
        let (a, _recovery) = Archive::open(&opts.out, &now)?;
        Some(Mutex::new(a))
    };
    let ctx = Ctx { cfg, services, archive, opts };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.max(1))
        .build()
        .map_err(|e| IngestError::Pool(e.to_string()))?;
    use rayon::prelude::*;
    let results: Vec<DocumentResult> = pool.install(|| {
        docs.par_iter()
            .map(|d| {
                let r = ingest_one(&ctx, d);
                on_done(&r);
                r
            })
            .collect()
    });
    let mut s = Summary { documents: results.len(), ..Default::default() };
    for r in &results {
        match r.outcome {
            Outcome::Archived | Outcome::WouldArchive => s.archived += 1,
            Outcome::AlreadyArchived => s.already_archived += 1,
            Outcome::Rejected => s.rejected += 1,
            Outcome::Failed => s.failed += 1,
        }
        if matches!(r.outcome, Outcome::Archived | Outcome::WouldArchive) {
            s.pages += r.pages;
            s.source_bytes += r.source_bytes;
        }
    }
    s.elapsed_secs = started.elapsed().as_secs_f64();
    if s.elapsed_secs > 0.0 {
        s.pages_per_sec = s.pages as f64 / s.elapsed_secs;
        s.mb_per_sec = s.source_bytes as f64 / 1e6 / s.elapsed_secs;
    }
    Ok(IngestReport { archive: opts.out.clone(), demo: cfg.uses_demo(), documents: results, summary: s })
}

fn reason(code: &str, message: impl Into<String>) -> Reason {
    Reason { code: code.into(), message: message.into(), page: None }
}

fn finding_reason(f: &crate::rules::Finding) -> Reason {
    Reason { code: f.code.to_string(), message: f.message.clone(), page: f.page }
}

fn ingest_one(ctx: &Ctx, doc: &Document) -> DocumentResult {
    let checked = check::check_document(doc, ctx.cfg, ctx.opts.profile.as_deref(), true);
    let mut result = DocumentResult {
        path: doc.root.clone(),
        outcome: Outcome::Rejected,
        id: None,
        profile: checked.profile.clone(),
        archive_path: None,
        pages: checked.page_count(),
        source_bytes: checked.scans.iter().filter_map(|s| s.bytes.as_ref()).map(|b| b.len() as u64).sum(),
        timestamp: None,
        level: None,
        reasons: Vec::new(),
        warnings: checked.findings.iter().filter(|f| !f.is_error()).map(finding_reason).collect(),
    };
    if !checked.passed {
        result.reasons = checked.findings.iter().filter(|f| f.is_error()).map(finding_reason).collect();
        log_event(ctx, "rejected", None, &result);
        return result;
    }
    match archive_checked(ctx, &checked, &mut result) {
        Ok(()) => {}
        Err(r) => {
            result.outcome = Outcome::Failed;
            result.reasons.push(r);
            log_event(ctx, "failed", result.id.clone().as_deref(), &result);
        }
    }
    result
}

fn log_event(ctx: &Ctx, event: &str, id: Option<&str>, r: &DocumentResult) {
    if let Some(a) = &ctx.archive {
        let now = rfc3339(ctx.services.clock.now());
        let details = serde_json::json!({ "path": r.path, "profile": r.profile, "reasons": r.reasons });
        if let Ok(mut a) = a.lock() {
            let _ = a.log(&now, event, id, details);
        }
    }
}

/// One source file's record in the metadata and catalog.
#[derive(Debug, Clone, Serialize)]
struct SourceRecord {
    name: String,
    sha256: String,
    size: u64,
}

fn archive_checked(ctx: &Ctx, checked: &CheckedDocument, result: &mut DocumentResult) -> Result<(), Reason> {
    let cfg = ctx.cfg;
    let svc = ctx.services;
    let profile = cfg
        .profile(&checked.profile)
        .ok_or_else(|| reason("config-invalid", format!("unknown profile {}", checked.profile)))?;
    let mut sources = Vec::new();
    let mut hashes: Vec<[u8; 32]> = Vec::new();
    for s in &checked.scans {
        let bytes = s.bytes.as_deref().ok_or_else(|| reason("unreadable", format!("{}: not read", s.path.display())))?;
        let h: [u8; 32] = Sha256::digest(bytes).into();
        hashes.push(h);
        sources.push(SourceRecord {
            name: s.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            sha256: hex::encode(h),
            size: bytes.len() as u64,
        });
    }
    let id = layout::document_id(&hashes);
    result.id = Some(id.clone());

    if let Some(a) = &ctx.archive {
        let a = a.lock().map_err(|_| reason("internal", "archive lock poisoned"))?;
        if let Some(row) = a.catalog.get(&id).map_err(|e| reason(e.code(), e.to_string()))? {
            if row.status == STATUS_ARCHIVED {
                result.outcome = Outcome::AlreadyArchived;
                result.archive_path = Some(a.root().join(&row.archive_path));
                result.timestamp = row.timestamp_time.clone();
                result.level = Some(row.level.clone());
                return Ok(());
            }
        }
    }

    // The guideline's workflow rules, before anything is signed.
    let sidecar = checked.document.sidecar.as_ref();
    let facts = workflow::Facts {
        patient_id: sidecar.and_then(|s| s.patient_id.as_deref()),
        plan_id: sidecar.and_then(|s| s.plan_id.as_deref()),
        document_date: sidecar.and_then(|s| s.document_date.as_deref()),
        attestation: sidecar.and_then(|s| s.attestation.map(|a| (a.no_overlap, a.nothing_outside_scan_area))),
        paper_location: sidecar.and_then(|s| s.paper_location.as_deref()),
        signer_role: svc.signer_role.as_deref(),
        correction: false,
    };
    let mut flags = Vec::new();
    let findings = workflow::before_signing(&checked.profile, profile, &cfg.workflow, &facts);
    let late = workflow::after_timestamp(profile, &cfg.workflow, facts.document_date, svc.clock.now());
    let (blocking, warnings): (Vec<_>, Vec<_>) = findings.into_iter().chain(late).partition(|f| f.blocking);
    for w in warnings {
        if w.code == "late-scan" {
            flags.push("late-scan");
        }
        result.warnings.push(reason(w.code, w.message));
    }
    if !blocking.is_empty() {
        result.outcome = Outcome::Rejected;
        result.reasons = blocking.into_iter().map(|f| reason(f.code, f.message)).collect();
        log_event(ctx, "rejected", Some(&id), result);
        return Ok(());
    }
    if ctx.opts.dry_run {
        result.outcome = Outcome::WouldArchive;
        return Ok(());
    }

    let meta = metadata(ctx, checked, &id, &sources);
    let pdf_bytes = build_pdf(checked, &meta)?;

    let wants_signature = profile.signature == Requirement::Required || profile.level >= Level::BB;
    let (pdf_bytes, sig_token, newest, level) = if wants_signature {
        let fields = SignatureFields {
            name: Some(sidecar.and_then(|s| s.responsible.clone()).unwrap_or_else(|| svc.signer_name.clone())),
            reason: sidecar.and_then(|s| s.reason.clone()).or_else(|| svc.signer_config.reason.clone()),
            location: sidecar.and_then(|s| s.location.clone()).or_else(|| svc.signer_config.location.clone()),
            contact_info: svc.signer_config.contact.clone(),
            signing_time: Some(svc.clock.now()),
        };
        let want_ts = profile.timestamp == Requirement::Required || profile.level >= Level::BT;
        let tsa = if want_ts { Some(svc.tsa.as_ref()) } else { None };
        let signed = pades::sign_pdf(pdf_bytes, svc.signer.as_ref(), tsa, &fields).map_err(|e| reason(e.code(), e.to_string()))?;
        let mut bytes = signed.pdf;
        let mut level = if signed.token.is_some() { Level::BT } else { Level::BB };
        let mut newest = signed.token.clone();
        if profile.level >= Level::BLT && signed.token.is_some() {
            let (b, problems) = svc.add_validation_data(bytes, signed.token.as_ref()).map_err(|e| reason(e.code(), e.to_string()))?;
            for p in problems {
                result.warnings.push(reason("revocation-incomplete", p));
            }
            bytes = b;
            level = Level::BLT;
        }
        if profile.level >= Level::BLTA && signed.token.is_some() {
            let (b, t) = pades::add_document_timestamp(bytes, svc.tsa.as_ref()).map_err(|e| reason(e.code(), e.to_string()))?;
            bytes = b;
            newest = Some(t);
            level = Level::BLTA;
        }
        (bytes, signed.token, newest, Some(level))
    } else {
        (pdf_bytes, None, None, None)
    };
    if profile.timestamp == Requirement::Required && sig_token.is_none() {
        return Err(reason("timestamp-missing", format!("profile '{}' requires a timestamp", checked.profile)));
    }

    let stamped_at = sig_token.as_ref().map(|t| t.info.gen_time).unwrap_or_else(|| svc.clock.now());
    // Judge lateness on the trusted time now that it exists (the pre-check used the local clock).
    if !flags.contains(&"late-scan") {
        if let Some(f) = workflow::after_timestamp(profile, &cfg.workflow, facts.document_date, stamped_at) {
            flags.push("late-scan");
            result.warnings.push(reason(f.code, f.message));
        }
    }
    let rel = layout::relative_pdf_path(&id, stamped_at);
    let mut row = catalog_row(ctx, checked, CatalogInputs { id: &id, rel: &rel, sources: &sources, sig_token: sig_token.as_ref(), newest: newest.as_ref(), level, flags: &flags });
    // One instant for the row and its audit entry, so reindex can recover it from the log.
    let now = rfc3339(svc.clock.now());
    row.archived_at = now.clone();
    let a = ctx.archive.as_ref().ok_or_else(|| reason("internal", "no archive open"))?;
    let mut a = a.lock().map_err(|_| reason("internal", "archive lock poisoned"))?;
    let stored = match a.store_new(row, &pdf_bytes, &now) {
        Ok(r) => r,
        Err(ArchiveError::AlreadyArchived { path, .. }) => {
            // The same scans came twice in this batch: the first one is the archive.
            result.outcome = Outcome::AlreadyArchived;
            result.archive_path = Some(a.root().join(path));
            return Ok(());
        }
        Err(e) => return Err(reason(e.code(), e.to_string())),
    };
    result.outcome = Outcome::Archived;
    result.archive_path = Some(a.root().join(&stored.archive_path));
    result.timestamp = stored.timestamp_time.clone();
    result.level = Some(stored.level.clone());
    Ok(())
}

/// The PDF before signing: images assembled losslessly, or a scanner's PDF kept as the first
/// revision with hozon's metadata appended.
fn build_pdf(checked: &CheckedDocument, meta: &pdf::PdfMetadata) -> Result<Vec<u8>, Reason> {
    let pdf_err = |e: pdf::PdfError| reason(e.code(), e.to_string());
    let is_pdf = |s: &check::CheckedScan| s.result.as_ref().is_ok_and(|f| f.format == FormatName::Pdf);
    if checked.scans.iter().any(is_pdf) {
        if checked.scans.len() != 1 {
            return Err(reason("unsupported-format", "a scanner's PDF must be a document on its own (not mixed with other files)"));
        }
        let bytes = checked.scans[0].bytes.clone().ok_or_else(|| reason("unreadable", "not read"))?;
        return pdf::add_metadata(bytes, meta).map_err(pdf_err);
    }
    let mut pages = Vec::new();
    for s in &checked.scans {
        let scan = s.result.as_ref().map_err(|e| reason(e.code(), e.to_string()))?;
        let data = s.bytes.as_deref().ok_or_else(|| reason("unreadable", "not read"))?;
        for p in &scan.pages {
            let (Some(dx), Some(dy)) = (p.dpi_x, p.dpi_y) else {
                return Err(reason("missing-resolution", format!("{}: no resolution", s.path.display())));
            };
            let kind = match p.format {
                FormatName::Jpeg => pdf::ImageKind::Jpeg,
                FormatName::Png => pdf::ImageKind::Png,
                FormatName::Tiff => pdf::ImageKind::Tiff { page: p.index },
                FormatName::Pdf => return Err(reason("unsupported-format", "unexpected PDF page")),
            };
            pages.push(pdf::ImagePage { data, kind, dpi_x: dx, dpi_y: dy });
        }
    }
    pdf::assemble(&pages, meta).map_err(pdf_err)
}

/// Info/XMP metadata: what was scanned, from which files, under which rules, by whom.
fn metadata(ctx: &Ctx, checked: &CheckedDocument, id: &str, sources: &[SourceRecord]) -> pdf::PdfMetadata {
    let sc = checked.document.sidecar.as_ref();
    let profile = ctx.cfg.profile(&checked.profile);
    let mut custom: Vec<(String, String)> = vec![
        ("HozonDocumentId".into(), id.to_string()),
        ("HozonProfile".into(), checked.profile.clone()),
        ("HozonVersion".into(), env!("CARGO_PKG_VERSION").into()),
    ];
    for (i, s) in sources.iter().enumerate() {
        custom.push((format!("HozonSource{}", i + 1), format!("{} sha256:{} bytes:{}", s.name, s.sha256, s.size)));
    }
    if let Some(p) = profile {
        let modes: Vec<&str> = p.color_modes.iter().map(|m| m.as_str()).collect();
        custom.push((
            "HozonChecks".into(),
            format!(
                "passed: resolution >= {} dpi per axis; colour modes {}; integrity pass; pages {} <= {}",
                p.min_dpi,
                modes.join(","),
                checked.page_count(),
                p.max_pages
            ),
        ));
        if p.reference_copy {
            custom.push(("HozonReferenceCopy".into(), "true: the paper is the record".into()));
        }
    }
    if let Some(s) = sc {
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                custom.push((k.to_string(), v.clone()));
            }
        };
        put("HozonPatientId", &s.patient_id);
        put("HozonDocumentType", &s.document_type);
        put("HozonDocumentDate", &s.document_date);
        put("HozonScannedBy", &s.scanned_by);
        put("HozonScannedAt", &s.scanned_at);
        put("HozonInformationManager", &s.information_manager);
        put("HozonResponsible", &s.responsible);
        put("HozonPlanId", &s.plan_id);
        put("HozonPaperLocation", &s.paper_location);
        put("HozonNotes", &s.notes);
        if let Some(sc) = &s.scanner {
            custom.push(("HozonScanner".into(), serde_json::to_string(sc).unwrap_or_default()));
        }
        if let Some(a) = &s.attestation {
            custom.push((
                "HozonAttestation".into(),
                format!("no_overlap={} nothing_outside_scan_area={}", a.no_overlap, a.nothing_outside_scan_area),
            ));
        }
    }
    let signer = ctx.services.signer_name.clone();
    pdf::PdfMetadata {
        title: Some(sc.and_then(|s| s.document_type.clone()).map(|t| format!("{t} ({})", checked.document.id_hint)).unwrap_or_else(|| checked.document.id_hint.clone())),
        author: Some(sc.and_then(|s| s.responsible.clone()).unwrap_or(signer)),
        subject: Some(format!("scanned record, profile {}", checked.profile)),
        keywords: sc.and_then(|s| s.patient_id.clone()),
        creator: format!("hozon {}", env!("CARGO_PKG_VERSION")),
        producer: format!("hozon {}", env!("CARGO_PKG_VERSION")),
        created: ctx.services.clock.now(),
        custom,
    }
}

struct CatalogInputs<'a> {
    id: &'a str,
    rel: &'a str,
    sources: &'a [SourceRecord],
    sig_token: Option<&'a TimestampToken>,
    newest: Option<&'a TimestampToken>,
    level: Option<Level>,
    flags: &'a [&'a str],
}

/// Expiry and algorithm note of a token's TSA certificate.
pub fn token_facts(t: &TimestampToken) -> (Option<time::OffsetDateTime>, String) {
    let cert = t.tsa_certificate();
    let expiry = cert.and_then(|c| crate::pki::asn1_time::to_offset(c.not_after()).ok());
    let key = cert
        .and_then(|c| c.public_key().ok())
        .map(|k| match k.id() {
            openssl::pkey::Id::RSA => format!("rsa{}", k.bits()),
            openssl::pkey::Id::EC => format!("ec{}", k.bits()),
            other => format!("{other:?}").to_lowercase(),
        })
        .unwrap_or_else(|| "unknown".into());
    let sig_hash = t.signed.digest_algorithm().map(|d| d.name().to_string()).unwrap_or_else(|_| "unknown".into());
    (expiry, format!("{},{},{}", t.info.imprint_alg.name(), sig_hash, key))
}

/// When renewal is due: `within_days` before the newest TSA certificate expires.
pub fn renewal_due(expiry: time::OffsetDateTime, within_days: u32) -> time::OffsetDateTime {
    expiry - time::Duration::days(i64::from(within_days))
}

/// The catalog's due date of a file: `renewal_due` of its newest TSA certificate, and, while the
/// file has no document timestamp (`signer_expiry` given), no later than `within_days` before
/// the signer's certificate expires. Its first document timestamp must come while that
/// certificate is valid: the signature timestamp proves when the signature was made, but AdES
/// validators (ETSI EN 319 102-1 past validation) take proof that the signer's *certificate*
/// existed only from document timestamps, and it must predate the certificate's expiry.
pub fn next_renewal_due(
    tsa_expiry: Option<time::OffsetDateTime>,
    signer_expiry: Option<time::OffsetDateTime>,
    within_days: u32,
) -> Option<time::OffsetDateTime> {
    let due = |e| renewal_due(e, within_days);
    match (tsa_expiry.map(due), signer_expiry.map(due)) {
        (Some(t), Some(s)) => Some(t.min(s)),
        (t, None) => t,
        // Without a timestamp there is nothing to renew.
        (None, Some(_)) => None,
    }
}

fn catalog_row(ctx: &Ctx, checked: &CheckedDocument, c: CatalogInputs) -> Row {
    let cfg = ctx.cfg;
    let svc = ctx.services;
    let sc = checked.document.sidecar.as_ref();
    let profile = cfg.profile(&checked.profile);
    let now = svc.clock.now();
    let (expiry, algs) = c.newest.map(token_facts).unwrap_or((None, String::new()));
    let signer_expiry = match c.level {
        Some(Level::BLTA) | None => None,
        Some(_) => crate::pki::asn1_time::to_offset(svc.signer.certificate().not_after()).ok(),
    };
    let base_date = sc
        .and_then(|s| s.document_date.as_deref())
        .and_then(workflow::local_date)
        .unwrap_or_else(|| now.to_offset(layout::JST).date());
    let retention_until = profile.and_then(|p| {
        let years = i32::try_from(p.retention_years).ok()?;
        let d = base_date.replace_year(base_date.year() + years).ok().or_else(|| base_date.replace_day(28).ok()?.replace_year(base_date.year() + years).ok())?;
        Some(rfc3339(d.midnight().assume_offset(layout::JST)))
    });
    Row {
        id: c.id.to_string(),
        archive_path: c.rel.to_string(),
        archive_sha256: String::new(),
        archive_size: 0,
        status: String::new(),
        profile: checked.profile.clone(),
        level: c.level.map(|l| l.as_str().to_string()).unwrap_or_else(|| "unsigned".into()),
        patient_id: sc.and_then(|s| s.patient_id.clone()),
        document_type: sc.and_then(|s| s.document_type.clone()),
        document_date: sc.and_then(|s| s.document_date.clone()),
        sources: serde_json::to_string(c.sources).unwrap_or_else(|_| "[]".into()),
        sidecar: serde_json::to_string(&sc).unwrap_or_else(|_| "null".into()),
        signer: c.level.map(|_| sc.and_then(|s| s.responsible.clone()).unwrap_or_else(|| svc.signer_name.clone())),
        signer_role: c.level.and(svc.signer_role.clone()),
        information_manager: sc.and_then(|s| s.information_manager.clone()),
        operator: sc.and_then(|s| s.scanned_by.clone()),
        pages: u32::try_from(checked.page_count()).unwrap_or(u32::MAX),
        timestamp_time: c.sig_token.map(|t| rfc3339(t.info.gen_time)),
        newest_timestamp_time: c.newest.map(|t| rfc3339(t.info.gen_time)),
        tsa_cert_expiry: expiry.map(rfc3339),
        next_renewal_due: next_renewal_due(expiry, signer_expiry, cfg.renew.within_days).map(rfc3339),
        newest_timestamp_algs: c.newest.map(|_| algs),
        retention_until,
        reference_copy: profile.is_some_and(|p| p.reference_copy),
        paper_location: sc.and_then(|s| s.paper_location.clone()),
        flags: c.flags.join(","),
        archived_at: rfc3339(now),
        renewed_at: None,
        renewals: 0,
        ers_path: None,
        pending_sha256: None,
    }
}
