//! `EcsImageSharing`: ECS (API 2014-05-26) custom-image sharing (alibaba.md 1).
//!
//! | trait call (`*_in`, in the caller's `CallContext`) | ECS action |
//! |---|---|
//! | `image` | `DescribeImages` with `ImageId` (every status); if not found, again with `ImageOwnerAlias=others`, `IsPublic=true` (another account's community image) |
//! | `images` | `DescribeImages` with `ImageId` = up to [`DESCRIBE_IMAGES_MAX_IDS`] comma-separated ids, `PageSize` 100 (every status) |
//! | `share` / `unshare` | `ModifyImageSharePermission` with `AddAccount.N` / `RemoveAccount.N` (N <= 10) |
//! | `sharees_page` | `DescribeImageSharePermission`, `PageNumber` / `PageSize` 100 / `TotalCount` (`SharedTime`) |
//! | `shared_with_me_page` | `DescribeImages` with `ImageOwnerAlias=others`, `IsPublic=false`, `PageNumber` / `PageSize` 100 |
//! | `copy` | `CopyImage` (with `Encrypted` / `KMSKeyId` for encrypted images; `DestinationImageName` when the target names the copy) |
//! | `copy_limits` | [`ECS_COPY`]: one destination region per call, names of 2 to 128 characters, no border |
//! | `images_named` | `DescribeImages` with `ImageName`, `ImageOwnerAlias=self`, `Status` = every status ([`ALL_STATUSES`]), `PageNumber` / `PageSize` 100, all pages; only exact names are kept (`ImageName` matches fuzzily) |
//!
//! An image's `Status` maps to its state by [`ecs_state`] (`Creating` / `Waiting`: being
//! made or copied, pending; `CreateFailed`: failed) and its `Progress` (`"45%"`, or `"45"`
//! as the SDK's example shows) to [`Image::progress`] by [`ecs_progress`].
//! | `delete` | `DeleteImage` |

use std::sync::Arc;

use async_trait::async_trait;
use imageshare_core::paging::{paginate, BoxStream, Listing, TryStreamExt};
use imageshare_core::{
    CallContext, CallerIdentity, CopyLimits, CopyTarget, Encryption, Error, Image, ImageId,
    ImageKind, ImageOrigin, ImageSharing, ImageState, OrgTargetLimits, Page, PageCursor, Principal,
    Provider, Region, Result, ShareLimits, ShareOutcome, ShareReport, Sharee, Timestamp,
};

use crate::client::{account_list_call, params, CallSpec, OpenApiClient, Product, ECS_VERSION};
use crate::limits::{ecs_rate_limits, ECS_COPY, ECS_LIMITS};
use crate::model::{
    CopyImageResponse, DescribeImageSharePermissionResponse, DescribeImagesResponse, EcsImage,
    Empty,
};
use crate::resource_sharing::{self as org, ResourceSharing};
use crate::{AlibabaBuilder, ECS, ECS_ORG_TARGETS};

/// Most accounts one `ModifyImageSharePermission` call may carry: the service processes
/// `AddAccount.1..10` / `RemoveAccount.1..10` and silently ignores the rest (alibaba.md 1.1),
/// so this adapter refuses to send more.
pub const MAX_ACCOUNTS_PER_CALL: usize = 10;

/// Page size used for `DescribeImages` and `DescribeImageSharePermission` (their maximum).
pub const PAGE_SIZE: u64 = 100;

/// Image ids per `DescribeImages` lookup: `ImageId` takes several ids separated by commas,
/// "最多 100 个Id，用半角逗号字符隔开" (the ECS API reference, DescribeImages,
/// <https://help.aliyun.com/document_detail/25534.html>; the English page,
/// <https://www.alibabacloud.com/help/doc-detail/25534.htm>: "You can specify multiple image
/// IDs and separate these IDs with commas"). With `PageSize` 100 (its maximum) a batch is
/// answered in one page.
pub const DESCRIBE_IMAGES_MAX_IDS: usize = 100;

/// Every image status `DescribeImages` knows; `image()` asks for all of them, since the
/// service's default is `Available` only (alibaba.md 1.3).
pub const ALL_STATUSES: &str = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated";

/// The default ECS endpoint of a region: `https://ecs.<region>.aliyuncs.com`.
#[must_use]
pub fn default_endpoint(region: &str) -> String {
    format!("https://ecs.{region}.aliyuncs.com")
}

