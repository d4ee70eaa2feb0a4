//! OIDC / RRSA (RAM Roles for Service Accounts): a role assumed with STS
//! `AssumeRoleWithOIDC` and the OIDC token a platform (ACK, a CI system) writes to a file.
//!
//! Sources: aliyun/credentials-go `credentials/providers/oidc.go` (HEAD 9ac55b4) and
//! aliyun/credentials-python `alibabacloud_credentials/provider/oidc.py` (HEAD 0e6d313):
//!
//! - [`ROLE_ARN_VAR`], [`OIDC_PROVIDER_ARN_VAR`], [`OIDC_TOKEN_FILE_VAR`]: all three set
//!   enable the source (`utils/auth_util.py` `enable_oidc_credential`; `oidc.go` refuses
//!   to build without any of them, so the default chain skips it);
//!   [`ROLE_SESSION_NAME_VAR`](super::sts::ROLE_SESSION_NAME_VAR) names the session
//!   (`oidc.py`; `oidc.go` reads no variable for it).
//! - The request is anonymous (no AccessKey, no signature) and the token file is read
//!   again on every refresh (`oidc.go` `getCredentials` reads it per call): platforms
//!   rotate it. Wire shape: [`super::sts`].
//! - A missing, unreadable or empty token file, or a JWT whose `exp` has passed (checked
//!   here before sending, when the token is a readable JWT), is an
//!   `Error::CredentialSource` naming the file; STS refusals keep their code.

use std::fmt;
use std::path::PathBuf;

use imageshare_core::credentials::jwt::jwt_expiry;
use imageshare_core::credentials::{
    CredentialSource, Env, Found, ProvideCredentials, ProvideFuture, SharedProvider, SourceTrail,
};
use imageshare_core::{Result, Timestamp};
use std::sync::Arc;

use super::sts::{source_error, RoleRequest, Services, Sts};
use super::AlibabaCredentials;

/// The role to assume.
pub const ROLE_ARN_VAR: &str = "ALIBABA_CLOUD_ROLE_ARN";
/// The ARN of the RAM OIDC identity provider.
pub const OIDC_PROVIDER_ARN_VAR: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
/// The file holding the OIDC token.
pub const OIDC_TOKEN_FILE_VAR: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";

/// The credentials of a role assumed with an OIDC token file.
pub struct OidcProvider {
    sts: Sts,
    services: Services,
    role: RoleRequest,
    oidc_provider_arn: String,
    token_file: PathBuf,
    source: String,
}

impl fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcProvider")
            .field("role", &self.role.arn)
            .field("oidc_provider_arn", &self.oidc_provider_arn)
            .field("token_file", &self.token_file)
            .field("sts", &self.sts)
            .finish()
    }
}

impl OidcProvider {
    /// Assumes `role` at `sts` with the token in `token_file` (read through `services`'
    /// environment on every fetch), for identity provider `oidc_provider_arn`; `source`
    /// says where this configuration was found.
    pub fn new(
        services: &Services,
        sts: Sts,
        role: RoleRequest,
        oidc_provider_arn: impl Into<String>,
        token_file: impl Into<PathBuf>,
        source: impl Into<String>,
    ) -> Self {
        OidcProvider {
            sts,
            services: services.clone(),
            role,
            oidc_provider_arn: oidc_provider_arn.into(),
            token_file: token_file.into(),
            source: source.into(),
        }
    }

    /// The same as a [`SharedProvider`].
    #[must_use]
    pub fn shared(self) -> SharedProvider<AlibabaCredentials> {
        Arc::new(self)
    }

    fn read_token(&self) -> std::result::Result<String, String> {
        let path = self.token_file.display();
        let token = self
            .services
            .env()
            .read_file(&self.token_file)
            .map_err(|e| format!("cannot read the OIDC token file {path}: {}", e.kind()))?;
        let token = token.trim().to_owned();
        if token.is_empty() {
            return Err(format!("the OIDC token file {path} is empty"));
        }
        if let Some(exp) = jwt_expiry(&token) {
            let now = self.services.clock().now();
            if exp <= now {
                return Err(format!(
                    "the OIDC token in {path} expired at {} (now {}); the platform that writes \
                     it should have rotated it",
                    Timestamp::from_unix(exp),
                    Timestamp::from_unix(now)
                ));
            }
        }
        Ok(token)
    }
}

impl ProvideCredentials<AlibabaCredentials> for OidcProvider {
    fn provide(&self) -> ProvideFuture<'_, AlibabaCredentials> {
        Box::pin(async move {
            let provider = self.services.provider();
            let token = self
                .read_token()
                .map_err(|why| source_error(provider, &self.source, why, None))?;
            self.sts
                .assume_role_with_oidc(&self.role, &self.oidc_provider_arn, &token)
                .await
                .map_err(|e| {
                    source_error(
                        provider,
                        &self.source,
                        format!(
                            "STS AssumeRoleWithOIDC at {} with the token of {} failed",
                            self.sts.endpoint(),
                            self.token_file.display()
                        ),
                        Some(e),
                    )
                })
        })
    }

    fn source(&self) -> String {
        self.source.clone()
    }
}

/// The OIDC variables as a source of the chain (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct OidcEnv {
    services: Services,
}

impl OidcEnv {
    /// The source, calling through `services`.
    #[must_use]
    pub fn new(services: &Services) -> Self {
        OidcEnv {
            services: services.clone(),
        }
    }
}

impl CredentialSource<SharedProvider<AlibabaCredentials>> for OidcEnv {
    fn load(
        &self,
        env: &dyn Env,
        trail: &mut SourceTrail,
    ) -> Result<Option<Found<SharedProvider<AlibabaCredentials>>>> {
        let vars = [ROLE_ARN_VAR, OIDC_PROVIDER_ARN_VAR, OIDC_TOKEN_FILE_VAR];
        let values: Vec<Option<String>> = vars.iter().map(|n| env.var(n)).collect();
        let [Some(role_arn), Some(provider_arn), Some(token_file)] = values.as_slice() else {
            let unset: Vec<&str> = vars
                .iter()
                .zip(&values)
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| *n)
                .collect();
            if unset.len() == vars.len() {
                trail.tried(format!(
                    "OIDC role: environment variables {} (unset)",
                    vars.join(", ")
                ));
            } else {
                trail.tried(format!(
                    "OIDC role: {} unset (all of {} are needed; ignored)",
                    unset.join(", "),
                    vars.join(", ")
                ));
            }
            return Ok(None);
        };
        let source = format!("OIDC role {role_arn} via {OIDC_TOKEN_FILE_VAR}={token_file}");
        let role = RoleRequest::new(role_arn.clone(), None, env, self.services.clock());
        let sts = self.services.sts(None, false);
        let p = OidcProvider::new(
            &self.services,
            sts,
            role,
            provider_arn.clone(),
            token_file,
            source.clone(),
        );
        Ok(Some(Found::new(p.shared(), source)))
    }
}
