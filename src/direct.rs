//! The main-thread connection (DESIGN.md's design C): a non-blocking socket that Node's own
//! libuv loop polls. `submit` writes a tick's commands straight to it and each read delivers
//! the replies it completed, so an operation costs no thread hop. It is opened beside the
//! background connection of the same generation (`Client`), which keeps supervising, runs bulk
//! operations and reports `connect` / `disconnect`; when this one breaks it tells the
//! supervisor, and its idempotent operations in flight go to the background connection.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::{c_int, c_void};
use std::io::{ErrorKind, Read, Write};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use napi::sys;
use redis::{RedisError, Value};

use crate::client::{Client, Ready};
use crate::commands::Resp;
use crate::connection::{breaks_connection, Connection};
use crate::direct_open::Stream;
use crate::error::StoreError;
use crate::outbox::{Delivery, Outbox, Reply};
use crate::plain_replies::Deliveries;
use crate::read_buffer::ReadBuffer;
use crate::resp;
use crate::sink::Sink;
use crate::spawn;
use crate::store::Op;
use crate::uv::{self, Handle, Uv};

const READ_CHUNK: usize = 64 * 1024;

/// Whether operations may use a main-thread connection here. `CONNECT_REDIS_RS_DIRECT=0`
/// turns it off (to compare with the background-only design).
pub fn available() -> bool {
    uv::get().is_some() && std::env::var("CONNECT_REDIS_RS_DIRECT").map_or(true, |v| v != "0")
}

struct Waiting {
    id: u32,
    op: Op,
    commands: usize,
    replies: Vec<Result<Value, StoreError>>,
    deadline: Instant,
    /// Already failed by the deadline; its replies are still read, then dropped.
    expired: bool,
}

struct State {
    uv: &'static Uv,
    env: sys::napi_env,
    stream: Stream,
    poll: *mut Handle,
    timer: *mut Handle,
    polling: c_int,
    timer_armed: bool,
    out: Vec<u8>,
    written: usize,
    input: ReadBuffer,
    waiting: VecDeque<Waiting>,
    generation: u64,
    conn: Connection,
    client: Client,
    outbox: Arc<Outbox>,
    sink: Rc<Sink>,
    closing: bool,
    open_handles: u8,
    cleanup_hook: sys::napi_async_cleanup_hook_handle,
    /// Set when Node tears the environment down (a Worker exits): signalled once closed.
    teardown: Option<sys::napi_async_cleanup_hook_handle>,
}

/// What a broken connection leaves to do once the state is no longer borrowed.
#[derive(Default)]
struct Aftermath {
    deliveries: Vec<Delivery>,
    resend: Vec<(u32, Op)>,
    /// The earliest deadline of the operations resent: under it, none outlives its own.
    resend_by: Option<Instant>,
}

#[derive(PartialEq, Eq)]
pub enum Retire {
    /// The background connection moved on (reconnect, failover): finish like a broken one.
    Stale,
    /// `close()`: the shim settles what is pending itself.
    Closed,
}

pub struct Direct {
    state: Rc<RefCell<State>>,
}

