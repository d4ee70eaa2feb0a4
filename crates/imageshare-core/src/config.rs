//! [`ClientConfig`]: the settings every provider's builder shares, and [`ClientBuilder`],
//! the one builder trait that sets them.
//!
//! Each provider's builder embeds a `ClientConfig` and implements `ClientBuilder` (two
//! accessors); every shared setter (`region`, `endpoint`, `profile`, `timeout`, `retry`,
//! `rate_limit`, `clock`, `env`, ...) is then written once, here. At `build()` the
//! provider asks the config for what it needs, each written once too: the region
//! ([`ClientConfig::resolve_region`]), the endpoint ([`ClientConfig::resolve_endpoint`],
//! the one endpoint parser) and the transport with the provider's rate table merged with
//! the caller's ([`ClientConfig::transport`]).
//!
//! ```
//! use std::time::Duration;
//! use imageshare_core::{ClientBuilder, ClientConfig, Provider};
//! use imageshare_core::ratelimit::Rate;
//!
//! // A provider crate's builder: embed the config, implement the two accessors.
//! #[derive(Debug, Default)]
//! struct ExampleBuilder {
//!     config: ClientConfig,
//! }
//! impl ClientBuilder for ExampleBuilder {
//!     fn config(&self) -> &ClientConfig {
//!         &self.config
//!     }
//!     fn config_mut(&mut self) -> &mut ClientConfig {
//!         &mut self.config
//!     }
//! }
//!
//! // The provider crate's action names (see `imageshare_core::action`).
//! #[derive(Debug, Clone, Copy)]
//! enum ExampleAction {
//!     ShareImage,
//! }
//! impl imageshare_core::ProviderAction for ExampleAction {
//!     const PROVIDER: Provider = Provider::new("example-cloud");
//!     const ALL: &'static [Self] = &[ExampleAction::ShareImage];
//!     fn name(self) -> &'static str {
//!         "ShareImage"
//!     }
//! }
//!
//! let b = ExampleBuilder::default()
//!     .region("xx-north-1")
//!     .endpoint("http://127.0.0.1:8080")
//!     .timeout(Duration::from_secs(5))
//!     .rate_limit(ExampleAction::ShareImage, Rate::per_second(5.0));
//! assert_eq!(b.config().region().unwrap().as_str(), "xx-north-1");
//! let endpoint = b.config().resolve_endpoint(|| "https://api.example".into()).unwrap();
//! assert_eq!(endpoint.authority(), "127.0.0.1:8080");
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::action::Action;
use crate::credentials::{Env, OsEnv};
use crate::error::{Error, Result};
use crate::limits::ShareLimits;
use crate::model::{Provider, Region};
use crate::ratelimit::{Rate, RateLimits};
use crate::time::Clock;
use crate::transport::{ClientOptions, Endpoint, RetryConfig, RootCertificate, Transport};

/// The settings every provider's builder shares. Unset values come from the cloud's own
/// chain (environment variables, then its CLI profile file) or the defaults at `build()`.
#[derive(Clone, Default)]
pub struct ClientConfig {
    region: Option<Region>,
    endpoint: Option<String>,
    profile: Option<String>,
    project: Option<String>,
    options: Option<ClientOptions>,
    retry: RetryConfig,
    rate_limits: Option<RateLimits>,
    rate_overrides: Vec<(Action, Rate)>,
    clock: Clock,
    env: Option<Arc<dyn Env>>,
    sts_endpoint: Option<String>,
    metadata_endpoint: Option<String>,
    assume_role: Option<AssumeRole>,
    refresh_margin: Option<Duration>,
    organisation: OrganisationSharing,
}

/// Organisation-wide sharing (a cloud's own service for sharing with a whole
/// organisation: Alibaba Resource Sharing with a resource directory). Off by default, so
/// that plain account sharing never calls a service an account may not have activated;
/// providers without one ignore it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrganisationSharing {
    /// Whether the adapter takes `directory:`, `folder:` and `member:` principals and
    /// lists them among the sharees.
    pub enabled: bool,
    /// Whether accounts outside the organisation may be targets (they must accept an
    /// invitation): Alibaba's `AllowExternalTargets`.
    pub allow_external_targets: bool,
}

