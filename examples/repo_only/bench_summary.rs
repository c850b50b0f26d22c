//! Summarises the side-by-side benchmark suite's JSON lines
//! (`bench/run.sh` writes them to `bench/results/results-DATE.jsonl`):
//!
//! ```sh
//! cargo run --release --example bench_summary -- RESULTS.jsonl [SVG_DIR]
//! ```
//!
//! prints markdown: an overview (one row per workload: each system's median
//! time per operation and evloop's ratio to each peer), then a table per
//! workload (median, extra figures, runs that succeeded, peak RSS, CPU, and
//! "others' load": the most cores other processes kept busy just before one
//! of the runs, as bench/run.sh records in `machine_busy`). With
//! `SVG_DIR` it also writes one hand-written SVG bar chart per workload
//! family there and links them as `SVG_DIR/FAMILY.svg`.
//!
//! A run that failed is shown as `error: ...` and a system with no line as
//! `missing`; neither ever counts as zero. Medians are over the runs that
//! succeeded, and a cell says `k/N ok` when some of the N runs did not.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The systems always shown, in this order; others found in the file follow.
const SYSTEMS: &[&str] = &["evloop", "node", "tokio"];

/// One JSON line: a run that printed its figures, or one that failed.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    workload: String,
    system: String,
    outcome: Result<BTreeMap<String, f64>, String>,
}

/// Parses one line of the flat format; `None` for a line that is not a JSON
/// object with `workload` and `system`.
fn parse_line(line: &str) -> Option<Run> {
    let value: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    let obj = value.as_object()?;
    let workload = obj.get("workload")?.as_str()?.to_string();
    let system = obj.get("system")?.as_str()?.to_string();
    let outcome = match obj.get("error") {
        Some(e) => Err(e.as_str().map_or_else(|| e.to_string(), str::to_string)),
        None => Ok(obj
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
            .collect()),
    };
    Some(Run {
        workload,
        system,
        outcome,
    })
}

/// Parses a whole file: the runs, and the non-blank lines that were not runs.
fn parse_runs(text: &str) -> (Vec<Run>, Vec<String>) {
    let (mut runs, mut bad) = (Vec::new(), Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match parse_line(line) {
            Some(run) => runs.push(run),
            None => bad.push(line.to_string()),
        }
    }
    (runs, bad)
}

type Fields = BTreeMap<String, f64>;

/// One figure computed from a run's fields.
struct Metric {
    label: &'static str,
    unit: &'static str,
    higher_is_better: bool,
    get: fn(&Fields) -> Option<f64>,
}

/// How a workload is judged: its primary figure (used for ratios and
/// charts), further figures, and the chart it belongs to.
struct Spec {
    workload: &'static str,
    family: &'static str,
    primary: Metric,
    extras: &'static [Metric],
    /// The field holding the peak RSS and the CPU seconds to show.
    rss_field: &'static str,
    cpu_field: &'static str,
}

fn field(f: &Fields, name: &str) -> Option<f64> {
    f.get(name).copied().filter(|v| v.is_finite())
}

/// `total` divided by the run's `n`, times `scale` (1e9 for ns, 1e6 for µs).
fn per_op(f: &Fields, total: &str, scale: f64) -> Option<f64> {
    let (t, n) = (field(f, total)?, field(f, "n")?);
    (n > 0.0).then(|| t * scale / n)
}

fn ns_per_op(f: &Fields) -> Option<f64> {
    per_op(f, "seconds", 1e9)
}

const fn ns(label: &'static str) -> Metric {
    Metric {
        label,
        unit: "ns",
        higher_is_better: false,
        get: ns_per_op,
    }
}

const NONE: &[Metric] = &[];

