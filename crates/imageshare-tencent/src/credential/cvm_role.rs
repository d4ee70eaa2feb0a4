//! The CVM instance role: temporary credentials from the instance metadata server.
//!
//! | rule | official source |
//! |---|---|
//! | `GET http://metadata.tencentyun.com/latest/meta-data/cam/security-credentials/` answers the role name (plain text); 404 means no role is bound | Go `tencentcloud/common/cvm_role_provider.go` (`metaUrl`, `roleUrl`, `roleNotBound` on 404); Python `tencentcloud/common/credential.py` `CVMRoleCredential` |
//! | `GET .../security-credentials/<role>` answers `TmpSecretId`, `TmpSecretKey`, `ExpiredTime` (unix), `Expiration`, `Token`, `Code` (`Success`) | Go `cvm_role_provider.go` `roleRsp`; Python `CVMRoleCredential.update_credential` |
//! | the role is the last source of the default chain, and a failure to get its name means "no role": the chain ends with "no credential found" | Go `tencentcloud/common/provider_chain.go` (`noCvmRole` is skipped); Python `DefaultCredentialProvider` |
//! | tccli's `type: cvm-role` profile uses the same role | tccli `tccli/configure.py` (`use-cvm-role` writes `type: cvm-role`), generated `parse_global_arg` (`credential.CVMRoleCredential()`) |
//!
//! **Lazy selection.** A credential chain decides synchronously, at `build()`, but only a
//! network call can tell whether this machine is a CVM instance with a role. So
//! [`InstanceRole`] always "finds" (it is the chain's last source) a [`CvmRoleProvider`]
//! that asks the metadata server when credentials are first needed. When the server
//! cannot be reached or says no role is bound, that provider fails with
//! [`Error::CredentialsNotFound`] listing every source the chain tried before it, and
//! this one with the reason: the same "nothing found" the chain would give, one call
//! later (as the Go SDK, which asks the metadata server inside its chain). Reached through
//! a tccli `cvm-role` profile, the same failure is [`Error::CredentialSource`] naming the
//! profile: the user asked for the role.
//!
//! The metadata server is `http://metadata.tencentyun.com` unless
//! [`ClientConfig::metadata_endpoint`](imageshare_core::ClientConfig::metadata_endpoint)
//! names another; calls go through the core transport with a 1 s connect timeout
//! ([`METADATA_CONNECT_TIMEOUT`](super::services::METADATA_CONNECT_TIMEOUT)).

use std::fmt;

use bytes::Bytes;
use imageshare_core::credentials::{
    CredentialSource, Env, Expiring, Found, ProvideCredentials, ProvideFuture, SharedProvider,
    SourceTrail,
};
use imageshare_core::transport::{ApiCall, Endpoint, HttpRequest, Method, RetryReason, Transport};
use imageshare_core::{ApiError, CallContext, Error, Provider, Result, Secret, Timestamp};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;

use super::{Services, TencentCredentials};

/// The path of the role name (and, with the name appended, of its credentials).
pub const SECURITY_CREDENTIALS_PATH: &str = "/latest/meta-data/cam/security-credentials/";

/// Characters of a role name kept as they are in the URL path (RFC 3986 unreserved);
/// CAM role names are `[\w+=,.@-]`, so in practice only `+=,@` are encoded.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The `Code` of a good credentials answer.
pub const SUCCESS_CODE: &str = "Success";

/// The metadata answer for one role.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleCredentials {
    #[serde(default)]
    tmp_secret_id: String,
    #[serde(default)]
    tmp_secret_key: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    expired_time: Option<u64>,
    #[serde(default)]
    expiration: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

/// Why the role gave nothing: no role here, or a role that failed.
enum Miss {
    /// Not a CVM instance, or no role bound: "nothing found".
    NoRole(String),
    /// Something answered but is unusable.
    Failed {
        message: String,
        code: Option<String>,
        cause: Option<Error>,
    },
}

/// How a [`CvmRoleProvider`] reports "no role here".
#[derive(Debug, Clone)]
enum Selected {
    /// As the chain's last source: [`Error::CredentialsNotFound`] with the chain's trail.
    LastResort(Vec<String>),
    /// Asked for by name (tccli `type: cvm-role`): [`Error::CredentialSource`].
    Explicitly,
}

