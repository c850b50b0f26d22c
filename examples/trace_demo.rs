//! Writes a Chrome trace of a small program and tells you how to open it.
//!
//! `cargo run --example trace_demo` (add `-- path.json` to choose the file).
//! Also shows the phase log (`EVLOOP_TRACE=1`), a snapshot of
//! the queues, event loop utilization and the delay histogram, and the
//! watchdog catching a callback that blocks the loop.

mod support;

use std::time::{Duration, Instant};

use evloop::{EventLoop, fs, next_tick, queue_work, set_immediate, set_timeout, spawn};

fn main() -> std::io::Result<()> {
    support::init();
    let path = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("evloop-trace.json"));
    let lp = EventLoop::builder()
        .trace_file(&path)
        .teaching(true)
        .watchdog(Duration::from_millis(100))
        .build()?;
    lp.run_main(|| {
        let monitor = evloop::monitor_event_loop_delay(Duration::from_millis(10));
        let _ = set_timeout(20, || println!("timer: 20 ms"));
        set_immediate(|| println!("immediate"));
        next_tick(|| println!("next tick"));
        fs::read_file(file!(), |r| {
            println!("fs callback: {} bytes", r.map(|d| d.len()).unwrap_or(0));
        });
        let _ = queue_work(
            || std::thread::sleep(Duration::from_millis(15)),
            |_| println!("pool job done"),
        );
        spawn(async {
            evloop::sleep(40).await;
            println!("task: slept 40 ms");
        })
        .detach();
        let snap = evloop::snapshot();
        println!("snapshot from the main script:");
        println!("  next ticks {}, timers {:?}", snap.next_ticks, snap.timers);
        println!(
            "  immediates {:?}, pool jobs queued or running {}",
            snap.immediates,
            snap.pool_queued + snap.pool_running
        );
        if let Some(labels) = &snap.labels {
            println!("  timers scheduled at {:?}", labels.timers);
        }
        // The pitfall the watchdog is for: CPU work on the loop.
        let _ = set_timeout(60, move || {
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(150) {}
            println!("blocked the loop for 150 ms (see the watchdog's warning)");
            let _ = set_timeout(10, move || {
                let elu = evloop::event_loop_utilization();
                println!(
                    "event loop utilization {:.2}; delay max {:.1} ms, mean {:.1} ms",
                    elu.utilization,
                    monitor.max() as f64 / 1e6,
                    monitor.mean() / 1e6
                );
                monitor.disable();
            });
        });
    });
    lp.write_trace()?;
    println!();
    println!("wrote {}", path.display());
    println!("open it at https://ui.perfetto.dev (\"Open trace file\") or in chrome://tracing:");
    println!("the loop's track shows each phase and, inside it, each callback named by");
    println!("where it was scheduled; arrows lead from a set_timeout/set_immediate call");
    println!("to the callback it caused; the pool thread's track shows its jobs.");
    Ok(())
}
