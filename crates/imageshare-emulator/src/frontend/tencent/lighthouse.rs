//! Lighthouse (API 2020-03-24) blueprint actions: `DescribeBlueprints`,
//! `Share/CancelShareBlueprintAcrossAccounts`, `DescribeBlueprintsShareAcrossAccountInfos`,
//! `SyncBlueprint`, `DeleteBlueprints`, and the CVM -> Lighthouse pair
//! `DescribeImagesToShare` / `ModifyImageSharePermission`; Lighthouse's error codes and its
//! `Blueprint` shape.

use std::collections::BTreeSet;

use imageshare_core::{ImageKind, LimitRule};
use imageshare_tencent::limits::LIGHTHOUSE_LIMITS;
use serde_json::{json, Value};

use super::actions::{
    check_accounts, copy_to, delete_all, grant, paged, permission, select, ALL_RELATIONS,
};
use super::{check_id_form, cvm, region_known, Ctx, Handler, TcError, MAX_LIMIT};
use crate::engine::cross_product::cvm_for_blueprint;
use crate::engine::{
    blueprint_for_cvm, grant_rules, Engine, EngineError, GrantRefusal, ImageView, Ineligible,
    Relation,
};
use crate::world::{ImageSeed, Origin, State};

/// Accounts per Lighthouse Share/CancelShareBlueprintAcrossAccounts call (documented; the
/// limit table's value, which the engine enforces).
pub const LIGHTHOUSE_MAX_ACCOUNTS_PER_CALL: usize = LIGHTHOUSE_LIMITS.max_principals_per_call;

/// Mainland-China cities: Lighthouse SyncBlueprint does not cross between these regions
/// and the others (`InvalidParameterValue.NotSupportCrossBorderSyncBlueprint`).
const MAINLAND_CITIES: &[&str] = &[
    "beijing",
    "chengdu",
    "chongqing",
    "guangzhou",
    "nanjing",
    "shanghai",
    "shenzhen",
    "tianjin",
    "wuhan",
    "hangzhou",
];

/// The handler of a Lighthouse action.
pub(super) fn handler(action: &str) -> Option<Handler> {
    Some(match action {
        "DescribeBlueprints" => describe_blueprints,
        "ShareBlueprintAcrossAccounts" => share,
        "CancelShareBlueprintAcrossAccounts" => cancel_share,
        "DescribeBlueprintsShareAcrossAccountInfos" => describe_share,
        "SyncBlueprint" => sync,
        "DeleteBlueprints" => delete,
        "DescribeImagesToShare" => images_to_share,
        "ModifyImageSharePermission" => modify_image_share,
        _ => return None,
    })
}

/// Whether a region is in mainland China.
fn is_mainland(region: &str) -> bool {
    region
        .strip_prefix("ap-")
        .map(|rest| rest.split('-').next().unwrap_or(""))
        .is_some_and(|city| MAINLAND_CITIES.contains(&city))
}

/// `BlueprintType` of a blueprint.
fn blueprint_type(v: &ImageView) -> &'static str {
    match v.relation {
        Relation::Owner => "PRIVATE",
        Relation::Received => "SHARED",
        // Community images are Alibaba ECS's only: never seen here.
        Relation::Public | Relation::Community => "PURE_OS",
    }
}

/// `BlueprintState` of a blueprint (tencent.md §2.2; the official SDK's `Blueprint` model,
/// tencentcloud-sdk-python-lighthouse 3.1.177: `NORMAL`, `SYNCING` 同步中, `OFFLINE`,
/// `CREATEFAILED` 创建失败, `SYNCING_FAILED` 目的地域同步失败, ...): a SyncBlueprint copy being
/// made is `SYNCING`, a failed one `SYNCING_FAILED`; a failed creation `CREATEFAILED`; a
/// source held busy by a sync `SYNCING`. The `Blueprint` shape has no progress field.
fn state(v: &ImageView) -> &'static str {
    match v.image.state {
        State::Available if v.image.source_syncing() => "SYNCING",
        State::Available => "NORMAL",
        State::Creating => "SYNCING",
        State::Unavailable => "OFFLINE",
        State::Failed if v.image.copied_from.is_some() => "SYNCING_FAILED",
        State::Failed => "CREATEFAILED",
    }
}

