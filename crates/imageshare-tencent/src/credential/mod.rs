//! Tencent Cloud credentials and the credential chain (tencent.md §5).
//!
//! The chain is a core [`CredentialChain`] of these sources, in order (the official SDKs'
//! order, explicit values first as DESIGN.md asks):
//! 1. explicit credentials given to the builder ([`Explicit`], checked with
//!    [`TencentCredentials::validate`]);
//! 2. environment ([`ENV_KEY_PAIR`]): `TENCENTCLOUD_SECRET_ID` + `TENCENTCLOUD_SECRET_KEY`
//!    (official SDKs and tccli), session token from `TENCENTCLOUD_SECURITY_TOKEN` (Terraform
//!    provider) or else `TENCENTCLOUD_TOKEN` (tccli); values trimmed;
//! 3. the INI profile file `~/.tencentcloud/credentials`, or the file named by
//!    `TENCENTCLOUD_CREDENTIALS_FILE` (Go SDK) ([`ProfileFile::user`]), section `[default]`
//!    unless the builder chose another ([`ClientBuilder::profile`]), keys `secret_id` and
//!    `secret_key` (no token key: the SDKs read none);
//! 4. `/etc/tencentcloud/credentials` (Python SDK fallback), same layout
//!    ([`ProfileFile::system`]);
//! 5. the CVM instance-metadata role that the SDKs try last is not supported: the
//!    [`InstanceRole`] source only notes so in the "nothing found" error.
//!
//! [`chain`] assembles it; the adapters' builders resolve it at `build()` over
//! [`ClientConfig::env`](imageshare_core::ClientConfig::env). No profile-selecting
//! environment variable is read: tencent.md documents none for the profile file.
//!
//! `TENCENTCLOUD_REGION` (tccli, Terraform) applies whatever source supplied the keys
//! ([`region_from_env`]); a region set on the builder wins.
//!
//! A half-configured source (a SecretId without a SecretKey, or the reverse) is an error,
//! not a silent fall-through to the next source ([`HalfSetPair::Refuse`]): falling through
//! could sign with another account's keys than the user meant. (The official Go chain falls
//! through; we are stricter on purpose.)
//!
//! [`ClientBuilder::profile`]: imageshare_core::ClientBuilder::profile

use std::fmt;

use imageshare_core::credentials::{
    fixed, CredentialChain, CredentialSource, Env, EnvKeyPair, Explicit, Found, HalfSetPair,
    KeyPair, SharedProvider, SourceTrail,
};
use imageshare_core::{Error, Provider, Region, Result, Secret};

mod profile;

pub use profile::{ProfileFile, ProfileLocation};

/// `TENCENTCLOUD_SECRET_ID`.
pub const ENV_SECRET_ID: &str = "TENCENTCLOUD_SECRET_ID";
/// `TENCENTCLOUD_SECRET_KEY`.
pub const ENV_SECRET_KEY: &str = "TENCENTCLOUD_SECRET_KEY";
/// `TENCENTCLOUD_SECURITY_TOKEN` (Terraform provider's name for the session token).
pub const ENV_SECURITY_TOKEN: &str = "TENCENTCLOUD_SECURITY_TOKEN";
/// `TENCENTCLOUD_TOKEN` (tccli's name for the session token).
pub const ENV_TOKEN: &str = "TENCENTCLOUD_TOKEN";
/// `TENCENTCLOUD_REGION`.
pub const ENV_REGION: &str = "TENCENTCLOUD_REGION";
/// `TENCENTCLOUD_CREDENTIALS_FILE`: overrides the profile-file path (Go SDK).
pub const ENV_CREDENTIALS_FILE: &str = "TENCENTCLOUD_CREDENTIALS_FILE";
/// The profile file under the home directory.
pub const PROFILE_FILE_UNDER_HOME: &str = ".tencentcloud/credentials";
/// The system-wide profile file the Python SDK falls back to.
pub const SYSTEM_PROFILE_FILE: &str = "/etc/tencentcloud/credentials";
/// The profile section read by default.
pub const DEFAULT_PROFILE: &str = "default";

