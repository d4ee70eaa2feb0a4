//! The rules of the two cross-product moves, enforced by the engine for every front-end
//! (issue #13: each rule in one place):
//!
//! - CVM -> Lighthouse (Lighthouse `DescribeImagesToShare` / `ModifyImageSharePermission`,
//!   tencent.md §2.7; <https://cloud.tencent.com/document/api/1207/72474>): which CVM images
//!   may become a blueprint of the caller's ([`Engine::cvm_to_lighthouse`]), and the
//!   blueprint id each becomes ([`blueprint_for_cvm`]).
//! - SAS -> ECS (SAS `ModifyImageShareStatus`, alibaba.md §3): the ECS side of a SAS image
//!   is held under its own key ([`sas_to_ecs_key`]); while it exists the SAS image counts
//!   as shared, so deleting it is refused like deleting a shared image
//!   ([`Engine::shared_elsewhere`], used by `check_delete`).

use imageshare_core::{ImageKind, Provider};

use super::{Engine, ImageView, Relation};
use crate::world::{Origin, State};

/// Suffix of the engine key of the ECS side of a SAS image shared to ECS. The image keeps
/// its id on the wire (the action returns no other id), but the engine keys images by id
/// alone, so the ECS record is stored as `<id>#ecs` and translated at the edge.
pub const SAS_TO_ECS_SUFFIX: &str = "#ecs";

/// The engine key of the ECS side of SAS image `id` (for `Emulator::grants` and the like).
#[must_use]
pub fn sas_to_ecs_key(id: &str) -> String {
    format!("{id}{SAS_TO_ECS_SUFFIX}")
}

/// The part of an id after its prefix.
fn suffix(id: &str) -> &str {
    id.split_once('-').map_or(id, |(_, s)| s)
}

/// The blueprint a CVM image becomes when shared to Lighthouse (`lhbp-<suffix>`, so the
/// link survives without extra state).
#[must_use]
pub fn blueprint_for_cvm(image_id: &str) -> String {
    format!("lhbp-{}", suffix(image_id))
}

/// The CVM image id a blueprint would have been shared from (`img-<suffix>`).
#[must_use]
pub fn cvm_for_blueprint(blueprint_id: &str) -> String {
    format!("img-{}", suffix(blueprint_id))
}

/// Why a CVM image cannot be shared to Lighthouse, in the order the checks apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    /// Not a custom image of the caller's.
    NotOwned,
    /// Its blueprint exists already.
    AlreadyShared,
    /// An imported image.
    Imported,
    /// A whole-machine image.
    WholeMachine,
    /// Not available.
    NotAvailable,
}

impl Engine {
    /// Whether the CVM image `v` (as the caller sees it) may be shared to Lighthouse.
    pub fn cvm_to_lighthouse(&self, v: &ImageView) -> Result<(), Ineligible> {
        let img = &v.image;
        let blueprint = blueprint_for_cvm(&img.id);
        if v.relation != Relation::Owner {
            Err(Ineligible::NotOwned)
        } else if self.has_image(imageshare_tencent::LIGHTHOUSE, &blueprint) {
            Err(Ineligible::AlreadyShared)
        } else if img.origin == Origin::Imported {
            Err(Ineligible::Imported)
        } else if img.kind == ImageKind::WholeMachine {
            Err(Ineligible::WholeMachine)
        } else if img.state != State::Available {
            Err(Ineligible::NotAvailable)
        } else {
            Ok(())
        }
    }

    /// Whether the engine holds an image of `provider` under `key`.
    #[must_use]
    pub fn has_image(&self, provider: Provider, key: &str) -> bool {
        self.images.get(key).is_some_and(|i| i.provider == provider)
    }

    /// Whether image `id` of `provider` is shared outside its grants: a SAS image shared to
    /// ECS (its ECS side exists).
    #[must_use]
    pub fn shared_elsewhere(&self, provider: Provider, id: &str) -> bool {
        provider == imageshare_alibaba::SAS
            && self.has_image(imageshare_alibaba::ECS, &sas_to_ecs_key(id))
    }
}
