//! `imageshare share`: grant images to accounts (UCloud: projects).

use imageshare::ImageSharing;
use imageshare::ImageSharingExt;
use std::fmt;

use imageshare::core::bulk::{Bulk, BulkOp, RetrySummary};
use serde::Serialize;

use crate::bulk::{self, BulkResults, StepSpec};
use crate::cli::{image_ids, principals, Global};
use crate::connect::connect;
use crate::exit::Failure;
use crate::output::{Document, ShareResults};
use crate::{progress, trail};

/// `imageshare share ID... --to P,...`: one image with one call of the limit checker,
/// several through the bulk engine.
pub async fn run(g: &Global, ids: &[String], to: &[String]) -> Result<Shared, Failure> {
    let p = g.provider()?;
    let ids = image_ids(p, ids)?;
    let to = principals(p, to);
    let log = trail::open(g)?;
    let s = connect(g, p, None, log.as_ref())?;
    let [id] = ids.as_slice() else {
        let job = Bulk::new().share_all(&s, ids.iter().cloned(), &to);
        let specs = ids
            .iter()
            .map(|id| StepSpec {
                provider: s.provider(),
                region: s.region().clone(),
                image: id.clone(),
                op: BulkOp::Share,
                principals: to.clone(),
            })
            .collect();
        return Ok(Shared::Several(
            bulk::share_or_unshare(job, specs, "sharing").await,
        ));
    };
    let message = format!("sharing {id} with {} principals", to.len());
    let report = progress::with_spinner(&message, s.share(id, &to))
        .await
        .map_err(Failure::with_report)?;
    Ok(Shared::One(ShareResults(report)))
}

/// What `share` prints: the report of one image, or the bulk results of several.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Shared {
    /// One image.
    One(ShareResults),
    /// Several images.
    Several(BulkResults<RetrySummary>),
}

impl fmt::Display for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shared::One(r) => r.fmt(f),
            Shared::Several(r) => r.fmt(f),
        }
    }
}

impl Document for Shared {
    fn verdict(&self) -> Result<(), Failure> {
        match self {
            Shared::One(r) => r.verdict(),
            Shared::Several(r) => r.verdict(),
        }
    }
}
