//! The Tencent CVM and Lighthouse adapters (imageshare-tencent) driven against the
//! emulator over real HTTP: share / re-share / unshare, sharees, shared-with-me paging,
//! copies, deletes, every limit rule (client-side through `Checked`, server-side with
//! Tencent's codes through the raw adapter), not-found, auth failures, throttling and 5xx
//! followed by a successful retry, partial failure of one batch, and the CVM -> Lighthouse
//! move.

use imageshare_core::ClientBuilder;
use std::time::Duration;

use imageshare_core::transport::RetryConfig;
use imageshare_core::{
    Checked, CopyTarget, Error, ImageId, ImageKind, ImageOrigin, ImageSharing, ImageSharingExt,
    ImageState, LimitRule, Principal, ShareOutcome, Site, Timestamp,
};
use imageshare_emulator::world::{Origin, State};
use imageshare_emulator::{Emulator, FaultKind, FaultPlan, FaultRule, ImageSeed, World};
use imageshare_tencent::{
    Clock, TencentCredentials, TencentCvmImageSharing, TencentLighthouseImageSharing,
};

const REGION: &str = "ap-guangzhou";
const OWNER: &str = "100000000001";
const PEER: &str = "100000000002";
const INTL: &str = "200000000001";

fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 6,
        initial_backoff: Duration::from_millis(300),
        max_backoff: Duration::from_secs(2),
        multiplier: 2.0,
        max_elapsed: Some(Duration::from_secs(20)),
    }
}

fn creds(emu: &Emulator, account: &str) -> TencentCredentials {
    let key = emu.account(account).unwrap().keys.tencent.unwrap();
    TencentCredentials::new(key.id, key.secret)
}

fn cvm_in(emu: &Emulator, account: &str, region: &str) -> TencentCvmImageSharing {
    TencentCvmImageSharing::builder()
        .endpoint(emu.base_url())
        .credentials(creds(emu, account))
        .region(region)
        .retry(fast_retry())
        .build()
        .unwrap()
}

fn cvm(emu: &Emulator, account: &str) -> TencentCvmImageSharing {
    cvm_in(emu, account, REGION)
}

fn lighthouse_in(emu: &Emulator, account: &str, region: &str) -> TencentLighthouseImageSharing {
    TencentLighthouseImageSharing::builder()
        .endpoint(emu.base_url())
        .credentials(creds(emu, account))
        .region(region)
        .retry(fast_retry())
        .build()
        .unwrap()
}

fn lighthouse(emu: &Emulator, account: &str) -> TencentLighthouseImageSharing {
    lighthouse_in(emu, account, REGION)
}

async fn example() -> Emulator {
    Emulator::start(World::example()).await.unwrap()
}

fn id(s: &str) -> ImageId {
    ImageId::from(s)
}

fn acct(s: &str) -> Principal {
    Principal::account(s)
}

fn api_code(e: &Error) -> &str {
    match e {
        Error::Api(a) => &a.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn limit_rule(e: &Error) -> LimitRule {
    e.as_limit()
        .unwrap_or_else(|| panic!("expected a limit violation, got {e:?}"))
        .rule
}

// ------------------------------------------------------------------------------------- CVM

#[tokio::test]
async fn cvm_share_reshare_list_and_unshare() {
    let emu = example().await;
    let owner = Checked::new(cvm(&emu, OWNER));
    let img = id("img-6pb6lrmy");

    let image = owner.image(&img).await.unwrap();
    assert_eq!(image.origin, ImageOrigin::Custom);
    assert_eq!(image.state, ImageState::Available);
    assert_eq!(image.kind, ImageKind::SystemDisk);
    assert_eq!(image.owner, Some(acct(OWNER)));
    assert_eq!(image.name, "golden-2026");

    let report = owner.share(&img, &[acct(PEER)]).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 1);
    assert_eq!(emu.grants("img-6pb6lrmy")[0].principal, PEER);

    let sharees = owner.sharees(&img).await.unwrap();
    assert_eq!(sharees.len(), 1);
    assert_eq!(sharees[0].principal, acct(PEER));
    assert_eq!(
        sharees[0].shared_at,
        Some(Timestamp::from_unix(
            emu.grants("img-6pb6lrmy")[0].created_unix
        ))
    );

    // The recipient sees it, as a received image of the owner.
    let mine = cvm(&emu, PEER).shared_with_me().await.unwrap();
    let got = mine
        .iter()
        .find(|i| i.id == img)
        .expect("shared image listed");
    assert_eq!(got.origin, ImageOrigin::Received);
    assert_eq!(got.owner, Some(acct(OWNER)));

    // Idempotent re-share: nothing is sent for an account that already has a grant.
    let before = emu.action_count(imageshare_tencent::CVM, "ModifyImageSharePermission");
    let again = owner.share(&img, &[acct(PEER)]).await.unwrap();
    assert!(matches!(
        again.outcome(&acct(PEER)),
        Some(ShareOutcome::AlreadyGranted)
    ));
    assert_eq!(
        emu.action_count(imageshare_tencent::CVM, "ModifyImageSharePermission"),
        before
    );

    let report = owner.unshare(&img, &[acct(PEER)]).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Revoked), 1);
    assert!(emu.grants("img-6pb6lrmy").is_empty());
    assert!(cvm(&emu, PEER)
        .shared_with_me()
        .await
        .unwrap()
        .iter()
        .all(|i| i.id != img));
}

