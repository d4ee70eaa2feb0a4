//! Alibaba authentication: RPC signature v1 and ACS3-HMAC-SHA256, the access key, the
//! timestamp window, the STS token and the nonce, each refused with the gateway's code and
//! status.
//!
//! Temporary credentials issued by the emulated STS (`STS.` key ids) are accepted with
//! their `SecurityToken` (RPC parameter) or `x-acs-security-token` (ACS3 header), and the
//! request acts as the role's account. Refusals use the gateway's common codes, as listed
//! in Alibaba's "Public" error center and mirrored by terraform-provider-alicloud
//! `alicloud/common_errors.go` (`MissingSecurityToken`, `InvalidSecurityToken.Expired`,
//! `InvalidSecurityToken.Malformed`, `InvalidSecurityToken.MismatchWithAccessKey`); their
//! HTTP status (400) is UNCONFIRMED. Messages follow the STS troubleshooting page
//! (<https://www.alibabacloud.com/help/doc-detail/42775.htm>).

use imageshare_alibaba::signer::{acs3, rpc_v1};
use imageshare_core::{time, Secret};

use super::{missing, AliError, MAX_SKEW_SECS};
use crate::engine::SessionRefusal;
use crate::frontend::params::first;
use crate::frontend::Caller;
use crate::server::{Shared, WireRequest};
use crate::world::Cloud;

/// The key a request names: the caller it acts as, the secret to verify with, and the
/// token it must carry.
struct Found {
    caller: Caller,
    secret: Secret,
    token: Option<String>,
}

fn not_found() -> AliError {
    AliError::new(
        404,
        "InvalidAccessKeyId.NotFound",
        "Specified access key is not found.",
    )
}

/// The cloud's answer to a refused temporary credential.
pub(super) fn session_refused(r: SessionRefusal, token_sent: bool) -> AliError {
    match r {
        SessionRefusal::Expired => AliError::new(
            400,
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired.",
        ),
        SessionRefusal::MissingToken => AliError::new(
            400,
            "MissingSecurityToken",
            "SecurityToken is mandatory for this action.",
        ),
        SessionRefusal::TokenOfAnotherKey => AliError::new(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        ),
        SessionRefusal::MalformedToken => AliError::new(
            400,
            "InvalidSecurityToken.Malformed",
            "Specified SecurityToken is malformed.",
        ),
        SessionRefusal::UnknownKey if token_sent => AliError::new(
            400,
            "InvalidSecurityToken.Malformed",
            "Specified SecurityToken is malformed.",
        ),
        SessionRefusal::UnknownKey => not_found(),
    }
}

fn lookup(shared: &Shared, key_id: &str, sent_token: Option<&str>) -> Result<Found, AliError> {
    let engine = shared.engine();
    if let Some(account) = engine.world().account_by_alibaba_key(key_id).cloned() {
        let key = account.keys.alibaba.clone().expect("looked up by this key");
        return Ok(Found {
            caller: Caller::key(account),
            secret: Secret::new(key.secret),
            token: key.token,
        });
    }
    let token_sent = sent_token.is_some_and(|t| !t.is_empty());
    if !engine.is_session_key(Cloud::Alibaba, key_id) && !token_sent {
        return Err(not_found());
    }
    let session = engine
        .session_for(Cloud::Alibaba, key_id, sent_token)
        .map_err(|r| session_refused(r, token_sent))?
        .clone();
    let account = engine
        .world()
        .account(&session.account)
        .cloned()
        .ok_or_else(not_found)?;
    Ok(Found {
        secret: session.secret.clone(),
        token: Some(session.token.expose().to_owned()),
        caller: Caller::session(account, session),
    })
}

fn check_time(value: Option<&str>) -> Result<(), AliError> {
    let Some(v) = value else {
        return Err(missing("Timestamp"));
    };
    let t = time::parse_iso8601(v).ok_or_else(|| {
        AliError::new(
            400,
            "IllegalTimestamp",
            format!("The input parameter \"Timestamp\" {v:?} is not in ISO 8601 UTC format (yyyy-MM-ddTHH:mm:ssZ)."),
        )
    })?;
    if time::now_unix().abs_diff(t) > MAX_SKEW_SECS {
        return Err(AliError::new(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    Ok(())
}

fn check_token(expected: Option<&str>, sent: Option<&str>) -> Result<(), AliError> {
    match (expected, sent) {
        (Some(e), Some(s)) if e == s => Ok(()),
        (Some(_), _) => Err(AliError::new(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        )),
        (None, _) => Ok(()),
    }
}

fn used_nonce() -> AliError {
    AliError::new(
        400,
        "SignatureNonceUsed",
        "Specified signature nonce was used already.",
    )
}

/// An RPC v1 request: `AccessKeyId`, `Timestamp`, `Signature`, `SecurityToken`,
/// `SignatureNonce` in the parameters.
pub(super) fn authenticate_rpc(shared: &Shared, wire: &WireRequest) -> Result<Caller, AliError> {
    let params = wire.params();
    let get = |n: &str| first(params, n);
    let key_id = get("AccessKeyId").ok_or_else(|| missing("AccessKeyId"))?;
    let Found {
        caller,
        secret,
        token,
    } = lookup(shared, key_id, get("SecurityToken"))?;
    check_time(get("Timestamp").or_else(|| get("TimeStamp")))?;
    rpc_v1::verify(&wire.method, params, &secret)
        .map_err(|e| AliError::new(e.http_status(), e.code(), e.to_string()))?;
    check_token(token.as_deref(), get("SecurityToken"))?;
    let nonce = get("SignatureNonce").ok_or_else(|| missing("SignatureNonce"))?;
    if !shared.fresh_nonce(key_id, nonce) {
        return Err(used_nonce());
    }
    Ok(caller)
}

/// An ACS3 request: the `Authorization` header and the `x-acs-*` headers.
pub(super) fn authenticate_acs3(shared: &Shared, wire: &WireRequest) -> Result<Caller, AliError> {
    let received = acs3::ReceivedRequest {
        method: &wire.method,
        path: &wire.path,
        query: &wire.query,
        headers: &wire.headers,
        body: &wire.body,
    };
    let auth = acs3::authorization_of(&received)
        .map_err(|e| AliError::new(e.http_status(), e.code(), e.to_string()))?;
    let Found {
        caller,
        secret,
        token,
    } = lookup(
        shared,
        &auth.access_key_id,
        wire.header("x-acs-security-token"),
    )?;
    check_time(wire.header("x-acs-date"))?;
    acs3::verify(&received, &secret)
        .map_err(|e| AliError::new(e.http_status(), e.code(), e.to_string()))?;
    check_token(token.as_deref(), wire.header("x-acs-security-token"))?;
    let nonce = wire
        .header("x-acs-signature-nonce")
        .ok_or_else(|| missing("x-acs-signature-nonce"))?;
    if !shared.fresh_nonce(&auth.access_key_id, nonce) {
        return Err(used_nonce());
    }
    Ok(caller)
}
