//! The wire requests distribution adds on ECS (issue #15 §1): the name lookup that finds a
//! copy made before (`DescribeImages` with `ImageName`, `ImageOwnerAlias=self` and every
//! status, all pages, exact names only), the copy's progress, and the copy table.

mod common;

use common::*;
use imageshare_alibaba::{SignatureVersion, ECS_COPY, ECS_VERSION};
use imageshare_core::{CallContext, CopyTarget, ImageSharing, ImageSharingExt, ImageState};
use serde_json::json;
use wiremock::matchers::{header, query_param};
use wiremock::{Mock, MockServer};

const ALL: &str = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated";

fn entry(id: &str, name: &str, status: &str, progress: &str) -> serde_json::Value {
    json!({"ImageId": id, "ImageName": name, "ImageOwnerAlias": "self",
           "ImageOwnerId": 1_234_567_890u64, "Status": status, "Progress": progress,
           "DiskDeviceMappings": {"DiskDeviceMapping": []}})
}

#[tokio::test]
async fn images_named_sends_the_name_self_and_every_status_reads_all_pages_keeps_exact_names() {
    let server = MockServer::start().await;
    let name = "golden-m-src0001";
    // Page 1: 100 images, one of them the copy (being made), the rest fuzzy matches.
    let mut first: Vec<_> = (0..99)
        .map(|i| {
            entry(
                &format!("m-other{i:03}"),
                &format!("{name}-v{i}"),
                "Available",
                "100%",
            )
        })
        .collect();
    first.push(entry("m-copy0001", name, "Creating", "45%"));
    Mock::given(header("x-acs-action", "DescribeImages"))
        .and(query_param("PageNumber", "1"))
        .respond_with(json(
            200,
            json!({"RequestId": "r", "RegionId": "cn-shanghai", "PageNumber": 1,
                   "PageSize": 100, "TotalCount": 101, "Images": {"Image": first}}),
        ))
        .mount(&server)
        .await;
    // Page 2: a failed copy of the same name.
    Mock::given(header("x-acs-action", "DescribeImages"))
        .and(query_param("PageNumber", "2"))
        .respond_with(json(
            200,
            json!({"RequestId": "r", "RegionId": "cn-shanghai", "PageNumber": 2,
                   "PageSize": 100, "TotalCount": 101,
                   "Images": {"Image": [entry("m-copy0002", name, "CreateFailed", "")]}}),
        ))
        .mount(&server)
        .await;
    let ecs = ecs(&server.uri(), SignatureVersion::Acs3, creds());
    let got = ecs
        .images_named_in(&CallContext::new(), name)
        .await
        .unwrap();
    let seen: Vec<_> = got
        .iter()
        .map(|i| (i.id.as_str(), i.state.clone(), i.progress))
        .collect();
    assert_eq!(
        seen,
        [
            ("m-copy0001", ImageState::Pending, Some(45)),
            ("m-copy0002", ImageState::Failed, None),
        ]
    );
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    for (req, page) in reqs.iter().zip(["1", "2"]) {
        check_acs3(
            req,
            "DescribeImages",
            ECS_VERSION,
            &[
                ("RegionId", REGION),
                ("ImageName", name),
                ("ImageOwnerAlias", "self"),
                ("Status", ALL),
                ("PageNumber", page),
                ("PageSize", "100"),
            ],
            SECRET,
        );
    }
    // An empty name would list every image: refused before sending.
    assert!(ecs.images_named_in(&CallContext::new(), " ").await.is_err());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_copy_table_and_a_named_region_copy() {
    let server = MockServer::start().await;
    Mock::given(query_param("Action", "DescribeImages"))
        .respond_with(json(
            200,
            json!({"RequestId": "r", "RegionId": REGION, "PageNumber": 1, "PageSize": 10,
                   "TotalCount": 1,
                   "Images": {"Image": [entry("m-src0001", "golden", "Available", "100")]}}),
        ))
        .mount(&server)
        .await;
    Mock::given(query_param("Action", "CopyImage"))
        .respond_with(json(
            200,
            json!({"RequestId": "r", "ImageId": "m-copy0001"}),
        ))
        .mount(&server)
        .await;
    let ecs = ecs(&server.uri(), SignatureVersion::RpcV1, creds());
    let limits = ecs.copy_limits().expect("ECS copies across regions");
    assert_eq!(*limits, ECS_COPY);
    assert_eq!(
        (
            limits.action,
            limits.max_regions_per_call,
            limits.max_name_chars
        ),
        ("CopyImage", 1, 128)
    );
    assert!(limits.border.is_none());
    let source = ecs.image(&"m-src0001".into()).await.unwrap();
    assert_eq!(source.progress, Some(100));
    let name = limits.copy_name(&source).unwrap();
    assert_eq!(name, "golden-m-src0001");
    let id = ecs
        .copy(
            &"m-src0001".into(),
            CopyTarget::Region {
                region: "cn-shanghai".into(),
                name: Some(name.clone()),
            },
        )
        .await
        .unwrap();
    assert_eq!(id.as_str(), "m-copy0001");
    let reqs = server.received_requests().await.unwrap();
    let copy = reqs.last().unwrap();
    check_rpc(
        copy,
        "CopyImage",
        ECS_VERSION,
        &[
            ("RegionId", REGION),
            ("ImageId", "m-src0001"),
            ("DestinationRegionId", "cn-shanghai"),
            ("DestinationImageName", &name),
        ],
        SECRET,
    );
}
