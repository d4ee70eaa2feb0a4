//! One entry point that builds any adapter, already behind the limit checker, from a
//! provider name: [`connect`] for the defaults, [`Connect`] for the options.
//!
//! `Connect` is a [`ClientBuilder`] like every provider's builder: the shared settings
//! (region, endpoint, profile, project, timeouts, retry, rate limits, clock, environment)
//! are set with the same methods, held in one [`ClientConfig`], and handed to the
//! provider's registered [`ProviderSpec::build`](crate::ProviderSpec) at
//! [`build`](Connect::build).

use std::sync::Arc;

use imageshare_core::ratelimit::{Rate, RateLimits};
use imageshare_core::{
    AuditLog, Audited, CheckOptions, Checked, ClientBuilder, ClientConfig, CloudCredentials,
    Credentials, Error, ImageSharing, Provider, Result, TrustPolicy, Trusted,
};

/// An adapter behind the limit checker, whatever the provider. A clone is cheap (an `Arc`
/// and the checker's options) and shares the connection pool, credentials cache and rate
/// limiter: clone it into each spawned task.
pub type DynSharing = Checked<Arc<dyn ImageSharing>>;

/// Options for building an adapter. Anything left unset comes from the cloud's own
/// credential chain and configuration (environment variables, then the CLI profile file).
/// The shared settings are [`ClientBuilder`]'s (`region`, `endpoint`, `profile`,
/// `project`, `timeout`, `retry`, `rate_limit`, ...).
///
/// One image shared on two clouds, and the errors handled by kind (run here against the
/// embedded emulator; against a cloud, drop `endpoint` and `credentials`, and the cloud's
/// own chain finds the keys):
///
/// ```
/// use imageshare::{
///     ClientBuilder, Connect, Error, ImageSharingExt, OutcomeKind, Principal, TencentCredentials,
///     AlibabaCredentials,
/// };
///
/// # #[cfg(feature = "emulator")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> imageshare::Result<()> {
/// # let emu = imageshare_emulator::Emulator::start(imageshare_emulator::World::example())
/// #     .await
/// #     .unwrap();
/// # let endpoint = emu.base_url();
/// let cvm = Connect::new(imageshare::tencent::CVM)
///     .region("ap-guangzhou")
///     .endpoint(endpoint.clone())
///     .credentials(TencentCredentials::new(
///         "AKIDEMU0000000000000000000000001",
///         "emu-tencent-secret-1",
///     ))
///     .build()?;
/// let ecs = Connect::new(imageshare::alibaba::ECS)
///     .region("cn-hangzhou")
///     .endpoint(endpoint)
///     .credentials(AlibabaCredentials::new("LTAIEMU000000001", "emu-alibaba-secret-1"))
///     .build()?;
///
/// let to = [Principal::account("100000000002")];
/// for (sharing, image) in [(&cvm, "img-6pb6lrmy"), (&ecs, "m-bp18ygjuqnwhechc")] {
///     let report = sharing.share(&image.into(), &to).await?;
///     // Granted now, or already: either way the account has it.
///     assert!(report.is_complete());
///     assert_eq!(
///         report.count(OutcomeKind::Granted) + report.count(OutcomeKind::AlreadyGranted),
///         1
///     );
/// }
///
/// // A project is not a CVM principal: the limit checker refuses it (no write is sent).
/// let wrong = [Principal::project("org-d4e5f6")];
/// match cvm.share(&"img-6pb6lrmy".into(), &wrong).await {
///     Err(Error::Limit(v)) => assert_eq!(v.rule.to_string(), "principal-kind"),
///     other => panic!("{other:?}"),
/// }
/// // An image that does not exist: NotFound, not an opaque API error.
/// match ecs.image(&"m-doesnotexist01".into()).await {
///     Err(Error::NotFound { what, .. }) => assert_eq!(what, "image"),
///     other => panic!("{other:?}"),
/// }
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
///
/// Every setter returns the changed builder and is `#[must_use]`: a setter whose result is
/// dropped sets nothing, and the compiler says so.
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// use imageshare::{ClientBuilder, Connect};
/// let connect = Connect::new(imageshare::tencent::CVM);
/// connect.clone().region("ap-guangzhou"); // error: unused return value that must be used
/// ```
///
/// ```
/// # #![deny(unused_must_use)]
/// use imageshare::{ClientBuilder, Connect};
/// let connect = Connect::new(imageshare::tencent::CVM);
/// let connect = connect.region("ap-guangzhou");
/// # let _ = connect;
/// ```
#[derive(Debug, Clone)]
pub struct Connect {
    provider: Provider,
    config: ClientConfig,
    credentials: Option<Credentials>,
    check: CheckOptions,
    audit: Option<AuditLog>,
    trust: TrustPolicy,
}

