//! A part of `all()`'s result as JavaScript receives it: the session ids joined into one
//! string and the raw values into another, with each one's length, so that a part of hundreds
//! of sessions costs a few napi calls instead of two strings and two array stores per session
//! (lib/native-driver.js slices them).

use napi::sys;

use crate::error::StoreError;
use crate::joined_text::JoinedText;
use crate::napi_values::{float64_array, new_array, set};

#[derive(Debug, Default)]
pub struct Entries {
    sids: JoinedText,
    raws: JoinedText,
    /// Per entry: the sid's length and the value's, in UTF-16 code units (what JavaScript
    /// slices by); -1 for a value that is not UTF-8, whose error is next in `corrupt`.
    lengths: Vec<f64>,
    corrupt: Vec<StoreError>,
}

impl Entries {
    pub fn with_capacity(entries: usize, value_bytes: usize) -> Entries {
        Entries {
            sids: JoinedText::with_capacity(entries * 32),
            raws: JoinedText::with_capacity(value_bytes),
            lengths: Vec::with_capacity(entries * 2),
            corrupt: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.lengths.len() / 2
    }

    /// The bytes of the values joined so far.
    pub fn value_bytes(&self) -> usize {
        self.raws.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// Adds the session `sid` stored as `value`.
    pub fn push(&mut self, sid: &str, value: &[u8]) {
        let sid_units = self.sids.push(sid) as f64;
        let value_units = match self.raws.push_utf8(value) {
            Some(units) => units as f64,
            None => {
                self.corrupt.push(StoreError::not_utf8());
                -1.0
            }
        };
        self.lengths.extend_from_slice(&[sid_units, value_units]);
    }

    /// `[sids, raws, lengths (a Float64Array), errors of the values that are not UTF-8]`.
    ///
    /// # Safety
    /// `env` is the live env of the main thread.
    pub unsafe fn to_js(&self, env: sys::napi_env) -> napi::Result<sys::napi_value> {
        unsafe {
            let sids = self.sids.to_js(env)?;
            let raws = self.raws.to_js(env)?;
            let (lengths, numbers) = float64_array(env, self.lengths.len())?;
            if !self.lengths.is_empty() {
                std::ptr::copy_nonoverlapping(self.lengths.as_ptr(), numbers, self.lengths.len());
            }
            let errors = new_array(env, self.corrupt.len())?;
            for (i, err) in self.corrupt.iter().enumerate() {
                set(env, errors, i as u32, err.to_js(env)?)?;
            }
            let part = new_array(env, 4)?;
            for (i, value) in [sids, raws, lengths, errors].into_iter().enumerate() {
                set(env, part, i as u32, value)?;
            }
            Ok(part)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_utf16_units_and_bad_values_are_marked() {
        let mut part = Entries::default();
        part.push("a", b"{\"x\":1}");
        part.push("b", b"\xff");
        part.push("é", "\"😀\"".as_bytes());
        assert_eq!(part.len(), 3);
        assert_eq!(part.lengths, vec![1.0, 7.0, 1.0, -1.0, 1.0, 4.0]);
        assert_eq!(part.raws.as_bytes(), "{\"x\":1}\"😀\"".as_bytes());
        assert_eq!(part.sids.as_bytes(), "abé".as_bytes());
        assert_eq!(part.corrupt.len(), 1);
        assert!(!part.sids.is_ascii() && !part.raws.is_ascii());
    }
}
