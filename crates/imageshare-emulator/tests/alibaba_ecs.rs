//! ECS on the emulator, driven by the imageshare ECS adapter (both signature versions,
//! with and without the limit checker) and by hand-signed requests: sharing, paging,
//! every limit rule with ECS's own code, not found, copy, delete, throttling then retry,
//! partial batch failure.

mod alibaba_common;

use alibaba_common::*;
use imageshare_alibaba::{EcsImageSharing, SignatureVersion, ECS_VERSION};
use imageshare_core::ClientBuilder;
use imageshare_core::{
    Checked, CopyTarget, Error, ImageOrigin, ImageSharingExt, LimitRule, Principal, Timestamp,
};
use imageshare_emulator::{Emulator, FaultPlan, FaultRule};

const SIGS: [SignatureVersion; 2] = [SignatureVersion::Acs3, SignatureVersion::RpcV1];

fn acct(id: &str) -> Principal {
    Principal::account(id)
}

fn api_code(err: &Error) -> (u16, String) {
    match err {
        Error::Api(a) => (a.status, a.code.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn modify_calls(emu: &Emulator) -> usize {
    emu.action_count(imageshare_alibaba::ECS, "ModifyImageSharePermission")
}

#[tokio::test]
async fn share_reshare_sharees_shared_with_me_and_unshare() {
    for sig in SIGS {
        let emu = Emulator::start(world()).await.unwrap();
        let base = emu.base_url();
        let ecs = Checked::new(ecs(&base, OWNER, sig));
        let id = "m-golden0001".into();

        let img = ecs.image(&id).await.unwrap();
        assert_eq!(img.origin, ImageOrigin::Custom);
        assert_eq!(img.owner, Some(acct(OWNER)));
        assert_eq!(img.name, "golden");

        let report = ecs.share(&id, &[acct(PEER), acct(INTL)]).await.unwrap();
        assert_eq!(
            report.count(imageshare_core::OutcomeKind::Granted),
            2,
            "{sig:?}"
        );
        assert_eq!(emu.grants("m-golden0001").len(), 2);
        assert_eq!(modify_calls(&emu), 1);

        // Idempotent: nothing is sent for accounts that already have a grant.
        let report = ecs.share(&id, &[acct(PEER)]).await.unwrap();
        assert_eq!(
            report.count(imageshare_core::OutcomeKind::AlreadyGranted),
            1
        );
        assert_eq!(modify_calls(&emu), 1);

        let sharees = ecs.sharees(&id).await.unwrap();
        let mut who: Vec<_> = sharees
            .iter()
            .map(|s| s.principal.id().to_owned())
            .collect();
        who.sort();
        assert_eq!(who, [PEER, INTL]);
        // Each grant time read back is the emulator's own (sent as `...Z`).
        let granted: Vec<_> = emu
            .grants("m-golden0001")
            .iter()
            .map(|g| Timestamp::from_unix(g.created_unix))
            .collect();
        assert!(sharees
            .iter()
            .all(|s| s.shared_at.is_some_and(|t| granted.contains(&t))));

        // The recipient sees it among the images shared with it.
        let peer = alibaba_common::ecs(&base, PEER, sig);
        let got = peer.shared_with_me().await.unwrap();
        let golden = got
            .iter()
            .find(|i| i.id.as_str() == "m-golden0001")
            .unwrap();
        assert_eq!(golden.origin, ImageOrigin::Received);
        assert_eq!(golden.owner, Some(acct(OWNER)));

        let report = ecs
            .unshare(&id, &[acct(PEER), acct("110000000001")])
            .await
            .unwrap();
        assert_eq!(report.count(imageshare_core::OutcomeKind::Revoked), 1);
        assert_eq!(report.count(imageshare_core::OutcomeKind::NotGranted), 1);
        assert_eq!(emu.grants("m-golden0001").len(), 1);
        assert!(!peer
            .shared_with_me()
            .await
            .unwrap()
            .iter()
            .any(|i| i.id.as_str() == "m-golden0001"));
    }
}

#[tokio::test]
async fn many_sharees_are_batched_by_ten_and_paged() {
    let emu = Emulator::start(world()).await.unwrap();
    let base = emu.base_url();
    let ecs = Checked::new(ecs(&base, OWNER, SignatureVersion::Acs3));
    let to: Vec<Principal> = many(45).iter().map(|a| acct(a)).collect();
    let report = ecs.share(&"m-golden0002".into(), &to).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 45);
    assert_eq!(modify_calls(&emu), 5, "45 accounts in batches of 10");
    assert_eq!(ecs.sharees(&"m-golden0002".into()).await.unwrap().len(), 45);

    // The server pages like the cloud: PageNumber / PageSize / TotalCount.
    let a = acs3(
        &base,
        &creds(OWNER),
        "DescribeImageSharePermission",
        ECS_VERSION,
        &[
            ("RegionId", REGION),
            ("ImageId", "m-golden0002"),
            ("PageNumber", "5"),
            ("PageSize", "10"),
        ],
        now(),
        &nonce(),
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["TotalCount"], 45);
    assert_eq!(a.body["PageNumber"], 5);
    assert_eq!(a.body["PageSize"], 10);
    assert_eq!(a.body["Accounts"]["Account"].as_array().unwrap().len(), 5);
    assert_eq!(a.body["ShareGroups"]["ShareGroup"], serde_json::json!([]));
    assert_eq!(a.body["ImageId"], "m-golden0002");
}

#[tokio::test]
async fn more_than_ten_add_accounts_are_silently_ignored_by_the_server() {
    let emu = Emulator::start(world()).await.unwrap();
    let accounts = many(12);
    let mut params: Vec<(String, String)> = vec![
        ("RegionId".into(), REGION.into()),
        ("ImageId".into(), "m-golden0001".into()),
    ];
    for (i, a) in accounts.iter().enumerate() {
        params.push((format!("AddAccount.{}", i + 1), a.clone()));
    }
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let a = rpc(
        &emu.base_url(),
        &creds(OWNER),
        "ModifyImageSharePermission",
        ECS_VERSION,
        &refs,
        now(),
        &nonce(),
        &[],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    let grants: Vec<String> = emu
        .grants("m-golden0001")
        .into_iter()
        .map(|g| g.principal)
        .collect();
    assert_eq!(grants, accounts[..10], "AddAccount.11 and .12 are ignored");
}

#[tokio::test]
async fn every_limit_rule_answers_with_ecs_codes() {
    let emu = Emulator::start(world()).await.unwrap();
    let base = emu.base_url();
    let raw = ecs(&base, OWNER, SignatureVersion::Acs3);
    let share = |id: &'static str, who: Vec<Principal>| {
        let raw = raw.clone();
        async move { raw.share(&id.into(), &who).await }
    };

    // 50 accounts per image: the 51st is refused.
    let fifty: Vec<Principal> = many(50).iter().map(|a| acct(a)).collect();
    for chunk in fifty.chunks(10) {
        share("m-golden0001", chunk.to_vec()).await.unwrap();
    }
    let err = share("m-golden0001", vec![acct(PEER)]).await.unwrap_err();
    assert_eq!(api_code(&err), (403, "QuotaExceed.ShareImageUser".into()));

    let err = share("m-golden0002", vec![acct(OWNER)]).await.unwrap_err();
    assert_eq!(api_code(&err), (404, "InvalidAccount.Forbbiden".into()));
    let err = share("m-golden0002", vec![acct("123456789012")])
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (404, "InvalidAccount.NotFound".into()));
    let err = share("m-svckey0001", vec![acct(PEER)]).await.unwrap_err();
    assert_eq!(
        api_code(&err),
        (
            403,
            "InvalidOperation.ServiceKeyEncryptedImageUnsupported".into()
        )
    );
    let err = share("m-market0001", vec![acct(PEER)]).await.unwrap_err();
    assert_eq!(api_code(&err), (403, "Forbidden".into()));
    let err = share("m-creating01", vec![acct(PEER)]).await.unwrap_err();
    assert_eq!(api_code(&err), (400, "IncorrectImageStatus".into()));
    // Received images and images of another region are not among the caller's images.
    for id in ["m-recv000001", "m-shanghai01", "m-nothere0001"] {
        let err = share(id, vec![acct(PEER)]).await.unwrap_err();
        assert!(
            matches!(&err, Error::NotFound { id: i, .. } if i == id),
            "{id}: {err:?}"
        );
    }
    // CMK-encrypted: shareable with the role, AssumeRoleError without.
    share("m-cmk0000001", vec![acct(PEER)]).await.unwrap();
    let peer = alibaba_common::ecs(&base, PEER, SignatureVersion::RpcV1);
    let err = peer
        .share(&"m-cmk0000002".into(), &[acct(OWNER)])
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (403, "AssumeRoleError".into()));
    // ECS allows sharing across the China and international sites.
    share("m-whole00001", vec![acct(INTL)]).await.unwrap();

    // The limit checker refuses the same before anything is sent.
    let checked = Checked::new(raw.clone());
    let before = modify_calls(&emu);
    for (id, rule) in [
        ("m-market0001", LimitRule::MarketplaceDerived),
        ("m-svckey0001", LimitRule::EncryptedImage),
        ("m-recv000001", LimitRule::ReceivedImage),
        ("m-creating01", LimitRule::ImageState),
    ] {
        let err = checked.share(&id.into(), &[acct(PEER)]).await.unwrap_err();
        assert_eq!(err.as_limit().map(|l| l.rule), Some(rule), "{id}: {err}");
    }
    let err = checked
        .share(&"m-golden0001".into(), &[acct(PEER)])
        .await
        .unwrap_err();
    assert_eq!(err.as_limit().unwrap().rule, LimitRule::MaxShareesPerImage);
    assert_eq!(modify_calls(&emu), before);
}

