//! The `ImageSharing` trait every adapter implements, [`Layer`], the one forwarding
//! helper of the layers over adapters, and `ImageSharingExt`, the conveniences written
//! once on top of it.
//!
//! Every call of the trait takes an explicit [`CallContext`] (where retries are recorded,
//! what a flow vouched for, which audit layers record the call), passed from the caller
//! down to the transport. [`ImageSharingExt`] has the same calls without one (`share`,
//! `image`, ...), each made in a fresh context: that is what most callers use.
//!
//! Listings are paged: adapters implement one page ([`ImageSharing::sharees_page_in`],
//! [`ImageSharing::shared_with_me_page_in`]) and the [`crate::paging`] loop, written
//! once, streams them ([`ImageSharingExt::sharees_stream`]) or collects them
//! ([`ImageSharingExt::sharees`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::context::CallContext;
use crate::copy_limits::CopyLimits;
use crate::error::{Error, Result};
use crate::limits::{OrgTargetLimits, ShareLimits};
use crate::model::{
    CallerIdentity, CopyTarget, Image, ImageId, ImageState, Principal, Provider, Region,
    ShareReport, Sharee,
};
use crate::paging::{self, BoxStream, Page, PageCursor, TryStreamExt};

/// Share custom images with other accounts or projects on one provider, in one region.
///
/// Adapters implement the calls every cloud has, each in an explicit [`CallContext`];
/// wrap an adapter in [`Checked`](crate::checker::Checked) to get the provider's
/// documented limits enforced before any request is sent. Callers usually go through
/// [`ImageSharingExt`] (`share`, `image`, `sharees`, ...), which makes each call in a
/// fresh context.
///
/// Code written against the trait works with every provider's adapter, behind any layer
/// (the limit checker, an audit trail, a trust policy), and with a test double:
///
/// ```
/// use imageshare_core::{ImageId, ImageSharing, ImageSharingExt, OutcomeKind, Principal, Result};
///
/// /// Shares `image` with `to` and returns how many grants were new; a partial share is
/// /// an error (`Error::Partial`, with the per-principal report).
/// async fn share_golden(
///     sharing: &dyn ImageSharing,
///     image: &ImageId,
///     to: &[Principal],
/// ) -> Result<usize> {
///     // `Error::NotFound` when the image does not exist in the adapter's region.
///     let img = sharing.image(image).await?;
///     tracing::info!(image = %img.id, name = %img.name, "sharing");
///     let report = sharing.share(image, to).await?.into_result()?;
///     Ok(report.count(OutcomeKind::Granted))
/// }
///
/// /// The same with a generic adapter (`Checked<EcsImageSharing>`, `DynSharing`, ...).
/// async fn sharee_count(sharing: &impl ImageSharing, image: &ImageId) -> Result<usize> {
///     Ok(sharing.sharees(image).await?.len())
/// }
/// ```
///
/// The facade's `imageshare::Connect` builds any provider's adapter behind the checker;
/// its documentation runs such code against the emulator.
#[async_trait]
pub trait ImageSharing: Send + Sync + std::fmt::Debug {
    /// Which provider this adapter talks to.
    fn provider(&self) -> Provider;
    /// The region the adapter is bound to.
    fn region(&self) -> &Region;
    /// The documented limits of this provider.
    fn limits(&self) -> &ShareLimits;
    /// The limits of sharing with resource directories, folders and members, for an
    /// adapter that can (Alibaba ECS through Resource Sharing); `None` (the default): the
    /// limit checker refuses those principals with the `principal-kind` rule.
    fn org_targets(&self) -> Option<&OrgTargetLimits> {
        None
    }
    /// Where the adapter's credentials came from (`environment variable ...`, `role ...
    /// assumed with ...`): the identity audit records name. Never a secret; `None` when
    /// the adapter does not say.
    fn credentials_source(&self) -> Option<String> {
        None
    }
    /// Most ids one [`images_in`](Self::images_in) call of the cloud takes (from the
    /// adapter's limit table); 1, the default, when the cloud has no batched lookup and
    /// `images_in` makes one call per image.
    fn images_per_call(&self) -> usize {
        1
    }
    /// True when [`sharees_in`](Self::sharees_in) may make a second read per image (it
    /// looks the image up when the listing cannot tell an unknown image from an unshared
    /// one) that [`sharees_of_in`](Self::sharees_of_in) skips. Only then does
    /// [`crate::plan::plan_all_in`] look the images up in batches first: otherwise the
    /// listing alone answers, and a lookup would be a read more. False by default.
    fn listing_looks_up(&self) -> bool {
        false
    }
    /// The limits of this provider's cross-region copy ([`CopyLimits`]), when its cloud has
    /// one; `None` (the default): the limit checker refuses a copy to another region with
    /// the `cross-region-copy` rule before anything is sent.
    fn copy_limits(&self) -> Option<&CopyLimits> {
        None
    }
    /// The caller's own custom images in this adapter's region named exactly `name`, in
    /// any state (being made, available, failed), all pages: how
    /// [`distribute`](crate::distribute) finds a copy it made before
    /// ([`CopyLimits::copy_identity`]) so that it never copies twice. The default answers
    /// [`Error::Unsupported`]; adapters with a [`copy_limits`](Self::copy_limits) table
    /// implement it with the cloud's own name filter or listing.
    async fn images_named_in(&self, cx: &CallContext, name: &str) -> Result<Vec<Image>> {
        let _ = (cx, name);
        Err(Error::Unsupported {
            provider: self.provider(),
            operation: "find images by name".to_owned(),
            reason: "this adapter cannot list its images by name".to_owned(),
        })
    }
    /// Looks an image up (owner, region, state, origin, encryption, kind).
    async fn image_in(&self, cx: &CallContext, id: &ImageId) -> Result<Image>;
    /// Looks many images up: one result per id of `ids`, in order. An id the cloud does not
    /// know is a per-id [`Error::NotFound`], not a failure of the call; a failed call fails
    /// the whole lookup. The default calls [`image_in`](Self::image_in) once per distinct
    /// id; adapters whose cloud describes many images per call override it with the
    /// cloud's batch (see [`crate::lookup::in_batches`]), in batches of the per-call
    /// maximum of their limit table.
    async fn images_in(&self, cx: &CallContext, ids: &[ImageId]) -> Result<Vec<Result<Image>>> {
        crate::lookup::one_by_one(self, cx, ids).await
    }
    /// Shares `id` with `to`. Adapters send what they are given (at most
    /// `limits().max_principals_per_call`); `Checked` dedupes and batches.
    async fn share_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        to: &[Principal],
    ) -> Result<ShareReport>;
    /// Revokes the grants of `from` on `id`.
    async fn unshare_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        from: &[Principal],
    ) -> Result<ShareReport>;
    /// One page of the principals `id` is shared with, starting at `cursor` (`None`: the
    /// first page), in the cloud's own paging; the page says where the next one starts.
    async fn sharees_page_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Sharee>>;
    /// One page of the images other accounts (or projects) shared with the caller,
    /// starting at `cursor` (`None`: the first page).
    async fn shared_with_me_page_in(
        &self,
        cx: &CallContext,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Image>>;
    /// Every principal `id` is shared with (all pages), collected from the
    /// [`paging`] stream. Adapters implement `sharees_page_in` instead.
    async fn sharees_in(&self, cx: &CallContext, id: &ImageId) -> Result<Vec<Sharee>> {
        paging::sharees(self, cx.clone(), id.clone())
            .try_collect()
            .await
    }
    /// Every principal `image` is shared with (all pages), for an image the caller has just
    /// looked up ([`image_in`](Self::image_in) / [`images_in`](Self::images_in)). The
    /// default is [`sharees_in`](Self::sharees_in); an adapter whose sharee listing cannot
    /// tell an unknown image from an unshared one (and so looks the image up when the
    /// listing is empty) overrides it to skip that second read.
    async fn sharees_of_in(&self, cx: &CallContext, image: &Image) -> Result<Vec<Sharee>> {
        self.sharees_in(cx, &image.id).await
    }
    /// Every image other accounts (or projects) shared with the caller (all pages),
    /// collected from the [`paging`] stream. Adapters implement `shared_with_me_page_in`
    /// instead.
    async fn shared_with_me_in(&self, cx: &CallContext) -> Result<Vec<Image>> {
        paging::shared_with_me(self, cx.clone()).try_collect().await
    }
    /// Copies an image (own copy, other region, other project); returns the new id.
    async fn copy_in(&self, cx: &CallContext, id: &ImageId, to: CopyTarget) -> Result<ImageId>;
    /// Copies `id` into each of `regions` (other regions than the adapter's), each copy
    /// named `name` when given; one result per region, in order. The default makes one
    /// [`copy_in`](Self::copy_in) per region; adapters whose cloud copies into many regions
    /// per call (CVM `SyncImages`, Lighthouse `SyncBlueprint`) override it with one call
    /// (the limit checker splits into batches of [`CopyLimits::max_regions_per_call`]). A
    /// failed call fails every region of it.
    async fn copy_to_regions_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        regions: &[Region],
        name: Option<&str>,
    ) -> Result<Vec<Result<ImageId>>> {
        Ok(copy_each(regions, name, |to| self.copy_in(cx, id, to)).await)
    }
    /// Deletes an image.
    async fn delete_in(&self, cx: &CallContext, id: &ImageId) -> Result<()>;
    /// Who the adapter's credentials act as (the cloud's caller-identity action), and
    /// where they came from. Providers without such an action answer
    /// [`Error::Unsupported`] unless they can tell from their own answers.
    async fn whoami_in(&self, cx: &CallContext) -> Result<CallerIdentity> {
        let _ = cx;
        Err(Error::Unsupported {
            provider: self.provider(),
            operation: "whoami".to_owned(),
            reason: "this adapter has no caller-identity call".to_owned(),
        })
    }
}

