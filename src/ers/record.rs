//! Evidence records: the domain types, DER reading/writing, creation over a batch of documents
//! with ONE timestamp (§4), and renewal (§5.2) — timestamp renewal and hash-tree renewal, each
//! also one timestamp for the whole batch.
//!
//! Layout written (BouncyCastle-compatible, see tree.rs): the first list of a reduced hash tree
//! holds the covered object's hash (or, on timestamp renewal, the hashes of all earlier
//! timestamps of the chain, as a data group — BouncyCastle checks every one of them against the
//! newest), then one single-sibling list per tree level. A lone object with no siblings gets no
//! reducedHashtree: the imprint is its hash.

use std::collections::BTreeMap;
use std::sync::Arc;

use rasn::types::{Any, OctetString, SetOf};
use rasn_pkix::Attribute;

use super::asn1::{ArchiveTimeStampAsn, EncryptionInfo, EvidenceRecordAsn};
use super::token::{read_token, TokenInfo};
use super::tree::{list_value, HashTree, ListRule};
use super::{DigestAlgorithm, ErsError, RootStamper};

/// A record larger than this is refused before parsing (a real one is a few KB per timestamp).
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// `ArchiveTimeStampChain`: timestamps of one hash algorithm, each covering the one before.
pub type ArchiveTimeStampChain = Vec<ArchiveTimeStamp>;

/// One RFC 4998 `ArchiveTimeStamp`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveTimeStamp {
    /// Absent in some foreign records: then the token's imprint algorithm applies.
    pub digest_algorithm: Option<DigestAlgorithm>,
    /// Kept verbatim; hozon writes none.
    pub attributes: Option<SetOf<Attribute>>,
    /// Lists of hashes, first list first (§4.2). None: the imprint is the object's hash.
    pub reduced_hash_tree: Option<Vec<Vec<Vec<u8>>>>,
    /// The TimeStampToken (ContentInfo) bytes as the TSA sent them; shared by a whole batch.
    pub time_stamp: Arc<[u8]>,
}

impl ArchiveTimeStamp {
    pub fn token(&self) -> Result<TokenInfo, ErsError> {
        read_token(&self.time_stamp)
    }

    /// The hash algorithm of this timestamp's tree.
    pub fn algorithm(&self) -> Result<DigestAlgorithm, ErsError> {
        match self.digest_algorithm {
            Some(a) => Ok(a),
            None => Ok(self.token()?.algorithm),
        }
    }
}

/// One RFC 4998 `EvidenceRecord` (v1).
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceRecord {
    /// Every algorithm used by the chains, oldest first.
    pub digest_algorithms: Vec<DigestAlgorithm>,
    /// Kept verbatim from foreign records; hozon writes none.
    pub crypto_infos: Option<Vec<Attribute>>,
    /// Encrypted content is not supported: kept only so reading never loses it; verify refuses it.
    pub encryption_info: Option<EncryptionInfo>,
    /// `ArchiveTimeStampSequence`, oldest chain first.
    pub chains: Vec<ArchiveTimeStampChain>,
}

fn malformed(m: impl Into<String>) -> ErsError {
    ErsError::Malformed(m.into())
}

impl EvidenceRecord {
    /// Read a DER `EvidenceRecord`. Non-DER encodings are refused: renewal hashes the chains'
    /// DER, so a record must re-encode to exactly the bytes it was read from.
    pub fn from_der(der: &[u8]) -> Result<Self, ErsError> {
        if der.len() > MAX_RECORD_BYTES {
            return Err(malformed(format!(
                "{} bytes is more than an evidence record may have",
                der.len()
            )));
        }
        let asn: EvidenceRecordAsn =
            rasn::der::decode(der).map_err(|e| malformed(format!("not an EvidenceRecord: {e}")))?;
        let again = rasn::der::encode(&asn).map_err(|e| malformed(e.to_string()))?;
        if again != der {
            return Err(malformed("not DER encoded (or trailing bytes)"));
        }
        if asn.version != 1.into() {
            return Err(malformed(format!("version {} (only v1 exists)", asn.version)));
        }
        let digest_algorithms = asn
            .digest_algorithms
            .iter()
            .map(|a| DigestAlgorithm::from_oid(&a.algorithm))
            .collect::<Result<Vec<_>, _>>()?;
        let mut chains = Vec::with_capacity(asn.archive_time_stamp_sequence.len());
        for chain in asn.archive_time_stamp_sequence {
            if chain.is_empty() {
                return Err(malformed("an empty ArchiveTimeStampChain"));
            }
            chains.push(chain.into_iter().map(from_asn).collect::<Result<Vec<_>, _>>()?);
        }
        if chains.is_empty() {
            return Err(malformed("an empty ArchiveTimeStampSequence"));
        }
        Ok(EvidenceRecord {
            digest_algorithms,
            crypto_infos: asn.crypto_infos,
            encryption_info: asn.encryption_info,
            chains,
        })
    }

