//! Ports of `tests/node/dns/*.js`: name lookup (`dns.lookup`) on evloop's
//! thread pool, asserting the lines Node printed, and the lookups' results
//! and errors.

use crate::common;

use crate::common::{check, node_expected, say};

use std::net::{IpAddr, Ipv4Addr};

use evloop::dns::{self, Family};
use evloop::{next_tick, queue_microtask, set_immediate, set_timeout};

/// Node's `(err, address, family)` line.
fn line(what: &str, r: std::io::Result<IpAddr>) -> String {
    let ip = r.expect("resolves");
    let family = if ip.is_ipv4() { 4 } else { 6 };
    format!("{what} null {ip} {family}")
}

#[test]
fn order() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("dns", "order");
    check(name, out, || {
        dns::lookup("127.0.0.1", Family::Any, |r| say(line("literal", r)));
        dns::lookup("localhost", Family::V4, |r| {
            say(line("localhost v4", r));
            set_immediate(|| say("immediate after lookup"));
            set_timeout(0, || say("timeout after lookup"));
        });
        next_tick(|| say("tick"));
        queue_microtask(|| say("microtask"));
        say("main end");
    });
}

/// `all: true` and the futures form; each address once.
#[test]
fn lookup_all_and_promises() {
    let _w = common::watchdog();
    evloop::run_async(async {
        let all = dns::promises::lookup_all("localhost", Family::V4)
            .await
            .unwrap();
        assert!(all.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)), "{all:?}");
        let mut unique = all.clone();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
        assert!(all.iter().all(IpAddr::is_ipv4));
        let one = dns::promises::lookup("127.0.0.1", Family::V4)
            .await
            .unwrap();
        assert_eq!(one, IpAddr::V4(Ipv4Addr::LOCALHOST));
    });
}

/// Bad input and names that do not resolve: Node's error text, on the
/// callback, never a panic.
#[test]
fn errors_are_nodes() {
    let _w = common::watchdog();
    evloop::run(|| {
        dns::lookup("local\0host", Family::Any, |r| {
            let e = r.unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
            assert!(e.to_string().starts_with("getaddrinfo EINVAL"), "{e}");
            say("nul refused");
        });
        dns::lookup("::1", Family::V4, |r| {
            let e = r.unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
            say("wrong family refused");
        });
        // `.invalid` never resolves; without a network the resolver may
        // say it could not ask (EAI_AGAIN) rather than that the name does
        // not exist.
        dns::lookup("nosuch.invalid", Family::Any, |r| {
            let e = r.unwrap_err().to_string();
            assert!(
                e == "getaddrinfo ENOTFOUND nosuch.invalid"
                    || e == "getaddrinfo EAI_AGAIN nosuch.invalid",
                "{e}"
            );
            say("unknown name refused");
        });
    });
    let mut lines = common::take_lines();
    lines.sort();
    assert_eq!(
        lines,
        [
            "nul refused",
            "unknown name refused",
            "wrong family refused"
        ]
    );
}

#[test]
fn every_node_scenario_is_ported() {
    let _w = common::watchdog();
    common::check_every_scenario_ported("dns", include_str!("dns.rs"));
}

/// Re-runs every JS scenario with `node` (when on PATH) and checks the
/// recorded `.out` files are still what it prints.
#[test]
fn node_outputs_are_current() {
    let _w = common::watchdog();
    common::check_node_outputs("dns", 1);
}
