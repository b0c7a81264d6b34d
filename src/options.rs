//! Connection options: checked and turned into what redis-rs needs for the chosen topology
//! (standalone, cluster or sentinel), with TLS in every mode. The parsing is pure Rust
//! (`resolve`), unit-tested and fuzzed without Node; `raw.rs` reads the JavaScript values.

use std::time::Duration;

use napi::bindgen_prelude::{JsObjectValue, Object};
use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo};

use crate::error::StoreError;
pub use crate::raw::Raw;
use crate::tls_options::{self, TlsOptions};

pub const DEFAULT_HOST: &str = "127.0.0.1";
pub const DEFAULT_PORT: u16 = 6379;
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_COMMAND_TIMEOUT_MS: u64 = 5_000;

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
    pub cluster: Option<Raw>,
    pub read_from_replicas: Option<Raw>,
    pub sentinel: Option<Raw>,
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
    ("cluster", &[]),
    ("readFromReplicas", &[]),
    ("sentinel", &[]),
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
            "cluster" => &mut self.cluster,
            "readFromReplicas" => &mut self.read_from_replicas,
            "sentinel" => &mut self.sentinel,
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
                if let Some(value) = Raw::from_js(object.get_named_property(name)?)? {
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

/// Where the data lives.
#[derive(Debug, Clone)]
pub enum Topology {
    Standalone(ConnectionInfo),
    Cluster {
        seeds: Vec<ConnectionInfo>,
        read_from_replicas: bool,
    },
    Sentinel {
        sentinels: Vec<ConnectionAddr>,
        name: String,
        username: Option<String>,
        password: Option<String>,
        tls: Option<TlsOptions>,
    },
}

/// Everything the client needs to connect, decided once.
#[derive(Debug, Clone)]
pub struct Settings {
    pub topology: Topology,
    /// db, credentials and client name for the data nodes.
    pub redis: RedisConnectionInfo,
    pub tls: Option<TlsOptions>,
    /// `host:port`, the socket path, or a description of the topology, for messages and
    /// `client.address`.
    pub address: String,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
}

pub fn resolve(raw: &RawOptions) -> Result<Settings, StoreError> {
    let topology_options = [("cluster", &raw.cluster), ("sentinel", &raw.sentinel)];
    let chosen: Vec<&str> = topology_options
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(n, _)| *n)
        .collect();
    if chosen.len() > 1 || (!chosen.is_empty() && (raw.url.is_some() || raw.socket.is_some())) {
        return Err(StoreError::invalid_option(
            chosen.first().copied().unwrap_or("cluster"),
            "used alone (one of url/socket/host, cluster or sentinel)",
            "several connection modes at once",
        ));
    }

    let (topology, base) = if let Some(cluster) = &raw.cluster {
        (
            cluster_topology(cluster, raw)?,
            RedisConnectionInfo::default(),
        )
    } else if let Some(sentinel) = &raw.sentinel {
        (sentinel_topology(sentinel)?, RedisConnectionInfo::default())
    } else {
        let info = standalone_info(raw)?;
        let base = info.redis_settings().clone();
        (Topology::Standalone(info), base)
    };

    let redis = redis_settings(raw, base, &topology)?;
    let url_tls = match &topology {
        Topology::Standalone(info) => matches!(info.addr(), ConnectionAddr::TcpTls { .. }),
        Topology::Cluster { seeds, .. } => seeds
            .iter()
            .any(|s| matches!(s.addr(), ConnectionAddr::TcpTls { .. })),
        Topology::Sentinel { .. } => false,
    };
    let tls = tls_options::resolve("tls", raw.tls.as_ref(), url_tls)?;
    let topology = with_tls(topology, tls.as_ref(), &redis)?;

    Ok(Settings {
        address: describe(&topology),
        topology,
        redis,
        tls,
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

fn standalone_info(raw: &RawOptions) -> Result<ConnectionInfo, StoreError> {
    let url = match (&raw.url, &raw.socket) {
        (Some(url), _) => Some(string("url", url, "a redis://, rediss:// or unix:// URL")?),
        // connect-redis 3.x passed `socket` to node_redis, which treated a URL string as a URL.
        (None, Some(socket)) => {
            let socket = string("socket", socket, "a unix socket path")?;
            looks_like_url(&socket).then_some(socket)
        }
        (None, None) => None,
    };
    match (url, &raw.socket) {
        (Some(url), _) => parse_url("url", &url),
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
                })
        }
        (None, None) => {
            let host = match &raw.host {
                Some(h) => host("host", h)?,
                None => DEFAULT_HOST.to_string(),
            };
            let port = match &raw.port {
                Some(p) => port("port", p)?,
                None => DEFAULT_PORT,
            };
            ConnectionAddr::Tcp(host, port)
                .into_connection_info()
                .map_err(|e| {
                    StoreError::invalid_option("host", "a host name or IP address", &e.to_string())
                })
        }
    }
}

