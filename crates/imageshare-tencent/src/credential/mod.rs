//! Tencent Cloud credentials and the credential chain (tencent.md §5).
//!
//! The chain is a core [`CredentialChain`] of these sources, tried in this order; the first
//! that finds credentials wins:
//!
//! | # | source | where | official source of the rule |
//! |---|---|---|---|
//! | 1 | explicit credentials or provider given to the builder ([`Explicit`]) | builder | DESIGN.md: explicit values first |
//! | 2 | environment ([`ENV_KEY_PAIR`]): `TENCENTCLOUD_SECRET_ID` + `TENCENTCLOUD_SECRET_KEY`, token from `TENCENTCLOUD_SECURITY_TOKEN` or `TENCENTCLOUD_TOKEN` | `mod.rs` | Go `tencentcloud/common/env_provider.go`; Python `tencentcloud/common/credential.py` `EnvironmentVariableCredential`; tccli `tccli/options_define.py` (`TENCENTCLOUD_TOKEN`); Terraform provider (`TENCENTCLOUD_SECURITY_TOKEN`) |
//! | 3 | INI profile file `~/.tencentcloud/credentials` or `TENCENTCLOUD_CREDENTIALS_FILE` ([`ProfileFile::user`]) | `profile.rs` | Go `tencentcloud/common/profile_provider.go`; Python `ProfileCredential` |
//! | 4 | tccli's `~/.tccli/<profile>.credential` (keys, `role-arn`, `type: cvm-role`) and `.configure` (region) ([`TccliProfile`]) | `tccli.rs` | tccli `tccli/configure.py`, `tccli/options_define.py`, generated `parse_global_arg` |
//! | 5 | `/etc/tencentcloud/credentials` ([`ProfileFile::system`]) | `profile.rs` | Python `ProfileCredential` (fallback) |
//! | 6 | TKE OIDC: `TKE_REGION`, `TKE_PROVIDER_ID`, `TKE_WEB_IDENTITY_TOKEN_FILE`, `TKE_ROLE_ARN` -> STS `AssumeRoleWithWebIdentity` ([`TkeOidc`]) | `oidc.rs` | Go `tencentcloud/common/oidc_role_arn_provider.go`; Python `DefaultTkeOIDCRoleArnProvider` |
//! | 7 | CVM instance role from the metadata server ([`InstanceRole`]), selected lazily | `cvm_role.rs` | Go `tencentcloud/common/cvm_role_provider.go`, `provider_chain.go`; Python `CVMRoleCredential` |
//!
//! Then, when [`ClientConfig::assume_role`](imageshare_core::ClientConfig::assume_role) is
//! set (`--assume-role` in the CLI), whatever the chain found is wrapped in an STS
//! `AssumeRole` ([`AssumeRoleProvider`], `sts.rs`).
//!
//! **The order and where it comes from.** The official SDKs try environment -> profile
//! file -> CVM role (Go `DefaultProviderChain` in `tencentcloud/common/provider_chain.go`;
//! Python `DefaultCredentialProvider.get_credentials` in `tencentcloud/common/credential.py`,
//! which then tries TKE OIDC last). imageshare keeps that order and places its additions:
//! - tccli's files (which neither SDK reads) after the user's own SDK profile file and
//!   before the system-wide `/etc` fallback: user-level files before machine-wide ones;
//! - TKE OIDC *before* the CVM role, not after it as in Python: it is decided from the
//!   environment without a network call, and inside a TKE pod the metadata server answers
//!   with the *node's* role, so Python's order would act as the node rather than as the
//!   pod's own role (the AWS SDKs put web identity before the instance role for the same
//!   reason). tccli itself uses the OIDC variables only without keys, which this order
//!   also gives.
//! - the CVM role last: see [`cvm_role`] for why it is selected lazily (the chain always
//!   ends with it; when the metadata server is unreachable or no role is bound, the first
//!   call fails with [`Error::CredentialsNotFound`] listing every source tried).
//!
//! The profile name ([`ClientBuilder::profile`]) selects the section of the INI files and
//! the tccli profile; without one the INI section is `default` and the tccli profile is
//! `TCCLI_PROFILE`, else `default` (tccli's rule). `TENCENTCLOUD_REGION` (tccli, Terraform)
//! applies whatever source supplied the keys ([`region_from_env`]), except that a tccli
//! profile named on the builder brings its `.configure` region first; a region set on the
//! builder always wins.
//!
//! A half-configured source (a SecretId without a SecretKey, or the reverse; some but not
//! all `TKE_*` variables) is an error, not a silent fall-through to the next source
//! ([`HalfSetPair::Refuse`]): falling through could sign with another account's keys than
//! the user meant. (The official Go chain falls through; we are stricter on purpose.)
//!
//! Keys are used as written: the official SDKs trim the environment's values (Go
//! `env_provider.go`, Python `EnvironmentVariableCredential`), but imageshare applies the
//! one rule of every cloud instead (core `check_credential_value`): a SecretId, SecretKey
//! or token from a variable or a file with surrounding white space or a control character
//! is refused, naming the variable or file and the character. Trimming would make Tencent
//! behave unlike Alibaba and UCloud, whose SDKs sign the value as it is.
//!
//! Fetching sources (STS, the metadata server) reach the network through [`Services`]
//! (the builder's STS and metadata endpoints, HTTP options, clock), always through the core
//! transport, and never log a secret.
//!
//! [`ClientBuilder::profile`]: imageshare_core::ClientBuilder::profile

