//! End-to-end `hozon verify` on files signed by pyHanko's CLI with the test PKI
//! (tests/support/make_pki.sh), the OpenSSL TSA (tsa_server.py) and a CRL/OCSP server
//! (revocation_server.py): valid B-T and B-LTA files, every kind of tampering with its reason
//! code, and agreement with pyHanko's validator on each file. Folders, the catalog check and
//! exit codes are exercised through the binary. Skips loudly without pyHanko/openssl/python3.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;
use support::*;

/// The test PKI, servers and pyHanko-signed files, made once per test binary.
struct World {
    _dir: tempfile::TempDir,
    root: PathBuf,
    pki: PathBuf,
    files: PathBuf,
    _servers: Vec<Background>,
}

/// Start a server script that prints "PORT n"; it lives until this process's stdin pipe closes.
fn serve(script: &str, args: &[&str]) -> (Background, u16) {
    let mut child = Command::new("python3")
        .arg(repo_root().join("tests/support").join(script))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .expect("PORT line");
    wait_for_port(port);
    (Background(child), port)
}

fn run_ok(c: &mut Command) {
    let o = c.output().expect("run");
    assert!(o.status.success(), "{:?} failed:\n{}", c, text(&o));
}

/// An unsigned one-page PDF made by hozon's own assembler.
fn unsigned_pdf(path: &Path, shade: u8) {
    let img = image::RgbImage::from_fn(120, 160, |x, y| image::Rgb([shade, (x * 2) as u8, (y * 3 % 251) as u8]));
    let mut jpg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpg, 85)
        .encode_image(&img)
        .unwrap();
    let page = hozon::pdf::ImagePage {
        data: &jpg,
        kind: hozon::pdf::ImageKind::Jpeg,
        dpi_x: 300.0,
        dpi_y: 300.0,
    };
    let meta = hozon::pdf::PdfMetadata {
        title: Some("紹介状".into()),
        author: None,
        subject: None,
        keywords: None,
        creator: "hozon test".into(),
        producer: "hozon test".into(),
        created: time::OffsetDateTime::now_utc(),
        custom: vec![],
    };
    std::fs::write(path, hozon::pdf::assemble(&[page], &meta).unwrap()).unwrap();
}

fn world() -> Option<&'static World> {
    static W: OnceLock<Option<World>> = OnceLock::new();
    W.get_or_init(|| {
        if !(have("pyhanko", &["--version"]) && have("openssl", &["version"]) && have("python3", &["--version"])) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let pki = root.join("pki");
        let files = root.join("files");
        std::fs::create_dir_all(&files).unwrap();
        // The revocation server's port must be known before the certificates name it.
        let rev_port = free_port();
        let base = format!("http://127.0.0.1:{rev_port}");
        run_ok(
            Command::new("bash")
                .arg(repo_root().join("tests/support/make_pki.sh"))
                .arg(&pki)
                .arg("pw")
                .arg(&base),
        );
        let (rev, _) = serve(
            "revocation_server.py",
            &["--pki", pki.to_str().unwrap(), "--port", &rev_port.to_string()],
        );
        let (tsa, tsa_port) = serve("tsa_server.py", &["--pki", pki.to_str().unwrap(), "--port", "0"]);
        let tsa_url = format!("http://127.0.0.1:{tsa_port}/tsa");
        unsigned_pdf(&root.join("in.pdf"), 10);
        unsigned_pdf(&root.join("in2.pdf"), 200);
        let p = |n: &str| pki.join(n).to_string_lossy().into_owned();
        let sign = |out: &str, input: &str, signer: &str, opts: &[&str]| {
            let mut c = Command::new("pyhanko");
            c.args(["sign", "addsig", "--field", "Sig1"]).args(opts);
            c.args([
                "pemder",
                "--key",
                &p(&format!("{signer}.key")),
                "--cert",
                &p(&format!("{signer}.pem")),
            ]);
            c.args(["--chain", &p("chain.pem"), "--no-pass"])
                .arg(root.join(input))
                .arg(files.join(out));
            run_ok(&mut c);
        };
        let ts: &[&str] = &["--use-pades", "--timestamp-url", &tsa_url];
        sign("bt.pdf", "in.pdf", "signer-rsa", ts);
        sign("bt2.pdf", "in2.pdf", "signer-rsa", ts);
        sign("bb.pdf", "in.pdf", "signer-rsa", &["--use-pades"]);
        sign("revoked.pdf", "in.pdf", "signer-revoked", ts);
        let root_pem = p("root.pem");
        let lta: &[&str] = &[
            "--use-pades-lta",
            "--with-validation-info",
            "--trust",
            &root_pem,
            "--trust-replace",
            "--timestamp-url",
            &tsa_url,
        ];
        sign("lta.pdf", "in.pdf", "signer-ec", lta);
        // One more archive timestamp on top (renewal), as `pyhanko sign ltaupdate` does it.
        std::fs::copy(files.join("lta.pdf"), files.join("lta2.pdf")).unwrap();
        run_ok(
            Command::new("pyhanko")
                .args([
                    "sign",
                    "ltaupdate",
                    "--trust",
                    &root_pem,
                    "--trust-replace",
                    "--timestamp-url",
                    &tsa_url,
                ])
                .arg(files.join("lta2.pdf")),
        );
        // A root nobody trusts.
        run_ok(Command::new("openssl").args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=Other Root",
            "-days",
            "30",
            "-keyout",
            &root.join("other.key").to_string_lossy(),
            "-out",
            &root.join("other-root.pem").to_string_lossy(),
        ]));
        Some(World {
            _dir: dir,
            root,
            pki,
            files,
            _servers: vec![rev, tsa],
        })
    })
    .as_ref()
}