impl Direct {
    /// Starts polling a socket opened by `direct_open`.
    pub fn attach(
        env: sys::napi_env,
        ready: Ready,
        client: &Client,
        outbox: &Arc<Outbox>,
        sink: &Rc<Sink>,
    ) -> Option<Direct> {
        let uv = uv::get()?;
        let mut event_loop = std::ptr::null_mut();
        if unsafe { sys::napi_get_uv_event_loop(env, &mut event_loop) } != sys::Status::napi_ok {
            return None;
        }
        let event_loop = event_loop as *mut c_void;
        let (poll, timer) = (uv.new_poll(), uv.new_timer());
        let fd = ready.stream.fd();
        if unsafe { (uv.poll_init)(event_loop, poll, fd) } != 0 {
            unsafe { uv::free(uv, poll, false) };
            unsafe { uv::free(uv, timer, true) };
            return None;
        }
        // The timer init cannot fail once the loop exists.
        unsafe { (uv.timer_init)(event_loop, timer) };
        let state = Rc::new(RefCell::new(State {
            uv,
            env,
            stream: ready.stream,
            poll,
            timer,
            polling: 0,
            timer_armed: false,
            out: Vec::new(),
            written: 0,
            input: ReadBuffer::new(READ_CHUNK),
            waiting: VecDeque::new(),
            generation: ready.generation,
            conn: ready.conn,
            client: client.clone(),
            outbox: outbox.clone(),
            sink: sink.clone(),
            closing: false,
            open_handles: 2,
            cleanup_hook: std::ptr::null_mut(),
            teardown: None,
        }));
        unsafe {
            // Each handle owns one reference to the state, released by its close callback.
            uv::set_data(poll, Rc::into_raw(state.clone()) as *mut c_void);
            uv::set_data(timer, Rc::into_raw(state.clone()) as *mut c_void);
            // In-flight work keeps the process alive through the shim's keepAlive, not these.
            (uv.unref)(poll);
            (uv.unref)(timer);
            let hook_arg = Rc::into_raw(state.clone()) as *mut c_void;
            let mut hook = std::ptr::null_mut();
            if sys::napi_add_async_cleanup_hook(env, Some(on_teardown), hook_arg, &mut hook)
                == sys::Status::napi_ok
            {
                state.borrow_mut().cleanup_hook = hook;
            } else {
                drop(Rc::from_raw(hook_arg as *const RefCell<State>));
            }
        }
        state.borrow_mut().arm(uv::READABLE);
        Some(Direct { state })
    }

    /// Whether operations can go here while the background connection is at `generation`.
    pub fn usable(&self, generation: u64) -> bool {
        let state = self.state.borrow();
        !state.closing && state.generation == generation
    }

    /// Writes `ops`; returns those that send no command (they go the background way).
    pub fn send(&self, ops: Vec<(u32, Op)>) -> Vec<(u32, Op)> {
        let mut state = self.state.borrow_mut();
        let deadline = Instant::now() + state.client.command_timeout();
        let mut out = std::mem::take(&mut state.out);
        let mut rest = Vec::new();
        for (id, op) in ops {
            let commands = op.encode(&mut Resp(&mut out), false);
            if commands == 0 {
                rest.push((id, op));
                continue;
            }
            state.waiting.push_back(Waiting {
                id,
                op,
                commands,
                replies: Vec::new(),
                deadline,
                expired: false,
            });
        }
        state.out = out;
        state.arm_deadline();
        if state.flush().is_err() {
            // Inside a JavaScript call: the failures are delivered on a later turn.
            let after = state.shut(true);
            drop(state);
            after.finish(&self.state, true);
        }
        rest
    }

    pub fn retire(self, why: Retire) {
        let mut state = self.state.borrow_mut();
        if state.closing {
            return;
        }
        if why == Retire::Closed {
            state.waiting.clear();
        }
        let after = state.shut(false);
        drop(state);
        after.finish(&self.state, true);
    }
}

impl State {
    fn arm(&mut self, events: c_int) {
        if self.closing || self.polling == events {
            return;
        }
        self.polling = events;
        unsafe { (self.uv.poll_start)(self.poll, events, on_poll) };
    }

    fn arm_deadline(&mut self) {
        if self.timer_armed || self.closing {
            return;
        }
        let Some(next) = self.waiting.iter().find(|w| !w.expired) else {
            return;
        };
        let ms = next
            .deadline
            .saturating_duration_since(Instant::now())
            .as_millis()
            + 1;
        self.timer_armed = true;
        unsafe { (self.uv.timer_start)(self.timer, on_timer, ms as u64, 0) };
    }

