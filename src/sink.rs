//! Where the main-thread connection hands results to JavaScript: the same batch callback the
//! background deliveries use, called inside a proper callback scope (`napi_make_callback`) so
//! that promise jobs and `process.nextTick` callbacks run after it, as after any I/O callback.
//! It is called as `(batch, nums, count, text)`: the plain replies in `nums` and `text`
//! (src/plain_replies.rs), anything else in `batch` as the background deliveries have it.

use std::cell::{Cell, RefCell};

use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

use crate::napi_values::float64_array;
use crate::outbox::{Batch, Delivery};
use crate::plain_replies::{Deliveries, PlainReplies};

pub struct Sink {
    env: sys::napi_env,
    on_batch: sys::napi_ref,
    context: sys::napi_async_context,
    released: Cell<bool>,
    /// The `Float64Array` the numbers are written into, reused while it is large enough.
    numbers: RefCell<Option<Numbers>>,
}

struct Numbers {
    array: sys::napi_ref,
    data: *mut f64,
    capacity: usize,
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
                numbers: RefCell::new(None),
            })
        }
    }

    /// Calls the batch callback with `deliveries`, from a libuv callback (no JavaScript on the
    /// stack). An exception it lets escape becomes an uncaught exception, as from any callback.
    pub fn deliver(&self, env: sys::napi_env, deliveries: Deliveries) {
        if deliveries.is_empty() || self.released.get() {
            return;
        }
        let Deliveries { plain, rest, .. } = deliveries;
        unsafe {
            let mut scope = std::ptr::null_mut();
            if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
                return;
            }
            if let Some(args) = self.arguments(env, plain, rest) {
                self.call(env, &args);
            }
            sys::napi_close_handle_scope(env, scope);
        }
    }

    /// `[batch or undefined, nums, count, text]`.
    unsafe fn arguments(
        &self,
        env: sys::napi_env,
        plain: PlainReplies,
        rest: Vec<Delivery>,
    ) -> Option<[sys::napi_value; 4]> {
        unsafe {
            let mut batch = std::ptr::null_mut();
            if rest.is_empty() {
                sys::napi_get_undefined(env, &mut batch);
            } else {
                batch = Batch::to_napi_value(env, Batch(rest)).ok()?;
            }
            let nums = self.numbers(env, &plain.nums)?;
            let count = f64::to_napi_value(env, plain.nums.len() as f64).ok()?;
            let text = plain.text.to_js(env).ok()?;
            Some([batch, nums, count, text])
        }
    }

    /// The reused `Float64Array` holding `values` (a larger one when they do not fit).
    unsafe fn numbers(&self, env: sys::napi_env, values: &[f64]) -> Option<sys::napi_value> {
        let mut numbers = self.numbers.borrow_mut();
        unsafe {
            if numbers.as_ref().is_none_or(|n| n.capacity < values.len()) {
                let capacity = values.len().next_power_of_two().max(1024);
                let (array, data) = float64_array(env, capacity).ok()?;
                let mut reference = std::ptr::null_mut();
                if sys::napi_create_reference(env, array, 1, &mut reference) != sys::Status::napi_ok
                {
                    return None;
                }
                if let Some(old) = numbers.replace(Numbers {
                    array: reference,
                    data,
                    capacity,
                }) {
                    sys::napi_delete_reference(env, old.array);
                }
            }
            let current = numbers.as_ref()?;
            std::ptr::copy_nonoverlapping(values.as_ptr(), current.data, values.len());
            let mut array = std::ptr::null_mut();
            (sys::napi_get_reference_value(env, current.array, &mut array) == sys::Status::napi_ok
                && !array.is_null())
            .then_some(array)
        }
    }

    unsafe fn call(&self, env: sys::napi_env, args: &[sys::napi_value]) {
        unsafe {
            let mut func = std::ptr::null_mut();
            let mut recv = std::ptr::null_mut();
            if sys::napi_get_reference_value(env, self.on_batch, &mut func) == sys::Status::napi_ok
                && !func.is_null()
                && sys::napi_get_global(env, &mut recv) == sys::Status::napi_ok
            {
                let mut result = std::ptr::null_mut();
                let status = sys::napi_make_callback(
                    env,
                    self.context,
                    recv,
                    func,
                    args.len(),
                    args.as_ptr(),
                    &mut result,
                );
                if status == sys::Status::napi_pending_exception {
                    let mut exception = std::ptr::null_mut();
                    sys::napi_get_and_clear_last_exception(env, &mut exception);
                    sys::napi_fatal_exception(env, exception);
                }
            }
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
            if let Some(numbers) = self.numbers.borrow_mut().take() {
                sys::napi_delete_reference(self.env, numbers.array);
            }
        }
    }
}
