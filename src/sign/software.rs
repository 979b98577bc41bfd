//! `SoftwareSigner`: a private key held in memory, loaded from PKCS#12 or PEM files whose
//! permissions are checked first. OpenSSL makes every signature.

use std::path::Path;

use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Padding;
use openssl::sign::RsaPssSaltlen;
use openssl::x509::{X509VerifyResult, X509};

use super::{check_private_file, read_secret, Secret, SignError, SignatureAlg, Signer};
use crate::config::{Config, SignerConfig};

/// A signer whose key is a file on this machine.
pub struct SoftwareSigner {
    key: PKey<Private>,
    cert: X509,
    chain: Vec<X509>,
    alg: SignatureAlg,
}

impl std::fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareSigner")
            .field("subject", &subject_text(&self.cert))
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SoftwareSigner {
    /// Key, its certificate and the issuers (any order). The algorithm follows the key:
    /// RSA → PKCS#1 v1.5 SHA-256, P-256 → ECDSA SHA-256, P-384 → ECDSA SHA-384.
    pub fn new(key: PKey<Private>, cert: X509, chain: Vec<X509>) -> Result<Self, SignError> {
        if !cert.public_key()?.public_eq(&key) {
            return Err(SignError::KeyMismatch {
                subject: subject_text(&cert),
            });
        }
        let alg = SignatureAlg::default_for(&key)?;
        let chain = order_chain(&cert, chain);
        Ok(SoftwareSigner { key, cert, chain, alg })
    }

    /// Choose another algorithm fitting the key (e.g. RSA-PSS, or ECDSA with SHA-512).
    pub fn with_algorithm(mut self, alg: SignatureAlg) -> Result<Self, SignError> {
        if !alg.fits(&self.key) {
            return Err(SignError::Unsupported(format!("{} does not fit this key", alg.name())));
        }
        self.alg = alg;
        Ok(self)
    }

    /// Load a PKCS#12 file (key, certificate and chain).
    pub fn from_pkcs12(path: &Path, password: &Secret) -> Result<Self, SignError> {
        check_private_file(path)?;
        let der = std::fs::read(path).map_err(|e| SignError::Unreadable {
            path: path.to_path_buf(),
            source: e,
        })?;
        let invalid = |m: &str| SignError::InvalidKey {
            path: path.to_path_buf(),
            message: m.to_string(),
        };
        let p12 = openssl::pkcs12::Pkcs12::from_der(&der).map_err(|_| invalid("not a PKCS#12 file"))?;
        let parsed = p12
            .parse2(password.expose())
            .map_err(|_| invalid("cannot open the PKCS#12 file: wrong password or unsupported (legacy) encryption"))?;
        let key = parsed
            .pkey
            .ok_or_else(|| invalid("the PKCS#12 file holds no private key"))?;
        let cert = parsed
            .cert
            .ok_or_else(|| invalid("the PKCS#12 file holds no certificate"))?;
        let chain = parsed.ca.map(|s| s.into_iter().collect()).unwrap_or_default();
        Self::new(key, cert, chain)
    }

    /// Load a PEM private key (encrypted when `password` is given) and a PEM chain, signer first.
    pub fn from_pem(key: &Path, chain: &Path, password: Option<&Secret>) -> Result<Self, SignError> {
        check_private_file(key)?;
        let key_pem = std::fs::read(key).map_err(|e| SignError::Unreadable {
            path: key.to_path_buf(),
            source: e,
        })?;
        let pkey = match password {
            Some(p) => PKey::private_key_from_pem_passphrase(&key_pem, p.expose().as_bytes()),
            None => PKey::private_key_from_pem(&key_pem),
        }
        .map_err(|_| SignError::InvalidKey {
            path: key.to_path_buf(),
            message: "not a readable PEM private key (wrong password?)".into(),
        })?;
        let (cert, certs) = read_pem_chain(chain)?;
        Self::new(pkey, cert, certs)
    }

    /// Build the signer a `[signers.NAME]` section describes; paths resolve against the config.
    pub fn from_config(sc: &SignerConfig, cfg: &Config) -> Result<Self, SignError> {
        let pw_file = sc.password_file.as_ref().map(|p| cfg.resolve(p));
        let password = read_secret(sc.password_env.as_deref(), pw_file.as_deref())?;
        let signer = match (&sc.pkcs12, &sc.key, &sc.chain) {
            (Some(p12), None, _) => {
                let pw = password.unwrap_or_else(|| Secret::new(""));
                Self::from_pkcs12(&cfg.resolve(p12), &pw)?
            }
            (None, Some(key), Some(chain)) => {
                Self::from_pem(&cfg.resolve(key), &cfg.resolve(chain), password.as_ref())?
            }
            _ => return Err(SignError::Config("give either pkcs12, or key and chain".into())),
        };
        let alg = signer.alg.with_rsa_padding(sc.rsa_padding.as_deref())?;
        signer.with_algorithm(alg)
    }
}

