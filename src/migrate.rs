//! Migration flows: each is one call that composes adapter operations and reports every
//! step. Shares always go through the limit checker.
//!
//! - [`sas_to_ecs`]: a Simple Application Server custom image to ECS
//!   (`ModifyImageShareStatus`), an own ECS copy where ECS shows it as a shared image,
//!   then onward sharing from ECS.
//! - [`cvm_to_lighthouse`]: a CVM image to a Lighthouse blueprint (Lighthouse's
//!   `ModifyImageSharePermission`, after `DescribeImagesToShare` says it is eligible), then
//!   sharing the blueprint across accounts.
//!
//! The flows are idempotent: run twice, they make no second copy or blueprint. The own
//! ECS copy of `sas_to_ecs` is named after its source and found again by name; the
//! blueprint of `cvm_to_lighthouse` is found by the CVM image it came from
//! (`DescribeBlueprints` `ImageId`); the report says so (`StepKind::Found`), and the
//! onward share grants only what is missing.
//! - [`lighthouse_to_cvm`]: Tencent publishes no API for this direction; it fails with
//!   `Error::Unsupported` saying what to do instead.
//! - [`copy_then_share`]: copy to another region, wait until the copy is available (a
//!   bounded wait), then share it there.
//! - safe delete is [`ImageSharingExt::unshare_all_and_delete`](crate::ImageSharingExt).
//!
//! [`Flows`] runs the same flows with an audit trail and a trust policy (the free
//! functions are `Flows::new()`'s: no trail, any owner); `Connect::flows` gives the flows
//! of a connection's options:
//!
//! - **audit**: the grants a flow makes outside the trait (SAS `share_to_ecs`, Lighthouse
//!   `share_from_cvm`) are recorded as `grant` to the `service` that received the image,
//!   and the onward share is recorded per principal (once, even when the adapter given is
//!   itself audited into the same trail).
//! - **received images**: `sas_to_ecs` always looks the SAS image up first and refuses one
//!   another account shared with the caller (`Error::Limit`, `ReceivedImage`), naming its
//!   owner, before any call is sent: SAS would answer "not found".
//! - **trust**: the image a flow consumes is checked before any mutating call. `copy_then_share`
//!   and `sas_to_ecs` look the source image up and refuse an untrusted one with
//!   `Error::Untrusted`; `sas_to_ecs` then vouches for the ECS side of the (own) SAS image,
//!   which ECS lists as shared by another account. `cvm_to_lighthouse` has nothing to
//!   check: Lighthouse takes only the caller's own CVM images (`DescribeImagesToShare`).

#[cfg(any(feature = "alibaba", feature = "tencent"))]
use imageshare_core::audit::{AuditAction, AuditOutcome, AuditPrincipal, AuditRecord};
use imageshare_core::{
    AuditLog, Audited, CallContext, Checked, CopyTarget, Image, ImageId, ImageSharing,
    ImageSharingExt, Principal, Provider, Region, Result, ShareReport, TrustPolicy,
};
use serde::Serialize;

/// How long to wait for a copy to become available, and how often to look (the
/// distribution engine's: 60 minutes, every 10 seconds, by default).
pub use imageshare_core::distribute::Wait;

/// What one step of a flow did, with the ids it involved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StepKind {
    /// `image` was handed to another product of the same account (`service`): SAS ->
    /// ECS (`ModifyImageShareStatus`), CVM -> Lighthouse (Lighthouse's
    /// `ModifyImageSharePermission`); `received` is the image as the service names it.
    HandedToService {
        /// The source image.
        image: ImageId,
        /// The product that received it.
        service: Provider,
        /// The image on the receiving side.
        received: ImageId,
    },
    /// A copy of `from` made by an earlier run was found (by its name) and is used
    /// instead of copying again: the flows are idempotent.
    Found {
        /// The source image.
        from: ImageId,
        /// The copy found.
        copy: ImageId,
    },
    /// `from` was copied to `to` (an own copy, or into another region).
    Copied {
        /// The source image.
        from: ImageId,
        /// The copy.
        to: ImageId,
    },
    /// The flow waited until `image` was available.
    Available {
        /// The image waited for.
        image: ImageId,
    },
    /// `image` was shared onward with `principals` principals.
    Shared {
        /// The image shared.
        image: ImageId,
        /// How many principals were asked for.
        principals: usize,
    },
}

/// One step of a flow: what it did ([`StepKind`]), and the same in words (`action`,
/// `result`) for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// What the step did, typed.
    #[serde(flatten)]
    pub kind: StepKind,
    /// What was done, in words (`ModifyImageShareStatus Operation=Share m-1`).
    pub action: String,
    /// What came out, in words (`m-1 visible in ECS`).
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
    fn step(&mut self, kind: StepKind, action: impl Into<String>, result: impl Into<String>) {
        self.steps.push(Step {
            kind,
            action: action.into(),
            result: result.into(),
        });
    }
}

