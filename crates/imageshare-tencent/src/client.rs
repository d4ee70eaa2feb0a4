//! The TC3 HTTP client shared by the CVM and Lighthouse adapters, over
//! [`imageshare_core::transport`]: every attempt is signed afresh (new `X-TC-Timestamp`),
//! POSTed as JSON with the `X-TC-*` common headers (action, version, region, timestamp,
//! token, language), and its `{"Response": ...}` envelope decoded and classified:
//!
//! - `Response.Error` codes are kept verbatim. [`TOKEN_EXPIRED_CODE`] becomes
//!   [`Error::CredentialsExpired`] (the credentials cache then refreshes temporary
//!   credentials once and retries); any other `AuthFailure.*` becomes [`Error::Auth`]; the
//!   image/blueprint-not-found codes ([`NOT_FOUND_CODES`]) become [`Error::NotFound`] when the
//!   call is about one image; everything else is [`Error::Api`], whose
//!   [`retry`](ApiError::retry) this adapter decides ([`retry_reason`]): throttled for the
//!   `RequestLimitExceeded*` codes, a server error for the "busy" codes, `ServiceUnavailable`
//!   and HTTP 5xx, not retried otherwise.
//! - HTTP 5xx without a Tencent envelope is a retryable [`Error::Api`] with code `HTTP.<status>`.
//! - The `RequestId` is recorded on the transport's `api_call` tracing span and carried in
//!   every error. Secrets never reach a log line or an error: the signature header is not
//!   printed by [`HttpRequest`]'s `Debug`, and [`TencentCredentials`] masks its key.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use imageshare_core::credentials::{CredentialsCache, SharedProvider};
use imageshare_core::ratelimit::RateLimits;
use imageshare_core::transport::{
    header_map, record_request_id, ApiCall, Endpoint, HttpRequest, HttpResponse,
    Method as HttpMethod, RetryReason, Transport,
};
use imageshare_core::{
    ApiError, CallContext, ClientConfig, Error, Provider, Region, Result, ShareLimits, Site,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::credential::sts::AssumeRoleProvider;
use crate::credential::{self, Services, TencentCredentials};
use crate::envelope;
use crate::model::Empty;
use crate::signer::{sign, Tc3Request};

/// Throttling codes (tencent.md §3.2, §6): always worth another attempt after a backoff.
pub const THROTTLING_CODES: &[&str] = &[
    "RequestLimitExceeded",
    "RequestLimitExceeded.IPLimitExceeded",
    "RequestLimitExceeded.UinLimitExceeded",
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
];

/// "Busy" codes (tencent.md §6): the image or blueprint is held by another operation;
/// retry after a delay.
pub const BUSY_CODES: &[&str] = &[
    "InvalidParameterValue.InvalidImageState",
    "FailedOperation.InvalidImageState",
    "MutexOperation.TaskRunning",
    "OperationDenied.BlueprintOperationInProgress",
    "UnsupportedOperation.BlueprintLatestOperationUnfinished",
    "ResourceInUse.BlueprintModifyingSharePermission",
];

/// The code Tencent Cloud answers when a session token is no longer valid ("token 错误",
/// the common error codes of the API 3.0 docs, <https://cloud.tencent.com/document/api/213/15694>):
/// an expired STS token among them. Classified as [`Error::CredentialsExpired`].
pub const TOKEN_EXPIRED_CODE: &str = "AuthFailure.TokenFailure";

/// Codes that say the image or blueprint the call is about does not exist (CVM
/// `InvalidImageId.NotFound`, Lighthouse `ResourceNotFound.*`); mapped to
/// [`Error::NotFound`] for calls about one image.
///
/// `ResourceNotFound.PrivateBlueprintNotFound` ("custom blueprint not found") is left out on
/// purpose: Lighthouse also answers it for a blueprint the caller can see but does not own
/// (a received one), so it stays a verbatim [`Error::Api`].
pub const NOT_FOUND_CODES: &[&str] = &[
    "InvalidImageId.NotFound",
    "ResourceNotFound.BlueprintIdNotFound",
    "ResourceNotFound.BlueprintNotFound",
    "ResourceNotFound.ImageIdNotFound",
];

/// Why a Tencent error code is worth retrying, if it is: every `RequestLimitExceeded` code
/// (also sub-codes Tencent may add) is [`RetryReason::Throttled`]; the busy codes of
/// [`BUSY_CODES`] and `ServiceUnavailable` are [`RetryReason::ServerError`].
#[must_use]
pub fn code_retry_reason(code: &str) -> Option<RetryReason> {
    if code == "RequestLimitExceeded" || code.starts_with("RequestLimitExceeded.") {
        Some(RetryReason::Throttled)
    } else if code == "ServiceUnavailable" || BUSY_CODES.contains(&code) {
        Some(RetryReason::ServerError)
    } else {
        None
    }
}

/// Why an error answer is worth retrying: its code's reason ([`code_retry_reason`]), else
/// its HTTP status's ([`RetryReason::of_status`]: 429 throttled, 5xx server error).
#[must_use]
pub fn retry_reason(code: &str, status: u16) -> Option<RetryReason> {
    code_retry_reason(code).or_else(|| RetryReason::of_status(status))
}

/// The `X-TC-Language` header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// `zh-CN` (what the Go SDK sends by default).
    ZhCn,
    /// `en-US`.
    EnUs,
}