#[tokio::test]
async fn raw_cvm_reshare_is_reconciled_not_failed() {
    let emu = example().await;
    let raw = cvm(&emu, OWNER);
    let img = id("img-6pb6lrmy");
    raw.share(&img, &[acct(PEER)]).await.unwrap();
    // The server answers FailedOperation.AccountAlreadyExists; the adapter reads the
    // sharees and reports the account as already granted instead of failing.
    let report = raw.share(&img, &[acct(PEER)]).await.unwrap();
    assert!(matches!(
        report.outcome(&acct(PEER)),
        Some(ShareOutcome::AlreadyGranted)
    ));
    let errors: Vec<Option<String>> = emu
        .calls()
        .into_iter()
        .filter(|c| c.action == "ModifyImageSharePermission")
        .map(|c| c.error)
        .collect();
    assert_eq!(
        errors,
        [None, Some("FailedOperation.AccountAlreadyExists".into())]
    );
    assert_eq!(emu.grants("img-6pb6lrmy").len(), 1);
}

#[tokio::test]
async fn cvm_limit_rules_client_side_and_server_side() {
    let emu = example().await;
    let checked = Checked::new(cvm(&emu, OWNER));
    let raw = cvm(&emu, OWNER);
    let peer = [acct(PEER)];

    // Whole-instance image (recognised by its DATA_DISK snapshot).
    assert_eq!(
        limit_rule(&checked.share(&id("img-whole001"), &peer).await.unwrap_err()),
        LimitRule::ImageKind
    );
    assert_eq!(
        api_code(&raw.share(&id("img-whole001"), &peer).await.unwrap_err()),
        "InvalidParameter.InstanceImageNotSupport"
    );
    // Received image: no re-sharing.
    assert_eq!(
        limit_rule(&checked.share(&id("img-recv0001"), &peer).await.unwrap_err()),
        LimitRule::ReceivedImage
    );
    assert_eq!(
        api_code(
            &raw.share(&id("img-recv0001"), &[acct(INTL)])
                .await
                .unwrap_err()
        ),
        "UnauthorizedOperation.ImageNotBelongToAccount"
    );
    // Not NORMAL.
    assert_eq!(
        limit_rule(&checked.share(&id("img-creating"), &peer).await.unwrap_err()),
        LimitRule::ImageState
    );
    // Sharing with the owner.
    assert_eq!(
        limit_rule(
            &checked
                .share(&id("img-6pb6lrmy"), &[acct(OWNER)])
                .await
                .unwrap_err()
        ),
        LimitRule::ShareWithSelf
    );
    assert_eq!(
        api_code(
            &raw.share(&id("img-6pb6lrmy"), &[acct(OWNER)])
                .await
                .unwrap_err()
        ),
        "InvalidAccountIs.YourSelf"
    );
    // Not an account id at all: refused before anything is sent.
    assert_eq!(
        limit_rule(
            &checked
                .share(&id("img-6pb6lrmy"), &[acct("alice@example.com")])
                .await
                .unwrap_err()
        ),
        LimitRule::PrincipalForm
    );
    // Encrypted: DescribeImages reports no encryption, CBS DescribeSnapshots does, so the
    // checker refuses before sending; unchecked, the server refuses too.
    assert_eq!(
        raw.image(&id("img-enc00001")).await.unwrap().encryption,
        imageshare_core::Encryption::Unknown
    );
    assert_eq!(
        limit_rule(&checked.share(&id("img-enc00001"), &peer).await.unwrap_err()),
        LimitRule::EncryptedImage
    );
    assert_eq!(
        api_code(&raw.share(&id("img-enc00001"), &peer).await.unwrap_err()),
        "UnsupportedOperation.EncryptedImagesNotSupported"
    );
    // An account that does not exist.
    assert_eq!(
        api_code(
            &raw.share(&id("img-6pb6lrmy"), &[acct("999999999999")])
                .await
                .unwrap_err()
        ),
        "InvalidAccountId.NotFound"
    );
    // Same region: the image does not exist in another region's view.
    let shanghai = cvm_in(&emu, OWNER, "ap-shanghai");
    assert!(matches!(
        shanghai
            .share(&id("img-6pb6lrmy"), &peer)
            .await
            .unwrap_err(),
        Error::NotFound { what: "image", .. }
    ));
    assert!(emu.grants("img-6pb6lrmy").is_empty());
}