/// One `BlueprintSet[]` entry (tencent.md §2.2).
fn blueprint_json(engine: &Engine, v: &ImageView) -> Value {
    let img = &v.image;
    json!({
        "BlueprintId": img.id,
        "DisplayTitle": if v.relation == Relation::Public { img.name.as_str() } else { "" },
        "DisplayVersion": "",
        "Description": Value::Null,
        "OsName": "TencentOS Server 3.1 (TK4)",
        "Platform": "TENCENTOS",
        "PlatformType": "LINUX_UNIX",
        "BlueprintType": blueprint_type(v),
        "ImageUrl": "",
        "RequiredSystemDiskSize": 20,
        "BlueprintState": state(v),
        "CreatedTime": img.created_iso(),
        "BlueprintName": img.name,
        "SupportAutomationTools": true,
        "RequiredMemorySize": 1,
        "ImageId": cvm_source_of(engine, v).unwrap_or_default(),
        "CommunityUrl": "",
        "GuideUrl": "",
        "SceneIdSet": [],
        "DockerVersion": Value::Null,
        "BlueprintShared": v.shared,
        "Tags": [],
    })
}

/// The filter names `DescribeBlueprints` knows.
const FILTERS: &[&str] = &[
    "blueprint-id",
    "blueprint-type",
    "platform-type",
    "blueprint-name",
    "blueprint-state",
    "scene-id",
    "tag-key",
    "tag-value",
];

/// Whether a blueprint passes one `DescribeBlueprints` filter.
fn filter_matches(v: &ImageView, name: &str, values: &[String]) -> bool {
    let any = |f: &dyn Fn(&str) -> bool| values.iter().any(|x| f(x));
    match name {
        "blueprint-id" => any(&|x| x == v.image.id),
        "blueprint-type" => any(&|x| x == blueprint_type(v)),
        "platform-type" => any(&|x| x == "LINUX_UNIX"),
        "blueprint-name" => any(&|x| v.image.name.contains(x)),
        "blueprint-state" => any(&|x| x == state(v)),
        _ => false,
    }
}

/// `InvalidParameterValue.BlueprintIdMalformed` unless `id` is `lhbp-` and letters or
/// digits.
fn check_blueprint_id(id: &str) -> Result<(), TcError> {
    check_id_form(
        id,
        "lhbp-",
        "InvalidParameterValue.BlueprintIdMalformed",
        "blueprint",
    )
}

/// `InvalidParameterValue.InvalidImageIdMalformed` unless `id` is a CVM image id.
fn check_cvm_id(id: &str) -> Result<(), TcError> {
    check_id_form(
        id,
        "img-",
        "InvalidParameterValue.InvalidImageIdMalformed",
        "image",
    )
}

/// Checks each id of list `name` with `check` and refuses a repeated one.
fn distinct_ids(
    ids: &[String],
    name: &str,
    check: fn(&str) -> Result<(), TcError>,
) -> Result<(), TcError> {
    let mut seen = BTreeSet::new();
    for id in ids {
        check(id)?;
        if !seen.insert(id) {
            return Err(TcError::new(
                "InvalidParameterValue.Duplicated",
                format!("`{name}` contains `{id}` twice."),
            ));
        }
    }
    Ok(())
}

/// `BlueprintIds`: at most 100, well formed, none twice.
fn blueprint_ids(ctx: &Ctx<'_>, required: bool) -> Result<Option<Vec<String>>, TcError> {
    const NAME: &str = "BlueprintIds";
    let ids = if required {
        Some(ctx.params.required_list(NAME)?)
    } else {
        ctx.params.list(NAME)?
    };
    if let Some(ids) = &ids {
        if ids.len() > MAX_LIMIT as usize {
            return Err(TcError::new(
                "InvalidParameterValue.LimitExceeded",
                format!("At most {MAX_LIMIT} values are allowed in `{NAME}`."),
            ));
        }
        distinct_ids(ids, NAME, check_blueprint_id)?;
    }
    Ok(ids)
}

