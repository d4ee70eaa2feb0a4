//! Testing helpers (cargo feature `emulator`): point any connection at a running
//! [`imageshare_emulator::Emulator`], acting as one account of its world. For tests of
//! your own automation; SDK builds without the feature never compile the emulator.
//!
//! ```no_run
//! use imageshare::testing::ConnectEmulator;
//! use imageshare::{ClientBuilder, Connect, ImageSharingExt};
//!
//! # async fn run(emu: &imageshare_emulator::Emulator) -> imageshare::Result<()> {
//! let cvm = Connect::new(imageshare::tencent::CVM)
//!     .region("ap-guangzhou")
//!     .emulator(emu, "100000000001")
//!     .build()?;
//! let image = cvm.image(&"img-6pb6lrmy".into()).await?;
//! # Ok(()) }
//! ```

use imageshare_core::{ClientBuilder, PrincipalKind};

/// The emulator itself, so a test needs no other dependency than `imageshare` (with the
/// `emulator` feature): start one with `Emulator::start(World::example())`, or over TLS
/// with `Emulator::start_with(world, ServerOptions::default().tls(true))`.
pub use imageshare_emulator::{Emulator, ServerOptions, World};

use crate::Connect;

/// Points a [`Connect`] at an emulator.
pub trait ConnectEmulator {
    /// Sets the endpoint to the emulator, the keys of `account` (of its world) for the
    /// provider's cloud, and, for providers that share to projects, the account's first
    /// project unless a project was given.
    ///
    /// # Panics
    /// When `account` is not in the emulator's world, has no key for the provider's cloud,
    /// or the provider is not compiled in (a mistake in the test, not a runtime condition).
    #[must_use]
    fn emulator(self, emu: &Emulator, account: &str) -> Self;
}

impl ConnectEmulator for Connect {
    fn emulator(self, emu: &Emulator, account: &str) -> Self {
        let provider = self.provider();
        let spec = crate::registry::spec(provider)
            .unwrap_or_else(|| panic!("{provider} is not compiled in"));
        let a = emu
            .account(account)
            .unwrap_or_else(|| panic!("account {account} is not in the emulator's world"));
        let credentials = a
            .credentials(spec.cloud)
            .unwrap_or_else(|| panic!("account {account} has no {provider} key in the world"));
        let mut c = self.credentials(credentials).endpoint(emu.base_url());
        if c.config().project().is_none() && spec.limits.principal_kind == PrincipalKind::Project {
            if let Some(p) = a.projects.first() {
                c = c.project(p.as_str());
            }
        }
        c
    }
}
