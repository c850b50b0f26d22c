//! The file system, Node's `fs` module in both its forms: callbacks here,
//! futures in [`promises`]. Every operation runs on the loop's thread pool
//! and calls back in the poll phase.
//!
//! Beside Node's shapes sit typed ones for Rust: names as `OsString`s with
//! file types ([`read_dir_entries`]), [`lstat`], [`readlink`], [`symlink`],
//! [`mkdtemp`], [`OpenOptions`] for [`open_with`], reads into the caller's
//! buffer ([`read_into`]), and streams with backpressure
//! ([`create_read_stream`], [`create_write_stream`]).
//!
//! Errors are [`io::Error`]s with Node's message, e.g.
//! `ENOENT: no such file or directory, open 'missing.txt'`, and the
//! underlying [`io::ErrorKind`]; [`FsError::of`] gives Node's fields
//! (`code`, `syscall`, `path`, `dest`) and the OS error number.
//!
//! `read_file` reads small files (up to 2 MiB) in one pool job: open,
//! fstat, read and close together, one hand-off per file. A larger file is
//! read in 2 MiB chunks, each its own job (Node uses 512 KiB), so one huge file
//! cannot hold a pool thread while other work waits.

use std::fs::{File, Metadata};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::rt::pool::{Step, queue_steps};

mod dir;
mod error;
mod inotify;
mod job;
mod link;
mod open;
mod stream;
mod watch;
mod watch_instance;
pub use dir::{DirEntry, mkdtemp, read_dir_entries};
pub use error::{FsError, error_code};
pub(in crate::node) use error::{errno_name, with_code};
use error::{node_error, too_large};
use job::on_pool;
pub use link::{lstat, readlink, symlink};
pub use open::{FileHandle, OpenOptions, close, open, open_with, read, read_into, write};
pub use stream::{
    READ_STREAM_CHUNK, ReadStream, ReadStreamOptions, WRITE_STREAM_HIGH_WATER, WriteStream,
    WriteStreamOptions, create_read_stream, create_write_stream,
};
pub use watch::{FsWatcher, WatchEvent, WatchOptions, WatchStream, watch};

/// Chunk size for big reads: each chunk is its own pool job. Node uses
/// 512 KiB; 2 MiB measured 3-9% behind `std::fs::read` on a 64 MiB file
/// against 9-11% for 512 KiB, and still frees a thread every ~1 ms
/// (bench/HISTORY.md).
pub const READ_CHUNK: usize = 2 * 1024 * 1024;

/// Reads up to one chunk more into `buf`, then either finishes (end of
/// file: the file is closed here, on the pool thread) or asks for the next
/// chunk as a new job. Past `cap` bytes it stops with `ERR_FS_FILE_TOO_LARGE`:
/// a file that grows, or one whose size the OS does not know (`/dev/zero`,
/// `/proc` files report 0), is never read without bound.
fn read_chunk(
    mut file: File,
    mut buf: Vec<u8>,
    cap: usize,
    path: Arc<PathBuf>,
) -> Step<io::Result<Vec<u8>>> {
    // `read_to_end` on a `Take` reads straight into the spare capacity (no
    // zero-filling pass first, which cost 25% on 64 MiB) and grows the
    // buffer only if the file is larger than its size said. It stops early
    // only at the end of the file. One byte past the cap is enough to know.
    let want = READ_CHUNK.min(cap + 1 - buf.len());
    match (&mut file).take(want as u64).read_to_end(&mut buf) {
        Err(e) => Step::Done(Err(node_error(e, "read", &path, None))),
        Ok(_) if buf.len() > cap => {
            Step::Done(Err(too_large(buf.len() as u64, &limit_text(cap), &path)))
        }
        Ok(n) if n < want => Step::Done(Ok(buf)),
        Ok(_) => Step::Next(Box::new(move || read_chunk(file, buf, cap, path))),
    }
}

/// The largest file [`read_file`] reads: 2 GiB − 1 bytes, Node's
/// `kIoMaxLength`. A larger one is an `ERR_FS_FILE_TOO_LARGE` error
/// ([`io::ErrorKind::FileTooLarge`]), found from its size before anything
/// is read, or, for a file whose size the OS does not report, once that
/// many bytes have been read.
pub const MAX_FILE_SIZE: usize = i32::MAX as usize;