#[tokio::test]
async fn cvm_deprecated_image_is_unavailable() {
    let mut world = World::example();
    world.images.push(
        ImageSeed::new(imageshare_tencent::CVM, "img-old00001", OWNER, REGION)
            .state(State::Unavailable),
    );
    let emu = Emulator::start(world).await.unwrap();
    let img = id("img-old00001");
    let checked = Checked::new(cvm(&emu, OWNER));
    assert_eq!(
        checked.image(&img).await.unwrap().state,
        ImageState::Unavailable
    );
    assert_eq!(
        limit_rule(&checked.share(&img, &[acct(PEER)]).await.unwrap_err()),
        LimitRule::ImageState
    );
    assert_eq!(
        api_code(
            &cvm(&emu, OWNER)
                .share(&img, &[acct(PEER)])
                .await
                .unwrap_err()
        ),
        "InvalidParameterValue.InvalidImageId"
    );
}

#[tokio::test]
async fn cvm_busy_image_is_retried_then_reported() {
    let emu = example().await;
    let raw = TencentCvmImageSharing::builder()
        .endpoint(emu.base_url())
        .credentials(creds(&emu, OWNER))
        .region(REGION)
        .retry(RetryConfig {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            multiplier: 2.0,
            max_elapsed: None,
        })
        .build()
        .unwrap();
    let err = raw
        .share(&id("img-creating"), &[acct(PEER)])
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "InvalidParameterValue.InvalidImageState");
    assert!(err.is_retryable());
    assert_eq!(
        emu.action_count(imageshare_tencent::CVM, "ModifyImageSharePermission"),
        3
    );
}

fn crowd(n: u64) -> Vec<String> {
    (0..n).map(|i| (300_000_000_000 + i).to_string()).collect()
}

fn crowded_world(recipients: &[String]) -> World {
    let mut b = World::builder()
        .account(OWNER, Site::China)
        .image(ImageSeed::new(
            imageshare_tencent::CVM,
            "img-golden01",
            OWNER,
            REGION,
        ));
    for r in recipients {
        b = b.account(r, Site::China);
    }
    b.build().unwrap()
}

#[tokio::test]
async fn cvm_500_sharees_then_over_quota() {
    let people = crowd(501);
    let emu = Emulator::start(crowded_world(&people)).await.unwrap();
    let img = id("img-golden01");
    let checked = Checked::new(cvm(&emu, OWNER));
    let first: Vec<Principal> = people[..500].iter().map(|p| acct(p)).collect();
    let report = checked.share(&img, &first).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 500);
    // Batches of the default per-call maximum (10).
    assert_eq!(
        emu.action_count(imageshare_tencent::CVM, "ModifyImageSharePermission"),
        50
    );
    assert_eq!(checked.sharees(&img).await.unwrap().len(), 500);

    let one_more = [acct(&people[500])];
    let err = checked.share(&img, &one_more).await.unwrap_err();
    assert_eq!(limit_rule(&err), LimitRule::MaxShareesPerImage);
    let err = cvm(&emu, OWNER).share(&img, &one_more).await.unwrap_err();
    assert_eq!(api_code(&err), "OverQuota");
    assert_eq!(emu.grants("img-golden01").len(), 500);

    // Deleting is refused while shared, client-side and server-side.
    assert_eq!(
        limit_rule(&checked.delete(&img).await.unwrap_err()),
        LimitRule::DeleteWhileShared
    );
    assert_eq!(
        api_code(&cvm(&emu, OWNER).delete(&img).await.unwrap_err()),
        "InvalidImageId.InShared"
    );
    let revoked = checked.unshare_all_and_delete(&img).await.unwrap();
    assert_eq!(revoked.count(imageshare_core::OutcomeKind::Revoked), 500);
    assert!(matches!(
        checked.image(&img).await.unwrap_err(),
        Error::NotFound { .. }
    ));
}

