//! Alibaba Cloud STS (RPC style, Version `2015-04-01`) on the emulator's one address:
//! `AssumeRole`, `AssumeRoleWithOIDC`, `GetCallerIdentity`. Requests are recognised by
//! `Version=2015-04-01` (parameter or `x-acs-version`), whatever the host.
//!
//! Sources of the wire names:
//! - requests: aliyun/credentials-python 1.0.12
//!   `alibabacloud_credentials/provider/ram_role_arn.py` (GET, RPC v1 signed:
//!   `Action=AssumeRole`, `Format=JSON`, `Version=2015-04-01`, `DurationSeconds`, `RoleArn`,
//!   `RoleSessionName`, optional `Policy`, `ExternalId`, `SecurityToken`) and
//!   `provider/oidc.py` (`Action=AssumeRoleWithOIDC`, `DurationSeconds`, `RoleArn`,
//!   `OIDCProviderArn`, `OIDCToken`, `RoleSessionName`, `Timestamp`, optional `Policy`,
//!   and NO `AccessKeyId`, `Signature` or `SignatureNonce`: the action is anonymous);
//!   alibabacloud-sts20150401 1.2.0 `client.py` (`auth_type = 'Anonymous'` for
//!   AssumeRoleWithOIDC, signed ACS3 or V2 for the others);
//! - answers: the same providers read `Credentials.{AccessKeyId, AccessKeySecret,
//!   SecurityToken, Expiration}` with `Expiration` parsed as `%Y-%m-%dT%H:%M:%SZ`; the
//!   SDK models (`_assume_role_response_body.py`, `_get_caller_identity_response_body.py`)
//!   name `AssumedRoleUser.{Arn, AssumedRoleId}`, `OIDCTokenInfo.{Subject, Issuer,
//!   ClientIds, ExpirationTime, IssuanceTime}` and `AccountId, Arn, IdentityType,
//!   PrincipalId, RoleId, UserId`.
//! - codes: the STS error-code page
//!   (<https://help.aliyun.com/zh/ram/developer-reference/api-sts-2015-04-01-errorcodes>:
//!   401 `AuthenticationFail.NoPermission` "No such OIDC Provider registered." / "There is
//!   no permission", 401 `AuthenticationFail.OIDCToken.{Invalid, Expired,
//!   AudienceNotMatch}`) and the STS troubleshooting page
//!   (<https://www.alibabacloud.com/help/doc-detail/42775.htm>: `NoPermission` "No
//!   permission perform sts:AssumeRole on this Role...", `InvalidParameter.RoleSessionName`,
//!   `InvalidParameter.DurationSeconds`). UNCONFIRMED: `EntityNotExist.Role` (404) for an
//!   unknown role, `InvalidParameter.RoleArn` (400) for a malformed ARN,
//!   `AuthenticationFail.OIDCToken.IssuerNotMatch` (401) for a wrong `iss`, and the
//!   status 403 of `NoPermission`.
//!
//! Unlike the real STS, an account's own (root) key may call AssumeRole (the real one
//! answers `NoPermission` "Roles may not be assumed by root accounts"): the world has no
//! RAM users.

use imageshare_core::Provider;
use serde_json::{json, Value};

use super::auth::{authenticate_acs3, authenticate_rpc};
use super::{host_of, missing, not_found_action, ok, style, AliError, AlibabaStyle};
use crate::engine::{AssumeRole, Session, StsError};
use crate::faults::FaultKind;
use crate::frontend::params::first;
use crate::frontend::{Call, Caller, Frontend, Surface};
use crate::server::{Reply, WireRequest};
use crate::world::Cloud;

/// The STS API version.
pub const STS_VERSION: &str = "2015-04-01";
/// The provider STS calls count for in the call log and fault rules.
pub const ALIBABA_STS: Provider = Provider::new("alibaba-sts");
/// The anonymous action.
pub const ASSUME_ROLE_WITH_OIDC: &str = "AssumeRoleWithOIDC";

/// The product code in the `Recommend` link of an error.
const PRODUCT: &str = "Sts";

/// The Alibaba STS front-end.
pub(crate) struct AlibabaSts;

fn version_and_action(wire: &WireRequest) -> (Option<&str>, Option<&str>) {
    let params = wire.params();
    (
        first(params, "Version").or_else(|| wire.header("x-acs-version")),
        first(params, "Action").or_else(|| wire.header("x-acs-action")),
    )
}

fn reply(e: &StsError, call: &Call<'_>) -> Reply {
    to_ali(e, call.surface.action == ASSUME_ROLE_WITH_OIDC).reply(
        call.request_id,
        &host_of(call.wire),
        PRODUCT,
    )
}

