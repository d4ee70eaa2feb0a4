//! Alibaba Cloud Resource Sharing (API 2020-01-10, RPC style, signed and verified like
//! ECS on the same gateway): the actions that share ECS images with a resource
//! directory, its folders and members, or invited outside accounts. The rules live in the
//! engine ([`crate::engine::resource_sharing`]); this module reads the parameters and
//! words answers and refusals as the service does.
//!
//! | action | parameters read | answer |
//! |---|---|---|
//! | `CreateResourceShare` | `ResourceShareName` (required, 1-50 of letters, digits, `.`, `_`, `-`), `Resources.N.ResourceId` / `.ResourceType`, `Targets.N`, `AllowExternalTargets`, `PermissionNames.N` | `ResourceShare` |
//! | `AssociateResourceShare` | `ResourceShareId` (required), `Resources.N.*`, `Targets.N` | `ResourceShareAssociations[]` |
//! | `DisassociateResourceShare` | the same | `ResourceShareAssociations[]` |
//! | `ListResourceShares` | `ResourceOwner` (`Self` \| `OtherAccounts`, required), `ResourceShareIds.N`, `ResourceShareName`, `ResourceShareStatus`, `MaxResults`, `NextToken` | `ResourceShares[]`, `NextToken` |
//! | `ListResourceShareAssociations` | `AssociationType` (`Resource` \| `Target`, required), `ResourceShareIds.N`, `ResourceId`, `Target`, `AssociationStatus`, `MaxResults`, `NextToken` | `ResourceShareAssociations[]`, `NextToken` |
//! | `ListResourceShareInvitations` | `ResourceShareInvitationIds.N`, `ResourceShareIds.N`, `MaxResults`, `NextToken` | `ResourceShareInvitations[]`, `NextToken` |
//! | `AcceptResourceShareInvitation` / `RejectResourceShareInvitation` | `ResourceShareInvitationId` (required) | `ResourceShareInvitation` |
//!
//! Sources: the official Python SDK `alibabacloud-resourcesharing20200110`
//! (`aliyun/alibabacloud-python-sdk`, `resourcesharing-20200110/`): `client.py` (RPC,
//! `POST /`, parameters in the query, lists flattened as `Targets.1`,
//! `Resources.1.ResourceId`) and the response models
//! (`_create_resource_share_response_body.py`,
//! `_list_resource_share_associations_response_body.py`,
//! `_list_resource_share_invitations_response_body.py`,
//! `_accept_resource_share_invitation_response_body.py`); the API reference pages of each
//! action (`MaxResults` 1 to 100, default 20; times such as `2020-12-04T09:40:41.246Z`)
//! and their error tables (codes and messages below). `NextToken` is opaque to clients;
//! the emulator's is the offset of the next entry. UNCONFIRMED: the code for answering a
//! cancelled invitation (`InvitationStatus.Cancelled`, not in the tables).

use imageshare_core::{time, Provider};
use serde_json::{json, Value};

use super::{not_found_action, AliError};
use crate::engine::resource_sharing::{
    Association, AssociationType, Field, Invitation, InvitationStatus, ResourceRef, ResourceShare,
    ShareError,
};
use crate::engine::Engine;
use crate::frontend::params::Params;
use crate::world::Account;

/// The Resource Sharing API version.
pub const RESOURCE_SHARING_VERSION: &str = "2020-01-10";
/// The provider Resource Sharing calls count for in the call log and fault rules.
pub const ALIBABA_RESOURCE_SHARING: Provider = Provider::new("alibaba-resourcesharing");
/// The product code in the `Recommend` link of an error.
pub const PRODUCT: &str = "ResourceSharing";

/// Default and largest `MaxResults`.
const MAX_RESULTS: (u64, u64) = (20, 100);

/// Longest `ResourceShareName`.
const MAX_NAME: usize = 50;

fn err(status: u16, code: &str, message: impl Into<String>) -> AliError {
    AliError::new(status, code, message)
}