/// Options of [`EcsImageSharing::copy_with`] (the `CopyImage` parameters imageshare uses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyOptions {
    /// `DestinationRegionId`; the client's region when `None`.
    pub destination_region: Option<Region>,
    /// `DestinationImageName`.
    pub name: Option<String>,
    /// `DestinationDescription`.
    pub description: Option<String>,
    /// `Encrypted`: `Some(true)` encrypts the copy, `Some(false)` does not, `None` lets the
    /// service decide.
    pub encrypted: Option<bool>,
    /// `KMSKeyId`: the KMS key to encrypt the copy with.
    pub kms_key_id: Option<String>,
}

/// The ECS product: what its client is built with.
const PRODUCT: Product = Product {
    limits: &ECS_LIMITS,
    version: ECS_VERSION,
    default_endpoint,
    rate_limits: ecs_rate_limits,
};

/// Builds an [`EcsImageSharing`]: [`ClientBuilder`](imageshare_core::ClientBuilder)'s shared settings, the Alibaba ones
/// (credentials, signature version) and [`kms_key_id`](AlibabaBuilder::kms_key_id).
///
/// ```
/// use imageshare_alibaba::{AlibabaCredentials, EcsAction, EcsImageSharing, SignatureVersion};
/// use imageshare_core::{Checked, ClientBuilder, ImageSharing, Rate, StaticEnv};
/// use std::time::Duration;
///
/// let ecs = EcsImageSharing::builder()
///     .region("cn-hangzhou")
///     // Explicit keys; without them `build()` runs the Aliyun CLI's chain (variables,
///     // OIDC, ~/.aliyun/config.json, the instance RAM role).
///     .credentials(AlibabaCredentials::new("LTAI5tExampleKeyId", "example-secret"))
///     .signature_version(SignatureVersion::Acs3)
///     .timeout(Duration::from_secs(10))
///     .rate_limit(EcsAction::ModifyImageSharePermission, Rate::per_second(5.0))
///     .env(StaticEnv::new()) // read no variable or file: only what is given here
///     .build()?; // sends nothing
/// assert_eq!(ecs.provider(), imageshare_alibaba::ECS);
/// assert_eq!(ecs.region().as_str(), "cn-hangzhou");
/// // The documented limits (10 accounts per call, 50 per image, ...) before any write.
/// let ecs = Checked::new(ecs);
/// # let _ = ecs;
/// # Ok::<(), imageshare_core::Error>(())
/// ```
pub type EcsBuilder = AlibabaBuilder<EcsImageSharing>;

impl AlibabaBuilder<EcsImageSharing> {
    /// The KMS key `copy` uses for encrypted images (`KMSKeyId`). Without one the copy of
    /// an encrypted image is encrypted with the service key, which ECS cannot share.
    #[must_use]
    pub fn kms_key_id(mut self, key: impl Into<String>) -> Self {
        self.kms_key_id = Some(key.into());
        self
    }

    /// Validates the settings and builds the adapter. Without explicit credentials the
    /// credential chain runs on the builder's environment (environment variables, then
    /// `~/.aliyun/config.json`, profile `.profile(..)` if set); without a region, the
    /// region variables, then the profile's region (see [`crate::credential`]).
    pub fn build(self) -> Result<EcsImageSharing> {
        let client = OpenApiClient::new(&self.config, self.settings, &PRODUCT)?;
        let org = ResourceSharing::new(
            &client,
            self.config.endpoint(),
            &self.org,
            self.config.organisation(),
        )?;
        Ok(EcsImageSharing {
            client: Arc::new(client),
            kms_key_id: self.kms_key_id.map(Arc::from),
            org: Arc::new(org),
        })
    }
}

/// The ECS image-sharing adapter. Wrap it in `imageshare_core::Checked` to have the
/// documented limits ([`ECS_LIMITS`]) enforced and principals batched by 10.
///
/// A clone is cheap (reference counts, no allocation) and shares the connection pool,
/// credentials cache and rate limiter: clone it into each spawned task.
#[derive(Debug, Clone)]
pub struct EcsImageSharing {
    client: Arc<OpenApiClient>,
    kms_key_id: Option<Arc<str>>,
    /// Resource Sharing, for the `directory:` / `folder:` / `member:` principals.
    /// (Shared: a second OpenAPI client, which would double the adapter's size.)
    org: Arc<ResourceSharing>,
}

impl EcsImageSharing {
    /// A builder with nothing set.
    #[must_use]
    pub fn builder() -> EcsBuilder {
        EcsBuilder::default()
    }

