//! wiremock tests: the exact wire request of every action (method, path, content type,
//! every form field in order, the Signature checked with the crate's own verifier, and the
//! published vectors of ucloud.md §4.5 end to end), the parsing of recorded-shape answers,
//! RetCode as a string, and the error envelopes (171, 153 then success, not found, 161).

use std::time::Duration;

use imageshare_core::credentials::StaticEnv;
use imageshare_core::transport::RetryConfig;
use imageshare_core::{
    CallContext, Checked, ClientBuilder, CopyTarget, Error, ImageId, ImageKind, ImageOrigin,
    ImageSharing, ImageSharingExt, ImageState, LimitRule, Principal, ProjectId, Secret,
    ShareOutcome,
};
use imageshare_ucloud::model::ImageType;
use imageshare_ucloud::signer::{self, Param};
use imageshare_ucloud::{UCloudCredentials, UCloudImageSharing, UCloudImageSharingBuilder, UHOST};
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The documented example key pair (docs.ucloud.cn/api/summary/signature).
const PUBLIC: &str = "ucloudsomeone@example.com1296235120854146120";
const PRIVATE: &str = "46f09bb9fab4f12dfc160dae12273d5332b5debe";
const UUID: &str = "3a1b2c3d-0000-4000-8000-00000000abcd";

fn creds() -> UCloudCredentials {
    UCloudCredentials::new(PUBLIC, PRIVATE)
}

fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        multiplier: 2.0,
        max_elapsed: None,
    }
}

/// An adapter builder for `server` that reads nothing from the process environment or the
/// home directory (every value not given would otherwise come from the UCloud chain).
fn builder(server: &MockServer) -> UCloudImageSharingBuilder {
    UCloudImageSharing::builder()
        .env(StaticEnv::new())
        .base_url(server.uri())
        .credentials(creds())
        .region("cn-bj2")
        .project_id("org-xxxxxx")
        .retry(fast_retry())
}

/// An answer with the request-id header.
fn answer(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(body)
        .insert_header("X-UCLOUD-REQUEST-UUID", UUID)
}

async fn on(server: &MockServer, action: &str, body: Value) {
    Mock::given(method("POST"))
        .and(body_string_contains(format!("Action={action}&")))
        .respond_with(answer(body))
        .mount(server)
        .await;
}

/// Checks method, path and headers, verifies the Signature with the crate's own verifier,
/// and returns the decoded form fields (in wire order).
fn form(req: &Request) -> Vec<(String, String)> {
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), "/");
    assert_eq!(req.url.query(), None, "everything travels in the body");
    assert_eq!(
        req.headers.get("content-type").unwrap().to_str().unwrap(),
        "application/x-www-form-urlencoded"
    );
    let body = String::from_utf8(req.body.clone()).unwrap();
    assert!(!body.contains(PRIVATE), "the private key never travels");
    let pairs = signer::form_decode(&body).unwrap();
    signer::verify(&pairs, &Secret::new(PRIVATE)).expect("signature verifies");
    assert_eq!(pairs.last().unwrap().0, "Signature");
    pairs
}

