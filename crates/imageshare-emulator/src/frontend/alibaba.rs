//! Alibaba Cloud OpenAPI front-end (ECS 2014-05-26, SWAS-OPEN 2020-06-01): RPC v1 and
//! ACS3 authentication, the `{RequestId, HostId, Code, Message, Recommend}` error
//! envelope, throttling and server-error answers.

use imageshare_alibaba::signer::{acs3, rpc_v1};
use imageshare_core::{time, ImageKind, LimitRule, Provider, Secret};
use serde_json::{json, Value};

use super::params::{first, FlatLists, ParamError, Params};
use super::{Call, Frontend, Surface};
use crate::engine::{CopySpec, Engine, EngineError, ImageView, Relation};
use crate::faults::FaultKind;
use crate::server::{Reply, Shared, WireRequest};
use crate::world::{Account, Encrypted, ImageSeed, Origin, State};

/// ECS API version.
pub const ECS_VERSION: &str = "2014-05-26";
/// SWAS-OPEN API version.
pub const SAS_VERSION: &str = "2020-06-01";
/// Largest clock skew accepted for `Timestamp` / `x-acs-date` (the V3 doc's 15 minutes;
/// the V2 doc now says 31, older texts 15: the stricter value keeps clients honest).
pub const MAX_SKEW_SECS: u64 = 15 * 60;

/// The product an API version belongs to.
pub fn product(version: &str) -> Option<Provider> {
    match version {
        ECS_VERSION => Some(Provider::AlibabaEcs),
        SAS_VERSION => Some(Provider::AlibabaSas),
        _ => None,
    }
}

/// An Alibaba error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliError {
    /// HTTP status.
    pub status: u16,
    /// Error code, verbatim.
    pub code: String,
    /// Message.
    pub message: String,
}

impl AliError {
    /// An error with this status, code and message.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }
    /// The JSON error envelope.
    pub fn reply(&self, request_id: &str, host: &str, product_code: &str) -> Reply {
        let body = json!({
            "RequestId": request_id,
            "HostId": host,
            "Code": self.code,
            "Message": self.message,
            "Recommend": format!(
                "https://api.aliyun.com/troubleshoot?q={}&product={}&requestId={}",
                self.code, product_code, request_id
            ),
        });
        Reply::json(self.status, &body, Some(self.code.clone()))
    }
}

fn host_of(wire: &WireRequest) -> String {
    wire.header("host").unwrap_or("ecs.aliyuncs.com").to_owned()
}

fn error_reply(e: AliError, wire: &WireRequest, request_id: &str) -> Reply {
    let product = match wire.header("x-acs-version").or_else(|| {
        wire.query
            .iter()
            .find(|(k, _)| k == "Version")
            .map(|(_, v)| v.as_str())
    }) {
        Some(SAS_VERSION) => "swas-open",
        _ => "Ecs",
    };
    e.reply(request_id, &host_of(wire), product)
}

/// A successful JSON answer: `body` with `RequestId` added.
pub fn ok(mut body: Value, request_id: &str) -> Reply {
    if let Value::Object(m) = &mut body {
        m.insert("RequestId".into(), Value::String(request_id.to_owned()));
    }
    Reply::json(200, &body, None)
}

/// Which signature style an Alibaba request uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlibabaStyle {
    /// RPC signature v1 (HMAC-SHA1) in the parameters.
    RpcV1,
    /// ACS3-HMAC-SHA256 in the `Authorization` header.
    Acs3,
}

/// The signature style of a request, `None` when it is not an Alibaba request. The official
/// Tea SDK's V2 path sends `x-acs-action` / `x-acs-version` headers too, but signs RPC v1
/// style: no ACS3 Authorization, `Signature` + `SignatureMethod` in the parameters. Only
/// the signature decides the style.
pub fn style(wire: &WireRequest) -> Option<AlibabaStyle> {
    let params = wire.params();
    let has = |name: &str| first(params, name).is_some();
    let auth = wire.header("authorization").unwrap_or("");
    let rpc_signed = has("Signature") && has("SignatureMethod");
    if auth.starts_with(acs3::ALGORITHM) || (wire.header("x-acs-action").is_some() && !rpc_signed) {
        return Some(AlibabaStyle::Acs3);
    }
    let rpc = has("Action") && has("Version") && (has("AccessKeyId") || has("SignatureMethod"));
    rpc.then_some(AlibabaStyle::RpcV1)
}

