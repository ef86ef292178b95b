//! Atomic file writes: every file qloop writes goes through [`write_atomic`].
//!
//! The bytes go to a temporary file beside the target (same directory, so the rename cannot
//! cross file systems), are flushed to disk, and the temporary file is renamed over the
//! target. A reader sees the old file or the new one, never a half-written one; a failed write
//! removes its temporary file and leaves the target as it was.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically (see the [module docs](self)).
///
/// ```
/// let path = std::env::temp_dir().join(format!("qloop-atomic-doc-{}", std::process::id()));
/// qloop::atomic::write_atomic(&path, b"hello").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"hello");
/// # std::fs::remove_file(&path).ok();
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes what `write` produces to `path` atomically, streaming it through a buffer (the
/// output is never held in memory whole).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = temporary(path);
    let written = (|| {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        write(&mut file)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        std::fs::remove_file(&tmp).ok();
    }
    written.map_err(io)
}

/// `PATH.tmp-PID` beside `path`.
fn temporary(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_target_and_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("qloop-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.txt");
        write_atomic(&target, b"first").unwrap();
        write_atomic(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        // A target that is a directory cannot be replaced by a file: the rename fails.
        let blocked = dir.join("blocked");
        std::fs::create_dir_all(blocked.join("inner")).unwrap();
        let err = write_atomic(&blocked, b"x").unwrap_err();
        assert!(err.to_string().contains("blocked"), "{err}");
        assert!(!temporary(&blocked).exists());
        assert!(blocked.join("inner").is_dir());
        std::fs::remove_dir_all(&dir).ok();
    }
}
