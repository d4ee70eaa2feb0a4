//! `--output json` through the binary (#17 bug 10): every command's document carries its
//! `schema`, one shape per command whatever the number of images, errors as one JSON
//! object on stderr, limit refusals with the rule's name as `code`, the CLI's words
//! instead of the library's Rust names, echoed input cut, and a closed stdout that ends
//! the command quietly.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};

use common::{fresh_dir, owner_env, run_in, stderr, stdout, strings, writes};
use imageshare_emulator::{Emulator, World};
use serde_json::Value;

const ECS: [&str; 4] = ["--provider", "alibaba-ecs", "--region", "cn-hangzhou"];

fn ecs(extra: &[&str]) -> Vec<String> {
    strings(&[&ECS[..], extra].concat())
}

/// The JSON error a failed run wrote on stderr: exactly one line, one object.
fn json_error(stderr: &str) -> Value {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one JSON line on stderr: {stderr}");
    let v: Value = serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "exit", "kind", "message"], "{v}");
    v
}

fn doc(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not one JSON document ({e}): {out}"))
}

/// The keys of an object, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort_unstable();
    k
}

#[test]
fn demo_prints_one_json_document() {
    let home = fresh_dir("json-demo");
    let o = run_in(&home, &strings(&["--output", "json", "demo"]), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = doc(&stdout(&o));
    assert_eq!(v["schema"], "imageshare/demo/v1");
    assert!(
        v["emulator"].as_str().unwrap().starts_with("http://"),
        "{v}"
    );
    let sections = v["sections"].as_array().unwrap();
    assert!(sections.len() > 5, "{v}");
    assert!(sections.iter().all(|s| s["title"].is_string()), "{v}");
    assert!(v["calls"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["count"].is_u64()));
    assert!(!stdout(&o).contains("::"), "no Rust path in the story");
}

#[test]
fn usage_errors_are_one_json_object_on_stderr() {
    let home = fresh_dir("json-usage");
    // clap's refusal (a missing --to), asked for with --output json.
    let o = run_in(
        &home,
        &strings(&["--output", "json", "share", "img-6pb6lrmy"]),
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    let e = json_error(&stderr(&o));
    assert_eq!(e["kind"], "usage");
    assert_eq!(e["exit"], 2);
    assert_eq!(e["code"], "missing-required-argument");
    assert!(e["message"].as_str().unwrap().contains("--to"), "{e}");
    // ... and with IMAGESHARE_OUTPUT=json; the echoed value is cut.
    let huge = "9".repeat(5000);
    let env = [("IMAGESHARE_OUTPUT".to_owned(), "json".to_owned())];
    let o = run_in(&home, &strings(&["--timeout", &huge, "limits"]), &env);
    assert_eq!(o.status.code(), Some(2));
    let e = json_error(&stderr(&o));
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("--timeout") && message.contains('…'),
        "{e}"
    );
    assert!(message.len() < 300, "{message}");
    // The CLI's own check (no --provider): the same object.
    let o = run_in(
        &home,
        &strings(&["-o", "json", "sharees", "img-6pb6lrmy"]),
        &[],
    );
    let e = json_error(&stderr(&o));
    assert_eq!(
        (e["kind"].as_str(), e["exit"].as_u64()),
        (Some("usage"), Some(2))
    );
    assert!(e["code"].is_null(), "{e}");
    // IMAGESHARE_OUTPUT=json selects JSON for a command that succeeds too.
    let o = run_in(&home, &strings(&["limits"]), &env);
    assert_eq!(doc(&stdout(&o))["schema"], "imageshare/limits/v1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_refusals_carry_the_rule_name_and_api_errors_the_provider_code() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let env = owner_env(&emu);
    let home = fresh_dir("json-codes");
    let no_audit = ["--no-audit", "--output", "json"];
    // One image: refused before sending, status 3, the rule's name as code.
    let args = ecs(&[
        &no_audit[..],
        &["share", "m-bpmarket00001", "--to", "100000000002"],
    ]
    .concat());
    let o = common::run_async(home.clone(), args, env.clone()).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = json_error(&stderr(&o));
    assert_eq!(e["kind"], "limit");
    assert_eq!(e["code"], "marketplace-derived");
    assert_eq!(e["exit"], 3);
    // Several images: the refused step carries the same code in the document.
    let args = ecs(&[
        &no_audit[..],
        &[
            "share",
            "m-bp18ygjuqnwhechc",
            "m-bpmarket00001",
            "--to",
            "100000000002",
        ],
    ]
    .concat());
    let o = common::run_async(home.clone(), args, env.clone()).await;
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let v = doc(&stdout(&o));
    let refused = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["image"] == "m-bpmarket00001")
        .cloned()
        .unwrap();
    assert_eq!(refused["code"], "marketplace-derived", "{refused}");
    assert_eq!(json_error(&stderr(&o))["kind"], "partial");
    // The cloud's refusal: the provider's code.
    let args = ecs(&[
        &no_audit[..],
        &["share", "m-bp18ygjuqnwhechc", "--to", "123456789012"],
    ]
    .concat());
    let o = common::run_async(home.clone(), args, env.clone()).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = json_error(&stderr(&o));
    assert_eq!(e["code"], "InvalidAccount.NotFound", "{e}");
    assert_eq!(e["kind"], "api", "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_image_and_several_print_one_shape() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let env = owner_env(&emu);
    let home = fresh_dir("json-shape");
    let json = ["--no-audit", "--output", "json"];
    let run = |extra: &[&str]| {
        let args = ecs(&[&json[..], extra].concat());
        common::run_async(home.clone(), args, env.clone())
    };
    let one = run(&["share", "m-bp18ygjuqnwhechc", "--to", "100000000002"]).await;
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    let one = doc(&stdout(&one));
    let many = run(&[
        "share",
        "m-bp18ygjuqnwhechc",
        "m-bpcmk0000001",
        "--allow-encrypted",
        "--to",
        "200000000001",
    ])
    .await;
    assert_eq!(many.status.code(), Some(0), "{}", stderr(&many));
    let many = doc(&stdout(&many));
    assert_eq!(one["schema"], "imageshare/share/v1");
    assert_eq!(keys(&one), keys(&many));
    assert_eq!(keys(&one), ["results", "retries", "schema"]);
    assert_eq!(keys(&one["retries"]), keys(&many["retries"]));
    assert_eq!(keys(&one["results"][0]), keys(&many["results"][0]));
    assert_eq!(one["results"][0]["results"][0]["outcome"], "granted");
    assert_eq!(many["results"].as_array().unwrap().len(), 2);

    // unshare: one image, several, and --all without sharees, in the same shape.
    let one = doc(&stdout(
        &run(&[
            "unshare",
            "m-bp18ygjuqnwhechc",
            "--from",
            "account:100000000002",
        ])
        .await,
    ));
    let many = doc(&stdout(
        &run(&["unshare", "m-bp18ygjuqnwhechc", "m-bpcmk0000001", "--all"]).await,
    ));
    let none = doc(&stdout(
        &run(&["unshare", "m-bp18ygjuqnwhechc", "--all"]).await,
    ));
    for v in [&one, &many, &none] {
        assert_eq!(v["schema"], "imageshare/unshare/v1", "{v}");
        assert_eq!(keys(v), ["results", "retries", "schema"], "{v}");
        assert_eq!(keys(&v["retries"]), keys(&one["retries"]), "{v}");
    }
    assert_eq!(one["results"][0]["results"][0]["outcome"], "revoked");
    assert_eq!(many["results"].as_array().unwrap().len(), 2, "{many}");
    assert_eq!(none["results"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_name_flags_not_library_calls() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let env = owner_env(&emu);
    let home = fresh_dir("json-words");
    for (args, says) in [
        (
            vec!["share", "m-bpcmk0000001", "--to", "100000000002"],
            "--allow-encrypted",
        ),
        (
            vec!["share", "m-bprecv000001", "--to", "100000000002"],
            "`imageshare copy ID`",
        ),
    ] {
        for format in ["text", "json"] {
            let all = ecs(&[&["--no-audit", "-o", format][..], &args].concat());
            let o = common::run_async(home.clone(), all, env.clone()).await;
            assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
            let err = stderr(&o);
            assert!(err.contains(says), "{args:?}: {err}");
            for api in ["::", "allow_encrypted", "CopyTarget"] {
                assert!(!err.contains(api), "{args:?}: {api} in {err}");
            }
        }
    }
    // A shared image cannot be deleted: the advice is the CLI's flag.
    let share = ecs(&[
        "--no-audit",
        "share",
        "m-bp18ygjuqnwhechc",
        "--to",
        "100000000002",
    ]);
    let o = common::run_async(home.clone(), share, env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = common::run_async(
        home.clone(),
        ecs(&["delete", "m-bp18ygjuqnwhechc", "--yes"]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("--unshare-first"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("ImageSharingExt"), "{}", stderr(&o));
    assert!(writes(&emu.calls()).iter().all(|w| !w.contains("Delete")));
}

#[test]
fn echoed_input_is_cut() {
    let home = fresh_dir("json-cut");
    let long = format!("img-{}", "a".repeat(5000));
    let o = run_in(
        &home,
        &strings(&[
            "-p",
            "tencent-cvm",
            "-r",
            "ap-guangzhou",
            "share",
            &long,
            "--to",
            "1",
        ]),
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains('…') && err.len() < 400, "{err}");
    let o = run_in(
        &home,
        &strings(&[
            "--assume-role",
            "acs:ram::1:role/x",
            "--role-session-name",
            &"s".repeat(5000),
            "whoami",
        ]),
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains('…') && err.len() < 600, "{err}");
}

/// A trail of `n` well-formed records (enough output to fill a pipe's buffer).
fn big_trail(n: usize) -> String {
    let line = r#"{"time":"2026-01-01T00:00:00.000Z","provider":"tencent-cvm","region":"ap-guangzhou","image":"img-6pb6lrmy","principal":{"kind":"account","id":"100000000002"},"action":"grant","outcome":"granted","request_id":null}"#;
    let mut s = String::with_capacity(n * (line.len() + 1));
    for _ in 0..n {
        s.push_str(line);
        s.push('\n');
    }
    s
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let home = fresh_dir("json-pipe");
    let trail = home.join("audit.jsonl");
    std::fs::write(&trail, big_trail(3000)).unwrap();
    for format in ["text", "json"] {
        // The reader takes a few bytes and goes away, as `| head -c 10` does; the output
        // is larger than a pipe's buffer, so the command writes after it is gone.
        let mut child = Command::new(env!("CARGO_BIN_EXE_imageshare"))
            .args([
                "--audit-log",
                trail.to_str().unwrap(),
                "-o",
                format,
                "audit",
            ])
            .env_clear()
            .env("HOME", &home)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(141), "{format}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{format}: nothing on stderr");
    }
}
