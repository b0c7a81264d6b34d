//! The native client's state on the main thread, shared by the `NativeClient` class and its raw
//! `submit` function (src/submit_fn.rs), which skips napi-rs's per-call class checks.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use napi::sys;
use napi::Result;

use crate::client::Client;
use crate::direct::{Direct, Retire};
use crate::outbox::Outbox;
use crate::sink::Sink;
use crate::spawn;
use crate::store;
use crate::submission::{self, Text};

/// Bytes of `submit`'s text buffer kept between calls.
const SCRATCH_KEPT: usize = 1 << 20;

pub struct NativeCore {
    pub client: Client,
    pub outbox: Arc<Outbox>,
    env: sys::napi_env,
    /// Delivers the main-thread connection's results; `None` where it cannot be used.
    sink: Option<Rc<Sink>>,
    direct: RefCell<Option<Direct>>,
    /// Where `submit` reads the turn's text.
    scratch: RefCell<Vec<u8>>,
}

impl NativeCore {
    pub fn new(
        client: Client,
        outbox: Arc<Outbox>,
        env: sys::napi_env,
        sink: Option<Rc<Sink>>,
    ) -> NativeCore {
        NativeCore {
            client,
            outbox,
            env,
            sink,
            direct: RefCell::new(None),
            scratch: RefCell::new(Vec::new()),
        }
    }

    /// Sends the operations of one tick: `nums` and the strings joined in `text` (a JS string),
    /// laid out as `submission.rs` describes.
    ///
    /// # Safety
    /// `env` is the main thread's env inside a JavaScript call and `text` a value in it.
    pub unsafe fn submit(
        &self,
        env: sys::napi_env,
        nums: &[f64],
        text: sys::napi_value,
    ) -> Result<()> {
        let units = unsafe { utf16_len(env, text)? };
        let mut scratch = self.scratch.borrow_mut();
        let whole = unsafe { read_utf8(env, text, units, &mut scratch)? };
        let decoded = match whole.then(|| Text::ascii(&scratch)).flatten() {
            Some(ascii) => submission::decode(nums, ascii),
            None => {
                let utf16 = unsafe { read_utf16(env, text, units)? };
                submission::decode(nums, Text::Utf16(&utf16))
            }
        };
        // A huge value once should not pin its buffer for the life of the client.
        scratch.clear();
        scratch.shrink_to(SCRATCH_KEPT);
        drop(scratch);
        let batch = decoded.map_err(|e| e.throw(&napi::Env::from_raw(env)))?;
        let batch = self.via_direct(batch);
        if batch.is_empty() {
            return Ok(());
        }
        spawn::batch(&self.client, &self.outbox, batch, None)
    }

    /// Drops a main-thread connection whose background connection is gone and attaches one
    /// that is ready.
    pub fn refresh(&self) {
        let Some(sink) = &self.sink else {
            return;
        };
        let generation = self.client.up_generation();
        let mut slot = self.direct.borrow_mut();
        if slot.as_ref().is_some_and(|d| !d.usable(generation)) {
            if let Some(stale) = slot.take() {
                stale.retire(Retire::Stale);
            }
        }
        if slot.is_none() {
            if let Some(ready) = self.client.take_direct() {
                *slot = Direct::attach(self.env, ready, &self.client, &self.outbox, sink);
            }
        }
    }

    pub fn close(&self) {
        if let Some(direct) = self.direct.borrow_mut().take() {
            direct.retire(Retire::Closed);
        }
        if let Some(sink) = &self.sink {
            sink.release();
        }
        self.client.close();
        self.outbox.close();
    }

    /// Writes `batch` on the main-thread connection when there is a usable one (attaching a
    /// newly opened one first); returns what must go to the background connection.
    fn via_direct(&self, batch: Vec<(u32, store::Op)>) -> Vec<(u32, store::Op)> {
        self.refresh();
        match self.direct.borrow().as_ref() {
            Some(direct) => direct.send(batch),
            None => batch,
        }
    }
}

fn not_a_string() -> napi::Error {
    napi::Error::new(
        napi::Status::StringExpected,
        "connect-redis-rs: submit() needs the operations' text as a string",
    )
}

/// The length of the string `text` in UTF-16 code units.
unsafe fn utf16_len(env: sys::napi_env, text: sys::napi_value) -> Result<usize> {
    let mut units = 0usize;
    let status =
        unsafe { sys::napi_get_value_string_utf16(env, text, std::ptr::null_mut(), 0, &mut units) };
    if status != sys::Status::napi_ok {
        return Err(not_a_string());
    }
    Ok(units)
}

/// Reads `text` (`units` UTF-16 code units long) into `buf` as UTF-8 in one call, as far as
/// `units` bytes go (all of it when it is ASCII, the usual case); tells whether it fit.
unsafe fn read_utf8(
    env: sys::napi_env,
    text: sys::napi_value,
    units: usize,
    buf: &mut Vec<u8>,
) -> Result<bool> {
    buf.clear();
    buf.reserve(units + 1);
    let mut written = 0usize;
    let status = unsafe {
        sys::napi_get_value_string_utf8(env, text, buf.as_mut_ptr().cast(), units + 1, &mut written)
    };
    if status != sys::Status::napi_ok {
        return Err(not_a_string());
    }
    // napi wrote `written` (≤ units) bytes and a terminating NUL into the reserved capacity.
    unsafe { buf.set_len(written.min(units)) };
    Ok(written == units)
}

unsafe fn read_utf16(env: sys::napi_env, text: sys::napi_value, units: usize) -> Result<Vec<u16>> {
    let mut out: Vec<u16> = Vec::with_capacity(units + 1);
    let mut written = 0usize;
    unsafe {
        if sys::napi_get_value_string_utf16(env, text, out.as_mut_ptr(), units + 1, &mut written)
            != sys::Status::napi_ok
        {
            return Err(not_a_string());
        }
        out.set_len(written.min(units));
    }
    Ok(out)
}
