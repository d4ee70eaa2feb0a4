//! Distribution through the binary (#15 §1): a manifest entry with `regions` is copied
//! into every listed region and every copy shared, against an in-process emulator whose
//! copies take time (`copy_ready_after_ms`). `plan` shows copy needed, then ready; `apply`
//! makes one copy per region and shares each; a re-run copies nothing; `--dry-run` copies
//! nothing and says what it would; a copy slower than `--copy-timeout` is reported for its
//! region (status 5); and `kill -9` in the middle of the copies, then a re-run, converges
//! with exactly one copy per region, every copy shared.
//!
//! The emulator runs in the test process and the CLI in its own, so killing the CLI
//! leaves the emulator's state (the copies being made) as a cloud would.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fresh_dir, owner_env, run_async, stderr, stdout, strings, OWNER};
use imageshare::core::Site;
use imageshare_emulator::world::ImageSeed;
use imageshare_emulator::{Emulator, World};
use serde_json::Value;

/// The golden image, in cn-hangzhou.
const SOURCE: &str = "m-golden000001";
/// The business account every copy is shared with.
const PEER: &str = "500000000001";

/// The owner, the peer, the golden image; copies become available after `copy_ms`.
fn world(copy_ms: u64) -> World {
    World::builder()
        .account(OWNER, Site::China)
        .account(PEER, Site::China)
        .image(
            ImageSeed::new(imageshare::alibaba::ECS, SOURCE, OWNER, "cn-hangzhou").name("golden"),
        )
        .copy_ready_after_ms(copy_ms)
        .build()
        .unwrap()
}

/// A manifest distributing the golden image into `regions`, shared with the peer.
fn manifest(dir: &Path, regions: &[&str]) -> String {
    let list: Vec<String> = regions.iter().map(|r| format!("{r:?}")).collect();
    let text = format!(
        "[[image]]\nprovider = \"alibaba-ecs\"\nregion = \"cn-hangzhou\"\nid = \"{SOURCE}\"\n\
         share_with = [\"{PEER}\"]\nregions = [{}]\n",
        list.join(", ")
    );
    let path = dir.join("golden.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The copies of the golden image the emulator holds: (region, id, shared with).
fn copies(emu: &Emulator) -> Vec<(String, String, Vec<String>)> {
    let mut found: Vec<(String, String)> = emu.with_engine(|e| {
        e.images()
            .filter(|i| i.copied_from.as_deref() == Some(SOURCE))
            .map(|i| (i.region.clone(), i.id.clone()))
            .collect()
    });
    found.sort();
    found
        .into_iter()
        .map(|(region, id)| {
            let who = emu.grants(&id).into_iter().map(|g| g.principal).collect();
            (region, id, who)
        })
        .collect()
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)))
}

