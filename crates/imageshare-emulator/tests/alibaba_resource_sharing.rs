//! Alibaba Resource Sharing on the emulator, driven by the imageshare ECS adapter with
//! organisation sharing on (both signature versions) and by hand-signed requests: an
//! image shared with a folder is seen by the members under it, including one added
//! later; `sharees` lists the folder; a re-run makes no second share; `unshare`
//! disassociates and a re-run sends nothing; every server-side rule with the service's
//! code; outside accounts through an accepted invitation.

mod alibaba_common;

use alibaba_common::*;
use imageshare_alibaba::resource_sharing::RESOURCE_SHARING_VERSION;
use imageshare_alibaba::{EcsImageSharing, SignatureVersion};
use imageshare_core::{
    CallContext, Checked, ClientBuilder, Error, ImageSharingExt, OutcomeKind, Principal,
    ShareOutcome, Site,
};
use imageshare_emulator::frontend::alibaba::resource_sharing::ALIBABA_RESOURCE_SHARING;
use imageshare_emulator::world::{DirectorySeed, Origin};
use imageshare_emulator::{Emulator, ImageSeed, World};

const SIGS: [SignatureVersion; 2] = [SignatureVersion::Acs3, SignatureVersion::RpcV1];

/// A hand-signed request's parameters, and the status and code it must get.
type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);

/// The directory's management account, which owns the images.
const MGMT: &str = "100000000001";
/// A member in `fd-Prod`.
const PROD: &str = "100000000002";
/// A member in `fd-Web`, a sub-folder of `fd-Prod`.
const WEB: &str = "100000000003";
/// A member in `fd-Dev`.
const DEV: &str = "100000000004";
/// An account that joins `fd-Web` during a test.
const LATE: &str = "100000000005";
/// An account outside the directory.
const OUTSIDE: &str = "100000000009";
/// An international-site account outside the directory.
const INTL: &str = "200000000001";

const DIR: &str = "rd-Org1";
const IMAGE: &str = "m-golden0001";

fn org_world() -> World {
    let ecs = |id: &str| ImageSeed::new(imageshare_alibaba::ECS, id, MGMT, REGION);
    let mut b = World::builder();
    for (id, site) in [
        (MGMT, Site::China),
        (PROD, Site::China),
        (WEB, Site::China),
        (DEV, Site::China),
        (LATE, Site::China),
        (OUTSIDE, Site::China),
        (INTL, Site::International),
    ] {
        b = b.account(id, site);
    }
    b.image(ecs(IMAGE).name("golden"))
        .image(ecs("m-golden0002"))
        .image(ecs("m-market0001").origin(Origin::Marketplace))
        .resource_directory(
            DirectorySeed::new(DIR, MGMT)
                .folder("fd-Prod", None)
                .folder("fd-Web", Some("fd-Prod"))
                .folder("fd-Dev", None)
                .member(PROD, Some("fd-Prod"))
                .member(WEB, Some("fd-Web"))
                .member(DEV, Some("fd-Dev")),
        )
        .build()
        .expect("valid world")
}

fn ecs_org(base: &str, account: &str, sig: SignatureVersion, external: bool) -> EcsImageSharing {
    EcsImageSharing::builder()
        .endpoint(base)
        .region(REGION)
        .credentials(creds(account))
        .signature_version(sig)
        .retry(retry())
        .resource_sharing(true)
        .allow_external_targets(external)
        .build()
        .expect("ECS adapter")
}

/// Whether `account` sees IMAGE among the images shared with it (`DescribeImages`
/// `ImageOwnerAlias=others`).
async fn sees(base: &str, account: &str) -> bool {
    ecs(base, account, SignatureVersion::RpcV1)
        .shared_with_me()
        .await
        .unwrap()
        .iter()
        .any(|i| i.id.as_str() == IMAGE)
}

fn rs_calls(emu: &Emulator, action: &str) -> usize {
    emu.action_count(ALIBABA_RESOURCE_SHARING, action)
}

