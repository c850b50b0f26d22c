use super::*;
use std::cell::RefCell;
use std::rc::Rc;

/// Runs `read` on a loop and returns what its callback got.
fn read_with(read: impl FnOnce(Box<dyn FnOnce(io::Result<Vec<u8>>)>)) -> io::Result<Vec<u8>> {
    let got = Rc::new(RefCell::new(None));
    let g = got.clone();
    crate::run(move || read(Box::new(move |r| *g.borrow_mut() = Some(r))));
    got.take().expect("the callback ran")
}

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("evloop-fs-{name}-{}", std::process::id()))
}

/// Issue 19: a 64 GiB sparse file made `read_file` allocate its size up
/// front and abort. Past 2 GiB it is Node's `ERR_FS_FILE_TOO_LARGE`,
/// before a byte is read.
#[test]
fn a_file_past_2_gib_is_too_large_not_an_abort() {
    let _w = crate::test_watchdog::watchdog();
    let path = scratch("sparse");
    let file = File::create(&path).unwrap();
    file.set_len(64 << 30).unwrap();
    drop(file);
    let p = path.clone();
    let e = read_with(move |cb| read_file(&p, cb)).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
    assert_eq!(error_code(&e), Some("ERR_FS_FILE_TOO_LARGE"));
    assert_eq!(
        e.to_string(),
        format!(
            "ERR_FS_FILE_TOO_LARGE: File size ({}) is greater than 2 GiB, read '{}'",
            64u64 << 30,
            path.display()
        )
    );
}

/// A file whose size the OS does not know (`/dev/zero` reports 0) is
/// read up to the cap, then refused: it grew without bound before.
#[test]
fn an_endless_file_stops_at_the_cap() {
    let _w = crate::test_watchdog::watchdog();
    let cap = READ_CHUNK + 100;
    let e = read_with(move |cb| read_file_capped(Path::new("/dev/zero"), cap, cb)).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
    assert!(
        e.to_string()
            .ends_with(&format!("is greater than {cap} bytes, read '/dev/zero'")),
        "{e}"
    );
}

/// Exactly the cap reads; one byte more does not.
#[test]
fn the_cap_is_inclusive() {
    let _w = crate::test_watchdog::watchdog();
    let path = scratch("cap");
    std::fs::write(&path, [7u8; 100]).unwrap();
    let p = path.clone();
    let ok = read_with(move |cb| read_file_capped(&p, 100, cb)).unwrap();
    assert_eq!(ok.len(), 100);
    let p = path.clone();
    let e = read_with(move |cb| read_file_capped(&p, 99, cb)).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(error_code(&e), Some("ERR_FS_FILE_TOO_LARGE"));
}
