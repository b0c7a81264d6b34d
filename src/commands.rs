//! Where an operation's commands are written: a redis-rs pipeline (the background connection)
//! or RESP bytes appended straight to a write buffer (the main-thread connection, which then
//! builds no `Cmd` and no pipeline per operation).

use std::mem::MaybeUninit;

use redis::{Cmd, Pipeline};

pub trait Commands {
    /// One command: its name, then its arguments.
    fn command(&mut self, args: &[&[u8]]);
}

impl Commands for Pipeline {
    fn command(&mut self, args: &[&[u8]]) {
        let mut cmd = Cmd::new();
        for arg in args {
            cmd.arg(*arg);
        }
        self.add_command(cmd);
    }
}

/// RESP, appended to the buffer.
pub struct Resp<'a>(pub &'a mut Vec<u8>);

impl Commands for Resp<'_> {
    fn command(&mut self, args: &[&[u8]]) {
        // A header is at most 23 bytes: a kind byte, 20 digits, CR LF.
        let size = args.iter().map(|arg| arg.len() + 25).sum::<usize>() + 23;
        let out = &mut *self.0;
        out.reserve(size);
        // Written straight into the capacity just reserved: a Vec push checks the capacity
        // and may grow on every call (~150 instructions of an EXPIRE's ~330).
        let spare = out.spare_capacity_mut();
        let mut at = header(spare, 0, b'*', args.len());
        for arg in args {
            at = header(spare, at, b'$', arg.len());
            at = put(spare, at, arg);
            at = put(spare, at, b"\r\n");
        }
        let len = out.len() + at;
        // SAFETY: `put` and `header` initialized the first `at` bytes of the spare capacity.
        unsafe { out.set_len(len) };
    }
}

/// Writes `bytes` at `at` in `spare`; returns where they end. Panics (never: `command` reserves
/// enough) rather than write past the slice.
#[inline(always)]
fn put(spare: &mut [MaybeUninit<u8>], at: usize, bytes: &[u8]) -> usize {
    let end = at + bytes.len();
    spare[at..end].write_copy_of_slice(bytes);
    end
}

#[inline(always)]
fn header(spare: &mut [MaybeUninit<u8>], at: usize, kind: u8, len: usize) -> usize {
    // Most counts and lengths in a session command are one or two digits.
    match len {
        0..=9 => put(spare, at, &[kind, b'0' + len as u8, b'\r', b'\n']),
        10..=99 => put(
            spare,
            at,
            &[
                kind,
                b'0' + (len / 10) as u8,
                b'0' + (len % 10) as u8,
                b'\r',
                b'\n',
            ],
        ),
        _ => {
            let at = put(spare, at, &[kind]);
            let at = put(spare, at, Decimal::new(len as u64).bytes());
            put(spare, at, b"\r\n")
        }
    }
}

/// `n` as decimal digits, without allocating (`format!` costs several times more here).
pub struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    pub fn new(mut n: u64) -> Decimal {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Decimal { digits, start }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.digits[self.start..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp_is_what_redis_rs_writes() {
        let ttl = Decimal::new(86400);
        let args: [&[u8]; 5] = [b"SET", b"sess:a", b"{\"x\":1}", b"EX", ttl.bytes()];
        let mut raw = Vec::new();
        Resp(&mut raw).command(&args);
        Resp(&mut raw).command(&[b"GET", b""]);
        let long: Vec<Vec<u8>> = [9, 10, 99, 100, 1000]
            .iter()
            .map(|&n| vec![b'x'; n])
            .collect();
        let many: Vec<&[u8]> = long
            .iter()
            .map(|v| v.as_slice())
            .chain([&b"a"[..]; 8])
            .collect();
        Resp(&mut raw).command(&many);
        let mut pipe = redis::pipe();
        pipe.command(&args);
        pipe.command(&[b"GET", b""]);
        pipe.command(&many);
        assert_eq!(raw, pipe.get_packed_pipeline());
    }

    #[test]
    fn decimals() {
        for n in [0, 7, 10, 86400, u64::MAX] {
            assert_eq!(Decimal::new(n).bytes(), n.to_string().as_bytes());
        }
    }
}