fn describe_blueprints(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    ctx.allow(&["BlueprintIds", "Offset", "Limit", "Filters"])?;
    let ids = blueprint_ids(ctx, false)?;
    let filters = ctx.filters(FILTERS, 100)?;
    ctx.ids_or_filters("BlueprintIds", ids.is_some())?;
    let page = ctx.paging()?;
    let views = select(
        ctx,
        imageshare_tencent::LIGHTHOUSE,
        ids.as_deref(),
        ALL_RELATIONS,
        &filters,
        filter_matches,
    );
    let engine = &*ctx.engine;
    Ok(paged(&views, page, "BlueprintSet", |v| {
        blueprint_json(engine, v)
    }))
}

/// Maps an engine refusal on Lighthouse to Tencent's code for `action`.
pub(super) fn error(e: EngineError, action: &str) -> TcError {
    let msg = e.to_string();
    let code = match &e {
        EngineError::Grant(refusal) => {
            let (code, msg) = match refusal {
                GrantRefusal::AlreadyGranted { image, principal } => (
                    "UnsupportedOperation.BlueprintAlreadyShared",
                    format!(
                        "The blueprint `{image}` is already shared with account `{principal}`."
                    ),
                ),
                GrantRefusal::NotGranted { image, principal } => (
                    "UnsupportedOperation.BlueprintHasNotShared",
                    format!("The blueprint `{image}` is not shared with account `{principal}`."),
                ),
                GrantRefusal::TooManyPrincipals { max, got } => (
                    "InvalidParameterValue.LimitExceeded",
                    format!("At most {max} AccountIds are allowed per request; got {got}."),
                ),
                // Lighthouse refuses no deprecated blueprint this way (engine::grant_rules).
                GrantRefusal::Deprecated(_) => {
                    ("UnsupportedOperation.BlueprintCurStateInvalid", msg)
                }
            };
            return TcError::new(code, msg);
        }
        EngineError::ImageNotFound(_) => match action {
            "SyncBlueprint" => "ResourceNotFound.PrivateBlueprintNotFound",
            _ => "ResourceNotFound.BlueprintIdNotFound",
        },
        EngineError::NotOwner(_) => "ResourceNotFound.PrivateBlueprintNotFound",
        EngineError::PrincipalNotFound(_) => "InvalidParameterValue.AccountIdsNotExist",
        EngineError::MissingRole(_) => "ResourceNotFound.RoleNotFound",
        EngineError::InvalidParameter { .. } => "InvalidParameterValue",
        EngineError::InvalidState { .. } => "UnsupportedOperation.BlueprintCurStateInvalid",
        EngineError::Rule { rule, .. } => match rule {
            LimitRule::ReceivedImage if action == "DeleteBlueprints" => {
                "UnsupportedOperation.NotSupportSharedBlueprint"
            }
            LimitRule::PublicImage if action == "DeleteBlueprints" => {
                "UnauthorizedOperation.NoPermission"
            }
            LimitRule::PublicImage | LimitRule::ReceivedImage => {
                "ResourceNotFound.PrivateBlueprintNotFound"
            }
            LimitRule::ImageState => "UnsupportedOperation.BlueprintCurStateInvalid",
            LimitRule::ImageKind | LimitRule::MarketplaceDerived | LimitRule::EncryptedImage => {
                "InvalidParameterValue.InvalidBlueprintId"
            }
            LimitRule::PrincipalForm | LimitRule::PrincipalKind => {
                "InvalidParameterValue.AccountIdsNotExist"
            }
            LimitRule::ShareWithSelf => "InvalidParameterValue.AccountIdSameWithUin",
            LimitRule::CrossSite => "InvalidParameterValue.AccountIdInvalidAccountArea",
            LimitRule::MaxShareesPerImage => {
                "LimitExceeded.ShareBlueprintAcrossAccountQuotaLimitExceeded"
            }
            LimitRule::DeleteWhileShared => "UnsupportedOperation.BlueprintOccupied",
            _ => "InvalidParameterValue",
        },
    };
    TcError::new(code, msg)
}

fn share(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    share_or_cancel(ctx, true)
}

fn cancel_share(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    share_or_cancel(ctx, false)
}

