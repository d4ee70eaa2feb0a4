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
//! each retry inside it (a retry already holds its concurrency permit). The one exception
//! is the first retry of a call after the server answered with its throttling code: the
//! server did not count that refusal against its quota, so the permit the refused attempt
//! spent is reused and the retry is paced by the backoff (or the server's retry-after)
//! alone. Charging it again would make a client that meets p throttling answers per
//! attempt run at (1 - p) of the quota. Only once per call: a second throttling answer
//! means the quota is exhausted for real, and later retries wait for permits. It lives in
//! [`ClientOptions`], so adapters built from the same options share its buckets; each
//! adapter registers its cloud's published quotas with
//! [`Transport::with_rate_limits`].
//!
//! # Retry accounting
//!
//! Every failed attempt that the cloud or the network caused (throttled, 5xx or a "busy"
//! code, a connection error, a timeout) is recorded, with its [`RetryReason`], provider
//! and action, into the [`RetryLog`] of the call tree it belongs to, whether the transport
//! retried it or handed the error up. A caller opens a log around any future with
//! [`RetryLog::collect`] (the bulk engine does so around each image step); the transport
//! finds it through a `tokio` task-local, so nothing is recorded (and nothing is paid for)
//! outside such a scope. Errors the caller made (a 4xx, an unknown image) are not retry
//! material and are not recorded.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
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

/// Why an attempt of an API call failed in a way that trying again may fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetryReason {
    /// The cloud's throttling answer (HTTP 429, Alibaba `Throttling*`, Tencent
    /// `RequestLimitExceeded*`, UCloud RetCode 153).
    Throttled,
    /// HTTP 5xx, or another code the adapter marks retryable (service unavailable, busy).
    ServerError,
    /// The connection could not be opened, or was closed or reset before a whole answer
    /// arrived.
    Connection,
    /// No whole answer within the per-attempt timeout.
    Timeout,
}

impl RetryReason {
    /// Every reason, in display order.
    pub const ALL: [RetryReason; 4] = [
        RetryReason::Throttled,
        RetryReason::ServerError,
        RetryReason::Connection,
        RetryReason::Timeout,
    ];

    /// A stable kebab-case name (`throttled`, `server-error`, `connection`, `timeout`).
    pub fn name(self) -> &'static str {
        match self {
            RetryReason::Throttled => "throttled",
            RetryReason::ServerError => "server-error",
            RetryReason::Connection => "connection",
            RetryReason::Timeout => "timeout",
        }
    }

    /// The reason of a provider's error answer, or `None` when the answer is not retry
    /// material (the caller's mistake, credentials, not found, a decode failure).
    /// Transport errors are classified where they happen (see [`Transport::call`]).
    pub fn of_answer(error: &Error) -> Option<RetryReason> {
        let Error::Api(e) = error else {
            return None;
        };
        let throttled = e.status == 429
            || e.code.starts_with("Throttling")
            || e.code.starts_with("RequestLimitExceeded")
            || (e.provider == Provider::UCloud && e.code == UCLOUD_THROTTLED);
        if throttled {
            Some(RetryReason::Throttled)
        } else if e.status >= 500 || e.retryable {
            Some(RetryReason::ServerError)
        } else {
            None
        }
    }
}

/// UCloud's gateway `RetCode` for a throttled request, as the adapter writes it in `code`.
const UCLOUD_THROTTLED: &str = "153";

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Failed attempts, by [`RetryReason`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct RetryCounts {
    /// Throttling answers.
    pub throttled: u64,
    /// 5xx and busy answers.
    pub server_error: u64,
    /// Connection errors and dropped connections.
    pub connection: u64,
    /// Attempts that timed out.
    pub timeout: u64,
}

impl RetryCounts {
    /// The count of one reason.
    pub fn get(&self, reason: RetryReason) -> u64 {
        match reason {
            RetryReason::Throttled => self.throttled,
            RetryReason::ServerError => self.server_error,
            RetryReason::Connection => self.connection,
            RetryReason::Timeout => self.timeout,
        }
    }
    /// Adds one attempt failed for `reason`.
    pub fn add(&mut self, reason: RetryReason) {
        let n = match reason {
            RetryReason::Throttled => &mut self.throttled,
            RetryReason::ServerError => &mut self.server_error,
            RetryReason::Connection => &mut self.connection,
            RetryReason::Timeout => &mut self.timeout,
        };
        *n += 1;
    }
    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &RetryCounts) {
        self.throttled += other.throttled;
        self.server_error += other.server_error;
        self.connection += other.connection;
        self.timeout += other.timeout;
    }
    /// All reasons together.
    pub fn total(&self) -> u64 {
        self.throttled + self.server_error + self.connection + self.timeout
    }
    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }
}

