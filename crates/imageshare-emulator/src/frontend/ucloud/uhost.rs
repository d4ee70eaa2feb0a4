//! The UHost image actions behind the UCloud gateway: each action's handler, its reply,
//! and the mapping of the engine's refusals to RetCodes.
//!
//! Replies are written here, from UCloud's API reference as summarised in
//! `shared/protocols/ucloud.md` (§1.3 for each action's response members, §2 for
//! `UHostImageSet`), never by serialising `imageshare_ucloud::model`: an emulator that
//! serialised the client's own structs would repeat any field-name mistake of the client,
//! and the interop and wire tests could not catch it. The project-sharing actions are not
//! in UCloud's reference (ucloud.md §1.1); their members are imageshare's own, in UCloud's
//! vocabulary (`ImageId`; `ProjectSet[]` of `{ProjectId, CreateTime}` as in UAccount
//! `GetProjectList`, ucloud.md §1.3; `OwnerProjectId`).

use imageshare_core::{ImageKind, LimitRule};
use imageshare_ucloud::retcode;
use imageshare_ucloud::SharingActions;
use serde_json::{json, Value};

use super::UcError;
use crate::engine::{CopySpec, Engine, EngineError, ImageView, Relation};
use crate::frontend::params::{OffsetLimit, Params};
use crate::world::State;

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

/// `FuncType` of Lightweight App UHost (ULHost) images (ucloud.md §1.3, DescribeImage).
const FUNC_TYPE_LIGHTWEIGHT: &str = "app";
/// `OsType` the emulator reports (the world does not model operating systems).
const OS_TYPE: &str = "Linux";
/// `Tag` (business group) the emulator reports: UCloud's default group.
const TAG: &str = "Default";

/// The decoded parameters of one request and the project it acts for.
pub(super) struct Req<'a> {
    /// The request's parameters.
    pub(super) params: Params<'a>,
    /// `ProjectId`, or the caller's default project.
    pub(super) project: &'a str,
}

/// Runs a UHost action (the documented ones and imageshare's sharing actions).
pub(super) fn run(engine: &mut Engine, action: &str, req: &Req<'_>) -> Result<Value, UcError> {
    match action {
        "DescribeImage" => describe_image(engine, req),
        "TerminateCustomImage" => terminate_custom_image(engine, req),
        "CopyCustomImage" => copy_custom_image(engine, req),
        SharingActions::SHARE => share_or_cancel(engine, req, Op::Share),
        SharingActions::CANCEL_SHARE => share_or_cancel(engine, req, Op::Cancel),
        SharingActions::DESCRIBE_SHARE => describe_share(engine, req),
        SharingActions::DESCRIBE_SHARED => describe_shared(engine, req),
        SharingActions::SAVE_SHARED => save_shared(engine, req),
        _ => Err(UcError::new(
            retcode::ACTION_NOT_EXISTS,
            format!("Action [{action}] not exist"),
        )),
    }
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
fn refuse(engine: &Engine, e: EngineError, op: Op, id: &str, project: &str) -> UcError {
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
        // UCloud makes none of these refusals (engine::grant_rules); never produced here.
        EngineError::Grant(r) => UcError::invalid("ProjectIds", r.to_string()),
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
            i.provider == imageshare_ucloud::UHOST
                && i.id == id
                && i.owner == project
                && i.region != region
        })
        .map(|i| i.region.clone())
}

/// `State` (ucloud.md §2): `Available`, `Making`, `Copying` (a CopyCustomImage target),
/// `Unavailable`.
fn state(view: &ImageView) -> &'static str {
    let img = &view.image;
    match img.state {
        State::Available => "Available",
        State::Creating if img.copied_from.is_some() => "Copying",
        State::Creating => "Making",
        State::Unavailable => "Unavailable",
        // UCloud documents no failed state (`Available`, `Making`, `Unavailable`,
        // `Copying`); a failed copy is `Unavailable` (UNCONFIRMED).
        State::Failed => "Unavailable",
    }
}

/// `ImageType` (ucloud.md §2): `Base` for a public image, `Custom` for a project's own
/// (the world has no `Business` images).
fn image_type(view: &ImageView) -> &'static str {
    if view.relation == Relation::Public {
        "Base"
    } else {
        "Custom"
    }
}

fn is_lightweight(view: &ImageView) -> bool {
    view.image.kind == ImageKind::LightweightHost
}

