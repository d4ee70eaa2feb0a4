//! Distribution over `InMemorySharing` region views behind the limit checker: copies made
//! once and found again by name (a re-run makes no second copy and grants nothing twice),
//! shares of each region as soon as its copy is ready, failures kept in their region, and
//! refusals before anything is sent.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use imageshare_core::distribute::{
    self, Adapters, CopyState, CopyStep, Distribution, Phase, Progress, RunOptions, Wait,
};
use imageshare_core::memory::InMemorySharing;
use imageshare_core::memory::EXAMPLE_LIMITS;
use imageshare_core::{
    CallContext, Checked, CopyLimits, Encryption, Error, Image, ImageSharing, ImageState,
    LimitRule, Principal, Provider, Region, RegionBorder, ShareLimits,
};

const OWNER: &str = "1000000001";

const TABLE: ShareLimits = EXAMPLE_LIMITS.with_provider(Provider::new("alibaba-ecs"));

const COPY: CopyLimits = CopyLimits {
    action: "CopyImage",
    max_regions_per_call: 1,
    max_name_chars: 128,
    border: Some(RegionBorder {
        inside: &["cn-hangzhou", "cn-shanghai", "cn-beijing"],
        inside_name: "mainland China",
        outside_name: "outside mainland China",
    }),
    source_busy_while_copying: false,
    source: "test",
};

const SOURCE_REGION: &str = "cn-hangzhou";

fn source_image() -> Image {
    Image::new("m-golden1", SOURCE_REGION)
        .with_name("golden")
        .with_owner(Some(Principal::account(OWNER)))
        .with_encryption(Encryption::None)
}

/// One in-memory cloud, a checked adapter for the source region, and one per target.
struct World {
    cloud: InMemorySharing,
    source: Checked<InMemorySharing>,
    targets: BTreeMap<Region, Checked<InMemorySharing>>,
}

fn world(targets: &[&str], copy: Option<CopyLimits>) -> World {
    let mut cloud = InMemorySharing::new(SOURCE_REGION, TABLE);
    if let Some(c) = copy {
        cloud = cloud.with_copy_limits(c);
    }
    cloud.add_image(source_image());
    let source = Checked::new(cloud.in_region(SOURCE_REGION));
    let targets = targets
        .iter()
        .map(|r| (Region::from(*r), Checked::new(cloud.in_region(*r))))
        .collect();
    World {
        cloud,
        source,
        targets,
    }
}

impl World {
    fn adapters(&self) -> Adapters<'_, Checked<InMemorySharing>> {
        Adapters::new(&self.source, &self.targets)
    }
    fn copies_in(&self, region: &str) -> Vec<Image> {
        self.cloud
            .images_in_region(&region.into())
            .into_iter()
            .filter(|i| i.id.as_str() != "m-golden1")
            .collect()
    }
}

fn accounts(n: usize) -> Vec<Principal> {
    (0..n)
        .map(|i| Principal::account(format!("20000{i:05}")))
        .collect()
}

fn fast() -> RunOptions {
    RunOptions::default().wait(Wait {
        timeout: Duration::from_secs(5),
        poll: Duration::from_millis(5),
    })
}

#[tokio::test]
async fn copies_once_shares_every_copy_and_a_rerun_changes_nothing() {
    let w = world(&["cn-shanghai", "cn-beijing"], Some(COPY));
    let d = Distribution::new(
        "m-golden1",
        [
            "cn-shanghai".into(),
            SOURCE_REGION.into(),
            "cn-beijing".into(),
        ],
        accounts(12),
    );
    let cx = CallContext::new();
    let report = distribute::run_in(&cx, w.adapters(), &d, fast(), None)
        .await
        .unwrap();
    assert!(report.is_complete(), "{report:?}");
    let steps: Vec<_> = report.regions.iter().map(|r| r.copy.clone()).collect();
    assert_eq!(steps, [CopyStep::Made, CopyStep::Source, CopyStep::Made]);
    for region in ["cn-shanghai", "cn-beijing"] {
        let copies = w.copies_in(region);
        assert_eq!(copies.len(), 1, "one copy in {region}");
        assert_eq!(copies[0].name, "golden-m-golden1", "named after its source");
        assert_eq!(w.cloud.grants(&copies[0].id).len(), 12);
    }
    assert_eq!(w.cloud.grants(&"m-golden1".into()).len(), 12);
    // 12 principals, 10 per call: 2 share calls per region.
    assert_eq!(w.cloud.calls().share, 6);
    assert_eq!(w.cloud.calls().copy, 2);

    // Again: nothing copied, nothing granted; the plan says so.
    let plan = distribute::plan_in(&cx, w.adapters(), &d).await.unwrap();
    assert!(plan.is_noop(), "{plan:?}");
    let before = w.cloud.calls();
    let again = distribute::run_in(&cx, w.adapters(), &d, fast(), None)
        .await
        .unwrap();
    assert!(again.is_complete());
    let steps: Vec<_> = again.regions.iter().map(|r| r.copy.clone()).collect();
    assert_eq!(steps, [CopyStep::Found, CopyStep::Source, CopyStep::Found]);
    let after = w.cloud.calls();
    assert_eq!(after.copy, before.copy, "no second copy");
    assert_eq!(after.share, before.share, "nothing granted twice");
    assert!(again.regions.iter().all(|r| r.shared.is_none()));
}