impl RetryCounts {
    /// `3 <label> (2 throttled, 1 server-error)`, or `0 <label>`.
    fn labelled(&self, f: &mut fmt::Formatter<'_>, label: &str) -> fmt::Result {
        write!(f, "{} {label}", self.total())?;
        let parts: Vec<String> = RetryReason::ALL
            .iter()
            .filter(|r| self.get(**r) > 0)
            .map(|r| format!("{} {r}", self.get(*r)))
            .collect();
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Display for RetryCounts {
    /// `3 failed attempts (2 throttled, 1 server-error)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = if self.total() == 1 {
            "failed attempt"
        } else {
            "failed attempts"
        };
        self.labelled(f, label)
    }
}

/// The failed attempts of one `(provider, action)` within a [`RetryLog`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionRetries {
    /// The provider.
    pub provider: Provider,
    /// The API action.
    pub action: String,
    /// Failed attempts the transport retried (another attempt of the same call followed).
    pub retried: RetryCounts,
    /// Failed attempts that ended their call: no attempt or time left, or not safe to
    /// repeat. Their error went up to the caller (the bulk engine may retry the principals
    /// in a further pass, through a new call).
    pub gave_up: RetryCounts,
}

impl ActionRetries {
    /// Every failed attempt: retried and given up.
    pub fn failed_attempts(&self) -> RetryCounts {
        let mut c = self.retried;
        c.merge(&self.gave_up);
        c
    }
}

/// Every failed attempt of a call tree, per `(provider, action)` (sorted). See the module
/// docs; collect one with [`RetryLog::collect`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RetryLog {
    actions: Vec<ActionRetries>,
}

tokio::task_local! {
    /// The log of the innermost [`RetryLog::collect`] scope.
    static RETRY_LOG: Arc<Mutex<RetryLog>>;
}

impl RetryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `fut` with a fresh log in scope and returns its output with every failed
    /// attempt the transport recorded while it ran (on the same task). Scopes nest: what
    /// an inner scope collected is added to the enclosing one as well.
    pub async fn collect<F: Future>(fut: F) -> (F::Output, RetryLog) {
        let cell = Arc::new(Mutex::new(RetryLog::new()));
        let out = RETRY_LOG.scope(cell.clone(), fut).await;
        let log = std::mem::take(&mut *cell.lock().unwrap_or_else(PoisonError::into_inner));
        if !log.is_empty() {
            let _ = RETRY_LOG.try_with(|outer| {
                outer
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .merge(&log)
            });
        }
        (out, log)
    }

    /// Records one failed attempt into the log in scope, if any (no-op outside a
    /// [`collect`](Self::collect) scope).
    pub fn record_in_scope(provider: Provider, action: &str, reason: RetryReason, retried: bool) {
        let _ = RETRY_LOG.try_with(|log| {
            log.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .record(provider, action, reason, retried)
        });
    }

    fn entry(&mut self, provider: Provider, action: &str) -> &mut ActionRetries {
        let i = match self
            .actions
            .binary_search_by(|a| (a.provider, a.action.as_str()).cmp(&(provider, action)))
        {
            Ok(i) => i,
            Err(i) => {
                self.actions.insert(
                    i,
                    ActionRetries {
                        provider,
                        action: action.to_owned(),
                        retried: RetryCounts::default(),
                        gave_up: RetryCounts::default(),
                    },
                );
                i
            }
        };
        &mut self.actions[i]
    }

    /// Records one failed attempt of `action`: `retried` when another attempt followed.
    pub fn record(&mut self, provider: Provider, action: &str, reason: RetryReason, retried: bool) {
        let e = self.entry(provider, action);
        if retried {
            e.retried.add(reason);
        } else {
            e.gave_up.add(reason);
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &RetryLog) {
        for a in &other.actions {
            let e = self.entry(a.provider, &a.action);
            e.retried.merge(&a.retried);
            e.gave_up.merge(&a.gave_up);
        }
    }

    /// Per `(provider, action)`, sorted.
    pub fn actions(&self) -> &[ActionRetries] {
        &self.actions
    }
    /// Failed attempts the transport retried, all actions together.
    pub fn retried(&self) -> RetryCounts {
        self.sum(|a| a.retried)
    }
    /// Failed attempts that ended their call, all actions together.
    pub fn gave_up(&self) -> RetryCounts {
        self.sum(|a| a.gave_up)
    }
    /// Every failed attempt (retried and given up), all actions together.
    pub fn failed_attempts(&self) -> RetryCounts {
        self.sum(ActionRetries::failed_attempts)
    }
    /// True when no failed attempt was recorded.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
    fn sum(&self, f: impl Fn(&ActionRetries) -> RetryCounts) -> RetryCounts {
        let mut c = RetryCounts::default();
        for a in &self.actions {
            c.merge(&f(a));
        }
        c
    }
}

