//! JavaScript values built through raw napi calls (arrays, a `Float64Array`), for the places
//! that hand results over without napi-rs's per-value conversions.

use napi::sys;

/// `Ok` for `napi_ok`, otherwise an error saying what could not be done.
pub fn check(status: sys::napi_status, what: &str) -> napi::Result<()> {
    match status {
        sys::Status::napi_ok => Ok(()),
        _ => Err(napi::Error::new(
            napi::Status::GenericFailure,
            format!("connect-redis-rs: could not {what}"),
        )),
    }
}

/// # Safety
/// `env` is the live env of the calling (main) thread.
pub unsafe fn new_array(env: sys::napi_env, len: usize) -> napi::Result<sys::napi_value> {
    let mut out = std::ptr::null_mut();
    check(
        unsafe { sys::napi_create_array_with_length(env, len, &mut out) },
        "create an array",
    )?;
    Ok(out)
}

/// # Safety
/// `env` is the live env of the calling thread and `array` an array in it.
pub unsafe fn set(
    env: sys::napi_env,
    array: sys::napi_value,
    index: u32,
    value: sys::napi_value,
) -> napi::Result<()> {
    check(
        unsafe { sys::napi_set_element(env, array, index, value) },
        "fill an array",
    )
}

/// A new `Float64Array` of `len` numbers and where they are.
///
/// # Safety
/// `env` is the live env of the calling thread; the numbers live as long as the array does.
pub unsafe fn float64_array(
    env: sys::napi_env,
    len: usize,
) -> napi::Result<(sys::napi_value, *mut f64)> {
    let mut data = std::ptr::null_mut();
    let mut buffer = std::ptr::null_mut();
    let mut array = std::ptr::null_mut();
    unsafe {
        check(
            sys::napi_create_arraybuffer(env, len * 8, &mut data, &mut buffer),
            "create an ArrayBuffer",
        )?;
        check(
            sys::napi_create_typedarray(
                env,
                sys::TypedarrayType::float64_array,
                len,
                buffer,
                0,
                &mut array,
            ),
            "create a Float64Array",
        )?;
    }
    Ok((array, data.cast()))
}
