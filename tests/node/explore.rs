//! Exploration against Node (issue 22): for the scripts of
//! tests/node/explore/, whose output Node does not fix, every order Node
//! prints over several runs is one `evloop::explore` finds for the port.
//! (The reverse, that each explored order is one Node can print, is argued
//! per choice in design.md, "Seeded runs and exploration"; the suite's
//! tests/suite/explore.rs checks the orders found.) Without `node` on PATH
//! only the exploration is checked.

use std::collections::HashSet;
use std::process::Command;

use crate::common;
use crate::common::programs;

use evloop::{ExploreOptions, Recorder, explore};

/// `tests/node/explore/NAME.js` run `times` times by Node: the distinct
/// outputs; `None` without `node` on PATH.
fn node_orders(name: &str, times: usize) -> Option<HashSet<Vec<String>>> {
    let dir = common::node_dir("explore");
    let mut seen = HashSet::new();
    for _ in 0..times {
        let out = Command::new("node")
            .arg(format!("{name}.js"))
            .current_dir(&dir)
            .output()
            .ok()?;
        assert!(out.status.success(), "node {name}.js failed");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        seen.insert(text.lines().map(str::to_owned).collect());
    }
    Some(seen)
}

/// Explores `program` completely and asserts every order Node printed for
/// `name` is among its outcomes; returns how many outcomes.
fn node_prints_only_explored_orders(name: &str, program: impl Fn(&Recorder)) -> usize {
    let found = explore(ExploreOptions::default(), program);
    assert!(found.is_complete(), "{found}");
    let explored: HashSet<Vec<String>> = found
        .outcomes()
        .iter()
        .map(|o| o.lines().to_vec())
        .collect();
    match node_orders(name, 12) {
        Some(node) => {
            for order in node {
                assert!(
                    explored.contains(&order),
                    "Node printed {order:?}, not explored: {found}"
                );
            }
        }
        None => println!("{name}: node not on PATH, Node's orders not compared"),
    }
    found.outcomes().len()
}

/// tests/node/explore/main_timeout_vs_immediate.js.
#[test]
fn main_timeout_vs_immediate_orders_include_nodes() {
    let _w = common::watchdog();
    let n = node_prints_only_explored_orders(
        "main_timeout_vs_immediate",
        programs::main_timeout_vs_immediate,
    );
    assert_eq!(n, 2);
}

/// tests/node/explore/three_file_reads.js.
#[test]
fn three_file_reads_orders_include_nodes() {
    let _w = common::watchdog();
    let dir = programs::three_files("node");
    let n = node_prints_only_explored_orders("three_file_reads", |out| {
        programs::three_file_reads(&dir, out)
    });
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(n, 6);
}

/// tests/node/explore/late_timers.js: a late poll runs later timers in the
/// same pass (`ChoiceKind::PollLate`). Node here printed `A iA B C iB iC`
/// in 17 of 20 runs (the poll waiting for B woke a millisecond late, so C
/// was due too) and `A B iA iB C iC` in the other 3.
#[test]
fn late_timers_orders_include_nodes() {
    let _w = common::watchdog();
    let n = node_prints_only_explored_orders("late_timers", programs::late_timers);
    assert_eq!(n, 4);
}