    /// The same as [`builder`](Self::builder): whatever is not set is read from the
    /// environment at `build()` (credentials from the chain: `ALIBABA_CLOUD_ACCESS_KEY_ID`
    /// / `_SECRET` / `_SECURITY_TOKEN` and the other names the Aliyun CLI reads, then
    /// `~/.aliyun/config.json`; the region from `ALIBABA_CLOUD_REGION_ID` and the CLI's
    /// other region variables, then the profile). Never fails; it returns a `Result` so
    /// that callers written for the former eager version keep compiling. To read another
    /// environment, use `builder().env(..)`.
    pub fn from_env() -> Result<EcsBuilder> {
        Ok(Self::builder())
    }

    /// The underlying OpenAPI client.
    #[must_use]
    pub fn client(&self) -> &OpenApiClient {
        &self.client
    }

    /// The Resource Sharing client (organisation principals).
    #[must_use]
    pub fn resource_sharing(&self) -> &ResourceSharing {
        &self.org
    }

    fn region_param(&self) -> (String, String) {
        ("RegionId".to_owned(), self.client.region().to_string())
    }

    /// One page of `DescribeImages` with extra filter parameters.
    pub async fn describe_images_page(
        &self,
        filters: &[(&str, &str)],
        page_number: u64,
        page_size: u64,
    ) -> Result<DescribeImagesResponse> {
        self.describe_images_page_in(&CallContext::new(), filters, page_number, page_size)
            .await
    }

    /// [`describe_images_page`](Self::describe_images_page) in `cx`.
    async fn describe_images_page_in(
        &self,
        cx: &CallContext,
        filters: &[(&str, &str)],
        page_number: u64,
        page_size: u64,
    ) -> Result<DescribeImagesResponse> {
        let mut p = vec![self.region_param()];
        p.extend(
            filters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        p.push(("PageNumber".to_owned(), page_number.to_string()));
        p.push(("PageSize".to_owned(), page_size.to_string()));
        self.client
            .call(
                cx,
                "DescribeImages",
                p,
                CallSpec {
                    idempotent: true,
                    image: None,
                },
            )
            .await
    }

    /// One page of `DescribeImages` for `filters` at `cursor` (`None`: the first), of
    /// [`PAGE_SIZE`] images, with the cursor of the next page, in `cx`.
    async fn describe_images_at(
        &self,
        cx: &CallContext,
        filters: &[(&str, &str)],
        cursor: Option<PageCursor>,
    ) -> Result<Page<EcsImage>> {
        let page = PageCursor::page_number(cursor.as_ref())?;
        let resp = self
            .describe_images_page_in(cx, filters, page, PAGE_SIZE)
            .await?;
        let got = resp.images.image.len();
        let next = PageCursor::after_number(page, PAGE_SIZE, resp.total_count, got);
        Ok(Page::new(resp.images.image, next))
    }

    /// Every image `DescribeImages` returns for `filters`, as a lazy stream over the pages
    /// (each fetched in one fresh `CallContext`).
    #[must_use]
    pub fn describe_images_stream<'a>(
        &'a self,
        filters: &'a [(&'a str, &'a str)],
    ) -> BoxStream<'a, Result<EcsImage>> {
        let cx = CallContext::new();
        paginate(Listing::new(ECS, "DescribeImages"), move |cursor| {
            let cx = cx.clone();
            async move { self.describe_images_at(&cx, filters, cursor).await }
        })
    }

    /// Every image `DescribeImages` returns for `filters`, all pages.
    pub async fn describe_images(&self, filters: &[(&str, &str)]) -> Result<Vec<EcsImage>> {
        self.describe_images_stream(filters).try_collect().await
    }

    /// `CopyImage` with explicit options; returns the id of the copy.
    pub async fn copy_with(&self, id: &ImageId, options: CopyOptions) -> Result<ImageId> {
        self.copy_with_in(&CallContext::new(), id, options).await
    }

    /// [`copy_with`](Self::copy_with) in `cx`.
    async fn copy_with_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        options: CopyOptions,
    ) -> Result<ImageId> {
        let mut p = vec![
            self.region_param(),
            ("ImageId".to_owned(), id.to_string()),
            (
                "DestinationRegionId".to_owned(),
                options
                    .destination_region
                    .unwrap_or_else(|| self.client.region().clone())
                    .to_string(),
            ),
        ];
        if let Some(name) = options.name {
            p.push(("DestinationImageName".to_owned(), name));
        }
        if let Some(d) = options.description {
            p.push(("DestinationDescription".to_owned(), d));
        }
        if let Some(e) = options.encrypted {
            p.push(("Encrypted".to_owned(), e.to_string()));
        }
        if let Some(k) = options.kms_key_id {
            p.push(("KMSKeyId".to_owned(), k));
        }
        let resp: CopyImageResponse = self
            .client
            .call(
                cx,
                "CopyImage",
                p,
                CallSpec {
                    idempotent: false,
                    image: Some(id.as_str()),
                },
            )
            .await?;
        if resp.image_id.is_empty() {
            return Err(Error::decode(
                ECS,
                "CopyImage",
                "the answer has no ImageId",
                Some(resp.request_id),
            ));
        }
        Ok(ImageId::new(resp.image_id))
    }

    async fn modify(
        &self,
        cx: &CallContext,
        id: &ImageId,
        list: &str,
        principals: &[Principal],
        outcome: ShareOutcome,
    ) -> Result<ShareReport> {
        let params = vec![self.region_param(), ("ImageId".to_owned(), id.to_string())];
        account_list_call(
            &self.client,
            cx,
            "ModifyImageSharePermission",
            params,
            list,
            id,
            self.limits(),
            principals,
            outcome,
        )
        .await
    }
}

