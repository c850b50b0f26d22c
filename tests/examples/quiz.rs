//! The quiz (`examples/repo_only/quiz.rs`, issue 17), driven with scripted answers:
//! it says right or wrong as it should, every question's real order is what
//! Node prints for the script it comes from (the recorded `.out`, and Node
//! itself when it is on the PATH), and each question writes a replay page
//! holding its run.

use crate::common;
use crate::golden::{examples_dir, hang_limit, run};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn manifest_dir() -> &'static Path {
    crate::common::root()
}

/// Builds the quiz, once for all the tests here.
fn build() {
    crate::golden::build_examples();
}

/// A fresh folder for one test's pages and input.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("evloop-quiz-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the quiz with `args`, its pages going to `dir/pages`; `stdin` is
/// what it reads (a file, so not a terminal), or nothing (`/dev/null`).
fn quiz(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    build();
    let mut cmd = Command::new(examples_dir().join("quiz"));
    cmd.args(args)
        .arg("--replay-dir")
        .arg(dir.join("pages"))
        .current_dir(manifest_dir())
        .env_remove("EVLOOP_REPLAY")
        .env_remove("EVLOOP_STEP");
    match stdin {
        Some(text) => {
            let path = dir.join("answers.txt");
            std::fs::write(&path, text).unwrap();
            cmd.stdin(std::fs::File::open(path).unwrap());
        }
        None => {
            cmd.stdin(Stdio::null());
        }
    }
    run(cmd, hang_limit()).unwrap_or_else(|e| panic!("quiz {args:?}: {e}"))
}

/// What the quiz showed and said for one question.
#[derive(Debug, Default)]
struct Asked {
    number: usize,
    title: String,
    /// `tests/node/GROUP/NAME.js`.
    source: String,
    choices: Vec<String>,
    /// The lines the run printed.
    printed: Vec<String>,
    /// The `Real order:` letters, as lines.
    real: Vec<String>,
    node_same: bool,
    /// Past `Running it...`: the choices are over.
    ran: bool,
    verdict: String,
    page: PathBuf,
}

impl Asked {
    /// Node's output for the source script: its `.out` file.
    fn node_lines(&self) -> Vec<String> {
        let out = manifest_dir().join(self.source.replace(".js", ".out"));
        std::fs::read_to_string(&out)
            .unwrap_or_else(|e| panic!("{}: {e}", out.display()))
            .lines()
            .map(String::from)
            .collect()
    }

    /// The letters of `lines`.
    fn letters_of(&self, lines: &[String]) -> Vec<String> {
        lines
            .iter()
            .map(|l| {
                let i =
                    self.choices.iter().position(|c| c == l).unwrap_or_else(|| {
                        panic!("question {}: {l:?} is not a choice", self.number)
                    });
                ((b'a' + i as u8) as char).to_string()
            })
            .collect()
    }

    /// The right answer, from Node's output.
    fn right(&self) -> Vec<String> {
        self.letters_of(&self.node_lines())
    }
}

/// The questions of a quiz transcript, in order.
fn transcript(out: &str) -> Vec<Asked> {
    let mut all: Vec<Asked> = Vec::new();
    let mut printing = false;
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("== Question ") {
            let (number, rest) = rest.split_once(" of ").expect("== Question N of M: title");
            let title = rest.split_once(": ").expect("a title").1;
            all.push(Asked {
                number: number.parse().unwrap(),
                title: title.to_string(),
                ..Asked::default()
            });
            continue;
        }
        let Some(q) = all.last_mut() else { continue };
        if printing {
            match line.strip_prefix("   Real order: ") {
                Some(letters) => {
                    printing = false;
                    q.real = letters
                        .split(' ')
                        .map(|l| {
                            let i = usize::from(l.as_bytes()[0] - b'a');
                            q.choices[i].clone()
                        })
                        .collect();
                }
                None => q.printed.push(line.to_string()),
            }
        } else if let Some(s) = line.strip_prefix("   from ") {
            q.source = s.to_string();
        } else if line == "   Running it on a fresh evloop::EventLoop:" {
            printing = true;
            q.ran = true;
        } else if let Some(c) = line.strip_prefix("     ").filter(|_| !q.ran) {
            let (letter, text) = c.split_once(") ").expect("a choice: `x) line`");
            assert_eq!(letter.len(), 1, "{line:?}");
            assert_eq!(
                letter.as_bytes()[0],
                b'a' + q.choices.len() as u8,
                "choices in letter order"
            );
            q.choices.push(text.to_string());
        } else if line.starts_with("   Node v20 prints the same (") {
            q.node_same = true;
        } else if [
            "   Right!",
            "   Not quite",
            "   Could not read",
            "   (skipped)",
        ]
        .iter()
        .any(|v| line.starts_with(v))
        {
            assert!(q.verdict.is_empty(), "two verdicts: {line:?}");
            q.verdict = line.trim().to_string();
        } else if let Some(page) = line.strip_prefix("   Step through it: open ") {
            q.page = page.strip_suffix(" in a browser.").unwrap().into();
        }
    }
    all
}