    /// Writes what the socket takes now; the rest waits for it to become writable.
    fn flush(&mut self) -> std::io::Result<()> {
        while self.written < self.out.len() {
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.arm(uv::READABLE | uv::WRITABLE);
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.written = 0;
        self.arm(uv::READABLE);
        Ok(())
    }

    /// Reads what arrived, one chunk per poll callback, and completes the operations it
    /// answers. `Err` when the connection is broken (closed, reset, a protocol error or a server
    /// that became a replica). The poll is level-triggered, so what is left is reported again at
    /// once. Reading everything first (megabytes with 256 large sessions in flight, handed over
    /// as one string in V8's large-object space, their bytes long out of the CPU's caches when
    /// parsed) cost get 20 KB at 256 in flight ~6% more main-thread time and get 2 KB ~20% more
    /// (medians of 5 interleaved runs).
    fn read(&mut self, done: &mut Deliveries) -> Result<(), ()> {
        loop {
            match self.stream.read(self.input.space(READ_CHUNK)) {
                Ok(0) => {
                    self.parse(done)?;
                    return Err(());
                }
                Ok(n) => {
                    self.input.filled(n);
                    done.expect_text(n);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Err(()),
            }
        }
        self.parse(done)
    }

    fn parse(&mut self, done: &mut Deliveries) -> Result<(), ()> {
        loop {
            let unparsed = self.input.unparsed();
            let Some(len) = resp::frame_len(unparsed).map_err(|_| ())? else {
                return Ok(());
            };
            let frame = &unparsed[..len];
            if !resp::bulk(frame).is_some_and(|bytes| session_reply(&mut self.waiting, bytes, done))
            {
                let value = resp::value(frame).map_err(|_| ())?;
                self.reply(value, done)?;
            }
            self.input.consume(len);
        }
    }

    fn reply(&mut self, value: Value, done: &mut Deliveries) -> Result<(), ()> {
        let mut broken = false;
        let result = match value {
            Value::ServerError(err) => {
                let err = RedisError::from(err);
                broken = breaks_connection(&err);
                Err(StoreError::from_redis(&err, self.client.address()))
            }
            other => Ok(other),
        };
        // A reply nobody waits for means the stream is out of step.
        let head = self.waiting.front_mut().ok_or(())?;
        if head.replies.len() + 1 < head.commands {
            head.replies.push(result);
        } else if let Some(w) = self.waiting.pop_front() {
            // The last (usually the only) reply is not collected: no allocation per operation.
            if !w.expired {
                let replies = w.replies.into_iter().chain(std::iter::once(result));
                done.push(Delivery::Reply(w.id, w.op.decode(replies)));
            }
        }
        if broken {
            Err(())
        } else {
            Ok(())
        }
    }

    /// Fails the operations whose deadline passed (their replies, if any come, are dropped).
    fn expire(&mut self, done: &mut Deliveries) {
        self.timer_armed = false;
        let now = Instant::now();
        let timeout = self.client.command_timeout().as_millis() as u64;
        for w in self.waiting.iter_mut() {
            if w.deadline > now {
                break;
            }
            if !w.expired {
                w.expired = true;
                let err = StoreError::timeout(self.client.address(), timeout);
                done.push(Delivery::Reply(w.id, Reply::Failed(err)));
            }
        }
        self.arm_deadline();
    }

    /// Closes the handles. What was in flight fails, except the idempotent operations, which
    /// go to the background connection. `lost` tells the supervisor this connection broke.
    fn shut(&mut self, lost: bool) -> Aftermath {
        let mut after = Aftermath::default();
        if self.closing {
            return after;
        }
        self.closing = true;
        unsafe {
            if !self.cleanup_hook.is_null() {
                sys::napi_remove_async_cleanup_hook(self.cleanup_hook);
                self.cleanup_hook = std::ptr::null_mut();
                let arg = uv::data(self.poll) as *const RefCell<State>;
                drop(Rc::from_raw(arg));
            }
            (self.uv.poll_stop)(self.poll);
            (self.uv.timer_stop)(self.timer);
            (self.uv.close)(self.poll, on_closed);
            (self.uv.close)(self.timer, on_closed);
        }
        let err = StoreError::lost(self.client.address());
        for w in self.waiting.drain(..) {
            if w.expired {
                continue;
            }
            if w.op.idempotent() {
                after.resend_by.get_or_insert(w.deadline);
                after.resend.push((w.id, w.op));
            } else {
                after
                    .deliveries
                    .push(Delivery::Reply(w.id, Reply::Failed(err.clone())));
            }
        }
        if lost && self.client.up_generation() == self.generation {
            self.conn.mark_lost();
        }
        after
    }
}

impl Aftermath {
    /// Resends and delivers. `from_js`: inside a JavaScript call, so the failures are
    /// delivered on a later turn; otherwise (a libuv callback) at once.
    fn finish(self, state: &RefCell<State>, from_js: bool) {
        let (env, sink, client, outbox) = {
            let s = state.borrow();
            (s.env, s.sink.clone(), s.client.clone(), s.outbox.clone())
        };
        if !self.resend.is_empty() {
            let _ = spawn::batch(&client, &outbox, self.resend, self.resend_by);
        }
        if from_js {
            outbox.push(self.deliveries);
        } else {
            sink.deliver(env, self.deliveries.into());
        }
    }
}

/// A GET's value delivered straight from the read buffer, copied once into the joined text;
/// false when the reply is not the whole answer of a GET (it then takes the general way).
fn session_reply(waiting: &mut VecDeque<Waiting>, bytes: &[u8], done: &mut Deliveries) -> bool {
    let Some(head) = waiting.front() else {
        return false;
    };
    if head.commands != 1 || !matches!(head.op, Op::Get { .. }) {
        return false;
    }
    if let Some(w) = waiting.pop_front() {
        if !w.expired {
            done.push_session(w.id, bytes);
        }
    }
    true
}

/// The state a handle's `data` points at (one counted reference, held by the handle).
unsafe fn state_of<'a>(handle: *mut Handle) -> &'a RefCell<State> {
    unsafe { &*(uv::data(handle) as *const RefCell<State>) }
}

unsafe extern "C" fn on_poll(handle: *mut Handle, status: c_int, events: c_int) {
    let cell = unsafe { state_of(handle) };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut done = Deliveries::default();
        let after = {
            let mut state = cell.borrow_mut();
            if state.closing {
                return;
            }
            let mut ok = status >= 0;
            if ok && events & uv::WRITABLE != 0 {
                ok = state.flush().is_ok();
            }
            if ok && events & uv::READABLE != 0 {
                ok = state.read(&mut done).is_ok();
            }
            (!ok).then(|| state.shut(true))
        };
        if !done.is_empty() {
            let (env, sink) = {
                let s = cell.borrow();
                (s.env, s.sink.clone())
            };
            sink.deliver(env, done);
        }
        if let Some(after) = after {
            after.finish(cell, false);
        }
    }));
}

