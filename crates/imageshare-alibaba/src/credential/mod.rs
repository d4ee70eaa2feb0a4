//! Alibaba Cloud credentials and the credential chain.
//!
//! The chain ([`credential_chain`]) is an `imageshare_core` [`CredentialChain`] of
//! sources, each giving a [`SharedProvider`] (fixed keys, or a provider that fetches and
//! refreshes temporary credentials), tried in the order of the default chain of
//! aliyun/credentials-go, `credentials/providers/default.go` (HEAD 9ac55b4; the same in
//! aliyun/credentials-python `alibabacloud_credentials/provider/default.py`):
//!
//! 0. explicit builder values ([`Explicit`]: `credentials()` / `credentials_provider()`);
//!    empty fixed keys are `Error::InvalidInput`;
//! 1. the environment ([`ENV_KEY_PAIR`], `env.go`): the first set variable of
//!    [`ACCESS_KEY_ID_VARS`], of [`ACCESS_KEY_SECRET_VARS`] and of [`SECURITY_TOKEN_VARS`]
//!    (the Aliyun CLI's wider lookup, alibaba.md 6; credentials-go reads only the first
//!    of each), values taken as they are; a half-set pair is noted and skipped;
//! 2. OIDC / RRSA ([`oidc::OidcEnv`], `oidc.go`): `ALIBABA_CLOUD_ROLE_ARN`,
//!    `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`, `ALIBABA_CLOUD_OIDC_TOKEN_FILE`;
//! 3. the CLI profile file `~/.aliyun/config.json` ([`CliProfileFile`], `cli_profile.go`),
//!    every mode the CLI writes that gives API credentials; [`CLI_PROFILE_DISABLED_VAR`]
//!    `=true` skips it;
//! 4. (`profile.go`, the ini file `~/.alibabacloud/credentials`: not read yet);
//! 5. the ECS instance RAM role ([`ecs_ram_role::EcsRamRoleSource`], `ecs_ram_role.go`),
//!    when `ALIBABA_CLOUD_ECS_METADATA` names the role or a metadata endpoint is
//!    configured (see that module for why it is not probed otherwise);
//! 6. the credentials URI ([`uri::UriEnv`], `uri.go`): `ALIBABA_CLOUD_CREDENTIALS_URI`.
//!
//! `ClientConfig::assume_role()` then wraps whatever was found in STS `AssumeRole`
//! ([`sts::AssumeRoleProvider`]). Every source that gives nothing is recorded, so that
//! the "nothing found" error lists them all. The region comes from [`REGION_VARS`], then
//! the selected profile's `region_id` ([`resolve_region`]). Reads go through [`Env`], so
//! tests are hermetic.
//!
//! One concern per file: [`cli_profile`], [`oidc`], [`ecs_ram_role`], [`uri`], [`sts`]
//! (`AssumeRole`, `AssumeRoleWithOIDC`, `GetCallerIdentity`, the STS endpoint).

use std::fmt;

use imageshare_core::credentials::{
    fixed, CredentialChain, Env, EnvKeyPair, Explicit, Found, HalfSetPair, KeyPair, OsEnv,
    SharedProvider,
};
use imageshare_core::{ClientConfig, Error, Provider, Region, Result, Secret};

pub mod cli_profile;
pub mod ecs_ram_role;
mod imds;
pub mod oidc;
pub mod sts;
pub mod uri;

use cli_profile::SelectedProfile;
pub use cli_profile::{cli_profile_path, CliProfileFile};
pub use sts::Services;

/// Access key id variables, in the Aliyun CLI lookup order (first non-empty wins).
pub const ACCESS_KEY_ID_VARS: [&str; 4] = [
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABACLOUD_ACCESS_KEY_ID",
    "ALICLOUD_ACCESS_KEY_ID",
    "ACCESS_KEY_ID",
];

/// Access key secret variables, in the Aliyun CLI lookup order.
pub const ACCESS_KEY_SECRET_VARS: [&str; 4] = [
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABACLOUD_ACCESS_KEY_SECRET",
    "ALICLOUD_ACCESS_KEY_SECRET",
    "ACCESS_KEY_SECRET",
];

