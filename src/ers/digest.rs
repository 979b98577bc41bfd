//! The hash algorithms an evidence record may use, their OIDs, and hashing (sha2).

use rasn::types::ObjectIdentifier;
use rasn_pkix::AlgorithmIdentifier;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::ErsError;

const SHA256: &[u32] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
const SHA384: &[u32] = &[2, 16, 840, 1, 101, 3, 4, 2, 2];
const SHA512: &[u32] = &[2, 16, 840, 1, 101, 3, 4, 2, 3];

/// A hash algorithm for hash trees and timestamp imprints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha384 => "sha384",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }

    /// Digest length in bytes.
    pub fn len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 32,
            DigestAlgorithm::Sha384 => 48,
            DigestAlgorithm::Sha512 => 64,
        }
    }

    fn arcs(self) -> &'static [u32] {
        match self {
            DigestAlgorithm::Sha256 => SHA256,
            DigestAlgorithm::Sha384 => SHA384,
            DigestAlgorithm::Sha512 => SHA512,
        }
    }

    pub fn oid(self) -> ObjectIdentifier {
        ObjectIdentifier::new_unchecked(self.arcs().into())
    }

    /// The algorithm named by an OID; parameters are ignored (absent or NULL both occur).
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self, ErsError> {
        let arcs: &[u32] = oid;
        [
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
        ]
        .into_iter()
        .find(|a| a.arcs() == arcs)
        .ok_or_else(|| ErsError::UnsupportedAlgorithm(oid_text(arcs)))
    }

    /// AlgorithmIdentifier without parameters, as BouncyCastle writes it.
    pub(crate) fn identifier(self) -> AlgorithmIdentifier {
        AlgorithmIdentifier {
            algorithm: self.oid(),
            parameters: None,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        self.digest_parts(&[data])
    }

    /// Hash of the concatenation of `parts`.
    pub fn digest_parts(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().to_vec()
        }
        match self {
            DigestAlgorithm::Sha256 => run::<Sha256>(parts),
            DigestAlgorithm::Sha384 => run::<Sha384>(parts),
            DigestAlgorithm::Sha512 => run::<Sha512>(parts),
        }
    }
}

fn oid_text(arcs: &[u32]) -> String {
    arcs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer_and_lengths() {
        // FIPS 180 "abc" vectors
        let abc = DigestAlgorithm::Sha256.digest(b"abc");
        assert_eq!(
            hex::encode(abc),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        for a in [
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
        ] {
            assert_eq!(a.digest(b"x").len(), a.len());
            assert_eq!(a.digest_parts(&[b"ab", b"c"]), a.digest(b"abc"));
            assert_eq!(DigestAlgorithm::from_oid(&a.oid()).unwrap(), a);
        }
    }

    #[test]
    fn sha1_is_refused() {
        let sha1 = ObjectIdentifier::new_unchecked(vec![1, 3, 14, 3, 2, 26].into());
        let e = DigestAlgorithm::from_oid(&sha1).unwrap_err();
        assert_eq!(e.code(), "ers-unsupported-algorithm");
        assert!(e.to_string().contains("1.3.14.3.2.26"));
    }
}
