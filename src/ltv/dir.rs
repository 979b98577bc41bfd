//! Offline revocation sources: CRLs read from a folder (the demo PKI's `crl/`, or CRLs an
//! operator downloaded; only CRLs whose signature verifies with the issuer's key are returned),
//! and the demo PKI's OCSP responses, made on the spot by its root without a server.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::SystemTime;

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use time::OffsetDateTime;

use super::{FetchScope, RevError, RevocationSource};
use crate::clock::Clock;
use crate::pki::crl::{Crl, MAX_CRL_BYTES};
use crate::pki::DemoPki;

/// At most this many files are looked at (a folder of CRLs, not an archive).
const MAX_FILES: usize = 1000;

pub struct DirRevocationSource {
    dir: PathBuf,
    /// The last answer per issuer, with the folder listing it was read from: a batch asks for
    /// the same issuers' CRLs for every document, and parsing and verifying them each time cost
    /// a tenth of an ingest. Any change of a file's name, size or mtime reads the folder again.
    memo: Mutex<HashMap<Vec<u8>, (Listing, Vec<Vec<u8>>)>>,
}

/// (path, size, mtime) of each CRL file considered.
type Listing = Vec<(PathBuf, u64, Option<SystemTime>)>;

impl DirRevocationSource {
    pub fn new(dir: &Path) -> DirRevocationSource {
        DirRevocationSource {
            dir: dir.to_path_buf(),
            memo: Mutex::new(HashMap::new()),
        }
    }

    fn listing(&self) -> Result<Listing, RevError> {
        let io = |e: std::io::Error| RevError::Io {
            path: self.dir.display().to_string(),
            message: e.to_string(),
        };
        let mut names: Vec<PathBuf> = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)?.take(MAX_FILES) {
            let path = entry.map_err(io)?.path();
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            if matches!(ext.as_str(), "crl" | "der" | "pem") {
                names.push(path);
            }
        }
        names.sort();
        Ok(names
            .into_iter()
            .filter_map(|path| {
                let meta = std::fs::metadata(&path).ok()?;
                (meta.is_file() && meta.len() <= MAX_CRL_BYTES as u64).then(|| {
                    let (len, modified) = (meta.len(), meta.modified().ok());
                    (path, len, modified)
                })
            })
            .collect())
    }
}

impl RevocationSource for DirRevocationSource {
    fn crls_for(&self, _cert: &X509, issuer: &X509, _scope: &FetchScope) -> Result<Vec<Vec<u8>>, RevError> {
        let listing = self.listing()?;
        let key = issuer.to_der().unwrap_or_default();
        if let Some((seen, crls)) = self.memo.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            if *seen == listing {
                return Ok(crls.clone());
            }
        }
        let mut out = Vec::new();
        for (path, _, _) in &listing {
            let Ok(bytes) = std::fs::read(path) else {
                continue;
            };
            if let Ok(crl) = Crl::from_bytes(&bytes) {
                if crl.is_issued_by(issuer) {
                    out.push(crl.der);
                }
            }
        }
        if !key.is_empty() {
            let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
            if memo.len() >= 64 {
                memo.clear();
            }
            memo.insert(key, (listing, out.clone()));
        }
        Ok(out)
    }

    fn ocsp_for(&self, _cert: &X509, _issuer: &X509, _scope: &FetchScope) -> Result<Option<Vec<u8>>, RevError> {
        Ok(None)
    }
}

/// The demo PKI: an OCSP response per certificate at the clock's time (simulated time too),
/// signed by the demo root, and the root's CRL from the demo folder. `ltv::collect` prefers the
/// OCSP answer, so DSS entries speak for one certificate each.
pub struct DemoRevocationSource {
    root: X509,
    responder: (X509, PKey<Private>),
    clock: Arc<dyn Clock>,
    crls: DirRevocationSource,
    /// Responses per certificate (DER) with the clock time they were made: like an RFC 5019
    /// responder, one response serves every request for a short while instead of an RSA
    /// signature per document (that was a fifth of an ingest's CPU).
    made: Mutex<HashMap<Vec<u8>, (OffsetDateTime, Option<Vec<u8>>)>>,
}

/// How long a made response is handed out again. Its thisUpdate is backdated by minutes, so
/// it still predates every signature made while it is reused.
const OCSP_REUSE: time::Duration = time::Duration::seconds(60);

impl DemoRevocationSource {
    pub fn new(demo: &DemoPki, clock: Arc<dyn Clock>) -> DemoRevocationSource {
        DemoRevocationSource {
            root: demo.root.clone(),
            responder: (demo.ocsp_certificate.clone(), demo.ocsp_key.clone()),
            clock,
            crls: DirRevocationSource::new(&demo.crl_dir),
            made: Mutex::new(HashMap::new()),
        }
    }
}

impl RevocationSource for DemoRevocationSource {
    fn crls_for(&self, cert: &X509, issuer: &X509, scope: &FetchScope) -> Result<Vec<Vec<u8>>, RevError> {
        self.crls.crls_for(cert, issuer, scope)
    }

