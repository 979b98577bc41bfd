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
    format!("\"{}\"", spreadsheet_safe(v).replace('"', "\"\""))
}

/// A cell value no spreadsheet will run as a formula (OWASP "CSV injection"): control
/// characters are removed, and a `'` goes in front when the value starts with a tab, CR or LF,
/// or when its first non-blank character, after NFKC normalisation, is `=`, `+`, `-` or `@`.
/// NFKC because spreadsheets fold full-width `＝`/`＋` and ideographic spaces into the ASCII
/// ones before they parse; blanks because they skip leading spaces.
fn spreadsheet_safe(v: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let starts_with_break = v.starts_with(['\t', '\r', '\n']);
    let kept: String = v.chars().filter(|c| !c.is_control()).collect();
    // Zero-width and byte-order marks print as nothing, so they count as blank here.
    let blank = |c: &char| c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}');
    let first = kept.nfkc().find(|c| !blank(c));
    if starts_with_break || matches!(first, Some('=' | '+' | '-' | '@')) {
        format!("'{kept}")
    } else {
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_cannot_become_formulas() {
        for (value, cell) in [
            ("=1+1", "'=1+1"),
            ("+81-3", "'+81-3"),
            ("-5", "'-5"),
            ("@SUM(A1)", "'@SUM(A1)"),
            // leading blanks, full-width and ideographic forms fold to the ASCII ones (NFKC)
            ("  =cmd", "'  =cmd"),
            ("＝HYPERLINK(\"x\")", "'＝HYPERLINK(\"x\")"),
            ("\u{3000}＋1", "'\u{3000}＋1"),
            ("\u{200B}=1", "'\u{200B}=1"),
            // a leading tab, CR or LF: prefixed, and the control character itself removed
            ("\t=1", "'=1"),
            ("\r\n@x", "'@x"),
            ("\nabc", "'abc"),
            // control bytes anywhere are removed
            ("山田\u{0}太郎\u{1b}[31m\u{7f}", "山田太郎[31m"),
            ("a\u{85}b", "ab"),
            // ordinary values stay as they are
            ("2026-11-27", "2026-11-27"),
            ("山田 太郎", "山田 太郎"),
            ("1 = 1", "1 = 1"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(value), cell, "{value:?}");
        }
        assert_eq!(csv_field("=\"a\""), "\"'=\"\"a\"\"\"");
    }
}
