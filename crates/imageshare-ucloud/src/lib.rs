//! # imageshare-ucloud
//!
//! UCloud UHost support for imageshare: the UCloud SHA1 parameter signer ([`signer`]), the
//! credential and settings chain ([`credential`]) and the documented sharing limits
//! ([`UHOST_LIMITS`]).
//!
//! ## What UCloud offers, plainly
//!
//! UCloud documents custom-image sharing to other **projects** (`org-...`, across accounts
//! too) as a **console feature only**. Its API catalogue, its Go, Python and Java SDKs, its
//! CLI and its Terraform provider publish **no API action** to share, cancel a share, list
//! sharees or save a shared image. The documented API route between projects is
//! `CopyCustomImage` with `TargetProjectId`, which makes an independent copy in the target
//! project (not a live share); it works on the public cloud today.
//!
//! The UHost adapter (a later issue) therefore speaks UCloud's real protocol (endpoint,
//! this signature, the `RetCode` envelope, `DescribeImage`, `CopyCustomImage`,
//! `TerminateCustomImage`) and, for project sharing, uses action names in UCloud's style
//! that the builder can **override**; the imageshare emulator serves them. Against the
//! public UCloud API those share actions do not exist; `copy_to_project`
//! (`CopyCustomImage`) is the documented route.
//!
//! ## Signing
//!
//! Parameters are flattened (`Key.0`, `Key.0.Field`, `Key.Field`), sorted by name in byte
//! order, concatenated as `name + value`, followed by the private key, and hashed with SHA1
//! (lowercase hex). The official worked example (`docs.ucloud.cn/api/summary/signature`),
//! signed and then verified as the emulator does:
//!
//! ```
//! use imageshare_core::Secret;
//! use imageshare_ucloud::{signer, UCloudCredentials};
//!
//! let creds = UCloudCredentials::new(
//!     "ucloudsomeone@example.com1296235120854146120",
//!     "46f09bb9fab4f12dfc160dae12273d5332b5debe",
//! );
//! let params = signer::flatten(&serde_json::json!({
//!     "Action": "DescribeUHostInstance",
//!     "Region": "cn-bj2",
//!     "Limit": 10,
//! }))
//! .unwrap();
//!
//! // PublicKey added, sorted, Signature appended: ready for form encoding.
//! let signed = signer::sign_request(params, &creds);
//! assert_eq!(
//!     signed.last().unwrap(),
//!     &("Signature".to_string(), "cba5cf5ec4d4233d206b1b54951e3787350a642f".to_string())
//! );
//! let body = signer::form_encode(&signed);
//! assert!(body.starts_with("Action=DescribeUHostInstance&Limit=10&PublicKey=ucloudsomeone%40"));
//!
//! // The receiving side: decode, look the private key up by PublicKey, verify.
//! let received = signer::form_decode(&body).unwrap();
//! let who = signer::verify_with(&received, |public_key| {
//!     (public_key == creds.public_key).then(|| creds.private_key.clone())
//! })
//! .unwrap();
//! assert_eq!(who, "ucloudsomeone@example.com1296235120854146120");
//!
//! // Any change breaks it, with the gateway's RetCode 171.
//! let mut tampered = received.clone();
//! tampered[1].1 = "100".into(); // Limit
//! let err = signer::verify(&tampered, &Secret::new("46f09bb9fab4f12dfc160dae12273d5332b5debe"))
//!     .unwrap_err();
//! assert_eq!((err.ret_code(), err.message()), (171, "Signature VerifyAC Error"));
//! ```
#![warn(missing_docs)]

pub mod credential;
pub mod limits;
pub mod signer;

pub use credential::{
    CredentialSource, ResolvedUCloud, UCloudChain, UCloudConfig, UCloudCredentials,
};
pub use limits::UHOST_LIMITS;
pub use signer::{
    sign, sign_request, verify, verify_with, FlattenError, FormError, Param, VerifyError,
};
