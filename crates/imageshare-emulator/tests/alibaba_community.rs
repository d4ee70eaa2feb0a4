//! ECS community images on the emulator: publishing needs the signed terms
//! (`community_terms_signed`), a published image is listed to every account of the region
//! and cannot be shared or copied, unpublishing keeps direct shares; every refusal with
//! ECS's code. Driven by the imageshare ECS adapter and by hand-signed requests (which
//! skip the adapter's own checks, to reach the server's).

mod alibaba_common;

use alibaba_common::*;
use imageshare_alibaba::{Publish, SignatureVersion, ECS_VERSION};
use imageshare_core::{Error, ImageOrigin, ImageSharingExt, Principal};
use imageshare_emulator::{Emulator, World};
use serde_json::Value;

/// The common world, with `OWNER` having signed the community-image terms.
fn signed_world() -> World {
    let mut w = world();
    w.community_terms_signed.push(OWNER.to_owned());
    w
}

async fn call(emu: &Emulator, account: &str, action: &str, params: &[(&str, &str)]) -> Answer {
    let mut all = vec![("RegionId", REGION)];
    all.extend_from_slice(params);
    rpc(
        &emu.base_url(),
        &creds(account),
        action,
        ECS_VERSION,
        &all,
        now(),
        &nonce(),
        &[],
    )
    .await
}

async fn set_public(emu: &Emulator, account: &str, id: &str, public: &str) -> Answer {
    call(
        emu,
        account,
        "ModifyImageSharePermission",
        &[("ImageId", id), ("IsPublic", public)],
    )
    .await
}

/// The `Images.Image[]` of a `DescribeImages` of `account` with `params`.
async fn images(emu: &Emulator, account: &str, params: &[(&str, &str)]) -> Vec<Value> {
    let a = call(emu, account, "DescribeImages", params).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body["Images"]["Image"].as_array().unwrap().clone()
}

fn ids(images: &[Value]) -> Vec<&str> {
    images
        .iter()
        .map(|i| i["ImageId"].as_str().unwrap())
        .collect()
}

