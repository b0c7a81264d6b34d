//! How sessions map to Redis keys, and how many keys one command may carry.

/// Session defaults, exported to JavaScript so no other place restates them.
pub const DEFAULT_PREFIX: &str = "sess:";
pub const DEFAULT_TTL_SECONDS: u32 = 86_400;
pub const DEFAULT_SCAN_COUNT: u32 = 100;

/// The most keys one MGET / DEL / UNLINK carries, so no single command stalls Redis: 500, as
/// an UNLINK of 1,000 sessions passed 10 ms on a slower 2-core VM (README, Benchmarks).
pub const MAX_KEYS_PER_COMMAND: usize = 500;

/// `prefix + sid`, exactly as connect-redis builds it.
pub fn session_key(prefix: &str, sid: &str) -> Key {
    Key::joined(prefix.as_bytes(), sid.as_bytes())
}

/// Keys up to this long are held inline: the default prefix and a 32-character sid take 37.
const INLINE_KEY: usize = 62;

/// A Redis key that costs no allocation when it is short (callgrind: an allocation and its free
/// are ~350 instructions, a twentieth of a whole `touch` at 256 in flight).
#[derive(Clone, PartialEq, Eq)]
pub enum Key {
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    Heap(Box<[u8]>),
}

impl Key {
    fn joined(head: &[u8], tail: &[u8]) -> Key {
        let len = head.len() + tail.len();
        if len > INLINE_KEY {
            return Key::Heap([head, tail].concat().into_boxed_slice());
        }
        let mut bytes = [0u8; INLINE_KEY];
        bytes[..head.len()].copy_from_slice(head);
        bytes[head.len()..len].copy_from_slice(tail);
        Key::Inline {
            len: len as u8,
            bytes,
        }
    }
}

impl std::ops::Deref for Key {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Key::Heap(bytes) => bytes,
        }
    }
}

impl AsRef<[u8]> for Key {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

/// The keys of a `destroy`: one (what express-session asks for) held without a `Vec`, which
/// would be an allocation and a free per operation.
#[derive(Debug)]
pub enum Keys {
    One(Key),
    Many(Vec<Key>),
}

impl Default for Keys {
    fn default() -> Keys {
        Keys::Many(Vec::new())
    }
}

impl std::ops::Deref for Keys {
    type Target = [Key];
    fn deref(&self) -> &[Key] {
        match self {
            Keys::One(key) => std::slice::from_ref(key),
            Keys::Many(keys) => keys,
        }
    }
}

impl FromIterator<Key> for Keys {
    fn from_iter<I: IntoIterator<Item = Key>>(keys: I) -> Keys {
        let mut keys = keys.into_iter();
        let Some(first) = keys.next() else {
            return Keys::default();
        };
        let Some(second) = keys.next() else {
            return Keys::One(first);
        };
        let mut all = Vec::with_capacity(2 + keys.size_hint().0);
        all.push(first);
        all.push(second);
        all.extend(keys);
        Keys::Many(all)
    }
}

/// The SCAN MATCH pattern for every key under `prefix`, with glob characters escaped so the
/// store never matches another prefix's keys.
pub fn scan_pattern(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 2);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('*');
    pattern
}

/// The session id of a scanned key, or `None` when the key is not under `prefix` or is not
/// UTF-8 (then it cannot be a session this store wrote).
pub fn session_id<'a>(prefix: &str, key: &'a [u8]) -> Option<&'a str> {
    let rest = key.strip_prefix(prefix.as_bytes())?;
    std::str::from_utf8(rest).ok()
}

/// The Redis Cluster hash slot of `key`: CRC16 (XMODEM) of the key, or of its `{hash tag}`
/// when the key has a non-empty one, modulo 16384.
pub fn slot(key: &[u8]) -> u16 {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    crc16(hashed) % 16384
}

fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The keys of one multi-key command each: runs of at most `MAX_KEYS_PER_COMMAND`, and in a
/// cluster (`by_slot`) never two slots in one run. The order is deterministic.
pub fn key_groups<K: AsRef<[u8]>>(keys: &[K], by_slot: bool) -> Vec<Vec<&[u8]>> {
    group_indices(
        keys.len(),
        by_slot.then_some(|i: usize| slot(keys[i].as_ref())),
    )
    .into_iter()
    .map(|group| group.into_iter().map(|i| keys[i].as_ref()).collect())
    .collect()
}

/// Groups `0..len` as `key_groups` groups keys; `slot_of` (in a cluster) gives each one's slot.
pub fn group_indices(len: usize, slot_of: Option<impl Fn(usize) -> u16>) -> Vec<Vec<usize>> {
    let mut grouper = Grouper::default();
    let slot = |i| slot_of.as_ref().map_or(0, |slot_of| slot_of(i));
    let mut groups: Vec<_> = (0..len).filter_map(|i| grouper.add(slot(i), i)).collect();
    groups.extend(grouper.finish());
    groups
}