impl Signer for SoftwareSigner {
    fn certificate(&self) -> &X509 {
        &self.cert
    }
    fn chain(&self) -> &[X509] {
        &self.chain
    }
    fn algorithm(&self) -> SignatureAlg {
        self.alg
    }
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SignError> {
        let md: MessageDigest = self.alg.digest().message_digest();
        let mut s = openssl::sign::Signer::new(md, &self.key)?;
        if let SignatureAlg::RsaPss(_) = self.alg {
            s.set_rsa_padding(Padding::PKCS1_PSS)?;
            s.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
            s.set_rsa_mgf1_md(md)?;
        }
        s.update(data)?;
        Ok(s.sign_to_vec()?)
    }
}

/// A PEM chain file: the signer's certificate first, then the others as they come.
pub(crate) fn read_pem_chain(path: &Path) -> Result<(X509, Vec<X509>), SignError> {
    let pem = std::fs::read(path).map_err(|e| SignError::Unreadable { path: path.to_path_buf(), source: e })?;
    let invalid = |m: &str| SignError::InvalidKey { path: path.to_path_buf(), message: m.into() };
    let mut certs = X509::stack_from_pem(&pem).map_err(|_| invalid("not a PEM certificate chain"))?;
    if certs.is_empty() {
        return Err(invalid("no certificate in the file"));
    }
    let cert = certs.remove(0);
    Ok((cert, certs))
}

/// Order issuers so each one issued the certificate before it; unrelated ones go last.
fn order_chain(leaf: &X509, mut rest: Vec<X509>) -> Vec<X509> {
    let mut ordered = take_issuer_path(leaf, &mut rest);
    ordered.extend(rest);
    ordered
}

/// Only the issuers of `leaf` among `candidates`, nearest first (a token may hold unrelated
/// certificates, which do not belong in a signature).
pub(crate) fn issuer_path(leaf: &X509, mut candidates: Vec<X509>) -> Vec<X509> {
    take_issuer_path(leaf, &mut candidates)
}

fn take_issuer_path(leaf: &X509, rest: &mut Vec<X509>) -> Vec<X509> {
    rest.retain(|c| c.to_der().ok() != leaf.to_der().ok());
    let mut ordered: Vec<X509> = Vec::with_capacity(rest.len());
    let mut current = leaf.clone();
    while let Some(pos) = rest.iter().position(|c| c.issued(&current) == X509VerifyResult::OK) {
        let next = rest.remove(pos);
        let self_signed = next.issued(&next) == X509VerifyResult::OK;
        ordered.push(next.clone());
        if self_signed {
            break;
        }
        current = next;
    }
    ordered
}

