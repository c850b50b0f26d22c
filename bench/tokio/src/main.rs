//! The tokio side of evloop's benchmark suite: each workload of
//! `examples/bench.rs`, done the idiomatic tokio way on a current-thread
//! runtime (`enable_all`).
//!
//! `evloop-bench-tokio WORKLOAD [N]` prints ONE JSON line in the format of
//! `shared/benchmarks.md`, with `"system":"tokio"`; `list` names the
//! workloads; `echo_server` prints `PORT PID` and echoes on 127.0.0.1 (a task
//! per connection doing read + write_all) until killed or for 120 s. The
//! `tcp_echo` load itself comes from evloop's client
//! (`EVLOOP_ECHO_TARGET=PORT:PID bench tcp_echo`), as `bench/run.sh` does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, mpsc, oneshot};

/// What a workload reports besides its wall time.
#[derive(Default)]
struct Extra {
    /// The timed part's wall time, when the workload had untimed setup.
    seconds: Option<f64>,
    setup_seconds: Option<f64>,
    /// Further `"name":value` fields.
    fields: Vec<(&'static str, f64)>,
}

type Workload = fn(u64) -> Result<Extra, String>;

const WORKLOADS: &[(&str, u64, Workload)] = &[
    ("immediate_chain", 1_000_000, immediate_chain),
    ("immediate_bulk", 1_000_000, immediate_bulk),
    ("timers_fire", 1_000_000, timers_fire),
    ("timers_cancel", 1_000_000, timers_cancel),
    ("tasks", 1_000_000, tasks),
    ("pingpong", 1_000_000, pingpong),
    ("await_loop", 1_000_000, await_loop),
    ("yield_chain", 1_000_000, yield_chain),
    ("fs_small", 10_000, fs_small),
    ("fs_big", 10, fs_big),
    ("wake_latency", 100_000, wake_latency),
    ("tcp_echo", 100_000, tcp_echo),
    ("udp_pingpong", 100_000, udp_pingpong),
    ("spawn_true", 500, spawn_true),
    ("pipe_throughput", 256, pipe_throughput),
    ("signal_latency", 1_000, signal_latency),
];

const SYSTEM: &str = "tokio";

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "list".into());
    if name == "echo_server" {
        echo_server();
        return;
    }
    if name == "list" {
        for (name, n, _) in WORKLOADS {
            println!("{name} (default n = {n})");
        }
        return;
    }
    let Some(&(name, default_n, workload)) = WORKLOADS.iter().find(|w| w.0 == name) else {
        println!(r#"{{"workload":"{name}","system":"{SYSTEM}","error":"unknown workload"}}"#);
        std::process::exit(2);
    };
    let n = match args.next().map(|s| s.parse::<u64>()) {
        None => default_n,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            println!(
                r#"{{"workload":"{name}","system":"{SYSTEM}","error":"n must be a positive integer"}}"#
            );
            std::process::exit(2);
        }
    };
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let result = workload(n);
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    match result {
        Ok(extra) => {
            let seconds = extra.seconds.unwrap_or(seconds);
            let mut line = format!(
                r#"{{"workload":"{name}","system":"{SYSTEM}","n":{n},"seconds":{seconds:.6},"ops_per_sec":{:.1},"peak_rss_kb":{},"cpu_seconds":{cpu:.6}"#,
                n as f64 / seconds,
                peak_rss_kb()
            );
            if let Some(s) = extra.setup_seconds {
                line += &format!(r#","setup_seconds":{s:.6}"#);
            }
            for (name, value) in extra.fields {
                line += &format!(r#","{name}":{value:.3}"#);
            }
            println!("{line}}}");
        }
        Err(e) => {
            let e = e.replace('\\', "\\\\").replace('"', "\\\"");
            println!(r#"{{"workload":"{name}","system":"{SYSTEM}","error":"{e}"}}"#);
            std::process::exit(1);
        }
    }
}

/// A current-thread runtime with the IO and time drivers, as the suite
/// compares against. Built and dropped inside the timed part, like evloop's
/// `EventLoop::new()`.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// Runs a workload's body as a task on a fresh runtime (built and dropped
/// inside the timed part). The body is spawned rather than run as the
/// `block_on` future itself: waking the `block_on` future takes a slower
/// path in tokio's current-thread scheduler (pingpong there costs about 2.5×
/// as much), and every peer's body here is an ordinary task.
fn run<F>(body: F) -> Result<F::Output, String>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = runtime()?;
    let task = rt.spawn(body);
    rt.block_on(task).map_err(|e| e.to_string())
}

fn check(what: &str, got: u64, want: u64) -> Result<Extra, String> {
    if got == want {
        Ok(Extra::default())
    } else {
        Err(format!("{what}: {got} of {want} callbacks ran"))
    }
}

/// Each task spawns the next: tokio's analogue of a setImmediate chain.
fn immediate_chain(n: u64) -> Result<Extra, String> {
    fn step(count: u64, n: u64, done: oneshot::Sender<u64>) {
        let count = count + 1;
        if count < n {
            tokio::spawn(async move { step(count, n, done) });
        } else {
            let _ = done.send(count);
        }
    }
    let count = run(async move {
        let (tx, rx) = oneshot::channel();
        tokio::spawn(async move { step(0, n, tx) });
        rx.await.unwrap_or(0)
    })?;
    check("immediate_chain", count, n)
}

/// n trivial tasks spawned up front, then run; the last one to run wakes
/// the main future.
fn immediate_bulk(n: u64) -> Result<Extra, String> {
    let count = run(async move {
        let state = Arc::new((AtomicU64::new(0), Notify::new()));
        for _ in 0..n {
            let s = state.clone();
            tokio::spawn(async move {
                if s.0.fetch_add(1, Ordering::Relaxed) + 1 == n {
                    s.1.notify_one();
                }
            });
        }
        state.1.notified().await;
        state.0.load(Ordering::Relaxed)
    })?;
    check("immediate_bulk", count, n)
}

fn xorshift32(state: &mut u32) -> u32 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    x
}