/// An engine refusal in the service's code, status and documented message (with the
/// offending value after it).
fn refusal(e: ShareError) -> AliError {
    let detail = e.to_string();
    let with =
        |status, code: &str, message: &str| err(status, code, format!("{message} ({detail})"));
    match &e {
        ShareError::ShareNotFound(_) => with(
            404,
            "EntityNotExists.ResourceShare",
            "The resource share does not exist in the current account.",
        ),
        ShareError::TooMany { field, .. } => {
            let f = field.as_str();
            with(
                400,
                &format!("InvalidParameter.{f}.Length"),
                &format!("The maximum number of {f} exceeds 5."),
            )
        }
        ShareError::Duplicate { field, .. } => {
            let f = field.as_str();
            with(
                400,
                &format!("InvalidParameter.{f}.Duplicate"),
                &format!("The {f} contains duplicate values."),
            )
        }
        ShareError::MalformedTarget { .. } => {
            with(400, "InvalidParameter.Targets", "The Targets is invalid.")
        }
        ShareError::InvalidTarget(_) => with(
            400,
            "InvalidTarget",
            "The shared target does not exist in the resource directory.",
        ),
        ShareError::NotInDirectory(_) => with(
            409,
            "AccountNotInResourceDirectory",
            "The account is not a master or a member of a resource directory.",
        ),
        ShareError::SiteMismatch(_) => with(
            409,
            "InvalidTarget.SiteMismatch",
            "Cross-site resource sharing is not supported.",
        ),
        ShareError::ShareWithYourself => with(
            409,
            "ShareWithYourself",
            "You cannot share resources with yourself.",
        ),
        ShareError::BothEmpty => with(
            400,
            "ResourceAndTargetBothEmpty",
            "Either a resource or a shared target must be specified.",
        ),
        ShareError::ResourceType(_) => with(
            400,
            "InvalidParameter.ResourceType",
            "The ResourceType is invalid.",
        ),
        ShareError::Resource { .. } => with(
            400,
            "InvalidParameter.Resources",
            "The Resources is invalid.",
        ),
        ShareError::DisassociateInvalid(_) => with(
            400,
            "DisassociateInvalid",
            "You can not disassociate unassociated resource or target.",
        ),
        ShareError::InvitationNotFound(_) => with(
            409,
            "EntityNotExists.ResourceShareInvitation",
            "The resource share invitation does not exist in the current account.",
        ),
        ShareError::InvitationNotPending { status, .. } => match status {
            InvitationStatus::Accepted => with(
                409,
                "InvitationStatus.AlreadyAccepted",
                "The resource share invitation status is alredy accepted.",
            ),
            InvitationStatus::Rejected => with(
                409,
                "InvitationStatus.AlreadyRejected",
                "The resource share invitation status is rejected.",
            ),
            _ => with(
                409,
                "InvitationStatus.Cancelled",
                "The resource share invitation status is cancelled.",
            ),
        },
    }
}

/// `InvalidParameter.<name>` with the service's "The <name> is invalid." wording.
fn invalid(name: &str, value: &str) -> AliError {
    err(
        400,
        &format!("InvalidParameter.{name}"),
        format!("The {name} is invalid. ({value:?})"),
    )
}

/// A time as the service writes it: UTC with milliseconds.
fn iso_ms(unix: u64) -> String {
    let t = time::format_iso8601(unix);
    format!("{}.000Z", t.trim_end_matches('Z'))
}

fn share_json(s: &ResourceShare) -> Value {
    json!({
        "ResourceShareId": s.id,
        "ResourceShareName": s.name,
        "ResourceShareOwner": s.owner,
        "ResourceShareStatus": s.status(),
        "AllowExternalTargets": s.allow_external_targets,
        "CreateTime": iso_ms(s.created_unix),
        "UpdateTime": iso_ms(s.updated_unix),
    })
}

fn association_json(s: &ResourceShare, kind: AssociationType, a: &Association) -> Value {
    json!({
        "ResourceShareId": s.id,
        "ResourceShareName": s.name,
        "AssociationType": kind.as_str(),
        "EntityId": a.entity_id,
        "EntityType": a.entity_type,
        "AssociationStatus": a.status.as_str(),
        "AssociationStatusMessage": "",
        "AssociationFailedDetails": [],
        "External": a.external,
        "CreateTime": iso_ms(a.created_unix),
        "UpdateTime": iso_ms(a.updated_unix),
    })
}

