//! # imageshare-core
//!
//! The core of imageshare: the [`ImageSharing`] trait every provider adapter implements,
//! the domain model, the one [`Error`] type, the limit checker [`Checked`] with its
//! [`ShareLimits`] tables, credentials ([`Secret`], [`credentials`]), the HTTP
//! [`transport`] with retry, backoff, tracing and a client-side [`ratelimit`] per provider
//! and action, the [`bulk`] fan-out engine, and streaming [`paging`] (adapters implement
//! one page of a listing, the loop that streams them is written once), for every adapter.
//!
//! ```
//! use imageshare_core::{
//!     Checked, Image, ImageId, ImageKind, ImageOrigin, ImageSharingExt, ImageState, Encryption,
//!     LimitRule, Principal, PrincipalKind, Provider, ShareLimits,
//!     limits::{EncryptedPolicy, PrincipalForm}, memory::InMemorySharing,
//! };
//!
//! // Core knows no cloud: a provider crate declares its identity and its limits as data.
//! const EXAMPLE: Provider = Provider::new("example-cloud");
//! const LIMITS: ShareLimits = ShareLimits::new(
//!     EXAMPLE,
//!     "m-",
//!     "xx-north-1",
//!     PrincipalKind::Account,
//!     PrincipalForm::NumericAccountId {
//!         min_len: 5,
//!         max_len: 20,
//!         sub_user_markers: &["@"],
//!         sub_user_name: "a sub-user",
//!     },
//! )
//! .with_max_sharees_per_image(Some(2))
//! .with_max_principals_per_call(10)
//! .with_same_region_only(true)
//! .with_reshare_received(false)
//! .with_share_marketplace_derived(false)
//! .with_encrypted(EncryptedPolicy::Forbidden)
//! .with_cross_site(true)
//! .with_shareable_kinds(&[ImageKind::SystemDisk])
//! .with_require_available(true)
//! .with_delete_requires_unshare(true)
//! .with_source("example");
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let backend = InMemorySharing::new("xx-north-1", LIMITS);
//! backend.add_image(
//!     Image::new("m-golden", "xx-north-1")
//!         .with_name("golden")
//!         .with_owner(Some(Principal::account("1000000001")))
//!         .with_state(ImageState::Available)
//!         .with_origin(ImageOrigin::Custom)
//!         .with_encryption(Encryption::None)
//!         .with_kind(ImageKind::SystemDisk),
//! );
//! let checked = Checked::new(backend);
//! let id = ImageId::from("m-golden");
//! let report = checked.share(&id, &[Principal::account("1000000002")]).await.unwrap();
//! assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 1);
//!
//! // Two more would make three sharees: refused before any write is sent (the checker
//! // read the image and its sharees to know).
//! let err = checked
//!     .share(&id, &[Principal::account("1000000003"), Principal::account("1000000004")])
//!     .await
//!     .unwrap_err();
//! assert_eq!(err.as_limit().unwrap().rule, LimitRule::MaxShareesPerImage);
//! assert_eq!(checked.inner().calls().share, 1);
//! # });
//! ```
#![warn(missing_docs)]
// Builders and pure functions are `#[must_use]` (CI: clippy -D warnings); not in unit tests.
#![cfg_attr(
    not(test),
    warn(clippy::must_use_candidate, clippy::return_self_not_must_use)
)]

pub mod action;
pub mod audit;
pub mod bulk;
pub mod checker;
pub mod config;
pub mod context;
pub mod copy_limits;
pub mod credentials;
pub mod distribute;
pub mod error;
pub mod files;
pub mod limits;
pub mod lookup;
#[cfg(any(test, feature = "test-util"))]
pub mod memory;
pub mod model;
pub mod paging;
pub mod plan;
pub mod ratelimit;
pub mod registry;
pub mod secret;
pub mod sharing;
pub mod time;
pub mod transport;
pub mod trust;

pub use action::{Action, ProviderAction, UnknownAction};
pub use audit::{AuditLog, AuditTrail, Audited};
pub use bulk::{Bulk, BulkOptions, BulkReport};
pub use checker::{CheckOptions, Checked};
pub use config::{AssumeRole, ClientBuilder, ClientConfig, OrganisationSharing};
// Configuration, findable at the root (the facade re-exports the same set).
pub use context::{CallContext, RetryCollector};
pub use copy_limits::{CopyLimits, RegionBorder};
pub use credentials::{
    Env, Expiring, OsEnv, ProvideCredentials, ProvideFuture, SharedProvider, StaticEnv,
};
pub use error::{ApiError, Error, LimitRule, LimitViolation, Result};
pub use limits::{OrgTargetLimits, PrincipalFormError, ShareLimits};
pub use model::{
    AccountId, CallerIdentity, CopyTarget, Encryption, Image, ImageId, ImageKind, ImageOrigin,
    ImageState, OutcomeKind, Principal, PrincipalKind, ProjectId, Provider, Region, ShareOutcome,
    ShareReport, Sharee, Site,
};
pub use paging::{Page, PageCursor};
pub use ratelimit::{Rate, RateLimiter, RateLimits};
pub use registry::{CloudCredentials, Credentials, ProviderSpec};
pub use secret::Secret;
pub use sharing::{ImageSharing, ImageSharingExt, Layer};
pub use time::{Clock, Timestamp};
pub use transport::{ClientOptions, RetryConfig, RetryConfigBuilder, RootCertificate};

/// What the layer macro ([`impl_image_sharing_for_layer!`]) expands to; not public API.
#[doc(hidden)]
pub use async_trait::async_trait as __async_trait;
pub use trust::{TrustPolicy, Trusted};
