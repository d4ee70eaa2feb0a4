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
//! - [`credential`]: [`AlibabaCredentials`] and the credential chain (explicit values,
//!   the Aliyun CLI environment variables, `~/.aliyun/config.json`).
//! - [`limits`]: the documented sharing limits of ECS ([`ECS_LIMITS`]) and Simple
//!   Application Server ([`SAS_LIMITS`]) for the core limit checker.
//!
//! Sharing a golden image with two accounts, behind the limit checker (which dedupes,
//! skips accounts that already have a grant and batches by 10):
//!
//! ```no_run
//! use imageshare_alibaba::{AlibabaCredentials, EcsImageSharing};
//! use imageshare_core::{Checked, ImageSharing, Principal};
//!
//! # async fn demo() -> imageshare_core::Result<()> {
//! // Explicit values here; EcsImageSharing::from_env()? reads the same variables and
//! // profile file as the Aliyun CLI.
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

/// The builder setters shared by [`EcsBuilder`] and [`SasBuilder`].
#[doc(hidden)]
#[macro_export]
macro_rules! builder_setters {
    ($builder:ident, $product:literal, $example_endpoint:literal) => {
        impl $builder {
            #[doc = concat!("The region (`RegionId`, and the default endpoint's region) of the ", $product, " client.")]
            pub fn region(mut self, region: impl Into<imageshare_core::Region>) -> Self {
                self.config.region = Some(region.into());
                self
            }
            #[doc = concat!("Overrides the endpoint (`http(s)://host[:port]`, no path), e.g. `", $example_endpoint, "`, a VPC endpoint or the emulator. Validated at `build`.")]
            pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
                self.config.endpoint = Some(endpoint.into());
                self
            }
            /// Explicit credentials (an AccessKey pair, optionally with an STS token);
            /// without them `build` runs the credential chain.
            pub fn credentials(mut self, credentials: $crate::AlibabaCredentials) -> Self {
                self.config.credentials = Some(credentials);
                self
            }
            /// The signature version (default: `ACS3-HMAC-SHA256`).
            pub fn signature_version(mut self, version: $crate::SignatureVersion) -> Self {
                self.config.signature = version;
                self
            }
            /// HTTP options (timeouts, user agent, concurrency bound).
            pub fn client_options(mut self, options: imageshare_core::transport::ClientOptions) -> Self {
                self.config.options = options;
                self
            }
            /// Retry policy (attempts, backoff).
            pub fn retry(mut self, retry: imageshare_core::transport::RetryConfig) -> Self {
                self.config.retry = retry;
                self
            }
            /// Client-side rate limits per action, replacing the defaults
            /// ([`limits::ecs_rate_limits`]($crate::limits::ecs_rate_limits),
            /// [`limits::sas_rate_limits`]($crate::limits::sas_rate_limits));
            /// `RateLimits::none()` limits nothing. The table is set on the rate limiter of
            /// the client options, so every adapter sharing that limiter follows it.
            pub fn rate_limits(mut self, limits: imageshare_core::ratelimit::RateLimits) -> Self {
                self.config.rate_limits = Some(limits);
                self
            }
            /// The client-side rate of one action, on top of the defaults (or of
            /// `rate_limits`).
            pub fn rate_limit(
                mut self,
                action: impl Into<String>,
                rate: imageshare_core::ratelimit::Rate,
            ) -> Self {
                self.config.rate_overrides.push((action.into(), rate));
                self
            }
        }
    };
}

pub mod client;
pub mod credential;
pub mod ecs;
pub mod limits;
pub mod model;
pub mod sas;
pub mod signer;

pub use client::{OpenApiClient, SignatureVersion, ECS_VERSION, SAS_VERSION};
pub use credential::{
    resolve_credentials, resolve_region, AlibabaCredentials, CredentialSource, ResolvedCredentials,
};
pub use ecs::{CopyOptions, EcsBuilder, EcsImageSharing};
pub use limits::{ECS_LIMITS, SAS_LIMITS};
pub use sas::{SasBuilder, SasImageSharing};
pub use signer::{acs3, percent_encode, rpc_v1};
