//! The shared files of the UCloud CLI and Go SDK (`~/.ucloud/config.json` and
//! `~/.ucloud/credential.json`): where they are, the profile they select, and the
//! credential file as the last source of the key chain ([`SharedCredentialFile`]). See the
//! [chain docs](super) for the rules.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Deserializer};

use imageshare_core::credentials::chain::check_credential_value;
use imageshare_core::credentials::{
    profile_path, read_credentials_file, CredentialSource as Source, Env, Found, SourceTrail,
};
use imageshare_core::{Error, Result, Secret};

use super::{
    CredentialSource, SourcedKeys, UCloudConfig, UCloudCredentials, DEFAULT_CONFIG_FILE,
    DEFAULT_CREDENTIAL_FILE, ENV_PROFILE, ENV_SHARED_CONFIG_FILE, ENV_SHARED_CREDENTIAL_FILE,
};

/// How a shared-file path was chosen (named in the trail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathOrigin {
    /// Given to the chain.
    Explicit,
    /// From the `UCLOUD_SHARED_*_FILE` variable.
    Variable(&'static str),
    /// The default under the home directory.
    Default,
}

/// The two shared files of one resolution: where each is (and how its path was chosen, for
/// the trail), the profile named (explicitly or by `UCLOUD_PROFILE`), and the selected
/// `config.json` entry once it has been read: the key chain and the settings merge share
/// one read.
#[derive(Debug)]
pub(super) struct SharedFiles {
    config: Option<(PathBuf, PathOrigin)>,
    credential: Option<(PathBuf, PathOrigin)>,
    named: Option<String>,
    entry: OnceLock<Option<ConfigEntry>>,
}

impl SharedFiles {
    /// Locates the files: an explicit path, else the `UCLOUD_SHARED_*_FILE` variable, else
    /// the default under the home directory (a leading `~/` is the home directory).
    pub(super) fn locate(
        env: &dyn Env,
        explicit_config: Option<&Path>,
        explicit_credential: Option<&Path>,
        named: Option<String>,
    ) -> Self {
        let pick = |explicit: Option<&Path>, var: &'static str, default: &str| {
            if let Some(p) = explicit {
                return Some((expand_home(p, env), PathOrigin::Explicit));
            }
            let origin = if env.var(var).is_some() {
                PathOrigin::Variable(var)
            } else {
                PathOrigin::Default
            };
            profile_path(env, Some(var), default).map(|p| (expand_home(&p, env), origin))
        };
        SharedFiles {
            config: pick(explicit_config, ENV_SHARED_CONFIG_FILE, DEFAULT_CONFIG_FILE),
            credential: pick(
                explicit_credential,
                ENV_SHARED_CREDENTIAL_FILE,
                DEFAULT_CREDENTIAL_FILE,
            ),
            named,
            entry: OnceLock::new(),
        }
    }

    /// The selected `config.json` entry: by name, else the active one; read once. A
    /// missing file or no matching entry is `None`; a malformed file is an error.
    pub(super) fn config_entry(&self, env: &dyn Env) -> Result<Option<&ConfigEntry>> {
        if let Some(entry) = self.entry.get() {
            return Ok(entry.as_ref());
        }
        let entry = match &self.config {
            None => None,
            Some((path, _)) => read_profiles::<ConfigEntry>(env, path, false)?.and_then(|all| {
                all.into_iter().rev().find(|e| match &self.named {
                    Some(name) => e.profile == *name,
                    None => e.active,
                })
            }),
        };
        Ok(self.entry.get_or_init(|| entry).as_ref())
    }

    /// The profile in force: the one named, else that of the active `config.json` entry
    /// when that file has been read.
    pub(super) fn profile(&self) -> Option<String> {
        self.named.clone().or_else(|| {
            self.entry
                .get()
                .and_then(Option::as_ref)
                .filter(|e| !e.profile.is_empty())
                .map(|e| e.profile.clone())
        })
    }

    /// The key pair of `profile` in `credential.json`, noting in `trail` why there is none.
    fn credentials(
        &self,
        env: &dyn Env,
        profile: Option<&str>,
        trail: &mut SourceTrail,
    ) -> Result<Option<Found<SourcedKeys>>> {
        let Some((path, origin)) = &self.credential else {
            trail.tried(format!(
                "shared credential file ~/{DEFAULT_CREDENTIAL_FILE} (no home directory and \
                 {ENV_SHARED_CREDENTIAL_FILE} unset)"
            ));
            return Ok(None);
        };
        let label = match origin {
            PathOrigin::Explicit => format!(
                "shared credential file {} (given explicitly)",
                path.display()
            ),
            PathOrigin::Variable(var) => {
                format!("shared credential file {} (from {var})", path.display())
            }
            PathOrigin::Default => format!("shared credential file {}", path.display()),
        };
        let Some(entries) = read_profiles::<CredentialEntry>(env, path, true)? else {
            trail.tried(format!("{label} (not found)"));
            return Ok(None);
        };
        let Some(profile) = profile else {
            let config = match &self.config {
                Some((p, _)) => p.display().to_string(),
                None => format!("~/{DEFAULT_CONFIG_FILE}"),
            };
            trail.tried(format!(
                "{label} (no profile selected: {ENV_PROFILE} unset and no \"active\": true \
                 profile in {config})"
            ));
            return Ok(None);
        };
        let Some(entry) = entries.into_iter().rev().find(|e| e.profile == profile) else {
            trail.tried(format!("{label} (no profile {profile:?})"));
            return Ok(None);
        };
        match (entry.public_key.is_empty(), entry.private_key.is_empty()) {
            (false, false) => {
                // The one rule of every cloud: no stray white space or control character.
                let place = format!("profile {profile:?} of {}", path.display());
                check_credential_value(&place, "public_key", &entry.public_key)?;
                check_credential_value(&place, "private_key", entry.private_key.expose())?;
                let source = CredentialSource::SharedFile {
                    path: path.clone(),
                    profile: profile.to_owned(),
                };
                let label = source.to_string();
                Ok(Some(Found::new(
                    SourcedKeys::fixed(
                        UCloudCredentials::new(entry.public_key, entry.private_key),
                        source,
                    ),
                    label,
                )))
            }
            (true, true) => {
                trail.tried(format!("{label} (profile {profile:?} has no keys)"));
                Ok(None)
            }
            (pub_missing, _) => {
                let missing = if pub_missing {
                    "public_key"
                } else {
                    "private_key"
                };
                Err(Error::invalid_input(
                    path.display().to_string(),
                    format!("profile {profile:?} has no {missing}; both keys are needed"),
                ))
            }
        }
    }
}

