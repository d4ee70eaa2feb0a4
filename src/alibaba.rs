//! Alibaba Cloud: ECS and Simple Application Server (cargo feature `alibaba`).
//!
//! The stable part of `imageshare-alibaba`: the adapters and their builders, the
//! credentials and their sources, the action names of the rate limits, and the documented
//! limits. Everything else of that crate (wire models, signers, the HTTP client) is under
//! [`unstable`]: reachable, but with no stability promise.
//!
//! ```
//! use imageshare::alibaba::{AlibabaCredentials, EcsAction, EcsImageSharing, ECS};
//! use imageshare::{ClientBuilder, ImageSharing, Rate, StaticEnv};
//!
//! let ecs = EcsImageSharing::builder()
//!     .region("cn-hangzhou")
//!     .credentials(AlibabaCredentials::new("LTAI5tExampleKeyId", "example-secret"))
//!     .rate_limit(EcsAction::ModifyImageSharePermission, Rate::per_second(5.0))
//!     .env(StaticEnv::new())
//!     .build()?;
//! assert_eq!(ecs.provider(), ECS);
//! # Ok::<(), imageshare::Error>(())
//! ```

pub use imageshare_alibaba::{
    credential, limits, AlibabaBuilder, AlibabaCredentials, CopyOptions, EcsAction, EcsBuilder,
    EcsImageSharing, Publish, ResourceSharing, SasAction, SasBuilder, SasImageSharing,
    SignatureVersion, ECS, ECS_LIMITS, ECS_ORG_TARGETS, SAS, SAS_LIMITS,
};

/// The whole `imageshare-alibaba` crate: wire models ([`model`](imageshare_alibaba::model)),
/// signers ([`signer`](imageshare_alibaba::signer)), the OpenAPI client. **Not a stable
/// API**: it changes when a cloud's API or the transport does (see the README's
/// "Stability" section). Build on the items above instead.
pub use imageshare_alibaba as unstable;
