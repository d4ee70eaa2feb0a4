//! wiremock tests: the exact wire request of every CVM and Lighthouse action the adapters
//! send, and of the CBS `DescribeSnapshots` the CVM adapter reads encryption with
//! (method, path, `X-TC-*` headers, an `Authorization` that verifies with the crate's own
//! `Tc3Verifier`, the exact JSON body), the parsing of recorded-shape responses
//! (tencent.md examples), and the error envelope (auth, not found, throttling retried then
//! success, 5xx, non-retryable codes).

mod common;

use common::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use imageshare_core::transport::RetryReason;
use imageshare_core::{
    CallContext, ClientBuilder, CopyTarget, Encryption, Error, ImageId, ImageKind, ImageOrigin,
    ImageSharing, ImageSharingExt, ImageState, Principal, ShareOutcome,
};
use imageshare_tencent::{
    Clock, Language, TencentCredentials, TencentCvmImageSharing, TencentLighthouseImageSharing, CVM,
};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const REGION: &str = "ap-guangzhou";

fn cvm(server: &MockServer) -> TencentCvmImageSharing {
    cvm_at(server, REGION)
}

fn lighthouse(server: &MockServer) -> TencentLighthouseImageSharing {
    lighthouse_at(server, REGION)
}

/// Answers `action` with `{"Response": <body>}`.
async fn answer(server: &MockServer, action: &str, body: &str) {
    Mock::given(method("POST"))
        .and(path("/"))
        .and(header("x-tc-action", action))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(format!(r#"{{"Response":{body}}}"#), "application/json"),
        )
        .mount(server)
        .await;
}

/// Answers `action` once, before the mocks of lower `priority`, with the error envelope
/// `{"Response":{"Error":{"Code":<code>,"Message":<message>},"RequestId":<request_id>}}`.
async fn fail_once(server: &MockServer, action: &str, priority: u8, error: [&str; 3]) {
    let [code, message, request_id] = error;
    Mock::given(header("x-tc-action", action))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(
                r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"{message}"}},"RequestId":"{request_id}"}}}}"#
            ),
            "application/json",
        ))
        .up_to_n_times(1)
        .with_priority(priority)
        .mount(server)
        .await;
}

/// Checks one recorded request sent in [`REGION`] (see [`assert_wire_at`]).
fn assert_wire(req: &Request, service: &str, version: &str, action: &str, body: &str) {
    assert_wire_at(req, REGION, service, version, action, body);
}

/// Every request the server received; each carried `Host: <the server's host:port>` (the
/// signed host).
async fn requests(server: &MockServer) -> Vec<Request> {
    let reqs = server.received_requests().await.unwrap();
    for r in &reqs {
        assert_eq!(h(r, "host"), server.address().to_string());
    }
    reqs
}

const IMAGE_EXAMPLE: &str = r#"{"TotalCount":1,"ImageSet":[{"ImageId":"img-qlzp4oea","OsName":"CentOS 7.4 64位","ImageType":"PRIVATE_IMAGE","CreatedTime":"2020-09-22T00:00:00+00:00","ImageName":"test-image","ImageDescription":"test-image","ImageSize":20,"Architecture":"x86_64","ImageState":"NORMAL","Platform":"CentOS","ImageCreator":"3205597606","ImageSource":"CREATE_IMAGE","SyncPercent":20,"IsSupportCloudinit":true,"SnapshotSet":[{"SnapshotId":"snap-gqa37j2p","DiskUsage":"SYSTEM_DISK","DiskSize":20}],"Tags":[{"Key":"myKey","Value":"myValue"}],"LicenseType":"TencentCloud"}],"RequestId":"5908394c-5b3f-42e0-a537-8410553890a5"}"#;

const BLUEPRINT_EXAMPLE: &str = r#"{"TotalCount":1,"BlueprintSet":[{"BlueprintId":"lhbp-xkeh87da","DisplayTitle":"","DisplayVersion":"","Description":null,"OsName":"Ubuntu Server 20.04 LTS 64bit","Platform":"UBUNTU","PlatformType":"LINUX_UNIX","BlueprintType":"PRIVATE","ImageUrl":"","RequiredSystemDiskSize":20,"BlueprintState":"NORMAL","CreatedTime":"2021-02-02T09:16:16Z","BlueprintName":"test-blueprint","SupportAutomationTools":true,"RequiredMemorySize":1,"ImageId":"","CommunityUrl":"","GuideUrl":"","SceneIdSet":[],"DockerVersion":null,"BlueprintShared":false,"Tags":[]}],"RequestId":"817c4e56-36fc-47ff-bfb6-c4462816972b"}"#;

// ------------------------------------------------------------------------------------- CVM

