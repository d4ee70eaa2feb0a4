//! [`AlibabaBuilder`]: the one builder of the ECS and SAS adapters. The settings every
//! provider shares (region, endpoint, profile, timeouts, retry, rate limits, clock,
//! environment) come with [`ClientBuilder`]; the Alibaba ones (credentials, signature
//! version) are written once here, and ECS adds `kms_key_id`.

use std::fmt;
use std::marker::PhantomData;

use imageshare_core::credentials::{fixed, SharedProvider};
use imageshare_core::{ClientBuilder, ClientConfig};

use crate::client::{AlibabaSettings, SignatureVersion};
use crate::credential::AlibabaCredentials;

/// Builds an Alibaba adapter `A` ([`EcsBuilder`](crate::EcsBuilder),
/// [`SasBuilder`](crate::SasBuilder)); `build()` is the adapter's.
pub struct AlibabaBuilder<A> {
    pub(crate) config: ClientConfig,
    pub(crate) settings: AlibabaSettings,
    /// `KMSKeyId` for ECS copies of encrypted images (ECS only).
    pub(crate) kms_key_id: Option<String>,
    /// Resource Sharing settings (ECS only).
    pub(crate) org: crate::resource_sharing::OrgSettings,
    adapter: PhantomData<fn() -> A>,
}

impl<A> Default for AlibabaBuilder<A> {
    fn default() -> Self {
        Self {
            config: ClientConfig::default(),
            settings: AlibabaSettings::default(),
            kms_key_id: None,
            org: Default::default(),
            adapter: PhantomData,
        }
    }
}

impl<A> Clone for AlibabaBuilder<A> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            settings: self.settings.clone(),
            kms_key_id: self.kms_key_id.clone(),
            org: self.org.clone(),
            adapter: PhantomData,
        }
    }
}

impl<A> fmt::Debug for AlibabaBuilder<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlibabaBuilder")
            .field("config", &self.config)
            .field("settings", &self.settings)
            .field("kms_key_id", &self.kms_key_id)
            .field("org", &self.org)
            .finish()
    }
}

impl<A> ClientBuilder for AlibabaBuilder<A> {
    fn config(&self) -> &ClientConfig {
        &self.config
    }
    fn config_mut(&mut self) -> &mut ClientConfig {
        &mut self.config
    }
}

impl<A> AlibabaBuilder<A> {
    /// Explicit credentials (an AccessKey pair, optionally with an STS token); without
    /// them `build` runs the credential chain.
    #[must_use]
    pub fn credentials(self, credentials: AlibabaCredentials) -> Self {
        self.credentials_provider(fixed(credentials, "explicit credentials"))
    }

    /// An explicit credentials provider (your own vault or broker, or an STS role): used
    /// before every source of the chain, cached and refreshed before expiry.
    #[must_use]
    pub fn credentials_provider(mut self, provider: SharedProvider<AlibabaCredentials>) -> Self {
        self.settings.credentials = Some(provider);
        self
    }

    /// The signature version (default: `ACS3-HMAC-SHA256`).
    #[must_use]
    pub fn signature_version(mut self, version: SignatureVersion) -> Self {
        self.settings.signature = version;
        self
    }
}
