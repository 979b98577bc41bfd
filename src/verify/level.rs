//! The PAdES baseline level a signature reaches (ETSI EN 319 142-1): B-B a CAdES signature
//! that verifies; B-T plus a valid signature timestamp (or a document timestamp covering it);
//! B-LT plus a DSS whose validation data, with what the CMS and tokens carry, cover the signer's
//! and the timestamp's TSA paths without fetching; B-LTA plus a valid document timestamp over a
//! revision that already holds the DSS.


use super::longterm::LongTerm;
use super::signature::CheckedSignature;
use super::timestamp::CheckedTimestamp;

/// PAdES baseline levels are the config's: one type for what ingest produces and verify reports.
pub use crate::config::Level;


/// The level `sig` reaches. `doc_ts` are the file's document timestamps; `dss_before(end)`
/// says whether the revision ending at `end` already holds a DSS with validation data.
pub fn level_of(
    sig: &CheckedSignature,
    lt: &LongTerm,
    doc_ts: &[CheckedTimestamp],
    has_dss: bool,
    dss_before: impl Fn(usize) -> bool,
) -> Option<Level> {
    if !sig.intact {
        return None;
    }
    let covering: Vec<&CheckedTimestamp> = doc_ts
        .iter()
        .filter(|d| d.is_ok() && d.covered_end > sig.covered_end)
        .collect();
    let timestamped = sig.timestamps.iter().any(CheckedTimestamp::is_ok) || !covering.is_empty();
    if !timestamped {
        return Some(Level::BB);
    }
    if !(has_dss && lt.offline_sufficient) {
        return Some(Level::BT);
    }
    if covering.iter().any(|d| dss_before(d.covered_end)) {
        Some(Level::BLTA)
    } else {
        Some(Level::BLT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::timestamp::TimestampKind;
    use time::macros::datetime;

    fn ts(kind: TimestampKind, end: usize, ok: bool) -> CheckedTimestamp {
        CheckedTimestamp {
            kind,
            field: None,
            time: datetime!(2030-01-01 0:00 UTC),
            tsa: "TSA".into(),
            tsa_cert: None,
            certs: vec![],
            crls: vec![],
            covered_end: end,
            problem: (!ok).then(|| crate::verify::Reason::new(crate::verify::Code::TimestampInvalid, "x")),
        }
    }

    fn sig(intact: bool, with_ts: Option<bool>) -> CheckedSignature {
        CheckedSignature {
            signer: None,
            certs: vec![],
            crls: vec![],
            covered_end: 100,
            intact,
            has_ess: true,
            problems: vec![],
            notes: vec![],
            timestamps: with_ts
                .map(|ok| ts(TimestampKind::Signature, 100, ok))
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn levels_climb_with_timestamp_dss_and_archive_timestamp() {
        let lt = LongTerm {
            offline_sufficient: true,
            ..LongTerm::default()
        };
        let no = |_: usize| false;
        assert_eq!(level_of(&sig(false, Some(true)), &lt, &[], true, no), None);
        assert_eq!(level_of(&sig(true, None), &lt, &[], true, no), Some(Level::BB));
        assert_eq!(level_of(&sig(true, Some(false)), &lt, &[], true, no), Some(Level::BB));
        assert_eq!(level_of(&sig(true, Some(true)), &lt, &[], false, no), Some(Level::BT));
        let fetched = LongTerm {
            offline_sufficient: false,
            ..LongTerm::default()
        };
        assert_eq!(
            level_of(&sig(true, Some(true)), &fetched, &[], true, no),
            Some(Level::BT)
        );
        assert_eq!(level_of(&sig(true, Some(true)), &lt, &[], true, no), Some(Level::BLT));
        let doc = [ts(TimestampKind::Document, 300, true)];
        assert_eq!(
            level_of(&sig(true, Some(true)), &lt, &doc, true, |e| e == 300),
            Some(Level::BLTA)
        );
        // A document timestamp before the DSS (or an invalid one) does not make it LTA.
        assert_eq!(level_of(&sig(true, Some(true)), &lt, &doc, true, no), Some(Level::BLT));
        let bad = [ts(TimestampKind::Document, 300, false)];
        assert_eq!(
            level_of(&sig(true, Some(true)), &lt, &bad, true, |_| true),
            Some(Level::BLT)
        );
        // A document timestamp alone makes a signature B-T.
        assert_eq!(level_of(&sig(true, None), &lt, &doc, false, no), Some(Level::BT));
    }
}