impl Language {
    /// The header value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Language::ZhCn => "zh-CN",
            Language::EnUs => "en-US",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Language {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "zh-CN" => Ok(Language::ZhCn),
            "en-US" => Ok(Language::EnUs),
            other => Err(Error::invalid_input(
                "language",
                format!("{other:?} is not a Tencent Cloud API language; use zh-CN or en-US"),
            )),
        }
    }
}

/// Where `X-TC-Timestamp` comes from: the core clock (this path is kept for callers of
/// `imageshare_tencent::Clock`).
pub use imageshare_core::Clock;

/// The fixed facts of one Tencent service (CVM or Lighthouse).
#[derive(Debug, Clone, Copy)]
pub struct ServiceSpec {
    /// The imageshare provider.
    pub provider: Provider,
    /// Signing service (the first label of the official host).
    pub service: &'static str,
    /// `X-TC-Version`.
    pub version: &'static str,
    /// China-site host.
    pub host: &'static str,
    /// International-site host.
    pub intl_host: &'static str,
    /// What the service calls the images it shares (`image`, `blueprint`), in errors.
    pub item: &'static str,
    /// The documented sharing limits (the region rule and example come from them).
    pub limits: &'static ShareLimits,
    /// The published per-action request quotas: the default client-side rate table.
    pub rate_limits: fn() -> RateLimits,
}

/// CVM 2017-03-12.
pub const CVM_SERVICE: ServiceSpec = ServiceSpec {
    provider: crate::CVM,
    service: "cvm",
    version: crate::CVM_VERSION,
    host: crate::CVM_HOST,
    intl_host: crate::CVM_INTL_HOST,
    item: "image",
    limits: &crate::CVM_LIMITS,
    rate_limits: crate::limits::cvm_rate_limits,
};

/// Lighthouse 2020-03-24.
pub const LIGHTHOUSE_SERVICE: ServiceSpec = ServiceSpec {
    provider: crate::LIGHTHOUSE,
    service: "lighthouse",
    version: crate::LIGHTHOUSE_VERSION,
    host: crate::LIGHTHOUSE_HOST,
    intl_host: crate::LIGHTHOUSE_INTL_HOST,
    item: "blueprint",
    limits: &crate::LIGHTHOUSE_LIMITS,
    rate_limits: crate::limits::lighthouse_rate_limits,
};

/// The Tencent-only settings of both adapter builders (the shared ones are the builder's
/// [`ClientConfig`]).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) site: Site,
    pub(crate) credentials: Option<SharedProvider<TencentCredentials>>,
    pub(crate) language: Option<Language>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            site: Site::China,
            credentials: None,
            language: None,
        }
    }
}

impl Config {
    /// The client for `spec`: credentials from the chain (explicit first) over the
    /// config's environment and profile, the region (the builder's, else
    /// `TENCENTCLOUD_REGION`), the endpoint (the override, else the site's host), and the
    /// transport with the service's rate table.
    pub(crate) fn build(self, shared: &ClientConfig, spec: ServiceSpec) -> Result<TencentClient> {
        let env = shared.env();
        let services = Services::from_config(shared, spec.provider);
        let mut found =
            credential::chain_with(&services, self.credentials, shared.profile()).resolve(env)?;
        if let Some(fixed) = found.credentials.fixed() {
            fixed.validate()?;
        }
        if let Some(role) = shared.assume_role() {
            let assumed =
                AssumeRoleProvider::new(&services, role.clone(), found.credentials, &found.source)?;
            found.source = assumed.source_name().to_owned();
            found.credentials = Arc::new(assumed);
        }
        let region = shared.resolve_region(
            spec.limits,
            found
                .region
                .clone()
                .or_else(|| credential::region_from_env(env)),
            &format!("set {}", credential::ENV_REGION),
        )?;
        let endpoint = shared.resolve_endpoint(|| {
            let host = match self.site {
                Site::China => spec.host,
                Site::International => spec.intl_host,
            };
            format!("https://{host}")
        })?;
        let transport = shared.transport(spec.provider, (spec.rate_limits)())?;
        Ok(TencentClient {
            transport,
            credentials: Arc::new(services.cache(found.credentials, found.source)),
            url: endpoint.url(),
            endpoint,
            spec,
            region,
            language: self.language,
            clock: shared.clock().clone(),
            sts: services.sts_endpoint()?,
        })
    }
}

