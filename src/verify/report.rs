//! What `hozon verify` reports: per file the verdict, reasons, PAdES level and signatures with
//! their timestamps; a summary; the JSON shape (serde). The CLI renders it for people.

use serde::Serialize;

use super::level::Level;
use super::reason::{verdict_of, Reason, Verdict};
use super::record::EvidenceRecordReport;
use super::timestamp::TimestampKind;

#[derive(Debug, Clone, Serialize)]
pub struct TimestampReport {
    pub kind: TimestampKind,
    /// RFC 3339 time the TSA asserted.
    pub time: String,
    pub tsa: String,
    /// Field name of a document timestamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The token's own checks passed.
    pub valid: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    pub field: String,
    /// The signer's common name (else the subject), or the PDF's /Name when no certificate.
    pub signer: Option<String>,
    pub signer_subject: Option<String>,
    /// HPKI healthcare role (hcRole), when the certificate has one.
    pub role: Option<String>,
    /// Time proven by the signature timestamp, else the claimed /M time.
    pub signed_at: Option<String>,
    /// The claimed signing time (/M), unproven.
    pub claimed_time: Option<String>,
    pub level: Option<Level>,
    /// The signature timestamp, then document timestamps covering the signature.
    pub timestamps: Vec<TimestampReport>,
    /// Time at which the signer's path was judged.
    pub judged_at: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    /// Lowest level among the file's signatures.
    pub level: Option<Level>,
    pub signatures: Vec<SignatureReport>,
    /// Later revisions that were allowed (DSS, document timestamps, ...), for the record.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_changes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The RFC 4998 evidence record checked with the file, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_record: Option<EvidenceRecordReport>,
    /// With `--online`: each revocation URL tried for this file (url, outcome, ms).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fetches: Vec<crate::ltv::FetchAttempt>,
}

impl FileReport {
    pub fn new(path: &str) -> FileReport {
        FileReport {
            path: path.to_string(),
            verdict: Verdict::Valid,
            reasons: Vec::new(),
            level: None,
            signatures: Vec::new(),
            allowed_changes: Vec::new(),
            sha256: None,
            evidence_record: None,
            fetches: Vec::new(),
        }
    }

    /// Add a reason (once) and recompute the verdict.
    pub fn add(&mut self, r: Reason) {
        if !self.reasons.contains(&r) {
            self.reasons.push(r);
        }
        self.verdict = verdict_of(&self.reasons);
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub valid: usize,
    pub invalid: usize,
    pub indeterminate: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The validation time (RFC 3339).
    pub at: String,
    pub files: Vec<FileReport>,
    pub summary: Summary,
}

impl VerifyReport {
    pub fn new(at: String, files: Vec<FileReport>) -> VerifyReport {
        let mut summary = Summary::default();
        for f in &files {
            match f.verdict {
                Verdict::Valid => summary.valid += 1,
                Verdict::Invalid => summary.invalid += 1,
                Verdict::Indeterminate => summary.indeterminate += 1,
            }
        }
        VerifyReport { at, files, summary }
    }

    pub fn all_valid(&self) -> bool {
        self.summary.invalid == 0 && self.summary.indeterminate == 0
    }

}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Code;

    fn file(path: &str, reasons: &[Code]) -> FileReport {
        let mut f = FileReport::new(path);
        for c in reasons {
            f.add(Reason::new(*c, "m"));
        }
        f
    }

    #[test]
    fn summary_counts_and_json_shape() {
        let mut ok = file("a/カルテ.pdf", &[]);
        ok.level = Some(Level::BLTA);
        ok.signatures.push(SignatureReport {
            field: "Sig1".into(),
            signer: Some("医師 山田".into()),
            signer_subject: None,
            role: Some("Medical Doctor".into()),
            signed_at: Some("2030-01-01T00:00:00Z".into()),
            claimed_time: None,
            level: Some(Level::BLTA),
            timestamps: vec![TimestampReport {
                kind: TimestampKind::Signature,
                time: "2030-01-01T00:00:00Z".into(),
                tsa: "TSA".into(),
                field: None,
                valid: true,
            }],
            judged_at: None,
            notes: vec![],
        });
        let r = VerifyReport::new(
            "2031-01-01T00:00:00Z".into(),
            vec![
                ok,
                file("b.pdf", &[Code::RevocationUnknown]),
                file("c.pdf", &[Code::RevocationUnknown, Code::Revoked]),
            ],
        );
        assert_eq!(
            r.summary,
            Summary {
                valid: 1,
                invalid: 1,
                indeterminate: 1
            }
        );
        assert!(!r.all_valid());
        let j = serde_json::to_value(&r).unwrap();
        let f0 = &j["files"][0];
        assert_eq!(f0["path"], "a/カルテ.pdf");
        assert_eq!(f0["verdict"], "valid");
        assert_eq!(f0["level"], "B-LTA");
        assert_eq!(f0["signatures"][0]["signer"], "医師 山田");
        assert_eq!(f0["signatures"][0]["role"], "Medical Doctor");
        assert_eq!(f0["signatures"][0]["timestamps"][0]["tsa"], "TSA");
        assert_eq!(j["files"][2]["verdict"], "invalid");
        assert_eq!(j["files"][2]["reasons"][1]["code"], "revoked");
        assert_eq!(j["summary"]["indeterminate"], 1);
    }
}
