//! UCloud credentials and client settings, and the chain that finds them.
//!
//! # Order
//!
//! Every value is taken from the first source that has it:
//!
//! 1. **explicit** values given to [`UCloudChain`] (builder values);
//! 2. the **environment**: `UCLOUD_PUBLIC_KEY` + `UCLOUD_PRIVATE_KEY`, `UCLOUD_PROJECT_ID`,
//!    `UCLOUD_REGION`, `UCLOUD_ZONE`, `UCLOUD_API_BASE_URL`, `UCLOUD_TIMEOUT_SECOND`;
//! 3. the **shared files** of the UCloud CLI and Go SDK, `~/.ucloud/credential.json` and
//!    `~/.ucloud/config.json` (paths overridable by `UCLOUD_SHARED_CREDENTIAL_FILE` and
//!    `UCLOUD_SHARED_CONFIG_FILE`, where a leading `~/` means the home directory);
//! 4. for keys only, the **instance role** from the metadata server, only when asked for
//!    ([`instance_role`]; the Go SDK's default chain never tries it).
//!
//! Then, when `ClientConfig::assume_role()` is set, the builder assumes that role with STS
//! `AssumeRole` signed with whatever the chain found ([`sts`]). Temporary credentials
//! (STS, instance role) are fetched when first needed, cached and refreshed before they
//! expire (core `CredentialsCache`); their `SecurityToken` is sent and signed as a request
//! parameter.
//!
//! The variable and file names above were checked against ucloud-sdk-go `ff76b12`
//! (`external/env_config.go`, `external/shared_config.go`): they match, and the SDK reads
//! no token variable or file field.
//!
//! This is the order imageshare uses for every cloud. It differs from the Go SDK's
//! `external.LoadDefaultUCloudConfig`, which loads the environment first and then lets any
//! non-empty shared-file value **overwrite** it (ucloud.md §5.1; whether UCloud intends that
//! is unconfirmed). Here an environment variable always beats the file, as the other clouds'
//! SDKs do it.
//!
//! The key pair is one unit: both keys come from the same source. It is found by a core
//! [`CredentialChain`] of three sources, in this order: [`Explicit`] credentials, the
//! environment pair [`ENV_KEY_PAIR`] (an [`EnvKeyPair`]), then the selected profile of the
//! shared credential file. Only one of `UCLOUD_PUBLIC_KEY` / `UCLOUD_PRIVATE_KEY` set (or
//! only one of `public_key` / `private_key` in the selected profile) is an error rather
//! than a silent fall-through to another identity ([`HalfSetPair::Refuse`], as the Go SDK
//! and the CLI, which read both variables together). Values are used as given, not
//! trimmed. STS `SecurityToken`s are only taken from explicit credentials: neither the
//! SDKs nor the CLI read one from the environment or the files. The other settings
//! (project, region, zone, base URL, timeout) are merged value by value in the same order.
//! The shared files are read only when something is still missing, so a broken file never
//! matters to a caller who does not need it.
//!
//! # Profiles (ucloud.md §5.2)
//!
//! Both files hold a JSON **array** of profiles. The profile is the explicit one, else
//! `UCLOUD_PROFILE`; with a name, the entries whose `profile` equals it are used. Without a
//! name, the `config.json` entry with `"active": true` is used and its `profile` name picks
//! the `credential.json` entry. When several entries match, the last one wins (as in the Go
//! SDK). Empty strings and `timeout_sec: 0` count as absent. Fields the CLI writes and the
//! SDK ignores (`cookie`, `max_retry_times`, ...) are ignored.
//!
//! All reads go through [`Env`], so tests use [`imageshare_core::credentials::StaticEnv`]
//! and never the real home directory.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use imageshare_core::credentials::{
    fixed, CredentialChain, Env, EnvKeyPair, Explicit, HalfSetPair, KeyPair, OsEnv, SharedProvider,
};
use imageshare_core::{Error, Result, Secret};

use crate::signer::{self, Param};
use crate::UHOST;

mod files;
pub mod instance_role;
pub mod sts;

use files::{SharedCredentialFile, SharedFiles};
use instance_role::{InstanceRole, InstanceRoleProvider, INTERNAL_BASE_URL};