/// n sleeping tasks over 0..=1000 ms, each bumping a counter; judged by CPU.
fn timers_fire(n: u64) -> Result<Extra, String> {
    let (count, setup) = run(async move {
        let state = Arc::new((AtomicU64::new(0), Notify::new()));
        let t0 = Instant::now();
        let mut rng = 12345u32;
        for _ in 0..n {
            let s = state.clone();
            let delay = Duration::from_millis((xorshift32(&mut rng) % 1001) as u64);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if s.0.fetch_add(1, Ordering::Relaxed) + 1 == n {
                    s.1.notify_one();
                }
            });
        }
        let setup = t0.elapsed().as_secs_f64();
        state.1.notified().await;
        (state.0.load(Ordering::Relaxed), setup)
    })?;
    let mut extra = check("timers_fire", count, n)?;
    extra.setup_seconds = Some(setup);
    Ok(extra)
}

/// n tasks sleeping 10 s + 0..=1000 ms; once each has been polled (its
/// timer registered), all are aborted and their handles awaited.
fn timers_cancel(n: u64) -> Result<Extra, String> {
    let (fired, cancelled) = run(async move {
        let polled = Arc::new((AtomicU64::new(0), Notify::new()));
        let fired = Arc::new(AtomicU64::new(0));
        let mut rng = 12345u32;
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (p, f) = (polled.clone(), fired.clone());
                let delay = Duration::from_millis(10_000 + (xorshift32(&mut rng) % 1001) as u64);
                tokio::spawn(async move {
                    // Counted in the first poll, which goes on to register
                    // the sleep before the task yields.
                    if p.0.fetch_add(1, Ordering::Relaxed) + 1 == n {
                        p.1.notify_one();
                    }
                    tokio::time::sleep(delay).await;
                    f.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        polled.1.notified().await;
        for h in &handles {
            h.abort();
        }
        let mut cancelled = 0u64;
        for h in handles {
            if matches!(h.await, Err(e) if e.is_cancelled()) {
                cancelled += 1;
            }
        }
        (fired.load(Ordering::Relaxed), cancelled)
    })?;
    if fired != 0 {
        return Err(format!("{fired} cancelled timers fired"));
    }
    check("timers_cancel cancelled", cancelled, n)
}

/// n tasks that each suspend once, then awaited in order.
fn tasks(n: u64) -> Result<Extra, String> {
    let sum = run(async move {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                tokio::spawn(async move {
                    tokio::task::yield_now().await;
                    i
                })
            })
            .collect();
        let mut sum = 0u64;
        for h in handles {
            sum += h.await.unwrap_or(0);
        }
        sum
    })?;
    check("tasks", sum, n * (n - 1) / 2)
}

