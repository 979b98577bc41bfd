//! The HTTP face of a time stamper for `hozon tsa serve`: POST `/` or `/tsa` answers RFC 3161
//! queries, GET `/crl/<name>` serves CRL files from one folder (the demo PKI's), POST `/ocsp`
//! answers OCSP requests (the demo PKI's responder), GET `/health`.
//!
//! A small HTTP/1.1 server on `std::net`, built to survive bad clients:
//! - one thread reads every connection without blocking (`poll(2)`), so a slow or idle client
//!   costs a buffer and a socket, never a thread, and cannot stall the other routes;
//! - a fixed pool of workers answers complete requests, so threads stay bounded;
//! - each connection has `REQUEST_TIMEOUT` to send a whole request and `WRITE_TIMEOUT` to take
//!   its answer, else it is closed;
//! - request sizes are capped per route (`body_limit`): a body announced larger is refused at
//!   once with 413, not waited for; headers are capped too (431);
//! - at most `MAX_CONNECTIONS` are open: a new client displaces the one that has waited longest
//!   without sending a request;
//! - `stop_on_signals` turns SIGTERM and SIGINT into a stop that finishes within a second.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{TimeStamper, TspError};

/// Open connections at most (each costs a socket and at most one request's bytes).
const MAX_CONNECTIONS: usize = 256;
/// Time a connection has to send one whole request, from when it may (accepted, or its
/// previous answer sent): an idle keep-alive connection is closed after it too.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a connection has to take its answer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Request line and headers together.
const MAX_HEAD: usize = 8 * 1024;
/// Largest timestamp query (a query is about 100 bytes; extensions add a little).
const MAX_TSA_QUERY: usize = 8 * 1024;
/// Largest OCSP request (one certificate per request in practice; a few for batches).
const MAX_OCSP_REQUEST: usize = 16 * 1024;
/// How often the loop looks at the stop flag and the deadlines when nothing happens.
const TICK: Duration = Duration::from_millis(100);
/// After a stop, how long answers being made or sent may still finish.
const STOP_GRACE: Duration = Duration::from_millis(500);

/// Turns a DER OCSP request into a DER OCSP response. Called from the worker threads.
pub type OcspAnswerer<'a> = dyn Fn(&[u8]) -> Vec<u8> + Sync + 'a;

/// A bound listener, ready to `run`.
pub struct TsaServer {
    listener: TcpListener,
}

static SIGNALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    SIGNALLED.store(true, Ordering::SeqCst);
}

/// A stop flag that SIGTERM and SIGINT set, for `run`: the server then stops within a second
/// (its loop looks at the flag at least every `TICK`). Installs the handlers; for the binary,
/// not for library users that have their own.
pub fn stop_on_signals() -> &'static AtomicBool {
    // SAFETY: sigaction with a zeroed struct, an empty mask and a handler that only stores to
    // an atomic; no flags (no SA_RESTART: poll returns EINTR and the loop looks at the flag).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut sa.sa_mask);
        for sig in [libc::SIGTERM, libc::SIGINT] {
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
    &SIGNALLED
}

impl TsaServer {
    /// Bind to `addr` (e.g. `127.0.0.1:8318`, or port 0 for any free port).
    pub fn bind(addr: &str) -> Result<Self, TspError> {
        let fail = |e: std::io::Error| TspError::Server(format!("cannot listen on {addr}: {e}"));
        let listener = TcpListener::bind(addr).map_err(fail)?;
        listener.set_nonblocking(true).map_err(fail)?;
        Ok(TsaServer { listener })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serve until `stop` becomes true. An error only when the server's own plumbing (poll,
    /// its wake-up socket) fails.
    pub fn run(&self, tsa: Arc<dyn TimeStamper>, crl_dir: Option<&Path>, stop: &AtomicBool) -> Result<(), TspError> {
        self.run_with_ocsp(tsa, crl_dir, None, stop)
    }

    /// `run`, also answering OCSP requests on `/ocsp` with `ocsp` (request DER → response DER).
    pub fn run_with_ocsp(
        &self,
        tsa: Arc<dyn TimeStamper>,
        crl_dir: Option<&Path>,
        ocsp: Option<&OcspAnswerer<'_>>,
        stop: &AtomicBool,
    ) -> Result<(), TspError> {
        let routes = Routes {
            tsa: tsa.as_ref(),
            crl_dir,
            ocsp,
        };
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8);
        serve_loop(&self.listener, &routes, workers, stop).map_err(|e| TspError::Server(format!("tsa serve: {e}")))
    }
}