/// `ShareBlueprintAcrossAccounts` (`granting`) and `CancelShareBlueprintAcrossAccounts`.
fn share_or_cancel(ctx: &mut Ctx<'_>, granting: bool) -> Result<Value, TcError> {
    let action = if granting {
        "ShareBlueprintAcrossAccounts"
    } else {
        "CancelShareBlueprintAcrossAccounts"
    };
    ctx.allow(&["BlueprintId", "AccountIds"])?;
    let id = ctx.params.required("BlueprintId")?.to_owned();
    check_blueprint_id(&id)?;
    let accounts = ctx.params.required_list("AccountIds")?;
    grant_rules(imageshare_tencent::LIGHTHOUSE)
        .check_call_size(&LIGHTHOUSE_LIMITS, accounts.len())
        .map_err(|e| error(e, action))?;
    check_accounts(ctx, &accounts, |a, e| {
        // A sub-user or collaborator name is not a main account; anything else malformed
        // names no account at all.
        let code = if a.contains('@') || a.contains(':') {
            "InvalidParameterValue.AccountIdsNotOwnerAccount"
        } else {
            "InvalidParameterValue.AccountIdsNotExist"
        };
        TcError::new(code, e.to_string())
    })?;
    grant(ctx, &id, &accounts, granting, action)?;
    Ok(json!({}))
}

fn describe_share(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    ctx.allow(&["BlueprintIds", "Offset", "Limit", "Filters"])?;
    let ids = blueprint_ids(ctx, true)?.unwrap_or_default();
    let filters = ctx.filters(&["account-id"], 5)?;
    let page = ctx.paging()?;
    // Rows are counted over every grant, but only the page's rows are built (an image may
    // have 100,000 grants and a client reads them 100 at a time).
    let mut total = 0usize;
    let mut rows = Vec::new();
    for id in &ids {
        let Ok(grants) =
            ctx.engine
                .sharees_slice(imageshare_tencent::LIGHTHOUSE, ctx.caller, ctx.region, id)
        else {
            continue;
        };
        for g in grants {
            let keep = filters
                .iter()
                .all(|(_, vals)| vals.iter().any(|v| v == &g.principal));
            if !keep {
                continue;
            }
            if page.holds(total) {
                rows.push(json!({
                    "BlueprintId": id,
                    "AccountId": g.principal,
                    "CreatedTime": g.created_iso(),
                }));
            }
            total += 1;
        }
    }
    Ok(json!({
        "TotalCount": total,
        "BlueprintShareAcrossAccountInfoSet": rows,
    }))
}

fn sync(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    const ACTION: &str = "SyncBlueprint";
    ctx.allow(&["BlueprintId", "DestinationRegions"])?;
    let id = ctx.params.required("BlueprintId")?.to_owned();
    check_blueprint_id(&id)?;
    let regions = ctx.params.required_list("DestinationRegions")?;
    if regions.len() > 10 {
        return Err(TcError::new(
            "LimitExceeded",
            "At most 10 destination regions are allowed per request.",
        ));
    }
    let mut seen = BTreeSet::new();
    for r in &regions {
        if !seen.insert(r) {
            return Err(TcError::new(
                "InvalidParameterValue.Duplicated",
                format!("`DestinationRegions` contains `{r}` twice."),
            ));
        }
        if !region_known(ctx.engine, r) {
            return Err(TcError::new(
                "InvalidParameterValue.UnavailableRegion",
                format!("The region `{r}` is not available."),
            ));
        }
        if r == ctx.region {
            return Err(TcError::new(
                "InvalidParameterValue.DestinationRegionSameAsSourceRegion",
                "The destination region is the source region.",
            ));
        }
        if is_mainland(r) != is_mainland(ctx.region) {
            return Err(TcError::new(
                "InvalidParameterValue.NotSupportCrossBorderSyncBlueprint",
                format!(
                    "Blueprints cannot be synced between `{}` and `{r}` (mainland China and \
                     other regions).",
                    ctx.region
                ),
            ));
        }
    }
    let view = ctx
        .engine
        .image(imageshare_tencent::LIGHTHOUSE, ctx.caller, ctx.region, &id)
        .map_err(|e| error(e, ACTION))?;
    if view.relation != Relation::Owner {
        return Err(TcError::new(
            "ResourceNotFound.PrivateBlueprintNotFound",
            format!("The custom blueprint `{id}` does not exist."),
        ));
    }
    // "只支持NORMAL状态的镜像进行同步" (SDK client doc); the code is the one SyncBlueprint
    // lists for it: FailedOperation.UnableToSyncBlueprint, "当前镜像状态无法进行跨地域同步"
    // (tencent.md §4; tencentcloud-sdk-python-lighthouse errorcodes).
    if view.image.state != State::Available || view.image.source_syncing() {
        return Err(TcError::new(
            "FailedOperation.UnableToSyncBlueprint",
            format!(
                "The blueprint `{id}` is {}; only NORMAL blueprints can be synced.",
                state(&view)
            ),
        ));
    }
    // SyncBlueprint takes no name (tencent.md §2.5, API 2020-03-24): each copy keeps the
    // blueprint's own name, which is how a copy is found again by name.
    let made = copy_to(ctx, &id, &regions, Some(&view.image.name), ACTION)?;
    let ids: Vec<String> = made.iter().map(|(_, i)| i.clone()).collect();
    ctx.engine.hold_source(&id, &ids);
    let set: Vec<Value> = made
        .into_iter()
        .map(|(region, new_id)| json!({"Region": region, "BlueprintId": new_id}))
        .collect();
    Ok(json!({ "DestinationRegionBlueprintSet": set }))
}

