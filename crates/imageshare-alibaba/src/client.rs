//! The Alibaba Cloud OpenAPI client shared by the ECS and SAS adapters: signing (ACS3 by
//! default, RPC signature v1 selectable), the wire shape of RPC-style calls, response
//! decoding and error classification, over the core [`Transport`] (retry, backoff,
//! timeouts, tracing).
//!
//! Every call is an RPC-style action sent as the official SDKs send it (alibaba.md 1, 3,
//! 5): `POST /` with every action parameter in the query string and an empty body. Each
//! attempt is signed afresh, with a new nonce ([`time::nonce`]) and timestamp, as the
//! docs require for retries (alibaba.md 7).
//!
//! Errors are kept verbatim: the envelope `{RequestId, HostId, Code, Message, Recommend}`
//! becomes [`Error::Api`] with the service's own code (including its spellings such as
//! `InvalidAccount.Forbbiden`), except the codes that say the credentials or the
//! signature were refused ([`Error::Auth`]) and `InvalidImageId.NotFound` for the image a
//! call is about ([`Error::NotFound`]). The retry verdict is set when the answer is decoded
//! ([`retry_reason`]): `Throttling*` codes and HTTP 429 are throttling, HTTP 5xx,
//! `ServiceUnavailable` and `InternalError` server errors; an `x-acs-retry-after` header
//! (milliseconds, as the official SDK sleeps it) is honoured.
//!
//! The client is built from the builders' shared `imageshare_core::ClientConfig`
//! (`OpenApiClient::new`): credentials from the chain ([`crate::credential`]), region,
//! endpoint (the core parser; no path) and transport (the rate table merged once, in core),
//! and the clock request timestamps are read from.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use imageshare_core::credentials::{CredentialsCache, SharedProvider};
use imageshare_core::ratelimit::RateLimits;
use imageshare_core::transport::{
    header_map, record_request_id, ApiCall, Endpoint, HttpRequest, HttpResponse, Method,
    RetryReason, Transport,
};
use imageshare_core::{
    time, ApiError, CallContext, ClientConfig, Clock, Error, ImageId, Principal, Provider, Region,
    Result, ShareLimits, ShareOutcome, ShareReport,
};
use serde::Deserialize;

use crate::credential::sts::{AssumeRoleProvider, RoleRequest, Services, Sts};
use crate::credential::{credential_chain, resolve_region_with_profile, AlibabaCredentials};
use crate::model::Answer;
use crate::signer::{acs3, rpc_v1};
use imageshare_core::credentials::{Found, ProvideCredentials};
use imageshare_core::CallerIdentity;

/// ECS API version (alibaba.md 1).
pub const ECS_VERSION: &str = "2014-05-26";
/// SWAS-OPEN (Simple Application Server) API version (alibaba.md 3).
pub const SAS_VERSION: &str = "2020-06-01";

/// The code Alibaba Cloud answers when the STS security token of temporary credentials
/// has expired (`Specified SecurityToken is expired.`; listed among the common error codes
/// in aliyun/terraform-provider-alicloud `alicloud/common_errors.go`). Classified as
/// [`Error::CredentialsExpired`]: the credentials cache then refreshes once and retries.
pub const TOKEN_EXPIRED_CODE: &str = "InvalidSecurityToken.Expired";

/// Error codes that mean the credentials or the signature were refused (alibaba.md 2.3):
/// they become [`Error::Auth`]. Codes starting with `InvalidTimeStamp.`,
/// `InvalidSecurityToken.` or `InvalidAccessKeyId` are treated the same way.
pub const AUTH_ERROR_CODES: [&str; 6] = [
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "SignatureNonceUsed",
    "IllegalTimestamp",
    "InvalidAccessKeyId.NotFound",
    "InvalidAccessKeyId.Inactive",
];

/// The response header that carries a server-chosen retry delay, in milliseconds (the
/// official Tea OpenAPI SDK reads it and sleeps that many milliseconds).
pub const RETRY_AFTER_HEADER: &str = "x-acs-retry-after";

