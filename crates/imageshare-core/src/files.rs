//! Reading the small text files imageshare takes from users (credentials and profile
//! files, manifests, world files) safely: only regular files, and at most a cap of bytes,
//! so that a path to `/dev/zero`, a FIFO or a huge file fails at once with a clear message
//! instead of hanging or growing without bound. Written once here; the credential chains,
//! the manifest and the CLI all read through it.

use std::fmt;
use std::io::{self, Read};
use std::path::Path;

/// The cap of [`read_text_capped`] for credential and profile files: 1 MiB, far above any
/// real one.
pub const MAX_CREDENTIALS_FILE_BYTES: u64 = 1024 * 1024;

/// Why a file could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadFileError {
    /// The operating system's error (not found, permission denied, ...).
    Io(io::Error),
    /// Not a regular file: what it is (`a character device`, `a FIFO`, `a directory`).
    NotAFile(&'static str),
    /// Longer than the cap, in bytes.
    TooLarge {
        /// The cap.
        max: u64,
    },
    /// Not UTF-8 text.
    NotUtf8,
}

impl fmt::Display for ReadFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadFileError::Io(e) => write!(f, "{e}"),
            ReadFileError::NotAFile(kind) => write!(f, "it is {kind}, not a regular file"),
            ReadFileError::TooLarge { max } => {
                write!(f, "it is larger than {max} bytes, the most that is read")
            }
            ReadFileError::NotUtf8 => f.write_str("it is not UTF-8 text"),
        }
    }
}

impl std::error::Error for ReadFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadFileError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ReadFileError {
    fn from(e: io::Error) -> Self {
        ReadFileError::Io(e)
    }
}

impl ReadFileError {
    /// This error as an [`io::Error`] whose message names `path` (for APIs that speak
    /// `io::Result`, such as [`Env::read_file`](crate::credentials::Env::read_file)).
    #[must_use]
    pub fn into_io(self, path: &Path) -> io::Error {
        match self {
            ReadFileError::Io(e) => e,
            other => io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: {other}", path.display()),
            ),
        }
    }
}

/// What a file that is not a regular file is, in words (`a character device`, ...).
#[must_use]
pub fn file_kind(meta: &std::fs::Metadata) -> &'static str {
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

/// Reads the UTF-8 file at `path`, refusing what is not a regular file (symbolic links
/// are followed) before opening it, so a FIFO never blocks, and a file longer than `max`
/// bytes before reading it (and never reading past `max`, should it grow meanwhile).
pub fn read_text_capped(path: &Path, max: u64) -> Result<String, ReadFileError> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(ReadFileError::NotAFile(file_kind(&meta)));
    }
    if meta.len() > max {
        return Err(ReadFileError::TooLarge { max });
    }
    read_capped(std::fs::File::open(path)?, max)
}

/// Reads `r` to its end as UTF-8, failing once more than `max` bytes came (standard
/// input, a file already open).
pub fn read_capped(r: impl Read, max: u64) -> Result<String, ReadFileError> {
    let mut bytes = Vec::new();
    r.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(ReadFileError::TooLarge { max });
    }
    String::from_utf8(bytes).map_err(|_| ReadFileError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_directories_and_long_files_are_refused_at_once() {
        let dir = std::env::temp_dir().join(format!("imageshare-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = dir.join("ok");
        std::fs::write(&ok, "hello").unwrap();
        assert_eq!(read_text_capped(&ok, 10).unwrap(), "hello");
        let long = dir.join("long");
        std::fs::write(&long, "x".repeat(11)).unwrap();
        let e = read_text_capped(&long, 10).unwrap_err();
        assert!(e.to_string().contains("larger than 10 bytes"), "{e}");
        let e = read_capped("y".repeat(11).as_bytes(), 10).unwrap_err();
        assert!(matches!(e, ReadFileError::TooLarge { max: 10 }), "{e}");
        let e = read_text_capped(&dir, 10).unwrap_err();
        assert_eq!(e.to_string(), "it is a directory, not a regular file");
        #[cfg(unix)]
        {
            let e = read_text_capped(Path::new("/dev/zero"), 10).unwrap_err();
            assert_eq!(
                e.to_string(),
                "it is a character device, not a regular file"
            );
            let link = dir.join("zero-link");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
            let e = read_text_capped(&link, 10).unwrap_err().into_io(&link);
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            assert!(
                e.to_string()
                    .contains("zero-link: it is a character device"),
                "{e}"
            );
        }
        let bad = dir.join("bad");
        std::fs::write(&bad, [0xffu8, 0xfe]).unwrap();
        assert!(matches!(
            read_text_capped(&bad, 10),
            Err(ReadFileError::NotUtf8)
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