/// The Alibaba Cloud OpenAPI front-end (ECS and SWAS-OPEN on one gateway).
pub(crate) struct Alibaba;

impl Frontend for Alibaba {
    fn classify(&self, wire: &WireRequest) -> Option<Surface> {
        let (version, action) = match style(wire)? {
            AlibabaStyle::Acs3 => (wire.header("x-acs-version"), wire.header("x-acs-action")),
            AlibabaStyle::RpcV1 => (
                first(wire.params(), "Version"),
                first(wire.params(), "Action"),
            ),
        };
        let version = version.unwrap_or("").to_owned();
        let product = product(&version);
        Some(Surface {
            provider: product.unwrap_or(Provider::AlibabaEcs),
            product,
            action: action.unwrap_or("").to_owned(),
            version,
        })
    }

    fn authenticate(&self, call: &Call<'_>) -> Result<Account, Reply> {
        let (shared, wire) = (call.shared, call.wire);
        match style(wire) {
            Some(AlibabaStyle::Acs3) => authenticate_acs3(shared, wire),
            _ => authenticate_rpc(shared, wire),
        }
        .map_err(|e| error_reply(e, wire, call.request_id))
    }

    fn dispatch(&self, call: &Call<'_>, caller: &Account) -> Reply {
        let Surface {
            product,
            version,
            action,
            ..
        } = call.surface;
        let params = Params::flat(call.wire.params(), LISTS);
        let (result, product_code) = match product {
            Some(Provider::AlibabaEcs) => (
                ecs_action(&mut call.shared.engine(), action, params, caller),
                "Ecs",
            ),
            Some(Provider::AlibabaSas) => (
                sas_action(&mut call.shared.engine(), action, params, caller),
                "swas-open",
            ),
            _ => (
                Err(AliError::new(
                    400,
                    "InvalidVersion",
                    format!("Specified parameter Version {version:?} is not valid."),
                )),
                "Ecs",
            ),
        };
        match result {
            Ok(body) => ok(body, call.request_id),
            Err(e) => e.reply(call.request_id, &host_of(call.wire), product_code),
        }
    }

    fn fault_reply(&self, call: &Call<'_>, kind: FaultKind) -> Reply {
        let e = match kind {
            FaultKind::Throttle => AliError::new(
                400,
                "Throttling.User",
                "Request was denied due to user flow control.",
            ),
            _ => AliError::new(
                500,
                "InternalError",
                "The request processing has failed due to some unknown error, exception or failure.",
            ),
        };
        let mut reply = e.reply(call.request_id, "ecs.aliyuncs.com", "Ecs");
        if kind == FaultKind::Throttle {
            // The gateway's hint, in milliseconds, which the official SDK (and the
            // imageshare client) sleep before the next attempt.
            reply.headers.push((
                "x-acs-retry-after".into(),
                THROTTLE_RETRY_AFTER_MS.to_string(),
            ));
        }
        reply
    }
}

fn lookup(shared: &Shared, key_id: &str) -> Result<(Account, Secret, Option<String>), AliError> {
    let engine = shared.engine();
    let account = engine
        .world()
        .account_by_alibaba_key(key_id)
        .cloned()
        .ok_or_else(|| {
            AliError::new(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            )
        })?;
    let key = account.keys.alibaba.clone().expect("looked up by this key");
    Ok((account, Secret::new(key.secret), key.token))
}

