//! One live connection of the current mode: a multiplexed connection to one server
//! (standalone, or the primary a sentinel named) or a cluster connection that routes by slot.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, Pipeline, RedisError, ServerErrorKind, Value};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::error::{Code, StoreError};

/// Without RESP3 push messages a dropped idle connection is found by pinging it this often.
const HEALTH_CHECK_EVERY: Duration = Duration::from_secs(1);
/// Cluster bulk work sends at most this many commands at once.
const CLUSTER_WAVE: usize = 256;

pub enum ConnectError {
    Redis(RedisError),
    TimedOut,
}

#[derive(Clone)]
enum Conn {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

/// Where a bulk operation's SCAN runs: the one server, or each cluster primary.
pub enum ScanNode {
    Single,
    Primary { host: String, port: u16 },
}

#[derive(Clone)]
pub struct Connection {
    conn: Conn,
    /// Wakes the supervisor when this connection is found broken.
    lost: Arc<Notify>,
    /// Whether the server pushes a disconnection notice (RESP3); otherwise it is pinged.
    pushes: bool,
    timeout: Duration,
    address: Arc<str>,
    /// The server a sentinel named, to notice when it names another.
    server: Option<(String, u16)>,
}

/// A dropped connection, or a server that became a replica under us (sentinel failover).
pub fn breaks_connection(err: &RedisError) -> bool {
    err.is_connection_dropped()
        || err.is_io_error()
        || err.is_unrecoverable_error()
        || err.kind() == redis::ErrorKind::Server(ServerErrorKind::ReadOnly)
}

impl Connection {
    pub fn single(
        conn: MultiplexedConnection,
        lost: Arc<Notify>,
        pushes: bool,
        timeout: Duration,
        address: Arc<str>,
    ) -> Self {
        Connection {
            conn: Conn::Single(conn),
            lost,
            pushes,
            timeout,
            address,
            server: None,
        }
    }

    pub fn cluster(conn: ClusterConnection, timeout: Duration, address: Arc<str>) -> Self {
        Connection {
            conn: Conn::Cluster(conn),
            lost: Arc::default(),
            pushes: false,
            timeout,
            address,
            server: None,
        }
    }

    pub fn serving(mut self, server: Option<(String, u16)>) -> Self {
        self.server = server;
        self
    }

    pub fn server(&self) -> Option<&(String, u16)> {
        self.server.as_ref()
    }

    pub fn same_as(&self, other: &Connection) -> bool {
        Arc::ptr_eq(&self.lost, &other.lost)
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self.conn, Conn::Cluster(_))
    }

    fn failed(&self, err: &RedisError) -> StoreError {
        if breaks_connection(err) && !self.is_cluster() {
            self.lost.notify_one();
        }
        StoreError::from_redis(err, &self.address)
    }

    fn timed_out(&self) -> StoreError {
        StoreError::timeout(&self.address, self.timeout.as_millis() as u64)
    }

    /// Sends the commands of `pipe` (there are `count`) and returns one result per command.
    /// One server gets them as one pipeline; a cluster gets each routed by its key.
    pub async fn pipeline(&self, pipe: &Pipeline, count: usize) -> Vec<Result<Value, StoreError>> {
        match &self.conn {
            Conn::Single(conn) => {
                let mut conn = conn.clone();
                let sent =
                    tokio::time::timeout(self.timeout, conn.send_packed_commands(pipe, 0, count))
                        .await;
                let whole = match sent {
                    Ok(Ok(values)) => {
                        return values.into_iter().map(|v| self.server_reply(v)).collect()
                    }
                    Ok(Err(err)) => self.failed(&err),
                    Err(_) => self.timed_out(),
                };
                (0..count).map(|_| Err(whole.clone())).collect()
            }
            Conn::Cluster(_) => {
                let cmds: Vec<Cmd> = pipe.cmd_iter().cloned().collect();
                let mut results = Vec::with_capacity(cmds.len());
                for wave in cmds.chunks(CLUSTER_WAVE) {
                    results.extend(self.each(wave.to_vec()).await);
                }
                results
            }
        }
    }

    /// A server error inside a pipeline stays that command's own failure.
    fn server_reply(&self, value: Value) -> Result<Value, StoreError> {
        match value {
            Value::ServerError(err) => Err(self.failed(&RedisError::from(err))),
            other => Ok(other),
        }
    }

