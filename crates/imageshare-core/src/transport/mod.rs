//! The HTTP transport every adapter uses, written once: reqwest with rustls, connect and
//! per-attempt timeouts, a concurrency bound, retry with jittered exponential backoff on
//! retryable outcomes, and a `tracing` span per API call.
//!
//! Adapters supply two closures: `build(attempt)` produces a freshly signed request for
//! each attempt (new nonce and timestamp), and `decode(response)` turns the answer into a
//! value or a classified [`Error`](crate::Error). The adapter decides, when it decodes an
//! answer, whether it is retry material and why ([`ApiError::retry`](crate::ApiError)):
//! the transport only reads that verdict, so it knows no cloud's error codes.
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
//! adapter registers its cloud's published quotas with [`Transport::with_rate_limits`].
//!
//! # Retry accounting
//!
//! Every failed attempt that the cloud or the network caused (throttled, 5xx or a "busy"
//! code, a connection error, a timeout) is recorded, with its [`RetryReason`], provider
//! and action, into the retry log of the [`CallContext`](crate::CallContext) the call was
//! made in, whether the transport retried it or handed the error up. A caller collects one
//! with [`CallContext::collecting_retries`](crate::CallContext::collecting_retries) (the
//! bulk engine does so around each image step) and passes the context down explicitly, so
//! a call spawned on another task records into the same log. Errors the caller made (a
//! 4xx, an unknown image) are not retry material and are not recorded.
//!
//! # Proxies
//!
//! By default the proxy comes from the environment, with reqwest's (and, but for one
//! point, curl's) rules, read through the builder's [`Env`](crate::credentials::Env) so
//! tests need not touch the process environment:
//!
//! | variable | for |
//! |---|---|
//! | `HTTPS_PROXY`, else `https_proxy` | `https://` endpoints |
//! | `HTTP_PROXY`, else `http_proxy` | `http://` endpoints (curl reads only the lowercase one) |
//! | `ALL_PROXY`, else `all_proxy` | either, when the one above is unset |
//! | `NO_PROXY`, else `no_proxy` | hosts that go direct: names (with subdomains), IPs, CIDR blocks, `*` |
//!
//! Inside a CGI program (`REQUEST_METHOD` set) none is read. An explicit
//! [`ClientOptions::with_proxy_url`] replaces the variables (and
//! [`ClientOptions::without_proxy`] ignores them); extra CA certificates are
//! [`ClientOptions::with_root_certificate`]. A proxy URL's credentials are never printed.
//!
//! | file | what |
//! |---|---|
//! | `options.rs` | [`ClientOptions`]: timeouts, user agent, concurrency bound, rate limiter, proxy, root certificates, an injected client |
//! | `proxy.rs` | the proxy: from the environment (through [`Env`](crate::credentials::Env)) or explicit |
//! | `tls.rs` | [`RootCertificate`]: extra CA certificates, checked at build |
//! | `retry.rs` | [`RetryConfig`], [`RetryReason`], [`RetryCounts`], [`RetryLog`] |
//! | `http.rs` | [`HttpRequest`], [`HttpResponse`], redaction of secrets in URLs |
//! | `endpoint.rs` | [`Endpoint`]: the one endpoint parser every adapter uses |
//! | `client.rs` | [`Transport`] and [`ApiCall`]: one API call with retries |

mod client;
mod endpoint;
mod http;
mod options;
pub mod pick;
mod proxy;
mod retry;
mod tls;

pub use crate::ratelimit::{Rate, RateLimiter, RateLimits};
pub use client::{record_request_id, ApiCall, Transport};
pub use endpoint::Endpoint;
pub use http::{
    header_map, redact_query, HeaderMap, HeaderName, HeaderValue, HttpRequest, HttpResponse, Method,
};
pub use options::{ClientOptions, DEFAULT_MAX_RESPONSE_BYTES};
pub use proxy::redact_userinfo;
pub use retry::{
    ActionRetries, RetryConfig, RetryConfigBuilder, RetryCounts, RetryLog, RetryReason,
};
pub use tls::RootCertificate;
