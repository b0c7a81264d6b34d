//! A connection to Redis of some mode (standalone today; cluster and sentinel are added to
//! `Mode`), kept alive by a supervisor task that reconnects with backoff and reports every
//! change of state as a `connect` / `disconnect` event.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Pipeline, PushInfo, PushKind, Value};
use tokio::sync::{watch, Notify};

use crate::error::{Code, StoreError};
use crate::options::Settings;
use crate::outbox::{Event, Outbox};

const BACKOFF_FIRST: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_millis(500);
/// Without RESP3 push messages a dropped idle connection is found by pinging it this often.
const HEALTH_CHECK_EVERY: Duration = Duration::from_secs(1);

/// How the store reaches Redis.
enum Mode {
    /// RESP3 tells of a dropped connection at once; RESP2 is the fallback for servers before
    /// Redis 6 (or with HELLO disabled).
    Standalone {
        resp3: redis::Client,
        resp2: redis::Client,
        use_resp2: AtomicBool,
    },
}

/// A live connection of the current mode.
#[derive(Clone)]
pub struct Connection {
    conn: MultiplexedConnection,
    /// Wakes the supervisor when this connection is found broken.
    lost: Arc<Notify>,
    /// Whether the server pushes a disconnection notice (RESP3); otherwise it is pinged.
    pushes: bool,
    timeout: Duration,
    address: Arc<str>,
}

#[derive(Clone)]
enum Link {
    Connecting,
    Up(Connection),
    Down(StoreError),
    Closed,
}

struct Shared {
    mode: Mode,
    settings: Settings,
    address: Arc<str>,
    link: watch::Sender<Link>,
    closed: AtomicBool,
    close_signal: Notify,
    outbox: Arc<Outbox>,
}

#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

impl Client {
    /// Starts connecting in the background; the constructor never blocks.
    pub fn start(
        settings: Settings,
        outbox: Arc<Outbox>,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<Client, StoreError> {
        let open = |protocol| {
            let redis = settings
                .info
                .redis_settings()
                .clone()
                .set_protocol(protocol);
            redis::Client::open(settings.info.clone().set_redis_settings(redis))
                .map_err(|e| StoreError::from_redis(&e, &settings.address))
        };
        let mode = Mode::Standalone {
            resp3: open(redis::ProtocolVersion::RESP3)?,
            resp2: open(redis::ProtocolVersion::RESP2)?,
            use_resp2: AtomicBool::new(false),
        };
        let (link, _) = watch::channel(Link::Connecting);
        let client = Client {
            shared: Arc::new(Shared {
                mode,
                address: settings.address.as_str().into(),
                settings,
                link,
                closed: AtomicBool::new(false),
                close_signal: Notify::new(),
                outbox,
            }),
        };
        runtime.spawn(supervise(client.shared.clone()));
        Ok(client)
    }

    pub fn address(&self) -> &str {
        &self.shared.address
    }

    pub fn command_timeout(&self) -> Duration {
        self.shared.settings.command_timeout
    }

    pub fn is_connected(&self) -> bool {
        matches!(*self.shared.link.borrow(), Link::Up(_))
    }

    /// The current connection. While a connection attempt is under way this waits for it (up to
    /// the command timeout); while Redis is known to be down it fails at once.
    pub async fn connection(&self) -> Result<Connection, StoreError> {
        let mut link = self.shared.link.subscribe();
        let wait = self.command_timeout();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match &*link.borrow_and_update() {
                Link::Up(conn) => return Ok(conn.clone()),
                Link::Down(err) => return Err(err.clone()),
                Link::Closed => return Err(StoreError::closed()),
                Link::Connecting => {}
            }
            match tokio::time::timeout_at(deadline, link.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return Err(StoreError::closed()),
                Err(_) => {
                    return Err(StoreError::still_connecting(
                        self.address(),
                        wait.as_millis() as u64,
                    ))
                }
            }
        }
    }

    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.link.send_replace(Link::Closed);
        self.shared.close_signal.notify_one();
    }
}

impl Connection {
    /// Sends `pipe` (of `count` commands) and returns one reply per command; a server error
    /// reply stays in its slot as `Value::ServerError`.
    pub async fn pipeline(&self, pipe: &Pipeline, count: usize) -> Result<Vec<Value>, StoreError> {
        let mut conn = self.conn.clone();
        let sent =
            tokio::time::timeout(self.timeout, conn.send_packed_commands(pipe, 0, count)).await;
        match sent {
            Ok(Ok(values)) => Ok(values),
            Ok(Err(err)) => {
                if err.is_connection_dropped() || err.is_io_error() || err.is_unrecoverable_error()
                {
                    self.lost.notify_one();
                }
                Err(StoreError::from_redis(&err, &self.address))
            }
            Err(_) => Err(StoreError::timeout(
                &self.address,
                self.timeout.as_millis() as u64,
            )),
        }
    }

    /// Resolves when a PING shows the connection is broken (not merely slow).
    async fn broken(&self) {
        loop {
            tokio::time::sleep(HEALTH_CHECK_EVERY).await;
            let mut pipe = redis::pipe();
            pipe.cmd("PING");
            if let Err(err) = self.pipeline(&pipe, 1).await {
                if err.code == Code::Connection {
                    return;
                }
            }
        }
    }
}

