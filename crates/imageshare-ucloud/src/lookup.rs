//! The batched image lookup of [`UCloudImageSharing`]
//! ([`ImageSharing::images_in`]).
//!
//! | trait call | UCloud action |
//! |---|---|
//! | `images` | `DescribeImage` with `ImageIds.0..N` (N < [`DESCRIBE_IMAGE_MAX_IDS`]), `Offset` 0, `Limit` = the batch size; then, for each id not listed, `image` (`DescribeImage` with `ImageId`, then the shared-image listing) |
//!
//! `DescribeImage` lists only the caller's own and the public images, so an image another
//! project shared with the caller, or one the answer left out because the server caps the
//! batch or page below [`DESCRIBE_IMAGE_MAX_IDS`] (neither maximum is published), is looked
//! up on its own: the answer for such an id is exactly `image_in`'s, never a `NotFound`
//! of the batch.

use imageshare_core::{CallContext, Error, Image, ImageId, ImageSharing, Result};

use crate::client::Idempotency;
use crate::limits::DESCRIBE_IMAGE_MAX_IDS;
use crate::model::DescribeImageResponse;
use crate::sharing::{UCloudImageSharing, DESCRIBE_IMAGE};
use crate::signer::Param;
use crate::UHOST;

/// The `DescribeImage` parameters of one batch: `ImageIds.N`, `Offset` 0, `Limit` the
/// batch size.
#[must_use]
pub fn batch_params(batch: &[ImageId]) -> Vec<Param> {
    let mut params: Vec<Param> = batch
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("ImageIds.{i}"), id.to_string()))
        .collect();
    params.push(("Offset".into(), "0".into()));
    params.push(("Limit".into(), batch.len().to_string()));
    params
}

/// See the module docs.
pub(crate) async fn images_in(
    sharing: &UCloudImageSharing,
    cx: &CallContext,
    ids: &[ImageId],
) -> Result<Vec<Result<Image>>> {
    let mut found = imageshare_core::lookup::in_batches(
        UHOST,
        ids,
        DESCRIBE_IMAGE_MAX_IDS,
        |batch| async move {
            let answer: DescribeImageResponse = sharing
                .client()
                .call(
                    cx,
                    DESCRIBE_IMAGE,
                    batch_params(&batch),
                    Idempotency::Idempotent,
                )
                .await?
                .body;
            Ok(answer
                .image_set
                .iter()
                .map(|set| sharing.own_image(set))
                .collect())
        },
    )
    .await?;
    // Not listed: shared with the caller, left out by a server cap, or unknown.
    for (id, slot) in ids.iter().zip(found.iter_mut()) {
        if matches!(slot, Err(Error::NotFound { .. })) {
            *slot = match sharing.image_in(cx, id).await {
                Err(e @ Error::NotFound { .. }) => Err(e),
                Err(e) => return Err(e),
                ok => ok,
            };
        }
    }
    Ok(found)
}
