//! Fixtures of the wiremock tests (`wire.rs`, `wire_distribute.rs`): the TC3 example
//! credentials and clock of tencent.md's signature vector, the adapters pointed at a mock
//! server, and the check of one recorded request.
#![allow(dead_code)] // each test file uses its part

use std::time::Duration;

use imageshare_core::transport::RetryConfig;
use imageshare_core::{ClientBuilder, Secret};
use imageshare_tencent::{
    Clock, ReceivedRequest, Tc3Verifier, TencentCredentials, TencentCvmImageSharing,
    TencentLighthouseImageSharing,
};
use wiremock::{MockServer, Request};

pub const SECRET_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
pub const SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
pub const TS: u64 = 1_551_113_065;

/// Three attempts, 5-10 ms apart.
pub fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(10),
        multiplier: 2.0,
        max_elapsed: None,
    }
}

/// A CVM adapter in `region` sending to `server`, signing at [`TS`].
pub fn cvm_at(server: &MockServer, region: &str) -> TencentCvmImageSharing {
    TencentCvmImageSharing::builder()
        .endpoint(server.uri())
        .credentials(TencentCredentials::new(SECRET_ID, SECRET_KEY))
        .region(region)
        .clock(Clock::fixed(TS))
        .retry(fast_retry())
        .build()
        .unwrap()
}

/// A Lighthouse adapter in `region` sending to `server`, signing at [`TS`].
pub fn lighthouse_at(server: &MockServer, region: &str) -> TencentLighthouseImageSharing {
    TencentLighthouseImageSharing::builder()
        .endpoint(server.uri())
        .credentials(TencentCredentials::new(SECRET_ID, SECRET_KEY))
        .region(region)
        .clock(Clock::fixed(TS))
        .retry(fast_retry())
        .build()
        .unwrap()
}

/// The value of header `name` of `req`.
pub fn h<'a>(req: &'a Request, name: &str) -> &'a str {
    req.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// Checks one recorded request sent in `region`: method, path, common headers, the exact
/// body, and a TC3 signature that verifies for `service` with [`SECRET_KEY`].
pub fn assert_wire_at(
    req: &Request,
    region: &str,
    service: &str,
    version: &str,
    action: &str,
    body: &str,
) {
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), "/");
    assert_eq!(req.url.query(), None);
    assert_eq!(h(req, "content-type"), "application/json");
    assert_eq!(h(req, "x-tc-action"), action);
    assert_eq!(h(req, "x-tc-version"), version);
    assert_eq!(h(req, "x-tc-region"), region);
    assert_eq!(h(req, "x-tc-timestamp"), TS.to_string());
    assert!(req.headers.get("x-tc-token").is_none());
    assert_eq!(
        std::str::from_utf8(&req.body).unwrap(),
        body,
        "{action} body"
    );
    let auth = h(req, "authorization");
    assert!(
        auth.starts_with(&format!(
            "TC3-HMAC-SHA256 Credential={SECRET_ID}/2019-02-25/{service}/tc3_request, SignedHeaders=content-type;host, Signature="
        )),
        "{auth}"
    );
    let received = ReceivedRequest::new("POST", "/", "", &req.body).headers(
        req.headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned())),
    );
    let verified = Tc3Verifier::new()
        .expected_service(service)
        .now(TS)
        .verify(&received, &Secret::new(SECRET_KEY))
        .unwrap_or_else(|e| panic!("{action}: signature does not verify: {e}"));
    assert_eq!(verified.secret_id, SECRET_ID);
}
