//! Reading the files a command is given (`--world`, `-f -`) through core's one capped
//! reader ([`imageshare::core::files`]): regular files only, each with a size cap, so that
//! `/dev/zero`, a FIFO or an endless stream is refused fast instead of read until memory
//! runs out. The manifest's own reader (`imageshare::manifest::Manifest::from_file`) uses
//! the same one. Failures are bad input (status 2).

use std::path::Path;

use imageshare::core::files::{read_capped, read_text_capped, ReadFileError};

use crate::exit::{usage, Failure};

/// The largest world file `emulator serve --world` reads, in bytes.
pub const MAX_WORLD_BYTES: u64 = 4 * 1024 * 1024;

/// Reads the text file `path` (`what` names it in messages: "the world file"), at most
/// `cap` bytes, a regular file (or a link to one) only.
pub fn read_text(path: &Path, what: &str, cap: u64) -> Result<String, Failure> {
    read_text_capped(path, cap).map_err(|e| failure(&format!("{what} {}", path.display()), e))
}

/// Reads standard input as text, at most `cap` bytes (`what` names it in messages).
pub fn read_stdin(what: &str, cap: u64) -> Result<String, Failure> {
    read_capped(std::io::stdin().lock(), cap).map_err(|e| failure(what, e))
}

fn failure(what: &str, e: ReadFileError) -> Failure {
    match e {
        ReadFileError::NotAFile(_) => {
            usage(format!("cannot read {what}: {e}; give the path of a file"))
        }
        ReadFileError::TooLarge { .. } => {
            usage(format!("cannot read {what}: {e}; give a smaller file"))
        }
        other => usage(format!("cannot read {what}: {other}")),
    }
}
