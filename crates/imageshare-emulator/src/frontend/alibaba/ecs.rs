//! ECS (API 2014-05-26) image actions: `DescribeImages`, `ModifyImageSharePermission`,
//! `DescribeImageSharePermission`, `CopyImage`, `CancelCopyImage`, `DeleteImage`; ECS's
//! error codes (which
//! SWAS-OPEN borrows where it publishes none) and its `Image` shape.
//!
//! Community images (the engine's [`community`](crate::engine::community) part):
//! - `ModifyImageSharePermission` `IsPublic=true` publishes an image of the caller, when
//!   the caller has signed the Community Image Terms of Service
//!   ([`World::community_terms_signed`](crate::world::World::community_terms_signed); else
//!   403 `PublicImageAgreement.NotSigned`, "The current account has not signed
//!   \"Community Image Terms of Service\"."); `IsPublic=false` unpublishes one, and answers
//!   403 `Image.NotPublic` ("The specified image is not public image.") for an image that
//!   is not published: the error table describes that code as "The specified image is not
//!   published as a community image and cannot be unpublished", while the official SDK's
//!   ModifyImageSharePermissionRequest (7.11.8) says of `false` "If the image is already a
//!   regular image, no changes are made"; the sources disagree, the emulator follows the
//!   error table (UNCONFIRMED). Codes and messages: the error table of the current API reference,
//!   <https://www.alibabacloud.com/help/en/ecs/developer-reference/api-modifyimagesharepermission>
//!   (change history to 2025-04-29; alibaba.md 2.2 [S5]).
//! - Refusals whose code the reference does not tie to the case (UNCONFIRMED): an
//!   encrypted image, 403 `OperationDeined.EncryptedSnapshot` (sic; "The image contains
//!   encrypted snapshots, which do not support share."); sharing or copying a community
//!   image, 403 `Image.Public`; `IsPublic=true` sent with `AddAccount` / `RemoveAccount`,
//!   403 `InvalidParameter.IsPublic` ("The specified parameter IsPublic is conflicted with
//!   other parameters."; which parameters conflict is not documented). Another account's
//!   image is `InvalidImageId.NotFound` ("The specified image does not exist in this
//!   account"), a system image `Image.Public`, a marketplace-derived or unavailable one
//!   the codes of a share.
//! - `DescribeImages` lists other accounts' community images of the region only with
//!   `IsPublic=true` and `ImageOwnerAlias=others`. The official SDK's DescribeImagesRequest
//!   (alibabacloud-ecs20140526 7.11.8, alibaba.md [S1]): "others: Includes shared images
//!   ... and community images ... To find community images, IsPublic must be set to true.
//!   To find shared images, IsPublic must be set to false or left empty"; `IsPublic`
//!   "false: Queries image types other than community images", default false; "When you
//!   set this parameter to true, ImageOwnerAlias must be set to others". So a listing or a
//!   lookup by `ImageId` without `IsPublic=true`, with no alias too, has no community
//!   image of another account. `IsPublic=true` with no alias is answered as with `others`,
//!   and with `self` / `system` / `marketplace` ignored (what the service does there is
//!   UNCONFIRMED). The owner sees its own published image under `self` as before, with
//!   `IsPublic: true` (UNCONFIRMED whether the service leaves it out of `IsPublic=false`
//!   listings); to other accounts it is `ImageOwnerAlias: "others"`, `IsPublic: true`.
//! - `DescribeImageSharePermission` of a community image has `ShareGroups.ShareGroup[{Group:
//!   "all"}]` (the reference's example value of `Group`; that it marks a community image
//!   is alibaba.md's reading, UNCONFIRMED); its direct shares stay in `Accounts`.

use imageshare_core::{ImageKind, LimitRule, Provider};
use serde_json::{json, Value};

use super::sas_to_ecs::{ecs_key, wire_id};
use super::{account_json, invalid_parameter, not_found_action, AliError};
use crate::engine::{CopySpec, Engine, EngineError, ImageView, Relation};
use crate::frontend::params::Params;
use crate::world::{Account, Encrypted, ImageSeed, Origin, State};