/// A read cap as Node's message says it: `2 GiB` for [`MAX_FILE_SIZE`].
fn limit_text(cap: usize) -> String {
    if cap == MAX_FILE_SIZE {
        "2 GiB".to_string()
    } else {
        format!("{cap} bytes")
    }
}

/// Opens `path` and reads it all, up to `cap` bytes (see [`read_file`]).
#[track_caller]
fn read_file_capped(path: &Path, cap: usize, cb: impl FnOnce(io::Result<Vec<u8>>) + 'static) {
    let path = Arc::new(path.to_path_buf());
    let _work = queue_steps(
        move || {
            let file = match File::open(&*path) {
                Ok(f) => f,
                Err(e) => return Step::Done(Err(node_error(e, "open", &path, None))),
            };
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            if size > cap as u64 {
                return Step::Done(Err(too_large(size, &limit_text(cap), &path)));
            }
            // One allocation of the final size; small files finish here.
            read_chunk(file, Vec::with_capacity((size as usize).max(64)), cap, path)
        },
        move |r| cb(r.map_err(io::Error::from).and_then(|r| r)),
    );
}

/// Reads a whole file (`fs.readFile`). `cb` gets its bytes, or an error
/// naming the operation and the path.
///
/// # Ordering
/// `cb` runs in the poll phase, like every I/O callback; an immediate it
/// schedules runs before any timer it schedules. A file up to 2 MiB is one
/// pool job (open, fstat, read, close); a larger one is read in 2 MiB
/// jobs, each queued behind the work already waiting, so a huge file never
/// holds a pool thread while other jobs wait.
///
/// # Errors
/// The OS's error for the open or a read, with Node's message; a file past
/// [`MAX_FILE_SIZE`] is `ERR_FS_FILE_TOO_LARGE` ([`io::ErrorKind::FileTooLarge`]),
/// never an allocation that aborts the process.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn read_file(path: impl AsRef<Path>, cb: impl FnOnce(io::Result<Vec<u8>>) + 'static) {
    read_file_capped(path.as_ref(), MAX_FILE_SIZE, cb);
}

/// Reads a whole file as UTF-8 text (`fs.readFile(path, 'utf8')`).
///
/// # Errors
/// As [`read_file`], plus `InvalidData` naming the path if the file is not
/// valid UTF-8.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn read_to_string(path: impl AsRef<Path>, cb: impl FnOnce(io::Result<String>) + 'static) {
    let shown = path.as_ref().to_path_buf();
    read_file(path, move |r| {
        cb(r.and_then(|bytes| {
            String::from_utf8(bytes).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("invalid UTF-8 in '{}'", shown.display()),
                )
            })
        }))
    });
}

fn write_with(path: &Path, data: &[u8], append: bool) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    if append {
        options.append(true);
    } else {
        options.truncate(true);
    }
    let mut file = options
        .open(path)
        .map_err(|e| node_error(e, "open", path, None))?;
    file.write_all(data)
        .map_err(|e| node_error(e, "write", path, None))
}

/// Writes `data` to a file, creating or truncating it (`fs.writeFile`).
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn write_file(
    path: impl AsRef<Path>,
    data: impl Into<Vec<u8>>,
    cb: impl FnOnce(io::Result<()>) + 'static,
) {
    let (path, data) = (path.as_ref().to_path_buf(), data.into());
    on_pool(move || write_with(&path, &data, false), cb);
}

/// Appends `data` to a file, creating it if needed (`fs.appendFile`).
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn append_file(
    path: impl AsRef<Path>,
    data: impl Into<Vec<u8>>,
    cb: impl FnOnce(io::Result<()>) + 'static,
) {
    let (path, data) = (path.as_ref().to_path_buf(), data.into());
    on_pool(move || write_with(&path, &data, true), cb);
}

/// Lists the names in a directory, sorted (`fs.readdir`). As Node's, a
/// name that is not UTF-8 is made lossy (`U+FFFD` for each bad byte), so it
/// cannot be opened again: [`read_dir_entries`] keeps the OS's bytes.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn read_dir(path: impl AsRef<Path>, cb: impl FnOnce(io::Result<Vec<String>>) + 'static) {
    let path = path.as_ref().to_path_buf();
    on_pool(
        move || {
            let err = |e| node_error(e, "scandir", &path, None);
            let mut names = std::fs::read_dir(&path)
                .map_err(err)?
                .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect::<io::Result<Vec<_>>>()
                .map_err(err)?;
            names.sort();
            Ok(names)
        },
        cb,
    );
}

