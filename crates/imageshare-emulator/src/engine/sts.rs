//! The rules of the emulated security token services (Alibaba STS 2015-04-01, Tencent STS
//! 2018-08-13) and of the instance role: who may assume which role, for how long, with
//! which OIDC token; the temporary credentials issued, and their check on every later
//! call. Front-ends only translate these operations and their [`StsError`]s to each
//! cloud's wire format and codes.
//!
//! Temporary credentials live until their expiry and are kept afterwards, so that a call
//! with an expired token is told apart from one with an unknown token.
//!
//! The OIDC token is a JWT whose structure, `iss`, `aud` and `exp` are checked; its
//! signature is NOT verified (the real STS fetches the issuer's keys and verifies it).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use imageshare_core::{time, Secret};
use serde_json::Value;

use super::Engine;
use crate::world::{Cloud, OidcProviderSeed, RoleSeed};

/// Lifetime of instance-role credentials when the world sets no TTL.
pub const INSTANCE_CREDENTIALS_SECS: u64 = 3600;

/// Why STS refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StsError {
    /// A parameter is missing.
    #[error("missing parameter {0}")]
    Missing(&'static str),
    /// The role ARN is not an ARN of a role of this cloud.
    #[error("malformed role ARN {0:?}")]
    MalformedArn(String),
    /// No such role.
    #[error("role {0} does not exist")]
    RoleNotFound(String),
    /// The role does not trust the caller (or the OIDC provider).
    #[error("{who} is not allowed to assume {arn}")]
    NotTrusted {
        /// The role ARN.
        arn: String,
        /// The caller account or the provider.
        who: String,
    },
    /// The role requires an ExternalId and the request sent none or another one.
    #[error("ExternalId does not match the role's")]
    ExternalIdMismatch,
    /// DurationSeconds out of the allowed range.
    #[error("DurationSeconds {value} is not within {min}..={max}")]
    Duration {
        /// The value sent.
        value: String,
        /// Lowest allowed.
        min: u64,
        /// Highest allowed (the role's maximum).
        max: u64,
    },
    /// RoleSessionName malformed.
    #[error("RoleSessionName {0:?} is malformed")]
    SessionName(String),
    /// The OIDC provider is not registered.
    #[error("OIDC provider {0} is not registered")]
    ProviderNotFound(String),
    /// The OIDC token is not a JWT the emulator can read.
    #[error("OIDC token is malformed: {0}")]
    TokenMalformed(&'static str),
    /// Its `iss` is not the provider's issuer.
    #[error("OIDC token issuer does not match the provider")]
    IssuerMismatch,
    /// None of its `aud` is a client id of the provider.
    #[error("OIDC token audience does not match the provider")]
    AudienceMismatch,
    /// Its `exp` has passed.
    #[error("OIDC token is expired")]
    TokenExpired,
}

/// Why a temporary credential was refused on a later call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRefusal {
    /// The key id is not a temporary credential the emulator issued.
    UnknownKey,
    /// The session has expired.
    Expired,
    /// No token was sent with the temporary key.
    MissingToken,
    /// The token sent is another session's.
    TokenOfAnotherKey,
    /// The token sent is no token the emulator issued.
    MalformedToken,
}