#[tokio::test]
async fn a_copy_being_made_is_waited_for_with_progress_then_shared() {
    let w = world(&["cn-shanghai"], Some(COPY));
    // An earlier run started the copy and was killed: it exists, 40% done.
    let copy = w
        .cloud
        .in_region(SOURCE_REGION)
        .copy_in(
            &CallContext::new(),
            &"m-golden1".into(),
            imageshare_core::CopyTarget::Region {
                region: "cn-shanghai".into(),
                name: Some("golden-m-golden1".into()),
            },
        )
        .await
        .unwrap();
    w.cloud.set_state(&copy, ImageState::Pending, Some(40));
    let d = Distribution::new("m-golden1", ["cn-shanghai".into()], accounts(2));
    let cx = CallContext::new();

    let plan = distribute::plan_in(&cx, w.adapters(), &d).await.unwrap();
    assert_eq!(
        plan.regions[0].copy,
        CopyState::Copying {
            image: copy.clone(),
            progress: Some(40)
        }
    );
    assert_eq!(
        plan.regions[0].share.add,
        accounts(2),
        "all to add once ready"
    );

    let events: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let seen = Arc::clone(&events);
    let on_progress = move |p: &Progress| seen.lock().unwrap().push(p.clone());
    let cloud = w.cloud.in_region("cn-shanghai");
    let finisher = {
        let copy = copy.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(60)).await;
            cloud.set_state(&copy, ImageState::Pending, Some(90));
            tokio::time::sleep(Duration::from_millis(60)).await;
            cloud.set_state(&copy, ImageState::Available, None);
        })
    };
    let copies_before = w.cloud.calls().copy;
    let report = distribute::run_in(&cx, w.adapters(), &d, fast(), Some(&on_progress))
        .await
        .unwrap();
    finisher.await.unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.regions[0].copy, CopyStep::Found);
    assert_eq!(
        w.cloud.calls().copy,
        copies_before,
        "the copy was not made again"
    );
    assert_eq!(w.cloud.grants(&copy), accounts(2));
    let events = events.lock().unwrap();
    let percents: Vec<u8> = events.iter().filter_map(|e| e.percent).collect();
    assert!(
        percents.contains(&40) && percents.contains(&90),
        "{percents:?}"
    );
    let phases: Vec<Phase> = events.iter().map(|e| e.phase).collect();
    assert_eq!(phases.first(), Some(&Phase::Looking));
    assert_eq!(&phases[phases.len() - 2..], [Phase::Sharing, Phase::Done]);
}