fn invitation_json(i: &Invitation) -> Value {
    json!({
        "ResourceShareInvitationId": i.id,
        "ResourceShareId": i.share_id,
        "ResourceShareName": i.share_name,
        "SenderAccountId": i.sender,
        "ReceiverAccountId": i.receiver,
        "CreateTime": iso_ms(i.created_unix),
        "Status": i.status.as_str(),
    })
}

/// `Resources.N.ResourceId` / `.ResourceType`, which "must be specified together".
fn resources(params: &Params<'_>) -> Result<Vec<ResourceRef>, AliError> {
    params
        .objects(Field::Resources.as_str(), &["ResourceId", "ResourceType"])?
        .into_iter()
        .map(|fields| match <[Option<String>; 2]>::try_from(fields) {
            Ok([Some(id), Some(resource_type)]) => Ok(ResourceRef { resource_type, id }),
            _ => Err(invalid(
                "Resources",
                "ResourceId and ResourceType must be specified together",
            )),
        })
        .collect()
}

fn targets(params: &Params<'_>) -> Result<Vec<String>, AliError> {
    Ok(params.list(Field::Targets.as_str())?.unwrap_or_default())
}

/// `MaxResults` and `NextToken`: the offset and size of the page.
fn page(params: &Params<'_>) -> Result<(usize, usize), AliError> {
    let (default, max) = MAX_RESULTS;
    let size = match params.int("MaxResults") {
        Ok(None) => default,
        Ok(Some(n)) if (1..=max as i64).contains(&n) => n as u64,
        Ok(Some(n)) => return Err(invalid("MaxResults", &n.to_string())),
        Err(_) => {
            return Err(invalid(
                "MaxResults",
                params.str("MaxResults")?.unwrap_or(""),
            ))
        }
    };
    let offset = match params.str("NextToken")? {
        None => 0,
        Some(t) => t.parse::<usize>().map_err(|_| invalid("NextToken", t))?,
    };
    Ok((offset, usize::try_from(size).unwrap_or(usize::MAX)))
}

/// One page of `items` as `{key: [...], NextToken}`.
fn paged(key: &str, items: Vec<Value>, (offset, size): (usize, usize)) -> Value {
    let end = offset.saturating_add(size).min(items.len());
    let next = if end < items.len() {
        end.to_string()
    } else {
        String::new()
    };
    let page: Vec<Value> = items
        .into_iter()
        .skip(offset)
        .take(end.saturating_sub(offset))
        .collect();
    json!({ key: page, "NextToken": next })
}

/// Checks `ResourceShareName`: 1 to 50 letters, digits, `.`, `_`, `-`.
fn share_name<'a>(params: &Params<'a>) -> Result<&'a str, AliError> {
    let name = params.required("ResourceShareName")?;
    if name.chars().count() > MAX_NAME {
        return Err(err(
            400,
            "InvalidParameter.ResourceShareName.Length",
            "The maximum length of ResourceShareName exceeds 50 characters.",
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(invalid("ResourceShareName", name));
    }
    Ok(name)
}

/// `ResourceShareId`, with the service's own missing-parameter code.
fn share_id<'a>(params: &Params<'a>) -> Result<&'a str, AliError> {
    params.required("ResourceShareId").map_err(|_| {
        err(
            400,
            "MissingParameter.ResourceShareId",
            "You must specify ResourceShareId.",
        )
    })
}

