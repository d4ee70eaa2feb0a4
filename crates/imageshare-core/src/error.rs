//! The one error type of imageshare, and the limit violations the checker raises.

use std::fmt;
use std::time::Duration;

use crate::model::{Provider, ShareReport};
use crate::transport::RetryReason;

/// Result alias used throughout imageshare.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed source error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong. Provider error codes are kept verbatim; no variant ever
/// carries a secret.
///
/// Handle it by kind: the variant says what happened, and whether to fix the input, the
/// credentials, or try again later. The enum is `#[non_exhaustive]`: keep a catch-all arm.
///
/// ```
/// use imageshare_core::{Error, ImageId, OutcomeKind, Principal, ShareOutcome, ShareReport};
/// use std::sync::Arc;
///
/// /// What an automation does next with a failed call.
/// fn next_step(e: &Error) -> String {
///     match e {
///         // Refused by the limit checker: no write was sent; fix the request.
///         Error::Limit(v) => format!("fix the request ({}): {}", v.rule, v.explanation),
///         Error::InvalidInput { field, .. } => format!("fix {field}"),
///         Error::NotFound { what, id, .. } => format!("no {what} {id}: check the region"),
///         // Credentials: ask a human (or the vault) rather than retrying.
///         Error::Auth { code, .. } => format!("check the keys ({code})"),
///         Error::CredentialsNotFound { .. } | Error::CredentialSource { .. } => {
///             "configure credentials".to_owned()
///         }
///         // Some principals were granted and some were not: the report says which.
///         Error::Partial(report) => format!("retry the failed ones: {}", report.summary()),
///         // The cloud's own code, verbatim (throttling and 5xx were already retried).
///         Error::Api(api) => format!("{} answered {}", api.provider, api.code),
///         e if e.is_retryable() => "try again later".to_owned(),
///         _ => "give up".to_owned(),
///     }
/// }
///
/// let e = Error::invalid_input("region", "no region given");
/// assert_eq!(next_step(&e), "fix region");
///
/// let mut report = ShareReport::new(ImageId::from("img-1"));
/// report.push(Principal::account("100000000002"), ShareOutcome::Granted);
/// report.push(Principal::account("100000000003"), ShareOutcome::Failed(Arc::new(e)));
/// let partial = report.into_result().unwrap_err();
/// assert_eq!(next_step(&partial), "retry the failed ones: 1 granted, 1 failed");
/// // The chain names the first failure once (`source()`), as anyhow's `{:#}` prints it.
/// assert!(imageshare_core::error::report(&partial).contains("no region given"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The request breaks a documented provider limit: raised by the limit checker before
    /// any write (share, unshare, copy, delete) is sent. Reads may come first: the checker
    /// looks the image up (state, kind, origin, encryption) and lists its sharees (to count
    /// them and skip those already granted) before it refuses.
    Limit(LimitViolation),

    /// The provider answered with an error (boxed: it is the largest variant).
    Api(Box<ApiError>),

    /// The provider rejected the credentials or the signature.
    #[non_exhaustive]
    Auth {
        /// Which provider.
        provider: Provider,
        /// The provider's error code, verbatim.
        code: String,
        /// The provider's message.
        message: String,
        /// The provider's request id.
        request_id: Option<String>,
    },

    /// The provider refused temporary credentials because their session token expired
    /// (or was revoked). [`CredentialsCache::call`](crate::credentials::CredentialsCache::call)
    /// refreshes once and retries on this error.
    #[non_exhaustive]
    CredentialsExpired {
        /// Which provider.
        provider: Provider,
        /// The provider's error code, verbatim.
        code: String,
        /// The provider's message.
        message: String,
        /// The provider's request id.
        request_id: Option<String>,
    },

    /// A credential source was found but could not give credentials: an expired OIDC
    /// token file, a role that does not trust the caller, an unreachable metadata server,
    /// an STS refusal. `source` names the source; the message says what to do.
    #[non_exhaustive]
    CredentialSource {
        /// Which provider.
        provider: Provider,
        /// The source that failed (`OIDC role via ALIBABA_CLOUD_ROLE_ARN`, `instance
        /// metadata role`, ...).
        source_name: String,
        /// What failed and what to do next; never a secret.
        message: String,
        /// The provider's error code when STS or the metadata server answered with one.
        code: Option<String>,
        /// The underlying error (an STS answer, a transport failure), if any.
        cause: Option<Box<Error>>,
    },

    /// No credentials were found in any source of the chain.
    #[non_exhaustive]
    CredentialsNotFound {
        /// Which provider.
        provider: Provider,
        /// Every source tried, in order, with why it gave nothing.
        tried: Vec<String>,
    },

    /// The request never got a provider answer (connect error, timeout, reset, bad body).
    /// `message` says what failed and where, never the underlying error's text: that is
    /// [`source`](std::error::Error::source), so a chain (`error::report`, anyhow's `{:#}`)
    /// shows each cause once.
    #[non_exhaustive]
    Transport {
        /// Which provider.
        provider: Provider,
        /// The API action.
        action: String,
        /// What happened.
        message: String,
        /// Whether trying again may help.
        retryable: bool,
        /// The underlying error.
        source: Option<BoxError>,
    },

    /// The provider answered, but not in the documented shape.
    #[non_exhaustive]
    Decode {
        /// Which provider.
        provider: Provider,
        /// The API action.
        action: String,
        /// What was wrong.
        message: String,
        /// The request id, if one could be read.
        request_id: Option<String>,
    },

    /// Input that can never be valid (malformed id, empty list, bad endpoint, ...).
    #[non_exhaustive]
    InvalidInput {
        /// The parameter, flag or field at fault.
        field: String,
        /// What is wrong and what is expected.
        message: String,
    },

    /// The image (or other resource) does not exist or is not visible to the caller.
    #[non_exhaustive]
    NotFound {
        /// Which provider.
        provider: Provider,
        /// What kind of thing (`image`, ...).
        what: &'static str,
        /// Its id.
        id: String,
    },

    /// The provider has no public API for this operation.
    #[non_exhaustive]
    Unsupported {
        /// Which provider.
        provider: Provider,
        /// The operation asked for.
        operation: String,
        /// Why, and what to do instead.
        reason: String,
    },

    /// An operation did not finish in the time allowed (the per-call timeout is a
    /// `Transport` error; this is for waits such as `wait_until_available`).
    #[non_exhaustive]
    Timeout {
        /// Which provider.
        provider: Provider,
        /// What was waited for.
        operation: String,
        /// What state things were left in.
        message: String,
    },

    /// A copy of an image ended in a state it will not leave (the cloud's failed or
    /// unavailable state): it will never be shared. Delete it and copy again.
    #[non_exhaustive]
    CopyFailed {
        /// Which provider.
        provider: Provider,
        /// The region of the copy.
        region: String,
        /// The copy.
        image: String,
        /// Its state, as the cloud names it.
        state: String,
    },

    /// Some principals of a multi-call share or unshare succeeded and some failed; the
    /// report says which. Its [`source`](std::error::Error::source) is the first failure
    /// ([`ShareReport::first_failure`]), so an error chain shows why once.
    Partial(Box<ShareReport>),

    /// The trust policy does not accept this image: it belongs to an owner outside the
    /// allow-list (or its owner is not reported). Raised before any mutating call.
    #[non_exhaustive]
    Untrusted {
        /// Which provider.
        provider: Provider,
        /// What was refused (`copy`, `migrate to ECS`, ...).
        operation: String,
        /// The image.
        image: String,
        /// Its owner, when the provider reports one.
        owner: Option<String>,
        /// Why the policy refuses it, and how to allow it.
        reason: String,
    },

    /// The audit trail could not be opened or written. The message says whether the
    /// operation itself was carried out (and is missing from the trail) or nothing was
    /// sent; for a share or unshare that was carried out, `unrecorded` holds its report.
    #[non_exhaustive]
    Audit {
        /// The trail's path.
        path: String,
        /// What failed, and what that means for the operation.
        message: String,
        /// The report of a share or unshare carried out but not recorded.
        unrecorded: Option<Box<ShareReport>>,
    },
}