/// The migration flows with an audit trail and a trust policy (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Flows {
    audit: Option<AuditLog>,
    trust: TrustPolicy,
}

impl Flows {
    /// Flows without an audit trail, accepting any owner.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Records the flows' grants in `log`.
    #[must_use]
    pub fn audit(mut self, log: AuditLog) -> Self {
        self.audit = Some(log);
        self
    }
    /// Refuses source images `policy` does not accept.
    #[must_use]
    pub fn trust(mut self, policy: TrustPolicy) -> Self {
        self.trust = policy;
        self
    }

    /// Checks the image a flow consumes against the policy of each of `providers` that it
    /// restricts; returns the image when it was looked up (and accepted).
    async fn check_source<A: ImageSharing + ?Sized>(
        &self,
        cx: &CallContext,
        adapter: &A,
        providers: &[Provider],
        image: &ImageId,
        operation: &str,
    ) -> Result<Option<Image>> {
        if !providers.iter().any(|p| self.trust.restricts(*p)) {
            return Ok(None);
        }
        let found = adapter.image_in(cx, image).await?;
        for p in providers {
            self.trust.check(*p, &found, operation)?;
        }
        Ok(Some(found))
    }

    /// Records a grant made outside the trait: `image` handed to the caller's own `service`.
    #[cfg(any(feature = "alibaba", feature = "tencent"))]
    async fn record_service_grant(
        &self,
        cx: &CallContext,
        provider: Provider,
        region: &Region,
        image: &ImageId,
        service: Provider,
        result: Result<ImageId>,
    ) -> Result<ImageId> {
        let Some(log) = &self.audit else {
            return result;
        };
        let record = AuditRecord::now(
            provider,
            region.clone(),
            image.clone(),
            AuditPrincipal::Service(service),
            AuditAction::Grant,
            AuditOutcome::Granted,
        );
        log.record_produced(cx, record, result).await
    }

    /// Shares the report's image onward from `adapter` through the checker (and the audit
    /// layer when a trail is set).
    async fn share_onward<A: ImageSharing + ?Sized>(
        &self,
        cx: &CallContext,
        report: &mut MigrationReport,
        adapter: &A,
        to: &[Principal],
    ) -> Result<()> {
        if to.is_empty() {
            return Ok(());
        }
        let shared = match &self.audit {
            Some(log) => {
                let log = log.with_identity(adapter.credentials_source());
                Checked::new(Audited::new(adapter, log))
                    .share_in(cx, &report.image, to)
                    .await?
            }
            None => {
                Checked::new(adapter)
                    .share_in(cx, &report.image, to)
                    .await?
            }
        };
        report.step(
            StepKind::Shared {
                image: report.image.clone(),
                principals: to.len(),
            },
            format!("share {} with {} principals", report.image, to.len()),
            shared.summary(),
        );
        report.shared = Some(shared);
        Ok(())
    }

