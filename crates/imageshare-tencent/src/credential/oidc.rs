//! TKE OIDC: a pod's service-account token exchanged for a CAM role's credentials with
//! STS `AssumeRoleWithWebIdentity`.
//!
//! | rule | official source |
//! |---|---|
//! | variables `TKE_REGION`, `TKE_PROVIDER_ID`, `TKE_WEB_IDENTITY_TOKEN_FILE`, `TKE_ROLE_ARN` (no session-name variable) | Go `tencentcloud/common/oidc_role_arn_provider.go` `DefaultTkeOIDCRoleArnProvider`; Python `tencentcloud/common/credential.py` `OIDCRoleArnCredential._init_from_tke`; tccli `tccli/options_define.py` `ENV_TKE_*` |
//! | the token file is read again before every exchange | Go `beforeRefresh` (called by every `GetCredential`); Python `refresh` calls `_init_from_tke` |
//! | body `ProviderId`, `WebIdentityToken`, `RoleArn`, `RoleSessionName`, `DurationSeconds` (7200); unsigned (`Authorization: SKIP`); region `TKE_REGION` | Go `oidc_role_arn_provider.go` `GetCredential`; Python `OIDCRoleArnCredential.refresh` (`SkipSign`, `self._region`) |
//! | the source is used only when all four variables are set | tccli generated `do<Action>` (`os.getenv` of all four) |
//!
//! Differences from the SDKs, on purpose: the Go SDK sends the region constant
//! `ap-guangzhou` instead of `TKE_REGION` (its `provider.region = region` assigns the
//! package constant); imageshare sends `TKE_REGION`, as Python does. Some but not all four
//! variables set is an [`Error::InvalidInput`] naming the missing ones (Go and Python fail
//! the same way; tccli ignores the source). A missing, empty or expired token file is
//! [`Error::CredentialSource`] naming the file and what to do; the token is read through
//! the builder's environment ([`Services`]) and never logged.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use imageshare_core::credentials::jwt::jwt_expiry;
use imageshare_core::credentials::{
    CredentialSource, Env, Expiring, Found, ProvideCredentials, ProvideFuture, SharedProvider,
    SourceTrail,
};
use imageshare_core::{Error, Provider, Result, Timestamp};

use super::sts::{
    call_unsigned, default_session_name, sts_failure, StsCredentialsAnswer, WebIdentityRequest,
    DEFAULT_DURATION_SECONDS,
};
use super::{Services, TencentCredentials};

/// `TKE_REGION`: the region sent with `AssumeRoleWithWebIdentity`.
pub const ENV_TKE_REGION: &str = "TKE_REGION";
/// `TKE_PROVIDER_ID`: the CAM identity provider's name.
pub const ENV_TKE_PROVIDER_ID: &str = "TKE_PROVIDER_ID";
/// `TKE_WEB_IDENTITY_TOKEN_FILE`: the file holding the pod's OIDC token.
pub const ENV_TKE_WEB_IDENTITY_TOKEN_FILE: &str = "TKE_WEB_IDENTITY_TOKEN_FILE";
/// `TKE_ROLE_ARN`: the role to assume.
pub const ENV_TKE_ROLE_ARN: &str = "TKE_ROLE_ARN";
/// The four variables, in the order the SDKs read them.
pub const TKE_VARS: [&str; 4] = [
    ENV_TKE_REGION,
    ENV_TKE_PROVIDER_ID,
    ENV_TKE_WEB_IDENTITY_TOKEN_FILE,
    ENV_TKE_ROLE_ARN,
];

/// What to do about a token file that is missing, empty or expired.
const TOKEN_FILE_HINT: &str = "the TKE pod identity webhook projects the service-account token \
     there and the kubelet renews it: check the pod's projected token volume and that \
     TKE_WEB_IDENTITY_TOKEN_FILE names it";

/// The TKE OIDC source of the chain: used when the four `TKE_*` variables are set.
#[derive(Debug, Clone)]
pub struct TkeOidc {
    services: Services,
}

impl TkeOidc {
    /// The source, exchanging tokens as `services` say.
    #[must_use]
    pub fn new(services: Services) -> Self {
        TkeOidc { services }
    }
}

