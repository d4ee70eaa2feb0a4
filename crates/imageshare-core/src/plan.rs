//! Reconciling an image's sharees with a desired set: `plan` computes the difference
//! (add / remove / unchanged) against the live sharees; `apply` makes it so through any
//! [`ImageSharing`] (normally a [`Checked`](crate::Checked) adapter, so every limit applies
//! and batching happens there). Applying a plan twice changes nothing the second time.
//!
//! [`plan_all_in`] plans many images on one adapter at the read quota: where the cloud
//! describes many images per call ([`ImageSharing::images_per_call`] > 1) it looks them all
//! up in batches first and then lists each one's sharees without looking it up again
//! ([`ImageSharing::sharees_of_in`]); the listings run [`PLAN_CONCURRENCY`] at a time, so
//! the rate limiter, not this bound, paces them.
//!
//! | cloud | reads per image, one by one ([`plan_in`]) | reads per image, [`plan_all_in`] |
//! |---|---|---|
//! | ECS | 1 (`DescribeImageSharePermission`) | 1 + 1/100 (`DescribeImages`, 100 ids per call) |
//! | CVM | 1 (`DescribeImageSharePermission`) | 1 + 1/100 (`DescribeImages`, 100 ids per call) |
//! | Lighthouse | 2 for an unshared blueprint (`DescribeBlueprintsShareAcrossAccountInfos`, then `DescribeBlueprints` to tell "unknown" from "unshared"), else 1 | 1 + 1/100 (`DescribeBlueprints`, 100 ids per call) |
//! | SAS, UCloud (no batched lookup) | 1 | 1 (the one-by-one path) |

use std::collections::BTreeSet;

use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use crate::context::CallContext;
use crate::error::{Error, Result};
use crate::model::{Image, ImageId, Principal, ShareReport};
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
    // An organisation principal needs organisation sharing, without which the sharees
    // would not show it and the plan would be wrong: refused before any read, with the
    // limit checker's own rule and words.
    if adapter.org_targets().is_none() {
        if let Some(p) = desired.iter().find(|p| p.kind().is_org()) {
            adapter
                .limits()
                .check_principals_with(std::slice::from_ref(p), None)?;
        }
    }
    let current = adapter
        .sharees_in(cx, image)
        .await?
        .into_iter()
        .map(|s| s.principal);
    Ok(diff(image.clone(), current, desired, prune))
}

/// Sharee listings [`plan_all_in`] keeps in flight. Each listing waits for its permit from
/// the rate limiter, so at a read quota of Q calls/s and a round trip of L seconds about
/// Q x L listings are in flight: 64 covers 640 reads/s at 100 ms, above every read quota
/// of the provider tables, so the quota and not this bound is the limit.
pub const PLAN_CONCURRENCY: usize = 64;

/// One image of [`plan_all_in`]: the image, the principals wanted, whether to prune.
#[derive(Debug, Clone, Copy)]
pub struct PlanRequest<'a> {
    /// The image.
    pub image: &'a ImageId,
    /// The principals it should be shared with.
    pub desired: &'a [Principal],
    /// Whether grants not in `desired` are removed.
    pub prune: bool,
}