    /// SAS custom image -> ECS -> shared onward from ECS.
    #[cfg(feature = "alibaba")]
    pub async fn sas_to_ecs<E: ImageSharing + ?Sized>(
        &self,
        sas: &crate::alibaba::SasImageSharing,
        ecs: &E,
        image: &ImageId,
        to: &[Principal],
        wait: Wait,
    ) -> Result<MigrationReport> {
        use crate::alibaba::{ECS, SAS};
        let cx = CallContext::new();
        let checked = self
            .check_source(&cx, sas, &[SAS, ECS], image, "migrate to ECS")
            .await?;
        // Looked up before anything is sent: a received image is refused with its owner.
        let source = match checked {
            Some(image) => image,
            None => sas.image_in(&cx, image).await?,
        };
        refuse_received_sas_image(&source)?;
        let in_ecs = self
            .record_service_grant(
                &cx,
                SAS,
                sas.region(),
                image,
                ECS,
                sas.share_to_ecs_in(&cx, image).await,
            )
            .await?;
        let mut report = MigrationReport::new(in_ecs.clone());
        report.step(
            StepKind::HandedToService {
                image: image.clone(),
                service: ECS,
                received: in_ecs.clone(),
            },
            format!("ModifyImageShareStatus Operation=Share {image}"),
            format!("{in_ecs} visible in ECS"),
        );
        let seen = ecs.image_in(&cx, &in_ecs).await?;
        if seen.origin == imageshare_core::ImageOrigin::Received {
            // ECS shows the SAS image as shared with the account; only an own copy can be
            // shared onward. When the SAS source is the caller's own, the flow vouches for
            // its ECS side (listed as shared by another account) to any trust layer of `ecs`.
            let own_source = matches!(
                source.origin,
                imageshare_core::ImageOrigin::Custom
                    | imageshare_core::ImageOrigin::MarketplaceDerived
            );
            let copy_cx = if own_source {
                cx.vouching(ECS, in_ecs.clone())
            } else {
                cx.clone()
            };
            let own = match own_copy_made_before(&cx, ecs, &seen).await? {
                Some(found) => {
                    report.step(
                        StepKind::Found {
                            from: in_ecs.clone(),
                            copy: found.clone(),
                        },
                        format!("DescribeImages ImageName={}", own_copy_name(ecs, &seen)),
                        format!("{found} (own ECS copy made before; not copied again)"),
                    );
                    found
                }
                None => {
                    let name = ecs.copy_limits().and_then(|l| l.copy_name(&seen));
                    let own = ecs
                        .copy_in(&copy_cx, &in_ecs, CopyTarget::OwnCopy { name })
                        .await?;
                    report.step(
                        StepKind::Copied {
                            from: in_ecs.clone(),
                            to: own.clone(),
                        },
                        format!("CopyImage {in_ecs} (own ECS copy)"),
                        own.to_string(),
                    );
                    own
                }
            };
            ecs.wait_until_available(&own, wait.timeout, wait.poll)
                .await?;
            report.step(
                StepKind::Available { image: own.clone() },
                format!("wait for {own}"),
                "available",
            );
            report.image = own;
        }
        self.share_onward(&cx, &mut report, ecs, to).await?;
        Ok(report)
    }

    /// CVM image -> Lighthouse blueprint (same account) -> shared across accounts.
    #[cfg(feature = "tencent")]
    pub async fn cvm_to_lighthouse(
        &self,
        lighthouse: &crate::tencent::TencentLighthouseImageSharing,
        image: &ImageId,
        to: &[Principal],
        wait: Wait,
    ) -> Result<MigrationReport> {
        use crate::tencent::LIGHTHOUSE;
        let cx = CallContext::new();
        // A second run finds the blueprint the first made (Lighthouse refuses to share an
        // image to Lighthouse twice) and goes on from there.
        let (blueprint, mut report) = match lighthouse.blueprint_from_cvm_in(&cx, image).await? {
            Some(found) => {
                let mut report = MigrationReport::new(found.id.clone());
                report.step(
                    StepKind::Found {
                        from: image.clone(),
                        copy: found.id.clone(),
                    },
                    format!("DescribeBlueprints blueprint-type=PRIVATE, ImageId={image}"),
                    format!(
                        "blueprint {} made from {image} before; not shared to Lighthouse again",
                        found.id
                    ),
                );
                (found.id, report)
            }
            None => {
                let blueprint = self
                    .record_service_grant(
                        &cx,
                        LIGHTHOUSE,
                        lighthouse.region(),
                        image,
                        LIGHTHOUSE,
                        lighthouse.share_from_cvm(image).await,
                    )
                    .await?;
                let mut report = MigrationReport::new(blueprint.clone());
                report.step(
                    StepKind::HandedToService {
                        image: image.clone(),
                        service: LIGHTHOUSE,
                        received: blueprint.clone(),
                    },
                    format!("DescribeImagesToShare + ModifyImageSharePermission SHARE {image}"),
                    format!("blueprint {blueprint}"),
                );
                (blueprint, report)
            }
        };
        lighthouse
            .wait_until_available(&blueprint, wait.timeout, wait.poll)
            .await?;
        report.step(
            StepKind::Available {
                image: blueprint.clone(),
            },
            format!("wait for {blueprint}"),
            "NORMAL",
        );
        self.share_onward(&cx, &mut report, lighthouse, to).await?;
        Ok(report)
    }

    /// Copies `image` from `source` into `target`'s region, waits until the copy is
    /// available, then shares it from `target`.
    pub async fn copy_then_share<S, T>(
        &self,
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
        let provider = source.provider();
        let cx = CallContext::new();
        let checked = self
            .check_source(&cx, source, &[provider], image, "copy")
            .await?;
        let region: Region = target.region().clone();
        // Accepted above: a trust layer in `source` need not look it up again.
        let copy_cx = match checked {
            Some(_) => cx.vouching(provider, image.clone()),
            None => cx.clone(),
        };
        let to_region = CopyTarget::Region {
            region: region.clone(),
            name: None,
        };
        let copy = source.copy_in(&copy_cx, image, to_region).await?;
        let mut report = MigrationReport::new(copy.clone());
        report.step(
            StepKind::Copied {
                from: image.clone(),
                to: copy.clone(),
            },
            format!("copy {image} to {region}"),
            copy.to_string(),
        );
        target
            .wait_until_available(&copy, wait.timeout, wait.poll)
            .await?;
        report.step(
            StepKind::Available {
                image: copy.clone(),
            },
            format!("wait for {copy}"),
            "available",
        );
        self.share_onward(&cx, &mut report, target, to).await?;
        Ok(report)
    }
}

