//! The RAM role of the ECS instance, from the instance metadata server.
//!
//! Source: aliyun/credentials-go `credentials/providers/ecs_ram_role.go` (HEAD 9ac55b4)
//! and aliyun/credentials-python `alibabacloud_credentials/provider/ecs_ram_role.py`
//! (HEAD 0e6d313):
//!
//! - Server `http://100.100.100.200` ([`METADATA_ENDPOINT`]), unless
//!   `ClientConfig::metadata_endpoint()` is set.
//! - IMDSv2: `PUT /latest/api/token` with header [`TOKEN_TTL_HEADER`]`: 21600`, then
//!   every `GET` with [`TOKEN_HEADER`]: the token. When the token cannot be had, the
//!   libraries go on without it (IMDSv1) unless [`IMDSV1_DISABLED_VAR`]`=true`, which
//!   makes it an error.
//! - The role: [`ECS_METADATA_VAR`] (or a profile's `ram_role_name`), else the body of
//!   `GET /latest/meta-data/ram/security-credentials/` (trimmed).
//! - Credentials: `GET /latest/meta-data/ram/security-credentials/<role>` answering
//!   `{Code: "Success", AccessKeyId, AccessKeySecret, SecurityToken, Expiration,
//!   LastUpdated}`.
//! - [`ECS_METADATA_DISABLED_VAR`]`=true` removes the source from the chain.
//!
//! The token is asked for on every fetch (credentials are fetched once per validity
//! period, so this is two or three requests an hour); when the `PUT` fails, the fetch
//! goes on without a token (IMDSv1) unless [`IMDSV1_DISABLED_VAR`]`=true`, as
//! credentials-go `getMetadataToken` / `getCredentials` do.
//!
//! Where this source sits in the chain, and one deviation: the libraries try the metadata
//! server whenever the chain gets this far (a 1 s connect timeout off ECS). The chain here
//! is resolved at `build()`, without network, so this source is used only when there is a
//! sign of it: [`ECS_METADATA_VAR`] names the role, or a metadata endpoint is configured.
//! Otherwise it is noted in the "no credentials" error with how to enable it.

use std::fmt;
use std::sync::Arc;

use imageshare_core::credentials::{
    CredentialSource, Env, Expiring, Found, ProvideCredentials, ProvideFuture, SharedProvider,
    SourceTrail,
};
use imageshare_core::transport::Method;
use imageshare_core::Result;

use super::imds::{get, parse_credentials, send};
use super::sts::{source_error, Services};
use super::AlibabaCredentials;

/// The ECS instance metadata server.
pub const METADATA_ENDPOINT: &str = "http://100.100.100.200";
/// The role name (else it is discovered).
pub const ECS_METADATA_VAR: &str = "ALIBABA_CLOUD_ECS_METADATA";
/// `true`: never use the metadata server.
pub const ECS_METADATA_DISABLED_VAR: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
/// `true`: IMDSv2 only (no fallback to tokenless requests).
pub const IMDSV1_DISABLED_VAR: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";
/// The IMDSv2 token path (`PUT`).
pub const TOKEN_PATH: &str = "/latest/api/token";
/// The header asking for a token lifetime, in seconds.
pub const TOKEN_TTL_HEADER: &str = "X-aliyun-ecs-metadata-token-ttl-seconds";
/// The token lifetime asked for (6 hours, `defaultMetadataTokenDuration`).
pub const TOKEN_TTL_SECONDS: u64 = 21_600;
/// The header carrying the token on metadata requests.
pub const TOKEN_HEADER: &str = "X-aliyun-ecs-metadata-token";
/// The RAM role credentials path (the role name follows).
pub const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";

fn is_true(env: &dyn Env, name: &str) -> bool {
    env.var(name)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The instance RAM role's credentials.
pub struct EcsRamRoleProvider {
    services: Services,
    base: String,
    role: Option<String>,
    imdsv1_disabled: bool,
    source: String,
}

impl fmt::Debug for EcsRamRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcsRamRoleProvider")
            .field("endpoint", &self.base)
            .field("role", &self.role)
            .field("imdsv1_disabled", &self.imdsv1_disabled)
            .finish()
    }
}

impl EcsRamRoleProvider {
    /// The role `role` (`None`: discovered) of the metadata server `services` names (else
    /// [`METADATA_ENDPOINT`]); `imdsv1_disabled` as [`IMDSV1_DISABLED_VAR`].
    pub fn new(services: &Services, role: Option<&str>, imdsv1_disabled: bool) -> Self {
        let base = services
            .metadata_endpoint()
            .unwrap_or_else(|| METADATA_ENDPOINT.to_owned())
            .trim_end_matches('/')
            .to_owned();
        let role = role.filter(|r| !r.is_empty()).map(str::to_owned);
        let source = format!(
            "ECS instance RAM role {} via {base}",
            role.as_deref().unwrap_or("(discovered)")
        );
        EcsRamRoleProvider {
            services: services.clone(),
            base,
            role,
            imdsv1_disabled,
            source,
        }
    }

    /// The same as a [`SharedProvider`].
    #[must_use]
    pub fn shared(self) -> SharedProvider<AlibabaCredentials> {
        Arc::new(self)
    }

