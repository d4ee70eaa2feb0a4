//! Tencent Cloud STS (service `sts`, Version `2018-08-13`) on the emulator's one address:
//! `AssumeRole`, `AssumeRoleWithWebIdentity`, `GetCallerIdentity`. Requests are recognised
//! by their TC3 credential scope's service `sts`, or, unsigned, by `Authorization: SKIP`
//! with `X-TC-Version: 2018-08-13`.
//!
//! Sources of the wire names:
//! - requests: tencentcloud-sdk-python-common 3.1.195 `tencentcloud/common/credential.py`
//!   (`STSAssumeRoleCredential.get_sts_tmp_role_arn`: TC3-signed `AssumeRole` with
//!   `RoleArn`, `RoleSessionName`, `DurationSeconds`; `OIDCRoleArnCredential.refresh`:
//!   `AssumeRoleWithWebIdentity` with `ProviderId`, `WebIdentityToken`, `RoleArn`,
//!   `RoleSessionName`, `DurationSeconds` and `options = {'SkipSign': True}`) and
//!   `tencentcloud/common/abstract_client.py` (the unsigned request carries
//!   `Authorization: SKIP`, `X-TC-Action`, `X-TC-Version`, `X-TC-Timestamp`,
//!   `X-TC-Region`);
//! - answers: the same providers read `Response.Credentials.{Token, TmpSecretId,
//!   TmpSecretKey}` and `Response.ExpiredTime` (unix seconds); the SDK models
//!   (`tencentcloud/sts/v20180813/models.py`) add `Expiration` (ISO 8601) and name
//!   `GetCallerIdentity`'s `Arn, AccountId, UserId, PrincipalId, Type`;
//! - codes: `tencentcloud/sts/v20180813/errorcodes.py` and the per-action lists in
//!   tencentcloud-sdk-go `tencentcloud/sts/v20180813/client.go` (AssumeRole:
//!   `ResourceNotFound.RoleNotFound`, `UnauthorizedOperation`,
//!   `InvalidParameter.OverTimeError`, `InvalidParameter.ParamError`;
//!   AssumeRoleWithWebIdentity: `InvalidParameter.WebIdentityTokenError`). Which code the
//!   real STS picks for an untrusted caller, a wrong ExternalId or an unknown ProviderId is
//!   UNCONFIRMED (the emulator answers `UnauthorizedOperation`, `UnauthorizedOperation`,
//!   `InvalidParameter.ParamError`), and so are the `Type` values of GetCallerIdentity
//!   (`RootAccount`, `AssumedRole`) and its assumed-role ARN form.
//!
//! `X-TC-Region` is not checked (STS is a global endpoint).

use imageshare_core::Provider;
use imageshare_tencent::signer::scope_from_authorization;
use serde_json::{json, Value};

use super::{authenticate_tc3, invalid_action, missing, ok, request_params, TcError};
use crate::engine::{AssumeRole, Session, StsError};
use crate::faults::FaultKind;
use crate::frontend::{Call, Caller, Frontend, Surface};
use crate::server::{Reply, WireRequest};
use crate::world::Cloud;

/// The STS API version.
pub const STS_VERSION: &str = "2018-08-13";
/// The provider STS calls count for in the call log and fault rules.
pub const TENCENT_STS: Provider = Provider::new("tencent-sts");
/// The anonymous action.
pub const ASSUME_ROLE_WITH_WEB_IDENTITY: &str = "AssumeRoleWithWebIdentity";

/// The Tencent STS front-end.
pub(crate) struct TencentSts;

/// An engine refusal in Tencent STS's codes.
fn to_tc(e: &StsError) -> TcError {
    let param = |m: String| TcError::new("InvalidParameter.ParamError", m);
    let token = |m: &str| TcError::new("InvalidParameter.WebIdentityTokenError", m);
    match e {
        StsError::Missing(name) => missing(name),
        StsError::MalformedArn(arn) => param(format!("RoleArn `{arn}` is malformed.")),
        StsError::RoleNotFound(arn) => TcError::new(
            "ResourceNotFound.RoleNotFound",
            format!("The role `{arn}` does not exist."),
        ),
        StsError::NotTrusted { .. } => TcError::new(
            "UnauthorizedOperation",
            "The role's trust policy does not allow this principal to assume it.",
        ),
        StsError::ExternalIdMismatch => TcError::new(
            "UnauthorizedOperation",
            "ExternalId does not match the role's trust policy.",
        ),
        StsError::Duration { value, max, .. } if value.parse::<u64>().is_ok_and(|v| v > *max) => {
            TcError::new(
                "InvalidParameter.OverTimeError",
                format!("DurationSeconds {value} exceeds the role's maximum {max}."),
            )
        }
        StsError::Duration { value, .. } => param(format!("DurationSeconds `{value}` is invalid.")),
        StsError::SessionName(name) => param(format!("RoleSessionName `{name}` is invalid.")),
        StsError::ProviderNotFound(id) => param(format!("ProviderId `{id}` does not exist.")),
        StsError::TokenMalformed(why) => token(&format!("WebIdentityToken is malformed: {why}.")),
        StsError::IssuerMismatch => token("WebIdentityToken issuer does not match the provider."),
        StsError::AudienceMismatch => {
            token("WebIdentityToken audience does not match the provider.")
        }
        StsError::TokenExpired => token("WebIdentityToken is expired."),
    }
}

