//! The trust policy of a consumer: from which owners images shared with the caller are
//! accepted by `shared_with_me`, `copy` and the migration flows.
//!
//! - [`TrustPolicy`] holds an allow-list of owner accounts (UCloud: projects) per provider.
//!   A provider without a list accepts any owner (the default: no policy). A provider with
//!   a list accepts the caller's own images (custom and marketplace-derived), images
//!   received from a listed owner, and public or marketplace images only when
//!   [`allow_public`](TrustPolicy::allow_public) is set. A received image whose owner the
//!   provider does not report cannot be vouched for and is refused.
//! - [`Trusted`] is the layer that applies it to an [`ImageSharing`] adapter:
//!   - `shared_with_me` **lists the accepted images only**: the refused ones are left out
//!     (a `tracing` warning gives their number, ids and owners). Refusing the whole
//!     listing would let anyone who shares an image with the caller break it; callers
//!     that want to show what was left out call [`TrustPolicy::partition`] on an
//!     unfiltered listing.
//!   - `copy` looks the image up first and refuses an untrusted one with
//!     [`Error::Untrusted`], which names the image, its owner and how to allow it, before
//!     any mutating call is sent.
//!   - everything else is passed through (sharing a received image onward is the limit
//!     checker's to refuse).
//!
//! `imageshare::Connect::trust` puts the layer in front of every adapter it builds, and
//! the migration flows check the image they consume against the same policy.
//!
//! ```
//! use imageshare_core::trust::TrustPolicy;
//! use imageshare_core::{
//!     Encryption, Error, Image, ImageKind, ImageOrigin, ImageState, Principal, Provider,
//! };
//!
//! let policy = TrustPolicy::new().allow(Provider::new("tencent-cvm"), "100000000002");
//! let received = |owner: &str| {
//!     Image::new("img-shared", "ap-guangzhou")
//!         .with_name("base")
//!         .with_owner(Some(Principal::account(owner)))
//!         .with_state(ImageState::Available)
//!         .with_origin(ImageOrigin::Received)
//!         .with_encryption(Encryption::NotReported)
//!         .with_kind(ImageKind::SystemDisk)
//! };
//! assert!(policy.check(Provider::new("tencent-cvm"), &received("100000000002"), "copy").is_ok());
//! let err = policy.check(Provider::new("tencent-cvm"), &received("100000000666"), "copy").unwrap_err();
//! assert!(matches!(err, Error::Untrusted { .. }));
//! assert!(err.to_string().contains("100000000666"), "{err}");
//! // No list for Lighthouse: any owner is accepted there.
//! assert!(policy.check(Provider::new("tencent-lighthouse"), &received("100000000666"), "copy").is_ok());
//! ```

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;

use crate::context::CallContext;
use crate::error::{Error, Result};
use crate::model::Region;
use crate::model::{CopyTarget, Image, ImageId, ImageOrigin, Principal, Provider};
use crate::paging::{Page, PageCursor};
use crate::sharing::{ImageSharing, Layer};

/// Which owners' images a consumer accepts, per provider. The default accepts any owner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustPolicy {
    owners: BTreeMap<Provider, BTreeSet<String>>,
    /// Owners allowed on every provider; `Some` restricts every provider.
    everywhere: Option<BTreeSet<String>>,
    public: bool,
}

/// The images of a listing split by a [`TrustPolicy`].
#[derive(Debug, Default)]
pub struct TrustSplit {
    /// Images the policy accepts.
    pub accepted: Vec<Image>,
    /// Images it refuses, each with the error that says why and how to allow it.
    pub refused: Vec<(Image, Error)>,
}

