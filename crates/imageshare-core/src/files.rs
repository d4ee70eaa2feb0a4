//! Reading the small text files imageshare takes from users (credentials and profile
//! files, manifests, world files) safely: only regular files, and at most a cap of bytes,
//! so that a path to `/dev/zero`, a FIFO or a huge file fails at once with a clear message
//! instead of hanging or growing without bound.

use std::io::{self, Read};
use std::path::Path;

/// The cap of [`read_text_capped`] for credential and profile files: 1 MiB, far above any
/// real one.
pub const MAX_CREDENTIALS_FILE_BYTES: u64 = 1024 * 1024;

/// Reads the UTF-8 file at `path`, refusing what is not a regular file (a device, a FIFO,
/// a directory; symbolic links are followed) and a file longer than `max` bytes, each with
/// an [`io::ErrorKind::InvalidInput`] error whose message says so. The check comes before
/// the file is opened, so a FIFO never blocks.
pub fn read_text_capped(path: &Path, max: u64) -> io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a device, FIFO or socket)"
        };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is {kind}; give the path of a regular file",
                path.display()
            ),
        ));
    }
    let too_long = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is longer than {max} bytes, the most read; is it the right file?",
                path.display()
            ),
        )
    };
    if meta.len() > max {
        return Err(too_long());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_long());
    }
    String::from_utf8(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not UTF-8 text", path.display()),
        )
    })
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
        assert!(e.to_string().contains("longer than 10 bytes"), "{e}");
        let e = read_text_capped(&dir, 10).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
        #[cfg(unix)]
        {
            let e = read_text_capped(Path::new("/dev/zero"), 10).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            assert!(e.to_string().contains("not a regular file"), "{e}");
            let link = dir.join("zero-link");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
            let e = read_text_capped(&link, 10).unwrap_err();
            assert!(e.to_string().contains("not a regular file"), "{e}");
        }
        let bad = dir.join("bad");
        std::fs::write(&bad, [0xffu8, 0xfe]).unwrap();
        assert!(read_text_capped(&bad, 10).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
