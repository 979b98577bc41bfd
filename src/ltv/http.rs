//! Revocation data over HTTP: CRLs from the certificate's distribution points (GET) and OCSP
//! from its AIA responder (POST application/ocsp-request), with a timeout, a size cap and a
//! per-run cache so each URL (or OCSP request) is fetched once even when asked from threads.
//! Bounded: only URLs the address policy allows (`address`), no redirects followed, and all
//! of one file's requests under one deadline (`scope`), the URLs of a certificate in parallel.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use openssl::x509::X509;
use sha2::{Digest, Sha256};

use super::address::{refusal_in, AddressPolicy};
use super::scope::{in_parallel, FetchAttempt, FetchScope};
use super::{RevError, RevocationSource};
use crate::config::RevocationConfig;
use crate::pki::extensions::{crl_urls, ocsp_urls};
use crate::pki::ocsp::request_der;

/// A hostile certificate may list many URLs; only the first few are tried.
const MAX_URLS: usize = 4;

type Fetched = Result<Arc<Vec<u8>>, RevError>;

/// A fetch's result and how long it took (ms), as the cache keeps it.
type Done = (Fetched, u64);

pub struct HttpRevocationSource {
    timeout: Duration,
    /// All of one file's fetches together (`FetchScope`).
    deadline: Duration,
    policy: AddressPolicy,
    /// Built on first use: a client loads the system's TLS roots and starts a runtime thread,
    /// which a run whose certificates all have local revocation data never needs.
    client: OnceLock<Result<reqwest::blocking::Client, String>>,
    max_bytes: u64,
    /// One cell per URL/request: the first asker fetches, later ones wait for and share it.
    cache: Mutex<HashMap<String, Arc<OnceLock<Done>>>>,
}

fn positive_secs(v: f64, default: f64) -> Duration {
    Duration::from_secs_f64(if v.is_finite() && v > 0.0 { v } else { default })
}

impl HttpRevocationSource {
    pub fn new(cfg: &RevocationConfig) -> Result<HttpRevocationSource, RevError> {
        let mut s = HttpRevocationSource::with_limits(positive_secs(cfg.timeout_secs, 10.0), cfg.max_response_bytes)?;
        s.deadline = positive_secs(cfg.deadline_secs, 20.0);
        s.policy = AddressPolicy::new(cfg.allow_private_addresses);
        Ok(s)
    }