/// Which signature the client puts on requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureVersion {
    /// `ACS3-HMAC-SHA256` in the `Authorization` header (the default of the current
    /// official SDKs, alibaba.md 5.3).
    #[default]
    Acs3,
    /// RPC signature v1 (`HMAC-SHA1`, `SignatureVersion=1.0`) in the query string
    /// (alibaba.md 5.2).
    RpcV1,
}

/// The settings of the ECS and SAS builders that are Alibaba's own (the shared ones live
/// in their `ClientConfig`).
#[derive(Debug, Clone, Default)]
pub(crate) struct AlibabaSettings {
    /// An explicit credentials provider; without one the chain runs at `build()`.
    /// (`AlibabaCredentials`' Debug prints the secret and the token as `***`.)
    pub(crate) credentials: Option<SharedProvider<AlibabaCredentials>>,
    /// The signature version.
    pub(crate) signature: SignatureVersion,
}

/// What tells the products an [`OpenApiClient`] talks to apart.
#[derive(Debug)]
pub(crate) struct Product {
    /// The product's limits (their provider is the client's).
    pub(crate) limits: &'static ShareLimits,
    /// The API version sent with every call.
    pub(crate) version: &'static str,
    /// The endpoint of a region when none is set.
    pub(crate) default_endpoint: fn(&str) -> String,
    /// The product's default client-side rate limits.
    pub(crate) rate_limits: fn() -> RateLimits,
}

/// What the client needs to know about one call besides its parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallSpec<'a> {
    /// Whether sending the request twice is harmless (reads, and writes whose repetition
    /// converges: share / unshare of the same accounts).
    pub(crate) idempotent: bool,
    /// The image the call is about: `InvalidImageId.NotFound` becomes
    /// `Error::NotFound` for it.
    pub(crate) image: Option<&'a str>,
}

/// A signed OpenAPI client for one product (ECS or SWAS-OPEN) in one region.
#[derive(Clone)]
pub struct OpenApiClient {
    provider: Provider,
    version: &'static str,
    region: Region,
    endpoint: Endpoint,
    /// `scheme://authority` of the endpoint.
    base: String,
    credentials: Arc<CredentialsCache<AlibabaCredentials>>,
    signature: SignatureVersion,
    transport: Transport,
    clock: Clock,
    /// STS for `GetCallerIdentity`.
    sts: Sts,
}

impl fmt::Debug for OpenApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenApiClient")
            .field("provider", &self.provider)
            .field("version", &self.version)
            .field("region", &self.region)
            .field("endpoint", &self.base)
            .field("credentials", &self.credentials)
            .field("signature", &self.signature)
            .field("transport", &self.transport)
            .finish()
    }
}

impl OpenApiClient {
    /// Builds the client of `product` from a builder's settings: credentials from the
    /// chain over `config.env()` (explicit values, the environment, the CLI profile
    /// `config.profile()`), the region set, else [`REGION_VARS`](crate::credential::REGION_VARS),
    /// else the profile's, the endpoint set (no path) or the product's default for the
    /// region, the transport with the product's rate table and the caller's on top.
    pub(crate) fn new(
        config: &ClientConfig,
        settings: AlibabaSettings,
        product: &Product,
    ) -> Result<Self> {
        let provider = product.limits.provider;
        let env = config.env();
        let transport = config.transport(provider, (product.rate_limits)())?;
        let services = Services::new(provider, config, transport.clone());
        let mut found =
            credential_chain(provider, settings.credentials, config.profile(), &services)
                .resolve(env)?;
        if let Some(role) = config.assume_role() {
            let role = RoleRequest::from_assume_role(role, env, config.clock());
            let assumed = AssumeRoleProvider::new(
                found.credentials,
                &found.source,
                services.sts(None, false),
                role,
            );
            let source = ProvideCredentials::source(&assumed);
            found = Found::new(assumed.shared(), source).with_region(found.region);
        }
        // The region variables, then the selected profile's region, whatever source the
        // credentials came from (as the Aliyun CLI does); read only when none is set.
        let fallback = match config.region() {
            Some(_) => None,
            None => resolve_region_with_profile(env, config.profile()),
        };
        let region =
            config.resolve_region(product.limits, fallback, "set ALIBABA_CLOUD_REGION_ID")?;
        let endpoint = config
            .resolve_endpoint(|| (product.default_endpoint)(region.as_str()))?
            .without_path("Alibaba RPC APIs")?;
        Ok(OpenApiClient {
            provider,
            version: product.version,
            region,
            base: endpoint.base(),
            endpoint,
            credentials: Arc::new(config.credentials_cache(provider, found)),
            signature: settings.signature,
            transport,
            clock: config.clock().clone(),
            sts: services.sts(None, false),
        })
    }

