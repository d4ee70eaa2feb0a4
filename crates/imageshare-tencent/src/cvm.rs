//! [`TencentCvmImageSharing`]: custom-image sharing on Tencent Cloud CVM (API 2017-03-12).
//!
//! | trait call | CVM action |
//! |---|---|
//! | `image` | `DescribeImages` with `ImageIds` (never combined with `Filters`), then CBS `DescribeSnapshots` for its snapshots (encryption; not for a public image) |
//! | `images` | `DescribeImages` with up to [`CVM_DESCRIBE_IMAGES_MAX_IDS`] `ImageIds`, `Limit` = their number, then one CBS `DescribeSnapshots` for the snapshots of the whole batch (up to [`CBS_DESCRIBE_SNAPSHOTS_MAX_IDS`](crate::cbs::CBS_DESCRIBE_SNAPSHOTS_MAX_IDS) per call) |
//! | `share` / `unshare` | `ModifyImageSharePermission`, `Permission` `SHARE` / `CANCEL` |
//! | `sharees_page` | `DescribeImageSharePermission` (not paged: one page) |
//! | `shared_with_me_page` | `DescribeImages`, filter `image-type` = `SHARED_IMAGE`, `Offset` / `Limit` 100 / `TotalCount` |
//! | `copy` | `SyncImages` with `ImageSetRequired` (own copy of a received image into its source region; cross-region copy; `ImageName` when the target names the copy; a `CopyTarget::Region` naming the adapter's own region is refused before sending, as SyncImages refuses a custom image's source region) |
//! | `copy_limits` | [`CVM_COPY`]: names of at most 60 characters, no border |
//! | `images_named` | `DescribeImages`, filters `image-name` = the name and `image-type` = `PRIVATE_IMAGE`, `Offset` / `Limit` 100, all pages; only exact names are kept (`image-name` matches fuzzily) |
//! | `delete` | `DeleteImages` |
//! | `whoami` | STS `GetCallerIdentity` (2018-08-13, `sts.tencentcloudapi.com` or the configured STS endpoint) |
//!
//! How a CVM `Image` maps to [`Image`]:
//! - origin: `PRIVATE_IMAGE` is custom, `SHARED_IMAGE` received, anything else public;
//! - owner: `ImageCreator` (not for public images, whose creator is `tencent`);
//! - state: `NORMAL` available (unavailable when `ImageDeprecated` is true); `CREATING`,
//!   `SYNCING`, `IMPORTING` pending; `CREATEFAILED`, `IMPORTFAILED` and any other
//!   `*FAILED` (a failed sync) failed; anything else verbatim;
//! - progress: `SyncPercent` (an integer, nullable: the sync percentage; tencent.md 1.3,
//!   tencentcloud-sdk-go `cvm/v20170312/models.go` `Image.SyncPercent`), within 0 to 100;
//! - kind: whole-machine when `SnapshotSet` holds a `DATA_DISK` snapshot (a whole-instance
//!   image is the one that carries data-disk snapshots), else system-disk;
//! - encryption: `DescribeImages` does not report it (tencentcloud-sdk-go
//!   `cvm/v20170312/models.go`: `Image` has no encryption field and its `SnapshotSet[]`
//!   entries only `SnapshotId`, `DiskUsage`, `DiskSize`); the only published signal is CBS
//!   `DescribeSnapshots` (`Snapshot.Encrypt`, see [`crate::cbs`]), which `image` and
//!   `images` call for the images' snapshots: any encrypted snapshot makes the image
//!   [`Encryption::Unknown`] (encrypted, key kind not reported), so the limit checker
//!   refuses the share before `ModifyImageSharePermission` is sent (CVM refuses it with
//!   `UnsupportedOperation.EncryptedImagesNotSupported`); all snapshots reported and none
//!   encrypted is [`Encryption::None`]. When CBS cannot answer (a key without CBS read
//!   access, any failure; logged at debug) or does not list a snapshot (a received image's
//!   snapshots belong to its owner), and for listings (`shared_with_me_page`), it stays
//!   [`Encryption::NotReported`] and the server's refusal comes back verbatim as
//!   [`Error::Api`].

use std::sync::Arc;