#[tokio::test]
async fn cvm_accounts_per_call_is_configurable() {
    let people = crowd(120);
    let emu = Emulator::start(crowded_world(&people)).await.unwrap();
    let adapter = TencentCvmImageSharing::builder()
        .endpoint(emu.base_url())
        .credentials(creds(&emu, OWNER))
        .region(REGION)
        .max_accounts_per_call(100)
        .build()
        .unwrap();
    assert_eq!(adapter.limits().max_principals_per_call, 100);
    let all: Vec<Principal> = people.iter().map(|p| acct(p)).collect();
    Checked::new(adapter)
        .share(&id("img-golden01"), &all)
        .await
        .unwrap();
    assert_eq!(
        emu.action_count(imageshare_tencent::CVM, "ModifyImageSharePermission"),
        2
    );
    assert!(TencentCvmImageSharing::builder()
        .endpoint(emu.base_url())
        .credentials(creds(&emu, OWNER))
        .region(REGION)
        .max_accounts_per_call(0)
        .build()
        .is_err());
}

#[tokio::test]
async fn cvm_shared_with_me_pages_through_1200_images() {
    let mut b = World::builder()
        .account(OWNER, Site::China)
        .account(PEER, Site::China);
    for i in 0..1200 {
        b = b.image(
            ImageSeed::new(
                imageshare_tencent::CVM,
                &format!("img-p{i:07}"),
                OWNER,
                REGION,
            )
            .shared_with(&[PEER]),
        );
    }
    // One image of the peer's own, which must not be listed.
    b = b.image(ImageSeed::new(
        imageshare_tencent::CVM,
        "img-own00001",
        PEER,
        REGION,
    ));
    let emu = Emulator::start(b.build().unwrap()).await.unwrap();
    let images = cvm(&emu, PEER).shared_with_me().await.unwrap();
    assert_eq!(images.len(), 1200);
    assert!(images.iter().all(|i| i.origin == ImageOrigin::Received));
    let distinct: std::collections::BTreeSet<_> = images.iter().map(|i| i.id.clone()).collect();
    assert_eq!(distinct.len(), 1200);
    assert_eq!(
        emu.action_count(imageshare_tencent::CVM, "DescribeImages"),
        12
    );
}

