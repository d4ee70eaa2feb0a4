//! `--dry-run`: a [`Layer`] over an adapter that sends no write and records the write it
//! would have sent instead, and the document the command prints in place of its own.
//!
//! The layer sits under the limit checker (`Checked<DryRun<...>>`), so a dry run is
//! checked, deduplicated and batched exactly as a real run: one recorded call per call
//! the checker would have let through, and a refusal (status 3) where the real run would
//! have been refused. Reads (looking an image up, listing sharees, planning a manifest)
//! are sent as usual: what a write would change depends on them.
//!
//! | trait call | dry run |
//! | --- | --- |
//! | `share_in` | recorded as `share`; every principal reported granted |
//! | `unshare_in` | recorded as `unshare`; every principal reported revoked |
//! | `copy_in` | the source image is read and the trust policy checked, then recorded as `copy`; the new image is `(dry-run copy of ID)` |
//! | `delete_in` | recorded as `delete` |
//! | `sharees_page_in`, `sharees_in` | sent; the principals a recorded `unshare` would have revoked are left out (so that `delete --unshare-first` sees the image as the real run would) |
//! | every other call | sent (reads) |
//!
//! The audit trail is neither opened nor written on a dry run (`trail::open`).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use imageshare::core::{
    CallContext, CopyTarget, ImageId, ImageSharing, Layer, Page, PageCursor, Principal, Provider,
    Region, Result, ShareOutcome, ShareReport, Sharee, TrustPolicy,
};
use serde::Serialize;

use crate::output::Document;

/// One write a dry run did not send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntendedCall {
    /// The provider it would have gone to.
    pub provider: Provider,
    /// The region of the adapter that would have sent it.
    pub region: Region,
    /// The operation: `share`, `unshare`, `copy`, `delete`, or a migration flow's step
    /// (`share-to-ecs`, `share-from-cvm`).
    pub operation: &'static str,
    /// The image it is about.
    pub image: ImageId,
    /// The principals granted or revoked (empty for other operations).
    pub principals: Vec<Principal>,
    /// Where a copy would go (`own copy`, `region R`, `project P`); `null` otherwise.
    pub target: Option<String>,
}

impl fmt::Display for IntendedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "would {} {}", self.operation, self.image)?;
        if !self.principals.is_empty() {
            let to = if self.operation == "unshare" {
                "from"
            } else {
                "with"
            };
            let names: Vec<String> = self.principals.iter().map(ToString::to_string).collect();
            write!(f, " {to} {}", names.join(", "))?;
        }
        if let Some(t) = &self.target {
            write!(f, " to {t}")?;
        }
        write!(f, " ({} {})", self.provider, self.region)
    }
}

/// The writes of one command's dry run, in the order they would have been sent; clones
/// share one list (every adapter of the command records into it).
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<IntendedCall>>>);

