//! # imageshare-tencent
//!
//! Tencent Cloud support for imageshare:
//!
//! - [`TencentCvmImageSharing`] (alias [`Cvm`]): custom-image sharing on CVM (API
//!   2017-03-12) as an [`ImageSharing`](imageshare_core::ImageSharing): `DescribeImages`,
//!   `ModifyImageSharePermission`, `DescribeImageSharePermission`, `SyncImages`,
//!   `DeleteImages`;
//! - [`TencentLighthouseImageSharing`] (alias [`Lighthouse`]): blueprint sharing on
//!   Lighthouse (API 2020-03-24), plus the named CVM -> Lighthouse move
//!   ([`share_from_cvm`](TencentLighthouseImageSharing::share_from_cvm)) and the typed
//!   "no public API" answer for Lighthouse -> CVM
//!   ([`share_to_cvm`](TencentLighthouseImageSharing::share_to_cvm));
//! - [`client`]: the TC3 HTTP client both use ([`TencentClient`]): a fresh signature per
//!   attempt, `X-TC-*` headers, the `{"Response": ...}` envelope, error codes kept verbatim
//!   (throttling and busy codes retryable, `AuthFailure.*` as
//!   [`Error::Auth`](imageshare_core::Error::Auth), not-found codes as
//!   [`Error::NotFound`](imageshare_core::Error::NotFound));
//! - [`signer`]: TC3-HMAC-SHA256 (API signature v3) as a pure function of credentials,
//!   request parts and time ([`Tc3Signer`], [`Tc3Request`], [`Tc3Signature`]), and the
//!   verifying side the emulator uses ([`Tc3Verifier`], [`Tc3Authorization`],
//!   [`VerifyError`] with Tencent's error codes);
//! - [`credential`]: [`TencentCredentials`] and the credential chain, a core
//!   [`CredentialChain`](imageshare_core::credentials::CredentialChain) (explicit ->
//!   `TENCENTCLOUD_*` environment -> `~/.tencentcloud/credentials` -> tccli's
//!   `~/.tccli/<profile>.credential` -> `/etc/tencentcloud/credentials` -> TKE OIDC -> CVM
//!   instance role), resolved when an adapter is built, optionally wrapped in an STS
//!   `AssumeRole`; temporary credentials are refreshed before they expire;
//! - [`limits`]: the documented sharing limits of CVM ([`CVM_LIMITS`]) and Lighthouse
//!   ([`LIGHTHOUSE_LIMITS`]) for the core limit checker;
//! - [`model`]: the serde wire models.
//!
//! Both builders ([`CvmBuilder`], [`LighthouseBuilder`]) take the shared settings
//! (`region`, `endpoint`, `profile`, `timeout`, `retry`, `rate_limit`, `clock`, `env`, ...)
//! through [`ClientBuilder`](imageshare_core::ClientBuilder), and the Tencent ones
//! (`credentials`, `site`, `language`) as their own methods.
//!
//! ## Share a golden image
//!
//! ```no_run
//! use imageshare_core::{Checked, ClientBuilder, ImageSharingExt, Principal};
//! use imageshare_tencent::TencentCvmImageSharing;
//!
//! # async fn run() -> imageshare_core::Result<()> {
//! // Credentials from TENCENTCLOUD_SECRET_ID/KEY or ~/.tencentcloud/credentials, resolved
//! // by build().
//! let cvm = TencentCvmImageSharing::builder()
//!     .region("ap-guangzhou")
//!     .build()?;
//! // The limit checker refuses what CVM would refuse, before any write is sent, and
//! // batches the accounts.
//! let cvm = Checked::new(cvm);
//! let report = cvm
//!     .share(&"img-6pb6lrmy".into(), &[Principal::account("100000000002")])
//!     .await?;
//! for (who, outcome) in report.iter() {
//!     println!("{who}: {outcome}");
//! }
//! for sharee in cvm.sharees(&"img-6pb6lrmy".into()).await? {
//!     println!("shared with {}", sharee.principal);
//! }
//! # Ok(()) }
//! ```
//!
//! ## Against the emulator (or any endpoint), with explicit keys
//!
//! ```no_run
//! use imageshare_core::{ClientBuilder, ImageSharingExt};
//! use imageshare_tencent::{TencentCredentials, TencentLighthouseImageSharing};
//!
//! # async fn run() -> imageshare_core::Result<()> {
//! let lighthouse = TencentLighthouseImageSharing::builder()
//!     .endpoint("http://127.0.0.1:8080")
//!     .credentials(TencentCredentials::new("AKIDEMU0000000000000000000000001", "emu-tencent-secret-1"))
//!     .region("ap-guangzhou")
//!     .build()?;
//! // Move a CVM custom image into this account's Lighthouse in one call.
//! let blueprint = lighthouse.share_from_cvm(&"img-6pb6lrmy".into()).await?;
//! println!("new blueprint {blueprint}: {:?}", lighthouse.image(&blueprint).await?.state);
//! # Ok(()) }
//! ```
//!
//! ## Sign a request, then verify it as the server does
//!
//! ```
//! use imageshare_core::Secret;
//! use imageshare_tencent::{ReceivedRequest, Tc3Request, Tc3Signer, Tc3Verifier, TencentCredentials};
//!
//! let creds = TencentCredentials::new(
//!     "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
//!     "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
//! );
//! let body = br#"{"ImageId":"img-6pb6lrmy","AccountIds":["1038493875"],"Permission":"SHARE"}"#;
//! let request = Tc3Request::post_json(
//!     "cvm", "cvm.tencentcloudapi.com", "ModifyImageSharePermission", "2017-03-12",
//!     body, 1_551_113_065,
//! )
//! .region("ap-guangzhou");
//! let signed = Tc3Signer::new(creds.clone()).sign(&request);
//!
//! // Vector A of tencent.md §4.5.
//! assert_eq!(signed.signature, "49e5b018f6bb31774057f51bf347bfbddb71265e3ceebd24a7d04a3c35ef3d0f");
//! assert_eq!(signed.header("X-TC-Region"), Some("ap-guangzhou"));
//!
//! // The emulator's side: the received method, path, query, headers and body.
//! let received = ReceivedRequest::new("POST", "/", "", body)
//!     .headers(signed.headers.iter().map(|(n, v)| (*n, v.clone())));
//! let verified = Tc3Verifier::new()
//!     .expected_service("cvm")
//!     .now(1_551_113_065 + 10)
//!     .verify(&received, &creds.secret_key)
//!     .unwrap();
//! assert_eq!(verified.secret_id, "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE");
//!
//! // One changed byte in the body and the server answers AuthFailure.SignatureFailure.
//! let tampered_body = br#"{"ImageId":"img-6pb6lrmy","AccountIds":["1038493876"],"Permission":"SHARE"}"#;
//! let tampered = ReceivedRequest { payload: tampered_body, ..received };
//! let err = Tc3Verifier::new().verify(&tampered, &Secret::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE")).unwrap_err();
//! assert_eq!(err.code(), "AuthFailure.SignatureFailure");
//! ```
#![warn(missing_docs)]
// Builders and pure functions are `#[must_use]` (CI: clippy -D warnings); not in unit tests.
#![cfg_attr(
    not(test),
    warn(clippy::must_use_candidate, clippy::return_self_not_must_use)
)]

