//! The exact wire request of every ECS action (both signature versions) and the parsing
//! of recorded-shape answers.

mod common;

use common::*;
use imageshare_alibaba::{AlibabaCredentials, CopyOptions, SignatureVersion, ECS_VERSION};
use imageshare_core::{
    ClientBuilder, CopyTarget, Encryption, Error, ImageId, ImageKind, ImageOrigin, ImageSharingExt,
    ImageState, Principal,
};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer};

const IMAGE: &str = "m-bp1g7004ksh0oeuc";

fn accounts(n: usize) -> Vec<Principal> {
    (0..n)
        .map(|i| Principal::account(format!("{}", 1_234_567_890u64 + i as u64)))
        .collect()
}

/// A recorded-shape DescribeImages answer (alibaba.md 1.3).
fn describe_images_body(
    alias: &str,
    product_code: &str,
    disks: serde_json::Value,
) -> serde_json::Value {
    json!({
        "RequestId": "C8B26B44-0189-443E-9816-D951F59623A9",
        "RegionId": "cn-hangzhou",
        "PageNumber": 1, "PageSize": 10, "TotalCount": 1,
        "Images": { "Image": [ {
            "ImageId": IMAGE,
            "ImageName": "app-base-2024",
            "ImageOwnerAlias": alias,
            "ImageOwnerId": 1234567890,
            "Status": "Available",
            "Size": 40,
            "IsCopied": false,
            "IsPublic": false,
            "IsSelfShared": "true",
            "IsSupportCloudinit": true,
            "Platform": "Ubuntu",
            "OSType": "linux",
            "Architecture": "x86_64",
            "ProductCode": product_code,
            "CreationTime": "2024-01-01T12:00:00Z",
            "DiskDeviceMappings": { "DiskDeviceMapping": disks },
            "Tags": { "Tag": [] }
        } ] }
    })
}

fn system_disk(encrypted: bool) -> serde_json::Value {
    json!({ "Device": "/dev/xvda", "Type": "system", "Size": "40", "SnapshotId": "s-bp1aaa", "Encrypted": encrypted })
}

#[tokio::test]
async fn image_sends_describe_images_with_every_status_and_maps_the_answer() {
    for sig in [SignatureVersion::Acs3, SignatureVersion::RpcV1] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/"))
            .respond_with(json(
                200,
                describe_images_body("self", "", json!([system_disk(false)])),
            ))
            .expect(1)
            .mount(&server)
            .await;
        let ecs = ecs(&server.uri(), sig, creds());
        let img = ecs.image(&IMAGE.into()).await.unwrap();
        assert_eq!(img.id.as_str(), IMAGE);
        assert_eq!(img.name, "app-base-2024");
        assert_eq!(img.owner, Some(Principal::account("1234567890")));
        assert_eq!(img.region.as_str(), REGION);
        assert_eq!(img.state, ImageState::Available);
        assert_eq!(img.origin, ImageOrigin::Custom);
        assert_eq!(img.encryption, Encryption::None);
        assert_eq!(img.kind, ImageKind::SystemDisk);
        assert_eq!(
            img.created_at.map(|t| t.to_string()).as_deref(),
            Some("2024-01-01T12:00:00Z")
        );

        let reqs = server.received_requests().await.unwrap();
        let expected = [
            ("RegionId", REGION),
            ("ImageId", IMAGE),
            (
                "Status",
                "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated",
            ),
            ("PageNumber", "1"),
            ("PageSize", "10"),
        ];
        match sig {
            SignatureVersion::Acs3 => {
                check_acs3(&reqs[0], "DescribeImages", ECS_VERSION, &expected, SECRET);
            }
            SignatureVersion::RpcV1 => {
                check_rpc(&reqs[0], "DescribeImages", ECS_VERSION, &expected, SECRET);
            }
        }
    }
}

