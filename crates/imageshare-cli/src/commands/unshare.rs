//! `imageshare unshare`: revoke grants, of the principals given or of every sharee.

use imageshare::ImageSharing;
use std::fmt;

use futures_util::stream::TryStreamExt;
use imageshare::core::bulk::{Bulk, BulkOp, RetrySummary};
use imageshare::core::transport::RetryLog;
use imageshare::core::{ImageId, ImageSharingExt, Principal};
use imageshare::DynSharing;
use serde::Serialize;

use crate::bulk::{self, BulkResults, StepResult, StepSpec};
use crate::cli::{image_ids, principals, Global};
use crate::connect::connect;
use crate::exit::Failure;
use crate::output::{Document, PrincipalResult, ShareResults};
use crate::{progress, trail};

/// `imageshare unshare ID... (--from P,... | --all)`: one image with one call of the
/// limit checker, several through the bulk engine. With `--all`, an image without
/// sharees is left alone.
pub async fn run(
    g: &Global,
    ids: &[String],
    from: &[String],
    all: bool,
) -> Result<Unshared, Failure> {
    let p = g.provider()?;
    let ids = image_ids(p, ids)?;
    let log = trail::open(g)?;
    let s = connect(g, p, None, log.as_ref())?;
    let from = principals(p, from);
    let [id] = ids.as_slice() else {
        let mut job = Bulk::new();
        let mut specs = Vec::new();
        for id in &ids {
            let from = if all {
                all_sharees(&s, id).await?
            } else {
                from.clone()
            };
            // An image with no sharees makes --all a no-op for it.
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
        if job.is_empty() {
            return Ok(Unshared::NoneHaveSharees(NoneHaveSharees {
                results: Vec::new(),
                retries: RetryLog::new(),
            }));
        }
        return Ok(Unshared::Several(
            bulk::share_or_unshare(job, specs, "unsharing").await,
        ));
    };
    let from = if all {
        all_sharees(&s, id).await?
    } else {
        from
    };
    // An empty --from list is refused by the checker below; an image with no sharees
    // makes --all a no-op.
    if all && from.is_empty() {
        return Ok(Unshared::NoSharees(NoSharees {
            image: id.clone(),
            results: Vec::new(),
        }));
    }
    let message = format!("unsharing {id} from {} principals", from.len());
    let report = progress::with_spinner(&message, s.unshare(id, &from))
        .await
        .map_err(Failure::with_report)?;
    Ok(Unshared::One(ShareResults(report)))
}

/// Every current sharee of `id`, read page by page.
async fn all_sharees(s: &DynSharing, id: &ImageId) -> Result<Vec<Principal>, Failure> {
    Ok(s.sharees_stream(id)
        .map_ok(|x| x.principal)
        .try_collect()
        .await?)
}

/// What `unshare` prints.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Unshared {
    /// One image.
    One(ShareResults),
    /// One image, `--all`, and it has no sharees.
    NoSharees(NoSharees),
    /// Several images.
    Several(BulkResults<RetrySummary>),
    /// Several images, `--all`, and none has sharees.
    NoneHaveSharees(NoneHaveSharees),
}

/// `unshare --all` of one image without sharees. Text: `ID has no sharees`. JSON:
/// `{"image": ID, "results": []}`.
#[derive(Debug, Serialize)]
pub struct NoSharees {
    /// The image.
    image: ImageId,
    /// Always empty.
    results: Vec<PrincipalResult<'static>>,
}

/// `unshare --all` of several images, none of which has sharees. Text: `none of these
/// images has sharees`. JSON: `{"results": [], "retries": []}`.
#[derive(Debug, Serialize)]
pub struct NoneHaveSharees {
    /// Always empty.
    results: Vec<StepResult<'static>>,
    /// Always empty: nothing was sent.
    retries: RetryLog,
}

impl fmt::Display for Unshared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unshared::One(r) => r.fmt(f),
            Unshared::NoSharees(n) => write!(f, "{} has no sharees", n.image),
            Unshared::Several(r) => r.fmt(f),
            Unshared::NoneHaveSharees(_) => f.write_str("none of these images has sharees"),
        }
    }
}

impl Document for Unshared {
    fn verdict(&self) -> Result<(), Failure> {
        match self {
            Unshared::Several(r) => r.verdict(),
            Unshared::One(_) | Unshared::NoSharees(_) | Unshared::NoneHaveSharees(_) => Ok(()),
        }
    }
}
