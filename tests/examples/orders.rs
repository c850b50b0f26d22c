//! How many legal orders each article snippet has: `tests/golden/orders.txt`
//! holds, for each `tests/golden/NAME.js`, the number of distinct orders
//! of lines (outputs that differ only in measured times count once) its
//! example gives under `EVLOOP_EXPLORE=RUNS` (each run a child process
//! with its own seed, in the snippet's golden environment, `NAME.env`), and
//! whether that tried every schedule. The test explores each again and
//! checks the table, and that what Node prints (the golden expectation:
//! `NAME.evloop.expect` where there is one, the exact virtual times, else
//! `NAME.expect` or `NAME.out`) is one of the explored outputs.
//!
//! A change to what the seeded mode explores changes the counts: the
//! failure message then holds the whole new table, to review and commit.

use crate::common;
use crate::golden::{
    build_examples, compare, env_of, evloop_expectation, examples_dir, expectation,
    for_every_snippet, hang_limit, run, snippets,
};

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

/// One row of the table.
#[derive(Debug, PartialEq, Eq, Clone)]
struct Row {
    outcomes: usize,
    complete: bool,
    runs: usize,
}

fn table() -> BTreeMap<String, Row> {
    let text = std::fs::read_to_string(common::root().join("tests/golden/orders.txt"))
        .expect("tests/golden/orders.txt");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 4, "orders.txt: {l:?}");
            let row = Row {
                outcomes: f[1].parse().expect(l),
                complete: match f[2] {
                    "complete" => true,
                    "sampled" => false,
                    _ => panic!("orders.txt: {l:?}: complete or sampled"),
                },
                runs: f[3].parse().expect(l),
            };
            (f[0].to_string(), row)
        })
        .collect()
}

/// The outputs of an `EVLOOP_EXPLORE` report, and whether it was complete.
fn outcomes(report: &str) -> Result<(bool, Vec<String>), String> {
    let mut lines = report.lines();
    let heading = lines.next().ok_or("an empty report")?;
    let complete = heading.contains(", every schedule tried;");
    let mut found = Vec::new();
    while let Some(header) = lines.next() {
        // "outcome 1: seed 0, 1 run(s), 2 line(s)[, exit status: 1]"
        let count: usize = header
            .split(", ")
            .find_map(|p| p.strip_suffix(" line(s)"))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("not an outcome heading: {header:?}\n{report}"))?;
        if header.contains("exit status") || header.contains("killed") || header.contains("signal")
        {
            return Err(format!(
                "a run did not exit with status 0: {header}\n{report}"
            ));
        }
        let mut output = String::new();
        for _ in 0..count {
            let line = lines.next().ok_or("a short outcome")?;
            output += line
                .strip_prefix("  ")
                .ok_or("an outcome line not indented")?;
            output += "\n";
        }
        found.push(output);
    }
    Ok((complete, found))
}

/// `out` with its measured times left out, so that outputs count as one
/// order when they differ only in times: each wall-clock timestamp
/// (`2026-11-26T05:49:36.682Z`, from `new Date().toISOString()`:
/// rate_limiter) becomes `<time>`, each number of milliseconds (`1000 ms`,
/// `1.5ms`) `<n> ms`. A loop that wakes late (`PollLate`) prints other
/// times in the same order; Node on a busy machine does too.
fn without_times(out: &str) -> String {
    let is_stamp = |s: &str| -> bool {
        let shape = b"dddd-dd-ddTdd:dd:dd.dddZ";
        s.as_bytes().get(..24).is_some_and(|b| {
            b.iter().zip(shape).all(|(c, k)| match k {
                b'd' => c.is_ascii_digit(),
                k => c == k,
            })
        })
    };
    let (mut text, mut i) = (String::new(), 0);
    while i < out.len() {
        let rest = &out[i..];
        if is_stamp(rest) {
            text += "<time>";
            i += 24;
            continue;
        }
        let digits = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let after = &rest[digits..];
        if digits > 0
            && rest.as_bytes()[0].is_ascii_digit()
            && (after.starts_with(" ms") || after.starts_with("ms"))
        {
            text += "<n> ms";
            i += digits + if after.starts_with(' ') { 3 } else { 2 };
            continue;
        }
        let c = rest.chars().next().unwrap();
        text.push(c);
        i += c.len_utf8();
    }
    text
}