/// Plans many images on one adapter; one result per request, in order. Where the
/// adapter's sharee listing would also look each image up
/// ([`ImageSharing::listing_looks_up`]) and the cloud describes many images per call, they
/// are looked up in batches first ([`ImageSharing::images_in`]) and each found image's
/// sharees are then listed without a second lookup ([`ImageSharing::sharees_of_in`]);
/// elsewhere the listing alone is one read per image, and a lookup would add reads. an image the lookup did not find is
/// planned the one-by-one way ([`plan_in`]), so its error is the cloud's own. Listings run
/// [`PLAN_CONCURRENCY`] at a time. `planned` is called once per image when its result is
/// known (for progress). A failed batch lookup fails the whole call.
pub async fn plan_all_in<A: ImageSharing + ?Sized>(
    adapter: &A,
    cx: &CallContext,
    requests: &[PlanRequest<'_>],
    planned: &(dyn Fn() + Send + Sync),
) -> Result<Vec<Result<SharePlan>>> {
    let looked_up: Vec<Option<Image>> =
        if adapter.images_per_call() > 1 && adapter.listing_looks_up() {
            let ids: Vec<ImageId> = requests.iter().map(|r| r.image.clone()).collect();
            adapter
                .images_in(cx, &ids)
                .await?
                .into_iter()
                .map(Result::ok)
                .collect()
        } else {
            vec![None; requests.len()]
        };
    let plans = stream::iter(requests.iter().zip(looked_up))
        .map(|(r, image)| async move {
            let plan = match image {
                Some(image) => adapter.sharees_of_in(cx, &image).await.map(|current| {
                    diff(
                        r.image.clone(),
                        current.into_iter().map(|s| s.principal),
                        r.desired,
                        r.prune,
                    )
                }),
                None => plan_in(adapter, cx, r.image, r.desired, r.prune).await,
            };
            planned();
            plan
        })
        .buffered(PLAN_CONCURRENCY)
        .collect()
        .await;
    Ok(plans)
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
    let org = adapter.org_targets().is_some();
    if let Some((i, p)) = desired
        .iter()
        .enumerate()
        .find(|(_, p)| p.kind() != want && !(org && p.kind().is_org()))
    {
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
    use crate::limits::{EncryptedPolicy, PrincipalForm, ShareLimits};
    use crate::memory::InMemorySharing;
    use crate::model::{Encryption, ImageKind, ImageOrigin, ImageState, PrincipalKind, Provider};
    use crate::sharing::Layer;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const LIMITS: ShareLimits = ShareLimits {
        provider: Provider::new("example-cloud"),
        image_id_prefix: "img-",
        example_region: "r1",
        principal_kind: PrincipalKind::Account,
        principal_form: PrincipalForm::NumericAccountId {
            min_len: 12,
            max_len: 12,
            sub_user_markers: &[],
            sub_user_name: "a sub-user",
        },
        max_sharees_per_image: None,
        max_principals_per_call: 10,
        same_region_only: true,
        reshare_received: false,
        share_marketplace_derived: true,
        encrypted: EncryptedPolicy::Allowed,
        cross_site: true,
        shareable_kinds: &[ImageKind::SystemDisk],
        require_available: true,
        delete_requires_unshare: false,
        source: "test",
    };

    /// The in-memory backend with a batched lookup of 3 ids per call, counting the calls,
    /// whose listing looks images up (`.2`) or not.
    #[derive(Debug)]
    struct Batched<'a>(&'a InMemorySharing, AtomicUsize, bool);

    #[async_trait::async_trait]
    impl Layer for Batched<'_> {
        type Inner = InMemorySharing;
        fn inner(&self) -> &InMemorySharing {
            self.0
        }
        fn images_per_call(&self) -> usize {
            3
        }
        fn listing_looks_up(&self) -> bool {
            self.2
        }
        async fn images_in(&self, cx: &CallContext, ids: &[ImageId]) -> Result<Vec<Result<Image>>> {
            crate::lookup::in_batches(self.0.provider(), ids, 3, |batch| async move {
                self.1.fetch_add(1, Ordering::SeqCst);
                let mut found = Vec::new();
                for id in &batch {
                    if let Ok(image) = self.0.image_in(cx, id).await {
                        found.push(image);
                    }
                }
                Ok(found)
            })
            .await
        }
    }
    crate::impl_image_sharing_for_layer!(['a] Batched<'a>);

    fn image(id: &str) -> Image {
        Image {
            id: id.into(),
            name: String::new(),
            owner: None,
            owner_site: None,
            region: "r1".into(),
            state: ImageState::Available,
            origin: ImageOrigin::Custom,
            encryption: Encryption::None,
            kind: ImageKind::SystemDisk,
            created_at: None,
            progress: None,
        }
    }

    #[tokio::test]
    async fn plan_all_looks_images_up_in_batches_and_lists_each_once() {
        let mem = InMemorySharing::new("r1", LIMITS);
        let ids: Vec<ImageId> = (0..7).map(|i| ImageId::from(format!("img-{i}"))).collect();
        for id in &ids[..6] {
            mem.add_image(image(id.as_str()));
        }
        mem.seed_grants(&ids[0], [a(1), a(2)]);
        let want = [a(2), a(3)];
        let requests: Vec<PlanRequest<'_>> = ids
            .iter()
            .map(|image| PlanRequest {
                image,
                desired: &want,
                prune: true,
            })
            .collect();
        let batched = Batched(&mem, AtomicUsize::new(0), true);
        let planned = AtomicUsize::new(0);
        let count = || {
            planned.fetch_add(1, Ordering::SeqCst);
        };
        let plans = plan_all_in(&batched, &CallContext::new(), &requests, &count)
            .await
            .unwrap();
        assert_eq!(plans.len(), 7);
        assert_eq!(planned.load(Ordering::SeqCst), 7);
        let first = plans[0].as_ref().unwrap();
        assert_eq!(
            (first.add.clone(), first.remove.clone()),
            (vec![a(3)], vec![a(1)])
        );
        assert_eq!(plans[5].as_ref().unwrap().add, want.to_vec());
        // The unknown image is planned one by one: the backend's own error.
        assert!(
            matches!(plans[6], Err(Error::NotFound { .. })),
            "{:?}",
            plans[6]
        );
        // 7 ids in batches of 3: 3 lookups; one listing per image (the unknown one's too).
        assert_eq!(batched.1.load(Ordering::SeqCst), 3);
        assert_eq!(mem.calls().sharees, 7);

        // A batched lookup, but a listing that does not look images up: no lookup, one
        // listing per image.
        let listing_only = Batched(&mem, AtomicUsize::new(0), false);
        let plans = plan_all_in(&listing_only, &CallContext::new(), &requests, &|| {})
            .await
            .unwrap();
        assert_eq!(plans.iter().filter(|p| p.is_ok()).count(), 6);
        assert_eq!(listing_only.1.load(Ordering::SeqCst), 0);
        assert_eq!(mem.calls().sharees, 14);

        // Without a batched lookup: no lookup at all, one listing per image.
        let plain = InMemorySharing::new("r1", LIMITS);
        for id in &ids[..6] {
            plain.add_image(image(id.as_str()));
        }
        let plans = plan_all_in(&plain, &CallContext::new(), &requests, &|| {})
            .await
            .unwrap();
        assert_eq!(plans.iter().filter(|p| p.is_ok()).count(), 6);
        assert_eq!((plain.calls().image, plain.calls().sharees), (0, 7));
    }

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