    /// DER encoding (what `<document-id>.ers` holds).
    pub fn to_der(&self) -> Result<Vec<u8>, ErsError> {
        let asn = EvidenceRecordAsn {
            version: 1.into(),
            digest_algorithms: self.digest_algorithms.iter().map(|a| a.identifier()).collect(),
            crypto_infos: self.crypto_infos.clone(),
            encryption_info: self.encryption_info.clone(),
            archive_time_stamp_sequence: chains_to_asn(&self.chains),
        };
        rasn::der::encode(&asn).map_err(|e| malformed(e.to_string()))
    }

    /// Timestamps in order, oldest first.
    pub fn timestamps(&self) -> impl Iterator<Item = &ArchiveTimeStamp> {
        self.chains.iter().flatten()
    }
}

fn from_asn(a: ArchiveTimeStampAsn) -> Result<ArchiveTimeStamp, ErsError> {
    Ok(ArchiveTimeStamp {
        digest_algorithm: a
            .digest_algorithm
            .map(|d| DigestAlgorithm::from_oid(&d.algorithm))
            .transpose()?,
        attributes: a.attributes,
        reduced_hash_tree: a.reduced_hashtree.map(|t| {
            t.into_iter()
                .map(|l| l.into_iter().map(|h| h.to_vec()).collect())
                .collect()
        }),
        time_stamp: a.time_stamp.into_bytes().into(),
    })
}

fn to_asn(a: &ArchiveTimeStamp) -> ArchiveTimeStampAsn {
    ArchiveTimeStampAsn {
        digest_algorithm: a.digest_algorithm.map(DigestAlgorithm::identifier),
        attributes: a.attributes.clone(),
        reduced_hashtree: a.reduced_hash_tree.as_ref().map(|t| {
            t.iter()
                .map(|l| l.iter().map(|h| OctetString::from(h.clone())).collect())
                .collect()
        }),
        time_stamp: Any::new(a.time_stamp.to_vec()),
    }
}

fn chains_to_asn(chains: &[ArchiveTimeStampChain]) -> Vec<Vec<ArchiveTimeStampAsn>> {
    chains.iter().map(|c| c.iter().map(to_asn).collect()).collect()
}

/// DER of `ArchiveTimeStampSequence` over `chains` (outer SEQUENCE included): the `atsc` that
/// hash-tree renewal covers (§5.2 step 7, as BouncyCastle computes it).
pub fn sequence_der(chains: &[ArchiveTimeStampChain]) -> Result<Vec<u8>, ErsError> {
    rasn::der::encode(&chains_to_asn(chains)).map_err(|e| malformed(e.to_string()))
}

