//! [`UCloudImageSharing`]: the UHost project-sharing adapter (its builder is
//! [`crate::builder`]).
//!
//! Documented UCloud actions used: `DescribeImage` (lookup, batched lookup with `ImageIds.N`
//! in [`crate::lookup`], listing, paging, and `images_named`: `ImageType=Custom`, all
//! pages, names matched here since DescribeImage takes no name),
//! `CopyCustomImage` (copies, [`UCloudImageSharing::copy_to_project`]) and
//! `TerminateCustomImage` (delete).
//!
//! | trait call | UCloud action |
//! |---|---|
//! | `copy` to a region | `CopyCustomImage` with `TargetProjectId` = the adapter's project, `TargetRegion`, and `TargetImageName` when the target names the copy |
//! | `copy_limits` | [`UHOST_COPY`]: one `TargetRegion` per call, names of at most 63 characters (UNCONFIRMED), no border |
//! | `images_named` | `DescribeImage` with `ImageType=Custom`, `Offset` / `Limit`, all pages; exact names kept |
//!
//! A copy is `Copying` until done (pending, like `Making`); `Unavailable` stays
//! unavailable, which distribution reports as a failed copy (whether UCloud marks a failed
//! copy `Unavailable` is UNCONFIRMED: the API reference lists the four states
//! `Available`, `Making`, `Unavailable`, `Copying` only, ucloud.md 2). DescribeImage
//! reports no copy progress (the SDK's `GetImageCopyProgress` is internal, ucloud.md 1.3).
//!
//! Project sharing uses the actions named by [`SharingActions`]. **They are not part of
//! UCloud's published API** (UCloud documents sharing as a console feature only, ucloud.md
//! §1.1); the imageshare emulator serves them, and the builder can rename each one for an
//! endpoint that serves them under other names. Against the public UCloud API they are
//! answered with RetCode 161 ("Action does not exist"), which this adapter reports as
//! [`Error::Unsupported`] naming the documented alternative, `copy_to_project`.

use std::sync::Arc;

use async_trait::async_trait;

use imageshare_core::limits::ImageIdUse;
use imageshare_core::paging::{paginate, BoxStream, Listing, StreamExt, TryStreamExt};
use imageshare_core::{
    CallContext, CopyLimits, CopyTarget, Encryption, Error, Image, ImageId, ImageKind, ImageOrigin,
    ImageSharing, ImageState, Page, PageCursor, Principal, ProjectId, Provider, Region, Result,
    ShareLimits, ShareOutcome, ShareReport, Sharee, Timestamp,
};

use crate::builder::UCloudImageSharingBuilder;
use crate::client::{error_ret_code, Idempotency, UCloudClient};
use crate::limits::UHOST_COPY;
use crate::model::{
    state, CopyCustomImageResponse, DescribeImageResponse, DescribeImageShareResponse, ImageType,
    SaveSharedImageResponse, ShareCustomImageResponse, TerminateCustomImageResponse, UHostImageSet,
};
use crate::retcode;
use crate::signer::Param;
use crate::UHOST;

/// `DescribeImage` (documented).
pub const DESCRIBE_IMAGE: &str = "DescribeImage";
/// `CopyCustomImage` (documented).
pub const COPY_CUSTOM_IMAGE: &str = "CopyCustomImage";
/// `TerminateCustomImage` (documented).
pub const TERMINATE_CUSTOM_IMAGE: &str = "TerminateCustomImage";

/// Default page size of the listing actions (`Limit`). UCloud's default is 20; other UHost
/// list actions document a maximum of 100 and terraform-provider-ucloud pages
/// DescribeImage with 100 (the DescribeImage maximum itself is unpublished).
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Largest page size the builder accepts.
pub const MAX_PAGE_SIZE: u32 = 100;

/// The names of the project-sharing actions. **None of them is part of UCloud's published
/// API**: they are imageshare's names, in UCloud's style, served by the imageshare emulator.
/// Each one can be overridden ([`UCloudImageSharingBuilder::actions`] and the per-action
/// builder methods).
///
/// | field | default | parameters (besides the common ones) | answer |
/// |---|---|---|---|
/// | `share` | `ShareCustomImage` | `ImageId`, `TargetProjectIds.N` | `ImageId` |
/// | `cancel_share` | `CancelShareCustomImage` | `ImageId`, `TargetProjectIds.N` | `ImageId` |
/// | `describe_share` | `DescribeCustomImageShare` | `ImageId`, `Offset`, `Limit` | `TotalCount`, `ProjectSet[]{ProjectId, CreateTime}` |
/// | `describe_shared` | `DescribeSharedImage` | `ImageId`?, `Offset`, `Limit` | `TotalCount`, `ImageSet[]` (UHostImageSet + `OwnerProjectId`) |
/// | `save_shared` | `SaveSharedImage` | `ImageId`, `ImageName`?, `ImageDescription`? | `ImageId` (the new custom image) |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingActions {
    /// Shares a custom image with projects.
    pub share: String,
    /// Cancels the share of a custom image with projects (sharer only).
    pub cancel_share: String,
    /// Lists the projects a custom image is shared with.
    pub describe_share: String,
    /// Lists the images other projects share with the caller's project.
    pub describe_shared: String,
    /// Saves a shared image as a custom image of the caller's project.
    pub save_shared: String,
}

