//! The replay page (issue 17): `src/rt/trace/replay.html` with a recording
//! put in, opened in a real browser, Debian's `chromium` run headless.
//!
//! Until the recorder lands, the recording is a hand-made fixture,
//! `tests/examples/replay/sample.json`: a small run (the main script logs,
//! queues a timeout of 0, an immediate, a next tick, a microtask, an fs read
//! on the thread pool and a task awaiting another read) with the phases and
//! iterations Node would go through. The page is built as the recorder will
//! build it (the JSON, every `<` written `\u003c`, in place of the marker),
//! then chromium prints the DOM at a given step (`#step=N`), after replaying
//! key presses (`&keys=...`: r/l step forward/back, p/P next/previous phase,
//! o/O next/previous output line, b/e first/last step, s play/pause). A
//! synthetic run of 100,000 steps checks that a long recording stays usable.
//!
//! The tests need chromium: without it they fail, saying how to install it
//! (.ci/run does).

use crate::common;

use std::fs::File;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TEMPLATE: &str = include_str!("../../src/rt/trace/replay.html");
const MARKER: &str = "__EVLOOP_REPLAY_DATA__";
const SAMPLE: &str = include_str!("replay/sample.json");

/// The page for recording `json`, as the recorder writes it.
fn page(json: &str) -> String {
    assert_eq!(
        TEMPLATE.matches(MARKER).count(),
        1,
        "the template must hold the marker exactly once"
    );
    TEMPLATE.replacen(MARKER, &json.replace('<', "\\u003c"), 1)
}

/// target/tmp: the pages, chromium's profiles and outputs.
fn tmp_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// Writes `html` to target/tmp/NAME.html and returns its path.
fn write_page(name: &str, html: &str) -> PathBuf {
    let path = tmp_dir().join(format!("{name}.html"));
    std::fs::write(&path, html).unwrap();
    path
}

fn file_url(path: &Path, fragment: &str) -> String {
    let p = path.display().to_string();
    let p = p
        .replace('%', "%25")
        .replace(' ', "%20")
        .replace('#', "%23");
    format!("file://{p}#{fragment}")
}

/// Runs chromium headless on `url` with `extra` arguments and a fresh
/// profile, and returns what it printed. Killed (its whole process group)
/// after 60 s times the slowdown factor.
fn chromium(url: &str, extra: &[&str]) -> String {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    let base = tmp_dir().join(format!("chromium-{}-{n}", std::process::id()));
    let profile = base.with_extension("profile");
    let _ = std::fs::remove_dir_all(&profile);
    let out_path = base.with_extension("out");
    let err_path = base.with_extension("err");
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(url)
    .stdout(File::create(&out_path).unwrap())
    .stderr(File::create(&err_path).unwrap())
    .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "chromium not found: the replay page tests open the page in Debian's \
             chromium, headless. Install it (as root): apt-get update && apt-get \
             install -y --no-install-recommends chromium (.ci/run does)"
        ),
        Err(e) => panic!("cannot run chromium: {e}"),
    };
    let limit = Duration::from_secs(60) * common::slowdown();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            // The browser and the processes it started (its group).
            // SAFETY: kill(2) on the group of the child we spawned.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            panic!("chromium still running after {limit:?} on {url}: killed");
        }
        // sleep: polls the child for its exit (std has no wait with a
        // timeout); what the page shows does not depend on when we look.
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = std::fs::read_to_string(&out_path).unwrap();
    let err = std::fs::read_to_string(&err_path).unwrap();
    assert!(
        status.success(),
        "chromium failed ({status}) on {url}:\n{err}"
    );
    for path in [&out_path, &err_path] {
        let _ = std::fs::remove_file(path);
    }
    let _ = std::fs::remove_dir_all(&profile);
    out
}

/// The DOM of `page` at `fragment` (`step=N&keys=...`).
fn dom_at(page: &Path, fragment: &str) -> Dom {
    dom_after(page, fragment, &[])
}

/// [`dom_at`] with more chromium arguments.
fn dom_after(page: &Path, fragment: &str, extra: &[&str]) -> Dom {
    let mut args = vec!["--dump-dom"];
    args.extend_from_slice(extra);
    let dom = chromium(&file_url(page, fragment), &args);
    assert!(dom.contains("id=\"step-desc\""), "no page in:\n{dom}");
    Dom(dom)
}

