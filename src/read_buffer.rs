//! Where the main-thread connection reads replies: the socket reads straight into this buffer,
//! and the parser takes complete frames off its front. (Reading into a separate chunk and
//! appending it copied every byte once more: ~200 instructions per 200 B `get` at 256 in
//! flight, measured with callgrind.)

/// Bytes kept when the buffer is empty again after a large reply made it grow.
const KEPT: usize = 1 << 20;

pub struct ReadBuffer {
    /// Always initialized (zeroed when it grows), so that reads can go into any part of it.
    buf: Vec<u8>,
    /// The unparsed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
}

impl ReadBuffer {
    pub fn new(size: usize) -> ReadBuffer {
        ReadBuffer {
            buf: vec![0; size],
            start: 0,
            end: 0,
        }
    }

    /// Room for `len` more bytes after the unparsed ones, to read into; then `filled`.
    pub fn space(&mut self, len: usize) -> &mut [u8] {
        if self.buf.len() - self.end < len {
            // Move what is left of a partial frame to the front before growing.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < len {
                // Doubling: a reply of many reads zeroes each byte of the buffer about once.
                let size = (self.end + len).max(2 * self.buf.len());
                self.buf.resize(size, 0);
            }
        }
        &mut self.buf[self.end..self.end + len]
    }

    /// `len` bytes were read into the front of `space`.
    pub fn filled(&mut self, len: usize) {
        self.end = (self.end + len).min(self.buf.len());
    }

    pub fn unparsed(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The first `len` unparsed bytes were parsed.
    pub fn consume(&mut self, len: usize) {
        self.start = (self.start + len).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > KEPT {
                self.buf.truncate(KEPT);
                self.buf.shrink_to_fit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(buffer: &mut ReadBuffer, bytes: &[u8], room: usize) {
        buffer.space(room)[..bytes.len()].copy_from_slice(bytes);
        buffer.filled(bytes.len());
    }

    #[test]
    fn frames_split_across_reads_come_out_whole_and_in_order() {
        let mut buffer = ReadBuffer::new(8);
        read(&mut buffer, b":1\r\n$5\r", 8);
        assert_eq!(buffer.unparsed(), b":1\r\n$5\r");
        buffer.consume(4);
        // Not enough room at the end: the partial frame moves to the front.
        read(&mut buffer, b"\nhello\r\n", 8);
        assert_eq!(buffer.unparsed(), b"$5\r\nhello\r\n");
        buffer.consume(11);
        assert!(buffer.unparsed().is_empty());
        read(&mut buffer, b"+OK\r\n", 8);
        assert_eq!(buffer.unparsed(), b"+OK\r\n");
    }

    #[test]
    fn a_large_reply_grows_the_buffer_and_it_shrinks_once_parsed() {
        let mut buffer = ReadBuffer::new(16);
        let big = vec![b'x'; 3 * KEPT];
        for part in big.chunks(KEPT / 2) {
            read(&mut buffer, part, KEPT / 2);
        }
        assert_eq!(buffer.unparsed(), &big[..]);
        buffer.consume(big.len());
        assert!(buffer.buf.len() <= KEPT);
        read(&mut buffer, b"abc", 16);
        assert_eq!(buffer.unparsed(), b"abc");
    }

    #[test]
    fn filled_and_consumed_never_pass_the_end() {
        let mut buffer = ReadBuffer::new(4);
        buffer.space(4);
        buffer.filled(10);
        assert_eq!(buffer.unparsed().len(), 4);
        buffer.consume(10);
        assert!(buffer.unparsed().is_empty());
    }
}
