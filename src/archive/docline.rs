//! A catalog row as reports, status and searches show it: the document's identity, patient and
//! dates, who signed and scanned, its flags, retention and renewal dates, corrections.

use serde::Serialize;

use super::catalog::Row;

#[derive(Debug, Clone, Serialize)]
pub struct DocLine {
    pub id: String,
    pub archive_path: String,
    pub profile: String,
    pub patient_id: Option<String>,
    pub document_type: Option<String>,
    pub document_date: Option<String>,
    pub signer: Option<String>,
    pub operator: Option<String>,
    pub timestamp_time: Option<String>,
    pub flags: String,
    pub retention_until: Option<String>,
    pub next_renewal_due: Option<String>,
    /// Corrections (`hozon correct`) and who signed the latest.
    pub corrections: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected_by: Option<String>,
}

impl From<&Row> for DocLine {
    fn from(r: &Row) -> Self {
        DocLine {
            id: r.id.clone(),
            archive_path: r.archive_path.clone(),
            profile: r.profile.clone(),
            patient_id: r.patient_id.clone(),
            document_type: r.document_type.clone(),
            document_date: r.document_date.clone(),
            signer: r.signer.clone(),
            operator: r.operator.clone(),
            timestamp_time: r.timestamp_time.clone(),
            flags: r.flags.clone(),
            retention_until: r.retention_until.clone(),
            next_renewal_due: r.next_renewal_due.clone(),
            corrections: r.corrections,
            corrected_by: r.corrected_by.clone(),
        }
    }
}

