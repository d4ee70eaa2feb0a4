//! STS (API `2015-04-01`): `AssumeRole`, `AssumeRoleWithOIDC` and `GetCallerIdentity`,
//! and [`AssumeRoleProvider`], the credentials of a role assumed with other credentials.
//!
//! Wire shapes, from aliyun/credentials-go `credentials/providers/ram_role_arn.go` and
//! `oidc.go` (HEAD 9ac55b4):
//!
//! - `AssumeRole`: `POST /`, the common parameters (`Action`, `Version=2015-04-01`,
//!   `Format=JSON`, `Timestamp`, `SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`,
//!   `SignatureNonce`, `AccessKeyId`, `SecurityToken` when the base credentials have one,
//!   `Signature`) in the query string, the business parameters (`RoleArn`,
//!   `RoleSessionName`, `DurationSeconds`, `Policy`, `ExternalId`) in an
//!   `application/x-www-form-urlencoded` body; the RPC signature v1 covers both
//!   ([`rpc_v1::sign`], the crate's one RPC signer).
//! - `AssumeRoleWithOIDC`: **anonymous** (no `AccessKeyId`, no `Signature`: the OIDC token
//!   is the proof): `POST /?Action=AssumeRoleWithOIDC&Format=JSON&Version=2015-04-01&Timestamp=...`
//!   with `RoleArn`, `OIDCProviderArn`, `OIDCToken`, `RoleSessionName`, `DurationSeconds`
//!   and `Policy` in the form body (`oidc.go`; credentials-python `provider/oidc.py` puts
//!   the same parameters in the query, which keeps the token in URLs: not followed).
//! - `GetCallerIdentity`: signed like any RPC action, no business parameters; answer
//!   `{RequestId, AccountId, Arn, IdentityType, PrincipalId, UserId}`.
//! - Answer of both assume actions: `{RequestId, Credentials: {AccessKeyId,
//!   AccessKeySecret, SecurityToken, Expiration}, AssumedRoleUser: {Arn, AssumedRoleId}}`,
//!   `Expiration` as `YYYY-MM-DDTHH:MM:SSZ`.
//!
//! Endpoint ([`sts_endpoint`], same rule in `ram_role_arn.go` and `oidc.go`): the
//! configured one (`ClientConfig::sts_endpoint()`: the builder's, else
//! `IMAGESHARE_STS_ENDPOINT`), else `https://sts.<region>.aliyuncs.com` where the region
//! is the profile's `sts_region`, else [`STS_REGION_VAR`]; with a region and
//! `enable_vpc` (profile) or [`VPC_ENDPOINT_VAR`]`=true`, `sts-vpc.<region>`; without a
//! region `https://sts.aliyuncs.com`. Defaults: `DurationSeconds` 3600, at least 900
//! (both files); `RoleSessionName` `imageshare-<unix time>` (the libraries use
//! `credentials-go-<µs>` / `credentials-python-<s>`), [`ROLE_SESSION_NAME_VAR`] when set.
//!
//! Errors: every STS refusal becomes `Error::CredentialSource` naming the source, with
//! the STS code verbatim; a transport failure keeps its cause. Nothing carries a secret:
//! the answer structs have no `Debug`, and `HttpRequest`'s `Debug` shows no body.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use imageshare_core::credentials::{
    CredentialsCache, Env, Expiring, ProvideCredentials, ProvideFuture, SharedProvider,
};
use imageshare_core::transport::{
    header_map, ApiCall, HttpRequest, HttpResponse, Method, Transport,
};
use imageshare_core::{
    time, AssumeRole, CallContext, ClientConfig, Clock, Error, Provider, Result, Timestamp,
};
use serde::Deserialize;

use crate::client::decode_response;
use crate::credential::AlibabaCredentials;
use crate::model::Answer;
use crate::signer::rpc_v1::{self, encode_params};

/// The STS API version.
pub const STS_VERSION: &str = "2015-04-01";
/// The STS endpoint without a region (`ram_role_arn.go`, `oidc.go`).
pub const DEFAULT_STS_ENDPOINT: &str = "https://sts.aliyuncs.com";
/// The region of the STS endpoint (`sts.<region>.aliyuncs.com`), when no profile names one.
pub const STS_REGION_VAR: &str = "ALIBABA_CLOUD_STS_REGION";
/// `true`: the VPC STS endpoint `sts-vpc.<region>.aliyuncs.com` (with a region only).
pub const VPC_ENDPOINT_VAR: &str = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";
/// The role session name when none is given (`ram_role_arn.go`; `oidc.py`).
pub const ROLE_SESSION_NAME_VAR: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";
/// `DurationSeconds` when none is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(3600);
/// The shortest `DurationSeconds` STS grants (the libraries refuse less).
pub const MIN_DURATION: Duration = Duration::from_secs(900);