    /// A client of another product of the same cloud (`version`, `endpoint`) that shares
    /// this one's credentials cache, transport (retries, rate limits), clock, region and
    /// provider identity: how the ECS adapter reaches Resource Sharing.
    pub(crate) fn for_product(&self, version: &'static str, endpoint: Endpoint) -> Self {
        OpenApiClient {
            version,
            base: endpoint.base(),
            endpoint,
            ..self.clone()
        }
    }

    /// Who the credentials act as (STS `GetCallerIdentity`), where they came from and
    /// when they expire.
    pub async fn whoami(&self, cx: &CallContext) -> Result<CallerIdentity> {
        let (answer, expires) = self
            .credentials
            .call(|credentials| async move {
                let answer = self
                    .sts
                    .caller_identity(cx, &credentials.credentials)
                    .await?;
                Ok((answer, credentials.expires))
            })
            .await?;
        Ok(
            CallerIdentity::new(self.provider, answer.account_id, self.credentials.source())
                .with_arn(Some(answer.arn).filter(|a| !a.is_empty()))
                .with_expires(expires),
        )
    }

    /// The STS endpoint `whoami` calls.
    #[must_use]
    pub fn sts_endpoint(&self) -> &str {
        self.sts.endpoint()
    }

    /// The product this client talks to.
    #[must_use]
    pub fn provider(&self) -> Provider {
        self.provider
    }
    /// The API version sent with every call.
    #[must_use]
    pub fn version(&self) -> &'static str {
        self.version
    }
    /// The region the client is bound to (sent as `RegionId`).
    #[must_use]
    pub fn region(&self) -> &Region {
        &self.region
    }
    /// The endpoint, `scheme://host[:port]`.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.base
    }
    /// The signature version in use.
    #[must_use]
    pub fn signature_version(&self) -> SignatureVersion {
        self.signature
    }
    /// The credentials this client signs with (cached; refreshed before they expire).
    #[must_use]
    pub fn credentials(&self) -> &CredentialsCache<AlibabaCredentials> {
        &self.credentials
    }

    /// The exact HTTP request this client sends for `action` with `params` at `unix`
    /// seconds with `nonce`, signed with `credentials` (see
    /// [`credentials`](Self::credentials)): `POST /?<params>` with an empty body, signed
    /// with the configured signature version. Pure, so tests can pin it.
    pub fn sign_request(
        &self,
        credentials: &AlibabaCredentials,
        action: &str,
        params: &[(String, String)],
        unix: u64,
        nonce: &str,
    ) -> Result<HttpRequest> {
        Ok(match self.signature {
            SignatureVersion::Acs3 => {
                let mut query = params.to_vec();
                query.sort();
                let mut req =
                    acs3::Acs3Request::new(self.endpoint.authority(), action, self.version)
                        .header("accept", "application/json");
                if credentials.is_sts() {
                    // The official SDK also sends (and signs) the key id with a token.
                    req = req.header("x-acs-accesskey-id", credentials.access_key_id.clone());
                }
                for (k, v) in &query {
                    req = req.query(k.clone(), v.clone());
                }
                let signed = acs3::sign(credentials, &req, unix, nonce);
                HttpRequest {
                    method: Method::Post,
                    url: format!("{}/?{}", self.base, rpc_v1::encode_params(&query)),
                    headers: header_map(signed.headers)?,
                    body: Bytes::new(),
                }
            }
            SignatureVersion::RpcV1 => {
                let mut req = rpc_v1::RpcRequest::new(action, self.version).method("POST");
                for (k, v) in params {
                    req = req.param(k.clone(), v.clone());
                }
                let signed = rpc_v1::sign(credentials, &req, unix, nonce);
                HttpRequest {
                    method: Method::Post,
                    url: format!("{}/?{}", self.base, signed.query_string()),
                    headers: header_map([("accept", "application/json")])?,
                    body: Bytes::new(),
                }
            }
        })
    }

    /// Calls `action` with `params` in `cx` (retries included; every attempt signed afresh
    /// at the client's clock) and decodes the JSON answer.
    pub(crate) async fn call<T: Answer + Send>(
        &self,
        cx: &CallContext,
        action: &str,
        params: Vec<(String, String)>,
        spec: CallSpec<'_>,
    ) -> Result<T> {
        let api = ApiCall {
            provider: self.provider,
            action,
            region: self.region.as_str(),
            idempotent: spec.idempotent,
        };
        let provider = self.provider;
        let params = &params;
        self.credentials
            .call(|credentials| async move {
                self.transport
                    .call(
                        cx,
                        api,
                        |_attempt| {
                            self.sign_request(
                                &credentials.credentials,
                                action,
                                params,
                                self.clock.now(),
                                &time::nonce(),
                            )
                        },
                        |resp| decode_response(provider, action, spec.image, resp),
                    )
                    .await
            })
            .await
    }
}

