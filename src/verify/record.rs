//! RFC 4998 evidence records in `hozon verify` (§5.3): a record beside the PDF
//! (`<id>.ers`, see [`crate::evidence::record_path`]) or named with `--ers` is checked with the
//! PDF's exact bytes by [`crate::ers::verify`], its tokens judged by
//! [`crate::evidence::TrustTokenCheck`] against the verifier's trust store and the file's own
//! revocation data, the newest at the validation time (`--at`).
//!
//! A record that holds proves that the whole file existed at its first timestamp. The long-term
//! rule then starts from that proven time instead of `--at`, so the PDF's own timestamps only
//! need to have been valid when the record was made: this is how an ERS keeps a file valid after
//! its signature timestamp's TSA certificate expired. A record that does not hold makes the file
//! invalid (it claims evidence the file does not have).

use serde::Serialize;
use time::OffsetDateTime;

use super::reason::{Code, Reason};
use crate::clock::rfc3339;
use crate::ers::{self, ErsError, EvidenceRecord};
use crate::evidence::TrustTokenCheck;
use crate::pki::{RevocationData, TrustStore};
use crate::tsp::TimestampToken;

/// An evidence record to check with a file: where it came from (as reported) and its bytes, or
/// why they could not be read.
#[derive(Debug, Clone)]
pub struct RecordInput {
    pub shown: String,
    pub bytes: Result<Vec<u8>, String>,
}

/// One chain of the record, as the report shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChainSummary {
    pub algorithm: &'static str,
    /// genTime of each archive timestamp, oldest first (RFC 3339).
    pub timestamps: Vec<String>,
}

/// What the report says about a file's evidence record.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRecordReport {
    pub path: String,
    /// `valid`, `invalid`, `indeterminate`, or `not-yet-made` (every timestamp of the record is
    /// later than the validation time, so it proves nothing at that time).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The file existed in this exact form at this time (the record's first timestamp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existed_at: Option<String>,
    /// Up to when the evidence holds without renewal: the newest timestamp's TSA certificate
    /// expiry, or the validation time when the newest timestamp uses a weakening algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    pub chains: Vec<ChainSummary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The outcome for one file: the report, the proven time the long-term rule may start from,
/// and the reason the file is not valid, if any.
pub struct RecordOutcome {
    pub report: EvidenceRecordReport,
    pub proven: Option<OffsetDateTime>,
    pub reason: Option<Reason>,
}

/// Everything the record check needs from the verifier.
pub struct RecordContext<'a> {
    pub trust: &'a TrustStore,
    pub revocation: &'a RevocationData,
    pub at: OffsetDateTime,
    /// `renew.weak_algorithms` of the config (or its default).
    pub weak: &'a [String],
}

fn failed(mut report: EvidenceRecordReport, e: &ErsError) -> RecordOutcome {
    let code = Code::from(e);
    report.status = code.verdict().as_str();
    report.code = Some(code.as_str());
    report.message = Some(e.to_string());
    let reason = Reason::new(code, format!("evidence record {}: {e}", report.path));
    RecordOutcome {
        report,
        proven: None,
        reason: Some(reason),
    }
}

/// The record restricted to the timestamps made by `at` (a record is read as of the validation
/// time: later timestamps did not exist yet). Chains keep their order; a chain is cut where its
/// first timestamp after `at` is, and no later chain is kept.
fn as_of(record: &EvidenceRecord, at: OffsetDateTime) -> Result<EvidenceRecord, ErsError> {
    let mut chains = Vec::new();
    'outer: for chain in &record.chains {
        let mut kept = Vec::new();
        for ats in chain {
            if ats.token()?.gen_time > at {
                if !kept.is_empty() {
                    chains.push(kept);
                }
                break 'outer;
            }
            kept.push(ats.clone());
        }
        chains.push(kept);
    }
    chains.retain(|c| !c.is_empty());
    Ok(EvidenceRecord {
        chains,
        ..record.clone()
    })
}

