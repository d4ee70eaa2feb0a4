//! The audit trail against the emulator: what the library says it did is what the
//! emulator holds.
//!
//! - an `apply`-like bulk job (plan each image, then the bulk engine, the way the CLI's
//!   `apply` runs) with 5xx faults on the share calls: the trail's grants are exactly the
//!   emulator's grant log, each once, and its request ids are those of the emulator's
//!   successful share calls; a pruning second run records the revokes;
//! - a partial failure records the granted batch and the failed principal with its code;
//! - the migration flows record their out-of-trait grants and their onward shares, once;
//! - a trail that cannot be opened fails before anything is sent; one that cannot be
//!   written turns a made grant into `Error::Audit` carrying the report;
//! - concurrent appends never interleave; the file is `0600`; no secret is in it.

use imageshare::testing::ConnectEmulator;
use imageshare::ClientBuilder;
use imageshare::ImageSharingExt;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use imageshare::core::audit::{AuditAction, AuditOutcome, AuditPrincipal, AuditRecord};
use imageshare::core::bulk::Bulk;
use imageshare::core::plan;
use imageshare::core::ratelimit::RateLimits;
use imageshare::core::transport::RetryConfig;
use imageshare::core::{CopyTarget, ImageId, Principal, Provider, ShareOutcome, Site};
use imageshare::migrate::Wait;
use imageshare::{AuditLog, Connect, DynSharing, Error};
use imageshare_emulator::world::ImageSeed;
use imageshare_emulator::{Emulator, FaultPlan, FaultRule, World};

const OWNER: &str = "100000000001";
const CVM_REGION: &str = "ap-guangzhou";
const ECS_REGION: &str = "cn-hangzhou";
const SHARE: &str = "ModifyImageSharePermission";

const WAIT: Wait = Wait {
    timeout: Duration::from_secs(10),
    poll: Duration::from_millis(50),
};

/// A fresh directory for one test's trail.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("imageshare-audit-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn peers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("3000000000{i:02}")).collect()
}

fn images(provider: Provider) -> Vec<ImageId> {
    (0..4)
        .map(|i| match provider {
            imageshare::tencent::CVM => ImageId::new(format!("img-audit{i:03}")),
            _ => ImageId::new(format!("m-audit{i:09}")),
        })
        .collect()
}

/// The owner, 14 peers, four CVM and four ECS images; the first image of each already
/// shared with the first peer.
fn world(faults: FaultPlan) -> World {
    let mut b = World::builder().account(OWNER, Site::China);
    for p in peers(14) {
        b = b.account(&p, Site::China);
    }
    for (provider, region) in [
        (imageshare::tencent::CVM, CVM_REGION),
        (imageshare::alibaba::ECS, ECS_REGION),
    ] {
        for (i, id) in images(provider).into_iter().enumerate() {
            let seed = ImageSeed::new(provider, id.as_str(), OWNER, region);
            b = b.image(if i == 0 {
                seed.shared_with(&["300000000000"])
            } else {
                seed
            });
        }
    }
    b.faults(faults).build().unwrap()
}

fn connect(emu: &Emulator, provider: Provider, log: &AuditLog) -> DynSharing {
    let region = match provider {
        imageshare::tencent::CVM => CVM_REGION,
        _ => ECS_REGION,
    };
    Connect::new(provider)
        .region(region)
        .emulator(emu, OWNER)
        .rate_limits(RateLimits::none())
        .retry(RetryConfig {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            multiplier: 2.0,
            max_elapsed: Some(Duration::from_secs(20)),
        })
        .audit(log.clone())
        .build()
        .unwrap()
}

fn accounts(ids: &[String]) -> Vec<Principal> {
    ids.iter().map(|p| Principal::account(p.as_str())).collect()
}

/// Plans every image against `wanted`, then applies the plans with the bulk engine (what
/// the CLI's `apply` does).
async fn apply(conns: &BTreeMap<Provider, DynSharing>, wanted: &[Principal], prune: bool) {
    let mut plans = Vec::new();
    for (provider, conn) in conns {
        for id in images(*provider) {
            plans.push((
                *provider,
                plan::plan(conn, &id, wanted, prune).await.unwrap(),
            ));
        }
    }
    let mut job = Bulk::new().concurrency(4).retry_passes(2);
    for (provider, p) in &plans {
        job = job.plan(&conns[provider], p);
    }
    let report = job.run().await;
    assert!(report.is_complete(), "{}", report.summary());
}

/// `(image, principal)` of every trail record with this action and outcome.
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

/// `(image, principal)` of every grant the emulator holds on the test's images.
fn held(emu: &Emulator) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for provider in [imageshare::tencent::CVM, imageshare::alibaba::ECS] {
        for id in images(provider) {
            for g in emu.grants(id.as_str()) {
                out.insert((id.to_string(), g.principal));
            }
        }
    }
    out
}

