//! [`ClientOptions`]: the HTTP settings shared by every adapter.

use std::time::Duration;

use crate::ratelimit::RateLimiter;

/// Transport options shared by every adapter (the `ClientOptions` of object_store).
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one attempt (request sent, whole answer read).
    pub timeout: Duration,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Most requests in flight at once through this transport; `None` for no bound.
    pub max_concurrency: Option<usize>,
    /// The client-side rate limiter (per provider and action); `None` for no client-side
    /// limit. The default is a fresh limiter, which each adapter fills with its cloud's
    /// published quotas when it is built. Clones of these options share the limiter, so
    /// every adapter built from them is held to one quota per `(provider, action)`.
    pub rate_limiter: Option<RateLimiter>,
    /// The largest answer body read, in bytes ([`DEFAULT_MAX_RESPONSE_BYTES`] by default):
    /// a larger one (an endpoint streaming without end, a wrong endpoint serving a file)
    /// fails the attempt as soon as it is known, without reading the rest.
    pub max_response_bytes: usize,
}

/// The default cap on one answer body: 16 MiB. The largest real answers imageshare reads
/// (a page of 100 images with their disk mappings and tags) are a few hundred KiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            user_agent: format!("imageshare/{}", env!("CARGO_PKG_VERSION")),
            max_concurrency: Some(64),
            rate_limiter: Some(RateLimiter::new()),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

impl ClientOptions {
    /// Sets the per-attempt timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Sets the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// Sets the concurrency bound (`None`: unbounded).
    pub fn with_max_concurrency(mut self, n: Option<usize>) -> Self {
        self.max_concurrency = n.map(|n| n.max(1));
        self
    }
    /// Sets the cap on one answer body, in bytes (at least 1 KiB).
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes.max(1024);
        self
    }
    /// Sets the `User-Agent`.
    pub fn with_user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }
    /// Uses `limiter` (e.g. one shared with other options) as the client-side rate limiter.
    pub fn with_rate_limiter(mut self, limiter: RateLimiter) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }
    /// Turns the client-side rate limiter off (the server's throttling answers are still
    /// retried).
    pub fn without_rate_limiter(mut self) -> Self {
        self.rate_limiter = None;
        self
    }
}
