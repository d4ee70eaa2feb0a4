//! The wire requests distribution adds on CVM and Lighthouse (issue #15 §1): the name
//! lookups that find a copy made before (CVM `DescribeImages` with `image-name` and
//! `image-type` = `PRIVATE_IMAGE`; Lighthouse `DescribeBlueprints` with `blueprint-name`
//! and `blueprint-type` = `PRIVATE`; all pages, exact names only), the copy's progress
//! (`SyncPercent`), the copy tables, and Lighthouse refusing a named copy before sending.

use std::time::Duration;

use imageshare_core::transport::RetryConfig;
use imageshare_core::{
    CallContext, ClientBuilder, CopyTarget, Error, ImageSharing, ImageSharingExt, ImageState,
    Region, Secret,
};
use imageshare_tencent::{
    Clock, ReceivedRequest, Tc3Verifier, TencentCredentials, TencentCvmImageSharing,
    TencentLighthouseImageSharing, CVM, CVM_COPY, LIGHTHOUSE, LIGHTHOUSE_COPY,
};
use wiremock::matchers::{body_string_contains, header, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRET_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const TS: u64 = 1_551_113_065;
const REGION: &str = "ap-shanghai";

fn retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 1,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(10),
        multiplier: 2.0,
        max_elapsed: None,
    }
}

fn cvm(server: &MockServer) -> TencentCvmImageSharing {
    TencentCvmImageSharing::builder()
        .endpoint(server.uri())
        .credentials(TencentCredentials::new(SECRET_ID, SECRET_KEY))
        .region(REGION)
        .clock(Clock::fixed(TS))
        .retry(retry())
        .build()
        .unwrap()
}

fn lighthouse(server: &MockServer) -> TencentLighthouseImageSharing {
    TencentLighthouseImageSharing::builder()
        .endpoint(server.uri())
        .credentials(TencentCredentials::new(SECRET_ID, SECRET_KEY))
        .region(REGION)
        .clock(Clock::fixed(TS))
        .retry(retry())
        .build()
        .unwrap()
}

/// Method, path, action, version, region, exact JSON body, and a TC3 signature that
/// verifies for `service`.
fn assert_wire(req: &Request, service: &str, version: &str, action: &str, body: &str) {
    let h = |name: &str| req.headers.get(name).unwrap().to_str().unwrap().to_owned();
    assert_eq!((req.method.as_str(), req.url.path()), ("POST", "/"));
    assert_eq!(h("x-tc-action"), action);
    assert_eq!(h("x-tc-version"), version);
    assert_eq!(h("x-tc-region"), REGION);
    assert_eq!(
        std::str::from_utf8(&req.body).unwrap(),
        body,
        "{action} body"
    );
    let received = ReceivedRequest::new("POST", "/", "", &req.body).headers(
        req.headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned())),
    );
    Tc3Verifier::new()
        .expected_service(service)
        .now(TS)
        .verify(&received, &Secret::new(SECRET_KEY))
        .unwrap_or_else(|e| panic!("{action}: signature does not verify: {e}"));
}

/// Answers `action` at `offset` with `{"Response":{"TotalCount":total,"<set>":[items]}}`.
async fn page(
    server: &MockServer,
    action: &str,
    offset: u64,
    set: &str,
    total: usize,
    items: &[String],
) {
    Mock::given(method("POST"))
        .and(header("x-tc-action", action))
        .and(body_string_contains(format!(r#""Offset":{offset},"#)))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(
                r#"{{"Response":{{"TotalCount":{total},"{set}":[{}],"RequestId":"p{offset}"}}}}"#,
                items.join(",")
            ),
            "application/json",
        ))
        .mount(server)
        .await;
}

