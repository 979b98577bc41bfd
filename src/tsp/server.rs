//! The HTTP face of a time stamper for `hozon tsa serve`: POST `/` or `/tsa` answers RFC 3161
//! queries, GET `/crl/<name>` serves CRL files from one folder (the demo PKI's), POST `/ocsp`
//! answers OCSP requests (the demo PKI's responder), GET `/health`.
//! Meant for loopback use with the demo PKI; single-threaded, bounded request bodies.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tiny_http::{Header, Method, Request, Response};

use super::{TimeStamper, TspError};

/// Largest request body read (a query is about 100 bytes).
const MAX_QUERY_BYTES: u64 = 64 * 1024;

/// Turns a DER OCSP request into a DER OCSP response.
pub type OcspAnswerer<'a> = dyn Fn(&[u8]) -> Vec<u8> + 'a;

/// A bound listener, ready to `run`.
pub struct TsaServer {
    server: tiny_http::Server,
}

fn header(k: &str, v: &str) -> Option<Header> {
    Header::from_bytes(k.as_bytes(), v.as_bytes()).ok()
}

fn reply(req: Request, code: u16, ctype: &str, body: Vec<u8>) {
    let mut r = Response::from_data(body).with_status_code(code);
    if let Some(h) = header("Content-Type", ctype) {
        r = r.with_header(h);
    }
    // A client that went away is not the server's problem.
    let _ = req.respond(r);
}

/// A CRL file name: letters, digits, dot, dash, underscore; no path parts.
fn crl_name(name: &str) -> Option<&str> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    ok.then_some(name)
}

impl TsaServer {
    /// Bind to `addr` (e.g. `127.0.0.1:8318`, or port 0 for any free port).
    pub fn bind(addr: &str) -> Result<Self, TspError> {
        let server =
            tiny_http::Server::http(addr).map_err(|e| TspError::Server(format!("cannot listen on {addr}: {e}")))?;
        Ok(TsaServer { server })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.server_addr().to_ip()
    }

    /// Serve until `stop` becomes true.
    pub fn run(&self, tsa: Arc<dyn TimeStamper>, crl_dir: Option<&Path>, stop: &AtomicBool) {
        self.run_with_ocsp(tsa, crl_dir, None, stop)
    }