/// Environment variable: public key.
pub const ENV_PUBLIC_KEY: &str = "UCLOUD_PUBLIC_KEY";
/// Environment variable: private key.
pub const ENV_PRIVATE_KEY: &str = "UCLOUD_PRIVATE_KEY";
/// Environment variable: project id (`org-...`).
pub const ENV_PROJECT_ID: &str = "UCLOUD_PROJECT_ID";
/// Environment variable: region (`cn-bj2`).
pub const ENV_REGION: &str = "UCLOUD_REGION";
/// Environment variable: zone (`cn-bj2-02`).
pub const ENV_ZONE: &str = "UCLOUD_ZONE";
/// Environment variable: API base URL (`https://api.ucloud-global.com`).
pub const ENV_API_BASE_URL: &str = "UCLOUD_API_BASE_URL";
/// Environment variable: timeout in whole seconds.
pub const ENV_TIMEOUT_SECOND: &str = "UCLOUD_TIMEOUT_SECOND";
/// Environment variable: named profile of the shared files.
pub const ENV_PROFILE: &str = "UCLOUD_PROFILE";
/// Environment variable: path of `config.json`.
pub const ENV_SHARED_CONFIG_FILE: &str = "UCLOUD_SHARED_CONFIG_FILE";
/// Environment variable: path of `credential.json`.
pub const ENV_SHARED_CREDENTIAL_FILE: &str = "UCLOUD_SHARED_CREDENTIAL_FILE";
/// Default `config.json` location under the home directory.
pub const DEFAULT_CONFIG_FILE: &str = ".ucloud/config.json";
/// Default `credential.json` location under the home directory.
pub const DEFAULT_CREDENTIAL_FILE: &str = ".ucloud/credential.json";
/// The China-site API endpoint, the SDKs' default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.ucloud.cn";

/// The key pair in the environment, the second source of the key chain: `UCLOUD_PUBLIC_KEY`
/// and `UCLOUD_PRIVATE_KEY`, both or neither (a half-set pair is an error), no token
/// variable; a value with surrounding white space or a control character is refused
/// (core `check_credential_value`, the same rule on every cloud).
pub const ENV_KEY_PAIR: EnvKeyPair = EnvKeyPair {
    id_name: "public key",
    secret_name: "private key",
    id_vars: &[ENV_PUBLIC_KEY],
    secret_vars: &[ENV_PRIVATE_KEY],
    token_vars: &[],
    half_set: HalfSetPair::Refuse,
};

/// A UCloud API key pair, with an optional STS token. `Debug` shows the public key only;
/// the private key and the token print as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct UCloudCredentials {
    /// The API public key (sent as `PublicKey`).
    pub public_key: String,
    /// The API private key (never sent; appended to the string to sign).
    pub private_key: Secret,
    /// The STS token of temporary credentials (sent and signed as `SecurityToken`).
    pub security_token: Option<Secret>,
}

impl UCloudCredentials {
    /// A long-term key pair.
    pub fn new(public_key: impl Into<String>, private_key: impl Into<Secret>) -> Self {
        Self {
            public_key: public_key.into(),
            private_key: private_key.into(),
            security_token: None,
        }
    }

    /// The same keys with an STS security token.
    #[must_use]
    pub fn with_security_token(mut self, token: impl Into<Secret>) -> Self {
        self.security_token = Some(token.into());
        self
    }

    /// Credentials from the environment and the shared files of the real process
    /// ([`UCloudChain`] with no explicit values and [`OsEnv`]).
    pub fn from_env() -> Result<Self> {
        let found = UCloudChain::new().resolve(&OsEnv)?;
        found.fixed_credentials().cloned().ok_or_else(|| {
            Error::invalid_input(
                "credentials",
                format!(
                    "{} gives temporary credentials, fetched when used",
                    found.credential_source
                ),
            )
        })
    }

    /// True when these are temporary credentials (they carry an STS token).
    #[must_use]
    pub fn is_temporary(&self) -> bool {
        self.security_token.is_some()
    }

    /// These credentials as a provider that always gives them, found in `source`.
    pub fn into_provider(self, source: impl Into<String>) -> SharedProvider<UCloudCredentials> {
        fixed(self, source)
    }

    /// Adds `PublicKey` (and `SecurityToken`) and `Signature` to flattened parameters
    /// ([`signer::sign_request`]).
    #[must_use]
    pub fn sign(&self, params: Vec<Param>) -> Vec<Param> {
        signer::sign_request(params, self)
    }
}

impl fmt::Debug for UCloudCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UCloudCredentials")
            .field("public_key", &self.public_key)
            .field("private_key", &"***")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

/// Optional client settings: each `None` means "not set here".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UCloudConfig {
    /// Project id (`org-...`); required for sub-accounts.
    pub project_id: Option<String>,
    /// Region (`cn-bj2`).
    pub region: Option<String>,
    /// Zone (`cn-bj2-02`).
    pub zone: Option<String>,
    /// API base URL; [`DEFAULT_BASE_URL`] when unset everywhere.
    pub base_url: Option<String>,
    /// Per-call timeout in seconds.
    pub timeout_secs: Option<u64>,
}

