//! A SAS image shared to ECS (`ModifyImageShareStatus`): ECS lists it among the images
//! shared with the SAS owner. It keeps its id on the wire; the engine holds it under its
//! own key (`<id>#ecs`, `engine::cross_product`, which also makes the delete rule that
//! counts it as shared), translated here.

use imageshare_core::Provider;

use crate::engine::Engine;

/// The emulator's stand-in owner of SAS images shared to ECS (`ModifyImageShareStatus`):
/// ECS lists such an image with the shared images (`ImageOwnerAlias=others`) of the
/// account that owns it in SAS. The real owner id is not documented.
pub const SAS_TO_ECS_OWNER: &str = "1999999999999999";

pub use crate::engine::cross_product::{sas_to_ecs_key, SAS_TO_ECS_SUFFIX};

/// The id a client sees for an engine key.
pub(super) fn wire_id(key: &str) -> &str {
    key.strip_suffix(SAS_TO_ECS_SUFFIX).unwrap_or(key)
}

/// Whether the engine holds an image of `provider` under `key`.
pub(super) fn has_image(engine: &Engine, provider: Provider, key: &str) -> bool {
    engine.has_image(provider, key)
}

/// The engine key of the ECS image a client calls `id`.
pub(super) fn ecs_key(engine: &Engine, id: &str) -> String {
    let alias = sas_to_ecs_key(id);
    if !has_image(engine, imageshare_alibaba::ECS, id)
        && has_image(engine, imageshare_alibaba::ECS, &alias)
    {
        alias
    } else {
        id.to_owned()
    }
}
