//! [`Transport`]: one API call with rate limiting, a concurrency bound, retries and a
//! tracing span; see the [module docs](super) for the order of the stack.

use std::fmt;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tracing::Instrument;

use super::http::{host_of, HttpRequest, HttpResponse, Method};
use super::options::ClientOptions;
use super::retry::{RetryConfig, RetryReason};
use super::tls::untrusted_certificate;
use crate::context::CallContext;
use crate::credentials::Env;
use crate::credentials::OsEnv;
use crate::error::{Error, Result};
use crate::model::Provider;

/// Why reading one answer failed: the HTTP client's error, or a body over the cap.
enum BodyError {
    Http(reqwest::Error),
    TooLarge(usize),
}
use crate::ratelimit::{RateLimiter, RateLimits};

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
    /// A transport with these options and retry policy; the proxy variables and
    /// certificate files are read from the process environment and file system.
    pub fn new(options: ClientOptions, retry: RetryConfig) -> Result<Self> {
        Self::with_env(options, retry, &OsEnv)
    }

    /// A transport with these options and retry policy, reading the proxy variables and
    /// certificate files through `env` (what a provider builder passes: its
    /// [`ClientBuilder::env`](crate::ClientBuilder::env)). A bad proxy URL or root
    /// certificate, or an injected client given settings it cannot honour, is
    /// [`Error::InvalidInput`].
    pub fn with_env(options: ClientOptions, retry: RetryConfig, env: &dyn Env) -> Result<Self> {
        let client = options.build_client(env)?;
        let permits = options
            .max_concurrency()
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
        if let Some(limiter) = self.options.rate_limiter() {
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
    #[must_use]
    pub fn rate_limiter(&self) -> Option<&RateLimiter> {
        self.options.rate_limiter()
    }

    /// The options in force.
    #[must_use]
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }
    /// The retry policy in force.
    #[must_use]
    pub fn retry_config(&self) -> &RetryConfig {
        &self.retry
    }

    /// Sends one request, no retry. Errors are classified `Transport` errors.
    pub async fn send(&self, call: &ApiCall<'_>, req: HttpRequest) -> Result<HttpResponse> {
        self.attempt(call, req).await.map_err(|(e, _)| e)
    }

    /// [`send`](Self::send), with the [`RetryReason`] of a failure that is the network's.
    async fn attempt(
        &self,
        call: &ApiCall<'_>,
        req: HttpRequest,
    ) -> std::result::Result<HttpResponse, (Error, RetryReason)> {
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
        };
        let host = host_of(&req.url);
        let builder = self
            .client
            .request(method, &req.url)
            .headers(req.headers)
            .body(req.body);
        let max = self.options.max_response_bytes();
        let fut = async {
            let mut resp = builder.send().await.map_err(BodyError::Http)?;
            let status = resp.status().as_u16();
            if resp.content_length().is_some_and(|n| n > max as u64) {
                return Err(BodyError::TooLarge(max));
            }
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
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(BodyError::Http)? {
                if body.len() + chunk.len() > max {
                    return Err(BodyError::TooLarge(max));
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, BodyError>(HttpResponse {
                status,
                headers,
                body,
            })
        };
        match tokio::time::timeout(self.options.timeout(), fut).await {
            Err(_) => Err((
                Error::transport(
                    call.provider,
                    call.action,
                    format!(
                        "timed out: no complete answer within {:?} from {host}",
                        self.options.timeout()
                    ),
                    call.idempotent,
                    None,
                ),
                RetryReason::Timeout,
            )),
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(BodyError::TooLarge(max))) => Err((
                Error::transport(
                    call.provider,
                    call.action,
                    format!(
                        "the answer from {host} is larger than {max} bytes, the most read \
                         (ClientOptions::max_response_bytes); is the endpoint right?"
                    ),
                    false,
                    None,
                ),
                RetryReason::Connection,
            )),
            Ok(Err(BodyError::Http(e))) => {
                // A failed connect means nothing was sent: always safe to retry; unless the
                // server's certificate is not trusted, which no retry changes.
                let untrusted = untrusted_certificate(&e);
                let nothing_sent = e.is_connect();
                let what = if e.is_timeout() {
                    format!("timed out ({:?} allowed)", self.options.timeout())
                } else if let Some(why) = &untrusted {
                    format!(
                        "the server's TLS certificate is not trusted ({why}); if a private CA \
                         signed it, add that CA with ClientOptions::with_root_certificate"
                    )
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
                    format!("{what} ({host})"),
                    untrusted.is_none() && (nothing_sent || call.idempotent),
                    Some(Box::new(e.without_url())),
                );
                Err((err, reason))
            }
        }
    }

    /// Makes one API call with retries, in `cx` (every failed attempt is recorded in its
    /// retry log): `build(attempt)` signs a fresh request for each attempt (attempt is
    /// 1-based); `decode` classifies the answer.
    pub async fn call<T, B, D>(
        &self,
        cx: &CallContext,
        call: ApiCall<'_>,
        mut build: B,
        mut decode: D,
    ) -> Result<T>
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
            let limiter = self.options.rate_limiter();
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
                    Err((e, reason)) => (Err(e), Some(reason)),
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
                    cx.record_retry(call.provider, call.action, reason, retry);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use crate::transport::{RetryCounts, RetryLog};
    use bytes::Bytes;
    use std::time::Duration;
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

    const CLOUD: Provider = Provider::new("example-cloud");
    const OTHER: Provider = Provider::new("other-cloud");

    /// Status 200 is success; any other answer is an `Api` error whose code is the body,
    /// classified as an adapter of a cloud whose throttling codes start with `Throttling`
    /// would: throttled for those and 429, a server error for 5xx.
    fn decode(resp: HttpResponse) -> Result<()> {
        if resp.status == 200 {
            return Ok(());
        }
        let code = String::from_utf8_lossy(&resp.body).into_owned();
        let retry = if code.starts_with("Throttling") {
            Some(RetryReason::Throttled)
        } else {
            RetryReason::of_status(resp.status)
        };
        Err(Error::from(ApiError {
            provider: CLOUD,
            action: "Act".into(),
            status: resp.status,
            code,
            message: "m".into(),
            request_id: None,
            retry,
            retry_after: None,
        }))
    }

    async fn call_in(
        cx: &CallContext,
        t: &Transport,
        url: &str,
        action: &str,
        idempotent: bool,
    ) -> Result<()> {
        let call = ApiCall {
            provider: CLOUD,
            action,
            region: "xx-north-1",
            idempotent,
        };
        let req = |_| {
            Ok(HttpRequest {
                method: Method::Post,
                url: url.to_owned(),
                headers: Default::default(),
                body: Bytes::new(),
            })
        };
        t.call(cx, call, req, decode).await
    }

    /// Runs one call in a fresh context collecting retries; returns its result and log.
    async fn collect(
        t: &Transport,
        url: &str,
        action: &str,
        idempotent: bool,
    ) -> (Result<()>, RetryLog) {
        let (cx, log) = CallContext::new().collecting_retries();
        let out = call_in(&cx, t, url, action, idempotent).await;
        (out, log.take())
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
        let (cx, collected) = CallContext::new().collecting_retries();
        call_in(&cx, &t, &format!("{}/a", server.uri()), "A", true)
            .await
            .unwrap();
        // A call spawned on another task, given the same context, records into the same log.
        let (t2, b) = (t.clone(), format!("{}/b", server.uri()));
        let cx2 = cx.clone();
        tokio::spawn(async move { call_in(&cx2, &t2, &b, "B", true).await })
            .await
            .unwrap()
            .unwrap();
        let log = collected.take();
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
        assert_eq!(json[0]["provider"], "example-cloud");
        assert_eq!(json[0]["retried"]["throttled"], 2);
        assert_eq!(json[1]["gave_up"]["server_error"], 0);

        // A client error is no retry material: not recorded.
        mount_sequence(&server, "/c", &[(400, "InvalidParameter")]).await;
        let (out, log) = collect(&t, &format!("{}/c", server.uri()), "C", true).await;
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
        let (out, log) = collect(&t, &format!("{}/busy", server.uri()), "A", true).await;
        assert!(out.unwrap_err().is_retryable());
        assert_eq!(log.retried().throttled, 2);
        assert_eq!(log.gave_up().throttled, 1);
        assert_eq!(log.failed_attempts().total(), 3);
        assert_eq!(
            log.to_string(),
            "2 retried (2 throttled), 1 given up (1 throttled)"
        );
    }

    /// #17 bug 3: an endpoint that streams an endless 200 body (chunked, no length) and
    /// one that announces a huge length. The attempt fails once the cap is passed, without
    /// reading on, and is not retried. The streaming server stops at 64 MiB (bounded).
    #[tokio::test]
    async fn an_answer_over_the_size_cap_fails_fast_without_reading_the_rest() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
                    if sock.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
                    for _ in 0..1024 {
                        if sock.write_all(chunk.as_bytes()).await.is_err() {
                            return;
                        }
                        counter.fetch_add(0x10000, Ordering::Relaxed);
                    }
                });
            }
        });
        let options = ClientOptions::default()
            .without_rate_limiter()
            .with_timeout(Duration::from_secs(20))
            .with_max_response_bytes(1024 * 1024);
        let t = Transport::new(options, fast(3)).unwrap();
        let (out, log) = collect(&t, &format!("http://{addr}/"), "Endless", true).await;
        let err = out.unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Transport {
                    retryable: false,
                    ..
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("larger than 1048576 bytes"), "{text}");
        assert_eq!(log.retried().total(), 0, "not retried: {log:?}");
        assert_eq!(log.gave_up().total(), 1, "{log:?}");
        assert!(
            sent.load(Ordering::Relaxed) < 16 * 1024 * 1024,
            "the client stopped reading early: {} bytes sent",
            sent.load(Ordering::Relaxed)
        );

        let server = MockServer::start().await;
        Mock::given(path("/big"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'y'; 2 * 1024 * 1024]))
            .mount(&server)
            .await;
        let (out, _) = collect(&t, &format!("{}/big", server.uri()), "Big", true).await;
        let text = out.unwrap_err().to_string();
        assert!(text.contains("larger than 1048576 bytes"), "{text}");
    }

    /// #18 item 5: the transport error says what failed and where; its cause is its
    /// `source()`, written once by `error::report`, never twice.
    #[tokio::test]
    async fn a_connection_error_names_its_cause_once() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let t = transport(1, Duration::from_secs(5));
        let (out, _) = collect(&t, &format!("http://{addr}/?Signature=s3cr3t"), "X", true).await;
        let err = out.unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.contains(&format!("cannot connect ({addr})")),
            "{shown}"
        );
        let source = std::error::Error::source(&err)
            .expect("the reqwest error")
            .to_string();
        assert!(!shown.contains(&source), "{shown} repeats {source}");
        let full = crate::error::report(&err);
        assert_eq!(full.matches(&source).count(), 1, "{full}");
        // As anyhow's `{:#}` prints it, nothing skipped: still each cause once.
        assert_eq!(crate::error::assert_each_cause_once(&err), full);
        assert!(!full.contains("s3cr3t"), "{full}");
    }

    #[tokio::test]
    async fn connection_errors_and_timeouts_are_recorded() {
        // A port nothing listens on: connect refused on every attempt.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", closed.local_addr().unwrap());
        drop(closed);
        let t = transport(2, Duration::from_secs(5));
        let (out, log) = collect(&t, &url, "A", false).await;
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
        let (out, log) = collect(&t, &url, "Read", true).await;
        assert!(out.is_err());
        assert_eq!(
            (log.retried().timeout, log.gave_up().timeout),
            (1, 1),
            "{log:?}"
        );
        // A write that may have landed is not repeated: one attempt, given up.
        let (out, log) = collect(&t, &url, "Write", false).await;
        assert!(out.is_err());
        assert_eq!(
            (log.retried().timeout, log.gave_up().timeout),
            (0, 1),
            "{log:?}"
        );
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
        let err = call_in(&CallContext::new(), &t, &url, "Read", true)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("timed out"), "{err}");
        assert!(err.contains(&host_of(&server.uri())), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
        // The transport's own guard alone: an HTTP client without a timer of its own.
        let t = Transport {
            client: reqwest::Client::new(),
            ..transport(1, Duration::from_millis(50))
        };
        let call = ApiCall {
            provider: OTHER,
            action: "DescribeImages",
            region: "xx-north-1",
            idempotent: true,
        };
        let req = HttpRequest {
            method: Method::Get,
            url,
            headers: Default::default(),
            body: Bytes::new(),
        };
        let err = t.send(&call, req).await.unwrap_err().to_string();
        let want = format!(
            "other-cloud DescribeImages: transport error: timed out: no complete answer \
             within 50ms from {}",
            host_of(&server.uri())
        );
        assert_eq!(err, want);
    }

    #[tokio::test]
    async fn nothing_is_recorded_outside_a_collecting_context_and_contexts_nest() {
        let server = MockServer::start().await;
        mount_sequence(&server, "/a", &[(503, "ServiceUnavailable")]).await;
        mount_sequence(&server, "/b", &[(429, "Throttling")]).await;
        let t = transport(5, Duration::from_secs(5));
        let a = format!("{}/a", server.uri());
        let b = format!("{}/b", server.uri());
        // No collector: the call works and nothing is kept anywhere.
        call_in(&CallContext::new(), &t, &a, "A", true)
            .await
            .unwrap();
        let (outer_cx, outer) = CallContext::new().collecting_retries();
        let (inner_cx, inner) = outer_cx.collecting_retries();
        call_in(&inner_cx, &t, &b, "B", true).await.unwrap();
        outer_cx.record_retry(OTHER, "C", RetryReason::Timeout, true);
        let (inner, outer) = (inner.take(), outer.take());
        assert_eq!(inner.retried().throttled, 1);
        assert_eq!(inner.actions().len(), 1);
        // The outer collector saw the inner one's attempts and its own.
        assert_eq!(outer.retried().throttled, 1);
        assert_eq!(outer.retried().timeout, 1);
        assert_eq!(outer.actions().len(), 2);
        // Merging is by (provider, action), sorted.
        let mut m = outer.clone();
        m.merge(&inner);
        assert_eq!(m.retried().throttled, 2);
        assert_eq!(m.actions()[0].provider, CLOUD);
        assert_eq!(m.actions()[1].provider, OTHER);
    }
}
