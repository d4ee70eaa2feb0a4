//! The steps CVM and Lighthouse actions share, written once: choosing and paging the
//! images of a Describe action, reading `Permission`, checking a request's accounts,
//! granting and revoking, deleting all or nothing, and copying to regions. Each product
//! supplies its own codes through [`Product::refuse`](super::Product::refuse).

use std::collections::BTreeSet;

use imageshare_core::Provider;
use serde_json::{json, Value};

use super::params::Filter;
use super::{dry_run, Ctx, TcError};
use crate::engine::{check_principal_form, CopySpec, EngineError, ImageView, Relation};
use crate::frontend::params::Page;

/// Every relation a Describe action lists by default.
pub(super) const ALL_RELATIONS: &[Relation] =
    &[Relation::Owner, Relation::Received, Relation::Public];

/// The images of `provider` a Describe action lists: each image named in `ids` that the
/// caller sees (unknown ones left out, a repeated id once), or else every image of
/// `relations` in the region that passes every filter.
pub(super) fn select(
    ctx: &mut Ctx<'_>,
    provider: Provider,
    ids: Option<&[String]>,
    relations: &[Relation],
    filters: &[Filter],
    matches: fn(&ImageView, &str, &[String]) -> bool,
) -> Vec<ImageView> {
    match ids {
        Some(ids) => {
            let mut seen = BTreeSet::new();
            ids.iter()
                .filter(|id| seen.insert(id.as_str()))
                .filter_map(|id| ctx.engine.image(provider, ctx.caller, ctx.region, id).ok())
                .collect()
        }
        None => ctx
            .engine
            .list(provider, ctx.caller, ctx.region, relations)
            .into_iter()
            .filter(|v| filters.iter().all(|(n, vals)| matches(v, n, vals)))
            .collect(),
    }
}

/// One page of a listing, `{"TotalCount": <all>, <set>: [<the page>]}`.
pub(super) fn paged(
    views: &[ImageView],
    page: Page,
    set: &str,
    to_json: impl Fn(&ImageView) -> Value,
) -> Value {
    let items: Vec<Value> = page.of(views).iter().map(to_json).collect();
    json!({"TotalCount": views.len(), set: items})
}

/// `Permission`: `true` for `SHARE`, `false` for `CANCEL`.
pub(super) fn permission(ctx: &Ctx<'_>) -> Result<bool, TcError> {
    match ctx.params.required("Permission")? {
        "SHARE" => Ok(true),
        "CANCEL" => Ok(false),
        other => Err(TcError::new(
            "InvalidParameterValue",
            format!("The value `{other}` of parameter `Permission` must be SHARE or CANCEL."),
        )),
    }
}

/// Checks the form of every account of a share or cancel request before its image is
/// looked up, as Tencent answers; the rule is the engine's, `word` names the code.
pub(super) fn check_accounts(
    ctx: &Ctx<'_>,
    accounts: &[String],
    word: impl Fn(&str, EngineError) -> TcError,
) -> Result<(), TcError> {
    let provider = ctx.product.provider();
    for a in accounts {
        check_principal_form(provider, a).map_err(|e| word(a, e))?;
    }
    Ok(())
}

/// Grants (`granting`) or revokes `accounts` on image `id` of the request's product.
pub(super) fn grant(
    ctx: &mut Ctx<'_>,
    id: &str,
    accounts: &[String],
    granting: bool,
    action: &str,
) -> Result<(), TcError> {
    let provider = ctx.product.provider();
    if granting {
        ctx.engine
            .share(provider, ctx.caller, ctx.region, id, accounts)
    } else {
        ctx.engine
            .unshare(provider, ctx.caller, ctx.region, id, accounts)
    }
    .map(drop)
    .map_err(|e| ctx.product.refuse(e, action))
}

/// Deletes images all or nothing: every one is checked (its id by `check_id`, then the
/// engine's delete rules) before any is deleted; with `dry_run_only` the checks are all
/// that happens (`DryRunOperation`).
pub(super) fn delete_all(
    ctx: &mut Ctx<'_>,
    ids: &[String],
    check_id: fn(&str) -> Result<(), TcError>,
    dry_run_only: bool,
    action: &str,
) -> Result<Value, TcError> {
    let provider = ctx.product.provider();
    for id in ids {
        check_id(id)?;
        ctx.engine
            .check_delete(provider, ctx.caller, ctx.region, id)
            .map_err(|e| ctx.product.refuse(e, action))?;
    }
    if dry_run_only {
        return Err(dry_run());
    }
    for id in ids {
        ctx.engine
            .delete(provider, ctx.caller, ctx.region, id)
            .map_err(|e| ctx.product.refuse(e, action))?;
    }
    Ok(json!({}))
}

/// Copies image `id` into each of `regions` (named `name`, or the engine's default);
/// returns `(region, new id)` pairs in order.
pub(super) fn copy_to(
    ctx: &mut Ctx<'_>,
    id: &str,
    regions: &[String],
    name: Option<&str>,
    action: &str,
) -> Result<Vec<(String, String)>, TcError> {
    let provider = ctx.product.provider();
    let mut out = Vec::with_capacity(regions.len());
    for r in regions {
        let new_id = ctx
            .engine
            .copy(
                provider,
                ctx.caller,
                ctx.region,
                id,
                CopySpec {
                    region: Some(r.clone()),
                    project: None,
                    name: name.map(str::to_owned),
                },
            )
            .map_err(|e| ctx.product.refuse(e, action))?;
        out.push((r.clone(), new_id));
    }
    Ok(out)
}