fn check_time(value: Option<&str>) -> Result<(), AliError> {
    let Some(v) = value else {
        return Err(missing("Timestamp"));
    };
    let t = time::parse_iso8601(v).ok_or_else(|| {
        AliError::new(
            400,
            "IllegalTimestamp",
            format!("The input parameter \"Timestamp\" {v:?} is not in ISO 8601 UTC format (yyyy-MM-ddTHH:mm:ssZ)."),
        )
    })?;
    if time::now_unix().abs_diff(t) > MAX_SKEW_SECS {
        return Err(AliError::new(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    Ok(())
}

fn check_token(expected: Option<&str>, sent: Option<&str>) -> Result<(), AliError> {
    match (expected, sent) {
        (Some(e), Some(s)) if e == s => Ok(()),
        (Some(_), _) => Err(AliError::new(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        )),
        (None, _) => Ok(()),
    }
}

fn used_nonce() -> AliError {
    AliError::new(
        400,
        "SignatureNonceUsed",
        "Specified signature nonce was used already.",
    )
}

fn authenticate_rpc(shared: &Shared, wire: &WireRequest) -> Result<Account, AliError> {
    let params = wire.params();
    let get = |n: &str| first(params, n);
    let key_id = get("AccessKeyId").ok_or_else(|| missing("AccessKeyId"))?;
    let (account, secret, token) = lookup(shared, key_id)?;
    check_time(get("Timestamp").or_else(|| get("TimeStamp")))?;
    rpc_v1::verify(&wire.method, params, &secret)
        .map_err(|e| AliError::new(e.http_status(), e.code(), e.to_string()))?;
    check_token(token.as_deref(), get("SecurityToken"))?;
    let nonce = get("SignatureNonce").ok_or_else(|| missing("SignatureNonce"))?;
    if !shared.fresh_nonce(key_id, nonce) {
        return Err(used_nonce());
    }
    Ok(account)
}

fn authenticate_acs3(shared: &Shared, wire: &WireRequest) -> Result<Account, AliError> {
    let received = acs3::ReceivedRequest {
        method: &wire.method,
        path: &wire.path,
        query: &wire.query,
        headers: &wire.headers,
        body: &wire.body,
    };
    let auth = acs3::authorization_of(&received)
        .map_err(|e| AliError::new(e.http_status(), e.code(), e.to_string()))?;
    let (account, secret, token) = lookup(shared, &auth.access_key_id)?;
    check_time(wire.header("x-acs-date"))?;
    acs3::verify(&received, &secret)
        .map_err(|e| AliError::new(e.http_status(), e.code(), e.to_string()))?;
    check_token(token.as_deref(), wire.header("x-acs-security-token"))?;
    let nonce = wire
        .header("x-acs-signature-nonce")
        .ok_or_else(|| missing("x-acs-signature-nonce"))?;
    if !shared.fresh_nonce(&auth.access_key_id, nonce) {
        return Err(used_nonce());
    }
    Ok(account)
}

/// The `x-acs-retry-after` (milliseconds) sent with an injected throttling answer: the
/// length of the one-second window of the emulated QPS quota.
pub const THROTTLE_RETRY_AFTER_MS: u64 = 1000;

fn not_found_action(action: &str) -> AliError {
    AliError::new(
        404,
        "InvalidAction.NotFound",
        format!("Specified api {action:?} is not found, please check your url and method."),
    )
}

// ---- parameters ---------------------------------------------------------------------------

/// How Alibaba's SDKs number a repeat list: `Name.1`, `Name.2`, ... (an empty entry is
/// still an entry).
const LISTS: FlatLists = FlatLists {
    first_index: 1,
    keep_empty: true,
};

fn missing(name: &str) -> AliError {
    AliError::new(
        400,
        "MissingParameter",
        format!(
            "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
        ),
    )
}

fn invalid_parameter(name: &str, value: &str) -> AliError {
    AliError::new(
        400,
        "InvalidParameter",
        format!("The specified parameter \"{name}\" is not valid: {value:?}."),
    )
}

impl From<ParamError> for AliError {
    fn from(e: ParamError) -> Self {
        match e {
            ParamError::Missing { name } => missing(&name),
            ParamError::OutOfRange {
                name,
                value,
                min,
                max: Some(max),
            } => AliError::new(
                400,
                "InvalidParameter",
                format!(
                    "The specified parameter \"{name}\" {value:?} must be between {min} and {max}."
                ),
            ),
            ParamError::Malformed { name, value, .. }
            | ParamError::Negative { name, value }
            | ParamError::OutOfRange { name, value, .. }
            | ParamError::BadIndex { key: name, value } => invalid_parameter(&name, &value),
        }
    }
}

/// An account id as the JSON number the SDK models expect (`ImageOwnerId`, `UserId` are
/// longs), or the string when it is not numeric.
fn account_json(id: &str) -> Value {
    id.parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(id))
}

// ---- SAS -> ECS ---------------------------------------------------------------------------

/// The emulator's stand-in owner of SAS images shared to ECS (`ModifyImageShareStatus`):
/// ECS lists such an image with the shared images (`ImageOwnerAlias=others`) of the
/// account that owns it in SAS. The real owner id is not documented.
pub const SAS_TO_ECS_OWNER: &str = "1999999999999999";

/// Suffix of the engine key of the ECS side of a SAS image shared to ECS. The image keeps
/// its id on the wire (the action returns no other id), but the engine keys images by id
/// alone, so the ECS record is stored as `<id>#ecs` and translated at the edge.
pub const SAS_TO_ECS_SUFFIX: &str = "#ecs";

/// The engine key of the ECS side of SAS image `id` (for `Emulator::grants` and the like).
pub fn sas_to_ecs_key(id: &str) -> String {
    format!("{id}{SAS_TO_ECS_SUFFIX}")
}

/// The id a client sees for an engine key.
fn wire_id(key: &str) -> &str {
    key.strip_suffix(SAS_TO_ECS_SUFFIX).unwrap_or(key)
}

fn has_image(engine: &Engine, provider: Provider, key: &str) -> bool {
    engine
        .images()
        .any(|i| i.provider == provider && i.id == key)
}

/// The engine key of the ECS image a client calls `id`.
fn ecs_key(engine: &Engine, id: &str) -> String {
    let alias = sas_to_ecs_key(id);
    if !has_image(engine, Provider::AlibabaEcs, id)
        && has_image(engine, Provider::AlibabaEcs, &alias)
    {
        alias
    } else {
        id.to_owned()
    }
}

// ---- error mapping ------------------------------------------------------------------------

fn image_not_found(id: &str) -> AliError {
    AliError::new(
        404,
        "InvalidImageId.NotFound",
        format!("The specified image {id} does not exist."),
    )
}

/// Maps an engine refusal to ECS's documented code and status (alibaba.md 2.2). `id` is
/// the image id as the client sent it.
fn ecs_error(e: EngineError, id: &str) -> AliError {
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
fn incorrect_status(id: &str) -> AliError {
    AliError::new(
        400,
        "IncorrectImageStatus",
        format!("The current status of the image {id} does not support this operation."),
    )
}

/// Maps an engine refusal to SWAS-OPEN. Its per-action error tables are not published
/// (alibaba.md 3.8): `CustomImageInShare` is documented; elsewhere the closest documented
/// ECS code is used (same gateway, same account model), as commented.
fn sas_error(e: EngineError, id: &str) -> AliError {
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
            let mut err = ecs_error(other, id);
            err.message = err.message.replace("AddAccount.n", "Account.N");
            err.message = err.message.replace("\"RemoveAccount.n\"", "\"Account.N\"");
            err
        }
    }
}

fn custom_image_in_share() -> AliError {
    AliError::new(
        400,
        "CustomImageInShare",
        "The custom image is being shared. Please disable sharing first and then delete it.",
    )
}

// ---- ECS ----------------------------------------------------------------------------------

fn ecs_status(state: State) -> &'static str {
    match state {
        State::Available => "Available",
        State::Creating => "Creating",
        State::Unavailable => "UnAvailable",
    }
}

