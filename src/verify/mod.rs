//! `hozon verify`: independent validation of signed PDFs from any producer (hozon, pyHanko,
//! Acrobat). Nothing in the file is trusted: the PDF layer parses with bounds, every signature's
//! /ByteRange is checked against the file, each byte of the covered prefix is hashed once
//! (`digest`), CMS signatures (`signature`) and timestamps (`timestamp`) are checked, later
//! revisions are classified, and the long-term rule (`longterm`, documented there) decides
//! whether each signer was trusted at a proven time. `level` names the PAdES level reached,
//! `report` renders, `batch` walks folders in parallel and compares with the archive catalog.

mod batch;
mod digest;
mod level;
mod longterm;
mod reason;
mod record;
mod report;
mod signature;
mod timestamp;

pub use batch::{collect_files, CatalogIndex};
pub use level::Level;
pub use longterm::{Evidence, Online};
pub use reason::{verdict_of, Code, Reason, Verdict};
pub use record::{ChainSummary, EvidenceRecordReport, RecordInput};
pub use report::{FileReport, SignatureReport, Summary, TimestampReport, VerifyReport};
pub use timestamp::TimestampKind;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use openssl::nid::Nid;
use openssl::x509::X509;
use time::OffsetDateTime;

use crate::clock::rfc3339;
use crate::cms::parse_signed_data;
use crate::ltv::RevocationSource;
use crate::pdf::{self, ChangeKind, SigKind, SignatureEntry};
use crate::pki::{hc_role, subject_line, RevocationData, TrustStore};
use crate::tsp::TimestampToken;
use digest::{covered_digests, Span};
use longterm::{evaluate, Inputs};
use signature::{check_signature, supported_sub_filter, CheckedSignature};
use timestamp::{check_token, CheckedTimestamp};

/// Errors that stop a whole run (per-file problems are reasons in the report instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("catalog: {0}")]
    Catalog(#[from] crate::archive::catalog::CatalogError),
    #[error("no catalog.sqlite in {0} or its parent folders")]
    NoCatalog(PathBuf),
}

impl VerifyError {
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Io { .. } => "io",
            VerifyError::Catalog(e) => e.code(),
            VerifyError::NoCatalog(_) => "no-catalog",
        }
    }
}

/// How to validate.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The validation time (`--at`, default now).
    pub at: OffsetDateTime,
    /// Largest file read (bytes).
    pub max_file_bytes: u64,
}

/// One validation run: the trust store and revocation cache are built once and shared by all
/// files (and threads).
pub struct Verifier {
    trust: TrustStore,
    cache: crate::pki::trust::RevocationCache,
    online: Option<Online>,
    opts: VerifyOptions,
    /// An evidence record named on the command line (`--ers`), used instead of the one beside
    /// the file.
    record_override: Option<PathBuf>,
    /// Algorithms treated as weakening when saying how long an evidence record holds.
    weak_algorithms: Vec<String>,
}

impl Verifier {
    /// `online`: where to fetch revocation data the file lacks (`--online`); None stays offline.
    pub fn new(trust: TrustStore, online: Option<Arc<dyn RevocationSource>>, opts: VerifyOptions) -> Verifier {
        Verifier {
            trust,
            cache: Default::default(),
            online: online.map(Online::new),
            opts,
            record_override: None,
            weak_algorithms: crate::config::RenewConfig::default().weak_algorithms,
        }
    }

    /// Check every file with this evidence record instead of the one beside it (`--ers FILE`;
    /// meant for a single file).
    pub fn with_record(mut self, record: PathBuf) -> Verifier {
        self.record_override = Some(record);
        self
    }

    /// The algorithms that count as weakening (the config's `renew.weak_algorithms`).
    pub fn with_weak_algorithms(mut self, weak: Vec<String>) -> Verifier {
        self.weak_algorithms = weak;
        self
    }

    /// The evidence record to check with `pdf_path`: the one named with `--ers`, else
    /// `<file>.ers` beside it when present. None when there is none.
    pub fn record_for(&self, pdf_path: &Path) -> Option<RecordInput> {
        let path = match &self.record_override {
            Some(p) => p.clone(),
            None => {
                let p = crate::evidence::record_path(pdf_path);
                // Only a record that exists is checked; a PDF without one is judged on its own.
                if !p.is_file() {
                    return None;
                }
                p
            }
        };
        let bytes = std::fs::metadata(&path).map_err(|e| e.to_string()).and_then(|m| {
            // Refused before reading: the parser would refuse it anyway.
            if m.len() > crate::ers::record::MAX_RECORD_BYTES as u64 {
                Err(format!("larger than {} bytes", crate::ers::record::MAX_RECORD_BYTES))
            } else {
                std::fs::read(&path).map_err(|e| e.to_string())
            }
        });
        Some(RecordInput {
            shown: path.to_string_lossy().into_owned(),
            bytes,
        })
    }

