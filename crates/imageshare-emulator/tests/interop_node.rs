//! The clouds' official Node.js SDKs against the emulator, unchanged, pointed at it the way
//! their docs set an endpoint (scripts in tests/interop/node/).
//!
//! The SDKs are npm packages pinned in tests/interop/node/package.json, installed by
//! tests/run.sh into target/interop-node (re-installed only when the file changes), which
//! it names in IMAGESHARE_INTEROP_NODE. Without `node`, or without the installed packages,
//! each test prints why it is skipped and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use imageshare_emulator::{Emulator, World};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The directory holding `node_modules` with the SDKs, or why the test is skipped.
fn node_env() -> Result<PathBuf, String> {
    if Command::new("node").arg("--version").output().is_err() {
        return Err("`node` is not installed".into());
    }
    let dir = std::env::var_os("IMAGESHARE_INTEROP_NODE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/interop-node"));
    if !dir
        .join("node_modules/tencentcloud-sdk-nodejs-cvm")
        .is_dir()
    {
        return Err(format!(
            "the Node.js SDKs are not installed in {} (tests/run.sh installs them with npm)",
            dir.display()
        ));
    }
    Ok(dir)
}

/// Runs `script` (in tests/interop/node/) with `env`; its one line of JSON.
fn run(dir: &Path, script: &str, env: &[(&str, String)]) -> Value {
    let mut cmd = Command::new("node");
    cmd.arg(repo().join("tests/interop/node").join(script))
        .env("NODE_PATH", dir.join("node_modules"))
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("http_proxy");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed: {stderr}\n{stdout}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{script}: {e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_nodejs_sdk_shares_through_the_emulator() {
    let dir = match node_env() {
        Ok(d) => d,
        Err(why) => {
            eprintln!("SKIP tencent_nodejs_sdk: {why}");
            return;
        }
    };
    let emu = Emulator::start(World::example()).await.unwrap();
    let key = emu.account("100000000001").unwrap().keys.tencent.unwrap();
    let env = [
        ("IMAGESHARE_ENDPOINT", emu.addr().to_string()),
        ("TENCENTCLOUD_SECRET_ID", key.id.clone()),
        ("TENCENTCLOUD_SECRET_KEY", key.secret.clone()),
    ];
    // The script blocks this thread; the emulator answers on the other worker.
    let out = run(&dir, "tencent.js", &env);
    assert_eq!(
        out["describe"],
        serde_json::json!(["img-6pb6lrmy"]),
        "{out}"
    );
    assert_eq!(out["sharees"], serde_json::json!(["100000000002"]), "{out}");
    assert_eq!(
        out["blueprints"],
        serde_json::json!(["lhbp-6jc6l8yb"]),
        "{out}"
    );
    assert_eq!(out["refusal"], "InvalidImageId.NotFound", "{out}");
    let grants: Vec<String> = emu
        .grants("img-6pb6lrmy")
        .into_iter()
        .map(|g| g.principal)
        .collect();
    assert_eq!(grants, ["100000000002"]);
    // Every call was authenticated as the account, routed to the product it was for.
    let calls = emu.calls();
    assert!(
        calls
            .iter()
            .all(|c| c.account.as_deref() == Some("100000000001")),
        "{calls:?}"
    );
    assert_eq!(
        emu.action_count(imageshare_tencent::LIGHTHOUSE, "DescribeBlueprints"),
        1
    );
    assert_eq!(
        emu.action_count(imageshare_tencent::CVM, "ModifyImageSharePermission"),
        2
    );
    let share = calls
        .iter()
        .find(|c| c.action == "ModifyImageSharePermission")
        .unwrap();
    assert_eq!(out["share_request_id"], share.request_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_nodejs_sdk_with_a_wrong_secret_is_refused() {
    let dir = match node_env() {
        Ok(d) => d,
        Err(why) => {
            eprintln!("SKIP tencent_nodejs_sdk: {why}");
            return;
        }
    };
    let emu = Emulator::start(World::example()).await.unwrap();
    let out = Command::new("node")
        .arg(repo().join("tests/interop/node/tencent.js"))
        .env("NODE_PATH", dir.join("node_modules"))
        .env("IMAGESHARE_ENDPOINT", emu.addr().to_string())
        .env("TENCENTCLOUD_SECRET_ID", "AKIDEMU0000000000000000000000001")
        .env("TENCENTCLOUD_SECRET_KEY", "not-the-secret")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("AuthFailure.SignatureFailure"), "{stderr}");
    assert!(emu.grants("img-6pb6lrmy").is_empty());
}

/// Runs an Alibaba script (the same calls through another SDK) when `package` is
/// installed, and checks what it did against the emulator's state and call log.
fn alibaba_shares_through_the_emulator(label: &str, package: &str, script: &str) {
    let dir = match node_env() {
        Ok(d) => d,
        Err(why) => {
            eprintln!("SKIP {label}: {why}");
            return;
        }
    };
    if !dir.join("node_modules").join(package).is_dir() {
        eprintln!("SKIP {label}: {package} is not installed");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let emu = rt.block_on(Emulator::start(World::example())).unwrap();
    let key = emu.account("100000000001").unwrap().keys.alibaba.unwrap();
    let env = [
        ("IMAGESHARE_ENDPOINT", emu.base_url()),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", key.id.clone()),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", key.secret.clone()),
    ];
    let out = run(&dir, script, &env);
    assert_eq!(
        out["describe"],
        serde_json::json!(["m-bp18ygjuqnwhechc"]),
        "{out}"
    );
    assert_eq!(out["sharees"], serde_json::json!(["100000000002"]), "{out}");
    assert_eq!(out["refusal"], "InvalidImageId.NotFound", "{out}");
    let grants: Vec<String> = emu
        .grants("m-bp18ygjuqnwhechc")
        .into_iter()
        .map(|g| g.principal)
        .collect();
    assert_eq!(grants, ["100000000002"]);
    let calls = emu.calls();
    assert!(
        calls
            .iter()
            .all(|c| c.account.as_deref() == Some("100000000001")),
        "{calls:?}"
    );
    let share = calls
        .iter()
        .find(|c| c.action == "ModifyImageSharePermission")
        .unwrap();
    assert_eq!(out["share_request_id"], share.request_id.as_str());
}

#[test]
fn alibaba_pop_core_rpc_shares_through_the_emulator() {
    alibaba_shares_through_the_emulator("alibaba_pop_core", "@alicloud/pop-core", "alibaba.js");
}

#[test]
fn alibaba_tea_ecs_sdk_shares_through_the_emulator() {
    alibaba_shares_through_the_emulator(
        "alibaba_tea_ecs",
        "@alicloud/ecs20140526",
        "alibaba_tea.js",
    );
}
