//! The long-term rule (as PAdES/AdES validation applies it): is the signer's certificate path
//! valid at a time the file *proves* the signature existed?
//!
//! Let the signature timestamp prove t0 and the later document timestamps covering the
//! signature prove t1 < t2 < …; `at` is the validation time (`--at`, default now). Timestamps
//! whose own checks failed, or whose time lies after `at` (they do not exist yet at `at`),
//! are not proofs. Walking from the newest proof back, with the control time c = `at`:
//! proof k's TSA path must be valid at c (not expired, not revoked at c, trusted, critical EKU
//! timeStamping); if so, proof k establishes t_k and c becomes t_k. A proof whose TSA path fails
//! gives `timestamp-invalid` and leaves c unchanged (earlier proofs must then hold at c). Finally
//! the signer's path must be valid at c: at t0 when the chain of proofs is unbroken, at `at`
//! when there is none (expired → `expired-no-timestamp`, revoked → `revoked`). A revocation
//! after c does not matter: the signature is proven older. Revocation data come from the DSS,
//! the CMS and the tokens, and with `--online` from the network; a certificate with CRL or OCSP
//! pointers and nothing covering c gives `revocation-unknown` (indeterminate), while a
//! certificate without pointers has nothing to check.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use openssl::x509::X509;
use time::OffsetDateTime;

use super::reason::{Code, Reason};
use super::timestamp::CheckedTimestamp;
use crate::clock::rfc3339;
use crate::ltv::scope::in_parallel;
use crate::ltv::{FetchAttempt, FetchScope, RevocationSource};
use crate::pki::extensions::{crl_urls, ocsp_urls};
use crate::pki::trust::{validate_path_cached, RevocationCache, RevocationEvidence};
use crate::pki::{PathReport, PathStatus, RevocationData, TrustStore, Usage};

/// Validation material a file carries (DSS, CMS, tokens).
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub certs: Vec<X509>,
    pub revocation: RevocationData,
}

/// What was fetched for one certificate, and the URLs tried for it.
type Fetched = (Arc<RevocationData>, Vec<FetchAttempt>);

/// Revocation data fetched over the network, cached per certificate for the whole run. Each
/// file works through its own view (`for_file`): one deadline for its fetches, and the log of
/// the URLs tried for it (answers from the cache included, marked so).
pub struct Online {
    source: Arc<dyn RevocationSource>,
    cache: Arc<Mutex<HashMap<Vec<u8>, Fetched>>>,
    scope: FetchScope,
}

impl Online {
    pub fn new(source: Arc<dyn RevocationSource>) -> Online {
        Online {
            source,
            cache: Arc::new(Mutex::new(HashMap::new())),
            scope: FetchScope::new(),
        }
    }

    /// The same source and cache, with a fresh deadline and log for one file.
    pub fn for_file(&self) -> Online {
        Online {
            source: self.source.clone(),
            cache: self.cache.clone(),
            scope: FetchScope::new(),
        }
    }

    /// The URLs tried for this file so far.
    pub fn attempts(&self) -> Vec<FetchAttempt> {
        self.scope.attempts()
    }

    fn fetch(&self, cert: &X509, issuer: &X509) -> Arc<RevocationData> {
        let key = cert.to_der().unwrap_or_default();
        if let Some(hit) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned() {
            self.scope.extend(hit.1.iter().map(FetchAttempt::as_cached));
            return hit.0;
        }
        // OCSP and CRLs at once, both within the file's deadline. Failures leave the data
        // empty: the certificate then stays "revocation unknown".
        let mine = self.scope.child();
        let (ocsp, crls) = std::thread::scope(|s| {
            let ocsp = std::thread::Builder::new().spawn_scoped(s, || self.source.ocsp_for(cert, issuer, &mine));
            let crls = self.source.crls_for(cert, issuer, &mine);
            let ocsp = match ocsp {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(_) => self.source.ocsp_for(cert, issuer, &mine),
            };
            (ocsp, crls)
        });
        let mut d = RevocationData::default();
        if let Ok(Some(o)) = ocsp {
            d.ocsps.push(o);
        }
        if let Ok(c) = crls {
            d.crls.extend(c);
        }
        let d = Arc::new(d);
        let tried = mine.attempts();
        self.scope.extend(tried.iter().cloned());
        // What this file's deadline cut short is not the run's answer: a later file tries again.
        if !tried.iter().any(|a| a.outcome == "rev-deadline") {
            self.cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key, (d.clone(), tried));
        }
        d
    }
}