fn delete(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    ctx.allow(&["BlueprintIds"])?;
    let ids = blueprint_ids(ctx, true)?.unwrap_or_default();
    delete_all(ctx, &ids, |_| Ok(()), false, "DeleteBlueprints")
}

/// Why a CVM image cannot be shared to Lighthouse (the engine's rule, worded), or `None`.
fn unshareable_reason(engine: &Engine, v: &ImageView) -> Option<String> {
    let reason = match engine.cvm_to_lighthouse(v).err()? {
        Ineligible::NotOwned => "Only custom images of this account can be shared to Lighthouse.",
        Ineligible::AlreadyShared => "The image has already been shared to Lighthouse.",
        Ineligible::Imported => "Imported images cannot be shared to Lighthouse.",
        Ineligible::WholeMachine => "Whole-instance images cannot be shared to Lighthouse.",
        Ineligible::NotAvailable => "The image is not in the NORMAL state.",
    };
    Some(reason.to_owned())
}

/// One `ImageSet[]` entry of `DescribeImagesToShare`.
fn image_json(engine: &Engine, v: &ImageView) -> Value {
    let img = &v.image;
    let reason = unshareable_reason(engine, v);
    json!({
        "ImageId": img.id,
        "ImageName": img.name,
        "ImageDescription": "",
        "ImageSize": 50,
        "ImageSource": if img.origin == Origin::Imported { "EXTERNAL_IMPORT" } else { "CREATE_IMAGE" },
        "ImageClass": if img.kind == ImageKind::WholeMachine { "InstanceImage" } else { "SystemImage" },
        "ImageState": cvm::state(v),
        "IsSupportCloudinit": true,
        "Architecture": "x86_64",
        "OsName": "TencentOS Server 3.1 (TK4)",
        "Platform": "TencentOS",
        "CreatedTime": img.created_iso(),
        "IsShareable": reason.is_none(),
        "UnshareableReason": reason.unwrap_or_default(),
    })
}

fn images_to_share(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    ctx.allow(&["ImageIds", "Offset", "Limit", "Filters"])?;
    let ids = ctx.params.list("ImageIds")?;
    let filters = ctx.filters(&["image-id", "image-name", "image-type"], 5)?;
    ctx.ids_or_filters("ImageIds", ids.is_some())?;
    let page = ctx.paging()?;
    if let Some(ids) = &ids {
        distinct_ids(ids, "ImageIds", check_cvm_id)?;
    }
    // Without an image-type filter: the caller's own custom images.
    let relations = if filters.iter().any(|(n, _)| n == "image-type") {
        ALL_RELATIONS
    } else {
        &[Relation::Owner]
    };
    let views = select(
        ctx,
        imageshare_tencent::CVM,
        ids.as_deref(),
        relations,
        &filters,
        cvm::filter_matches,
    );
    let engine = &*ctx.engine;
    Ok(paged(&views, page, "ImageSet", |v| image_json(engine, v)))
}