#[tokio::test]
async fn not_found_everywhere() {
    let emu = example().await;
    let c = cvm(&emu, OWNER);
    let missing = id("img-nothere1");
    for err in [
        c.image(&missing).await.unwrap_err(),
        c.sharees(&missing).await.unwrap_err(),
        c.delete(&missing).await.unwrap_err(),
        c.share(&missing, &[acct(PEER)]).await.unwrap_err(),
    ] {
        assert!(
            matches!(&err, Error::NotFound { id, .. } if id == "img-nothere1"),
            "{err:?}"
        );
    }
    let l = lighthouse(&emu, OWNER);
    let missing = id("lhbp-nothere1");
    for err in [
        l.image(&missing).await.unwrap_err(),
        l.sharees(&missing).await.unwrap_err(),
        l.delete(&missing).await.unwrap_err(),
        l.share(&missing, &[acct(PEER)]).await.unwrap_err(),
    ] {
        assert!(
            matches!(&err, Error::NotFound { id, .. } if id == "lhbp-nothere1"),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn auth_failures_are_auth_errors() {
    let emu = example().await;
    let build = |creds: TencentCredentials, clock: Clock| {
        TencentCvmImageSharing::builder()
            .endpoint(emu.base_url())
            .credentials(creds)
            .region(REGION)
            .clock(clock)
            .build()
            .unwrap()
    };
    let key = emu.account(OWNER).unwrap().keys.tencent.unwrap();
    let now = imageshare_core::time::now_unix();
    for (c, clock, code) in [
        (
            TencentCredentials::new(key.id.clone(), "wrong-secret"),
            Clock::system(),
            "AuthFailure.SignatureFailure",
        ),
        (
            TencentCredentials::new("AKIDnobody", key.secret.clone()),
            Clock::system(),
            "AuthFailure.SecretIdNotFound",
        ),
        (
            TencentCredentials::new(key.id.clone(), key.secret.clone()),
            Clock::fixed(now - 3600),
            "AuthFailure.SignatureExpire",
        ),
    ] {
        let err = build(c, clock)
            .image(&id("img-6pb6lrmy"))
            .await
            .unwrap_err();
        match &err {
            Error::Auth {
                code: got,
                request_id,
                ..
            } => {
                assert_eq!(got, code);
                assert!(request_id.is_some());
            }
            other => panic!("expected {code}, got {other:?}"),
        }
        // The secret never appears in the error text.
        assert!(!err.to_string().contains(&key.secret));
    }
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_to_success() {
    let emu = example().await;
    emu.set_faults(
        FaultPlan::seeded(7).rule(
            FaultRule::new()
                .with_provider(imageshare_tencent::CVM)
                .with_action("DescribeImageSharePermission")
                .with_qps(1),
        ),
    );
    let c = cvm(&emu, OWNER);
    let img = id("img-6pb6lrmy");
    c.sharees(&img).await.unwrap();
    // Second call in the same second: RequestLimitExceeded, retried after a backoff.
    c.sharees(&img).await.unwrap();
    let throttles = emu
        .faults_served()
        .iter()
        .filter(|f| f.kind == FaultKind::Throttle)
        .count();
    assert!(throttles >= 1);
    assert!(emu
        .calls()
        .iter()
        .any(|c| c.error.as_deref() == Some("RequestLimitExceeded")));

    // 5xx on the first attempt of a share, then success: the grant is made exactly once.
    emu.set_faults(
        FaultPlan::seeded(11).rule(
            FaultRule::new()
                .with_provider(imageshare_tencent::CVM)
                .with_action("ModifyImageSharePermission")
                .with_error_rate(0.5),
        ),
    );
    let report = Checked::new(cvm(&emu, OWNER))
        .share(&img, &[acct(PEER)])
        .await
        .unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 1);
    assert_eq!(emu.grants("img-6pb6lrmy").len(), 1);
    assert!(emu
        .faults_served()
        .iter()
        .any(|f| f.kind == FaultKind::ServerError && f.action == "ModifyImageSharePermission"));
    let attempts = emu.action_count(imageshare_tencent::CVM, "ModifyImageSharePermission");
    assert!(attempts >= 2, "{attempts}");
}

#[tokio::test]
async fn partial_failure_in_one_batch_is_reported_per_account() {
    let mut people = crowd(14);
    // The 13th account does not exist: its batch (accounts 11..15) fails as a whole.
    people.insert(12, "999999999999".into());
    let mut b = World::builder()
        .account(OWNER, Site::China)
        .image(ImageSeed::new(
            imageshare_tencent::CVM,
            "img-golden01",
            OWNER,
            REGION,
        ));
    for p in people.iter().filter(|p| p.as_str() != "999999999999") {
        b = b.account(p, Site::China);
    }
    let emu = Emulator::start(b.build().unwrap()).await.unwrap();
    let all: Vec<Principal> = people.iter().map(|p| acct(p)).collect();
    let err = Checked::new(cvm(&emu, OWNER))
        .share(&id("img-golden01"), &all)
        .await
        .unwrap_err();
    let Error::Partial(report) = err else {
        panic!("expected a partial failure, got {err:?}")
    };
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 10);
    assert_eq!(report.count(imageshare_core::OutcomeKind::Failed), 5);
    for (p, e) in report.failures() {
        assert!(people[10..].contains(&p.id().to_owned()));
        assert_eq!(e.code(), Some("InvalidAccountId.NotFound"));
    }
    assert_eq!(emu.grants("img-golden01").len(), 10);
}

#[tokio::test]
async fn cvm_copies_own_copy_and_cross_region() {
    let emu = example().await;
    // The recipient makes its own copy of a received image (SyncImages to the source
    // region), which it then owns and may share.
    let recipient = Checked::new(cvm(&emu, OWNER));
    let copy = recipient
        .copy(
            &id("img-recv0001"),
            CopyTarget::OwnCopy {
                name: Some("mine".into()),
            },
        )
        .await
        .unwrap();
    let img = recipient.image(&copy).await.unwrap();
    assert_eq!(img.origin, ImageOrigin::Custom);
    assert_eq!(img.owner, Some(acct(OWNER)));
    assert_eq!(img.name, "mine");
    recipient.share(&copy, &[acct(PEER)]).await.unwrap();

    // The owner copies to another region.
    let owner = cvm(&emu, OWNER);
    let far = owner
        .copy(
            &id("img-6pb6lrmy"),
            CopyTarget::Region {
                region: "ap-shanghai".into(),
                name: None,
            },
        )
        .await
        .unwrap();
    let there = cvm_in(&emu, OWNER, "ap-shanghai")
        .image(&far)
        .await
        .unwrap();
    assert_eq!(there.region.as_str(), "ap-shanghai");
    // A custom image cannot be synced into its own region...
    let err = owner
        .copy(&id("img-6pb6lrmy"), CopyTarget::OwnCopy { name: None })
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "InvalidParameterValue.InvalidRegion");
    // ...and a received one only into its own.
    let err = owner
        .copy(
            &id("img-recv0001"),
            CopyTarget::Region {
                region: "ap-shanghai".into(),
                name: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "InvalidParameterValue.InvalidRegion");
    assert!(matches!(
        owner
            .copy(
                &id("img-6pb6lrmy"),
                CopyTarget::Project {
                    project: "org-a1b2c3".into(),
                    region: None,
                    name: None
                }
            )
            .await
            .unwrap_err(),
        Error::Unsupported { .. }
    ));
}

// ------------------------------------------------------------------------------ Lighthouse

#[tokio::test]
async fn lighthouse_share_list_unshare() {
    let emu = example().await;
    let owner = Checked::new(lighthouse(&emu, OWNER));
    let bp = id("lhbp-6jc6l8yb");
    let img = owner.image(&bp).await.unwrap();
    assert_eq!(
        (img.origin, img.kind, img.state.clone()),
        (
            ImageOrigin::Custom,
            ImageKind::LightweightHost,
            ImageState::Available
        )
    );
    let report = owner.share(&bp, &[acct(PEER)]).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 1);
    let sharees = owner.sharees(&bp).await.unwrap();
    assert_eq!(sharees.len(), 1);
    assert_eq!(sharees[0].principal, acct(PEER));

    let received = lighthouse(&emu, PEER).shared_with_me().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].origin, ImageOrigin::Received);
    // The recipient cannot share it onward, nor delete it.
    let peer = Checked::new(lighthouse(&emu, PEER));
    assert_eq!(
        limit_rule(&peer.share(&bp, &[acct(INTL)]).await.unwrap_err()),
        LimitRule::ReceivedImage
    );
    assert_eq!(
        api_code(&lighthouse(&emu, PEER).delete(&bp).await.unwrap_err()),
        "UnsupportedOperation.NotSupportSharedBlueprint"
    );
    // Raw re-share and raw cancel of a non-sharee are reconciled.
    let raw = lighthouse(&emu, OWNER);
    let again = raw.share(&bp, &[acct(PEER)]).await.unwrap();
    assert_eq!(again.count(imageshare_core::OutcomeKind::AlreadyGranted), 1);

    // Still shared: delete is refused with BlueprintOccupied.
    assert_eq!(
        api_code(&raw.delete(&bp).await.unwrap_err()),
        "UnsupportedOperation.BlueprintOccupied"
    );
    let report = owner.unshare(&bp, &[acct(PEER)]).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Revoked), 1);
    let report = raw.unshare(&bp, &[acct(PEER)]).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::NotGranted), 1);
    assert!(emu.grants("lhbp-6jc6l8yb").is_empty());
    owner.delete(&bp).await.unwrap();
    assert!(matches!(
        owner.image(&bp).await.unwrap_err(),
        Error::NotFound { .. }
    ));
}