impl Error {
    /// An `InvalidInput` error.
    pub fn invalid_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A `Transport` error.
    pub fn transport(
        provider: Provider,
        action: impl Into<String>,
        message: impl Into<String>,
        retryable: bool,
        source: Option<BoxError>,
    ) -> Self {
        Error::Transport {
            provider,
            action: action.into(),
            message: message.into(),
            retryable,
            source,
        }
    }

    /// An `Auth` error: `provider` rejected the credentials or the signature.
    pub fn auth(
        provider: Provider,
        code: impl Into<String>,
        message: impl Into<String>,
        request_id: Option<String>,
    ) -> Self {
        Error::Auth {
            provider,
            code: code.into(),
            message: message.into(),
            request_id,
        }
    }

    /// A `CredentialsExpired` error: `provider` refused the session token as expired.
    pub fn credentials_expired(
        provider: Provider,
        code: impl Into<String>,
        message: impl Into<String>,
        request_id: Option<String>,
    ) -> Self {
        Error::CredentialsExpired {
            provider,
            code: code.into(),
            message: message.into(),
            request_id,
        }
    }

    /// A `CredentialSource` error: the source `source_name` could not give credentials.
    pub fn credential_source(
        provider: Provider,
        source_name: impl Into<String>,
        message: impl Into<String>,
        code: Option<String>,
        cause: Option<Box<Error>>,
    ) -> Self {
        Error::CredentialSource {
            provider,
            source_name: source_name.into(),
            message: message.into(),
            code,
            cause,
        }
    }

