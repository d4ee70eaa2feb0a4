//! UCloud API front-end: the SHA1 parameter signature, the `RetCode` envelope (HTTP 200),
//! throttling (RetCode 153), project selection (`ProjectId`) and the UHost image actions.
//!
//! # Actions served
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

use imageshare_core::{ImageKind, LimitRule, Provider, Secret};
use imageshare_ucloud::model::{
    self as wire, CopyCustomImageResponse, CopyImageTaskInfo, DescribeImageResponse,
    DescribeImageShareResponse, SaveSharedImageResponse, ShareCustomImageResponse,
    SharedProjectSet, TerminateCustomImageResponse, UHostImageSet,
};
use imageshare_ucloud::retcode;
use imageshare_ucloud::signer::{flatten, verify_with};
use imageshare_ucloud::SharingActions;
use serde_json::{json, Value};

use super::params::{first, FlatLists, OffsetLimit, ParamError, Params};
use super::{Call, Frontend, Surface};
use crate::engine::{CopySpec, Engine, EngineError, ImageView, Relation};
use crate::faults::FaultKind;
use crate::server::{Reply, WireRequest};
use crate::world::{Account, State};

/// `Limit` of the listing actions when none is sent (documented default).
pub const DEFAULT_LIMIT: u64 = 20;
/// Largest `Limit` honoured (UCloud's maximum for DescribeImage is unpublished; other UHost
/// list actions document 100).
pub const MAX_LIMIT: u64 = 100;

/// `Offset` (default 0) and `Limit` (default 20, 0 means the default, a larger one than
/// 100 is cut to 100).
const PAGING: OffsetLimit = OffsetLimit {
    default: DEFAULT_LIMIT,
    max: MAX_LIMIT,
    clamp: true,
};

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
            provider: Provider::UCloud,
            product: Some(Provider::UCloud),
            action: first(&params, "Action").unwrap_or("").to_owned(),
            version: String::new(),
        })
    }

    /// The `PublicKey` and the SHA1 `Signature` over the sorted parameters.
    fn authenticate(&self, call: &Call<'_>) -> Result<Account, Reply> {
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
        Ok(world
            .account_by_ucloud_key(&public)
            .cloned()
            .expect("verified against this key"))
    }

    /// Picks the project (`ProjectId`, else the caller's first), then runs the action.
    fn dispatch(&self, call: &Call<'_>, caller: &Account) -> Reply {
        let (action, request_id) = (&call.surface.action, call.request_id);
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
        let mut engine = call.shared.engine();
        let req = Req {
            params: Params::flat(&params, LISTS),
            project: &project,
        };
        match uhost_action(&mut engine, action, &req) {
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

/// The decoded parameters of one request and the project it acts for.
struct Req<'a> {
    params: Params<'a>,
    project: &'a str,
}

fn uhost_action(engine: &mut Engine, action: &str, req: &Req<'_>) -> Result<Value, UcError> {
    match action {
        "DescribeImage" => describe_image(engine, req),
        "TerminateCustomImage" => terminate_custom_image(engine, req),
        "CopyCustomImage" => copy_custom_image(engine, req),
        SharingActions::SHARE => share(engine, req),
        SharingActions::CANCEL_SHARE => cancel_share(engine, req),
        SharingActions::DESCRIBE_SHARE => describe_share(engine, req),
        SharingActions::DESCRIBE_SHARED => describe_shared(engine, req),
        SharingActions::SAVE_SHARED => save_shared(engine, req),
        _ => Err(UcError::new(
            retcode::ACTION_NOT_EXISTS,
            format!("Action [{action}] not exist"),
        )),
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|_| json!({}))
}

/// What a request was doing, for error mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Share,
    Cancel,
    Other,
}

fn not_found(id: &str, project: &str) -> UcError {
    UcError::new(
        retcode::IMAGE_NOT_FOUND,
        format!("Resource [{id}] not exists or is not a custom image of project {project}"),
    )
}