/// Most ids `DescribeImages` takes in `ImageId` (comma-separated), the client's sourced
/// constant ("最多 100 个Id", ECS API reference, DescribeImages). The code ECS answers past
/// it is not published: the emulator answers `InvalidParameter` (UNCONFIRMED).
use imageshare_alibaba::ecs::DESCRIBE_IMAGES_MAX_IDS;

/// `InvalidImageId.NotFound`.
pub(super) fn image_not_found(id: &str) -> AliError {
    AliError::new(
        404,
        "InvalidImageId.NotFound",
        format!("The specified image {id} does not exist."),
    )
}

/// Maps an engine refusal to ECS's documented code and status (alibaba.md 2.2). `id` is
/// the image id as the client sent it.
pub(super) fn error(e: EngineError, id: &str) -> AliError {
    match e {
        EngineError::ImageNotFound(_) | EngineError::NotOwner(_) => image_not_found(id),
        EngineError::PrincipalNotFound(p) => account_not_found(&p),
        EngineError::MissingRole(role) => AliError::new(
            403,
            "AssumeRoleError",
            format!(
                "Failed to assume the role {role}: authorize ECS to use KMS before sharing an encrypted image."
            ),
        ),
        EngineError::InvalidState { .. } => incorrect_status(id),
        // Alibaba makes none of these refusals (engine::grant_rules); never produced here.
        EngineError::Grant(r) => AliError::new(400, "InvalidParameter", r.to_string()),
        EngineError::InvalidParameter { name, message } => AliError::new(
            400,
            "InvalidParameter",
            format!("The specified parameter \"{name}\" is not valid: {message}."),
        ),
        EngineError::Rule { rule, message } => match rule {
            LimitRule::MaxShareesPerImage => AliError::new(
                403,
                "QuotaExceed.ShareImageUser",
                format!("The number of users the image is shared with exceeds the quota: {message}."),
            ),
            LimitRule::ShareWithSelf => AliError::new(
                404,
                "InvalidAccount.Forbbiden",
                "The specified account is the owner of the image; an image cannot be shared with its owner.",
            ),
            // A malformed id (a RAM user name, letters) can never be an account: the
            // service looks it up and finds none.
            LimitRule::PrincipalForm | LimitRule::PrincipalKind => AliError::new(
                404,
                "InvalidAccount.NotFound",
                format!("The specified account in parameter \"AddAccount.n\" or \"RemoveAccount.n\" does not exist: {message}"),
            ),
            LimitRule::CrossSite => AliError::new(
                403,
                "InvalidImageId.BidMismatch",
                format!("Cannot share the image with users of other sites: {message}."),
            ),
            LimitRule::EncryptedImage => AliError::new(
                403,
                "InvalidOperation.ServiceKeyEncryptedImageUnsupported",
                "The operation is not supported for images encrypted with a service key.",
            ),
            // The service looks the image up among the caller's own images; a received
            // image is not there (alibaba.md 2.2: expected, UNCONFIRMED).
            LimitRule::ReceivedImage | LimitRule::SameRegion => image_not_found(id),
            LimitRule::PublicImage => AliError::new(
                403,
                "Image.Public",
                format!("The image {id} is a public image."),
            ),
            // alibaba.md documents no code for marketplace-derived images; `Forbidden`
            // (the common "not authorized to operate on the specified resource") is the
            // closest documented one.
            LimitRule::MarketplaceDerived => AliError::new(
                403,
                "Forbidden",
                format!("User not authorized to operate on the specified resource: {id} is derived from a marketplace image."),
            ),
            LimitRule::ImageState if message.ends_with("unavailable") => AliError::new(
                403,
                "OperationDenied.InvalidImageStatus",
                format!("The operation is denied due to the status of image {id}."),
            ),
            LimitRule::ImageState => incorrect_status(id),
            // DeleteImage doc (help.aliyun.com/document_detail/25537.html): 403 ImageUseShared.
            LimitRule::DeleteWhileShared => AliError::new(
                403,
                "ImageUseShared",
                "The specified image has been shared to others. You can use the DescribeImageSharePermission API to query the users who have been shared.",
            ),
            // No ECS image kind is refused by the table; `Forbidden` is the closest
            // documented code should one ever be.
            _ => AliError::new(
                403,
                "Forbidden",
                format!("User not authorized to operate on the specified resource: {message}."),
            ),
        },
    }
}

