//! Reconciling an image's sharees with a desired set: `plan` computes the difference
//! (add / remove / unchanged) against the live sharees; `apply` makes it so through any
//! [`ImageSharing`] (normally a [`Checked`](crate::Checked) adapter, so every limit applies
//! and batching happens there). Applying a plan twice changes nothing the second time.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::context::CallContext;
use crate::error::{Error, Result};
use crate::model::{ImageId, Principal, ShareReport};
use crate::sharing::ImageSharing;

/// What must change for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharePlan {
    /// The image.
    pub image: ImageId,
    /// Principals to share with (desired, not yet granted), in desired order.
    pub add: Vec<Principal>,
    /// Principals to unshare (granted, not desired), only when pruning.
    pub remove: Vec<Principal>,
    /// Principals already granted and desired.
    pub unchanged: Vec<Principal>,
    /// Granted but not desired, kept because pruning is off.
    pub kept: Vec<Principal>,
}

impl SharePlan {
    /// True when applying would change nothing.
    #[must_use]
    pub fn is_noop(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// The difference between `current` grants and the `desired` principals. With `prune`,
/// grants not in `desired` are removed; without it they are kept (and listed as kept).
/// Duplicates in `desired` count once.
pub fn diff(
    image: ImageId,
    current: impl IntoIterator<Item = Principal>,
    desired: &[Principal],
    prune: bool,
) -> SharePlan {
    let current: BTreeSet<Principal> = current.into_iter().collect();
    let mut seen = BTreeSet::new();
    let mut add = Vec::new();
    let mut unchanged = Vec::new();
    for p in desired {
        if !seen.insert(p.clone()) {
            continue;
        }
        if current.contains(p) {
            unchanged.push(p.clone());
        } else {
            add.push(p.clone());
        }
    }
    let extra: Vec<Principal> = current.into_iter().filter(|p| !seen.contains(p)).collect();
    let (remove, kept) = if prune {
        (extra, Vec::new())
    } else {
        (Vec::new(), extra)
    };
    SharePlan {
        image,
        add,
        remove,
        unchanged,
        kept,
    }
}

/// Plans one image against its live sharees (all pages).
pub async fn plan<A: ImageSharing + ?Sized>(
    adapter: &A,
    image: &ImageId,
    desired: &[Principal],
    prune: bool,
) -> Result<SharePlan> {
    plan_in(adapter, &CallContext::new(), image, desired, prune).await
}

/// [`plan`], reading the sharees in `cx`.
pub async fn plan_in<A: ImageSharing + ?Sized>(
    adapter: &A,
    cx: &CallContext,
    image: &ImageId,
    desired: &[Principal],
    prune: bool,
) -> Result<SharePlan> {
    let current = adapter
        .sharees_in(cx, image)
        .await?
        .into_iter()
        .map(|s| s.principal);
    Ok(diff(image.clone(), current, desired, prune))
}

/// What applying one plan did.
#[derive(Debug, Clone)]
pub struct ApplyReport {
    /// Outcomes of the share call(s), if any principal was added.
    pub shared: Option<ShareReport>,
    /// Outcomes of the unshare call(s), if any principal was removed.
    pub unshared: Option<ShareReport>,
}

impl ApplyReport {
    /// Whether any principal failed.
    pub fn has_failures(&self) -> bool {
        self.shared.as_ref().is_some_and(ShareReport::has_failures)
            || self
                .unshared
                .as_ref()
                .is_some_and(ShareReport::has_failures)
    }
}

/// Applies a plan: unshares first (so the per-image maximum has room), then shares.
/// A partial failure comes back as `Error::Partial` from the step that failed; what the
/// other step did is kept in the report of a later `plan`.
pub async fn apply<A: ImageSharing + ?Sized>(adapter: &A, plan: &SharePlan) -> Result<ApplyReport> {
    apply_in(adapter, &CallContext::new(), plan).await
}

/// [`apply`], making the calls in `cx`.
pub async fn apply_in<A: ImageSharing + ?Sized>(
    adapter: &A,
    cx: &CallContext,
    plan: &SharePlan,
) -> Result<ApplyReport> {
    let unshared = if plan.remove.is_empty() {
        None
    } else {
        Some(
            adapter
                .unshare_in(cx, &plan.image, &plan.remove)
                .await?
                .into_result()?,
        )
    };
    let shared = if plan.add.is_empty() {
        None
    } else {
        Some(
            adapter
                .share_in(cx, &plan.image, &plan.add)
                .await?
                .into_result()?,
        )
    };
    Ok(ApplyReport { shared, unshared })
}

/// Refuses a desired list that mixes principal kinds the adapter cannot take (early, with
/// the index of the first offender, so manifests can point at it).
pub fn check_kinds(adapter: &dyn ImageSharing, desired: &[Principal]) -> Result<()> {
    let want = adapter.limits().principal_kind;
    if let Some((i, p)) = desired.iter().enumerate().find(|(_, p)| p.kind() != want) {
        return Err(Error::invalid_input(
            format!("principals[{i}]"),
            format!("{} takes {want} principals, got {p}", adapter.provider()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: u32) -> Principal {
        Principal::account(format!("10000000{n:04}"))
    }

    #[test]
    fn diff_adds_removes_and_keeps() {
        let p = diff(
            "m-1".into(),
            [a(1), a(2), a(3)],
            &[a(2), a(4), a(4), a(5)],
            true,
        );
        assert_eq!(p.add, vec![a(4), a(5)]);
        assert_eq!(p.remove, vec![a(1), a(3)]);
        assert_eq!(p.unchanged, vec![a(2)]);
        assert!(p.kept.is_empty());
        let p = diff("m-1".into(), [a(1), a(2)], &[a(2)], false);
        assert!(p.remove.is_empty());
        assert_eq!(p.kept, vec![a(1)]);
        assert!(p.is_noop());
    }
}