#[tokio::test]
async fn cvm_describe_images_lookup() {
    let server = MockServer::start().await;
    answer(&server, "DescribeImages", IMAGE_EXAMPLE).await;
    let img = cvm(&server).image(&"img-qlzp4oea".into()).await.unwrap();
    assert_eq!(img.id.as_str(), "img-qlzp4oea");
    assert_eq!(img.name, "test-image");
    assert_eq!(img.owner, Some(Principal::account("3205597606")));
    assert_eq!(img.origin, ImageOrigin::Custom);
    assert_eq!(img.state, ImageState::Available);
    assert_eq!(img.kind, ImageKind::SystemDisk);
    assert_eq!(img.region.as_str(), REGION);
    // Sent as `2020-09-22T00:00:00+00:00` (Tencent's own example): read as UTC.
    assert_eq!(
        img.created_at.map(|t| t.to_string()).as_deref(),
        Some("2020-09-22T00:00:00Z")
    );
    // CBS is not mocked here (404): the encryption lookup degrades to "not reported".
    assert_eq!(img.encryption, Encryption::NotReported);
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2, "DescribeImages, then CBS DescribeSnapshots");
    assert_wire(
        &reqs[0],
        "cvm",
        "2017-03-12",
        "DescribeImages",
        r#"{"ImageIds":["img-qlzp4oea"]}"#,
    );
    assert_eq!(h(&reqs[1], "x-tc-action"), "DescribeSnapshots");
}

/// The image lookup asks CBS `DescribeSnapshots` (service `cbs`, 2017-03-12, the
/// configured endpoint) about the image's `SnapshotSet` ids; an encrypted snapshot makes
/// the image encrypted, so `Checked` refuses the share before anything more is sent.
#[tokio::test]
async fn cvm_image_encryption_comes_from_cbs_describe_snapshots() {
    let server = MockServer::start().await;
    answer(&server, "DescribeImages", IMAGE_EXAMPLE).await;
    answer(
        &server,
        "DescribeSnapshots",
        r#"{"TotalCount":1,"SnapshotSet":[{"SnapshotId":"snap-gqa37j2p","DiskUsage":"SYSTEM_DISK","Encrypt":true}],"RequestId":"r"}"#,
    )
    .await;
    let img = cvm(&server).image(&"img-qlzp4oea".into()).await.unwrap();
    assert_eq!(img.encryption, Encryption::Unknown);
    assert!(img.encryption.is_encrypted());
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2);
    assert_wire(
        &reqs[1],
        "cbs",
        "2017-03-12",
        "DescribeSnapshots",
        r#"{"SnapshotIds":["snap-gqa37j2p"],"Limit":1}"#,
    );

    let checked = imageshare_core::Checked::new(cvm(&server));
    let err = checked
        .share(
            &"img-qlzp4oea".into(),
            &[Principal::account("100000000002")],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Limit(v) if v.rule == imageshare_core::LimitRule::EncryptedImage),
        "{err:?}"
    );
    let actions: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|r| h(r, "x-tc-action").to_owned())
        .collect();
    assert!(
        !actions.iter().any(|a| a == "ModifyImageSharePermission"),
        "{actions:?}"
    );
}

/// `Encrypt: false` on every snapshot is "not encrypted"; a CBS refusal (a key without CBS
/// read access) is "not reported", and the lookup still succeeds.
#[tokio::test]
async fn cvm_cbs_unencrypted_and_refused() {
    let server = MockServer::start().await;
    answer(&server, "DescribeImages", IMAGE_EXAMPLE).await;
    fail_once(
        &server,
        "DescribeSnapshots",
        1,
        [
            "AuthFailure.UnauthorizedOperation",
            "not authorized to cbs:DescribeSnapshots",
            "r1",
        ],
    )
    .await;
    answer(
        &server,
        "DescribeSnapshots",
        r#"{"TotalCount":1,"SnapshotSet":[{"SnapshotId":"snap-gqa37j2p","Encrypt":false}],"RequestId":"r"}"#,
    )
    .await;
    let c = cvm(&server);
    let refused = c.image(&"img-qlzp4oea".into()).await.unwrap();
    assert_eq!(refused.encryption, Encryption::NotReported);
    let plain = c.image(&"img-qlzp4oea".into()).await.unwrap();
    assert_eq!(plain.encryption, Encryption::None);
    assert_eq!(requests(&server).await.len(), 4);
}

#[tokio::test]
async fn cvm_image_absent_from_the_set_is_not_found() {
    let server = MockServer::start().await;
    answer(
        &server,
        "DescribeImages",
        r#"{"TotalCount":0,"ImageSet":[],"RequestId":"r"}"#,
    )
    .await;
    let err = cvm(&server)
        .image(&"img-nothere1".into())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { provider, what: "image", id, .. } if *provider == CVM && id == "img-nothere1"),
        "{err:?}"
    );
}

