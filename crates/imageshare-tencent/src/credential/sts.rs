//! Tencent Cloud STS (service `sts`, version `2018-08-13`, host `sts.tencentcloudapi.com`):
//! `AssumeRole` ([`AssumeRoleProvider`]), `AssumeRoleWithWebIdentity` (the TKE OIDC
//! source, [`super::oidc`]) and `GetCallerIdentity` (whoami, [`TencentClient::caller_identity`]).
//!
//! | rule | official source |
//! |---|---|
//! | service `sts`, version `2018-08-13`, host `sts.tencentcloudapi.com`, region `ap-guangzhou` | Go `tencentcloud/common/role_arn_provider.go` (constants); Python `tencentcloud/common/credential.py` `STSAssumeRoleCredential` |
//! | `AssumeRole` is TC3-signed with the long-term keys; body `RoleArn`, `RoleSessionName`, `DurationSeconds` (+ `Policy`, `ExternalId`) | Go `role_arn_provider.go`; Go `tencentcloud/sts/v20180813/models.go` `AssumeRoleRequestParams` |
//! | `Policy` is URL-encoded by the caller ("该参数需要做urlencode") | `models.go` `AssumeRoleRequestParams.Policy` |
//! | answer `Credentials{Token, TmpSecretId, TmpSecretKey}`, `ExpiredTime` (unix), `Expiration` (ISO 8601) | `models.go` `AssumeRoleResponseParams`, `Credentials` |
//! | `AssumeRoleWithWebIdentity` is sent unsigned: `Authorization: SKIP` | Go `oidc_role_arn_provider.go` (`request.SetSkipSign(true)`), Go `tencentcloud/common/client.go` `sendWithoutSignature`; Python `OIDCRoleArnCredential.refresh` (`SkipSign`) |
//! | `GetCallerIdentity` answers `Arn`, `AccountId`, `UserId`, `PrincipalId`, `Type` | `models.go` `GetCallerIdentityResponseParams` |
//!
//! Differences from the SDKs, on purpose: the session name defaults to
//! `imageshare-<unix seconds>` (the SDKs use `tencentcloud-go-sdk-<µs>`); no
//! `DurationSeconds` is sent unless one is asked for (STS then applies its default, 7200 s,
//! which is what the SDKs send); refresh follows the core
//! [`CredentialsCache`](imageshare_core::credentials::CredentialsCache) rule rather than the
//! SDKs' (Go refreshes role credentials after a tenth of their lifetime).
//!
//! A refused `AssumeRole` (a role that does not trust the caller, an unknown role) is
//! [`Error::CredentialSource`] naming the role and the keys it was assumed with, with STS's
//! code verbatim; the STS answer is its `cause`.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use imageshare_core::credentials::{Expiring, ProvideCredentials, ProvideFuture, SharedProvider};
use imageshare_core::transport::{header_map, ApiCall, Endpoint, HttpRequest, Method, Transport};
use imageshare_core::{
    AssumeRole, CallContext, CallerIdentity, Clock, Error, Provider, RateLimits, Region, Result,
    Secret, Timestamp,
};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

use super::{Services, TencentCredentials};
use crate::client::{decode, CallOptions, ServiceSpec, TencentClient};

/// STS API version.
pub const STS_VERSION: &str = "2018-08-13";
/// The region the SDKs send STS calls to (`region = regions.Guangzhou`).
pub const STS_REGION: &str = "ap-guangzhou";
/// The prefix of the default `RoleSessionName` (`imageshare-<unix seconds>`).
pub const DEFAULT_SESSION_PREFIX: &str = "imageshare-";
/// The `DurationSeconds` the SDKs send for `AssumeRoleWithWebIdentity`
/// (`defaultDurationSeconds = 7200`).
pub const DEFAULT_DURATION_SECONDS: u64 = 7200;
/// The longest `DurationSeconds` STS accepts (43200 s, `models.go`).
pub const MAX_DURATION_SECONDS: u64 = 43_200;

/// The STS service for `provider` (named in errors). `limits` and the rate table are not
/// used by STS calls (no region check, no rate limiter).
#[must_use]
pub fn sts_spec(provider: Provider) -> ServiceSpec {
    ServiceSpec {
        provider,
        service: "sts",
        version: STS_VERSION,
        host: super::services::STS_HOST,
        intl_host: super::services::STS_HOST,
        item: "role",
        limits: &crate::CVM_LIMITS,
        rate_limits: RateLimits::none,
    }
}

/// `imageshare-<unix seconds>`.
#[must_use]
pub fn default_session_name(clock: &Clock) -> String {
    format!("{DEFAULT_SESSION_PREFIX}{}", clock.now())
}

/// Characters kept as they are when URL-encoding a policy (RFC 3986 unreserved).
const POLICY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The body of `AssumeRole`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleRequest<'a> {
    role_arn: &'a str,
    role_session_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<&'a str>,
}

/// The body of `AssumeRoleWithWebIdentity`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WebIdentityRequest<'a> {
    pub(crate) provider_id: &'a str,
    pub(crate) web_identity_token: &'a str,
    pub(crate) role_arn: &'a str,
    pub(crate) role_session_name: &'a str,
    pub(crate) duration_seconds: u64,
}