#[tokio::test]
async fn lighthouse_ten_accounts_per_call_and_cross_site() {
    let people = crowd(11);
    let mut b = World::builder()
        .account(OWNER, Site::China)
        .account(INTL, Site::International)
        .image(
            ImageSeed::new(
                imageshare_tencent::LIGHTHOUSE,
                "lhbp-golden01",
                OWNER,
                REGION,
            )
            .kind(ImageKind::LightweightHost),
        );
    for p in &people {
        b = b.account(p, Site::China);
    }
    let emu = Emulator::start(b.build().unwrap()).await.unwrap();
    let bp = id("lhbp-golden01");
    let all: Vec<Principal> = people.iter().map(|p| acct(p)).collect();
    let raw = lighthouse(&emu, OWNER);
    // The adapter never sends more than 10 accounts in one call (the server's own
    // InvalidParameterValue.LimitExceeded is pinned by the hand-signed tencent_wire tests).
    let err = raw.share(&bp, &all).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    assert!(err.to_string().contains("at most 10"), "{err}");
    let report = Checked::new(raw.clone()).share(&bp, &all).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 11);
    let shares: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| c.action == "ShareBlueprintAcrossAccounts")
        .map(|c| c.error)
        .collect();
    assert_eq!(
        shares,
        [None, None],
        "two batches, nothing sent for the refused call"
    );
    assert_eq!(
        Checked::new(raw.clone()).sharees(&bp).await.unwrap().len(),
        11
    );
    assert_eq!(
        api_code(&raw.share(&bp, &[acct(INTL)]).await.unwrap_err()),
        "InvalidParameterValue.AccountIdInvalidAccountArea"
    );
}