/// `--list`: (number, title, source) of every question.
fn listed(dir: &Path) -> Vec<(usize, String, String)> {
    quiz(dir, &["--list"], None)
        .lines()
        .map(|l| {
            let (n, rest) = l.trim_start().split_once(". ").expect("N. title (source)");
            let (title, source) = rest.rsplit_once(" (").expect("a source");
            (
                n.parse().unwrap(),
                title.to_string(),
                source.strip_suffix(')').unwrap().to_string(),
            )
        })
        .collect()
}

/// The output lines recorded in a replay page.
fn page_output(page: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(page)
        .unwrap_or_else(|e| panic!("no replay page at {}: {e}", page.display()));
    let start = text
        .find(r#"<script type="application/json" id="evloop-data">"#)
        .expect("the page embeds its recording");
    let json = &text[start..];
    let json = &json[json.find('>').unwrap() + 1..json.find("</script>").unwrap()];
    let rec: serde_json::Value = serde_json::from_str(json).expect("the recording is JSON");
    let steps = rec["steps"].as_array().expect("steps");
    assert!(
        steps.iter().any(|s| s["k"] == "run" && s["q"] == "main"),
        "{}: the main script is a step",
        page.display()
    );
    steps
        .iter()
        .filter(|s| s["k"] == "out")
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_quiz_lists_its_questions_each_from_a_node_script() {
    let _w = common::watchdog_for(Duration::from_secs(900)); // may build the quiz
    let dir = scratch("list");
    let list = listed(&dir);
    assert!(list.len() >= 12, "only {} questions", list.len());
    for (i, (n, title, source)) in list.iter().enumerate() {
        assert_eq!(*n, i + 1);
        assert!(!title.is_empty());
        assert!(
            source.starts_with("tests/node/") && source.ends_with(".js"),
            "{source}"
        );
        assert!(manifest_dir().join(source).exists(), "{source}");
        assert!(
            manifest_dir().join(source.replace(".js", ".out")).exists(),
            "{source}: no .out"
        );
    }
    let mut sources: Vec<&String> = list.iter().map(|(_, _, s)| s).collect();
    sources.sort();
    sources.dedup();
    assert_eq!(sources.len(), list.len(), "a script asked twice");
    let _ = std::fs::remove_dir_all(&dir);
}

/// With no answers at all (standard input at its end at once) the quiz
/// skips every question, still running each: the real orders are Node's,
/// and every run is on its page.
#[test]
fn every_real_order_is_nodes_and_every_question_has_its_page() {
    let _w = common::watchdog_for(Duration::from_secs(900)); // may build the quiz
    let dir = scratch("orders");
    let list = listed(&dir);
    let out = quiz(&dir, &[], Some(""));
    let asked = transcript(&out);
    assert_eq!(asked.len(), list.len(), "{out}");
    for (q, (n, title, source)) in asked.iter().zip(&list) {
        assert_eq!((q.number, &q.title, &q.source), (*n, title, source));
        let node = q.node_lines();
        assert_eq!(q.printed, node, "question {n} ({source}): the run's lines");
        assert_eq!(q.real, node, "question {n} ({source}): the real order");
        assert!(q.node_same, "question {n}: not said to be Node's order");
        assert_eq!(q.verdict, "(skipped)", "question {n}");
        for line in &node {
            assert!(q.choices.contains(line), "question {n}: {line:?} no choice");
        }
        assert_eq!(q.page, dir.join(format!("pages/q{n}.html")));
        // The page holds the run, and only the run: its output is the
        // question's lines, nothing of the quiz around it.
        assert_eq!(
            page_output(&q.page),
            node,
            "question {n}: the page's output"
        );
    }
    assert!(
        out.contains(&format!(
            "Score: 0 of 0 answered right ({} skipped).",
            list.len()
        )),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Answers on standard input, one per line: right ones (spaced, glued,
/// with commas), a wrong one, one that cannot be read, a skip, one that
/// names the line that never prints; then the input ends and the rest are
/// skipped.
#[test]
fn scripted_answers_on_stdin_get_their_verdicts() {
    let _w = common::watchdog_for(Duration::from_secs(900)); // may build the quiz
    let dir = scratch("stdin");
    // The choices of every question, from a run without answers.
    let choices = transcript(&quiz(&dir, &["--answers", ""], None));
    let cleared = choices
        .iter()
        .position(|q| q.source.ends_with("/clear_immediate_same_phase.js"))
        .expect("the clearImmediate question");
    assert!(cleared >= 5, "the script below needs 5 questions before it");
    let mut lines = Vec::new();
    let mut expected = Vec::new();
    for (i, q) in choices.iter().enumerate().take(cleared + 1) {
        let right = q.right();
        let (answer, verdict) = match i {
            0 => (right.join(" "), "Right!".to_string()),
            1 => {
                let wrong: Vec<String> = right.iter().rev().cloned().collect();
                let said = wrong.join(" ");
                (said.clone(), format!("Not quite: you said {said}."))
            }
            2 => (right.concat().to_uppercase(), "Right!".to_string()),
            3 => (
                "a z".to_string(),
                format!(
                    "Could not read that answer (\"z\" is not one of the letters a to {}): \
                     counted as wrong.",
                    (b'a' + q.choices.len() as u8 - 1) as char
                ),
            ),
            4 => (String::new(), "(skipped)".to_string()),
            _ if i == cleared => {
                // Node's order with B in its place: but B never prints.
                let said = ["main", "immediate A clears B", "immediate B", "immediate C"];
                let said = q.letters_of(&said.map(String::from)).join(" ");
                (said.clone(), format!("Not quite: you said {said}."))
            }
            _ => (right.join(", "), "Right!".to_string()),
        };
        lines.push(answer);
        expected.push(verdict);
    }
    let out = quiz(&dir, &[], Some(&(lines.join("\n") + "\n")));
    let asked = transcript(&out);
    assert_eq!(asked.len(), choices.len());
    for (i, q) in asked.iter().enumerate() {
        let want = expected.get(i).map_or("(skipped)", String::as_str);
        assert_eq!(q.verdict, want, "question {}: {out}", q.number);
        assert_eq!(q.real, q.node_lines(), "question {}", q.number);
        assert!(q.page.exists(), "question {}: no page", q.number);
    }
    let right = expected.iter().filter(|v| *v == "Right!").count();
    let skipped = 1 + asked.len() - expected.len();
    assert!(
        out.contains(&format!(
            "Score: {right} of {} answered right ({skipped} skipped).",
            asked.len() - skipped
        )),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--answers` takes one answer per question, `;` between them; with
/// `--question N` only question N is asked, and only its page written.
#[test]
fn answers_flag_and_question_flag() {
    let _w = common::watchdog_for(Duration::from_secs(900)); // may build the quiz
    let dir = scratch("flags");
    let choices = transcript(&quiz(&dir, &["--answers", ""], None));
    let n = choices.len();
    let answers = format!(
        "{}; {}",
        choices[0].right().join(" "),
        choices[1].right().join(" ")
    );
    let asked = transcript(&quiz(&dir, &["--answers", &answers], None));
    let verdicts: Vec<&str> = asked.iter().map(|q| q.verdict.as_str()).collect();
    assert_eq!(verdicts[..3], ["Right!", "Right!", "(skipped)"]);
    let _ = std::fs::remove_dir_all(&dir);

    let dir = scratch("one");
    let last = choices[n - 1].right().join(" ");
    let out = quiz(
        &dir,
        &["--question", &n.to_string(), "--answers", &last],
        None,
    );
    let asked = transcript(&out);
    assert_eq!(asked.len(), 1, "{out}");
    assert_eq!(asked[0].number, n);
    assert_eq!(asked[0].verdict, "Right!");
    assert!(out.contains("Score: 1 of 1 answered right (0 skipped)."));
    let pages: Vec<_> = std::fs::read_dir(dir.join("pages"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(pages, [format!("q{n}.html")]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The JavaScript each question shows (`--js N`) prints, run by Node, the
/// order the quiz calls real: the script's `.out`. Skipped without `node`.
#[test]
fn node_prints_the_order_of_each_questions_javascript() {
    let _w = common::watchdog_for(Duration::from_secs(900)); // may build the quiz
    if Command::new("node").arg("--version").output().is_err() {
        println!("skipped: node is not on the PATH");
        return;
    }
    let dir = scratch("node");
    let mut failures = Vec::new();
    for (n, _, source) in listed(&dir) {
        let js = quiz(&dir, &["--js", &n.to_string()], None);
        let file = dir.join(format!("q{n}.js"));
        std::fs::write(&file, js).unwrap();
        let expected =
            std::fs::read_to_string(manifest_dir().join(source.replace(".js", ".out"))).unwrap();
        // Node has no virtual time: a busy machine can delay its timers, so
        // a program that printed otherwise is run again a few times.
        let mut last = String::new();
        for _ in 0..common::NODE_RETRIES {
            let mut cmd = Command::new("node");
            cmd.arg(&file).current_dir(&dir);
            last = run(cmd, hang_limit()).unwrap_or_else(|e| format!("node failed: {e}"));
            if last == expected {
                break;
            }
        }
        if last != expected {
            failures.push(format!(
                "question {n} ({source}): node prints\n{last}but the .out has\n{expected}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}
