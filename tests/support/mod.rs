//! Shared helpers for hozon's end-to-end tests: running the binary, and second opinions from
//! independent tools (poppler's pdfsig, pyHanko, qpdf, OpenSSL). A missing tool skips the check
//! with a loud message, unless HOZON_REQUIRE_PEERS=1 (CI), where it fails the test.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub fn hozon_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hozon"))
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn peers_required() -> bool {
    std::env::var("HOZON_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// True when `tool` runs. When it does not: panic under HOZON_REQUIRE_PEERS=1, else print SKIP.
pub fn have(tool: &str, probe_args: &[&str]) -> bool {
    let ok = Command::new(tool)
        .args(probe_args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        if peers_required() {
            panic!("{tool} is required (HOZON_REQUIRE_PEERS=1) but not installed");
        }
        eprintln!("\n*** SKIP: {tool} not installed; this peer check did not run ***\n");
    }
    ok
}

pub fn have_python_module(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if peers_required() {
            panic!("python module {module} is required (HOZON_REQUIRE_PEERS=1) but not installed");
        }
        eprintln!("\n*** SKIP: python module {module} not installed; this peer check did not run ***\n");
    }
    ok
}

/// Run hozon with args and extra env; never inherits HOZON_CONFIG from the caller.
pub fn hozon(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(hozon_bin());
    c.args(args)
        .current_dir(cwd)
        .env_remove("HOZON_CONFIG")
        .env_remove("HOZON_SIMULATED_TIME")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run hozon")
}

pub fn text(o: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A child process killed when dropped.
pub struct Background(pub Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(port: u16) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

/// `hozon tsa serve` on 127.0.0.1:`port` with `config`: the demo CRLs where the demo
/// certificates point (`[demo] base_url`), for peers that check revocation online.
pub fn serve_demo(config: &Path, cwd: &Path, port: u16) -> Background {
    let child = Command::new(hozon_bin())
        .arg("--config")
        .arg(config)
        .args(["tsa", "serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    Background(child)
}

/// One checker's verdict.
#[derive(Debug)]
pub struct Verdict {
    pub checker: String,
    pub pass: bool,
    pub detail: String,
}

/// Second opinions on a signed PDF, like ../shared/peers/crosscheck.sh but owned by hozon.
/// Returns None when the tools are missing (and not required).
pub fn crosscheck(pdf: &Path, root: &Path, offline: bool) -> Option<Vec<Verdict>> {
    if !(have("pdfsig", &["-v"])
        && have("qpdf", &["--version"])
        && have("openssl", &["version"])
        && have("certutil", &["-H"])
        && have("pyhanko", &["--version"])
        && have_python_module("asn1crypto"))
    {
        return None;
    }
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let mut out = Vec::new();
    let mut push = |checker: &str, pass: bool, detail: String| {
        out.push(Verdict {
            checker: checker.into(),
            pass,
            detail,
        })
    };

    // pdfsig with a throw-away NSS database trusting only `root`.
    let nss = w.join("nss");
    std::fs::create_dir_all(&nss).unwrap();
    let db = format!("sql:{}", nss.display());
    let ok = Command::new("certutil")
        .args(["-N", "-d", &db, "--empty-password"])
        .output()
        .unwrap()
        .status
        .success()
        && Command::new("certutil")
            .args(["-A", "-d", &db, "-n", "root", "-t", "CT,C,C", "-i"])
            .arg(root)
            .output()
            .unwrap()
            .status
            .success();
    assert!(ok, "certutil could not build the NSS db");
    let mut c = Command::new("pdfsig");
    c.args(["-nssdir", &db]);
    if offline {
        c.arg("-nocert");
    }
    let o = c.arg(pdf).output().unwrap();
    let s = String::from_utf8_lossy(&o.stdout).to_string();
    let blocks: Vec<&str> = s.split("Signature #").skip(1).collect();
    let mut bad = Vec::new();
    let mut cms_sigs = 0;
    for b in &blocks {
        if b.contains("Signature Type: unknown") && b.contains("not yet been verified") {
            continue; // document timestamp: poppler 22 cannot verify these; openssl does below
        }
        cms_sigs += 1;
        if !b.contains("Signature Validation: Signature is Valid.") {
            bad.push(format!(
                "signature: {}",
                b.lines().find(|l| l.contains("Signature Validation")).unwrap_or("?")
            ));
        } else if !offline && !b.contains("Certificate Validation: Certificate is Trusted.") {
            bad.push(format!(
                "certificate: {}",
                b.lines().find(|l| l.contains("Certificate Validation")).unwrap_or("?")
            ));
        }
    }
    push(
        "pdfsig",
        cms_sigs > 0 && bad.is_empty(),
        format!("{cms_sigs} CMS signature(s); {bad:?}\n{s}"),
    );

    // pyHanko's validator
    let mut c = Command::new("pyhanko");
    c.args(["sign", "validate", "--pretty-print", "--trust"])
        .arg(root)
        .arg("--trust-replace");
    if offline {
        c.arg("--no-revocation-check");
    }
    let o = c.arg(pdf).output().unwrap();
    let s = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let valid = s.matches("judged VALID").count();
    let invalid = s.matches("judged INVALID").count();
    push("pyhanko", o.status.success() && valid >= 1 && invalid == 0, s);

    // qpdf structure check
    let o = Command::new("qpdf").arg("--check").arg(pdf).output().unwrap();
    push(
        "qpdf",
        o.status.code() == Some(0),
        String::from_utf8_lossy(&o.stdout).to_string(),
    );

    // openssl per signature
    let ex = w.join("ex");
    let script = repo_root().join("tests/support/extract_sigs.py");
    let o = Command::new("python3").arg(&script).arg(pdf).arg(&ex).output().unwrap();
    if !o.status.success() {
        push("extract", false, String::from_utf8_lossy(&o.stderr).to_string());
        return Some(out);
    }
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [n, kind, br, has_tst, _eof] = f[..] else {
            panic!("bad extract line {line}")
        };
        push(&format!("byterange#{n}"), br == "ok", br.to_string());
        let sig = ex.join(format!("sig{n}.der"));
        let signed = ex.join(format!("signed{n}.bin"));
        if kind == "cms" {
            let o = Command::new("openssl")
                .args([
                    "cms",
                    "-verify",
                    "-inform",
                    "DER",
                    "-binary",
                    "-purpose",
                    "any",
                    "-out",
                    "/dev/null",
                    "-in",
                ])
                .arg(&sig)
                .arg("-content")
                .arg(&signed)
                .arg("-CAfile")
                .arg(root)
                .output()
                .unwrap();
            push(
                &format!("cms#{n}"),
                o.status.success(),
                String::from_utf8_lossy(&o.stderr).to_string(),
            );
            if has_tst == "1" {
                let o = Command::new("openssl")
                    .args(["ts", "-verify", "-token_in", "-in"])
                    .arg(ex.join(format!("tst{n}.der")))
                    .arg("-data")
                    .arg(ex.join(format!("sigval{n}.bin")))
                    .arg("-CAfile")
                    .arg(root)
                    .output()
                    .unwrap();
                push(
                    &format!("sig-tst#{n}"),
                    o.status.success(),
                    format!(
                        "{}{}",
                        String::from_utf8_lossy(&o.stdout),
                        String::from_utf8_lossy(&o.stderr)
                    ),
                );
            }
        } else {
            let o = Command::new("openssl")
                .args(["ts", "-verify", "-token_in", "-in"])
                .arg(&sig)
                .arg("-data")
                .arg(&signed)
                .arg("-CAfile")
                .arg(root)
                .output()
                .unwrap();
            push(
                &format!("doc-ts#{n}"),
                o.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                ),
            );
        }
    }
    Some(out)
}

/// Assert that every checker passed (and that signature timestamps were present when required).
pub fn assert_crosscheck(pdf: &Path, root: &Path, offline: bool, require_ts: bool) {
    let Some(v) = crosscheck(pdf, root, offline) else {
        return;
    };
    let failed: Vec<&Verdict> = v.iter().filter(|v| !v.pass).collect();
    assert!(
        failed.is_empty(),
        "peer checks failed for {}:\n{:#?}",
        pdf.display(),
        failed
    );
    for must in ["pdfsig", "pyhanko", "qpdf", "cms#1"] {
        assert!(v.iter().any(|x| x.checker == must), "{must} did not run: {v:#?}");
    }
    if require_ts {
        assert!(
            v.iter().any(|x| x.checker.starts_with("sig-tst#")),
            "no signature timestamp found: {v:#?}"
        );
    }
}

/// Where Debian and others install SoftHSM2's PKCS#11 module.
const SOFTHSM_MODULES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

/// A SoftHSM2 token store of its own (SOFTHSM2_CONF pointing into a temporary folder), one
/// initialised token, and pkcs11-tool (OpenSC) to put keys and certificates on it.
pub struct SoftHsm {
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
    pub tokens: PathBuf,
    pub module: PathBuf,
    pub label: String,
    pub pin: String,
}

impl SoftHsm {
    /// None (after a loud SKIP) when SoftHSM2 or pkcs11-tool is missing; under
    /// HOZON_REQUIRE_PEERS=1 that fails the test instead.
    pub fn new(label: &str, pin: &str) -> Option<SoftHsm> {
        if !(have("softhsm2-util", &["--version"]) && have("pkcs11-tool", &["--version"])) {
            return None;
        }
        let Some(module) = SOFTHSM_MODULES.iter().map(PathBuf::from).find(|p| p.is_file()) else {
            if peers_required() {
                panic!("libsofthsm2.so is required (HOZON_REQUIRE_PEERS=1) but not found in {SOFTHSM_MODULES:?}");
            }
            eprintln!("\n*** SKIP: libsofthsm2.so not found; this PKCS#11 check did not run ***\n");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir_all(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", tokens.display()),
        )
        .unwrap();
        let hsm = SoftHsm { dir, conf, tokens, module, label: label.into(), pin: pin.into() };
        let o = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "87654321"])
            .env("SOFTHSM2_CONF", &hsm.conf)
            .output()
            .unwrap();
        assert!(o.status.success(), "softhsm2-util --init-token: {}", text(&o));
        Some(hsm)
    }

    /// The environment hozon needs to see this token store.
    pub fn env(&self) -> (&'static str, String) {
        ("SOFTHSM2_CONF", self.conf.display().to_string())
    }

    /// pkcs11-tool on this token, logged in (the PIN on argv is fine for a test token).
    pub fn tool(&self, args: &[&str]) -> Output {
        let o = Command::new("pkcs11-tool")
            .arg("--module")
            .arg(&self.module)
            .args(["--token-label", &self.label, "--login", "--pin", &self.pin])
            .args(args)
            .env("SOFTHSM2_CONF", &self.conf)
            .output()
            .unwrap();
        assert!(o.status.success(), "pkcs11-tool {args:?}: {}", text(&o));
        o
    }

    /// Write a DER object (`privkey` as PKCS#8 or traditional DER, `cert`) with label and id.
    pub fn import(&self, kind: &str, der: &[u8], label: &str, id_hex: &str) {
        let f = self.dir.path().join(format!("import-{id_hex}-{kind}.der"));
        std::fs::write(&f, der).unwrap();
        self.tool(&["--write-object", f.to_str().unwrap(), "--type", kind, "--label", label, "--id", id_hex]);
        std::fs::remove_file(f).unwrap();
    }
}
