//! `hozon status`: what needs attention in an archive now — due for renewal, late scans,
//! unsigned (and overdue), past retention, unfinished rows — read from the catalog.

use std::path::{Path, PathBuf};

use serde::Serialize;
use time::OffsetDateTime;

use crate::archive::catalog::{Row, STATUS_ARCHIVED};
use crate::archive::docline::DocLine;
use crate::archive::inspect::{open_catalog, InspectError};
use crate::archive::layout::JST;
use crate::clock::rfc3339;
use crate::config::{Config, Requirement};
use crate::workflow;

/// `hozon status`: due for renewal, late, unsigned, past retention.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub documents: u64,
    pub due_for_renewal: Vec<DocLine>,
    pub late_scans: Vec<DocLine>,
    pub unsigned: Vec<DocLine>,
    /// The limit `unsigned_overdue` applies, in business days.
    pub unsigned_alert_days: u32,
    /// Stored without a signature or timestamp their profile requires, for longer than
    /// `unsigned_alert_days` business days.
    pub unsigned_overdue: Vec<OverdueLine>,
    pub past_retention: Vec<DocLine>,
    pub unfinished: Vec<DocLine>,
}

/// A document still lacking its signature or timestamp past the limit.
#[derive(Debug, Clone, Serialize)]
pub struct OverdueLine {
    #[serde(flatten)]
    pub document: DocLine,
    /// What is missing: "signature", "timestamp".
    pub missing: Vec<&'static str>,
    /// The day the limit counts from (Japan time): the document date, else the day it was archived.
    pub since: String,
    /// The last business day within the limit.
    pub deadline: String,
}

/// When unsigned documents become overdue: `[workflow] unsigned_alert_days` business days
/// (default 1, as the per-encounter rule), skipping weekends and `[workflow] holidays`; only
/// what the document's profile requires counts (a convenience copy may stay unsigned).
pub struct UnsignedRule<'a> {
    pub days: u32,
    pub holidays: Vec<time::Date>,
    config: Option<&'a Config>,
}

impl<'a> UnsignedRule<'a> {
    /// Default limit of one business day.
    pub const DEFAULT_DAYS: u32 = 1;

    /// From the config; without one, the default limit and every signature and timestamp required.
    pub fn new(config: Option<&'a Config>) -> UnsignedRule<'a> {
        UnsignedRule {
            days: config
                .and_then(|c| c.workflow.unsigned_alert_days)
                .unwrap_or(Self::DEFAULT_DAYS),
            holidays: config.map(|c| workflow::holidays(&c.workflow)).unwrap_or_default(),
            config,
        }
    }

    /// What `row` lacks of what its profile requires (an unknown profile requires both).
    fn missing(&self, row: &Row) -> Vec<&'static str> {
        let profile = self.config.and_then(|c| c.profile(&row.profile));
        let required = |r: Option<Requirement>| r.is_none_or(|r| r == Requirement::Required);
        let mut out = Vec::new();
        if (row.signer.is_none() || row.level == "unsigned") && required(profile.map(|p| p.signature)) {
            out.push("signature");
        }
        if row.timestamp_time.is_none() && required(profile.map(|p| p.timestamp)) {
            out.push("timestamp");
        }
        out
    }

    /// The overdue line for `row` at `now`, if it is overdue.
    pub fn overdue(&self, row: &Row, now: OffsetDateTime) -> Option<OverdueLine> {
        if row.status != STATUS_ARCHIVED {
            return None; // unfinished rows are listed as such
        }
        let missing = self.missing(row);
        if missing.is_empty() {
            return None;
        }
        let since = row
            .document_date
            .as_deref()
            .and_then(workflow::local_date)
            .or_else(|| workflow::local_date(&row.archived_at))?;
        let deadline = workflow::deadline(since, self.days, &self.holidays);
        (now.to_offset(JST).date() > deadline).then(|| OverdueLine {
            document: DocLine::from(row),
            missing,
            since: since.to_string(),
            deadline: deadline.to_string(),
        })
    }
}

/// What `hozon status` was asked.
#[derive(Debug, Clone)]
pub struct StatusOptions {
    pub archive: PathBuf,
    /// Renewal window in days (default: the config's `renew.within_days`).
    pub within_days: Option<u32>,
}

/// `hozon status` on `opts.archive` as of `now`; runs without a config (defaults) too.
pub fn run(cfg: Option<&Config>, opts: &StatusOptions, now: OffsetDateTime) -> Result<Status, InspectError> {
    let within = opts
        .within_days
        .or(cfg.map(|c| c.renew.within_days))
        .unwrap_or_else(|| crate::config::RenewConfig::default().within_days);
    status(&opts.archive, now, within, &UnsignedRule::new(cfg))
}

