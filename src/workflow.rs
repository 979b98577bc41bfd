//! The guideline's per-situation rules (Management §16) that go beyond pixels: per-encounter
//! scans within N business days (企Q-59: within 1 day, 1 business day over holidays), backlog
//! scans only under an approved plan and never for patients who objected, the operator's
//! attestation, the pharmacist role for prescription corrections, the paper's location for
//! convenience copies. Pure functions over config and sidecar values; no I/O.

use time::{Date, Duration, OffsetDateTime, Weekday};

use crate::archive::layout::JST;
use crate::config::{LatePolicy, Profile, WorkflowConfig};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable reason code.
    pub code: &'static str,
    pub message: String,
    /// True: the document must not be archived.
    pub blocking: bool,
}

/// What the rules look at, taken from the sidecar and the signer.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    pub patient_id: Option<&'a str>,
    pub plan_id: Option<&'a str>,
    pub document_date: Option<&'a str>,
    /// (no attachments overlapped, nothing outside the scan area)
    pub attestation: Option<(bool, bool)>,
    pub paper_location: Option<&'a str>,
    /// hcRole of the signer's certificate, if any.
    pub signer_role: Option<&'a str>,
    /// The signature is a correction of an archived document.
    pub correction: bool,
}

/// Rules checked before anything is signed.
pub fn before_signing(profile_name: &str, profile: &Profile, wf: &WorkflowConfig, f: &Facts) -> Vec<Finding> {
    let mut out = Vec::new();
    if profile.require_plan {
        match f.plan_id {
            None => out.push(Finding {
                code: "plan-missing",
                message: format!(
                    "profile '{profile_name}' needs a plan_id naming an approved implementation plan (実施計画書)"
                ),
                blocking: true,
            }),
            Some(p) if !wf.approved_plans.iter().any(|a| a == p) => out.push(Finding {
                code: "plan-missing",
                message: format!("plan_id {p:?} is not an approved plan in [workflow] approved_plans"),
                blocking: true,
            }),
            Some(_) => {}
        }
        if let Some(pid) = f.patient_id {
            if wf.objected_patients.iter().any(|o| o == pid) {
                out.push(Finding {
                    code: "patient-objected",
                    message: format!("patient {pid} objected to backlog scanning; keep the paper"),
                    blocking: true,
                });
            }
        }
    }
    if profile.require_attestation {
        match f.attestation {
            Some((true, true)) => {}
            Some(_) => out.push(Finding { code: "attestation-missing", message: "the operator did not attest that no attachments overlapped and nothing lay outside the scan area".into(), blocking: true }),
            None => out.push(Finding { code: "attestation-missing", message: "the sidecar lacks the operator's attestation (attestation.no_overlap, attestation.nothing_outside_scan_area)".into(), blocking: true }),
        }
    }
    out.extend(role_finding(profile_name, profile, f.signer_role, f.correction));
    if profile.reference_copy && f.paper_location.is_none_or(|p| p.trim().is_empty()) {
        out.push(Finding {
            code: "paper-location-missing",
            message: "a convenience scan must name where the paper is kept (paper_location)".into(),
            blocking: true,
        });
    }
    if profile.scan_within_business_days.is_some() && f.document_date.is_some_and(|d| local_date(d).is_none()) {
        out.push(Finding {
            code: "sidecar-invalid",
            message: "document_date is not YYYY-MM-DD or RFC 3339".into(),
            blocking: true,
        });
    }
    out
}

/// The HPKI role rule: a correction needs `correction_signer_role` (else `signer_role`), any
/// other signature `signer_role`. Shared by ingest and `hozon correct`, which checks only this.
pub fn role_finding(
    profile_name: &str,
    profile: &Profile,
    signer_role: Option<&str>,
    correction: bool,
) -> Option<Finding> {
    let required = if correction {
        profile.correction_signer_role.as_ref().or(profile.signer_role.as_ref())
    } else {
        profile.signer_role.as_ref()
    }?;
    (signer_role != Some(required.as_str())).then(|| Finding {
        code: "signer-role-mismatch",
        message: format!(
            "profile '{profile_name}' needs a signer whose HPKI role is {required:?}; the signer's is {}",
            signer_role.map(|r| format!("{r:?}")).unwrap_or_else(|| "absent".into())
        ),
        blocking: true,
    })
}

/// The late-scan rule, judged against the trusted (TSA) time.
pub fn after_timestamp(
    profile: &Profile,
    wf: &WorkflowConfig,
    document_date: Option<&str>,
    timestamp: OffsetDateTime,
) -> Option<Finding> {
    let days = profile.scan_within_business_days?;
    let date = local_date(document_date?)?;
    let deadline = deadline(date, days, &holidays(wf));
    let stamped = timestamp.to_offset(JST).date();
    (stamped > deadline).then(|| Finding {
        code: "late-scan",
        message: format!(
            "document date {date}, timestamped {stamped}: later than {days} business day(s) (deadline {deadline})"
        ),
        blocking: profile.late_scan == LatePolicy::Reject,
    })
}

/// The configured holidays as dates (malformed entries are refused when the config loads).
pub fn holidays(wf: &WorkflowConfig) -> Vec<Date> {
    wf.holidays.iter().filter_map(|h| local_date(h)).collect()
}