/// One copy per region of `regions`, named `name` when given, each made by `copy` in turn:
/// the default of [`ImageSharing::copy_to_regions_in`] and of [`Layer::copy_to_regions_in`].
async fn copy_each<F, Fut>(regions: &[Region], name: Option<&str>, copy: F) -> Vec<Result<ImageId>>
where
    F: Fn(CopyTarget) -> Fut,
    Fut: std::future::Future<Output = Result<ImageId>>,
{
    let mut out = Vec::with_capacity(regions.len());
    for region in regions {
        out.push(
            copy(CopyTarget::Region {
                region: region.clone(),
                name: name.map(str::to_owned),
            })
            .await,
        );
    }
    out
}

/// A layer over another adapter ([`Checked`](crate::Checked), [`Audited`](crate::Audited),
/// [`Trusted`](crate::Trusted), or one of your own): every call it does not override
/// goes to [`inner`](Layer::inner) unchanged, with the same context. Implement `inner`
/// and the calls the layer changes, then make it an adapter with
/// [`impl_image_sharing_for_layer!`](crate::impl_image_sharing_for_layer).
#[async_trait]
pub trait Layer: Send + Sync + std::fmt::Debug {
    /// The adapter under this layer.
    type Inner: ImageSharing + ?Sized;
    /// The adapter under this layer.
    fn inner(&self) -> &Self::Inner;