impl TrustPolicy {
    /// A policy that accepts any owner on every provider.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Accepts images owned by `owner` (an account id; UCloud: a project id) on
    /// `provider`, which from then on accepts only listed owners.
    #[must_use]
    pub fn allow(mut self, provider: Provider, owner: impl Into<String>) -> Self {
        self.owners
            .entry(provider)
            .or_default()
            .insert(owner.into());
        self
    }
    /// Accepts images owned by `owner` on every provider, all of which from then on accept
    /// only listed owners.
    #[must_use]
    pub fn allow_everywhere(mut self, owner: impl Into<String>) -> Self {
        self.everywhere
            .get_or_insert_with(BTreeSet::new)
            .insert(owner.into());
        self
    }
    /// Accepts only the caller's own images on `provider` (until owners are allowed).
    #[must_use]
    pub fn restrict(mut self, provider: Provider) -> Self {
        self.owners.entry(provider).or_default();
        self
    }
    /// On restricted providers, also accept public and marketplace images (default: no;
    /// their publisher is not an owner the allow-list can name).
    #[must_use]
    pub fn allow_public(mut self, yes: bool) -> Self {
        self.public = yes;
        self
    }
    /// True when `provider` accepts only listed owners.
    #[must_use]
    pub fn restricts(&self, provider: Provider) -> bool {
        self.everywhere.is_some() || self.owners.contains_key(&provider)
    }
    /// True when no provider is restricted.
    #[must_use]
    pub fn is_unrestricted(&self) -> bool {
        self.owners.is_empty() && self.everywhere.is_none()
    }
    /// The owners allowed on `provider` (its own and those allowed everywhere), sorted;
    /// `None` when it accepts any owner.
    #[must_use]
    pub fn allowed(&self, provider: Provider) -> Option<impl Iterator<Item = &str>> {
        if !self.restricts(provider) {
            return None;
        }
        let all: BTreeSet<&str> = self
            .owners
            .get(&provider)
            .into_iter()
            .chain(self.everywhere.as_ref())
            .flat_map(|s| s.iter().map(String::as_str))
            .collect();
        Some(all.into_iter())
    }

    /// Accepts `image`, found on `provider`, for `operation` (`copy`, `migrate ...`), or
    /// says why not with [`Error::Untrusted`].
    pub fn check(&self, provider: Provider, image: &Image, operation: &str) -> Result<()> {
        let Some(owners) = self.allowed(provider) else {
            return Ok(());
        };
        let owners: Vec<&str> = owners.collect();
        let listed = if owners.is_empty() {
            "it lists no owner, only the caller's own images are accepted".to_owned()
        } else {
            format!("allowed: {}", owners.join(", "))
        };
        let refuse = |owner: Option<&Principal>, reason: String, how: String| Error::Untrusted {
            provider,
            operation: operation.to_owned(),
            image: image.id.to_string(),
            owner: owner.map(|o| o.id().to_owned()),
            reason: format!("{reason}; to accept it, {how}"),
        };
        match image.origin {
            ImageOrigin::Custom | ImageOrigin::MarketplaceDerived => Ok(()),
            ImageOrigin::Public if self.public => Ok(()),
            ImageOrigin::Public => Err(refuse(
                None,
                format!(
                    "it is a public or marketplace image and the trust policy for {provider} \
                     accepts listed owners only ({listed})"
                ),
                "allow public images in the trust policy (TrustPolicy::allow_public(true))"
                    .to_owned(),
            )),
            ImageOrigin::Received => match &image.owner {
                Some(owner) if owners.contains(&owner.id()) => Ok(()),
                Some(owner) => Err(refuse(
                    Some(owner),
                    format!(
                        "it is owned by {} {}, which is not in the trust policy for \
                         {provider} ({listed})",
                        owner.kind(),
                        owner.id()
                    ),
                    format!(
                        "add the owner to the trust policy if you trust it \
                         (TrustPolicy::allow for {provider}, \"{id}\"; CLI: --trust-owner \
                         {provider}:{id})",
                        id = owner.id()
                    ),
                )),
                None => Err(refuse(
                    None,
                    format!(
                        "{provider} does not report who owns it, so the trust policy \
                         ({listed}) cannot vouch for it"
                    ),
                    format!(
                        "check where it comes from by other means, then use it without a \
                         trust policy for {provider}"
                    ),
                )),
            },
        }
    }

