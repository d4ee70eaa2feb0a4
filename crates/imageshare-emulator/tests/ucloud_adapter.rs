//! The UCloud adapter (`imageshare-ucloud`) driven against the emulator: lookup, image
//! kinds, paging, share / re-share / unshare, every sharing rule (client-side through the
//! limit checker and server-side through the engine), not-found, auth failure, throttling
//! then retry, partial batch failure, copies, save, delete.

mod ucloud_support;

use imageshare_core::ClientBuilder;
use imageshare_core::ImageSharingExt;
use imageshare_core::{
    Checked, CopyTarget, Error, ImageId, ImageKind, ImageOrigin, ImageState, LimitRule, Principal,
    ProjectId, ShareOutcome, Timestamp,
};
use imageshare_emulator::{Emulator, FaultPlan, FaultRule};
use imageshare_ucloud::{retcode, SharingActions, UCloudCredentials};
use ucloud_support::*;

fn id(s: &str) -> ImageId {
    ImageId::from(s)
}

fn api_code(e: &Error) -> String {
    match e {
        Error::Api(a) => a.code.clone(),
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn start() -> Emulator {
    Emulator::start(world()).await.expect("emulator")
}

#[tokio::test]
async fn image_lookup_maps_kinds_states_and_origins() {
    let emu = start().await;
    let a = adapter(&emu, A, "org-a1");

    let golden = a.image(&id("uimage-golden")).await.unwrap();
    assert_eq!(golden.name, "golden");
    assert_eq!(golden.owner, Some(Principal::project("org-a1")));
    assert_eq!(golden.region.as_str(), REGION);
    assert_eq!(golden.origin, ImageOrigin::Custom);
    assert_eq!(golden.kind, ImageKind::SystemDisk);
    assert_eq!(golden.state, ImageState::Available);
    let created = emu.with_engine(|e| {
        e.images()
            .find(|i| i.id == "uimage-golden")
            .map(|i| Timestamp::from_unix(i.created_unix))
    });
    assert_eq!(golden.created_at, created);
    assert!(created.is_some());

    let kinds = [
        ("uimage-ulhost", ImageKind::LightweightHost),
        ("uimage-whole", ImageKind::WholeMachine),
    ];
    for (img, kind) in kinds {
        assert_eq!(a.image(&id(img)).await.unwrap().kind, kind, "{img}");
    }
    assert_eq!(
        a.image(&id("uimage-making")).await.unwrap().state,
        ImageState::Pending
    );
    let base = a.image(&id("uimage-base")).await.unwrap();
    assert_eq!((base.origin, base.owner), (ImageOrigin::Public, None));

    // A received image is found through the shared-image action.
    let recv = a.image(&id("uimage-recv")).await.unwrap();
    assert_eq!(recv.origin, ImageOrigin::Received);
    assert_eq!(recv.owner, Some(Principal::project("org-b1")));
    assert_eq!(
        emu.action_count(imageshare_ucloud::UHOST, SharingActions::DESCRIBE_SHARED),
        1
    );

    for missing in ["uimage-nope", "uimage-shanghai"] {
        let e = a.image(&id(missing)).await.unwrap_err();
        assert!(
            matches!(&e, Error::NotFound { id, .. } if id == missing),
            "{missing}: {e:?}"
        );
    }
    // Another project of the same account does not see org-a1's images.
    let a2 = adapter(&emu, A, "org-a2");
    assert!(matches!(
        a2.image(&id("uimage-golden")).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn list_images_pages_with_offset_limit_and_total_count() {
    let emu = start().await;
    let a2 = builder(&emu, A, "org-a2").page_size(10).build().unwrap();
    let all = a2.list_images(None).await.unwrap();
    // 25 own images + the public base image.
    assert_eq!(all.len(), PAGED + 1);
    let mut ids: Vec<String> = all.iter().map(|i| i.id.to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), PAGED + 1, "no image twice");
    assert_eq!(
        emu.action_count(imageshare_ucloud::UHOST, "DescribeImage"),
        3
    );

    let custom = a2
        .list_images(Some(imageshare_ucloud::model::ImageType::Custom))
        .await
        .unwrap();
    assert_eq!(custom.len(), PAGED);
    assert!(custom.iter().all(|i| i.origin == ImageOrigin::Custom));
    let page = a2.describe_image_page(None, 20, 10).await.unwrap();
    assert_eq!((page.total_count, page.image_set.len()), (26, 6));
}

#[tokio::test]
async fn share_reshare_unshare_through_the_checker() {
    let emu = start().await;
    let a = Checked::new(adapter(&emu, A, "org-a1"));
    let img = id("uimage-golden");
    let b1 = Principal::project("org-b1");
    let a2 = Principal::project("org-a2"); // another project of the same account

    let report = a.share(&img, &[b1.clone(), a2.clone()]).await.unwrap();
    assert_eq!(
        report.count(imageshare_core::OutcomeKind::Granted),
        2,
        "{report}"
    );
    let grants: Vec<String> = emu
        .grants("uimage-golden")
        .into_iter()
        .map(|g| g.principal)
        .collect();
    assert_eq!(grants, vec!["org-b1", "org-a2"]);
    // One project per call (UHOST_LIMITS.max_principals_per_call).
    assert_eq!(
        emu.action_count(imageshare_ucloud::UHOST, SharingActions::SHARE),
        2
    );

    let again = a.share(&img, std::slice::from_ref(&b1)).await.unwrap();
    assert!(matches!(
        again.outcome(&b1),
        Some(ShareOutcome::AlreadyGranted)
    ));
    assert_eq!(
        emu.action_count(imageshare_ucloud::UHOST, SharingActions::SHARE),
        2
    );

    let sharees = a.sharees(&img).await.unwrap();
    assert_eq!(sharees.len(), 2);
    assert_eq!(sharees[0].principal, b1);
    assert!(sharees[0].shared_at.is_some());

    // The recipient sees it.
    let b = adapter(&emu, B, "org-b1");
    let received = b.shared_with_me().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].id, img);
    assert_eq!(received[0].owner, Some(Principal::project("org-a1")));

    let report = a.unshare(&img, std::slice::from_ref(&b1)).await.unwrap();
    assert!(matches!(report.outcome(&b1), Some(ShareOutcome::Revoked)));
    let report = a.unshare(&img, std::slice::from_ref(&b1)).await.unwrap();
    assert!(matches!(
        report.outcome(&b1),
        Some(ShareOutcome::NotGranted)
    ));
    assert_eq!(emu.grants("uimage-golden").len(), 1);
    assert!(b.shared_with_me().await.unwrap().is_empty());

    // The raw adapter re-sharing is a no-op on the server and reports the state.
    let raw = adapter(&emu, A, "org-a1");
    let r = raw.share(&img, &[a2.clone(), a2.clone()]).await.unwrap();
    assert_eq!(r.len(), 1, "duplicates are sent once");
    assert_eq!(emu.grants("uimage-golden").len(), 1);
}

#[tokio::test]
async fn sharees_page_through_many_projects() {
    let emu = start().await;
    let a = builder(&emu, A, "org-a1").page_size(7).build().unwrap();
    let targets: Vec<Principal> = (0..30).map(|i| Principal::project(fan(i))).collect();
    let checked = Checked::new(a);
    let report = checked.share(&id("uimage-golden"), &targets).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 30);
    let before = emu.action_count(imageshare_ucloud::UHOST, SharingActions::DESCRIBE_SHARE);
    let sharees = checked.sharees(&id("uimage-golden")).await.unwrap();
    let got: Vec<&str> = sharees.iter().map(|s| s.principal.id()).collect();
    let want: Vec<String> = (0..30).map(fan).collect();
    assert_eq!(got, want.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        emu.action_count(imageshare_ucloud::UHOST, SharingActions::DESCRIBE_SHARE) - before,
        5,
        "30 sharees in pages of 7"
    );
}

#[tokio::test]
async fn client_side_limits_refuse_before_sending() {
    let emu = start().await;
    let a = Checked::new(adapter(&emu, A, "org-a1"));
    let cases: Vec<(&str, Vec<Principal>, LimitRule)> = vec![
        (
            "uimage-golden",
            vec![Principal::account("100000000002")],
            LimitRule::PrincipalKind,
        ),
        (
            "uimage-golden",
            vec![Principal::project("100000000002")],
            LimitRule::PrincipalForm,
        ),
        (
            "uimage-ulhost",
            vec![Principal::project("org-b1")],
            LimitRule::ImageKind,
        ),
        (
            "uimage-whole",
            vec![Principal::project("org-b1")],
            LimitRule::ImageKind,
        ),
        (
            "uimage-making",
            vec![Principal::project("org-b1")],
            LimitRule::ImageState,
        ),
        (
            "uimage-recv",
            vec![Principal::project("org-b1")],
            LimitRule::ReceivedImage,
        ),
        (
            "uimage-base",
            vec![Principal::project("org-b1")],
            LimitRule::PublicImage,
        ),
        (
            "uimage-golden",
            vec![Principal::project("org-a1")],
            LimitRule::ShareWithSelf,
        ),
        (
            "uimage-golden",
            (0..51).map(|i| Principal::project(fan(i))).collect(),
            LimitRule::MaxShareesPerImage,
        ),
    ];
    for (img, to, rule) in cases {
        let e = a.share(&id(img), &to).await.unwrap_err();
        assert_eq!(
            e.as_limit().map(|v| v.rule),
            Some(rule),
            "{img} -> {to:?}: {e}"
        );
    }
    assert_eq!(
        emu.action_count(imageshare_ucloud::UHOST, SharingActions::SHARE),
        0
    );
}

#[tokio::test]
async fn server_side_rules_answer_with_their_retcodes() {
    let emu = start().await;
    let a = adapter(&emu, A, "org-a1");
    let b1 = [Principal::project("org-b1")];
    let code = |r: Result<imageshare_core::ShareReport, Error>| api_code(&r.unwrap_err());

    assert_eq!(code(a.share(&id("uimage-ulhost"), &b1).await), "8992");
    assert_eq!(code(a.share(&id("uimage-whole"), &b1).await), "8993");
    assert_eq!(code(a.share(&id("uimage-making"), &b1).await), "8961");
    assert_eq!(code(a.share(&id("uimage-recv"), &b1).await), "8994");
    assert_eq!(
        code(
            a.share(&id("uimage-golden"), &[Principal::project("org-a1")])
                .await
        ),
        "8995"
    );
    assert_eq!(
        code(
            a.share(&id("uimage-golden"), &[Principal::project("org-zz9")])
                .await
        ),
        "292"
    );
    assert_eq!(
        code(
            a.share(&id("uimage-golden"), &[Principal::project("bad id")])
                .await
        ),
        "230"
    );
    // The image lives in cn-sh2; the adapter works in cn-bj2.
    assert_eq!(code(a.share(&id("uimage-shanghai"), &b1).await), "8991");
    // Only the sharer (org-b1) cancels; the recipient (org-a1) cannot.
    let e = a
        .unshare(&id("uimage-recv"), &[Principal::project("org-a1")])
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), retcode::SHARE_NOT_SHARER.to_string());
    assert_eq!(emu.grants("uimage-recv").len(), 1);

    // 50 projects, then the 51st is refused by the server.
    let fifty: Vec<Principal> = (0..50).map(|i| Principal::project(fan(i))).collect();
    let wide = builder(&emu, A, "org-a1")
        .max_projects_per_call(50)
        .build()
        .unwrap();
    assert_eq!(
        wide.share(&id("uimage-golden"), &fifty)
            .await
            .unwrap()
            .count(imageshare_core::OutcomeKind::Granted),
        50
    );
    assert_eq!(emu.grants("uimage-golden").len(), 50);
    let e = a
        .share(&id("uimage-golden"), &[Principal::project(fan(50))])
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), retcode::SHARE_QUOTA_EXCEEDED.to_string());
    assert_eq!(emu.grants("uimage-golden").len(), 50);

    // An account principal never reaches the wire.
    let e = a
        .share(&id("uimage-golden"), &[Principal::account("100000000002")])
        .await
        .unwrap_err();
    assert_eq!(e.as_limit().unwrap().rule, LimitRule::PrincipalKind);
}

