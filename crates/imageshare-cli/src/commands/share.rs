//! `imageshare share`: grant images to accounts (UCloud: projects).

use imageshare::ImageSharing;

use imageshare::core::bulk::{Bulk, BulkOp, RetrySummary};

use crate::bulk::{self, BulkResults, StepSpec};
use crate::cli::{image_ids, principals, Global};
use crate::connect::connect_for;
use crate::exit::Failure;
use crate::trail;

/// What `share` prints: one shape for one image and for several (SCHEMA.md).
pub type Shared = BulkResults<RetrySummary>;

/// `imageshare share ID... --to P,...`: one image with one call of the limit checker,
/// several through the bulk engine; both print the bulk results.
pub async fn run(g: &Global, ids: &[String], to: &[String]) -> Result<Shared, Failure> {
    let p = g.provider()?;
    let ids = image_ids(p, ids)?;
    let to = principals(p, to);
    let log = trail::open(g)?;
    let s = connect_for(g, p, log.as_ref(), &to)?;
    let specs: Vec<StepSpec> = ids
        .iter()
        .map(|id| StepSpec {
            provider: s.provider(),
            region: s.region().clone(),
            image: id.clone(),
            op: BulkOp::Share,
            principals: to.clone(),
        })
        .collect();
    if let [one] = specs.as_slice() {
        return bulk::one_step(&s, one.clone()).await;
    }
    let job = Bulk::new().share_all(&s, ids.iter().cloned(), &to);
    Ok(bulk::share_or_unshare(job, specs, "sharing").await)
}