/// A role session: who assumed which role, and its temporary credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// The cloud.
    pub cloud: Cloud,
    /// The role's account: the caller every later call acts as.
    pub account: String,
    /// The role name.
    pub role_name: String,
    /// The role id (Alibaba RoleId, Tencent RoleId).
    pub role_id: String,
    /// The role ARN.
    pub role_arn: String,
    /// RoleSessionName.
    pub session_name: String,
    /// Temporary AccessKeyId / TmpSecretId.
    pub access_key_id: String,
    /// Temporary secret.
    pub secret: Secret,
    /// SecurityToken / Token.
    pub token: Secret,
    /// Unix seconds of issue.
    pub issued_unix: u64,
    /// Unix seconds of expiry (`Expiration`, `ExpiredTime`).
    pub expires_unix: u64,
    /// Unix milliseconds of expiry (the emulator's own clock for the check).
    expires_ms: u128,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("cloud", &self.cloud)
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("access_key_id", &self.access_key_id)
            .field("expires_unix", &self.expires_unix)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Whether it has expired.
    #[must_use]
    pub fn expired(&self) -> bool {
        now_ms() >= self.expires_ms
    }
    /// `Expiration` as `YYYY-MM-DDTHH:MM:SSZ`.
    #[must_use]
    pub fn expiration_iso(&self) -> String {
        time::format_iso8601(self.expires_unix)
    }
    /// Issue time as `YYYY-MM-DDTHH:MM:SSZ`.
    #[must_use]
    pub fn issued_iso(&self) -> String {
        time::format_iso8601(self.issued_unix)
    }
}

/// The claims of an OIDC token that the emulator checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcClaims {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// The `aud` that matched a client id of the provider.
    pub audience: String,
    /// `exp` (unix seconds).
    pub expires_unix: u64,
    /// `iat` (unix seconds), when present.
    pub issued_unix: Option<u64>,
}

/// What an AssumeRole asks.
#[derive(Debug, Clone, Default)]
pub struct AssumeRole<'a> {
    /// RoleArn.
    pub role_arn: &'a str,
    /// RoleSessionName.
    pub session_name: &'a str,
    /// DurationSeconds as sent (`None`: the cloud's default).
    pub duration: Option<&'a str>,
    /// ExternalId.
    pub external_id: Option<&'a str>,
}

/// STS state of the engine.
#[derive(Debug, Default)]
pub(crate) struct StsState {
    /// Sessions by temporary key id.
    sessions: BTreeMap<String, Session>,
    /// Serial for generated ids.
    serial: u64,
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// The role id the emulator gives the `index`th role of the world: Alibaba role ids are
/// 19-digit numbers starting with 3, Tencent's start with 46116860184.
fn role_id(cloud: Cloud, index: usize) -> String {
    match cloud {
        Cloud::Alibaba => format!("3{:018}", 100_000_000 + index),
        Cloud::Tencent => format!("461168601842{:07}", 7_000_000 + index),
    }
}

/// Cloud defaults for DurationSeconds and the session name rules.
struct CloudRules {
    min_duration: u64,
    default_duration: u64,
    session_name_len: std::ops::RangeInclusive<usize>,
    session_name_extra: &'static str,
}

fn rules(cloud: Cloud) -> CloudRules {
    match cloud {
        // Alibaba AssumeRole: DurationSeconds 900..=role max, default 3600; RoleSessionName
        // 2-64 characters of letters, digits and `.@-_`.
        Cloud::Alibaba => CloudRules {
            min_duration: 900,
            default_duration: 3600,
            session_name_len: 2..=64,
            session_name_extra: ".@-_",
        },
        // Tencent AssumeRole: DurationSeconds up to 43200, default 7200; RoleSessionName
        // 2-128 characters of `[\w+=,.@-]`.
        Cloud::Tencent => CloudRules {
            min_duration: 1,
            default_duration: 7200,
            session_name_len: 2..=128,
            session_name_extra: "_+=,.@-",
        },
    }
}

impl Engine {
    /// The role named by `arn` in `cloud`, with its index in the world.
    fn role_by_arn(&self, cloud: Cloud, arn: &str) -> Result<(usize, &RoleSeed), StsError> {
        let malformed = || StsError::MalformedArn(arn.to_owned());
        let (account, name_or_id, by_id) = match cloud {
            Cloud::Alibaba => {
                let rest = arn.strip_prefix("acs:ram::").ok_or_else(malformed)?;
                let (account, name) = rest.split_once(":role/").ok_or_else(malformed)?;
                (account, name, false)
            }
            Cloud::Tencent => {
                let rest = arn.strip_prefix("qcs::cam::uin/").ok_or_else(malformed)?;
                if let Some((account, name)) = rest.split_once(":roleName/") {
                    (account, name, false)
                } else {
                    let (account, id) = rest.split_once(":role/").ok_or_else(malformed)?;
                    (account, id, true)
                }
            }
        };
        if account.is_empty() || name_or_id.is_empty() {
            return Err(malformed());
        }
        self.world
            .roles
            .iter()
            .enumerate()
            .find(|(i, r)| {
                r.cloud == cloud
                    && r.account == account
                    && if by_id {
                        role_id(cloud, *i) == name_or_id
                    } else {
                        r.name.eq_ignore_ascii_case(name_or_id)
                    }
            })
            .ok_or_else(|| StsError::RoleNotFound(arn.to_owned()))
    }