#[tokio::test]
async fn not_found_everywhere() {
    let emu = start().await;
    let a = adapter(&emu, A, "org-a1");
    let nope = id("uimage-nope");
    let to = [Principal::project("org-b1")];
    let is_nf = |e: &Error| matches!(e, Error::NotFound { id, .. } if id == "uimage-nope");
    assert!(is_nf(&a.share(&nope, &to).await.unwrap_err()));
    assert!(is_nf(&a.unshare(&nope, &to).await.unwrap_err()));
    assert!(is_nf(&a.sharees(&nope).await.unwrap_err()));
    assert!(is_nf(&a.delete(&nope).await.unwrap_err()));
    assert!(is_nf(
        &a.copy_to_project(&nope, &ProjectId::from("org-a2"), None, None)
            .await
            .unwrap_err()
    ));
    assert!(is_nf(&a.save_shared_image(&nope, None).await.unwrap_err()));
}

#[tokio::test]
async fn auth_failures_are_typed() {
    let emu = start().await;
    let wrong_key = builder(&emu, A, "org-a1")
        .credentials(UCloudCredentials::new(
            "ucloud100000000001@example.com",
            "wrong",
        ))
        .build()
        .unwrap();
    match wrong_key.image(&id("uimage-golden")).await.unwrap_err() {
        Error::Auth {
            provider,
            code,
            message,
            request_id,
            ..
        } => {
            assert_eq!((provider, code.as_str()), (imageshare_ucloud::UHOST, "171"));
            assert_eq!(message, "Signature VerifyAC Error");
            assert!(request_id.is_some());
        }
        other => panic!("{other:?}"),
    }
    let unknown = builder(&emu, A, "org-a1")
        .credentials(UCloudCredentials::new("nobody@example.com", "x"))
        .build()
        .unwrap();
    let e = unknown.image(&id("uimage-golden")).await.unwrap_err();
    assert!(
        matches!(&e, Error::Auth { code, .. } if code == "172"),
        "{e:?}"
    );
    // Auth failures are not retried.
    assert_eq!(
        emu.action_count(imageshare_ucloud::UHOST, "DescribeImage"),
        2
    );

    // A project of another account: 292.
    let foreign = adapter(&emu, A, "org-b1");
    assert_eq!(
        api_code(&foreign.image(&id("uimage-golden")).await.unwrap_err()),
        "292"
    );
}