    /// See [`ImageSharing::provider`].
    fn provider(&self) -> Provider {
        self.inner().provider()
    }
    /// See [`ImageSharing::region`].
    fn region(&self) -> &Region {
        self.inner().region()
    }
    /// See [`ImageSharing::limits`].
    fn limits(&self) -> &ShareLimits {
        self.inner().limits()
    }
    /// See [`ImageSharing::images_per_call`].
    fn images_per_call(&self) -> usize {
        self.inner().images_per_call()
    }
    /// See [`ImageSharing::listing_looks_up`].
    fn listing_looks_up(&self) -> bool {
        self.inner().listing_looks_up()
    }
    /// See [`ImageSharing::org_targets`].
    fn org_targets(&self) -> Option<&OrgTargetLimits> {
        self.inner().org_targets()
    }
    /// See [`ImageSharing::copy_limits`].
    fn copy_limits(&self) -> Option<&CopyLimits> {
        self.inner().copy_limits()
    }
    /// See [`ImageSharing::images_named_in`].
    async fn images_named_in(&self, cx: &CallContext, name: &str) -> Result<Vec<Image>> {
        self.inner().images_named_in(cx, name).await
    }
    /// See [`ImageSharing::image_in`].
    async fn image_in(&self, cx: &CallContext, id: &ImageId) -> Result<Image> {
        self.inner().image_in(cx, id).await
    }
    /// See [`ImageSharing::images_in`].
    async fn images_in(&self, cx: &CallContext, ids: &[ImageId]) -> Result<Vec<Result<Image>>> {
        self.inner().images_in(cx, ids).await
    }
    /// See [`ImageSharing::share_in`].
    async fn share_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        to: &[Principal],
    ) -> Result<ShareReport> {
        self.inner().share_in(cx, id, to).await
    }
    /// See [`ImageSharing::unshare_in`].
    async fn unshare_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        from: &[Principal],
    ) -> Result<ShareReport> {
        self.inner().unshare_in(cx, id, from).await
    }
    /// See [`ImageSharing::sharees_page_in`].
    async fn sharees_page_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Sharee>> {
        self.inner().sharees_page_in(cx, id, cursor).await
    }
    /// See [`ImageSharing::shared_with_me_page_in`].
    async fn shared_with_me_page_in(
        &self,
        cx: &CallContext,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Image>> {
        self.inner().shared_with_me_page_in(cx, cursor).await
    }
    /// See [`ImageSharing::sharees_in`].
    async fn sharees_in(&self, cx: &CallContext, id: &ImageId) -> Result<Vec<Sharee>> {
        self.inner().sharees_in(cx, id).await
    }
    /// See [`ImageSharing::sharees_of_in`].
    async fn sharees_of_in(&self, cx: &CallContext, image: &Image) -> Result<Vec<Sharee>> {
        self.inner().sharees_of_in(cx, image).await
    }
    /// See [`ImageSharing::shared_with_me_in`].
    async fn shared_with_me_in(&self, cx: &CallContext) -> Result<Vec<Image>> {
        self.inner().shared_with_me_in(cx).await
    }
    /// See [`ImageSharing::copy_in`].
    async fn copy_in(&self, cx: &CallContext, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
        self.inner().copy_in(cx, id, to).await
    }
    /// See [`ImageSharing::copy_to_regions_in`]. The default makes one
    /// [`copy_in`](Layer::copy_in) of this layer per region, so a layer that changes
    /// `copy_in` (checks, records, refuses) changes every copy; a layer that does not
    /// change copies overrides this to forward to [`inner`](Layer::inner) in one call.
    async fn copy_to_regions_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        regions: &[Region],
        name: Option<&str>,
    ) -> Result<Vec<Result<ImageId>>> {
        Ok(copy_each(regions, name, |to| Layer::copy_in(self, cx, id, to)).await)
    }
    /// See [`ImageSharing::delete_in`].
    async fn delete_in(&self, cx: &CallContext, id: &ImageId) -> Result<()> {
        self.inner().delete_in(cx, id).await
    }
    /// See [`ImageSharing::whoami_in`].
    async fn whoami_in(&self, cx: &CallContext) -> Result<CallerIdentity> {
        self.inner().whoami_in(cx).await
    }
    /// See [`ImageSharing::credentials_source`].
    fn credentials_source(&self) -> Option<String> {
        self.inner().credentials_source()
    }
}

