//! # imageshare
//!
//! Share custom machine images across accounts and projects on Alibaba Cloud (ECS, Simple
//! Application Server), Tencent Cloud (CVM, Lighthouse) and UCloud (UHost), behind one
//! [`ImageSharing`] trait and one limit checker, [`Checked`].
//!
//! This is the facade crate: it re-exports the stable part of `imageshare-core` (the root
//! items, and the modules [`bulk`], [`plan`], [`distribute`], [`audit`], [`trust`],
//! [`limits`], [`copy_limits`], [`paging`], [`ratelimit`]) and, behind a
//! cargo feature per cloud (all on by default), the stable part of each provider crate
//! (builders, credentials, action names, limits) as [`alibaba`], [`tencent`] and
//! [`ucloud`]; each crate's wire models and signers are under their `unstable` module.
//!
//! [`Connect::audit`] records every grant and revoke in an [`AuditLog`];
//! [`Connect::trust`] accepts images shared by other owners only as a [`TrustPolicy`]
//! says; [`migrate::Flows`] applies both to the migration flows (see `SECURITY.md`).
//!
//! The providers compiled in are listed by [`registry`]; each provider crate declares
//! its own ([`alibaba::ECS`], [`tencent::CVM`], ...), and nothing here names one.
//!
//! ## The library in ten lines
//!
//! ```rust,no_run
//! use imageshare::{ClientBuilder, Connect, ImageSharingExt, Principal};
//!
//! #[tokio::main]
//! async fn main() -> imageshare::Result<()> {
//!     // Credentials from TENCENTCLOUD_* or ~/.tencentcloud/credentials; already limit-checked.
//!     let cvm = Connect::new(imageshare::tencent::CVM).region("ap-guangzhou").build()?;
//!     let to = [Principal::account("100000000002"), Principal::account("100000000003")];
//!     let report = cvm.share(&"img-6pb6lrmy".into(), &to).await?;
//!     for (who, outcome) in report.iter() {
//!         println!("{who}: {outcome}");   // granted / already-granted / failed: ...
//!     }
//!     Ok(())
//! }
//! ```
//!
//! [`Connect`] builds any provider's adapter behind the limit checker ([`Checked`]): its
//! documentation runs the same against the emulator. What to match on when a call fails
//! is on [`Error`]; what a share did, on [`ShareReport`]; your own credentials source, on
//! [`ProvideCredentials`]; proxies and private CAs, on [`ClientOptions`].
//!
//! ## What is public
//!
//! The items at this root are the curated API (connection, the trait and its extension,
//! the model, errors, configuration, the credentials provider trait; `testing` behind the
//! `emulator` feature). The provider modules ([`alibaba`], [`tencent`], [`ucloud`]) add
//! each cloud's builders, credentials types and action names; the core modules ([`bulk`],
//! [`plan`], [`distribute`], [`audit`], [`trust`], [`limits`], [`copy_limits`], [`paging`],
//! [`ratelimit`]) the engines, their reports and the limit tables. `imageshare::core`, the
//! whole core crate, is hidden and not a stable API (it is there for imageshare's own
//! crates). See the README's "Stability" section for what may change.
//!
//! ## Limits are data
//!
//! ```
//! // Every provider's documented limits are data; the checker applies them.
//! let ecs = imageshare::registry::lookup("alibaba-ecs").unwrap();
//! assert_eq!(ecs.limits.max_principals_per_call, 10);
//! assert_eq!(ecs.limits.max_sharees_per_image, Some(50));
//! ```
#![warn(missing_docs)]
// Builders and pure functions are `#[must_use]` (CI: clippy -D warnings); not in unit tests.
#![cfg_attr(
    not(test),
    warn(clippy::must_use_candidate, clippy::return_self_not_must_use)
)]

// The whole core crate, for imageshare's own crates (the CLI, the emulator, the tests and
// benches): not a stable API, and not documented. Users name the root items and the
// modules below.
#[doc(hidden)]
pub use imageshare_core as core;
pub use imageshare_core::{
    AccountId, Action, ApiError, AssumeRole, AuditLog, Audited, CallContext, CallerIdentity,
    CheckOptions, Checked, ClientBuilder, ClientConfig, CopyTarget, Credentials, Encryption, Error,
    Image, ImageId, ImageKind, ImageOrigin, ImageSharing, ImageSharingExt, ImageState, LimitRule,
    LimitViolation, OutcomeKind, Principal, PrincipalKind, ProjectId, Provider, ProviderAction,
    ProviderSpec, Region, Result, Secret, ShareLimits, ShareOutcome, ShareReport, Sharee, Site,
    Timestamp, TrustPolicy, Trusted, UnknownAction,
};