/// The name of the own ECS copy of `seen` (the SAS image as ECS shows it):
/// [`CopyLimits::copy_name`](crate::copy_limits::CopyLimits::copy_name), by which a re-run
/// finds it.
#[cfg(feature = "alibaba")]
fn own_copy_name<E: ImageSharing + ?Sized>(ecs: &E, seen: &Image) -> String {
    ecs.copy_limits()
        .map_or_else(|| seen.name.clone(), |l| l.copy_identity(seen))
}

/// The own ECS copy of `seen` an earlier run made, when there is one (available or being
/// made; a failed one is not reused). `None` where the adapter cannot look images up by
/// name (then every run copies).
#[cfg(feature = "alibaba")]
async fn own_copy_made_before<E: ImageSharing + ?Sized>(
    cx: &CallContext,
    ecs: &E,
    seen: &Image,
) -> Result<Option<ImageId>> {
    if ecs.copy_limits().is_none() {
        return Ok(None);
    }
    let found = ecs.images_named_in(cx, &own_copy_name(ecs, seen)).await?;
    Ok(found
        .into_iter()
        .filter(|i| i.id != seen.id && i.origin != imageshare_core::ImageOrigin::Received)
        .filter(|i| {
            !matches!(
                i.state,
                imageshare_core::ImageState::Failed | imageshare_core::ImageState::Unavailable
            )
        })
        .min_by_key(|i| i.state != imageshare_core::ImageState::Available)
        .map(|i| i.id))
}

/// Refuses a SAS image another account shared with the caller, before any call is sent:
/// `ModifyImageShareStatus` takes only the caller's own custom images (SAS user guide
/// "Share custom images across accounts": recipients cannot re-share a shared image;
/// SWAS-OPEN `ModifyImageShareStatus` API doc: the image is one of the caller's custom
/// images), and the service answers a received one as if it did not exist. The refusal
/// names the owner, as `ListCustomImages` (`Share=true`) reports it.
#[cfg(feature = "alibaba")]
fn refuse_received_sas_image(source: &Image) -> Result<()> {
    use imageshare_core::{Error, LimitRule, LimitViolation};
    if source.origin != imageshare_core::ImageOrigin::Received {
        return Ok(());
    }
    let owner = source
        .owner
        .as_ref()
        .map(|o| format!("account {}", o.id()))
        .unwrap_or_else(|| "another account".to_owned());
    Err(Error::Limit(LimitViolation::new(
        crate::alibaba::SAS,
        LimitRule::ReceivedImage,
        "images owned by the caller only",
        format!("{} was shared with this account by {owner}", source.id),
        format!(
            "{} was shared with you by {owner}; only the owner can share it to ECS: ask them \
             to run the migration (imageshare migrate sas-to-ecs) and share the ECS image \
             with you, or make your own copy first (create a server from it and a custom \
             image of that server) and migrate that",
            source.id
        ),
    )))
}

/// SAS custom image -> ECS -> shared onward from ECS ([`Flows::sas_to_ecs`] without an
/// audit trail or trust policy of its own).
#[cfg(feature = "alibaba")]
pub async fn sas_to_ecs<E: ImageSharing + ?Sized>(
    sas: &crate::alibaba::SasImageSharing,
    ecs: &E,
    image: &ImageId,
    to: &[Principal],
    wait: Wait,
) -> Result<MigrationReport> {
    Flows::new().sas_to_ecs(sas, ecs, image, to, wait).await
}

/// CVM image -> Lighthouse blueprint (same account) -> shared across accounts
/// ([`Flows::cvm_to_lighthouse`] without an audit trail or trust policy).
#[cfg(feature = "tencent")]
pub async fn cvm_to_lighthouse(
    lighthouse: &crate::tencent::TencentLighthouseImageSharing,
    image: &ImageId,
    to: &[Principal],
    wait: Wait,
) -> Result<MigrationReport> {
    Flows::new()
        .cvm_to_lighthouse(lighthouse, image, to, wait)
        .await
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
/// available, then shares it from `target` ([`Flows::copy_then_share`] without an audit
/// trail or trust policy of its own; trust layers of the adapters still apply).
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
    Flows::new()
        .copy_then_share(source, target, image, to, wait)
        .await
}
