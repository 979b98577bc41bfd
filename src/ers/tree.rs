//! RFC 4998 §4.2 hash tree over N digests, the reduced hash tree (path) of each leaf, and the
//! §4.3 root recovery used by verification.
//!
//! Shape (the one BouncyCastle builds and verifies): leaves sorted in binary ascending order and
//! deduplicated; each level pairs neighbours as H(min ‖ max) (binary ascending concatenation);
//! an odd node at the end of a level moves up unchanged. A leaf's reduced hash tree is then its
//! first list followed by one single-sibling list per level where it had a sibling — about
//! log2 N hashes.

use super::{DigestAlgorithm, ErsError};

/// A built hash tree. Levels are stored flat (`count × len` bytes) to stay compact at 100k leaves.
#[derive(Debug, Clone)]
pub struct HashTree {
    alg: DigestAlgorithm,
    /// levels[0]: sorted unique leaves; last: the root alone.
    levels: Vec<Vec<u8>>,
}

impl HashTree {
    /// Build the tree over `leaves` (each one `alg.len()` bytes). Duplicates share one leaf.
    pub fn build(alg: DigestAlgorithm, leaves: &[Vec<u8>]) -> Result<Self, ErsError> {
        let len = alg.len();
        if leaves.is_empty() {
            return Err(ErsError::InvalidInput("no digests to build a hash tree over".into()));
        }
        if let Some(bad) = leaves.iter().find(|l| l.len() != len) {
            return Err(ErsError::InvalidInput(format!(
                "a {} digest has {} bytes, not {}",
                alg.name(),
                bad.len(),
                len
            )));
        }
        let mut sorted: Vec<&[u8]> = leaves.iter().map(Vec::as_slice).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut levels = vec![sorted.concat()];
        while let Some(last) = levels.last() {
            let n = last.len() / len;
            if n <= 1 {
                break;
            }
            let mut next = Vec::with_capacity(n.div_ceil(2) * len);
            for pair in last.chunks(2 * len) {
                if pair.len() == 2 * len {
                    let (a, b) = pair.split_at(len);
                    next.extend_from_slice(&branch(alg, a, b));
                } else {
                    next.extend_from_slice(pair); // odd node: promoted as is
                }
            }
            levels.push(next);
        }
        Ok(HashTree { alg, levels })
    }

    pub fn algorithm(&self) -> DigestAlgorithm {
        self.alg
    }

    pub fn root(&self) -> &[u8] {
        self.levels.last().map(Vec::as_slice).unwrap_or_default()
    }

    /// Number of distinct leaves.
    pub fn leaf_count(&self) -> usize {
        self.levels.first().map_or(0, |l| l.len() / self.alg.len())
    }

    /// Index of `leaf` among the sorted distinct leaves.
    pub fn position(&self, leaf: &[u8]) -> Option<usize> {
        let len = self.alg.len();
        let level = self.levels.first()?;
        let (mut lo, mut hi) = (0usize, level.len() / len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match level.get(mid * len..(mid + 1) * len)?.cmp(leaf) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Siblings of leaf `index` from the bottom up, one per level where it has one.
    pub fn siblings(&self, mut index: usize) -> Vec<Vec<u8>> {
        let len = self.alg.len();
        let mut out = Vec::new();
        for level in &self.levels {
            let n = level.len() / len;
            if n <= 1 {
                break;
            }
            let sib = index ^ 1;
            if sib < n {
                if let Some(h) = level.get(sib * len..(sib + 1) * len) {
                    out.push(h.to_vec());
                }
            }
            index /= 2;
        }
        out
    }
}

/// H(min ‖ max): two hashes concatenated in binary ascending order.
fn branch(alg: DigestAlgorithm, a: &[u8], b: &[u8]) -> Vec<u8> {
    if a <= b {
        alg.digest_parts(&[a, b])
    } else {
        alg.digest_parts(&[b, a])
    }
}

/// How a list with a single member is read in §4.3 step 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListRule {
    /// A single member stands for itself (BouncyCastle, and what §5.2 needs for a first list
    /// that "contains only h(i)"). hozon writes records for this reading.
    SingleIsValue,
    /// Every list is hashed, even a single member (the literal text of step 3).
    HashEvery,
}

/// The value of one list: the hash of its members sorted in binary ascending order.
pub fn list_value(alg: DigestAlgorithm, list: &[Vec<u8>], rule: ListRule) -> Vec<u8> {
    if let ([only], ListRule::SingleIsValue) = (list, rule) {
        return only.clone();
    }
    let mut sorted: Vec<&[u8]> = list.iter().map(Vec::as_slice).collect();
    sorted.sort_unstable();
    alg.digest_parts(&sorted)
}

/// §4.3 steps 2–3: walk the reduced hash tree up to the root. Each list's value joins the next
/// list (unless already there). `None` for an empty tree.
pub fn recover_root(alg: DigestAlgorithm, lists: &[Vec<Vec<u8>>], rule: ListRule) -> Option<Vec<u8>> {
    let (first, rest) = lists.split_first()?;
    let mut cur = list_value(alg, first, rule);
    for list in rest {
        if list.contains(&cur) {
            cur = list_value(alg, list, rule);
        } else {
            let mut with = list.clone();
            with.push(cur);
            cur = list_value(alg, &with, rule);
        }
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: DigestAlgorithm = DigestAlgorithm::Sha256;

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| A.digest(format!("document {i}").as_bytes())).collect()
    }

