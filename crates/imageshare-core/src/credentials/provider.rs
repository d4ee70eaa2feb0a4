//! [`ProvideCredentials`]: where an adapter's credentials come from at the moment it signs.
//!
//! Long-term keys never change, but temporary credentials (an assumed role, OIDC, an
//! instance role) expire and must be fetched again, asynchronously, from STS or the
//! metadata server. A provider does one fetch; [`CredentialsCache`](super::CredentialsCache)
//! keeps the answer, refreshes it before it expires and makes sure only one fetch runs at
//! a time. Users implement the trait for their own vault or broker (as aws-sdk's
//! `ProvideCredentials`); the clouds' chains return one of the built-in providers.
//!
//! The trait is generic over each cloud's credentials type (`TencentCredentials`,
//! `AlibabaCredentials`, `UCloudCredentials`): the clouds' keys differ in shape.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::Result;
use crate::time::Timestamp;

/// Credentials with the instant they stop being valid (`None`: they do not expire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiring<C> {
    /// The credentials.
    pub credentials: C,
    /// When the provider said they expire; `None` for long-term keys.
    pub expires: Option<Timestamp>,
}

impl<C> Expiring<C> {
    /// Credentials that never expire (long-term keys).
    pub fn never(credentials: C) -> Self {
        Expiring {
            credentials,
            expires: None,
        }
    }

    /// Credentials valid until `expires`.
    pub fn until(credentials: C, expires: Timestamp) -> Self {
        Expiring {
            credentials,
            expires: Some(expires),
        }
    }
}

/// The future a [`ProvideCredentials`] returns.
pub type ProvideFuture<'a, C> = Pin<Box<dyn Future<Output = Result<Expiring<C>>> + Send + 'a>>;

/// One way of obtaining credentials of type `C`: fixed keys, STS `AssumeRole` over other
/// credentials, an OIDC token exchange, the instance metadata server, or your own.
///
/// # Implementing your own (a vault, a credentials broker)
///
/// - `C` is the cloud's credentials type (`TencentCredentials`, `AlibabaCredentials`,
///   `UCloudCredentials`, with the STS token of temporary keys: `with_token`,
///   `with_security_token`); hand the provider
///   to a builder's `credentials_provider` (or the facade's
///   `Connect::credentials_provider`), as an `Arc`.
/// - [`provide`](Self::provide) fetches afresh every time it is called, asynchronously
///   (an HTTP call to the broker, a file read through `tokio::fs`): never block in it.
///   Adapters call it through a [`CredentialsCache`](super::CredentialsCache): at their
///   first request (never at `build()`), then again
///   [`DEFAULT_REFRESH_MARGIN`](super::DEFAULT_REFRESH_MARGIN) (or the builder's
///   `refresh_margin`) before the `expires` it returned, and once more when the cloud
///   answers that the token expired. One fetch runs at a time, however many tasks share
///   the adapter. [`Expiring::never`] keys are fetched once.
/// - Errors should be [`Error::CredentialSource`](crate::Error::CredentialSource) naming
///   [`source`](Self::source) and saying what to do; they must never carry a secret.
///   They surface from the call that needed the credentials.
/// - [`source`](Self::source) names the provider in logs, errors, `whoami` and the audit
///   trail; never a secret.
///
/// A broker handing out one-hour tokens, refreshed by the cache before they expire:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use imageshare_core::credentials::{CredentialsCache, Expiring, ProvideCredentials, ProvideFuture};
/// use imageshare_core::{Clock, Error, Provider, Timestamp};
///
/// #[derive(Debug, Clone, PartialEq)]
/// struct Keys {
///     token: String,
/// }
///
/// /// Asks the broker for a token valid one hour (here: numbered, from a fixed clock).
/// #[derive(Debug)]
/// struct Broker {
///     now: Arc<AtomicU64>,
///     issued: AtomicU64,
/// }
///
/// impl ProvideCredentials<Keys> for Broker {
///     fn provide(&self) -> ProvideFuture<'_, Keys> {
///         Box::pin(async move {
///             let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
///             if n > 2 {
///                 // What went wrong and what to do, never a secret.
///                 return Err(Error::credential_source(
///                     Provider::new("example-cloud"),
///                     self.source(),
///                     "the broker refused a third token: renew the lease",
///                     None,
///                     None,
///                 ));
///             }
///             let expires = Timestamp::from_unix(self.now.load(Ordering::SeqCst) + 3600);
///             Ok(Expiring::until(Keys { token: format!("token-{n}") }, expires))
///         })
///     }
///     fn source(&self) -> String {
///         "the credentials broker".to_owned()
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let now = Arc::new(AtomicU64::new(1_700_000_000));
/// let broker = Arc::new(Broker { now: now.clone(), issued: AtomicU64::new(0) });
/// let clock = {
///     let now = now.clone();
///     Clock::from_fn(move || now.load(Ordering::SeqCst))
/// };
/// let cache = CredentialsCache::new(Provider::new("example-cloud"), broker, clock);
///
/// assert_eq!(cache.get().await.unwrap().credentials.token, "token-1");
/// now.fetch_add(3000, Ordering::SeqCst); // 10 minutes left: still valid, no fetch
/// assert_eq!(cache.get().await.unwrap().credentials.token, "token-1");
/// now.fetch_add(500, Ordering::SeqCst); // inside the refresh margin (180 s): fetched again
/// assert_eq!(cache.get().await.unwrap().credentials.token, "token-2");
/// assert_eq!(cache.fetch_count(), 2);
///
/// now.fetch_add(3600, Ordering::SeqCst); // the broker refuses: the error says why
/// let err = cache.get().await.unwrap_err();
/// assert!(err.to_string().contains("renew the lease"), "{err}");
/// # });
/// ```
pub trait ProvideCredentials<C>: Send + Sync + fmt::Debug {
    /// Fetches credentials (may call STS, the metadata server, read a token file).
    fn provide(&self) -> ProvideFuture<'_, C>;

