//! Alibaba authentication: RPC signature v1 and ACS3-HMAC-SHA256, the access key, the
//! timestamp window, the STS token and the nonce, each refused with the gateway's code and
//! status.

use imageshare_alibaba::signer::{acs3, rpc_v1};
use imageshare_core::{time, Secret};

use super::{missing, AliError, MAX_SKEW_SECS};
use crate::frontend::params::first;
use crate::server::{Shared, WireRequest};
use crate::world::Account;

fn lookup(shared: &Shared, key_id: &str) -> Result<(Account, Secret, Option<String>), AliError> {
    let engine = shared.engine();
    let account = engine
        .world()
        .account_by_alibaba_key(key_id)
        .cloned()
        .ok_or_else(|| {
            AliError::new(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            )
        })?;
    let key = account.keys.alibaba.clone().expect("looked up by this key");
    Ok((account, Secret::new(key.secret), key.token))
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
pub(super) fn authenticate_rpc(shared: &Shared, wire: &WireRequest) -> Result<Account, AliError> {
    let params = wire.params();
    let get = |n: &str| first(params, n);
    let key_id = get("AccessKeyId").ok_or_else(|| missing("AccessKeyId"))?;
    let (account, secret, token) = lookup(shared, key_id)?;
    check_time(get("Timestamp").or_else(|| get("TimeStamp")))?;
    rpc_v1::verify(&wire.method, params, &secret)
        .map_err(|e| AliError::new(e.http_status(), e.code(), e.to_string()))?;
    check_token(token.as_deref(), get("SecurityToken"))?;
    let nonce = get("SignatureNonce").ok_or_else(|| missing("SignatureNonce"))?;
    if !shared.fresh_nonce(key_id, nonce) {
        return Err(used_nonce());
    }
    Ok(account)
}

/// An ACS3 request: the `Authorization` header and the `x-acs-*` headers.
pub(super) fn authenticate_acs3(shared: &Shared, wire: &WireRequest) -> Result<Account, AliError> {
    let received = acs3::ReceivedRequest {
        method: &wire.method,
        path: &wire.path,
        query: &wire.query,
        headers: &wire.headers,
        body: &wire.body,
    };
    let auth = acs3::authorization_of(&received)
        .map_err(|e| AliError::new(e.http_status(), e.code(), e.to_string()))?;
    let (account, secret, token) = lookup(shared, &auth.access_key_id)?;
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
    Ok(account)
}
