//! The HTTP transport every adapter uses, written once: reqwest with rustls, connect and
//! per-attempt timeouts, a concurrency bound, retry with jittered exponential backoff on
//! retryable outcomes, and a `tracing` span per API call.
//!
//! Adapters supply two closures: `build(attempt)` produces a freshly signed request for
//! each attempt (new nonce and timestamp), and `decode(response)` turns the answer into a
//! value or a classified [`Error`]. The transport retries when the error says
//! [`Error::is_retryable`], honouring [`Error::retry_after`].
//!
//! Order of the stack (outside in): limit checker -> rate limiter -> concurrency bound ->
//! retry -> per-attempt timeout -> tracing span -> signer -> HTTP. The timeout sits inside
//! the retry loop, so a slow attempt is retried rather than ending the whole call.
//!
//! The rate limiter ([`RateLimiter`], per provider and action, see [`crate::ratelimit`])
//! is asked for a permit before every attempt: the first one before the concurrency bound,
//! each retry inside it (a retry already holds its concurrency permit). It lives in
//! [`ClientOptions`], so adapters built from the same options share its buckets; each
//! adapter registers its cloud's published quotas with
//! [`Transport::with_rate_limits`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::model::Provider;
pub use crate::ratelimit::{Rate, RateLimiter, RateLimits};

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
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            user_agent: format!("imageshare/{}", env!("CARGO_PKG_VERSION")),
            max_concurrency: Some(64),
            rate_limiter: Some(RateLimiter::new()),
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

/// Retry policy: bounded attempts, jittered exponential backoff.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Backoff before the second attempt.
    pub initial_backoff: Duration,
    /// Largest backoff.
    pub max_backoff: Duration,
    /// Growth factor between attempts.
    pub multiplier: f64,
    /// Give up once this much time has passed since the first attempt, if set.
    pub max_elapsed: Option<Duration>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            multiplier: 2.0,
            max_elapsed: Some(Duration::from_secs(120)),
        }
    }
}

impl RetryConfig {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The delay after failed attempt number `attempt` (1-based), with "equal jitter":
    /// half the exponential step plus a random part of the other half. `unit` is a random
    /// number in `[0, 1)` (injected so tests are deterministic).
    pub fn backoff(&self, attempt: u32, unit: f64) -> Duration {
        let exp = self
            .multiplier
            .max(1.0)
            .powi(attempt.saturating_sub(1).min(30) as i32);
        let step = self
            .initial_backoff
            .mul_f64(exp)
            .min(self.max_backoff)
            .as_secs_f64();
        Duration::from_secs_f64(step / 2.0 + step / 2.0 * unit.clamp(0.0, 1.0))
    }
}

/// An HTTP request as a signer produced it.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The full URL, query string included.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpRequest {
    // Headers are not printed: they carry signatures and tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &redact_query(&self.url))
            .field("headers", &format_args!("[{} headers]", self.headers.len()))
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The URL with every query value that could carry a secret replaced by `***`.
pub fn redact_query(url: &str) -> String {
    match url.split_once('?') {
        None => url.to_owned(),
        Some((base, q)) => {
            let parts: Vec<String> = q
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _))
                        if ["signature", "securitytoken", "token"]
                            .contains(&k.to_ascii_lowercase().as_str()) =>
                    {
                        format!("{k}=***")
                    }
                    _ => kv.to_owned(),
                })
                .collect();
            format!("{base}?{}", parts.join("&"))
        }
    }
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (names lowercase).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// HTTP statuses that are worth retrying whatever the body says.
pub fn status_is_retryable(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// What one API call is, for tracing and error text.
#[derive(Debug, Clone, Copy)]
pub struct ApiCall<'a> {
    /// Which provider.
    pub provider: Provider,
    /// The API action (`ModifyImageSharePermission`, ...).
    pub action: &'a str,
    /// The region.
    pub region: &'a str,
    /// Whether sending the request twice is harmless. Timeouts and resets after the
    /// request may have reached the server are retried only for idempotent calls;
    /// connection failures (nothing sent) are always retried.
    pub idempotent: bool,
}

