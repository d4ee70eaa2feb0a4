//! `Checked<A>`: the one limit checker that stands in front of every adapter.
//!
//! It applies the adapter's [`ShareLimits`](crate::ShareLimits) table and refuses, with
//! [`Error::Limit`], any request the provider would refuse, before any mutating call is
//! sent. Every image id is checked against the provider's
//! [`ImageIdRule`](crate::limits::ImageIdRule) first, and a copy's target region against
//! [`Region::check`](crate::Region::check), so input that can never be right ([`Error::InvalidInput`]) is
//! refused before any call at all. It also dedupes principals, skips those already granted (or not granted, when
//! unsharing) and splits the rest into batches of the provider's per-call maximum.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;

use crate::context::CallContext;
use crate::error::{Error, LimitRule, LimitViolation, Result};
use crate::limits::{EncryptedPolicy, ImageIdUse};
use crate::model::Region;
use crate::model::{
    CopyTarget, Encryption, Image, ImageId, ImageOrigin, ImageState, Principal, ShareOutcome,
    ShareReport, Sharee, Site,
};
use crate::paging::{Page, PageCursor, TryStreamExt};
use crate::sharing::{ImageSharing, Layer};

/// Choices the caller makes that the checker cannot infer.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CheckOptions {
    /// The caller confirms that the prerequisites for sharing encrypted images are in place
    /// (a customer-managed key and the provider's sharing role).
    pub allow_encrypted: bool,
    /// Sites of target accounts known to the caller (account id -> site). Used by the
    /// cross-site rule; accounts not listed are left to the provider to judge.
    pub principal_sites: BTreeMap<String, Site>,
}

impl CheckOptions {
    /// The defaults: encrypted images not acknowledged, no principal sites known.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// The same with the prerequisites for sharing encrypted images confirmed (or not).
    #[must_use]
    pub fn with_allow_encrypted(mut self, allow: bool) -> Self {
        self.allow_encrypted = allow;
        self
    }
    /// The same with the sites of target accounts known to the caller (account id -> site).
    #[must_use]
    pub fn with_principal_sites(mut self, sites: BTreeMap<String, Site>) -> Self {
        self.principal_sites = sites;
        self
    }
}

/// An [`ImageSharing`] adapter behind the limit checker. Itself an `ImageSharing`.
#[derive(Debug, Clone)]
pub struct Checked<A> {
    inner: A,
    options: CheckOptions,
}

impl<A: ImageSharing> Checked<A> {
    /// Wraps `inner` with default options.
    pub fn new(inner: A) -> Self {
        Self::with_options(inner, CheckOptions::default())
    }
    /// Wraps `inner` with `options`.
    pub fn with_options(inner: A, options: CheckOptions) -> Self {
        Self { inner, options }
    }
    /// The wrapped adapter (for provider-specific operations).
    pub fn inner(&self) -> &A {
        &self.inner
    }
    /// The options in force.
    pub fn options(&self) -> &CheckOptions {
        &self.options
    }
    /// Unwraps the adapter.
    pub fn into_inner(self) -> A {
        self.inner
    }

    fn violation(
        &self,
        rule: LimitRule,
        limit: impl Into<String>,
        value: impl Into<String>,
        explanation: impl Into<String>,
    ) -> Error {
        Error::Limit(LimitViolation {
            provider: self.inner.provider(),
            rule,
            limit: limit.into(),
            value: value.into(),
            explanation: explanation.into(),
        })
    }

    /// Checks `id` against the provider's image-id rule for `use_`.
    pub fn check_image_id(&self, id: &ImageId, use_: ImageIdUse) -> Result<()> {
        self.inner.limits().check_image_id(id, use_)
    }

