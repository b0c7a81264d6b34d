//! Where the main-thread connection hands results to JavaScript: the same batch callback the
//! background deliveries use, called inside a proper callback scope (`napi_make_callback`) so
//! that promise jobs and `process.nextTick` callbacks run after it, as after any I/O callback.

use std::cell::Cell;

use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

use crate::outbox::{Batch, Delivery};

pub struct Sink {
    env: sys::napi_env,
    on_batch: sys::napi_ref,
    context: sys::napi_async_context,
    released: Cell<bool>,
}

impl Sink {
    /// # Safety
    /// `env` is the live env of the main thread and `on_batch` a function value in it.
    pub unsafe fn new(env: sys::napi_env, on_batch: sys::napi_value) -> Option<Sink> {
        let mut on_batch_ref = std::ptr::null_mut();
        let mut name = std::ptr::null_mut();
        let mut context = std::ptr::null_mut();
        let label = "connect-redis-rs";
        unsafe {
            let ok = sys::napi_create_reference(env, on_batch, 1, &mut on_batch_ref)
                == sys::Status::napi_ok
                && sys::napi_create_string_utf8(
                    env,
                    label.as_ptr().cast(),
                    label.len() as isize,
                    &mut name,
                ) == sys::Status::napi_ok
                && sys::napi_async_init(env, std::ptr::null_mut(), name, &mut context)
                    == sys::Status::napi_ok;
            ok.then_some(Sink {
                env,
                on_batch: on_batch_ref,
                context,
                released: Cell::new(false),
            })
        }
    }

    /// Calls the batch callback with `deliveries`, from a libuv callback (no JavaScript on the
    /// stack). An exception it lets escape becomes an uncaught exception, as from any callback.
    pub fn deliver(&self, env: sys::napi_env, deliveries: Vec<Delivery>) {
        if deliveries.is_empty() || self.released.get() {
            return;
        }
        unsafe {
            let mut scope = std::ptr::null_mut();
            if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
                return;
            }
            let mut func = std::ptr::null_mut();
            let mut recv = std::ptr::null_mut();
            if let Ok(batch) = Batch::to_napi_value(env, Batch(deliveries)) {
                if sys::napi_get_reference_value(env, self.on_batch, &mut func)
                    == sys::Status::napi_ok
                    && !func.is_null()
                    && sys::napi_get_global(env, &mut recv) == sys::Status::napi_ok
                {
                    let mut result = std::ptr::null_mut();
                    let status = sys::napi_make_callback(
                        env,
                        self.context,
                        recv,
                        func,
                        1,
                        &batch,
                        &mut result,
                    );
                    if status == sys::Status::napi_pending_exception {
                        let mut exception = std::ptr::null_mut();
                        sys::napi_get_and_clear_last_exception(env, &mut exception);
                        sys::napi_fatal_exception(env, exception);
                    }
                }
            }
            sys::napi_close_handle_scope(env, scope);
        }
    }

    /// Lets go of the callback once the client is closed (it holds the shim's driver, which
    /// could otherwise never be collected); nothing is delivered afterwards.
    pub fn release(&self) {
        if self.released.replace(true) {
            return;
        }
        unsafe {
            sys::napi_delete_reference(self.env, self.on_batch);
            sys::napi_async_destroy(self.env, self.context);
        }
    }
}
