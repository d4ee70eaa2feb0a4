//! `SasImageSharing`: Simple Application Server (SWAS-OPEN, API 2020-06-01) custom-image
//! sharing (alibaba.md 3).
//!
//! | call (trait calls `*_in`, in the caller's `CallContext`) | SWAS-OPEN action |
//! |---|---|
//! | `image` | `ListCustomImages` with `ImageIds` (own images first, then `Share=true`) |
//! | `share` / `unshare` | `AddCustomImageShareAccount` / `RemoveCustomImageShareAccount` (`Account.N`) |
//! | `sharees_page` | `ListCustomImageShareAccounts`, `PageNumber` / `PageSize` 50 / `TotalCount` |
//! | `shared_with_me_page` | `ListCustomImages` with `Share=true`, `PageNumber` / `PageSize` 100 |
//! | `copy` | not offered by the API: `Error::Unsupported` |
//! | `delete` | `DeleteCustomImage` (refused by the service while shared: `CustomImageInShare`) |
//! | [`SasImageSharing::share_to_ecs`] / [`SasImageSharing::unshare_from_ecs`] | `ModifyImageShareStatus` `Operation=Share` / `UnShare` |
//!
//! The SAS -> ECS move: `share_to_ecs` makes the custom image visible to ECS in the same
//! region and account, under the same image id; ECS lists it with the shared images
//! (`ImageOwnerAlias=others`). To share it onward to other accounts from ECS, make an own
//! ECS copy (`EcsImageSharing::copy` with `CopyTarget::OwnCopy`) and share the copy; the
//! core limit checker says the same if one tries to share the received image directly.

use std::sync::Arc;

use async_trait::async_trait;
use imageshare_core::paging::{paginate, BoxStream, Listing, TryStreamExt};
use imageshare_core::{
    CallContext, CallerIdentity, CopyTarget, Encryption, Error, Image, ImageId, ImageKind,
    ImageOrigin, ImageSharing, ImageState, Page, PageCursor, Principal, Provider, Region, Result,
    ShareLimits, ShareOutcome, ShareReport, Sharee, Timestamp,
};

use crate::client::{account_list_call, CallSpec, OpenApiClient, Product, SAS_VERSION};
use crate::limits::{sas_rate_limits, SAS_LIMITS};
use crate::model::{
    Empty, ListCustomImageShareAccountsResponse, ListCustomImagesResponse, SasCustomImage,
};
use crate::{AlibabaBuilder, SAS};

/// Most accounts one `AddCustomImageShareAccount` / `RemoveCustomImageShareAccount` call
/// carries. The per-call maximum is unpublished (alibaba.md 3.1); no call can usefully
/// carry more than the per-image cap of 10.
pub const MAX_ACCOUNTS_PER_CALL: usize = 10;

/// Page size for `ListCustomImages` (its maximum, alibaba.md 3.5).
pub const IMAGES_PAGE_SIZE: u64 = 100;
/// Page size for `ListCustomImageShareAccounts` (its maximum, alibaba.md 3.3).
pub const SHAREES_PAGE_SIZE: u64 = 50;

/// The default SAS endpoint of a region: `https://swas.<region>.aliyuncs.com`
/// (alibaba.md 3.9).
#[must_use]
pub fn default_endpoint(region: &str) -> String {
    format!("https://swas.{region}.aliyuncs.com")
}

/// The SAS product: what its client is built with.
const PRODUCT: Product = Product {
    limits: &SAS_LIMITS,
    version: SAS_VERSION,
    default_endpoint,
    rate_limits: sas_rate_limits,
};

/// Builds a [`SasImageSharing`]: [`ClientBuilder`](imageshare_core::ClientBuilder)'s shared settings and the Alibaba ones
/// (credentials, signature version).
///
/// ```
/// use imageshare_alibaba::{AlibabaCredentials, SasAction, SasImageSharing};
/// use imageshare_core::{ClientBuilder, ImageSharing, Rate, StaticEnv};
///
/// let sas = SasImageSharing::builder()
///     .region("cn-hangzhou")
///     .credentials(AlibabaCredentials::new("LTAI5tExampleKeyId", "example-secret"))
///     // Share-to-ECS at 10 per minute, where that quota applies (see `SAS_DEFAULT_RATE`).
///     .rate_limit(SasAction::ModifyImageShareStatus, Rate::per_minute(10.0))
///     .env(StaticEnv::new())
///     .build()?;
/// assert_eq!(sas.provider(), imageshare_alibaba::SAS);
/// # Ok::<(), imageshare_core::Error>(())
/// ```
pub type SasBuilder = AlibabaBuilder<SasImageSharing>;