    /// Splits a listing of `provider` into the images the policy accepts and those it
    /// refuses.
    #[must_use]
    pub fn partition(&self, provider: Provider, images: Vec<Image>) -> TrustSplit {
        let mut split = TrustSplit::default();
        for image in images {
            match self.check(provider, &image, "use") {
                Ok(()) => split.accepted.push(image),
                Err(e) => split.refused.push((image, e)),
            }
        }
        split
    }
}

/// An [`ImageSharing`] adapter behind a [`TrustPolicy`]: `shared_with_me` lists accepted
/// images only, and `copy` refuses an untrusted image before sending anything.
#[derive(Debug, Clone)]
pub struct Trusted<A> {
    inner: A,
    policy: TrustPolicy,
}

impl<A: ImageSharing> Trusted<A> {
    /// Wraps `inner` with `policy`.
    pub fn new(inner: A, policy: TrustPolicy) -> Self {
        Self { inner, policy }
    }
    /// The wrapped adapter.
    pub fn inner(&self) -> &A {
        &self.inner
    }
    /// The policy in force.
    pub fn policy(&self) -> &TrustPolicy {
        &self.policy
    }
    /// Unwraps the adapter.
    pub fn into_inner(self) -> A {
        self.inner
    }
    /// Every image shared with the caller, split by the policy (nothing left out).
    pub async fn shared_with_me_split(&self) -> Result<TrustSplit> {
        self.shared_with_me_split_in(&CallContext::new()).await
    }

    /// [`shared_with_me_split`](Self::shared_with_me_split) in `cx`.
    pub async fn shared_with_me_split_in(&self, cx: &CallContext) -> Result<TrustSplit> {
        let all = self.inner.shared_with_me_in(cx).await?;
        Ok(self.policy.partition(self.inner.provider(), all))
    }

    /// The accepted images of `split`, with a warning naming those left out.
    fn accepted(&self, split: TrustSplit) -> Vec<Image> {
        if !split.refused.is_empty() {
            let left_out: Vec<String> = split
                .refused
                .iter()
                .map(|(i, _)| match &i.owner {
                    Some(o) => format!("{} (owner {})", i.id, o.id()),
                    None => format!("{} (owner not reported)", i.id),
                })
                .collect();
            tracing::warn!(
                provider = %self.inner.provider(),
                count = split.refused.len(),
                images = %left_out.join(", "),
                "images shared by owners outside the trust policy were left out"
            );
        }
        split.accepted
    }

    /// Refuses to copy `id` when the policy restricts its provider and the image (looked
    /// up, unless the call context already vouches for it) is not trusted.
    async fn check_copy_source(&self, cx: &CallContext, id: &ImageId) -> Result<()> {
        let provider = self.inner.provider();
        if self.policy.restricts(provider) && !cx.is_vouched(provider, id) {
            let image = self.inner.image_in(cx, id).await?;
            self.policy.check(provider, &image, "copy")?;
        }
        Ok(())
    }
}

#[async_trait]
impl<A: ImageSharing> Layer for Trusted<A> {
    type Inner = A;
    fn inner(&self) -> &A {
        &self.inner
    }
    async fn shared_with_me_page_in(
        &self,
        cx: &CallContext,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Image>> {
        let page = self.inner.shared_with_me_page_in(cx, cursor).await?;
        let split = self.policy.partition(self.inner.provider(), page.items);
        Ok(Page::new(self.accepted(split), page.next))
    }
    async fn shared_with_me_in(&self, cx: &CallContext) -> Result<Vec<Image>> {
        let split = self.shared_with_me_split_in(cx).await?;
        Ok(self.accepted(split))
    }
    async fn copy_in(&self, cx: &CallContext, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
        self.check_copy_source(cx, id).await?;
        self.inner.copy_in(cx, id, to).await
    }
    /// Checks the source once, as [`copy_in`](ImageSharing::copy_in) does, then copies into
    /// every region in the inner adapter's calls.
    async fn copy_to_regions_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        regions: &[Region],
        name: Option<&str>,
    ) -> Result<Vec<Result<ImageId>>> {
        self.check_copy_source(cx, id).await?;
        self.inner.copy_to_regions_in(cx, id, regions, name).await
    }
}