const SPECS: &[Spec] = &[
    Spec {
        workload: "immediate_chain",
        family: "loop",
        primary: ns("ns/callback"),
        extras: NONE,
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "immediate_bulk",
        family: "loop",
        primary: ns("ns/callback"),
        extras: NONE,
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "timers_fire",
        family: "timers",
        primary: Metric {
            label: "µs CPU/timer",
            unit: "µs",
            higher_is_better: false,
            get: |f| per_op(f, "cpu_seconds", 1e6),
        },
        extras: &[Metric {
            label: "setup s",
            unit: "s",
            higher_is_better: false,
            get: |f| field(f, "setup_seconds"),
        }],
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "timers_cancel",
        family: "timers",
        primary: ns("ns/timer"),
        extras: NONE,
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "tasks",
        family: "tasks",
        primary: ns("ns/task"),
        extras: NONE,
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "pingpong",
        family: "tasks",
        primary: ns("ns/round trip"),
        extras: NONE,
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "await_loop",
        family: "tasks",
        primary: ns("ns/await"),
        extras: NONE,
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "yield_chain",
        family: "tasks",
        primary: ns("ns/yield"),
        extras: NONE,
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "fs_small",
        family: "fs",
        primary: Metric {
            label: "µs/file",
            unit: "µs",
            higher_is_better: false,
            get: |f| field(f, "us_per_file").or_else(|| per_op(f, "seconds", 1e6)),
        },
        extras: NONE,
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "fs_big",
        family: "fs",
        primary: Metric {
            label: "ms/read",
            unit: "ms",
            higher_is_better: false,
            get: |f| field(f, "ms_per_read"),
        },
        extras: &[
            Metric {
                label: "MiB/s",
                unit: "MiB/s",
                higher_is_better: true,
                get: |f| field(f, "mib_per_sec"),
            },
            // The same file read by plain blocking code in the same run:
            // `std::fs::read` (evloop, tokio) or `fs.readFileSync` (node).
            Metric {
                label: "plain read ms (same run)",
                unit: "ms",
                higher_is_better: false,
                get: |f| field(f, "std_ms_per_read").or_else(|| field(f, "sync_ms_per_read")),
            },
        ],
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "wake_latency",
        family: "wake",
        primary: Metric {
            label: "median µs",
            unit: "µs",
            higher_is_better: false,
            get: |f| field(f, "median_us"),
        },
        extras: &[
            Metric {
                label: "p99 µs",
                unit: "µs",
                higher_is_better: false,
                get: |f| field(f, "p99_us"),
            },
            // Two std threads ping-ponging over std channels in the same run:
            // the machine's floor at that moment.
            Metric {
                label: "std threads median µs (same run)",
                unit: "µs",
                higher_is_better: false,
                get: |f| field(f, "std_median_us"),
            },
        ],
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "signal_latency",
        family: "wake",
        primary: Metric {
            label: "median µs",
            unit: "µs",
            higher_is_better: false,
            get: |f| field(f, "median_us"),
        },
        extras: &[Metric {
            label: "p99 µs",
            unit: "µs",
            higher_is_better: false,
            get: |f| field(f, "p99_us"),
        }],
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "spawn_true",
        family: "process",
        primary: Metric {
            label: "µs/spawn",
            unit: "µs",
            higher_is_better: false,
            get: |f| per_op(f, "seconds", 1e6),
        },
        // The parent's share: the child's own fork and exec are not in it.
        extras: &[Metric {
            label: "parent µs CPU/spawn",
            unit: "µs",
            higher_is_better: false,
            get: |f| per_op(f, "cpu_seconds", 1e6),
        }],
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "pipe_throughput",
        family: "process",
        primary: Metric {
            label: "MiB/s",
            unit: "MiB/s",
            higher_is_better: true,
            get: |f| field(f, "mib_per_sec"),
        },
        extras: NONE,
        rss_field: "peak_rss_kb",
        cpu_field: "cpu_seconds",
    },
    Spec {
        workload: "tcp_echo",
        family: "tcp",
        primary: Metric {
            label: "server µs CPU/round trip",
            unit: "µs",
            higher_is_better: false,
            get: |f| field(f, "server_us_per_trip").or_else(|| per_op(f, "server_cpu_s", 1e6)),
        },
        extras: &[Metric {
            label: "round trips/s",
            unit: "/s",
            higher_is_better: true,
            get: |f| field(f, "ops_per_sec"),
        }],
        rss_field: "server_peak_rss_kb",
        cpu_field: "server_cpu_s",
    },
];

/// A workload this tool does not know: judged by wall time per operation.
const GENERIC: Spec = Spec {
    workload: "",
    family: "other",
    primary: ns("ns/op"),
    extras: NONE,
    rss_field: "peak_rss_kb",
    cpu_field: "cpu_seconds",
};