/// Implements [`ImageSharing`] for a [`Layer`] by routing every call to the layer's own
/// (overridden or forwarding) method: `impl_image_sharing_for_layer!([A] MyLayer<A>)`.
#[macro_export]
macro_rules! impl_image_sharing_for_layer {
    ([$($gen:tt)*] $ty:ty) => {
        #[$crate::__async_trait]
        impl<$($gen)*> $crate::ImageSharing for $ty
        where
            $ty: $crate::Layer,
        {
            fn provider(&self) -> $crate::Provider {
                $crate::Layer::provider(self)
            }
            fn region(&self) -> &$crate::Region {
                $crate::Layer::region(self)
            }
            fn limits(&self) -> &$crate::ShareLimits {
                $crate::Layer::limits(self)
            }
            fn org_targets(&self) -> Option<&$crate::OrgTargetLimits> {
                $crate::Layer::org_targets(self)
            }
            fn copy_limits(&self) -> Option<&$crate::CopyLimits> {
                $crate::Layer::copy_limits(self)
            }
            async fn images_named_in(
                &self,
                cx: &$crate::CallContext,
                name: &str,
            ) -> $crate::Result<Vec<$crate::Image>> {
                $crate::Layer::images_named_in(self, cx, name).await
            }
            fn credentials_source(&self) -> Option<String> {
                $crate::Layer::credentials_source(self)
            }
            fn images_per_call(&self) -> usize {
                $crate::Layer::images_per_call(self)
            }
            fn listing_looks_up(&self) -> bool {
                $crate::Layer::listing_looks_up(self)
            }
            async fn image_in(
                &self,
                cx: &$crate::CallContext,
                id: &$crate::ImageId,
            ) -> $crate::Result<$crate::Image> {
                $crate::Layer::image_in(self, cx, id).await
            }
            async fn images_in(
                &self,
                cx: &$crate::CallContext,
                ids: &[$crate::ImageId],
            ) -> $crate::Result<Vec<$crate::Result<$crate::Image>>> {
                $crate::Layer::images_in(self, cx, ids).await
            }
            async fn share_in(
                &self,
                cx: &$crate::CallContext,
                id: &$crate::ImageId,
                to: &[$crate::Principal],
            ) -> $crate::Result<$crate::ShareReport> {
                $crate::Layer::share_in(self, cx, id, to).await
            }
            async fn unshare_in(
                &self,
                cx: &$crate::CallContext,
                id: &$crate::ImageId,
                from: &[$crate::Principal],
            ) -> $crate::Result<$crate::ShareReport> {
                $crate::Layer::unshare_in(self, cx, id, from).await
            }
            async fn sharees_page_in(
                &self,
                cx: &$crate::CallContext,
                id: &$crate::ImageId,
                cursor: Option<$crate::PageCursor>,
            ) -> $crate::Result<$crate::Page<$crate::Sharee>> {
                $crate::Layer::sharees_page_in(self, cx, id, cursor).await
            }
            async fn shared_with_me_page_in(
                &self,
                cx: &$crate::CallContext,
                cursor: Option<$crate::PageCursor>,
            ) -> $crate::Result<$crate::Page<$crate::Image>> {
                $crate::Layer::shared_with_me_page_in(self, cx, cursor).await
            }
            async fn sharees_in(
                &self,
                cx: &$crate::CallContext,
                id: &$crate::ImageId,
            ) -> $crate::Result<Vec<$crate::Sharee>> {
                $crate::Layer::sharees_in(self, cx, id).await
            }
            async fn sharees_of_in(
                &self,
                cx: &$crate::CallContext,
                image: &$crate::Image,
            ) -> $crate::Result<Vec<$crate::Sharee>> {
                $crate::Layer::sharees_of_in(self, cx, image).await
            }
            async fn shared_with_me_in(
                &self,
                cx: &$crate::CallContext,
            ) -> $crate::Result<Vec<$crate::Image>> {
                $crate::Layer::shared_with_me_in(self, cx).await
            }
            async fn copy_in(
                &self,
                cx: &$crate::CallContext,
                id: &$crate::ImageId,
                to: $crate::CopyTarget,
            ) -> $crate::Result<$crate::ImageId> {
                $crate::Layer::copy_in(self, cx, id, to).await
            }
            async fn copy_to_regions_in(
                &self,
                cx: &$crate::CallContext,
                id: &$crate::ImageId,
                regions: &[$crate::Region],
                name: Option<&str>,
            ) -> $crate::Result<Vec<$crate::Result<$crate::ImageId>>> {
                $crate::Layer::copy_to_regions_in(self, cx, id, regions, name).await
            }
            async fn delete_in(
                &self,
                cx: &$crate::CallContext,
                id: &$crate::ImageId,
            ) -> $crate::Result<()> {
                $crate::Layer::delete_in(self, cx, id).await
            }
            async fn whoami_in(
                &self,
                cx: &$crate::CallContext,
            ) -> $crate::Result<$crate::CallerIdentity> {
                $crate::Layer::whoami_in(self, cx).await
            }
        }
    };
}

