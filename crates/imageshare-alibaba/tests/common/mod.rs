//! Shared helpers of the wiremock tests: adapters pointed at a mock server, and checks of
//! the exact wire request (method, path, query, `x-acs-*` headers, signature verified
//! with the crate's own verifiers).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use imageshare_alibaba::signer::{acs3, rpc_v1};
use imageshare_alibaba::{AlibabaCredentials, EcsImageSharing, SasImageSharing, SignatureVersion};
use imageshare_core::transport::RetryConfig;
use imageshare_core::{ClientBuilder, Secret};
use wiremock::{Request, ResponseTemplate};

pub const KEY_ID: &str = "LTAI5tWireTestKey";
pub const SECRET: &str = "wire-test-secret-0123456789";
pub const REGION: &str = "cn-hangzhou";

pub fn creds() -> AlibabaCredentials {
    AlibabaCredentials::new(KEY_ID, SECRET)
}

pub fn fast_retry(attempts: u32) -> RetryConfig {
    RetryConfig {
        max_attempts: attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(200),
        multiplier: 2.0,
        max_elapsed: Some(Duration::from_secs(10)),
    }
}

pub fn ecs(uri: &str, sig: SignatureVersion, creds: AlibabaCredentials) -> EcsImageSharing {
    EcsImageSharing::builder()
        .region(REGION)
        .endpoint(uri)
        .credentials(creds)
        .signature_version(sig)
        .retry(fast_retry(3))
        .build()
        .expect("valid ECS builder")
}

pub fn sas(uri: &str, sig: SignatureVersion, creds: AlibabaCredentials) -> SasImageSharing {
    SasImageSharing::builder()
        .region(REGION)
        .endpoint(uri)
        .credentials(creds)
        .signature_version(sig)
        .retry(fast_retry(3))
        .build()
        .expect("valid SAS builder")
}

/// A JSON answer.
pub fn json(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/json;charset=utf-8")
        .set_body_string(body.to_string())
}

/// Decoded query parameters, in order.
pub fn query(req: &Request) -> Vec<(String, String)> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Headers with lowercase names.
pub fn headers(req: &Request) -> Vec<(String, String)> {
    req.headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

pub fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A wire check: request, action, version, expected business parameters, secret; returns
/// the nonce.
pub type WireCheck = fn(&Request, &str, &str, &[(&str, &str)], &str) -> String;

/// The check for a signature version.
pub fn check_for(sig: SignatureVersion) -> WireCheck {
    match sig {
        SignatureVersion::Acs3 => check_acs3,
        SignatureVersion::RpcV1 => check_rpc,
    }
}

/// The request is `POST /` with an empty body, ACS3-signed for `action` of `version`
/// with `secret`, and its query is exactly `expected`. Returns the nonce.
pub fn check_acs3(
    req: &Request,
    action: &str,
    version: &str,
    expected: &[(&str, &str)],
    secret: &str,
) -> String {
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), "/");
    assert!(req.body.is_empty(), "RPC actions send an empty body");
    let q = query(req);
    let got: BTreeMap<&str, &str> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let want: BTreeMap<&str, &str> = expected.iter().copied().collect();
    assert_eq!(got, want, "query of {action}");
    assert_eq!(q.len(), expected.len(), "no repeated query keys");
    let h = headers(req);
    assert_eq!(header(&h, "x-acs-action"), Some(action));
    assert_eq!(header(&h, "x-acs-version"), Some(version));
    assert_eq!(
        header(&h, "x-acs-content-sha256"),
        Some(acs3::EMPTY_BODY_SHA256)
    );
    let date = header(&h, "x-acs-date").expect("x-acs-date");
    assert!(
        imageshare_core::time::parse_iso8601(date).is_some() && date.len() == 20,
        "{date}"
    );
    let nonce = header(&h, "x-acs-signature-nonce")
        .expect("nonce")
        .to_owned();
    assert_eq!(nonce.len(), 32);
    assert!(nonce.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(header(&h, "accept"), Some("application/json"));
    let host = header(&h, "host").expect("host");
    // The signed host is the endpoint's authority (the mock server's loopback address).
    assert!(
        host.starts_with("127.0.0.1:") && host[10..].parse::<u16>().is_ok(),
        "{host}"
    );
    let auth = header(&h, "authorization").expect("authorization");
    assert!(
        auth.starts_with(&format!(
            "ACS3-HMAC-SHA256 Credential={KEY_ID},SignedHeaders="
        )),
        "{auth}"
    );
    let path = req.url.path().to_owned();
    let received = acs3::ReceivedRequest {
        method: req.method.as_str(),
        path: &path,
        query: &q,
        headers: &h,
        body: &req.body,
    };
    let parsed = acs3::verify(&received, &Secret::new(secret)).expect("ACS3 signature verifies");
    for signed in [
        "host",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    ] {
        assert!(
            parsed.signed_headers.iter().any(|s| s == signed),
            "{signed} signed"
        );
    }
    nonce
}

/// The request is `POST /` with an empty body, RPC-v1-signed for `action` of `version`
/// with `secret`; its business parameters are exactly `expected`. Returns the nonce.
pub fn check_rpc(
    req: &Request,
    action: &str,
    version: &str,
    expected: &[(&str, &str)],
    secret: &str,
) -> String {
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), "/");
    assert!(req.body.is_empty());
    let q = query(req);
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("Action"), Some(action));
    assert_eq!(get("Version"), Some(version));
    assert_eq!(get("Format"), Some("JSON"));
    assert_eq!(get("AccessKeyId"), Some(KEY_ID));
    assert_eq!(get("SignatureMethod"), Some("HMAC-SHA1"));
    assert_eq!(get("SignatureVersion"), Some("1.0"));
    let ts = get("Timestamp").expect("Timestamp");
    assert!(imageshare_core::time::parse_iso8601(ts).is_some(), "{ts}");
    let common = [
        "Action",
        "Version",
        "Format",
        "AccessKeyId",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "Timestamp",
        "Signature",
        "SecurityToken",
    ];
    let business: BTreeMap<&str, &str> = q
        .iter()
        .filter(|(k, _)| !common.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let want: BTreeMap<&str, &str> = expected.iter().copied().collect();
    assert_eq!(business, want, "business parameters of {action}");
    // No ACS3 headers on an RPC v1 request.
    let h = headers(req);
    assert!(header(&h, "authorization").is_none());
    rpc_v1::verify("POST", &q, &Secret::new(secret)).expect("RPC v1 signature verifies");
    get("SignatureNonce").expect("nonce").to_owned()
}