impl World {
    fn root_pem(&self) -> PathBuf {
        self.pki.join("root.pem")
    }
    fn file(&self, name: &str) -> PathBuf {
        self.files.join(name)
    }
    /// A scratch copy with new bytes.
    fn variant(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let d = self.root.join("variants");
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

/// `hozon verify --json -` on one or more paths; returns (exit code, JSON).
fn verify(paths: &[&Path], extra: &[&str]) -> (i32, Value) {
    let mut args: Vec<String> = vec!["verify".into(), "--json".into(), "-".into()];
    // No config in the temp cwd: trust comes from --trust only. On line, the test PKI's
    // responders are on 127.0.0.1: a config allows private addresses (nothing else).
    let cwd = paths[0].parent().unwrap();
    if extra.contains(&"--online") {
        let cfg = cwd.join("online.toml");
        std::fs::write(
            &cfg,
            "[tsa]\nurl = \"builtin:demo\"\n[revocation]\nallow_private_addresses = true\n[profiles.chart]\n",
        )
        .unwrap();
        args.splice(0..0, ["--config".to_string(), cfg.to_string_lossy().into_owned()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(paths.iter().map(|p| p.to_string_lossy().into_owned()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = hozon(&a, cwd, &[]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{}", text(&o)));
    (o.status.code().unwrap_or(-1), v)
}

fn codes(file: &Value) -> Vec<String> {
    file["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

/// pyHanko's verdict: valid when it exits 0 and judged nothing invalid.
fn pyhanko_valid(path: &Path, trust: &Path, extra: &[&str]) -> bool {
    let o = Command::new("pyhanko")
        .args(["sign", "validate", "--trust"])
        .arg(trust)
        .arg("--trust-replace")
        .args(extra)
        .arg(path)
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    o.status.success() && s.contains("INTACT:TRUSTED") && !s.contains("Validation failed")
}

/// Verify one file with hozon (online, trusting `trust`) and pyHanko; both must agree.
fn both(w: &World, path: &Path, trust: &Path, hozon_extra: &[&str], pyhanko_extra: &[&str]) -> Value {
    let t = trust.to_string_lossy().into_owned();
    let mut extra = vec!["--online", "--trust", &t];
    extra.extend_from_slice(hozon_extra);
    let (code, v) = verify(&[path], &extra);
    let f = v["files"][0].clone();
    let ours = f["verdict"] == "valid";
    assert_eq!(code, if ours { 0 } else { 1 }, "{f:#}");
    let theirs = pyhanko_valid(path, trust, pyhanko_extra);
    assert_eq!(
        ours,
        theirs,
        "hozon and pyHanko disagree on {}: hozon {f:#}",
        path.display()
    );
    let _ = w;
    f
}

#[test]
fn pyhanko_bt_and_lta_files_are_valid_like_pyhanko_says() {
    let Some(w) = world() else { return };
    let bt = both(w, &w.file("bt.pdf"), &w.root_pem(), &[], &[]);
    assert_eq!(bt["verdict"], "valid", "{bt:#}");
    assert_eq!(bt["level"], "B-T");
    // The report says where the revocation data came from: each URL, its outcome and time.
    let fetches = bt["fetches"].as_array().expect("fetches in the JSON");
    assert!(!fetches.is_empty(), "{bt:#}");
    for f in fetches {
        assert!(f["url"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{f}");
        assert!(f["ms"].is_u64(), "{f}");
    }
    assert!(fetches.iter().any(|f| f["outcome"] == "ok"), "{bt:#}");
    let sig = &bt["signatures"][0];
    assert_eq!(sig["signer"], "hozon Test Signer RSA");
    assert_eq!(sig["timestamps"][0]["kind"], "signature");
    assert!(
        sig["timestamps"][0]["tsa"].as_str().unwrap().contains("hozon Test TSA"),
        "{sig:#}"
    );
    assert_eq!(sig["signed_at"], sig["timestamps"][0]["time"]);

    for name in ["lta.pdf", "lta2.pdf"] {
        let lta = both(w, &w.file(name), &w.root_pem(), &[], &[]);
        assert_eq!(lta["verdict"], "valid", "{lta:#}");
        assert_eq!(lta["level"], "B-LTA", "{lta:#}");
        // Offline too: everything needed is in the file.
        let root = w.root_pem();
        let (code, v) = verify(&[&w.file(name)], &["--trust", root.to_str().unwrap()]);
        assert_eq!((code, &v["files"][0]["verdict"]), (0, &Value::from("valid")), "{v:#}");
    }
    let (_, v) = verify(&[&w.file("lta2.pdf")], &["--trust", w.root_pem().to_str().unwrap()]);
    let kinds: Vec<&str> = v["files"][0]["signatures"][0]["timestamps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["signature", "document", "document"]);

    // Offline, a B-T file without validation data cannot be decided: indeterminate.
    let (code, v) = verify(&[&w.file("bt.pdf")], &["--trust", w.root_pem().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["files"][0]["verdict"], "indeterminate");
    assert!(codes(&v["files"][0]).iter().all(|c| c == "revocation-unknown"), "{v:#}");
}

/// Without `revocation.allow_private_addresses` the test PKI's loopback responders are not
/// fetched from: the file stays indeterminate and its report says why for each URL.
#[test]
fn online_fetches_refuse_private_addresses_unless_allowed() {
    let Some(w) = world() else { return };
    let bt = w.file("bt.pdf");
    let root = w.root_pem();
    let o = hozon(
        &["verify", "--online", "--trust", root.to_str().unwrap(), "--json", "-", bt.to_str().unwrap()],
        bt.parent().unwrap(),
        &[],
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{}", text(&o)));
    assert_eq!(o.status.code(), Some(1), "{v:#}");
    let f = &v["files"][0];
    assert_eq!(f["verdict"], "indeterminate", "{f:#}");
    let fetches = f["fetches"].as_array().expect("fetches in the JSON");
    assert!(!fetches.is_empty(), "{f:#}");
    assert!(fetches.iter().all(|a| a["outcome"] == "rev-address-refused"), "{f:#}");
}

#[test]
fn revoked_expired_and_untrusted_signers_agree_with_pyhanko() {
    let Some(w) = world() else { return };
    let f = both(w, &w.file("revoked.pdf"), &w.root_pem(), &[], &[]);
    assert_eq!(codes(&f), ["revoked"], "{f:#}");

    // Without a timestamp, as of a time after the signer's certificate expired (825 days).
    let later = (time::OffsetDateTime::now_utc() + time::Duration::days(1000))
        .date()
        .to_string();
    let f = both(
        w,
        &w.file("bb.pdf"),
        &w.root_pem(),
        &["--at", &later],
        &["--validation-time", &later],
    );
    assert!(codes(&f).contains(&"expired-no-timestamp".to_string()), "{f:#}");

    let other = w.root.join("other-root.pem");
    let f = both(w, &w.file("bt.pdf"), &other, &[], &[]);
    assert!(codes(&f).contains(&"untrusted-chain".to_string()), "{f:#}");
}

#[test]
fn tampered_files_give_their_reason_codes_and_pyhanko_agrees() {
    let Some(w) = world() else { return };
    let root = w.root_pem();
    let bt = std::fs::read(w.file("bt.pdf")).unwrap();
    let sigs = hozon::pdf::read_signatures(&bt).unwrap();
    let [_, a, b, _] = sigs[0].byte_range;

    // A byte flipped inside the signed range (image data, structure, after the signature).
    for (i, pos) in [a / 3, a / 2, a - 40, b + 5, bt.len() - 60].into_iter().enumerate() {
        let mut x = bt.clone();
        x[pos] ^= 0x01;
        let p = w.variant(&format!("flip{i}.pdf"), &x);
        let f = both(w, &p, &root, &[], &[]);
        assert_eq!(f["verdict"], "invalid", "flip at {pos}: {f:#}");
        let c = codes(&f);
        assert!(
            c.iter().any(|c| c == "digest-mismatch" || c == "malformed"),
            "flip at {pos}: {c:?}"
        );
    }

    // Truncated.
    let p = w.variant("truncated.pdf", &bt[..bt.len() * 2 / 3]);
    let f = both(w, &p, &root, &[], &[]);
    assert_eq!(f["verdict"], "invalid");

    // /Contents swapped in from another signed file.
    let bt2 = std::fs::read(w.file("bt2.pdf")).unwrap();
    let s2 = &hozon::pdf::read_signatures(&bt2).unwrap()[0];
    let [_, a2, b2, _] = s2.byte_range;
    assert_eq!(b2 - a2, b - a, "pyHanko reserved different room; cannot swap");
    let mut x = bt.clone();
    x[a..b].copy_from_slice(&bt2[a2..b2]);
    let f = both(w, &w.variant("swapped.pdf", &x), &root, &[], &[]);
    assert_eq!(codes(&f), ["digest-mismatch"], "{f:#}");

    // An appended revision that changes a page.
    let doc = lopdf::Document::load_mem(&bt).unwrap();
    let page = *doc.get_pages().get(&1).unwrap();
    let mut inc = lopdf::IncrementalDocument::create_from(bt.clone(), doc);
    inc.opt_clone_object_to_new_document(page).unwrap();
    inc.new_document.get_dictionary_mut(page).unwrap().set("Rotate", 90);
    let mut out = Vec::new();
    inc.save_to(&mut out).unwrap();
    let f = both(w, &w.variant("modified.pdf", &out), &root, &[], &[]);
    assert_eq!(codes(&f), ["modified-after-signing"], "{f:#}");
}

/// Flip single bytes throughout a renewed B-LTA file (through the library, to keep it quick):
/// every flip inside the signed ranges must be caught.
#[test]
fn byte_flip_sweep_over_an_lta_file() {
    let Some(w) = world() else { return };
    let pdf = std::fs::read(w.file("lta2.pdf")).unwrap();
    let mut trust = hozon::pki::TrustStore::new();
    trust.add_root_pem(&w.root_pem()).unwrap();
    let at = time::OffsetDateTime::now_utc();
    let v = hozon::verify::Verifier::new(
        trust,
        None,
        hozon::verify::VerifyOptions {
            at,
            max_file_bytes: 1 << 30,
        },
    );
    assert_eq!(v.verify_bytes("lta2", &pdf).verdict, hozon::verify::Verdict::Valid);
    let sigs = hozon::pdf::read_signatures(&pdf).unwrap();
    let newest = sigs.iter().max_by_key(|s| s.covered_end()).unwrap();
    let gap = newest.byte_range[1]..newest.byte_range[2];
    // pyHanko appends a DSS revision after its last document timestamp: no signature covers
    // it (an allowed change), so the sweep stops at the newest signature's covered end.
    let signed_end = newest.covered_end();
    // Every structural byte near both ends and a sample of the image data in between.
    let mut tried = 0;
    for pos in 0..signed_end {
        let dense = pos < 1500 || pos + 25_000 > signed_end;
        if gap.contains(&pos) || !(dense && pos % 11 == 0 || pos % 1009 == 0) {
            continue;
        }
        let mut x = pdf.clone();
        x[pos] ^= 0x01;
        let f = v.verify_bytes("flip", &x);
        assert_ne!(f.verdict, hozon::verify::Verdict::Valid, "flip at {pos} not detected");
        tried += 1;
    }
    assert!(tried > 1000, "{tried}");
}

#[test]
fn folders_in_parallel_with_summary_catalog_and_exit_codes() {
    let Some(w) = world() else { return };
    let dir = w.root.join("archive");
    let sub = dir.join("2026").join("11");
    std::fs::create_dir_all(&sub).unwrap();
    for (i, name) in ["lta.pdf", "lta2.pdf", "revoked.pdf", "bt.pdf"].iter().enumerate() {
        std::fs::copy(w.file(name), sub.join(format!("文書{i}.pdf"))).unwrap();
    }
    std::fs::write(sub.join("notes.txt"), "not a pdf").unwrap();
    let root = w.root_pem();
    let (code, v) = verify(&[&dir], &["--online", "--trust", root.to_str().unwrap()]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["files"].as_array().unwrap().len(), 4, "{v:#}");
    assert_eq!(v["summary"]["valid"], 3);
    assert_eq!(v["summary"]["invalid"], 1);
    assert_eq!(v["summary"]["indeterminate"], 0);

    // The catalog: record the first two files, then replace one by another validly signed file.
    let cat = hozon::archive::catalog::Catalog::open(&dir.join("catalog.sqlite")).unwrap();
    for i in 0..2 {
        let rel = format!("2026/11/文書{i}.pdf");
        let bytes = std::fs::read(dir.join(&rel)).unwrap();
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        let row = hozon::archive::catalog::Row {
            id: format!("doc{i}"),
            archive_path: rel,
            archive_sha256: sha,
            archive_size: bytes.len() as u64,
            status: "archived".into(),
            ..Default::default()
        };
        cat.put(&row).unwrap();
    }
    drop(cat);
    std::fs::remove_file(sub.join("文書2.pdf")).unwrap();
    std::fs::remove_file(sub.join("文書3.pdf")).unwrap();
    let (code, v) = verify(&[&sub], &["--catalog", "--trust", root.to_str().unwrap()]);
    assert_eq!(code, 0, "{v:#}");
    std::fs::copy(w.file("lta.pdf"), sub.join("文書1.pdf")).unwrap();
    let (code, v) = verify(&[&sub], &["--catalog", "--trust", root.to_str().unwrap()]);
    assert_eq!(code, 1);
    let replaced = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("文書1.pdf"))
        .unwrap();
    assert_eq!(codes(replaced), ["catalog-mismatch"], "{replaced:#}");

    // Human output ends with the summary line; usage errors exit 2.
    let o = hozon(
        &[
            "verify",
            "--lang",
            "en",
            "--trust",
            root.to_str().unwrap(),
            sub.to_str().unwrap(),
        ],
        &w.root,
        &[],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.trim_end().ends_with("2 valid, 0 invalid, 0 indeterminate"), "{out}");
    let o = hozon(&["verify", "--at", "someday", sub.to_str().unwrap()], &w.root, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = hozon(&["verify", "/no/such/file.pdf"], &w.root, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
