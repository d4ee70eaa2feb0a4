//! The CLI's audit trail against an in-process emulator:
//!
//! - `apply --yes` of a manifest (with 5xx faults on the share calls) records every grant
//!   the emulator gained, each once, with the request ids of the emulator's successful
//!   share calls; `imageshare audit` prints that trail, filtered by image and principal;
//! - the trail is on by default, under `$XDG_STATE_HOME` else `~/.local/state`, and
//!   `--no-audit` writes nothing anywhere;
//! - a trail that cannot be opened fails the command (status 1, the path named) before
//!   any request is sent.
//!
//! Every run has a clean environment with a scratch `HOME` (and `XDG_STATE_HOME` where
//! set), so nothing is ever written to the real home directory.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{fresh_dir, owner_env, run_async, stderr, stdout, strings, OWNER};
use imageshare::core::audit::{AuditAction, AuditOutcome, AuditRecord};
use imageshare::core::{Provider, Site};
use imageshare::AuditLog;
use imageshare_emulator::world::ImageSeed;
use imageshare_emulator::{Emulator, FaultPlan, FaultRule, World};

const SHARE: &str = "ModifyImageSharePermission";
const CVM: [&str; 4] = ["--provider", "tencent-cvm", "--region", "ap-guangzhou"];

fn peers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("3100000000{i:02}")).collect()
}

/// The CVM and ECS images of the test: `img-trail0..3`, `m-trail0..3`.
fn images() -> Vec<(Provider, String)> {
    (0..4)
        .flat_map(|i| {
            [
                (imageshare::tencent::CVM, format!("img-trail{i}")),
                (imageshare::alibaba::ECS, format!("m-trail{i}")),
            ]
        })
        .collect()
}

/// The owner, 12 peers, the test's images (the first of each provider already shared with
/// the first peer), and `faults`.
fn world(faults: FaultPlan) -> World {
    let mut b = World::builder().account(OWNER, Site::China);
    for p in peers(12) {
        b = b.account(&p, Site::China);
    }
    for (provider, id) in images() {
        let region = match provider {
            imageshare::tencent::CVM => "ap-guangzhou",
            _ => "cn-hangzhou",
        };
        let seed = ImageSeed::new(provider, &id, OWNER, region);
        b = b.image(if id.ends_with('0') {
            seed.shared_with(&["310000000000"])
        } else {
            seed
        });
    }
    b.faults(faults).build().unwrap()
}

/// A manifest sharing every image of the test with every peer.
fn write_manifest(dir: &Path) -> PathBuf {
    let list = peers(12)
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut m = String::new();
    for (provider, id) in images() {
        let region = match provider {
            imageshare::tencent::CVM => "ap-guangzhou",
            _ => "cn-hangzhou",
        };
        m.push_str(&format!(
            "[[image]]\nprovider = \"{provider}\"\nregion = \"{region}\"\nid = \"{id}\"\nshare_with = [{list}]\n\n"
        ));
    }
    let path = dir.join("images.toml");
    std::fs::write(&path, m).unwrap();
    path
}

/// `(image, principal)` of every grant the emulator holds on the test's images.
fn held(emu: &Emulator) -> BTreeSet<(String, String)> {
    images()
        .into_iter()
        .flat_map(|(_, id)| {
            emu.grants(&id)
                .into_iter()
                .map(move |g| (id.clone(), g.principal))
        })
        .collect()
}

/// `(image, principal)` of the trail's records with this action and outcome, in order.
fn pairs(
    trail: &[AuditRecord],
    action: AuditAction,
    outcome: AuditOutcome,
) -> Vec<(String, String)> {
    trail
        .iter()
        .filter(|r| r.action == action && r.outcome == outcome)
        .map(|r| (r.image.to_string(), r.principal.id().to_owned()))
        .collect()
}

