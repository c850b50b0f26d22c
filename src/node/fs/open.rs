//! Opening a file ([`open`] with Node's flag strings, [`open_with`] with an
//! [`OpenOptions`]) and working on it: [`read`], [`read_into`] (the
//! caller's buffer), [`write()`], [`close`].

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{node_error, with_code};
use super::job::on_pool;
use crate::rt::pool::queue_work;

/// How [`open_with`] opens a file: the typed form of Node's flag strings,
/// with the same switches as [`std::fs::OpenOptions`] plus the `mode` a
/// created file gets (before the umask; default `0o666`, as Node's).
///
/// Nothing is checked until the open runs on the pool: a combination the
/// OS refuses (no `read`, `write` nor `append`; `truncate` without
/// `write`) is the OS's `EINVAL` naming the path, as std gives it.
///
/// ```
/// use evloop::fs::{self, OpenOptions};
/// let path = std::env::temp_dir().join(format!("evloop-doc-open-{}", std::process::id()));
/// let p = path.clone();
/// let text = evloop::run_async(async move {
///     let h = fs::promises::open_with(&p, OpenOptions::new().write(true).create_new(true).mode(0o600))
///         .await?;
///     fs::promises::write(&h, "hi", None).await?;
///     fs::promises::close(h).await?;
///     // create_new refuses an existing file: Node's "wx".
///     let again = fs::promises::open_with(&p, OpenOptions::new().write(true).create_new(true)).await;
///     assert_eq!(fs::error_code(&again.unwrap_err()), Some("EEXIST"));
///     fs::promises::read_to_string(&p).await
/// });
/// assert_eq!(text.unwrap(), "hi");
/// use std::os::unix::fs::PermissionsExt;
/// assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o077, 0);
/// std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: u32,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// Every switch off and mode `0o666`: set at least one of `read`,
    /// `write`, `append`.
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            mode: 0o666,
        }
    }

    /// Node's flag strings: `"r"`, `"r+"`, `"w"`, `"w+"`, `"wx"`, `"wx+"`,
    /// `"a"`, `"a+"`, `"ax"`, `"ax+"` (`x`: fail if the file exists).
    ///
    /// # Errors
    /// `InvalidInput` with code `ERR_INVALID_ARG_VALUE` for any other
    /// string.
    pub fn from_flags(flags: &str) -> io::Result<OpenOptions> {
        parse_flags(flags).ok_or_else(|| {
            with_code(
                io::ErrorKind::InvalidInput,
                format!("ERR_INVALID_ARG_VALUE: unknown open flags '{flags}'"),
                "ERR_INVALID_ARG_VALUE",
            )
        })
    }

    /// Open for reading.
    pub fn read(&mut self, on: bool) -> &mut OpenOptions {
        self.read = on;
        self
    }

    /// Open for writing (at the cursor, or where [`write()`] is told).
    pub fn write(&mut self, on: bool) -> &mut OpenOptions {
        self.write = on;
        self
    }

    /// Open for writing, every write at the end (`O_APPEND`).
    pub fn append(&mut self, on: bool) -> &mut OpenOptions {
        self.append = on;
        self
    }

    /// Cut an existing file to length 0 (needs `write`).
    pub fn truncate(&mut self, on: bool) -> &mut OpenOptions {
        self.truncate = on;
        self
    }

    /// Create the file if it does not exist (needs `write` or `append`).
    pub fn create(&mut self, on: bool) -> &mut OpenOptions {
        self.create = on;
        self
    }

    /// Create the file, failing with `EEXIST` if it exists (`O_EXCL`;
    /// `create` and `truncate` are then ignored).
    pub fn create_new(&mut self, on: bool) -> &mut OpenOptions {
        self.create_new = on;
        self
    }

    /// The permission bits of a created file, before the process's umask.
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.mode = mode;
        self
    }

    /// std's options with the same switches, opened on the pool.
    pub(super) fn to_std(&self) -> std::fs::OpenOptions {
        let mut o = std::fs::OpenOptions::new();
        o.read(self.read)
            .write(self.write)
            .append(self.append)
            .truncate(self.truncate)
            .create(self.create)
            .create_new(self.create_new)
            .mode(self.mode);
        o
    }
}

fn parse_flags(flags: &str) -> Option<OpenOptions> {
    let mut o = OpenOptions::new();
    match flags {
        "r" => o.read(true),
        "r+" => o.read(true).write(true),
        "w" => o.write(true).create(true).truncate(true),
        "w+" => o.read(true).write(true).create(true).truncate(true),
        "wx" => o.write(true).create_new(true),
        "wx+" => o.read(true).write(true).create_new(true),
        "a" => o.append(true).create(true),
        "a+" => o.read(true).append(true).create(true),
        "ax" => o.append(true).create_new(true),
        "ax+" => o.read(true).append(true).create_new(true),
        _ => return None,
    };
    Some(o)
}

/// An open file from [`open`] or [`open_with`]; pass it to [`read`],
/// [`read_into`], [`write()`] and [`close`]. It is closed when the last
/// clone is dropped, if not before.
#[derive(Debug, Clone)]
pub struct FileHandle {
    pub(super) file: Arc<File>,
    pub(super) path: Arc<PathBuf>,
}

impl FileHandle {
    /// The path it was opened with (errors name it).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens a file with Node's flags (`fs.open`); see
/// [`OpenOptions::from_flags`] for the strings, [`open_with`] for the typed
/// form.
///
/// # Errors
/// `InvalidInput` (code `ERR_INVALID_ARG_VALUE`) for unknown flags, naming
/// the path; otherwise the OS error naming the path.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn open(
    path: impl AsRef<Path>,
    flags: &str,
    cb: impl FnOnce(io::Result<FileHandle>) + 'static,
) {
    let options = parse_flags(flags).ok_or_else(|| flags.to_string());
    open_on_pool(path.as_ref(), options, cb);
}

