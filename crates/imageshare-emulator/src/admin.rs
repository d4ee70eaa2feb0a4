//! The admin API: inspection and control of a running emulator over HTTP, for test suites
//! in any language. Every path is under the reserved prefix `/_imageshare/`, which no
//! emulated cloud uses (Alibaba RPC and ACS3, Tencent API 3.0 and UCloud all post to `/`;
//! the instance metadata services live under `/latest/`), so the admin API never shadows a
//! cloud request. Answers are JSON; an error is `{"error": "<what is wrong>"}` with a 4xx
//! status. Only loopback peers are served (403 otherwise), like the rest of the emulator.
//!
//! | method and path | answer |
//! |---|---|
//! | `GET /_imageshare/health` | `{"status": "ok", "service": "imageshare-emulator", "version", "providers": [..]}` |
//! | `GET /_imageshare/state` | `{"accounts": [..], "images": [{"provider", "id", "owner", "region", "state", "progress", "size_gib", "shared_with": [..], ..}]}` |
//! | `GET /_imageshare/calls` | `{"calls": [{"provider", "action", "caller", "session", "outcome", "error", "request_id"}]}`; optional `?provider=&action=` filters |
//! | `GET /_imageshare/faults` | `{"plan": {"seed", "rules": [..]}, "served": [{"provider", "action", "kind", "quota"}]}` |
//! | `PUT /_imageshare/faults` | a fault plan as JSON (the world file's `[faults]` table); answers like `GET` |
//! | `POST /_imageshare/reset` | back to the loaded world; `{"status": "reset"}` |
//! | `PUT /_imageshare/world` | a world file (TOML body) replaces the world and becomes the one `reset` returns to; `{"status": "loaded", "accounts": N, "images": N}` |
//! | `POST /_imageshare/directory-member` | `{"directory": "rd-...", "account": ID, "folder": "fd-..." or absent}` adds a member to a resource directory at run time (it then receives what was shared with the directory or the folder); `{"status": "added"}` |
//!
//! No secret is ever answered: accounts list their key *ids* only (the secrets are in the
//! world the caller wrote or the example world it can read).

use std::net::SocketAddr;

use serde::Serialize;
use serde_json::{json, Value};

use crate::faults::{FaultEvent, FaultPlan, FaultRule};
use crate::server::{lock, CallRecord, Reply, Shared, WireRequest};
use crate::world::World;

/// The reserved path prefix of the admin API.
pub const PREFIX: &str = "/_imageshare/";

/// Whether `path` is an admin path (never one of an emulated cloud).
#[must_use]
pub fn is_admin_path(path: &str) -> bool {
    path.starts_with(PREFIX) || path == "/_imageshare"
}

/// One account as `GET /_imageshare/state` shows it: no secrets, key ids only.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    /// Account id.
    pub id: String,
    /// `china` or `international`.
    pub site: imageshare_core::Site,
    /// UCloud projects it owns.
    pub projects: Vec<String>,
    /// Service roles it holds.
    pub roles: Vec<String>,
    /// Key ids per cloud (`alibaba`: AccessKeyId, `tencent`: SecretId, `ucloud`:
    /// PublicKey).
    pub key_ids: KeyIds,
}

/// The key ids of an account, per cloud.
#[derive(Debug, Clone, Serialize)]
pub struct KeyIds {
    /// Alibaba AccessKeyId.
    pub alibaba: Option<String>,
    /// Tencent SecretId.
    pub tencent: Option<String>,
    /// UCloud PublicKey.
    pub ucloud: Option<String>,
}

/// One image as `GET /_imageshare/state` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ImageState {
    /// Provider name (`alibaba-ecs`, `tencent-cvm`, ...).
    pub provider: imageshare_core::Provider,
    /// Image id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Owner account id (UCloud: project id).
    pub owner: String,
    /// Region.
    pub region: String,
    /// `available`, `creating`, `unavailable` or `failed`.
    pub state: crate::world::State,
    /// How far its creation or copy has come, 0 to 100 (100 once available).
    pub progress: u8,
    /// Size in GiB.
    pub size_gib: u64,
    /// `custom`, `marketplace`, `imported` or `public`.
    pub origin: crate::world::Origin,
    /// `none`, `service-key` or `cmk`.
    pub encrypted: crate::world::Encrypted,
    /// `system-disk`, `whole-machine` or `lightweight-host`.
    pub kind: imageshare_core::ImageKind,
    /// The image it was copied from, if any.
    pub copied_from: Option<String>,
    /// Current grantees (account ids; UCloud: project ids), in grant order.
    pub shared_with: Vec<String>,
}

