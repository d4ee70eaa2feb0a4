//! The UCloud API client: signed form POSTs to the API base URL over the shared
//! [`Transport`] (retry, backoff, timeouts, tracing span), and the `RetCode` envelope.
//!
//! # Wire format (ucloud.md §3)
//!
//! * `POST <base URL>` (`https://api.ucloud.cn` by default; `https://api.ucloud-global.com`
//!   for UCloud Global), `Content-Type: application/x-www-form-urlencoded`, as both official
//!   SDKs send it;
//! * the body holds the action's parameters plus the common ones: `Action`, `Region`,
//!   `Zone` (when configured), `ProjectId` (when configured; required for sub-accounts),
//!   `PublicKey` (and `SecurityToken` for STS keys) and `Signature` (the SHA1 parameter
//!   signature, [`crate::signer`]); arrays travel flattened as `Name.0`, `Name.1`, ...;
//! * the answer is JSON with HTTP 200 whatever happened: `RetCode` 0 is success, any
//!   other `RetCode` is an error with a `Message`. `RetCode` may arrive as a number or a
//!   string. The request id is the `X-UCLOUD-REQUEST-UUID` response header; it is recorded
//!   on the API-call span and carried by every error.
//!
//! # Errors and retries
//!
//! | answer | error | retried |
//! |---|---|---|
//! | RetCode 174 to a request that carried a `SecurityToken` | [`Error::CredentialsExpired`] | the credentials cache fetches new temporary credentials and makes the call once more |
//! | RetCode 170, 171, 172, 174 | [`Error::Auth`] with the RetCode as `code` | no |
//! | RetCode 153 (throttled) | [`Error::Api`] | as throttling, idempotent actions only |
//! | RetCode 150 (unavailable) | [`Error::Api`] | as a server error, idempotent actions only |
//! | any other RetCode | [`Error::Api`], `code` = the RetCode | no |
//! | HTTP 429 | [`Error::Api`], `code` = `HTTP429` | as throttling, idempotent actions only |
//! | HTTP 502, 503, 504 | [`Error::Api`], `code` = `HTTP<status>` | as a server error, idempotent actions only |
//! | other non-2xx HTTP status | [`Error::Api`], `code` = `HTTP<status>` | no |
//! | empty or non-JSON body, no `RetCode` | [`Error::Decode`] | no |
//!
//! The verdict is this client's ([`ApiError::retry`], see [`retcode::retry_reason`] and
//! [`retcode::status_retry_reason`]): the transport retries what it marks and records the
//! reason in the call's retry log. Actions that create something (`CopyCustomImage`, and
//! the save-shared-image action) are sent with [`Idempotency::NonIdempotent`]: their
//! answers are never marked, so they are never retried, except when the connection could
//! not even be opened (nothing was sent), as ucloud.md §6 advises.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use imageshare_core::credentials::{fixed, CredentialsCache};
use imageshare_core::time::Clock;
use imageshare_core::transport::{
    record_request_id, ApiCall, Endpoint, HttpRequest, HttpResponse, Method, RetryReason, Transport,
};
use imageshare_core::transport::{HeaderMap, HeaderName, HeaderValue};
use imageshare_core::{ApiError, CallContext, Error, Region, Result};

use crate::credential::UCloudCredentials;
use crate::limits::UHOST_LIMITS;
use crate::retcode;
use crate::signer::{self, Param};
use crate::UHOST;

/// The response header that carries UCloud's request id.
pub const REQUEST_ID_HEADER: &str = "x-ucloud-request-uuid";
/// The form content type both official SDKs send.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// The UCloud Global API base URL.
pub const GLOBAL_BASE_URL: &str = "https://api.ucloud-global.com";

/// Whether sending an action twice is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, deletes, share and cancel-share: retried on throttling and gateway errors.
    Idempotent,
    /// Actions that create something (copy, save): never retried once sent.
    NonIdempotent,
}

impl Idempotency {
    fn is_idempotent(self) -> bool {
        self == Idempotency::Idempotent
    }
}

/// A successful answer: the JSON body and the request id.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<T> {
    /// The decoded body.
    pub body: T,
    /// `X-UCLOUD-REQUEST-UUID`, when the server sent it.
    pub request_id: Option<String>,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
}

/// A UCloud API client bound to one credentials provider, region, zone and project.
///
/// `Debug` never prints the private key or token.
#[derive(Debug, Clone)]
pub struct UCloudClient {
    transport: Transport,
    base_url: String,
    credentials: Arc<CredentialsCache<UCloudCredentials>>,
    region: Region,
    zone: Option<String>,
    project_id: Option<String>,
}