impl fmt::Display for RetryLog {
    /// `5 retried (4 throttled, 1 connection), 1 given up (1 throttled)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.retried().labelled(f, "retried")?;
        let gave_up = self.gave_up();
        if !gave_up.is_empty() {
            f.write_str(", ")?;
            gave_up.labelled(f, "given up")?;
        }
        Ok(())
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
        self.attempt(call, req).await.map_err(|(e, _)| e)
    }

    /// [`send`](Self::send), with the [`RetryReason`] of a failure that is the network's
    /// (`None` for a request that could not even be built).
    async fn attempt(
        &self,
        call: &ApiCall<'_>,
        req: HttpRequest,
    ) -> std::result::Result<HttpResponse, (Error, Option<RetryReason>)> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|_| {
            let e =
                Error::invalid_input("method", format!("{:?} is not an HTTP method", req.method));
            (e, None)
        })?;
        let host = host_of(&req.url);
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
            Err(_) => Err((
                Error::transport(
                    call.provider,
                    call.action,
                    format!(
                        "timed out: no complete answer within {:?} from {host}",
                        self.options.timeout
                    ),
                    call.idempotent,
                    None,
                ),
                Some(RetryReason::Timeout),
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
                let reason = if e.is_timeout() {
                    RetryReason::Timeout
                } else {
                    RetryReason::Connection
                };
                let err = Error::transport(
                    call.provider,
                    call.action,
                    format!("{what}: {}", without_url(&e)),
                    nothing_sent || call.idempotent,
                    Some(Box::new(e.without_url())),
                );
                Err((err, Some(reason)))
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
            let mut last_reason: Option<RetryReason> = None;
            let mut permit_reused = false;
            loop {
                attempt += 1;
                tracing::Span::current().record("attempt", attempt);
                // A retry is a request too and waits for its own permit, except the first
                // retry after a throttling answer: the server refused that request without
                // counting it against the quota (a token bucket takes no token for a
                // refusal), so the permit it spent is still unused, and the backoff paces
                // the retry. A second throttling answer on the same call means the quota
                // really is exhausted (another client shares it, or the configured rate is
                // above the cloud's): from then on every retry waits for a permit again.
                if attempt > 1 {
                    let reuse = last_reason == Some(RetryReason::Throttled) && !permit_reused;
                    permit_reused |= reuse;
                    if let (Some(l), false) = (limiter, reuse) {
                        l.acquire(call.provider, call.action).await;
                    }
                }
                let req = build(attempt)?;
                let (outcome, network) = match self.attempt(&call, req).await {
                    Ok(resp) => {
                        tracing::Span::current().record("status", resp.status);
                        (decode(resp), None)
                    }
                    Err((e, reason)) => (Err(e), reason),
                };
                let err = match outcome {
                    Ok(v) => return Ok(v),
                    Err(e) => e,
                };
                let out_of_time = self
                    .retry
                    .max_elapsed
                    .is_some_and(|max| started.elapsed() >= max);
                let retry = err.is_retryable() && attempt < self.retry.max_attempts && !out_of_time;
                let reason = network.or_else(|| RetryReason::of_answer(&err));
                last_reason = reason;
                if let Some(reason) = reason {
                    RetryLog::record_in_scope(call.provider, call.action, reason, retry);
                }
                let reason = reason.map(RetryReason::name);
                if !retry {
                    tracing::debug!(attempt, reason, error = %err, "api call failed");
                    return Err(err);
                }
                let delay = err
                    .retry_after()
                    .unwrap_or_else(|| self.retry.backoff(attempt, fastrand::f64()))
                    .min(self.retry.max_backoff);
                tracing::debug!(attempt, reason, ?delay, error = %err, "retrying");
                tokio::time::sleep(delay).await;
            }
        }
        .instrument(span)
        .await
    }
}

