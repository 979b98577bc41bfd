//! End-to-end: `hozon ingest` on generated scans, with the built-in demo TSA and with an
//! OpenSSL `ts -reply` TSA behind the test HTTP helper; every archive is checked by pdfsig,
//! pyHanko, qpdf and OpenSSL.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::*;

/// A 300 dpi A4-proportioned JPEG page (small pixel size keeps the tests quick: 620×877 at 75 dpi
/// would fail the profile, so we keep 300 dpi and a smaller page — a label-size scan).
fn jpeg_page(path: &Path, w: u32, h: u32, dpi: u16, seed: u8) {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let ink = (y / 12) % 3 == 0 && x % 97 > 8;
        if ink {
            image::Rgb([20, 20, 30u8.wrapping_add(seed)])
        } else {
            image::Rgb([250, 248, 240])
        }
    });
    let mut bytes = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85);
    enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(dpi));
    enc.encode_image(&img).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn gray_png_page(path: &Path, w: u32, h: u32) {
    let img = image::GrayImage::from_fn(w, h, |x, y| image::Luma([((x * 7 + y * 13) % 251) as u8]));
    // pHYs 300 dpi = 11811 px/m
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: 11811,
        yppu: 11811,
        unit: png::Unit::Meter,
    }));
    let mut wr = enc.write_header().unwrap();
    wr.write_image_data(img.as_raw()).unwrap();
}

struct World {
    dir: tempfile::TempDir,
    input: PathBuf,
    out: PathBuf,
    config: PathBuf,
    crl_port: u16,
}

impl World {
    /// A demo-PKI world: config in a temp folder, demo PKI created on first run.
    fn demo(extra_toml: &str) -> World {
        let dir = tempfile::tempdir().unwrap();
        let crl_port = free_port();
        let input = dir.path().join("スキャン");
        let out = dir.path().join("archive");
        std::fs::create_dir_all(&input).unwrap();
        let shipped = std::fs::read_to_string(repo_root().join("config/hozon.toml")).unwrap();
        let cfg = shipped
            .replace(
                "base_url = \"http://127.0.0.1:8318\"",
                &format!("base_url = \"http://127.0.0.1:{crl_port}\""),
            )
            .replace("archive = \"../archive\"", "archive = \"archive\"")
            .replace("\"../.hozon/", "\".hozon/")
            + extra_toml;
        let config = dir.path().join("hozon.toml");
        std::fs::write(&config, cfg).unwrap();
        World {
            dir,
            input,
            out,
            config,
            crl_port,
        }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut a: Vec<&str> = vec!["--config", self.config.to_str().unwrap()];
        a.extend_from_slice(args);
        hozon(&a, self.dir.path(), &[])
    }

    fn ingest_json(&self) -> (std::process::Output, Value) {
        let o = self.run(&[
            "ingest",
            self.input.to_str().unwrap(),
            "--out",
            self.out.to_str().unwrap(),
            "--json",
            "-",
        ]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{}", text(&o)));
        (o, v)
    }

    fn demo_root(&self) -> PathBuf {
        self.dir.path().join(".hozon/demo/root.pem")
    }

    /// Serve the demo CRLs where the demo certificates point (online revocation for peers).
    fn serve_crls(&self) -> Background {
        serve_demo(&self.config, self.dir.path(), self.crl_port)
    }
}

fn archived_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pdf") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn hash_tree(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = walk(root)
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    v.sort();
    v
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p)
            } else {
                out.push(p)
            }
        }
    }
    out
}

fn outcome_of<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("no document {name} in {v:#}"))
}