/// Maps an ECS `Status` to the normalised state.
#[must_use]
pub fn ecs_state(status: &str) -> ImageState {
    match status {
        "Available" => ImageState::Available,
        "Creating" | "Waiting" => ImageState::Pending,
        "CreateFailed" => ImageState::Failed,
        "UnAvailable" | "Deprecated" => ImageState::Unavailable,
        other => ImageState::Other(other.to_owned()),
    }
}

/// Reads an ECS `Progress` (`"45%"`; the official SDK's example is `"100"`) as a percentage
/// from 0 to 100; `None` when it is empty or unreadable.
#[must_use]
pub fn ecs_progress(progress: &str) -> Option<u8> {
    let digits = progress.trim().trim_end_matches('%').trim();
    let value: f64 = digits.parse().ok()?;
    (value.is_finite() && value >= 0.0).then(|| value.min(100.0).floor() as u8)
}

/// Maps a `DescribeImages` entry to an [`Image`]: origin from `ImageOwnerAlias` and
/// `ProductCode` (a custom image with a product code is derived from a marketplace
/// image), kind from the disk mappings (any data disk: whole-machine image), encryption
/// from the disk mappings (`Encrypted`; the API does not say which key, so
/// [`Encryption::Unknown`]).
#[must_use]
pub fn image_from_ecs(img: &EcsImage, region: &Region) -> Image {
    let origin = match img.image_owner_alias.as_str() {
        "self" if !img.product_code.is_empty() => ImageOrigin::MarketplaceDerived,
        "self" => ImageOrigin::Custom,
        "others" if img.is_public => ImageOrigin::Public,
        "others" => ImageOrigin::Received,
        "system" | "marketplace" => ImageOrigin::Public,
        _ if !img.product_code.is_empty() => ImageOrigin::MarketplaceDerived,
        _ => ImageOrigin::Custom,
    };
    let disks = &img.disk_device_mappings.disk_device_mapping;
    let kind = if disks
        .iter()
        .any(|d| d.disk_type.eq_ignore_ascii_case("data"))
    {
        ImageKind::WholeMachine
    } else {
        ImageKind::SystemDisk
    };
    let encryption = if disks.iter().any(|d| d.encrypted) {
        Encryption::Unknown
    } else {
        Encryption::None
    };
    Image::new(ImageId::new(img.image_id.clone()), region.clone())
        .with_name(img.image_name.clone())
        .with_owner(
            (!img.image_owner_id.is_empty() && img.image_owner_id != "0")
                .then(|| Principal::account(img.image_owner_id.clone())),
        )
        .with_state(ecs_state(&img.status))
        .with_origin(origin)
        .with_encryption(encryption)
        .with_kind(kind)
        .with_created_at(Timestamp::from_reported("CreationTime", &img.creation_time))
        .with_progress(ecs_progress(&img.progress))
}

#[async_trait]
impl ImageSharing for EcsImageSharing {
    fn provider(&self) -> Provider {
        ECS
    }
    fn region(&self) -> &Region {
        self.client.region()
    }
    fn limits(&self) -> &ShareLimits {
        &ECS_LIMITS
    }
    fn org_targets(&self) -> Option<&OrgTargetLimits> {
        self.org.enabled().then_some(&ECS_ORG_TARGETS)
    }
    fn copy_limits(&self) -> Option<&CopyLimits> {
        Some(&ECS_COPY)
    }