/// What the credential sources need to make their calls: the adapter's provider (named
/// in errors and spans), its shared configuration (STS and metadata endpoints, clock,
/// environment) and its transport (timeouts, retries, tracing).
#[derive(Clone)]
pub struct Services {
    provider: Provider,
    config: Arc<ClientConfig>,
    transport: Transport,
}

impl fmt::Debug for Services {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Services")
            .field("provider", &self.provider)
            .field("sts_endpoint", &self.config.sts_endpoint())
            .field("metadata_endpoint", &self.config.metadata_endpoint())
            .finish_non_exhaustive()
    }
}

impl Services {
    /// The services of `provider` over `config`, calling through `transport`.
    #[must_use]
    pub fn new(provider: Provider, config: &ClientConfig, transport: Transport) -> Self {
        Services {
            provider,
            config: Arc::new(config.clone()),
            transport,
        }
    }

    /// The services of `provider` over `config`, with a transport of its own (no rate
    /// table).
    pub fn from_config(provider: Provider, config: &ClientConfig) -> Result<Self> {
        let transport = config.transport(provider, Default::default())?;
        Ok(Self::new(provider, config, transport))
    }

    /// The provider named in errors.
    #[must_use]
    pub fn provider(&self) -> Provider {
        self.provider
    }
    /// The environment (token files are read from it on every refresh).
    #[must_use]
    pub fn env(&self) -> &dyn Env {
        self.config.env()
    }
    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &Clock {
        self.config.clock()
    }
    /// The transport.
    #[must_use]
    pub fn transport(&self) -> &Transport {
        &self.transport
    }
    /// The configured metadata endpoint, if any.
    #[must_use]
    pub fn metadata_endpoint(&self) -> Option<String> {
        self.config.metadata_endpoint()
    }
    /// The STS client for a source naming `sts_region` and `enable_vpc` (a profile's);
    /// see [`sts_endpoint`].
    #[must_use]
    pub fn sts(&self, sts_region: Option<&str>, enable_vpc: bool) -> Sts {
        Sts {
            endpoint: sts_endpoint(
                self.config.sts_endpoint(),
                self.env(),
                sts_region,
                enable_vpc,
            ),
            services: self.clone(),
        }
    }
}

/// The STS endpoint (`scheme://host[:port]`): `configured`, else the regional or VPC
/// endpoint, else [`DEFAULT_STS_ENDPOINT`]; see the [module docs](self).
pub fn sts_endpoint(
    configured: Option<String>,
    env: &dyn Env,
    sts_region: Option<&str>,
    enable_vpc: bool,
) -> String {
    if let Some(e) = configured {
        return e.trim_end_matches('/').to_owned();
    }
    let vpc = enable_vpc
        || env
            .var(VPC_ENDPOINT_VAR)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let prefix = if vpc { "sts-vpc" } else { "sts" };
    match sts_region
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .or_else(|| env.var(STS_REGION_VAR))
    {
        Some(region) => format!("https://{prefix}.{region}.aliyuncs.com"),
        None => DEFAULT_STS_ENDPOINT.to_owned(),
    }
}

/// The role to assume and how (`AssumeRole` / `AssumeRoleWithOIDC` parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRequest {
    /// `RoleArn`: `acs:ram::<account>:role/<name>`.
    pub arn: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// `DurationSeconds`.
    pub duration: Duration,
    /// `Policy`, a session policy (JSON).
    pub policy: Option<String>,
    /// `ExternalId` (`AssumeRole` only).
    pub external_id: Option<String>,
}

impl RoleRequest {
    /// Role `arn` with the defaults: session name `session_name`, else
    /// [`ROLE_SESSION_NAME_VAR`], else `imageshare-<unix time>`; one hour.
    pub fn new(
        arn: impl Into<String>,
        session_name: Option<&str>,
        env: &dyn Env,
        clock: &Clock,
    ) -> Self {
        let session_name = session_name
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .or_else(|| env.var(ROLE_SESSION_NAME_VAR))
            .unwrap_or_else(|| format!("imageshare-{}", clock.now()));
        RoleRequest {
            arn: arn.into(),
            session_name,
            duration: DEFAULT_DURATION,
            policy: None,
            external_id: None,
        }
    }

