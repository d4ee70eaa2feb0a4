//! [`Services`]: what the fetching credential sources (STS `AssumeRole`, TKE OIDC, the CVM
//! instance role) need besides the environment the chain reads: who asks, where STS and
//! the metadata server are, the HTTP options and retry policy of their calls, the clock,
//! the refresh margin, and the environment a provider reads again when it refreshes (the
//! OIDC token file).
//!
//! Every STS and metadata call goes through a core [`Transport`] (tracing span, timeouts,
//! retries); none uses a client of its own. STS calls skip the rate limiter (the
//! credentials cache makes at most one per validity period); metadata calls use a short
//! connect timeout ([`METADATA_CONNECT_TIMEOUT`]) so that a machine that is not a CVM
//! instance learns it quickly.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use imageshare_core::credentials::{CredentialsCache, Env, OsEnv, SharedProvider};
use imageshare_core::transport::{ClientOptions, Endpoint, RetryConfig, Transport};
use imageshare_core::{ClientConfig, Clock, Provider, Result};

use super::TencentCredentials;

/// The STS host of the official SDKs (`endpoint = "sts.tencentcloudapi.com"`, Go
/// `tencentcloud/common/role_arn_provider.go`; Python `STSAssumeRoleCredential._endpoint`).
pub const STS_HOST: &str = "sts.tencentcloudapi.com";

/// The metadata server of the official SDKs (`metaUrl =
/// "http://metadata.tencentyun.com/latest/meta-data/"`, Go
/// `tencentcloud/common/cvm_role_provider.go`; Python `CVMRoleCredential._metadata_endpoint`).
pub const METADATA_ENDPOINT: &str = "http://metadata.tencentyun.com";

/// The connect timeout of metadata calls. The SDKs set none (Go `http.Get`, Python
/// `urlopen`); imageshare uses 1 s, as the AWS SDKs do for their instance metadata, so
/// that the last source of the chain fails fast off a CVM instance.
pub const METADATA_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The per-attempt timeout of metadata calls (the server is link-local and answers fast).
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(3);

/// An [`Env`] that reads through a builder's [`ClientConfig`] (a clone shares the
/// configured environment), so that a provider reads the same environment when it
/// refreshes as the chain did when the adapter was built.
#[derive(Clone)]
struct ConfigEnv(ClientConfig);

impl fmt::Debug for ConfigEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The environment may hold secrets (StaticEnv prints its variables): never shown.
        f.write_str("ConfigEnv")
    }
}

impl Env for ConfigEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.env().var(name)
    }
    fn home_dir(&self) -> Option<std::path::PathBuf> {
        self.0.env().home_dir()
    }
    fn read_file(&self, path: &std::path::Path) -> std::io::Result<String> {
        self.0.env().read_file(path)
    }
    fn file_mode(&self, path: &std::path::Path) -> Option<u32> {
        self.0.env().file_mode(path)
    }
    fn exposed_file(&self, warning: &imageshare_core::credentials::ExposedFile) {
        self.0.env().exposed_file(warning)
    }
}

/// What the fetching sources need; see the [module docs](self). Cheap to clone.
#[derive(Clone)]
pub struct Services {
    provider: Provider,
    sts_endpoint: Option<String>,
    metadata_endpoint: Option<String>,
    options: ClientOptions,
    retry: RetryConfig,
    clock: Clock,
    refresh_margin: Option<Duration>,
    env: Arc<dyn Env>,
}

impl fmt::Debug for Services {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Services")
            .field("provider", &self.provider)
            .field("sts_endpoint", &self.sts_endpoint)
            .field("metadata_endpoint", &self.metadata_endpoint)
            .field("refresh_margin", &self.refresh_margin)
            .finish_non_exhaustive()
    }
}

impl Services {
    /// The defaults for `provider` (named in errors): public STS, the SDKs' metadata
    /// server, default HTTP options and retries, the system clock, the process
    /// environment.
    #[must_use]
    pub fn new(provider: Provider) -> Self {
        Services {
            provider,
            sts_endpoint: None,
            metadata_endpoint: None,
            options: ClientOptions::default(),
            retry: RetryConfig::default(),
            clock: Clock::system(),
            refresh_margin: None,
            env: Arc::new(OsEnv),
        }
    }

