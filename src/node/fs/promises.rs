//! The same operations as futures: Node's `fs.promises`. Each is built on
//! the callback form and resumes the awaiting task in the microtask
//! checkpoint after the callback, as a promise would.

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

use super::{FileHandle, OpenOptions};
use crate::futures::promise::promise;

async fn settle<T: 'static>(f: impl FnOnce(crate::Resolver<io::Result<T>>)) -> io::Result<T> {
    promise(f)
        .await
        .unwrap_or_else(|broken| Err(io::Error::other(broken)))
}

/// [`super::read_file`] as a future.
pub async fn read_file(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    settle(|r| super::read_file(path, move |v| r.resolve(v))).await
}

/// [`super::read_to_string`] as a future.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    settle(|r| super::read_to_string(path, move |v| r.resolve(v))).await
}

/// [`super::write_file`] as a future.
pub async fn write_file(path: impl AsRef<Path>, data: impl Into<Vec<u8>>) -> io::Result<()> {
    settle(|r| super::write_file(path, data, move |v| r.resolve(v))).await
}

/// [`super::append_file`] as a future.
pub async fn append_file(path: impl AsRef<Path>, data: impl Into<Vec<u8>>) -> io::Result<()> {
    settle(|r| super::append_file(path, data, move |v| r.resolve(v))).await
}

/// [`super::read_dir`] as a future.
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<Vec<String>> {
    settle(|r| super::read_dir(path, move |v| r.resolve(v))).await
}

/// [`super::stat`] as a future.
pub async fn stat(path: impl AsRef<Path>) -> io::Result<Metadata> {
    settle(|r| super::stat(path, move |v| r.resolve(v))).await
}

/// [`super::mkdir`] as a future.
pub async fn mkdir(path: impl AsRef<Path>, recursive: bool) -> io::Result<()> {
    settle(|r| super::mkdir(path, recursive, move |v| r.resolve(v))).await
}

/// [`super::rename`] as a future.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    settle(|r| super::rename(from, to, move |v| r.resolve(v))).await
}

/// [`super::unlink`] as a future.
pub async fn unlink(path: impl AsRef<Path>) -> io::Result<()> {
    settle(|r| super::unlink(path, move |v| r.resolve(v))).await
}

/// [`super::rm`] as a future.
pub async fn rm(path: impl AsRef<Path>, recursive: bool) -> io::Result<()> {
    settle(|r| super::rm(path, recursive, move |v| r.resolve(v))).await
}

/// [`super::copy_file`] as a future.
pub async fn copy_file(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    settle(|r| super::copy_file(from, to, move |v| r.resolve(v))).await
}

/// [`super::access`] as a future.
pub async fn access(path: impl AsRef<Path>) -> io::Result<()> {
    settle(|r| super::access(path, move |v| r.resolve(v))).await
}

/// [`super::exists`] as a future.
pub async fn exists(path: impl AsRef<Path>) -> bool {
    promise(|r| super::exists(path, move |v| r.resolve(v)))
        .await
        .unwrap_or(false)
}

/// [`super::open`] as a future.
pub async fn open(path: impl AsRef<Path>, flags: &str) -> io::Result<FileHandle> {
    settle(|r| super::open(path, flags, move |v| r.resolve(v))).await
}

/// [`super::read`] as a future.
pub async fn read(
    handle: &FileHandle,
    length: usize,
    position: Option<u64>,
) -> io::Result<Vec<u8>> {
    settle(|r| super::read(handle, length, position, move |v| r.resolve(v))).await
}

/// [`super::write`] as a future.
pub async fn write(
    handle: &FileHandle,
    data: impl Into<Vec<u8>>,
    position: Option<u64>,
) -> io::Result<usize> {
    settle(|r| super::write(handle, data, position, move |v| r.resolve(v))).await
}

/// [`super::close`] as a future.
pub async fn close(handle: FileHandle) -> io::Result<()> {
    settle(|r| super::close(handle, move |v| r.resolve(v))).await
}

/// [`super::watch`] as a [`Stream`](crate::futures::stream::Stream) of
/// `(event, filename)` (Node's `fsPromises.watch`).
///
/// ```
/// use evloop::fs::{self, WatchEvent, WatchOptions};
/// let dir = std::env::temp_dir().join(format!("evloop-doc-pwatch-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let d = dir.clone();
/// let first = evloop::run_async(async move {
///     let mut events = fs::promises::watch(&d, WatchOptions::new()).unwrap();
///     std::fs::write(d.join("b.txt"), "hi").unwrap();
///     events.next().await
/// });
/// assert_eq!(first, Some((WatchEvent::Rename, Some("b.txt".into()))));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// As [`super::watch`].
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn watch(
    path: impl AsRef<Path>,
    options: super::WatchOptions,
) -> io::Result<super::WatchStream> {
    super::watch::watch_stream(path.as_ref(), options)
}

/// [`super::read_dir_entries`] as a future.
pub async fn read_dir_entries(path: impl AsRef<Path>) -> io::Result<Vec<super::DirEntry>> {
    settle(|r| super::read_dir_entries(path, move |v| r.resolve(v))).await
}

/// [`super::lstat`] as a future.
pub async fn lstat(path: impl AsRef<Path>) -> io::Result<Metadata> {
    settle(|r| super::lstat(path, move |v| r.resolve(v))).await
}

/// [`super::readlink`] as a future.
pub async fn readlink(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    settle(|r| super::readlink(path, move |v| r.resolve(v))).await
}

/// [`super::symlink`] as a future.
pub async fn symlink(target: impl AsRef<Path>, path: impl AsRef<Path>) -> io::Result<()> {
    settle(|r| super::symlink(target, path, move |v| r.resolve(v))).await
}

/// [`super::mkdtemp`] as a future.
pub async fn mkdtemp(prefix: impl AsRef<Path>) -> io::Result<PathBuf> {
    settle(|r| super::mkdtemp(prefix, move |v| r.resolve(v))).await
}

/// [`super::open_with`] as a future.
pub async fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> io::Result<FileHandle> {
    settle(|r| super::open_with(path, options, move |v| r.resolve(v))).await
}

/// [`super::read_into`] as a future: the buffer comes back with the count
/// (or the error), as `(buf, Ok(n))`.
pub async fn read_into(
    handle: &FileHandle,
    buf: Vec<u8>,
    position: Option<u64>,
) -> (Vec<u8>, io::Result<usize>) {
    promise(|r| super::read_into(handle, buf, position, move |b, n| r.resolve((b, n))))
        .await
        .unwrap_or_else(|broken| (Vec::new(), Err(io::Error::other(broken))))
}
