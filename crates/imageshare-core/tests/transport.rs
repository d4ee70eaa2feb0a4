//! The shared transport against a local wiremock server: retry on retryable answers,
//! no retry otherwise, a fresh signed request per attempt, timeouts, connection errors.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imageshare_core::transport::{
    ApiCall, ClientOptions, HttpRequest, HttpResponse, RetryConfig, Transport,
};
use imageshare_core::{ApiError, Error, Provider};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CALL: ApiCall<'static> = ApiCall {
    provider: Provider::new("tencent-cvm"),
    action: "DescribeImages",
    region: "ap-guangzhou",
    idempotent: true,
};

fn fast_retry(max_attempts: u32) -> RetryConfig {
    RetryConfig {
        max_attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        multiplier: 2.0,
        max_elapsed: Some(Duration::from_secs(10)),
    }
}

fn transport(retry: RetryConfig, timeout: Duration) -> Transport {
    Transport::new(
        ClientOptions::default()
            .with_timeout(timeout)
            .with_connect_timeout(Duration::from_secs(2)),
        retry,
    )
    .unwrap()
}

/// A decoder that treats non-2xx as an API error, retryable by status.
fn decode(resp: HttpResponse) -> Result<String, Error> {
    if resp.status == 200 {
        Ok(String::from_utf8(resp.body).unwrap())
    } else {
        Err(Error::from(
            ApiError::new(
                Provider::new("tencent-cvm"),
                "DescribeImages",
                resp.status,
                format!("HTTP{}", resp.status),
                "test",
            )
            .with_request_id(resp.header("x-request-id").map(str::to_owned))
            .with_retry(imageshare_core::transport::RetryReason::of_status(
                resp.status,
            )),
        ))
    }
}

fn request(server: &MockServer, attempt: u32) -> HttpRequest {
    HttpRequest {
        method: imageshare_core::transport::Method::Post,
        url: format!("{}/", server.uri()),
        headers: imageshare_core::transport::header_map([("x-attempt", attempt.to_string())])
            .unwrap(),
        body: bytes::Bytes::from_static(b"{}"),
    }
}

#[tokio::test]
async fn retries_5xx_with_a_fresh_request_each_time() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/"))
        .and(header("x-attempt", "3"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .expect(2)
        .mount(&server)
        .await;
    let t = transport(fast_retry(5), Duration::from_secs(5));
    let built = AtomicU32::new(0);
    let out = t
        .call(
            &imageshare_core::CallContext::new(),
            CALL,
            |attempt| {
                built.fetch_add(1, Ordering::SeqCst);
                Ok(request(&server, attempt))
            },
            decode,
        )
        .await
        .unwrap();
    assert_eq!(out, "ok");
    assert_eq!(built.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn does_not_retry_a_client_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).insert_header("x-request-id", "rid-400"))
        .expect(1)
        .mount(&server)
        .await;
    let t = transport(fast_retry(5), Duration::from_secs(5));
    let err = t
        .call(
            &imageshare_core::CallContext::new(),
            CALL,
            |a| Ok(request(&server, a)),
            decode,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("HTTP400"));
    assert_eq!(err.request_id(), Some("rid-400"));
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let t = transport(fast_retry(3), Duration::from_secs(5));
    let err = t
        .call(
            &imageshare_core::CallContext::new(),
            CALL,
            |a| Ok(request(&server, a)),
            decode,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("HTTP503"));
}

#[tokio::test]
async fn honours_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let t = transport(fast_retry(2), Duration::from_secs(5));
    let calls = Arc::new(AtomicU32::new(0));
    let started = Instant::now();
    let c2 = calls.clone();
    let out = t
        .call(
            &imageshare_core::CallContext::new(),
            CALL,
            |a| Ok(request(&server, a)),
            move |resp| {
                if c2.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(Error::from(
                        ApiError::new(Provider::new("alibaba-ecs"), "X", 400, "Throttling", "m")
                            .with_retry(Some(imageshare_core::transport::RetryReason::ServerError))
                            .with_retry_after(Some(Duration::from_millis(15))),
                    ))
                } else {
                    decode(resp)
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(out, "ok");
    assert!(started.elapsed() >= Duration::from_millis(15));
}

#[tokio::test]
async fn a_hung_server_fails_within_the_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let t = transport(RetryConfig::none(), Duration::from_millis(200));
    let started = Instant::now();
    let err = t
        .call(
            &imageshare_core::CallContext::new(),
            CALL,
            |a| Ok(request(&server, a)),
            decode,
        )
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    assert!(err.to_string().contains("DescribeImages"), "{err}");
}

#[tokio::test]
async fn connection_refused_is_retryable_transport_error() {
    // Bind then drop a listener to get a closed local port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t = transport(fast_retry(3), Duration::from_secs(2));
    let attempts = AtomicU32::new(0);
    let err = t
        .call(
            &imageshare_core::CallContext::new(),
            ApiCall {
                idempotent: false,
                ..CALL
            },
            |_| {
                attempts.fetch_add(1, Ordering::SeqCst);
                Ok(HttpRequest {
                    method: imageshare_core::transport::Method::Post,
                    url: format!("http://127.0.0.1:{port}/?Signature=secret-sig"),
                    headers: Default::default(),
                    body: Default::default(),
                })
            },
            decode,
        )
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        3,
        "connect errors retry even when not idempotent"
    );
    let text = format!("{err} {err:?}");
    assert!(!text.contains("secret-sig"), "signature leaked: {text}");
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(100)))
        .mount(&server)
        .await;
    let t = Transport::new(
        ClientOptions::default().with_max_concurrency(Some(2)),
        RetryConfig::none(),
    )
    .unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let t = t.clone();
        let url = format!("{}/", server.uri());
        tasks.push(tokio::spawn(async move {
            t.call(
                &imageshare_core::CallContext::new(),
                CALL,
                |_| {
                    Ok(HttpRequest {
                        method: imageshare_core::transport::Method::Post,
                        url: url.clone(),
                        headers: Default::default(),
                        body: Default::default(),
                    })
                },
                |r| Ok(r.status),
            )
            .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 200);
    }
    // 4 requests of 100 ms through 2 permits take at least two rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
}
