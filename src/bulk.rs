//! The bulk operations over every session under a prefix: `ids` (and `length`) is the SCAN
//! walk; `all` and `clear` also send an MGET / UNLINK per group of keys found, a wave of them
//! beside each further stretch of the walk, so that Redis answers them between the walk's SCANs
//! instead of after the whole walk, and `all` hands JavaScript each part of its result as it
//! comes, to be parsed while the walk goes on.

use std::collections::VecDeque;
use std::time::Duration;

use redis::Value;

use crate::client::Client;
use crate::connection::Connection;
use crate::entries::Entries;
use crate::error::StoreError;
use crate::keys::{self, Grouper};
use crate::outbox::{Outbox, Reply};
use crate::scan::{scan, Walk};
use crate::store::unexpected_error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bulk {
    Ids,
    All,
    Clear,
}

/// Commands in flight at once (one pipeline), and the keys the walk looks for beside them.
const WAVE: usize = 16;
const WAVE_KEYS: usize = 4 * keys::MAX_KEYS_PER_COMMAND;

/// How long a part of `all()` may wait for JavaScript to take the one before (its event loop
/// held up elsewhere) before it is queued anyway.
const PART_TAKEN_LIMIT: Duration = Duration::from_secs(1);

/// The most bytes of values one part joins into a string (far below V8's longest string): a
/// part with larger values is split.
const MAX_PART_BYTES: usize = 64 << 20;

/// Runs one bulk operation and delivers its result (`all()`'s last part).
pub async fn run(
    client: Client,
    id: u32,
    bulk: Bulk,
    prefix: String,
    scan_count: u32,
    outbox: &Outbox,
) {
    let reply = async {
        let conn = client.connection().await?;
        match bulk {
            Bulk::Ids => {
                let found = scan(&conn, &prefix, scan_count).await?;
                Ok(Reply::Ids(
                    found
                        .iter()
                        .filter_map(|key| keys::session_id(&prefix, key))
                        .map(str::to_owned)
                        .collect(),
                ))
            }
            Bulk::All => {
                let mut reader = Reader {
                    prefix: &prefix,
                    id,
                    outbox,
                };
                in_waves(&conn, &prefix, scan_count, &mut reader).await?;
                // Empty: every session went in the parts before it.
                outbox.taken(PART_TAKEN_LIMIT).await;
                Ok(Reply::Entries(Entries::default()))
            }
            Bulk::Clear => {
                let mut deleter = Deleter { deleted: 0 };
                in_waves(&conn, &prefix, scan_count, &mut deleter).await?;
                Ok(Reply::Int(deleter.deleted))
            }
        }
    }
    .await;
    outbox.reply(id, reply.unwrap_or_else(Reply::Failed));
}

/// What `all` or `clear` does with the groups of keys the walk finds.
trait Wave {
    /// The multi-key command each group is sent with.
    const COMMAND: &'static str;

    /// Takes the replies to one wave of commands, one per group.
    async fn take(
        &mut self,
        groups: &[Vec<Vec<u8>>],
        replies: Vec<Result<Value, StoreError>>,
    ) -> Result<(), StoreError>;
}

/// The walk, and `W::COMMAND` for each group of keys it finds (`keys::Grouper`: bounded, one
/// slot each in a cluster), up to `WAVE` commands at a time while the walk looks for the next
/// `WAVE_KEYS` keys. In a cluster most groups fill only at the end of the walk (a node's keys
/// spread over thousands of slots).
async fn in_waves<W: Wave>(
    conn: &Connection,
    prefix: &str,
    scan_count: u32,
    handler: &mut W,
) -> Result<(), StoreError> {
    let by_slot = conn.is_cluster();
    let mut walk = Walk::start(conn, prefix, scan_count).await?;
    let mut grouper = Grouper::default();
    let mut ready: VecDeque<Vec<Vec<u8>>> = VecDeque::new();
    loop {
        let wave: Vec<_> = ready.drain(..ready.len().min(WAVE)).collect();
        if wave.is_empty() && walk.done() {
            return Ok(());
        }
        let send = async {
            if wave.is_empty() {
                return Ok(());
            }
            let mut pipe = redis::pipe();
            for group in &wave {
                pipe.cmd(W::COMMAND).arg(group);
            }
            let replies = conn.pipeline(&pipe, wave.len()).await;
            handler.take(&wave, replies).await
        };
        let (found, sent) = tokio::join!(walk.next_keys(WAVE_KEYS), send);
        sent?;
        for key in found? {
            let slot = if by_slot { keys::slot(&key) } else { 0 };
            ready.extend(grouper.add(slot, key));
        }
        if walk.done() {
            ready.extend(std::mem::take(&mut grouper).finish());
        }
    }
}

/// `all()`: each MGET's sessions go to JavaScript as a part of the result, one part at a time:
/// parts queued together reach it in one turn of its event loop, where converting them stalled
/// it 88-149 ms (bulk-200k.test.js).
struct Reader<'a> {
    prefix: &'a str,
    id: u32,
    outbox: &'a Outbox,
}

impl Wave for Reader<'_> {
    const COMMAND: &'static str = "MGET";

    async fn take(
        &mut self,
        groups: &[Vec<Vec<u8>>],
        replies: Vec<Result<Value, StoreError>>,
    ) -> Result<(), StoreError> {
        for (group, reply) in groups.iter().zip(replies) {
            let values = match reply? {
                Value::Array(values) => values,
                other => return Err(unexpected_error(other)),
            };
            let bytes: usize = values.iter().map(value_bytes).sum();
            let mut part = Entries::with_capacity(group.len(), bytes.min(MAX_PART_BYTES));
            for (key, value) in group.iter().zip(values) {
                // Not a session of this store, or vanished between SCAN and MGET.
                let (Some(sid), Value::BulkString(bytes)) =
                    (keys::session_id(self.prefix, key), value)
                else {
                    continue;
                };
                if !part.is_empty() && part.value_bytes() + bytes.len() > MAX_PART_BYTES {
                    let full = std::mem::take(&mut part);
                    self.deliver(full).await;
                }
                part.push(sid, &bytes);
            }
            if !part.is_empty() {
                self.deliver(part).await;
            }
        }
        Ok(())
    }
}

impl Reader<'_> {
    async fn deliver(&self, part: Entries) {
        self.outbox.taken(PART_TAKEN_LIMIT).await;
        self.outbox.reply(self.id, Reply::EntriesPart(part));
    }
}

fn value_bytes(value: &Value) -> usize {
    match value {
        Value::BulkString(bytes) => bytes.len(),
        _ => 0,
    }
}

/// `clear()`: the number of keys the UNLINKs deleted.
struct Deleter {
    deleted: i64,
}

impl Wave for Deleter {
    const COMMAND: &'static str = "UNLINK";

    async fn take(
        &mut self,
        _groups: &[Vec<Vec<u8>>],
        replies: Vec<Result<Value, StoreError>>,
    ) -> Result<(), StoreError> {
        for reply in replies {
            match reply? {
                Value::Int(n) => self.deleted += n,
                other => return Err(unexpected_error(other)),
            }
        }
        Ok(())
    }
}