/// A signed-JSON client for one Tencent service in one region. Both adapters hold one;
/// it is also usable on its own to call any action of the service.
#[derive(Clone)]
pub struct TencentClient {
    transport: Transport,
    credentials: Arc<CredentialsCache<TencentCredentials>>,
    endpoint: Endpoint,
    /// `endpoint.url()`, made once.
    url: String,
    spec: ServiceSpec,
    region: Region,
    language: Option<Language>,
    clock: Clock,
    /// The STS endpoint of `GetCallerIdentity` (whoami).
    sts: Endpoint,
}

impl fmt::Debug for TencentClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TencentClient")
            .field("service", &self.spec.service)
            .field("version", &self.spec.version)
            .field("endpoint", &self.url)
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .field("language", &self.language)
            .field("transport", &self.transport)
            .finish()
    }
}

/// How one call is made.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallOptions<'a> {
    /// Whether sending the request twice is harmless (lets the transport retry a timeout
    /// after the request may have reached the server).
    pub idempotent: bool,
    /// The image or blueprint the call is about: not-found codes become
    /// [`Error::NotFound`] naming it.
    pub subject: Option<&'a str>,
}

impl<'a> CallOptions<'a> {
    /// A read about no one image (a listing): idempotent, no subject.
    #[must_use]
    pub fn read() -> Self {
        CallOptions {
            idempotent: true,
            subject: None,
        }
    }

    /// A call about the image or blueprint `id`.
    #[must_use]
    pub fn about(id: &'a str, idempotent: bool) -> Self {
        CallOptions {
            idempotent,
            subject: Some(id),
        }
    }
}

impl TencentClient {
    /// A client of `spec` at `endpoint` in `region`, signing with `credentials`, over
    /// `transport` (used for STS, whose client is not built from an adapter builder).
    pub(crate) fn from_parts(
        spec: ServiceSpec,
        endpoint: Endpoint,
        region: Region,
        transport: Transport,
        credentials: Arc<CredentialsCache<TencentCredentials>>,
        clock: Clock,
    ) -> Self {
        TencentClient {
            transport,
            credentials,
            url: endpoint.url(),
            sts: endpoint.clone(),
            endpoint,
            spec,
            region,
            language: None,
            clock,
        }
    }

    /// The same credentials and transport speaking to STS (`GetCallerIdentity`): the STS
    /// endpoint the client was built with, in region [`STS_REGION`](crate::credential::sts::STS_REGION).
    pub(crate) fn sts_client(&self) -> TencentClient {
        TencentClient {
            region: Region::new(crate::credential::sts::STS_REGION),
            ..self.for_service(
                crate::credential::sts::sts_spec(self.spec.provider),
                self.sts.clone(),
            )
        }
    }

    /// The same credentials, transport (rate limiter included) and region speaking to
    /// another service `spec` at `endpoint` (CBS `DescribeSnapshots` for the CVM adapter).
    pub(crate) fn for_service(&self, spec: ServiceSpec, endpoint: Endpoint) -> TencentClient {
        TencentClient {
            url: endpoint.url(),
            endpoint,
            spec,
            ..self.clone()
        }
    }

