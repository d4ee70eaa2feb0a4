//! The UCloud front-end on the wire, with hand-signed requests: gateway RetCodes (160,
//! 161, 170, 171, 172, 292, 230), envelopes and request ids, DescribeImage's exact shape and
//! paging, form / JSON / GET encodings, CopyCustomImage single and batch, and the sharing
//! actions with their rule codes.

mod ucloud_support;

use imageshare_core::ImageKind;
use imageshare_emulator::{Emulator, ImageSeed};
use imageshare_ucloud::signer::{flatten, sign_request, Param};
use imageshare_ucloud::SharingActions;
use serde_json::{json, Value};
use ucloud_support::*;

async fn start() -> Emulator {
    Emulator::start(world()).await.expect("emulator")
}

const SHARE: &str = SharingActions::SHARE;
const CANCEL: &str = SharingActions::CANCEL_SHARE;
const DESCRIBE_SHARE: &str = SharingActions::DESCRIBE_SHARE;
const DESCRIBE_SHARED: &str = SharingActions::DESCRIBE_SHARED;
const SAVE: &str = SharingActions::SAVE_SHARED;

#[tokio::test]
async fn gateway_auth_failures_have_ucloud_codes_and_shape() {
    let emu = start().await;
    let base = [("Action", "DescribeImage"), ("Region", REGION)];

    // 171: a signature that does not match.
    let good = signed_body(A, &base);
    let tampered = good.replace("Region=cn-bj2", "Region=cn-sh2");
    // 170: no Signature at all.
    let unsigned: String = good
        .split('&')
        .filter(|kv| !kv.starts_with("Signature="))
        .collect::<Vec<_>>()
        .join("&");
    // 172: a public key nobody has.
    let stranger = imageshare_ucloud::signer::form_encode(&sign_request(
        base.iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        &imageshare_ucloud::UCloudCredentials::new("nobody@example.com", "x"),
    ));
    // 171 with a wrong private key for a known public key.
    let wrong_private = imageshare_ucloud::signer::form_encode(&sign_request(
        base.iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        &imageshare_ucloud::UCloudCredentials::new(creds(A).public_key, "not-the-key"),
    ));
    let cases = [
        (tampered, 171, "Signature VerifyAC Error"),
        (unsigned, 170, "Missing Signature"),
        (stranger, 172, "User Not Exists"),
        (wrong_private, 171, "Signature VerifyAC Error"),
    ];
    for (body, code, message) in cases {
        let (status, uuid, v) = post_form(&emu, body).await;
        assert_eq!(status, 200, "{v}");
        assert!(uuid.is_some_and(|u| u.len() == 36), "request id header");
        assert_eq!(
            v,
            json!({"Action": "DescribeImageResponse", "RetCode": code, "Message": message})
        );
    }
    // 160: PublicKey and Signature but no Action.
    let (_, _, v) = post_form(&emu, signed_body(A, &[("Region", REGION)])).await;
    assert_eq!(v, json!({"RetCode": 160, "Message": "Missing Action"}));

    let (_, _, v) = post_form(&emu, good).await;
    assert_eq!(ret_code(&v), 0);
    let failures = emu
        .calls()
        .iter()
        .filter(|c| c.provider == imageshare_ucloud::UHOST && c.account.is_none())
        .count();
    assert_eq!(failures, 5);
}

#[tokio::test]
async fn unknown_action_project_and_parameters() {
    let emu = start().await;
    let v = call(&emu, A, "org-a1", "DescribeUHostInstance", &[]).await;
    assert_eq!(ret_code(&v), 161);
    assert_eq!(v["Action"], "DescribeUHostInstanceResponse");

    for project in ["org-nope", "org-b1"] {
        let v = call(&emu, A, project, "DescribeImage", &[]).await;
        assert_eq!(ret_code(&v), 292, "{project}: {v}");
    }
    // No ProjectId: the account's default (first) project.
    let (_, _, v) = post_form(
        &emu,
        signed_body(
            A,
            &[
                ("Action", "DescribeImage"),
                ("Region", REGION),
                ("ImageId", "uimage-golden"),
            ],
        ),
    )
    .await;
    assert_eq!(v["TotalCount"], 1, "{v}");

    // 230: missing or malformed parameters.
    let (_, _, v) = post_form(&emu, signed_body(A, &[("Action", "DescribeImage")])).await;
    assert_eq!(
        (ret_code(&v), v["Message"].as_str()),
        (230, Some("Params [Region] not available"))
    );
    let checks: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("TerminateCustomImage", vec![]),
        ("DescribeImage", vec![("Limit", "ten")]),
        ("DescribeImage", vec![("Offset", "-1")]),
        ("CopyCustomImage", vec![("SourceImageId", "uimage-golden")]),
        (SHARE, vec![("ImageId", "uimage-golden")]),
        (
            SHARE,
            vec![
                ("ImageId", "uimage-golden"),
                ("TargetProjectIds.x", "org-b1"),
            ],
        ),
        (DESCRIBE_SHARE, vec![]),
        (SAVE, vec![]),
    ];
    for (action, extra) in checks {
        let v = call(&emu, A, "org-a1", action, &extra).await;
        assert_eq!(ret_code(&v), 230, "{action} {extra:?}: {v}");
        assert_eq!(v["Action"], format!("{action}Response"));
    }
}

