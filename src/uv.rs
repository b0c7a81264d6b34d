//! The few libuv functions the main-thread connection needs. Node exports libuv from its own
//! binary, so they are looked up there at run time (as napi-sys does for N-API); where they
//! cannot be found (another runtime, or Windows), `get()` is `None` and the store stays on the
//! background runtime.

use std::ffi::{c_char, c_int, c_void};

use once_cell::sync::Lazy;

pub type Handle = c_void;
pub type PollCb = unsafe extern "C" fn(handle: *mut Handle, status: c_int, events: c_int);
pub type TimerCb = unsafe extern "C" fn(handle: *mut Handle);
pub type CloseCb = unsafe extern "C" fn(handle: *mut Handle);

pub const READABLE: c_int = 1;
pub const WRITABLE: c_int = 2;
/// `uv_handle_type` values (stable across libuv 1.x).
const UV_POLL: c_int = 8;
const UV_TIMER: c_int = 13;

type HandleSizeFn = unsafe extern "C" fn(c_int) -> usize;
type InitFn = unsafe extern "C" fn(*mut c_void, *mut Handle) -> c_int;
type PollInitFn = unsafe extern "C" fn(*mut c_void, *mut Handle, c_int) -> c_int;
type PollStartFn = unsafe extern "C" fn(*mut Handle, c_int, PollCb) -> c_int;
type StopFn = unsafe extern "C" fn(*mut Handle) -> c_int;
type TimerStartFn = unsafe extern "C" fn(*mut Handle, TimerCb, u64, u64) -> c_int;
type CloseFn = unsafe extern "C" fn(*mut Handle, CloseCb);
type UnrefFn = unsafe extern "C" fn(*mut Handle);

pub struct Uv {
    handle_size: HandleSizeFn,
    pub poll_init: PollInitFn,
    pub poll_start: PollStartFn,
    pub poll_stop: StopFn,
    pub timer_init: InitFn,
    pub timer_start: TimerStartFn,
    pub timer_stop: StopFn,
    pub close: CloseFn,
    pub unref: UnrefFn,
}

#[cfg(unix)]
extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

#[cfg(target_os = "macos")]
const RTLD_DEFAULT: *mut c_void = -2isize as *mut c_void;
#[cfg(all(unix, not(target_os = "macos")))]
const RTLD_DEFAULT: *mut c_void = std::ptr::null_mut();

#[cfg(unix)]
fn find(name: &std::ffi::CStr) -> Option<*mut c_void> {
    let found = unsafe { dlsym(RTLD_DEFAULT, name.as_ptr()) };
    (!found.is_null()).then_some(found)
}

#[cfg(not(unix))]
fn find(_name: &std::ffi::CStr) -> Option<*mut c_void> {
    None
}

/// Looks `name` up and takes it to have libuv 1.x's documented signature `$t`.
macro_rules! symbol {
    ($name:literal, $t:ty) => {
        unsafe { std::mem::transmute::<*mut c_void, $t>(find($name)?) }
    };
}

static UV: Lazy<Option<Uv>> = Lazy::new(|| {
    Some(Uv {
        handle_size: symbol!(c"uv_handle_size", HandleSizeFn),
        poll_init: symbol!(c"uv_poll_init", PollInitFn),
        poll_start: symbol!(c"uv_poll_start", PollStartFn),
        poll_stop: symbol!(c"uv_poll_stop", StopFn),
        timer_init: symbol!(c"uv_timer_init", InitFn),
        timer_start: symbol!(c"uv_timer_start", TimerStartFn),
        timer_stop: symbol!(c"uv_timer_stop", StopFn),
        close: symbol!(c"uv_close", CloseFn),
        unref: symbol!(c"uv_unref", UnrefFn),
    })
});

/// libuv, when this process has it.
pub fn get() -> Option<&'static Uv> {
    UV.as_ref()
}

impl Uv {
    /// A zeroed, 8-byte aligned allocation big enough for a poll handle.
    pub fn new_poll(&self) -> *mut Handle {
        alloc(unsafe { (self.handle_size)(UV_POLL) })
    }

    pub fn new_timer(&self) -> *mut Handle {
        alloc(unsafe { (self.handle_size)(UV_TIMER) })
    }
}

fn alloc(size: usize) -> *mut Handle {
    let words = size.div_ceil(8).max(1);
    Box::into_raw(vec![0u64; words].into_boxed_slice()) as *mut Handle
}

/// Frees a handle made by `new_poll` / `new_timer`, after its close callback.
///
/// # Safety
/// `handle` came from `new_poll` / `new_timer` of `uv` and libuv no longer uses it.
pub unsafe fn free(uv: &Uv, handle: *mut Handle, timer: bool) {
    let size = unsafe { (uv.handle_size)(if timer { UV_TIMER } else { UV_POLL }) };
    let words = size.div_ceil(8).max(1);
    drop(unsafe {
        Box::from_raw(std::ptr::slice_from_raw_parts_mut(
            handle as *mut u64,
            words,
        ))
    });
}

/// Every libuv handle starts with `void *data`.
///
/// # Safety
/// `handle` is a live libuv handle.
pub unsafe fn set_data(handle: *mut Handle, data: *mut c_void) {
    unsafe { *(handle as *mut *mut c_void) = data };
}

/// # Safety
/// `handle` is a live libuv handle.
pub unsafe fn data(handle: *mut Handle) -> *mut c_void {
    unsafe { *(handle as *mut *mut c_void) }
}