    /// A `CredentialsNotFound` error: no source of the chain gave credentials.
    #[must_use]
    pub fn credentials_not_found(provider: Provider, tried: Vec<String>) -> Self {
        Error::CredentialsNotFound { provider, tried }
    }

    /// A `Decode` error: the answer to `action` was not in the documented shape.
    pub fn decode(
        provider: Provider,
        action: impl Into<String>,
        message: impl Into<String>,
        request_id: Option<String>,
    ) -> Self {
        Error::Decode {
            provider,
            action: action.into(),
            message: message.into(),
            request_id,
        }
    }

    /// A `NotFound` error: no `what` with this `id`.
    pub fn not_found(provider: Provider, what: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            provider,
            what,
            id: id.into(),
        }
    }

    /// An `Unsupported` error: `provider` has no public API for `operation`.
    pub fn unsupported(
        provider: Provider,
        operation: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error::Unsupported {
            provider,
            operation: operation.into(),
            reason: reason.into(),
        }
    }

    /// A `Timeout` error: `operation` did not finish in the time allowed.
    pub fn timeout(
        provider: Provider,
        operation: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Timeout {
            provider,
            operation: operation.into(),
            message: message.into(),
        }
    }

    /// A `CopyFailed` error: the copy `image` in `region` ended in `state`.
    pub fn copy_failed(
        provider: Provider,
        region: impl Into<String>,
        image: impl Into<String>,
        state: impl Into<String>,
    ) -> Self {
        Error::CopyFailed {
            provider,
            region: region.into(),
            image: image.into(),
            state: state.into(),
        }
    }

    /// An `Untrusted` error: the trust policy refuses `operation` on `image`.
    pub fn untrusted(
        provider: Provider,
        operation: impl Into<String>,
        image: impl Into<String>,
        owner: Option<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error::Untrusted {
            provider,
            operation: operation.into(),
            image: image.into(),
            owner,
            reason: reason.into(),
        }
    }

    /// An `Audit` error: the trail at `path` could not be opened or written.
    pub fn audit(
        path: impl Into<String>,
        message: impl Into<String>,
        unrecorded: Option<Box<ShareReport>>,
    ) -> Self {
        Error::Audit {
            path: path.into(),
            message: message.into(),
            unrecorded,
        }
    }

    /// Whether retrying the same call may succeed (throttling, 5xx, connection errors).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => e.retry.is_some(),
            Error::Transport { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// A server-given delay before the next attempt, if any.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(e) => e.retry_after,
            _ => None,
        }
    }

    /// The provider's error code, if the provider answered with one.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(&e.code),
            Error::Auth { code, .. } | Error::CredentialsExpired { code, .. } => Some(code),
            Error::CredentialSource { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The provider's request id, if any.
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.request_id.as_deref(),
            Error::Auth { request_id, .. }
            | Error::CredentialsExpired { request_id, .. }
            | Error::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The limit violation, if this is one.
    #[must_use]
    pub fn as_limit(&self) -> Option<&LimitViolation> {
        match self {
            Error::Limit(v) => Some(v),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    /// What failed, in one line; never the text of the [`source`](std::error::Error::source)
    /// (a chain printer adds it once).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rid = |r: &Option<String>| r.as_deref().unwrap_or("-").to_owned();
        match self {
            Error::Limit(v) => fmt::Display::fmt(v, f),
            Error::Api(e) => fmt::Display::fmt(e, f),
            Error::Auth {
                provider,
                code,
                message,
                request_id,
            } => write!(
                f,
                "{provider} rejected the credentials: {code}: {message} (request id {})",
                rid(request_id)
            ),
            Error::CredentialsExpired {
                provider,
                code,
                message,
                request_id,
            } => write!(
                f,
                "{provider} refused the session token as expired: {code}: {message} \
                 (request id {})",
                rid(request_id)
            ),
            Error::CredentialSource {
                provider,
                source_name,
                message,
                ..
            } => write!(f, "{provider} credentials from {source_name}: {message}"),
            Error::CredentialsNotFound { provider, tried } => write!(
                f,
                "no {provider} credentials found; tried: {}",
                tried.join("; ")
            ),
            Error::Transport {
                provider,
                action,
                message,
                ..
            } => write!(f, "{provider} {action}: transport error: {message}"),
            Error::Decode {
                provider,
                action,
                message,
                request_id,
            } => write!(
                f,
                "{provider} {action}: cannot decode the response: {message} (request id {})",
                rid(request_id)
            ),
            Error::InvalidInput { field, message } => write!(f, "invalid {field}: {message}"),
            Error::NotFound { provider, what, id } => {
                write!(f, "{provider}: {what} {id} not found")
            }
            Error::Unsupported {
                provider,
                operation,
                reason,
            } => write!(f, "{provider}: {operation} is not supported: {reason}"),
            Error::Timeout {
                provider,
                operation,
                message,
            } => write!(f, "{provider}: {operation} timed out: {message}"),
            Error::CopyFailed {
                provider,
                region,
                image,
                state,
            } => write!(
                f,
                "{provider}: the copy {image} in {region} is {state} and will not become \
                 available; delete it (imageshare delete {image} --region {region}) and run \
                 again to copy anew"
            ),
            Error::Partial(report) => write!(f, "partially applied: {report}"),
            Error::Untrusted {
                provider,
                operation,
                image,
                reason,
                ..
            } => write!(
                f,
                "{provider}: refusing to {operation} image {image}: {reason}"
            ),
            Error::Audit { path, message, .. } => write!(f, "audit trail {path}: {message}"),
        }
    }
}

impl std::error::Error for Error {
    /// The cause, wherever one exists: a credential source's underlying error, the HTTP
    /// client's error of a transport failure, the first failure of a partial share
    /// ([`ShareReport::first_failure`]); a limit violation's and an API error's own.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Limit(v) => v.source(),
            Error::Api(e) => e.source(),
            Error::CredentialSource { cause, .. } => cause
                .as_deref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            Error::Transport { source, .. } => source
                .as_deref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            Error::Partial(report) => report
                .first_failure()
                .map(|e| &**e as &(dyn std::error::Error + 'static)),
            _ => None,
        }
    }
}

impl From<LimitViolation> for Error {
    fn from(v: LimitViolation) -> Self {
        Error::Limit(v)
    }
}

/// An error answer from a provider API.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// Which provider.
    pub provider: Provider,
    /// The API action that failed.
    pub action: String,
    /// The HTTP status of the answer.
    pub status: u16,
    /// The provider's error code, verbatim (UCloud: the RetCode as a string).
    pub code: String,
    /// The provider's message.
    pub message: String,
    /// The provider's request id.
    pub request_id: Option<String>,
    /// Why trying again may help, as the adapter classified the answer when it decoded it
    /// (its cloud's throttling and busy codes, HTTP 5xx); `None` when it will not.
    pub retry: Option<RetryReason>,
    /// A delay the provider asked for before retrying.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// An answer of `provider` to `action` with HTTP `status`, error `code` and `message`;
    /// no request id, not retryable, no delay asked for (the `with_*` setters add them).
    pub fn new(
        provider: Provider,
        action: impl Into<String>,
        status: u16,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            provider,
            action: action.into(),
            status,
            code: code.into(),
            message: message.into(),
            request_id: None,
            retry: None,
            retry_after: None,
        }
    }
    /// The same with the provider's request id.
    #[must_use]
    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }
    /// The same, retryable for `retry` (`None`: not retryable).
    #[must_use]
    pub fn with_retry(mut self, retry: Option<RetryReason>) -> Self {
        self.retry = retry;
        self
    }
    /// The same with the delay the provider asked for before retrying.
    #[must_use]
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} failed: {}: {} (HTTP {}, request id {})",
            self.provider,
            self.action,
            self.code,
            self.message,
            self.status,
            self.request_id.as_deref().unwrap_or("-")
        )
    }
}