crate::impl_image_sharing_for_layer!([A: ImageSharing] Trusted<A>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Encryption, ImageKind, ImageState};

    fn image(origin: ImageOrigin, owner: Option<&str>) -> Image {
        Image {
            id: "img-1".into(),
            name: "n".into(),
            owner: owner.map(Principal::account),
            owner_site: None,
            region: "ap-guangzhou".into(),
            state: ImageState::Available,
            origin,
            encryption: Encryption::NotReported,
            kind: ImageKind::SystemDisk,
            created_at: None,
            progress: None,
        }
    }

    #[test]
    fn a_restricted_provider_accepts_own_and_listed_images_only() {
        let p = TrustPolicy::new().allow(Provider::new("tencent-cvm"), "2");
        let cvm = Provider::new("tencent-cvm");
        assert!(p
            .check(cvm, &image(ImageOrigin::Custom, Some("1")), "copy")
            .is_ok());
        assert!(p
            .check(
                cvm,
                &image(ImageOrigin::MarketplaceDerived, Some("1")),
                "copy"
            )
            .is_ok());
        assert!(p
            .check(cvm, &image(ImageOrigin::Received, Some("2")), "copy")
            .is_ok());
        for refused in [
            image(ImageOrigin::Received, Some("3")),
            image(ImageOrigin::Received, None),
            image(ImageOrigin::Public, None),
        ] {
            let e = p.check(cvm, &refused, "copy").unwrap_err();
            let Error::Untrusted { image, reason, .. } = &e else {
                panic!("{e}")
            };
            assert_eq!(image, "img-1");
            assert!(reason.contains("to accept it, "), "{e}");
        }
        let with_public = p.clone().allow_public(true);
        assert!(with_public
            .check(cvm, &image(ImageOrigin::Public, None), "copy")
            .is_ok());
    }

    #[test]
    fn restrict_and_allow_everywhere_set_every_list() {
        let p = TrustPolicy::new().restrict(Provider::new("ucloud"));
        assert!(p.restricts(Provider::new("ucloud")) && !p.restricts(Provider::new("alibaba-ecs")));
        assert_eq!(p.allowed(Provider::new("ucloud")).unwrap().count(), 0);
        assert!(p.allowed(Provider::new("alibaba-ecs")).is_none());
        let p = TrustPolicy::new()
            .allow_everywhere("9")
            .allow(Provider::new("ucloud"), "org-1");
        // Every provider, even one no crate declared yet, is restricted to the lists.
        for name in ["alibaba-ecs", "tencent-cvm", "ucloud", "some-new-cloud"] {
            assert!(p.restricts(Provider::new(name)), "{name}");
            assert!(!p.is_unrestricted());
        }
        let uc: Vec<&str> = p.allowed(Provider::new("ucloud")).unwrap().collect();
        assert_eq!(uc, ["9", "org-1"]);
        let ecs: Vec<&str> = p.allowed(Provider::new("alibaba-ecs")).unwrap().collect();
        assert_eq!(ecs, ["9"]);
        assert!(TrustPolicy::new().is_unrestricted());
    }

    #[test]
    fn partition_keeps_every_image_on_one_side() {
        let p = TrustPolicy::new().allow(Provider::new("tencent-cvm"), "2");
        let split = p.partition(
            Provider::new("tencent-cvm"),
            vec![
                image(ImageOrigin::Received, Some("2")),
                image(ImageOrigin::Received, Some("3")),
            ],
        );
        assert_eq!((split.accepted.len(), split.refused.len()), (1, 1));
        assert!(split.refused[0]
            .1
            .to_string()
            .contains("owned by account 3"));
    }
}
