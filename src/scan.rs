//! The SCAN walk of the bulk operations: every key under a prefix on every node that holds
//! data, each once (SCAN may return a key more than once).

use redis::Value;

use crate::connection::{Connection, ScanNode};
use crate::error::{Code, StoreError};
use crate::key_set::KeySet;
use crate::keys;

/// The whole walk at once (ids, length).
pub async fn scan(conn: &Connection, prefix: &str, count: u32) -> Result<Vec<Vec<u8>>, StoreError> {
    Walk::start(conn, prefix, count)
        .await?
        .next_keys(usize::MAX)
        .await
}

/// A walk taken a stretch at a time, so that what is found can be used while it goes on.
pub struct Walk<'a> {
    conn: &'a Connection,
    pattern: String,
    count: u32,
    nodes: Vec<ScanNode>,
    /// The node being walked (`nodes.len()` once the walk is over) and its cursor.
    node: usize,
    cursor: u64,
    seen: KeySet,
}

impl<'a> Walk<'a> {
    pub async fn start(
        conn: &'a Connection,
        prefix: &str,
        count: u32,
    ) -> Result<Walk<'a>, StoreError> {
        Ok(Walk {
            conn,
            pattern: keys::scan_pattern(prefix),
            count,
            nodes: conn.scan_nodes().await?,
            node: 0,
            cursor: 0,
            seen: KeySet::new(),
        })
    }

    pub fn done(&self) -> bool {
        self.node >= self.nodes.len()
    }

    /// SCANs until at least `want` keys not seen before are found, or the walk is over.
    pub async fn next_keys(&mut self, want: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut found = Vec::new();
        while !self.done() && found.len() < want {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(self.cursor)
                .arg("MATCH")
                .arg(&self.pattern)
                .arg("COUNT")
                .arg(self.count);
            let (next, batch) = parse_scan(self.conn.on_node(&self.nodes[self.node], cmd).await?)?;
            let seen = &mut self.seen;
            found.extend(batch.into_iter().filter(|key| seen.insert(key)));
            if next == 0 {
                self.node += 1;
            }
            self.cursor = next;
        }
        Ok(found)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_reply_parses() {
        let reply = Value::Array(vec![
            Value::BulkString(b"17".to_vec()),
            Value::Array(vec![Value::BulkString(b"sess:a".to_vec())]),
        ]);
        assert_eq!(parse_scan(reply).unwrap(), (17, vec![b"sess:a".to_vec()]));
    }
}
