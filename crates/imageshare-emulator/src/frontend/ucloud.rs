//! UCloud API front-end: the SHA1 parameter signature, the `RetCode` envelope (HTTP 200),
//! throttling (RetCode 153) and project selection (`ProjectId`).
//!
//! UCloud publishes no API action for project sharing; the sharing actions this front-end
//! serves are imageshare's own names (see the `imageshare-ucloud` crate docs).

use imageshare_core::Secret;
use imageshare_ucloud::signer::{flatten, verify_with};
use serde_json::{json, Value};

use crate::faults::FaultKind;
use crate::server::{Reply, Shared, WireRequest};
use crate::world::Account;

/// The request parameters, from a form body, a JSON body or the query string.
pub fn params(wire: &WireRequest) -> Option<Vec<(String, String)>> {
    let ct = wire.content_type();
    if ct == "application/json" {
        let v: Value = serde_json::from_slice(&wire.body).ok()?;
        return flatten(&v).ok();
    }
    let p = wire.params();
    if p.is_empty() {
        None
    } else {
        Some(p)
    }
}

/// A UCloud error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UcError {
    /// RetCode.
    pub ret_code: u32,
    /// Message.
    pub message: String,
}

impl UcError {
    /// An error with this RetCode and message.
    pub fn new(ret_code: u32, message: impl Into<String>) -> Self {
        Self {
            ret_code,
            message: message.into(),
        }
    }
    /// The error envelope (HTTP 200).
    pub fn reply(&self, action: &str, request_id: &str) -> Reply {
        let body = json!({
            "Action": format!("{action}Response"),
            "RetCode": self.ret_code,
            "Message": self.message,
        });
        with_uuid(
            Reply::json(200, &body, Some(self.ret_code.to_string())),
            request_id,
        )
    }
}

fn with_uuid(mut r: Reply, request_id: &str) -> Reply {
    r.headers
        .push(("x-ucloud-request-uuid".into(), request_id.to_owned()));
    r
}

/// A successful answer: `body` with `Action` and `RetCode: 0`.
pub fn ok(mut body: Value, action: &str, request_id: &str) -> Reply {
    if let Value::Object(m) = &mut body {
        m.insert("Action".into(), Value::String(format!("{action}Response")));
        m.insert("RetCode".into(), json!(0));
    }
    with_uuid(Reply::json(200, &body, None), request_id)
}

/// Authenticates a request by its `PublicKey` and `Signature`.
pub(crate) fn authenticate(
    shared: &Shared,
    wire: &WireRequest,
    request_id: &str,
) -> Result<Account, Reply> {
    let params = params(wire).unwrap_or_default();
    let action = super::param(&params, "Action").unwrap_or("").to_owned();
    if action.is_empty() {
        return Err(UcError::new(160, "Missing Action").reply("", request_id));
    }
    let engine = shared.engine();
    let world = engine.world();
    let public = verify_with(&params, |pk| {
        world
            .account_by_ucloud_key(pk)
            .and_then(|a| a.keys.ucloud.as_ref())
            .map(|k| Secret::new(k.private.clone()))
    })
    .map_err(|e| UcError::new(e.ret_code(), e.message()).reply(&action, request_id))?;
    Ok(world
        .account_by_ucloud_key(&public)
        .cloned()
        .expect("verified against this key"))
}

/// The answer to an injected fault.
pub fn fault_reply(action: &str, kind: FaultKind, request_id: &str) -> Reply {
    match kind {
        FaultKind::Throttle => UcError::new(153, "API request throttled").reply(action, request_id),
        _ => with_uuid(
            Reply {
                status: 503,
                headers: vec![("content-type".into(), "text/plain".into())],
                body: b"Service Temporarily Unavailable".to_vec(),
                code: Some("HTTP503".into()),
            },
            request_id,
        ),
    }
}

/// Answers an authenticated request.
pub(crate) fn dispatch(
    shared: &Shared,
    action: &str,
    wire: &WireRequest,
    caller: &Account,
    request_id: &str,
) -> Reply {
    let params = params(wire).unwrap_or_default();
    let project = match super::param(&params, "ProjectId") {
        Some(p) if !p.is_empty() => p.to_owned(),
        _ => match caller.projects.first() {
            Some(p) => p.clone(),
            None => {
                return UcError::new(292, "Project not exists").reply(action, request_id);
            }
        },
    };
    if !caller.projects.contains(&project) {
        return UcError::new(292, format!("Project {project} not exists"))
            .reply(action, request_id);
    }
    match uhost_action(shared, action, &params, &project, caller) {
        Ok(v) => ok(v, action, request_id),
        Err(e) => e.reply(action, request_id),
    }
}

fn uhost_action(
    _shared: &Shared,
    action: &str,
    _params: &[(String, String)],
    _project: &str,
    _caller: &Account,
) -> Result<Value, UcError> {
    Err(UcError::new(161, format!("Action {action} not exist")))
}