use std::fmt;

use imageshare_core::credentials::{
    fixed, CredentialChain, Env, EnvKeyPair, Explicit, HalfSetPair, KeyPair, SharedProvider,
};
use imageshare_core::{Error, Provider, Region, Result, Secret};

pub mod cvm_role;
pub mod oidc;
mod profile;
pub mod services;
pub mod sts;
pub mod tccli;

pub use cvm_role::{CvmRoleProvider, InstanceRole};
pub use oidc::{OidcRoleProvider, TkeOidc};
pub use profile::{ProfileFile, ProfileLocation};
pub use services::Services;
pub use sts::AssumeRoleProvider;
pub use tccli::TccliProfile;

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
    #[must_use]
    pub fn with_token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The credentials of a key pair read from the environment ([`ENV_KEY_PAIR`]).
    #[must_use]
    pub fn from_key_pair(pair: KeyPair) -> Self {
        TencentCredentials {
            secret_id: pair.id,
            secret_key: pair.secret,
            token: pair.token,
        }
    }

    /// Whether these are temporary credentials (a session token is set).
    #[must_use]
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
};

/// The Tencent credential chain for `provider` (named in the "nothing found" error; CVM
/// and Lighthouse share keys) with the default [`Services`] (public STS, the SDKs'
/// metadata server, default HTTP options, the system clock); see [`chain_with`].
#[must_use]
pub fn chain(
    provider: Provider,
    explicit: Option<SharedProvider<TencentCredentials>>,
    profile: Option<&str>,
) -> CredentialChain<SharedProvider<TencentCredentials>> {
    chain_with(&Services::new(provider), explicit, profile)
}

/// The Tencent credential chain, in the order of the [module docs](self): `explicit`
/// credentials when given, the environment, the INI profile file, tccli's profile, the
/// system INI file, TKE OIDC, the CVM instance role. `profile` is the INI section and the
/// tccli profile (`default` / `TCCLI_PROFILE` when `None`). Fetching sources call STS and
/// the metadata server as `services` say. Resolving is pure over the [`Env`] it is given
/// (tests use [`StaticEnv`](imageshare_core::credentials::StaticEnv), never the real home
/// directory); nothing is fetched until credentials are first needed.
#[must_use]
pub fn chain_with(
    services: &Services,
    explicit: Option<SharedProvider<TencentCredentials>>,
    profile: Option<&str>,
) -> CredentialChain<SharedProvider<TencentCredentials>> {
    CredentialChain::new(services.provider())
        .then(
            Explicit::new(explicit, |p| {
                p.fixed().map_or(Ok(()), TencentCredentials::validate)
            })
            .named(|p| p.source()),
        )
        .then(ENV_KEY_PAIR.source(|pair| {
            fixed(
                TencentCredentials::from_key_pair(pair),
                "environment variables",
            )
        }))
        .then(ProfileFile::user(profile))
        .then(TccliProfile::new(profile, services.clone()))
        .then(ProfileFile::system(profile))
        .then(TkeOidc::new(services.clone()))
        .then(InstanceRole::new(services.clone()))
}

/// `TENCENTCLOUD_REGION`, trimmed, when set.
pub fn region_from_env(env: &dyn Env) -> Option<Region> {
    env.var(ENV_REGION)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .map(Region::new)
}
