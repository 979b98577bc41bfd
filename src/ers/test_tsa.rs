//! Test-only timestamping: unsigned fake tokens for structure tests, and a throw-away openssl
//! TSA (own root + TSA certificate with critical EKU timeStamping) usable as a [`RootStamper`],
//! as a [`TokenCheck`] (`openssl ts -verify`) and over HTTP on 127.0.0.1 for BouncyCastle.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use rasn::prelude::*;
use rasn_cms::tsp::{MessageImprint, TstInfo};
use rasn_cms::{ContentInfo, EncapsulatedContentInfo, SignedData};
use time::OffsetDateTime;

use super::token::read_token;
use super::{DigestAlgorithm, ErsError, RootStamper, TokenCheck};

pub fn peers_required() -> bool {
    std::env::var("HOZON_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// Skip (loudly) or, under HOZON_REQUIRE_PEERS=1, fail.
pub fn skip(what: &str) {
    if peers_required() {
        panic!("{what} is required (HOZON_REQUIRE_PEERS=1) but not available");
    }
    eprintln!("\n*** SKIP: {what} not installed; this check did not run ***\n");
}

/// An unsigned but well-formed TimeStampToken over `digest` (genTime like "20260102030405Z").
pub fn fake_token(alg: DigestAlgorithm, digest: &[u8], gen_time: &str) -> Vec<u8> {
    let mut gt = vec![0x18, gen_time.len() as u8];
    gt.extend_from_slice(gen_time.as_bytes());
    let tst = TstInfo {
        version: 1.into(),
        policy: ObjectIdentifier::new_unchecked(vec![1, 3, 6, 1, 4, 1, 99999, 1, 1].into()),
        message_imprint: MessageImprint {
            hash_algorithm: alg.identifier(),
            hashed_message: OctetString::from(digest.to_vec()),
        },
        serial_number: 7.into(),
        gen_time: rasn::der::decode(&gt).unwrap(),
        accuracy: None,
        ordering: false,
        nonce: None,
        tsa: None,
        extensions: None,
    };
    let sd = SignedData {
        version: 3.into(),
        digest_algorithms: SetOf::new(),
        encap_content_info: EncapsulatedContentInfo {
            content_type: ObjectIdentifier::new_unchecked(vec![1, 2, 840, 113549, 1, 9, 16, 1, 4].into()),
            content: Some(OctetString::from(rasn::der::encode(&tst).unwrap())),
        },
        certificates: None,
        crls: None,
        signer_infos: SetOf::new(),
    };
    let ci = ContentInfo {
        content_type: ObjectIdentifier::new_unchecked(vec![1, 2, 840, 113549, 1, 7, 2].into()),
        content: Any::new(rasn::der::encode(&sd).unwrap()),
    };
    rasn::der::encode(&ci).unwrap()
}

/// Stamps with fake tokens at a fixed time; counts calls.
pub struct FakeStamper {
    pub gen_time: &'static str,
    pub calls: AtomicUsize,
}

impl FakeStamper {
    pub fn at(gen_time: &'static str) -> Self {
        FakeStamper {
            gen_time,
            calls: AtomicUsize::new(0),
        }
    }
}

impl RootStamper for FakeStamper {
    fn stamp(&self, alg: DigestAlgorithm, digest: &[u8]) -> Result<Vec<u8>, ErsError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(fake_token(alg, digest, self.gen_time))
    }
}

/// Accepts any well-formed token (structure tests only).
pub struct TrustAnyToken;

impl TokenCheck for TrustAnyToken {
    fn check(&self, token_der: &[u8], _at: OffsetDateTime) -> Result<OffsetDateTime, ErsError> {
        Ok(read_token(token_der)?.gen_time)
    }
}

fn openssl(args: &[&str], dir: &Path) -> Result<(), String> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("openssl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// A throw-away openssl TSA in its own temporary directory.
pub struct TestTsa {
    _dir: tempfile::TempDir,
    pub dir: PathBuf,
    pub root_pem: PathBuf,
    seq: AtomicUsize,
    lock: Mutex<()>,
    /// `http://127.0.0.1:PORT/` once `url()` has started the server.
    url: OnceLock<String>,
    /// Tokens issued so far (for counting TSA requests).
    pub issued: AtomicUsize,
}

impl TestTsa {
    /// The TSA shared by all tests of this process, or None (SKIP printed) without openssl.
    pub fn shared() -> Option<&'static TestTsa> {
        static SHARED: OnceLock<Option<TestTsa>> = OnceLock::new();
        SHARED.get_or_init(|| Self::create("hozon ERS テスト TSA")).as_ref()
    }

    /// A second, unrelated PKI (its root does not trust the shared TSA).
    pub fn other() -> Option<&'static TestTsa> {
        static OTHER: OnceLock<Option<TestTsa>> = OnceLock::new();
        OTHER.get_or_init(|| Self::create("unrelated TSA")).as_ref()
    }

    fn create(name: &str) -> Option<TestTsa> {
        if Command::new("openssl").arg("version").output().is_err() {
            skip("openssl CLI");
            return None;
        }
        let tmp = tempfile::tempdir().ok()?;
        let dir = tmp.path().to_path_buf();
        let ext = "[req]\ndistinguished_name=dn\nstring_mask=utf8only\nutf8=yes\n[dn]\n\
                   [v3_root]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
                   subjectKeyIdentifier=hash\n\
                   [v3_tsa]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n\
                   extendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";
        std::fs::write(dir.join("ext.cnf"), ext).ok()?;
        let tsa_cnf = format!(
            "[tsa]\ndefault_tsa=tsa1\n[tsa1]\nserial={d}/serial\ncrypto_device=builtin\n\
             signer_cert={d}/tsa.pem\nsigner_key={d}/tsa.key\nsigner_digest=sha256\n\
             default_policy=1.3.6.1.4.1.99999.1.1\ndigests=sha256,sha384,sha512\naccuracy=secs:1\n\
             clock_precision_digits=3\nordering=no\ntsa_name=yes\ness_cert_id_chain=no\ness_cert_id_alg=sha256\n",
            d = dir.display()
        );
        std::fs::write(dir.join("tsa.cnf"), tsa_cnf).ok()?;
        std::fs::write(dir.join("serial"), "01\n").ok()?;
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        let steps: Vec<Vec<String>> = vec![
            [
                &["req", "-x509", "-utf8"][..],
                &ec,
                &[
                    "-keyout",
                    "root.key",
                    "-out",
                    "root.pem",
                    "-days",
                    "3650",
                    "-subj",
                    &format!("/CN={name} root"),
                    "-config",
                    "ext.cnf",
                    "-extensions",
                    "v3_root",
                ],
            ]
            .concat()
            .iter()
            .map(|s| s.to_string())
            .collect(),
            [
                &["req", "-new", "-utf8"][..],
                &ec,
                &[
                    "-keyout",
                    "tsa.key",
                    "-out",
                    "tsa.csr",
                    "-subj",
                    &format!("/CN={name}"),
                    "-config",
                    "ext.cnf",
                ],
            ]
            .concat()
            .iter()
            .map(|s| s.to_string())
            .collect(),
            [
                "x509",
                "-req",
                "-in",
                "tsa.csr",
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-CAcreateserial",
                "-days",
                "400",
                "-extfile",
                "ext.cnf",
                "-extensions",
                "v3_tsa",
                "-out",
                "tsa.pem",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ];
        for s in &steps {
            let args: Vec<&str> = s.iter().map(String::as_str).collect();
            if let Err(e) = openssl(&args, &dir) {
                panic!("making the test PKI failed: {e}");
            }
        }
        Some(TestTsa {
            root_pem: dir.join("root.pem"),
            dir,
            _dir: tmp,
            seq: AtomicUsize::new(0),
            lock: Mutex::new(()),
            url: OnceLock::new(),
            issued: AtomicUsize::new(0),
        })
    }

    fn fresh(&self, ext: &str) -> PathBuf {
        self.dir
            .join(format!("f{}.{ext}", self.seq.fetch_add(1, Ordering::SeqCst)))
    }

    /// `openssl ts -reply` over a query file; `token` picks token or full response output.
    fn reply(&self, query: &Path, token: bool) -> Result<Vec<u8>, String> {
        let out = self.fresh(if token { "tok" } else { "tsr" });
        let cnf = self.dir.join("tsa.cnf");
        let mut args = vec![
            "ts",
            "-reply",
            "-config",
            cnf.to_str().unwrap_or_default(),
            "-queryfile",
            query.to_str().unwrap_or_default(),
            "-out",
            out.to_str().unwrap_or_default(),
        ];
        if token {
            args.push("-token_out");
        }
        {
            let _g = self.lock.lock().map_err(|e| e.to_string())?;
            openssl(&args, &self.dir)?;
        }
        self.issued.fetch_add(1, Ordering::SeqCst);
        std::fs::read(out).map_err(|e| e.to_string())
    }

    /// The TSA over HTTP (RFC 3161 POST) on 127.0.0.1, started on first use.
    pub fn url(&'static self) -> &'static str {
        self.url.get_or_init(|| {
            let server = tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1");
            let port = server.server_addr().to_ip().map(|a| a.port()).unwrap_or(0);
            std::thread::spawn(move || {
                for mut req in server.incoming_requests() {
                    let mut body = Vec::new();
                    let _ = std::io::Read::read_to_end(&mut req.as_reader(), &mut body);
                    let q = self.fresh("tsq");
                    let resp = std::fs::write(&q, &body)
                        .map_err(|e| e.to_string())
                        .and_then(|_| self.reply(&q, false));
                    let _ = match resp {
                        Ok(r) => {
                            let h = tiny_http::Header::from_bytes("Content-Type", "application/timestamp-reply");
                            let mut resp = tiny_http::Response::from_data(r);
                            if let Ok(h) = h {
                                resp.add_header(h);
                            }
                            req.respond(resp)
                        }
                        Err(e) => req.respond(tiny_http::Response::from_string(e).with_status_code(500)),
                    };
                }
            });
            format!("http://127.0.0.1:{port}/")
        })
    }
}

impl RootStamper for TestTsa {
    fn stamp(&self, alg: DigestAlgorithm, digest: &[u8]) -> Result<Vec<u8>, ErsError> {
        let q = self.fresh("tsq");
        let hex = hex::encode(digest);
        let flag = format!("-{}", alg.name());
        openssl(
            &[
                "ts",
                "-query",
                "-digest",
                &hex,
                &flag,
                "-cert",
                "-out",
                q.to_str().unwrap_or_default(),
            ],
            &self.dir,
        )
        .map_err(ErsError::Stamper)?;
        self.reply(&q, true).map_err(ErsError::Stamper)
    }
}

/// `openssl ts -verify` against one root, at the requested time.
pub struct OpensslCheck {
    pub root_pem: PathBuf,
    pub work: PathBuf,
}

impl OpensslCheck {
    pub fn trusting(tsa: &TestTsa) -> Self {
        OpensslCheck {
            root_pem: tsa.root_pem.clone(),
            work: tsa.dir.clone(),
        }
    }
}

impl TokenCheck for OpensslCheck {
    fn check(&self, token_der: &[u8], at: OffsetDateTime) -> Result<OffsetDateTime, ErsError> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let info = read_token(token_der)?;
        let f = self.work.join(format!("chk{}.tok", SEQ.fetch_add(1, Ordering::SeqCst)));
        std::fs::write(&f, token_der).map_err(|e| ErsError::Stamper(e.to_string()))?;
        let out = Command::new("openssl")
            .args(["ts", "-verify", "-token_in", "-in"])
            .arg(&f)
            .args(["-digest", &hex::encode(&info.imprint), "-CAfile"])
            .arg(&self.root_pem)
            .args(["-attime", &at.unix_timestamp().to_string()])
            .output()
            .map_err(|e| ErsError::Stamper(e.to_string()))?;
        let _ = std::fs::remove_file(&f);
        if out.status.success() {
            Ok(info.gen_time)
        } else {
            Err(ErsError::TimestampInvalid {
                index: 0,
                reason: String::from_utf8_lossy(&out.stderr).into_owned(),
            })
        }
    }
}
