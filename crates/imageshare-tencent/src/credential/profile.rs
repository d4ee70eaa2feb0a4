//! The INI profile files of the official SDKs: `~/.tencentcloud/credentials` (or the file
//! named by `TENCENTCLOUD_CREDENTIALS_FILE`, Go SDK `tencentcloud/common/profile_provider.go`)
//! and `/etc/tencentcloud/credentials` (Python SDK `tencentcloud/common/credential.py`,
//! `ProfileCredential`), keys `secret_id` and `secret_key`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use imageshare_core::credentials::chain::check_credential_value;
use imageshare_core::credentials::{
    fixed, profile_path, read_credentials_file, CredentialSource, Env, Found, SharedProvider,
    SourceTrail,
};
use imageshare_core::{Error, Result};

use super::{
    TencentCredentials, DEFAULT_PROFILE, ENV_CREDENTIALS_FILE, PROFILE_FILE_UNDER_HOME,
    SYSTEM_PROFILE_FILE,
};
use crate::ini::Ini;

/// Which profile file a [`ProfileFile`] source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileLocation {
    /// The file named by `TENCENTCLOUD_CREDENTIALS_FILE`, else `~/.tencentcloud/credentials`.
    User,
    /// `/etc/tencentcloud/credentials` (skipped when it is the user file as well).
    System,
}

/// One INI profile file of the chain: the section `profile` of the file at `location`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFile {
    location: ProfileLocation,
    profile: String,
}

impl ProfileFile {
    /// The user's profile file, section `profile` (`default` when `None`).
    #[must_use]
    pub fn user(profile: Option<&str>) -> Self {
        Self::at(ProfileLocation::User, profile)
    }

    /// The system-wide profile file, section `profile` (`default` when `None`).
    #[must_use]
    pub fn system(profile: Option<&str>) -> Self {
        Self::at(ProfileLocation::System, profile)
    }

    fn at(location: ProfileLocation, profile: Option<&str>) -> Self {
        ProfileFile {
            location,
            profile: profile.unwrap_or(DEFAULT_PROFILE).to_owned(),
        }
    }

    /// The section read.
    #[must_use]
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// The user file's path: `TENCENTCLOUD_CREDENTIALS_FILE`, else under the home directory.
    fn user_path(env: &dyn Env) -> Option<PathBuf> {
        profile_path(env, Some(ENV_CREDENTIALS_FILE), PROFILE_FILE_UNDER_HOME)
    }
}

impl CredentialSource<SharedProvider<TencentCredentials>> for ProfileFile {
    fn load(
        &self,
        env: &dyn Env,
        trail: &mut SourceTrail,
    ) -> Result<Option<Found<SharedProvider<TencentCredentials>>>> {
        let user = Self::user_path(env);
        let path = match (self.location, user) {
            (ProfileLocation::User, Some(path)) => path,
            (ProfileLocation::User, None) => {
                trail.tried(format!(
                    "profile file ~/{PROFILE_FILE_UNDER_HOME} (no home directory and \
                     {ENV_CREDENTIALS_FILE} unset)"
                ));
                return Ok(None);
            }
            // The user file already named the system file: it was read as the user file.
            (ProfileLocation::System, Some(user)) if user == Path::new(SYSTEM_PROFILE_FILE) => {
                return Ok(None)
            }
            (ProfileLocation::System, _) => PathBuf::from(SYSTEM_PROFILE_FILE),
        };
        let found = from_profile_file(env, &path, &self.profile, trail)?;
        let source = format!("profile [{}] of {}", self.profile, path.display());
        Ok(found.map(|c| Found::new(fixed(c, source.clone()), source)))
    }
}

/// The credentials in section `profile` of the INI file at `path`, noting in `trail` why
/// there are none; a malformed file or a half-set pair is an error.
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
        (Some(id), Some(key)) => {
            // The one rule of every cloud: no stray white space or control character.
            let place = format!("profile [{profile}] of {shown}");
            check_credential_value(&place, "secret_id", id)?;
            check_credential_value(&place, "secret_key", key)?;
            Ok(Some(TencentCredentials::new(id, key)))
        }
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
    use crate::credential::chain;
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
        let r = chain(crate::CVM, None, None).resolve(&env).unwrap();
        assert_eq!(r.credentials.fixed().unwrap().secret_id, "AKIDfile");
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
        let r = chain(crate::CVM, None, None).resolve(&env).unwrap();
        assert_eq!(
            r.source,
            format!("profile [{DEFAULT_PROFILE}] of {SYSTEM_PROFILE_FILE}")
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
        chain(crate::CVM, None, None).resolve(&env).unwrap();
        assert!(env.warnings().is_empty());
    }
}
