//! Alibaba Cloud OpenAPI front-end (ECS 2014-05-26, SWAS-OPEN 2020-06-01): RPC v1 and
//! ACS3 authentication, the `{RequestId, HostId, Code, Message, Recommend}` error
//! envelope, throttling and server-error answers.

use imageshare_alibaba::signer::{acs3, rpc_v1};
use imageshare_core::{time, Provider, Secret};
use serde_json::{json, Value};

use super::AlibabaStyle;
use crate::faults::FaultKind;
use crate::server::{Reply, Shared, WireRequest};
use crate::world::Account;

/// ECS API version.
pub const ECS_VERSION: &str = "2014-05-26";
/// SWAS-OPEN API version.
pub const SAS_VERSION: &str = "2020-06-01";
/// Largest clock skew accepted for `Timestamp` / `x-acs-date` (the V3 doc's 15 minutes;
/// the V2 doc now says 31, older texts 15: the stricter value keeps clients honest).
pub const MAX_SKEW_SECS: u64 = 15 * 60;

/// The product an API version belongs to.
pub fn product(version: &str) -> Option<Provider> {
    match version {
        ECS_VERSION => Some(Provider::AlibabaEcs),
        SAS_VERSION => Some(Provider::AlibabaSas),
        _ => None,
    }
}

/// An Alibaba error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliError {
    /// HTTP status.
    pub status: u16,
    /// Error code, verbatim.
    pub code: String,
    /// Message.
    pub message: String,
}

impl AliError {
    /// An error with this status, code and message.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }
    /// The JSON error envelope.
    pub fn reply(&self, request_id: &str, host: &str, product_code: &str) -> Reply {
        let body = json!({
            "RequestId": request_id,
            "HostId": host,
            "Code": self.code,
            "Message": self.message,
            "Recommend": format!(
                "https://api.aliyun.com/troubleshoot?q={}&product={}&requestId={}",
                self.code, product_code, request_id
            ),
        });
        Reply::json(self.status, &body, Some(self.code.clone()))
    }
}

fn host_of(wire: &WireRequest) -> String {
    wire.header("host").unwrap_or("ecs.aliyuncs.com").to_owned()
}

fn error_reply(e: AliError, wire: &WireRequest, request_id: &str) -> Reply {
    e.reply(request_id, &host_of(wire), "Ecs")
}

/// A successful JSON answer: `body` with `RequestId` added.
pub fn ok(mut body: Value, request_id: &str) -> Reply {
    if let Value::Object(m) = &mut body {
        m.insert("RequestId".into(), Value::String(request_id.to_owned()));
    }
    Reply::json(200, &body, None)
}

/// Authenticates an RPC v1 or ACS3 request.
pub(crate) fn authenticate(
    shared: &Shared,
    style: AlibabaStyle,
    wire: &WireRequest,
    request_id: &str,
) -> Result<Account, Reply> {
    let fail = |e: AliError| error_reply(e, wire, request_id);
    match style {
        AlibabaStyle::RpcV1 => authenticate_rpc(shared, wire).map_err(fail),
        AlibabaStyle::Acs3 => authenticate_acs3(shared, wire).map_err(fail),
    }
}

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
        return Err(AliError::new(
            400,
            "MissingParameter",
            "The input parameter \"Timestamp\" that is mandatory for processing this request is not supplied.",
        ));
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

fn authenticate_rpc(shared: &Shared, wire: &WireRequest) -> Result<Account, AliError> {
    let params = wire.params();
    let get = |n: &str| super::param(&params, n);
    let key_id = get("AccessKeyId").ok_or_else(|| {
        AliError::new(
            400,
            "MissingParameter",
            "The input parameter \"AccessKeyId\" that is mandatory for processing this request is not supplied.",
        )
    })?;
    let (account, secret, token) = lookup(shared, key_id)?;
    check_time(get("Timestamp").or_else(|| get("TimeStamp")))?;
    rpc_v1::verify(&wire.method, &params, &secret)
        .map_err(|e| AliError::new(e.http_status(), e.code(), e.to_string()))?;
    check_token(token.as_deref(), get("SecurityToken"))?;
    let nonce = get("SignatureNonce").ok_or_else(|| {
        AliError::new(
            400,
            "MissingParameter",
            "The input parameter \"SignatureNonce\" that is mandatory for processing this request is not supplied.",
        )
    })?;
    if !shared.fresh_nonce(key_id, nonce) {
        return Err(used_nonce());
    }
    Ok(account)
}

fn authenticate_acs3(shared: &Shared, wire: &WireRequest) -> Result<Account, AliError> {
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
    let nonce = wire.header("x-acs-signature-nonce").ok_or_else(|| {
        AliError::new(
            400,
            "MissingParameter",
            "The input parameter \"x-acs-signature-nonce\" that is mandatory for processing this request is not supplied.",
        )
    })?;
    if !shared.fresh_nonce(&auth.access_key_id, nonce) {
        return Err(used_nonce());
    }
    Ok(account)
}

/// The answer to an injected fault.
pub fn fault_reply(kind: FaultKind, request_id: &str) -> Reply {
    let e = match kind {
        FaultKind::Throttle => AliError::new(
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
        ),
        _ => AliError::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        ),
    };
    e.reply(request_id, "ecs.aliyuncs.com", "Ecs")
}

/// Answers an authenticated request.
pub(crate) fn dispatch(
    shared: &Shared,
    product: Option<Provider>,
    version: &str,
    action: &str,
    wire: &WireRequest,
    caller: &Account,
    request_id: &str,
) -> Reply {
    let params = wire.params();
    let result = match product {
        Some(Provider::AlibabaEcs) => ecs_action(shared, action, &params, caller),
        Some(Provider::AlibabaSas) => sas_action(shared, action, &params, caller),
        _ => Err(AliError::new(
            400,
            "InvalidVersion",
            format!("Specified parameter Version {version:?} is not valid."),
        )),
    };
    match result {
        Ok(body) => ok(body, request_id),
        Err(e) => error_reply(e, wire, request_id),
    }
}

fn not_found_action(action: &str) -> AliError {
    AliError::new(
        404,
        "InvalidAction.NotFound",
        format!("Specified api {action:?} is not found, please check your url and method."),
    )
}

fn ecs_action(
    _shared: &Shared,
    action: &str,
    _params: &[(String, String)],
    _caller: &Account,
) -> Result<Value, AliError> {
    Err(not_found_action(action))
}

fn sas_action(
    _shared: &Shared,
    action: &str,
    _params: &[(String, String)],
    _caller: &Account,
) -> Result<Value, AliError> {
    Err(not_found_action(action))
}