/// Reads `RequestId` (or `requestId`) from a JSON body, if there is one.
#[derive(Deserialize)]
struct RequestIdOnly {
    #[serde(rename = "RequestId", alias = "requestId", default)]
    request_id: Option<String>,
}

/// Decodes one HTTP answer of `action`: the JSON body on 2xx (parsed once, its request id
/// read from the same parse), else the classified error. `image` is the image the call is
/// about (for `InvalidImageId.NotFound`).
pub fn decode_response<T: Answer>(
    provider: Provider,
    action: &str,
    image: Option<&str>,
    resp: HttpResponse,
) -> Result<T> {
    if (200..300).contains(&resp.status) {
        return match serde_json::from_slice::<T>(&resp.body) {
            Ok(answer) => {
                if !answer.request_id().is_empty() {
                    record_request_id(answer.request_id());
                }
                Ok(answer)
            }
            // Only an answer that is not what the action returns is read a second time,
            // for the request id the error carries.
            Err(e) => Err(Error::decode(
                provider,
                action,
                format!("{e} (HTTP {}, {} bytes)", resp.status, resp.body.len()),
                serde_json::from_slice::<RequestIdOnly>(&resp.body)
                    .ok()
                    .and_then(|r| r.request_id),
            )),
        };
    }
    let retry_after = resp
        .header(RETRY_AFTER_HEADER)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis);
    // The error envelope (alibaba.md 2.1), read as the SDKs read it: a JSON map whose
    // `Code` (or `code`) is a non-empty string. Any other field (a repeated key, a
    // `Message` that is not a string) must not cost the code its classification.
    let envelope: Option<serde_json::Value> = serde_json::from_slice(&resp.body).ok();
    let text = |keys: [&str; 2]| {
        keys.iter()
            .find_map(|k| envelope.as_ref()?.get(*k)?.as_str())
            .map(str::to_owned)
    };
    let request_id = text(["RequestId", "requestId"]);
    if let Some(id) = &request_id {
        record_request_id(id);
    }
    let (code, message) = match text(["Code", "code"]).filter(|c| !c.is_empty()) {
        Some(code) => (code, text(["Message", "message"]).unwrap_or_default()),
        None => (
            // No envelope (a proxy or load balancer answered): keep the status.
            format!("HTTP{}", resp.status),
            String::from_utf8_lossy(&resp.body)
                .chars()
                .take(200)
                .collect(),
        ),
    };
    Err(classify_error(
        provider,
        action,
        resp.status,
        code,
        message,
        request_id,
        retry_after,
        image,
    ))
}