/// Two tasks bouncing a value over two `mpsc::channel(1)`.
fn pingpong(n: u64) -> Result<Extra, String> {
    let got = run(async move {
        let (ping_tx, mut ping_rx) = mpsc::channel::<u64>(1);
        let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
        let echo = tokio::spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                if pong_tx.send(v + 1).await.is_err() {
                    break;
                }
            }
        });
        let mut v = 0;
        for _ in 0..n {
            ping_tx.send(v).await.map_err(|_| "echo task gone")?;
            v = pong_rx.recv().await.ok_or("echo task ended")?;
        }
        drop(ping_tx);
        echo.await.map_err(|e| e.to_string())?;
        Ok::<u64, String>(v)
    })??;
    check("pingpong", got, n)
}

/// Two UDP sockets on 127.0.0.1 bounce a 32-byte datagram n times.
fn udp_pingpong(n: u64) -> Result<Extra, String> {
    let got = run(async move {
        let a = tokio::net::UdpSocket::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
        let b = tokio::net::UdpSocket::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
        let b_addr = b.local_addr().map_err(|e| e.to_string())?;
        let echo = tokio::spawn(async move {
            let mut buf = [0u8; 64];
            while let Ok((k, from)) = b.recv_from(&mut buf).await {
                if b.send_to(&buf[..k], from).await.is_err() {
                    break;
                }
            }
        });
        let mut buf = [0u8; 64];
        let mut count = 0u64;
        a.send_to(&[0u8; 32], b_addr).await.map_err(|e| e.to_string())?;
        while count < n {
            let (k, _) = a.recv_from(&mut buf).await.map_err(|e| e.to_string())?;
            count += 1;
            if count < n {
                a.send_to(&buf[..k], b_addr).await.map_err(|e| e.to_string())?;
            }
        }
        echo.abort();
        Ok::<u64, String>(count)
    })??;
    check("udp_pingpong", got, n)
}

/// Spawn `/bin/true` with stdio ignored and wait for it, n times in
/// sequence (`tokio::process::Command::status`).
fn spawn_true(n: u64) -> Result<Extra, String> {
    use std::process::Stdio;
    let ok = run(async move {
        let mut ok = 0u64;
        for _ in 0..n {
            let status = tokio::process::Command::new("/bin/true")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await
                .map_err(|e| e.to_string())?;
            ok += u64::from(status.success());
        }
        Ok::<u64, String>(ok)
    })??;
    check("spawn_true", ok, n)
}

/// A child `cat` of an n MiB file (made before timing) read to the end
/// through its stdout pipe (`ChildStdout` reads into a 64 KiB buffer).
fn pipe_throughput(n: u64) -> Result<Extra, String> {
    use tokio::io::AsyncReadExt;
    let scratch = Scratch::new("pipe_throughput")?;
    let path = scratch.0.join("big.bin");
    write_mib_file(&path, n)?;
    let t0 = Instant::now();
    let total = run(async move {
        let mut child = tokio::process::Command::new("cat")
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut out = child.stdout.take().ok_or("no stdout")?;
        let mut buf = vec![0u8; 64 << 10];
        let mut total = 0u64;
        loop {
            let k = out.read(&mut buf).await.map_err(|e| e.to_string())?;
            if k == 0 {
                break;
            }
            total += k as u64;
        }
        child.wait().await.map_err(|e| e.to_string())?;
        Ok::<u64, String>(total)
    })??;
    let seconds = t0.elapsed().as_secs_f64();
    check("pipe_throughput bytes", total, n << 20)?;
    Ok(Extra {
        seconds: Some(seconds),
        fields: vec![("mib_per_sec", n as f64 / seconds)],
        ..Extra::default()
    })
}

/// An n MiB file of arbitrary bytes, written 1 MiB at a time.
fn write_mib_file(path: &std::path::Path, n: u64) -> Result<(), String> {
    use std::io::Write;
    let chunk: Vec<u8> = (0..1u32 << 20).map(|i| i as u8).collect();
    let mut f = std::fs::File::create(path).map_err(|e| e.to_string())?;
    for _ in 0..n {
        f.write_all(&chunk).map_err(|e| e.to_string())?;
    }
    f.sync_all().map_err(|e| e.to_string())
}