#[tokio::test]
async fn throttling_is_retried_until_success() {
    let emu = start().await;
    emu.set_faults(
        FaultPlan::seeded(7).rule(
            FaultRule::new()
                .with_provider(imageshare_ucloud::UHOST)
                .with_action("DescribeImage")
                .with_qps(1),
        ),
    );
    let a = adapter(&emu, A, "org-a1");
    for _ in 0..3 {
        assert_eq!(
            a.image(&id("uimage-golden")).await.unwrap().id,
            id("uimage-golden")
        );
    }
    let throttled = emu
        .calls()
        .iter()
        .filter(|c| c.action == "DescribeImage" && c.error.as_deref() == Some("153"))
        .count();
    assert!(
        throttled >= 2,
        "two of three calls hit the 1 QPS quota first"
    );
    assert_eq!(
        emu.faults_served().len(),
        throttled,
        "every throttle was a served fault"
    );

    // Copies are never retried: the 153 comes back as is.
    emu.set_faults(
        FaultPlan::seeded(7).rule(
            FaultRule::new()
                .with_provider(imageshare_ucloud::UHOST)
                .with_action("CopyCustomImage")
                .with_qps(1),
        ),
    );
    let project = ProjectId::from("org-a2");
    a.copy_to_project(&id("uimage-golden"), &project, None, None)
        .await
        .unwrap();
    let e = a
        .copy_to_project(&id("uimage-golden"), &project, None, None)
        .await
        .unwrap_err();
    assert_eq!((api_code(&e), e.is_retryable()), ("153".to_owned(), false));
    assert_eq!(
        emu.action_count(imageshare_ucloud::UHOST, "CopyCustomImage"),
        2
    );
}

