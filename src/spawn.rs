//! Work handed to the background runtime, guarded so that a panic fails its operations
//! instead of losing them (a panic never reaches Node).

use std::sync::Arc;

use crate::client::Client;
use crate::error::{Code, StoreError};
use crate::outbox::{Delivery, Outbox, Reply};
use crate::runtime;
use crate::store::{self, Op};

/// Runs `work` on the runtime. Should it panic, its guard is dropped unfinished and the
/// operations `ids` fail with an error instead of waiting forever.
pub fn guarded(
    ids: Vec<u32>,
    outbox: Arc<Outbox>,
    work: impl std::future::Future<Output = ()> + Send + 'static,
) -> napi::Result<()> {
    let mut guard = PanicGuard { ids, outbox };
    runtime::get()?.spawn(async move {
        work.await;
        guard.ids.clear();
    });
    Ok(())
}

/// Runs a tick's operations on the background connection (`store::run_batch`), by `deadline`
/// when they already have one (moved from a broken main-thread connection).
pub fn batch(
    client: &Client,
    outbox: &Arc<Outbox>,
    ops: Vec<(u32, Op)>,
    deadline: Option<std::time::Instant>,
) -> napi::Result<()> {
    let ids: Vec<u32> = ops.iter().map(|(id, _)| *id).collect();
    let deadline = deadline.unwrap_or_else(|| std::time::Instant::now() + client.command_timeout());
    let client = client.clone();
    let delivery = outbox.clone();
    guarded(ids, outbox.clone(), async move {
        let deadline = tokio::time::Instant::from_std(deadline);
        store::run_batch(client, ops, &delivery, deadline).await
    })
}

struct PanicGuard {
    ids: Vec<u32>,
    outbox: Arc<Outbox>,
}

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if self.ids.is_empty() {
            return;
        }
        let err = StoreError::new(
            Code::Server,
            "connect-redis-rs: internal error while running this operation (please report it)",
        );
        let failed = self
            .ids
            .drain(..)
            .map(|id| Delivery::Reply(id, Reply::Failed(err.clone())));
        self.outbox.push(failed.collect::<Vec<_>>());
    }
}
