//! The TC3 HTTP client shared by the CVM and Lighthouse adapters, over
//! [`imageshare_core::transport`]: every attempt is signed afresh (new `X-TC-Timestamp`),
//! POSTed as JSON with the `X-TC-*` common headers (action, version, region, timestamp,
//! token, language), and its `{"Response": ...}` envelope decoded and classified:
//!
//! - `Response.Error` codes are kept verbatim. `AuthFailure.*` becomes [`Error::Auth`]; the
//!   image/blueprint-not-found codes ([`NOT_FOUND_CODES`]) become [`Error::NotFound`] when the
//!   call is about one image; everything else is [`Error::Api`], retryable for the
//!   throttling and "busy" codes ([`is_retryable_code`]) and for HTTP 5xx.
//! - HTTP 5xx without a Tencent envelope is a retryable [`Error::Api`] with code `HTTP.<status>`.
//! - The `RequestId` is recorded on the transport's `api_call` tracing span and carried in
//!   every error. Secrets never reach a log line or an error: the signature header is not
//!   printed by [`HttpRequest`]'s `Debug`, and [`TencentCredentials`] masks its key.

use std::fmt;
use std::sync::Arc;

use imageshare_core::ratelimit::{Rate, RateLimits};
use imageshare_core::transport::{
    parse_endpoint, record_request_id, status_is_retryable, ApiCall, ClientOptions, HttpRequest,
    HttpResponse, RetryConfig, Transport,
};
use imageshare_core::{time, ApiError, Error, Provider, Region, Result, Site};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::credential::{CredentialChain, TencentCredentials};
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

/// Whether a Tencent error code is worth retrying: every `RequestLimitExceeded` code (also
/// sub-codes Tencent may add), the busy codes of [`BUSY_CODES`], and `ServiceUnavailable`.
pub fn is_retryable_code(code: &str) -> bool {
    code == "RequestLimitExceeded"
        || code.starts_with("RequestLimitExceeded.")
        || code == "ServiceUnavailable"
        || BUSY_CODES.contains(&code)
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

/// Where `X-TC-Timestamp` comes from: the system clock, or a fixed function in tests.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> u64 + Send + Sync>);

impl Clock {
    /// The system clock (Unix seconds).
    pub fn system() -> Self {
        Clock(Arc::new(time::now_unix))
    }
    /// A clock that calls `f` for every attempt.
    pub fn from_fn(f: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        Clock(Arc::new(f))
    }
    /// A clock stopped at `unix` seconds.
    pub fn fixed(unix: u64) -> Self {
        Clock(Arc::new(move || unix))
    }
    /// The current time, Unix seconds.
    pub fn now(&self) -> u64 {
        (self.0)()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

/// The fixed facts of one Tencent service (CVM or Lighthouse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// CVM 2017-03-12.
pub const CVM_SERVICE: ServiceSpec = ServiceSpec {
    provider: Provider::TencentCvm,
    service: "cvm",
    version: crate::CVM_VERSION,
    host: crate::CVM_HOST,
    intl_host: crate::CVM_INTL_HOST,
};

/// Lighthouse 2020-03-24.
pub const LIGHTHOUSE_SERVICE: ServiceSpec = ServiceSpec {
    provider: Provider::TencentLighthouse,
    service: "lighthouse",
    version: crate::LIGHTHOUSE_VERSION,
    host: crate::LIGHTHOUSE_HOST,
    intl_host: crate::LIGHTHOUSE_INTL_HOST,
};

/// Settings shared by both adapter builders.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) region: Option<Region>,
    pub(crate) endpoint: Option<String>,
    pub(crate) site: Site,
    pub(crate) credentials: Option<TencentCredentials>,
    pub(crate) chain: Option<CredentialChain>,
    pub(crate) options: ClientOptions,
    pub(crate) retry: RetryConfig,
    pub(crate) language: Option<Language>,
    pub(crate) clock: Clock,
    /// A whole rate-limit table replacing the service's published defaults.
    pub(crate) rate_limits: Option<RateLimits>,
    /// Per-action rates applied on top of the table (defaults or `rate_limits`).
    pub(crate) rate_overrides: Vec<(String, Rate)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            region: None,
            endpoint: None,
            site: Site::China,
            credentials: None,
            chain: None,
            options: ClientOptions::default(),
            retry: RetryConfig::default(),
            language: None,
            clock: Clock::system(),
            rate_limits: None,
            rate_overrides: Vec::new(),
        }
    }
}

