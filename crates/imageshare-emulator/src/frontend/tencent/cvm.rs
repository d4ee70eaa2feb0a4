//! CVM (API 2017-03-12) image actions: `DescribeImages`, `ModifyImageSharePermission`,
//! `DescribeImageSharePermission`, `SyncImages`, `DeleteImages`; CVM's error codes and its
//! `Image` shape.

use std::collections::BTreeSet;

use imageshare_core::{ImageKind, LimitRule};
use serde_json::{json, Value};

use super::actions::{
    check_accounts, copy_to, delete_all, grant, paged, permission, select, ALL_RELATIONS,
};
use super::{check_id_form, region_known, Ctx, Handler, TcError, MAX_LIMIT};
use crate::engine::{EngineError, GrantRefusal, ImageView, Relation};
use crate::world::{Encrypted, Origin, State};

/// Custom images per account and region (documented for CVM SyncImages).
pub const CVM_CUSTOM_IMAGES_PER_REGION: usize = 500;

/// The handler of a CVM action.
pub(super) fn handler(action: &str) -> Option<Handler> {
    Some(match action {
        "DescribeImages" => describe_images,
        "ModifyImageSharePermission" => modify_share,
        "DescribeImageSharePermission" => describe_share,
        "SyncImages" => sync_images,
        "DeleteImages" => delete_images,
        _ => return None,
    })
}

/// `ImageState` of a CVM image (tencent.md §1.2; the official SDK's `Image` model,
/// tencentcloud-sdk-python-cvm 3.1.178: `CREATING` 创建中, `NORMAL`, `CREATEFAILED` 创建失败,
/// `SYNCING` 复制中, `IMPORTING`, `IMPORTFAILED`): a SyncImages copy being made is `SYNCING`
/// (the legacy SyncCvmImage doc names the destination's state "being synchronized"; that the
/// 2017-03-12 API shows `SYNCING` rather than `CREATING` on the destination is UNCONFIRMED),
/// and so is a source held busy by a sync ([`crate::world::copies`]); a failed creation or
/// copy is `CREATEFAILED` (the list has no sync-failed state).
pub(super) fn state(v: &ImageView) -> &'static str {
    match v.image.state {
        State::Available if v.image.source_syncing() => "SYNCING",
        State::Available | State::Unavailable => "NORMAL",
        State::Creating if v.image.copied_from.is_some() => "SYNCING",
        State::Creating => "CREATING",
        State::Failed => "CREATEFAILED",
    }
}

/// `ImageType` of a CVM image.
fn image_type(v: &ImageView) -> &'static str {
    match v.relation {
        Relation::Owner => "PRIVATE_IMAGE",
        Relation::Received => "SHARED_IMAGE",
        // Community images are Alibaba ECS's only: never seen here.
        Relation::Public | Relation::Community => "PUBLIC_IMAGE",
    }
}

/// One snapshot of a CVM image (its `SnapshotSet[]` entry, and what CBS
/// `DescribeSnapshots` reports about it).
pub(super) struct ImageSnapshot {
    /// `snap-<fnv8 of the image id>` (system disk) or of `<image id>/data` (data disk).
    pub(super) id: String,
    /// `SYSTEM_DISK` or `DATA_DISK`.
    pub(super) usage: &'static str,
    /// GiB.
    pub(super) size: u64,
}

/// The snapshots of a CVM image: the system disk's, and a data disk's for a
/// whole-machine image.
pub(super) fn snapshots(v: &ImageView) -> Vec<ImageSnapshot> {
    let id = &v.image.id;
    let mut out = vec![ImageSnapshot {
        id: format!("snap-{}", fnv8(id)),
        usage: "SYSTEM_DISK",
        size: 50,
    }];
    if v.image.kind == ImageKind::WholeMachine {
        out.push(ImageSnapshot {
            id: format!("snap-{}", fnv8(&format!("{id}/data"))),
            usage: "DATA_DISK",
            size: 100,
        });
    }
    out
}

