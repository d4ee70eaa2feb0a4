//! Migration flows: each is one call that composes adapter operations and reports every
//! step. Shares always go through the limit checker.
//!
//! - [`sas_to_ecs`]: a Simple Application Server custom image to ECS
//!   (`ModifyImageShareStatus`), an own ECS copy where ECS shows it as a shared image,
//!   then onward sharing from ECS.
//! - [`cvm_to_lighthouse`]: a CVM image to a Lighthouse blueprint (Lighthouse's
//!   `ModifyImageSharePermission`, after `DescribeImagesToShare` says it is eligible), then
//!   sharing the blueprint across accounts.
//! - [`lighthouse_to_cvm`]: Tencent publishes no API for this direction; it fails with
//!   `Error::Unsupported` saying what to do instead.
//! - [`copy_then_share`]: copy to another region, wait until the copy is available (a
//!   bounded wait), then share it there.
//! - safe delete is [`ImageSharingExt::unshare_all_and_delete`](crate::ImageSharingExt).

use std::time::Duration;

use imageshare_core::{
    Checked, CopyTarget, ImageId, ImageOrigin, ImageSharing, ImageSharingExt, Principal, Region,
    Result, ShareReport,
};
use serde::Serialize;

/// How long to wait for a copy to become available, and how often to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// Give up after this long.
    pub timeout: Duration,
    /// Time between looks.
    pub poll: Duration,
}

impl Default for Wait {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30 * 60),
            poll: Duration::from_secs(10),
        }
    }
}

/// One step of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// What was done (`ModifyImageShareStatus Share m-1`).
    pub action: String,
    /// What came out (`m-1 visible in ECS`).
    pub result: String,
}

/// What a flow did: its steps, the image it ended with, and the final share report.
#[derive(Debug, Clone)]
pub struct MigrationReport {
    /// Steps in order.
    pub steps: Vec<Step>,
    /// The image the flow ended with (the ECS copy, the blueprint, the regional copy).
    pub image: ImageId,
    /// The onward share, when principals were given.
    pub shared: Option<ShareReport>,
}

impl MigrationReport {
    fn new(image: ImageId) -> Self {
        Self {
            steps: Vec::new(),
            image,
            shared: None,
        }
    }
    fn step(&mut self, action: impl Into<String>, result: impl Into<String>) {
        self.steps.push(Step {
            action: action.into(),
            result: result.into(),
        });
    }
    async fn share_onward<A: ImageSharing + ?Sized>(
        &mut self,
        adapter: &A,
        to: &[Principal],
    ) -> Result<()> {
        if to.is_empty() {
            return Ok(());
        }
        let report = Checked::new(adapter).share(&self.image, to).await?;
        self.step(
            format!("share {} with {} principals", self.image, to.len()),
            report.summary(),
        );
        self.shared = Some(report);
        Ok(())
    }
}

/// SAS custom image -> ECS -> shared onward from ECS.
#[cfg(feature = "alibaba")]
pub async fn sas_to_ecs<E: ImageSharing + ?Sized>(
    sas: &crate::alibaba::SasImageSharing,
    ecs: &E,
    image: &ImageId,
    to: &[Principal],
    wait: Wait,
) -> Result<MigrationReport> {
    let in_ecs = sas.share_to_ecs(image).await?;
    let mut report = MigrationReport::new(in_ecs.clone());
    report.step(
        format!("ModifyImageShareStatus Operation=Share {image}"),
        format!("{in_ecs} visible in ECS"),
    );
    let seen = ecs.image(&in_ecs).await?;
    if seen.origin == ImageOrigin::Received {
        // ECS shows the SAS image as shared with the account; only an own copy can be
        // shared onward.
        let own = ecs
            .copy(&in_ecs, CopyTarget::OwnCopy { name: None })
            .await?;
        report.step(
            format!("CopyImage {in_ecs} (own ECS copy)"),
            own.to_string(),
        );
        ecs.wait_until_available(&own, wait.timeout, wait.poll)
            .await?;
        report.step(format!("wait for {own}"), "available");
        report.image = own;
    }
    report.share_onward(ecs, to).await?;
    Ok(report)
}

/// CVM image -> Lighthouse blueprint (same account) -> shared across accounts.
#[cfg(feature = "tencent")]
pub async fn cvm_to_lighthouse(
    lighthouse: &crate::tencent::TencentLighthouseImageSharing,
    image: &ImageId,
    to: &[Principal],
    wait: Wait,
) -> Result<MigrationReport> {
    let blueprint = lighthouse.share_from_cvm(image).await?;
    let mut report = MigrationReport::new(blueprint.clone());
    report.step(
        format!("DescribeImagesToShare + ModifyImageSharePermission SHARE {image}"),
        format!("blueprint {blueprint}"),
    );
    lighthouse
        .wait_until_available(&blueprint, wait.timeout, wait.poll)
        .await?;
    report.step(format!("wait for {blueprint}"), "NORMAL");
    report.share_onward(lighthouse, to).await?;
    Ok(report)
}

/// Lighthouse blueprint -> CVM: no public Tencent API does this; always
/// `Error::Unsupported`, with what to do instead.
#[cfg(feature = "tencent")]
pub async fn lighthouse_to_cvm(
    lighthouse: &crate::tencent::TencentLighthouseImageSharing,
    blueprint: &ImageId,
) -> Result<ImageId> {
    lighthouse.share_to_cvm(blueprint).await
}

/// Copies `image` from `source` into `target`'s region, waits until the copy is
/// available, then shares it from `target`.
pub async fn copy_then_share<S, T>(
    source: &S,
    target: &T,
    image: &ImageId,
    to: &[Principal],
    wait: Wait,
) -> Result<MigrationReport>
where
    S: ImageSharing + ?Sized,
    T: ImageSharing + ?Sized,
{
    let region: Region = target.region().clone();
    let copy = source
        .copy(
            image,
            CopyTarget::Region {
                region: region.clone(),
                name: None,
            },
        )
        .await?;
    let mut report = MigrationReport::new(copy.clone());
    report.step(format!("copy {image} to {region}"), copy.to_string());
    target
        .wait_until_available(&copy, wait.timeout, wait.poll)
        .await?;
    report.step(format!("wait for {copy}"), "available");
    report.share_onward(target, to).await?;
    Ok(report)
}
