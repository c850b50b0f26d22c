//! Directories with names as the OS has them: [`read_dir_entries`]
//! (`OsString` names, file types from the directory itself) and
//! [`mkdtemp`].

use std::ffi::{OsStr, OsString};
use std::fs::FileType;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use super::error::node_error;
use super::job::on_pool;

/// One name in a directory, from [`read_dir_entries`] (Node's `Dirent`).
/// The name is the OS's bytes, so a name that is not UTF-8 opens again
/// through [`path`](DirEntry::path).
#[derive(Debug, Clone)]
pub struct DirEntry {
    name: OsString,
    path: PathBuf,
    file_type: FileType,
}

impl DirEntry {
    /// The name, without the directory (as [`std::fs::DirEntry::file_name`]).
    pub fn file_name(&self) -> OsString {
        self.name.clone()
    }

    /// The directory's path as given to [`read_dir_entries`], joined with
    /// the name.
    pub fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// What the entry itself is: a symlink is a symlink (not what it points
    /// at), so a walker that descends only into `is_dir()` never follows a
    /// link. Read from the directory when the file system records it
    /// (no extra `stat`), else from an `lstat` made while listing.
    pub fn file_type(&self) -> FileType {
        self.file_type
    }
}

/// Lists a directory with each entry's type (`fs.readdir(path, {
/// withFileTypes: true })`), sorted by name in byte order as Node's (libuv
/// sorts). Names are
/// `OsString`s, never made lossy: unlike [`read_dir`](super::read_dir)'s
/// `String`s, every entry's [`path`](DirEntry::path) opens the file.
///
/// ```
/// use evloop::fs;
/// let dir = std::env::temp_dir().join(format!("evloop-doc-dirent-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("sub")).unwrap();
/// std::fs::write(dir.join("a.txt"), "a").unwrap();
/// std::os::unix::fs::symlink("sub", dir.join("link")).unwrap();
/// let d = dir.clone();
/// let entries = evloop::run_async(async move { fs::promises::read_dir_entries(&d).await }).unwrap();
/// let kinds: Vec<_> = entries
///     .iter()
///     .map(|e| (e.file_name(), e.file_type().is_dir(), e.file_type().is_symlink()))
///     .collect();
/// assert_eq!(kinds, [("a.txt".into(), false, false), ("link".into(), false, true), ("sub".into(), true, false)]);
/// assert_eq!(entries[0].path(), dir.join("a.txt"));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// The OS's error naming the directory, `scandir 'path'` as Node's; an
/// entry whose type needs an `lstat` that fails (it was removed meanwhile)
/// is that `lstat`'s error naming the entry.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn read_dir_entries(
    path: impl AsRef<Path>,
    cb: impl FnOnce(io::Result<Vec<DirEntry>>) + 'static,
) {
    let path = path.as_ref().to_path_buf();
    on_pool(
        move || {
            let scandir = |e| node_error(e, "scandir", &path, None);
            let mut entries = Vec::new();
            for entry in std::fs::read_dir(&path).map_err(scandir)? {
                let entry = entry.map_err(scandir)?;
                let name = entry.file_name();
                let entry_path = path.join(&name);
                let file_type = entry
                    .file_type()
                    .map_err(|e| node_error(e, "lstat", &entry_path, None))?;
                entries.push(DirEntry {
                    name,
                    path: entry_path,
                    file_type,
                });
            }
            entries.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(entries)
        },
        cb,
    );
}

/// How many names [`mkdtemp`] tries before giving up on `EEXIST`.
const MKDTEMP_TRIES: usize = 100;

/// Creates a new directory named `prefix` plus 6 random letters and digits
/// (`fs.mkdtemp`), with mode `0o700`, and gives its path. The prefix is
/// used as given: `"/tmp/app-"` makes `/tmp/app-Ab3xYz`, `"/tmp/app/"` a
/// directory inside `/tmp/app`.
///
/// ```
/// use evloop::fs;
/// let prefix = std::env::temp_dir().join("evloop-doc-mkdtemp-");
/// let dir = evloop::run_async(fs::promises::mkdtemp(prefix.clone())).unwrap();
/// let name = dir.to_str().unwrap();
/// assert!(name.starts_with(prefix.to_str().unwrap()));
/// assert_eq!(name.len(), prefix.to_str().unwrap().len() + 6);
/// use std::os::unix::fs::PermissionsExt;
/// assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
/// std::fs::remove_dir(&dir).unwrap();
/// ```
///
/// # Errors
/// The OS's error naming the name it tried, as Node's:
/// `ENOENT: no such file or directory, mkdtemp 'no-such-dir/tmp-Ab3xYz'`.
/// `EEXIST` only if 100 random names in a row were taken.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn mkdtemp(prefix: impl AsRef<Path>, cb: impl FnOnce(io::Result<PathBuf>) + 'static) {
    let prefix = prefix.as_ref().as_os_str().to_owned();
    on_pool(move || make_temp_dir(&prefix, random_suffix), cb);
}

/// Tries names from `suffix` until one is free, at most [`MKDTEMP_TRIES`].
fn make_temp_dir(prefix: &OsStr, mut suffix: impl FnMut() -> String) -> io::Result<PathBuf> {
    let mut tries = 0;
    loop {
        let mut name = prefix.to_owned();
        name.push(suffix());
        let path = PathBuf::from(name);
        match std::fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries + 1 < MKDTEMP_TRIES => {
                tries += 1;
            }
            Err(e) => return Err(node_error(e, "mkdtemp", &path, None)),
        }
    }
}

/// Six characters from `[A-Za-z0-9]`, as `mkdtemp(3)` picks. std's
/// `RandomState` is randomly keyed per thread and changes its key for each
/// new state, so it serves as a source without a dependency; the clock is
/// mixed in for good measure. Not for secrets: the directory's mode and
/// `O_EXCL`-like creation are what make it safe, not the name.
fn random_suffix() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = std::hash::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    h.write_u64(nanos);
    let mut bits = h.finish();
    (0..6)
        .map(|_| {
            let c = CHARS[(bits % CHARS.len() as u64) as usize];
            bits /= CHARS.len() as u64;
            c as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When every name tried is taken, mkdtemp gives up with EEXIST naming
    /// the last one, after a bounded number of tries (never a spin).
    #[test]
    fn mkdtemp_gives_up_after_its_tries() {
        let _w = crate::test_watchdog::watchdog();
        let base = std::env::temp_dir().join(format!("evloop-mkdtemp-{}", std::process::id()));
        std::fs::create_dir_all(base.join("t-AAAAAA")).unwrap();
        let mut calls = 0;
        let prefix = base.join("t-");
        let e = make_temp_dir(prefix.as_os_str(), || {
            calls += 1;
            "AAAAAA".into()
        })
        .unwrap_err();
        std::fs::remove_dir_all(&base).unwrap();
        assert_eq!(calls, MKDTEMP_TRIES);
        assert_eq!(
            e.to_string(),
            format!(
                "EEXIST: file already exists, mkdtemp '{}'",
                base.join("t-AAAAAA").display()
            )
        );
    }

    #[test]
    fn suffixes_are_six_letters_or_digits_and_differ() {
        let _w = crate::test_watchdog::watchdog();
        let mut seen: Vec<String> = (0..1000).map(|_| random_suffix()).collect();
        assert!(
            seen.iter()
                .all(|s| s.len() == 6 && s.bytes().all(|b| b.is_ascii_alphanumeric()))
        );
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 1000);
    }
}