/// One `ImageSet[]` entry (tencent.md §1.2).
fn image_json(v: &ImageView) -> Value {
    let img = &v.image;
    let public = img.origin == Origin::Public;
    let snapshots: Vec<Value> = snapshots(v)
        .into_iter()
        .map(|s| json!({"SnapshotId": s.id, "DiskUsage": s.usage, "DiskSize": s.size}))
        .collect();
    let state = state(v);
    json!({
        "ImageId": img.id,
        "OsName": "TencentOS Server 3.1 (TK4)",
        "ImageType": image_type(v),
        "CreatedTime": img.created_iso(),
        "ImageName": img.name,
        "ImageDescription": if public { "Official image" } else { "" },
        "ImageSize": img.size_gib,
        "Architecture": "x86_64",
        "ImageState": state,
        "Platform": "TencentOS",
        "ImageCreator": if public { "tencent".to_owned() } else { img.owner.clone() },
        "ImageSource": match img.origin {
            Origin::Public => "OFFICIAL",
            Origin::Imported => "EXTERNAL_IMPORT",
            _ => "CREATE_IMAGE",
        },
        // `SyncPercent` (Integer, may be null: tencent.md §1.2, DescribeImages `Image`): how
        // far a copy being made has come.
        "SyncPercent": img.progress,
        "IsSupportCloudinit": true,
        "SnapshotSet": snapshots,
        "Tags": [],
        "LicenseType": "TencentCloud",
        "ImageFamily": "",
        "ImageDeprecated": img.state == State::Unavailable,
    })
}

/// Whether a CVM image passes one `DescribeImages` filter.
pub(super) fn filter_matches(v: &ImageView, name: &str, values: &[String]) -> bool {
    let any = |f: &dyn Fn(&str) -> bool| values.iter().any(|x| f(x));
    match name {
        "image-id" => any(&|x| x == v.image.id),
        "image-type" => any(&|x| x == image_type(v)),
        "image-name" => any(&|x| v.image.name.contains(x)),
        "platform" => any(&|x| "TencentOS".to_lowercase().contains(&x.to_lowercase())),
        // No tags, dedicated clusters or CDC caches in the emulated world.
        _ => false,
    }
}

/// The filter names `DescribeImages` knows.
const FILTERS: &[&str] = &[
    "image-id",
    "image-type",
    "image-name",
    "platform",
    "tag-key",
    "tag-value",
    "dedicated-cluster-id",
    "cdc-cache-status",
];

fn describe_images(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    ctx.allow(&["ImageIds", "Filters", "Offset", "Limit", "InstanceType"])?;
    let ids = ctx.params.list("ImageIds")?;
    let filters = ctx.filters(FILTERS, 5)?;
    ctx.ids_or_filters("ImageIds", ids.is_some())?;
    let page = ctx.paging()?;
    if let Some(ids) = &ids {
        if ids.len() > MAX_LIMIT as usize {
            return Err(TcError::new(
                "InvalidParameterValue.LimitExceeded",
                "At most 100 ImageIds are allowed per request.",
            ));
        }
        ids.iter().try_for_each(|id| check_id(id))?;
    }
    let views = select(
        ctx,
        imageshare_tencent::CVM,
        ids.as_deref(),
        ALL_RELATIONS,
        &filters,
        filter_matches,
    );
    Ok(paged(&views, page, "ImageSet", image_json))
}

/// `InvalidImageId.Malformed` unless `id` is `img-` and letters or digits.
fn check_id(id: &str) -> Result<(), TcError> {
    check_id_form(id, "img-", "InvalidImageId.Malformed", "image")
}

/// `ImageId`, required and well formed.
fn image_id(ctx: &Ctx<'_>) -> Result<String, TcError> {
    let id = ctx.params.required("ImageId")?;
    check_id(id)?;
    Ok(id.to_owned())
}

fn not_found(id: &str) -> TcError {
    TcError::new(
        "InvalidImageId.NotFound",
        format!("The image `{id}` does not exist."),
    )
}

