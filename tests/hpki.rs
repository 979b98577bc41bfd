//! HPKI roles as real HPKI certificates carry them (ISO 17090-3: HCActorData is a SET OF
//! HCActor, as in the MEDIS certificates): every demo certificate, read by asn1crypto — the
//! ASN.1 library under pyHanko and endesive — with all its extensions decoded (`cert.native`),
//! under the ISO 17090-3 definitions, which a SEQUENCE OF (what the demo wrote before) fails.

mod support;

use std::process::Command;

use serde_json::Value;
use support::*;

#[test]
fn every_demo_certificate_reads_in_asn1crypto_with_its_hc_role() {
    if !have_python_module("asn1crypto") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let demo = hozon::pki::DemoPki::ensure(&demo_dir, "http://127.0.0.1:8318", &hozon::clock::SystemClock).unwrap();
    let doctor = hozon::pki::new_ec_key().unwrap();
    demo.certify_signer(&doctor, "デモ 医師", Some("Medical Doctor"), "http://127.0.0.1:8318", time::OffsetDateTime::now_utc())
        .unwrap();

    let mut pems: Vec<std::path::PathBuf> = Vec::new();
    for d in [demo_dir.clone(), demo_dir.join(hozon::pki::demo::ISSUED_DIR)] {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "pem") {
                pems.push(p);
            }
        }
    }
    assert!(pems.len() >= 6, "root, signer, pharmacist, TSA, OCSP responder and the doctor: {pems:?}");
    let o = Command::new("python3")
        .arg(repo_root().join("tests/support/asn1crypto_certs.py"))
        .arg("--self-test")
        .args(&pems)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let results: Vec<Value> = String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let by = |name: &str| results.iter().find(|r| r["file"].as_str().unwrap().ends_with(name)).unwrap_or_else(|| panic!("{name}: {results:#?}"));

    // The check can fail: the old SEQUENCE OF encoding does not parse as ISO 17090-3 says.
    assert_eq!(by("set-of")["ok"], true, "{results:#?}");
    assert_eq!(by("sequence-of")["ok"], false, "{results:#?}");

    for r in results.iter().filter(|r| r["file"].as_str().unwrap().ends_with(".pem")) {
        assert_eq!(r["ok"], true, "asn1crypto cannot read {}: {}", r["file"], r["error"]);
    }
    let scheme = "1.2.392.100495.1.6.1.1";
    assert_eq!(by("pharmacist.pem")["hc_roles"], serde_json::json!([[scheme, "Pharmacist"]]));
    assert_eq!(by("signer.pem")["hc_roles"], serde_json::json!([]));
    let issued: Vec<&Value> = results.iter().filter(|r| r["file"].as_str().unwrap().contains("/issued/")).collect();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0]["hc_roles"], serde_json::json!([[scheme, "Medical Doctor"]]));
    // hozon reads the role it wrote.
    let pem = std::fs::read(demo_dir.join("pharmacist.pem")).unwrap();
    let cert = openssl::x509::X509::from_pem(&pem).unwrap();
    assert_eq!(hozon::pki::hc_role(&cert).as_deref(), Some("Pharmacist"));
}
