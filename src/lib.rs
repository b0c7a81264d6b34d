#![deny(clippy::all)]
//! napi exports only: the native client the JavaScript shim drives, and the constants it shares.

mod client;
mod commands;
mod connection;
mod direct;
mod direct_open;
mod error;
mod keys;
mod mode;
mod options;
#[cfg(test)]
mod options_fuzz;
mod outbox;
mod plain_replies;
mod raw;
mod resp;
mod runtime;
mod scan;
mod sink;
mod spawn;
mod store;
mod submission;
mod tls_options;
mod uv;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::{Float64ArraySlice, Function, Object};
use napi::{Env, JsString, JsValue, Result};
use napi_derive::napi;

use crate::client::Client;
use crate::direct::{Direct, Retire};
use crate::error::StoreError;
use crate::options::RawOptions;
use crate::outbox::{Batch, Outbox};
use crate::sink::Sink;
use crate::store::Bulk;
use crate::submission::Text;

/// Operation kinds in the flat array given to `NativeClient.submit`.
#[napi]
pub enum OpKind {
    Get = 1,
    Set = 2,
    Touch = 3,
    Destroy = 4,
}

/// Bulk operation kinds for `NativeClient.bulk`.
#[napi]
pub enum BulkKind {
    Ids = 1,
    All = 2,
    Clear = 3,
}

/// What the numbers of a plain reply say (src/plain_replies.rs): `[id, kind, n]` where n is
/// the number (`Int`) or the value's length in the joined text (`Text`).
#[napi]
pub enum PlainReply {
    Nil = 0,
    Int = 1,
    Text = 2,
}

/// Statuses and event kinds in the flat array delivered to the batch callback.
#[napi]
pub enum Delivered {
    Ok = 0,
    Error = 1,
    Corrupt = 2,
    /// A part of a result (`all()`), more follows under the same id.
    Partial = 3,
    Connect = 11,
    Disconnect = 12,
    /// A main-thread connection is ready: the shim calls `refresh()` to start using it.
    DirectReady = 13,
}

/// The store's defaults, in one place.
#[napi(object)]
pub struct Defaults {
    pub prefix: String,
    /// Seconds, when neither `ttl` nor the cookie gives one.
    pub ttl: u32,
    pub scan_count: u32,
    /// The most keys a single MGET / DEL / UNLINK carries.
    pub max_keys_per_command: u32,
}

/// The store's defaults.
#[napi(catch_unwind)]
pub fn defaults() -> Defaults {
    Defaults {
        prefix: keys::DEFAULT_PREFIX.to_string(),
        ttl: keys::DEFAULT_TTL_SECONDS,
        scan_count: keys::DEFAULT_SCAN_COUNT,
        max_keys_per_command: keys::MAX_KEYS_PER_COMMAND as u32,
    }
}

/// The Redis key of session `sid` under `prefix`.
#[napi(catch_unwind)]
pub fn session_key(prefix: String, sid: String) -> String {
    // Both are valid UTF-8, so their concatenation is too.
    String::from_utf8_lossy(&keys::session_key(&prefix, &sid)).into_owned()
}

/// Splits keys into the groups one multi-key command (DEL, MGET, UNLINK) may carry: at most
/// `maxKeysPerCommand` keys, and with `bySlot` (a cluster) never two hash slots in one group.
/// `slotPrefix` (a client's own key prefix) is prepended only to compute the slot.
#[napi(catch_unwind)]
pub fn key_groups(
    keys: Vec<String>,
    by_slot: bool,
    slot_prefix: Option<String>,
) -> Vec<Vec<String>> {
    let prefix = slot_prefix.unwrap_or_default();
    let slot_of = |i: usize| keys::slot(&keys::session_key(&prefix, &keys[i]));
    keys::group_indices(keys.len(), by_slot.then_some(slot_of))
        .into_iter()
        .map(|group| group.into_iter().map(|i| keys[i].clone()).collect())
        .collect()
}

/// The SCAN MATCH pattern for every session under `prefix` (glob characters escaped).
#[napi(catch_unwind)]
pub fn scan_pattern(prefix: String) -> String {
    keys::scan_pattern(&prefix)
}

/// The error every operation gets after the client was closed.
#[napi(ts_return_type = "Error", catch_unwind)]
pub fn closed_error(env: Env) -> Result<napi::Unknown<'static>> {
    let value = unsafe { StoreError::closed().to_js(env.raw())? };
    Ok(unsafe { napi::Unknown::from_raw_unchecked(env.raw(), value) })
}

/// Checks connection options and throws a `TypeError` naming the first bad one.
#[napi(catch_unwind)]
pub fn check_connection_options(env: Env, options: Option<Object>) -> Result<()> {
    settings(&env, options.as_ref()).map(|_| ())
}

fn settings(env: &Env, options: Option<&Object>) -> Result<options::Settings> {
    let raw = match options {
        Some(object) => RawOptions::from_js(object)?,
        None => RawOptions::default(),
    };
    options::resolve(&raw).map_err(|e| e.throw(env))
}

/// One connection to Redis, shared by every store built on it. Results come back in batches
/// through the callback given to the constructor.
#[napi]
pub struct NativeClient {
    client: Client,
    outbox: Arc<Outbox>,
    env: napi::sys::napi_env,
    /// Delivers the main-thread connection's results; `None` where it cannot be used.
    sink: Option<Rc<Sink>>,
    direct: RefCell<Option<Direct>>,
    /// Where `submit` reads the turn's text.
    scratch: RefCell<Vec<u8>>,
}

