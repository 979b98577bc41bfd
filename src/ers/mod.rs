//! RFC 4998 Evidence Record Syntax (ERS): one RFC 3161 timestamp covers a whole batch of
//! archives through a hash tree, and every archive keeps its own small `EvidenceRecord`
//! (its reduced hash tree plus the token), verifiable alone without disclosing other files.
//!
//! `asn1` holds the wire types, `digest` the hash algorithms, `token` reads what ERS needs
//! from a timestamp token, `tree` builds and walks the §4 hash tree, `record` creates and
//! renews records (§5.2), `verify` checks a record against a document (§5.3).
//!
//! The timestamp authority and the token verifier are seams ([`RootStamper`], [`TokenCheck`]):
//! this module never talks to a TSA nor judges certificates itself.

pub mod asn1;
pub mod digest;
pub mod error;
pub mod record;
pub mod token;
pub mod tree;
pub mod verify;

#[cfg(test)]
mod interop_tests;
#[cfg(test)]
pub(crate) mod test_tsa;

pub use digest::DigestAlgorithm;
pub use error::ErsError;
pub use record::{
    build_records, renew_hash_tree, renew_timestamps, ArchiveTimeStamp, ArchiveTimeStampChain, EvidenceRecord,
};
pub use token::TokenInfo;
pub use verify::{verify, ChainReport, ErsReport};

use time::OffsetDateTime;

/// Obtains one RFC 3161 timestamp over a digest (the hash tree's root).
pub trait RootStamper {
    /// Returns the TimeStampToken (a CMS ContentInfo, DER) exactly as the TSA sent it.
    fn stamp(&self, alg: DigestAlgorithm, digest: &[u8]) -> Result<Vec<u8>, ErsError>;
}

/// Judges one timestamp token: its signature and the TSA's certificate path.
pub trait TokenCheck {
    /// Verify the token's signature and its TSA certificate chain as of `at`; return genTime.
    fn check(&self, token_der: &[u8], at: OffsetDateTime) -> Result<OffsetDateTime, ErsError>;
}
