//! End-to-end guideline workflows (Management §16): per-encounter deadline, backlog plan and
//! objections, attestation, convenience copies with the paper's location, prescription
//! corrections by a pharmacist (`hozon correct`), unsigned documents past the limit in
//! `hozon status`; then the auditor's tools — `hozon audit` on a tampered log, `hozon report`
//! rendered in headless Chromium.

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
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut a = vec!["--config", self.config.to_str().unwrap()];
        a.extend_from_slice(args);
        hozon(&a, self.dir.path(), env)
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

fn json_of(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

#[test]
fn prescription_correction_is_a_pharmacist_signed_revision_and_the_scan_signature_stays_valid() {
    // The demo CRLs are served where the certificates point, so the peers check revocation too.
    let crl_port = free_port();
    let base_url = format!("base_url = \"http://127.0.0.1:{crl_port}\"");
    let w = world(&[("base_url = \"http://127.0.0.1:8318\"", &base_url)]);
    let d = w.ingest(&w.doc("処方箋_0002", &format!("{{\"profile\":\"prescription\",\"patient_id\":\"P-456\",\"document_date\":\"{}\"}}", days_ago(0))));
    assert_eq!(d["outcome"], "archived", "{d:#}");
    let id = d["id"].as_str().unwrap().to_string();
    let pdf = PathBuf::from(d["archive_path"].as_str().unwrap());
    let original = std::fs::read(&pdf).unwrap();
    let row_before = w.row(&id);
    let log = w.out.join("audit.jsonl");
    let log_before = std::fs::read(&log).unwrap();
    let out = w.out.to_str().unwrap();

    // The 作業責任者 (no HPKI role) may not correct a prescription: refused, nothing written.
    let o = w.run(&["correct", out, &id, "--signer", "demo", "--note", "用量の訂正", "--json", "-"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v = json_of(&o);
    assert_eq!((v["outcome"].as_str(), v["code"].as_str()), (Some("refused"), Some("signer-role-mismatch")), "{v:#}");
    assert!(std::fs::read(&pdf).unwrap() == original, "the archived file must stay byte-identical");
    assert_eq!(w.row(&id), row_before, "the catalog row must not change");
    assert!(std::fs::read(&log).unwrap() == log_before, "nothing is logged for a refused correction");
    // Usage errors exit 2 and write nothing either.
    let o = w.run(&["correct", out, "0123456789abcdef0123456789abcdef", "--signer", "pharmacist", "--note", "x", "--json", "-"]);
    assert_eq!((o.status.code(), json_of(&o)["code"].as_str()), (Some(2), Some("unknown-document")), "{}", text(&o));
    let o = w.run(&["correct", out, &id, "--signer", "pharmacist", "--note", "  ", "--json", "-"]);
    assert_eq!((o.status.code(), json_of(&o)["code"].as_str()), (Some(2), Some("note-missing")), "{}", text(&o));
    assert!(std::fs::read(&pdf).unwrap() == original && std::fs::read(&log).unwrap() == log_before);

    // The pharmacist corrects it, naming the document by its archived path.
    let note = "用量を訂正 (1日3回→1日2回)。処方医に疑義照会済み";
    let o = w.run(&["correct", out, pdf.to_str().unwrap(), "--signer", "pharmacist", "--note", note, "--json", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    assert_eq!((v["outcome"].as_str(), v["signer_role"].as_str(), v["corrections"].as_u64()), (Some("corrected"), Some("Pharmacist"), Some(1)), "{v:#}");
    let corrected = std::fs::read(&pdf).unwrap();
    assert!(corrected.len() > original.len() && corrected.starts_with(&original), "the old file must be a byte prefix of the new one");
    let sha = hozon::archive::store::sha256_hex(&corrected);

    // hozon verify: valid, two signatures, the second by the pharmacist with a signature timestamp.
    let o = w.run(&["verify", pdf.to_str().unwrap(), "--json", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let f = json_of(&o)["files"][0].clone();
    assert_eq!(f["verdict"], "valid", "{f:#}");
    let sigs = f["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "{f:#}");
    assert_eq!(sigs[0]["role"], Value::Null, "{f:#}");
    assert_eq!(sigs[1]["role"], "Pharmacist", "{f:#}");
    for s in sigs {
        assert!(s["timestamps"].as_array().unwrap().iter().any(|t| t["kind"] == "signature" && t["valid"] == true), "{s:#}");
    }
    let covered: Vec<&str> = f["allowed_changes"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    assert!(!covered.is_empty(), "the correction is an allowed later revision of the first signature: {f:#}");

    // Independent validators must accept BOTH signatures.
    let root = w.dir.path().join(".hozon/demo/root.pem");
    let _crls = serve_demo(&w.config, w.dir.path(), crl_port);
    if let Some(v) = crosscheck(&pdf, &root, false) {
        let failed: Vec<&Verdict> = v.iter().filter(|x| !x.pass).collect();
        assert!(failed.is_empty(), "{failed:#?}");
        let detail = |c: &str| v.iter().find(|x| x.checker == c).map(|x| x.detail.clone()).unwrap_or_default();
        assert!(detail("pdfsig").starts_with("2 CMS signature(s)"), "pdfsig must see and validate both: {}", detail("pdfsig"));
        assert_eq!(detail("pyhanko").matches("judged VALID").count(), 2, "pyHanko must judge both valid: {}", detail("pyhanko"));
        for c in ["cms#1", "cms#2", "sig-tst#1", "sig-tst#2"] {
            assert!(v.iter().any(|x| x.checker == c), "{c} did not run: {v:#?}");
        }
    }

    // The catalog records the correction; the scan's signer stays the 作業責任者.
    let row = w.row(&id);
    assert_eq!((row.corrections, row.corrected_by.as_deref()), (1, Some("デモ 薬剤師 (NOT LEGALLY VALID)")));
    assert_eq!(row.corrected_at.as_deref(), v["timestamp"].as_str());
    assert_eq!((row.archive_sha256.as_str(), row.archive_size), (sha.as_str(), corrected.len() as u64));
    assert_eq!(row.signer, row_before.signer);
    // The audit log has the event, and the archive agrees with itself.
    let (entries, _) = hozon::archive::audit::read_and_check(&log).unwrap();
    let e = entries.last().unwrap();
    assert_eq!((e.event.as_str(), e.document_id.as_deref()), ("corrected", Some(id.as_str())));
    assert_eq!((e.details["note"].as_str(), e.details["signer_role"].as_str(), e.details["sha256"].as_str()), (Some(note), Some("Pharmacist"), Some(sha.as_str())));
    let o = w.run(&["audit", out]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The file is the truth: a rebuilt catalog still knows the correction.
    let o = w.run(&["reindex", out]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let rebuilt = w.row(&id);
    assert_eq!((rebuilt.corrections, rebuilt.corrected_by, rebuilt.signer), (1, row.corrected_by.clone(), row.signer.clone()));
}

#[test]
fn unsigned_documents_show_up_in_status_after_one_business_day() {
    let w = world(&[]);
    // Friday 2026-11-20, noon in Japan; Monday 23rd is a holiday in the shipped config.
    fn at(t: &str) -> [(&'static str, &str); 1] {
        [("HOZON_SIMULATED_TIME", t)]
    }
    let ingest = |name: &str| {
        let p = w.doc(name, "{\"patient_id\":\"P-1\",\"document_date\":\"2026-11-20\"}");
        let o = w.run_env(&["ingest", p.to_str().unwrap(), "--out", w.out.to_str().unwrap(), "--json", "-"], &at("2026-11-20T03:00:00Z"));
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        json_of(&o)["documents"][0].clone()
    };
    let signed = ingest("signed");
    let unsigned = ingest("unsigned");
    // A file stored without its signature (an interrupted or legacy import): keep only the
    // revision before the signature, and let the catalog learn it from the files.
    let path = PathBuf::from(unsigned["archive_path"].as_str().unwrap());
    let bytes = std::fs::read(&path).unwrap();
    let first = hozon::pdf::revisions(&bytes).unwrap()[0];
    std::fs::write(&path, &bytes[..first]).unwrap();
    let out = w.out.to_str().unwrap();
    let o = w.run_env(&["reindex", out], &at("2026-11-20T04:00:00Z"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let uid = unsigned["id"].as_str().unwrap();
    assert_eq!((w.row(uid).signer, w.row(uid).level.as_str()), (None, "unsigned"));

    let status = |t: &str, config: &Path| {
        let o = hozon(&["--config", config.to_str().unwrap(), "status", out, "--json", "-"], w.dir.path(), &at(t));
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        json_of(&o)
    };
    let ids = |v: &Value| v["unsigned_overdue"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    // Tuesday 24th 23:00 JST: still within one business day (the weekend and the holiday skipped).
    let v = status("2026-11-24T14:00:00Z", &w.config);
    assert_eq!(v["unsigned_alert_days"], 1, "{v:#}");
    assert!(ids(&v).is_empty(), "{v:#}");
    assert_eq!(v["unsigned"].as_array().unwrap().len(), 1, "listed as unsigned, not yet overdue: {v:#}");
    // Wednesday 25th 09:00 JST: overdue, with what is missing and since when.
    let v = status("2026-11-25T00:00:00Z", &w.config);
    assert_eq!(ids(&v), vec![uid.to_string()], "only the unsigned one: {v:#}");
    let d = &v["unsigned_overdue"][0];
    assert_eq!((d["since"].as_str(), d["deadline"].as_str()), (Some("2026-11-20"), Some("2026-11-24")), "{d:#}");
    assert_eq!(d["missing"], serde_json::json!(["signature", "timestamp"]), "{d:#}");
    assert!(!ids(&v).contains(&signed["id"].as_str().unwrap().to_string()));
    let human = hozon(&["--config", w.config.to_str().unwrap(), "--lang", "en", "status", out], w.dir.path(), &at("2026-11-25T00:00:00Z"));
    assert!(String::from_utf8_lossy(&human.stdout).contains(&format!("{uid}  ")), "{}", text(&human));
    // The limit is configurable: three business days run to Thursday 26th.
    let relaxed = w.dir.path().join("relaxed.toml");
    std::fs::write(&relaxed, std::fs::read_to_string(&w.config).unwrap().replace("unsigned_alert_days = 1", "unsigned_alert_days = 3")).unwrap();
    assert!(ids(&status("2026-11-26T14:00:00Z", &relaxed)).is_empty());
    assert_eq!(ids(&status("2026-11-26T15:00:00Z", &relaxed)), vec![uid.to_string()]);
}

/// RFC 4998 records bind exact bytes: correcting a sealed archive moves its record aside (kept,
/// never deleted), the corrected file verifies without a mismatched record, and the next ERS
/// renewal seals the corrected bytes.
#[test]
fn correcting_a_sealed_archive_supersedes_its_evidence_record_and_the_next_renewal_reseals_it() {
    let w = world(&[("seal = \"none\"", "seal = \"ers\""), ("evidence = \"pades\"", "evidence = \"ers\"")]);
    let d = w.ingest(&w.doc("処方箋_0003", &format!("{{\"profile\":\"prescription\",\"patient_id\":\"P-457\",\"document_date\":\"{}\"}}", days_ago(0))));
    assert_eq!(d["outcome"], "archived", "{d:#}");
    let id = d["id"].as_str().unwrap().to_string();
    let pdf = PathBuf::from(d["archive_path"].as_str().unwrap());
    let record = pdf.with_extension("ers");
    let sealed = std::fs::read(&record).unwrap_or_else(|e| panic!("ingest --seal ers wrote no record: {e}"));
    let before = std::fs::read(&pdf).unwrap();
    let out = w.out.to_str().unwrap();

    let o = w.run(&["correct", out, &id, "--signer", "pharmacist", "--note", "日数の訂正", "--json", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let aside = PathBuf::from(json_of(&o)["superseded_evidence_record"].as_str().unwrap_or_else(|| panic!("{}", text(&o))));
    assert!(!record.exists(), "the record of the old bytes must not stay paired with the corrected file");
    assert_eq!(std::fs::read(&aside).unwrap(), sealed, "the superseded record is kept as it was");
    let o = w.run(&["verify", pdf.to_str().unwrap(), "--json", "-"]);
    assert_eq!((o.status.code(), json_of(&o)["files"][0]["verdict"].as_str()), (Some(0), Some("valid")), "{}", text(&o));
    // the superseded record still proves the original revision, a prefix of the corrected file
    let original = w.dir.path().join("original.pdf");
    let corrected = std::fs::read(&pdf).unwrap();
    assert!(corrected.starts_with(&before));
    std::fs::write(&original, &corrected[..before.len()]).unwrap();
    let o = w.run(&["verify", original.to_str().unwrap(), "--ers", aside.to_str().unwrap(), "--json", "-"]);
    assert_eq!(json_of(&o)["files"][0]["evidence_record"]["status"], "valid", "{}", text(&o));

    // due now: the next renewal seals the corrected bytes
    let o = w.run(&["renew", out, "--json", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json_of(&o)["summary"]["renewed"], 1, "{}", text(&o));
    let o = w.run(&["verify", pdf.to_str().unwrap(), "--json", "-"]);
    let f = json_of(&o)["files"][0].clone();
    assert_eq!((f["verdict"].as_str(), f["evidence_record"]["status"].as_str()), (Some("valid"), Some("valid")), "{f:#}");
    let o = w.run(&["audit", out, "--json", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