impl AlibabaBuilder<SasImageSharing> {
    /// Validates the settings and builds the adapter. Without explicit credentials the
    /// credential chain runs on the builder's environment (environment variables, then
    /// `~/.aliyun/config.json`, profile `.profile(..)` if set); without a region, the
    /// region variables, then the profile's region (see [`crate::credential`]).
    pub fn build(self) -> Result<SasImageSharing> {
        Ok(SasImageSharing {
            client: Arc::new(OpenApiClient::new(&self.config, self.settings, &PRODUCT)?),
        })
    }
}

/// The Simple Application Server image-sharing adapter. Wrap it in
/// `imageshare_core::Checked` to have the documented limits ([`SAS_LIMITS`]) enforced.
///
/// A clone is cheap (reference counts, no allocation) and shares the connection pool,
/// credentials cache and rate limiter: clone it into each spawned task.
#[derive(Debug, Clone)]
pub struct SasImageSharing {
    client: Arc<OpenApiClient>,
}

impl SasImageSharing {
    /// A builder with nothing set.
    #[must_use]
    pub fn builder() -> SasBuilder {
        SasBuilder::default()
    }

    /// The same as [`builder`](Self::builder): whatever is not set is read from the
    /// environment at `build()` (credential chain and region variables, as
    /// [`crate::EcsImageSharing::from_env`]). Never fails; it returns a `Result` so that
    /// callers written for the former eager version keep compiling.
    pub fn from_env() -> Result<SasBuilder> {
        Ok(Self::builder())
    }

    /// The underlying OpenAPI client.
    #[must_use]
    pub fn client(&self) -> &OpenApiClient {
        &self.client
    }

    fn base(&self) -> Vec<(String, String)> {
        vec![("RegionId".to_owned(), self.client.region().to_string())]
    }

    /// One page of `ListCustomImages`. `image_ids` becomes the JSON-array `ImageIds`;
    /// `share` is the `Share` filter (`Some(false)`: own images only, `Some(true)`: images
    /// shared with the caller).
    pub async fn list_custom_images_page(
        &self,
        image_ids: &[&str],
        share: Option<bool>,
        page_number: u64,
        page_size: u64,
    ) -> Result<ListCustomImagesResponse> {
        self.list_custom_images_page_in(
            &CallContext::new(),
            image_ids,
            share,
            page_number,
            page_size,
        )
        .await
    }

    /// [`list_custom_images_page`](Self::list_custom_images_page) in `cx`.
    async fn list_custom_images_page_in(
        &self,
        cx: &CallContext,
        image_ids: &[&str],
        share: Option<bool>,
        page_number: u64,
        page_size: u64,
    ) -> Result<ListCustomImagesResponse> {
        let mut p = self.base();
        if !image_ids.is_empty() {
            let ids = serde_json::to_string(image_ids).unwrap_or_default();
            p.push(("ImageIds".to_owned(), ids));
        }
        if let Some(s) = share {
            p.push(("Share".to_owned(), s.to_string()));
        }
        p.push(("PageNumber".to_owned(), page_number.to_string()));
        p.push(("PageSize".to_owned(), page_size.to_string()));
        self.client
            .call(
                cx,
                "ListCustomImages",
                p,
                CallSpec {
                    idempotent: true,
                    image: None,
                },
            )
            .await
    }

    /// One page of `ListCustomImages` with this `Share` filter at `cursor` (`None`: the
    /// first), of [`IMAGES_PAGE_SIZE`] images, with the cursor of the next page, in `cx`.
    async fn list_custom_images_at(
        &self,
        cx: &CallContext,
        share: Option<bool>,
        cursor: Option<PageCursor>,
    ) -> Result<Page<SasCustomImage>> {
        let page = PageCursor::page_number(cursor.as_ref())?;
        let resp = self
            .list_custom_images_page_in(cx, &[], share, page, IMAGES_PAGE_SIZE)
            .await?;
        let got = resp.custom_images.len();
        let next = PageCursor::after_number(page, IMAGES_PAGE_SIZE, resp.total_count, got);
        Ok(Page::new(resp.custom_images, next))
    }

