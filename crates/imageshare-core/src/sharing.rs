//! The `ImageSharing` trait every adapter implements, and `ImageSharingExt`, the
//! conveniences written once on top of it.
//!
//! Listings are paged: adapters implement one page ([`ImageSharing::sharees_page`],
//! [`ImageSharing::shared_with_me_page`]) and the [`crate::paging`] loop, written
//! once, streams them ([`ImageSharingExt::sharees_stream`]) or collects them
//! ([`ImageSharing::sharees`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::limits::ShareLimits;
use crate::model::{
    CopyTarget, Image, ImageId, ImageState, Principal, Provider, Region, ShareReport, Sharee,
};
use crate::paging::{self, BoxStream, Page, PageCursor, TryStreamExt};

/// Share custom images with other accounts or projects on one provider, in one region.
///
/// Adapters implement the calls every cloud has; wrap an adapter in
/// [`Checked`](crate::checker::Checked) to get the provider's documented limits enforced
/// before any request is sent.
#[async_trait]
pub trait ImageSharing: Send + Sync + std::fmt::Debug {
    /// Which provider this adapter talks to.
    fn provider(&self) -> Provider;
    /// The region the adapter is bound to.
    fn region(&self) -> &Region;
    /// The documented limits of this provider.
    fn limits(&self) -> &ShareLimits;
    /// Looks an image up (owner, region, state, origin, encryption, kind).
    async fn image(&self, id: &ImageId) -> Result<Image>;
    /// Shares `id` with `to`. Adapters send what they are given (at most
    /// `limits().max_principals_per_call`); `Checked` dedupes and batches.
    async fn share(&self, id: &ImageId, to: &[Principal]) -> Result<ShareReport>;
    /// Revokes the grants of `from` on `id`.
    async fn unshare(&self, id: &ImageId, from: &[Principal]) -> Result<ShareReport>;
    /// One page of the principals `id` is shared with, starting at `cursor` (`None`: the
    /// first page), in the cloud's own paging; the page says where the next one starts.
    async fn sharees_page(&self, id: &ImageId, cursor: Option<PageCursor>) -> Result<Page<Sharee>>;
    /// One page of the images other accounts (or projects) shared with the caller,
    /// starting at `cursor` (`None`: the first page).
    async fn shared_with_me_page(&self, cursor: Option<PageCursor>) -> Result<Page<Image>>;
    /// Every principal `id` is shared with (all pages), collected from
    /// [`ImageSharingExt::sharees_stream`]. Adapters implement `sharees_page` instead.
    async fn sharees(&self, id: &ImageId) -> Result<Vec<Sharee>> {
        paging::sharees(self, id).try_collect().await
    }
    /// Every image other accounts (or projects) shared with the caller (all pages),
    /// collected from [`ImageSharingExt::shared_with_me_stream`]. Adapters implement
    /// `shared_with_me_page` instead.
    async fn shared_with_me(&self) -> Result<Vec<Image>> {
        paging::shared_with_me(self).try_collect().await
    }
    /// Copies an image (own copy, other region, other project); returns the new id.
    async fn copy(&self, id: &ImageId, to: CopyTarget) -> Result<ImageId>;
    /// Deletes an image.
    async fn delete(&self, id: &ImageId) -> Result<()>;
}

macro_rules! forward_image_sharing {
    ([$($lt:lifetime)?] $ty:ty) => {
        #[async_trait]
        impl<$($lt,)? T: ImageSharing + ?Sized> ImageSharing for $ty {
            fn provider(&self) -> Provider {
                (**self).provider()
            }
            fn region(&self) -> &Region {
                (**self).region()
            }
            fn limits(&self) -> &ShareLimits {
                (**self).limits()
            }
            async fn image(&self, id: &ImageId) -> Result<Image> {
                (**self).image(id).await
            }
            async fn share(&self, id: &ImageId, to: &[Principal]) -> Result<ShareReport> {
                (**self).share(id, to).await
            }
            async fn unshare(&self, id: &ImageId, from: &[Principal]) -> Result<ShareReport> {
                (**self).unshare(id, from).await
            }
            async fn sharees_page(
                &self,
                id: &ImageId,
                cursor: Option<PageCursor>,
            ) -> Result<Page<Sharee>> {
                (**self).sharees_page(id, cursor).await
            }
            async fn shared_with_me_page(&self, cursor: Option<PageCursor>) -> Result<Page<Image>> {
                (**self).shared_with_me_page(cursor).await
            }
            async fn sharees(&self, id: &ImageId) -> Result<Vec<Sharee>> {
                (**self).sharees(id).await
            }
            async fn shared_with_me(&self) -> Result<Vec<Image>> {
                (**self).shared_with_me().await
            }
            async fn copy(&self, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
                (**self).copy(id, to).await
            }
            async fn delete(&self, id: &ImageId) -> Result<()> {
                (**self).delete(id).await
            }
        }
    };
}

forward_image_sharing!([] Arc<T>);
forward_image_sharing!([] Box<T>);
forward_image_sharing!(['a] &'a T);

/// Conveniences built once on [`ImageSharing`], for every adapter.
#[async_trait]
pub trait ImageSharingExt: ImageSharing {
    /// Every principal `id` is shared with, as a lazy stream: the next page is fetched only
    /// once the consumer has taken every item of the current one, so memory stays flat
    /// whatever the number of sharees. An error ends the stream; see [`paging::paginate`]
    /// for the guards (non-advancing cursor, page cap).
    fn sharees_stream<'a>(&'a self, id: &'a ImageId) -> BoxStream<'a, Result<Sharee>> {
        paging::sharees(self, id)
    }

    /// Every image shared with the caller, as a lazy stream (each image once).
    fn shared_with_me_stream(&self) -> BoxStream<'_, Result<Image>> {
        paging::shared_with_me(self)
    }

    /// Revokes every grant of `id` (all pages), then deletes it. The report says what was
    /// revoked; if the unshare fails partially the image is not deleted.
    async fn unshare_all_and_delete(&self, id: &ImageId) -> Result<ShareReport> {
        let principals: Vec<Principal> = self
            .sharees(id)
            .await?
            .into_iter()
            .map(|s| s.principal)
            .collect();
        let report = if principals.is_empty() {
            ShareReport::new(id.clone())
        } else {
            self.unshare(id, &principals).await?.into_result()?
        };
        self.delete(id).await?;
        Ok(report)
    }

    /// Polls `image(id)` every `poll` until it is available, failed, or `timeout` passes.
    async fn wait_until_available(
        &self,
        id: &ImageId,
        timeout: Duration,
        poll: Duration,
    ) -> Result<Image> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let image = self.image(id).await?;
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
