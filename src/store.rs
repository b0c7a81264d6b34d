//! The store operations on Redis: one pipeline for all the single-key operations of a tick,
//! and the bulk operations (ids, all, clear) as bounded SCAN / MGET / UNLINK loops.

use std::collections::HashSet;

use redis::{Pipeline, Value};

use crate::client::{Client, Connection};
use crate::error::{Code, StoreError};
use crate::keys::{self, chunks};
use crate::outbox::{Delivery, Outbox, Reply};

/// What `set` / `touch` do about expiry, decided in JavaScript from the TTL rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No expiry (`disableTTL`).
    Never,
    Seconds(u64),
    /// The session has already expired: delete it.
    Delete,
}

#[derive(Debug)]
pub enum Op {
    Get {
        key: Vec<u8>,
    },
    Set {
        key: Vec<u8>,
        value: String,
        expiry: Expiry,
    },
    Touch {
        key: Vec<u8>,
        expiry: Expiry,
    },
    Destroy {
        keys: Vec<Vec<u8>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bulk {
    Ids,
    All,
    Clear,
}

impl Op {
    /// Adds this operation's commands to `pipe`; returns how many it added.
    fn encode(&self, pipe: &mut Pipeline) -> usize {
        match self {
            Op::Get { key } => {
                pipe.cmd("GET").arg(key);
                1
            }
            Op::Set { key, value, expiry } => {
                match expiry {
                    Expiry::Never => pipe.cmd("SET").arg(key).arg(value.as_bytes()),
                    Expiry::Seconds(ttl) => pipe
                        .cmd("SET")
                        .arg(key)
                        .arg(value.as_bytes())
                        .arg("EX")
                        .arg(*ttl),
                    Expiry::Delete => pipe.cmd("DEL").arg(key),
                };
                1
            }
            Op::Touch { key, expiry } => match expiry {
                Expiry::Never => 0,
                Expiry::Seconds(ttl) => {
                    pipe.cmd("EXPIRE").arg(key).arg(*ttl);
                    1
                }
                Expiry::Delete => {
                    pipe.cmd("DEL").arg(key);
                    1
                }
            },
            Op::Destroy { keys } => {
                let mut n = 0;
                for chunk in chunks(keys) {
                    pipe.cmd("DEL").arg(chunk);
                    n += 1;
                }
                n
            }
        }
    }

    /// Turns this operation's replies into its result.
    fn decode(&self, replies: &mut dyn Iterator<Item = Value>) -> Reply {
        let mut first = || replies.next().unwrap_or(Value::Nil);
        match self {
            Op::Get { .. } => match first() {
                Value::Nil => Reply::Nil,
                Value::BulkString(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => Reply::Text(text),
                    Err(_) => Reply::Corrupt(StoreError::corrupt("not valid UTF-8")),
                },
                other => unexpected(other),
            },
            Op::Set { .. } => match first() {
                Value::Okay | Value::Int(_) => Reply::Text("OK".into()),
                other => unexpected(other),
            },
            Op::Touch {
                expiry: Expiry::Never,
                ..
            } => Reply::Int(0),
            Op::Touch { .. } => match first() {
                Value::Int(n) => Reply::Int(n.min(1)),
                other => unexpected(other),
            },
            Op::Destroy { keys } => {
                let mut total = 0;
                for _ in chunks(keys) {
                    match first() {
                        Value::Int(n) => total += n,
                        other => return unexpected(other),
                    }
                }
                Reply::Int(total)
            }
        }
    }
}

fn unexpected(value: Value) -> Reply {
    match value {
        Value::ServerError(err) => Reply::Failed(StoreError::new(
            Code::Server,
            format!(
                "connect-redis-rs: Redis replied with an error: {}",
                redis::RedisError::from(err)
            ),
        )),
        other => Reply::Failed(StoreError::new(
            Code::Server,
            format!("connect-redis-rs: unexpected reply from Redis: {other:?}"),
        )),
    }
}

/// Runs a tick's operations as one pipeline and delivers every result in one batch.
pub async fn run_batch(client: Client, ops: Vec<(u32, Op)>, outbox: &Outbox) {
    let mut pipe = redis::pipe();
    let mut count = 0;
    for (_, op) in &ops {
        count += op.encode(&mut pipe);
    }
    let replies = if count == 0 {
        Ok(Vec::new())
    } else {
        match client.connection().await {
            Ok(conn) => conn.pipeline(&pipe, count).await,
            Err(err) => Err(err),
        }
    };
    let deliveries: Vec<Delivery> = match replies {
        Ok(values) => {
            let mut values = values.into_iter();
            ops.iter()
                .map(|(id, op)| Delivery::Reply(*id, op.decode(&mut values)))
                .collect()
        }
        Err(err) => ops
            .iter()
            .map(|(id, _)| Delivery::Reply(*id, Reply::Failed(err.clone())))
            .collect(),
    };
    outbox.push(deliveries);
}

/// Runs one bulk operation and delivers its result.
pub async fn run_bulk(
    client: Client,
    id: u32,
    bulk: Bulk,
    prefix: String,
    scan_count: u32,
    outbox: &Outbox,
) {
    let reply = match bulk_reply(&client, bulk, &prefix, scan_count).await {
        Ok(reply) => reply,
        Err(err) => Reply::Failed(err),
    };
    outbox.reply(id, reply);
}

async fn bulk_reply(
    client: &Client,
    bulk: Bulk,
    prefix: &str,
    scan_count: u32,
) -> Result<Reply, StoreError> {
    let conn = client.connection().await?;
    let keys = scan(&conn, prefix, scan_count).await?;
    match bulk {
        Bulk::Ids => Ok(Reply::Ids(
            keys.iter()
                .filter_map(|k| keys::session_id(prefix, k))
                .collect(),
        )),
        Bulk::All => read_all(&conn, prefix, &keys).await.map(Reply::Entries),
        Bulk::Clear => delete_all(&conn, &keys).await.map(Reply::Int),
    }
}

/// Every key under `prefix`, each once (SCAN may return a key more than once).
async fn scan(
    conn: &Connection,
    prefix: &str,
    scan_count: u32,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let pattern = keys::scan_pattern(prefix);
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let mut pipe = redis::pipe();
        pipe.cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(scan_count);
        let reply = conn
            .pipeline(&pipe, 1)
            .await?
            .into_iter()
            .next()
            .unwrap_or(Value::Nil);
        let (next, batch) = parse_scan(reply)?;
        for key in batch {
            if seen.insert(key.clone()) {
                found.push(key);
            }
        }
        if next == 0 {
            return Ok(found);
        }
        cursor = next;
    }
}

fn parse_scan(reply: Value) -> Result<(u64, Vec<Vec<u8>>), StoreError> {
    let bad = |what: &str| {
        StoreError::new(
            Code::Server,
            format!("connect-redis-rs: unexpected SCAN reply ({what})"),
        )
    };
    let Value::Array(mut parts) = reply else {
        if let Value::ServerError(err) = reply {
            return Err(StoreError::new(
                Code::Server,
                format!(
                    "connect-redis-rs: Redis replied with an error: {}",
                    redis::RedisError::from(err)
                ),
            ));
        }
        return Err(bad("not an array"));
    };
    if parts.len() != 2 {
        return Err(bad("not a cursor and a key list"));
    }
    let keys = parts.pop().unwrap_or(Value::Nil);
    let cursor = match parts.pop() {
        Some(Value::BulkString(b)) => std::str::from_utf8(&b).ok().and_then(|s| s.parse().ok()),
        _ => None,
    }
    .ok_or_else(|| bad("cursor"))?;
    let Value::Array(keys) = keys else {
        return Err(bad("keys"));
    };
    let keys = keys
        .into_iter()
        .filter_map(|k| match k {
            Value::BulkString(b) => Some(b),
            _ => None,
        })
        .collect();
    Ok((cursor, keys))
}

type Entry = (String, Result<String, StoreError>);

async fn read_all(
    conn: &Connection,
    prefix: &str,
    keys: &[Vec<u8>],
) -> Result<Vec<Entry>, StoreError> {
    let mut entries = Vec::with_capacity(keys.len());
    for chunk in chunks(keys) {
        let mut pipe = redis::pipe();
        pipe.cmd("MGET").arg(chunk);
        let reply = conn
            .pipeline(&pipe, 1)
            .await?
            .into_iter()
            .next()
            .unwrap_or(Value::Nil);
        let Value::Array(values) = reply else {
            return Err(match unexpected(reply) {
                Reply::Failed(err) => err,
                _ => StoreError::new(Code::Server, "connect-redis-rs: unexpected MGET reply"),
            });
        };
        for (key, value) in chunk.iter().zip(values) {
            let Some(sid) = keys::session_id(prefix, key) else {
                continue;
            };
            match value {
                Value::BulkString(bytes) => {
                    let raw = String::from_utf8(bytes)
                        .map_err(|_| StoreError::corrupt("not valid UTF-8"));
                    entries.push((sid, raw));
                }
                // Vanished between SCAN and MGET.
                _ => continue,
            }
        }
    }
    Ok(entries)
}

async fn delete_all(conn: &Connection, keys: &[Vec<u8>]) -> Result<i64, StoreError> {
    let mut total = 0;
    for chunk in chunks(keys) {
        let mut pipe = redis::pipe();
        pipe.cmd("UNLINK").arg(chunk);
        match conn.pipeline(&pipe, 1).await?.into_iter().next() {
            Some(Value::Int(n)) => total += n,
            Some(other) => {
                return Err(match unexpected(other) {
                    Reply::Failed(err) => err,
                    _ => StoreError::new(Code::Server, "connect-redis-rs: unexpected UNLINK reply"),
                })
            }
            None => {}
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destroy_of_many_ids_is_chunked() {
        let op = Op::Destroy {
            keys: (0..2_345)
                .map(|i| keys::session_key("s:", &i.to_string()))
                .collect(),
        };
        let mut pipe = redis::pipe();
        assert_eq!(op.encode(&mut pipe), 3);
        let mut replies = vec![Value::Int(1_000), Value::Int(999), Value::Int(345)].into_iter();
        assert!(matches!(op.decode(&mut replies), Reply::Int(2_344)));
    }

    #[test]
    fn touch_without_ttl_sends_nothing() {
        let op = Op::Touch {
            key: b"k".to_vec(),
            expiry: Expiry::Never,
        };
        assert_eq!(op.encode(&mut redis::pipe()), 0);
    }

    #[test]
    fn get_of_non_utf8_is_corrupt() {
        let op = Op::Get { key: b"k".to_vec() };
        let mut replies = vec![Value::BulkString(vec![0xff, 0xfe])].into_iter();
        assert!(matches!(op.decode(&mut replies), Reply::Corrupt(_)));
    }

    #[test]
    fn scan_reply_parses() {
        let reply = Value::Array(vec![
            Value::BulkString(b"17".to_vec()),
            Value::Array(vec![Value::BulkString(b"sess:a".to_vec())]),
        ]);
        assert_eq!(parse_scan(reply).unwrap(), (17, vec![b"sess:a".to_vec()]));
    }
}