fn modify_image_share(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    ctx.allow(&["ImageId", "Permission"])?;
    let id = ctx.params.required("ImageId")?.to_owned();
    check_cvm_id(&id)?;
    let sharing = permission(ctx)?;
    let view = ctx
        .engine
        .image(imageshare_tencent::CVM, ctx.caller, ctx.region, &id)
        .map_err(|_| {
            TcError::new(
                "ResourceNotFound.ImageIdNotFound",
                format!("The image `{id}` does not exist."),
            )
        })?;
    let blueprint = blueprint_for_cvm(&id);
    let existing = ctx
        .engine
        .image(
            imageshare_tencent::LIGHTHOUSE,
            ctx.caller,
            ctx.region,
            &blueprint,
        )
        .ok()
        .filter(|b| b.relation == Relation::Owner);
    if sharing {
        if existing.is_some() {
            return Err(TcError::new(
                "UnsupportedOperation.ImageAlreadyShared",
                format!("The image `{id}` has already been shared to Lighthouse as `{blueprint}`."),
            ));
        }
        if let Some(reason) = unshareable_reason(ctx.engine, &view) {
            return Err(TcError::new(
                "UnsupportedOperation.ImageUnableToShare",
                reason,
            ));
        }
        let mut seed = ImageSeed::new(
            imageshare_tencent::LIGHTHOUSE,
            &blueprint,
            ctx.caller,
            ctx.region,
        )
        .kind(ImageKind::LightweightHost)
        .name(&view.image.name)
        .origin(match view.image.origin {
            Origin::Marketplace => Origin::Marketplace,
            _ => Origin::Custom,
        });
        seed.encrypted = view.image.encrypted;
        ctx.engine.add_image(&seed);
        Ok(json!({ "BlueprintId": blueprint }))
    } else {
        if existing.is_none() {
            return Err(TcError::new(
                "FailedOperation.ImageOperationFailed",
                format!("The image `{id}` is not shared to Lighthouse."),
            ));
        }
        // Taking the image back deletes its blueprint, under the engine's delete rules.
        ctx.engine
            .delete(
                imageshare_tencent::LIGHTHOUSE,
                ctx.caller,
                ctx.region,
                &blueprint,
            )
            .map_err(|e| match e {
                EngineError::Rule {
                    rule: LimitRule::DeleteWhileShared,
                    ..
                } => TcError::new(
                    "ResourceInUse.ImageInUse",
                    format!(
                        "The blueprint `{blueprint}` made from `{id}` is shared with other \
                         accounts; cancel that first."
                    ),
                ),
                other => error(other, "ModifyImageSharePermission"),
            })?;
        Ok(json!({ "BlueprintId": Value::Null }))
    }
}

/// The CVM image a blueprint was shared from, if it was.
fn cvm_source_of(engine: &Engine, bp: &ImageView) -> Option<String> {
    let candidate = cvm_for_blueprint(&bp.image.id);
    engine
        .images()
        .find(|i| {
            i.provider == imageshare_tencent::CVM
                && i.id == candidate
                && i.owner == bp.image.owner
                && i.region == bp.image.region
        })
        .map(|i| i.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blueprints_of_cvm_images_and_mainland_regions() {
        assert_eq!(blueprint_for_cvm("img-6pb6lrmy"), "lhbp-6pb6lrmy");
        assert!(is_mainland("ap-guangzhou") && is_mainland("ap-shenzhen-fsi"));
        assert!(!is_mainland("ap-hongkong") && !is_mainland("na-ashburn"));
    }

    #[test]
    fn cross_site_rule_maps_to_account_area() {
        use imageshare_core::Site;
        // The cross-site rule is the engine's; the front-end only names the code.
        let e = error(
            EngineError::Rule {
                rule: LimitRule::CrossSite,
                message: format!("x is an account of the {} site", Site::International),
            },
            "ShareBlueprintAcrossAccounts",
        );
        assert_eq!(e.code, "InvalidParameterValue.AccountIdInvalidAccountArea");
    }
}