/// The process sends itself SIGUSR2 and waits for its listener
/// (`signal(SignalKind::user_defined2())`), n times; latency from
/// `kill` to the listener running.
fn signal_latency(n: u64) -> Result<Extra, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut samples = run(async move {
        let mut sig = signal(SignalKind::user_defined2()).map_err(|e| e.to_string())?;
        let mut samples = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let t = Instant::now();
            // SAFETY: sending a signal this process handles (tokio's
            // listener above) to itself.
            if unsafe { libc::kill(libc::getpid(), libc::SIGUSR2) } != 0 {
                return Err(std::io::Error::last_os_error().to_string());
            }
            sig.recv().await.ok_or("signal stream ended")?;
            samples.push(t.elapsed().as_secs_f64() * 1e6);
        }
        Ok::<Vec<f64>, String>(samples)
    })??;
    check("signal_latency", samples.len() as u64, n)?;
    Ok(Extra {
        fields: vec![
            ("median_us", percentile(&mut samples, 0.5)),
            ("p99_us", percentile(&mut samples, 0.99)),
        ],
        ..Extra::default()
    })
}

/// The p-th quantile (0..=1) of the samples, as wake_latency reports it.
fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p) as usize]
}

/// Create a oneshot, send on it, await it; n times.
fn await_loop(n: u64) -> Result<Extra, String> {
    let sum = run(async move {
        let mut sum = 0u64;
        for i in 0..n {
            let (tx, rx) = oneshot::channel();
            let _ = tx.send(i);
            sum += rx.await.map_err(|e| e.to_string())?;
        }
        Ok::<u64, String>(sum)
    })??;
    check("await_loop", sum, n * (n - 1) / 2)
}

/// One task yielding n times.
fn yield_chain(n: u64) -> Result<Extra, String> {
    let count = run(async move {
        let mut count = 0;
        for _ in 0..n {
            tokio::task::yield_now().await;
            count += 1;
        }
        count
    })?;
    check("yield_chain", count, n)
}

