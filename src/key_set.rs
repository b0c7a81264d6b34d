//! The keys a SCAN walk has seen, to drop the ones SCAN returns again. Every key is copied into
//! one buffer and the table holds indices into it, with each key's hash beside it: no allocation
//! per key and no hashing again when the table grows. (A `HashSet<Vec<u8>>` with a clone of each
//! key was 37% of the background thread's CPU time in `all()` over 200,000 sessions: perf.)

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// Slots in a new table (a power of two); the table doubles before it is half full.
const FIRST_SLOTS: usize = 1024;
const EMPTY: usize = usize::MAX;

pub struct KeySet {
    /// Random per set, so that which keys collide cannot be known in advance.
    seed: u64,
    /// Every key, back to back; key `i` ends at `ends[i]`.
    bytes: Vec<u8>,
    ends: Vec<usize>,
    hashes: Vec<u64>,
    /// Open addressing with linear probing: a key's index, or `EMPTY`.
    slots: Vec<usize>,
}

impl KeySet {
    pub fn new() -> KeySet {
        KeySet {
            seed: RandomState::new().hash_one(0x5eed_u64),
            bytes: Vec::new(),
            ends: Vec::new(),
            hashes: Vec::new(),
            slots: vec![EMPTY; FIRST_SLOTS],
        }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Adds `key`; false when it was already there.
    pub fn insert(&mut self, key: &[u8]) -> bool {
        if 2 * (self.len() + 1) > self.slots.len() {
            self.grow();
        }
        let hash = hash(self.seed, key);
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let index = self.slots[slot];
            if index == EMPTY {
                self.slots[slot] = self.len();
                self.bytes.extend_from_slice(key);
                self.ends.push(self.bytes.len());
                self.hashes.push(hash);
                return true;
            }
            if self.hashes[index] == hash && self.key(index) == key {
                return false;
            }
            slot = (slot + 1) & mask;
        }
    }

    fn key(&self, index: usize) -> &[u8] {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.bytes[start..self.ends[index]]
    }

    fn grow(&mut self) {
        let slots = 2 * self.slots.len();
        self.slots = vec![EMPTY; slots];
        let mask = slots - 1;
        for (index, &hash) in self.hashes.iter().enumerate() {
            let mut slot = hash as usize & mask;
            while self.slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = index;
        }
    }
}

/// A fast seeded hash of short byte strings (a multiply-rotate round per 8 bytes and a final
/// mix that spreads every bit into the low ones, which pick the slot).
fn hash(seed: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let round = |h: u64, word: u64| (h ^ word).wrapping_mul(K).rotate_left(29);
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(K);
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = round(h, u64::from_le_bytes(word));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = round(h, u64::from_le_bytes(word));
    }
    h ^= h >> 32;
    h = h.wrapping_mul(K);
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn each_key_is_new_once_across_growth() {
        let mut set = KeySet::new();
        let keys: Vec<Vec<u8>> = (0..50_000)
            .map(|i| format!("sess:{i:032}").into_bytes())
            .collect();
        for key in &keys {
            assert!(set.insert(key));
        }
        assert_eq!(set.len(), keys.len());
        for key in keys.iter().rev() {
            assert!(!set.insert(key));
        }
        assert_eq!(set.len(), keys.len());
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(set.key(i), &key[..]);
        }
    }

    #[test]
    fn keys_that_differ_only_in_length_or_a_tail_byte_are_different() {
        let mut set = KeySet::new();
        for key in [
            &b""[..],
            b"\0",
            b"\0\0",
            b"sess:a",
            b"sess:a\0",
            b"sess:b",
            b"sess:abcdefgh1",
            b"sess:abcdefgh2",
        ] {
            assert!(set.insert(key), "{key:?}");
        }
        assert!(!set.insert(b""));
        assert!(!set.insert(b"sess:a\0"));
        assert_eq!(set.len(), 8);
    }

    #[test]
    fn matches_a_hash_set_on_keys_with_repeats() {
        let mut set = KeySet::new();
        let mut reference = HashSet::new();
        let mut x: u64 = 1;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let key = format!("sess:{}", (x >> 33) % 5_000).into_bytes();
            assert_eq!(set.insert(&key), reference.insert(key));
        }
        assert_eq!(set.len(), reference.len());
    }

    #[test]
    fn hashes_spread_over_the_low_bits() {
        // Keys alike but for their last characters, as session ids under one prefix are.
        let mut used = HashSet::new();
        for i in 0..4096 {
            used.insert(hash(7, format!("sess:bulk-{i}").as_bytes()) & 4095);
        }
        // Random slots would fill ~63% of 4096 (1 - 1/e); a bad mix fills far fewer.
        assert!(used.len() > 2400, "{} of 4096 slots used", used.len());
    }
}
