//! The one way results and connection events get back to JavaScript: everything finished on
//! tokio is queued here and delivered in batches through one long-lived threadsafe function,
//! so a tick's worth of replies costs one crossing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use napi::bindgen_prelude::{Null, ToNapiValue};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Env, Status};

use crate::entries::Entries;
use crate::error::StoreError;
use crate::napi_values::{new_array, set};
use crate::Delivered;

/// The outcome of one operation.
#[derive(Debug)]
pub enum Reply {
    Nil,
    Text(String),
    Int(i64),
    /// A stored value that is not UTF-8: delivered as an error for the `'corrupt'` event.
    Corrupt(StoreError),
    Ids(Vec<String>),
    /// The sessions of `all()`: the last part.
    Entries(Entries),
    /// A part of `all()`'s entries with more to come, so that no single crossing stalls the
    /// event loop.
    EntriesPart(Entries),
    Failed(StoreError),
}

/// A change of the connection's state.
#[derive(Debug)]
pub enum Event {
    Connect,
    Disconnect(StoreError),
    DirectReady,
}

#[derive(Debug)]
pub enum Delivery {
    Reply(u32, Reply),
    Event(Event),
}

/// The deliveries of one crossing, encoded as a flat array `[id, status, payload, …]`:
/// id > 0 is a reply (status `Delivered::Ok`, `Error` or `Corrupt`); id 0 is an event
/// (`Delivered::Connect`, or `Disconnect` with an error).
pub struct Batch(pub Vec<Delivery>);

const STATUS_OK: u32 = Delivered::Ok as u32;
const STATUS_ERROR: u32 = Delivered::Error as u32;
const STATUS_CORRUPT: u32 = Delivered::Corrupt as u32;
const STATUS_PARTIAL: u32 = Delivered::Partial as u32;

/// About how many values one crossing hands JavaScript before the rest waits for the next one.
const VALUES_PER_CROSSING: usize = 4_000;
const EVENT_CONNECT: u32 = Delivered::Connect as u32;
const EVENT_DISCONNECT: u32 = Delivered::Disconnect as u32;
const EVENT_DIRECT_READY: u32 = Delivered::DirectReady as u32;

pub type Notifier = ThreadsafeFunction<(), (), Batch, Status, false, true>;

pub struct Outbox {
    queue: Mutex<VecDeque<Delivery>>,
    notifier: Mutex<Option<Notifier>>,
    /// Signalled when JavaScript has taken everything queued.
    emptied: tokio::sync::Notify,
}

impl Delivery {
    /// How many JavaScript values this delivery makes, roughly.
    fn weight(&self) -> usize {
        match self {
            Delivery::Reply(_, Reply::Entries(items) | Reply::EntriesPart(items)) => {
                2 * items.len()
            }
            Delivery::Reply(_, Reply::Ids(ids)) => ids.len(),
            _ => 1,
        }
    }
}

