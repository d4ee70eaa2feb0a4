//! Help text (#17): a command's help lists its own options first, under `Options:`, and
//! the flags every command takes after them, under `Global options:`; `--timeout` keeps a
//! one-line help and its long explanation lives in the README.

mod common;

use common::{fresh_dir, run_in, stderr, stdout, strings};

/// `imageshare ARGS` (a `--help` or `-h`), its stdout.
fn help(args: &[&str]) -> String {
    let o = run_in(&fresh_dir("help"), &strings(args), &[]);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// The lines of `text` from the heading `heading` to the next heading (a line that is
/// not indented and ends with `:`).
fn section<'a>(text: &'a str, heading: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect()
}

#[test]
fn a_commands_own_options_come_before_the_global_ones() {
    for (args, own) in [
        (&["share"][..], &["--to"][..]),
        (&["unshare"], &["--from", "--all"]),
        (&["delete"], &["--unshare-first", "--yes"]),
        (&["plan"], &["--file", "--detailed-exitcode"]),
        (&["apply"], &["--file", "--yes"]),
        (&["copy"], &["--to-region", "--to-project", "--name"]),
        (&["audit"], &["--image", "--principal", "--action"]),
        (
            &["migrate", "copy"],
            &["--to", "--wait-secs", "--to-region"],
        ),
        (&["emulator", "serve"], &["--port", "--world", "--tls"]),
    ] {
        for flag in ["--help", "-h"] {
            let mut a = args.to_vec();
            a.push(flag);
            let text = help(&a);
            let at = |s: &str| {
                text.find(s)
                    .unwrap_or_else(|| panic!("{a:?}: {s:?} not in\n{text}"))
            };
            let options = section(&text, "Options:").join("\n");
            let global = section(&text, "Global options:").join("\n");
            for o in own {
                assert!(options.contains(o), "{a:?}: {o} not under Options:\n{text}");
                assert!(!global.contains(&format!("{o} ")), "{a:?}: {o} is global");
            }
            for g in [
                "--provider",
                "--output",
                "--timeout",
                "--dry-run",
                "--quiet",
            ] {
                assert!(
                    global.contains(g),
                    "{a:?}: {g} not under Global options:\n{text}"
                );
                assert!(!options.contains(g), "{a:?}: {g} under Options:\n{text}");
            }
            assert!(at("Options:") < at("Global options:"), "{a:?}\n{text}");
        }
    }
    // The top level lists the same flags under the same heading.
    let top = help(&["--help"]);
    assert!(section(&top, "Global options:")
        .join("\n")
        .contains("--provider"));
}

#[test]
fn timeout_help_is_one_line_and_the_readme_explains_it() {
    let text = help(&["share", "--help"]);
    let lines: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("--timeout"))
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('-'))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('['))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].len() < 120, "{}", lines[0]);
    assert!(lines[0].contains("README"), "{}", lines[0]);
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    // Its numbers are checked against the retry policy by a unit test (connect.rs).
    assert!(readme.contains("**Timeouts.** `--timeout SECS`"));
}
