//! Test-only certificates made with the openssl crate: a tiny CA and leaf certificates for
//! signers and TSAs. Path validation is not tested here (that belongs to `pki`).

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509Name, X509};

use super::SoftwareSigner;

#[derive(Clone, Copy, Debug)]
pub enum KeyKind {
    Rsa2048,
    P256,
    P384,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Usage {
    Signer,
    /// Critical extendedKeyUsage timeStamping only (RFC 3161 §2.3).
    Tsa,
    /// timeStamping, but not marked critical.
    TsaNonCritical,
    /// timeStamping plus another purpose.
    TsaExtraPurpose,
    /// No extendedKeyUsage at all.
    NoEku,
}

pub struct TestCa {
    pub key: PKey<Private>,
    pub cert: X509,
}

pub fn key(kind: KeyKind) -> PKey<Private> {
    match kind {
        KeyKind::Rsa2048 => PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap(),
        KeyKind::P256 => ec(Nid::X9_62_PRIME256V1),
        KeyKind::P384 => ec(Nid::SECP384R1),
    }
}

fn ec(nid: Nid) -> PKey<Private> {
    let g = EcGroup::from_curve_name(nid).unwrap();
    PKey::from_ec_key(EcKey::generate(&g).unwrap()).unwrap()
}

fn name(cn: &str) -> X509Name {
    let mut b = X509Name::builder().unwrap();
    b.append_entry_by_nid_with_type(Nid::COMMONNAME, cn, openssl::asn1::Asn1Type::UTF8STRING)
        .unwrap();
    b.build()
}

fn serial() -> Asn1Integer {
    let mut bn = BigNum::new().unwrap();
    bn.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
    bn.to_asn1_integer().unwrap()
}

/// A self-signed P-256 root.
pub fn ca(cn: &str) -> TestCa {
    let key = key(KeyKind::P256);
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&serial()).unwrap();
    b.set_subject_name(&name(cn)).unwrap();
    b.set_issuer_name(&name(cn)).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::days_from_now(3650).unwrap()).unwrap();
    b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
        .unwrap();
    b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build().unwrap())
        .unwrap();
    let ski = SubjectKeyIdentifier::new()
        .build(&b.x509v3_context(None, None))
        .unwrap();
    b.append_extension(ski).unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    TestCa { key, cert: b.build() }
}

/// A leaf certificate for `key`, issued by `ca`.
pub fn issue(ca: &TestCa, key: &PKey<Private>, cn: &str, usage: Usage) -> X509 {
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&serial()).unwrap();
    b.set_subject_name(&name(cn)).unwrap();
    b.set_issuer_name(ca.cert.subject_name()).unwrap();
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::days_from_now(365).unwrap()).unwrap();
    b.append_extension(BasicConstraints::new().critical().build().unwrap())
        .unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .non_repudiation()
            .build()
            .unwrap(),
    )
    .unwrap();
    match usage {
        Usage::Signer | Usage::NoEku => {}
        Usage::Tsa => b
            .append_extension(ExtendedKeyUsage::new().critical().time_stamping().build().unwrap())
            .unwrap(),
        Usage::TsaNonCritical => b
            .append_extension(ExtendedKeyUsage::new().time_stamping().build().unwrap())
            .unwrap(),
        Usage::TsaExtraPurpose => b
            .append_extension(
                ExtendedKeyUsage::new()
                    .critical()
                    .time_stamping()
                    .code_signing()
                    .build()
                    .unwrap(),
            )
            .unwrap(),
    }
    let ctx = b.x509v3_context(Some(&ca.cert), None);
    let ski = SubjectKeyIdentifier::new().build(&ctx).unwrap();
    let aki = AuthorityKeyIdentifier::new().keyid(true).build(&ctx).unwrap();
    b.append_extension(ski).unwrap();
    b.append_extension(aki).unwrap();
    b.sign(&ca.key, MessageDigest::sha256()).unwrap();
    b.build()
}

/// A software signer with a fresh key of `kind`, certified by `ca` (chain: the CA).
pub fn signer(ca: &TestCa, kind: KeyKind, cn: &str, usage: Usage) -> SoftwareSigner {
    let k = key(kind);
    let cert = issue(ca, &k, cn, usage);
    SoftwareSigner::new(k, cert, vec![ca.cert.clone()]).unwrap()
}

/// True when an independent tool is on PATH. Otherwise prints a loud SKIP, or panics when
/// HOZON_REQUIRE_PEERS=1 (CI runs with the peers installed).
pub fn peer_available(tool: &str, test: &str) -> bool {
    let found = std::process::Command::new(tool)
        .arg(if tool == "openssl" { "version" } else { "--version" })
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

/// Run the openssl CLI; (success, stdout+stderr).
pub fn openssl(args: &[&str]) -> (bool, String) {
    let o = std::process::Command::new("openssl").args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}