/// The whole state, as `GET /_imageshare/state` answers it.
#[derive(Debug, Clone, Serialize)]
pub struct StateView {
    /// Accounts of the world.
    pub accounts: Vec<AccountView>,
    /// Live images (seeded, copied), by id.
    pub images: Vec<ImageState>,
    /// Resource directories, with the members added at run time.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_directories: Vec<crate::world::DirectorySeed>,
    /// Alibaba resource shares, by id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_shares: Vec<ResourceShareState>,
}

/// One resource share as `GET /_imageshare/state` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceShareState {
    /// `rs-...`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Owner account.
    pub owner: String,
    /// `Active` or `Pending`.
    pub status: &'static str,
    /// `[entity id, association status]` of each resource.
    pub resources: Vec<(String, &'static str)>,
    /// `[entity id, association status]` of each target.
    pub targets: Vec<(String, &'static str)>,
}

/// The body of `POST /_imageshare/directory-member`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMember {
    directory: String,
    account: String,
    #[serde(default)]
    folder: Option<String>,
}

/// One call of the log, as `GET /_imageshare/calls` answers it.
#[derive(Debug, Clone, Serialize)]
pub struct CallView {
    /// Provider name.
    pub provider: imageshare_core::Provider,
    /// Action.
    pub action: String,
    /// The authenticated account (a role session's account); `null` when authentication
    /// failed or the action is anonymous.
    pub caller: Option<String>,
    /// For temporary credentials: `<role ARN>/<RoleSessionName>`.
    pub session: Option<String>,
    /// `ok`, `error` (answered with a cloud error code) or `dropped` (connection closed by
    /// an injected fault).
    pub outcome: &'static str,
    /// The cloud's error code, when `outcome` is `error`.
    pub error: Option<String>,
    /// The request id the answer carried.
    pub request_id: String,
}

impl From<&CallRecord> for CallView {
    fn from(c: &CallRecord) -> Self {
        let (outcome, error) = match c.error.as_deref() {
            None => ("ok", None),
            Some("dropped") => ("dropped", None),
            Some(code) => ("error", Some(code.to_owned())),
        };
        CallView {
            provider: c.provider,
            action: c.action.clone(),
            caller: c.account.clone(),
            session: c.session.clone(),
            outcome,
            error,
            request_id: c.request_id.clone(),
        }
    }
}

/// The fault plan and the faults served, as `GET /_imageshare/faults` answers it.
#[derive(Debug, Clone, Serialize)]
pub struct FaultsView {
    /// The plan in force.
    pub plan: PlanView,
    /// Every fault served since start or the last reset.
    pub served: Vec<FaultEvent>,
}

/// A fault plan in the admin API's JSON.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    /// Seed of the generators.
    pub seed: u64,
    /// Rules.
    pub rules: Vec<FaultRule>,
}

/// The state of `shared`, with copies brought up to date.
pub(crate) fn state(shared: &Shared) -> StateView {
    let mut engine = shared.engine();
    engine.refresh_all();
    let accounts = engine
        .world()
        .accounts
        .iter()
        .map(|a| AccountView {
            id: a.id.clone(),
            site: a.site,
            projects: a.projects.clone(),
            roles: a.roles.clone(),
            key_ids: KeyIds {
                alibaba: a.keys.alibaba.as_ref().map(|k| k.id.clone()),
                tencent: a.keys.tencent.as_ref().map(|k| k.id.clone()),
                ucloud: a.keys.ucloud.as_ref().map(|k| k.public.clone()),
            },
        })
        .collect();
    let images = engine
        .images()
        .map(|i| ImageState {
            provider: i.provider,
            id: i.id.clone(),
            name: i.name.clone(),
            owner: i.owner.clone(),
            region: i.region.clone(),
            state: i.state,
            progress: i.progress,
            size_gib: i.size_gib,
            origin: i.origin,
            encrypted: i.encrypted,
            kind: i.kind,
            copied_from: i.copied_from.clone(),
            shared_with: engine
                .grants_of(&i.id)
                .iter()
                .map(|g| g.principal.clone())
                .collect(),
        })
        .collect();
    let pairs = |l: &[crate::engine::resource_sharing::Association]| {
        l.iter()
            .map(|a| (a.entity_id.clone(), a.status.as_str()))
            .collect()
    };
    let resource_shares = engine
        .resource_shares()
        .map(|r| ResourceShareState {
            id: r.id.clone(),
            name: r.name.clone(),
            owner: r.owner.clone(),
            status: r.status(),
            resources: pairs(&r.resources),
            targets: pairs(&r.targets),
        })
        .collect();
    StateView {
        accounts,
        images,
        resource_directories: engine.world().resource_directories.clone(),
        resource_shares,
    }
}

