//! UCloud API front-end: the SHA1 parameter signature, the `RetCode` envelope (HTTP 200),
//! throttling (RetCode 153), project selection (`ProjectId`) and the UHost image actions.
//!
//! # Actions served
//!
//! The actions, their replies and the RetCode mapping live in `uhost`; replies are written
//! from UCloud's reference, never from `imageshare_ucloud::model` (see there why).
//!
//! Documented UCloud actions (shapes from ucloud.md §1.3 and §2):
//!
//! * `DescribeImage`: the caller project's own custom images and the public (`Base`)
//!   images of `Region`, filtered by `ImageId`, `ImageIds.N`, `ImageType`, `OsType`,
//!   `FuncType` (`app` = ULHost) and `Tag`, paged with `Offset` (default 0) and `Limit`
//!   (default 20, at most 100: UCloud does not publish the maximum, the emulator uses the
//!   100 that other UHost list actions document). An unknown `ImageId` is `RetCode` 0 with
//!   an empty `ImageSet`, as terraform-provider-ucloud expects. Images shared **with** the
//!   caller are not listed here (UCloud's console shows them on a separate tab); they are
//!   listed by the shared-image action below.
//! * `CopyCustomImage`: `SourceImageId`, `TargetProjectId` (required), `TargetRegion` or
//!   `TargetRegionList.N` (batch: answered with `Infos`), `TargetImageName`. The target
//!   project must belong to the caller's account. The copy is `Copying` for the world's
//!   `copy_ready_after_ms`.
//! * `TerminateCustomImage`: `ImageId`. Deleting a shared image removes it for every
//!   recipient (documented).
//!
//! Project sharing, **not part of UCloud's published API** (imageshare's action names, see
//! `imageshare_ucloud::SharingActions`): `ShareCustomImage` and `CancelShareCustomImage`
//! (`ImageId`, `TargetProjectIds.N`; `TargetProjectId` is accepted too),
//! `DescribeCustomImageShare` (`ImageId`, paged: `ProjectSet[]{ProjectId, CreateTime}`),
//! `DescribeSharedImage` (`ImageId`?, paged: `ImageSet[]` with `OwnerProjectId`) and
//! `SaveSharedImage` (`ImageId`, `ImageName`?: a custom-image copy in the caller's project
//! and region).
//!
//! The documented sharing rules are enforced by the engine (from `UHOST_LIMITS`): 50
//! projects per image, same region, system-disk images only, no ULHost images, only the
//! sharer shares or cancels, the source's deletion ends every share.
//!
//! # RetCodes
//!
//! Gateway: 160 missing `Action`, 161 unknown action, 170 missing signature, 171 bad
//! signature, 172 unknown public key, 153 throttled, 292 unknown `ProjectId` (also an
//! unknown target project), 230 parameter problem (missing or malformed parameter, as the
//! UCloud CLI sees it). UHost: 8956 image not found or not a custom image, 8961 source
//! image not available, 8962 copy to the image's own project and region. Sharing rules,
//! for which UCloud documents **no** code, use the codes imageshare chose
//! (`imageshare_ucloud::retcode`): 8990 more than 50 projects, 8991 cross-region, 8992
//! ULHost image, 8993 not a system-disk-only image, 8994 not the sharer, 8995 the
//! image's own project.
//!
//! Every answer carries `"Action": "<Action>Response"`, authentication failures (170, 171,
//! 172) included, as the API reference lists `Action` as always present. (UCloud's API FAQ
//! prints gateway refusals without it, `{"Message": "Signature VerifyAC Error", "RetCode":
//! 171}`; clients, the official SDKs and `imageshare-ucloud` included, accept both.) Only a
//! request without `Action` (160) is answered without one.

mod uhost;

use imageshare_core::Secret;
use imageshare_ucloud::retcode;
use imageshare_ucloud::signer::{flatten, verify_with};
use serde_json::{json, Value};

use super::params::{first, FlatLists, ParamError, Params};
use super::{Call, Caller, Frontend, Surface};
use crate::faults::FaultKind;
use crate::server::{Reply, WireRequest};
use uhost::Req;

pub use uhost::{DEFAULT_LIMIT, MAX_LIMIT};

/// How UCloud's SDKs number a list: `Name.0`, `Name.1`, ... (empty entries are skipped).
const LISTS: FlatLists = FlatLists {
    first_index: 0,
    keep_empty: false,
};

/// `ImageSize` the emulator reports (the world does not model sizes; 20 as in UCloud's
/// documented example).
pub const IMAGE_SIZE_GB: u64 = 20;

