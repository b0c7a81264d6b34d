//! The tokio runtime every client shares, sized for a small machine: the main thread does the
//! JavaScript work, one worker does the Redis I/O.

use once_cell::sync::OnceCell;
use tokio::runtime::{Builder, Runtime};

static RUNTIME: OnceCell<Runtime> = OnceCell::new();

pub fn get() -> napi::Result<&'static Runtime> {
    RUNTIME.get_or_try_init(|| {
        // rustls needs one process-wide crypto provider; another addon may have set one already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("connect-redis-rs")
            .enable_all()
            .build()
            .map_err(|e| {
                napi::Error::from_reason(format!(
                    "connect-redis-rs: could not start its I/O thread: {e}"
                ))
            })
    })
}
