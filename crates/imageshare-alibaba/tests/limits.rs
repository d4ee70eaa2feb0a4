//! The ECS and SAS limit tables applied by the core checker: each documented rule is
//! refused (or batched) before anything reaches the backend.

use imageshare_alibaba::{ECS_LIMITS, SAS_LIMITS};
use imageshare_core::memory::InMemorySharing;
use imageshare_core::{
    CheckOptions, Checked, Encryption, Image, ImageId, ImageKind, ImageOrigin, ImageSharingExt,
    ImageState, LimitRule, Principal, ShareLimits, Site,
};

const OWNER: &str = "1000000000000001";

fn image(id: &str, kind: ImageKind) -> Image {
    Image::new(id, "cn-hangzhou")
        .with_name(id)
        .with_owner(Some(Principal::account(OWNER)))
        .with_owner_site(Some(Site::China))
        .with_encryption(Encryption::None)
        .with_kind(kind)
}

fn backend(limits: ShareLimits, images: Vec<Image>) -> InMemorySharing {
    let b = InMemorySharing::new("cn-hangzhou", limits);
    for i in images {
        b.add_image(i);
    }
    b
}

fn accounts(range: std::ops::Range<u64>) -> Vec<Principal> {
    range
        .map(|i| Principal::account((2_000_000_000_000_000 + i).to_string()))
        .collect()
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn rule_of(err: imageshare_core::Error) -> LimitRule {
    err.as_limit()
        .unwrap_or_else(|| panic!("expected a limit violation, got {err}"))
        .rule
}

#[test]
fn ecs_batches_by_ten_and_caps_at_fifty() {
    run(async {
        let checked = Checked::new(backend(
            ECS_LIMITS,
            vec![image("m-a", ImageKind::SystemDisk)],
        ));
        let id = ImageId::from("m-a");
        let report = checked.share(&id, &accounts(0..12)).await.unwrap();
        assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 12);
        let sizes: Vec<usize> = checked
            .inner()
            .share_batches()
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, [10, 2]);

        checked.share(&id, &accounts(12..50)).await.unwrap();
        assert_eq!(checked.inner().grants(&id).len(), 50);
        let err = checked.share(&id, &accounts(50..51)).await.unwrap_err();
        assert_eq!(rule_of(err), LimitRule::MaxShareesPerImage);
    });
}

#[test]
fn ecs_refuses_marketplace_received_service_key_and_lightweight_images() {
    run(async {
        let mut market = image("m-market", ImageKind::SystemDisk);
        market.origin = ImageOrigin::MarketplaceDerived;
        let mut received = image("m-received", ImageKind::SystemDisk);
        received.origin = ImageOrigin::Received;
        let mut service_key = image("m-svc", ImageKind::SystemDisk);
        service_key.encryption = Encryption::ServiceKey;
        let mut cmk = image("m-cmk", ImageKind::WholeMachine);
        cmk.encryption = Encryption::CustomerKey;
        let lightweight = image("m-swas", ImageKind::LightweightHost);
        let images = vec![market, received, service_key, cmk, lightweight];
        let checked = Checked::new(backend(ECS_LIMITS, images));
        let to = accounts(0..1);
        for (id, rule) in [
            ("m-market", LimitRule::MarketplaceDerived),
            ("m-received", LimitRule::ReceivedImage),
            ("m-svc", LimitRule::EncryptedImage),
            ("m-cmk", LimitRule::EncryptedImage),
            ("m-swas", LimitRule::ImageKind),
        ] {
            let err = checked.share(&id.into(), &to).await.unwrap_err();
            if id == "m-cmk" {
                assert!(
                    err.to_string()
                        .contains("AliyunECSShareEncryptImageDefaultRole"),
                    "{err}"
                );
            }
            assert_eq!(rule_of(err), rule, "{id}");
        }
        assert_eq!(checked.inner().calls().share, 0);

        // With the prerequisites acknowledged, the CMK-encrypted whole-machine image goes.
        let images = vec![{
            let mut i = image("m-cmk", ImageKind::WholeMachine);
            i.encryption = Encryption::CustomerKey;
            i
        }];
        let options = CheckOptions::new().with_allow_encrypted(true);
        let checked = Checked::with_options(backend(ECS_LIMITS, images), options);
        checked.share(&"m-cmk".into(), &to).await.unwrap();
    });
}

#[test]
fn ecs_allows_cross_site_and_sas_refuses_it() {
    run(async {
        let target = accounts(0..1);
        let options = CheckOptions::new().with_principal_sites(
            [(target[0].id().to_owned(), Site::International)]
                .into_iter()
                .collect(),
        );
        let ecs = Checked::with_options(
            backend(ECS_LIMITS, vec![image("m-a", ImageKind::SystemDisk)]),
            options.clone(),
        );
        ecs.share(&"m-a".into(), &target).await.unwrap();

        let sas = Checked::with_options(
            backend(SAS_LIMITS, vec![image("m-s", ImageKind::LightweightHost)]),
            options,
        );
        let err = sas.share(&"m-s".into(), &target).await.unwrap_err();
        assert_eq!(rule_of(err), LimitRule::CrossSite);
    });
}

