//! The store operations on Redis: one pipeline for all the single-key operations of a tick
//! (the bulk operations are in src/bulk.rs).
use redis::Value;

use crate::client::Client;
use crate::commands::{Commands, Decimal};
use crate::connection::Connection;
use crate::error::{Code, StoreError};
use crate::keys::{self, Key, Keys};
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
        key: Key,
    },
    Set {
        key: Key,
        value: String,
        expiry: Expiry,
    },
    Touch {
        key: Key,
        expiry: Expiry,
    },
    Destroy {
        keys: Keys,
    },
}

impl Op {
    /// GET, EXPIRE and DEL may be sent again after a reconnect; a SET may not (it could
    /// overwrite a newer write that succeeded meanwhile).
    pub fn idempotent(&self) -> bool {
        !matches!(self, Op::Set { .. })
    }

    /// Writes this operation's commands to `out`; returns how many it wrote. In a cluster
    /// (`by_slot`) a multi-key DEL is split by slot.
    pub fn encode(&self, out: &mut impl Commands, by_slot: bool) -> usize {
        match self {
            Op::Get { key } => {
                out.command(&[b"GET", key]);
                1
            }
            Op::Set { key, value, expiry } => {
                let value = value.as_bytes();
                match expiry {
                    Expiry::Never => out.command(&[b"SET", key, value]),
                    Expiry::Seconds(ttl) => {
                        out.command(&[b"SET", key, value, b"EX", Decimal::new(*ttl).bytes()])
                    }
                    Expiry::Delete => out.command(&[b"DEL", key]),
                };
                1
            }
            Op::Touch { key, expiry } => match expiry {
                Expiry::Never => 0,
                Expiry::Seconds(ttl) => {
                    out.command(&[b"EXPIRE", key, Decimal::new(*ttl).bytes()]);
                    1
                }
                Expiry::Delete => {
                    out.command(&[b"DEL", key]);
                    1
                }
            },
            // One key is one command in any mode: nothing to group (and nothing to allocate).
            Op::Destroy { keys } if keys.len() == 1 => {
                out.command(&[b"DEL", &keys[0]]);
                1
            }
            Op::Destroy { keys } => {
                let groups = keys::key_groups(keys, by_slot);
                for group in &groups {
                    let mut args: Vec<&[u8]> = Vec::with_capacity(group.len() + 1);
                    args.push(b"DEL");
                    args.extend_from_slice(group);
                    out.command(&args);
                }
                groups.len()
            }
        }
    }

    /// Turns this operation's replies (one per command it added, in order) into its result.
    /// A failed reply fails the operation, before any unexpected one.
    pub fn decode(&self, replies: impl IntoIterator<Item = Result<Value, StoreError>>) -> Reply {
        let mut replies = replies.into_iter();
        match self {
            Op::Get { .. } => match first(&mut replies) {
                Err(failed) => failed,
                Ok(Value::Nil) => Reply::Nil,
                Ok(Value::BulkString(bytes)) => session_text(bytes),
                Ok(other) => unexpected(other),
            },
            Op::Set { .. } => match first(&mut replies) {
                Err(failed) => failed,
                Ok(Value::Okay | Value::Int(_)) => Reply::Text("OK".into()),
                Ok(other) => unexpected(other),
            },
            Op::Touch {
                expiry: Expiry::Never,
                ..
            } => Reply::Int(0),
            Op::Touch { .. } => match first(&mut replies) {
                Err(failed) => failed,
                Ok(Value::Int(n)) => Reply::Int(n.min(1)),
                Ok(other) => unexpected(other),
            },
            Op::Destroy { .. } => deleted(replies),
        }
    }
}

/// A GET's value: the session's text, or corrupt when it is not UTF-8.
pub fn session_text(bytes: Vec<u8>) -> Reply {
    match String::from_utf8(bytes) {
        Ok(text) => Reply::Text(text),
        Err(_) => Reply::Corrupt(StoreError::not_utf8()),
    }
}

/// The one reply of a single-command operation (nil if there is none).
fn first(replies: &mut impl Iterator<Item = Result<Value, StoreError>>) -> Result<Value, Reply> {
    match replies.next() {
        Some(Err(err)) => Err(Reply::Failed(err)),
        Some(Ok(value)) => Ok(value),
        None => Ok(Value::Nil),
    }
}

/// DEL's replies summed.
fn deleted(replies: impl Iterator<Item = Result<Value, StoreError>>) -> Reply {
    let mut total = 0;
    let mut odd = None;
    for reply in replies {
        match reply {
            Err(err) => return Reply::Failed(err),
            Ok(Value::Int(n)) => total += n,
            Ok(other) => {
                odd.get_or_insert(other);
            }
        }
    }
    odd.map_or(Reply::Int(total), unexpected)
}

fn unexpected(value: Value) -> Reply {
    Reply::Failed(unexpected_error(value))
}

