//! Offline revocation sources: CRLs read from a folder (the demo PKI's `crl/`, or CRLs an
//! operator downloaded; only CRLs whose signature verifies with the issuer's key are returned),
//! and the demo PKI's OCSP responses, made on the spot by its root without a server.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;
use std::sync::Arc;

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

use super::{RevError, RevocationSource};
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
    fn crls_for(&self, _cert: &X509, issuer: &X509) -> Result<Vec<Vec<u8>>, RevError> {
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

    fn ocsp_for(&self, _cert: &X509, _issuer: &X509) -> Result<Option<Vec<u8>>, RevError> {
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
}

impl DemoRevocationSource {
    pub fn new(demo: &DemoPki, clock: Arc<dyn Clock>) -> DemoRevocationSource {
        DemoRevocationSource {
            root: demo.root.clone(),
            responder: (demo.ocsp_certificate.clone(), demo.ocsp_key.clone()),
            clock,
            crls: DirRevocationSource::new(&demo.crl_dir),
        }
    }
}

impl RevocationSource for DemoRevocationSource {
    fn crls_for(&self, cert: &X509, issuer: &X509) -> Result<Vec<Vec<u8>>, RevError> {
        self.crls.crls_for(cert, issuer)
    }

    fn ocsp_for(&self, cert: &X509, _issuer: &X509) -> Result<Option<Vec<u8>>, RevError> {
        let (responder, key) = &self.responder;
        crate::pki::demo::ocsp_response(&self.root, (responder, key), cert, self.clock.now())
            .map_err(|e| RevError::Unusable(format!("demo OCSP: {e}")))
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
            src.crls_for(&pki.signer.cert, &pki.inter.cert).unwrap(),
            vec![inter_crl]
        );
        assert_eq!(src.crls_for(&pki.inter.cert, &pki.root.cert).unwrap(), vec![root_crl]);
        assert_eq!(src.ocsp_for(&pki.signer.cert, &pki.inter.cert).unwrap(), None);
        let missing = DirRevocationSource::new(&dir.path().join("nope"));
        assert_eq!(
            missing.crls_for(&pki.signer.cert, &pki.inter.cert).unwrap_err().code(),
            "rev-io"
        );
    }
}