    /// The provider this client speaks for.
    #[must_use]
    pub fn provider(&self) -> Provider {
        self.spec.provider
    }
    /// The service this client speaks to.
    #[must_use]
    pub fn spec(&self) -> &ServiceSpec {
        &self.spec
    }
    /// The region (`X-TC-Region`).
    #[must_use]
    pub fn region(&self) -> &Region {
        &self.region
    }
    /// The endpoint URL requests are POSTed to.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.url
    }
    /// The `Host` header (and signed host).
    #[must_use]
    pub fn host(&self) -> &str {
        self.endpoint.authority()
    }
    /// The transport (timeouts, retry policy).
    #[must_use]
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The credentials this client signs with (cached; refreshed before they expire).
    #[must_use]
    pub fn credentials(&self) -> &CredentialsCache<TencentCredentials> {
        &self.credentials
    }

    /// Signs one attempt of `action` with `body` at the clock's current time, with
    /// `credentials` (see [`credentials`](Self::credentials)).
    pub fn sign_request(
        &self,
        credentials: &TencentCredentials,
        action: &str,
        body: &[u8],
    ) -> Result<HttpRequest> {
        self.sign_body(credentials, action, Bytes::copy_from_slice(body))
    }

    /// [`sign_request`](Self::sign_request) over a body built once per call: every
    /// attempt shares its bytes.
    fn sign_body(
        &self,
        credentials: &TencentCredentials,
        action: &str,
        body: Bytes,
    ) -> Result<HttpRequest> {
        let ts = self.clock.now();
        let mut req = Tc3Request::post_json(
            self.spec.service,
            self.endpoint.authority(),
            action,
            self.spec.version,
            &body,
            ts,
        )
        .region(self.region.as_str())
        .canonical_uri(self.endpoint.path());
        if let Some(lang) = self.language {
            req = req.language(lang.as_str());
        }
        let signed = sign(credentials, &req);
        Ok(HttpRequest {
            method: HttpMethod::Post,
            url: self.url.clone(),
            headers: header_map(signed.headers)?,
            body,
        })
    }

    /// Calls `action` in `cx` with `request` as the JSON body; decodes `Response` into `T`.
    /// The body is encoded once; each attempt is signed afresh.
    pub async fn call<Q, T>(
        &self,
        cx: &CallContext,
        action: &str,
        request: &Q,
        opts: CallOptions<'_>,
    ) -> Result<T>
    where
        Q: Serialize + ?Sized + Sync,
        T: DeserializeOwned + Send,
    {
        let body = Bytes::from(serde_json::to_vec(request).map_err(|e| {
            Error::invalid_input("request", format!("cannot encode {action}: {e}"))
        })?);
        let call = ApiCall {
            provider: self.spec.provider,
            action,
            region: self.region.as_str(),
            idempotent: opts.idempotent,
        };
        let provider = self.spec.provider;
        self.credentials
            .call(|credentials| {
                let body = body.clone();
                async move {
                    self.transport
                        .call(
                            cx,
                            call,
                            |_attempt| {
                                self.sign_body(&credentials.credentials, action, body.clone())
                            },
                            |resp| decode::<T>(provider, action, opts.subject, resp),
                        )
                        .await
                }
            })
            .await
    }

    /// Calls an action that answers nothing but its `RequestId` (a share, an unshare, a
    /// delete); returns the request id.
    pub async fn call_for_request_id<Q>(
        &self,
        cx: &CallContext,
        action: &str,
        request: &Q,
        opts: CallOptions<'_>,
    ) -> Result<Option<String>>
    where
        Q: Serialize + ?Sized + Sync,
    {
        let answer: Empty = self.call(cx, action, request, opts).await?;
        Ok(answer.request_id)
    }
}

/// Decodes one answer in one pass over its bytes ([`envelope`]): the
/// envelope, the error classification, the payload.
pub fn decode<T: DeserializeOwned>(
    provider: Provider,
    action: &str,
    subject: Option<&str>,
    resp: HttpResponse,
) -> Result<T> {
    let status = resp.status;
    let envelope = match envelope::parse::<T>(&resp.body) {
        Ok(envelope) => envelope,
        Err(_) if status >= 400 => {
            let text = String::from_utf8_lossy(&resp.body);
            let message: String = text.chars().take(200).collect();
            return Err(Error::from(
                ApiError::new(
                    provider,
                    action,
                    status,
                    format!("HTTP.{status}"),
                    if message.is_empty() {
                        format!("HTTP {status} without a Tencent Cloud response body")
                    } else {
                        message
                    },
                )
                .with_retry(RetryReason::of_status(status)),
            ));
        }
        Err(why) => {
            return Err(Error::decode(
                provider,
                action,
                format!(
                    "the answer is not a {{\"Response\": {{...}}}} JSON envelope of the \
                     expected shape: {why}"
                ),
                None,
            ))
        }
    };
    let request_id = envelope.request_id;
    if let Some(rid) = &request_id {
        record_request_id(rid);
    }
    if let Some(err) = envelope.error {
        return Err(classify(
            provider,
            action,
            status,
            err.code,
            err.message,
            request_id,
            subject,
        ));
    }
    if status != 200 {
        return Err(Error::from(
            ApiError::new(
                provider,
                action,
                status,
                format!("HTTP.{status}"),
                format!("HTTP {status} with a response that carries no Error"),
            )
            .with_request_id(request_id)
            .with_retry(RetryReason::of_status(status)),
        ));
    }
    envelope
        .payload
        .map_err(|message| Error::decode(provider, action, message, request_id))
}