/// Every documented `UHostImageSet` field, with its JSON type.
const FIELDS: &[(&str, &str)] = &[
    ("Zone", "string"),
    ("ImageId", "string"),
    ("ImageName", "string"),
    ("Tag", "string"),
    ("OsType", "string"),
    ("OsName", "string"),
    ("ImageType", "string"),
    ("Features", "array"),
    ("FuncType", "string"),
    ("IntegratedSoftware", "string"),
    ("Vendor", "string"),
    ("Links", "string"),
    ("State", "string"),
    ("ImageDescription", "string"),
    ("CreateTime", "integer"),
    ("ImageSize", "integer"),
    ("MinimalCPU", "string"),
    ("MaintainEol", "string"),
    ("DataSnapshotIds", "array"),
    ("SupportedGPUTypes", "array"),
    ("SceneCategories", "array"),
    ("PrimarySoftware", "string"),
];

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
        Value::Number(_) => "float",
        Value::Bool(_) => "bool",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

fn ids(v: &Value) -> Vec<String> {
    v["ImageSet"]
        .as_array()
        .unwrap_or_else(|| panic!("no ImageSet in {v}"))
        .iter()
        .map(|i| i["ImageId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn describe_image_shape_filters_and_paging() {
    let emu = start().await;
    let v = call(
        &emu,
        A,
        "org-a1",
        "DescribeImage",
        &[("ImageId", "uimage-golden")],
    )
    .await;
    assert_eq!(v["Action"], "DescribeImageResponse");
    assert_eq!(v["RetCode"], 0);
    assert_eq!(v["TotalCount"], 1);
    let img = &v["ImageSet"][0];
    for (field, ty) in FIELDS {
        assert_eq!(json_type(&img[field]), *ty, "{field} in {img}");
    }
    assert_eq!(img["ImageType"], "Custom");
    assert_eq!(img["State"], "Available");
    assert_eq!(img["ImageName"], "golden");
    assert!(img.get("PriceSet").is_none() && img.get("OwnerProjectId").is_none());

    let one = |id: &'static str| {
        let emu = &emu;
        async move { call(emu, A, "org-a1", "DescribeImage", &[("ImageId", id)]).await }
    };
    let v = one("uimage-ulhost").await;
    assert_eq!(v["ImageSet"][0]["FuncType"], "app");
    let v = one("uimage-whole").await;
    assert_eq!(v["ImageSet"][0]["DataSnapshotIds"], json!(["snap-whole"]));
    let v = one("uimage-making").await;
    assert_eq!(v["ImageSet"][0]["State"], "Making");
    let v = one("uimage-base").await;
    assert_eq!(v["ImageSet"][0]["ImageType"], "Base");
    // Unknown, other-region and received images: RetCode 0 and an empty ImageSet.
    for id in ["uimage-nope", "uimage-shanghai", "uimage-recv"] {
        let v = one(id).await;
        assert_eq!(
            (ret_code(&v), &v["TotalCount"], &v["ImageSet"]),
            (0, &json!(0), &json!([])),
            "{id}"
        );
    }

    let v = call(
        &emu,
        A,
        "org-a1",
        "DescribeImage",
        &[
            ("ImageIds.0", "uimage-golden"),
            ("ImageIds.1", "uimage-whole"),
            ("PriceSet", "1"),
        ],
    )
    .await;
    assert_eq!(ids(&v), vec!["uimage-golden", "uimage-whole"]);
    assert_eq!(v["ImageSet"][0]["PriceSet"], json!([]));
    let v = call(&emu, A, "org-a1", "DescribeImage", &[("ImageType", "Base")]).await;
    assert_eq!(ids(&v), vec!["uimage-base"]);
    let v = call(&emu, A, "org-a1", "DescribeImage", &[("FuncType", "app")]).await;
    assert_eq!(ids(&v), vec!["uimage-ulhost"]);
    let v = call(&emu, A, "org-a1", "DescribeImage", &[("OsType", "Windows")]).await;
    assert_eq!(v["TotalCount"], 0);

    // Paging: 25 own images + 1 public one in org-a2; Limit defaults to 20.
    let page = |extra: &'static [(&'static str, &'static str)]| {
        call(&emu, A, "org-a2", "DescribeImage", extra)
    };
    let v = page(&[]).await;
    assert_eq!((v["TotalCount"].as_u64(), ids(&v).len()), (Some(26), 20));
    let v = page(&[("Offset", "20")]).await;
    assert_eq!(ids(&v).len(), 6);
    let v = page(&[("Offset", "5"), ("Limit", "3")]).await;
    // Listed by image id: uimage-base first, then uimage-page000, ...
    assert_eq!(ids(&v), vec![paged(4), paged(5), paged(6)]);
    let v = page(&[("Offset", "26")]).await;
    assert_eq!((v["TotalCount"].as_u64(), ids(&v).len()), (Some(26), 0));
    let v = page(&[("Limit", "0")]).await;
    assert_eq!(ids(&v).len(), 20);

    // Limit is capped at 100.
    emu.with_engine(|e| {
        for i in 0..120 {
            e.add_image(&ImageSeed::new(
                imageshare_ucloud::UHOST,
                &format!("uimage-bulk{i:03}"),
                "org-a2",
                REGION,
            ));
        }
    });
    let v = page(&[("Limit", "500")]).await;
    assert_eq!((v["TotalCount"].as_u64(), ids(&v).len()), (Some(146), 100));
}

