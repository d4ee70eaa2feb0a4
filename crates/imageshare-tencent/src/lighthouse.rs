//! [`TencentLighthouseImageSharing`]: blueprint (custom image) sharing on Tencent Cloud
//! Lighthouse (API 2020-03-24), and the CVM -> Lighthouse move.
//!
//! | trait call | Lighthouse action |
//! |---|---|
//! | `image` | `DescribeBlueprints` with `BlueprintIds` |
//! | `images` | `DescribeBlueprints` with up to [`LIGHTHOUSE_DESCRIBE_BLUEPRINTS_MAX_IDS`] `BlueprintIds`, `Limit` = their number |
//! | `share` / `unshare` | `ShareBlueprintAcrossAccounts` / `CancelShareBlueprintAcrossAccounts` (at most 10 accounts per call) |
//! | `sharees_page` | `DescribeBlueprintsShareAcrossAccountInfos`, `Offset` / `Limit` 100; the China-site spec has it, and where a site does not (`InvalidAction`) the answer is [`Error::Unsupported`]; an empty first page is followed by `DescribeBlueprints` to tell an unknown blueprint from an unshared one |
//! | `sharees_of` | the same listing, without that lookup (the caller has just looked the blueprint up) |
//! | `shared_with_me_page` | `DescribeBlueprints`, filter `blueprint-type` = `SHARED`, `Offset` / `Limit` 100 |
//! | `copy` | `SyncBlueprint` (other regions only; it takes no name, so a `CopyTarget::Region` with a name is refused before sending) |
//! | `copy_limits` | [`LIGHTHOUSE_COPY`]: at most 10 regions per call, no name (the copy keeps the blueprint's), not across the [mainland-China border](crate::MAINLAND_CHINA) |
//! | `images_named` | `DescribeBlueprints`, filters `blueprint-name` = the name and `blueprint-type` = `PRIVATE`, `Offset` / `Limit` 100, all pages; only exact names are kept |
//! | `delete` | `DeleteBlueprints` |
//! | `whoami` | STS `GetCallerIdentity` (2018-08-13, `sts.tencentcloudapi.com` or the configured STS endpoint) |
//!
//! Named operations:
//! - [`share_from_cvm`](TencentLighthouseImageSharing::share_from_cvm): the caller's own
//!   CVM custom image into the caller's Lighthouse, with `DescribeImagesToShare` deciding
//!   eligibility first (Lighthouse `ModifyImageSharePermission`, `SHARE`);
//! - [`cancel_share_from_cvm`](TencentLighthouseImageSharing::cancel_share_from_cvm)
//!   (`CANCEL`);
//! - [`share_to_cvm`](TencentLighthouseImageSharing::share_to_cvm): Lighthouse -> CVM, which
//!   has no public API; it always returns [`Error::Unsupported`] saying what to do instead.
//!
//! A `Blueprint` maps to [`Image`] as: `PRIVATE` custom, `SHARED` received, any other type
//! public; `NORMAL` available, `SYNCING`/`CREATING` pending, `CREATEFAILED`/`SYNCING_FAILED`
//! failed, `OFFLINE`/`ISOLATING`/`ISOLATED`/`DELETING`/`DESTROYING` unavailable; kind
//! lightweight-host; no owner (the `Blueprint` object carries none); not encrypted.

use std::sync::Arc;

use async_trait::async_trait;
use imageshare_core::paging::{paginate, Listing, TryStreamExt};
use imageshare_core::{
    CallContext, CopyLimits, CopyTarget, Encryption, Error, Image, ImageId, ImageKind, ImageOrigin,
    ImageSharing, ImageState, Page, PageCursor, Principal, Provider, Region, Result, ShareLimits,
    ShareReport, Sharee,
};
use tracing::Instrument;

pub use crate::builder::LighthouseBuilder;
use crate::client::{CallOptions, TencentClient, LIGHTHOUSE_SERVICE};
use crate::common::{
    change_grants, check_id, copied_id, copied_ids, delete, ids_or_filters, offset_page,
    reported_time, the_one, GrantAction, Service, PAGE_SIZE,
};
use crate::limits::{
    CVM_LIMITS, LIGHTHOUSE_COPY, LIGHTHOUSE_DESCRIBE_BLUEPRINTS_MAX_IDS, LIGHTHOUSE_LIMITS,
};
use crate::model::{
    Blueprint, BlueprintAccountsRequest, DeleteBlueprintsRequest, DescribeBlueprintsRequest,
    DescribeBlueprintsResponse, DescribeBlueprintsShareAcrossAccountInfosRequest,
    DescribeBlueprintsShareAcrossAccountInfosResponse, DescribeImagesToShareRequest,
    DescribeImagesToShareResponse, DestinationRegionBlueprint, Filter,
    LighthouseImageSharePermissionRequest, LighthouseImageSharePermissionResponse,
    ShareableCvmImage, SyncBlueprintRequest, SyncBlueprintResponse,
};

