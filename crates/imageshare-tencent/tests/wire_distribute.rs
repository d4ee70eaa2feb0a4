//! The wire requests distribution adds on CVM and Lighthouse (issue #15 §1): the name
//! lookups that find a copy made before (CVM `DescribeImages` with `image-name` and
//! `image-type` = `PRIVATE_IMAGE`; Lighthouse `DescribeBlueprints` with `blueprint-name`
//! and `blueprint-type` = `PRIVATE`; all pages, exact names only), the copy's progress
//! (`SyncPercent`), the copy tables, and Lighthouse refusing a named copy before sending.

mod common;

use common::*;
use imageshare_core::{
    CallContext, CopyTarget, Error, ImageSharing, ImageSharingExt, ImageState, Region,
};
use imageshare_tencent::{
    TencentCvmImageSharing, TencentLighthouseImageSharing, CVM, CVM_COPY, LIGHTHOUSE,
    LIGHTHOUSE_COPY,
};
use wiremock::matchers::{body_string_contains, header, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const REGION: &str = "ap-shanghai";

fn cvm(server: &MockServer) -> TencentCvmImageSharing {
    cvm_at(server, REGION)
}

fn lighthouse(server: &MockServer) -> TencentLighthouseImageSharing {
    lighthouse_at(server, REGION)
}

/// Checks one recorded request sent in [`REGION`] (see [`assert_wire_at`]).
fn assert_wire(req: &Request, service: &str, version: &str, action: &str, body: &str) {
    assert_wire_at(req, REGION, service, version, action, body);
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

/// `copy_to_regions_in` on CVM: one `SyncImages` with every region in `DestinationRegions`
/// and `ImageSetRequired`, the copies' ids read per region from `ImageSet` (a region the
/// answer leaves out is that region's error, not the others').
#[tokio::test]
async fn cvm_copies_into_many_regions_in_one_sync_images() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-tc-action", "SyncImages"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"Response":{"ImageSet":[{"Region":"ap-tokyo","ImageId":"img-tokyo001"},{"Region":"ap-beijing","ImageId":"img-bj000001"}],"RequestId":"s1"}}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let c = cvm(&server);
    let regions = [
        Region::from("ap-beijing"),
        Region::from("ap-tokyo"),
        Region::from("ap-seoul"),
    ];
    let got = c
        .copy_to_regions_in(
            &CallContext::new(),
            &"img-src00001".into(),
            &regions,
            Some("golden-img-src00001"),
        )
        .await
        .unwrap();
    assert_eq!(got[0].as_ref().unwrap().as_str(), "img-bj000001");
    assert_eq!(got[1].as_ref().unwrap().as_str(), "img-tokyo001");
    let e = got[2].as_ref().unwrap_err();
    assert!(e.to_string().contains("ap-seoul"), "{e}");
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1, "one call for three regions");
    assert_wire(
        &reqs[0],
        "cvm",
        "2017-03-12",
        "SyncImages",
        r#"{"ImageIds":["img-src00001"],"DestinationRegions":["ap-beijing","ap-tokyo","ap-seoul"],"ImageName":"golden-img-src00001","ImageSetRequired":true}"#,
    );
}

/// `blueprint_from_cvm_in`: `DescribeBlueprints` of the private blueprints, the one whose
/// `ImageId` is the CVM image (how `migrate cvm-to-lighthouse` finds its earlier blueprint).
#[tokio::test]
async fn lighthouse_finds_the_blueprint_made_from_a_cvm_image() {
    let server = MockServer::start().await;
    let bp = |id: &str, image: &str| {
        format!(
            r#"{{"BlueprintId":"{id}","BlueprintType":"PRIVATE","BlueprintState":"NORMAL","BlueprintName":"b","Description":null,"CreatedTime":"2021-02-02T09:16:16Z","ImageId":"{image}"}}"#
        )
    };
    page(
        &server,
        "DescribeBlueprints",
        0,
        "BlueprintSet",
        2,
        &[bp("lhbp-other001", ""), bp("lhbp-fromcvm1", "img-6pb6lrmy")],
    )
    .await;
    let l = lighthouse(&server);
    let found = l
        .blueprint_from_cvm_in(&CallContext::new(), &"img-6pb6lrmy".into())
        .await
        .unwrap()
        .expect("the blueprint made from the image");
    assert_eq!(found.id.as_str(), "lhbp-fromcvm1");
    let none = l
        .blueprint_from_cvm_in(&CallContext::new(), &"img-00000000".into())
        .await
        .unwrap();
    assert!(none.is_none());
    let reqs = server.received_requests().await.unwrap();
    assert_wire(
        &reqs[0],
        "lighthouse",
        "2020-03-24",
        "DescribeBlueprints",
        r#"{"Offset":0,"Limit":100,"Filters":[{"Name":"blueprint-type","Values":["PRIVATE"]}]}"#,
    );
}