/// One timestamp over many data groups: tree over the groups' values, one stamper call, then one
/// ArchiveTimeStamp per group (same order). A group is the content of its first list.
fn stamp_groups(
    alg: DigestAlgorithm,
    groups: &[Vec<Vec<u8>>],
    stamper: &dyn RootStamper,
) -> Result<Vec<ArchiveTimeStamp>, ErsError> {
    if groups.iter().any(|g| g.is_empty()) {
        return Err(ErsError::InvalidInput("an empty data group".into()));
    }
    let values: Vec<Vec<u8>> = groups
        .iter()
        .map(|g| list_value(alg, g, ListRule::SingleIsValue))
        .collect();
    if let Some(bad) = groups.iter().flatten().find(|h| h.len() != alg.len()) {
        return Err(ErsError::InvalidInput(format!(
            "a {} digest has {} bytes",
            alg.name(),
            bad.len()
        )));
    }
    let tree = HashTree::build(alg, &values)?;
    let token = stamper.stamp(alg, tree.root())?;
    let info = read_token(&token)?;
    if info.algorithm != alg || info.imprint != tree.root() {
        return Err(ErsError::Stamper(
            "the TSA's token covers another digest than the tree root".into(),
        ));
    }
    let token: Arc<[u8]> = token.into();
    groups
        .iter()
        .zip(&values)
        .map(|(group, value)| {
            let pos = tree
                .position(value)
                .ok_or_else(|| ErsError::InvalidInput("a leaf is missing from its own tree".into()))?;
            let siblings = tree.siblings(pos);
            let reduced = if siblings.is_empty() && group.len() == 1 {
                None
            } else {
                let mut first = group.clone();
                first.sort_unstable();
                let mut lists = vec![first];
                lists.extend(siblings.into_iter().map(|s| vec![s]));
                Some(lists)
            };
            Ok(ArchiveTimeStamp {
                digest_algorithm: Some(alg),
                attributes: None,
                reduced_hash_tree: reduced,
                time_stamp: Arc::clone(&token),
            })
        })
        .collect()
}

/// §4 creation: one record per document digest (same order), all under ONE timestamp of the
/// tree root. Equal digests share a leaf and get equal records.
pub fn build_records(
    leaf_digests: &[Vec<u8>],
    alg: DigestAlgorithm,
    stamper: &dyn RootStamper,
) -> Result<Vec<EvidenceRecord>, ErsError> {
    let groups: Vec<Vec<Vec<u8>>> = leaf_digests.iter().map(|d| vec![d.clone()]).collect();
    let stamps = stamp_groups(alg, &groups, stamper)?;
    Ok(stamps
        .into_iter()
        .map(|ats| EvidenceRecord {
            digest_algorithms: vec![alg],
            crypto_infos: None,
            encryption_info: None,
            chains: vec![vec![ats]],
        })
        .collect())
}

/// §5.2 timestamp renewal: appends to each record's last chain a timestamp covering the earlier
/// timestamps of that chain, without the documents. One stamper call per hash algorithm among
/// the records' last chains (one, normally), via a tree over the records.
pub fn renew_timestamps(
    records: &[EvidenceRecord],
    stamper: &dyn RootStamper,
) -> Result<Vec<EvidenceRecord>, ErsError> {
    let mut by_alg: BTreeMap<DigestAlgorithm, Vec<usize>> = BTreeMap::new();
    let mut groups = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let chain = r.chains.last().ok_or_else(|| malformed("no chain to renew"))?;
        let alg = chain.first().ok_or_else(|| malformed("an empty chain"))?.algorithm()?;
        groups.push(chain.iter().map(|a| alg.digest(&a.time_stamp)).collect::<Vec<_>>());
        by_alg.entry(alg).or_default().push(i);
    }
    let mut out = records.to_vec();
    for (alg, idx) in by_alg {
        let batch: Vec<Vec<Vec<u8>>> = idx.iter().filter_map(|&i| groups.get(i).cloned()).collect();
        let stamps = stamp_groups(alg, &batch, stamper)?;
        for (i, ats) in idx.into_iter().zip(stamps) {
            if let Some(chain) = out.get_mut(i).and_then(|r| r.chains.last_mut()) {
                chain.push(ats);
            }
        }
    }
    Ok(out)
}