/// Gathers items into groups as they come: a group is handed out as soon as it holds
/// `MAX_KEYS_PER_COMMAND`, and `finish` hands out the rest in slot order. Outside a cluster
/// every item is in slot 0.
pub struct Grouper<T> {
    open: std::collections::BTreeMap<u16, Vec<T>>,
}

impl<T> Default for Grouper<T> {
    fn default() -> Grouper<T> {
        Grouper {
            open: std::collections::BTreeMap::new(),
        }
    }
}

impl<T> Grouper<T> {
    /// Adds `item` of `slot`; returns its group if that is now full.
    pub fn add(&mut self, slot: u16, item: T) -> Option<Vec<T>> {
        let group = self.open.entry(slot).or_default();
        group.push(item);
        (group.len() >= MAX_KEYS_PER_COMMAND).then(|| std::mem::take(group))
    }

    /// The groups that are not full, in slot order.
    pub fn finish(self) -> impl Iterator<Item = Vec<T>> {
        self.open.into_values().filter(|group| !group.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_prefix_then_id() {
        assert_eq!(&*session_key("sess:", "abc"), b"sess:abc");
        assert_eq!(&*session_key("", "abc"), b"abc");
        let long = "x".repeat(100);
        assert_eq!(
            &*session_key("sess:", &long),
            format!("sess:{long}").as_bytes()
        );
        assert!(matches!(session_key("sess:", &long), Key::Heap(_)));
        let at_limit = "y".repeat(INLINE_KEY - 5);
        assert!(matches!(
            session_key("sess:", &at_limit),
            Key::Inline { .. }
        ));
        assert_eq!(
            &*session_key("sess:", &at_limit),
            format!("sess:{at_limit}").as_bytes()
        );
    }

    #[test]
    fn pattern_escapes_every_glob_character() {
        assert_eq!(scan_pattern("sess:"), "sess:*");
        assert_eq!(scan_pattern("app[1]:"), "app\\[1\\]:*");
        assert_eq!(scan_pattern("a*b?c\\"), "a\\*b\\?c\\\\*");
        assert_eq!(scan_pattern(""), "*");
    }

    #[test]
    fn session_id_strips_the_prefix() {
        assert_eq!(session_id("sess:", b"sess:x y"), Some("x y"));
        assert_eq!(session_id("sess:", b"other:x"), None);
        assert_eq!(session_id("sess:", b"sess:\xff"), None);
    }

    #[test]
    fn slots_match_redis_cluster_keyslot() {
        // Values from CLUSTER KEYSLOT on Redis 7.
        assert_eq!(slot(b"foo"), 12182);
        assert_eq!(slot(b"sess:abc"), slot(b"sess:abc"));
        assert_eq!(slot(b"{user1000}.following"), slot(b"{user1000}.followers"));
        assert_eq!(slot(b"foo{}{bar}"), slot(b"foo{}{bar}"));
        assert_eq!(slot(b"{}"), crc16(b"{}") % 16384);
        assert_eq!(slot(b"123456789"), 12739);
    }

    #[test]
    fn groups_never_mix_slots_in_cluster_mode() {
        let keys: Vec<Key> = (0..5_000)
            .map(|i| session_key("s:", &i.to_string()))
            .collect();
        let groups = key_groups(&keys, true);
        assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), 5_000);
        for group in &groups {
            assert!(group.len() <= MAX_KEYS_PER_COMMAND);
            assert!(group.iter().all(|k| slot(k) == slot(group[0])));
        }
        assert_eq!(key_groups(&keys, false).len(), 10);
    }

    #[test]
    fn a_group_is_handed_out_as_soon_as_it_is_full() {
        let mut grouper = Grouper::default();
        for i in 0..MAX_KEYS_PER_COMMAND - 1 {
            assert_eq!(grouper.add(7, i), None);
        }
        assert_eq!(grouper.add(3, 0), None);
        let full = grouper.add(7, MAX_KEYS_PER_COMMAND - 1);
        assert_eq!(full.map(|g| g.len()), Some(MAX_KEYS_PER_COMMAND));
        assert_eq!(grouper.add(7, 0), None);
        let rest: Vec<Vec<usize>> = grouper.finish().collect();
        assert_eq!(rest, vec![vec![0], vec![0]]);
    }

    #[test]
    fn chunks_are_bounded() {
        let items: Vec<u32> = (0..1_250).collect();
        let sizes: Vec<usize> = group_indices(items.len(), None::<fn(usize) -> u16>)
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, vec![500, 500, 250]);
    }
}