#[tokio::test]
async fn image_origin_kind_and_encryption_come_from_alias_product_code_and_disks() {
    let server = MockServer::start().await;
    let data_disk = json!({ "Device": "/dev/xvdb", "Type": "data", "Size": 100, "SnapshotId": "s-2", "Encrypted": "true" });
    Mock::given(method("POST"))
        .respond_with(json(
            200,
            describe_images_body("self", "cmjj028279", json!([system_disk(false), data_disk])),
        ))
        .mount(&server)
        .await;
    let img = ecs(&server.uri(), SignatureVersion::Acs3, creds())
        .image(&IMAGE.into())
        .await
        .unwrap();
    assert_eq!(img.origin, ImageOrigin::MarketplaceDerived);
    assert_eq!(img.kind, ImageKind::WholeMachine);
    assert_eq!(img.encryption, Encryption::Unknown);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            200,
            describe_images_body("others", "", json!([system_disk(true)])),
        ))
        .mount(&server)
        .await;
    let img = ecs(&server.uri(), SignatureVersion::Acs3, creds())
        .image(&IMAGE.into())
        .await
        .unwrap();
    assert_eq!(img.origin, ImageOrigin::Received);
    assert_eq!(img.encryption, Encryption::Unknown);
    assert_eq!(img.kind, ImageKind::SystemDisk);
}

#[tokio::test]
async fn image_not_listed_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            200,
            json!({"RequestId": "r", "RegionId": REGION, "PageNumber": 1, "PageSize": 10,
                   "TotalCount": 0, "Images": {"Image": []}}),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let err = ecs(&server.uri(), SignatureVersion::Acs3, creds())
        .image(&"m-nothere".into())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { id, what: "image", .. } if id == "m-nothere"),
        "{err}"
    );
    // The second look asks for a community image of that id.
    let reqs = server.received_requests().await.unwrap();
    let expected = [
        ("RegionId", REGION),
        ("ImageId", "m-nothere"),
        ("ImageOwnerAlias", "others"),
        ("IsPublic", "true"),
        ("PageNumber", "1"),
        ("PageSize", "10"),
    ];
    check_acs3(&reqs[1], "DescribeImages", ECS_VERSION, &expected, SECRET);
}

#[tokio::test]
async fn a_community_image_of_another_account_is_found_as_public() {
    let server = MockServer::start().await;
    let empty = json!({"RequestId": "r", "RegionId": REGION, "PageNumber": 1, "PageSize": 10,
                       "TotalCount": 0, "Images": {"Image": []}});
    let mut community = describe_images_body("others", "", json!([system_disk(false)]));
    community["Images"]["Image"][0]["IsPublic"] = json!(true);
    Mock::given(method("POST"))
        .and(query_param("IsPublic", "true"))
        .respond_with(json(200, community))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(json(200, empty))
        .expect(1)
        .mount(&server)
        .await;
    let img = ecs(&server.uri(), SignatureVersion::RpcV1, creds())
        .image(&IMAGE.into())
        .await
        .unwrap();
    assert_eq!(img.origin, ImageOrigin::Public);
    assert_eq!(img.owner, Some(Principal::account("1234567890")));
}

#[tokio::test]
async fn share_and_unshare_send_add_and_remove_account_lists() {
    for sig in [SignatureVersion::Acs3, SignatureVersion::RpcV1] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(json(
                200,
                json!({"RequestId": "473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E"}),
            ))
            .expect(2)
            .mount(&server)
            .await;
        let ecs = ecs(&server.uri(), sig, creds());
        let to = accounts(3);
        // A duplicate is sent once and reported once.
        let mut with_dup = to.clone();
        with_dup.push(to[0].clone());
        let report = ecs.share(&IMAGE.into(), &with_dup).await.unwrap();
        assert_eq!(report.len(), 3);
        assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 3);
        assert_eq!(
            report.request_id(),
            Some("473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E"),
            "the report carries the request id of the call"
        );
        let report = ecs.unshare(&IMAGE.into(), &to[..2]).await.unwrap();
        assert_eq!(report.count(imageshare_core::OutcomeKind::Revoked), 2);
        assert_eq!(report.outcome(&to[1]).unwrap().label(), "revoked");

        let reqs = server.received_requests().await.unwrap();
        let add = [
            ("RegionId", REGION),
            ("ImageId", IMAGE),
            ("AddAccount.1", "1234567890"),
            ("AddAccount.2", "1234567891"),
            ("AddAccount.3", "1234567892"),
        ];
        let remove = [
            ("RegionId", REGION),
            ("ImageId", IMAGE),
            ("RemoveAccount.1", "1234567890"),
            ("RemoveAccount.2", "1234567891"),
        ];
        let check = match sig {
            SignatureVersion::Acs3 => check_acs3,
            SignatureVersion::RpcV1 => check_rpc,
        };
        let n1 = check(
            &reqs[0],
            "ModifyImageSharePermission",
            ECS_VERSION,
            &add,
            SECRET,
        );
        let n2 = check(
            &reqs[1],
            "ModifyImageSharePermission",
            ECS_VERSION,
            &remove,
            SECRET,
        );
        assert_ne!(n1, n2, "a fresh nonce per request");
    }
}