impl UCloudClient {
    /// A client signing with the fixed key pair `credentials`, posting to `endpoint`
    /// (requests go to its whole URL, `/` when it has no path) over `transport`. `region`
    /// must be a well-formed region id
    /// ([`ShareLimits::check_region`](imageshare_core::ShareLimits::check_region): letters,
    /// digits and `-`), else [`Error::InvalidInput`]. The builder makes the transport with
    /// UCloud's rate table ([`ClientConfig::transport`](imageshare_core::ClientConfig::transport)).
    pub fn new(
        endpoint: &Endpoint,
        credentials: UCloudCredentials,
        region: Region,
        zone: Option<String>,
        project_id: Option<String>,
        transport: Transport,
    ) -> Result<Self> {
        let cache = CredentialsCache::new(
            UHOST,
            fixed(credentials, "explicit credentials"),
            Clock::system(),
        );
        Self::with_credentials(
            endpoint,
            Arc::new(cache),
            region,
            zone,
            project_id,
            transport,
        )
    }

    /// [`new`](Self::new) over a credentials cache (what the builder makes from the
    /// chain's provider): temporary credentials are fetched when first needed, refreshed
    /// before they expire, and refreshed once more when UCloud says they expired.
    pub fn with_credentials(
        endpoint: &Endpoint,
        credentials: Arc<CredentialsCache<UCloudCredentials>>,
        region: Region,
        zone: Option<String>,
        project_id: Option<String>,
        transport: Transport,
    ) -> Result<Self> {
        UHOST_LIMITS.check_region(&region, "region")?;
        Ok(Self {
            transport,
            base_url: endpoint.url(),
            credentials,
            region,
            zone: zone.filter(|z| !z.is_empty()),
            project_id: project_id.filter(|p| !p.is_empty()),
        })
    }

    /// The base URL requests are posted to (normalised, with a trailing `/`).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// The region sent as `Region`.
    #[must_use]
    pub fn region(&self) -> &Region {
        &self.region
    }
    /// The zone sent as `Zone`, if configured.
    #[must_use]
    pub fn zone(&self) -> Option<&str> {
        self.zone.as_deref()
    }
    /// The project sent as `ProjectId`, if configured (else UCloud uses the account's
    /// default project).
    #[must_use]
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }
    /// The public key of fixed credentials (never the private key); `None` when the
    /// credentials are fetched (STS, instance role).
    #[must_use]
    pub fn public_key(&self) -> Option<&str> {
        self.credentials.fixed().map(|c| c.public_key.as_str())
    }
    /// The credentials this client signs with (cached; refreshed before they expire).
    #[must_use]
    pub fn credentials(&self) -> &CredentialsCache<UCloudCredentials> {
        &self.credentials
    }
    /// The transport (options and retry policy in force).
    #[must_use]
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The parameters of `action` as sent, before signing: `Action`, then the common
    /// `Region`, `Zone` and `ProjectId` unless `params` sets them, then `params`. Parameters
    /// with an empty value are dropped (as the Go SDK does).
    #[must_use]
    pub fn request_params(&self, action: &str, params: Vec<Param>) -> Vec<Param> {
        let has = |name: &str| params.iter().any(|(k, _)| k == name);
        let mut out: Vec<Param> = vec![("Action".to_owned(), action.to_owned())];
        if !has("Region") {
            out.push(("Region".to_owned(), self.region.to_string()));
        }
        if let (Some(zone), false) = (&self.zone, has("Zone")) {
            out.push(("Zone".to_owned(), zone.clone()));
        }
        if let (Some(project), false) = (&self.project_id, has("ProjectId")) {
            out.push(("ProjectId".to_owned(), project.clone()));
        }
        out.extend(
            params
                .into_iter()
                .filter(|(k, v)| k != "Action" && !v.is_empty()),
        );
        out
    }

    /// The signed HTTP request for `action` with `credentials` (what
    /// [`UCloudClient::call`] sends; see [`credentials`](Self::credentials)). A
    /// `SecurityToken` of temporary credentials is sent and signed with the rest.
    #[must_use]
    pub fn signed_request(
        &self,
        credentials: &UCloudCredentials,
        action: &str,
        params: Vec<Param>,
    ) -> HttpRequest {
        let signed = signer::sign_request(self.request_params(action, params), credentials);
        HttpRequest {
            method: Method::Post,
            url: self.base_url.clone(),
            headers: HeaderMap::from_iter([(
                HeaderName::from_static("content-type"),
                HeaderValue::from_static(FORM_CONTENT_TYPE),
            )]),
            body: Bytes::from(signer::form_encode(&signed)),
        }
    }

    /// Calls `action` in `cx` and returns the success body (`RetCode` 0) as JSON, without
    /// its `RetCode` and `Message`; see [`call`](Self::call).
    pub async fn call_value(
        &self,
        cx: &CallContext,
        action: &str,
        params: Vec<Param>,
        idempotency: Idempotency,
    ) -> Result<Answer<Value>> {
        self.call(cx, action, params, idempotency).await
    }

    /// Calls `action` in `cx` (its failed attempts go to the context's retry log) and
    /// decodes the success body (`RetCode` 0) into `T`, in one pass over the bytes. Every
    /// other answer is an error, classified as the [module docs](self) say. Signed with the
    /// current credentials; when UCloud says temporary credentials expired, they are
    /// fetched again and the call is made once more.
    pub async fn call<T: DeserializeOwned + Send>(
        &self,
        cx: &CallContext,
        action: &str,
        params: Vec<Param>,
        idempotency: Idempotency,
    ) -> Result<Answer<T>> {
        let attempts = AtomicU32::new(0);
        let call = ApiCall {
            provider: UHOST,
            action,
            region: self.region.as_str(),
            idempotent: idempotency.is_idempotent(),
        };
        let (body, request_id) = self
            .credentials
            .call(|credentials| {
                let request = self.signed_request(&credentials.credentials, action, params.clone());
                let temporary = credentials.credentials.is_temporary();
                let attempts = &attempts;
                async move {
                    self.transport
                        .call(
                            cx,
                            call,
                            |attempt| {
                                attempts.store(attempt, Ordering::Relaxed);
                                // UCloud's signature has no timestamp or nonce: every
                                // attempt sends the same signed request, built once
                                // (cloning it shares the body bytes).
                                Ok(request.clone())
                            },
                            |response| decode_answer::<T>(action, response, idempotency, temporary),
                        )
                        .await
                }
            })
            .await?;
        Ok(Answer {
            body,
            request_id,
            attempts: attempts.load(Ordering::Relaxed),
        })
    }
}

