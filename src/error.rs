//! The one error type of the store and its conversions: every message and `code` a user sees
//! is worded here.

use napi::{sys, Env, Status};
use redis::{ErrorKind, RedisError};

/// What went wrong, as a stable `err.code` for JavaScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The connection could not be made or was lost.
    Connection,
    /// Redis did not answer within the deadline.
    Timeout,
    /// Redis refused the credentials.
    Auth,
    /// The client was closed with `quit()` / `end()` / `store.close()`.
    Closed,
    /// Redis answered the command with an error reply.
    Server,
    /// An option has the wrong type or value.
    InvalidOption,
    /// A stored session could not be read (not UTF-8).
    Corrupt,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Connection => "ERR_REDIS_CONNECTION",
            Code::Timeout => "ERR_REDIS_TIMEOUT",
            Code::Auth => "ERR_REDIS_AUTH",
            Code::Closed => "ERR_REDIS_CLOSED",
            Code::Server => "ERR_REDIS_SERVER",
            Code::InvalidOption => "ERR_INVALID_ARG_VALUE",
            Code::Corrupt => "ERR_SESSION_CORRUPT",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    pub code: Code,
    pub message: String,
}

const PREFIX: &str = "connect-redis-rs";

impl StoreError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        StoreError {
            code,
            message: message.into(),
        }
    }

    pub fn invalid_option(name: &str, expected: &str, got: &str) -> Self {
        Self::new(
            Code::InvalidOption,
            format!("{PREFIX}: option `{name}` must be {expected}, got {got}"),
        )
    }

    pub fn closed() -> Self {
        Self::new(
            Code::Closed,
            format!("{PREFIX}: the Redis client was closed (quit/end/close); create a new store or client to continue"),
        )
    }

    pub fn timeout(address: &str, millis: u64) -> Self {
        Self::new(
            Code::Timeout,
            format!(
                "{PREFIX}: Redis at {address} did not answer within {millis} ms (commandTimeout)"
            ),
        )
    }

    pub fn lost(address: &str) -> Self {
        Self::new(
            Code::Connection,
            format!("{PREFIX}: lost the connection to Redis at {address}; reconnecting"),
        )
    }

    pub fn still_connecting(address: &str, millis: u64) -> Self {
        Self::new(
            Code::Connection,
            format!("{PREFIX}: not connected to Redis at {address} after waiting {millis} ms (commandTimeout); the store keeps reconnecting"),
        )
    }

    /// A stored value that is not UTF-8, so no session's text.
    pub fn not_utf8() -> Self {
        Self::new(
            Code::Corrupt,
            format!(
                "{PREFIX}: stored session is unreadable (not valid UTF-8); it is treated as absent"
            ),
        )
    }

    /// Classifies a redis-rs error by its kind, never by its text.
    pub fn from_redis(err: &RedisError, address: &str) -> Self {
        if err.is_timeout() {
            return Self::new(
                Code::Timeout,
                format!("{PREFIX}: Redis at {address} did not answer in time: {err}"),
            );
        }
        let rejected = || {
            Self::new(
                Code::Auth,
                format!(
                    "{PREFIX}: Redis at {address} rejected the credentials (check password/username): {}",
                    server_message(err)
                ),
            )
        };
        match err.kind() {
            ErrorKind::AuthenticationFailed => rejected(),
            ErrorKind::Server(redis::ServerErrorKind::NoPerm) => Self::new(
                Code::Auth,
                format!(
                    "{PREFIX}: the Redis user lacks a permission the store needs: {}",
                    server_message(err)
                ),
            ),
            ErrorKind::Server(_) | ErrorKind::Extension if is_auth_reply(err) => rejected(),
            ErrorKind::Server(_) | ErrorKind::Extension => Self::new(
                Code::Server,
                format!(
                    "{PREFIX}: Redis replied with an error: {}",
                    server_message(err)
                ),
            ),
            ErrorKind::InvalidClientConfig => Self::new(
                Code::InvalidOption,
                format!("{PREFIX}: invalid connection settings: {err}"),
            ),
            _ => Self::new(
                Code::Connection,
                format!("{PREFIX}: connection to Redis at {address} failed: {err}"),
            ),
        }
    }

    /// Builds the JavaScript `Error` (or `TypeError` for options) with `code` set.
    ///
    /// # Safety
    /// `env` must be the live env of the calling JavaScript thread.
    pub unsafe fn to_js(&self, env: sys::napi_env) -> napi::Result<sys::napi_value> {
        let code = unsafe { to_js_string(env, self.code.as_str())? };
        let message = unsafe { to_js_string(env, &self.message)? };
        let mut out = std::ptr::null_mut();
        let status = if self.code == Code::InvalidOption {
            unsafe { sys::napi_create_type_error(env, code, message, &mut out) }
        } else {
            unsafe { sys::napi_create_error(env, code, message, &mut out) }
        };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::new(
                Status::GenericFailure,
                "could not create an Error",
            ));
        }
        Ok(out)
    }

    /// Throws this error into JavaScript and returns the marker napi-rs needs to not throw again.
    pub fn throw(&self, env: &Env) -> napi::Error {
        if self.code == Code::InvalidOption {
            let _ = env.throw_type_error(&self.message, Some(self.code.as_str()));
        } else {
            let _ = env.throw_error(&self.message, Some(self.code.as_str()));
        }
        napi::Error::new(Status::PendingException, self.message.clone())
    }
}

/// Redis's own words (`OOM command not allowed …`), as the server sent them.
fn server_message(err: &RedisError) -> String {
    match (err.code(), err.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => err.to_string(),
    }
}

/// A server that refuses AUTH/HELLO answers WRONGPASS or NOAUTH, which redis-rs reports as a
/// plain server error; the reply code (not the text) tells them apart.
fn is_auth_reply(err: &RedisError) -> bool {
    matches!(err.code(), Some("WRONGPASS") | Some("NOAUTH"))
}

unsafe fn to_js_string(env: sys::napi_env, s: &str) -> napi::Result<sys::napi_value> {
    let mut out = std::ptr::null_mut();
    let status =
        unsafe { sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut out) };
    if status != sys::Status::napi_ok {
        return Err(napi::Error::new(
            Status::GenericFailure,
            "could not create a string",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_errors_name_the_option() {
        let e = StoreError::invalid_option("port", "an integer from 1 to 65535", "70000");
        assert_eq!(e.code, Code::InvalidOption);
        assert!(e.message.contains("`port`"));
        assert!(e.message.contains("70000"));
    }

    #[test]
    fn io_errors_are_connection_errors() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = StoreError::from_redis(&RedisError::from(io), "127.0.0.1:1");
        assert_eq!(e.code, Code::Connection);
        assert!(e.message.contains("127.0.0.1:1"));
    }
}
