//! [`ClientOptions`]: the HTTP settings shared by every adapter.

use std::fmt;
use std::time::Duration;

use super::proxy::{ProxyConfig, ResolvedProxy};
use super::tls::RootCertificate;
use crate::credentials::Env;
use crate::error::{Error, Result};
use crate::ratelimit::RateLimiter;

/// Transport options shared by every adapter, in the shape of object_store's
/// `ClientOptions`: [`ClientOptions::new`] (the defaults) and `with_*` setters, read back
/// through accessors. Nothing is checked or read until the transport is built (the
/// provider builder's `build()`), where a bad proxy URL or certificate is
/// [`Error::InvalidInput`].
///
/// ```
/// use std::time::Duration;
/// use imageshare_core::transport::{ClientOptions, RootCertificate};
///
/// let options = ClientOptions::new()
///     .with_timeout(Duration::from_secs(10))
///     // Every request through this proxy (its credentials are never printed) ...
///     .with_proxy_url("http://build:s3cr3t@proxy.corp.example:3128")
///     // ... except those to the private endpoint.
///     .with_no_proxy("ecs-vpc.cn-hangzhou.aliyuncs.com, 10.0.0.0/8")
///     // Its certificate is signed by the company's CA.
///     .with_root_certificate(RootCertificate::from_pem_file("/etc/pki/corp-ca.pem"));
/// assert_eq!(options.timeout(), Duration::from_secs(10));
/// assert!(!format!("{options:?}").contains("s3cr3t"));
/// ```
///
/// # Settings of the HTTP client, and an injected one
///
/// The connect timeout, user agent, proxy and root certificates configure the
/// `reqwest::Client` the transport builds. With [`with_http_client`](Self::with_http_client)
/// the caller gives that client, configured as it likes, and:
/// - an explicit proxy ([`with_proxy_url`](Self::with_proxy_url),
///   [`without_proxy`](Self::without_proxy)) or a root certificate is **refused** at build
///   ([`Error::InvalidInput`]): silently dropping a proxy or a CA the caller asked for
///   would send requests elsewhere than meant or fail them obscurely; set them on the
///   injected client instead;
/// - the connect timeout, the user agent and the proxy variables of the environment are
///   **ignored** (the injected client's own apply);
/// - everything the transport itself does still applies: the per-attempt timeout, the
///   concurrency bound, the rate limiter, the answer-size cap, and retries.
#[derive(Clone)]
pub struct ClientOptions {
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: String,
    max_concurrency: Option<usize>,
    rate_limiter: Option<RateLimiter>,
    max_response_bytes: usize,
    proxy: ProxyConfig,
    root_certificates: Vec<RootCertificate>,
    http_client: Option<reqwest::Client>,
}

/// The default cap on one answer body: 16 MiB. The largest real answers imageshare reads
/// (a page of 100 images with their disk mappings and tags) are a few hundred KiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            user_agent: format!("imageshare/{}", env!("CARGO_PKG_VERSION")),
            max_concurrency: Some(64),
            rate_limiter: Some(RateLimiter::new()),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            proxy: ProxyConfig::FromEnv,
            root_certificates: Vec::new(),
            http_client: None,
        }
    }
}

impl fmt::Debug for ClientOptions {
    // The proxy URL's credentials are redacted; an injected client is only named.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("max_concurrency", &self.max_concurrency)
            .field("rate_limiter", &self.rate_limiter)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("proxy", &self.proxy)
            .field("root_certificates", &self.root_certificates)
            .field(
                "http_client",
                &self.http_client.as_ref().map(|_| "injected"),
            )
            .finish()
    }
}

