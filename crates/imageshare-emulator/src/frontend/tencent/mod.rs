//! Tencent Cloud API 3.0 front-end (CVM 2017-03-12, Lighthouse 2020-03-24): TC3
//! authentication, the `{"Response": {..., "RequestId"}}` envelope, and the image-sharing
//! actions of both services translated to the [`Engine`]. API errors are answered with
//! HTTP 200 and `Response.Error`, as Tencent does; codes are Tencent's own (tencent.md §3).
//!
//! Served actions:
//!
//! | service | action | engine operation |
//! |---|---|---|
//! | CVM | `DescribeImages` | `list` / `image` (filters `image-id`, `image-type`, `image-name`, `platform`; Offset/Limit paging with `TotalCount`) |
//! | CVM | `ModifyImageSharePermission` | `share` / `unshare` |
//! | CVM | `DescribeImageSharePermission` | `sharees` (not paged) |
//! | CVM | `SyncImages` | `copy` per destination region |
//! | CVM | `DeleteImages` | `delete` |
//! | Lighthouse | `DescribeBlueprints` | `list` / `image` |
//! | Lighthouse | `ShareBlueprintAcrossAccounts` / `CancelShareBlueprintAcrossAccounts` | `share` / `unshare` (at most 10 accounts per call) |
//! | Lighthouse | `DescribeBlueprintsShareAcrossAccountInfos` | `sharees`, paged |
//! | Lighthouse | `SyncBlueprint` | `copy` per destination region |
//! | Lighthouse | `DeleteBlueprints` | `delete` |
//! | Lighthouse | `DescribeImagesToShare` | CVM `list` plus the CVM -> Lighthouse eligibility rules |
//! | Lighthouse | `ModifyImageSharePermission` | CVM image -> own Lighthouse blueprint (and back) |
//! | CBS | `DescribeSnapshots` | the snapshots of the caller's CVM images (`Encrypt` from the world's `encrypted`; see [`cbs`]) |
//!
//! Choices where Tencent documents no code for a case (each is the closest documented code
//! of that action): re-sharing a received CVM image and sharing a public one answer
//! `UnauthorizedOperation.ImageNotBelongToAccount`; a CVM SHARE naming an account that
//! already has a grant answers `FailedOperation.AccountAlreadyExists` (nothing is changed);
//! a CVM CANCEL of an account without a grant succeeds; a Lighthouse share naming an account
//! that already has a grant answers `UnsupportedOperation.BlueprintAlreadyShared`, a cancel
//! naming one without a grant `UnsupportedOperation.BlueprintHasNotShared`; deleting a
//! blueprint that is still shared answers `UnsupportedOperation.BlueprintOccupied`. The CVM
//! per-call `AccountIds` maximum is unpublished, so the emulator enforces none (only the
//! 500-per-image total, `OverQuota`); Lighthouse's documented 10 per call is enforced with
//! `InvalidParameterValue.LimitExceeded`. The engine makes each of these refusals
//! (`engine::grant_rules`: already granted, not granted, deprecated, per call); the
//! front-ends only word them.
//!
//! A CVM image shared to Lighthouse becomes the blueprint `lhbp-<suffix of the img- id>`
//! (so the link survives without extra state); its `Blueprint.ImageId` names the CVM image.
//!
//! Layout: this module holds the gateway (recognition, TC3 authentication, envelopes,
//! routing to a product); `params` turns the request into a JSON object and reads it;
//! `actions` holds the steps CVM and Lighthouse share (listing, granting, deleting all
//! or nothing, copying); `cvm` and `lighthouse` hold each product's actions, codes and
//! shapes.

mod actions;
pub mod cbs;
mod cvm;
mod endpoint;
mod lighthouse;
mod params;
pub mod sts;

use imageshare_core::{time, Provider, Secret};
use imageshare_tencent::signer::verify::VerifyError;
use imageshare_tencent::signer::{
    scope_from_authorization, ReceivedRequest, Tc3Verifier, ALGORITHM,
};
use serde_json::{json, Value};

use super::params::Params;
use super::{Call, Caller, Frontend, Surface};
use crate::engine::{Engine, EngineError, SessionRefusal};
use crate::faults::FaultKind;
use crate::server::{Reply, WireRequest};
use crate::world::Cloud;
use params::{missing, request_params};

