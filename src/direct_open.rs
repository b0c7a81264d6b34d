//! Opening the main-thread connection: connect and authenticate on the background runtime
//! (the main thread must never wait on the network), then hand over a non-blocking socket.

use std::path::PathBuf;
use std::time::Duration;

use redis::RedisConnectionInfo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::resp;

/// Where the main-thread connection goes: the server the background connection reached.
#[derive(Debug, Clone)]
pub enum Target {
    Tcp(String, u16),
    Unix(PathBuf),
}

pub enum Stream {
    Tcp(std::net::TcpStream),
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixStream),
}

impl Stream {
    #[cfg(unix)]
    pub fn fd(&self) -> std::ffi::c_int {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }

    /// Never polled where there is no libuv to find (`uv::get()` is `None` there).
    #[cfg(not(unix))]
    pub fn fd(&self) -> std::ffi::c_int {
        -1
    }
}

impl std::io::Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl std::io::Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Connects to `target`, authenticates and selects the database as `redis` says, checks the
/// server answers PING (not LOADING), and returns the socket in non-blocking mode.
pub async fn open(
    target: &Target,
    redis: &RedisConnectionInfo,
    timeout: Duration,
) -> Result<Stream, String> {
    tokio::time::timeout(timeout, handshake(target, redis))
        .await
        .map_err(|_| format!("no answer within {} ms", timeout.as_millis()))?
}

async fn handshake(target: &Target, redis: &RedisConnectionInfo) -> Result<Stream, String> {
    let mut pipe = redis::pipe();
    if let Some(password) = redis.password() {
        let auth = pipe.cmd("AUTH");
        if let Some(user) = redis.username() {
            auth.arg(user);
        }
        auth.arg(password);
    }
    if redis.db() != 0 {
        pipe.cmd("SELECT").arg(redis.db());
    }
    pipe.cmd("PING");
    let request = pipe.get_packed_pipeline();
    let expected = pipe.cmd_iter().count();
    let io = |e: std::io::Error| e.to_string();
    match target {
        Target::Tcp(host, port) => {
            let mut s = tokio::net::TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(io)?;
            s.set_nodelay(true).map_err(io)?;
            exchange(&mut s, &request, expected).await?;
            Ok(Stream::Tcp(s.into_std().map_err(io)?))
        }
        #[cfg(unix)]
        Target::Unix(path) => {
            let mut s = tokio::net::UnixStream::connect(path).await.map_err(io)?;
            exchange(&mut s, &request, expected).await?;
            Ok(Stream::Unix(s.into_std().map_err(io)?))
        }
        #[cfg(not(unix))]
        Target::Unix(_) => Err("unix sockets are not supported here".into()),
    }
}

/// Sends the handshake and reads its `expected` replies; any error reply fails it.
async fn exchange<S>(s: &mut S, request: &[u8], expected: usize) -> Result<(), String>
where
    S: AsyncReadExt + AsyncWriteExt + Unpin,
{
    s.write_all(request).await.map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(256);
    let mut seen = 0;
    let mut at = 0;
    while seen < expected {
        if let Some(len) = resp::frame_len(&buf[at..])? {
            if let redis::Value::ServerError(err) = resp::value(&buf[at..at + len])? {
                return Err(redis::RedisError::from(err).to_string());
            }
            at += len;
            seen += 1;
            continue;
        }
        let mut chunk = [0u8; 1024];
        let n = s.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}