/// STS security token variables, in the Aliyun CLI lookup order.
pub const SECURITY_TOKEN_VARS: [&str; 4] = [
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABACLOUD_SECURITY_TOKEN",
    "ALICLOUD_SECURITY_TOKEN",
    "SECURITY_TOKEN",
];

/// Region variables, in the Aliyun CLI lookup order.
pub const REGION_VARS: [&str; 5] = [
    "ALIBABA_CLOUD_REGION_ID",
    "ALIBABACLOUD_REGION_ID",
    "ALICLOUD_REGION_ID",
    "REGION_ID",
    "REGION",
];

/// The variable that selects a profile of the CLI profile file (else its `current`).
pub const PROFILE_VAR: &str = "ALIBABA_CLOUD_PROFILE";

/// Set to `true` to skip the CLI profile file (as the official credentials SDK does).
pub const CLI_PROFILE_DISABLED_VAR: &str = "ALIBABA_CLOUD_CLI_PROFILE_DISABLED";

/// The CLI profile file, relative to the home directory.
pub const PROFILE_FILE: &str = ".aliyun/config.json";

/// The environment source of the chain: the Aliyun CLI variable names in its lookup
/// order; a half-set pair is skipped (the CLI goes on to the profile file); a value with
/// surrounding white space or a control character is refused (core
/// `check_credential_value`, the same rule on every cloud).
pub const ENV_KEY_PAIR: EnvKeyPair = EnvKeyPair {
    id_name: "access key id",
    secret_name: "access key secret",
    id_vars: &ACCESS_KEY_ID_VARS,
    secret_vars: &ACCESS_KEY_SECRET_VARS,
    token_vars: &SECURITY_TOKEN_VARS,
    half_set: HalfSetPair::Skip,
};

/// An Alibaba Cloud AccessKey pair, with an STS security token for temporary credentials.
///
/// `Debug` and `Display` show the access key id only: the secret and the token print `***`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AlibabaCredentials {
    /// The AccessKey id (`LTAI...`, or `STS....` for temporary credentials).
    pub access_key_id: String,
    /// The AccessKey secret.
    pub access_key_secret: Secret,
    /// The STS security token, for temporary credentials.
    pub security_token: Option<Secret>,
}

impl AlibabaCredentials {
    /// A long-term AccessKey pair.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<Secret>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            access_key_secret: access_key_secret.into(),
            security_token: None,
        }
    }

    /// Temporary (STS) credentials: an AccessKey pair and its security token.
    pub fn sts(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<Secret>,
        security_token: impl Into<Secret>,
    ) -> Self {
        Self::new(access_key_id, access_key_secret).with_security_token(security_token)
    }

    /// The same credentials with an STS security token.
    #[must_use]
    pub fn with_security_token(mut self, token: impl Into<Secret>) -> Self {
        self.security_token = Some(token.into());
        self
    }

    /// True when these are temporary credentials (a security token is present).
    #[must_use]
    pub fn is_sts(&self) -> bool {
        self.security_token.is_some()
    }

    /// The fixed keys the credential chain finds on the process environment; see
    /// [`resolve_credentials`] (which also lets the "not found" error name SAS instead of
    /// ECS). A source that fetches temporary credentials (a role, a metadata server) has
    /// no fixed keys to give: that is an `Error::CredentialSource` naming it.
    pub fn from_env() -> Result<Self> {
        let found = resolve_credentials(crate::ECS, None, &OsEnv)?;
        match found.credentials.fixed() {
            Some(c) => Ok(c.clone()),
            None => Err(Error::credential_source(
                crate::ECS,
                found.source,
                "this source gives temporary credentials that must be fetched; \
                          build an adapter (it fetches and refreshes them) instead",
                None,
                None,
            )),
        }
    }
}

impl fmt::Display for AlibabaCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "access key {}", self.access_key_id)?;
        if self.is_sts() {
            f.write_str(" (STS)")?;
        }
        Ok(())
    }
}

