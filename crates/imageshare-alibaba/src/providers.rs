//! The providers this crate serves, as the facade's registry lists them
//! ([`PROVIDERS`]), and the conversion of [`AlibabaCredentials`] into the registry's
//! type-erased [`Credentials`].

use imageshare_core::{
    ClientBuilder, ClientConfig, CloudCredentials, Credentials, ProviderAction, ProviderSpec,
    Result,
};

use crate::limits::{
    ecs_rate_limits, sas_rate_limits, ECS_COPY, ECS_LIMITS, ECS_ORG_TARGETS, SAS_LIMITS,
};
use crate::{AlibabaCredentials, EcsImageSharing, SasImageSharing, ECS, SAS};

/// The cloud of Alibaba's credentials (ECS and SAS share them).
pub const CLOUD: &str = "alibaba";

/// ECS and SAS, for the facade's registry.
pub const PROVIDERS: &[ProviderSpec] = &[
    ProviderSpec {
        provider: ECS,
        cloud: CLOUD,
        description: "Alibaba Cloud ECS custom images (API 2014-05-26)",
        limits: &ECS_LIMITS,
        rate_defaults: ecs_rate_limits,
        actions: <crate::EcsAction as ProviderAction>::actions,
        org_targets: Some(&ECS_ORG_TARGETS),
        copy: Some(&ECS_COPY),
        build: |config, credentials| Ok(Box::new(ecs(config, credentials)?)),
    },
    ProviderSpec {
        provider: SAS,
        cloud: CLOUD,
        description: "Alibaba Cloud Simple Application Server custom images (SWAS-OPEN 2020-06-01)",
        limits: &SAS_LIMITS,
        rate_defaults: sas_rate_limits,
        actions: <crate::SasAction as ProviderAction>::actions,
        org_targets: None,
        // The SWAS-OPEN API has no copy action.
        copy: None,
        build: |config, credentials| Ok(Box::new(sas(config, credentials)?)),
    },
];

/// The ECS adapter from shared settings and, when given, explicit credentials (they must
/// be Alibaba's); else the credential chain runs.
pub fn ecs(config: ClientConfig, credentials: Option<&Credentials>) -> Result<EcsImageSharing> {
    let b = EcsImageSharing::builder().with_config(config);
    match credentials {
        Some(c) => b
            .credentials_provider(c.provider::<AlibabaCredentials>(ECS)?)
            .build(),
        None => b.build(),
    }
}

/// The SAS adapter from shared settings and, when given, explicit credentials.
pub fn sas(config: ClientConfig, credentials: Option<&Credentials>) -> Result<SasImageSharing> {
    let b = SasImageSharing::builder().with_config(config);
    match credentials {
        Some(c) => b
            .credentials_provider(c.provider::<AlibabaCredentials>(SAS)?)
            .build(),
        None => b.build(),
    }
}

impl CloudCredentials for AlibabaCredentials {
    const CLOUD: &'static str = CLOUD;
}

impl From<AlibabaCredentials> for Credentials {
    fn from(c: AlibabaCredentials) -> Self {
        Credentials::new(CLOUD, c)
    }
}
