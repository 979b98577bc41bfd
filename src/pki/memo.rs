//! Recent verdicts shared across the process, keyed by a SHA-256 of what they are about: a
//! batch asks the same few questions (is this OCSP response signed by that issuer? which path
//! leads from this certificate to a root?) for every document. Bounded: when full, the oldest
//! goes, so hostile input with many distinct questions costs work, never unbounded memory.

use std::sync::Mutex;

use sha2::{Digest, Sha256};

pub struct Recent<T> {
    entries: Mutex<Vec<([u8; 32], T)>>,
    max: usize,
}

impl<T: Clone> Recent<T> {
    pub const fn new(max: usize) -> Recent<T> {
        Recent {
            entries: Mutex::new(Vec::new()),
            max,
        }
    }

    pub fn get(&self, key: &[u8; 32]) -> Option<T> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: [u8; 32], value: T) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.iter().any(|(k, _)| *k == key) {
            return;
        }
        if entries.len() >= self.max {
            entries.remove(0);
        }
        entries.push((key, value));
    }
}

/// A memo key: SHA-256 over parts, each prefixed with its length, so that no two different
/// lists of parts give the same key.
#[derive(Default)]
pub struct Key(Sha256);

impl Key {
    pub fn new() -> Key {
        Key(Sha256::new())
    }

    pub fn part(&mut self, bytes: &[u8]) -> &mut Key {
        self.0.update((bytes.len() as u64).to_be_bytes());
        self.0.update(bytes);
        self
    }

    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_entries_and_keys_tell_part_lists_apart() {
        let memo: Recent<u32> = Recent::new(2);
        let key = |parts: &[&[u8]]| {
            let mut k = Key::new();
            for p in parts {
                k.part(p);
            }
            k.finish()
        };
        let (a, b, c) = (key(&[b"ab", b"c"]), key(&[b"a", b"bc"]), key(&[b"abc"]));
        assert!(
            a != b && b != c && a != c,
            "the same bytes split otherwise are another key"
        );
        memo.put(a, 1);
        memo.put(a, 9);
        assert_eq!(memo.get(&a), Some(1), "the first verdict stays");
        memo.put(b, 2);
        memo.put(c, 3);
        assert_eq!(
            (memo.get(&a), memo.get(&b), memo.get(&c)),
            (None, Some(2), Some(3)),
            "the oldest went"
        );
    }
}
