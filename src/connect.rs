//! One entry point that builds any adapter, already behind the limit checker, from a
//! provider name: [`connect`] for the defaults, [`Connect`] for the options.

#[allow(unused_imports)]
use imageshare_core::credentials::{OsEnv, OverlayEnv};
use imageshare_core::ratelimit::{Rate, RateLimits};
use imageshare_core::transport::{ClientOptions, RetryConfig};
use imageshare_core::{
    AuditLog, Audited, CheckOptions, Checked, Error, ImageSharing, Provider, Result, TrustPolicy,
    Trusted,
};

/// Applies the options every builder shares (region, endpoint, HTTP options, retry, rate
/// limits).
macro_rules! configure {
    ($opts:expr, $builder:expr) => {{
        let mut b = $builder;
        if let Some(r) = &$opts.region {
            b = b.region(r.as_str());
        }
        if let Some(e) = &$opts.endpoint {
            b = b.endpoint(e.as_str());
        }
        if let Some(o) = &$opts.client {
            b = b.client_options(o.clone());
        }
        if let Some(r) = &$opts.retry {
            b = b.retry(r.clone());
        }
        if let Some(t) = &$opts.rate_limits {
            b = b.rate_limits(t.clone());
        }
        for (action, rate) in &$opts.rate_overrides {
            b = b.rate_limit(action.as_str(), *rate);
        }
        b
    }};
}

/// Starts an Alibaba builder: explicit credentials, else the chain (with the profile).
#[cfg(feature = "alibaba")]
macro_rules! alibaba_start {
    ($opts:expr, $adapter:ty) => {
        match &$opts.credentials {
            None => match &$opts.profile {
                Some(p) => <$adapter>::from_env_in(
                    &OverlayEnv::new(OsEnv).with_var(crate::alibaba::credential::PROFILE_VAR, p),
                )?,
                None => <$adapter>::from_env()?,
            },
            Some(Credentials::Alibaba(c)) => <$adapter>::builder().credentials(c.clone()),
            #[allow(unreachable_patterns)]
            Some(_) => return Err($opts.wrong_credentials()),
        }
    };
}

/// Starts a Tencent builder: explicit credentials, else the chain (with the profile).
#[cfg(feature = "tencent")]
macro_rules! tencent_start {
    ($opts:expr, $adapter:ty, $provider:expr) => {
        match &$opts.credentials {
            None => match &$opts.profile {
                Some(p) => <$adapter>::builder().credential_chain(
                    crate::tencent::CredentialChain::for_provider($provider).profile(p),
                ),
                None => <$adapter>::from_env()?,
            },
            Some(Credentials::Tencent(c)) => <$adapter>::builder().credentials(c.clone()),
            #[allow(unreachable_patterns)]
            Some(_) => return Err($opts.wrong_credentials()),
        }
    };
}

/// An adapter behind the limit checker, whatever the provider.
pub type DynSharing = Checked<Box<dyn ImageSharing>>;

/// Credentials of one cloud, for [`Connect::credentials`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// Alibaba Cloud AccessKey (ECS, SAS).
    #[cfg(feature = "alibaba")]
    Alibaba(crate::alibaba::AlibabaCredentials),
    /// Tencent Cloud SecretId / SecretKey (CVM, Lighthouse).
    #[cfg(feature = "tencent")]
    Tencent(crate::tencent::TencentCredentials),
    /// UCloud key pair.
    #[cfg(feature = "ucloud")]
    UCloud(crate::ucloud::UCloudCredentials),
}

#[cfg(feature = "alibaba")]
impl From<crate::alibaba::AlibabaCredentials> for Credentials {
    fn from(c: crate::alibaba::AlibabaCredentials) -> Self {
        Credentials::Alibaba(c)
    }
}

#[cfg(feature = "tencent")]
impl From<crate::tencent::TencentCredentials> for Credentials {
    fn from(c: crate::tencent::TencentCredentials) -> Self {
        Credentials::Tencent(c)
    }
}

