//! Provider front-ends: how a request is recognised, authenticated and answered in each
//! cloud's own wire format. Each front-end only translates between the wire and the
//! [`Engine`](crate::engine::Engine); the rules live in the engine.
//!
//! Every front-end implements the crate's `Frontend` trait (classify, authenticate,
//! dispatch, fault reply); the server offers a request to each in turn and runs it through
//! the one that recognises it. Parameters are read, and listings paged, by the one reader
//! in the `params` module.

pub mod alibaba;
pub mod metadata;
pub(crate) mod params;
pub mod tencent;
pub mod ucloud;

use imageshare_core::Provider;

use crate::engine::Session;
use crate::faults::FaultKind;
use crate::server::{Reply, Shared, WireRequest};
use crate::world::Account;

/// Who made a request, as authentication found it.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The account the request acts as (a role session acts as the role's account);
    /// `None` for the actions a cloud serves without a signature (AssumeRoleWithOIDC,
    /// AssumeRoleWithWebIdentity, the instance metadata service).
    pub(crate) account: Option<Account>,
    /// The role session whose temporary credentials signed the request.
    pub(crate) session: Option<Session>,
}

impl Caller {
    /// A request signed with an account's own key.
    pub(crate) fn key(account: Account) -> Self {
        Self {
            account: Some(account),
            session: None,
        }
    }
    /// A request signed with a role session's temporary credentials.
    pub(crate) fn session(account: Account, session: Session) -> Self {
        Self {
            account: Some(account),
            session: Some(session),
        }
    }
    /// A request that carries no signature.
    pub(crate) fn anonymous() -> Self {
        Self {
            account: None,
            session: None,
        }
    }
}

/// What a request is, as recognised from its own markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surface {
    /// The provider the request counts for in the call log and the fault rules: the
    /// product its markers name, or the cloud's main product (ECS, CVM) when they name one
    /// the emulator does not serve.
    pub provider: Provider,
    /// The product the markers name (Alibaba: from the API version; Tencent: from the
    /// credential scope's service); `None` when the front-end does not serve it, which it
    /// answers with the cloud's own "no such version / product" error.
    pub product: Option<Provider>,
    /// The action.
    pub action: String,
    /// The API version sent (Alibaba `Version`, Tencent `X-TC-Version`; empty for UCloud).
    pub version: String,
}

/// One request on its way through a front-end.
pub(crate) struct Call<'a> {
    /// Engine, nonces and the rest of the server state.
    pub(crate) shared: &'a Shared,
    /// What the request is.
    pub(crate) surface: &'a Surface,
    /// The request as received.
    pub(crate) wire: &'a WireRequest,
    /// The id the answer carries.
    pub(crate) request_id: &'a str,
}

/// One cloud's front-end: how its requests are recognised, authenticated and answered.
pub(crate) trait Frontend: Sync {
    /// Recognises a request of this cloud by the markers a real one carries (never by
    /// path); `None` when it is not one.
    fn classify(&self, wire: &WireRequest) -> Option<Surface>;
    /// Checks the request's signature, key, timestamp and nonce as the cloud does; the
    /// error is the cloud's own answer, with its exact code and HTTP status.
    fn authenticate(&self, call: &Call<'_>) -> Result<Caller, Reply>;
    /// Runs the action for `caller` against the engine and answers in the cloud's format.
    fn dispatch(&self, call: &Call<'_>, caller: &Caller) -> Reply;
    /// The cloud's own answer to an injected throttle or server error.
    fn fault_reply(&self, call: &Call<'_>, kind: FaultKind) -> Reply;
}

/// Every front-end, in the order a request is offered to them: the instance metadata
/// service (by its paths, which no API request uses), Tencent STS (TC3 scope service
/// `sts`, or an unsigned `X-TC-Version: 2018-08-13`), Tencent's TC3 `Authorization` /
/// `X-TC-Action`, Alibaba STS (`Version` 2015-04-01, signed or not), Alibaba's ACS3 header
/// or signed `Version` parameters, then UCloud's `PublicKey` / `Action`, the loosest
/// markers.
const FRONTENDS: [&dyn Frontend; 6] = [
    &metadata::Metadata,
    &tencent::sts::TencentSts,
    &tencent::Tencent,
    &alibaba::sts::AlibabaSts,
    &alibaba::Alibaba,
    &ucloud::UCloud,
];

/// The front-end a request belongs to, and what the request is.
pub(crate) fn route(wire: &WireRequest) -> Option<(&'static dyn Frontend, Surface)> {
    FRONTENDS
        .iter()
        .find_map(|f| f.classify(wire).map(|surface| (*f, surface)))
}

/// Recognises a request by the markers a real one carries, never by path.
pub fn classify(wire: &WireRequest) -> Option<Surface> {
    route(wire).map(|(_, surface)| surface)
}
