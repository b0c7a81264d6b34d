//! How the store reaches Redis: one server, the primary a sentinel names, or a cluster. Each
//! mode makes a `Connection`; everything after that is the same.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{
    AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, ProtocolVersion, PushInfo, PushKind,
    TlsMode,
};
use tokio::sync::{Mutex, Notify};

/// How often the sentinels are asked which server is the primary.
const SENTINEL_POLL_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

use crate::connection::{ConnectError, Connection};
use crate::direct_open::Target;
use crate::error::StoreError;
use crate::options::{Settings, Topology};
use crate::tls_options::TlsOptions;

pub enum Mode {
    /// RESP3 tells of a dropped connection at once; RESP2 is the fallback for servers before
    /// Redis 6 (or with HELLO disabled).
    Standalone {
        resp3: redis::Client,
        resp2: redis::Client,
        use_resp2: AtomicBool,
    },
    /// The sentinels' client and the name of the monitored primary.
    Sentinel(Mutex<SentinelClient>, String),
    Cluster(ClusterClient),
}

fn tls_mode(tls: &TlsOptions) -> TlsMode {
    if tls.insecure {
        TlsMode::Insecure
    } else {
        TlsMode::Secure
    }
}

fn invalid(settings: &Settings, err: redis::RedisError) -> StoreError {
    StoreError::from_redis(&err, &settings.address)
}

impl Mode {
    pub fn new(settings: &Settings) -> Result<Mode, StoreError> {
        match &settings.topology {
            Topology::Standalone(info) => {
                let open = |protocol| {
                    let info = info
                        .clone()
                        .set_redis_settings(settings.redis.clone().set_protocol(protocol));
                    standalone_client(info, settings.tls.as_ref()).map_err(|e| invalid(settings, e))
                };
                Ok(Mode::Standalone {
                    resp3: open(ProtocolVersion::RESP3)?,
                    resp2: open(ProtocolVersion::RESP2)?,
                    use_resp2: AtomicBool::new(false),
                })
            }
            Topology::Sentinel {
                sentinels,
                name,
                username,
                password,
                tls,
            } => {
                let redis = &settings.redis;
                let mut builder =
                    SentinelClientBuilder::new(sentinels.clone(), name, SentinelServerType::Master)
                        .map_err(|e| invalid(settings, e))?
                        .set_client_to_redis_db(redis.db())
                        .set_client_to_redis_protocol(ProtocolVersion::RESP3);
                if let Some(user) = redis.username() {
                    builder = builder.set_client_to_redis_username(user);
                }
                if let Some(pass) = redis.password() {
                    builder = builder.set_client_to_redis_password(pass);
                }
                if let Some(tls) = &settings.tls {
                    builder = builder
                        .set_client_to_redis_tls_mode(tls_mode(tls))
                        .set_client_to_redis_certificates(tls.certificates());
                }
                if let Some(user) = username {
                    builder = builder.set_client_to_sentinel_username(user);
                }
                if let Some(pass) = password {
                    builder = builder.set_client_to_sentinel_password(pass);
                }
                if let Some(tls) = tls {
                    builder = builder
                        .set_client_to_sentinel_tls_mode(tls_mode(tls))
                        .set_client_to_sentinel_certificates(tls.certificates());
                }
                Ok(Mode::Sentinel(
                    Mutex::new(builder.build().map_err(|e| invalid(settings, e))?),
                    name.clone(),
                ))
            }
            Topology::Cluster {
                seeds,
                read_from_replicas,
            } => {
                let redis = &settings.redis;
                let mut builder = ClusterClientBuilder::new(seeds.clone())
                    .connection_timeout(settings.connect_timeout)
                    .response_timeout(settings.command_timeout)
                    .use_protocol(ProtocolVersion::RESP2);
                if let Some(user) = redis.username() {
                    builder = builder.username(user);
                }
                if let Some(pass) = redis.password() {
                    builder = builder.password(pass);
                }
                if let Some(tls) = &settings.tls {
                    builder = builder.tls(tls_mode(tls)).certs(tls.certificates());
                }
                if *read_from_replicas {
                    builder = builder
                        .read_routing_strategy(redis::cluster_read_routing::RandomReplicaStrategy);
                }
                Ok(Mode::Cluster(
                    builder.build().map_err(|e| invalid(settings, e))?,
                ))
            }
        }
    }

    pub async fn connect(&self, settings: &Settings) -> Result<Connection, ConnectError> {
        match self {
            Mode::Standalone {
                resp3,
                resp2,
                use_resp2,
            } => {
                if !use_resp2.load(Ordering::Relaxed) {
                    match connect_single(settings, resp3, true).await {
                        Err(ConnectError::Redis(err)) if no_resp3(&err) => {
                            use_resp2.store(true, Ordering::Relaxed)
                        }
                        other => return other,
                    }
                }
                connect_single(settings, resp2, false).await
            }
            Mode::Sentinel(sentinel, _) => {
                let found = tokio::time::timeout(settings.connect_timeout, async {
                    sentinel.lock().await.async_get_client().await
                })
                .await;
                match found {
                    Ok(Ok(client)) => {
                        let server = server_of(client.get_connection_info().addr());
                        connect_single(settings, &client, true)
                            .await
                            .map(|c| c.serving(server))
                    }
                    Ok(Err(err)) => Err(ConnectError::Redis(err)),
                    Err(_) => Err(ConnectError::TimedOut),
                }
            }
            Mode::Cluster(cluster) => {
                match tokio::time::timeout(settings.connect_timeout, cluster.get_async_connection())
                    .await
                {
                    Ok(Ok(conn)) => Ok(Connection::cluster(
                        conn,
                        settings.command_timeout,
                        settings.address.as_str().into(),
                    )),
                    Ok(Err(err)) => Err(ConnectError::Redis(err)),
                    Err(_) => Err(ConnectError::TimedOut),
                }
            }
        }
    }
}

