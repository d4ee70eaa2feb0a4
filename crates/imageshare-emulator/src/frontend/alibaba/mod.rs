//! Alibaba Cloud OpenAPI front-end (ECS 2014-05-26, SWAS-OPEN 2020-06-01, Resource
//! Sharing 2020-01-10): RPC v1 and
//! ACS3 authentication, the `{RequestId, HostId, Code, Message, Recommend}` error
//! envelope, throttling and server-error answers.
//!
//! Layout: this module holds the gateway (recognition, envelopes, the wording of refused
//! parameters, routing to a product); `auth` checks signatures, keys, timestamps and
//! nonces; `ecs`, `sas` and `resource_sharing` hold each product's actions, codes and
//! shapes; `sas_to_ecs`
//! holds the link of a SAS image shared to ECS.

mod auth;
mod ecs;
pub mod resource_sharing;
mod sas;
mod sas_to_ecs;
pub mod sts;

use imageshare_alibaba::signer::acs3;
use imageshare_core::Provider;
use serde_json::{json, Value};

use super::params::{first, FlatLists, ParamError, Params};
use super::{Call, Caller, Frontend, Surface};
use crate::faults::FaultKind;
use crate::server::{Reply, WireRequest};
use auth::{authenticate_acs3, authenticate_rpc};

pub use sas_to_ecs::{sas_to_ecs_key, SAS_TO_ECS_OWNER, SAS_TO_ECS_SUFFIX};

/// ECS API version.
pub const ECS_VERSION: &str = "2014-05-26";
/// SWAS-OPEN API version.
pub const SAS_VERSION: &str = "2020-06-01";
/// Largest clock skew accepted for `Timestamp` / `x-acs-date` (the V3 doc's 15 minutes;
/// the V2 doc now says 31, older texts 15: the stricter value keeps clients honest).
pub const MAX_SKEW_SECS: u64 = 15 * 60;

/// The product an API version belongs to (Resource Sharing counts as its own provider,
/// [`resource_sharing::ALIBABA_RESOURCE_SHARING`], in the call log and fault rules).
#[must_use]
pub fn product(version: &str) -> Option<Provider> {
    match version {
        ECS_VERSION => Some(imageshare_alibaba::ECS),
        SAS_VERSION => Some(imageshare_alibaba::SAS),
        resource_sharing::RESOURCE_SHARING_VERSION => {
            Some(resource_sharing::ALIBABA_RESOURCE_SHARING)
        }
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
    #[must_use]
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
    let product = match wire.header("x-acs-version").or_else(|| {
        wire.query
            .iter()
            .find(|(k, _)| k == "Version")
            .map(|(_, v)| v.as_str())
    }) {
        Some(SAS_VERSION) => "swas-open",
        Some(resource_sharing::RESOURCE_SHARING_VERSION) => resource_sharing::PRODUCT,
        _ => "Ecs",
    };
    e.reply(request_id, &host_of(wire), product)
}

/// A successful JSON answer: `body` with `RequestId` added.
#[must_use]
pub fn ok(mut body: Value, request_id: &str) -> Reply {
    if let Value::Object(m) = &mut body {
        m.insert("RequestId".into(), Value::String(request_id.to_owned()));
    }
    Reply::json(200, &body, None)
}

/// Which signature style an Alibaba request uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlibabaStyle {
    /// RPC signature v1 (HMAC-SHA1) in the parameters.
    RpcV1,
    /// ACS3-HMAC-SHA256 in the `Authorization` header.
    Acs3,
}

/// The signature style of a request, `None` when it is not an Alibaba request. The official
/// Tea SDK's V2 path sends `x-acs-action` / `x-acs-version` headers too, but signs RPC v1
/// style: no ACS3 Authorization, `Signature` + `SignatureMethod` in the parameters. Only
/// the signature decides the style.
pub fn style(wire: &WireRequest) -> Option<AlibabaStyle> {
    let params = wire.params();
    let has = |name: &str| first(params, name).is_some();
    let auth = wire.header("authorization").unwrap_or("");
    let rpc_signed = has("Signature") && has("SignatureMethod");
    if auth.starts_with(acs3::ALGORITHM) || (wire.header("x-acs-action").is_some() && !rpc_signed) {
        return Some(AlibabaStyle::Acs3);
    }
    let rpc = has("Action") && has("Version") && (has("AccessKeyId") || has("SignatureMethod"));
    rpc.then_some(AlibabaStyle::RpcV1)
}

/// The Alibaba Cloud OpenAPI front-end (ECS and SWAS-OPEN on one gateway).
pub(crate) struct Alibaba;