impl UCloudConfig {
    /// Fills every unset field from `fallback`.
    #[must_use]
    pub fn or(self, fallback: UCloudConfig) -> UCloudConfig {
        UCloudConfig {
            project_id: self.project_id.or(fallback.project_id),
            region: self.region.or(fallback.region),
            zone: self.zone.or(fallback.zone),
            base_url: self.base_url.or(fallback.base_url),
            timeout_secs: self.timeout_secs.or(fallback.timeout_secs),
        }
    }

    /// True when every field is set (the shared config file is then not needed).
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.project_id.is_some()
            && self.region.is_some()
            && self.zone.is_some()
            && self.base_url.is_some()
            && self.timeout_secs.is_some()
    }

    /// The base URL to use: the configured one, else [`DEFAULT_BASE_URL`].
    #[must_use]
    pub fn base_url_or_default(&self) -> &str {
        self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL)
    }

    /// The values set in the environment.
    pub fn from_env(env: &dyn Env) -> Result<UCloudConfig> {
        let timeout_secs = match env.var(ENV_TIMEOUT_SECOND) {
            None => None,
            Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
                Error::invalid_input(
                    ENV_TIMEOUT_SECOND,
                    format!("expected a whole number of seconds, got {v:?}"),
                )
            })?),
        };
        Ok(UCloudConfig {
            project_id: env.var(ENV_PROJECT_ID),
            region: env.var(ENV_REGION),
            zone: env.var(ENV_ZONE),
            base_url: env.var(ENV_API_BASE_URL),
            timeout_secs,
        })
    }
}

/// Where the resolved credentials came from: which source of the key chain found them. (Not
/// core's [`CredentialSource`](imageshare_core::credentials::CredentialSource) trait, which
/// the sources themselves implement.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// Given explicitly to the chain.
    Explicit,
    /// `UCLOUD_PUBLIC_KEY` and `UCLOUD_PRIVATE_KEY`.
    Environment,
    /// A profile of the shared credential file.
    SharedFile {
        /// The file read.
        path: PathBuf,
        /// The profile used.
        profile: String,
    },
    /// The instance role, from the metadata server (only when asked for).
    InstanceRole {
        /// What the provider calls itself (role, server, API version).
        description: String,
    },
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Explicit => f.write_str("explicit credentials"),
            CredentialSource::Environment => {
                write!(f, "environment ({ENV_PUBLIC_KEY}, {ENV_PRIVATE_KEY})")
            }
            CredentialSource::SharedFile { path, profile } => {
                write!(f, "profile {profile:?} of {}", path.display())
            }
            CredentialSource::InstanceRole { description } => f.write_str(description),
        }
    }
}

/// What the chain found.
#[derive(Debug, Clone)]
pub struct ResolvedUCloud {
    /// The provider of the key pair (and token): fixed keys, or temporary credentials
    /// fetched when first used and refreshed before they expire.
    pub credentials: SharedProvider<UCloudCredentials>,
    /// Where the key pair came from.
    pub credential_source: CredentialSource,
    /// The settings, each from the first source that had it.
    pub config: UCloudConfig,
    /// The profile of the shared files in force (named, or the active one), if any.
    pub profile: Option<String>,
}

impl ResolvedUCloud {
    /// The key pair, when the chain found fixed keys (explicit, environment, shared
    /// file); `None` for a provider that fetches them.
    #[must_use]
    pub fn fixed_credentials(&self) -> Option<&UCloudCredentials> {
        self.credentials.fixed()
    }
}

/// The UCloud credential and settings chain: explicit values, then the environment, then
/// the shared files (see the [module docs](self) for the exact rules).
///
/// ```
/// use imageshare_core::credentials::StaticEnv;
/// use imageshare_ucloud::{CredentialSource, UCloudChain};
///
/// let env = StaticEnv::new()
///     .with_var("UCLOUD_PUBLIC_KEY", "pub-env")
///     .with_var("UCLOUD_PRIVATE_KEY", "priv-env")
///     .with_var("UCLOUD_REGION", "cn-sh2");
/// let found = UCloudChain::new().region("hk").resolve(&env).unwrap();
/// assert_eq!(found.fixed_credentials().unwrap().public_key, "pub-env");
/// assert_eq!(found.credential_source, CredentialSource::Environment);
/// assert_eq!(found.config.region.as_deref(), Some("hk")); // explicit beats env
/// ```
#[derive(Debug, Clone, Default)]
pub struct UCloudChain {
    credentials: Option<SharedProvider<UCloudCredentials>>,
    config: UCloudConfig,
    profile: Option<String>,
    shared_config_file: Option<PathBuf>,
    shared_credential_file: Option<PathBuf>,
    instance_role: Option<InstanceRole>,
    metadata_endpoint: Option<String>,
}