/// A DOM as chromium serialises it, with just enough HTML reading for the
/// assertions: elements by id, start tags and their attributes, text.
struct Dom(String);

impl Dom {
    /// The outer HTML of the element with id `id`.
    fn element(&self, id: &str) -> &str {
        let html = &self.0;
        let at = html
            .find(&format!(" id=\"{id}\""))
            .unwrap_or_else(|| panic!("no element #{id}"));
        let open = html[..at].rfind('<').unwrap();
        let tag = tag_name(&html[open + 1..]);
        let mut depth = 0;
        for (i, _) in html[open..].match_indices('<') {
            let rest = &html[open + i + 1..];
            let closing = rest.starts_with('/');
            if tag_name(rest.trim_start_matches('/')) != tag {
                continue;
            }
            if !closing {
                depth += 1;
                continue;
            }
            depth -= 1;
            if depth == 0 {
                return &html[open..open + i + 1 + rest.find('>').unwrap() + 1];
            }
        }
        panic!("#{id} is not closed")
    }

    /// The text of the element with id `id`, whitespace squeezed.
    fn text(&self, id: &str) -> String {
        text_of(self.element(id))
    }

    /// The texts of the boxes' labels inside `id` (`<span class="label">`).
    fn labels(&self, id: &str) -> Vec<String> {
        class_texts(self.element(id), "label")
    }

    /// The `data-phase` of the lit phases of the ring, or `ring-hub` when
    /// its hub is lit (in the main script, after the exit).
    fn lit_phases(&self) -> Vec<String> {
        start_tags(self.element("phase-ring"))
            .filter(|t| has_class(t, "lit"))
            .map(|t| attr(t, "data-phase").or_else(|| attr(t, "id")).unwrap())
            .collect()
    }

    /// The step the page is at (`#pos`'s data-step).
    fn step(&self) -> usize {
        let tag = start_tags(self.element("pos")).next().unwrap();
        attr(tag, "data-step").unwrap().parse().unwrap()
    }

    /// The lines of the source pane that have class `cls`.
    fn source_lines(&self, cls: &str) -> Vec<usize> {
        start_tags(self.element("source"))
            .filter(|t| has_class(t, cls) && has_class(t, "src-line"))
            .map(|t| attr(t, "data-line").unwrap().parse().unwrap())
            .collect()
    }

    /// The output pane's lines.
    fn output(&self) -> Vec<String> {
        class_texts(self.element("output"), "out-line")
    }
}

