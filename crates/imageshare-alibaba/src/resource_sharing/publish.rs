//! Community images: publish / unpublish an ECS custom image
//! (`ModifyImageSharePermission` with `IsPublic=true` / `false`).
//!
//! | call | ECS action |
//! |---|---|
//! | [`EcsImageSharing::publish`] | `DescribeImages` (the checks below), then `ModifyImageSharePermission` `RegionId`, `ImageId`, `IsPublic=true` |
//! | [`EcsImageSharing::unpublish`] | `ModifyImageSharePermission` `RegionId`, `ImageId`, `IsPublic=false` |
//!
//! A community image is usable by **every Alibaba Cloud account in its region**, so
//! `publish` takes a typed confirmation ([`Publish`]) and refuses, before sending, what
//! the cloud refuses, read from `DescribeImages`:
//! - an encrypted image (`DiskDeviceMappings.DiskDeviceMapping[].Encrypted`): "Encrypted
//!   images cannot be published as community images" (ECS user guide "Publish a
//!   community image", alibabacloud.com/help/en/elastic-compute-service/latest/publish-a-community-image;
//!   `IsPublic` in alibabacloud-go ecs-20140526 `modify_image_share_permission_request_model.go`);
//! - an image that is not the caller's own custom image (`ImageOwnerAlias` not `self`):
//!   public, marketplace and received images;
//! - an image built from a marketplace image (`ProductCode` not empty): ECS does not let
//!   such images be shared at all (ECS_LIMITS `share_marketplace_derived`), and
//!   publishing is the widest share (issue #15; no API text on publishing them was
//!   found: UNCONFIRMED, refused on the safe side);
//! - an image that is not `Available` ("You can publish custom images that are in the
//!   Available state", same guide).
//!
//! Other conditions are the server's to judge: the community-image terms must be signed
//! (`PublicImageAgreement.NotSigned`, alibaba.md 2.2). After unpublishing, direct shares
//! stay (field-2026-12.md 5).

use imageshare_core::limits::ImageIdUse;
use imageshare_core::{
    CallContext, Error, ImageId, ImageOrigin, ImageSharing, ImageState, LimitRule, LimitViolation,
    Result,
};

use crate::client::CallSpec;
use crate::model::Empty;
use crate::{EcsImageSharing, ECS};

/// The confirmation [`EcsImageSharing::publish`] requires: publishing makes the image
/// usable by every account in its region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish {
    /// Must be `true`: the caller understands that every Alibaba Cloud account in the
    /// image's region can then create instances from it.
    pub i_understand_everyone_in_the_region_can_use_it: bool,
}

impl Publish {
    /// The confirmation, given.
    pub const CONFIRMED: Publish = Publish {
        i_understand_everyone_in_the_region_can_use_it: true,
    };
}

fn refuse(rule: LimitRule, limit: &str, value: String, explanation: &str) -> Error {
    Error::Limit(LimitViolation::new(ECS, rule, limit, value, explanation))
}

impl EcsImageSharing {
    /// Publishes `id` as a community image, after checking what the cloud would refuse
    /// (an encrypted, marketplace-derived, not own or not available image is refused before
    /// sending, read from `DescribeImages`); nothing is sent without `confirm`. Returns the
    /// request id.
    pub async fn publish(&self, id: &ImageId, confirm: Publish) -> Result<String> {
        let cx = CallContext::new();
        if !confirm.i_understand_everyone_in_the_region_can_use_it {
            return Err(Error::invalid_input(
                "confirmation",
                "publishing a community image makes it usable by every Alibaba Cloud account \
                 in its region; pass Publish::CONFIRMED (CLI: --everyone-in-the-region) to go on",
            ));
        }
        self.limits().check_image_id(id, ImageIdUse::Custom)?;
        let image = self.image_in(&cx, id).await?;
        match image.origin {
            ImageOrigin::Custom => {}
            ImageOrigin::MarketplaceDerived => {
                return Err(refuse(
                    LimitRule::MarketplaceDerived,
                    "no images built from marketplace images",
                    format!("{id} is built from a marketplace image (it has a ProductCode)"),
                    "ECS does not share images built from marketplace images, and a \
                     community image is shared with everyone",
                ))
            }
            ImageOrigin::Public => {
                return Err(refuse(
                    LimitRule::PublicImage,
                    "own custom images only",
                    format!("{id} is a public or community image"),
                    "only your own custom images can be published",
                ))
            }
            ImageOrigin::Received => {
                return Err(refuse(
                    LimitRule::ReceivedImage,
                    "own custom images only",
                    format!("{id} was shared with this account by another"),
                    "only your own custom images can be published",
                ))
            }
            // An origin this adapter was not written for: not known to be an own image.
            other => {
                return Err(refuse(
                    LimitRule::PublicImage,
                    "own custom images only",
                    format!("{id} is a {other} image"),
                    "only your own custom images can be published",
                ))
            }
        }
        if image.encryption.is_encrypted() {
            return Err(refuse(
                LimitRule::EncryptedImage,
                "unencrypted images only",
                format!("{id} is encrypted"),
                "encrypted images cannot be published as community images",
            ));
        }
        if image.state != ImageState::Available {
            return Err(refuse(
                LimitRule::ImageState,
                "available",
                format!("{id} is {}", image.state),
                "only an available image can be published",
            ));
        }
        self.set_public(&cx, id, true).await
    }

    /// Unpublishes the community image `id` (`IsPublic=false`); direct shares stay.
    /// Returns the request id.
    pub async fn unpublish(&self, id: &ImageId) -> Result<String> {
        self.limits().check_image_id(id, ImageIdUse::Custom)?;
        self.set_public(&CallContext::new(), id, false).await
    }

    async fn set_public(&self, cx: &CallContext, id: &ImageId, public: bool) -> Result<String> {
        let p = vec![
            ("RegionId".to_owned(), self.client().region().to_string()),
            ("ImageId".to_owned(), id.to_string()),
            ("IsPublic".to_owned(), public.to_string()),
        ];
        let resp: Empty = self
            .client()
            .call(
                cx,
                "ModifyImageSharePermission",
                p,
                CallSpec {
                    idempotent: true,
                    image: Some(id.as_str()),
                },
            )
            .await?;
        Ok(resp.request_id)
    }
}
