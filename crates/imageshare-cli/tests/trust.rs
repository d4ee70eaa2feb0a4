//! `--trust-owner` against an in-process emulator: `shared-with-me` hides the images of
//! owners outside the policy and says how many were hidden and whose (text on stdout, the
//! JSON array unchanged with the note on stderr); `copy` and `migrate copy` refuse an
//! untrusted image with status 3 before anything that mutates is sent; trusted owners and
//! `PROVIDER:ID` entries for other providers let images through.

mod common;

use common::{fresh_dir, owner_env, run_async, stderr, stdout, strings, writes, OWNER};
use imageshare::core::Site;
use imageshare_emulator::world::ImageSeed;
use imageshare_emulator::{Emulator, World};
use serde_json::Value;

const FRIEND: &str = "100000000002";
const STRANGER: &str = "100000000003";
const ECS: [&str; 4] = ["--provider", "alibaba-ecs", "--region", "cn-hangzhou"];

/// The owner (the caller), a friend and a stranger; each of the others shares two ECS
/// images with the caller, who also owns one.
fn world() -> World {
    let mut b = World::builder()
        .account(OWNER, Site::China)
        .account(FRIEND, Site::China)
        .account(STRANGER, Site::China);
    for (who, tag) in [(FRIEND, "friend"), (STRANGER, "strange")] {
        for i in 0..2 {
            b = b.image(
                ImageSeed::new(
                    imageshare::alibaba::ECS,
                    &format!("m-{tag}{i}"),
                    who,
                    "cn-hangzhou",
                )
                .shared_with(&[OWNER]),
            );
        }
    }
    b = b.image(ImageSeed::new(
        imageshare::alibaba::ECS,
        "m-mine0",
        OWNER,
        "cn-hangzhou",
    ));
    let mut w = b.build().unwrap();
    w.copy_ready_after_ms = 0;
    w
}

fn args(extra: &[&str]) -> Vec<String> {
    strings(&[&ECS[..], extra].concat())
}

/// The ids of a `shared-with-me --output json` array.
fn ids(json: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_with_me_hides_and_counts_untrusted_owners() {
    let emu = Emulator::start(world()).await.unwrap();
    let home = fresh_dir("trust-list");
    let env = owner_env(&emu);
    let run = |a: Vec<String>| run_async(home.clone(), a, env.clone());

    // No policy: every received image.
    let o = run(args(&["--output", "json", "shared-with-me"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut all = ids(&stdout(&o));
    all.sort();
    assert_eq!(all, ["m-friend0", "m-friend1", "m-strange0", "m-strange1"]);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));

    // Trusting the friend: the stranger's two images are hidden, and counted.
    let o = run(args(&["--trust-owner", FRIEND, "shared-with-me"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("m-friend0") && text.contains("m-friend1"),
        "{text}"
    );
    assert!(!text.contains("m-strange"), "{text}");
    assert!(
        text.contains(&format!(
            "2 images hidden by the trust policy (owner {STRANGER}: 2)"
        )),
        "{text}"
    );
    // The owner as `shared-with-me` and `audit` print it, account:ID, alone or after
    // the provider: the same policy (#17 bug 9).
    for owner in [
        format!("account:{FRIEND}"),
        format!("alibaba-ecs:account:{FRIEND}"),
    ] {
        let o = run(args(&[
            "--output",
            "json",
            "--trust-owner",
            &owner,
            "shared-with-me",
        ]))
        .await;
        assert_eq!(o.status.code(), Some(0), "{owner}: {}", stderr(&o));
        let mut seen = ids(&stdout(&o));
        seen.sort();
        assert_eq!(seen, ["m-friend0", "m-friend1"], "{owner}");
    }
    // JSON: the same array shape, only the accepted images; the count on stderr.
    let o = run(args(&[
        "--output",
        "json",
        "--trust-owner",
        &format!("alibaba-ecs:{FRIEND}"),
        "shared-with-me",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut trusted = ids(&stdout(&o));
    trusted.sort();
    assert_eq!(trusted, ["m-friend0", "m-friend1"]);
    assert!(
        stderr(&o).contains(&format!("owner {STRANGER}: 2")),
        "{}",
        stderr(&o)
    );
    // A policy for another provider leaves ECS unrestricted.
    let o = run(args(&[
        "--output",
        "json",
        "--trust-owner",
        &format!("tencent-cvm:{FRIEND}"),
        "shared-with-me",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(ids(&stdout(&o)).len(), 4);
    // Nobody trusted here: everything hidden, the table says (none).
    let o = run(args(&["--trust-owner", "100000000099", "shared-with-me"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("(none)"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!("owner {FRIEND}: 2, owner {STRANGER}: 2")),
        "{}",
        stdout(&o)
    );
    assert!(writes(&emu.calls()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_and_migrate_refuse_untrusted_images_before_sending() {
    let emu = Emulator::start(world()).await.unwrap();
    let home = fresh_dir("trust-copy");
    let env = owner_env(&emu);
    let run = |a: Vec<String>| run_async(home.clone(), a, env.clone());
    let trust_friend = ["--trust-owner", FRIEND];

    for command in [
        &["copy", "m-strange0"][..],
        &["copy", "m-strange0", "--name", "mine-now"][..],
        &[
            "migrate",
            "copy",
            "m-strange1",
            "--to-region",
            "cn-hangzhou",
        ][..],
    ] {
        let o = run(args(&[&trust_friend[..], command].concat())).await;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{command:?}: {err}");
        assert!(err.contains("refusing to"), "{command:?}: {err}");
        assert!(err.contains(STRANGER), "{command:?}: {err}");
        assert!(
            err.contains(&format!("--trust-owner alibaba-ecs:{STRANGER}")),
            "{command:?}: how to allow it: {err}"
        );
    }
    assert_eq!(
        writes(&emu.calls()),
        Vec::<String>::new(),
        "nothing mutating sent"
    );

    // The friend's image and the caller's own go through.
    for image in ["m-friend0", "m-mine0"] {
        let o = run(args(&[&trust_friend[..], &["copy", image]].concat())).await;
        assert_eq!(o.status.code(), Some(0), "{image}: {}", stderr(&o));
        assert!(stdout(&o).trim().starts_with("m-"), "{}", stdout(&o));
    }
    // Without a policy the stranger's image can be copied too.
    let o = run(args(&["copy", "m-strange0"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(writes(&emu.calls()).len(), 3, "{:?}", writes(&emu.calls()));
}

#[test]
fn bad_trust_owners_are_usage_errors() {
    let home = fresh_dir("trust-usage");
    for (bad, says) in [
        ("aws:1", "unknown provider"),
        ("alibaba-ecs:", "names no owner"),
        ("1 2", "not allowed"),
        ("account:", "names no owner"),
        ("project:a:b", "not allowed"),
    ] {
        let o = common::run_in(
            &home,
            &strings(&["--trust-owner", bad, "shared-with-me"]),
            &[],
        );
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{bad}: {}", stderr(&o));
    }
    let o = common::run_in(&home, &strings(&["--trust-public", "shared-with-me"]), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--trust-owner"), "{}", stderr(&o));
}