#[tokio::test]
async fn cvm_images_named_filters_by_name_and_private_type_reads_all_pages_keeps_exact_names() {
    let server = MockServer::start().await;
    let name = "golden-img-src00001";
    let image = |id: &str, name: &str, state: &str, percent: &str| {
        format!(
            r#"{{"ImageId":"{id}","ImageType":"PRIVATE_IMAGE","ImageState":"{state}","ImageName":"{name}","ImageCreator":"3205597606","SyncPercent":{percent},"SnapshotSet":[]}}"#
        )
    };
    let mut first: Vec<String> = (0..99)
        .map(|i| {
            image(
                &format!("img-f{i:07}"),
                &format!("{name}-old{i}"),
                "NORMAL",
                "null",
            )
        })
        .collect();
    first.push(image("img-copy0001", name, "SYNCING", "45"));
    page(&server, "DescribeImages", 0, "ImageSet", 101, &first).await;
    page(
        &server,
        "DescribeImages",
        100,
        "ImageSet",
        101,
        &[image("img-copy0002", name, "CREATEFAILED", "null")],
    )
    .await;
    let c = cvm(&server);
    let got = c.images_named_in(&CallContext::new(), name).await.unwrap();
    let seen: Vec<_> = got
        .iter()
        .map(|i| (i.id.as_str(), i.state.clone(), i.progress))
        .collect();
    assert_eq!(
        seen,
        [
            ("img-copy0001", ImageState::Pending, Some(45)),
            ("img-copy0002", ImageState::Failed, None),
        ]
    );
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    for (req, offset) in reqs.iter().zip([0, 100]) {
        assert_wire(
            req,
            "cvm",
            "2017-03-12",
            "DescribeImages",
            &format!(
                r#"{{"Filters":[{{"Name":"image-name","Values":["{name}"]}},{{"Name":"image-type","Values":["PRIVATE_IMAGE"]}}],"Offset":{offset},"Limit":100}}"#
            ),
        );
    }
    // An empty name would match every image: refused before sending.
    let e = c
        .images_named_in(&CallContext::new(), "")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn lighthouse_images_named_filters_by_name_and_private_type_keeps_exact_names() {
    let server = MockServer::start().await;
    let name = "golden";
    let bp = |id: &str, name: &str, state: &str| {
        format!(
            r#"{{"BlueprintId":"{id}","BlueprintType":"PRIVATE","BlueprintState":"{state}","BlueprintName":"{name}","Description":null,"CreatedTime":"2021-02-02T09:16:16Z","ImageId":""}}"#
        )
    };
    page(
        &server,
        "DescribeBlueprints",
        0,
        "BlueprintSet",
        3,
        &[
            bp("lhbp-copy0001", name, "SYNCING"),
            bp("lhbp-other001", "golden-2", "NORMAL"),
            bp("lhbp-copy0002", name, "SYNCING_FAILED"),
        ],
    )
    .await;
    let l = lighthouse(&server);
    let got = l.images_named_in(&CallContext::new(), name).await.unwrap();
    let seen: Vec<_> = got
        .iter()
        .map(|i| (i.id.as_str(), i.state.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("lhbp-copy0001", ImageState::Pending),
            ("lhbp-copy0002", ImageState::Failed),
        ]
    );
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1, "3 of 3 on the first page: no second call");
    assert_wire(
        &reqs[0],
        "lighthouse",
        "2020-03-24",
        "DescribeBlueprints",
        r#"{"Offset":0,"Limit":100,"Filters":[{"Name":"blueprint-name","Values":["golden"]},{"Name":"blueprint-type","Values":["PRIVATE"]}]}"#,
    );
}

#[tokio::test]
async fn copy_tables_and_lighthouse_refuses_a_name_before_sending() {
    let server = MockServer::start().await;
    let c = cvm(&server);
    let l = lighthouse(&server);
    assert_eq!(c.copy_limits(), Some(&CVM_COPY));
    assert_eq!(
        (CVM_COPY.action, CVM_COPY.max_name_chars, CVM_COPY.border),
        ("SyncImages", 60, None)
    );
    assert_eq!(l.copy_limits(), Some(&LIGHTHOUSE_COPY));
    assert_eq!(
        (
            LIGHTHOUSE_COPY.action,
            LIGHTHOUSE_COPY.max_regions_per_call,
            LIGHTHOUSE_COPY.max_name_chars
        ),
        ("SyncBlueprint", 10, 0)
    );
    // The border: within mainland China and within the rest, not across.
    let check = |from: &str, to: &str| {
        LIGHTHOUSE_COPY.check_pair(LIGHTHOUSE, &Region::from(from), &Region::from(to))
    };
    assert!(check("ap-shanghai", "ap-guangzhou").is_ok());
    assert!(check("ap-singapore", "ap-tokyo").is_ok());
    assert!(check("ap-shanghai", "ap-hongkong").is_err());
    assert!(check("na-ashburn", "ap-beijing").is_err());
    assert!(CVM_COPY
        .check_pair(CVM, &"ap-shanghai".into(), &"ap-hongkong".into())
        .is_ok());
    let e = l
        .copy(
            &"lhbp-src00001".into(),
            CopyTarget::Region {
                region: "ap-guangzhou".into(),
                name: Some("renamed".into()),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    assert!(server.received_requests().await.unwrap().is_empty());
}
