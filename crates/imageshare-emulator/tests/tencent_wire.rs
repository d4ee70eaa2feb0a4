//! The Tencent front-end on the wire, with hand-signed requests (the signer crate, no
//! adapter): authentication codes, the response and error envelopes, exact response shapes,
//! Offset/Limit paging, parameter validation, and the rule codes of tencent.md §3.3/§3.4.

use imageshare_core::{time, Site};
use imageshare_emulator::world::{Account, Keys, TencentKey};
use imageshare_emulator::{Emulator, ImageSeed, World};
use imageshare_tencent::signer::{canonical_query, sign, Tc3Request};
use imageshare_tencent::TencentCredentials;
use serde_json::{json, Value};

const REGION: &str = "ap-guangzhou";
const OWNER: (&str, &str) = ("AKIDEMU0000000000000000000000001", "emu-tencent-secret-1");
const PEER: (&str, &str) = ("AKIDEMU0000000000000000000000002", "emu-tencent-secret-2");

struct Answer {
    status: u16,
    content_type: String,
    body: Value,
}

impl Answer {
    fn code(&self) -> Option<&str> {
        self.body["Response"]["Error"]["Code"].as_str()
    }
    fn ok(&self) -> &Value {
        assert_eq!(self.status, 200);
        assert!(
            self.code().is_none(),
            "unexpected error {:?}",
            self.body["Response"]["Error"]
        );
        &self.body["Response"]
    }
    fn err(&self, code: &str) {
        assert_eq!(self.status, 200, "{:?}", self.body);
        assert_eq!(self.code(), Some(code), "{:?}", self.body);
        let r = self.body["Response"].as_object().unwrap();
        assert!(r["RequestId"].is_string());
        assert!(r["Error"]["Message"].is_string());
        assert_eq!(r.len(), 2, "error envelope has only Error and RequestId");
    }
}

struct Req<'a> {
    key: (&'a str, &'a str),
    token: Option<&'a str>,
    service: &'a str,
    version: &'a str,
    action: &'a str,
    region: Option<&'a str>,
    body: String,
    ts: u64,
    tamper: bool,
}

impl<'a> Req<'a> {
    fn new(service: &'a str, action: &'a str, body: Value) -> Self {
        Req {
            key: OWNER,
            token: None,
            service,
            version: if service == "cvm" || service == "cbs" {
                "2017-03-12"
            } else {
                "2020-03-24"
            },
            action,
            region: Some(REGION),
            body: body.to_string(),
            ts: time::now_unix(),
            tamper: false,
        }
    }
    fn key(mut self, key: (&'a str, &'a str)) -> Self {
        self.key = key;
        self
    }

    async fn send(self, emu: &Emulator) -> Answer {
        let host = emu.addr().to_string();
        let mut creds = TencentCredentials::new(self.key.0, self.key.1);
        if let Some(t) = self.token {
            creds = creds.with_token(t);
        }
        let mut req = Tc3Request::post_json(
            self.service,
            &host,
            self.action,
            self.version,
            self.body.as_bytes(),
            self.ts,
        );
        if let Some(r) = self.region {
            req = req.region(r);
        }
        let sig = sign(&creds, &req);
        let body = if self.tamper {
            self.body.replace("img-", "img-x")
        } else {
            self.body.clone()
        };
        post(emu, &sig.headers, "", body.into_bytes()).await
    }
}