/// An engine refusal in Alibaba STS's codes.
fn to_ali(e: &StsError, oidc: bool) -> AliError {
    let no_permission = |m: &str| AliError::new(401, "AuthenticationFail.NoPermission", m);
    let token = |code: &str, m: &str| AliError::new(401, code, m);
    match e {
        StsError::Missing(name) => missing(name),
        StsError::MalformedArn(_) => AliError::new(
            400,
            "InvalidParameter.RoleArn",
            "The parameter RoleArn is wrongly formed.",
        ),
        StsError::RoleNotFound(arn) => AliError::new(
            404,
            "EntityNotExist.Role",
            format!("The specified Role not exists: {arn}."),
        ),
        StsError::NotTrusted { .. } | StsError::ExternalIdMismatch if oidc => {
            no_permission("There is no permission")
        }
        StsError::NotTrusted { .. } | StsError::ExternalIdMismatch => AliError::new(
            403,
            "NoPermission",
            "No permission perform sts:AssumeRole on this Role. Maybe you are not authorized \
             to assume this role, or the role's trust policy does not allow you.",
        ),
        StsError::Duration { min, max, .. } => AliError::new(
            400,
            "InvalidParameter.DurationSeconds",
            format!("The Min/Max value of DurationSeconds is {min}s/{max}s."),
        ),
        StsError::SessionName(_) => AliError::new(
            400,
            "InvalidParameter.RoleSessionName",
            "The parameter RoleSessionName is wrongly formed.",
        ),
        StsError::ProviderNotFound(_) => no_permission("No such OIDC Provider registered."),
        StsError::TokenMalformed(why) => token(
            "AuthenticationFail.OIDCToken.Invalid",
            &format!("The Jwt content is invalid that cannot be recognized: {why}."),
        ),
        StsError::IssuerMismatch => token(
            "AuthenticationFail.OIDCToken.IssuerNotMatch",
            "Invalid issuer.",
        ),
        StsError::AudienceMismatch => token(
            "AuthenticationFail.OIDCToken.AudienceNotMatch",
            "Invalid audience.",
        ),
        StsError::TokenExpired => token(
            "AuthenticationFail.OIDCToken.Expired",
            "This JsonWebToken is expired.",
        ),
    }
}

/// `AssumedRoleUser` and `Credentials` of an answer.
fn issued(session: &Session) -> Value {
    json!({
        "AssumedRoleUser": {
            "Arn": format!("{}/{}", session.role_arn, session.session_name),
            "AssumedRoleId": format!("{}:{}", session.role_id, session.session_name),
        },
        "Credentials": {
            "AccessKeyId": session.access_key_id,
            "AccessKeySecret": session.secret.expose(),
            "SecurityToken": session.token.expose(),
            "Expiration": session.expiration_iso(),
        },
    })
}

/// `GetCallerIdentity` of `caller`.
fn identity(caller: &Caller) -> Value {
    let account = caller.account.as_ref().map(|a| a.id.as_str()).unwrap_or("");
    match &caller.session {
        Some(s) => json!({
            "IdentityType": "AssumedRoleUser",
            "AccountId": account,
            "PrincipalId": format!("{}:{}", s.role_id, s.session_name),
            "RoleId": s.role_id,
            "Arn": format!("acs:ram::{account}:assumed-role/{}/{}", s.role_name, s.session_name),
        }),
        None => json!({
            "IdentityType": "Account",
            "AccountId": account,
            "PrincipalId": account,
            "UserId": account,
            "Arn": format!("acs:ram::{account}:root"),
        }),
    }
}

impl Frontend for AlibabaSts {
    fn classify(&self, wire: &WireRequest) -> Option<Surface> {
        let (version, action) = version_and_action(wire);
        (version? == STS_VERSION).then(|| Surface {
            provider: ALIBABA_STS,
            product: Some(ALIBABA_STS),
            action: action.unwrap_or("").to_owned(),
            version: STS_VERSION.to_owned(),
        })
    }

    /// AssumeRoleWithOIDC is anonymous (no signature is checked, as the real STS does not
    /// need one); every other action is authenticated like any Alibaba request.
    fn authenticate(&self, call: &Call<'_>) -> Result<Caller, Reply> {
        if call.surface.action == ASSUME_ROLE_WITH_OIDC {
            return Ok(Caller::anonymous());
        }
        let (shared, wire) = (call.shared, call.wire);
        match style(wire) {
            Some(AlibabaStyle::Acs3) => authenticate_acs3(shared, wire),
            _ => authenticate_rpc(shared, wire),
        }
        .map_err(|e| e.reply(call.request_id, &host_of(wire), PRODUCT))
    }

    fn dispatch(&self, call: &Call<'_>, caller: &Caller) -> Reply {
        let _span = tracing::info_span!("alibaba_sts", action = %call.surface.action).entered();
        let params = call.wire.params();
        let get = |n: &str| first(params, n).unwrap_or("");
        let req = AssumeRole {
            role_arn: get("RoleArn"),
            session_name: get("RoleSessionName"),
            duration: first(params, "DurationSeconds"),
            external_id: first(params, "ExternalId"),
        };
        let caller_id = caller.account.as_ref().map(|a| a.id.as_str());
        let mut engine = call.shared.engine();
        let result = match (call.surface.action.as_str(), caller_id) {
            ("AssumeRole", Some(id)) => engine
                .assume_role(Cloud::Alibaba, id, &req)
                .map(|s| issued(&s)),
            (ASSUME_ROLE_WITH_OIDC, _) => {
                let provider = get("OIDCProviderArn");
                if provider.is_empty() {
                    Err(StsError::Missing("OIDCProviderArn"))
                } else {
                    engine
                        .assume_role_with_oidc(Cloud::Alibaba, provider, get("OIDCToken"), &req)
                        .map(|(s, claims)| {
                            let mut body = issued(&s);
                            body["OIDCTokenInfo"] = json!({
                                "Subject": claims.subject,
                                "Issuer": claims.issuer,
                                "ClientIds": claims.audience,
                                "ExpirationTime": imageshare_core::time::format_iso8601(claims.expires_unix),
                                "IssuanceTime": claims.issued_unix.map(imageshare_core::time::format_iso8601),
                            });
                            body
                        })
                }
            }
            ("GetCallerIdentity", Some(_)) => Ok(identity(caller)),
            (action, _) => {
                return not_found_action(action).reply(
                    call.request_id,
                    &host_of(call.wire),
                    PRODUCT,
                )
            }
        };
        drop(engine);
        match result {
            Ok(body) => ok(body, call.request_id),
            Err(e) => reply(&e, call),
        }
    }

    fn fault_reply(&self, call: &Call<'_>, kind: FaultKind) -> Reply {
        super::Alibaba.fault_reply(call, kind)
    }
}