/// Temporary credentials of the CVM instance role, from the metadata server; see the
/// [module docs](self).
pub struct CvmRoleProvider {
    provider: Provider,
    base: Endpoint,
    transport: Transport,
    role: Option<String>,
    selected: Selected,
    source: String,
}

impl fmt::Debug for CvmRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CvmRoleProvider")
            .field("metadata", &self.base.base())
            .field("role", &self.role)
            .field("source", &self.source)
            .finish()
    }
}

impl CvmRoleProvider {
    /// The instance role, reached as the last source of a chain that tried `trail`.
    pub fn last_resort(services: &Services, trail: Vec<String>) -> Result<Self> {
        Self::make(services, None, Selected::LastResort(trail))
    }

    /// The instance role, asked for explicitly (`role`: its name when known, else the
    /// metadata server is asked), described as `source`.
    pub fn explicit(services: &Services, role: Option<String>, source: String) -> Result<Self> {
        let mut p = Self::make(services, role, Selected::Explicitly)?;
        p.source = source;
        Ok(p)
    }

    fn make(services: &Services, role: Option<String>, selected: Selected) -> Result<Self> {
        let base = services.metadata_endpoint()?;
        Ok(CvmRoleProvider {
            provider: services.provider(),
            source: format!("CVM instance role from {}", base.base()),
            base,
            transport: services.metadata_transport()?,
            role,
            selected,
        })
    }

    fn url(&self, role: &str) -> String {
        format!(
            "{}{SECURITY_CREDENTIALS_PATH}{}",
            self.base.base(),
            utf8_percent_encode(role, PATH_SEGMENT)
        )
    }

    /// One GET through the transport: `Ok((status, body))` for any answer below 500.
    async fn get(&self, action: &str, url: String) -> Result<(u16, Vec<u8>)> {
        let call = ApiCall {
            provider: self.provider,
            action,
            region: "-",
            idempotent: true,
        };
        let provider = self.provider;
        self.transport
            .call(
                &CallContext::new(),
                call,
                |_| {
                    Ok(HttpRequest {
                        method: Method::Get,
                        url: url.clone(),
                        headers: Default::default(),
                        body: Bytes::new(),
                    })
                },
                |resp| {
                    if resp.status >= 500 {
                        return Err(Error::from(
                            ApiError::new(
                                provider,
                                action,
                                resp.status,
                                format!("HTTP.{}", resp.status),
                                "the metadata server answered a server error",
                            )
                            .with_retry(RetryReason::of_status(resp.status)),
                        ));
                    }
                    Ok((resp.status, resp.body))
                },
            )
            .await
    }

    async fn role_name(&self) -> std::result::Result<String, Miss> {
        if let Some(role) = &self.role {
            return Ok(role.clone());
        }
        let root = self.url("");
        match self.get("MetadataRoleName", root.clone()).await {
            Err(e @ Error::Transport { .. }) => Err(Miss::NoRole(format!(
                "metadata server {root} unreachable: {}; not a CVM instance?",
                transport_message(&e)
            ))),
            Err(e) => Err(Miss::Failed {
                message: format!("metadata server {root} failed"),
                code: e.code().map(str::to_owned),
                cause: Some(e),
            }),
            Ok((404, _)) => Err(Miss::NoRole(format!(
                "no CAM role is bound to this instance ({root} answered 404)"
            ))),
            Ok((200, body)) => {
                let text = String::from_utf8_lossy(&body);
                match text.lines().map(str::trim).find(|l| !l.is_empty()) {
                    Some(name) => Ok(name.to_owned()),
                    None => Err(Miss::NoRole(format!(
                        "no CAM role is bound to this instance ({root} answered no role name)"
                    ))),
                }
            }
            Ok((status, _)) => Err(Miss::Failed {
                message: format!("metadata server {root} answered HTTP {status}"),
                code: Some(format!("HTTP.{status}")),
                cause: None,
            }),
        }
    }