    fn h2(a: &[u8], b: &[u8]) -> Vec<u8> {
        // independent of `branch`: sort by hand
        let (x, y) = if a < b { (a, b) } else { (b, a) };
        let mut cat = x.to_vec();
        cat.extend_from_slice(y);
        A.digest(&cat)
    }

    fn path_of(t: &HashTree, leaf: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let i = t.position(leaf).unwrap();
        let mut lists = vec![vec![leaf.to_vec()]];
        lists.extend(t.siblings(i).into_iter().map(|s| vec![s]));
        lists
    }

    #[test]
    fn one_leaf_is_its_own_root() {
        let l = leaves(1);
        let t = HashTree::build(A, &l).unwrap();
        assert_eq!(t.root(), l[0].as_slice());
        assert!(t.siblings(0).is_empty());
    }

    #[test]
    fn shapes_for_two_three_and_five_leaves() {
        let mut l = leaves(5);
        l.sort();
        let (a, b, c, d, e) = (&l[0], &l[1], &l[2], &l[3], &l[4]);
        let t2 = HashTree::build(A, &[b.clone(), a.clone()]).unwrap();
        assert_eq!(t2.root(), h2(a, b));
        let t3 = HashTree::build(A, &[c.clone(), a.clone(), b.clone()]).unwrap();
        assert_eq!(t3.root(), h2(&h2(a, b), c));
        assert_eq!(t3.siblings(2), vec![h2(a, b)], "odd leaf promoted: one sibling only");
        let t5 = HashTree::build(A, &l).unwrap();
        assert_eq!(t5.root(), h2(&h2(&h2(a, b), &h2(c, d)), e));
    }

    #[test]
    fn duplicates_share_a_leaf_and_bad_input_is_refused() {
        let l = leaves(3);
        let t = HashTree::build(A, &[l[0].clone(), l[1].clone(), l[0].clone()]).unwrap();
        assert_eq!(t.leaf_count(), 2);
        assert_eq!(t.root(), h2(&l[0], &l[1]));
        assert_eq!(HashTree::build(A, &[]).unwrap_err().code(), "ers-invalid-input");
        let short = vec![vec![0u8; 31]];
        assert_eq!(HashTree::build(A, &short).unwrap_err().code(), "ers-invalid-input");
        assert!(t.position(&l[2]).is_none());
    }

    #[test]
    fn every_path_recovers_the_root_and_a_changed_leaf_does_not() {
        for n in 1..=33 {
            let l = leaves(n);
            let t = HashTree::build(A, &l).unwrap();
            for leaf in &l {
                let lists = path_of(&t, leaf);
                assert_eq!(recover_root(A, &lists, ListRule::SingleIsValue).unwrap(), t.root());
                if n > 1 {
                    let mut bad = lists.clone();
                    bad[0][0][0] ^= 1;
                    assert_ne!(recover_root(A, &bad, ListRule::SingleIsValue).unwrap(), t.root());
                }
            }
        }
    }

    #[test]
    fn rfc_style_lists_with_siblings_in_the_first_list() {
        // RFC 4998 §4.2 example style: first list {h, sibling}, then the uncle.
        let mut l = leaves(4);
        l.sort();
        let t = HashTree::build(A, &l).unwrap();
        let lists = vec![vec![l[1].clone(), l[0].clone()], vec![h2(&l[2], &l[3])]];
        assert_eq!(recover_root(A, &lists, ListRule::SingleIsValue).unwrap(), t.root());
        assert_eq!(recover_root(A, &lists, ListRule::HashEvery).unwrap(), t.root());
        // the literal reading hashes a single-member first list, so BC-style paths differ
        let bc = path_of(&t, &l[0]);
        assert_ne!(recover_root(A, &bc, ListRule::HashEvery).unwrap(), t.root());
    }

    #[test]
    fn hundred_thousand_leaves_paths_are_short_and_correct() {
        let n = 100_000;
        let l = leaves(n);
        let start = std::time::Instant::now();
        let t = HashTree::build(A, &l).unwrap();
        eprintln!("100k-leaf tree built in {:?}", start.elapsed());
        assert_eq!(t.leaf_count(), n);
        for leaf in l.iter().step_by(997) {
            let lists = path_of(&t, leaf);
            assert!(lists.len() <= 1 + 17, "~log2 N hashes");
            assert_eq!(recover_root(A, &lists, ListRule::SingleIsValue).unwrap(), t.root());
        }
    }
}