/// True for codes that say the credentials or the signature were refused.
#[must_use]
pub fn is_auth_code(code: &str) -> bool {
    AUTH_ERROR_CODES.contains(&code)
        || code.starts_with("InvalidTimeStamp.")
        || code.starts_with("InvalidSecurityToken.")
        || code.starts_with("InvalidAccessKeyId")
}

/// Why an error answer with `status` and `code` is worth retrying, if it is: `Throttling*`
/// codes and HTTP 429 are [`RetryReason::Throttled`]; HTTP 500, 502, 503 and 504 and the
/// codes `ServiceUnavailable` and `InternalError` are [`RetryReason::ServerError`]; any
/// other answer is final (`None`).
#[must_use]
pub fn retry_reason(status: u16, code: &str) -> Option<RetryReason> {
    if code.starts_with("Throttling") {
        return Some(RetryReason::Throttled);
    }
    RetryReason::of_status(status).or_else(|| {
        matches!(code, "ServiceUnavailable" | "InternalError").then_some(RetryReason::ServerError)
    })
}

/// Turns an error answer into the imageshare error (see the module docs).
#[allow(clippy::too_many_arguments)]
#[must_use]
pub fn classify_error(
    provider: Provider,
    action: &str,
    status: u16,
    code: String,
    message: String,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    image: Option<&str>,
) -> Error {
    if code == TOKEN_EXPIRED_CODE {
        return Error::credentials_expired(provider, code, message, request_id);
    }
    if is_auth_code(&code) {
        return Error::auth(provider, code, message, request_id);
    }
    if code == "InvalidImageId.NotFound" {
        if let Some(id) = image {
            return Error::not_found(provider, "image", id);
        }
    }
    let retry = retry_reason(status, &code);
    Error::from(
        ApiError::new(provider, action, status, code, message)
            .with_retry(retry)
            .with_request_id(request_id)
            .with_retry_after(retry_after),
    )
}

/// One share or unshare call that carries an account list: `params` (region, image, ...)
/// plus `list.1..N` of the accounts (at most the per-call maximum of `limits`), reporting
/// `outcome` for every account of the call. ECS and SAS both share this way.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn account_list_call(
    client: &OpenApiClient,
    cx: &CallContext,
    action: &str,
    mut params: Vec<(String, String)>,
    list: &str,
    id: &ImageId,
    limits: &ShareLimits,
    principals: &[Principal],
    outcome: ShareOutcome,
) -> Result<ShareReport> {
    let accounts = limits.principals_for_call(principals)?;
    push_list(&mut params, list, accounts.iter().map(|a| a.id()));
    let answer: crate::model::Empty = client
        .call(
            cx,
            action,
            params,
            CallSpec {
                // Adding or removing the same accounts again converges.
                idempotent: true,
                image: Some(id.as_str()),
            },
        )
        .await?;
    let mut report = ShareReport::new(id.clone()).with_request_id(answer.request_id);
    report.push_all(&accounts, outcome);
    Ok(report)
}

/// Flattens a list as `name.1`, `name.2`, ... (1-based, as the SDKs do).
pub(crate) fn push_list<'a>(
    params: &mut Vec<(String, String)>,
    name: &str,
    values: impl IntoIterator<Item = &'a str>,
) {
    for (i, v) in values.into_iter().enumerate() {
        params.push((format!("{name}.{}", i + 1), v.to_owned()));
    }
}

