//! `imageshare unshare`: revoke grants, of the principals given or of every sharee.

use imageshare::ImageSharing;
use std::fmt;

use futures_util::stream::TryStreamExt;
use imageshare::core::bulk::{Bulk, BulkOp, RetrySummary};
use imageshare::core::{ImageId, ImageSharingExt, Principal};
use imageshare::DynSharing;
use serde::Serialize;

use crate::bulk::{self, BulkResults, StepSpec};
use crate::cli::{image_ids, principals, Global};
use crate::connect::connect_for;
use crate::exit::Failure;
use crate::output::Document;
use crate::trail;

/// `imageshare unshare ID... (--from P,... | --all)`: one image with one call of the
/// limit checker, several through the bulk engine; both print the bulk results. With
/// `--all`, an image without sharees is left alone.
pub async fn run(
    g: &Global,
    ids: &[String],
    from: &[String],
    all: bool,
) -> Result<Unshared, Failure> {
    let p = g.provider()?;
    let ids = image_ids(p, ids)?;
    let log = trail::open(g)?;
    let from = principals(p, from);
    let s = connect_for(g, p, log.as_ref(), &from)?;
    let mut job = Bulk::new();
    let mut specs = Vec::new();
    for id in &ids {
        let from = if all {
            all_sharees(&s, id).await?
        } else {
            from.clone()
        };
        // An image with no sharees makes --all a no-op for it; an empty --from list is
        // refused by the checker.
        if !from.is_empty() || !all {
            job = job.unshare(&s, id.clone(), &from);
            specs.push(StepSpec {
                provider: s.provider(),
                region: s.region().clone(),
                image: id.clone(),
                op: BulkOp::Unshare,
                principals: from,
            });
        }
    }
    if specs.is_empty() {
        return Ok(match ids.as_slice() {
            [id] => Unshared::NoSharees(id.clone(), bulk::no_steps()),
            _ => Unshared::NoneHaveSharees(bulk::no_steps()),
        });
    }
    if let ([_], [one]) = (ids.as_slice(), specs.as_slice()) {
        return Ok(Unshared::Done(bulk::one_step(&s, one.clone()).await?));
    }
    Ok(Unshared::Done(
        bulk::share_or_unshare(job, specs, "unsharing").await,
    ))
}

/// Every current sharee of `id`, read page by page.
async fn all_sharees(s: &DynSharing, id: &ImageId) -> Result<Vec<Principal>, Failure> {
    Ok(s.sharees_stream(id)
        .map_ok(|x| x.principal)
        .try_collect()
        .await?)
}

/// What `unshare` prints: in JSON, the bulk results whatever the number of images
/// (SCHEMA.md); in text, a sentence when no image has sharees.
#[derive(Debug)]
pub enum Unshared {
    /// One image or several.
    Done(BulkResults<RetrySummary>),
    /// One image, `--all`, and it has no sharees: no step.
    NoSharees(ImageId, BulkResults<RetrySummary>),
    /// Several images, `--all`, and none has sharees: no step.
    NoneHaveSharees(BulkResults<RetrySummary>),
}

impl Unshared {
    /// The results, as JSON prints them.
    fn results(&self) -> &BulkResults<RetrySummary> {
        match self {
            Unshared::Done(r) | Unshared::NoSharees(_, r) | Unshared::NoneHaveSharees(r) => r,
        }
    }
}

impl Serialize for Unshared {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.results().serialize(s)
    }
}

impl fmt::Display for Unshared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unshared::Done(r) => r.fmt(f),
            Unshared::NoSharees(image, _) => write!(f, "{image} has no sharees"),
            Unshared::NoneHaveSharees(_) => f.write_str("none of these images has sharees"),
        }
    }
}

impl Document for Unshared {
    fn verdict(&self) -> Result<(), Failure> {
        self.results().verdict()
    }
}
