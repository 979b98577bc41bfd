//! `HttpTimeStamper`: RFC 3161 over HTTP(S) with one shared keep-alive client, per-request
//! timeouts, bounded retries with exponential backoff on transient failures only (network,
//! 5xx, 429; Retry-After honoured up to a cap), an overall deadline, a response size cap read
//! with a limit, a content-type check, and bounded concurrency. TLS checks cannot be disabled.

use std::io::Read;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};

use super::{TimeStamper, TimestampRequest, TimestampToken, TspError};
use crate::config::{Config, TsaConfig};
use crate::sign::{check_private_file, read_secret, DigestAlg, Secret};

const QUERY_TYPE: &str = "application/timestamp-query";
const REPLY_TYPES: [&str; 2] = ["application/timestamp-reply", "application/timestamp-response"];

/// A counting semaphore bounding requests in flight.
struct Slots {
    free: Mutex<usize>,
    cv: Condvar,
}

struct SlotGuard<'a>(&'a Slots);

impl Slots {
    fn acquire(&self) -> SlotGuard<'_> {
        let mut n = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *n == 0 {
            n = self.cv.wait(n).unwrap_or_else(|p| p.into_inner());
        }
        *n -= 1;
        SlotGuard(self)
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let mut n = self.0.free.lock().unwrap_or_else(|p| p.into_inner());
        *n += 1;
        self.0.cv.notify_one();
    }
}

/// One attempt's failure.
enum Failure {
    /// Worth retrying; with the server's Retry-After when it sent one.
    Transient(String, Option<Duration>),
    Fatal(TspError),
}

/// RFC 3161 client for one configured TSA URL.
pub struct HttpTimeStamper {
    client: Client,
    url: String,
    hash: DigestAlg,
    policy: Option<String>,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
    max_retry_after: Duration,
    deadline: Duration,
    max_response: u64,
    auth: Option<(String, Secret)>,
    slots: Slots,
}

fn secs(v: f64, what: &str) -> Result<Duration, TspError> {
    Duration::try_from_secs_f64(v).map_err(|_| TspError::Config(format!("{what} = {v} is not a duration")))
}

fn config_err(e: impl std::fmt::Display) -> TspError {
    TspError::Config(e.to_string())
}

impl HttpTimeStamper {
    pub fn new(cfg: &TsaConfig, base: &Config) -> Result<Self, TspError> {
        if !(cfg.url.starts_with("http://") || cfg.url.starts_with("https://")) {
            return Err(TspError::Config(format!("{:?} is not an http(s) URL", cfg.url)));
        }
        let hash = DigestAlg::from_name(&cfg.hash).ok_or_else(|| TspError::Config(format!("hash {:?}", cfg.hash)))?;
        let pw_file = cfg.password_file.as_ref().map(|p| base.resolve(p));
        let secret = read_secret(cfg.password_env.as_deref(), pw_file.as_deref())?;
        let mut builder = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_keepalive(Duration::from_secs(30));
        if let Some(ca) = &cfg.tls_ca {
            let pem = std::fs::read(base.resolve(ca)).map_err(config_err)?;
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).map_err(config_err)?);
        }
        if let Some(p12) = &cfg.client_pkcs12 {
            let path = base.resolve(p12);
            check_private_file(&path)?;
            let der = std::fs::read(&path).map_err(config_err)?;
            // The client certificate's password is the TSA password (env or file).
            let pw = secret.as_ref().map(Secret::expose).unwrap_or("");
            let id = reqwest::Identity::from_pkcs12_der(&der, pw)
                .map_err(|_| TspError::Config(format!("{}: cannot open client PKCS#12", path.display())))?;
            builder = builder.identity(id);
        }
        let client = builder.build().map_err(config_err)?;
        let auth = match (&cfg.username, secret) {
            (Some(u), Some(s)) => Some((u.clone(), s)),
            (Some(u), None) => Some((u.clone(), Secret::new(""))),
            (None, _) => None,
        };
        Ok(HttpTimeStamper {
            client,
            url: cfg.url.clone(),
            hash,
            policy: cfg.policy.clone(),
            timeout: secs(cfg.timeout_secs, "timeout_secs")?,
            retries: cfg.retries,
            backoff: Duration::from_millis(cfg.backoff_ms),
            max_retry_after: secs(cfg.max_retry_after_secs, "max_retry_after_secs")?,
            deadline: secs(cfg.deadline_secs, "deadline_secs")?,
            max_response: cfg.max_response_bytes,
            auth,
            slots: Slots {
                free: Mutex::new(cfg.concurrency.max(1)),
                cv: Condvar::new(),
            },
        })
    }

    /// One HTTP exchange; returns the reply body.
    fn attempt(&self, body: &[u8], timeout: Duration) -> Result<Vec<u8>, Failure> {
        let mut rb = self
            .client
            .post(&self.url)
            .header(CONTENT_TYPE, QUERY_TYPE)
            .body(body.to_vec())
            .timeout(timeout);
        if let Some((user, pw)) = &self.auth {
            rb = rb.basic_auth(user, Some(pw.expose()));
        }
        let mut resp = match rb.send() {
            Ok(r) => r,
            Err(e) if e.is_builder() => return Err(Failure::Fatal(TspError::Config(e.to_string()))),
            Err(e) => return Err(Failure::Transient(describe(&e), None)),
        };
        let status = resp.status();
        if status.is_server_error() || status.as_u16() == 429 {
            let ra = resp
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(Failure::Transient(format!("HTTP {status}"), ra));
        }
        if !status.is_success() {
            return Err(Failure::Fatal(TspError::Rejected {
                status: format!("HTTP {status}"),
                text: None,
            }));
        }
        let ctype = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .unwrap_or_default();
        if !REPLY_TYPES.contains(&ctype.as_str()) {
            return Err(Failure::Fatal(TspError::InvalidResponse(format!(
                "content type {ctype:?}"
            ))));
        }
        let too_large = || {
            Failure::Fatal(TspError::InvalidResponse(format!(
                "response larger than {} bytes",
                self.max_response
            )))
        };
        let announced = resp
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > self.max_response) {
            return Err(too_large());
        }
        let mut buf = Vec::new();
        let limit = self.max_response.saturating_add(1);
        match (&mut resp).take(limit).read_to_end(&mut buf) {
            Ok(_) if buf.len() as u64 > self.max_response => Err(too_large()),
            Ok(_) => Ok(buf),
            Err(e) if is_timeout(&e) => Err(Failure::Transient(format!("timed out reading the response: {e}"), None)),
            Err(e) => Err(Failure::Fatal(TspError::InvalidResponse(format!(
                "truncated response: {e}"
            )))),
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) {
        return true;
    }
    let mut src: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|r| r as _);
    while let Some(s) = src {
        if s.downcast_ref::<reqwest::Error>().is_some_and(|r| r.is_timeout()) || s.to_string().contains("timed out") {
            return true;
        }
        src = s.source();
    }
    false
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "network error"
    };
    let mut msg = format!("{kind}: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    msg
}