    /// The metadata endpoint, `scheme://host[:port]`.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.base
    }

    /// The IMDSv2 token (`PUT` [`TOKEN_PATH`]); without one, `None` (IMDSv1) unless
    /// [`IMDSV1_DISABLED_VAR`] is set, which makes it an error naming the cause.
    async fn metadata_token(&self) -> Result<Option<String>> {
        let url = format!("{}{TOKEN_PATH}", self.base);
        let ttl = TOKEN_TTL_SECONDS.to_string();
        match send(
            &self.services,
            Method::Put,
            "MetadataToken",
            &url,
            &[(TOKEN_TTL_HEADER, ttl.as_str())],
        )
        .await
        {
            Ok(body) => {
                let token = String::from_utf8_lossy(&body).trim().to_owned();
                if !token.is_empty() {
                    return Ok(Some(token));
                }
                if self.imdsv1_disabled {
                    return Err(source_error(
                        self.services.provider(),
                        &self.source,
                        format!("{url} answered an empty IMDSv2 token"),
                        None,
                    ));
                }
                Ok(None)
            }
            Err(e) if self.imdsv1_disabled => Err(source_error(
                self.services.provider(),
                &self.source,
                format!(
                    "cannot get an IMDSv2 token from {url}, and {IMDSV1_DISABLED_VAR}=true \
                     forbids going on without one"
                ),
                Some(e),
            )),
            Err(e) => {
                tracing::debug!(error = %e, "no IMDSv2 token; going on with IMDSv1");
                Ok(None)
            }
        }
    }

    async fn fetch(&self) -> Result<Expiring<AlibabaCredentials>> {
        let provider = self.services.provider();
        let err = |what: String, e: Option<imageshare_core::Error>| {
            source_error(provider, &self.source, what, e)
        };
        let token = self.metadata_token().await?;
        let headers: Vec<(&str, &str)> = token
            .as_deref()
            .map(|t| vec![(TOKEN_HEADER, t)])
            .unwrap_or_default();
        let role = match &self.role {
            Some(r) => r.clone(),
            None => {
                let url = format!("{}{CREDENTIALS_PATH}", self.base);
                let body = get(&self.services, "MetadataRamRole", &url, &headers)
                    .await
                    .map_err(|e| err(format!("cannot read the role name from {url}"), Some(e)))?;
                let text = String::from_utf8_lossy(&body);
                let role = text.lines().next().unwrap_or("").trim().to_owned();
                if role.is_empty() {
                    return Err(err(
                        format!("{url} names no RAM role: attach one to the instance"),
                        None,
                    ));
                }
                role
            }
        };
        let url = format!("{}{CREDENTIALS_PATH}{role}", self.base);
        let body = get(&self.services, "MetadataRamRoleCredentials", &url, &headers)
            .await
            .map_err(|e| {
                err(
                    format!("cannot read the credentials of role {role}"),
                    Some(e),
                )
            })?;
        parse_credentials(&body, true).map_err(|why| err(format!("{url}: {why}"), None))
    }
}

impl ProvideCredentials<AlibabaCredentials> for EcsRamRoleProvider {
    fn provide(&self) -> ProvideFuture<'_, AlibabaCredentials> {
        Box::pin(self.fetch())
    }

    fn source(&self) -> String {
        self.source.clone()
    }
}

/// The instance RAM role as a source of the chain (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct EcsRamRoleSource {
    services: Services,
}

impl EcsRamRoleSource {
    /// The source, calling through `services`.
    #[must_use]
    pub fn new(services: &Services) -> Self {
        EcsRamRoleSource {
            services: services.clone(),
        }
    }
}

impl CredentialSource<SharedProvider<AlibabaCredentials>> for EcsRamRoleSource {
    fn load(
        &self,
        env: &dyn Env,
        trail: &mut SourceTrail,
    ) -> Result<Option<Found<SharedProvider<AlibabaCredentials>>>> {
        if is_true(env, ECS_METADATA_DISABLED_VAR) {
            trail.tried(format!(
                "ECS instance RAM role (skipped: {ECS_METADATA_DISABLED_VAR}=true)"
            ));
            return Ok(None);
        }
        let role = env.var(ECS_METADATA_VAR);
        if role.is_none() && self.services.metadata_endpoint().is_none() {
            trail.tried(format!(
                "ECS instance RAM role (not probed: set {ECS_METADATA_VAR} to the role name, \
                 or a metadata endpoint, to use it)"
            ));
            return Ok(None);
        }
        let p = EcsRamRoleProvider::new(
            &self.services,
            role.as_deref(),
            is_true(env, IMDSV1_DISABLED_VAR),
        );
        let source = p.source.clone();
        Ok(Some(Found::new(p.shared(), source)))
    }
}

/// A profile's `EcsRamRole` mode: role `role` (`None`: discovered).
pub(crate) fn from_profile(
    services: &Services,
    env: &dyn Env,
    role: Option<&str>,
) -> std::result::Result<SharedProvider<AlibabaCredentials>, String> {
    if is_true(env, ECS_METADATA_DISABLED_VAR) {
        return Err(format!(
            "mode EcsRamRole: the metadata server is disabled ({ECS_METADATA_DISABLED_VAR}=true)"
        ));
    }
    Ok(EcsRamRoleProvider::new(services, role, is_true(env, IMDSV1_DISABLED_VAR)).shared())
}
