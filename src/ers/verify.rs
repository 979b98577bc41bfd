//! RFC 4998 §5.3 verification of a document against its evidence record: the first timestamp
//! covers the document, each later one in a chain covers its predecessor, each new chain covers
//! the document and all earlier chains, and each token was valid when the next one was made
//! (the newest: at the verification time). The report says how long the evidence holds.

use time::OffsetDateTime;

use super::record::{sequence_der, ArchiveTimeStamp, EvidenceRecord};
use super::token::TokenInfo;
use super::tree::{recover_root, ListRule};
use super::{DigestAlgorithm, ErsError, TokenCheck};

/// One verified chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub algorithm: DigestAlgorithm,
    /// genTime of each timestamp, oldest first.
    pub gen_times: Vec<OffsetDateTime>,
}

/// The result of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErsReport {
    pub chains: Vec<ChainReport>,
    /// The document existed in this form at this time (the first genTime).
    pub existed_at: OffsetDateTime,
    /// The evidence holds until the newest TSA certificate expires (renew before); None when
    /// the newest token does not carry its TSA certificate.
    pub valid_until: Option<OffsetDateTime>,
}

fn malformed(m: String) -> ErsError {
    ErsError::Malformed(m)
}

/// Does `ats` (tree algorithm `alg`, token `info`) cover one of the `candidates`?
fn covers(
    alg: DigestAlgorithm,
    ats: &ArchiveTimeStamp,
    info: &TokenInfo,
    candidates: &[Vec<u8>],
) -> Result<bool, ErsError> {
    let Some(lists) = &ats.reduced_hash_tree else {
        return Ok(candidates.contains(&info.imprint));
    };
    if lists.is_empty() || lists.iter().any(|l| l.is_empty()) {
        return Err(malformed("an empty reducedHashtree or PartialHashtree".into()));
    }
    if lists.iter().flatten().any(|h| h.len() != alg.len()) {
        return Err(malformed(format!(
            "a hash in the reducedHashtree is not {} bytes long",
            alg.len()
        )));
    }
    let first = &lists[0];
    if !candidates.iter().any(|c| first.contains(c)) {
        return Ok(false);
    }
    Ok([ListRule::SingleIsValue, ListRule::HashEvery]
        .into_iter()
        .any(|rule| recover_root(alg, lists, rule).as_deref() == Some(info.imprint.as_slice())))
}

