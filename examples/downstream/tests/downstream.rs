//! The downstream crate's five parts, run against the embedded emulator
//! (`imageshare::testing`), each asserting what the server saw or answered.

#[path = "../../support/proxy.rs"]
mod proxy;

use std::sync::Arc;

use imageshare::testing::{ConnectEmulator, Emulator, ServerOptions, World};
use imageshare::{
    ClientBuilder, Connect, Error, ImageId, ImageSharingExt, Principal, TryStreamExt,
};
use imageshare_downstream::{
    behind_corporate_proxy, look_up_concurrently, share_everywhere, sharees_of, Handled, Target,
    Vault,
};

const OWNER: &str = "100000000001";
const OTHER: &str = "100000000002";

fn cvm(emu: &Emulator) -> imageshare::DynSharing {
    Connect::new(imageshare::tencent::CVM)
        .region("ap-guangzhou")
        .emulator(emu, OWNER)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_multi_cloud_share_is_handled_by_kind() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let ecs = Connect::new(imageshare::alibaba::ECS)
        .region("cn-hangzhou")
        .emulator(&emu, OWNER)
        .build()
        .unwrap();
    let uhost = Connect::new(imageshare::ucloud::UHOST)
        .region("cn-bj2")
        .emulator(&emu, OWNER)
        .build()
        .unwrap();
    let targets = [
        Target {
            sharing: cvm(&emu),
            image: "img-6pb6lrmy".into(),
            to: vec![Principal::account(OTHER)],
        },
        Target {
            sharing: ecs.clone(),
            image: "m-bp18ygjuqnwhechc".into(),
            to: vec![Principal::account(OTHER)],
        },
        Target {
            sharing: uhost,
            image: "uimage-golden01".into(),
            to: vec![Principal::project("org-d4e5f6")],
        },
        // A project on ECS: refused by the limit checker, nothing written.
        Target {
            sharing: ecs.clone(),
            image: "m-bp18ygjuqnwhechc".into(),
            to: vec![Principal::project("org-d4e5f6")],
        },
        // An image that is not there.
        Target {
            sharing: ecs,
            image: "m-doesnotexist01".into(),
            to: vec![Principal::account(OTHER)],
        },
    ];
    let results = share_everywhere(&targets).await;
    let providers: Vec<&str> = results.iter().map(|(p, _)| p.name()).collect();
    assert_eq!(
        providers,
        [
            "tencent-cvm",
            "alibaba-ecs",
            "ucloud",
            "alibaba-ecs",
            "alibaba-ecs"
        ]
    );
    for (provider, handled) in &results[..3] {
        assert!(
            matches!(handled, Handled::Done { granted, already } if granted + already == 1),
            "{provider}: {handled:?}"
        );
    }
    assert!(
        matches!(&results[3].1, Handled::FixRequest(why) if why.starts_with("principal-kind")),
        "{:?}",
        results[3].1
    );
    assert!(
        matches!(&results[4].1, Handled::Missing(what) if what == "image m-doesnotexist01"),
        "{:?}",
        results[4].1
    );
    // The grants are on the server: the other account sees the CVM image.
    let theirs = Connect::new(imageshare::tencent::CVM)
        .region("ap-guangzhou")
        .emulator(&emu, OTHER)
        .build()
        .unwrap();
    let received = theirs.shared_with_me().await.unwrap();
    assert!(received.iter().any(|i| i.id.as_str() == "img-6pb6lrmy"));
}

#[tokio::test]
async fn a_stream_outlives_the_client_it_came_from() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let image = ImageId::from("img-6pb6lrmy");
    let sharing = cvm(&emu);
    sharing
        .share(&image, &[Principal::account(OTHER)])
        .await
        .unwrap();
    let stream = sharees_of(&sharing, &image);
    drop(sharing); // the stream owns its own handle
    let sharees: Vec<_> = stream.try_collect().await.unwrap();
    assert!(
        sharees
            .iter()
            .any(|s| s.principal == Principal::account(OTHER)),
        "{sharees:?}"
    );
}

