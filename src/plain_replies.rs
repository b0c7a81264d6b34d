//! The main-thread connection's plain replies (a value, a number or nil) handed to JavaScript
//! without a napi call per value: `[id, kind, number or length, …]` in one reused
//! `Float64Array`, and every value joined into one string that JavaScript slices. Measured
//! with callgrind: building a JS array of `[id, status, value]` cost about 3,100 instructions
//! per `get` in `napi_set_element` alone, more than the rest of the Rust side together.
//!
//! A value is joined as soon as its reply is parsed, so its own buffer is freed at once: freeing
//! a whole read's values (hundreds) after allocating them overflowed the allocator's per-thread
//! cache, ~300 instructions per `get` at 256 in flight.

use crate::joined_text::JoinedText;
use crate::outbox::{Delivery, Reply};
use crate::store::session_text;
use crate::PlainReply;

const MAX_JOINED_BYTES: usize = 64 << 20;

/// What one callback hands to JavaScript: the plain replies, and the rest the general way.
#[derive(Default)]
pub struct Deliveries {
    pub plain: PlainReplies,
    pub rest: Vec<Delivery>,
    /// About how many bytes of values may be joined (what the read brought): reserved when the
    /// first value comes, not for reads that bring numbers only.
    text_hint: usize,
}

impl Deliveries {
    pub fn push(&mut self, delivery: Delivery) {
        if let Some(other) = self.plain.absorb(delivery, self.text_hint) {
            self.rest.push(other);
        }
    }

    /// A GET's value as read off the socket: joined straight from there when it is UTF-8 and
    /// fits (get 20 KB at 256 in flight: one copy of the value and one UTF-8 pass fewer); the
    /// general way otherwise.
    pub fn push_session(&mut self, id: u32, bytes: &[u8]) {
        if !self.plain.join(id, bytes, self.text_hint) {
            self.push(Delivery::Reply(id, session_text(bytes.to_vec())));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.plain.nums.is_empty() && self.rest.is_empty()
    }

    /// `len` bytes were read: the values they complete are about as long (a value begun in an
    /// earlier read adds more; the text then grows).
    pub fn expect_text(&mut self, len: usize) {
        self.text_hint = len.min(MAX_JOINED_BYTES);
    }
}

impl From<Vec<Delivery>> for Deliveries {
    fn from(deliveries: Vec<Delivery>) -> Deliveries {
        let mut all = Deliveries::default();
        for delivery in deliveries {
            all.push(delivery);
        }
        all
    }
}

#[derive(Default)]
pub struct PlainReplies {
    pub nums: Vec<f64>,
    pub text: JoinedText,
}

impl PlainReplies {
    /// Takes `delivery` when it is a plain reply; gives it back otherwise.
    fn absorb(&mut self, delivery: Delivery, text_hint: usize) -> Option<Delivery> {
        match delivery {
            Delivery::Reply(id, Reply::Nil) => self.push(id, PlainReply::Nil, 0.0),
            Delivery::Reply(id, Reply::Int(n)) => self.push(id, PlainReply::Int, n as f64),
            // A `String` is UTF-8 already: only its room is checked.
            Delivery::Reply(id, Reply::Text(value)) if self.room_for(value.len(), text_hint) => {
                let units = self.text.push(&value);
                self.push(id, PlainReply::Text, units as f64);
            }
            other => return Some(other),
        }
        None
    }

    /// Joins `bytes` as `id`'s value; false (nothing joined) when they are not UTF-8 or there
    /// is no room for them.
    fn join(&mut self, id: u32, bytes: &[u8], text_hint: usize) -> bool {
        if !self.room_for(bytes.len(), text_hint) {
            return false;
        }
        match self.text.push_utf8(bytes) {
            Some(units) => {
                self.push(id, PlainReply::Text, units as f64);
                true
            }
            None => false,
        }
    }

    /// Whether `len` more bytes keep the text within MAX_JOINED_BYTES (far below V8's longest
    /// string); the first value joined reserves `text_hint` bytes.
    fn room_for(&mut self, len: usize, text_hint: usize) -> bool {
        if self.text.len() + len > MAX_JOINED_BYTES {
            return false;
        }
        if self.text.is_empty() {
            self.text.reserve(text_hint.max(len));
        }
        true
    }

    fn push(&mut self, id: u32, kind: PlainReply, number: f64) {
        self.nums
            .extend_from_slice(&[f64::from(id), kind as i32 as f64, number]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StoreError;

    #[test]
    fn plain_replies_are_flattened_and_the_rest_is_kept() {
        let deliveries = vec![
            Delivery::Reply(1, Reply::Text("{\"a\":1}".into())),
            Delivery::Reply(2, Reply::Nil),
            Delivery::Reply(3, Reply::Failed(StoreError::closed())),
            Delivery::Reply(4, Reply::Int(7)),
            Delivery::Reply(5, Reply::Text("é😀".into())),
        ];
        let Deliveries { plain, rest, .. } = Deliveries::from(deliveries);
        assert_eq!(
            plain.nums,
            vec![1.0, 2.0, 7.0, 2.0, 0.0, 0.0, 4.0, 1.0, 7.0, 5.0, 2.0, 3.0]
        );
        assert_eq!(plain.text.as_bytes(), "{\"a\":1}é😀".as_bytes());
        assert!(!plain.text.is_ascii());
        assert_eq!(rest.len(), 1);
        assert!(matches!(rest[0], Delivery::Reply(3, Reply::Failed(_))));
    }

    #[test]
    fn sessions_read_off_the_socket_are_joined_or_marked_corrupt() {
        let mut all = Deliveries::default();
        all.push_session(1, b"{\"a\":1}");
        all.push_session(2, b"\xff\xfe");
        all.push_session(3, "\"é😀\"".as_bytes());
        all.push_session(4, b"");
        let Deliveries { plain, rest, .. } = all;
        assert_eq!(
            plain.nums,
            vec![1.0, 2.0, 7.0, 3.0, 2.0, 5.0, 4.0, 2.0, 0.0]
        );
        assert_eq!(plain.text.as_bytes(), "{\"a\":1}\"é😀\"".as_bytes());
        assert!(!plain.text.is_ascii());
        assert_eq!(rest.len(), 1);
        assert!(matches!(rest[0], Delivery::Reply(2, Reply::Corrupt(_))));
    }

    #[test]
    fn sessions_past_the_joined_limit_take_the_general_way() {
        let big = "x".repeat(MAX_JOINED_BYTES / 2 + 1);
        let mut all = Deliveries::default();
        for id in 1..=2 {
            all.push_session(id, big.as_bytes());
        }
        assert_eq!(all.plain.nums.len(), 3);
        assert!(matches!(&all.rest[..], [Delivery::Reply(2, Reply::Text(t))] if *t == big));
    }

    #[test]
    fn values_past_the_joined_limit_take_the_general_way() {
        let big = "x".repeat(MAX_JOINED_BYTES / 2 + 1);
        let deliveries: Vec<Delivery> = (1..=3)
            .map(|id| Delivery::Reply(id, Reply::Text(big.clone())))
            .collect();
        let Deliveries { plain, rest, .. } = Deliveries::from(deliveries);
        assert_eq!(plain.nums.len(), 3);
        assert_eq!(plain.text.len(), big.len());
        assert_eq!(rest.len(), 2);
    }
}
