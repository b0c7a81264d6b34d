//! Connection options: read from the user's JavaScript object, checked, and turned into a
//! redis-rs `ConnectionInfo`. The parsing is pure Rust (`resolve`) so it is unit-tested and
//! fuzzed without Node.

use std::time::Duration;

use napi::bindgen_prelude::{JsObjectValue, Object};
use napi::{JsValue, ValueType};
use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo};

use crate::error::StoreError;

pub const DEFAULT_HOST: &str = "127.0.0.1";
pub const DEFAULT_PORT: u16 = 6379;
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_COMMAND_TIMEOUT_MS: u64 = 5_000;

/// One option value as it came from JavaScript.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Str(String),
    Num(f64),
    Bool(bool),
    /// Any other type, by its `typeof` name.
    Other(&'static str),
}

impl Raw {
    fn describe(&self) -> String {
        match self {
            Raw::Str(s) => format!("{s:?}"),
            Raw::Num(n) => format!("{n}"),
            Raw::Bool(b) => format!("{b}"),
            Raw::Other(t) => format!("a value of type {t}"),
        }
    }
}

/// The connection options a user can give, aliases included (node_redis names first).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RawOptions {
    pub url: Option<Raw>,
    pub host: Option<Raw>,
    pub port: Option<Raw>,
    pub socket: Option<Raw>,
    pub db: Option<Raw>,
    pub password: Option<Raw>,
    pub username: Option<Raw>,
    pub tls: Option<Raw>,
    pub connect_timeout: Option<Raw>,
    pub command_timeout: Option<Raw>,
}

/// Option names as JavaScript spells them: (canonical, aliases…).
const NAMES: &[(&str, &[&str])] = &[
    ("url", &[]),
    ("host", &[]),
    ("port", &[]),
    ("socket", &["path"]),
    ("db", &["database"]),
    ("password", &["pass", "auth_pass"]),
    ("username", &["user"]),
    ("tls", &[]),
    ("connectTimeout", &["connect_timeout"]),
    ("commandTimeout", &[]),
];

impl RawOptions {
    fn slot(&mut self, canonical: &str) -> Option<&mut Option<Raw>> {
        Some(match canonical {
            "url" => &mut self.url,
            "host" => &mut self.host,
            "port" => &mut self.port,
            "socket" => &mut self.socket,
            "db" => &mut self.db,
            "password" => &mut self.password,
            "username" => &mut self.username,
            "tls" => &mut self.tls,
            "connectTimeout" => &mut self.connect_timeout,
            "commandTimeout" => &mut self.command_timeout,
            _ => return None,
        })
    }

    /// Reads the known names from a JavaScript object; the canonical name wins over an alias.
    pub fn from_js(object: &Object) -> napi::Result<RawOptions> {
        let mut raw = RawOptions::default();
        for (canonical, aliases) in NAMES {
            let mut found = None;
            for name in std::iter::once(canonical).chain(aliases.iter()) {
                if let Some(value) = read(object, name)? {
                    found = Some(value);
                    break;
                }
            }
            if let Some(slot) = raw.slot(canonical) {
                *slot = found;
            }
        }
        Ok(raw)
    }
}

fn read(object: &Object, name: &str) -> napi::Result<Option<Raw>> {
    let value: napi::Unknown = object.get_named_property(name)?;
    Ok(match value.get_type()? {
        ValueType::Undefined | ValueType::Null => None,
        ValueType::String => Some(Raw::Str(
            value.coerce_to_string()?.into_utf8()?.into_owned()?,
        )),
        ValueType::Number => Some(Raw::Num(value.coerce_to_number()?.get_double()?)),
        ValueType::Boolean => Some(Raw::Bool(value.coerce_to_bool()?)),
        ValueType::Object => Some(Raw::Other("object")),
        ValueType::Function => Some(Raw::Other("function")),
        ValueType::BigInt => Some(Raw::Other("bigint")),
        ValueType::Symbol => Some(Raw::Other("symbol")),
        _ => Some(Raw::Other("unknown")),
    })
}

/// Everything the client needs to connect, decided once.
#[derive(Debug, Clone)]
pub struct Settings {
    pub info: ConnectionInfo,
    /// `host:port` or the socket path, for messages and `client.address`.
    pub address: String,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
}