/// `InvalidAccount.NotFound` for a principal.
fn account_not_found(p: &str) -> AliError {
    AliError::new(
        404,
        "InvalidAccount.NotFound",
        format!(
            "The specified account {p} in parameter \"AddAccount.n\" or \"RemoveAccount.n\" does not exist."
        ),
    )
}

/// `IncorrectImageStatus` (legacy ECS table, alibaba.md 2.2): the image is not available.
pub(super) fn incorrect_status(id: &str) -> AliError {
    AliError::new(
        400,
        "IncorrectImageStatus",
        format!("The current status of the image {id} does not support this operation."),
    )
}

/// `Status` of an ECS image (alibaba.md §1.3; the official SDK's DescribeImagesRequest,
/// alibabacloud-ecs20140526 7.11.8: `Creating`, `Waiting` "waiting in a multi-task queue",
/// `Available`, `UnAvailable`, `CreateFailed` "failed to be created", `Deprecated`; default
/// `Available`). A copy being made is `Creating` with its `Progress` rising; a failed one
/// `CreateFailed`. (`Waiting`, a copy queued behind another copy task, is not modelled.)
fn status(state: State) -> &'static str {
    match state {
        State::Available => "Available",
        State::Creating => "Creating",
        State::Unavailable => "UnAvailable",
        State::Failed => "CreateFailed",
    }
}

/// Whether `name` matches DescribeImages `ImageName`, which ECS documents as a fuzzy match
/// ("The image name. Fuzzy search is supported.", the official SDK's DescribeImagesRequest,
/// alibabacloud-ecs20140526 7.11.8; alibaba.md §1.3 [S1],
/// https://help.aliyun.com/zh/ecs/developer-reference/api-ecs-2014-05-26-describeimages):
/// modelled as a substring match, so a client that wants one exact name filters the
/// answer itself.
fn name_matches(name: &str, wanted: &str) -> bool {
    name.contains(wanted)
}

/// CopyImage `DestinationImageName` rules (alibaba.md §1.4, and the official SDK's
/// CopyImageRequest, alibabacloud-ecs20140526 7.11.8): 2-128 characters, starting
/// with a letter or a Chinese character, not `aliyun` or `acs:` at the start, no
/// `http://` or `https://`; letters, digits, Chinese characters, `.` `:` `_` `-`. The code
/// of a refusal, `InvalidImageName.Malformed` (400), is the legacy CopyImage table's
/// ("The specified destination Image name is wrongly formed."); the current one is
/// UNCONFIRMED.
fn check_copy_name(name: &str) -> Result<(), AliError> {
    let len = name.chars().count();
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || !c.is_ascii());
    let chars_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || !c.is_ascii() || ".:_-".contains(c));
    let prefix_bad = name.starts_with("aliyun") || name.starts_with("acs:");
    let url = name.contains("http://") || name.contains("https://");
    if (2..=128).contains(&len) && first_ok && chars_ok && !prefix_bad && !url {
        Ok(())
    } else {
        Err(AliError::new(
            400,
            "InvalidImageName.Malformed",
            "The specified destination Image name is wrongly formed.",
        ))
    }
}

