//! Trust roots and certificate path validation at a chosen time T, with revocation from the
//! CRLs and OCSP responses the caller has (DSS, fetched, or none).
//!
//! OpenSSL builds and verifies the path (X509Store / X509StoreContext); the time, usage and
//! revocation verdicts are computed here so each can be reported distinctly, and so a
//! revocation is reported even when it happened after T (the long-term rule compares it with a
//! timestamp). OpenSSL's own CRL check is not used: it ignores revocation dates.
//!
//! Revocation freshness (documented policy): a CRL or OCSP "good" answer vouches for a
//! certificate at T when it was current at T (thisUpdate <= T + 5 min skew <= nextUpdate + skew),
//! or when it was issued after T but no later than the certificate's notAfter (issuers keep a
//! revoked certificate listed until it expires, so such a later CRL would still list a
//! revocation that happened before T). A revocation entry is believed whenever its CRL or
//! response verifies, whatever its dates.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::{X509VerifyFlags, X509VerifyParam};
use openssl::x509::{X509Ref, X509StoreContext, X509};
use time::{Duration, OffsetDateTime};

use super::asn1_time::to_offset;
use super::crl::{Crl, CrlEntry};
use super::extensions::{extended_key_usage, key_usage, oid_text, OID_KP_TIME_STAMPING};
use super::memo::{self, Recent};
use super::ocsp::{check_response, check_signature_only, OcspAnswer, OcspCertState};
use super::{fmt_time, subject_line, PkiError};
use crate::config::Config;

/// Clock skew tolerated between revocation data producers and T.
const SKEW: Duration = Duration::minutes(5);

/// Trusted roots, and untrusted intermediates that may help build paths.
#[derive(Clone, Default)]
pub struct TrustStore {
    roots: Vec<X509>,
    intermediates: Vec<X509>,
}

impl TrustStore {
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// The `[trust]` section: `roots` and `intermediates` PEM files (each may hold several).
    pub fn from_config(cfg: &Config) -> Result<TrustStore, PkiError> {
        let mut t = TrustStore::new();
        for p in &cfg.trust.roots {
            t.add_root_pem(&cfg.resolve(p))?;
        }
        for p in &cfg.trust.intermediates {
            t.add_intermediate_pem(&cfg.resolve(p))?;
        }
        Ok(t)
    }

    /// From PEM texts held in memory.
    pub fn from_pems(roots: &[&[u8]], intermediates: &[&[u8]]) -> Result<TrustStore, PkiError> {
        let mut t = TrustStore::new();
        for pem in roots {
            t.roots.extend(parse_pem(pem)?);
        }
        for pem in intermediates {
            t.intermediates.extend(parse_pem(pem)?);
        }
        Ok(t)
    }

    /// Trust every certificate in a PEM file (`--trust PEM`).
    pub fn add_root_pem(&mut self, path: &Path) -> Result<(), PkiError> {
        let bytes = read_pem_file(path)?;
        self.roots
            .extend(parse_pem(&bytes).map_err(|e| PkiError::Parse(format!("{}: {e}", path.display())))?);
        Ok(())
    }

    pub fn add_intermediate_pem(&mut self, path: &Path) -> Result<(), PkiError> {
        let bytes = read_pem_file(path)?;
        self.intermediates
            .extend(parse_pem(&bytes).map_err(|e| PkiError::Parse(format!("{}: {e}", path.display())))?);
        Ok(())
    }

    pub fn add_root(&mut self, cert: X509) {
        self.roots.push(cert);
    }

    pub fn add_intermediate(&mut self, cert: X509) {
        self.intermediates.push(cert);
    }

    pub fn roots(&self) -> &[X509] {
        &self.roots
    }

    pub fn intermediates(&self) -> &[X509] {
        &self.intermediates
    }
}

/// Largest PEM file of certificates read.
const MAX_PEM_BYTES: u64 = 16 << 20;

fn read_pem_file(path: &Path) -> Result<Vec<u8>, PkiError> {
    let len = std::fs::metadata(path).map_err(PkiError::io(path))?.len();
    if len > MAX_PEM_BYTES {
        return Err(PkiError::Parse(format!(
            "{}: {len} bytes is too large for a certificate file",
            path.display()
        )));
    }
    std::fs::read(path).map_err(PkiError::io(path))
}

fn parse_pem(pem: &[u8]) -> Result<Vec<X509>, PkiError> {
    let certs = X509::stack_from_pem(pem).map_err(|e| PkiError::Parse(format!("PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(PkiError::Parse("no certificate in PEM".into()));
    }
    Ok(certs)
}

/// What the end-entity certificate must be fit for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// keyUsage with digitalSignature or nonRepudiation; a critical EKU must allow signing.
    DocumentSigning,
    /// Critical extendedKeyUsage with timeStamping as the only purpose (RFC 3161 2.3).
    TimeStamping,
    Any,
}

/// Revocation data at hand: DER CRLs and DER OCSP responses.
#[derive(Debug, Clone, Default)]
pub struct RevocationData {
    pub crls: Vec<Vec<u8>>,
    pub ocsps: Vec<Vec<u8>>,
}

/// The verdict on a path at T.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStatus {
    Valid,
    /// T is after the notAfter of `subject` (a certificate of the path).
    Expired {
        subject: String,
        not_after: OffsetDateTime,
    },
    NotYetValid {
        subject: String,
        not_before: OffsetDateTime,
    },
    /// `subject` was revoked at or before T.
    Revoked {
        subject: String,
        at: OffsetDateTime,
        reason: String,
    },
    /// No path to a trusted root (OpenSSL's reason).
    Untrusted(String),
    /// Revocation was required and no usable CRL/OCSP covers T for some certificate.
    RevocationUnknown(String),
    BadUsage(String),
}