pub fn resolve(raw: &RawOptions) -> Result<Settings, StoreError> {
    let url = match (&raw.url, &raw.socket) {
        (Some(url), _) => Some(string("url", url, "a redis://, rediss:// or unix:// URL")?),
        // connect-redis 3.x passed `socket` to node_redis, which treated a URL string as a URL.
        (None, Some(socket)) => {
            let socket = string("socket", socket, "a unix socket path")?;
            looks_like_url(&socket).then_some(socket)
        }
        (None, None) => None,
    };

    let mut info = match (url, &raw.socket) {
        (Some(url), _) => parse_url(&url)?,
        (None, Some(socket)) => {
            let path = string("socket", socket, "a unix socket path")?;
            if path.is_empty() {
                return Err(StoreError::invalid_option(
                    "socket",
                    "a unix socket path",
                    "\"\"",
                ));
            }
            ConnectionAddr::Unix(path.into())
                .into_connection_info()
                .map_err(|e| {
                    StoreError::invalid_option("socket", "a unix socket path", &e.to_string())
                })?
        }
        (None, None) => {
            let host = match &raw.host {
                Some(h) => {
                    let h = string("host", h, "a host name or IP address")?;
                    if h.is_empty() {
                        return Err(StoreError::invalid_option(
                            "host",
                            "a host name or IP address",
                            "\"\"",
                        ));
                    }
                    h
                }
                None => DEFAULT_HOST.to_string(),
            };
            let port = match &raw.port {
                Some(p) => port(p)?,
                None => DEFAULT_PORT,
            };
            ConnectionAddr::Tcp(host, port)
                .into_connection_info()
                .map_err(|e| {
                    StoreError::invalid_option("host", "a host name or IP address", &e.to_string())
                })?
        }
    };

    if raw.tls.is_some() || matches!(info.addr(), ConnectionAddr::TcpTls { .. }) {
        return Err(StoreError::invalid_option(
            "tls",
            "unset in this version (TLS connections are not built in yet; use a TLS tunnel or a foreign client)",
            raw.tls.as_ref().map(Raw::describe).as_deref().unwrap_or("a rediss:// URL"),
        ));
    }

    let mut redis = info.redis_settings().clone();
    if let Some(db) = &raw.db {
        redis = redis.set_db(database(db)?);
    }
    if let Some(password) = &raw.password {
        redis = redis.set_password(string("password", password, "a string")?);
    }
    if let Some(username) = &raw.username {
        redis = redis.set_username(string("username", username, "a string")?);
    }
    redis = redis.set_lib_name("connect-redis-rs", env!("CARGO_PKG_VERSION"));
    info = info.set_redis_settings(redis);

    let address = match info.addr() {
        ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => {
            format!("{host}:{port}")
        }
        ConnectionAddr::Unix(path) => path.display().to_string(),
        _ => "redis".to_string(),
    };

    Ok(Settings {
        info,
        address,
        connect_timeout: millis(
            "connectTimeout",
            raw.connect_timeout.as_ref(),
            DEFAULT_CONNECT_TIMEOUT_MS,
        )?,
        command_timeout: millis(
            "commandTimeout",
            raw.command_timeout.as_ref(),
            DEFAULT_COMMAND_TIMEOUT_MS,
        )?,
    })
}

fn looks_like_url(s: &str) -> bool {
    s.contains("://")
}

fn parse_url(url: &str) -> Result<ConnectionInfo, StoreError> {
    let expected = "a redis://, rediss:// or unix:// URL";
    if !looks_like_url(url) {
        return Err(StoreError::invalid_option(
            "url",
            expected,
            &format!("{url:?}"),
        ));
    }
    url.into_connection_info()
        .map_err(|e| StoreError::invalid_option("url", expected, &format!("{url:?} ({e})")))
}

fn string(name: &str, value: &Raw, expected: &str) -> Result<String, StoreError> {
    match value {
        Raw::Str(s) => Ok(s.clone()),
        other => Err(StoreError::invalid_option(
            name,
            expected,
            &other.describe(),
        )),
    }
}

