//! # imageshare
//!
//! Share custom machine images across accounts and projects on Alibaba Cloud (ECS, Simple
//! Application Server), Tencent Cloud (CVM, Lighthouse) and UCloud (UHost), behind one
//! [`ImageSharing`] trait and one limit checker, [`Checked`].
//!
//! This is the facade crate: it re-exports [`imageshare_core`] (as [`core`]) and, behind a
//! cargo feature per cloud (all on by default), the provider crates as [`alibaba`],
//! [`tencent`] and [`ucloud`].
//!
//! [`Connect::audit`] records every grant and revoke in an [`AuditLog`];
//! [`Connect::trust`] accepts images shared by other owners only as a [`TrustPolicy`]
//! says; [`migrate::Flows`] applies both to the migration flows (see `SECURITY.md`).
//!
//! ```
//! // Every provider's documented limits are data; the checker applies them.
//! let tables = imageshare::limit_tables();
//! let ecs = tables.iter().find(|t| t.provider == imageshare::Provider::AlibabaEcs).unwrap();
//! assert_eq!(ecs.max_principals_per_call, 10);
//! assert_eq!(ecs.max_sharees_per_image, Some(50));
//! ```
#![warn(missing_docs)]

pub use imageshare_core as core;
pub use imageshare_core::{
    AuditLog, Audited, CheckOptions, Checked, CopyTarget, Error, Image, ImageId, ImageSharing,
    ImageSharingExt, Principal, Provider, Region, Result, ShareLimits, ShareOutcome, ShareReport,
    Sharee, TrustPolicy, Trusted,
};

/// Alibaba Cloud: ECS and Simple Application Server.
#[cfg(feature = "alibaba")]
pub use imageshare_alibaba as alibaba;
/// Tencent Cloud: CVM and Lighthouse.
#[cfg(feature = "tencent")]
pub use imageshare_tencent as tencent;
/// UCloud: UHost project sharing.
#[cfg(feature = "ucloud")]
pub use imageshare_ucloud as ucloud;

pub mod connect;
pub mod manifest;
pub mod migrate;

pub use connect::{connect, Connect, Credentials, DynSharing};
pub use migrate::Flows;

/// The documented limit table of `provider`; `None` when its cloud's cargo feature is off.
pub fn limits_of(provider: Provider) -> Option<&'static ShareLimits> {
    limit_tables().into_iter().find(|t| t.provider == provider)
}

/// The documented limit table of every provider compiled in, in [`Provider::ALL`] order.
pub fn limit_tables() -> Vec<&'static ShareLimits> {
    #[allow(unused_mut)]
    let mut tables: Vec<&'static ShareLimits> = Vec::new();
    #[cfg(feature = "alibaba")]
    {
        tables.push(&alibaba::limits::ECS_LIMITS);
        tables.push(&alibaba::limits::SAS_LIMITS);
    }
    #[cfg(feature = "ucloud")]
    tables.push(&ucloud::limits::UHOST_LIMITS);
    #[cfg(feature = "tencent")]
    {
        tables.push(&tencent::limits::CVM_LIMITS);
        tables.push(&tencent::limits::LIGHTHOUSE_LIMITS);
    }
    tables.sort_by_key(|t| Provider::ALL.iter().position(|p| *p == t.provider));
    tables
}

/// The README's Rust snippets, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// SECURITY.md's Rust snippet, compiled as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../SECURITY.md")]
struct SecurityDoctests;