    /// Checks what `copy` is given: a custom image id, a well-formed target region, and,
    /// for a copy to another region, that the provider has a cross-region copy
    /// ([`ImageSharing::copy_limits`]; rule `cross-region-copy`) whose border, if any, the
    /// pair does not cross (rule `copy-border`).
    pub fn check_copy(&self, id: &ImageId, to: &CopyTarget) -> Result<()> {
        self.check_image_id(id, ImageIdUse::Custom)?;
        let region = match to {
            CopyTarget::OwnCopy { .. } => None,
            CopyTarget::Region { region, .. } => Some(region),
            CopyTarget::Project { region, .. } => region.as_ref(),
        };
        let Some(to) = region else {
            return Ok(());
        };
        self.inner.limits().check_region(to, "target region")?;
        let from = self.inner.region();
        if to == from {
            return Ok(());
        }
        match self.inner.copy_limits() {
            Some(copy) => copy.check_pair(self.inner.provider(), from, to),
            None => Err(crate::copy_limits::no_cross_region_copy(
                self.inner.provider(),
                to,
            )),
        }
    }

    /// Checks principal kinds and forms; returns them deduplicated in request order.
    pub fn check_principals(&self, principals: &[Principal]) -> Result<Vec<Principal>> {
        self.inner
            .limits()
            .check_principals_with(principals, self.inner.org_targets())
    }

    /// `pending` in the batches the provider takes: principals of the table's own kind
    /// by `max_principals_per_call`, then organisation targets (directory, folder,
    /// member) by the organisation table's `max_targets_per_call`.
    fn batches(&self, pending: Vec<Principal>) -> Vec<Vec<Principal>> {
        let per_call = self.inner.limits().max_principals_per_call.max(1);
        let per_org_call = self
            .inner
            .org_targets()
            .map_or(per_call, |o| o.max_targets_per_call.max(1));
        let (org, own): (Vec<Principal>, Vec<Principal>) =
            pending.into_iter().partition(|p| p.kind().is_org());
        own.chunks(per_call)
            .chain(org.chunks(per_org_call))
            .map(<[Principal]>::to_vec)
            .collect()
    }