    fn ocsp_for(&self, cert: &X509, _issuer: &X509, _scope: &FetchScope) -> Result<Option<Vec<u8>>, RevError> {
        let now = self.clock.now();
        let key = cert.to_der().unwrap_or_default();
        let fresh = |made: OffsetDateTime| made <= now && now < made + OCSP_REUSE;
        if let Some((made, der)) = self.made.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            if fresh(*made) {
                return Ok(der.clone());
            }
        }
        let (responder, key_pair) = &self.responder;
        let der = crate::pki::demo::ocsp_response(&self.root, (responder, key_pair), cert, now)
            .map_err(|e| RevError::Unusable(format!("demo OCSP: {e}")))?;
        // Near the certificate's end a response's nextUpdate is cut short: make those afresh.
        let far_from_end = openssl::asn1::Asn1Time::from_unix((now + time::Duration::hours(2)).unix_timestamp())
            .is_ok_and(|t| cert.not_after() > t);
        let mut made = self.made.lock().unwrap_or_else(|p| p.into_inner());
        made.retain(|_, (t, _)| fresh(*t));
        if far_from_end {
            made.insert(key, (now, der.clone()));
        }
        Ok(der)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::crl::{issue_crl, CrlSpec};
    use crate::pki::fixtures::{TestPki, T0, T_END};

    #[test]
    fn serves_only_the_issuers_crls() {
        let pki = TestPki::new();
        let dir = tempfile::tempdir().unwrap();
        let spec = CrlSpec {
            this_update: T0,
            next_update: Some(T_END),
            number: 1,
            revoked: vec![],
        };
        let inter_crl = issue_crl(&spec, &pki.inter.cert, &pki.inter.key).unwrap();
        let root_crl = issue_crl(&spec, &pki.root.cert, &pki.root.key).unwrap();
        std::fs::write(dir.path().join("inter.crl"), &inter_crl).unwrap();
        std::fs::write(dir.path().join("root.der"), &root_crl).unwrap();
        std::fs::write(dir.path().join("junk.crl"), b"not a crl").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"ignored").unwrap();
        let src = DirRevocationSource::new(dir.path());
        assert_eq!(
            src.crls_for(&pki.signer.cert, &pki.inter.cert, &FetchScope::new()).unwrap(),
            vec![inter_crl]
        );
        assert_eq!(src.crls_for(&pki.inter.cert, &pki.root.cert, &FetchScope::new()).unwrap(), vec![root_crl]);
        assert_eq!(src.ocsp_for(&pki.signer.cert, &pki.inter.cert, &FetchScope::new()).unwrap(), None);
        let missing = DirRevocationSource::new(&dir.path().join("nope"));
        assert_eq!(
            missing.crls_for(&pki.signer.cert, &pki.inter.cert, &FetchScope::new()).unwrap_err().code(),
            "rev-io"
        );
    }
}

#[cfg(test)]
mod demo_tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    /// A clock the test moves by hand (seconds after a fixed start).
    struct Hand(AtomicI64);
    impl Clock for Hand {
        fn now(&self) -> OffsetDateTime {
            time::macros::datetime!(2026-11-27 09:00 UTC) + time::Duration::seconds(self.0.load(Ordering::SeqCst))
        }
    }

    #[test]
    fn demo_ocsp_responses_are_reused_for_a_minute_only() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(Hand(AtomicI64::new(0)));
        let demo = DemoPki::ensure(dir.path(), "http://127.0.0.1:9", clock.as_ref()).unwrap();
        let src = DemoRevocationSource::new(&demo, clock.clone());
        let (signer, tsa) = (&demo.signer_certificate, &demo.tsa_certificate);
        let first = src.ocsp_for(signer, &demo.root, &FetchScope::new()).unwrap().expect("a response");
        clock.0.store(59, Ordering::SeqCst);
        assert_eq!(
            src.ocsp_for(signer, &demo.root, &FetchScope::new()).unwrap().as_ref(),
            Some(&first),
            "reused within the minute"
        );
        let other = src.ocsp_for(tsa, &demo.root, &FetchScope::new()).unwrap().expect("a response");
        assert_ne!(other, first, "each certificate gets its own response");
        let answer = crate::pki::ocsp::check_signature_only(&other, tsa, &demo.root)
            .unwrap()
            .expect("answers for the TSA");
        assert_eq!(
            answer.this_update,
            clock.now() - time::Duration::minutes(10),
            "made at the clock's time, backdated"
        );
        clock.0.store(60, Ordering::SeqCst);
        let later = src.ocsp_for(signer, &demo.root, &FetchScope::new()).unwrap().expect("a response");
        assert_ne!(later, first, "made afresh after a minute");
        clock.0.store(30, Ordering::SeqCst);
        assert_ne!(
            src.ocsp_for(signer, &demo.root, &FetchScope::new()).unwrap().expect("a response"),
            later,
            "a clock set back is not trusted with newer responses"
        );
    }
}
