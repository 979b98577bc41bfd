//! `hozon ingest`: documents → check → lossless PDF → PAdES signature + RFC 3161 timestamp →
//! validation data (B-LT) → optional document timestamp (B-LTA) → archive. Documents run in
//! parallel on a bounded pool; a failure of one is reported and the batch goes on. Nothing is
//! archived unless every step the profile requires succeeded.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::archive::catalog::{Catalog, Row, STATUS_ARCHIVED};
use crate::archive::layout;
use crate::archive::store::{self, Archive, ArchiveError, NewDocument};
use crate::check::{self, CheckedDocument};
use crate::clock::rfc3339;
use crate::config::{Config, FormatName, Level, Requirement};
use crate::document::Document;
use crate::pdf;
use crate::renewal;
use crate::services::Services;
use crate::pades::{self, SignatureFields};
use crate::tsp::TimestampToken;
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
    /// "ers": seal the batch's newly archived PDFs into RFC 4998 evidence records under ONE
    /// timestamp after archiving; "none": nothing more.
    pub seal: String,
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
    /// The RFC 4998 evidence record written beside the PDF (`--seal ers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_record: Option<PathBuf>,
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

/// What sealing the batch into evidence records did (`--seal ers`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SealSummary {
    pub evidence: &'static str,
    /// Archives covered by the batch's one timestamp.
    pub sealed: usize,
    /// Archives left without a record (they get one at their first `hozon renew --evidence ers`).
    pub failed: usize,
    /// Time of the batch's timestamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    pub archive: PathBuf,
    pub demo: bool,
    pub documents: Vec<DocumentResult>,
    pub summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seal: Option<SealSummary>,
}

impl IngestReport {
    pub fn all_ok(&self) -> bool {
        self.summary.rejected == 0 && self.summary.failed == 0 && self.seal.as_ref().is_none_or(|s| s.failed == 0)
    }
}

struct Ctx<'a> {
    cfg: &'a Config,
    services: &'a Services,
    archive: Option<&'a Mutex<Archive>>,
    /// A second connection to the catalog, for the workers' "already archived?" look-ups: WAL
    /// readers never wait for the committer's transactions and fsyncs.
    reader: Option<Mutex<Catalog>>,
    opts: &'a IngestOptions,
}

/// Documents whose files are written (not yet synced) wait here for the committer thread.
const QUEUE: usize = 256;
/// Most documents one group commit takes.
const MAX_GROUP: usize = 128;

/// A document handed from a worker to the committer.
struct Job {
    index: usize,
    result: DocumentResult,
    doc: NewDocument,
}

