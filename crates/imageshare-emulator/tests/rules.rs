//! The engine's rules, held side by side with the client-side limit checker: for every
//! provider and every rule its limit table carries, the same request is refused by the
//! checker (before sending) and by the engine (server-side truth), naming the same rule
//! wherever the wire can express it.

use imageshare_core::limits::EncryptedPolicy;
use imageshare_core::memory::InMemorySharing;
use imageshare_core::ImageSharingExt;
use imageshare_core::{
    CheckOptions, Checked, Encryption, Image, ImageKind, ImageOrigin, ImageState, LimitRule,
    Principal, Provider, Site,
};
use imageshare_emulator::engine::{limits_for, Engine, EngineError};
use imageshare_emulator::world::{Encrypted, ImageSeed, Origin, State};
use imageshare_emulator::World;

const OWNER: &str = "100000000001";
const OTHER: &str = "100000000002";
const INTL: &str = "200000000001";

fn region(p: Provider) -> &'static str {
    match p {
        imageshare_alibaba::ECS | imageshare_alibaba::SAS => "cn-hangzhou",
        imageshare_tencent::CVM | imageshare_tencent::LIGHTHOUSE => "ap-guangzhou",
        imageshare_ucloud::UHOST => "cn-bj2",
        other => panic!("no region for {other}"),
    }
}

/// Owner / other / international principal ids as the provider names them.
fn ids(p: Provider) -> (&'static str, &'static str, &'static str) {
    if p == imageshare_ucloud::UHOST {
        ("org-own001", "org-oth001", "org-int001")
    } else {
        (OWNER, OTHER, INTL)
    }
}

fn principal(p: Provider, id: &str) -> Principal {
    Principal::of_kind(limits_for(p).principal_kind, id)
}

/// A world with three accounts (and a project each) and `extra` more accounts.
fn world(p: Provider, seed: ImageSeed, grants: &[String], extra: usize) -> World {
    let mut b = World::builder()
        .account(OWNER, Site::China)
        .project("org-own001")
        .role(imageshare_emulator::engine::ECS_ENCRYPTED_SHARE_ROLE)
        .account(OTHER, Site::China)
        .project("org-oth001")
        .account(INTL, Site::International)
        .project("org-int001");
    for i in 0..extra {
        b = b
            .account(&format!("3{:011}", i), Site::China)
            .project(&format!("org-x{i}"));
    }
    let mut seed = seed;
    seed.shared_with.extend(grants.iter().cloned());
    let _ = p;
    b.image(seed).build().unwrap()
}

fn extra_ids(p: Provider, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            if p == imageshare_ucloud::UHOST {
                format!("org-x{i}")
            } else {
                format!("3{:011}", i)
            }
        })
        .collect()
}

/// The checker's view of a world image, as an adapter would report it to `caller`.
fn as_image(p: Provider, seed: &ImageSeed, caller: &str) -> Image {
    let origin = match seed.origin {
        _ if seed.owner != caller => ImageOrigin::Received,
        Origin::Custom | Origin::Imported => ImageOrigin::Custom,
        Origin::Marketplace => ImageOrigin::MarketplaceDerived,
        Origin::Public => ImageOrigin::Public,
    };
    Image::new(seed.id.as_str(), seed.region.as_str())
        .with_name(seed.id.clone())
        .with_owner(Some(principal(p, &seed.owner)))
        .with_owner_site(Some(if seed.owner == INTL || seed.owner == "org-int001" {
            Site::International
        } else {
            Site::China
        }))
        .with_state(match seed.state {
            State::Available => ImageState::Available,
            State::Creating => ImageState::Pending,
            State::Unavailable => ImageState::Unavailable,
            State::Failed => ImageState::Failed,
        })
        .with_origin(origin)
        .with_encryption(match seed.encrypted {
            Encrypted::None => Encryption::None,
            Encrypted::ServiceKey => Encryption::ServiceKey,
            Encrypted::Cmk => Encryption::CustomerKey,
        })
        .with_kind(seed.kind)
}

struct Case {
    rule: LimitRule,
    seed: ImageSeed,
    grants: Vec<String>,
    extra_accounts: usize,
    caller: String,
    client_region: String,
    to: Vec<String>,
}