    /// Checks the image-level rules for sharing `image` with `principals`.
    pub fn check_image(&self, image: &Image, principals: &[Principal]) -> Result<()> {
        let limits = self.inner.limits();
        let provider = limits.provider;
        if limits.same_region_only && image.region != *self.inner.region() {
            return Err(self.violation(
                LimitRule::SameRegion,
                format!("same region as the client ({})", self.inner.region()),
                image.region.to_string(),
                format!(
                    "{provider} shares an image only within its own region; copy it to {} first",
                    self.inner.region()
                ),
            ));
        }
        match image.origin {
            ImageOrigin::Public => {
                return Err(self.violation(
                    LimitRule::PublicImage,
                    "custom images only",
                    format!("{} is a public image", image.id),
                    format!("{provider} shares custom images only"),
                ))
            }
            ImageOrigin::Received if !limits.reshare_received => {
                return Err(self.violation(
                    LimitRule::ReceivedImage,
                    "images owned by the caller only",
                    format!("{} was shared with this account by another", image.id),
                    format!(
                        "{provider} does not let a recipient share a received image onward; \
                         make an own copy first (copy with CopyTarget::OwnCopy) and share that"
                    ),
                ))
            }
            ImageOrigin::MarketplaceDerived if !limits.share_marketplace_derived => {
                return Err(self.violation(
                    LimitRule::MarketplaceDerived,
                    "no images derived from marketplace images",
                    format!("{} is derived from a marketplace image", image.id),
                    format!("{provider} refuses to share images built from marketplace images"),
                ))
            }
            _ => {}
        }
        if image.encryption.is_encrypted() {
            match limits.encrypted {
                EncryptedPolicy::Allowed => {}
                EncryptedPolicy::Forbidden => {
                    return Err(self.violation(
                        LimitRule::EncryptedImage,
                        "unencrypted images only",
                        format!("{} is encrypted", image.id),
                        format!("{provider} cannot share encrypted images"),
                    ))
                }
                EncryptedPolicy::CustomerKeyWithAcknowledgement { prerequisite } => {
                    // A service-key image is refused whatever the caller acknowledges: the
                    // acknowledgement cannot make it shareable, so it is never the advice.
                    if image.encryption == Encryption::ServiceKey {
                        return Err(self.violation(
                            LimitRule::EncryptedImage,
                            "no service-key-encrypted images",
                            format!("{} is encrypted with the service key", image.id),
                            format!(
                                "{provider} cannot share images encrypted with the service key, \
                                 even with --allow-encrypted; it shares {prerequisite}: share \
                                 the copy re-encrypted with your customer-managed key instead"
                            ),
                        ));
                    }
                    if !self.options.allow_encrypted {
                        // When the provider does not report the key, the advice covers both.
                        let (value, advice) = if image.encryption == Encryption::Unknown {
                            (
                                format!(
                                    "{} is encrypted ({provider} does not report with which key)",
                                    image.id
                                ),
                                format!(
                                    "{provider} shares an encrypted image only when it is \
                                     {prerequisite}. Encrypted with the service key: it cannot \
                                     be shared, even with --allow-encrypted; share a copy \
                                     re-encrypted with your customer-managed key. Encrypted with \
                                     a customer-managed key: set CheckOptions::allow_encrypted \
                                     (CLI: --allow-encrypted) once the rest is in place"
                                ),
                            )
                        } else {
                            (
                                format!("{} is encrypted", image.id),
                                format!(
                                    "sharing an encrypted image on {provider} needs \
                                     {prerequisite}; set CheckOptions::allow_encrypted (CLI: \
                                     --allow-encrypted) once it is in place"
                                ),
                            )
                        };
                        return Err(self.violation(
                            LimitRule::EncryptedImage,
                            "encrypted images need allow_encrypted",
                            value,
                            advice,
                        ));
                    }
                }
            }
        }
        if !limits.shareable_kinds.contains(&image.kind) {
            let kinds: Vec<String> = limits
                .shareable_kinds
                .iter()
                .map(|k| k.to_string())
                .collect();
            return Err(self.violation(
                LimitRule::ImageKind,
                kinds.join(", "),
                format!("{} is a {} image", image.id, image.kind),
                format!("{provider} does not share {} images", image.kind),
            ));
        }
        if limits.require_available && image.state != ImageState::Available {
            return Err(self.violation(
                LimitRule::ImageState,
                "available",
                format!("{} is {}", image.id, image.state),
                format!("{provider} shares an image only once it is available"),
            ));
        }
        for p in principals {
            if image.owner.as_ref() == Some(p) {
                return Err(self.violation(
                    LimitRule::ShareWithSelf,
                    "principals other than the owner",
                    p.to_string(),
                    format!(
                        "{p} owns {}; an image cannot be shared with its owner",
                        image.id
                    ),
                ));
            }
            if !limits.cross_site {
                if let (Some(owner_site), Some(site)) =
                    (image.owner_site, self.options.principal_sites.get(p.id()))
                {
                    if owner_site != *site {
                        return Err(self.violation(
                            LimitRule::CrossSite,
                            format!("accounts of the {owner_site} site"),
                            format!("{p} is on the {site} site"),
                            format!(
                                "{provider} does not share between China-site and \
                                 international-site accounts"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The principals `id` is shared with now (all pages), read in `cx`.
    async fn current_sharees(&self, cx: &CallContext, id: &ImageId) -> Result<HashSet<Principal>> {
        Ok(self
            .inner
            .sharees_in(cx, id)
            .await?
            .into_iter()
            .map(|s| s.principal)
            .collect())
    }

    /// Runs `op` over `pending` in batches of the per-call maximum, collecting outcomes.
    ///
    /// A batch refused with an error that is not retried (the transport has already
    /// retried what can be: throttling, busy, 5xx) stops the request: the remaining
    /// batches are not sent, and the report lists their principals as not attempted
    /// ([`ShareReport::stop`]). A batch that failed with a retryable error (retries
    /// exhausted) does not stop the others. Every failure is kept in the report.
    ///
    /// Returns the error itself when the request was one call and it failed (principals
    /// already in the wanted state are then not reported, as nothing changed); `Error::Partial` when any batch failed or was not attempted; the
    /// full report otherwise.
    async fn run_batches<F, Fut>(
        &self,
        id: &ImageId,
        ordered: &[Principal],
        mut done: BTreeMap<Principal, ShareOutcome>,
        pending: Vec<Principal>,
        op: F,
    ) -> Result<ShareReport>
    where
        F: Fn(Vec<Principal>) -> Fut,
        Fut: std::future::Future<Output = Result<ShareReport>>,
    {
        let mut calls = 0usize;
        let mut only_error: Option<Arc<Error>> = None;
        let mut any_report = false;
        let mut stopped: Option<(Vec<Principal>, Arc<Error>)> = None;
        let mut request_ids = Vec::new();
        let mut batches = self.batches(pending).into_iter();
        while let Some(batch) = batches.next() {
            let batch = &batch[..];
            calls += 1;
            let result = match op(batch.to_vec()).await {
                Ok(report) => Ok(report),
                // An inner layer's partial report is this batch's report.
                Err(Error::Partial(report)) => Ok(*report),
                Err(e) => Err(e),
            };
            let refusal = match result {
                Ok(report) => {
                    any_report = true;
                    request_ids.extend(report.request_ids().iter().cloned());
                    for (p, o) in report.iter() {
                        done.insert(p.clone(), o.clone());
                    }
                    // A principal the adapter did not report on is a failure, never silence.
                    for p in batch {
                        done.entry(p.clone()).or_insert_with(|| {
                            ShareOutcome::Failed(Arc::new(Error::invalid_input(
                                "report",
                                format!("the adapter reported nothing for {p}"),
                            )))
                        });
                    }
                    report
                        .failures()
                        .map(|(_, e)| e.clone())
                        .find(|e| !e.is_retryable())
                }
                Err(e) => {
                    let e = Arc::new(e);
                    only_error = Some(e.clone());
                    for p in batch {
                        done.insert(p.clone(), ShareOutcome::Failed(e.clone()));
                    }
                    (!e.is_retryable()).then_some(e)
                }
            };
            if let Some(cause) = refusal {
                let rest: Vec<Principal> = batches.by_ref().flatten().collect();
                if !rest.is_empty() {
                    stopped = Some((rest, cause));
                }
                break;
            }
        }
        if calls == 1 && !any_report && stopped.is_none() {
            if let Some(e) = only_error {
                // One call, refused, nothing else to report: the error itself is the answer.
                drop(done);
                return Err(Arc::try_unwrap(e)
                    .unwrap_or_else(|e| Error::invalid_input("batch", e.to_string())));
            }
        }
        let mut report = ShareReport::new(id.clone());
        for request_id in request_ids {
            report.add_request_id(request_id);
        }
        for p in ordered {
            if let Some(o) = done.remove(p) {
                report.push(p.clone(), o);
            }
        }
        if let Some((rest, cause)) = stopped {
            report.stop(rest, cause);
        }
        report.into_result()
    }
}

#[async_trait]
impl<A: ImageSharing> Layer for Checked<A> {
    type Inner = A;
    fn inner(&self) -> &A {
        &self.inner
    }
    async fn image_in(&self, cx: &CallContext, id: &ImageId) -> Result<Image> {
        self.check_image_id(id, ImageIdUse::Lookup)?;
        self.inner.image_in(cx, id).await
    }

    /// Every id is checked first: one malformed id refuses the lookup before any call.
    async fn images_in(&self, cx: &CallContext, ids: &[ImageId]) -> Result<Vec<Result<Image>>> {
        for id in ids {
            self.check_image_id(id, ImageIdUse::Lookup)?;
        }
        self.inner.images_in(cx, ids).await
    }

    async fn share_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        to: &[Principal],
    ) -> Result<ShareReport> {
        self.check_image_id(id, ImageIdUse::Custom)?;
        let principals = self.check_principals(to)?;
        let image = self.inner.image_in(cx, id).await?;
        self.check_image(&image, &principals)?;
        let current = self.current_sharees(cx, id).await?;
        let mut done = BTreeMap::new();
        let mut pending = Vec::new();
        for p in &principals {
            if current.contains(p) {
                done.insert(p.clone(), ShareOutcome::AlreadyGranted);
            } else {
                pending.push(p.clone());
            }
        }
        let limits = self.inner.limits();
        if let Some(max) = limits.max_sharees_per_image {
            // The per-image cap counts the table's own kind (accounts); resource-directory
            // targets are Resource Sharing's, not the image's share list.
            let own = |p: &&Principal| p.kind() == limits.principal_kind;
            let (current_n, pending_n) = (
                current.iter().filter(own).count(),
                pending.iter().filter(own).count(),
            );
            let total = current_n + pending_n;
            if total > max {
                return Err(self.violation(
                    LimitRule::MaxShareesPerImage,
                    max.to_string(),
                    format!("{total} ({current_n} current + {pending_n} new)"),
                    format!(
                        "{} shares one image with at most {max} {}s at a time; unshare some \
                         first, or copy the image and share the copy",
                        limits.provider, limits.principal_kind
                    ),
                ));
            }
        }
        let inner = &self.inner;
        self.run_batches(id, &principals, done, pending, |batch| async move {
            inner.share_in(cx, id, &batch).await
        })
        .await
    }

    async fn unshare_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        from: &[Principal],
    ) -> Result<ShareReport> {
        self.check_image_id(id, ImageIdUse::Custom)?;
        let principals = self.check_principals(from)?;
        let current = self.current_sharees(cx, id).await?;
        let mut done = BTreeMap::new();
        let mut pending = Vec::new();
        for p in &principals {
            if current.contains(p) {
                pending.push(p.clone());
            } else {
                done.insert(p.clone(), ShareOutcome::NotGranted);
            }
        }
        let inner = &self.inner;
        self.run_batches(id, &principals, done, pending, |batch| async move {
            inner.unshare_in(cx, id, &batch).await
        })
        .await
    }

    async fn sharees_page_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Sharee>> {
        self.check_image_id(id, ImageIdUse::Custom)?;
        self.inner.sharees_page_in(cx, id, cursor).await
    }
    async fn sharees_in(&self, cx: &CallContext, id: &ImageId) -> Result<Vec<Sharee>> {
        self.check_image_id(id, ImageIdUse::Custom)?;
        self.inner.sharees_in(cx, id).await
    }
    async fn sharees_of_in(&self, cx: &CallContext, image: &Image) -> Result<Vec<Sharee>> {
        self.check_image_id(&image.id, ImageIdUse::Custom)?;
        self.inner.sharees_of_in(cx, image).await
    }
    async fn copy_in(&self, cx: &CallContext, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
        self.check_copy(id, &to)?;
        self.inner.copy_in(cx, id, to).await
    }
    /// Checks every region as [`copy_in`](ImageSharing::copy_in) would (nothing is sent
    /// when one is refused), then sends them in batches of the provider's
    /// [`max_regions_per_call`](crate::CopyLimits::max_regions_per_call).
    async fn copy_to_regions_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        regions: &[Region],
        name: Option<&str>,
    ) -> Result<Vec<Result<ImageId>>> {
        for region in regions {
            let to = CopyTarget::Region {
                region: region.clone(),
                name: name.map(str::to_owned),
            };
            self.check_copy(id, &to)?;
        }
        let per_call = self
            .inner
            .copy_limits()
            .map_or(1, |l| l.max_regions_per_call.max(1));
        let mut out = Vec::with_capacity(regions.len());
        for batch in regions.chunks(per_call) {
            out.extend(self.inner.copy_to_regions_in(cx, id, batch, name).await?);
        }
        Ok(out)
    }

    async fn delete_in(&self, cx: &CallContext, id: &ImageId) -> Result<()> {
        self.check_image_id(id, ImageIdUse::Custom)?;
        if self.inner.limits().delete_requires_unshare {
            // Streamed: the first five are named, the rest only counted.
            let mut sharees = crate::paging::sharees(&self.inner, cx.clone(), id.clone());
            let mut names: Vec<String> = Vec::new();
            let mut count = 0usize;
            while let Some(sharee) = sharees.try_next().await? {
                if names.len() < 5 {
                    names.push(sharee.principal.to_string());
                }
                count += 1;
            }
            drop(sharees);
            if count > 0 {
                if count > names.len() {
                    names.push(format!("and {} more", count - names.len()));
                }
                return Err(self.violation(
                    LimitRule::DeleteWhileShared,
                    "no sharees",
                    format!("{count} sharees ({})", names.join(", ")),
                    format!(
                        "{} refuses to delete an image that is still shared; unshare it from \
                         everyone first (ImageSharingExt::unshare_all_and_delete, CLI: delete \
                         --unshare-first)",
                        self.inner.provider()
                    ),
                ));
            }
        }
        self.inner.delete_in(cx, id).await
    }
}

crate::impl_image_sharing_for_layer!([A: ImageSharing] Checked<A>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{PrincipalForm, ShareLimits};
    use crate::memory::InMemorySharing;
    use crate::model::{ImageKind, PrincipalKind, Provider};
    use crate::sharing::ImageSharingExt;

    const LIMITS: ShareLimits = ShareLimits {
        provider: Provider::new("ucloud"),
        image_id_prefix: "uimage-",
        example_region: "cn-bj2",
        principal_kind: PrincipalKind::Project,
        principal_form: PrincipalForm::PrefixedId { prefix: "org-" },
        max_sharees_per_image: Some(50),
        max_principals_per_call: 1,
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

    fn invalid(r: Result<impl std::fmt::Debug>, field: &str, says: &str) {
        match r {
            Err(Error::InvalidInput { field: f, message }) => {
                assert_eq!(f, field, "{message}");
                assert!(message.contains(says), "{message}");
            }
            other => panic!("expected InvalidInput for {field}: {other:?}"),
        }
    }

    #[tokio::test]
    async fn malformed_image_ids_and_regions_are_refused_before_any_call() {
        let checked = Checked::new(InMemorySharing::new("cn-bj2", LIMITS));
        let to = [Principal::project("org-d4e5f6")];
        let ecs_id = ImageId::from("m-bp18ygjuqnwhechc");
        let custom = "ucloud custom image ids have the form uimage-";
        invalid(checked.share(&ecs_id, &to).await, "image id", custom);
        invalid(checked.unshare(&ecs_id, &to).await, "image id", custom);
        invalid(checked.sharees(&ecs_id).await, "image id", custom);
        invalid(
            checked.sharees_page(&ecs_id, None).await,
            "image id",
            custom,
        );
        invalid(checked.delete(&ecs_id).await, "image id", custom);
        let own = CopyTarget::OwnCopy { name: None };
        invalid(checked.copy(&ecs_id, own).await, "image id", custom);
        let batch = [
            ImageId::from("uimage-golden01"),
            ImageId::from("uimage-a,b"),
        ];
        invalid(
            checked.images(&batch).await,
            "image id",
            "',' is not allowed",
        );
        let injected = ImageId::from("uimage-a&Action=TerminateCustomImage");
        invalid(
            checked.image(&injected).await,
            "image id",
            "'&' is not allowed",
        );
        invalid(checked.image(&"".into()).await, "image id", "it is empty");
        let good = ImageId::from("uimage-golden01");
        let to_region = CopyTarget::Region {
            region: "cn-bj2&x=1".into(),
            name: None,
        };
        invalid(
            checked.copy(&good, to_region).await,
            "target region",
            "\"cn-bj2&x=1\" is not a region id of ucloud",
        );
        let to_project = CopyTarget::Project {
            project: "org-d4e5f6".into(),
            region: Some("".into()),
            name: None,
        };
        invalid(
            checked.copy(&good, to_project).await,
            "target region",
            "it is empty",
        );
        assert_eq!(checked.inner().calls(), Default::default(), "nothing sent");
    }

    #[tokio::test]
    async fn lookups_accept_ids_without_the_custom_prefix() {
        let checked = Checked::new(InMemorySharing::new("cn-bj2", LIMITS));
        // A well-formed id of no known image passes the rule and reaches the adapter.
        let e = checked.image(&"public_image.v2".into()).await.unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
        assert_eq!(checked.inner().calls().image, 1);
    }
}