/// Classifies one HTTP answer of `action` sent with long-term keys (see the
/// [module docs](self)): [`decode_answer`] with `temporary` false.
pub fn decode_response(
    action: &str,
    response: HttpResponse,
    idempotency: Idempotency,
) -> Result<(Value, Option<String>)> {
    decode_answer::<Value>(action, response, idempotency, false)
}

/// Classifies one HTTP answer of `action` (see the [module docs](self)); `temporary`: the
/// request carried a `SecurityToken`. On success returns the body decoded into `T` (one
/// pass over the bytes: `RetCode` and `Message` are picked out as they go by, see
/// [`answer`](crate::answer)) and the request id. Records the request id on the current
/// span.
pub fn decode_answer<T: DeserializeOwned>(
    action: &str,
    response: HttpResponse,
    idempotency: Idempotency,
    temporary: bool,
) -> Result<(T, Option<String>)> {
    let request_id = response
        .header(REQUEST_ID_HEADER)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if let Some(id) = &request_id {
        record_request_id(id);
    }
    // Only idempotent actions are retry material: a copy is never sent twice.
    let retry = |reason: Option<RetryReason>| reason.filter(|_| idempotency.is_idempotent());
    if !(200..300).contains(&response.status) {
        let text = String::from_utf8_lossy(&response.body);
        let message: String = text.trim().chars().take(200).collect();
        return Err(ApiError::new(
            UHOST,
            action,
            response.status,
            format!("HTTP{}", response.status),
            if message.is_empty() {
                format!("HTTP status {}", response.status)
            } else {
                message
            },
        )
        .with_request_id(request_id)
        .with_retry(retry(retcode::status_retry_reason(response.status)))
        .into());
    }
    let decode_error = |message: String| Error::decode(UHOST, action, message, request_id.clone());
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return Err(decode_error("empty response body".to_owned()));
    }
    let answer = crate::answer::parse::<T>(&response.body).map_err(decode_error)?;
    let code = answer
        .ret_code
        .ok_or_else(|| decode_error("the response has no numeric RetCode".to_owned()))?;
    if code == retcode::OK {
        let body = answer
            .model
            .map_err(|e| decode_error(format!("unexpected {action} response shape: {e}")))?;
        return Ok((body, request_id));
    }
    let message = answer.message.unwrap_or_default();
    if temporary && code == retcode::TOKEN_NOT_EXISTS {
        return Err(Error::credentials_expired(
            UHOST,
            code.to_string(),
            message,
            request_id,
        ));
    }
    if retcode::is_auth(code) {
        return Err(Error::auth(UHOST, code.to_string(), message, request_id));
    }
    Err(
        ApiError::new(UHOST, action, response.status, code.to_string(), message)
            .with_request_id(request_id)
            .with_retry(retry(retcode::retry_reason(code)))
            .into(),
    )
}

