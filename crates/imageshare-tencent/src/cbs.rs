//! CBS (Cloud Block Storage, API 2017-03-12) `DescribeSnapshots`: the only published
//! signal of whether a CVM image is encrypted. CVM's `DescribeImages` reports no
//! encryption, but each image lists its snapshots (`SnapshotSet[].SnapshotId`), and CBS
//! reports for each snapshot whether it was made from an encrypted disk
//! (`Snapshot.Encrypt`).
//!
//! | call | CBS action |
//! |---|---|
//! | [`Cbs::describe_snapshots`] | `DescribeSnapshots` with up to [`CBS_DESCRIBE_SNAPSHOTS_MAX_IDS`] `SnapshotIds`, `Limit` = their number |
//! | [`Cbs::encrypt_flags`] | the same, any failure read as "nothing known" |
//!
//! Field names checked against the official model, tencentcloud-sdk-go
//! `tencentcloud/cbs/v20170312/models.go` (commit 144f6c8d, 2026-08-21):
//! `DescribeSnapshotsRequestParams { SnapshotIds []*string, Filters, Limit *uint64, ... }`
//! ("Limit: default 20, maximum 100"; `SnapshotIds` and `Filters` cannot be combined),
//! `DescribeSnapshotsResponseParams { TotalCount, SnapshotSet []*Snapshot, RequestId }`,
//! `Snapshot { SnapshotId *string, Encrypt *bool ("true: made from an encrypted disk"),
//! DiskUsage *string, ... }`; `client.go`: service `cbs`, `APIVersion = "2017-03-12"`.
//! Host `cbs.tencentcloudapi.com` (`cbs.intl.tencentcloudapi.com`), 20 requests per
//! second (official API page 362/15647; the rate is in
//! [`CVM_RATE_TABLE`](crate::limits::CVM_RATE_TABLE), as the CVM adapter makes the call).

use std::collections::HashMap;

use imageshare_core::{CallContext, Encryption, Result};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::client::{CallOptions, ServiceSpec, TencentClient};

/// Snapshot ids per `DescribeSnapshots` call: the documented maximum `Limit` (100), so one
/// page always holds the answer.
pub const CBS_DESCRIBE_SNAPSHOTS_MAX_IDS: usize = 100;

/// CBS 2017-03-12, signed as service `cbs`. Its calls count for the CVM provider (the
/// CVM adapter makes them), under the CVM rate table.
pub const CBS_SERVICE: ServiceSpec = ServiceSpec {
    provider: crate::CVM,
    service: "cbs",
    version: crate::CBS_VERSION,
    host: crate::CBS_HOST,
    intl_host: crate::CBS_INTL_HOST,
    item: "snapshot",
    limits: &crate::CVM_LIMITS,
    rate_limits: crate::limits::cvm_rate_limits,
};

/// CBS `DescribeSnapshots` request (by ids only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSnapshotsRequest {
    /// `snap-...` ids, at most [`CBS_DESCRIBE_SNAPSHOTS_MAX_IDS`].
    pub snapshot_ids: Vec<String>,
    /// Page size: the number of ids.
    pub limit: u64,
}

/// CBS `DescribeSnapshots` answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeSnapshotsResponse {
    /// Snapshots matching the request.
    pub total_count: Option<u64>,
    /// The snapshots found (unknown ids are left out).
    pub snapshot_set: Vec<CbsSnapshot>,
}

/// The fields of a CBS `Snapshot` this crate reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CbsSnapshot {
    /// `snap-...`.
    pub snapshot_id: Option<String>,
    /// True when the snapshot was made from an encrypted disk.
    pub encrypt: Option<bool>,
    /// `SYSTEM_DISK` or `DATA_DISK`.
    pub disk_usage: Option<String>,
}

/// A CBS client sharing the CVM adapter's credentials, transport and region.
#[derive(Debug, Clone)]
pub struct Cbs {
    client: TencentClient,
}

