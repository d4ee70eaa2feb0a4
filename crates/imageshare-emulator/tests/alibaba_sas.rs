//! Simple Application Server on the emulator, driven by the imageshare SAS adapter (both
//! signature versions) and by hand-signed requests: sharing, the SAS limits with their
//! codes, CustomImageInShare on delete, paging, and the SAS -> ECS migration flow.

mod alibaba_common;

use alibaba_common::*;
use imageshare_alibaba::{SignatureVersion, SAS_VERSION};
use imageshare_core::ImageSharingExt;
use imageshare_core::{Checked, CopyTarget, Error, ImageKind, ImageOrigin, LimitRule, Principal};
use imageshare_emulator::frontend::alibaba::{sas_to_ecs_key, SAS_TO_ECS_OWNER};
use imageshare_emulator::Emulator;

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

#[tokio::test]
async fn share_sharees_shared_with_me_and_unshare() {
    for sig in SIGS {
        let emu = Emulator::start(world()).await.unwrap();
        let base = emu.base_url();
        let sas = Checked::new(sas(&base, OWNER, sig));
        let id = "m-sas0000001".into();
        let img = sas.image(&id).await.unwrap();
        assert_eq!(img.origin, ImageOrigin::Custom);
        assert_eq!(img.kind, ImageKind::LightweightHost);
        assert_eq!(img.owner, Some(acct(OWNER)));
        assert_eq!(img.name, "web");

        let report = sas
            .share(&id, &[acct(PEER), acct("110000000001")])
            .await
            .unwrap();
        assert_eq!(
            report.count(imageshare_core::OutcomeKind::Granted),
            2,
            "{sig:?}"
        );
        let report = sas.share(&id, &[acct(PEER)]).await.unwrap();
        assert_eq!(
            report.count(imageshare_core::OutcomeKind::AlreadyGranted),
            1
        );
        assert_eq!(
            emu.action_count(imageshare_alibaba::SAS, "AddCustomImageShareAccount"),
            1
        );
        assert_eq!(sas.sharees(&id).await.unwrap().len(), 2);

        let peer = alibaba_common::sas(&base, PEER, sig);
        let got = peer.shared_with_me().await.unwrap();
        assert!(got
            .iter()
            .any(|i| i.id == id && i.origin == ImageOrigin::Received));
        let received = peer.image(&id).await.unwrap();
        assert_eq!(received.origin, ImageOrigin::Received);
        // ... and the owner's own received image.
        let mine = sas.shared_with_me().await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].id.as_str(), "m-sasrecv001");

        let report = sas.unshare(&id, &[acct(PEER)]).await.unwrap();
        assert_eq!(report.count(imageshare_core::OutcomeKind::Revoked), 1);
        assert_eq!(emu.grants("m-sas0000001").len(), 1);
    }
}

