//! [`CallContext`]: what one call carries besides its arguments, passed explicitly from
//! the caller through every layer down to the transport (the operation context of
//! opendal).
//!
//! It holds three things, none of them hidden in task-local state, so a call spawned on
//! another task with the same context behaves exactly as one made in place:
//!
//! - **where retries are recorded**: [`CallContext::collecting_retries`] gives a child
//!   context whose failed attempts (see [`crate::transport`]) go to a fresh
//!   [`RetryLog`] as well as to every enclosing collector;
//! - **images a flow vouched for**: [`CallContext::vouching`] marks an image the running
//!   flow produced itself from one of the caller's own images, which every
//!   [`Trusted`](crate::Trusted) layer then accepts whatever its policy;
//! - **which audit layers record the call**: an [`Audited`](crate::Audited) layer marks the
//!   context it passes down, so that an outer layer writing to the same trail does not
//!   record the same change twice.
//!
//! The context is cheap to clone (a few reference counts). [`ImageSharingExt`]'s methods
//! without a context (`share`, `image`, ...) make each call in a fresh one.
//!
//! [`ImageSharingExt`]: crate::ImageSharingExt

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::model::{ImageId, Provider};
use crate::transport::{RetryLog, RetryReason};

/// The explicit context of one call; see the [module docs](self).
#[derive(Clone, Default)]
pub struct CallContext {
    retries: Option<Arc<RetrySink>>,
    vouched: Arc<Vec<(Provider, ImageId)>>,
    audit: Arc<Vec<AuditMark>>,
}

/// A retry log and the collector it belongs under.
struct RetrySink {
    log: Mutex<RetryLog>,
    parent: Option<Arc<RetrySink>>,
}

/// An audit layer the call runs under: the trail it writes to, and whether a layer below it
/// writing to the same trail has recorded the call.
#[derive(Clone)]
struct AuditMark {
    trail: usize,
    recorded: Arc<AtomicBool>,
}

impl CallContext {
    /// A fresh context: retries not collected, nothing vouched for, no audit layer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A child of this context whose failed attempts are collected into a fresh log (and
    /// still into every collector this context already has), with the handle that reads
    /// the log.
    #[must_use]
    pub fn collecting_retries(&self) -> (CallContext, RetryCollector) {
        let sink = Arc::new(RetrySink {
            log: Mutex::new(RetryLog::new()),
            parent: self.retries.clone(),
        });
        let child = CallContext {
            retries: Some(sink.clone()),
            ..self.clone()
        };
        (child, RetryCollector(sink))
    }

    /// Records one failed attempt of `action` in every collector of this context
    /// (`retried` when another attempt followed). No-op when nothing collects.
    pub fn record_retry(
        &self,
        provider: Provider,
        action: &str,
        reason: RetryReason,
        retried: bool,
    ) {
        let mut sink = self.retries.as_deref();
        while let Some(s) = sink {
            s.log
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .record(provider, action, reason, retried);
            sink = s.parent.as_deref();
        }
    }

    /// A child of this context in which `image` on `provider` is accepted by every
    /// [`Trusted`](crate::Trusted) layer, whatever its policy: for a flow that produced
    /// the image itself from an image of the caller's own, after checking that source
    /// image against the policy.
    #[must_use]
    pub fn vouching(&self, provider: Provider, image: ImageId) -> CallContext {
        let mut vouched = Vec::clone(&self.vouched);
        vouched.push((provider, image));
        CallContext {
            vouched: Arc::new(vouched),
            ..self.clone()
        }
    }

    /// Whether a flow vouched for `image` on `provider` in this context.
    #[must_use]
    pub fn is_vouched(&self, provider: Provider, image: &ImageId) -> bool {
        self.vouched
            .iter()
            .any(|(p, i)| *p == provider && i == image)
    }

    /// A child of this context for a call made under an audit layer writing to `trail`
    /// (an identity of the trail), with the flag that tells whether a layer below, writing
    /// to the same trail, recorded the call.
    pub(crate) fn under_audit(&self, trail: usize) -> (CallContext, Arc<AtomicBool>) {
        let recorded = Arc::new(AtomicBool::new(false));
        let mut audit = Vec::clone(&self.audit);
        audit.push(AuditMark {
            trail,
            recorded: recorded.clone(),
        });
        let child = CallContext {
            audit: Arc::new(audit),
            ..self.clone()
        };
        (child, recorded)
    }

    /// Tells the nearest enclosing audit layer writing to `trail` that this call is
    /// recorded.
    pub(crate) fn mark_audited(&self, trail: usize) {
        if let Some(mark) = self.audit.iter().rev().find(|m| m.trail == trail) {
            mark.recorded.store(true, Ordering::SeqCst);
        }
    }
}

impl fmt::Debug for CallContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallContext")
            .field("collecting_retries", &self.retries.is_some())
            .field("vouched", &self.vouched)
            .field("audit_layers", &self.audit.len())
            .finish()
    }
}

/// Reads the retry log of a context made by [`CallContext::collecting_retries`].
#[derive(Clone)]
pub struct RetryCollector(Arc<RetrySink>);

impl RetryCollector {
    /// A copy of what was collected so far.
    pub fn log(&self) -> RetryLog {
        self.0
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// What was collected so far, leaving the log empty.
    pub fn take(&self) -> RetryLog {
        std::mem::take(&mut *self.0.log.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl fmt::Debug for RetryCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RetryCollector").field(&self.log()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOUD: Provider = Provider::new("example-cloud");

    #[test]
    fn retries_reach_every_enclosing_collector_and_no_sibling() {
        let root = CallContext::new();
        root.record_retry(CLOUD, "A", RetryReason::Throttled, true);
        let (outer, outer_log) = root.collecting_retries();
        let (inner, inner_log) = outer.collecting_retries();
        let (sibling, sibling_log) = outer.collecting_retries();
        inner.record_retry(CLOUD, "A", RetryReason::Throttled, true);
        sibling.record_retry(CLOUD, "B", RetryReason::Timeout, false);
        assert_eq!(inner_log.log().retried().throttled, 1);
        assert!(inner_log.log().gave_up().is_empty());
        assert_eq!(sibling_log.log().gave_up().timeout, 1);
        let all = outer_log.take();
        assert_eq!(all.failed_attempts().total(), 2);
        assert!(outer_log.log().is_empty(), "take empties the log");
    }

    #[test]
    fn vouching_is_scoped_to_the_child() {
        let cx = CallContext::new();
        let id = ImageId::from("m-1");
        let child = cx.vouching(CLOUD, id.clone());
        assert!(child.is_vouched(CLOUD, &id));
        assert!(!child.is_vouched(Provider::new("other-cloud"), &id));
        assert!(!cx.is_vouched(CLOUD, &id));
    }

    #[test]
    fn audit_marks_reach_the_nearest_layer_of_the_same_trail() {
        let (outer, outer_flag) = CallContext::new().under_audit(1);
        let (other, other_flag) = outer.under_audit(2);
        let (inner, inner_flag) = other.under_audit(1);
        inner.mark_audited(1);
        assert!(inner_flag.load(Ordering::SeqCst));
        assert!(!outer_flag.load(Ordering::SeqCst));
        assert!(!other_flag.load(Ordering::SeqCst));
        other.mark_audited(1);
        assert!(outer_flag.load(Ordering::SeqCst));
    }
}