use async_trait::async_trait;
use imageshare_core::paging::{paginate, Listing, TryStreamExt};
use imageshare_core::{
    CallContext, CopyLimits, CopyTarget, Encryption, Error, Image, ImageId, ImageKind, ImageOrigin,
    ImageSharing, ImageState, Page, PageCursor, Principal, Provider, Region, Result, ShareLimits,
    ShareReport, Sharee, Site,
};

pub use crate::builder::CvmBuilder;
use crate::cbs::{Cbs, CBS_SERVICE};
use crate::client::{CallOptions, TencentClient, CVM_SERVICE};
use crate::common::{
    change_grants, check_id, copied_id, copied_ids, delete, ids_or_filters, offset_page,
    reported_time, the_one, GrantAction, Service, PAGE_SIZE,
};
use crate::limits::{CVM_COPY, CVM_DESCRIBE_IMAGES_MAX_IDS, CVM_LIMITS, CVM_MAX_SHAREES_PER_IMAGE};
use crate::model::{
    CvmImage, DeleteImagesRequest, DescribeImageSharePermissionRequest,
    DescribeImageSharePermissionResponse, DescribeImagesRequest, DescribeImagesResponse, Filter,
    ModifyImageSharePermissionRequest, SyncImage, SyncImagesRequest, SyncImagesResponse,
};

/// The code CVM answers when a SHARE names an account that already has a grant.
pub const ACCOUNT_ALREADY_EXISTS: &str = "FailedOperation.AccountAlreadyExists";

impl CvmBuilder {
    /// Accounts per `ModifyImageSharePermission` call (the limit checker batches by it).
    /// Tencent publishes no maximum; the default is
    /// [`CVM_DEFAULT_MAX_ACCOUNTS_PER_CALL`](crate::limits::CVM_DEFAULT_MAX_ACCOUNTS_PER_CALL)
    /// (see [`crate::limits`] for why). Must be 1 to 500.
    #[must_use]
    pub fn max_accounts_per_call(mut self, n: usize) -> Self {
        self.max_accounts_per_call = Some(n);
        self
    }

    /// Builds the adapter. Fails on missing or malformed credentials (listing every
    /// source of the chain when there are none), a missing region, a bad endpoint, or a
    /// per-call maximum outside 1..=500.
    pub fn build(self) -> Result<TencentCvmImageSharing> {
        let mut limits = CVM_LIMITS;
        if let Some(n) = self.max_accounts_per_call {
            if n == 0 || n > CVM_MAX_SHAREES_PER_IMAGE {
                return Err(Error::invalid_input(
                    "max_accounts_per_call",
                    format!("{n} is outside 1..={CVM_MAX_SHAREES_PER_IMAGE}"),
                ));
            }
            limits = limits.with_max_principals_per_call(n);
        }
        // CBS at the configured endpoint when there is one (as CVM), else the site's host.
        let cbs_endpoint = self.config.resolve_endpoint(|| {
            let host = match self.tencent.site {
                Site::China => CBS_SERVICE.host,
                Site::International => CBS_SERVICE.intl_host,
            };
            format!("https://{host}")
        })?;
        let client = self.tencent.build(&self.config, CVM_SERVICE)?;
        Ok(TencentCvmImageSharing {
            cbs: Arc::new(Cbs::new(client.for_service(CBS_SERVICE, cbs_endpoint))),
            client: Arc::new(client),
            limits,
        })
    }
}

/// [`ImageSharing`] for Tencent Cloud CVM custom images, in one region.
///
/// Wrap it in [`Checked`](imageshare_core::Checked) to have CVM's documented limits (500
/// sharees per image, NORMAL images only, no re-sharing of received images, same region,
/// unshare before delete) enforced before any write is sent (the checker reads the image
/// and its sharees first).
///
/// A clone is cheap (reference counts, no allocation) and shares the connection pool,
/// credentials cache and rate limiter: clone it into each spawned task.
#[derive(Debug, Clone)]
pub struct TencentCvmImageSharing {
    client: Arc<TencentClient>,
    /// CBS `DescribeSnapshots`, for the images' encryption.
    cbs: Arc<Cbs>,
    limits: ShareLimits,
}

