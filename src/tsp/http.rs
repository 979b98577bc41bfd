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
            slots: Slots { free: Mutex::new(cfg.concurrency.max(1)), cv: Condvar::new() },
        })
    }

    /// One HTTP exchange; returns the reply body.
    fn attempt(&self, body: &[u8], timeout: Duration) -> Result<Vec<u8>, Failure> {
        let mut rb = self.client.post(&self.url).header(CONTENT_TYPE, QUERY_TYPE).body(body.to_vec()).timeout(timeout);
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
            return Err(Failure::Fatal(TspError::Rejected { status: format!("HTTP {status}"), text: None }));
        }
        let ctype = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .unwrap_or_default();
        if !REPLY_TYPES.contains(&ctype.as_str()) {
            return Err(Failure::Fatal(TspError::InvalidResponse(format!("content type {ctype:?}"))));
        }
        let too_large =
            || Failure::Fatal(TspError::InvalidResponse(format!("response larger than {} bytes", self.max_response)));
        let announced =
            resp.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > self.max_response) {
            return Err(too_large());
        }
        let mut buf = Vec::new();
        let limit = self.max_response.saturating_add(1);
        match (&mut resp).take(limit).read_to_end(&mut buf) {
            Ok(_) if buf.len() as u64 > self.max_response => Err(too_large()),
            Ok(_) => Ok(buf),
            Err(e) if is_timeout(&e) => Err(Failure::Transient(format!("timed out reading the response: {e}"), None)),
            Err(e) => Err(Failure::Fatal(TspError::InvalidResponse(format!("truncated response: {e}")))),
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
        Err(TspError::Unavailable(format!("{} attempt(s) failed; last error: {last}", self.retries + 1)))
    }

    fn hash_algorithm(&self) -> DigestAlg {
        self.hash
    }
}