/// A hand-signed Resource Sharing request of `account`.
async fn call(base: &str, account: &str, action: &str, params: &[(&str, &str)]) -> Answer {
    rpc(
        base,
        &creds(account),
        action,
        RESOURCE_SHARING_VERSION,
        params,
        now(),
        &nonce(),
        &[],
    )
    .await
}

#[tokio::test]
async fn folder_share_reaches_members_below_it_including_later_ones_and_unshare_removes_it() {
    for sig in SIGS {
        let emu = Emulator::start(org_world()).await.unwrap();
        let base = emu.base_url();
        let owner = Checked::new(ecs_org(&base, MGMT, sig, false));
        let folder = Principal::folder("fd-Prod");
        let id = IMAGE.into();

        let r = owner
            .share(&id, std::slice::from_ref(&folder))
            .await
            .unwrap();
        assert!(
            matches!(r.outcome(&folder), Some(ShareOutcome::Granted)),
            "{sig:?}"
        );
        assert_eq!(rs_calls(&emu, "CreateResourceShare"), 1);

        // Members in the folder and in its sub-folder see the image; the others do not.
        assert!(sees(&base, PROD).await);
        assert!(sees(&base, WEB).await);
        assert!(!sees(&base, DEV).await);
        assert!(!sees(&base, OUTSIDE).await);
        // Nothing went through the image's own share list.
        assert!(emu.grants(IMAGE).is_empty());

        // An account that joins the sub-folder later sees it without another call.
        assert!(!sees(&base, LATE).await);
        emu.with_engine(|e| e.add_directory_member(DIR, LATE, Some("fd-Web")))
            .unwrap();
        let writes =
            rs_calls(&emu, "CreateResourceShare") + rs_calls(&emu, "AssociateResourceShare");
        assert!(sees(&base, LATE).await);
        assert_eq!(
            rs_calls(&emu, "CreateResourceShare") + rs_calls(&emu, "AssociateResourceShare"),
            writes
        );

        // sharees lists the folder (with the association time).
        let sharees = owner.sharees(&id).await.unwrap();
        assert_eq!(sharees.len(), 1);
        assert_eq!(sharees[0].principal, folder);
        assert!(sharees[0].shared_at.is_some());

        // A re-run sees the folder among the sharees and sends nothing.
        let r = owner
            .share(&id, std::slice::from_ref(&folder))
            .await
            .unwrap();
        assert!(
            matches!(r.outcome(&folder), Some(ShareOutcome::AlreadyGranted)),
            "{r:?}"
        );
        assert_eq!(rs_calls(&emu, "CreateResourceShare"), 1);
        assert_eq!(rs_calls(&emu, "AssociateResourceShare"), 0);
        // Without the checker the adapter finds the share again by name: no second one.
        let bare = ecs_org(&base, MGMT, sig, false);
        let r = bare
            .share(&id, std::slice::from_ref(&folder))
            .await
            .unwrap();
        assert!(matches!(r.outcome(&folder), Some(ShareOutcome::Granted)));
        assert_eq!(rs_calls(&emu, "CreateResourceShare"), 1);
        assert_eq!(rs_calls(&emu, "AssociateResourceShare"), 1);
        assert_eq!(emu.with_engine(|e| e.resource_shares().count()), 1);

        // More targets go to the same share.
        let dev = Principal::folder("fd-Dev");
        owner.share(&id, std::slice::from_ref(&dev)).await.unwrap();
        assert!(sees(&base, DEV).await);
        assert_eq!(emu.with_engine(|e| e.resource_shares().count()), 1);

        // unshare disassociates: the members no longer see it.
        let r = owner
            .unshare(&id, std::slice::from_ref(&folder))
            .await
            .unwrap();
        assert!(matches!(r.outcome(&folder), Some(ShareOutcome::Revoked)));
        assert!(!sees(&base, PROD).await);
        assert!(!sees(&base, LATE).await);
        assert!(sees(&base, DEV).await);
        let left: Vec<Principal> = owner
            .sharees(&id)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.principal)
            .collect();
        assert_eq!(left, [dev]);

        // A re-run sends no disassociation and reports the folder not granted.
        let before = rs_calls(&emu, "DisassociateResourceShare");
        let r = owner
            .unshare(&id, std::slice::from_ref(&folder))
            .await
            .unwrap();
        assert!(matches!(r.outcome(&folder), Some(ShareOutcome::NotGranted)));
        assert_eq!(rs_calls(&emu, "DisassociateResourceShare"), before);
    }
}

