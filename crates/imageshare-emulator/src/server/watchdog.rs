//! Per-connection timeouts: a connection whose client is too slow to send a request head
//! (or body), or that stays idle too long between requests, is closed.
//!
//! The connection's reads and writes go through [`Tracked`], which notes when the first
//! byte of a request arrives; the request handler marks when a request is being served
//! ([`ConnState::begin`] / [`ConnState::end`]). [`ConnState::deadline`] then says when the
//! connection must be closed:
//!
//! | phase | deadline |
//! |---|---|
//! | connected, nothing received yet | connect time + header timeout |
//! | first byte of a request received, head not complete | that byte + header timeout |
//! | request being served (its body is read under the header timeout by the handler) | none |
//! | answered, idle, kept alive | answer time + idle timeout |
//!
//! hyper's own `header_read_timeout` restarts on every keep-alive wait, so it cannot tell a
//! slow head from an idle connection; hence this watchdog.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::limits::ServerOptions;

/// Marks "no such instant" in the millisecond fields.
const NONE: u64 = u64::MAX;

/// The phase of one connection, shared by its IO, its handler and its watchdog.
#[derive(Debug)]
pub(crate) struct ConnState {
    start: Instant,
    /// Milliseconds since `start` when the first byte of the current request arrived.
    head_started: AtomicU64,
    /// Milliseconds since `start` of the last answer.
    idle_since: AtomicU64,
    /// Whether a request is being served.
    busy: AtomicBool,
}

impl ConnState {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            head_started: AtomicU64::new(NONE),
            idle_since: AtomicU64::new(NONE),
            busy: AtomicBool::new(false),
        })
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn at(&self, ms: u64) -> Instant {
        self.start + Duration::from_millis(ms)
    }

    fn received(&self) {
        if !self.busy.load(Ordering::Acquire) {
            let _ = self.head_started.compare_exchange(
                NONE,
                self.now_ms(),
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
    }

    /// A request's head is complete: its handler runs.
    pub(crate) fn begin(&self) {
        self.busy.store(true, Ordering::Release);
        self.head_started.store(NONE, Ordering::Release);
    }

    /// The request was answered: the connection is idle until the next byte.
    pub(crate) fn end(&self) {
        self.idle_since.store(self.now_ms(), Ordering::Release);
        self.busy.store(false, Ordering::Release);
    }

    /// When the connection must be closed; `None` while a request is served.
    pub(crate) fn deadline(&self, opts: &ServerOptions) -> Option<Instant> {
        if self.busy.load(Ordering::Acquire) {
            return None;
        }
        let head = self.head_started.load(Ordering::Acquire);
        if head != NONE {
            return Some(self.at(head) + opts.header_timeout);
        }
        let idle = self.idle_since.load(Ordering::Acquire);
        if idle != NONE {
            return Some(self.at(idle) + opts.idle_timeout);
        }
        Some(self.start + opts.header_timeout)
    }
}

/// Resolves when the connection is past its deadline. Wakes at least every quarter of the
/// shorter timeout, so a phase change that brings the deadline forward is seen in time.
pub(crate) async fn expired(state: &ConnState, opts: &ServerOptions) {
    let tick = (opts.header_timeout.min(opts.idle_timeout) / 4).max(Duration::from_millis(5));
    loop {
        let now = Instant::now();
        match state.deadline(opts) {
            Some(d) if d <= now => return,
            Some(d) => tokio::time::sleep((d - now).min(tick)).await,
            None => tokio::time::sleep(tick).await,
        }
    }
}

/// A connection's IO, noting when request bytes arrive.
#[derive(Debug)]
pub(crate) struct Tracked<IO> {
    io: IO,
    state: Arc<ConnState>,
}

impl<IO> Tracked<IO> {
    pub(crate) fn new(io: IO, state: Arc<ConnState>) -> Self {
        Self { io, state }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Tracked<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.state.received();
        }
        res
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Tracked<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_follow_the_phase() {
        let opts = ServerOptions::default()
            .header_timeout(Duration::from_secs(2))
            .idle_timeout(Duration::from_secs(30));
        let s = ConnState::new();
        assert_eq!(s.deadline(&opts), Some(s.start + Duration::from_secs(2)));
        s.received();
        let head = s.deadline(&opts).unwrap();
        assert!(head >= s.start + Duration::from_secs(2));
        s.begin();
        assert_eq!(s.deadline(&opts), None, "no deadline while served");
        s.received();
        assert_eq!(s.deadline(&opts), None, "body bytes do not start a head");
        s.end();
        let idle = s.deadline(&opts).unwrap();
        assert!(idle >= s.start + Duration::from_secs(30));
        s.received();
        assert!(
            s.deadline(&opts).unwrap() < idle,
            "a new request's head has the header timeout"
        );
    }
}
