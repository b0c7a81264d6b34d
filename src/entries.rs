//! A part of `all()`'s result as JavaScript receives it: the session ids joined into one
//! string and the raw values into another, with each one's length, so that a part of hundreds
//! of sessions costs a few napi calls instead of two strings and two array stores per session
//! (lib/native-driver.js slices them).

use napi::sys;

use crate::error::StoreError;

#[derive(Debug)]
pub struct Entries {
    sids: Vec<u8>,
    raws: Vec<u8>,
    /// Per entry: the sid's length and the value's, in UTF-16 code units (what JavaScript
    /// slices by); -1 for a value that is not UTF-8, whose error is next in `corrupt`.
    lengths: Vec<f64>,
    corrupt: Vec<StoreError>,
    ascii: bool,
}

impl Default for Entries {
    fn default() -> Entries {
        Entries {
            sids: Vec::new(),
            raws: Vec::new(),
            lengths: Vec::new(),
            corrupt: Vec::new(),
            ascii: true,
        }
    }
}

impl Entries {
    pub fn with_capacity(entries: usize, value_bytes: usize) -> Entries {
        Entries {
            sids: Vec::with_capacity(entries * 32),
            raws: Vec::with_capacity(value_bytes),
            lengths: Vec::with_capacity(entries * 2),
            ..Entries::default()
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
        let sid_units = self.units(sid);
        self.sids.extend_from_slice(sid.as_bytes());
        let value_units = match std::str::from_utf8(value) {
            Ok(text) => {
                let units = self.units(text);
                self.raws.extend_from_slice(value);
                units as f64
            }
            Err(_) => {
                self.corrupt.push(StoreError::corrupt("not valid UTF-8"));
                -1.0
            }
        };
        self.lengths
            .extend_from_slice(&[sid_units as f64, value_units]);
    }

    fn units(&mut self, text: &str) -> usize {
        if text.is_ascii() {
            text.len()
        } else {
            self.ascii = false;
            text.encode_utf16().count()
        }
    }

    /// `[sids, raws, lengths (a Float64Array), errors of the values that are not UTF-8]`.
    ///
    /// # Safety
    /// `env` is the live env of the main thread.
    pub unsafe fn to_js(&self, env: sys::napi_env) -> napi::Result<sys::napi_value> {
        unsafe {
            let sids = self.string(env, &self.sids)?;
            let raws = self.string(env, &self.raws)?;
            let lengths = float64_array(env, &self.lengths)?;
            let mut errors = std::ptr::null_mut();
            check(sys::napi_create_array_with_length(
                env,
                self.corrupt.len(),
                &mut errors,
            ))?;
            for (i, err) in self.corrupt.iter().enumerate() {
                check(sys::napi_set_element(
                    env,
                    errors,
                    i as u32,
                    err.to_js(env)?,
                ))?;
            }
            let mut part = std::ptr::null_mut();
            check(sys::napi_create_array_with_length(env, 4, &mut part))?;
            for (i, value) in [sids, raws, lengths, errors].into_iter().enumerate() {
                check(sys::napi_set_element(env, part, i as u32, value))?;
            }
            Ok(part)
        }
    }

    unsafe fn string(&self, env: sys::napi_env, bytes: &[u8]) -> napi::Result<sys::napi_value> {
        let mut out = std::ptr::null_mut();
        let (ptr, len) = (bytes.as_ptr().cast(), bytes.len() as isize);
        check(unsafe {
            if self.ascii {
                sys::napi_create_string_latin1(env, ptr, len, &mut out)
            } else {
                sys::napi_create_string_utf8(env, ptr, len, &mut out)
            }
        })?;
        Ok(out)
    }
}

unsafe fn float64_array(env: sys::napi_env, values: &[f64]) -> napi::Result<sys::napi_value> {
    let mut data = std::ptr::null_mut();
    let mut buffer = std::ptr::null_mut();
    let mut array = std::ptr::null_mut();
    unsafe {
        check(sys::napi_create_arraybuffer(
            env,
            std::mem::size_of_val(values),
            &mut data,
            &mut buffer,
        ))?;
        if !values.is_empty() {
            std::ptr::copy_nonoverlapping(values.as_ptr(), data.cast(), values.len());
        }
        check(sys::napi_create_typedarray(
            env,
            sys::TypedarrayType::float64_array,
            values.len(),
            buffer,
            0,
            &mut array,
        ))?;
    }
    Ok(array)
}

fn check(status: sys::napi_status) -> napi::Result<()> {
    match status {
        sys::Status::napi_ok => Ok(()),
        _ => Err(napi::Error::new(
            napi::Status::GenericFailure,
            "could not build all()'s part",
        )),
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
        assert_eq!(part.raws, "{\"x\":1}\"😀\"".as_bytes());
        assert_eq!(part.sids, "abé".as_bytes());
        assert_eq!(part.corrupt.len(), 1);
        assert!(!part.ascii);
    }
}
