//! Test-only helpers: a small EC test PKI and the "is the openssl CLI here?" gate.

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use time::macros::datetime;
use time::OffsetDateTime;

use super::issue::{issue, new_ec_key, CertSpec};

/// A temp dir when the `openssl` CLI is installed; otherwise a loud skip (or a panic with
/// HOZON_REQUIRE_PEERS=1).
pub fn openssl_cli(test: &str) -> Option<tempfile::TempDir> {
    let ok = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("HOZON_REQUIRE_PEERS").as_deref() == Ok("1") {
            panic!("{test}: openssl CLI not installed and HOZON_REQUIRE_PEERS=1");
        }
        eprintln!("SKIP {test}: openssl not installed");
        return None;
    }
    Some(tempfile::tempdir().expect("temp dir"))
}

pub struct Party {
    pub key: PKey<Private>,
    pub cert: X509,
}

/// root → intermediate → {signer, tsa}, valid 2020..2040 (signer 2024..2027).
pub struct TestPki {
    pub root: Party,
    pub inter: Party,
    pub signer: Party,
    pub tsa: Party,
}

pub fn party(spec: &CertSpec, issuer: Option<&Party>) -> Party {
    let key = new_ec_key().expect("key");
    let cert = issue(spec, &key, issuer.map(|p| (p.cert.as_ref(), p.key.as_ref()))).expect("issue");
    Party { key, cert }
}

pub const T0: OffsetDateTime = datetime!(2020-01-01 0:00 UTC);
pub const T_END: OffsetDateTime = datetime!(2040-01-01 0:00 UTC);

impl TestPki {
    pub fn new() -> TestPki {
        let root = party(&CertSpec::ca("Test Root", T0, T_END), None);
        let inter = party(&CertSpec::ca("Test Intermediate", T0, T_END), Some(&root));
        let mut s = CertSpec::signer(
            "署名者 一郎",
            datetime!(2024-01-01 0:00 UTC),
            datetime!(2027-01-01 0:00 UTC),
        );
        s.crl_urls = vec!["http://127.0.0.1:9/inter.crl".into()];
        let signer = party(&s, Some(&inter));
        let tsa = party(&CertSpec::tsa("Test TSA", T0, T_END), Some(&inter));
        TestPki {
            root,
            inter,
            signer,
            tsa,
        }
    }
}