/// One `Images.Image[]` entry, in the SDK model's field names (alibaba.md 1.3).
fn image_json(view: &ImageView) -> Value {
    let img = &view.image;
    let id = wire_id(&img.id);
    let encrypted = img.encrypted != Encrypted::None;
    let alias = match view.relation {
        Relation::Owner => "self",
        Relation::Received | Relation::Community => "others",
        Relation::Public => "system",
    };
    let mut disks = vec![json!({
        "Device": "/dev/xvda", "Type": "system", "Size": "40",
        "SnapshotId": format!("s-{}", id.trim_start_matches("m-")),
        "Format": "", "ImportOSSBucket": "", "ImportOSSObject": "", "Progress": "100%",
        "RemainTime": 0, "Encrypted": encrypted,
    })];
    if img.kind == ImageKind::WholeMachine {
        disks.push(json!({
            "Device": "/dev/xvdb", "Type": "data", "Size": "100",
            "SnapshotId": format!("s-{}d", id.trim_start_matches("m-")),
            "Format": "", "ImportOSSBucket": "", "ImportOSSObject": "", "Progress": "100%",
            "RemainTime": 0, "Encrypted": encrypted,
        }));
    }
    let product_code = if img.origin == Origin::Marketplace {
        "cmjj000001"
    } else {
        ""
    };
    let state = status(img.state);
    json!({
        "ImageId": id,
        "ImageName": img.name,
        "ImageOwnerAlias": alias,
        "ImageOwnerId": account_json(&img.owner),
        "ImageVersion": "",
        "ImageFamily": "",
        "Description": "",
        "Status": state,
        "Progress": format!("{}%", img.progress),
        "Size": img.size_gib,
        "IsCopied": img.copied_from.is_some(),
        "IsPublic": view.community,
        "IsSelfShared": if view.relation == Relation::Owner && view.shared { "true" } else { "false" },
        "IsSubscribed": false,
        "IsSupportCloudinit": true,
        "IsSupportIoOptimized": true,
        "Platform": "Ubuntu",
        "OSType": "linux",
        "OSName": "Ubuntu 22.04 64 bit",
        "OSNameEn": "Ubuntu 22.04 64 bit",
        "Architecture": "x86_64",
        "BootMode": "BIOS",
        "CreationTime": img.created_iso(),
        "ProductCode": product_code,
        "Usage": "instance",
        "LoginAsNonRootSupported": false,
        "ResourceGroupId": "",
        "Features": {"NvmeSupport": "supported"},
        "Tags": {"Tag": []},
        "DiskDeviceMappings": {"DiskDeviceMapping": disks},
    })
}

