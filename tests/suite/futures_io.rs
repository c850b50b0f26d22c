//! evloop's byte streams with a `futures-io` consumer (`futures-util`'s
//! `io` module): `BufReader::lines` and `copy` over `TcpStream`s, a
//! child's stdout and stdin, and the halves of `split` / `into_split`.

use crate::common;

use std::rc::Rc;

use evloop::child_process::{self, SpawnOptions};
use evloop::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use futures_util::StreamExt;
use futures_util::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Cursor};

/// A connected pair: (the client's end, the server's end).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = evloop::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

/// `count` bytes of a pattern that a dropped or reordered chunk would break.
fn pattern(count: usize) -> Vec<u8> {
    (0..count).map(|i| (i % 251) as u8).collect()
}

#[test]
fn buf_reader_lines_over_a_tcp_stream() {
    let _w = common::watchdog();
    let lines = evloop::run_async(async {
        let (client, server) = tcp_pair().await;
        let writer = evloop::spawn(async move {
            // Lines cut across writes, a `\r\n`, and a last line without
            // a newline.
            for part in [&b"one\ntw"[..], b"o\r\nthr", b"ee\n", b"four"] {
                server.write_all(part).await.unwrap();
                evloop::sleep(1).await;
            }
            // Dropping `server` closes it: the reader sees the end.
        });
        let lines: Vec<String> = BufReader::new(client)
            .lines()
            .map(Result::unwrap)
            .collect()
            .await;
        writer.await;
        lines
    });
    assert_eq!(lines, ["one", "two", "three", "four"]);
}

#[test]
fn copy_moves_every_byte_from_one_stream_to_another() {
    let _w = common::watchdog();
    const LEN: usize = 4 << 20; // far past the socket buffers: both sides wait
    let got = evloop::run_async(async {
        let (mut source, from) = tcp_pair().await;
        let (mut to, sink) = tcp_pair().await;
        let feed = evloop::spawn(async move {
            source.write_all(&pattern(LEN)).await.unwrap();
            source.close().await.unwrap(); // FIN: `copy` ends
            source
        });
        let proxy = evloop::spawn(async move {
            let n = futures_util::io::copy(&from, &mut to).await.unwrap();
            to.close().await.unwrap();
            n
        });
        let mut got = Vec::new();
        (&sink).read_to_end(&mut got).await.unwrap();
        assert_eq!(proxy.await, LEN as u64);
        drop(feed.await);
        got
    });
    assert!(got == pattern(LEN), "{} bytes arrived, altered", got.len());
}

#[test]
fn split_halves_write_and_read_at_once_in_one_task() {
    let _w = common::watchdog();
    // An echo of more than the socket buffers hold: writing all before
    // reading would wait forever, so the halves must run together.
    const LEN: usize = 2 << 20;
    let echoed = evloop::run_async(async {
        let (mut client, server) = tcp_pair().await;
        let echo = evloop::spawn(async move {
            let (mut r, mut w) = (&server, &server);
            futures_util::io::copy(&mut r, &mut w).await.unwrap();
        });
        // `TcpStream::split`, not `client.split()`: with `AsyncReadExt` in
        // scope that names its by-value `split`.
        let (r, w) = TcpStream::split(&mut client);
        let data = pattern(LEN);
        let (sent, echoed) = evloop::join!(
            async {
                w.write_all(&data).await.unwrap();
                w.shutdown().await.unwrap();
            },
            async {
                let mut got = Vec::new();
                let mut r = r;
                r.read_to_end(&mut got).await.unwrap();
                got
            },
        );
        let () = sent;
        echo.await;
        echoed
    });
    assert!(
        echoed == pattern(LEN),
        "{} bytes echoed, altered",
        echoed.len()
    );
}

#[test]
fn owned_halves_in_two_tasks_and_the_write_half_ends_on_drop() {
    let _w = common::watchdog();
    let (reply, reunited) = evloop::run_async(async {
        let (client, server) = tcp_pair().await;
        let (r, w) = client.into_split();
        let peer = evloop::spawn(async move {
            let mut got = Vec::new();
            (&server).read_to_end(&mut got).await.unwrap(); // the write half's drop ends it
            server.write_all(&got).await.unwrap();
            server.write_all(b"!").await.unwrap();
        });
        let writer = evloop::spawn(async move {
            w.write_all(b"ping").await.unwrap();
            // Dropped here: the peer reads the end.
        });
        let reader = evloop::spawn(async move {
            let mut r = r;
            let mut got = [0u8; 5];
            r.read_exact(&mut got).await.unwrap();
            (got, r)
        });
        writer.await;
        peer.await;
        let (got, r) = reader.await;
        // Halves of two different streams do not reunite.
        let (_, w2) = tcp_pair().await.0.into_split();
        (got, r.reunite(w2).is_err())
    });
    assert_eq!(&reply, b"ping!");
    assert!(reunited, "halves of different streams were reunited");
}

