//! `imageshare delete`: delete an image, optionally unsharing it from everyone first.

use std::fmt;

use imageshare::core::{Error, ImageId, ImageSharing, ImageSharingExt};
use serde::Serialize;

use crate::cli::{image_id, Global};
use crate::confirm;
use crate::connect::connect;
use crate::exit::Failure;
use crate::output::{Document, ShareResults};
use crate::trail;

/// `imageshare delete ID [--unshare-first] [--yes]`: without `--yes` (or `--dry-run`), asks
/// first on a terminal and is refused without one ([`confirm`]).
pub async fn run(g: &Global, id: &str, unshare_first: bool, yes: bool) -> Result<Deleted, Failure> {
    let p = g.provider()?;
    let id = image_id(p, id, true)?;
    let confirmed = |region: &imageshare::core::Region| {
        if yes || g.dry_run {
            return Ok(());
        }
        let first = if unshare_first {
            " after revoking every grant"
        } else {
            ""
        };
        let question = format!("Delete {id} ({p}, {region}){first}? It cannot be undone.");
        let refusal = "not deleted: delete asks for confirmation and stdin is not a \
                       terminal; run again with --yes to delete without asking";
        match confirm::ask_terminal(&question, refusal)? {
            true => Ok(()),
            false => Err(confirm::declined("not deleted")),
        }
    };
    if !unshare_first {
        let s = connect(g, p, None, None)?;
        confirmed(s.region())?;
        s.delete(&id).await?;
        return Ok(Deleted {
            image: id,
            deleted: true,
            unshared: None,
            failure: None,
        });
    }
    let log = trail::open(g)?;
    let s = connect(g, p, None, log.as_ref())?;
    confirmed(s.region())?;
    match s.unshare_all_and_delete(&id).await {
        Ok(report) => Ok(Deleted {
            image: id,
            deleted: true,
            unshared: Some(ShareResults(report)),
            failure: None,
        }),
        // Some revokes failed: the image is kept, and what was revoked is printed.
        Err(Error::Partial(report)) => {
            let failure = Error::Partial(report.clone());
            Ok(Deleted {
                image: id,
                deleted: false,
                unshared: Some(ShareResults(*report)),
                failure: Some(failure),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// What `delete` prints. Text: the unshare report (with `--unshare-first`), then `deleted
/// ID` (or `ID not deleted`). JSON: `{"image": ID, "deleted": bool}`, with `"unshared":
/// `[`ShareResults`] after `--unshare-first`.
#[derive(Debug, Serialize)]
pub struct Deleted {
    /// The image.
    image: ImageId,
    /// Whether it was deleted (not when some of its sharees could not be revoked).
    deleted: bool,
    /// Its sharees' revokes.
    #[serde(skip_serializing_if = "Option::is_none")]
    unshared: Option<ShareResults>,
    /// Why it was not deleted.
    #[serde(skip)]
    failure: Option<Error>,
}

impl fmt::Display for Deleted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(report) = &self.unshared {
            report.fmt(f)?;
        }
        if self.deleted {
            write!(f, "deleted {}", self.image)
        } else {
            write!(f, "{} not deleted", self.image)
        }
    }
}

impl Document for Deleted {
    fn verdict(&self) -> Result<(), Failure> {
        match &self.failure {
            Some(e) => Err(Failure::from(e)),
            None => Ok(()),
        }
    }
}
