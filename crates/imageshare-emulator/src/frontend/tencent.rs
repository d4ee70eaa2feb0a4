//! Tencent Cloud API 3.0 front-end (CVM 2017-03-12, Lighthouse 2020-03-24): TC3
//! authentication and the `{"Response": {..., "RequestId"}}` envelope. API errors are
//! answered with HTTP 200 and `Response.Error`, as Tencent does.

use imageshare_core::{time, Provider, Secret};
use imageshare_tencent::signer::{scope_from_authorization, ReceivedRequest, Tc3Verifier};
use serde_json::{json, Value};

use super::Surface;
use crate::faults::FaultKind;
use crate::server::{Reply, Shared, WireRequest};
use crate::world::Account;

/// CVM API version.
pub const CVM_VERSION: &str = "2017-03-12";
/// Lighthouse API version.
pub const LIGHTHOUSE_VERSION: &str = "2020-03-24";

/// A Tencent error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcError {
    /// Error code, verbatim.
    pub code: String,
    /// Message.
    pub message: String,
}

impl TcError {
    /// An error with this code and message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }
    /// The error envelope (HTTP 200).
    pub fn reply(&self, request_id: &str) -> Reply {
        self.reply_with_status(200, request_id)
    }
    fn reply_with_status(&self, status: u16, request_id: &str) -> Reply {
        let body = json!({"Response": {
            "Error": {"Code": self.code, "Message": self.message},
            "RequestId": request_id,
        }});
        Reply::json(status, &body, Some(self.code.clone()))
    }
}

/// A successful answer: `body` inside `Response`, with `RequestId`.
pub fn ok(mut body: Value, request_id: &str) -> Reply {
    if let Value::Object(m) = &mut body {
        m.insert("RequestId".into(), Value::String(request_id.to_owned()));
    }
    Reply::json(200, &json!({ "Response": body }), None)
}

/// Authenticates a TC3-HMAC-SHA256 request.
pub(crate) fn authenticate(
    shared: &Shared,
    surface: &Surface,
    wire: &WireRequest,
    request_id: &str,
) -> Result<Account, Reply> {
    let fail = |e: TcError| e.reply(request_id);
    let auth = wire.header("authorization").unwrap_or("");
    let (secret_id, _service) =
        scope_from_authorization(auth).map_err(|e| fail(TcError::new(e.code(), e.to_string())))?;
    let (account, key) = {
        let engine = shared.engine();
        let Some(account) = engine.world().account_by_tencent_key(&secret_id).cloned() else {
            return Err(fail(TcError::new(
                "AuthFailure.SecretIdNotFound",
                "The SecretId is not found, please ensure that your SecretId is correct.",
            )));
        };
        let key = account.keys.tencent.clone().expect("looked up by this key");
        (account, key)
    };
    let received = ReceivedRequest::new(&wire.method, &wire.path, &wire.raw_query, &wire.body)
        .headers(wire.headers.iter().cloned());
    let service = match surface {
        Surface::Tencent { service, .. } => service.clone(),
        _ => String::new(),
    };
    Tc3Verifier::new()
        .expected_service(service)
        .now(time::now_unix())
        .verify(&received, &Secret::new(key.secret))
        .map_err(|e| fail(TcError::new(e.code(), e.to_string())))?;
    if let Some(expected) = key.token.as_deref() {
        if wire.header("x-tc-token") != Some(expected) {
            return Err(fail(TcError::new(
                "AuthFailure.TokenFailure",
                "Token verification failed.",
            )));
        }
    }
    Ok(account)
}

/// The answer to an injected fault.
pub fn fault_reply(kind: FaultKind, request_id: &str) -> Reply {
    match kind {
        FaultKind::Throttle => TcError::new(
            "RequestLimitExceeded",
            "Your current request times exceeds the frequency limit for a second. Please reduce the frequency of calls.",
        )
        .reply(request_id),
        _ => TcError::new("InternalError", "An internal error occurred. Please retry.")
            .reply_with_status(500, request_id),
    }
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
    let expected = match product {
        Some(Provider::TencentCvm) => CVM_VERSION,
        Some(Provider::TencentLighthouse) => LIGHTHOUSE_VERSION,
        _ => {
            return TcError::new(
                "NoSuchProduct",
                "The product in the credential scope is not served here.",
            )
            .reply(request_id)
        }
    };
    if version != expected {
        return TcError::new(
            "NoSuchVersion",
            format!("The requested version {version:?} does not exist."),
        )
        .reply(request_id);
    }
    let body: Value = if wire.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&wire.body) {
            Ok(v) => v,
            Err(e) => {
                return TcError::new(
                    "InvalidParameter",
                    format!("The request body is not JSON: {e}"),
                )
                .reply(request_id)
            }
        }
    };
    let region = wire.header("x-tc-region").unwrap_or("").to_owned();
    let result = match product {
        Some(Provider::TencentCvm) => cvm_action(shared, action, &body, &region, caller),
        _ => lighthouse_action(shared, action, &body, &region, caller),
    };
    match result {
        Ok(v) => ok(v, request_id),
        Err(e) => e.reply(request_id),
    }
}

fn invalid_action(action: &str) -> TcError {
    TcError::new(
        "InvalidAction",
        format!("The requested action {action:?} does not exist."),
    )
}

fn cvm_action(
    _shared: &Shared,
    action: &str,
    _body: &Value,
    _region: &str,
    _caller: &Account,
) -> Result<Value, TcError> {
    Err(invalid_action(action))
}

fn lighthouse_action(
    _shared: &Shared,
    action: &str,
    _body: &Value,
    _region: &str,
    _caller: &Account,
) -> Result<Value, TcError> {
    Err(invalid_action(action))
}