unsafe extern "C" fn on_timer(handle: *mut Handle) {
    let cell = unsafe { state_of(handle) };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut done = Deliveries::default();
        let (env, sink) = {
            let mut state = cell.borrow_mut();
            if state.closing {
                return;
            }
            state.expire(&mut done);
            (state.env, state.sink.clone())
        };
        if !done.is_empty() {
            sink.deliver(env, done);
        }
    }));
}

unsafe extern "C" fn on_closed(handle: *mut Handle) {
    let state = unsafe { Rc::from_raw(uv::data(handle) as *const RefCell<State>) };
    let mut s = state.borrow_mut();
    let timer = handle == s.timer;
    unsafe { uv::free(s.uv, handle, timer) };
    s.open_handles -= 1;
    if s.open_handles == 0 {
        if let Some(teardown) = s.teardown.take() {
            unsafe { sys::napi_remove_async_cleanup_hook(teardown) };
            // The reference the hook held.
            drop(s);
            drop(unsafe { Rc::from_raw(Rc::as_ptr(&state)) });
        }
    }
}

/// Node is tearing the environment down (a Worker exits): close the handles, nothing else.
unsafe extern "C" fn on_teardown(hook: sys::napi_async_cleanup_hook_handle, arg: *mut c_void) {
    let cell = unsafe { &*(arg as *const RefCell<State>) };
    let mut state = cell.borrow_mut();
    state.cleanup_hook = std::ptr::null_mut();
    state.teardown = Some(hook);
    state.waiting.clear();
    let _ = state.shut(false);
}