/// The form fields without the Signature, as `name=value` strings.
fn fields(req: &Request) -> Vec<String> {
    form(req)
        .into_iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

fn signature(req: &Request) -> String {
    form(req).pop().unwrap().1
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

/// The recorded answer shape of DescribeImage (uhost-api/describe_image.md example plus
/// the fields of ucloud.md §2).
fn describe_image_answer(id: &str) -> Value {
    json!({
        "Action": "DescribeImageResponse",
        "RetCode": 0,
        "TotalCount": 1,
        "ImageSet": [{
            "Zone": "cn-bj2-02",
            "ImageId": id,
            "ImageName": "my-image",
            "ImageType": "Custom",
            "OsType": "Linux",
            "OsName": "CentOS 7.9 64位",
            "State": "Available",
            "ImageSize": 20,
            "CreateTime": 1700000000,
            "Features": ["CloudInit", "NetEnhanced_Ultra"],
            "Tag": "Default",
            "DataSnapshotIds": [],
            "FuncType": "",
            "MinimalCPU": "",
            "MaintainEol": "2028/06/30",
            "SupportedGPUTypes": [],
            "SceneCategories": [],
            "ImageDescription": "golden"
        }]
    })
}

#[tokio::test]
async fn describe_image_matches_the_published_vector() {
    // ucloud.md §4.5: DescribeImage Region=cn-bj2 ProjectId=org-xxxxxx ImageType=Custom
    // Offset=0 Limit=20 -> 0e1d9daeb27f0a0ae73ba99470d699ae4b489418.
    let server = MockServer::start().await;
    on(
        &server,
        "DescribeImage",
        describe_image_answer("uimage-xxxx"),
    )
    .await;
    let a = builder(&server).build().unwrap();
    let page = a
        .describe_image_page(Some(&ImageType::Custom), 0, 20)
        .await
        .unwrap();
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        fields(&reqs[0]),
        vec![
            "Action=DescribeImage",
            "ImageType=Custom",
            "Limit=20",
            "Offset=0",
            "ProjectId=org-xxxxxx",
            &format!("PublicKey={PUBLIC}"),
            "Region=cn-bj2",
        ]
    );
    assert_eq!(
        signature(&reqs[0]),
        "0e1d9daeb27f0a0ae73ba99470d699ae4b489418"
    );
    // The exact body, as Go's url.Values.Encode escapes it.
    assert_eq!(
        String::from_utf8(reqs[0].body.clone()).unwrap(),
        "Action=DescribeImage&ImageType=Custom&Limit=20&Offset=0&ProjectId=org-xxxxxx&\
         PublicKey=ucloudsomeone%40example.com1296235120854146120&Region=cn-bj2&\
         Signature=0e1d9daeb27f0a0ae73ba99470d699ae4b489418"
    );
    assert_eq!(page.total_count, 1);
    let img = &page.image_set[0];
    assert_eq!(
        (img.image_id.as_str(), img.os_name.as_str(), img.image_size),
        ("uimage-xxxx", "CentOS 7.9 64位", 20)
    );
    assert_eq!(img.features, vec!["CloudInit", "NetEnhanced_Ultra"]);
    assert_eq!(img.maintain_eol, "2028/06/30");
}

#[tokio::test]
async fn copy_to_regions_matches_the_published_vector() {
    // ucloud.md §4.5: CopyCustomImage Region=cn-bj2 SourceImageId=uimage-xxxxxx
    // TargetProjectId=org-yyyyyy TargetRegionList=[cn-sh2, hk] (no ProjectId)
    // -> 776fe20a0f55dc84dd9131f10351f92020061336.
    let server = MockServer::start().await;
    on(
        &server,
        "CopyCustomImage",
        json!({"Action": "CopyCustomImageResponse", "RetCode": 0, "Infos": [
            {"TaskId": "task-1", "TargetImageId": "uimage-sh", "TargetRegion": "cn-sh2"},
            {"TaskId": "task-2", "TargetImageId": "uimage-hk", "TargetRegion": "hk"}]}),
    )
    .await;
    let a = UCloudImageSharing::builder()
        .env(StaticEnv::new())
        .base_url(server.uri())
        .credentials(creds())
        .region("cn-bj2")
        .build()
        .unwrap();
    let copies = a
        .copy_to_regions(
            &"uimage-xxxxxx".into(),
            &"org-yyyyyy".into(),
            &["cn-sh2".into(), "hk".into()],
            None,
        )
        .await
        .unwrap();
    let reqs = requests(&server).await;
    assert_eq!(
        fields(&reqs[0]),
        vec![
            "Action=CopyCustomImage",
            &format!("PublicKey={PUBLIC}"),
            "Region=cn-bj2",
            "SourceImageId=uimage-xxxxxx",
            "TargetProjectId=org-yyyyyy",
            "TargetRegionList.0=cn-sh2",
            "TargetRegionList.1=hk",
        ]
    );
    assert_eq!(
        signature(&reqs[0]),
        "776fe20a0f55dc84dd9131f10351f92020061336"
    );
    assert_eq!(copies.len(), 2);
    assert_eq!(copies[1].0.as_str(), "hk");
    assert_eq!(copies[1].1.image_id.as_str(), "uimage-hk");
    assert_eq!(copies[1].1.task_id.as_deref(), Some("task-2"));
}

#[tokio::test]
async fn image_lookup_wire_and_mapping() {
    let server = MockServer::start().await;
    on(
        &server,
        "DescribeImage",
        describe_image_answer("uimage-aaaa"),
    )
    .await;
    let a = builder(&server).zone("cn-bj2-02").build().unwrap();
    let img = a.image(&"uimage-aaaa".into()).await.unwrap();
    let reqs = requests(&server).await;
    assert_eq!(
        fields(&reqs[0]),
        vec![
            "Action=DescribeImage",
            "ImageId=uimage-aaaa",
            "ProjectId=org-xxxxxx",
            &format!("PublicKey={PUBLIC}"),
            "Region=cn-bj2",
            "Zone=cn-bj2-02",
        ]
    );
    assert_eq!(img.id.as_str(), "uimage-aaaa");
    assert_eq!(img.name, "my-image");
    assert_eq!(img.owner, Some(Principal::project("org-xxxxxx")));
    assert_eq!(img.origin, ImageOrigin::Custom);
    assert_eq!(img.kind, ImageKind::SystemDisk);
    assert_eq!(img.state, ImageState::Available);
    assert_eq!(
        img.created_at.map(|t| t.to_string()).as_deref(),
        Some("2023-11-14T22:13:20Z")
    );
}

#[tokio::test]
async fn an_empty_image_set_falls_back_to_shared_images_then_not_found() {
    let server = MockServer::start().await;
    on(
        &server,
        "DescribeImage",
        json!({"Action": "DescribeImageResponse", "RetCode": 0, "TotalCount": 0, "ImageSet": []}),
    )
    .await;
    on(
        &server,
        "DescribeSharedImage",
        json!({"Action": "DescribeSharedImageResponse", "RetCode": "0", "TotalCount": "0", "ImageSet": []}),
    )
    .await;
    let a = builder(&server).build().unwrap();
    let e = a.image(&"uimage-gone".into()).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { provider, what: "image", id, .. } if *provider == UHOST && id == "uimage-gone"),
        "{e:?}"
    );
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        fields(&reqs[1]),
        vec![
            "Action=DescribeSharedImage",
            "ImageId=uimage-gone",
            "Limit=1",
            "Offset=0",
            "ProjectId=org-xxxxxx",
            &format!("PublicKey={PUBLIC}"),
            "Region=cn-bj2",
        ]
    );
}