/// Verify `record` for `document` at time `at`.
pub fn verify(
    record: &EvidenceRecord,
    document: &[u8],
    check: &dyn TokenCheck,
    at: OffsetDateTime,
) -> Result<ErsReport, ErsError> {
    if record.encryption_info.is_some() {
        return Err(malformed(
            "encryptionInfo present: encrypted documents are not supported".into(),
        ));
    }
    if record.chains.is_empty() {
        return Err(malformed("no archive timestamp".into()));
    }
    let mut reports = Vec::with_capacity(record.chains.len());
    let mut flat: Vec<(&ArchiveTimeStamp, TokenInfo)> = Vec::new();
    for (c, chain) in record.chains.iter().enumerate() {
        let first = chain.first().ok_or_else(|| malformed(format!("chain {c} is empty")))?;
        let alg = first.algorithm()?;
        if !record.digest_algorithms.contains(&alg) {
            return Err(malformed(format!(
                "digestAlgorithms does not list {} of chain {c}",
                alg.name()
            )));
        }
        let hd = alg.digest(document);
        let mut gen_times = Vec::with_capacity(chain.len());
        for (j, ats) in chain.iter().enumerate() {
            let info = ats.token()?;
            if ats.algorithm()? != alg || info.algorithm != alg {
                return Err(ErsError::ChainBroken(format!(
                    "chain {c} timestamp {j} uses {} / imprint {}, the chain {}",
                    ats.algorithm()?.name(),
                    info.algorithm.name(),
                    alg.name()
                )));
            }
            let ok = match (c, j) {
                (0, 0) => covers(alg, ats, &info, &[hd.clone()])?,
                (_, 0) => {
                    // §5.2 steps 7-9: h = H(H(d) ‖ H(atsc)); atsc read as the DER SEQUENCE OF the
                    // earlier chains (BouncyCastle, hozon) or their bare concatenation.
                    let earlier = record.chains.get(..c).unwrap_or_default();
                    let seq = sequence_der(earlier)?;
                    let body: Vec<u8> = earlier
                        .iter()
                        .map(|ch| sequence_der(std::slice::from_ref(ch)))
                        .collect::<Result<Vec<_>, _>>()?
                        .iter()
                        .flat_map(|one| one.get(header_len(one)..).unwrap_or_default().to_vec())
                        .collect();
                    let cands: Vec<Vec<u8>> = [seq, body]
                        .iter()
                        .map(|atsc| alg.digest_parts(&[&hd, &alg.digest(atsc)]))
                        .collect();
                    covers(alg, ats, &info, &cands)?
                }
                _ => {
                    let prev = chain.get(j - 1).map(|p| alg.digest(&p.time_stamp)).unwrap_or_default();
                    covers(alg, ats, &info, &[prev])?
                }
            };
            if !ok {
                return Err(match (c, j) {
                    (0, 0) => ErsError::DigestMismatch(format!(
                        "the document's {} hash is not what the first timestamp covers",
                        alg.name()
                    )),
                    (_, 0) => {
                        ErsError::ChainBroken(format!("chain {c} does not cover the document and the earlier chains"))
                    }
                    _ => ErsError::ChainBroken(format!("chain {c} timestamp {j} does not cover timestamp {}", j - 1)),
                });
            }
            gen_times.push(info.gen_time);
            flat.push((ats, info));
        }
        reports.push(ChainReport {
            algorithm: alg,
            gen_times,
        });
    }

    // Time order, then each token judged when its successor was made (the newest: at `at`).
    for (k, pair) in flat.windows(2).enumerate() {
        if let [(_, a), (_, b)] = pair {
            if b.gen_time < a.gen_time {
                return Err(ErsError::ChainBroken(format!(
                    "timestamp {} is older than timestamp {k}",
                    k + 1
                )));
            }
        }
    }
    for (k, (ats, info)) in flat.iter().enumerate() {
        let when = flat.get(k + 1).map_or(at, |(_, next)| next.gen_time);
        if info.gen_time > when {
            return Err(ErsError::TimestampInvalid {
                index: k,
                reason: "genTime lies in the future".into(),
            });
        }
        let gen = check
            .check(&ats.time_stamp, when)
            .map_err(|e| ErsError::TimestampInvalid {
                index: k,
                reason: e.to_string(),
            })?;
        if gen != info.gen_time {
            return Err(ErsError::TimestampInvalid {
                index: k,
                reason: "checker and token disagree on genTime".into(),
            });
        }
    }
    let existed_at = flat
        .first()
        .map(|(_, i)| i.gen_time)
        .ok_or_else(|| malformed("no archive timestamp".into()))?;
    let valid_until = flat.last().and_then(|(_, i)| i.tsa_not_after);
    Ok(ErsReport {
        chains: reports,
        existed_at,
        valid_until,
    })
}