impl SharingActions {
    /// Default name of [`SharingActions::share`].
    pub const SHARE: &'static str = "ShareCustomImage";
    /// Default name of [`SharingActions::cancel_share`].
    pub const CANCEL_SHARE: &'static str = "CancelShareCustomImage";
    /// Default name of [`SharingActions::describe_share`].
    pub const DESCRIBE_SHARE: &'static str = "DescribeCustomImageShare";
    /// Default name of [`SharingActions::describe_shared`].
    pub const DESCRIBE_SHARED: &'static str = "DescribeSharedImage";
    /// Default name of [`SharingActions::save_shared`].
    pub const SAVE_SHARED: &'static str = "SaveSharedImage";
}

impl Default for SharingActions {
    fn default() -> Self {
        Self {
            share: Self::SHARE.to_owned(),
            cancel_share: Self::CANCEL_SHARE.to_owned(),
            describe_share: Self::DESCRIBE_SHARE.to_owned(),
            describe_shared: Self::DESCRIBE_SHARED.to_owned(),
            save_shared: Self::SAVE_SHARED.to_owned(),
        }
    }
}

/// The result of a `CopyCustomImage` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedImage {
    /// The new image (state `Copying` until the copy is done).
    pub image_id: ImageId,
    /// The copy task id, when UCloud returned one.
    pub task_id: Option<String>,
}

/// The UCloud UHost image-sharing adapter: principals are **projects** (`org-...`).
///
/// Build it with [`UCloudImageSharing::builder`] (or its synonym
/// [`UCloudImageSharing::from_env`]): builder values, then, for what is not given, the
/// [`UCloudChain`](crate::UCloudChain) (`UCLOUD_*` variables, then `~/.ucloud/config.json` and
/// `credential.json`). Wrap it in [`imageshare_core::Checked`] to have UCloud's documented
/// limits ([`UHOST_LIMITS`](crate::UHOST_LIMITS)) enforced before any write is sent (the
/// checker reads the image and its sharees first).
///
/// A clone is cheap (reference counts, no allocation) and shares the connection pool,
/// credentials cache and rate limiter: clone it into each spawned task.
#[derive(Debug, Clone)]
pub struct UCloudImageSharing {
    client: Arc<UCloudClient>,
    limits: ShareLimits,
    actions: Arc<SharingActions>,
    page_size: u32,
}

impl UCloudImageSharing {
    /// A builder. Values given to it win; every value not given (credentials, region,
    /// zone, project, base URL, timeout) is looked up lazily, in
    /// [`UCloudImageSharingBuilder::build`], in the [`UCloudChain`](crate::UCloudChain): the `UCLOUD_*`
    /// variables, then the UCloud CLI's shared files, read from the builder's
    /// [`env`](imageshare_core::ClientBuilder::env) (the process environment by default).
    /// A region and a key pair must be given or found.
    #[must_use]
    pub fn builder() -> UCloudImageSharingBuilder {
        UCloudImageSharingBuilder::new()
    }

    /// The same as [`builder`](Self::builder): every value not given to the builder is
    /// looked up in the [`UCloudChain`](crate::UCloudChain) in [`UCloudImageSharingBuilder::build`].
    #[must_use]
    pub fn from_env() -> UCloudImageSharingBuilder {
        UCloudImageSharingBuilder::new()
    }

    /// The adapter over `client` (what the builder makes).
    pub(crate) fn new(
        client: UCloudClient,
        limits: ShareLimits,
        actions: SharingActions,
        page_size: u32,
    ) -> Self {
        Self {
            client: Arc::new(client),
            limits,
            actions: Arc::new(actions),
            page_size,
        }
    }

    /// The API client (base URL, region, project, transport).
    #[must_use]
    pub fn client(&self) -> &UCloudClient {
        &self.client
    }
    /// The sharing action names in force.
    #[must_use]
    pub fn actions(&self) -> &SharingActions {
        &self.actions
    }
    /// The project the adapter acts for (`ProjectId`), if configured; UCloud uses the
    /// account's default project otherwise.
    #[must_use]
    pub fn project_id(&self) -> Option<&str> {
        self.client.project_id()
    }
    /// The page size (`Limit`) of the listing calls.
    #[must_use]
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// One `DescribeImage` page: images of the caller's project and region (own custom
    /// images and the public ones), filtered by `image_type` (all types when `None`).
    pub async fn describe_image_page(
        &self,
        image_type: Option<&ImageType>,
        offset: u64,
        limit: u32,
    ) -> Result<DescribeImageResponse> {
        self.describe_image_page_in(&CallContext::new(), image_type, offset, limit)
            .await
    }