/// Maps an engine refusal on CVM to Tencent's code for `action`.
pub(super) fn error(e: EngineError, action: &str) -> TcError {
    let msg = e.to_string();
    let code = match &e {
        EngineError::Grant(GrantRefusal::Deprecated(id)) => {
            return TcError::new(
                "InvalidParameterValue.InvalidImageId",
                format!("The image `{id}` is deprecated; the operation is not allowed on it."),
            )
        }
        EngineError::Grant(GrantRefusal::AlreadyGranted { image, principal }) => {
            return TcError::new(
                "FailedOperation.AccountAlreadyExists",
                format!("The image `{image}` is already shared with account `{principal}`."),
            )
        }
        // CVM makes no other grant refusal (engine::grant_rules).
        EngineError::Grant(_) => "InvalidParameterValue",
        EngineError::ImageNotFound(id) => return not_found(id),
        EngineError::NotOwner(_) => "UnauthorizedOperation.ImageNotBelongToAccount",
        EngineError::PrincipalNotFound(_) => "InvalidAccountId.NotFound",
        EngineError::MissingRole(_) => "UnauthorizedOperation.PermissionDenied",
        EngineError::InvalidParameter { .. } if action == "SyncImages" => {
            "InvalidParameterValue.InvalidRegion"
        }
        EngineError::InvalidParameter { .. } => "InvalidParameterValue",
        EngineError::InvalidState { .. } if action == "ModifyImageSharePermission" => {
            "InvalidParameterValue.InvalidImageState"
        }
        EngineError::InvalidState { .. } => "InvalidImageId.IncorrectState",
        EngineError::Rule { rule, .. } => match rule {
            LimitRule::PublicImage | LimitRule::ReceivedImage => match action {
                "DeleteImages" if *rule == LimitRule::ReceivedImage => {
                    "InvalidParameterValue.InvalidImageIdIsShared"
                }
                "DeleteImages" | "SyncImages" => "InvalidParameterValue.InvalidImageId",
                _ => "UnauthorizedOperation.ImageNotBelongToAccount",
            },
            LimitRule::MarketplaceDerived => "InvalidParameterValue.InvalidImageId",
            LimitRule::EncryptedImage => "UnsupportedOperation.EncryptedImagesNotSupported",
            LimitRule::ImageKind => "InvalidParameter.InstanceImageNotSupport",
            LimitRule::ImageState => "InvalidParameterValue.InvalidImageState",
            LimitRule::PrincipalForm | LimitRule::PrincipalKind => "InvalidAccountId.NotFound",
            LimitRule::ShareWithSelf => "InvalidAccountIs.YourSelf",
            LimitRule::MaxShareesPerImage => "OverQuota",
            LimitRule::DeleteWhileShared => "InvalidImageId.InShared",
            _ => "InvalidParameterValue",
        },
    };
    TcError::new(code, msg)
}

fn modify_share(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    const ACTION: &str = "ModifyImageSharePermission";
    ctx.allow(&["ImageId", "AccountIds", "Permission"])?;
    let id = image_id(ctx)?;
    let accounts = ctx.params.required_list("AccountIds")?;
    let sharing = permission(ctx)?;
    check_accounts(ctx, &accounts, |_, e| error(e, ACTION))?;
    grant(ctx, &id, &accounts, sharing, ACTION)?;
    Ok(json!({}))
}

fn describe_share(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    const ACTION: &str = "DescribeImageSharePermission";
    ctx.allow(&["ImageId"])?;
    let id = image_id(ctx)?;
    let view = ctx
        .engine
        .image(imageshare_tencent::CVM, ctx.caller, ctx.region, &id)
        .map_err(|e| error(e, ACTION))?;
    if view.relation != Relation::Owner {
        return Err(TcError::new(
            "UnauthorizedOperation.ImageNotBelongToAccount",
            format!("The image `{id}` does not belong to this account."),
        ));
    }
    let grants = ctx
        .engine
        .sharees(imageshare_tencent::CVM, ctx.caller, ctx.region, &id)
        .map_err(|e| error(e, ACTION))?;
    let set: Vec<Value> = grants
        .iter()
        .map(|g| json!({"CreatedTime": g.created_iso(), "AccountId": g.principal}))
        .collect();
    Ok(json!({ "SharePermissionSet": set }))
}