async fn share_groups(emu: &Emulator, id: &str) -> Value {
    let a = call(
        emu,
        OWNER,
        "DescribeImageSharePermission",
        &[("ImageId", id)],
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body["ShareGroups"]["ShareGroup"].clone()
}

#[tokio::test]
async fn publishing_needs_the_signed_terms() {
    // By default no account has signed: the cloud's code, and nothing changes.
    let emu = Emulator::start(world()).await.unwrap();
    let a = set_public(&emu, OWNER, "m-golden0001", "true").await;
    assert_eq!(
        (a.status, a.code()),
        (403, "PublicImageAgreement.NotSigned")
    );
    assert!(!emu.with_engine(|e| e.is_community("m-golden0001")));

    // Signed by OWNER only: PEER is still refused, for its own image too.
    let emu = Emulator::start(signed_world()).await.unwrap();
    let a = set_public(&emu, PEER, "m-cmk0000002", "true").await;
    assert_eq!(
        (a.status, a.code()),
        (403, "PublicImageAgreement.NotSigned")
    );
}

#[tokio::test]
async fn publish_list_and_unpublish_with_the_adapter() {
    let emu = Emulator::start(signed_world()).await.unwrap();
    let base = emu.base_url();
    let owner = ecs(&base, OWNER, SignatureVersion::Acs3);
    let peer = ecs(&base, PEER, SignatureVersion::RpcV1);
    let id = "m-golden0001".into();

    assert!(!owner
        .publish(&id, Publish::CONFIRMED)
        .await
        .unwrap()
        .is_empty());
    assert!(emu.with_engine(|e| e.is_community("m-golden0001")));

    // The owner sees its own image, now public.
    let own = images(&emu, OWNER, &[("ImageId", "m-golden0001")]).await;
    assert_eq!(own[0]["ImageOwnerAlias"], "self");
    assert_eq!(own[0]["IsPublic"], true);
    assert_eq!(owner.image(&id).await.unwrap().origin, ImageOrigin::Custom);

    // Every other account of the region sees it among the community images
    // (`ImageOwnerAlias=others`, `IsPublic=true`); not among the images shared with it,
    // nor in a listing or lookup without `IsPublic=true` (the official SDK's text).
    let community = images(
        &emu,
        PEER,
        &[("ImageOwnerAlias", "others"), ("IsPublic", "true")],
    )
    .await;
    assert_eq!(ids(&community), ["m-golden0001"]);
    assert_eq!(community[0]["IsPublic"], true);
    assert_eq!(community[0]["ImageOwnerAlias"], "others");
    assert_eq!(community[0]["ImageOwnerId"], OWNER.parse::<u64>().unwrap());
    let no_alias = images(&emu, PEER, &[("IsPublic", "true")]).await;
    assert_eq!(ids(&no_alias), ["m-golden0001"]);
    let by_id = images(
        &emu,
        PEER,
        &[("ImageId", "m-golden0001"), ("IsPublic", "true")],
    )
    .await;
    assert_eq!(ids(&by_id), ["m-golden0001"]);
    let all = images(&emu, PEER, &[("PageSize", "100")]).await;
    assert!(!ids(&all).contains(&"m-golden0001"), "{:?}", ids(&all));
    let shared = images(
        &emu,
        PEER,
        &[("ImageOwnerAlias", "others"), ("IsPublic", "false")],
    )
    .await;
    assert!(!ids(&shared).contains(&"m-golden0001"));
    assert!(peer
        .shared_with_me()
        .await
        .unwrap()
        .iter()
        .all(|i| i.id != id));
    // The adapter's lookup asks again as a community image (`IsPublic=true`) when the
    // plain lookup finds nothing: to another account it is a public image.
    let seen = peer.image(&id).await.unwrap();
    assert_eq!(seen.origin, ImageOrigin::Public);
    assert_eq!(
        share_groups(&emu, "m-golden0001").await,
        serde_json::json!([{"Group": "all"}])
    );

    assert!(!owner.unpublish(&id).await.unwrap().is_empty());
    assert!(images(
        &emu,
        PEER,
        &[("ImageOwnerAlias", "others"), ("IsPublic", "true")],
    )
    .await
    .is_empty());
    assert!(images(
        &emu,
        PEER,
        &[("ImageId", "m-golden0001"), ("IsPublic", "true")]
    )
    .await
    .is_empty());
    assert_eq!(
        share_groups(&emu, "m-golden0001").await,
        serde_json::json!([])
    );

    // Unpublishing what is not published: the cloud's code.
    match owner.unpublish(&id).await {
        Err(Error::Api(a)) => assert_eq!((a.status, a.code.as_str()), (403, "Image.NotPublic")),
        other => panic!("expected Image.NotPublic, got {other:?}"),
    }
}

#[tokio::test]
async fn the_server_refuses_what_cannot_be_published() {
    let emu = Emulator::start(signed_world()).await.unwrap();
    for (id, status, code) in [
        // Encrypted, with either key.
        ("m-svckey0001", 403, "OperationDeined.EncryptedSnapshot"),
        ("m-cmk0000001", 403, "OperationDeined.EncryptedSnapshot"),
        // Another account's image, shared with the caller.
        ("m-recv000001", 404, "InvalidImageId.NotFound"),
        ("m-nothere0001", 404, "InvalidImageId.NotFound"),
        // As a share of it would be.
        ("m-market0001", 403, "Forbidden"),
        ("m-creating01", 400, "IncorrectImageStatus"),
    ] {
        let a = set_public(&emu, OWNER, id, "true").await;
        assert_eq!((a.status, a.code()), (status, code), "{id}: {:?}", a.body);
        assert!(!emu.with_engine(|e| e.is_community(id)), "{id}");
    }
    // IsPublic=true with accounts: a conflict.
    let a = call(
        &emu,
        OWNER,
        "ModifyImageSharePermission",
        &[
            ("ImageId", "m-golden0001"),
            ("IsPublic", "true"),
            ("AddAccount.1", PEER),
        ],
    )
    .await;
    assert_eq!((a.status, a.code()), (403, "InvalidParameter.IsPublic"));
    assert!(emu.grants("m-golden0001").is_empty());

    // Another account cannot unpublish the owner's community image.
    assert_eq!(
        set_public(&emu, OWNER, "m-golden0001", "true").await.status,
        200
    );
    let a = set_public(&emu, PEER, "m-golden0001", "false").await;
    assert_eq!((a.status, a.code()), (404, "InvalidImageId.NotFound"));
    assert!(emu.with_engine(|e| e.is_community("m-golden0001")));
}

#[tokio::test]
async fn community_images_are_not_shared_or_copied_and_keep_direct_shares() {
    let emu = Emulator::start(signed_world()).await.unwrap();
    let owner = ecs(&emu.base_url(), OWNER, SignatureVersion::Acs3);
    let id = "m-golden0002".into();
    owner.share(&id, &[Principal::account(PEER)]).await.unwrap();
    owner.publish(&id, Publish::CONFIRMED).await.unwrap();

    // Not shared further, by the owner or anyone.
    let a = call(
        &emu,
        OWNER,
        "ModifyImageSharePermission",
        &[("ImageId", "m-golden0002"), ("AddAccount.1", INTL)],
    )
    .await;
    assert_eq!((a.status, a.code()), (403, "Image.Public"));
    let a = call(
        &emu,
        PEER,
        "ModifyImageSharePermission",
        &[("ImageId", "m-golden0002"), ("AddAccount.1", INTL)],
    )
    .await;
    assert_eq!(a.status, 404, "{:?}", a.body);
    // Not copied, by the owner or by an account it is shared with.
    for account in [OWNER, PEER] {
        let a = call(
            &emu,
            account,
            "CopyImage",
            &[("ImageId", "m-golden0002"), ("DestinationRegionId", REGION)],
        )
        .await;
        assert_eq!((a.status, a.code()), (403, "Image.Public"), "{account}");
    }
    // Both the direct share and the group show.
    let a = call(
        &emu,
        OWNER,
        "DescribeImageSharePermission",
        &[("ImageId", "m-golden0002")],
    )
    .await;
    assert_eq!(a.body["ShareGroups"]["ShareGroup"][0]["Group"], "all");
    assert_eq!(a.body["Accounts"]["Account"][0]["AliyunId"], PEER);

    // Unpublished: the direct share stays, and sharing works again.
    owner.unpublish(&id).await.unwrap();
    assert_eq!(emu.grants("m-golden0002").len(), 1);
    let shared = owner.sharees(&id).await.unwrap();
    assert_eq!(shared[0].principal.id(), PEER);
    owner.share(&id, &[Principal::account(INTL)]).await.unwrap();
    assert_eq!(emu.grants("m-golden0002").len(), 2);
}

#[test]
fn the_world_file_lists_the_accounts_that_signed() {
    let text = r#"
community_terms_signed = ["100000000001"]

[[account]]
id = "100000000001"

[[account]]
id = "100000000002"
"#;
    let w = World::from_toml_str(text).unwrap();
    assert!(w.signed_community_terms("100000000001"));
    assert!(!w.signed_community_terms("100000000002"));
    // Without the key nobody has signed.
    let w = World::from_toml_str("[[account]]\nid = \"100000000001\"\n").unwrap();
    assert!(!w.signed_community_terms("100000000001"));
    // Only accounts of the world can sign.
    let err = World::from_toml_str(
        "community_terms_signed = [\"100000000009\"]\n[[account]]\nid = \"100000000001\"\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("community_terms_signed"), "{err}");
    // The builder marks the last account added.
    let w = World::builder()
        .account(OWNER, imageshare_core::Site::China)
        .community_terms_signed()
        .account(PEER, imageshare_core::Site::China)
        .build()
        .unwrap();
    assert_eq!(w.community_terms_signed, [OWNER]);
}