// The core modules a user names beyond the root items, stable API like them. Each module's
// own comment is its documentation here (rustdoc prepends a `///` on a `use` to it, which
// would repeat it), so the notes below are plain comments.
// audit: the audit trail, every grant, revoke and copy recorded (`AuditLog`, its records).
pub use imageshare_core::audit;
// bulk: the bulk engine, many images shared with (or unshared from) many principals.
pub use imageshare_core::bulk;
// copy_limits: what a provider's cross-region copy allows, as data (`copy_limits_of`).
pub use imageshare_core::copy_limits;
// distribute: one image copied into many regions and every copy shared, and its report.
pub use imageshare_core::distribute;
// limits: the documented sharing limits of a provider, as data (`ShareLimits`, its rules).
pub use imageshare_core::limits;
// paging: streaming pagination, the pages and streams the listing methods return.
pub use imageshare_core::paging;
// plan: an image's sharees reconciled with a desired set, the plan and its application.
pub use imageshare_core::plan;
// ratelimit: client-side rate limits per provider and action (`Rate`, `RateLimits`).
pub use imageshare_core::ratelimit;
// trust: the trust policy, from which owners images shared with the caller are accepted.
pub use imageshare_core::trust;

// Configuration: the client options, retry policy, rates and credential providers, at the
// root as at the core's root.
/// Alibaba Cloud credentials (an AccessKey pair, with an STS token when temporary).
#[cfg(feature = "alibaba")]
pub use imageshare_alibaba::AlibabaCredentials;
pub use imageshare_core::{
    ClientOptions, CloudCredentials, Env, Expiring, OsEnv, ProvideCredentials, ProvideFuture, Rate,
    RateLimiter, RateLimits, RetryConfig, RetryConfigBuilder, RootCertificate, SharedProvider,
    StaticEnv,
};
/// Tencent Cloud credentials (a SecretId/SecretKey pair, with a token when temporary).
#[cfg(feature = "tencent")]
pub use imageshare_tencent::TencentCredentials;
/// UCloud credentials (a public/private key pair, with a token when temporary).
#[cfg(feature = "ucloud")]
pub use imageshare_ucloud::UCloudCredentials;

#[cfg(feature = "alibaba")]
pub mod alibaba;
#[cfg(feature = "tencent")]
pub mod tencent;
#[cfg(feature = "ucloud")]
pub mod ucloud;

pub mod connect;
#[cfg(feature = "manifest")]
pub mod manifest;
pub mod migrate;
pub mod registry;
#[cfg(feature = "emulator")]
pub mod testing;

pub use connect::{connect, Connect, DynSharing};
// Streams: what `sharees_stream` / `shared_with_me_stream` return, and the trait to read
// them (`try_next`).
pub use imageshare_core::paging::{BoxStream, TryStreamExt};
pub use migrate::Flows;

/// The documented limit table of `provider`; `None` when it is not compiled in.
#[must_use]
pub fn limits_of(provider: Provider) -> Option<&'static ShareLimits> {
    registry::spec(provider).map(|s| s.limits)
}

/// The limits of `provider`'s organisation-wide sharing (`directory:`, `folder:`,
/// `member:` principals), when it has one and is compiled in (Alibaba ECS: Resource
/// Sharing).
#[must_use]
pub fn org_targets_of(provider: Provider) -> Option<&'static limits::OrgTargetLimits> {
    registry::spec(provider).and_then(|s| s.org_targets)
}

/// The limits of `provider`'s cross-region copy (action, regions per call, name length,
/// border), when it has one and is compiled in; `None` for a provider whose API has no
/// cross-region copy (Simple Application Server).
#[must_use]
pub fn copy_limits_of(provider: Provider) -> Option<&'static copy_limits::CopyLimits> {
    registry::spec(provider).and_then(|s| s.copy)
}

/// The documented limit table of every provider compiled in, in [`registry`] order.
#[must_use]
pub fn limit_tables() -> Vec<&'static ShareLimits> {
    registry::providers().map(|s| s.limits).collect()
}

// The README's and SECURITY.md's Rust snippets are compiled as doctests by
// crates/imageshare-tests (they use the emulator, which this package does not depend on).