#[tokio::test]
async fn never_sends_more_than_ten_accounts_in_one_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(200, json!({"RequestId": "r"})))
        .expect(1)
        .mount(&server)
        .await;
    let ecs = ecs(&server.uri(), SignatureVersion::Acs3, creds());
    let err = ecs.share(&IMAGE.into(), &accounts(11)).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    assert!(err.to_string().contains("at most 10"), "{err}");
    let err = ecs.unshare(&IMAGE.into(), &accounts(11)).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    let err = ecs
        .share(&IMAGE.into(), &[Principal::project("org-abc")])
        .await
        .unwrap_err();
    assert_eq!(
        err.as_limit().map(|v| v.rule),
        Some(imageshare_core::LimitRule::PrincipalKind),
        "{err}"
    );
    assert!(ecs.share(&IMAGE.into(), &[]).await.is_err());
    // Exactly ten is fine.
    let report = ecs.share(&IMAGE.into(), &accounts(10)).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 10);
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1);
    let q = query(&reqs[0]);
    assert!(q.iter().any(|(k, _)| k == "AddAccount.10"));
    assert!(!q.iter().any(|(k, _)| k == "AddAccount.11"));
}

#[tokio::test]
async fn sharees_reads_every_page_of_describe_image_share_permission() {
    let server = MockServer::start().await;
    let page = |n: u64, ids: std::ops::Range<u64>| {
        let accounts: Vec<_> = ids
            .map(|i| json!({"AliyunId": format!("{}", 1_000_000_000u64 + i), "SharedTime": "2023-01-01T12:05:00Z"}))
            .collect();
        json!({
            "RequestId": format!("req-{n}"), "RegionId": REGION, "ImageId": IMAGE,
            "PageNumber": n, "PageSize": 100, "TotalCount": 150,
            "ShareGroups": {"ShareGroup": []},
            "Accounts": {"Account": accounts}
        })
    };
    Mock::given(method("POST"))
        .and(query_param("PageNumber", "1"))
        .respond_with(json(200, page(1, 0..100)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(query_param("PageNumber", "2"))
        .respond_with(json(200, page(2, 100..150)))
        .expect(1)
        .mount(&server)
        .await;
    let ecs = ecs(&server.uri(), SignatureVersion::Acs3, creds());
    let sharees = ecs.sharees(&IMAGE.into()).await.unwrap();
    assert_eq!(sharees.len(), 150);
    assert_eq!(sharees[0].principal, Principal::account("1000000000"));
    assert_eq!(sharees[149].principal, Principal::account("1000000149"));
    assert_eq!(
        sharees[3].shared_at.map(|t| t.to_string()).as_deref(),
        Some("2023-01-01T12:05:00Z")
    );
    let reqs = server.received_requests().await.unwrap();
    for (i, r) in reqs.iter().enumerate() {
        let n = (i + 1).to_string();
        check_acs3(
            r,
            "DescribeImageSharePermission",
            ECS_VERSION,
            &[
                ("RegionId", REGION),
                ("ImageId", IMAGE),
                ("PageNumber", &n),
                ("PageSize", "100"),
            ],
            SECRET,
        );
    }
}

#[tokio::test]
async fn shared_with_me_lists_others_not_public_all_pages() {
    let server = MockServer::start().await;
    let page = |n: u64, count: usize| {
        let images: Vec<_> = (0..count)
            .map(|i| {
                json!({"ImageId": format!("m-recv{n}x{i}"), "ImageOwnerAlias": "others",
                            "ImageOwnerId": 1_000_000_002u64, "Status": "Available",
                            "DiskDeviceMappings": {"DiskDeviceMapping": [system_disk(false)]}})
            })
            .collect();
        json!({"RequestId": "r", "RegionId": REGION, "PageNumber": n, "PageSize": 100,
               "TotalCount": 101, "Images": {"Image": images}})
    };
    Mock::given(header("x-acs-action", "DescribeImages"))
        .and(query_param("PageNumber", "1"))
        .respond_with(json(200, page(1, 100)))
        .mount(&server)
        .await;
    Mock::given(header("x-acs-action", "DescribeImages"))
        .and(query_param("PageNumber", "2"))
        .respond_with(json(200, page(2, 1)))
        .mount(&server)
        .await;
    let got = ecs(&server.uri(), SignatureVersion::Acs3, creds())
        .shared_with_me()
        .await
        .unwrap();
    assert_eq!(got.len(), 101);
    assert!(got.iter().all(|i| i.origin == ImageOrigin::Received));
    assert_eq!(got[0].owner, Some(Principal::account("1000000002")));
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    check_acs3(
        &reqs[1],
        "DescribeImages",
        ECS_VERSION,
        &[
            ("RegionId", REGION),
            ("ImageOwnerAlias", "others"),
            ("IsPublic", "false"),
            (
                "Status",
                "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated",
            ),
            ("PageNumber", "2"),
            ("PageSize", "100"),
        ],
        SECRET,
    );
}

#[tokio::test]
async fn copy_of_an_encrypted_image_sends_encrypted_and_the_kms_key() {
    let server = MockServer::start().await;
    Mock::given(header("x-acs-action", "DescribeImages"))
        .respond_with(json(
            200,
            describe_images_body("self", "", json!([system_disk(true)])),
        ))
        .mount(&server)
        .await;
    Mock::given(header("x-acs-action", "CopyImage"))
        .respond_with(json(
            200,
            json!({"RequestId": "r", "ImageId": "m-copy0001"}),
        ))
        .mount(&server)
        .await;
    let kms = imageshare_alibaba::EcsImageSharing::builder()
        .region(REGION)
        .endpoint(server.uri())
        .credentials(creds())
        .kms_key_id("0e478b7a-4262-4802-b8cb-00d3fb40****")
        .build()
        .unwrap();
    let id = kms
        .copy(
            &IMAGE.into(),
            CopyTarget::Region {
                region: "cn-shanghai".into(),
                name: Some("golden-copy".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(id, ImageId::from("m-copy0001"));
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    check_acs3(
        &reqs[1],
        "CopyImage",
        ECS_VERSION,
        &[
            ("RegionId", REGION),
            ("ImageId", IMAGE),
            ("DestinationRegionId", "cn-shanghai"),
            ("DestinationImageName", "golden-copy"),
            ("Encrypted", "true"),
            ("KMSKeyId", "0e478b7a-4262-4802-b8cb-00d3fb40****"),
        ],
        SECRET,
    );

    // An unencrypted own copy sends neither; copy_with sends what it is given.
    let server = MockServer::start().await;
    Mock::given(query_param("Action", "DescribeImages"))
        .respond_with(json(
            200,
            describe_images_body("others", "", json!([system_disk(false)])),
        ))
        .mount(&server)
        .await;
    Mock::given(query_param("Action", "CopyImage"))
        .respond_with(json(
            200,
            json!({"RequestId": "r", "ImageId": "m-copy0002"}),
        ))
        .mount(&server)
        .await;
    let ecs = ecs(&server.uri(), SignatureVersion::RpcV1, creds());
    ecs.copy(&IMAGE.into(), CopyTarget::OwnCopy { name: None })
        .await
        .unwrap();
    ecs.copy_with(
        &IMAGE.into(),
        CopyOptions {
            description: Some("for the team".into()),
            encrypted: Some(false),
            ..CopyOptions::default()
        },
    )
    .await
    .unwrap();
    let reqs = server.received_requests().await.unwrap();
    check_rpc(
        &reqs[1],
        "CopyImage",
        ECS_VERSION,
        &[
            ("RegionId", REGION),
            ("ImageId", IMAGE),
            ("DestinationRegionId", REGION),
        ],
        SECRET,
    );
    check_rpc(
        &reqs[2],
        "CopyImage",
        ECS_VERSION,
        &[
            ("RegionId", REGION),
            ("ImageId", IMAGE),
            ("DestinationRegionId", REGION),
            ("DestinationDescription", "for the team"),
            ("Encrypted", "false"),
        ],
        SECRET,
    );
    let err = ecs
        .copy(
            &IMAGE.into(),
            CopyTarget::Project {
                project: "org-x".into(),
                region: None,
                name: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
}

#[tokio::test]
async fn delete_sends_delete_image() {
    let server = MockServer::start().await;
    Mock::given(header("x-acs-action", "DeleteImage"))
        .respond_with(json(200, json!({"RequestId": "r"})))
        .expect(1)
        .mount(&server)
        .await;
    ecs(&server.uri(), SignatureVersion::Acs3, creds())
        .delete(&IMAGE.into())
        .await
        .unwrap();
    let reqs = server.received_requests().await.unwrap();
    check_acs3(
        &reqs[0],
        "DeleteImage",
        ECS_VERSION,
        &[("RegionId", REGION), ("ImageId", IMAGE)],
        SECRET,
    );
}

#[tokio::test]
async fn sts_token_is_sent_and_signed_in_both_versions() {
    let sts = AlibabaCredentials::sts(KEY_ID, SECRET, "CAIS-sts-token-value");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(200, json!({"RequestId": "r"})))
        .mount(&server)
        .await;
    ecs(&server.uri(), SignatureVersion::Acs3, sts.clone())
        .delete(&IMAGE.into())
        .await
        .unwrap();
    ecs(&server.uri(), SignatureVersion::RpcV1, sts)
        .delete(&IMAGE.into())
        .await
        .unwrap();
    let reqs = server.received_requests().await.unwrap();
    let h = headers(&reqs[0]);
    assert_eq!(
        common::header(&h, "x-acs-security-token"),
        Some("CAIS-sts-token-value")
    );
    assert_eq!(common::header(&h, "x-acs-accesskey-id"), Some(KEY_ID));
    let auth = common::header(&h, "authorization").unwrap();
    assert!(auth.contains("x-acs-security-token"), "{auth}");
    check_acs3(
        &reqs[0],
        "DeleteImage",
        ECS_VERSION,
        &[("RegionId", REGION), ("ImageId", IMAGE)],
        SECRET,
    );
    let q = query(&reqs[1]);
    assert!(q.contains(&("SecurityToken".into(), "CAIS-sts-token-value".into())));
    check_rpc(
        &reqs[1],
        "DeleteImage",
        ECS_VERSION,
        &[("RegionId", REGION), ("ImageId", IMAGE)],
        SECRET,
    );
}

/// `images`: `DescribeImages` with up to 100 comma-separated ids per call and `PageSize`
/// 100, every status; an id the answer does not hold is that id's `NotFound`.
#[tokio::test]
async fn images_sends_describe_images_with_100_comma_separated_ids_per_call() {
    let server = MockServer::start().await;
    // The answer holds IMAGE only, whatever was asked.
    Mock::given(method("POST"))
        .and(path("/"))
        .respond_with(json(
            200,
            describe_images_body("self", "", json!([system_disk(false)])),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let ecs = ecs(&server.uri(), SignatureVersion::Acs3, creds());
    assert_eq!(
        imageshare_core::ImageSharing::images_per_call(&ecs),
        imageshare_alibaba::ecs::DESCRIBE_IMAGES_MAX_IDS
    );
    // 150 distinct ids (IMAGE among them, and asked twice): two calls, 100 + 50 ids.
    let mut ids: Vec<ImageId> = (0..149)
        .map(|i| ImageId::from(format!("m-bpbatch{i:05}")))
        .collect();
    ids.insert(42, IMAGE.into());
    ids.push(IMAGE.into());
    let got = ecs.images(&ids).await.unwrap();
    assert_eq!(got.len(), 151);
    for (id, r) in ids.iter().zip(&got) {
        match r {
            Ok(img) => assert_eq!((img.id.as_str(), id.as_str()), (IMAGE, IMAGE)),
            Err(Error::NotFound { id: missing, .. }) => assert_eq!(missing, id.as_str()),
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(got.iter().filter(|r| r.is_ok()).count(), 2);

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    let all = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated";
    let first: Vec<&str> = ids[..100].iter().map(ImageId::as_str).collect();
    let second: Vec<&str> = ids[100..150].iter().map(ImageId::as_str).collect();
    for (req, batch) in reqs.iter().zip([first.join(","), second.join(",")]) {
        let expected = [
            ("RegionId", REGION),
            ("ImageId", batch.as_str()),
            ("Status", all),
            ("PageNumber", "1"),
            ("PageSize", "100"),
        ];
        check_acs3(req, "DescribeImages", ECS_VERSION, &expected, SECRET);
    }

    // An id with a comma would be read as two ids: refused, nothing sent.
    let e = ecs.images(&["m-a,m-b".into()]).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}