pub(crate) fn subject_text(cert: &X509) -> String {
    cert.subject_name()
        .entries()
        .map(|e| {
            let k = e.object().nid().short_name().unwrap_or("?");
            let v = e.data().to_string().unwrap_or_default();
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::test_pki::{self, KeyKind, Usage};
    use crate::sign::DigestAlg;
    use std::os::unix::fs::PermissionsExt;

    fn verify_raw(signer: &SoftwareSigner, data: &[u8], sig: &[u8]) -> bool {
        let pk = signer.certificate().public_key().unwrap();
        signer.algorithm().verify(&pk, data, sig).unwrap()
    }

    #[test]
    fn each_key_kind_signs_verifiably_with_its_default_algorithm() {
        let ca = test_pki::ca("テスト認証局");
        for (kind, want) in [
            (KeyKind::Rsa2048, SignatureAlg::RsaPkcs1(DigestAlg::Sha256)),
            (KeyKind::P256, SignatureAlg::Ecdsa(DigestAlg::Sha256)),
            (KeyKind::P384, SignatureAlg::Ecdsa(DigestAlg::Sha384)),
        ] {
            let s = test_pki::signer(&ca, kind, "署名者 太郎", Usage::Signer);
            assert_eq!(s.algorithm(), want);
            let sig = s.sign(b"data").unwrap();
            assert!(verify_raw(&s, b"data", &sig));
            assert!(!verify_raw(&s, b"datA", &sig));
            assert_eq!(s.chain().len(), 1);
        }
        let pss = test_pki::signer(&ca, KeyKind::Rsa2048, "pss", Usage::Signer)
            .with_algorithm(SignatureAlg::RsaPss(DigestAlg::Sha256))
            .unwrap();
        let sig = pss.sign(b"x").unwrap();
        assert!(verify_raw(&pss, b"x", &sig));
        let ec = test_pki::signer(&ca, KeyKind::P256, "ec", Usage::Signer);
        assert_eq!(
            ec.with_algorithm(SignatureAlg::RsaPss(DigestAlg::Sha256))
                .unwrap_err()
                .code(),
            "key-unsupported"
        );
    }

    #[test]
    fn key_of_another_certificate_is_refused() {
        let ca = test_pki::ca("CA");
        let a = test_pki::signer(&ca, KeyKind::P256, "a", Usage::Signer);
        let other = test_pki::key(KeyKind::P256);
        let e = SoftwareSigner::new(other, a.certificate().clone(), vec![]).unwrap_err();
        assert_eq!(e.code(), "key-mismatch");
    }

    #[test]
    fn pkcs12_loads_with_password_and_refuses_open_permissions() {
        let ca = test_pki::ca("Root");
        let key = test_pki::key(KeyKind::Rsa2048);
        let cert = test_pki::issue(&ca, &key, "山田 花子", Usage::Signer);
        let mut stack = openssl::stack::Stack::new().unwrap();
        stack.push(ca.cert.clone()).unwrap();
        let p12 = openssl::pkcs12::Pkcs12::builder()
            .name("signer")
            .pkey(&key)
            .cert(&cert)
            .ca(stack)
            .build2("正しいpw")
            .unwrap();
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("signer.p12");
        std::fs::write(&path, p12.to_der().unwrap()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();

        let s = SoftwareSigner::from_pkcs12(&path, &Secret::new("正しいpw")).unwrap();
        assert_eq!(s.certificate().to_der().unwrap(), cert.to_der().unwrap());
        assert_eq!(s.chain().len(), 1);
        assert!(subject_text(s.certificate()).contains("山田 花子"));

        let e = SoftwareSigner::from_pkcs12(&path, &Secret::new("wrong-pw")).unwrap_err();
        assert_eq!(e.code(), "key-invalid");
        assert!(!e.to_string().contains("wrong-pw") && !format!("{e:?}").contains("wrong-pw"));

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = SoftwareSigner::from_pkcs12(&path, &Secret::new("正しいpw")).unwrap_err();
        assert_eq!(e.code(), "key-permissions");
    }

    #[test]
    fn from_config_reads_pem_key_chain_and_pss_choice() {
        let ca = test_pki::ca("Root");
        let key = test_pki::key(KeyKind::Rsa2048);
        let cert = test_pki::issue(&ca, &key, "pem signer", Usage::Signer);
        let d = tempfile::tempdir().unwrap();
        let pw = Secret::new("pem-pass");
        let enc = key
            .private_key_to_pem_pkcs8_passphrase(openssl::symm::Cipher::aes_256_cbc(), pw.expose().as_bytes())
            .unwrap();
        std::fs::write(d.path().join("k.pem"), enc).unwrap();
        std::fs::set_permissions(d.path().join("k.pem"), std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut chain = cert.to_pem().unwrap();
        chain.extend(ca.cert.to_pem().unwrap());
        std::fs::write(d.path().join("chain.pem"), chain).unwrap();
        std::fs::write(d.path().join("pw.txt"), "pem-pass\n").unwrap();
        std::fs::set_permissions(d.path().join("pw.txt"), std::fs::Permissions::from_mode(0o600)).unwrap();
        let text = r#"
[tsa]
url = "builtin:demo"
[profiles.chart]
[signers.a]
key = "k.pem"
chain = "chain.pem"
password_file = "pw.txt"
rsa_padding = "pss"
"#;
        let cfg = Config::from_toml(text, &d.path().join("h.toml"), d.path()).unwrap();
        let s = SoftwareSigner::from_config(&cfg.signers["a"], &cfg).unwrap();
        assert_eq!(s.algorithm(), SignatureAlg::RsaPss(DigestAlg::Sha256));
        assert_eq!(s.chain().len(), 1);
    }
}