/// `IMAGESHARE_STS_ENDPOINT`: the STS endpoint when none is set on the builder (a private
/// or VPC STS endpoint, or the emulator).
pub const ENV_STS_ENDPOINT: &str = "IMAGESHARE_STS_ENDPOINT";
/// `IMAGESHARE_METADATA_ENDPOINT`: the instance metadata server when none is set on the
/// builder (the emulator in tests; the clouds' own link-local addresses by default).
pub const ENV_METADATA_ENDPOINT: &str = "IMAGESHARE_METADATA_ENDPOINT";

/// A role to assume with whatever credentials the chain found (STS `AssumeRole` of the
/// cloud): `--assume-role` on the CLI, `role = "..."` in a manifest entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    /// The role's ARN, in the cloud's form: `acs:ram::<account>:role/<name>` (Alibaba
    /// Cloud), `qcs::cam::uin/<account>:roleName/<name>` (Tencent Cloud).
    pub arn: String,
    /// The session name (`RoleSessionName`); the cloud crates default it to
    /// `imageshare-<unix time>`.
    pub session_name: Option<String>,
    /// The external id the role's trust policy asks for, if any (`ExternalId`).
    pub external_id: Option<String>,
    /// The requested lifetime (`DurationSeconds`); the cloud's default when `None`.
    pub duration: Option<Duration>,
    /// A session policy narrowing the role's permissions (`Policy`, JSON).
    pub policy: Option<String>,
}

