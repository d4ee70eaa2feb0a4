//! What this crate tells the facade's registry: the provider it serves ([`PROVIDERS`]) and
//! how its credentials travel through the type-erased [`Credentials`].

use imageshare_core::{
    ClientBuilder, ClientConfig, CloudCredentials, Credentials, ProviderAction, ProviderSpec,
    Result,
};

use crate::credential::UCloudCredentials;
use crate::limits::{uhost_rate_limits, UHOST_COPY, UHOST_LIMITS};
use crate::sharing::UCloudImageSharing;
use crate::UHOST;

/// The cloud of this crate's providers (they share its keys), as [`Credentials`] name it.
pub const CLOUD: &str = "ucloud";

/// The providers this crate serves: UCloud UHost ([`UHOST`]).
pub const PROVIDERS: &[ProviderSpec] = &[ProviderSpec {
    provider: UHOST,
    cloud: CLOUD,
    description: "UCloud UHost: custom images shared with projects",
    limits: &UHOST_LIMITS,
    rate_defaults: uhost_rate_limits,
    actions: <crate::UHostAction as ProviderAction>::actions,
    org_targets: None,
    copy: Some(&UHOST_COPY),
    build: |config, credentials| Ok(Box::new(uhost(config, credentials)?)),
}];

/// Builds a [`UCloudImageSharing`] from the shared settings and, when given, explicit
/// credentials (they must be UCloud's; else the UCloud chain runs at build time).
pub fn uhost(
    config: ClientConfig,
    credentials: Option<&Credentials>,
) -> Result<UCloudImageSharing> {
    let builder = UCloudImageSharing::builder().with_config(config);
    match credentials {
        Some(c) => builder
            .credentials_provider(c.provider::<UCloudCredentials>(UHOST)?)
            .build(),
        None => builder.build(),
    }
}

impl CloudCredentials for UCloudCredentials {
    const CLOUD: &'static str = CLOUD;
}

impl From<UCloudCredentials> for Credentials {
    fn from(credentials: UCloudCredentials) -> Self {
        Credentials::new(CLOUD, credentials)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageshare_core::credentials::StaticEnv;

    #[test]
    fn the_spec_builds_the_adapter_with_the_credentials_given() {
        let spec = &PROVIDERS[0];
        assert_eq!(spec.limits.provider, spec.provider);
        let creds: Credentials = UCloudCredentials::new("pub", "priv-SECRET").into();
        assert!(!format!("{creds:?}").contains("priv-SECRET"));
        let config = UCloudImageSharing::builder()
            .region("cn-bj2")
            .env(StaticEnv::new())
            .config()
            .clone();
        let a = (spec.build)(config.clone(), Some(&creds)).unwrap();
        assert_eq!((a.provider(), a.region().as_str()), (UHOST, "cn-bj2"));
        // Without credentials the chain runs (and finds none in an empty environment).
        let e = (spec.build)(config.clone(), None).unwrap_err();
        assert!(
            matches!(e, imageshare_core::Error::CredentialsNotFound { .. }),
            "{e:?}"
        );
        // Another cloud's credentials are refused.
        let other = Credentials::new("other", "key".to_owned());
        assert!((spec.build)(config, Some(&other)).is_err());
    }
}
