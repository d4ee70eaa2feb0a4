//! [`TencentBuilder`]: the one builder of both adapters ([`CvmBuilder`],
//! [`LighthouseBuilder`]). The shared settings (`region`, `endpoint`, `profile`, `timeout`,
//! `retry`, `rate_limits`, `rate_limit`, `clock`, `env`, ...) come with
//! [`ClientBuilder`] over the embedded [`ClientConfig`]; the Tencent ones (`credentials`,
//! `site`, `language`) are written here once for both. Each adapter's module adds its
//! `build()` (and CVM its `max_accounts_per_call`).
//!
//! Credentials are resolved at `build()`: the explicit ones when given, else the chain of
//! [`crate::credential`] over [`ClientConfig::env`], reading the profile-file section
//! [`ClientBuilder::profile`] chose (`default` otherwise).

use std::fmt;
use std::marker::PhantomData;

use imageshare_core::{ClientBuilder, ClientConfig, Site};

use crate::client::{Config, Language};
use crate::credential::TencentCredentials;
use crate::cvm::TencentCvmImageSharing;
use crate::lighthouse::TencentLighthouseImageSharing;
use imageshare_core::credentials::{fixed, SharedProvider};

/// Builds a Tencent adapter `A`. Use it through its aliases [`CvmBuilder`] and
/// [`LighthouseBuilder`] (`TencentCvmImageSharing::builder()`, ...).
pub struct TencentBuilder<A> {
    pub(crate) config: ClientConfig,
    pub(crate) tencent: Config,
    /// Accounts per CVM `ModifyImageSharePermission` call (CVM only).
    pub(crate) max_accounts_per_call: Option<usize>,
    adapter: PhantomData<fn() -> A>,
}

/// Builds a [`TencentCvmImageSharing`]. Credentials: explicit, else the chain of
/// [`crate::credential`] (environment, profile files, TKE OIDC, CVM role), at `build()`.
///
/// ```
/// use imageshare_core::{ClientBuilder, ImageSharing, Rate, Site, StaticEnv};
/// use imageshare_tencent::{CvmAction, TencentCredentials, TencentCvmImageSharing};
///
/// let cvm = TencentCvmImageSharing::builder()
///     .region("ap-singapore")
///     .site(Site::International) // cvm.intl.tencentcloudapi.com
///     .credentials(TencentCredentials::new("AKIDexample", "example-secret"))
///     .rate_limit(CvmAction::DescribeImages, Rate::per_second(20.0))
///     .env(StaticEnv::new()) // read no variable or file: only what is given here
///     .build()?; // sends nothing
/// assert_eq!(cvm.provider(), imageshare_tencent::CVM);
/// assert_eq!(cvm.region().as_str(), "ap-singapore");
/// # Ok::<(), imageshare_core::Error>(())
/// ```
pub type CvmBuilder = TencentBuilder<TencentCvmImageSharing>;

/// Builds a [`TencentLighthouseImageSharing`]. Credentials: explicit, else the chain of
/// [`crate::credential`] (environment, profile files, TKE OIDC, CVM role), at `build()`.
///
/// ```
/// use imageshare_core::{ClientBuilder, ImageSharing, Rate, StaticEnv};
/// use imageshare_tencent::{LighthouseAction, TencentCredentials, TencentLighthouseImageSharing};
///
/// let lighthouse = TencentLighthouseImageSharing::builder()
///     .region("ap-guangzhou")
///     .credentials(TencentCredentials::new("AKIDexample", "example-secret"))
///     .rate_limit(LighthouseAction::ShareBlueprintAcrossAccounts, Rate::per_second(5.0))
///     .env(StaticEnv::new())
///     .build()?;
/// assert_eq!(lighthouse.provider(), imageshare_tencent::LIGHTHOUSE);
/// # Ok::<(), imageshare_core::Error>(())
/// ```
pub type LighthouseBuilder = TencentBuilder<TencentLighthouseImageSharing>;

impl<A> Default for TencentBuilder<A> {
    fn default() -> Self {
        TencentBuilder {
            config: ClientConfig::default(),
            tencent: Config::default(),
            max_accounts_per_call: None,
            adapter: PhantomData,
        }
    }
}

impl<A> Clone for TencentBuilder<A> {
    fn clone(&self) -> Self {
        TencentBuilder {
            config: self.config.clone(),
            tencent: self.tencent.clone(),
            max_accounts_per_call: self.max_accounts_per_call,
            adapter: PhantomData,
        }
    }
}

