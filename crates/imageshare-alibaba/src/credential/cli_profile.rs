//! The Aliyun CLI profile file `~/.aliyun/config.json`, in every mode the CLI writes
//! that gives API credentials.
//!
//! Sources: aliyun/credentials-go `credentials/providers/cli_profile.go` (HEAD 9ac55b4:
//! the file, the profile choice, the mode -> provider mapping) and aliyun/aliyun-cli
//! `config/profile.go` (the modes and field names the CLI writes, `CredentialsURI`):
//!
//! - File: [`CONFIG_FILE_VAR`] when set, else `~/.aliyun/config.json`;
//!   [`CLI_PROFILE_DISABLED_VAR`]`=true` skips it.
//! - Profile: the builder's `.profile(..)`, else [`PROFILE_VAR`],
//!   else the file's `current`.
//! - Modes (`mode`) and fields:
//!   - `AK`: `access_key_id`, `access_key_secret`;
//!   - `StsToken`: the same and `sts_token`;
//!   - `RamRoleArn`: `AK` keys (with `sts_token` if set, as the CLI does) assuming
//!     `ram_role_arn` as `ram_session_name` for `expired_seconds`, with `policy`,
//!     `external_id`, at the STS of `sts_region` / `enable_vpc` ([`super::sts`]);
//!   - `ChainableRamRoleArn`: the credentials of profile `source_profile` (any mode,
//!     recursively; a cycle is refused) assuming `ram_role_arn` the same way;
//!   - `EcsRamRole`: the instance role `ram_role_name` (empty: discovered)
//!     ([`super::ecs_ram_role`]);
//!   - `OIDC`: `ram_role_arn`, `oidc_provider_arn`, `oidc_token_file`, `ram_session_name`,
//!     `expired_seconds`, `policy`, `sts_region`, `enable_vpc` ([`super::oidc`]);
//!   - `CredentialsURI`: `credentials_uri`, else
//!     [`CREDENTIALS_URI_VAR`] ([`super::uri`]).
//!
//!   `CloudSSO`, `OAuth`, `External`, `RsaKeyPair` and `RamRoleArnWithRoleName` are not
//!   supported: such a profile is noted in the trail and the chain goes on.
//! - The find carries the profile's `region_id`.
//!
//! A missing or unreadable file, a profile that is not there, an incomplete one or one
//! with an unsupported mode is noted in the trail and the chain goes on; nothing in a
//! note quotes the file's contents.

use std::path::PathBuf;

use imageshare_core::credentials::chain::check_credential_value;
use imageshare_core::credentials::{
    fixed, profile_path, read_credentials_file, CredentialSource, Env, Found, SharedProvider,
    SourceTrail,
};
use imageshare_core::{Region, Result};
use serde::Deserialize;

use super::oidc::OidcProvider;
use super::sts::{AssumeRoleProvider, RoleRequest, Services};
use super::uri::{UriProvider, CREDENTIALS_URI_VAR};
use super::{AlibabaCredentials, CLI_PROFILE_DISABLED_VAR, PROFILE_FILE, PROFILE_VAR};

/// The variable naming another CLI profile file (`cli_profile.go`).
pub const CONFIG_FILE_VAR: &str = "ALIBABA_CLOUD_CONFIG_FILE";

/// How deep `ChainableRamRoleArn` profiles may chain.
const MAX_CHAIN: usize = 8;

