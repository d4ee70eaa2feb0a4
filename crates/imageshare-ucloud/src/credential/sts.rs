//! UCloud STS `AssumeRole`: temporary credentials of a role, obtained with the credentials
//! the chain found ([`AssumeRoleProvider`]).
//!
//! # What UCloud documents (confirmed)
//!
//! | rule | source |
//! |---|---|
//! | action `AssumeRole`, a normal signed OpenAPI call (`Action`, `PublicKey`, `Signature`) to the API base URL | UCloudDoc-Team/api `sts-api/assume_role.md`; ucloud-sdk-go `services/sts/apis.go` (`STSClient.AssumeRole` through `ucloud.Client.InvokeAction`, product `STS`) |
//! | parameters `RoleUrn` (required), `RoleSessionName` (required, 1-64 of letters, digits, `_`, `-`, `.`), `DurationSeconds` (optional, at least 900; the maximum is the role's session limit), `Policy` (optional) | `sts-api/assume_role.md`; `services/sts/apis.go` |
//! | answer `Credentials{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}`, `Expiration` "UTC time" | `sts-api/assume_role.md`; `services/sts/models.go` |
//! | the SDK marks `AssumeRole` retryable | `services/sts/apis.go` (`req.SetRetryable(true)`) |
//! | role URN form `ucs:iam::<account id>:role/<name>`, the name may carry a path (`ucs:iam::60036:role/ucs-service-role/ServiceRoleForUK8S`) | ucloud-sdk-go `external/sts_creds_v2.go` (`CharacterName` comment) and `external/sts_creds_v2_test.go`; a Go example calling `AssumeRole` with `ucs:iam::65906048:role/test`; the IAM guide's trust-policy principal `ucs:iam::<Company ID>:root` |
//! | the temporary `AccessKeyId` is the `PublicKey`, `AccessKeySecret` the private key, `SecurityToken` is sent and signed as a parameter | `external/sts_creds_v2.go` (field mapping); `ucloud/auth/credential.go` (`applyDefaults` adds `SecurityToken` to the signed map) |
//!
//! UCloud's `AssumeRole` takes **no external id**: an [`AssumeRole`] with one is refused
//! rather than silently dropped. The session name defaults to `imageshare-<unix time>`.
//!
//! # How imageshare calls it
//!
//! Through the crate's own signed client ([`UCloudClient`]) and the core `Transport`
//! (retry, timeouts, rate limit), posted to `ClientConfig::sts_endpoint()` when set, else
//! the API base URL. The answer's `Expiration` is read as RFC 3339 (a bare number is read
//! as Unix seconds); the credentials cache refreshes before it.

use std::fmt;

use serde::Deserialize;

use imageshare_core::config::AssumeRole;
use imageshare_core::credentials::{Expiring, ProvideCredentials, ProvideFuture};
use imageshare_core::time::Timestamp;
use imageshare_core::{CallContext, Error, Result, Secret};

use crate::client::{Idempotency, UCloudClient};
use crate::signer::Param;
use crate::UHOST;

use super::UCloudCredentials;

/// The STS action.
pub const ASSUME_ROLE: &str = "AssumeRole";
/// The shortest `DurationSeconds` UCloud accepts (`sts-api/assume_role.md`).
pub const MIN_DURATION_SECS: u64 = 900;
/// The prefix of every UCloud IAM URN.
pub const URN_PREFIX: &str = "ucs:iam::";

/// Checks a role URN: `ucs:iam::<account id>:role/<name>`, the account id all digits, the
/// name (which may have a path, `a/b/Name`) non-empty with no empty segment, whitespace or
/// control character. [`Error::InvalidInput`] naming the field otherwise.
pub fn validate_role_urn(urn: &str) -> Result<()> {
    let bad = |why: &str| {
        Error::invalid_input(
            "role",
            format!(
                "{urn:?} is not a UCloud role URN ({why}); expected \
                 ucs:iam::<account id>:role/<name>, e.g. ucs:iam::65906048:role/test"
            ),
        )
    };
    let rest = urn
        .strip_prefix(URN_PREFIX)
        .ok_or_else(|| bad("no ucs:iam:: prefix"))?;
    let (account, name) = rest
        .split_once(":role/")
        .ok_or_else(|| bad("no :role/ after the account id"))?;
    if account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("the account id is not a number"));
    }
    if name.is_empty() || name.split('/').any(str::is_empty) {
        return Err(bad("empty role name"));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("whitespace in the role name"));
    }
    Ok(())
}