    /// [`describe_image_page`](Self::describe_image_page) in `cx`.
    async fn describe_image_page_in(
        &self,
        cx: &CallContext,
        image_type: Option<&ImageType>,
        offset: u64,
        limit: u32,
    ) -> Result<DescribeImageResponse> {
        let mut params: Vec<Param> = Vec::new();
        if let Some(t) = image_type {
            params.push(("ImageType".into(), t.as_str().to_owned()));
        }
        params.push(("Offset".into(), offset.to_string()));
        params.push(("Limit".into(), limit.to_string()));
        Ok(self
            .client
            .call(cx, DESCRIBE_IMAGE, params, Idempotency::Idempotent)
            .await?
            .body)
    }

    /// The `Limit` of the listing calls: the page size, within 1..=[`MAX_PAGE_SIZE`].
    fn limit(&self) -> u32 {
        self.page_size.clamp(1, MAX_PAGE_SIZE)
    }

    /// Every image `DescribeImage` lists (`Offset` / `Limit` / `TotalCount`), filtered by
    /// `image_type`, as a lazy stream over the pages.
    #[must_use]
    pub fn list_images_stream(
        &self,
        image_type: Option<ImageType>,
    ) -> BoxStream<'_, Result<Image>> {
        let limit = self.limit();
        paginate(Listing::new(UHOST, DESCRIBE_IMAGE), move |cursor| {
            let image_type = image_type.clone();
            async move {
                let offset = PageCursor::offset(cursor.as_ref())?;
                let page = self
                    .describe_image_page(image_type.as_ref(), offset, limit)
                    .await?;
                Ok(offset_page(offset, limit, page.total_count, page.image_set))
            }
        })
        .map(move |set| set.map(|s| self.own_image(&s)))
        .boxed()
    }

    /// Every image `DescribeImage` lists (all pages, `Offset` / `Limit` / `TotalCount`),
    /// filtered by `image_type`.
    pub async fn list_images(&self, image_type: Option<ImageType>) -> Result<Vec<Image>> {
        self.list_images_stream(image_type).try_collect().await
    }

    /// Copies an image into another project (`CopyCustomImage` with `TargetProjectId`, and
    /// `TargetRegion` when `region` differs from the adapter's region). Documented UCloud
    /// API; the new image is `Copying` until done ([`imageshare_core::ImageSharingExt::wait_until_available`]).
    ///
    /// **On the public cloud, prefer this over sharing** when the target project should own
    /// an independent image: it works through the published API today (the share actions
    /// do not), survives deletion of the source, can cross regions (sharing cannot) and is
    /// not capped at 50 projects. The cost: the target pays for its own copy, later
    /// changes to the source do not reach it, and UCloud requires the image-copy feature
    /// to be enabled for the account (by ticket, ucloud.md §1.2). Copying to another
    /// **account's** project is not documented. Prefer sharing where the emulator or a
    /// deployment serves the share actions and the recipients should follow one image
    /// that the sharer controls and can revoke.
    ///
    /// A malformed image id, a `project` that is not a project id (`org-...`) or a
    /// malformed region is [`Error::InvalidInput`], and nothing is sent.
    pub async fn copy_to_project(
        &self,
        id: &ImageId,
        project: &ProjectId,
        region: Option<&Region>,
        name: Option<&str>,
    ) -> Result<CopiedImage> {
        self.copy_to_project_in(&CallContext::new(), id, project, region, name)
            .await
    }

    /// [`copy_to_project`](Self::copy_to_project) in `cx`.
    async fn copy_to_project_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        project: &ProjectId,
        region: Option<&Region>,
        name: Option<&str>,
    ) -> Result<CopiedImage> {
        self.check_copy(id, project, region.into_iter())?;
        let mut params: Vec<Param> = vec![
            ("SourceImageId".into(), id.to_string()),
            ("TargetProjectId".into(), project.to_string()),
        ];
        if let Some(r) = region.filter(|r| *r != self.client.region()) {
            params.push(("TargetRegion".into(), r.to_string()));
        }
        if let Some(n) = name {
            params.push(("TargetImageName".into(), n.to_owned()));
        }
        let answer = self
            .client
            .call::<CopyCustomImageResponse>(
                cx,
                COPY_CUSTOM_IMAGE,
                params,
                Idempotency::NonIdempotent,
            )
            .await
            .map_err(|e| not_found_as(e, id))?;
        let request_id = answer.request_id;
        let answer = answer.body;
        let (image_id, task_id) = match answer.target_image_id.filter(|s| !s.is_empty()) {
            Some(t) => (t, answer.task_id),
            None => match answer.infos.into_iter().next() {
                Some(info) => (info.target_image_id, Some(info.task_id)),
                None => {
                    return Err(Error::decode(
                        UHOST,
                        COPY_CUSTOM_IMAGE,
                        "the answer has neither TargetImageId nor Infos",
                        request_id,
                    ))
                }
            },
        };
        Ok(CopiedImage {
            image_id: ImageId::new(image_id),
            task_id: task_id.filter(|t| !t.is_empty()),
        })
    }

    /// Copies an image into `project` in several regions at once (`CopyCustomImage` with
    /// `TargetRegionList.N`, documented). Returns one [`CopiedImage`] per region, in the
    /// order UCloud lists them (`Infos`). Input is checked as by
    /// [`copy_to_project`](Self::copy_to_project) before anything is sent.
    pub async fn copy_to_regions(
        &self,
        id: &ImageId,
        project: &ProjectId,
        regions: &[Region],
        name: Option<&str>,
    ) -> Result<Vec<(Region, CopiedImage)>> {
        if regions.is_empty() {
            return Err(Error::invalid_input(
                "regions",
                "the list of target regions is empty; give at least one",
            ));
        }
        self.check_copy(id, project, regions.iter())?;
        let mut params: Vec<Param> = vec![
            ("SourceImageId".into(), id.to_string()),
            ("TargetProjectId".into(), project.to_string()),
        ];
        for (i, r) in regions.iter().enumerate() {
            params.push((format!("TargetRegionList.{i}"), r.to_string()));
        }
        if let Some(n) = name {
            params.push(("TargetImageName".into(), n.to_owned()));
        }
        let answer = self
            .client
            .call::<CopyCustomImageResponse>(
                &CallContext::new(),
                COPY_CUSTOM_IMAGE,
                params,
                Idempotency::NonIdempotent,
            )
            .await
            .map_err(|e| not_found_as(e, id))?;
        if answer.body.infos.is_empty() {
            return Err(Error::decode(
                UHOST,
                COPY_CUSTOM_IMAGE,
                "a batch copy answer has no Infos",
                answer.request_id,
            ));
        }
        Ok(answer
            .body
            .infos
            .into_iter()
            .map(|i| {
                (
                    Region::new(i.target_region),
                    CopiedImage {
                        image_id: ImageId::new(i.target_image_id),
                        task_id: (!i.task_id.is_empty()).then_some(i.task_id),
                    },
                )
            })
            .collect())
    }

    /// Saves an image another project shared with the caller's project as a custom image
    /// of the caller's project, in the same region ([`SharingActions::save_shared`]; not a
    /// published UCloud action). Returns the new image.
    pub async fn save_shared_image(&self, id: &ImageId, name: Option<&str>) -> Result<ImageId> {
        self.save_shared_image_in(&CallContext::new(), id, name)
            .await
    }

    /// [`save_shared_image`](Self::save_shared_image) in `cx`.
    async fn save_shared_image_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        name: Option<&str>,
    ) -> Result<ImageId> {
        let mut params: Vec<Param> = vec![("ImageId".into(), id.to_string())];
        if let Some(n) = name {
            params.push(("ImageName".into(), n.to_owned()));
        }
        let action = self.actions.save_shared.as_str();
        let answer: SaveSharedImageResponse = self
            .client
            .call(cx, action, params, Idempotency::NonIdempotent)
            .await
            .map_err(|e| self.sharing_error(e, action, id))?
            .body;
        Ok(ImageId::new(answer.image_id))
    }

    /// One page of the images shared with the caller's project
    /// ([`SharingActions::describe_shared`]), optionally only `id`.
    pub async fn describe_shared_page(
        &self,
        id: Option<&ImageId>,
        offset: u64,
        limit: u32,
    ) -> Result<DescribeImageResponse> {
        self.describe_shared_page_in(&CallContext::new(), id, offset, limit)
            .await
    }

    /// [`describe_shared_page`](Self::describe_shared_page) in `cx`.
    async fn describe_shared_page_in(
        &self,
        cx: &CallContext,
        id: Option<&ImageId>,
        offset: u64,
        limit: u32,
    ) -> Result<DescribeImageResponse> {
        let mut params: Vec<Param> = Vec::new();
        if let Some(id) = id {
            params.push(("ImageId".into(), id.to_string()));
        }
        params.push(("Offset".into(), offset.to_string()));
        params.push(("Limit".into(), limit.to_string()));
        Ok(self
            .client
            .call(
                cx,
                &self.actions.describe_shared,
                params,
                Idempotency::Idempotent,
            )
            .await?
            .body)
    }

    /// One page of the projects `id` is shared with ([`SharingActions::describe_share`]).
    pub async fn describe_share_page(
        &self,
        id: &ImageId,
        offset: u64,
        limit: u32,
    ) -> Result<DescribeImageShareResponse> {
        self.describe_share_page_in(&CallContext::new(), id, offset, limit)
            .await
    }

    /// [`describe_share_page`](Self::describe_share_page) in `cx`.
    async fn describe_share_page_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        offset: u64,
        limit: u32,
    ) -> Result<DescribeImageShareResponse> {
        let params: Vec<Param> = vec![
            ("ImageId".into(), id.to_string()),
            ("Offset".into(), offset.to_string()),
            ("Limit".into(), limit.to_string()),
        ];
        Ok(self
            .client
            .call(
                cx,
                &self.actions.describe_share,
                params,
                Idempotency::Idempotent,
            )
            .await?
            .body)
    }

    /// An image of the caller's own `DescribeImage` listing.
    pub(crate) fn own_image(&self, set: &UHostImageSet) -> Image {
        let public = matches!(set.kind(), ImageType::Base | ImageType::Business);
        let owner = if public {
            None
        } else {
            self.project_id().map(Principal::project)
        };
        let origin = if public {
            ImageOrigin::Public
        } else {
            ImageOrigin::Custom
        };
        to_image(set, self.client.region(), owner, origin)
    }

    /// An image another project shared with the caller.
    fn received_image(&self, set: &UHostImageSet) -> Image {
        let owner = set
            .owner_project_id
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(Principal::project);
        to_image(set, self.client.region(), owner, ImageOrigin::Received)
    }

    /// Maps the errors of a sharing action: RetCode 161 (no such action: the public UCloud
    /// API) to [`Error::Unsupported`], 8956 to [`Error::NotFound`].
    fn sharing_error(&self, e: Error, action: &str, id: &ImageId) -> Error {
        match error_ret_code(&e) {
            Some(retcode::ACTION_NOT_EXISTS) => unsupported(action),
            _ => not_found_as(e, id),
        }
    }

    fn projects(&self, principals: &[Principal]) -> Result<Vec<ProjectId>> {
        Ok(self
            .limits()
            .principals_for_call(principals)?
            .into_iter()
            .filter_map(|p| match p {
                Principal::Project(id) => Some(id),
                _ => None,
            })
            .collect())
    }

    async fn share_call(
        &self,
        cx: &CallContext,
        action: &str,
        id: &ImageId,
        principals: &[Principal],
        outcome: ShareOutcome,
    ) -> Result<ShareReport> {
        let projects = self.projects(principals)?;
        let mut params: Vec<Param> = vec![("ImageId".into(), id.to_string())];
        for (i, p) in projects.iter().enumerate() {
            params.push((format!("TargetProjectIds.{i}"), p.to_string()));
        }
        let answer = self
            .client
            .call::<ShareCustomImageResponse>(cx, action, params, Idempotency::Idempotent)
            .await
            .map_err(|e| self.sharing_error(e, action, id))?;
        let mut report = ShareReport::new(id.clone());
        report.add_request_id(answer.request_id.unwrap_or_default());
        for p in projects {
            report.push(Principal::Project(p.clone()), outcome.clone());
        }
        Ok(report)
    }

    /// What a `CopyCustomImage` is given, checked before it is sent: a custom image id,
    /// a project id of the form UCloud shares to (`org-...`), well-formed regions.
    fn check_copy<'r>(
        &self,
        id: &ImageId,
        project: &ProjectId,
        regions: impl Iterator<Item = &'r Region>,
    ) -> Result<()> {
        self.limits.check_image_id(id, ImageIdUse::Custom)?;
        self.limits
            .check_principal_form(&Principal::project(project.as_str()))
            .map_err(|e| {
                Error::invalid_input(
                    "target project",
                    format!(
                        "{}; CopyCustomImage copies into a project, {}",
                        e.explanation, e.limit
                    ),
                )
            })?;
        for r in regions {
            self.limits.check_region(r, "target region")?;
        }
        Ok(())
    }

    fn own_project_for_copy(&self) -> Result<ProjectId> {
        self.project_id().map(ProjectId::new).ok_or_else(|| {
            Error::invalid_input(
                "project_id",
                "CopyCustomImage needs TargetProjectId: set the adapter's project id \
                 (builder .project_id(), UCLOUD_PROJECT_ID or project_id in \
                 ~/.ucloud/config.json) to copy within your own project",
            )
        })
    }
}