impl PathStatus {
    /// Stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            PathStatus::Valid => "valid",
            PathStatus::Expired { .. } => "expired",
            PathStatus::NotYetValid { .. } => "not-yet-valid",
            PathStatus::Revoked { .. } => "revoked",
            PathStatus::Untrusted(_) => "untrusted-chain",
            PathStatus::RevocationUnknown(_) => "revocation-unknown",
            PathStatus::BadUsage(_) => "bad-key-usage",
        }
    }
}

/// How the revocation status of one certificate of the path was established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationEvidence {
    Crl {
        this_update: OffsetDateTime,
    },
    Ocsp {
        this_update: OffsetDateTime,
    },
    /// Nothing usable covers T.
    Missing,
}

#[derive(Debug, Clone)]
pub struct CertRevocation {
    pub subject: String,
    pub evidence: RevocationEvidence,
}

/// Result of [`validate_path`].
#[derive(Debug, Clone)]
pub struct PathReport {
    /// End entity first, trust anchor last (just the certificate when no path was built).
    pub chain: Vec<X509>,
    pub status: PathStatus,
    /// Earliest revocation of a path certificate that happened after T: (time, reason). The
    /// caller compares it with a timestamp; the path is still valid at T.
    pub revoked_later: Option<(OffsetDateTime, String)>,
    /// Per non-anchor certificate, what vouched for it at T.
    pub revocation: Vec<CertRevocation>,
    pub at: OffsetDateTime,
}

impl PathReport {
    pub fn is_valid(&self) -> bool {
        self.status == PathStatus::Valid
    }
}

/// Validate `cert` at time `at`: path to `trust`'s roots (helpers: `extra` and the trust
/// store's intermediates), validity windows, `usage` of the end entity, and revocation of every
/// non-anchor certificate from `revocation`. With `require_revocation`, a certificate without
/// usable revocation data makes the status `RevocationUnknown` (the caller says indeterminate).
pub fn validate_path(
    cert: &X509,
    extra: &[X509],
    trust: &TrustStore,
    at: OffsetDateTime,
    revocation: &RevocationData,
    usage: Usage,
    require_revocation: bool,
) -> PathReport {
    validate_path_cached(cert, extra, trust, at, revocation, usage, require_revocation, None)
}

/// [`validate_path`] with parsed CRLs and OCSP verdicts shared through `cache` (one per run),
/// so a batch does not parse and verify the same revocation data again for every file.
#[allow(clippy::too_many_arguments)]
pub fn validate_path_cached(
    cert: &X509,
    extra: &[X509],
    trust: &TrustStore,
    at: OffsetDateTime,
    revocation: &RevocationData,
    usage: Usage,
    require_revocation: bool,
    cache: Option<&RevocationCache>,
) -> PathReport {
    let mut report = PathReport {
        chain: vec![cert.clone()],
        status: PathStatus::Valid,
        revoked_later: None,
        revocation: Vec::new(),
        at,
    };
    let chain = match build_chain(cert, extra, trust, at) {
        Ok(c) => c,
        Err(msg) => {
            report.status = PathStatus::Untrusted(msg);
            return report;
        }
    };
    report.chain = chain;

    if let Err(msg) = check_usage(cert, usage) {
        report.status = PathStatus::BadUsage(msg);
        return report;
    }
    let time_status = check_times(&report.chain, at);

    let mut helpers: Vec<X509> = extra.to_vec();
    helpers.extend(trust.intermediates.iter().cloned());
    helpers.extend(report.chain.iter().cloned());
    let crls: Vec<Arc<Crl>> = revocation
        .crls
        .iter()
        .filter_map(|d| match cache {
            Some(c) => c.crl(d),
            None => Crl::from_bytes(d).ok().map(Arc::new),
        })
        .collect();
    let mut revoked_now: Option<PathStatus> = None;
    let mut missing: Vec<String> = Vec::new();
    let anchors = report.chain.len().saturating_sub(1);
    for i in 0..anchors {
        let (Some(c), Some(issuer)) = (report.chain.get(i), report.chain.get(i + 1)) else {
            break;
        };
        let found = revocation_of(c, issuer, at, &crls, &revocation.ocsps, trust.roots(), &helpers, cache);
        for (when, reason) in found.revocations {
            if when <= at {
                if revoked_now.is_none() {
                    revoked_now = Some(PathStatus::Revoked {
                        subject: subject_line(c),
                        at: when,
                        reason,
                    });
                }
            } else if report.revoked_later.as_ref().is_none_or(|(t, _)| when < *t) {
                report.revoked_later = Some((when, reason));
            }
        }
        if found.evidence == RevocationEvidence::Missing {
            missing.push(subject_line(c));
        }
        report.revocation.push(CertRevocation {
            subject: subject_line(c),
            evidence: found.evidence,
        });
    }

    report.status = if let Some(r) = revoked_now {
        r
    } else if let Some(t) = time_status {
        t
    } else if require_revocation && !missing.is_empty() {
        PathStatus::RevocationUnknown(format!(
            "no CRL or OCSP response covering {} for: {}",
            fmt_time(at),
            missing.join("; ")
        ))
    } else {
        PathStatus::Valid
    };
    report
}

