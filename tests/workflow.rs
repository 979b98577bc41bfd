//! End-to-end guideline workflows (Management §16): per-encounter deadline, backlog plan and
//! objections, attestation, convenience copies with the paper's location; then the auditor's
//! tools — `hozon audit` on a tampered log, `hozon report` rendered in headless Chromium.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::*;

struct W {
    dir: tempfile::TempDir,
    config: PathBuf,
    out: PathBuf,
}

fn world(extra: &[(&str, &str)]) -> W {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = std::fs::read_to_string(repo_root().join("config/hozon.toml")).unwrap().replace("\"../.hozon/", "\".hozon/");
    for (a, b) in extra {
        assert!(cfg.contains(a), "config lacks {a}");
        cfg = cfg.replace(a, b);
    }
    let config = dir.path().join("hozon.toml");
    std::fs::write(&config, cfg).unwrap();
    let out = dir.path().join("archive");
    W { dir, config, out }
}

impl W {
    fn doc(&self, name: &str, sidecar: &str) -> PathBuf {
        let d = self.dir.path().join("in").join(name);
        std::fs::create_dir_all(&d).unwrap();
        let seed = name.bytes().fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
        let img = image::RgbImage::from_fn(120, 170, |x, y| image::Rgb([x as u8, y as u8, seed]));
        let mut bytes = Vec::new();
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80);
        enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(300));
        enc.encode_image(&img).unwrap();
        std::fs::write(d.join("page1.jpg"), bytes).unwrap();
        std::fs::write(d.join("document.json"), sidecar).unwrap();
        d
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut a = vec!["--config", self.config.to_str().unwrap()];
        a.extend_from_slice(args);
        hozon(&a, self.dir.path(), &[])
    }

    fn ingest(&self, path: &Path) -> Value {
        let o = self.run(&["ingest", path.to_str().unwrap(), "--out", self.out.to_str().unwrap(), "--json", "-"]);
        assert!(o.status.code().is_some_and(|c| c <= 1), "{}", text(&o));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["documents"][0].clone()
    }

    fn row(&self, id: &str) -> hozon::archive::catalog::Row {
        hozon::archive::catalog::Catalog::open(&self.out.join("catalog.sqlite")).unwrap().get(id).unwrap().unwrap()
    }
}

fn codes(d: &Value, key: &str) -> Vec<String> {
    d[key].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_string()).collect()
}

fn days_ago(n: i64) -> String {
    (time::OffsetDateTime::now_utc().to_offset(hozon::archive::layout::JST) - time::Duration::days(n)).date().to_string()
}

#[test]
fn backlog_needs_an_approved_plan_attestation_and_no_objection() {
    let w = world(&[("objected_patients = []", "objected_patients = [\"P-999\"]")]);
    let base = r#""profile":"backlog","patient_id":"P-001","document_type":"診療録","information_manager":"佐藤 一郎","responsible":"鈴木 次郎","scanned_by":"山田 花子","attestation":{"no_overlap":true,"nothing_outside_scan_area":true}"#;
    let d = w.ingest(&w.doc("no-plan", &format!("{{{base}}}")));
    assert_eq!((d["outcome"].as_str(), codes(&d, "reasons")), (Some("rejected"), vec!["plan-missing".to_string()]), "{d:#}");
    let d = w.ingest(&w.doc("bad-plan", &format!("{{{base},\"plan_id\":\"PLAN-X\"}}")));
    assert_eq!(codes(&d, "reasons"), vec!["plan-missing"], "{d:#}");
    let objected = format!("{{{},\"plan_id\":\"PLAN-2026-001\"}}", base.replace("P-001", "P-999"));
    let d = w.ingest(&w.doc("objected", &objected));
    assert!(codes(&d, "reasons").contains(&"patient-objected".to_string()), "{d:#}");
    let no_att = format!("{{\"profile\":\"backlog\",\"patient_id\":\"P-002\",\"plan_id\":\"PLAN-2026-001\"}}");
    let d = w.ingest(&w.doc("no-attestation", &no_att));
    assert_eq!(codes(&d, "reasons"), vec!["attestation-missing"], "{d:#}");
    let d = w.ingest(&w.doc("ok", &format!("{{{base},\"plan_id\":\"PLAN-2026-001\"}}")));
    assert_eq!(d["outcome"], "archived", "{d:#}");
    let row = w.row(d["id"].as_str().unwrap());
    assert_eq!(row.information_manager.as_deref(), Some("佐藤 一郎"));
    assert_eq!(row.signer.as_deref(), Some("鈴木 次郎"), "the 作業責任者 from the sidecar signs");
    assert_eq!(row.operator.as_deref(), Some("山田 花子"));
    // the PDF itself records who and what
    let info = hozon::pdf::read_info(&std::fs::read(d["archive_path"].as_str().unwrap()).unwrap()).unwrap();
    let get = |k: &str| info.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
    assert_eq!(get("HozonInformationManager").as_deref(), Some("佐藤 一郎"));
    assert_eq!(get("HozonPlanId").as_deref(), Some("PLAN-2026-001"));
    assert!(get("HozonAttestation").is_some_and(|a| a.contains("no_overlap=true")));
    // rejections are in the audit log
    let (entries, _) = hozon::archive::audit::read_and_check(&w.out.join("audit.jsonl")).unwrap();
    assert_eq!(entries.iter().filter(|e| e.event == "rejected").count(), 4);
}

