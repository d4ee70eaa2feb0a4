//! The exact wire request of every Resource Sharing action the ECS adapter sends for
//! directory / folder / member principals (both signature versions), and of the
//! community-image calls (`IsPublic`), with what is refused before anything is sent.

mod common;

use common::*;
use imageshare_alibaba::resource_sharing::{share_name, RESOURCE_SHARING_VERSION};
use imageshare_alibaba::EcsImageSharing;
use imageshare_alibaba::{Publish, SignatureVersion, ECS_VERSION};
use imageshare_core::{
    CallContext, Checked, ClientBuilder, Error, ImageSharingExt, LimitRule, Principal, ShareOutcome,
};
use serde_json::json;
use wiremock::{Match, Mock, MockServer, Request};

/// An ECS adapter with organisation sharing on.
fn ecs_org(uri: &str, sig: SignatureVersion) -> EcsImageSharing {
    EcsImageSharing::builder()
        .region(REGION)
        .endpoint(uri)
        .credentials(creds())
        .signature_version(sig)
        .retry(fast_retry(3))
        .resource_sharing(true)
        .build()
        .unwrap()
}

const IMAGE: &str = "m-bp1g7004ksh0oeuc";
const SHARE: &str = "rs-6GRmdD3X1234";

/// Matches a request for `action`, whatever the signature version.
struct Action(&'static str);

impl Match for Action {
    fn matches(&self, req: &Request) -> bool {
        let h = headers(req);
        header(&h, "x-acs-action") == Some(self.0)
            || query(req).iter().any(|(k, v)| k == "Action" && v == self.0)
    }
}

fn action_of(req: &Request) -> String {
    let h = headers(req);
    header(&h, "x-acs-action")
        .map(str::to_owned)
        .or_else(|| {
            query(req)
                .into_iter()
                .find(|(k, _)| k == "Action")
                .map(|(_, v)| v)
        })
        .unwrap_or_default()
}

async fn answer(server: &MockServer, action: &'static str, body: serde_json::Value) {
    Mock::given(Action(action))
        .respond_with(json(200, body))
        .mount(server)
        .await;
}

fn shares(found: bool) -> serde_json::Value {
    let list = if found {
        json!([{
            "ResourceShareId": SHARE, "ResourceShareName": share_name(&IMAGE.into()),
            "ResourceShareOwner": "1234567890", "ResourceShareStatus": "Active",
            "AllowExternalTargets": false, "CreateTime": "2024-01-01T12:00:00Z"
        }])
    } else {
        json!([])
    };
    json!({"RequestId": "req-list", "NextToken": "", "ResourceShares": list})
}

fn associations(req: &str) -> serde_json::Value {
    json!({"RequestId": req, "ResourceShareAssociations": [{
        "ResourceShareId": SHARE, "EntityId": "fd-bVaRIG", "EntityType": "Folder",
        "AssociationType": "Target", "AssociationStatus": "Associating"
    }]})
}

/// The requests received, as (action, request).
async fn received(server: &MockServer) -> Vec<(String, Request)> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (action_of(&r), r))
        .collect()
}

const LIST_SHARES: [(&str, &str); 3] = [
    ("ResourceOwner", "Self"),
    ("ResourceShareName", "imageshare-m-bp1g7004ksh0oeuc"),
    ("MaxResults", "100"),
];

#[tokio::test]
async fn first_share_with_a_folder_creates_one_named_resource_share() {
    for sig in [SignatureVersion::Acs3, SignatureVersion::RpcV1] {
        let server = MockServer::start().await;
        answer(&server, "ListResourceShares", shares(false)).await;
        answer(
            &server,
            "CreateResourceShare",
            json!({"RequestId": "req-create", "ResourceShare": {"ResourceShareId": SHARE}}),
        )
        .await;
        let ecs = ecs(&server.uri(), sig, creds());
        let to = [
            Principal::folder("fd-bVaRIG"),
            Principal::directory("rd-3G6Z2a"),
        ];
        let report = ecs.share(&IMAGE.into(), &to).await.unwrap();
        assert!(matches!(
            report.outcome(&to[0]),
            Some(ShareOutcome::Granted)
        ));
        assert!(matches!(
            report.outcome(&to[1]),
            Some(ShareOutcome::Granted)
        ));
        assert_eq!(report.request_ids(), ["req-create"]);
        let got = received(&server).await;
        let actions: Vec<&str> = got.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            actions,
            ["ListResourceShares", "CreateResourceShare"],
            "{sig:?}"
        );
        let check = check_for(sig);
        check(
            &got[0].1,
            "ListResourceShares",
            RESOURCE_SHARING_VERSION,
            &LIST_SHARES,
            SECRET,
        );
        check(
            &got[1].1,
            "CreateResourceShare",
            RESOURCE_SHARING_VERSION,
            &[
                ("ResourceShareName", "imageshare-m-bp1g7004ksh0oeuc"),
                ("Resources.1.ResourceId", IMAGE),
                ("Resources.1.ResourceType", "Image"),
                ("Targets.1", "fd-bVaRIG"),
                ("Targets.2", "rd-3G6Z2a"),
            ],
            SECRET,
        );
    }
}

