//! Revocation data over HTTP: CRLs from the certificate's distribution points (GET) and OCSP
//! from its AIA responder (POST application/ocsp-request), with a timeout, a size cap and a
//! per-run cache so each URL (or OCSP request) is fetched once even when asked from threads.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use openssl::x509::X509;
use sha2::{Digest, Sha256};

use super::{RevError, RevocationSource};
use crate::config::RevocationConfig;
use crate::pki::extensions::{crl_urls, ocsp_urls};
use crate::pki::ocsp::request_der;

/// A hostile certificate may list many URLs; only the first few are tried.
const MAX_URLS: usize = 4;

type Fetched = Result<Arc<Vec<u8>>, RevError>;

pub struct HttpRevocationSource {
    timeout: Duration,
    /// Built on first use: a client loads the system's TLS roots and starts a runtime thread,
    /// which a run whose certificates all have local revocation data never needs.
    client: OnceLock<Result<reqwest::blocking::Client, String>>,
    max_bytes: u64,
    /// One cell per URL/request: the first asker fetches, later ones wait for and share it.
    cache: Mutex<HashMap<String, Arc<OnceLock<Fetched>>>>,
}

impl HttpRevocationSource {
    pub fn new(cfg: &RevocationConfig) -> Result<HttpRevocationSource, RevError> {
        let secs = if cfg.timeout_secs.is_finite() && cfg.timeout_secs > 0.0 {
            cfg.timeout_secs
        } else {
            10.0
        };
        HttpRevocationSource::with_limits(Duration::from_secs_f64(secs), cfg.max_response_bytes)
    }

    pub fn with_limits(timeout: Duration, max_bytes: u64) -> Result<HttpRevocationSource, RevError> {
        Ok(HttpRevocationSource {
            timeout,
            client: OnceLock::new(),
            max_bytes,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The HTTP client, built by the first fetch.
    fn client(&self, url: &str) -> Result<&reqwest::blocking::Client, RevError> {
        self.client
            .get_or_init(|| {
                reqwest::blocking::Client::builder()
                    .timeout(self.timeout)
                    .connect_timeout(self.timeout)
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

    fn cached(&self, key: String, fetch: impl FnOnce() -> Fetched) -> Fetched {
        let cell = {
            let mut map = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key).or_default().clone()
        };
        cell.get_or_init(fetch).clone()
    }

    fn get(&self, url: &str) -> Fetched {
        self.cached(format!("GET {url}"), || self.send(url, self.client(url)?.get(url)))
    }

    fn post_ocsp(&self, url: &str, body: Vec<u8>) -> Fetched {
        let key = format!("POST {url} {}", hex::encode(Sha256::digest(&body)));
        self.cached(key, || {
            let req = self
                .client(url)?
                .post(url)
                .header("Content-Type", "application/ocsp-request")
                .header("Accept", "application/ocsp-response")
                .body(body);
            self.send(url, req)
        })
    }

    fn send(&self, url: &str, req: reqwest::blocking::RequestBuilder) -> Fetched {
        let net = |e: reqwest::Error| {
            if e.is_timeout() {
                RevError::Timeout { url: url.to_string() }
            } else {
                RevError::Network {
                    url: url.to_string(),
                    message: e.to_string(),
                }
            }
        };
        let resp = req.send().map_err(net)?;
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
    fn crls_for(&self, cert: &X509, _issuer: &X509) -> Result<Vec<Vec<u8>>, RevError> {
        let mut out = Vec::new();
        let mut last_err = None;
        for url in crl_urls(cert).iter().take(MAX_URLS) {
            match self.get(url) {
                Ok(body) => out.push(body.as_ref().clone()),
                Err(e) => last_err = Some(e),
            }
        }
        match (out.is_empty(), last_err) {
            (true, Some(e)) => Err(e),
            _ => Ok(out),
        }
    }

    fn ocsp_for(&self, cert: &X509, issuer: &X509) -> Result<Option<Vec<u8>>, RevError> {
        let urls = ocsp_urls(cert);
        if urls.is_empty() {
            return Ok(None);
        }
        let body = request_der(cert, issuer).map_err(|e| RevError::Unusable(e.to_string()))?;
        let mut last_err = None;
        for url in urls.iter().take(MAX_URLS) {
            match self.post_ocsp(url, body.clone()) {
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
    }

    impl Drop for TestServer {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn caches_per_url_across_threads() {
        let server = TestServer::start(HashMap::from([(
            "/a.crl".to_string(),
            Route::Slow(Duration::from_millis(200), b"crl".to_vec()),
        )]));
        let src = Arc::new(HttpRevocationSource::with_limits(Duration::from_secs(5), 1000).unwrap());
        let url = format!("{}/a.crl", server.base);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (src, url) = (src.clone(), url.clone());
                std::thread::spawn(move || src.get(&url).unwrap().as_ref().clone())
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), b"crl");
        }
        assert_eq!(src.get(&url).unwrap().as_ref(), b"crl");
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
        let src = HttpRevocationSource::with_limits(Duration::from_millis(500), 1000).unwrap();
        let e = src.get(&format!("{}/big", server.base)).unwrap_err();
        assert_eq!(e.code(), "rev-too-large", "{e}");
        assert_eq!(src.get(&format!("{}/exact", server.base)).unwrap().len(), 1000);
        let started = std::time::Instant::now();
        let e = src.get(&format!("{}/slow", server.base)).unwrap_err();
        assert_eq!(e.code(), "rev-timeout", "{e}");
        assert!(started.elapsed() < Duration::from_secs(2));
        let e = src.get(&format!("{}/gone", server.base)).unwrap_err();
        assert!(matches!(e, RevError::HttpStatus { status: 503, .. }), "{e}");
        // Failures are cached for the run too: no second request.
        assert!(src.get(&format!("{}/gone", server.base)).is_err());
        assert_eq!(server.count("/gone"), 1);
    }
}