/// What the routes answer with.
struct Routes<'a> {
    tsa: &'a dyn TimeStamper,
    crl_dir: Option<&'a Path>,
    ocsp: Option<&'a OcspAnswerer<'a>>,
}

/// One parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    method: String,
    /// The path, without the query.
    path: String,
    content_type: String,
    body: Vec<u8>,
    /// The client wants the connection closed after the answer.
    close: bool,
}

/// An answer, before it is put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Response {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Response {
    fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: "text/plain",
            body: body.as_bytes().to_vec(),
        }
    }

    fn to_bytes(&self, close: bool) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            411 => "Length Required",
            413 => "Content Too Large",
            415 => "Unsupported Media Type",
            431 => "Request Header Fields Too Large",
            503 => "Service Unavailable",
            _ => "",
        };
        let mut out = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
            self.status,
            self.content_type,
            self.body.len(),
            if close { "close" } else { "keep-alive" }
        )
        .into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// The largest body a route takes (0: none).
fn body_limit(method: &str, path: &str) -> usize {
    match (method, path) {
        ("POST", "/" | "/tsa") => MAX_TSA_QUERY,
        ("POST", "/ocsp") => MAX_OCSP_REQUEST,
        _ => 0,
    }
}

/// What the bytes received so far hold.
#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    /// Not a whole request yet; `continue_100`: the client waits for "100 Continue".
    Incomplete { continue_100: bool },
    /// A whole request, taking the first `used` bytes.
    Complete { request: Request, used: usize },
    /// Refused: answer this and close.
    Refused(Response),
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parse one request from the front of `buf`, enforcing the head and per-route body limits
/// before the body arrives.
fn parse(buf: &[u8]) -> Parsed {
    let Some(head_len) = find(&buf[..buf.len().min(MAX_HEAD + 4)], b"\r\n\r\n") else {
        return if buf.len() > MAX_HEAD {
            Parsed::Refused(Response::text(431, "request head too large\n"))
        } else {
            Parsed::Incomplete { continue_100: false }
        };
    };
    let bad = |why: &str| Parsed::Refused(Response::text(400, why));
    let Ok(head) = std::str::from_utf8(&buf[..head_len]) else {
        return bad("request head is not text\n");
    };
    let mut lines = head.split("\r\n");
    let line: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
    let [method, target, version] = line[..] else {
        return bad("bad request line\n");
    };
    if !matches!(version, "HTTP/1.1" | "HTTP/1.0") {
        return bad("HTTP/1.0 or 1.1 only\n");
    }
    let mut headers: HashMap<String, &str> = HashMap::new();
    for l in lines {
        let Some((name, value)) = l.split_once(':') else {
            return bad("bad header line\n");
        };
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        if let Some(old) = headers.get(&name) {
            // Two different lengths make the body's end ambiguous (request smuggling).
            if name == "content-length" && *old != value {
                return bad("conflicting Content-Length\n");
            }
        }
        headers.insert(name, value);
    }
    if headers.contains_key("transfer-encoding") {
        return Parsed::Refused(Response::text(411, "send a Content-Length, not a chunked body\n"));
    }
    let length = match headers.get("content-length").map(|v| v.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return bad("bad Content-Length\n"),
    };
    let path = target.split('?').next().unwrap_or("").to_string();
    if length > body_limit(method, &path) {
        return Parsed::Refused(Response::text(413, "request too large\n"));
    }
    let start = head_len + 4;
    if buf.len() < start + length {
        let expects = headers
            .get("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        return Parsed::Incomplete { continue_100: expects };
    }
    let connection = headers
        .get("connection")
        .map(|v| v.to_ascii_lowercase())
        .unwrap_or_default();
    let close = connection.contains("close") || (version == "HTTP/1.0" && !connection.contains("keep-alive"));
    let content_type = headers
        .get("content-type")
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    Parsed::Complete {
        request: Request {
            method: method.to_string(),
            path,
            content_type,
            body: buf[start..start + length].to_vec(),
            close,
        },
        used: start + length,
    }
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

/// The answer to one request (run by a worker).
fn handle(req: &Request, routes: &Routes<'_>) -> Response {
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/ocsp") => {
            let Some(answer) = routes.ocsp else {
                return Response::text(404, "no OCSP responder\n");
            };
            if req.content_type != "application/ocsp-request" {
                return Response::text(415, "expected application/ocsp-request\n");
            }
            Response {
                status: 200,
                content_type: "application/ocsp-response",
                body: answer(&req.body),
            }
        }
        ("POST", "/" | "/tsa") => {
            if req.content_type != "application/timestamp-query" {
                return Response::text(415, "expected application/timestamp-query\n");
            }
            Response {
                status: 200,
                content_type: "application/timestamp-reply",
                body: routes.tsa.respond(&req.body),
            }
        }
        ("GET", "/health") => Response::text(200, "ok\n"),
        ("GET", p) if p.starts_with("/crl/") => {
            let file: Option<PathBuf> = routes
                .crl_dir
                .zip(crl_name(&p["/crl/".len()..]))
                .map(|(d, n)| d.join(n));
            match file.and_then(|f| std::fs::read(f).ok()) {
                Some(bytes) => Response {
                    status: 200,
                    content_type: "application/pkix-crl",
                    body: bytes,
                },
                None => Response::text(404, "no such CRL\n"),
            }
        }
        _ => Response::text(404, "not found\n"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for (the rest of) a request.
    Reading,
    /// A worker is making the answer.
    Working,
    /// Sending the answer.
    Writing,
}

struct Conn {
    stream: TcpStream,
    state: State,
    /// Received and not yet used.
    inbox: Vec<u8>,
    outbox: Vec<u8>,
    sent: usize,
    /// When the current state must be over.
    deadline: Instant,
    /// Close once the answer is sent.
    close_after: bool,
    /// "100 Continue" was sent for the request being read.
    continued: bool,
}

impl Conn {
    fn new(stream: TcpStream, now: Instant) -> Conn {
        Conn {
            stream,
            state: State::Reading,
            inbox: Vec::new(),
            outbox: Vec::new(),
            sent: 0,
            deadline: now + REQUEST_TIMEOUT,
            close_after: false,
            continued: false,
        }
    }

    fn answer(&mut self, bytes: Vec<u8>, close: bool, now: Instant) {
        self.outbox = bytes;
        self.sent = 0;
        self.close_after = close;
        self.state = State::Writing;
        self.deadline = now + WRITE_TIMEOUT;
    }
}

struct Job {
    conn: u64,
    request: Request,
}

/// The event loop: accept, read, hand complete requests to the workers, write their answers,
/// enforce the deadlines; until `stop`.
fn serve_loop(listener: &TcpListener, routes: &Routes<'_>, workers: usize, stop: &AtomicBool) -> std::io::Result<()> {
    let (mut wake_rx, wake_tx) = UnixStream::pair()?;
    wake_rx.set_nonblocking(true)?;
    wake_tx.set_nonblocking(true)?;
    let (job_tx, job_rx) = mpsc::channel::<Job>();
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::channel::<(u64, Vec<u8>, bool)>();
    std::thread::scope(|s| {
        for _ in 0..workers {
            let (job_rx, done_tx, wake_tx) = (&job_rx, done_tx.clone(), &wake_tx);
            s.spawn(move || loop {
                let job = job_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                let Ok(job) = job else { return };
                let close = job.request.close;
                let bytes = handle(&job.request, routes).to_bytes(close);
                if done_tx.send((job.conn, bytes, close)).is_err() {
                    return;
                }
                // A full wake-up socket means the loop is awake already.
                let _ = (&*wake_tx).write(&[1]);
            });
        }
        drop(done_tx);
        let result = event_loop(listener, &mut wake_rx, &job_tx, &done_rx, stop);
        // Closing the queue ends the workers once they are done with what they hold.
        drop(job_tx);
        result
    })
}

fn event_loop(
    listener: &TcpListener,
    wake_rx: &mut UnixStream,
    jobs: &mpsc::Sender<Job>,
    done: &mpsc::Receiver<(u64, Vec<u8>, bool)>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let mut conns: HashMap<u64, Conn> = HashMap::new();
    let mut next_id = 0u64;
    let mut stopping: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if stopping.is_none() && stop.load(Ordering::SeqCst) {
            stopping = Some(now);
            // Nothing new: only answers already being made or sent may finish.
            conns.retain(|_, c| c.state != State::Reading);
        }
        if let Some(t) = stopping {
            if conns.is_empty() || now >= t + STOP_GRACE {
                return Ok(());
            }
        }
        // What to wait for: the listener, the workers' wake-ups, each connection's next step.
        let ids: Vec<u64> = conns.keys().copied().collect();
        let mut fds = Vec::with_capacity(ids.len() + 2);
        let fd = |raw, events| libc::pollfd {
            fd: raw,
            events,
            revents: 0,
        };
        fds.push(fd(wake_rx.as_raw_fd(), libc::POLLIN));
        fds.push(fd(
            if stopping.is_none() { listener.as_raw_fd() } else { -1 },
            libc::POLLIN,
        ));
        for id in &ids {
            let c = &conns[id];
            let events = match c.state {
                State::Reading => libc::POLLIN,
                State::Writing => libc::POLLOUT,
                State::Working => 0,
            };
            fds.push(fd(c.stream.as_raw_fd(), events));
        }
        let nearest = conns.values().map(|c| c.deadline).min().unwrap_or(now + TICK);
        let wait = nearest.saturating_duration_since(now).min(TICK);
        // SAFETY: `fds` is a valid, exclusively borrowed array of pollfd for the call.
        let n = unsafe {
            libc::poll(
                fds.as_mut_ptr(),
                fds.len() as libc::nfds_t,
                wait.as_millis() as libc::c_int + 1,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let now = Instant::now();
        if fds[0].revents != 0 {
            let mut sink = [0u8; 256];
            while matches!(wake_rx.read(&mut sink), Ok(n) if n > 0) {}
        }
        while let Ok((id, bytes, close)) = done.try_recv() {
            if let Some(c) = conns.get_mut(&id) {
                c.answer(bytes, close, now);
            }
        }
        if fds[1].revents != 0 {
            accept_all(listener, &mut conns, &mut next_id, now);
        }
        for (i, id) in ids.iter().enumerate() {
            let revents = fds[i + 2].revents;
            let Some(c) = conns.get_mut(id) else { continue };
            let keep = match c.state {
                State::Reading if revents != 0 => read_from(c, *id, jobs, now),
                // Answers that arrived above are written at once; the rest when writable.
                State::Writing => write_to(c, *id, jobs, now),
                _ => true,
            };
            if !keep {
                conns.remove(id);
            }
        }
        // Over time: a request never completed, an answer never taken. A connection a worker
        // holds is never dropped (its answer is on the way).
        conns.retain(|_, c| c.state == State::Working || c.deadline > now);
    }
}

/// Take every waiting connection; at the cap, the longest-idle reading one makes room.
fn accept_all(listener: &TcpListener, conns: &mut HashMap<u64, Conn>, next_id: &mut u64, now: Instant) {
    loop {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            // A connection that died in the backlog, or out of file descriptors: try later.
            Err(_) => return,
        };
        if conns.len() >= MAX_CONNECTIONS {
            let oldest = conns
                .iter()
                .filter(|(_, c)| c.state == State::Reading)
                .min_by_key(|(_, c)| c.deadline)
                .map(|(id, _)| *id);
            match oldest {
                Some(id) => {
                    conns.remove(&id);
                }
                None => {
                    // Every slot is busy answering: say so and close.
                    let _ = stream.set_nonblocking(true);
                    let _ = (&stream).write(&Response::text(503, "busy\n").to_bytes(true));
                    continue;
                }
            }
        }
        if stream.set_nonblocking(true).is_err() {
            continue;
        }
        let _ = stream.set_nodelay(true);
        conns.insert(*next_id, Conn::new(stream, now));
        *next_id += 1;
    }
}

/// Read what is there; hand a complete request to the workers. False: close the connection.
fn read_from(c: &mut Conn, id: u64, jobs: &mpsc::Sender<Job>, now: Instant) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match c.stream.read(&mut chunk) {
            // The client is gone (or half-closed before sending a whole request).
            Ok(0) => return false,
            Ok(n) => {
                c.inbox.extend_from_slice(&chunk[..n]);
                // Never more than one request's worth: parse decides long before.
                if c.inbox.len() > MAX_HEAD + MAX_OCSP_REQUEST + 4 {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
    next_request(c, id, jobs, now)
}

/// Act on what the inbox holds: a whole request goes to the workers, a refused one is answered.
fn next_request(c: &mut Conn, id: u64, jobs: &mpsc::Sender<Job>, now: Instant) -> bool {
    match parse(&c.inbox) {
        Parsed::Incomplete { continue_100 } => {
            if continue_100 && !c.continued {
                c.continued = true;
                // 25 bytes into a socket that has sent nothing yet: the buffer has room.
                let _ = c.stream.write(b"HTTP/1.1 100 Continue\r\n\r\n");
            }
            true
        }
        Parsed::Complete { request, used } => {
            c.inbox.drain(..used);
            c.continued = false;
            c.state = State::Working;
            jobs.send(Job { conn: id, request }).is_ok()
        }
        Parsed::Refused(r) => {
            c.inbox.clear();
            c.answer(r.to_bytes(true), true, now);
            true
        }
    }
}

/// Send what the socket takes; when the answer is out, close or wait for the next request.
fn write_to(c: &mut Conn, id: u64, jobs: &mpsc::Sender<Job>, now: Instant) -> bool {
    while c.sent < c.outbox.len() {
        match c.stream.write(&c.outbox[c.sent..]) {
            Ok(0) => return false,
            Ok(n) => c.sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
    if c.close_after {
        return false;
    }
    c.outbox = Vec::new();
    c.state = State::Reading;
    c.deadline = now + REQUEST_TIMEOUT;
    // A pipelined request may be waiting already.
    c.inbox.is_empty() || next_request(c, id, jobs, now)
}

/// Serve `tsa` on `addr` until `stop` is set.
pub fn serve(
    addr: &str,
    tsa: Arc<dyn TimeStamper>,
    crl_dir: Option<&Path>,
    stop: Arc<AtomicBool>,
) -> Result<(), TspError> {
    TsaServer::bind(addr)?.run(tsa, crl_dir, &stop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::config::Config;
    use crate::sign::test_pki::{self, KeyKind, Usage};
    use crate::sign::DigestAlg;
    use crate::tsp::{BuiltinTsa, HttpTimeStamper};

    fn complete(raw: &[u8]) -> (Request, usize) {
        match parse(raw) {
            Parsed::Complete { request, used } => (request, used),
            other => panic!("{other:?}"),
        }
    }

    fn refused(raw: &[u8]) -> u16 {
        match parse(raw) {
            Parsed::Refused(r) => r.status,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn requests_are_parsed_with_per_route_limits() {
        let raw = b"POST /tsa?x=1 HTTP/1.1\r\nContent-Type: application/timestamp-query; x=y\r\nContent-Length: 3\r\n\r\nabcGET";
        let (r, used) = complete(raw);
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.content_type.as_str()),
            ("POST", "/tsa", "application/timestamp-query")
        );
        assert_eq!((r.body.as_slice(), used, r.close), (&b"abc"[..], raw.len() - 3, false));
        let (r, _) = complete(b"GET /health HTTP/1.0\r\n\r\n");
        assert!(r.close, "HTTP/1.0 closes by default");
        let (r, _) = complete(b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert!(r.close);
        // The body is announced larger than the route takes: refused before it arrives.
        assert_eq!(refused(b"POST /tsa HTTP/1.1\r\nContent-Length: 60000\r\n\r\nab"), 413);
        assert_eq!(refused(b"POST /ocsp HTTP/1.1\r\nContent-Length: 20000\r\n\r\n"), 413);
        assert_eq!(refused(b"GET /health HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"), 413);
        assert_eq!(
            refused(b"POST /tsa HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            411
        );
        assert_eq!(
            refused(b"POST /tsa HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
            400
        );
        assert_eq!(refused(b"POST /tsa HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
        assert_eq!(refused(b"GET /health\r\n\r\n"), 400);
        assert_eq!(refused(b"GET /health HTTP/2\r\n\r\n"), 400);
        assert_eq!(refused(&[b'a'; MAX_HEAD + 10]), 431);
        // A body within the limit is waited for; "100 Continue" when asked.
        assert_eq!(
            parse(b"POST /tsa HTTP/1.1\r\nContent-Length: 100\r\n\r\nab"),
            Parsed::Incomplete { continue_100: false }
        );
        assert_eq!(
            parse(b"POST /tsa HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n"),
            Parsed::Incomplete { continue_100: true }
        );
        assert_eq!(parse(b"GET /hea"), Parsed::Incomplete { continue_100: false });
    }

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
        handle.join().unwrap().unwrap();
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
        handle.join().unwrap().unwrap();
    }
}