impl UCloudChain {
    /// A chain with no explicit values.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Explicit credentials (the rest of the chain is not consulted for keys).
    #[must_use]
    pub fn credentials(self, credentials: UCloudCredentials) -> Self {
        self.credentials_provider(fixed(credentials, CredentialSource::Explicit.to_string()))
    }
    /// An explicit credentials provider (your own vault or broker, an STS role): the rest
    /// of the chain is not consulted for keys.
    #[must_use]
    pub fn credentials_provider(mut self, provider: SharedProvider<UCloudCredentials>) -> Self {
        self.credentials = Some(provider);
        self
    }
    /// Explicit settings; fields left `None` are looked up further down the chain.
    #[must_use]
    pub fn config(mut self, config: UCloudConfig) -> Self {
        self.config = config;
        self
    }
    /// Explicit project id.
    #[must_use]
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.config.project_id = Some(project_id.into());
        self
    }
    /// Explicit region.
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.config.region = Some(region.into());
        self
    }
    /// Explicit zone.
    #[must_use]
    pub fn zone(mut self, zone: impl Into<String>) -> Self {
        self.config.zone = Some(zone.into());
        self
    }
    /// Explicit API base URL.
    #[must_use]
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.config.base_url = Some(base_url.into());
        self
    }
    /// Explicit timeout in seconds.
    #[must_use]
    pub fn timeout_secs(mut self, secs: u64) -> Self {
        self.config.timeout_secs = Some(secs);
        self
    }
    /// Explicit profile of the shared files (beats `UCLOUD_PROFILE`).
    #[must_use]
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }
    /// Explicit path of `config.json` (beats `UCLOUD_SHARED_CONFIG_FILE`).
    #[must_use]
    pub fn shared_config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.shared_config_file = Some(path.into());
        self
    }
    /// Explicit path of `credential.json` (beats `UCLOUD_SHARED_CREDENTIAL_FILE`).
    #[must_use]
    pub fn shared_credential_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.shared_credential_file = Some(path.into());
        self
    }

    /// Asks for the instance role as the last source of keys (see
    /// [`instance_role`](mod@self::instance_role): the UCloud SDK never tries it unasked).
    #[must_use]
    pub fn instance_role(mut self, role: InstanceRole) -> Self {
        self.instance_role = Some(role);
        self
    }
    /// The metadata server of the instance role (default
    /// [`instance_role::METADATA_ENDPOINT`]).
    #[must_use]
    pub fn metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.metadata_endpoint = Some(endpoint.into());
        self
    }

    /// [`UCloudChain::resolve`] against the real process environment and file system.
    pub fn resolve_from_os(&self) -> Result<ResolvedUCloud> {
        self.resolve(&OsEnv)
    }

    /// Runs the chain. Errors: [`Error::CredentialsNotFound`] listing every source tried
    /// when no key pair is found; [`Error::InvalidInput`] for a half-set key pair, a
    /// malformed shared file or a non-numeric `UCLOUD_TIMEOUT_SECOND`. No
    /// error text ever contains a private key or token.
    pub fn resolve(&self, env: &dyn Env) -> Result<ResolvedUCloud> {
        let mut config = self.config.clone().or(UCloudConfig::from_env(env)?);
        let named = self.profile.clone().or_else(|| env.var(ENV_PROFILE));
        let files = Arc::new(SharedFiles::locate(
            env,
            self.shared_config_file.as_deref(),
            self.shared_credential_file.as_deref(),
            named,
        ));
        let keys = self.key_chain(files.clone()).resolve(env)?.credentials;
        // `config.json` is read only when a setting is still missing (or the key chain
        // read it already, to select the profile of the credential file).
        if !config.is_complete() {
            if let Some(entry) = files.config_entry(env)? {
                config = config.or(entry.to_config());
            }
        }
        // Instance-role credentials go to the in-VPC endpoint unless one is configured
        // (`external/sts_common.go` `internalBaseUrl`).
        if matches!(keys.source, CredentialSource::InstanceRole { .. }) && config.base_url.is_none()
        {
            config.base_url = Some(INTERNAL_BASE_URL.to_owned());
        }
        Ok(ResolvedUCloud {
            credentials: keys.credentials,
            credential_source: keys.source,
            config,
            profile: files.profile(),
        })
    }

    /// The key pair's chain: the explicit credentials, then [`ENV_KEY_PAIR`], then the
    /// selected profile of the shared credential file.
    fn key_chain(&self, files: Arc<SharedFiles>) -> CredentialChain<SourcedKeys> {
        let explicit = self.credentials.clone().map(|credentials| SourcedKeys {
            credentials,
            source: CredentialSource::Explicit,
        });
        CredentialChain::new(UHOST)
            .then(Explicit::new(explicit, |_| Ok(())))
            .then(ENV_KEY_PAIR.source(SourcedKeys::from_env))
            .then(SharedCredentialFile(files))
            .then(InstanceRoleSource {
                role: self.instance_role.clone(),
                endpoint: self.metadata_endpoint.clone(),
            })
    }
}