impl Recorder {
    /// Records `call`.
    pub fn record(&self, call: IntendedCall) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(call);
    }
    /// Every call recorded so far, in order; the list is emptied.
    pub fn take(&self) -> Vec<IntendedCall> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The dry-run layer: sends reads, records writes (see the module's table).
#[derive(Debug)]
pub struct DryRun {
    inner: Box<dyn ImageSharing>,
    calls: Recorder,
    trust: TrustPolicy,
    /// The grants a recorded `unshare` would have removed.
    revoked: Mutex<Vec<(ImageId, Principal)>>,
}

impl DryRun {
    /// `inner` behind a dry run recording into `calls`; a copy is refused as `trust` says,
    /// as the real run's trust layer would.
    pub fn new(inner: Box<dyn ImageSharing>, calls: Recorder, trust: TrustPolicy) -> Self {
        Self {
            inner,
            calls,
            trust,
            revoked: Mutex::default(),
        }
    }

    /// `sharees` without the grants of `id` a recorded `unshare` would have removed.
    fn without_revoked(&self, id: &ImageId, mut sharees: Vec<Sharee>) -> Vec<Sharee> {
        let revoked = self.revoked.lock().unwrap_or_else(PoisonError::into_inner);
        sharees.retain(|s| !revoked.iter().any(|(i, p)| i == id && *p == s.principal));
        sharees
    }

    /// The adapter under the layer.
    fn adapter(&self) -> &dyn ImageSharing {
        &*self.inner
    }

    fn record(&self, operation: &'static str, image: &ImageId, principals: &[Principal]) {
        self.calls.record(IntendedCall {
            provider: self.adapter().provider(),
            region: self.adapter().region().clone(),
            operation,
            image: image.clone(),
            principals: principals.to_vec(),
            target: None,
        });
    }
}

/// How a copy target is printed: `own copy`, `region R`, `project P` (`in region R`).
pub fn describe_target(to: &CopyTarget) -> String {
    match to {
        CopyTarget::OwnCopy { .. } => "own copy".to_owned(),
        CopyTarget::Region { region, .. } => format!("region {region}"),
        CopyTarget::Project {
            project, region, ..
        } => match region {
            Some(r) => format!("project {project} in region {r}"),
            None => format!("project {project}"),
        },
        // A target this printer was not written for.
        other => format!("{other:?}"),
    }
}

#[async_trait]
impl Layer for DryRun {
    type Inner = dyn ImageSharing;
    fn inner(&self) -> &Self::Inner {
        &*self.inner
    }
    async fn share_in(
        &self,
        _cx: &CallContext,
        id: &ImageId,
        to: &[Principal],
    ) -> Result<ShareReport> {
        self.record("share", id, to);
        let mut report = ShareReport::new(id.clone());
        report.push_all(to, ShareOutcome::Granted);
        Ok(report)
    }
    async fn unshare_in(
        &self,
        _cx: &CallContext,
        id: &ImageId,
        from: &[Principal],
    ) -> Result<ShareReport> {
        self.record("unshare", id, from);
        self.revoked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(from.iter().map(|p| (id.clone(), p.clone())));
        let mut report = ShareReport::new(id.clone());
        report.push_all(from, ShareOutcome::Revoked);
        Ok(report)
    }
    async fn copy_in(&self, cx: &CallContext, id: &ImageId, to: CopyTarget) -> Result<ImageId> {
        let image = self.adapter().image_in(cx, id).await?;
        self.trust
            .check(self.adapter().provider(), &image, "copy")?;
        self.calls.record(IntendedCall {
            provider: self.adapter().provider(),
            region: self.adapter().region().clone(),
            operation: "copy",
            image: id.clone(),
            principals: Vec::new(),
            target: Some(describe_target(&to)),
        });
        Ok(ImageId::from(format!("(dry-run copy of {id})").as_str()))
    }
    async fn sharees_page_in(
        &self,
        cx: &CallContext,
        id: &ImageId,
        cursor: Option<PageCursor>,
    ) -> Result<Page<Sharee>> {
        let page = self.adapter().sharees_page_in(cx, id, cursor).await?;
        Ok(Page::new(self.without_revoked(id, page.items), page.next))
    }
    async fn sharees_in(&self, cx: &CallContext, id: &ImageId) -> Result<Vec<Sharee>> {
        let all = self.adapter().sharees_in(cx, id).await?;
        Ok(self.without_revoked(id, all))
    }
    async fn delete_in(&self, _cx: &CallContext, id: &ImageId) -> Result<()> {
        self.record("delete", id, &[]);
        Ok(())
    }
}

imageshare::core::impl_image_sharing_for_layer!([] DryRun);

/// What a command prints on a dry run, whatever the command. Text: `dry run: nothing was
/// sent`, then `would ...` per call. JSON (`imageshare/dry-run/v1`): `{"dry_run": true,
/// "command", "calls": [IntendedCall]}`.
#[derive(Debug, Serialize)]
pub struct DryRunReport {
    /// Always true: this is not what happened, only what would.
    pub dry_run: bool,
    /// The command (`share`, `apply`, ...).
    pub command: &'static str,
    /// The writes not sent, in order.
    pub calls: Vec<IntendedCall>,
}

impl DryRunReport {
    /// The report of `command`'s dry run, with the calls `calls` recorded.
    pub fn new(command: &'static str, calls: &Recorder) -> Self {
        Self {
            dry_run: true,
            command,
            calls: calls.take(),
        }
    }
}

impl fmt::Display for DryRunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.calls.len();
        let s = if n == 1 { "" } else { "s" };
        writeln!(
            f,
            "dry run: nothing was sent ({n} write{s} would have been sent)"
        )?;
        for c in &self.calls {
            writeln!(f, "{c}")?;
        }
        Ok(())
    }
}

impl Document for DryRunReport {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intended_calls_read_as_would() {
        let call = IntendedCall {
            provider: imageshare::tencent::CVM,
            region: Region::from("ap-guangzhou"),
            operation: "unshare",
            image: ImageId::from("img-6pb6lrmy"),
            principals: vec![Principal::account("100000000002")],
            target: None,
        };
        let text = call.to_string();
        assert!(
            text.starts_with("would unshare img-6pb6lrmy from "),
            "{text}"
        );
        assert!(text.contains("100000000002"), "{text}");
        assert!(text.ends_with("(tencent-cvm ap-guangzhou)"), "{text}");
        let r = Recorder::default();
        r.record(call.clone());
        let report = DryRunReport::new("unshare", &r);
        assert!(r.take().is_empty(), "taken once");
        let v = serde_json::to_value(&report).unwrap();
        assert_eq!(v["dry_run"], true);
        assert_eq!(v["calls"][0]["operation"], "unshare");
        assert!(report
            .to_string()
            .starts_with("dry run: nothing was sent (1 write "));
    }
}
