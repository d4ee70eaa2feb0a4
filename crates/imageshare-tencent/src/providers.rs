//! The providers this crate serves, as the facade's registry lists them
//! ([`PROVIDERS`]), and the conversion of [`TencentCredentials`] into the registry's
//! type-erased [`Credentials`].

use imageshare_core::{
    ClientBuilder, ClientConfig, CloudCredentials, Credentials, ProviderAction, ProviderSpec,
    Result,
};

use crate::limits::{
    cvm_rate_limits, lighthouse_rate_limits, CVM_COPY, CVM_LIMITS, LIGHTHOUSE_COPY,
    LIGHTHOUSE_LIMITS,
};
use crate::{
    TencentCredentials, TencentCvmImageSharing, TencentLighthouseImageSharing, CVM, LIGHTHOUSE,
};

/// The cloud of Tencent's credentials (CVM and Lighthouse share them).
pub const CLOUD: &str = "tencent";

/// CVM and Lighthouse, for the facade's registry.
pub const PROVIDERS: &[ProviderSpec] = &[
    ProviderSpec {
        provider: CVM,
        cloud: CLOUD,
        description: "Tencent Cloud CVM custom images (API 2017-03-12)",
        limits: &CVM_LIMITS,
        rate_defaults: cvm_rate_limits,
        actions: <crate::CvmAction as ProviderAction>::actions,
        org_targets: None,
        copy: Some(&CVM_COPY),
        build: |config, credentials| Ok(Box::new(cvm(config, credentials)?)),
    },
    ProviderSpec {
        provider: LIGHTHOUSE,
        cloud: CLOUD,
        description: "Tencent Cloud Lighthouse blueprints (API 2020-03-24)",
        limits: &LIGHTHOUSE_LIMITS,
        rate_defaults: lighthouse_rate_limits,
        actions: <crate::LighthouseAction as ProviderAction>::actions,
        org_targets: None,
        copy: Some(&LIGHTHOUSE_COPY),
        build: |config, credentials| Ok(Box::new(lighthouse(config, credentials)?)),
    },
];

/// The CVM adapter from shared settings and, when given, explicit credentials (they must
/// be Tencent's); else the credential chain runs.
pub fn cvm(
    config: ClientConfig,
    credentials: Option<&Credentials>,
) -> Result<TencentCvmImageSharing> {
    let b = TencentCvmImageSharing::builder().with_config(config);
    match credentials {
        Some(c) => b
            .credentials_provider(c.provider::<TencentCredentials>(CVM)?)
            .build(),
        None => b.build(),
    }
}

/// The Lighthouse adapter from shared settings and, when given, explicit credentials.
pub fn lighthouse(
    config: ClientConfig,
    credentials: Option<&Credentials>,
) -> Result<TencentLighthouseImageSharing> {
    let b = TencentLighthouseImageSharing::builder().with_config(config);
    match credentials {
        Some(c) => b
            .credentials_provider(c.provider::<TencentCredentials>(LIGHTHOUSE)?)
            .build(),
        None => b.build(),
    }
}

impl CloudCredentials for TencentCredentials {
    const CLOUD: &'static str = CLOUD;
}

impl From<TencentCredentials> for Credentials {
    fn from(c: TencentCredentials) -> Self {
        Credentials::new(CLOUD, c)
    }
}