    async fn fetch(&self) -> std::result::Result<Expiring<TencentCredentials>, Miss> {
        let role = self.role_name().await?;
        let url = self.url(&role);
        let (status, body) = self
            .get("MetadataRoleCredentials", url.clone())
            .await
            .map_err(|e| Miss::Failed {
                message: format!("metadata server {url} failed"),
                code: e.code().map(str::to_owned),
                cause: Some(e),
            })?;
        if status == 404 {
            return Err(Miss::Failed {
                message: format!(
                    "role {role:?} has no credentials on the metadata server ({url} answered 404); \
                     check the CAM role bound to the instance"
                ),
                code: Some("HTTP.404".to_owned()),
                cause: None,
            });
        }
        if status != 200 {
            return Err(Miss::Failed {
                message: format!("metadata server {url} answered HTTP {status}"),
                code: Some(format!("HTTP.{status}")),
                cause: None,
            });
        }
        let answer: RoleCredentials = serde_json::from_slice(&body).map_err(|e| Miss::Failed {
            // The serde message names a field or position, never the body.
            message: format!("the metadata answer for role {role:?} is not the expected JSON: {e}"),
            code: None,
            cause: None,
        })?;
        let code = answer.code.clone().unwrap_or_default();
        if code != SUCCESS_CODE {
            return Err(Miss::Failed {
                message: format!(
                    "the metadata server refused credentials for role {role:?}: Code {code:?}"
                ),
                code: Some(code),
                cause: None,
            });
        }
        if answer.tmp_secret_id.is_empty()
            || answer.tmp_secret_key.is_empty()
            || answer.token.is_empty()
        {
            return Err(Miss::Failed {
                message: format!(
                    "the metadata answer for role {role:?} lacks TmpSecretId, TmpSecretKey or Token"
                ),
                code: None,
                cause: None,
            });
        }
        let expires = answer
            .expired_time
            .and_then(|t| Timestamp::from_reported_unix("ExpiredTime", t))
            .or_else(|| {
                answer
                    .expiration
                    .as_deref()
                    .and_then(|t| Timestamp::from_reported("Expiration", t))
            })
            .ok_or_else(|| Miss::Failed {
                message: format!(
                    "the metadata answer for role {role:?} has no ExpiredTime or Expiration"
                ),
                code: None,
                cause: None,
            })?;
        let creds =
            TencentCredentials::new(answer.tmp_secret_id, Secret::new(answer.tmp_secret_key))
                .with_token(Secret::new(answer.token));
        Ok(Expiring::until(creds, expires))
    }

    fn error(&self, miss: Miss) -> Error {
        match (miss, &self.selected) {
            (Miss::NoRole(reason), Selected::LastResort(trail)) => {
                let mut tried = trail.clone();
                tried.push(format!("CVM instance role ({reason})"));
                Error::credentials_not_found(self.provider, tried)
            }
            (Miss::NoRole(reason), Selected::Explicitly) => Error::credential_source(
                self.provider,
                self.source.clone(),
                format!(
                    "{reason}; run on a CVM instance with a CAM role bound, or use keys instead"
                ),
                None,
                None,
            ),
            (
                Miss::Failed {
                    message,
                    code,
                    cause,
                },
                _,
            ) => Error::credential_source(
                self.provider,
                self.source.clone(),
                message,
                code,
                cause.map(Box::new),
            ),
        }
    }
}

/// A transport error's message without the provider and action prefix.
fn transport_message(e: &Error) -> String {
    match e {
        Error::Transport { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

impl ProvideCredentials<TencentCredentials> for CvmRoleProvider {
    fn provide(&self) -> ProvideFuture<'_, TencentCredentials> {
        Box::pin(async move { self.fetch().await.map_err(|m| self.error(m)) })
    }

    fn source(&self) -> String {
        self.source.clone()
    }
}

/// The chain's last source: the CVM instance role, selected lazily (see the
/// [module docs](self)).
#[derive(Debug, Clone)]
pub struct InstanceRole {
    services: Services,
}

impl InstanceRole {
    /// The instance role as `services` reach it.
    #[must_use]
    pub fn new(services: Services) -> Self {
        InstanceRole { services }
    }
}

impl CredentialSource<SharedProvider<TencentCredentials>> for InstanceRole {
    fn load(
        &self,
        _env: &dyn Env,
        trail: &mut SourceTrail,
    ) -> Result<Option<Found<SharedProvider<TencentCredentials>>>> {
        let provider = CvmRoleProvider::last_resort(&self.services, trail.sources().to_vec())?;
        let source = provider.source.clone();
        Ok(Some(Found::new(
            std::sync::Arc::new(provider) as SharedProvider<TencentCredentials>,
            source,
        )))
    }
}
