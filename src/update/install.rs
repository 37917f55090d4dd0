//! Swapping a verified binary in, and back. The new binary is written beside the one it
//! replaces (same directory, so the same file system) and renamed over it: `rename` is atomic,
//! so at every instant the path holds a whole binary, old or new, whatever crashes when. The
//! binary it replaces is kept as `<name>.previous` — a hard link to the same file, so keeping
//! it costs no copy and cannot fail half-way.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::UpdateError;

/// The binary that is running, with symbolic links resolved (an update replaces the file,
/// not the link to it).
pub fn current_binary() -> Result<PathBuf, UpdateError> {
    std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| UpdateError::Install(format!("cannot find the running binary: {e}")))
}

/// Where the binary an update replaced is kept.
pub fn previous_of(binary: &Path) -> PathBuf {
    let mut name = binary.file_name().unwrap_or_default().to_os_string();
    name.push(".previous");
    binary.with_file_name(name)
}

/// What a swap did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub binary: PathBuf,
    pub previous: PathBuf,
}

/// Replaces `binary` with `new_binary` (already verified), keeping the old one as
/// `<binary>.previous`. The new binary must run (`version`) before anything changes.
pub fn install(new_binary: &Path, binary: &Path) -> Result<Installed, UpdateError> {
    let _lock = UpdateLock::take(binary)?;
    smoke_test(new_binary)?;
    let dir = parent(binary);
    let fail = |what: &str, e: io::Error| {
        UpdateError::Install(format!(
            "{what} in {}: {e}; nothing was changed",
            dir.display()
        ))
    };
    // Stage the new binary beside the old one, with its permissions, on disk.
    let mode = fs::metadata(binary)
        .map_err(|e| fail("cannot read the running binary", e))?
        .permissions()
        .mode();
    let mut staged = tempfile::Builder::new()
        .prefix(".holdfast-new-")
        .tempfile_in(dir)
        .map_err(|e| fail("cannot write", e))?;
    io::copy(
        &mut File::open(new_binary).map_err(|e| fail("cannot read the new binary", e))?,
        staged.as_file_mut(),
    )
    .map_err(|e| fail("cannot write the new binary", e))?;
    staged
        .as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .and_then(|()| staged.as_file().sync_all())
        .map_err(|e| fail("cannot write the new binary", e))?;

    let previous = previous_of(binary);
    keep_as(binary, &previous).map_err(|e| fail("cannot keep the running binary", e))?;
    // The one step that changes what runs next.
    staged
        .persist(binary)
        .map_err(|e| fail("cannot move the new binary into place", e.error))?;
    sync_dir(dir);
    Ok(Installed {
        binary: binary.to_owned(),
        previous,
    })
}

/// Puts `<binary>.previous` back in place of `binary`, which becomes the new `.previous` (so
/// a second rollback undoes the first).
pub fn rollback(binary: &Path) -> Result<Installed, UpdateError> {
    let _lock = UpdateLock::take(binary)?;
    let previous = previous_of(binary);
    if !previous.is_file() {
        return Err(UpdateError::NoPrevious(previous.display().to_string()));
    }
    smoke_test(&previous)?;
    let dir = parent(binary);
    let fail = |what: &str, e: io::Error| {
        UpdateError::Install(format!("{what} in {}: {e}", dir.display()))
    };
    let current = tempfile::Builder::new()
        .prefix(".holdfast-current-")
        .make_in(dir, |path| fs::hard_link(binary, path))
        .map_err(|e| fail("cannot keep the running binary; nothing was changed", e))?;
    fs::rename(&previous, binary).map_err(|e| {
        fail(
            "cannot move the previous binary back; nothing was changed",
            e,
        )
    })?;
    // From here the rollback has happened; keeping the other binary for a second one is a
    // courtesy, and its failure is said but does not undo the rollback.
    current
        .persist(&previous)
        .map_err(|e| fail("rolled back, but cannot keep the other binary", e.error))?;
    sync_dir(dir);
    Ok(Installed {
        binary: binary.to_owned(),
        previous,
    })
}