/// Length of a DER TLV header (tag + length octets); 0 if it cannot be read.
fn header_len(der: &[u8]) -> usize {
    match der.get(1) {
        Some(&l) if l < 0x80 => 2,
        Some(&l) => 2 + usize::from(l & 0x7f),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ers::record::{build_records, renew_hash_tree, renew_timestamps};
    use crate::ers::test_tsa::{FakeStamper, OpensslCheck, TestTsa, TrustAnyToken};

    const A: DigestAlgorithm = DigestAlgorithm::Sha256;

    fn docs(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("診療録 {i} — scan").into_bytes()).collect()
    }

    /// Verification time for the fake-token tests (their genTimes run to 2029).
    fn now() -> OffsetDateTime {
        time::macros::datetime!(2031-01-01 0:00 UTC)
    }

    fn batch(d: &[Vec<u8>], st: &FakeStamper) -> Vec<EvidenceRecord> {
        build_records(&d.iter().map(|x| A.digest(x)).collect::<Vec<_>>(), A, st).unwrap()
    }

    #[test]
    fn each_document_verifies_with_its_own_record_only() {
        let d = docs(5);
        let recs = batch(&d, &FakeStamper::at("20260401000000Z"));
        for (i, r) in recs.iter().enumerate() {
            let rep = verify(r, &d[i], &TrustAnyToken, now()).unwrap();
            assert_eq!(rep.chains.len(), 1);
            assert_eq!(rep.existed_at.unix_timestamp(), 1_775_001_600);
            let other = &d[(i + 1) % d.len()];
            assert_eq!(
                verify(r, other, &TrustAnyToken, now()).unwrap_err().code(),
                "ers-digest-mismatch"
            );
        }
        let mut tampered = d[2].clone();
        tampered[0] ^= 0x20;
        assert_eq!(
            verify(&recs[2], &tampered, &TrustAnyToken, now()).unwrap_err().code(),
            "ers-digest-mismatch"
        );
    }

    #[test]
    fn changed_sibling_in_the_path_is_detected() {
        let d = docs(4);
        let mut r = batch(&d, &FakeStamper::at("20260401000000Z")).remove(0);
        if let Some(t) = r.chains[0][0].reduced_hash_tree.as_mut() {
            t[1][0][3] ^= 1;
        }
        assert_eq!(
            verify(&r, &d[0], &TrustAnyToken, now()).unwrap_err().code(),
            "ers-digest-mismatch"
        );
    }

    #[test]
    fn renewals_verify_and_a_broken_chain_is_caught() {
        let d = docs(3);
        let recs = batch(&d, &FakeStamper::at("20260401000000Z"));
        let recs = renew_timestamps(&recs, &FakeStamper::at("20270401000000Z")).unwrap();
        let b = DigestAlgorithm::Sha512;
        let items: Vec<_> = recs.iter().cloned().zip(d.iter().map(|x| b.digest(x))).collect();
        let recs = renew_hash_tree(&items, b, &FakeStamper::at("20280401000000Z")).unwrap();
        let recs = renew_timestamps(&recs, &FakeStamper::at("20290401000000Z")).unwrap();
        let rep = verify(&recs[1], &d[1], &TrustAnyToken, now()).unwrap();
        assert_eq!(
            rep.chains
                .iter()
                .map(|c| (c.algorithm, c.gen_times.len()))
                .collect::<Vec<_>>(),
            vec![(A, 2), (b, 2)]
        );

        // a renewal timestamp taken from another batch's record does not cover this first one
        let stranger = batch(&docs(4), &FakeStamper::at("20260401000000Z"));
        let stranger = renew_timestamps(&stranger, &FakeStamper::at("20270401000000Z")).unwrap();
        let mut swapped = recs[1].clone();
        swapped.chains[0][1] = stranger[0].chains[0][1].clone();
        assert_eq!(
            verify(&swapped, &d[1], &TrustAnyToken, now()).unwrap_err().code(),
            "ers-chain-broken"
        );
        // the renewal timestamp removed: the later chain's hash over the sequence breaks
        let mut cut = recs[1].clone();
        cut.chains[0].pop();
        assert_eq!(
            verify(&cut, &d[1], &TrustAnyToken, now()).unwrap_err().code(),
            "ers-chain-broken"
        );
        // out of time order
        let late = renew_timestamps(
            &batch(&d, &FakeStamper::at("20300101000000Z")),
            &FakeStamper::at("20260101000000Z"),
        )
        .unwrap();
        assert_eq!(
            verify(&late[0], &d[0], &TrustAnyToken, now()).unwrap_err().code(),
            "ers-chain-broken"
        );
        // the future
        let future = batch(&d, &FakeStamper::at("20990101000000Z"));
        assert_eq!(
            verify(&future[0], &d[0], &TrustAnyToken, now()).unwrap_err().code(),
            "ers-timestamp-invalid"
        );
    }

    #[test]
    fn real_tokens_trusted_and_untrusted() {
        let (Some(tsa), Some(other)) = (TestTsa::shared(), TestTsa::other()) else {
            return;
        };
        let d = docs(3);
        let recs = build_records(&d.iter().map(|x| A.digest(x)).collect::<Vec<_>>(), A, tsa).unwrap();
        let recs = renew_timestamps(&recs, tsa).unwrap();
        let good = OpensslCheck::trusting(tsa);
        let rep = verify(&recs[2], &d[2], &good, OffsetDateTime::now_utc()).unwrap();
        assert_eq!(rep.chains[0].gen_times.len(), 2);
        let until = rep.valid_until.unwrap();
        assert!(
            until > OffsetDateTime::now_utc() + time::Duration::days(390)
                && until < OffsetDateTime::now_utc() + time::Duration::days(410)
        );
        let e = verify(
            &recs[2],
            &d[2],
            &OpensslCheck::trusting(other),
            OffsetDateTime::now_utc(),
        )
        .unwrap_err();
        assert_eq!(e.code(), "ers-timestamp-invalid", "{e}");
        // after the TSA certificate expired, the newest token no longer holds
        let e = verify(
            &recs[2],
            &d[2],
            &good,
            OffsetDateTime::now_utc() + time::Duration::days(500),
        )
        .unwrap_err();
        assert_eq!(e.code(), "ers-timestamp-invalid", "{e}");
    }
}
