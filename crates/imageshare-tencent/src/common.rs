//! Pieces both adapters share: principal checks, the idempotent share/unshare with
//! reconciliation, offset paging, and the builder setters.

use std::collections::HashSet;
use std::future::Future;

use imageshare_core::{
    Error, ImageId, Page, PageCursor, Principal, Result, ShareLimits, ShareOutcome, ShareReport,
};

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

/// Refuses an empty or blank image id before anything is sent.
pub(crate) fn check_id(id: &ImageId, what: &str) -> Result<()> {
    let s = id.as_str();
    if s.trim().is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid_input(
            what,
            format!("{s:?} is not a Tencent Cloud {what} id"),
        ));
    }
    Ok(())
}

/// The setters both builders share (defined once, expanded into each builder).
macro_rules! common_setters {
    () => {
        /// The region every call is made in (`X-TC-Region`), e.g. `ap-guangzhou`.
        pub fn region(mut self, region: impl Into<imageshare_core::Region>) -> Self {
            self.config.region = Some(region.into());
            self
        }

        /// Overrides the endpoint (private endpoints, regional hosts, the emulator):
        /// an absolute `http://` or `https://` URL. Validated when the adapter is built.
        pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
            self.config.endpoint = Some(endpoint.into());
            self
        }

        /// Chooses the default endpoint of the China site (`*.tencentcloudapi.com`, the
        /// default) or the international site (`*.intl.tencentcloudapi.com`). An explicit
        /// [`endpoint`](Self::endpoint) wins.
        pub fn site(mut self, site: imageshare_core::Site) -> Self {
            self.config.site = site;
            self
        }

        /// Explicit credentials (used before the environment and the profile file).
        pub fn credentials(mut self, credentials: $crate::TencentCredentials) -> Self {
            self.config.credentials = Some(credentials);
            self
        }

        /// The credential chain to use when no explicit credentials are given (e.g. with
        /// another profile section).
        pub fn credential_chain(mut self, chain: $crate::CredentialChain) -> Self {
            self.config.chain = Some(chain);
            self
        }

        /// Transport options (timeouts, user agent, concurrency bound).
        pub fn client_options(
            mut self,
            options: imageshare_core::transport::ClientOptions,
        ) -> Self {
            self.config.options = options;
            self
        }

        /// The per-attempt timeout.
        pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
            self.config.options.timeout = timeout;
            self
        }

        /// The connect timeout.
        pub fn connect_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.config.options.connect_timeout = timeout;
            self
        }

        /// The retry policy (bounded attempts, jittered exponential backoff).
        pub fn retry(mut self, retry: imageshare_core::transport::RetryConfig) -> Self {
            self.config.retry = retry;
            self
        }

        /// Client-side rate limits per action, replacing the published defaults
        /// ([`crate::limits::cvm_rate_limits`], [`crate::limits::lighthouse_rate_limits`]);
        /// `RateLimits::none()` limits nothing. The table is set on the rate limiter of the
        /// client options, so every adapter sharing that limiter follows it.
        pub fn rate_limits(mut self, limits: imageshare_core::ratelimit::RateLimits) -> Self {
            self.config.rate_limits = Some(limits);
            self
        }

        /// The client-side rate of one action, on top of the defaults (or of
        /// [`rate_limits`](Self::rate_limits)).
        pub fn rate_limit(
            mut self,
            action: impl Into<String>,
            rate: imageshare_core::ratelimit::Rate,
        ) -> Self {
            self.config.rate_overrides.push((action.into(), rate));
            self
        }

        /// `X-TC-Language` (`zh-CN` or `en-US`) for error messages; not sent by default.
        pub fn language(mut self, language: $crate::Language) -> Self {
            self.config.language = Some(language);
            self
        }

        /// The clock `X-TC-Timestamp` is read from (tests pin it with
        /// [`Clock::fixed`]($crate::Clock::fixed)); the system clock by default.
        pub fn clock(mut self, clock: $crate::Clock) -> Self {
            self.config.clock = clock;
            self
        }
    };
}
pub(crate) use common_setters;

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
                        Err(Error::Api(imageshare_core::ApiError {
                            provider: imageshare_core::Provider::TencentCvm,
                            action: "ModifyImageSharePermission".into(),
                            status: 200,
                            code: "FailedOperation.AccountAlreadyExists".into(),
                            message: "exists".into(),
                            request_id: None,
                            retryable: false,
                            retry_after: None,
                        }))
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
