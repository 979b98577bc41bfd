//! End-to-end RFC 4998: a hundred archives renewed with ONE TSA request (counted in the test
//! TSA's request log), a second generation (timestamp renewal) and a hash-tree renewal when
//! SHA-256 is configured as weakening; BouncyCastle (tests/support/ers-check.sh) must accept every
//! record hozon writes and reject a tampered document and a record paired with the wrong file.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use support::*;

fn jpeg(path: &Path, seed: u32) {
    let img = image::RgbImage::from_fn(64, 90, |x, y| image::Rgb([(x * seed) as u8, (y + seed) as u8, seed as u8]));
    let mut bytes = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80);
    enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(300));
    enc.encode_image(&img).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn tsa_requests(log: &Path) -> usize {
    std::fs::read_to_string(log).unwrap_or_default().lines().filter(|l| l.contains("\"/tsa")).count()
}

fn pairs(root: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p)
            } else if p.extension().is_some_and(|x| x == "pdf") {
                out.push((p.with_extension("ers"), p));
            }
        }
    }
    out.sort();
    out
}

fn bc_verify(root: &Path, pairs: &[(PathBuf, PathBuf)]) -> (bool, String) {
    let mut c = Command::new("bash");
    c.arg(repo_root().join("tests/support/ers-check.sh")).args(["verify", "--trust"]).arg(root);
    for (ers, pdf) in pairs {
        c.arg(ers).arg(pdf);
    }
    let o = c.output().unwrap();
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn a_hundred_archives_one_timestamp_bouncycastle_accepts_every_record() {
    if !(have("openssl", &["version"]) && have("java", &["-version"]) && have("javac", &["-version"]) && have_python_module("asn1crypto")) {
        return;
    }
    if !Path::new("/usr/share/java/bcpkix.jar").exists() {
        assert!(!peers_required(), "BouncyCastle (libbcpkix-java) is required");
        eprintln!("\n*** SKIP: BouncyCastle jars not installed ***\n");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let port = free_port();
    let o = Command::new("bash").arg(repo_root().join("tests/support/make_pki.sh")).arg(&pki).arg("pw").arg(format!("http://127.0.0.1:{port}")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = dir.path().join("requests.jsonl");
    let child = Command::new("python3")
        .arg(repo_root().join("tests/support/tsa_server.py"))
        .arg("--pki").arg(&pki)
        .args(["--port", &port.to_string(), "--lifetime", "600", "--log-requests"]).arg(&log)
        .stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null())
        .spawn().unwrap();
    let _tsa = Background(child);
    wait_for_port(port);

    // demo signer, the OpenSSL TSA (trusted through the test PKI's root)
    let shipped = std::fs::read_to_string(repo_root().join("config/hozon.toml")).unwrap();
    let root = pki.join("root.pem");
    let cfg_text = |weak: &str| {
        shipped
            .replace("\"../.hozon/", "\".hozon/")
            .replace("url = \"builtin:demo\"", &format!("url = \"http://127.0.0.1:{port}/tsa\""))
            .replace("trust = []", &format!("trust = [\"{}\"]", root.display()))
            .replace("level = \"B-LT\"", "level = \"B-T\"")
            .replace("weak_algorithms = [\"sha1\", \"md5\", \"rsa<2048\"]", weak)
    };
    let config = dir.path().join("hozon.toml");
    std::fs::write(&config, cfg_text("weak_algorithms = [\"sha1\"]")).unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for i in 0..100 {
        jpeg(&input.join(format!("文書_{i:03}.jpg")), i + 1);
    }
    let out = dir.path().join("archive");
    let run = |args: &[&str]| {
        let mut a = vec!["--config", config.to_str().unwrap()];
        a.extend_from_slice(args);
        hozon(&a, dir.path(), &[])
    };
    let o = run(&["ingest", input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let after_ingest = tsa_requests(&log);
    assert_eq!(after_ingest, 100, "one signature timestamp per document");

    let renew = |extra: &[&str]| -> Value {
        let mut a = vec!["renew", out.to_str().unwrap(), "--evidence", "ers", "--within", "100000", "--json", "-"];
        a.extend_from_slice(extra);
        let o = run(&a);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let v = renew(&[]);
    assert_eq!(v["summary"]["renewed"], 100, "{v:#}");
    assert_eq!(tsa_requests(&log), after_ingest + 1, "a hundred archives, one timestamp");
    let ps = pairs(&out);
    assert_eq!(ps.len(), 100);
    for (ers, _) in &ps {
        let size = std::fs::metadata(ers).unwrap().len();
        assert!(size < 8 * 1024, "{} is {size} bytes: a record holds one token and ~log2 N hashes", ers.display());
    }
    let (ok, msg) = bc_verify(&root, &ps);
    assert!(ok, "BouncyCastle rejected a record:\n{msg}");

    // second generation: timestamp renewal, again one request
    let v = renew(&[]);
    assert_eq!(v["summary"]["renewed"], 100, "{v:#}");
    assert_eq!(tsa_requests(&log), after_ingest + 2);
    let (ok, msg) = bc_verify(&root, &ps);
    assert!(ok, "after timestamp renewal:\n{msg}");

    // SHA-256 declared weakening: hash-tree renewal to a new chain, one request
    std::fs::write(&config, cfg_text("weak_algorithms = [\"sha1\", \"sha256\"]")).unwrap();
    let v = renew(&[]);
    assert_eq!(v["summary"]["renewed"], 100, "{v:#}");
    assert_eq!(tsa_requests(&log), after_ingest + 3);
    let (ok, msg) = bc_verify(&root, &ps);
    assert!(ok, "after hash-tree renewal:\n{msg}");

    // BouncyCastle rejects a tampered document and a record paired with the wrong file
    let tampered = dir.path().join("tampered.pdf");
    let mut bytes = std::fs::read(&ps[0].1).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&tampered, &bytes).unwrap();
    let (ok, _) = bc_verify(&root, &[(ps[0].0.clone(), tampered)]);
    assert!(!ok, "a tampered document must fail");
    let (ok, _) = bc_verify(&root, &[(ps[0].0.clone(), ps[1].1.clone())]);
    assert!(!ok, "a record paired with the wrong file must fail");
    let audit = hozon::archive::inspect::audit_archive(&out).unwrap();
    assert!(audit.ok(), "{:?}", audit.problems);
}