impl Frontend for Alibaba {
    fn classify(&self, wire: &WireRequest) -> Option<Surface> {
        let (version, action) = match style(wire)? {
            AlibabaStyle::Acs3 => (wire.header("x-acs-version"), wire.header("x-acs-action")),
            AlibabaStyle::RpcV1 => (
                first(wire.params(), "Version"),
                first(wire.params(), "Action"),
            ),
        };
        let version = version.unwrap_or("").to_owned();
        let product = product(&version);
        Some(Surface {
            provider: product.unwrap_or(imageshare_alibaba::ECS),
            product,
            action: action.unwrap_or("").to_owned(),
            version,
        })
    }

    fn authenticate(&self, call: &Call<'_>) -> Result<Caller, Reply> {
        let (shared, wire) = (call.shared, call.wire);
        match style(wire) {
            Some(AlibabaStyle::Acs3) => authenticate_acs3(shared, wire),
            _ => authenticate_rpc(shared, wire),
        }
        .map_err(|e| error_reply(e, wire, call.request_id))
    }

    fn dispatch(&self, call: &Call<'_>, caller: &Caller) -> Reply {
        // ECS and SWAS requests are always signed: `authenticate` never lets one through
        // without an account.
        let Some(caller) = caller.account.as_ref() else {
            return error_reply(missing("AccessKeyId"), call.wire, call.request_id);
        };
        let Surface {
            product,
            version,
            action,
            ..
        } = call.surface;
        let params = Params::flat(call.wire.params(), LISTS);
        let (result, product_code) = match product {
            Some(imageshare_alibaba::ECS) => (
                ecs::action(&mut call.shared.engine(), action, params, caller),
                "Ecs",
            ),
            Some(imageshare_alibaba::SAS) => (
                sas::action(&mut call.shared.engine(), action, params, caller),
                "swas-open",
            ),
            Some(resource_sharing::ALIBABA_RESOURCE_SHARING) => (
                resource_sharing::action(&mut call.shared.engine(), action, params, caller),
                resource_sharing::PRODUCT,
            ),
            _ => (
                Err(AliError::new(
                    400,
                    "InvalidVersion",
                    format!("Specified parameter Version {version:?} is not valid."),
                )),
                "Ecs",
            ),
        };
        match result {
            Ok(body) => ok(body, call.request_id),
            Err(e) => e.reply(call.request_id, &host_of(call.wire), product_code),
        }
    }

    fn fault_reply(&self, call: &Call<'_>, kind: FaultKind) -> Reply {
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
        let mut reply = e.reply(call.request_id, "ecs.aliyuncs.com", "Ecs");
        if kind == FaultKind::Throttle {
            // The gateway's hint, in milliseconds, which the official SDK (and the
            // imageshare client) sleep before the next attempt.
            reply.headers.push((
                "x-acs-retry-after".into(),
                THROTTLE_RETRY_AFTER_MS.to_string(),
            ));
        }
        reply
    }
}

/// The `x-acs-retry-after` (milliseconds) sent with an injected throttling answer: the
/// length of the one-second window of the emulated QPS quota.
pub const THROTTLE_RETRY_AFTER_MS: u64 = 1000;

/// `InvalidAction.NotFound`.
fn not_found_action(action: &str) -> AliError {
    AliError::new(
        404,
        "InvalidAction.NotFound",
        format!("Specified api {action:?} is not found, please check your url and method."),
    )
}

/// How Alibaba's SDKs number a repeat list: `Name.1`, `Name.2`, ... (an empty entry is
/// still an entry).
const LISTS: FlatLists = FlatLists {
    first_index: 1,
    keep_empty: true,
};

/// `MissingParameter`.
fn missing(name: &str) -> AliError {
    AliError::new(
        400,
        "MissingParameter",
        format!(
            "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
        ),
    )
}

/// `InvalidParameter` for a value.
fn invalid_parameter(name: &str, value: &str) -> AliError {
    AliError::new(
        400,
        "InvalidParameter",
        format!("The specified parameter \"{name}\" is not valid: {value:?}."),
    )
}

impl From<ParamError> for AliError {
    fn from(e: ParamError) -> Self {
        match e {
            ParamError::Missing { name } => missing(&name),
            ParamError::OutOfRange {
                name,
                value,
                min,
                max: Some(max),
            } => AliError::new(
                400,
                "InvalidParameter",
                format!(
                    "The specified parameter \"{name}\" {value:?} must be between {min} and {max}."
                ),
            ),
            ParamError::Malformed { name, value, .. }
            | ParamError::Negative { name, value }
            | ParamError::OutOfRange { name, value, .. }
            | ParamError::BadIndex { key: name, value } => invalid_parameter(&name, &value),
        }
    }
}

/// An account id as the JSON number the SDK models expect (`ImageOwnerId`, `UserId` are
/// longs), or the string when it is not numeric.
fn account_json(id: &str) -> Value {
    id.parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(id))
}