/// Maps an engine refusal to UCloud's RetCode (see the module docs for the table).
fn map_engine(engine: &Engine, e: EngineError, op: Op, id: &str, project: &str) -> UcError {
    match e {
        EngineError::ImageNotFound(_) => not_found(id, project),
        EngineError::PrincipalNotFound(p) => UcError::new(
            retcode::PROJECT_NOT_EXISTS,
            format!("Project [{p}] not exists"),
        ),
        EngineError::MissingRole(r) => UcError::new(
            retcode::PERMISSION_DENIED,
            format!("IAM permission check failed: {r}"),
        ),
        EngineError::InvalidParameter { name, message } => UcError::invalid(&name, message),
        EngineError::InvalidState { id, state } => UcError::new(
            retcode::IMAGE_STATE_UNAVAILABLE,
            format!("Source image [{id}] state is unavailable ({state})"),
        ),
        EngineError::NotOwner(_) => not_sharer(id, op),
        EngineError::Rule { rule, message } => match rule {
            LimitRule::PublicImage => not_found(id, project),
            LimitRule::ReceivedImage if op == Op::Other => not_found(id, project),
            LimitRule::ReceivedImage => not_sharer(id, op),
            LimitRule::ImageKind => {
                let lightweight = engine
                    .images()
                    .any(|i| i.id == id && i.kind == ImageKind::LightweightHost);
                if lightweight {
                    UcError::new(
                        retcode::SHARE_LIGHTWEIGHT_IMAGE,
                        format!("Lightweight app UHost (ULHost) image [{id}] cannot be shared"),
                    )
                } else {
                    UcError::new(
                        retcode::SHARE_SYSTEM_DISK_ONLY,
                        format!(
                            "Only system-disk images can be shared; [{id}] has data-disk \
                             snapshots"
                        ),
                    )
                }
            }
            LimitRule::ImageState => UcError::new(
                retcode::IMAGE_STATE_UNAVAILABLE,
                format!("Image [{id}] is not available: {message}"),
            ),
            LimitRule::PrincipalForm => UcError::invalid("TargetProjectIds", message),
            LimitRule::ShareWithSelf => UcError::new(
                retcode::SHARE_WITH_OWN_PROJECT,
                format!("Image [{id}] cannot be shared with its own project: {message}"),
            ),
            LimitRule::MaxShareesPerImage => UcError::new(
                retcode::SHARE_QUOTA_EXCEEDED,
                format!(
                    "An image can be shared with at most 50 projects at the same time \
                     ({message}); copy the image and share the copy"
                ),
            ),
            LimitRule::SameRegion => cross_region(id, "another region"),
            other => UcError::new(
                retcode::PARAMETER_ERROR,
                format!("rule {other} refuses the request: {message}"),
            ),
        },
    }
}

fn not_sharer(id: &str, op: Op) -> UcError {
    let what = if op == Op::Cancel { "cancel" } else { "share" };
    UcError::new(
        retcode::SHARE_NOT_SHARER,
        format!("Image [{id}] was shared with this project; only the sharer can {what} it"),
    )
}

fn cross_region(id: &str, region: &str) -> UcError {
    UcError::new(
        retcode::SHARE_CROSS_REGION,
        format!(
            "Image [{id}] is in {region}; sharing across regions is not supported, copy the \
             image to the target region first (CopyCustomImage)"
        ),
    )
}

/// The region of `id` when it is one of `project`'s images in another region than the
/// request's.
fn owned_elsewhere(engine: &Engine, id: &str, project: &str, region: &str) -> Option<String> {
    engine
        .images()
        .find(|i| {
            i.provider == Provider::UCloud && i.id == id && i.owner == project && i.region != region
        })
        .map(|i| i.region.clone())
}

/// A `UHostImageSet` as UCloud lists it (every documented field present).
fn image_set(view: &ImageView, zone: &str, prices: bool, owner: Option<&str>) -> UHostImageSet {
    let img = &view.image;
    let public = view.relation == Relation::Public;
    let state = match img.state {
        State::Available => wire::state::AVAILABLE,
        State::Creating if img.copied_from.is_some() => wire::state::COPYING,
        State::Creating => wire::state::MAKING,
        State::Unavailable => wire::state::UNAVAILABLE,
    };
    let data_snapshot_ids = if img.kind == ImageKind::WholeMachine {
        let suffix = img.id.strip_prefix("uimage-").unwrap_or(&img.id);
        vec![format!("snap-{suffix}")]
    } else {
        Vec::new()
    };
    UHostImageSet {
        zone: zone.to_owned(),
        image_id: img.id.clone(),
        image_name: img.name.clone(),
        tag: "Default".to_owned(),
        os_type: "Linux".to_owned(),
        os_name: "Linux".to_owned(),
        image_type: if public { "Base" } else { "Custom" }.to_owned(),
        features: Vec::new(),
        func_type: if img.kind == ImageKind::LightweightHost {
            wire::FUNC_TYPE_LIGHTWEIGHT.to_owned()
        } else {
            String::new()
        },
        integrated_software: String::new(),
        vendor: String::new(),
        links: String::new(),
        state: state.to_owned(),
        image_description: String::new(),
        create_time: img.created_unix,
        image_size: IMAGE_SIZE_GB,
        minimal_cpu: String::new(),
        maintain_eol: String::new(),
        data_snapshot_ids,
        supported_gpu_types: Vec::new(),
        scene_categories: Vec::new(),
        primary_software: String::new(),
        price_set: prices.then(Vec::new),
        owner_project_id: owner.map(str::to_owned),
    }
}

