//! Alibaba ECS **community images** in the engine: an owner publishes one of its custom
//! images (`ModifyImageSharePermission` `IsPublic=true`) and every account of its region
//! can then see and use it ([`Relation::Community`](super::Relation::Community)); unpublishing (`IsPublic=false`)
//! ends that, and the image's direct shares stay.
//!
//! Rules, from the ECS API reference of `ModifyImageSharePermission`
//! (<https://www.alibabacloud.com/help/en/ecs/developer-reference/api-modifyimagesharepermission>,
//! and its current Chinese page
//! <https://help.aliyun.com/en/ecs/developer-reference/api-ecs-2014-05-26-modifyimagesharepermission>)
//! and the user guide "Publish a community image"
//! (<https://www.alibabacloud.com/help/en/elastic-compute-service/latest/publish-a-community-image>):
//! - only the owner's own custom images ("You can share only your own custom images");
//! - "Encrypted images cannot be published as community images";
//! - "You can publish custom images that are in the Available state";
//! - "Community images cannot be shared, exported, or copied" ([`Engine::share`] and
//!   [`Engine::copy`] refuse them; export is not modelled);
//! - "After a community image is unpublished, it is no longer available to other Alibaba
//!   Cloud accounts. If a custom image is shared to other Alibaba Cloud accounts before it
//!   is published ... the accounts with the shared image can still use the image": grants
//!   are kept through publish and unpublish;
//! - the Community Image Agreement must be signed: the front-end checks the world's
//!   [`community_terms_signed`](crate::world::World::community_terms_signed) before it
//!   calls [`Engine::publish`].
//!
//! An image built from a marketplace image is refused as ECS refuses to share it at all
//! (no text on publishing one was found: UNCONFIRMED).

use imageshare_core::{LimitRule, Provider};

use super::{Engine, EngineError};
use crate::world::Encrypted;

impl Engine {
    /// Publishes image `id` of `caller` as a community image: it must be the caller's own,
    /// unencrypted, shareable (not marketplace-derived) and available. Publishing a
    /// community image again changes nothing.
    pub fn publish(
        &mut self,
        provider: Provider,
        caller: &str,
        region: &str,
        id: &str,
    ) -> Result<(), EngineError> {
        let view = self.owned(provider, caller, region, id)?;
        if view.image.encrypted != Encrypted::None {
            return Err(EngineError::Rule {
                rule: LimitRule::EncryptedImage,
                message: format!("{id} is encrypted; encrypted images cannot be published"),
            });
        }
        self.check_image_rules(provider, &view.image)?;
        self.community.insert(id.to_owned());
        Ok(())
    }

    /// Unpublishes the community image `id` of `caller`; its grants stay. Returns whether
    /// it was a community image (the front-end refuses one that was not).
    pub fn unpublish(
        &mut self,
        provider: Provider,
        caller: &str,
        region: &str,
        id: &str,
    ) -> Result<bool, EngineError> {
        self.owned(provider, caller, region, id)?;
        Ok(self.community.remove(id))
    }

    /// Whether image `id` is a community image.
    #[must_use]
    pub fn is_community(&self, id: &str) -> bool {
        self.community.contains(id)
    }

    /// Refuses to share or copy a community image (`what` names the operation).
    pub(super) fn refuse_community(&self, id: &str, what: &str) -> Result<(), EngineError> {
        if self.is_community(id) {
            return Err(EngineError::Rule {
                rule: LimitRule::PublicImage,
                message: format!("{id} is a community image; community images cannot be {what}"),
            });
        }
        Ok(())
    }
}