/// A path verdict plus what revocation was missing.
#[derive(Debug, Clone)]
pub struct ChainOutcome {
    pub report: PathReport,
    /// Certificates with CRL/OCSP pointers and nothing covering the time.
    pub missing: Vec<String>,
    /// The file's own material sufficed (nothing was fetched, nothing missing).
    pub offline_sufficient: bool,
}

fn has_pointers(cert: &X509) -> bool {
    !crl_urls(cert).is_empty() || !ocsp_urls(cert).is_empty()
}

fn missing_of(report: &PathReport) -> Vec<(usize, String)> {
    report
        .revocation
        .iter()
        .enumerate()
        .filter(|(_, r)| r.evidence == RevocationEvidence::Missing)
        .filter(|(i, _)| report.chain.get(*i).is_some_and(has_pointers))
        .map(|(i, r)| (i, r.subject.clone()))
        .collect()
}

/// Validate `cert`'s path at `at` for `usage` with the file's evidence, fetching what is
/// missing when `online` is given.
#[allow(clippy::too_many_arguments)]
pub fn check_chain(
    trust: &TrustStore,
    cache: &RevocationCache,
    online: Option<&Online>,
    cert: &X509,
    extra: &[X509],
    usage: Usage,
    at: OffsetDateTime,
    evidence: &RevocationData,
) -> ChainOutcome {
    let report = validate_path_cached(cert, extra, trust, at, evidence, usage, false, Some(cache));
    let missing = missing_of(&report);
    let decided = !matches!(report.status, PathStatus::Valid | PathStatus::Expired { .. });
    let Some(online) = online.filter(|_| !missing.is_empty() && !decided) else {
        let offline_sufficient = missing.is_empty();
        return ChainOutcome {
            report,
            missing: missing.into_iter().map(|m| m.1).collect(),
            offline_sufficient,
        };
    };
    let mut more = evidence.clone();
    let pairs: Vec<(&X509, &X509)> = missing
        .iter()
        .filter_map(|(i, _)| Some((report.chain.get(*i)?, report.chain.get(i + 1)?)))
        .collect();
    // The missing certificates' data at once: a hanging responder costs its time once.
    for got in in_parallel(&pairs, |(c, issuer)| online.fetch(c, issuer)) {
        more.crls.extend(got.crls.iter().cloned());
        more.ocsps.extend(got.ocsps.iter().cloned());
    }
    let report = validate_path_cached(cert, extra, trust, at, &more, usage, false, Some(cache));
    let missing = missing_of(&report).into_iter().map(|m| m.1).collect();
    ChainOutcome {
        report,
        missing,
        offline_sufficient: false,
    }
}

/// What the long-term rule concluded for one signature.
#[derive(Debug, Clone, Default)]
pub struct LongTerm {
    pub reasons: Vec<Reason>,
    pub notes: Vec<String>,
    /// The time the signer's path was judged at (a proven time, or `at`).
    pub judged_at: Option<OffsetDateTime>,
    /// Whether some proof established the time (else the signer was judged at `at`).
    pub proven: bool,
    /// The signer's chain (end entity first) as built.
    pub signer_chain: Vec<X509>,
    /// The file's own material covered the signer path and the signature timestamp's TSA path.
    pub offline_sufficient: bool,
}

/// Everything `evaluate` needs besides the proofs.
pub struct Inputs<'a> {
    pub trust: &'a TrustStore,
    pub cache: &'a RevocationCache,
    pub online: Option<&'a Online>,
    pub evidence: &'a Evidence,
    pub at: OffsetDateTime,
    /// The time a verified RFC 4998 evidence record proves the whole file existed at (its
    /// first timestamp); the walk then starts there instead of at `at`.
    pub proven_by_record: Option<OffsetDateTime>,
}