/// The metadata of a path, following symlinks (`fs.stat`).
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn stat(path: impl AsRef<Path>, cb: impl FnOnce(io::Result<Metadata>) + 'static) {
    let path = path.as_ref().to_path_buf();
    on_pool(
        move || std::fs::metadata(&path).map_err(|e| node_error(e, "stat", &path, None)),
        cb,
    );
}

/// Creates a directory; with `recursive`, also its missing parents, and an
/// existing directory is not an error (`fs.mkdir`).
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn mkdir(path: impl AsRef<Path>, recursive: bool, cb: impl FnOnce(io::Result<()>) + 'static) {
    let path = path.as_ref().to_path_buf();
    on_pool(
        move || {
            let r = if recursive {
                std::fs::create_dir_all(&path)
            } else {
                std::fs::create_dir(&path)
            };
            r.map_err(|e| node_error(e, "mkdir", &path, None))
        },
        cb,
    );
}

/// Renames (moves) a file or directory (`fs.rename`).
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn rename(
    from: impl AsRef<Path>,
    to: impl AsRef<Path>,
    cb: impl FnOnce(io::Result<()>) + 'static,
) {
    let (from, to) = (from.as_ref().to_path_buf(), to.as_ref().to_path_buf());
    on_pool(
        move || std::fs::rename(&from, &to).map_err(|e| node_error(e, "rename", &from, Some(&to))),
        cb,
    );
}

/// Removes a file (`fs.unlink`).
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn unlink(path: impl AsRef<Path>, cb: impl FnOnce(io::Result<()>) + 'static) {
    let path = path.as_ref().to_path_buf();
    on_pool(
        move || std::fs::remove_file(&path).map_err(|e| node_error(e, "unlink", &path, None)),
        cb,
    );
}

/// Removes a file, or with `recursive` a directory and everything in it
/// (`fs.rm`). Without `recursive`, a directory is an error.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn rm(path: impl AsRef<Path>, recursive: bool, cb: impl FnOnce(io::Result<()>) + 'static) {
    let path = path.as_ref().to_path_buf();
    on_pool(
        move || {
            let meta =
                std::fs::symlink_metadata(&path).map_err(|e| node_error(e, "rm", &path, None))?;
            let r = if meta.is_dir() {
                if !recursive {
                    return Err(io::Error::new(
                        io::ErrorKind::IsADirectory,
                        format!(
                            "ERR_FS_EISDIR: path is a directory: rm '{}' (pass recursive)",
                            path.display()
                        ),
                    ));
                }
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            r.map_err(|e| node_error(e, "rm", &path, None))
        },
        cb,
    );
}

/// Copies a file, replacing the destination (`fs.copyFile`).
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn copy_file(
    from: impl AsRef<Path>,
    to: impl AsRef<Path>,
    cb: impl FnOnce(io::Result<()>) + 'static,
) {
    let (from, to) = (from.as_ref().to_path_buf(), to.as_ref().to_path_buf());
    on_pool(
        move || {
            std::fs::copy(&from, &to)
                .map(drop)
                .map_err(|e| node_error(e, "copyfile", &from, Some(&to)))
        },
        cb,
    );
}

/// Checks that a path exists (`fs.access(path, F_OK)`): `Ok(())`, or the
/// error naming the path.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn access(path: impl AsRef<Path>, cb: impl FnOnce(io::Result<()>) + 'static) {
    let path = path.as_ref().to_path_buf();
    on_pool(
        move || {
            std::fs::metadata(&path)
                .map(drop)
                .map_err(|e| node_error(e, "access", &path, None))
        },
        cb,
    );
}

/// Whether a path exists (`fs.exists`); never an error.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn exists(path: impl AsRef<Path>, cb: impl FnOnce(bool) + 'static) {
    access(path, move |r| cb(r.is_ok()));
}

/// The same operations as futures: Node's `fs.promises`. Each is built on
/// the callback form and resumes the awaiting task in the microtask
/// checkpoint after the callback, as a promise would.
pub mod promises;

#[cfg(test)]
mod tests;