fn profile_disabled(env: &dyn Env) -> bool {
    env.var(CLI_PROFILE_DISABLED_VAR)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The CLI profile file as a source of the chain; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct CliProfileFile {
    profile: Option<String>,
    services: Services,
}

impl CliProfileFile {
    /// The source, reading profile `profile` when given, calling through `services`
    /// (roles, the metadata server, a credentials URI).
    pub fn new(profile: Option<&str>, services: &Services) -> Self {
        Self {
            profile: profile.filter(|p| !p.is_empty()).map(str::to_owned),
            services: services.clone(),
        }
    }
}

impl CredentialSource<SharedProvider<AlibabaCredentials>> for CliProfileFile {
    fn load(
        &self,
        env: &dyn Env,
        trail: &mut SourceTrail,
    ) -> Result<Option<Found<SharedProvider<AlibabaCredentials>>>> {
        let selected = match SelectedProfile::load(env, self.profile.as_deref()) {
            Ok(selected) => selected,
            Err(note) => {
                trail.tried(note);
                return Ok(None);
            }
        };
        let file = selected.path.display().to_string();
        check_profile_keys(&selected.profiles, &selected.name, &file)?;
        let mut seen = Vec::new();
        match profile_provider(
            &self.services,
            env,
            &selected.profiles,
            &selected.name,
            &file,
            &mut seen,
        ) {
            Ok(provider) => {
                let source = provider.source();
                let region = selected
                    .profiles
                    .iter()
                    .find(|p| p.name == selected.name)
                    .and_then(profile_region);
                Ok(Some(Found::new(provider, source).with_region(region)))
            }
            Err(why) => {
                trail.tried(format!(
                    "profile {:?} in {}: {why}",
                    selected.name,
                    selected.path.display()
                ));
                Ok(None)
            }
        }
    }
}

/// The profile of the CLI file the chain uses, with the file and its name.
pub(crate) struct SelectedProfile {
    pub(crate) path: PathBuf,
    pub(crate) name: String,
    profiles: Vec<Profile>,
}

impl SelectedProfile {
    /// Reads the file and picks the profile: `chosen`, else [`PROFILE_VAR`], else the
    /// file's `current`. `Err`: the trail note saying why there is none.
    pub(crate) fn load(env: &dyn Env, chosen: Option<&str>) -> std::result::Result<Self, String> {
        let shown = format!("~/{PROFILE_FILE}");
        if profile_disabled(env) {
            return Err(format!(
                "profile file {shown} (skipped: {CLI_PROFILE_DISABLED_VAR}=true)"
            ));
        }
        let Some(path) = cli_profile_path(env) else {
            return Err(format!("profile file {shown} (no home directory)"));
        };
        let text = match read_credentials_file(env, &path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!("profile file {} (not found)", path.display()));
            }
            Err(e) => {
                return Err(format!(
                    "profile file {} (cannot read: {})",
                    path.display(),
                    e.kind()
                ));
            }
        };
        let file = parse_profile_file(&text)
            .map_err(|why| format!("profile file {} ({why})", path.display()))?;
        let Some(name) = chosen
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .or_else(|| env.var(PROFILE_VAR))
            .or_else(|| file.current.clone().filter(|c| !c.is_empty()))
        else {
            return Err(format!(
                "profile file {} (no profile selected: none given to the builder, \
                 {PROFILE_VAR} is unset and the file has no \"current\")",
                path.display()
            ));
        };
        if !file.profiles.iter().any(|p| p.name == name) {
            return Err(format!(
                "profile file {} (no profile named {name:?})",
                path.display()
            ));
        }
        Ok(Self {
            path,
            name,
            profiles: file.profiles,
        })
    }

    /// The selected profile's `region_id`.
    pub(crate) fn region(&self) -> Option<Region> {
        self.profiles
            .iter()
            .find(|p| p.name == self.name)
            .and_then(profile_region)
    }
}

fn profile_region(p: &Profile) -> Option<Region> {
    non_empty(&p.region_id).map(Region::from)
}

/// `~/.aliyun/config.json`, as far as credentials go. No `Debug`: it holds secrets.
#[derive(Deserialize, Default)]
struct ProfileFile {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    profiles: Vec<Profile>,
}

/// One profile of the CLI file (field names: aliyun-cli `config/profile.go`). No
/// `Debug`: it holds secrets.
#[derive(Deserialize)]
struct Profile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    access_key_id: Option<String>,
    #[serde(default)]
    access_key_secret: Option<String>,
    #[serde(default)]
    sts_token: Option<String>,
    #[serde(default)]
    region_id: Option<String>,
    #[serde(default)]
    ram_role_arn: Option<String>,
    #[serde(default)]
    ram_session_name: Option<String>,
    #[serde(default)]
    expired_seconds: Option<u64>,
    #[serde(default)]
    sts_region: Option<String>,
    #[serde(default)]
    enable_vpc: Option<bool>,
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    source_profile: Option<String>,
    #[serde(default)]
    ram_role_name: Option<String>,
    #[serde(default)]
    oidc_provider_arn: Option<String>,
    #[serde(default)]
    oidc_token_file: Option<String>,
    #[serde(default)]
    credentials_uri: Option<String>,
}