/// The code Lighthouse answers when a share names an account that already has a grant.
pub const BLUEPRINT_ALREADY_SHARED: &str = "UnsupportedOperation.BlueprintAlreadyShared";
/// The code Lighthouse answers when a cancel names an account without a grant.
pub const BLUEPRINT_HAS_NOT_SHARED: &str = "UnsupportedOperation.BlueprintHasNotShared";

/// Why there is no Lighthouse -> CVM operation (tencent.md §2.7).
pub const NO_LIGHTHOUSE_TO_CVM: &str = "Tencent Cloud publishes no API that exports a Lighthouse \
blueprint as a CVM image or shares a blueprint to CVM (neither the Lighthouse 2020-03-24 nor the \
CVM 2017-03-12 API has such an action, and there is no ImportBlueprint). To move a workload from \
Lighthouse to CVM, rebuild the image on CVM (for example create a CVM instance, provision it \
the same way, and CreateImage from it), or export the disk and import it with CVM ImportImage; \
then share that CVM image with TencentCvmImageSharing";

impl LighthouseBuilder {
    /// Builds the adapter. Fails on missing or malformed credentials (listing every
    /// source of the chain when there are none), a missing region or a bad endpoint.
    pub fn build(self) -> Result<TencentLighthouseImageSharing> {
        Ok(TencentLighthouseImageSharing {
            client: Arc::new(self.tencent.build(&self.config, LIGHTHOUSE_SERVICE)?),
            limits: LIGHTHOUSE_LIMITS,
        })
    }
}

/// Whether a CVM image can be shared to Lighthouse, from `DescribeImagesToShare`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eligibility {
    /// The CVM image.
    pub image: ImageId,
    /// Whether Lighthouse accepts it.
    pub shareable: bool,
    /// Tencent's `UnshareableReason`, verbatim (`""` when shareable).
    pub reason: String,
}

/// [`ImageSharing`] for Tencent Cloud Lighthouse blueprints, in one region.
///
/// A clone is cheap (reference counts, no allocation) and shares the connection pool,
/// credentials cache and rate limiter: clone it into each spawned task.
#[derive(Debug, Clone)]
pub struct TencentLighthouseImageSharing {
    client: Arc<TencentClient>,
    limits: ShareLimits,
}

impl TencentLighthouseImageSharing {
    /// One page of `DescribeBlueprintsShareAcrossAccountInfos` for `id`. The action answers
    /// an unknown blueprint with an empty list; unless `known` (the caller has just looked
    /// the blueprint up), an empty first page is followed by a lookup that tells the two
    /// apart.
    async fn share_infos_page(
        &self,
        cx: &CallContext,
        id: &ImageId,
        cursor: Option<PageCursor>,
        known: bool,
    ) -> Result<Page<Sharee>> {
        check_id(&LIGHTHOUSE_LIMITS, id)?;
        let offset = PageCursor::offset(cursor.as_ref())?;
        let request = DescribeBlueprintsShareAcrossAccountInfosRequest {
            blueprint_ids: vec![id.to_string()],
            offset,
            limit: PAGE_SIZE,
        };
        let page: DescribeBlueprintsShareAcrossAccountInfosResponse = self
            .client
            .call(
                cx,
                "DescribeBlueprintsShareAcrossAccountInfos",
                &request,
                CallOptions::about(id.as_str(), true),
            )
            .await
            .map_err(|e| {
                if is_missing_action(&e) {
                    Error::unsupported(
                        self.provider(),
                        "list the accounts a blueprint is shared with",
                        format!(
                        "this endpoint does not offer DescribeBlueprintsShareAcrossAccountInfos \
                         (only the China-site API has it): {e}"
                    ),
                    )
                } else {
                    e
                }
            })?;
        let infos = page.blueprint_share_across_account_info_set;
        if offset == 0 && infos.is_empty() && !known {
            // The action answers an unknown blueprint with an empty list: tell the two apart.
            self.image_in(cx, id).await?;
        }
        // The next offset counts every row of the answer, kept or not.
        let next = PageCursor::after_offset(offset, infos.len(), PAGE_SIZE, Some(page.total_count));
        let sharees = infos
            .into_iter()
            .filter(|i| i.blueprint_id == id.as_str())
            .map(|i| {
                Sharee::new(Principal::account(i.account_id))
                    .with_shared_at(reported_time(i.created_time.as_deref()))
            })
            .collect();
        Ok(Page::new(sharees, next))
    }

