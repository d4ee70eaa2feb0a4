//! [`ProviderSpec`]: what a provider crate tells the facade about each provider it
//! serves (name, limits, default rate table, how to build an adapter), so that adding a
//! provider is one new crate plus one registration line in the facade, and nothing in
//! core, the CLI or the facade matches on provider names.
//!
//! [`Credentials`] carries explicit credentials of any cloud through that one entry point;
//! each provider crate converts its own credentials type into it and back.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::config::ClientConfig;
use crate::copy_limits::CopyLimits;
use crate::credentials::SharedProvider;
use crate::error::{Error, Result};
use crate::limits::{OrgTargetLimits, ShareLimits};
use crate::model::Provider;
use crate::ratelimit::RateLimits;
use crate::sharing::ImageSharing;

/// How a [`ProviderSpec`] builds an adapter: from the shared settings and, when given,
/// explicit credentials (else the cloud's credential chain runs at build time).
pub type BuildAdapter = fn(ClientConfig, Option<&Credentials>) -> Result<Box<dyn ImageSharing>>;

/// One provider a provider crate serves, as the facade's registry lists it.
#[derive(Debug)]
pub struct ProviderSpec {
    /// The provider's identity.
    pub provider: Provider,
    /// The cloud whose accounts and keys it uses (`alibaba`, `tencent`, `ucloud`): providers
    /// of one cloud share credentials.
    pub cloud: &'static str,
    /// One line for humans (`--help`, `imageshare limits`).
    pub description: &'static str,
    /// Its documented limits.
    pub limits: &'static ShareLimits,
    /// The limits of its organisation-wide sharing (`directory:`, `folder:`, `member:`
    /// principals), when it has one (Alibaba ECS: Resource Sharing).
    pub org_targets: Option<&'static OrgTargetLimits>,
    /// The limits of its cross-region copy, when its cloud has one (`None`: the provider
    /// cannot copy an image into another region, e.g. Simple Application Server); the same
    /// table its adapters return from [`ImageSharing::copy_limits`].
    pub copy: Option<&'static CopyLimits>,
    /// Its default client-side rate table (the cloud's published quotas).
    pub rate_defaults: fn() -> RateLimits,
    /// The API actions its adapter knows (its crate's [`ProviderAction`] enum, e.g.
    /// `<CvmAction as ProviderAction>::actions`): what an action name read at run time is
    /// checked against.
    ///
    /// [`ProviderAction`]: crate::ProviderAction
    pub actions: fn() -> Vec<crate::Action>,
    /// Builds an adapter (without the limit checker or any other layer).
    pub build: BuildAdapter,
}

/// Explicit credentials of one cloud, whatever its credentials type. `Debug` shows the
/// cloud and the credentials type's own `Debug`, which never shows a secret.
#[derive(Clone)]
pub struct Credentials {
    cloud: &'static str,
    value: Arc<dyn Any + Send + Sync>,
    shown: String,
}

impl Credentials {
    /// Wraps `credentials` of `cloud`.
    pub fn new<C: Any + Send + Sync + fmt::Debug>(cloud: &'static str, credentials: C) -> Self {
        Self {
            cloud,
            shown: format!("{credentials:?}"),
            value: Arc::new(credentials),
        }
    }

    /// A credentials provider of `C`'s cloud (your own vault or broker, an STS role): the
    /// adapter built with it calls it at the first request and again before what it gave
    /// expires (through its credentials cache), never at `build()`.
    #[must_use]
    pub fn from_provider<C: CloudCredentials>(provider: SharedProvider<C>) -> Self {
        Self {
            cloud: C::CLOUD,
            shown: format!("a credentials provider ({})", provider.source()),
            value: Arc::new(provider),
        }
    }

    /// The cloud these credentials are for.
    #[must_use]
    pub fn cloud(&self) -> &'static str {
        self.cloud
    }

    /// The credentials as `C`, for `provider` (named in the error): [`Error::InvalidInput`]
    /// when they are another cloud's.
    pub fn get<C: Any + Clone>(&self, provider: Provider) -> Result<C> {
        self.value.downcast_ref::<C>().cloned().ok_or_else(|| {
            Error::invalid_input(
                "credentials",
                format!(
                    "the credentials given are {}'s, not those of {provider}'s cloud",
                    self.cloud
                ),
            )
        })
    }
}

impl Credentials {
    /// The credentials as a provider of `C`, for `provider` (named in the error): the one
    /// given to [`from_provider`](Self::from_provider), or fixed credentials given to
    /// [`new`](Self::new) (source `explicit credentials`); [`Error::InvalidInput`] when
    /// they are another cloud's.
    pub fn provider<C>(&self, provider: Provider) -> Result<SharedProvider<C>>
    where
        C: Any + Clone + Send + Sync + fmt::Debug,
    {
        if let Some(p) = self.value.downcast_ref::<SharedProvider<C>>() {
            return Ok(p.clone());
        }
        let fixed: C = self.get(provider)?;
        Ok(crate::credentials::fixed(fixed, "explicit credentials"))
    }
}

/// A cloud's credentials type (`TencentCredentials`, ...): names the cloud, so a provider
/// of them can be handed to a builder that does not know the type
/// ([`Credentials::from_provider`]). Each provider crate implements it for its own.
pub trait CloudCredentials: Any + Clone + Send + Sync + fmt::Debug {
    /// The cloud (`alibaba`, `tencent`, `ucloud`), as in [`ProviderSpec::cloud`].
    const CLOUD: &'static str;
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("cloud", &self.cloud)
            .field("value", &format_args!("{}", self.shown))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[derive(Debug, Clone, PartialEq)]
    struct Keys(String, Secret);

    #[test]
    fn credentials_come_back_as_their_own_type_only() {
        let c = Credentials::new("example", Keys("id-1".into(), Secret::new("s3cr3t")));
        let back: Keys = c.get(Provider::new("example-cloud")).unwrap();
        assert_eq!(back.0, "id-1");
        let e = c.get::<String>(Provider::new("other-cloud")).unwrap_err();
        assert!(
            e.to_string()
                .contains("are example's, not those of other-cloud's"),
            "{e}"
        );
        let dbg = format!("{c:?}");
        assert!(dbg.contains("id-1") && !dbg.contains("s3cr3t"), "{dbg}");
    }
}
