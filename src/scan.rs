//! The SCAN walk of the bulk operations: every key under a prefix on every node that holds
//! data, each once (SCAN may return a key more than once).

use std::collections::HashSet;

use redis::Value;

use crate::connection::Connection;
use crate::error::{Code, StoreError};
use crate::keys;

pub async fn scan(conn: &Connection, prefix: &str, count: u32) -> Result<Vec<Vec<u8>>, StoreError> {
    let pattern = keys::scan_pattern(prefix);
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for node in conn.scan_nodes().await? {
        let mut cursor: u64 = 0;
        loop {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(count);
            let (next, batch) = parse_scan(conn.on_node(&node, cmd).await?)?;
            found.extend(batch.into_iter().filter(|key| seen.insert(key.clone())));
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
    Ok(found)
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
