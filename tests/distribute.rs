//! Distribution (issue #15 §1) against the emulator where one cloud's rules shape it:
//! Lighthouse's mainland border (refused before sending) and its busy source (12 regions in
//! two `SyncBlueprint` calls, the second once the blueprint is NORMAL again). What every
//! adapter does (copy with its own action, share each copy, a re-run that changes nothing)
//! is the behaviour suite's `distribute_to_other_regions`.

use std::collections::BTreeMap;
use std::time::Duration;

use imageshare::core::{Checked, Principal, Region};
use imageshare::tencent::{TencentCredentials, TencentLighthouseImageSharing, LIGHTHOUSE};
use imageshare::ClientBuilder;
use imageshare_core::distribute::{self, Adapters, Distribution, RunOptions, Wait};
use imageshare_core::CallContext;
use imageshare_emulator::{Emulator, World};

const OWNER: &str = "100000000001";
/// The three recipients (China site, like the owner: Lighthouse shares within a site).
const RECIPIENTS: [&str; 3] = ["100000000002", "100000000003", "100000000004"];

/// The owner, three recipients, and a Lighthouse blueprint on each side of the mainland
/// border. Copies take 300 ms, so every run waits for them.
fn world() -> World {
    let mut toml = String::from("copy_ready_after_ms = 300\n");
    for (n, id) in [OWNER].into_iter().chain(RECIPIENTS).enumerate() {
        toml.push_str(&format!(
            r#"
[[account]]
id = "{id}"
site = "china"
keys.tencent = {{ id = "AKIDEMUDIST00000000000000000000{n}", secret = "dist-tencent-secret-{n}" }}
"#
        ));
    }
    toml.push_str(&format!(
        r#"
[[image]]
provider = "tencent-lighthouse"
id = "lhbp-dist0001"
owner = "{OWNER}"
region = "ap-guangzhou"
kind = "lightweight-host"
name = "golden-lh-2026"

[[image]]
provider = "tencent-lighthouse"
id = "lhbp-dist0002"
owner = "{OWNER}"
region = "ap-singapore"
kind = "lightweight-host"
name = "golden-lh-intl-2026"
"#
    ));
    World::from_toml_str(&toml).expect("the distribution world is valid")
}

fn options() -> RunOptions {
    RunOptions::default().wait(Wait {
        timeout: Duration::from_secs(20),
        poll: Duration::from_millis(50),
    })
}

fn tencent(emu: &Emulator) -> TencentCredentials {
    let k = emu.account(OWNER).unwrap().keys.tencent.unwrap();
    TencentCredentials::new(k.id, k.secret)
}

fn lighthouse(emu: &Emulator, region: &str) -> Checked<TencentLighthouseImageSharing> {
    Checked::new(
        TencentLighthouseImageSharing::builder()
            .endpoint(emu.base_url())
            .region(region)
            .credentials(tencent(emu))
            .build()
            .unwrap(),
    )
}

fn accounts() -> Vec<Principal> {
    RECIPIENTS.iter().map(|a| Principal::account(*a)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lighthouse_refuses_a_copy_across_the_mainland_border_before_sending() {
    let emu = Emulator::start(world()).await.unwrap();
    let source = lighthouse(&emu, "ap-guangzhou");
    let targets: BTreeMap<Region, _> = [("ap-singapore", lighthouse(&emu, "ap-singapore"))]
        .into_iter()
        .map(|(r, a)| (Region::from(r), a))
        .collect();
    let d = Distribution::new("lhbp-dist0001", [Region::from("ap-singapore")], accounts());
    let e = distribute::run_in(
        &CallContext::new(),
        Adapters::new(&source, &targets),
        &d,
        options(),
        None,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("mainland China"), "{e}");
    assert_eq!(emu.action_count(LIGHTHOUSE, "SyncBlueprint"), 0);
    assert!(emu.calls().is_empty(), "refused before anything is sent");
}

/// Lighthouse holds a syncing blueprint busy (`SYNCING`; only a NORMAL blueprint syncs):
/// 12 regions go in two `SyncBlueprint` calls of at most 10, the second once the source is
/// NORMAL again; the emulator, told to hold the source busy, refuses any other order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lighthouse_syncs_in_batches_of_ten_after_the_source_is_free() {
    let mut world = world();
    world.copy_source_busy = true;
    let emu = Emulator::start(world).await.unwrap();
    // Outside mainland China, like the source.
    let regions = [
        "ap-bangkok",
        "ap-hongkong",
        "ap-jakarta",
        "ap-mumbai",
        "ap-seoul",
        "ap-tokyo",
        "eu-frankfurt",
        "eu-moscow",
        "na-ashburn",
        "na-siliconvalley",
        "na-toronto",
        "sa-saopaulo",
    ];
    let source = lighthouse(&emu, "ap-singapore");
    let targets: BTreeMap<Region, _> = regions
        .iter()
        .map(|r| (Region::from(*r), lighthouse(&emu, r)))
        .collect();
    let d = Distribution::new(
        "lhbp-dist0002",
        regions.iter().map(|r| Region::from(*r)),
        accounts(),
    );
    let report = distribute::run_in(
        &CallContext::new(),
        Adapters::new(&source, &targets),
        &d,
        options(),
        None,
    )
    .await
    .unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(emu.action_count(LIGHTHOUSE, "SyncBlueprint"), 2, "10 + 2");
    let failed: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| c.action == "SyncBlueprint" && c.error.is_some())
        .collect();
    assert!(failed.is_empty(), "no sync refused: {failed:?}");
    for r in &report.regions {
        let image = r.image.as_ref().unwrap();
        assert_eq!(emu.grants(image.as_str()).len(), 3, "{}", r.region);
    }
}