pub use cvm::CVM_CUSTOM_IMAGES_PER_REGION;
pub use lighthouse::LIGHTHOUSE_MAX_ACCOUNTS_PER_CALL;

/// CVM API version.
pub const CVM_VERSION: &str = "2017-03-12";
/// Lighthouse API version.
pub const LIGHTHOUSE_VERSION: &str = "2020-03-24";

/// Default page size of the Describe actions.
pub const DEFAULT_LIMIT: u64 = 20;
/// Largest page size of the Describe actions.
pub const MAX_LIMIT: u64 = 100;

/// Region ids of Tencent Cloud the emulator accepts in `X-TC-Region` and as destinations,
/// besides any region an image of the world lives in.
pub const KNOWN_REGIONS: &[&str] = &[
    "ap-bangkok",
    "ap-beijing",
    "ap-beijing-fsi",
    "ap-chengdu",
    "ap-chongqing",
    "ap-guangzhou",
    "ap-hongkong",
    "ap-jakarta",
    "ap-mumbai",
    "ap-nanjing",
    "ap-seoul",
    "ap-shanghai",
    "ap-shanghai-fsi",
    "ap-shenzhen-fsi",
    "ap-singapore",
    "ap-taipei",
    "ap-tokyo",
    "eu-frankfurt",
    "eu-moscow",
    "na-ashburn",
    "na-siliconvalley",
    "na-toronto",
    "sa-saopaulo",
];

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
    #[must_use]
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
#[must_use]
pub fn ok(mut body: Value, request_id: &str) -> Reply {
    if let Value::Object(m) = &mut body {
        m.insert("RequestId".into(), Value::String(request_id.to_owned()));
    }
    Reply::json(200, &json!({ "Response": body }), None)
}

/// The Tencent Cloud API 3.0 front-end (CVM and Lighthouse on one gateway).
pub(crate) struct Tencent;

impl Frontend for Tencent {
    fn classify(&self, wire: &WireRequest) -> Option<Surface> {
        let auth = wire.header("authorization").unwrap_or("");
        if !auth.starts_with(ALGORITHM) && wire.header("x-tc-action").is_none() {
            return None;
        }
        let scope = scope_from_authorization(auth)
            .map(|(_, service)| service)
            .unwrap_or_default();
        let product = match endpoint::effective_service(wire, &scope).as_str() {
            "cvm" => Some(imageshare_tencent::CVM),
            "lighthouse" => Some(imageshare_tencent::LIGHTHOUSE),
            "cbs" => Some(cbs::TENCENT_CBS),
            _ => None,
        };
        Some(Surface {
            // CBS requests count for CVM: only the CVM adapter makes them, and it counts them
            // (retries, rate limits) as its own.
            provider: match product {
                Some(imageshare_tencent::LIGHTHOUSE) => imageshare_tencent::LIGHTHOUSE,
                _ => imageshare_tencent::CVM,
            },
            product,
            action: wire.header("x-tc-action").unwrap_or("").to_owned(),
            version: wire.header("x-tc-version").unwrap_or("").to_owned(),
        })
    }

    /// TC3-HMAC-SHA256, with the credential scope's service as the expected one.
    fn authenticate(&self, call: &Call<'_>) -> Result<Caller, Reply> {
        authenticate_tc3(call)
    }