impl<A> fmt::Debug for TencentBuilder<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TencentBuilder")
            .field("config", &self.config)
            .field("tencent", &self.tencent)
            .field("max_accounts_per_call", &self.max_accounts_per_call)
            .finish()
    }
}

impl<A> ClientBuilder for TencentBuilder<A> {
    fn config(&self) -> &ClientConfig {
        &self.config
    }
    fn config_mut(&mut self) -> &mut ClientConfig {
        &mut self.config
    }
}

impl<A> TencentBuilder<A> {
    /// Chooses the default endpoint of the China site (`*.tencentcloudapi.com`, the
    /// default) or the international site (`*.intl.tencentcloudapi.com`). An explicit
    /// [`endpoint`](ClientBuilder::endpoint) wins.
    #[must_use]
    pub fn site(mut self, site: Site) -> Self {
        self.tencent.site = site;
        self
    }

    /// Explicit credentials (used before the environment and the profile file).
    #[must_use]
    pub fn credentials(self, credentials: TencentCredentials) -> Self {
        self.credentials_provider(fixed(credentials, "explicit credentials"))
    }

    /// An explicit credentials provider (your own vault or broker, or an STS role): used
    /// before the environment and the profile file, cached and refreshed before expiry.
    #[must_use]
    pub fn credentials_provider(mut self, provider: SharedProvider<TencentCredentials>) -> Self {
        self.tencent.credentials = Some(provider);
        self
    }

    /// `X-TC-Language` (`zh-CN` or `en-US`) for error messages; not sent by default.
    #[must_use]
    pub fn language(mut self, language: Language) -> Self {
        self.tencent.language = Some(language);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageshare_core::credentials::StaticEnv;
    use imageshare_core::Error;

    use crate::credential::{ENV_REGION, ENV_SECRET_ID, ENV_SECRET_KEY};

    const HOME_FILE: &str = "/home/t/.tencentcloud/credentials";

    #[test]
    fn credentials_and_region_come_from_the_configured_environment_at_build() {
        let env = StaticEnv::new()
            .with_var(ENV_SECRET_ID, "AKIDenv")
            .with_var(ENV_SECRET_KEY, "env-key")
            .with_var(ENV_REGION, " ap-shanghai ");
        let cvm = CvmBuilder::default().env(env.clone()).build().unwrap();
        assert_eq!(cvm.client().region().as_str(), "ap-shanghai");
        // The builder's region wins over TENCENTCLOUD_REGION ...
        let cvm = CvmBuilder::default()
            .env(env.clone())
            .region("ap-guangzhou")
            .build()
            .unwrap();
        assert_eq!(cvm.client().region().as_str(), "ap-guangzhou");
        // ... which applies whatever source supplied the keys.
        let lh = LighthouseBuilder::default()
            .env(env)
            .credentials(TencentCredentials::new("AKIDexplicit", "k"))
            .build()
            .unwrap();
        assert_eq!(lh.client().region().as_str(), "ap-shanghai");
    }

    #[test]
    fn the_profile_chooses_the_section_of_the_profile_file() {
        let env = StaticEnv::new().with_home("/home/t").with_file(
            HOME_FILE,
            "[default]\nsecret_id = AKIDdefault\nsecret_key = d\n\
             [prod]\nsecret_id = AKIDprod\nsecret_key = p\n",
        );
        let dbg = |b: CvmBuilder| format!("{:?}", b.region("ap-guangzhou").build().unwrap());
        assert!(dbg(CvmBuilder::default().env(env.clone())).contains("AKIDdefault"));
        assert!(dbg(CvmBuilder::default().env(env).profile("prod")).contains("AKIDprod"));
    }

    #[tokio::test]
    async fn nothing_found_names_the_adapter_and_no_region_names_the_variable() {
        // The CVM instance role is the last source, selected lazily: build() succeeds and
        // the first use of the credentials says nothing was found, listing every source.
        let lh = LighthouseBuilder::default()
            .env(StaticEnv::new())
            .metadata_endpoint("http://127.0.0.1:1")
            .region("ap-guangzhou")
            .build()
            .unwrap();
        let err = lh.client().credentials().get().await.unwrap_err();
        assert!(
            matches!(&err, Error::CredentialsNotFound { provider, tried, .. }
                if *provider == crate::LIGHTHOUSE && tried.len() == 7),
            "{err:?}"
        );
        let err = CvmBuilder::default()
            .env(StaticEnv::new())
            .credentials(TencentCredentials::new("AKIDexplicit", "k"))
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(".region(\"ap-guangzhou\") or set TENCENTCLOUD_REGION"),
            "{err}"
        );
    }
}