/// Runs an ECS action.
pub(super) fn action(
    engine: &mut Engine,
    action: &str,
    params: Params<'_>,
    caller: &Account,
) -> Result<Value, AliError> {
    const P: Provider = imageshare_alibaba::ECS;
    match action {
        "DescribeImages" => {
            let region = params.required("RegionId")?;
            // Community images of other accounts only with IsPublic=true (module docs).
            let community = params.bool("IsPublic")? == Some(true);
            let relations: Vec<Relation> = match params.str("ImageOwnerAlias")? {
                None | Some("others") if community => vec![Relation::Community],
                None => vec![Relation::Owner, Relation::Received, Relation::Public],
                Some("self") => vec![Relation::Owner],
                Some("others") => vec![Relation::Received],
                Some("system") => vec![Relation::Public],
                // Marketplace images themselves are not modelled.
                Some("marketplace") => vec![],
                Some(other) => return Err(invalid_parameter("ImageOwnerAlias", other)),
            };
            let ids: Option<Vec<&str>> = params
                .str("ImageId")?
                .map(|v| v.split(',').map(str::trim).collect());
            if let Some(ids) = ids
                .as_ref()
                .filter(|ids| ids.len() > DESCRIBE_IMAGES_MAX_IDS)
            {
                return Err(invalid_parameter(
                    "ImageId",
                    &format!("{} ids; at most {DESCRIBE_IMAGES_MAX_IDS}", ids.len()),
                ));
            }
            let statuses: Vec<&str> = params
                .str("Status")?
                .unwrap_or("Available")
                .split(',')
                .map(str::trim)
                .collect();
            let name = params.str("ImageName")?;
            let paged = params.page_number(10, 100)?;
            // By id: only the ids asked are looked at (a lookup costs its ids, not the
            // region's images), in the order of the listing (by id).
            let listed: Vec<ImageView> = match &ids {
                Some(ids) => {
                    let keys: std::collections::BTreeSet<String> =
                        ids.iter().map(|id| ecs_key(engine, id)).collect();
                    keys.iter()
                        .filter_map(|k| engine.image(P, &caller.id, region, k).ok())
                        .filter(|v| relations.contains(&v.relation))
                        .collect()
                }
                None => engine.list(P, &caller.id, region, &relations),
            };
            let views: Vec<ImageView> = listed
                .into_iter()
                .filter(|v| {
                    ids.as_ref()
                        .is_none_or(|ids| ids.contains(&wire_id(&v.image.id)))
                })
                .filter(|v| name.is_none_or(|n| name_matches(&v.image.name, n)))
                .filter(|v| {
                    let s = status(v.image.state);
                    statuses
                        .iter()
                        .any(|w| w.eq_ignore_ascii_case(s) || w.eq_ignore_ascii_case("ALL"))
                })
                .collect();
            let images: Vec<Value> = paged.page().of(&views).iter().map(image_json).collect();
            Ok(json!({
                "RegionId": region,
                "PageNumber": paged.number,
                "PageSize": paged.size,
                "TotalCount": views.len(),
                "Images": {"Image": images},
            }))
        }
        "ModifyImageSharePermission" => {
            let region = params.required("RegionId")?;
            let id = params.required("ImageId")?;
            // The service processes AddAccount.1..10 / RemoveAccount.1..10 and silently
            // ignores the rest (alibaba.md 1.1).
            let mut adds = params.list("AddAccount")?.unwrap_or_default();
            adds.truncate(10);
            let mut removes = params.list("RemoveAccount")?.unwrap_or_default();
            removes.truncate(10);
            if params.str("LaunchPermission")?.is_some() && !(adds.is_empty() && removes.is_empty())
            {
                return Err(AliError::new(
                    400,
                    "UnnecessaryParameter.LaunchPermission",
                    "LaunchPermission cannot be specified together with AddAccount or RemoveAccount.",
                ));
            }
            let key = ecs_key(engine, id);
            if let Some(public) = params.bool("IsPublic")? {
                if public && !(adds.is_empty() && removes.is_empty()) {
                    return Err(AliError::new(
                        403,
                        "InvalidParameter.IsPublic",
                        "The specified parameter IsPublic is conflicted with other parameters.",
                    ));
                }
                if public || adds.is_empty() && removes.is_empty() {
                    return set_public(engine, caller, region, &key, id, public);
                }
            }
            // Removals first, so one call can swap accounts at the quota.
            engine
                .unshare(P, &caller.id, region, &key, &removes)
                .map_err(|e| error(e, id))?;
            if !adds.is_empty() {
                engine
                    .share(P, &caller.id, region, &key, &adds)
                    .map_err(|e| error(e, id))?;
            }
            Ok(json!({}))
        }
        "DescribeImageSharePermission" => {
            let region = params.required("RegionId")?;
            let id = params.required("ImageId")?;
            let paged = params.page_number(10, 100)?;
            let key = ecs_key(engine, id);
            let groups: Vec<Value> = if engine.is_community(&key) {
                vec![json!({"Group": "all"})]
            } else {
                Vec::new()
            };
            let grants = engine
                .sharees_slice(P, &caller.id, region, &key)
                .map_err(|e| error(e, id))?;
            let accounts: Vec<Value> = paged
                .page()
                .of(grants)
                .iter()
                .map(|g| json!({"AliyunId": g.principal, "SharedTime": g.created_iso()}))
                .collect();
            Ok(json!({
                "RegionId": region,
                "ImageId": id,
                "PageNumber": paged.number,
                "PageSize": paged.size,
                "TotalCount": grants.len(),
                "ShareGroups": {"ShareGroup": groups},
                "Accounts": {"Account": accounts},
            }))
        }
        "CopyImage" => {
            let region = params.required("RegionId")?;
            let id = params.required("ImageId")?;
            let destination = params
                .str("DestinationRegionId")?
                .unwrap_or(region)
                .to_owned();
            let encrypted = params.bool("Encrypted")?;
            let kms = params.str("KMSKeyId")?;
            let name = params.str("DestinationImageName")?;
            if let Some(name) = name {
                check_copy_name(name)?;
            }
            let key = ecs_key(engine, id);
            let new_id = engine
                .copy(
                    P,
                    &caller.id,
                    region,
                    &key,
                    CopySpec {
                        region: Some(destination),
                        project: None,
                        name: name.map(str::to_owned),
                    },
                )
                .map_err(|e| error(e, id))?;
            if encrypted == Some(true) || kms.is_some() {
                encrypt_copy(engine, &new_id, kms.is_some());
            }
            Ok(json!({"ImageId": new_id}))
        }
        "CancelCopyImage" => {
            // CancelCopyImage (https://help.aliyun.com/document_detail/25539.html): RegionId
            // is the copy's region, ImageId the copy; the copy is deleted, the source kept.
            // A finished, failed or never-copied image is refused with the documented codes.
            let region = params.required("RegionId")?;
            let id = params.required("ImageId")?;
            let key = ecs_key(engine, id);
            let view = engine
                .image(P, &caller.id, region, &key)
                .ok()
                .filter(|v| v.relation == Relation::Owner)
                .ok_or_else(|| image_not_found(id))?;
            if view.image.copied_from.is_none() {
                return Err(AliError::new(
                    400,
                    "ImageCreatedNotFromCopy",
                    "The specified image is not the target image of a copy action.",
                ));
            }
            let message = match view.image.state {
                State::Creating => None,
                State::Failed => Some("The Image copy has been failed."),
                _ => Some("The image is copied finished."),
            };
            if let Some(message) = message {
                return Err(AliError::new(400, "IncorrectImageStatus", message));
            }
            engine.remove_image(&key);
            Ok(json!({}))
        }
        "DeleteImage" => {
            let region = params.required("RegionId")?;
            let id = params.required("ImageId")?;
            let key = ecs_key(engine, id);
            // "复制镜像期间,您无法删除复制后的镜像(DeleteImage),但是您可以取消复制任务
            // (CancelCopyImage)" (CopyImage doc, https://help.aliyun.com/document_detail/25538.html).
            // The code of that refusal is not published: IncorrectImageStatus (UNCONFIRMED).
            let copying = engine
                .image(P, &caller.id, region, &key)
                .is_ok_and(|v| v.image.state == State::Creating && v.image.copied_from.is_some());
            if copying {
                return Err(AliError::new(
                    400,
                    "IncorrectImageStatus",
                    format!(
                        "The image {id} is being copied; cancel the copy (CancelCopyImage) instead."
                    ),
                ));
            }
            match engine.delete(P, &caller.id, region, &key) {
                // "If the specified custom image does not exist, the request is ignored"
                // (DeleteImage doc, alibaba.md 1.5).
                Ok(()) | Err(EngineError::ImageNotFound(_)) => Ok(json!({})),
                Err(e) => Err(error(e, id)),
            }
        }
        _ => Err(not_found_action(action)),
    }
}