    /// `DescribeImages` with `ImageName`, `ImageOwnerAlias=self` and every `Status` (the
    /// service lists only `Available` images by default), all pages; `ImageName` matches
    /// fuzzily, so only the images named exactly `name` are kept.
    async fn images_named_in(&self, cx: &CallContext, name: &str) -> Result<Vec<Image>> {
        imageshare_core::lookup::named_exactly(ECS, name, "ImageName", || async {
            let filters = [
                ("ImageName", name),
                ("ImageOwnerAlias", "self"),
                ("Status", ALL_STATUSES),
            ];
            let listing = Listing::new(ECS, "DescribeImages");
            let found: Vec<EcsImage> = paginate(listing, |cursor| {
                let filters = &filters;
                async move { self.describe_images_at(cx, filters, cursor).await }
            })
            .try_collect()
            .await?;
            Ok(found
                .iter()
                .map(|i| image_from_ecs(i, self.client.region()))
                .collect())
        })
        .await
    }
    fn credentials_source(&self) -> Option<String> {
        Some(self.client.credentials().source().to_owned())
    }

    async fn image_in(&self, cx: &CallContext, id: &ImageId) -> Result<Image> {
        // `DescribeImages` leaves community images out unless asked with
        // `ImageOwnerAlias=others` and `IsPublic=true` (`IsPublic`, default false: "Queries
        // image types other than community images"; alibabacloud-ecs20140526
        // `models/_describe_images_request.py`), so an id not found is asked for again as a
        // community image, which is then [`ImageOrigin::Public`] to the trust policy.
        for filters in [
            &[("ImageId", id.as_str()), ("Status", ALL_STATUSES)][..],
            &[
                ("ImageId", id.as_str()),
                ("ImageOwnerAlias", "others"),
                ("IsPublic", "true"),
            ][..],
        ] {
            let resp = self.describe_images_page_in(cx, filters, 1, 10).await?;
            if let Some(found) = resp.images.image.iter().find(|i| i.image_id == id.as_str()) {
                return Ok(image_from_ecs(found, self.client.region()));
            }
        }
        Err(Error::not_found(ECS, "image", id.to_string()))
    }

    fn images_per_call(&self) -> usize {
        DESCRIBE_IMAGES_MAX_IDS
    }

    /// `DescribeImages` with up to [`DESCRIBE_IMAGES_MAX_IDS`] comma-separated ids per
    /// call. An id with a comma in it would be read as two: it is refused before sending.
    async fn images_in(&self, cx: &CallContext, ids: &[ImageId]) -> Result<Vec<Result<Image>>> {
        if let Some(id) = ids.iter().find(|id| id.as_str().contains(',')) {
            return Err(Error::invalid_input(
                "image id",
                format!("{id:?}: ',' separates the ids of one DescribeImages call"),
            ));
        }
        imageshare_core::lookup::in_batches(ECS, ids, DESCRIBE_IMAGES_MAX_IDS, |batch| async move {
            let joined = batch
                .iter()
                .map(ImageId::as_str)
                .collect::<Vec<_>>()
                .join(",");
            let resp = self
                .describe_images_page_in(
                    cx,
                    &[("ImageId", joined.as_str()), ("Status", ALL_STATUSES)],
                    1,
                    PAGE_SIZE,
                )
                .await?;
            Ok(resp
                .images
                .image
                .iter()
                .map(|i| image_from_ecs(i, self.client.region()))
                .collect())
        })
        .await
    }

