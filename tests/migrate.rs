//! Migration flows against the emulator, each in one call with a per-step report.

use imageshare::ClientBuilder;
use imageshare::ImageSharingExt;
use std::time::Duration;

use imageshare::alibaba::{AlibabaCredentials, EcsImageSharing, SasImageSharing};
use imageshare::core::{Error, Principal};
use imageshare::migrate::{self, Wait};
use imageshare::tencent::{TencentCredentials, TencentLighthouseImageSharing};
use imageshare_emulator::{Emulator, World};

const WAIT: Wait = Wait {
    timeout: Duration::from_secs(10),
    poll: Duration::from_millis(50),
};

async fn emulator(copy_ms: u64) -> Emulator {
    let mut world = World::example();
    world.copy_ready_after_ms = copy_ms;
    Emulator::start(world).await.unwrap()
}

fn ali(emu: &Emulator) -> AlibabaCredentials {
    let k = emu.account("100000000001").unwrap().keys.alibaba.unwrap();
    AlibabaCredentials::new(k.id, k.secret)
}

fn ecs(emu: &Emulator, region: &str) -> EcsImageSharing {
    EcsImageSharing::builder()
        .endpoint(emu.base_url())
        .region(region)
        .credentials(ali(emu))
        .build()
        .unwrap()
}

fn lighthouse(emu: &Emulator) -> TencentLighthouseImageSharing {
    let k = emu.account("100000000001").unwrap().keys.tencent.unwrap();
    TencentLighthouseImageSharing::builder()
        .endpoint(emu.base_url())
        .region("ap-guangzhou")
        .credentials(TencentCredentials::new(k.id, k.secret))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sas_image_to_ecs_then_shared_onward() {
    let emu = emulator(200).await;
    let sas = SasImageSharing::builder()
        .endpoint(emu.base_url())
        .region("cn-hangzhou")
        .credentials(ali(&emu))
        .build()
        .unwrap();
    let ecs = ecs(&emu, "cn-hangzhou");
    let to = [Principal::account("100000000002")];
    let report = migrate::sas_to_ecs(&sas, &ecs, &"m-sas000000001".into(), &to, WAIT)
        .await
        .unwrap();
    assert!(report.steps.len() >= 2, "{:?}", report.steps);
    // The steps are typed: the hand-over to ECS names both ids, the last step is the share
    // of the image the flow ended with.
    use imageshare::migrate::StepKind;
    let StepKind::HandedToService {
        image,
        service,
        received,
    } = &report.steps[0].kind
    else {
        panic!("{:?}", report.steps[0]);
    };
    assert_eq!(
        (image.as_str(), *service),
        ("m-sas000000001", imageshare::alibaba::ECS)
    );
    assert!(!received.as_str().is_empty());
    assert_eq!(
        report.steps.last().map(|s| &s.kind),
        Some(&StepKind::Shared {
            image: report.image.clone(),
            principals: 1
        })
    );
    let json = serde_json::to_value(&report.steps[0]).unwrap();
    assert_eq!(json["kind"], "handed-to-service");
    assert_eq!(json["service"], "alibaba-ecs");
    assert_eq!(json["received"], received.as_str());
    assert!(
        json["result"].as_str().unwrap().contains("visible in ECS"),
        "{json}"
    );
    assert_eq!(
        report
            .shared
            .as_ref()
            .unwrap()
            .count(imageshare::core::OutcomeKind::Granted),
        1
    );
    let grants = emu.grants(report.image.as_str());
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].principal, "100000000002");
    assert!(emu.action_count(imageshare::alibaba::SAS, "ModifyImageShareStatus") == 1);
}

/// #15: running the migration twice makes no second ECS copy: the second run finds the
/// copy the first made (by its name, `<name>-<id>`), shares nothing twice, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sas_to_ecs_twice_makes_one_copy() {
    use imageshare::migrate::StepKind;
    let emu = emulator(100).await;
    let sas = SasImageSharing::builder()
        .endpoint(emu.base_url())
        .region("cn-hangzhou")
        .credentials(ali(&emu))
        .build()
        .unwrap();
    let ecs = ecs(&emu, "cn-hangzhou");
    let to = [Principal::account("100000000002")];
    let first = migrate::sas_to_ecs(&sas, &ecs, &"m-sas000000001".into(), &to, WAIT)
        .await
        .unwrap();
    assert!(
        first
            .steps
            .iter()
            .any(|s| matches!(s.kind, StepKind::Copied { .. })),
        "{:?}",
        first.steps
    );
    let second = migrate::sas_to_ecs(&sas, &ecs, &"m-sas000000001".into(), &to, WAIT)
        .await
        .unwrap();
    assert_eq!(second.image, first.image, "the same own copy");
    assert!(
        second
            .steps
            .iter()
            .any(|s| matches!(&s.kind, StepKind::Found { copy, .. } if *copy == first.image)),
        "{:?}",
        second.steps
    );
    assert_eq!(emu.action_count(imageshare::alibaba::ECS, "CopyImage"), 1);
    let shared = second.shared.as_ref().unwrap();
    assert_eq!(shared.count(imageshare::core::OutcomeKind::Granted), 0);
    assert_eq!(emu.grants(first.image.as_str()).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cvm_image_to_lighthouse_blueprint_then_shared() {
    let emu = emulator(0).await;
    let lh = lighthouse(&emu);
    let to = [Principal::account("100000000002")];
    let report = migrate::cvm_to_lighthouse(&lh, &"img-6pb6lrmy".into(), &to, WAIT)
        .await
        .unwrap();
    assert!(
        report.image.as_str().starts_with("lhbp-"),
        "{}",
        report.image
    );
    assert_eq!(
        report
            .shared
            .unwrap()
            .count(imageshare::core::OutcomeKind::Granted),
        1
    );
    assert_eq!(emu.grants(report.image.as_str()).len(), 1);
    // A whole-machine image is not eligible: a typed error, and nothing was created.
    let err = migrate::cvm_to_lighthouse(&lh, &"img-whole001".into(), &to, WAIT)
        .await
        .unwrap_err();
    assert!(!matches!(err, Error::Partial(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lighthouse_to_cvm_is_unsupported_and_says_why() {
    let emu = emulator(0).await;
    let err = migrate::lighthouse_to_cvm(&lighthouse(&emu), &"lhbp-6jc6l8yb".into())
        .await
        .unwrap_err();
    let Error::Unsupported { reason, .. } = &err else {
        panic!("expected Unsupported, got {err}")
    };
    assert!(!reason.is_empty());
    assert_eq!(emu.calls().len(), 0, "nothing sent for an impossible move");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_another_region_waits_then_shares() {
    let emu = emulator(300).await;
    let source = ecs(&emu, "cn-hangzhou");
    let target = ecs(&emu, "cn-shanghai");
    let to = [Principal::account("100000000002")];
    let started = std::time::Instant::now();
    let report =
        migrate::copy_then_share(&source, &target, &"m-bp18ygjuqnwhechc".into(), &to, WAIT)
            .await
            .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited for the copy"
    );
    let img = target.image(&report.image).await.unwrap();
    assert_eq!(img.region.as_str(), "cn-shanghai");
    assert_eq!(emu.grants(report.image.as_str()).len(), 1);
    assert!(
        emu.grants("m-bp18ygjuqnwhechc").is_empty(),
        "copies do not carry grants"
    );
    // A wait that is too short fails with a timeout, not a hang.
    let short = Wait {
        timeout: Duration::from_millis(50),
        poll: Duration::from_millis(10),
    };
    let err = migrate::copy_then_share(&source, &target, &"m-bp18ygjuqnwhechc".into(), &to, short)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
}
