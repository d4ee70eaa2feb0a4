//! Tencent Cloud: CVM and Lighthouse (cargo feature `tencent`).
//!
//! The stable part of `imageshare-tencent`: the adapters and their builders, the
//! credentials and their sources, the action names of the rate limits, and the documented
//! limits. Everything else of that crate (wire models, the TC3 signer, the HTTP client) is
//! under [`unstable`]: reachable, but with no stability promise.
//!
//! ```
//! use imageshare::tencent::{CvmAction, TencentCredentials, TencentCvmImageSharing, CVM};
//! use imageshare::{ClientBuilder, ImageSharing, Rate, StaticEnv};
//!
//! let cvm = TencentCvmImageSharing::builder()
//!     .region("ap-guangzhou")
//!     .credentials(TencentCredentials::new("AKIDexample", "example-secret"))
//!     .rate_limit(CvmAction::ModifyImageSharePermission, Rate::per_second(5.0))
//!     .env(StaticEnv::new())
//!     .build()?;
//! assert_eq!(cvm.provider(), CVM);
//! # Ok::<(), imageshare::Error>(())
//! ```

pub use imageshare_tencent::{
    credential, limits, Cvm, CvmAction, CvmBuilder, Eligibility, Language, Lighthouse,
    LighthouseAction, LighthouseBuilder, TencentBuilder, TencentCredentials,
    TencentCvmImageSharing, TencentLighthouseImageSharing, CVM, CVM_LIMITS, LIGHTHOUSE,
    LIGHTHOUSE_LIMITS, PAGE_SIZE,
};

/// The whole `imageshare-tencent` crate: wire models ([`model`](imageshare_tencent::model)),
/// the TC3 signer ([`signer`](imageshare_tencent::signer)), the HTTP client. **Not a
/// stable API**: it changes when a cloud's API or the transport does (see the README's
/// "Stability" section). Build on the items above instead.
pub use imageshare_tencent as unstable;
