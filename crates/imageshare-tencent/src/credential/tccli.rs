//! tccli's profile files: `~/.tccli/<profile>.credential` and `~/.tccli/<profile>.configure`
//! (JSON), as `tccli configure set` writes them.
//!
//! | rule | official source (TencentCloud/tencentcloud-cli) |
//! |---|---|
//! | files `~/.tccli/<profile>.credential` and `<profile>.configure` | `tccli/configure.py` (`cli_path`, `_init_configure`); `tccli/credentials.py` `cred_path_of_profile` |
//! | profile: `--profile`, else `TCCLI_PROFILE`, else `default` | `tccli/configure.py` `_get_profile_name`; generated `parse_global_arg` |
//! | credential keys `secretId`, `secretKey`, `token`, `role-arn`, `role-session-name`, `type` | `tccli/options_define.py` (`SecretId`, `SecretKey`, `Token`, `RoleArn`, `RoleSessionName`); `configure.py` `cred_list` |
//! | `use-cvm-role true` writes `type: cvm-role` (false: `type: default`); a `cvm-role` profile uses the instance role | `configure.py` `ConfigureSetCommand`; `parse_global_arg` (`cred["type"] == "cvm-role"`) |
//! | `role-arn` with `role-session-name`: the role is assumed with the file's keys (STS `AssumeRole`) | generated `do<Action>` (`STSAssumeRoleCredential(secretId, secretKey, role_arn, role_session_name, endpoint=sts_cred_endpoint)`) |
//! | `type: oauth` / `sso` files hold temporary `secretId`/`secretKey`/`token` with `expiresAt` (unix), which tccli renews | `tccli/oauth.py` `save_credential`; `tccli/credentials.py` |
//! | region: `_sys_param.region` of the `.configure` file (older files: top-level `region`) | `configure.py` `_init_configure` (moves `config_list` keys under `_sys_param`) |
//! | `TENCENTCLOUD_REGION` wins over the file's region when no profile was named | `parse_global_arg` (`if not is_exist_profile: ... ENV_REGION`) |
//! | STS endpoint: `sts.endpoint` of the `.configure` file | `parse_global_arg` (`conf.get("sts", {}).get("endpoint")`) |
//!
//! Differences from tccli, on purpose: a `role-arn` without `role-session-name` is assumed
//! with the session name `imageshare-<unix>` (tccli then silently uses the file's keys
//! themselves: another identity than the file asks for); half a key pair is an error; an
//! `oauth`/`sso` file whose `expiresAt` is past is an error saying to run tccli (which
//! renews it) rather than a request refused by the cloud. The `.credential` file is read
//! with the permission check of every credentials file.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use imageshare_core::credentials::chain::check_credential_value;
use imageshare_core::credentials::{
    fixed, read_credentials_file, CredentialSource, Env, Found, SharedProvider, SourceTrail,
};
use imageshare_core::{AssumeRole, Error, Region, Result, Timestamp};
use serde_json::{Map, Value};

use super::cvm_role::CvmRoleProvider;
use super::sts::AssumeRoleProvider;
use super::{Services, TencentCredentials, DEFAULT_PROFILE, ENV_REGION};

/// `TCCLI_PROFILE`: the tccli profile when none is named.
pub const ENV_TCCLI_PROFILE: &str = "TCCLI_PROFILE";
/// tccli's directory under the home directory.
pub const TCCLI_DIR: &str = ".tccli";
/// `type` of a profile that uses the CVM instance role.
pub const TYPE_CVM_ROLE: &str = "cvm-role";

/// tccli's profile as a source of the chain; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct TccliProfile {
    profile: Option<String>,
    services: Services,
}

impl TccliProfile {
    /// The profile `profile` (the builder's), else `TCCLI_PROFILE`, else `default`.
    pub fn new(profile: Option<&str>, services: Services) -> Self {
        TccliProfile {
            profile: profile.map(str::to_owned),
            services,
        }
    }

    /// The profile name read in `env`.
    pub fn profile_name(&self, env: &dyn Env) -> String {
        self.profile
            .clone()
            .or_else(|| env.var(ENV_TCCLI_PROFILE).map(|v| v.trim().to_owned()))
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_PROFILE.to_owned())
    }
}

/// A key field of a tccli JSON file (`secretId`, `secretKey`, `token`) as written, never
/// trimmed; empty counts as absent; stray white space or a control character is refused
/// (core `check_credential_value`, the same rule on every cloud).
fn key_field<'a>(map: &'a Map<String, Value>, key: &str, place: &str) -> Result<Option<&'a str>> {
    match map
        .get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
    {
        Some(v) => {
            check_credential_value(place, key, v)?;
            Ok(Some(v))
        }
        None => Ok(None),
    }
}