/// Turns a `Response.Error` into the one error type (codes kept verbatim).
pub fn classify(
    provider: Provider,
    action: &str,
    status: u16,
    code: String,
    message: String,
    request_id: Option<String>,
    subject: Option<&str>,
) -> Error {
    if code == TOKEN_EXPIRED_CODE {
        return Error::credentials_expired(provider, code, message, request_id);
    }
    if code.starts_with("AuthFailure") {
        return Error::auth(provider, code, message, request_id);
    }
    if let Some(id) = subject {
        if NOT_FOUND_CODES.contains(&code.as_str()) {
            tracing::debug!(%code, request_id = request_id.as_deref().unwrap_or("-"), "not found");
            return Error::not_found(
                provider,
                if code.contains("Blueprint") {
                    "blueprint"
                } else {
                    "image"
                },
                id,
            );
        }
    }
    let retry = retry_reason(&code, status);
    Error::from(
        ApiError::new(provider, action, status, code, message)
            .with_request_id(request_id)
            .with_retry(retry),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn retryable_codes() {
        for c in [
            "RequestLimitExceeded",
            "RequestLimitExceeded.UinLimitExceeded",
            "RequestLimitExceeded.SomethingNew",
            "MutexOperation.TaskRunning",
            "ResourceInUse.BlueprintModifyingSharePermission",
        ] {
            assert!(code_retry_reason(c).is_some(), "{c}");
        }
        for c in [
            "OverQuota",
            "InvalidImageId.InShared",
            "RequestLimitExceededX",
        ] {
            assert!(code_retry_reason(c).is_none(), "{c}");
        }
    }

    #[test]
    fn retry_reasons_are_throttled_or_server_error() {
        use RetryReason::{ServerError, Throttled};
        for (code, status, want) in [
            ("RequestLimitExceeded", 200, Some(Throttled)),
            ("RequestLimitExceeded.IPLimitExceeded", 200, Some(Throttled)),
            ("RequestLimitExceeded.SomethingNew", 503, Some(Throttled)),
            ("MutexOperation.TaskRunning", 200, Some(ServerError)),
            ("ServiceUnavailable", 200, Some(ServerError)),
            ("InternalError", 500, Some(ServerError)),
            ("HTTP.429", 429, Some(Throttled)),
            ("OverQuota", 200, None),
            ("InvalidParameter", 400, None),
        ] {
            assert_eq!(retry_reason(code, status), want, "{code} {status}");
        }
    }

    #[test]
    fn error_envelope_is_classified() {
        let auth = decode::<Value>(
            crate::CVM,
            "DescribeImages",
            None,
            resp(
                200,
                r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"m"},"RequestId":"r1"}}"#,
            ),
        )
        .unwrap_err();
        assert!(matches!(auth, Error::Auth { .. }), "{auth:?}");
        assert_eq!(auth.request_id(), Some("r1"));

        let nf = decode::<Value>(
            crate::CVM,
            "DeleteImages",
            Some("img-x"),
            resp(
                200,
                r#"{"Response":{"Error":{"Code":"InvalidImageId.NotFound","Message":"m"},"RequestId":"r2"}}"#,
            ),
        )
        .unwrap_err();
        assert!(
            matches!(nf, Error::NotFound { ref id, what: "image", .. } if id == "img-x"),
            "{nf:?}"
        );

        let busy = decode::<Value>(
            crate::CVM,
            "DeleteImages",
            None,
            resp(
                200,
                r#"{"Response":{"Error":{"Code":"MutexOperation.TaskRunning","Message":"m"},"RequestId":"r3"}}"#,
            ),
        )
        .unwrap_err();
        assert!(busy.is_retryable());
        assert_eq!(
            RetryReason::of_answer(&busy),
            Some(RetryReason::ServerError)
        );
        assert_eq!(busy.code(), Some("MutexOperation.TaskRunning"));
    }

    #[test]
    fn http_5xx_without_envelope_is_retryable() {
        let e = decode::<Value>(crate::CVM, "DescribeImages", None, resp(502, "bad gateway"))
            .unwrap_err();
        assert!(e.is_retryable());
        assert_eq!(RetryReason::of_answer(&e), Some(RetryReason::ServerError));
        assert_eq!(e.code(), Some("HTTP.502"));
        let e = decode::<Value>(crate::CVM, "X", None, resp(200, "not json")).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }));
    }

    #[test]
    fn language_parses() {
        assert_eq!("en-US".parse::<Language>().unwrap(), Language::EnUs);
        assert!("fr-FR".parse::<Language>().is_err());
    }
}