#[tokio::test]
async fn not_found_and_delete() {
    let emu = Emulator::start(world()).await.unwrap();
    let base = emu.base_url();
    let raw = ecs(&base, OWNER, SignatureVersion::RpcV1);
    let err = raw.image(&"m-nothere0001".into()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    let err = raw.sharees(&"m-nothere0001".into()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    // DeleteImage ignores an image that does not exist (DeleteImage doc).
    raw.delete(&"m-nothere0001".into()).await.unwrap();

    raw.share(&"m-golden0001".into(), &[acct(PEER)])
        .await
        .unwrap();
    let err = raw.delete(&"m-golden0001".into()).await.unwrap_err();
    assert_eq!(api_code(&err), (403, "ImageUseShared".into()));
    let err = Checked::new(raw.clone())
        .delete(&"m-golden0001".into())
        .await
        .unwrap_err();
    assert_eq!(err.as_limit().unwrap().rule, LimitRule::DeleteWhileShared);
    let report = raw
        .unshare_all_and_delete(&"m-golden0001".into())
        .await
        .unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Revoked), 1);
    assert!(matches!(
        raw.image(&"m-golden0001".into()).await.unwrap_err(),
        Error::NotFound { .. }
    ));
}

#[tokio::test]
async fn copies_own_received_other_region_and_encrypted() {
    let emu = Emulator::start(world()).await.unwrap();
    let base = emu.base_url();
    let owner = ecs(&base, OWNER, SignatureVersion::Acs3);

    // A received image: the recipient's own copy can be shared onward.
    let copy = owner
        .copy(
            &"m-recv000001".into(),
            CopyTarget::OwnCopy {
                name: Some("mine".into()),
            },
        )
        .await
        .unwrap();
    let img = owner.image(&copy).await.unwrap();
    assert_eq!(img.origin, ImageOrigin::Custom);
    assert_eq!(img.owner, Some(acct(OWNER)));
    assert_eq!(img.name, "mine");
    Checked::new(owner.clone())
        .share(&copy, &[acct(INTL)])
        .await
        .unwrap();

    // Another region.
    let copy = owner
        .copy(
            &"m-golden0001".into(),
            CopyTarget::Region {
                region: "cn-shanghai".into(),
                name: None,
            },
        )
        .await
        .unwrap();
    let shanghai = EcsImageSharing::builder()
        .endpoint(&base)
        .region("cn-shanghai")
        .credentials(creds(OWNER))
        .build()
        .unwrap();
    assert_eq!(
        shanghai.image(&copy).await.unwrap().region.as_str(),
        "cn-shanghai"
    );

    // A service-key image copied with a KMS key becomes shareable.
    let kms = EcsImageSharing::builder()
        .endpoint(&base)
        .region(REGION)
        .credentials(creds(OWNER))
        .kms_key_id("key-0001")
        .build()
        .unwrap();
    let copy = kms
        .copy(&"m-svckey0001".into(), CopyTarget::OwnCopy { name: None })
        .await
        .unwrap();
    assert!(kms.image(&copy).await.unwrap().encryption.is_encrypted());
    kms.share(&copy, &[acct(PEER)]).await.unwrap();
    assert_eq!(emu.grants(copy.as_str()).len(), 1);
}

