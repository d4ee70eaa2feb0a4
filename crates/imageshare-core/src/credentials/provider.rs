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
/// `provide` fetches afresh every time it is called; callers go through a
/// [`CredentialsCache`](super::CredentialsCache), which calls it once per validity period.
/// Errors should be [`Error::CredentialSource`](crate::Error::CredentialSource) naming
/// [`ProvideCredentials::source`] and saying what to do; they must never carry a secret.
///
/// ```
/// use imageshare_core::credentials::{Expiring, ProvideCredentials, ProvideFuture};
///
/// /// Keys from a vault (here: a constant).
/// #[derive(Debug)]
/// struct Vault;
///
/// impl ProvideCredentials<String> for Vault {
///     fn provide(&self) -> ProvideFuture<'_, String> {
///         Box::pin(async { Ok(Expiring::never("key-from-vault".to_owned())) })
///     }
///     fn source(&self) -> String {
///         "the team vault".to_owned()
///     }
/// }
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