/// The chain of `provider` (named in its "nothing found" error): `explicit`, the
/// environment, OIDC, the CLI profile file (profile `profile` if given), the instance
/// RAM role, the credentials URI; the fetching sources call through `services`. See the
/// [module docs](self).
#[must_use]
pub fn credential_chain(
    provider: Provider,
    explicit: Option<SharedProvider<AlibabaCredentials>>,
    profile: Option<&str>,
    services: &Services,
) -> CredentialChain<SharedProvider<AlibabaCredentials>> {
    CredentialChain::new(provider)
        .then(
            Explicit::new(explicit, |p| p.fixed().map_or(Ok(()), check_explicit))
                .named(|p| p.source()),
        )
        .then(ENV_KEY_PAIR.source(|pair| fixed(from_key_pair(pair), "environment variables")))
        .then(oidc::OidcEnv::new(services))
        .then(CliProfileFile::new(profile, services))
        .then(ecs_ram_role::EcsRamRoleSource::new(services))
        .then(uri::UriEnv::new(services))
}

/// Runs the credential chain ([`credential_chain`], no profile chosen: [`PROFILE_VAR`],
/// else the file's `current`) over `env`: the credentials provider, where it came from
/// (`explicit credentials`, `environment variable ALIBABA_CLOUD_ACCESS_KEY_ID`,
/// `profile "default" of /home/u/.aliyun/config.json`) and the region of the profile they
/// came from, if any. Fetching sources call through a default configuration (process
/// environment, system clock, public endpoints); adapters use their own.
///
/// A source that is incomplete (an id without a secret, an unsupported profile mode) is
/// noted and the chain moves on, like the official default chain. When no source gives
/// credentials the error is `Error::CredentialsNotFound`, listing every source tried.
/// Explicit credentials with an empty id or secret are an `Error::InvalidInput`.
pub fn resolve_credentials(
    provider: Provider,
    explicit: Option<SharedProvider<AlibabaCredentials>>,
    env: &dyn Env,
) -> Result<Found<SharedProvider<AlibabaCredentials>>> {
    let services = Services::from_config(provider, &ClientConfig::default())?;
    credential_chain(provider, explicit, None, &services).resolve(env)
}

/// The region the environment names: the first of [`REGION_VARS`], else the `region_id`
/// of the selected CLI profile ([`PROFILE_VAR`], else the file's `current`). `None` when
/// neither gives one.
pub fn resolve_region(env: &dyn Env) -> Option<Region> {
    resolve_region_with_profile(env, None)
}

/// [`resolve_region`] with the CLI profile `profile` chosen (as the builders'
/// `.profile(..)` does) before [`PROFILE_VAR`].
pub fn resolve_region_with_profile(env: &dyn Env, profile: Option<&str>) -> Option<Region> {
    REGION_VARS
        .iter()
        .find_map(|name| env.var(name))
        .map(Region::new)
        .or_else(|| SelectedProfile::load(env, profile).ok()?.region())
}

/// Explicit values must name a key: an empty id or secret is `InvalidInput`.
fn check_explicit(c: &AlibabaCredentials) -> Result<()> {
    if c.access_key_id.is_empty() {
        return Err(Error::invalid_input(
            "credentials",
            "the explicit access key id is empty",
        ));
    }
    if c.access_key_secret.is_empty() {
        return Err(Error::invalid_input(
            "credentials",
            format!(
                "the explicit secret of access key {} is empty",
                c.access_key_id
            ),
        ));
    }
    Ok(())
}