impl TencentCvmImageSharing {
    /// A builder with nothing set.
    #[must_use]
    pub fn builder() -> CvmBuilder {
        CvmBuilder::default()
    }

    /// The same as [`builder`](Self::builder): credentials (and `TENCENTCLOUD_REGION`,
    /// unless a region is set) are resolved from the environment and the profile file by
    /// `build()`, which fails when none are found, listing every source. Never fails
    /// itself; the `Result` is kept for callers written against the eager version.
    pub fn from_env() -> Result<CvmBuilder> {
        Ok(Self::builder())
    }

    /// The underlying signed-JSON client (for actions the trait does not cover).
    #[must_use]
    pub fn client(&self) -> &TencentClient {
        &self.client
    }

    /// One page of `DescribeImages`.
    pub async fn describe_images(
        &self,
        request: &DescribeImagesRequest,
    ) -> Result<DescribeImagesResponse> {
        self.describe_images_in(&CallContext::new(), request).await
    }

    async fn describe_images_in(
        &self,
        cx: &CallContext,
        request: &DescribeImagesRequest,
    ) -> Result<DescribeImagesResponse> {
        ids_or_filters(
            "DescribeImages",
            "ImageIds",
            request.image_ids.is_some(),
            request.filters.is_some(),
        )?;
        self.client
            .call(cx, "DescribeImages", request, CallOptions::read())
            .await
    }

    /// The CBS client the adapter reads snapshot encryption with.
    #[must_use]
    pub fn cbs(&self) -> &Cbs {
        &self.cbs
    }

    /// Maps `set` to [`Image`]s, with the encryption CBS reports for their snapshots (one
    /// `DescribeSnapshots` for all of them; none for public images or when there are no
    /// snapshots).
    async fn images_from(&self, cx: &CallContext, set: Vec<CvmImage>) -> Vec<Image> {
        let asked: Vec<String> = set
            .iter()
            .filter(|i| i.image_type.as_deref() != Some("PUBLIC_IMAGE"))
            .flat_map(snapshot_ids)
            .collect();
        let known = if asked.is_empty() {
            std::collections::HashMap::new()
        } else {
            self.cbs.encrypt_flags(cx, &asked).await
        };
        set.into_iter()
            .map(|i| {
                let snapshots = snapshot_ids(&i);
                let mut image = image_from_cvm(i, self.region());
                if image.origin != ImageOrigin::Public {
                    image.encryption = crate::cbs::encryption(&snapshots, &known);
                }
                image
            })
            .collect()
    }

    /// `SyncImages`: copies one image into `regions` (for a received image, only its own
    /// region is allowed, which makes a custom image owned by the caller; for a custom
    /// image, only other regions). Returns the new image per region. A malformed region is
    /// [`Error::InvalidInput`] and nothing is sent.
    pub async fn sync_images(
        &self,
        id: &ImageId,
        regions: &[Region],
        name: Option<&str>,
    ) -> Result<Vec<SyncImage>> {
        self.sync_images_in(&CallContext::new(), id, regions, name)
            .await
    }

    async fn sync_images_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        regions: &[Region],
        name: Option<&str>,
    ) -> Result<Vec<SyncImage>> {
        check_id(&CVM_LIMITS, id)?;
        if regions.is_empty() {
            return Err(Error::invalid_input(
                "regions",
                "give at least one destination region",
            ));
        }
        for r in regions {
            self.limits.check_region(r, "regions")?;
        }
        let req = SyncImagesRequest {
            image_ids: vec![id.to_string()],
            destination_regions: regions.iter().map(|r| r.to_string()).collect(),
            image_name: name.map(str::to_owned),
            image_set_required: true,
        };
        let resp: SyncImagesResponse = self
            .client
            .call(
                cx,
                "SyncImages",
                &req,
                CallOptions::about(id.as_str(), false),
            )
            .await?;
        Ok(resp.image_set)
    }

    /// Shares (`SHARE`) or unshares (`CANCEL`) with `ModifyImageSharePermission`.
    async fn modify_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        principals: &[Principal],
        granting: bool,
    ) -> Result<ShareReport> {
        let grant = GrantAction {
            action: "ModifyImageSharePermission",
            granting,
            conflict_code: granting.then_some(ACCOUNT_ALREADY_EXISTS),
        };
        let permission = if granting { "SHARE" } else { "CANCEL" };
        change_grants(self, cx, id, principals, grant, |accounts| {
            ModifyImageSharePermissionRequest {
                image_id: id.to_string(),
                account_ids: accounts,
                permission: permission.to_owned(),
            }
        })
        .await
    }
}

