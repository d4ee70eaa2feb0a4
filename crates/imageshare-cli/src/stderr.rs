//! What the CLI writes on stderr besides its errors, and `--quiet`: progress (bars and
//! spinners, drawn only on a terminal) and notes (`imageshare: ...` lines that inform,
//! such as the images a trust policy hid, or that Ctrl-C was seen) are left out with
//! `--quiet`; warnings (the log's, a torn audit record) and errors are always written.
//!
//! Colour: imageshare's own output (text, JSON, notes, log lines, progress) has none.
//! The only styling is clap's in `--help` and usage errors, which it draws on a terminal
//! only and never when `NO_COLOR` is set (clap's `anstream`; `CLICOLOR_FORCE` forces it).

use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::ProgressDrawTarget;

/// Set once by `--quiet`, at start.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Records `--quiet` for the whole process.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// True under `--quiet`.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Where progress is drawn: stderr (indicatif draws only on a terminal), nowhere under
/// `--quiet`.
pub fn progress_target() -> ProgressDrawTarget {
    if quiet() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}

/// Writes `imageshare: NOTE` on stderr, unless `--quiet`.
pub fn note(note: &str) {
    if !quiet() {
        eprintln!("imageshare: {note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hides_progress() {
        set_quiet(true);
        assert!(progress_target().is_hidden());
        set_quiet(false);
        assert!(quiet() == QUIET.load(Ordering::Relaxed));
    }
}