/// `ModifyImageSharePermission` with `IsPublic` alone: publishes (`true`) or unpublishes
/// (`false`) the caller's image `key` (`id` as the client sent it); see the module docs.
fn set_public(
    engine: &mut Engine,
    caller: &Account,
    region: &str,
    key: &str,
    id: &str,
    public: bool,
) -> Result<Value, AliError> {
    const P: Provider = imageshare_alibaba::ECS;
    if !public {
        return match engine.unpublish(P, &caller.id, region, key) {
            Ok(true) => Ok(json!({})),
            Ok(false) => Err(AliError::new(
                403,
                "Image.NotPublic",
                "The specified image is not public image.",
            )),
            Err(e) => Err(error(e, id)),
        };
    }
    if !engine.world().signed_community_terms(&caller.id) {
        return Err(AliError::new(
            403,
            "PublicImageAgreement.NotSigned",
            "The current account has not signed \"Community Image Terms of Service\".",
        ));
    }
    match engine.publish(P, &caller.id, region, key) {
        Ok(()) => Ok(json!({})),
        Err(EngineError::Rule {
            rule: LimitRule::EncryptedImage,
            ..
        }) => Err(AliError::new(
            403,
            "OperationDeined.EncryptedSnapshot",
            "The image contains encrypted snapshots, which do not support share.",
        )),
        Err(e) => Err(error(e, id)),
    }
}

/// Makes a fresh copy encrypted (`CopyImage` with `Encrypted=true` / `KMSKeyId`): with a
/// KMS key the copy is CMK-encrypted (the documented route to a shareable encrypted
/// image), otherwise it keeps the source's key or gets the service key. The engine's copy
/// has no encryption option, so the record is replaced; a copy still `creating` becomes
/// available at once in that case.
fn encrypt_copy(engine: &mut Engine, new_id: &str, with_kms_key: bool) {
    let Some(rec) = engine.remove_image(new_id) else {
        return;
    };
    let encrypted = if with_kms_key {
        Encrypted::Cmk
    } else if rec.encrypted == Encrypted::None {
        Encrypted::ServiceKey
    } else {
        rec.encrypted
    };
    let mut seed = ImageSeed::new(rec.provider, &rec.id, &rec.owner, &rec.region)
        .origin(rec.origin)
        .encrypted(encrypted)
        .kind(rec.kind)
        .size_gib(rec.size_gib)
        .name(&rec.name);
    seed.state = State::Available;
    engine.add_image(&seed);
}