async fn post(
    emu: &Emulator,
    headers: &[(&'static str, String)],
    query: &str,
    body: Vec<u8>,
) -> Answer {
    let url = if query.is_empty() {
        format!("{}/", emu.base_url())
    } else {
        format!("{}/?{query}", emu.base_url())
    };
    let method = if query.is_empty() { "POST" } else { "GET" };
    let mut rb = reqwest::Client::new().request(method.parse().unwrap(), url);
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("host") {
            rb = rb.header(*k, v.as_str());
        }
    }
    let resp = rb.body(body).send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    Answer {
        status,
        content_type,
        body,
    }
}

async fn cvm(emu: &Emulator, action: &str, body: Value) -> Answer {
    Req::new("cvm", action, body).send(emu).await
}

async fn lh(emu: &Emulator, action: &str, body: Value) -> Answer {
    Req::new("lighthouse", action, body).send(emu).await
}

async fn example() -> Emulator {
    Emulator::start(World::example()).await.unwrap()
}

// ------------------------------------------------------------------------- authentication

#[tokio::test]
async fn auth_failure_codes_for_both_services() {
    let emu = example().await;
    for service in ["cvm", "lighthouse"] {
        let action = if service == "cvm" {
            "DescribeImages"
        } else {
            "DescribeBlueprints"
        };
        let base = || Req::new(service, action, json!({"ImageIds": ["img-6pb6lrmy"]}));
        Req {
            key: ("AKIDnobody", "x"),
            ..base()
        }
        .send(&emu)
        .await
        .err("AuthFailure.SecretIdNotFound");
        Req {
            key: (OWNER.0, "wrong"),
            ..base()
        }
        .send(&emu)
        .await
        .err("AuthFailure.SignatureFailure");
        Req {
            tamper: true,
            ..base()
        }
        .send(&emu)
        .await
        .err("AuthFailure.SignatureFailure");
        Req {
            ts: time::now_unix() - 600,
            ..base()
        }
        .send(&emu)
        .await
        .err("AuthFailure.SignatureExpire");
        Req {
            ts: time::now_unix() + 600,
            ..base()
        }
        .send(&emu)
        .await
        .err("AuthFailure.SignatureExpire");
    }
    // Refused requests never reach the engine.
    assert!(emu.calls().iter().all(|c| c.account.is_none()));
}

#[tokio::test]
async fn session_token_is_checked() {
    let mut world = World::example();
    world.accounts.push(Account {
        id: "100000000009".into(),
        site: Site::China,
        projects: vec![],
        roles: vec![],
        keys: Keys {
            tencent: Some(TencentKey {
                id: "AKIDTMP000000009".into(),
                secret: "tmp-secret".into(),
                token: Some("sts-token-9".into()),
            }),
            ..Default::default()
        },
    });
    let emu = Emulator::start(world).await.unwrap();
    let base =
        || Req::new("cvm", "DescribeImages", json!({})).key(("AKIDTMP000000009", "tmp-secret"));
    base().send(&emu).await.err("AuthFailure.TokenFailure");
    Req {
        token: Some("wrong"),
        ..base()
    }
    .send(&emu)
    .await
    .err("AuthFailure.TokenFailure");
    let ok = Req {
        token: Some("sts-token-9"),
        ..base()
    }
    .send(&emu)
    .await;
    assert_eq!(ok.ok()["TotalCount"], 0);
}

#[tokio::test]
async fn protocol_level_errors() {
    let emu = example().await;
    Req {
        version: "2017-03-13",
        ..Req::new("cvm", "DescribeImages", json!({}))
    }
    .send(&emu)
    .await
    .err("NoSuchVersion");
    cvm(&emu, "RunInstances", json!({}))
        .await
        .err("InvalidAction");
    lh(&emu, "DescribeImages", json!({}))
        .await
        .err("InvalidAction");
    Req {
        region: None,
        ..Req::new("cvm", "DescribeImages", json!({}))
    }
    .send(&emu)
    .await
    .err("MissingParameter");
    Req {
        region: Some("mars-north-1"),
        ..Req::new("cvm", "DescribeImages", json!({}))
    }
    .send(&emu)
    .await
    .err("UnsupportedRegion");
    cvm(
        &emu,
        "DescribeImages",
        json!({"ImageIdz": ["img-6pb6lrmy"]}),
    )
    .await
    .err("UnknownParameter");
    cvm(&emu, "DescribeImages", json!({"ImageIds": "img-6pb6lrmy"}))
        .await
        .err("InvalidParameter");
    let ok = cvm(&emu, "DescribeImages", json!({})).await;
    assert_eq!(ok.content_type, "application/json");
    let keys: Vec<&String> = ok.ok().as_object().unwrap().keys().collect();
    assert_eq!(keys, ["ImageSet", "RequestId", "TotalCount"]);
}

// -------------------------------------------------------------------------------------- CVM

#[tokio::test]
async fn describe_images_shape_filters_and_paging() {
    let emu = example().await;
    let r = cvm(
        &emu,
        "DescribeImages",
        json!({"ImageIds": ["img-6pb6lrmy"]}),
    )
    .await;
    let r = r.ok();
    assert_eq!(r["TotalCount"], 1);
    let img = r["ImageSet"][0].as_object().unwrap();
    let mut keys: Vec<&str> = img.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "Architecture",
            "CreatedTime",
            "ImageCreator",
            "ImageDeprecated",
            "ImageDescription",
            "ImageFamily",
            "ImageId",
            "ImageName",
            "ImageSize",
            "ImageSource",
            "ImageState",
            "ImageType",
            "IsSupportCloudinit",
            "LicenseType",
            "OsName",
            "Platform",
            "SnapshotSet",
            "SyncPercent",
            "Tags"
        ]
    );
    assert_eq!(img["ImageState"], "NORMAL");
    assert_eq!(img["ImageType"], "PRIVATE_IMAGE");
    assert_eq!(img["ImageCreator"], "100000000001");
    assert_eq!(img["ImageName"], "golden-2026");
    assert!(img["CreatedTime"].as_str().unwrap().ends_with('Z'));

    let whole = cvm(
        &emu,
        "DescribeImages",
        json!({"ImageIds": ["img-whole001"]}),
    )
    .await;
    let disks: Vec<&str> = whole.ok()["ImageSet"][0]["SnapshotSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["DiskUsage"].as_str().unwrap())
        .collect();
    assert_eq!(disks, ["SYSTEM_DISK", "DATA_DISK"]);
    let creating = cvm(
        &emu,
        "DescribeImages",
        json!({"ImageIds": ["img-creating"]}),
    )
    .await;
    assert_eq!(creating.ok()["ImageSet"][0]["ImageState"], "CREATING");

    // Unknown ids are simply absent.
    let none = cvm(
        &emu,
        "DescribeImages",
        json!({"ImageIds": ["img-nothere1"]}),
    )
    .await;
    assert_eq!(none.ok()["TotalCount"], 0);

    // PRIVATE_IMAGE of the owner: 4 in the example world; paged 2 at a time.
    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let page = cvm(
            &emu,
            "DescribeImages",
            json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}],
                   "Offset": offset, "Limit": 2}),
        )
        .await;
        let page = page.ok();
        assert_eq!(page["TotalCount"], 4);
        for i in page["ImageSet"].as_array().unwrap() {
            seen.push(i["ImageId"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        seen,
        [
            "img-6pb6lrmy",
            "img-creating",
            "img-enc00001",
            "img-whole001"
        ]
    );
    let shared = cvm(
        &emu,
        "DescribeImages",
        json!({"Filters": [{"Name": "image-type", "Values": ["SHARED_IMAGE"]}]}),
    )
    .await;
    assert_eq!(shared.ok()["ImageSet"][0]["ImageId"], "img-recv0001");
    assert_eq!(shared.ok()["ImageSet"][0]["ImageCreator"], "100000000002");
    let by_name = cvm(
        &emu,
        "DescribeImages",
        json!({"Filters": [{"Name": "image-name", "Values": ["golden"]}]}),
    )
    .await;
    assert_eq!(by_name.ok()["TotalCount"], 1);

    cvm(
        &emu,
        "DescribeImages",
        json!({"ImageIds": ["img-6pb6lrmy"], "Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]}),
    )
    .await
    .err("InvalidParameter.InvalidParameterCoexistImageIdsFilters");
    cvm(&emu, "DescribeImages", json!({"Limit": 101}))
        .await
        .err("InvalidParameterValue.InvalidParameterValueLimit");
    cvm(&emu, "DescribeImages", json!({"Offset": -1}))
        .await
        .err("InvalidParameterValue");
    cvm(&emu, "DescribeImages", json!({"ImageIds": ["m-abc"]}))
        .await
        .err("InvalidImageId.Malformed");
    cvm(
        &emu,
        "DescribeImages",
        json!({"Filters": [{"Name": "owner", "Values": ["x"]}]}),
    )
    .await
    .err("InvalidFilter");
    cvm(
        &emu,
        "DescribeImages",
        json!({"Filters": [{"Name": "image-id", "Values": ["1","2","3","4","5","6"]}]}),
    )
    .await
    .err("InvalidFilterValue.LimitExceeded");
}

#[tokio::test]
async fn get_requests_with_flattened_parameters() {
    let emu = example().await;
    let host = emu.addr().to_string();
    let query = canonical_query(&[
        ("Filters.0.Name", "image-type"),
        ("Filters.0.Values.0", "PRIVATE_IMAGE"),
        ("Limit", "1"),
    ]);
    let req = Tc3Request::get(
        "cvm",
        &host,
        "DescribeImages",
        "2017-03-12",
        &query,
        time::now_unix(),
    )
    .region(REGION);
    let sig = sign(&TencentCredentials::new(OWNER.0, OWNER.1), &req);
    let a = post(&emu, &sig.headers, &query, Vec::new()).await;
    assert_eq!(a.ok()["TotalCount"], 4);
    assert_eq!(a.ok()["ImageSet"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn share_rules_answer_cvm_codes() {
    let emu = example().await;
    let share = |img: &str, accounts: &[&str]| json!({"ImageId": img, "AccountIds": accounts, "Permission": "SHARE"});
    for (body, code) in [
        (
            share("img-whole001", &["100000000002"]),
            "InvalidParameter.InstanceImageNotSupport",
        ),
        (
            share("img-enc00001", &["100000000002"]),
            "UnsupportedOperation.EncryptedImagesNotSupported",
        ),
        (
            share("img-recv0001", &["200000000001"]),
            "UnauthorizedOperation.ImageNotBelongToAccount",
        ),
        (
            share("img-creating", &["100000000002"]),
            "InvalidParameterValue.InvalidImageState",
        ),
        (
            share("img-6pb6lrmy", &["100000000001"]),
            "InvalidAccountIs.YourSelf",
        ),
        (
            share("img-6pb6lrmy", &["999999999999"]),
            "InvalidAccountId.NotFound",
        ),
        (
            share("img-6pb6lrmy", &["bob@example.com"]),
            "InvalidAccountId.NotFound",
        ),
        (
            share("img-nothere1", &["100000000002"]),
            "InvalidImageId.NotFound",
        ),
        (
            share("img bad", &["100000000002"]),
            "InvalidImageId.Malformed",
        ),
        (
            json!({"ImageId": "img-6pb6lrmy", "AccountIds": ["100000000002"], "Permission": "SHAER"}),
            "InvalidParameterValue",
        ),
        (
            json!({"ImageId": "img-6pb6lrmy", "Permission": "SHARE"}),
            "MissingParameter",
        ),
        (
            json!({"ImageId": "img-6pb6lrmy", "AccountIds": [], "Permission": "SHARE"}),
            "MissingParameter",
        ),
    ] {
        cvm(&emu, "ModifyImageSharePermission", body)
            .await
            .err(code);
    }
    // International-site recipients are accepted on CVM (no documented cross-site rule).
    cvm(
        &emu,
        "ModifyImageSharePermission",
        share("img-6pb6lrmy", &["200000000001"]),
    )
    .await
    .ok();
    cvm(
        &emu,
        "ModifyImageSharePermission",
        share("img-6pb6lrmy", &["100000000002", "200000000001"]),
    )
    .await
    .err("FailedOperation.AccountAlreadyExists");
    // All or nothing: the refused call granted nobody.
    let listed = cvm(
        &emu,
        "DescribeImageSharePermission",
        json!({"ImageId": "img-6pb6lrmy"}),
    )
    .await;
    let set = listed.ok()["SharePermissionSet"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(set.len(), 1);
    let entry = set[0].as_object().unwrap();
    let keys: Vec<&String> = entry.keys().collect();
    assert_eq!(keys, ["AccountId", "CreatedTime"]);
    assert_eq!(entry["AccountId"], "200000000001");

    // Only the owner may list sharees.
    Req::new(
        "cvm",
        "DescribeImageSharePermission",
        json!({"ImageId": "img-6pb6lrmy"}),
    )
    .key(PEER)
    .send(&emu)
    .await
    .err("InvalidImageId.NotFound");
    cvm(
        &emu,
        "DescribeImageSharePermission",
        json!({"ImageId": "img-recv0001"}),
    )
    .await
    .err("UnauthorizedOperation.ImageNotBelongToAccount");

    // CANCEL of an account without a grant is accepted; CANCEL clears the grant.
    let cancel = json!({"ImageId": "img-6pb6lrmy", "AccountIds": ["200000000001", "100000000002"], "Permission": "CANCEL"});
    cvm(&emu, "ModifyImageSharePermission", cancel).await.ok();
    assert!(emu.grants("img-6pb6lrmy").is_empty());
}

#[tokio::test]
async fn over_quota_at_500_sharees() {
    let mut b = World::builder()
        .account("100000000001", Site::China)
        .image(ImageSeed::new(
            imageshare_tencent::CVM,
            "img-golden01",
            "100000000001",
            REGION,
        ));
    let people: Vec<String> = (0..501)
        .map(|i| (300_000_000_000u64 + i).to_string())
        .collect();
    for p in &people {
        b = b.account(p, Site::China);
    }
    let emu = Emulator::start(b.build().unwrap()).await.unwrap();
    let key = ("AKID100000000001", "tc-secret-100000000001");
    // The CVM per-call maximum is unpublished: the emulator accepts 500 in one call.
    Req::new(
        "cvm",
        "ModifyImageSharePermission",
        json!({"ImageId": "img-golden01", "AccountIds": &people[..500], "Permission": "SHARE"}),
    )
    .key(key)
    .send(&emu)
    .await
    .ok();
    Req::new(
        "cvm",
        "ModifyImageSharePermission",
        json!({"ImageId": "img-golden01", "AccountIds": &people[500..], "Permission": "SHARE"}),
    )
    .key(key)
    .send(&emu)
    .await
    .err("OverQuota");
    assert_eq!(emu.grants("img-golden01").len(), 500);
}

#[tokio::test]
async fn sync_images_rules() {
    let emu = example().await;
    let sync = |img: &str, regions: &[&str]| json!({"ImageIds": [img], "DestinationRegions": regions, "ImageSetRequired": true});
    let made = cvm(
        &emu,
        "SyncImages",
        sync("img-6pb6lrmy", &["ap-shanghai", "ap-beijing"]),
    )
    .await;
    let set = made.ok()["ImageSet"].as_array().unwrap().clone();
    assert_eq!(set.len(), 2);
    assert_eq!(set[0]["Region"], "ap-shanghai");
    assert!(set[0]["ImageId"].as_str().unwrap().starts_with("img-"));
    let quiet = cvm(
        &emu,
        "SyncImages",
        json!({"ImageIds": ["img-6pb6lrmy"], "DestinationRegions": ["ap-nanjing"]}),
    )
    .await;
    assert_eq!(quiet.ok()["ImageSet"], json!([]));
    // The recipient's own copy: a received image, into its own region.
    let own = cvm(&emu, "SyncImages", sync("img-recv0001", &[REGION])).await;
    let own_id = own.ok()["ImageSet"][0]["ImageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine = cvm(&emu, "DescribeImages", json!({"ImageIds": [own_id]})).await;
    assert_eq!(mine.ok()["ImageSet"][0]["ImageType"], "PRIVATE_IMAGE");
    assert_eq!(mine.ok()["ImageSet"][0]["ImageCreator"], "100000000001");

    for (body, code) in [
        (
            sync("img-6pb6lrmy", &[REGION]),
            "InvalidParameterValue.InvalidRegion",
        ),
        (
            sync("img-recv0001", &["ap-shanghai"]),
            "InvalidParameterValue.InvalidRegion",
        ),
        (
            sync("img-6pb6lrmy", &["mars-north-1"]),
            "InvalidRegion.NotFound",
        ),
        (
            sync("img-whole001", &["ap-shanghai"]),
            "InvalidParameter.InstanceImageNotSupport",
        ),
        (
            sync("img-creating", &["ap-shanghai"]),
            "InvalidImageId.IncorrectState",
        ),
        (
            sync("img-nothere1", &["ap-shanghai"]),
            "InvalidImageId.NotFound",
        ),
        (
            json!({"ImageIds": ["img-6pb6lrmy", "img-whole001"], "DestinationRegions": ["ap-shanghai"]}),
            "InvalidParameterValue.LimitExceeded",
        ),
        (
            json!({"ImageIds": ["img-6pb6lrmy"], "DestinationRegions": ["ap-shanghai"], "DryRun": true}),
            "DryRunOperation",
        ),
    ] {
        cvm(&emu, "SyncImages", body).await.err(code);
    }
}

#[tokio::test]
async fn delete_images_rules() {
    let emu = example().await;
    let del = |ids: &[&str]| json!({"ImageIds": ids});
    cvm(
        &emu,
        "ModifyImageSharePermission",
        json!({"ImageId": "img-6pb6lrmy", "AccountIds": ["100000000002"], "Permission": "SHARE"}),
    )
    .await
    .ok();
    for (body, code) in [
        (del(&["img-6pb6lrmy"]), "InvalidImageId.InShared"),
        (
            del(&["img-recv0001"]),
            "InvalidParameterValue.InvalidImageIdIsShared",
        ),
        (del(&["img-creating"]), "InvalidImageId.IncorrectState"),
        (del(&["img-nothere1"]), "InvalidImageId.NotFound"),
        (del(&["oops"]), "InvalidImageId.Malformed"),
        (
            json!({"ImageIds": ["img-whole001"], "DryRun": true}),
            "DryRunOperation",
        ),
        // All or nothing: the deletable image is kept when another one is refused.
        (
            del(&["img-whole001", "img-6pb6lrmy"]),
            "InvalidImageId.InShared",
        ),
    ] {
        cvm(&emu, "DeleteImages", body).await.err(code);
    }
    cvm(&emu, "DeleteImages", del(&["img-whole001"])).await.ok();
    let gone = cvm(&emu, "DescribeImages", del(&["img-whole001"])).await;
    assert_eq!(gone.ok()["TotalCount"], 0);
}

// ------------------------------------------------------------------------------ Lighthouse

#[tokio::test]
async fn describe_blueprints_shape_and_paging() {
    let emu = example().await;
    let r = lh(
        &emu,
        "DescribeBlueprints",
        json!({"BlueprintIds": ["lhbp-6jc6l8yb"]}),
    )
    .await;
    let bp = r.ok()["BlueprintSet"][0].as_object().unwrap().clone();
    let mut keys: Vec<&str> = bp.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "BlueprintId",
            "BlueprintName",
            "BlueprintShared",
            "BlueprintState",
            "BlueprintType",
            "CommunityUrl",
            "CreatedTime",
            "Description",
            "DisplayTitle",
            "DisplayVersion",
            "DockerVersion",
            "GuideUrl",
            "ImageId",
            "ImageUrl",
            "OsName",
            "Platform",
            "PlatformType",
            "RequiredMemorySize",
            "RequiredSystemDiskSize",
            "SceneIdSet",
            "SupportAutomationTools",
            "Tags"
        ]
    );
    assert_eq!(bp["BlueprintType"], "PRIVATE");
    assert_eq!(bp["BlueprintState"], "NORMAL");
    assert_eq!(bp["ImageId"], "");
    assert_eq!(bp["BlueprintShared"], false);

    lh(
        &emu,
        "DescribeBlueprints",
        json!({"BlueprintIds": ["lhbp-6jc6l8yb"], "Filters": [{"Name": "blueprint-type", "Values": ["PRIVATE"]}]}),
    )
    .await
    .err("InvalidParameter.ParameterConflict");
    lh(&emu, "DescribeBlueprints", json!({"Limit": 101}))
        .await
        .err("InvalidParameterValue.OutOfRange");
    lh(&emu, "DescribeBlueprints", json!({"Offset": -1}))
        .await
        .err("InvalidParameterValue.Negative");
    lh(
        &emu,
        "DescribeBlueprints",
        json!({"BlueprintIds": ["img-6pb6lrmy"]}),
    )
    .await
    .err("InvalidParameterValue.BlueprintIdMalformed");
    lh(
        &emu,
        "DescribeBlueprints",
        json!({"Filters": [{"Name": "colour", "Values": ["x"]}]}),
    )
    .await
    .err("InvalidParameter.InvalidFilterNotSupportedName");
    let private = lh(
        &emu,
        "DescribeBlueprints",
        json!({"Filters": [{"Name": "blueprint-type", "Values": ["PRIVATE"]}]}),
    )
    .await;
    assert_eq!(private.ok()["TotalCount"], 1);
}

#[tokio::test]
async fn blueprint_sharing_rules_and_share_infos() {
    let mut b = World::builder()
        .account("100000000001", Site::China)
        .account("200000000001", Site::International)
        .image(
            ImageSeed::new(
                imageshare_tencent::LIGHTHOUSE,
                "lhbp-golden01",
                "100000000001",
                REGION,
            )
            .kind(imageshare_core::ImageKind::LightweightHost),
        );
    let people: Vec<String> = (0..25)
        .map(|i| (300_000_000_000u64 + i).to_string())
        .collect();
    for p in &people {
        b = b.account(p, Site::China);
    }
    let emu = Emulator::start(b.build().unwrap()).await.unwrap();
    let key = ("AKID100000000001", "tc-secret-100000000001");
    let call = |action: &'static str, accounts: Vec<String>| {
        Req::new(
            "lighthouse",
            action,
            json!({"BlueprintId": "lhbp-golden01", "AccountIds": accounts}),
        )
        .key(key)
    };
    let share = "ShareBlueprintAcrossAccounts";
    let cancel = "CancelShareBlueprintAcrossAccounts";
    call(share, people[..11].to_vec())
        .send(&emu)
        .await
        .err("InvalidParameterValue.LimitExceeded");
    call(cancel, people[..11].to_vec())
        .send(&emu)
        .await
        .err("InvalidParameterValue.LimitExceeded");
    for chunk in people.chunks(10) {
        call(share, chunk.to_vec()).send(&emu).await.ok();
    }
    for (accounts, code) in [
        (
            vec![people[0].clone()],
            "UnsupportedOperation.BlueprintAlreadyShared",
        ),
        (
            vec!["100000000001".into()],
            "InvalidParameterValue.AccountIdSameWithUin",
        ),
        (
            vec!["200000000001".into()],
            "InvalidParameterValue.AccountIdInvalidAccountArea",
        ),
        (
            vec!["999999999999".into()],
            "InvalidParameterValue.AccountIdsNotExist",
        ),
        (
            vec!["bob@example.com".into()],
            "InvalidParameterValue.AccountIdsNotOwnerAccount",
        ),
    ] {
        call(share, accounts).send(&emu).await.err(code);
    }
    call(cancel, vec!["999999999998".into()])
        .send(&emu)
        .await
        .err("UnsupportedOperation.BlueprintHasNotShared");

    // 25 grants, paged 10 at a time with TotalCount.
    let mut seen = Vec::new();
    for offset in [0, 10, 20] {
        let page = Req::new(
            "lighthouse",
            "DescribeBlueprintsShareAcrossAccountInfos",
            json!({"BlueprintIds": ["lhbp-golden01"], "Offset": offset, "Limit": 10}),
        )
        .key(key)
        .send(&emu)
        .await;
        assert_eq!(page.ok()["TotalCount"], 25);
        for row in page.ok()["BlueprintShareAcrossAccountInfoSet"]
            .as_array()
            .unwrap()
        {
            let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["AccountId", "BlueprintId", "CreatedTime"]);
            seen.push(row["AccountId"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(seen, people);
    let filtered = Req::new(
        "lighthouse",
        "DescribeBlueprintsShareAcrossAccountInfos",
        json!({"BlueprintIds": ["lhbp-golden01"], "Filters": [{"Name": "account-id", "Values": [people[3]]}]}),
    )
    .key(key)
    .send(&emu)
    .await;
    assert_eq!(filtered.ok()["TotalCount"], 1);
    Req::new(
        "lighthouse",
        "DeleteBlueprints",
        json!({"BlueprintIds": ["lhbp-golden01"]}),
    )
    .key(key)
    .send(&emu)
    .await
    .err("UnsupportedOperation.BlueprintOccupied");
}

#[tokio::test]
async fn sync_and_delete_blueprints() {
    let emu = example().await;
    let sync =
        |regions: &[&str]| json!({"BlueprintId": "lhbp-6jc6l8yb", "DestinationRegions": regions});
    let made = lh(&emu, "SyncBlueprint", sync(&["ap-shanghai"])).await;
    let set = made.ok()["DestinationRegionBlueprintSet"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(set[0]["Region"], "ap-shanghai");
    assert!(set[0]["BlueprintId"].as_str().unwrap().starts_with("lhbp-"));
    for (body, code) in [
        (
            sync(&[REGION]),
            "InvalidParameterValue.DestinationRegionSameAsSourceRegion",
        ),
        (
            sync(&["ap-singapore"]),
            "InvalidParameterValue.NotSupportCrossBorderSyncBlueprint",
        ),
        (
            sync(&["ap-shanghai", "ap-shanghai"]),
            "InvalidParameterValue.Duplicated",
        ),
        (
            sync(&["mars-north-1"]),
            "InvalidParameterValue.UnavailableRegion",
        ),
        (
            json!({"BlueprintId": "lhbp-nothere1", "DestinationRegions": ["ap-shanghai"]}),
            "ResourceNotFound.PrivateBlueprintNotFound",
        ),
    ] {
        lh(&emu, "SyncBlueprint", body).await.err(code);
    }
    lh(
        &emu,
        "DeleteBlueprints",
        json!({"BlueprintIds": ["lhbp-6jc6l8yb", "lhbp-6jc6l8yb"]}),
    )
    .await
    .err("InvalidParameterValue.Duplicated");
    lh(
        &emu,
        "DeleteBlueprints",
        json!({"BlueprintIds": ["lhbp-nothere1"]}),
    )
    .await
    .err("ResourceNotFound.BlueprintIdNotFound");
    lh(
        &emu,
        "DeleteBlueprints",
        json!({"BlueprintIds": ["lhbp-6jc6l8yb"]}),
    )
    .await
    .ok();
}

#[tokio::test]
async fn cvm_image_to_lighthouse_on_the_wire() {
    let emu = example().await;
    let list = lh(&emu, "DescribeImagesToShare", json!({})).await;
    let set = list.ok()["ImageSet"].as_array().unwrap().clone();
    // Without an image-type filter: the caller's own CVM images.
    assert_eq!(list.ok()["TotalCount"], 4);
    let by_id = |id: &str| set.iter().find(|i| i["ImageId"] == id).unwrap().clone();
    assert_eq!(by_id("img-6pb6lrmy")["IsShareable"], true);
    assert_eq!(by_id("img-6pb6lrmy")["UnshareableReason"], "");
    assert_eq!(by_id("img-whole001")["ImageClass"], "InstanceImage");
    assert_eq!(by_id("img-whole001")["IsShareable"], false);
    assert!(!by_id("img-creating")["UnshareableReason"]
        .as_str()
        .unwrap()
        .is_empty());

    let modify = |permission: &str| json!({"ImageId": "img-6pb6lrmy", "Permission": permission});
    let shared = lh(&emu, "ModifyImageSharePermission", modify("SHARE")).await;
    assert_eq!(shared.ok()["BlueprintId"], "lhbp-6pb6lrmy");
    let bp = lh(
        &emu,
        "DescribeBlueprints",
        json!({"BlueprintIds": ["lhbp-6pb6lrmy"]}),
    )
    .await;
    assert_eq!(bp.ok()["BlueprintSet"][0]["ImageId"], "img-6pb6lrmy");
    assert_eq!(bp.ok()["BlueprintSet"][0]["BlueprintType"], "PRIVATE");
    lh(&emu, "ModifyImageSharePermission", modify("SHARE"))
        .await
        .err("UnsupportedOperation.ImageAlreadyShared");
    lh(&emu, "ModifyImageSharePermission", modify("CANEL"))
        .await
        .err("InvalidParameterValue");
    lh(
        &emu,
        "ModifyImageSharePermission",
        json!({"ImageId": "img-whole001", "Permission": "SHARE"}),
    )
    .await
    .err("UnsupportedOperation.ImageUnableToShare");
    lh(
        &emu,
        "ModifyImageSharePermission",
        json!({"ImageId": "img-nothere1", "Permission": "SHARE"}),
    )
    .await
    .err("ResourceNotFound.ImageIdNotFound");
    lh(
        &emu,
        "ModifyImageSharePermission",
        json!({"ImageId": "lhbp-1", "Permission": "SHARE"}),
    )
    .await
    .err("InvalidParameterValue.InvalidImageIdMalformed");
    let cancelled = lh(&emu, "ModifyImageSharePermission", modify("CANCEL")).await;
    assert_eq!(cancelled.ok()["BlueprintId"], Value::Null);
    lh(&emu, "ModifyImageSharePermission", modify("CANCEL"))
        .await
        .err("FailedOperation.ImageOperationFailed");
}

#[tokio::test]
async fn throttling_answer_is_tencents() {
    let emu = example().await;
    emu.set_faults(
        imageshare_emulator::FaultPlan::seeded(1).rule(
            imageshare_emulator::FaultRule::new()
                .with_provider(imageshare_tencent::LIGHTHOUSE)
                .with_action("DescribeBlueprints")
                .with_qps(1),
        ),
    );
    lh(&emu, "DescribeBlueprints", json!({})).await.ok();
    lh(&emu, "DescribeBlueprints", json!({}))
        .await
        .err("RequestLimitExceeded");
}

// ------------------------------------------------------------------------- batched lookups

#[tokio::test]
async fn describe_images_and_blueprints_take_up_to_100_ids() {
    let emu = example().await;
    // (service, action, ids parameter, id prefix, a known id, answer set, its id field)
    let cases = [
        (
            "cvm",
            "DescribeImages",
            "ImageIds",
            "img-",
            "img-6pb6lrmy",
            "ImageSet",
            "ImageId",
        ),
        (
            "lighthouse",
            "DescribeBlueprints",
            "BlueprintIds",
            "lhbp-",
            "lhbp-6jc6l8yb",
            "BlueprintSet",
            "BlueprintId",
        ),
    ];
    for (service, action, param, prefix, known, set, field) in cases {
        let ids = |n: usize| {
            let mut v: Vec<String> = (0..n - 1).map(|i| format!("{prefix}{i:08x}")).collect();
            v.push(known.to_owned());
            v
        };
        // 100 ids are one answer with the known image; 101 are refused.
        let a = Req::new(service, action, json!({param: ids(100), "Limit": 100}))
            .send(&emu)
            .await;
        let r = a.ok();
        assert_eq!(r["TotalCount"], 1, "{service}");
        assert_eq!(r[set][0][field], known, "{service}");
        Req::new(service, action, json!({param: ids(101)}))
            .send(&emu)
            .await
            .err("InvalidParameterValue.LimitExceeded");
    }
}

// -------------------------------------------------------------------- CBS (#17 bug 8a)

/// CBS `DescribeSnapshots` answers the snapshot ids CVM `DescribeImages` lists, with
/// `Encrypt` from the world; only the owner sees them; TC3 is verified as for CVM.
#[tokio::test]
async fn cbs_describe_snapshots_reports_the_images_snapshots_and_their_encryption() {
    let emu = example().await;
    let images = cvm(
        &emu,
        "DescribeImages",
        json!({"ImageIds": ["img-enc00001", "img-6pb6lrmy", "img-whole001"]}),
    )
    .await;
    let mut owner_of = std::collections::BTreeMap::new();
    for i in images.ok()["ImageSet"].as_array().unwrap() {
        for s in i["SnapshotSet"].as_array().unwrap() {
            owner_of.insert(
                s["SnapshotId"].as_str().unwrap().to_owned(),
                i["ImageId"].as_str().unwrap().to_owned(),
            );
        }
    }
    assert_eq!(
        owner_of.len(),
        4,
        "system disks of three, a data disk of the whole one"
    );
    let ids: Vec<&String> = owner_of.keys().collect();
    let cbs = |body: Value| Req::new("cbs", "DescribeSnapshots", body);
    let all = cbs(json!({"SnapshotIds": ids, "Limit": 100}))
        .send(&emu)
        .await;
    let all = all.ok();
    assert_eq!(all["TotalCount"], 4);
    for s in all["SnapshotSet"].as_array().unwrap() {
        let image = &owner_of[s["SnapshotId"].as_str().unwrap()];
        assert_eq!(s["Encrypt"], json!(image == "img-enc00001"), "{s}");
        assert!(matches!(
            s["DiskUsage"].as_str(),
            Some("SYSTEM_DISK" | "DATA_DISK")
        ));
    }
    let encrypted = cbs(json!({"Filters": [{"Name": "encrypt", "Values": ["TRUE"]}]}))
        .send(&emu)
        .await;
    let set = encrypted.ok()["SnapshotSet"].as_array().unwrap().clone();
    assert_eq!(set.len(), 1);
    assert_eq!(
        owner_of[set[0]["SnapshotId"].as_str().unwrap()],
        "img-enc00001"
    );
    // Unknown ids are left out; another account sees none of the owner's snapshots.
    let unknown = cbs(json!({"SnapshotIds": ["snap-00000000"]}))
        .send(&emu)
        .await;
    assert_eq!(unknown.ok()["TotalCount"], 0);
    let peer = cbs(json!({"SnapshotIds": ids})).key(PEER).send(&emu).await;
    assert_eq!(peer.ok()["TotalCount"], 0);
    // Refusals.
    cbs(json!({"SnapshotIds": ["img-6pb6lrmy"]}))
        .send(&emu)
        .await
        .err("InvalidParameterValue");
    cbs(json!({"SnapshotIds": ids, "Filters": [{"Name": "encrypt", "Values": ["TRUE"]}]}))
        .send(&emu)
        .await
        .err("InvalidParameterValue");
    cbs(json!({"SnapshotIds": ids, "Limit": 101}))
        .send(&emu)
        .await
        .err("InvalidParameterValue");
    Req {
        tamper: true,
        ..cbs(json!({"SnapshotIds": ["snap-img-1"]}))
    }
    .send(&emu)
    .await
    .err("AuthFailure.SignatureFailure");
    Req::new("cbs", "DescribeDisks", json!({}))
        .send(&emu)
        .await
        .err("InvalidAction");
}