#[tokio::test]
async fn cvm_share_and_unshare() {
    let server = MockServer::start().await;
    answer(
        &server,
        "ModifyImageSharePermission",
        r#"{"RequestId":"71e69b56-32be-4412-ab45-49eded6a87be"}"#,
    )
    .await;
    let c = cvm(&server);
    let img = ImageId::from("img-6pb6lrmy");
    let to = [
        Principal::account("1038493875"),
        Principal::account("1038493876"),
    ];
    let report = c.share(&img, &to).await.unwrap();
    assert_eq!(report.count(imageshare_core::OutcomeKind::Granted), 2);
    assert_eq!(
        report.request_id(),
        Some("71e69b56-32be-4412-ab45-49eded6a87be"),
        "the report carries the request id of the call"
    );
    let report = c.unshare(&img, &to[..1]).await.unwrap();
    assert!(matches!(
        report.outcome(&to[0]),
        Some(ShareOutcome::Revoked)
    ));
    let reqs = requests(&server).await;
    assert_wire(
        &reqs[0],
        "cvm",
        "2017-03-12",
        "ModifyImageSharePermission",
        r#"{"ImageId":"img-6pb6lrmy","AccountIds":["1038493875","1038493876"],"Permission":"SHARE"}"#,
    );
    assert_wire(
        &reqs[1],
        "cvm",
        "2017-03-12",
        "ModifyImageSharePermission",
        r#"{"ImageId":"img-6pb6lrmy","AccountIds":["1038493875"],"Permission":"CANCEL"}"#,
    );
}

#[tokio::test]
async fn cvm_share_signature_matches_the_derived_vector() {
    // Vector A of tencent.md §4.5: same keys, timestamp, host and body as the adapter
    // sends when its endpoint is https://cvm.tencentcloudapi.com.
    let server = MockServer::start().await;
    answer(
        &server,
        "ModifyImageSharePermission",
        r#"{"RequestId":"r"}"#,
    )
    .await;
    let c = cvm(&server);
    let creds = c.client().credentials().get().await.unwrap();
    let signed = c
        .client()
        .sign_request(
            &creds.credentials,
            "ModifyImageSharePermission",
            br#"{"ImageId":"img-6pb6lrmy","AccountIds":["1038493875"],"Permission":"SHARE"}"#,
        )
        .unwrap();
    let official = TencentCvmImageSharing::builder()
        .credentials(TencentCredentials::new(SECRET_ID, SECRET_KEY))
        .region(REGION)
        .clock(Clock::fixed(TS))
        .build()
        .unwrap();
    assert_eq!(
        official.client().endpoint(),
        "https://cvm.tencentcloudapi.com/"
    );
    let official_creds = official.client().credentials().get().await.unwrap();
    let vector = official
        .client()
        .sign_request(
            &official_creds.credentials,
            "ModifyImageSharePermission",
            br#"{"ImageId":"img-6pb6lrmy","AccountIds":["1038493875"],"Permission":"SHARE"}"#,
        )
        .unwrap();
    let auth = |r: &imageshare_core::transport::HttpRequest| {
        r.headers["authorization"].to_str().unwrap().to_owned()
    };
    assert!(auth(&vector)
        .ends_with("Signature=49e5b018f6bb31774057f51bf347bfbddb71265e3ceebd24a7d04a3c35ef3d0f"));
    // Against another host the signature differs (the host is signed).
    assert_ne!(auth(&signed), auth(&vector));
}

#[tokio::test]
async fn cvm_sharees() {
    let server = MockServer::start().await;
    answer(
        &server,
        "DescribeImageSharePermission",
        r#"{"SharePermissionSet":[{"CreatedTime":"2018-06-10T11:02:50Z","AccountId":"101104350000"},{"CreatedTime":"2018-06-13T15:03:25Z","AccountId":"101104350001"}],"RequestId":"71e69b56-32be-4412-ab45-49eded6a87be"}"#,
    )
    .await;
    let sharees = cvm(&server).sharees(&"img-6pb6lrmy".into()).await.unwrap();
    assert_eq!(sharees.len(), 2);
    assert_eq!(sharees[0].principal, Principal::account("101104350000"));
    assert_eq!(
        sharees[1].shared_at.map(|t| t.to_string()).as_deref(),
        Some("2018-06-13T15:03:25Z")
    );
    assert_wire(
        &requests(&server).await[0],
        "cvm",
        "2017-03-12",
        "DescribeImageSharePermission",
        r#"{"ImageId":"img-6pb6lrmy"}"#,
    );
}

#[tokio::test]
async fn cvm_shared_with_me_reads_every_page() {
    let server = MockServer::start().await;
    // 150 images: a full page of 100, then 50.
    let image = |i: usize| {
        format!(
            r#"{{"ImageId":"img-s{i:07}","ImageType":"SHARED_IMAGE","ImageState":"NORMAL","ImageName":"s{i}","ImageCreator":"3205597606","SnapshotSet":[{{"SnapshotId":"snap-1","DiskUsage":"SYSTEM_DISK","DiskSize":50}}]}}"#
        )
    };
    for (offset, range) in [(0, 0..100), (100, 100..150)] {
        let set: Vec<String> = range.map(image).collect();
        Mock::given(method("POST"))
            .and(header("x-tc-action", "DescribeImages"))
            .and(wiremock::matchers::body_string_contains(format!(
                r#""Offset":{offset},"#
            )))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                format!(
                    r#"{{"Response":{{"TotalCount":150,"ImageSet":[{}],"RequestId":"p{offset}"}}}}"#,
                    set.join(",")
                ),
                "application/json",
            ))
            .mount(&server)
            .await;
    }
    let images = cvm(&server).shared_with_me().await.unwrap();
    assert_eq!(images.len(), 150);
    assert!(images
        .iter()
        .all(|i| i.origin == ImageOrigin::Received && i.owner.is_some()));
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2);
    assert_wire(
        &reqs[0],
        "cvm",
        "2017-03-12",
        "DescribeImages",
        r#"{"Filters":[{"Name":"image-type","Values":["SHARED_IMAGE"]}],"Offset":0,"Limit":100}"#,
    );
    assert_wire(
        &reqs[1],
        "cvm",
        "2017-03-12",
        "DescribeImages",
        r#"{"Filters":[{"Name":"image-type","Values":["SHARED_IMAGE"]}],"Offset":100,"Limit":100}"#,
    );
}

