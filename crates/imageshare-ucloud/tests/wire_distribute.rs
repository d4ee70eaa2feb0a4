//! The wire requests distribution adds on UHost (issue #15 §1): the name lookup that finds
//! a copy made before (`DescribeImage` with `ImageType=Custom`, all pages, the name matched
//! here since DescribeImage takes none), the copy's states, the copy table, and a named
//! copy into another region (`CopyCustomImage` with `TargetRegion` and `TargetImageName`).

use std::time::Duration;

use imageshare_core::credentials::StaticEnv;
use imageshare_core::transport::RetryConfig;
use imageshare_core::{
    CallContext, ClientBuilder, CopyTarget, Error, ImageSharing, ImageSharingExt, ImageState,
    Secret,
};
use imageshare_ucloud::signer;
use imageshare_ucloud::{UCloudCredentials, UCloudImageSharing, UHOST_COPY};
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PUBLIC: &str = "ucloudsomeone@example.com1296235120854146120";
const PRIVATE: &str = "46f09bb9fab4f12dfc160dae12273d5332b5debe";

fn adapter(server: &MockServer) -> UCloudImageSharing {
    UCloudImageSharing::builder()
        .env(StaticEnv::new())
        .base_url(server.uri())
        .credentials(UCloudCredentials::new(PUBLIC, PRIVATE))
        .region("cn-bj2")
        .project_id("org-xxxxxx")
        .page_size(2)
        .retry(RetryConfig {
            max_attempts: 1,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(10),
            multiplier: 2.0,
            max_elapsed: None,
        })
        .build()
        .unwrap()
}

/// The form fields of a request whose Signature verifies, without the Signature, as
/// `name=value`.
fn fields(req: &Request) -> Vec<String> {
    assert_eq!((req.method.as_str(), req.url.path()), ("POST", "/"));
    let body = String::from_utf8(req.body.clone()).unwrap();
    let pairs = signer::form_decode(&body).unwrap();
    signer::verify(&pairs, &Secret::new(PRIVATE)).expect("signature verifies");
    pairs
        .into_iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

fn image(id: &str, name: &str, state: &str) -> Value {
    json!({"ImageId": id, "ImageName": name, "ImageType": "Custom", "State": state,
           "CreateTime": 1_700_000_000u64})
}

#[tokio::test]
async fn images_named_lists_custom_images_on_every_page_and_keeps_exact_names() {
    let server = MockServer::start().await;
    let name = "golden-uimage-src1";
    let pages = [
        (
            "0",
            vec![
                image("uimage-a", "golden", "Available"),
                image("uimage-c1", name, "Copying"),
            ],
        ),
        (
            "2",
            vec![
                image("uimage-b", &format!("{name}-old"), "Available"),
                image("uimage-c2", name, "Making"),
            ],
        ),
        ("4", vec![image("uimage-c3", name, "Unavailable")]),
    ];
    for (offset, set) in pages {
        Mock::given(method("POST"))
            .and(body_string_contains("Action=DescribeImage&"))
            .and(body_string_contains(format!("&Offset={offset}&")))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"Action": "DescribeImageResponse", "RetCode": 0, "TotalCount": 5,
                       "ImageSet": set}),
            ))
            .mount(&server)
            .await;
    }
    let a = adapter(&server);
    let got = a.images_named_in(&CallContext::new(), name).await.unwrap();
    let seen: Vec<_> = got
        .iter()
        .map(|i| (i.id.as_str(), i.state.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("uimage-c1", ImageState::Pending),
            ("uimage-c2", ImageState::Pending),
            ("uimage-c3", ImageState::Unavailable),
        ]
    );
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 3);
    let pk = format!("PublicKey={PUBLIC}");
    for (req, offset) in reqs.iter().zip(["0", "2", "4"]) {
        assert_eq!(
            fields(req),
            vec![
                "Action=DescribeImage".to_owned(),
                "ImageType=Custom".to_owned(),
                "Limit=2".to_owned(),
                format!("Offset={offset}"),
                "ProjectId=org-xxxxxx".to_owned(),
                pk.clone(),
                "Region=cn-bj2".to_owned(),
            ]
        );
    }
    let e = a
        .images_named_in(&CallContext::new(), "")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn the_copy_table_and_a_named_copy_into_another_region() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=CopyCustomImage&"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"Action": "CopyCustomImageResponse", "RetCode": 0,
                   "TargetImageId": "uimage-copy", "TaskId": "task-1"})),
        )
        .mount(&server)
        .await;
    let a = adapter(&server);
    assert_eq!(a.copy_limits(), Some(&UHOST_COPY));
    assert_eq!(
        (
            UHOST_COPY.action,
            UHOST_COPY.max_regions_per_call,
            UHOST_COPY.max_name_chars
        ),
        ("CopyCustomImage", 1, 63)
    );
    let id = a
        .copy(
            &"uimage-src1".into(),
            CopyTarget::Region {
                region: "hk".into(),
                name: Some("golden-uimage-src1".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(id.as_str(), "uimage-copy");
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(
        fields(&reqs[0]),
        vec![
            "Action=CopyCustomImage".to_owned(),
            "ProjectId=org-xxxxxx".to_owned(),
            format!("PublicKey={PUBLIC}"),
            "Region=cn-bj2".to_owned(),
            "SourceImageId=uimage-src1".to_owned(),
            "TargetImageName=golden-uimage-src1".to_owned(),
            "TargetProjectId=org-xxxxxx".to_owned(),
            "TargetRegion=hk".to_owned(),
        ]
    );
}