/// Runs a Resource Sharing action.
pub(super) fn action(
    engine: &mut Engine,
    action: &str,
    params: Params<'_>,
    caller: &Account,
) -> Result<Value, AliError> {
    let me = caller.id.as_str();
    match action {
        "CreateResourceShare" => {
            let name = share_name(&params)?;
            let external = params.bool("AllowExternalTargets")?.unwrap_or(false);
            if params.has("ResourceArns.1") {
                return Err(invalid(
                    "ResourceArns",
                    "the emulator takes Resources.N (ECS images), not ARNs",
                ));
            }
            let share = engine
                .create_resource_share(me, name, external, &resources(&params)?, &targets(&params)?)
                .map_err(refusal)?;
            Ok(json!({ "ResourceShare": share_json(&share) }))
        }
        "AssociateResourceShare" | "DisassociateResourceShare" => {
            let id = share_id(&params)?;
            let (res, tgt) = (resources(&params)?, targets(&params)?);
            let (share, touched) = if action == "AssociateResourceShare" {
                engine.associate_resource_share(me, id, &res, &tgt)
            } else {
                engine.disassociate_resource_share(me, id, &res, &tgt)
            }
            .map_err(refusal)?;
            let list: Vec<Value> = touched
                .iter()
                .map(|(kind, a)| association_json(&share, *kind, a))
                .collect();
            Ok(json!({ "ResourceShareAssociations": list }))
        }
        "ListResourceShares" => {
            let own = match params.str("ResourceOwner")? {
                Some("Self") => true,
                Some("OtherAccounts") => false,
                Some(other) => return Err(invalid("ResourceOwner", other)),
                None => {
                    return Err(err(
                        400,
                        "MissingParameter.ResourceOwner",
                        "You must specify ResourceOwner.",
                    ))
                }
            };
            let ids = params.list("ResourceShareIds")?;
            let name = params.str("ResourceShareName")?;
            let status = params.str("ResourceShareStatus")?;
            let page = page(&params)?;
            let items: Vec<Value> = engine
                .list_resource_shares(me, own)
                .into_iter()
                .filter(|s| ids.as_ref().is_none_or(|ids| ids.contains(&s.id)))
                .filter(|s| name.is_none_or(|n| s.name == n))
                .filter(|s| status.is_none_or(|st| s.status() == st))
                .map(share_json)
                .collect();
            Ok(paged("ResourceShares", items, page))
        }
        "ListResourceShareAssociations" => {
            let kind = match params.str("AssociationType")? {
                Some("Resource") => AssociationType::Resource,
                Some("Target") => AssociationType::Target,
                other => return Err(invalid("AssociationType", other.unwrap_or(""))),
            };
            let ids = params.list("ResourceShareIds")?;
            let resource = params.str("ResourceId")?;
            let target = params.str("Target")?;
            if (kind == AssociationType::Target && resource.is_some())
                || (kind == AssociationType::Resource && target.is_some())
            {
                return Err(err(
                    400,
                    "ConflictedAssociationType",
                    "The specified ResourceId or Target conflicts with AssociationType.",
                ));
            }
            let entity = resource.or(target);
            let status = params.str("AssociationStatus")?;
            let page = page(&params)?;
            let items: Vec<Value> = engine
                .list_resource_shares(me, true)
                .into_iter()
                .filter(|s| ids.as_ref().is_none_or(|ids| ids.contains(&s.id)))
                .flat_map(|s| {
                    s.associations(kind)
                        .iter()
                        .filter(|a| entity.is_none_or(|e| a.entity_id == e))
                        .filter(|a| status.is_none_or(|st| a.status.as_str() == st))
                        .map(move |a| association_json(s, kind, a))
                })
                .collect();
            Ok(paged("ResourceShareAssociations", items, page))
        }
        "ListResourceShareInvitations" => {
            let ids = params.list("ResourceShareInvitationIds")?;
            let shares = params.list("ResourceShareIds")?;
            let page = page(&params)?;
            let items: Vec<Value> = engine
                .list_invitations(me)
                .into_iter()
                .filter(|i| ids.as_ref().is_none_or(|ids| ids.contains(&i.id)))
                .filter(|i| shares.as_ref().is_none_or(|s| s.contains(&i.share_id)))
                .map(|i| {
                    let mut v = invitation_json(i);
                    v["InvitationFailedDetails"] = json!([]);
                    v
                })
                .collect();
            Ok(paged("ResourceShareInvitations", items, page))
        }
        "AcceptResourceShareInvitation" | "RejectResourceShareInvitation" => {
            let id = params.required("ResourceShareInvitationId").map_err(|_| {
                err(
                    400,
                    "MissingParameter.ResourceShareInvitationId",
                    "You must specify ResourceShareInvitationId.",
                )
            })?;
            let accept = action == "AcceptResourceShareInvitation";
            let inv = engine.answer_invitation(me, id, accept).map_err(refusal)?;
            Ok(json!({ "ResourceShareInvitation": invitation_json(&inv) }))
        }
        _ => Err(not_found_action(action)),
    }
}