impl ClientOptions {
    /// The defaults: 5 s to connect, 30 s per attempt, at most 64 requests in flight, a
    /// fresh rate limiter, a 16 MiB answer cap, the proxy from the environment, the
    /// built-in root certificates.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Time allowed to establish a connection.
    #[must_use]
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    /// Time allowed for one attempt (request sent, whole answer read).
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// The `User-Agent` header.
    #[must_use]
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }
    /// Most requests in flight at once through this transport; `None` for no bound.
    #[must_use]
    pub fn max_concurrency(&self) -> Option<usize> {
        self.max_concurrency
    }
    /// The client-side rate limiter (per provider and action); `None` for no client-side
    /// limit. The default is a fresh limiter, which each adapter fills with its cloud's
    /// published quotas when it is built. Clones of these options share the limiter, so
    /// every adapter built from them is held to one quota per `(provider, action)`.
    #[must_use]
    pub fn rate_limiter(&self) -> Option<&RateLimiter> {
        self.rate_limiter.as_ref()
    }
    /// The largest answer body read, in bytes ([`DEFAULT_MAX_RESPONSE_BYTES`] by default):
    /// a larger one (an endpoint streaming without end, a wrong endpoint serving a file)
    /// fails the attempt as soon as it is known, without reading the rest.
    #[must_use]
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }
    /// The extra root certificates, in the order given.
    #[must_use]
    pub fn root_certificates(&self) -> &[RootCertificate] {
        &self.root_certificates
    }
    /// The injected HTTP client, if any.
    #[must_use]
    pub fn http_client(&self) -> Option<&reqwest::Client> {
        self.http_client.as_ref()
    }

    /// Sets the per-attempt timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Sets the connect timeout.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// Sets the concurrency bound (`None`: unbounded).
    #[must_use]
    pub fn with_max_concurrency(mut self, n: Option<usize>) -> Self {
        self.max_concurrency = n.map(|n| n.max(1));
        self
    }
    /// Sets the cap on one answer body, in bytes (at least 1 KiB).
    #[must_use]
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes.max(1024);
        self
    }
    /// Sets the `User-Agent`.
    #[must_use]
    pub fn with_user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }
    /// Uses `limiter` (e.g. one shared with other options) as the client-side rate limiter.
    #[must_use]
    pub fn with_rate_limiter(mut self, limiter: RateLimiter) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }
    /// Turns the client-side rate limiter off (the server's throttling answers are still
    /// retried).
    #[must_use]
    pub fn without_rate_limiter(mut self) -> Self {
        self.rate_limiter = None;
        self
    }

    /// Sends every request through the HTTP proxy at `url`
    /// (`http://[user:password@]host:port`; `https://` for a proxy spoken to over TLS),
    /// instead of the proxy variables of the environment. Hosts in the bypass list
    /// ([`with_no_proxy`](Self::with_no_proxy), else `NO_PROXY`) go direct. Checked at
    /// build; the credentials are never printed.
    #[must_use]
    pub fn with_proxy_url(mut self, url: impl Into<String>) -> Self {
        let no_proxy = match self.proxy {
            ProxyConfig::Url { no_proxy, .. } => no_proxy,
            _ => None,
        };
        self.proxy = ProxyConfig::Url {
            url: url.into(),
            no_proxy,
        };
        self
    }
    /// The hosts that bypass the proxy set with [`with_proxy_url`](Self::with_proxy_url),
    /// in `NO_PROXY` syntax: comma-separated host names (each matching its subdomains
    /// too), IP addresses, CIDR blocks, or `*`. Replaces `NO_PROXY` for that proxy; no
    /// effect without one (the environment's proxy goes with the environment's `NO_PROXY`).
    #[must_use]
    pub fn with_no_proxy(mut self, hosts: impl Into<String>) -> Self {
        if let ProxyConfig::Url { no_proxy, .. } = &mut self.proxy {
            *no_proxy = Some(hosts.into());
        }
        self
    }
    /// Sends every request direct, whatever the proxy variables of the environment say.
    #[must_use]
    pub fn without_proxy(mut self) -> Self {
        self.proxy = ProxyConfig::Disabled;
        self
    }
    /// Back to the default: the proxy variables of the environment (`HTTPS_PROXY`,
    /// `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, upper or lower case; see
    /// [`transport`](crate::transport#proxies)), read through the builder's
    /// [`Env`] when the transport is built.
    #[must_use]
    pub fn with_proxy_from_env(mut self) -> Self {
        self.proxy = ProxyConfig::FromEnv;
        self
    }

    /// Trusts the CA certificates of `certificate` on top of the built-in roots (a private
    /// or VPC endpoint, a TLS-inspecting proxy). May be given several times.
    #[must_use]
    pub fn with_root_certificate(mut self, certificate: RootCertificate) -> Self {
        self.root_certificates.push(certificate);
        self
    }

    /// Uses `client` for every request instead of building one: a client the application
    /// already configured (its own TLS, proxy, resolver or middleware-free connection
    /// pool). See [the type's docs](Self#settings-of-the-http-client-and-an-injected-one)
    /// for which options then apply.
    #[must_use]
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// The HTTP client these options describe, with proxies and root certificates resolved
    /// in `env`: the injected one, else a new one.
    pub(crate) fn build_client(&self, env: &dyn Env) -> Result<reqwest::Client> {
        if let Some(client) = &self.http_client {
            let mut set = Vec::new();
            if self.proxy != ProxyConfig::FromEnv {
                set.push("a proxy (with_proxy_url / without_proxy)");
            }
            if !self.root_certificates.is_empty() {
                set.push("root certificates (with_root_certificate)");
            }
            if !set.is_empty() {
                return Err(Error::invalid_input(
                    "client options",
                    format!(
                        "{} configure the HTTP client, and with_http_client gave one already: \
                         set them on that reqwest::Client instead",
                        set.join(" and ")
                    ),
                ));
            }
            return Ok(client.clone());
        }
        let proxy: ResolvedProxy = self.proxy.resolve(env)?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent.clone());
        for source in &self.root_certificates {
            for cert in source.load(env)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        if !proxy.is_empty() {
            tracing::debug!(?proxy, "HTTP proxy");
        }
        let cannot = |e: reqwest::Error| {
            Error::invalid_input("client options", format!("cannot build HTTP client: {e}"))
        };
        proxy
            .apply(builder)
            .map_err(cannot)?
            .build()
            .map_err(cannot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::StaticEnv;

    #[test]
    fn an_injected_client_refuses_the_settings_it_would_ignore_silently() {
        let injected = ClientOptions::new().with_http_client(reqwest::Client::new());
        let env = StaticEnv::new().with_var("HTTPS_PROXY", "not a url at all://");
        // The environment's proxy is the injected client's business: not even parsed.
        assert!(injected.clone().build_client(&env).is_ok());
        let e = injected
            .clone()
            .with_proxy_url("http://proxy:3128")
            .with_root_certificate(RootCertificate::from_pem("x"))
            .build_client(&env)
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }));
        let e = e.to_string();
        assert!(
            e.contains("a proxy (with_proxy_url / without_proxy) and root certificates"),
            "{e}"
        );
        assert!(injected.without_proxy().build_client(&env).is_err());
    }

    #[test]
    fn debug_redacts_the_proxy_credentials_and_setters_compose() {
        let o = ClientOptions::new()
            .with_no_proxy("ignored.example")
            .with_proxy_url("http://alice:s3cr3t@proxy:3128")
            .with_no_proxy("a.example")
            .with_proxy_url("http://bob:hunter2@proxy2:3128");
        let dbg = format!("{o:?}");
        assert!(!dbg.contains("s3cr3t") && !dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("http://***@proxy2:3128"), "{dbg}");
        // The bypass list given for the first proxy stays with the second.
        assert!(
            dbg.contains("a.example") && !dbg.contains("ignored"),
            "{dbg}"
        );
        let env = StaticEnv::new().with_var("HTTPS_PROXY", "no host://");
        assert!(
            o.build_client(&env).is_ok(),
            "an explicit proxy ignores the env's"
        );
        let e = ClientOptions::new()
            .build_client(&env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("HTTPS_PROXY"), "{e}");
    }
}
