//! `share` and `unshare` of several images through the bulk engine, against an in-process
//! emulator: one entry per image with each principal's outcome and the step's retries;
//! status 5 when some images failed and others did not, the first failure's status when
//! all failed; throttled calls retried and every fault served accounted for in the
//! printed retries; Ctrl-C (SIGINT) stops starting new images, prints what was done and
//! what was not, and exits 5, with the audit trail holding exactly the grants made.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fresh_dir, owner_env, run_async, stderr, stdout, strings, OWNER};
use imageshare::core::audit::{AuditAction, AuditOutcome};
use imageshare::core::Site;
use imageshare::AuditLog;
use imageshare_emulator::world::{Encrypted, ImageSeed};
use imageshare_emulator::{Emulator, FaultPlan, FaultRule, World};
use serde_json::Value;

const CVM: [&str; 4] = ["--provider", "tencent-cvm", "--region", "ap-guangzhou"];

fn peers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("3200000000{i:02}")).collect()
}

fn image(i: usize) -> String {
    format!("img-many{i:03}")
}

/// The owner, 20 peers, `n` CVM images and one encrypted one (`img-locked`) that the
/// cloud refuses to share.
fn world(n: usize, faults: FaultPlan) -> World {
    let mut b = World::builder().account(OWNER, Site::China);
    for p in peers(20) {
        b = b.account(&p, Site::China);
    }
    for i in 0..n {
        b = b.image(ImageSeed::new(
            imageshare::tencent::CVM,
            &image(i),
            OWNER,
            "ap-guangzhou",
        ));
    }
    b = b.image(
        ImageSeed::new(
            imageshare::tencent::CVM,
            "img-locked",
            OWNER,
            "ap-guangzhou",
        )
        .encrypted(Encrypted::Cmk),
    );
    b.faults(faults).build().unwrap()
}

fn cvm(extra: &[&str]) -> Vec<String> {
    strings(&[&CVM[..], extra].concat())
}

