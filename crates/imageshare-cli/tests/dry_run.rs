//! `--dry-run` through the binary (#17): every command that writes prints the calls it
//! would send, as `"dry_run": true` JSON or `would ...` text, exits 0, writes no audit
//! trail, and the emulator's call log shows reads only; refusals are still made (status
//! 3), and the same command without `--dry-run` does send its writes.

mod common;

use common::{fresh_dir, owner_env, run_async, stderr, stdout, strings, writes};
use imageshare_emulator::world::ImageSeed;
use imageshare_emulator::{Emulator, World};
use serde_json::Value;

const ECS: [&str; 4] = ["--provider", "alibaba-ecs", "--region", "cn-hangzhou"];
const CVM: [&str; 4] = ["--provider", "tencent-cvm", "--region", "ap-guangzhou"];

fn ecs(extra: &[&str]) -> Vec<String> {
    strings(&[&ECS[..], extra].concat())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_writing_command_sends_no_write_on_a_dry_run() {
    let mut world = World::example();
    world.images.push(ImageSeed::new(
        imageshare::tencent::CVM,
        "img-dryrun02",
        common::OWNER,
        "ap-guangzhou",
    ));
    let emu = Emulator::start(world).await.unwrap();
    let env = owner_env(&emu);
    let home = fresh_dir("dry-run");
    let trail = home.join("trail.jsonl");
    let trail_flag = trail.to_string_lossy().into_owned();
    let manifest = home.join("m.toml");
    std::fs::write(
        &manifest,
        "[[image]]\nprovider = \"alibaba-ecs\"\nregion = \"cn-hangzhou\"\n\
         id = \"m-bp18ygjuqnwhechc\"\nshare_with = [\"100000000002\", \"100000000003\"]\n",
    )
    .unwrap();
    let manifest = manifest.to_string_lossy().into_owned();
    // (arguments, command, the operations it would send, in order); on ECS unless the
    // arguments name a provider.
    let cases: Vec<(Vec<&str>, &str, Vec<&str>)> = vec![
        (
            vec![
                "share",
                "m-bp18ygjuqnwhechc",
                "--to",
                "100000000002,account:100000000003",
            ],
            "share",
            vec!["share"],
        ),
        (
            [
                &CVM[..],
                &[
                    "share",
                    "img-6pb6lrmy",
                    "img-dryrun02",
                    "--to",
                    "100000000002",
                ],
            ]
            .concat(),
            "share",
            vec!["share", "share"],
        ),
        // Not a sharee: the checker drops it, so nothing would be sent.
        (
            vec!["unshare", "m-bp18ygjuqnwhechc", "--from", "100000000002"],
            "unshare",
            vec![],
        ),
        (
            vec!["delete", "m-bp18ygjuqnwhechc"],
            "delete",
            vec!["delete"],
        ),
        (
            vec!["delete", "m-bp18ygjuqnwhechc", "--unshare-first"],
            "delete",
            vec!["delete"],
        ),
        (
            vec!["copy", "m-bp18ygjuqnwhechc", "--to-region", "cn-shanghai"],
            "copy",
            vec!["copy"],
        ),
        (
            vec![
                "migrate",
                "copy",
                "m-bp18ygjuqnwhechc",
                "--to-region",
                "cn-shanghai",
                "--to",
                "100000000002",
            ],
            "migrate",
            vec!["copy", "share"],
        ),
        (
            vec![
                "migrate",
                "sas-to-ecs",
                "m-sas000000001",
                "--to",
                "100000000002",
            ],
            "migrate",
            vec!["share-to-ecs", "share"],
        ),
        (vec!["apply", "-f", &manifest], "apply", vec!["share"]),
    ];
    for (args, command, ops) in &cases {
        let flags = ["--audit-log", &trail_flag, "--dry-run", "-o", "json"];
        let all = if args[0] == "--provider" {
            strings(&[&flags[..], args].concat())
        } else {
            ecs(&[&flags[..], args].concat())
        };
        let o = run_async(home.clone(), all, env.clone()).await;
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        let v: Value = serde_json::from_str(&stdout(&o))
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", stdout(&o)));
        assert_eq!(v["schema"], "imageshare/dry-run/v1", "{v}");
        assert_eq!(v["dry_run"], true, "{v}");
        assert_eq!(v["command"], *command, "{v}");
        let got: Vec<&str> = v["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["operation"].as_str().unwrap())
            .collect();
        // The bulk engine works on several images at once: compare as sets of calls.
        let (mut got, mut ops) = (got, ops.clone());
        got.sort_unstable();
        ops.sort_unstable();
        assert_eq!(got, ops, "{args:?}: {v}");
        for c in v["calls"].as_array().unwrap() {
            assert!(c["provider"].is_string() && c["region"].is_string(), "{c}");
            assert!(c["image"].is_string(), "{c}");
        }
        let sent = writes(&emu.calls());
        assert!(sent.is_empty(), "{args:?} sent {sent:?}");
        assert!(!trail.exists(), "{args:?} wrote the audit trail");
    }
    // The principals of a share, as they would be sent.
    let o = run_async(
        home.clone(),
        ecs(&[
            "--dry-run",
            "-o",
            "json",
            "share",
            "m-bp18ygjuqnwhechc",
            "--to",
            "100000000002",
        ]),
        env.clone(),
    )
    .await;
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["calls"][0]["principals"][0]["id"], "100000000002", "{v}");
    assert_eq!(v["calls"][0]["provider"], "alibaba-ecs", "{v}");
    // Text: cannot be mistaken for a real outcome.
    let o = run_async(
        home.clone(),
        ecs(&[
            "--dry-run",
            "share",
            "m-bp18ygjuqnwhechc",
            "--to",
            "100000000002",
        ]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("dry run: nothing was sent"), "{text}");
    assert!(
        text.contains("would share m-bp18ygjuqnwhechc with "),
        "{text}"
    );
    assert!(!text.contains("granted"), "{text}");
    // A refusal is still made before anything is sent (an encrypted image).
    let o = run_async(
        home.clone(),
        ecs(&[
            "--dry-run",
            "share",
            "m-bpcmk0000001",
            "--to",
            "100000000002",
        ]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(writes(&emu.calls()).is_empty());
    // Reads were sent (the dry runs looked images and sharees up).
    assert!(!emu.calls().is_empty());
    // Without --dry-run the same share is sent: the log above could have shown writes.
    let o = run_async(
        home.clone(),
        ecs(&[
            "--no-audit",
            "share",
            "m-bp18ygjuqnwhechc",
            "--to",
            "100000000002",
        ]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sent = writes(&emu.calls()).len();
    assert!(sent > 0);
    // Now shared: the unshare and the unshare before a delete would be sent, and are not.
    for (args, ops) in [
        (
            vec!["unshare", "m-bp18ygjuqnwhechc", "--all"],
            vec!["unshare"],
        ),
        (
            vec!["delete", "m-bp18ygjuqnwhechc", "--unshare-first"],
            vec!["unshare", "delete"],
        ),
    ] {
        let o = run_async(
            home.clone(),
            ecs(&[&["--dry-run", "-o", "json"][..], &args].concat()),
            env.clone(),
        )
        .await;
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        let got: Vec<&str> = v["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["operation"].as_str().unwrap())
            .collect();
        assert_eq!(got, ops, "{args:?}: {v}");
        assert_eq!(writes(&emu.calls()).len(), sent, "{args:?}");
    }
}
