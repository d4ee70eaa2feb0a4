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
//! call is about ([`Error::NotFound`]). `Throttling*` codes and HTTP 5xx are retryable;
//! an `x-acs-retry-after` header (milliseconds, as the official SDK sleeps it) is honoured.

use std::fmt;
use std::time::Duration;

use imageshare_core::credentials::{Env, OsEnv};
use imageshare_core::ratelimit::{Rate, RateLimits};
use imageshare_core::transport::{
    parse_endpoint, record_request_id, status_is_retryable, ApiCall, ClientOptions, HttpRequest,
    HttpResponse, RetryConfig, Transport,
};
use imageshare_core::{time, ApiError, Error, Provider, Region, Result};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::credential::{resolve_credentials, resolve_region, AlibabaCredentials};
use crate::signer::{acs3, rpc_v1};

/// ECS API version (alibaba.md 1).
pub const ECS_VERSION: &str = "2014-05-26";
/// SWAS-OPEN (Simple Application Server) API version (alibaba.md 3).
pub const SAS_VERSION: &str = "2020-06-01";

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

/// The endpoint a client talks to: scheme and authority, no path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoint {
    /// `scheme://authority`.
    base: String,
    /// `authority` (`host` or `host:port`), the value of the signed `host` header.
    authority: String,
}

impl Endpoint {
    fn parse(endpoint: &str) -> Result<Self> {
        let url = parse_endpoint(endpoint)?;
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err(Error::invalid_input(
                "endpoint",
                format!(
                    "{endpoint:?} has a path or query; Alibaba RPC APIs live at \"/\": give \
                     only scheme, host and port"
                ),
            ));
        }
        let host = url.host_str().unwrap_or_default();
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(Self {
            base: format!("{}://{authority}", url.scheme()),
            authority,
        })
    }
}

/// Builder settings shared by the ECS and SAS builders.
#[derive(Clone, Default)]
pub(crate) struct ClientConfig {
    pub(crate) region: Option<Region>,
    pub(crate) endpoint: Option<String>,
    pub(crate) credentials: Option<AlibabaCredentials>,
    pub(crate) signature: SignatureVersion,
    pub(crate) options: ClientOptions,
    pub(crate) retry: RetryConfig,
    /// A whole rate-limit table replacing the product's defaults.
    pub(crate) rate_limits: Option<RateLimits>,
    /// Per-action rates applied on top of the table (defaults or `rate_limits`).
    pub(crate) rate_overrides: Vec<(String, Rate)>,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            // AlibabaCredentials' Debug prints the secret and the token as `***`.
            .field("credentials", &self.credentials)
            .field("signature", &self.signature)
            .field("options", &self.options)
            .field("retry", &self.retry)
            .field("rate_limits", &self.rate_limits)
            .field("rate_overrides", &self.rate_overrides)
            .finish()
    }
}

impl ClientConfig {
    /// A configuration pre-filled from `env`: the credential chain and the region
    /// variables (alibaba.md 6).
    pub(crate) fn from_env(provider: Provider, env: &dyn Env) -> Result<Self> {
        let creds = resolve_credentials(provider, None, env)?;
        Ok(Self {
            region: resolve_region(env),
            credentials: Some(creds.credentials),
            ..Self::default()
        })
    }

    /// Validates the settings and builds the client. Without explicit credentials the
    /// credential chain runs on the process environment.
    pub(crate) fn build(
        self,
        provider: Provider,
        version: &'static str,
        default_endpoint: fn(&str) -> String,
    ) -> Result<OpenApiClient> {
        let region = self
            .region
            .filter(|r| !r.as_str().is_empty())
            .ok_or_else(|| {
                Error::invalid_input(
                    "region",
                    format!(
                        "no {provider} region given: call .region(\"cn-hangzhou\") or set \
                     ALIBABA_CLOUD_REGION_ID"
                    ),
                )
            })?;
        region.check(provider, "region")?;
        let endpoint = match &self.endpoint {
            Some(e) => Endpoint::parse(e)?,
            None => Endpoint::parse(&default_endpoint(region.as_str()))?,
        };
        let credentials = resolve_credentials(provider, self.credentials, &OsEnv)?.credentials;
        let defaults = match provider {
            Provider::AlibabaSas => crate::limits::sas_rate_limits(),
            _ => crate::limits::ecs_rate_limits(),
        };
        let overrides = if self.rate_limits.is_some() || !self.rate_overrides.is_empty() {
            let mut table = self.rate_limits.unwrap_or_else(|| defaults.clone());
            for (action, rate) in self.rate_overrides {
                table.set(action, rate);
            }
            Some(table)
        } else {
            None
        };
        let transport = Transport::new(self.options, self.retry)?
            .with_rate_limits(provider, defaults, overrides)?;
        Ok(OpenApiClient {
            provider,
            version,
            region,
            endpoint,
            credentials,
            signature: self.signature,
            transport,
        })
    }
}

