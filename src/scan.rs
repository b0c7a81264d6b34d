//! The SCAN walk of the bulk operations: every key under a prefix on every node that holds
//! data, each once (SCAN may return a key more than once), batch by batch so that a caller can
//! work on the keys found so far while the walk goes on.

use std::collections::HashSet;

use redis::Value;

use crate::connection::{Connection, ScanNode};
use crate::error::{Code, StoreError};
use crate::keys;

pub struct Scan {
    pattern: String,
    count: u32,
    nodes: Vec<ScanNode>,
    node: usize,
    cursor: u64,
    seen: HashSet<Vec<u8>>,
}

impl Scan {
    pub async fn start(conn: &Connection, prefix: &str, count: u32) -> Result<Scan, StoreError> {
        Ok(Scan {
            pattern: keys::scan_pattern(prefix),
            count,
            nodes: conn.scan_nodes().await?,
            node: 0,
            cursor: 0,
            seen: HashSet::new(),
        })
    }

    /// The keys of the next SCAN call not seen before (maybe none); `None` once every node has
    /// been walked.
    pub async fn next(&mut self, conn: &Connection) -> Result<Option<Vec<Vec<u8>>>, StoreError> {
        let Some(node) = self.nodes.get(self.node) else {
            return Ok(None);
        };
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(self.cursor)
            .arg("MATCH")
            .arg(&self.pattern)
            .arg("COUNT")
            .arg(self.count);
        let (next, batch) = parse_scan(conn.on_node(node, cmd).await?)?;
        if next == 0 {
            self.node += 1;
        }
        self.cursor = next;
        Ok(Some(
            batch
                .into_iter()
                .filter(|key| self.seen.insert(key.clone()))
                .collect(),
        ))
    }

    /// Walks to the end: every key.
    pub async fn all(mut self, conn: &Connection) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut found = Vec::new();
        while let Some(batch) = self.next(conn).await? {
            found.extend(batch);
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
