//! Reading replies off the main-thread connection: where one complete RESP frame ends in a
//! buffer, and its value. Bulk strings, integers and `+OK` (every reply of the hot path) are
//! read here directly; anything else goes through redis-rs's own parser.

use redis::Value;

/// Replies of the store's commands nest at most one level; this bounds what a misbehaving
/// server could make the reader recurse into.
const MAX_DEPTH: usize = 8;
/// Far above Redis's own limit (`proto-max-bulk-len`, 512 MB by default): a longer length is
/// a broken stream, not a value to wait for.
const MAX_BULK: usize = 1 << 32;

/// The frame at the start of `buf`: `Ok(None)` while it is incomplete.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, String> {
    frame_len_within(buf, MAX_DEPTH)
}

fn frame_len_within(buf: &[u8], depth: usize) -> Result<Option<usize>, String> {
    let Some(&kind) = buf.first() else {
        return Ok(None);
    };
    let Some(line_end) = line_end(buf) else {
        return Ok(None);
    };
    let after_line = line_end + 2;
    match kind {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Ok(Some(after_line)),
        b'$' | b'!' | b'=' => {
            let len = number(&buf[1..line_end])?;
            if len < 0 {
                return Ok(Some(after_line));
            }
            let end = usize::try_from(len)
                .ok()
                .filter(|&len| len <= MAX_BULK)
                .and_then(|len| after_line.checked_add(len)?.checked_add(2))
                .ok_or_else(|| format!("RESP length {len} is too large"))?;
            Ok((buf.len() >= end).then_some(end))
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            if depth == 0 {
                return Err("RESP replies nested too deep".into());
            }
            let count = number(&buf[1..line_end])?;
            let items = if matches!(kind, b'%' | b'|') {
                count.saturating_mul(2)
            } else {
                count
            };
            let mut at = after_line;
            for _ in 0..items.max(0) {
                match frame_len_within(&buf[at..], depth - 1)? {
                    Some(len) => at += len,
                    None => return Ok(None),
                }
            }
            Ok(Some(at))
        }
        other => Err(format!("unexpected RESP type byte {other:#04x}")),
    }
}

/// The value of one complete frame (as measured by `frame_len`).
pub fn value(frame: &[u8]) -> Result<Value, String> {
    if let Some(bytes) = bulk(frame) {
        return Ok(Value::BulkString(bytes.to_vec()));
    }
    let body = &frame[1..frame.len().saturating_sub(2)];
    match frame.first() {
        Some(b'$') if body.first() == Some(&b'-') => Ok(Value::Nil),
        Some(b':') => number(body).map(Value::Int),
        Some(b'+') if body == b"OK" => Ok(Value::Okay),
        _ => redis::parse_redis_value(frame).map_err(|e| e.to_string()),
    }
}

/// The bytes of a bulk string, borrowed from one complete frame; `None` for any other frame
/// (nil included).
pub fn bulk(frame: &[u8]) -> Option<&[u8]> {
    if frame.first() != Some(&b'$') || frame.get(1) == Some(&b'-') {
        return None;
    }
    let body = frame.get(1..frame.len().checked_sub(2)?)?;
    let start = body.iter().position(|&b| b == b'\r')? + 2;
    body.get(start..)
}

fn line_end(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

fn number(digits: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad RESP length {:?}", String::from_utf8_lossy(digits)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_frames(mut buf: &[u8]) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(len) = frame_len(buf).unwrap() {
            out.push(value(&buf[..len]).unwrap());
            buf = &buf[len..];
        }
        out
    }

    #[test]
    fn reads_the_replies_of_the_hot_path() {
        let buf = b"+OK\r\n$5\r\nhe\r\no\r\n$-1\r\n:1\r\n$0\r\n\r\n";
        assert_eq!(
            all_frames(buf),
            vec![
                Value::Okay,
                Value::BulkString(b"he\r\no".to_vec()),
                Value::Nil,
                Value::Int(1),
                Value::BulkString(Vec::new()),
            ]
        );
    }

    #[test]
    fn bulk_strings_are_borrowed_and_nothing_else_is_one() {
        assert_eq!(bulk(b"$5\r\nhe\r\no\r\n"), Some(&b"he\r\no"[..]));
        assert_eq!(bulk(b"$0\r\n\r\n"), Some(&b""[..]));
        for other in [
            &b"$-1\r\n"[..],
            b":5\r\n",
            b"+OK\r\n",
            b"-ERR $5\r\n",
            b"$",
            b"$5",
        ] {
            assert_eq!(bulk(other), None, "{other:?}");
        }
    }

    #[test]
    fn incomplete_frames_wait_for_more() {
        for cut in [b"$5\r\nhel".as_slice(), b"$5", b"*2\r\n:1\r\n", b":12", b""] {
            assert_eq!(frame_len(cut).unwrap(), None, "{cut:?}");
        }
    }

    #[test]
    fn errors_and_arrays_go_through_redis_rs() {
        let buf = b"-WRONGTYPE Operation against a key\r\n*2\r\n$1\r\na\r\n:2\r\n";
        let frames = all_frames(buf);
        assert!(matches!(frames[0], Value::ServerError(_)));
        assert_eq!(
            frames[1],
            Value::Array(vec![Value::BulkString(b"a".to_vec()), Value::Int(2)])
        );
    }

    /// Random bytes, and valid replies cut and corrupted anywhere, never panic; a frame found
    /// is within the buffer; a valid stream fed in pieces reads the same as whole.
    #[test]
    fn property_random_and_split_streams() {
        let mut rng = crate::options_fuzz::Rng(0x5eed_cafe);
        let pieces: [&[u8]; 8] = [
            b"+OK\r\n",
            b"$-1\r\n",
            b":42\r\n",
            b"$3\r\nabc\r\n",
            b"-ERR no\r\n",
            b"*2\r\n$1\r\na\r\n:1\r\n",
            b"$0\r\n\r\n",
            b"*-1\r\n",
        ];
        for _ in 0..2000 {
            let mut stream = Vec::new();
            for _ in 0..rng.below(6) + 1 {
                stream.extend_from_slice(pieces[rng.below(pieces.len() as u64) as usize]);
            }
            let whole = all_frames(&stream);
            // Fed in two pieces, as reads deliver it.
            let cut = rng.below(stream.len() as u64 + 1) as usize;
            let mut buf = stream[..cut].to_vec();
            let mut seen = Vec::new();
            for more in [&stream[cut..], &[][..]] {
                while let Some(len) = frame_len(&buf).unwrap() {
                    seen.push(value(&buf[..len]).unwrap());
                    buf.drain(..len);
                }
                buf.extend_from_slice(more);
            }
            assert_eq!(
                format!("{seen:?}"),
                format!("{whole:?}"),
                "{:?}",
                String::from_utf8_lossy(&stream)
            );
            // Corrupted: any outcome but a panic or an out-of-bounds frame.
            let mut bad = stream.clone();
            for _ in 0..rng.below(4) + 1 {
                let at = rng.below(bad.len() as u64) as usize;
                bad[at] = rng.next() as u8;
            }
            bad.truncate(rng.below(bad.len() as u64 + 1) as usize);
            if let Ok(Some(len)) = frame_len(&bad) {
                assert!(len <= bad.len());
                let _ = value(&bad[..len]);
            }
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(frame_len(b"?x\r\n").is_err());
        assert!(frame_len(b"$abc\r\n").is_err());
        assert!(frame_len(b"$9223372036854775807\r\n").is_err());
        assert!(frame_len("*1\r\n".repeat(100).as_bytes()).is_err());
    }
}