/// A node given as `{ host, port }` or as a URL.
fn node(name: &str, value: &Raw) -> Result<ConnectionInfo, StoreError> {
    match value {
        Raw::Str(url) => parse_url(name, url),
        Raw::Obj(_) => {
            let host = match value.get("host") {
                Some(h) => host(&format!("{name}.host"), h)?,
                None => DEFAULT_HOST.to_string(),
            };
            let port = match value.get("port") {
                Some(p) => port(&format!("{name}.port"), p)?,
                None => DEFAULT_PORT,
            };
            ConnectionAddr::Tcp(host, port)
                .into_connection_info()
                .map_err(|e| {
                    StoreError::invalid_option(
                        name,
                        "{ host, port } or a redis:// URL",
                        &e.to_string(),
                    )
                })
        }
        other => Err(StoreError::invalid_option(
            name,
            "{ host, port } or a redis:// URL",
            &other.describe(),
        )),
    }
}

fn nodes(name: &str, value: &Raw) -> Result<Vec<ConnectionInfo>, StoreError> {
    let expected = "a non-empty array of { host, port } or redis:// URLs";
    let Raw::List(items) = value else {
        return Err(StoreError::invalid_option(
            name,
            expected,
            &value.describe(),
        ));
    };
    if items.is_empty() {
        return Err(StoreError::invalid_option(name, expected, "an empty array"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| node(&format!("{name}[{i}]"), item))
        .collect()
}

fn cluster_topology(value: &Raw, raw: &RawOptions) -> Result<Topology, StoreError> {
    let read_from_replicas = match &raw.read_from_replicas {
        None => false,
        Some(Raw::Bool(b)) => *b,
        Some(other) => {
            return Err(StoreError::invalid_option(
                "readFromReplicas",
                "a boolean",
                &other.describe(),
            ))
        }
    };
    Ok(Topology::Cluster {
        seeds: nodes("cluster", value)?,
        read_from_replicas,
    })
}

fn sentinel_topology(value: &Raw) -> Result<Topology, StoreError> {
    if !matches!(value, Raw::Obj(_)) {
        return Err(StoreError::invalid_option(
            "sentinel",
            "an object { sentinels: [{ host, port }], name }",
            &value.describe(),
        ));
    }
    let sentinels = nodes(
        "sentinel.sentinels",
        value.get("sentinels").unwrap_or(&Raw::Other("undefined")),
    )?;
    let name = match value.get("name") {
        Some(Raw::Str(n)) if !n.is_empty() => n.clone(),
        other => {
            return Err(StoreError::invalid_option(
                "sentinel.name",
                "the name of the monitored primary (e.g. \"mymaster\")",
                &other.map(Raw::describe).unwrap_or_else(|| "nothing".into()),
            ))
        }
    };
    let optional = |key: &str| -> Result<Option<String>, StoreError> {
        value
            .get(key)
            .map(|v| string(&format!("sentinel.{key}"), v, "a string"))
            .transpose()
    };
    let tls = tls_options::resolve("sentinel.tls", value.get("tls"), false)?;
    let mut addrs = Vec::with_capacity(sentinels.len());
    for info in sentinels {
        let addr = match (info.addr().clone(), &tls) {
            (ConnectionAddr::Tcp(host, port), Some(tls)) => tls.addr(host, port),
            (addr, _) => addr,
        };
        addrs.push(addr);
    }
    // Data-node credentials given inside `sentinel` are read by `redis_settings`.
    Ok(Topology::Sentinel {
        sentinels: addrs,
        name,
        username: optional("sentinelUsername")?,
        password: optional("sentinelPassword")?,
        tls,
    })
}

fn redis_settings(
    raw: &RawOptions,
    mut redis: RedisConnectionInfo,
    topology: &Topology,
) -> Result<RedisConnectionInfo, StoreError> {
    let inner = |key: &str| raw.sentinel.as_ref().and_then(|s| s.get(key));
    if let Some(db) = &raw.db {
        let db = database(db)?;
        if db != 0 && matches!(topology, Topology::Cluster { .. }) {
            return Err(StoreError::invalid_option(
                "db",
                "0 in cluster mode (Redis Cluster has one database)",
                &db.to_string(),
            ));
        }
        redis = redis.set_db(db);
    }
    if let Some(password) = inner("password").or(raw.password.as_ref()) {
        redis = redis.set_password(string("password", password, "a string")?);
    }
    if let Some(username) = inner("username").or(raw.username.as_ref()) {
        redis = redis.set_username(string("username", username, "a string")?);
    }
    Ok(redis.set_lib_name("connect-redis-rs", env!("CARGO_PKG_VERSION")))
}

/// Puts the TLS mode into every address and the data-node settings into standalone's info.
fn with_tls(
    topology: Topology,
    tls: Option<&TlsOptions>,
    redis: &RedisConnectionInfo,
) -> Result<Topology, StoreError> {
    let secure = |info: ConnectionInfo| -> Result<ConnectionInfo, StoreError> {
        let addr = match (info.addr().clone(), tls) {
            (ConnectionAddr::Tcp(host, port), Some(tls)) => tls.addr(host, port),
            (ConnectionAddr::TcpTls { host, port, .. }, Some(tls)) => tls.addr(host, port),
            (ConnectionAddr::Unix(_), Some(_)) => {
                return Err(StoreError::invalid_option(
                    "tls",
                    "unset for a unix socket",
                    "a TLS setting",
                ))
            }
            (addr, _) => addr,
        };
        Ok(info.set_addr(addr))
    };
    Ok(match topology {
        Topology::Standalone(info) => {
            Topology::Standalone(secure(info)?.set_redis_settings(redis.clone()))
        }
        Topology::Cluster {
            seeds,
            read_from_replicas,
        } => Topology::Cluster {
            seeds: seeds.into_iter().map(secure).collect::<Result<_, _>>()?,
            read_from_replicas,
        },
        sentinel @ Topology::Sentinel { .. } => sentinel,
    })
}

fn describe(topology: &Topology) -> String {
    let addr = |info: &ConnectionInfo| match info.addr() {
        ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => {
            format!("{host}:{port}")
        }
        ConnectionAddr::Unix(path) => path.display().to_string(),
        _ => "redis".to_string(),
    };
    match topology {
        Topology::Standalone(info) => addr(info),
        Topology::Cluster { seeds, .. } => {
            format!(
                "cluster {}",
                seeds.iter().map(addr).collect::<Vec<_>>().join(",")
            )
        }
        Topology::Sentinel {
            name, sentinels, ..
        } => {
            let list: Vec<String> = sentinels
                .iter()
                .map(|a| match a {
                    ConnectionAddr::Tcp(h, p)
                    | ConnectionAddr::TcpTls {
                        host: h, port: p, ..
                    } => format!("{h}:{p}"),
                    other => format!("{other:?}"),
                })
                .collect();
            format!("sentinel {name}@{}", list.join(","))
        }
    }
}

fn host(name: &str, value: &Raw) -> Result<String, StoreError> {
    let h = string(name, value, "a host name or IP address")?;
    if h.is_empty() {
        return Err(StoreError::invalid_option(
            name,
            "a host name or IP address",
            "\"\"",
        ));
    }
    Ok(h)
}

fn looks_like_url(s: &str) -> bool {
    s.contains("://")
}

fn parse_url(name: &str, url: &str) -> Result<ConnectionInfo, StoreError> {
    let expected = "a redis://, rediss:// or unix:// URL";
    if !looks_like_url(url) {
        return Err(StoreError::invalid_option(
            name,
            expected,
            &format!("{url:?}"),
        ));
    }
    url.into_connection_info()
        .map_err(|e| StoreError::invalid_option(name, expected, &format!("{url:?} ({e})")))
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

fn port(name: &str, value: &Raw) -> Result<u16, StoreError> {
    let expected = "an integer from 1 to 65535";
    integer(value)
        .filter(|p| (1..=65535).contains(p))
        .map(|p| p as u16)
        .ok_or_else(|| StoreError::invalid_option(name, expected, &value.describe()))
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
        assert_eq!(settings.redis.db(), 0);
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
        let redis = settings.redis;
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
        assert_eq!(settings.redis.db(), 5);
        assert_eq!(settings.redis.password(), Some("pw"));
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
        assert_eq!(settings.redis.db(), 2);
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

    fn obj(entries: &[(&str, Raw)]) -> Raw {
        Raw::Obj(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn cluster_seeds_as_objects_or_urls() {
        let raw = RawOptions {
            cluster: Some(Raw::List(vec![
                obj(&[
                    ("host", Raw::Str("10.0.0.1".into())),
                    ("port", Raw::Num(7000.0)),
                ]),
                Raw::Str("redis://10.0.0.2:7001".into()),
            ])),
            password: s("pw"),
            ..Default::default()
        };
        let settings = resolve(&raw).unwrap();
        let Topology::Cluster {
            seeds,
            read_from_replicas,
        } = &settings.topology
        else {
            panic!("not a cluster")
        };
        assert_eq!(seeds.len(), 2);
        assert!(!read_from_replicas);
        assert_eq!(settings.address, "cluster 10.0.0.1:7000,10.0.0.2:7001");
        assert_eq!(settings.redis.password(), Some("pw"));
    }

    #[test]
    fn cluster_rejects_empty_seeds_a_db_and_a_second_mode() {
        let empty = RawOptions {
            cluster: Some(Raw::List(vec![])),
            ..Default::default()
        };
        assert!(resolve(&empty).unwrap_err().message.contains("`cluster`"));
        let seeds = Some(Raw::List(vec![Raw::Str("redis://h:1".into())]));
        let db = RawOptions {
            cluster: seeds.clone(),
            db: Some(Raw::Num(2.0)),
            ..Default::default()
        };
        assert!(resolve(&db).unwrap_err().message.contains("`db`"));
        let both = RawOptions {
            cluster: seeds,
            url: s("redis://h:2"),
            ..Default::default()
        };
        assert!(resolve(&both).is_err());
    }

    #[test]
    fn sentinel_needs_sentinels_and_a_name() {
        let good = obj(&[
            (
                "sentinels",
                Raw::List(vec![obj(&[
                    ("host", Raw::Str("h".into())),
                    ("port", Raw::Num(26379.0)),
                ])]),
            ),
            ("name", Raw::Str("mymaster".into())),
            ("password", Raw::Str("data-pw".into())),
            ("sentinelPassword", Raw::Str("sentinel-pw".into())),
        ]);
        let settings = resolve(&RawOptions {
            sentinel: Some(good),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(settings.address, "sentinel mymaster@h:26379");
        assert_eq!(settings.redis.password(), Some("data-pw"));
        let Topology::Sentinel { password, .. } = &settings.topology else {
            panic!("not sentinel")
        };
        assert_eq!(password.as_deref(), Some("sentinel-pw"));

        let nameless = obj(&[(
            "sentinels",
            Raw::List(vec![Raw::Str("redis://h:26379".into())]),
        )]);
        let err = resolve(&RawOptions {
            sentinel: Some(nameless),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.message.contains("`sentinel.name`"), "{}", err.message);
    }

    #[test]
    fn tls_turns_addresses_secure_and_refuses_unix_sockets() {
        let raw = RawOptions {
            tls: Some(Raw::Bool(true)),
            ..Default::default()
        };
        let Topology::Standalone(info) = resolve(&raw).unwrap().topology else {
            panic!()
        };
        assert!(matches!(
            info.addr(),
            ConnectionAddr::TcpTls {
                insecure: false,
                ..
            }
        ));
        let raw = RawOptions {
            url: s("rediss://h:6380"),
            ..Default::default()
        };
        assert!(resolve(&raw).unwrap().tls.is_some());
        let raw = RawOptions {
            socket: s("/tmp/r.sock"),
            tls: Some(Raw::Bool(true)),
            ..Default::default()
        };
        assert!(resolve(&raw).unwrap_err().message.contains("`tls`"));
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
