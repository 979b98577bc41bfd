//! RFC 4998 §2.1 / §3 / §4 / §5 ASN.1 types (the 1988 module, `DEFINITIONS IMPLICIT TAGS`),
//! as rasn derives. `timeStamp` is kept as the raw ContentInfo TLV so tokens travel byte for
//! byte; record.rs maps these to the domain types.

use rasn::prelude::*;
use rasn_pkix::{AlgorithmIdentifier, Attribute};

/// ```text
/// EvidenceRecord ::= SEQUENCE {
///   version                  INTEGER { v1(1) },
///   digestAlgorithms         SEQUENCE OF AlgorithmIdentifier,
///   cryptoInfos              [0] CryptoInfos OPTIONAL,
///   encryptionInfo           [1] EncryptionInfo OPTIONAL,
///   archiveTimeStampSequence ArchiveTimeStampSequence }
/// ```
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
pub struct EvidenceRecordAsn {
    pub version: Integer,
    pub digest_algorithms: SequenceOf<AlgorithmIdentifier>,
    /// `CryptoInfos ::= SEQUENCE SIZE (1..MAX) OF Attribute`
    #[rasn(tag(0))]
    pub crypto_infos: Option<SequenceOf<Attribute>>,
    #[rasn(tag(1))]
    pub encryption_info: Option<EncryptionInfo>,
    pub archive_time_stamp_sequence: ArchiveTimeStampSequence,
}

/// `EncryptionInfo ::= SEQUENCE { encryptionInfoType OBJECT IDENTIFIER, encryptionInfoValue ANY }`
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
pub struct EncryptionInfo {
    pub encryption_info_type: ObjectIdentifier,
    pub encryption_info_value: Any,
}

/// `ArchiveTimeStampSequence ::= SEQUENCE OF ArchiveTimeStampChain`
pub type ArchiveTimeStampSequence = SequenceOf<ArchiveTimeStampChainAsn>;
/// `ArchiveTimeStampChain ::= SEQUENCE OF ArchiveTimeStamp`
pub type ArchiveTimeStampChainAsn = SequenceOf<ArchiveTimeStampAsn>;
/// `PartialHashtree ::= SEQUENCE OF OCTET STRING`
pub type PartialHashtree = SequenceOf<OctetString>;

/// ```text
/// ArchiveTimeStamp ::= SEQUENCE {
///   digestAlgorithm [0] AlgorithmIdentifier OPTIONAL,
///   attributes      [1] Attributes OPTIONAL,
///   reducedHashtree [2] SEQUENCE OF PartialHashtree OPTIONAL,
///   timeStamp       ContentInfo }
/// ```
#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq)]
pub struct ArchiveTimeStampAsn {
    #[rasn(tag(0))]
    pub digest_algorithm: Option<AlgorithmIdentifier>,
    /// `Attributes ::= SET SIZE (1..MAX) OF Attribute`
    #[rasn(tag(1))]
    pub attributes: Option<SetOf<Attribute>>,
    #[rasn(tag(2))]
    pub reduced_hashtree: Option<SequenceOf<PartialHashtree>>,
    /// The whole ContentInfo TLV, untouched.
    pub time_stamp: Any,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256() -> AlgorithmIdentifier {
        AlgorithmIdentifier {
            algorithm: ObjectIdentifier::new_unchecked(vec![2, 16, 840, 1, 101, 3, 4, 2, 1].into()),
            parameters: None,
        }
    }

    // A minimal stand-in ContentInfo TLV: SEQUENCE { OID 1.2.840.113549.1.7.2, [0] { NULL } }.
    const CONTENT_INFO: &[u8] = &[
        0x30, 0x0f, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x02, 0x05, 0x00,
    ];

    #[test]
    fn implicit_tags_and_raw_timestamp_on_the_wire() {
        let ats = ArchiveTimeStampAsn {
            digest_algorithm: Some(sha256()),
            attributes: None,
            reduced_hashtree: Some(vec![vec![OctetString::from(vec![0xAB; 2])]]),
            time_stamp: Any::new(CONTENT_INFO.to_vec()),
        };
        let der = rasn::der::encode(&ats).unwrap();
        // [0] IMPLICIT AlgorithmIdentifier: constructed context tag 0xA0 directly holding the OID
        assert_eq!(der[2], 0xA0);
        assert_eq!(der[4], 0x06, "implicit tag: no inner SEQUENCE header");
        // [2] IMPLICIT SEQUENCE OF PartialHashtree: A2 { 30 { 04 02 AB AB } }
        let tree_at = der.windows(2).position(|w| w == [0xA2, 0x06]).unwrap();
        assert_eq!(
            &der[tree_at..tree_at + 8],
            &[0xA2, 0x06, 0x30, 0x04, 0x04, 0x02, 0xAB, 0xAB]
        );
        assert!(der.ends_with(CONTENT_INFO), "timeStamp is written verbatim");
        let back: ArchiveTimeStampAsn = rasn::der::decode(&der).unwrap();
        assert_eq!(back, ats);
    }

    #[test]
    fn evidence_record_round_trip() {
        let er = EvidenceRecordAsn {
            version: 1.into(),
            digest_algorithms: vec![sha256()],
            crypto_infos: None,
            encryption_info: None,
            archive_time_stamp_sequence: vec![vec![ArchiveTimeStampAsn {
                digest_algorithm: None,
                attributes: None,
                reduced_hashtree: None,
                time_stamp: Any::new(CONTENT_INFO.to_vec()),
            }]],
        };
        let der = rasn::der::encode(&er).unwrap();
        // SEQUENCE { INTEGER 1, SEQUENCE { SEQUENCE { OID } }, SEQUENCE { SEQUENCE { SEQUENCE { CI } } } }
        assert_eq!(&der[2..5], &[0x02, 0x01, 0x01]);
        let back: EvidenceRecordAsn = rasn::der::decode(&der).unwrap();
        assert_eq!(back, er);
    }
}
