//! Distribution (issue #15 §1) end to end against the emulator, for every provider whose
//! cloud copies across regions: `imageshare_core::distribute::run_in` copies the source
//! image from its region into 2 other regions with the cloud's own copy action (ECS
//! `CopyImage`, CVM `SyncImages`, Lighthouse `SyncBlueprint`, UHost `CopyCustomImage`),
//! waits for each copy and shares it with 3 accounts (UCloud: projects). A second run finds
//! every copy again by its name (the adapters' `images_named_in`), makes no copy and grants
//! nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use imageshare::alibaba::{AlibabaCredentials, EcsImageSharing, ECS};
use imageshare::core::{Checked, ImageSharing, Principal, Provider, Region};
use imageshare::tencent::{
    TencentCredentials, TencentCvmImageSharing, TencentLighthouseImageSharing, CVM, LIGHTHOUSE,
};
use imageshare::ucloud::{UCloudCredentials, UCloudImageSharing, UHOST};
use imageshare::ClientBuilder;
use imageshare_core::distribute::{self, Adapters, CopyStep, Distribution, RunOptions, Wait};
use imageshare_core::CallContext;
use imageshare_emulator::{Emulator, World};

const OWNER: &str = "100000000001";
const OWNER_PROJECT: &str = "org-a1b2c3";
/// The three recipients (China site, like the owner: Lighthouse shares within a site).
const RECIPIENTS: [&str; 3] = ["100000000002", "100000000003", "100000000004"];
const RECIPIENT_PROJECTS: [&str; 3] = ["org-d4e5f6", "org-g7h8i9", "org-j1k2l3"];