impl Service for TencentCvmImageSharing {
    fn client(&self) -> &TencentClient {
        &self.client
    }
}

/// The `SnapshotId`s of a CVM image's `SnapshotSet`.
fn snapshot_ids(img: &CvmImage) -> Vec<String> {
    img.snapshot_set
        .iter()
        .flatten()
        .filter_map(|s| s.snapshot_id.clone())
        .collect()
}

/// Maps a CVM `Image` (see the module docs for the rules; encryption is
/// [`Encryption::NotReported`] here, the adapter fills it in from CBS).
pub fn image_from_cvm(img: CvmImage, region: &Region) -> Image {
    let origin = match img.image_type.as_deref() {
        Some("PRIVATE_IMAGE") => ImageOrigin::Custom,
        Some("SHARED_IMAGE") => ImageOrigin::Received,
        _ => ImageOrigin::Public,
    };
    let owner = match origin {
        ImageOrigin::Public => None,
        _ => img
            .image_creator
            .filter(|c| !c.is_empty() && c != "tencent")
            .map(Principal::account),
    };
    let deprecated = img.image_deprecated == Some(true);
    let state = match img.image_state.as_deref().unwrap_or("") {
        "NORMAL" if deprecated => ImageState::Unavailable,
        "NORMAL" => ImageState::Available,
        "CREATING" | "SYNCING" | "IMPORTING" => ImageState::Pending,
        "CREATEFAILED" | "IMPORTFAILED" => ImageState::Failed,
        other if other.ends_with("FAILED") => ImageState::Failed,
        other => ImageState::Other(other.to_owned()),
    };
    let progress = img
        .sync_percent
        .map(|p| u8::try_from(p.clamp(0, 100)).unwrap_or(100));
    let whole = img.snapshot_set.as_deref().is_some_and(|s| {
        s.iter()
            .any(|snap| snap.disk_usage.as_deref() == Some("DATA_DISK"))
    });
    Image::new(ImageId::new(img.image_id), region.clone())
        .with_name(img.image_name.unwrap_or_default())
        .with_owner(owner)
        .with_state(state)
        .with_origin(origin)
        .with_encryption(Encryption::NotReported)
        .with_kind(if whole {
            ImageKind::WholeMachine
        } else {
            ImageKind::SystemDisk
        })
        .with_created_at(reported_time(img.created_time.as_deref()))
        .with_progress(progress)
}

#[async_trait]
impl ImageSharing for TencentCvmImageSharing {
    fn provider(&self) -> Provider {
        self.client.provider()
    }

    fn region(&self) -> &Region {
        self.client.region()
    }

    fn limits(&self) -> &ShareLimits {
        &self.limits
    }
    fn credentials_source(&self) -> Option<String> {
        Some(self.client.credentials().source().to_owned())
    }
    fn copy_limits(&self) -> Option<&CopyLimits> {
        Some(&CVM_COPY)
    }

    /// `DescribeImages` with the filters `image-name` and `image-type` = `PRIVATE_IMAGE`
    /// (every state: DescribeImages does not filter by state unless asked), all pages;
    /// `image-name` matches fuzzily, so only the images named exactly `name` are kept.
    /// Encryption is not looked up ([`Encryption::NotReported`], as for listings).
    async fn images_named_in(&self, cx: &CallContext, name: &str) -> Result<Vec<Image>> {
        let provider = self.provider();
        imageshare_core::lookup::named_exactly(provider, name, "image-name filter", || async {
            let listing = Listing::new(provider, "DescribeImages");
            let found: Vec<CvmImage> = paginate(listing, |cursor| async move {
                let offset = PageCursor::offset(cursor.as_ref())?;
                let request = DescribeImagesRequest {
                    filters: Some(vec![
                        Filter::one("image-name", name),
                        Filter::one("image-type", "PRIVATE_IMAGE"),
                    ]),
                    offset: Some(offset),
                    limit: Some(PAGE_SIZE),
                    ..Default::default()
                };
                let page = self.describe_images_in(cx, &request).await?;
                Ok(offset_page(offset, page.total_count, page.image_set))
            })
            .try_collect()
            .await?;
            Ok(found
                .into_iter()
                .map(|i| image_from_cvm(i, self.region()))
                .collect())
        })
        .await
    }

