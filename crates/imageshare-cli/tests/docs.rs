//! `imageshare completions SHELL` and `imageshare man` (#17): the scripts and the page
//! are generated from the command line itself, so every command `--help` lists is in
//! them; the page carries the exit statuses.

mod common;

use common::{fresh_dir, run_in, stderr, stdout, strings};

/// The commands `imageshare --help` lists (its `Commands:` section), `help` aside.
fn commands() -> Vec<String> {
    let o = run_in(&fresh_dir("docs-help"), &strings(&["--help"]), &[]);
    let help = stdout(&o);
    let names: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|n| n != "help")
        .collect();
    assert!(names.len() >= 15, "{help}");
    for must in ["share", "apply", "completions", "man"] {
        assert!(names.iter().any(|n| n == must), "{must} not in {names:?}");
    }
    names
}

#[test]
fn completions_cover_every_command_in_every_shell() {
    let home = fresh_dir("docs-completions");
    let names = commands();
    let o = run_in(&home, &strings(&["completions", "bash"]), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let bash = stdout(&o);
    assert!(
        bash.contains("complete -F _imageshare"),
        "not a bash script"
    );
    for n in &names {
        assert!(
            bash.contains(&format!("imageshare,{n})")),
            "{n}: no case of its own"
        );
    }
    // The migrate flows and the global flags too.
    for word in ["sas-to-ecs", "--dry-run", "--quiet", "--unshare-first"] {
        assert!(bash.contains(word), "{word}");
    }
    for (shell, says) in [
        ("zsh", "#compdef imageshare"),
        ("fish", "complete -c imageshare"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[imageshare]"),
    ] {
        let o = run_in(&home, &strings(&["completions", shell]), &[]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        assert!(script.contains(says), "{shell}: {says}");
        assert!(script.contains("shared-with-me"), "{shell}");
    }
    let o = run_in(&home, &strings(&["completions", "tcsh"]), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("possible values"), "{}", stderr(&o));
}

#[test]
fn the_man_page_lists_every_command_and_the_exit_statuses() {
    let o = run_in(&fresh_dir("docs-man"), &strings(&["man"]), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(page.contains(".TH imageshare 1"), "not a roff page");
    // roff escapes '-' as '\-'.
    let plain = page.replace("\\-", "-");
    for n in commands() {
        assert!(
            plain.contains(&format!("imageshare-{n}(1)")),
            "{n} not listed"
        );
    }
    for status in [
        "Exit status: 0 done",
        "2 bad usage or input",
        "3 refused before anything was sent",
        "4 credentials missing or rejected",
        "5 partially applied or cancelled",
        "status 141",
    ] {
        assert!(plain.contains(status), "{status}");
    }
}

#[test]
fn man_dir_writes_a_page_per_command() {
    let dir = fresh_dir("docs-man-dir");
    let flag = dir.to_string_lossy().into_owned();
    let o = run_in(&dir, &strings(&["man", "--dir", &flag]), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dir.join("imageshare.1").is_file());
    for n in commands() {
        let page = dir.join(format!("imageshare-{n}.1"));
        assert!(page.is_file(), "{}", page.display());
        assert!(stdout(&o).contains(&page.display().to_string()));
    }
    let share = std::fs::read_to_string(dir.join("imageshare-share.1")).unwrap();
    assert!(share.contains("\\-\\-to"), "{share}");
    assert!(dir.join("imageshare-migrate-sas-to-ecs.1").is_file());
    // A directory that cannot be written: status 1, named.
    let o = run_in(
        &dir,
        &strings(&["man", "--dir", "/proc/imageshare-no"]),
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("/proc/imageshare-no"), "{}", stderr(&o));
}

/// The long flags listed under `heading` in `imageshare ARGS`'s help.
fn flags_under(args: &[&str], heading: &str) -> Vec<String> {
    let o = run_in(&fresh_dir("docs-flags"), &strings(args), &[]);
    stdout(&o)
        .lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .filter(|l| l.trim_start().starts_with('-'))
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("--")))
        .map(|w| w.trim_end_matches(',').to_owned())
        .filter(|f| f != "--help" && f != "--version")
        .collect()
}

/// The README names every global flag, every command and the flags #17 added, and its
/// exit-status table has every status the help states.
#[test]
fn the_readme_documents_every_flag_command_and_exit_status() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let global = flags_under(&["--help"], "Global options:");
    assert!(global.len() >= 20, "{global:?}");
    let mut missing: Vec<String> = Vec::new();
    for f in &global {
        if !readme.contains(&format!("`{f}")) {
            missing.push(f.clone());
        }
    }
    for n in commands() {
        if !readme.contains(&format!("`{n}")) {
            missing.push(n);
        }
    }
    for own in [
        "--yes",
        "--detailed-exitcode",
        "-f -",
        "NO_COLOR",
        "IMAGESHARE_OUTPUT=json",
        "completions SHELL",
        "man --dir DIR",
    ] {
        if !readme.contains(own) {
            missing.push(own.to_owned());
        }
    }
    assert!(missing.is_empty(), "not in the README: {missing:?}");
    for status in ["0", "1", "2", "3", "4", "5", "130", "141"] {
        assert!(
            readme.contains(&format!("\n| {status} | ")),
            "exit status {status} not in the README's table"
        );
    }
    // Every JSON schema the CLI prints is in SCHEMA.md.
    let schema =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/SCHEMA.md")).unwrap();
    assert!(schema.contains("imageshare/dry-run/v1"), "dry-run schema");
    for n in commands() {
        if n != "help" {
            assert!(schema.contains(&format!("`{n}")), "{n} not in SCHEMA.md");
        }
    }
}