/// `env` plus `XDG_STATE_HOME=state`.
fn with_state(env: &[(String, String)], state: &Path) -> Vec<(String, String)> {
    let mut env = env.to_vec();
    env.push(("XDG_STATE_HOME".into(), state.display().to_string()));
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trail_of_an_apply_equals_the_emulator_grant_log() {
    // One share call in ten answered 5xx: retried, and recorded as failed attempts.
    let faults =
        FaultPlan::seeded(11).rule(FaultRule::new().with_action(SHARE).with_error_rate(0.1));
    let emu = Emulator::start(world(faults)).await.unwrap();
    let dir = fresh_dir("audit-apply");
    let manifest = write_manifest(&dir);
    let trail_path = dir.join("trail/audit.jsonl");
    let state = dir.join("state");
    let env = with_state(&owner_env(&emu), &state);
    let before = held(&emu);

    let args = strings(&[
        "--audit-log",
        trail_path.to_str().unwrap(),
        "--output",
        "json",
        "apply",
        "-f",
        manifest.to_str().unwrap(),
        "--yes",
    ]);
    let o = run_async(dir.clone(), args, env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        !emu.faults_served().is_empty(),
        "some share calls were answered 5xx"
    );
    assert!(
        !state.exists(),
        "--audit-log given: the default trail is not written"
    );

    // Every grant the emulator gained is in the trail exactly once, and nothing else.
    let trail = AuditLog::read(&trail_path).unwrap();
    let granted = pairs(&trail, AuditAction::Grant, AuditOutcome::Granted);
    let granted_set: BTreeSet<_> = granted.iter().cloned().collect();
    assert_eq!(granted.len(), granted_set.len(), "a grant recorded twice");
    let gained: BTreeSet<_> = held(&emu).difference(&before).cloned().collect();
    assert_eq!(granted_set, gained);
    assert_eq!(gained.len(), images().len() * 12 - 2, "{gained:?}");
    // The request ids of the grants are those of the emulator's successful share calls.
    for provider in [imageshare::tencent::CVM, imageshare::alibaba::ECS] {
        let ids: BTreeSet<String> = trail
            .iter()
            .filter(|r| r.provider == provider && r.outcome == AuditOutcome::Granted)
            .map(|r| r.request_id.clone().expect("a grant has a request id"))
            .collect();
        let served: BTreeSet<String> = emu
            .calls()
            .into_iter()
            .filter(|c| c.provider == provider && c.action == SHARE && c.error.is_none())
            .map(|c| c.request_id)
            .collect();
        assert_eq!(ids, served, "{provider}");
    }
    // Failed attempts that reached the provider are in the trail with their code.
    for r in trail.iter().filter(|r| r.outcome == AuditOutcome::Failed) {
        assert!(r.error_code.is_some(), "{r:?}");
    }

    // `imageshare audit`: who was granted img-trail1, from the same file.
    let audit = |extra: &[&str]| {
        let mut args = strings(&[
            "--audit-log",
            trail_path.to_str().unwrap(),
            "--output",
            "json",
        ]);
        args.extend(strings(extra));
        run_async(dir.clone(), args, env.clone())
    };
    let o = audit(&["audit", "--image", "img-trail1", "--action", "grant"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["schema"], "imageshare/audit/v1");
    let printed: Vec<AuditRecord> = serde_json::from_value(doc["records"].clone()).unwrap();
    let want: Vec<AuditRecord> = trail
        .iter()
        .filter(|r| r.image.as_str() == "img-trail1" && r.action == AuditAction::Grant)
        .cloned()
        .collect();
    assert_eq!(printed, want);
    let who: BTreeSet<String> = printed
        .iter()
        .filter(|r| r.outcome == AuditOutcome::Granted)
        .map(|r| r.principal.id().to_owned())
        .collect();
    let holders: BTreeSet<String> = emu
        .grants("img-trail1")
        .into_iter()
        .map(|g| g.principal)
        .collect();
    assert_eq!(who, holders);

    // One principal across images, as `account:ID`, in text.
    let args = strings(&[
        "--audit-log",
        trail_path.to_str().unwrap(),
        "audit",
        "--principal",
        "account:310000000005",
    ]);
    let o = run_async(dir.clone(), args, env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("TIME"), "{text}");
    let rows: Vec<&str> = text
        .lines()
        .skip(1)
        .filter(|l| l.contains(" granted "))
        .collect();
    assert_eq!(rows.len(), images().len(), "{text}");
    assert!(
        rows.iter().all(|l| l.contains("account:310000000005")),
        "{text}"
    );

    // Reading a trail that is not there says so, naming the path.
    let missing = dir.join("nothere.jsonl");
    let args = strings(&["--audit-log", missing.to_str().unwrap(), "audit"]);
    let o = run_async(dir.clone(), args, env).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(missing.to_str().unwrap()),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trail_is_on_by_default_and_no_audit_writes_nothing() {
    let emu = Emulator::start(world(FaultPlan::default())).await.unwrap();
    let home = fresh_dir("audit-default");
    let state = home.join("state");
    let env = owner_env(&emu);
    let share = |to: &str| {
        let mut args = strings(&CVM);
        args.extend(strings(&["share", "img-trail1", "img-trail2", "--to", to]));
        args
    };

    // --no-audit: the grants are made, and no file appears anywhere under HOME.
    let args = [strings(&["--no-audit"]), share("310000000001")].concat();
    let o = run_async(home.clone(), args, with_state(&env, &state)).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(emu.grants("img-trail1").len(), 1);
    assert_eq!(emu.grants("img-trail2").len(), 1);
    let files: Vec<_> = std::fs::read_dir(&home)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(files.is_empty(), "--no-audit wrote {files:?}");

    // Default with XDG_STATE_HOME: $XDG_STATE_HOME/imageshare/audit.jsonl.
    let o = run_async(
        home.clone(),
        share("310000000002"),
        with_state(&env, &state),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let at_xdg = state.join("imageshare/audit.jsonl");
    let trail = AuditLog::read(&at_xdg).unwrap();
    let got: BTreeSet<_> = pairs(&trail, AuditAction::Grant, AuditOutcome::Granted)
        .into_iter()
        .collect();
    assert_eq!(
        got,
        BTreeSet::from([
            ("img-trail1".to_owned(), "310000000002".to_owned()),
            ("img-trail2".to_owned(), "310000000002".to_owned()),
        ])
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&at_xdg).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }

    // Default without XDG_STATE_HOME: ~/.local/state/imageshare/audit.jsonl; an unshare
    // is recorded as revokes.
    let args = strings(&[&CVM[..], &["unshare", "img-trail1", "--all"][..]].concat());
    let o = run_async(home.clone(), args, env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let at_home = home.join(".local/state/imageshare/audit.jsonl");
    let trail = AuditLog::read(&at_home).unwrap();
    let revoked: BTreeSet<_> = pairs(&trail, AuditAction::Revoke, AuditOutcome::Revoked)
        .into_iter()
        .collect();
    assert_eq!(
        revoked,
        BTreeSet::from([
            ("img-trail1".to_owned(), "310000000001".to_owned()),
            ("img-trail1".to_owned(), "310000000002".to_owned()),
        ])
    );
    assert!(emu.grants("img-trail1").is_empty());
    // Listing changes nothing and records nothing.
    let len = std::fs::metadata(&at_home).unwrap().len();
    let args = strings(&[&CVM[..], &["sharees", "img-trail2"][..]].concat());
    let o = run_async(home.clone(), args, env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::metadata(&at_home).unwrap().len(), len);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trail_that_cannot_be_opened_fails_before_anything_is_sent() {
    let emu = Emulator::start(world(FaultPlan::default())).await.unwrap();
    let dir = fresh_dir("audit-unwritable");
    let manifest = write_manifest(&dir);
    // A path under a regular file: no directory can be made there, whoever runs the test
    // (root included).
    std::fs::write(dir.join("plain-file"), "not a directory").unwrap();
    let bad = dir.join("plain-file/audit.jsonl");
    let env = owner_env(&emu);
    let ecs = ["--provider", "alibaba-ecs", "--region", "cn-hangzhou"];
    let commands: Vec<Vec<&str>> = vec![
        [&CVM[..], &["share", "img-trail1", "--to", "310000000001"]].concat(),
        [
            &CVM[..],
            &["share", "img-trail1", "img-trail2", "--to", "310000000001"],
        ]
        .concat(),
        [&CVM[..], &["unshare", "img-trail0", "--all"]].concat(),
        [
            &CVM[..],
            &["delete", "img-trail3", "--unshare-first", "--yes"],
        ]
        .concat(),
        [
            &ecs[..],
            &["migrate", "copy", "m-trail1", "--to-region", "cn-shanghai"],
        ]
        .concat(),
        vec!["apply", "-f", manifest.to_str().unwrap(), "--yes"],
    ];
    // The "audit" file is a directory: opening it for appending fails too.
    let as_dir = dir.join("a-directory");
    std::fs::create_dir_all(&as_dir).unwrap();
    for path in [&bad, &as_dir] {
        for command in &commands {
            let args = strings(&[&["--audit-log", path.to_str().unwrap()][..], command].concat());
            let o = run_async(dir.clone(), args, env.clone()).await;
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{command:?}: {err}");
            assert!(err.contains(path.to_str().unwrap()), "{command:?}: {err}");
            assert!(err.contains("nothing was sent"), "{command:?}: {err}");
            assert!(err.contains("--no-audit"), "{command:?}: {err}");
            assert!(stdout(&o).is_empty(), "{command:?}: {}", stdout(&o));
        }
    }
    let calls: Vec<String> = emu.calls().iter().map(|c| c.action.clone()).collect();
    assert!(calls.is_empty(), "sent: {calls:?}");
    assert_eq!(emu.grants("img-trail0").len(), 1);
}

/// #17 bug 2: a record cut short (crash, full disk) is isolated. The next command starts
/// a new line, and `imageshare audit` prints every record around the fragment, naming
/// its line on stderr, with status 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_tail_is_isolated_and_skipped() {
    let emu = Emulator::start(world(FaultPlan::default())).await.unwrap();
    let home = fresh_dir("audit-torn");
    let trail = home.join("audit.jsonl");
    let env = owner_env(&emu);
    let share = |image: &str, to: &str| {
        let mut args = strings(&["--audit-log", &trail.display().to_string()]);
        args.extend(strings(&CVM));
        args.extend(strings(&["share", image, "--to", to]));
        args
    };
    let o = run_async(
        home.clone(),
        share("img-trail1", "310000000001"),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The crash: half a record, no newline.
    let fragment = r#"{"time":"2026-01-01T00:00:00.000Z","provider":"tencent-cvm","regi"#;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&trail)
        .unwrap();
    std::io::Write::write_all(&mut f, fragment.as_bytes()).unwrap();
    drop(f);
    let o = run_async(
        home.clone(),
        share("img-trail2", "310000000002"),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let text = std::fs::read_to_string(&trail).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[1], fragment, "the fragment keeps its own line");
    let read = AuditLog::read_trail(&trail).unwrap();
    assert_eq!(read.records.len(), 2);
    assert_eq!(read.skipped.len(), 1);
    assert_eq!(read.skipped[0].line, 2);
    assert_eq!(read.skipped[0].bytes, fragment.len());

    let args = strings(&[
        "--audit-log",
        &trail.display().to_string(),
        "-o",
        "json",
        "audit",
    ]);
    let o = run_async(home.clone(), args, env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let printed: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let images: Vec<&str> = printed["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["image"].as_str().unwrap())
        .collect();
    assert_eq!(images, ["img-trail1", "img-trail2"]);
    let err = stderr(&o);
    assert!(err.contains("line 2: not an audit record"), "{err}");
    assert!(!err.contains("regi\""), "the fragment is not echoed: {err}");
}

/// #17 bug 2: two processes appending to one trail at once never interleave their
/// records: every line of the trail is a whole record, and each grant is there once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_appending_at_once_never_interleave() {
    let emu = Emulator::start(world(FaultPlan::default())).await.unwrap();
    let home = fresh_dir("audit-concurrent");
    let trail = home.join("audit.jsonl");
    let env = owner_env(&emu);
    let to = peers(12).join(",");
    let run = |provider: &[&str], images: &[&str]| {
        let mut args = strings(&["--audit-log", &trail.display().to_string()]);
        args.extend(strings(provider));
        args.push("share".into());
        args.extend(strings(images));
        args.extend(strings(&["--to", &to]));
        run_async(home.clone(), args, env.clone())
    };
    let ecs = ["--provider", "alibaba-ecs", "--region", "cn-hangzhou"];
    let (a, b) = tokio::join!(
        run(&CVM, &["img-trail1", "img-trail2", "img-trail3"]),
        run(&ecs, &["m-trail1", "m-trail2", "m-trail3"]),
    );
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(b.status.code(), Some(0), "{}", stderr(&b));
    let read = AuditLog::read_trail(&trail).unwrap();
    assert!(
        read.skipped.is_empty(),
        "interleaved lines: {:?}",
        read.skipped
    );
    let granted = pairs(&read.records, AuditAction::Grant, AuditOutcome::Granted);
    let distinct: BTreeSet<_> = granted.iter().cloned().collect();
    assert_eq!(granted.len(), 6 * 12, "{granted:?}");
    assert_eq!(distinct.len(), granted.len());
    assert_eq!(
        distinct,
        held(&emu)
            .into_iter()
            .filter(|(i, _)| !i.ends_with('0'))
            .collect()
    );
}