    async fn image_in(&self, cx: &CallContext, id: &ImageId) -> Result<Image> {
        check_id(&CVM_LIMITS, id)?;
        let request = DescribeImagesRequest {
            image_ids: Some(vec![id.to_string()]),
            ..Default::default()
        };
        let set = self.describe_images_in(cx, &request).await?.image_set;
        let image = the_one(self, id, set, |i| &i.image_id)?;
        Ok(self
            .images_from(cx, vec![image])
            .await
            .pop()
            .expect("one image in, one out"))
    }

    fn images_per_call(&self) -> usize {
        CVM_DESCRIBE_IMAGES_MAX_IDS
    }

    /// `DescribeImages` with up to [`CVM_DESCRIBE_IMAGES_MAX_IDS`] `ImageIds` per call,
    /// `Limit` = their number (so one page holds the answer), then one CBS
    /// `DescribeSnapshots` for the batch's snapshots (encryption).
    async fn images_in(&self, cx: &CallContext, ids: &[ImageId]) -> Result<Vec<Result<Image>>> {
        for id in ids {
            check_id(&CVM_LIMITS, id)?;
        }
        imageshare_core::lookup::in_batches(
            self.provider(),
            ids,
            CVM_DESCRIBE_IMAGES_MAX_IDS,
            |batch| async move {
                let request = DescribeImagesRequest {
                    limit: Some(batch.len() as u64),
                    image_ids: Some(batch.iter().map(ImageId::to_string).collect()),
                    ..Default::default()
                };
                let set = self.describe_images_in(cx, &request).await?.image_set;
                Ok(self.images_from(cx, set).await)
            },
        )
        .await
    }