    /// A builder with nothing set.
    #[must_use]
    pub fn builder() -> LighthouseBuilder {
        LighthouseBuilder::default()
    }

    /// The same as [`builder`](Self::builder): credentials (and `TENCENTCLOUD_REGION`,
    /// unless a region is set) are resolved from the environment and the profile file by
    /// `build()`. Never fails itself; the `Result` is kept for callers written against the
    /// eager version.
    pub fn from_env() -> Result<LighthouseBuilder> {
        Ok(Self::builder())
    }

    /// The underlying signed-JSON client.
    #[must_use]
    pub fn client(&self) -> &TencentClient {
        &self.client
    }

    /// One page of `DescribeBlueprints`.
    pub async fn describe_blueprints(
        &self,
        request: &DescribeBlueprintsRequest,
    ) -> Result<DescribeBlueprintsResponse> {
        self.describe_blueprints_in(&CallContext::new(), request)
            .await
    }

    async fn describe_blueprints_in(
        &self,
        cx: &CallContext,
        request: &DescribeBlueprintsRequest,
    ) -> Result<DescribeBlueprintsResponse> {
        ids_or_filters(
            "DescribeBlueprints",
            "BlueprintIds",
            request.blueprint_ids.is_some(),
            request.filters.is_some(),
        )?;
        self.client
            .call(cx, "DescribeBlueprints", request, CallOptions::read())
            .await
    }

    /// `SyncBlueprint`: copies a blueprint into other regions (at most 10; not its own; not
    /// across the mainland-China border). Returns the new blueprint per region.
    pub async fn sync_blueprint(
        &self,
        id: &ImageId,
        regions: &[Region],
    ) -> Result<Vec<DestinationRegionBlueprint>> {
        self.sync_blueprint_in(&CallContext::new(), id, regions)
            .await
    }

