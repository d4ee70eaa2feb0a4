//! The grant rules of a cloud that its limit table (core's `ShareLimits`) does not carry:
//! whether a share naming an account that already has a grant, or a cancel naming one
//! without, is refused; whether a deprecated image refuses grant changes; whether the
//! table's per-call maximum is the cloud's own (enforced) or only the client's default.
//! The engine applies them in `share` and `unshare` for every front-end (issue #13: each
//! rule in one place); front-ends map the [`GrantRefusal`] to their cloud's code.
//!
//! Sources (tencent.md §3; the front-end's module docs list the codes):
//! - CVM `ModifyImageSharePermission`
//!   (<https://cloud.tencent.com/document/api/213/15710>): `FailedOperation.AccountAlreadyExists`
//!   for an account already shared with; a deprecated image (`ImageDeprecated`) refuses the
//!   operation (`InvalidParameterValue.InvalidImageId`). Tencent publishes no per-call
//!   maximum, so none is enforced.
//! - Lighthouse `ShareBlueprintAcrossAccounts` / `CancelShareBlueprintAcrossAccounts`
//!   (<https://cloud.tencent.com/document/api/1207/70716>, .../70717): at most 10
//!   `AccountIds` per call; `UnsupportedOperation.BlueprintAlreadyShared` and
//!   `UnsupportedOperation.BlueprintHasNotShared`.
//! - Alibaba ECS and SAS, UCloud: an already granted account is reported as such and a
//!   cancel of an absent grant succeeds, so none of these refusals applies.

use imageshare_core::{Provider, ShareLimits};

use super::EngineError;
use crate::world::State;

/// A grant change a cloud refuses although its limit table allows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantRefusal {
    /// A share names an account that already has a grant (the first such, in request order).
    #[error("image {image} is already shared with {principal}")]
    AlreadyGranted {
        /// The image.
        image: String,
        /// The account.
        principal: String,
    },
    /// A cancel names an account without a grant (the first such, in request order).
    #[error("image {image} is not shared with {principal}")]
    NotGranted {
        /// The image.
        image: String,
        /// The account.
        principal: String,
    },
    /// The image is deprecated (state unavailable): no grant changes.
    #[error("image {0} is deprecated")]
    Deprecated(String),
    /// More principals in one call than the cloud accepts.
    #[error("{got} principals in one call; at most {max}")]
    TooManyPrincipals {
        /// The cloud's maximum per call.
        max: usize,
        /// How many the call named.
        got: usize,
    },
}

/// Which of the refusals a provider makes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GrantRules {
    /// A share naming an already granted account is refused.
    pub refuse_already_granted: bool,
    /// A cancel naming an account without a grant is refused.
    pub refuse_not_granted: bool,
    /// Grant changes on a deprecated (unavailable) image are refused.
    pub refuse_deprecated: bool,
    /// The limit table's `max_principals_per_call` is the cloud's own limit.
    pub enforce_per_call: bool,
}

/// The grant rules of `provider` (see the module docs for the sources).
#[must_use]
pub fn grant_rules(provider: Provider) -> GrantRules {
    if provider == imageshare_tencent::CVM {
        GrantRules {
            refuse_already_granted: true,
            refuse_deprecated: true,
            ..GrantRules::default()
        }
    } else if provider == imageshare_tencent::LIGHTHOUSE {
        GrantRules {
            refuse_already_granted: true,
            refuse_not_granted: true,
            enforce_per_call: true,
            ..GrantRules::default()
        }
    } else {
        GrantRules::default()
    }
}

impl GrantRules {
    /// Refuses a call naming more principals than the cloud accepts.
    pub fn check_call_size(self, limits: &ShareLimits, got: usize) -> Result<(), EngineError> {
        let max = limits.max_principals_per_call;
        if self.enforce_per_call && got > max {
            return Err(GrantRefusal::TooManyPrincipals { max, got }.into());
        }
        Ok(())
    }

    /// Refuses a grant change on a deprecated image.
    pub(super) fn check_state(self, id: &str, state: State) -> Result<(), EngineError> {
        if self.refuse_deprecated && state == State::Unavailable {
            return Err(GrantRefusal::Deprecated(id.to_owned()).into());
        }
        Ok(())
    }
}

impl From<GrantRefusal> for EngineError {
    fn from(r: GrantRefusal) -> Self {
        EngineError::Grant(r)
    }
}
