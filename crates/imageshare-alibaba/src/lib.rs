//! # imageshare-alibaba
//!
//! Alibaba Cloud pieces of imageshare:
//!
//! - [`signer`]: request signing and verification, as pure functions:
//!   [`signer::rpc_v1`] (signature V2 for RPC APIs, `HMAC-SHA1`) and [`signer::acs3`]
//!   (`ACS3-HMAC-SHA256`), with [`percent_encode`]. The verifying side is what the
//!   emulator uses to check requests the way Alibaba does.
//! - [`credential`]: [`AlibabaCredentials`] and the credential chain (explicit values,
//!   the Aliyun CLI environment variables, `~/.aliyun/config.json`).
//! - [`limits`]: the documented sharing limits of ECS ([`ECS_LIMITS`]) and Simple
//!   Application Server ([`SAS_LIMITS`]) for the core limit checker.
//!
//! The ECS and SAS adapters (the `ImageSharing` implementations) come in a later issue.
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

pub mod credential;
pub mod limits;
pub mod signer;

pub use credential::{
    resolve_credentials, resolve_region, AlibabaCredentials, CredentialSource, ResolvedCredentials,
};
pub use limits::{ECS_LIMITS, SAS_LIMITS};
pub use signer::{acs3, percent_encode, rpc_v1};
