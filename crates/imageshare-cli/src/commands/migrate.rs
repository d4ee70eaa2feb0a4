//! `imageshare migrate`: the flows of `imageshare::migrate` (move an image between
//! products or regions, then share it onward), with the trust policy and the audit trail
//! of this command (`Connect::flows`).

use std::fmt;
use std::time::Duration;

use imageshare::core::{Error, ImageId};
use imageshare::migrate::{MigrationReport, Step, Wait};
use serde::Serialize;

use super::copy::NewImage;
use crate::cli::{image_id, principals, Global, MigrateFlow};
use crate::connect::{connect, options};
use crate::dryrun::IntendedCall;
use crate::exit::Failure;
use crate::output::{Document, ShareResults};
use crate::trail;

/// `imageshare migrate FLOW ...`.
pub async fn run(g: &Global, flow: MigrateFlow) -> Result<Migrated, Failure> {
    let report = match flow {
        MigrateFlow::SasToEcs(a) => {
            let r = g.region()?;
            let id = image_id(imageshare::alibaba::SAS, &a.image, true)?;
            let to = principals(imageshare::alibaba::ECS, &a.to);
            let log = trail::open(g)?;
            let ecs_options = options(g, imageshare::alibaba::ECS, Some(r), log.as_ref());
            let flows = ecs_options.flows();
            let sas = options(g, imageshare::alibaba::SAS, Some(r), None).sas()?;
            let ecs = ecs_options.build()?;
            flows
                .sas_to_ecs(&sas, &ecs, &id, &to, wait(a.wait_secs))
                .await
        }
        MigrateFlow::CvmToLighthouse(a) => {
            let r = g.region()?;
            let id = image_id(imageshare::tencent::CVM, &a.image, true)?;
            let to = principals(imageshare::tencent::LIGHTHOUSE, &a.to);
            let log = trail::open(g)?;
            let lh_options = options(g, imageshare::tencent::LIGHTHOUSE, Some(r), log.as_ref());
            let flows = lh_options.flows();
            let lh = lh_options.lighthouse()?;
            flows
                .cvm_to_lighthouse(&lh, &id, &to, wait(a.wait_secs))
                .await
        }
        MigrateFlow::LighthouseToCvm { blueprint } => {
            // Always refused (no public API): nothing to record.
            let r = g.region()?;
            let blueprint = image_id(imageshare::tencent::LIGHTHOUSE, &blueprint, true)?;
            let lh = options(g, imageshare::tencent::LIGHTHOUSE, Some(r), None).lighthouse()?;
            let image = imageshare::migrate::lighthouse_to_cvm(&lh, &blueprint).await?;
            return Ok(Migrated::Exported(NewImage { image }));
        }
        MigrateFlow::Copy { args: a, to_region } => {
            let p = g.provider()?;
            let id = image_id(p, &a.image, true)?;
            let to = principals(p, &a.to);
            let log = trail::open(g)?;
            let source_options = options(g, p, None, log.as_ref());
            let flows = source_options.flows();
            let source = source_options.build()?;
            let target = connect(g, p, Some(&to_region), log.as_ref())?;
            flows
                .copy_then_share(&source, &target, &id, &to, wait(a.wait_secs))
                .await
        }
    };
    match report {
        Ok(report) => Ok(Migrated::Flow(Migration::from(report))),
        // The flow ended with a copy, but its onward share partly failed: what was
        // shared is printed (the steps are not known here).
        Err(Error::Partial(shared)) => Ok(Migrated::Flow(Migration {
            image: shared.image.clone(),
            steps: None,
            shared: Some(ShareResults((*shared).clone())),
            failure: Some(Box::new(Error::Partial(shared))),
        })),
        Err(e) => Err(e.into()),
    }
}