/// What a worker made of a document.
enum Step {
    Done(DocumentResult),
    Pending(Job),
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
    let batch = docs.len();
    let now = rfc3339(services.clock.now());
    let (archive, reader) = if opts.dry_run {
        (None, None)
    } else {
        let (a, _recovery) = Archive::open(&opts.out, &now)?;
        let reader = Catalog::open(&opts.out.join(layout::CATALOG_FILE)).map_err(ArchiveError::from)?;
        (Some(Mutex::new(a)), Some(Mutex::new(reader)))
    };
    let ctx = Ctx {
        cfg,
        services,
        archive: archive.as_ref(),
        reader,
        opts,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.max(1))
        .build()
        .map_err(|e| IngestError::Pool(e.to_string()))?;
    use rayon::prelude::*;
    // Workers check, build, sign and write each document's file; one committer thread makes
    // them durable and archives them in groups, while the workers go on with the next ones.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(QUEUE);
    // Each document's result goes straight to its batch position, whoever finishes it.
    let slots: Mutex<Vec<Option<DocumentResult>>> = Mutex::new((0..batch).map(|_| None).collect());
    let put = |index: usize, r: DocumentResult| {
        if let Some(slot) = slots.lock().unwrap_or_else(|p| p.into_inner()).get_mut(index) {
            *slot = Some(r);
        }
    };
    std::thread::scope(|s| {
        let committer = s.spawn(|| commit_loop(&ctx, rx, on_done, &put));
        pool.install(|| {
            // Consumed: each discovered document is dropped once it is handled, so a large
            // batch holds only its results.
            docs.into_par_iter().enumerate().for_each(|(index, d)| {
                let r = match ingest_one(&ctx, &d, index) {
                    Step::Done(r) => r,
                    Step::Pending(job) => {
                        // Stands until the committer puts the real outcome in its place.
                        let mut stopped = DocumentResult::new(d.root.clone(), job.result.profile.clone());
                        stopped.outcome = Outcome::Failed;
                        stopped
                            .reasons
                            .push(reason("internal", "the archive committer stopped before this document"));
                        put(index, stopped);
                        match tx.send(job) {
                            Ok(()) => return,
                            Err(std::sync::mpsc::SendError(job)) => {
                                let mut r = job.result;
                                r.outcome = Outcome::Failed;
                                r.reasons.push(reason("internal", "the archive committer stopped"));
                                r
                            }
                        }
                    }
                };
                on_done(&r);
                put(index, r);
            })
        });
        drop(tx);
        let _ = committer.join();
    });
    let slots = slots.into_inner().unwrap_or_else(|p| p.into_inner());
    // Every position was filled by its worker (a placeholder at least).
    let mut results: Vec<DocumentResult> = slots.into_iter().flatten().collect();
    let seal = (ctx.opts.seal == "ers" && !ctx.opts.dry_run).then(|| seal_batch(&ctx, &mut results));
    let mut s = Summary {
        documents: results.len(),
        ..Default::default()
    };
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
    Ok(IngestReport {
        archive: opts.out.clone(),
        demo: cfg.uses_demo(),
        documents: results,
        summary: s,
        seal,
    })
}

/// `--seal ers`: the documents archived by this run go under one hash tree and ONE timestamp,
/// exactly as `hozon renew --evidence ers` does it (`evidence::seal_rows`). Documents that were
/// already archived before are left to renewal. A failure leaves the PDFs archived and valid,
/// without a record; it is a warning on each document and makes the run exit 1.
fn seal_batch(ctx: &Ctx, results: &mut [DocumentResult]) -> SealSummary {
    let mut summary = SealSummary {
        evidence: "ers",
        ..Default::default()
    };
    let Some(archive) = &ctx.archive else {
        return summary;
    };
    let Ok(mut a) = archive.lock() else {
        summary.failed = results.iter().filter(|r| r.outcome == Outcome::Archived).count();
        return summary;
    };
    let mut rows = Vec::new();
    for r in results.iter_mut().filter(|r| r.outcome == Outcome::Archived) {
        match r.id.as_deref().map(|id| a.catalog.get(id)) {
            Some(Ok(Some(row))) => rows.push((row, "sealed at ingest".to_string())),
            Some(Err(e)) => {
                r.warnings.push(reason(e.code(), format!("not sealed: {e}")));
                summary.failed += 1;
            }
            _ => {
                r.warnings.push(reason("internal", "not sealed: no catalog row"));
                summary.failed += 1;
            }
        }
    }
    if rows.is_empty() {
        return summary;
    }
    let items = crate::evidence::seal_rows(
        ctx.cfg,
        ctx.services,
        &mut a,
        rows,
        crate::evidence::SealEvent::Ingest,
        &|_| {},
    );
    for item in items {
        let Some(r) = results.iter_mut().find(|r| r.id.as_deref() == Some(item.id.as_str())) else {
            continue;
        };
        if item.outcome == "sealed" {
            summary.sealed += 1;
            summary.timestamp = summary.timestamp.or(item.timestamp);
            r.evidence_record = Some(
                a.root()
                    .join(crate::evidence::record_path(std::path::Path::new(&item.path))),
            );
        } else {
            summary.failed += 1;
            let code = item.code.unwrap_or_else(|| "internal".into());
            r.warnings.push(reason(
                &code,
                format!(
                    "not sealed into an evidence record: {}",
                    item.message.unwrap_or_default()
                ),
            ));
        }
    }
    summary
}