    /// What a builder's `config` says: its STS and metadata endpoints
    /// ([`ClientConfig::sts_endpoint`], [`ClientConfig::metadata_endpoint`]), HTTP options,
    /// retry policy, clock, refresh margin and environment.
    #[must_use]
    pub fn from_config(config: &ClientConfig, provider: Provider) -> Self {
        Services {
            provider,
            sts_endpoint: config.sts_endpoint(),
            metadata_endpoint: config.metadata_endpoint(),
            options: config.options_or_default(),
            retry: config.retry().clone(),
            clock: config.clock().clone(),
            refresh_margin: config.refresh_margin(),
            env: Arc::new(ConfigEnv(config.clone())),
        }
    }

    /// The same, calling STS at `endpoint` (`http(s)://host[:port]`).
    #[must_use]
    pub fn with_sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.sts_endpoint = Some(endpoint.into());
        self
    }

    /// The same, reading the instance metadata server at `endpoint`.
    #[must_use]
    pub fn with_metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.metadata_endpoint = Some(endpoint.into());
        self
    }

    /// The same, with these HTTP options (timeouts, user agent).
    #[must_use]
    pub fn with_options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }

    /// The same, with this retry policy for STS calls.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The same, reading time from `clock` (request timestamps, expiry).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same, reading files again (the OIDC token file) through `env`.
    #[must_use]
    pub fn with_env(mut self, env: Arc<dyn Env>) -> Self {
        self.env = env;
        self
    }

    /// The provider named in errors.
    #[must_use]
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The environment providers read again when they refresh.
    pub(crate) fn env(&self) -> &dyn Env {
        self.env.as_ref()
    }

    /// The STS endpoint: the one set, else `https://sts.tencentcloudapi.com`.
    pub fn sts_endpoint(&self) -> Result<Endpoint> {
        match &self.sts_endpoint {
            Some(e) => Endpoint::parse(e),
            None => Endpoint::parse(&format!("https://{STS_HOST}")),
        }
    }

    /// Whether an STS endpoint was set (else the public one is used).
    pub(crate) fn has_sts_endpoint(&self) -> bool {
        self.sts_endpoint.is_some()
    }

    /// The metadata server: the one set, else [`METADATA_ENDPOINT`].
    pub fn metadata_endpoint(&self) -> Result<Endpoint> {
        Endpoint::parse(
            self.metadata_endpoint
                .as_deref()
                .unwrap_or(METADATA_ENDPOINT),
        )
    }

    /// The transport of STS calls: the configured options and retries, no rate limiter.
    pub(crate) fn sts_transport(&self) -> Result<Transport> {
        Transport::new(
            self.options.clone().without_rate_limiter(),
            self.retry.clone(),
        )
    }

    /// The transport of metadata calls: 1 s to connect, 3 s per attempt (never more than
    /// the configured ones), two attempts, no rate limiter.
    pub(crate) fn metadata_transport(&self) -> Result<Transport> {
        let options = self
            .options
            .clone()
            .without_rate_limiter()
            .with_connect_timeout(self.options.connect_timeout().min(METADATA_CONNECT_TIMEOUT))
            .with_timeout(self.options.timeout().min(METADATA_TIMEOUT));
        let retry = RetryConfig {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
            ..self.retry.clone()
        };
        Transport::new(options, retry)
    }

    /// A credentials cache over `provider`, described as `source`, with this clock and
    /// refresh margin.
    pub(crate) fn cache(
        &self,
        provider: SharedProvider<TencentCredentials>,
        source: impl Into<String>,
    ) -> CredentialsCache<TencentCredentials> {
        let cache =
            CredentialsCache::new(self.provider, provider, self.clock.clone()).with_source(source);
        match self.refresh_margin {
            Some(margin) => cache.with_margin(margin),
            None => cache,
        }
    }
}