/// Refuse to sign with a certificate that is not valid now, does not chain to the trust roots,
/// or may not sign documents. Revocation is not required here (checked when collecting LTV data).
pub fn check_signer_before_signing(
    signer_cert: &X509,
    chain: &[X509],
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Result<(), PkiError> {
    let r = validate_path(
        signer_cert,
        chain,
        trust,
        now,
        &RevocationData::default(),
        Usage::DocumentSigning,
        false,
    );
    let now_s = fmt_time(now);
    match r.status {
        PathStatus::Valid => Ok(()),
        PathStatus::Expired { subject, not_after } => Err(PkiError::SignerExpired {
            subject,
            not_after: fmt_time(not_after),
            now: now_s,
        }),
        PathStatus::NotYetValid { subject, not_before } => Err(PkiError::SignerNotYetValid {
            subject,
            not_before: fmt_time(not_before),
            now: now_s,
        }),
        PathStatus::Untrusted(m) => Err(PkiError::SignerUntrusted(m)),
        PathStatus::BadUsage(m) => Err(PkiError::SignerKeyUsage(m)),
        PathStatus::Revoked { at, reason, .. } => Err(PkiError::SignerRevoked {
            at: fmt_time(at),
            reason,
        }),
        PathStatus::RevocationUnknown(m) => Err(PkiError::SignerUntrusted(m)),
    }
}

/// Path from `cert` to a root, by OpenSSL. First at time `at`; when that fails, again without
/// time checks, so that an expired path still yields its chain (times are judged separately).
fn build_chain(cert: &X509, extra: &[X509], trust: &TrustStore, at: OffsetDateTime) -> Result<Vec<X509>, String> {
    let key = path_key(cert, extra, trust);
    if let Some(chain) = key.and_then(|k| remembered_path(&k, at)) {
        return Ok(chain);
    }
    let at_time = verify_with_openssl(cert, extra, trust, Some(at)).map_err(|e| format!("OpenSSL: {e}"))?;
    if let Ok(chain) = at_time {
        if let Some(k) = key {
            remember_path(k, &chain);
        }
        return Ok(chain);
    }
    verify_with_openssl(cert, extra, trust, None).map_err(|e| format!("OpenSSL: {e}"))?
}

/// Paths OpenSSL verified, by (certificate, helpers, trust store): a batch validates the same
/// few certificates at a different time T for every file, and building a store and a path
/// each time was a tenth of `hozon verify`. A remembered path is reused at T only when every
/// certificate on it is within its validity at T, which is all that OpenSSL's check at T adds
/// to the (time-free) signatures it already verified. Only successes are kept.
static PATHS: Recent<Vec<X509>> = Recent::new(64);

fn path_key(cert: &X509, extra: &[X509], trust: &TrustStore) -> Option<[u8; 32]> {
    let mut k = memo::Key::new();
    let groups: [&[X509]; 4] = [std::slice::from_ref(cert), extra, &trust.roots, &trust.intermediates];
    for group in groups {
        k.part(&(group.len() as u64).to_be_bytes());
        for c in group {
            k.part(&c.to_der().ok()?);
        }
    }
    Some(k.finish())
}

fn remembered_path(key: &[u8; 32], at: OffsetDateTime) -> Option<Vec<X509>> {
    let valid_at = |c: &X509| matches!((to_offset(c.not_before()), to_offset(c.not_after())), (Ok(nb), Ok(na)) if nb <= at && at <= na);
    PATHS.get(key).filter(|chain| chain.iter().all(valid_at))
}

fn remember_path(key: [u8; 32], chain: &[X509]) {
    PATHS.put(key, chain.to_vec());
}

type Verdict = Result<Vec<X509>, String>;

fn verify_with_openssl(
    cert: &X509,
    extra: &[X509],
    trust: &TrustStore,
    at: Option<OffsetDateTime>,
) -> Result<Verdict, openssl::error::ErrorStack> {
    let mut store = X509StoreBuilder::new()?;
    for r in &trust.roots {
        store.add_cert(r.clone())?;
    }
    let mut param = X509VerifyParam::new()?;
    match at {
        Some(t) => param.set_time(t.unix_timestamp()),
        None => param.set_flags(X509VerifyFlags::NO_CHECK_TIME)?,
    }
    store.set_param(&param)?;
    let store = store.build();
    let mut untrusted = Stack::new()?;
    for c in extra.iter().chain(trust.intermediates.iter()) {
        untrusted.push(c.clone())?;
    }
    let mut ctx = X509StoreContext::new()?;
    ctx.init(&store, cert, &untrusted, |c| {
        if c.verify_cert()? {
            let chain = c
                .chain()
                .map(|s| s.iter().map(|x| x.to_owned()).collect())
                .unwrap_or_default();
            Ok(Ok(chain))
        } else {
            let who = c.current_cert().map(subject_line).unwrap_or_default();
            Ok(Err(format!(
                "{} (depth {}, {who})",
                c.error().error_string(),
                c.error_depth()
            )))
        }
    })
}

/// The first certificate (end entity first) whose validity window excludes `at`.
fn check_times(chain: &[X509], at: OffsetDateTime) -> Option<PathStatus> {
    for c in chain {
        let (Ok(nb), Ok(na)) = (to_offset(c.not_before()), to_offset(c.not_after())) else {
            return Some(PathStatus::Untrusted(format!(
                "unreadable validity of {}",
                subject_line(c)
            )));
        };
        if at < nb {
            return Some(PathStatus::NotYetValid {
                subject: subject_line(c),
                not_before: nb,
            });
        }
        if at > na {
            return Some(PathStatus::Expired {
                subject: subject_line(c),
                not_after: na,
            });
        }
    }
    None
}

/// Purposes that allow signing documents when a critical EKU restricts the certificate.
const SIGNING_PURPOSES: &[&[u32]] = &[
    &[2, 5, 29, 37, 0],                  // anyExtendedKeyUsage
    &[1, 3, 6, 1, 5, 5, 7, 3, 4],        // emailProtection
    &[1, 3, 6, 1, 5, 5, 7, 3, 36],       // documentSigning (RFC 9336)
    &[1, 3, 6, 1, 4, 1, 311, 10, 3, 12], // Microsoft document signing
    &[1, 2, 840, 113583, 1, 1, 5],       // Adobe authentic documents trust
];

fn check_usage(cert: &X509Ref, usage: Usage) -> Result<(), String> {
    if usage == Usage::Any {
        return Ok(());
    }
    let ku = key_usage(cert).map_err(|e| e.to_string())?;
    let eku = extended_key_usage(cert).map_err(|e| e.to_string())?;
    let signs = |k: &super::KeyUsageBits| k.digital_signature || k.non_repudiation;
    match usage {
        Usage::DocumentSigning => {
            match ku {
                None => return Err("no keyUsage extension (digitalSignature or nonRepudiation required)".into()),
                Some(k) if !signs(&k) => {
                    return Err(format!(
                        "keyUsage {:?} has neither digitalSignature nor nonRepudiation",
                        k.names()
                    ))
                }
                Some(_) => {}
            }
            if let Some((true, purposes)) = eku {
                if !purposes.iter().any(|p| SIGNING_PURPOSES.contains(&p.as_ref())) {
                    let names: Vec<String> = purposes.iter().map(oid_text).collect();
                    return Err(format!(
                        "critical extendedKeyUsage {names:?} does not allow document signing"
                    ));
                }
            }
            Ok(())
        }
        Usage::TimeStamping => {
            match eku {
                None => return Err("TSA certificate has no extendedKeyUsage (critical timeStamping required)".into()),
                Some((false, _)) => return Err("TSA certificate's extendedKeyUsage is not critical".into()),
                Some((true, purposes)) => {
                    if purposes.len() != 1 || purposes.first().map(|p| p.as_ref()) != Some(OID_KP_TIME_STAMPING) {
                        let names: Vec<String> = purposes.iter().map(oid_text).collect();
                        return Err(format!(
                            "TSA extendedKeyUsage must be timeStamping only, found {names:?}"
                        ));
                    }
                }
            }
            if let Some(k) = ku {
                if !signs(&k) {
                    return Err(format!(
                        "TSA keyUsage {:?} has neither digitalSignature nor nonRepudiation",
                        k.names()
                    ));
                }
            }
            Ok(())
        }
        Usage::Any => Ok(()),
    }
}

struct Found {
    revocations: Vec<(OffsetDateTime, String)>,
    evidence: RevocationEvidence,
}

/// Whether revocation data dated `this_update`/`next_update` vouches for `cert` at `at`
/// (policy in the module header).
fn covers(
    cert: &X509Ref,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    at: OffsetDateTime,
) -> bool {
    let current = this_update <= at + SKEW && next_update.is_some_and(|n| at <= n + SKEW);
    let later_while_valid = this_update > at && to_offset(cert.not_after()).is_ok_and(|na| this_update <= na);
    current || later_while_valid
}

fn revocation_of(
    cert: &X509,
    issuer: &X509,
    at: OffsetDateTime,
    crls: &[Arc<Crl>],
    ocsps: &[Vec<u8>],
    roots: &[X509],
    helpers: &[X509],
    cache: Option<&RevocationCache>,
) -> Found {
    let mut found = Found {
        revocations: Vec::new(),
        evidence: RevocationEvidence::Missing,
    };
    for crl in crls
        .iter()
        .filter(|c| cache.map_or_else(|| c.is_issued_by(issuer), |k| k.issued_by(c, issuer)))
    {
        // A CRL that lists the certificate also vouches for T (revoked before T or not).
        let Ok(entry) = crl.entry_for(cert) else {
            continue;
        };
        if let CrlEntry::Revoked { at: when, reason } = entry {
            found.revocations.push((when, reason));
        }
        if found.evidence == RevocationEvidence::Missing && covers(cert, crl.this_update, crl.next_update, at) {
            found.evidence = RevocationEvidence::Crl {
                this_update: crl.this_update,
            };
        }
    }
    for der in ocsps {
        // Responder certificates are judged at the time the response was produced.
        let answer = match cache {
            Some(k) => k.ocsp(der, cert, issuer, || ocsp_answer(der, cert, issuer, roots, helpers)),
            None => ocsp_answer(der, cert, issuer, roots, helpers),
        };
        let Some(answer) = answer else {
            continue;
        };
        match answer.status {
            OcspCertState::Revoked { at: when, reason } => found.revocations.push((when, reason)),
            OcspCertState::Good => {}
            OcspCertState::Unknown => continue,
        }
        if found.evidence == RevocationEvidence::Missing && covers(cert, answer.this_update, answer.next_update, at) {
            found.evidence = RevocationEvidence::Ocsp {
                this_update: answer.this_update,
            };
        }
    }
    found.revocations.sort();
    found
}

/// What an OCSP response says about `cert`, when it is signed and authorised (responder
/// certificates judged at the time the response was produced).
fn ocsp_answer(der: &[u8], cert: &X509, issuer: &X509, roots: &[X509], helpers: &[X509]) -> Option<OcspAnswer> {
    let first = check_signature_only(der, cert, issuer).ok()??;
    check_response(der, cert, issuer, roots, helpers, first.this_update).ok()?
}

type Key = Vec<u8>;

/// Parsed CRLs, CRL-issuer checks and OCSP verdicts, kept for a whole run (thread-safe). The
/// OCSP verdict is keyed by response, certificate and issuer; the trust roots must not change
/// while the cache is in use.
#[derive(Default)]
pub struct RevocationCache {
    crls: Mutex<HashMap<Key, Option<Arc<Crl>>>>,
    issued: Mutex<HashMap<(Key, Key), bool>>,
    ocsp: Mutex<HashMap<(Key, Key, Key), Option<OcspAnswer>>>,
}

/// Most entries per map before it is emptied (bounds memory on hostile input).
const CACHE_LIMIT: usize = 100_000;

fn remember<K: std::hash::Hash + Eq, V: Clone>(map: &Mutex<HashMap<K, V>>, key: K, make: impl FnOnce() -> V) -> V {
    if let Some(v) = map.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return v.clone();
    }
    let v = make();
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    if m.len() >= CACHE_LIMIT {
        m.clear();
    }
    m.insert(key, v.clone());
    v
}