pub fn status(root: &Path, now: OffsetDateTime, within_days: u32, rule: &UnsignedRule) -> Result<Status, InspectError> {
    let catalog = open_catalog(root)?;
    let now_s = rfc3339(now);
    let horizon = rfc3339(now + time::Duration::days(i64::from(within_days)));
    let all = catalog.all()?;
    Ok(Status {
        documents: all.len() as u64,
        due_for_renewal: catalog.due(&horizon)?.iter().map(DocLine::from).collect(),
        late_scans: all
            .iter()
            .filter(|r| r.flags.split(',').any(|x| x == "late-scan"))
            .map(DocLine::from)
            .collect(),
        unsigned: all.iter().filter(|r| r.signer.is_none()).map(DocLine::from).collect(),
        unsigned_alert_days: rule.days,
        unsigned_overdue: all.iter().filter_map(|r| rule.overdue(r, now)).collect(),
        past_retention: all
            .iter()
            .filter(|r| r.retention_until.as_deref().is_some_and(|u| u < now_s.as_str()))
            .map(DocLine::from)
            .collect(),
        unfinished: catalog.unfinished()?.iter().map(DocLine::from).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::catalog::Row;
    use crate::archive::store::Archive;

    fn row(id: &str, day: &str, flags: &str, retention: &str) -> Row {
        Row {
            id: id.into(),
            archive_path: format!("x/{id}.pdf"),
            profile: "chart".into(),
            level: "B-LT".into(),
            sources: "[]".into(),
            sidecar: "null".into(),
            signer: Some("鈴木 次郎".into()),
            operator: Some("山田 花子".into()),
            pages: 3,
            flags: flags.into(),
            retention_until: Some(retention.into()),
            next_renewal_due: Some("2035-01-01T00:00:00Z".into()),
            archived_at: format!("{day}T03:00:00Z"),
            ..Default::default()
        }
    }

    fn fixture() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let (mut a, _) = Archive::open(d.path(), "2026-11-25T00:00:00Z").unwrap();
        a.store_new(
            row("a", "2026-11-24", "", "2031-11-24T00:00:00Z"),
            b"a",
            "2026-11-24T03:00:00Z",
        )
        .unwrap();
        a.store_new(
            row("b", "2026-11-25", "late-scan", "2031-11-25T00:00:00Z"),
            b"b",
            "2026-11-25T03:00:00Z",
        )
        .unwrap();
        a.store_new(
            row("c", "2026-11-25", "", "2020-01-01T00:00:00Z"),
            b"c",
            "2026-11-25T03:00:00Z",
        )
        .unwrap();
        a.log(
            "2026-11-25T04:00:00Z",
            "rejected",
            None,
            serde_json::json!({"path": "/in/低解像度.jpg", "reasons": [{"code": "low-resolution"}]}),
        )
        .unwrap();
        d
    }

    #[test]
    fn unsigned_documents_become_overdue_after_the_business_day_limit() {
        let cfg = Config::from_toml(
            "[tsa]\nurl='builtin:demo'\n[workflow]\nholidays=['2026-11-30']\n[profiles.chart]\n\
             [profiles.convenience]\nsignature='optional'\ntimestamp='optional'\n[profiles.bb]\ntimestamp='optional'\n",
            Path::new("t.toml"),
            Path::new("."),
        )
        .unwrap();
        let rule = UnsignedRule::new(Some(&cfg));
        assert_eq!(rule.days, 1, "default: one business day");
        let mut unsigned = row("u", "2026-11-27", "", "2031-11-27T00:00:00Z");
        (unsigned.signer, unsigned.level, unsigned.status) = (None, "unsigned".into(), STATUS_ARCHIVED.into());
        unsigned.document_date = Some("2026-11-27".into()); // a Friday
        let at = |t: &str| crate::clock::parse_datetime(t).unwrap();
        // Monday 30th is a holiday: Tuesday 1st is the last day within the limit.
        assert!(
            rule.overdue(&unsigned, at("2026-12-01T14:59:00Z")).is_none(),
            "Tue 23:59 JST"
        );
        let o = rule
            .overdue(&unsigned, at("2026-12-01T15:00:00Z"))
            .expect("Wed 00:00 JST is late");
        assert_eq!(
            (o.missing, o.since.as_str(), o.deadline.as_str()),
            (vec!["signature", "timestamp"], "2026-11-27", "2026-12-01")
        );
        // Without a document date the archive day counts.
        unsigned.document_date = None;
        unsigned.archived_at = "2026-11-30T16:00:00Z".into(); // Tue 1st in Japan
        assert!(rule.overdue(&unsigned, at("2026-12-02T12:00:00Z")).is_none());
        assert!(rule.overdue(&unsigned, at("2026-12-02T15:00:00Z")).is_some());
        // A convenience copy may stay unsigned; a signed B-B file lacks only its timestamp.
        let mut conv = unsigned.clone();
        conv.profile = "convenience".into();
        assert!(rule.overdue(&conv, at("2027-01-01")).is_none());
        let mut bb = row("b", "2026-11-27", "", "2031-11-27T00:00:00Z");
        bb.status = STATUS_ARCHIVED.into();
        assert_eq!(rule.overdue(&bb, at("2027-01-01")).unwrap().missing, vec!["timestamp"]);
        bb.profile = "bb".into();
        assert!(
            rule.overdue(&bb, at("2027-01-01")).is_none(),
            "the profile does not require a timestamp"
        );
        bb.timestamp_time = Some("2026-11-27T03:00:00Z".into());
        bb.profile = "chart".into();
        assert!(rule.overdue(&bb, at("2027-01-01")).is_none(), "signed and timestamped");
        let stricter = UnsignedRule {
            days: 3,
            ..UnsignedRule::new(Some(&cfg))
        };
        assert!(stricter.overdue(&unsigned, at("2026-12-03T15:00:00Z")).is_none());
    }

    #[test]
    fn status_lists_due_late_and_past_retention() {
        let d = fixture();
        let rule = UnsignedRule::new(None);
        let s = status(
            d.path(),
            crate::clock::parse_datetime("2026-11-27").unwrap(),
            400,
            &rule,
        )
        .unwrap();
        assert_eq!(s.documents, 3);
        assert!(s.due_for_renewal.is_empty());
        assert_eq!(s.late_scans.len(), 1);
        assert_eq!(s.past_retention.len(), 1);
        let s = status(
            d.path(),
            crate::clock::parse_datetime("2034-06-01").unwrap(),
            400,
            &rule,
        )
        .unwrap();
        assert_eq!(s.due_for_renewal.len(), 3);
    }
}
