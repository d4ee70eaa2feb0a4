//! # imageshare-alibaba
//!
//! Alibaba Cloud image sharing for imageshare:
//!
//! - [`EcsImageSharing`] (ECS, API 2014-05-26) and [`SasImageSharing`] (Simple
//!   Application Server, SWAS-OPEN 2020-06-01): the `imageshare_core::ImageSharing`
//!   adapters, with [`SasImageSharing::share_to_ecs`] for the SAS -> ECS move.
//! - [`client`]: the shared OpenAPI client: `ACS3-HMAC-SHA256` by default, RPC signature
//!   v1 selectable ([`SignatureVersion`]), a fresh nonce and timestamp on every attempt,
//!   STS tokens, error codes kept verbatim.
//! - [`model`]: the wire models of the answers.
//! - [`signer`]: request signing and verification, as pure functions:
//!   [`signer::rpc_v1`] (signature V2 for RPC APIs, `HMAC-SHA1`) and [`signer::acs3`]
//!   (`ACS3-HMAC-SHA256`), with [`percent_encode`]. The verifying side is what the
//!   emulator uses to check requests the way Alibaba does.
//! - [`credential`]: [`AlibabaCredentials`] and the credential chain in the order of
//!   aliyun/credentials-go's default chain (explicit values, the environment, OIDC /
//!   RRSA, `~/.aliyun/config.json` in every CLI mode, the ECS instance RAM role, a
//!   credentials URI), resolved at `build()` into a provider the adapter's credentials
//!   cache refreshes; STS `AssumeRole` ([`credential::sts`]) for roles, and
//!   `GetCallerIdentity` for `whoami`.
//! - [`ECS`] and [`SAS`]: the provider identities of the two adapters.
//! - [`resource_sharing`]: ECS images shared with a resource directory, a folder or a
//!   member through Resource Sharing (the `directory:` / `folder:` / `member:`
//!   principals of the ECS adapter), and community images ([`EcsImageSharing::publish`]).
//! - [`limits`]: the documented sharing limits of ECS ([`ECS_LIMITS`]) and Simple
//!   Application Server ([`SAS_LIMITS`]) for the core limit checker.
//!
//! Sharing a golden image with two accounts, behind the limit checker (which dedupes,
//! skips accounts that already have a grant and batches by 10):
//!
//! ```no_run
//! use imageshare_alibaba::{AlibabaCredentials, EcsImageSharing};
//! use imageshare_core::{Checked, ClientBuilder, ImageSharingExt, Principal};
//!
//! # async fn demo() -> imageshare_core::Result<()> {
//! // Explicit values here; without them `build()` reads the same variables and profile
//! // file as the Aliyun CLI.
//! let ecs = EcsImageSharing::builder()
//!     .region("cn-hangzhou")
//!     .credentials(AlibabaCredentials::new("LTAI5tExampleKeyId", "example-secret"))
//!     .build()?;
//! let ecs = Checked::new(ecs);
//! let report = ecs
//!     .share(
//!         &"m-bp18ygjuqnwhechc".into(),
//!         &[Principal::account("1234567890"), Principal::account("1234567891")],
//!     )
//!     .await?;
//! for (who, outcome) in report.iter() {
//!     println!("{who}: {outcome}");
//! }
//! # Ok(()) }
//! ```
//!
//! The signers are pure functions of credentials, request, time and nonce:
//!
//! ```
//! use imageshare_alibaba::{rpc_v1, AlibabaCredentials};
//!
//! let creds = AlibabaCredentials::new("LTAI5tExampleKeyId", "example-secret");
//! let request = rpc_v1::RpcRequest::new("ModifyImageSharePermission", "2014-05-26")
//!     .param("RegionId", "cn-hangzhou")
//!     .param("ImageId", "m-bp18ygjuqnwhechc")
//!     .list("AddAccount", ["1234567890", "1234567891"]);
//!
//! // Pure: the same time and nonce always give the same signature.
//! let signed = rpc_v1::sign(&creds, &request, 1_678_696_470, "edb2b34af0af9a6d14deaf7c1a5315eb");
//! assert_eq!(signed.param("Timestamp"), Some("2023-03-13T08:34:30Z"));
//! assert_eq!(signed.param("AddAccount.2"), Some("1234567891"));
//!
//! // The server side recomputes and compares.
//! assert!(rpc_v1::verify("POST", &signed.params, &creds.access_key_secret).is_ok());
//!
//! // Any change to a parameter breaks the signature.
//! let mut tampered = signed.params.clone();
//! tampered.iter_mut().find(|(k, _)| k == "AddAccount.2").unwrap().1 = "999".into();
//! let err = rpc_v1::verify("POST", &tampered, &creds.access_key_secret).unwrap_err();
//! assert_eq!(err.code(), "SignatureDoesNotMatch");
//! ```
#![warn(missing_docs)]
// Builders and pure functions are `#[must_use]` (CI: clippy -D warnings); not in unit tests.
#![cfg_attr(
    not(test),
    warn(clippy::must_use_candidate, clippy::return_self_not_must_use)
)]

use imageshare_core::Provider;

/// Alibaba Cloud ECS (API 2014-05-26), the provider of [`EcsImageSharing`].
pub const ECS: Provider = Provider::new("alibaba-ecs");

/// Alibaba Cloud Simple Application Server (SWAS-OPEN 2020-06-01), the provider of
/// [`SasImageSharing`].
pub const SAS: Provider = Provider::new("alibaba-sas");

mod actions;
mod builder;
pub mod client;
pub mod credential;
pub mod ecs;
pub mod limits;
pub mod model;
pub mod providers;
pub mod resource_sharing;
pub mod sas;
pub mod signer;

pub use actions::{EcsAction, SasAction};
pub use builder::AlibabaBuilder;
pub use client::{OpenApiClient, SignatureVersion, ECS_VERSION, SAS_VERSION};
pub use credential::{
    credential_chain, resolve_credentials, resolve_region, sts::Services, AlibabaCredentials,
    CliProfileFile,
};
pub use ecs::{CopyOptions, EcsBuilder, EcsImageSharing};
pub use limits::{ECS_COPY, ECS_LIMITS, ECS_ORG_TARGETS, SAS_LIMITS};
pub use providers::PROVIDERS;
pub use resource_sharing::{Publish, ResourceSharing};
pub use sas::{SasBuilder, SasImageSharing};
pub use signer::{acs3, percent_encode, rpc_v1};
