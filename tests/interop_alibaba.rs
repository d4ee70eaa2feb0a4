//! Interop: Alibaba Cloud's own Python SDKs (alibabacloud-ecs20140526 and
//! alibabacloud-swas-open20200601 on the Tea stack, ACS3 and V2; aliyun-python-sdk-core +
//! aliyun-python-sdk-ecs, RPC v1; alibabacloud-resourcesharing20200110 with a resource
//! directory, tests/interop/alibaba/resource_sharing.py), unchanged, against the emulator
//! started in-process; with ECS community images (publish, the peer's community listing,
//! unpublish) in a world where the owner has signed the community-image terms.
//!
//! Runs when `IMAGESHARE_INTEROP_PYTHON` names a Python with the packages of
//! `tests/interop/alibaba/requirements.txt` installed (tests/run.sh sets one up);
//! otherwise it prints a skip line and passes.

#[path = "interop/support.rs"]
mod support;

use std::path::PathBuf;
use std::process::Command;

use imageshare_core::Site;
use imageshare_emulator::world::DirectorySeed;
use imageshare_emulator::{Emulator, ImageSeed, World};

const OWNER: &str = "100000000001";
const PEER: &str = "100000000002";
const REGION: &str = "cn-hangzhou";

fn sharee(i: usize) -> String {
    format!("1100000000{i:02}")
}

fn world() -> World {
    let mut b = World::builder()
        .account(OWNER, Site::China)
        .community_terms_signed()
        .account(PEER, Site::China);
    for i in 0..51 {
        b = b.account(&sharee(i), Site::China);
    }
    let fifty: Vec<String> = (0..50).map(sharee).collect();
    let fifty: Vec<&str> = fifty.iter().map(String::as_str).collect();
    b.image(ImageSeed::new(imageshare::alibaba::ECS, "m-interop0001", OWNER, REGION).name("golden"))
        .image(
            ImageSeed::new(imageshare::alibaba::ECS, "m-interopfull", OWNER, REGION)
                .shared_with(&fifty),
        )
        .image(
            ImageSeed::new(imageshare::alibaba::SAS, "m-interopsas1", OWNER, REGION)
                .kind(imageshare_core::ImageKind::LightweightHost),
        )
        .build()
        .expect("valid interop world")
}

/// Runs an interop script to its end, prints its output, fails the test when it failed,
/// and returns its stdout.
async fn run_script(mut cmd: Command) -> String {
    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("the interop script runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the interop script failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_alibaba_sdks_work_against_the_emulator() {
    let Some(python) = support::python("alibaba") else {
        return;
    };
    let emu = Emulator::start(world()).await.expect("emulator starts");
    let script: PathBuf = imageshare_tests::repo_path("tests/interop/alibaba/interop.py");
    let mut cmd = Command::new(&python);
    cmd.arg(&script)
        .arg(emu.base_url())
        .arg(format!("LTAI{OWNER}"))
        .arg(format!("ali-secret-{OWNER}"))
        .args(["--region", REGION, "--image", "m-interop0001"])
        .args([
            "--quota-image",
            "m-interopfull",
            "--sas-image",
            "m-interopsas1",
        ])
        .args(["--peer", PEER, "--extra", &sharee(50)])
        .args(["--peer-key", &format!("LTAI{PEER}:ali-secret-{PEER}")]);
    let stdout = run_script(cmd).await;
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");

    // The emulator saw what the SDKs did.
    assert!(
        emu.grants("m-interop0001").is_empty(),
        "shared, then unshared"
    );
    assert_eq!(
        emu.grants("m-interopfull").len(),
        50,
        "the over-quota share changed nothing"
    );
    assert!(emu.grants("m-interopsas1").is_empty());
    let calls = emu.calls();
    let count = |code: &str| {
        calls
            .iter()
            .filter(|c| c.error.as_deref() == Some(code))
            .count()
    };
    assert!(count("SignatureDoesNotMatch") >= 4, "{calls:?}");
    assert!(count("SignatureNonceUsed") >= 3, "{calls:?}");
    assert!(count("QuotaExceed.ShareImageUser") >= 3, "{calls:?}");
    assert!(count("CustomImageInShare") >= 1, "{calls:?}");
    // Published, listed, unpublished (Tea ACS3 and the legacy SDK), once refused.
    assert_eq!(count("Image.NotPublic"), 1, "{calls:?}");
    assert!(!emu.with_engine(|e| e.is_community("m-interop0001")));
    // Share + unshare for each of ECS ACS3, ECS V2 and the legacy SDK, plus over-quota tries.
    assert!(emu.action_count(imageshare::alibaba::ECS, "ModifyImageSharePermission") >= 8);
    assert_eq!(
        emu.action_count(imageshare::alibaba::SAS, "AddCustomImageShareAccount"),
        1
    );
    assert_eq!(
        emu.action_count(imageshare::alibaba::SAS, "RemoveCustomImageShareAccount"),
        1
    );
}

/// The world of the Resource Sharing interop: OWNER manages a directory with folder
/// `fd-Interop` holding PEER; `OTHER` is a member outside the folder.
fn org_world() -> World {
    World::builder()
        .account(OWNER, Site::China)
        .account(PEER, Site::China)
        .account(OTHER, Site::China)
        .image(ImageSeed::new(
            imageshare::alibaba::ECS,
            "m-interoporg1",
            OWNER,
            REGION,
        ))
        .resource_directory(
            DirectorySeed::new("rd-Interop", OWNER)
                .folder("fd-Interop", None)
                .member(PEER, Some("fd-Interop"))
                .member(OTHER, None),
        )
        .build()
        .expect("valid interop world")
}

const OTHER: &str = "100000000003";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_resource_sharing_sdk_works_against_the_emulator() {
    let Some(python) = support::python("alibaba") else {
        return;
    };
    let emu = Emulator::start(org_world()).await.expect("emulator starts");
    let script: PathBuf = imageshare_tests::repo_path("tests/interop/alibaba/resource_sharing.py");
    let key = |a: &str| format!("LTAI{a}:ali-secret-{a}");
    let mut cmd = Command::new(&python);
    cmd.arg(&script)
        .arg(emu.base_url())
        .args(["--owner", &key(OWNER), "--member", &key(PEER)])
        .args(["--other", &key(OTHER), "--folder", "fd-Interop"])
        .args(["--image", "m-interoporg1", "--region", REGION]);
    let stdout = run_script(cmd).await;
    assert!(stdout.contains(": 2 passed, 0 failed"), "{stdout}");
    // Both signature versions created their own share, and nothing went through the
    // image's own share list.
    let rs = imageshare_emulator::frontend::alibaba::resource_sharing::ALIBABA_RESOURCE_SHARING;
    assert_eq!(emu.action_count(rs, "CreateResourceShare"), 2);
    assert_eq!(emu.with_engine(|e| e.resource_shares().count()), 2);
    assert!(emu.grants("m-interoporg1").is_empty());
    let refused = |code: &str| {
        emu.calls()
            .iter()
            .filter(|c| c.error.as_deref() == Some(code))
            .count()
    };
    assert_eq!(refused("InvalidParameter.Targets.Length"), 2);
    assert_eq!(refused("DisassociateInvalid"), 2);
}