/// `(key, value)` pairs from string slices.
pub(crate) fn params<const N: usize>(pairs: [(&str, &str); N]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageshare_core::ClientBuilder;

    fn ecs(endpoint: &str) -> Result<crate::EcsImageSharing> {
        crate::EcsImageSharing::builder()
            .region("cn-hangzhou")
            .endpoint(endpoint)
            .credentials(AlibabaCredentials::new("LTAI1", "s"))
            .build()
    }

    #[test]
    fn endpoint_keeps_scheme_host_and_port() {
        let e = ecs("http://127.0.0.1:8080").unwrap();
        assert_eq!(e.client().endpoint(), "http://127.0.0.1:8080");
        let creds = AlibabaCredentials::new("LTAI1", "s");
        let signed = e.client().sign_request(&creds, "X", &[], 0, "n").unwrap();
        assert!(
            signed.url.starts_with("http://127.0.0.1:8080/?"),
            "{}",
            signed.url
        );
        assert_eq!(
            signed.headers.get("host").map(|v| v.to_str().unwrap()),
            Some("127.0.0.1:8080")
        );
        let e = ecs("https://ecs.cn-hangzhou.aliyuncs.com/").unwrap();
        assert_eq!(
            e.client().endpoint(),
            "https://ecs.cn-hangzhou.aliyuncs.com"
        );
        for bad in ["https://ecs.aliyuncs.com/v1", "ecs.aliyuncs.com"] {
            let err = ecs(bad).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidInput { field, .. } if field == "endpoint"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn classifies_codes() {
        let c = |status, code: &str| {
            classify_error(
                crate::ECS,
                "X",
                status,
                code.to_owned(),
                "m".to_owned(),
                Some("r".into()),
                None,
                Some("m-1"),
            )
        };
        let reason = |status, code: &str| RetryReason::of_answer(&c(status, code));
        assert!(matches!(
            c(403, "SignatureDoesNotMatch"),
            Error::Auth { .. }
        ));
        assert!(matches!(
            c(400, "InvalidTimeStamp.Expired"),
            Error::Auth { .. }
        ));
        assert!(matches!(
            c(400, TOKEN_EXPIRED_CODE),
            Error::CredentialsExpired { .. }
        ));
        assert!(matches!(
            c(400, "InvalidSecurityToken.Malformed"),
            Error::Auth { .. }
        ));
        assert!(matches!(
            c(404, "InvalidAccessKeyId.NotFound"),
            Error::Auth { .. }
        ));
        assert!(matches!(
            c(404, "InvalidImageId.NotFound"),
            Error::NotFound { .. }
        ));
        let e = c(400, "Throttling.User");
        assert!(e.is_retryable(), "{e}");
        assert_eq!(reason(400, "Throttling.User"), Some(RetryReason::Throttled));
        assert_eq!(reason(503, "Throttling"), Some(RetryReason::Throttled));
        assert_eq!(reason(429, "HTTP429"), Some(RetryReason::Throttled));
        assert!(c(503, "ServiceUnavailable").is_retryable());
        assert!(c(500, "InternalError").is_retryable());
        assert_eq!(
            reason(400, "ServiceUnavailable"),
            Some(RetryReason::ServerError)
        );
        assert_eq!(reason(200, "InternalError"), Some(RetryReason::ServerError));
        assert_eq!(reason(502, "HTTP502"), Some(RetryReason::ServerError));
        assert_eq!(reason(501, "HTTP501"), None);
        let e = c(404, "InvalidAccount.Forbbiden");
        assert!(!e.is_retryable());
        assert_eq!(RetryReason::of_answer(&e), None);
        assert_eq!(e.code(), Some("InvalidAccount.Forbbiden"));
        // Refused credentials are final, whatever the status.
        assert_eq!(reason(503, "SignatureDoesNotMatch"), None);
    }
}
