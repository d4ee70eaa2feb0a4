//! # imageshare-ucloud
//!
//! UCloud UHost support for imageshare: the project-sharing adapter
//! [`UCloudImageSharing`] (an [`imageshare_core::ImageSharing`]), its API client
//! ([`client`]), wire models ([`model`]) and RetCodes ([`retcode`]), the UCloud SHA1
//! parameter signer ([`signer`]), the credential and settings chain ([`credential`]) and
//! the documented sharing limits ([`UHOST_LIMITS`]), and what the facade's registry lists
//! ([`PROVIDERS`]).
//!
//! ## What UCloud offers, plainly
//!
//! UCloud documents custom-image sharing to other **projects** (`org-...`, across accounts
//! too) as a **console feature only** (UHost guide 共享镜像: 50 projects per image, same
//! region, system-disk images only, no Lightweight App UHost images, only the sharer
//! cancels, the recipient may save a copy). Its API catalogue, its Go, Python and Java
//! SDKs, its CLI and its Terraform provider publish **no API action** to share, cancel a
//! share, list sharees or save a shared image.
//!
//! This adapter therefore speaks UCloud's real protocol (endpoint, signature, `RetCode`
//! envelope) with the documented actions `DescribeImage` (lookup, listing, paging, image
//! kinds), `CopyCustomImage` and `TerminateCustomImage`, and, for project sharing, uses
//! five action names in UCloud's style ([`SharingActions`]: `ShareCustomImage`,
//! `CancelShareCustomImage`, `DescribeCustomImageShare`, `DescribeSharedImage`,
//! `SaveSharedImage`). **Those five are not part of UCloud's published API.** The
//! imageshare emulator serves them; the builder can rename each one for an endpoint that
//! serves them under other names. Against the public UCloud API they are answered with
//! RetCode 161, which the adapter reports as [`imageshare_core::Error::Unsupported`].
//!
//! **On the public cloud today, use [`UCloudImageSharing::copy_to_project`]**
//! (`CopyCustomImage` with `TargetProjectId`, and `TargetRegion` across regions): it is
//! documented and gives the target project an independent copy. See its docs for when to
//! prefer it over sharing.
//!
//! ## Using it
//!
//! Principals are projects ([`imageshare_core::Principal::Project`]); an account principal
//! is refused with a typed [`imageshare_core::Error::Limit`] (rule `principal-kind`). Wrap
//! the adapter in [`imageshare_core::Checked`] to have the documented limits checked before
//! anything is sent.
//!
//! ```no_run
//! use imageshare_core::{Checked, ClientBuilder, ImageSharingExt, Principal, ProjectId};
//! use imageshare_ucloud::UCloudImageSharing;
//!
//! # async fn demo() -> imageshare_core::Result<()> {
//! // Keys, project and region from UCLOUD_* variables or ~/.ucloud/*.json, looked up at
//! // build(); builder values win.
//! let uhost = UCloudImageSharing::builder().region("cn-bj2").build()?;
//!
//! // The documented route on the public cloud: an independent copy in another project.
//! let copy = uhost
//!     .copy_to_project(&"uimage-golden".into(), &ProjectId::from("org-team2"), None, None)
//!     .await?;
//! println!("copied into org-team2 as {}", copy.image_id);
//!
//! // Project sharing, served by the imageshare emulator (or an endpoint with these actions).
//! let uhost = Checked::new(
//!     UCloudImageSharing::builder()
//!         .base_url("http://127.0.0.1:8080") // the emulator
//!         .credentials(imageshare_ucloud::UCloudCredentials::new("pub", "priv"))
//!         .region("cn-bj2")
//!         .project_id("org-a1b2c3")
//!         .build()?,
//! );
//! let report = uhost
//!     .share(&"uimage-golden".into(), &[Principal::project("org-d4e5f6")])
//!     .await?;
//! for (who, outcome) in report.iter() {
//!     println!("{who}: {outcome}");
//! }
//! # Ok(()) }
//! ```
//!
//! ## Errors
//!
//! `RetCode` 170, 171, 172, 174 are [`imageshare_core::Error::Auth`]; RetCode 8956 ("resource
//! does not exist or is not a custom image") and an empty `ImageSet` for one id are
//! [`imageshare_core::Error::NotFound`]; every other RetCode is an
//! [`imageshare_core::Error::Api`] whose `code` is the RetCode. The adapter classifies what
//! is worth retrying ([`imageshare_core::ApiError::retry`]): on idempotent actions 153 and
//! HTTP 429 are retried with backoff as throttling, 150 and HTTP 502 / 503 / 504 as server
//! errors; `CopyCustomImage` and `SaveSharedImage` are never retried once sent. The emulator's codes for the sharing
//! rules (which UCloud documents no code for) are listed in [`retcode`].
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
// Builders and pure functions are `#[must_use]` (CI: clippy -D warnings); not in unit tests.
#![cfg_attr(
    not(test),
    warn(clippy::must_use_candidate, clippy::return_self_not_must_use)
)]

mod actions;
pub mod answer;
pub mod builder;
pub mod client;
pub mod credential;
pub mod limits;
pub mod lookup;
pub mod model;
pub mod providers;
pub mod retcode;
pub mod sharing;
pub mod signer;
pub mod whoami;

use imageshare_core::Provider;

/// UCloud UHost, the provider of [`UCloudImageSharing`] (`ucloud`).
pub const UHOST: Provider = Provider::new("ucloud");

pub use actions::UHostAction;
pub use builder::UCloudImageSharingBuilder;
pub use client::{Idempotency, UCloudClient, GLOBAL_BASE_URL};
pub use sharing::{CopiedImage, SharingActions, UCloudImageSharing};

pub use credential::{
    CredentialSource, ResolvedUCloud, UCloudChain, UCloudConfig, UCloudCredentials,
};
pub use limits::{UHOST_COPY, UHOST_LIMITS};
pub use providers::PROVIDERS;
pub use signer::{
    sign, sign_request, verify, verify_with, FlattenError, FormError, Param, VerifyError,
};
