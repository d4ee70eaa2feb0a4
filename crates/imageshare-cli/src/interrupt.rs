//! Ctrl-C (SIGINT): the first one stops the command from starting new calls, and the
//! command then ends within about a second, saying what was and was not done (status 5);
//! a second one exits at once (status 130).
//!
//! [`install`] listens for it; [`interrupted`] resolves on the first one (the bulk jobs
//! stop there); [`gave_up`] resolves [`GRACE`] later, when [`main`](crate) stops waiting
//! for the command.

use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::watch;

use crate::exit::{Failure, PARTIAL};

/// How long after the first Ctrl-C the command may still run (calls in flight finish or
/// are abandoned) before the process ends.
pub const GRACE: Duration = Duration::from_millis(900);

/// Status of a process ended by a second Ctrl-C (128 + SIGINT, as shells report it).
pub const AGAIN: i32 = 130;

fn channel() -> &'static watch::Sender<bool> {
    static CHANNEL: OnceLock<watch::Sender<bool>> = OnceLock::new();
    CHANNEL.get_or_init(|| watch::channel(false).0)
}

/// Listens for Ctrl-C from now on (replacing the default, which kills the process).
pub fn install() {
    #[cfg(unix)]
    let mut signals = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
    {
        Ok(s) => s,
        Err(_) => return,
    };
    tokio::spawn(async move {
        #[cfg(unix)]
        let first = signals.recv().await;
        #[cfg(not(unix))]
        let first = tokio::signal::ctrl_c().await.ok();
        if first.is_none() {
            return;
        }
        channel().send_replace(true);
        crate::stderr::note(
            "interrupted: no new call is started; ending within a second (Ctrl-C again to \
             exit now)",
        );
        #[cfg(unix)]
        let second = signals.recv().await;
        #[cfg(not(unix))]
        let second = tokio::signal::ctrl_c().await.ok();
        if second.is_some() {
            crate::stderr::note("interrupted again: exiting now");
            std::process::exit(AGAIN);
        }
    });
}

/// Resolves once Ctrl-C was pressed (at once if it already was).
pub async fn interrupted() {
    let mut rx = channel().subscribe();
    let _ = rx.wait_for(|pressed| *pressed).await;
}

/// Resolves [`GRACE`] after the first Ctrl-C.
pub async fn gave_up() {
    interrupted().await;
    tokio::time::sleep(GRACE).await;
}

/// The failure of a command stopped by Ctrl-C before it could say what it did.
pub fn failure() -> Failure {
    Failure::new(
        PARTIAL,
        "interrupted with calls in flight: some of them may have been carried out; the audit \
         trail (`imageshare audit`) records each change made, and `imageshare sharees ID` \
         shows where an image stands",
    )
    .kind("interrupted")
}
