//! `submit(nums, count, text)` as a plain napi function whose data is the client's core, not a
//! method of the `NativeClient` class: a class method pays napi-rs's unwrap, type-tag check and
//! borrow tracking on every call (~4,900 instructions, a fifth of a whole `get` at one in
//! flight, measured with benchmark/instructions.js).

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::rc::Rc;

use napi::sys;

use crate::native_core::NativeCore;

/// A new JavaScript function that submits to `core`; it holds `core` until it is collected.
///
/// # Safety
/// `env` is the main thread's env inside a JavaScript call.
pub unsafe fn create(env: sys::napi_env, core: Rc<NativeCore>) -> napi::Result<sys::napi_value> {
    let name = "submit";
    let data = Rc::into_raw(core) as *mut c_void;
    let mut function = ptr::null_mut();
    unsafe {
        let made = sys::napi_create_function(
            env,
            name.as_ptr().cast(),
            name.len() as isize,
            Some(call),
            data,
            &mut function,
        ) == sys::Status::napi_ok
            && sys::napi_add_finalizer(
                env,
                function,
                data,
                Some(release),
                ptr::null_mut(),
                ptr::null_mut(),
            ) == sys::Status::napi_ok;
        if !made {
            drop(Rc::from_raw(data as *const NativeCore));
            return Err(napi::Error::from_reason(
                "connect-redis-rs: could not create submit()",
            ));
        }
    }
    Ok(function)
}

unsafe extern "C" fn release(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    drop(unsafe { Rc::from_raw(data as *const NativeCore) });
}

unsafe extern "C" fn call(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let mut argc = 3usize;
    let mut argv = [ptr::null_mut(); 3];
    let mut data = ptr::null_mut();
    let outcome = catch_unwind(AssertUnwindSafe(|| unsafe {
        if sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            &mut data,
        ) != sys::Status::napi_ok
        {
            return Err(napi::Error::from_reason(
                "connect-redis-rs: submit() could not read its arguments",
            ));
        }
        let core = &*(data as *const NativeCore);
        let nums = numbers(env, argv[0], argv[1])?;
        core.submit(env, nums, argv[2])
    }));
    let failure = match outcome {
        Ok(Ok(())) => return ptr::null_mut(),
        Ok(Err(err)) => err,
        Err(_) => napi::Error::from_reason("connect-redis-rs: internal error in submit()"),
    };
    if failure.status != napi::Status::PendingException {
        let _ = napi::Env::from_raw(env).throw_error(&failure.reason, None);
    }
    ptr::null_mut()
}

/// The first `count` numbers of the `Float64Array` `array`.
unsafe fn numbers<'a>(
    env: sys::napi_env,
    array: sys::napi_value,
    count: sys::napi_value,
) -> napi::Result<&'a [f64]> {
    let bad = || {
        napi::Error::new(
            napi::Status::InvalidArg,
            "connect-redis-rs: submit(nums, count, text) needs a Float64Array and a count within it",
        )
    };
    let mut kind = sys::TypedarrayType::int8_array;
    let mut length = 0usize;
    let mut data = ptr::null_mut();
    let mut count_value = 0u32;
    unsafe {
        if sys::napi_get_typedarray_info(
            env,
            array,
            &mut kind,
            &mut length,
            &mut data,
            ptr::null_mut(),
            ptr::null_mut(),
        ) != sys::Status::napi_ok
            || kind != sys::TypedarrayType::float64_array
            || sys::napi_get_value_uint32(env, count, &mut count_value) != sys::Status::napi_ok
        {
            return Err(bad());
        }
        let count = count_value as usize;
        if count > length {
            return Err(bad());
        }
        if count == 0 {
            return Ok(&[]);
        }
        Ok(std::slice::from_raw_parts(data as *const f64, count))
    }
}
