//! `UHOST_LIMITS` applied by the one limit checker of imageshare-core, on an in-memory
//! backend: every UCloud rule is refused before anything is sent.

use imageshare_core::limits::{EncryptedPolicy, PrincipalForm};
use imageshare_core::memory::InMemorySharing;
use imageshare_core::{
    Checked, Encryption, Image, ImageId, ImageKind, ImageOrigin, ImageSharingExt, ImageState,
    LimitRule, Principal, PrincipalKind,
};
use imageshare_ucloud::{UHOST, UHOST_LIMITS};

const REGION: &str = "cn-bj2";

fn image(id: &str) -> Image {
    Image::new(id, REGION)
        .with_name("golden")
        .with_owner(Some(Principal::project("org-owner")))
        .with_encryption(Encryption::None)
}

fn backend_with(img: Image) -> Checked<InMemorySharing> {
    let backend = InMemorySharing::new(REGION, UHOST_LIMITS);
    backend.add_image(img);
    Checked::new(backend)
}

fn projects(n: usize) -> Vec<Principal> {
    (0..n)
        .map(|i| Principal::project(format!("org-p{i}")))
        .collect()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[test]
fn the_table_says_what_the_guide_says() {
    assert_eq!(UHOST_LIMITS.provider, UHOST);
    assert_eq!(UHOST_LIMITS.principal_kind, PrincipalKind::Project);
    assert_eq!(
        UHOST_LIMITS.principal_form,
        PrincipalForm::PrefixedId { prefix: "org-" }
    );
    assert_eq!(UHOST_LIMITS.max_sharees_per_image, Some(50));
    assert_eq!(UHOST_LIMITS.max_principals_per_call, 1);
    assert_eq!(UHOST_LIMITS.shareable_kinds, &[ImageKind::SystemDisk]);
    assert_eq!(UHOST_LIMITS.encrypted, EncryptedPolicy::Allowed);
    let l = &UHOST_LIMITS;
    assert_eq!(
        (
            l.same_region_only,
            l.reshare_received,
            l.require_available,
            l.delete_requires_unshare,
            l.cross_site,
            l.share_marketplace_derived,
        ),
        (true, false, true, false, true, true)
    );
    assert!(UHOST_LIMITS.source.contains("sharingimage"));
}

#[test]
fn project_ids_must_be_org_ids() {
    assert!(UHOST_LIMITS
        .check_principal_form(&Principal::project("org-z44lmf12e"))
        .is_ok());
    for bad in ["org-", "proj-1", "ORG-abc", "org-a_b", "123456"] {
        assert!(
            UHOST_LIMITS
                .check_principal_form(&Principal::project(bad))
                .is_err(),
            "{bad} accepted"
        );
    }
}

#[test]
fn accounts_and_malformed_projects_are_refused_before_any_call() {
    rt().block_on(async {
        let c = backend_with(image("uimage-a"));
        let id = ImageId::from("uimage-a");
        let e = c
            .share(&id, &[Principal::account("12345678")])
            .await
            .unwrap_err();
        assert_eq!(e.as_limit().unwrap().rule, LimitRule::PrincipalKind);
        let e = c
            .share(&id, &[Principal::project("proj-1")])
            .await
            .unwrap_err();
        assert_eq!(e.as_limit().unwrap().rule, LimitRule::PrincipalForm);
        assert_eq!(c.inner().calls().mutations(), 0);
    });
}

#[test]
fn one_project_per_call_up_to_fifty_per_image() {
    rt().block_on(async {
        let c = backend_with(image("uimage-a"));
        let id = ImageId::from("uimage-a");
        let report = c.share(&id, &projects(3)).await.unwrap();
        assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 3);
        let batches = c.inner().share_batches();
        assert_eq!(batches.len(), 3);
        assert!(batches.iter().all(|b| b.len() == 1));

        // 3 granted + 48 new = 51 > 50: refused whole, nothing sent.
        let more: Vec<Principal> = (100..148)
            .map(|i| Principal::project(format!("org-q{i}")))
            .collect();
        let e = c.share(&id, &more).await.unwrap_err();
        let v = e.as_limit().unwrap();
        assert_eq!(v.rule, LimitRule::MaxShareesPerImage);
        assert!(v.limit.contains("50"), "{v}");
        assert_eq!(c.inner().calls().share, 3);

        // 47 more is exactly 50: allowed.
        let report = c.share(&id, &more[..47]).await.unwrap();
        assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 47);
        assert_eq!(c.inner().grants(&id).len(), 50);
    });
}

#[test]
fn image_rules_are_enforced() {
    let cases: Vec<(Image, LimitRule)> = vec![
        (
            image("uimage-l").with_kind(ImageKind::LightweightHost),
            LimitRule::ImageKind,
        ),
        (
            image("uimage-w").with_kind(ImageKind::WholeMachine),
            LimitRule::ImageKind,
        ),
        (
            image("uimage-r").with_origin(ImageOrigin::Received),
            LimitRule::ReceivedImage,
        ),
        (
            image("uimage-c").with_state(ImageState::Pending),
            LimitRule::ImageState,
        ),
        (
            image("uimage-s").with_region("cn-sh2"),
            LimitRule::SameRegion,
        ),
    ];
    rt().block_on(async {
        for (img, rule) in cases {
            let id = img.id.clone();
            let c = backend_with(img);
            let e = c.share(&id, &projects(1)).await.unwrap_err();
            assert_eq!(e.as_limit().map(|v| v.rule), Some(rule), "{id}: {e}");
            assert_eq!(c.inner().calls().share, 0);
        }
    });
}

#[test]
fn undocumented_rules_are_left_to_the_server() {
    rt().block_on(async {
        for img in [
            image("uimage-e").with_encryption(Encryption::Unknown),
            image("uimage-m").with_origin(ImageOrigin::MarketplaceDerived),
        ] {
            let id = img.id.clone();
            let c = backend_with(img);
            let report = c.share(&id, &projects(1)).await.unwrap();
            assert_eq!(
                report.count(imageshare_core::OutcomeKind::Granted),
                1,
                "{id}"
            );
        }
    });
}

#[test]
fn deleting_a_shared_image_is_allowed_as_documented() {
    rt().block_on(async {
        let c = backend_with(image("uimage-a"));
        let id = ImageId::from("uimage-a");
        c.share(&id, &projects(2)).await.unwrap();
        let before = c.inner().calls();
        c.delete(&id).await.unwrap();
        let after = c.inner().calls();
        assert_eq!(after.delete, 1);
        // The checker did not need the (unpublished) sharee listing to delete.
        assert_eq!(after.sharees, before.sharees);
    });
}
