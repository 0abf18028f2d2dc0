//! How a report reaches its folder: whole or not at all.
//!
//! `<out>/<experiment>/` is built in a hidden staging folder beside it (`.<experiment>.partial-<pid>`)
//! and swapped in by one `renameat2(RENAME_EXCHANGE)`: at every instant `<experiment>/` is either the
//! previous report or the complete new one, whatever kills the process (the kernel's rename is
//! atomic; the old folder, now under the staging name, is removed after the swap). A plain rename
//! cannot replace a non-empty folder on Linux, and removing the old folder first would leave a moment
//! with neither. Where the filesystem lacks the exchange (`EINVAL`, some network filesystems), the old
//! folder is first renamed aside (`.<experiment>.old-<pid>`), so it is never deleted before the new one is
//! in place.
//!
//! Runs that write the same experiment into the same folder take turns: each holds an exclusive
//! `flock` on `<out>/.<experiment>.lock` from staging to swap, so two runs at once give the later
//! run's complete report, never a mix. The lock dies with its process, so a killed run blocks no one;
//! the next run removes the staging folders killed runs left (no live run owns one: it would hold the
//! lock). Readers of a results folder skip hidden entries ([`is_hidden`]).
//!
//! Single files beside the reports (the executive summary's `summary.md`, `summary.html`,
//! `plan.json` and charts) are written by `write_file`: a temporary file in the same folder, renamed
//! over the old one, so each is whole.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::{ReportError, io_err};

/// An exclusive lock on one experiment's output, released when dropped (or when the process dies).
pub(crate) struct Lock {
    _file: File,
}

/// Takes the experiment's lock, waiting while another run holds it.
pub(crate) fn lock(out: &Path, experiment: &str) -> Result<Lock, ReportError> {
    let path = out.join(format!(".{experiment}.lock"));
    let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(io_err(&path))?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|errno| ReportError::Io { path: path.display().to_string(), source: errno.into() })?;
    Ok(Lock { _file: file })
}

/// Whether a folder entry is hidden (staging folders, locks): readers of a results folder skip them.
pub fn is_hidden(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name.to_string_lossy().starts_with('.'))
}

/// Removes the staging folders earlier runs of `experiment` left when they were killed. Call with the
/// lock held.
pub(crate) fn remove_stale(out: &Path, experiment: &str) -> Result<(), ReportError> {
    let prefixes = [format!(".{experiment}.partial-"), format!(".{experiment}.old-")];
    let listing = std::fs::read_dir(out).map_err(io_err(out))?;
    for entry in listing.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if prefixes.iter().any(|prefix| name.strip_prefix(prefix.as_str()).is_some_and(|pid| pid.parse::<u32>().is_ok())) {
            let path = entry.path();
            std::fs::remove_dir_all(&path).map_err(io_err(&path))?;
        }
    }
    Ok(())
}

/// The staging folder of this process for `experiment`.
pub(crate) fn staging(out: &Path, experiment: &str) -> PathBuf {
    out.join(format!(".{experiment}.partial-{}", std::process::id()))
}

/// Puts the complete `staging` folder at `target`, atomically replacing what is there.
pub(crate) fn swap_in(staging: &Path, target: &Path) -> Result<(), ReportError> {
    if std::fs::symlink_metadata(target).is_err() {
        return std::fs::rename(staging, target).map_err(io_err(target));
    }
    match exchange(staging, target) {
        // `staging` now holds the previous report.
        Ok(()) => std::fs::remove_dir_all(staging).map_err(io_err(staging)),
        Err(errno) if errno == rustix::io::Errno::INVAL || errno == rustix::io::Errno::NOSYS => {
            let aside = target.with_file_name(format!(
                ".{}.old-{}",
                target.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(),
                std::process::id()
            ));
            std::fs::rename(target, &aside).map_err(io_err(target))?;
            std::fs::rename(staging, target).map_err(io_err(target))?;
            std::fs::remove_dir_all(&aside).map_err(io_err(&aside))
        }
        Err(errno) => Err(ReportError::Io { path: target.display().to_string(), source: errno.into() }),
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn exchange(a: &Path, b: &Path) -> rustix::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn exchange(_a: &Path, _b: &Path) -> rustix::io::Result<()> {
    Err(rustix::io::Errno::NOSYS)
}

/// The temporary name of `path` while it is written: hidden, this process's, the same extension
/// (the PNG encoder picks its format from it).
fn temporary(path: &Path) -> PathBuf {
    let stem = path.file_stem().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let extension = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!(".{stem}.partial-{}{extension}", std::process::id()))
}

/// Writes one file whole: `write` fills a temporary file beside it, which is then renamed over it.
pub(crate) fn write_with(path: &Path, write: impl FnOnce(&Path) -> Result<(), ReportError>) -> Result<(), ReportError> {
    let temporary = temporary(path);
    let written = write(&temporary).and_then(|()| std::fs::rename(&temporary, path).map_err(io_err(path)));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Writes bytes to one file whole ([`write_with`]).
pub(crate) fn write_file(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), ReportError> {
    write_with(path, |temporary| std::fs::write(temporary, bytes).map_err(io_err(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_replaces_a_full_folder_and_keeps_nothing_of_the_old_one() {
        let out = tempfile::tempdir().expect("tempdir");
        let target = out.path().join("exp");
        std::fs::create_dir_all(target.join("charts")).expect("mkdir");
        std::fs::write(target.join("old.txt"), "old").expect("write");
        let staging = staging(out.path(), "exp");
        std::fs::create_dir_all(&staging).expect("mkdir");
        std::fs::write(staging.join("new.txt"), "new").expect("write");
        swap_in(&staging, &target).expect("swap");
        assert!(target.join("new.txt").is_file());
        assert!(!target.join("old.txt").exists(), "the old folder's files are gone");
        assert!(!staging.exists(), "the old folder, swapped to the staging name, is removed");
    }

    #[test]
    fn stale_staging_folders_are_removed_and_others_kept() {
        let out = tempfile::tempdir().expect("tempdir");
        for name in [".exp.partial-123", ".exp.old-9", ".exp.partial-x", ".other.partial-5", "exp"] {
            std::fs::create_dir_all(out.path().join(name)).expect("mkdir");
        }
        remove_stale(out.path(), "exp").expect("clean");
        let mut left: Vec<String> =
            std::fs::read_dir(out.path()).expect("ls").flatten().map(|e| e.file_name().to_string_lossy().to_string()).collect();
        left.sort();
        assert_eq!(left, [".exp.partial-x", ".other.partial-5", "exp"]);
    }
}
