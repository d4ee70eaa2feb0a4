//! What one emulator process allows its clients: how long a client may take to send a
//! request's head and body, how long an idle keep-alive connection is kept, how many
//! connections are served at once, and how the accept loop backs off when the process runs
//! out of file descriptors instead of spinning.
//!
//! The defaults follow common HTTP servers: nginx closes a client that has not sent its
//! request header within `client_header_timeout` (60 s by default) and an idle keep-alive
//! connection after `keepalive_timeout` (75 s), <https://nginx.org/en/docs/http/ngx_http_core_module.html>;
//! the emulator is stricter (10 s and 60 s) since its clients are local. `accept(2)`
//! fails with `EMFILE` / `ENFILE` when descriptors run out and keeps failing until one is
//! freed (the pending connection stays in the backlog), so retrying at once spins
//! (<https://man7.org/linux/man-pages/man2/accept.2.html>); the loop sleeps with a doubling
//! back-off instead, as tokio's and hyper's own examples advise.

use std::io;
use std::time::Duration;

/// Timeouts and limits of the server. `Default` gives the production values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// Longest a client may take, from connecting (or from the first byte of a later
    /// request on a kept-alive connection), to send a complete request head; also the
    /// longest it may take to send the body once the head is in. Default 10 s.
    pub header_timeout: Duration,
    /// Longest a kept-alive connection may stay idle between an answer and the next
    /// request. Default 60 s.
    pub idle_timeout: Duration,
    /// Most connections served at once; further clients wait in the listen backlog until
    /// one closes. Default 1024.
    pub max_connections: usize,
    /// Serve https with a certificate authority generated at start
    /// ([`Emulator::ca_pem`](crate::Emulator::ca_pem)); plain http when false (the default).
    pub tls: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            tls: false,
        }
    }
}

impl ServerOptions {
    /// Sets [`ServerOptions::header_timeout`].
    #[must_use]
    pub fn header_timeout(mut self, d: Duration) -> Self {
        self.header_timeout = d;
        self
    }
    /// Sets [`ServerOptions::idle_timeout`].
    #[must_use]
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }
    /// Sets [`ServerOptions::max_connections`].
    #[must_use]
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }
    /// Sets [`ServerOptions::tls`].
    #[must_use]
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }
    /// Refuses zero timeouts and a zero connection cap.
    pub fn validate(&self) -> Result<(), String> {
        if self.header_timeout.is_zero() || self.idle_timeout.is_zero() {
            return Err("server timeouts must be longer than zero".into());
        }
        if self.max_connections == 0 {
            return Err("max_connections must be at least 1".into());
        }
        Ok(())
    }
}

/// The accept loop's back-off after errors that persist until a resource is freed.
#[derive(Debug)]
pub(crate) struct AcceptBackoff {
    next: Duration,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    pub(crate) fn new() -> Self {
        Self { next: Self::FIRST }
    }

    /// After a successful accept.
    pub(crate) fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    /// How long to wait after `error` before accepting again: a doubling delay for
    /// errors that last (out of descriptors or memory), none for errors of one pending
    /// connection (reset or aborted by its client before it was accepted).
    pub(crate) fn after(&mut self, error: &io::Error) -> Duration {
        if is_per_connection(error) {
            return Duration::ZERO;
        }
        let d = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        d
    }
}

/// Errors of one pending connection, after which the next accept can succeed at once.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_on_lasting_errors_and_resets() {
        let mut b = AcceptBackoff::new();
        // EMFILE: "Too many open files".
        let emfile = io::Error::from_raw_os_error(24);
        let waits: Vec<u128> = (0..10).map(|_| b.after(&emfile).as_millis()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert_eq!(b.after(&aborted), Duration::ZERO);
        b.reset();
        assert_eq!(b.after(&emfile), Duration::from_millis(5));
    }

    #[test]
    fn zero_limits_are_refused() {
        assert!(ServerOptions::default().validate().is_ok());
        let zero = ServerOptions::default().header_timeout(Duration::ZERO);
        assert!(zero.validate().is_err());
        assert!(ServerOptions::default()
            .max_connections(0)
            .validate()
            .is_err());
    }
}
