//! The benchmark program: `cargo run --release --example bench -- WORKLOAD [N]`
//! prints ONE JSON line (the format of `shared/benchmarks.md`):
//! `{"workload":..,"system":"evloop","n":..,"seconds":..,"ops_per_sec":..,"peak_rss_kb":..,"cpu_seconds":..}`.
//!
//! `cargo run --release --example bench -- list` names the workloads.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use evloop::{
    EventLoop, channel, clear_timeout, deferred, set_immediate, set_timeout, spawn, yield_now,
};

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
        println!(r#"{{"workload":"{name}","system":"evloop","error":"unknown workload"}}"#);
        std::process::exit(2);
    };
    let n = match args.next().map(|s| s.parse::<u64>()) {
        None => default_n,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            println!(
                r#"{{"workload":"{name}","system":"evloop","error":"n must be a positive integer"}}"#
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
                r#"{{"workload":"{name}","system":"evloop","n":{n},"seconds":{seconds:.6},"ops_per_sec":{:.1},"peak_rss_kb":{},"cpu_seconds":{cpu:.6}"#,
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
            println!(r#"{{"workload":"{name}","system":"evloop","error":"{e}"}}"#);
            std::process::exit(1);
        }
    }
}

fn new_loop() -> Result<EventLoop, String> {
    EventLoop::new().map_err(|e| e.to_string())
}

fn check(what: &str, got: u64, want: u64) -> Result<Extra, String> {
    if got == want {
        Ok(Extra::default())
    } else {
        Err(format!("{what}: {got} of {want} callbacks ran"))
    }
}

/// Each immediate schedules the next: one loop turn per callback.
fn immediate_chain(n: u64) -> Result<Extra, String> {
    fn step(count: Rc<Cell<u64>>, n: u64) {
        count.set(count.get() + 1);
        if count.get() < n {
            set_immediate(move || step(count, n));
        }
    }
    let count = Rc::new(Cell::new(0));
    let c = count.clone();
    new_loop()?.run_main(move || {
        set_immediate(move || step(c, n));
    });
    check("immediate_chain", count.get(), n)
}

/// n immediates queued up front, then run in one check phase.
fn immediate_bulk(n: u64) -> Result<Extra, String> {
    let count = Rc::new(Cell::new(0));
    let c = count.clone();
    new_loop()?.run_main(move || {
        for _ in 0..n {
            let c = c.clone();
            set_immediate(move || c.set(c.get() + 1));
        }
    });
    check("immediate_bulk", count.get(), n)
}

fn xorshift32(state: &mut u32) -> u32 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    x
}

/// n timers over 0..=1000 ms, each bumping a counter; judged by CPU.
fn timers_fire(n: u64) -> Result<Extra, String> {
    let count = Rc::new(Cell::new(0));
    let c = count.clone();
    let setup = Rc::new(Cell::new(0.0));
    let s = setup.clone();
    new_loop()?.run_main(move || {
        let t0 = Instant::now();
        let mut rng = 12345u32;
        for _ in 0..n {
            let c = c.clone();
            let _ = set_timeout(xorshift32(&mut rng) % 1001, move || c.set(c.get() + 1));
        }
        s.set(t0.elapsed().as_secs_f64());
    });
    let mut extra = check("timers_fire", count.get(), n)?;
    extra.setup_seconds = Some(setup.get());
    Ok(extra)
}

/// n timers 10 s + 0..=1000 ms out, then all cleared.
fn timers_cancel(n: u64) -> Result<Extra, String> {
    let fired = Rc::new(Cell::new(0u64));
    let f = fired.clone();
    new_loop()?.run_main(move || {
        let mut rng = 12345u32;
        let timers: Vec<_> = (0..n)
            .map(|_| {
                let f = f.clone();
                set_timeout(10_000 + xorshift32(&mut rng) % 1001, move || {
                    f.set(f.get() + 1)
                })
            })
            .collect();
        for t in timers {
            clear_timeout(t);
        }
    });
    if fired.get() != 0 {
        return Err(format!("{} cancelled timers fired", fired.get()));
    }
    Ok(Extra::default())
}

/// n tasks that each suspend once, then awaited in order.
fn tasks(n: u64) -> Result<Extra, String> {
    let sum = new_loop()?.run_async(async move {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                spawn(async move {
                    yield_now().await;
                    i
                })
            })
            .collect();
        let mut sum = 0u64;
        for t in tasks {
            sum += t.await;
        }
        sum
    });
    check("tasks", sum, n * (n - 1) / 2)
}

