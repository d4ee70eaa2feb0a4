//! Confirmation (#17): `apply` and `delete` without `--yes` ask on a terminal (answering
//! `n` changes nothing and exits 5, `y` proceeds) and are refused without one (status 2,
//! nothing sent). The terminal is a pseudo-terminal made by util-linux `script`; the test
//! says so and skips the terminal half where `script` is missing.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{fresh_dir, owner_env, run_async, stderr, strings, writes};
use imageshare_emulator::{Emulator, World};

const ECS: [&str; 4] = ["--provider", "alibaba-ecs", "--region", "cn-hangzhou"];

/// Runs the binary with `args` on a pseudo-terminal (`script -qec`), typing `typed`.
fn on_terminal(args: &[String], env: &[(String, String)], typed: &str) -> Output {
    let line = std::iter::once(env!("CARGO_BIN_EXE_imageshare").to_owned())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", fresh_dir("confirm-home"))
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(typed.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn has_script() -> bool {
    Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_and_delete_ask_on_a_terminal_and_refuse_without_one() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let env = owner_env(&emu);
    let home = fresh_dir("confirm");
    let manifest = home.join("m.toml");
    std::fs::write(
        &manifest,
        "[[image]]\nprovider = \"alibaba-ecs\"\nregion = \"cn-hangzhou\"\n\
         id = \"m-bp18ygjuqnwhechc\"\nshare_with = [\"100000000002\"]\n",
    )
    .unwrap();
    let m = manifest.to_string_lossy().into_owned();
    let ecs = |extra: &[&str]| strings(&[&ECS[..], &["--no-audit"], extra].concat());

    // No terminal: both refused, nothing sent.
    let o = run_async(home.clone(), ecs(&["apply", "-f", &m]), env.clone()).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--yes"), "{}", stderr(&o));
    let o = run_async(
        home.clone(),
        ecs(&["delete", "m-bp18ygjuqnwhechc"]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--yes"), "{}", stderr(&o));
    assert!(
        writes(&emu.calls()).is_empty(),
        "{:?}",
        writes(&emu.calls())
    );

    if !has_script() {
        eprintln!("skipped the terminal half: util-linux `script` is not installed");
        return;
    }
    let env2 = env.clone();
    let ecs2 = ecs;
    let m2 = m.clone();
    tokio::task::spawn_blocking(move || {
        let (env, ecs, m) = (env2, ecs2, m2);
        // "n": the plan is shown, nothing is changed, status 5.
        let o = on_terminal(&ecs(&["apply", "-f", &m]), &env, "n\n");
        let shown = String::from_utf8_lossy(&o.stdout).into_owned();
        assert_eq!(o.status.code(), Some(5), "{shown}");
        assert!(shown.contains("Apply these changes"), "{shown}");
        assert!(shown.contains("100000000002"), "the plan is shown: {shown}");
        assert!(shown.contains("cancelled"), "{shown}");
        let o = on_terminal(&ecs(&["delete", "m-bp18ygjuqnwhechc"]), &env, "n\n");
        let shown = String::from_utf8_lossy(&o.stdout).into_owned();
        assert_eq!(o.status.code(), Some(5), "{shown}");
        assert!(shown.contains("Delete m-bp18ygjuqnwhechc"), "{shown}");
    })
    .await
    .unwrap();
    assert!(
        writes(&emu.calls()).is_empty(),
        "{:?}",
        writes(&emu.calls())
    );

    let env2 = env.clone();
    tokio::task::spawn_blocking(move || {
        let (env, m) = (env2, m);
        // "y": applied.
        let o = on_terminal(&ecs(&["apply", "-f", &m]), &env, "y\n");
        let shown = String::from_utf8_lossy(&o.stdout).into_owned();
        assert_eq!(o.status.code(), Some(0), "{shown}");
        assert!(shown.contains("granted"), "{shown}");
    })
    .await
    .unwrap();
    let sent = writes(&emu.calls());
    assert_eq!(sent.len(), 1, "{sent:?}");
    let env2 = env.clone();
    tokio::task::spawn_blocking(move || {
        let o = on_terminal(
            &strings(
                &[
                    &ECS[..],
                    &[
                        "--no-audit",
                        "delete",
                        "m-bp18ygjuqnwhechc",
                        "--unshare-first",
                    ],
                ]
                .concat(),
            ),
            &env2,
            "yes\n",
        );
        let shown = String::from_utf8_lossy(&o.stdout).into_owned();
        assert_eq!(o.status.code(), Some(0), "{shown}");
        assert!(shown.contains("deleted m-bp18ygjuqnwhechc"), "{shown}");
    })
    .await
    .unwrap();
    let sent = writes(&emu.calls());
    assert!(sent.iter().any(|w| w.contains("DeleteImage")), "{sent:?}");
}