/// The Japanese calendar date of a sidecar date or date-time.
pub fn local_date(s: &str) -> Option<Date> {
    crate::clock::parse_datetime(s).map(|t| {
        if s.len() == 10 {
            t.date() // a plain date is already a local calendar date
        } else {
            t.to_offset(JST).date()
        }
    })
}

pub fn is_business_day(d: Date, holidays: &[Date]) -> bool {
    !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) && !holidays.contains(&d)
}

/// Last allowed date: the `days`-th business day after `date` (the document's own day is day 0).
pub fn deadline(date: Date, days: u32, holidays: &[Date]) -> Date {
    let mut d = date;
    let mut left = days;
    // Bounded: at most a year of consecutive non-working days is skipped.
    let mut guard = 0;
    while left > 0 && guard < 366 + days * 7 {
        d += Duration::days(1);
        guard += 1;
        if is_business_day(d, holidays) {
            left -= 1;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn profile(toml_text: &str) -> Profile {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn one_business_day_skips_weekends_and_holidays() {
        // Friday → Monday
        assert_eq!(deadline(date!(2026 - 11 - 27), 1, &[]), date!(2026 - 11 - 30));
        // Wednesday → Thursday
        assert_eq!(deadline(date!(2026 - 11 - 25), 1, &[]), date!(2026 - 11 - 26));
        // Friday before a Monday holiday → Tuesday
        assert_eq!(
            deadline(date!(2026 - 11 - 20), 1, &[date!(2026 - 11 - 23)]),
            date!(2026 - 11 - 24)
        );
    }

    #[test]
    fn late_scan_is_judged_on_the_japanese_date_of_the_timestamp() {
        let p = profile("scan_within_business_days = 1\nlate_scan = 'reject'");
        let wf = WorkflowConfig::default();
        // document Wed 25th; stamped Thu 26th 23:30 JST (14:30Z) → in time
        let t = crate::clock::parse_datetime("2026-11-26T14:30:00Z").unwrap();
        assert!(after_timestamp(&p, &wf, Some("2026-11-25"), t).is_none());
        // stamped Fri 27th 00:30 JST (Thu 15:30Z) → late, and blocking under 'reject'
        let t = crate::clock::parse_datetime("2026-11-26T15:30:00Z").unwrap();
        let f = after_timestamp(&p, &wf, Some("2026-11-25"), t).unwrap();
        assert_eq!(f.code, "late-scan");
        assert!(f.blocking);
        let warn = profile("scan_within_business_days = 1");
        assert!(!after_timestamp(&warn, &wf, Some("2026-11-25"), t).unwrap().blocking);
    }

    #[test]
    fn backlog_needs_an_approved_plan_and_respects_objections() {
        let p = profile("require_plan = true");
        let wf = WorkflowConfig {
            approved_plans: vec!["PLAN-1".into()],
            objected_patients: vec!["P-9".into()],
            ..Default::default()
        };
        let codes = |f: &Facts| {
            before_signing("backlog", &p, &wf, f)
                .into_iter()
                .map(|x| x.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            codes(&Facts {
                plan_id: None,
                ..Default::default()
            }),
            vec!["plan-missing"]
        );
        assert_eq!(
            codes(&Facts {
                plan_id: Some("PLAN-2"),
                ..Default::default()
            }),
            vec!["plan-missing"]
        );
        assert!(codes(&Facts {
            plan_id: Some("PLAN-1"),
            patient_id: Some("P-1"),
            ..Default::default()
        })
        .is_empty());
        assert_eq!(
            codes(&Facts {
                plan_id: Some("PLAN-1"),
                patient_id: Some("P-9"),
                ..Default::default()
            }),
            vec!["patient-objected"]
        );
    }

    #[test]
    fn attestation_role_and_paper_location() {
        let wf = WorkflowConfig::default();
        let att = profile("require_attestation = true");
        assert_eq!(
            before_signing(
                "b",
                &att,
                &wf,
                &Facts {
                    attestation: Some((true, false)),
                    ..Default::default()
                }
            )[0]
            .code,
            "attestation-missing"
        );
        assert!(before_signing(
            "b",
            &att,
            &wf,
            &Facts {
                attestation: Some((true, true)),
                ..Default::default()
            }
        )
        .is_empty());
        let rx = profile("correction_signer_role = 'Pharmacist'");
        assert!(
            before_signing("p", &rx, &wf, &Facts::default()).is_empty(),
            "the scan itself may be signed by the 作業責任者"
        );
        let fix = |role| Facts {
            signer_role: role,
            correction: true,
            ..Default::default()
        };
        assert_eq!(
            before_signing("p", &rx, &wf, &fix(Some("Medical Doctor")))[0].code,
            "signer-role-mismatch"
        );
        assert_eq!(
            before_signing("p", &rx, &wf, &fix(None))[0].code,
            "signer-role-mismatch"
        );
        assert!(before_signing("p", &rx, &wf, &fix(Some("Pharmacist"))).is_empty());
        let conv = profile("reference_copy = true");
        assert_eq!(
            before_signing("c", &conv, &wf, &Facts::default())[0].code,
            "paper-location-missing"
        );
        assert!(before_signing(
            "c",
            &conv,
            &wf,
            &Facts {
                paper_location: Some("地下書庫 B-3"),
                ..Default::default()
            }
        )
        .is_empty());
    }
}