#[tokio::test]
async fn one_client_serves_spawned_tasks() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let sharing = cvm(&emu);
    let images: Vec<ImageId> = ["img-6pb6lrmy", "img-whole001", "img-6pb6lrmy"]
        .into_iter()
        .map(ImageId::from)
        .collect();
    let names = look_up_concurrently(&sharing, &images).await.unwrap();
    assert_eq!(names.len(), 3);
    assert_eq!(names[0], names[2]);
    assert_eq!(names[0], "golden-2026");
    // Three lookups reached the server, through one client.
    let lookups = emu
        .calls()
        .iter()
        .filter(|c| c.action == "DescribeImages")
        .count();
    assert_eq!(lookups, 3);
    // A failure in one task is that task's error, by kind.
    let e = look_up_concurrently(&sharing, &["img-missing01".into()])
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
}

#[tokio::test]
async fn a_proxy_and_a_private_ca() {
    let emu = Emulator::start_with(World::example(), ServerOptions::default().tls(true))
        .await
        .unwrap();
    let ca = emu.ca_pem().unwrap();
    let proxy = proxy::LocalProxy::start().await.unwrap();
    let image = ImageId::from("img-6pb6lrmy");
    let keys = emu.account(OWNER).unwrap().credentials("tencent").unwrap();

    let through_proxy = behind_corporate_proxy(
        imageshare::tencent::CVM,
        "ap-guangzhou",
        &emu.base_url(),
        &proxy.url(),
        ca.as_bytes(),
        None,
    )
    .credentials(keys.clone())
    .build()
    .unwrap();
    let img = through_proxy.image(&image).await.unwrap();
    assert_eq!(img.name, "golden-2026");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].request_line.starts_with("CONNECT 127.0.0.1:"),
        "{seen:?}"
    );

    // The same without our CA: refused at the TLS handshake, not retried, nothing served.
    let served = emu.calls().len();
    let untrusted = Connect::new(imageshare::tencent::CVM)
        .region("ap-guangzhou")
        .endpoint(emu.base_url())
        .proxy(proxy.url())
        .credentials(keys.clone())
        .build()
        .unwrap();
    let e = untrusted.image(&image).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Transport {
                retryable: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(emu.calls().len(), served);

    // NO_PROXY for the endpoint's host: straight to the server.
    let direct = behind_corporate_proxy(
        imageshare::tencent::CVM,
        "ap-guangzhou",
        &emu.base_url(),
        &proxy.url(),
        ca.as_bytes(),
        Some("127.0.0.1"),
    )
    .credentials(keys)
    .build()
    .unwrap();
    direct.image(&image).await.unwrap();
    assert_eq!(
        proxy.seen().len(),
        2,
        "only the untrusted attempt went through the proxy"
    );
}

#[tokio::test]
async fn our_own_credentials_provider() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let vault = Arc::new(Vault::new(
        "AKIDEMU0000000000000000000000001",
        "emu-tencent-secret-1",
    ));
    let cvm = Connect::new(imageshare::tencent::CVM)
        .region("ap-guangzhou")
        .endpoint(emu.base_url())
        .sts_endpoint(emu.base_url())
        .credentials_provider(vault.clone())
        .build()
        .unwrap();
    assert_eq!(vault.requests(), 0, "nothing is asked at build()");
    for _ in 0..3 {
        cvm.image(&"img-6pb6lrmy".into()).await.unwrap();
    }
    assert_eq!(vault.requests(), 1, "long-term keys are asked for once");
    let me = cvm.whoami().await.unwrap();
    assert_eq!(
        (me.account.as_str(), me.source.as_str()),
        (OWNER, "the team vault")
    );

    // A vault handing out keys the cloud does not know: an authentication error, by kind.
    let wrong = Arc::new(Vault::new("AKIDEMU0000000000000000000000999", "nope"));
    let cvm = Connect::new(imageshare::tencent::CVM)
        .region("ap-guangzhou")
        .endpoint(emu.base_url())
        .credentials_provider(wrong)
        .build()
        .unwrap();
    let e = cvm.image(&"img-6pb6lrmy".into()).await.unwrap_err();
    assert!(
        matches!(imageshare_downstream::handle(&e), Handled::Credentials(_)),
        "{e:?}"
    );
}