pub fn unexpected_error(value: Value) -> StoreError {
    StoreError::new(
        Code::Server,
        format!("connect-redis-rs: unexpected reply from Redis: {value:?}"),
    )
}

/// Sends `ops` on `conn` as one pipeline and returns one reply per operation.
async fn send(conn: &Connection, ops: &[&Op]) -> Vec<Reply> {
    let by_slot = conn.is_cluster();
    let mut pipe = redis::pipe();
    let counts: Vec<usize> = ops.iter().map(|op| op.encode(&mut pipe, by_slot)).collect();
    let total = counts.iter().sum();
    let mut results = if total == 0 {
        Vec::new()
    } else {
        conn.pipeline(&pipe, total).await
    }
    .into_iter();
    ops.iter()
        .zip(counts)
        // Collected first: each operation takes exactly its own replies, however it decodes.
        .map(|(op, n)| op.decode(results.by_ref().take(n).collect::<Vec<_>>()))
        .collect()
}

/// Runs a tick's operations as one pipeline (by `deadline`) and delivers every result in one
/// batch. An
/// idempotent operation that failed because the connection dropped is sent once more on the
/// new connection, within the same deadline.
pub async fn run_batch(
    client: Client,
    ops: Vec<(u32, Op)>,
    outbox: &Outbox,
    deadline: tokio::time::Instant,
) {
    let all: Vec<&Op> = ops.iter().map(|(_, op)| op).collect();
    let replies = match client.connection_by(deadline).await {
        Err(err) => all.iter().map(|_| Reply::Failed(err.clone())).collect(),
        Ok(conn) => {
            let mut replies = send(&conn, &all).await;
            let retry: Vec<usize> = replies
                .iter()
                .enumerate()
                .filter(|(i, r)| {
                    matches!(r, Reply::Failed(e) if e.code == Code::Connection)
                        && all[*i].idempotent()
                })
                .map(|(i, _)| i)
                .collect();
            if !retry.is_empty() {
                if let Some(fresh) = client.reconnected(&conn, deadline).await {
                    let again: Vec<&Op> = retry.iter().map(|&i| all[i]).collect();
                    for (i, reply) in retry.into_iter().zip(send(&fresh, &again).await) {
                        replies[i] = reply;
                    }
                }
            }
            replies
        }
    };
    outbox.push(
        ops.iter()
            .zip(replies)
            .map(|((id, _), reply)| Delivery::Reply(*id, reply)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destroy_of_many_ids_is_chunked() {
        let op = Op::Destroy {
            keys: (0..1_173)
                .map(|i| keys::session_key("s:", &i.to_string()))
                .collect(),
        };
        let mut pipe = redis::pipe();
        assert_eq!(op.encode(&mut pipe, false), 3);
        let replies = vec![
            Ok(Value::Int(500)),
            Ok(Value::Int(499)),
            Ok(Value::Int(173)),
        ];
        assert!(matches!(op.decode(replies), Reply::Int(1_172)));
        assert!(op.encode(&mut redis::pipe(), true) > 3);
    }

    #[test]
    fn a_failed_reply_fails_the_operation_before_an_unexpected_one() {
        let closed = StoreError::closed().message;
        let destroy = Op::Destroy {
            keys: Keys::default(),
        };
        let replies = vec![
            Ok(Value::Okay),
            Err(StoreError::closed()),
            Ok(Value::Int(1)),
        ];
        assert!(matches!(destroy.decode(replies), Reply::Failed(e) if e.message == closed));
        let odd = destroy.decode(vec![Ok(Value::Int(2)), Ok(Value::Okay)]);
        assert!(matches!(odd, Reply::Failed(e) if e.message.contains("unexpected reply")));
        let get = Op::Get {
            key: keys::session_key("", "k"),
        };
        let failed = get.decode(std::iter::once(Err(StoreError::closed())));
        assert!(matches!(failed, Reply::Failed(e) if e.message == closed));
        assert!(matches!(get.decode(std::iter::empty()), Reply::Nil));
    }

    #[test]
    fn touch_without_ttl_sends_nothing() {
        let op = Op::Touch {
            key: keys::session_key("", "k"),
            expiry: Expiry::Never,
        };
        assert_eq!(op.encode(&mut redis::pipe(), false), 0);
    }

    #[test]
    fn get_of_non_utf8_is_corrupt() {
        let op = Op::Get {
            key: keys::session_key("", "k"),
        };
        let replies = vec![Ok(Value::BulkString(vec![0xff, 0xfe]))];
        assert!(matches!(op.decode(replies), Reply::Corrupt(_)));
    }

    #[test]
    fn only_set_is_not_retried() {
        assert!(!Op::Set {
            key: keys::session_key("", "k"),
            value: String::new(),
            expiry: Expiry::Never
        }
        .idempotent());
        assert!(Op::Get {
            key: keys::session_key("", "k")
        }
        .idempotent());
        assert!(Op::Destroy {
            keys: Keys::default()
        }
        .idempotent());
    }
}