/// The request parameters: a JSON body (flattened like the SDKs' form encoders) or a form
/// body, then every query parameter the body does not also carry. The Go SDK posts a form
/// body to `<base URL>?Action=<Action>` ("for logging", ucloud.md §3.2) and signs the body
/// only, so a query parameter repeated in the body is not a second parameter. A GET request
/// carries everything in the query.
pub fn params(wire: &WireRequest) -> Option<Vec<(String, String)>> {
    let mut out = if wire.content_type() == "application/json" {
        let v: Value = serde_json::from_slice(&wire.body).ok()?;
        flatten(&v).ok()?
    } else {
        wire.form().to_vec()
    };
    for (k, v) in &wire.query {
        if !out.iter().any(|(name, _)| name == k) {
            out.push((k.clone(), v.clone()));
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

/// A UCloud error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UcError {
    /// RetCode.
    pub ret_code: i64,
    /// Message.
    pub message: String,
}

impl UcError {
    /// An error with this RetCode and message.
    pub fn new(ret_code: i64, message: impl Into<String>) -> Self {
        Self {
            ret_code,
            message: message.into(),
        }
    }
    /// RetCode 230 for a missing required parameter, in the UCloud CLI's observed wording.
    #[must_use]
    pub fn missing(name: &str) -> Self {
        Self::new(
            retcode::PARAMETER_ERROR,
            format!("Params [{name}] not available"),
        )
    }
    /// RetCode 230 for a malformed parameter.
    pub fn invalid(name: &str, why: impl std::fmt::Display) -> Self {
        Self::new(
            retcode::PARAMETER_ERROR,
            format!("Params [{name}] not available: {why}"),
        )
    }
    /// The error envelope of an action (HTTP 200).
    #[must_use]
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
    /// The gateway's envelope for a request it refuses before any action runs (HTTP 200,
    /// no `Action` member).
    #[must_use]
    pub fn gateway_reply(&self, request_id: &str) -> Reply {
        let body = json!({"RetCode": self.ret_code, "Message": self.message});
        with_uuid(
            Reply::json(200, &body, Some(self.ret_code.to_string())),
            request_id,
        )
    }
}

impl From<ParamError> for UcError {
    fn from(e: ParamError) -> Self {
        match e {
            ParamError::Missing { name } => UcError::missing(&name),
            ParamError::BadIndex { key, .. } => {
                UcError::invalid(&key, "expected Name.N with N = 0, 1, ...")
            }
            ParamError::Malformed {
                name,
                value,
                expected,
            } => UcError::invalid(&name, format!("{value:?} is not {expected}")),
            ParamError::Negative { name, value } | ParamError::OutOfRange { name, value, .. } => {
                UcError::invalid(&name, format!("{value:?} is not a whole number"))
            }
        }
    }
}

fn with_uuid(mut r: Reply, request_id: &str) -> Reply {
    r.headers
        .push(("x-ucloud-request-uuid".into(), request_id.to_owned()));
    r
}

/// A successful answer: `body` with `Action` and `RetCode: 0`.
#[must_use]
pub fn ok(mut body: Value, action: &str, request_id: &str) -> Reply {
    if let Value::Object(m) = &mut body {
        m.insert("Action".into(), Value::String(format!("{action}Response")));
        m.insert("RetCode".into(), json!(0));
    }
    with_uuid(Reply::json(200, &body, None), request_id)
}

/// The UCloud API front-end (UHost).
pub(crate) struct UCloud;

impl Frontend for UCloud {
    fn classify(&self, wire: &WireRequest) -> Option<Surface> {
        let params = params(wire)?;
        if first(&params, "PublicKey").is_none() && first(&params, "Action").is_none() {
            return None;
        }
        Some(Surface {
            provider: imageshare_ucloud::UHOST,
            product: Some(imageshare_ucloud::UHOST),
            action: first(&params, "Action").unwrap_or("").to_owned(),
            version: String::new(),
        })
    }

    /// The `PublicKey` and the SHA1 `Signature` over the sorted parameters.
    fn authenticate(&self, call: &Call<'_>) -> Result<Caller, Reply> {
        let (action, request_id) = (&call.surface.action, call.request_id);
        if action.is_empty() {
            return Err(
                UcError::new(retcode::MISSING_ACTION, "Missing Action").gateway_reply(request_id)
            );
        }
        let params = params(call.wire).unwrap_or_default();
        let engine = call.shared.engine();
        let world = engine.world();
        let public = verify_with(&params, |pk| {
            world
                .account_by_ucloud_key(pk)
                .and_then(|a| a.keys.ucloud.as_ref())
                .map(|k| Secret::new(k.private.clone()))
        })
        .map_err(|e| UcError::new(e.ret_code().into(), e.message()).reply(action, request_id))?;
        Ok(Caller::key(
            world
                .account_by_ucloud_key(&public)
                .cloned()
                .expect("verified against this key"),
        ))
    }

    /// Picks the project (`ProjectId`, else the caller's first), then runs the action.
    fn dispatch(&self, call: &Call<'_>, caller: &Caller) -> Reply {
        let (action, request_id) = (&call.surface.action, call.request_id);
        // UCloud requests are always signed: `authenticate` never lets one through without
        // an account.
        let Some(caller) = caller.account.as_ref() else {
            return UcError::new(retcode::MISSING_ACTION, "Missing PublicKey")
                .reply(action, request_id);
        };
        let params = params(call.wire).unwrap_or_default();
        let project = match first(&params, "ProjectId") {
            Some(p) if !p.is_empty() => p.to_owned(),
            _ => match caller.projects.first() {
                Some(p) => p.clone(),
                None => {
                    return UcError::new(retcode::PROJECT_NOT_EXISTS, "Project not exists")
                        .reply(action, request_id);
                }
            },
        };
        if !caller.projects.contains(&project) {
            return UcError::new(
                retcode::PROJECT_NOT_EXISTS,
                format!("Project {project} not exists"),
            )
            .reply(action, request_id);
        }
        let req = Req {
            params: Params::flat(&params, LISTS),
            project: &project,
        };
        let result = uhost::run(&mut call.shared.engine(), action, &req);
        match result {
            Ok(v) => ok(v, action, request_id),
            Err(e) => e.reply(action, request_id),
        }
    }

    /// RetCode 153 for a throttle; a 5xx is the gateway's plain-text 503.
    fn fault_reply(&self, call: &Call<'_>, kind: FaultKind) -> Reply {
        match kind {
            FaultKind::Throttle => UcError::new(retcode::THROTTLED, "API request throttled")
                .reply(&call.surface.action, call.request_id),
            _ => with_uuid(
                Reply {
                    status: 503,
                    headers: vec![("content-type".into(), "text/plain".into())],
                    body: b"Service Temporarily Unavailable".to_vec(),
                    code: Some("HTTP503".into()),
                },
                call.request_id,
            ),
        }
    }
}