/// The `RetCode` of an [`Error::Api`] or [`Error::Auth`] from UCloud, as a number.
#[must_use]
pub fn error_ret_code(error: &Error) -> Option<i64> {
    match error {
        Error::Api(e) if e.provider == UHOST => e.code.parse().ok(),
        Error::Auth { provider, code, .. } if *provider == UHOST => code.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageshare_core::transport::{ClientOptions, RetryConfig};

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![(REQUEST_ID_HEADER.into(), "req-1".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn classifies_answers() {
        let ok = decode_response(
            "A",
            resp(200, r#"{"RetCode":"0","X":1}"#),
            Idempotency::Idempotent,
        )
        .unwrap();
        assert_eq!(ok.0["X"], 1);
        assert_eq!(ok.1.as_deref(), Some("req-1"));

        let e = decode_response(
            "A",
            resp(200, r#"{"RetCode":171,"Message":"m"}"#),
            Idempotency::Idempotent,
        )
        .unwrap_err();
        assert!(matches!(&e, Error::Auth { code, .. } if code == "171"));

        let e = decode_response(
            "A",
            resp(200, r#"{"RetCode":"153","Message":"t"}"#),
            Idempotency::Idempotent,
        )
        .unwrap_err();
        assert!(e.is_retryable());
        assert_eq!(RetryReason::of_answer(&e), Some(RetryReason::Throttled));
        assert_eq!(e.code(), Some("153"));
        assert_eq!(e.request_id(), Some("req-1"));
        let e = decode_response(
            "A",
            resp(200, r#"{"RetCode":153}"#),
            Idempotency::NonIdempotent,
        )
        .unwrap_err();
        assert!(!e.is_retryable());

        let e = decode_response(
            "A",
            resp(200, r#"{"RetCode":150}"#),
            Idempotency::Idempotent,
        )
        .unwrap_err();
        assert_eq!(RetryReason::of_answer(&e), Some(RetryReason::ServerError));
        let e = decode_response("A", resp(429, ""), Idempotency::Idempotent).unwrap_err();
        assert_eq!(RetryReason::of_answer(&e), Some(RetryReason::Throttled));
        let e = decode_response("A", resp(429, ""), Idempotency::NonIdempotent).unwrap_err();
        assert!(!e.is_retryable());

        let e = decode_response("A", resp(503, "busy"), Idempotency::Idempotent).unwrap_err();
        assert_eq!((e.code(), e.is_retryable()), (Some("HTTP503"), true));
        assert_eq!(RetryReason::of_answer(&e), Some(RetryReason::ServerError));
        let e = decode_response("A", resp(500, ""), Idempotency::Idempotent).unwrap_err();
        assert_eq!((e.code(), e.is_retryable()), (Some("HTTP500"), false));

        for body in ["", "  ", "<html>", "[1]", r#"{"Message":"no code"}"#] {
            let e = decode_response("A", resp(200, body), Idempotency::Idempotent).unwrap_err();
            assert!(matches!(e, Error::Decode { .. }), "{body:?}: {e}");
        }
    }

    #[test]
    fn common_params_are_added_unless_given() {
        let transport = Transport::new(ClientOptions::default(), RetryConfig::none()).unwrap();
        let c = UCloudClient::new(
            &Endpoint::parse("http://127.0.0.1:1").unwrap(),
            UCloudCredentials::new("pub", "priv-SECRET-1"),
            "cn-bj2".into(),
            Some("cn-bj2-02".into()),
            Some("org-a".into()),
            transport,
        )
        .unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:1/");
        let p = c.request_params(
            "DescribeImage",
            vec![
                ("ProjectId".into(), "org-b".into()),
                ("Empty".into(), String::new()),
            ],
        );
        assert_eq!(
            p,
            vec![
                ("Action".to_owned(), "DescribeImage".to_owned()),
                ("Region".into(), "cn-bj2".into()),
                ("Zone".into(), "cn-bj2-02".into()),
                ("ProjectId".into(), "org-b".into()),
            ]
        );
        assert!(!format!("{c:?}").contains("SECRET"));
    }
}