    fn dispatch(&self, call: &Call<'_>, caller: &Caller) -> Reply {
        let request_id = call.request_id;
        // CVM and Lighthouse requests are always signed: `authenticate` never lets one
        // through without an account.
        let Some(caller) = caller.account.as_ref() else {
            return TcError::new("AuthFailure.SignatureFailure", "The request is not signed.")
                .reply(request_id);
        };
        let Surface {
            product,
            version,
            action,
            ..
        } = call.surface;
        let (product, expected) = match product {
            Some(imageshare_tencent::CVM) => (Product::Cvm, CVM_VERSION),
            Some(imageshare_tencent::LIGHTHOUSE) => (Product::Lighthouse, LIGHTHOUSE_VERSION),
            Some(cbs::TENCENT_CBS) => (Product::Cbs, cbs::CBS_VERSION),
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
        let body = match request_params(call.wire) {
            Ok(v) => v,
            Err(e) => return e.reply(request_id),
        };
        let region = call
            .wire
            .header("x-tc-region")
            .unwrap_or("")
            .trim()
            .to_owned();
        let result = run(
            &mut Ctx {
                engine: &mut call.shared.engine(),
                region: &region,
                caller: &caller.id,
                body: &body,
                params: Params::Json(&body),
                product,
            },
            action,
        );
        match result {
            Ok(v) => ok(v, request_id),
            Err(e) => e.reply(request_id),
        }
    }

    fn fault_reply(&self, call: &Call<'_>, kind: FaultKind) -> Reply {
        match kind {
            FaultKind::Throttle => TcError::new(
                "RequestLimitExceeded",
                "Your current request times exceeds the frequency limit for a second. Please reduce the frequency of calls.",
            )
            .reply(call.request_id),
            _ => TcError::new("InternalError", "An internal error occurred. Please retry.")
                .reply_with_status(500, call.request_id),
        }
    }
}

/// The account holding a key, the secret to verify with and the token to expect.
struct Found {
    caller: Caller,
    secret: Secret,
    token: Option<String>,
}

/// The cloud's answer to a refused temporary credential: `AuthFailure.TokenFailure` for
/// every token problem (tencent.md §3: "the temporary-credential token is wrong"; an
/// expired one included), `AuthFailure.SecretIdNotFound` for an unknown key sent without
/// a token.
fn session_refused(r: SessionRefusal, token_sent: bool) -> TcError {
    match r {
        SessionRefusal::UnknownKey if !token_sent => secret_id_not_found(),
        SessionRefusal::Expired => TcError::new(
            "AuthFailure.TokenFailure",
            "Token verification failed: the temporary credential has expired.",
        ),
        _ => TcError::new("AuthFailure.TokenFailure", "Token verification failed."),
    }
}

fn secret_id_not_found() -> TcError {
    TcError::new(
        "AuthFailure.SecretIdNotFound",
        "The SecretId is not found, please ensure that your SecretId is correct.",
    )
}

fn lookup(engine: &Engine, secret_id: &str, sent_token: Option<&str>) -> Result<Found, TcError> {
    if let Some(account) = engine.world().account_by_tencent_key(secret_id).cloned() {
        let key = account.keys.tencent.clone().expect("looked up by this key");
        return Ok(Found {
            caller: Caller::key(account),
            secret: Secret::new(key.secret),
            token: key.token,
        });
    }
    let token_sent = sent_token.is_some_and(|t| !t.is_empty());
    if !engine.is_session_key(Cloud::Tencent, secret_id) && !token_sent {
        return Err(secret_id_not_found());
    }
    let session = engine
        .session_for(Cloud::Tencent, secret_id, sent_token)
        .map_err(|r| session_refused(r, token_sent))?
        .clone();
    let account = engine
        .world()
        .account(&session.account)
        .cloned()
        .ok_or_else(secret_id_not_found)?;
    Ok(Found {
        secret: session.secret.clone(),
        token: Some(session.token.expose().to_owned()),
        caller: Caller::session(account, session),
    })
}

/// TC3-HMAC-SHA256 authentication, with the credential scope's service as the expected
/// one; keys of the world and temporary credentials of the emulated STS (with
/// `X-TC-Token`) are accepted, the latter acting as the role's account.
pub(super) fn authenticate_tc3(call: &Call<'_>) -> Result<Caller, Reply> {
    let wire = call.wire;
    let fail = |e: TcError| e.reply(call.request_id);
    let auth = wire.header("authorization").unwrap_or("");
    let (secret_id, service) =
        scope_from_authorization(auth).map_err(|e| fail(TcError::new(e.code(), e.to_string())))?;
    let Found {
        caller,
        secret,
        token,
    } = lookup(&call.shared.engine(), &secret_id, wire.header("x-tc-token")).map_err(fail)?;
    let verifier = Tc3Verifier::new()
        .expected_service(service)
        .now(time::now_unix());
    let verify = |headers: Vec<(String, String)>| {
        let received = ReceivedRequest::new(&wire.method, &wire.path, &wire.raw_query, &wire.body)
            .headers(headers);
        verifier.verify(&received, &secret)
    };
    // The Host header as sent; then, only on a signature mismatch, the host without its
    // port, as Tencent's Node.js SDK signs it (see `endpoint`). Both are exact matches.
    let verified = match verify(wire.headers.clone()) {
        Err(VerifyError::SignatureMismatch { .. })
            if endpoint::headers_with_portless_host(wire).is_some() =>
        {
            let portless = endpoint::headers_with_portless_host(wire).unwrap_or_default();
            verify(portless)
        }
        other => other,
    };
    verified.map_err(|e| fail(TcError::new(e.code(), e.to_string())))?;
    if let Some(expected) = token.as_deref() {
        if wire.header("x-tc-token") != Some(expected) {
            return Err(fail(TcError::new(
                "AuthFailure.TokenFailure",
                "Token verification failed.",
            )));
        }
    }
    Ok(caller)
}

/// Runs `action` of the request's product: an unknown action is `InvalidAction` before any
/// other check, then `X-TC-Region` is checked, then the action's handler runs.
fn run(ctx: &mut Ctx<'_>, action: &str) -> Result<Value, TcError> {
    let handler = ctx
        .product
        .handler(action)
        .ok_or_else(|| invalid_action(action))?;
    ctx.check_region()?;
    handler(ctx)
}

/// An action handler.
type Handler = fn(&mut Ctx<'_>) -> Result<Value, TcError>;

/// The Tencent product a request is for: it picks the engine provider, the error codes
/// and the parameter sub-codes (Lighthouse words paging and filter problems with its own
/// sub-codes, CVM with the generic ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Product {
    Cvm,
    Lighthouse,
    /// CBS `DescribeSnapshots`, over the CVM images' snapshots.
    Cbs,
}

impl Product {
    /// The engine provider of the product's images.
    fn provider(self) -> Provider {
        match self {
            Product::Cvm | Product::Cbs => imageshare_tencent::CVM,
            Product::Lighthouse => imageshare_tencent::LIGHTHOUSE,
        }
    }