fn base(p: Provider) -> ImageSeed {
    let (owner, _, _) = ids(p);
    let kind = limits_for(p).shareable_kinds[0];
    let id = format!("{}rule0001", limits_for(p).image_id_prefix);
    ImageSeed::new(p, &id, owner, region(p)).kind(kind)
}

/// Every rule that `p`'s table makes a request violate, as a case.
fn cases(p: Provider) -> Vec<Case> {
    let l = limits_for(p);
    let (owner, other, intl) = ids(p);
    let case = |rule, seed: ImageSeed, to: &[&str]| Case {
        rule,
        seed,
        grants: Vec::new(),
        extra_accounts: 0,
        caller: owner.to_owned(),
        client_region: region(p).to_owned(),
        to: to.iter().map(|s| (*s).to_owned()).collect(),
    };
    let mut out = vec![
        case(LimitRule::PrincipalForm, base(p), &["not-an-id"]),
        case(LimitRule::ShareWithSelf, base(p), &[owner]),
        case(
            LimitRule::PublicImage,
            base(p).origin(Origin::Public),
            &[other],
        ),
    ];
    let mut received = case(LimitRule::ReceivedImage, base(p), &[intl]);
    received.seed.owner = other.to_owned();
    received.grants = vec![owner.to_owned()];
    if !l.reshare_received {
        out.push(received);
    }
    let mut region_case = case(LimitRule::SameRegion, base(p), &[other]);
    region_case.client_region = "xx-elsewhere-1".into();
    if l.same_region_only {
        out.push(region_case);
    }
    if !l.share_marketplace_derived {
        out.push(case(
            LimitRule::MarketplaceDerived,
            base(p).origin(Origin::Marketplace),
            &[other],
        ));
    }
    match l.encrypted {
        EncryptedPolicy::Allowed => {}
        EncryptedPolicy::Forbidden => out.push(case(
            LimitRule::EncryptedImage,
            base(p).encrypted(Encrypted::Cmk),
            &[other],
        )),
        EncryptedPolicy::CustomerKeyWithAcknowledgement { .. } => out.push(case(
            LimitRule::EncryptedImage,
            base(p).encrypted(Encrypted::ServiceKey),
            &[other],
        )),
        other => panic!("no rule case for the encrypted policy {other:?}: write one here"),
    }
    if !l.cross_site {
        out.push(case(LimitRule::CrossSite, base(p), &[intl]));
    }
    for kind in [
        ImageKind::SystemDisk,
        ImageKind::WholeMachine,
        ImageKind::LightweightHost,
    ] {
        if !l.shareable_kinds.contains(&kind) {
            out.push(case(LimitRule::ImageKind, base(p).kind(kind), &[other]));
            break;
        }
    }
    if l.require_available {
        out.push(case(
            LimitRule::ImageState,
            base(p).state(State::Creating),
            &[other],
        ));
    }
    if let Some(max) = l.max_sharees_per_image {
        let mut c = case(LimitRule::MaxShareesPerImage, base(p), &[other]);
        c.extra_accounts = max;
        c.grants = extra_ids(p, max);
        out.push(c);
    }
    out
}