#[tokio::test]
async fn sas_limits_answer_with_codes() {
    let emu = Emulator::start(world()).await.unwrap();
    let base = emu.base_url();
    let raw = sas(&base, OWNER, SignatureVersion::Acs3);
    let id = "m-sas0000002".into();

    // At most 10 accounts per image.
    let ten: Vec<Principal> = many(10).iter().map(|a| acct(a)).collect();
    raw.share(&id, &ten).await.unwrap();
    let err = raw.share(&id, &[acct(PEER)]).await.unwrap_err();
    assert_eq!(api_code(&err), (403, "QuotaExceed.ShareImageUser".into()));
    raw.unshare(&id, &ten).await.unwrap();

    // No sharing between the China and international sites.
    let err = raw.share(&id, &[acct(INTL)]).await.unwrap_err();
    assert_eq!(api_code(&err), (403, "InvalidImageId.BidMismatch".into()));
    let err = raw.share(&id, &[acct(OWNER)]).await.unwrap_err();
    assert_eq!(api_code(&err), (404, "InvalidAccount.Forbbiden".into()));
    let err = raw.share(&id, &[acct("123456789012")]).await.unwrap_err();
    assert_eq!(api_code(&err), (404, "InvalidAccount.NotFound".into()));
    // A RAM user is not an account id.
    let err = raw
        .share(&id, &[acct("alice@1234567890.onaliyun.com")])
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), (400, "InvalidParameter".into()));
    // A received image cannot be shared onward.
    let err = raw
        .share(&"m-sasrecv001".into(), &[acct(PEER)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    // The checker refuses the same before sending, for what it can know.
    let checked = Checked::new(raw.clone());
    let err = checked
        .share(&id, &[acct("alice@1234567890.onaliyun.com")])
        .await
        .unwrap_err();
    assert_eq!(err.as_limit().unwrap().rule, LimitRule::PrincipalForm);
    let err = checked
        .share(&"m-sasrecv001".into(), &[acct(PEER)])
        .await
        .unwrap_err();
    assert_eq!(err.as_limit().unwrap().rule, LimitRule::ReceivedImage);
    let eleven: Vec<Principal> = many(11).iter().map(|a| acct(a)).collect();
    let err = checked.share(&id, &eleven).await.unwrap_err();
    assert_eq!(err.as_limit().unwrap().rule, LimitRule::MaxShareesPerImage);

    // Copy is not an API of SAS.
    let err = raw
        .copy(&id, CopyTarget::OwnCopy { name: None })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
}

#[tokio::test]
async fn delete_is_refused_while_shared() {
    let emu = Emulator::start(world()).await.unwrap();
    let raw = sas(&emu.base_url(), OWNER, SignatureVersion::RpcV1);
    let id = "m-sas0000002".into();
    raw.share(&id, &[acct(PEER)]).await.unwrap();
    let err = raw.delete(&id).await.unwrap_err();
    assert_eq!(api_code(&err), (400, "CustomImageInShare".into()));
    raw.unshare(&id, &[acct(PEER)]).await.unwrap();
    raw.delete(&id).await.unwrap();
    assert!(matches!(
        raw.image(&id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
}

#[tokio::test]
async fn list_custom_image_share_accounts_pages() {
    let emu = Emulator::start(world()).await.unwrap();
    let base = emu.base_url();
    let raw = sas(&base, OWNER, SignatureVersion::Acs3);
    let seven: Vec<Principal> = many(7).iter().map(|a| acct(a)).collect();
    raw.share(&"m-sas0000001".into(), &seven).await.unwrap();
    let a = rpc(
        &base,
        &creds(OWNER),
        "ListCustomImageShareAccounts",
        SAS_VERSION,
        &[
            ("RegionId", REGION),
            ("ImageId", "m-sas0000001"),
            ("PageNumber", "3"),
            ("PageSize", "3"),
        ],
        now(),
        &nonce(),
        &[],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["TotalCount"], 7);
    let users = a.body["ImageShareUsers"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert!(
        users[0]["UserId"].is_u64(),
        "UserId is a JSON number: {users:?}"
    );
    assert!(users[0]["SharedTime"].is_string());

    let a = acs3(
        &base,
        &creds(OWNER),
        "ListCustomImages",
        SAS_VERSION,
        &[("RegionId", REGION), ("ImageIds", "[\"m-sas0000001\"]")],
        now(),
        &nonce(),
    )
    .await;
    let img = &a.body["CustomImages"][0];
    assert_eq!(img["ImageId"], "m-sas0000001");
    assert_eq!(img["Status"], "1");
    assert_eq!(img["InShareUser"], true);
    assert_eq!(img["InShare"], false);
    assert!(img["UserId"].is_u64());
}

#[tokio::test]
async fn sas_to_ecs_then_onward_from_ecs() {
    for sig in SIGS {
        let emu = Emulator::start(world()).await.unwrap();
        let base = emu.base_url();
        let sas = sas(&base, OWNER, sig);
        let ecs = Checked::new(alibaba_common::ecs(&base, OWNER, sig));
        let id = "m-sas0000001".into();

        assert!(matches!(
            ecs.image(&id).await.unwrap_err(),
            Error::NotFound { .. }
        ));
        let ecs_id = sas.share_to_ecs(&id).await.unwrap();
        assert_eq!(ecs_id, id);
        // Idempotent.
        sas.share_to_ecs(&id).await.unwrap();
        let listed = sas.list_custom_images(Some(false)).await.unwrap();
        assert!(listed
            .iter()
            .any(|i| i.image_id == id.as_str() && i.in_share));

        // ECS lists it with the images shared with the account, under the same id.
        let img = ecs.image(&ecs_id).await.unwrap();
        assert_eq!(img.origin, ImageOrigin::Received);
        assert_eq!(img.owner, Some(acct(SAS_TO_ECS_OWNER)));
        assert!(ecs
            .shared_with_me()
            .await
            .unwrap()
            .iter()
            .any(|i| i.id == ecs_id));
        assert_eq!(emu.grants(&sas_to_ecs_key("m-sas0000001")).len(), 1);

        // Onward: not the received image itself, but an own ECS copy of it.
        let err = ecs.share(&ecs_id, &[acct(PEER)]).await.unwrap_err();
        assert_eq!(err.as_limit().unwrap().rule, LimitRule::ReceivedImage);
        let copy = ecs
            .copy(
                &ecs_id,
                CopyTarget::OwnCopy {
                    name: Some("migrated".into()),
                },
            )
            .await
            .unwrap();
        let report = ecs.share(&copy, &[acct(PEER), acct(INTL)]).await.unwrap();
        assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 2);
        let peer = alibaba_common::ecs(&base, PEER, sig);
        assert!(peer
            .shared_with_me()
            .await
            .unwrap()
            .iter()
            .any(|i| i.id == copy));

        // Shared to ECS counts as shared for delete; UnShare withdraws it from ECS.
        let err = sas.delete(&id).await.unwrap_err();
        assert_eq!(api_code(&err), (400, "CustomImageInShare".into()));
        sas.unshare_from_ecs(&id).await.unwrap();
        assert!(matches!(
            ecs.image(&ecs_id).await.unwrap_err(),
            Error::NotFound { .. }
        ));
        sas.delete(&id).await.unwrap();
        // The own copy stays.
        assert_eq!(ecs.image(&copy).await.unwrap().origin, ImageOrigin::Custom);
    }
}

#[tokio::test]
async fn modify_image_share_status_checks_operation_and_ownership() {
    let emu = Emulator::start(world()).await.unwrap();
    let base = emu.base_url();
    let a = acs3(
        &base,
        &creds(OWNER),
        "ModifyImageShareStatus",
        SAS_VERSION,
        &[
            ("RegionId", REGION),
            ("ImageId", "m-sas0000001"),
            ("Operation", "Publish"),
        ],
        now(),
        &nonce(),
    )
    .await;
    assert_eq!((a.status, a.code()), (400, "InvalidParam.OperationIllegal"));
    let peer = sas(&base, PEER, SignatureVersion::Acs3);
    let err = peer.share_to_ecs(&"m-sas0000001".into()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}