impl TimeStamper for HttpTimeStamper {
    fn timestamp(&self, alg: DigestAlg, digest: &[u8]) -> Result<TimestampToken, TspError> {
        let start = Instant::now();
        let _slot = self.slots.acquire();
        let req = TimestampRequest::new(alg, digest, self.policy.as_deref())?;
        let mut last = String::from("no attempt made");
        for attempt in 0..=self.retries {
            let left = self.deadline.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Err(TspError::Unavailable(format!(
                    "deadline of {:?} reached; last error: {last}",
                    self.deadline
                )));
            }
            match self.attempt(&req.der, self.timeout.min(left)) {
                Ok(body) => return req.check_response(&body),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Transient(msg, retry_after)) => {
                    last = msg;
                    if attempt == self.retries {
                        break;
                    }
                    let factor = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
                    let mut wait = self.backoff.saturating_mul(factor);
                    if let Some(ra) = retry_after {
                        wait = wait.max(ra.min(self.max_retry_after));
                    }
                    if start.elapsed() + wait >= self.deadline {
                        return Err(TspError::Unavailable(format!(
                            "deadline of {:?} reached before retry; last error: {last}",
                            self.deadline
                        )));
                    }
                    std::thread::sleep(wait);
                }
            }
        }
        Err(TspError::Unavailable(format!(
            "{} attempt(s) failed; last error: {last}",
            self.retries + 1
        )))
    }

    fn hash_algorithm(&self) -> DigestAlg {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    //! Against tests/support/tsa_server.py: OpenSSL's `ts -reply` with injected faults.
    use super::*;
    use crate::sign::test_pki::{self, KeyKind, Usage};
    use std::io::BufRead;
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::sync::OnceLock;

    struct PeerTsa {
        port: u16,
        log: std::path::PathBuf,
        tsa_cert: openssl::x509::X509,
        _child: Mutex<Child>,
    }

    fn have_python_tsa() -> bool {
        let ok = Command::new("python3")
            .args(["-c", "import asn1crypto"])
            .output()
            .is_ok_and(|o| o.status.success())
            && test_pki::peer_available("openssl", "tsa_server.py");
        if !ok {
            if std::env::var("HOZON_REQUIRE_PEERS").as_deref() == Ok("1") {
                panic!("python3 with asn1crypto and openssl are required (HOZON_REQUIRE_PEERS=1)");
            }
            eprintln!("SKIP tsp::http tests: python3 + asn1crypto or openssl not installed");
        }
        ok
    }

    /// One server per test process; it exits when our end of its stdin closes.
    fn peer() -> Option<&'static PeerTsa> {
        static PEER: OnceLock<Option<PeerTsa>> = OnceLock::new();
        PEER.get_or_init(|| {
            if !have_python_tsa() {
                return None;
            }
            let dir = std::env::temp_dir().join(format!("hozon-tsa-test-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let ca = test_pki::ca("テスト TSA ルート");
            let key = test_pki::key(KeyKind::Rsa2048);
            let cert = test_pki::issue(&ca, &key, "テスト TSA", Usage::Tsa);
            std::fs::write(dir.join("tsa.pem"), cert.to_pem().unwrap()).unwrap();
            std::fs::write(dir.join("tsa.key"), key.private_key_to_pem_pkcs8().unwrap()).unwrap();
            std::fs::write(dir.join("inter.pem"), ca.cert.to_pem().unwrap()).unwrap();
            let log = dir.join("requests.jsonl");
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/tsa_server.py");
            let mut child = Command::new("python3")
                .arg(script)
                .arg("--pki")
                .arg(&dir)
                .args([
                    "--port",
                    "0",
                    "--retry-after",
                    "1",
                    "--lifetime",
                    "300",
                    "--log-requests",
                ])
                .arg(&log)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut line = String::new();
            std::io::BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            let port = line.trim().strip_prefix("PORT ").unwrap().parse().unwrap();
            Some(PeerTsa {
                port,
                log,
                tsa_cert: cert,
                _child: Mutex::new(child),
            })
        })
        .as_ref()
    }

    fn client(p: &PeerTsa, fault: &str, id: &str, tweak: impl FnOnce(&mut TsaConfig)) -> HttpTimeStamper {
        let text = "[tsa]\nurl = \"builtin:demo\"\n[profiles.chart]\n";
        let base = Config::from_toml(text, Path::new("t.toml"), Path::new(".")).unwrap();
        let mut cfg = base.tsa.clone();
        cfg.url = format!("http://127.0.0.1:{}/tsa?fault={fault}&id={id}", p.port);
        cfg.timeout_secs = 2.0;
        cfg.retries = 2;
        cfg.backoff_ms = 20;
        cfg.max_retry_after_secs = 0.3;
        cfg.deadline_secs = 10.0;
        tweak(&mut cfg);
        HttpTimeStamper::new(&cfg, &base).unwrap()
    }

    /// Requests the server logged for `id`, waiting briefly for it to settle on `want`.
    fn logged(p: &PeerTsa, id: &str, want: usize) -> usize {
        let tag = format!("id={id}\"");
        let mut n = 0;
        for _ in 0..40 {
            let text = std::fs::read_to_string(&p.log).unwrap_or_default();
            n = text.lines().filter(|l| l.contains(&tag)).count();
            if n == want {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        n
    }

    fn run(c: &HttpTimeStamper) -> (Result<TimestampToken, TspError>, Duration) {
        let t = Instant::now();
        let d = DigestAlg::Sha256
            .digest(format!("signature {:?}", t).as_bytes())
            .unwrap();
        (c.timestamp(DigestAlg::Sha256, &d), t.elapsed())
    }

    fn code(r: &Result<TimestampToken, TspError>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn granted_token_verifies_and_is_kept_raw() {
        let Some(p) = peer() else { return };
        let c = client(p, "none", "ok", |c| c.hash = "sha384".into());
        let d = DigestAlg::Sha384.digest(b"sig").unwrap();
        let tok = c.timestamp(DigestAlg::Sha384, &d).unwrap();
        assert_eq!(
            tok.tsa_certificate().unwrap().to_der().unwrap(),
            p.tsa_cert.to_der().unwrap()
        );
        assert_eq!(tok.info.imprint_alg, DigestAlg::Sha384);
        assert_eq!(TimestampToken::parse(&tok.der).unwrap().der, tok.der);
        assert_eq!(logged(p, "ok", 1), 1);
        let c = client(p, "none", "policy", |c| c.policy = Some("1.3.6.1.4.1.99999.1.2".into()));
        assert_eq!(run(&c).0.unwrap().info.policy, "1.3.6.1.4.1.99999.1.2");
    }

    #[test]
    fn transient_failures_are_retried_exactly_as_configured() {
        let Some(p) = peer() else { return };
        for (fault, id) in [("http500", "r500"), ("reset", "rreset"), ("http503", "r503")] {
            let (r, _) = run(&client(p, fault, id, |_| {}));
            assert_eq!(code(&r), "tsa-unavailable", "{fault}");
            assert_eq!(logged(p, id, 3), 3, "{fault}: 1 try + 2 retries");
        }
        let (r, _) = run(&client(p, "flaky-2", "flaky2", |_| {}));
        assert_eq!(code(&r), "ok");
        assert_eq!(logged(p, "flaky2", 3), 3);
        let (r, _) = run(&client(p, "flaky-3", "flaky3", |_| {}));
        assert_eq!(code(&r), "tsa-unavailable");
        let (r, _) = run(&client(p, "flaky-1", "noretry", |c| c.retries = 0));
        assert_eq!(code(&r), "tsa-unavailable");
        assert_eq!(logged(p, "noretry", 1), 1);
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let Some(p) = peer() else { return };
        // Server says Retry-After: 1; the cap is 0.3 s; backoff alone would be 20 ms.
        let (r, took) = run(&client(p, "http429", "r429", |c| c.retries = 1));
        assert_eq!(code(&r), "tsa-unavailable");
        assert_eq!(logged(p, "r429", 2), 2);
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_millis(950),
            "{took:?}"
        );
    }

    #[test]
    fn timeouts_and_deadline_bound_the_time_spent() {
        let Some(p) = peer() else { return };
        let (r, took) = run(&client(p, "timeout", "tmo", |c| {
            c.timeout_secs = 0.4;
            c.retries = 1;
        }));
        assert_eq!(code(&r), "tsa-unavailable");
        assert!(took < Duration::from_millis(1500), "{took:?}");
        assert_eq!(logged(p, "tmo", 2), 2);
        let (r, took) = run(&client(p, "http500", "deadline", |c| {
            c.retries = 50;
            c.backoff_ms = 100;
            c.deadline_secs = 0.5;
        }));
        assert_eq!(code(&r), "tsa-unavailable");
        assert!(took < Duration::from_millis(900), "{took:?}");
        assert!(logged(p, "deadline", 3) <= 3);
        let (r, took) = run(&client(p, "slow-drip", "drip", |c| {
            c.timeout_secs = 1.0;
            c.retries = 0;
        }));
        assert_eq!(code(&r), "tsa-unavailable", "{r:?}");
        assert!(took < Duration::from_millis(2000), "{took:?}");
    }

    #[test]
    fn bad_replies_are_invalid_and_not_retried() {
        let Some(p) = peer() else { return };
        for (fault, want) in [
            ("garbage", "tsa-invalid-response"),
            ("wrong-content-type", "tsa-invalid-response"),
            ("truncated", "tsa-invalid-response"),
            ("wrong-nonce", "tsa-invalid-response"),
            ("wrong-imprint", "tsa-invalid-response"),
            ("no-nonce", "tsa-invalid-response"),
            ("no-eku", "tsa-invalid-response"),
            ("huge-body", "tsa-invalid-response"),
            ("rejection", "tsa-rejected"),
            ("waiting", "tsa-rejected"),
        ] {
            let id = format!("bad-{fault}");
            let (r, took) = run(&client(p, fault, &id, |c| {
                c.max_response_bytes = 64 * 1024;
                c.timeout_secs = 8.0;
            }));
            assert_eq!(code(&r), want, "{fault}: {r:?}");
            assert_eq!(logged(p, &id, 1), 1, "{fault} must not be retried");
            assert!(took < Duration::from_secs(8), "{fault}: {took:?}");
            let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
            match fault {
                "wrong-nonce" => assert!(msg.contains("nonce mismatch"), "{msg}"),
                "no-nonce" => assert!(msg.contains("no nonce"), "{msg}"),
                "wrong-imprint" => assert!(msg.contains("imprint"), "{msg}"),
                "no-eku" => assert!(msg.contains("extendedKeyUsage"), "{msg}"),
                "waiting" => assert!(msg.contains("waiting"), "{msg}"),
                "huge-body" => assert!(msg.contains("larger than"), "{msg}"),
                _ => {}
            }
        }
    }

    /// Trust is `pki`'s decision: the client accepts a well-formed token from an unknown TSA
    /// but hands back its certificate, which is not the configured TSA's.
    #[test]
    fn untrusted_tsa_token_is_returned_with_its_foreign_certificate() {
        let Some(p) = peer() else { return };
        let (r, _) = run(&client(p, "untrusted-tsa", "untrusted", |_| {}));
        let tok = r.unwrap();
        assert_ne!(
            tok.tsa_certificate().unwrap().to_der().unwrap(),
            p.tsa_cert.to_der().unwrap()
        );
    }
}