    async fn sync_blueprint_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        regions: &[Region],
    ) -> Result<Vec<DestinationRegionBlueprint>> {
        check_id(&LIGHTHOUSE_LIMITS, id)?;
        if regions.is_empty() || regions.len() > 10 {
            return Err(Error::invalid_input(
                "regions",
                format!(
                    "SyncBlueprint takes 1 to 10 destination regions, got {}",
                    regions.len()
                ),
            ));
        }
        let request = SyncBlueprintRequest {
            blueprint_id: id.to_string(),
            destination_regions: regions.iter().map(|r| r.to_string()).collect(),
        };
        let resp: SyncBlueprintResponse = self
            .client
            .call(
                cx,
                "SyncBlueprint",
                &request,
                CallOptions::about(id.as_str(), false),
            )
            .await?;
        Ok(resp.destination_region_blueprint_set)
    }

    /// `DescribeImagesToShare`: the caller's CVM images in this region and whether each can
    /// be shared to Lighthouse. With `ids` empty, every image (all pages); otherwise those
    /// images (unknown ids are simply absent).
    pub async fn images_to_share(&self, ids: &[ImageId]) -> Result<Vec<ShareableCvmImage>> {
        self.images_to_share_in(&CallContext::new(), ids).await
    }

    async fn images_to_share_in(
        &self,
        cx: &CallContext,
        ids: &[ImageId],
    ) -> Result<Vec<ShareableCvmImage>> {
        let mut out = Vec::new();
        if ids.is_empty() {
            return paginate(
                Listing::new(self.provider(), "DescribeImagesToShare"),
                |cursor| async move {
                    let offset = PageCursor::offset(cursor.as_ref())?;
                    let request = DescribeImagesToShareRequest {
                        offset: Some(offset),
                        limit: Some(PAGE_SIZE),
                        ..Default::default()
                    };
                    let page = self.describe_images_to_share(cx, &request).await?;
                    Ok(offset_page(offset, page.total_count, page.image_set))
                },
            )
            .try_collect()
            .await;
        }
        for chunk in ids.chunks(PAGE_SIZE as usize) {
            for id in chunk {
                check_id(&CVM_LIMITS, id)?;
            }
            let request = DescribeImagesToShareRequest {
                image_ids: Some(chunk.iter().map(|i| i.to_string()).collect()),
                limit: Some(PAGE_SIZE),
                ..Default::default()
            };
            out.extend(self.describe_images_to_share(cx, &request).await?.image_set);
        }
        Ok(out)
    }

    async fn describe_images_to_share(
        &self,
        cx: &CallContext,
        request: &DescribeImagesToShareRequest,
    ) -> Result<DescribeImagesToShareResponse> {
        self.client
            .call(cx, "DescribeImagesToShare", request, CallOptions::read())
            .await
    }

    /// Whether the CVM image `id` can be shared to Lighthouse, and why not.
    pub async fn eligibility(&self, id: &ImageId) -> Result<Eligibility> {
        self.eligibility_in(&CallContext::new(), id).await
    }

    async fn eligibility_in(&self, cx: &CallContext, id: &ImageId) -> Result<Eligibility> {
        let found = self
            .images_to_share_in(cx, std::slice::from_ref(id))
            .await?;
        let img = found
            .into_iter()
            .find(|i| i.image_id == id.as_str())
            .ok_or_else(|| Error::not_found(self.provider(), "image", id.to_string()))?;
        Ok(Eligibility {
            image: id.clone(),
            shareable: img.is_shareable,
            reason: img.unshareable_reason.unwrap_or_default(),
        })
    }

    /// Shares the caller's own CVM custom image `id` (same region) into the caller's
    /// Lighthouse and returns the new blueprint id: `DescribeImagesToShare` first, then
    /// Lighthouse `ModifyImageSharePermission` with `SHARE`. An ineligible image gives
    /// [`Error::Unsupported`] whose reason carries Tencent's `UnshareableReason` verbatim;
    /// an unknown image gives [`Error::NotFound`]. The caller needs the Lighthouse service
    /// role (else `ResourceNotFound.RoleNotFound` / `UnsupportedOperation.AssumeRoleFailed`).
    pub async fn share_from_cvm(&self, id: &ImageId) -> Result<ImageId> {
        let cx = CallContext::new();
        check_id(&CVM_LIMITS, id)?;
        let e = self.eligibility_in(&cx, id).await?;
        if !e.shareable {
            return Err(Error::unsupported(
                self.provider(),
                format!("share CVM image {id} to Lighthouse"),
                format!(
                    "DescribeImagesToShare says the image is not shareable: UnshareableReason \
                     {:?}",
                    e.reason
                ),
            ));
        }
        let resp = self.cvm_image_permission(&cx, id, "SHARE").await?;
        resp.blueprint_id
            .filter(|b| !b.is_empty())
            .map(ImageId::new)
            .ok_or_else(|| {
                Error::decode(
                    self.provider(),
                    "ModifyImageSharePermission",
                    "SHARE answered without a BlueprintId",
                    None,
                )
            })
    }

    /// The blueprint an earlier [`share_from_cvm`](Self::share_from_cvm) made from the CVM
    /// image `id`, if there is one: `DescribeBlueprints` (filter `blueprint-type` =
    /// `PRIVATE`, every page), the blueprint whose `ImageId` is `id` ("the CVM image ID when
    /// the blueprint came from a CVM image shared to Lighthouse", tencent.md §2.4 Blueprint
    /// fields; tencentcloud-sdk-go `lighthouse/v20200324` `Blueprint.ImageId`). How the
    /// CVM -> Lighthouse migration is idempotent: Lighthouse refuses to share an image to
    /// Lighthouse twice.
    pub async fn blueprint_from_cvm_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
    ) -> Result<Option<Image>> {
        check_id(&CVM_LIMITS, id)?;
        let span =
            tracing::info_span!("blueprint_from_cvm", provider = %self.provider(), image = %id);
        async {
            let found = self.private_blueprints_in(cx, None).await?;
            Ok(found
                .into_iter()
                .find(|b| b.image_id.as_deref() == Some(id.as_str()))
                .map(|b| image_from_blueprint(b, self.region())))
        }
        .instrument(span)
        .await
    }

    /// Every private blueprint of the caller in the region (`DescribeBlueprints`, filter
    /// `blueprint-type` = `PRIVATE` and `also` when given, every page).
    async fn private_blueprints_in(
        &self,
        cx: &CallContext,
        also: Option<Filter>,
    ) -> Result<Vec<Blueprint>> {
        let listing = Listing::new(self.provider(), "DescribeBlueprints");
        let also = &also;
        paginate(listing, |cursor| async move {
            let offset = PageCursor::offset(cursor.as_ref())?;
            let mut filters: Vec<Filter> = also.iter().cloned().collect();
            filters.push(Filter::one("blueprint-type", "PRIVATE"));
            let request = DescribeBlueprintsRequest {
                offset: Some(offset),
                limit: Some(PAGE_SIZE),
                filters: Some(filters),
                ..Default::default()
            };
            let page = self.describe_blueprints_in(cx, &request).await?;
            Ok(offset_page(offset, page.total_count, page.blueprint_set))
        })
        .try_collect()
        .await
    }

    /// Undoes [`share_from_cvm`](Self::share_from_cvm): Lighthouse
    /// `ModifyImageSharePermission` with `CANCEL` (the official example's `CANEL` is a typo).
    pub async fn cancel_share_from_cvm(&self, id: &ImageId) -> Result<()> {
        check_id(&CVM_LIMITS, id)?;
        self.cvm_image_permission(&CallContext::new(), id, "CANCEL")
            .await?;
        Ok(())
    }

    /// One Lighthouse `ModifyImageSharePermission` call on the CVM image `id`.
    async fn cvm_image_permission(
        &self,
        cx: &CallContext,
        id: &ImageId,
        permission: &str,
    ) -> Result<LighthouseImageSharePermissionResponse> {
        let request = LighthouseImageSharePermissionRequest {
            image_id: id.to_string(),
            permission: permission.to_owned(),
        };
        self.client
            .call(
                cx,
                "ModifyImageSharePermission",
                &request,
                CallOptions::about(id.as_str(), false),
            )
            .await
    }

    /// Lighthouse -> CVM. No public API exists (tencent.md §2.7), so this always returns
    /// [`Error::Unsupported`] explaining what to do instead; nothing is sent.
    pub async fn share_to_cvm(&self, blueprint: &ImageId) -> Result<ImageId> {
        Err(Error::unsupported(
            self.provider(),
            format!("share Lighthouse blueprint {blueprint} to CVM"),
            NO_LIGHTHOUSE_TO_CVM,
        ))
    }

    /// Shares (`ShareBlueprintAcrossAccounts`) or unshares
    /// (`CancelShareBlueprintAcrossAccounts`) the blueprint `id`.
    async fn modify_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        principals: &[Principal],
        granting: bool,
    ) -> Result<ShareReport> {
        let grant = if granting {
            GrantAction {
                action: "ShareBlueprintAcrossAccounts",
                granting,
                conflict_code: Some(BLUEPRINT_ALREADY_SHARED),
            }
        } else {
            GrantAction {
                action: "CancelShareBlueprintAcrossAccounts",
                granting,
                conflict_code: Some(BLUEPRINT_HAS_NOT_SHARED),
            }
        };
        change_grants(self, cx, id, principals, grant, |accounts| {
            BlueprintAccountsRequest {
                blueprint_id: id.to_string(),
                account_ids: accounts,
            }
        })
        .await
    }
}