#[tokio::test]
async fn json_bodies_and_get_queries_are_accepted() {
    let emu = start().await;
    let params = json!({
        "Action": "DescribeImage", "Region": REGION, "ProjectId": "org-a1",
        "ImageIds": ["uimage-golden", "uimage-second"], "Limit": 10,
    });
    let mut flat: Vec<Param> = flatten(&params).unwrap();
    flat = sign_request(flat, &creds(A));
    let mut body = serde_json::Map::new();
    for (k, v) in &flat {
        body.insert(k.clone(), Value::String(v.clone()));
    }
    // A JSON body with a real array: signed over its flattened form.
    body.remove("ImageIds.0");
    body.remove("ImageIds.1");
    body.insert("ImageIds".into(), json!(["uimage-golden", "uimage-second"]));
    body.insert("Limit".into(), json!(10));
    let resp = reqwest::Client::new()
        .post(emu.base_url())
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&Value::Object(body)).unwrap())
        .send()
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(ids(&v), vec!["uimage-golden", "uimage-second"], "{v}");

    let query = signed_body(
        A,
        &[
            ("Action", "DescribeImage"),
            ("Region", REGION),
            ("ProjectId", "org-a1"),
            ("ImageId", "uimage-golden"),
        ],
    );
    let resp = reqwest::get(format!("{}/?{query}", emu.base_url()))
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(ids(&v), vec!["uimage-golden"], "{v}");

    // The Go SDK's style: a signed form body posted to `?Action=<Action>`.
    let resp = reqwest::Client::new()
        .post(format!("{}/?Action=DescribeImage", emu.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query.clone())
        .send()
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(ids(&v), vec!["uimage-golden"], "{v}");
    // A query parameter the body does not carry is a parameter, and it was not signed.
    let resp = reqwest::Client::new()
        .post(format!("{}/?Limit=1", emu.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query)
        .send()
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(ret_code(&v), 171, "{v}");
}

#[tokio::test]
async fn copy_custom_image_single_batch_and_copying_state() {
    let mut w = world();
    w.copy_ready_after_ms = 300;
    let emu = Emulator::start(w).await.unwrap();
    let v = call(
        &emu,
        A,
        "org-a1",
        "CopyCustomImage",
        &[
            ("SourceImageId", "uimage-golden"),
            ("TargetProjectId", "org-a2"),
            ("TargetImageName", "c1"),
        ],
    )
    .await;
    assert_eq!(ret_code(&v), 0, "{v}");
    let target = v["TargetImageId"].as_str().unwrap().to_owned();
    assert!(target.starts_with("uimage-"));
    assert!(v["TaskId"].as_str().unwrap().starts_with("task-"));
    assert!(v.get("Infos").is_none());
    let desc = call(
        &emu,
        A,
        "org-a2",
        "DescribeImage",
        &[("ImageId", target.as_str())],
    )
    .await;
    assert_eq!(desc["ImageSet"][0]["State"], "Copying");
    assert_eq!(desc["ImageSet"][0]["ImageName"], "c1");
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    let desc = call(
        &emu,
        A,
        "org-a2",
        "DescribeImage",
        &[("ImageId", target.as_str())],
    )
    .await;
    assert_eq!(desc["ImageSet"][0]["State"], "Available");

    // Batch: TargetRegionList.N -> Infos, no TargetImageId.
    let v = call(
        &emu,
        A,
        "org-a1",
        "CopyCustomImage",
        &[
            ("SourceImageId", "uimage-golden"),
            ("TargetProjectId", "org-a1"),
            ("TargetRegionList.0", "cn-sh2"),
            ("TargetRegionList.1", "hk"),
        ],
    )
    .await;
    assert_eq!(ret_code(&v), 0, "{v}");
    assert!(v.get("TargetImageId").is_none());
    let infos = v["Infos"].as_array().unwrap();
    let regions: Vec<&str> = infos
        .iter()
        .map(|i| i["TargetRegion"].as_str().unwrap())
        .collect();
    assert_eq!(regions, vec!["cn-sh2", "hk"]);
    for i in infos {
        assert!(i["TaskId"].is_string() && i["TargetImageId"].is_string());
    }

    // Documented refusals.
    let cases: Vec<(Vec<(&str, &str)>, i64)> = vec![
        (
            vec![
                ("SourceImageId", "uimage-golden"),
                ("TargetProjectId", "org-a1"),
            ],
            8962,
        ),
        (
            vec![
                ("SourceImageId", "uimage-golden"),
                ("TargetProjectId", "org-zz9"),
            ],
            292,
        ),
        (
            vec![
                ("SourceImageId", "uimage-golden"),
                ("TargetProjectId", "org-b1"),
            ],
            292,
        ),
        (
            vec![
                ("SourceImageId", "uimage-making"),
                ("TargetProjectId", "org-a2"),
            ],
            8961,
        ),
        (
            vec![
                ("SourceImageId", "uimage-nope"),
                ("TargetProjectId", "org-a2"),
            ],
            8956,
        ),
        (
            vec![
                ("SourceImageId", "uimage-recv"),
                ("TargetProjectId", "org-a2"),
            ],
            8956,
        ),
        (
            vec![
                ("SourceImageId", "uimage-base"),
                ("TargetProjectId", "org-a2"),
            ],
            8956,
        ),
    ];
    for (extra, code) in cases {
        let v = call(&emu, A, "org-a1", "CopyCustomImage", &extra).await;
        assert_eq!(ret_code(&v), code, "{extra:?}: {v}");
    }
}

#[tokio::test]
async fn sharing_actions_and_their_rule_codes() {
    let emu = start().await;
    let share = |img: &'static str, targets: Vec<(String, String)>| {
        let emu = &emu;
        async move {
            let mut extra: Vec<(&str, &str)> = vec![("ImageId", img)];
            extra.extend(targets.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            call(emu, A, "org-a1", SHARE, &extra).await
        }
    };
    let to = |p: &str| vec![("TargetProjectIds.0".to_owned(), p.to_owned())];

    let v = share("uimage-golden", to("org-b1")).await;
    assert_eq!(
        v,
        json!({"Action": "ShareCustomImageResponse", "RetCode": 0, "ImageId": "uimage-golden"})
    );
    // Repeated share: a no-op success. A single TargetProjectId is accepted too.
    assert_eq!(ret_code(&share("uimage-golden", to("org-b1")).await), 0);
    assert_eq!(
        ret_code(
            &share(
                "uimage-golden",
                vec![("TargetProjectId".into(), "org-a2".into())]
            )
            .await
        ),
        0
    );
    assert_eq!(emu.grants("uimage-golden").len(), 2);

    // 2 projects plus 49 in one call make 51: refused, all or nothing.
    let many: Vec<(String, String)> = (0..49)
        .map(|i| (format!("TargetProjectIds.{i}"), fan(i)))
        .collect();
    let v = share("uimage-golden", many).await;
    assert_eq!(ret_code(&v), 8990, "{v}");
    assert_eq!(emu.grants("uimage-golden").len(), 2);

    let rules = [
        ("uimage-shanghai", "org-b1", 8991),
        ("uimage-ulhost", "org-b1", 8992),
        ("uimage-whole", "org-b1", 8993),
        ("uimage-recv", "org-b1", 8994),
        ("uimage-golden", "org-a1", 8995),
        ("uimage-making", "org-b1", 8961),
        ("uimage-base", "org-b1", 8956),
        ("uimage-nope", "org-b1", 8956),
        ("uimage-golden", "org-zz9", 292),
        ("uimage-golden", "100000000002", 230),
    ];
    for (img, target, code) in rules {
        let v = share(img, to(target)).await;
        assert_eq!(ret_code(&v), code, "{img} -> {target}: {v}");
        assert!(v["Message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    // Sharees, paged, oldest first.
    let v = call(
        &emu,
        A,
        "org-a1",
        DESCRIBE_SHARE,
        &[("ImageId", "uimage-golden"), ("Limit", "1")],
    )
    .await;
    assert_eq!(v["TotalCount"], 2);
    let set = v["ProjectSet"].as_array().unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(set[0]["ProjectId"], "org-b1");
    assert!(set[0]["CreateTime"].as_u64().unwrap() > 1_600_000_000);
    let v = call(
        &emu,
        A,
        "org-a1",
        DESCRIBE_SHARE,
        &[("ImageId", "uimage-golden"), ("Offset", "1")],
    )
    .await;
    assert_eq!(v["ProjectSet"][0]["ProjectId"], "org-a2");
    // Only the sharer lists the sharees.
    let v = call(
        &emu,
        B,
        "org-b1",
        DESCRIBE_SHARE,
        &[("ImageId", "uimage-golden")],
    )
    .await;
    assert_eq!(ret_code(&v), 8994);

    // The recipient's view: OwnerProjectId, UHostImageSet fields.
    let v = call(&emu, B, "org-b1", DESCRIBE_SHARED, &[]).await;
    assert_eq!(v["TotalCount"], 1);
    let img = &v["ImageSet"][0];
    assert_eq!(
        (&img["ImageId"], &img["OwnerProjectId"]),
        (&json!("uimage-golden"), &json!("org-a1"))
    );
    for (field, ty) in FIELDS {
        assert_eq!(json_type(&img[field]), *ty, "{field}");
    }
    // Only the sharer cancels.
    let v = call(
        &emu,
        B,
        "org-b1",
        CANCEL,
        &[
            ("ImageId", "uimage-golden"),
            ("TargetProjectIds.0", "org-b1"),
        ],
    )
    .await;
    assert_eq!(ret_code(&v), 8994, "a recipient cannot cancel: {v}");
    let v = call(
        &emu,
        A,
        "org-a1",
        CANCEL,
        &[("ImageId", "uimage-recv"), ("TargetProjectIds.0", "org-a1")],
    )
    .await;
    assert_eq!(ret_code(&v), 8994, "{v}");

    // Save a shared image, then the sharer deletes the source: the share disappears.
    let v = call(
        &emu,
        B,
        "org-b1",
        SAVE,
        &[("ImageId", "uimage-golden"), ("ImageName", "kept")],
    )
    .await;
    let saved = v["ImageId"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_owned();
    let v = call(&emu, B, "org-b1", SAVE, &[("ImageId", saved.as_str())]).await;
    assert_eq!(ret_code(&v), 8956, "an own image is not a shared one");
    let v = call(
        &emu,
        A,
        "org-a1",
        "TerminateCustomImage",
        &[("ImageId", "uimage-golden")],
    )
    .await;
    assert_eq!(
        v,
        json!({"Action": "TerminateCustomImageResponse", "RetCode": 0, "ImageId": "uimage-golden"})
    );
    let v = call(&emu, B, "org-b1", DESCRIBE_SHARED, &[]).await;
    assert_eq!((&v["TotalCount"], &v["ImageSet"]), (&json!(0), &json!([])));
    let v = call(
        &emu,
        B,
        "org-b1",
        "DescribeImage",
        &[("ImageId", saved.as_str())],
    )
    .await;
    assert_eq!(v["ImageSet"][0]["ImageName"], "kept");
    let v = call(
        &emu,
        A,
        "org-a1",
        "TerminateCustomImage",
        &[("ImageId", "uimage-golden")],
    )
    .await;
    assert_eq!(ret_code(&v), 8956);

    // Cancel works for the sharer and is idempotent.
    let v = call(
        &emu,
        B,
        "org-b1",
        CANCEL,
        &[("ImageId", "uimage-recv"), ("TargetProjectIds.0", "org-a1")],
    )
    .await;
    assert_eq!(ret_code(&v), 0);
    let v = call(
        &emu,
        B,
        "org-b1",
        CANCEL,
        &[("ImageId", "uimage-recv"), ("TargetProjectIds.0", "org-a1")],
    )
    .await;
    assert_eq!(ret_code(&v), 0);
    assert!(emu.grants("uimage-recv").is_empty());
    assert!(emu.with_engine(|e| e
        .images()
        .any(|i| i.id == "uimage-whole" && i.kind == ImageKind::WholeMachine)));
}
