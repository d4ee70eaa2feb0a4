//! `imageshare delete`: delete an image, optionally unsharing it from everyone first.

use std::fmt;

use imageshare::core::{ImageId, ImageSharingExt};
use serde::Serialize;

use crate::cli::{image_id, Global};
use crate::connect::connect;
use crate::exit::Failure;
use crate::output::{Document, ShareResults};
use crate::trail;

/// `imageshare delete ID [--unshare-first]`.
pub async fn run(g: &Global, id: &str, unshare_first: bool) -> Result<Deleted, Failure> {
    let p = g.provider()?;
    let id = image_id(p, id, true)?;
    if !unshare_first {
        connect(g, p, None, None)?.delete(&id).await?;
        return Ok(Deleted {
            deleted: id,
            unshared: None,
        });
    }
    let log = trail::open(g)?;
    let s = connect(g, p, None, log.as_ref())?;
    let report = s
        .unshare_all_and_delete(&id)
        .await
        .map_err(Failure::with_report)?;
    Ok(Deleted {
        deleted: id,
        unshared: Some(ShareResults(report)),
    })
}

/// A deleted image. Text: the unshare report (with `--unshare-first`), then `deleted ID`.
/// JSON: `{"deleted": ID}`, with `"unshared": `[`ShareResults`] after `--unshare-first`.
#[derive(Debug, Serialize)]
pub struct Deleted {
    /// The image.
    deleted: ImageId,
    /// Its sharees' revokes.
    #[serde(skip_serializing_if = "Option::is_none")]
    unshared: Option<ShareResults>,
}

impl fmt::Display for Deleted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(report) = &self.unshared {
            report.fmt(f)?;
        }
        write!(f, "deleted {}", self.deleted)
    }
}

impl Document for Deleted {}
