//! Pieces both adapters share: principal checks, the idempotent share/unshare with
//! reconciliation, lookups by id, the id of a copy, offset paging and the reading of
//! `CreatedTime`. The adapters differ only in their actions and wire models; what they do
//! with them is written here once.

use std::collections::HashSet;
use std::future::Future;

use imageshare_core::limits::ImageIdUse;
use imageshare_core::{
    CallContext, Error, ImageId, ImageSharing, Page, PageCursor, Principal, Region, Result,
    ShareLimits, ShareOutcome, ShareReport, Timestamp,
};

use serde::Serialize;

use crate::client::{CallOptions, TencentClient};

/// An adapter over one Tencent service, as the shared pieces below see it.
pub(crate) trait Service: ImageSharing {
    /// The adapter's signed-JSON client.
    fn client(&self) -> &TencentClient;

    /// What the service calls the images it shares (`image`, `blueprint`).
    fn item(&self) -> &'static str {
        self.client().spec().item
    }
}

/// One share or unshare action of a service: its name, which way it changes the grants,
/// and the code the service answers when some account already is in the wanted state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GrantAction<'a> {
    pub(crate) action: &'a str,
    pub(crate) granting: bool,
    pub(crate) conflict_code: Option<&'a str>,
}

/// Shares or unshares `principals` on `id` with `grant.action`: checks the id and the
/// accounts, sends the request `request` makes of the accounts (one call, whose request id
/// the report carries), and reconciles a conflict answer against the current sharees in
/// `cx` (see [`apply`]).
pub(crate) async fn change_grants<A, Q>(
    adapter: &A,
    cx: &CallContext,
    id: &ImageId,
    principals: &[Principal],
    grant: GrantAction<'_>,
    request: impl Fn(Vec<String>) -> Q,
) -> Result<ShareReport>
where
    A: Service,
    Q: Serialize + Sync,
{
    check_id(adapter.limits(), id)?;
    let accounts = account_ids(adapter.limits(), principals)?;
    let send = |accounts| {
        let request = request(accounts);
        async move {
            let opts = CallOptions::about(id.as_str(), true);
            adapter
                .client()
                .call_for_request_id(cx, grant.action, &request, opts)
                .await
        }
    };
    let current = || async {
        Ok(adapter
            .sharees_in(cx, id)
            .await?
            .into_iter()
            .map(|s| s.principal.id().to_owned())
            .collect())
    };
    apply(
        id,
        accounts,
        grant.granting,
        grant.conflict_code,
        send,
        current,
    )
    .await
}

/// Deletes `id` with `action` and its `request`, after checking the id.
pub(crate) async fn delete<A: Service, Q: Serialize + Sync>(
    adapter: &A,
    cx: &CallContext,
    id: &ImageId,
    action: &str,
    request: Q,
) -> Result<()> {
    check_id(adapter.limits(), id)?;
    let opts = CallOptions::about(id.as_str(), false);
    adapter
        .client()
        .call_for_request_id(cx, action, &request, opts)
        .await?;
    Ok(())
}

/// Refuses a Describe request that names ids (`ids_field`) and filters at once: the
/// service does not accept both.
pub(crate) fn ids_or_filters(
    action: &str,
    ids_field: &str,
    ids: bool,
    filters: bool,
) -> Result<()> {
    if ids && filters {
        return Err(Error::invalid_input(
            action,
            format!("{ids_field} and Filters cannot be combined"),
        ));
    }
    Ok(())
}

/// The entry for `id` in what a lookup by id answered (`set`, whose ids `id_of` reads);
/// [`Error::NotFound`] naming the adapter's item when the service listed none.
pub(crate) fn the_one<A: Service, T>(
    adapter: &A,
    id: &ImageId,
    set: Vec<T>,
    id_of: impl Fn(&T) -> &str,
) -> Result<T> {
    set.into_iter()
        .find(|x| id_of(x) == id.as_str())
        .ok_or_else(|| Error::not_found(adapter.provider(), adapter.item(), id.to_string()))
}

