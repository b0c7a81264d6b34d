//! A tick's operations as JavaScript hands them over: numbers in one `Float64Array` and every
//! string (prefixes, session ids, values) joined into one string, so that a whole tick costs
//! two reads across the boundary instead of several per operation.
//!
//! Per operation, `nums` holds `id, kind, ttl, prefix length` and then, by kind:
//! Get / Touch: `sid length`; Set: `sid length, value length`; Destroy: `count, each sid's
//! length`. Lengths are in UTF-16 code units; `text` holds the strings in the same order. A
//! prefix length of [`crate::SAME_PREFIX`] means the previous operation's prefix, which `text`
//! then does not repeat (every operation of one store has the same prefix).

/// The joined strings: as a `str` when they are all ASCII (then a UTF-16 length is a byte
/// length, and nothing needs converting), else as UTF-16.
#[derive(Clone, Copy)]
pub enum Text<'a> {
    Ascii(&'a str),
    Utf16(&'a [u16]),
}

impl<'a> Text<'a> {
    /// `bytes` as `Text::Ascii`, when they are all ASCII. Checked once here for the whole
    /// turn, not once per string (~350 instructions per operation).
    pub fn ascii(bytes: &'a [u8]) -> Option<Text<'a>> {
        // SAFETY: ASCII is valid UTF-8; `from_utf8` would only scan the turn's text again.
        bytes
            .is_ascii()
            .then(|| Text::Ascii(unsafe { std::str::from_utf8_unchecked(bytes) }))
    }

    fn len(&self) -> usize {
        match self {
            Text::Ascii(bytes) => bytes.len(),
            Text::Utf16(units) => units.len(),
        }
    }
}

use std::borrow::Cow;

use crate::error::{Code, StoreError};
use crate::keys;
use crate::store::{Expiry, Op};
use crate::OpKind;

const SAME_PREFIX: f64 = crate::SAME_PREFIX as f64;

pub fn decode(nums: &[f64], text: Text) -> Result<Vec<(u32, Op)>, StoreError> {
    let mut reader = Reader {
        nums,
        text,
        at: 0,
        cursor: 0,
    };
    let mut ops = Vec::new();
    let mut last_prefix = None;
    while reader.at < nums.len() {
        let id = reader.number()? as u32;
        let kind = reader.number()? as i64;
        let ttl = reader.number()?;
        let prefix = reader.prefix(&mut last_prefix)?;
        let op = match kind {
            k if k == OpKind::Get as i64 => Op::Get {
                key: keys::session_key(&prefix, &reader.string()?),
            },
            k if k == OpKind::Set as i64 => {
                let key = keys::session_key(&prefix, &reader.string()?);
                Op::Set {
                    key,
                    value: reader.string()?.into_owned(),
                    expiry: expiry(ttl),
                }
            }
            k if k == OpKind::Touch as i64 => Op::Touch {
                key: keys::session_key(&prefix, &reader.string()?),
                expiry: expiry(ttl),
            },
            k if k == OpKind::Destroy as i64 => {
                let count = reader.number()? as usize;
                let keys = (0..count)
                    .map(|_| Ok(keys::session_key(&prefix, &reader.string()?)))
                    .collect::<Result<_, StoreError>>()?;
                Op::Destroy { keys }
            }
            other => return Err(malformed(&format!("unknown operation kind {other}"))),
        };
        ops.push((id, op));
    }
    Ok(ops)
}

/// The JavaScript TTL decision as an expiry: seconds, 0 (or less, or NaN) to delete, -1 none.
pub fn expiry(ttl: f64) -> Expiry {
    if ttl == -1.0 {
        Expiry::Never
    } else if ttl.is_nan() || ttl <= 0.0 {
        Expiry::Delete
    } else {
        // JavaScript sends whole seconds; the clamp keeps SET EX within what Redis accepts.
        Expiry::Seconds(ttl.ceil().min(i64::MAX as f64 / 1000.0) as u64)
    }
}

struct Reader<'a> {
    nums: &'a [f64],
    text: Text<'a>,
    at: usize,
    cursor: usize,
}

impl<'a> Reader<'a> {
    fn number(&mut self) -> Result<f64, StoreError> {
        let n = *self
            .nums
            .get(self.at)
            .ok_or_else(|| malformed("the numbers end inside an operation"))?;
        self.at += 1;
        Ok(n)
    }

    /// The operation's prefix: the next string, or the previous operation's.
    fn prefix(&mut self, last: &mut Option<Cow<'a, str>>) -> Result<Cow<'a, str>, StoreError> {
        if self.nums.get(self.at) == Some(&SAME_PREFIX) {
            self.at += 1;
            return last
                .clone()
                .ok_or_else(|| malformed("the first operation has no prefix of its own"));
        }
        let prefix = self.string()?;
        *last = Some(prefix.clone());
        Ok(prefix)
    }

    /// The next string of `text` (borrowed when it is ASCII); lone surrogates become U+FFFD,
    /// as in any UTF-8 conversion.
    fn string(&mut self) -> Result<Cow<'a, str>, StoreError> {
        let len = self.number()?;
        let end = self.cursor.saturating_add(len as usize);
        if len.is_nan() || len < 0.0 || end > self.text.len() {
            return Err(malformed("a length runs past the text"));
        }
        let range = self.cursor..end;
        self.cursor = end;
        Ok(match self.text {
            // All ASCII: every byte offset is a character boundary.
            Text::Ascii(text) => Cow::Borrowed(
                text.get(range)
                    .ok_or_else(|| malformed("a length splits a character"))?,
            ),
            Text::Utf16(units) => Cow::Owned(String::from_utf16_lossy(&units[range])),
        })
    }
}

fn malformed(detail: &str) -> StoreError {
    StoreError::new(
        Code::Server,
        format!("connect-redis-rs: internal error, malformed operations from the shim ({detail}); please report it"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn decodes_every_kind_with_keys_from_prefix_and_sid() {
        let text = utf16("p:a1p:b2VALp:c3p:xyzw");
        let nums = [
            1.0, 1.0, -1.0, 2.0, 2.0, // get p: a1
            2.0, 2.0, 60.0, 2.0, 2.0, 3.0, // set p: b2 VAL
            3.0, 3.0, 0.0, 2.0, 2.0, // touch p: c3, expired
            4.0, 4.0, -1.0, 2.0, 2.0, 1.0, 1.0, // destroy p: [x, y]; "zw" is left over
        ];
        let ops = decode(&nums, Text::Utf16(&text)).unwrap();
        let ascii = decode(&nums, Text::ascii(b"p:a1p:b2VALp:c3p:xyzw").unwrap()).unwrap();
        assert_eq!(format!("{ops:?}"), format!("{ascii:?}"));
        assert_eq!(ops.len(), 4);
        assert!(matches!(&ops[0].1, Op::Get { key } if **key == *b"p:a1"));
        assert!(
            matches!(&ops[1].1, Op::Set { key, value, expiry: Expiry::Seconds(60) } if **key == *b"p:b2" && value == "VAL")
        );
        assert!(
            matches!(&ops[2].1, Op::Touch { key, expiry: Expiry::Delete } if **key == *b"p:c3")
        );
        assert!(
            matches!(&ops[3].1, Op::Destroy { keys } if keys.iter().map(|k| k.to_vec()).collect::<Vec<_>>() == vec![b"p:x".to_vec(), b"p:y".to_vec()])
        );
    }

    #[test]
    fn a_prefix_length_of_minus_one_is_the_previous_prefix() {
        let text = "p:a1b2q:c3d4";
        let nums = [
            1.0,
            1.0,
            -1.0,
            2.0,
            2.0, // get p: a1
            2.0,
            3.0,
            60.0,
            SAME_PREFIX,
            2.0, // touch p: b2
            3.0,
            1.0,
            -1.0,
            2.0,
            2.0, // get q: c3
            4.0,
            4.0,
            -1.0,
            SAME_PREFIX,
            1.0,
            2.0, // destroy q: [d4]
        ];
        let ops = decode(&nums, Text::ascii(text.as_bytes()).unwrap()).unwrap();
        let utf16 = decode(&nums, Text::Utf16(&utf16(text))).unwrap();
        assert_eq!(format!("{ops:?}"), format!("{utf16:?}"));
        let keys: Vec<Vec<u8>> = ops
            .iter()
            .flat_map(|(_, op)| match op {
                Op::Get { key } | Op::Touch { key, .. } => vec![key.to_vec()],
                Op::Destroy { keys } => keys.iter().map(|k| k.to_vec()).collect(),
                Op::Set { key, .. } => vec![key.to_vec()],
            })
            .collect();
        assert_eq!(keys, [&b"p:a1"[..], b"p:b2", b"q:c3", b"q:d4"]);
    }

    #[test]
    fn non_ascii_and_lone_surrogates_survive_as_utf8() {
        let mut text = utf16("s:é😀");
        text.push(0xD800);
        let nums = [7.0, 1.0, -1.0, 2.0, 4.0];
        let ops = decode(&nums, Text::Utf16(&text)).unwrap();
        assert!(matches!(&ops[0].1, Op::Get { key } if **key == *"s:é😀\u{FFFD}".as_bytes()));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let text = utf16("ab");
        for nums in [
            vec![1.0, 1.0, -1.0, 5.0, 1.0],
            vec![1.0, 1.0],
            vec![1.0, 9.0, -1.0, 0.0],
            vec![1.0, 1.0, -1.0, -3.0, 1.0],
            vec![1.0, 1.0, -1.0, f64::NAN, 1.0],
            vec![1.0, 1.0, -1.0, SAME_PREFIX, 1.0],
        ] {
            assert!(decode(&nums, Text::Utf16(&text)).is_err(), "{nums:?}");
            assert!(decode(&nums, Text::Ascii("ab")).is_err(), "{nums:?}");
        }
    }

    #[test]
    fn only_all_ascii_bytes_are_ascii_text() {
        assert!(matches!(
            Text::ascii(b"sess:abc"),
            Some(Text::Ascii("sess:abc"))
        ));
        assert!(Text::ascii("sess:é".as_bytes()).is_none());
        assert!(Text::ascii(&[b'a', 0xff]).is_none());
    }

    #[test]
    fn ttl_rules() {
        assert_eq!(expiry(-1.0), Expiry::Never);
        assert_eq!(expiry(0.0), Expiry::Delete);
        assert_eq!(expiry(f64::NAN), Expiry::Delete);
        assert_eq!(expiry(1.5), Expiry::Seconds(2));
        assert!(matches!(expiry(1e300), Expiry::Seconds(_)));
    }
}
