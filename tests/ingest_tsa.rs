//! End-to-end: `hozon ingest` against a TSA nobody here wrote — OpenSSL's `ts -reply` behind
//! tests/support/tsa_server.py — with a test PKI from tests/support/make_pki.sh. The archive must
//! pass the peer checks with on-line revocation; a misbehaving TSA must leave the document
//! un-archived with a reason code, and a rerun must pick it up.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use support::*;

struct PeerWorld {
    dir: tempfile::TempDir,
    pki: PathBuf,
    port: u16,
    _tsa: Background,
}

impl PeerWorld {
    fn new() -> Option<PeerWorld> {
        if !(have("openssl", &["version"]) && have("python3", &["--version"]) && have_python_module("asn1crypto")) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let pki = dir.path().join("pki");
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let o = Command::new("bash")
            .arg(repo_root().join("tests/support/make_pki.sh"))
            .arg(&pki)
            .arg("試験パスワード")
            .arg(&base)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "make_pki.sh failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let child = Command::new("python3")
            .arg(repo_root().join("tests/support/tsa_server.py"))
            .args(["--pki"])
            .arg(&pki)
            .args(["--port", &port.to_string(), "--lifetime", "600", "--log-requests"])
            .arg(dir.path().join("requests.jsonl"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port);
        Some(PeerWorld {
            dir,
            pki,
            port,
            _tsa: Background(child),
        })
    }

    /// A config using the test PKI's RSA signer and the OpenSSL TSA (with an optional fault).
    fn config(&self, fault: Option<&str>) -> PathBuf {
        let url = match fault {
            Some(f) => format!("http://127.0.0.1:{}/tsa?fault={f}", self.port),
            None => format!("http://127.0.0.1:{}/tsa", self.port),
        };
        let text = format!(
            r#"
default_profile = "chart"
default_signer = "test"
[tsa]
url = "{url}"
timeout_secs = 2
retries = 1
backoff_ms = 100
deadline_secs = 6
[trust]
roots = ["{root}"]
[revocation]
timeout_secs = 3
# the test PKI's CRL and OCSP servers are on 127.0.0.1
allow_private_addresses = true
[signers.test]
name = "試験 署名者"
pkcs12 = "{p12}"
password_file = "{pw}"
[profiles.chart]
"#,
            root = self.pki.join("root.pem").display(),
            p12 = self.pki.join("signer-rsa.p12").display(),
            pw = self.pki.join("password.txt").display(),
        );
        let name = format!("hozon-{}.toml", fault.unwrap_or("ok"));
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn ingest(&self, config: &Path, input: &Path, out: &Path) -> (std::process::Output, Value) {
        let o = hozon(
            &[
                "--config",
                config.to_str().unwrap(),
                "ingest",
                input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--json",
                "-",
            ],
            self.dir.path(),
            &[],
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{}", text(&o)));
        (o, v)
    }
}

fn jpeg(path: &Path, seed: u8) {
    let img = image::RgbImage::from_fn(300, 420, |x, y| {
        image::Rgb([(x as u8).wrapping_mul(seed), y as u8, 200])
    });
    let mut bytes = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80);
    enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(300));
    enc.encode_image(&img).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn pdfs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p)
            } else if p.extension().is_some_and(|x| x == "pdf") {
                out.push(p)
            }
        }
    }
    out
}

#[test]
fn openssl_tsa_archive_passes_peers_with_online_revocation_and_embedded_crls() {
    let Some(w) = PeerWorld::new() else { return };
    let input = w.dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    jpeg(&input.join("紹介状_1.jpg"), 3);
    let out = w.dir.path().join("archive");
    let (o, v) = w.ingest(&w.config(None), &input, &out);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(v["summary"]["archived"], 1, "{v:#}");
    assert_eq!(v["documents"][0]["level"], "B-LT", "{v:#}");
    let files = pdfs(&out);
    assert_eq!(files.len(), 1);
    // B-LT: the DSS carries the CRLs of the signer's and the TSA's issuer, fetched from the CDPs.
    let bytes = std::fs::read(&files[0]).unwrap();
    let dss = hozon::pdf::read_dss(&bytes).unwrap();
    assert!(!dss.crls.is_empty(), "no CRLs in the DSS");
    assert!(
        dss.certs.len() >= 3,
        "signer, TSA, intermediate and root expected; got {}",
        dss.certs.len()
    );
    assert_crosscheck(&files[0], &w.pki.join("root.pem"), false, true);
}

#[test]
fn misbehaving_tsa_never_yields_a_timestamped_archive_and_a_rerun_recovers() {
    let Some(w) = PeerWorld::new() else { return };
    let input = w.dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    jpeg(&input.join("page.jpg"), 5);
    let out = w.dir.path().join("archive");
    for (fault, code) in [
        ("wrong-nonce", "tsa-invalid-response"),
        ("wrong-imprint", "tsa-invalid-response"),
        ("no-nonce", "tsa-invalid-response"),
        ("garbage", "tsa-invalid-response"),
        ("rejection", "tsa-rejected"),
        ("http500", "tsa-unavailable"),
        ("timeout", "tsa-unavailable"),
        ("untrusted-tsa", "tsa-untrusted"),
    ] {
        let (o, v) = w.ingest(&w.config(Some(fault)), &input, &out);
        assert_eq!(o.status.code(), Some(1), "{fault}: {}", text(&o));
        let d = &v["documents"][0];
        assert_eq!(d["outcome"], "failed", "{fault}: {d:#}");
        assert_eq!(d["reasons"][0]["code"], code, "{fault}: {d:#}");
        assert!(pdfs(&out).is_empty(), "{fault}: an archive file appeared");
    }
    // the TSA is down altogether
    let down = w.config(None);
    let text_cfg = std::fs::read_to_string(&down)
        .unwrap()
        .replace(&format!(":{}/tsa", w.port), &format!(":{}/tsa", free_port()));
    std::fs::write(&down, text_cfg).unwrap();
    let (_, v) = w.ingest(&down, &input, &out);
    assert_eq!(v["documents"][0]["reasons"][0]["code"], "tsa-unavailable", "{v:#}");
    // a rerun with a working TSA archives it
    let (o, v) = w.ingest(&w.config(None), &input, &out);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(v["summary"]["archived"], 1);
    assert_eq!(pdfs(&out).len(), 1);
    // the audit log recorded every failure and the archive, and its chain holds
    let audit = hozon::archive::inspect::audit_archive(&out).unwrap();
    assert!(audit.ok(), "{:?}", audit.problems);
    assert_eq!(audit.log_entries, 10, "9 failures + 1 archived");
}
