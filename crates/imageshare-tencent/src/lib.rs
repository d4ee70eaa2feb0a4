//! # imageshare-tencent
//!
//! Tencent Cloud support for imageshare:
//!
//! - [`signer`]: TC3-HMAC-SHA256 (API signature v3) as a pure function of credentials,
//!   request parts and time ([`Tc3Signer`], [`Tc3Request`], [`Tc3Signature`]), and the
//!   verifying side the emulator uses ([`Tc3Verifier`], [`Tc3Authorization`],
//!   [`VerifyError`] with Tencent's error codes);
//! - [`credential`]: [`TencentCredentials`] and the credential chain (explicit ->
//!   `TENCENTCLOUD_*` environment -> `~/.tencentcloud/credentials`);
//! - [`limits`]: the documented sharing limits of CVM ([`CVM_LIMITS`]) and Lighthouse
//!   ([`LIGHTHOUSE_LIMITS`]) for the core limit checker.
//!
//! The CVM and Lighthouse [`ImageSharing`](imageshare_core::ImageSharing) adapters that use
//! these pieces come in a later issue.
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

pub mod credential;
pub mod ini;
pub mod limits;
pub mod signer;

pub use credential::{
    from_env, CredentialChain, CredentialSource, ResolvedCredentials, TencentCredentials,
};
pub use limits::{CVM_LIMITS, LIGHTHOUSE_LIMITS};
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