#[test]
fn ingest_builtin_tsa_archives_verifiable_files_and_rejects_bad_scans() {
    let w = World::demo("");
    // a three-page chart as a folder with a Japanese sidecar, a grey PNG letter, a 150 dpi scan
    let chart = w.input.join("外来_山田");
    std::fs::create_dir_all(&chart).unwrap();
    for i in [1, 2, 10] {
        jpeg_page(&chart.join(format!("page{i}.jpg")), 620, 877, 300, i as u8);
    }
    std::fs::write(chart.join("document.json"), r#"{"patient_id":"P-000123","document_type":"診療録","document_date":"2026-11-26","scanned_by":"山田 花子","information_manager":"佐藤 一郎"}"#).unwrap();
    gray_png_page(&w.input.join("紹介状.png"), 400, 566);
    jpeg_page(&w.input.join("低解像度.jpg"), 310, 438, 150, 3);
    let before = hash_tree(&w.input);

    let (o, v) = w.ingest_json();
    assert_eq!(
        o.status.code(),
        Some(1),
        "a rejected document makes exit 1\n{}",
        text(&o)
    );
    assert_eq!(v["summary"]["archived"], 2, "{v:#}");
    assert_eq!(v["summary"]["rejected"], 1, "{v:#}");
    let low = outcome_of(&v, "低解像度.jpg");
    assert_eq!(low["outcome"], "rejected");
    assert!(
        low["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "low-resolution"),
        "{low:#}"
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("NOT LEGALLY VALID"),
        "demo banner missing:\n{}",
        text(&o)
    );

    let files = archived_files(&w.out);
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(
        hash_tree(&w.input),
        before,
        "source scans must be byte-identical after ingest"
    );
    assert!(w.out.join("catalog.sqlite").exists() && w.out.join("audit.jsonl").exists());

    let _crl = w.serve_crls();
    for f in &files {
        assert_crosscheck(f, &w.demo_root(), false, true);
    }

    // lossless: the archived JPEG pages are the source files byte for byte, in natural order
    let chart_pdf = PathBuf::from(outcome_of(&v, "外来_山田")["archive_path"].as_str().unwrap());
    if have("pdfimages", &["-v"]) {
        let ex = tempfile::tempdir().unwrap();
        let st = Command::new("pdfimages")
            .arg("-j")
            .arg(&chart_pdf)
            .arg(ex.path().join("p"))
            .status()
            .unwrap();
        assert!(st.success());
        let mut got: Vec<PathBuf> = walk(ex.path());
        got.sort();
        assert_eq!(got.len(), 3, "{got:?}");
        for (g, i) in got.iter().zip([1, 2, 10]) {
            assert_eq!(
                std::fs::read(g).unwrap(),
                std::fs::read(chart.join(format!("page{i}.jpg"))).unwrap(),
                "page{i} not byte-identical"
            );
        }
        let png_pdf = PathBuf::from(outcome_of(&v, "紹介状.png")["archive_path"].as_str().unwrap());
        let ex2 = tempfile::tempdir().unwrap();
        assert!(Command::new("pdfimages")
            .arg("-png")
            .arg(&png_pdf)
            .arg(ex2.path().join("p"))
            .status()
            .unwrap()
            .success());
        let got = walk(ex2.path());
        assert_eq!(got.len(), 1);
        let a = image::open(&got[0]).unwrap().to_luma8();
        let b = image::open(w.input.join("紹介状.png")).unwrap().to_luma8();
        assert_eq!(a.dimensions(), b.dimensions());
        assert!(a.as_raw() == b.as_raw(), "PNG pixels changed");
    }

    // idempotent rerun: nothing new is written
    let (o2, v2) = w.ingest_json();
    assert_eq!(v2["summary"]["already_archived"], 2, "{}", text(&o2));
    assert_eq!(v2["summary"]["archived"], 0);
    assert_eq!(archived_files(&w.out), files);

    // reindex: the catalog rebuilt from the PDFs alone matches what ingest recorded
    let cat = w.out.join("catalog.sqlite");
    let before: Vec<hozon::archive::catalog::Row> = hozon::archive::catalog::Catalog::open(&cat).unwrap().all().unwrap();
    std::fs::remove_file(&cat).unwrap();
    let _ = std::fs::remove_file(w.out.join("catalog.sqlite-wal"));
    let _ = std::fs::remove_file(w.out.join("catalog.sqlite-shm"));
    let o = w.run(&["reindex", w.out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let after = hozon::archive::catalog::Catalog::open(&cat).unwrap().all().unwrap();
    assert_eq!(after.len(), before.len());
    for b in &before {
        let a = after.iter().find(|a| a.id == b.id).unwrap_or_else(|| panic!("{} lost", b.id));
        assert_eq!((&a.archive_path, &a.archive_sha256, &a.profile, &a.level), (&b.archive_path, &b.archive_sha256, &b.profile, &b.level));
        assert_eq!((&a.patient_id, &a.document_type, &a.document_date, &a.operator), (&b.patient_id, &b.document_type, &b.document_date, &b.operator));
        assert_eq!((&a.signer, &a.timestamp_time, &a.tsa_cert_expiry, &a.next_renewal_due), (&b.signer, &b.timestamp_time, &b.tsa_cert_expiry, &b.next_renewal_due));
        assert_eq!((a.pages, &a.retention_until, &a.archived_at), (b.pages, &b.retention_until, &b.archived_at));
        let sources = |r: &hozon::archive::catalog::Row| serde_json::from_str::<Value>(&r.sources).unwrap();
        assert_eq!(sources(a), sources(b), "sources of {}", b.id);
    }
    let audit = hozon::archive::inspect::audit_archive(&w.out).unwrap();
    assert!(audit.ok(), "{:?}", audit.problems);
}
