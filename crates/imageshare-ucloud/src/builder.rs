//! [`UCloudImageSharingBuilder`]: builds a [`UCloudImageSharing`].
//!
//! The settings every adapter shares (region, endpoint, profile, project, HTTP options,
//! retry, rate limits, clock, environment) are the embedded [`ClientConfig`], set through
//! [`ClientBuilder`]; this builder adds UCloud's own: credentials, zone, the sharing
//! action names, the page size and the projects per share call.

use std::sync::Arc;
use std::time::Duration;

use imageshare_core::credentials::{fixed, Found, ProvideCredentials, SharedProvider};
use imageshare_core::transport::Endpoint;
use imageshare_core::{ClientBuilder, ClientConfig, Error, Result};

use crate::client::{UCloudClient, GLOBAL_BASE_URL};
use crate::credential::instance_role::InstanceRole;
use crate::credential::sts::{AssumeRoleProvider, RoleRequest};
use crate::credential::{
    CredentialSource, UCloudChain, UCloudConfig, UCloudCredentials, ENV_REGION,
};
use crate::limits::{uhost_rate_limits, UHOST_LIMITS};
use crate::sharing::{SharingActions, UCloudImageSharing, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::UHOST;

/// Builds a [`UCloudImageSharing`]: `UCloudImageSharing::builder()` and
/// `UCloudImageSharing::from_env()` both start here.
///
/// Values given here always win. Every value not given is looked up, at
/// [`build`](Self::build) time, in the [`UCloudChain`] (`UCLOUD_*` variables, then
/// `~/.ucloud/config.json` and `credential.json`), read from the builder's
/// [`env`](ClientBuilder::env) (the process environment and home directory by default)
/// with the builder's [`profile`](ClientBuilder::profile). The region, endpoint and
/// project come from [`ClientBuilder`] (`region`, `endpoint`, `project`);
/// [`base_url`](Self::base_url) and [`project_id`](Self::project_id) are the same setters
/// under UCloud's names.
///
/// ```
/// use imageshare_core::credentials::StaticEnv;
/// use imageshare_core::{ClientBuilder, Error, Rate};
/// use imageshare_ucloud::{UCloudCredentials, UCloudImageSharing, UHostAction};
///
/// let uhost = UCloudImageSharing::builder()
///     .credentials(UCloudCredentials::new("pub", "priv"))
///     .region("cn-bj2")
///     .project_id("org-a1b2c3")
///     .rate_limit(UHostAction::DescribeImage, Rate::per_second(20.0))
///     .env(StaticEnv::new()) // nothing else to find: only the values given here
///     .build()
///     .unwrap();
/// assert_eq!(uhost.client().base_url(), "https://api.ucloud.cn/");
///
/// // No key pair given nor found: the chain lists where it looked.
/// let e = UCloudImageSharing::builder().region("cn-bj2").env(StaticEnv::new()).build();
/// assert!(matches!(e, Err(Error::CredentialsNotFound { .. })));
/// ```
#[derive(Debug, Clone)]
pub struct UCloudImageSharingBuilder {
    config: ClientConfig,
    credentials: Option<SharedProvider<UCloudCredentials>>,
    zone: Option<String>,
    instance_role: Option<InstanceRole>,
    actions: SharingActions,
    page_size: u32,
    max_projects_per_call: Option<usize>,
}

impl Default for UCloudImageSharingBuilder {
    fn default() -> Self {
        Self {
            config: ClientConfig::default(),
            credentials: None,
            zone: None,
            instance_role: None,
            actions: SharingActions::default(),
            page_size: DEFAULT_PAGE_SIZE,
            max_projects_per_call: None,
        }
    }
}

impl ClientBuilder for UCloudImageSharingBuilder {
    fn config(&self) -> &ClientConfig {
        &self.config
    }
    fn config_mut(&mut self) -> &mut ClientConfig {
        &mut self.config
    }
}

impl UCloudImageSharingBuilder {
    /// A builder with nothing set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The key pair (and STS token). Without it, the chain looks for one.
    #[must_use]
    pub fn credentials(self, credentials: UCloudCredentials) -> Self {
        self.credentials_provider(fixed(credentials, "explicit credentials"))
    }
    /// An explicit credentials provider (your own vault or broker, an STS role): used
    /// before the environment and the shared files, cached and refreshed before expiry.
    #[must_use]
    pub fn credentials_provider(mut self, provider: SharedProvider<UCloudCredentials>) -> Self {
        self.credentials = Some(provider);
        self
    }
    /// Asks for the UHost instance role (temporary credentials from the metadata server)
    /// as the last source of keys, after explicit, environment and shared-file keys. The
    /// UCloud SDK never tries it unasked, and neither does imageshare; see
    /// [`instance_role`](crate::credential::instance_role) for the wire rules. The server is
    /// [`ClientConfig::metadata_endpoint`] when set (`IMAGESHARE_METADATA_ENDPOINT`).
    #[must_use]
    pub fn instance_role(mut self, role: InstanceRole) -> Self {
        self.instance_role = Some(role);
        self
    }
    /// The zone, sent as `Zone` when set.
    #[must_use]
    pub fn zone(mut self, zone: impl Into<String>) -> Self {
        self.zone = Some(zone.into());
        self
    }
    /// The project the adapter acts for (`org-...`), sent as `ProjectId`: the same as
    /// [`ClientBuilder::project`]. Without it UCloud uses the account's default project;
    /// sub-accounts must set it.
    #[must_use]
    pub fn project_id(self, project_id: impl Into<String>) -> Self {
        self.project(project_id)
    }
    /// The API base URL (default `https://api.ucloud.cn`): UCloud Global, a private
    /// endpoint, the emulator. The same as [`ClientBuilder::endpoint`]; validated in
    /// [`build`](Self::build).
    #[must_use]
    pub fn base_url(self, base_url: impl Into<String>) -> Self {
        self.endpoint(base_url)
    }
    /// Uses UCloud Global, `https://api.ucloud-global.com`.
    #[must_use]
    pub fn global(self) -> Self {
        self.endpoint(GLOBAL_BASE_URL)
    }
    /// All the sharing action names at once.
    #[must_use]
    pub fn actions(mut self, actions: SharingActions) -> Self {
        self.actions = actions;
        self
    }
    /// Renames the share action.
    #[must_use]
    pub fn share_action(mut self, name: impl Into<String>) -> Self {
        self.actions.share = name.into();
        self
    }
    /// Renames the cancel-share action.
    #[must_use]
    pub fn cancel_share_action(mut self, name: impl Into<String>) -> Self {
        self.actions.cancel_share = name.into();
        self
    }
    /// Renames the list-sharees action.
    #[must_use]
    pub fn describe_share_action(mut self, name: impl Into<String>) -> Self {
        self.actions.describe_share = name.into();
        self
    }
    /// Renames the list-shared-with-me action.
    #[must_use]
    pub fn describe_shared_action(mut self, name: impl Into<String>) -> Self {
        self.actions.describe_shared = name.into();
        self
    }
    /// Renames the save-shared-image action.
    #[must_use]
    pub fn save_shared_action(mut self, name: impl Into<String>) -> Self {
        self.actions.save_shared = name.into();
        self
    }
    /// Page size (`Limit`) of the listing calls, 1 to 100 (default 100).
    #[must_use]
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }
    /// Projects per share call (default 1, imageshare's choice: see [`UHOST_LIMITS`]); the
    /// limit checker batches by it. Raise it only for an endpoint whose share action takes
    /// several `TargetProjectIds`.
    #[must_use]
    pub fn max_projects_per_call(mut self, n: usize) -> Self {
        self.max_projects_per_call = Some(n);
        self
    }

    /// The chain for what is not given here: the builder's values as explicit values, so
    /// the shared files are read only when something is still missing.
    fn chain(&self) -> UCloudChain {
        let mut chain = UCloudChain::new().config(UCloudConfig {
            project_id: self.config.project().map(str::to_owned),
            region: self.config.region().map(|r| r.as_str().to_owned()),
            zone: self.zone.clone(),
            base_url: self.config.endpoint().map(str::to_owned),
            timeout_secs: None,
        });
        if let Some(c) = &self.credentials {
            chain = chain.credentials_provider(c.clone());
        }
        if let Some(p) = self.config.profile() {
            chain = chain.profile(p);
        }
        if let Some(role) = &self.instance_role {
            chain = chain.instance_role(role.clone());
        }
        if let Some(endpoint) = self.config.metadata_endpoint() {
            chain = chain.metadata_endpoint(endpoint);
        }
        chain
    }

    /// Builds the adapter, running the chain for every value not given (see the
    /// [type docs](Self)). The chain's timeout (`UCLOUD_TIMEOUT_SECOND`, `timeout_sec`)
    /// applies when no HTTP options were set. Errors: [`Error::CredentialsNotFound`]
    /// listing every source tried when no key pair is given or found;
    /// [`Error::InvalidInput`] for a missing or malformed region, a bad base URL or page
    /// size, an action name that is not one, a half-set key pair in the environment or a
    /// malformed shared file.
    pub fn build(self) -> Result<UCloudImageSharing> {
        let resolved = self.chain().resolve(self.config.env())?;
        let chain = resolved.config;
        let region = self.config.resolve_region(
            &UHOST_LIMITS,
            chain.region.clone().map(Into::into),
            &format!("set {ENV_REGION}"),
        )?;
        let endpoint = self
            .config
            .resolve_endpoint(|| chain.base_url_or_default().to_owned())?;
        self.check_settings()?;
        let mut config = self.config;
        if config.client_options().is_none() {
            if let Some(secs) = chain.timeout_secs.filter(|s| *s > 0) {
                config.update_client_options(|o| o.with_timeout(Duration::from_secs(secs)));
            }
        }
        let transport = config.transport(UHOST, uhost_rate_limits())?;
        // An explicit provider names its own source (a vault, a role); the chain's other
        // finds are named by the chain.
        let source = match &resolved.credential_source {
            CredentialSource::Explicit => resolved.credentials.source(),
            other => other.to_string(),
        };
        let found = Found::new(resolved.credentials, source);
        let mut credentials = Arc::new(config.credentials_cache(UHOST, found));
        if let Some(role) = config.assume_role() {
            // STS AssumeRole signed with what the chain found, through the same transport,
            // to the STS endpoint when one is set, else the API base URL.
            let role = RoleRequest::new(role, config.clock().now())?;
            let sts_endpoint = match config.sts_endpoint() {
                Some(url) => Endpoint::parse(&url)?,
                None => endpoint.clone(),
            };
            let sts = UCloudClient::with_credentials(
                &sts_endpoint,
                credentials,
                region.clone(),
                None,
                None,
                transport.clone(),
            )?;
            let provider = AssumeRoleProvider::new(sts, role);
            let source = provider.source();
            credentials =
                Arc::new(config.credentials_cache(UHOST, Found::new(Arc::new(provider), source)));
        }
        let client = UCloudClient::with_credentials(
            &endpoint,
            credentials,
            region,
            chain.zone,
            chain.project_id,
            transport,
        )?;
        let limits = match self.max_projects_per_call {
            Some(n) => UHOST_LIMITS.with_max_principals_per_call(n),
            None => UHOST_LIMITS,
        };
        Ok(UCloudImageSharing::new(
            client,
            limits,
            self.actions,
            self.page_size,
        ))
    }

    /// The page size and the action names, which no chain supplies.
    fn check_settings(&self) -> Result<()> {
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(Error::invalid_input(
                "page_size",
                format!("{} is not between 1 and {MAX_PAGE_SIZE}", self.page_size),
            ));
        }
        for (field, name) in [
            ("share_action", &self.actions.share),
            ("cancel_share_action", &self.actions.cancel_share),
            ("describe_share_action", &self.actions.describe_share),
            ("describe_shared_action", &self.actions.describe_shared),
            ("save_shared_action", &self.actions.save_shared),
        ] {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(Error::invalid_input(
                    field,
                    format!("{name:?} is not an action name (letters and digits)"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageshare_core::credentials::StaticEnv;
    use imageshare_core::ImageSharing;

    /// A builder that reads nothing from the process environment or home directory.
    fn hermetic() -> UCloudImageSharingBuilder {
        UCloudImageSharing::builder().env(StaticEnv::new())
    }

    #[test]
    fn builder_validates() {
        let creds = UCloudCredentials::new("pub", "priv-SECRET");
        // No key pair given, none in the (empty) environment or files: the chain's error,
        // listing every source it tried.
        let e = hermetic().region("cn-bj2").build().unwrap_err();
        match &e {
            Error::CredentialsNotFound {
                provider, tried, ..
            } => {
                assert_eq!(*provider, UHOST);
                assert_eq!(tried.len(), 4, "{tried:?}");
                assert!(tried[0].contains("explicit credentials"), "{tried:?}");
                assert!(tried[1].contains("UCLOUD_PUBLIC_KEY"), "{tried:?}");
                assert!(tried[2].contains("shared credential file"), "{tried:?}");
                assert!(tried[3].contains("instance role"), "{tried:?}");
                assert!(tried[3].contains("not asked for"), "{tried:?}");
            }
            other => panic!("{other:?}"),
        }
        let e = hermetic().credentials(creds.clone()).build().unwrap_err();
        assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "region"));
        let e = hermetic()
            .credentials(creds.clone())
            .region("cn-bj2")
            .base_url("api.ucloud.cn")
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "endpoint"));
        let e = hermetic()
            .credentials(creds.clone())
            .region("cn-bj2")
            .share_action("Share Image")
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "share_action"));
        let a = hermetic()
            .credentials(creds.clone())
            .region("cn-bj2")
            .global()
            .max_projects_per_call(5)
            .build()
            .unwrap();
        assert_eq!(a.client().base_url(), "https://api.ucloud-global.com/");
        assert_eq!(a.limits().max_principals_per_call, 5);
        let dbg = format!("{a:?}");
        assert!(!dbg.contains("priv-SECRET"), "{dbg}");
        let dbg = format!("{:?}", hermetic().credentials(creds).region("x"));
        assert!(!dbg.contains("priv-SECRET"), "{dbg}");
    }

    #[test]
    fn builder_refuses_a_malformed_region() {
        for bad in ["cn-bj2&x=1", "cn bj2", "cn-bj2\nX-Injected: 1"] {
            let e = hermetic()
                .credentials(UCloudCredentials::new("pub", "priv"))
                .region(bad)
                .build()
                .unwrap_err();
            assert!(
                matches!(&e, Error::InvalidInput { field, message, .. }
                    if field == "region" && message.contains("is not a region id of ucloud")),
                "{bad:?}: {e:?}"
            );
        }
    }
}