    /// Every image of `ListCustomImages` with this `Share` filter, as a lazy stream over
    /// the pages (each fetched in one fresh `CallContext`).
    #[must_use]
    pub fn list_custom_images_stream(
        &self,
        share: Option<bool>,
    ) -> BoxStream<'_, Result<SasCustomImage>> {
        let cx = CallContext::new();
        paginate(Listing::new(SAS, "ListCustomImages"), move |cursor| {
            let cx = cx.clone();
            async move { self.list_custom_images_at(&cx, share, cursor).await }
        })
    }

    /// Every image of `ListCustomImages` with this `Share` filter, all pages.
    pub async fn list_custom_images(&self, share: Option<bool>) -> Result<Vec<SasCustomImage>> {
        self.list_custom_images_stream(share).try_collect().await
    }

    async fn image_status_call(
        &self,
        cx: &CallContext,
        id: &ImageId,
        operation: &str,
    ) -> Result<()> {
        let mut p = self.base();
        p.push(("ImageId".to_owned(), id.to_string()));
        p.push(("Operation".to_owned(), operation.to_owned()));
        let _: Empty = self
            .client
            .call(
                cx,
                "ModifyImageShareStatus",
                p,
                CallSpec {
                    idempotent: true,
                    image: Some(id.as_str()),
                },
            )
            .await?;
        Ok(())
    }

    /// Shares the custom image with ECS in the same account and region
    /// (`ModifyImageShareStatus`, `Operation=Share`): the SAS -> ECS move. Returns the id
    /// under which ECS lists the image (the same id; the action returns no other). ECS
    /// lists it with the shared images; to share it onward, copy it in ECS first.
    pub async fn share_to_ecs(&self, id: &ImageId) -> Result<ImageId> {
        self.share_to_ecs_in(&CallContext::new(), id).await
    }

    /// [`share_to_ecs`](Self::share_to_ecs) in `cx` (for flows that collect retries or
    /// run under audit layers).
    pub async fn share_to_ecs_in(&self, cx: &CallContext, id: &ImageId) -> Result<ImageId> {
        self.image_status_call(cx, id, "Share").await?;
        Ok(id.clone())
    }

    /// Withdraws the image from ECS (`ModifyImageShareStatus`, `Operation=UnShare`).
    /// ECS instances created from it can no longer re-initialise their disks.
    pub async fn unshare_from_ecs(&self, id: &ImageId) -> Result<()> {
        self.unshare_from_ecs_in(&CallContext::new(), id).await
    }

    /// [`unshare_from_ecs`](Self::unshare_from_ecs) in `cx`.
    pub async fn unshare_from_ecs_in(&self, cx: &CallContext, id: &ImageId) -> Result<()> {
        self.image_status_call(cx, id, "UnShare").await
    }

    async fn account_call(
        &self,
        cx: &CallContext,
        action: &str,
        id: &ImageId,
        principals: &[Principal],
        outcome: ShareOutcome,
    ) -> Result<ShareReport> {
        let mut params = self.base();
        params.push(("ImageId".to_owned(), id.to_string()));
        account_list_call(
            &self.client,
            cx,
            action,
            params,
            "Account",
            id,
            self.limits(),
            principals,
            outcome,
        )
        .await
    }
}

/// Maps a SWAS status code (`0` copying, `1` available, `2` unavailable, `3` creation
/// failed, `4` creating) to the normalised state.
#[must_use]
pub fn sas_state(status: &str) -> ImageState {
    match status {
        "1" => ImageState::Available,
        "0" | "4" => ImageState::Pending,
        "3" => ImageState::Failed,
        "2" => ImageState::Unavailable,
        other => ImageState::Other(other.to_owned()),
    }
}

/// Maps a `ListCustomImages` entry to an [`Image`] (a lightweight-host image, never
/// reported as encrypted). `received` says whether it was listed as shared with the caller.
#[must_use]
pub fn image_from_sas(img: &SasCustomImage, region: &Region, received: bool) -> Image {
    Image::new(
        ImageId::new(img.image_id.clone()),
        if img.region_id.is_empty() {
            region.clone()
        } else {
            Region::new(img.region_id.clone())
        },
    )
    .with_name(img.name.clone())
    .with_owner(
        (!img.user_id.is_empty() && img.user_id != "0")
            .then(|| Principal::account(img.user_id.clone())),
    )
    .with_state(sas_state(&img.status))
    .with_origin(if received {
        ImageOrigin::Received
    } else {
        ImageOrigin::Custom
    })
    .with_encryption(Encryption::NotReported)
    .with_kind(ImageKind::LightweightHost)
    .with_created_at(Timestamp::from_reported("CreationTime", &img.creation_time))
}

