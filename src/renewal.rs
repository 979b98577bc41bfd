//! Renewal policy, shared by every flow that writes or reads evidence (ingest, renew, correct,
//! reindex, verify, status): what a timestamp's TSA certificate and algorithms say about when
//! the evidence must be renewed (`token_facts`, `renewal_due`, `next_renewal_due`), which
//! algorithms are weakening (`is_weak`), which catalog rows are due now (`due_rows`), the
//! newest timestamp of a file (`newest_token`), and the per-archive outcome of a renewal or
//! seal (`RenewItem`). No flow imports another flow for these: they live here.

use serde::Serialize;

use crate::archive::catalog::{CatalogError, Row};
use crate::archive::store::Archive;
use crate::clock::rfc3339;
use crate::config::Config;
use crate::pdf;
use crate::tsp::TimestampToken;

/// What happened to one archive in a renewal (or an ingest seal).
#[derive(Debug, Clone, Serialize)]
pub struct RenewItem {
    pub id: String,
    pub path: String,
    pub outcome: &'static str, // renewed | would-renew | failed (sealed: ingest --seal ers)
    pub why: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl RenewItem {
    /// `row`'s item with its outcome so far; code, message and timestamp come later, if at all.
    pub fn new(row: &Row, outcome: &'static str, why: String) -> RenewItem {
        RenewItem {
            id: row.id.clone(),
            path: row.archive_path.clone(),
            outcome,
            why,
            code: None,
            message: None,
            timestamp: None,
        }
    }
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
    let sig_hash = t
        .signed
        .digest_algorithm()
        .map(|d| d.name().to_string())
        .unwrap_or_else(|_| "unknown".into());
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

/// True when an algorithm note ("sha256,sha256,rsa2048") names something the config lists as
/// weakening ("sha1", "md5", "rsa<2048", ...).
pub fn is_weak(note: &str, weak: &[String]) -> bool {
    note.split(',').any(|part| {
        weak.iter().any(|w| match w.strip_prefix("rsa<") {
            Some(n) => match (
                part.strip_prefix("rsa").and_then(|b| b.parse::<u32>().ok()),
                n.parse::<u32>(),
            ) {
                (Some(bits), Ok(min)) => bits < min,
                _ => false,
            },
            None => part.eq_ignore_ascii_case(w),
        })
    })
}

/// The rows due: TSA certificate expiring within `within_days` (via the indexed due date),
/// or a weakening algorithm in the newest timestamp.
pub fn due_rows(
    archive: &Archive,
    cfg: &Config,
    now: time::OffsetDateTime,
    within_days: u32,
) -> Result<Vec<(Row, String)>, CatalogError> {
    // next_renewal_due = expiry - cfg.within_days, so "expiry <= now + W" is
    // "next_renewal_due <= now + W - cfg.within_days".
    let shift = i64::from(within_days) - i64::from(cfg.renew.within_days);
    let until = rfc3339(now + time::Duration::days(shift));
    let mut rows: Vec<(Row, String)> = archive
        .catalog
        .due(&until)?
        .into_iter()
        .map(|r| {
            let tsa_due = r
                .tsa_cert_expiry
                .as_deref()
                .and_then(crate::clock::parse_datetime)
                .map(|e| rfc3339(renewal_due(e, cfg.renew.within_days)));
            let why = if tsa_due.is_some() && tsa_due != r.next_renewal_due {
                // See next_renewal_due: the due date came from the signer's certificate.
                "signer certificate expires soon; first document timestamp while it is valid".to_string()
            } else {
                format!(
                    "TSA certificate expires {}",
                    r.tsa_cert_expiry.as_deref().unwrap_or("?")
                )
            };
            (r, why)
        })
        .collect();
    for note in archive
        .catalog
        .algorithm_notes()?
        .into_iter()
        .filter(|n| is_weak(n, &cfg.renew.weak_algorithms))
    {
        for r in archive.catalog.with_algorithm_note(&note)? {
            if !rows.iter().any(|(x, _)| x.id == r.id) {
                rows.push((r, format!("weakening algorithm in the newest timestamp ({note})")));
            }
        }
    }
    Ok(rows)
}

/// The newest timestamp token in a PDF: the last document timestamp, else the last
/// signature's signature-timestamp.
pub fn newest_token(pdf_bytes: &[u8]) -> Result<Option<TimestampToken>, String> {
    let sigs = pdf::read_signatures(pdf_bytes).map_err(|e| e.to_string())?;
    let mut newest: Option<TimestampToken> = None;
    for s in &sigs {
        let der = s.der();
        let token = match s.kind {
            pdf::SigKind::DocTimestamp => Some(TimestampToken::parse(der).map_err(|e| e.to_string())?),
            pdf::SigKind::Cades => {
                let sd = crate::cms::parse_signed_data(der).map_err(|e| e.to_string())?;
                match sd.timestamp_tokens().last() {
                    Some(t) => Some(TimestampToken::parse(t).map_err(|e| e.to_string())?),
                    None => None,
                }
            }
        };
        if let Some(t) = token {
            if newest.as_ref().is_none_or(|n| t.info.gen_time >= n.info.gen_time) {
                newest = Some(t);
            }
        }
    }
    Ok(newest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_algorithm_notes() {
        let weak = vec!["sha1".to_string(), "rsa<2048".to_string()];
        assert!(!is_weak("sha256,sha256,rsa2048", &weak));
        assert!(is_weak("sha1,sha256,rsa2048", &weak));
        assert!(is_weak("sha256,sha256,rsa1024", &weak));
        assert!(!is_weak("sha256,sha384,ec256", &weak));
        assert!(is_weak("sha256,sha256,rsa2048", &["rsa<3072".to_string()]));
    }
}