impl std::error::Error for ApiError {}

/// `error` and every cause under it ([`std::error::Error::source`]), joined by `: `: the
/// one line a command prints. Each cause is written once (an error's own message never
/// repeats its source's).
pub fn report(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

/// Which documented limit a request broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitRule {
    /// More principals per image than the provider allows (current + new).
    MaxShareesPerImage,
    /// The principal kind is not the one this provider shares to.
    PrincipalKind,
    /// The principal id has the wrong form (e.g. a RAM user on SAS).
    PrincipalForm,
    /// Sharing with the image's own owner.
    ShareWithSelf,
    /// The image lives in another region than the client.
    SameRegion,
    /// Re-sharing an image received from another account.
    ReceivedImage,
    /// Sharing a public or community image.
    PublicImage,
    /// Sharing an image derived from a marketplace image.
    MarketplaceDerived,
    /// Sharing an encrypted image the provider refuses (or without acknowledging the
    /// prerequisites).
    EncryptedImage,
    /// Sharing across the China and international sites.
    CrossSite,
    /// An image kind the provider does not share.
    ImageKind,
    /// The image is not in a shareable state.
    ImageState,
    /// Deleting an image that is still shared.
    DeleteWhileShared,
    /// A copy to another region on a provider whose API has no cross-region copy.
    CrossRegionCopy,
    /// A copy across a border the provider's copy does not cross (Lighthouse between
    /// mainland China and elsewhere).
    CopyBorder,
}

