//! How sessions map to Redis keys, and how many keys one command may carry.

/// Session defaults, exported to JavaScript so no other place restates them.
pub const DEFAULT_PREFIX: &str = "sess:";
pub const DEFAULT_TTL_SECONDS: u32 = 86_400;
pub const DEFAULT_SCAN_COUNT: u32 = 100;

/// The most keys one MGET / DEL / UNLINK carries, so no single command stalls Redis.
pub const MAX_KEYS_PER_COMMAND: usize = 1_000;

/// `prefix + sid`, exactly as connect-redis builds it.
pub fn session_key(prefix: &str, sid: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + sid.len());
    key.extend_from_slice(prefix.as_bytes());
    key.extend_from_slice(sid.as_bytes());
    key
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
pub fn session_id(prefix: &str, key: &[u8]) -> Option<String> {
    let rest = key.strip_prefix(prefix.as_bytes())?;
    std::str::from_utf8(rest).ok().map(str::to_owned)
}

/// Splits `items` into runs of at most `MAX_KEYS_PER_COMMAND`.
pub fn chunks<T>(items: &[T]) -> std::slice::Chunks<'_, T> {
    items.chunks(MAX_KEYS_PER_COMMAND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_prefix_then_id() {
        assert_eq!(session_key("sess:", "abc"), b"sess:abc");
        assert_eq!(session_key("", "abc"), b"abc");
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
        assert_eq!(session_id("sess:", b"sess:x y"), Some("x y".into()));
        assert_eq!(session_id("sess:", b"other:x"), None);
        assert_eq!(session_id("sess:", b"sess:\xff"), None);
    }

    #[test]
    fn chunks_are_bounded() {
        let items: Vec<u32> = (0..2_500).collect();
        let sizes: Vec<usize> = chunks(&items).map(<[u32]>::len).collect();
        assert_eq!(sizes, vec![1_000, 1_000, 500]);
    }
}
