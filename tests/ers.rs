//! End-to-end RFC 4998 through the binary:
//! * a hundred archives renewed with ONE TSA request (counted in the test TSA's request log), a
//!   second generation (timestamp renewal) and a hash-tree renewal when SHA-256 is configured as
//!   weakening; BouncyCastle (tests/support/ers-check.sh) and `hozon verify` accept every record
//!   and reject a tampered document and a record paired with the wrong file;
//! * time travel with a short-lived demo PKI: a hundred archives sealed at ingest with one
//!   timestamp, renewed twice across TSA certificate expiries; at the real now (every PDF's own
//!   TSA certificate expired) `hozon verify` finds them valid through their records, not valid
//!   without them or with a record left unrenewed; tampered, wrong file, truncated and broken
//!   records are not valid with their reason codes; BouncyCastle accepts the records;
//! * BouncyCastle creates and renews records for hozon-archived PDFs (timestamps from the
//!   built-in TSA served over HTTP) and `hozon verify --ers` accepts them; a tampered document,
//!   a wrong pairing and a record from an untrusted TSA are rejected.

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

/// `hozon verify ARGS --json -` with `run`; (exit code, report).
fn verify_json(run: &dyn Fn(&[&str]) -> std::process::Output, args: &[&str]) -> (Option<i32>, Value) {
    let mut a = vec!["verify"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--json", "-"]);
    let o = run(&a);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    (o.status.code(), v)
}

/// The reason codes of the first file of a verify report (an evidence record's comes first: it
/// is checked before the signatures, which without it may fail too).
fn codes(v: &Value) -> Vec<String> {
    v["files"][0]["reasons"].as_array().into_iter().flatten().filter_map(|r| r["code"].as_str().map(String::from)).collect()
}

/// Every file of a verify report is valid through a valid evidence record.
fn assert_all_valid_with_records(code: Option<i32>, v: &Value, n: usize) {
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["summary"]["valid"], n, "{v:#}");
    for f in v["files"].as_array().unwrap() {
        assert_eq!(f["evidence_record"]["status"], "valid", "{f:#}");
        assert!(f["evidence_record"]["valid_until"].is_string(), "{f:#}");
    }
}

/// Java, javac and the BouncyCastle jars are there (else a loud SKIP, or a failure under
/// HOZON_REQUIRE_PEERS=1).
fn java_ready() -> bool {
    if !(have("java", &["-version"]) && have("javac", &["-version"])) {
        return false;
    }
    if !Path::new("/usr/share/java/bcpkix.jar").exists() {
        assert!(!peers_required(), "BouncyCastle (libbcpkix-java) is required");
        eprintln!("\n*** SKIP: BouncyCastle jars not installed ***\n");
        return false;
    }
    true
}

