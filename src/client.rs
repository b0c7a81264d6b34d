//! A connection to Redis of some mode (standalone, sentinel or cluster), kept alive by a
//! supervisor task that reconnects with backoff and reports every change of state as a
//! `connect` / `disconnect` event.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{watch, Notify};

use crate::connection::{ConnectError, Connection};
use crate::direct_open::{self, Stream};
use crate::error::{Code, StoreError};
use crate::mode::Mode;
use crate::options::Settings;
use crate::outbox::{lock, Event, Outbox};

const BACKOFF_FIRST: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_millis(500);

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
    /// Counts connections made; `up` is the current one's number while it is up, else 0.
    generations: AtomicU64,
    up: AtomicU64,
    /// A main-thread connection opened beside the current one, waiting to be attached.
    direct: Mutex<Option<Ready>>,
    direct_waiting: AtomicBool,
}

/// A socket for the main-thread connection, and the background connection it belongs with.
pub struct Ready {
    pub generation: u64,
    pub stream: Stream,
    pub conn: Connection,
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
        let mode = Mode::new(&settings)?;
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
                generations: AtomicU64::new(0),
                up: AtomicU64::new(0),
                direct: Mutex::new(None),
                direct_waiting: AtomicBool::new(false),
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

    /// The number of the connection that is up, 0 when none is.
    pub fn up_generation(&self) -> u64 {
        self.shared.up.load(Ordering::Acquire)
    }

    /// The main-thread connection opened for the current connection, once it is ready.
    pub fn take_direct(&self) -> Option<Ready> {
        if !self.shared.direct_waiting.swap(false, Ordering::AcqRel) {
            return None;
        }
        let ready = lock(&self.shared.direct).take()?;
        (ready.generation == self.up_generation()).then_some(ready)
    }

    pub fn is_connected(&self) -> bool {
        matches!(*self.shared.link.borrow(), Link::Up(_))
    }

    /// The current connection. While a connection attempt is under way this waits for it (up to
    /// `deadline`); while Redis is known to be down it fails at once.
    pub async fn connection_by(
        &self,
        deadline: tokio::time::Instant,
    ) -> Result<Connection, StoreError> {
        let mut link = self.shared.link.subscribe();
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
                        self.command_timeout().as_millis() as u64,
                    ))
                }
            }
        }
    }

    pub async fn connection(&self) -> Result<Connection, StoreError> {
        self.connection_by(tokio::time::Instant::now() + self.command_timeout())
            .await
    }

    /// Waits (until `deadline`) for a connection other than `old`, after `old` was found broken.
    pub async fn reconnected(
        &self,
        old: &Connection,
        deadline: tokio::time::Instant,
    ) -> Option<Connection> {
        let mut link = self.shared.link.subscribe();
        loop {
            match &*link.borrow_and_update() {
                Link::Up(conn) if !conn.same_as(old) => return Some(conn.clone()),
                Link::Closed => return None,
                _ => {}
            }
            match tokio::time::timeout_at(deadline, link.changed()).await {
                Ok(Ok(())) => continue,
                _ => return None,
            }
        }
    }

    pub fn close(&self) {
        self.shared.up.store(0, Ordering::Release);
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.link.send_replace(Link::Closed);
        self.shared.close_signal.notify_one();
    }
}

fn connect_error(shared: &Shared, err: ConnectError) -> StoreError {
    match err {
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

async fn supervise(shared: Arc<Shared>) {
    let mut attempt: u32 = 0;
    // The code of the last `disconnect` reported; a refusal for another reason (the password
    // changed while the server restarted) is reported again, a repeat of the same is not.
    let mut reported: Option<Code> = None;
    while !shared.closed.load(Ordering::SeqCst) {
        shared.link.send_replace(Link::Connecting);
        let outcome = tokio::select! {
            outcome = shared.mode.connect(&shared.settings) => outcome,
            _ = shared.close_signal.notified() => break,
        };
        if shared.closed.load(Ordering::SeqCst) {
            break;
        }
        match outcome {
            Ok(conn) => {
                attempt = 0;
                let watched = conn.clone();
                let generation = shared.generations.fetch_add(1, Ordering::AcqRel) + 1;
                shared.link.send_replace(Link::Up(conn));
                shared.up.store(generation, Ordering::Release);
                if crate::direct::available() {
                    tokio::spawn(open_direct(shared.clone(), generation, watched.clone()));
                }
                shared.outbox.event(Event::Connect);
                tokio::select! {
                    _ = watched.lost() => {}
                    _ = shared.mode.moved(&watched) => {}
                    _ = shared.close_signal.notified() => break,
                }
                if shared.closed.load(Ordering::SeqCst) {
                    break;
                }
                shared.up.store(0, Ordering::Release);
                let err = StoreError::lost(&shared.address);
                shared.link.send_replace(Link::Down(err.clone()));
                reported = Some(err.code);
                shared.outbox.event(Event::Disconnect(err));
                // The first reconnect is immediate: a dropped connection is often a server restart.
                continue;
            }
            Err(err) => {
                let err = connect_error(&shared, err);
                shared.link.send_replace(Link::Down(err.clone()));
                if reported != Some(err.code) {
                    reported = Some(err.code);
                    shared.outbox.event(Event::Disconnect(err));
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

/// Opens the main-thread connection beside connection `generation`. Should it fail, the
/// operations keep using the background connection.
async fn open_direct(shared: Arc<Shared>, generation: u64, conn: Connection) {
    let Some(target) = shared.mode.direct_target(&shared.settings, &conn) else {
        return;
    };
    let timeout = shared.settings.connect_timeout;
    if let Ok(stream) = direct_open::open(&target, &shared.settings.redis, timeout).await {
        if shared.up.load(Ordering::Acquire) == generation {
            *lock(&shared.direct) = Some(Ready {
                generation,
                stream,
                conn,
            });
            shared.direct_waiting.store(true, Ordering::Release);
            shared.outbox.event(Event::DirectReady);
        }
    }
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
