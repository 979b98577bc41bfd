//! Keys and secrets: key and password files readable by group or others are refused
//! (`key-permissions`, exit 2); passwords never show up in argv, stdout, stderr, JSON reports,
//! the audit log, the catalog or the archive files, whatever fails (wrong password, TSA down, a
//! hostile TSA echoing the credentials); TLS checks cannot be switched off by config; and no
//! sidecar value or file name steers where hozon writes.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::*;

const SECRET: &str = "hozon-秘密-Zq8vX3-signerpass";
const WRONG: &str = "hozon-誤り-Kp2mW9-wrongpass";
const TSA_SECRET: &str = "hozon-TSA-鍵-Rt5nB1-tsapass";

fn jpeg_page(path: &Path, seed: u8) {
    let img = image::RgbImage::from_fn(240, 340, |x, y| {
        if (y / 9) % 3 == 0 && (x + u32::from(seed) * 5) % 41 > 5 {
            image::Rgb([20, 20, 40])
        } else {
            image::Rgb([250, 248, 240])
        }
    });
    let mut bytes = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80);
    enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(300));
    enc.encode_image(&img).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn set_mode(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A demo world plus a signer `custom` whose PKCS#12 is encrypted with SECRET.
struct World {
    dir: tempfile::TempDir,
    input: PathBuf,
    shipped: String,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        std::fs::create_dir_all(&input).unwrap();
        jpeg_page(&input.join("紹介状.jpg"), 1);
        let shipped = std::fs::read_to_string(repo_root().join("config/hozon.toml"))
            .unwrap()
            .replace("archive = \"../archive\"", "archive = \"archive\"")
            .replace("\"../.hozon/", "\".hozon/")
            .replace("fetch = true", "fetch = false");
        let w = World { dir, input, shipped };
        w.write_config("base.toml", "");
        // create the demo PKI
        let o = w.ingest("base.toml", "warm", &[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        // re-encrypt the demo signer's PKCS#12 under SECRET (password passed by env, not argv)
        let demo = w.dir.path().join(".hozon/demo");
        let pem = w.dir.path().join("signer-plain.pem");
        let st = Command::new("openssl")
            .args(["pkcs12", "-in"])
            .arg(demo.join("signer.p12"))
            .arg("-passin")
            .arg(format!("file:{}", demo.join("signer.pass").display()))
            .args(["-nodes", "-out"])
            .arg(&pem)
            .status()
            .unwrap();
        assert!(st.success());
        let p12 = w.dir.path().join("custom.p12");
        let st = Command::new("openssl")
            .args(["pkcs12", "-export", "-in"])
            .arg(&pem)
            .args(["-passout", "env:P12PW", "-out"])
            .arg(&p12)
            .env("P12PW", SECRET)
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::remove_file(&pem).unwrap();
        set_mode(&p12, 0o600);
        let pw = w.dir.path().join("custom.pass");
        std::fs::write(&pw, format!("{SECRET}\n")).unwrap();
        set_mode(&pw, 0o600);
        w
    }

    /// Write a config: the shipped demo one with `default_signer` replaced and `extra` appended.
    fn write_config(&self, name: &str, extra: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, format!("{}\n{extra}", self.shipped)).unwrap();
        p
    }

    fn ingest(&self, config: &str, out: &str, env: &[(&str, &str)]) -> Output {
        let cfg = self.dir.path().join(config);
        let out = self.dir.path().join(out);
        hozon(
            &[
                "--config",
                cfg.to_str().unwrap(),
                "ingest",
                self.input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--json",
                "-",
            ],
            self.dir.path(),
            env,
        )
    }
}

fn custom_signer(password: &str) -> String {
    format!("\n[signers.custom]\nname = \"検証 太郎\"\npkcs12 = \"custom.p12\"\n{password}\n")
}

/// Every byte hozon left anywhere: its outputs and every file in the archive folder (catalog,
/// its WAL, audit log, PDFs, temp leftovers).
fn assert_no_secret(o: &Output, archive: &Path, secrets: &[&str]) {
    let mut blobs: Vec<(String, Vec<u8>)> =
        vec![("stdout".into(), o.stdout.clone()), ("stderr".into(), o.stderr.clone())];
    let mut stack = vec![archive.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                blobs.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    for s in secrets {
        let needles: Vec<Vec<u8>> = vec![
            s.as_bytes().to_vec(),
            // a basic-auth header or anything base64'd
            base64(format!("hospital:{s}").as_bytes()).into_bytes(),
            // the ASCII tail alone, in case the UTF-8 part got mangled
            s.rsplit('-').next().unwrap().as_bytes().to_vec(),
        ];
        for (name, blob) in &blobs {
            for n in &needles {
                assert!(
                    !blob.windows(n.len()).any(|w| w == n.as_slice()),
                    "secret {s:?} (as {:?}) leaked into {name}\n{}",
                    String::from_utf8_lossy(n),
                    text(o)
                );
            }
        }
    }
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The base config with the TSA pointed at `url` (fast failure: no retries, short timeouts).
fn with_tsa(base: &str, url: &str, extra: &str) -> String {
    base.replacen("url = \"builtin:demo\"\n", &format!("url = \"{url}\"\n{extra}"), 1)
        .replacen("timeout_secs = 10\n", "timeout_secs = 3\n", 1)
        .replacen("retries = 2\n", "retries = 0\n", 1)
        .replacen("deadline_secs = 60\n", "deadline_secs = 6\n", 1)
}

fn stderr_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn base64_matches_the_rfc_examples() {
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(b"fooba"), "Zm9vYmE=");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
}

#[test]
fn passwords_never_leak_and_loose_key_files_are_refused() {
    let w = World::new();
    let env_pw = custom_signer("password_env = \"HOZON_TEST_SIGNER_PW\"");
    let file_pw = custom_signer("password_file = \"custom.pass\"");

    // 1. password from the environment, everything works: the secret is nowhere
    w.write_config("env.toml", &env_pw);
    let cfg = std::fs::read_to_string(w.dir.path().join("env.toml"))
        .unwrap()
        .replace("default_signer = \"demo\"", "default_signer = \"custom\"");
    std::fs::write(w.dir.path().join("env.toml"), cfg).unwrap();
    let o = w.ingest("env.toml", "a1", &[("HOZON_TEST_SIGNER_PW", SECRET)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["archived"], 1);
    assert_no_secret(&o, &w.dir.path().join("a1"), &[SECRET]);

    // 2. wrong password: a clear error, exit 2, and neither password shows
    let o = w.ingest("env.toml", "a2", &[("HOZON_TEST_SIGNER_PW", WRONG)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        stderr_of(&o).contains("custom"),
        "the error names the signer\n{}",
        text(&o)
    );
    assert_no_secret(&o, &w.dir.path().join("a2"), &[SECRET, WRONG]);

    // 3. password file readable by others: refused with key-permissions
    let cfg = std::fs::read_to_string(w.dir.path().join("env.toml"))
        .unwrap()
        .replace(&env_pw, &file_pw);
    std::fs::write(w.dir.path().join("file.toml"), cfg).unwrap();
    let o = w.ingest("file.toml", "a3", &[]);
    assert_eq!(o.status.code(), Some(0), "0600 password file works\n{}", text(&o));
    assert_no_secret(&o, &w.dir.path().join("a3"), &[SECRET]);
    for (file, mode) in [
        ("custom.pass", 0o644),
        ("custom.pass", 0o640),
        ("custom.p12", 0o644),
        ("custom.p12", 0o604),
    ] {
        let p = w.dir.path().join(file);
        set_mode(&p, mode);
        let o = w.ingest("file.toml", "a4", &[]);
        set_mode(&p, 0o600);
        assert_eq!(o.status.code(), Some(2), "{file} mode {mode:o}\n{}", text(&o));
        assert!(
            stderr_of(&o).contains("[key-permissions]"),
            "{file} mode {mode:o} must be refused with key-permissions\n{}",
            text(&o)
        );
        assert_no_secret(&o, &w.dir.path().join("a4"), &[SECRET]);
        assert!(
            archived_pdfs(&w.dir.path().join("a4")).is_empty(),
            "nothing archived with a refused key"
        );
    }

    // 4. a PEM key (`key` + `chain`) with mode 0644 is refused the same way
    let demo = w.dir.path().join(".hozon/demo");
    let key = w.dir.path().join("signer.key");
    let st = Command::new("openssl")
        .args(["pkcs12", "-in"])
        .arg(w.dir.path().join("custom.p12"))
        .args(["-nocerts", "-nodes", "-passin", "env:P12PW", "-out"])
        .arg(&key)
        .env("P12PW", SECRET)
        .status()
        .unwrap();
    assert!(st.success());
    set_mode(&key, 0o644);
    let pem_signer = format!(
        "\n[signers.pem]\nname = \"PEM\"\nkey = \"signer.key\"\nchain = \"{}\"\n",
        demo.join("signer.pem").display()
    );
    let cfg = w.write_config("pem.toml", &pem_signer);
    let cfg_text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("default_signer = \"demo\"", "default_signer = \"pem\"");
    std::fs::write(&cfg, cfg_text).unwrap();
    let o = w.ingest("pem.toml", "a5", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(stderr_of(&o).contains("[key-permissions]"), "{}", text(&o));
}

/// A TSA that is down, and one that answers with the credentials it was sent (a hostile or
/// misconfigured server): the TSA password must not reach the operator's screen or files.
/// Credentials go only over TLS, so both are https:// TSAs.
#[test]
fn tsa_password_never_leaks_when_the_tsa_fails() {
    let w = World::new();
    let down_port = free_port();
    let base = std::fs::read_to_string(w.dir.path().join("base.toml")).unwrap();
    self_signed_tls(w.dir.path());
    let make = |name: &str, url: &str| {
        let t = with_tsa(
            &base,
            url,
            "username = \"hospital\"\npassword_env = \"HOZON_TEST_TSA_PW\"\ntls_ca = \"tls.pem\"\n",
        ) + &custom_signer("password_file = \"custom.pass\"");
        let t = t.replace("default_signer = \"demo\"", "default_signer = \"custom\"");
        std::fs::write(w.dir.path().join(name), t).unwrap();
    };

    make("down.toml", &format!("https://127.0.0.1:{down_port}/tsa"));
    let o = w.ingest("down.toml", "d1", &[("HOZON_TEST_TSA_PW", TSA_SECRET)]);
    assert_eq!(o.status.code(), Some(1), "TSA down: the document fails\n{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["failed"], 1, "{v:#}");
    assert_no_secret(&o, &w.dir.path().join("d1"), &[TSA_SECRET, SECRET]);

    // an echoing server: replies 401/500/200 with every request header in the body
    let (port, heard) = echo_tls_server(&w.dir.path().join("tls.pem"), &w.dir.path().join("tls.key"));
    make("echo.toml", &format!("https://127.0.0.1:{port}/tsa"));
    for out in ["e1", "e2", "e3"] {
        let o = w.ingest("echo.toml", out, &[("HOZON_TEST_TSA_PW", TSA_SECRET)]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert_no_secret(&o, &w.dir.path().join(out), &[TSA_SECRET, SECRET]);
    }
    // The server did get the credentials (over TLS): the test exercised the echo.
    let auth = format!("basic {}", base64(format!("hospital:{TSA_SECRET}").as_bytes()).to_lowercase());
    assert!(
        heard.lock().unwrap().iter().any(|h| h.to_lowercase().contains(&auth)),
        "the TSA never received the basic-auth header"
    );
}

/// Basic auth or a client certificate with a plain http:// TSA is a configuration error before
/// anything is sent: exit 2, `credentials-over-http`, advice in the operator's language.
#[test]
fn tsa_credentials_over_plain_http_are_refused() {
    let w = World::new();
    let base = std::fs::read_to_string(w.dir.path().join("base.toml")).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://127.0.0.1:{}/tsa", listener.local_addr().unwrap().port());
    for (name, extra) in [
        ("basic.toml", "username = \"hospital\"\npassword_env = \"HOZON_TEST_TSA_PW\"\n"),
        ("client.toml", "client_pkcs12 = \"custom.p12\"\npassword_env = \"HOZON_TEST_TSA_PW\"\n"),
    ] {
        std::fs::write(w.dir.path().join(name), with_tsa(&base, &url, extra)).unwrap();
        let o = w.ingest(name, "never", &[("HOZON_TEST_TSA_PW", TSA_SECRET)]);
        assert_eq!(o.status.code(), Some(2), "{name}\n{}", text(&o));
        let err = stderr_of(&o);
        assert!(err.contains("[credentials-over-http]") && err.contains("https://"), "{name}\n{err}");
        assert!(err.contains("→"), "{name}: no advice\n{err}");
        assert!(!w.dir.path().join("never").exists(), "{name}: nothing may be written");
        assert_no_secret(&o, &w.dir.path().join("never"), &[TSA_SECRET]);
        let cfg = w.dir.path().join(name);
        let o = hozon(&["--lang", "ja", "--config", cfg.to_str().unwrap(), "check", "."], w.dir.path(), &[]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(stderr_of(&o).contains("暗号化されずに"), "{}", text(&o));
    }
    assert!(listener.accept().is_err(), "nothing may connect to the http:// TSA");
}

/// A self-signed TLS certificate for 127.0.0.1: `tls.pem` and `tls.key` in `dir`.
fn self_signed_tls(dir: &Path) {
    let st = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(dir.join("tls.key"))
        .arg("-out")
        .arg(dir.join("tls.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    set_mode(&dir.join("tls.key"), 0o600);
}

/// An HTTPS server on 127.0.0.1 that answers each connection's request with the request's
/// headers as the body, status 401, 500, 200 in turn. Returns its port and the heads it heard.
fn echo_tls_server(cert: &Path, key: &Path) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod};
    use std::io::{Read, Write};
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
    acceptor.set_private_key_file(key, SslFiletype::PEM).unwrap();
    acceptor.set_certificate_chain_file(cert).unwrap();
    let acceptor = std::sync::Arc::new(acceptor.build());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = heard.clone();
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(stream) = stream else { continue };
            let (acceptor, log) = (acceptor.clone(), log.clone());
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
                let Ok(mut tls) = acceptor.accept(stream) else { return };
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&got).into_owned();
                let head = head.split("\r\n\r\n").next().unwrap_or("").to_string();
                log.lock().unwrap().push(head.clone());
                let code = [401, 500, 200][i % 3];
                let _ = write!(
                    tls,
                    "HTTP/1.1 {code} Echo\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
                    head.len()
                );
                let _ = tls.shutdown();
            });
        }
    });
    (port, heard)
}

/// TLS: the config has no switch to turn certificate checks off (unknown keys are errors), and
/// a TSA with a certificate nobody configured is refused; naming its CA in `tls_ca` is the one
/// explicit way to trust it.
#[test]
fn tls_checks_cannot_be_turned_off() {
    if !have("openssl", &["version"]) {
        return;
    }
    let w = World::new();
    let base = std::fs::read_to_string(w.dir.path().join("base.toml")).unwrap();
    for knob in [
        "danger_accept_invalid_certs = true",
        "insecure = true",
        "verify_tls = false",
        "tls_verify = false",
    ] {
        let t = base.replace(
            "url = \"builtin:demo\"\n",
            &format!("url = \"https://127.0.0.1:9/tsa\"\n{knob}\n"),
        );
        std::fs::write(w.dir.path().join("knob.toml"), t).unwrap();
        let o = w.ingest("knob.toml", "k", &[]);
        assert_eq!(o.status.code(), Some(2), "{knob} must be refused\n{}", text(&o));
        assert!(stderr_of(&o).contains("unknown field"), "{knob}\n{}", text(&o));
    }

    // a self-signed HTTPS "TSA"
    let d = w.dir.path();
    self_signed_tls(d);
    let port = free_port();
    let _srv = Background(
        Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept", &port.to_string(), "-cert"])
            .arg(d.join("tls.pem"))
            .arg("-key")
            .arg(d.join("tls.key"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(port);
    let url = format!("https://127.0.0.1:{port}/tsa");
    std::fs::write(d.join("tls.toml"), with_tsa(&base, &url, "")).unwrap();
    let o = w.ingest("tls.toml", "t1", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let doc = &v["documents"][0];
    assert_eq!(doc["outcome"], "failed", "{v:#}");
    let untrusted_msg = doc["reasons"].to_string();
    assert!(
        untrusted_msg.to_lowercase().contains("certificate") || untrusted_msg.to_lowercase().contains("tls"),
        "the failure should say the TLS certificate was not trusted: {untrusted_msg}"
    );
    // with tls_ca the handshake succeeds and the (non-TSA) answer is what fails
    std::fs::write(d.join("tls_ca.toml"), with_tsa(&base, &url, "tls_ca = \"tls.pem\"\n")).unwrap();
    let o = w.ingest("tls_ca.toml", "t2", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let trusted_msg = v["documents"][0]["reasons"].to_string();
    assert_ne!(trusted_msg, untrusted_msg, "tls_ca changed nothing: {trusted_msg}");
    assert!(archived_pdfs(&d.join("t1")).is_empty() && archived_pdfs(&d.join("t2")).is_empty());
}

fn archived_pdfs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pdf") {
                out.push(p);
            }
        }
    }
    out
}

fn all_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// No sidecar value or file name decides where hozon writes: archive paths come only from the
/// document id (hash of the sources) and the timestamp's date.
#[test]
fn sidecar_values_and_file_names_cannot_steer_output() {
    let w = World::new();
    let input = w.dir.path().join("hostile");
    // a folder and file names full of separators and dots (a backslash is legal on unix; names
    // starting with a dot are hidden files, which hozon skips)
    let doc = input.join("a\\..\\..\\evil");
    std::fs::create_dir_all(&doc).unwrap();
    jpeg_page(&doc.join("x\\..\\..\\..\\passwd.jpg"), 7);
    std::fs::write(
        doc.join("document.json"),
        r#"{"patient_id":"../../../../etc/cron.d/x","document_type":"../../evil","scanned_by":"/etc/passwd",
            "information_manager":"..\\..\\x","notes":"../","paper_location":"/tmp/evil","responsible":"../../r",
            "reason":"../../../reason","location":"/dev/null"}"#,
    )
    .unwrap();
    let single = input.join("x..%2F..%2Fetc.jpg");
    jpeg_page(&single, 8);
    let before: Vec<PathBuf> = all_files(w.dir.path());
    let out = w.dir.path().join("nest/archive");
    let cfg = w.dir.path().join("base.toml");
    let o = hozon(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "ingest",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--json",
            "-",
        ],
        w.dir.path(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["archived"], 2, "{v:#}");
    let after = all_files(w.dir.path());
    let new: Vec<&PathBuf> = after.iter().filter(|p| !before.contains(p)).collect();
    for p in &new {
        assert!(
            p.starts_with(&out),
            "hozon wrote outside the archive folder: {}",
            p.display()
        );
        let rel = p.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
        let ok = matches!(
            rel.as_str(),
            "catalog.sqlite" | "catalog.sqlite-wal" | "catalog.sqlite-shm" | "audit.jsonl" | ".hozon.lock"
        ) || is_archive_path(&rel);
        assert!(ok, "unexpected file in the archive: {rel}");
    }
    assert_eq!(
        new.iter().filter(|p| p.extension().is_some_and(|x| x == "pdf")).count(),
        2
    );
    // the sources are untouched and nothing appeared beside them
    assert!(all_files(&input).iter().all(|p| before.contains(p)));
}

/// `YYYY/MM/DD/<32 hex>.pdf`
fn is_archive_path(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    let [y, m, d, f] = parts[..] else { return false };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    digits(y, 4)
        && digits(m, 2)
        && digits(d, 2)
        && f.strip_suffix(".pdf")
            .is_some_and(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
}

#[test]
fn no_password_flag_exists() {
    let dir = tempfile::tempdir().unwrap();
    for args in [vec!["--help"], vec!["ingest", "--help"], vec!["tsa", "serve", "--help"]] {
        let o = hozon(&args, dir.path(), &[]);
        let s = String::from_utf8_lossy(&o.stdout).to_lowercase();
        assert!(
            !s.contains("--password") && !s.contains("--pass "),
            "{args:?} offers a password flag:\n{s}"
        );
    }
    let o = hozon(&["ingest", "x", "--password", SECRET], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    // clap echoes the unknown *flag*, never its value
    assert!(!String::from_utf8_lossy(&o.stderr).contains(SECRET), "{}", text(&o));
}
