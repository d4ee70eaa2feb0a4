//! Interop: copies into other regions through the clouds' own Python SDKs, unchanged
//! (alibabacloud-ecs20140526, tencentcloud-sdk-python-cvm and -lighthouse, pinned in
//! tests/interop/{alibaba,tencent}/requirements.txt), against an in-process emulator whose
//! copies take two seconds: tests/interop/copies/copies.py copies with each cloud's action
//! (ECS CopyImage with DestinationImageName, CVM SyncImages with ImageName, Lighthouse
//! SyncBlueprint) and finds each copy by name in its target region while it is being made,
//! with its progress, then once available: what the distribution engine
//! (`imageshare_core::distribute`) relies on.
//!
//! Runs when `IMAGESHARE_INTEROP_PYTHON` names a Python with those requirements installed
//! (tests/run.sh sets one up); otherwise it prints a skip line and passes.

#[path = "interop/support.rs"]
mod support;

use std::process::Command;

use imageshare_core::Site;
use imageshare_emulator::{Emulator, ImageSeed, World};

const OWNER: &str = "100000000001";

fn world() -> World {
    World::builder()
        .account(OWNER, Site::China)
        .image(
            ImageSeed::new(
                imageshare::alibaba::ECS,
                "m-golden0001",
                OWNER,
                "cn-hangzhou",
            )
            .name("golden"),
        )
        .image(
            ImageSeed::new(
                imageshare::tencent::CVM,
                "img-golden01",
                OWNER,
                "ap-guangzhou",
            )
            .name("golden"),
        )
        .image(
            ImageSeed::new(
                imageshare::tencent::LIGHTHOUSE,
                "lhbp-golden01",
                OWNER,
                "ap-guangzhou",
            )
            .name("golden-bp"),
        )
        .copy_ready_after_ms(2_000)
        .build()
        .expect("valid interop world")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_sdks_copy_and_find_copies_by_name_while_they_are_made() {
    let Some(python) = support::python("copies") else {
        return;
    };
    let emu = Emulator::start(world()).await.expect("emulator starts");
    let script = imageshare_tests::repo_path("tests/interop/copies/copies.py");
    let args = vec![
        script.display().to_string(),
        emu.base_url(),
        "--ali".into(),
        format!("LTAI{OWNER}:ali-secret-{OWNER}"),
        "--tc".into(),
        format!("AKID{OWNER}:tc-secret-{OWNER}"),
    ];
    let output = tokio::task::spawn_blocking(move || Command::new(python).args(args).output())
        .await
        .expect("join")
        .expect("run the interop script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "copies.py failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");

    // One copy per cloud, in its target region, available, under the name the SDK sent.
    let copies: Vec<(String, String, String)> = emu.with_engine(|e| {
        e.refresh_all();
        e.images()
            .filter(|i| i.copied_from.is_some() && i.progress == 100)
            .map(|i| {
                (
                    i.provider.name().to_owned(),
                    i.region.clone(),
                    i.name.clone(),
                )
            })
            .collect()
    });
    assert_eq!(copies.len(), 3, "{copies:?}");
    for expected in [
        ("alibaba-ecs", "cn-shanghai", "golden-m-golden0001"),
        ("tencent-cvm", "ap-shanghai", "golden-img-golden01"),
        ("tencent-lighthouse", "ap-shanghai", "golden-bp"),
    ] {
        assert!(
            copies
                .iter()
                .any(|(p, r, n)| (p.as_str(), r.as_str(), n.as_str()) == expected),
            "{expected:?} not in {copies:?}"
        );
    }
    assert_eq!(emu.action_count(imageshare::alibaba::ECS, "CopyImage"), 1);
    assert_eq!(emu.action_count(imageshare::tencent::CVM, "SyncImages"), 1);
    assert_eq!(
        emu.action_count(imageshare::tencent::LIGHTHOUSE, "SyncBlueprint"),
        1
    );
}