    /// The role of a `ClientConfig::assume_role()`.
    pub fn from_assume_role(role: &AssumeRole, env: &dyn Env, clock: &Clock) -> Self {
        let mut r = Self::new(role.arn.clone(), role.session_name.as_deref(), env, clock);
        r.duration = role.duration.unwrap_or(DEFAULT_DURATION);
        r.policy = role.policy.clone();
        r.external_id = role.external_id.clone();
        r
    }

    /// The same, valid `seconds` (0: the default).
    #[must_use]
    pub fn with_duration_seconds(mut self, seconds: u64) -> Self {
        if seconds > 0 {
            self.duration = Duration::from_secs(seconds);
        }
        self
    }

    /// The same, with session policy `policy` (empty: none).
    #[must_use]
    pub fn with_policy(mut self, policy: Option<&str>) -> Self {
        self.policy = policy.filter(|p| !p.is_empty()).map(str::to_owned);
        self
    }

    /// The same, with external id `id` (empty: none).
    #[must_use]
    pub fn with_external_id(mut self, id: Option<&str>) -> Self {
        self.external_id = id.filter(|p| !p.is_empty()).map(str::to_owned);
        self
    }

    fn check(&self) -> std::result::Result<(), String> {
        if self.arn.is_empty() {
            return Err("the role ARN is empty".to_owned());
        }
        if self.duration < MIN_DURATION {
            return Err(format!(
                "DurationSeconds {} is below the minimum of {} s",
                self.duration.as_secs(),
                MIN_DURATION.as_secs()
            ));
        }
        Ok(())
    }

    fn params(&self, with_external_id: bool) -> Vec<(String, String)> {
        let mut p = vec![
            ("RoleArn".to_owned(), self.arn.clone()),
            ("RoleSessionName".to_owned(), self.session_name.clone()),
            (
                "DurationSeconds".to_owned(),
                self.duration.as_secs().to_string(),
            ),
        ];
        if let Some(policy) = &self.policy {
            p.push(("Policy".to_owned(), policy.clone()));
        }
        if with_external_id {
            if let Some(id) = &self.external_id {
                p.push(("ExternalId".to_owned(), id.clone()));
            }
        }
        p
    }
}

/// The `Credentials` of an assume answer. No `Debug`: it holds secrets.
#[derive(Deserialize)]
struct StsCredentials {
    #[serde(rename = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "AccessKeySecret")]
    access_key_secret: String,
    #[serde(rename = "SecurityToken")]
    security_token: String,
    #[serde(rename = "Expiration")]
    expiration: String,
}

/// The answer of `AssumeRole` and `AssumeRoleWithOIDC`. No `Debug`: it holds secrets.
#[derive(Deserialize)]
struct AssumeAnswer {
    #[serde(rename = "RequestId", default)]
    request_id: String,
    #[serde(rename = "Credentials")]
    credentials: StsCredentials,
}

impl Answer for AssumeAnswer {
    fn request_id(&self) -> &str {
        &self.request_id
    }
}

/// The answer of `GetCallerIdentity`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CallerIdentityAnswer {
    /// The request id.
    #[serde(rename = "RequestId", default)]
    pub request_id: String,
    /// The account the credentials act as.
    #[serde(rename = "AccountId", default)]
    pub account_id: String,
    /// The principal's ARN.
    #[serde(rename = "Arn", default)]
    pub arn: String,
    /// `Account`, `RAMUser` or `AssumedRoleUser`.
    #[serde(rename = "IdentityType", default)]
    pub identity_type: String,
    /// The principal id.
    #[serde(rename = "PrincipalId", default)]
    pub principal_id: String,
    /// The RAM user id (or role id).
    #[serde(rename = "UserId", default)]
    pub user_id: String,
}

impl Answer for CallerIdentityAnswer {
    fn request_id(&self) -> &str {
        &self.request_id
    }
}

/// Temporary credentials with their expiry, from an assume answer or a metadata / URI
/// answer; `what` names the answer in the error.
pub(crate) fn temporary(
    id: String,
    secret: String,
    token: String,
    expiration: &str,
) -> std::result::Result<Expiring<AlibabaCredentials>, String> {
    let expires = Timestamp::parse_rfc3339(expiration)
        .ok_or_else(|| format!("the answer's Expiration {expiration:?} is not a date-time"))?;
    if id.is_empty() || secret.is_empty() || token.is_empty() {
        return Err(
            "the answer has an empty AccessKeyId, AccessKeySecret or SecurityToken".to_owned(),
        );
    }
    Ok(Expiring::until(
        AlibabaCredentials::sts(id, secret, token),
        expires,
    ))
}