impl RevocationCache {
    pub fn new() -> RevocationCache {
        RevocationCache::default()
    }

    fn crl(&self, der: &[u8]) -> Option<Arc<Crl>> {
        remember(&self.crls, der.to_vec(), || Crl::from_bytes(der).ok().map(Arc::new))
    }

    fn issued_by(&self, crl: &Crl, issuer: &X509) -> bool {
        let key = (crl.der.clone(), issuer.to_der().unwrap_or_default());
        remember(&self.issued, key, || crl.is_issued_by(issuer))
    }

    fn ocsp(
        &self,
        der: &[u8],
        cert: &X509,
        issuer: &X509,
        make: impl FnOnce() -> Option<OcspAnswer>,
    ) -> Option<OcspAnswer> {
        let key = (
            der.to_vec(),
            cert.to_der().unwrap_or_default(),
            issuer.to_der().unwrap_or_default(),
        );
        remember(&self.ocsp, key, make)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::crl::{issue_crl, CrlSpec, RevokedEntry};
    use crate::pki::fixtures::{openssl_cli, party, Party, TestPki, T0, T_END};
    use crate::pki::issue::CertSpec;
    use crate::pki::KeyUsageBits;
    use time::macros::datetime;

    const MID: OffsetDateTime = datetime!(2025-03-01 0:00 UTC);

    fn trust(pki: &TestPki) -> TrustStore {
        let mut t = TrustStore::new();
        t.add_root(pki.root.cert.clone());
        t
    }

    fn check(
        pki: &TestPki,
        cert: &X509,
        at: OffsetDateTime,
        rev: &RevocationData,
        usage: Usage,
        require: bool,
    ) -> PathReport {
        validate_path(cert, &[pki.inter.cert.clone()], &trust(pki), at, rev, usage, require)
    }

    fn crl(
        issuer: &Party,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
        revoked: Vec<RevokedEntry>,
    ) -> Vec<u8> {
        issue_crl(
            &CrlSpec {
                this_update,
                next_update: Some(next_update),
                number: 1,
                revoked,
            },
            &issuer.cert,
            &issuer.key,
        )
        .unwrap()
    }

    fn revoke(cert: &X509, at: OffsetDateTime, reason: u8) -> RevokedEntry {
        RevokedEntry {
            serial: cert.serial_number().to_bn().unwrap().to_vec(),
            at,
            reason: Some(reason),
        }
    }

    #[test]
    fn valid_path_at_t() {
        let pki = TestPki::new();
        let r = check(
            &pki,
            &pki.signer.cert,
            MID,
            &RevocationData::default(),
            Usage::DocumentSigning,
            false,
        );
        assert_eq!(r.status, PathStatus::Valid);
        assert_eq!(r.chain.len(), 3);
        assert_eq!(r.chain[2].to_der().unwrap(), pki.root.cert.to_der().unwrap());
        assert_eq!(r.revocation.len(), 2, "signer and intermediate, not the root");
        assert!(r.revocation.iter().all(|c| c.evidence == RevocationEvidence::Missing));
    }

    #[test]
    fn expired_and_not_yet_valid_at_t() {
        let pki = TestPki::new();
        let none = RevocationData::default();
        let r = check(
            &pki,
            &pki.signer.cert,
            datetime!(2027-01-01 0:00:01 UTC),
            &none,
            Usage::DocumentSigning,
            false,
        );
        assert_eq!(
            r.status,
            PathStatus::Expired {
                subject: "CN=署名者 一郎".into(),
                not_after: datetime!(2027-01-01 0:00 UTC)
            }
        );
        assert_eq!(r.status.code(), "expired");
        assert_eq!(r.chain.len(), 3, "the chain is still reported");
        let r = check(
            &pki,
            &pki.signer.cert,
            datetime!(2023-12-31 23:59 UTC),
            &none,
            Usage::DocumentSigning,
            false,
        );
        assert!(
            matches!(r.status, PathStatus::NotYetValid { not_before, .. } if not_before == datetime!(2024-01-01 0:00 UTC))
        );
        // An expired intermediate invalidates the path too.
        let r = check(
            &pki,
            &pki.tsa.cert,
            datetime!(2041-01-01 0:00 UTC),
            &none,
            Usage::TimeStamping,
            false,
        );
        assert!(
            matches!(&r.status, PathStatus::Expired { subject, .. } if subject == "CN=Test TSA"),
            "{:?}",
            r.status
        );
    }

    /// A path OpenSSL built once is reused only at times when all of it is valid, and only for
    /// the same certificate, helpers and trust store.
    #[test]
    fn remembered_paths_are_reused_only_inside_their_validity() {
        let pki = TestPki::new();
        let helpers = [pki.inter.cert.clone()];
        let r = check(
            &pki,
            &pki.signer.cert,
            MID,
            &RevocationData::default(),
            Usage::DocumentSigning,
            false,
        );
        assert_eq!(r.status, PathStatus::Valid);
        let key = path_key(&pki.signer.cert, &helpers, &trust(&pki)).unwrap();
        assert_eq!(
            remembered_path(&key, MID + Duration::days(30)).map(|c| c.len()),
            Some(3)
        );
        assert!(
            remembered_path(&key, datetime!(2027-01-01 0:00:01 UTC)).is_none(),
            "the signer has expired then"
        );
        assert!(
            remembered_path(&key, datetime!(2023-12-31 23:59 UTC)).is_none(),
            "not yet valid then"
        );
        let other_store = TrustStore::default();
        assert_ne!(path_key(&pki.signer.cert, &helpers, &other_store), Some(key));
        let r = validate_path(
            &pki.signer.cert,
            &helpers,
            &other_store,
            MID,
            &RevocationData::default(),
            Usage::DocumentSigning,
            false,
        );
        assert!(matches!(r.status, PathStatus::Untrusted(_)), "{:?}", r.status);
        let r = check(
            &pki,
            &pki.signer.cert,
            datetime!(2027-01-01 0:00:01 UTC),
            &RevocationData::default(),
            Usage::DocumentSigning,
            false,
        );
        assert_eq!(r.status.code(), "expired");
    }

    /// The cache must give the same verdicts as parsing every time, across calls and times,
    /// and must not mix up CRLs of different issuers.
    #[test]
    fn cached_validation_agrees_with_uncached() {
        let pki = TestPki::new();
        let revoked_at = datetime!(2025-06-01 12:00 UTC);
        let inter_crl = crl(
            &pki.inter,
            datetime!(2025-06-02 0:00 UTC),
            datetime!(2025-07-02 0:00 UTC),
            vec![revoke(&pki.signer.cert, revoked_at, 1)],
        );
        let root_crl = crl(
            &pki.root,
            datetime!(2025-01-01 0:00 UTC),
            datetime!(2026-01-01 0:00 UTC),
            vec![],
        );
        let rev = RevocationData {
            crls: vec![inter_crl, root_crl],
            ocsps: vec![],
        };
        let cache = RevocationCache::new();
        let extra = [pki.inter.cert.clone()];
        for at in [MID, datetime!(2025-06-15 0:00 UTC), MID, datetime!(2025-06-15 0:00 UTC)] {
            for cert in [&pki.signer.cert, &pki.tsa.cert] {
                let usage = Usage::Any;
                let plain = validate_path(cert, &extra, &trust(&pki), at, &rev, usage, true);
                let cached = validate_path_cached(cert, &extra, &trust(&pki), at, &rev, usage, true, Some(&cache));
                assert_eq!(plain.status, cached.status, "{at}");
                assert_eq!(plain.revoked_later, cached.revoked_later);
                assert_eq!(plain.revocation.len(), cached.revocation.len());
            }
        }
        let late = validate_path_cached(
            &pki.signer.cert,
            &extra,
            &trust(&pki),
            datetime!(2025-06-15 0:00 UTC),
            &rev,
            Usage::Any,
            true,
            Some(&cache),
        );
        assert!(matches!(late.status, PathStatus::Revoked { .. }), "{:?}", late.status);
    }

    #[test]
    fn revoked_after_t_versus_before_t() {
        let pki = TestPki::new();
        let revoked_at = datetime!(2025-06-01 12:00 UTC);
        let inter_crl = crl(
            &pki.inter,
            datetime!(2025-06-02 0:00 UTC),
            datetime!(2025-07-02 0:00 UTC),
            vec![revoke(&pki.signer.cert, revoked_at, 1)],
        );
        let root_crl = crl(
            &pki.root,
            datetime!(2025-01-01 0:00 UTC),
            datetime!(2026-01-01 0:00 UTC),
            vec![],
        );
        let rev = RevocationData {
            crls: vec![inter_crl.clone(), root_crl],
            ocsps: vec![],
        };

        let after = check(
            &pki,
            &pki.signer.cert,
            datetime!(2025-06-15 0:00 UTC),
            &rev,
            Usage::DocumentSigning,
            true,
        );
        assert_eq!(
            after.status,
            PathStatus::Revoked {
                subject: "CN=署名者 一郎".into(),
                at: revoked_at,
                reason: "keyCompromise".into()
            }
        );

        // Before the revocation: valid at T, and the later revocation is reported for the caller.
        let before = check(&pki, &pki.signer.cert, MID, &rev, Usage::DocumentSigning, true);
        assert_eq!(before.status, PathStatus::Valid, "{:?}", before.status);
        assert_eq!(before.revoked_later, Some((revoked_at, "keyCompromise".to_string())));
        // The later CRL (issued while the signer was still valid) vouches for T.
        assert_eq!(
            before.revocation[0].evidence,
            RevocationEvidence::Crl {
                this_update: datetime!(2025-06-02 0:00 UTC)
            }
        );

        // Without the root's CRL the intermediate is not covered: indeterminate when required.
        let partial = RevocationData {
            crls: vec![inter_crl],
            ocsps: vec![],
        };
        let r = check(&pki, &pki.signer.cert, MID, &partial, Usage::DocumentSigning, true);
        assert!(
            matches!(&r.status, PathStatus::RevocationUnknown(m) if m.contains("Test Intermediate") && !m.contains("署名者")),
            "{:?}",
            r.status
        );
        assert_eq!(
            check(&pki, &pki.signer.cert, MID, &partial, Usage::DocumentSigning, false).status,
            PathStatus::Valid
        );
    }

    #[test]
    fn stale_or_foreign_crls_do_not_cover_t() {
        let pki = TestPki::new();
        let root_crl = crl(&pki.root, T0, T_END, vec![]);
        // Expired before T.
        let stale = crl(
            &pki.inter,
            datetime!(2024-01-01 0:00 UTC),
            datetime!(2024-02-01 0:00 UTC),
            vec![],
        );
        // Signed by the wrong key (the root, though it names... the root).
        let foreign = crl(
            &pki.root,
            datetime!(2025-01-01 0:00 UTC),
            datetime!(2026-01-01 0:00 UTC),
            vec![revoke(&pki.signer.cert, T0, 1)],
        );
        let rev = RevocationData {
            crls: vec![root_crl.clone(), stale, foreign],
            ocsps: vec![],
        };
        let r = check(&pki, &pki.signer.cert, MID, &rev, Usage::DocumentSigning, true);
        assert!(
            matches!(&r.status, PathStatus::RevocationUnknown(m) if m.contains("署名者")),
            "{:?}",
            r.status
        );
        // A current one covers it.
        let current = crl(
            &pki.inter,
            datetime!(2025-02-01 0:00 UTC),
            datetime!(2025-04-01 0:00 UTC),
            vec![],
        );
        let rev = RevocationData {
            crls: vec![root_crl, current, b"garbage".to_vec()],
            ocsps: vec![],
        };
        assert_eq!(
            check(&pki, &pki.signer.cert, MID, &rev, Usage::DocumentSigning, true).status,
            PathStatus::Valid
        );
    }

    #[test]
    fn untrusted_root_and_missing_intermediate() {
        let pki = TestPki::new();
        let other = party(&CertSpec::ca("Other Root", T0, T_END), None);
        let mut wrong = TrustStore::new();
        wrong.add_root(other.cert.clone());
        let none = RevocationData::default();
        let r = validate_path(
            &pki.signer.cert,
            &[pki.inter.cert.clone()],
            &wrong,
            MID,
            &none,
            Usage::DocumentSigning,
            false,
        );
        assert!(matches!(r.status, PathStatus::Untrusted(_)), "{:?}", r.status);
        assert_eq!(r.status.code(), "untrusted-chain");

        let r = validate_path(
            &pki.signer.cert,
            &[],
            &trust(&pki),
            MID,
            &none,
            Usage::DocumentSigning,
            false,
        );
        assert!(matches!(r.status, PathStatus::Untrusted(_)), "{:?}", r.status);
        // The intermediate supplied from the trust store's helpers instead of `extra`.
        let mut t = trust(&pki);
        t.add_intermediate(pki.inter.cert.clone());
        let r = validate_path(&pki.signer.cert, &[], &t, MID, &none, Usage::DocumentSigning, false);
        assert_eq!(r.status, PathStatus::Valid);
        // Trust store from PEM.
        let t = TrustStore::from_pems(
            &[&pki.root.cert.to_pem().unwrap()],
            &[&pki.inter.cert.to_pem().unwrap()],
        )
        .unwrap();
        assert_eq!(
            validate_path(&pki.signer.cert, &[], &t, MID, &none, Usage::DocumentSigning, false).status,
            PathStatus::Valid
        );
        assert!(TrustStore::from_pems(&[b"not pem"], &[]).is_err());
    }

    #[test]
    fn trust_store_from_config_resolves_paths() {
        let pki = TestPki::new();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("roots.pem"), pki.root.cert.to_pem().unwrap()).unwrap();
        std::fs::write(dir.path().join("inter.pem"), pki.inter.cert.to_pem().unwrap()).unwrap();
        let toml = "[tsa]\nurl = 'builtin:demo'\n[trust]\nroots = ['roots.pem']\nintermediates = ['inter.pem']\n[profiles.chart]\n";
        let cfg = Config::from_toml(toml, &dir.path().join("hozon.toml"), dir.path()).unwrap();
        let t = TrustStore::from_config(&cfg).unwrap();
        assert_eq!((t.roots().len(), t.intermediates().len()), (1, 1));
        let r = validate_path(
            &pki.signer.cert,
            &[],
            &t,
            MID,
            &RevocationData::default(),
            Usage::DocumentSigning,
            false,
        );
        assert_eq!(r.status, PathStatus::Valid);
        let bad = "[tsa]\nurl = 'builtin:demo'\n[trust]\nroots = ['missing.pem']\n[profiles.chart]\n";
        let cfg = Config::from_toml(bad, &dir.path().join("hozon.toml"), dir.path()).unwrap();
        assert_eq!(TrustStore::from_config(&cfg).err().unwrap().code(), "pki-io");
    }