/// The host (and port, when given) of `url`, for messages: never the path or the query
/// string, which may carry a signature.
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_else(|| "the endpoint".to_owned())
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
    use crate::error::ApiError;
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn fast(max_attempts: u32) -> RetryConfig {
        RetryConfig {
            max_attempts,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            multiplier: 2.0,
            max_elapsed: None,
        }
    }

    fn transport(max_attempts: u32, timeout: Duration) -> Transport {
        let options = ClientOptions::default()
            .without_rate_limiter()
            .with_timeout(timeout);
        Transport::new(options, fast(max_attempts)).unwrap()
    }

    fn api(provider: Provider, status: u16, code: &str, retryable: bool) -> Error {
        Error::Api(ApiError {
            provider,
            action: "Act".into(),
            status,
            code: code.into(),
            message: "m".into(),
            request_id: None,
            retryable,
            retry_after: None,
        })
    }

    /// Status 200 is success; any other answer is an `Api` error whose code is the body,
    /// retryable for 429 and 5xx (as the adapters classify).
    fn decode(resp: HttpResponse) -> Result<()> {
        if resp.status == 200 {
            return Ok(());
        }
        let code = String::from_utf8_lossy(&resp.body).into_owned();
        Err(api(
            Provider::AlibabaEcs,
            resp.status,
            &code,
            status_is_retryable(resp.status) || code.starts_with("Throttling"),
        ))
    }

    async fn call(t: &Transport, url: &str, action: &str, idempotent: bool) -> Result<()> {
        let call = ApiCall {
            provider: Provider::AlibabaEcs,
            action,
            region: "cn-hangzhou",
            idempotent,
        };
        let req = |_| {
            Ok(HttpRequest {
                method: "POST".into(),
                url: url.to_owned(),
                headers: vec![],
                body: vec![],
            })
        };
        t.call(call, req, decode).await
    }

    /// Answers `path` with `answers` in order (each once), then 200.
    async fn mount_sequence(server: &MockServer, at: &str, answers: &[(u16, &str)]) {
        for (i, (status, body)) in answers.iter().enumerate() {
            Mock::given(path(at))
                .respond_with(ResponseTemplate::new(*status).set_body_string(*body))
                .up_to_n_times(1)
                .with_priority(1 + i as u8)
                .mount(server)
                .await;
        }
        Mock::given(path(at))
            .respond_with(ResponseTemplate::new(200))
            .with_priority(100)
            .mount(server)
            .await;
    }

    #[test]
    fn answers_are_classified_by_reason() {
        let cases = [
            (
                api(Provider::AlibabaEcs, 400, "Throttling.User", true),
                Some(RetryReason::Throttled),
            ),
            (
                api(Provider::TencentCvm, 200, "RequestLimitExceeded", true),
                Some(RetryReason::Throttled),
            ),
            (
                api(
                    Provider::TencentCvm,
                    200,
                    "RequestLimitExceeded.UinLimitExceeded",
                    true,
                ),
                Some(RetryReason::Throttled),
            ),
            // UCloud's throttled RetCode is throttling even where it is not retried.
            (
                api(Provider::UCloud, 200, "153", false),
                Some(RetryReason::Throttled),
            ),
            (
                api(Provider::UCloud, 429, "HTTP429", true),
                Some(RetryReason::Throttled),
            ),
            (
                api(Provider::UCloud, 200, "150", true),
                Some(RetryReason::ServerError),
            ),
            (
                api(Provider::UCloud, 503, "HTTP503", false),
                Some(RetryReason::ServerError),
            ),
            (
                api(Provider::TencentCvm, 500, "InternalError", true),
                Some(RetryReason::ServerError),
            ),
            (
                api(Provider::TencentCvm, 200, "ResourceBusy", true),
                Some(RetryReason::ServerError),
            ),
            (
                api(Provider::AlibabaEcs, 400, "InvalidParameter", false),
                None,
            ),
            // 153 means throttled on UCloud only.
            (api(Provider::AlibabaEcs, 400, "153", false), None),
            (Error::invalid_input("x", "y"), None),
        ];
        for (e, want) in cases {
            assert_eq!(RetryReason::of_answer(&e), want, "{e}");
        }
    }

    #[tokio::test]
    async fn every_failed_attempt_is_recorded_in_the_scope_with_its_reason() {
        let server = MockServer::start().await;
        mount_sequence(
            &server,
            "/a",
            &[
                (400, "Throttling.User"),
                (503, "ServiceUnavailable"),
                (429, "Throttling"),
            ],
        )
        .await;
        mount_sequence(&server, "/b", &[(500, "InternalError")]).await;
        let t = transport(5, Duration::from_secs(5));
        let (out, log) = RetryLog::collect(async {
            call(&t, &format!("{}/a", server.uri()), "A", true).await?;
            call(&t, &format!("{}/b", server.uri()), "B", true).await
        })
        .await;
        out.unwrap();
        let want_a = RetryCounts {
            throttled: 2,
            server_error: 1,
            ..RetryCounts::default()
        };
        let want_b = RetryCounts {
            server_error: 1,
            ..RetryCounts::default()
        };
        assert_eq!(log.actions().len(), 2, "{log:?}");
        assert_eq!(
            (log.actions()[0].action.as_str(), log.actions()[0].retried),
            ("A", want_a)
        );
        assert_eq!(
            (log.actions()[1].action.as_str(), log.actions()[1].retried),
            ("B", want_b)
        );
        assert!(log.gave_up().is_empty());
        assert_eq!(log.retried().total(), 4);
        assert_eq!(log.to_string(), "4 retried (2 throttled, 2 server-error)");
        let json = serde_json::to_value(&log).unwrap();
        assert_eq!(json[0]["provider"], "alibaba-ecs");
        assert_eq!(json[0]["retried"]["throttled"], 2);
        assert_eq!(json[1]["gave_up"]["server_error"], 0);

        // A client error is no retry material: not recorded.
        mount_sequence(&server, "/c", &[(400, "InvalidParameter")]).await;
        let (out, log) =
            RetryLog::collect(call(&t, &format!("{}/c", server.uri()), "C", true)).await;
        assert!(out.is_err());
        assert!(log.is_empty(), "{log:?}");
    }

    #[tokio::test]
    async fn attempts_given_up_are_recorded_apart_from_retried_ones() {
        let server = MockServer::start().await;
        Mock::given(path("/busy"))
            .respond_with(ResponseTemplate::new(400).set_body_string("Throttling.User"))
            .mount(&server)
            .await;
        let t = transport(3, Duration::from_secs(5));
        let (out, log) =
            RetryLog::collect(call(&t, &format!("{}/busy", server.uri()), "A", true)).await;
        assert!(out.unwrap_err().is_retryable());
        assert_eq!(log.retried().throttled, 2);
        assert_eq!(log.gave_up().throttled, 1);
        assert_eq!(log.failed_attempts().total(), 3);
        assert_eq!(
            log.to_string(),
            "2 retried (2 throttled), 1 given up (1 throttled)"
        );
    }

    #[tokio::test]
    async fn connection_errors_and_timeouts_are_recorded() {
        // A port nothing listens on: connect refused on every attempt.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", closed.local_addr().unwrap());
        drop(closed);
        let t = transport(2, Duration::from_secs(5));
        let (out, log) = RetryLog::collect(call(&t, &url, "A", false)).await;
        assert!(out.is_err());
        // Nothing was sent, so even a non-idempotent call is retried.
        assert_eq!(log.retried().connection, 1, "{log:?}");
        assert_eq!(log.gave_up().connection, 1, "{log:?}");

        let server = MockServer::start().await;
        Mock::given(path("/slow"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
            .mount(&server)
            .await;
        let t = transport(2, Duration::from_millis(50));
        let url = format!("{}/slow", server.uri());
        let (out, log) = RetryLog::collect(call(&t, &url, "Read", true)).await;
        assert!(out.is_err());
        assert_eq!(
            (log.retried().timeout, log.gave_up().timeout),
            (1, 1),
            "{log:?}"
        );
        // A write that may have landed is not repeated: one attempt, given up.
        let (out, log) = RetryLog::collect(call(&t, &url, "Write", false)).await;
        assert!(out.is_err());
        assert_eq!(
            (log.retried().timeout, log.gave_up().timeout),
            (0, 1),
            "{log:?}"
        );
    }

    #[test]
    fn host_of_names_host_and_port_only() {
        assert_eq!(
            host_of("https://ecs.aliyuncs.com/?Action=X&Signature=s3cr3t"),
            "ecs.aliyuncs.com"
        );
        assert_eq!(host_of("http://127.0.0.1:8080/a?b=c"), "127.0.0.1:8080");
        assert_eq!(host_of("not a url"), "the endpoint");
    }

    #[tokio::test]
    async fn a_timeout_says_so_and_names_the_host_never_the_query() {
        let server = MockServer::start().await;
        Mock::given(path("/slow"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
            .mount(&server)
            .await;
        let t = transport(1, Duration::from_millis(50));
        let url = format!("{}/slow?Action=Read&Signature=s3cr3t", server.uri());
        let err = call(&t, &url, "Read", true).await.unwrap_err().to_string();
        assert!(err.contains("timed out"), "{err}");
        assert!(err.contains(&host_of(&server.uri())), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
        // The transport's own guard alone: an HTTP client without a timer of its own.
        let t = Transport {
            client: reqwest::Client::new(),
            ..transport(1, Duration::from_millis(50))
        };
        let call = ApiCall {
            provider: Provider::TencentCvm,
            action: "DescribeImages",
            region: "ap-guangzhou",
            idempotent: true,
        };
        let req = HttpRequest {
            method: "GET".into(),
            url,
            headers: vec![],
            body: vec![],
        };
        let err = t.send(&call, req).await.unwrap_err().to_string();
        let want = format!(
            "tencent-cvm DescribeImages: transport error: timed out: no complete answer \
             within 50ms from {}",
            host_of(&server.uri())
        );
        assert_eq!(err, want);
    }

    #[tokio::test]
    async fn nothing_is_recorded_outside_a_scope_and_scopes_nest() {
        let server = MockServer::start().await;
        mount_sequence(&server, "/a", &[(503, "ServiceUnavailable")]).await;
        mount_sequence(&server, "/b", &[(429, "Throttling")]).await;
        let t = transport(5, Duration::from_secs(5));
        let a = format!("{}/a", server.uri());
        let b = format!("{}/b", server.uri());
        // No scope: the call works and nothing is kept anywhere.
        call(&t, &a, "A", true).await.unwrap();
        let (inner, outer) = RetryLog::collect(async {
            let (_, inner) = RetryLog::collect(call(&t, &b, "B", true)).await;
            RetryLog::record_in_scope(Provider::UCloud, "C", RetryReason::Timeout, true);
            inner
        })
        .await;
        assert_eq!(inner.retried().throttled, 1);
        assert_eq!(inner.actions().len(), 1);
        // The outer scope saw the inner one's attempts and its own.
        assert_eq!(outer.retried().throttled, 1);
        assert_eq!(outer.retried().timeout, 1);
        assert_eq!(outer.actions().len(), 2);
        // Merging is by (provider, action), sorted.
        let mut m = outer.clone();
        m.merge(&inner);
        assert_eq!(m.retried().throttled, 2);
        assert_eq!(m.actions()[0].provider, Provider::AlibabaEcs);
        assert_eq!(m.actions()[1].provider, Provider::UCloud);
    }

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
