//! Tencent Cloud API 3.0 front-end (CVM 2017-03-12, Lighthouse 2020-03-24): TC3
//! authentication, the `{"Response": {..., "RequestId"}}` envelope, and the image-sharing
//! actions of both services translated to the [`Engine`]. API errors are answered with
//! HTTP 200 and `Response.Error`, as Tencent does; codes are Tencent's own (tencent.md §3).
//!
//! Served actions:
//!
//! | service | action | engine operation |
//! |---|---|---|
//! | CVM | `DescribeImages` | `list` / `image` (filters `image-id`, `image-type`, `image-name`, `platform`; Offset/Limit paging with `TotalCount`) |
//! | CVM | `ModifyImageSharePermission` | `share` / `unshare` |
//! | CVM | `DescribeImageSharePermission` | `sharees` (not paged) |
//! | CVM | `SyncImages` | `copy` per destination region |
//! | CVM | `DeleteImages` | `delete` |
//! | Lighthouse | `DescribeBlueprints` | `list` / `image` |
//! | Lighthouse | `ShareBlueprintAcrossAccounts` / `CancelShareBlueprintAcrossAccounts` | `share` / `unshare` (at most 10 accounts per call) |
//! | Lighthouse | `DescribeBlueprintsShareAcrossAccountInfos` | `sharees`, paged |
//! | Lighthouse | `SyncBlueprint` | `copy` per destination region |
//! | Lighthouse | `DeleteBlueprints` | `delete` |
//! | Lighthouse | `DescribeImagesToShare` | CVM `list` plus the CVM -> Lighthouse eligibility rules |
//! | Lighthouse | `ModifyImageSharePermission` | CVM image -> own Lighthouse blueprint (and back) |
//!
//! Choices where Tencent documents no code for a case (each is the closest documented code
//! of that action): re-sharing a received CVM image and sharing a public one answer
//! `UnauthorizedOperation.ImageNotBelongToAccount`; a CVM SHARE naming an account that
//! already has a grant answers `FailedOperation.AccountAlreadyExists` (nothing is changed);
//! a CVM CANCEL of an account without a grant succeeds; a Lighthouse share naming an account
//! that already has a grant answers `UnsupportedOperation.BlueprintAlreadyShared`, a cancel
//! naming one without a grant `UnsupportedOperation.BlueprintHasNotShared`; deleting a
//! blueprint that is still shared answers `UnsupportedOperation.BlueprintOccupied`. The CVM
//! per-call `AccountIds` maximum is unpublished, so the emulator enforces none (only the
//! 500-per-image total, `OverQuota`); Lighthouse's documented 10 per call is enforced with
//! `InvalidParameterValue.LimitExceeded`.
//!
//! A CVM image shared to Lighthouse becomes the blueprint `lhbp-<suffix of the img- id>`
//! (so the link survives without extra state); its `Blueprint.ImageId` names the CVM image.

use std::collections::BTreeSet;

use imageshare_core::{time, ImageKind, LimitRule, Principal, Provider, Secret};
use imageshare_tencent::signer::{
    scope_from_authorization, ReceivedRequest, Tc3Verifier, ALGORITHM,
};
use serde_json::{json, Map, Value};

use super::params::{OffsetLimit, Page, ParamError, Params};
use super::{Call, Frontend, Surface};
use crate::engine::{limits_for, CopySpec, Engine, EngineError, ImageView, Relation};
use crate::faults::FaultKind;
use crate::server::{Reply, WireRequest};
use crate::world::{Account, Encrypted, ImageSeed, Origin, State};

/// CVM API version.
pub const CVM_VERSION: &str = "2017-03-12";
/// Lighthouse API version.
pub const LIGHTHOUSE_VERSION: &str = "2020-03-24";

/// Default page size of the Describe actions.
pub const DEFAULT_LIMIT: u64 = 20;
/// Largest page size of the Describe actions.
pub const MAX_LIMIT: u64 = 100;
/// Accounts per Lighthouse Share/CancelShareBlueprintAcrossAccounts call (documented).
pub const LIGHTHOUSE_MAX_ACCOUNTS_PER_CALL: usize = 10;
/// Custom images per account and region (documented for CVM SyncImages).
pub const CVM_CUSTOM_IMAGES_PER_REGION: usize = 500;

/// Region ids of Tencent Cloud the emulator accepts in `X-TC-Region` and as destinations,
/// besides any region an image of the world lives in.
pub const KNOWN_REGIONS: &[&str] = &[
    "ap-bangkok",
    "ap-beijing",
    "ap-beijing-fsi",
    "ap-chengdu",
    "ap-chongqing",
    "ap-guangzhou",
    "ap-hongkong",
    "ap-jakarta",
    "ap-mumbai",
    "ap-nanjing",
    "ap-seoul",
    "ap-shanghai",
    "ap-shanghai-fsi",
    "ap-shenzhen-fsi",
    "ap-singapore",
    "ap-taipei",
    "ap-tokyo",
    "eu-frankfurt",
    "eu-moscow",
    "na-ashburn",
    "na-siliconvalley",
    "na-toronto",
    "sa-saopaulo",
];

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

/// A Tencent error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcError {
    /// Error code, verbatim.
    pub code: String,
    /// Message.
    pub message: String,
}

impl TcError {
    /// An error with this code and message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }
    /// The error envelope (HTTP 200).
    pub fn reply(&self, request_id: &str) -> Reply {
        self.reply_with_status(200, request_id)
    }
    fn reply_with_status(&self, status: u16, request_id: &str) -> Reply {
        let body = json!({"Response": {
            "Error": {"Code": self.code, "Message": self.message},
            "RequestId": request_id,
        }});
        Reply::json(status, &body, Some(self.code.clone()))
    }
}

/// A successful answer: `body` inside `Response`, with `RequestId`.
pub fn ok(mut body: Value, request_id: &str) -> Reply {
    if let Value::Object(m) = &mut body {
        m.insert("RequestId".into(), Value::String(request_id.to_owned()));
    }
    Reply::json(200, &json!({ "Response": body }), None)
}

/// The Tencent Cloud API 3.0 front-end (CVM and Lighthouse on one gateway).
pub(crate) struct Tencent;