/// Apply the long-term rule (module header) to `signer` with `proofs`: timestamps that passed
/// their own checks and cover the signature, oldest first.
pub fn evaluate(inp: &Inputs<'_>, signer: &X509, proofs: &[&CheckedTimestamp]) -> LongTerm {
    let mut lt = LongTerm {
        offline_sufficient: true,
        ..LongTerm::default()
    };
    // A verified evidence record covers the whole file, every timestamp in it included: its
    // chain was already judged up to `at`, so the file's own proofs need only hold at its time.
    let start = match inp.proven_by_record {
        Some(t) if t <= inp.at => {
            lt.notes
                .push(format!("the evidence record proves the file existed at {}", rfc3339(t)));
            lt.proven = true;
            t
        }
        _ => inp.at,
    };
    let usable: Vec<&CheckedTimestamp> = proofs
        .iter()
        .copied()
        .filter(|p| {
            let ok = p.time <= start;
            if !ok {
                let limit = if p.time <= inp.at {
                    "the time the evidence record proves (not needed)"
                } else {
                    "the validation time"
                };
                lt.notes
                    .push(format!("timestamp of {} is after {limit}; not used", rfc3339(p.time)));
            }
            ok
        })
        .collect();
    let mut control = start;
    for (k, p) in usable.iter().enumerate().rev() {
        let Some(tsa) = &p.tsa_cert else {
            lt.reasons.push(Reason::new(
                Code::TimestampInvalid,
                format!("timestamp of {}: no TSA certificate", rfc3339(p.time)),
            ));
            continue;
        };
        let mut extra = p.certs.clone();
        extra.extend(inp.evidence.certs.iter().cloned());
        let out = check_chain(
            inp.trust,
            inp.cache,
            inp.online,
            tsa,
            &extra,
            Usage::TimeStamping,
            control,
            &inp.evidence.revocation,
        );
        if k == 0 && !out.offline_sufficient {
            lt.offline_sufficient = false;
        }
        let when = rfc3339(p.time);
        match &out.report.status {
            PathStatus::Valid => {
                if !out.missing.is_empty() {
                    lt.reasons.push(Reason::new(
                        Code::RevocationUnknown,
                        format!(
                            "TSA of the timestamp of {when}: no revocation data covering {} for {}",
                            rfc3339(control),
                            out.missing.join("; ")
                        ),
                    ));
                }
                if let Some((t, why)) = &out.report.revoked_later {
                    lt.notes.push(format!(
                        "TSA of the timestamp of {when} revoked later, at {} ({why})",
                        rfc3339(*t)
                    ));
                }
                control = p.time;
                lt.proven = true;
            }
            other => lt.reasons.push(Reason::new(
                Code::TimestampInvalid,
                format!(
                    "TSA path of the timestamp of {when} is not valid at {}: {}",
                    rfc3339(control),
                    status_text(other)
                ),
            )),
        }
    }
    let out = check_chain(
        inp.trust,
        inp.cache,
        inp.online,
        signer,
        &inp.evidence.certs,
        Usage::DocumentSigning,
        control,
        &inp.evidence.revocation,
    );
    lt.offline_sufficient &= out.offline_sufficient;
    lt.judged_at = Some(control);
    lt.signer_chain = out.report.chain.clone();
    let at_text = rfc3339(control);
    let status = &out.report.status;
    let reason = match status {
        PathStatus::Valid => None,
        PathStatus::Expired { .. } if !lt.proven => Some(Code::ExpiredNoTimestamp),
        PathStatus::Expired { .. } | PathStatus::NotYetValid { .. } => Some(Code::CertificateTime),
        PathStatus::Revoked { .. } => Some(Code::Revoked),
        PathStatus::Untrusted(_) => Some(Code::UntrustedChain),
        PathStatus::BadUsage(_) => Some(Code::BadKeyUsage),
        PathStatus::RevocationUnknown(_) => Some(Code::RevocationUnknown),
    };
    if let Some(code) = reason {
        lt.reasons.push(Reason::new(
            code,
            format!("signer path: {} (judged at {at_text})", status_text(status)),
        ));
    } else if !out.missing.is_empty() {
        lt.reasons.push(Reason::new(
            Code::RevocationUnknown,
            format!(
                "signer path: no revocation data covering {at_text} for {}",
                out.missing.join("; ")
            ),
        ));
    }
    if let Some((t, why)) = &out.report.revoked_later {
        lt.notes.push(format!(
            "signer path revoked at {} ({why}), after the proven time {at_text}",
            rfc3339(*t)
        ));
    }
    lt
}

/// A path status in words.
pub fn status_text(s: &PathStatus) -> String {
    match s {
        PathStatus::Valid => "valid".into(),
        PathStatus::Expired { subject, not_after } => format!("{subject} expired at {}", rfc3339(*not_after)),
        PathStatus::NotYetValid { subject, not_before } => {
            format!("{subject} not valid before {}", rfc3339(*not_before))
        }
        PathStatus::Revoked { subject, at, reason } => format!("{subject} revoked at {} ({reason})", rfc3339(*at)),
        PathStatus::Untrusted(m) => format!("no trusted path: {m}"),
        PathStatus::RevocationUnknown(m) => m.clone(),
        PathStatus::BadUsage(m) => m.clone(),
    }
}