/// Filters by `ImageId` / `ImageIds.N`, then pages.
fn listing(
    req: &Req<'_>,
    views: Vec<ImageView>,
    shared: bool,
) -> Result<DescribeImageResponse, UcError> {
    let mut ids = req.params.list("ImageIds")?.unwrap_or_default();
    if let Some(id) = req.params.str("ImageId")? {
        ids.push(id.to_owned());
    }
    let image_type = req.params.str("ImageType")?;
    let os_type = req.params.str("OsType")?;
    let tag = req.params.str("Tag")?;
    let lightweight_only = req.params.str("FuncType")? == Some(wire::FUNC_TYPE_LIGHTWEIGHT);
    let page = req.params.page_offset(PAGING)?;
    let zone = req.params.str("Zone")?.unwrap_or("");
    let prices = req.params.str("PriceSet")? == Some("1");
    let sets: Vec<UHostImageSet> = views
        .iter()
        .map(|v| {
            let owner = shared.then_some(v.image.owner.as_str());
            image_set(v, zone, prices, owner)
        })
        .filter(|s| ids.is_empty() || ids.contains(&s.image_id))
        .filter(|s| image_type.is_none_or(|t| s.image_type == t))
        .filter(|s| os_type.is_none_or(|t| s.os_type == t))
        .filter(|s| tag.is_none_or(|t| s.tag == t))
        .filter(|s| !lightweight_only || s.is_lightweight())
        .collect();
    Ok(DescribeImageResponse {
        total_count: sets.len() as u64,
        image_set: page.of(&sets).to_vec(),
    })
}

fn describe_image(engine: &mut Engine, req: &Req<'_>) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let views = engine.list(
        Provider::UCloud,
        req.project,
        region,
        &[Relation::Owner, Relation::Public],
    );
    Ok(to_value(&listing(req, views, false)?))
}

fn describe_shared(engine: &mut Engine, req: &Req<'_>) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let views = engine.list(Provider::UCloud, req.project, region, &[Relation::Received]);
    Ok(to_value(&listing(req, views, true)?))
}

fn terminate_custom_image(engine: &mut Engine, req: &Req<'_>) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let id = req.params.required("ImageId")?;
    engine
        .delete(Provider::UCloud, req.project, region, id)
        .map_err(|e| map_engine(engine, e, Op::Other, id, req.project))?;
    Ok(to_value(&TerminateCustomImageResponse {
        image_id: id.to_owned(),
    }))
}

fn copy_custom_image(engine: &mut Engine, req: &Req<'_>) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let id = req.params.required("SourceImageId")?;
    let target_project = req.params.required("TargetProjectId")?;
    if engine.world().project_owner(target_project).is_none() {
        return Err(UcError::new(
            retcode::PROJECT_NOT_EXISTS,
            format!("Project [{target_project}] not exists"),
        ));
    }
    let view = engine
        .image(Provider::UCloud, req.project, region, id)
        .map_err(|e| map_engine(engine, e, Op::Other, id, req.project))?;
    match view.relation {
        Relation::Owner => {}
        Relation::Public => return Err(not_found(id, req.project)),
        Relation::Received => {
            return Err(UcError::new(
                retcode::IMAGE_NOT_FOUND,
                format!(
                    "Resource [{id}] is not a custom image of project {}: it is shared with \
                     it; save it first ({})",
                    req.project,
                    SharingActions::SAVE_SHARED
                ),
            ))
        }
    }
    let mut regions = req.params.list("TargetRegionList")?.unwrap_or_default();
    let batch = !regions.is_empty();
    if !batch {
        regions.push(req.params.str("TargetRegion")?.unwrap_or(region).to_owned());
    }
    for r in &regions {
        if target_project == view.image.owner && r == region {
            return Err(UcError::new(
                retcode::SAME_PROJECT_COPY,
                format!(
                    "Target project [{target_project}] is the source image's project and \
                     region; nothing to copy"
                ),
            ));
        }
    }
    let name = req.params.str("TargetImageName")?.map(str::to_owned);
    let mut infos = Vec::with_capacity(regions.len());
    let task = format!("task-{:08x}", engine.next_serial());
    for (i, r) in regions.iter().enumerate() {
        let new_id = engine
            .copy(
                Provider::UCloud,
                req.project,
                region,
                id,
                CopySpec {
                    region: Some(r.clone()),
                    project: Some(target_project.to_owned()),
                    name: name.clone(),
                },
            )
            .map_err(|e| map_engine(engine, e, Op::Other, id, req.project))?;
        infos.push(CopyImageTaskInfo {
            task_id: if batch {
                format!("{task}-{i}")
            } else {
                task.clone()
            },
            target_image_id: new_id,
            target_region: r.clone(),
        });
    }
    let answer = if batch {
        CopyCustomImageResponse {
            target_image_id: None,
            task_id: None,
            infos,
        }
    } else {
        let info = infos.remove(0);
        CopyCustomImageResponse {
            target_image_id: Some(info.target_image_id),
            task_id: Some(info.task_id),
            infos: Vec::new(),
        }
    };
    Ok(to_value(&answer))
}