    /// The handler of one of the product's actions.
    fn handler(self, action: &str) -> Option<Handler> {
        match self {
            Product::Cvm => cvm::handler(action),
            Product::Cbs => cbs::handler(action),
            Product::Lighthouse => lighthouse::handler(action),
        }
    }

    /// Maps an engine refusal to the product's code for `action`.
    fn refuse(self, e: EngineError, action: &str) -> TcError {
        match self {
            Product::Cvm | Product::Cbs => cvm::error(e, action),
            Product::Lighthouse => lighthouse::error(e, action),
        }
    }
}

/// What every action handler works with.
struct Ctx<'a> {
    engine: &'a mut Engine,
    /// `X-TC-Region`.
    region: &'a str,
    /// The caller's account id.
    caller: &'a str,
    /// The action's parameters as one JSON object.
    body: &'a Value,
    /// The same, for the shared reader.
    params: Params<'a>,
    product: Product,
}

impl Ctx<'_> {
    /// Checks `X-TC-Region`: present, and a Tencent region (or one of the world's).
    fn check_region(&self) -> Result<(), TcError> {
        if self.region.is_empty() {
            return Err(missing("Region"));
        }
        if !region_known(self.engine, self.region) {
            return Err(TcError::new(
                "UnsupportedRegion",
                format!("The region `{}` is not supported.", self.region),
            ));
        }
        Ok(())
    }
}

fn invalid_action(action: &str) -> TcError {
    TcError::new(
        "InvalidAction",
        format!("The requested action {action:?} does not exist."),
    )
}

/// `DryRunOperation`: every check passed, nothing was done.
fn dry_run() -> TcError {
    TcError::new(
        "DryRunOperation",
        "The request would have succeeded, but DryRun is set.",
    )
}

/// A Tencent region, or a region an image of the world lives in.
fn region_known(engine: &Engine, region: &str) -> bool {
    KNOWN_REGIONS.contains(&region) || engine.images().any(|i| i.region == region)
}

/// `prefix` followed by one or more ASCII letters or digits.
fn well_formed(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Refuses with `code` an id of a `what` that is not [`well_formed`] with `prefix`.
fn check_id_form(id: &str, prefix: &str, code: &str, what: &str) -> Result<(), TcError> {
    if well_formed(id, prefix) {
        Ok(())
    } else {
        Err(TcError::new(
            code,
            format!("The {what} id `{id}` is malformed."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_ids() {
        assert!(well_formed("img-6pb6lrmy", "img-"));
        assert!(!well_formed("img-", "img-"));
        assert!(!well_formed("img-6pb6 lrmy", "img-"));
        assert!(!well_formed("m-abc", "img-"));
    }
}