/// Check `input` as the evidence record of `pdf` (its exact bytes).
pub fn check_record(ctx: &RecordContext<'_>, pdf: &[u8], input: &RecordInput) -> RecordOutcome {
    let report = EvidenceRecordReport {
        path: input.shown.clone(),
        status: "invalid",
        code: None,
        message: None,
        existed_at: None,
        valid_until: None,
        chains: Vec::new(),
        notes: Vec::new(),
    };
    let bytes = match &input.bytes {
        Ok(b) => b,
        Err(m) => return failed(report, &ErsError::Malformed(format!("cannot read: {m}"))),
    };
    let record = match EvidenceRecord::from_der(bytes) {
        Ok(r) => r,
        Err(e) => return failed(report, &e),
    };
    let current = match as_of(&record, ctx.at) {
        Ok(r) => r,
        Err(e) => return failed(report, &e),
    };
    let mut report = report;
    let dropped = record.timestamps().count() - current.timestamps().count();
    if dropped > 0 {
        report.notes.push(format!(
            "{dropped} timestamp(s) of the record are later than the validation time and not used"
        ));
    }
    if current.chains.is_empty() {
        report.status = "not-yet-made";
        return RecordOutcome {
            report,
            proven: None,
            reason: None,
        };
    }
    let check = TrustTokenCheck {
        trust: ctx.trust,
        revocation: ctx.revocation.clone(),
    };
    let rep = match ers::verify(&current, pdf, &check, ctx.at) {
        Ok(r) => r,
        Err(e) => return failed(report, &e),
    };
    report.status = "valid";
    report.existed_at = Some(rfc3339(rep.existed_at));
    report.chains = rep
        .chains
        .iter()
        .map(|c| ChainSummary {
            algorithm: c.algorithm.name(),
            timestamps: c.gen_times.iter().map(|t| rfc3339(*t)).collect(),
        })
        .collect();
    let mut until = rep.valid_until;
    if let Some(weak) = weakening(&current, ctx.weak) {
        report.notes.push(format!(
            "the newest timestamp uses {weak}, listed as weakening: the evidence holds no longer than now; \
             renew it (hash-tree renewal, hozon renew --evidence ers)"
        ));
        until = Some(until.map_or(ctx.at, |u| u.min(ctx.at)));
    }
    report.valid_until = until.map(rfc3339);
    RecordOutcome {
        report,
        proven: Some(rep.existed_at),
        reason: None,
    }
}

/// The weakening algorithm (per `renew.weak_algorithms`) of the record's newest timestamp: its
/// hash tree's, its imprint's, its signature's or its TSA key's.
fn weakening(record: &EvidenceRecord, weak: &[String]) -> Option<String> {
    let newest = record.timestamps().last()?;
    let tree = newest.algorithm().ok()?.name();
    let token = TimestampToken::parse(&newest.time_stamp).ok()?;
    let (_, facts) = crate::renewal::token_facts(&token);
    let note = format!("{tree},{facts}");
    crate::renewal::is_weak(&note, weak).then(|| {
        note.split(',')
            .find(|p| crate::renewal::is_weak(p, weak))
            .unwrap_or(tree)
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ers::test_tsa::FakeStamper;
    use crate::ers::{build_records, renew_timestamps, DigestAlgorithm};

    fn at(s: &str) -> OffsetDateTime {
        crate::clock::parse_datetime(s).unwrap()
    }

    #[test]
    fn a_record_is_read_as_of_the_validation_time() {
        let d = DigestAlgorithm::Sha256.digest(b"doc");
        let recs = build_records(&[d], DigestAlgorithm::Sha256, &FakeStamper::at("20260401000000Z")).unwrap();
        let recs = renew_timestamps(&recs, &FakeStamper::at("20270401000000Z")).unwrap();
        assert_eq!(as_of(&recs[0], at("2028-01-01")).unwrap().timestamps().count(), 2);
        assert_eq!(as_of(&recs[0], at("2026-06-01")).unwrap().timestamps().count(), 1);
        assert!(as_of(&recs[0], at("2026-01-01")).unwrap().chains.is_empty());
    }

    #[test]
    fn unreadable_and_truncated_records_are_malformed_and_invalid() {
        let trust = TrustStore::new();
        let rev = RevocationData::default();
        let ctx = RecordContext {
            trust: &trust,
            revocation: &rev,
            at: at("2030-01-01"),
            weak: &[],
        };
        let d = DigestAlgorithm::Sha256.digest(b"doc");
        let der = build_records(&[d], DigestAlgorithm::Sha256, &FakeStamper::at("20260401000000Z")).unwrap()[0]
            .to_der()
            .unwrap();
        for bytes in [Err("gone".to_string()), Ok(der[..der.len() / 2].to_vec())] {
            let out = check_record(
                &ctx,
                b"doc",
                &RecordInput {
                    shown: "x.ers".into(),
                    bytes,
                },
            );
            assert_eq!(out.report.status, "invalid");
            assert_eq!(out.reason.unwrap().code, Code::ErsMalformed);
            assert!(out.proven.is_none());
        }
        // a fake token has no TSA certificate: the trust check refuses it
        let out = check_record(
            &ctx,
            b"doc",
            &RecordInput {
                shown: "x.ers".into(),
                bytes: Ok(der.clone()),
            },
        );
        assert_eq!(out.report.code, Some("ers-timestamp-invalid"), "{:?}", out.report);
        let out = check_record(
            &ctx,
            b"other",
            &RecordInput {
                shown: "x.ers".into(),
                bytes: Ok(der),
            },
        );
        assert_eq!(out.report.code, Some("ers-digest-mismatch"), "{:?}", out.report);
    }
}