impl LimitRule {
    /// A stable kebab-case name of the rule.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            LimitRule::MaxShareesPerImage => "max-sharees-per-image",
            LimitRule::PrincipalKind => "principal-kind",
            LimitRule::PrincipalForm => "principal-form",
            LimitRule::ShareWithSelf => "share-with-self",
            LimitRule::SameRegion => "same-region",
            LimitRule::ReceivedImage => "received-image",
            LimitRule::PublicImage => "public-image",
            LimitRule::MarketplaceDerived => "marketplace-derived",
            LimitRule::EncryptedImage => "encrypted-image",
            LimitRule::CrossSite => "cross-site",
            LimitRule::ImageKind => "image-kind",
            LimitRule::ImageState => "image-state",
            LimitRule::DeleteWhileShared => "delete-while-shared",
            LimitRule::CrossRegionCopy => "cross-region-copy",
            LimitRule::CopyBorder => "copy-border",
        }
    }
}

impl fmt::Display for LimitRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A request refused by the limit checker before anything was sent: which rule, the
/// limit, and the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{provider} limit {rule} violated: {explanation} (limit: {limit}; got: {value})")]
#[non_exhaustive]
pub struct LimitViolation {
    /// The provider whose limit table was applied.
    pub provider: Provider,
    /// The rule broken.
    pub rule: LimitRule,
    /// The limit, as text (`50`, `same region as the client (cn-hangzhou)`, ...).
    pub limit: String,
    /// The offending value.
    pub value: String,
    /// A sentence for humans: what the provider would do and what to do instead.
    pub explanation: String,
}

impl LimitViolation {
    /// `provider`'s `rule` broken: the `limit`, the offending `value`, and an
    /// `explanation` for humans.
    pub fn new(
        provider: Provider,
        rule: LimitRule,
        limit: impl Into<String>,
        value: impl Into<String>,
        explanation: impl Into<String>,
    ) -> Self {
        LimitViolation {
            provider,
            rule,
            limit: limit.into(),
            value: value.into(),
            explanation: explanation.into(),
        }
    }
}