/// What the client needs to know about one call besides its parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallContext<'a> {
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
    credentials: AlibabaCredentials,
    signature: SignatureVersion,
    transport: Transport,
}

impl fmt::Debug for OpenApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenApiClient")
            .field("provider", &self.provider)
            .field("version", &self.version)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint.base)
            .field("access_key_id", &self.credentials.access_key_id)
            .field("sts", &self.credentials.is_sts())
            .field("signature", &self.signature)
            .field("transport", &self.transport)
            .finish()
    }
}

impl OpenApiClient {
    /// The product this client talks to.
    pub fn provider(&self) -> Provider {
        self.provider
    }
    /// The API version sent with every call.
    pub fn version(&self) -> &'static str {
        self.version
    }
    /// The region the client is bound to (sent as `RegionId`).
    pub fn region(&self) -> &Region {
        &self.region
    }
    /// The endpoint, `scheme://host[:port]`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint.base
    }
    /// The signature version in use.
    pub fn signature_version(&self) -> SignatureVersion {
        self.signature
    }
    /// The access key id in use (never the secret).
    pub fn access_key_id(&self) -> &str {
        &self.credentials.access_key_id
    }

    /// The exact HTTP request this client sends for `action` with `params` at `unix`
    /// seconds with `nonce`: `POST /?<params>` with an empty body, signed with the
    /// configured signature version. Pure, so tests can pin it.
    pub fn sign_request(
        &self,
        action: &str,
        params: &[(String, String)],
        unix: u64,
        nonce: &str,
    ) -> HttpRequest {
        match self.signature {
            SignatureVersion::Acs3 => {
                let mut query = params.to_vec();
                query.sort();
                let mut req =
                    acs3::Acs3Request::new(self.endpoint.authority.clone(), action, self.version)
                        .header("accept", "application/json");
                if self.credentials.is_sts() {
                    // The official SDK also sends (and signs) the key id with a token.
                    req = req.header("x-acs-accesskey-id", self.credentials.access_key_id.clone());
                }
                for (k, v) in &query {
                    req = req.query(k.clone(), v.clone());
                }
                let signed = acs3::sign(&self.credentials, &req, unix, nonce);
                HttpRequest {
                    method: "POST".to_owned(),
                    url: format!("{}/?{}", self.endpoint.base, rpc_v1::encode_params(&query)),
                    headers: signed.headers,
                    body: Vec::new(),
                }
            }
            SignatureVersion::RpcV1 => {
                let mut req = rpc_v1::RpcRequest::new(action, self.version).method("POST");
                for (k, v) in params {
                    req = req.param(k.clone(), v.clone());
                }
                let signed = rpc_v1::sign(&self.credentials, &req, unix, nonce);
                HttpRequest {
                    method: "POST".to_owned(),
                    url: format!("{}/?{}", self.endpoint.base, signed.query_string()),
                    headers: vec![("accept".to_owned(), "application/json".to_owned())],
                    body: Vec::new(),
                }
            }
        }
    }

    /// Calls `action` with `params` (retries included) and decodes the JSON answer.
    pub(crate) async fn call<T: DeserializeOwned + Send>(
        &self,
        action: &str,
        params: Vec<(String, String)>,
        ctx: CallContext<'_>,
    ) -> Result<T> {
        let api = ApiCall {
            provider: self.provider,
            action,
            region: self.region.as_str(),
            idempotent: ctx.idempotent,
        };
        let provider = self.provider;
        self.transport
            .call(
                api,
                |_attempt| Ok(self.sign_request(action, &params, time::now_unix(), &time::nonce())),
                |resp| decode_response(provider, action, ctx.image, resp),
            )
            .await
    }
}

/// Reads `RequestId` (or `requestId`) from a JSON body, if there is one.
#[derive(Deserialize)]
struct RequestIdOnly {
    #[serde(rename = "RequestId", alias = "requestId", default)]
    request_id: Option<String>,
}