impl Frontend for Tencent {
    fn classify(&self, wire: &WireRequest) -> Option<Surface> {
        let auth = wire.header("authorization").unwrap_or("");
        if !auth.starts_with(ALGORITHM) && wire.header("x-tc-action").is_none() {
            return None;
        }
        let service = scope_from_authorization(auth)
            .map(|(_, service)| service)
            .unwrap_or_default();
        let product = match service.as_str() {
            "cvm" => Some(Provider::TencentCvm),
            "lighthouse" => Some(Provider::TencentLighthouse),
            _ => None,
        };
        Some(Surface {
            provider: product.unwrap_or(Provider::TencentCvm),
            product,
            action: wire.header("x-tc-action").unwrap_or("").to_owned(),
            version: wire.header("x-tc-version").unwrap_or("").to_owned(),
        })
    }

    /// TC3-HMAC-SHA256, with the credential scope's service as the expected one.
    fn authenticate(&self, call: &Call<'_>) -> Result<Account, Reply> {
        let wire = call.wire;
        let fail = |e: TcError| e.reply(call.request_id);
        let auth = wire.header("authorization").unwrap_or("");
        let (secret_id, service) = scope_from_authorization(auth)
            .map_err(|e| fail(TcError::new(e.code(), e.to_string())))?;
        let (account, key) = {
            let engine = call.shared.engine();
            let Some(account) = engine.world().account_by_tencent_key(&secret_id).cloned() else {
                return Err(fail(TcError::new(
                    "AuthFailure.SecretIdNotFound",
                    "The SecretId is not found, please ensure that your SecretId is correct.",
                )));
            };
            let key = account.keys.tencent.clone().expect("looked up by this key");
            (account, key)
        };
        let received = ReceivedRequest::new(&wire.method, &wire.path, &wire.raw_query, &wire.body)
            .headers(wire.headers.iter().cloned());
        Tc3Verifier::new()
            .expected_service(service)
            .now(time::now_unix())
            .verify(&received, &Secret::new(key.secret))
            .map_err(|e| fail(TcError::new(e.code(), e.to_string())))?;
        if let Some(expected) = key.token.as_deref() {
            if wire.header("x-tc-token") != Some(expected) {
                return Err(fail(TcError::new(
                    "AuthFailure.TokenFailure",
                    "Token verification failed.",
                )));
            }
        }
        Ok(account)
    }

    fn dispatch(&self, call: &Call<'_>, caller: &Account) -> Reply {
        let request_id = call.request_id;
        let Surface {
            product,
            version,
            action,
            ..
        } = call.surface;
        let expected = match product {
            Some(Provider::TencentCvm) => CVM_VERSION,
            Some(Provider::TencentLighthouse) => LIGHTHOUSE_VERSION,
            _ => {
                return TcError::new(
                    "NoSuchProduct",
                    "The product in the credential scope is not served here.",
                )
                .reply(request_id)
            }
        };
        if version != expected {
            return TcError::new(
                "NoSuchVersion",
                format!("The requested version {version:?} does not exist."),
            )
            .reply(request_id);
        }
        let body = match request_params(call.wire) {
            Ok(v) => v,
            Err(e) => return e.reply(request_id),
        };
        let region = call
            .wire
            .header("x-tc-region")
            .unwrap_or("")
            .trim()
            .to_owned();
        let result = {
            let mut engine = call.shared.engine();
            let mut ctx = Ctx {
                engine: &mut engine,
                region: &region,
                caller: &caller.id,
                body: &body,
                params: Params::Json(&body),
            };
            match product {
                Some(Provider::TencentCvm) => cvm_action(&mut ctx, action),
                _ => lighthouse_action(&mut ctx, action),
            }
        };
        match result {
            Ok(v) => ok(v, request_id),
            Err(e) => e.reply(request_id),
        }
    }

    fn fault_reply(&self, call: &Call<'_>, kind: FaultKind) -> Reply {
        match kind {
            FaultKind::Throttle => TcError::new(
                "RequestLimitExceeded",
                "Your current request times exceeds the frequency limit for a second. Please reduce the frequency of calls.",
            )
            .reply(call.request_id),
            _ => TcError::new("InternalError", "An internal error occurred. Please retry.")
                .reply_with_status(500, call.request_id),
        }
    }
}

/// The action's parameters as a JSON object: the JSON body of a POST, or the flattened
/// `Name.N.Field` parameters of a GET / form POST turned into the same shape (leaves stay
/// strings; the typed readers accept numeric and boolean strings there).
fn request_params(wire: &WireRequest) -> Result<Value, TcError> {
    if wire.method == "GET" || wire.content_type() == "application/x-www-form-urlencoded" {
        let mut root = Value::Object(Map::new());
        for (k, v) in wire.params() {
            insert_flat(&mut root, k, v.clone())?;
        }
        return Ok(root);
    }
    if wire.body.is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(&wire.body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(TcError::new(
            "InvalidParameter",
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(TcError::new(
            "InvalidParameter",
            format!("The request body is not JSON: {e}"),
        )),
    }
}

fn insert_flat(root: &mut Value, key: &str, value: String) -> Result<(), TcError> {
    let bad = || {
        TcError::new(
            "InvalidParameter",
            format!("Malformed parameter name {key:?}."),
        )
    };
    let parts: Vec<&str> = key.split('.').collect();
    let mut cur = root;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if let Ok(idx) = part.parse::<usize>() {
            if idx > 1000 {
                return Err(bad());
            }
            if cur.is_null() {
                *cur = Value::Array(Vec::new());
            }
            let arr = cur.as_array_mut().ok_or_else(bad)?;
            while arr.len() <= idx {
                arr.push(Value::Null);
            }
            cur = &mut arr[idx];
        } else {
            if part.is_empty() {
                return Err(bad());
            }
            if cur.is_null() {
                *cur = Value::Object(Map::new());
            }
            let obj = cur.as_object_mut().ok_or_else(bad)?;
            cur = obj.entry((*part).to_owned()).or_insert(Value::Null);
        }
        if last {
            *cur = Value::String(value);
            return Ok(());
        }
    }
    Ok(())
}

fn invalid_action(action: &str) -> TcError {
    TcError::new(
        "InvalidAction",
        format!("The requested action {action:?} does not exist."),
    )
}

/// What every action handler works with.
struct Ctx<'a> {
    engine: &'a mut Engine,
    region: &'a str,
    caller: &'a str,
    body: &'a Value,
    params: Params<'a>,
}

