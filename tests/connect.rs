//! `imageshare::Connect` builds every provider's adapter behind the limit checker.

use imageshare::alibaba::AlibabaCredentials;
use imageshare::core::{Error, ImageSharing, Principal};
use imageshare::testing::ConnectEmulator;
use imageshare::ucloud::UCloudCredentials;
use imageshare::ClientBuilder;
use imageshare::Connect;
use imageshare::ImageSharingExt;
use imageshare_emulator::{Emulator, World};

#[tokio::test]
async fn connects_every_provider_to_the_emulator() {
    let emu = Emulator::start(World::example()).await.unwrap();
    for (provider, region, image) in [
        (
            imageshare::alibaba::ECS,
            "cn-hangzhou",
            "m-bp18ygjuqnwhechc",
        ),
        (imageshare::alibaba::SAS, "cn-hangzhou", "m-sas000000001"),
        (imageshare::tencent::CVM, "ap-guangzhou", "img-6pb6lrmy"),
        (
            imageshare::tencent::LIGHTHOUSE,
            "ap-guangzhou",
            "lhbp-6jc6l8yb",
        ),
        (imageshare::ucloud::UHOST, "cn-bj2", "uimage-golden01"),
    ] {
        let sharing = Connect::new(provider)
            .region(region)
            .emulator(&emu, "100000000001")
            .build()
            .unwrap_or_else(|e| panic!("{provider}: {e}"));
        assert_eq!(sharing.provider(), provider);
        let img = sharing.image(&image.into()).await.unwrap();
        assert_eq!(img.id.as_str(), image, "{provider}");
        // The checker is in front: a principal of the wrong kind is refused locally.
        let wrong = if provider == imageshare::ucloud::UHOST {
            Principal::account("100000000002")
        } else {
            Principal::project("org-d4e5f6")
        };
        let err = sharing.share(&image.into(), &[wrong]).await.unwrap_err();
        assert!(err.as_limit().is_some(), "{provider}: {err}");
    }
}

#[test]
fn refuses_unknown_providers_and_foreign_credentials() {
    let e = imageshare::connect("aws-ec2", "us-east-1").unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    assert!(e.to_string().contains("tencent-cvm"), "{e}");
    let e = Connect::new(imageshare::tencent::CVM)
        .region("ap-guangzhou")
        .credentials(UCloudCredentials::new("p", "q"))
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    let e = Connect::new(imageshare::alibaba::ECS)
        .region("cn-hangzhou")
        .endpoint("not a url")
        .credentials(AlibabaCredentials::new("a", "b"))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("endpoint"), "{e}");
}

/// #18 item 3: a rate limit names an action with the provider crate's enum, so a misspelt
/// action does not compile; an action of another provider is refused at `build()`, and a
/// name read at run time is checked against the provider's known actions.
#[tokio::test]
async fn rate_limits_take_typed_actions_of_the_provider_built() {
    use imageshare::tencent::{CvmAction, LighthouseAction};
    use imageshare::Rate;

    let emu = Emulator::start(World::example()).await.unwrap();
    // CVM's action on a CVM client: the rate is on the shared limiter, under CVM.
    let options = imageshare::ClientOptions::default();
    let limiter = options.rate_limiter().unwrap().clone();
    let cvm = Connect::new(imageshare::tencent::CVM)
        .region("ap-guangzhou")
        .emulator(&emu, "100000000001")
        .client_options(options)
        .rate_limit(CvmAction::ModifyImageSharePermission, Rate::per_second(3.0))
        .build()
        .unwrap();
    assert_eq!(
        limiter.rate(imageshare::tencent::CVM, "ModifyImageSharePermission"),
        Some(Rate::per_second(3.0))
    );
    cvm.image(&"img-6pb6lrmy".into()).await.unwrap();

    // The same wire name, Lighthouse's action, on a CVM client: refused before anything is
    // sent, naming both providers.
    let e = Connect::new(imageshare::tencent::CVM)
        .region("ap-guangzhou")
        .emulator(&emu, "100000000001")
        .rate_limit(
            LighthouseAction::ModifyImageSharePermission,
            Rate::per_second(3.0),
        )
        .build()
        .unwrap_err();
    assert!(matches!(&e, Error::InvalidInput { field, .. } if field == "action"));
    assert!(
        e.to_string().contains(
            "ModifyImageSharePermission is an action of tencent-lighthouse, not of tencent-cvm"
        ),
        "{e}"
    );

    // By name: the misspelling of the issue is refused, listing the known names.
    let e = Connect::new(imageshare::tencent::CVM)
        .rate_limit_named("ModifyImageSharePermision", Rate::per_second(3.0))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("tencent-cvm has no action \"ModifyImageSharePermision\""),
        "{e}"
    );
    assert!(
        e.to_string().contains("DescribeImageSharePermission"),
        "{e}"
    );

    // A whole table by name is checked at build(), before anything is sent.
    let e = Connect::new(imageshare::tencent::CVM)
        .region("ap-guangzhou")
        .emulator(&emu, "100000000001")
        .rate_limits(
            imageshare::RateLimits::new().with("ModifyImageSharePermision", Rate::per_second(3.0)),
        )
        .build()
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("tencent-cvm has no action \"ModifyImageSharePermision\""),
        "{e}"
    );
}