/// Decodes one HTTP answer of `action`: the JSON body on 2xx, else the classified error.
/// `image` is the image the call is about (for `InvalidImageId.NotFound`).
pub fn decode_response<T: DeserializeOwned>(
    provider: Provider,
    action: &str,
    image: Option<&str>,
    resp: HttpResponse,
) -> Result<T> {
    let request_id = serde_json::from_slice::<RequestIdOnly>(&resp.body)
        .ok()
        .and_then(|r| r.request_id);
    if let Some(id) = &request_id {
        record_request_id(id);
    }
    if (200..300).contains(&resp.status) {
        return serde_json::from_slice(&resp.body).map_err(|e| Error::Decode {
            provider,
            action: action.to_owned(),
            message: format!("{e} (HTTP {}, {} bytes)", resp.status, resp.body.len()),
            request_id,
        });
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
    let request_id = request_id.or_else(|| text(["RequestId", "requestId"]));
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
pub fn is_auth_code(code: &str) -> bool {
    AUTH_ERROR_CODES.contains(&code)
        || code.starts_with("InvalidTimeStamp.")
        || code.starts_with("InvalidSecurityToken.")
        || code.starts_with("InvalidAccessKeyId")
}

/// True for codes and statuses worth retrying: `Throttling*`, HTTP 5xx (and 429).
pub fn is_retryable(status: u16, code: &str) -> bool {
    code.starts_with("Throttling")
        || code == "ServiceUnavailable"
        || code == "InternalError"
        || status_is_retryable(status)
}

/// Turns an error answer into the imageshare error (see the module docs).
#[allow(clippy::too_many_arguments)]
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
    if is_auth_code(&code) {
        return Error::Auth {
            provider,
            code,
            message,
            request_id,
        };
    }
    if code == "InvalidImageId.NotFound" {
        if let Some(id) = image {
            return Error::NotFound {
                provider,
                what: "image",
                id: id.to_owned(),
            };
        }
    }
    Error::Api(ApiError {
        provider,
        action: action.to_owned(),
        status,
        retryable: is_retryable(status, &code),
        code,
        message,
        request_id,
        retry_after,
    })
}

/// Flattens a list as `name.1`, `name.2`, ... (1-based, as the SDKs do).
/// One share or unshare call that carries an account list: `params` (region, image, ...)
/// plus `list.1..N` of the accounts (at most the per-call maximum of `limits`), reporting
/// `outcome` for every account of the call. ECS and SAS both share this way.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn account_list_call(
    client: &OpenApiClient,
    action: &str,
    mut params: Vec<(String, String)>,
    list: &str,
    id: &imageshare_core::ImageId,
    limits: &imageshare_core::ShareLimits,
    principals: &[imageshare_core::Principal],
    outcome: imageshare_core::ShareOutcome,
) -> Result<imageshare_core::ShareReport> {
    let accounts = limits.principals_for_call(principals)?;
    push_list(&mut params, list, accounts.iter().map(|a| a.id()));
    let answer: crate::model::Empty = client
        .call(
            action,
            params,
            CallContext {
                // Adding or removing the same accounts again converges.
                idempotent: true,
                image: Some(id.as_str()),
            },
        )
        .await?;
    let mut report =
        imageshare_core::ShareReport::new(id.clone()).with_request_id(answer.request_id);
    report.push_all(&accounts, outcome);
    Ok(report)
}

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

    #[test]
    fn endpoint_keeps_scheme_host_and_port() {
        let e = Endpoint::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(e.base, "http://127.0.0.1:8080");
        assert_eq!(e.authority, "127.0.0.1:8080");
        let e = Endpoint::parse("https://ecs.cn-hangzhou.aliyuncs.com/").unwrap();
        assert_eq!(e.base, "https://ecs.cn-hangzhou.aliyuncs.com");
        assert_eq!(e.authority, "ecs.cn-hangzhou.aliyuncs.com");
        assert!(Endpoint::parse("https://ecs.aliyuncs.com/v1").is_err());
        assert!(Endpoint::parse("ecs.aliyuncs.com").is_err());
    }

    #[test]
    fn classifies_codes() {
        let c = |status, code: &str| {
            classify_error(
                Provider::AlibabaEcs,
                "X",
                status,
                code.to_owned(),
                "m".to_owned(),
                Some("r".into()),
                None,
                Some("m-1"),
            )
        };
        assert!(matches!(
            c(403, "SignatureDoesNotMatch"),
            Error::Auth { .. }
        ));
        assert!(matches!(
            c(400, "InvalidTimeStamp.Expired"),
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
        assert!(c(503, "ServiceUnavailable").is_retryable());
        assert!(c(500, "InternalError").is_retryable());
        let e = c(404, "InvalidAccount.Forbbiden");
        assert!(!e.is_retryable());
        assert_eq!(e.code(), Some("InvalidAccount.Forbbiden"));
    }
}