#[tokio::test]
async fn later_shares_associate_with_the_existing_share_and_unshare_disassociates() {
    for sig in [SignatureVersion::Acs3, SignatureVersion::RpcV1] {
        let server = MockServer::start().await;
        answer(&server, "ListResourceShares", shares(true)).await;
        answer(&server, "AssociateResourceShare", associations("req-assoc")).await;
        answer(
            &server,
            "DisassociateResourceShare",
            associations("req-dis"),
        )
        .await;
        answer(
            &server,
            "ListResourceShareAssociations",
            json!({"RequestId": "req-la", "NextToken": "", "ResourceShareAssociations": [
                {"ResourceShareId": SHARE, "EntityId": "1720505253001234",
                 "EntityType": "Account", "AssociationType": "Target",
                 "AssociationStatus": "Associated"},
                {"ResourceShareId": SHARE, "EntityId": "fd-gone", "EntityType": "Folder",
                 "AssociationType": "Target", "AssociationStatus": "Disassociated"}
            ]}),
        )
        .await;
        let ecs = ecs(&server.uri(), sig, creds());
        let member = Principal::member("1720505253001234");
        let r = ecs
            .share(&IMAGE.into(), std::slice::from_ref(&member))
            .await
            .unwrap();
        assert!(matches!(r.outcome(&member), Some(ShareOutcome::Granted)));
        // Only associated targets are sent (the service refuses the others with
        // `DisassociateInvalid`): the disassociated folder is reported not granted.
        let gone = Principal::folder("fd-gone");
        let r = ecs
            .resource_sharing()
            .unshare(
                &CallContext::new(),
                &IMAGE.into(),
                &[member.clone(), gone.clone()],
            )
            .await
            .unwrap();
        assert!(matches!(r.outcome(&member), Some(ShareOutcome::Revoked)));
        assert!(matches!(r.outcome(&gone), Some(ShareOutcome::NotGranted)));
        assert_eq!(r.request_ids(), ["req-dis"]);
        let got = received(&server).await;
        let actions: Vec<&str> = got.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            actions,
            [
                "ListResourceShares",
                "AssociateResourceShare",
                "ListResourceShares",
                "ListResourceShareAssociations",
                "DisassociateResourceShare"
            ]
        );
        let check = check_for(sig);
        let targets = [
            ("ResourceShareId", SHARE),
            ("Targets.1", "1720505253001234"),
        ];
        check(
            &got[1].1,
            "AssociateResourceShare",
            RESOURCE_SHARING_VERSION,
            &targets,
            SECRET,
        );
        check(
            &got[3].1,
            "ListResourceShareAssociations",
            RESOURCE_SHARING_VERSION,
            &[
                ("AssociationType", "Target"),
                ("ResourceShareIds.1", SHARE),
                ("MaxResults", "100"),
            ],
            SECRET,
        );
        check(
            &got[4].1,
            "DisassociateResourceShare",
            RESOURCE_SHARING_VERSION,
            &targets,
            SECRET,
        );

        // A re-run finds nothing associated and sends no disassociation.
        let before = received(&server).await.len();
        let r = ecs
            .resource_sharing()
            .unshare(
                &CallContext::new(),
                &IMAGE.into(),
                std::slice::from_ref(&gone),
            )
            .await
            .unwrap();
        assert!(matches!(r.outcome(&gone), Some(ShareOutcome::NotGranted)));
        let got = received(&server).await;
        let actions: Vec<&str> = got[before..].iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            actions,
            ["ListResourceShares", "ListResourceShareAssociations"]
        );
    }
}