/// `migrate --dry-run`: the flows hand images over with calls of their own adapters
/// (outside the `ImageSharing` calls the dry-run layer intercepts), so their writes are
/// recorded here, in the flow's order, after the source image is looked up (a read) and
/// the trust policy checked; the image a step would make is named `(the ... of ID)`. The
/// flow's waits and the own ECS copy that `sas-to-ecs` makes when ECS lists the image as
/// shared are not listed as calls.
/// `lighthouse-to-cvm` sends nothing (there is no API): it runs as usual.
pub async fn dry_run(g: &Global, flow: MigrateFlow) -> Result<(), Failure> {
    use imageshare::core::{ImageSharing, ImageSharingExt, Principal, Provider};
    let calls = &g.dry_run_calls;
    let record = |provider: Provider,
                  region: &imageshare::core::Region,
                  operation: &'static str,
                  image: ImageId,
                  principals: Vec<Principal>,
                  target: Option<String>| {
        calls.record(IntendedCall {
            provider,
            region: region.clone(),
            operation,
            image,
            principals,
            target,
        });
    };
    let trust = g.trust_policy();
    match flow {
        MigrateFlow::SasToEcs(a) => {
            let (sas, ecs) = (imageshare::alibaba::SAS, imageshare::alibaba::ECS);
            let id = image_id(sas, &a.image, true)?;
            let s = connect(g, sas, Some(g.region()?), None)?;
            trust.check(sas, &s.image(&id).await?, "migrate to ECS")?;
            record(sas, s.region(), "share-to-ecs", id.clone(), vec![], None);
            let to = principals(ecs, &a.to);
            if !to.is_empty() {
                let onward = ImageId::from(format!("(the ECS image of {id})").as_str());
                record(ecs, s.region(), "share", onward, to, None);
            }
        }
        MigrateFlow::CvmToLighthouse(a) => {
            let (cvm, lh) = (imageshare::tencent::CVM, imageshare::tencent::LIGHTHOUSE);
            let id = image_id(cvm, &a.image, true)?;
            let s = connect(g, cvm, Some(g.region()?), None)?;
            s.image(&id).await?;
            record(lh, s.region(), "share-from-cvm", id.clone(), vec![], None);
            let to = principals(lh, &a.to);
            if !to.is_empty() {
                let onward = ImageId::from(format!("(the blueprint of {id})").as_str());
                record(lh, s.region(), "share", onward, to, None);
            }
        }
        MigrateFlow::LighthouseToCvm { .. } => {
            // Always refused before anything is sent: the real run says why.
            run(g, flow).await?;
        }
        MigrateFlow::Copy { args: a, to_region } => {
            let p = g.provider()?;
            let id = image_id(p, &a.image, true)?;
            let source = connect(g, p, None, None)?;
            let target = imageshare::core::CopyTarget::Region {
                region: to_region.as_str().into(),
                name: None,
            };
            // The dry-run layer reads the image, checks the trust policy and records it.
            let copy = source.copy(&id, target).await?;
            let to = principals(p, &a.to);
            if !to.is_empty() {
                record(p, &to_region.as_str().into(), "share", copy, to, None);
            }
        }
    }
    Ok(())
}

/// How long a flow waits for a copy: `secs` in all, looking about 30 times over it, at
/// least every 10 s.
fn wait(secs: u64) -> Wait {
    Wait {
        timeout: Duration::from_secs(secs),
        poll: Duration::from_millis((secs * 1000 / 30).clamp(100, 10_000)),
    }
}

/// What `migrate` prints.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Migrated {
    /// A flow that ran (`sas-to-ecs`, `cvm-to-lighthouse`, `copy`).
    Flow(Migration),
    /// `lighthouse-to-cvm` (refused today: there is no public API).
    Exported(NewImage),
}

impl fmt::Display for Migrated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Migrated::Flow(m) => m.fmt(f),
            Migrated::Exported(n) => n.fmt(f),
        }
    }
}

impl Document for Migrated {
    fn verdict(&self) -> Result<(), Failure> {
        match self {
            Migrated::Flow(Migration {
                failure: Some(e), ..
            }) => Err(Failure::from(e.as_ref())),
            _ => Ok(()),
        }
    }
}

/// A flow's report. Text: `N. action: result` per step, then `result: IMAGE`. JSON:
/// `{"image", "steps": [Step] or null, "shared": `[`ShareResults`]` or null}`.
#[derive(Debug, Serialize)]
pub struct Migration {
    /// The image the flow ended with.
    image: ImageId,
    /// Its steps, in order (`null` when the onward share partly failed: not known then).
    steps: Option<Vec<Step>>,
    /// The onward share (`null` when no principals were given).
    shared: Option<ShareResults>,
    /// The onward share's failure.
    #[serde(skip)]
    failure: Option<Box<Error>>,
}

impl From<MigrationReport> for Migration {
    fn from(r: MigrationReport) -> Self {
        Migration {
            image: r.image,
            steps: Some(r.steps),
            shared: r.shared.map(ShareResults),
            failure: None,
        }
    }
}

impl fmt::Display for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.steps.iter().flatten().enumerate() {
            writeln!(f, "{}. {}: {}", i + 1, s.action, s.result)?;
        }
        if let Some(shared) = &self.shared {
            if self.failure.is_some() {
                shared.fmt(f)?;
            }
        }
        writeln!(f, "result: {}", self.image)
    }
}