impl Cbs {
    /// CBS over `client` (built with [`CBS_SERVICE`]).
    pub(crate) fn new(client: TencentClient) -> Self {
        Cbs { client }
    }

    /// `DescribeSnapshots` for `ids`, [`CBS_DESCRIBE_SNAPSHOTS_MAX_IDS`] per call; nothing
    /// is sent for no ids.
    pub async fn describe_snapshots(
        &self,
        cx: &CallContext,
        ids: &[String],
    ) -> Result<Vec<CbsSnapshot>> {
        let mut found = Vec::new();
        for chunk in ids.chunks(CBS_DESCRIBE_SNAPSHOTS_MAX_IDS) {
            let request = DescribeSnapshotsRequest {
                snapshot_ids: chunk.to_vec(),
                limit: chunk.len() as u64,
            };
            let span = tracing::info_span!("cbs_describe_snapshots", snapshots = chunk.len());
            let answer: DescribeSnapshotsResponse = self
                .client
                .call(cx, "DescribeSnapshots", &request, CallOptions::read())
                .instrument(span)
                .await?;
            found.extend(answer.snapshot_set);
        }
        Ok(found)
    }

    /// `Encrypt` of each snapshot of `ids` CBS reports (repeated ids asked once). Never
    /// fails: a refusal (e.g. `AuthFailure.UnauthorizedOperation` for a key without CBS
    /// read access) or any other failure is logged at debug and yields nothing known, so
    /// the images read as [`Encryption::NotReported`] and the server stays the judge.
    pub async fn encrypt_flags(&self, cx: &CallContext, ids: &[String]) -> HashMap<String, bool> {
        let mut unique: Vec<String> = ids.to_vec();
        unique.sort();
        unique.dedup();
        match self.describe_snapshots(cx, &unique).await {
            Ok(set) => set
                .into_iter()
                .filter_map(|s| Some((s.snapshot_id?, s.encrypt?)))
                .collect(),
            Err(e) => {
                tracing::debug!(error = %e, "CBS DescribeSnapshots failed; encryption not reported");
                HashMap::new()
            }
        }
    }
}

/// An image's encryption from its snapshots' `Encrypt` flags (`known`, from
/// [`Cbs::encrypt_flags`]): any encrypted snapshot makes it encrypted
/// ([`Encryption::Unknown`]: CBS does not say with which kind of key); every snapshot
/// known and none encrypted makes it [`Encryption::None`]; no snapshots, or one CBS did
/// not report, leaves it [`Encryption::NotReported`].
#[must_use]
pub fn encryption(snapshots: &[String], known: &HashMap<String, bool>) -> Encryption {
    if snapshots.iter().any(|s| known.get(s) == Some(&true)) {
        Encryption::Unknown
    } else if !snapshots.is_empty() && snapshots.iter().all(|s| known.contains_key(s)) {
        Encryption::None
    } else {
        Encryption::NotReported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_encrypted_snapshot_makes_the_image_encrypted() {
        let known: HashMap<String, bool> = [("snap-a", false), ("snap-b", true)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            encryption(&ids(&["snap-a", "snap-b"]), &known),
            Encryption::Unknown
        );
        assert_eq!(encryption(&ids(&["snap-a"]), &known), Encryption::None);
        assert_eq!(
            encryption(&ids(&["snap-a", "snap-c"]), &known),
            Encryption::NotReported
        );
        assert_eq!(encryption(&[], &known), Encryption::NotReported);
        assert_eq!(
            encryption(&ids(&["snap-a"]), &HashMap::new()),
            Encryption::NotReported
        );
    }

    #[test]
    fn the_request_has_the_official_field_names() {
        let r = DescribeSnapshotsRequest {
            snapshot_ids: vec!["snap-1".into()],
            limit: 1,
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"SnapshotIds": ["snap-1"], "Limit": 1})
        );
    }
}