#[tokio::test]
async fn checker_and_engine_refuse_the_same_requests() {
    let mut checked_rules = 0;
    for p in imageshare_emulator::engine::served().map(|s| s.provider) {
        for c in cases(p) {
            let label = format!("{p} {}", c.rule);
            // Client side: the checker, in the client's region, with the adapter's view.
            let backend = InMemorySharing::new(c.client_region.as_str(), limits_for(p).clone());
            backend.add_image(as_image(p, &c.seed, &c.caller));
            backend.seed_grants(
                &c.seed.id.as_str().into(),
                c.grants.iter().map(|g| principal(p, g)),
            );
            let mut options = CheckOptions::default();
            for (id, site) in [
                (ids(p).0, Site::China),
                (ids(p).1, Site::China),
                (ids(p).2, Site::International),
            ] {
                options.principal_sites.insert(id.to_owned(), site);
            }
            let checked = Checked::with_options(backend, options);
            let to: Vec<Principal> = c.to.iter().map(|t| principal(p, t)).collect();
            let client = checked.share(&c.seed.id.as_str().into(), &to).await;
            let violation = client
                .as_ref()
                .err()
                .and_then(|e| e.as_limit())
                .unwrap_or_else(|| panic!("{label}: checker did not refuse: {client:?}"));
            assert_eq!(violation.rule, c.rule, "{label}: checker rule");
            assert_eq!(checked.inner().calls().share, 0, "{label}: nothing sent");

            // Server side: the engine, asked in the client's region.
            let mut engine = Engine::new(world(p, c.seed.clone(), &c.grants, c.extra_accounts));
            let before = engine.grants(&c.seed.id);
            let server = engine.share(p, &c.caller, &c.client_region, &c.seed.id, &c.to);
            let err = server
                .clone()
                .err()
                .unwrap_or_else(|| panic!("{label}: engine accepted: {server:?}"));
            match (c.rule, &err) {
                // Another region's image is simply not visible there.
                (LimitRule::SameRegion, EngineError::ImageNotFound(_)) => {}
                (rule, EngineError::Rule { rule: r, .. }) => assert_eq!(*r, rule, "{label}"),
                (rule, e) => panic!("{label}: engine refused with {e:?}, expected rule {rule}"),
            }
            assert_eq!(engine.grants(&c.seed.id), before, "{label}: all or nothing");
            checked_rules += 1;
        }
    }
    // Every provider contributes its rules; keep the count honest.
    assert!(checked_rules >= 40, "only {checked_rules} cases");
}

#[tokio::test]
async fn delete_while_shared_is_refused_on_both_sides_where_the_table_says_so() {
    for p in imageshare_emulator::engine::served().map(|s| s.provider) {
        let l = limits_for(p);
        let (owner, other, _) = ids(p);
        let seed = base(p);
        let mut engine = Engine::new(world(p, seed.clone(), &[other.to_owned()], 0));
        let server = engine.delete(p, owner, region(p), &seed.id);

        let backend = InMemorySharing::new(region(p), l.clone());
        backend.add_image(as_image(p, &seed, owner));
        backend.seed_grants(&seed.id.as_str().into(), [principal(p, other)]);
        let checked = Checked::new(backend);
        let client = checked.delete(&seed.id.as_str().into()).await;

        if l.delete_requires_unshare {
            assert!(
                matches!(
                    server,
                    Err(EngineError::Rule {
                        rule: LimitRule::DeleteWhileShared,
                        ..
                    })
                ),
                "{p}: {server:?}"
            );
            assert_eq!(
                client.unwrap_err().as_limit().map(|v| v.rule),
                Some(LimitRule::DeleteWhileShared),
                "{p}"
            );
            assert_eq!(checked.inner().calls().delete, 0);
        } else {
            assert!(server.is_ok(), "{p}: {server:?}");
            assert!(client.is_ok(), "{p}");
        }
    }
}

#[test]
fn engine_share_is_all_or_nothing_and_idempotent() {
    let p = imageshare_alibaba::ECS;
    let mut engine = Engine::new(world(p, base(p), &[], 0));
    let id = "m-rule0001";
    // One unknown account in the list: nothing is granted.
    let err = engine
        .share(
            p,
            OWNER,
            region(p),
            id,
            &[OTHER.into(), "999999999999".into()],
        )
        .unwrap_err();
    assert_eq!(err, EngineError::PrincipalNotFound("999999999999".into()));
    assert!(engine.grants(id).is_empty());
    // Duplicates collapse; a second share is a no-op.
    let first = engine
        .share(p, OWNER, region(p), id, &[OTHER.into(), OTHER.into()])
        .unwrap();
    assert_eq!(first, vec![(OTHER.to_owned(), true)]);
    let again = engine
        .share(p, OWNER, region(p), id, &[OTHER.into()])
        .unwrap();
    assert_eq!(again, vec![(OTHER.to_owned(), false)]);
    assert_eq!(engine.grants(id).len(), 1);
    // Unshare reports whether a grant existed.
    let un = engine
        .unshare(p, OWNER, region(p), id, &[OTHER.into(), INTL.into()])
        .unwrap();
    assert_eq!(un, vec![(OTHER.to_owned(), true), (INTL.to_owned(), false)]);
    // The recipient sees a received image only while it is shared.
    engine
        .share(p, OWNER, region(p), id, &[OTHER.into()])
        .unwrap();
    let seen = engine.list(
        p,
        OTHER,
        region(p),
        &[imageshare_emulator::engine::Relation::Received],
    );
    assert_eq!(seen.len(), 1);
    engine
        .unshare(p, OWNER, region(p), id, &[OTHER.into()])
        .unwrap();
    assert!(engine.image(p, OTHER, region(p), id).is_err());
}