/// A credential-source error of `provider`'s `source`: `message`, with the cause's code.
/// The cause is the error's `source()`, not repeated in `message` (a chain printer such as
/// `error::report` writes it once, after the message).
pub(crate) fn source_error(
    provider: Provider,
    source: &str,
    message: impl Into<String>,
    cause: Option<Error>,
) -> Error {
    Error::credential_source(
        provider,
        source,
        message,
        cause.as_ref().and_then(Error::code).map(str::to_owned),
        cause.map(Box::new),
    )
}

/// An STS endpoint, called through the adapter's transport.
#[derive(Clone)]
pub struct Sts {
    services: Services,
    endpoint: String,
}

impl fmt::Debug for Sts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sts")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl Sts {
    /// The endpoint, `scheme://host[:port]`.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A signed `POST /` of `action`: common parameters in the query, `business` ones in
    /// the form body, one RPC v1 signature over both.
    fn signed_form(
        &self,
        credentials: &AlibabaCredentials,
        action: &str,
        business: &[(String, String)],
        unix: u64,
        nonce: &str,
    ) -> Result<HttpRequest> {
        let mut req = rpc_v1::RpcRequest::new(action, STS_VERSION).method("POST");
        for (k, v) in business {
            req = req.param(k.clone(), v.clone());
        }
        let signed = rpc_v1::sign(credentials, &req, unix, nonce);
        let (form, query): (Vec<_>, Vec<_>) = signed
            .params
            .into_iter()
            .partition(|(k, _)| business.iter().any(|(b, _)| b == k));
        Ok(HttpRequest {
            method: Method::Post,
            url: format!("{}/?{}", self.endpoint, encode_params(&query)),
            headers: header_map([
                ("accept", "application/json"),
                ("content-type", "application/x-www-form-urlencoded"),
            ])?,
            body: Bytes::from(encode_params(&form)),
        })
    }

    /// The `AssumeRole` request signed with `base` at `unix` with `nonce` (pure).
    pub fn assume_role_request(
        &self,
        base: &AlibabaCredentials,
        role: &RoleRequest,
        unix: u64,
        nonce: &str,
    ) -> Result<HttpRequest> {
        self.signed_form(base, "AssumeRole", &role.params(true), unix, nonce)
    }

    /// The anonymous `AssumeRoleWithOIDC` request at `unix` (pure).
    pub fn oidc_request(
        &self,
        role: &RoleRequest,
        oidc_provider_arn: &str,
        oidc_token: &str,
        unix: u64,
    ) -> Result<HttpRequest> {
        let query = [
            ("Action", "AssumeRoleWithOIDC".to_owned()),
            ("Format", "JSON".to_owned()),
            ("Timestamp", time::format_iso8601(unix)),
            ("Version", STS_VERSION.to_owned()),
        ];
        let mut form = role.params(false);
        form.push(("OIDCProviderArn".to_owned(), oidc_provider_arn.to_owned()));
        form.push(("OIDCToken".to_owned(), oidc_token.to_owned()));
        Ok(HttpRequest {
            method: Method::Post,
            url: format!("{}/?{}", self.endpoint, encode_params(&query)),
            headers: header_map([
                ("accept", "application/json"),
                ("content-type", "application/x-www-form-urlencoded"),
            ])?,
            body: Bytes::from(encode_params(&form)),
        })
    }

    /// The `GetCallerIdentity` request signed with `credentials` (pure).
    pub fn caller_identity_request(
        &self,
        credentials: &AlibabaCredentials,
        unix: u64,
        nonce: &str,
    ) -> Result<HttpRequest> {
        self.signed_form(credentials, "GetCallerIdentity", &[], unix, nonce)
    }

    async fn call<T: Answer + Send>(
        &self,
        cx: &CallContext,
        action: &str,
        idempotent: bool,
        build: impl FnMut(u32) -> Result<HttpRequest> + Send,
    ) -> Result<T> {
        let provider = self.services.provider;
        self.services
            .transport
            .call(
                cx,
                ApiCall {
                    provider,
                    action,
                    region: "sts",
                    idempotent,
                },
                build,
                |resp: HttpResponse| decode_response::<T>(provider, action, None, resp),
            )
            .await
    }

    /// `AssumeRole` with `base`: the role's temporary credentials. Errors are the STS
    /// answer's, unwrapped (`InvalidSecurityToken.Expired` of temporary `base` credentials
    /// stays `Error::CredentialsExpired`, so that their cache refreshes them).
    pub async fn assume_role(
        &self,
        base: &AlibabaCredentials,
        role: &RoleRequest,
    ) -> Result<Expiring<AlibabaCredentials>> {
        let clock = self.services.clock().clone();
        let answer: AssumeAnswer = self
            .call(&CallContext::new(), "AssumeRole", true, |_| {
                self.assume_role_request(base, role, clock.now(), &time::nonce())
            })
            .await?;
        self.credentials_of("AssumeRole", answer)
    }

    /// `AssumeRoleWithOIDC` with `oidc_token`: the role's temporary credentials.
    pub async fn assume_role_with_oidc(
        &self,
        role: &RoleRequest,
        oidc_provider_arn: &str,
        oidc_token: &str,
    ) -> Result<Expiring<AlibabaCredentials>> {
        let clock = self.services.clock().clone();
        let answer: AssumeAnswer = self
            .call(&CallContext::new(), "AssumeRoleWithOIDC", true, |_| {
                self.oidc_request(role, oidc_provider_arn, oidc_token, clock.now())
            })
            .await?;
        self.credentials_of("AssumeRoleWithOIDC", answer)
    }

    /// `GetCallerIdentity` with `credentials`, in `cx`.
    pub async fn caller_identity(
        &self,
        cx: &CallContext,
        credentials: &AlibabaCredentials,
    ) -> Result<CallerIdentityAnswer> {
        let clock = self.services.clock().clone();
        self.call(cx, "GetCallerIdentity", true, |_| {
            self.caller_identity_request(credentials, clock.now(), &time::nonce())
        })
        .await
    }

    fn credentials_of(
        &self,
        action: &str,
        a: AssumeAnswer,
    ) -> Result<Expiring<AlibabaCredentials>> {
        let c = a.credentials;
        temporary(
            c.access_key_id,
            c.access_key_secret,
            c.security_token,
            &c.expiration,
        )
        .map_err(|why| {
            Error::decode(
                self.services.provider,
                action,
                why,
                Some(a.request_id).filter(|r| !r.is_empty()),
            )
        })
    }
}

