//! The trust policy against the emulator: images shared by an owner outside the allow-list
//! are left out of `shared_with_me`, and `copy` and the migration flows refuse them with
//! `Error::Untrusted` before anything that mutates is sent (checked in the emulator's call
//! log); trusted owners and the caller's own images go through.

use imageshare::testing::ConnectEmulator;
use imageshare::ClientBuilder;
use imageshare::ImageSharingExt;
use std::time::Duration;

use imageshare::core::{CopyTarget, ImageId, Principal, Provider, Site};
use imageshare::migrate::Wait;
use imageshare::{Connect, DynSharing, Error, Flows, TrustPolicy};
use imageshare_emulator::world::ImageSeed;
use imageshare_emulator::{Emulator, World};

const ME: &str = "100000000001";
const FRIEND: &str = "100000000002";
const STRANGER: &str = "100000000003";
const CVM_REGION: &str = "ap-guangzhou";
const ECS_REGION: &str = "cn-hangzhou";

const WAIT: Wait = Wait {
    timeout: Duration::from_secs(10),
    poll: Duration::from_millis(50),
};

/// Me, a friend and a stranger; each of the others shares one CVM, one ECS and one UCloud
/// image with me; I own a SAS image and an ECS image.
fn world() -> World {
    let mut b = World::builder()
        .account(ME, Site::China)
        .project("org-mine0001")
        .account(FRIEND, Site::China)
        .project("org-friend01")
        .account(STRANGER, Site::China)
        .project("org-strange1");
    for (who, project, tag) in [
        (FRIEND, "org-friend01", "friend"),
        (STRANGER, "org-strange1", "strange"),
    ] {
        b = b
            .image(
                ImageSeed::new(
                    imageshare::tencent::CVM,
                    &format!("img-{tag}"),
                    who,
                    CVM_REGION,
                )
                .shared_with(&[ME]),
            )
            .image(
                ImageSeed::new(
                    imageshare::alibaba::ECS,
                    &format!("m-{tag}00000"),
                    who,
                    ECS_REGION,
                )
                .shared_with(&[ME]),
            )
            .image(
                ImageSeed::new(
                    imageshare::ucloud::UHOST,
                    &format!("uimage-{tag}"),
                    project,
                    "cn-bj2",
                )
                .shared_with(&["org-mine0001"]),
            );
    }
    b.image(
        ImageSeed::new(imageshare::alibaba::SAS, "m-sas000000001", ME, ECS_REGION)
            .kind(imageshare::core::ImageKind::LightweightHost),
    )
    .image(ImageSeed::new(
        imageshare::alibaba::ECS,
        "m-mine000000",
        ME,
        ECS_REGION,
    ))
    .build()
    .unwrap()
}

/// Only my friend, on every provider.
fn policy() -> TrustPolicy {
    TrustPolicy::new()
        .allow_everywhere(FRIEND)
        .allow(imageshare::ucloud::UHOST, "org-friend01")
}

fn connect(
    emu: &Emulator,
    provider: Provider,
    region: &str,
    trust: Option<TrustPolicy>,
) -> DynSharing {
    let c = Connect::new(provider).region(region).emulator(emu, ME);
    match trust {
        Some(p) => c.trust(p),
        None => c,
    }
    .build()
    .unwrap()
}

/// Calls after the first `from` that are not reads.
fn mutating_calls(emu: &Emulator, from: usize) -> Vec<String> {
    emu.calls()
        .into_iter()
        .skip(from)
        .filter(|c| !c.action.starts_with("Describe"))
        .map(|c| format!("{} {}", c.provider, c.action))
        .collect()
}