    async fn share_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        to: &[Principal],
    ) -> Result<ShareReport> {
        // Accounts: ModifyImageSharePermission; directory / folder / member: Resource
        // Sharing (crate::resource_sharing).
        let (accounts, targets) = org::split(to);
        org::merged(
            id,
            &accounts,
            &targets,
            self.modify(cx, id, "AddAccount", &accounts, ShareOutcome::Granted),
            self.org.share(cx, id, &targets),
        )
        .await
    }

    async fn unshare_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        from: &[Principal],
    ) -> Result<ShareReport> {
        let (accounts, targets) = org::split(from);
        org::merged(
            id,
            &accounts,
            &targets,
            self.modify(cx, id, "RemoveAccount", &accounts, ShareOutcome::Revoked),
            self.org.unshare(cx, id, &targets),
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
        let mut p = vec![self.region_param()];
        p.extend(params([
            ("ImageId", id.as_str()),
            ("PageNumber", &page.to_string()),
            ("PageSize", &PAGE_SIZE.to_string()),
        ]));
        let resp: DescribeImageSharePermissionResponse = self
            .client
            .call(
                cx,
                "DescribeImageSharePermission",
                p,
                CallSpec {
                    idempotent: true,
                    image: Some(id.as_str()),
                },
            )
            .await?;
        let got = resp.accounts.account.len();
        let next = PageCursor::after_number(page, PAGE_SIZE, resp.total_count, got);
        // With organisation sharing on, the first page also carries the targets of the
        // image's resource share.
        let mut sharees = match cursor {
            None if self.org.enabled() => self.org.sharees(cx, id).await?,
            _ => Vec::new(),
        };
        sharees.extend(resp.accounts.account.into_iter().map(|a| {
            Sharee::new(Principal::account(a.aliyun_id))
                .with_shared_at(Timestamp::from_reported("SharedTime", &a.shared_time))
        }));
        Ok(Page::new(sharees, next))
    }

    async fn shared_with_me_page_in(
        &self,
        cx: &CallContext,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Image>> {
        let page = self
            .describe_images_at(
                cx,
                &[
                    ("ImageOwnerAlias", "others"),
                    ("IsPublic", "false"),
                    ("Status", ALL_STATUSES),
                ],
                cursor,
            )
            .await?;
        Ok(page.map(|i| image_from_ecs(&i, self.client.region())))
    }

    async fn copy_in(&self, cx: &CallContext, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
        let (destination_region, name) = match to {
            CopyTarget::OwnCopy { name } => (None, name),
            CopyTarget::Region { region, name } => (Some(region), name),
            CopyTarget::Project { .. } => {
                return Err(Error::unsupported(
                    ECS,
                    "copy to a project",
                    "ECS images belong to accounts, not projects; copy to a region \
                             (CopyTarget::Region) or make an own copy (CopyTarget::OwnCopy)",
                ))
            }
            // A kind of target this adapter was not written for.
            other => {
                return Err(Error::unsupported(
                    ECS,
                    format!("copy to {other:?}"),
                    "this adapter does not know this kind of copy target",
                ))
            }
        };
        // An encrypted source is copied encrypted, with the configured KMS key if any
        // (the documented route to a shareable, CMK-encrypted copy).
        let encrypted = self.image_in(cx, id).await?.encryption.is_encrypted();
        self.copy_with_in(
            cx,
            id,
            CopyOptions {
                destination_region,
                name,
                description: None,
                encrypted: encrypted.then_some(true),
                kms_key_id: if encrypted {
                    self.kms_key_id.as_deref().map(str::to_owned)
                } else {
                    None
                },
            },
        )
        .await
    }

    /// STS `GetCallerIdentity` with the adapter's credentials.
    async fn whoami_in(&self, cx: &CallContext) -> Result<CallerIdentity> {
        self.client.whoami(cx).await
    }

    async fn delete_in(&self, cx: &CallContext, id: &ImageId) -> Result<()> {
        let p = vec![self.region_param(), ("ImageId".to_owned(), id.to_string())];
        let _: Empty = self
            .client
            .call(
                cx,
                "DeleteImage",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_states_and_progress() {
        assert_eq!(ecs_state("Creating"), ImageState::Pending);
        assert_eq!(ecs_state("Waiting"), ImageState::Pending);
        assert_eq!(ecs_state("CreateFailed"), ImageState::Failed);
        assert_eq!(ecs_state("Available"), ImageState::Available);
        assert_eq!(ecs_state("UnAvailable"), ImageState::Unavailable);
        assert_eq!(ecs_progress("45%"), Some(45));
        assert_eq!(
            ecs_progress(" 100 "),
            Some(100),
            "the SDK example has no '%'"
        );
        assert_eq!(ecs_progress("12.5%"), Some(12));
        assert_eq!(ecs_progress("130%"), Some(100));
        for odd in ["", "%", "n/a", "-5%", "NaN"] {
            assert_eq!(ecs_progress(odd), None, "{odd:?}");
        }
        let img = EcsImage {
            image_id: "m-1".into(),
            image_name: "golden-m-0".into(),
            image_owner_alias: "self".into(),
            status: "Creating".into(),
            progress: "45%".into(),
            ..Default::default()
        };
        let i = image_from_ecs(&img, &Region::from("cn-shanghai"));
        assert_eq!((i.state, i.progress), (ImageState::Pending, Some(45)));
    }
}