fn reason(code: &str, message: impl Into<String>) -> Reason {
    Reason {
        code: code.into(),
        message: message.into(),
        page: None,
    }
}

fn finding_reason(f: &crate::rules::Finding) -> Reason {
    Reason {
        code: f.code.to_string(),
        message: f.message.clone(),
        page: f.page,
    }
}

impl DocumentResult {
    fn new(path: PathBuf, profile: String) -> DocumentResult {
        DocumentResult {
            path,
            outcome: Outcome::Rejected,
            id: None,
            profile,
            archive_path: None,
            pages: 0,
            source_bytes: 0,
            timestamp: None,
            level: None,
            evidence_record: None,
            reasons: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

fn ingest_one(ctx: &Ctx, doc: &Document, index: usize) -> Step {
    let checked = check::check_document(doc, ctx.cfg, ctx.opts.profile.as_deref(), true);
    let mut result = DocumentResult::new(doc.root.clone(), checked.profile.clone());
    result.pages = checked.page_count();
    result.source_bytes = checked
        .scans
        .iter()
        .filter_map(|s| s.bytes.as_ref())
        .map(|b| b.len() as u64)
        .sum();
    result.warnings = checked
        .findings
        .iter()
        .filter(|f| !f.is_error())
        .map(finding_reason)
        .collect();
    if !checked.passed {
        result.reasons = checked
            .findings
            .iter()
            .filter(|f| f.is_error())
            .map(finding_reason)
            .collect();
        log_event(ctx, "rejected", None, &result);
        return Step::Done(result);
    }
    match archive_checked(ctx, &checked, &mut result) {
        Ok(Some(doc)) => return Step::Pending(Job { index, result, doc }),
        Ok(None) => {}
        Err(r) => fail(ctx, &mut result, r),
    }
    Step::Done(result)
}

fn fail(ctx: &Ctx, result: &mut DocumentResult, r: Reason) {
    result.outcome = Outcome::Failed;
    result.reasons.push(r);
    log_event(ctx, "failed", result.id.clone().as_deref(), result);
}

/// The committer: takes whatever documents are waiting (up to `MAX_GROUP`), fsyncs their files
/// together without the archive lock, then stores them as one group under it. Each finished
/// result goes to `put` with its batch position; `on_done` is called for each.
fn commit_loop(
    ctx: &Ctx,
    rx: std::sync::mpsc::Receiver<Job>,
    on_done: &(dyn Fn(&DocumentResult) + Sync),
    put: &dyn Fn(usize, DocumentResult),
) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        let mut metas = Vec::with_capacity(group.len());
        let mut docs = Vec::with_capacity(group.len());
        for j in group {
            metas.push((j.index, j.result));
            docs.push(j.doc);
        }
        let mut outcomes: Vec<Option<Result<Row, ArchiveError>>> = Vec::with_capacity(metas.len());
        let mut durable = Vec::new();
        for d in store::sync_new(docs) {
            match d {
                Ok(d) => {
                    durable.push(d);
                    outcomes.push(None);
                }
                Err(e) => outcomes.push(Some(Err(e))),
            }
        }
        let root = match ctx.archive.map(|a| a.lock()) {
            Some(Ok(mut a)) => {
                let mut stored = a.store_durable(durable).into_iter();
                for o in outcomes.iter_mut().filter(|o| o.is_none()) {
                    *o = stored.next();
                }
                Some(a.root().to_path_buf())
            }
            _ => None,
        };
        for ((index, mut result), outcome) in metas.into_iter().zip(outcomes) {
            match (outcome, &root) {
                (Some(Ok(row)), Some(root)) => {
                    result.outcome = Outcome::Archived;
                    result.archive_path = Some(root.join(&row.archive_path));
                    result.timestamp = row.timestamp_time.clone();
                    result.level = Some(row.level.clone());
                }
                (Some(Err(ArchiveError::AlreadyArchived { path, .. })), Some(root)) => {
                    // The same scans came twice in this batch: the first one is the archive.
                    result.outcome = Outcome::AlreadyArchived;
                    result.archive_path = Some(root.join(path));
                    result.timestamp = None;
                    result.level = None;
                }
                (Some(Err(e)), _) => fail(ctx, &mut result, reason(e.code(), e.to_string())),
                _ => fail(ctx, &mut result, reason("internal", "archive lock poisoned")),
            }
            on_done(&result);
            put(index, result);
        }
    }
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

/// Check, build and sign one document and write its file (`Some`: for the committer to make
/// durable and archive); `None` when it is finished here (already archived, rejected, dry run).
fn archive_checked(
    ctx: &Ctx,
    checked: &CheckedDocument,
    result: &mut DocumentResult,
) -> Result<Option<NewDocument>, Reason> {
    let cfg = ctx.cfg;
    let svc = ctx.services;
    let profile = cfg
        .profile(&checked.profile)
        .ok_or_else(|| reason("config-invalid", format!("unknown profile {}", checked.profile)))?;
    let mut sources = Vec::new();
    let mut hashes: Vec<[u8; 32]> = Vec::new();
    for s in &checked.scans {
        let bytes = s
            .bytes
            .as_deref()
            .ok_or_else(|| reason("unreadable", format!("{}: not read", s.path.display())))?;
        let h: [u8; 32] = Sha256::digest(bytes).into();
        hashes.push(h);
        sources.push(SourceRecord {
            name: s
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256: hex::encode(h),
            size: bytes.len() as u64,
        });
    }
    let id = layout::document_id(&hashes);
    result.id = Some(id.clone());

    if let Some(c) = &ctx.reader {
        let c = c.lock().map_err(|_| reason("internal", "catalog lock poisoned"))?;
        if let Some(row) = c.get(&id).map_err(|e| reason(e.code(), e.to_string()))? {
            if row.status == STATUS_ARCHIVED {
                result.outcome = Outcome::AlreadyArchived;
                result.archive_path = Some(ctx.opts.out.join(&row.archive_path));
                result.timestamp = row.timestamp_time.clone();
                result.level = Some(row.level.clone());
                return Ok(None);
            }
        }
    }

    // The guideline's workflow rules, before anything is signed.
    let sidecar = checked.document.sidecar.as_deref();
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
        return Ok(None);
    }
    if ctx.opts.dry_run {
        result.outcome = Outcome::WouldArchive;
        return Ok(None);
    }

    let meta = metadata(ctx, checked, &id, &sources);
    let pdf_bytes = build_pdf(checked, &meta)?;

    let wants_signature = profile.signature == Requirement::Required || profile.level >= Level::BB;
    let (pdf_bytes, sig_token, newest, level, prefix) = if wants_signature {
        let fields = SignatureFields {
            name: Some(
                sidecar
                    .and_then(|s| s.responsible.clone())
                    .unwrap_or_else(|| svc.signer_name.clone()),
            ),
            reason: sidecar
                .and_then(|s| s.reason.clone())
                .or_else(|| svc.signer_config.reason.clone()),
            location: sidecar
                .and_then(|s| s.location.clone())
                .or_else(|| svc.signer_config.location.clone()),
            contact_info: svc.signer_config.contact.clone(),
            signing_time: Some(svc.clock.now()),
        };
        let want_ts = profile.timestamp == Requirement::Required || profile.level >= Level::BT;
        let tsa = if want_ts { Some(svc.tsa.as_ref()) } else { None };
        let signed = pades::sign_pdf(pdf_bytes, svc.signer.as_ref(), tsa, &fields)
            .map_err(|e| reason(e.code(), e.to_string()))?;
        let mut bytes = signed.pdf;
        let mut level = if signed.token.is_some() { Level::BT } else { Level::BB };
        let mut newest = signed.token.clone();
        if profile.level >= Level::BLT && signed.token.is_some() {
            let (b, problems) = svc
                .add_validation_data(bytes, signed.token.as_ref())
                .map_err(|e| reason(e.code(), e.to_string()))?;
            for p in problems {
                result.warnings.push(reason("revocation-incomplete", p));
            }
            bytes = b;
            level = Level::BLT;
        }
        if profile.level >= Level::BLTA && signed.token.is_some() {
            let (b, t) =
                pades::add_document_timestamp(bytes, svc.tsa.as_ref()).map_err(|e| reason(e.code(), e.to_string()))?;
            bytes = b;
            newest = Some(t);
            level = Level::BLTA;
        }
        // Every later revision is appended, so the signed prefix's hash state stays good.
        (bytes, signed.token, newest, Some(level), signed.prefix)
    } else {
        (pdf_bytes, None, None, None, None)
    };
    if profile.timestamp == Requirement::Required && sig_token.is_none() {
        return Err(reason(
            "timestamp-missing",
            format!("profile '{}' requires a timestamp", checked.profile),
        ));
    }

    let stamped_at = sig_token
        .as_ref()
        .map(|t| t.info.gen_time)
        .unwrap_or_else(|| svc.clock.now());
    // Judge lateness on the trusted time now that it exists (the pre-check used the local clock).
    if !flags.contains(&"late-scan") {
        if let Some(f) = workflow::after_timestamp(profile, &cfg.workflow, facts.document_date, stamped_at) {
            flags.push("late-scan");
            result.warnings.push(reason(f.code, f.message));
        }
    }
    let rel = layout::relative_pdf_path(&id, stamped_at);
    let mut row = catalog_row(
        ctx,
        checked,
        CatalogInputs {
            id: &id,
            rel: &rel,
            sources: &sources,
            sig_token: sig_token.as_ref(),
            newest: newest.as_ref(),
            level,
            flags: &flags,
        },
    );
    // One instant for the row and its audit entry, so reindex can recover it from the log.
    let now = rfc3339(svc.clock.now());
    row.archived_at = now.clone();
    if ctx.archive.is_none() {
        return Err(reason("internal", "no archive open"));
    }
    let sha256 = prefix.and_then(|p| p.finish(&pdf_bytes));
    let doc = store::prepare_new_hashed(&ctx.opts.out, row, &pdf_bytes, sha256, &now)
        .map_err(|e| reason(e.code(), e.to_string()))?;
    Ok(Some(doc))
}

/// The PDF before signing: images assembled losslessly, or a scanner's PDF kept as the first
/// revision with hozon's metadata appended.
fn build_pdf(checked: &CheckedDocument, meta: &pdf::PdfMetadata) -> Result<Vec<u8>, Reason> {
    let pdf_err = |e: pdf::PdfError| reason(e.code(), e.to_string());
    let is_pdf = |s: &check::CheckedScan| s.result.as_ref().is_ok_and(|f| f.format == FormatName::Pdf);
    if checked.scans.iter().any(is_pdf) {
        if checked.scans.len() != 1 {
            return Err(reason(
                "unsupported-format",
                "a scanner's PDF must be a document on its own (not mixed with other files)",
            ));
        }
        let bytes = checked.scans[0]
            .bytes
            .clone()
            .ok_or_else(|| reason("unreadable", "not read"))?;
        return pdf::add_metadata(bytes, meta).map_err(pdf_err);
    }
    let mut pages = Vec::new();
    for s in &checked.scans {
        let scan = s.result.as_ref().map_err(|e| reason(e.code(), e.to_string()))?;
        let data = s.bytes.as_deref().ok_or_else(|| reason("unreadable", "not read"))?;
        for p in &scan.pages {
            let (Some(dx), Some(dy)) = (p.dpi_x, p.dpi_y) else {
                return Err(reason(
                    "missing-resolution",
                    format!("{}: no resolution", s.path.display()),
                ));
            };
            let kind = match p.format {
                FormatName::Jpeg => pdf::ImageKind::Jpeg,
                FormatName::Png => pdf::ImageKind::Png,
                FormatName::Tiff => pdf::ImageKind::Tiff { page: p.index },
                FormatName::Pdf => return Err(reason("unsupported-format", "unexpected PDF page")),
            };
            pages.push(pdf::ImagePage {
                data,
                kind,
                dpi_x: dx,
                dpi_y: dy,
            });
        }
    }
    pdf::assemble(&pages, meta).map_err(pdf_err)
}

/// Info/XMP metadata: what was scanned, from which files, under which rules, by whom.
fn metadata(ctx: &Ctx, checked: &CheckedDocument, id: &str, sources: &[SourceRecord]) -> pdf::PdfMetadata {
    let sc = checked.document.sidecar.as_deref();
    let profile = ctx.cfg.profile(&checked.profile);
    let mut custom: Vec<(String, String)> = vec![
        ("HozonDocumentId".into(), id.to_string()),
        ("HozonProfile".into(), checked.profile.clone()),
        ("HozonVersion".into(), env!("CARGO_PKG_VERSION").into()),
    ];
    for (i, s) in sources.iter().enumerate() {
        custom.push((
            format!("HozonSource{}", i + 1),
            format!("{} sha256:{} bytes:{}", s.name, s.sha256, s.size),
        ));
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
                format!(
                    "no_overlap={} nothing_outside_scan_area={}",
                    a.no_overlap, a.nothing_outside_scan_area
                ),
            ));
        }
    }
    let signer = ctx.services.signer_name.clone();
    pdf::PdfMetadata {
        title: Some(
            sc.and_then(|s| s.document_type.clone())
                .map(|t| format!("{t} ({})", checked.document.id_hint))
                .unwrap_or_else(|| checked.document.id_hint.clone()),
        ),
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

fn catalog_row(ctx: &Ctx, checked: &CheckedDocument, c: CatalogInputs) -> Row {
    let cfg = ctx.cfg;
    let svc = ctx.services;
    let sc = checked.document.sidecar.as_deref();
    let profile = cfg.profile(&checked.profile);
    let now = svc.clock.now();
    let (expiry, algs) = c.newest.map(renewal::token_facts).unwrap_or((None, String::new()));
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
        let d = base_date.replace_year(base_date.year() + years).ok().or_else(|| {
            base_date
                .replace_day(28)
                .ok()?
                .replace_year(base_date.year() + years)
                .ok()
        })?;
        Some(rfc3339(d.midnight().assume_offset(layout::JST)))
    });
    Row {
        id: c.id.to_string(),
        archive_path: c.rel.to_string(),
        archive_sha256: String::new(),
        archive_size: 0,
        status: String::new(),
        profile: checked.profile.clone(),
        level: c
            .level
            .map(|l| l.as_str().to_string())
            .unwrap_or_else(|| "unsigned".into()),
        patient_id: sc.and_then(|s| s.patient_id.clone()),
        document_type: sc.and_then(|s| s.document_type.clone()),
        document_date: sc.and_then(|s| s.document_date.clone()),
        sources: serde_json::to_string(c.sources).unwrap_or_else(|_| "[]".into()),
        sidecar: serde_json::to_string(&sc).unwrap_or_else(|_| "null".into()),
        signer: c.level.map(|_| {
            sc.and_then(|s| s.responsible.clone())
                .unwrap_or_else(|| svc.signer_name.clone())
        }),
        signer_role: c.level.and(svc.signer_role.clone()),
        information_manager: sc.and_then(|s| s.information_manager.clone()),
        operator: sc.and_then(|s| s.scanned_by.clone()),
        pages: u32::try_from(checked.page_count()).unwrap_or(u32::MAX),
        timestamp_time: c.sig_token.map(|t| rfc3339(t.info.gen_time)),
        newest_timestamp_time: c.newest.map(|t| rfc3339(t.info.gen_time)),
        tsa_cert_expiry: expiry.map(rfc3339),
        next_renewal_due: renewal::next_renewal_due(expiry, signer_expiry, cfg.renew.within_days).map(rfc3339),
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
        corrections: 0,
        corrected_by: None,
        corrected_at: None,
    }
}
