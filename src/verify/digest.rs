//! Hashing the bytes each signature covers, each byte of the shared prefix once. Signatures of
//! later revisions cover the earlier ones' bytes, so one running hash per algorithm walks the
//! file; at each signature's gap it is cloned and the clone finishes with the bytes after the gap.

use openssl::hash::Hasher;

use crate::sign::DigestAlg;

/// One request: the algorithm and a validated `[0, a, b, c]` /ByteRange.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub alg: DigestAlg,
    pub byte_range: [usize; 4],
}

/// The digest of each span's covered bytes, in the order given (None: out of the file's bounds
/// or an OpenSSL failure).
pub fn covered_digests(pdf: &[u8], spans: &[Span]) -> Vec<Option<Vec<u8>>> {
    let mut out: Vec<Option<Vec<u8>>> = vec![None; spans.len()];
    let mut algs: Vec<DigestAlg> = spans.iter().map(|s| s.alg).collect();
    algs.sort_by_key(|a| a.len());
    algs.dedup();
    for alg in algs {
        let mut order: Vec<usize> = (0..spans.len())
            .filter(|&i| spans.get(i).is_some_and(|s| s.alg == alg))
            .collect();
        order.sort_by_key(|&i| spans.get(i).map(|s| s.byte_range[1]).unwrap_or(0));
        let Ok(mut running) = Hasher::new(alg.message_digest()) else {
            continue;
        };
        let mut pos = 0usize;
        for i in order {
            let Some(span) = spans.get(i) else { continue };
            out[i] = one(pdf, &mut running, &mut pos, span.byte_range);
        }
    }
    out
}

/// Advance `running` (which has hashed `pdf[..*pos]`) to the gap, then finish a clone.
fn one(pdf: &[u8], running: &mut Hasher, pos: &mut usize, [_, a, b, c]: [usize; 4]) -> Option<Vec<u8>> {
    let tail = pdf.get(b..b.checked_add(c)?)?;
    // Spans come sorted by gap start, so `a >= *pos` and the prefix is only ever extended.
    running.update(pdf.get(*pos..a)?).ok()?;
    *pos = a;
    let mut mine = running.clone();
    mine.update(tail).ok()?;
    mine.finish().ok().map(|d| d.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(pdf: &[u8], alg: DigestAlg, [_, a, b, c]: [usize; 4]) -> Vec<u8> {
        let mut v = pdf[..a].to_vec();
        v.extend_from_slice(&pdf[b..b + c]);
        alg.digest(&v).unwrap()
    }

    #[test]
    fn shared_prefix_gives_the_same_digests_as_hashing_each_range() {
        let pdf: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let spans = [
            Span {
                alg: DigestAlg::Sha256,
                byte_range: [0, 6000, 6100, 2000],
            },
            Span {
                alg: DigestAlg::Sha256,
                byte_range: [0, 1000, 1200, 3000],
            },
            Span {
                alg: DigestAlg::Sha384,
                byte_range: [0, 1000, 1200, 3000],
            },
            Span {
                alg: DigestAlg::Sha256,
                byte_range: [0, 9000, 9100, 900],
            },
            Span {
                alg: DigestAlg::Sha512,
                byte_range: [0, 500, 600, 50],
            },
        ];
        let got = covered_digests(&pdf, &spans);
        for (s, d) in spans.iter().zip(&got) {
            assert_eq!(
                d.as_deref(),
                Some(direct(&pdf, s.alg, s.byte_range).as_slice()),
                "{s:?}"
            );
        }
    }

    #[test]
    fn gaps_inside_earlier_tails_and_out_of_bounds_ranges() {
        let pdf = vec![1u8; 100];
        let spans = [
            Span {
                alg: DigestAlg::Sha256,
                byte_range: [0, 50, 60, 10],
            },
            Span {
                alg: DigestAlg::Sha256,
                byte_range: [0, 55, 70, 10],
            },
            Span {
                alg: DigestAlg::Sha256,
                byte_range: [0, 80, 90, 11],
            },
        ];
        let got = covered_digests(&pdf, &spans);
        assert_eq!(
            got[0].as_deref(),
            Some(direct(&pdf, DigestAlg::Sha256, [0, 50, 60, 10]).as_slice())
        );
        assert_eq!(
            got[1].as_deref(),
            Some(direct(&pdf, DigestAlg::Sha256, [0, 55, 70, 10]).as_slice())
        );
        assert_eq!(got[2], None);
    }
}