/// A string field of a tccli JSON file, trimmed; empty counts as absent.
fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A tccli JSON file as an object; `Ok(None)` when it does not exist.
fn read_json(env: &dyn Env, path: &Path, secret: bool) -> Result<Option<Map<String, Value>>> {
    let read = if secret {
        read_credentials_file(env, path)
    } else {
        env.read_file(path)
    };
    let text = match read {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::invalid_input(
                format!("tccli file {}", path.display()),
                format!("unreadable: {}", e.kind()),
            ))
        }
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        // The serde message names a line and column, never the content.
        Ok(_) => Err(Error::invalid_input(
            format!("tccli file {}", path.display()),
            "not a JSON object (tccli writes one)",
        )),
        Err(e) => Err(Error::invalid_input(
            format!("tccli file {}", path.display()),
            format!("not valid JSON: line {} column {}", e.line(), e.column()),
        )),
    }
}

impl TccliProfile {
    /// The region and STS endpoint of `<profile>.configure`.
    fn configure(
        &self,
        env: &dyn Env,
        dir: &Path,
        name: &str,
    ) -> Result<(Option<Region>, Option<String>)> {
        let Some(conf) = read_json(env, &dir.join(format!("{name}.configure")), false)? else {
            return Ok((None, None));
        };
        let region = conf
            .get("_sys_param")
            .and_then(Value::as_object)
            .and_then(|sys| field(sys, "region"))
            .or_else(|| field(&conf, "region"))
            .map(Region::new);
        let sts = conf
            .get("sts")
            .and_then(Value::as_object)
            .and_then(|sts| field(sts, "endpoint"))
            .map(|e| {
                if e.contains("://") {
                    e.to_owned()
                } else {
                    format!("https://{e}")
                }
            });
        Ok((region, sts))
    }
}

impl CredentialSource<SharedProvider<TencentCredentials>> for TccliProfile {
    fn load(
        &self,
        env: &dyn Env,
        trail: &mut SourceTrail,
    ) -> Result<Option<Found<SharedProvider<TencentCredentials>>>> {
        let name = self.profile_name(env);
        let Some(home) = env.home_dir() else {
            trail.tried(format!(
                "tccli profile ~/{TCCLI_DIR}/{name}.credential (no home directory)"
            ));
            return Ok(None);
        };
        let dir: PathBuf = home.join(TCCLI_DIR);
        let path = dir.join(format!("{name}.credential"));
        let shown = path.display().to_string();
        let Some(cred) = read_json(env, &path, true)? else {
            trail.tried(format!("tccli profile {shown} (not found)"));
            return Ok(None);
        };
        let (mut region, sts_endpoint) = self.configure(env, &dir, &name)?;
        if self.profile.is_none() && env.var(ENV_REGION).is_some() {
            // tccli: TENCENTCLOUD_REGION wins when no profile was named.
            region = None;
        }
        let kind = field(&cred, "type").unwrap_or("default");
        if kind == TYPE_CVM_ROLE {
            let source = format!("tccli profile {shown} (type cvm-role): CVM instance role");
            let provider = CvmRoleProvider::explicit(&self.services, None, source.clone())?;
            return Ok(Some(
                Found::new(Arc::new(provider) as SharedProvider<_>, source).with_region(region),
            ));
        }
        let bad = |what: String| Error::invalid_input(format!("tccli profile {shown}"), what);
        let place = format!("tccli profile {shown}");
        let (id, key) = match (
            key_field(&cred, "secretId", &place)?,
            key_field(&cred, "secretKey", &place)?,
        ) {
            (Some(id), Some(key)) => (id, key),
            (None, None) => {
                trail.tried(format!("tccli profile {shown} (no secretId and secretKey)"));
                return Ok(None);
            }
            (Some(_), None) => return Err(bad("has secretId but no secretKey".to_owned())),
            (None, Some(_)) => return Err(bad("has secretKey but no secretId".to_owned())),
        };
        let mut creds = TencentCredentials::new(id, key);
        if let Some(token) = key_field(&cred, "token", &place)? {
            creds = creds.with_token(token);
        }
        creds.validate().map_err(|e| bad(e.to_string()))?;
        if let Some(expires) = cred.get("expiresAt").and_then(Value::as_u64) {
            let now = self.services.clock().now();
            if expires <= now {
                return Err(Error::credential_source(
                    self.services.provider(),
                    format!("tccli profile {shown} (type {kind})"),
                    format!(
                        "its temporary keys expired at {}; run a tccli command (tccli renews \
                         them) or `tccli auth login` again",
                        Timestamp::from_unix(expires)
                    ),
                    None,
                    None,
                ));
            }
        }
        let keys_source = format!("tccli profile {shown}");
        let Some(arn) = field(&cred, "role-arn") else {
            return Ok(Some(
                Found::new(fixed(creds, keys_source.clone()), keys_source).with_region(region),
            ));
        };
        let mut role = AssumeRole::new(arn);
        if let Some(session) = field(&cred, "role-session-name") {
            role = role.session_name(session);
        }
        let services = match sts_endpoint {
            Some(e) if !self.services.has_sts_endpoint() => {
                self.services.clone().with_sts_endpoint(e)
            }
            _ => self.services.clone(),
        };
        let assumed = AssumeRoleProvider::new(
            &services,
            role,
            fixed(creds, keys_source.clone()),
            &keys_source,
        )?;
        let source = assumed.source_name().to_owned();
        Ok(Some(
            Found::new(Arc::new(assumed) as SharedProvider<_>, source).with_region(region),
        ))
    }
}