    #[test]
    fn key_usage_and_eku() {
        let pki = TestPki::new();
        let none = RevocationData::default();
        let mut spec = CertSpec::new("Encipher only", T0, T_END);
        spec.key_usage = KeyUsageBits {
            key_encipherment: true,
            ..KeyUsageBits::default()
        };
        let enc = party(&spec, Some(&pki.inter));
        let r = check(&pki, &enc.cert, MID, &none, Usage::DocumentSigning, false);
        assert!(
            matches!(&r.status, PathStatus::BadUsage(m) if m.contains("keyEncipherment")),
            "{:?}",
            r.status
        );
        let no_ku = party(&CertSpec::new("No KU", T0, T_END), Some(&pki.inter));
        assert!(matches!(
            check(&pki, &no_ku.cert, MID, &none, Usage::DocumentSigning, false).status,
            PathStatus::BadUsage(_)
        ));
        assert_eq!(
            check(&pki, &no_ku.cert, MID, &none, Usage::Any, false).status,
            PathStatus::Valid
        );

        // TSA: critical timeStamping only.
        assert_eq!(
            check(&pki, &pki.tsa.cert, MID, &none, Usage::TimeStamping, false).status,
            PathStatus::Valid
        );
        assert!(matches!(
            check(&pki, &pki.tsa.cert, MID, &none, Usage::DocumentSigning, false).status,
            PathStatus::BadUsage(_)
        ));
        assert!(matches!(
            check(&pki, &pki.signer.cert, MID, &none, Usage::TimeStamping, false).status,
            PathStatus::BadUsage(_)
        ));
        let mut spec = CertSpec::tsa("TSA non-critical", T0, T_END);
        spec.ext_key_usage_critical = false;
        let soft = party(&spec, Some(&pki.inter));
        let r = check(&pki, &soft.cert, MID, &none, Usage::TimeStamping, false);
        assert!(
            matches!(&r.status, PathStatus::BadUsage(m) if m.contains("not critical")),
            "{:?}",
            r.status
        );
        let mut spec = CertSpec::tsa("TSA two purposes", T0, T_END);
        spec.ext_key_usage.push("1.3.6.1.5.5.7.3.4".into());
        let two = party(&spec, Some(&pki.inter));
        assert!(matches!(
            check(&pki, &two.cert, MID, &none, Usage::TimeStamping, false).status,
            PathStatus::BadUsage(_)
        ));
    }