    /// Public addresses only, a file's deadline of twice `timeout`.
    pub fn with_limits(timeout: Duration, max_bytes: u64) -> Result<HttpRevocationSource, RevError> {
        Ok(HttpRevocationSource {
            timeout,
            deadline: timeout * 2,
            policy: AddressPolicy::new(false),
            client: OnceLock::new(),
            max_bytes,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Fetch from private addresses too (`revocation.allow_private_addresses`).
    pub fn allowing_private_addresses(mut self) -> HttpRevocationSource {
        self.policy = AddressPolicy::new(true);
        self
    }

    /// Allow private addresses for URLs on `base_url`'s origin (the demo PKI's responder).
    pub fn trusting_origin(mut self, base_url: &str) -> HttpRevocationSource {
        self.policy.trust_origin(base_url);
        self
    }

    /// One file's fetches end after `deadline` altogether.
    pub fn with_deadline(mut self, deadline: Duration) -> HttpRevocationSource {
        self.deadline = deadline;
        self
    }

    /// The HTTP client, built by the first fetch.
    fn client(&self, url: &str) -> Result<&reqwest::blocking::Client, RevError> {
        self.client
            .get_or_init(|| {
                reqwest::blocking::Client::builder()
                    .timeout(self.timeout)
                    .connect_timeout(self.timeout)
                    // A redirect could lead anywhere the certificate's URL could not.
                    .redirect(reqwest::redirect::Policy::none())
                    .dns_resolver(self.policy.resolver())
                    .user_agent(concat!("hozon/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|message| RevError::Network {
                url: url.to_string(),
                message: message.clone(),
            })
    }

    /// Fetch `url` once per run (`key` names the request) within `scope`'s deadline, logging
    /// the attempt there. A fetch the deadline cut short is not kept: a later file with time
    /// left tries again.
    fn fetch(
        &self,
        key: String,
        url: &str,
        scope: &FetchScope,
        request: impl FnOnce(&reqwest::blocking::Client) -> reqwest::blocking::RequestBuilder,
    ) -> Fetched {
        let cell = {
            let mut map = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key.clone()).or_default().clone()
        };
        let mut fetched_here = false;
        let remaining = (scope.started() + self.deadline).saturating_duration_since(Instant::now());
        let (result, ms, from_cache) = match cell.get() {
            Some((r, ms)) => (r.clone(), *ms, true),
            None if remaining.is_zero() => (Err(RevError::Deadline { url: url.to_string() }), 0, false),
            None => {
                let (r, ms) = cell.get_or_init(|| {
                    fetched_here = true;
                    let timeout = self.timeout.min(remaining);
                    let t0 = Instant::now();
                    let r = self
                        .policy
                        .check(url, timeout)
                        .and_then(|()| self.send(url, request(self.client(url)?).timeout(timeout)));
                    let r = match r {
                        Err(RevError::Timeout { url }) if timeout < self.timeout => Err(RevError::Deadline { url }),
                        other => other,
                    };
                    (r, t0.elapsed().as_millis() as u64)
                });
                (r.clone(), *ms, !fetched_here)
            }
        };
        if matches!(result, Err(RevError::Deadline { .. })) {
            let mut map = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if map.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                map.remove(&key);
            }
        }
        scope.record(FetchAttempt {
            url: url.to_string(),
            outcome: match &result {
                Ok(_) => "ok".into(),
                Err(e) => e.code().into(),
            },
            ms,
            cached: from_cache,
            detail: result.as_ref().err().map(ToString::to_string),
        });
        result
    }

    fn get(&self, url: &str, scope: &FetchScope) -> Fetched {
        self.fetch(format!("GET {url}"), url, scope, |c| c.get(url))
    }

    fn post_ocsp(&self, url: &str, body: Vec<u8>, scope: &FetchScope) -> Fetched {
        let key = format!("POST {url} {}", hex::encode(Sha256::digest(&body)));
        self.fetch(key, url, scope, |c| {
            c.post(url)
                .header("Content-Type", "application/ocsp-request")
                .header("Accept", "application/ocsp-response")
                .body(body)
        })
    }

    fn send(&self, url: &str, req: reqwest::blocking::RequestBuilder) -> Fetched {
        let net = |e: reqwest::Error| {
            if let Some(reason) = refusal_in(&e) {
                RevError::AddressRefused {
                    url: url.to_string(),
                    reason,
                }
            } else if e.is_timeout() {
                RevError::Timeout { url: url.to_string() }
            } else {
                RevError::Network {
                    url: url.to_string(),
                    message: e.to_string(),
                }
            }
        };
        let resp = req.send().map_err(net)?;
        if resp.status().is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default();
            return Err(RevError::Redirect {
                url: url.to_string(),
                location,
            });
        }
        if !resp.status().is_success() {
            return Err(RevError::HttpStatus {
                url: url.to_string(),
                status: resp.status().as_u16(),
            });
        }
        let too_large = || RevError::TooLarge {
            url: url.to_string(),
            limit: self.max_bytes,
        };
        if resp.content_length().is_some_and(|n| n > self.max_bytes) {
            return Err(too_large());
        }
        // Read at most one byte past the cap, whatever the server announced.
        let mut body = Vec::new();
        resp.take(self.max_bytes.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|e| {
                let timed_out = e.kind() == std::io::ErrorKind::TimedOut || e.to_string().contains("timed out");
                if timed_out {
                    RevError::Timeout { url: url.to_string() }
                } else {
                    RevError::Network {
                        url: url.to_string(),
                        message: e.to_string(),
                    }
                }
            })?;
        if body.len() as u64 > self.max_bytes {
            return Err(too_large());
        }
        Ok(Arc::new(body))
    }
}

impl RevocationSource for HttpRevocationSource {
    fn crls_for(&self, cert: &X509, _issuer: &X509, scope: &FetchScope) -> Result<Vec<Vec<u8>>, RevError> {
        let urls: Vec<String> = crl_urls(cert).into_iter().take(MAX_URLS).collect();
        let mut out = Vec::new();
        let mut last_err = None;
        for r in in_parallel(&urls, |url| self.get(url, scope)) {
            match r {
                Ok(body) => out.push(body.as_ref().clone()),
                Err(e) => last_err = Some(e),
            }
        }
        match (out.is_empty(), last_err) {
            (true, Some(e)) => Err(e),
            _ => Ok(out),
        }
    }

    fn ocsp_for(&self, cert: &X509, issuer: &X509, scope: &FetchScope) -> Result<Option<Vec<u8>>, RevError> {
        let urls: Vec<String> = ocsp_urls(cert).into_iter().take(MAX_URLS).collect();
        if urls.is_empty() {
            return Ok(None);
        }
        let body = request_der(cert, issuer).map_err(|e| RevError::Unusable(e.to_string()))?;
        // All responders at once; the first in the certificate's order that answered wins.
        let mut last_err = None;
        for r in in_parallel(&urls, |url| self.post_ocsp(url, body.clone(), scope)) {
            match r {
                Ok(resp) => return Ok(Some(resp.as_ref().clone())),
                Err(e) => last_err = Some(e),
            }
        }
        match last_err {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[derive(Clone)]
    pub(crate) enum Route {
        Body(Vec<u8>),
        Slow(Duration, Vec<u8>),
        Status(u16),
        /// 302 to this location.
        Redirect(String),
    }

    /// A loopback HTTP server counting requests per path; stops when dropped.
    pub(crate) struct TestServer {
        pub base: String,
        pub counts: Arc<Mutex<HashMap<String, usize>>>,
        pub bodies: Arc<Mutex<Vec<(String, String, Vec<u8>)>>>,
        stop: Arc<AtomicBool>,
    }

    impl TestServer {
        pub(crate) fn start(routes: HashMap<String, Route>) -> TestServer {
            TestServer::start_on(0, routes)
        }

        pub(crate) fn start_on(port: u16, routes: HashMap<String, Route>) -> TestServer {
            let server = tiny_http::Server::http(("127.0.0.1", port)).unwrap();
            let port = server.server_addr().to_ip().unwrap().port();
            let counts = Arc::new(Mutex::new(HashMap::new()));
            let bodies = Arc::new(Mutex::new(Vec::new()));
            let stop = Arc::new(AtomicBool::new(false));
            let (c, b, s) = (counts.clone(), bodies.clone(), stop.clone());
            std::thread::spawn(move || {
                while !s.load(Ordering::SeqCst) {
                    let Ok(Some(mut req)) = server.recv_timeout(Duration::from_millis(50)) else {
                        continue;
                    };
                    let path = req.url().to_string();
                    *c.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
                    let ctype = req
                        .headers()
                        .iter()
                        .find(|h| h.field.equiv("Content-Type"))
                        .map(|h| h.value.to_string())
                        .unwrap_or_default();
                    let mut body = Vec::new();
                    let _ = req.as_reader().read_to_end(&mut body);
                    b.lock().unwrap().push((path.clone(), ctype, body));
                    let route = routes.get(&path).cloned();
                    std::thread::spawn(move || {
                        let _ = match route {
                            Some(Route::Body(d)) => req.respond(tiny_http::Response::from_data(d)),
                            Some(Route::Slow(wait, d)) => {
                                std::thread::sleep(wait);
                                req.respond(tiny_http::Response::from_data(d))
                            }
                            Some(Route::Status(code)) => req.respond(tiny_http::Response::empty(code)),
                            Some(Route::Redirect(to)) => {
                                let h = tiny_http::Header::from_bytes(&b"Location"[..], to.as_bytes()).unwrap();
                                req.respond(tiny_http::Response::empty(302).with_header(h))
                            }
                            None => req.respond(tiny_http::Response::empty(404)),
                        };
                    });
                }
            });
            TestServer {
                base: format!("http://127.0.0.1:{port}"),
                counts,
                bodies,
                stop,
            }
        }

        pub(crate) fn count(&self, path: &str) -> usize {
            self.counts.lock().unwrap().get(path).copied().unwrap_or(0)
        }

        /// Requests on every path together.
        pub(crate) fn total(&self) -> usize {
            self.counts.lock().unwrap().values().sum()
        }
    }

    impl Drop for TestServer {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
        }
    }

    /// The loopback test servers need private addresses allowed.
    pub(crate) fn local_source(timeout: Duration) -> HttpRevocationSource {
        HttpRevocationSource::with_limits(timeout, 1 << 20).unwrap().allowing_private_addresses()
    }

    fn outcomes(scope: &FetchScope) -> Vec<(String, String, bool)> {
        scope.attempts().into_iter().map(|a| (a.url, a.outcome, a.cached)).collect()
    }

    #[test]
    fn caches_per_url_across_threads() {
        let server = TestServer::start(HashMap::from([(
            "/a.crl".to_string(),
            Route::Slow(Duration::from_millis(200), b"crl".to_vec()),
        )]));
        let src = Arc::new(local_source(Duration::from_secs(5)));
        let url = format!("{}/a.crl", server.base);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (src, url) = (src.clone(), url.clone());
                std::thread::spawn(move || {
                    let scope = FetchScope::new();
                    let body = src.get(&url, &scope).unwrap().as_ref().clone();
                    (body, scope.attempts())
                })
            })
            .collect();
        let mut fetched = 0;
        for h in handles {
            let (body, attempts) = h.join().unwrap();
            assert_eq!(body, b"crl");
            assert_eq!(attempts.len(), 1);
            assert_eq!(attempts[0].outcome, "ok");
            assert!(attempts[0].ms >= 150, "{attempts:?}");
            fetched += usize::from(!attempts[0].cached);
        }
        assert_eq!(fetched, 1, "one asker fetched, the others were answered from the cache");
        let scope = FetchScope::new();
        assert_eq!(src.get(&url, &scope).unwrap().as_ref(), b"crl");
        assert_eq!(outcomes(&scope), vec![(url, "ok".to_string(), true)]);
        assert_eq!(server.count("/a.crl"), 1);
    }

    #[test]
    fn size_cap_timeout_and_status() {
        let server = TestServer::start(HashMap::from([
            ("/big".to_string(), Route::Body(vec![0x30; 1001])),
            ("/exact".to_string(), Route::Body(vec![0x30; 1000])),
            (
                "/slow".to_string(),
                Route::Slow(Duration::from_secs(3), b"late".to_vec()),
            ),
            ("/gone".to_string(), Route::Status(503)),
        ]));
        let src = HttpRevocationSource::with_limits(Duration::from_millis(500), 1000)
            .unwrap()
            .allowing_private_addresses();
        let get = |path: &str| src.get(&format!("{}{path}", server.base), &FetchScope::new());
        let e = get("/big").unwrap_err();
        assert_eq!(e.code(), "rev-too-large", "{e}");
        assert_eq!(get("/exact").unwrap().len(), 1000);
        let started = std::time::Instant::now();
        let e = get("/slow").unwrap_err();
        assert_eq!(e.code(), "rev-timeout", "{e}");
        assert!(started.elapsed() < Duration::from_secs(2));
        let e = get("/gone").unwrap_err();
        assert!(matches!(e, RevError::HttpStatus { status: 503, .. }), "{e}");
        // Failures are cached for the run too: no second request.
        assert!(get("/gone").is_err());
        assert_eq!(server.count("/gone"), 1);
    }

    /// A CRL URL that redirects to an admin page (on another origin, or on its own) is not
    /// followed: the admin URL sees no request, the attempt says why.
    #[test]
    fn redirects_are_not_followed() {
        let admin = TestServer::start(HashMap::from([(
            "/internal-admin/delete?all=1".to_string(),
            Route::Body(b"deleted everything".to_vec()),
        )]));
        let server = TestServer::start(HashMap::from([
            (
                "/ca.crl".to_string(),
                Route::Redirect(format!("{}/internal-admin/delete?all=1", admin.base)),
            ),
            (
                "/same.crl".to_string(),
                Route::Redirect("/internal-admin/delete?all=1".to_string()),
            ),
            (
                "/internal-admin/delete?all=1".to_string(),
                Route::Body(b"deleted everything".to_vec()),
            ),
        ]));
        let src = local_source(Duration::from_secs(5));
        let scope = FetchScope::new();
        for path in ["/ca.crl", "/same.crl"] {
            let e = src.get(&format!("{}{path}", server.base), &scope).unwrap_err();
            assert_eq!(e.code(), "rev-redirect-refused", "{e}");
            assert!(e.to_string().contains("internal-admin"), "{e}");
        }
        assert_eq!(admin.total(), 0, "the admin URL was requested");
        assert_eq!(server.count("/internal-admin/delete?all=1"), 0);
        let a = scope.attempts();
        assert_eq!(a.len(), 2);
        assert!(a.iter().all(|a| a.outcome == "rev-redirect-refused" && a.detail.is_some()), "{a:?}");
    }

    /// Private addresses only when allowed; link-local never, and refused before any connection
    /// is tried (169.254.169.254 would otherwise hang until the timeout here).
    #[test]
    fn private_and_link_local_addresses_are_refused_without_a_connection() {
        let server = TestServer::start(HashMap::from([("/ca.crl".to_string(), Route::Body(b"crl".to_vec()))]));
        let public_only = HttpRevocationSource::with_limits(Duration::from_secs(5), 1000).unwrap();
        let scope = FetchScope::new();
        let url = format!("{}/ca.crl", server.base);
        assert_eq!(public_only.get(&url, &scope).unwrap_err().code(), "rev-address-refused");
        let localhost = url.replace("127.0.0.1", "localhost");
        assert_eq!(public_only.get(&localhost, &scope).unwrap_err().code(), "rev-address-refused");
        assert_eq!(server.total(), 0, "a refused URL must not be requested");
        // The demo PKI's origin is the exception.
        let demo = HttpRevocationSource::with_limits(Duration::from_secs(5), 1000)
            .unwrap()
            .trusting_origin(&server.base);
        assert_eq!(demo.get(&url, &scope).unwrap().as_ref(), b"crl");

        for src in [public_only, local_source(Duration::from_secs(5))] {
            let scope = FetchScope::new();
            let t = std::time::Instant::now();
            for url in [
                "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                "http://[fe80::1]/ca.crl",
                "http://0.0.0.0:9/ca.crl",
            ] {
                let e = src.get(url, &scope).unwrap_err();
                assert_eq!(e.code(), "rev-address-refused", "{e}");
            }
            let e = src.get("ldap://ldap.example.jp/cn=CA?certificateRevocationList", &scope).unwrap_err();
            assert_eq!(e.code(), "rev-scheme-refused", "{e}");
            assert!(t.elapsed() < Duration::from_millis(500), "no connection is tried: {:?}", t.elapsed());
            assert_eq!(scope.attempts().len(), 4);
        }
    }

    /// One file's fetches share one deadline: after it, nothing more is requested.
    #[test]
    fn a_file_deadline_covers_all_its_fetches() {
        let server = TestServer::start(HashMap::from([
            ("/hang1.crl".to_string(), Route::Slow(Duration::from_secs(5), b"late".to_vec())),
            ("/hang2.crl".to_string(), Route::Slow(Duration::from_secs(5), b"late".to_vec())),
            ("/ok.crl".to_string(), Route::Body(b"crl".to_vec())),
        ]));
        let src = local_source(Duration::from_secs(3)).with_deadline(Duration::from_millis(800));
        let scope = FetchScope::new();
        let t = std::time::Instant::now();
        let e = src.get(&format!("{}/hang1.crl", server.base), &scope).unwrap_err();
        assert_eq!(e.code(), "rev-deadline", "cut short by the file's deadline, not the 3 s timeout: {e}");
        let e = src.get(&format!("{}/hang2.crl", server.base), &scope).unwrap_err();
        assert_eq!(e.code(), "rev-deadline", "{e}");
        assert!(t.elapsed() < Duration::from_millis(1500), "{:?}", t.elapsed());
        assert_eq!(server.count("/hang2.crl"), 0, "nothing is requested after the deadline");
        // Another file has its own deadline, and a cut-short fetch is not kept as a failure.
        let next = FetchScope::new();
        assert_eq!(src.get(&format!("{}/ok.crl", server.base), &next).unwrap().as_ref(), b"crl");
        let e = src.get(&format!("{}/hang2.crl", server.base), &next).unwrap_err();
        assert_eq!(e.code(), "rev-deadline");
        assert_eq!(server.count("/hang2.crl"), 1, "tried again for the next file");
    }
}