fn spec_for(workload: &str) -> &'static Spec {
    SPECS
        .iter()
        .find(|s| s.workload == workload)
        .unwrap_or(&GENERIC)
}

/// The median; the mean of the middle two for an even count.
fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// What one system did on one workload, over all its runs.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    /// The median over `ok` successful runs out of `total`.
    Value {
        median: f64,
        ok: usize,
        total: usize,
    },
    /// Every run failed; the first error.
    Error(String),
    /// No line at all.
    Missing,
}

struct SystemSummary {
    primary: Cell,
    extras: Vec<Option<f64>>,
    rss_kb: Option<f64>,
    cpu_s: Option<f64>,
    /// The most cores other processes kept busy just before one of the
    /// successful runs (`machine_busy`, written by bench/run.sh).
    busy_max: Option<f64>,
}

fn summarize(runs: &[Run], spec: &Spec, workload: &str, system: &str) -> SystemSummary {
    let mine: Vec<&Run> = runs
        .iter()
        .filter(|r| r.workload == workload && r.system == system)
        .collect();
    let mut values = Vec::new();
    let mut oks: Vec<&Fields> = Vec::new();
    let mut first_error = None;
    for r in &mine {
        match &r.outcome {
            Ok(f) => match (spec.primary.get)(f) {
                Some(v) => {
                    values.push(v);
                    oks.push(f);
                }
                None => {
                    first_error.get_or_insert_with(|| format!("no {} in line", spec.primary.label));
                }
            },
            Err(e) => {
                first_error.get_or_insert_with(|| e.clone());
            }
        }
    }
    let primary = match (median(&values), first_error) {
        (Some(median), _) => Cell::Value {
            median,
            ok: values.len(),
            total: mine.len(),
        },
        (None, Some(e)) => Cell::Error(e),
        (None, None) => Cell::Missing,
    };
    let med_of = |get: &dyn Fn(&Fields) -> Option<f64>| {
        median(&oks.iter().filter_map(|f| get(f)).collect::<Vec<_>>())
    };
    SystemSummary {
        primary,
        extras: spec
            .extras
            .iter()
            .map(|m| med_of(&|f| (m.get)(f)))
            .collect(),
        rss_kb: med_of(&|f| field(f, spec.rss_field)),
        cpu_s: med_of(&|f| field(f, spec.cpu_field)),
        busy_max: oks
            .iter()
            .filter_map(|f| field(f, "machine_busy"))
            .reduce(f64::max),
    }
}

/// A number with about three significant digits, thousands grouped.
fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    let s = if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    // Group the integer part's digits by three.
    let (sign, rest) = s.strip_prefix('-').map_or(("", s.as_str()), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, ""), |(i, f)| (i, f));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// Markdown table cells must not contain `|` or line breaks.
fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn fmt_cell(c: &Cell) -> String {
    match c {
        Cell::Value { median, ok, total } if ok == total => fmt_num(*median),
        Cell::Value { median, ok, total } => format!("{} ({ok}/{total} ok)", fmt_num(*median)),
        Cell::Error(e) => format!("error: {}", md_escape(e)),
        Cell::Missing => "missing".into(),
    }
}

/// evloop's figure relative to a peer's: `0.250× (4.00× faster)`.
fn fmt_ratio(evloop: &Cell, peer: &Cell, peer_name: &str, higher_is_better: bool) -> String {
    match (evloop, peer) {
        (Cell::Value { median: e, .. }, Cell::Value { median: p, .. }) if *e > 0.0 && *p > 0.0 => {
            let r = e / p;
            let better = if higher_is_better { r > 1.0 } else { r < 1.0 };
            let factor = if r >= 1.0 { r } else { 1.0 / r };
            let word = if better { "faster" } else { "slower" };
            if (factor - 1.0).abs() < 0.005 {
                format!("{}× (same)", fmt_num(r))
            } else {
                format!("{}× ({}× {word})", fmt_num(r), fmt_num(factor))
            }
        }
        (Cell::Value { .. }, Cell::Value { .. }) => "n/a (zero)".into(),
        (Cell::Value { .. }, _) => format!("n/a ({peer_name} {})", cell_state(peer)),
        _ => format!("n/a (evloop {})", cell_state(evloop)),
    }
}

