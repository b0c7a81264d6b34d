#![deny(clippy::all)]
//! napi exports only: the native client the JavaScript shim drives, and the constants it shares.

mod bulk;
mod client;
mod commands;
mod connection;
mod direct;
mod direct_open;
mod entries;
mod error;
mod joined_text;
mod key_set;
mod keys;
mod mode;
mod napi_values;
mod native_core;
mod options;
#[cfg(test)]
mod options_fuzz;
mod outbox;
mod plain_replies;
mod raw;
mod read_buffer;
mod resp;
mod runtime;
mod scan;
mod sink;
mod spawn;
mod store;
mod submission;
mod submit_fn;
mod tls_options;
mod uv;

use std::rc::Rc;

use napi::bindgen_prelude::{Function, Object};
use napi::{Env, JsValue, Result};
use napi_derive::napi;

use crate::bulk::Bulk;
use crate::client::Client;
use crate::error::StoreError;
use crate::native_core::NativeCore;
use crate::options::RawOptions;
use crate::outbox::{Batch, Outbox};
use crate::sink::Sink;

/// Operation kinds in the flat array given to `NativeClient.submit`.
#[napi]
pub enum OpKind {
    Get = 1,
    Set = 2,
    Touch = 3,
    Destroy = 4,
}

/// In the flat array given to `submit`, the prefix length that stands for the previous
/// operation's prefix (src/submission.rs).
#[napi]
pub const SAME_PREFIX: i32 = -1;

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
    core: Rc<NativeCore>,
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
            core: Rc::new(NativeCore::new(client, outbox, env.raw(), sink)),
        })
    }

    /// `host:port` or the socket path.
    #[napi(getter, catch_unwind)]
    pub fn address(&self) -> String {
        self.core.client.address().to_string()
    }

    /// Whether a connection is established right now.
    #[napi(getter, catch_unwind)]
    pub fn connected(&self) -> bool {
        self.core.client.is_connected()
    }

    /// The function that sends the operations of one tick as one pipeline:
    /// `submit(nums, count, text)`, the first `count` numbers of `nums` and the strings joined in
    /// `text`, laid out as `submission.rs` describes.
    #[napi(
        ts_return_type = "(nums: Float64Array, count: number, text: string) => void",
        catch_unwind
    )]
    pub fn submitter(&self, env: Env) -> Result<napi::Unknown<'static>> {
        let function = unsafe { submit_fn::create(env.raw(), self.core.clone())? };
        Ok(unsafe { napi::Unknown::from_raw_unchecked(env.raw(), function) })
    }

    /// Starts a bulk operation (`BulkKind`) over every session under `prefix`.
    #[napi(catch_unwind)]
    pub fn bulk(&self, id: u32, kind: BulkKind, prefix: String, scan_count: u32) -> Result<()> {
        let bulk = match kind {
            BulkKind::Ids => Bulk::Ids,
            BulkKind::All => Bulk::All,
            BulkKind::Clear => Bulk::Clear,
        };
        let client = self.core.client.clone();
        let outbox = self.core.outbox.clone();
        spawn::guarded(vec![id], self.core.outbox.clone(), async move {
            bulk::run(client, id, bulk, prefix, scan_count.max(1), &outbox).await
        })
    }

    /// Drops a main-thread connection whose background connection is gone and attaches one
    /// that is ready (the shim calls this on `disconnect` and `DirectReady`).
    #[napi(catch_unwind)]
    pub fn refresh(&self) {
        self.core.refresh();
    }

    /// Whether in-flight operations keep the process alive; the shim turns this on while any
    /// operation is pending.
    #[napi(catch_unwind)]
    pub fn keep_alive(&self, env: Env, on: bool) -> Result<()> {
        self.core.outbox.keep_alive(&env, on)
    }

    /// Closes the connection; later operations fail with `ERR_REDIS_CLOSED`.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.core.close();
    }
}