#[test]
fn per_encounter_deadline_warns_or_rejects_and_prescriptions_keep_three_years() {
    let w = world(&[]);
    let d = w.ingest(&w.doc("late", &format!("{{\"patient_id\":\"P-1\",\"document_date\":\"{}\"}}", days_ago(10))));
    assert_eq!(d["outcome"], "archived", "{d:#}");
    assert_eq!(codes(&d, "warnings"), vec!["late-scan"], "{d:#}");
    assert_eq!(w.row(d["id"].as_str().unwrap()).flags, "late-scan");
    let d = w.ingest(&w.doc("today", &format!("{{\"patient_id\":\"P-2\",\"document_date\":\"{}\"}}", days_ago(0))));
    assert!(codes(&d, "warnings").is_empty(), "{d:#}");
    let st = w.run(&["status", w.out.to_str().unwrap(), "--json", "-"]);
    let st: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(st["late_scans"].as_array().unwrap().len(), 1, "{st:#}");

    let strict = world(&[("late_scan = \"warn\"\nrequire_attestation = false", "late_scan = \"reject\"\nrequire_attestation = false")]);
    let d = strict.ingest(&strict.doc("late", &format!("{{\"document_date\":\"{}\"}}", days_ago(10))));
    assert_eq!((d["outcome"].as_str(), codes(&d, "reasons")), (Some("rejected"), vec!["late-scan".to_string()]), "{d:#}");

    let d = w.ingest(&w.doc("処方箋", &format!("{{\"profile\":\"prescription\",\"document_date\":\"{}\"}}", days_ago(0))));
    assert_eq!(d["outcome"], "archived", "{d:#}");
    let row = w.row(d["id"].as_str().unwrap());
    let until = row.retention_until.unwrap();
    let year: i32 = until[..4].parse().unwrap();
    assert_eq!(year - time::OffsetDateTime::now_utc().year(), 3, "prescriptions are kept 3 years: {until}");
}

#[test]
fn convenience_copy_records_the_paper_location() {
    let w = world(&[]);
    let d = w.ingest(&w.doc("no-location", "{\"profile\":\"convenience\"}"));
    assert_eq!(codes(&d, "reasons"), vec!["paper-location-missing"], "{d:#}");
    let d = w.ingest(&w.doc("with-location", "{\"profile\":\"convenience\",\"paper_location\":\"地下書庫 B-3 棚12\"}"));
    assert_eq!(d["outcome"], "archived", "{d:#}");
    let row = w.row(d["id"].as_str().unwrap());
    assert!(row.reference_copy);
    assert_eq!(row.paper_location.as_deref(), Some("地下書庫 B-3 棚12"));
    let info = hozon::pdf::read_info(&std::fs::read(d["archive_path"].as_str().unwrap()).unwrap()).unwrap();
    assert!(info.iter().any(|(k, _)| k == "HozonReferenceCopy"), "{info:?}");
}

#[test]
fn audit_detects_log_tampering_and_report_renders_in_chromium() {
    let w = world(&[]);
    for i in 0..3 {
        w.ingest(&w.doc(&format!("doc{i}"), &format!("{{\"patient_id\":\"P-{i}\",\"scanned_by\":\"山田 花子\"}}")));
    }
    let o = w.run(&["audit", w.out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let log = w.out.join("audit.jsonl");
    let original = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let variants = [
        ("deleted", [lines[0], lines[2]].join("\n") + "\n"),
        ("altered", original.replacen("P-1", "P-7", 1)),
        ("inserted", [lines[0], lines[1], lines[1], lines[2]].join("\n") + "\n"),
    ];
    for (what, text_) in variants {
        std::fs::write(&log, text_).unwrap();
        let o = w.run(&["audit", w.out.to_str().unwrap(), "--json", "-"]);
        assert_eq!(o.status.code(), Some(1), "{what}: {}", text(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(v["problems"].as_array().unwrap().iter().any(|p| p["code"] == "audit-chain-broken"), "{what}: {v:#}");
    }
    std::fs::write(&log, &original).unwrap();

    let today = days_ago(0);
    let html = w.dir.path().join("report.html");
    let o = w.run(&["--lang", "ja", "report", w.out.to_str().unwrap(), "--from", &today, "--to", &today, "--format", "html", "-o", html.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("日別の保存文書数") && page.contains("山田 花子"), "Japanese report expected");
    let csv = w.run(&["report", w.out.to_str().unwrap(), "--from", &today, "--to", &today, "--format", "csv"]);
    assert_eq!(String::from_utf8_lossy(&csv.stdout).lines().count(), 4, "header + 3 documents");

    let chromium = ["chromium", "chromium-browser"].into_iter().find(|c| Command::new(c).arg("--version").output().is_ok());
    let Some(chromium) = chromium else {
        assert!(!peers_required(), "chromium is required");
        eprintln!("\n*** SKIP: chromium not installed; the HTML report was not rendered ***\n");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let base = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
    let url = format!("file://{}", html.display());
    let o = Command::new(chromium).args(base).arg(format!("--user-data-dir={}", profile.path().display())).arg("--dump-dom").arg(&url).output().unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(dom.contains("daily-chart") && dom.matches("<rect").count() >= 1, "chart not in the rendered DOM:\n{}", &dom[..dom.len().min(500)]);
    let png = w.dir.path().join("report.png");
    let o = Command::new(chromium).args(base).arg(format!("--user-data-dir={}", profile.path().display())).arg(format!("--screenshot={}", png.display())).arg("--window-size=1200,1600").arg(&url).output().unwrap();
    assert!(png.exists(), "no screenshot: {}", String::from_utf8_lossy(&o.stderr));
    let img = image::open(&png).unwrap().to_rgb8();
    // the chart's bars are drawn in #3a6ea5: the rendered page must contain that colour
    assert!(img.pixels().any(|p| p.0 == [0x3a, 0x6e, 0xa5]), "chart bars not rendered");
    if let Ok(keep) = std::env::var("HOZON_KEEP_SCREENSHOT") {
        std::fs::copy(&png, keep).unwrap();
    }
}
