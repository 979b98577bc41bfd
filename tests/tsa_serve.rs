//! `hozon tsa serve` against bad clients: with hundreds of idle sockets, half-sent requests,
//! a body announced far larger than it is and a client dribbling its head byte by byte all held
//! open, `/health` and a timestamp request are still answered within a second, the server's
//! threads stay few, and SIGTERM or SIGINT stop it within a second.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hozon::tsp::TimeStamper;
use support::*;

/// The shipped demo config in `dir`, its demo PKI's URLs on `port`.
fn demo_config(dir: &Path, port: u16) -> std::path::PathBuf {
    let shipped = std::fs::read_to_string(repo_root().join("config/hozon.toml")).unwrap();
    let cfg = shipped
        .replace("\"../.hozon/", "\".hozon/")
        .replace("archive = \"../archive\"", "archive = \"archive\"")
        .replace(
            "base_url = \"http://127.0.0.1:8318\"",
            &format!("base_url = \"http://127.0.0.1:{port}\""),
        );
    let p = dir.join("hozon.toml");
    std::fs::write(&p, cfg).unwrap();
    p
}

/// The server, killed when dropped (a failing test leaves nothing running).
fn start(config: &Path, dir: &Path, port: u16) -> Background {
    let child = Command::new(hozon_bin())
        .arg("--config")
        .arg(config)
        .args(["tsa", "serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The first start makes the demo PKI (RSA keys): give it time.
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "hozon tsa serve did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    Background(child)
}

fn threads_of(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

/// Send `signal` and wait for the exit; the time it took.
fn stop_with(child: &mut Child, signal: libc::c_int) -> (Duration, std::process::ExitStatus) {
    let t = Instant::now();
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (t.elapsed(), status);
        }
        if t.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hozon tsa serve still running 5 s after signal {signal}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s
}

/// One request on a fresh connection; the status code and the time to the whole answer.
fn raw_request(port: u16, request: &[u8]) -> (u16, Vec<u8>, Duration) {
    let t = Instant::now();
    let mut s = connect(port);
    s.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let head = String::from_utf8_lossy(&answer).into_owned();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, answer, t.elapsed())
}

#[test]
fn slow_and_idle_clients_do_not_stall_the_server_and_signals_stop_it() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = demo_config(dir.path(), port);
    let mut server = start(&config, dir.path(), port);
    let pid = server.0.id();

    // 300 idle sockets (more than the server keeps: the longest-idle make room)...
    let mut held: Vec<TcpStream> = (0..300).map(|_| connect(port)).collect();
    // ...requests whose bodies never come, on the timestamp and OCSP routes...
    for path in ["/tsa", "/ocsp", "/"] {
        for _ in 0..5 {
            let mut s = connect(port);
            s.write_all(
                format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/timestamp-query\r\nContent-Length: 100\r\n\r\nab").as_bytes(),
            )
            .unwrap();
            held.push(s);
        }
    }
    // ...and heads that stop half-way.
    for _ in 0..5 {
        let mut s = connect(port);
        s.write_all(b"GET /hea").unwrap();
        held.push(s);
    }
    // The request from the report: 60000 bytes announced, 2 sent. Refused at once now.
    let t = Instant::now();
    let mut big = connect(port);
    big.write_all(
        b"POST /tsa HTTP/1.1\r\nContent-Type: application/timestamp-query\r\nContent-Length: 60000\r\n\r\nab",
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = big.read_to_end(&mut answer);
    assert!(
        answer.starts_with(b"HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(t.elapsed() < Duration::from_secs(1), "413 took {:?}", t.elapsed());
    held.push(big);

    let threads = threads_of(pid);
    assert!(threads <= 12, "{threads} threads for {} open connections", held.len());

    // Every route still answers within a second.
    let (status, body, took) = raw_request(port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(took < Duration::from_secs(1), "/health took {took:?}");
    let (status, _, took) = raw_request(port, b"GET /crl/nothing-here.crl HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 404);
    assert!(took < Duration::from_secs(1), "/crl took {took:?}");

    let text =
        format!("[tsa]\nurl = \"http://127.0.0.1:{port}/tsa\"\ntimeout_secs = 1\nretries = 0\n[profiles.chart]\n");
    let cfg = hozon::config::Config::from_toml(&text, Path::new("t.toml"), dir.path()).unwrap();
    let client = hozon::tsp::HttpTimeStamper::new(&cfg.tsa, &cfg).unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let token = client.timestamp_data(b"signature value").expect("a timestamp");
        assert!(t.elapsed() < Duration::from_secs(1), "timestamp took {:?}", t.elapsed());
        let d = hozon::sign::DigestAlg::Sha256.digest(b"signature value").unwrap();
        token.verify(hozon::sign::DigestAlg::Sha256, &d).unwrap();
    }

    // SIGTERM with all of them still open: gone within a second, exit 0.
    let (took, status) = stop_with(&mut server.0, libc::SIGTERM);
    assert!(took < Duration::from_secs(1), "SIGTERM took {took:?}");
    assert_eq!(status.code(), Some(0), "{status:?}");
    drop(held);

    // SIGINT (Ctrl-C) too, with a connection mid-request.
    let mut server = start(&config, dir.path(), port);
    let mut s = connect(port);
    s.write_all(b"POST /tsa HTTP/1.1\r\nContent-Length: 50\r\n\r\n")
        .unwrap();
    let (took, status) = stop_with(&mut server.0, libc::SIGINT);
    assert!(took < Duration::from_secs(1), "SIGINT took {took:?}");
    assert_eq!(status.code(), Some(0), "{status:?}");
}

/// A connection that sends nothing is closed after the request timeout rather than kept for
/// ever; keep-alive clients get several answers on one connection.
#[test]
fn keep_alive_works_and_idle_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = demo_config(dir.path(), port);
    let mut server = start(&config, dir.path(), port);

    let mut s = connect(port);
    s.write_all(b"GET /health HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\nGET /nothing HTTP/1.1\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.windows(3).filter(|w| w == b"ok\n").count() < 2 || !String::from_utf8_lossy(&got).contains("404") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert_eq!(text.matches("HTTP/1.1 200").count(), 2, "{text}");

    let mut idle = connect(port);
    idle.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let t = Instant::now();
    let n = idle.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "an idle connection gets nothing but a close");
    assert!(t.elapsed() < Duration::from_secs(12), "{:?}", t.elapsed());
    let (took, _) = stop_with(&mut server.0, libc::SIGTERM);
    assert!(took < Duration::from_secs(1));
}