impl CredentialSource<SharedProvider<TencentCredentials>> for TkeOidc {
    fn load(
        &self,
        env: &dyn Env,
        trail: &mut SourceTrail,
    ) -> Result<Option<Found<SharedProvider<TencentCredentials>>>> {
        let values: Vec<Option<String>> = TKE_VARS
            .iter()
            .map(|n| {
                env.var(n)
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
            })
            .collect();
        if values.iter().all(Option::is_none) {
            trail.tried(format!(
                "TKE OIDC: environment variables {} (unset)",
                TKE_VARS.join(", ")
            ));
            return Ok(None);
        }
        let missing: Vec<&str> = TKE_VARS
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| *n)
            .collect();
        if !missing.is_empty() {
            return Err(Error::invalid_input(
                missing[0],
                format!(
                    "TKE OIDC needs {}; {} unset",
                    TKE_VARS.join(", "),
                    missing.join(", ")
                ),
            ));
        }
        let [region, provider_id, token_file, role_arn] =
            <[Option<String>; 4]>::try_from(values)
                .map_err(|_| Error::invalid_input("TKE OIDC", "internal: expected four values"))?;
        let (region, provider_id, token_file, role_arn) = (
            region.unwrap_or_default(),
            provider_id.unwrap_or_default(),
            PathBuf::from(token_file.unwrap_or_default()),
            role_arn.unwrap_or_default(),
        );
        let provider = OidcRoleProvider {
            provider: self.services.provider(),
            source: format!(
                "TKE OIDC role {role_arn} (token file {}, {ENV_TKE_ROLE_ARN})",
                token_file.display()
            ),
            session_name: default_session_name(self.services.clock()),
            region,
            provider_id,
            token_file,
            role_arn,
            services: self.services.clone(),
        };
        // A missing token file fails at build(), not at the first call.
        provider.read_token(env)?;
        let source = provider.source.clone();
        Ok(Some(Found::new(
            Arc::new(provider) as SharedProvider<TencentCredentials>,
            source,
        )))
    }
}

/// Credentials of the role `TKE_ROLE_ARN` for the token in `TKE_WEB_IDENTITY_TOKEN_FILE`,
/// exchanged again (the file read again) at every refresh.
pub struct OidcRoleProvider {
    provider: Provider,
    source: String,
    session_name: String,
    region: String,
    provider_id: String,
    token_file: PathBuf,
    role_arn: String,
    services: Services,
}

impl fmt::Debug for OidcRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcRoleProvider")
            .field("role_arn", &self.role_arn)
            .field("provider_id", &self.provider_id)
            .field("region", &self.region)
            .field("token_file", &self.token_file)
            .field("session_name", &self.session_name)
            .finish()
    }
}

impl OidcRoleProvider {
    fn failure(&self, message: String) -> Error {
        Error::credential_source(self.provider, self.source.clone(), message, None, None)
    }

    /// The token in the file, checked: present, not empty, not expired (when it is a JWT
    /// with an `exp` claim).
    fn read_token(&self, env: &dyn Env) -> Result<String> {
        let path = self.token_file.display();
        let token = env.read_file(&self.token_file).map_err(|e| {
            self.failure(format!(
                "cannot read the web identity token file {path} ({}); {TOKEN_FILE_HINT}",
                e.kind()
            ))
        })?;
        let token = token.trim().to_owned();
        if token.is_empty() {
            return Err(self.failure(format!(
                "the web identity token file {path} is empty; {TOKEN_FILE_HINT}"
            )));
        }
        if let Some(exp) = jwt_expiry(&token) {
            let now = self.services.clock().now();
            if exp <= now {
                return Err(self.failure(format!(
                    "the web identity token in {path} expired at {} (now {}); {TOKEN_FILE_HINT}",
                    Timestamp::from_unix(exp),
                    Timestamp::from_unix(now)
                )));
            }
        }
        Ok(token)
    }

    async fn exchange(&self) -> Result<Expiring<TencentCredentials>> {
        let token = self.read_token(self.services.env())?;
        let body = WebIdentityRequest {
            provider_id: &self.provider_id,
            web_identity_token: &token,
            role_arn: &self.role_arn,
            role_session_name: &self.session_name,
            duration_seconds: DEFAULT_DURATION_SECONDS,
        };
        let action = "AssumeRoleWithWebIdentity";
        let answer: StsCredentialsAnswer = call_unsigned(
            &self.services.sts_transport()?,
            self.provider,
            &self.services.sts_endpoint()?,
            &self.region,
            action,
            &body,
            self.services.clock(),
        )
        .await
        .map_err(|e| {
            sts_failure(
                self.provider,
                &self.source,
                action,
                &format!(
                    "check {ENV_TKE_PROVIDER_ID} (the CAM OIDC identity provider), that the role \
                     trusts it, and the token in {} ({TOKEN_FILE_HINT})",
                    self.token_file.display()
                ),
                e,
            )
        })?;
        answer.into_expiring(self.provider, &self.source, action)
    }

    /// The token file.
    #[must_use]
    pub fn token_file(&self) -> &Path {
        &self.token_file
    }
}

impl ProvideCredentials<TencentCredentials> for OidcRoleProvider {
    fn provide(&self) -> ProvideFuture<'_, TencentCredentials> {
        Box::pin(self.exchange())
    }

    fn source(&self) -> String {
        self.source.clone()
    }
}
