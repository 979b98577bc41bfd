//! Signing keys on a PKCS#11 token, for real: a SoftHSM2 token holding the demo pharmacist's
//! RSA-2048 key (hcRole "Pharmacist") and an ECDSA P-256 key certified by the demo root, reached
//! through hozon's `pkcs11 = {…}` signers. Archives signed through the token must pass pdfsig,
//! pyHanko, qpdf and OpenSSL; `correct` must accept the token's pharmacist; every setup error
//! must have its code, exit 2 and write nothing; a token that goes away mid-batch fails the rest
//! of the batch with `token-removed`, and the rerun finishes it.
//!
//! Without SoftHSM2 or pkcs11-tool the tests SKIP loudly; with HOZON_REQUIRE_PEERS=1 they fail.

mod support;

use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use hozon::pki::DemoPki;
use serde_json::Value;
use support::*;

const PIN: &str = "246810";
const TOKEN: &str = "病院 HSM";
const PIN_ENV: &str = "HOZON_TEST_TOKEN_PIN";

struct World {
    dir: tempfile::TempDir,
    config: PathBuf,
    hsm: SoftHsm,
    port: u16,
}

impl World {
    fn root(&self) -> PathBuf {
        self.dir.path().join(".hozon/demo/root.pem")
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![self.hsm.env(), (PIN_ENV, PIN.to_string())]
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.run_with(&self.config, args, &[])
    }