fn from_key_pair(k: KeyPair) -> AlibabaCredentials {
    AlibabaCredentials {
        access_key_id: k.id,
        access_key_secret: k.secret,
        security_token: k.token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageshare_core::credentials::StaticEnv;
    use std::path::PathBuf;

    const HOME: &str = "/home/tester";
    const SECRET: &str = "s3cr3t-VALUE-never-printed";
    const TOKEN: &str = "T0KEN-never-printed";

    fn config_path() -> PathBuf {
        PathBuf::from(HOME).join(PROFILE_FILE)
    }

    fn profile_json() -> String {
        format!(
            r#"{{
  "current": "default",
  "profiles": [
    {{ "name": "default", "mode": "AK", "access_key_id": "LTAIprofile",
       "access_key_secret": "{SECRET}", "region_id": "cn-hangzhou" }},
    {{ "name": "sts", "mode": "StsToken", "access_key_id": "STS.profile",
       "access_key_secret": "{SECRET}", "sts_token": "{TOKEN}", "region_id": "cn-shanghai" }},
    {{ "name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIrole",
       "access_key_secret": "{SECRET}", "ram_role_arn": "acs:ram::1:role/x",
       "ram_session_name": "s", "expired_seconds": 3600, "sts_region": "cn-hangzhou" }},
    {{ "name": "broken-sts", "mode": "StsToken", "access_key_id": "STS.x",
       "access_key_secret": "{SECRET}" }},
    {{ "name": "nomode", "access_key_id": "LTAInomode", "access_key_secret": "{SECRET}" }},
    {{ "name": "sso", "mode": "CloudSSO", "access_key_id": "LTAIsso",
       "access_key_secret": "{SECRET}" }}
  ]
}}"#
        )
    }

    fn env_with_profile() -> StaticEnv {
        StaticEnv::new()
            .with_home(HOME)
            .with_file(config_path(), &profile_json())
    }

    fn resolve(env: &StaticEnv) -> Result<Found<AlibabaCredentials>> {
        resolve_credentials(crate::ECS, None, env).map(|f| {
            let c = f.credentials.fixed().expect("fixed credentials").clone();
            Found::new(c, f.source).with_region(f.region)
        })
    }

    fn services() -> Services {
        Services::from_config(crate::ECS, &ClientConfig::default()).unwrap()
    }

    fn explicit(c: AlibabaCredentials) -> Option<SharedProvider<AlibabaCredentials>> {
        Some(fixed(c, "explicit credentials"))
    }

    fn not_found_sources(err: Error) -> Vec<String> {
        match err {
            Error::CredentialsNotFound { tried, .. } => tried,
            other => panic!("expected CredentialsNotFound, got {other}"),
        }
    }

    #[test]
    fn explicit_values_win_over_everything() {
        let env = env_with_profile()
            .with_var("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv")
            .with_var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "envsecret");
        let explicit = AlibabaCredentials::new("LTAIexplicit", "explicitsecret");
        let r = resolve_credentials(crate::SAS, self::explicit(explicit.clone()), &env).unwrap();
        assert_eq!(r.credentials.fixed(), Some(&explicit));
        assert_eq!(r.source, "explicit credentials");
        assert_eq!(r.region, None);
    }

    #[test]
    fn explicit_empty_values_are_invalid_input() {
        let env = env_with_profile();
        let err = resolve_credentials(crate::ECS, explicit(AlibabaCredentials::new("", "x")), &env)
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        let err = resolve_credentials(
            crate::ECS,
            explicit(AlibabaCredentials::new("LTAIx", "")),
            &env,
        )
        .unwrap_err();
        assert!(err.to_string().contains("LTAIx"), "{err}");
    }

    #[test]
    fn environment_beats_profile_file() {
        let env = env_with_profile()
            .with_var("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv")
            .with_var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "envsecret");
        let r = resolve(&env).unwrap();
        assert_eq!(r.credentials.access_key_id, "LTAIenv");
        assert_eq!(r.credentials.access_key_secret.expose(), "envsecret");
        assert!(!r.credentials.is_sts());
        assert_eq!(r.source, "environment variable ALIBABA_CLOUD_ACCESS_KEY_ID");
        assert_eq!(r.region, None, "an environment find names no region");
    }

    #[test]
    fn environment_lookup_order_is_the_cli_order() {
        // Every family set: the first in the CLI order wins.
        let mut env = StaticEnv::new();
        for (i, n) in ACCESS_KEY_ID_VARS.iter().enumerate() {
            env = env.with_var(n, &format!("id{i}"));
        }
        for (i, n) in ACCESS_KEY_SECRET_VARS.iter().enumerate() {
            env = env.with_var(n, &format!("secret{i}"));
        }
        for (i, n) in SECURITY_TOKEN_VARS.iter().enumerate() {
            env = env.with_var(n, &format!("token{i}"));
        }
        let c = resolve(&env).unwrap().credentials;
        assert_eq!(c.access_key_id, "id0");
        assert_eq!(c.access_key_secret.expose(), "secret0");
        assert_eq!(c.security_token.as_ref().unwrap().expose(), "token0");

        // Each later family alone is still found.
        for i in 1..4 {
            let env = StaticEnv::new()
                .with_var(ACCESS_KEY_ID_VARS[i], "id")
                .with_var(ACCESS_KEY_SECRET_VARS[i], "secret")
                .with_var(SECURITY_TOKEN_VARS[i], "token");
            let r = resolve(&env).unwrap();
            assert_eq!(r.credentials.access_key_id, "id");
            assert_eq!(
                r.credentials.security_token.as_ref().unwrap().expose(),
                "token"
            );
            assert_eq!(
                r.source,
                format!("environment variable {}", ACCESS_KEY_ID_VARS[i])
            );
        }
    }

    #[test]
    fn families_can_mix_and_empty_values_count_as_unset() {
        let env = StaticEnv::new()
            .with_var("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
            .with_var("ALICLOUD_ACCESS_KEY_ID", "LTAIali")
            .with_var("ACCESS_KEY_SECRET", "plain");
        let c = resolve(&env).unwrap().credentials;
        assert_eq!(c.access_key_id, "LTAIali");
        assert_eq!(c.access_key_secret.expose(), "plain");
        assert_eq!(c.security_token, None);
    }

    #[test]
    fn half_set_environment_falls_through_to_profile_and_is_noted() {
        let env = env_with_profile().with_var("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIlonely");
        let r = resolve(&env).unwrap();
        assert_eq!(r.credentials.access_key_id, "LTAIprofile");

        let env = StaticEnv::new().with_var("ALICLOUD_ACCESS_KEY_SECRET", SECRET);
        let tried = not_found_sources(resolve(&env).unwrap_err());
        assert!(
            tried
                .iter()
                .any(|t| t.contains("ALICLOUD_ACCESS_KEY_SECRET is set but")),
            "{tried:?}"
        );
        assert!(!tried.iter().any(|t| t.contains(SECRET)), "{tried:?}");
    }

    #[test]
    fn profile_current_ak_mode() {
        let r = resolve(&env_with_profile()).unwrap();
        assert_eq!(r.credentials.access_key_id, "LTAIprofile");
        assert_eq!(r.credentials.access_key_secret.expose(), SECRET);
        assert_eq!(r.credentials.security_token, None);
        assert_eq!(
            r.source,
            format!("profile \"default\" of {}", config_path().display())
        );
        assert_eq!(r.region, Some(Region::from("cn-hangzhou")));
    }

    #[test]
    fn profile_selected_by_variable_sts_mode() {
        let env = env_with_profile().with_var(PROFILE_VAR, "sts");
        let r = resolve(&env).unwrap();
        assert_eq!(r.credentials.access_key_id, "STS.profile");
        assert_eq!(
            r.credentials.security_token.as_ref().unwrap().expose(),
            TOKEN
        );
        assert!(r.source.to_string().contains("\"sts\""), "{}", r.source);
    }

    #[test]
    fn unsupported_profile_modes_are_named_in_the_trail() {
        let env = env_with_profile().with_var(PROFILE_VAR, "sso");
        let tried = not_found_sources(resolve(&env).unwrap_err());
        assert!(
            tried
                .iter()
                .any(|t| t.contains("mode CloudSSO not supported")),
            "{tried:?}"
        );

        // RamRoleArn is supported now: a provider that assumes the role.
        let env = env_with_profile().with_var(PROFILE_VAR, "role");
        let r = resolve_credentials(crate::ECS, None, &env).unwrap();
        assert!(r.credentials.fixed().is_none());
        assert_eq!(
            r.credentials.source(),
            "role acs:ram::1:role/x assumed with the keys of profile \"role\" of /home/tester/.aliyun/config.json"
        );

        let env = env_with_profile().with_var(PROFILE_VAR, "broken-sts");
        let msg = resolve(&env).unwrap_err().to_string();
        assert!(msg.contains("sts_token is missing"), "{msg}");

        let env = env_with_profile().with_var(PROFILE_VAR, "nomode");
        let msg = resolve(&env).unwrap_err().to_string();
        assert!(msg.contains("has no mode"), "{msg}");

        let env = env_with_profile().with_var(PROFILE_VAR, "ghost");
        let msg = resolve(&env).unwrap_err().to_string();
        assert!(msg.contains("no profile named \"ghost\""), "{msg}");
    }

    #[test]
    fn profile_file_problems_are_explained_without_contents() {
        let env = StaticEnv::new().with_home(HOME).with_file(
            config_path(),
            &format!("{{\"current\": 1, \"x\": \"{SECRET}\"}}"),
        );
        let msg = resolve(&env).unwrap_err().to_string();
        assert!(msg.contains("not a valid CLI profile file"), "{msg}");
        assert!(!msg.contains(SECRET), "{msg}");

        let env = StaticEnv::new()
            .with_home(HOME)
            .with_file(config_path(), r#"{"profiles": []}"#);
        let msg = resolve(&env).unwrap_err().to_string();
        assert!(msg.contains("no profile selected"), "{msg}");

        let env = StaticEnv::new();
        let msg = resolve(&env).unwrap_err().to_string();
        assert!(msg.contains("no home directory"), "{msg}");
    }

    #[test]
    fn profile_can_be_disabled() {
        let env = env_with_profile().with_var(CLI_PROFILE_DISABLED_VAR, "TRUE");
        let msg = resolve(&env).unwrap_err().to_string();
        assert!(msg.contains("skipped"), "{msg}");
        assert_eq!(resolve_region(&env), None);
    }

    #[test]
    fn nothing_found_lists_every_source() {
        let env = StaticEnv::new().with_home(HOME);
        let err = resolve_credentials(crate::SAS, None, &env).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("alibaba-sas"), "{msg}");
        let tried = not_found_sources(err);
        // One entry per source: explicit, the environment pair (both variable families in
        // one note), OIDC, the profile file, the instance role, the credentials URI.
        assert_eq!(tried.len(), 6, "{tried:?}");
        assert!(tried[0].contains("explicit"), "{tried:?}");
        for n in ACCESS_KEY_ID_VARS.iter().chain(&ACCESS_KEY_SECRET_VARS) {
            assert!(tried[1].contains(n), "{tried:?}");
        }
        assert!(
            tried[3].contains("/home/tester/.aliyun/config.json (not found)"),
            "{tried:?}"
        );
        assert!(
            tried[2].contains("ALIBABA_CLOUD_OIDC_TOKEN_FILE"),
            "{tried:?}"
        );
        assert!(tried[4].contains("ALIBABA_CLOUD_ECS_METADATA"), "{tried:?}");
        assert!(
            tried[5].contains("ALIBABA_CLOUD_CREDENTIALS_URI"),
            "{tried:?}"
        );
    }

    #[test]
    fn region_from_environment_then_profile() {
        assert_eq!(resolve_region(&StaticEnv::new()), None);
        assert_eq!(
            resolve_region(&env_with_profile()),
            Some(Region::from("cn-hangzhou"))
        );
        assert_eq!(
            resolve_region(&env_with_profile().with_var(PROFILE_VAR, "sts")),
            Some(Region::from("cn-shanghai"))
        );
        assert_eq!(
            resolve_region(&env_with_profile().with_var(PROFILE_VAR, "role")),
            None
        );
        let env = env_with_profile()
            .with_var("REGION", "eu-central-1")
            .with_var("ALICLOUD_REGION_ID", "ap-southeast-1");
        assert_eq!(resolve_region(&env), Some(Region::from("ap-southeast-1")));
        let env = env_with_profile().with_var("REGION", "eu-central-1");
        assert_eq!(resolve_region(&env), Some(Region::from("eu-central-1")));
    }

    #[test]
    fn debug_and_display_never_show_secret_or_token() {
        let c = AlibabaCredentials::sts("STS.abc", SECRET, TOKEN);
        let debug = format!("{c:?}");
        let pretty = format!("{c:#?}");
        let display = c.to_string();
        for s in [&debug, &pretty, &display] {
            assert!(!s.contains(SECRET), "{s}");
            assert!(!s.contains(TOKEN), "{s}");
        }
        assert!(
            debug.contains("STS.abc") && debug.contains("***"),
            "{debug}"
        );
        assert_eq!(display, "access key STS.abc (STS)");
        assert_eq!(
            AlibabaCredentials::new("LTAI1", SECRET).to_string(),
            "access key LTAI1"
        );

        let env = env_with_profile().with_var(PROFILE_VAR, "sts");
        let r = resolve(&env).unwrap();
        let debug = format!("{r:?}");
        assert!(!debug.contains(SECRET) && !debug.contains(TOKEN), "{debug}");

        // Errors from every failing step never carry the secret or token either.
        for profile in ["role", "broken-sts", "nomode", "ghost", "sso"] {
            let env = env_with_profile().with_var(PROFILE_VAR, profile);
            let text = match resolve_credentials(crate::ECS, None, &env) {
                Ok(found) => format!("{found:?}"),
                Err(err) => format!("{err} {err:?}"),
            };
            assert!(!text.contains(SECRET) && !text.contains(TOKEN), "{text}");
        }
    }

    #[test]
    fn profile_file_open_to_others_is_reported_and_still_used() {
        let env =
            StaticEnv::new()
                .with_home(HOME)
                .with_file_mode(config_path(), &profile_json(), 0o644);
        let r = resolve(&env).unwrap();
        assert_eq!(r.credentials.access_key_id, "LTAIprofile");
        let w = env.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].path, config_path());
        assert_eq!(w[0].mode, 0o644);
        let msg = w[0].to_string();
        assert!(
            msg.contains("chmod 600 /home/tester/.aliyun/config.json"),
            "{msg}"
        );
        assert!(!msg.contains(SECRET), "{msg}");
        // The region lookup reads the same file: reported too.
        assert_eq!(resolve_region(&env), Some(Region::from("cn-hangzhou")));
        assert_eq!(env.warnings().len(), 2);

        // Owner-only: no warning. Environment credentials: the file is never read.
        let private =
            StaticEnv::new()
                .with_home(HOME)
                .with_file_mode(config_path(), &profile_json(), 0o600);
        resolve(&private).unwrap();
        assert!(private.warnings().is_empty());
        let from_env = StaticEnv::new()
            .with_home(HOME)
            .with_file_mode(config_path(), &profile_json(), 0o666)
            .with_var("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv")
            .with_var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "envsecret");
        resolve(&from_env).unwrap();
        assert!(from_env.warnings().is_empty());
    }

    #[test]
    fn a_profile_chosen_on_the_builder_wins_over_the_variable() {
        let env = env_with_profile().with_var(PROFILE_VAR, "default");
        let r = credential_chain(crate::ECS, None, Some("sts"), &services())
            .resolve(&env)
            .unwrap();
        assert_eq!(r.credentials.fixed().unwrap().access_key_id, "STS.profile");
        assert_eq!(r.region, Some(Region::from("cn-shanghai")));
        assert_eq!(
            resolve_region_with_profile(&env, Some("sts")),
            Some(Region::from("cn-shanghai"))
        );
        assert_eq!(
            resolve_region_with_profile(&env, None),
            Some(Region::from("cn-hangzhou"))
        );
        // Environment credentials still come first, as in the CLI.
        let env = env
            .with_var("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv")
            .with_var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "envsecret");
        let r = credential_chain(crate::ECS, None, Some("sts"), &services())
            .resolve(&env)
            .unwrap();
        assert_eq!(r.credentials.fixed().unwrap().access_key_id, "LTAIenv");
        let msg = credential_chain(crate::SAS, None, Some("ghost"), &services())
            .resolve(&env_with_profile())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("no profile named \"ghost\""), "{msg}");
    }

    #[test]
    fn cli_profile_path_is_under_home() {
        let env = StaticEnv::new().with_home(HOME);
        assert_eq!(cli_profile_path(&env), Some(config_path()));
        assert_eq!(cli_profile_path(&StaticEnv::new()), None);
    }
}