mod actions;
mod builder;
pub mod cbs;
pub mod client;
mod common;
pub mod credential;
pub mod cvm;
pub mod envelope;
pub mod ini;
pub mod lighthouse;
pub mod limits;
pub mod model;
pub mod providers;
pub mod signer;

pub use actions::{CvmAction, LighthouseAction};
pub use builder::{CvmBuilder, LighthouseBuilder, TencentBuilder};
pub use client::{Clock, Language, TencentClient};
pub use common::PAGE_SIZE;
pub use cvm::TencentCvmImageSharing;
pub use lighthouse::{Eligibility, TencentLighthouseImageSharing};

use imageshare_core::Provider;

/// Tencent Cloud CVM custom images (`tencent-cvm`).
pub const CVM: Provider = Provider::new("tencent-cvm");
/// Tencent Cloud Lighthouse blueprints (`tencent-lighthouse`).
pub const LIGHTHOUSE: Provider = Provider::new("tencent-lighthouse");

/// Short name of [`TencentCvmImageSharing`] (`imageshare::tencent::Cvm`).
pub type Cvm = TencentCvmImageSharing;
/// Short name of [`TencentLighthouseImageSharing`] (`imageshare::tencent::Lighthouse`).
pub type Lighthouse = TencentLighthouseImageSharing;

pub use credential::TencentCredentials;
pub use limits::{
    CVM_COPY, CVM_LIMITS, LIGHTHOUSE_COPY, LIGHTHOUSE_LIMITS, MAINLAND_CHINA,
    MAINLAND_CHINA_REGIONS,
};
pub use providers::PROVIDERS;
pub use signer::{
    scope_from_authorization, sign, Method, ReceivedRequest, SignedHeaderSet, Tc3Authorization,
    Tc3Request, Tc3Signature, Tc3Signer, Tc3Verifier, Verified, VerifyError,
};

/// CVM API version.
pub const CVM_VERSION: &str = "2017-03-12";
/// Lighthouse API version.
pub const LIGHTHOUSE_VERSION: &str = "2020-03-24";
/// CVM endpoint host on the China site.
pub const CVM_HOST: &str = "cvm.tencentcloudapi.com";
/// Lighthouse endpoint host on the China site.
pub const LIGHTHOUSE_HOST: &str = "lighthouse.tencentcloudapi.com";
/// CVM endpoint host on the international site (same signing service `cvm`).
pub const CVM_INTL_HOST: &str = "cvm.intl.tencentcloudapi.com";
/// Lighthouse endpoint host on the international site (same signing service `lighthouse`).
pub const LIGHTHOUSE_INTL_HOST: &str = "lighthouse.intl.tencentcloudapi.com";
/// CBS (Cloud Block Storage) API version, used for `DescribeSnapshots`
/// (tencentcloud-sdk-go `cbs/v20170312/client.go`: `APIVersion = "2017-03-12"`).
pub const CBS_VERSION: &str = "2017-03-12";
/// CBS endpoint host on the China site (official API page 362/15647).
pub const CBS_HOST: &str = "cbs.tencentcloudapi.com";
/// CBS endpoint host on the international site (same signing service `cbs`).
pub const CBS_INTL_HOST: &str = "cbs.intl.tencentcloudapi.com";
