//! The client-side rate limiter inside the transport, against a local wiremock server:
//! every attempt (retries included) waits for a permit of its (provider, action) bucket,
//! transports built from clones of one `ClientOptions` share the buckets, other actions
//! and providers are not slowed, and the limiter can be turned off.

use std::sync::Arc;
use std::time::{Duration, Instant};

use imageshare_core::ratelimit::{Rate, RateLimiter, RateLimits};
use imageshare_core::transport::RetryReason;
use imageshare_core::transport::{
    ApiCall, ClientOptions, HttpRequest, HttpResponse, RetryConfig, Transport,
};
use imageshare_core::{ApiError, CallContext, Error, Provider};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn call(provider: Provider, action: &'static str) -> ApiCall<'static> {
    ApiCall {
        provider,
        action,
        region: "ap-guangzhou",
        idempotent: true,
    }
}

fn no_backoff(max_attempts: u32) -> RetryConfig {
    RetryConfig {
        max_attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(1),
        multiplier: 1.0,
        max_elapsed: None,
    }
}

fn decode(resp: HttpResponse) -> Result<(), Error> {
    if resp.status == 200 {
        Ok(())
    } else {
        Err(Error::from(
            ApiError::new(
                Provider::new("tencent-cvm"),
                "X",
                resp.status,
                // 429: the cloud's throttling answer; anything else: a retryable server error.
                if resp.status == 429 {
                    "RequestLimitExceeded"
                } else {
                    "InternalError"
                },
                "test",
            )
            .with_retry(Some(if resp.status == 429 {
                RetryReason::Throttled
            } else {
                RetryReason::ServerError
            })),
        ))
    }
}

async fn ok_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

async fn send(t: &Transport, server: &MockServer, c: ApiCall<'static>) -> Result<(), Error> {
    let url = format!("{}/", server.uri());
    t.call(
        &CallContext::new(),
        c,
        |_| {
            Ok(HttpRequest {
                method: imageshare_core::transport::Method::Post,
                url: url.clone(),
                headers: Default::default(),
                body: Default::default(),
            })
        },
        decode,
    )
    .await
}

fn cvm_table(per_second: f64) -> RateLimits {
    RateLimits::new().with("ModifyImageSharePermission", Rate::per_second(per_second))
}

#[tokio::test]
async fn concurrent_calls_are_spaced_at_the_quota() {
    let server = Arc::new(ok_server().await);
    let t = Transport::new(ClientOptions::default(), no_backoff(1))
        .unwrap()
        .with_rate_limits(Provider::new("tencent-cvm"), cvm_table(50.0), None)
        .unwrap();
    let t = Arc::new(t);
    let started = Instant::now();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (t, server) = (t.clone(), server.clone());
            tokio::spawn(async move {
                send(
                    &t,
                    &server,
                    call(Provider::new("tencent-cvm"), "ModifyImageSharePermission"),
                )
                .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let elapsed = started.elapsed();
    // 16 requests at 50/s, burst 1: at least 15 intervals of 20 ms.
    assert!(elapsed >= Duration::from_millis(295), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 16);

    // Another action of the same provider has no rate in this table: not slowed.
    let started = Instant::now();
    for _ in 0..10 {
        send(
            &t,
            &server,
            call(Provider::new("tencent-cvm"), "DescribeImages"),
        )
        .await
        .unwrap();
    }
    assert!(started.elapsed() < Duration::from_millis(250));
}

/// `failures` answers of `status`, then 200, for one share call paced at `per_second`:
/// the call's wall time and the number of requests the server received.
async fn failures_then_ok(status: u16, failures: u64, per_second: f64) -> (Duration, usize) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status))
        .up_to_n_times(failures)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let t = Transport::new(ClientOptions::default(), no_backoff(5))
        .unwrap()
        .with_rate_limits(Provider::new("tencent-cvm"), cvm_table(per_second), None)
        .unwrap();
    let started = Instant::now();
    send(
        &t,
        &server,
        call(Provider::new("tencent-cvm"), "ModifyImageSharePermission"),
    )
    .await
    .unwrap();
    let elapsed = started.elapsed();
    (elapsed, server.received_requests().await.unwrap().len())
}

#[tokio::test]
async fn every_retry_after_a_server_error_waits_for_its_own_permit() {
    // Four attempts (three answered 5xx, which the server did charge) at 10/s with ~no
    // backoff: three intervals of 100 ms.
    let (elapsed, sent) = failures_then_ok(503, 3, 10.0).await;
    assert!(elapsed >= Duration::from_millis(295), "{elapsed:?}");
    assert_eq!(sent, 4);
}

