//! [`TencentLighthouseImageSharing`]: blueprint (custom image) sharing on Tencent Cloud
//! Lighthouse (API 2020-03-24), and the CVM -> Lighthouse move.
//!
//! | trait call | Lighthouse action |
//! |---|---|
//! | `image` | `DescribeBlueprints` with `BlueprintIds` |
//! | `share` / `unshare` | `ShareBlueprintAcrossAccounts` / `CancelShareBlueprintAcrossAccounts` (at most 10 accounts per call) |
//! | `sharees_page` | `DescribeBlueprintsShareAcrossAccountInfos`, `Offset` / `Limit` 100; the China-site spec has it, and where a site does not (`InvalidAction`) the answer is [`Error::Unsupported`] |
//! | `shared_with_me_page` | `DescribeBlueprints`, filter `blueprint-type` = `SHARED`, `Offset` / `Limit` 100 |
//! | `copy` | `SyncBlueprint` (other regions only) |
//! | `delete` | `DeleteBlueprints` |
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

use async_trait::async_trait;
use imageshare_core::paging::{paginate, Listing, TryStreamExt};
use imageshare_core::{
    CopyTarget, Encryption, Error, Image, ImageId, ImageKind, ImageOrigin, ImageSharing,
    ImageState, Page, PageCursor, Principal, Provider, Region, Result, ShareLimits, ShareReport,
    Sharee,
};