    fn run_with(&self, config: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> std::process::Output {
        let mut a = vec!["--config", config.to_str().unwrap()];
        a.extend_from_slice(args);
        let env = self.env();
        let mut e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        e.extend_from_slice(extra_env);
        hozon(&a, self.dir.path(), &e)
    }

    /// A config with one more signer section.
    fn config_with(&self, name: &str, section: &str) -> PathBuf {
        let mut text = std::fs::read_to_string(&self.config).unwrap();
        text.push_str(&format!("\n[signers.{name}]\n{section}\n"));
        let p = self.dir.path().join(format!("{name}.toml"));
        std::fs::write(&p, text).unwrap();
        p
    }

    fn pkcs11(&self, fields: &str) -> String {
        format!("pkcs11 = {{ module = \"{}\", {fields} }}", self.hsm.module.display())
    }

    fn scans(&self) -> PathBuf {
        let d = self.dir.path().join("scans");
        if !d.exists() {
            copy_dir(&repo_root().join("sample-scans"), &d);
        }
        d
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The demo PKI, a SoftHSM2 token with the pharmacist's RSA key (id 01), an EC P-256 key
/// certified by the demo root (id 02) and the root certificate (id ff), and three signers:
/// `hsm_ec` (EC, PIN file), `hsm_pharmacist` (RSA PKCS#1 v1.5, PIN from the environment) and
/// `hsm_pss` (the same RSA key with PSS).
fn world() -> Option<World> {
    let hsm = SoftHsm::new(TOKEN, PIN)?;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let cfg = std::fs::read_to_string(repo_root().join("config/hozon.toml"))
        .unwrap()
        .replace("\"../.hozon/", "\".hozon/")
        .replace("base_url = \"http://127.0.0.1:8318\"", &format!("base_url = \"{base}\""));
    let demo = DemoPki::ensure(&dir.path().join(".hozon/demo"), &base, &hozon::clock::SystemClock).unwrap();

    // The pharmacist's key and certificate, out of the demo PKCS#12 onto the token.
    let pass = std::fs::read_to_string(&demo.pharmacist_pass).unwrap();
    let p12 = openssl::pkcs12::Pkcs12::from_der(&std::fs::read(&demo.pharmacist_p12).unwrap())
        .unwrap()
        .parse2(pass.trim_end())
        .unwrap();
    let (key, cert) = (p12.pkey.unwrap(), p12.cert.unwrap());
    hsm.import("privkey", &key.private_key_to_pkcs8().unwrap(), "薬剤師", "01");
    hsm.import("cert", &cert.to_der().unwrap(), "薬剤師", "01");

    // An EC P-256 signer certified by the demo root like its own signers (the demo OCSP
    // responder then answers for it too).
    let ec = hozon::pki::new_ec_key().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let ec_cert = demo.certify_signer(&ec, "HSM 作業責任者 EC (NOT LEGALLY VALID)", None, &base, now).unwrap();
    hsm.import("privkey", &ec.private_key_to_pkcs8().unwrap(), "作業責任者 EC", "02");
    hsm.import("cert", &ec_cert.to_der().unwrap(), "作業責任者 EC", "02");
    hsm.import("cert", &demo.root.to_der().unwrap(), "demo root", "ff");

    let pin_file = dir.path().join("pin.txt");
    std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
    std::fs::set_permissions(&pin_file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let config = dir.path().join("hozon.toml");
    let module = hsm.module.display().to_string();
    let cfg = format!(
        "{cfg}\n[signers.hsm_ec]\nname = \"HSM 作業責任者\"\npkcs11 = {{ module = \"{module}\", token = \"{TOKEN}\", key = \"作業責任者 EC\", pin_file = \"pin.txt\" }}\n\
         \n[signers.hsm_pharmacist]\nname = \"HSM 薬剤師\"\npkcs11 = {{ module = \"{module}\", token = \"{TOKEN}\", key_id = \"01\", pin_env = \"{PIN_ENV}\" }}\n\
         \n[signers.hsm_pss]\nrsa_padding = \"pss\"\npkcs11 = {{ module = \"{module}\", token = \"{TOKEN}\", key = \"薬剤師\", pin_env = \"{PIN_ENV}\", sessions = 1 }}\n"
    );
    std::fs::write(&config, cfg).unwrap();
    Some(World { dir, config, hsm, port })
}

fn json_of(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

fn archived(report: &Value) -> Vec<PathBuf> {
    report["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["outcome"] == "archived")
        .map(|d| PathBuf::from(d["archive_path"].as_str().unwrap()))
        .collect()
}

#[test]
fn ingest_through_the_token_passes_pdfsig_pyhanko_qpdf_and_openssl() {
    let Some(w) = world() else { return };
    let _served = serve_demo(&w.config, w.dir.path(), w.port);
    let scans = w.scans();
    let out = w.dir.path().join("archive");

    // ECDSA P-256 on the token (CKM_ECDSA, r‖s made DER), the sample batch: the 150 dpi scan is
    // rejected on purpose, everything else is archived.
    let o = w.run(&["ingest", scans.to_str().unwrap(), "--out", out.to_str().unwrap(), "--signer", "hsm_ec", "--json", "-"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let rep = json_of(&o);
    let files = archived(&rep);
    assert_eq!(files.len(), 4, "{rep:#}");
    assert!(!String::from_utf8_lossy(&o.stderr).contains(PIN), "the PIN must never be printed");

    // RSA-PSS through the token (CKM_RSA_PKCS_PSS), two workers sharing one session.
    let out_pss = w.dir.path().join("archive-pss");
    let o = w.run(&["ingest", scans.to_str().unwrap(), "--out", out_pss.to_str().unwrap(), "--signer", "hsm_pss", "--jobs", "2", "--json", "-"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let pss = archived(&json_of(&o));
    assert_eq!(pss.len(), 4);
    for pdf in &pss[1..] {
        let o = w.run(&["verify", pdf.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let pss = vec![pss[0].clone()];

    for pdf in files.iter().chain(pss.iter()) {
        let o = w.run(&["verify", pdf.to_str().unwrap(), "--json", "-"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_eq!(json_of(&o)["files"][0]["verdict"], "valid");
        assert_crosscheck(pdf, &w.root(), false, true);
    }
    // The signatures are what the configuration says: ECDSA and PSS.
    let algs = |pdf: &Path| {
        let o = Command::new("python3")
            .arg(repo_root().join("tests/support/extract_sigs.py"))
            .arg(pdf)
            .arg(w.dir.path().join("ex"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let o = Command::new("openssl")
            .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
            .arg(w.dir.path().join("ex/sig1.der"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    if have("openssl", &["version"]) {
        assert!(algs(&files[0]).contains("ecdsa-with-SHA256"), "{}", algs(&files[0]));
        assert!(algs(&pss[0]).contains("rsassaPss"), "{}", algs(&pss[0]));
    }
}

#[test]
fn correct_accepts_the_pharmacist_on_the_token_and_still_refuses_demo() {
    let Some(w) = world() else { return };
    let scans = w.scans();
    let out = w.dir.path().join("archive");
    let o = w.run(&["ingest", scans.join("処方箋_0001.jpg").to_str().unwrap(), "--out", out.to_str().unwrap(), "--json", "-"]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", text(&o));
    let d = json_of(&o)["documents"][0].clone();
    assert_eq!(d["outcome"], "archived", "{d:#}");
    let pdf = PathBuf::from(d["archive_path"].as_str().unwrap());
    let id = d["id"].as_str().unwrap().to_string();
    let before = std::fs::read(&pdf).unwrap();

    let o = w.run(&["correct", out.to_str().unwrap(), &id, "--signer", "demo", "--note", "用量の訂正", "--json", "-"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(json_of(&o)["code"], "signer-role-mismatch");
    assert!(std::fs::read(&pdf).unwrap() == before);

    // RSA PKCS#1 v1.5 on the token (CKM_RSA_PKCS over a DigestInfo), PIN from the environment.
    let o = w.run(&["correct", out.to_str().unwrap(), &id, "--signer", "hsm_pharmacist", "--note", "用量の訂正 (疑義照会済み)", "--json", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    assert_eq!((v["outcome"].as_str(), v["signer_role"].as_str()), (Some("corrected"), Some("Pharmacist")), "{v:#}");
    let after = std::fs::read(&pdf).unwrap();
    assert!(after.starts_with(&before) && after.len() > before.len());
    assert!(!text(&o).contains(PIN));

    let _served = serve_demo(&w.config, w.dir.path(), w.port);
    if let Some(v) = crosscheck(&pdf, &w.root(), false) {
        let failed: Vec<&Verdict> = v.iter().filter(|x| !x.pass).collect();
        assert!(failed.is_empty(), "{failed:#?}");
        let pyhanko = v.iter().find(|x| x.checker == "pyhanko").unwrap();
        assert_eq!(pyhanko.detail.matches("judged VALID").count(), 2, "{}", pyhanko.detail);
    }
}

#[test]
fn setup_errors_have_their_codes_exit_2_and_write_nothing() {
    let Some(w) = world() else { return };
    let scans = w.scans();
    let wrong_pin = w.dir.path().join("wrong-pin.txt");
    std::fs::write(&wrong_pin, "13579\n").unwrap();
    std::fs::set_permissions(&wrong_pin, std::fs::Permissions::from_mode(0o600)).unwrap();
    let token = format!("token = \"{TOKEN}\"");
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("pin-incorrect", w.pkcs11(&format!("{token}, key = \"薬剤師\", pin_file = \"wrong-pin.txt\"")), "PIN is incorrect", "13579"),
        ("token-not-found", w.pkcs11("token = \"カード未挿入\", key = \"薬剤師\", pin_file = \"pin.txt\""), TOKEN, PIN),
        ("key-not-found", w.pkcs11(&format!("{token}, key = \"医師\", pin_file = \"pin.txt\"")), "作業責任者 EC", PIN),
        ("key-not-found", w.pkcs11(&format!("{token}, key_id = \"7f\", pin_file = \"pin.txt\"")), "薬剤師", PIN),
        (
            "pkcs11-module",
            format!("pkcs11 = {{ module = \"/nonexistent/libvendor-pkcs11.so\", {token}, key = \"薬剤師\", pin_file = \"pin.txt\" }}"),
            "/nonexistent/libvendor-pkcs11.so",
            PIN,
        ),
        // The EC key with the pharmacist's (RSA) certificate as the configured chain.
        (
            "certificate-mismatch",
            format!("chain = \".hozon/demo/pharmacist.pem\"\n{}", w.pkcs11(&format!("{token}, key_id = \"02\", pin_file = \"pin.txt\""))),
            "not a pair",
            PIN,
        ),
    ];
    for (i, (code, section, names, secret)) in cases.iter().enumerate() {
        let cfg = w.config_with(&format!("case{i}"), section);
        let out = w.dir.path().join(format!("archive-{i}"));
        let o = w.run_with(&cfg, &["ingest", scans.to_str().unwrap(), "--out", out.to_str().unwrap(), "--signer", &format!("case{i}")], &[]);
        let all = text(&o);
        assert_eq!(o.status.code(), Some(2), "{code}: {all}");
        assert!(all.contains(&format!("[{code}]")), "{code}: {all}");
        assert!(all.contains(names), "{code}: the message must name {names}: {all}");
        assert!(!all.contains(secret), "{code}: a PIN was printed: {all}");
        assert!(!out.exists(), "{code}: the archive folder must not be created");
    }
    // The same in Japanese, with what to do.
    let cfg = w.config_with("ja", &cases[0].1);
    let o = w.run_with(&cfg, &["--lang", "ja", "ingest", scans.to_str().unwrap(), "--out", "archive-ja", "--signer", "ja"], &[]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(all.contains("[pin-incorrect]") && all.contains("PIN が誤っています") && all.contains("再実行の前に直してください"), "{all}");
    // correct fails the same way before it reads or writes anything.
    let o = w.run_with(&cfg, &["correct", "archive-ja", "0123456789abcdef0123456789abcdef", "--signer", "ja", "--note", "x"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("[pin-incorrect]"), "{}", text(&o));
    assert!(!w.dir.path().join("archive-ja").exists());
    // A PIN variable that is not set is a setup error too.
    let o = w.run_with(&w.config, &["ingest", scans.to_str().unwrap(), "--out", "archive-env", "--signer", "hsm_pharmacist"], &[(PIN_ENV, "")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("[secret-missing]"), "{}", text(&o));
}

#[test]
fn a_token_removed_mid_batch_fails_the_rest_with_token_removed_and_the_rerun_finishes() {
    let Some(w) = world() else { return };
    let n = 150;
    let scans = w.dir.path().join("many");
    std::fs::create_dir_all(&scans).unwrap();
    for i in 0..n {
        let img = image::RgbImage::from_fn(64, 90, |x, y| image::Rgb([x as u8 ^ i as u8, y as u8, (i * 3) as u8]));
        let mut bytes = Vec::new();
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90);
        enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(300));
        enc.encode_image(&img).unwrap();
        std::fs::write(scans.join(format!("p{i:04}.jpg")), bytes).unwrap();
    }
    let out = w.dir.path().join("archive");
    let env = w.env();
    let mut child = Command::new(hozon_bin())
        .args(["--lang", "en", "--config", w.config.to_str().unwrap(), "ingest", scans.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .args(["--signer", "hsm_ec", "--jobs", "1", "--json", "report.json"])
        .current_dir(w.dir.path())
        .env_remove("HOZON_CONFIG")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Pull the "card" after the tenth document: SoftHSM2's token folder goes away.
    let token_dir = std::fs::read_dir(&w.hsm.tokens).unwrap().next().unwrap().unwrap().path();
    let away = w.dir.path().join("token-away");
    let mut done = 0;
    for line in std::io::BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.starts_with("archived") {
            done += 1;
            if done == 10 {
                std::fs::rename(&token_dir, &away).unwrap();
            }
        }
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "the batch did not finish: some documents failed");
    assert!(!token_dir.exists(), "the token was pulled");
    let rep: Value = serde_json::from_slice(&std::fs::read(w.dir.path().join("report.json")).unwrap()).unwrap();
    let docs = rep["documents"].as_array().unwrap();
    let first = archived(&rep).len();
    let failed: Vec<&Value> = docs.iter().filter(|d| d["outcome"] == "failed").collect();
    assert!(first >= 10 && first < n, "archived before the token went: {first}");
    assert_eq!(first + failed.len(), n, "every document is archived or failed: {rep:#}");
    for d in &failed {
        assert_eq!(d["reasons"][0]["code"], "token-removed", "{d:#}");
    }
    // Nothing half-written: the archive holds exactly the archived files and agrees with itself.
    let o = w.run(&["audit", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The card is back: the same command finishes the batch.
    std::fs::rename(&away, &token_dir).unwrap();
    let o = w.run(&["ingest", scans.to_str().unwrap(), "--out", out.to_str().unwrap(), "--signer", "hsm_ec", "--json", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = json_of(&o)["summary"].clone();
    assert_eq!((s["archived"].as_u64(), s["already_archived"].as_u64()), (Some(failed.len() as u64), Some(first as u64)), "{s:#}");
    let o = w.run(&["audit", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn keys_list_shows_tokens_keys_certificates_roles_and_the_config_line() {
    let Some(w) = world() else { return };
    let module = w.hsm.module.to_str().unwrap();
    // Without a PIN: the public objects, private keys unknown.
    let o = w.run(&["keys", "list", "--module", module, "--json", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json_of(&o);
    let token = &v["modules"][0]["tokens"][0];
    assert_eq!(token["label"], TOKEN, "{v:#}");
    assert_eq!(token["logged_in"], false);
    let key = |t: &Value, id: &str| t["keys"].as_array().unwrap().iter().find(|k| k["id"] == id).cloned().unwrap_or_else(|| panic!("no key {id}: {t:#}"));
    let ph = key(token, "01");
    assert_eq!(ph["certificate"]["hc_role"], "Pharmacist", "{ph:#}");
    assert_eq!(ph["private_key"], "unknown");
    assert_eq!(ph["kind"], "RSA 2048");
    assert!(ph["certificate"]["key_usage"].as_array().unwrap().iter().any(|u| u == "nonRepudiation"));
    assert_eq!(key(token, "ff")["certificate"]["ca"], true);

    // With the PIN (from the environment): private keys, and the line that names each.
    let o = w.run(&["keys", "list", "--module", module, "--token", TOKEN, "--pin-env", PIN_ENV, "--json", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains(PIN));
    let v = json_of(&o);
    let token = &v["modules"][0]["tokens"][0];
    assert_eq!(token["logged_in"], true);
    let ec = key(token, "02");
    assert_eq!((ec["private_key"].as_str(), ec["kind"].as_str()), (Some("yes"), Some("EC P-256")), "{ec:#}");
    assert_eq!(key(token, "ff")["private_key"], "absent");
    // The suggested line is a working signer.
    let line = ec["config"].as_str().unwrap().replace("HOZON_PIN", PIN_ENV);
    let cfg = w.config_with("pasted", &format!("pkcs11 = {line}"));
    let one = w.dir.path().join("one");
    std::fs::create_dir_all(&one).unwrap();
    std::fs::copy(w.scans().join("紹介状.png"), one.join("紹介状.png")).unwrap();
    let o = w.run_with(&cfg, &["ingest", one.to_str().unwrap(), "--out", "archive", "--signer", "pasted"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // From the config's signers when no --module is given; in Japanese for people.
    let o = w.run(&["--lang", "ja", "keys", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let human = String::from_utf8_lossy(&o.stdout);
    assert!(human.contains("HPKI 資格: Pharmacist") && human.contains("トークン \"病院 HSM\""), "{human}");
    // A wrong module: its code and exit 2.
    let o = w.run(&["keys", "list", "--module", "/nonexistent/lib.so"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("[pkcs11-module]"), "{}", text(&o));
}
