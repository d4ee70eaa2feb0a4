//! [`CredentialsCache`]: the credentials an adapter signs with, refreshed before they
//! expire by one task at a time.
//!
//! Rules (written once here for every cloud and every source):
//! - Credentials that do not expire (long-term keys) are read once, at construction.
//! - Temporary credentials are fetched again when less than the refresh margin is left:
//!   `min(margin, lifetime / 2)`, where the margin defaults to 180 s (what Alibaba's
//!   credentials libraries use: aliyun/credentials-go `providers/session_credentials.go`
//!   refreshes 180 s before `Expiration`) and the lifetime is the time from fetch to
//!   expiry, so that short test TTLs still refresh ahead of time.
//! - One fetch at a time: callers that find the credentials stale wait on one async mutex;
//!   the first fetches, the others find the new value when they get the lock. 32 calls in
//!   flight across an expiry make one STS call, not 32.
//! - [`CredentialsCache::call`] runs one API call with the current credentials; when the
//!   cloud answers [`Error::CredentialsExpired`] (the adapter classifies its cloud's
//!   "token expired" code so), it drops exactly those credentials, fetches once and retries
//!   the call once. Fixed credentials are never retried: a second try would be refused
//!   the same way.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::provider::{Expiring, SharedProvider};
use crate::error::{Error, Result};
use crate::model::Provider;
use crate::time::{Clock, Timestamp};

/// The default refresh margin: credentials are fetched again when at most this much of
/// their validity is left (capped at half their lifetime).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(180);

struct Cached<C> {
    value: Arc<Expiring<C>>,
    /// Unix second from which the value counts as stale; `None`: never.
    refresh_at: Option<u64>,
}

/// A provider's credentials, cached and refreshed; see the [module docs](self).
pub struct CredentialsCache<C> {
    cloud: Provider,
    provider: SharedProvider<C>,
    source: String,
    clock: Clock,
    margin: Duration,
    current: Mutex<Option<Cached<C>>>,
    refresh: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

impl<C: std::fmt::Debug> std::fmt::Debug for CredentialsCache<C> {
    /// The cloud credential types mask their secrets in `Debug`; so does this.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let current = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|c| c.value.clone());
        f.debug_struct("CredentialsCache")
            .field("provider", &self.cloud)
            .field("source", &self.source)
            .field("current", &current)
            .field("fetches", &self.fetches.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<C: Clone + Send + Sync + 'static> CredentialsCache<C> {
    /// A cache over `provider` for `cloud` (named in errors), reading time from `clock`.
    /// Fixed credentials are taken at once.
    pub fn new(cloud: Provider, provider: SharedProvider<C>, clock: Clock) -> Self {
        let current = provider.fixed().map(|c| Cached {
            value: Arc::new(Expiring::never(c.clone())),
            refresh_at: None,
        });
        CredentialsCache {
            cloud,
            source: provider.source(),
            provider,
            clock,
            margin: DEFAULT_REFRESH_MARGIN,
            current: Mutex::new(current),
            refresh: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
        }
    }

    /// The same cache with another refresh margin (see the [module docs](self)).
    #[must_use]
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The same cache describing its source as `source` (what the credential chain found,
    /// e.g. `environment variable TENCENTCLOUD_SECRET_ID`) instead of the provider's own
    /// [`source`](super::ProvideCredentials::source).
    #[must_use]
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// Where the credentials come from, for logs, errors and `whoami`; never a secret.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The credentials, when they are fixed (long-term keys): readable without waiting.
    pub fn fixed(&self) -> Option<&C> {
        self.provider.fixed()
    }

    /// How many times the provider was asked for credentials (fixed ones: 0).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn fresh(&self) -> Option<Arc<Expiring<C>>> {
        let guard = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let cached = guard.as_ref()?;
        match cached.refresh_at {
            Some(at) if self.clock.now() >= at => None,
            _ => Some(cached.value.clone()),
        }
    }

    /// The current credentials: cached while fresh, else fetched (one fetch at a time).
    pub async fn get(&self) -> Result<Arc<Expiring<C>>> {
        if let Some(v) = self.fresh() {
            return Ok(v);
        }
        let _one_at_a_time = self.refresh.lock().await;
        if let Some(v) = self.fresh() {
            return Ok(v);
        }
        let span = tracing::debug_span!("credentials.refresh", provider = %self.cloud);
        let got = tracing::Instrument::instrument(self.provider.provide(), span).await?;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let now = self.clock.now();
        let refresh_at = match got.expires {
            None => None,
            Some(expires) if expires.unix() <= now => {
                return Err(Error::CredentialSource {
                    provider: self.cloud,
                    source_name: self.source.clone(),
                    message: format!(
                        "the credentials it gave expired at {expires}, but this machine's \
                         clock says {}; check the clock (clock skew) or the source",
                        Timestamp::from_unix(now)
                    ),
                    code: None,
                    cause: None,
                });
            }
            Some(expires) => {
                let lifetime = expires.unix() - now;
                let margin = self.margin.as_secs().min(lifetime / 2);
                Some(expires.unix() - margin)
            }
        };
        tracing::debug!(
            provider = %self.cloud,
            source = %self.source,
            expires = ?got.expires.map(|t| t.to_string()),
            "credentials fetched"
        );
        let value = Arc::new(got);
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
            value: value.clone(),
            refresh_at,
        });
        Ok(value)
    }

