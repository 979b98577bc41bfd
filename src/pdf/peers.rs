//! Test support: independent tools (qpdf, pdfimages, pdfinfo, pdfsig) that confirm our output.
//! Missing tools skip loudly, or fail when HOZON_REQUIRE_PEERS=1.

use std::path::Path;
use std::process::Command;

/// Whether `tool` can be run; prints a SKIP line (or panics if peers are required) when not.
pub fn have(tool: &str, test: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("HOZON_REQUIRE_PEERS").as_deref() == Ok("1") {
            panic!("{test}: {tool} not installed and HOZON_REQUIRE_PEERS=1");
        }
        eprintln!("SKIP {test}: {tool} not installed");
    }
    found
}

/// Run a tool; returns (success, stdout+stderr).
pub fn run(tool: &str, args: &[&str]) -> (bool, String) {
    match Command::new(tool).args(args).output() {
        Ok(o) => (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => (false, e.to_string()),
    }
}

/// `qpdf --check` must pass without warnings.
pub fn qpdf_check(pdf: &[u8], test: &str) {
    if !have("qpdf", test) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.pdf");
    std::fs::write(&path, pdf).expect("write");
    let (ok, out) = run("qpdf", &["--check", path_str(&path)]);
    assert!(ok && !out.contains("WARNING"), "qpdf --check failed:\n{out}");
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}