fn ids(images: &[imageshare::Image]) -> Vec<&str> {
    images.iter().map(|i| i.id.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_with_me_lists_only_trusted_owners() {
    let emu = Emulator::start(world()).await.unwrap();
    for (provider, region, friend, stranger) in [
        (
            imageshare::tencent::CVM,
            CVM_REGION,
            "img-friend",
            "img-strange",
        ),
        (
            imageshare::alibaba::ECS,
            ECS_REGION,
            "m-friend00000",
            "m-strange00000",
        ),
        (
            imageshare::ucloud::UHOST,
            "cn-bj2",
            "uimage-friend",
            "uimage-strange",
        ),
    ] {
        let open = connect(&emu, provider, region, None);
        let all = open.shared_with_me().await.unwrap();
        assert_eq!(ids(&all).len(), 2, "{provider}: {:?}", ids(&all));

        let trusting = connect(&emu, provider, region, Some(policy()));
        let listed = trusting.shared_with_me().await.unwrap();
        assert_eq!(ids(&listed), [friend], "{provider}");

        // What was left out, for a caller that reports it: the stranger's image, with why.
        let split = policy().partition(provider, all);
        assert_eq!(ids(&split.accepted), [friend]);
        assert_eq!(split.refused.len(), 1);
        let (image, why) = &split.refused[0];
        assert_eq!(image.id.as_str(), stranger);
        assert!(matches!(why, Error::Untrusted { .. }), "{why}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_of_an_untrusted_image_is_refused_before_anything_is_sent() {
    let emu = Emulator::start(world()).await.unwrap();
    let ecs = connect(&emu, imageshare::alibaba::ECS, ECS_REGION, Some(policy()));
    let before = emu.calls().len();
    let err = ecs
        .copy(&"m-strange00000".into(), CopyTarget::OwnCopy { name: None })
        .await
        .unwrap_err();
    let Error::Untrusted {
        provider,
        image,
        owner,
        ..
    } = &err
    else {
        panic!("expected Error::Untrusted, got {err}")
    };
    assert_eq!(*provider, imageshare::alibaba::ECS);
    assert_eq!(image, "m-strange00000");
    assert_eq!(owner.as_deref(), Some(STRANGER));
    let text = err.to_string();
    assert!(
        text.contains(STRANGER) && text.contains(&format!("--trust-owner alibaba-ecs:{STRANGER}")),
        "{text}"
    );
    assert!(
        mutating_calls(&emu, before).is_empty(),
        "{:?}",
        mutating_calls(&emu, before)
    );

    // The friend's image and my own go through.
    let before = emu.calls().len();
    ecs.copy(&"m-friend00000".into(), CopyTarget::OwnCopy { name: None })
        .await
        .unwrap();
    ecs.copy(&"m-mine000000".into(), CopyTarget::OwnCopy { name: None })
        .await
        .unwrap();
    assert_eq!(
        mutating_calls(&emu, before),
        ["alibaba-ecs CopyImage", "alibaba-ecs CopyImage"]
    );

    // UCloud: the stranger's project is refused the same way.
    let ucloud = connect(&emu, imageshare::ucloud::UHOST, "cn-bj2", Some(policy()));
    let before = emu.calls().len();
    let err = ucloud
        .copy(&"uimage-strange".into(), CopyTarget::OwnCopy { name: None })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Untrusted { owner: Some(o), .. } if o == "org-strange1"),
        "{err}"
    );
    assert!(mutating_calls(&emu, before).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_refuse_an_untrusted_source_before_anything_is_sent() {
    let emu = Emulator::start(world()).await.unwrap();
    let flows = Flows::new().trust(policy());
    let to = [Principal::account(FRIEND)];
    // Bare adapters (no trust layer of their own): the flow checks by itself.
    let source = connect(&emu, imageshare::alibaba::ECS, ECS_REGION, None);
    let target = connect(&emu, imageshare::alibaba::ECS, "cn-shanghai", None);
    let before = emu.calls().len();
    let err = flows
        .copy_then_share(&source, &target, &"m-strange00000".into(), &to, WAIT)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Untrusted { image, .. } if image == "m-strange00000"),
        "{err}"
    );
    assert!(
        mutating_calls(&emu, before).is_empty(),
        "{:?}",
        mutating_calls(&emu, before)
    );

    // The same flow through adapters built with the policy refuses as well.
    let source = connect(&emu, imageshare::alibaba::ECS, ECS_REGION, Some(policy()));
    let err =
        imageshare::migrate::copy_then_share(&source, &target, &"m-strange00000".into(), &to, WAIT)
            .await
            .unwrap_err();
    assert!(matches!(err, Error::Untrusted { .. }), "{err}");
    assert!(mutating_calls(&emu, before).is_empty());

    // My own image is copied, waited for and shared (ECS copies a received image only
    // within its region, so a friend's image cannot take this flow).
    let report = flows
        .copy_then_share(&source, &target, &"m-mine000000".into(), &to, WAIT)
        .await
        .unwrap();
    assert_eq!(emu.grants(report.image.as_str()).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sas_to_ecs_of_an_own_image_passes_a_restricting_policy() {
    let emu = Emulator::start(world()).await.unwrap();
    let c = |p: Provider| {
        Connect::new(p)
            .region(ECS_REGION)
            .emulator(&emu, ME)
            .trust(policy())
    };
    let sas = c(imageshare::alibaba::SAS).sas().unwrap();
    // ECS lists the SAS image as shared by another account; the flow vouches for it.
    let ecs = c(imageshare::alibaba::ECS).build().unwrap();
    let report = c(imageshare::alibaba::ECS)
        .flows()
        .sas_to_ecs(
            &sas,
            &ecs,
            &"m-sas000000001".into(),
            &[Principal::account(FRIEND)],
            WAIT,
        )
        .await
        .unwrap();
    assert_ne!(
        report.image,
        ImageId::from("m-sas000000001"),
        "an own ECS copy was made"
    );
    assert_eq!(emu.grants(report.image.as_str()).len(), 1);
    // Yet a plain copy of that ECS-side image, outside the flow, is refused.
    let err = ecs
        .copy(&"m-sas000000001".into(), CopyTarget::OwnCopy { name: None })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Untrusted { .. }), "{err}");
}