// ------------------------------------------------------------------------ parameter reading

/// How an action reports negative or out-of-range paging values (CVM uses the generic
/// code, Lighthouse its sub-codes).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Cvm,
    Lighthouse,
}

impl Ctx<'_> {
    fn allow(&self, names: &[&str]) -> Result<(), TcError> {
        if let Some(obj) = self.body.as_object() {
            for k in obj.keys() {
                if !names.contains(&k.as_str()) {
                    return Err(TcError::new(
                        "UnknownParameter",
                        format!("The parameter `{k}` is not recognized."),
                    ));
                }
            }
        }
        Ok(())
    }

    /// `(offset, limit)` with Tencent's defaults (0, 20) and maximum limit (100).
    fn paging(&self, flavor: Flavor) -> Result<Page, TcError> {
        self.params
            .page_offset(PAGING)
            .map_err(|e| param_error(e, flavor))
    }

    /// `Filters`, checked against the action's known names and its maxima.
    fn filters(
        &self,
        flavor: Flavor,
        known: &[&str],
        max_values: usize,
    ) -> Result<Vec<(String, Vec<String>)>, TcError> {
        let Some(v) = self.body.get("Filters").filter(|v| !v.is_null()) else {
            return Ok(Vec::new());
        };
        let invalid = |msg: String| {
            TcError::new(
                if flavor == Flavor::Lighthouse {
                    "InvalidParameter.InvalidFilter"
                } else {
                    "InvalidFilter"
                },
                msg,
            )
        };
        let Value::Array(items) = v else {
            return Err(invalid("`Filters` must be an array of Filter.".into()));
        };
        if items.len() > 10 {
            return Err(TcError::new(
                "InvalidParameterValue.LimitExceeded",
                "At most 10 filters are allowed per request.",
            ));
        }
        let mut out = Vec::new();
        for f in items {
            let name = f
                .get("Name")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("Every Filter needs a string `Name`.".into()))?;
            let values: Vec<String> = match f.get("Values") {
                Some(Value::Array(vs)) => vs
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| invalid(format!("Filter `{name}`: Values must be strings.")))?,
                _ => return Err(invalid(format!("Filter `{name}` needs an array `Values`."))),
            };
            let is_known = known.contains(&name) || name.starts_with("tag:");
            if !is_known {
                return Err(TcError::new(
                    if flavor == Flavor::Lighthouse {
                        "InvalidParameter.InvalidFilterNotSupportedName"
                    } else {
                        "InvalidFilter"
                    },
                    format!("The filter name `{name}` is not supported."),
                ));
            }
            if values.len() > max_values {
                return Err(TcError::new(
                    if flavor == Flavor::Lighthouse {
                        "InvalidParameter.FilterValueLimitExceeded"
                    } else {
                        "InvalidFilterValue.LimitExceeded"
                    },
                    format!("Filter `{name}` has more than {max_values} values."),
                ));
            }
            out.push((name.to_owned(), values));
        }
        Ok(out)
    }

    /// Checks `X-TC-Region`: present, and a Tencent region (or one of the world's).
    fn check_region(&self) -> Result<(), TcError> {
        if self.region.is_empty() {
            return Err(missing("Region"));
        }
        if !region_known(self.engine, self.region) {
            return Err(TcError::new(
                "UnsupportedRegion",
                format!("The region `{}` is not supported.", self.region),
            ));
        }
        Ok(())
    }
}

/// Offset/Limit paging of the Describe actions: a `Limit` above the maximum is refused.
const PAGING: OffsetLimit = OffsetLimit {
    default: DEFAULT_LIMIT,
    max: MAX_LIMIT,
    clamp: false,
};

/// Words a refused parameter. Negative and out-of-range values (paging only) have
/// Lighthouse sub-codes; CVM uses the generic ones.
fn param_error(e: ParamError, flavor: Flavor) -> TcError {
    let lighthouse = flavor == Flavor::Lighthouse;
    match e {
        ParamError::Missing { name } => missing(&name),
        ParamError::Malformed { name, expected, .. } => TcError::new(
            "InvalidParameter",
            format!("The value of parameter `{name}` must be {expected}."),
        ),
        ParamError::Negative { name, .. } => TcError::new(
            if lighthouse {
                "InvalidParameterValue.Negative"
            } else {
                "InvalidParameterValue"
            },
            format!("The value of parameter `{name}` cannot be negative."),
        ),
        ParamError::OutOfRange { name, min, max, .. } => TcError::new(
            if lighthouse {
                "InvalidParameterValue.OutOfRange"
            } else {
                "InvalidParameterValue.InvalidParameterValueLimit"
            },
            format!(
                "The value of parameter `{name}` must be between {min} and {}.",
                max.unwrap_or(u64::MAX)
            ),
        ),
        ParamError::BadIndex { key, .. } => TcError::new(
            "InvalidParameter",
            format!("Malformed parameter name {key:?}."),
        ),
    }
}

/// The generic wording of a refused parameter (see [`param_error`] for paging).
impl From<ParamError> for TcError {
    fn from(e: ParamError) -> Self {
        param_error(e, Flavor::Cvm)
    }
}

fn missing(name: &str) -> TcError {
    TcError::new(
        "MissingParameter",
        format!("The request is missing a required parameter `{name}`."),
    )
}

fn region_known(engine: &Engine, region: &str) -> bool {
    KNOWN_REGIONS.contains(&region) || engine.images().any(|i| i.region == region)
}

fn is_mainland(region: &str) -> bool {
    region
        .strip_prefix("ap-")
        .map(|rest| rest.split('-').next().unwrap_or(""))
        .is_some_and(|city| MAINLAND_CITIES.contains(&city))
}