async fn connect(shared: &Shared, lost: Arc<Notify>) -> Result<Connection, StoreError> {
    let Mode::Standalone {
        resp3,
        resp2,
        use_resp2,
    } = &shared.mode;
    if !use_resp2.load(Ordering::Relaxed) {
        match connect_with(shared, resp3, Some(lost.clone())).await {
            Err(ConnectError::Redis(err)) if no_resp3(&err) => {
                use_resp2.store(true, Ordering::Relaxed)
            }
            other => return other.map_err(|e| e.into_store_error(shared)),
        }
    }
    connect_with(shared, resp2, None)
        .await
        .map_err(|e| e.into_store_error(shared))
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

enum ConnectError {
    Redis(redis::RedisError),
    TimedOut,
}

impl ConnectError {
    fn into_store_error(self, shared: &Shared) -> StoreError {
        match self {
            ConnectError::Redis(err) => StoreError::from_redis(&err, &shared.address),
            ConnectError::TimedOut => StoreError::new(
                Code::Connection,
                format!(
                    "connect-redis-rs: could not connect to Redis at {} within {} ms (connectTimeout)",
                    shared.address,
                    shared.settings.connect_timeout.as_millis()
                ),
            ),
        }
    }
}

/// One connection attempt; `lost` is given for RESP3, whose push messages tell of a drop.
async fn connect_with(
    shared: &Shared,
    redis: &redis::Client,
    lost: Option<Arc<Notify>>,
) -> Result<Connection, ConnectError> {
    let pushes = lost.is_some();
    let lost = lost.unwrap_or_default();
    let on_push = {
        let lost = lost.clone();
        move |info: PushInfo| {
            if info.kind == PushKind::Disconnection {
                lost.notify_one();
            }
            Ok::<(), std::convert::Infallible>(())
        }
    };
    let mut config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(shared.settings.connect_timeout))
        .set_response_timeout(Some(shared.settings.command_timeout));
    if pushes {
        config = config.set_push_sender(on_push);
    }
    let attempt = redis.get_multiplexed_async_connection_with_config(&config);
    match tokio::time::timeout(shared.settings.connect_timeout, attempt).await {
        Ok(Ok(conn)) => Ok(Connection {
            conn,
            lost,
            pushes,
            timeout: shared.settings.command_timeout,
            address: shared.address.clone(),
        }),
        Ok(Err(err)) => Err(ConnectError::Redis(err)),
        Err(_) => Err(ConnectError::TimedOut),
    }
}

async fn supervise(shared: Arc<Shared>) {
    let mut attempt: u32 = 0;
    let mut reported_down = false;
    while !shared.closed.load(Ordering::SeqCst) {
        shared.link.send_replace(Link::Connecting);
        let lost = Arc::new(Notify::new());
        let outcome = tokio::select! {
            outcome = connect(&shared, lost.clone()) => outcome,
            _ = shared.close_signal.notified() => break,
        };
        if shared.closed.load(Ordering::SeqCst) {
            break;
        }
        match outcome {
            Ok(conn) => {
                attempt = 0;
                let health = conn.clone();
                shared.link.send_replace(Link::Up(conn));
                shared.outbox.event(Event::Connect);
                tokio::select! {
                    _ = lost.notified() => {}
                    _ = health.broken(), if !health.pushes => {}
                    _ = shared.close_signal.notified() => break,
                }
                if shared.closed.load(Ordering::SeqCst) {
                    break;
                }
                let err = StoreError::new(
                    Code::Connection,
                    format!(
                        "connect-redis-rs: lost the connection to Redis at {}; reconnecting",
                        shared.address
                    ),
                );
                shared.link.send_replace(Link::Down(err.clone()));
                shared.outbox.event(Event::Disconnect(err));
                reported_down = true;
                // The first reconnect is immediate: a dropped connection is often a server restart.
                continue;
            }
            Err(err) => {
                shared.link.send_replace(Link::Down(err.clone()));
                if !reported_down {
                    shared.outbox.event(Event::Disconnect(err));
                    reported_down = true;
                }
            }
        }
        let delay = backoff(attempt);
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shared.close_signal.notified() => break,
        }
    }
    shared.link.send_replace(Link::Closed);
}

/// Exponential backoff capped at `BACKOFF_MAX`, with up to 25% jitter so that many processes
/// do not reconnect in lockstep.
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_FIRST
        .saturating_mul(1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX))
        .min(BACKOFF_MAX);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    base + base.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_caps_with_bounded_jitter() {
        assert!(backoff(0) >= BACKOFF_FIRST && backoff(0) <= BACKOFF_FIRST.mul_f64(1.25));
        assert!(backoff(2) >= BACKOFF_FIRST * 4);
        for attempt in [5, 10, 40, u32::MAX] {
            let d = backoff(attempt);
            assert!(d >= BACKOFF_MAX && d <= BACKOFF_MAX.mul_f64(1.25), "{d:?}");
        }
    }
}
