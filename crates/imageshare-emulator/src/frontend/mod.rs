//! Provider front-ends: how a request is recognised, authenticated and answered in each
//! cloud's own wire format. Each front-end only translates between the wire and the
//! [`Engine`](crate::engine::Engine); the rules live in the engine.

pub mod alibaba;
pub(crate) mod params;
pub mod tencent;
pub mod ucloud;

use imageshare_core::Provider;

use crate::faults::FaultKind;
use crate::server::{Reply, Shared, WireRequest};
use crate::world::Account;
use params::first as param;

/// Which signature style an Alibaba request uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlibabaStyle {
    /// RPC signature v1 (HMAC-SHA1) in the parameters.
    RpcV1,
    /// ACS3-HMAC-SHA256 in the `Authorization` header.
    Acs3,
}

/// What a request is, as recognised from its own markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Surface {
    /// An Alibaba Cloud OpenAPI request.
    Alibaba {
        /// ECS or SAS (from the API version); `None` for an unknown version.
        product: Option<Provider>,
        /// The `Version` sent.
        version: String,
        /// The action.
        action: String,
        /// Signature style.
        style: AlibabaStyle,
    },
    /// A Tencent Cloud API 3.0 request.
    Tencent {
        /// CVM or Lighthouse (from the credential scope's service); `None` if unknown.
        product: Option<Provider>,
        /// The credential scope service.
        service: String,
        /// `X-TC-Action`.
        action: String,
        /// `X-TC-Version`.
        version: String,
    },
    /// A UCloud API request.
    UCloud {
        /// The action.
        action: String,
    },
}

impl Surface {
    /// The provider the request is for (for logs and fault rules). Unknown Alibaba or
    /// Tencent products count as ECS and CVM.
    pub fn provider(&self) -> Provider {
        match self {
            Surface::Alibaba { product, .. } => product.unwrap_or(Provider::AlibabaEcs),
            Surface::Tencent { product, .. } => product.unwrap_or(Provider::TencentCvm),
            Surface::UCloud { .. } => Provider::UCloud,
        }
    }
    /// The action named by the request.
    pub fn action(&self) -> &str {
        match self {
            Surface::Alibaba { action, .. }
            | Surface::Tencent { action, .. }
            | Surface::UCloud { action } => action,
        }
    }
}

/// Recognises a request by the markers a real one carries, never by path.
pub fn classify(wire: &WireRequest) -> Option<Surface> {
    let auth = wire.header("authorization").unwrap_or("");
    if auth.starts_with(imageshare_tencent::signer::ALGORITHM)
        || wire.header("x-tc-action").is_some()
    {
        let service = imageshare_tencent::signer::scope_from_authorization(auth)
            .map(|(_, s)| s)
            .unwrap_or_default();
        let product = match service.as_str() {
            "cvm" => Some(Provider::TencentCvm),
            "lighthouse" => Some(Provider::TencentLighthouse),
            _ => None,
        };
        return Some(Surface::Tencent {
            product,
            service,
            action: wire.header("x-tc-action").unwrap_or("").to_owned(),
            version: wire.header("x-tc-version").unwrap_or("").to_owned(),
        });
    }
    let params = wire.params();
    // The official Tea SDK's V2 path sends `x-acs-action` / `x-acs-version` headers too,
    // but signs RPC v1 style: no ACS3 Authorization, `Signature` + `SignatureMethod` in
    // the parameters. Only the signature decides the style.
    let rpc_signed =
        param(params, "Signature").is_some() && param(params, "SignatureMethod").is_some();
    if auth.starts_with(imageshare_alibaba::signer::acs3::ALGORITHM)
        || (wire.header("x-acs-action").is_some() && !rpc_signed)
    {
        let version = wire.header("x-acs-version").unwrap_or("").to_owned();
        return Some(Surface::Alibaba {
            product: alibaba::product(&version),
            version,
            action: wire.header("x-acs-action").unwrap_or("").to_owned(),
            style: AlibabaStyle::Acs3,
        });
    }
    if let (Some(action), Some(version)) = (param(params, "Action"), param(params, "Version")) {
        if param(params, "AccessKeyId").is_some() || param(params, "SignatureMethod").is_some() {
            return Some(Surface::Alibaba {
                product: alibaba::product(version),
                version: version.to_owned(),
                action: action.to_owned(),
                style: AlibabaStyle::RpcV1,
            });
        }
    }
    if let Some(params) = ucloud::params(wire) {
        if param(&params, "PublicKey").is_some() || param(&params, "Action").is_some() {
            return Some(Surface::UCloud {
                action: param(&params, "Action").unwrap_or("").to_owned(),
            });
        }
    }
    None
}

/// Authenticates a request as its cloud does; the error is the cloud's own answer.
pub(crate) fn authenticate(
    shared: &Shared,
    surface: &Surface,
    wire: &WireRequest,
    request_id: &str,
) -> Result<Account, Reply> {
    match surface {
        Surface::Alibaba { style, .. } => alibaba::authenticate(shared, *style, wire, request_id),
        Surface::Tencent { .. } => tencent::authenticate(shared, surface, wire, request_id),
        Surface::UCloud { .. } => ucloud::authenticate(shared, wire, request_id),
    }
}

/// The cloud's answer for an injected throttle or server error.
pub fn fault_reply(surface: &Surface, kind: FaultKind, request_id: &str) -> Reply {
    match surface {
        Surface::Alibaba { .. } => alibaba::fault_reply(kind, request_id),
        Surface::Tencent { .. } => tencent::fault_reply(kind, request_id),
        Surface::UCloud { action } => ucloud::fault_reply(action, kind, request_id),
    }
}

/// Answers an authenticated request.
pub(crate) fn dispatch(
    shared: &Shared,
    surface: &Surface,
    wire: &WireRequest,
    caller: &Account,
    request_id: &str,
) -> Reply {
    match surface {
        Surface::Alibaba {
            product,
            version,
            action,
            ..
        } => alibaba::dispatch(shared, *product, version, action, wire, caller, request_id),
        Surface::Tencent {
            product,
            action,
            version,
            ..
        } => tencent::dispatch(shared, *product, version, action, wire, caller, request_id),
        Surface::UCloud { action } => ucloud::dispatch(shared, action, wire, caller, request_id),
    }
}