/// Two tasks bouncing a value over two one-slot channels.
fn pingpong(n: u64) -> Result<Extra, String> {
    let got = new_loop()?.run_async(async move {
        let (ping_tx, mut ping_rx) = channel::<u64>(1);
        let (pong_tx, mut pong_rx) = channel::<u64>(1);
        let echo = spawn(async move {
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
        echo.await;
        Ok::<u64, &str>(v)
    })?;
    check("pingpong", got, n)
}

/// Two UDP sockets on 127.0.0.1 bounce a 32-byte datagram n times (the
/// callback `dgram` API, as Node's).
fn udp_pingpong(n: u64) -> Result<Extra, String> {
    use evloop::dgram::{self, Family};
    let count = Rc::new(Cell::new(0u64));
    let c = count.clone();
    let failed = Rc::new(Cell::new(None::<String>));
    let f = failed.clone();
    new_loop()?.run_main(move || {
        let local = "127.0.0.1:0".parse().expect("an address");
        let (a, b) = (
            dgram::create_socket(Family::V4),
            dgram::create_socket(Family::V4),
        );
        let (Ok(_), Ok(b_addr)) = (a.bind(local), b.bind(local)) else {
            f.set(Some("bind failed".into()));
            return;
        };
        let echo = b.clone();
        b.on_message(move |data, from| echo.send(data.to_vec(), from.addr, |_| {}));
        let (me, other) = (a.clone(), b.clone());
        a.on_message(move |data, _| {
            c.set(c.get() + 1);
            if c.get() < n {
                me.send(data.to_vec(), b_addr, |_| {});
            } else {
                let _ = me.close(|| {});
                let _ = other.close(|| {});
            }
        });
        a.send(vec![0u8; 32], b_addr, |_| {});
    });
    if let Some(e) = failed.take() {
        return Err(e);
    }
    check("udp_pingpong", count.get(), n)
}

/// Spawn `/bin/true` with stdio ignored and wait for its `exit`, n times in
/// sequence (each `exit` handler spawns the next, as Node's bench does).
fn spawn_true(n: u64) -> Result<Extra, String> {
    use evloop::child_process::{self, SpawnOptions, Stdio};
    fn next(ok: Rc<Cell<u64>>, left: u64, failed: Rc<Cell<Option<String>>>) {
        let options = SpawnOptions {
            stdio: [Stdio::Ignore; 3],
            ..SpawnOptions::default()
        };
        let child = match child_process::spawn("/bin/true", [] as [&str; 0], options) {
            Ok(child) => child,
            Err(e) => return failed.set(Some(e.to_string())),
        };
        let f = failed.clone();
        child.on_error(move |e| f.set(Some(e.to_string())));
        child.on_exit(move |status| {
            ok.set(ok.get() + u64::from(status.success()));
            if left > 1 {
                next(ok.clone(), left - 1, failed.clone());
            }
        });
    }
    let ok = Rc::new(Cell::new(0u64));
    let failed = Rc::new(Cell::new(None::<String>));
    let (o, f) = (ok.clone(), failed.clone());
    new_loop()?.run_main(move || next(o, n, f));
    if let Some(e) = failed.take() {
        return Err(e);
    }
    check("spawn_true", ok.get(), n)
}

/// A child `cat` of an n MiB file (made before timing) read to the end
/// through its stdout pipe (`data` events, as Node's).
fn pipe_throughput(n: u64) -> Result<Extra, String> {
    use evloop::child_process::{self, SpawnOptions, Stdio};
    let scratch = Scratch::new("pipe_throughput")?;
    let path = scratch.0.join("big.bin");
    {
        use std::io::Write;
        let chunk: Vec<u8> = (0..1u32 << 20).map(|i| i as u8).collect();
        let mut f = std::fs::File::create(&path).map_err(|e| e.to_string())?;
        for _ in 0..n {
            f.write_all(&chunk).map_err(|e| e.to_string())?;
        }
        f.sync_all().map_err(|e| e.to_string())?;
    }
    let file = path
        .to_str()
        .ok_or("the temp path is not UTF-8")?
        .to_owned();
    let total = Rc::new(Cell::new(0u64));
    let failed = Rc::new(Cell::new(None::<String>));
    let (t, f) = (total.clone(), failed.clone());
    let t0 = Instant::now();
    new_loop()?.run_main(move || {
        let options = SpawnOptions {
            stdio: [Stdio::Ignore, Stdio::Pipe, Stdio::Inherit],
            ..SpawnOptions::default()
        };
        let child = match child_process::spawn("cat", [file], options) {
            Ok(child) => child,
            Err(e) => return f.set(Some(e.to_string())),
        };
        child.on_error(move |e| f.set(Some(e.to_string())));
        if let Some(out) = child.stdout() {
            out.on_data(move |chunk| t.set(t.get() + chunk.len() as u64));
        }
    });
    let seconds = t0.elapsed().as_secs_f64();
    if let Some(e) = failed.take() {
        return Err(e);
    }
    check("pipe_throughput bytes", total.get(), n << 20)?;
    Ok(Extra {
        seconds: Some(seconds),
        fields: vec![("mib_per_sec", n as f64 / seconds)],
        ..Extra::default()
    })
}

/// The process sends itself SIGUSR2 and waits for its listener
/// (`process::on_signal`), n times; latency from `kill` to the listener,
/// which sends the next one.
fn signal_latency(n: u64) -> Result<Extra, String> {
    use evloop::process::{self, Signal};
    use std::cell::RefCell;
    fn raise() {
        // SAFETY: sends this process a signal it handles (the listener).
        unsafe { libc::kill(libc::getpid(), libc::SIGUSR2) };
    }
    let samples = Rc::new(RefCell::new(Vec::with_capacity(n as usize)));
    let failed = Rc::new(Cell::new(None::<String>));
    let (s, f) = (samples.clone(), failed.clone());
    new_loop()?.run_main(move || {
        let sent = Rc::new(Cell::new(Instant::now()));
        let slot = Rc::new(RefCell::new(None));
        let (st, sl) = (sent.clone(), slot.clone());
        let listener = match process::on_signal(Signal::Usr2, move |_| {
            s.borrow_mut().push(st.get().elapsed().as_secs_f64() * 1e6);
            if (s.borrow().len() as u64) < n {
                st.set(Instant::now());
                raise();
            } else {
                sl.borrow_mut().take(); // the last: the loop may end
            }
        }) {
            Ok(l) => l,
            Err(e) => return f.set(Some(e.to_string())),
        };
        listener.ref_(); // signal listeners do not keep the loop alive
        *slot.borrow_mut() = Some(listener);
        sent.set(Instant::now());
        raise();
    });
    if let Some(e) = failed.take() {
        return Err(e);
    }
    let mut samples = samples.take();
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

/// Create a one-shot, resolve it, await it; n times.
fn await_loop(n: u64) -> Result<Extra, String> {
    let sum = new_loop()?.run_async(async move {
        let mut sum = 0u64;
        for i in 0..n {
            let (resolver, value) = deferred();
            resolver.resolve(i);
            sum += value.await.map_err(|e| e.to_string())?;
        }
        Ok::<u64, String>(sum)
    })?;
    check("await_loop", sum, n * (n - 1) / 2)
}

/// One task yielding n times.
fn yield_chain(n: u64) -> Result<Extra, String> {
    let count = new_loop()?.run_async(async move {
        let mut count = 0;
        for _ in 0..n {
            yield_now().await;
            count += 1;
        }
        count
    });
    check("yield_chain", count, n)
}

/// A scratch directory for the fs workloads, removed on drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Result<Scratch, String> {
        let dir = std::env::temp_dir().join(format!("evloop-bench-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// 2,000 files of 4 KiB read concurrently with the future form; n reads in
/// rounds of 2,000. Files are made before timing starts... and the timed
/// part is measured inside, so the JSON `seconds` covers only the reads.
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
    let names = std::rc::Rc::new(names);
    let t0 = Instant::now();
    let total = new_loop()?.run_async(async move {
        let mut total = 0u64;
        for _ in 0..rounds {
            let tasks: Vec<_> = names
                .iter()
                .cloned()
                .map(|p| spawn(async move { evloop::fs::promises::read_file(p).await }))
                .collect();
            for t in tasks {
                total += t.await.map_err(|e| e.to_string())?.len() as u64;
            }
        }
        Ok::<u64, String>(total)
    })?;
    let seconds = t0.elapsed().as_secs_f64();
    let reads = rounds * FILES.min(n);
    check("fs_small bytes", total, reads * 4096)?;
    Ok(Extra {
        seconds: Some(seconds),
        fields: vec![("us_per_file", seconds * 1e6 / reads as f64)],
        ..Extra::default()
    })
}

/// One 64 MiB file read whole n times in sequence; each read is followed by
/// a `std::fs::read` of the same file on this thread, so both see the same
/// cache and machine state. Reports medians.
fn fs_big(n: u64) -> Result<Extra, String> {
    const SIZE: usize = 64 << 20;
    let scratch = Scratch::new("fs_big")?;
    let path = scratch.0.join("big.bin");
    std::fs::write(&path, vec![7u8; SIZE]).map_err(|e| e.to_string())?;
    let p = path.clone();
    let (ours, std_times) = new_loop()?.run_async(async move {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let t = Instant::now();
            let v = evloop::fs::promises::read_file(&p)
                .await
                .map_err(|e| e.to_string())?;
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
    })?;
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

/// A thread posts into the loop and waits for the reply, n times; beside a
/// plain std-thread channel ping-pong in the same run.
fn wake_latency(n: u64) -> Result<Extra, String> {
    use std::sync::mpsc;
    let lp = new_loop()?;
    let handle = lp.handle();
    let prober = std::thread::spawn(move || {
        let (reply_tx, reply_rx) = mpsc::channel::<()>();
        let mut samples = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let tx = reply_tx.clone();
            let t = Instant::now();
            handle
                .post(move || tx.send(()).expect("prober waits"))
                .expect("loop alive");
            reply_rx.recv().expect("loop replies");
            samples.push(t.elapsed().as_secs_f64() * 1e6);
        }
        samples
    });
    lp.run(evloop::RunMode::Default);
    let mut samples = prober.join().map_err(|_| "prober panicked")?;
    // Baseline: two std threads ping-ponging over std channels.
    let (to_echo, echo_rx) = mpsc::channel::<()>();
    let (to_main, main_rx) = mpsc::channel::<()>();
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

/// `bench echo_server`: prints `PORT PID`, then echoes on 127.0.0.1 (Node's
/// `net.createServer` + `setNoDelay`) until killed or for 120 s.
fn echo_server() {
    let lp = EventLoop::new().expect("event loop");
    lp.run_main(|| {
        let server = evloop::net::create_server(|socket| {
            let _ = socket.set_no_delay(true);
            let s = socket.clone();
            socket.on_data(move |chunk| {
                s.write(chunk.to_vec());
            });
        });
        let addr = server.listen("127.0.0.1:0").expect("listen");
        println!("{} {}", addr.port(), std::process::id());
        use std::io::Write;
        std::io::stdout().flush().expect("stdout");
        let _ = set_timeout(120_000, move || std::process::exit(0));
    });
}

/// CPU seconds (user + system) of another process, from /proc/PID/stat.
fn process_cpu(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    // After the command name: state is field 3; utime 14, stime 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn process_peak_rss_kb(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Starts `bench echo_server` as a child, then drives it from this process
/// with 50 connections (tasks on an evloop loop), 2,000 round trips of 64
/// bytes each (n = total round trips). `EVLOOP_ECHO_TARGET=PORT:PID` points
/// the client at another server instead (a peer's, for comparisons).
fn tcp_echo(n: u64) -> Result<Extra, String> {
    const CONNS: u64 = 50;
    let mut child = None;
    let (port, pid) = match std::env::var("EVLOOP_ECHO_TARGET") {
        Ok(t) => {
            let (p, pid) = t.split_once(':').ok_or("EVLOOP_ECHO_TARGET is PORT:PID")?;
            (
                p.parse::<u16>().map_err(|e| e.to_string())?,
                pid.parse::<u32>().map_err(|e| e.to_string())?,
            )
        }
        Err(_) => {
            use std::io::BufRead;
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let mut c = std::process::Command::new(exe)
                .arg("echo_server")
                .stdout(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| e.to_string())?;
            let mut line = String::new();
            std::io::BufReader::new(c.stdout.take().ok_or("no stdout")?)
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            let mut it = line.split_whitespace();
            let port = it
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or("bad PORT PID line")?;
            let pid = it
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or("bad PORT PID line")?;
            child = Some(c);
            (port, pid)
        }
    };
    let per_conn = n.div_ceil(CONNS);
    let cpu0 = cpu_seconds();
    let server0 = process_cpu(pid).ok_or("cannot read the server's CPU time")?;
    let t0 = Instant::now();
    let result = new_loop()?.run_async(async move {
        let mut conns = Vec::new();
        for _ in 0..CONNS {
            let s = evloop::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .map_err(|e| e.to_string())?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            conns.push(s);
        }
        let tasks: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(c, s)| {
                spawn(async move {
                    let msg = [c as u8; 64];
                    let mut buf = [0u8; 64];
                    for _ in 0..per_conn {
                        s.write_all(&msg).await?;
                        let mut got = 0;
                        while got < 64 {
                            let k = s.read(&mut buf[got..]).await?;
                            if k == 0 {
                                return Err(std::io::Error::other("server closed"));
                            }
                            got += k;
                        }
                        if buf != msg {
                            return Err(std::io::Error::other("echo mismatch"));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for t in tasks {
            t.await.map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    });
    let seconds = t0.elapsed().as_secs_f64();
    let server_cpu = process_cpu(pid).unwrap_or(server0) - server0;
    let client_cpu = cpu_seconds() - cpu0;
    let rss = process_peak_rss_kb(pid).unwrap_or(0);
    if let Some(mut c) = child {
        let _ = c.kill();
        let _ = c.wait();
    }
    result?;
    let trips = per_conn * CONNS;
    Ok(Extra {
        seconds: Some(seconds),
        fields: vec![
            ("server_cpu_s", server_cpu),
            ("client_cpu_s", client_cpu),
            ("server_us_per_trip", server_cpu * 1e6 / trips as f64),
            ("server_peak_rss_kb", rss as f64),
        ],
        ..Extra::default()
    })
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