/// `Arc<T>`, `Box<T>` and `&T` of an adapter are layers that change nothing.
macro_rules! pointer_layer {
    ([$($lt:lifetime)?] $ty:ty) => {
        #[async_trait]
        impl<$($lt,)? T: ImageSharing + ?Sized> Layer for $ty {
            type Inner = T;
            fn inner(&self) -> &T {
                self
            }
            async fn copy_to_regions_in(
                &self,
                cx: &CallContext,
                id: &ImageId,
                regions: &[Region],
                name: Option<&str>,
            ) -> Result<Vec<Result<ImageId>>> {
                self.inner()
                    .copy_to_regions_in(cx, id, regions, name)
                    .await
            }
        }
        impl_image_sharing_for_layer!([$($lt,)? T: ImageSharing + ?Sized] $ty);
    };
}

pointer_layer!([] Arc<T>);
pointer_layer!([] Box<T>);
pointer_layer!(['a] &'a T);

/// Conveniences built once on [`ImageSharing`], for every adapter: the trait's calls
/// without a context (each made in a fresh [`CallContext`]), streams, and flows.
///
/// ```
/// use std::sync::Arc;
/// use imageshare_core::paging::{BoxStream, TryStreamExt};
/// use imageshare_core::{ImageId, ImageSharing, ImageSharingExt, Principal, Result, Sharee};
///
/// // A stream that owns what it needs ('static): return it from a function, a handler,
/// // a spawned task.
/// fn sharees_of(sharing: &Arc<dyn ImageSharing>, image: &ImageId) -> BoxStream<'static, Result<Sharee>> {
///     sharing.sharees_stream(image)
/// }
///
/// /// Revokes every grant of `image` except `keep`'s, reading the sharees page by page.
/// async fn revoke_all_but(
///     sharing: Arc<dyn ImageSharing>,
///     image: ImageId,
///     keep: Principal,
/// ) -> Result<usize> {
///     let mut stream = sharees_of(&sharing, &image);
///     let mut revoke = Vec::new();
///     while let Some(sharee) = stream.try_next().await? {
///         if sharee.principal != keep {
///             revoke.push(sharee.principal);
///         }
///     }
///     if revoke.is_empty() {
///         return Ok(0);
///     }
///     // A context-free call: `unshare` is `unshare_in` in a fresh `CallContext`.
///     let report = sharing.unshare(&image, &revoke).await?.into_result()?;
///     Ok(report.len())
/// }
/// ```
#[async_trait]
pub trait ImageSharingExt: ImageSharing {
    /// Looks an image up ([`ImageSharing::image_in`]).
    async fn image(&self, id: &ImageId) -> Result<Image> {
        self.image_in(&CallContext::new(), id).await
    }
    /// Looks many images up, one result per id ([`ImageSharing::images_in`]).
    async fn images(&self, ids: &[ImageId]) -> Result<Vec<Result<Image>>> {
        self.images_in(&CallContext::new(), ids).await
    }
    /// Shares `id` with `to` ([`ImageSharing::share_in`]).
    async fn share(&self, id: &ImageId, to: &[Principal]) -> Result<ShareReport> {
        self.share_in(&CallContext::new(), id, to).await
    }
    /// Revokes the grants of `from` on `id` ([`ImageSharing::unshare_in`]).
    async fn unshare(&self, id: &ImageId, from: &[Principal]) -> Result<ShareReport> {
        self.unshare_in(&CallContext::new(), id, from).await
    }
    /// One page of the sharees of `id` ([`ImageSharing::sharees_page_in`]).
    async fn sharees_page(&self, id: &ImageId, cursor: Option<PageCursor>) -> Result<Page<Sharee>> {
        self.sharees_page_in(&CallContext::new(), id, cursor).await
    }
    /// One page of the images shared with the caller
    /// ([`ImageSharing::shared_with_me_page_in`]).
    async fn shared_with_me_page(&self, cursor: Option<PageCursor>) -> Result<Page<Image>> {
        self.shared_with_me_page_in(&CallContext::new(), cursor)
            .await
    }
    /// Every principal `id` is shared with (all pages).
    async fn sharees(&self, id: &ImageId) -> Result<Vec<Sharee>> {
        self.sharees_in(&CallContext::new(), id).await
    }
    /// Every image other accounts (or projects) shared with the caller (all pages).
    async fn shared_with_me(&self) -> Result<Vec<Image>> {
        self.shared_with_me_in(&CallContext::new()).await
    }
    /// Copies an image ([`ImageSharing::copy_in`]); returns the new id.
    async fn copy(&self, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
        self.copy_in(&CallContext::new(), id, to).await
    }
    /// Who the credentials act as ([`ImageSharing::whoami_in`]).
    async fn whoami(&self) -> Result<CallerIdentity> {
        self.whoami_in(&CallContext::new()).await
    }
    /// Deletes an image ([`ImageSharing::delete_in`]).
    async fn delete(&self, id: &ImageId) -> Result<()> {
        self.delete_in(&CallContext::new(), id).await
    }

    /// Every principal `id` is shared with, as a lazy stream: the next page is fetched only
    /// once the consumer has taken every item of the current one, so memory stays flat
    /// whatever the number of sharees. An error ends the stream; see [`paging::paginate`]
    /// for the guards (non-advancing cursor, page cap).
    ///
    /// The stream is `'static`: it owns a clone of the adapter (an `Arc` increment for
    /// every built-in adapter and for [`DynSharing`](crate::Checked)) and of `id`, as
    /// `object_store`'s listings do, so it can be returned from a function, an axum
    /// handler or a spawned task. To stream from an adapter that is not `Clone`, or
    /// borrowed, call [`paging::sharees`] with a reference.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use imageshare_core::paging::{BoxStream, TryStreamExt};
    /// use imageshare_core::{ImageId, ImageSharing, ImageSharingExt, Result, Sharee};
    ///
    /// // Nothing borrowed: the client may be dropped before the stream is read.
    /// fn sharees_of(client: &Arc<dyn ImageSharing>, id: &str) -> BoxStream<'static, Result<Sharee>> {
    ///     client.sharees_stream(&ImageId::from(id))
    /// }
    /// # let _ = sharees_of;
    /// ```
    fn sharees_stream(&self, id: &ImageId) -> BoxStream<'static, Result<Sharee>>
    where
        Self: Clone + Sized + 'static,
    {
        paging::sharees(self.clone(), CallContext::new(), id.clone())
    }

    /// [`sharees_stream`](Self::sharees_stream) in `cx`.
    fn sharees_stream_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
    ) -> BoxStream<'static, Result<Sharee>>
    where
        Self: Clone + Sized + 'static,
    {
        paging::sharees(self.clone(), cx.clone(), id.clone())
    }

    /// Every image shared with the caller, as a lazy stream (each image once); `'static`
    /// as [`sharees_stream`](Self::sharees_stream) is.
    fn shared_with_me_stream(&self) -> BoxStream<'static, Result<Image>>
    where
        Self: Clone + Sized + 'static,
    {
        paging::shared_with_me(self.clone(), CallContext::new())
    }

    /// [`shared_with_me_stream`](Self::shared_with_me_stream) in `cx`.
    fn shared_with_me_stream_in(&self, cx: &CallContext) -> BoxStream<'static, Result<Image>>
    where
        Self: Clone + Sized + 'static,
    {
        paging::shared_with_me(self.clone(), cx.clone())
    }

    /// Revokes every grant of `id` (all pages), then deletes it. The report says what was
    /// revoked; if the unshare fails partially the image is not deleted.
    async fn unshare_all_and_delete(&self, id: &ImageId) -> Result<ShareReport> {
        let cx = CallContext::new();
        let principals: Vec<Principal> = self
            .sharees_in(&cx, id)
            .await?
            .into_iter()
            .map(|s| s.principal)
            .collect();
        let report = if principals.is_empty() {
            ShareReport::new(id.clone())
        } else {
            self.unshare_in(&cx, id, &principals).await?.into_result()?
        };
        self.delete_in(&cx, id).await?;
        Ok(report)
    }

    /// Polls `image(id)` every `poll` until it is available, failed, or `timeout` passes.
    async fn wait_until_available(
        &self,
        id: &ImageId,
        timeout: Duration,
        poll: Duration,
    ) -> Result<Image> {
        let cx = CallContext::new();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let image = self.image_in(&cx, id).await?;
            match image.state {
                ImageState::Available => return Ok(image),
                ImageState::Failed | ImageState::Unavailable => {
                    return Err(Error::invalid_input(
                        "image",
                        format!("{} is {}, it will not become available", id, image.state),
                    ))
                }
                _ => {}
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    provider: self.provider(),
                    operation: "wait_until_available".to_owned(),
                    message: format!("image {id} still {} after {:?}", image.state, timeout),
                });
            }
            tokio::time::sleep(poll.min(deadline - now)).await;
        }
    }
}

impl<T: ImageSharing + ?Sized> ImageSharingExt for T {}
