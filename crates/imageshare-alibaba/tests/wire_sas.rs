//! The exact wire request of every Simple Application Server action (both signature
//! versions) and the parsing of recorded-shape answers.

mod common;

use common::*;
use imageshare_alibaba::{SignatureVersion, SAS_VERSION};
use imageshare_core::{
    CopyTarget, Encryption, Error, ImageId, ImageKind, ImageOrigin, ImageSharingExt, ImageState,
    Principal,
};
use serde_json::json;
use wiremock::matchers::{method, query_param};
use wiremock::{Mock, MockServer};

const IMAGE: &str = "m-sas0a1b2c3d4";

fn check(sig: SignatureVersion) -> WireCheck {
    check_for(sig)
}

/// A recorded-shape ListCustomImages answer (alibaba.md 3.5): counts as strings, as the
/// SDK model types them.
fn custom_images(ids: &[&str], owner: u64) -> serde_json::Value {
    let images: Vec<_> = ids
        .iter()
        .map(|id| {
            json!({"ImageId": id, "Name": "web", "Status": "1", "RegionId": REGION,
                   "OsType": "Linux", "UserId": owner, "InShare": false, "InShareUser": true,
                   "CreationTime": "2024-01-01T00:00:00Z", "Tags": [], "CreateInstances": []})
        })
        .collect();
    json!({"RequestId": "r", "PageNumber": "1", "PageSize": "10",
           "TotalCount": ids.len().to_string(), "CustomImages": images})
}

#[tokio::test]
async fn share_unshare_and_delete_send_account_lists() {
    for sig in [SignatureVersion::Acs3, SignatureVersion::RpcV1] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(json(
                200,
                json!({"RequestId": "20758A-585D-4A41-A9B2-28DA8F4F534F"}),
            ))
            .expect(3)
            .mount(&server)
            .await;
        let sas = sas(&server.uri(), sig, creds());
        let to = [
            Principal::account("1234567890123456"),
            Principal::account("1234567890123457"),
        ];
        let report = sas.share(&IMAGE.into(), &to).await.unwrap();
        assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 2);
        let report = sas.unshare(&IMAGE.into(), &to[1..]).await.unwrap();
        assert_eq!(report.outcome(&to[1]).unwrap().label(), "revoked");
        sas.delete(&IMAGE.into()).await.unwrap();
        let reqs = server.received_requests().await.unwrap();
        check(sig)(
            &reqs[0],
            "AddCustomImageShareAccount",
            SAS_VERSION,
            &[
                ("RegionId", REGION),
                ("ImageId", IMAGE),
                ("Account.1", "1234567890123456"),
                ("Account.2", "1234567890123457"),
            ],
            SECRET,
        );
        check(sig)(
            &reqs[1],
            "RemoveCustomImageShareAccount",
            SAS_VERSION,
            &[
                ("RegionId", REGION),
                ("ImageId", IMAGE),
                ("Account.1", "1234567890123457"),
            ],
            SECRET,
        );
        check(sig)(
            &reqs[2],
            "DeleteCustomImage",
            SAS_VERSION,
            &[("RegionId", REGION), ("ImageId", IMAGE)],
            SECRET,
        );
    }
}

#[tokio::test]
async fn more_than_ten_accounts_are_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(200, json!({"RequestId": "r"})))
        .expect(0)
        .mount(&server)
        .await;
    let sas = sas(&server.uri(), SignatureVersion::Acs3, creds());
    let many: Vec<_> = (0..11)
        .map(|i| Principal::account(format!("12345678901234{i:02}")))
        .collect();
    let err = sas.share(&IMAGE.into(), &many).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
}

