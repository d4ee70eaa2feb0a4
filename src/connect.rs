//! One entry point that builds any adapter, already behind the limit checker, from a
//! provider name: [`connect`] for the defaults, [`Connect`] for the options.

use imageshare_core::transport::{ClientOptions, RetryConfig};
use imageshare_core::{CheckOptions, Checked, Error, ImageSharing, Provider, Result};

/// Applies the options every builder shares (region, endpoint, HTTP options, retry).
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
        b
    }};
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

/// Options for building an adapter. Anything left unset comes from the cloud's own
/// credential chain and configuration (environment variables, then the CLI profile file).
#[derive(Debug, Clone)]
pub struct Connect {
    provider: Provider,
    region: Option<String>,
    endpoint: Option<String>,
    credentials: Option<Credentials>,
    project_id: Option<String>,
    client: Option<ClientOptions>,
    retry: Option<RetryConfig>,
    check: CheckOptions,
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
            client: None,
            retry: None,
            check: CheckOptions::default(),
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
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }
    /// The UCloud project to act in (ignored by other providers).
    pub fn project_id(mut self, project: impl Into<String>) -> Self {
        self.project_id = Some(project.into());
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
    /// Limit-checker options (encrypted-image acknowledgement, known principal sites).
    pub fn check_options(mut self, options: CheckOptions) -> Self {
        self.check = options;
        self
    }

    fn wrong_credentials(&self) -> Error {
        Error::invalid_input(
            "credentials",
            format!("the credentials given are not {}'s cloud's", self.provider),
        )
    }

    /// Builds the adapter and wraps it in the limit checker.
    pub fn build(self) -> Result<DynSharing> {
        let adapter: Box<dyn ImageSharing> = match self.provider {
            #[cfg(feature = "alibaba")]
            Provider::AlibabaEcs => {
                use crate::alibaba::EcsImageSharing as A;
                let b = match &self.credentials {
                    None => A::from_env()?,
                    Some(Credentials::Alibaba(c)) => A::builder().credentials(c.clone()),
                    #[allow(unreachable_patterns)]
                    Some(_) => return Err(self.wrong_credentials()),
                };
                Box::new(configure!(self, b).build()?)
            }
            #[cfg(feature = "alibaba")]
            Provider::AlibabaSas => {
                use crate::alibaba::SasImageSharing as A;
                let b = match &self.credentials {
                    None => A::from_env()?,
                    Some(Credentials::Alibaba(c)) => A::builder().credentials(c.clone()),
                    #[allow(unreachable_patterns)]
                    Some(_) => return Err(self.wrong_credentials()),
                };
                Box::new(configure!(self, b).build()?)
            }
            #[cfg(feature = "tencent")]
            Provider::TencentCvm => {
                use crate::tencent::TencentCvmImageSharing as A;
                let b = match &self.credentials {
                    None => A::from_env()?,
                    Some(Credentials::Tencent(c)) => A::builder().credentials(c.clone()),
                    #[allow(unreachable_patterns)]
                    Some(_) => return Err(self.wrong_credentials()),
                };
                Box::new(configure!(self, b).build()?)
            }
            #[cfg(feature = "tencent")]
            Provider::TencentLighthouse => {
                use crate::tencent::TencentLighthouseImageSharing as A;
                let b = match &self.credentials {
                    None => A::from_env()?,
                    Some(Credentials::Tencent(c)) => A::builder().credentials(c.clone()),
                    #[allow(unreachable_patterns)]
                    Some(_) => return Err(self.wrong_credentials()),
                };
                Box::new(configure!(self, b).build()?)
            }
            #[cfg(feature = "ucloud")]
            Provider::UCloud => {
                use crate::ucloud::UCloudImageSharing as A;
                let b = match &self.credentials {
                    None => A::from_env(),
                    Some(Credentials::UCloud(c)) => A::builder().credentials(c.clone()),
                    #[allow(unreachable_patterns)]
                    Some(_) => return Err(self.wrong_credentials()),
                };
                let b = match &self.project_id {
                    Some(p) => b.project_id(p.as_str()),
                    None => b,
                };
                Box::new(configure!(self, b).build()?)
            }
            #[allow(unreachable_patterns)]
            other => {
                return Err(Error::Unsupported {
                    provider: other,
                    operation: "connect".into(),
                    reason: "this provider's cargo feature is not compiled in".into(),
                })
            }
        };
        Ok(Checked::with_options(adapter, self.check))
    }
}

/// Builds the adapter for `provider` (a name such as `tencent-cvm`) in `region`, with
/// credentials from the cloud's chain, behind the limit checker.
pub fn connect(provider: &str, region: &str) -> Result<DynSharing> {
    Connect::new(provider.parse()?).region(region).build()
}
