//! Small file-system helpers shared by the data and log directories.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and missing parents) readable by the service user only (0700). An existing
/// directory keeps the mode its owner gave it, except that it must be a directory.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    // `mode` is filtered by the umask; say it again so 0700 holds whatever the umask is.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// The data directory taken by one process that writes its databases as it likes (`serve`,
/// `restore`): an exclusive lock on `holdfast.lock` inside it, held while this lives and let
/// go by the system when the process ends, however it ends.
#[derive(Debug)]
pub struct DataDirLock {
    _file: fs::File,
}

impl DataDirLock {
    /// Takes the lock, or fails at once if another process holds it.
    pub fn take(data_dir: &Path) -> io::Result<Self> {
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(data_dir.join("holdfast.lock"))?;
        file.try_lock().map_err(|e| match e {
            fs::TryLockError::WouldBlock => io::Error::new(
                io::ErrorKind::WouldBlock,
                "another process holds the data directory",
            ),
            fs::TryLockError::Error(e) => e,
        })?;
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_directories_are_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_private_dir(&dir).unwrap();
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn a_data_directory_is_taken_by_one_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::take(dir.path()).unwrap();
        assert!(DataDirLock::take(dir.path()).is_err());
        drop(first);
        DataDirLock::take(dir.path()).unwrap();
    }
}
