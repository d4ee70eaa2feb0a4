//! Ctrl-C (#17 bug 5): the binary, sharing many images against an in-process emulator
//! whose share calls are slow, gets SIGINT (`kill -INT`) while it is sending. The first
//! one stops it from starting new calls and ends it with status 5 within about a second,
//! the report saying what was done and what was not; a second one ends it at once.

#![cfg(unix)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{fresh_dir, owner_env, strings, writes, OWNER};
use imageshare::core::Site;
use imageshare_emulator::world::ImageSeed;
use imageshare_emulator::{Emulator, FaultPlan, FaultRule, World};

const CVM: [&str; 4] = ["--provider", "tencent-cvm", "--region", "ap-guangzhou"];

fn peers() -> Vec<String> {
    (0..40).map(|i| format!("3200000000{i:02}")).collect()
}

fn images() -> Vec<String> {
    (0..12).map(|i| format!("img-sigint{i:02}")).collect()
}

/// The owner, 40 peers, 12 CVM images; every share call answered after 400 ms.
fn world() -> World {
    let mut b = World::builder().account(OWNER, Site::China);
    for p in peers() {
        b = b.account(&p, Site::China);
    }
    for id in images() {
        b = b.image(ImageSeed::new(
            imageshare::tencent::CVM,
            &id,
            OWNER,
            "ap-guangzhou",
        ));
    }
    let faults = FaultPlan::seeded(5).rule(
        FaultRule::new()
            .with_action("ModifyImageSharePermission")
            .with_latency_ms(400, 400),
    );
    b.faults(faults).build().unwrap()
}

/// Starts `imageshare share` of every image with every peer (the bulk engine).
fn spawn(emu: &Emulator, name: &str) -> Child {
    let home = fresh_dir(name);
    let mut args = strings(&["--no-audit", "-o", "json"]);
    args.extend(strings(&CVM));
    args.push("share".into());
    args.extend(images());
    args.extend(strings(&["--to", &peers().join(",")]));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imageshare"));
    cmd.args(&args).env_clear().env("HOME", &home);
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    cmd.envs(owner_env(emu))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// Waits until the emulator has received a share call (the job is sending).
async fn until_sending(emu: &Emulator) {
    let t0 = Instant::now();
    while writes(&emu.calls()).is_empty() {
        assert!(t0.elapsed() < Duration::from_secs(30), "no share call came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The first call was answered: the handler is surely installed.
    tokio::time::sleep(Duration::from_millis(500)).await;
}

fn sigint(child: &Child) {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -INT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_ctrl_c_stops_new_calls_and_ends_with_status_5_within_a_second() {
    let emu = Emulator::start(world()).await.unwrap();
    let child = spawn(&emu, "sigint-once");
    until_sending(&emu).await;
    sigint(&child);
    let at = Instant::now();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let took = at.elapsed();
    let sent_at_exit = writes(&emu.calls()).len();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(
        took < Duration::from_millis(1500),
        "took {took:?} after SIGINT"
    );
    // 12 images x 4 calls of 10 were to be sent: far fewer were.
    assert!(sent_at_exit < 48, "{sent_at_exit} share calls sent");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stderr.contains("cancelled"), "{stderr}");
    // The report: every image's step, what was done and what was not.
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 12, "{stdout}");
    let left: usize = results
        .iter()
        .map(|r| r["not_attempted"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(left > 0, "{stdout}");
    // Nothing more is sent once it has ended.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(writes(&emu.calls()).len(), sent_at_exit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_exits_at_once() {
    let emu = Emulator::start(world()).await.unwrap();
    let child = spawn(&emu, "sigint-twice");
    until_sending(&emu).await;
    sigint(&child);
    std::thread::sleep(Duration::from_millis(50));
    sigint(&child);
    let at = Instant::now();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        at.elapsed() < Duration::from_millis(300),
        "{:?}",
        at.elapsed()
    );
    assert!(
        stderr.contains("interrupted again: exiting now"),
        "{stderr}"
    );
}
