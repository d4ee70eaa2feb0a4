//! CBS (Cloud Block Storage, API 2017-03-12) `DescribeSnapshots`, as far as image sharing
//! needs it: the snapshots the CVM `DescribeImages` answer lists in each image's
//! `SnapshotSet` (`snap-<fnv8>`, see `super::cvm::snapshots`), with `Encrypt` from the
//! image's world `encrypted` field. A caller sees the snapshots of the images it owns in
//! the request's region; a received image's snapshots belong to its owner and are not
//! listed (an unknown id is left out of the answer, as Describe actions do).
//!
//! Request and `Snapshot` fields as in tencentcloud-sdk-go `cbs/v20170312/models.go`
//! (`SnapshotIds`, `Filters`, `Offset`, `Limit` default 20 / maximum 100, `Order`,
//! `OrderField`; `SnapshotIds` and `Filters` are exclusive). Filters served: `snapshot-id`,
//! `disk-usage`, `encrypt` (`TRUE` / `FALSE`, any case); the others the model documents
//! match nothing in the emulated world. Codes are those the SDK lists for the action
//! (`InvalidFilter`, `InvalidParameterValue`, `MissingParameter`, `UnsupportedOperation`);
//! a malformed id and ids given with filters are `InvalidParameterValue` (the closest one).

use imageshare_core::Provider;
use serde_json::{json, Value};

use super::cvm::{fnv8, snapshots};
use super::{check_id_form, Ctx, Handler, TcError};
use crate::engine::{ImageView, Relation};
use crate::world::Encrypted;

/// CBS API version.
pub const CBS_VERSION: &str = "2017-03-12";

/// The product marker of a CBS request (its `Surface::product`). In the call log and the
/// fault rules CBS requests count for CVM (`Surface::provider`), as the CVM adapter,
/// their only sender, counts them.
pub const TENCENT_CBS: Provider = Provider::new("tencent-cbs");

/// The filter names `DescribeSnapshots` documents.
const FILTERS: &[&str] = &[
    "snapshot-id",
    "snapshot-name",
    "snapshot-state",
    "disk-usage",
    "project-id",
    "disk-id",
    "encrypt",
    "snapshot-type",
];

/// The handler of a CBS action.
pub(super) fn handler(action: &str) -> Option<Handler> {
    Some(match action {
        "DescribeSnapshots" => describe_snapshots,
        _ => return None,
    })
}

/// One snapshot as `DescribeSnapshots` reports it, with the fields filters read.
struct Snap {
    json: Value,
    id: String,
    usage: &'static str,
    encrypted: bool,
}

/// The `SnapshotSet[]` entries of one owned image.
fn of_image(v: &ImageView, region: &str) -> Vec<Snap> {
    let img = &v.image;
    let encrypted = img.encrypted != Encrypted::None;
    snapshots(v)
        .into_iter()
        .map(|s| Snap {
            json: json!({
                "SnapshotId": s.id,
                "Placement": {"Zone": format!("{region}-1"), "ProjectId": 0},
                "CopyFromRemote": false,
                "SnapshotState": "NORMAL",
                "IsPermanent": false,
                "SnapshotName": format!("{} {}", img.id, s.usage),
                "Percent": 100,
                "SnapshotType": "PRIVATE_SNAPSHOT",
                "DiskSize": s.size,
                "DiskId": format!("disk-{}", fnv8(&s.id)),
                "CopyingToRegions": [],
                "Encrypt": encrypted,
                "CreateTime": img.created_iso(),
                "ImageCount": 1,
                "DiskUsage": s.usage,
                "ShareReference": 0,
                "Tags": [],
            }),
            id: s.id,
            usage: s.usage,
            encrypted,
        })
        .collect()
}

/// Whether a snapshot passes one filter.
fn filter_matches(s: &Snap, name: &str, values: &[String]) -> bool {
    values.iter().any(|x| match name {
        "snapshot-id" => *x == s.id,
        "disk-usage" => x == s.usage,
        "encrypt" => x.eq_ignore_ascii_case(if s.encrypted { "TRUE" } else { "FALSE" }),
        "snapshot-type" => x == "PRIVATE_SNAPSHOT",
        _ => false,
    })
}

fn describe_snapshots(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    ctx.allow(&[
        "SnapshotIds",
        "Filters",
        "Offset",
        "Limit",
        "Order",
        "OrderField",
    ])?;
    let ids = ctx.params.list("SnapshotIds")?;
    let filters = ctx.filters(FILTERS, 10)?;
    ctx.ids_or_filters("SnapshotIds", ids.is_some())?;
    let page = ctx.paging()?;
    if let Some(ids) = &ids {
        ids.iter()
            .try_for_each(|id| check_id_form(id, "snap-", "InvalidParameterValue", "snapshot"))?;
    }
    let owned = ctx.engine.list(
        imageshare_tencent::CVM,
        ctx.caller,
        ctx.region,
        &[Relation::Owner],
    );
    let mut all: Vec<Snap> = owned.iter().flat_map(|v| of_image(v, ctx.region)).collect();
    match &ids {
        Some(ids) => all.retain(|s| ids.contains(&s.id)),
        None => all.retain(|s| filters.iter().all(|(n, vals)| filter_matches(s, n, vals))),
    }
    let set: Vec<&Value> = page.of(&all).iter().map(|s| &s.json).collect();
    Ok(json!({"TotalCount": all.len(), "SnapshotSet": set}))
}