#[cfg(feature = "ucloud")]
impl From<crate::ucloud::UCloudCredentials> for Credentials {
    fn from(c: crate::ucloud::UCloudCredentials) -> Self {
        Credentials::UCloud(c)
    }
}

/// Options for building an adapter. Anything left unset comes from the cloud's own
/// credential chain and configuration (environment variables, then the CLI profile file).
#[derive(Debug, Clone)]
pub struct Connect {
    provider: Provider,
    region: Option<String>,
    endpoint: Option<String>,
    credentials: Option<Credentials>,
    project_id: Option<String>,
    profile: Option<String>,
    client: Option<ClientOptions>,
    retry: Option<RetryConfig>,
    rate_limits: Option<RateLimits>,
    rate_overrides: Vec<(String, Rate)>,
    check: CheckOptions,
    audit: Option<AuditLog>,
    trust: TrustPolicy,
}

impl Connect {
    /// Options for `provider`, all unset.
    pub fn new(provider: Provider) -> Self {
        Self {
            provider,
            region: None,
            endpoint: None,
            credentials: None,
            project_id: None,
            profile: None,
            client: None,
            retry: None,
            rate_limits: None,
            rate_overrides: Vec::new(),
            check: CheckOptions::default(),
            audit: None,
            trust: TrustPolicy::default(),
        }
    }
    /// The region.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }
    /// An endpoint override (private endpoint, VPC endpoint, the emulator).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }
    /// Explicit credentials (they must be the provider's cloud's).
    pub fn credentials(mut self, credentials: impl Into<Credentials>) -> Self {
        self.credentials = Some(credentials.into());
        self
    }
    /// The UCloud project to act in (ignored by other providers).
    pub fn project_id(mut self, project: impl Into<String>) -> Self {
        self.project_id = Some(project.into());
        self
    }
    /// A named profile of the cloud's CLI profile file (`ALIBABA_CLOUD_PROFILE`, a section
    /// of `~/.tencentcloud/credentials`, `UCLOUD_PROFILE`), used when no explicit
    /// credentials are given. Environment variables still come first, as in each cloud's
    /// own chain.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }
    /// Points the adapter at a running emulator, acting as `account` of its world: sets
    /// the endpoint, that account's keys for this provider's cloud, and (UCloud) its first
    /// project unless a project was given.
    ///
    /// # Panics
    /// When `account` is not in the emulator's world or has no key for this cloud (a
    /// mistake in the test's world, not a runtime condition).
    #[cfg(feature = "emulator")]
    pub fn emulator(mut self, emu: &imageshare_emulator::Emulator, account: &str) -> Self {
        let a = emu
            .account(account)
            .unwrap_or_else(|| panic!("account {account} is not in the emulator's world"));
        let credentials: Option<Credentials> = match self.provider {
            Provider::AlibabaEcs | Provider::AlibabaSas => a.alibaba_credentials().map(Into::into),
            Provider::TencentCvm | Provider::TencentLighthouse => {
                a.tencent_credentials().map(Into::into)
            }
            Provider::UCloud => a.ucloud_credentials().map(Into::into),
        };
        self.credentials = Some(credentials.unwrap_or_else(|| {
            panic!(
                "account {account} has no {} key in the world",
                self.provider
            )
        }));
        if self.project_id.is_none() && self.provider == Provider::UCloud {
            self.project_id = a.projects.first().cloned();
        }
        self.endpoint = Some(emu.base_url());
        self
    }
    /// HTTP options (timeouts, concurrency bound).
    pub fn client_options(mut self, options: ClientOptions) -> Self {
        self.client = Some(options);
        self
    }
    /// Retry policy.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }
    /// Client-side rate limits per action for this provider, replacing its published (or
    /// chosen) defaults; `RateLimits::none()` turns client-side limiting off. They are set
    /// on the rate limiter of the client options: adapters built from clones of the same
    /// [`ClientOptions`] share one limiter, and so one quota per (provider, action).
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = Some(limits);
        self
    }
    /// The client-side rate of one action, on top of the provider's defaults (or of
    /// [`rate_limits`](Self::rate_limits)).
    pub fn rate_limit(mut self, action: impl Into<String>, rate: Rate) -> Self {
        self.rate_overrides.push((action.into(), rate));
        self
    }
    /// The default client-side rate limits of `provider` (its cloud's published quotas, or
    /// imageshare's conservative choice where none is published); `None` when its cloud's
    /// cargo feature is off.
    pub fn default_rate_limits(provider: Provider) -> Option<RateLimits> {
        match provider {
            #[cfg(feature = "alibaba")]
            Provider::AlibabaEcs => Some(crate::alibaba::limits::ecs_rate_limits()),
            #[cfg(feature = "alibaba")]
            Provider::AlibabaSas => Some(crate::alibaba::limits::sas_rate_limits()),
            #[cfg(feature = "tencent")]
            Provider::TencentCvm => Some(crate::tencent::limits::cvm_rate_limits()),
            #[cfg(feature = "tencent")]
            Provider::TencentLighthouse => Some(crate::tencent::limits::lighthouse_rate_limits()),
            #[cfg(feature = "ucloud")]
            Provider::UCloud => Some(crate::ucloud::limits::uhost_rate_limits()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
    /// Limit-checker options (encrypted-image acknowledgement, known principal sites).
    pub fn check_options(mut self, options: CheckOptions) -> Self {
        self.check = options;
        self
    }

    /// Records every grant, revoke and cross-project copy of the adapters built from these
    /// options in `log` (an [`Audited`] layer under the limit checker, so each call is one
    /// set of lines with its own request id). Clones of one `AuditLog` share one writer:
    /// open it once and give every connection a clone.
    pub fn audit(mut self, log: AuditLog) -> Self {
        self.audit = Some(log);
        self
    }
    /// Accepts images shared by other owners only as `policy` says (a [`Trusted`] layer:
    /// `shared_with_me` lists accepted images only, `copy` refuses the others before
    /// sending anything). The default accepts any owner.
    pub fn trust(mut self, policy: TrustPolicy) -> Self {
        self.trust = policy;
        self
    }
    /// The audit trail set with [`audit`](Self::audit).
    pub fn audit_log(&self) -> Option<&AuditLog> {
        self.audit.as_ref()
    }
    /// The trust policy set with [`trust`](Self::trust).
    pub fn trust_policy(&self) -> &TrustPolicy {
        &self.trust
    }
    /// The migration flows with these options' audit trail and trust policy.
    pub fn flows(&self) -> crate::migrate::Flows {
        let flows = crate::migrate::Flows::new().trust(self.trust.clone());
        match &self.audit {
            Some(log) => flows.audit(log.clone()),
            None => flows,
        }
    }

    /// Puts the audit and trust layers (when set) in front of `adapter`.
    fn layered(
        adapter: Box<dyn ImageSharing>,
        audit: Option<AuditLog>,
        trust: TrustPolicy,
    ) -> Box<dyn ImageSharing> {
        let adapter: Box<dyn ImageSharing> = match audit {
            Some(log) => Box::new(Audited::new(adapter, log)),
            None => adapter,
        };
        if trust.restricts(adapter.provider()) {
            Box::new(Trusted::new(adapter, trust))
        } else {
            adapter
        }
    }

    fn wrong_credentials(&self) -> Error {
        Error::invalid_input(
            "credentials",
            format!("the credentials given are not {}'s cloud's", self.provider),
        )
    }

    /// Builds the adapter, behind the trust policy and the audit trail when set, and wraps
    /// it in the limit checker.
    pub fn build(self) -> Result<DynSharing> {
        let check = self.check.clone();
        Ok(Checked::with_options(self.build_unchecked()?, check))
    }

    /// Builds the adapter, behind the trust policy and the audit trail when set, without
    /// the limit checker (tests that show what the server itself refuses; wrap it in
    /// [`Checked`] for anything else).
    pub fn build_unchecked(self) -> Result<Box<dyn ImageSharing>> {
        let (audit, trust) = (self.audit.clone(), self.trust.clone());
        Ok(Self::layered(self.build_bare()?, audit, trust))
    }

    fn build_bare(self) -> Result<Box<dyn ImageSharing>> {
        let adapter: Box<dyn ImageSharing> = match self.provider {
            #[cfg(feature = "alibaba")]
            Provider::AlibabaEcs => Box::new(self.ecs()?),
            #[cfg(feature = "alibaba")]
            Provider::AlibabaSas => Box::new(self.sas()?),
            #[cfg(feature = "tencent")]
            Provider::TencentCvm => Box::new(self.cvm()?),
            #[cfg(feature = "tencent")]
            Provider::TencentLighthouse => Box::new(self.lighthouse()?),
            #[cfg(feature = "ucloud")]
            Provider::UCloud => Box::new(self.ucloud()?),
            #[allow(unreachable_patterns)]
            other => {
                return Err(Error::Unsupported {
                    provider: other,
                    operation: "connect".into(),
                    reason: "this provider's cargo feature is not compiled in".into(),
                })
            }
        };
        Ok(adapter)
    }

    /// The ECS adapter itself (for ECS-only operations such as `copy_with`), without the
    /// limit checker, the trust policy or the audit trail (the migration flows of
    /// [`flows`](Self::flows) apply those to the adapters they are given).
    #[cfg(feature = "alibaba")]
    pub fn ecs(self) -> Result<crate::alibaba::EcsImageSharing> {
        let b = alibaba_start!(self, crate::alibaba::EcsImageSharing);
        configure!(self, b).build()
    }

    /// The SAS adapter itself (for `share_to_ecs`), without the limit checker, trust
    /// policy or audit trail.
    #[cfg(feature = "alibaba")]
    pub fn sas(self) -> Result<crate::alibaba::SasImageSharing> {
        let b = alibaba_start!(self, crate::alibaba::SasImageSharing);
        configure!(self, b).build()
    }

    /// The CVM adapter itself, without the limit checker, trust policy or audit trail.
    #[cfg(feature = "tencent")]
    pub fn cvm(self) -> Result<crate::tencent::TencentCvmImageSharing> {
        let b = tencent_start!(
            self,
            crate::tencent::TencentCvmImageSharing,
            Provider::TencentCvm
        );
        configure!(self, b).build()
    }

    /// The Lighthouse adapter itself (for `share_from_cvm`), without the limit checker, trust
    /// policy or audit trail.
    #[cfg(feature = "tencent")]
    pub fn lighthouse(self) -> Result<crate::tencent::TencentLighthouseImageSharing> {
        let b = tencent_start!(
            self,
            crate::tencent::TencentLighthouseImageSharing,
            Provider::TencentLighthouse
        );
        configure!(self, b).build()
    }

    /// The UCloud adapter itself (for `copy_to_project`), without the limit checker, trust
    /// policy or audit trail.
    #[cfg(feature = "ucloud")]
    pub fn ucloud(self) -> Result<crate::ucloud::UCloudImageSharing> {
        use crate::ucloud::UCloudImageSharing as A;
        let b = match &self.credentials {
            None => match &self.profile {
                Some(p) => A::from_env().chain(crate::ucloud::UCloudChain::new().profile(p)),
                None => A::from_env(),
            },
            Some(Credentials::UCloud(c)) => A::builder().credentials(c.clone()),
            #[allow(unreachable_patterns)]
            Some(_) => return Err(self.wrong_credentials()),
        };
        let b = match &self.project_id {
            Some(p) => b.project_id(p.as_str()),
            None => b,
        };
        configure!(self, b).build()
    }
}

/// Builds the adapter for `provider` (a name such as `tencent-cvm`) in `region`, with
/// credentials from the cloud's chain, behind the limit checker.
pub fn connect(provider: &str, region: &str) -> Result<DynSharing> {
    Connect::new(provider.parse()?).region(region).build()
}