/// Makes `keep` a second name of `binary` (replacing an older one atomically), or a copy where
/// the file system has no hard links.
fn keep_as(binary: &Path, keep: &Path) -> io::Result<()> {
    let dir = parent(binary);
    let linked = tempfile::Builder::new()
        .prefix(".holdfast-previous-")
        .make_in(dir, |path| fs::hard_link(binary, path));
    if let Ok(staged) = linked {
        staged.persist(keep).map(drop).map_err(|e| e.error)
    } else {
        let mut copy = tempfile::Builder::new()
            .prefix(".holdfast-previous-")
            .tempfile_in(dir)?;
        io::copy(&mut File::open(binary)?, copy.as_file_mut())?;
        let mode = fs::metadata(binary)?.permissions().mode();
        copy.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))?;
        copy.as_file().sync_all()?;
        copy.persist(keep).map(drop).map_err(|e| e.error)
    }
}

/// Runs `binary version --json`: a binary for another machine, or a damaged one, fails here
/// and is never swapped in.
fn smoke_test(binary: &Path) -> Result<(), UpdateError> {
    let out = Command::new(binary)
        .args(["version", "--json"])
        .env_clear()
        .output()
        .map_err(|e| {
            UpdateError::Install(format!("{} does not run here: {e}", binary.display()))
        })?;
    if !out.status.success() {
        return Err(UpdateError::Install(format!(
            "{} does not run here (version exited with {})",
            binary.display(),
            out.status
        )));
    }
    Ok(())
}

fn parent(binary: &Path) -> &Path {
    binary.parent().unwrap_or(Path::new("/"))
}

/// Makes the renames durable. A directory that cannot be synced (some file systems) leaves
/// them to the next flush, no worse than without.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// An exclusive lock on the binary's directory, so two updates (or an update and a rollback)
/// never interleave their renames. The directory, not the binary: the binary is replaced, and
/// a lock on the file that was replaced guards nothing.
struct UpdateLock {
    _held: File,
}

impl UpdateLock {
    /// Takes the lock, waiting up to a second. A lock just released can linger that long:
    /// a process started meanwhile (the smoke test's `version`) shares the open directory
    /// until it executes, and with it the lock.
    fn take(binary: &Path) -> Result<Self, UpdateError> {
        let dir = parent(binary);
        let file = File::open(dir)
            .map_err(|e| UpdateError::Install(format!("cannot open {}: {e}", dir.display())))?;
        for _ in 0..50 {
            match file.try_lock() {
                Ok(()) => return Ok(Self { _held: file }),
                Err(fs::TryLockError::WouldBlock) => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(UpdateError::Install(format!(
                        "cannot lock {}: {e}",
                        dir.display()
                    )));
                }
            }
        }
        Err(UpdateError::Busy(binary.display().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// These tests write programs and then run them; a process another test starts in the
    /// meantime would hold the file open for writing ("text file busy"). One at a time.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
        ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn program(path: &Path, marker: &str) {
        fs::write(path, format!("#!/bin/sh\n# {marker}\nexit 0\n")).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn install_keeps_the_replaced_binary_and_rollback_swaps_them_back() {
        let _serial = one_at_a_time();
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("holdfast");
        let new = dir.path().join("staged");
        program(&binary, "old");
        program(&new, "new");

        let done = install(&new, &binary).unwrap();
        assert_eq!(done.previous, dir.path().join("holdfast.previous"));
        assert!(fs::read_to_string(&binary).unwrap().contains("new"));
        assert!(fs::read_to_string(&done.previous).unwrap().contains("old"));
        let mode = fs::metadata(&binary).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);

        rollback(&binary).unwrap();
        assert!(fs::read_to_string(&binary).unwrap().contains("old"));
        assert!(fs::read_to_string(&done.previous).unwrap().contains("new"));
        // Nothing staged is left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }

    #[test]
    fn a_binary_that_does_not_run_is_never_swapped_in() {
        let _serial = one_at_a_time();
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("holdfast");
        program(&binary, "old");
        let broken = dir.path().join("broken");
        fs::write(&broken, b"\x7fELF not really").unwrap();
        fs::set_permissions(&broken, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(matches!(
            install(&broken, &binary),
            Err(UpdateError::Install(_))
        ));
        assert!(fs::read_to_string(&binary).unwrap().contains("old"));
        assert!(!previous_of(&binary).exists());
        assert!(matches!(rollback(&binary), Err(UpdateError::NoPrevious(_))));
    }
}