impl Config {
    /// Resolves the credential chain now (for `from_env()`): credentials and, unless a
    /// region was set, `TENCENTCLOUD_REGION`.
    pub(crate) fn resolve_env(mut self, provider: Provider) -> Result<Self> {
        let chain = self
            .chain
            .clone()
            .unwrap_or_else(|| CredentialChain::for_provider(provider));
        let resolved = chain.resolve_os()?;
        tracing::debug!(source = %resolved.source, "Tencent credentials resolved");
        self.credentials = Some(resolved.credentials);
        if self.region.is_none() {
            self.region = resolved.region.map(Region::new);
        }
        Ok(self)
    }

    pub(crate) fn build(self, spec: ServiceSpec) -> Result<TencentClient> {
        let mut cfg = self;
        if cfg.credentials.is_none() {
            cfg = cfg.resolve_env(spec.provider)?;
        }
        let credentials = cfg.credentials.take().ok_or_else(|| {
            Error::invalid_input("credentials", "no Tencent Cloud credentials were given")
        })?;
        credentials.validate()?;
        let region = cfg.region.take().ok_or_else(|| {
            Error::invalid_input(
                "region",
                "no region given; call .region(\"ap-guangzhou\") or set TENCENTCLOUD_REGION",
            )
        })?;
        region.check(spec.provider, "region")?;
        let endpoint = match cfg.endpoint.take() {
            Some(e) => e,
            None => {
                let host = match cfg.site {
                    Site::China => spec.host,
                    Site::International => spec.intl_host,
                };
                format!("https://{host}")
            }
        };
        let url = parse_endpoint(&endpoint)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::invalid_input(
                "endpoint",
                format!("{endpoint:?} must not carry a query or fragment"),
            ));
        }
        let host_name = url.host_str().unwrap_or_default();
        let host = match url.port() {
            Some(port) => format!("{host_name}:{port}"),
            None => host_name.to_owned(),
        };
        let defaults = match spec.provider {
            Provider::TencentLighthouse => crate::limits::lighthouse_rate_limits(),
            _ => crate::limits::cvm_rate_limits(),
        };
        let overrides = if cfg.rate_limits.is_some() || !cfg.rate_overrides.is_empty() {
            let mut table = cfg.rate_limits.take().unwrap_or_else(|| defaults.clone());
            for (action, rate) in cfg.rate_overrides.drain(..) {
                table.set(action, rate);
            }
            Some(table)
        } else {
            None
        };
        let transport = Transport::new(cfg.options, cfg.retry)?.with_rate_limits(
            spec.provider,
            defaults,
            overrides,
        )?;
        Ok(TencentClient {
            transport,
            credentials,
            url: url.as_str().to_owned(),
            host,
            canonical_uri: url.path().to_owned(),
            spec,
            region,
            language: cfg.language,
            clock: cfg.clock,
        })
    }
}

/// A signed-JSON client for one Tencent service in one region. Both adapters hold one;
/// it is also usable on its own to call any action of the service.
#[derive(Clone)]
pub struct TencentClient {
    transport: Transport,
    credentials: TencentCredentials,
    url: String,
    host: String,
    canonical_uri: String,
    spec: ServiceSpec,
    region: Region,
    language: Option<Language>,
    clock: Clock,
}

impl fmt::Debug for TencentClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TencentClient")
            .field("service", &self.spec.service)
            .field("version", &self.spec.version)
            .field("endpoint", &self.url)
            .field("region", &self.region)
            .field("credentials", &self.credentials.to_string())
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

impl TencentClient {
    /// The provider this client speaks for.
    pub fn provider(&self) -> Provider {
        self.spec.provider
    }
    /// The region (`X-TC-Region`).
    pub fn region(&self) -> &Region {
        &self.region
    }
    /// The endpoint URL requests are POSTed to.
    pub fn endpoint(&self) -> &str {
        &self.url
    }
    /// The `Host` header (and signed host).
    pub fn host(&self) -> &str {
        &self.host
    }
    /// The transport (timeouts, retry policy).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Signs one attempt of `action` with `body` at the clock's current time.
    pub fn sign_request(&self, action: &str, body: &[u8]) -> HttpRequest {
        let ts = self.clock.now();
        let mut req = Tc3Request::post_json(
            self.spec.service,
            &self.host,
            action,
            self.spec.version,
            body,
            ts,
        )
        .region(self.region.as_str())
        .canonical_uri(&self.canonical_uri);
        if let Some(lang) = self.language {
            req = req.language(lang.as_str());
        }
        let signed = sign(&self.credentials, &req);
        HttpRequest {
            method: "POST".to_owned(),
            url: self.url.clone(),
            headers: signed
                .headers
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            body: body.to_vec(),
        }
    }