#[tokio::test]
async fn throttling_is_answered_with_retry_after_and_retried() {
    let emu = Emulator::start(world()).await.unwrap();
    emu.set_faults(
        FaultPlan::seeded(7).rule(
            FaultRule::new()
                .with_provider(imageshare_alibaba::ECS)
                .with_action("DescribeImageSharePermission")
                .with_qps(2),
        ),
    );
    let ecs = ecs(&emu.base_url(), OWNER, SignatureVersion::Acs3);
    // Five quick calls at 2 QPS: some are throttled, all succeed after retries.
    for _ in 0..5 {
        ecs.sharees(&"m-golden0001".into()).await.unwrap();
    }
    let throttled: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| c.error.as_deref() == Some("Throttling.User"))
        .collect();
    assert!(!throttled.is_empty(), "the QPS quota was hit");
    assert!(!emu.faults_served().is_empty());

    // The wire answer carries the hint.
    let a = loop {
        let a = acs3(
            &emu.base_url(),
            &creds(OWNER),
            "DescribeImageSharePermission",
            ECS_VERSION,
            &[("RegionId", REGION), ("ImageId", "m-golden0001")],
            now(),
            &nonce(),
        )
        .await;
        if a.status != 200 {
            break a;
        }
    };
    assert_eq!(a.status, 400);
    assert_eq!(a.code(), "Throttling.User");
    assert_eq!(a.retry_after.as_deref(), Some("1000"));
}