    /// The OIDC provider of `cloud` named `key` (Alibaba ARN, Tencent ProviderId).
    fn oidc_provider(&self, cloud: Cloud, key: &str) -> Option<&OidcProviderSeed> {
        self.world
            .oidc_providers
            .iter()
            .find(|p| p.cloud() == cloud && p.key() == key)
    }

    /// Checks DurationSeconds and RoleSessionName for `role`, returning the session length.
    fn session_length(
        cloud: Cloud,
        role: &RoleSeed,
        req: &AssumeRole<'_>,
    ) -> Result<u64, StsError> {
        let r = rules(cloud);
        let max = role.max_session();
        let duration = match req.duration.map(str::trim).filter(|d| !d.is_empty()) {
            None => r.default_duration.min(max),
            Some(d) => {
                let bad = || StsError::Duration {
                    value: d.to_owned(),
                    min: r.min_duration,
                    max,
                };
                let n: u64 = d.parse().map_err(|_| bad())?;
                if !(r.min_duration..=max).contains(&n) {
                    return Err(bad());
                }
                n
            }
        };
        let name = req.session_name;
        let name_ok = r.session_name_len.contains(&name.chars().count())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || r.session_name_extra.contains(c));
        if !name_ok {
            return Err(StsError::SessionName(name.to_owned()));
        }
        Ok(duration)
    }