/// Parses the profile file. The error names only the position, never file contents (a
/// serde message can quote a value, and values here are secrets).
fn parse_profile_file(text: &str) -> std::result::Result<ProfileFile, String> {
    serde_json::from_str::<ProfileFile>(text).map_err(|e| {
        format!(
            "not a valid CLI profile file: {:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        )
    })
}

/// The one rule of every cloud (core `check_credential_value`): the key fields of
/// profile `name` and of the profiles it takes keys from (`source_profile`) may not hold
/// stray white space or a control character. A cycle or a missing profile is left to
/// [`profile_provider`] to report.
fn check_profile_keys(profiles: &[Profile], name: &str, file: &str) -> Result<()> {
    let mut seen: Vec<&str> = Vec::new();
    let mut next = Some(name);
    while let Some(name) = next.take() {
        if seen.contains(&name) || seen.len() >= MAX_CHAIN {
            break;
        }
        seen.push(name);
        let Some(p) = profiles.iter().find(|p| p.name == name) else {
            break;
        };
        let place = format!("profile {name:?} of {file}");
        for (field, value) in [
            ("access_key_id", &p.access_key_id),
            ("access_key_secret", &p.access_key_secret),
            ("sts_token", &p.sts_token),
        ] {
            if let Some(v) = non_empty(value) {
                check_credential_value(&place, field, v)?;
            }
        }
        next = non_empty(&p.source_profile);
    }
    Ok(())
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// The provider of profile `name` among `profiles` of `file`; `seen` holds the profiles
/// already on the `source_profile` path.
fn profile_provider(
    services: &Services,
    env: &dyn Env,
    profiles: &[Profile],
    name: &str,
    file: &str,
    seen: &mut Vec<String>,
) -> std::result::Result<SharedProvider<AlibabaCredentials>, String> {
    if seen.iter().any(|s| s == name) {
        return Err(format!(
            "source_profile cycle: {} -> {name}",
            seen.join(" -> ")
        ));
    }
    if seen.len() >= MAX_CHAIN {
        return Err(format!("source_profile chain longer than {MAX_CHAIN}"));
    }
    seen.push(name.to_owned());
    let p = profiles
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("no profile named {name:?}"))?;
    let mode = non_empty(&p.mode).ok_or_else(|| "the profile has no mode".to_owned())?;
    let required = |field: &str, v: &Option<String>| -> std::result::Result<String, String> {
        non_empty(v)
            .map(str::to_owned)
            .ok_or_else(|| format!("mode {mode}: {field} is missing or empty"))
    };
    let key_pair = || -> std::result::Result<AlibabaCredentials, String> {
        Ok(AlibabaCredentials::new(
            required("access_key_id", &p.access_key_id)?,
            required("access_key_secret", &p.access_key_secret)?,
        ))
    };
    let role = |p: &Profile| -> std::result::Result<RoleRequest, String> {
        Ok(RoleRequest::new(
            required("ram_role_arn", &p.ram_role_arn)?,
            non_empty(&p.ram_session_name),
            env,
            services.clock(),
        )
        .with_duration_seconds(p.expired_seconds.unwrap_or(0))
        .with_policy(non_empty(&p.policy))
        .with_external_id(non_empty(&p.external_id)))
    };
    let sts = || services.sts(non_empty(&p.sts_region), p.enable_vpc.unwrap_or(false));
    let this = format!("profile {name:?} of {file}");
    Ok(match mode {
        "AK" => fixed(key_pair()?, this),
        "StsToken" => {
            let token = required("sts_token", &p.sts_token)?;
            fixed(key_pair()?.with_security_token(token), this)
        }
        "RamRoleArn" => {
            let mut base = key_pair()?;
            if let Some(token) = non_empty(&p.sts_token) {
                base = base.with_security_token(token);
            }
            let base_source = format!("the keys of {this}");
            AssumeRoleProvider::new(
                fixed(base, base_source.clone()),
                &base_source,
                sts(),
                role(p)?,
            )
            .shared()
        }
        "ChainableRamRoleArn" => {
            let parent = required("source_profile", &p.source_profile)?;
            let role = role(p)?;
            let base = profile_provider(services, env, profiles, &parent, file, seen)
                .map_err(|why| format!("source_profile {parent:?}: {why}"))?;
            let base_source = base.source();
            AssumeRoleProvider::new(base, &base_source, sts(), role).shared()
        }
        "EcsRamRole" => {
            super::ecs_ram_role::from_profile(services, env, non_empty(&p.ram_role_name))?
        }
        "OIDC" => {
            let role = role(p)?;
            let provider_arn = required("oidc_provider_arn", &p.oidc_provider_arn)?;
            let token_file = required("oidc_token_file", &p.oidc_token_file)?;
            let source = format!("OIDC role {} of {this} (token file {token_file})", role.arn);
            OidcProvider::new(services, sts(), role, provider_arn, token_file, source).shared()
        }
        "CredentialsURI" => {
            let uri = non_empty(&p.credentials_uri)
                .map(str::to_owned)
                .or_else(|| env.var(CREDENTIALS_URI_VAR))
                .ok_or_else(|| {
                    format!("mode {mode}: credentials_uri is missing or empty and {CREDENTIALS_URI_VAR} is unset")
                })?;
            UriProvider::new(services, uri, format!("credentials URI of {this}")).shared()
        }
        other => {
            return Err(format!(
                "mode {other} not supported (supported: AK, StsToken, RamRoleArn, \
                 ChainableRamRoleArn, EcsRamRole, OIDC, CredentialsURI)"
            ))
        }
    })
}

/// The path of the CLI profile file for `env`: [`CONFIG_FILE_VAR`], else
/// `~/.aliyun/config.json` if there is a home directory.
pub fn cli_profile_path(env: &dyn Env) -> Option<PathBuf> {
    profile_path(env, Some(CONFIG_FILE_VAR), PROFILE_FILE)
}