/// Checks a `RoleSessionName`: 1 to 64 letters, digits, `_`, `-` or `.`.
pub fn validate_session_name(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            "session_name",
            format!("{name:?} is not 1 to 64 letters, digits, '_', '-' or '.'"),
        ))
    }
}

/// The parameters of one `AssumeRole` request, checked: built from a core [`AssumeRole`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRequest {
    /// `RoleUrn`.
    pub role_urn: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// `DurationSeconds`, when set.
    pub duration_secs: Option<u64>,
    /// `Policy`, when set.
    pub policy: Option<String>,
}

impl RoleRequest {
    /// Checks `role` for UCloud (URN form, session name, duration of at least 900 s, no
    /// external id); the session name defaults to `imageshare-<now>`.
    pub fn new(role: &AssumeRole, now: u64) -> Result<Self> {
        validate_role_urn(&role.arn)?;
        if role.external_id.is_some() {
            return Err(Error::invalid_input(
                "external_id",
                "UCloud's AssumeRole takes no external id (sts-api/assume_role.md)",
            ));
        }
        let session_name = role
            .session_name
            .clone()
            .unwrap_or_else(|| format!("imageshare-{now}"));
        validate_session_name(&session_name)?;
        let duration_secs = role.duration.map(|d| d.as_secs());
        if let Some(secs) = duration_secs.filter(|s| *s < MIN_DURATION_SECS) {
            return Err(Error::invalid_input(
                "duration",
                format!("{secs} s is shorter than UCloud's minimum of {MIN_DURATION_SECS} s"),
            ));
        }
        Ok(RoleRequest {
            role_urn: role.arn.clone(),
            session_name,
            duration_secs,
            policy: role.policy.clone().filter(|p| !p.is_empty()),
        })
    }

    /// The action's parameters, in the documented names.
    #[must_use]
    pub fn params(&self) -> Vec<Param> {
        let mut p: Vec<Param> = vec![
            ("RoleUrn".into(), self.role_urn.clone()),
            ("RoleSessionName".into(), self.session_name.clone()),
        ];
        if let Some(secs) = self.duration_secs {
            p.push(("DurationSeconds".into(), secs.to_string()));
        }
        if let Some(policy) = &self.policy {
            p.push(("Policy".into(), policy.clone()));
        }
        p
    }
}

/// `AssumeRoleResponse` (`services/sts/apis.go`).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleAnswer {
    credentials: Option<StsCredentials>,
}

/// `Credentials` (`services/sts/models.go`). The secret goes straight into a [`Secret`].
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsCredentials {
    #[serde(default)]
    access_key_id: String,
    #[serde(default, deserialize_with = "secret")]
    access_key_secret: Secret,
    #[serde(default, deserialize_with = "secret")]
    security_token: Secret,
    #[serde(default)]
    expiration: serde_json::Value,
}

pub(super) fn secret<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Secret, D::Error> {
    Ok(Secret::new(String::deserialize(d)?))
}

/// Reads an expiry: RFC 3339 text, or Unix seconds (a number or digits).
pub(super) fn parse_expiration(v: &serde_json::Value) -> Option<Timestamp> {
    match v {
        serde_json::Value::Number(n) => n
            .as_u64()
            .and_then(|s| Timestamp::from_reported_unix("Expiration", s)),
        serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
            .parse()
            .ok()
            .and_then(|s| Timestamp::from_reported_unix("Expiration", s)),
        serde_json::Value::String(s) => Timestamp::parse_rfc3339(s.trim()),
        _ => None,
    }
}

/// Temporary credentials of a role, from STS `AssumeRole` signed with another provider's
/// credentials (those of the client it holds). See the [module docs](self).
pub struct AssumeRoleProvider {
    client: UCloudClient,
    role: RoleRequest,
}

impl fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleProvider")
            .field("role", &self.role)
            .field("sts", &self.client.base_url())
            .field("with", &self.client.credentials().source())
            .finish()
    }
}

impl AssumeRoleProvider {
    /// Assumes `role` by calling `AssumeRole` through `client` (its endpoint is the STS
    /// endpoint; its credentials sign the request).
    #[must_use]
    pub fn new(client: UCloudClient, role: RoleRequest) -> Self {
        AssumeRoleProvider { client, role }
    }