/// The credentials of a role assumed (STS `AssumeRole`) with base credentials, which are
/// cached and refreshed themselves (a chained role over an instance role, say).
pub struct AssumeRoleProvider {
    base: CredentialsCache<AlibabaCredentials>,
    sts: Sts,
    role: RoleRequest,
    source: String,
}

impl fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleProvider")
            .field("role", &self.role.arn)
            .field("session", &self.role.session_name)
            .field("sts", &self.sts)
            .field("base", &self.base)
            .finish()
    }
}

impl AssumeRoleProvider {
    /// Assumes `role` at `sts` with the credentials of `base`, found in `base_source`.
    pub fn new(
        base: SharedProvider<AlibabaCredentials>,
        base_source: &str,
        sts: Sts,
        role: RoleRequest,
    ) -> Self {
        let services = &sts.services;
        let base = CredentialsCache::new(services.provider, base, services.clock().clone())
            .with_source(base_source);
        AssumeRoleProvider {
            source: format!("role {} assumed with {base_source}", role.arn),
            base,
            sts,
            role,
        }
    }

    /// The same as a [`SharedProvider`].
    pub fn shared(self) -> SharedProvider<AlibabaCredentials> {
        Arc::new(self)
    }
}

impl ProvideCredentials<AlibabaCredentials> for AssumeRoleProvider {
    fn provide(&self) -> ProvideFuture<'_, AlibabaCredentials> {
        Box::pin(async move {
            let provider = self.sts.services.provider;
            if let Err(why) = self.role.check() {
                return Err(source_error(provider, &self.source, why, None));
            }
            self.base
                .call(
                    |base| async move { self.sts.assume_role(&base.credentials, &self.role).await },
                )
                .await
                .map_err(|e| {
                    source_error(
                        provider,
                        &self.source,
                        format!("STS AssumeRole at {} failed", self.sts.endpoint),
                        Some(e),
                    )
                })
        })
    }

    fn source(&self) -> String {
        self.source.clone()
    }
}