/// Every message of `error`'s chain joined by `: ` with none skipped (what anyhow's `{:#}`
/// prints), after checking that no cause's text appears twice in it: each cause is in one
/// place, its own `source()`, never also in a message above it.
#[cfg(test)]
pub(crate) fn assert_each_cause_once(error: &(dyn std::error::Error + 'static)) -> String {
    let mut links = vec![error.to_string()];
    let mut cause = error.source();
    while let Some(c) = cause {
        links.push(c.to_string());
        cause = c.source();
    }
    let full = links.join(": ");
    for link in links.iter().skip(1).filter(|l| !l.is_empty()) {
        assert_eq!(
            full.matches(link.as_str()).count(),
            1,
            "{link:?} twice in {full:?}"
        );
    }
    full
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::sync::Arc;

    use super::*;
    use crate::model::{Principal, ShareOutcome};

    const CLOUD: Provider = Provider::new("example-cloud");

    fn refused(code: &str) -> ApiError {
        ApiError {
            provider: CLOUD,
            action: "ShareImage".to_owned(),
            status: 400,
            code: code.to_owned(),
            message: format!("the account is refused ({code})"),
            request_id: Some(format!("req-{code}")),
            retry: None,
            retry_after: None,
        }
    }

    #[test]
    fn api_error_is_a_std_error() {
        fn is_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
        let e = refused("InvalidAccount.NotFound");
        is_error(&e);
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e.clone());
        assert_eq!(boxed.to_string(), e.to_string());
        assert!(Error::from(e).source().is_none(), "an answer has no cause");
    }

    #[test]
    fn partial_points_at_its_first_failure() {
        let mut report = ShareReport::new("m-1".into());
        report.push(Principal::account("1"), ShareOutcome::Granted);
        let first = Arc::new(Error::from(refused("First")));
        report.push(Principal::account("2"), ShareOutcome::Failed(first.clone()));
        report.push(
            Principal::account("3"),
            ShareOutcome::Failed(Arc::new(Error::from(refused("Second")))),
        );
        let err = report.into_result().unwrap_err();
        let source = err.source().expect("the first failure");
        assert_eq!(source.to_string(), first.to_string());
        let full = assert_each_cause_once(&err);
        assert!(
            full.starts_with("partially applied: m-1: 1 granted, 2 failed"),
            "{full}"
        );
        assert!(!full.contains("Second"), "only the first failure: {full}");
        assert_eq!(report_of(&err), full);

        // No failed entry, but principals not attempted: the refusal that stopped them.
        let mut report = ShareReport::new("m-2".into());
        report.stop([Principal::account("4")], first.clone());
        let err = report.into_result().unwrap_err();
        assert_eq!(err.source().unwrap().to_string(), first.to_string());
        assert!(ShareReport::new("m-3".into()).first_failure().is_none());
    }

    fn report_of(e: &Error) -> String {
        report(e)
    }

    #[test]
    fn transport_and_credential_errors_name_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let transport = Error::transport(
            CLOUD,
            "AssumeRole",
            "cannot connect (sts.example.com)",
            true,
            Some(Box::new(io)),
        );
        let err = Error::CredentialSource {
            provider: CLOUD,
            source_name: "role r via EXAMPLE_ROLE_ARN".to_owned(),
            message: "STS AssumeRole failed".to_owned(),
            code: None,
            cause: Some(Box::new(transport)),
        };
        let full = assert_each_cause_once(&err);
        assert_eq!(
            full,
            "example-cloud credentials from role r via EXAMPLE_ROLE_ARN: STS AssumeRole failed: \
             example-cloud AssumeRole: transport error: cannot connect (sts.example.com): \
             connection refused"
        );
        assert_eq!(report(&err), full, "nothing for report to skip");
    }

    #[test]
    fn the_chain_check_catches_a_repeated_cause() {
        let io = std::io::Error::other("connection refused");
        let err = Error::transport(
            CLOUD,
            "X",
            "cannot connect: connection refused",
            true,
            Some(Box::new(io)),
        );
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            assert_each_cause_once(&err)
        }));
        assert!(caught.is_err(), "a message repeating its source is caught");
    }
}