#[napi]
impl NativeClient {
    /// Checks the options (a `TypeError` names a bad one) and starts connecting in the
    /// background.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        options: Option<Object>,
        #[napi(
            ts_arg_type = "(batch: unknown[] | undefined, nums?: Float64Array, count?: number, text?: string) => void"
        )]
        on_batch: Function<'_, Batch, ()>,
    ) -> Result<Self> {
        let settings = settings(&env, options.as_ref())?;
        let sink = direct::available()
            .then(|| unsafe { Sink::new(env.raw(), on_batch.raw()) })
            .flatten()
            .map(Rc::new);
        let outbox = Outbox::new(|queue| {
            on_batch
                .build_threadsafe_function::<()>()
                .weak::<true>()
                .callee_handled::<false>()
                .build_callback(move |_| Ok(Outbox::drain(&queue)))
        })?;
        let client =
            Client::start(settings, outbox.clone(), runtime::get()?).map_err(|e| e.throw(&env))?;
        Ok(NativeClient {
            client,
            outbox,
            env: env.raw(),
            sink,
            direct: RefCell::new(None),
            scratch: RefCell::new(Vec::new()),
        })
    }

    /// `host:port` or the socket path.
    #[napi(getter, catch_unwind)]
    pub fn address(&self) -> String {
        self.client.address().to_string()
    }

    /// Whether a connection is established right now.
    #[napi(getter, catch_unwind)]
    pub fn connected(&self) -> bool {
        self.client.is_connected()
    }

    /// Sends the operations of one tick as one pipeline: the first `count` numbers of `nums`
    /// and the strings joined in `text`, laid out as `submission.rs` describes.
    #[napi(catch_unwind)]
    pub fn submit(
        &self,
        env: Env,
        nums: Float64ArraySlice,
        count: u32,
        text: JsString,
    ) -> Result<()> {
        let nums = nums.get(..count as usize).unwrap_or(&nums);
        let mut scratch = self.scratch.borrow_mut();
        let decoded = if read_ascii(&env, &text, &mut scratch)? {
            submission::decode(nums, Text::Ascii(&scratch))
        } else {
            submission::decode(nums, Text::Utf16(text.into_utf16()?.as_slice()))
        };
        // A huge value once should not pin its buffer for the life of the client.
        scratch.clear();
        scratch.shrink_to(SCRATCH_KEPT);
        drop(scratch);
        let batch = decoded.map_err(|e| e.throw(&env))?;
        let batch = self.via_direct(batch);
        if batch.is_empty() {
            return Ok(());
        }
        spawn::batch(&self.client, &self.outbox, batch, None)
    }

    /// Starts a bulk operation (`BulkKind`) over every session under `prefix`.
    #[napi(catch_unwind)]
    pub fn bulk(&self, id: u32, kind: BulkKind, prefix: String, scan_count: u32) -> Result<()> {
        let bulk = match kind {
            BulkKind::Ids => Bulk::Ids,
            BulkKind::All => Bulk::All,
            BulkKind::Clear => Bulk::Clear,
        };
        let client = self.client.clone();
        let outbox = self.outbox.clone();
        spawn::guarded(vec![id], self.outbox.clone(), async move {
            store::run_bulk(client, id, bulk, prefix, scan_count.max(1), &outbox).await
        })
    }

    /// Drops a main-thread connection whose background connection is gone and attaches one
    /// that is ready (the shim calls this on `disconnect` and `DirectReady`).
    #[napi(catch_unwind)]
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

    /// Whether in-flight operations keep the process alive; the shim turns this on while any
    /// operation is pending.
    #[napi(catch_unwind)]
    pub fn keep_alive(&self, env: Env, on: bool) -> Result<()> {
        self.outbox.keep_alive(&env, on)
    }

    /// Closes the connection; later operations fail with `ERR_REDIS_CLOSED`.
    #[napi(catch_unwind)]
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
}

/// Bytes of `submit`'s text buffer kept between calls.
const SCRATCH_KEPT: usize = 1 << 20;

/// Reads `text` into `buf` as UTF-8 in one call and tells whether it is all ASCII (the usual
/// case: then its UTF-16 lengths are byte lengths). Otherwise `buf` holds only a prefix.
fn read_ascii(env: &Env, text: &JsString, buf: &mut Vec<u8>) -> Result<bool> {
    let units = text.utf16_len()?;
    buf.clear();
    buf.reserve(units + 1);
    let mut written = 0usize;
    let status = unsafe {
        napi::sys::napi_get_value_string_utf8(
            env.raw(),
            text.raw(),
            buf.as_mut_ptr().cast(),
            units + 1,
            &mut written,
        )
    };
    if status != napi::sys::Status::napi_ok {
        return Err(napi::Error::new(
            napi::Status::StringExpected,
            "connect-redis-rs: submit() needs the operations' text as a string",
        ));
    }
    // napi wrote `written` (≤ units) bytes and a terminating NUL into the reserved capacity.
    unsafe { buf.set_len(written.min(units)) };
    Ok(written == units && buf.is_ascii())
}

impl NativeClient {
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