/// The answer of AssumeRole / AssumeRoleWithWebIdentity.
fn issued(session: &Session) -> Value {
    json!({
        "Credentials": {
            "Token": session.token.expose(),
            "TmpSecretId": session.access_key_id,
            "TmpSecretKey": session.secret.expose(),
        },
        "ExpiredTime": session.expires_unix,
        "Expiration": session.expiration_iso(),
    })
}

/// `GetCallerIdentity` of `caller`.
fn identity(caller: &Caller) -> Value {
    let account = caller.account.as_ref().map(|a| a.id.as_str()).unwrap_or("");
    match &caller.session {
        Some(s) => json!({
            "Arn": format!("qcs::sts:{account}:assumed-role/{}/{}", s.role_id, s.session_name),
            "AccountId": account,
            "UserId": format!("{}:{}", s.role_id, s.session_name),
            "PrincipalId": account,
            "Type": "AssumedRole",
        }),
        None => json!({
            "Arn": format!("qcs::cam::uin/{account}:uin/{account}"),
            "AccountId": account,
            "UserId": account,
            "PrincipalId": account,
            "Type": "RootAccount",
        }),
    }
}

/// A parameter as text (`DurationSeconds` is a JSON number, or text in a form body).
fn text(body: &Value, name: &str) -> Option<String> {
    match body.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Frontend for TencentSts {
    fn classify(&self, wire: &WireRequest) -> Option<Surface> {
        let action = wire.header("x-tc-action")?;
        let auth = wire.header("authorization").unwrap_or("");
        let version = wire.header("x-tc-version").unwrap_or("");
        let signed_sts = scope_from_authorization(auth)
            .is_ok_and(|(_, scope)| super::endpoint::effective_service(wire, &scope) == "sts");
        let unsigned_sts = auth == "SKIP" && version == STS_VERSION;
        (signed_sts || unsigned_sts).then(|| Surface {
            provider: TENCENT_STS,
            product: Some(TENCENT_STS),
            action: action.to_owned(),
            version: version.to_owned(),
        })
    }

    /// AssumeRoleWithWebIdentity is anonymous (the official providers send it with
    /// `Authorization: SKIP`); every other action is TC3-authenticated.
    fn authenticate(&self, call: &Call<'_>) -> Result<Caller, Reply> {
        if call.surface.action == ASSUME_ROLE_WITH_WEB_IDENTITY {
            return Ok(Caller::anonymous());
        }
        authenticate_tc3(call)
    }

    fn dispatch(&self, call: &Call<'_>, caller: &Caller) -> Reply {
        let _span = tracing::info_span!("tencent_sts", action = %call.surface.action).entered();
        let request_id = call.request_id;
        if call.surface.version != STS_VERSION {
            return TcError::new(
                "NoSuchVersion",
                format!(
                    "The requested version {:?} does not exist.",
                    call.surface.version
                ),
            )
            .reply(request_id);
        }
        let body = match request_params(call.wire) {
            Ok(v) => v,
            Err(e) => return e.reply(request_id),
        };
        let (arn, name) = (
            text(&body, "RoleArn").unwrap_or_default(),
            text(&body, "RoleSessionName").unwrap_or_default(),
        );
        let (duration, external_id) = (text(&body, "DurationSeconds"), text(&body, "ExternalId"));
        let req = AssumeRole {
            role_arn: &arn,
            session_name: &name,
            duration: duration.as_deref(),
            external_id: external_id.as_deref(),
        };
        let caller_id = caller.account.as_ref().map(|a| a.id.as_str());
        let mut engine = call.shared.engine();
        let result = match (call.surface.action.as_str(), caller_id) {
            ("AssumeRole", Some(id)) => engine
                .assume_role(Cloud::Tencent, id, &req)
                .map(|s| issued(&s)),
            (ASSUME_ROLE_WITH_WEB_IDENTITY, _) => {
                let provider = text(&body, "ProviderId").unwrap_or_default();
                let token = text(&body, "WebIdentityToken").unwrap_or_default();
                if provider.is_empty() {
                    Err(StsError::Missing("ProviderId"))
                } else if token.is_empty() {
                    Err(StsError::Missing("WebIdentityToken"))
                } else {
                    engine
                        .assume_role_with_oidc(Cloud::Tencent, &provider, &token, &req)
                        .map(|(s, _)| issued(&s))
                }
            }
            ("GetCallerIdentity", Some(_)) => Ok(identity(caller)),
            (action, _) => return invalid_action(action).reply(request_id),
        };
        drop(engine);
        match result {
            Ok(v) => ok(v, request_id),
            Err(e) => to_tc(&e).reply(request_id),
        }
    }

    fn fault_reply(&self, call: &Call<'_>, kind: FaultKind) -> Reply {
        super::Tencent.fault_reply(call, kind)
    }
}