#[async_trait]
impl ImageSharing for UCloudImageSharing {
    fn provider(&self) -> Provider {
        UHOST
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

    fn images_per_call(&self) -> usize {
        crate::limits::DESCRIBE_IMAGE_MAX_IDS
    }
    fn copy_limits(&self) -> Option<&CopyLimits> {
        Some(&UHOST_COPY)
    }

    /// `DescribeImage` with `ImageType=Custom` (the project's own custom images, in every
    /// state), all pages (`Offset` / `Limit` / `TotalCount`), keeping the images named
    /// exactly `name`: DescribeImage has no name parameter (UCloud API reference
    /// DescribeImage: `ImageType`, `OsType`, `ImageId`, `ImageIds.N`, `Tag`, `Offset`,
    /// `Limit`, ...; ucloud.md 1.3), so the name is matched here.
    async fn images_named_in(&self, cx: &CallContext, name: &str) -> Result<Vec<Image>> {
        imageshare_core::lookup::named_exactly(UHOST, name, "name", || async {
            let limit = self.limit();
            let custom = ImageType::Custom;
            let found: Vec<UHostImageSet> =
                paginate(Listing::new(UHOST, DESCRIBE_IMAGE), |cursor| {
                    let custom = &custom;
                    async move {
                        let offset = PageCursor::offset(cursor.as_ref())?;
                        let page = self
                            .describe_image_page_in(cx, Some(custom), offset, limit)
                            .await?;
                        Ok(offset_page(offset, limit, page.total_count, page.image_set))
                    }
                })
                .try_collect()
                .await?;
            Ok(found.iter().map(|s| self.own_image(s)).collect())
        })
        .await
    }

    /// `DescribeImage` with `ImageIds.N`, then `image_in` for the ids not listed
    /// ([`crate::lookup`]).
    async fn images_in(&self, cx: &CallContext, ids: &[ImageId]) -> Result<Vec<Result<Image>>> {
        crate::lookup::images_in(self, cx, ids).await
    }

    /// `DescribeImage` with `ImageId`. An image not listed there is looked up among the
    /// images shared with the caller ([`SharingActions::describe_shared`]); an empty answer
    /// from both (or RetCode 8956, or 161 from the sharing action on the public cloud) is
    /// [`Error::NotFound`].
    async fn image_in(&self, cx: &CallContext, id: &ImageId) -> Result<Image> {
        let params: Vec<Param> = vec![("ImageId".into(), id.to_string())];
        let own: DescribeImageResponse = self
            .client
            .call(cx, DESCRIBE_IMAGE, params, Idempotency::Idempotent)
            .await
            .map_err(|e| not_found_as(e, id))?
            .body;
        if let Some(set) = own.image_set.iter().find(|s| s.image_id == id.as_str()) {
            return Ok(self.own_image(set));
        }
        match self.describe_shared_page_in(cx, Some(id), 0, 1).await {
            Ok(shared) => shared
                .image_set
                .iter()
                .find(|s| s.image_id == id.as_str())
                .map(|s| self.received_image(s))
                .ok_or_else(|| not_found(id)),
            Err(e) => match error_ret_code(&e) {
                Some(retcode::ACTION_NOT_EXISTS) | Some(retcode::IMAGE_NOT_FOUND) => {
                    Err(not_found(id))
                }
                _ => Err(e),
            },
        }
    }

    /// [`SharingActions::share`] with `TargetProjectIds.N`; every project of the call is
    /// reported `Granted` (already-shared projects too: the server treats a repeated share
    /// as a no-op; [`imageshare_core::Checked`] reports them as already granted without
    /// sending them).
    async fn share_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        to: &[Principal],
    ) -> Result<ShareReport> {
        let action = self.actions.share.clone();
        self.share_call(cx, &action, id, to, ShareOutcome::Granted)
            .await
    }

