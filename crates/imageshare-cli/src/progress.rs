//! Progress on stderr, drawn only when stderr is a terminal (indicatif hides itself
//! otherwise), so scripts and `--output json` see nothing of it.

use std::future::Future;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A spinner with a message, for one long call.
pub fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, crate::stderr::progress_target());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
    );
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar over `len` steps.
pub fn bar(len: u64, prefix: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), crate::stderr::progress_target());
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix.to_owned());
    bar
}

/// Awaits `work` with a [`spinner`] showing `message`.
pub async fn with_spinner<T>(message: &str, work: impl Future<Output = T>) -> T {
    let bar = spinner(message);
    let done = work.await;
    bar.finish_and_clear();
    done
}