/// A number, or a string holding a decimal integer (`"6379"`), as node_redis accepted.
fn integer(value: &Raw) -> Option<i64> {
    match value {
        Raw::Num(n) if n.fract() == 0.0 && n.is_finite() && n.abs() < 9.0e15 => Some(*n as i64),
        Raw::Str(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

fn port(value: &Raw) -> Result<u16, StoreError> {
    let expected = "an integer from 1 to 65535";
    integer(value)
        .filter(|p| (1..=65535).contains(p))
        .map(|p| p as u16)
        .ok_or_else(|| StoreError::invalid_option("port", expected, &value.describe()))
}

fn database(value: &Raw) -> Result<i64, StoreError> {
    integer(value).filter(|db| *db >= 0).ok_or_else(|| {
        StoreError::invalid_option(
            "db",
            "a non-negative integer or integer string",
            &value.describe(),
        )
    })
}

fn millis(name: &str, value: Option<&Raw>, default: u64) -> Result<Duration, StoreError> {
    let Some(value) = value else {
        return Ok(Duration::from_millis(default));
    };
    integer(value)
        .filter(|ms| *ms > 0 && *ms <= 24 * 3600 * 1000)
        .map(|ms| Duration::from_millis(ms as u64))
        .ok_or_else(|| {
            StoreError::invalid_option(name, "a positive number of milliseconds", &value.describe())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    fn s(v: &str) -> Option<Raw> {
        Some(Raw::Str(v.to_string()))
    }

    #[test]
    fn defaults_to_localhost_6379() {
        let settings = resolve(&RawOptions::default()).unwrap();
        assert_eq!(settings.address, "127.0.0.1:6379");
        assert_eq!(settings.info.redis_settings().db(), 0);
        assert_eq!(
            settings.command_timeout,
            Duration::from_millis(DEFAULT_COMMAND_TIMEOUT_MS)
        );
    }

    #[test]
    fn url_gives_host_port_db_and_credentials() {
        let raw = RawOptions {
            url: s("redis://alice:s3cret@example.com:6380/4"),
            ..Default::default()
        };
        let settings = resolve(&raw).unwrap();
        assert_eq!(settings.address, "example.com:6380");
        let redis = settings.info.redis_settings();
        assert_eq!(redis.db(), 4);
        assert_eq!(redis.username(), Some("alice"));
        assert_eq!(redis.password(), Some("s3cret"));
    }

    #[test]
    fn explicit_options_override_the_url() {
        let raw = RawOptions {
            url: s("redis://127.0.0.1:7000/1"),
            db: Some(Raw::Str("5".into())),
            password: s("pw"),
            ..Default::default()
        };
        let settings = resolve(&raw).unwrap();
        assert_eq!(settings.info.redis_settings().db(), 5);
        assert_eq!(settings.info.redis_settings().password(), Some("pw"));
    }

    #[test]
    fn unix_socket_by_path_and_by_url() {
        let raw = RawOptions {
            socket: s("/tmp/redis.sock"),
            ..Default::default()
        };
        assert_eq!(resolve(&raw).unwrap().address, "/tmp/redis.sock");
        let raw = RawOptions {
            url: s("unix:///tmp/r.sock?db=2"),
            ..Default::default()
        };
        let settings = resolve(&raw).unwrap();
        assert_eq!(settings.address, "/tmp/r.sock");
        assert_eq!(settings.info.redis_settings().db(), 2);
    }

    #[test]
    fn a_socket_that_is_a_url_is_a_url() {
        let raw = RawOptions {
            socket: s("redis://10.0.0.1:6390"),
            ..Default::default()
        };
        assert_eq!(resolve(&raw).unwrap().address, "10.0.0.1:6390");
    }

    #[test]
    fn bad_values_name_the_option() {
        let cases = [
            (
                RawOptions {
                    port: Some(Raw::Num(70000.0)),
                    ..Default::default()
                },
                "`port`",
            ),
            (
                RawOptions {
                    port: s("abc"),
                    ..Default::default()
                },
                "`port`",
            ),
            (
                RawOptions {
                    db: s("x"),
                    ..Default::default()
                },
                "`db`",
            ),
            (
                RawOptions {
                    db: Some(Raw::Num(1.5)),
                    ..Default::default()
                },
                "`db`",
            ),
            (
                RawOptions {
                    url: s("not a url"),
                    ..Default::default()
                },
                "`url`",
            ),
            (
                RawOptions {
                    url: s("http://example.com"),
                    ..Default::default()
                },
                "`url`",
            ),
            (
                RawOptions {
                    host: Some(Raw::Num(5.0)),
                    ..Default::default()
                },
                "`host`",
            ),
            (
                RawOptions {
                    password: Some(Raw::Other("object")),
                    ..Default::default()
                },
                "`password`",
            ),
            (
                RawOptions {
                    command_timeout: Some(Raw::Num(-1.0)),
                    ..Default::default()
                },
                "`commandTimeout`",
            ),
        ];
        for (raw, name) in cases {
            let err = resolve(&raw).unwrap_err();
            assert_eq!(err.code, Code::InvalidOption, "{raw:?}");
            assert!(
                err.message.contains(name),
                "{} should name {name}",
                err.message
            );
        }
    }

    #[test]
    fn port_accepts_numeric_strings() {
        let raw = RawOptions {
            port: s("6380"),
            ..Default::default()
        };
        assert_eq!(resolve(&raw).unwrap().address, "127.0.0.1:6380");
    }
}