#[tokio::test]
async fn cvm_copy_and_delete() {
    let server = MockServer::start().await;
    answer(
        &server,
        "SyncImages",
        r#"{"ImageSet":[{"Region":"ap-shanghai","ImageId":"img-evhmf3fy"}],"RequestId":"71e69b56-32be-4412-ab45-49eded6a87be"}"#,
    )
    .await;
    answer(&server, "DeleteImages", r#"{"RequestId":"d"}"#).await;
    let c = cvm(&server);
    let new = c
        .copy(
            &"img-6pb6lrmy".into(),
            CopyTarget::Region {
                region: "ap-shanghai".into(),
                name: Some("golden-sh".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(new.as_str(), "img-evhmf3fy");
    c.delete(&"img-6pb6lrmy".into()).await.unwrap();
    let reqs = requests(&server).await;
    assert_wire(
        &reqs[0],
        "cvm",
        "2017-03-12",
        "SyncImages",
        r#"{"ImageIds":["img-6pb6lrmy"],"DestinationRegions":["ap-shanghai"],"ImageName":"golden-sh","ImageSetRequired":true}"#,
    );
    assert_wire(
        &reqs[1],
        "cvm",
        "2017-03-12",
        "DeleteImages",
        r#"{"ImageIds":["img-6pb6lrmy"]}"#,
    );
}

#[tokio::test]
async fn cvm_own_copy_syncs_into_the_client_region() {
    let server = MockServer::start().await;
    answer(
        &server,
        "SyncImages",
        r#"{"ImageSet":[{"Region":"ap-guangzhou","ImageId":"img-mine0001"}],"RequestId":"r"}"#,
    )
    .await;
    let new = cvm(&server)
        .copy(&"img-recv0001".into(), CopyTarget::OwnCopy { name: None })
        .await
        .unwrap();
    assert_eq!(new.as_str(), "img-mine0001");
    assert_wire(
        &requests(&server).await[0],
        "cvm",
        "2017-03-12",
        "SyncImages",
        r#"{"ImageIds":["img-recv0001"],"DestinationRegions":["ap-guangzhou"],"ImageSetRequired":true}"#,
    );
}

// ------------------------------------------------------------------------------ Lighthouse

#[tokio::test]
async fn lighthouse_describe_blueprints_lookup() {
    let server = MockServer::start().await;
    answer(&server, "DescribeBlueprints", BLUEPRINT_EXAMPLE).await;
    let img = lighthouse(&server)
        .image(&"lhbp-xkeh87da".into())
        .await
        .unwrap();
    assert_eq!(img.name, "test-blueprint");
    assert_eq!(img.origin, ImageOrigin::Custom);
    assert_eq!(img.kind, ImageKind::LightweightHost);
    assert_eq!(img.state, ImageState::Available);
    assert_eq!(img.owner, None);
    assert_wire(
        &requests(&server).await[0],
        "lighthouse",
        "2020-03-24",
        "DescribeBlueprints",
        r#"{"BlueprintIds":["lhbp-xkeh87da"]}"#,
    );
}

#[tokio::test]
async fn lighthouse_share_unshare_and_sharees() {
    let server = MockServer::start().await;
    answer(
        &server,
        "ShareBlueprintAcrossAccounts",
        r#"{"RequestId":"s"}"#,
    )
    .await;
    answer(
        &server,
        "CancelShareBlueprintAcrossAccounts",
        r#"{"RequestId":"c"}"#,
    )
    .await;
    answer(
        &server,
        "DescribeBlueprintsShareAcrossAccountInfos",
        r#"{"BlueprintShareAcrossAccountInfoSet":[{"BlueprintId":"lhbp-6jc6l8yb","AccountId":"700000164995","CreatedTime":"2023-09-13T00:29:12Z"}],"TotalCount":1,"RequestId":"d339efa9-f637-4ba9-a7c6-fb89ce67d76f"}"#,
    )
    .await;
    let l = lighthouse(&server);
    let bp = ImageId::from("lhbp-6jc6l8yb");
    let who = [Principal::account("700000164995")];
    assert_eq!(
        l.share(&bp, &who)
            .await
            .unwrap()
            .count(imageshare_core::OutcomeKind::Granted),
        1
    );
    let sharees = l.sharees(&bp).await.unwrap();
    assert_eq!(sharees[0].principal, who[0]);
    assert_eq!(
        sharees[0].shared_at.map(|t| t.to_string()).as_deref(),
        Some("2023-09-13T00:29:12Z")
    );
    assert_eq!(
        l.unshare(&bp, &who)
            .await
            .unwrap()
            .count(imageshare_core::OutcomeKind::Revoked),
        1
    );
    let reqs = requests(&server).await;
    assert_wire(
        &reqs[0],
        "lighthouse",
        "2020-03-24",
        "ShareBlueprintAcrossAccounts",
        r#"{"BlueprintId":"lhbp-6jc6l8yb","AccountIds":["700000164995"]}"#,
    );
    assert_wire(
        &reqs[1],
        "lighthouse",
        "2020-03-24",
        "DescribeBlueprintsShareAcrossAccountInfos",
        r#"{"BlueprintIds":["lhbp-6jc6l8yb"],"Offset":0,"Limit":100}"#,
    );
    assert_wire(
        &reqs[2],
        "lighthouse",
        "2020-03-24",
        "CancelShareBlueprintAcrossAccounts",
        r#"{"BlueprintId":"lhbp-6jc6l8yb","AccountIds":["700000164995"]}"#,
    );
}

#[tokio::test]
async fn lighthouse_shared_with_me_copy_delete() {
    let server = MockServer::start().await;
    answer(
        &server,
        "DescribeBlueprints",
        &BLUEPRINT_EXAMPLE.replace(
            r#""BlueprintType":"PRIVATE""#,
            r#""BlueprintType":"SHARED""#,
        ),
    )
    .await;
    answer(
        &server,
        "SyncBlueprint",
        r#"{"DestinationRegionBlueprintSet":[{"Region":"ap-shanghai","BlueprintId":"lhbp-new00001"}],"RequestId":"r"}"#,
    )
    .await;
    answer(&server, "DeleteBlueprints", r#"{"RequestId":"d"}"#).await;
    let l = lighthouse(&server);
    let shared = l.shared_with_me().await.unwrap();
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].origin, ImageOrigin::Received);
    let new = l
        .copy(
            &"lhbp-6jc6l8yb".into(),
            CopyTarget::Region {
                region: "ap-shanghai".into(),
                name: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(new.as_str(), "lhbp-new00001");
    l.delete(&"lhbp-6jc6l8yb".into()).await.unwrap();
    let reqs = requests(&server).await;
    assert_wire(
        &reqs[0],
        "lighthouse",
        "2020-03-24",
        "DescribeBlueprints",
        r#"{"Offset":0,"Limit":100,"Filters":[{"Name":"blueprint-type","Values":["SHARED"]}]}"#,
    );
    assert_wire(
        &reqs[1],
        "lighthouse",
        "2020-03-24",
        "SyncBlueprint",
        r#"{"BlueprintId":"lhbp-6jc6l8yb","DestinationRegions":["ap-shanghai"]}"#,
    );
    assert_wire(
        &reqs[2],
        "lighthouse",
        "2020-03-24",
        "DeleteBlueprints",
        r#"{"BlueprintIds":["lhbp-6jc6l8yb"]}"#,
    );
}

#[tokio::test]
async fn lighthouse_share_from_cvm() {
    let server = MockServer::start().await;
    answer(
        &server,
        "DescribeImagesToShare",
        r#"{"TotalCount":1,"ImageSet":[{"ImageId":"img-6pb6lrmy","ImageName":"golden","ImageDescription":"","ImageSize":50,"ImageSource":"CREATE_IMAGE","ImageClass":"SystemImage","ImageState":"NORMAL","IsSupportCloudinit":true,"Architecture":"x86_64","OsName":"TencentOS Server 3.1 (TK4)","Platform":"TencentOS","CreatedTime":"2024-01-01T00:00:00Z","IsShareable":true,"UnshareableReason":""}],"RequestId":"r"}"#,
    )
    .await;
    answer(
        &server,
        "ModifyImageSharePermission",
        r#"{"BlueprintId":"lhbp-su83x02a","RequestId":"4fe640d6-4912-4b43-9b3a-cc3bbab4cef2"}"#,
    )
    .await;
    let l = lighthouse(&server);
    let bp = l.share_from_cvm(&"img-6pb6lrmy".into()).await.unwrap();
    assert_eq!(bp.as_str(), "lhbp-su83x02a");
    let reqs = requests(&server).await;
    assert_wire(
        &reqs[0],
        "lighthouse",
        "2020-03-24",
        "DescribeImagesToShare",
        r#"{"ImageIds":["img-6pb6lrmy"],"Limit":100}"#,
    );
    assert_wire(
        &reqs[1],
        "lighthouse",
        "2020-03-24",
        "ModifyImageSharePermission",
        r#"{"ImageId":"img-6pb6lrmy","Permission":"SHARE"}"#,
    );
}

#[tokio::test]
async fn lighthouse_cancel_share_from_cvm_accepts_null_blueprint() {
    let server = MockServer::start().await;
    answer(
        &server,
        "ModifyImageSharePermission",
        r#"{"BlueprintId":null,"RequestId":"r"}"#,
    )
    .await;
    lighthouse(&server)
        .cancel_share_from_cvm(&"img-6pb6lrmy".into())
        .await
        .unwrap();
    assert_wire(
        &requests(&server).await[0],
        "lighthouse",
        "2020-03-24",
        "ModifyImageSharePermission",
        r#"{"ImageId":"img-6pb6lrmy","Permission":"CANCEL"}"#,
    );
}

#[tokio::test]
async fn lighthouse_ineligible_image_names_the_reason_and_sends_nothing_more() {
    let server = MockServer::start().await;
    answer(
        &server,
        "DescribeImagesToShare",
        r#"{"TotalCount":1,"ImageSet":[{"ImageId":"img-whole001","ImageClass":"InstanceImage","IsShareable":false,"UnshareableReason":"整机镜像不支持共享"}],"RequestId":"r"}"#,
    )
    .await;
    let err = lighthouse(&server)
        .share_from_cvm(&"img-whole001".into())
        .await
        .unwrap_err();
    match err {
        Error::Unsupported { reason, .. } => assert!(reason.contains("整机镜像不支持共享")),
        other => panic!("{other:?}"),
    }
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn lighthouse_sharees_where_the_action_is_missing_is_unsupported() {
    let server = MockServer::start().await;
    answer(
        &server,
        "DescribeBlueprintsShareAcrossAccountInfos",
        r#"{"Error":{"Code":"InvalidAction","Message":"The action does not exist."},"RequestId":"r"}"#,
    )
    .await;
    let err = lighthouse(&server)
        .sharees(&"lhbp-6jc6l8yb".into())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
}

// --------------------------------------------------------------------------- error envelope

#[tokio::test]
async fn auth_failure_envelope() {
    let server = MockServer::start().await;
    answer(
        &server,
        "DescribeImages",
        r#"{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated. Please ensure your signature is correct."},"RequestId":"ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"}"#,
    )
    .await;
    let err = cvm(&server)
        .image(&"img-6pb6lrmy".into())
        .await
        .unwrap_err();
    match &err {
        Error::Auth {
            provider,
            code,
            request_id,
            ..
        } => {
            assert_eq!(*provider, CVM);
            assert_eq!(code, "AuthFailure.SignatureFailure");
            assert_eq!(
                request_id.as_deref(),
                Some("ed93f3cb-f35e-473f-b9f3-0d451b8b79c6")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn not_found_envelopes() {
    let server = MockServer::start().await;
    answer(
        &server,
        "DeleteImages",
        r#"{"Error":{"Code":"InvalidImageId.NotFound","Message":"no such image"},"RequestId":"r"}"#,
    )
    .await;
    answer(
        &server,
        "DeleteBlueprints",
        r#"{"Error":{"Code":"ResourceNotFound.BlueprintIdNotFound","Message":"no such blueprint"},"RequestId":"r"}"#,
    )
    .await;
    let err = cvm(&server)
        .delete(&"img-gone0001".into())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { what: "image", id, .. } if id == "img-gone0001"),
        "{err:?}"
    );
    let err = lighthouse(&server)
        .delete(&"lhbp-gone0001".into())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { what: "blueprint", id, .. } if id == "lhbp-gone0001"),
        "{err:?}"
    );
}

#[tokio::test]
async fn throttling_is_retried_with_a_fresh_signature_then_succeeds() {
    let server = MockServer::start().await;
    fail_once(
        &server,
        "DescribeImageSharePermission",
        1,
        ["RequestLimitExceeded", "too fast", "t1"],
    )
    .await;
    answer(
        &server,
        "DescribeImageSharePermission",
        r#"{"SharePermissionSet":[],"RequestId":"ok"}"#,
    )
    .await;
    let tick = Arc::new(AtomicU64::new(TS));
    let t = tick.clone();
    let c = TencentCvmImageSharing::builder()
        .endpoint(server.uri())
        .credentials(TencentCredentials::new(SECRET_ID, SECRET_KEY))
        .region(REGION)
        .clock(Clock::from_fn(move || t.fetch_add(1, Ordering::SeqCst)))
        .retry(fast_retry())
        .build()
        .unwrap();
    assert!(c.sharees(&"img-6pb6lrmy".into()).await.unwrap().is_empty());
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2);
    assert_eq!(h(&reqs[0], "x-tc-timestamp"), TS.to_string());
    assert_eq!(h(&reqs[1], "x-tc-timestamp"), (TS + 1).to_string());
    assert_ne!(h(&reqs[0], "authorization"), h(&reqs[1], "authorization"));
    assert_eq!(reqs[0].body, reqs[1].body);
}

#[tokio::test]
async fn retried_answers_are_recorded_in_the_callers_context_with_their_reason() {
    let server = MockServer::start().await;
    for (priority, code) in [
        (1, "RequestLimitExceeded.UinLimitExceeded"),
        (2, "MutexOperation.TaskRunning"),
    ] {
        fail_once(
            &server,
            "DescribeImageSharePermission",
            priority,
            [code, "m", "r"],
        )
        .await;
    }
    answer(
        &server,
        "DescribeImageSharePermission",
        r#"{"SharePermissionSet":[],"RequestId":"ok"}"#,
    )
    .await;
    let (cx, log) = CallContext::new().collecting_retries();
    let sharees = cvm(&server)
        .sharees_in(&cx, &"img-6pb6lrmy".into())
        .await
        .unwrap();
    assert!(sharees.is_empty());
    let retried = log.log().retried();
    assert_eq!(
        (retried.throttled, retried.server_error),
        (1, 1),
        "{retried:?}"
    );
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn server_errors_are_retried_and_reported_with_status() {
    let server = MockServer::start().await;
    Mock::given(header("x-tc-action", "DescribeImages"))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .mount(&server)
        .await;
    let err = cvm(&server)
        .image(&"img-6pb6lrmy".into())
        .await
        .unwrap_err();
    match &err {
        Error::Api(a) => {
            assert_eq!(a.status, 502);
            assert_eq!(a.code, "HTTP.502");
            assert_eq!(a.retry, Some(RetryReason::ServerError));
        }
        other => panic!("{other:?}"),
    }
    // Three attempts (fast_retry), each re-signed.
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn business_errors_are_verbatim_and_not_retried() {
    let server = MockServer::start().await;
    answer(
        &server,
        "ModifyImageSharePermission",
        r#"{"Error":{"Code":"OverQuota","Message":"share quota exceeded"},"RequestId":"q1"}"#,
    )
    .await;
    let err = cvm(&server)
        .share(&"img-6pb6lrmy".into(), &[Principal::account("1038493875")])
        .await
        .unwrap_err();
    match &err {
        Error::Api(a) => {
            assert_eq!(a.code, "OverQuota");
            assert_eq!(a.message, "share quota exceeded");
            assert_eq!(a.action, "ModifyImageSharePermission");
            assert_eq!(a.request_id.as_deref(), Some("q1"));
            assert_eq!(a.retry, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn token_language_and_secrets() {
    let server = MockServer::start().await;
    answer(&server, "DescribeImages", IMAGE_EXAMPLE).await;
    let c = TencentCvmImageSharing::builder()
        .endpoint(server.uri())
        .credentials(TencentCredentials::new(SECRET_ID, SECRET_KEY).with_token("sts-token-123"))
        .region(REGION)
        .language(Language::EnUs)
        .clock(Clock::fixed(TS))
        .build()
        .unwrap();
    c.image(&"img-qlzp4oea".into()).await.unwrap();
    let reqs = requests(&server).await;
    assert_eq!(h(&reqs[0], "x-tc-token"), "sts-token-123");
    assert_eq!(h(&reqs[0], "x-tc-language"), "en-US");
    let dbg = format!("{c:?}");
    assert!(
        !dbg.contains(SECRET_KEY) && !dbg.contains("sts-token-123"),
        "{dbg}"
    );
    assert!(dbg.contains(SECRET_ID));
}

#[tokio::test]
async fn builder_validates_before_anything_is_sent() {
    let base = || {
        TencentCvmImageSharing::builder()
            .credentials(TencentCredentials::new(SECRET_ID, SECRET_KEY))
            .region(REGION)
    };
    for bad in ["cvm.tencentcloudapi.com", "ftp://x", "http://h/?a=b"] {
        assert!(
            matches!(
                base().endpoint(bad).build(),
                Err(Error::InvalidInput { .. })
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        base().region("ap guangzhou").build(),
        Err(Error::InvalidInput { .. })
    ));
    let intl = base()
        .site(imageshare_core::Site::International)
        .build()
        .unwrap();
    assert_eq!(
        intl.client().endpoint(),
        "https://cvm.intl.tencentcloudapi.com/"
    );
    let lh = TencentLighthouseImageSharing::builder()
        .credentials(TencentCredentials::new(SECRET_ID, SECRET_KEY))
        .region(REGION)
        .build()
        .unwrap();
    assert_eq!(
        lh.client().endpoint(),
        "https://lighthouse.tencentcloudapi.com/"
    );
    // Project principals are refused by the adapter itself.
    let err = base()
        .build()
        .unwrap()
        .share(&"img-6pb6lrmy".into(), &[Principal::project("org-a1b2c3")])
        .await
        .unwrap_err();
    assert_eq!(
        err.as_limit().map(|v| v.rule),
        Some(imageshare_core::LimitRule::PrincipalKind),
        "{err}"
    );
}

// ------------------------------------------------------------------- batched lookups (#15)

/// `images` on CVM: `DescribeImages` with at most 100 `ImageIds` per call (distinct) and
/// `Limit` = their number; an id the answer lacks is that id's `NotFound`.
#[tokio::test]
async fn cvm_images_batches_100_image_ids_per_describe_images() {
    let server = MockServer::start().await;
    answer(&server, "DescribeImages", IMAGE_EXAMPLE).await;
    let c = cvm(&server);
    assert_eq!(
        c.images_per_call(),
        imageshare_tencent::limits::CVM_DESCRIBE_IMAGES_MAX_IDS
    );
    let mut ids: Vec<ImageId> = (0..100)
        .map(|i| ImageId::from(format!("img-b{i:07}")))
        .collect();
    ids.insert(0, "img-qlzp4oea".into());
    ids.push("img-qlzp4oea".into());
    let got = c.images(&ids).await.unwrap();
    assert_eq!(got.len(), 102);
    assert_eq!(got[0].as_ref().unwrap().name, "test-image");
    assert_eq!(got[101].as_ref().unwrap().id.as_str(), "img-qlzp4oea");
    assert!(got[1..101]
        .iter()
        .all(|r| matches!(r, Err(Error::NotFound { what: "image", .. }))));
    let all = requests(&server).await;
    let of = |action: &str| -> Vec<Request> {
        all.iter()
            .filter(|r| h(r, "x-tc-action") == action)
            .cloned()
            .collect()
    };
    // One CBS DescribeSnapshots per batch for the snapshots of the images it found.
    let snapshots = of("DescribeSnapshots");
    assert_eq!(snapshots.len(), 2);
    for r in &snapshots {
        assert_wire(
            r,
            "cbs",
            "2017-03-12",
            "DescribeSnapshots",
            r#"{"SnapshotIds":["snap-gqa37j2p"],"Limit":1}"#,
        );
    }
    let reqs = of("DescribeImages");
    assert_eq!(reqs.len(), 2, "101 distinct ids: 100 + 1");
    let quoted = |ids: &[ImageId]| {
        ids.iter()
            .map(|i| format!("\"{i}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_wire(
        &reqs[0],
        "cvm",
        "2017-03-12",
        "DescribeImages",
        &format!(r#"{{"ImageIds":[{}],"Limit":100}}"#, quoted(&ids[..100])),
    );
    assert_wire(
        &reqs[1],
        "cvm",
        "2017-03-12",
        "DescribeImages",
        &format!(r#"{{"ImageIds":[{}],"Limit":1}}"#, quoted(&ids[100..101])),
    );
    // A malformed id: refused, nothing more sent.
    assert!(matches!(
        c.images(&["img-a&b".into()]).await,
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(requests(&server).await.len(), 4);
}

/// `images` on Lighthouse: `DescribeBlueprints` with the `BlueprintIds` (at most 100) and
/// `Limit` = their number; `sharees_of` of a blueprint just looked up lists it without the
/// second `DescribeBlueprints` that `sharees` sends on an empty answer.
#[tokio::test]
async fn lighthouse_images_batch_blueprint_ids_and_sharees_of_skips_the_lookup() {
    let server = MockServer::start().await;
    answer(&server, "DescribeBlueprints", BLUEPRINT_EXAMPLE).await;
    answer(
        &server,
        "DescribeBlueprintsShareAcrossAccountInfos",
        r#"{"BlueprintShareAcrossAccountInfoSet":[],"TotalCount":0,"RequestId":"e"}"#,
    )
    .await;
    let l = lighthouse(&server);
    assert_eq!(
        l.images_per_call(),
        imageshare_tencent::limits::LIGHTHOUSE_DESCRIBE_BLUEPRINTS_MAX_IDS
    );
    let ids: Vec<ImageId> = vec!["lhbp-xkeh87da".into(), "lhbp-nothere1".into()];
    let got = l.images(&ids).await.unwrap();
    let image = got[0].as_ref().unwrap().clone();
    assert_eq!(image.name, "test-blueprint");
    assert!(
        matches!(got[1], Err(Error::NotFound { .. })),
        "{:?}",
        got[1]
    );
    let cx = CallContext::new();
    assert!(l.sharees_of_in(&cx, &image).await.unwrap().is_empty());
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2, "one lookup, one listing");
    assert_wire(
        &reqs[0],
        "lighthouse",
        "2020-03-24",
        "DescribeBlueprints",
        r#"{"BlueprintIds":["lhbp-xkeh87da","lhbp-nothere1"],"Limit":2}"#,
    );
    assert_wire(
        &reqs[1],
        "lighthouse",
        "2020-03-24",
        "DescribeBlueprintsShareAcrossAccountInfos",
        r#"{"BlueprintIds":["lhbp-xkeh87da"],"Offset":0,"Limit":100}"#,
    );
    // The one-by-one listing looks the blueprint up on an empty answer.
    assert!(l.sharees(&image.id).await.unwrap().is_empty());
    let actions: Vec<String> = requests(&server).await[2..]
        .iter()
        .map(|r| h(r, "x-tc-action").to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "DescribeBlueprintsShareAcrossAccountInfos",
            "DescribeBlueprints"
        ]
    );
}