#[test]
fn reunite_gives_the_stream_back_without_ending_it() {
    let _w = common::watchdog();
    let got = evloop::run_async(async {
        let (client, server) = tcp_pair().await;
        let (r, w) = client.into_split();
        let client = r.reunite(w).unwrap();
        // Not shut down by the reunite: it still writes.
        client.write_all(b"still open").await.unwrap();
        drop(client);
        let mut got = String::new();
        (&server).read_to_string(&mut got).await.unwrap();
        got
    });
    assert_eq!(got, "still open");
}

#[test]
fn two_tasks_reading_one_stream_are_both_woken() {
    let _w = common::watchdog();
    let mut got = evloop::run_async(async {
        let (client, server) = tcp_pair().await;
        let client = Rc::new(client);
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let c = client.clone();
                evloop::spawn(async move {
                    let mut b = [0u8; 1];
                    assert_eq!(c.read(&mut b).await.unwrap(), 1);
                    b[0]
                })
            })
            .collect();
        // Both wait now; one edge must wake both (a single waiter slot
        // would forget the first, and this would hang).
        evloop::sleep(1).await;
        server.write_all(b"xy").await.unwrap();
        let mut got = Vec::new();
        for r in readers {
            got.push(r.await);
        }
        got
    });
    got.sort_unstable();
    assert_eq!(got, b"xy");
}

#[test]
fn unix_streams_split_and_speak_futures_io() {
    let _w = common::watchdog();
    let path = std::env::temp_dir().join(format!("evloop-futures-io-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let p = path.clone();
    let got = evloop::run_async(async move {
        let listener = UnixListener::bind(&p).unwrap();
        let (client, server) = evloop::join!(UnixStream::connect(&p), listener.accept());
        let (mut client, server) = (client.unwrap(), server.unwrap());
        let (r, mut w) = UnixStream::split(&mut client);
        w.write_all(b"over unix\n").await.unwrap();
        w.close().await.unwrap();
        let mut line = String::new();
        BufReader::new(&server).read_line(&mut line).await.unwrap();
        server
            .write_all(line.to_uppercase().as_bytes())
            .await
            .unwrap();
        drop(server);
        let mut back = String::new();
        let mut r = r;
        r.read_to_string(&mut back).await.unwrap();
        (line, back)
    });
    assert_eq!(got.0, "over unix\n");
    assert_eq!(got.1, "OVER UNIX\n");
    assert!(!path.exists());
}

#[test]
fn a_childs_stdout_reads_as_lines_and_its_stdin_takes_a_copy() {
    let _w = common::watchdog();
    const LEN: usize = 1 << 20; // past the pipe's 64 KiB and the 16 KiB mark
    let (lines, echoed) = evloop::run_async(async {
        let seq = child_process::spawn("seq", ["1", "2000"], SpawnOptions::default()).unwrap();
        let lines: Vec<String> = seq
            .stdout()
            .unwrap()
            .chunks()
            .lines()
            .map(Result::unwrap)
            .collect()
            .await;
        assert!(seq.wait().await.unwrap().success());

        let cat = child_process::spawn("cat", [""; 0], SpawnOptions::default()).unwrap();
        let mut stdin = cat.stdin().unwrap().clone();
        let mut stdout = cat.stdout().unwrap().chunks();
        let (copied, echoed) = evloop::join!(
            async {
                let data = pattern(LEN);
                // One write takes at most 16 KiB: the queue stays bounded.
                let first = AsyncWriteExt::write(&mut stdin, &data).await.unwrap();
                assert_eq!(first, 16 * 1024);
                let rest = Cursor::new(&data[first..]);
                let n = futures_util::io::copy(rest, &mut stdin).await;
                stdin.close().await.unwrap(); // `cat` reads EOF
                n.unwrap() + first as u64
            },
            async {
                let mut got = Vec::new();
                stdout.read_to_end(&mut got).await.unwrap();
                got
            },
        );
        assert_eq!(copied, LEN as u64);
        let late = AsyncWriteExt::write(&mut stdin, b"late").await.unwrap_err();
        assert_eq!(
            late.to_string(),
            "ERR_STREAM_WRITE_AFTER_END: write after end"
        );
        assert!(cat.wait().await.unwrap().success());
        (lines, echoed)
    });
    assert_eq!(lines.len(), 2000);
    assert_eq!((lines[0].as_str(), lines[1999].as_str()), ("1", "2000"));
    assert!(
        echoed == pattern(LEN),
        "{} bytes echoed, altered",
        echoed.len()
    );
}

#[test]
fn writing_to_a_child_that_closed_its_stdin_fails_with_epipe() {
    let _w = common::watchdog();
    let err = evloop::run_async(async {
        // `true` exits at once, without reading: its stdin's reader goes.
        let child = child_process::spawn("true", [""; 0], SpawnOptions::default()).unwrap();
        let mut stdin = child.stdin().unwrap().clone();
        child.wait().await.unwrap();
        let data = vec![0u8; 1 << 20];
        let mut last = Ok(());
        for _ in 0..4 {
            last = AsyncWriteExt::write_all(&mut stdin, &data).await;
            if last.is_err() {
                break;
            }
        }
        last.unwrap_err()
    });
    let msg = err.to_string();
    assert!(
        msg == "write EPIPE" || msg.starts_with("ERR_STREAM_DESTROYED"),
        "{msg}"
    );
}
