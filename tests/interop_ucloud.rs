//! Interop: UCloud's official Python SDK (`ucloud-sdk-python3`, pinned in
//! `tests/interop/ucloud/requirements.txt`), unchanged, against the in-process emulator.
//!
//! Runs only when `IMAGESHARE_INTEROP_PYTHON` names a Python interpreter that has the
//! pinned SDK installed (`tests/run.sh` prepares one); otherwise it prints why it skipped.
//! The script `tests/interop/ucloud/interop.py` drives DescribeImage, CopyCustomImage
//! (TargetProjectId), TerminateCustomImage, imageshare's sharing actions through the SDK's
//! generic `invoke`, and checks RetCode 171 for a wrong private key; this test then checks
//! the emulator's state and call log.

#[path = "interop/support.rs"]
mod support;

use std::process::Command;

use imageshare_emulator::{Emulator, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_against_the_emulator() {
    let Some(python) = support::python("ucloud") else {
        return;
    };
    let world = World::example();
    let owner = world.account("100000000001").expect("account 1").clone();
    let recipient = world.account("100000000002").expect("account 2").clone();
    let owner_key = owner.keys.ucloud.clone().expect("UCloud key of account 1");
    let recipient_key = recipient
        .keys
        .ucloud
        .clone()
        .expect("UCloud key of account 2");
    let emu = Emulator::start(world).await.expect("emulator");

    let script = imageshare_tests::repo_path("tests/interop/ucloud/interop.py");
    let args: Vec<String> = vec![
        script.display().to_string(),
        emu.base_url(),
        "--public-key".into(),
        owner_key.public.clone(),
        "--private-key".into(),
        owner_key.private.clone(),
        "--project-id".into(),
        owner.projects[0].clone(),
        "--recipient-public-key".into(),
        recipient_key.public.clone(),
        "--recipient-private-key".into(),
        recipient_key.private.clone(),
        "--recipient-project-id".into(),
        recipient.projects[0].clone(),
        "--region".into(),
        "cn-bj2".into(),
        "--image".into(),
        "uimage-golden01".into(),
        "--lightweight-image".into(),
        "uimage-ulhost01".into(),
    ];
    let output = tokio::task::spawn_blocking(move || Command::new(python).args(&args).output())
        .await
        .expect("join")
        .expect("the interop script starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "interop.py failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    let created: serde_json::Value = serde_json::from_str(
        stdout
            .lines()
            .last()
            .expect("the script prints what it created"),
    )
    .expect("a JSON summary");
    let copied = created["copied"].as_str().expect("copied id").to_owned();
    let saved = created["saved"].as_str().expect("saved id").to_owned();

    // The share was granted, then cancelled by the sharer.
    assert!(emu.grants("uimage-golden01").is_empty());
    // The copy was made in cn-sh2 and terminated; the recipient's saved image remains.
    let (copy_exists, saved_record) = emu.with_engine(|e| {
        (
            e.images().any(|i| i.id == copied),
            e.images().find(|i| i.id == saved).cloned(),
        )
    });
    assert!(!copy_exists, "{copied} was terminated");
    let saved_record = saved_record.expect("the saved image exists");
    assert_eq!(saved_record.owner, recipient.projects[0]);
    assert_eq!(saved_record.name, "interop-saved");
    assert_eq!(saved_record.copied_from.as_deref(), Some("uimage-golden01"));

    for action in [
        "DescribeImage",
        "CopyCustomImage",
        "TerminateCustomImage",
        "ShareCustomImage",
        "CancelShareCustomImage",
        "DescribeCustomImageShare",
        "DescribeSharedImage",
        "SaveSharedImage",
    ] {
        assert!(
            emu.action_count(imageshare::ucloud::UHOST, action) >= 1,
            "the SDK called {action}"
        );
    }
    let calls = emu.calls();
    let errors = |code: &str| {
        calls
            .iter()
            .filter(|c| c.provider == imageshare::ucloud::UHOST && c.error.as_deref() == Some(code))
            .count()
    };
    assert_eq!(errors("171"), 1, "one wrong-private-key call");
    assert_eq!(errors("172"), 1, "one unknown-public-key call");
    // Every other call of the SDK authenticated.
    assert!(calls
        .iter()
        .filter(|c| c.error.as_deref() != Some("171") && c.error.as_deref() != Some("172"))
        .all(|c| c.account.is_some()));
    println!(
        "interop: ucloud-sdk-python3 passed against {}",
        emu.base_url()
    );
}
