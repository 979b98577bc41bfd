//! Digest and signature algorithms: names, OIDs and the OpenSSL digest behind each.

use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, PKeyRef};
use rasn::types::{ObjectIdentifier, Oid};

use super::SignError;

const OID_SHA256: &Oid = Oid::const_new(&[2, 16, 840, 1, 101, 3, 4, 2, 1]);
const OID_SHA384: &Oid = Oid::const_new(&[2, 16, 840, 1, 101, 3, 4, 2, 2]);
const OID_SHA512: &Oid = Oid::const_new(&[2, 16, 840, 1, 101, 3, 4, 2, 3]);

/// Hash algorithms for message digests, imprints and signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlg {
    pub fn oid(self) -> &'static Oid {
        match self {
            DigestAlg::Sha256 => OID_SHA256,
            DigestAlg::Sha384 => OID_SHA384,
            DigestAlg::Sha512 => OID_SHA512,
        }
    }

    pub fn object_identifier(self) -> ObjectIdentifier {
        self.oid().to_owned()
    }

    pub fn from_oid(oid: &Oid) -> Option<Self> {
        [DigestAlg::Sha256, DigestAlg::Sha384, DigestAlg::Sha512]
            .into_iter()
            .find(|d| d.oid() == oid)
    }

    pub fn name(self) -> &'static str {
        match self {
            DigestAlg::Sha256 => "sha256",
            DigestAlg::Sha384 => "sha384",
            DigestAlg::Sha512 => "sha512",
        }
    }

    /// Accepts `sha256`, `SHA-256`, `sha-256` and the like.
    pub fn from_name(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha256" => Some(DigestAlg::Sha256),
            "sha384" => Some(DigestAlg::Sha384),
            "sha512" => Some(DigestAlg::Sha512),
            _ => None,
        }
    }

    /// Output length in bytes.
    pub fn len(self) -> usize {
        match self {
            DigestAlg::Sha256 => 32,
            DigestAlg::Sha384 => 48,
            DigestAlg::Sha512 => 64,
        }
    }

    pub fn message_digest(self) -> MessageDigest {
        match self {
            DigestAlg::Sha256 => MessageDigest::sha256(),
            DigestAlg::Sha384 => MessageDigest::sha384(),
            DigestAlg::Sha512 => MessageDigest::sha512(),
        }
    }

    /// Hash `data` with OpenSSL.
    pub fn digest(self, data: &[u8]) -> Result<Vec<u8>, SignError> {
        Ok(openssl::hash::hash(self.message_digest(), data)?.to_vec())
    }
}

/// How a signer signs: key type, padding and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlg {
    /// RSASSA-PKCS1-v1_5.
    RsaPkcs1(DigestAlg),
    /// RSASSA-PSS with MGF1 over the same hash and a salt as long as the hash.
    RsaPss(DigestAlg),
    Ecdsa(DigestAlg),
}

impl SignatureAlg {
    pub fn digest(self) -> DigestAlg {
        match self {
            SignatureAlg::RsaPkcs1(d) | SignatureAlg::RsaPss(d) | SignatureAlg::Ecdsa(d) => d,
        }
    }

    /// Short name for reports, e.g. `rsa-pss-sha256`.
    pub fn name(self) -> String {
        let kind = match self {
            SignatureAlg::RsaPkcs1(_) => "rsa-pkcs1",
            SignatureAlg::RsaPss(_) => "rsa-pss",
            SignatureAlg::Ecdsa(_) => "ecdsa",
        };
        format!("{kind}-{}", self.digest().name())
    }

    /// The algorithm a key signs with unless configured otherwise: RSA (2048 bits at least) →
    /// PKCS#1 v1.5 SHA-256, RSA-PSS → PSS SHA-256, P-256 → ECDSA SHA-256, P-384 → ECDSA SHA-384.
    /// Works on the private key or on the certificate's public key alike.
    pub fn default_for<T: HasPublic>(key: &PKeyRef<T>) -> Result<SignatureAlg, SignError> {
        match key.id() {
            Id::RSA if key.bits() >= 2048 => Ok(SignatureAlg::RsaPkcs1(DigestAlg::Sha256)),
            Id::RSA => Err(SignError::Unsupported(format!(
                "RSA key of {} bits (2048 at least)",
                key.bits()
            ))),
            Id::RSA_PSS => Ok(SignatureAlg::RsaPss(DigestAlg::Sha256)),
            Id::EC => match key.ec_key()?.group().curve_name() {
                Some(Nid::X9_62_PRIME256V1) => Ok(SignatureAlg::Ecdsa(DigestAlg::Sha256)),
                Some(Nid::SECP384R1) => Ok(SignatureAlg::Ecdsa(DigestAlg::Sha384)),
                other => Err(SignError::Unsupported(format!(
                    "EC curve {other:?} (use P-256 or P-384)"
                ))),
            },
            other => Err(SignError::Unsupported(format!("key type {other:?}"))),
        }
    }

    /// Whether this algorithm can be used with a key of this type.
    pub fn fits<T>(self, key: &PKeyRef<T>) -> bool {
        matches!(
            (self, key.id()),
            (SignatureAlg::RsaPkcs1(_) | SignatureAlg::RsaPss(_), Id::RSA)
                | (SignatureAlg::RsaPss(_), Id::RSA_PSS)
                | (SignatureAlg::Ecdsa(_), Id::EC)
        )
    }

    /// Whether `sig` is this algorithm's signature over `data` by `key`'s owner (OpenSSL).
    pub fn verify<T: HasPublic>(self, key: &PKeyRef<T>, data: &[u8], sig: &[u8]) -> Result<bool, SignError> {
        let md = self.digest().message_digest();
        let mut v = openssl::sign::Verifier::new(md, key)?;
        if let SignatureAlg::RsaPss(_) = self {
            v.set_rsa_padding(openssl::rsa::Padding::PKCS1_PSS)?;
            v.set_rsa_pss_saltlen(openssl::sign::RsaPssSaltlen::DIGEST_LENGTH)?;
            v.set_rsa_mgf1_md(md)?;
        }
        Ok(v.verify_oneshot(sig, data).unwrap_or(false))
    }

    /// The `[signers.NAME] rsa_padding` choice applied to this algorithm: `pkcs1` (or none)
    /// keeps it, `pss` makes RSA sign with PSS over the same hash.
    pub fn with_rsa_padding(self, padding: Option<&str>) -> Result<SignatureAlg, SignError> {
        match padding {
            None | Some("pkcs1") => Ok(self),
            Some("pss") => Ok(SignatureAlg::RsaPss(self.digest())),
            Some(other) => Err(SignError::Config(format!("rsa_padding = {other:?}: use pkcs1 or pss"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_oids_round_trip() {
        for d in [DigestAlg::Sha256, DigestAlg::Sha384, DigestAlg::Sha512] {
            assert_eq!(DigestAlg::from_name(d.name()), Some(d));
            assert_eq!(DigestAlg::from_oid(d.oid()), Some(d));
            assert_eq!(d.digest(b"abc").unwrap().len(), d.len());
        }
        assert_eq!(DigestAlg::from_name("SHA-384"), Some(DigestAlg::Sha384));
        assert_eq!(DigestAlg::from_name("md5"), None);
        assert_eq!(DigestAlg::from_oid(Oid::const_new(&[1, 3, 14, 3, 2, 26])), None);
    }

    #[test]
    fn sha256_matches_known_vector() {
        let d = DigestAlg::Sha256.digest(b"abc").unwrap();
        assert_eq!(
            hex::encode(d),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