    async fn share_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        to: &[Principal],
    ) -> Result<ShareReport> {
        self.modify_in(cx, id, to, true).await
    }

    async fn unshare_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        from: &[Principal],
    ) -> Result<ShareReport> {
        self.modify_in(cx, id, from, false).await
    }

    async fn sharees_page_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Sharee>> {
        check_id(&CVM_LIMITS, id)?;
        PageCursor::first_only(cursor.as_ref(), "CVM DescribeImageSharePermission")?;
        let request = DescribeImageSharePermissionRequest {
            image_id: id.to_string(),
        };
        let resp: DescribeImageSharePermissionResponse = self
            .client
            .call(
                cx,
                "DescribeImageSharePermission",
                &request,
                CallOptions::about(id.as_str(), true),
            )
            .await?;
        Ok(Page::last(
            resp.share_permission_set
                .into_iter()
                .map(|p| {
                    Sharee::new(Principal::account(p.account_id))
                        .with_shared_at(reported_time(p.created_time.as_deref()))
                })
                .collect(),
        ))
    }

    /// One page of the shared images; an image listed again on a later page is yielded
    /// once by the core paging loop.
    async fn shared_with_me_page_in(
        &self,
        cx: &CallContext,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Image>> {
        let offset = PageCursor::offset(cursor.as_ref())?;
        let request = DescribeImagesRequest {
            filters: Some(vec![Filter::one("image-type", "SHARED_IMAGE")]),
            offset: Some(offset),
            limit: Some(PAGE_SIZE),
            ..Default::default()
        };
        let page = self.describe_images_in(cx, &request).await?;
        Ok(offset_page(offset, page.total_count, page.image_set)
            .map(|i| image_from_cvm(i, self.region())))
    }

    async fn copy_in(&self, cx: &CallContext, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
        let (region, name) = match to {
            CopyTarget::OwnCopy { name } => (self.region().clone(), name),
            CopyTarget::Region { region, .. } if region == *self.region() => {
                return Err(Error::invalid_input(
                    "target region",
                    format!(
                        "{region} is the adapter's own region: CVM's SyncImages copies a \
                         custom image to other regions only (the source region is refused); \
                         for an own copy of a received image use CopyTarget::OwnCopy"
                    ),
                ))
            }
            CopyTarget::Region { region, name } => (region, name),
            CopyTarget::Project { .. } => {
                return Err(Error::unsupported(
                    self.provider(),
                    "copy to a project",
                    "CVM custom images belong to an account, not a project; copy with \
                             CopyTarget::OwnCopy or CopyTarget::Region",
                ))
            }
            // A kind of target this adapter was not written for.
            other => {
                return Err(Error::unsupported(
                    self.provider(),
                    format!("copy to {other:?}"),
                    "this adapter does not know this kind of copy target",
                ))
            }
        };
        let set = self
            .sync_images_in(cx, id, std::slice::from_ref(&region), name.as_deref())
            .await?;
        copied_id(
            self,
            "SyncImages",
            &set,
            &region,
            |s| (&s.region, &s.image_id),
            "the answer lists no new image although ImageSetRequired was true",
        )
    }

    /// One `SyncImages` with every region in `DestinationRegions` (the limit checker sends
    /// at most [`CVM_COPY`]`.max_regions_per_call`), the copies'
    /// ids read from `ImageSet` (`ImageSetRequired`).
    async fn copy_to_regions_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        regions: &[Region],
        name: Option<&str>,
    ) -> Result<Vec<Result<ImageId>>> {
        if let Some(own) = regions.iter().find(|r| *r == self.region()) {
            return Err(Error::invalid_input(
                "regions",
                format!(
                    "{own} is the adapter's own region: SyncImages copies a custom image to \
                     other regions only"
                ),
            ));
        }
        let set = self.sync_images_in(cx, id, regions, name).await?;
        Ok(copied_ids(self, "SyncImages", &set, regions, |s| {
            (&s.region, &s.image_id)
        }))
    }

    async fn delete_in(&self, cx: &CallContext, id: &ImageId) -> Result<()> {
        let request = DeleteImagesRequest {
            image_ids: vec![id.to_string()],
        };
        delete(self, cx, id, "DeleteImages", request).await
    }
    /// STS `GetCallerIdentity` signed with this adapter's credentials
    /// ([`TencentClient::caller_identity`]).
    async fn whoami_in(&self, cx: &CallContext) -> Result<imageshare_core::CallerIdentity> {
        self.client.caller_identity(cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CvmSnapshot;
    use imageshare_core::ImageSharingExt;

    fn raw(kind: &str, state: &str, disks: &[&str]) -> CvmImage {
        CvmImage {
            image_id: "img-1".into(),
            os_name: None,
            image_type: Some(kind.into()),
            created_time: Some("2020-09-22T00:00:00+00:00".into()),
            image_name: Some("n".into()),
            image_description: None,
            image_size: None,
            architecture: None,
            image_state: Some(state.into()),
            platform: None,
            image_creator: Some("3205597606".into()),
            image_source: None,
            sync_percent: None,
            is_support_cloudinit: None,
            snapshot_set: Some(
                disks
                    .iter()
                    .map(|d| CvmSnapshot {
                        disk_usage: Some((*d).into()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            tags: None,
            license_type: None,
            image_family: None,
            image_deprecated: None,
        }
    }

    #[test]
    fn sync_states_and_percent() {
        let r = Region::from("ap-shanghai");
        let mut img = raw("PRIVATE_IMAGE", "SYNCING", &["SYSTEM_DISK"]);
        img.sync_percent = Some(45);
        let i = image_from_cvm(img, &r);
        assert_eq!((i.state, i.progress), (ImageState::Pending, Some(45)));
        for (percent, want) in [(Some(-3), Some(0)), (Some(140), Some(100)), (None, None)] {
            let mut img = raw("PRIVATE_IMAGE", "CREATING", &["SYSTEM_DISK"]);
            img.sync_percent = percent;
            assert_eq!(image_from_cvm(img, &r).progress, want, "{percent:?}");
        }
        for failed in [
            "CREATEFAILED",
            "IMPORTFAILED",
            "SYNCFAILED",
            "SYNCING_FAILED",
        ] {
            let img = raw("PRIVATE_IMAGE", failed, &["SYSTEM_DISK"]);
            assert_eq!(
                image_from_cvm(img, &r).state,
                ImageState::Failed,
                "{failed}"
            );
        }
    }

    #[test]
    fn an_unreadable_created_time_is_none() {
        let r = Region::from("ap-guangzhou");
        for odd in [Some("yesterday"), Some(""), None] {
            let mut img = raw("PRIVATE_IMAGE", "NORMAL", &["SYSTEM_DISK"]);
            img.created_time = odd.map(Into::into);
            let i = image_from_cvm(img, &r);
            assert_eq!((i.id.as_str(), i.created_at), ("img-1", None), "{odd:?}");
        }
    }

    #[test]
    fn maps_origin_state_kind_owner() {
        let r = Region::from("ap-guangzhou");
        let i = image_from_cvm(raw("PRIVATE_IMAGE", "NORMAL", &["SYSTEM_DISK"]), &r);
        assert_eq!(i.origin, ImageOrigin::Custom);
        assert_eq!(i.state, ImageState::Available);
        assert_eq!(i.kind, ImageKind::SystemDisk);
        assert_eq!(i.owner, Some(Principal::account("3205597606")));
        // The `+00:00` form Tencent's example shows, read as UTC.
        assert_eq!(
            i.created_at.map(|t| t.to_string()).as_deref(),
            Some("2020-09-22T00:00:00Z")
        );

        let i = image_from_cvm(
            raw("SHARED_IMAGE", "SYNCING", &["SYSTEM_DISK", "DATA_DISK"]),
            &r,
        );
        assert_eq!(i.origin, ImageOrigin::Received);
        assert_eq!(i.state, ImageState::Pending);
        assert_eq!(i.kind, ImageKind::WholeMachine);

        let mut public = raw("PUBLIC_IMAGE", "USING", &[]);
        public.image_creator = Some("tencent".into());
        let i = image_from_cvm(public, &r);
        assert_eq!(i.origin, ImageOrigin::Public);
        assert_eq!(i.owner, None);
        assert_eq!(i.state, ImageState::Other("USING".into()));
        assert_eq!(
            image_from_cvm(raw("PRIVATE_IMAGE", "IMPORTFAILED", &[]), &r).state,
            ImageState::Failed
        );
        let mut deprecated = raw("PRIVATE_IMAGE", "NORMAL", &[]);
        deprecated.image_deprecated = Some(true);
        assert_eq!(
            image_from_cvm(deprecated, &r).state,
            ImageState::Unavailable
        );
    }

    /// An adapter whose endpoint nothing listens on: any request would fail with
    /// `Error::Transport`, so an `InvalidInput` answer means nothing was sent.
    fn unreachable() -> TencentCvmImageSharing {
        use imageshare_core::ClientBuilder;
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        TencentCvmImageSharing::builder()
            .region("ap-guangzhou")
            .endpoint(url)
            .credentials(crate::TencentCredentials::new("AKIDtest", "key"))
            .retry(imageshare_core::transport::RetryConfig {
                max_attempts: 1,
                ..Default::default()
            })
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_copy_to_its_own_region_or_a_malformed_one_is_refused_before_sending() {
        let cvm = unreachable();
        let id = ImageId::from("img-6pb6lrmy");
        let e = cvm
            .copy(
                &id,
                CopyTarget::Region {
                    region: "ap-guangzhou".into(),
                    name: None,
                },
            )
            .await
            .unwrap_err();
        match &e {
            Error::InvalidInput { field, message, .. } => {
                assert_eq!(field, "target region");
                assert!(
                    message.contains("ap-guangzhou is the adapter's own region"),
                    "{e}"
                );
                assert!(message.contains("CopyTarget::OwnCopy"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        let e = cvm
            .sync_images(&id, &["ap-shanghai".into(), "ap-shanghai&x=1".into()], None)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidInput { field, message, .. }
                if field == "regions" && message.contains("'&' is not allowed")),
            "{e:?}"
        );
        // Another region passes the checks and reaches the (unreachable) endpoint.
        let e = cvm
            .copy(
                &id,
                CopyTarget::Region {
                    region: "ap-shanghai".into(),
                    name: None,
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    }
}