    /// [`SharingActions::cancel_share`] with `TargetProjectIds.N`; every project of the
    /// call is reported `Revoked`. Only the sharer can cancel.
    async fn unshare_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        from: &[Principal],
    ) -> Result<ShareReport> {
        let action = self.actions.cancel_share.clone();
        self.share_call(cx, &action, id, from, ShareOutcome::Revoked)
            .await
    }

    /// One page of [`SharingActions::describe_share`] (`Offset` / `Limit` / `TotalCount`).
    async fn sharees_page_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Sharee>> {
        let offset = PageCursor::offset(cursor.as_ref())?;
        let limit = self.limit();
        let page = self
            .describe_share_page_in(cx, id, offset, limit)
            .await
            .map_err(|e| self.sharing_error(e, &self.actions.describe_share, id))?;
        Ok(
            offset_page(offset, limit, page.total_count, page.project_set).map(|s| {
                Sharee::new(Principal::project(s.project_id))
                    .with_shared_at(reported_time(s.create_time))
            }),
        )
    }

    /// One page of [`SharingActions::describe_shared`]: images other projects share with
    /// the caller's project, in this region.
    async fn shared_with_me_page_in(
        &self,
        cx: &CallContext,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Image>> {
        let offset = PageCursor::offset(cursor.as_ref())?;
        let limit = self.limit();
        let page = self
            .describe_shared_page_in(cx, None, offset, limit)
            .await
            .map_err(|e| match error_ret_code(&e) {
                Some(retcode::ACTION_NOT_EXISTS) => unsupported(&self.actions.describe_shared),
                _ => e,
            })?;
        Ok(offset_page(offset, limit, page.total_count, page.image_set)
            .map(|s| self.received_image(&s)))
    }

    /// * `OwnCopy`: a received image is saved with [`SharingActions::save_shared`]; an own
    ///   image is copied with `CopyCustomImage` into the adapter's own project (UCloud
    ///   answers 8962 when that is also the image's project and region: there is nothing
    ///   to copy).
    /// * `Region`: `CopyCustomImage` into the adapter's own project with `TargetRegion`.
    /// * `Project`: [`UCloudImageSharing::copy_to_project`].
    async fn copy_in(&self, cx: &CallContext, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
        match to {
            CopyTarget::OwnCopy { name } => {
                let image = self.image_in(cx, id).await?;
                if image.origin == ImageOrigin::Received {
                    return self.save_shared_image_in(cx, id, name.as_deref()).await;
                }
                let project = self.own_project_for_copy()?;
                Ok(self
                    .copy_to_project_in(cx, id, &project, None, name.as_deref())
                    .await?
                    .image_id)
            }
            CopyTarget::Region { region, name } => {
                let project = self.own_project_for_copy()?;
                Ok(self
                    .copy_to_project_in(cx, id, &project, Some(&region), name.as_deref())
                    .await?
                    .image_id)
            }
            CopyTarget::Project {
                project,
                region,
                name,
            } => Ok(self
                .copy_to_project_in(cx, id, &project, region.as_ref(), name.as_deref())
                .await?
                .image_id),
            // A kind of target this adapter was not written for.
            other => Err(Error::unsupported(
                self.provider(),
                format!("copy to {other:?}"),
                "this adapter does not know this kind of copy target",
            )),
        }
    }

    /// `TerminateCustomImage`. Deleting a shared image is allowed on UCloud; the share
    /// disappears for its recipients. The call is retried on throttling and gateway errors;
    /// if an attempt's answer is lost after the image was deleted, the next attempt finds
    /// it gone and the result is [`Error::NotFound`].
    async fn whoami_in(&self, cx: &CallContext) -> Result<imageshare_core::CallerIdentity> {
        crate::whoami::whoami(&self.client, cx).await
    }

    async fn delete_in(&self, cx: &CallContext, id: &ImageId) -> Result<()> {
        let params: Vec<Param> = vec![("ImageId".into(), id.to_string())];
        let _: TerminateCustomImageResponse = self
            .client
            .call(cx, TERMINATE_CUSTOM_IMAGE, params, Idempotency::Idempotent)
            .await
            .map_err(|e| not_found_as(e, id))?
            .body;
        Ok(())
    }
}

