//! Tencent Cloud credentials and the credential chain (tencent.md §5).
//!
//! Sources, in order (the official SDKs' order, `explicit` first as DESIGN.md asks):
//! 1. explicit credentials given to the builder;
//! 2. environment: `TENCENTCLOUD_SECRET_ID` + `TENCENTCLOUD_SECRET_KEY` (official SDKs and
//!    tccli), session token from `TENCENTCLOUD_SECURITY_TOKEN` (Terraform provider) or else
//!    `TENCENTCLOUD_TOKEN` (tccli);
//! 3. the INI profile file `~/.tencentcloud/credentials`, or the file named by
//!    `TENCENTCLOUD_CREDENTIALS_FILE` (Go SDK), section `[default]`, keys `secret_id` and
//!    `secret_key` (no token key: the SDKs read none);
//! 4. `/etc/tencentcloud/credentials` (Python SDK fallback), same layout.
//!
//! The CVM instance-metadata role that the SDKs try last is not supported; the "nothing
//! found" error says so. No profile-selecting environment variable is read: tencent.md
//! documents none for the profile file, so another section is chosen only through
//! [`CredentialChain::profile`].
//!
//! `TENCENTCLOUD_REGION` (tccli, Terraform) is read whatever source supplied the keys and
//! returned as [`ResolvedCredentials::region`].
//!
//! A half-configured source (a SecretId without a SecretKey, or the reverse) is an error,
//! not a silent fall-through to the next source: falling through could sign with another
//! account's keys than the user meant. (The official Go chain falls through; we are stricter
//! on purpose.)

use std::fmt;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use imageshare_core::credentials::{profile_path, read_credentials_file, Env, OsEnv, SourceTrail};
use imageshare_core::{Error, Provider, Result, Secret};

use crate::ini::Ini;

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

/// Where resolved credentials came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// Given explicitly to the builder.
    Explicit,
    /// `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY`.
    Environment,
    /// An INI profile file.
    ProfileFile {
        /// The file read.
        path: PathBuf,
        /// The section read.
        profile: String,
    },
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Explicit => f.write_str("explicit credentials"),
            CredentialSource::Environment => {
                write!(f, "environment variables {ENV_SECRET_ID}/{ENV_SECRET_KEY}")
            }
            CredentialSource::ProfileFile { path, profile } => {
                write!(f, "profile [{profile}] of {}", path.display())
            }
        }
    }
}

/// The outcome of the chain: credentials, the optional `TENCENTCLOUD_REGION`, and where the
/// credentials came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCredentials {
    /// The credentials found.
    pub credentials: TencentCredentials,
    /// `TENCENTCLOUD_REGION`, when set.
    pub region: Option<String>,
    /// Which source supplied the credentials.
    pub source: CredentialSource,
}

/// The Tencent credential chain. Pure over an [`Env`], so tests use
/// [`imageshare_core::credentials::StaticEnv`] and never the real home directory.
#[derive(Debug, Clone)]
pub struct CredentialChain {
    provider: Provider,
    explicit: Option<TencentCredentials>,
    profile: String,
    system_file: bool,
}

impl Default for CredentialChain {
    fn default() -> Self {
        Self::new()
    }
}

impl CredentialChain {
    /// The full chain, for error messages naming Tencent CVM.
    pub fn new() -> Self {
        Self::for_provider(Provider::TencentCvm)
    }

    /// The full chain, for error messages naming `provider` (CVM or Lighthouse share keys).
    pub fn for_provider(provider: Provider) -> Self {
        CredentialChain {
            provider,
            explicit: None,
            profile: DEFAULT_PROFILE.to_owned(),
            system_file: true,
        }
    }

    /// Explicit credentials: used before every other source.
    pub fn explicit(mut self, credentials: TencentCredentials) -> Self {
        self.explicit = Some(credentials);
        self
    }

    /// The profile-file section to read (default `default`).
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = name.into();
        self
    }

    /// Whether to fall back to `/etc/tencentcloud/credentials` (default true, as the Python
    /// SDK does).
    pub fn system_file(mut self, enabled: bool) -> Self {
        self.system_file = enabled;
        self
    }

    /// Resolves credentials from the process environment and file system.
    pub fn resolve_os(&self) -> Result<ResolvedCredentials> {
        self.resolve(&OsEnv)
    }

    /// Resolves credentials from `env`. When no source has any, the error lists every source
    /// tried and why it gave nothing.
    pub fn resolve(&self, env: &dyn Env) -> Result<ResolvedCredentials> {
        let region = var(env, ENV_REGION);
        let resolved = |credentials: TencentCredentials, source| {
            credentials.validate()?;
            Ok(ResolvedCredentials {
                credentials,
                region: region.clone(),
                source,
            })
        };

        let mut trail = SourceTrail::new(self.provider);
        match &self.explicit {
            Some(c) => return resolved(c.clone(), CredentialSource::Explicit),
            None => trail.tried("explicit credentials (none given)"),
        }

        if let Some(c) = from_environment(env, &mut trail)? {
            return resolved(c, CredentialSource::Environment);
        }

        let primary = profile_path(env, Some(ENV_CREDENTIALS_FILE), PROFILE_FILE_UNDER_HOME);
        match &primary {
            Some(path) => {
                if let Some(c) = from_profile_file(env, path, &self.profile, &mut trail)? {
                    return resolved(
                        c,
                        CredentialSource::ProfileFile {
                            path: path.clone(),
                            profile: self.profile.clone(),
                        },
                    );
                }
            }
            None => trail.tried(format!(
                "profile file ~/{PROFILE_FILE_UNDER_HOME} (no home directory and {ENV_CREDENTIALS_FILE} unset)"
            )),
        }

        if self.system_file {
            let system = PathBuf::from(SYSTEM_PROFILE_FILE);
            if primary.as_deref() != Some(system.as_path()) {
                if let Some(c) = from_profile_file(env, &system, &self.profile, &mut trail)? {
                    return resolved(
                        c,
                        CredentialSource::ProfileFile {
                            path: system,
                            profile: self.profile.clone(),
                        },
                    );
                }
            }
        }

        trail.tried("CVM instance-metadata role (not supported by imageshare)");
        Err(trail.into_error())
    }
}