#[tokio::test]
async fn sharees_list_accounts_and_organisation_targets() {
    let server = MockServer::start().await;
    answer(&server, "ListResourceShares", shares(true)).await;
    answer(
        &server,
        "ListResourceShareAssociations",
        json!({"RequestId": "req-la", "NextToken": "", "ResourceShareAssociations": [
            {"ResourceShareId": SHARE, "EntityId": "fd-bVaRIG", "EntityType": "Folder",
             "AssociationType": "Target", "AssociationStatus": "Associated",
             "CreateTime": "2024-01-02T00:00:00Z"},
            {"ResourceShareId": SHARE, "EntityId": "rd-3G6Z2a", "EntityType": "ResourceDirectory",
             "AssociationType": "Target", "AssociationStatus": "Associated"},
            {"ResourceShareId": SHARE, "EntityId": "1720505253001234", "EntityType": "Account",
             "AssociationType": "Target", "AssociationStatus": "Associated"},
            {"ResourceShareId": SHARE, "EntityId": "fd-gone", "EntityType": "Folder",
             "AssociationType": "Target", "AssociationStatus": "Disassociated"}
        ]}),
    )
    .await;
    answer(
        &server,
        "DescribeImageSharePermission",
        json!({"RequestId": "req-d", "ImageId": IMAGE, "PageNumber": 1, "PageSize": 100,
               "TotalCount": 1, "Accounts": {"Account": [
                   {"AliyunId": "1234567891", "SharedTime": "2024-01-01T00:00:00Z"}]}}),
    )
    .await;
    let ecs = ecs_org(&server.uri(), SignatureVersion::RpcV1);
    let who: Vec<Principal> = ecs
        .sharees(&IMAGE.into())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.principal)
        .collect();
    assert_eq!(
        who,
        [
            Principal::folder("fd-bVaRIG"),
            Principal::directory("rd-3G6Z2a"),
            Principal::member("1720505253001234"),
            Principal::account("1234567891"),
        ]
    );
    let got = received(&server).await;
    let la = got
        .iter()
        .find(|(a, _)| a == "ListResourceShareAssociations")
        .unwrap();
    check_rpc(
        &la.1,
        "ListResourceShareAssociations",
        RESOURCE_SHARING_VERSION,
        &[
            ("AssociationType", "Target"),
            ("ResourceShareIds.1", SHARE),
            ("MaxResults", "100"),
        ],
        SECRET,
    );
}