    /// Drops `stale` if it is still the cached value (a concurrent refresh may already have
    /// replaced it; then nothing changes).
    pub fn invalidate(&self, stale: &Arc<Expiring<C>>) {
        if self.provider.fixed().is_some() {
            return;
        }
        let mut guard = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if guard
            .as_ref()
            .is_some_and(|cached| Arc::ptr_eq(&cached.value, stale))
        {
            *guard = None;
        }
    }

    /// Runs `call` with the current credentials; on [`Error::CredentialsExpired`] from
    /// fetched credentials, refreshes once and runs it once more.
    pub async fn call<T, F, Fut>(&self, mut call: F) -> Result<T>
    where
        F: FnMut(Arc<Expiring<C>>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let credentials = self.get().await?;
        match call(credentials.clone()).await {
            Err(Error::CredentialsExpired { code, .. }) if self.provider.fixed().is_none() => {
                tracing::info!(provider = %self.cloud, code = %code, "session token expired; refreshing once");
                self.invalidate(&credentials);
                let credentials = self.get().await?;
                call(credentials).await
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use super::*;
    use crate::credentials::provider::{fixed, ProvideCredentials, ProvideFuture};

    const CLOUD: Provider = Provider::new("example-cloud");

    /// Issues `key-N` valid for `ttl` seconds from the shared clock, counting fetches, and
    /// sleeping a little so that concurrent callers really overlap.
    #[derive(Debug)]
    struct Sts {
        now: Arc<AtomicU64>,
        ttl: u64,
        issued: AtomicU64,
    }

    impl ProvideCredentials<String> for Sts {
        fn provide(&self) -> ProvideFuture<'_, String> {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
                let exp = self.now.load(Ordering::SeqCst) + self.ttl;
                Ok(Expiring::until(
                    format!("key-{n}"),
                    Timestamp::from_unix(exp),
                ))
            })
        }
        fn source(&self) -> String {
            "test STS".to_owned()
        }
    }

    fn sts(ttl: u64) -> (Arc<AtomicU64>, Arc<Sts>, CredentialsCache<String>) {
        let now = Arc::new(AtomicU64::new(1_000));
        let provider = Arc::new(Sts {
            now: now.clone(),
            ttl,
            issued: AtomicU64::new(0),
        });
        let clock_now = now.clone();
        let cache = CredentialsCache::new(
            CLOUD,
            provider.clone(),
            Clock::from_fn(move || clock_now.load(Ordering::SeqCst)),
        );
        (now, provider, cache)
    }