    /// Issues a session of role `index` for `duration` seconds (shortened to the world's
    /// credential TTL when it sets one).
    fn issue(&mut self, index: usize, session_name: &str, duration: u64) -> Session {
        let role = self.world.roles[index].clone();
        let ttl = self
            .world
            .sts
            .credentials_ttl_secs
            .map_or(duration, |t| t.min(duration));
        self.sts.serial += 1;
        let mut rng = fastrand::Rng::with_seed(
            self.world.faults.seed ^ self.sts.serial.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        let mut text = |n: usize| -> String {
            (0..n)
                .map(|_| {
                    let c = rng.u8(..62);
                    char::from(match c {
                        0..=9 => b'0' + c,
                        10..=35 => b'a' + c - 10,
                        _ => b'A' + c - 36,
                    })
                })
                .collect()
        };
        let (access_key_id, secret, token) = match role.cloud {
            Cloud::Alibaba => (
                format!("STS.{}", text(24)),
                text(40),
                format!("CAIS{}", text(156)),
            ),
            Cloud::Tencent => (format!("AKID{}", text(32)), text(32), text(144)),
        };
        let issued_ms = now_ms();
        let expires_ms = issued_ms + u128::from(ttl) * 1000;
        let session = Session {
            cloud: role.cloud,
            account: role.account.clone(),
            role_name: role.name.clone(),
            role_id: role_id(role.cloud, index),
            role_arn: role.arn(),
            session_name: session_name.to_owned(),
            access_key_id: access_key_id.clone(),
            secret: Secret::new(secret),
            token: Secret::new(token),
            issued_unix: (issued_ms / 1000) as u64,
            expires_unix: (issued_ms / 1000) as u64 + ttl,
            expires_ms,
        };
        tracing::debug!(cloud = role.cloud.name(), role = %session.role_arn, key = %access_key_id, ttl, "sts: credentials issued");
        self.sts.sessions.insert(access_key_id, session.clone());
        session
    }

    /// `AssumeRole` by `caller` (an account id of the world) in `cloud`.
    pub fn assume_role(
        &mut self,
        cloud: Cloud,
        caller: &str,
        req: &AssumeRole<'_>,
    ) -> Result<Session, StsError> {
        if req.role_arn.is_empty() {
            return Err(StsError::Missing("RoleArn"));
        }
        if req.session_name.is_empty() {
            return Err(StsError::Missing("RoleSessionName"));
        }
        let (index, role) = self.role_by_arn(cloud, req.role_arn)?;
        if !role.trust.iter().any(|t| t == caller) {
            return Err(StsError::NotTrusted {
                arn: req.role_arn.to_owned(),
                who: caller.to_owned(),
            });
        }
        if let Some(expected) = &role.external_id {
            if req.external_id != Some(expected.as_str()) {
                return Err(StsError::ExternalIdMismatch);
            }
        }
        let duration = Self::session_length(cloud, role, req)?;
        Ok(self.issue(index, req.session_name, duration))
    }

    /// `AssumeRoleWithOIDC` (Alibaba) / `AssumeRoleWithWebIdentity` (Tencent): `provider`
    /// is the OIDCProviderArn or ProviderId, `token` the JWT.
    pub fn assume_role_with_oidc(
        &mut self,
        cloud: Cloud,
        provider: &str,
        token: &str,
        req: &AssumeRole<'_>,
    ) -> Result<(Session, OidcClaims), StsError> {
        if token.is_empty() {
            return Err(StsError::TokenMalformed("the token is empty"));
        }
        let provider_seed = self
            .oidc_provider(cloud, provider)
            .ok_or_else(|| StsError::ProviderNotFound(provider.to_owned()))?;
        let claims = check_jwt(token, provider_seed)?;
        if req.role_arn.is_empty() {
            return Err(StsError::Missing("RoleArn"));
        }
        if req.session_name.is_empty() {
            return Err(StsError::Missing("RoleSessionName"));
        }
        let (index, role) = self.role_by_arn(cloud, req.role_arn)?;
        let trusted = format!("oidc:{provider}");
        if !role.trust.contains(&trusted) {
            return Err(StsError::NotTrusted {
                arn: req.role_arn.to_owned(),
                who: provider.to_owned(),
            });
        }
        let duration = Self::session_length(cloud, role, req)?;
        Ok((self.issue(index, req.session_name, duration), claims))
    }

    /// Checks a temporary credential presented on a later call: `token` is the
    /// SecurityToken / X-TC-Token sent. The session is returned even when expired only
    /// through the refusal (the caller never acts with it).
    pub fn session_for(
        &self,
        cloud: Cloud,
        key_id: &str,
        token: Option<&str>,
    ) -> Result<&Session, SessionRefusal> {
        let Some(session) = self.sts.sessions.get(key_id).filter(|s| s.cloud == cloud) else {
            return Err(match token {
                Some(t) if self.token_session(cloud, t).is_some_and(Session::expired) => {
                    SessionRefusal::Expired
                }
                _ => SessionRefusal::UnknownKey,
            });
        };
        if session.expired() {
            return Err(SessionRefusal::Expired);
        }
        match token {
            None | Some("") => Err(SessionRefusal::MissingToken),
            Some(t) if t == session.token.expose() => Ok(session),
            Some(t) if self.token_session(cloud, t).is_some() => {
                Err(SessionRefusal::TokenOfAnotherKey)
            }
            Some(_) => Err(SessionRefusal::MalformedToken),
        }
    }

    /// The session a token belongs to.
    fn token_session(&self, cloud: Cloud, token: &str) -> Option<&Session> {
        self.sts
            .sessions
            .values()
            .find(|s| s.cloud == cloud && s.token.expose() == token)
    }

    /// Whether `key_id` is a temporary key this emulator issued in `cloud` (live or not).
    #[must_use]
    pub fn is_session_key(&self, cloud: Cloud, key_id: &str) -> bool {
        self.sts
            .sessions
            .get(key_id)
            .is_some_and(|s| s.cloud == cloud)
    }

    /// The instance role of `cloud`, if the world attaches one.
    #[must_use]
    pub fn instance_role(&self, cloud: Cloud) -> Option<&RoleSeed> {
        self.world
            .roles
            .iter()
            .find(|r| r.cloud == cloud && r.instance)
    }

    /// Credentials of the instance role of `cloud` named `name` (the metadata service):
    /// the current session while more than half of its life remains, else a fresh one.
    /// `None` when the instance has no role of that name.
    pub fn instance_credentials(&mut self, cloud: Cloud, name: &str) -> Option<Session> {
        let index = self
            .world
            .roles
            .iter()
            .position(|r| r.cloud == cloud && r.instance && r.name == name)?;
        let arn = self.world.roles[index].arn();
        let now = now_ms();
        let current = self
            .sts
            .sessions
            .values()
            .filter(|s| s.role_arn == arn && s.session_name == INSTANCE_SESSION)
            .max_by_key(|s| s.expires_ms)
            .filter(|s| {
                let life = s
                    .expires_ms
                    .saturating_sub(u128::from(s.issued_unix) * 1000);
                s.expires_ms > now && s.expires_ms - now > life / 2
            })
            .cloned();
        let ttl = self
            .world
            .sts
            .credentials_ttl_secs
            .unwrap_or(INSTANCE_CREDENTIALS_SECS);
        Some(current.unwrap_or_else(|| self.issue(index, INSTANCE_SESSION, ttl)))
    }

    /// Every session issued so far (inspection; secrets stay hidden in `Debug`).
    pub fn sessions(&self) -> impl Iterator<Item = &Session> {
        self.sts.sessions.values()
    }
}

/// The session name of instance-role credentials.
pub const INSTANCE_SESSION: &str = "instance";

/// Reads a JWT's claims and checks them against `provider` (not its signature).
fn check_jwt(token: &str, provider: &OidcProviderSeed) -> Result<OidcClaims, StsError> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    if parts.len() != 3 {
        return Err(StsError::TokenMalformed(
            "a JWT has three parts separated by '.'",
        ));
    }
    let decode = |part: &str| -> Result<Value, StsError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|_| StsError::TokenMalformed("a part is not base64url"))?;
        serde_json::from_slice(&bytes).map_err(|_| StsError::TokenMalformed("a part is not JSON"))
    };
    let header = decode(parts[0])?;
    if header.get("alg").and_then(Value::as_str).is_none() {
        return Err(StsError::TokenMalformed("the header has no alg"));
    }
    let claims = decode(parts[1])?;
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or(StsError::TokenMalformed("no iss claim"))?;
    if issuer != provider.issuer {
        return Err(StsError::IssuerMismatch);
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => return Err(StsError::TokenMalformed("no aud claim")),
    };
    let audience = audiences
        .iter()
        .find(|a| provider.audiences.iter().any(|p| p == *a))
        .ok_or(StsError::AudienceMismatch)?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or(StsError::TokenMalformed("no numeric exp claim"))?;
    if exp <= time::now_unix() {
        return Err(StsError::TokenExpired);
    }
    Ok(OidcClaims {
        issuer: issuer.to_owned(),
        subject: claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        audience: (*audience).to_owned(),
        expires_unix: exp,
        issued_unix: claims.get("iat").and_then(Value::as_u64),
    })
}