fn successful_share_calls(emu: &Emulator, provider: Provider) -> usize {
    emu.calls()
        .iter()
        .filter(|c| c.provider == provider && c.action == SHARE && c.error.is_none())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trail_of_an_apply_equals_the_emulator_grant_log() {
    // One share call in ten answered 5xx: retried by the transport and the bulk engine.
    let faults =
        FaultPlan::seeded(7).rule(FaultRule::new().with_action(SHARE).with_error_rate(0.1));
    let emu = Emulator::start(world(faults)).await.unwrap();
    let dir = scratch("apply");
    let log = AuditLog::open(dir.join("trail.jsonl")).unwrap();
    let conns: BTreeMap<Provider, DynSharing> =
        [imageshare::tencent::CVM, imageshare::alibaba::ECS]
            .into_iter()
            .map(|p| (p, connect(&emu, p, &log)))
            .collect();
    let before = held(&emu);

    apply(&conns, &accounts(&peers(14)), false).await;
    assert!(
        !emu.faults_served().is_empty(),
        "some share calls were answered 5xx"
    );
    let trail = AuditLog::read(log.path()).unwrap();

    // Every grant the emulator gained is in the trail exactly once, and nothing else.
    let granted = pairs(&trail, AuditAction::Grant, AuditOutcome::Granted);
    let granted_set: BTreeSet<_> = granted.iter().cloned().collect();
    assert_eq!(granted.len(), granted_set.len(), "a grant recorded twice");
    let gained: BTreeSet<_> = held(&emu).difference(&before).cloned().collect();
    assert_eq!(granted_set, gained);
    assert_eq!(gained.len(), 2 * (3 * 14 + 13));
    // Request ids: one per successful share call, as many as the emulator served.
    for provider in [imageshare::tencent::CVM, imageshare::alibaba::ECS] {
        let ids: BTreeSet<&str> = trail
            .iter()
            .filter(|r| r.provider == provider && r.outcome == AuditOutcome::Granted)
            .map(|r| {
                r.request_id
                    .as_deref()
                    .expect("a granted record has a request id")
            })
            .collect();
        assert_eq!(
            ids.len(),
            successful_share_calls(&emu, provider),
            "{provider}"
        );
        // ... and each is the id of a successful share call in the emulator's own log.
        let served: BTreeSet<String> = emu
            .calls()
            .into_iter()
            .filter(|c| c.provider == provider && c.action == SHARE && c.error.is_none())
            .map(|c| c.request_id)
            .collect();
        let ids: BTreeSet<String> = ids.into_iter().map(str::to_owned).collect();
        assert_eq!(
            ids, served,
            "{provider}: trail request ids vs emulator call log"
        );
    }
    for r in &trail {
        assert_eq!(
            r.region.as_str(),
            if r.provider == imageshare::tencent::CVM {
                CVM_REGION
            } else {
                ECS_REGION
            }
        );
        assert!(r.time.ends_with('Z') && r.time.len() == 24, "{}", r.time);
        if r.outcome == AuditOutcome::Failed {
            assert!(r.error_code.is_some(), "{r:?}");
        }
    }

    // Second run, pruning down to the first four peers: the revokes are recorded.
    let keep = accounts(&peers(4));
    apply(&conns, &keep, true).await;
    let trail = AuditLog::read(log.path()).unwrap();
    let revoked: BTreeSet<_> = pairs(&trail, AuditAction::Revoke, AuditOutcome::Revoked)
        .into_iter()
        .collect();
    let now = held(&emu);
    let gone: BTreeSet<_> = granted_set
        .union(&before)
        .filter(|g| !now.contains(*g))
        .cloned()
        .collect();
    assert_eq!(revoked, gone);
    assert_eq!(revoked.len(), 2 * 4 * 10);

    // No secret of the account in the file.
    let text = std::fs::read_to_string(log.path()).unwrap();
    for secret in [
        format!("tc-secret-{OWNER}"),
        format!("ali-secret-{OWNER}"),
        format!("uc-private-{OWNER}"),
    ] {
        assert!(!text.contains(&secret), "{secret} in the trail");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(log.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_failure_records_the_granted_batch_and_the_failure() {
    let emu = Emulator::start(world(FaultPlan::default())).await.unwrap();
    let dir = scratch("partial");
    let log = AuditLog::open(dir.join("trail.jsonl")).unwrap();
    let ecs = connect(&emu, imageshare::alibaba::ECS, &log);
    let image = images(imageshare::alibaba::ECS)[1].clone();
    // Batch 1: ten real accounts; batch 2: a well-formed account that does not exist.
    let mut to = accounts(&peers(14)[..10]);
    let ghost = Principal::account("399999999999");
    to.push(ghost.clone());
    let err = ecs.share(&image, &to).await.unwrap_err();
    let Error::Partial(report) = err else {
        panic!("expected Error::Partial, got {err}")
    };
    assert!(matches!(
        report.outcome(&ghost),
        Some(ShareOutcome::Failed(_))
    ));

    let trail = AuditLog::read(log.path()).unwrap();
    let granted: BTreeSet<String> = trail
        .iter()
        .filter(|r| r.outcome == AuditOutcome::Granted)
        .map(|r| r.principal.id().to_owned())
        .collect();
    let held: BTreeSet<String> = emu
        .grants(image.as_str())
        .into_iter()
        .map(|g| g.principal)
        .collect();
    assert_eq!(granted, held);
    assert_eq!(granted.len(), 10);
    let failed: Vec<&AuditRecord> = trail
        .iter()
        .filter(|r| r.outcome == AuditOutcome::Failed)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].principal,
        AuditPrincipal::Account("399999999999".into())
    );
    assert!(
        failed[0].error_code.is_some() && failed[0].request_id.is_some(),
        "{:?}",
        failed[0]
    );
    // Two calls, two request ids.
    assert_ne!(failed[0].request_id, trail[0].request_id);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_flows_record_their_grants_once() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let dir = scratch("flows");
    let log = AuditLog::open(dir.join("trail.jsonl")).unwrap();
    let to = [Principal::account("100000000002")];
    let base = |p: Provider, region: &str| {
        Connect::new(p)
            .region(region)
            .emulator(&emu, OWNER)
            .audit(log.clone())
    };
    let flows = base(imageshare::alibaba::ECS, ECS_REGION).flows();

    // SAS -> ECS: the SAS grant to ECS (outside the trait), the own copy, the onward share
    // through an adapter that is itself audited into the same trail (recorded once).
    let sas = base(imageshare::alibaba::SAS, ECS_REGION).sas().unwrap();
    let ecs = base(imageshare::alibaba::ECS, ECS_REGION).build().unwrap();
    let r = flows
        .sas_to_ecs(&sas, &ecs, &"m-sas000000001".into(), &to, WAIT)
        .await
        .unwrap();
    let ecs_copy = r.image.clone();

    // CVM -> Lighthouse through the bare Lighthouse adapter: the flow audits the share.
    let lh = base(imageshare::tencent::LIGHTHOUSE, CVM_REGION)
        .lighthouse()
        .unwrap();
    let r = flows
        .cvm_to_lighthouse(&lh, &"img-6pb6lrmy".into(), &to, WAIT)
        .await
        .unwrap();
    let blueprint = r.image.clone();

    // Copy to another region, then share there.
    let source = base(imageshare::alibaba::ECS, ECS_REGION).build().unwrap();
    let target = base(imageshare::alibaba::ECS, "cn-shanghai")
        .build()
        .unwrap();
    let r = flows
        .copy_then_share(&source, &target, &"m-bp18ygjuqnwhechc".into(), &to, WAIT)
        .await
        .unwrap();
    let region_copy = r.image.clone();

    let trail = AuditLog::read(log.path()).unwrap();
    let services: Vec<(Provider, &str, AuditPrincipal)> = trail
        .iter()
        .filter(|r| matches!(r.principal, AuditPrincipal::Service(_)))
        .map(|r| (r.provider, r.image.as_str(), r.principal.clone()))
        .collect();
    assert_eq!(
        services,
        [
            (
                imageshare::alibaba::SAS,
                "m-sas000000001",
                AuditPrincipal::Service(imageshare::alibaba::ECS)
            ),
            (
                imageshare::tencent::LIGHTHOUSE,
                "img-6pb6lrmy",
                AuditPrincipal::Service(imageshare::tencent::LIGHTHOUSE)
            ),
        ]
    );
    let lh_grant = trail
        .iter()
        .find(|r| r.image.as_str() == "img-6pb6lrmy")
        .unwrap();
    assert_eq!(lh_grant.new_image.as_ref(), Some(&blueprint));

    // The onward shares: one record each, matching the emulator's grants.
    let onward: Vec<(String, String)> = trail
        .iter()
        .filter(|r| {
            r.outcome == AuditOutcome::Granted && matches!(r.principal, AuditPrincipal::Account(_))
        })
        .map(|r| (r.image.to_string(), r.principal.id().to_owned()))
        .collect();
    let mut expected = Vec::new();
    for image in [&ecs_copy, &blueprint, &region_copy] {
        for g in emu.grants(image.as_str()) {
            expected.push((image.to_string(), g.principal));
        }
    }
    assert_eq!(onward, expected);
    assert_eq!(onward.len(), 3);
    assert!(trail
        .iter()
        .filter(|r| matches!(r.principal, AuditPrincipal::Account(_)))
        .all(|r| r.request_id.is_some()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_into_another_project_is_recorded() {
    // One account with two projects: a copy into the second hands it to that project.
    let world = World::builder()
        .account(OWNER, Site::China)
        .project("org-first01")
        .project("org-second1")
        .image(ImageSeed::new(
            imageshare::ucloud::UHOST,
            "uimage-golden01",
            "org-first01",
            "cn-bj2",
        ))
        .build()
        .unwrap();
    let emu = Emulator::start(world).await.unwrap();
    let dir = scratch("project-copy");
    let log = AuditLog::open(dir.join("trail.jsonl")).unwrap();
    let ucloud = Connect::new(imageshare::ucloud::UHOST)
        .region("cn-bj2")
        .emulator(&emu, OWNER)
        .audit(log.clone())
        .build()
        .unwrap();
    let target = CopyTarget::Project {
        project: "org-second1".into(),
        region: None,
        name: None,
    };
    let copy = ucloud
        .copy(&"uimage-golden01".into(), target)
        .await
        .unwrap();
    // A copy into another region of the caller's own project hands nothing to anyone:
    // not recorded.
    let own = CopyTarget::Region {
        region: "cn-sh2".into(),
        name: None,
    };
    ucloud.copy(&"uimage-golden01".into(), own).await.unwrap();
    let trail = AuditLog::read(log.path()).unwrap();
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert_eq!(trail[0].action, AuditAction::Copy);
    assert_eq!(trail[0].outcome, AuditOutcome::Copied);
    assert_eq!(
        trail[0].principal,
        AuditPrincipal::Project("org-second1".into())
    );
    assert_eq!(trail[0].new_image.as_ref(), Some(&copy));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_unwritable_trail_fails_before_anything_is_sent() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let dir = scratch("unwritable");
    std::fs::create_dir_all(&dir).unwrap();
    // The trail's directory would have to be a regular file: no user, root included, can.
    let blocker = dir.join("not-a-dir");
    std::fs::write(&blocker, b"").unwrap();
    let path = blocker.join("trail.jsonl");
    let err = AuditLog::open(&path)
        .and_then(|log| {
            Connect::new(imageshare::tencent::CVM)
                .region(CVM_REGION)
                .emulator(&emu, OWNER)
                .audit(log)
                .build()
        })
        .unwrap_err();
    let Error::Audit {
        path: p,
        message,
        unrecorded,
        ..
    } = &err
    else {
        panic!("expected Error::Audit, got {err}")
    };
    assert_eq!(p, &path.display().to_string());
    assert!(message.contains("nothing was sent"), "{err}");
    assert!(unrecorded.is_none());
    assert!(err.to_string().contains("trail.jsonl"), "{err}");
    assert!(emu.calls().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `/dev/full` opens but every write fails (ENOSPC): the grant is made, and the caller is
/// told it is missing from the trail, with the report.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_failed_write_turns_a_made_grant_into_an_audit_error() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let emu = Emulator::start(World::example()).await.unwrap();
    let log = AuditLog::open("/dev/full").unwrap();
    let cvm = Connect::new(imageshare::tencent::CVM)
        .region(CVM_REGION)
        .emulator(&emu, OWNER)
        .audit(log)
        .build()
        .unwrap();
    let err = cvm
        .share(
            &"img-6pb6lrmy".into(),
            &[Principal::account("100000000002")],
        )
        .await
        .unwrap_err();
    let Error::Audit {
        message,
        unrecorded,
        ..
    } = &err
    else {
        panic!("expected Error::Audit, got {err}")
    };
    assert!(message.contains("carried out"), "{err}");
    assert_eq!(
        unrecorded
            .as_ref()
            .unwrap()
            .count(imageshare::core::OutcomeKind::Granted),
        1
    );
    assert_eq!(
        emu.grants("img-6pb6lrmy").len(),
        1,
        "the grant itself was made"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_never_interleave() {
    let dir = scratch("concurrent");
    let log = AuditLog::open(dir.join("trail.jsonl")).unwrap();
    let mut tasks = Vec::new();
    for t in 0..8 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..40 {
                let records: Vec<AuditRecord> = (0..3)
                    .map(|k| {
                        AuditRecord::now(
                            imageshare::tencent::CVM,
                            CVM_REGION.into(),
                            ImageId::new(format!("img-{t}-{n}-{k}-{}", "x".repeat(200))),
                            AuditPrincipal::Account(format!("{t}{n}{k}")),
                            AuditAction::Grant,
                            AuditOutcome::Granted,
                        )
                    })
                    .collect();
                log.append_async(records).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let trail = AuditLog::read(log.path()).unwrap();
    assert_eq!(trail.len(), 8 * 40 * 3);
    let distinct: BTreeSet<&str> = trail.iter().map(|r| r.image.as_str()).collect();
    assert_eq!(distinct.len(), trail.len());
    std::fs::remove_dir_all(&dir).unwrap();
}