impl ClientBuilder for Connect {
    fn config(&self) -> &ClientConfig {
        &self.config
    }
    fn config_mut(&mut self) -> &mut ClientConfig {
        &mut self.config
    }
}

impl Connect {
    /// Options for `provider`, all unset.
    #[must_use]
    pub fn new(provider: Provider) -> Self {
        Self {
            provider,
            config: ClientConfig::new(),
            credentials: None,
            check: CheckOptions::default(),
            audit: None,
            trust: TrustPolicy::default(),
        }
    }
    /// The provider these options build.
    #[must_use]
    pub fn provider(&self) -> Provider {
        self.provider
    }
    /// Explicit credentials (they must be the provider's cloud's, e.g.
    /// `imageshare::tencent::TencentCredentials`).
    #[must_use]
    pub fn credentials(mut self, credentials: impl Into<Credentials>) -> Self {
        self.credentials = Some(credentials.into());
        self
    }
    /// Your own credentials provider (a vault, a broker, a token service): the adapter asks
    /// it for credentials at its first request, caches what it gives and asks again shortly
    /// before that expires ([`Expiring::until`](crate::Expiring::until); never for
    /// [`Expiring::never`](crate::Expiring::never)), one fetch at a time. Nothing is asked
    /// at `build()`. `C` is the credentials type of the provider's cloud
    /// (`imageshare::tencent::TencentCredentials`, ...); another cloud's is refused at
    /// `build()`.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use imageshare::{
    ///     ClientBuilder, Connect, Expiring, ImageSharingExt, ProvideCredentials, ProvideFuture,
    ///     TencentCredentials,
    /// };
    ///
    /// /// Keys handed out by the team's vault (here: a fixed pair, counting the requests).
    /// #[derive(Debug, Default)]
    /// struct Vault {
    ///     requests: AtomicUsize,
    /// }
    ///
    /// impl ProvideCredentials<TencentCredentials> for Vault {
    ///     fn provide(&self) -> ProvideFuture<'_, TencentCredentials> {
    ///         self.requests.fetch_add(1, Ordering::SeqCst);
    ///         Box::pin(async {
    ///             // A real vault call goes here (async: an HTTP request, a file read).
    ///             let keys = TencentCredentials::new(
    ///                 "AKIDEMU0000000000000000000000001",
    ///                 "emu-tencent-secret-1",
    ///             );
    ///             Ok(Expiring::never(keys))
    ///         })
    ///     }
    ///     fn source(&self) -> String {
    ///         "the team vault".to_owned() // never a secret: it is logged and shown by whoami
    ///     }
    /// }
    ///
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> imageshare::Result<()> {
    /// # let emu = imageshare_emulator::Emulator::start(imageshare_emulator::World::example())
    /// #     .await
    /// #     .unwrap();
    /// # let endpoint = emu.base_url();
    /// let vault = Arc::new(Vault::default());
    /// let cvm = Connect::new(imageshare::tencent::CVM)
    ///     .region("ap-guangzhou")
    ///     .endpoint(endpoint.clone()) // the emulator here; your private endpoint, or none
    ///     .sts_endpoint(endpoint) // STS (whoami), here the emulator's
    ///     .credentials_provider(vault.clone())
    ///     .build()?;
    /// assert_eq!(vault.requests.load(Ordering::SeqCst), 0, "nothing is asked at build()");
    /// cvm.image(&"img-6pb6lrmy".into()).await?;
    /// cvm.image(&"img-6pb6lrmy".into()).await?;
    /// assert_eq!(vault.requests.load(Ordering::SeqCst), 1, "long-term keys are cached");
    /// assert_eq!(cvm.whoami().await?.source, "the team vault");
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    #[must_use]
    pub fn credentials_provider<C: CloudCredentials>(
        mut self,
        provider: imageshare_core::SharedProvider<C>,
    ) -> Self {
        self.credentials = Some(Credentials::from_provider(provider));
        self
    }
    /// The explicit credentials set, if any.
    #[must_use]
    pub fn explicit_credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }
    /// The default client-side rate limits of `provider` (its cloud's published quotas, or
    /// imageshare's conservative choice where none is published); `None` when it is not
    /// compiled in.
    #[must_use]
    pub fn default_rate_limits(provider: Provider) -> Option<RateLimits> {
        crate::registry::spec(provider).map(|s| (s.rate_defaults)())
    }
    /// The client-side rate of the action named `name` (read at run time: a configuration
    /// file, a flag), checked against the provider's known actions
    /// ([`registry::action`](crate::registry::action)): an unknown name is
    /// [`Error::InvalidInput`] listing the known ones, instead of a rate that never
    /// applies. In Rust code prefer [`ClientBuilder::rate_limit`] with the provider crate's
    /// action enum, checked by the compiler. A whole table given to
    /// [`ClientBuilder::rate_limits`] names its actions by string too: `build` refuses a
    /// name that is not one of the provider's actions, the same way.
    ///
    /// ```
    /// use imageshare::{ClientBuilder, Connect, Rate};
    /// use imageshare::tencent::CvmAction;
    ///
    /// // Typed: a misspelt variant does not compile.
    /// let connect = Connect::new(imageshare::tencent::CVM)
    ///     .rate_limit(CvmAction::ModifyImageSharePermission, Rate::per_second(5.0));
    /// // By name, checked now.
    /// let connect = connect.rate_limit_named("DescribeImages", Rate::per_second(20.0))?;
    /// let err = connect
    ///     .rate_limit_named("ModifyImageSharePermision", Rate::per_second(5.0))
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("give one of ModifyImageSharePermission"));
    /// # Ok::<(), imageshare::Error>(())
    /// ```
    pub fn rate_limit_named(self, name: &str, rate: Rate) -> Result<Self> {
        let action = crate::registry::action(self.provider, name)?;
        Ok(self.rate_limit(action, rate))
    }

    /// Limit-checker options (encrypted-image acknowledgement, known principal sites).
    #[must_use]
    pub fn check_options(mut self, options: CheckOptions) -> Self {
        self.check = options;
        self
    }

    /// Records every grant, revoke and cross-project copy of the adapters built from these
    /// options in `log` (an [`Audited`] layer under the limit checker, so each call is one
    /// set of lines with its own request id). Clones of one `AuditLog` share one writer:
    /// open it once and give every connection a clone.
    #[must_use]
    pub fn audit(mut self, log: AuditLog) -> Self {
        self.audit = Some(log);
        self
    }
    /// Accepts images shared by other owners only as `policy` says (a [`Trusted`] layer:
    /// `shared_with_me` lists accepted images only, `copy` refuses the others before
    /// sending anything). The default accepts any owner.
    #[must_use]
    pub fn trust(mut self, policy: TrustPolicy) -> Self {
        self.trust = policy;
        self
    }
    /// The audit trail set with [`audit`](Self::audit).
    #[must_use]
    pub fn audit_log(&self) -> Option<&AuditLog> {
        self.audit.as_ref()
    }
    /// The trust policy set with [`trust`](Self::trust).
    #[must_use]
    pub fn trust_policy(&self) -> &TrustPolicy {
        &self.trust
    }
    /// The migration flows with these options' audit trail and trust policy.
    #[must_use]
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
            Some(log) => {
                let log = log.with_identity(adapter.credentials_source());
                Box::new(Audited::new(adapter, log))
            }
            None => adapter,
        };
        if trust.restricts(adapter.provider()) {
            Box::new(Trusted::new(adapter, trust))
        } else {
            adapter
        }
    }

    /// Builds the adapter, behind the trust policy and the audit trail when set, and wraps
    /// it in the limit checker.
    pub fn build(self) -> Result<DynSharing> {
        let check = self.check.clone();
        Ok(Checked::with_options(
            Arc::from(self.build_unchecked()?),
            check,
        ))
    }

    /// Builds the adapter, behind the trust policy and the audit trail when set, without
    /// the limit checker (tests that show what the server itself refuses; wrap it in
    /// [`Checked`] for anything else).
    pub fn build_unchecked(self) -> Result<Box<dyn ImageSharing>> {
        let spec = crate::registry::spec(self.provider).ok_or_else(|| {
            Error::unsupported(
                self.provider,
                "connect",
                "this provider is not compiled in (its cargo feature is off)",
            )
        })?;
        // A rate table given by name (`rate_limits`) must name the provider's actions: a
        // misspelt one would otherwise be a rate that never applies.
        if let Some(table) = self.config.rate_limits() {
            let known = (spec.actions)();
            for (name, _) in table.iter() {
                imageshare_core::Action::find(self.provider, &known, name)?;
            }
        }
        let adapter = (spec.build)(self.config, self.credentials.as_ref())?;
        Ok(Self::layered(adapter, self.audit, self.trust))
    }

    /// The ECS adapter itself (for ECS-only operations such as `copy_with`), without the
    /// limit checker, the trust policy or the audit trail (the migration flows of
    /// [`flows`](Self::flows) apply those to the adapters they are given).
    #[cfg(feature = "alibaba")]
    pub fn ecs(self) -> Result<crate::alibaba::EcsImageSharing> {
        imageshare_alibaba::providers::ecs(self.config, self.credentials.as_ref())
    }

    /// The SAS adapter itself (for `share_to_ecs`), without the limit checker, trust
    /// policy or audit trail.
    #[cfg(feature = "alibaba")]
    pub fn sas(self) -> Result<crate::alibaba::SasImageSharing> {
        imageshare_alibaba::providers::sas(self.config, self.credentials.as_ref())
    }

    /// The CVM adapter itself, without the limit checker, trust policy or audit trail.
    #[cfg(feature = "tencent")]
    pub fn cvm(self) -> Result<crate::tencent::TencentCvmImageSharing> {
        imageshare_tencent::providers::cvm(self.config, self.credentials.as_ref())
    }

    /// The Lighthouse adapter itself (for `share_from_cvm`), without the limit checker, trust
    /// policy or audit trail.
    #[cfg(feature = "tencent")]
    pub fn lighthouse(self) -> Result<crate::tencent::TencentLighthouseImageSharing> {
        imageshare_tencent::providers::lighthouse(self.config, self.credentials.as_ref())
    }

    /// The UCloud adapter itself (for `copy_to_project`), without the limit checker, trust
    /// policy or audit trail.
    #[cfg(feature = "ucloud")]
    pub fn ucloud(self) -> Result<crate::ucloud::UCloudImageSharing> {
        imageshare_ucloud::providers::uhost(self.config, self.credentials.as_ref())
    }
}

/// Builds the adapter for `provider` (a name such as `tencent-cvm`) in `region`, with
/// credentials from the cloud's chain, behind the limit checker.
pub fn connect(provider: &str, region: &str) -> Result<DynSharing> {
    let spec = crate::registry::lookup(provider)?;
    Connect::new(spec.provider).region(region).build()
}