/// Every snippet's count of legal orders is the table's, and what Node
/// prints is among them.
#[test]
fn every_snippet_has_its_recorded_number_of_legal_orders() {
    let _w = common::watchdog_for(Duration::from_secs(900));
    build_examples();
    let table = table();
    let measured = Mutex::new(BTreeMap::new());
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for_every_snippet(|name| check(name, &table, &measured));
    }));
    if let Err(failure) = checked {
        let mut text = String::new();
        for (name, row) in measured.lock().unwrap().iter() {
            let complete = if row.complete { "complete" } else { "sampled" };
            text += &format!("{name} {} {complete} {}\n", row.outcomes, row.runs);
        }
        let message = failure
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        panic!("{message}\nthe measured rows (for tests/golden/orders.txt):\n{text}");
    }
}

/// Explores snippet `name` with the table's budget; records what it found
/// in `measured`.
fn check(
    name: &str,
    table: &BTreeMap<String, Row>,
    measured: &Mutex<BTreeMap<String, Row>>,
) -> Result<(), String> {
    {
        let row = table
            .get(name)
            .ok_or_else(|| format!("{name}: no row in tests/golden/orders.txt"))?;
        // The parent process does what the example does before its loop
        // (a scratch folder in the temporary directory) and exits without
        // what comes after (removing it): a temporary directory of its own,
        // removed here, holds what it leaves.
        let tmp = std::env::temp_dir().join(format!("evloop-orders-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&tmp).map_err(|e| format!("{name}: {e}"))?;
        let mut cmd = Command::new(examples_dir().join(name));
        cmd.current_dir(common::root())
            .env("TMPDIR", &tmp)
            .env_remove("EVLOOP_SEED")
            .env("EVLOOP_EXPLORE", row.runs.to_string());
        for (k, v) in env_of(name) {
            cmd.env(k, v);
        }
        let report = run(cmd, hang_limit());
        let _ = std::fs::remove_dir_all(&tmp);
        let report = report.map_err(|e| format!("{name}: {e}"))?;
        let (complete, found) = outcomes(&report).map_err(|e| format!("{name}: {e}"))?;
        let distinct: std::collections::BTreeSet<String> =
            found.iter().map(|out| without_times(out)).collect();
        let got = Row {
            outcomes: distinct.len(),
            complete,
            runs: row.runs,
        };
        measured
            .lock()
            .unwrap()
            .insert(name.to_string(), got.clone());
        let expected = match evloop_expectation(name)? {
            Some(exact) => exact,
            None => expectation(name)?,
        };
        if !found
            .iter()
            .any(|out| compare(name, &expected, out).is_ok())
        {
            return Err(format!(
                "{name}: what Node prints is none of the explored outputs:\n{report}"
            ));
        }
        if got != *row {
            return Err(format!(
                "{name}: {got:?}, the table says {row:?}:\n{report}"
            ));
        }
        Ok(())
    }
}

/// The table names only snippets; times are left out of an order.
#[test]
fn the_orders_table_names_every_snippet_once() {
    let _w = common::watchdog();
    let names: Vec<String> = table().into_keys().collect();
    assert_eq!(names, snippets());
    assert_eq!(
        without_times("T a at 2026-11-26T05:49:36.682Z\nID 2 in 1100 ms, 1.5ms\nT 3 at T\n"),
        "T a at <time>\nID 2 in <n> ms, <n> ms\nT 3 at T\n"
    );
}