/// `TargetProjectIds.N` (and a single `TargetProjectId`), at least one.
fn target_projects(req: &Req<'_>) -> Result<Vec<String>, UcError> {
    let mut targets = req.params.list("TargetProjectIds")?.unwrap_or_default();
    if let Some(p) = req.params.str("TargetProjectId")? {
        targets.push(p.to_owned());
    }
    if targets.is_empty() {
        return Err(UcError::missing("TargetProjectIds"));
    }
    Ok(targets)
}

fn share(engine: &mut Engine, req: &Req<'_>) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let id = req.params.required("ImageId")?;
    let targets = target_projects(req)?;
    if let Some(elsewhere) = owned_elsewhere(engine, id, req.project, region) {
        return Err(cross_region(id, &elsewhere));
    }
    engine
        .share(Provider::UCloud, req.project, region, id, &targets)
        .map_err(|e| map_engine(engine, e, Op::Share, id, req.project))?;
    Ok(to_value(&ShareCustomImageResponse {
        image_id: id.to_owned(),
    }))
}

fn cancel_share(engine: &mut Engine, req: &Req<'_>) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let id = req.params.required("ImageId")?;
    let targets = target_projects(req)?;
    engine
        .unshare(Provider::UCloud, req.project, region, id, &targets)
        .map_err(|e| map_engine(engine, e, Op::Cancel, id, req.project))?;
    Ok(to_value(&ShareCustomImageResponse {
        image_id: id.to_owned(),
    }))
}

fn describe_share(engine: &mut Engine, req: &Req<'_>) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let id = req.params.required("ImageId")?;
    let page = req.params.page_offset(PAGING)?;
    let view = engine
        .image(Provider::UCloud, req.project, region, id)
        .map_err(|e| map_engine(engine, e, Op::Other, id, req.project))?;
    match view.relation {
        Relation::Owner => {}
        Relation::Received => return Err(not_sharer(id, Op::Share)),
        Relation::Public => return Err(not_found(id, req.project)),
    }
    let grants = match engine.sharees_slice(Provider::UCloud, req.project, region, id) {
        Ok(grants) => grants,
        Err(e) => return Err(map_engine(engine, e, Op::Other, id, req.project)),
    };
    Ok(to_value(&DescribeImageShareResponse {
        total_count: grants.len() as u64,
        project_set: page
            .of(grants)
            .iter()
            .map(|g| SharedProjectSet {
                project_id: g.principal.clone(),
                create_time: g.created_unix,
            })
            .collect(),
    }))
}

fn save_shared(engine: &mut Engine, req: &Req<'_>) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let id = req.params.required("ImageId")?;
    let view = engine
        .image(Provider::UCloud, req.project, region, id)
        .map_err(|e| map_engine(engine, e, Op::Other, id, req.project))?;
    if view.relation != Relation::Received {
        return Err(UcError::new(
            retcode::IMAGE_NOT_FOUND,
            format!(
                "Resource [{id}] is not an image shared with project {}",
                req.project
            ),
        ));
    }
    let new_id = engine
        .copy(
            Provider::UCloud,
            req.project,
            region,
            id,
            CopySpec {
                region: None,
                project: None,
                name: req.params.str("ImageName")?.map(str::to_owned),
            },
        )
        .map_err(|e| map_engine(engine, e, Op::Other, id, req.project))?;
    Ok(to_value(&SaveSharedImageResponse { image_id: new_id }))
}
