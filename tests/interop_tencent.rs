//! Interop: Tencent Cloud's official Python SDK (tencentcloud-sdk-python-cvm and
//! -lighthouse, versions pinned in tests/interop/tencent/requirements.txt), unchanged,
//! against an in-process emulator. The script tests/interop/tencent/interop.py does
//! share / list / unshare / describe on CVM and Lighthouse, the CVM -> Lighthouse move, a
//! bad secret and the over-quota answers; this test starts the emulator, runs it, and
//! checks the emulator's state and call log afterwards.
//!
//! Runs when `IMAGESHARE_INTEROP_PYTHON` names a Python interpreter with the requirements
//! installed, e.g.
//!
//! ```text
//! python3 -m venv /tmp/venv-tc
//! /tmp/venv-tc/bin/pip install -r tests/interop/tencent/requirements.txt
//! IMAGESHARE_INTEROP_PYTHON=/tmp/venv-tc/bin/python cargo test --test interop_tencent
//! ```
//!
//! Without it the test prints why it skipped and passes.

#[path = "interop/support.rs"]
mod support;

use std::process::Command;

use imageshare_core::Site;
use imageshare_emulator::{Emulator, World};

const OWNER: &str = "100000000001";
const PEER: &str = "100000000002";
const QUOTA_FIRST: u64 = 300_000_000_000;
const QUOTA_COUNT: u64 = 501;

fn key_arg(emu: &Emulator, account: &str) -> String {
    let key = emu
        .account(account)
        .and_then(|a| a.keys.tencent)
        .expect("account with a Tencent key");
    format!("{account}:{}:{}", key.id, key.secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_works_against_the_emulator() {
    let Some(python) = support::python("tencent") else {
        return;
    };
    let script = imageshare_tests::repo_path("tests/interop/tencent/interop.py");

    // The default world plus 501 more China-site accounts for the over-quota checks.
    let mut world = World::example();
    let mut extra = World::builder();
    for i in 0..QUOTA_COUNT {
        extra = extra.account(&(QUOTA_FIRST + i).to_string(), Site::China);
    }
    world.accounts.extend(extra.build().unwrap().accounts);
    let emu = Emulator::start(world).await.unwrap();

    let args = vec![
        script.display().to_string(),
        emu.base_url(),
        "--owner".into(),
        key_arg(&emu, OWNER),
        "--peer".into(),
        key_arg(&emu, PEER),
        "--quota-first".into(),
        QUOTA_FIRST.to_string(),
        "--quota-count".into(),
        QUOTA_COUNT.to_string(),
    ];
    let output = tokio::task::spawn_blocking(move || Command::new(python).args(args).output())
        .await
        .unwrap()
        .expect("run the interop script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "interop.py failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("interop: all checks passed"), "{stdout}");

    // The emulator saw what the SDK did: every action, the refusals, and a clean end state.
    for (provider, action) in [
        (imageshare::tencent::CVM, "DescribeImages"),
        (imageshare::tencent::CVM, "ModifyImageSharePermission"),
        (imageshare::tencent::CVM, "DescribeImageSharePermission"),
        (imageshare::tencent::CVM, "DeleteImages"),
        (imageshare::tencent::LIGHTHOUSE, "DescribeBlueprints"),
        (
            imageshare::tencent::LIGHTHOUSE,
            "ShareBlueprintAcrossAccounts",
        ),
        (
            imageshare::tencent::LIGHTHOUSE,
            "CancelShareBlueprintAcrossAccounts",
        ),
        (
            imageshare::tencent::LIGHTHOUSE,
            "DescribeBlueprintsShareAcrossAccountInfos",
        ),
        (imageshare::tencent::LIGHTHOUSE, "DescribeImagesToShare"),
        (
            imageshare::tencent::LIGHTHOUSE,
            "ModifyImageSharePermission",
        ),
        // CBS requests count for CVM in the call log.
        (imageshare::tencent::CVM, "DescribeSnapshots"),
    ] {
        assert!(
            emu.action_count(provider, action) > 0,
            "{provider} {action} never called"
        );
    }
    let errors: Vec<String> = emu.calls().into_iter().filter_map(|c| c.error).collect();
    for code in [
        "AuthFailure.SignatureFailure",
        "OverQuota",
        "InvalidParameterValue.LimitExceeded",
        "FailedOperation.AccountAlreadyExists",
        "InvalidImageId.InShared",
    ] {
        assert!(
            errors.iter().any(|e| e == code),
            "{code} never answered: {errors:?}"
        );
    }
    assert!(emu.grants("img-6pb6lrmy").is_empty());
    assert!(emu.grants("lhbp-6jc6l8yb").is_empty());
    // The CVM -> Lighthouse move was undone.
    assert!(emu.with_engine(|e| e.images().all(|i| i.id != "lhbp-6pb6lrmy")));
}
