//! Symbolic links: [`lstat`] (the link itself), [`readlink`], [`symlink`].

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

use super::error::node_error;
use super::job::on_pool;

/// The metadata of a path without following a final symlink (`fs.lstat`):
/// for a link, [`Metadata::file_type`]`().is_symlink()` is true and
/// `is_dir()` false, whatever it points at. A walker that descends only
/// into what `lstat` calls a directory never loops through a link.
///
/// ```
/// use evloop::fs;
/// let dir = std::env::temp_dir().join(format!("evloop-doc-lstat-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let d = dir.clone();
/// let (link, target, followed) = evloop::run_async(async move {
///     fs::promises::symlink(".", d.join("self")).await.unwrap();
///     (
///         fs::promises::lstat(d.join("self")).await.unwrap(),
///         fs::promises::readlink(d.join("self")).await.unwrap(),
///         fs::promises::stat(d.join("self")).await.unwrap(),
///     )
/// });
/// assert!(link.is_symlink() && !link.is_dir());
/// assert_eq!(target, std::path::Path::new("."));
/// assert!(followed.is_dir());
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// The OS's error with Node's message: `ENOENT: no such file or directory,
/// lstat 'path'`.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn lstat(path: impl AsRef<Path>, cb: impl FnOnce(io::Result<Metadata>) + 'static) {
    let path = path.as_ref().to_path_buf();
    on_pool(
        move || std::fs::symlink_metadata(&path).map_err(|e| node_error(e, "lstat", &path, None)),
        cb,
    );
}

/// What a symlink points at, as stored in the link (`fs.readlink`): not
/// resolved, and relative to the link's directory if relative.
///
/// # Errors
/// `EINVAL: invalid argument, readlink 'path'` if the path is not a
/// symlink; `ENOENT` if it does not exist.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn readlink(path: impl AsRef<Path>, cb: impl FnOnce(io::Result<PathBuf>) + 'static) {
    let path = path.as_ref().to_path_buf();
    on_pool(
        move || std::fs::read_link(&path).map_err(|e| node_error(e, "readlink", &path, None)),
        cb,
    );
}

/// Creates a symlink at `path` pointing at `target` (`fs.symlink(target,
/// path)`; std's `symlink(original, link)`). The target need not exist and
/// is stored as given.
///
/// # Errors
/// The OS's error naming both, target first as Node's:
/// `EEXIST: file already exists, symlink 'target' -> 'path'`
/// ([`FsError::path`](super::FsError::path) is the target,
/// [`dest`](super::FsError::dest) the link).
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn symlink(
    target: impl AsRef<Path>,
    path: impl AsRef<Path>,
    cb: impl FnOnce(io::Result<()>) + 'static,
) {
    let (target, path) = (target.as_ref().to_path_buf(), path.as_ref().to_path_buf());
    on_pool(
        move || {
            std::os::unix::fs::symlink(&target, &path)
                .map_err(|e| node_error(e, "symlink", &target, Some(&path)))
        },
        cb,
    );
}