/// `Credentials` of an STS answer.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsKeys {
    #[serde(default)]
    token: String,
    #[serde(default)]
    tmp_secret_id: String,
    #[serde(default)]
    tmp_secret_key: String,
}

/// The answer of `AssumeRole` and `AssumeRoleWithWebIdentity`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StsCredentialsAnswer {
    credentials: Option<StsKeys>,
    #[serde(default)]
    expired_time: Option<u64>,
    #[serde(default)]
    expiration: Option<String>,
}

impl fmt::Debug for StsCredentialsAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsCredentialsAnswer")
            .field("expired_time", &self.expired_time)
            .finish_non_exhaustive()
    }
}

impl StsCredentialsAnswer {
    /// The temporary credentials and their expiry; an answer without them is
    /// [`Error::CredentialSource`] from `source`.
    pub(crate) fn into_expiring(
        self,
        provider: Provider,
        source: &str,
        action: &str,
    ) -> Result<Expiring<TencentCredentials>> {
        let missing = |what: &str| {
            Error::credential_source(
                provider,
                source,
                format!("STS {action} answered without {what}"),
                None,
                None,
            )
        };
        let keys = self.credentials.ok_or_else(|| missing("Credentials"))?;
        if keys.tmp_secret_id.is_empty() || keys.tmp_secret_key.is_empty() {
            return Err(missing("Credentials.TmpSecretId / TmpSecretKey"));
        }
        let expires = self
            .expired_time
            .and_then(|t| Timestamp::from_reported_unix("ExpiredTime", t))
            .or_else(|| {
                self.expiration
                    .as_deref()
                    .and_then(|t| Timestamp::from_reported("Expiration", t))
            })
            .ok_or_else(|| missing("ExpiredTime or Expiration"))?;
        let mut creds =
            TencentCredentials::new(keys.tmp_secret_id, Secret::new(keys.tmp_secret_key));
        if !keys.token.is_empty() {
            creds = creds.with_token(Secret::new(keys.token));
        }
        Ok(Expiring::until(creds, expires))
    }
}

/// The answer of `GetCallerIdentity`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallerIdentityAnswer {
    /// The caller's ARN (`qcs::cam::uin/<owner>:roleName/<role>`, ...).
    #[serde(default)]
    pub arn: Option<String>,
    /// The owner (main) account's uin.
    #[serde(default)]
    pub account_id: Option<String>,
    /// The identity: the uin, `roleId:roleSessionName`, or `uin:federatedUserName`.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The uin of the account the keys belong to.
    #[serde(default)]
    pub principal_id: Option<String>,
    /// The identity type.
    #[serde(default, rename = "Type")]
    pub kind: Option<String>,
}

/// An STS failure as the [`Error::CredentialSource`] of `source`: STS's code verbatim and
/// what to do, the failure itself as the cause. [`Error::CredentialsNotFound`] (no
/// credentials to call STS with) is returned unchanged.
pub(crate) fn sts_failure(
    provider: Provider,
    source: &str,
    action: &str,
    hint: &str,
    err: Error,
) -> Error {
    // Nothing to assume the role with: the chain's own "nothing found", unchanged.
    if matches!(err, Error::CredentialsNotFound { .. }) {
        return err;
    }
    let code = err.code().map(str::to_owned);
    // The failure itself is the cause (`source()`), written once by a chain printer such
    // as `error::report`: the message names STS's code and what to do, not the cause's text.
    let message = match &err {
        Error::Transport { .. } => {
            format!("STS {action} could not be reached; check the STS endpoint and the network")
        }
        Error::Api(api) => format!("STS {action} refused ({}); {hint}", api.code),
        Error::Auth { code, .. } | Error::CredentialsExpired { code, .. } => {
            format!("STS {action} refused the caller ({code}); {hint}")
        }
        Error::CredentialSource { .. } => {
            format!("the credentials to call STS {action} with are unusable")
        }
        _ => format!("STS {action} failed"),
    };
    Error::credential_source(provider, source, message, code, Some(Box::new(err)))
}

/// STS `AssumeRole` over other credentials (the chain's find, a tccli profile's keys):
/// each [`provide`](ProvideCredentials::provide) assumes the role again.
pub struct AssumeRoleProvider {
    role: AssumeRole,
    session_name: String,
    client: TencentClient,
    source: String,
}

impl fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleProvider")
            .field("role", &self.role.arn)
            .field("session_name", &self.session_name)
            .field("sts", &self.client.endpoint())
            .field("source", &self.source)
            .finish()
    }
}