/// The id of the copy made in `region`, from the per-region answer of a copy action
/// (`set`, whose `(region, id)` pairs `fields` reads): the entry for `region`, else the
/// first. An empty answer is [`Error::Decode`] of `action` saying `empty`.
pub(crate) fn copied_id<A: Service, T>(
    adapter: &A,
    action: &str,
    set: &[T],
    region: &Region,
    fields: impl Fn(&T) -> (&str, &str),
    empty: &str,
) -> Result<ImageId> {
    set.iter()
        .map(&fields)
        .find(|(r, _)| *r == region.as_str())
        .or_else(|| set.first().map(&fields))
        .map(|(_, id)| ImageId::from(id))
        .ok_or_else(|| Error::decode(adapter.provider(), action, empty, None))
}

/// The new id per region of `regions` from a copy answer `set` (`SyncImages` `ImageSet`,
/// `SyncBlueprint` `DestinationRegionBlueprintSet`), in order; a region the answer does not
/// list is a per-region [`Error::Decode`].
pub(crate) fn copied_ids<A: Service, T>(
    adapter: &A,
    action: &str,
    set: &[T],
    regions: &[Region],
    fields: impl Fn(&T) -> (&str, &str),
) -> Vec<Result<ImageId>> {
    regions
        .iter()
        .map(|region| {
            set.iter()
                .map(&fields)
                .find(|(r, _)| *r == region.as_str())
                .map(|(_, id)| ImageId::from(id))
                .ok_or_else(|| {
                    Error::decode(
                        adapter.provider(),
                        action,
                        format!("the answer lists no copy in {region}"),
                        None,
                    )
                })
        })
        .collect()
}

/// Page size for every paged Describe call (Tencent's documented maximum).
pub const PAGE_SIZE: u64 = 100;

/// The account ids of `principals`, deduplicated in order. Refuses an empty list,
/// project principals and ids that are not plain numbers (root-account UINs); the limit
/// checker does the full form check, this only keeps garbage off the wire.
pub(crate) fn account_ids(limits: &ShareLimits, principals: &[Principal]) -> Result<Vec<String>> {
    Ok(limits
        .principals_for_call(principals)?
        .into_iter()
        .map(|p| p.id().to_owned())
        .collect())
}

/// Grants (`granting`) or revokes the accounts' access and reports per account.
///
/// `send(accounts)` makes one call for the accounts and returns its request id, which
/// the report records (both calls' ids after a reconciliation). If it fails with `conflict_code`
/// (Tencent's answer when some account already has / does not have a grant, e.g. after a
/// retried request that had in fact been applied), the current sharees are read with
/// `list()`, the accounts already in the wanted state are reported as `AlreadyGranted` /
/// `NotGranted`, and the others are sent once more. So sharing twice never fails and never
/// duplicates a grant.
pub(crate) async fn apply<S, SF, L, LF>(
    image: &ImageId,
    accounts: Vec<String>,
    granting: bool,
    conflict_code: Option<&str>,
    send: S,
    list: L,
) -> Result<ShareReport>
where
    S: Fn(Vec<String>) -> SF,
    SF: Future<Output = Result<Option<String>>>,
    L: FnOnce() -> LF,
    LF: Future<Output = Result<Vec<String>>>,
{
    let changed = if granting {
        ShareOutcome::Granted
    } else {
        ShareOutcome::Revoked
    };
    let unchanged = if granting {
        ShareOutcome::AlreadyGranted
    } else {
        ShareOutcome::NotGranted
    };
    let mut report = ShareReport::new(image.clone());
    match send(accounts.clone()).await {
        Ok(request_id) => {
            report.add_request_id(request_id.unwrap_or_default());
            for a in &accounts {
                report.push(Principal::account(a.as_str()), changed.clone());
            }
            Ok(report)
        }
        Err(e) if conflict_code.is_some() && e.code() == conflict_code => {
            tracing::debug!(
                image = %image,
                code = e.code().unwrap_or(""),
                "share state conflict: reconciling with the current sharees"
            );
            let current: HashSet<String> = match list().await {
                Ok(c) => c.into_iter().collect(),
                Err(_) => return Err(e),
            };
            // Accounts whose grant state already is what the caller wants.
            let settled = |a: &String| current.contains(a) == granting;
            let rest: Vec<String> = accounts.iter().filter(|a| !settled(a)).cloned().collect();
            if !rest.is_empty() {
                let request_id = send(rest.clone()).await?;
                report.add_request_id(request_id.unwrap_or_default());
            }
            for a in &accounts {
                let outcome = if rest.contains(a) {
                    changed.clone()
                } else {
                    unchanged.clone()
                };
                report.push(Principal::account(a.as_str()), outcome);
            }
            Ok(report)
        }
        Err(e) => Err(e),
    }
}