impl AssumeRole {
    /// The role `arn`, with the cloud's defaults for everything else.
    pub fn new(arn: impl Into<String>) -> Self {
        AssumeRole {
            arn: arn.into(),
            session_name: None,
            external_id: None,
            duration: None,
            policy: None,
        }
    }
    /// The same, with session name `name`.
    #[must_use]
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.session_name = Some(name.into());
        self
    }
    /// The same, with external id `id`.
    #[must_use]
    pub fn external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into());
        self
    }
    /// The same, asking for credentials valid `duration`.
    #[must_use]
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }
    /// The same, with session policy `policy` (JSON).
    #[must_use]
    pub fn policy(mut self, policy: impl Into<String>) -> Self {
        self.policy = Some(policy.into());
        self
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("profile", &self.profile)
            .field("project", &self.project)
            .field("options", &self.options)
            .field("retry", &self.retry)
            .field("rate_limits", &self.rate_limits)
            .field("rate_overrides", &self.rate_overrides)
            .field("env", &self.env)
            .field("sts_endpoint", &self.sts_endpoint)
            .field("metadata_endpoint", &self.metadata_endpoint)
            .field("assume_role", &self.assume_role)
            .field("refresh_margin", &self.refresh_margin)
            .field("organisation", &self.organisation)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// Nothing set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The region set, if any.
    #[must_use]
    pub fn region(&self) -> Option<&Region> {
        self.region.as_ref()
    }
    /// The endpoint override set, if any (unparsed).
    #[must_use]
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }
    /// The named profile of the cloud's CLI profile file, if one was chosen.
    #[must_use]
    pub fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }
    /// The project to act in (providers with projects), if set.
    #[must_use]
    pub fn project(&self) -> Option<&str> {
        self.project.as_deref()
    }
    /// The HTTP options set explicitly, if any.
    #[must_use]
    pub fn client_options(&self) -> Option<&ClientOptions> {
        self.options.as_ref()
    }
    /// The HTTP options in force: those set, else the defaults.
    #[must_use]
    pub fn options_or_default(&self) -> ClientOptions {
        self.options.clone().unwrap_or_default()
    }
    /// The retry policy.
    #[must_use]
    pub fn retry(&self) -> &RetryConfig {
        &self.retry
    }
    /// The clock request timestamps are read from.
    #[must_use]
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
    /// Where the credential chain reads: the environment set, else the process
    /// environment and home directory.
    #[must_use]
    pub fn env(&self) -> &dyn Env {
        match &self.env {
            Some(env) => env.as_ref(),
            None => &OsEnv,
        }
    }

    /// [`env`](Self::env) as a shared handle, for what outlives the build (a credential
    /// provider that re-reads a token file on every refresh).
    #[must_use]
    pub fn shared_env(&self) -> Arc<dyn Env> {
        match &self.env {
            Some(env) => env.clone(),
            None => Arc::new(OsEnv),
        }
    }

    /// The STS endpoint: the one set, else `IMAGESHARE_STS_ENDPOINT` in the
    /// [`env`](Self::env), else `None` (the cloud's public STS endpoint).
    #[must_use]
    pub fn sts_endpoint(&self) -> Option<String> {
        self.sts_endpoint
            .clone()
            .or_else(|| self.env().var(ENV_STS_ENDPOINT))
    }
    /// The instance metadata server: the one set, else `IMAGESHARE_METADATA_ENDPOINT` in
    /// the [`env`](Self::env), else `None` (the cloud's link-local address).
    #[must_use]
    pub fn metadata_endpoint(&self) -> Option<String> {
        self.metadata_endpoint
            .clone()
            .or_else(|| self.env().var(ENV_METADATA_ENDPOINT))
    }
    /// The role to assume with the credentials the chain finds, if any.
    #[must_use]
    pub fn assume_role(&self) -> Option<&AssumeRole> {
        self.assume_role.as_ref()
    }
    /// How long before their expiry temporary credentials are refreshed, if set (else
    /// [`DEFAULT_REFRESH_MARGIN`](crate::credentials::DEFAULT_REFRESH_MARGIN)).
    #[must_use]
    pub fn refresh_margin(&self) -> Option<Duration> {
        self.refresh_margin
    }

    /// Sets the STS endpoint.
    pub fn set_sts_endpoint(&mut self, endpoint: String) {
        self.sts_endpoint = Some(endpoint);
    }
    /// Sets the instance metadata endpoint.
    pub fn set_metadata_endpoint(&mut self, endpoint: String) {
        self.metadata_endpoint = Some(endpoint);
    }
    /// Sets the role to assume.
    pub fn set_assume_role(&mut self, role: AssumeRole) {
        self.assume_role = Some(role);
    }
    /// Sets the refresh margin of temporary credentials.
    pub fn set_refresh_margin(&mut self, margin: Duration) {
        self.refresh_margin = Some(margin);
    }
    /// The organisation-sharing settings.
    #[must_use]
    pub fn organisation(&self) -> OrganisationSharing {
        self.organisation
    }
    /// The organisation-sharing settings, to change.
    pub fn organisation_mut(&mut self) -> &mut OrganisationSharing {
        &mut self.organisation
    }

    /// A [`CredentialsCache`](crate::credentials::CredentialsCache) over what the chain
    /// found, with this config's clock and refresh margin; its source is the find's.
    #[must_use]
    pub fn credentials_cache<C: Clone + Send + Sync + 'static>(
        &self,
        provider: Provider,
        found: crate::credentials::Found<crate::credentials::SharedProvider<C>>,
    ) -> crate::credentials::CredentialsCache<C> {
        let cache = crate::credentials::CredentialsCache::new(
            provider,
            found.credentials,
            self.clock.clone(),
        )
        .with_source(found.source);
        match self.refresh_margin {
            Some(margin) => cache.with_margin(margin),
            None => cache,
        }
    }

    /// Sets the region.
    pub fn set_region(&mut self, region: Region) {
        self.region = Some(region);
    }
    /// Sets the endpoint override.
    pub fn set_endpoint(&mut self, endpoint: String) {
        self.endpoint = Some(endpoint);
    }
    /// Chooses a profile of the cloud's CLI profile file.
    pub fn set_profile(&mut self, profile: String) {
        self.profile = Some(profile);
    }
    /// Sets the project to act in.
    pub fn set_project(&mut self, project: String) {
        self.project = Some(project);
    }
    /// Sets the HTTP options.
    pub fn set_client_options(&mut self, options: ClientOptions) {
        self.options = Some(options);
    }
    /// The HTTP options, set to the defaults first if none were set, for changing one field.
    pub fn client_options_mut(&mut self) -> &mut ClientOptions {
        self.options.get_or_insert_with(ClientOptions::default)
    }
    /// Changes the HTTP options with `f` (from the defaults when none were set): one
    /// `ClientOptions::with_*` setter applied in place.
    pub fn update_client_options(&mut self, f: impl FnOnce(ClientOptions) -> ClientOptions) {
        let options = self.options.take().unwrap_or_default();
        self.options = Some(f(options));
    }
    /// Sets the retry policy.
    pub fn set_retry(&mut self, retry: RetryConfig) {
        self.retry = retry;
    }
    /// Replaces the provider's default rate table.
    pub fn set_rate_limits(&mut self, limits: RateLimits) {
        self.rate_limits = Some(limits);
    }
    /// Sets the rate of one action on top of the table (checked at `build()`: it must be
    /// an action of the provider built).
    pub fn add_rate_limit(&mut self, action: Action, rate: Rate) {
        self.rate_overrides.push((action, rate));
    }
    /// The rate table set to replace the provider's defaults, if any.
    #[must_use]
    pub fn rate_limits(&self) -> Option<&RateLimits> {
        self.rate_limits.as_ref()
    }
    /// The per-action rates set on top of the table, in the order set.
    #[must_use]
    pub fn rate_overrides(&self) -> &[(Action, Rate)] {
        &self.rate_overrides
    }
    /// Sets the clock.
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }
    /// Sets the environment the credential chain reads.
    pub fn set_env(&mut self, env: Arc<dyn Env>) {
        self.env = Some(env);
    }

    /// The region: the one set, else `fallback` (what the cloud's chain names), checked
    /// as a region id of `limits`' provider. Without one, [`Error::InvalidInput`] saying
    /// how to give one (`hint`: the cloud's region variable).
    pub fn resolve_region(
        &self,
        limits: &ShareLimits,
        fallback: Option<Region>,
        hint: &str,
    ) -> Result<Region> {
        // A region set explicitly is checked as given (an empty one is refused as such);
        // an empty one from the chain counts as none.
        let region = self
            .region
            .clone()
            .or(fallback.filter(|r| !r.as_str().is_empty()))
            .ok_or_else(|| {
                Error::invalid_input(
                    "region",
                    format!(
                        "no region given for {}: call .region(\"{}\") or {hint}",
                        limits.provider, limits.example_region
                    ),
                )
            })?;
        limits.check_region(&region, "region")?;
        Ok(region)
    }

    /// The endpoint: the override set, else `default()`, parsed by [`Endpoint::parse`].
    pub fn resolve_endpoint(&self, default: impl FnOnce() -> String) -> Result<Endpoint> {
        match &self.endpoint {
            Some(e) => Endpoint::parse(e),
            None => Endpoint::parse(&default()),
        }
    }

    /// The rate table the caller asked for instead of `defaults`: the table set with
    /// `rate_limits` (else `defaults`) with every `rate_limit` applied on top; `None` when
    /// the caller set neither. A `rate_limit` of another provider's action is refused
    /// ([`Error::InvalidInput`] naming both providers).
    pub fn rate_table(
        &self,
        provider: Provider,
        defaults: &RateLimits,
    ) -> Result<Option<RateLimits>> {
        if self.rate_limits.is_none() && self.rate_overrides.is_empty() {
            return Ok(None);
        }
        let mut table = self.rate_limits.clone().unwrap_or_else(|| defaults.clone());
        for (action, rate) in &self.rate_overrides {
            crate::action::check_provider(*action, provider)?;
            table.set(action.name(), *rate);
        }
        Ok(Some(table))
    }

    /// A transport with these HTTP options and retry policy, with `provider`'s quotas
    /// registered on the rate limiter of the options: the caller's table
    /// ([`rate_table`](Self::rate_table)) when set, else `defaults` unless the limiter
    /// already has a table for the provider.
    pub fn transport(&self, provider: Provider, defaults: RateLimits) -> Result<Transport> {
        let overrides = self.rate_table(provider, &defaults)?;
        Transport::with_env(self.options_or_default(), self.retry.clone(), self.env())?
            .with_rate_limits(provider, defaults, overrides)
    }
}

