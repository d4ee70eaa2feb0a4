//! How long copies take and which ones fail: the world's copy settings.
//!
//! A copy (ECS `CopyImage`, CVM `SyncImages`, Lighthouse `SyncBlueprint`, UHost
//! `CopyCustomImage`) is listed in its target region at once, in the cloud's in-progress
//! state (ECS `Creating`, CVM `SYNCING`, Lighthouse `SYNCING`, UHost `Copying`) with a
//! progress that rises with elapsed time (ECS `Progress` "45%", CVM `SyncPercent` 45), and
//! becomes available once its copy time has passed; a copy a `[[copy_fault]]` picks ends in
//! the cloud's failed state instead (ECS `CreateFailed`, CVM `CREATEFAILED`, Lighthouse
//! `SYNCING_FAILED`, UHost `Unavailable`, SAS `3`).
//!
//! ```toml
//! copy_ready_after_ms = 5000     # fixed part of every copy's time (0: copies are available at once)
//! copy_ms_per_gib = 500          # plus this much per GiB of the source image (`size_gib` of an [[image]])
//! copy_source_busy = false       # true: the source of a CVM SyncImages / Lighthouse SyncBlueprint
//!                                # shows SYNCING, and another sync of it is refused, until that
//!                                # call's copies have ended
//!
//! [[copy_time]]                  # optional: another time for copies INTO a region
//! region = "ap-singapore"        # target region
//! provider = "tencent-cvm"       # optional: only this provider's copies
//! ready_after_ms = 30000         # optional: replaces copy_ready_after_ms
//! ms_per_gib = 2000              # optional: replaces copy_ms_per_gib
//!
//! [[copy_fault]]                 # optional: copies that fail
//! region = "cn-beijing"          # optional: only copies into this region
//! image = "m-bp1golden"          # optional: only copies of this source image
//! provider = "alibaba-ecs"       # optional: only this provider's copies
//! fail_after_ms = 2000           # the copy is in progress this long, then failed (default 0)
//! times = 1                      # optional: only the first N copies it matches fail
//! ```
//!
//! A copy's time is `ready_after_ms + ms_per_gib * size_gib`, from the most specific
//! `[[copy_time]]` of its target region (one naming the provider before one that does not),
//! else the top-level fields. The first `[[copy_fault]]` that matches a copy (and has `times`
//! left) makes it fail `fail_after_ms` after it started, or when its time has passed if that
//! is sooner.
//!
//! `copy_source_busy` models what Lighthouse documents for SyncBlueprint ("只支持NORMAL状态的
//! 镜像进行同步" and "当镜像状态为NORMAL时表示源地域同步结束": only NORMAL blueprints sync, and
//! the blueprint is NORMAL again when the sync from the source region has ended; official
//! SDK, `LighthouseClient.SyncBlueprint`, tencentcloud-sdk-python-lighthouse 3.1.177) and
//! what CVM suggests (SyncImages takes NORMAL images only and lists
//! `FailedOperation.InvalidImageState`, "镜像状态繁忙，请稍后重试"; whether CVM holds the
//! source busy is UNCONFIRMED). Refusals: Lighthouse `FailedOperation.UnableToSyncBlueprint`
//! ("当前镜像状态无法进行跨地域同步"), CVM `FailedOperation.InvalidImageState`. Off by
//! default, so that one sync call per target region, made at once, works as before.

use std::time::Duration;

use imageshare_core::Provider;
use serde::{Deserialize, Serialize};

/// Another copy time for copies into one region (`[[copy_time]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyTime {
    /// Target region of the copies this applies to.
    pub region: String,
    /// Only copies of this provider; every provider when `None`.
    #[serde(
        default,
        deserialize_with = "crate::engine::deserialize_served_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub provider: Option<Provider>,
    /// Fixed part of the copy time; the world's `copy_ready_after_ms` when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_after_ms: Option<u64>,
    /// Milliseconds per GiB of the source; the world's `copy_ms_per_gib` when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms_per_gib: Option<u64>,
}

/// Copies that fail (`[[copy_fault]]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyFault {
    /// Only copies into this region; every region when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Only copies of this source image (its id as the cloud writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Only copies of this provider; every provider when `None`.
    #[serde(
        default,
        deserialize_with = "crate::engine::deserialize_served_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub provider: Option<Provider>,
    /// How long the copy is in progress before it fails.
    #[serde(default)]
    pub fail_after_ms: u64,
    /// Only the first `times` matching copies fail; every one when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

impl CopyFault {
    /// Whether this fault applies to a copy of `image` of `provider` into `region`.
    #[must_use]
    pub fn matches(&self, provider: Provider, image: &str, region: &str) -> bool {
        self.provider.is_none_or(|p| p == provider)
            && self.image.as_deref().is_none_or(|i| i == image)
            && self.region.as_deref().is_none_or(|r| r == region)
    }
}

/// The time a copy of a `size_gib` image of `provider` into `region` takes, from the world's
/// settings (see the module docs).
#[must_use]
pub fn copy_duration(
    world: &super::World,
    provider: Provider,
    region: &str,
    size_gib: u64,
) -> Duration {
    let specific = world
        .copy_times
        .iter()
        .filter(|t| t.region == region && t.provider.is_none_or(|p| p == provider))
        .max_by_key(|t| t.provider.is_some());
    let base = specific
        .and_then(|t| t.ready_after_ms)
        .unwrap_or(world.copy_ready_after_ms);
    let per_gib = specific
        .and_then(|t| t.ms_per_gib)
        .unwrap_or(world.copy_ms_per_gib);
    Duration::from_millis(base.saturating_add(per_gib.saturating_mul(size_gib)))
}

/// Checks the copy settings: a `[[copy_time]]` names a region, a `[[copy_fault]]` with
/// `times` fails at least once.
pub(super) fn validate(times: &[CopyTime], faults: &[CopyFault]) -> Result<(), String> {
    if let Some(t) = times.iter().find(|t| t.region.is_empty()) {
        return Err(format!("copy_time {t:?}: region is empty"));
    }
    if let Some(f) = faults.iter().find(|f| f.times == Some(0)) {
        return Err(format!("copy_fault {f:?}: times must be at least 1"));
    }
    Ok(())
}