#[tokio::test]
async fn a_failed_batch_is_reported_per_principal() {
    let emu = Emulator::start(world()).await.unwrap();
    let ecs = Checked::new(ecs(&emu.base_url(), OWNER, SignatureVersion::Acs3));
    let mut to: Vec<Principal> = many(11).iter().map(|a| acct(a)).collect();
    to.push(acct("123456789012")); // no such account: its batch fails
    let err = ecs.share(&"m-golden0001".into(), &to).await.unwrap_err();
    let Error::Partial(report) = err else {
        panic!("expected a partial failure, got {err:?}")
    };
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 10);
    assert_eq!(report.count(imageshare_core::OutcomeKind::Failed), 2);
    let (_, e) = report.failures().next().unwrap();
    assert_eq!(e.code(), Some("InvalidAccount.NotFound"));
    assert_eq!(emu.grants("m-golden0001").len(), 10);
}

#[tokio::test]
async fn describe_images_takes_up_to_100_comma_separated_ids() {
    let emu = Emulator::start(world()).await.unwrap();
    let base = emu.base_url();
    let lookups = || emu.action_count(imageshare_alibaba::ECS, "DescribeImages");

    // The adapter's batched lookup: one call for every id, each answered on its own.
    let a = ecs(&base, OWNER, SignatureVersion::Acs3);
    let ids: Vec<imageshare_core::ImageId> = [
        "m-golden0001",
        "m-creating01",
        "m-recv000001",
        "m-nothere0001",
        "m-shanghai01",
        "m-golden0002",
    ]
    .into_iter()
    .map(Into::into)
    .collect();
    let found = a.images(&ids).await.unwrap();
    assert_eq!(lookups(), 1);
    for (id, r) in ids.iter().zip(&found) {
        match id.as_str() {
            // Unknown, or in another region.
            "m-nothere0001" | "m-shanghai01" => {
                assert!(matches!(r, Err(Error::NotFound { .. })), "{id}: {r:?}")
            }
            _ => assert_eq!(&r.as_ref().unwrap().id, id),
        }
    }
    assert_eq!(
        found[1].as_ref().unwrap().state,
        imageshare_core::ImageState::Pending
    );
    assert_eq!(found[2].as_ref().unwrap().origin, ImageOrigin::Received);

    // On the wire: 100 ids are one call; 101 are refused.
    let send = |n: usize| {
        let mut ids: Vec<String> = (0..n - 1).map(|i| format!("m-absent{i:05}")).collect();
        ids.push("m-golden0001".into());
        let base = base.clone();
        async move {
            rpc(
                &base,
                &creds(OWNER),
                "DescribeImages",
                ECS_VERSION,
                &[
                    ("RegionId", REGION),
                    ("ImageId", &ids.join(",")),
                    ("PageSize", "100"),
                ],
                now(),
                &nonce(),
                &[],
            )
            .await
        }
    };
    let ok = send(100).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["TotalCount"], 1);
    assert_eq!(ok.body["Images"]["Image"][0]["ImageId"], "m-golden0001");
    let refused = send(101).await;
    assert_eq!((refused.status, refused.code()), (400, "InvalidParameter"));
}