    pub fn at(&self) -> OffsetDateTime {
        self.opts.at
    }

    /// Read and verify one file (`shown` is the path as reported).
    pub fn verify_file(&self, path: &Path, shown: &str) -> FileReport {
        match self.read(path) {
            Ok(b) => self.verify_with_record(shown, &b, self.record_for(path).as_ref()),
            Err(reason) => {
                let mut f = FileReport::new(shown);
                f.add(reason);
                f
            }
        }
    }

    /// The file's bytes, refusing files over the size limit.
    fn read(&self, path: &Path) -> Result<Vec<u8>, Reason> {
        let unreadable = |e: String| Reason::new(Code::Malformed, format!("cannot read the file: {e}"));
        let len = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?.len();
        if len > self.opts.max_file_bytes {
            return Err(unreadable(format!(
                "larger than the limit of {} bytes",
                self.opts.max_file_bytes
            )));
        }
        std::fs::read(path).map_err(|e| unreadable(e.to_string()))
    }

    /// Verify a PDF held in memory.
    pub fn verify_bytes(&self, shown: &str, pdf: &[u8]) -> FileReport {
        self.verify_with_record(shown, pdf, None)
    }

    /// Verify a PDF held in memory together with its RFC 4998 evidence record, if any.
    pub fn verify_with_record(&self, shown: &str, pdf: &[u8], record: Option<&RecordInput>) -> FileReport {
        let mut f = FileReport::new(shown);
        // This file's fetches: one deadline, and the URLs tried go into its report.
        let online = self.online.as_ref().map(Online::for_file);
        let entries = match pdf::read_signatures(pdf) {
            Ok(e) => e,
            Err(e) => {
                f.add(Reason::new(Code::Malformed, e.to_string()));
                // The record is still judged: it tells whether these are the bytes it covers.
                self.check_record(&mut f, pdf, record, &RevocationData::default());
                return f;
            }
        };
        if entries.is_empty() {
            f.add(Reason::new(Code::NotSigned, "the file has no signature"));
            self.check_record(&mut f, pdf, record, &RevocationData::default());
            return f;
        }
        match pdf::revisions(pdf) {
            Ok(ends) => {
                let last = ends.last().copied().unwrap_or(0);
                let tail = pdf.get(last..).unwrap_or(&[]);
                if !tail.iter().all(|b| b.is_ascii_whitespace() || *b == 0) {
                    // The reader fell back to an earlier revision: these bytes are in no revision,
                    // so no signature covers them.
                    f.add(Reason::new(
                        Code::ModifiedAfterSigning,
                        format!(
                            "{} bytes after the last complete revision (offset {last}) are covered by no signature",
                            tail.len()
                        ),
                    ));
                }
            }
            Err(e) => f.add(Reason::new(Code::Malformed, e.to_string())),
        }
        let (sigs, docs) = self.check_entries(pdf, &entries, &mut f);
        for d in &docs {
            if let Some(p) = &d.problem {
                f.add(p.clone());
            }
        }
        if let Some(first) = entries
            .iter()
            .filter(|e| e.revision.is_some())
            .map(SignatureEntry::covered_end)
            .min()
        {
            match pdf::classify_changes(pdf, first) {
                Ok(changes) => {
                    for c in changes {
                        match c.kind {
                            ChangeKind::Allowed(m) => f.allowed_changes.push(m),
                            ChangeKind::Disallowed(m) => f.add(Reason::new(Code::ModifiedAfterSigning, m)),
                        }
                    }
                }
                Err(e) => f.add(Reason::new(Code::Malformed, format!("later revisions: {e}"))),
            }
        }
        let (evidence, has_dss) = match gather_evidence(pdf, &sigs, &docs) {
            Ok(x) => x,
            Err(e) => {
                f.add(Reason::new(Code::Malformed, format!("DSS: {e}")));
                (Evidence::default(), false)
            }
        };
        if sigs.is_empty() {
            f.add(Reason::new(
                Code::NotSigned,
                "the file has document timestamps but no signature",
            ));
        }
        // The record is checked before the signatures: when it holds, the time it proves is
        // where the long-term rule starts.
        let proven_by_record = self.check_record(&mut f, pdf, record, &evidence.revocation);
        let mut levels = Vec::new();
        for (entry, sig) in &sigs {
            let report = self.judge_signature(
                pdf,
                entry,
                sig,
                &docs,
                &evidence,
                has_dss,
                proven_by_record,
                online.as_ref(),
                &mut f,
            );
            levels.push(report.level);
            f.signatures.push(report);
        }
        f.fetches = online.map(|o| o.attempts()).unwrap_or_default();
        f.level = if levels.iter().all(Option::is_some) {
            levels.into_iter().flatten().min()
        } else {
            None
        };
        f
    }

