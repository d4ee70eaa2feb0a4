//! Pieces both adapters share: principal checks, the idempotent share/unshare with
//! reconciliation, paging, and the builder setters.

use std::collections::HashSet;
use std::future::Future;

use imageshare_core::{Error, ImageId, Principal, Result, ShareLimits, ShareOutcome, ShareReport};

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
/// `send(accounts)` makes one call for the accounts. If it fails with `conflict_code`
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
    SF: Future<Output = Result<()>>,
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
        Ok(()) => {
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
                send(rest.clone()).await?;
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

/// Reads every page of a Describe call: `page(offset)` returns `(total_count, items)`.
/// Stops at the total, at an empty page, or (defensively) after 100 000 items.
pub(crate) async fn all_pages<T, P, PF>(mut page: P) -> Result<Vec<T>>
where
    P: FnMut(u64) -> PF,
    PF: Future<Output = Result<(u64, Vec<T>)>>,
{
    let mut out = Vec::new();
    let mut offset = 0u64;
    loop {
        let (total, items) = page(offset).await?;
        let n = items.len() as u64;
        out.extend(items);
        offset += n;
        if n == 0 || offset >= total || offset >= 100_000 {
            return Ok(out);
        }
    }
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
                        Ok(())
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
    }

    #[tokio::test]
    async fn pages_until_total() {
        let calls = Mutex::new(Vec::new());
        let items = all_pages(|offset| {
            calls.lock().unwrap().push(offset);
            async move {
                let n = if offset < 200 { 100 } else { 50 };
                Ok((250u64, (0..n).map(|i| offset + i).collect::<Vec<u64>>()))
            }
        })
        .await
        .unwrap();
        assert_eq!(items.len(), 250);
        assert_eq!(*calls.lock().unwrap(), [0, 100, 200]);
    }
}