    #[tokio::test]
    async fn fixed_credentials_are_never_fetched_nor_retried() {
        let cache = CredentialsCache::new(CLOUD, fixed("k".to_owned(), "env"), Clock::fixed(5));
        assert_eq!(cache.get().await.unwrap().credentials, "k");
        let calls = AtomicU64::new(0);
        let err = cache
            .call(|_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    Err::<(), _>(Error::CredentialsExpired {
                        provider: CLOUD,
                        code: "X".into(),
                        message: String::new(),
                        request_id: None,
                    })
                }
            })
            .await
            .unwrap_err();
        assert!(matches!(err, Error::CredentialsExpired { .. }));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "fixed keys: no retry");
        assert_eq!(cache.fetch_count(), 0);
    }

    #[tokio::test]
    async fn refreshes_within_the_margin_once_for_32_concurrent_callers() {
        // TTL 3600: margin 180 s. Fresh until 1000 + 3600 - 180.
        let (now, sts, cache) = sts(3600);
        let cache = Arc::new(cache);
        assert_eq!(cache.get().await.unwrap().credentials, "key-1");
        now.store(1_000 + 3600 - 181, Ordering::SeqCst);
        assert_eq!(
            cache.get().await.unwrap().credentials,
            "key-1",
            "still fresh"
        );
        now.store(1_000 + 3600 - 180, Ordering::SeqCst);
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.get().await.unwrap().credentials.clone() })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), "key-2");
        }
        assert_eq!(
            sts.issued.load(Ordering::SeqCst),
            2,
            "one fetch for 32 callers"
        );
        assert_eq!(cache.fetch_count(), 2);
    }

    #[tokio::test]
    async fn a_short_lifetime_refreshes_at_half_of_it() {
        let (now, sts, cache) = sts(4);
        cache.get().await.unwrap();
        now.store(1_001, Ordering::SeqCst);
        cache.get().await.unwrap();
        assert_eq!(sts.issued.load(Ordering::SeqCst), 1);
        now.store(1_002, Ordering::SeqCst);
        assert_eq!(cache.get().await.unwrap().credentials, "key-2");
    }

    #[tokio::test]
    async fn an_expired_answer_refreshes_once_and_retries_once() {
        let (_now, sts, cache) = sts(3600);
        let seen = Mutex::new(Vec::new());
        let out = cache
            .call(|c| {
                seen.lock().unwrap().push(c.credentials.clone());
                let first = c.credentials == "key-1";
                async move {
                    if first {
                        Err(Error::CredentialsExpired {
                            provider: CLOUD,
                            code: "InvalidSecurityToken.Expired".into(),
                            message: "expired".into(),
                            request_id: None,
                        })
                    } else {
                        Ok(7)
                    }
                }
            })
            .await
            .unwrap();
        assert_eq!(out, 7);
        assert_eq!(*seen.lock().unwrap(), ["key-1", "key-2"]);
        assert_eq!(sts.issued.load(Ordering::SeqCst), 2);
        // A second expiry on the retry is not retried again.
        let calls = AtomicU64::new(0);
        let err = cache
            .call(|_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    Err::<(), _>(Error::CredentialsExpired {
                        provider: CLOUD,
                        code: "X".into(),
                        message: String::new(),
                        request_id: None,
                    })
                }
            })
            .await
            .unwrap_err();
        assert!(matches!(err, Error::CredentialsExpired { .. }));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn credentials_already_expired_by_this_clock_are_a_clock_skew_error() {
        #[derive(Debug)]
        struct Past;
        impl ProvideCredentials<String> for Past {
            fn provide(&self) -> ProvideFuture<'_, String> {
                Box::pin(async { Ok(Expiring::until("k".to_owned(), Timestamp::from_unix(10))) })
            }
            fn source(&self) -> String {
                "the past".to_owned()
            }
        }
        let cache = CredentialsCache::new(CLOUD, Arc::new(Past), Clock::fixed(100));
        let err = cache.get().await.unwrap_err().to_string();
        assert!(err.contains("from the past"), "{err}");
        assert!(err.contains("clock skew"), "{err}");
    }
}