#[test]
fn sas_caps_at_ten_and_refuses_ram_users() {
    run(async {
        let checked = Checked::new(backend(
            SAS_LIMITS,
            vec![image("m-s", ImageKind::LightweightHost)],
        ));
        let id = ImageId::from("m-s");
        let err = checked.share(&id, &accounts(0..11)).await.unwrap_err();
        assert_eq!(rule_of(err), LimitRule::MaxShareesPerImage);
        for ram_user in [
            "alice@1000000000000002.onaliyun.com",
            "acs:ram::1000000000000002:user/alice",
        ] {
            let err = checked
                .share(&id, &[Principal::account(ram_user)])
                .await
                .unwrap_err();
            assert_eq!(rule_of(err), LimitRule::PrincipalForm, "{ram_user}");
        }
        assert_eq!(checked.inner().calls().share, 0);
        checked.share(&id, &accounts(0..10)).await.unwrap();
        assert_eq!(checked.inner().share_batches().len(), 1);
    });
}

#[test]
fn account_id_form_is_lenient_but_not_absurd() {
    run(async {
        let checked = Checked::new(backend(
            ECS_LIMITS,
            vec![image("m-a", ImageKind::SystemDisk)],
        ));
        let id = ImageId::from("m-a");
        // Doc-style 10-digit ids and real 16-digit UIDs are both accepted.
        checked
            .share(
                &id,
                &[
                    Principal::account("1234567890"),
                    Principal::account("1234567890123456"),
                ],
            )
            .await
            .unwrap();
        for bad in ["1234", "123456789012345678901", "12345abc", ""] {
            let err = checked
                .share(&id, &[Principal::account(bad)])
                .await
                .unwrap_err();
            assert!(
                err.as_limit().is_some()
                    || matches!(err, imageshare_core::Error::InvalidInput { .. }),
                "{bad}: {err}"
            );
        }
    });
}

#[test]
fn both_refuse_to_delete_a_shared_image() {
    run(async {
        for (limits, kind) in [
            (ECS_LIMITS, ImageKind::SystemDisk),
            (SAS_LIMITS, ImageKind::LightweightHost),
        ] {
            let b = backend(limits, vec![image("m-d", kind)]);
            b.seed_grants(&"m-d".into(), accounts(0..1));
            let checked = Checked::new(b);
            let err = checked.delete(&"m-d".into()).await.unwrap_err();
            assert_eq!(rule_of(err), LimitRule::DeleteWhileShared);
            assert_eq!(checked.inner().calls().delete, 0);
        }
    });
}

#[test]
fn both_share_only_in_the_client_region() {
    run(async {
        for (limits, kind) in [
            (ECS_LIMITS, ImageKind::SystemDisk),
            (SAS_LIMITS, ImageKind::LightweightHost),
        ] {
            let mut far = image("m-far", kind);
            far.region = "cn-shanghai".into();
            let checked = Checked::new(backend(limits, vec![far]));
            let err = checked
                .share(&"m-far".into(), &accounts(0..1))
                .await
                .unwrap_err();
            assert_eq!(rule_of(err), LimitRule::SameRegion);
        }
    });
}

#[test]
fn ecs_requires_an_available_image_and_sas_leaves_it_to_the_server() {
    run(async {
        let mut pending = image("m-p", ImageKind::SystemDisk);
        pending.state = ImageState::Pending;
        let ecs = Checked::new(backend(ECS_LIMITS, vec![pending]));
        let err = ecs.share(&"m-p".into(), &accounts(0..1)).await.unwrap_err();
        assert_eq!(rule_of(err), LimitRule::ImageState);

        let mut pending = image("m-p", ImageKind::LightweightHost);
        pending.state = ImageState::Pending;
        let sas = Checked::new(backend(SAS_LIMITS, vec![pending]));
        sas.share(&"m-p".into(), &accounts(0..1)).await.unwrap();
    });
}

#[test]
fn sas_refuses_received_images_and_other_kinds() {
    run(async {
        let mut received = image("m-r", ImageKind::LightweightHost);
        received.origin = ImageOrigin::Received;
        let ecs_kind = image("m-e", ImageKind::SystemDisk);
        let checked = Checked::new(backend(SAS_LIMITS, vec![received, ecs_kind]));
        let err = checked
            .share(&"m-r".into(), &accounts(0..1))
            .await
            .unwrap_err();
        assert_eq!(rule_of(err), LimitRule::ReceivedImage);
        let err = checked
            .share(&"m-e".into(), &accounts(0..1))
            .await
            .unwrap_err();
        assert_eq!(rule_of(err), LimitRule::ImageKind);
        assert_eq!(checked.inner().calls().share, 0);
    });
}