/// Locks `m`, also after a panic elsewhere while it was held: every value guarded this way is
/// replaced or appended whole, never left half-written, so keep going.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Outbox {
    /// `make_notifier` receives the outbox that the JavaScript-side callback drains.
    pub fn new(
        make_notifier: impl FnOnce(Weak<Outbox>) -> napi::Result<Notifier>,
    ) -> napi::Result<Arc<Outbox>> {
        let outbox = Arc::new(Outbox {
            queue: Mutex::new(VecDeque::new()),
            notifier: Mutex::new(None),
            emptied: tokio::sync::Notify::new(),
        });
        let notifier = make_notifier(Arc::downgrade(&outbox))?;
        *lock(&outbox.notifier) = Some(notifier);
        Ok(outbox)
    }

    /// What one crossing delivers: about `VALUES_PER_CROSSING` values; the rest waits for the
    /// next crossing, which this schedules.
    pub fn drain(outbox: &Weak<Outbox>) -> Batch {
        let Some(outbox) = outbox.upgrade() else {
            return Batch(Vec::new());
        };
        let mut queue = lock(&outbox.queue);
        let mut taken = Vec::new();
        let mut weight = 0;
        while let Some(next) = queue.front() {
            if !taken.is_empty() && weight + next.weight() > VALUES_PER_CROSSING {
                break;
            }
            weight += next.weight();
            taken.extend(queue.pop_front());
        }
        let more = !queue.is_empty();
        drop(queue);
        if more {
            outbox.wake();
        } else {
            outbox.emptied.notify_waiters();
        }
        Batch(taken)
    }

    /// Waits until JavaScript has taken everything queued, or `limit` has passed (its event
    /// loop is held up elsewhere, or it is gone), or the outbox is closed.
    pub async fn taken(&self, limit: Duration) {
        let wait = async {
            loop {
                let emptied = self.emptied.notified();
                if lock(&self.queue).is_empty() || lock(&self.notifier).is_none() {
                    return;
                }
                emptied.await;
            }
        };
        let _ = tokio::time::timeout(limit, wait).await;
    }

    fn wake(&self) {
        if let Some(notifier) = lock(&self.notifier).as_ref() {
            notifier.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    pub fn reply(&self, id: u32, reply: Reply) {
        self.push(std::iter::once(Delivery::Reply(id, reply)));
    }

    pub fn event(&self, event: Event) {
        self.push(std::iter::once(Delivery::Event(event)));
    }

    pub fn push(&self, deliveries: impl IntoIterator<Item = Delivery>) {
        let mut deliveries = deliveries.into_iter().peekable();
        if deliveries.peek().is_none() {
            return;
        }
        let was_empty = {
            let mut queue = lock(&self.queue);
            let was_empty = queue.is_empty();
            queue.extend(deliveries);
            was_empty
        };
        // Only the first delivery of a batch wakes JavaScript; later ones ride along.
        if was_empty {
            self.wake();
        }
    }

    /// Whether in-flight work keeps the Node.js process alive (main thread only).
    #[allow(deprecated)] // napi-rs deprecates refer/unref in favour of clones, which cannot toggle
    pub fn keep_alive(&self, env: &Env, on: bool) -> napi::Result<()> {
        match lock(&self.notifier).as_mut() {
            Some(notifier) if on => notifier.refer(env),
            Some(notifier) => notifier.unref(env),
            None => Ok(()),
        }
    }

    /// Stops deliveries; whatever is already queued still reaches JavaScript first.
    pub fn close(&self) {
        let notifier = lock(&self.notifier).take();
        if let Some(notifier) = notifier {
            if !lock(&self.queue).is_empty() {
                notifier.call((), ThreadsafeFunctionCallMode::NonBlocking);
            }
            drop(notifier);
        }
        self.emptied.notify_waiters();
    }
}

unsafe fn strings(env: sys::napi_env, items: Vec<String>) -> napi::Result<sys::napi_value> {
    let array = unsafe { new_array(env, items.len())? };
    for (i, item) in items.into_iter().enumerate() {
        unsafe { set(env, array, i as u32, String::to_napi_value(env, item)?)? };
    }
    Ok(array)
}

unsafe fn payload(env: sys::napi_env, reply: Reply) -> napi::Result<(u32, sys::napi_value)> {
    unsafe {
        Ok(match reply {
            Reply::Nil => (STATUS_OK, Null::to_napi_value(env, Null)?),
            Reply::Text(s) => (STATUS_OK, String::to_napi_value(env, s)?),
            Reply::Int(n) => (STATUS_OK, f64::to_napi_value(env, n as f64)?),
            Reply::Ids(ids) => (STATUS_OK, strings(env, ids)?),
            Reply::Entries(items) => (STATUS_OK, items.to_js(env)?),
            Reply::EntriesPart(items) => (STATUS_PARTIAL, items.to_js(env)?),
            Reply::Corrupt(err) => (STATUS_CORRUPT, err.to_js(env)?),
            Reply::Failed(err) => (STATUS_ERROR, err.to_js(env)?),
        })
    }
}

impl ToNapiValue for Batch {
    unsafe fn to_napi_value(env: sys::napi_env, batch: Self) -> napi::Result<sys::napi_value> {
        let array = unsafe { new_array(env, batch.0.len() * 3)? };
        for (i, delivery) in batch.0.into_iter().enumerate() {
            let (id, status, value) = match delivery {
                Delivery::Reply(id, reply) => {
                    let (status, value) = unsafe { payload(env, reply)? };
                    (id, status, value)
                }
                Delivery::Event(Event::Connect) => {
                    (0, EVENT_CONNECT, unsafe { Null::to_napi_value(env, Null)? })
                }
                Delivery::Event(Event::DirectReady) => (0, EVENT_DIRECT_READY, unsafe {
                    Null::to_napi_value(env, Null)?
                }),
                Delivery::Event(Event::Disconnect(err)) => {
                    (0, EVENT_DISCONNECT, unsafe { err.to_js(env)? })
                }
            };
            let base = (3 * i) as u32;
            unsafe {
                set(env, array, base, u32::to_napi_value(env, id)?)?;
                set(env, array, base + 1, u32::to_napi_value(env, status)?)?;
                set(env, array, base + 2, value)?;
            }
        }
        Ok(array)
    }
}