#[tokio::test]
async fn server_errors_are_retried() {
    let emu = start().await;
    emu.set_faults(
        FaultPlan::seeded(3).rule(
            FaultRule::new()
                .with_provider(imageshare_ucloud::UHOST)
                .with_action(SharingActions::DESCRIBE_SHARE)
                .with_error_rate(0.5),
        ),
    );
    let a = adapter(&emu, A, "org-a1");
    for _ in 0..8 {
        assert!(a.sharees(&id("uimage-golden")).await.unwrap().is_empty());
    }
    assert!(
        emu.faults_served()
            .iter()
            .any(|f| f.action == SharingActions::DESCRIBE_SHARE),
        "the seed produced at least one 503"
    );
}

#[tokio::test]
async fn partial_batch_failure_is_reported_per_project() {
    let emu = start().await;
    let a = Checked::new(adapter(&emu, A, "org-a1"));
    let ok = Principal::project("org-b1");
    let bad = Principal::project("org-zz9");
    let err = a
        .share(&id("uimage-golden"), &[ok.clone(), bad.clone()])
        .await
        .unwrap_err();
    let Error::Partial(report) = err else {
        panic!("expected a partial failure, got {err:?}");
    };
    assert!(matches!(report.outcome(&ok), Some(ShareOutcome::Granted)));
    match report.outcome(&bad) {
        Some(ShareOutcome::Failed(e)) => assert_eq!(e.code(), Some("292")),
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.grants("uimage-golden").len(), 1);
}