    /// Check `record` (if any) with the file's bytes, put its report and reason into `f`, and
    /// return the time it proves when it holds. `revocation`: the file's own revocation data.
    fn check_record(
        &self,
        f: &mut FileReport,
        pdf: &[u8],
        record: Option<&RecordInput>,
        revocation: &RevocationData,
    ) -> Option<OffsetDateTime> {
        let input = record?;
        let ctx = record::RecordContext {
            trust: &self.trust,
            revocation,
            at: self.opts.at,
            weak: &self.weak_algorithms,
        };
        let out = record::check_record(&ctx, pdf, input);
        f.evidence_record = Some(out.report);
        if let Some(r) = out.reason {
            f.add(r);
        }
        out.proven
    }

    /// Parse every entry, hash the covered bytes in one pass, run the cryptographic checks.
    fn check_entries<'e>(
        &self,
        pdf: &[u8],
        entries: &'e [SignatureEntry],
        f: &mut FileReport,
    ) -> (Vec<(&'e SignatureEntry, CheckedSignature)>, Vec<CheckedTimestamp>) {
        enum Parsed {
            Cms(Box<crate::cms::ParsedSignedData>),
            Token,
        }
        let mut parsed = Vec::new();
        let mut spans = Vec::new();
        for e in entries {
            if e.revision.is_none() {
                f.add(Reason::new(
                    Code::Malformed,
                    format!(
                        "{}: /ByteRange does not cover a whole revision of the file",
                        e.field_name
                    ),
                ));
                continue;
            }
            match e.kind {
                SigKind::Cades => {
                    if !supported_sub_filter(e.sub_filter.as_deref()) {
                        let sf = e.sub_filter.as_deref().unwrap_or("?");
                        f.add(Reason::new(
                            Code::Unsupported,
                            format!("{}: sub-filter {sf} is not evaluated", e.field_name),
                        ));
                        continue;
                    }
                    let cms = match parse_signed_data(e.der()) {
                        Ok(c) => c,
                        Err(err) => {
                            f.add(Reason::new(
                                Code::Malformed,
                                format!("{}: signature container: {err}", e.field_name),
                            ));
                            continue;
                        }
                    };
                    match cms.digest_algorithm() {
                        Ok(alg) => spans.push(Span {
                            alg,
                            byte_range: e.byte_range,
                        }),
                        Err(err) => {
                            f.add(signature::cms_reason(&err, &e.field_name));
                            continue;
                        }
                    }
                    parsed.push((e, Parsed::Cms(Box::new(cms))));
                }
                SigKind::DocTimestamp => match TimestampToken::parse(e.der()) {
                    Ok(t) => {
                        spans.push(Span {
                            alg: t.info.imprint_alg,
                            byte_range: e.byte_range,
                        });
                        parsed.push((e, Parsed::Token));
                    }
                    Err(err) => f.add(Reason::new(
                        Code::Malformed,
                        format!("document timestamp {}: {err}", e.field_name),
                    )),
                },
            }
        }
        let digests = covered_digests(pdf, &spans);
        let mut sigs = Vec::new();
        let mut docs = Vec::new();
        for ((e, p), d) in parsed.into_iter().zip(digests) {
            match p {
                Parsed::Cms(cms) => sigs.push((e, check_signature(e, &cms, d.as_deref()))),
                Parsed::Token => {
                    match check_token(
                        TimestampKind::Document,
                        Some(&e.field_name),
                        e.der(),
                        e.covered_end(),
                        |_| d,
                    ) {
                        Ok(t) => docs.push(t),
                        Err(r) => f.add(r),
                    }
                }
            }
        }
        docs.sort_by_key(|d| d.covered_end);
        (sigs, docs)
    }

    #[allow(clippy::too_many_arguments)]
    fn judge_signature(
        &self,
        pdf: &[u8],
        entry: &SignatureEntry,
        sig: &CheckedSignature,
        docs: &[CheckedTimestamp],
        evidence: &Evidence,
        has_dss: bool,
        proven_by_record: Option<OffsetDateTime>,
        online: Option<&Online>,
        f: &mut FileReport,
    ) -> SignatureReport {
        for p in &sig.problems {
            f.add(p.clone());
        }
        for t in &sig.timestamps {
            if let Some(p) = &t.problem {
                f.add(p.clone());
            }
        }
        let mut proofs: Vec<&CheckedTimestamp> = sig.timestamps.iter().filter(|t| t.is_ok()).collect();
        proofs.sort_by_key(|t| t.time);
        proofs.extend(docs.iter().filter(|d| d.is_ok() && d.covered_end > sig.covered_end));
        let lt = match (&sig.signer, sig.intact) {
            (Some(signer), true) => {
                let inp = Inputs {
                    trust: &self.trust,
                    cache: &self.cache,
                    online,
                    evidence,
                    at: self.opts.at,
                    proven_by_record,
                };
                let lt = evaluate(&inp, signer, &proofs);
                for r in &lt.reasons {
                    f.add(r.clone());
                }
                Some(lt)
            }
            _ => None,
        };
        let level = lt.as_ref().and_then(|lt| {
            level::level_of(sig, lt, docs, has_dss, |end| {
                pdf.get(..end)
                    .and_then(|p| pdf::read_dss(p).ok())
                    .is_some_and(|v| !(v.crls.is_empty() && v.ocsps.is_empty()))
            })
        });
        let sig_ts = sig.timestamps.iter().filter(|t| t.is_ok()).map(|t| t.time).min();
        let mut timestamps: Vec<TimestampReport> = sig.timestamps.iter().map(ts_report).collect();
        timestamps.extend(docs.iter().filter(|d| d.covered_end > sig.covered_end).map(ts_report));
        let mut notes = sig.notes.clone();
        if let Some(lt) = &lt {
            notes.extend(lt.notes.iter().cloned());
        }
        SignatureReport {
            field: entry.field_name.clone(),
            signer: sig.signer.as_ref().map(common_name).or_else(|| entry.name.clone()),
            signer_subject: sig.signer.as_ref().map(|c| subject_line(c)),
            role: sig.signer.as_ref().and_then(|c| hc_role(c)),
            signed_at: sig_ts.or(entry.signing_time).map(rfc3339),
            claimed_time: entry.signing_time.map(rfc3339),
            level,
            timestamps,
            judged_at: lt.as_ref().and_then(|l| l.judged_at).map(rfc3339),
            notes,
        }
    }
}