impl Mode {
    /// Where a main-thread connection beside `conn` goes: the one server it talks to, over
    /// plain TCP or a unix socket (TLS and cluster stay on the background connection).
    pub fn direct_target(&self, settings: &Settings, conn: &Connection) -> Option<Target> {
        if settings.tls.is_some() {
            return None;
        }
        match (self, &settings.topology) {
            (Mode::Standalone { .. }, Topology::Standalone(info)) => match info.addr() {
                ConnectionAddr::Tcp(host, port) => Some(Target::Tcp(host.clone(), *port)),
                ConnectionAddr::Unix(path) => Some(Target::Unix(path.clone())),
                _ => None,
            },
            (Mode::Sentinel(..), _) => conn
                .server()
                .map(|(host, port)| Target::Tcp(host.clone(), *port)),
            _ => None,
        }
    }
}

fn server_of(addr: &ConnectionAddr) -> Option<(String, u16)> {
    match addr {
        ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => {
            Some((host.clone(), *port))
        }
        _ => None,
    }
}

impl Mode {
    /// Resolves when the sentinels name a primary other than the one `conn` talks to (a
    /// failover that left the old primary running, as `SENTINEL FAILOVER` does); never for
    /// the other modes, whose connections break when their server goes.
    pub async fn moved(&self, conn: &Connection) {
        let (Mode::Sentinel(sentinel, name), Some(current)) = (self, conn.server()) else {
            return std::future::pending().await;
        };
        let mut asker: Option<redis::aio::MultiplexedConnection> = None;
        loop {
            tokio::time::sleep(SENTINEL_POLL_EVERY).await;
            if asker.is_none() {
                let client = sentinel.lock().await.async_get_sentinel_client().await;
                if let Ok(client) = client {
                    asker = client.get_multiplexed_async_connection().await.ok();
                }
            }
            let Some(conn) = asker.as_mut() else { continue };
            let mut ask = redis::cmd("SENTINEL");
            ask.arg("get-master-addr-by-name").arg(name);
            let answer = tokio::time::timeout(
                SENTINEL_POLL_EVERY,
                ask.query_async::<Option<(String, u16)>>(conn),
            )
            .await;
            match answer {
                Ok(Ok(Some(primary))) if primary != *current => return,
                Ok(Ok(_)) => {}
                _ => asker = None,
            }
        }
    }
}

fn standalone_client(
    info: ConnectionInfo,
    tls: Option<&TlsOptions>,
) -> redis::RedisResult<redis::Client> {
    match tls {
        Some(tls) => redis::Client::build_with_tls(info, tls.certificates()),
        None => redis::Client::open(info),
    }
}

/// A server before Redis 6 answers HELLO with "unknown command" (redis-rs: RESP3NotSupported);
/// one with HELLO renamed away answers a plain ERR.
fn no_resp3(err: &redis::RedisError) -> bool {
    matches!(
        err.kind(),
        redis::ErrorKind::RESP3NotSupported
            | redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError)
    )
}

/// One connection attempt to one server; `pushes` (RESP3) lets the server tell of a drop.
async fn connect_single(
    settings: &Settings,
    redis: &redis::Client,
    pushes: bool,
) -> Result<Connection, ConnectError> {
    let lost = Arc::new(Notify::new());
    let mut config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(settings.connect_timeout))
        .set_response_timeout(Some(settings.command_timeout));
    if pushes {
        let lost = lost.clone();
        config = config.set_push_sender(move |info: PushInfo| {
            if info.kind == PushKind::Disconnection {
                lost.notify_one();
            }
            Ok::<(), std::convert::Infallible>(())
        });
    }
    let attempt = redis.get_multiplexed_async_connection_with_config(&config);
    match tokio::time::timeout(settings.connect_timeout, attempt).await {
        Ok(Ok(mut conn)) => {
            // A server still loading its dataset accepts the connection but no command: it is
            // not "connected" until it answers a PING.
            let ping_cmd = redis::cmd("PING");
            let ping = ping_cmd.query_async::<redis::Value>(&mut conn);
            if let Ok(Err(err)) = tokio::time::timeout(settings.command_timeout, ping).await {
                if err.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::BusyLoading) {
                    return Err(ConnectError::Redis(err));
                }
            }
            Ok(Connection::single(
                conn,
                lost,
                pushes,
                settings.command_timeout,
                settings.address.as_str().into(),
            ))
        }
        Ok(Err(err)) => Err(ConnectError::Redis(err)),
        Err(_) => Err(ConnectError::TimedOut),
    }
}