    /// `run`, also answering OCSP requests on `/ocsp` with `ocsp` (request DER → response DER).
    pub fn run_with_ocsp(
        &self,
        tsa: Arc<dyn TimeStamper>,
        crl_dir: Option<&Path>,
        ocsp: Option<&OcspAnswerer<'_>>,
        stop: &AtomicBool,
    ) {
        while !stop.load(Ordering::Relaxed) {
            match self.server.recv_timeout(Duration::from_millis(200)) {
                Ok(Some(req)) => handle(req, tsa.as_ref(), crl_dir, ocsp),
                Ok(None) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

fn content_type(req: &Request) -> String {
    req.headers()
        .iter()
        .find(|h| h.field.equiv("Content-Type"))
        .map(|h| {
            h.value
                .as_str()
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// The request body, or None when it is larger than `MAX_QUERY_BYTES` or unreadable.
fn bounded_body(req: &mut Request) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    let read = req.as_reader().take(MAX_QUERY_BYTES + 1).read_to_end(&mut body);
    (read.is_ok() && body.len() as u64 <= MAX_QUERY_BYTES).then_some(body)
}

fn handle(mut req: Request, tsa: &dyn TimeStamper, crl_dir: Option<&Path>, ocsp: Option<&OcspAnswerer<'_>>) {
    let path = req.url().split('?').next().unwrap_or("").to_string();
    match (req.method().clone(), path.as_str()) {
        (Method::Post, "/ocsp") => {
            let Some(answer) = ocsp else {
                return reply(req, 404, "text/plain", b"no OCSP responder\n".to_vec());
            };
            if content_type(&req) != "application/ocsp-request" {
                return reply(req, 415, "text/plain", b"expected application/ocsp-request\n".to_vec());
            }
            match bounded_body(&mut req) {
                Some(body) => {
                    let der = answer(&body);
                    reply(req, 200, "application/ocsp-response", der)
                }
                None => reply(req, 413, "text/plain", b"request too large or unreadable\n".to_vec()),
            }
        }
        (Method::Post, "/" | "/tsa") => {
            if content_type(&req) != "application/timestamp-query" {
                return reply(
                    req,
                    415,
                    "text/plain",
                    b"expected application/timestamp-query\n".to_vec(),
                );
            }
            let Some(body) = bounded_body(&mut req) else {
                return reply(req, 413, "text/plain", b"request too large or unreadable\n".to_vec());
            };
            let answer = tsa.respond(&body);
            reply(req, 200, "application/timestamp-reply", answer)
        }
        (Method::Get, "/health") => reply(req, 200, "text/plain", b"ok\n".to_vec()),
        (Method::Get, p) if p.starts_with("/crl/") => {
            let file: Option<PathBuf> = crl_dir.zip(crl_name(&p["/crl/".len()..])).map(|(d, n)| d.join(n));
            match file.and_then(|f| std::fs::read(f).ok()) {
                Some(bytes) => reply(req, 200, "application/pkix-crl", bytes),
                None => reply(req, 404, "text/plain", b"no such CRL\n".to_vec()),
            }
        }
        _ => reply(req, 404, "text/plain", b"not found\n".to_vec()),
    }
}

/// Serve `tsa` on `addr` until `stop` is set (what `hozon tsa serve` runs).
pub fn serve(
    addr: &str,
    tsa: Arc<dyn TimeStamper>,
    crl_dir: Option<&Path>,
    stop: Arc<AtomicBool>,
) -> Result<(), TspError> {
    let server = TsaServer::bind(addr)?;
    server.run(tsa, crl_dir, &stop);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::config::Config;
    use crate::sign::test_pki::{self, KeyKind, Usage};
    use crate::sign::DigestAlg;
    use crate::tsp::{BuiltinTsa, HttpTimeStamper};

    #[test]
    fn serves_builtin_tokens_and_crl_files() {
        let ca = test_pki::ca("CA");
        let key = test_pki::key(KeyKind::P256);
        let cert = test_pki::issue(&ca, &key, "組込み TSA", Usage::Tsa);
        let tsa: Arc<dyn TimeStamper> =
            Arc::new(BuiltinTsa::new(key, cert.clone(), vec![ca.cert.clone()], Arc::new(SystemClock)).unwrap());
        let crls = tempfile::tempdir().unwrap();
        std::fs::write(crls.path().join("inter.crl"), b"\x30\x03\x02\x01\x01").unwrap();
        let server = TsaServer::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, dir) = (stop.clone(), crls.path().to_path_buf());
        let handle = std::thread::spawn(move || server.run(tsa, Some(&dir), &s2));

        let text = format!("[tsa]\nurl = \"http://127.0.0.1:{port}/tsa\"\n[profiles.chart]\n");
        let cfg = Config::from_toml(&text, Path::new("t.toml"), Path::new(".")).unwrap();
        let client = HttpTimeStamper::new(&cfg.tsa, &cfg).unwrap();
        let tok = client.timestamp_data(b"signature value").unwrap();
        assert_eq!(tok.tsa_certificate().unwrap().to_der().unwrap(), cert.to_der().unwrap());
        let d = DigestAlg::Sha256.digest(b"signature value").unwrap();
        tok.verify(DigestAlg::Sha256, &d).unwrap();

        let http = reqwest::blocking::Client::new();
        let get = |p: &str| http.get(format!("http://127.0.0.1:{port}{p}")).send().unwrap();
        let r = get("/crl/inter.crl");
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.bytes().unwrap().as_ref(), b"\x30\x03\x02\x01\x01");
        for bad in [
            "/crl/..%2Fetc",
            "/crl/../inter.crl",
            "/crl/missing.crl",
            "/crl/.hidden",
            "/nothing",
        ] {
            assert_eq!(get(bad).status().as_u16(), 404, "{bad}");
        }
        let r = http
            .post(format!("http://127.0.0.1:{port}/"))
            .header("Content-Type", "text/plain")
            .body("x")
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 415);
        let r = http
            .post(format!("http://127.0.0.1:{port}/"))
            .header("Content-Type", "application/timestamp-query")
            .body(vec![0u8; 70 * 1024])
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 413);
        // Without a responder there is no OCSP.
        let r = http
            .post(format!("http://127.0.0.1:{port}/ocsp"))
            .header("Content-Type", "application/ocsp-request")
            .body("x")
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);

        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
    }

    #[test]
    fn answers_ocsp_requests_with_the_responder() {
        let ca = test_pki::ca("CA");
        let key = test_pki::key(KeyKind::P256);
        let cert = test_pki::issue(&ca, &key, "組込み TSA", Usage::Tsa);
        let tsa: Arc<dyn TimeStamper> =
            Arc::new(BuiltinTsa::new(key, cert, vec![ca.cert.clone()], Arc::new(SystemClock)).unwrap());
        let server = TsaServer::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let handle = std::thread::spawn(move || {
            let answer = |req: &[u8]| [b"answer to ".as_slice(), req].concat();
            server.run_with_ocsp(tsa, None, Some(&answer), &s2)
        });
        let http = reqwest::blocking::Client::new();
        let post = |ctype: &str, body: Vec<u8>| {
            http.post(format!("http://127.0.0.1:{port}/ocsp"))
                .header("Content-Type", ctype)
                .body(body)
                .send()
                .unwrap()
        };
        let r = post("application/ocsp-request", b"req".to_vec());
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            r.headers().get("content-type").unwrap().to_str().unwrap(),
            "application/ocsp-response"
        );
        assert_eq!(r.bytes().unwrap().as_ref(), b"answer to req");
        assert_eq!(post("text/plain", b"req".to_vec()).status().as_u16(), 415);
        assert_eq!(
            post("application/ocsp-request", vec![0u8; 70 * 1024]).status().as_u16(),
            413
        );
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
    }
}