#[tokio::test]
async fn copies_saves_and_deletes() {
    let emu = start().await;
    let a = adapter(&emu, A, "org-a1");

    // Documented route: copy into another project of the same account.
    let copied = a
        .copy_to_project(
            &id("uimage-golden"),
            &ProjectId::from("org-a2"),
            None,
            Some("gold-copy"),
        )
        .await
        .unwrap();
    assert!(copied.task_id.as_deref().unwrap().starts_with("task-"));
    let a2 = adapter(&emu, A, "org-a2");
    let img = a2.image(&copied.image_id).await.unwrap();
    assert_eq!(
        (img.name.as_str(), img.origin),
        ("gold-copy", ImageOrigin::Custom)
    );

    // Cross-region copy within the own project (TargetRegion).
    let sh = a
        .copy(
            &id("uimage-golden"),
            CopyTarget::Region {
                region: OTHER_REGION.into(),
                name: None,
            },
        )
        .await
        .unwrap();
    let a_sh = builder(&emu, A, "org-a1")
        .region(OTHER_REGION)
        .build()
        .unwrap();
    assert_eq!(a_sh.image(&sh).await.unwrap().region.as_str(), OTHER_REGION);

    // Own copy of an own image, same project and region: UCloud's 8962.
    let e = a
        .copy(&id("uimage-golden"), CopyTarget::OwnCopy { name: None })
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), retcode::SAME_PROJECT_COPY.to_string());

    // Another account's project cannot be a copy target here: 292.
    let e = a
        .copy_to_project(&id("uimage-golden"), &ProjectId::from("org-b1"), None, None)
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), "292");

    // The recipient saves a shared image as its own.
    let saved = a
        .copy(
            &id("uimage-recv"),
            CopyTarget::OwnCopy {
                name: Some("mine".into()),
            },
        )
        .await
        .unwrap();
    let mine = a.image(&saved).await.unwrap();
    assert_eq!(mine.origin, ImageOrigin::Custom);
    assert_eq!(mine.owner, Some(Principal::project("org-a1")));
    assert_eq!(
        emu.action_count(imageshare_ucloud::UHOST, SharingActions::SAVE_SHARED),
        1
    );

    // Deleting the source hides the share from recipients; the saved copy stays.
    let b = adapter(&emu, B, "org-b1");
    b.delete(&id("uimage-recv")).await.unwrap();
    assert!(a.shared_with_me().await.unwrap().is_empty());
    assert!(emu.grants("uimage-recv").is_empty());
    assert!(a.image(&saved).await.is_ok());
    // A recipient cannot delete the sharer's image.
    let checked = Checked::new(adapter(&emu, A, "org-a1"));
    checked
        .share(&id("uimage-second"), &[Principal::project("org-b1")])
        .await
        .unwrap();
    assert!(matches!(
        b.delete(&id("uimage-second")).await,
        Err(Error::NotFound { .. })
    ));
    // The sharer may delete a shared image (UCloud documents it; no unshare first).
    checked.delete(&id("uimage-second")).await.unwrap();
    assert!(b.shared_with_me().await.unwrap().is_empty());
}