/// Records the provider's request id on the current API-call span. Call it from the
/// `decode` closure of [`Transport::call`].
pub fn record_request_id(request_id: &str) {
    tracing::Span::current().record("request_id", request_id);
}

/// Validates an endpoint override: an absolute `http` or `https` URL.
pub fn parse_endpoint(endpoint: &str) -> Result<reqwest::Url> {
    let url = reqwest::Url::parse(endpoint).map_err(|e| {
        Error::invalid_input(
            "endpoint",
            format!("{endpoint:?} is not a URL ({e}); expected e.g. https://host[:port]"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::invalid_input(
            "endpoint",
            format!("{endpoint:?} must be an http:// or https:// URL with a host"),
        ));
    }
    Ok(url)
}

/// The shared HTTP transport. Cheap to clone; clones share the connection pool, the
/// concurrency bound and the rate limiter.
#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    options: ClientOptions,
    retry: RetryConfig,
    permits: Option<Arc<Semaphore>>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("options", &self.options)
            .field("retry", &self.retry)
            .finish()
    }
}

impl Transport {
    /// A transport with these options and retry policy.
    pub fn new(options: ClientOptions, retry: RetryConfig) -> Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .user_agent(options.user_agent.clone())
            .build()
            .map_err(|e| {
                Error::invalid_input("client options", format!("cannot build HTTP client: {e}"))
            })?;
        let permits = options
            .max_concurrency
            .map(|n| Arc::new(Semaphore::new(n.max(1))));
        Ok(Self {
            client,
            options,
            retry,
            permits,
        })
    }

    /// Registers `provider`'s quotas with the rate limiter of these options (no-op without
    /// one): `overrides` when given (they replace the provider's table for every adapter
    /// sharing the limiter), else `defaults` unless the limiter already has a table for
    /// `provider` (set by the caller or by another adapter sharing it).
    pub fn with_rate_limits(
        self,
        provider: Provider,
        defaults: RateLimits,
        overrides: Option<RateLimits>,
    ) -> Result<Self> {
        if let Some(limiter) = &self.options.rate_limiter {
            match overrides {
                Some(table) => limiter.set_limits(provider, table)?,
                None => {
                    limiter.set_default_limits(provider, defaults)?;
                }
            }
        }
        Ok(self)
    }

    /// The rate limiter in force, if any.
    pub fn rate_limiter(&self) -> Option<&RateLimiter> {
        self.options.rate_limiter.as_ref()
    }

    /// The options in force.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }
    /// The retry policy in force.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.retry
    }

    /// Sends one request, no retry. Errors are classified `Transport` errors.
    pub async fn send(&self, call: &ApiCall<'_>, req: HttpRequest) -> Result<HttpResponse> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|_| {
            Error::invalid_input("method", format!("{:?} is not an HTTP method", req.method))
        })?;
        let mut builder = self.client.request(method, &req.url).body(req.body);
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let fut = async {
            let resp = builder.send().await?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = resp.bytes().await?.to_vec();
            Ok::<_, reqwest::Error>(HttpResponse {
                status,
                headers,
                body,
            })
        };
        match tokio::time::timeout(self.options.timeout, fut).await {
            Err(_) => Err(Error::transport(
                call.provider,
                call.action,
                format!("no complete answer within {:?}", self.options.timeout),
                call.idempotent,
                None,
            )),
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => {
                // A failed connect means nothing was sent: always safe to retry.
                let nothing_sent = e.is_connect();
                let what = if e.is_timeout() {
                    format!("timed out ({:?} allowed)", self.options.timeout)
                } else if e.is_connect() {
                    "cannot connect".to_owned()
                } else {
                    "request failed".to_owned()
                };
                Err(Error::transport(
                    call.provider,
                    call.action,
                    format!("{what}: {}", without_url(&e)),
                    nothing_sent || call.idempotent,
                    Some(Box::new(e.without_url())),
                ))
            }
        }
    }

    /// Makes one API call with retries: `build(attempt)` signs a fresh request for each
    /// attempt (attempt is 1-based); `decode` classifies the answer.
    pub async fn call<T, B, D>(&self, call: ApiCall<'_>, mut build: B, mut decode: D) -> Result<T>
    where
        B: FnMut(u32) -> Result<HttpRequest> + Send,
        D: FnMut(HttpResponse) -> Result<T> + Send,
        T: Send,
    {
        let span = tracing::info_span!(
            "api_call",
            provider = %call.provider,
            action = call.action,
            region = call.region,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        async move {
            let limiter = self.options.rate_limiter.as_ref();
            // Rate limiter before the concurrency bound (DESIGN order) for the first attempt.
            if let Some(l) = limiter {
                let waited = l.acquire(call.provider, call.action).await;
                if !waited.is_zero() {
                    tracing::trace!(?waited, "rate limited");
                }
            }
            let _permit = match &self.permits {
                Some(s) => Some(s.acquire().await.map_err(|_| {
                    Error::transport(call.provider, call.action, "transport closed", false, None)
                })?),
                None => None,
            };
            let started = tokio::time::Instant::now();
            let mut attempt = 0u32;
            loop {
                attempt += 1;
                tracing::Span::current().record("attempt", attempt);
                if attempt > 1 {
                    // Every retry is a request too: it waits for its own permit.
                    if let Some(l) = limiter {
                        l.acquire(call.provider, call.action).await;
                    }
                }
                let req = build(attempt)?;
                let outcome = match self.send(&call, req).await {
                    Ok(resp) => {
                        tracing::Span::current().record("status", resp.status);
                        decode(resp)
                    }
                    Err(e) => Err(e),
                };
                let err = match outcome {
                    Ok(v) => return Ok(v),
                    Err(e) => e,
                };
                let out_of_time = self
                    .retry
                    .max_elapsed
                    .is_some_and(|max| started.elapsed() >= max);
                if !err.is_retryable() || attempt >= self.retry.max_attempts || out_of_time {
                    tracing::debug!(attempt, error = %err, "api call failed");
                    return Err(err);
                }
                let delay = err
                    .retry_after()
                    .unwrap_or_else(|| self.retry.backoff(attempt, fastrand::f64()))
                    .min(self.retry.max_backoff);
                tracing::debug!(attempt, ?delay, error = %err, "retrying");
                tokio::time::sleep(delay).await;
            }
        }
        .instrument(span)
        .await
    }
}

fn without_url(e: &reqwest::Error) -> String {
    // reqwest prints the URL, which for signed RPC requests carries the signature.
    let mut msg = e.to_string();
    if let Some(url) = e.url() {
        msg = msg.replace(url.as_str(), &redact_query(url.as_str()));
    }
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let r = RetryConfig {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            multiplier: 2.0,
            ..RetryConfig::default()
        };
        assert_eq!(r.backoff(1, 0.0), Duration::from_millis(50));
        assert_eq!(r.backoff(1, 1.0), Duration::from_millis(100));
        assert_eq!(r.backoff(3, 1.0), Duration::from_millis(400));
        assert_eq!(r.backoff(10, 1.0), Duration::from_millis(1000));
        assert_eq!(r.backoff(10, 0.5), Duration::from_millis(750));
        assert_eq!(r.backoff(u32::MAX, 1.0), Duration::from_millis(1000));
    }

    #[test]
    fn redacts_signature_and_token() {
        assert_eq!(
            redact_query("https://h/?Action=X&Signature=abc%3D&SecurityToken=t&RegionId=r"),
            "https://h/?Action=X&Signature=***&SecurityToken=***&RegionId=r"
        );
        let req = HttpRequest {
            method: "POST".into(),
            url: "https://h/?Signature=abc".into(),
            headers: vec![("authorization".into(), "TC3 Signature=deadbeef".into())],
            body: vec![],
        };
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("abc") && !dbg.contains("deadbeef"), "{dbg}");
    }

    #[test]
    fn endpoint_must_be_http_url() {
        assert!(parse_endpoint("http://127.0.0.1:8080").is_ok());
        assert!(parse_endpoint("https://ecs.cn-hangzhou.aliyuncs.com").is_ok());
        for bad in ["", "ecs.aliyuncs.com", "ftp://x", "http://", "not a url"] {
            let e = parse_endpoint(bad).unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{bad}: {e}");
        }
    }
}