/// Run tests/support/ers-check.sh (BouncyCastle); (exit success, stdout + stderr).
fn bc(args: &[&str]) -> (bool, String) {
    let o = Command::new("bash").arg(repo_root().join("tests/support/ers-check.sh")).args(args).output().unwrap();
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

fn bc_verify(root: &Path, pairs: &[(PathBuf, PathBuf)]) -> (bool, String) {
    let mut args = vec!["verify".to_string(), "--trust".into(), root.display().to_string()];
    for (ers, pdf) in pairs {
        args.push(ers.display().to_string());
        args.push(pdf.display().to_string());
    }
    bc(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn a_hundred_archives_one_timestamp_bouncycastle_accepts_every_record() {
    if !(have("openssl", &["version"]) && have_python_module("asn1crypto") && java_ready()) {
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
            // the test TSA's CRLs are served on 127.0.0.1
            .replace("allow_private_addresses = false", "allow_private_addresses = true")
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
    // B-T files carry no CRLs: --online fetches them (demo CRL folder, the test TSA's server)
    let (code, v) = verify_json(&run, &[out.to_str().unwrap(), "--online"]);
    assert_all_valid_with_records(code, &v, 100);
    let chains = v["files"][0]["evidence_record"]["chains"].as_array().unwrap();
    assert_eq!(chains.iter().map(|c| c["algorithm"].as_str().unwrap()).collect::<Vec<_>>(), ["sha256", "sha384"], "{v:#}");

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
    // and so does hozon verify
    let (code, v) = verify_json(&run, &[ps[1].1.to_str().unwrap(), "--ers", ps[0].0.to_str().unwrap(), "--online"]);
    assert_eq!(code, Some(1), "{v:#}");
    assert!(codes(&v).contains(&"ers-digest-mismatch".to_string()), "{v:#}");
    let audit = hozon::archive::inspect::audit_archive(&out).unwrap();
    assert!(audit.ok(), "{:?}", audit.problems);
}

fn rfc(t: time::OffsetDateTime) -> String {
    hozon::clock::rfc3339(t)
}

/// The shipped config (B-LT: the PDFs carry the CRLs their TSA and signer paths need) on a demo
/// PKI under `<dir>/.hozon/<demo>`, with `extra` replacements.
fn demo_config(dir: &Path, name: &str, demo: &str, extra: &[(&str, &str)]) -> PathBuf {
    let shipped = std::fs::read_to_string(repo_root().join("config/hozon.toml")).unwrap();
    let mut cfg = shipped
        .replace("\"../.hozon/demo", &format!("\".hozon/{demo}"))
        .replace("archive = \"../archive\"", "archive = \"archive\"")
        .replace("base_url = \"http://127.0.0.1:8318\"", &format!("base_url = \"http://127.0.0.1:{}\"", free_port()));
    for (from, to) in extra {
        assert!(cfg.contains(from), "{from} not in the shipped config");
        cfg = cfg.replace(from, to);
    }
    let path = dir.join(name);
    std::fs::write(&path, cfg).unwrap();
    path
}

#[test]
fn ers_keeps_a_hundred_archives_valid_after_their_tsa_certificates_expired() {
    use time::{Duration, OffsetDateTime};
    let dir = tempfile::tempdir().unwrap();
    // TSA certificates live 100 days and rotate 45 days before they end; renew 40 days ahead.
    let config = demo_config(
        dir.path(),
        "hozon.toml",
        "demo",
        &[
            ("[demo]\n", "[demo]\nsigner_days = 30\ntsa_days = 100\ntsa_rotate_days = 45\n"),
            ("within_days = 400", "within_days = 40"),
        ],
    );
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for i in 0..100 {
        jpeg(&input.join(format!("診療録_{i:03}.jpg")), i + 1);
    }
    let out = dir.path().join("archive");
    let now = OffsetDateTime::now_utc();
    let t0 = now - Duration::days(150);
    let run_at = |at: OffsetDateTime, args: &[&str]| {
        let mut a = vec!["--config", config.to_str().unwrap()];
        a.extend_from_slice(args);
        hozon(&a, dir.path(), &[("HOZON_SIMULATED_TIME", &rfc(at))])
    };

    // t0: ingest, sealing the whole batch into evidence records with one timestamp
    let o = run_at(t0, &["ingest", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "--seal", "ers", "--json", "-"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["seal"]["sealed"], 100, "{v:#}");
    assert_eq!(v["seal"]["failed"], 0, "{v:#}");
    assert!(v["documents"][0]["evidence_record"].as_str().is_some_and(|p| p.ends_with(".ers")), "{v:#}");
    let ps = pairs(&out);
    assert_eq!(ps.len(), 100);
    let tokens = |ps: &[(PathBuf, PathBuf)]| -> std::collections::HashSet<Vec<u8>> {
        ps.iter()
            .map(|(e, _)| {
                let r = hozon::ers::EvidenceRecord::from_der(&std::fs::read(e).unwrap()).unwrap();
                r.timestamps().last().unwrap().time_stamp.to_vec()
            })
            .collect()
    };
    assert_eq!(tokens(&ps).len(), 1, "a hundred archives under one timestamp");
    let audit = std::fs::read_to_string(out.join("audit.jsonl")).unwrap();
    assert_eq!(audit.matches("\"sealed\"").count(), 100);
    // kept to show what happens to a record nobody renewed
    let unrenewed_pdf = dir.path().join("unrenewed.pdf");
    std::fs::copy(&ps[0].1, &unrenewed_pdf).unwrap();
    std::fs::copy(&ps[0].0, unrenewed_pdf.with_extension("ers")).unwrap();
    let bare_pdf = dir.path().join("bare").join("no-record.pdf");
    std::fs::create_dir_all(bare_pdf.parent().unwrap()).unwrap();
    std::fs::copy(&ps[0].1, &bare_pdf).unwrap();

    // two renewal generations, each before the TSA certificate of the last one expires
    for (gen, day) in [(1, 70), (2, 140)] {
        let at = t0 + Duration::days(day);
        let o = run_at(at, &["renew", out.to_str().unwrap(), "--evidence", "ers", "--json", "-"]);
        assert!(o.status.success(), "{}", text(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["summary"]["renewed"], 100, "generation {gen}: {v:#}");
        assert_eq!(tokens(&ps).len(), 1, "generation {gen}: one timestamp for the hundred");
    }

    // Real now: the TSA certificates of t0 and t0+70 have expired, the signer's long ago.
    let at = rfc(now);
    let run = |args: &[&str]| run_at(now, args);
    let (code, v) = verify_json(&run, &[out.to_str().unwrap(), "--at", &at]);
    assert_all_valid_with_records(code, &v, 100);
    let rec = &v["files"][0]["evidence_record"];
    assert_eq!(rec["chains"][0]["timestamps"].as_array().unwrap().len(), 3, "{rec:#}");
    let until = hozon::clock::parse_datetime(rec["valid_until"].as_str().unwrap()).unwrap();
    assert!(until > now + Duration::days(80) && until < now + Duration::days(100), "newest TSA certificate (t0+140, 100 days): {rec:#}");
    let existed = hozon::clock::parse_datetime(rec["existed_at"].as_str().unwrap()).unwrap();
    assert!((existed - t0).abs() < Duration::hours(1), "{rec:#}");
    // the same PDF without its record, and with its record as it was before any renewal
    let (code, v) = verify_json(&run, &[bare_pdf.to_str().unwrap(), "--at", &at]);
    assert_eq!(code, Some(1), "{v:#}");
    assert_ne!(v["files"][0]["verdict"], "valid", "{v:#}");
    assert!(v["files"][0]["evidence_record"].is_null(), "{v:#}");
    let (code, v) = verify_json(&run, &[unrenewed_pdf.to_str().unwrap(), "--at", &at]);
    assert_eq!((code, codes(&v).contains(&"ers-timestamp-invalid".to_string())), (Some(1), true), "{v:#}");
    // --at before the renewals: the unrenewed record still held then
    let early = rfc(t0 + Duration::days(50));
    let (code, v) = verify_json(&run, &[unrenewed_pdf.to_str().unwrap(), "--at", &early]);
    assert_eq!(code, Some(0), "{v:#}");

    // bad records: tampered document, wrong file, truncated record, broken chain
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let tampered = bad.join("tampered.pdf");
    let mut bytes = std::fs::read(&ps[0].1).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&tampered, &bytes).unwrap();
    std::fs::copy(&ps[0].0, tampered.with_extension("ers")).unwrap();
    let (code, v) = verify_json(&run, &[tampered.to_str().unwrap(), "--at", &at]);
    assert_eq!((code, codes(&v).contains(&"ers-digest-mismatch".to_string())), (Some(1), true), "{v:#}");
    let (code, v) = verify_json(&run, &[ps[1].1.to_str().unwrap(), "--ers", ps[0].0.to_str().unwrap(), "--at", &at]);
    assert_eq!((code, codes(&v).first().map(String::as_str)), (Some(1), Some("ers-digest-mismatch")), "{v:#}");
    let der = std::fs::read(&ps[0].0).unwrap();
    let truncated = bad.join("truncated.ers");
    std::fs::write(&truncated, &der[..der.len() - 7]).unwrap();
    let (code, v) = verify_json(&run, &[ps[0].1.to_str().unwrap(), "--ers", truncated.to_str().unwrap(), "--at", &at]);
    assert_eq!((code, codes(&v).first().map(String::as_str)), (Some(1), Some("ers-malformed")), "{v:#}");
    let mut rec = hozon::ers::EvidenceRecord::from_der(&der).unwrap();
    let newest = rec.chains[0].last_mut().unwrap();
    let tree = newest.reduced_hash_tree.as_mut().expect("the second renewal covers two earlier timestamps");
    tree[0][0][0] ^= 0x01;
    let broken = bad.join("broken.ers");
    std::fs::write(&broken, rec.to_der().unwrap()).unwrap();
    let (code, v) = verify_json(&run, &[ps[0].1.to_str().unwrap(), "--ers", broken.to_str().unwrap(), "--at", &at]);
    assert_eq!((code, codes(&v).first().map(String::as_str)), (Some(1), Some("ers-chain-broken")), "{v:#}");
    let human = run(&["--lang", "en", "verify", ps[0].1.to_str().unwrap(), "--ers", broken.to_str().unwrap(), "--at", &at]);
    let human = String::from_utf8_lossy(&human.stdout);
    assert!(human.contains("evidence record") && human.contains("ers-chain-broken"), "{human}");

    // BouncyCastle accepts every record (its last token judged at the real now)
    if java_ready() {
        let root = dir.path().join(".hozon/demo/root.pem");
        let (ok, msg) = bc_verify(&root, &ps);
        assert!(ok, "BouncyCastle rejected a record:\n{msg}");
    }
    let audit = hozon::archive::inspect::audit_archive(&out).unwrap();
    assert!(audit.ok(), "{:?}", audit.problems);
}

#[test]
fn hozon_verify_accepts_records_bouncycastle_made_and_rejects_bad_ones() {
    if !java_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path(), "hozon.toml", "demo", &[]);
    // a second demo PKI: its TSA is not trusted by the first config
    let stranger = demo_config(dir.path(), "stranger.toml", "stranger", &[]);
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for i in 0..3 {
        jpeg(&input.join(format!("紹介状_{i}.jpg")), 7 + i);
    }
    let out = dir.path().join("archive");
    let run_with = |cfg: &Path, args: &[&str]| {
        let mut a = vec!["--config", cfg.to_str().unwrap()];
        a.extend_from_slice(args);
        hozon(&a, dir.path(), &[])
    };
    let o = run_with(&config, &["ingest", input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let pdfs: Vec<PathBuf> = pairs(&out).into_iter().map(|p| p.1).collect();
    assert_eq!(pdfs.len(), 3);

    // the built-in demo TSAs of both PKIs served over HTTP for BouncyCastle
    let serve = |cfg: &Path| {
        let port = free_port();
        let child = Command::new(hozon_bin())
            .arg("--config").arg(cfg)
            .args(["tsa", "serve", "--listen", &format!("127.0.0.1:{port}")])
            .current_dir(dir.path()).env_remove("HOZON_SIMULATED_TIME")
            .stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null())
            .spawn().unwrap();
        // A new demo PKI is generated first (RSA keys): allow more than wait_for_port's 5 s.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "hozon tsa serve did not listen on {port}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        (Background(child), format!("http://127.0.0.1:{port}/tsa"))
    };
    let (_tsa, url) = serve(&config);
    let (_other, other_url) = serve(&stranger);

    // BouncyCastle makes one record per PDF under one timestamp, then renews two of them
    let recs = dir.path().join("bc");
    let mut args = vec!["make", "--tsa", &url, "--out-dir", recs.to_str().unwrap()];
    args.extend(pdfs.iter().map(|p| p.to_str().unwrap()));
    let (ok, msg) = bc(&args);
    assert!(ok, "BC make failed:\n{msg}");
    let rec = |i: usize| recs.join(format!("{}.ers", pdfs[i].file_name().unwrap().to_string_lossy()));
    let (ok, msg) = bc(&["renew", "--tsa", &url, rec(0).to_str().unwrap()]);
    assert!(ok, "BC renew failed:\n{msg}");
    let (ok, msg) = bc(&["rehash", "--tsa", &url, rec(1).to_str().unwrap(), pdfs[1].to_str().unwrap()]);
    assert!(ok, "BC rehash failed:\n{msg}");

    let run = |args: &[&str]| run_with(&config, args);
    for (i, chains, stamps) in [(0, 1, 2), (1, 2, 2), (2, 1, 1)] {
        let (code, v) = verify_json(&run, &[pdfs[i].to_str().unwrap(), "--ers", rec(i).to_str().unwrap()]);
        assert_eq!(code, Some(0), "record {i}: {v:#}");
        let r = &v["files"][0]["evidence_record"];
        assert_eq!(r["status"], "valid", "{v:#}");
        let c = r["chains"].as_array().unwrap();
        assert_eq!(c.len(), chains, "{v:#}");
        assert_eq!(c.iter().map(|x| x["timestamps"].as_array().unwrap().len()).sum::<usize>(), stamps, "{v:#}");
    }
    // a tampered document
    let tampered = dir.path().join("tampered.pdf");
    let mut bytes = std::fs::read(&pdfs[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&tampered, &bytes).unwrap();
    let (code, v) = verify_json(&run, &[tampered.to_str().unwrap(), "--ers", rec(0).to_str().unwrap()]);
    assert_eq!((code, codes(&v).contains(&"ers-digest-mismatch".to_string())), (Some(1), true), "{v:#}");
    // a record paired with the wrong file
    let (code, v) = verify_json(&run, &[pdfs[2].to_str().unwrap(), "--ers", rec(0).to_str().unwrap()]);
    assert_eq!((code, codes(&v).first().map(String::as_str)), (Some(1), Some("ers-digest-mismatch")), "{v:#}");
    // a record whose timestamp comes from a TSA the verifier does not trust
    let others = dir.path().join("bc-untrusted");
    let (ok, msg) = bc(&["make", "--tsa", &other_url, "--out-dir", others.to_str().unwrap(), pdfs[2].to_str().unwrap()]);
    assert!(ok, "BC make failed:\n{msg}");
    let untrusted = others.join(format!("{}.ers", pdfs[2].file_name().unwrap().to_string_lossy()));
    let (code, v) = verify_json(&run, &[pdfs[2].to_str().unwrap(), "--ers", untrusted.to_str().unwrap()]);
    assert_eq!((code, codes(&v).first().map(String::as_str)), (Some(1), Some("ers-timestamp-invalid")), "{v:#}");
    // --ers names the record of one file only
    let o = run(&["verify", pdfs[0].to_str().unwrap(), pdfs[1].to_str().unwrap(), "--ers", rec(0).to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