/// One `UHostImageSet` with every field of ucloud.md §2 (`PriceSet` only when asked for
/// with `PriceSet=1`), plus imageshare's `OwnerProjectId` in the shared-image listing.
fn image_set(view: &ImageView, zone: &str, prices: bool, owner: Option<&str>) -> Value {
    let img = &view.image;
    let data_snapshot_ids: Vec<String> = if img.kind == ImageKind::WholeMachine {
        let suffix = img.id.strip_prefix("uimage-").unwrap_or(&img.id);
        vec![format!("snap-{suffix}")]
    } else {
        Vec::new()
    };
    let mut set = json!({
        "Zone": zone,
        "ImageId": img.id,
        "ImageName": img.name,
        "Tag": TAG,
        "OsType": OS_TYPE,
        "OsName": OS_TYPE,
        "ImageType": image_type(view),
        "Features": [],
        "FuncType": if is_lightweight(view) { FUNC_TYPE_LIGHTWEIGHT } else { "" },
        "IntegratedSoftware": "",
        "Vendor": "",
        "Links": "",
        "State": state(view),
        "ImageDescription": "",
        "CreateTime": img.created_unix,
        "ImageSize": img.size_gib,
        "MinimalCPU": "",
        "MaintainEol": "",
        "DataSnapshotIds": data_snapshot_ids,
        "SupportedGPUTypes": [],
        "SceneCategories": [],
        "PrimarySoftware": "",
    });
    if prices {
        set["PriceSet"] = json!([]);
    }
    if let Some(owner) = owner {
        set["OwnerProjectId"] = json!(owner);
    }
    set
}

/// A DescribeImage-shaped answer, `{TotalCount, ImageSet}` (ucloud.md §1.3): `views`
/// filtered by `ImageId` / `ImageIds.N`, `ImageType`, `OsType`, `Tag` and `FuncType`,
/// then paged. `shared`: the shared-image listing, whose entries name their owner.
fn listing(req: &Req<'_>, views: Vec<ImageView>, shared: bool) -> Result<Value, UcError> {
    let mut ids = req.params.list("ImageIds")?.unwrap_or_default();
    if let Some(id) = req.params.str("ImageId")? {
        ids.push(id.to_owned());
    }
    let image_type_wanted = req.params.str("ImageType")?;
    let os_type = req.params.str("OsType")?;
    let tag = req.params.str("Tag")?;
    let lightweight_only = req.params.str("FuncType")? == Some(FUNC_TYPE_LIGHTWEIGHT);
    let page = req.params.page_offset(PAGING)?;
    let zone = req.params.str("Zone")?.unwrap_or("");
    let prices = req.params.str("PriceSet")? == Some("1");
    // Every image is Linux and in the default group: another OsType or Tag matches none.
    let os_and_tag_match = os_type.is_none_or(|t| t == OS_TYPE) && tag.is_none_or(|t| t == TAG);
    let views: Vec<ImageView> = views
        .into_iter()
        .filter(|_| os_and_tag_match)
        .filter(|v| ids.is_empty() || ids.contains(&v.image.id))
        .filter(|v| image_type_wanted.is_none_or(|t| image_type(v) == t))
        .filter(|v| !lightweight_only || is_lightweight(v))
        .collect();
    let sets: Vec<Value> = page
        .of(&views)
        .iter()
        .map(|v| {
            let owner = shared.then_some(v.image.owner.as_str());
            image_set(v, zone, prices, owner)
        })
        .collect();
    Ok(json!({"TotalCount": views.len(), "ImageSet": sets}))
}

fn describe_image(engine: &mut Engine, req: &Req<'_>) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let views = engine.list(
        imageshare_ucloud::UHOST,
        req.project,
        region,
        &[Relation::Owner, Relation::Public],
    );
    listing(req, views, false)
}

fn describe_shared(engine: &mut Engine, req: &Req<'_>) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let views = engine.list(
        imageshare_ucloud::UHOST,
        req.project,
        region,
        &[Relation::Received],
    );
    listing(req, views, true)
}

/// TerminateCustomImage: answers `ImageId` (ucloud.md §1.3).
fn terminate_custom_image(engine: &mut Engine, req: &Req<'_>) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let id = req.params.required("ImageId")?;
    engine
        .delete(imageshare_ucloud::UHOST, req.project, region, id)
        .map_err(|e| refuse(engine, e, Op::Other, id, req.project))?;
    Ok(json!({ "ImageId": id }))
}