#[test]
fn copies_drop_grants_and_received_images_copy_only_in_region() {
    let p = imageshare_tencent::CVM;
    let mut engine = Engine::new(world(p, base(p), &[OTHER.to_owned()], 0));
    let id = "img-rule0001";
    let copy = engine
        .copy(
            p,
            OWNER,
            region(p),
            id,
            imageshare_emulator::engine::CopySpec {
                region: Some("ap-shanghai".into()),
                project: None,
                name: None,
            },
        )
        .unwrap();
    assert!(
        engine.grants(&copy).is_empty(),
        "copies do not inherit grants"
    );
    assert!(engine.image(p, OWNER, "ap-shanghai", &copy).is_ok());
    // The recipient's own copy must stay in the source region.
    let spec = |r: &str| imageshare_emulator::engine::CopySpec {
        region: Some(r.into()),
        project: None,
        name: None,
    };
    assert!(matches!(
        engine.copy(p, OTHER, region(p), id, spec("ap-shanghai")),
        Err(EngineError::InvalidParameter { .. })
    ));
    let own = engine
        .copy(p, OTHER, region(p), id, spec(region(p)))
        .unwrap();
    let v = engine.image(p, OTHER, region(p), &own).unwrap();
    assert_eq!(v.relation, imageshare_emulator::engine::Relation::Owner);
}

#[test]
fn world_files_are_validated() {
    let bad = r#"
[[account]]
id = "100000000001"
[[image]]
provider = "tencent-cvm"
id = "img-1"
owner = "100000000002"
region = "ap-guangzhou"
"#;
    let e = World::from_toml_str(bad).unwrap_err().to_string();
    assert!(
        e.contains("owner 100000000002 is not a known account"),
        "{e}"
    );
    let e = World::from_toml_str("[[image]]\nprovider = \"aws\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("<toml>:2:") && e.contains("aws"), "{e}");
    let example = World::example();
    assert!(example.accounts.len() >= 3);
    for p in imageshare_emulator::engine::served().map(|s| s.provider) {
        assert!(
            example.images.iter().any(|i| i.provider == p),
            "examples/world.toml has no {p} image"
        );
    }
}

#[test]
fn delete_checks_are_the_engines() {
    for p in imageshare_emulator::engine::served().map(|s| s.provider) {
        let (owner, other, _) = ids(p);
        let mut creating = base(p);
        creating.state = State::Creating;
        let id = creating.id.clone();
        let mut engine = Engine::new(world(p, creating, &[], 0));
        // Only Tencent documents that an image being created cannot be deleted.
        let check = engine.check_delete(p, owner, region(p), &id);
        if imageshare_emulator::engine::delete_waits_for_creation(p) {
            assert!(
                matches!(check, Err(EngineError::InvalidState { .. })),
                "{p}: {check:?}"
            );
        } else {
            assert_eq!(check, Ok(()), "{p}");
        }
        // Shared: refused where the limits say so, and the check changes nothing.
        let mut engine = Engine::new(world(p, base(p), &[other.to_owned()], 0));
        let check = engine.check_delete(p, owner, region(p), &id);
        if limits_for(p).delete_requires_unshare {
            assert!(
                matches!(
                    check,
                    Err(EngineError::Rule {
                        rule: LimitRule::DeleteWhileShared,
                        ..
                    })
                ),
                "{p}: {check:?}"
            );
        } else {
            assert_eq!(check, Ok(()), "{p}");
        }
        assert_eq!(engine.grants(&id).len(), 1, "{p}");
        assert!(engine.image(p, owner, region(p), &id).is_ok(), "{p}");
    }
}