/// A Tencent Cloud API key pair, with a session token for temporary (STS) credentials.
/// `Debug` and `Display` never show the key or the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TencentCredentials {
    /// The SecretId (`AKID...`); not a secret, it names the key.
    pub secret_id: String,
    /// The SecretKey.
    pub secret_key: Secret,
    /// The session token of temporary credentials, sent as `X-TC-Token`.
    pub token: Option<Secret>,
}

impl TencentCredentials {
    /// Long-term credentials.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<Secret>) -> Self {
        TencentCredentials {
            secret_id: secret_id.into(),
            secret_key: secret_key.into(),
            token: None,
        }
    }

    /// Adds a session token (temporary credentials).
    pub fn with_token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The credentials of a key pair read from the environment ([`ENV_KEY_PAIR`]).
    pub fn from_key_pair(pair: KeyPair) -> Self {
        TencentCredentials {
            secret_id: pair.id,
            secret_key: pair.secret,
            token: pair.token,
        }
    }

    /// Whether these are temporary credentials (a session token is set).
    pub fn is_temporary(&self) -> bool {
        self.token.as_ref().is_some_and(|t| !t.is_empty())
    }

    /// Checks that the SecretId and SecretKey are non-empty and the SecretId has no
    /// whitespace or control characters (it goes into the `Authorization` header).
    pub fn validate(&self) -> Result<()> {
        if self.secret_id.trim().is_empty() {
            return Err(Error::invalid_input(
                "secret_id",
                "the Tencent SecretId is empty",
            ));
        }
        if self
            .secret_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == ',')
        {
            return Err(Error::invalid_input(
                "secret_id",
                "the Tencent SecretId contains whitespace, a control character, `/` or `,`",
            ));
        }
        if self.secret_key.is_empty() {
            return Err(Error::invalid_input(
                "secret_key",
                "the Tencent SecretKey is empty",
            ));
        }
        Ok(())
    }
}

impl fmt::Display for TencentCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tencent Cloud key {}", self.secret_id)?;
        if self.is_temporary() {
            f.write_str(" (temporary, with session token)")?;
        }
        Ok(())
    }
}

/// The environment key pair of the chain (source 2 of the [module docs](self)).
pub const ENV_KEY_PAIR: EnvKeyPair = EnvKeyPair {
    id_name: "SecretId",
    secret_name: "SecretKey",
    id_vars: &[ENV_SECRET_ID],
    secret_vars: &[ENV_SECRET_KEY],
    token_vars: &[ENV_SECURITY_TOKEN, ENV_TOKEN],
    half_set: HalfSetPair::Refuse,
    trim: true,
};

/// The Tencent credential chain for `provider` (named in the "nothing found" error; CVM
/// and Lighthouse share keys): `explicit` credentials when given, then the environment,
/// the profile file, the system profile file, in the order of the [module docs](self).
/// `profile` is the profile-file section (`default` when `None`). Pure over the [`Env`]
/// it is resolved in, so tests use
/// [`StaticEnv`](imageshare_core::credentials::StaticEnv) and never the real home
/// directory.
pub fn chain(
    provider: Provider,
    explicit: Option<SharedProvider<TencentCredentials>>,
    profile: Option<&str>,
) -> CredentialChain<SharedProvider<TencentCredentials>> {
    CredentialChain::new(provider)
        .then(Explicit::new(explicit, |p| {
            p.fixed().map_or(Ok(()), TencentCredentials::validate)
        }))
        .then(ENV_KEY_PAIR.source(|pair| {
            fixed(
                TencentCredentials::from_key_pair(pair),
                "environment variables",
            )
        }))
        .then(ProfileFile::user(profile))
        .then(ProfileFile::system(profile))
        .then(InstanceRole)
}

/// `TENCENTCLOUD_REGION`, trimmed, when set.
pub fn region_from_env(env: &dyn Env) -> Option<Region> {
    env.var(ENV_REGION)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .map(Region::new)
}

/// The CVM instance-metadata role the official SDKs try last: not supported by imageshare,
/// so this source finds nothing and says so in the "nothing found" error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceRole;

impl CredentialSource<SharedProvider<TencentCredentials>> for InstanceRole {
    fn load(
        &self,
        _env: &dyn Env,
        trail: &mut SourceTrail,
    ) -> Result<Option<Found<SharedProvider<TencentCredentials>>>> {
        trail.tried("CVM instance-metadata role (not supported by imageshare)");
        Ok(None)
    }
}
