//! SWAS-OPEN (Simple Application Server, API 2020-06-01) custom-image actions:
//! `ListCustomImages`, `Add/RemoveCustomImageShareAccount`,
//! `ListCustomImageShareAccounts`, `DeleteCustomImage`, `ModifyImageShareStatus`; their
//! error codes and the `CustomImage` shape.

use imageshare_core::{ImageKind, LimitRule, Provider};
use serde_json::{json, Value};

use super::ecs::{self, image_not_found, incorrect_status};
use super::sas_to_ecs::{has_image, sas_to_ecs_key, SAS_TO_ECS_OWNER};
use super::{account_json, invalid_parameter, not_found_action, AliError};
use crate::engine::{Engine, EngineError, ImageView, Relation};
use crate::frontend::params::Params;
use crate::world::{Account, ImageSeed, State};

/// Maps an engine refusal to SWAS-OPEN. Its per-action error tables are not published
/// (alibaba.md 3.8): `CustomImageInShare` is documented; elsewhere the closest documented
/// ECS code is used (same gateway, same account model), as commented.
fn error(e: EngineError, id: &str) -> AliError {
    match e {
        EngineError::Rule {
            rule: LimitRule::DeleteWhileShared,
            ..
        } => custom_image_in_share(),
        // Closest documented: ECS's InvalidParameter for a malformed Account.N (a RAM user
        // cannot be named by a numeric account id).
        EngineError::Rule {
            rule: LimitRule::PrincipalForm,
            message,
        } => AliError::new(
            400,
            "InvalidParameter",
            format!("The specified parameter \"Account.N\" is not valid: {message}"),
        ),
        other => {
            let mut err = ecs::error(other, id);
            err.message = err.message.replace("AddAccount.n", "Account.N");
            err.message = err.message.replace("\"RemoveAccount.n\"", "\"Account.N\"");
            err
        }
    }
}

/// `CustomImageInShare`: a shared image cannot be deleted.
fn custom_image_in_share() -> AliError {
    AliError::new(
        400,
        "CustomImageInShare",
        "The custom image is being shared. Please disable sharing first and then delete it.",
    )
}

/// `Status` of a SAS custom image (alibaba.md §3.5: `0` copying, `1` available, `2`
/// unavailable, `3` creation failed, `4` creating).
fn status(state: State) -> &'static str {
    match state {
        State::Available => "1",
        State::Creating => "4",
        State::Unavailable => "2",
        State::Failed => "3",
    }
}

/// One `CustomImages[]` entry (alibaba.md 3.5).
fn image_json(engine: &Engine, view: &ImageView) -> Value {
    let img = &view.image;
    json!({
        "ImageId": img.id,
        "Name": img.name,
        "Description": "",
        "Status": status(img.state),
        "CreationTime": img.created_iso(),
        "RegionId": img.region,
        "OsType": "Linux",
        "UserId": account_json(&img.owner),
        "InShare": has_image(engine, imageshare_alibaba::ECS, &sas_to_ecs_key(&img.id)),
        "InShareUser": view.shared,
        "InstanceId": "",
        "InstanceName": "",
        "SystemSnapshotId": format!("s-{}", img.id.trim_start_matches("m-")),
        "SystemSnapshotName": "",
        "DataSnapshotId": "",
        "DataSnapshotName": "",
        "RequiredSystemDiskSize": 40,
        "RequiredDataDiskSize": 0,
        "SourceImageName": "Ubuntu",
        "SourceImageVersion": "22.04",
        "ResourceGroupId": "",
        "CreateInstances": [],
        "Tags": [],
    })
}

/// `ImageIds`: a JSON array string (`["m-a","m-b"]`), or a comma-separated list.
fn image_ids(params: Params<'_>) -> Result<Option<Vec<String>>, AliError> {
    let Some(v) = params.str("ImageIds")? else {
        return Ok(None);
    };
    if v.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<String>>(v)
            .map(Some)
            .map_err(|_| invalid_parameter("ImageIds", v))
    } else {
        Ok(Some(v.split(',').map(|s| s.trim().to_owned()).collect()))
    }
}