#[tokio::test]
async fn received_images_carry_their_owner_project() {
    let server = MockServer::start().await;
    let mut shared = describe_image_answer("uimage-recv");
    shared["Action"] = json!("DescribeSharedImageResponse");
    shared["ImageSet"][0]["OwnerProjectId"] = json!("org-owner1");
    shared["ImageSet"][0]["FuncType"] = json!("app");
    on(&server, "DescribeSharedImage", shared).await;
    let a = builder(&server).build().unwrap();
    let got = a.shared_with_me().await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].origin, ImageOrigin::Received);
    assert_eq!(got[0].owner, Some(Principal::project("org-owner1")));
    assert_eq!(got[0].kind, ImageKind::LightweightHost);
    let reqs = requests(&server).await;
    assert_eq!(
        fields(&reqs[0]),
        vec![
            "Action=DescribeSharedImage",
            "Limit=100",
            "Offset=0",
            "ProjectId=org-xxxxxx",
            &format!("PublicKey={PUBLIC}"),
            "Region=cn-bj2",
        ]
    );
}

#[tokio::test]
async fn share_and_cancel_send_every_project_and_report_per_project() {
    let server = MockServer::start().await;
    on(
        &server,
        "ShareCustomImage",
        json!({"Action": "ShareCustomImageResponse", "RetCode": 0, "ImageId": "uimage-a"}),
    )
    .await;
    on(
        &server,
        "CancelShareCustomImage",
        json!({"Action": "CancelShareCustomImageResponse", "RetCode": 0, "ImageId": "uimage-a"}),
    )
    .await;
    // Two projects in one call (the per-call maximum is ours to choose: configured to 2).
    let a = builder(&server).max_projects_per_call(2).build().unwrap();
    let to = [Principal::project("org-b1"), Principal::project("org-c2")];
    let report = a.share(&"uimage-a".into(), &to).await.unwrap();
    assert_eq!(report.len(), 2);
    assert!(report
        .iter()
        .all(|(_, o)| matches!(o, ShareOutcome::Granted)));
    assert_eq!(
        report.request_id(),
        Some(UUID),
        "the call's X-UCloud-Request-UUID"
    );
    let report = a.unshare(&"uimage-a".into(), &to[..1]).await.unwrap();
    assert!(matches!(
        report.outcome(&to[0]),
        Some(ShareOutcome::Revoked)
    ));
    let reqs = requests(&server).await;
    assert_eq!(
        fields(&reqs[0]),
        vec![
            "Action=ShareCustomImage",
            "ImageId=uimage-a",
            "ProjectId=org-xxxxxx",
            &format!("PublicKey={PUBLIC}"),
            "Region=cn-bj2",
            "TargetProjectIds.0=org-b1",
            "TargetProjectIds.1=org-c2",
        ]
    );
    assert_eq!(
        fields(&reqs[1]),
        vec![
            "Action=CancelShareCustomImage",
            "ImageId=uimage-a",
            "ProjectId=org-xxxxxx",
            &format!("PublicKey={PUBLIC}"),
            "Region=cn-bj2",
            "TargetProjectIds.0=org-b1",
        ]
    );

    // Account principals never reach the wire.
    let e = a
        .share(&"uimage-a".into(), &[Principal::account("1000001")])
        .await
        .unwrap_err();
    assert_eq!(e.as_limit().unwrap().rule, LimitRule::PrincipalKind);
    assert!(matches!(
        a.share(&"uimage-a".into(), &[]).await,
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn sharees_page_with_offset_and_limit() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=DescribeCustomImageShare&"))
        .and(body_string_contains("&Offset=0&"))
        .respond_with(answer(
            json!({"Action": "DescribeCustomImageShareResponse", "RetCode": 0,
            "TotalCount": 3, "ProjectSet": [
                {"ProjectId": "org-p1", "CreateTime": 1700000000},
                {"ProjectId": "org-p2", "CreateTime": "1700000001"}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=DescribeCustomImageShare&"))
        .and(body_string_contains("&Offset=2&"))
        .respond_with(answer(
            json!({"Action": "DescribeCustomImageShareResponse", "RetCode": 0,
            "TotalCount": 3, "ProjectSet": [{"ProjectId": "org-p3", "CreateTime": 0}]}),
        ))
        .mount(&server)
        .await;
    let a = builder(&server).page_size(2).build().unwrap();
    let sharees = a.sharees(&"uimage-a".into()).await.unwrap();
    let got: Vec<&str> = sharees.iter().map(|s| s.principal.id()).collect();
    assert_eq!(got, vec!["org-p1", "org-p2", "org-p3"]);
    assert_eq!(
        sharees[1].shared_at.map(|t| t.to_string()).as_deref(),
        Some("2023-11-14T22:13:21Z")
    );
    assert_eq!(sharees[2].shared_at, None);
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        fields(&reqs[1]),
        vec![
            "Action=DescribeCustomImageShare",
            "ImageId=uimage-a",
            "Limit=2",
            "Offset=2",
            "ProjectId=org-xxxxxx",
            &format!("PublicKey={PUBLIC}"),
            "Region=cn-bj2",
        ]
    );
}

#[tokio::test]
async fn list_images_pages_until_total_count() {
    let server = MockServer::start().await;
    for (offset, ids) in [("0", vec!["uimage-1", "uimage-2"]), ("2", vec!["uimage-3"])] {
        let set: Vec<Value> = ids
            .iter()
            .map(|i| json!({"ImageId": i, "ImageType": "Custom", "State": "Available"}))
            .collect();
        Mock::given(method("POST"))
            .and(body_string_contains(format!("&Offset={offset}&")))
            .respond_with(answer(
                json!({"Action": "DescribeImageResponse", "RetCode": 0,
                "TotalCount": 3, "ImageSet": set}),
            ))
            .mount(&server)
            .await;
    }
    let a = builder(&server).page_size(2).build().unwrap();
    let all = a.list_images(None).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, vec!["uimage-1", "uimage-2", "uimage-3"]);
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn copy_save_and_delete_wire() {
    let server = MockServer::start().await;
    on(
        &server,
        "CopyCustomImage",
        json!({"Action": "CopyCustomImageResponse", "RetCode": 0,
               "TargetImageId": "uimage-new", "TaskId": "task-9"}),
    )
    .await;
    on(
        &server,
        "SaveSharedImage",
        json!({"Action": "SaveSharedImageResponse", "RetCode": 0, "ImageId": "uimage-saved"}),
    )
    .await;
    on(
        &server,
        "TerminateCustomImage",
        json!({"Action": "TerminateCustomImageResponse", "RetCode": 0, "ImageId": "uimage-a"}),
    )
    .await;
    let a = builder(&server).build().unwrap();
    let copied = a
        .copy_to_project(
            &"uimage-a".into(),
            &ProjectId::from("org-target"),
            Some(&"hk".into()),
            Some("golden copy"),
        )
        .await
        .unwrap();
    assert_eq!(copied.image_id.as_str(), "uimage-new");
    assert_eq!(copied.task_id.as_deref(), Some("task-9"));
    // Same region as the client: no TargetRegion.
    let same = a
        .copy(
            &"uimage-a".into(),
            CopyTarget::Project {
                project: "org-target".into(),
                region: Some("cn-bj2".into()),
                name: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(same.as_str(), "uimage-new");
    let saved = a
        .save_shared_image(&"uimage-recv".into(), Some("mine"))
        .await
        .unwrap();
    assert_eq!(saved.as_str(), "uimage-saved");
    a.delete(&"uimage-a".into()).await.unwrap();

    let reqs = requests(&server).await;
    let pk = format!("PublicKey={PUBLIC}");
    assert_eq!(
        fields(&reqs[0]),
        vec![
            "Action=CopyCustomImage",
            "ProjectId=org-xxxxxx",
            &pk,
            "Region=cn-bj2",
            "SourceImageId=uimage-a",
            "TargetImageName=golden copy",
            "TargetProjectId=org-target",
            "TargetRegion=hk",
        ]
    );
    assert!(String::from_utf8(reqs[0].body.clone())
        .unwrap()
        .contains("TargetImageName=golden+copy"));
    assert_eq!(
        fields(&reqs[1]),
        vec![
            "Action=CopyCustomImage",
            "ProjectId=org-xxxxxx",
            &pk,
            "Region=cn-bj2",
            "SourceImageId=uimage-a",
            "TargetProjectId=org-target",
        ]
    );
    assert_eq!(
        fields(&reqs[2]),
        vec![
            "Action=SaveSharedImage",
            "ImageId=uimage-recv",
            "ImageName=mine",
            "ProjectId=org-xxxxxx",
            &pk,
            "Region=cn-bj2",
        ]
    );
    assert_eq!(
        fields(&reqs[3]),
        vec![
            "Action=TerminateCustomImage",
            "ImageId=uimage-a",
            "ProjectId=org-xxxxxx",
            &pk,
            "Region=cn-bj2",
        ]
    );
}

#[tokio::test]
async fn overridden_action_names_go_on_the_wire() {
    let server = MockServer::start().await;
    on(
        &server,
        "ShareUImage",
        json!({"Action": "ShareUImageResponse", "RetCode": 0, "ImageId": "uimage-a"}),
    )
    .await;
    let a = builder(&server)
        .share_action("ShareUImage")
        .build()
        .unwrap();
    a.share(&"uimage-a".into(), &[Principal::project("org-b1")])
        .await
        .unwrap();
    let reqs = requests(&server).await;
    assert_eq!(fields(&reqs[0])[0], "Action=ShareUImage");
    assert_eq!(a.actions().share, "ShareUImage");
}

#[tokio::test]
async fn retcode_as_a_string_and_not_found() {
    let server = MockServer::start().await;
    on(
        &server,
        "TerminateCustomImage",
        json!({"Action": "TerminateCustomImageResponse", "RetCode": "8956",
               "Message": "资源不存在或非自制镜像"}),
    )
    .await;
    on(
        &server,
        "DescribeImage",
        json!({"Action": "DescribeImageResponse", "RetCode": "0", "TotalCount": "1",
               "ImageSet": [{"ImageId": "uimage-s", "ImageType": "Base", "State": "Making",
                             "CreateTime": "1700000000"}]}),
    )
    .await;
    let a = builder(&server).build().unwrap();
    let e = a.delete(&"uimage-x".into()).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { id, .. } if id == "uimage-x"),
        "{e:?}"
    );
    let img = a.image(&"uimage-s".into()).await.unwrap();
    assert_eq!(
        (img.origin, img.state, img.owner),
        (ImageOrigin::Public, ImageState::Pending, None)
    );
    assert_eq!(requests(&server).await.len(), 2, "no retry of a not-found");
}

#[tokio::test]
async fn signature_error_is_an_auth_error_with_the_request_id() {
    let server = MockServer::start().await;
    // UCloud's FAQ shape: no Action member in a gateway refusal.
    on(
        &server,
        "DescribeImage",
        json!({"RetCode": 171, "Message": "Signature VerifyAC Error"}),
    )
    .await;
    let a = builder(&server).build().unwrap();
    match a.image(&"uimage-a".into()).await.unwrap_err() {
        Error::Auth {
            provider,
            code,
            message,
            request_id,
            ..
        } => {
            assert_eq!(provider, UHOST);
            assert_eq!(code, "171");
            assert_eq!(message, "Signature VerifyAC Error");
            assert_eq!(request_id.as_deref(), Some(UUID));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        requests(&server).await.len(),
        1,
        "auth errors are not retried"
    );
}

#[tokio::test]
async fn throttled_then_success_is_retried_for_reads_only() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer(
            json!({"Action": "DescribeImageResponse", "RetCode": 153, "Message": "API request throttled"}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=DescribeImage&"))
        .respond_with(answer(describe_image_answer("uimage-a")))
        .with_priority(2)
        .mount(&server)
        .await;
    let a = builder(&server).build().unwrap();
    let img = a.image(&"uimage-a".into()).await.unwrap();
    assert_eq!(img.id.as_str(), "uimage-a");
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].body, reqs[1].body, "the same signed request again");
    assert_eq!(
        a.client()
            .call_value(
                &CallContext::new(),
                "DescribeImage",
                vec![],
                imageshare_ucloud::Idempotency::Idempotent
            )
            .await
            .unwrap()
            .attempts,
        1
    );

    // A copy is not retried after a 153.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer(
            json!({"Action": "CopyCustomImageResponse", "RetCode": "153", "Message": "API request throttled"}),
        ))
        .mount(&server)
        .await;
    let a = builder(&server).build().unwrap();
    let e = a
        .copy_to_project(&"uimage-a".into(), &"org-b".into(), None, None)
        .await
        .unwrap_err();
    assert_eq!((e.code(), e.is_retryable()), (Some("153"), false));
    assert_eq!(e.request_id(), Some(UUID));
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn gateway_http_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(answer(
            json!({"Action": "TerminateCustomImageResponse", "RetCode": 0, "ImageId": "uimage-a"}),
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    let a = builder(&server).build().unwrap();
    a.delete(&"uimage-a".into()).await.unwrap();
    assert_eq!(requests(&server).await.len(), 2);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
        .mount(&server)
        .await;
    let a = builder(&server).build().unwrap();
    let e = a.delete(&"uimage-a".into()).await.unwrap_err();
    assert_eq!((e.code(), e.is_retryable()), (Some("HTTP500"), false));
    assert_eq!(requests(&server).await.len(), 1);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .mount(&server)
        .await;
    let a = builder(&server).build().unwrap();
    assert!(matches!(
        a.delete(&"uimage-a".into()).await,
        Err(Error::Decode { .. })
    ));
}

#[tokio::test]
async fn the_public_cloud_answer_161_is_unsupported() {
    let server = MockServer::start().await;
    on(
        &server,
        "ShareCustomImage",
        json!({"Action": "ShareCustomImageResponse", "RetCode": 161, "Message": "Action [ShareCustomImage] not exist"}),
    )
    .await;
    let a = Checked::new(builder(&server).build().unwrap());
    // Checked looks the image up first: serve it.
    on(&server, "DescribeImage", describe_image_answer("uimage-a")).await;
    on(
        &server,
        "DescribeCustomImageShare",
        json!({"Action": "DescribeCustomImageShareResponse", "RetCode": 0, "TotalCount": 0, "ProjectSet": []}),
    )
    .await;
    let e = a
        .share(&"uimage-a".into(), &[Principal::project("org-b1")])
        .await
        .unwrap_err();
    match e {
        Error::Unsupported {
            provider,
            operation,
            reason,
            ..
        } => {
            assert_eq!((provider, operation.as_str()), (UHOST, "ShareCustomImage"));
            assert!(reason.contains("CopyCustomImage"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn sts_token_is_sent_and_signed() {
    let server = MockServer::start().await;
    on(&server, "DescribeImage", describe_image_answer("uimage-a")).await;
    let a = builder(&server)
        .credentials(creds().with_security_token("some_stoken"))
        .build()
        .unwrap();
    a.image(&"uimage-a".into()).await.unwrap();
    let reqs = requests(&server).await;
    assert!(fields(&reqs[0]).contains(&"SecurityToken=some_stoken".to_owned()));
    assert!(!format!("{a:?}").contains("some_stoken"));
    assert!(!format!("{a:?}").contains(PRIVATE));
}

#[tokio::test]
async fn from_env_reads_ucloud_variables() {
    let server = MockServer::start().await;
    on(&server, "DescribeImage", describe_image_answer("uimage-a")).await;
    let env = StaticEnv::new()
        .with_var("UCLOUD_PUBLIC_KEY", PUBLIC)
        .with_var("UCLOUD_PRIVATE_KEY", PRIVATE)
        .with_var("UCLOUD_PROJECT_ID", "org-env")
        .with_var("UCLOUD_REGION", "hk")
        .with_var("UCLOUD_ZONE", "hk-02")
        .with_var("UCLOUD_API_BASE_URL", &server.uri());
    let a = UCloudImageSharing::from_env()
        .env(env.clone())
        .retry(fast_retry())
        .build()
        .unwrap();
    assert_eq!(a.region().as_str(), "hk");
    a.image(&"uimage-a".into()).await.unwrap();
    let reqs = requests(&server).await;
    assert_eq!(
        fields(&reqs[0]),
        vec![
            "Action=DescribeImage",
            "ImageId=uimage-a",
            "ProjectId=org-env",
            &format!("PublicKey={PUBLIC}"),
            "Region=hk",
            "Zone=hk-02",
        ]
    );
    // Builder values beat the environment.
    let b = UCloudImageSharing::from_env()
        .env(env)
        .region("cn-sh2")
        .project_id("org-explicit")
        .build()
        .unwrap();
    assert_eq!(b.region().as_str(), "cn-sh2");
    assert_eq!(b.project_id(), Some("org-explicit"));
    // Nothing anywhere: the chain's error.
    let e = UCloudImageSharing::from_env()
        .env(StaticEnv::new())
        .region("cn-bj2")
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::CredentialsNotFound { .. }), "{e:?}");
}

#[test]
fn the_request_is_signed_over_what_is_sent() {
    // signed_request is what the client posts: decoding it gives back the parameters.
    let a = UCloudImageSharing::builder()
        .env(StaticEnv::new())
        .credentials(creds())
        .region("cn-bj2")
        .build()
        .unwrap();
    let client = a.client();
    let req = client.signed_request(
        client.credentials().fixed().unwrap(),
        "DescribeImage",
        vec![("ImageId".to_owned(), "uimage-ä b".to_owned())] as Vec<Param>,
    );
    assert_eq!(req.url, "https://api.ucloud.cn/");
    let body = String::from_utf8(req.body.to_vec()).unwrap();
    assert!(body.contains("ImageId=uimage-%C3%A4+b"), "{body}");
    let pairs = signer::form_decode(&body).unwrap();
    signer::verify(&pairs, &Secret::new(PRIVATE)).unwrap();
}

#[tokio::test]
async fn checked_adapter_refuses_limits_without_sending() {
    let server = MockServer::start().await;
    let mut lightweight = describe_image_answer("uimage-l");
    lightweight["ImageSet"][0]["FuncType"] = json!("app");
    on(&server, "DescribeImage", lightweight).await;
    let a = Checked::new(builder(&server).build().unwrap());
    let e = a
        .share(&ImageId::from("uimage-l"), &[Principal::project("org-b1")])
        .await
        .unwrap_err();
    assert_eq!(e.as_limit().unwrap().rule, LimitRule::ImageKind);
    let reqs = requests(&server).await;
    assert!(reqs.iter().all(|r| fields(r)[0] == "Action=DescribeImage"));
}

/// An image set entry of a DescribeImage answer.
fn image_set(id: &str) -> Value {
    let mut one = describe_image_answer(id);
    one["ImageSet"][0].take()
}

#[tokio::test]
async fn images_are_looked_up_by_image_ids_in_batches_then_one_by_one() {
    let server = MockServer::start().await;
    // The batched DescribeImage echoes every asked id but the received and the unknown one.
    Mock::given(method("POST"))
        .and(body_string_contains("ImageIds.0="))
        .respond_with(|req: &Request| {
            let body = String::from_utf8(req.body.clone()).unwrap();
            let sets: Vec<Value> = signer::form_decode(&body)
                .unwrap()
                .into_iter()
                .filter(|(k, v)| k.starts_with("ImageIds.") && v.starts_with("uimage-own"))
                .map(|(_, v)| image_set(&v))
                .collect();
            answer(json!({"Action": "DescribeImageResponse", "RetCode": 0,
                          "TotalCount": sets.len(), "ImageSet": sets}))
        })
        .mount(&server)
        .await;
    let empty =
        json!({"Action": "DescribeImageResponse", "RetCode": 0, "TotalCount": 0, "ImageSet": []});
    for id in ["uimage-recv", "uimage-gone"] {
        Mock::given(method("POST"))
            .and(body_string_contains(format!(
                "Action=DescribeImage&ImageId={id}&"
            )))
            .respond_with(answer(empty.clone()))
            .mount(&server)
            .await;
    }
    let mut received = image_set("uimage-recv");
    received["OwnerProjectId"] = json!("org-other");
    Mock::given(method("POST"))
        .and(body_string_contains(
            "Action=DescribeSharedImage&ImageId=uimage-recv&",
        ))
        .respond_with(answer(
            json!({"Action": "DescribeSharedImageResponse", "RetCode": 0,
                                    "TotalCount": 1, "ImageSet": [received]}),
        ))
        .mount(&server)
        .await;
    on(
        &server,
        "DescribeSharedImage",
        json!({"Action": "DescribeSharedImageResponse", "RetCode": 0, "TotalCount": 0, "ImageSet": []}),
    )
    .await;

    let a = builder(&server).build().unwrap();
    assert_eq!(a.images_per_call(), 100);
    let mut ids: Vec<ImageId> = (0..150)
        .map(|i| ImageId::new(format!("uimage-own{i:03}")))
        .collect();
    ids.insert(1, "uimage-recv".into());
    ids.push("uimage-gone".into());
    ids.push("uimage-own000".into()); // asked twice, sent once
    let found = a.images(&ids).await.unwrap();
    assert_eq!(found.len(), ids.len());
    for (id, r) in ids.iter().zip(&found) {
        match id.as_str() {
            "uimage-gone" => assert!(
                matches!(r, Err(Error::NotFound { id: i, .. }) if i == "uimage-gone"),
                "{r:?}"
            ),
            "uimage-recv" => {
                let img = r.as_ref().unwrap();
                assert_eq!(img.origin, ImageOrigin::Received);
                assert_eq!(img.owner, Some(Principal::project("org-other")));
            }
            _ => {
                let img = r.as_ref().unwrap();
                assert_eq!(&img.id, id);
                assert_eq!(img.origin, ImageOrigin::Custom);
            }
        }
    }

    let reqs = requests(&server).await;
    // 152 distinct ids: batches of 100 and 52, then 2 x (DescribeImage + DescribeSharedImage).
    assert_eq!(
        reqs.len(),
        6,
        "{:?}",
        reqs.iter().map(fields).collect::<Vec<_>>()
    );
    for (req, n) in reqs[..2].iter().zip([100, 52]) {
        let f = fields(req);
        assert_eq!(f[0], "Action=DescribeImage");
        let asked: Vec<&String> = f.iter().filter(|x| x.starts_with("ImageIds.")).collect();
        assert_eq!(asked.len(), n);
        assert!(f.contains(&"ImageIds.0=uimage-own000".to_owned()) || n == 52);
        assert!(f.contains(&format!("Limit={n}")), "{f:?}");
        assert!(f.contains(&"Offset=0".to_owned()), "{f:?}");
        assert!(!f.iter().any(|x| x.starts_with("ImageId=")), "{f:?}");
    }
    // The first batch is the first 100 distinct ids in order.
    assert_eq!(
        fields(&reqs[0])
            .iter()
            .find(|x| x.starts_with("ImageIds.1="))
            .unwrap(),
        "ImageIds.1=uimage-recv"
    );
}