/// Opens a file as `options` say (`fs.open` with typed flags and `mode`).
/// `cb` runs in the poll phase with the handle, or the OS error naming the
/// path (`EEXIST: file already exists, open 'p'` for `create_new`).
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn open_with(
    path: impl AsRef<Path>,
    options: &OpenOptions,
    cb: impl FnOnce(io::Result<FileHandle>) + 'static,
) {
    open_on_pool(path.as_ref(), Ok(options.clone()), cb);
}

#[track_caller]
fn open_on_pool(
    path: &Path,
    options: Result<OpenOptions, String>,
    cb: impl FnOnce(io::Result<FileHandle>) + 'static,
) {
    let path = Arc::new(path.to_path_buf());
    on_pool(
        move || {
            let options = options.map_err(|flags| {
                with_code(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "ERR_INVALID_ARG_VALUE: unknown open flags '{flags}', open '{}'",
                        path.display()
                    ),
                    "ERR_INVALID_ARG_VALUE",
                )
            })?;
            let file = options
                .to_std()
                .open(&*path)
                .map_err(|e| node_error(e, "open", &path, None))?;
            Ok(FileHandle {
                file: Arc::new(file),
                path,
            })
        },
        cb,
    );
}

/// Reads up to `length` bytes (`fs.read`): at `position` if given (the
/// file's cursor does not move), else from the cursor. An empty result means
/// end of file. Each call allocates its result; [`read_into`] reuses the
/// caller's buffer instead.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn read(
    handle: &FileHandle,
    length: usize,
    position: Option<u64>,
    cb: impl FnOnce(io::Result<Vec<u8>>) + 'static,
) {
    let handle = handle.clone();
    on_pool(
        move || {
            let mut buf = vec![0; length];
            let n = read_once(&handle, &mut buf, position)?;
            buf.truncate(n);
            Ok(buf)
        },
        cb,
    );
}

fn read_once(handle: &FileHandle, buf: &mut [u8], position: Option<u64>) -> io::Result<usize> {
    match position {
        Some(at) => handle.file.read_at(buf, at),
        None => (&*handle.file).read(buf),
    }
    .map_err(|e| node_error(e, "read", &handle.path, None))
}

/// Reads into the caller's buffer (`fs.read(fd, buffer, ...)`): one read
/// of up to `buf.len()` bytes into `buf[..n]`, at `position` if given (the
/// cursor does not move), else from the cursor. `cb` gets the buffer back
/// with `Ok(n)`; `n == 0` for a non-empty buffer means end of file.
///
/// The buffer travels to the pool thread and back, so it is passed by
/// value rather than borrowed: a loop reading a file of any size in
/// `buf.len()` steps reuses one allocation (its length never changes; only
/// `buf[..n]` is new data). The buffer comes back with an error too.
///
/// ```
/// use evloop::fs;
/// let path = std::env::temp_dir().join(format!("evloop-doc-into-{}", std::process::id()));
/// std::fs::write(&path, vec![7u8; 10_000]).unwrap();
/// let p = path.clone();
/// let total = evloop::run_async(async move {
///     let h = fs::promises::open(&p, "r").await.unwrap();
///     let mut buf = vec![0; 4096];
///     let mut total = 0;
///     loop {
///         let (back, n) = fs::promises::read_into(&h, buf, None).await;
///         buf = back;
///         match n.unwrap() {
///             0 => break total,
///             n => total += n,
///         }
///     }
/// });
/// assert_eq!(total, 10_000);
/// std::fs::remove_file(&path).unwrap();
/// ```
///
/// # Errors
/// The OS's error naming the path (`EBADF: bad file descriptor, read 'p'`
/// for a handle opened without `read`). Only if the pool job itself were
/// lost (a panic, a cancellation) would the buffer be lost with it: then
/// `cb` gets an empty `Vec`.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn read_into(
    handle: &FileHandle,
    mut buf: Vec<u8>,
    position: Option<u64>,
    cb: impl FnOnce(Vec<u8>, io::Result<usize>) + 'static,
) {
    let handle = handle.clone();
    let _work = queue_work(
        move || {
            let n = read_once(&handle, &mut buf, position);
            (buf, n)
        },
        move |r| match r {
            Ok((buf, n)) => cb(buf, n),
            Err(e) => cb(Vec::new(), Err(io::Error::from(e))),
        },
    );
}

/// Writes all of `data` (`fs.write`): at `position` if given, else at the
/// cursor; `cb` gets the number of bytes written.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn write(
    handle: &FileHandle,
    data: impl Into<Vec<u8>>,
    position: Option<u64>,
    cb: impl FnOnce(io::Result<usize>) + 'static,
) {
    let (handle, data) = (handle.clone(), data.into());
    on_pool(
        move || {
            match position {
                Some(at) => handle.file.write_all_at(&data, at),
                None => (&*handle.file).write_all(&data),
            }
            .map_err(|e| node_error(e, "write", &handle.path, None))?;
            Ok(data.len())
        },
        cb,
    );
}

/// Closes a file (`fs.close`): flushes it to the OS and drops this handle.
/// Other clones of the handle keep the descriptor open until they drop.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn close(handle: FileHandle, cb: impl FnOnce(io::Result<()>) + 'static) {
    on_pool(
        move || {
            handle
                .file
                .sync_data()
                .or_else(|e| {
                    // Not every file can be synced (pipes, /proc): closing
                    // still succeeds.
                    if e.kind() == io::ErrorKind::InvalidInput {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .map_err(|e| node_error(e, "close", &handle.path, None))?;
            drop(handle);
            Ok(())
        },
        cb,
    );
}