/// `{"principal": {"id": ..}, "outcome": ..}` entries of one image's result, by outcome.
fn outcomes(entry: &Value) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in entry["results"].as_array().unwrap() {
        *out.entry(r["outcome"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_images_report_each_and_exit_5_on_partial_failure() {
    let emu = Emulator::start(world(4, FaultPlan::default()))
        .await
        .unwrap();
    let home = fresh_dir("share-many");
    let env = owner_env(&emu);
    let to = peers(20).join(",");
    let images: Vec<String> = (0..4).map(image).collect();
    let mut share: Vec<&str> = vec!["--output", "json", "share"];
    share.extend(images.iter().map(String::as_str));
    share.extend(["img-locked", "--to", &to]);

    let o = run_async(home.clone(), cvm(&share), env.clone()).await;
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(5), "{out}\n{err}");
    assert!(
        // The locked image is refused by the checker before sending (CBS DescribeSnapshots
        // reports it encrypted, #17 bug 8a): every principal of it failed, none sent. (The
        // per-batch stop of bug 6 is covered by tests/bulk.rs.)
        err.contains("partially applied: 80 granted, 20 failed"),
        "{err}"
    );
    assert!(err.contains("img-locked is encrypted"), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let entries = v["results"].as_array().unwrap();
    assert_eq!(entries.len(), 5, "{out}");
    for e in entries {
        assert_eq!(e["operation"], "share", "{e}");
        assert_eq!(e["retry_passes"], 0, "{e}");
        if e["image"] == "img-locked" {
            assert!(
                e["error"]
                    .as_str()
                    .unwrap()
                    .contains("img-locked is encrypted"),
                "{e}"
            );
            assert_eq!(outcomes(e), BTreeMap::from([("failed".to_owned(), 20)]));
            assert_eq!(e["not_attempted"].as_array().map_or(0, Vec::len), 0, "{e}");
        } else {
            assert!(e.get("error").is_none(), "{e}");
            assert_eq!(outcomes(e), BTreeMap::from([("granted".to_owned(), 20)]));
        }
    }
    assert_eq!(v["retries"]["retry_passes"], 0, "{out}");
    for id in &images {
        assert_eq!(emu.grants(id).len(), 20, "{id}");
    }
    assert!(emu.grants("img-locked").is_empty());

    // Again, in text: already granted everywhere but the locked image; one line per
    // (image, principal), then a summary per image and for the job.
    let mut again: Vec<&str> = vec!["share"];
    again.extend(images.iter().map(String::as_str));
    again.extend(["img-locked", "--to", &to]);
    let o = run_async(home.clone(), cvm(&again), env.clone()).await;
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains(&format!(
            "{}: share account:320000000007: already-granted",
            image(2)
        )),
        "{text}"
    );
    assert!(
        text.contains("img-locked: share account:320000000007: failed"),
        "{text}"
    );
    assert!(text.contains("80 already-granted, 20 failed"), "{text}");
    assert!(text.contains("retries: 0 retried"), "{text}");

    // Every image failing: the first failure's own status (the checker refused the
    // encrypted image: 3), not 5.
    let o = run_async(
        home.clone(),
        cvm(&[
            "share",
            "img-locked",
            "img-nothere1",
            "--to",
            "320000000001",
        ]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));

    // Unshare --all of several images: each image's own sharees, in one job.
    let mut unshare: Vec<&str> = vec!["--output", "json", "unshare"];
    unshare.extend(images[..3].iter().map(String::as_str));
    unshare.push("--all");
    let o = run_async(home.clone(), cvm(&unshare), env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let entries = v["results"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        assert_eq!(e["operation"], "unshare", "{e}");
        assert_eq!(outcomes(e), BTreeMap::from([("revoked".to_owned(), 20)]));
    }
    for id in &images[..3] {
        assert!(emu.grants(id).is_empty(), "{id}");
    }
    assert_eq!(emu.grants(&images[3]).len(), 20);

    // The trail (default place, under the scratch HOME) holds each grant and revoke once.
    let trail = AuditLog::read(home.join(".local/state/imageshare/audit.jsonl")).unwrap();
    let count = |action, outcome| {
        trail
            .iter()
            .filter(|r| r.action == action && r.outcome == outcome)
            .count()
    };
    assert_eq!(count(AuditAction::Grant, AuditOutcome::Granted), 80);
    assert_eq!(count(AuditAction::Revoke, AuditOutcome::Revoked), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_calls_are_retried_and_every_fault_is_in_the_printed_retries() {
    // 40 % of the share calls throttled: the transport retries them, and what it could not
    // finish the engine's retry passes take again.
    let faults = FaultPlan::seeded(5).rule(
        FaultRule::new()
            .with_action("ModifyImageSharePermission")
            .with_throttle_rate(0.4),
    );
    let emu = Emulator::start(world(12, faults)).await.unwrap();
    let home = fresh_dir("share-many-throttled");
    let images: Vec<String> = (0..12).map(image).collect();
    let to = peers(20).join(",");
    let mut share: Vec<&str> = vec!["--output", "json", "share"];
    share.extend(images.iter().map(String::as_str));
    share.extend(["--to", &to]);
    let o = run_async(home.clone(), cvm(&share), owner_env(&emu)).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for id in &images {
        assert_eq!(emu.grants(id).len(), 20, "{id}");
    }
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let served = emu.faults_served().len() as u64;
    assert!(served > 0);
    // The job's total, and the sum of the per-image entries, are the faults served.
    let total = |c: &Value| -> u64 {
        ["throttled", "server_error", "connection", "timeout"]
            .iter()
            .map(|k| c[k].as_u64().unwrap())
            .sum()
    };
    let job = &v["retries"];
    assert_eq!(
        total(&job["retried"]) + total(&job["gave_up"]),
        served,
        "{job}"
    );
    let per_image: u64 = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["retries"].as_array().unwrap().clone())
        .map(|a| total(&a["retried"]) + total(&a["gave_up"]))
        .sum();
    assert_eq!(per_image, served);
    let passes: u64 = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["retry_passes"].as_u64().unwrap())
        .sum();
    assert_eq!(passes, job["retry_passes"].as_u64().unwrap());
}

/// `kill -INT pid`, without a libc dependency.
fn interrupt(pid: u32) {
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_reports_what_was_done_and_exits_5() {
    // Slow answers, so that the job is still running when it is interrupted.
    let slow = FaultPlan::seeded(3).rule(FaultRule::new().with_latency_ms(40, 60));
    const N: usize = 300;
    let emu = Emulator::start(world(N, slow)).await.unwrap();
    let home = fresh_dir("share-many-sigint");
    let trail = home.join("audit.jsonl");
    let mut args = cvm(&[
        "--audit-log",
        trail.to_str().unwrap(),
        "--output",
        "json",
        "share",
    ]);
    args.extend((0..N).map(image));
    args.extend(strings(&["--to", "320000000001"]));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imageshare"));
    cmd.args(&args)
        .env_clear()
        .env("HOME", &home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in owner_env(&emu) {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let granted = |emu: &Emulator| {
        (0..N)
            .filter(|i| !emu.grants(&image(*i)).is_empty())
            .count()
    };
    // Wait until some images are shared, far from all (bounded: 60 s).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = granted(&emu);
        if n >= 5 {
            break;
        }
        assert!(n < N && Instant::now() < deadline, "{n} images shared");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    interrupt(child.id());
    let o = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert!(
        err.contains("cancelled:") && err.contains("not-attempted"),
        "{err}"
    );

    // The report: every image once, granted, not attempted, or interrupted in flight
    // (granted or not), matching the emulator.
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let entries = v["results"].as_array().unwrap();
    assert_eq!(entries.len(), N, "one entry per image");
    let mut done = BTreeSet::new();
    let mut in_flight = Vec::new();
    let mut skipped = 0;
    for e in entries {
        let id = e["image"].as_str().unwrap().to_owned();
        match e["not_attempted"].as_array() {
            Some(left) => {
                assert_eq!(left.len(), 1, "{e}");
                if e["interrupted"] == Value::Bool(true) {
                    // Abandoned in flight (#17 bug 5): its call may have been carried out,
                    // possibly after the process ended (the emulator finishes a request it
                    // received): looked at once the emulator has settled, below.
                    in_flight.push(id.clone());
                } else {
                    assert!(emu.grants(&id).is_empty(), "{id} not attempted but granted");
                }
                skipped += 1;
            }
            None => {
                assert_eq!(outcomes(e), BTreeMap::from([("granted".to_owned(), 1)]));
                done.insert(id);
            }
        }
    }
    assert!(skipped > 0, "nothing was left when interrupted");
    tokio::time::sleep(Duration::from_millis(300)).await;
    done.extend(
        in_flight
            .iter()
            .filter(|id| !emu.grants(id).is_empty())
            .cloned(),
    );
    let held: BTreeSet<String> = (0..N)
        .map(image)
        .filter(|id| !emu.grants(id).is_empty())
        .collect();
    assert_eq!(done, held, "{out}");
    // The trail holds exactly the grants made.
    let recorded: BTreeSet<String> = AuditLog::read(&trail)
        .unwrap()
        .into_iter()
        .filter(|r| r.outcome == AuditOutcome::Granted)
        .map(|r| r.image.to_string())
        .collect();
    // The trail holds the grants whose answer came before the process ended; a call
    // abandoned in flight may be carried out unrecorded (the report says so for its step).
    assert!(recorded.is_subset(&held), "{recorded:?} {held:?}");
    for id in held.difference(&recorded) {
        assert!(
            in_flight.contains(id),
            "{id} granted, not in flight, not recorded"
        );
    }
}