    /// Runs cluster commands concurrently (each routed by its key), results in order.
    async fn each(&self, cmds: Vec<Cmd>) -> Vec<Result<Value, StoreError>> {
        let Conn::Cluster(conn) = &self.conn else {
            return Vec::new();
        };
        let mut tasks = JoinSet::new();
        let count = cmds.len();
        for (i, cmd) in cmds.into_iter().enumerate() {
            let mut conn = conn.clone();
            let timeout = self.timeout;
            tasks.spawn(async move {
                (
                    i,
                    tokio::time::timeout(
                        timeout,
                        async move { conn.req_packed_command(&cmd).await },
                    )
                    .await,
                )
            });
        }
        let mut results: Vec<Result<Value, StoreError>> =
            (0..count).map(|_| Err(self.timed_out())).collect();
        while let Some(joined) = tasks.join_next().await {
            let Ok((i, outcome)) = joined else { continue };
            results[i] = match outcome {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(err)) => Err(self.failed(&err)),
                Err(_) => Err(self.timed_out()),
            };
        }
        results
    }

    /// One command on a given node (for SCAN), or routed by key on one server.
    pub async fn on_node(&self, node: &ScanNode, cmd: Cmd) -> Result<Value, StoreError> {
        let sent =
            match (&self.conn, node) {
                (Conn::Cluster(conn), ScanNode::Primary { host, port }) => {
                    let mut conn = conn.clone();
                    let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                        host: host.clone(),
                        port: *port,
                    });
                    tokio::time::timeout(self.timeout, async move {
                        conn.route_command(cmd, route).await
                    })
                    .await
                }
                (Conn::Single(conn), _) => {
                    let mut conn = conn.clone();
                    tokio::time::timeout(self.timeout, async move {
                        conn.send_packed_command(&cmd).await
                    })
                    .await
                }
                (Conn::Cluster(conn), ScanNode::Single) => {
                    let mut conn = conn.clone();
                    tokio::time::timeout(self.timeout, async move {
                        conn.req_packed_command(&cmd).await
                    })
                    .await
                }
            };
        match sent {
            Ok(Ok(value)) => self.server_reply(value),
            Ok(Err(err)) => Err(self.failed(&err)),
            Err(_) => Err(self.timed_out()),
        }
    }

    /// The nodes a SCAN must visit to see every key.
    pub async fn scan_nodes(&self) -> Result<Vec<ScanNode>, StoreError> {
        if !self.is_cluster() {
            return Ok(vec![ScanNode::Single]);
        }
        let mut cmd = redis::cmd("CLUSTER");
        cmd.arg("SLOTS");
        let slots = self.on_node(&ScanNode::Single, cmd).await?;
        let mut primaries: Vec<(String, u16)> = Vec::new();
        if let Value::Array(ranges) = slots {
            for range in ranges {
                let Value::Array(parts) = range else { continue };
                let Some(Value::Array(primary)) = parts.get(2) else {
                    continue;
                };
                let host = match primary.first() {
                    Some(Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
                    Some(Value::SimpleString(s)) => s.clone(),
                    _ => continue,
                };
                let Some(Value::Int(port)) = primary.get(1) else {
                    continue;
                };
                let Ok(port) = u16::try_from(*port) else {
                    continue;
                };
                if !primaries.iter().any(|(h, p)| *h == host && *p == port) {
                    primaries.push((host, port));
                }
            }
        }
        if primaries.is_empty() {
            return Err(StoreError::new(
                Code::Server,
                "connect-redis-rs: CLUSTER SLOTS named no primary",
            ));
        }
        Ok(primaries
            .into_iter()
            .map(|(host, port)| ScanNode::Primary { host, port })
            .collect())
    }

    /// Tells the supervisor that this connection, or the main-thread connection opened beside
    /// it, is broken.
    pub fn mark_lost(&self) {
        self.lost.notify_one();
    }

    /// Resolves when this connection is found broken: at once from a RESP3 push or a failed
    /// command, or by a health-check PING where the server cannot push.
    pub async fn lost(&self) {
        tokio::select! {
            _ = self.lost.notified() => {}
            _ = self.broken(), if !self.pushes => {}
        }
    }

    async fn broken(&self) {
        let mut failures = 0;
        loop {
            tokio::time::sleep(HEALTH_CHECK_EVERY).await;
            let mut ping = redis::cmd("PING");
            ping.arg("connect-redis-rs");
            match self.on_node(&ScanNode::Single, ping).await {
                Err(err) if err.code == Code::Connection => failures += 1,
                _ => failures = 0,
            }
            // A cluster keeps serving through one node's failure: only a cluster that answers
            // no PING three times running is down.
            if failures >= if self.is_cluster() { 3 } else { 1 } {
                return;
            }
        }
    }
}