/// Converts a `UHostImageSet` into the common model.
///
/// * kind: `FuncType` `app` (ULHost) is [`ImageKind::LightweightHost`]; an image with
///   data-disk snapshots (`DataSnapshotIds`) is [`ImageKind::WholeMachine`]; any other
///   is [`ImageKind::SystemDisk`];
/// * state: `Available` -> available, `Making` / `Copying` -> pending, `Unavailable` ->
///   unavailable, anything else verbatim;
/// * encryption: UCloud does not report it ([`Encryption::NotReported`]).
#[must_use]
pub fn to_image(
    set: &UHostImageSet,
    region: &Region,
    owner: Option<Principal>,
    origin: ImageOrigin,
) -> Image {
    let kind = if set.is_lightweight() {
        ImageKind::LightweightHost
    } else if !set.data_snapshot_ids.is_empty() {
        ImageKind::WholeMachine
    } else {
        ImageKind::SystemDisk
    };
    let state = match set.state.as_str() {
        state::AVAILABLE => ImageState::Available,
        state::MAKING | state::COPYING => ImageState::Pending,
        state::UNAVAILABLE => ImageState::Unavailable,
        other => ImageState::Other(other.to_owned()),
    };
    Image::new(ImageId::new(set.image_id.clone()), region.clone())
        .with_name(set.image_name.clone())
        .with_owner(owner)
        .with_state(state)
        .with_origin(origin)
        .with_encryption(Encryption::NotReported)
        .with_kind(kind)
        .with_created_at(reported_time(set.create_time))
}