/// `prefix` followed by one or more ASCII letters or digits.
fn well_formed(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn fnv8(s: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

fn suffix(id: &str) -> &str {
    id.split_once('-').map_or(id, |(_, s)| s)
}

/// The blueprint a CVM image becomes when shared to Lighthouse.
fn blueprint_for_cvm(image_id: &str) -> String {
    format!("lhbp-{}", suffix(image_id))
}

/// The CVM image a blueprint was shared from, if it was.
fn cvm_source_of(engine: &Engine, bp: &ImageView) -> Option<String> {
    let candidate = format!("img-{}", suffix(&bp.image.id));
    engine
        .images()
        .find(|i| {
            i.provider == Provider::TencentCvm
                && i.id == candidate
                && i.owner == bp.image.owner
                && i.region == bp.image.region
        })
        .map(|i| i.id.clone())
}

// -------------------------------------------------------------------------------------- CVM

fn cvm_action(ctx: &mut Ctx<'_>, action: &str) -> Result<Value, TcError> {
    match action {
        "DescribeImages"
        | "ModifyImageSharePermission"
        | "DescribeImageSharePermission"
        | "SyncImages"
        | "DeleteImages" => ctx.check_region()?,
        _ => return Err(invalid_action(action)),
    }
    match action {
        "DescribeImages" => cvm_describe_images(ctx),
        "ModifyImageSharePermission" => cvm_modify_share(ctx),
        "DescribeImageSharePermission" => cvm_describe_share(ctx),
        "SyncImages" => cvm_sync_images(ctx),
        _ => cvm_delete_images(ctx),
    }
}

fn cvm_state(v: &ImageView) -> &'static str {
    match v.image.state {
        State::Available | State::Unavailable => "NORMAL",
        State::Creating if v.image.copied_from.is_some() => "SYNCING",
        State::Creating => "CREATING",
    }
}

fn cvm_type(v: &ImageView) -> &'static str {
    match v.relation {
        Relation::Owner => "PRIVATE_IMAGE",
        Relation::Received => "SHARED_IMAGE",
        Relation::Public => "PUBLIC_IMAGE",
    }
}

fn cvm_image_json(v: &ImageView) -> Value {
    let img = &v.image;
    let public = img.origin == Origin::Public;
    let whole = img.kind == ImageKind::WholeMachine;
    let mut snapshots = vec![json!({
        "SnapshotId": format!("snap-{}", fnv8(&img.id)),
        "DiskUsage": "SYSTEM_DISK",
        "DiskSize": 50,
    })];
    if whole {
        snapshots.push(json!({
            "SnapshotId": format!("snap-{}", fnv8(&format!("{}/data", img.id))),
            "DiskUsage": "DATA_DISK",
            "DiskSize": 100,
        }));
    }
    let state = cvm_state(v);
    json!({
        "ImageId": img.id,
        "OsName": "TencentOS Server 3.1 (TK4)",
        "ImageType": cvm_type(v),
        "CreatedTime": img.created_iso(),
        "ImageName": img.name,
        "ImageDescription": if public { "Official image" } else { "" },
        "ImageSize": if whole { 150 } else { 50 },
        "Architecture": "x86_64",
        "ImageState": state,
        "Platform": "TencentOS",
        "ImageCreator": if public { "tencent".to_owned() } else { img.owner.clone() },
        "ImageSource": match img.origin {
            Origin::Public => "OFFICIAL",
            Origin::Imported => "EXTERNAL_IMPORT",
            _ => "CREATE_IMAGE",
        },
        "SyncPercent": if state == "SYNCING" { 50 } else { 100 },
        "IsSupportCloudinit": true,
        "SnapshotSet": snapshots,
        "Tags": [],
        "LicenseType": "TencentCloud",
        "ImageFamily": "",
        "ImageDeprecated": img.state == State::Unavailable,
    })
}

fn cvm_filter_matches(v: &ImageView, name: &str, values: &[String]) -> bool {
    let any = |f: &dyn Fn(&str) -> bool| values.iter().any(|x| f(x));
    match name {
        "image-id" => any(&|x| x == v.image.id),
        "image-type" => any(&|x| x == cvm_type(v)),
        "image-name" => any(&|x| v.image.name.contains(x)),
        "platform" => any(&|x| "TencentOS".to_lowercase().contains(&x.to_lowercase())),
        // No tags, dedicated clusters or CDC caches in the emulated world.
        _ => false,
    }
}

const CVM_FILTERS: &[&str] = &[
    "image-id",
    "image-type",
    "image-name",
    "platform",
    "tag-key",
    "tag-value",
    "dedicated-cluster-id",
    "cdc-cache-status",
];

fn cvm_describe_images(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    ctx.allow(&["ImageIds", "Filters", "Offset", "Limit", "InstanceType"])?;
    let ids = ctx.params.list("ImageIds")?;
    let filters = ctx.filters(Flavor::Cvm, CVM_FILTERS, 5)?;
    if ids.is_some() && ctx.params.has("Filters") {
        return Err(TcError::new(
            "InvalidParameter.InvalidParameterCoexistImageIdsFilters",
            "ImageIds and Filters cannot be specified at the same time.",
        ));
    }
    let page = ctx.paging(Flavor::Cvm)?;
    let views: Vec<ImageView> = match ids {
        Some(ids) => {
            if ids.len() > MAX_LIMIT as usize {
                return Err(TcError::new(
                    "InvalidParameterValue.LimitExceeded",
                    "At most 100 ImageIds are allowed per request.",
                ));
            }
            if let Some(bad) = ids.iter().find(|i| !well_formed(i, "img-")) {
                return Err(TcError::new(
                    "InvalidImageId.Malformed",
                    format!("The image id `{bad}` is malformed."),
                ));
            }
            let mut seen = BTreeSet::new();
            ids.iter()
                .filter(|i| seen.insert((*i).clone()))
                .filter_map(|i| {
                    ctx.engine
                        .image(Provider::TencentCvm, ctx.caller, ctx.region, i)
                        .ok()
                })
                .collect()
        }
        None => ctx
            .engine
            .list(
                Provider::TencentCvm,
                ctx.caller,
                ctx.region,
                &[Relation::Owner, Relation::Received, Relation::Public],
            )
            .into_iter()
            .filter(|v| {
                filters
                    .iter()
                    .all(|(n, vals)| cvm_filter_matches(v, n, vals))
            })
            .collect(),
    };
    let set: Vec<Value> = page.of(&views).iter().map(cvm_image_json).collect();
    Ok(json!({"TotalCount": views.len(), "ImageSet": set}))
}

fn cvm_image_id(ctx: &Ctx<'_>, name: &str) -> Result<String, TcError> {
    let id = ctx.params.required(name)?.to_owned();
    if !well_formed(&id, "img-") {
        return Err(TcError::new(
            "InvalidImageId.Malformed",
            format!("The image id `{id}` is malformed."),
        ));
    }
    Ok(id)
}