fn cell_state(c: &Cell) -> &'static str {
    match c {
        Cell::Value { .. } => "ok",
        Cell::Error(_) => "error",
        Cell::Missing => "missing",
    }
}

/// The systems to show: the usual three, then any others in the file.
fn systems(runs: &[Run]) -> Vec<String> {
    let usual = SYSTEMS.iter().map(|s| s.to_string()).collect();
    then_others(usual, runs.iter().map(|r| &r.system))
}

/// The workloads in the file: the known ones in the usual order, then the
/// others alphabetically.
fn workloads(runs: &[Run]) -> Vec<String> {
    let known = SPECS
        .iter()
        .map(|s| s.workload.to_string())
        .filter(|w| runs.iter().any(|r| &r.workload == w))
        .collect();
    then_others(known, runs.iter().map(|r| &r.workload))
}

/// `first`, then the names in `all` it lacks, alphabetically, once each.
fn then_others<'a>(mut first: Vec<String>, all: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut others: Vec<String> = all.filter(|n| !first.contains(n)).cloned().collect();
    others.sort();
    others.dedup();
    first.extend(others);
    first
}

/// One row per workload: each system's median, then evloop's ratio to each
/// peer.
fn overview_table(runs: &[Run]) -> String {
    let systems = systems(runs);
    let peers: Vec<&String> = systems.iter().filter(|s| *s != "evloop").collect();
    let mut out = String::from("| workload | unit |");
    for s in &systems {
        let _ = write!(out, " {s} |");
    }
    for p in &peers {
        let _ = write!(out, " evloop ÷ {p} |");
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---:|".repeat(systems.len() + peers.len()));
    out.push('\n');
    for w in workloads(runs) {
        let spec = spec_for(&w);
        let cells: Vec<Cell> = systems
            .iter()
            .map(|s| summarize(runs, spec, &w, s).primary)
            .collect();
        let _ = write!(out, "| {w} | {} |", spec.primary.label);
        for c in &cells {
            let _ = write!(out, " {} |", fmt_cell(c));
        }
        for (i, p) in systems.iter().enumerate().skip(1) {
            let _ = write!(
                out,
                " {} |",
                fmt_ratio(&cells[0], &cells[i], p, spec.primary.higher_is_better)
            );
        }
        out.push('\n');
    }
    out
}

/// One workload in detail: a row per system.
fn workload_table(runs: &[Run], workload: &str) -> String {
    let spec = spec_for(workload);
    let systems = systems(runs);
    let mut out = format!("### {workload}\n\n| system | {} |", spec.primary.label);
    for m in spec.extras {
        let _ = write!(out, " {} |", m.label);
    }
    let (rss, cpu) = if spec.rss_field == "server_peak_rss_kb" {
        ("server peak RSS MiB", "server CPU s")
    } else {
        ("peak RSS MiB", "CPU s")
    };
    let _ = write!(
        out,
        " runs ok | {rss} | {cpu} | others' load | evloop ÷ this |\n|---|---:|"
    );
    out.push_str(&"---:|".repeat(spec.extras.len() + 5));
    out.push('\n');
    let sums: Vec<SystemSummary> = systems
        .iter()
        .map(|s| summarize(runs, spec, workload, s))
        .collect();
    let opt = |v: Option<f64>| v.map_or_else(|| "–".to_string(), fmt_num);
    for (s, sum) in systems.iter().zip(&sums) {
        let _ = write!(out, "| {s} | {} |", fmt_cell(&sum.primary));
        for v in &sum.extras {
            let _ = write!(out, " {} |", opt(*v));
        }
        let runs_ok = match &sum.primary {
            Cell::Value { ok, total, .. } => format!("{ok}/{total}"),
            Cell::Error(_) => {
                let total = runs
                    .iter()
                    .filter(|r| r.workload == workload && &r.system == s)
                    .count();
                format!("0/{total}")
            }
            Cell::Missing => "0/0".into(),
        };
        let ratio = if s == "evloop" {
            "–".to_string()
        } else {
            fmt_ratio(
                &sums[0].primary,
                &sum.primary,
                s,
                spec.primary.higher_is_better,
            )
        };
        let _ = writeln!(
            out,
            " {runs_ok} | {} | {} | {} | {ratio} |",
            opt(sum.rss_kb.map(|k| k / 1024.0)),
            opt(sum.cpu_s),
            opt(sum.busy_max)
        );
    }
    out
}

/// The chart families, in order, with the workloads in the file.
fn families(runs: &[Run]) -> Vec<(&'static str, Vec<String>)> {
    let mut out: Vec<(&'static str, Vec<String>)> = Vec::new();
    for w in workloads(runs) {
        let fam = spec_for(&w).family;
        match out.iter_mut().find(|(f, _)| *f == fam) {
            Some((_, ws)) => ws.push(w),
            None => out.push((fam, vec![w])),
        }
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn color(system: &str) -> &'static str {
    match system {
        "evloop" => "#2b6cb0",
        "node" => "#4a9a3a",
        "tokio" => "#c05621",
        _ => "#718096",
    }
}

/// A horizontal bar chart of one family: a group per workload, a bar per
/// system, each group scaled to its own largest value (units differ).
fn svg_chart(runs: &[Run], family: &str, workloads: &[String]) -> String {
    const W: f64 = 760.0;
    const LEFT: f64 = 90.0;
    const BAR_W: f64 = 470.0;
    const BAR_H: f64 = 16.0;
    const GAP: f64 = 4.0;
    const GROUP_HEAD: f64 = 24.0;
    const GROUP_GAP: f64 = 12.0;
    let systems = systems(runs);
    let group_h = GROUP_HEAD + systems.len() as f64 * (BAR_H + GAP) + GROUP_GAP;
    let top = 44.0;
    let h = top + workloads.len() as f64 * group_h + 8.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" \
         viewBox=\"0 0 {W} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"{W}\" height=\"{h}\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">{}</text>\n\
         <text x=\"10\" y=\"36\" fill=\"#555\">median per operation; \
         each workload scaled to its own largest bar; shorter is better unless marked</text>\n",
        xml_escape(&format!("evloop benchmarks: {family}"))
    );
    for (gi, w) in workloads.iter().enumerate() {
        let spec = spec_for(w);
        let y0 = top + gi as f64 * group_h;
        let better = if spec.primary.higher_is_better {
            " (longer is better)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<text x=\"10\" y=\"{:.1}\" font-weight=\"bold\">{}</text>",
            y0 + 16.0,
            xml_escape(&format!("{w}: {}{better}", spec.primary.label))
        );
        let cells: Vec<Cell> = systems
            .iter()
            .map(|s| summarize(runs, spec, w, s).primary)
            .collect();
        let max = cells
            .iter()
            .filter_map(|c| match c {
                Cell::Value { median, .. } => Some(*median),
                _ => None,
            })
            .fold(0.0f64, f64::max);
        for (si, (s, c)) in systems.iter().zip(&cells).enumerate() {
            let y = y0 + GROUP_HEAD + si as f64 * (BAR_H + GAP);
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                LEFT - 6.0,
                y + BAR_H - 4.0,
                xml_escape(s)
            );
            match c {
                Cell::Value { median, .. } => {
                    let len = if max > 0.0 {
                        (median / max * BAR_W).max(1.0)
                    } else {
                        1.0
                    };
                    let _ = writeln!(
                        out,
                        "<rect x=\"{LEFT}\" y=\"{y:.1}\" width=\"{len:.1}\" height=\"{BAR_H}\" fill=\"{}\"/>",
                        color(s)
                    );
                    let _ = writeln!(
                        out,
                        "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                        LEFT + len + 6.0,
                        y + BAR_H - 4.0,
                        xml_escape(&format!("{} {}", fmt_cell(c), spec.primary.unit))
                    );
                }
                Cell::Error(_) | Cell::Missing => {
                    let what = if matches!(c, Cell::Missing) {
                        "missing"
                    } else {
                        "error"
                    };
                    let _ = writeln!(
                        out,
                        "<text x=\"{LEFT}\" y=\"{:.1}\" fill=\"#b00\" font-style=\"italic\">{what}</text>",
                        y + BAR_H - 4.0
                    );
                }
            }
        }
    }
    out.push_str("</svg>\n");
    out
}

/// The whole report; `svg_dir` names where the charts go (for the links).
fn render(runs: &[Run], bad_lines: usize, svg_dir: Option<&str>) -> String {
    let mut out = String::from("## Overview\n\n");
    out.push_str(
        "Medians over the runs that succeeded; evloop ÷ peer below 1 means evloop took less.\n\n",
    );
    out.push_str(&overview_table(runs));
    if bad_lines > 0 {
        let _ = writeln!(out, "\n({bad_lines} unparseable lines ignored.)");
    }
    if let Some(dir) = svg_dir {
        out.push_str("\n## Charts\n\n");
        for (fam, _) in families(runs) {
            let _ = writeln!(out, "![{fam}]({dir}/{fam}.svg)");
        }
    }
    out.push_str("\n## Per workload\n");
    for w in workloads(runs) {
        out.push('\n');
        out.push_str(&workload_table(runs, &w));
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: bench_summary RESULTS.jsonl [SVG_DIR]");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("bench_summary: {path}: {e}");
            std::process::exit(1);
        }
    };
    let (runs, bad) = parse_runs(&text);
    for b in &bad {
        eprintln!("bench_summary: ignoring line: {b}");
    }
    let svg_dir = args.get(1).map(String::as_str);
    if let Some(dir) = svg_dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("bench_summary: {dir}: {e}");
            std::process::exit(1);
        }
        for (fam, ws) in families(&runs) {
            let file = std::path::Path::new(dir).join(format!("{fam}.svg"));
            if let Err(e) = std::fs::write(&file, svg_chart(&runs, fam, &ws)) {
                eprintln!("bench_summary: {}: {e}", file.display());
                std::process::exit(1);
            }
        }
    }
    print!("{}", render(&runs, bad.len(), svg_dir));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three reps of tasks for evloop and node (node's second run failed),
    /// tokio's only run of tasks timed out, nothing at all from tokio for
    /// tcp_echo, and one line that is not JSON.
    const INPUT: &str = r#"
{"workload":"tasks","system":"evloop","n":1000000,"seconds":0.100000,"ops_per_sec":10000000.0,"peak_rss_kb":10240,"cpu_seconds":0.1}
{"workload":"tasks","system":"node","n":1000000,"seconds":1.600000,"ops_per_sec":625000.0,"peak_rss_kb":512000,"cpu_seconds":2.6}
{"workload":"tasks","system":"evloop","n":1000000,"seconds":0.300000,"ops_per_sec":3333333.3,"peak_rss_kb":10240,"cpu_seconds":0.3}
{"workload":"tasks","system":"node","error":"exit code 137"}
{"workload":"tasks","system":"evloop","n":1000000,"seconds":0.200000,"ops_per_sec":5000000.0,"peak_rss_kb":20480,"cpu_seconds":0.2}
{"workload":"tasks","system":"node","n":1000000,"seconds":2.000000,"ops_per_sec":500000.0,"peak_rss_kb":524288,"cpu_seconds":3.0}
{"workload":"tasks","system":"tokio","n":1000000,"error":"timed out after 300 s"}
not json at all
{"workload":"tcp_echo","system":"evloop","n":100000,"seconds":1.0,"ops_per_sec":100000.0,"peak_rss_kb":2600,"cpu_seconds":0.9,"server_cpu_s":0.600,"client_cpu_s":0.9,"server_us_per_trip":6.000,"server_peak_rss_kb":3072.000}
{"workload":"tcp_echo","system":"node","n":100000,"seconds":1.2,"ops_per_sec":83333.3,"peak_rss_kb":2600,"cpu_seconds":0.9,"server_cpu_s":1.240,"client_cpu_s":0.9,"server_us_per_trip":12.400,"server_peak_rss_kb":52224.000,"rep":1,"machine_busy":0.42}
{"workload":"timers_fire","system":"evloop","n":1000000,"seconds":1.1,"ops_per_sec":909090.9,"peak_rss_kb":1024,"cpu_seconds":0.5,"setup_seconds":0.05}
{"workload":"timers_fire","system":"tokio","n":1000000,"seconds":1.1,"ops_per_sec":909090.9,"peak_rss_kb":1024,"cpu_seconds":2.0,"setup_seconds":0.4}
"#;

    fn runs() -> Vec<Run> {
        let (runs, bad) = parse_runs(INPUT);
        assert_eq!(bad, vec!["not json at all".to_string()]);
        runs
    }

    #[test]
    fn parses_runs_and_errors() {
        let runs = runs();
        assert_eq!(runs.len(), 11);
        assert_eq!(runs[3].outcome, Err("exit code 137".into()));
        let f = runs[0].outcome.as_ref().unwrap();
        assert_eq!(f["n"], 1_000_000.0);
        assert_eq!(f["seconds"], 0.1);
        assert!(parse_line(r#"{"system":"node"}"#).is_none());
        assert!(parse_line("[1,2]").is_none());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn summaries_use_successful_runs_only() {
        let runs = runs();
        let spec = spec_for("tasks");
        let e = summarize(&runs, spec, "tasks", "evloop");
        assert_eq!(
            e.primary,
            Cell::Value {
                median: 200.0,
                ok: 3,
                total: 3
            }
        );
        assert_eq!(e.rss_kb, Some(10240.0));
        assert_eq!(e.cpu_s, Some(0.2));
        // Node: the failed run is left out of the median, not counted as 0.
        let n = summarize(&runs, spec, "tasks", "node");
        assert_eq!(
            n.primary,
            Cell::Value {
                median: 1800.0,
                ok: 2,
                total: 3
            }
        );
        assert_eq!(
            summarize(&runs, spec, "tasks", "tokio").primary,
            Cell::Error("timed out after 300 s".into())
        );
        assert_eq!(
            summarize(&runs, spec_for("tcp_echo"), "tcp_echo", "tokio").primary,
            Cell::Missing
        );
    }

    #[test]
    fn units_per_workload() {
        let runs = runs();
        let t = summarize(&runs, spec_for("timers_fire"), "timers_fire", "tokio");
        // µs of CPU per timer, not wall time.
        assert_eq!(
            t.primary,
            Cell::Value {
                median: 2.0,
                ok: 1,
                total: 1
            }
        );
        assert_eq!(t.extras, vec![Some(0.4)]);
        let e = summarize(&runs, spec_for("tcp_echo"), "tcp_echo", "node");
        assert_eq!(
            e.primary,
            Cell::Value {
                median: 12.4,
                ok: 1,
                total: 1
            }
        );
        assert_eq!(e.extras, vec![Some(83333.3)]);
        assert_eq!(e.rss_kb, Some(52224.0));
        assert_eq!(e.cpu_s, Some(1.24));
    }

    #[test]
    fn ratios() {
        let v = |m| Cell::Value {
            median: m,
            ok: 1,
            total: 1,
        };
        assert_eq!(
            fmt_ratio(&v(200.0), &v(1800.0), "node", false),
            "0.111× (9.00× faster)"
        );
        assert_eq!(
            fmt_ratio(&v(300.0), &v(200.0), "tokio", false),
            "1.50× (1.50× slower)"
        );
        assert_eq!(fmt_ratio(&v(2.0), &v(2.0), "tokio", false), "1.00× (same)");
        assert_eq!(
            fmt_ratio(&v(2.0), &v(1.0), "tokio", true),
            "2.00× (2.00× faster)"
        );
        assert_eq!(
            fmt_ratio(&v(1.0), &Cell::Error("x".into()), "tokio", false),
            "n/a (tokio error)"
        );
        assert_eq!(
            fmt_ratio(&Cell::Missing, &v(1.0), "node", false),
            "n/a (evloop missing)"
        );
    }

    #[test]
    fn number_format() {
        assert_eq!(fmt_num(1234567.0), "1,234,567");
        assert_eq!(fmt_num(188.4), "188");
        assert_eq!(fmt_num(12.44), "12.4");
        assert_eq!(fmt_num(1.8), "1.80");
        assert_eq!(fmt_num(0.0318), "0.032");
    }

    #[test]
    fn overview_shows_errors_and_missing_never_zero() {
        let table = overview_table(&runs());
        let row = |w: &str| {
            table
                .lines()
                .find(|l| l.starts_with(&format!("| {w} |")))
                .unwrap_or_else(|| panic!("no row for {w} in\n{table}"))
                .to_string()
        };
        assert!(table.starts_with(
            "| workload | unit | evloop | node | tokio | evloop ÷ node | evloop ÷ tokio |"
        ));
        assert_eq!(
            row("tasks"),
            "| tasks | ns/task | 200 | 1,800 (2/3 ok) | error: timed out after 300 s \
             | 0.111× (9.00× faster) | n/a (tokio error) |"
        );
        assert_eq!(
            row("tcp_echo"),
            "| tcp_echo | server µs CPU/round trip | 6.00 | 12.4 | missing \
             | 0.484× (2.07× faster) | n/a (tokio missing) |"
        );
        assert_eq!(
            row("timers_fire"),
            "| timers_fire | µs CPU/timer | 0.500 | missing | 2.00 \
             | n/a (node missing) | 0.250× (4.00× faster) |"
        );
        // Workload order follows the suite's, not the file's.
        let order: Vec<&str> = table
            .lines()
            .skip(2)
            .map(|l| l.split('|').nth(1).unwrap().trim())
            .collect();
        assert_eq!(order, ["timers_fire", "tasks", "tcp_echo"]);
    }

    #[test]
    fn workload_table_details() {
        let t = workload_table(&runs(), "tcp_echo");
        assert!(t.contains("| server peak RSS MiB | server CPU s |"), "{t}");
        assert!(
            t.contains(
                "| node | 12.4 | 83,333 | 1/1 | 51.0 | 1.24 | 0.420 | 0.484× (2.07× faster) |"
            ),
            "{t}"
        );
        assert!(t.contains("| tokio | missing | – | 0/0 | – | – | – | n/a (tokio missing) |"));
        let t = workload_table(&runs(), "tasks");
        assert!(
            t.contains("| tokio | error: timed out after 300 s | 0/1 |"),
            "{t}"
        );
        assert!(
            t.contains("| evloop | 200 | 3/3 | 10.0 | 0.200 | – | – |"),
            "{t}"
        );
    }

    #[test]
    fn process_and_signal_figures() {
        let (runs, bad) = parse_runs(
            r#"{"workload":"pipe_throughput","system":"evloop","n":256,"seconds":0.08,"ops_per_sec":3200.0,"peak_rss_kb":3300,"cpu_seconds":1.0,"mib_per_sec":3200.000}
{"workload":"pipe_throughput","system":"node","n":256,"seconds":0.16,"ops_per_sec":1600.0,"peak_rss_kb":84000,"cpu_seconds":0.7,"mib_per_sec":1600.000}
{"workload":"spawn_true","system":"evloop","n":500,"seconds":1.0,"ops_per_sec":500.0,"peak_rss_kb":3000,"cpu_seconds":0.03}
{"workload":"signal_latency","system":"tokio","n":1000,"seconds":0.003,"ops_per_sec":333333.3,"peak_rss_kb":2700,"cpu_seconds":0.003,"median_us":2.900,"p99_us":4.000}"#,
        );
        assert!(bad.is_empty());
        let table = overview_table(&runs);
        // Throughput: higher is better, so twice node's MiB/s is faster.
        assert!(
            table.contains(
                "| pipe_throughput | MiB/s | 3,200 | 1,600 | missing | 2.00× (2.00× faster) |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| spawn_true | µs/spawn | 2,000 |"),
            "{table}"
        );
        assert!(
            table.contains("| signal_latency | median µs | missing | missing | 2.90 |"),
            "{table}"
        );
        let fams: Vec<&str> = families(&runs).iter().map(|(f, _)| *f).collect();
        assert_eq!(fams, ["wake", "process"]);
    }

    #[test]
    fn charts() {
        let runs = runs();
        let fams = families(&runs);
        let names: Vec<&str> = fams.iter().map(|(f, _)| *f).collect();
        assert_eq!(names, ["timers", "tasks", "tcp"]);
        let svg = svg_chart(&runs, "tasks", &fams[1].1);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        // Bars for evloop and node; tokio's errored run is labelled, not drawn.
        assert_eq!(svg.matches("<rect x=").count(), 2);
        assert!(svg.contains(">error</text>"));
        // Node's is the longest bar: the group's full width.
        assert!(svg.contains("width=\"470.0\" height=\"16\" fill=\"#4a9a3a\""));
        let report = render(&runs, 1, Some("charts"));
        assert!(report.contains("![tasks](charts/tasks.svg)"));
        assert!(report.contains("(1 unparseable lines ignored.)"));
    }
}