fn tag_name(s: &str) -> &str {
    let end = s
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(s.len());
    &s[..end]
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(&out.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Every start tag (`<name ...>`) in `html`.
fn start_tags(html: &str) -> impl Iterator<Item = &str> {
    html.match_indices('<')
        .filter(|(i, _)| html[i + 1..].starts_with(|c: char| c.is_ascii_alphabetic()))
        .map(|(i, _)| &html[i..i + html[i..].find('>').unwrap() + 1])
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(unescape(&tag[at..at + tag[at..].find('"')?]))
}

fn has_class(tag: &str, cls: &str) -> bool {
    attr(tag, "class").is_some_and(|c| c.split_whitespace().any(|c| c == cls))
}

/// The texts of the elements of class `cls` (elements holding only text).
fn class_texts(html: &str, cls: &str) -> Vec<String> {
    html.match_indices('<')
        .filter_map(|(i, _)| {
            let tag = start_tags(&html[i..]).next()?;
            if !html[i..].starts_with(tag) || !has_class(tag, cls) {
                return None;
            }
            let body = &html[i + tag.len()..];
            Some(unescape(&body[..body.find('<').unwrap_or(body.len())]))
        })
        .collect()
}

/// The sample's steps.
fn sample_steps() -> Vec<Value> {
    let v: Value = serde_json::from_str(SAMPLE).unwrap();
    v["steps"].as_array().unwrap().clone()
}

/// The position (1-based: steps applied) of the first sample step matching
/// `f`.
fn pos_of(steps: &[Value], f: impl Fn(&Value) -> bool) -> usize {
    steps.iter().position(f).expect("a matching step") + 1
}

fn sample_page(name: &str) -> PathBuf {
    write_page(name, &page(SAMPLE))
}

#[test]
fn the_page_loads_nothing_from_outside() {
    let _w = common::watchdog();
    let lower = TEMPLATE.to_ascii_lowercase();
    for bad in [
        "http:",
        "https:",
        "src=",
        "href=",
        "@import",
        "@font-face",
        "url(",
        "<link",
        "<img",
        "<iframe",
        "fetch(",
        "xmlhttprequest",
        "websocket",
        "import(",
    ] {
        assert!(!lower.contains(bad), "the template contains {bad:?}");
    }
    // The data cannot end its <script> early: a `<` in the JSON is escaped.
    let json = r#"{"format":1,"files":[],"sites":[],"loops":[{"id":1,"name":"main"}],
        "steps":[{"l":1,"t":0,"ms":0,"k":"out","text":"</script><b>x</b>"}]}"#;
    let html = page(json);
    assert_eq!(html.matches("</script>").count(), 2, "{html}");
    assert!(html.contains(r"\u003c/script>\u003cb>x\u003c/b>"));
}

#[test]
fn the_page_shows_the_queues_stack_and_phase_of_each_step() {
    let _w = common::watchdog_for(Duration::from_secs(300));
    let steps = sample_steps();
    let page = sample_page("replay-sample-states");

    // The main script has queued one of each and runs on.
    let at = pos_of(&steps, |s| s["text"] == "main: end");
    let dom = dom_at(&page, &format!("step={at}"));
    assert_eq!(dom.step(), at);
    assert_eq!(dom.text("step-desc"), r#"the program prints: "main: end""#);
    assert_eq!(dom.labels("stack"), ["main script"]);
    assert_eq!(dom.labels("q-tick"), ["one_turn.rs:21"]);
    assert_eq!(dom.labels("q-micro"), ["one_turn.rs:20"]);
    assert_eq!(dom.labels("q-timer"), ["one_turn.rs:9"]);
    assert!(dom.text("q-timer").contains("due 1 ms"));
    assert!(dom.text("n-timer").contains("now 0 ms"));
    // Named after it was queued: the name is its label.
    assert_eq!(dom.labels("q-immediate"), ["hello"]);
    assert!(dom.labels("q-pending").is_empty());
    assert!(dom.labels("q-close").is_empty());
    assert_eq!(dom.lit_phases(), ["ring-hub"]);
    assert!(dom.text("ring-hub").contains("main script"));
    assert_eq!(dom.output(), ["main: start", "main: end"]);
    assert_eq!(dom.source_lines("lit"), [7], "main's site: evloop::run");
    assert_eq!(dom.labels("pool"), ["one_turn.rs:11", "one_turn.rs:16"]);
    assert!(dom.text("pool").contains("thread 0 one_turn.rs:11 job 1"));

    // spawn polls the task at once, on top of the main script.
    let at = pos_of(&steps, |s| s["q"] == "call");
    let dom = dom_at(&page, &format!("step={at}"));
    assert_eq!(dom.labels("stack"), ["poll task 1", "main script"]);
    assert!(
        dom.text("step-desc")
            .contains("task 1's first poll runs at once"),
        "{}",
        dom.text("step-desc")
    );

    // Iteration 2: the timer is due and runs in the timers phase.
    let at = pos_of(&steps, |s| s["k"] == "run" && s["q"] == "timer");
    let dom = dom_at(&page, &format!("step={at}"));
    assert_eq!(
        dom.text("step-desc"),
        "timers phase: the timer scheduled at one_turn.rs:9 runs (due at 1 ms, now 1 ms)"
    );
    assert_eq!(dom.lit_phases(), ["timers"]);
    assert!(dom.text("ring-hub").contains("iteration 2"));
    assert_eq!(dom.labels("stack"), ["one_turn.rs:9"]);
    assert!(dom.labels("q-timer").is_empty());
    assert_eq!(dom.source_lines("lit"), [9]);
    assert_eq!(dom.labels("pool-done"), ["one_turn.rs:11"]);

    // The second read's callback woke the task: its poll is a microtask.
    let at = pos_of(&steps, |s| s["k"] == "push" && s["task"] == 1);
    let dom = dom_at(&page, &format!("step={at}"));
    assert_eq!(dom.labels("q-micro"), ["poll task 1"]);
    assert_eq!(dom.lit_phases(), ["poll"]);
    assert_eq!(dom.labels("stack"), ["one_turn.rs:16"]);
    assert!(dom.text("stack").contains("pool job callback"));
    assert_eq!(
        dom.text("step-desc"),
        "task 1 is woken: its poll is queued as a microtask (task from one_turn.rs:15)"
    );
}

#[test]
fn key_presses_in_the_url_move_the_page() {
    let _w = common::watchdog_for(Duration::from_secs(300));
    let steps = sample_steps();
    let page = sample_page("replay-sample-keys");

    // Three steps forward, one back.
    let at = pos_of(&steps, |s| s["text"] == "main: end");
    let dom = dom_at(&page, &format!("step={at}&keys=rrrl"));
    assert_eq!(dom.step(), at + 2);
    assert_eq!(
        dom.labels("stack"),
        ["one_turn.rs:21"],
        "the next tick runs"
    );
    assert!(dom.labels("q-tick").is_empty());
    assert_eq!(
        dom.text("step-desc"),
        "main script: the next tick scheduled at one_turn.rs:21 runs \
         (next ticks drain first whenever the stack empties)"
    );

    // p: the next phase (the main script's, then the loop's first two).
    let dom = dom_at(&page, "step=0&keys=ppp");
    assert_eq!(dom.lit_phases(), ["pending"]);
    assert!(dom.text("ring-hub").contains("iteration 1"));
    assert!(
        dom.text("step-desc")
            .starts_with("iteration 1: the loop enters the pending phase")
    );

    // o: the next output line; O: the one before.
    let dom = dom_at(&page, "step=0&keys=ooooO");
    assert_eq!(dom.output(), ["main: start", "main: end", "next tick"]);
    assert_eq!(dom.text("step-desc"), r#"the program prints: "next tick""#);
    assert!(dom.element("output").contains("out-line new"));

    // e: the end. The loop has exited, every line is out, all is empty.
    let dom = dom_at(&page, "step=3&keys=e");
    assert_eq!(dom.step(), steps.len());
    assert_eq!(dom.lit_phases(), ["ring-hub"]);
    assert!(dom.text("ring-hub").contains("exited"));
    assert_eq!(
        dom.output(),
        [
            "main: start",
            "main: end",
            "next tick",
            "microtask",
            "immediate",
            "timeout",
            "read: 23 bytes",
            "immediate after read",
            "task: 23 bytes",
        ]
    );
    for id in [
        "stack",
        "q-tick",
        "q-micro",
        "q-timer",
        "q-pending",
        "q-immediate",
        "q-close",
        "pool",
    ] {
        assert!(dom.labels(id).is_empty(), "#{id}: {:?}", dom.labels(id));
    }
    assert_eq!(
        dom.text("step-desc"),
        "the loop exits: nothing is left that keeps it alive"
    );

    // b: back to before the first step.
    let dom = dom_at(&page, "step=20&keys=b");
    assert_eq!(dom.step(), 0);
    assert!(dom.output().is_empty());

    // s: play (4 steps a second). Chromium's virtual time runs the page's
    // timers for 2 s before it prints the DOM, whatever the machine's load.
    let dom = dom_after(&page, "step=5&keys=s", &["--virtual-time-budget=2000"]);
    assert!((6..=20).contains(&dom.step()), "at step {}", dom.step());
    assert_eq!(dom.text("play"), "⏸ pause");
    // Played to the end, it stops.
    let dom = dom_after(&page, "step=60&keys=s", &["--virtual-time-budget=10000"]);
    assert_eq!(dom.step(), steps.len());
    assert_eq!(dom.text("play"), "▶ play");

    // The template alone (no recording put in) says so.
    let template = crate::common::root().join("src/rt/trace/replay.html");
    let dom = chromium(&file_url(&template, ""), &["--dump-dom"]);
    assert!(dom.contains("id=\"no-data\""), "{dom}");
}

/// A screenshot at the step where the main script has queued one of each
/// (kept as target/replay-screenshot.png; docs/replay.png is a copy).
#[test]
fn a_screenshot_of_the_page() {
    let _w = common::watchdog_for(Duration::from_secs(120));
    let steps = sample_steps();
    let page = sample_page("replay-sample-screenshot");
    let at = pos_of(&steps, |s| s["k"] == "push" && s["q"] == "tick");
    let shot = tmp_dir().parent().unwrap().join("replay-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    chromium(
        &file_url(&page, &format!("step={at}")),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,900",
            "--hide-scrollbars",
        ],
    );
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
}

/// A synthetic recording of `n` steps over two loops: loop 1 keeps 2,500
/// timers (each re-armed when it runs), runs a pool job and an immediate
/// per iteration, every 500 iterations queues 300 immediates at once, and
/// prints a line per timer (some with `</script>` in them); loop 2 (a
/// worker) runs a posted message per iteration. Cut at `n` steps, like the
/// recorder's step cap.
fn synthetic(n: usize) -> String {
    let mut steps: Vec<Value> = Vec::with_capacity(n + 16);
    let mut t = 0.0f64;
    let mut push = |steps: &mut Vec<Value>, mut v: Value| {
        t += 1.5;
        v["t"] = json!(t);
        steps.push(v);
    };
    let sites = json!([[0, 5], [0, 7], [0, 9], [0, 11], [0, 13], [1, 4]]);
    let mut timers = std::collections::BTreeMap::new(); // (due, seq) -> id
    let mut seq = 0u64;
    let mut ms = 0u64;
    push(
        &mut steps,
        json!({"l": 1, "ms": 0, "k": "phase", "p": "main", "i": 0}),
    );
    push(
        &mut steps,
        json!({"l": 1, "ms": 0, "k": "run", "q": "main", "id": 0, "s": 0}),
    );
    for id in 1..=2500u64 {
        let due = 1 + (id * 7919) % 3000;
        timers.insert((due, seq), id);
        seq += 1;
        push(
            &mut steps,
            json!({"l": 1, "ms": 0, "k": "push", "q": "timer", "id": id, "s": 1, "due": due}),
        );
    }
    push(&mut steps, json!({"l": 1, "ms": 0, "k": "ret"}));
    let mut imm = 10_000u64;
    let mut iter = 0u64;
    while steps.len() < n {
        iter += 1;
        ms += 1;
        let p = |p: &str| json!({"l": 1, "ms": ms, "k": "phase", "p": p, "i": iter});
        push(&mut steps, p("timers"));
        while let Some((&(due, s), &id)) = timers.iter().next() {
            if due > ms {
                break;
            }
            timers.remove(&(due, s));
            push(
                &mut steps,
                json!({"l": 1, "ms": ms, "k": "run", "q": "timer", "id": id, "s": 1}),
            );
            let text = if id % 97 == 0 {
                format!("timer {id} at {ms} ms </script><b>not bold</b>")
            } else {
                format!("timer {id} at {ms} ms")
            };
            push(
                &mut steps,
                json!({"l": 1, "ms": ms, "k": "out", "text": text}),
            );
            let due = ms + 1 + (id * 31) % 3000;
            timers.insert((due, seq), id);
            seq += 1;
            push(
                &mut steps,
                json!({"l": 1, "ms": ms, "k": "push", "q": "timer", "id": id, "s": 1, "due": due}),
            );
            push(&mut steps, json!({"l": 1, "ms": ms, "k": "ret"}));
        }
        push(&mut steps, p("pending"));
        push(&mut steps, p("idle"));
        push(&mut steps, p("poll"));
        let job = iter;
        push(
            &mut steps,
            json!({"l": 1, "ms": ms, "k": "job", "ev": "queued", "id": job, "s": 3}),
        );
        push(
            &mut steps,
            json!({"l": 1, "ms": ms, "k": "job", "ev": "start", "id": job, "s": 3, "th": iter % 4}),
        );
        push(
            &mut steps,
            json!({"l": 1, "ms": ms, "k": "wait", "timeout": 1}),
        );
        push(
            &mut steps,
            json!({"l": 1, "ms": ms, "k": "job", "ev": "done", "id": job, "s": 3, "th": iter % 4}),
        );
        push(
            &mut steps,
            json!({"l": 1, "ms": ms, "k": "wake", "waited": 0}),
        );
        push(
            &mut steps,
            json!({"l": 1, "ms": ms, "k": "run", "q": "pool", "id": job, "s": 3}),
        );
        let burst = if iter.is_multiple_of(500) { 300 } else { 1 };
        for _ in 0..burst {
            imm += 1;
            push(
                &mut steps,
                json!({"l": 1, "ms": ms, "k": "push", "q": "immediate", "id": imm, "s": 2}),
            );
        }
        push(&mut steps, json!({"l": 1, "ms": ms, "k": "ret"}));
        push(&mut steps, p("check"));
        for id in imm + 1 - burst..=imm {
            push(
                &mut steps,
                json!({"l": 1, "ms": ms, "k": "run", "q": "immediate", "id": id, "s": 2}),
            );
            push(&mut steps, json!({"l": 1, "ms": ms, "k": "ret"}));
        }
        push(&mut steps, p("close"));
        // The worker's loop: a message posted to it runs in its poll phase.
        let w = |k: Value| {
            let mut k = k;
            k["l"] = json!(2);
            k["ms"] = json!(iter);
            k
        };
        push(&mut steps, w(json!({"k": "phase", "p": "poll", "i": iter})));
        push(&mut steps, w(json!({"k": "post", "id": iter, "s": 5})));
        push(
            &mut steps,
            w(json!({"k": "run", "q": "post", "id": iter, "s": 5})),
        );
        push(
            &mut steps,
            w(json!({"k": "out", "text": format!("worker: message {iter}")})),
        );
        push(&mut steps, w(json!({"k": "ret"})));
    }
    steps.truncate(n);
    json!({
        "format": 1,
        "program": "synthetic",
        "files": [
            {"path": "examples/synthetic.rs", "text": "// synthetic\n".repeat(20)},
            {"path": "examples/worker.rs", "text": null}
        ],
        "sites": sites,
        "loops": [{"id": 1, "name": "main"}, {"id": 2, "name": "worker 1"}],
        "truncated": true,
        "steps": steps,
    })
    .to_string()
}

/// The page's own timings (`#perf`'s data-*), in ms.
fn perf(dom: &Dom, what: &str) -> f64 {
    let tag = start_tags(dom.element("perf")).next().unwrap();
    attr(tag, &format!("data-{what}-ms"))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_run_of_100_000_steps_stays_usable() {
    let _w = common::watchdog_for(Duration::from_secs(300));
    const N: usize = 100_000;
    let json = synthetic(N);
    let html = page(&json);
    let page = write_page("replay-100k", &html);
    println!("100k-step page: {} bytes ({})", html.len(), page.display());

    // Straight to the end (no checkpoint yet), then two steps back.
    let start = Instant::now();
    let dom = dom_at(&page, &format!("step={N}&keys=ll"));
    let wall = start.elapsed();
    println!(
        "open at step {N} then ←←: chromium ran {wall:?}; in the page: loaded at {} ms, \
         parse {} ms, jump {} ms, keys {} ms, draw {} ms",
        perf(&dom, "load"),
        perf(&dom, "parse"),
        perf(&dom, "jump"),
        perf(&dom, "keys"),
        perf(&dom, "draw")
    );
    assert_eq!(dom.step(), N - 2);
    // Two steps back from the end of 100,000 replay from a checkpoint, not
    // from the start: the work, not the time (which a busy machine can
    // stretch), is what is asserted.
    let perf_tag = start_tags(dom.element("perf")).next().unwrap();
    let applied: usize = attr(perf_tag, "data-keys-applied")
        .unwrap()
        .parse()
        .unwrap();
    assert!(applied < N / 10, "two steps back applied {applied} steps");
    // The lists are cut: 200 timers shown of 2,500, the last 500 lines.
    let timers: usize = dom.text("n-timer")[1..]
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(timers >= 2499, "{timers}");
    assert_eq!(dom.labels("q-timer").len(), 200);
    assert!(
        dom.text("q-timer")
            .contains(&format!("+{} more", timers - 200))
    );
    let out = dom.output();
    assert_eq!(out.len(), 500);
    assert!(dom.text("output").contains("earlier lines not shown"));
    // Two loops: a tab for each.
    let tabs: Vec<String> = class_texts(dom.element("loops"), "loop-tab");
    assert_eq!(tabs, ["main", "worker 1"]);

    // The middle, then back and forth: at most a checkpoint's worth of
    // steps each; the burst of immediates is cut at 200 boxes.
    let data: Value = serde_json::from_str(&json).unwrap();
    let steps = data["steps"].as_array().unwrap();
    let burst = {
        // The check phase after the first burst of 300 immediates.
        let first = steps
            .windows(2)
            .position(|w| w.iter().all(|s| s["k"] == "push" && s["q"] == "immediate"))
            .unwrap();
        first + pos_of(&steps[first..], |s| s["p"] == "check")
    };
    let dom = dom_at(&page, &format!("step={burst}&keys=rrl"));
    assert_eq!(dom.step(), burst + 1);
    assert_eq!(dom.lit_phases(), ["check"]);
    assert_eq!(dom.labels("q-immediate").len(), 200);
    assert!(dom.text("q-immediate").contains("+99 more"));
    // A line with `</script>` in it is text, not markup.
    let dom = dom_at(&page, "step=50000&keys=e");
    assert!(dom.text("banner").contains("step cap"));
    assert!(
        dom.output()
            .iter()
            .any(|l| l.ends_with("</script><b>not bold</b>")),
        "{:?}",
        &dom.output()[..5]
    );
    println!(
        "open at step 50000 then End: in the page: loaded at {} ms, parse {} ms, jump {} ms, \
         keys {} ms",
        perf(&dom, "load"),
        perf(&dom, "parse"),
        perf(&dom, "jump"),
        perf(&dom, "keys")
    );
}

/// A real recording, not the fixture: the article's first asynchronous
/// example run with `EVLOOP_REPLAY` (on virtual time, so the second it
/// waits costs nothing), opened in chromium.
#[test]
fn a_recorded_run_steps_through_in_the_browser() {
    // Building the example may wait for cargo's lock on a busy machine.
    let _w = common::watchdog_for(Duration::from_secs(600));
    let page = tmp_dir().join("replay-recorded.html");
    crate::replay::run_set_timeout_order(&[("EVLOOP_REPLAY", page.as_os_str())]);
    let html = std::fs::read_to_string(&page).expect("the page was written");
    let steps: Vec<Value> = crate::replay::recording(&html)["steps"]
        .as_array()
        .unwrap()
        .clone();
    let line = |needle: &str| {
        let text = include_str!("../../examples/set_timeout_order.rs");
        1 + text.lines().position(|l| l.contains(needle)).unwrap()
    };
    let timer = format!("set_timeout_order.rs:{}", line("evloop::set_timeout(1000"));

    // The main script has printed "End": the timer waits, due at 1000 ms.
    let at = pos_of(&steps, |s| s["text"] == "End");
    let dom = dom_at(&page, &format!("step={at}"));
    assert_eq!(dom.labels("stack"), ["main script"]);
    assert_eq!(dom.labels("q-timer"), [timer.as_str()]);
    assert!(dom.text("q-timer").contains("due 1000 ms"));
    assert_eq!(dom.output(), ["Start", "End"]);
    // The source was captured: the main script's line is lit.
    assert_eq!(dom.source_lines("lit"), [line("evloop::run(")]);

    // The timer runs in the timers phase of the second iteration.
    let at = pos_of(&steps, |s| s["k"] == "run" && s["q"] == "timer");
    let dom = dom_at(&page, &format!("step={at}"));
    assert_eq!(dom.lit_phases(), ["timers"]);
    assert_eq!(dom.labels("stack"), [timer.as_str()]);
    assert!(dom.labels("q-timer").is_empty());

    // From the start, "next output" three times: the timer's line.
    let dom = dom_at(&page, "step=0&keys=ooo");
    assert_eq!(dom.output(), ["Start", "End", "Timer finished"]);
}