/// The states of a plan's regions, in order: `region state`.
fn states(plan: &Value) -> Vec<String> {
    plan["distributions"][0]["plan"]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["region"].as_str().unwrap(),
                r["copy"]["state"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_then_apply_copies_once_per_region_and_shares_every_copy() {
    let emu = Emulator::start(world(300)).await.unwrap();
    let home = fresh_dir("distribute-apply");
    let file = manifest(&home, &["cn-shanghai", "cn-beijing"]);
    let env = owner_env(&emu);
    let run = |args: &[&str]| {
        let mut a = strings(&["--no-audit"]);
        a.extend(strings(args));
        run_async(home.clone(), a, env.clone())
    };

    // Plan: the source in its own region, a copy needed in each other one.
    let out = run(&["-o", "json", "plan", "-f", &file]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = json(&out);
    assert_eq!(plan["schema"], "imageshare/plan/v1");
    assert_eq!(
        states(&plan),
        [
            "cn-hangzhou source",
            "cn-shanghai needed",
            "cn-beijing needed"
        ]
    );
    // 2 copies, and the peer to add in each of the 3 regions.
    assert_eq!(plan["changes"], 5, "{plan:#}");
    assert_eq!(plan["plans"].as_array().unwrap().len(), 0);
    let d = &plan["distributions"][0];
    assert_eq!(d["image"]["regions"][1], "cn-beijing");
    assert_eq!(d["plan"]["source"], SOURCE);
    assert_eq!(d["plan"]["source_region"], "cn-hangzhou");
    assert_eq!(d["plan"]["copy_name"], format!("golden-{SOURCE}"));
    for r in d["plan"]["regions"].as_array().unwrap() {
        assert_eq!(r["share"]["add"][0]["id"], PEER, "{r:#}");
    }
    let out = run(&["plan", "-f", &file]).await;
    let text = stdout(&out);
    assert!(text.contains("cn-shanghai: copy needed"), "{text}");
    assert!(
        text.contains("cn-hangzhou: source m-golden000001"),
        "{text}"
    );
    assert!(
        text.contains("2 to copy, 3 to share, 0 to unshare"),
        "{text}"
    );
    assert!(copies(&emu).is_empty(), "plan copies nothing");

    // Apply: one copy per region, each shared once available.
    let out = run(&[
        "-o",
        "json",
        "apply",
        "-f",
        &file,
        "--yes",
        "--copy-poll",
        "100ms",
    ])
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Progress on stderr, a line per region per phase; stdout is the JSON document alone.
    let err = stderr(&out);
    for line in [
        "distribute m-golden000001: cn-shanghai: copying m-",
        "distribute m-golden000001: cn-shanghai: sharing m-",
        "distribute m-golden000001: cn-beijing: done",
    ] {
        assert!(err.contains(line), "{line}: {err}");
    }
    let doc = json(&out);
    assert_eq!(doc["applied"], true);
    let regions = doc["distributed"][0]["regions"].as_array().unwrap();
    let steps: Vec<String> = regions
        .iter()
        .map(|r| format!("{} {} {}", r["region"], r["copy"], r["done"]))
        .collect();
    assert_eq!(
        steps,
        [
            "\"cn-hangzhou\" \"source\" true",
            "\"cn-shanghai\" \"made\" true",
            "\"cn-beijing\" \"made\" true"
        ]
    );
    for r in regions {
        assert_eq!(r["shared"]["results"][0]["outcome"], "granted", "{r:#}");
    }
    let made = copies(&emu);
    let where_: Vec<&str> = made.iter().map(|(r, _, _)| r.as_str()).collect();
    assert_eq!(where_, ["cn-beijing", "cn-shanghai"], "{made:?}");
    for (_, id, who) in &made {
        assert_eq!(who, &[PEER.to_owned()], "{id}");
    }
    let shared: Vec<String> = emu
        .grants(SOURCE)
        .into_iter()
        .map(|g| g.principal)
        .collect();
    assert_eq!(shared, [PEER]);

    // Again: every region ready and shared, nothing to do, no second copy.
    let out = run(&["-o", "json", "plan", "-f", &file]).await;
    let plan = json(&out);
    assert_eq!(
        states(&plan),
        [
            "cn-hangzhou source",
            "cn-shanghai ready",
            "cn-beijing ready"
        ]
    );
    assert_eq!(plan["changes"], 0);
    let copy_calls = emu.action_count(imageshare::alibaba::ECS, "CopyImage");
    let out = run(&["apply", "-f", &file, "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "nothing to do");
    assert_eq!(
        emu.action_count(imageshare::alibaba::ECS, "CopyImage"),
        copy_calls
    );
    assert_eq!(copies(&emu).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_copies_nothing_and_says_what_it_would() {
    let emu = Emulator::start(world(0)).await.unwrap();
    let home = fresh_dir("distribute-dry-run");
    let file = manifest(&home, &["cn-shanghai"]);
    let args = strings(&[
        "--no-audit",
        "--dry-run",
        "-o",
        "json",
        "apply",
        "-f",
        &file,
        "--yes",
    ]);
    let out = run_async(home.clone(), args, owner_env(&emu)).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    let calls: Vec<String> = doc["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {}",
                c["operation"].as_str().unwrap(),
                c["image"].as_str().unwrap(),
                c["region"].as_str().unwrap(),
                c["target"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            format!("share {SOURCE} cn-hangzhou -"),
            format!("copy {SOURCE} cn-hangzhou region cn-shanghai"),
            format!("share (the copy of {SOURCE} in cn-shanghai) cn-shanghai -"),
        ],
        "{doc:#}"
    );
    assert!(copies(&emu).is_empty());
    assert!(common::writes(&emu.calls()).is_empty(), "{:?}", emu.calls());
    // In text, the copy reads as `would copy ID to region R`.
    let args = strings(&["--no-audit", "--dry-run", "apply", "-f", &file, "--yes"]);
    let out = run_async(home.clone(), args, owner_env(&emu)).await;
    let text = stdout(&out);
    assert!(
        text.contains(&format!("would copy {SOURCE} to region cn-shanghai")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_slower_than_the_copy_timeout_is_reported_for_its_region() {
    let emu = Emulator::start(world(5_000)).await.unwrap();
    let home = fresh_dir("distribute-timeout");
    let file = manifest(&home, &["cn-shanghai"]);
    let args = strings(&[
        "--no-audit",
        "-o",
        "json",
        "apply",
        "-f",
        &file,
        "--yes",
        "--copy-timeout",
        "1s",
        "--copy-poll",
        "200ms",
    ]);
    let out = run_async(home.clone(), args, owner_env(&emu)).await;
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let doc = json(&out);
    let regions = doc["distributed"][0]["regions"].as_array().unwrap();
    // The source's own region finished; the copy's did not, and says what to do.
    assert_eq!(regions[0]["done"], true, "{doc:#}");
    let r = &regions[1];
    assert_eq!(r["done"], false, "{doc:#}");
    assert_eq!(r["copy"], "made");
    assert_eq!(r["kind"], "timeout", "{r:#}");
    assert!(
        r["next"].as_str().unwrap().contains("--copy-timeout"),
        "{r:#}"
    );
    let err = stderr(&out);
    assert!(err.contains("cn-shanghai"), "{err}");
    assert!(err.contains("run apply again"), "{err}");
    assert_eq!(copies(&emu).len(), 1);
}

/// `kill -9` of the CLI while the copies are being made, then a re-run: exactly one copy
/// per region, every copy shared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_the_middle_of_the_copies_then_a_rerun_converges() {
    let emu = Emulator::start(world(2_000)).await.unwrap();
    let home = fresh_dir("distribute-kill");
    let regions = ["cn-shanghai", "cn-beijing", "cn-shenzhen"];
    let file = manifest(&home, &regions);
    let args = strings(&[
        "--no-audit",
        "-o",
        "json",
        "apply",
        "-f",
        &file,
        "--yes",
        "--copy-poll",
        "100ms",
    ]);

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imageshare"));
    cmd.args(&args).env_clear().env("HOME", &home);
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    cmd.envs(owner_env(&emu))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let err = child.stderr.take().unwrap();
    // Wait (on a thread) for a progress line saying a copy is being made.
    let seen = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(err).lines() {
            let line = line.unwrap();
            let copying = line.contains(": copying");
            lines.push(line);
            if copying {
                return (true, lines);
            }
        }
        (false, lines)
    });
    let (copying, lines) = tokio::time::timeout(Duration::from_secs(60), seen)
        .await
        .expect("a copying line within 60 s")
        .unwrap();
    assert!(copying, "no copying line: {lines:?}");
    let killed = Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), None, "killed by a signal");
    let mid = copies(&emu);
    assert!(!mid.is_empty(), "a copy was started before the kill");
    assert!(
        mid.iter().all(|(_, _, who)| who.is_empty()),
        "no copy was shared yet: {mid:?}"
    );

    // The re-run finds the copies made (or being made), makes the missing ones, shares all.
    let started = Instant::now();
    let out = run_async(home.clone(), args.clone(), owner_env(&emu)).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    let found = doc["distributed"][0]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["copy"] == "found")
        .count();
    assert_eq!(found, mid.len(), "{doc:#}");
    assert!(started.elapsed() < Duration::from_secs(60));

    let after = copies(&emu);
    let mut where_: Vec<&str> = after.iter().map(|(r, _, _)| r.as_str()).collect();
    where_.sort_unstable();
    let mut expected = regions.to_vec();
    expected.sort_unstable();
    assert_eq!(where_, expected, "exactly one copy per region: {after:?}");
    for (region, id, who) in &after {
        assert_eq!(who, &[PEER.to_owned()], "{id} in {region}");
    }
    // The copies started before the kill are the ones kept.
    for (region, id, _) in &mid {
        assert!(after.iter().any(|(r, i, _)| r == region && i == id), "{id}");
    }
    let shared: Vec<String> = emu
        .grants(SOURCE)
        .into_iter()
        .map(|g| g.principal)
        .collect();
    assert_eq!(shared, [PEER]);
}