#[tokio::test]
async fn the_first_retry_after_a_throttling_answer_reuses_its_permit() {
    // The refused request was not charged by the server: its retry goes out after the
    // backoff (1 ms), not after the next permit (1 s at 1/s).
    let (elapsed, sent) = failures_then_ok(429, 1, 1.0).await;
    assert_eq!(sent, 2);
    assert!(elapsed < Duration::from_millis(900), "{elapsed:?}");
    // A second throttling answer on the same call: the quota is exhausted for real, so
    // the next retry waits for a new permit.
    let (elapsed, sent) = failures_then_ok(429, 2, 1.0).await;
    assert_eq!(sent, 3);
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
}

#[tokio::test]
async fn transports_from_one_options_share_the_buckets() {
    let server = ok_server().await;
    let shared = ClientOptions::default();
    // Two adapters (say, two regions) built from clones of the same options.
    let a = Transport::new(shared.clone(), no_backoff(1))
        .unwrap()
        .with_rate_limits(Provider::new("tencent-cvm"), cvm_table(20.0), None)
        .unwrap();
    // The second registration of defaults keeps the first table.
    let b = Transport::new(shared.clone(), no_backoff(1))
        .unwrap()
        .with_rate_limits(Provider::new("tencent-cvm"), cvm_table(1000.0), None)
        .unwrap();
    assert_eq!(
        b.rate_limiter()
            .unwrap()
            .rate(Provider::new("tencent-cvm"), "ModifyImageSharePermission"),
        Some(Rate::per_second(20.0))
    );
    let c = call(Provider::new("tencent-cvm"), "ModifyImageSharePermission");
    let started = Instant::now();
    let (ra, rb) = tokio::join!(
        async {
            for _ in 0..4 {
                send(&a, &server, c).await?;
            }
            Ok::<_, Error>(())
        },
        async {
            for _ in 0..4 {
                send(&b, &server, c).await?;
            }
            Ok::<_, Error>(())
        }
    );
    ra.unwrap();
    rb.unwrap();
    // 8 requests through one 20/s bucket: 7 intervals of 50 ms.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(345), "{elapsed:?}");

    // Separate options: separate limiters, no shared pace.
    let own = Transport::new(ClientOptions::default(), no_backoff(1))
        .unwrap()
        .with_rate_limits(Provider::new("tencent-cvm"), cvm_table(1000.0), None)
        .unwrap();
    let started = Instant::now();
    for _ in 0..8 {
        send(&own, &server, c).await.unwrap();
    }
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn overrides_replace_the_table_and_the_limiter_can_be_off() {
    let server = ok_server().await;
    let limiter = RateLimiter::new();
    let opts = ClientOptions::default().with_rate_limiter(limiter.clone());
    let _t = Transport::new(opts.clone(), no_backoff(1))
        .unwrap()
        .with_rate_limits(Provider::new("alibaba-ecs"), cvm_table(10.0), None)
        .unwrap();
    // An explicit table (a builder's `rate_limits`) replaces it for every sharer.
    let _u = Transport::new(opts, no_backoff(1))
        .unwrap()
        .with_rate_limits(
            Provider::new("alibaba-ecs"),
            cvm_table(10.0),
            Some(cvm_table(100.0)),
        )
        .unwrap();
    assert_eq!(
        limiter.rate(Provider::new("alibaba-ecs"), "ModifyImageSharePermission"),
        Some(Rate::per_second(100.0))
    );
    // Invalid rates are refused when the adapter is built.
    let bad = Transport::new(ClientOptions::default(), no_backoff(1))
        .unwrap()
        .with_rate_limits(Provider::new("alibaba-ecs"), cvm_table(0.0), None);
    assert!(matches!(bad, Err(Error::InvalidInput { .. })));

    let off = Transport::new(
        ClientOptions::default().without_rate_limiter(),
        no_backoff(1),
    )
    .unwrap()
    .with_rate_limits(Provider::new("tencent-cvm"), cvm_table(1.0), None)
    .unwrap();
    assert!(off.rate_limiter().is_none());
    let started = Instant::now();
    for _ in 0..5 {
        send(
            &off,
            &server,
            call(Provider::new("tencent-cvm"), "ModifyImageSharePermission"),
        )
        .await
        .unwrap();
    }
    assert!(started.elapsed() < Duration::from_millis(500));
}
