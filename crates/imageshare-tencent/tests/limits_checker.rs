//! The CVM and Lighthouse limit tables applied by the one core checker (`Checked`) in front
//! of an in-memory backend: refusals happen before any call, batches have the per-call size.

use imageshare_core::memory::InMemorySharing;
use imageshare_core::{
    CheckOptions, Checked, Encryption, Image, ImageId, ImageKind, ImageOrigin, ImageSharingExt,
    ImageState, LimitRule, Principal, ShareLimits, Site,
};
use imageshare_tencent::{CVM_LIMITS, LIGHTHOUSE_LIMITS};

const REGION: &str = "ap-guangzhou";
const OWNER: &str = "100000000001";

fn image(id: &str, kind: ImageKind) -> Image {
    Image::new(id, REGION)
        .with_name("golden")
        .with_owner(Some(Principal::account(OWNER)))
        .with_owner_site(Some(Site::China))
        .with_encryption(Encryption::None)
        .with_kind(kind)
}

fn accounts(n: u64) -> Vec<Principal> {
    (0..n)
        .map(|i| Principal::account((200_000_000_000 + i).to_string()))
        .collect()
}

fn checked(limits: ShareLimits, img: Image) -> Checked<InMemorySharing> {
    let backend = InMemorySharing::new(REGION, limits);
    backend.add_image(img);
    Checked::new(backend)
}

async fn refused(c: &Checked<InMemorySharing>, id: &str, to: &[Principal]) -> LimitRule {
    let err = c.share(&ImageId::from(id), to).await.unwrap_err();
    let rule = err
        .as_limit()
        .unwrap_or_else(|| panic!("not a limit error: {err}"))
        .rule;
    assert_eq!(c.inner().calls().share, 0, "nothing may be sent");
    rule
}

#[tokio::test]
async fn cvm_shares_in_batches_of_ten() {
    let c = checked(CVM_LIMITS, image("img-golden", ImageKind::SystemDisk));
    let report = c.share(&"img-golden".into(), &accounts(25)).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 25);
    let sizes: Vec<usize> = c.inner().share_batches().iter().map(Vec::len).collect();
    assert_eq!(sizes, [10, 10, 5]);
}

#[tokio::test]
async fn cvm_batch_size_is_configurable() {
    let c = checked(
        CVM_LIMITS.clone().with_max_principals_per_call(100),
        image("img-golden", ImageKind::SystemDisk),
    );
    c.share(&"img-golden".into(), &accounts(25)).await.unwrap();
    assert_eq!(c.inner().share_batches().len(), 1);
}

#[tokio::test]
async fn cvm_refuses_what_tencent_documents_as_unshareable() {
    let mut encrypted = image("img-enc", ImageKind::SystemDisk);
    encrypted.encryption = Encryption::CustomerKey;
    let c = checked(CVM_LIMITS, encrypted);
    assert_eq!(
        refused(&c, "img-enc", &accounts(1)).await,
        LimitRule::EncryptedImage
    );

    let c = checked(CVM_LIMITS, image("img-whole", ImageKind::WholeMachine));
    assert_eq!(
        refused(&c, "img-whole", &accounts(1)).await,
        LimitRule::ImageKind
    );

    let mut received = image("img-recv", ImageKind::SystemDisk);
    received.origin = ImageOrigin::Received;
    received.owner = Some(Principal::account("300000000001"));
    let c = checked(CVM_LIMITS, received);
    assert_eq!(
        refused(&c, "img-recv", &accounts(1)).await,
        LimitRule::ReceivedImage
    );

    let mut syncing = image("img-sync", ImageKind::SystemDisk);
    syncing.state = ImageState::Pending;
    let c = checked(CVM_LIMITS, syncing);
    assert_eq!(
        refused(&c, "img-sync", &accounts(1)).await,
        LimitRule::ImageState
    );

    let mut elsewhere = image("img-sh", ImageKind::SystemDisk);
    elsewhere.region = "ap-shanghai".into();
    let c = checked(CVM_LIMITS, elsewhere);
    assert_eq!(
        refused(&c, "img-sh", &accounts(1)).await,
        LimitRule::SameRegion
    );
}

#[tokio::test]
async fn cvm_caps_sharees_at_500() {
    let c = checked(CVM_LIMITS, image("img-golden", ImageKind::SystemDisk));
    c.inner().seed_grants(&"img-golden".into(), accounts(495));
    let more: Vec<Principal> = (0..6)
        .map(|i| Principal::account((900_000_000_000u64 + i).to_string()))
        .collect();
    assert_eq!(
        refused(&c, "img-golden", &more).await,
        LimitRule::MaxShareesPerImage
    );
    // Exactly up to the cap is fine.
    c.share(&"img-golden".into(), &more[..5]).await.unwrap();
    assert_eq!(c.inner().grants(&"img-golden".into()).len(), 500);
}

#[tokio::test]
async fn account_id_forms() {
    let c = checked(CVM_LIMITS, image("img-golden", ImageKind::SystemDisk));
    for bad in [
        "1234",
        "123456789012345678901",
        "qcs::cam::uin/100000000001",
        "alice@example.com",
        "10000 0001",
    ] {
        assert_eq!(
            refused(&c, "img-golden", &[Principal::account(bad)]).await,
            LimitRule::PrincipalForm,
            "{bad}"
        );
    }
    assert_eq!(
        refused(&c, "img-golden", &[Principal::project("org-1")]).await,
        LimitRule::PrincipalKind
    );
    for good in [
        "12345",
        "1038493875",
        "700000164995",
        "12345678901234567890",
    ] {
        c.share(&"img-golden".into(), &[Principal::account(good)])
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn lighthouse_shares_blueprints_in_batches_of_ten() {
    let c = checked(
        LIGHTHOUSE_LIMITS,
        image("lhbp-6jc6l8yb", ImageKind::LightweightHost),
    );
    c.share(&"lhbp-6jc6l8yb".into(), &accounts(21))
        .await
        .unwrap();
    let sizes: Vec<usize> = c.inner().share_batches().iter().map(Vec::len).collect();
    assert_eq!(sizes, [10, 10, 1]);

    let c = checked(
        LIGHTHOUSE_LIMITS,
        image("lhbp-cvmkind1", ImageKind::SystemDisk),
    );
    assert_eq!(
        refused(&c, "lhbp-cvmkind1", &accounts(1)).await,
        LimitRule::ImageKind
    );
}

#[tokio::test]
async fn lighthouse_refuses_known_cross_site_recipients() {
    let backend = InMemorySharing::new(REGION, LIGHTHOUSE_LIMITS);
    backend.add_image(image("lhbp-6jc6l8yb", ImageKind::LightweightHost));
    let mut options = CheckOptions::default();
    options
        .principal_sites
        .insert("200000000000".into(), Site::International);
    let c = Checked::with_options(backend, options);
    assert_eq!(
        refused(&c, "lhbp-6jc6l8yb", &accounts(1)).await,
        LimitRule::CrossSite
    );

    // CVM documents no such rule: the same recipient is not refused client-side.
    let backend = InMemorySharing::new(REGION, CVM_LIMITS);
    backend.add_image(image("img-golden", ImageKind::SystemDisk));
    let mut options = CheckOptions::default();
    options
        .principal_sites
        .insert("200000000000".into(), Site::International);
    let c = Checked::with_options(backend, options);
    c.share(&"img-golden".into(), &accounts(1)).await.unwrap();
}