#[tokio::test]
async fn checked_batches_organisation_targets_by_five_and_refuses_bad_ids_before_sending() {
    let server = MockServer::start().await;
    answer(&server, "ListResourceShares", shares(true)).await;
    answer(&server, "AssociateResourceShare", associations("req-assoc")).await;
    answer(
        &server,
        "DescribeImages",
        json!({"RequestId": "r", "TotalCount": 1, "Images": {"Image": [{
            "ImageId": IMAGE, "ImageOwnerAlias": "self", "ImageOwnerId": 1234567890,
            "Status": "Available", "DiskDeviceMappings": {"DiskDeviceMapping": [
                {"Type": "system", "Encrypted": false}]}}]}}),
    )
    .await;
    answer(
        &server,
        "ListResourceShareAssociations",
        json!({"RequestId": "r", "NextToken": "", "ResourceShareAssociations": []}),
    )
    .await;
    answer(
        &server,
        "DescribeImageSharePermission",
        json!({"RequestId": "r", "TotalCount": 0, "Accounts": {"Account": []}}),
    )
    .await;
    // Without organisation sharing on, the checker refuses folders before sending.
    let plain = Checked::new(ecs(&server.uri(), SignatureVersion::RpcV1, creds()));
    match plain
        .share(&IMAGE.into(), &[Principal::folder("fd-f1")])
        .await
    {
        Err(Error::Limit(v)) => assert_eq!(v.rule, LimitRule::PrincipalKind),
        other => panic!("{other:?}"),
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    let ecs = Checked::new(ecs_org(&server.uri(), SignatureVersion::RpcV1));
    let seven: Vec<Principal> = (1..=7)
        .map(|i| Principal::folder(format!("fd-f{i}")))
        .collect();
    let report = ecs.share(&IMAGE.into(), &seven).await.unwrap();
    assert_eq!(
        report.count(imageshare_core::model::OutcomeKind::Granted),
        7
    );
    let got = received(&server).await;
    let assoc: Vec<usize> = got
        .iter()
        .filter(|(a, _)| a == "AssociateResourceShare")
        .map(|(_, r)| {
            query(r)
                .iter()
                .filter(|(k, _)| k.starts_with("Targets."))
                .count()
        })
        .collect();
    assert_eq!(assoc, [5, 2], "at most 5 targets per call");

    let before = server.received_requests().await.unwrap().len();
    match ecs
        .share(&IMAGE.into(), &[Principal::folder("rd-wrong")])
        .await
    {
        Err(Error::Limit(v)) => assert_eq!(v.rule, LimitRule::PrincipalForm),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        before,
        "nothing sent"
    );
}

fn describe(encrypted: bool, product_code: &str) -> serde_json::Value {
    json!({"RequestId": "r", "TotalCount": 1, "Images": {"Image": [{
        "ImageId": IMAGE, "ImageOwnerAlias": "self", "ImageOwnerId": 1234567890,
        "Status": "Available", "ProductCode": product_code,
        "DiskDeviceMappings": {"DiskDeviceMapping": [
            {"Type": "system", "Encrypted": encrypted}]}}]}})
}

#[tokio::test]
async fn publish_sends_is_public_true_after_checking_the_image_and_unpublish_false() {
    for sig in [SignatureVersion::Acs3, SignatureVersion::RpcV1] {
        let server = MockServer::start().await;
        answer(&server, "DescribeImages", describe(false, "")).await;
        answer(
            &server,
            "ModifyImageSharePermission",
            json!({"RequestId": "req-pub"}),
        )
        .await;
        let ecs = ecs(&server.uri(), sig, creds());
        let id = IMAGE.into();
        assert_eq!(
            ecs.publish(&id, Publish::CONFIRMED).await.unwrap(),
            "req-pub"
        );
        ecs.unpublish(&id).await.unwrap();
        let got = received(&server).await;
        let actions: Vec<&str> = got.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            actions,
            [
                "DescribeImages",
                "ModifyImageSharePermission",
                "ModifyImageSharePermission"
            ]
        );
        let check = check_for(sig);
        for (req, public) in [(&got[1].1, "true"), (&got[2].1, "false")] {
            check(
                req,
                "ModifyImageSharePermission",
                ECS_VERSION,
                &[
                    ("RegionId", REGION),
                    ("ImageId", IMAGE),
                    ("IsPublic", public),
                ],
                SECRET,
            );
        }
    }
}

#[tokio::test]
async fn publish_is_refused_before_sending_without_confirmation_or_for_what_the_cloud_refuses() {
    let server = MockServer::start().await;
    let ecs = ecs(&server.uri(), SignatureVersion::RpcV1, creds());
    let id = IMAGE.into();
    let unconfirmed = Publish {
        i_understand_everyone_in_the_region_can_use_it: false,
    };
    match ecs.publish(&id, unconfirmed).await {
        Err(Error::InvalidInput { message, .. }) => {
            assert!(message.contains("every Alibaba Cloud account"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    for (body, rule) in [
        (describe(true, ""), LimitRule::EncryptedImage),
        (describe(false, "cmjj000001"), LimitRule::MarketplaceDerived),
    ] {
        server.reset().await;
        answer(&server, "DescribeImages", body).await;
        match ecs.publish(&id, Publish::CONFIRMED).await {
            Err(Error::Limit(v)) => assert_eq!(v.rule, rule),
            other => panic!("{other:?}"),
        }
        let got = received(&server).await;
        assert_eq!(got.len(), 1, "only DescribeImages was sent");
        assert_eq!(got[0].0, "DescribeImages");
    }
}

#[tokio::test]
async fn accept_invitation_sends_the_invitation_id() {
    let server = MockServer::start().await;
    answer(
        &server,
        "AcceptResourceShareInvitation",
        json!({"RequestId": "req-acc"}),
    )
    .await;
    let ecs = ecs(&server.uri(), SignatureVersion::RpcV1, creds());
    let rs = ecs.resource_sharing();
    let id = rs
        .accept_invitation(&CallContext::new(), "ri-3tZbd8eK1234")
        .await
        .unwrap();
    assert_eq!(id, "req-acc");
    let got = received(&server).await;
    check_rpc(
        &got[0].1,
        "AcceptResourceShareInvitation",
        RESOURCE_SHARING_VERSION,
        &[("ResourceShareInvitationId", "ri-3tZbd8eK1234")],
        SECRET,
    );
    assert!(rs
        .accept_invitation(&CallContext::new(), "ri-1&x=1")
        .await
        .is_err());
    assert_eq!(received(&server).await.len(), 1);
}