/// One page of a Describe call paged by `Offset` / `Limit` ([`PAGE_SIZE`]): the page at
/// `offset` held `items` of `total` (`TotalCount`); the next page starts after them.
pub(crate) fn offset_page<T>(offset: u64, total: u64, items: Vec<T>) -> Page<T> {
    let next = PageCursor::after_offset(offset, items.len(), PAGE_SIZE, Some(total));
    Page::new(items, next)
}

/// A `CreatedTime` (the name of the creation time of CVM images and Lighthouse blueprints,
/// and of the grant time of both services' share lists) as a [`Timestamp`]. Tencent
/// documents ISO 8601 UTC (`2018-06-10T11:02:50Z`) and its examples also show
/// `2020-09-22T00:00:00+00:00`; any RFC 3339 offset is read. Absent, empty or unreadable
/// is `None` (unreadable is logged at debug).
pub(crate) fn reported_time(text: Option<&str>) -> Option<Timestamp> {
    Timestamp::from_reported("CreatedTime", text?)
}

/// Refuses an id that can never be one of `limits`' provider's (empty, too long, a
/// character outside `[A-Za-z0-9._-]`) before anything is sent, with the table's own rule
/// (the one the limit checker applies; public image ids are allowed).
pub(crate) fn check_id(limits: &ShareLimits, id: &ImageId) -> Result<()> {
    limits.check_image_id(id, ImageIdUse::Lookup)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn account_ids_dedupe_and_refuse_projects() {
        let ids = account_ids(
            &crate::CVM_LIMITS,
            &[
                Principal::account("100"),
                Principal::account("200"),
                Principal::account("100"),
            ],
        )
        .unwrap();
        assert_eq!(ids, ["100", "200"]);
        assert!(account_ids(&crate::CVM_LIMITS, &[Principal::project("org-a")]).is_err());
        // More than one call carries is refused (the id form is the limit checker's rule).
        let eleven: Vec<Principal> = (0..11)
            .map(|i| Principal::account(format!("10{i}")))
            .collect();
        assert!(account_ids(&crate::CVM_LIMITS, &eleven).is_err());
        assert!(account_ids(&crate::CVM_LIMITS, &[]).is_err());
    }

    #[tokio::test]
    async fn conflict_is_reconciled_without_duplicating_grants() {
        let sent: Mutex<Vec<Vec<String>>> = Mutex::new(Vec::new());
        let report = apply(
            &ImageId::from("img-1"),
            vec!["1".into(), "2".into(), "3".into()],
            true,
            Some("FailedOperation.AccountAlreadyExists"),
            |batch| {
                let first = sent.lock().unwrap().is_empty();
                sent.lock().unwrap().push(batch);
                async move {
                    if first {
                        Err(Error::from(imageshare_core::ApiError::new(
                            crate::CVM,
                            "ModifyImageSharePermission",
                            200,
                            "FailedOperation.AccountAlreadyExists",
                            "exists",
                        )))
                    } else {
                        Ok(Some("req-2".to_owned()))
                    }
                }
            },
            || async { Ok(vec!["2".to_owned()]) },
        )
        .await
        .unwrap();
        assert_eq!(
            *sent.lock().unwrap(),
            vec![vec!["1", "2", "3"], vec!["1", "3"]]
        );
        let labels: Vec<&str> = report.iter().map(|(_, o)| o.label()).collect();
        assert_eq!(labels, ["granted", "already-granted", "granted"]);
        assert_eq!(
            report.request_id(),
            Some("req-2"),
            "the call that applied it"
        );
    }

    #[test]
    fn offset_pages_advance_to_the_total() {
        let p = offset_page(0, 250, vec![0u8; 100]);
        assert_eq!(p.next, Some(PageCursor::Offset(100)));
        assert_eq!(offset_page(200, 250, vec![0u8; 50]).next, None);
        assert_eq!(offset_page(100, 250, Vec::<u8>::new()).next, None);
    }
}
