//! Credentials served by a URI (a sidecar or a local credentials broker).
//!
//! Sources: aliyun/credentials-go `credentials/providers/uri.go` (HEAD 9ac55b4; in the
//! default chain, last, only when [`CREDENTIALS_URI_VAR`] is set, `default.go`),
//! aliyun/credentials-python `provider/uri.py`, and the Aliyun CLI's `CredentialsURI`
//! mode (aliyun/aliyun-cli `config/profile.go`, profile field `credentials_uri`, else the
//! variable): `GET <uri>`, answer `{Code, AccessKeyId, AccessKeySecret, SecurityToken,
//! Expiration}`. The CLI and credentials-python require `Code == "Success"`;
//! credentials-go does not read `Code`. Here: a `Code` other than `Success` is refused, a
//! missing one accepted.

use std::fmt;
use std::sync::Arc;

use imageshare_core::credentials::{
    CredentialSource, Env, Found, ProvideCredentials, ProvideFuture, SharedProvider, SourceTrail,
};
use imageshare_core::Result;

use super::imds::{get, parse_credentials, shown_url};
use super::sts::{source_error, Services};
use super::AlibabaCredentials;

/// The URI serving credentials.
pub const CREDENTIALS_URI_VAR: &str = "ALIBABA_CLOUD_CREDENTIALS_URI";

/// Credentials from a URI.
pub struct UriProvider {
    services: Services,
    uri: String,
    source: String,
}

impl fmt::Debug for UriProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UriProvider")
            .field("uri", &shown_url(&self.uri))
            .finish()
    }
}

impl UriProvider {
    /// Credentials from `uri`; `source` says where the URI was found.
    pub fn new(services: &Services, uri: impl Into<String>, source: impl Into<String>) -> Self {
        UriProvider {
            services: services.clone(),
            uri: uri.into(),
            source: source.into(),
        }
    }

    /// The same as a [`SharedProvider`].
    #[must_use]
    pub fn shared(self) -> SharedProvider<AlibabaCredentials> {
        Arc::new(self)
    }
}

impl ProvideCredentials<AlibabaCredentials> for UriProvider {
    fn provide(&self) -> ProvideFuture<'_, AlibabaCredentials> {
        Box::pin(async move {
            let provider = self.services.provider();
            let shown = shown_url(&self.uri);
            let body = get(&self.services, "CredentialsURI", &self.uri, &[])
                .await
                .map_err(|e| {
                    source_error(
                        provider,
                        &self.source,
                        format!("GET {shown} failed"),
                        Some(e),
                    )
                })?;
            parse_credentials(&body, false).map_err(|why| {
                source_error(provider, &self.source, format!("{shown}: {why}"), None)
            })
        })
    }

    fn source(&self) -> String {
        self.source.clone()
    }
}

/// [`CREDENTIALS_URI_VAR`] as a source of the chain.
#[derive(Debug, Clone)]
pub struct UriEnv {
    services: Services,
}

impl UriEnv {
    /// The source, calling through `services`.
    #[must_use]
    pub fn new(services: &Services) -> Self {
        UriEnv {
            services: services.clone(),
        }
    }
}

impl CredentialSource<SharedProvider<AlibabaCredentials>> for UriEnv {
    fn load(
        &self,
        env: &dyn Env,
        trail: &mut SourceTrail,
    ) -> Result<Option<Found<SharedProvider<AlibabaCredentials>>>> {
        let Some(uri) = env.var(CREDENTIALS_URI_VAR) else {
            trail.tried(format!(
                "environment variable {CREDENTIALS_URI_VAR} (unset)"
            ));
            return Ok(None);
        };
        let source = format!("{CREDENTIALS_URI_VAR}={}", shown_url(&uri));
        let p = UriProvider::new(&self.services, uri, source.clone());
        Ok(Some(Found::new(p.shared(), source)))
    }
}
