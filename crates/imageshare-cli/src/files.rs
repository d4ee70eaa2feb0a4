//! Reading the files a command is given (`--world`, `-f -`): regular files only, each
//! with a size cap, so that `/dev/zero`, a FIFO or an endless stream is refused fast
//! instead of read until memory runs out. The manifest's own reader
//! (`imageshare::manifest::Manifest::from_file`) applies the same rules.

use std::io::Read;
use std::path::Path;

use crate::exit::{usage, Failure};

/// The largest world file `emulator serve --world` reads, in bytes.
pub const MAX_WORLD_BYTES: u64 = 4 * 1024 * 1024;

/// Reads the text file `path` (`what` names it in messages: "the world file"), refusing
/// before opening it anything but a regular file (or a link to one), and refusing a file
/// larger than `cap` bytes. Failures are bad input (status 2).
pub fn read_text(path: &Path, what: &str, cap: u64) -> Result<String, Failure> {
    let shown = path.display();
    let meta =
        std::fs::metadata(path).map_err(|e| usage(format!("cannot read {what} {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(usage(format!(
            "cannot read {what} {shown}: it is {}, not a regular file; give the path of a file",
            kind(&meta)
        )));
    }
    let file =
        std::fs::File::open(path).map_err(|e| usage(format!("cannot read {what} {shown}: {e}")))?;
    capped(file, &format!("{what} {shown}"), cap)
}

/// Reads standard input as text, at most `cap` bytes (`what` names it in messages).
pub fn read_stdin(what: &str, cap: u64) -> Result<String, Failure> {
    capped(std::io::stdin().lock(), what, cap)
}

/// Reads `r` to its end as UTF-8, failing once more than `cap` bytes came.
fn capped(r: impl Read, what: &str, cap: u64) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    r.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| usage(format!("cannot read {what}: {e}")))?;
    if bytes.len() as u64 > cap {
        return Err(usage(format!(
            "{what} is larger than {cap} bytes, the most that is read; give a smaller file"
        )));
    }
    String::from_utf8(bytes).map_err(|e| usage(format!("{what} is not UTF-8 text: {e}")))
}

/// What a file that is not a regular file is, in words.
fn kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}