/// A `CreateTime` (Unix seconds; 0 when absent or unreadable, see
/// [`crate::model::lenient_unix_time`]).
fn reported_time(unix: u64) -> Option<Timestamp> {
    Timestamp::from_reported_unix("CreateTime", unix)
}

/// The page at `offset` of a listing asked for with `limit`, holding `items` of `total`
/// (`TotalCount`). The next page starts after the items received, so a server that caps
/// `Limit` below the page size is still read to the end; without a `TotalCount` (0) a
/// short page is the last.
fn offset_page<T>(offset: u64, limit: u32, total: u64, items: Vec<T>) -> Page<T> {
    let next = PageCursor::after_offset(
        offset,
        items.len(),
        u64::from(limit),
        (total > 0).then_some(total),
    );
    Page::new(items, next)
}

fn not_found(id: &ImageId) -> Error {
    Error::not_found(UHOST, "image", id.to_string())
}

/// RetCode 8956 ("resource does not exist or is not a custom image") as [`Error::NotFound`].
fn not_found_as(e: Error, id: &ImageId) -> Error {
    match error_ret_code(&e) {
        Some(retcode::IMAGE_NOT_FOUND) if matches!(e, Error::Api(_)) => not_found(id),
        _ => e,
    }
}

fn unsupported(action: &str) -> Error {
    Error::unsupported(
        UHOST,
        action,
        format!(
            "the endpoint answered RetCode 161 (no such action): UCloud publishes no API \
             action for project image sharing, which is a console feature. {action} is \
             imageshare's name for it, served by the imageshare emulator; rename it with the \
             builder if your endpoint serves it under another name. On the public cloud use \
             copy_to_project (CopyCustomImage with TargetProjectId)."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::UCloudCredentials;
    use imageshare_core::credentials::StaticEnv;
    use imageshare_core::transport::RetryConfig;
    use imageshare_core::{ClientBuilder, ImageSharingExt};
    use std::fmt;

    #[test]
    fn offset_pages_follow_total_count_and_short_pages() {
        // Server caps Limit at 3 although we ask for 5: TotalCount keeps us going.
        let p = offset_page(0, 5, 7, vec![0u8; 3]);
        assert_eq!(p.next, Some(PageCursor::Offset(3)));
        assert_eq!(offset_page(6, 5, 7, vec![0u8; 1]).next, None);
        // No TotalCount: a full page goes on, a short page ends it.
        assert_eq!(
            offset_page(0, 2, 0, vec![0u8; 2]).next,
            Some(PageCursor::Offset(2))
        );
        assert_eq!(offset_page(6, 2, 0, vec![0u8; 1]).next, None);
        assert_eq!(offset_page(0, 2, 9, Vec::<u8>::new()).next, None);
    }

    #[test]
    fn to_image_maps_kind_state_and_time() {
        let set = UHostImageSet {
            image_id: "uimage-a".into(),
            func_type: "app".into(),
            state: "Copying".into(),
            create_time: 1_700_000_000,
            ..Default::default()
        };
        let img = to_image(&set, &"cn-bj2".into(), None, ImageOrigin::Custom);
        assert_eq!(img.kind, ImageKind::LightweightHost);
        assert_eq!(img.state, ImageState::Pending);
        assert_eq!(
            img.created_at.map(|t| t.to_string()).as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        let whole = UHostImageSet {
            data_snapshot_ids: vec!["snap-1".into()],
            state: "Broken".into(),
            ..Default::default()
        };
        let img = to_image(&whole, &"cn-bj2".into(), None, ImageOrigin::Custom);
        assert_eq!(img.kind, ImageKind::WholeMachine);
        assert_eq!(img.state, ImageState::Other("Broken".into()));
        assert_eq!(img.created_at, None);
    }

    /// An adapter whose endpoint nothing listens on: any request would fail with
    /// `Error::Transport`, so an `InvalidInput` answer means nothing was sent.
    fn unreachable() -> UCloudImageSharing {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        UCloudImageSharing::builder()
            .credentials(UCloudCredentials::new("pub", "priv"))
            .region("cn-bj2")
            .project_id("org-own001")
            .base_url(url)
            .env(StaticEnv::new())
            .retry(RetryConfig {
                max_attempts: 1,
                ..RetryConfig::default()
            })
            .build()
            .unwrap()
    }

    fn invalid(r: Result<impl fmt::Debug>, field: &str, says: &str) {
        match r {
            Err(Error::InvalidInput {
                field: f, message, ..
            }) => {
                assert_eq!(f, field, "{message}");
                assert!(message.contains(says), "{message}");
            }
            other => panic!("expected InvalidInput for {field}: {other:?}"),
        }
    }

    #[tokio::test]
    async fn copies_to_a_non_project_or_a_bad_region_are_refused_before_sending() {
        let a = unreachable();
        let id = ImageId::from("uimage-golden01");
        let account = ProjectId::from("100000000002");
        let to_account = CopyTarget::Project {
            project: account.clone(),
            region: None,
            name: None,
        };
        invalid(
            a.copy(&id, to_account).await,
            "target project",
            "\"100000000002\" is not a ucloud project id",
        );
        invalid(
            a.copy_to_regions(&id, &account, &["cn-sh2".into()], None)
                .await,
            "target project",
            "not a ucloud project id",
        );
        let project = ProjectId::from("org-d4e5f6");
        invalid(
            a.copy_to_project(&id, &project, Some(&"cn-sh2&x=1".into()), None)
                .await,
            "target region",
            "'&' is not allowed",
        );
        let to_region = CopyTarget::Region {
            region: "".into(),
            name: None,
        };
        invalid(a.copy(&id, to_region).await, "target region", "it is empty");
        invalid(
            a.copy_to_project(&"m-bp18ygjuqnwhechc".into(), &project, None, None)
                .await,
            "image id",
            "ucloud custom image ids have the form uimage-",
        );
        // The check lets a good request through to the (unreachable) endpoint.
        let e = a
            .copy_to_project(&id, &project, Some(&"cn-sh2".into()), None)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    }
}