fn cvm_not_found(id: &str) -> TcError {
    TcError::new(
        "InvalidImageId.NotFound",
        format!("The image `{id}` does not exist."),
    )
}

/// Maps an engine refusal on CVM to Tencent's code for `action`.
fn cvm_error(e: EngineError, action: &str) -> TcError {
    let msg = e.to_string();
    let code = match &e {
        EngineError::ImageNotFound(id) => return cvm_not_found(id),
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

fn cvm_modify_share(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    const ACTION: &str = "ModifyImageSharePermission";
    ctx.allow(&["ImageId", "AccountIds", "Permission"])?;
    let id = cvm_image_id(ctx, "ImageId")?;
    let accounts = ctx.params.required_list("AccountIds")?;
    let permission = ctx.params.required("Permission")?.to_owned();
    if permission != "SHARE" && permission != "CANCEL" {
        return Err(TcError::new(
            "InvalidParameterValue",
            format!("The value `{permission}` of parameter `Permission` must be SHARE or CANCEL."),
        ));
    }
    let limits = limits_for(Provider::TencentCvm);
    for a in &accounts {
        if limits
            .check_principal_form(&Principal::account(a.as_str()))
            .is_err()
        {
            return Err(TcError::new(
                "InvalidAccountId.NotFound",
                format!("The account id `{a}` is invalid."),
            ));
        }
    }
    let view = ctx
        .engine
        .image(Provider::TencentCvm, ctx.caller, ctx.region, &id)
        .map_err(|e| cvm_error(e, ACTION))?;
    if view.relation == Relation::Owner && view.image.state == State::Unavailable {
        return Err(TcError::new(
            "InvalidParameterValue.InvalidImageId",
            format!("The image `{id}` is deprecated; the operation is not allowed on it."),
        ));
    }
    if permission == "SHARE" {
        if view.relation == Relation::Owner {
            let current = ctx.engine.grants(&id);
            if let Some(dup) = accounts
                .iter()
                .find(|a| current.iter().any(|g| &g.principal == *a))
            {
                return Err(TcError::new(
                    "FailedOperation.AccountAlreadyExists",
                    format!("The image `{id}` is already shared with account `{dup}`."),
                ));
            }
        }
        ctx.engine
            .share(Provider::TencentCvm, ctx.caller, ctx.region, &id, &accounts)
            .map_err(|e| cvm_error(e, ACTION))?;
    } else {
        ctx.engine
            .unshare(Provider::TencentCvm, ctx.caller, ctx.region, &id, &accounts)
            .map_err(|e| cvm_error(e, ACTION))?;
    }
    Ok(json!({}))
}

fn cvm_describe_share(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    const ACTION: &str = "DescribeImageSharePermission";
    ctx.allow(&["ImageId"])?;
    let id = cvm_image_id(ctx, "ImageId")?;
    let view = ctx
        .engine
        .image(Provider::TencentCvm, ctx.caller, ctx.region, &id)
        .map_err(|e| cvm_error(e, ACTION))?;
    if view.relation != Relation::Owner {
        return Err(TcError::new(
            "UnauthorizedOperation.ImageNotBelongToAccount",
            format!("The image `{id}` does not belong to this account."),
        ));
    }
    let grants = ctx
        .engine
        .sharees(Provider::TencentCvm, ctx.caller, ctx.region, &id)
        .map_err(|e| cvm_error(e, ACTION))?;
    let set: Vec<Value> = grants
        .iter()
        .map(|g| json!({"CreatedTime": g.created_iso(), "AccountId": g.principal}))
        .collect();
    Ok(json!({ "SharePermissionSet": set }))
}

fn cvm_sync_images(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
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
    if !well_formed(&id, "img-") {
        return Err(TcError::new(
            "InvalidImageId.Malformed",
            format!("The image id `{id}` is malformed."),
        ));
    }
    let mut regions = ctx.params.required_list("DestinationRegions")?;
    let mut seen = BTreeSet::new();
    regions.retain(|r| seen.insert(r.clone()));
    if let Some(bad) = regions.iter().find(|r| !region_known(ctx.engine, r)) {
        return Err(TcError::new(
            "InvalidRegion.NotFound",
            format!("The region `{bad}` does not exist."),
        ));
    }
    let name = ctx.params.str("ImageName")?.map(str::to_owned);
    if name.as_ref().is_some_and(|n| n.chars().count() > 60) {
        return Err(TcError::new(
            "InvalidParameterValue",
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
        .image(Provider::TencentCvm, ctx.caller, ctx.region, &id)
        .map_err(|e| cvm_error(e, ACTION))?;
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
            .list(Provider::TencentCvm, ctx.caller, r, &[Relation::Owner])
            .len();
        if owned >= CVM_CUSTOM_IMAGES_PER_REGION {
            return Err(TcError::new(
                "ImageQuotaLimitExceeded",
                format!("The custom image quota of region `{r}` is exhausted."),
            ));
        }
    }
    if dry_run {
        return Err(TcError::new(
            "DryRunOperation",
            "The request would have succeeded, but DryRun is set.",
        ));
    }
    let mut set = Vec::new();
    for r in &regions {
        let new_id = ctx
            .engine
            .copy(
                Provider::TencentCvm,
                ctx.caller,
                ctx.region,
                &id,
                CopySpec {
                    region: Some(r.clone()),
                    project: None,
                    name: name.clone(),
                },
            )
            .map_err(|e| cvm_error(e, ACTION))?;
        set.push(json!({"ImageId": new_id, "Region": r}));
    }
    Ok(json!({ "ImageSet": if set_required { set } else { Vec::new() } }))
}

fn cvm_delete_images(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    const ACTION: &str = "DeleteImages";
    ctx.allow(&["ImageIds", "DeleteBindedSnap", "DryRun"])?;
    let ids = ctx.params.required_list("ImageIds")?;
    ctx.params.bool("DeleteBindedSnap")?;
    let dry_run = ctx.params.bool("DryRun")?.unwrap_or(false);
    let mut seen = BTreeSet::new();
    let ids: Vec<String> = ids.into_iter().filter(|i| seen.insert(i.clone())).collect();
    // All or nothing: every image is checked before any is deleted.
    for id in &ids {
        if !well_formed(id, "img-") {
            return Err(TcError::new(
                "InvalidImageId.Malformed",
                format!("The image id `{id}` is malformed."),
            ));
        }
        ctx.engine
            .check_delete(Provider::TencentCvm, ctx.caller, ctx.region, id)
            .map_err(|e| cvm_error(e, ACTION))?;
    }
    if dry_run {
        return Err(TcError::new(
            "DryRunOperation",
            "The request would have succeeded, but DryRun is set.",
        ));
    }
    for id in &ids {
        ctx.engine
            .delete(Provider::TencentCvm, ctx.caller, ctx.region, id)
            .map_err(|e| cvm_error(e, ACTION))?;
    }
    Ok(json!({}))
}

// ------------------------------------------------------------------------------- Lighthouse

fn lighthouse_action(ctx: &mut Ctx<'_>, action: &str) -> Result<Value, TcError> {
    match action {
        "DescribeBlueprints"
        | "ShareBlueprintAcrossAccounts"
        | "CancelShareBlueprintAcrossAccounts"
        | "DescribeBlueprintsShareAcrossAccountInfos"
        | "SyncBlueprint"
        | "DeleteBlueprints"
        | "DescribeImagesToShare"
        | "ModifyImageSharePermission" => ctx.check_region()?,
        _ => return Err(invalid_action(action)),
    }
    match action {
        "DescribeBlueprints" => lh_describe_blueprints(ctx),
        "ShareBlueprintAcrossAccounts" => lh_share(ctx, true),
        "CancelShareBlueprintAcrossAccounts" => lh_share(ctx, false),
        "DescribeBlueprintsShareAcrossAccountInfos" => lh_describe_share(ctx),
        "SyncBlueprint" => lh_sync(ctx),
        "DeleteBlueprints" => lh_delete(ctx),
        "DescribeImagesToShare" => lh_images_to_share(ctx),
        _ => lh_modify_image_share(ctx),
    }
}

fn lh_type(v: &ImageView) -> &'static str {
    match v.relation {
        Relation::Owner => "PRIVATE",
        Relation::Received => "SHARED",
        Relation::Public => "PURE_OS",
    }
}

fn lh_state(v: &ImageView) -> &'static str {
    match v.image.state {
        State::Available => "NORMAL",
        State::Creating => "SYNCING",
        State::Unavailable => "OFFLINE",
    }
}

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
        "BlueprintType": lh_type(v),
        "ImageUrl": "",
        "RequiredSystemDiskSize": 20,
        "BlueprintState": lh_state(v),
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

const LH_FILTERS: &[&str] = &[
    "blueprint-id",
    "blueprint-type",
    "platform-type",
    "blueprint-name",
    "blueprint-state",
    "scene-id",
    "tag-key",
    "tag-value",
];

fn lh_filter_matches(v: &ImageView, name: &str, values: &[String]) -> bool {
    let any = |f: &dyn Fn(&str) -> bool| values.iter().any(|x| f(x));
    match name {
        "blueprint-id" => any(&|x| x == v.image.id),
        "blueprint-type" => any(&|x| x == lh_type(v)),
        "platform-type" => any(&|x| x == "LINUX_UNIX"),
        "blueprint-name" => any(&|x| v.image.name.contains(x)),
        "blueprint-state" => any(&|x| x == lh_state(v)),
        _ => false,
    }
}

fn lh_blueprint_id(id: &str) -> Result<(), TcError> {
    if !well_formed(id, "lhbp-") {
        return Err(TcError::new(
            "InvalidParameterValue.BlueprintIdMalformed",
            format!("The blueprint id `{id}` is malformed."),
        ));
    }
    Ok(())
}

fn lh_ids(ctx: &Ctx<'_>, name: &str, required: bool) -> Result<Option<Vec<String>>, TcError> {
    let ids = if required {
        Some(ctx.params.required_list(name)?)
    } else {
        ctx.params.list(name)?
    };
    if let Some(ids) = &ids {
        if ids.len() > MAX_LIMIT as usize {
            return Err(TcError::new(
                "InvalidParameterValue.LimitExceeded",
                format!("At most {MAX_LIMIT} values are allowed in `{name}`."),
            ));
        }
        let mut seen = BTreeSet::new();
        for id in ids {
            lh_blueprint_id(id)?;
            if !seen.insert(id) {
                return Err(TcError::new(
                    "InvalidParameterValue.Duplicated",
                    format!("`{name}` contains `{id}` twice."),
                ));
            }
        }
    }
    Ok(ids)
}

fn lh_describe_blueprints(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    ctx.allow(&["BlueprintIds", "Offset", "Limit", "Filters"])?;
    let ids = lh_ids(ctx, "BlueprintIds", false)?;
    let filters = ctx.filters(Flavor::Lighthouse, LH_FILTERS, 100)?;
    if ids.is_some() && ctx.params.has("Filters") {
        return Err(TcError::new(
            "InvalidParameter.ParameterConflict",
            "BlueprintIds and Filters cannot be specified at the same time.",
        ));
    }
    let page = ctx.paging(Flavor::Lighthouse)?;
    let views: Vec<ImageView> = match ids {
        Some(ids) => ids
            .iter()
            .filter_map(|i| {
                ctx.engine
                    .image(Provider::TencentLighthouse, ctx.caller, ctx.region, i)
                    .ok()
            })
            .collect(),
        None => ctx
            .engine
            .list(
                Provider::TencentLighthouse,
                ctx.caller,
                ctx.region,
                &[Relation::Owner, Relation::Received, Relation::Public],
            )
            .into_iter()
            .filter(|v| {
                filters
                    .iter()
                    .all(|(n, vals)| lh_filter_matches(v, n, vals))
            })
            .collect(),
    };
    let set: Vec<Value> = page
        .of(&views)
        .iter()
        .map(|v| blueprint_json(ctx.engine, v))
        .collect();
    Ok(json!({"TotalCount": views.len(), "BlueprintSet": set}))
}

/// Maps an engine refusal on Lighthouse to Tencent's code for `action`.
fn lh_error(e: EngineError, action: &str) -> TcError {
    let msg = e.to_string();
    let code = match &e {
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

fn lh_share(ctx: &mut Ctx<'_>, granting: bool) -> Result<Value, TcError> {
    let action = if granting {
        "ShareBlueprintAcrossAccounts"
    } else {
        "CancelShareBlueprintAcrossAccounts"
    };
    ctx.allow(&["BlueprintId", "AccountIds"])?;
    let id = ctx.params.required("BlueprintId")?.to_owned();
    lh_blueprint_id(&id)?;
    let accounts = ctx.params.required_list("AccountIds")?;
    if accounts.len() > LIGHTHOUSE_MAX_ACCOUNTS_PER_CALL {
        return Err(TcError::new(
            "InvalidParameterValue.LimitExceeded",
            format!(
                "At most {LIGHTHOUSE_MAX_ACCOUNTS_PER_CALL} AccountIds are allowed per request; got {}.",
                accounts.len()
            ),
        ));
    }
    let limits = limits_for(Provider::TencentLighthouse);
    for a in &accounts {
        if let Err((_, why)) = limits.check_principal_form(&Principal::account(a.as_str())) {
            let code = if a.contains('@') || a.contains(':') {
                "InvalidParameterValue.AccountIdsNotOwnerAccount"
            } else {
                "InvalidParameterValue.AccountIdsNotExist"
            };
            return Err(TcError::new(code, why));
        }
    }
    let view = ctx
        .engine
        .image(Provider::TencentLighthouse, ctx.caller, ctx.region, &id)
        .map_err(|e| lh_error(e, action))?;
    if view.relation == Relation::Owner {
        let current = ctx.engine.grants(&id);
        let has = |a: &String| current.iter().any(|g| &g.principal == a);
        if granting {
            if let Some(dup) = accounts.iter().find(|a| has(a)) {
                return Err(TcError::new(
                    "UnsupportedOperation.BlueprintAlreadyShared",
                    format!("The blueprint `{id}` is already shared with account `{dup}`."),
                ));
            }
        } else if let Some(absent) = accounts.iter().find(|a| !has(a)) {
            return Err(TcError::new(
                "UnsupportedOperation.BlueprintHasNotShared",
                format!("The blueprint `{id}` is not shared with account `{absent}`."),
            ));
        }
    }
    if granting {
        ctx.engine
            .share(
                Provider::TencentLighthouse,
                ctx.caller,
                ctx.region,
                &id,
                &accounts,
            )
            .map_err(|e| lh_error(e, action))?;
    } else {
        ctx.engine
            .unshare(
                Provider::TencentLighthouse,
                ctx.caller,
                ctx.region,
                &id,
                &accounts,
            )
            .map_err(|e| lh_error(e, action))?;
    }
    Ok(json!({}))
}

fn lh_describe_share(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    ctx.allow(&["BlueprintIds", "Offset", "Limit", "Filters"])?;
    let ids = lh_ids(ctx, "BlueprintIds", true)?.unwrap_or_default();
    let filters = ctx.filters(Flavor::Lighthouse, &["account-id"], 5)?;
    let page = ctx.paging(Flavor::Lighthouse)?;
    // Rows are counted over every grant, but only the page's rows are built (an image may
    // have 100,000 grants and a client reads them 100 at a time).
    let mut total = 0usize;
    let mut rows = Vec::new();
    for id in &ids {
        let Ok(grants) =
            ctx.engine
                .sharees_slice(Provider::TencentLighthouse, ctx.caller, ctx.region, id)
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

fn lh_sync(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    const ACTION: &str = "SyncBlueprint";
    ctx.allow(&["BlueprintId", "DestinationRegions"])?;
    let id = ctx.params.required("BlueprintId")?.to_owned();
    lh_blueprint_id(&id)?;
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
        .image(Provider::TencentLighthouse, ctx.caller, ctx.region, &id)
        .map_err(|e| lh_error(e, ACTION))?;
    if view.relation != Relation::Owner {
        return Err(TcError::new(
            "ResourceNotFound.PrivateBlueprintNotFound",
            format!("The custom blueprint `{id}` does not exist."),
        ));
    }
    if view.image.state != State::Available {
        return Err(TcError::new(
            "UnsupportedOperation.BlueprintCurStateInvalid",
            format!("The blueprint `{id}` is {}.", lh_state(&view)),
        ));
    }
    let mut set = Vec::new();
    for r in &regions {
        let new_id = ctx
            .engine
            .copy(
                Provider::TencentLighthouse,
                ctx.caller,
                ctx.region,
                &id,
                CopySpec {
                    region: Some(r.clone()),
                    project: None,
                    name: Some(view.image.name.clone()),
                },
            )
            .map_err(|e| lh_error(e, ACTION))?;
        set.push(json!({"Region": r, "BlueprintId": new_id}));
    }
    Ok(json!({ "DestinationRegionBlueprintSet": set }))
}

fn lh_delete(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    const ACTION: &str = "DeleteBlueprints";
    ctx.allow(&["BlueprintIds"])?;
    let ids = lh_ids(ctx, "BlueprintIds", true)?.unwrap_or_default();
    for id in &ids {
        ctx.engine
            .check_delete(Provider::TencentLighthouse, ctx.caller, ctx.region, id)
            .map_err(|e| lh_error(e, ACTION))?;
    }
    for id in &ids {
        ctx.engine
            .delete(Provider::TencentLighthouse, ctx.caller, ctx.region, id)
            .map_err(|e| lh_error(e, ACTION))?;
    }
    Ok(json!({}))
}

/// Why a CVM image cannot be shared to Lighthouse (tencent.md §2.7), or `None`.
fn unshareable_reason(engine: &Engine, v: &ImageView) -> Option<String> {
    let img = &v.image;
    let reason = if v.relation != Relation::Owner {
        "Only custom images of this account can be shared to Lighthouse."
    } else if engine
        .images()
        .any(|i| i.provider == Provider::TencentLighthouse && i.id == blueprint_for_cvm(&img.id))
    {
        "The image has already been shared to Lighthouse."
    } else if img.origin == Origin::Imported {
        "Imported images cannot be shared to Lighthouse."
    } else if img.kind == ImageKind::WholeMachine {
        "Whole-instance images cannot be shared to Lighthouse."
    } else if img.state != State::Available {
        "The image is not in the NORMAL state."
    } else {
        return None;
    };
    Some(reason.to_owned())
}

fn lh_image_json(engine: &Engine, v: &ImageView) -> Value {
    let img = &v.image;
    let reason = unshareable_reason(engine, v);
    json!({
        "ImageId": img.id,
        "ImageName": img.name,
        "ImageDescription": "",
        "ImageSize": 50,
        "ImageSource": if img.origin == Origin::Imported { "EXTERNAL_IMPORT" } else { "CREATE_IMAGE" },
        "ImageClass": if img.kind == ImageKind::WholeMachine { "InstanceImage" } else { "SystemImage" },
        "ImageState": cvm_state(v),
        "IsSupportCloudinit": true,
        "Architecture": "x86_64",
        "OsName": "TencentOS Server 3.1 (TK4)",
        "Platform": "TencentOS",
        "CreatedTime": img.created_iso(),
        "IsShareable": reason.is_none(),
        "UnshareableReason": reason.unwrap_or_default(),
    })
}

fn lh_images_to_share(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    ctx.allow(&["ImageIds", "Offset", "Limit", "Filters"])?;
    let ids = ctx.params.list("ImageIds")?;
    let filters = ctx.filters(
        Flavor::Lighthouse,
        &["image-id", "image-name", "image-type"],
        5,
    )?;
    if ids.is_some() && ctx.params.has("Filters") {
        return Err(TcError::new(
            "InvalidParameter.ParameterConflict",
            "ImageIds and Filters cannot be specified at the same time.",
        ));
    }
    let page = ctx.paging(Flavor::Lighthouse)?;
    let views: Vec<ImageView> = match ids {
        Some(ids) => {
            let mut seen = BTreeSet::new();
            for id in &ids {
                if !well_formed(id, "img-") {
                    return Err(TcError::new(
                        "InvalidParameterValue.InvalidImageIdMalformed",
                        format!("The image id `{id}` is malformed."),
                    ));
                }
                if !seen.insert(id) {
                    return Err(TcError::new(
                        "InvalidParameterValue.Duplicated",
                        format!("`ImageIds` contains `{id}` twice."),
                    ));
                }
            }
            ids.iter()
                .filter_map(|i| {
                    ctx.engine
                        .image(Provider::TencentCvm, ctx.caller, ctx.region, i)
                        .ok()
                })
                .collect()
        }
        None => {
            // Without an image-type filter: the caller's own custom images.
            let has_type = filters.iter().any(|(n, _)| n == "image-type");
            ctx.engine
                .list(
                    Provider::TencentCvm,
                    ctx.caller,
                    ctx.region,
                    &[Relation::Owner, Relation::Received, Relation::Public],
                )
                .into_iter()
                .filter(|v| has_type || v.relation == Relation::Owner)
                .filter(|v| {
                    filters
                        .iter()
                        .all(|(n, vals)| cvm_filter_matches(v, n, vals))
                })
                .collect()
        }
    };
    let set: Vec<Value> = page
        .of(&views)
        .iter()
        .map(|v| lh_image_json(ctx.engine, v))
        .collect();
    Ok(json!({"TotalCount": views.len(), "ImageSet": set}))
}

fn lh_modify_image_share(ctx: &mut Ctx<'_>) -> Result<Value, TcError> {
    ctx.allow(&["ImageId", "Permission"])?;
    let id = ctx.params.required("ImageId")?.to_owned();
    if !well_formed(&id, "img-") {
        return Err(TcError::new(
            "InvalidParameterValue.InvalidImageIdMalformed",
            format!("The image id `{id}` is malformed."),
        ));
    }
    let permission = ctx.params.required("Permission")?.to_owned();
    if permission != "SHARE" && permission != "CANCEL" {
        return Err(TcError::new(
            "InvalidParameterValue",
            format!("The value `{permission}` of parameter `Permission` must be SHARE or CANCEL."),
        ));
    }
    let view = ctx
        .engine
        .image(Provider::TencentCvm, ctx.caller, ctx.region, &id)
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
            Provider::TencentLighthouse,
            ctx.caller,
            ctx.region,
            &blueprint,
        )
        .ok()
        .filter(|b| b.relation == Relation::Owner);
    if permission == "SHARE" {
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
            Provider::TencentLighthouse,
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
        let Some(bp) = existing else {
            return Err(TcError::new(
                "FailedOperation.ImageOperationFailed",
                format!("The image `{id}` is not shared to Lighthouse."),
            ));
        };
        if bp.shared {
            return Err(TcError::new(
                "ResourceInUse.ImageInUse",
                format!(
                    "The blueprint `{blueprint}` made from `{id}` is shared with other accounts; \
                     cancel that first."
                ),
            ));
        }
        ctx.engine.remove_image(&blueprint);
        Ok(json!({ "BlueprintId": Value::Null }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_parameters_become_json() {
        let mut root = Value::Object(Map::new());
        for (k, v) in [
            ("ImageIds.0", "img-a"),
            ("ImageIds.1", "img-b"),
            ("Filters.0.Name", "image-type"),
            ("Filters.0.Values.0", "SHARED_IMAGE"),
            ("Limit", "5"),
        ] {
            insert_flat(&mut root, k, v.to_owned()).unwrap();
        }
        assert_eq!(
            root,
            json!({"ImageIds": ["img-a", "img-b"],
                   "Filters": [{"Name": "image-type", "Values": ["SHARED_IMAGE"]}],
                   "Limit": "5"})
        );
        assert!(insert_flat(&mut root, "ImageIds.x", "1".into()).is_err());
    }

    #[test]
    fn ids_regions_and_mainland() {
        assert!(well_formed("img-6pb6lrmy", "img-"));
        assert!(!well_formed("img-", "img-"));
        assert!(!well_formed("img-6pb6 lrmy", "img-"));
        assert!(!well_formed("m-abc", "img-"));
        assert_eq!(blueprint_for_cvm("img-6pb6lrmy"), "lhbp-6pb6lrmy");
        assert!(is_mainland("ap-guangzhou") && is_mainland("ap-shenzhen-fsi"));
        assert!(!is_mainland("ap-hongkong") && !is_mainland("na-ashburn"));
    }

    #[test]
    fn cross_site_rule_maps_to_account_area() {
        use imageshare_core::Site;
        // The cross-site rule is the engine's; the front-end only names the code.
        let e = lh_error(
            EngineError::Rule {
                rule: LimitRule::CrossSite,
                message: format!("x is an account of the {} site", Site::International),
            },
            "ShareBlueprintAcrossAccounts",
        );
        assert_eq!(e.code, "InvalidParameterValue.AccountIdInvalidAccountArea");
    }
}