#[async_trait]
impl ImageSharing for SasImageSharing {
    fn provider(&self) -> Provider {
        SAS
    }
    fn region(&self) -> &Region {
        self.client.region()
    }
    fn limits(&self) -> &ShareLimits {
        &SAS_LIMITS
    }
    fn credentials_source(&self) -> Option<String> {
        Some(self.client.credentials().source().to_owned())
    }

    async fn image_in(&self, cx: &CallContext, id: &ImageId) -> Result<Image> {
        // Own images first (Share=false); then images shared with the caller.
        for (share, received) in [(false, false), (true, true)] {
            let resp = self
                .list_custom_images_page_in(cx, &[id.as_str()], Some(share), 1, 10)
                .await?;
            if let Some(img) = resp
                .custom_images
                .iter()
                .find(|i| i.image_id == id.as_str())
            {
                return Ok(image_from_sas(img, self.client.region(), received));
            }
        }
        Err(Error::not_found(SAS, "image", id.to_string()))
    }

    async fn share_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        to: &[Principal],
    ) -> Result<ShareReport> {
        self.account_call(
            cx,
            "AddCustomImageShareAccount",
            id,
            to,
            ShareOutcome::Granted,
        )
        .await
    }

    async fn unshare_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        from: &[Principal],
    ) -> Result<ShareReport> {
        self.account_call(
            cx,
            "RemoveCustomImageShareAccount",
            id,
            from,
            ShareOutcome::Revoked,
        )
        .await
    }

    async fn sharees_page_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Sharee>> {
        let page = PageCursor::page_number(cursor.as_ref())?;
        let mut p = self.base();
        p.push(("ImageId".to_owned(), id.to_string()));
        p.push(("PageNumber".to_owned(), page.to_string()));
        p.push(("PageSize".to_owned(), SHAREES_PAGE_SIZE.to_string()));
        let resp: ListCustomImageShareAccountsResponse = self
            .client
            .call(
                cx,
                "ListCustomImageShareAccounts",
                p,
                CallSpec {
                    idempotent: true,
                    image: Some(id.as_str()),
                },
            )
            .await?;
        let got = resp.image_share_users.len();
        let next = PageCursor::after_number(page, SHAREES_PAGE_SIZE, resp.total_count, got);
        let sharees = resp
            .image_share_users
            .into_iter()
            .map(|u| {
                Sharee::new(Principal::account(u.user_id))
                    .with_shared_at(Timestamp::from_reported("SharedTime", &u.shared_time))
            })
            .collect();
        Ok(Page::new(sharees, next))
    }

    async fn shared_with_me_page_in(
        &self,
        cx: &CallContext,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Image>> {
        let page = self.list_custom_images_at(cx, Some(true), cursor).await?;
        Ok(page.map(|i| image_from_sas(&i, self.client.region(), true)))
    }

    async fn copy_in(&self, _cx: &CallContext, _id: &ImageId, _to: CopyTarget) -> Result<ImageId> {
        Err(Error::unsupported(
            SAS,
            "copy",
            "the SWAS-OPEN API has no copy action (the console copies custom images \
                     across regions); share the image to ECS (share_to_ecs) and copy it there",
        ))
    }

    /// STS `GetCallerIdentity` with the adapter's credentials.
    async fn whoami_in(&self, cx: &CallContext) -> Result<CallerIdentity> {
        self.client.whoami(cx).await
    }

    async fn delete_in(&self, cx: &CallContext, id: &ImageId) -> Result<()> {
        let mut p = self.base();
        p.push(("ImageId".to_owned(), id.to_string()));
        let _: Empty = self
            .client
            .call(
                cx,
                "DeleteCustomImage",
                p,
                CallSpec {
                    idempotent: true,
                    image: Some(id.as_str()),
                },
            )
            .await?;
        Ok(())
    }
}