    /// The role asked for.
    #[must_use]
    pub fn role(&self) -> &RoleRequest {
        &self.role
    }

    fn failed(&self, message: String, code: Option<String>, cause: Option<Error>) -> Error {
        Error::credential_source(UHOST, self.source(), message, code, cause.map(Box::new))
    }

    async fn fetch(&self) -> Result<Expiring<UCloudCredentials>> {
        let answer = self
            .client
            .call::<AssumeRoleAnswer>(
                &CallContext::new(),
                ASSUME_ROLE,
                self.role.params(),
                Idempotency::Idempotent,
            )
            .await
            .map_err(|e| {
                let code = e.code().map(str::to_owned);
                self.failed(
                    format!(
                        "STS AssumeRole of {} failed (the cause follows); check the role's \
                         trust policy and that the calling credentials may assume it",
                        self.role.role_urn
                    ),
                    code,
                    Some(e),
                )
            })?;
        let Some(c) = answer.body.credentials else {
            return Err(self.failed(
                "the AssumeRole answer has no Credentials".into(),
                None,
                None,
            ));
        };
        if c.access_key_id.is_empty() || c.access_key_secret.expose().is_empty() {
            return Err(self.failed(
                "the AssumeRole answer has no AccessKeyId or AccessKeySecret".into(),
                None,
                None,
            ));
        }
        let expires = parse_expiration(&c.expiration).ok_or_else(|| {
            self.failed(
                format!(
                    "the AssumeRole answer's Expiration {} is not a time",
                    c.expiration
                ),
                None,
                None,
            )
        })?;
        let mut credentials = UCloudCredentials::new(c.access_key_id, c.access_key_secret);
        if !c.security_token.expose().is_empty() {
            credentials = credentials.with_security_token(c.security_token);
        }
        Ok(Expiring::until(credentials, expires))
    }
}

impl ProvideCredentials<UCloudCredentials> for AssumeRoleProvider {
    fn provide(&self) -> ProvideFuture<'_, UCloudCredentials> {
        Box::pin(self.fetch())
    }

    fn source(&self) -> String {
        format!(
            "role {} assumed with {}",
            self.role.role_urn,
            self.client.credentials().source()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn role_urns() {
        for ok in [
            "ucs:iam::65906048:role/test",
            "ucs:iam::60036:role/ucs-service-role/ServiceRoleForUK8S",
        ] {
            validate_role_urn(ok).unwrap();
        }
        for bad in [
            "",
            "acs:ram::1:role/x",
            "ucs:iam::abc:role/x",
            "ucs:iam:::role/x",
            "ucs:iam::1:role/",
            "ucs:iam::1:role/a//b",
            "ucs:iam::1:user/x",
            "ucs:iam::1:role/a b",
        ] {
            assert!(validate_role_urn(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn role_requests_are_checked() {
        let role = AssumeRole::new("ucs:iam::1:role/r");
        let r = RoleRequest::new(&role, 42).unwrap();
        assert_eq!(r.session_name, "imageshare-42");
        assert_eq!(
            r.params(),
            vec![
                ("RoleUrn".to_owned(), "ucs:iam::1:role/r".to_owned()),
                ("RoleSessionName".into(), "imageshare-42".into()),
            ]
        );
        let e = RoleRequest::new(&role.clone().external_id("x"), 1).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "external_id"));
        let e = RoleRequest::new(&role.clone().duration(Duration::from_secs(899)), 1).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "duration"));
        let e = RoleRequest::new(&role.clone().session_name("a b"), 1).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "session_name"));
        RoleRequest::new(&role.session_name("a".repeat(64)), 1).unwrap();
    }

    #[test]
    fn expirations() {
        use serde_json::json;
        assert_eq!(
            parse_expiration(&json!("2025-11-11T04:32:54Z")).map(Timestamp::unix),
            Some(1_762_835_574)
        );
        assert_eq!(
            parse_expiration(&json!("2025-11-11T12:32:54+08:00")).map(Timestamp::unix),
            Some(1_762_835_574)
        );
        assert_eq!(
            parse_expiration(&json!(1_762_835_574)).map(Timestamp::unix),
            Some(1_762_835_574)
        );
        assert_eq!(
            parse_expiration(&json!("1762835574")).map(Timestamp::unix),
            Some(1_762_835_574)
        );
        assert_eq!(parse_expiration(&json!("soon")), None);
        assert_eq!(parse_expiration(&json!(null)), None);
    }
}