/// The owner, three recipients, and one source image per provider. Copies take 300 ms,
/// so every run waits for them.
fn world() -> World {
    let mut toml = String::from("copy_ready_after_ms = 300\n");
    let accounts = [(OWNER, OWNER_PROJECT)]
        .into_iter()
        .chain(RECIPIENTS.into_iter().zip(RECIPIENT_PROJECTS));
    for (n, (id, project)) in accounts.enumerate() {
        toml.push_str(&format!(
            r#"
[[account]]
id = "{id}"
site = "china"
projects = ["{project}"]
keys.tencent = {{ id = "AKIDEMUDIST00000000000000000000{n}", secret = "dist-tencent-secret-{n}" }}
keys.alibaba = {{ id = "LTAIEMUDIST0000{n}", secret = "dist-alibaba-secret-{n}" }}
keys.ucloud  = {{ public = "dist-ucloud-public-{n}", private = "dist-ucloud-private-{n}" }}
"#
        ));
    }
    toml.push_str(&format!(
        r#"
[[image]]
provider = "alibaba-ecs"
id = "m-bpdist000001"
owner = "{OWNER}"
region = "cn-hangzhou"
name = "golden-2026"

[[image]]
provider = "tencent-cvm"
id = "img-dist0001"
owner = "{OWNER}"
region = "ap-guangzhou"
name = "golden-2026"

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

[[image]]
provider = "ucloud"
id = "uimage-dist0001"
owner = "{OWNER_PROJECT}"
region = "cn-bj2"
name = "golden-2026"
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

fn ecs(emu: &Emulator, region: &str) -> Checked<EcsImageSharing> {
    let k = emu.account(OWNER).unwrap().keys.alibaba.unwrap();
    Checked::new(
        EcsImageSharing::builder()
            .endpoint(emu.base_url())
            .region(region)
            .credentials(AlibabaCredentials::new(k.id, k.secret))
            .build()
            .unwrap(),
    )
}

fn tencent(emu: &Emulator) -> TencentCredentials {
    let k = emu.account(OWNER).unwrap().keys.tencent.unwrap();
    TencentCredentials::new(k.id, k.secret)
}

fn cvm(emu: &Emulator, region: &str) -> Checked<TencentCvmImageSharing> {
    Checked::new(
        TencentCvmImageSharing::builder()
            .endpoint(emu.base_url())
            .region(region)
            .credentials(tencent(emu))
            .build()
            .unwrap(),
    )
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

fn uhost(emu: &Emulator, region: &str) -> Checked<UCloudImageSharing> {
    let k = emu.account(OWNER).unwrap().keys.ucloud.unwrap();
    Checked::new(
        UCloudImageSharing::builder()
            .env(imageshare::core::credentials::StaticEnv::new())
            .base_url(emu.base_url())
            .region(region)
            .project_id(OWNER_PROJECT)
            .credentials(UCloudCredentials::new(k.public, k.private))
            .build()
            .unwrap(),
    )
}

/// One provider's case: what to copy, where, with whom, and the actions to count.
struct Case {
    provider: Provider,
    image: &'static str,
    targets: [&'static str; 2],
    recipients: Vec<Principal>,
    copy_action: &'static str,
    /// Copy calls for the two regions: 1 where the copy action takes many regions (CVM
    /// `SyncImages`, Lighthouse `SyncBlueprint`), else 2.
    copy_calls: usize,
    share_action: &'static str,
}

/// Runs the distribution twice and checks: one copy per target region, shared with every
/// recipient, and nothing copied or granted by the second run.
async fn distributes_once<A: ImageSharing>(
    emu: &Emulator,
    case: Case,
    build: impl Fn(&Emulator, &str) -> A,
    source_region: &str,
) {
    let source = build(emu, source_region);
    let targets: BTreeMap<Region, A> = case
        .targets
        .iter()
        .map(|r| (Region::from(*r), build(emu, r)))
        .collect();
    let d = Distribution::new(
        case.image,
        case.targets.iter().map(|r| Region::from(*r)),
        case.recipients.clone(),
    );
    let cx = CallContext::new();
    let p = case.provider;

    let report = distribute::run_in(&cx, Adapters::new(&source, &targets), &d, options(), None)
        .await
        .unwrap();
    assert!(report.is_complete(), "{p}: {report:?}");
    let steps: Vec<_> = report.regions.iter().map(|r| r.copy.clone()).collect();
    assert_eq!(steps, [CopyStep::Made, CopyStep::Made], "{p}");
    assert_eq!(
        emu.action_count(p, case.copy_action),
        case.copy_calls,
        "{p}: every region copied, in as few calls as the action allows"
    );
    let wanted: Vec<String> = case.recipients.iter().map(|r| r.id().to_owned()).collect();
    for (region, r) in case.targets.iter().zip(&report.regions) {
        let copies: Vec<String> = emu.with_engine(|e| {
            e.refresh_all();
            e.images()
                .filter(|i| {
                    i.provider == p
                        && i.region == *region
                        && i.copied_from.as_deref() == Some(case.image)
                })
                .map(|i| i.id.clone())
                .collect()
        });
        assert_eq!(copies.len(), 1, "{p}: one copy in {region}: {copies:?}");
        assert_eq!(
            r.image.as_ref().map(|i| i.as_str()),
            Some(copies[0].as_str())
        );
        let mut granted: Vec<String> = emu
            .grants(&copies[0])
            .into_iter()
            .map(|g| g.principal)
            .collect();
        granted.sort();
        assert_eq!(
            granted, wanted,
            "{p}: the copy in {region} is shared with all"
        );
    }
    let shares = emu.action_count(p, case.share_action);
    assert!(shares >= 2, "{p}: {shares} share calls");

    // Again: every copy is found by its name; nothing copied, nothing granted.
    let again = distribute::run_in(&cx, Adapters::new(&source, &targets), &d, options(), None)
        .await
        .unwrap();
    assert!(again.is_complete(), "{p}: {again:?}");
    let steps: Vec<_> = again.regions.iter().map(|r| r.copy.clone()).collect();
    assert_eq!(steps, [CopyStep::Found, CopyStep::Found], "{p}");
    assert_eq!(
        emu.action_count(p, case.copy_action),
        case.copy_calls,
        "{p}: no second copy"
    );
    assert_eq!(
        emu.action_count(p, case.share_action),
        shares,
        "{p}: nothing granted twice"
    );
    assert!(again.regions.iter().all(|r| r.shared.is_none()), "{p}");
    let plan = distribute::plan_in(&cx, Adapters::new(&source, &targets), &d)
        .await
        .unwrap();
    assert!(plan.is_noop(), "{p}: {plan:?}");
}

fn accounts() -> Vec<Principal> {
    RECIPIENTS.iter().map(|a| Principal::account(*a)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_copies_into_two_regions_and_a_rerun_changes_nothing() {
    let emu = Emulator::start(world()).await.unwrap();
    let case = Case {
        provider: ECS,
        image: "m-bpdist000001",
        targets: ["cn-shanghai", "cn-beijing"],
        recipients: accounts(),
        copy_action: "CopyImage",
        copy_calls: 2,
        share_action: "ModifyImageSharePermission",
    };
    distributes_once(&emu, case, ecs, "cn-hangzhou").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cvm_copies_into_two_regions_and_a_rerun_changes_nothing() {
    let emu = Emulator::start(world()).await.unwrap();
    let case = Case {
        provider: CVM,
        image: "img-dist0001",
        targets: ["ap-shanghai", "ap-beijing"],
        recipients: accounts(),
        copy_action: "SyncImages",
        copy_calls: 1,
        share_action: "ModifyImageSharePermission",
    };
    distributes_once(&emu, case, cvm, "ap-guangzhou").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lighthouse_copies_into_two_regions_and_a_rerun_changes_nothing() {
    let emu = Emulator::start(world()).await.unwrap();
    let case = Case {
        provider: LIGHTHOUSE,
        image: "lhbp-dist0001",
        // Both in mainland China, like the source: SyncBlueprint does not cross the border.
        targets: ["ap-shanghai", "ap-beijing"],
        recipients: accounts(),
        copy_action: "SyncBlueprint",
        copy_calls: 1,
        share_action: "ShareBlueprintAcrossAccounts",
    };
    distributes_once(&emu, case, lighthouse, "ap-guangzhou").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uhost_copies_into_two_regions_and_a_rerun_changes_nothing() {
    let emu = Emulator::start(world()).await.unwrap();
    let case = Case {
        provider: UHOST,
        image: "uimage-dist0001",
        targets: ["cn-sh2", "hk"],
        recipients: RECIPIENT_PROJECTS
            .iter()
            .map(|p| Principal::project(*p))
            .collect(),
        copy_action: "CopyCustomImage",
        copy_calls: 2,
        share_action: "ShareCustomImage",
    };
    distributes_once(&emu, case, uhost, "cn-bj2").await;
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
