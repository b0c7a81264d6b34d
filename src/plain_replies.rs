//! The main-thread connection's plain replies (a value, a number or nil) handed to JavaScript
//! without a napi call per value: `[id, kind, number or length, …]` in one reused
//! `Float64Array`, and every value joined into one string that JavaScript slices. Measured
//! with callgrind: building a JS array of `[id, status, value]` cost about 3,100 instructions
//! per `get` in `napi_set_element` alone, more than the rest of the Rust side together.

use crate::outbox::{Delivery, Reply};
use crate::PlainReply;

const MAX_JOINED_BYTES: usize = 64 << 20;

#[derive(Default)]
pub struct PlainReplies {
    pub nums: Vec<f64>,
    pub text: Vec<u8>,
    /// Whether `text` is all ASCII (then its UTF-16 length is its byte length).
    pub ascii: bool,
}

impl PlainReplies {
    /// Takes the plain replies out of `deliveries`; what is left goes the general way.
    pub fn split(deliveries: Vec<Delivery>) -> (PlainReplies, Vec<Delivery>) {
        let mut plain = PlainReplies {
            nums: Vec::with_capacity(deliveries.len() * 3),
            text: Vec::new(),
            ascii: true,
        };
        let mut rest = Vec::new();
        for delivery in deliveries {
            match delivery {
                Delivery::Reply(id, Reply::Nil) => plain.push(id, PlainReply::Nil, 0.0),
                Delivery::Reply(id, Reply::Int(n)) => plain.push(id, PlainReply::Int, n as f64),
                // Far below V8's longest string; larger reads take the general way.
                Delivery::Reply(id, Reply::Text(value))
                    if plain.text.len() + value.len() <= MAX_JOINED_BYTES =>
                {
                    let units = if value.is_ascii() {
                        value.len()
                    } else {
                        plain.ascii = false;
                        value.encode_utf16().count()
                    };
                    plain.text.extend_from_slice(value.as_bytes());
                    plain.push(id, PlainReply::Text, units as f64);
                }
                other => rest.push(other),
            }
        }
        (plain, rest)
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
        let (plain, rest) = PlainReplies::split(deliveries);
        assert_eq!(
            plain.nums,
            vec![1.0, 2.0, 7.0, 2.0, 0.0, 0.0, 4.0, 1.0, 7.0, 5.0, 2.0, 3.0]
        );
        assert_eq!(plain.text, "{\"a\":1}é😀".as_bytes());
        assert!(!plain.ascii);
        assert_eq!(rest.len(), 1);
        assert!(matches!(rest[0], Delivery::Reply(3, Reply::Failed(_))));
    }

    #[test]
    fn values_past_the_joined_limit_take_the_general_way() {
        let big = "x".repeat(MAX_JOINED_BYTES / 2 + 1);
        let deliveries = (1..=3)
            .map(|id| Delivery::Reply(id, Reply::Text(big.clone())))
            .collect();
        let (plain, rest) = PlainReplies::split(deliveries);
        assert_eq!(plain.nums.len(), 3);
        assert_eq!(plain.text.len(), big.len());
        assert_eq!(rest.len(), 2);
    }
}
