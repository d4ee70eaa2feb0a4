//! # imageshare-emulator
//!
//! A faithful, in-process emulator of the image-sharing APIs of Alibaba Cloud (ECS, Simple
//! Application Server), Tencent Cloud (CVM, Lighthouse) and UCloud (UHost): a real HTTP
//! server on 127.0.0.1 that
//!
//! - serves every provider on one address, telling requests apart by the markers a real
//!   request carries (Alibaba `Version` / `x-acs-version`, the TC3 credential scope's
//!   service, UCloud `PublicKey` + `Action`), never by path, so each cloud's own SDK can be
//!   pointed at it unchanged;
//! - verifies every signature as the cloud does (RPC v1 and ACS3, TC3, UCloud SHA1) and
//!   answers unknown keys, bad signatures, expired timestamps and replayed nonces with the
//!   cloud's own error code and HTTP status;
//! - holds a world (accounts and keys, UCloud projects, images, grants) and enforces every
//!   documented sharing rule in one engine ([`engine::Engine`]), from the same limit tables
//!   the client-side checker uses;
//! - injects seeded, reproducible faults (QPS quotas answered with the cloud's throttling
//!   code, 5xx, dropped connections, latency);
//! - offers an inspection API for tests (grants, calls per action, faults served), in Rust
//!   on [`Emulator`] and over HTTP for any language under `/_imageshare/` ([`admin`]:
//!   health, state, the call log, faults, reset, a new world).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use imageshare_emulator::{Emulator, World};
//! let emu = Emulator::start(World::example()).await?;
//! println!("point your adapters at {}", emu.base_url());
//! assert!(emu.grants("img-6pb6lrmy").is_empty());
//! # Ok(()) }
//! ```
//!
//! Served actions: Alibaba ECS (DescribeImages, ModifyImageSharePermission,
//! DescribeImageSharePermission, CopyImage, CancelCopyImage, DeleteImage) and SWAS (ListCustomImages,
//! Add/RemoveCustomImageShareAccount, ListCustomImageShareAccounts, DeleteCustomImage,
//! ModifyImageShareStatus); Tencent CVM and Lighthouse (see the `tencent` front-end);
//! UCloud UHost (DescribeImage, CopyCustomImage, TerminateCustomImage, and imageshare's own
//! sharing actions, which UCloud does not publish); Alibaba STS 2015-04-01 and Tencent STS
//! 2018-08-13 (AssumeRole, AssumeRoleWithOIDC / AssumeRoleWithWebIdentity without a
//! signature, GetCallerIdentity: see `frontend::alibaba::sts`, `frontend::tencent::sts`),
//! whose temporary credentials every later action accepts as the role's account; Alibaba
//! Resource Sharing 2020-01-10 (`frontend::alibaba::resource_sharing`: resource shares of
//! ECS images with the world's resource directories, folders and members, and invited
//! outside accounts); and both
//! clouds' instance metadata credentials (`frontend::metadata`, IMDSv2 tokens on Alibaba).
//! Roles, OIDC providers and the credential TTL are declared in the world
//! ([`world::roles`]). Any other action gets the cloud's own
//! "no such action" answer (`InvalidAction.NotFound`, `InvalidAction`, RetCode 161).
//!
//! The world file format is documented in [`world`]; `examples/world.toml` is the default
//! world of `imageshare-emulator serve`.
#![warn(missing_docs)]
// Builders and pure functions are `#[must_use]` (CI: clippy -D warnings); not in unit tests.
#![cfg_attr(
    not(test),
    warn(clippy::must_use_candidate, clippy::return_self_not_must_use)
)]

pub mod admin;
pub mod engine;
pub mod faults;
pub mod frontend;
pub mod server;
pub mod world;

pub use engine::{Engine, EngineError, Grant};
pub use faults::{FaultEvent, FaultKind, FaultPlan, FaultRule};
pub use server::{CallRecord, Emulator, ServerOptions, TLS_SERVER_NAMES};
pub use world::{Account, ImageSeed, World, WorldBuilder};