/// One `Images.Image[]` entry, in the SDK model's field names (alibaba.md 1.3).
fn ecs_image_json(view: &ImageView) -> Value {
    let img = &view.image;
    let id = wire_id(&img.id);
    let encrypted = img.encrypted != Encrypted::None;
    let alias = match view.relation {
        Relation::Owner => "self",
        Relation::Received => "others",
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
    let state = ecs_status(img.state);
    json!({
        "ImageId": id,
        "ImageName": img.name,
        "ImageOwnerAlias": alias,
        "ImageOwnerId": account_json(&img.owner),
        "ImageVersion": "",
        "ImageFamily": "",
        "Description": "",
        "Status": state,
        "Progress": if state == "Creating" { "50%" } else { "100%" },
        "Size": if img.kind == ImageKind::WholeMachine { 140 } else { 40 },
        "IsCopied": img.copied_from.is_some(),
        "IsPublic": false,
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

fn ecs_action(
    engine: &mut Engine,
    action: &str,
    params: Params<'_>,
    caller: &Account,
) -> Result<Value, AliError> {
    const P: Provider = Provider::AlibabaEcs;
    match action {
        "DescribeImages" => {
            let region = params.required("RegionId")?;
            let relations: Vec<Relation> = match params.str("ImageOwnerAlias")? {
                None => vec![Relation::Owner, Relation::Received, Relation::Public],
                Some("self") => vec![Relation::Owner],
                // Community images (IsPublic=true) are not modelled.
                Some("others") if params.bool("IsPublic")? == Some(true) => vec![],
                Some("others") => vec![Relation::Received],
                Some("system") => vec![Relation::Public],
                // Marketplace images themselves are not modelled.
                Some("marketplace") => vec![],
                Some(other) => return Err(invalid_parameter("ImageOwnerAlias", other)),
            };
            let ids: Option<Vec<&str>> = params
                .str("ImageId")?
                .map(|v| v.split(',').map(str::trim).collect());
            let statuses: Vec<&str> = params
                .str("Status")?
                .unwrap_or("Available")
                .split(',')
                .map(str::trim)
                .collect();
            let paged = params.page_number(10, 100)?;
            let views: Vec<ImageView> = engine
                .list(P, &caller.id, region, &relations)
                .into_iter()
                .filter(|v| {
                    ids.as_ref()
                        .is_none_or(|ids| ids.contains(&wire_id(&v.image.id)))
                })
                .filter(|v| {
                    let s = ecs_status(v.image.state);
                    statuses
                        .iter()
                        .any(|w| w.eq_ignore_ascii_case(s) || w.eq_ignore_ascii_case("ALL"))
                })
                .collect();
            let images: Vec<Value> = paged.page().of(&views).iter().map(ecs_image_json).collect();
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
            if params.bool("IsPublic")? == Some(true) {
                // Publishing community images is not modelled: no account of the world has
                // signed the community-image terms.
                return Err(AliError::new(
                    403,
                    "PublicImageAgreement.NotSigned",
                    "The community image agreement has not been signed.",
                ));
            }
            let key = ecs_key(engine, id);
            // Removals first, so one call can swap accounts at the quota.
            engine
                .unshare(P, &caller.id, region, &key, &removes)
                .map_err(|e| ecs_error(e, id))?;
            if !adds.is_empty() {
                engine
                    .share(P, &caller.id, region, &key, &adds)
                    .map_err(|e| ecs_error(e, id))?;
            }
            Ok(json!({}))
        }
        "DescribeImageSharePermission" => {
            let region = params.required("RegionId")?;
            let id = params.required("ImageId")?;
            let paged = params.page_number(10, 100)?;
            let key = ecs_key(engine, id);
            let grants = engine
                .sharees_slice(P, &caller.id, region, &key)
                .map_err(|e| ecs_error(e, id))?;
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
                "ShareGroups": {"ShareGroup": []},
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
                        name: params.str("DestinationImageName")?.map(str::to_owned),
                    },
                )
                .map_err(|e| ecs_error(e, id))?;
            if encrypted == Some(true) || kms.is_some() {
                encrypt_copy(engine, &new_id, kms.is_some());
            }
            Ok(json!({"ImageId": new_id}))
        }
        "DeleteImage" => {
            let region = params.required("RegionId")?;
            let id = params.required("ImageId")?;
            let key = ecs_key(engine, id);
            match engine.delete(P, &caller.id, region, &key) {
                // "If the specified custom image does not exist, the request is ignored"
                // (DeleteImage doc, alibaba.md 1.5).
                Ok(()) | Err(EngineError::ImageNotFound(_)) => Ok(json!({})),
                Err(e) => Err(ecs_error(e, id)),
            }
        }
        _ => Err(not_found_action(action)),
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
        .name(&rec.name);
    seed.state = State::Available;
    engine.add_image(&seed);
}

// ---- SAS ----------------------------------------------------------------------------------

fn sas_status(state: State) -> &'static str {
    match state {
        State::Available => "1",
        State::Creating => "4",
        State::Unavailable => "2",
    }
}

/// One `CustomImages[]` entry (alibaba.md 3.5).
fn sas_image_json(engine: &Engine, view: &ImageView) -> Value {
    let img = &view.image;
    json!({
        "ImageId": img.id,
        "Name": img.name,
        "Description": "",
        "Status": sas_status(img.state),
        "CreationTime": img.created_iso(),
        "RegionId": img.region,
        "OsType": "Linux",
        "UserId": account_json(&img.owner),
        "InShare": has_image(engine, Provider::AlibabaEcs, &sas_to_ecs_key(&img.id)),
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

fn sas_action(
    engine: &mut Engine,
    action: &str,
    params: Params<'_>,
    caller: &Account,
) -> Result<Value, AliError> {
    const P: Provider = Provider::AlibabaSas;
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
                .map(|v| sas_image_json(engine, v))
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
            .map_err(|e| sas_error(e, id))?;
            Ok(json!({}))
        }
        "ListCustomImageShareAccounts" => {
            let region = params.required("RegionId")?;
            let id = params.required("ImageId")?;
            let paged = params.page_number(10, 50)?;
            let grants = engine
                .sharees_slice(P, &caller.id, region, id)
                .map_err(|e| sas_error(e, id))?;
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
            let view = engine
                .image(P, &caller.id, region, id)
                .map_err(|e| sas_error(e, id))?;
            if view.relation == Relation::Owner
                && has_image(engine, Provider::AlibabaEcs, &sas_to_ecs_key(id))
            {
                // Shared to ECS counts as shared.
                return Err(custom_image_in_share());
            }
            engine
                .delete(P, &caller.id, region, id)
                .map_err(|e| sas_error(e, id))?;
            Ok(json!({}))
        }
        "ModifyImageShareStatus" => {
            let region = params.required("RegionId")?;
            let id = params.required("ImageId")?;
            let operation = params.required("Operation")?;
            let view = engine
                .image(P, &caller.id, region, id)
                .map_err(|e| sas_error(e, id))?;
            if view.relation != Relation::Owner {
                return Err(image_not_found(id));
            }
            let key = sas_to_ecs_key(id);
            match operation {
                "Share" => {
                    if has_image(engine, Provider::AlibabaEcs, &key) {
                        return Ok(json!({}));
                    }
                    if view.image.state != State::Available {
                        return Err(incorrect_status(id));
                    }
                    let seed = ImageSeed::new(Provider::AlibabaEcs, &key, SAS_TO_ECS_OWNER, region)
                        .origin(view.image.origin)
                        .kind(ImageKind::SystemDisk)
                        .name(&view.image.name);
                    engine.add_image(&seed);
                    if let Err(e) = engine.share(
                        Provider::AlibabaEcs,
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
