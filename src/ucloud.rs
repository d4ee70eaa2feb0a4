//! UCloud: UHost project sharing (cargo feature `ucloud`).
//!
//! The stable part of `imageshare-ucloud`: the adapter and its builder, the credentials
//! and their sources, the action names of the rate limits (and the sharing actions'
//! names, [`SharingActions`]), and the documented limits. Everything else of that crate
//! (wire models, the signer, the HTTP client) is under [`unstable`]: reachable, but with
//! no stability promise.
//!
//! ```
//! use imageshare::ucloud::{UCloudCredentials, UCloudImageSharing, UHostAction, UHOST};
//! use imageshare::{ClientBuilder, ImageSharing, Rate, StaticEnv};
//!
//! let uhost = UCloudImageSharing::builder()
//!     .region("cn-bj2")
//!     .project("org-a1b2c3")
//!     .credentials(UCloudCredentials::new("public-key", "private-key"))
//!     .rate_limit(UHostAction::DescribeImage, Rate::per_second(20.0))
//!     .env(StaticEnv::new())
//!     .build()?;
//! assert_eq!(uhost.provider(), UHOST);
//! # Ok::<(), imageshare::Error>(())
//! ```

pub use imageshare_ucloud::{
    credential, limits, CopiedImage, SharingActions, UCloudChain, UCloudCredentials,
    UCloudImageSharing, UCloudImageSharingBuilder, UHostAction, UHOST, UHOST_LIMITS,
};

/// The whole `imageshare-ucloud` crate: wire models ([`model`](imageshare_ucloud::model)),
/// the signer ([`signer`](imageshare_ucloud::signer)), the HTTP client. **Not a stable
/// API**: it changes when a cloud's API or the transport does (see the README's
/// "Stability" section). Build on the items above instead.
pub use imageshare_ucloud as unstable;