/// Resolves credentials with the full chain from the process environment.
pub fn from_env() -> Result<ResolvedCredentials> {
    CredentialChain::new().resolve_os()
}

fn var(env: &dyn Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn from_environment(env: &dyn Env, trail: &mut SourceTrail) -> Result<Option<TencentCredentials>> {
    let id = var(env, ENV_SECRET_ID);
    let key = var(env, ENV_SECRET_KEY);
    let (id, key) = match (id, key) {
        (Some(id), Some(key)) => (id, key),
        (None, None) => {
            trail.tried(format!(
                "environment variables {ENV_SECRET_ID} and {ENV_SECRET_KEY} (unset)"
            ));
            return Ok(None);
        }
        (Some(_), None) => {
            return Err(Error::invalid_input(
                ENV_SECRET_KEY,
                format!("{ENV_SECRET_ID} is set but {ENV_SECRET_KEY} is not; set both or neither"),
            ))
        }
        (None, Some(_)) => {
            return Err(Error::invalid_input(
                ENV_SECRET_ID,
                format!("{ENV_SECRET_KEY} is set but {ENV_SECRET_ID} is not; set both or neither"),
            ))
        }
    };
    let mut c = TencentCredentials::new(id, key);
    if let Some(token) = var(env, ENV_SECURITY_TOKEN).or_else(|| var(env, ENV_TOKEN)) {
        c = c.with_token(token);
    }
    Ok(Some(c))
}

fn from_profile_file(
    env: &dyn Env,
    path: &Path,
    profile: &str,
    trail: &mut SourceTrail,
) -> Result<Option<TencentCredentials>> {
    let shown = path.display();
    let text = match read_credentials_file(env, path) {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            trail.tried(format!("profile file {shown} (not found)"));
            return Ok(None);
        }
        Err(e) => {
            trail.tried(format!("profile file {shown} (unreadable: {})", e.kind()));
            return Ok(None);
        }
    };
    let ini = Ini::parse(&text).map_err(|e| {
        Error::invalid_input(
            format!("profile file {shown}"),
            format!("not a valid INI file: {e}"),
        )
    })?;
    if !ini.has_section(profile) {
        trail.tried(format!("profile file {shown} (no [{profile}] section)"));
        return Ok(None);
    }
    let id = ini.get(profile, "secret_id").filter(|v| !v.is_empty());
    let key = ini.get(profile, "secret_key").filter(|v| !v.is_empty());
    match (id, key) {
        (Some(id), Some(key)) => Ok(Some(TencentCredentials::new(id, key))),
        (None, None) => {
            trail.tried(format!(
                "profile file {shown} ([{profile}] has no secret_id and secret_key)"
            ));
            Ok(None)
        }
        (Some(_), None) => Err(Error::invalid_input(
            format!("profile file {shown}"),
            format!("[{profile}] has secret_id but no secret_key"),
        )),
        (None, Some(_)) => Err(Error::invalid_input(
            format!("profile file {shown}"),
            format!("[{profile}] has secret_key but no secret_id"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageshare_core::credentials::StaticEnv;

    const KEY: &str = "tc-file-key-never-shown";

    fn file() -> String {
        format!("[default]\nsecret_id = AKIDfile\nsecret_key = {KEY}\n")
    }

    #[test]
    fn profile_files_open_to_others_are_reported_and_still_used() {
        let home_file = "/home/t/.tencentcloud/credentials";
        let env = StaticEnv::new()
            .with_home("/home/t")
            .with_file_mode(home_file, &file(), 0o604);
        let r = CredentialChain::new().resolve(&env).unwrap();
        assert_eq!(r.credentials.secret_id, "AKIDfile");
        let w = env.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].path, PathBuf::from(home_file));
        let msg = w[0].to_string();
        assert!(msg.contains(&format!("chmod 600 {home_file}")), "{msg}");
        assert!(msg.contains("mode 604"), "{msg}");
        assert!(!msg.contains(KEY), "{msg}");

        // The file named by TENCENTCLOUD_CREDENTIALS_FILE and the system fallback too.
        let env = StaticEnv::new()
            .with_var(ENV_CREDENTIALS_FILE, "/srv/creds")
            .with_file_mode("/srv/creds", "[other]\n", 0o660)
            .with_file_mode(SYSTEM_PROFILE_FILE, &file(), 0o644);
        let r = CredentialChain::new().resolve(&env).unwrap();
        assert_eq!(
            r.source,
            CredentialSource::ProfileFile {
                path: SYSTEM_PROFILE_FILE.into(),
                profile: DEFAULT_PROFILE.into()
            }
        );
        let paths: Vec<PathBuf> = env.warnings().into_iter().map(|w| w.path).collect();
        assert_eq!(
            paths,
            vec![
                PathBuf::from("/srv/creds"),
                PathBuf::from(SYSTEM_PROFILE_FILE)
            ]
        );

        // Owner-only files raise nothing.
        let env = StaticEnv::new()
            .with_home("/home/t")
            .with_file_mode(home_file, &file(), 0o600);
        CredentialChain::new().resolve(&env).unwrap();
        assert!(env.warnings().is_empty());
    }
}