fn faults(shared: &Shared) -> FaultsView {
    let f = lock(&shared.faults);
    FaultsView {
        plan: PlanView {
            seed: f.plan().seed,
            rules: f.plan().rules.clone(),
        },
        served: f.events().to_vec(),
    }
}

fn answer(status: u16, value: &impl Serialize) -> Reply {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    Reply::json(status, &value, None)
}

fn error(status: u16, message: impl Into<String>) -> Reply {
    Reply::json(status, &json!({ "error": message.into() }), None)
}

fn method_not_allowed(allow: &str) -> Reply {
    let mut r = error(405, format!("method not allowed; allowed: {allow}"));
    r.headers.push(("allow".into(), allow.into()));
    r
}

/// Answers one admin request from `peer`.
pub(crate) fn handle(shared: &Shared, peer: SocketAddr, wire: &WireRequest) -> Reply {
    let span = tracing::debug_span!("admin", method = %wire.method, path = %wire.path);
    let _guard = span.enter();
    if !peer.ip().is_loopback() {
        tracing::warn!(%peer, "admin request from a non-loopback peer refused");
        return error(403, "the admin API answers loopback peers only");
    }
    let route = wire.path.strip_prefix(PREFIX).unwrap_or("");
    let method = wire.method.as_str();
    match (route, method) {
        ("health", "GET") => answer(
            200,
            &json!({
                "status": "ok",
                "service": "imageshare-emulator",
                "version": env!("CARGO_PKG_VERSION"),
                "providers": crate::engine::served().map(|s| s.provider.name()).collect::<Vec<_>>(),
            }),
        ),
        ("health", _) => method_not_allowed("GET"),
        ("state", "GET") => answer(200, &state(shared)),
        ("state", _) => method_not_allowed("GET"),
        ("calls", "GET") => {
            let provider = param(wire, "provider");
            let action = param(wire, "action");
            let calls: Vec<CallView> = lock(&shared.calls)
                .iter()
                .filter(|c| provider.is_none_or(|p| c.provider.name() == p))
                .filter(|c| action.is_none_or(|a| c.action == a))
                .map(CallView::from)
                .collect();
            answer(200, &json!({ "calls": calls }))
        }
        ("calls", _) => method_not_allowed("GET"),
        ("faults", "GET") => answer(200, &faults(shared)),
        ("faults", "PUT") => {
            let plan: FaultPlan = match serde_json::from_slice(&wire.body) {
                Ok(p) => p,
                Err(e) => return error(400, format!("invalid fault plan: {e}")),
            };
            if let Err(e) = plan.validate() {
                return error(400, format!("invalid fault plan: {e}"));
            }
            shared.set_faults(plan);
            tracing::info!("fault plan replaced over the admin API");
            answer(200, &faults(shared))
        }
        ("faults", _) => method_not_allowed("GET, PUT"),
        ("reset", "POST") => {
            shared.reset();
            tracing::info!("state reset over the admin API");
            answer(200, &json!({ "status": "reset" }))
        }
        ("reset", _) => method_not_allowed("POST"),
        ("world", "PUT") => {
            let Ok(text) = std::str::from_utf8(&wire.body) else {
                return error(400, "the world must be UTF-8 TOML");
            };
            match World::from_toml_str(text) {
                Ok(world) => {
                    let (accounts, images) = (world.accounts.len(), world.images.len());
                    shared.load_world(world);
                    tracing::info!(accounts, images, "world loaded over the admin API");
                    answer(
                        200,
                        &json!({ "status": "loaded", "accounts": accounts, "images": images }),
                    )
                }
                Err(e) => error(400, e.to_string()),
            }
        }
        ("world", _) => method_not_allowed("PUT"),
        ("directory-member", "POST") => {
            let m: NewMember = match serde_json::from_slice(&wire.body) {
                Ok(m) => m,
                Err(e) => return error(400, format!("invalid member: {e}")),
            };
            let added =
                shared
                    .engine()
                    .add_directory_member(&m.directory, &m.account, m.folder.as_deref());
            match added {
                Ok(()) => {
                    tracing::info!(directory = %m.directory, account = %m.account, "directory member added over the admin API");
                    answer(200, &json!({ "status": "added" }))
                }
                Err(e) => error(400, e),
            }
        }
        ("directory-member", _) => method_not_allowed("POST"),
        _ => error(
            404,
            format!(
                "no admin resource {}; see health, state, calls, faults, reset, world, \
                 directory-member",
                wire.path
            ),
        ),
    }
}

fn param<'a>(wire: &'a WireRequest, name: &str) -> Option<&'a str> {
    wire.query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
