//! Strings joined into one that JavaScript slices (the main-thread connection's reply values,
//! all()'s ids and values): one napi string for many values.

use napi::sys;

use crate::napi_values::check;

#[derive(Debug)]
pub struct JoinedText {
    bytes: Vec<u8>,
    /// Whether every string is ASCII: then a string's UTF-16 length is its byte length, and V8
    /// takes the bytes as Latin-1 without decoding them.
    ascii: bool,
}

impl Default for JoinedText {
    fn default() -> JoinedText {
        JoinedText::with_capacity(0)
    }
}

impl JoinedText {
    pub fn with_capacity(bytes: usize) -> JoinedText {
        JoinedText {
            bytes: Vec::with_capacity(bytes),
            ascii: true,
        }
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn reserve(&mut self, bytes: usize) {
        self.bytes.reserve(bytes);
    }

    /// Appends `text`; returns its length in UTF-16 code units, what JavaScript slices by.
    pub fn push(&mut self, text: &str) -> usize {
        if text.is_ascii() {
            self.push_ascii(text.as_bytes())
        } else {
            self.push_other(text)
        }
    }

    /// Appends `bytes` when they are UTF-8, as `push` does; `None` (and nothing appended) when
    /// they are not. ASCII, nearly every session, is checked in one pass, not validated twice.
    pub fn push_utf8(&mut self, bytes: &[u8]) -> Option<usize> {
        if bytes.is_ascii() {
            return Some(self.push_ascii(bytes));
        }
        std::str::from_utf8(bytes)
            .ok()
            .map(|text| self.push_other(text))
    }

    fn push_ascii(&mut self, bytes: &[u8]) -> usize {
        self.bytes.extend_from_slice(bytes);
        bytes.len()
    }

    fn push_other(&mut self, text: &str) -> usize {
        self.ascii = false;
        self.bytes.extend_from_slice(text.as_bytes());
        text.encode_utf16().count()
    }

    #[cfg(test)]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    #[cfg(test)]
    pub fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// # Safety
    /// `env` is the live env of the calling (main) thread.
    pub unsafe fn to_js(&self, env: sys::napi_env) -> napi::Result<sys::napi_value> {
        let mut out = std::ptr::null_mut();
        let (ptr, len) = (self.bytes.as_ptr().cast(), self.bytes.len() as isize);
        let status = unsafe {
            if self.ascii {
                sys::napi_create_string_latin1(env, ptr, len, &mut out)
            } else {
                sys::napi_create_string_utf8(env, ptr, len, &mut out)
            }
        };
        check(status, "create a string")?;
        Ok(out)
    }
}