fn sync_images(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    const ACTION: &str = "SyncImages";
    ctx.allow(&[
        "ImageIds",
        "DestinationRegions",
        "DryRun",
        "ImageName",
        "ImageSetRequired",
        "Encrypt",
        "KmsKeyId",
    ])?;
    let ids = ctx.params.required_list("ImageIds")?;
    if ids.len() != 1 {
        return Err(TcError::new(
            "InvalidParameterValue.LimitExceeded",
            "SyncImages takes exactly one image per request.",
        ));
    }
    let id = ids[0].clone();
    check_id(&id)?;
    let mut regions = ctx.params.required_list("DestinationRegions")?;
    let mut seen = BTreeSet::new();
    regions.retain(|r| seen.insert(r.clone()));
    if let Some(bad) = regions.iter().find(|r| !region_known(ctx.engine, r)) {
        return Err(TcError::new(
            "InvalidRegion.NotFound",
            format!("The region `{bad}` does not exist."),
        ));
    }
    // `ImageName`: the copies' name, "目标镜像名称。默认使用源镜像名称" (the official SDK's
    // SyncImagesRequest, tencentcloud-sdk-python-cvm 3.1.178); max 60 chars (tencent.md
    // §1.4, https://cloud.tencent.com/document/api/213/15711). Too long is
    // `InvalidParameterValue.TooLong`, one of SyncImages' documented codes (tencent.md §4;
    // which code the cloud gives for this case is UNCONFIRMED).
    let name = ctx.params.str("ImageName")?.map(str::to_owned);
    if name.as_ref().is_some_and(|n| n.chars().count() > 60) {
        return Err(TcError::new(
            "InvalidParameterValue.TooLong",
            "ImageName must be at most 60 characters.",
        ));
    }
    let dry_run = ctx.params.bool("DryRun")?.unwrap_or(false);
    let set_required = ctx.params.bool("ImageSetRequired")?.unwrap_or(false);
    if ctx.params.bool("Encrypt")?.unwrap_or(false) {
        return Err(TcError::new(
            "UnsupportedOperation",
            "Copying to an encrypted custom image (Encrypt=true) is not modelled by the emulator.",
        ));
    }
    let view = ctx
        .engine
        .image(imageshare_tencent::CVM, ctx.caller, ctx.region, &id)
        .map_err(|e| error(e, ACTION))?;
    if view.relation == Relation::Public {
        return Err(TcError::new(
            "InvalidParameterValue.InvalidImageId",
            format!("The public image `{id}` cannot be synced."),
        ));
    }
    if view.image.kind == ImageKind::WholeMachine {
        return Err(TcError::new(
            "InvalidParameter.InstanceImageNotSupport",
            "Whole-instance images are not supported by this action.",
        ));
    }
    if view.image.encrypted != Encrypted::None {
        return Err(TcError::new(
            "UnsupportedOperation.EncryptedImagesNotSupported",
            format!("The image `{id}` is encrypted."),
        ));
    }
    if view.image.state != State::Available {
        return Err(TcError::new(
            "InvalidImageId.IncorrectState",
            format!("The image `{id}` is not in the NORMAL state."),
        ));
    }
    if view.image.source_syncing() {
        return Err(TcError::new(
            "FailedOperation.InvalidImageState",
            format!("The image `{id}` is busy syncing; retry later."),
        ));
    }
    for r in &regions {
        match view.relation {
            Relation::Owner if r == ctx.region => {
                return Err(TcError::new(
                    "InvalidParameterValue.InvalidRegion",
                    format!("The destination region `{r}` is the source region of a custom image."),
                ))
            }
            Relation::Received if r != ctx.region => {
                return Err(TcError::new(
                    "InvalidParameterValue.InvalidRegion",
                    format!(
                        "A shared image can only be synced to its own region `{}`.",
                        ctx.region
                    ),
                ))
            }
            _ => {}
        }
        let owned = ctx
            .engine
            .list(imageshare_tencent::CVM, ctx.caller, r, &[Relation::Owner])
            .len();
        if owned >= CVM_CUSTOM_IMAGES_PER_REGION {
            return Err(TcError::new(
                "ImageQuotaLimitExceeded",
                format!("The custom image quota of region `{r}` is exhausted."),
            ));
        }
    }
    if dry_run {
        return Err(super::dry_run());
    }
    let made = copy_to(ctx, &id, &regions, name.as_deref(), ACTION)?;
    let ids: Vec<String> = made.iter().map(|(_, i)| i.clone()).collect();
    ctx.engine.hold_source(&id, &ids);
    let set: Vec<Value> = made
        .into_iter()
        .map(|(region, new_id)| json!({"ImageId": new_id, "Region": region}))
        .collect();
    Ok(json!({ "ImageSet": if set_required { set } else { Vec::new() } }))
}

fn delete_images(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    ctx.allow(&["ImageIds", "DeleteBindedSnap", "DryRun"])?;
    let ids = ctx.params.required_list("ImageIds")?;
    ctx.params.bool("DeleteBindedSnap")?;
    let dry_run = ctx.params.bool("DryRun")?.unwrap_or(false);
    let mut seen = BTreeSet::new();
    let ids: Vec<String> = ids.into_iter().filter(|i| seen.insert(i.clone())).collect();
    delete_all(ctx, &ids, check_id, dry_run, "DeleteImages")
}

pub(super) fn fnv8(s: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}