    /// Calls `action` with `request` as the JSON body; decodes `Response` into `T`.
    pub async fn call<Q, T>(&self, action: &str, request: &Q, opts: CallOptions<'_>) -> Result<T>
    where
        Q: Serialize + ?Sized + Sync,
        T: DeserializeOwned + Send,
    {
        let body = serde_json::to_vec(request)
            .map_err(|e| Error::invalid_input("request", format!("cannot encode {action}: {e}")))?;
        let call = ApiCall {
            provider: self.spec.provider,
            action,
            region: self.region.as_str(),
            idempotent: opts.idempotent,
        };
        let provider = self.spec.provider;
        self.transport
            .call(
                call,
                |_attempt| Ok(self.sign_request(action, &body)),
                |resp| decode::<T>(provider, action, opts.subject, resp),
            )
            .await
    }
}

/// Decodes one answer: the envelope, the error classification, the payload.
pub fn decode<T: DeserializeOwned>(
    provider: Provider,
    action: &str,
    subject: Option<&str>,
    resp: HttpResponse,
) -> Result<T> {
    let status = resp.status;
    let parsed: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let envelope = parsed
        .as_ref()
        .and_then(|v| v.get("Response"))
        .filter(|r| r.is_object());
    let Some(response) = envelope else {
        if status >= 400 {
            let text = String::from_utf8_lossy(&resp.body);
            let message: String = text.chars().take(200).collect();
            return Err(Error::Api(ApiError {
                provider,
                action: action.to_owned(),
                status,
                code: format!("HTTP.{status}"),
                message: if message.is_empty() {
                    format!("HTTP {status} without a Tencent Cloud response body")
                } else {
                    message
                },
                request_id: None,
                retryable: status_is_retryable(status),
                retry_after: None,
            }));
        }
        return Err(Error::Decode {
            provider,
            action: action.to_owned(),
            message: "the answer is not a {\"Response\": {...}} JSON envelope".to_owned(),
            request_id: None,
        });
    };
    let request_id = response
        .get("RequestId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(rid) = &request_id {
        record_request_id(rid);
    }
    if let Some(err) = response.get("Error") {
        let code = err
            .get("Code")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let message = err
            .get("Message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        return Err(classify(
            provider, action, status, code, message, request_id, subject,
        ));
    }
    if status != 200 {
        return Err(Error::Api(ApiError {
            provider,
            action: action.to_owned(),
            status,
            code: format!("HTTP.{status}"),
            message: format!("HTTP {status} with a response that carries no Error"),
            request_id,
            retryable: status_is_retryable(status),
            retry_after: None,
        }));
    }
    T::deserialize(response).map_err(|e| Error::Decode {
        provider,
        action: action.to_owned(),
        message: e.to_string(),
        request_id,
    })
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
    if code.starts_with("AuthFailure") {
        return Error::Auth {
            provider,
            code,
            message,
            request_id,
        };
    }
    if let Some(id) = subject {
        if NOT_FOUND_CODES.contains(&code.as_str()) {
            tracing::debug!(%code, request_id = request_id.as_deref().unwrap_or("-"), "not found");
            return Error::NotFound {
                provider,
                what: if code.contains("Blueprint") {
                    "blueprint"
                } else {
                    "image"
                },
                id: id.to_owned(),
            };
        }
    }
    let retryable = is_retryable_code(&code) || status_is_retryable(status);
    Error::Api(ApiError {
        provider,
        action: action.to_owned(),
        status,
        code,
        message,
        request_id,
        retryable,
        retry_after: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert!(is_retryable_code(c), "{c}");
        }
        for c in [
            "OverQuota",
            "InvalidImageId.InShared",
            "RequestLimitExceededX",
        ] {
            assert!(!is_retryable_code(c), "{c}");
        }
    }

    #[test]
    fn error_envelope_is_classified() {
        let auth = decode::<Value>(
            Provider::TencentCvm,
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
            Provider::TencentCvm,
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
            Provider::TencentCvm,
            "DeleteImages",
            None,
            resp(
                200,
                r#"{"Response":{"Error":{"Code":"MutexOperation.TaskRunning","Message":"m"},"RequestId":"r3"}}"#,
            ),
        )
        .unwrap_err();
        assert!(busy.is_retryable());
        assert_eq!(busy.code(), Some("MutexOperation.TaskRunning"));
    }

    #[test]
    fn http_5xx_without_envelope_is_retryable() {
        let e = decode::<Value>(
            Provider::TencentCvm,
            "DescribeImages",
            None,
            resp(502, "bad gateway"),
        )
        .unwrap_err();
        assert!(e.is_retryable());
        assert_eq!(e.code(), Some("HTTP.502"));
        let e =
            decode::<Value>(Provider::TencentCvm, "X", None, resp(200, "not json")).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }));
    }

    #[test]
    fn language_parses() {
        assert_eq!("en-US".parse::<Language>().unwrap(), Language::EnUs);
        assert!("fr-FR".parse::<Language>().is_err());
    }
}