/// Runs a SWAS-OPEN action.
pub(super) fn action(
    engine: &mut Engine,
    action: &str,
    params: Params<'_>,
    caller: &Account,
) -> Result<Value, AliError> {
    const P: Provider = imageshare_alibaba::SAS;
    match action {
        "ListCustomImages" => {
            let region = params.required("RegionId")?;
            // Share=false: own images only; Share=true: images shared with the caller;
            // unset: both (alibaba.md 3.5).
            let relations = match params.bool("Share")? {
                Some(false) => vec![Relation::Owner],
                Some(true) => vec![Relation::Received],
                None => vec![Relation::Owner, Relation::Received],
            };
            let ids = image_ids(params)?;
            let paged = params.page_number(10, 100)?;
            let views: Vec<ImageView> = engine
                .list(P, &caller.id, region, &relations)
                .into_iter()
                .filter(|v| ids.as_ref().is_none_or(|ids| ids.contains(&v.image.id)))
                .collect();
            let images: Vec<Value> = paged
                .page()
                .of(&views)
                .iter()
                .map(|v| image_json(engine, v))
                .collect();
            Ok(json!({
                "PageNumber": paged.number,
                "PageSize": paged.size,
                "TotalCount": views.len(),
                "CustomImages": images,
            }))
        }
        "AddCustomImageShareAccount" | "RemoveCustomImageShareAccount" => {
            let region = params.required("RegionId")?;
            let id = params.required("ImageId")?;
            let accounts = params.required_list("Account")?;
            if action == "AddCustomImageShareAccount" {
                engine.share(P, &caller.id, region, id, &accounts)
            } else {
                engine.unshare(P, &caller.id, region, id, &accounts)
            }
            .map_err(|e| error(e, id))?;
            Ok(json!({}))
        }
        "ListCustomImageShareAccounts" => {
            let region = params.required("RegionId")?;
            let id = params.required("ImageId")?;
            let paged = params.page_number(10, 50)?;
            let grants = engine
                .sharees_slice(P, &caller.id, region, id)
                .map_err(|e| error(e, id))?;
            let users: Vec<Value> = paged
                .page()
                .of(grants)
                .iter()
                .map(|g| json!({"UserId": account_json(&g.principal), "SharedTime": g.created_iso()}))
                .collect();
            Ok(json!({
                "PageNumber": paged.number,
                "PageSize": paged.size,
                "TotalCount": grants.len(),
                "ImageShareUsers": users,
            }))
        }
        "DeleteCustomImage" => {
            let region = params.required("RegionId")?;
            let id = params.required("ImageId")?;
            // Shared to ECS counts as shared: the engine's delete rule.
            engine
                .delete(P, &caller.id, region, id)
                .map_err(|e| error(e, id))?;
            Ok(json!({}))
        }
        "ModifyImageShareStatus" => {
            let region = params.required("RegionId")?;
            let id = params.required("ImageId")?;
            let operation = params.required("Operation")?;
            let view = engine
                .image(P, &caller.id, region, id)
                .map_err(|e| error(e, id))?;
            if view.relation != Relation::Owner {
                return Err(image_not_found(id));
            }
            let key = sas_to_ecs_key(id);
            match operation {
                "Share" => {
                    if has_image(engine, imageshare_alibaba::ECS, &key) {
                        return Ok(json!({}));
                    }
                    if view.image.state != State::Available {
                        return Err(incorrect_status(id));
                    }
                    let seed =
                        ImageSeed::new(imageshare_alibaba::ECS, &key, SAS_TO_ECS_OWNER, region)
                            .origin(view.image.origin)
                            .kind(ImageKind::SystemDisk)
                            .name(&view.image.name);
                    engine.add_image(&seed);
                    if let Err(e) = engine.share(
                        imageshare_alibaba::ECS,
                        SAS_TO_ECS_OWNER,
                        region,
                        &key,
                        std::slice::from_ref(&caller.id),
                    ) {
                        engine.remove_image(&key);
                        return Err(AliError::new(500, "InternalError", e.to_string()));
                    }
                    Ok(json!({}))
                }
                "UnShare" => {
                    engine.remove_image(&key);
                    Ok(json!({}))
                }
                _ => Err(AliError::new(
                    400,
                    "InvalidParam.OperationIllegal",
                    "The specified parameter operation is illegal.",
                )),
            }
        }
        _ => Err(not_found_action(action)),
    }
}