/// An unsigned JWT (`alg: none`, signature part `sig`) with these claims, for tests and
/// examples: the emulator does not verify JWT signatures.
#[must_use]
pub fn unsigned_jwt(claims: &Value) -> String {
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(v).unwrap_or_default())
    };
    format!(
        "{}.{}.c2ln",
        b64(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        b64(claims)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::World;
    use imageshare_core::Site;
    use serde_json::json;

    const ISS: &str = "https://issuer.example.com";
    const PROVIDER: &str = "acs:ram::100000000001:oidc-provider/ci";

    fn engine() -> Engine {
        let world = World::builder()
            .account("100000000001", Site::China)
            .account("100000000002", Site::China)
            .role_seed(
                RoleSeed::new(Cloud::Alibaba, "100000000001", "Deployer")
                    .trust("100000000002")
                    .trust(&format!("oidc:{PROVIDER}")),
            )
            .role_seed(
                RoleSeed::new(Cloud::Alibaba, "100000000001", "guarded")
                    .trust("100000000002")
                    .external_id("xid"),
            )
            .role_seed(
                RoleSeed::new(Cloud::Tencent, "100000000001", "deployer").trust("100000000002"),
            )
            .oidc_provider(OidcProviderSeed::alibaba(
                PROVIDER,
                ISS,
                &["sts.aliyuncs.com"],
            ))
            .build()
            .unwrap();
        Engine::new(world)
    }

    fn req<'a>(arn: &'a str) -> AssumeRole<'a> {
        AssumeRole {
            role_arn: arn,
            session_name: "s1",
            ..AssumeRole::default()
        }
    }

    #[test]
    fn assume_checks_trust_name_duration_and_external_id() {
        let mut e = engine();
        let arn = "acs:ram::100000000001:role/deployer";
        let s = e
            .assume_role(Cloud::Alibaba, "100000000002", &req(arn))
            .unwrap();
        assert!(s.access_key_id.starts_with("STS."));
        assert_eq!(s.account, "100000000001");
        assert_eq!(s.expires_unix - s.issued_unix, 3600);
        assert!(matches!(
            e.assume_role(Cloud::Alibaba, "100000000001", &req(arn)),
            Err(StsError::NotTrusted { .. })
        ));
        assert!(matches!(
            e.assume_role(
                Cloud::Alibaba,
                "100000000002",
                &req("acs:ram::100000000001:role/nope")
            ),
            Err(StsError::RoleNotFound(_))
        ));
        assert!(matches!(
            e.assume_role(
                Cloud::Alibaba,
                "100000000002",
                &req("arn:aws:iam::1:role/x")
            ),
            Err(StsError::MalformedArn(_))
        ));
        let long = AssumeRole {
            duration: Some("3601"),
            ..req(arn)
        };
        assert!(matches!(
            e.assume_role(Cloud::Alibaba, "100000000002", &long),
            Err(StsError::Duration { max: 3600, .. })
        ));
        let short = AssumeRole {
            duration: Some("899"),
            ..req(arn)
        };
        assert!(e
            .assume_role(Cloud::Alibaba, "100000000002", &short)
            .is_err());
        let bad_name = AssumeRole {
            session_name: "a b",
            ..req(arn)
        };
        assert!(matches!(
            e.assume_role(Cloud::Alibaba, "100000000002", &bad_name),
            Err(StsError::SessionName(_))
        ));
        let guarded = "acs:ram::100000000001:role/guarded";
        assert_eq!(
            e.assume_role(Cloud::Alibaba, "100000000002", &req(guarded)),
            Err(StsError::ExternalIdMismatch)
        );
        let with_id = AssumeRole {
            external_id: Some("xid"),
            ..req(guarded)
        };
        assert!(e
            .assume_role(Cloud::Alibaba, "100000000002", &with_id)
            .is_ok());
        // A Tencent role is not reachable through Alibaba STS, and the reverse.
        let tc = "qcs::cam::uin/100000000001:roleName/deployer";
        assert!(e
            .assume_role(Cloud::Tencent, "100000000002", &req(tc))
            .is_ok());
        assert!(e
            .assume_role(Cloud::Tencent, "100000000002", &req(arn))
            .is_err());
        // By role id too.
        let by_id = format!(
            "qcs::cam::uin/100000000001:role/{}",
            role_id(Cloud::Tencent, 2)
        );
        assert!(e
            .assume_role(Cloud::Tencent, "100000000002", &req(&by_id))
            .is_ok());
    }

    #[test]
    fn session_check_tells_expired_unknown_and_mismatched_apart() {
        let mut e = engine();
        let arn = "acs:ram::100000000001:role/deployer";
        let a = e
            .assume_role(Cloud::Alibaba, "100000000002", &req(arn))
            .unwrap();
        let b = e
            .assume_role(Cloud::Alibaba, "100000000002", &req(arn))
            .unwrap();
        let ok = e.session_for(Cloud::Alibaba, &a.access_key_id, Some(a.token.expose()));
        assert_eq!(ok.map(|s| s.account.clone()), Ok("100000000001".into()));
        assert_eq!(
            e.session_for(Cloud::Alibaba, &a.access_key_id, Some(b.token.expose())),
            Err(SessionRefusal::TokenOfAnotherKey)
        );
        assert_eq!(
            e.session_for(Cloud::Alibaba, &a.access_key_id, Some("garbage")),
            Err(SessionRefusal::MalformedToken)
        );
        assert_eq!(
            e.session_for(Cloud::Alibaba, &a.access_key_id, None),
            Err(SessionRefusal::MissingToken)
        );
        assert_eq!(
            e.session_for(Cloud::Tencent, &a.access_key_id, Some(a.token.expose())),
            Err(SessionRefusal::UnknownKey)
        );
        e.sts.sessions.get_mut(&a.access_key_id).unwrap().expires_ms = 0;
        assert_eq!(
            e.session_for(Cloud::Alibaba, &a.access_key_id, Some(a.token.expose())),
            Err(SessionRefusal::Expired)
        );
        assert!(!format!("{a:?}").contains(a.token.expose()));
        assert!(!format!("{a:?}").contains(a.secret.expose()));
    }

    #[test]
    fn oidc_checks_issuer_audience_expiry_and_trust() {
        let mut e = engine();
        let arn = "acs:ram::100000000001:role/deployer";
        let later = time::now_unix() + 600;
        let good = unsigned_jwt(
            &json!({"iss": ISS, "aud": "sts.aliyuncs.com", "sub": "ci", "exp": later}),
        );
        let (s, claims) = e
            .assume_role_with_oidc(Cloud::Alibaba, PROVIDER, &good, &req(arn))
            .unwrap();
        assert_eq!(s.account, "100000000001");
        assert_eq!(claims.subject, "ci");
        let with = |claims: Value| unsigned_jwt(&claims);
        let cases = [
            (
                with(json!({"iss": "https://other", "aud": "sts.aliyuncs.com", "exp": later})),
                StsError::IssuerMismatch,
            ),
            (
                with(json!({"iss": ISS, "aud": ["x", "y"], "exp": later})),
                StsError::AudienceMismatch,
            ),
            (
                with(json!({"iss": ISS, "aud": "sts.aliyuncs.com", "exp": 1000})),
                StsError::TokenExpired,
            ),
        ];
        for (token, want) in cases {
            assert_eq!(
                e.assume_role_with_oidc(Cloud::Alibaba, PROVIDER, &token, &req(arn))
                    .unwrap_err(),
                want
            );
        }
        assert!(matches!(
            e.assume_role_with_oidc(Cloud::Alibaba, PROVIDER, "a.b", &req(arn)),
            Err(StsError::TokenMalformed(_))
        ));
        assert!(matches!(
            e.assume_role_with_oidc(
                Cloud::Alibaba,
                "acs:ram::1:oidc-provider/x",
                &good,
                &req(arn)
            ),
            Err(StsError::ProviderNotFound(_))
        ));
        assert!(matches!(
            e.assume_role_with_oidc(
                Cloud::Alibaba,
                PROVIDER,
                &good,
                &req("acs:ram::100000000001:role/guarded")
            ),
            Err(StsError::NotTrusted { .. })
        ));
    }
}