#[tokio::test]
async fn sharees_reads_every_page_of_list_custom_image_share_accounts() {
    for sig in [SignatureVersion::Acs3, SignatureVersion::RpcV1] {
        let server = MockServer::start().await;
        let page = |n: u64, ids: std::ops::Range<u64>| {
            let users: Vec<_> = ids
                .map(|i| json!({"UserId": 1_234_567_890_123_000u64 + i, "SharedTime": "2024-01-01T00:00:00Z"}))
                .collect();
            json!({"RequestId": "r", "PageNumber": n, "PageSize": 50, "TotalCount": 60,
                   "ImageShareUsers": users})
        };
        Mock::given(query_param("PageNumber", "1"))
            .respond_with(json(200, page(1, 0..50)))
            .mount(&server)
            .await;
        Mock::given(query_param("PageNumber", "2"))
            .respond_with(json(200, page(2, 50..60)))
            .mount(&server)
            .await;
        let sas = sas(&server.uri(), sig, creds());
        let sharees = sas.sharees(&IMAGE.into()).await.unwrap();
        assert_eq!(sharees.len(), 60);
        assert_eq!(
            sharees[59].principal,
            Principal::account("1234567890123059")
        );
        assert_eq!(
            sharees[0].shared_at.map(|t| t.to_string()).as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
        let reqs = server.received_requests().await.unwrap();
        assert_eq!(reqs.len(), 2);
        check(sig)(
            &reqs[1],
            "ListCustomImageShareAccounts",
            SAS_VERSION,
            &[
                ("RegionId", REGION),
                ("ImageId", IMAGE),
                ("PageNumber", "2"),
                ("PageSize", "50"),
            ],
            SECRET,
        );
    }
}

#[tokio::test]
async fn image_looks_in_own_images_then_shared_ones() {
    let server = MockServer::start().await;
    Mock::given(query_param("Share", "false"))
        .respond_with(json(200, custom_images(&[], 0)))
        .mount(&server)
        .await;
    Mock::given(query_param("Share", "true"))
        .respond_with(json(200, custom_images(&[IMAGE], 1_000_000_000_000_002)))
        .mount(&server)
        .await;
    let sas = sas(&server.uri(), SignatureVersion::Acs3, creds());
    let img = sas.image(&IMAGE.into()).await.unwrap();
    assert_eq!(img.origin, ImageOrigin::Received);
    assert_eq!(img.owner, Some(Principal::account("1000000000000002")));
    assert_eq!(img.kind, ImageKind::LightweightHost);
    assert_eq!(img.encryption, Encryption::NotReported);
    assert_eq!(img.state, ImageState::Available);
    let reqs = server.received_requests().await.unwrap();
    let ids = format!("[\"{IMAGE}\"]");
    for (r, share) in reqs.iter().zip(["false", "true"]) {
        check_acs3(
            r,
            "ListCustomImages",
            SAS_VERSION,
            &[
                ("RegionId", REGION),
                ("ImageIds", &ids),
                ("Share", share),
                ("PageNumber", "1"),
                ("PageSize", "10"),
            ],
            SECRET,
        );
    }

    // An own image is found by the first call.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(200, custom_images(&[IMAGE], 1_000_000_000_000_001)))
        .expect(1)
        .mount(&server)
        .await;
    let img = sas_for(&server).image(&IMAGE.into()).await.unwrap();
    assert_eq!(img.origin, ImageOrigin::Custom);

    // Nowhere: not found.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(200, custom_images(&[], 0)))
        .expect(2)
        .mount(&server)
        .await;
    let err = sas_for(&server).image(&IMAGE.into()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

fn sas_for(server: &MockServer) -> imageshare_alibaba::SasImageSharing {
    sas(&server.uri(), SignatureVersion::RpcV1, creds())
}

#[tokio::test]
async fn shared_with_me_lists_share_true_all_pages() {
    let server = MockServer::start().await;
    let ids: Vec<String> = (0..100).map(|i| format!("m-recv{i:03}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut first = custom_images(&refs, 1_000_000_000_000_002);
    first["TotalCount"] = json!(101);
    let mut second = custom_images(&["m-recv100"], 1_000_000_000_000_002);
    second["TotalCount"] = json!("101");
    Mock::given(query_param("PageNumber", "1"))
        .respond_with(json(200, first))
        .mount(&server)
        .await;
    Mock::given(query_param("PageNumber", "2"))
        .respond_with(json(200, second))
        .mount(&server)
        .await;
    let got = sas_for(&server).shared_with_me().await.unwrap();
    assert_eq!(got.len(), 101);
    assert!(got.iter().all(|i| i.origin == ImageOrigin::Received));
    let reqs = server.received_requests().await.unwrap();
    check_rpc(
        &reqs[0],
        "ListCustomImages",
        SAS_VERSION,
        &[
            ("RegionId", REGION),
            ("Share", "true"),
            ("PageNumber", "1"),
            ("PageSize", "100"),
        ],
        SECRET,
    );
}

#[tokio::test]
async fn share_to_ecs_and_back_send_modify_image_share_status() {
    for sig in [SignatureVersion::Acs3, SignatureVersion::RpcV1] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(json(
                200,
                json!({"RequestId": "473469C7-AA6F-4DC5-B3DB-A3DC0DE3C"}),
            ))
            .expect(2)
            .mount(&server)
            .await;
        let sas = sas(&server.uri(), sig, creds());
        let ecs_id = sas.share_to_ecs(&IMAGE.into()).await.unwrap();
        assert_eq!(ecs_id, ImageId::from(IMAGE));
        sas.unshare_from_ecs(&IMAGE.into()).await.unwrap();
        let reqs = server.received_requests().await.unwrap();
        for (r, op) in reqs.iter().zip(["Share", "UnShare"]) {
            check(sig)(
                r,
                "ModifyImageShareStatus",
                SAS_VERSION,
                &[("RegionId", REGION), ("ImageId", IMAGE), ("Operation", op)],
                SECRET,
            );
        }
    }
}

#[tokio::test]
async fn copy_is_unsupported_without_a_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(200, json!({"RequestId": "r"})))
        .expect(0)
        .mount(&server)
        .await;
    let err = sas_for(&server)
        .copy(&IMAGE.into(), CopyTarget::OwnCopy { name: None })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
}
