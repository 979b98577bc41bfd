//! The report's documents as CSV for spreadsheet tools.

use std::fmt::Write as _;

use super::Report;

/// CSV: one row per archived document in the period (UTF-8 with BOM so spreadsheet tools
/// read the Japanese correctly).
pub fn to_csv(r: &Report) -> String {
    let mut s = String::from("\u{feff}id,archive_path,profile,patient_id,document_type,document_date,signer,operator,timestamp,flags,retention_until,next_renewal_due\n");
    let q = |v: &Option<String>| csv_field(v.as_deref().unwrap_or(""));
    for d in &r.documents {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&d.id),
            csv_field(&d.archive_path),
            csv_field(&d.profile),
            q(&d.patient_id),
            q(&d.document_type),
            q(&d.document_date),
            q(&d.signer),
            q(&d.operator),
            q(&d.timestamp_time),
            csv_field(&d.flags),
            q(&d.retention_until),
            q(&d.next_renewal_due)
        );
    }
    s
}

fn csv_field(v: &str) -> String {
    // Quote always; neutralise spreadsheet formulas.
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    format!("\"{}\"", v.replace('"', "\"\""))
}