impl Service for TencentLighthouseImageSharing {
    fn client(&self) -> &TencentClient {
        &self.client
    }
}

/// Maps a Lighthouse `Blueprint` (see the module docs for the rules).
#[must_use]
pub fn image_from_blueprint(b: Blueprint, region: &Region) -> Image {
    let origin = match b.blueprint_type.as_deref() {
        Some("PRIVATE") => ImageOrigin::Custom,
        Some("SHARED") => ImageOrigin::Received,
        _ => ImageOrigin::Public,
    };
    let state = match b.blueprint_state.as_deref().unwrap_or("") {
        "NORMAL" => ImageState::Available,
        "SYNCING" | "CREATING" => ImageState::Pending,
        "CREATEFAILED" | "SYNCING_FAILED" => ImageState::Failed,
        "OFFLINE" | "ISOLATING" | "ISOLATED" | "DELETING" | "DESTROYING" => ImageState::Unavailable,
        other => ImageState::Other(other.to_owned()),
    };
    Image::new(ImageId::new(b.blueprint_id), region.clone())
        .with_name(b.blueprint_name.unwrap_or_default())
        .with_state(state)
        .with_origin(origin)
        .with_encryption(Encryption::NotReported)
        .with_kind(ImageKind::LightweightHost)
        .with_created_at(reported_time(b.created_time.as_deref()))
}