/// The shared credential file as a source of the key chain: the key pair of the selected
/// profile (the one named, else the `config.json` entry marked `"active": true`).
#[derive(Debug)]
pub(super) struct SharedCredentialFile(pub(super) Arc<SharedFiles>);

impl Source<SourcedKeys> for SharedCredentialFile {
    fn load(&self, env: &dyn Env, trail: &mut SourceTrail) -> Result<Option<Found<SourcedKeys>>> {
        // `config.json` first: it selects the profile when none is named (and a malformed
        // one stops the chain, whichever file the profile would have come from).
        self.0.config_entry(env)?;
        self.0.credentials(env, self.0.profile().as_deref(), trail)
    }
}

/// One `config.json` profile (fields the SDK reads; the rest is ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ConfigEntry {
    project_id: String,
    region: String,
    zone: String,
    base_url: String,
    timeout_sec: u64,
    profile: String,
    active: bool,
}

impl ConfigEntry {
    /// The settings of this entry; empty strings and `timeout_sec: 0` count as absent.
    pub(super) fn to_config(&self) -> UCloudConfig {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        UCloudConfig {
            project_id: some(&self.project_id),
            region: some(&self.region),
            zone: some(&self.zone),
            base_url: some(&self.base_url),
            timeout_secs: (self.timeout_sec != 0).then_some(self.timeout_sec),
        }
    }
}

/// One `credential.json` profile. The private key goes straight into a [`Secret`].
#[derive(Default, Deserialize)]
#[serde(default)]
struct CredentialEntry {
    public_key: String,
    #[serde(deserialize_with = "secret_from_string")]
    private_key: Secret,
    profile: String,
}

fn secret_from_string<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Secret, D::Error> {
    Ok(Secret::new(String::deserialize(d)?))
}

/// Reads a shared file as a JSON array of profiles. `Ok(None)` when the file does not
/// exist. A file that holds `secrets` (`credential.json`) is read through
/// [`read_credentials_file`], which warns when group or others may read it. Parse errors
/// name the position and the kind of problem only, never the text around it (it could be
/// a private key).
fn read_profiles<T: for<'de> Deserialize<'de>>(
    env: &dyn Env,
    path: &Path,
    secrets: bool,
) -> Result<Option<Vec<T>>> {
    let read = if secrets {
        read_credentials_file(env, path)
    } else {
        env.read_file(path)
    };
    let text = match read {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::invalid_input(
                path.display().to_string(),
                format!("cannot read the UCloud shared file: {}", e.kind()),
            ))
        }
    };
    if text.trim().is_empty() {
        return Ok(Some(Vec::new()));
    }
    serde_json::from_str::<Vec<T>>(&text)
        .map(Some)
        .map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Data => {
                    "a JSON array of profile objects was expected (wrong type or shape)"
                }
                serde_json::error::Category::Syntax => "invalid JSON",
                serde_json::error::Category::Eof => "unexpected end of file",
                serde_json::error::Category::Io => "read error",
            };
            Error::invalid_input(
                path.display().to_string(),
                format!(
                    "malformed UCloud shared file: {what} at line {} column {}",
                    e.line(),
                    e.column()
                ),
            )
        })
}

/// `~/x` -> `<home>/x` (the Go SDK expands the credential-file override the same way).
fn expand_home(path: &Path, env: &dyn Env) -> PathBuf {
    match (path.strip_prefix("~"), env.home_dir()) {
        (Ok(rest), Some(home)) if path.to_str().is_some_and(|s| s.starts_with("~/")) => {
            home.join(rest)
        }
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageshare_core::credentials::StaticEnv;

    #[test]
    fn expand_home_only_expands_a_leading_tilde_slash() {
        let env = StaticEnv::new().with_home("/home/u");
        assert_eq!(
            expand_home(Path::new("~/creds.json"), &env),
            PathBuf::from("/home/u/creds.json")
        );
        assert_eq!(
            expand_home(Path::new("~other/x"), &env),
            PathBuf::from("~other/x")
        );
        assert_eq!(
            expand_home(Path::new("/etc/x"), &env),
            PathBuf::from("/etc/x")
        );
        assert_eq!(
            expand_home(Path::new("~/x"), &StaticEnv::new()),
            PathBuf::from("~/x")
        );
    }

    #[test]
    fn config_entry_maps_empty_values_to_none() {
        let e = ConfigEntry {
            region: "cn-bj2".into(),
            timeout_sec: 0,
            ..Default::default()
        };
        assert_eq!(
            e.to_config(),
            UCloudConfig {
                region: Some("cn-bj2".into()),
                ..Default::default()
            }
        );
    }
}