#[tokio::test]
async fn renamed_actions_unknown_to_the_server_are_unsupported() {
    let emu = start().await;
    let a = builder(&emu, A, "org-a1")
        .share_action("ShareUImageToProject")
        .describe_shared_action("ListSharedUImage")
        .build()
        .unwrap();
    let e = a
        .share(&id("uimage-golden"), &[Principal::project("org-b1")])
        .await
        .unwrap_err();
    match e {
        Error::Unsupported {
            operation, reason, ..
        } => {
            assert_eq!(operation, "ShareUImageToProject");
            assert!(reason.contains("copy_to_project"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        a.shared_with_me().await,
        Err(Error::Unsupported { .. })
    ));
    // image() treats the missing shared-image action as "not found".
    assert!(matches!(
        a.image(&id("uimage-recv")).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn images_are_looked_up_with_image_ids_then_one_by_one() {
    let emu = start().await;
    let a = adapter(&emu, A, "org-a1");
    let asked: Vec<ImageId> = ["uimage-golden", "uimage-recv", "uimage-base", "uimage-nope"]
        .into_iter()
        .map(id)
        .collect();
    let found = a.images(&asked).await.unwrap();
    let golden = found[0].as_ref().unwrap();
    assert_eq!(
        (golden.origin, &golden.id),
        (ImageOrigin::Custom, &asked[0])
    );
    let recv = found[1].as_ref().unwrap();
    assert_eq!(recv.origin, ImageOrigin::Received);
    assert_eq!(recv.owner, Some(Principal::project("org-b1")));
    assert_eq!(found[2].as_ref().unwrap().origin, ImageOrigin::Public);
    assert!(matches!(&found[3], Err(Error::NotFound { id, .. }) if id == "uimage-nope"));
    // One DescribeImage with ImageIds.N for all four, then DescribeImage + the shared-image
    // listing for each of the two it did not list.
    assert_eq!(
        emu.action_count(imageshare_ucloud::UHOST, "DescribeImage"),
        3
    );
    assert_eq!(
        emu.action_count(imageshare_ucloud::UHOST, SharingActions::DESCRIBE_SHARED),
        2
    );
}