/// §5.2 hash-tree renewal: for each (record, H_new(document)) a new chain whose first timestamp
/// covers h = H_new(H_new(document) ‖ H_new(DER ArchiveTimeStampSequence)), data hash first as
/// §5.2 step 9 writes it. One stamper call for all.
pub fn renew_hash_tree(
    records_with_data: &[(EvidenceRecord, Vec<u8>)],
    new_alg: DigestAlgorithm,
    stamper: &dyn RootStamper,
) -> Result<Vec<EvidenceRecord>, ErsError> {
    let mut groups = Vec::with_capacity(records_with_data.len());
    for (r, hd) in records_with_data {
        if hd.len() != new_alg.len() {
            return Err(ErsError::InvalidInput(format!(
                "document digest has {} bytes, {} needs {}",
                hd.len(),
                new_alg.name(),
                new_alg.len()
            )));
        }
        let ha = new_alg.digest(&sequence_der(&r.chains)?);
        groups.push(vec![new_alg.digest_parts(&[hd, &ha])]);
    }
    let stamps = stamp_groups(new_alg, &groups, stamper)?;
    Ok(records_with_data
        .iter()
        .zip(stamps)
        .map(|((r, _), ats)| {
            let mut r = r.clone();
            if !r.digest_algorithms.contains(&new_alg) {
                r.digest_algorithms.push(new_alg);
            }
            r.chains.push(vec![ats]);
            r
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ers::test_tsa::FakeStamper;
    use crate::ers::tree::recover_root;
    use std::sync::atomic::Ordering;

    const A: DigestAlgorithm = DigestAlgorithm::Sha256;

    fn docs(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("患者記録 {i}").into_bytes()).collect()
    }

    #[test]
    fn one_stamp_for_a_batch_and_each_record_reaches_the_root() {
        let d = docs(7);
        let digests: Vec<_> = d.iter().map(|x| A.digest(x)).collect();
        let st = FakeStamper::at("20260401000000Z");
        let recs = build_records(&digests, A, &st).unwrap();
        assert_eq!(st.calls.load(Ordering::SeqCst), 1);
        assert_eq!(recs.len(), 7);
        let root = recs[0].chains[0][0].token().unwrap().imprint;
        for (r, h) in recs.iter().zip(&digests) {
            let tree = r.chains[0][0].reduced_hash_tree.as_ref().unwrap();
            assert_eq!(tree[0], vec![h.clone()], "first list: the document's hash alone");
            assert!(tree[1..].iter().all(|l| l.len() == 1));
            assert_eq!(recover_root(A, tree, ListRule::SingleIsValue).unwrap(), root);
            assert!(Arc::ptr_eq(
                &r.chains[0][0].time_stamp,
                &recs[0].chains[0][0].time_stamp
            ));
        }
    }

    #[test]
    fn single_document_has_no_tree_and_der_round_trips() {
        let h = A.digest(b"only one");
        let recs = build_records(&[h.clone()], A, &FakeStamper::at("20260401000000Z")).unwrap();
        let ats = &recs[0].chains[0][0];
        assert!(ats.reduced_hash_tree.is_none());
        assert_eq!(ats.token().unwrap().imprint, h);
        let der = recs[0].to_der().unwrap();
        assert_eq!(EvidenceRecord::from_der(&der).unwrap(), recs[0]);
    }

    #[test]
    fn stamper_answering_for_another_digest_is_refused() {
        struct Liar;
        impl RootStamper for Liar {
            fn stamp(&self, alg: DigestAlgorithm, _d: &[u8]) -> Result<Vec<u8>, ErsError> {
                Ok(crate::ers::test_tsa::fake_token(
                    alg,
                    &alg.digest(b"else"),
                    "20260401000000Z",
                ))
            }
        }
        let e = build_records(&[A.digest(b"a")], A, &Liar).unwrap_err();
        assert_eq!(e.code(), "ers-stamper-failed");
        let e = build_records(&[vec![1, 2, 3]], A, &Liar).unwrap_err();
        assert_eq!(e.code(), "ers-invalid-input");
    }

    #[test]
    fn from_der_refuses_hostile_input() {
        let recs = build_records(
            &[A.digest(b"a"), A.digest(b"b")],
            A,
            &FakeStamper::at("20260401000000Z"),
        )
        .unwrap();
        let der = recs[0].to_der().unwrap();
        for cut in [0, 1, 10, der.len() / 2, der.len() - 1] {
            assert_eq!(
                EvidenceRecord::from_der(&der[..cut]).unwrap_err().code(),
                "ers-malformed"
            );
        }
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(EvidenceRecord::from_der(&trailing).unwrap_err().code(), "ers-malformed");
        // a length claiming 4 GB
        assert_eq!(
            EvidenceRecord::from_der(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 2, 1, 1])
                .unwrap_err()
                .code(),
            "ers-malformed"
        );
        let mut v2 = der.clone();
        let at = v2.windows(3).position(|w| w == [2, 1, 1]).unwrap();
        v2[at + 2] = 2;
        assert_eq!(EvidenceRecord::from_der(&v2).unwrap_err().code(), "ers-malformed");
    }

    #[test]
    fn timestamp_renewal_covers_every_earlier_stamp_of_the_chain() {
        let digests: Vec<_> = docs(3).iter().map(|x| A.digest(x)).collect();
        let st = FakeStamper::at("20260401000000Z");
        let recs = build_records(&digests, A, &st).unwrap();
        let once = renew_timestamps(&recs, &st).unwrap();
        let twice = renew_timestamps(&once, &st).unwrap();
        assert_eq!(st.calls.load(Ordering::SeqCst), 3, "one call per batch and cycle");
        for r in &twice {
            assert_eq!(r.chains.len(), 1);
            let c = &r.chains[0];
            assert_eq!(c.len(), 3);
            let first = &c[2].reduced_hash_tree.as_ref().unwrap()[0];
            assert!(first.contains(&A.digest(&c[0].time_stamp)));
            assert!(first.contains(&A.digest(&c[1].time_stamp)));
            let root = recover_root(A, c[2].reduced_hash_tree.as_ref().unwrap(), ListRule::SingleIsValue).unwrap();
            assert_eq!(root, c[2].token().unwrap().imprint);
        }
    }

    #[test]
    fn hash_tree_renewal_starts_a_new_chain_over_document_and_sequence() {
        let d = docs(2);
        let recs = build_records(
            &d.iter().map(|x| A.digest(x)).collect::<Vec<_>>(),
            A,
            &FakeStamper::at("20260401000000Z"),
        )
        .unwrap();
        let b = DigestAlgorithm::Sha512;
        let items: Vec<_> = recs.iter().cloned().zip(d.iter().map(|x| b.digest(x))).collect();
        let st = FakeStamper::at("20270401000000Z");
        let renewed = renew_hash_tree(&items, b, &st).unwrap();
        assert_eq!(st.calls.load(Ordering::SeqCst), 1);
        for ((r, old), doc) in renewed.iter().zip(&recs).zip(&d) {
            assert_eq!(r.digest_algorithms, vec![A, b]);
            assert_eq!(r.chains.len(), 2);
            assert_eq!(&r.chains[0], &old.chains[0], "earlier chain untouched");
            let expect = b.digest_parts(&[&b.digest(doc), &b.digest(&sequence_der(&old.chains).unwrap())]);
            assert_eq!(r.chains[1][0].reduced_hash_tree.as_ref().unwrap()[0], vec![expect]);
        }
        assert_eq!(
            renew_hash_tree(&[(recs[0].clone(), vec![0; 32])], b, &st)
                .unwrap_err()
                .code(),
            "ers-invalid-input"
        );
    }

    #[test]
    fn hundred_thousand_records_in_seconds() {
        let n = 100_000;
        let digests: Vec<_> = (0..n).map(|i| A.digest(&(i as u64).to_le_bytes())).collect();
        let st = FakeStamper::at("20260401000000Z");
        let t = std::time::Instant::now();
        let recs = build_records(&digests, A, &st).unwrap();
        let took = t.elapsed();
        eprintln!("100k evidence records built in {took:?}");
        assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
        assert_eq!(st.calls.load(Ordering::SeqCst), 1);
        let root = recs[0].chains[0][0].token().unwrap().imprint;
        for i in (0..n).step_by(4999) {
            let tree = recs[i].chains[0][0].reduced_hash_tree.as_ref().unwrap();
            assert_eq!(tree[0], vec![digests[i].clone()]);
            assert!(tree.len() <= 18, "~log2 N lists");
            assert_eq!(recover_root(A, tree, ListRule::SingleIsValue).unwrap(), root);
            let der = recs[i].to_der().unwrap();
            assert_eq!(EvidenceRecord::from_der(&der).unwrap(), recs[i]);
        }
    }
}