    #[test]
    fn signer_check_before_signing_gives_reason_codes() {
        let pki = TestPki::new();
        let t = trust(&pki);
        let chain = [pki.inter.cert.clone()];
        assert!(check_signer_before_signing(&pki.signer.cert, &chain, &t, MID).is_ok());
        let code = |r: Result<(), PkiError>| r.unwrap_err().code();
        assert_eq!(
            code(check_signer_before_signing(
                &pki.signer.cert,
                &chain,
                &t,
                datetime!(2030-01-01 0:00 UTC)
            )),
            "signer-expired"
        );
        assert_eq!(
            code(check_signer_before_signing(&pki.signer.cert, &[], &t, MID)),
            "signer-untrusted"
        );
        assert_eq!(
            code(check_signer_before_signing(&pki.tsa.cert, &chain, &t, MID)),
            "signer-key-usage"
        );
        let e = check_signer_before_signing(&pki.signer.cert, &chain, &t, datetime!(2030-01-01 0:00 UTC)).unwrap_err();
        assert!(
            e.to_string().contains("署名者 一郎") && e.to_string().contains("2027-01-01"),
            "{e}"
        );
    }

    #[test]
    fn ocsp_answers_in_path_validation() {
        let Some(dir) = openssl_cli("trust::ocsp_answers_in_path_validation") else {
            return;
        };
        let pki = TestPki::new();
        let responder = party(&CertSpec::ocsp_responder("OCSP", T0, T_END), Some(&pki.inter));
        let req = crate::pki::ocsp::request_der(&pki.signer.cert, &pki.inter.cert).unwrap();
        let now = OffsetDateTime::now_utc();
        let good = crate::pki::ocsp::tests::openssl_ocsp_response(
            dir.path(),
            &req,
            &pki.inter.cert,
            &responder,
            &[&pki.signer.cert],
            &[],
        );
        let root_crl = crl(&pki.root, now - Duration::days(1), now + Duration::days(30), vec![]);
        let rev = RevocationData {
            crls: vec![root_crl.clone()],
            ocsps: vec![good],
        };
        let r = check(
            &pki,
            &pki.signer.cert,
            now - Duration::days(30),
            &rev,
            Usage::DocumentSigning,
            true,
        );
        assert_eq!(r.status, PathStatus::Valid, "{:?}", r.status);
        assert!(matches!(r.revocation[0].evidence, RevocationEvidence::Ocsp { .. }));

        let revoked = crate::pki::ocsp::tests::openssl_ocsp_response(
            dir.path(),
            &req,
            &pki.inter.cert,
            &responder,
            &[],
            &[(&pki.signer.cert, "250401000000Z", "superseded")],
        );
        let rev = RevocationData {
            crls: vec![root_crl],
            ocsps: vec![revoked],
        };
        let r = check(
            &pki,
            &pki.signer.cert,
            datetime!(2025-05-01 0:00 UTC),
            &rev,
            Usage::DocumentSigning,
            true,
        );
        assert_eq!(r.status.code(), "revoked");
        let r = check(&pki, &pki.signer.cert, MID, &rev, Usage::DocumentSigning, true);
        assert_eq!(
            r.revoked_later,
            Some((datetime!(2025-04-01 0:00 UTC), "superseded".to_string()))
        );
    }
}