use crate::client::{CallOptions, Config, TencentClient, LIGHTHOUSE_SERVICE};
use crate::common::{account_ids, apply, check_id, common_setters, offset_page, PAGE_SIZE};
use crate::limits::LIGHTHOUSE_LIMITS;
use crate::model::{
    Blueprint, BlueprintAccountsRequest, DeleteBlueprintsRequest, DescribeBlueprintsRequest,
    DescribeBlueprintsResponse, DescribeBlueprintsShareAcrossAccountInfosRequest,
    DescribeBlueprintsShareAcrossAccountInfosResponse, DescribeImagesToShareRequest,
    DescribeImagesToShareResponse, DestinationRegionBlueprint, Empty, Filter,
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

/// Builds a [`TencentLighthouseImageSharing`]. Credentials: explicit, else the chain
/// (`TENCENTCLOUD_*` variables, then `~/.tencentcloud/credentials`).
#[derive(Debug, Clone, Default)]
pub struct LighthouseBuilder {
    config: Config,
}

impl LighthouseBuilder {
    common_setters!();

    /// Builds the adapter. Fails on a missing region or credentials or a bad endpoint.
    pub fn build(self) -> Result<TencentLighthouseImageSharing> {
        Ok(TencentLighthouseImageSharing {
            client: self.config.build(LIGHTHOUSE_SERVICE)?,
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
#[derive(Debug, Clone)]
pub struct TencentLighthouseImageSharing {
    client: TencentClient,
    limits: ShareLimits,
}

impl TencentLighthouseImageSharing {
    /// A builder with nothing set.
    pub fn builder() -> LighthouseBuilder {
        LighthouseBuilder::default()
    }

    /// A builder with credentials (and `TENCENTCLOUD_REGION`, if set) resolved now from the
    /// environment and the profile file.
    pub fn from_env() -> Result<LighthouseBuilder> {
        Ok(LighthouseBuilder {
            config: Config::default().resolve_env(Provider::TencentLighthouse)?,
        })
    }

    /// The underlying signed-JSON client.
    pub fn client(&self) -> &TencentClient {
        &self.client
    }

    /// One page of `DescribeBlueprints`.
    pub async fn describe_blueprints(
        &self,
        request: &DescribeBlueprintsRequest,
    ) -> Result<DescribeBlueprintsResponse> {
        if request.blueprint_ids.is_some() && request.filters.is_some() {
            return Err(Error::invalid_input(
                "DescribeBlueprints",
                "BlueprintIds and Filters cannot be combined",
            ));
        }
        self.client
            .call(
                "DescribeBlueprints",
                request,
                CallOptions {
                    idempotent: true,
                    subject: None,
                },
            )
            .await
    }

    /// `SyncBlueprint`: copies a blueprint into other regions (at most 10; not its own; not
    /// across the mainland-China border). Returns the new blueprint per region.
    pub async fn sync_blueprint(
        &self,
        id: &ImageId,
        regions: &[Region],
    ) -> Result<Vec<DestinationRegionBlueprint>> {
        check_id(id, "blueprint")?;
        if regions.is_empty() || regions.len() > 10 {
            return Err(Error::invalid_input(
                "regions",
                format!(
                    "SyncBlueprint takes 1 to 10 destination regions, got {}",
                    regions.len()
                ),
            ));
        }
        let resp: SyncBlueprintResponse = self
            .client
            .call(
                "SyncBlueprint",
                &SyncBlueprintRequest {
                    blueprint_id: id.to_string(),
                    destination_regions: regions.iter().map(|r| r.to_string()).collect(),
                },
                CallOptions {
                    idempotent: false,
                    subject: Some(id.as_str()),
                },
            )
            .await?;
        Ok(resp.destination_region_blueprint_set)
    }

    /// `DescribeImagesToShare`: the caller's CVM images in this region and whether each can
    /// be shared to Lighthouse. With `ids` empty, every image (all pages); otherwise those
    /// images (unknown ids are simply absent).
    pub async fn images_to_share(&self, ids: &[ImageId]) -> Result<Vec<ShareableCvmImage>> {
        let mut out = Vec::new();
        if ids.is_empty() {
            return paginate(
                Listing::new(Provider::TencentLighthouse, "DescribeImagesToShare"),
                |cursor| async move {
                    let offset = PageCursor::offset(cursor.as_ref())?;
                    let page = self
                        .describe_images_to_share(&DescribeImagesToShareRequest {
                            offset: Some(offset),
                            limit: Some(PAGE_SIZE),
                            ..Default::default()
                        })
                        .await?;
                    Ok(offset_page(offset, page.total_count, page.image_set))
                },
            )
            .try_collect()
            .await;
        }
        for chunk in ids.chunks(PAGE_SIZE as usize) {
            for id in chunk {
                check_id(id, "image")?;
            }
            let page = self
                .describe_images_to_share(&DescribeImagesToShareRequest {
                    image_ids: Some(chunk.iter().map(|i| i.to_string()).collect()),
                    limit: Some(PAGE_SIZE),
                    ..Default::default()
                })
                .await?;
            out.extend(page.image_set);
        }
        Ok(out)
    }

    async fn describe_images_to_share(
        &self,
        request: &DescribeImagesToShareRequest,
    ) -> Result<DescribeImagesToShareResponse> {
        self.client
            .call(
                "DescribeImagesToShare",
                request,
                CallOptions {
                    idempotent: true,
                    subject: None,
                },
            )
            .await
    }

    /// Whether the CVM image `id` can be shared to Lighthouse, and why not.
    pub async fn eligibility(&self, id: &ImageId) -> Result<Eligibility> {
        let found = self.images_to_share(std::slice::from_ref(id)).await?;
        let img = found
            .into_iter()
            .find(|i| i.image_id == id.as_str())
            .ok_or_else(|| Error::NotFound {
                provider: Provider::TencentLighthouse,
                what: "image",
                id: id.to_string(),
            })?;
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
        check_id(id, "image")?;
        let e = self.eligibility(id).await?;
        if !e.shareable {
            return Err(Error::Unsupported {
                provider: Provider::TencentLighthouse,
                operation: format!("share CVM image {id} to Lighthouse"),
                reason: format!(
                    "DescribeImagesToShare says the image is not shareable: UnshareableReason \
                     {:?}",
                    e.reason
                ),
            });
        }
        let resp: LighthouseImageSharePermissionResponse = self
            .client
            .call(
                "ModifyImageSharePermission",
                &LighthouseImageSharePermissionRequest {
                    image_id: id.to_string(),
                    permission: "SHARE".to_owned(),
                },
                CallOptions {
                    idempotent: false,
                    subject: Some(id.as_str()),
                },
            )
            .await?;
        resp.blueprint_id
            .filter(|b| !b.is_empty())
            .map(ImageId::new)
            .ok_or_else(|| Error::Decode {
                provider: Provider::TencentLighthouse,
                action: "ModifyImageSharePermission".to_owned(),
                message: "SHARE answered without a BlueprintId".to_owned(),
                request_id: None,
            })
    }

    /// Undoes [`share_from_cvm`](Self::share_from_cvm): Lighthouse
    /// `ModifyImageSharePermission` with `CANCEL` (the official example's `CANEL` is a typo).
    pub async fn cancel_share_from_cvm(&self, id: &ImageId) -> Result<()> {
        check_id(id, "image")?;
        let _: LighthouseImageSharePermissionResponse = self
            .client
            .call(
                "ModifyImageSharePermission",
                &LighthouseImageSharePermissionRequest {
                    image_id: id.to_string(),
                    permission: "CANCEL".to_owned(),
                },
                CallOptions {
                    idempotent: false,
                    subject: Some(id.as_str()),
                },
            )
            .await?;
        Ok(())
    }

    /// Lighthouse -> CVM. No public API exists (tencent.md §2.7), so this always returns
    /// [`Error::Unsupported`] explaining what to do instead; nothing is sent.
    pub async fn share_to_cvm(&self, blueprint: &ImageId) -> Result<ImageId> {
        Err(Error::Unsupported {
            provider: Provider::TencentLighthouse,
            operation: format!("share Lighthouse blueprint {blueprint} to CVM"),
            reason: NO_LIGHTHOUSE_TO_CVM.to_owned(),
        })
    }

    /// One share or cancel call; returns its request id.
    async fn modify(
        &self,
        action: &str,
        id: &ImageId,
        accounts: Vec<String>,
    ) -> Result<Option<String>> {
        let answer: Empty = self
            .client
            .call(
                action,
                &BlueprintAccountsRequest {
                    blueprint_id: id.to_string(),
                    account_ids: accounts,
                },
                CallOptions {
                    idempotent: true,
                    subject: Some(id.as_str()),
                },
            )
            .await?;
        Ok(answer.request_id)
    }

    async fn sharee_ids(&self, id: &ImageId) -> Result<Vec<String>> {
        Ok(self
            .sharees(id)
            .await?
            .into_iter()
            .map(|s| s.principal.id().to_owned())
            .collect())
    }
}

/// Maps a Lighthouse `Blueprint` (see the module docs for the rules).
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
    Image {
        id: ImageId::new(b.blueprint_id),
        name: b.blueprint_name.unwrap_or_default(),
        owner: None,
        owner_site: None,
        region: region.clone(),
        state,
        origin,
        encryption: Encryption::NotReported,
        kind: ImageKind::LightweightHost,
        created_at: b.created_time,
    }
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
        Provider::TencentLighthouse
    }

    fn region(&self) -> &Region {
        self.client.region()
    }

    fn limits(&self) -> &ShareLimits {
        &self.limits
    }

    async fn image(&self, id: &ImageId) -> Result<Image> {
        check_id(id, "blueprint")?;
        let resp = self
            .describe_blueprints(&DescribeBlueprintsRequest {
                blueprint_ids: Some(vec![id.to_string()]),
                ..Default::default()
            })
            .await?;
        resp.blueprint_set
            .into_iter()
            .find(|b| b.blueprint_id == id.as_str())
            .map(|b| image_from_blueprint(b, self.region()))
            .ok_or_else(|| Error::NotFound {
                provider: Provider::TencentLighthouse,
                what: "blueprint",
                id: id.to_string(),
            })
    }

    async fn share(&self, id: &ImageId, to: &[Principal]) -> Result<ShareReport> {
        check_id(id, "blueprint")?;
        let accounts = account_ids(self.limits(), to)?;
        apply(
            id,
            accounts,
            true,
            Some(BLUEPRINT_ALREADY_SHARED),
            |batch| self.modify("ShareBlueprintAcrossAccounts", id, batch),
            || self.sharee_ids(id),
        )
        .await
    }

    async fn unshare(&self, id: &ImageId, from: &[Principal]) -> Result<ShareReport> {
        check_id(id, "blueprint")?;
        let accounts = account_ids(self.limits(), from)?;
        apply(
            id,
            accounts,
            false,
            Some(BLUEPRINT_HAS_NOT_SHARED),
            |batch| self.modify("CancelShareBlueprintAcrossAccounts", id, batch),
            || self.sharee_ids(id),
        )
        .await
    }

    async fn sharees_page(&self, id: &ImageId, cursor: Option<PageCursor>) -> Result<Page<Sharee>> {
        check_id(id, "blueprint")?;
        let offset = PageCursor::offset(cursor.as_ref())?;
        let page: DescribeBlueprintsShareAcrossAccountInfosResponse = self
            .client
            .call(
                "DescribeBlueprintsShareAcrossAccountInfos",
                &DescribeBlueprintsShareAcrossAccountInfosRequest {
                    blueprint_ids: vec![id.to_string()],
                    offset,
                    limit: PAGE_SIZE,
                },
                CallOptions {
                    idempotent: true,
                    subject: Some(id.as_str()),
                },
            )
            .await
            .map_err(|e| {
                if is_missing_action(&e) {
                    Error::Unsupported {
                        provider: Provider::TencentLighthouse,
                        operation: "list the accounts a blueprint is shared with".to_owned(),
                        reason: format!(
                        "this endpoint does not offer DescribeBlueprintsShareAcrossAccountInfos \
                         (only the China-site API has it): {e}"
                    ),
                    }
                } else {
                    e
                }
            })?;
        let infos = page.blueprint_share_across_account_info_set;
        if offset == 0 && infos.is_empty() {
            // The action answers an unknown blueprint with an empty list: tell the two apart.
            self.image(id).await?;
        }
        // The next offset counts every row of the answer, kept or not.
        let next = PageCursor::after_offset(offset, infos.len(), PAGE_SIZE, Some(page.total_count));
        let sharees = infos
            .into_iter()
            .filter(|i| i.blueprint_id == id.as_str())
            .map(|i| Sharee {
                principal: Principal::account(i.account_id),
                shared_at: i.created_time,
            })
            .collect();
        Ok(Page::new(sharees, next))
    }

    /// One page of the shared blueprints; a blueprint listed again on a later page is
    /// yielded once by the core paging loop.
    async fn shared_with_me_page(&self, cursor: Option<PageCursor>) -> Result<Page<Image>> {
        let offset = PageCursor::offset(cursor.as_ref())?;
        let page = self
            .describe_blueprints(&DescribeBlueprintsRequest {
                offset: Some(offset),
                limit: Some(PAGE_SIZE),
                filters: Some(vec![Filter::one("blueprint-type", "SHARED")]),
                ..Default::default()
            })
            .await?;
        Ok(offset_page(offset, page.total_count, page.blueprint_set)
            .map(|b| image_from_blueprint(b, self.region())))
    }

    async fn copy(&self, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
        let region = match to {
            CopyTarget::Region { region, name: None } => region,
            CopyTarget::Region { name: Some(_), .. } => {
                return Err(Error::invalid_input(
                    "name",
                    "SyncBlueprint keeps the blueprint's name; it takes no name for the copy",
                ))
            }
            CopyTarget::OwnCopy { .. } => {
                return Err(Error::Unsupported {
                    provider: Provider::TencentLighthouse,
                    operation: "copy a blueprint within its region".to_owned(),
                    reason: "Lighthouse's SyncBlueprint copies to other regions only; there is \
                             no API that makes an own copy of a blueprint in the same region"
                        .to_owned(),
                })
            }
            CopyTarget::Project { .. } => {
                return Err(Error::Unsupported {
                    provider: Provider::TencentLighthouse,
                    operation: "copy to a project".to_owned(),
                    reason: "Lighthouse blueprints belong to an account, not a project".to_owned(),
                })
            }
        };
        let set = self
            .sync_blueprint(id, std::slice::from_ref(&region))
            .await?;
        set.iter()
            .find(|s| s.region == region.as_str())
            .or(set.first())
            .map(|s| ImageId::new(s.blueprint_id.clone()))
            .ok_or_else(|| Error::Decode {
                provider: Provider::TencentLighthouse,
                action: "SyncBlueprint".to_owned(),
                message: "the answer lists no new blueprint".to_owned(),
                request_id: None,
            })
    }

    async fn delete(&self, id: &ImageId) -> Result<()> {
        check_id(id, "blueprint")?;
        let _: Empty = self
            .client
            .call(
                "DeleteBlueprints",
                &DeleteBlueprintsRequest {
                    blueprint_ids: vec![id.to_string()],
                },
                CallOptions {
                    idempotent: false,
                    subject: Some(id.as_str()),
                },
            )
            .await?;
        Ok(())
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
