//! End-to-end renewal: ingest in the (simulated) past with a short-lived demo PKI, then three
//! renewal generations, the first before the signer's certificate expires and each before the
//! previous TSA certificate expires. Every generation keeps the old file as a byte prefix; at the
//! end (real now, after the signer's and the first three TSA certificates expired) the renewed
//! file is valid and the unrenewed copy is not, for hozon and for pyHanko's AdES B-LTA
//! validation (ETSI EN 319 102-1 past validation with time slides).

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::*;
use time::{Duration, OffsetDateTime};

fn rfc(t: OffsetDateTime) -> String {
    hozon::clock::rfc3339(t)
}

struct World {
    dir: tempfile::TempDir,
    config: PathBuf,
    input: PathBuf,
    out: PathBuf,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("hozon.toml");
        let input = dir.path().join("in");
        std::fs::create_dir_all(&input).unwrap();
        let shipped = std::fs::read_to_string(repo_root().join("config/hozon.toml")).unwrap();
        let cfg = shipped
            .replace("\"../.hozon/", "\".hozon/")
            .replace("archive = \"../archive\"", "archive = \"archive\"")
            .replace("[demo]\n", "[demo]\nsigner_days = 80\ntsa_days = 100\ntsa_rotate_days = 45\n")
            .replace("base_url = \"http://127.0.0.1:8318\"", &format!("base_url = \"http://127.0.0.1:{}\"", free_port()))
            .replace("within_days = 400", "within_days = 40");
        std::fs::write(&config, cfg).unwrap();
        let out = dir.path().join("archive");
        World { dir, config, input, out }
    }

    fn run_at(&self, at: OffsetDateTime, args: &[&str]) -> std::process::Output {
        let mut a = vec!["--config", self.config.to_str().unwrap()];
        a.extend_from_slice(args);
        hozon(&a, self.dir.path(), &[("HOZON_SIMULATED_TIME", &rfc(at))])
    }

    /// `hozon tsa serve` (real time) on the demo certificates' CRL/OCSP port, until dropped.
    fn serve(&self) -> Background {
        let cfg = std::fs::read_to_string(&self.config).unwrap();
        let port: u16 = cfg.split("base_url = \"http://127.0.0.1:").nth(1).and_then(|r| r.split('"').next()).and_then(|p| p.parse().ok()).unwrap();
        let child = std::process::Command::new(hozon_bin())
            .args(["--config", self.config.to_str().unwrap(), "tsa", "serve", "--listen", &format!("127.0.0.1:{port}")])
            .current_dir(self.dir.path())
            .env_remove("HOZON_SIMULATED_TIME")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let serve = Background(child);
        wait_for_port(port);
        serve
    }

    fn renew_at(&self, at: OffsetDateTime) -> Value {
        let o = self.run_at(at, &["renew", self.out.to_str().unwrap(), "--json", "-"]);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    }
}

fn the_pdf(root: &Path) -> PathBuf {
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p)
            } else if p.extension().is_some_and(|x| x == "pdf") {
                return p;
            }
        }
    }
    panic!("no PDF under {}", root.display())
}

/// `pyhanko sign adesverify` (ETSI EN 319 102-1 LTA validation at the current time) trusting
/// only `root`: (judged valid, output).
fn pyhanko_adesverify(pdf: &Path, root: &Path) -> (bool, String) {
    let o = std::process::Command::new("pyhanko")
        .args(["sign", "adesverify", "--pretty-print", "--trust"])
        .arg(root)
        .arg("--trust-replace")
        .arg(pdf)
        .output()
        .unwrap();
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let valid = o.status.success() && out.contains("judged VALID") && !out.contains("judged INVALID");
    (valid, out)
}