#[tokio::test]
async fn lighthouse_received_blueprint_of_the_example_world() {
    let emu = example().await;
    let mine = lighthouse(&emu, OWNER).shared_with_me().await.unwrap();
    let ids: Vec<&str> = mine.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["lhbp-recv0001"]);
    assert_eq!(mine[0].name, "peer-blueprint");
    let checked = Checked::new(lighthouse(&emu, OWNER));
    assert_eq!(
        limit_rule(
            &checked
                .share(&id("lhbp-recv0001"), &[acct(INTL)])
                .await
                .unwrap_err()
        ),
        LimitRule::ReceivedImage
    );
    assert_eq!(
        api_code(
            &lighthouse(&emu, OWNER)
                .share(&id("lhbp-recv0001"), &[acct(INTL)])
                .await
                .unwrap_err()
        ),
        "ResourceNotFound.PrivateBlueprintNotFound"
    );
    // The owner sees its grant to 100000000001.
    let sharees = lighthouse(&emu, PEER)
        .sharees(&id("lhbp-recv0001"))
        .await
        .unwrap();
    assert_eq!(sharees.len(), 1);
    assert_eq!(sharees[0].principal, acct(OWNER));
}

#[tokio::test]
async fn lighthouse_copies() {
    let emu = example().await;
    let l = lighthouse(&emu, OWNER);
    let bp = id("lhbp-6jc6l8yb");
    let copy = l
        .copy(
            &bp,
            CopyTarget::Region {
                region: "ap-shanghai".into(),
                name: None,
            },
        )
        .await
        .unwrap();
    let there = lighthouse_in(&emu, OWNER, "ap-shanghai")
        .image(&copy)
        .await
        .unwrap();
    assert_eq!(there.origin, ImageOrigin::Custom);
    let err = l
        .copy(
            &bp,
            CopyTarget::Region {
                region: "ap-hongkong".into(),
                name: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        api_code(&err),
        "InvalidParameterValue.NotSupportCrossBorderSyncBlueprint"
    );
    let err = l
        .copy(
            &bp,
            CopyTarget::Region {
                region: REGION.into(),
                name: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        api_code(&err),
        "InvalidParameterValue.DestinationRegionSameAsSourceRegion"
    );
    assert!(matches!(
        l.copy(&bp, CopyTarget::OwnCopy { name: None })
            .await
            .unwrap_err(),
        Error::Unsupported { .. }
    ));
}

#[tokio::test]
async fn cvm_to_lighthouse_and_back() {
    let mut world = World::example();
    world.images.push(
        ImageSeed::new(imageshare_tencent::CVM, "img-import01", OWNER, REGION)
            .origin(Origin::Imported),
    );
    world.images.push(
        ImageSeed::new(imageshare_tencent::CVM, "img-broken01", OWNER, REGION)
            .state(State::Creating),
    );
    let emu = Emulator::start(world).await.unwrap();
    let l = lighthouse(&emu, OWNER);

    let e = l.eligibility(&id("img-6pb6lrmy")).await.unwrap();
    assert!(e.shareable && e.reason.is_empty());
    let bp = l.share_from_cvm(&id("img-6pb6lrmy")).await.unwrap();
    assert_eq!(bp.as_str(), "lhbp-6pb6lrmy");
    let blueprint = l.image(&bp).await.unwrap();
    assert_eq!(blueprint.kind, ImageKind::LightweightHost);
    assert_eq!(blueprint.origin, ImageOrigin::Custom);
    assert_eq!(blueprint.name, "golden-2026");

    // The new blueprint can be shared across accounts like any other.
    Checked::new(l.clone())
        .share(&bp, &[acct(PEER)])
        .await
        .unwrap();
    // While it is, the move cannot be undone.
    assert_eq!(
        api_code(
            &l.cancel_share_from_cvm(&id("img-6pb6lrmy"))
                .await
                .unwrap_err()
        ),
        "ResourceInUse.ImageInUse"
    );
    Checked::new(l.clone())
        .unshare(&bp, &[acct(PEER)])
        .await
        .unwrap();

    // Ineligible images: a typed error naming Tencent's UnshareableReason, nothing sent.
    for (img, why) in [
        ("img-6pb6lrmy", "already been shared"),
        ("img-whole001", "Whole-instance"),
        ("img-import01", "Imported"),
        ("img-broken01", "NORMAL"),
        ("img-recv0001", "custom images of this account"),
    ] {
        let err = l.share_from_cvm(&id(img)).await.unwrap_err();
        match &err {
            Error::Unsupported { reason, .. } => assert!(reason.contains(why), "{img}: {reason}"),
            other => panic!("{img}: expected Unsupported, got {other:?}"),
        }
    }
    assert_eq!(
        emu.action_count(imageshare_tencent::LIGHTHOUSE, "ModifyImageSharePermission"),
        2
    );
    assert!(matches!(
        l.share_from_cvm(&id("img-nothere1")).await.unwrap_err(),
        Error::NotFound { .. }
    ));

    l.cancel_share_from_cvm(&id("img-6pb6lrmy")).await.unwrap();
    assert!(matches!(
        l.image(&bp).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(l.eligibility(&id("img-6pb6lrmy")).await.unwrap().shareable);
}

#[tokio::test]
async fn lighthouse_to_cvm_is_a_typed_unsupported_error() {
    let emu = example().await;
    let l = lighthouse(&emu, OWNER);
    let err = l.share_to_cvm(&id("lhbp-6jc6l8yb")).await.unwrap_err();
    match err {
        Error::Unsupported {
            provider, reason, ..
        } => {
            assert_eq!(provider, imageshare_tencent::LIGHTHOUSE);
            assert!(reason.contains("no API"), "{reason}");
            assert!(reason.contains("ImportImage"), "{reason}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
    assert!(emu.calls().is_empty());
}

#[tokio::test]
async fn cvm_and_lighthouse_look_many_images_up_in_one_call() {
    let emu = example().await;
    let ids = |v: &[&str]| v.iter().map(|s| ImageId::from(*s)).collect::<Vec<_>>();

    let c = cvm(&emu, OWNER);
    let asked = ids(&[
        "img-6pb6lrmy",
        "img-nothere1",
        "img-recv0001",
        "img-creating",
    ]);
    let found = c.images(&asked).await.unwrap();
    assert_eq!(
        emu.action_count(imageshare_tencent::CVM, "DescribeImages"),
        1
    );
    assert_eq!(found[0].as_ref().unwrap().id, asked[0]);
    assert!(matches!(&found[1], Err(Error::NotFound { id, .. }) if id == "img-nothere1"));
    assert_eq!(found[2].as_ref().unwrap().origin, ImageOrigin::Received);
    assert_eq!(found[3].as_ref().unwrap().state, ImageState::Pending);

    let l = lighthouse(&emu, OWNER);
    let asked = ids(&["lhbp-6jc6l8yb", "lhbp-nothere1"]);
    let found = l.images(&asked).await.unwrap();
    assert_eq!(
        emu.action_count(imageshare_tencent::LIGHTHOUSE, "DescribeBlueprints"),
        1
    );
    assert_eq!(found[0].as_ref().unwrap().id, asked[0]);
    assert!(matches!(&found[1], Err(Error::NotFound { id, .. }) if id == "lhbp-nothere1"));
}