#[tokio::test]
async fn directory_and_member_targets_and_accounts_in_one_call() {
    let emu = Emulator::start(org_world()).await.unwrap();
    let base = emu.base_url();
    let owner = Checked::new(ecs_org(&base, MGMT, SignatureVersion::Acs3, false));
    let id = "m-golden0002".into();
    let r = owner
        .share(&id, &[Principal::member(DEV), Principal::account(OUTSIDE)])
        .await
        .unwrap();
    assert_eq!(r.count(OutcomeKind::Granted), 2);
    // The account went through the image's own list, the member through the share.
    assert_eq!(emu.grants("m-golden0002").len(), 1);
    let dev = ecs(&base, DEV, SignatureVersion::Acs3)
        .shared_with_me()
        .await
        .unwrap();
    assert!(dev.iter().any(|i| i.id.as_str() == "m-golden0002"));

    // The whole directory: every member, the management account excluded (it owns it).
    owner
        .share(&IMAGE.into(), &[Principal::directory(DIR)])
        .await
        .unwrap();
    for who in [PROD, WEB, DEV] {
        assert!(sees(&base, who).await, "{who}");
    }
    assert!(!sees(&base, OUTSIDE).await);
}

#[tokio::test]
async fn rules_are_enforced_server_side_with_the_service_codes() {
    let emu = Emulator::start(org_world()).await.unwrap();
    let base = emu.base_url();
    let create = |extra: Vec<(&'static str, &'static str)>| {
        let mut p = vec![
            ("ResourceShareName", "imageshare-m-golden0001"),
            ("Resources.1.ResourceId", IMAGE),
            ("Resources.1.ResourceType", "Image"),
        ];
        p.extend(extra);
        p
    };
    let long = "n".repeat(51);
    let mut many = vec![("ResourceShareName".to_owned(), "many".to_owned())];
    for i in 1..=6 {
        many.push((format!("Resources.{i}.ResourceId"), format!("m-many{i:06}")));
        many.push((format!("Resources.{i}.ResourceType"), "Image".to_owned()));
    }
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let cases: Vec<Case> = vec![
        (
            create(vec![
                ("Targets.1", "fd-Prod"),
                ("Targets.2", "fd-Web"),
                ("Targets.3", "fd-Dev"),
                ("Targets.4", PROD),
                ("Targets.5", WEB),
                ("Targets.6", DEV),
            ]),
            400,
            "InvalidParameter.Targets.Length",
        ),
        (
            create(vec![("Targets.1", "fd-Prod"), ("Targets.2", "fd-Prod")]),
            400,
            "InvalidParameter.Targets.Duplicate",
        ),
        (
            create(vec![("Targets.1", OUTSIDE)]),
            409,
            "AccountNotInResourceDirectory",
        ),
        (
            create(vec![("Targets.1", "fd-Nowhere")]),
            400,
            "InvalidTarget",
        ),
        (
            create(vec![("Targets.1", "rd-Other")]),
            400,
            "InvalidTarget",
        ),
        (
            create(vec![("Targets.1", "fd-")]),
            400,
            "InvalidParameter.Targets",
        ),
        (create(vec![("Targets.1", MGMT)]), 409, "ShareWithYourself"),
        (
            vec![
                ("ResourceShareName", "x"),
                ("Resources.1.ResourceId", "m-market0001"),
                ("Resources.1.ResourceType", "Image"),
            ],
            400,
            "InvalidParameter.Resources",
        ),
        (
            vec![
                ("ResourceShareName", "x"),
                ("Resources.1.ResourceId", "vsw-1"),
                ("Resources.1.ResourceType", "VSwitch"),
            ],
            400,
            "InvalidParameter.ResourceType",
        ),
        (
            vec![
                ("ResourceShareName", "x"),
                ("Resources.1.ResourceId", IMAGE),
            ],
            400,
            "InvalidParameter.Resources",
        ),
        (
            vec![("ResourceShareName", "bad name!")],
            400,
            "InvalidParameter.ResourceShareName",
        ),
        (
            vec![("ResourceShareName", long.as_str())],
            400,
            "InvalidParameter.ResourceShareName.Length",
        ),
        (vec![], 400, "MissingParameter"),
        (many, 400, "InvalidParameter.Resources.Length"),
    ];
    for (params, status, code) in cases {
        let a = call(&base, MGMT, "CreateResourceShare", &params).await;
        assert_eq!(
            (a.status, a.code()),
            (status, code),
            "{params:?}: {:?}",
            a.body
        );
    }
    assert_eq!(emu.with_engine(|e| e.resource_shares().count()), 0);

    // A share to work on.
    let a = call(
        &base,
        MGMT,
        "CreateResourceShare",
        &create(vec![("Targets.1", "fd-Prod")]),
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let share = a.body["ResourceShare"]["ResourceShareId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(a.body["ResourceShare"]["ResourceShareStatus"], "Active");
    assert_eq!(a.body["ResourceShare"]["ResourceShareOwner"], MGMT);

    let sid = share.as_str();
    for (action, params, status, code) in [
        (
            "DisassociateResourceShare",
            vec![("ResourceShareId", sid), ("Targets.1", "fd-Dev")],
            400,
            "DisassociateInvalid",
        ),
        (
            "AssociateResourceShare",
            vec![("ResourceShareId", sid)],
            400,
            "ResourceAndTargetBothEmpty",
        ),
        (
            "AssociateResourceShare",
            vec![("Targets.1", "fd-Dev")],
            400,
            "MissingParameter.ResourceShareId",
        ),
        (
            "AssociateResourceShare",
            vec![("ResourceShareId", "rs-nothere"), ("Targets.1", "fd-Dev")],
            404,
            "EntityNotExists.ResourceShare",
        ),
        (
            "ListResourceShares",
            vec![],
            400,
            "MissingParameter.ResourceOwner",
        ),
        (
            "ListResourceShares",
            vec![("ResourceOwner", "Self"), ("MaxResults", "101")],
            400,
            "InvalidParameter.MaxResults",
        ),
        (
            "ListResourceShareAssociations",
            vec![("AssociationType", "Owner")],
            400,
            "InvalidParameter.AssociationType",
        ),
        (
            "ListResourceShareAssociations",
            vec![("AssociationType", "Target"), ("ResourceId", IMAGE)],
            400,
            "ConflictedAssociationType",
        ),
        (
            "AcceptResourceShareInvitation",
            vec![("ResourceShareInvitationId", "i-nothere")],
            409,
            "EntityNotExists.ResourceShareInvitation",
        ),
        ("NoSuchAction", vec![], 404, "InvalidAction.NotFound"),
    ] {
        let a = call(&base, MGMT, action, &params).await;
        assert_eq!(
            (a.status, a.code()),
            (status, code),
            "{action} {params:?}: {:?}",
            a.body
        );
    }
    // Another account cannot touch the management account's share.
    let a = call(
        &base,
        PROD,
        "AssociateResourceShare",
        &[("ResourceShareId", sid), ("Targets.1", "fd-Dev")],
    )
    .await;
    assert_eq!(a.code(), "EntityNotExists.ResourceShare");

    // The listings, paged by NextToken.
    let a = call(
        &base,
        MGMT,
        "ListResourceShareAssociations",
        &[("AssociationType", "Resource"), ("ResourceShareIds.1", sid)],
    )
    .await;
    let list = a.body["ResourceShareAssociations"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["EntityId"], IMAGE);
    assert_eq!(list[0]["EntityType"], "Image");
    assert_eq!(list[0]["AssociationStatus"], "Associated");
    let a = call(
        &base,
        MGMT,
        "AssociateResourceShare",
        &[
            ("ResourceShareId", sid),
            ("Targets.1", "fd-Dev"),
            ("Targets.2", WEB),
        ],
    )
    .await;
    assert_eq!(
        a.body["ResourceShareAssociations"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let mut seen = Vec::new();
    let mut token = String::new();
    for _ in 0..5 {
        let mut p = vec![("AssociationType", "Target"), ("MaxResults", "2")];
        if !token.is_empty() {
            p.push(("NextToken", token.as_str()));
        }
        let a = call(&base, MGMT, "ListResourceShareAssociations", &p).await;
        for e in a.body["ResourceShareAssociations"].as_array().unwrap() {
            seen.push(e["EntityId"].as_str().unwrap().to_owned());
        }
        token = a.body["NextToken"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ["fd-Prod", "fd-Dev", WEB]);
    // The receiving side lists the share among those of other accounts.
    let a = call(
        &base,
        WEB,
        "ListResourceShares",
        &[("ResourceOwner", "OtherAccounts")],
    )
    .await;
    assert_eq!(a.body["ResourceShares"][0]["ResourceShareId"], sid);
    let a = call(
        &base,
        OUTSIDE,
        "ListResourceShares",
        &[("ResourceOwner", "OtherAccounts")],
    )
    .await;
    assert_eq!(a.body["ResourceShares"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn outside_accounts_need_allow_external_targets_and_an_accepted_invitation() {
    let emu = Emulator::start(org_world()).await.unwrap();
    let base = emu.base_url();
    let outside = Principal::member(OUTSIDE);
    let id = IMAGE.into();

    // Without AllowExternalTargets the service refuses an account outside the directory.
    let strict = ecs_org(&base, MGMT, SignatureVersion::RpcV1, false);
    let err = strict
        .share(&id, std::slice::from_ref(&outside))
        .await
        .unwrap_err();
    match &err {
        Error::Api(a) => assert_eq!(
            (a.status, a.code.as_str()),
            (409, "AccountNotInResourceDirectory")
        ),
        other => panic!("expected the service's refusal, got {other:?}"),
    }
    // The refused create left no share behind.
    assert_eq!(emu.with_engine(|e| e.resource_shares().count()), 0);

    let open = ecs_org(&base, MGMT, SignatureVersion::RpcV1, true);
    open.share(&id, std::slice::from_ref(&outside))
        .await
        .unwrap();
    // Invited, not yet in: the association waits and the image is not visible.
    assert!(!sees(&base, OUTSIDE).await);
    let a = call(
        &base,
        MGMT,
        "ListResourceShares",
        &[("ResourceOwner", "Self")],
    )
    .await;
    assert_eq!(
        a.body["ResourceShares"][0]["ResourceShareStatus"],
        "Pending"
    );
    assert_eq!(a.body["ResourceShares"][0]["AllowExternalTargets"], true);
    // An account of the other site cannot be invited.
    let err = open
        .share(&id, &[Principal::member(INTL)])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(a) if a.code == "InvalidTarget.SiteMismatch"),
        "{err:?}"
    );

    // The invited account finds its invitation and accepts it with the adapter.
    let a = call(&base, OUTSIDE, "ListResourceShareInvitations", &[]).await;
    let inv = &a.body["ResourceShareInvitations"][0];
    assert_eq!(inv["Status"], "Pending");
    assert_eq!(inv["SenderAccountId"], MGMT);
    assert_eq!(inv["ReceiverAccountId"], OUTSIDE);
    let inv_id = inv["ResourceShareInvitationId"]
        .as_str()
        .unwrap()
        .to_owned();
    // Nobody else can accept it.
    let a = call(
        &base,
        PROD,
        "AcceptResourceShareInvitation",
        &[("ResourceShareInvitationId", &inv_id)],
    )
    .await;
    assert_eq!(a.code(), "EntityNotExists.ResourceShareInvitation");
    let recipient = ecs_org(&base, OUTSIDE, SignatureVersion::Acs3, false);
    recipient
        .resource_sharing()
        .accept_invitation(&CallContext::new(), &inv_id)
        .await
        .unwrap();
    assert!(sees(&base, OUTSIDE).await);
    // Twice is refused.
    let err = recipient
        .resource_sharing()
        .accept_invitation(&CallContext::new(), &inv_id)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(a) if a.code == "InvitationStatus.AlreadyAccepted"),
        "{err:?}"
    );

    // The owner's sharees show the member target; unshare removes it.
    let who: Vec<Principal> = open
        .sharees(&id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.principal)
        .collect();
    assert_eq!(who, std::slice::from_ref(&outside));
    open.unshare(&id, &[outside]).await.unwrap();
    assert!(!sees(&base, OUTSIDE).await);
}

#[test]
fn the_world_file_declares_directories_strictly() {
    let base = r#"
[[account]]
id = "100000000001"
[[account]]
id = "100000000002"
"#;
    let ok = format!(
        "{base}
[[resource_directory]]
id = \"rd-Org1\"
management_account = \"100000000001\"
[[resource_directory.folder]]
id = \"fd-Prod\"
[[resource_directory.folder]]
id = \"fd-Web\"
parent = \"fd-Prod\"
[[resource_directory.member]]
account = \"100000000002\"
folder = \"fd-Web\"
"
    );
    let w = World::from_toml_str(&ok).unwrap();
    let d = &w.resource_directories[0];
    assert!(d.reaches("fd-Prod", "100000000002"));
    assert!(d.reaches("rd-Org1", "100000000001"));
    assert!(!d.reaches("fd-Prod", "100000000001"));

    for (bad, why) in [
        (
            ok.replace("parent = ", "color = \"red\"\nparent = "),
            "unknown field",
        ),
        (ok.replace("id = \"fd-Web\"", "id = \"fd-W eb\""), "folder"),
        (
            ok.replace("parent = \"fd-Prod\"", "parent = \"fd-None\""),
            "unknown parent",
        ),
        (
            ok.replace("folder = \"fd-Web\"", "folder = \"fd-None\""),
            "unknown folder",
        ),
        (
            ok.replace("account = \"100000000002\"", "account = \"100000000003\""),
            "not a known account",
        ),
        (
            ok.replace("account = \"100000000002\"", "account = \"100000000001\""),
            "already",
        ),
        (
            ok.replace("id = \"rd-Org1\"", "id = \"Org1\""),
            "resource directory",
        ),
        (
            format!("{ok}\n[[resource_directory.folder]]\nid = \"fd-Prod\"\n"),
            "appears twice",
        ),
        (
            ok.replace(
                "[[resource_directory.folder]]\nid = \"fd-Prod\"",
                "[[resource_directory.folder]]\nid = \"fd-Prod\"\nparent = \"fd-Web\"",
            ),
            "its own ancestor",
        ),
    ] {
        let e = World::from_toml_str(&bad).unwrap_err().to_string();
        assert!(e.contains(why), "{why}: {e}\n{bad}");
    }
}

#[tokio::test]
async fn add_directory_member_refuses_what_the_world_would() {
    let emu = Emulator::start(org_world()).await.unwrap();
    emu.with_engine(|e| {
        assert!(e.add_directory_member("rd-None", LATE, None).is_err());
        assert!(e.add_directory_member(DIR, "100000009999", None).is_err());
        assert!(e.add_directory_member(DIR, PROD, None).is_err());
        assert!(e.add_directory_member(DIR, LATE, Some("fd-None")).is_err());
        assert!(e.add_directory_member(DIR, LATE, None).is_ok());
        assert_eq!(e.directory_of(LATE).map(|d| d.id.as_str()), Some(DIR));
    });
    // A reset returns to the loaded world.
    emu.reset();
    assert!(emu.with_engine(|e| e.directory_of(LATE).is_none()));
}

#[tokio::test]
async fn the_admin_api_adds_members_and_shows_directories_and_shares() {
    let emu = Emulator::start(org_world()).await.unwrap();
    let base = emu.base_url();
    let owner = ecs_org(&base, MGMT, SignatureVersion::RpcV1, false);
    owner
        .share(&IMAGE.into(), &[Principal::folder("fd-Web")])
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let post = |body: serde_json::Value| {
        http.post(format!("{base}/_imageshare/directory-member"))
            .body(body.to_string())
            .send()
    };
    assert!(!sees(&base, LATE).await);
    let r = post(serde_json::json!({"directory": DIR, "account": LATE, "folder": "fd-Web"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(sees(&base, LATE).await);
    // Twice, an unknown folder, an unknown field: 400 with the reason.
    for (body, why) in [
        (
            serde_json::json!({"directory": DIR, "account": LATE}),
            "already in resource directory",
        ),
        (
            serde_json::json!({"directory": DIR, "account": OUTSIDE, "folder": "fd-No"}),
            "has no folder fd-No",
        ),
        (
            serde_json::json!({"directory": DIR, "account": OUTSIDE, "parent": "x"}),
            "unknown field",
        ),
    ] {
        let r = post(body).await.unwrap();
        assert_eq!(r.status(), 400);
        let text = r.text().await.unwrap();
        assert!(text.contains(why), "{why}: {text}");
    }
    let state: serde_json::Value = serde_json::from_str(
        &http
            .get(format!("{base}/_imageshare/state"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let members = state["resource_directories"][0]["member"]
        .as_array()
        .unwrap();
    assert!(members
        .iter()
        .any(|m| m["account"] == LATE && m["folder"] == "fd-Web"));
    let share = &state["resource_shares"][0];
    assert_eq!(share["owner"], MGMT);
    assert_eq!(
        share["resources"][0],
        serde_json::json!([IMAGE, "Associated"])
    );
    assert_eq!(
        share["targets"][0],
        serde_json::json!(["fd-Web", "Associated"])
    );
}

#[tokio::test]
async fn the_checker_splits_six_targets_into_calls_of_five() {
    let emu = Emulator::start(org_world()).await.unwrap();
    let base = emu.base_url();
    let owner = Checked::new(ecs_org(&base, MGMT, SignatureVersion::Acs3, false));
    let six = [
        Principal::folder("fd-Prod"),
        Principal::folder("fd-Web"),
        Principal::folder("fd-Dev"),
        Principal::member(PROD),
        Principal::member(WEB),
        Principal::member(DEV),
    ];
    let r = owner.share(&IMAGE.into(), &six).await.unwrap();
    assert_eq!(r.count(OutcomeKind::Granted), 6);
    // The service takes at most 5 targets a call: one create with 5, one associate with 1.
    assert_eq!(rs_calls(&emu, "CreateResourceShare"), 1);
    assert_eq!(rs_calls(&emu, "AssociateResourceShare"), 1);
    let refused = emu.calls().iter().filter(|c| c.error.is_some()).count();
    assert_eq!(refused, 0);
    let targets = emu.with_engine(|e| {
        e.resource_shares()
            .map(|s| s.targets.len())
            .collect::<Vec<_>>()
    });
    assert_eq!(targets, [6]);
}