    /// Where the credentials come from, for logs, `whoami` and errors (`environment
    /// variable TENCENTCLOUD_SECRET_ID`, `role acs:ram::1:role/x assumed with ...`).
    /// Never a secret.
    fn source(&self) -> String;

    /// The fixed credentials, when this provider always gives the same ones (then no
    /// refresh or cache is needed). `None` for providers that fetch.
    fn fixed(&self) -> Option<&C> {
        None
    }
}

/// A shared, type-erased provider: what chains return and adapters hold.
pub type SharedProvider<C> = Arc<dyn ProvideCredentials<C>>;

/// Fixed credentials as a provider: long-term keys, or a static STS token given by hand
/// (its expiry is not known, so it is never refreshed; the cloud's refusal surfaces).
#[derive(Clone)]
pub struct FixedCredentials<C> {
    credentials: C,
    source: String,
}

impl<C> FixedCredentials<C> {
    /// `credentials`, found in `source`.
    pub fn new(credentials: C, source: impl Into<String>) -> Self {
        FixedCredentials {
            credentials,
            source: source.into(),
        }
    }
}

impl<C: fmt::Debug> fmt::Debug for FixedCredentials<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The cloud credential types mask their secrets in Debug.
        f.debug_struct("FixedCredentials")
            .field("credentials", &self.credentials)
            .field("source", &self.source)
            .finish()
    }
}

impl<C> ProvideCredentials<C> for FixedCredentials<C>
where
    C: Clone + Send + Sync + fmt::Debug,
{
    fn provide(&self) -> ProvideFuture<'_, C> {
        let credentials = self.credentials.clone();
        Box::pin(async move { Ok(Expiring::never(credentials)) })
    }

    fn source(&self) -> String {
        self.source.clone()
    }

    fn fixed(&self) -> Option<&C> {
        Some(&self.credentials)
    }
}

/// `credentials` found in `source`, as a [`SharedProvider`].
pub fn fixed<C>(credentials: C, source: impl Into<String>) -> SharedProvider<C>
where
    C: Clone + Send + Sync + fmt::Debug + 'static,
{
    Arc::new(FixedCredentials::new(credentials, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fixed_credentials_never_expire_and_say_where_they_came_from() {
        let p = fixed("k".to_owned(), "environment variable X");
        let got = p.provide().await.unwrap();
        assert_eq!(got, Expiring::never("k".to_owned()));
        assert_eq!(p.source(), "environment variable X");
        assert_eq!(p.fixed().map(String::as_str), Some("k"));
    }
}