fn ts_report(t: &CheckedTimestamp) -> TimestampReport {
    TimestampReport {
        kind: t.kind,
        time: rfc3339(t.time),
        tsa: t.tsa.clone(),
        field: t.field.clone(),
        valid: t.is_ok(),
    }
}

/// The certificate's commonName, else its whole subject.
fn common_name(cert: &X509) -> String {
    cert.subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
        .unwrap_or_else(|| subject_line(cert))
}

/// Certificates and revocation data from the DSS, the CMS signatures and the tokens.
fn gather_evidence(
    pdf: &[u8],
    sigs: &[(&SignatureEntry, CheckedSignature)],
    docs: &[CheckedTimestamp],
) -> Result<(Evidence, bool), pdf::PdfError> {
    let dss = pdf::read_dss(pdf)?;
    let has_dss = !(dss.certs.is_empty() && dss.crls.is_empty() && dss.ocsps.is_empty());
    let mut ev = Evidence::default();
    ev.certs.extend(
        dss.certs
            .iter()
            .filter_map(|d| crate::pki::certcache::x509_from_der(d).ok()),
    );
    ev.revocation.crls = dss.crls;
    ev.revocation.ocsps = dss.ocsps;
    let tokens = sigs.iter().flat_map(|(_, s)| s.timestamps.iter()).chain(docs.iter());
    for t in tokens {
        ev.certs.extend(t.certs.iter().cloned());
        ev.revocation.crls.extend(t.crls.iter().cloned());
    }
    for (_, s) in sigs {
        ev.certs.extend(s.certs.iter().cloned());
        ev.revocation.crls.extend(s.crls.iter().cloned());
    }
    // The same CA certificates and CRLs usually come from several places; keep each once.
    let mut seen = std::collections::HashSet::new();
    ev.certs.retain(|c| c.to_der().is_ok_and(|d| seen.insert(d)));
    let mut seen = std::collections::HashSet::new();
    ev.revocation.crls.retain(|c| seen.insert(c.clone()));
    Ok((ev, has_dss))
}

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