#[tokio::test]
async fn a_failed_or_slow_copy_stays_in_its_region() {
    let w = world(&["cn-shanghai", "cn-beijing"], Some(COPY));
    let src = w.cloud.in_region(SOURCE_REGION);
    let cx = CallContext::new();
    // cn-shanghai: a failed copy from an earlier run; cn-beijing: ready.
    let failed = src
        .copy_in(
            &cx,
            &"m-golden1".into(),
            imageshare_core::CopyTarget::Region {
                region: "cn-shanghai".into(),
                name: Some("golden-m-golden1".into()),
            },
        )
        .await
        .unwrap();
    w.cloud.set_state(&failed, ImageState::Failed, None);
    let d = Distribution::new(
        "m-golden1",
        ["cn-shanghai".into(), "cn-beijing".into()],
        accounts(1),
    );
    let report = distribute::run_in(&cx, w.adapters(), &d, fast(), None)
        .await
        .unwrap();
    assert!(!report.is_complete());
    let shanghai = &report.regions[0];
    assert!(
        matches!(shanghai.error.as_deref(), Some(Error::CopyFailed { image, .. }) if *image == failed.to_string()),
        "{shanghai:?}"
    );
    assert_eq!(w.copies_in("cn-shanghai").len(), 1, "not replaced");
    assert!(report.regions[1].is_done(), "the other region went on");
    assert_eq!(report.unfinished().count(), 1);

    // A copy that stays pending past the budget: a timeout for its region.
    let w = world(&["cn-beijing"], Some(COPY));
    let slow = w
        .cloud
        .in_region(SOURCE_REGION)
        .copy_in(
            &cx,
            &"m-golden1".into(),
            imageshare_core::CopyTarget::Region {
                region: "cn-beijing".into(),
                name: Some("golden-m-golden1".into()),
            },
        )
        .await
        .unwrap();
    w.cloud.set_state(&slow, ImageState::Pending, Some(10));
    let d = Distribution::new("m-golden1", ["cn-beijing".into()], accounts(1));
    let short = RunOptions::default().wait(Wait {
        timeout: Duration::from_millis(30),
        poll: Duration::from_millis(5),
    });
    let report = distribute::run_in(&cx, w.adapters(), &d, short, None)
        .await
        .unwrap();
    let err = report.regions[0].error.as_ref().expect("timed out");
    assert!(matches!(**err, Error::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("not made twice"), "{err}");
    assert!(w.cloud.grants(&slow).is_empty());
}

#[tokio::test]
async fn refusals_come_before_anything_is_sent() {
    let cx = CallContext::new();
    // No cross-region copy at all.
    let w = world(&["cn-shanghai"], None);
    let d = Distribution::new("m-golden1", ["cn-shanghai".into()], accounts(1));
    let err = distribute::run_in(&cx, w.adapters(), &d, fast(), None)
        .await
        .unwrap_err();
    assert_eq!(
        err.as_limit().map(|v| v.rule),
        Some(LimitRule::CrossRegionCopy)
    );
    // Across the border.
    let w = world(&["cn-shanghai", "ap-southeast-1"], Some(COPY));
    let d = Distribution::new(
        "m-golden1",
        ["cn-shanghai".into(), "ap-southeast-1".into()],
        accounts(1),
    );
    let err = distribute::plan_in(&cx, w.adapters(), &d)
        .await
        .unwrap_err();
    assert_eq!(err.as_limit().map(|v| v.rule), Some(LimitRule::CopyBorder));
    // A region without an adapter.
    let d = Distribution::new("m-golden1", ["cn-beijing".into()], accounts(1));
    let err = distribute::run_in(&cx, w.adapters(), &d, fast(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    assert!(err.to_string().contains("cn-beijing"), "{err}");
    assert_eq!(
        w.cloud.calls(),
        Default::default(),
        "not one call for any refusal"
    );
}

#[tokio::test]
async fn an_interrupted_run_reports_what_is_unfinished_and_a_rerun_finishes_it() {
    let w = world(&["cn-shanghai"], Some(COPY));
    let cx = CallContext::new();
    let d = Distribution::new("m-golden1", ["cn-shanghai".into()], accounts(3)).prune(true);
    // The copy starts and stays pending: the run is interrupted while it waits.
    w.cloud.set_copies_pending(true);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let tx = Mutex::new(Some(tx));
    let on_progress = move |p: &Progress| {
        if p.phase == Phase::Copying {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
        }
    };
    let cancel = async {
        let _ = rx.await;
    };
    let report = distribute::run_until(&cx, w.adapters(), &d, fast(), Some(&on_progress), cancel)
        .await
        .unwrap();
    assert!(report.regions[0].interrupted, "{report:?}");
    assert!(!report.is_complete());
    let copies = w.copies_in("cn-shanghai");
    assert_eq!(copies.len(), 1);

    // The copy finishes in the cloud; the next run finds it and shares it.
    w.cloud
        .set_state(&copies[0].id, ImageState::Available, None);
    w.cloud
        .seed_grants(&copies[0].id, [Principal::account("3000000001")]);
    let report = distribute::run_in(&cx, w.adapters(), &d, fast(), None)
        .await
        .unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.regions[0].copy, CopyStep::Found);
    assert_eq!(w.copies_in("cn-shanghai").len(), 1, "exactly one copy");
    assert_eq!(
        w.cloud.grants(&copies[0].id),
        accounts(3),
        "pruned and shared"
    );
}