/// The setters every provider's builder shares, written once over its embedded
/// [`ClientConfig`]. A builder implements [`config`](Self::config) and
/// [`config_mut`](Self::config_mut); everything else comes with the trait.
pub trait ClientBuilder: Sized {
    /// The shared settings of this builder.
    fn config(&self) -> &ClientConfig;
    /// The shared settings of this builder, to change.
    fn config_mut(&mut self) -> &mut ClientConfig;

    /// Replaces every shared setting at once (a configuration built elsewhere, e.g. by
    /// the facade's `Connect`).
    #[must_use]
    fn with_config(mut self, config: ClientConfig) -> Self {
        *self.config_mut() = config;
        self
    }
    /// The region every call is made in (`cn-hangzhou`, `ap-guangzhou`, `cn-bj2`).
    #[must_use]
    fn region(mut self, region: impl Into<Region>) -> Self {
        self.config_mut().set_region(region.into());
        self
    }
    /// Overrides the endpoint (`http(s)://host[:port]`): a private or VPC endpoint, the
    /// emulator. Validated at `build()`.
    #[must_use]
    fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.config_mut().set_endpoint(endpoint.into());
        self
    }
    /// A named profile of the cloud's CLI profile file, used when no explicit credentials
    /// are given (environment variables still come first, as in each cloud's own chain).
    #[must_use]
    fn profile(mut self, name: impl Into<String>) -> Self {
        self.config_mut().set_profile(name.into());
        self
    }
    /// The project to act in (providers with projects; ignored by the others).
    #[must_use]
    fn project(mut self, project: impl Into<String>) -> Self {
        self.config_mut().set_project(project.into());
        self
    }
    /// HTTP options (timeouts, user agent, concurrency bound, rate limiter).
    #[must_use]
    fn client_options(mut self, options: ClientOptions) -> Self {
        self.config_mut().set_client_options(options);
        self
    }
    /// The per-attempt timeout.
    #[must_use]
    fn timeout(mut self, timeout: Duration) -> Self {
        self.config_mut()
            .update_client_options(|o| o.with_timeout(timeout));
        self
    }
    /// The connect timeout.
    #[must_use]
    fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config_mut()
            .update_client_options(|o| o.with_connect_timeout(timeout));
        self
    }
    /// Sends every request through the HTTP proxy at `url` instead of the one the
    /// environment names ([`ClientOptions::with_proxy_url`]); `NO_PROXY` still applies
    /// unless [`no_proxy`](Self::no_proxy) is given.
    #[must_use]
    fn proxy(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.config_mut()
            .update_client_options(|o| o.with_proxy_url(url));
        self
    }
    /// The hosts that bypass the proxy set with [`proxy`](Self::proxy), in `NO_PROXY`
    /// syntax ([`ClientOptions::with_no_proxy`]).
    #[must_use]
    fn no_proxy(mut self, hosts: impl Into<String>) -> Self {
        let hosts = hosts.into();
        self.config_mut()
            .update_client_options(|o| o.with_no_proxy(hosts));
        self
    }
    /// Trusts the CA certificates of `certificate` on top of the built-in roots
    /// ([`ClientOptions::with_root_certificate`]); checked at `build()`.
    #[must_use]
    fn root_certificate(mut self, certificate: RootCertificate) -> Self {
        self.config_mut()
            .update_client_options(|o| o.with_root_certificate(certificate));
        self
    }
    /// Sends every request with `client`, configured by the caller
    /// ([`ClientOptions::with_http_client`], which says what then applies).
    #[must_use]
    fn http_client(mut self, client: reqwest::Client) -> Self {
        self.config_mut()
            .update_client_options(|o| o.with_http_client(client));
        self
    }
    /// The retry policy (bounded attempts, jittered exponential backoff).
    #[must_use]
    fn retry(mut self, retry: RetryConfig) -> Self {
        self.config_mut().set_retry(retry);
        self
    }
    /// Client-side rate limits per action, replacing the provider's published defaults;
    /// `RateLimits::none()` limits nothing. The table is set on the rate limiter of the
    /// client options, so every adapter sharing that limiter follows it.
    #[must_use]
    fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.config_mut().set_rate_limits(limits);
        self
    }
    /// The client-side rate of one action, on top of the defaults (or of
    /// [`rate_limits`](Self::rate_limits)). The action is a value of the provider crate's
    /// action enum (`imageshare_tencent::CvmAction::ModifyImageSharePermission`), so a
    /// misspelt name does not compile; another provider's action is refused at `build()`.
    /// A name read at run time: parse it with the enum's
    /// [`from_name`](crate::ProviderAction::from_name), or use the facade's
    /// `Connect::rate_limit_named`.
    #[must_use]
    fn rate_limit(mut self, action: impl Into<Action>, rate: Rate) -> Self {
        self.config_mut().add_rate_limit(action.into(), rate);
        self
    }
    /// The clock request timestamps are read from (tests pin it with
    /// [`Clock::fixed`]); the system clock by default.
    #[must_use]
    fn clock(mut self, clock: Clock) -> Self {
        self.config_mut().set_clock(clock);
        self
    }
    /// The STS endpoint (`http(s)://host[:port]`) the credential sources call
    /// (`AssumeRole`, OIDC): a regional or VPC STS endpoint, or the emulator. Default:
    /// `IMAGESHARE_STS_ENDPOINT`, else the cloud's own choice.
    #[must_use]
    fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.config_mut().set_sts_endpoint(endpoint.into());
        self
    }
    /// The instance metadata server the instance-role sources read. Default:
    /// `IMAGESHARE_METADATA_ENDPOINT`, else the cloud's link-local address.
    #[must_use]
    fn metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.config_mut().set_metadata_endpoint(endpoint.into());
        self
    }
    /// Assumes `role` (STS `AssumeRole`) with whatever credentials the chain finds, and
    /// acts as the role; the credentials are refreshed before they expire.
    #[must_use]
    fn assume_role(mut self, role: AssumeRole) -> Self {
        self.config_mut().set_assume_role(role);
        self
    }
    /// How long before their expiry temporary credentials are refreshed (default 180 s,
    /// at most half their lifetime).
    #[must_use]
    fn refresh_margin(mut self, margin: Duration) -> Self {
        self.config_mut().set_refresh_margin(margin);
        self
    }
    /// Turns organisation-wide sharing on or off ([`OrganisationSharing::enabled`]; Alibaba
    /// ECS: `directory:` / `folder:` / `member:` principals through Resource Sharing).
    #[must_use]
    fn organisation_sharing(mut self, enabled: bool) -> Self {
        self.config_mut().organisation_mut().enabled = enabled;
        self
    }
    /// Lets organisation sharing invite accounts outside the organisation
    /// ([`OrganisationSharing::allow_external_targets`]).
    #[must_use]
    fn external_targets(mut self, allow: bool) -> Self {
        self.config_mut().organisation_mut().allow_external_targets = allow;
        self
    }
    /// The environment the credential chain reads (default: the process environment and
    /// home directory). Tests pass a
    /// [`StaticEnv`](crate::credentials::StaticEnv).
    #[must_use]
    fn env(mut self, env: impl Env + 'static) -> Self {
        self.config_mut().set_env(Arc::new(env));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOUD: Provider = Provider::new("example-cloud");

    fn table() -> ShareLimits {
        crate::limits::tests::limits("img-")
    }

    #[derive(Debug, Default)]
    struct B {
        config: ClientConfig,
    }
    impl ClientBuilder for B {
        fn config(&self) -> &ClientConfig {
            &self.config
        }
        fn config_mut(&mut self) -> &mut ClientConfig {
            &mut self.config
        }
    }

    #[test]
    fn region_comes_from_the_builder_then_the_chain_and_is_checked() {
        let cfg = B::default().config;
        let e = cfg
            .resolve_region(&table(), None, "set EX_REGION")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no region given for example-cloud"), "{e}");
        assert!(
            e.contains(".region(\"xx-north-1\") or set EX_REGION"),
            "{e}"
        );
        let from_chain = cfg
            .resolve_region(&table(), Some("xx-south-2".into()), "")
            .unwrap();
        assert_eq!(from_chain.as_str(), "xx-south-2");
        let cfg = B::default().region("xx-east-1").config;
        let set = cfg
            .resolve_region(&table(), Some("xx-south-2".into()), "")
            .unwrap();
        assert_eq!(set.as_str(), "xx-east-1", "the builder's value wins");
        let cfg = B::default().region("xx east").config;
        assert!(cfg.resolve_region(&table(), None, "").is_err());
        // An empty region given explicitly is refused as a bad region, not as a missing one.
        let cfg = B::default().region("").config;
        let e = cfg
            .resolve_region(&table(), Some("xx-south-2".into()), "")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"\" is not a region id of example-cloud"),
            "{e}"
        );
    }

    #[test]
    fn rate_tables_merge_overrides_onto_the_defaults_or_the_callers_table() {
        #[derive(Debug, Clone, Copy)]
        enum Act {
            A,
            B,
        }
        impl crate::ProviderAction for Act {
            const PROVIDER: Provider = CLOUD;
            const ALL: &'static [Self] = &[Act::A, Act::B];
            fn name(self) -> &'static str {
                match self {
                    Act::A => "A",
                    Act::B => "B",
                }
            }
        }
        let defaults = RateLimits::new()
            .with("A", Rate::per_second(10.0))
            .with("B", Rate::per_second(20.0));
        assert!(B::default()
            .config
            .rate_table(CLOUD, &defaults)
            .unwrap()
            .is_none());
        let cfg = B::default()
            .rate_limit(Act::A, Rate::per_second(1.0))
            .config;
        let t = cfg.rate_table(CLOUD, &defaults).unwrap().unwrap();
        assert_eq!(t.rate("A"), Some(Rate::per_second(1.0)));
        assert_eq!(t.rate("B"), Some(Rate::per_second(20.0)));
        let cfg = B::default()
            .rate_limits(RateLimits::none())
            .rate_limit(Act::B, Rate::per_second(2.0))
            .config;
        let t = cfg.rate_table(CLOUD, &defaults).unwrap().unwrap();
        assert_eq!(
            (t.rate("A"), t.rate("B")),
            (None, Some(Rate::per_second(2.0)))
        );
        // Another provider's action is refused, by name.
        let other = Provider::new("other-cloud");
        let e = cfg
            .transport(other, defaults.clone())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("B is an action of example-cloud, not of other-cloud"),
            "{e}"
        );
        // The transport registers the merged table on the limiter of the options.
        let transport = cfg.transport(CLOUD, defaults).unwrap();
        let limiter = transport.rate_limiter().unwrap();
        assert_eq!(limiter.rate(CLOUD, "B"), Some(Rate::per_second(2.0)));
        assert_eq!(limiter.rate(CLOUD, "A"), None);
    }

    #[test]
    fn setters_change_one_field_each() {
        let b = B::default()
            .timeout(Duration::from_secs(7))
            .connect_timeout(Duration::from_secs(2))
            .profile("prod")
            .project("p-1")
            .clock(Clock::fixed(42))
            .env(crate::credentials::StaticEnv::new().with_var("X", "1"));
        let cfg = b.config();
        let o = cfg.client_options().unwrap();
        assert_eq!(
            (o.timeout(), o.connect_timeout()),
            (Duration::from_secs(7), Duration::from_secs(2))
        );
        assert_eq!((cfg.profile(), cfg.project()), (Some("prod"), Some("p-1")));
        assert_eq!(cfg.clock().now(), 42);
        assert_eq!(cfg.env().var("X").as_deref(), Some("1"));
        let e = B::default()
            .endpoint("http://u:p@h")
            .config
            .resolve_endpoint(String::new);
        assert!(e.is_err());
    }
}