/// The instance role as the last source of the key chain: when asked for, a provider that
/// fetches from the metadata server on first use; otherwise a note in the trail.
#[derive(Debug)]
struct InstanceRoleSource {
    role: Option<InstanceRole>,
    endpoint: Option<String>,
}

impl imageshare_core::credentials::CredentialSource<SourcedKeys> for InstanceRoleSource {
    fn load(
        &self,
        _env: &dyn Env,
        trail: &mut imageshare_core::credentials::SourceTrail,
    ) -> Result<Option<imageshare_core::credentials::Found<SourcedKeys>>> {
        let Some(role) = &self.role else {
            trail.tried(
                "UHost instance role from the metadata server (not asked for: like the UCloud \
                 SDK, imageshare uses it only when asked, UCloudImageSharingBuilder::instance_role)",
            );
            return Ok(None);
        };
        let provider = InstanceRoleProvider::new(self.endpoint.as_deref(), role.clone())?
            .with_tried_before(trail.sources().to_vec());
        let source = CredentialSource::InstanceRole {
            description: imageshare_core::credentials::ProvideCredentials::source(&provider),
        };
        let label = source.to_string();
        Ok(Some(imageshare_core::credentials::Found::new(
            SourcedKeys {
                credentials: Arc::new(provider),
                source,
            },
            label,
        )))
    }
}

/// A key provider and where it was found: what the sources of the key chain find.
#[derive(Debug, Clone)]
struct SourcedKeys {
    credentials: SharedProvider<UCloudCredentials>,
    source: CredentialSource,
}

impl SourcedKeys {
    /// Fixed keys found in `source`.
    fn fixed(credentials: UCloudCredentials, source: CredentialSource) -> Self {
        SourcedKeys {
            credentials: fixed(credentials, source.to_string()),
            source,
        }
    }

    /// The pair [`ENV_KEY_PAIR`] found (it reads no token).
    fn from_env(pair: KeyPair) -> Self {
        Self::fixed(
            UCloudCredentials::new(pair.id, pair.secret),
            CredentialSource::Environment,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageshare_core::credentials::StaticEnv;

    #[test]
    fn credential_file_open_to_others_is_reported_config_file_is_not() {
        let creds = r#"[{"public_key": "pub-file", "private_key": "PRIV-never-shown", "profile": "default"}]"#;
        let config = r#"[{"profile": "default", "active": true, "project_id": "org-abc"}]"#;
        let env = StaticEnv::new()
            .with_home("/home/u")
            .with_file_mode("/home/u/.ucloud/credential.json", creds, 0o640)
            .with_file_mode("/home/u/.ucloud/config.json", config, 0o644);
        let found = UCloudChain::new().resolve(&env).unwrap();
        assert_eq!(found.fixed_credentials().unwrap().public_key, "pub-file");
        assert_eq!(found.config.project_id.as_deref(), Some("org-abc"));
        let w = env.warnings();
        assert_eq!(w.len(), 1, "only the file with the private key: {w:?}");
        assert_eq!(w[0].path, PathBuf::from("/home/u/.ucloud/credential.json"));
        assert_eq!(w[0].mode, 0o640);
        let msg = w[0].to_string();
        assert!(
            msg.contains("chmod 600 /home/u/.ucloud/credential.json"),
            "{msg}"
        );
        assert!(!msg.contains("PRIV-never-shown"), "{msg}");

        let private = StaticEnv::new()
            .with_home("/home/u")
            .with_file_mode("/home/u/.ucloud/credential.json", creds, 0o600)
            .with_file_mode("/home/u/.ucloud/config.json", config, 0o644);
        UCloudChain::new().resolve(&private).unwrap();
        assert!(private.warnings().is_empty());
    }
}