impl AssumeRoleProvider {
    /// Assumes `role` with the credentials of `base` (found in `base_source`), calling STS
    /// as `services` say. The session name defaults to `imageshare-<unix seconds>`.
    /// Errors: a bad STS endpoint, a duration outside 1..=43200 s.
    pub fn new(
        services: &Services,
        role: AssumeRole,
        base: SharedProvider<TencentCredentials>,
        base_source: &str,
    ) -> Result<Self> {
        if let Some(d) = role.duration {
            let secs = d.as_secs();
            if secs == 0 || secs > MAX_DURATION_SECONDS {
                return Err(Error::invalid_input(
                    "assume_role.duration",
                    format!(
                        "{secs} s is outside what Tencent Cloud STS accepts (1 to {MAX_DURATION_SECONDS} s)"
                    ),
                ));
            }
        }
        let session_name = role
            .session_name
            .clone()
            .unwrap_or_else(|| default_session_name(services.clock()));
        let source = format!("role {} assumed with {base_source}", role.arn);
        let client = TencentClient::from_parts(
            sts_spec(services.provider()),
            services.sts_endpoint()?,
            Region::new(STS_REGION),
            services.sts_transport()?,
            Arc::new(services.cache(base, base_source.to_owned())),
            services.clock().clone(),
        );
        Ok(AssumeRoleProvider {
            role,
            session_name,
            client,
            source,
        })
    }

    /// `role <arn> assumed with <base source>`.
    #[must_use]
    pub fn source_name(&self) -> &str {
        &self.source
    }

    /// The session name sent as `RoleSessionName`.
    #[must_use]
    pub fn session_name(&self) -> &str {
        &self.session_name
    }

    async fn assume(&self) -> Result<Expiring<TencentCredentials>> {
        let body = AssumeRoleRequest {
            role_arn: &self.role.arn,
            role_session_name: &self.session_name,
            duration_seconds: self.role.duration.map(|d| d.as_secs()),
            policy: self
                .role
                .policy
                .as_deref()
                .map(|p| utf8_percent_encode(p, POLICY_ENCODE).to_string()),
            external_id: self.role.external_id.as_deref(),
        };
        let provider = self.client.provider();
        let answer: StsCredentialsAnswer = self
            .client
            .call(
                &CallContext::new(),
                "AssumeRole",
                &body,
                CallOptions::read(),
            )
            .await
            .map_err(|e| {
                sts_failure(
                    provider,
                    &self.source,
                    "AssumeRole",
                    "check that the role exists and that its trust policy (role carrier) lets \
                     these keys assume it, and the ExternalId if the role asks for one",
                    e,
                )
            })?;
        answer.into_expiring(provider, &self.source, "AssumeRole")
    }
}

impl ProvideCredentials<TencentCredentials> for AssumeRoleProvider {
    fn provide(&self) -> ProvideFuture<'_, TencentCredentials> {
        Box::pin(self.assume())
    }

    fn source(&self) -> String {
        self.source.clone()
    }
}

/// Sends `action` of STS unsigned (`Authorization: SKIP`, as the SDKs'
/// `sendWithoutSignature`) with `body`, in `region`, over `transport`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn call_unsigned<Q: Serialize + ?Sized, T: serde::de::DeserializeOwned + Send>(
    transport: &Transport,
    provider: Provider,
    endpoint: &Endpoint,
    region: &str,
    action: &str,
    body: &Q,
    clock: &Clock,
) -> Result<T> {
    let body =
        Bytes::from(serde_json::to_vec(body).map_err(|e| {
            Error::invalid_input("request", format!("cannot encode {action}: {e}"))
        })?);
    let url = endpoint.url();
    let call = ApiCall {
        provider,
        action,
        region,
        idempotent: true,
    };
    transport
        .call(
            &CallContext::new(),
            call,
            |_attempt| {
                let headers = header_map([
                    ("Content-Type", crate::signer::CONTENT_TYPE_JSON.to_owned()),
                    ("Host", endpoint.authority().to_owned()),
                    ("X-TC-Action", action.to_owned()),
                    ("X-TC-Version", STS_VERSION.to_owned()),
                    ("X-TC-Timestamp", clock.now().to_string()),
                    ("X-TC-Region", region.to_owned()),
                    ("Authorization", "SKIP".to_owned()),
                ])?;
                Ok(HttpRequest {
                    method: Method::Post,
                    url: url.clone(),
                    headers,
                    body: body.clone(),
                })
            },
            |resp| decode::<T>(provider, action, None, resp),
        )
        .await
}

impl TencentClient {
    /// Who this client's credentials act as: STS `GetCallerIdentity` signed with them,
    /// at the STS endpoint the client was built with; `source` is the credentials cache's,
    /// `expires` the expiry of the credentials used (none for long-term keys).
    pub async fn caller_identity(&self, cx: &CallContext) -> Result<CallerIdentity> {
        let sts = self.sts_client();
        let answer: CallerIdentityAnswer = sts
            .call(
                cx,
                "GetCallerIdentity",
                &serde_json::json!({}),
                CallOptions::read(),
            )
            .await?;
        let expires = self.credentials().get().await?.expires;
        let account = answer
            .account_id
            .or(answer.principal_id)
            .or(answer.user_id)
            .ok_or_else(|| {
                Error::decode(
                    self.provider(),
                    "GetCallerIdentity",
                    "the answer names no AccountId",
                    None,
                )
            })?;
        Ok(
            CallerIdentity::new(self.provider(), account, self.credentials().source())
                .with_arn(answer.arn)
                .with_expires(expires),
        )
    }
}