fn is_missing_action(e: &Error) -> bool {
    matches!(
        e.code(),
        Some("InvalidAction") | Some("InvalidAction.NotFound")
    )
}

#[async_trait]
impl ImageSharing for TencentLighthouseImageSharing {
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
        Some(&LIGHTHOUSE_COPY)
    }

    /// `DescribeBlueprints` with the filters `blueprint-name` and `blueprint-type` =
    /// `PRIVATE` (the custom blueprints: "PRIVATE（自定义镜像）", tencentcloud-sdk-go
    /// `lighthouse/v20200324/models.go` `DescribeBlueprintsRequestParams.Filters`), every
    /// state, all pages; only the blueprints named exactly `name` are kept.
    async fn images_named_in(&self, cx: &CallContext, name: &str) -> Result<Vec<Image>> {
        let provider = self.provider();
        imageshare_core::lookup::named_exactly(provider, name, "blueprint-name filter", || async {
            let found = self
                .private_blueprints_in(cx, Some(Filter::one("blueprint-name", name)))
                .await?;
            Ok(found
                .into_iter()
                .map(|b| image_from_blueprint(b, self.region()))
                .collect())
        })
        .await
    }

    async fn image_in(&self, cx: &CallContext, id: &ImageId) -> Result<Image> {
        check_id(&LIGHTHOUSE_LIMITS, id)?;
        let request = DescribeBlueprintsRequest {
            blueprint_ids: Some(vec![id.to_string()]),
            ..Default::default()
        };
        let set = self
            .describe_blueprints_in(cx, &request)
            .await?
            .blueprint_set;
        let blueprint = the_one(self, id, set, |b| &b.blueprint_id)?;
        Ok(image_from_blueprint(blueprint, self.region()))
    }

    fn images_per_call(&self) -> usize {
        LIGHTHOUSE_DESCRIBE_BLUEPRINTS_MAX_IDS
    }

    /// True: an empty share listing is followed by `DescribeBlueprints`, which
    /// [`sharees_of_in`](ImageSharing::sharees_of_in) skips.
    fn listing_looks_up(&self) -> bool {
        true
    }

    /// `DescribeBlueprints` with up to [`LIGHTHOUSE_DESCRIBE_BLUEPRINTS_MAX_IDS`]
    /// `BlueprintIds` per call, `Limit` = their number (so one page holds the answer).
    async fn images_in(&self, cx: &CallContext, ids: &[ImageId]) -> Result<Vec<Result<Image>>> {
        for id in ids {
            check_id(&LIGHTHOUSE_LIMITS, id)?;
        }
        imageshare_core::lookup::in_batches(
            self.provider(),
            ids,
            LIGHTHOUSE_DESCRIBE_BLUEPRINTS_MAX_IDS,
            |batch| async move {
                let request = DescribeBlueprintsRequest {
                    limit: Some(batch.len() as u64),
                    blueprint_ids: Some(batch.iter().map(ImageId::to_string).collect()),
                    ..Default::default()
                };
                let set = self
                    .describe_blueprints_in(cx, &request)
                    .await?
                    .blueprint_set;
                Ok(set
                    .into_iter()
                    .map(|b| image_from_blueprint(b, self.region()))
                    .collect())
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
        self.share_infos_page(cx, id, cursor, false).await
    }

    /// The listing of a blueprint just looked up: no `DescribeBlueprints` on an empty
    /// answer, the lookup already said the blueprint exists.
    async fn sharees_of_in(&self, cx: &CallContext, image: &Image) -> Result<Vec<Sharee>> {
        let id = &image.id;
        paginate(
            Listing::sharees(self.provider(), id),
            move |cursor| async move { self.share_infos_page(cx, id, cursor, true).await },
        )
        .try_collect()
        .await
    }

    /// One page of the shared blueprints; a blueprint listed again on a later page is
    /// yielded once by the core paging loop.
    async fn shared_with_me_page_in(
        &self,
        cx: &CallContext,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Image>> {
        let offset = PageCursor::offset(cursor.as_ref())?;
        let request = DescribeBlueprintsRequest {
            offset: Some(offset),
            limit: Some(PAGE_SIZE),
            filters: Some(vec![Filter::one("blueprint-type", "SHARED")]),
            ..Default::default()
        };
        let page = self.describe_blueprints_in(cx, &request).await?;
        Ok(offset_page(offset, page.total_count, page.blueprint_set)
            .map(|b| image_from_blueprint(b, self.region())))
    }

    async fn copy_in(&self, cx: &CallContext, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
        let region = match to {
            CopyTarget::Region { region, name: None } => region,
            CopyTarget::Region { name: Some(_), .. } => {
                return Err(Error::invalid_input(
                    "name",
                    "SyncBlueprint keeps the blueprint's name; it takes no name for the copy",
                ))
            }
            CopyTarget::OwnCopy { .. } => {
                return Err(Error::unsupported(
                    self.provider(),
                    "copy a blueprint within its region",
                    "Lighthouse's SyncBlueprint copies to other regions only; there is \
                             no API that makes an own copy of a blueprint in the same region",
                ))
            }
            CopyTarget::Project { .. } => {
                return Err(Error::unsupported(
                    self.provider(),
                    "copy to a project",
                    "Lighthouse blueprints belong to an account, not a project",
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
            .sync_blueprint_in(cx, id, std::slice::from_ref(&region))
            .await?;
        copied_id(
            self,
            "SyncBlueprint",
            &set,
            &region,
            |s| (&s.region, &s.blueprint_id),
            "the answer lists no new blueprint",
        )
    }

    /// One `SyncBlueprint` with every region in `DestinationRegions` (at most 10; the limit
    /// checker splits longer lists), the copies' ids read from the answer. A name is
    /// refused: the copies keep the blueprint's.
    async fn copy_to_regions_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        regions: &[Region],
        name: Option<&str>,
    ) -> Result<Vec<Result<ImageId>>> {
        if name.is_some() {
            return Err(Error::invalid_input(
                "name",
                "SyncBlueprint keeps the blueprint's name; it takes no name for the copy",
            ));
        }
        let set = self.sync_blueprint_in(cx, id, regions).await?;
        Ok(copied_ids(self, "SyncBlueprint", &set, regions, |s| {
            (&s.region, &s.blueprint_id)
        }))
    }

    async fn delete_in(&self, cx: &CallContext, id: &ImageId) -> Result<()> {
        let request = DeleteBlueprintsRequest {
            blueprint_ids: vec![id.to_string()],
        };
        delete(self, cx, id, "DeleteBlueprints", request).await
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

    fn bp(kind: &str, state: &str) -> Blueprint {
        serde_json::from_value(serde_json::json!({
            "BlueprintId": "lhbp-xkeh87da", "BlueprintType": kind, "BlueprintState": state,
            "BlueprintName": "test-blueprint", "Description": null,
            "CreatedTime": "2021-02-02T09:16:16Z", "ImageId": ""
        }))
        .unwrap()
    }

    #[test]
    fn sync_states_of_blueprints() {
        let r = Region::from("ap-shanghai");
        for (state, want) in [
            ("SYNCING", ImageState::Pending),
            ("CREATING", ImageState::Pending),
            ("SYNCING_FAILED", ImageState::Failed),
            ("CREATEFAILED", ImageState::Failed),
            ("NORMAL", ImageState::Available),
        ] {
            let i = image_from_blueprint(bp("PRIVATE", state), &r);
            assert_eq!((i.state, i.progress), (want, None), "{state}");
        }
    }

    #[test]
    fn maps_blueprints() {
        let r = Region::from("ap-guangzhou");
        let i = image_from_blueprint(bp("PRIVATE", "NORMAL"), &r);
        assert_eq!(
            (i.origin, i.state, i.kind),
            (
                ImageOrigin::Custom,
                ImageState::Available,
                ImageKind::LightweightHost
            )
        );
        assert_eq!(i.name, "test-blueprint");
        assert_eq!(
            image_from_blueprint(bp("SHARED", "SYNCING"), &r).origin,
            ImageOrigin::Received
        );
        assert_eq!(
            image_from_blueprint(bp("PURE_OS", "ISOLATED"), &r).state,
            ImageState::Unavailable
        );
        assert_eq!(
            image_from_blueprint(bp("APP_OS", "SYNCING_FAILED"), &r).origin,
            ImageOrigin::Public
        );
    }
}