fn jpeg(path: &Path) {
    let img = image::RgbImage::from_fn(300, 420, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut bytes = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80);
    enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(300));
    enc.encode_image(&img).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn three_renewal_generations_keep_evidence_valid_after_every_certificate_expired() {
    let w = World::new();
    let now = OffsetDateTime::now_utc();
    let t0 = now - Duration::days(260);
    jpeg(&w.input.join("診療録.jpg"));
    let o = w.run_at(t0, &["ingest", w.input.to_str().unwrap(), "--out", w.out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let pdf = the_pdf(&w.out);
    let unrenewed = w.dir.path().join("unrenewed.pdf");
    std::fs::copy(&pdf, &unrenewed).unwrap();

    // Nothing is due right after ingest (signer certificate good for 80 days, TSA for 100, window 40).
    let v = w.renew_at(t0 + Duration::days(1));
    assert_eq!(v["summary"]["due"], 0, "{v:#}");

    let mut previous = std::fs::read(&pdf).unwrap();
    // t0+70: the signer (until t0+80) gets its first document timestamp in time, and TSA 1 (until
    // t0+100) its revocation data; then every 70 days, before the previous TSA (100 days) expires.
    for gen in 1..=3i64 {
        let at = t0 + Duration::days(70 * gen);
        let v = w.renew_at(at);
        assert_eq!(v["summary"]["renewed"], 1, "generation {gen}: {v:#}");
        let current = std::fs::read(&pdf).unwrap();
        assert!(current.len() > previous.len() && current.starts_with(&previous), "generation {gen}: the old file must be a byte prefix of the new one");
        previous = current;
        // the same night again: nothing is due any more
        let v = w.renew_at(at + Duration::hours(1));
        assert_eq!(v["summary"]["due"], 0, "generation {gen} repeated: {v:#}");
    }
    let sigs = hozon::pdf::read_signatures(&previous).unwrap();
    assert_eq!(sigs.len(), 4, "one signature and three document timestamps");

    // At real now the signer (80 d) and TSA certificates 1–3 have expired; TSA 4 has not.
    let at = rfc(now);
    let verify = |file: &Path| {
        let o = w.run_at(now, &["verify", file.to_str().unwrap(), "--at", &at, "--json", "-"]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
        (o.status.code(), v)
    };
    let (code, v) = verify(&pdf);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["files"][0]["verdict"], "valid", "{v:#}");
    assert_eq!(v["files"][0]["level"], "B-LTA", "{v:#}");
    let (code, v) = verify(&unrenewed);
    assert_eq!(code, Some(1), "{v:#}");
    assert_ne!(v["files"][0]["verdict"], "valid", "{v:#}");

    // pyHanko's AdES LTA validation at real now: it walks the document timestamps oldest first,
    // slides each expired certificate's control time back to its newest revocation data in the
    // file and needs proof that the certificate existed by then; the newest TSA, still valid, it
    // checks at the current time on line (the demo responder of `hozon tsa serve`).
    let root = w.dir.path().join(".hozon/demo/root.pem");
    if have("pyhanko", &["--version"]) {
        let _serve = w.serve();
        let (ok, out) = pyhanko_adesverify(&pdf, &root);
        eprintln!("pyHanko adesverify, renewed: {}", out.lines().find(|l| l.contains("judged")).unwrap_or("?"));
        assert!(ok, "pyHanko does not accept the renewed file as B-LTA:\n{out}");
        let (ok, out) = pyhanko_adesverify(&unrenewed, &root);
        eprintln!("pyHanko adesverify, unrenewed: {}", out.lines().find(|l| l.contains("judged")).unwrap_or("?"));
        assert!(!ok, "pyHanko accepts the unrenewed file after its certificates expired:\n{out}");
    }

    // qpdf on the renewed file. (pyHanko's CLI validates at "now", where the signer certificate has
    // long expired; the peer checks of renewed files run in the test below, at the real time.)
    if have("qpdf", &["--version"]) {
        let o = std::process::Command::new("qpdf").arg("--check").arg(&pdf).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    }
    let audit = hozon::archive::inspect::audit_archive(&w.out).unwrap();
    assert!(audit.ok(), "{:?}", audit.problems);
}

#[test]
fn renewed_archive_passes_the_peer_checks_with_online_revocation() {
    let w = World::new();
    jpeg(&w.input.join("紹介状.jpg"));
    let now = OffsetDateTime::now_utc();
    let o = w.run_at(now, &["ingest", w.input.to_str().unwrap(), "--out", w.out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let pdf = the_pdf(&w.out);
    let before = std::fs::read(&pdf).unwrap();
    let o = w.run_at(now, &["renew", w.out.to_str().unwrap(), "--within", "1000", "--json", "-"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert_eq!(v["summary"]["renewed"], 1, "{v:#}");
    let after = std::fs::read(&pdf).unwrap();
    assert!(after.starts_with(&before) && after.len() > before.len());
    // the demo certificates' CRL distribution point, served by `hozon tsa serve`
    let cfg = std::fs::read_to_string(&w.config).unwrap();
    let port: u16 = cfg.split("base_url = \"http://127.0.0.1:").nth(1).and_then(|r| r.split('"').next()).and_then(|p| p.parse().ok()).unwrap();
    let port = if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() { port } else { return eprintln!("SKIP: port {port} busy") };
    let child = std::process::Command::new(hozon_bin())
        .args(["--config", w.config.to_str().unwrap(), "tsa", "serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(w.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _serve = Background(child);
    wait_for_port(port);
    let root = w.dir.path().join(".hozon/demo/root.pem");
    assert_crosscheck(&pdf, &root, false, true);
    let checks = crosscheck(&pdf, &root, false).unwrap_or_default();
    if !checks.is_empty() {
        assert!(checks.iter().any(|c| c.checker.starts_with("doc-ts#") && c.pass), "the document timestamp was not checked: {checks:#?}");
    }
    let o = w.run_at(now, &["verify", pdf.to_str().unwrap(), "--json", "-"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((v["files"][0]["verdict"].as_str(), v["files"][0]["level"].as_str()), (Some("valid"), Some("B-LTA")), "{v:#}");
}