/// A scratch directory for the fs workloads, removed on drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Result<Scratch, String> {
        let dir = std::env::temp_dir().join(format!("tokio-bench-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// 2,000 files of 4 KiB (made before timing) read concurrently, a `JoinSet`
/// of `tokio::fs::read` on the default blocking pool; n reads in rounds of
/// 2,000.
fn fs_small(n: u64) -> Result<Extra, String> {
    const FILES: u64 = 2_000;
    let scratch = Scratch::new("fs_small")?;
    let names: Vec<_> = (0..FILES.min(n))
        .map(|i| scratch.0.join(format!("f{i}.txt")))
        .collect();
    for p in &names {
        std::fs::write(p, [b'x'; 4096]).map_err(|e| e.to_string())?;
    }
    let rounds = n.div_ceil(FILES);
    let t0 = Instant::now();
    let total = run(async move {
        let mut total = 0u64;
        for _ in 0..rounds {
            let mut set = tokio::task::JoinSet::new();
            for p in names.iter().cloned() {
                set.spawn(tokio::fs::read(p));
            }
            while let Some(r) = set.join_next().await {
                total += r
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?
                    .len() as u64;
            }
        }
        Ok::<u64, String>(total)
    })??;
    let seconds = t0.elapsed().as_secs_f64();
    let reads = rounds * FILES.min(n);
    check("fs_small bytes", total, reads * 4096)?;
    Ok(Extra {
        seconds: Some(seconds),
        fields: vec![("us_per_file", seconds * 1e6 / reads as f64)],
        ..Extra::default()
    })
}

/// One 64 MiB file read whole with `tokio::fs::read`, n times in sequence;
/// each read is followed by a `std::fs::read` of the same file on this
/// thread (the same comparison evloop's program makes). Reports medians.
fn fs_big(n: u64) -> Result<Extra, String> {
    const SIZE: usize = 64 << 20;
    let scratch = Scratch::new("fs_big")?;
    let path = scratch.0.join("big.bin");
    std::fs::write(&path, vec![7u8; SIZE]).map_err(|e| e.to_string())?;
    let p = path.clone();
    let (ours, std_times) = run(async move {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let t = Instant::now();
            let v = tokio::fs::read(&p).await.map_err(|e| e.to_string())?;
            ours.push(t.elapsed().as_secs_f64());
            if v.len() != SIZE {
                return Err(format!("read {} of {SIZE} bytes", v.len()));
            }
            drop(v);
            let t = Instant::now();
            let v = std::fs::read(&p).map_err(|e| e.to_string())?;
            theirs.push(t.elapsed().as_secs_f64());
            drop(std::hint::black_box(v));
        }
        Ok::<_, String>((ours, theirs))
    })??;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let total: f64 = ours.iter().sum();
    let (ours, theirs) = (median(ours), median(std_times));
    let mib = (SIZE >> 20) as f64;
    Ok(Extra {
        seconds: Some(total),
        fields: vec![
            ("ms_per_read", ours * 1e3),
            ("mib_per_sec", mib / ours),
            ("std_ms_per_read", theirs * 1e3),
            ("std_mib_per_sec", mib / theirs),
        ],
        ..Extra::default()
    })
}

/// A std thread sends into the runtime over an unbounded channel and blocks
/// on a std channel for the reply, n times; beside a plain std-thread
/// channel ping-pong in the same run.
fn wake_latency(n: u64) -> Result<Extra, String> {
    use std::sync::mpsc as std_mpsc;
    let rt = runtime()?;
    let (to_loop, mut loop_rx) = mpsc::unbounded_channel::<()>();
    let (reply_tx, reply_rx) = std_mpsc::channel::<()>();
    let prober = std::thread::spawn(move || {
        let mut samples = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let t = Instant::now();
            to_loop.send(()).expect("runtime alive");
            reply_rx.recv().expect("runtime replies");
            samples.push(t.elapsed().as_secs_f64() * 1e6);
        }
        samples
    });
    let responder = rt.spawn(async move {
        while let Some(()) = loop_rx.recv().await {
            if reply_tx.send(()).is_err() {
                break;
            }
        }
    });
    rt.block_on(responder).map_err(|e| e.to_string())?;
    drop(rt);
    let mut samples = prober.join().map_err(|_| "prober panicked")?;
    // Baseline: two std threads ping-ponging over std channels.
    let (to_echo, echo_rx) = std_mpsc::channel::<()>();
    let (to_main, main_rx) = std_mpsc::channel::<()>();
    let echo = std::thread::spawn(move || {
        for () in echo_rx {
            if to_main.send(()).is_err() {
                break;
            }
        }
    });
    let mut base = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t = Instant::now();
        to_echo.send(()).map_err(|e| e.to_string())?;
        main_rx.recv().map_err(|e| e.to_string())?;
        base.push(t.elapsed().as_secs_f64() * 1e6);
    }
    drop(to_echo);
    echo.join().map_err(|_| "echo panicked")?;
    let pct = |v: &mut Vec<f64>, p: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * p) as usize]
    };
    Ok(Extra {
        fields: vec![
            ("median_us", pct(&mut samples, 0.5)),
            ("p99_us", pct(&mut samples, 0.99)),
            ("std_median_us", pct(&mut base, 0.5)),
            ("std_p99_us", pct(&mut base, 0.99)),
        ],
        ..Extra::default()
    })
}

/// The load for tcp_echo comes from evloop's client; this program only
/// serves (`echo_server`).
fn tcp_echo(_n: u64) -> Result<Extra, String> {
    Err("run `echo_server` and drive it with evloop's client \
         (EVLOOP_ECHO_TARGET=PORT:PID bench tcp_echo), as bench/run.sh does"
        .into())
}

/// `echo_server`: prints `PORT PID`, then echoes on 127.0.0.1 with a task
/// per connection (read + write_all, TCP_NODELAY) until killed or for 120 s.
fn echo_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = runtime().expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listen");
        let port = listener.local_addr().expect("local addr").port();
        println!("{port} {}", std::process::id());
        use std::io::Write;
        std::io::stdout().flush().expect("stdout");
        let serve = async {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    continue;
                };
                let _ = socket.set_nodelay(true);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(k) => {
                                if socket.write_all(&buf[..k]).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                });
            }
        };
        tokio::select! {
            () = serve => {}
            () = tokio::time::sleep(Duration::from_secs(120)) => {}
        }
    });
    std::process::exit(0);
}

/// Peak resident set (VmHWM) in KiB.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// User + system CPU of the whole process (all threads).
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct we pass, which is a
    // properly sized, zero-initialised `rusage`.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}