/// CopyCustomImage: answers `TargetImageId` and `TaskId` for a single copy, `Infos`
/// (`[{TaskId, TargetImageId, TargetRegion}]`) for a batch (ucloud.md §1.3).
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
        .image(imageshare_ucloud::UHOST, req.project, region, id)
        .map_err(|e| refuse(engine, e, Op::Other, id, req.project))?;
    match view.relation {
        Relation::Owner => {}
        // Community images are Alibaba ECS's only: never seen here.
        Relation::Public | Relation::Community => return Err(not_found(id, req.project)),
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
    let task = format!("task-{:08x}", engine.next_serial());
    let mut infos = Vec::with_capacity(regions.len());
    for (i, r) in regions.iter().enumerate() {
        let new_id = engine
            .copy(
                imageshare_ucloud::UHOST,
                req.project,
                region,
                id,
                CopySpec {
                    region: Some(r.clone()),
                    project: Some(target_project.to_owned()),
                    name: name.clone(),
                },
            )
            .map_err(|e| refuse(engine, e, Op::Other, id, req.project))?;
        let task_id = if batch {
            format!("{task}-{i}")
        } else {
            task.clone()
        };
        infos.push(json!({"TaskId": task_id, "TargetImageId": new_id, "TargetRegion": r}));
    }
    Ok(if batch {
        json!({ "Infos": infos })
    } else {
        let info = &infos[0];
        json!({"TargetImageId": info["TargetImageId"], "TaskId": info["TaskId"]})
    })
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

/// The share (`Op::Share`) and cancel-share actions: answer `ImageId`.
fn share_or_cancel(engine: &mut Engine, req: &Req<'_>, op: Op) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let id = req.params.required("ImageId")?;
    let targets = target_projects(req)?;
    if op == Op::Share {
        engine.share(imageshare_ucloud::UHOST, req.project, region, id, &targets)
    } else {
        engine.unshare(imageshare_ucloud::UHOST, req.project, region, id, &targets)
    }
    .map_err(|e| match e {
        // Not found here but owned in another region: a cross-region share.
        EngineError::ImageNotFound(_) if op == Op::Share => {
            match owned_elsewhere(engine, id, req.project, region) {
                Some(elsewhere) => cross_region(id, &elsewhere),
                None => refuse(engine, e, op, id, req.project),
            }
        }
        e => refuse(engine, e, op, id, req.project),
    })?;
    Ok(json!({ "ImageId": id }))
}

/// The list-sharees action: `{TotalCount, ProjectSet: [{ProjectId, CreateTime}]}`, paged
/// like DescribeImage, oldest share first.
fn describe_share(engine: &mut Engine, req: &Req<'_>) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let id = req.params.required("ImageId")?;
    let page = req.params.page_offset(PAGING)?;
    let view = engine
        .image(imageshare_ucloud::UHOST, req.project, region, id)
        .map_err(|e| refuse(engine, e, Op::Other, id, req.project))?;
    match view.relation {
        Relation::Owner => {}
        Relation::Received => return Err(not_sharer(id, Op::Share)),
        Relation::Public | Relation::Community => return Err(not_found(id, req.project)),
    }
    let grants = match engine.sharees_slice(imageshare_ucloud::UHOST, req.project, region, id) {
        Ok(grants) => grants,
        Err(e) => return Err(refuse(engine, e, Op::Other, id, req.project)),
    };
    let projects: Vec<Value> = page
        .of(grants)
        .iter()
        .map(|g| json!({"ProjectId": g.principal, "CreateTime": g.created_unix}))
        .collect();
    Ok(json!({"TotalCount": grants.len(), "ProjectSet": projects}))
}

/// The save-shared-image action: answers the new image's `ImageId`.
fn save_shared(engine: &mut Engine, req: &Req<'_>) -> Result<Value, UcError> {
    let region = req.params.required("Region")?;
    let id = req.params.required("ImageId")?;
    let view = engine
        .image(imageshare_ucloud::UHOST, req.project, region, id)
        .map_err(|e| refuse(engine, e, Op::Other, id, req.project))?;
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
            imageshare_ucloud::UHOST,
            req.project,
            region,
            id,
            CopySpec {
                region: None,
                project: None,
                name: req.params.str("ImageName")?.map(str::to_owned),
            },
        )
        .map_err(|e| refuse(engine, e, Op::Other, id, req.project))?;
    Ok(json!({ "ImageId": new_id }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{ImageSeed, World};
    use imageshare_core::Site;

    /// The `UHostImageSet` members of UCloud's reference (ucloud.md §2), `PriceSet` aside.
    const DOCUMENTED: &[&str] = &[
        "Zone",
        "ImageId",
        "ImageName",
        "Tag",
        "OsType",
        "OsName",
        "ImageType",
        "Features",
        "FuncType",
        "IntegratedSoftware",
        "Vendor",
        "Links",
        "State",
        "ImageDescription",
        "CreateTime",
        "ImageSize",
        "MinimalCPU",
        "MaintainEol",
        "DataSnapshotIds",
        "SupportedGPUTypes",
        "SceneCategories",
        "PrimarySoftware",
    ];

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    #[test]
    fn image_set_has_the_documented_members() {
        let world = World::builder()
            .account("100000000001", Site::China)
            .project("org-own001")
            .image(ImageSeed::new(
                imageshare_ucloud::UHOST,
                "uimage-a1",
                "org-own001",
                "cn-bj2",
            ))
            .build()
            .unwrap();
        let mut engine = Engine::new(world);
        let view = engine
            .image(
                imageshare_ucloud::UHOST,
                "org-own001",
                "cn-bj2",
                "uimage-a1",
            )
            .unwrap();
        let mut documented = DOCUMENTED.to_vec();
        documented.sort_unstable();
        assert_eq!(
            keys(&image_set(&view, "cn-bj2-02", false, None)),
            documented
        );
        let with_extras = image_set(&view, "cn-bj2-02", true, Some("org-own001"));
        documented.extend(["OwnerProjectId", "PriceSet"]);
        documented.sort_unstable();
        assert_eq!(keys(&with_extras), documented);
        assert_eq!(with_extras["State"], "Available");
        assert_eq!(with_extras["ImageType"], "Custom");
        assert_eq!(with_extras["CreateTime"], view.image.created_unix);
    }
}
