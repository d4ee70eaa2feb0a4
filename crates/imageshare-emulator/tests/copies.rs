//! Copies on the wire, as the distribution engine uses them (issue #15 §1, §4): a copy is
//! found again by name in its target region while it is being made (with its progress),
//! once available, and once failed; copy times per image size and target region; copy
//! faults; each cloud's naming of copies. Hand-signed requests, no adapter.

use std::time::Duration;

use imageshare_alibaba::signer::rpc_v1;
use imageshare_core::{time, Site};
use imageshare_emulator::world::{CopyFault, CopyTime};
use imageshare_emulator::{Emulator, ImageSeed, World, WorldBuilder};
use imageshare_tencent::signer::{sign, Tc3Request};
use imageshare_tencent::TencentCredentials;
use imageshare_ucloud::signer::{form_encode, sign_request};
use imageshare_ucloud::UCloudCredentials;
use serde_json::{json, Value};

const OWNER: &str = "100000000001";

/// One account owning a golden image on every cloud: ECS in cn-hangzhou (40 GiB), CVM and
/// Lighthouse in ap-guangzhou, UHost in cn-bj2 (project org-a1).
fn builder() -> WorldBuilder {
    World::builder()
        .account(OWNER, Site::China)
        .project("org-a1")
        .image(
            ImageSeed::new(
                imageshare_alibaba::ECS,
                "m-golden0001",
                OWNER,
                "cn-hangzhou",
            )
            .name("golden"),
        )
        .image(
            ImageSeed::new(
                imageshare_tencent::CVM,
                "img-golden01",
                OWNER,
                "ap-guangzhou",
            )
            .name("golden"),
        )
        .image(
            ImageSeed::new(
                imageshare_tencent::LIGHTHOUSE,
                "lhbp-golden01",
                OWNER,
                "ap-guangzhou",
            )
            .name("golden-bp"),
        )
        .image(
            ImageSeed::new(
                imageshare_ucloud::UHOST,
                "uimage-golden",
                "org-a1",
                "cn-bj2",
            )
            .name("golden"),
        )
}

async fn start(b: WorldBuilder) -> Emulator {
    Emulator::start(b.build().expect("valid world"))
        .await
        .expect("emulator")
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

// ------------------------------------------------------------------ requests, per cloud

async fn ecs(emu: &Emulator, action: &str, params: &[(&str, &str)]) -> Value {
    let creds = imageshare_alibaba::AlibabaCredentials::new(
        format!("LTAI{OWNER}"),
        format!("ali-secret-{OWNER}"),
    );
    let mut req = rpc_v1::RpcRequest::new(action, "2014-05-26");
    for (k, v) in params {
        req = req.param(*k, *v);
    }
    let signed = rpc_v1::sign(&creds, &req, time::now_unix(), &time::nonce());
    let url = format!("{}/?{}", emu.base_url(), signed.query_string());
    let text = reqwest::Client::new()
        .post(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The `Images.Image[]` ECS lists in `region` for `extra` (owner's own images).
async fn ecs_images(emu: &Emulator, region: &str, extra: &[(&str, &str)]) -> Vec<Value> {
    let mut params = vec![("RegionId", region), ("ImageOwnerAlias", "self")];
    params.extend_from_slice(extra);
    let v = ecs(emu, "DescribeImages", &params).await;
    v["Images"]["Image"]
        .as_array()
        .unwrap_or_else(|| panic!("no Images in {v}"))
        .clone()
}

async fn tc(emu: &Emulator, service: &str, action: &str, region: &str, body: Value) -> Value {
    let version = if service == "cvm" {
        "2017-03-12"
    } else {
        "2020-03-24"
    };
    let creds = TencentCredentials::new(format!("AKID{OWNER}"), format!("tc-secret-{OWNER}"));
    let body = body.to_string();
    let host = emu.addr().to_string();
    let req = Tc3Request::post_json(
        service,
        &host,
        action,
        version,
        body.as_bytes(),
        time::now_unix(),
    )
    .region(region);
    let sig = sign(&creds, &req);
    let mut rb = reqwest::Client::new().post(format!("{}/", emu.base_url()));
    for (k, v) in &sig.headers {
        if !k.eq_ignore_ascii_case("host") {
            rb = rb.header(*k, v.as_str());
        }
    }
    let text = rb.body(body).send().await.unwrap().text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["Response"].clone()
}

fn tc_code(r: &Value) -> Option<&str> {
    r["Error"]["Code"].as_str()
}

async fn ucloud(emu: &Emulator, params: &[(&str, &str)]) -> Value {
    let creds = UCloudCredentials::new(
        format!("ucloud{OWNER}@example.com"),
        format!("uc-private-{OWNER}"),
    );
    let params = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let body = form_encode(&sign_request(params, &creds));
    let resp = reqwest::Client::new()
        .post(emu.base_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

fn percent(v: &Value) -> u64 {
    v["Progress"]
        .as_str()
        .and_then(|p| p.strip_suffix('%'))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no Progress percentage in {v}"))
}

// ------------------------------------------------------------------------------ ECS

const ALL_STATES: &str = "Creating,Waiting,Available,UnAvailable,CreateFailed";

#[tokio::test]
async fn ecs_copy_is_found_by_name_while_creating_with_progress_then_available() {
    let emu = start(builder().copy_ready_after_ms(800)).await;
    let name = "golden-m-golden0001";
    let copy = ecs(
        &emu,
        "CopyImage",
        &[
            ("RegionId", "cn-hangzhou"),
            ("ImageId", "m-golden0001"),
            ("DestinationRegionId", "cn-shanghai"),
            ("DestinationImageName", name),
        ],
    )
    .await;
    let id = copy["ImageId"].as_str().expect("ImageId").to_owned();

    // Without Status, ECS lists Available images only: the copy is not there yet.
    let by_name = [("ImageName", name)];
    assert!(ecs_images(&emu, "cn-shanghai", &by_name).await.is_empty());

    let listed = ecs_images(
        &emu,
        "cn-shanghai",
        &[("ImageName", name), ("Status", ALL_STATES)],
    )
    .await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["ImageId"], id.as_str());
    assert_eq!(listed[0]["ImageName"], name);
    assert_eq!(listed[0]["Status"], "Creating");
    assert_eq!(listed[0]["IsCopied"], true);
    let early = percent(&listed[0]);
    assert!(early < 50, "just started: {early}%");

    sleep_ms(400).await;
    let mid = ecs_images(
        &emu,
        "cn-shanghai",
        &[("ImageName", name), ("Status", "Creating")],
    )
    .await;
    assert_eq!(mid.len(), 1);
    let later = percent(&mid[0]);
    assert!(later > early && later < 100, "{early}% then {later}%");

    sleep_ms(500).await;
    let done = ecs_images(&emu, "cn-shanghai", &by_name).await;
    assert_eq!(done.len(), 1, "available: listed by default");
    assert_eq!(done[0]["Status"], "Available");
    assert_eq!(percent(&done[0]), 100);

    // ImageName is a fuzzy match (alibaba.md §1.3): a part of the name finds it too; the
    // source region's image of the same stem is not in this region.
    let fuzzy = ecs_images(&emu, "cn-shanghai", &[("ImageName", "golden")]).await;
    assert_eq!(fuzzy.len(), 1);
    let other = ecs_images(&emu, "cn-shanghai", &[("ImageName", "silver")]).await;
    assert!(other.is_empty());
}

#[tokio::test]
async fn ecs_copy_fault_ends_in_create_failed_and_counts_its_times() {
    let emu = start(builder().copy_ready_after_ms(5_000).copy_fault(CopyFault {
        region: Some("cn-beijing".into()),
        fail_after_ms: 200,
        times: Some(1),
        ..CopyFault::default()
    }))
    .await;
    let copy = |name: &'static str| {
        let emu = &emu;
        async move {
            ecs(
                emu,
                "CopyImage",
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("ImageId", "m-golden0001"),
                    ("DestinationRegionId", "cn-beijing"),
                    ("DestinationImageName", name),
                ],
            )
            .await["ImageId"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let failing = copy("golden-first").await;
    let first = ecs_images(&emu, "cn-beijing", &[("Status", ALL_STATES)]).await;
    assert_eq!(first[0]["Status"], "Creating");

    sleep_ms(300).await;
    let failed = ecs_images(
        &emu,
        "cn-beijing",
        &[("ImageName", "golden-first"), ("Status", "CreateFailed")],
    )
    .await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["ImageId"], failing.as_str());
    assert!(percent(&failed[0]) < 100);
    // Not available, so not in a default listing.
    assert!(ecs_images(&emu, "cn-beijing", &[]).await.is_empty());

    // `times = 1`: the next copy into the region is not failed.
    copy("golden-second").await;
    sleep_ms(300).await;
    let second = ecs_images(
        &emu,
        "cn-beijing",
        &[("ImageName", "golden-second"), ("Status", ALL_STATES)],
    )
    .await;
    assert_eq!(second[0]["Status"], "Creating");
}

#[tokio::test]
async fn ecs_copy_names_checked_and_empty_by_default() {
    let emu = start(builder()).await;
    let base = [
        ("RegionId", "cn-hangzhou"),
        ("ImageId", "m-golden0001"),
        ("DestinationRegionId", "cn-shanghai"),
    ];
    for bad in [
        "1golden",
        "g",
        "aliyun-golden",
        "acs:golden",
        "golden http://x",
    ] {
        let mut p = base.to_vec();
        p.push(("DestinationImageName", bad));
        let v = ecs(&emu, "CopyImage", &p).await;
        assert_eq!(v["Code"], "InvalidImageName.Malformed", "{bad}: {v}");
    }
    let v = ecs(&emu, "CopyImage", &base).await;
    let id = v["ImageId"].as_str().unwrap();
    let listed = ecs_images(&emu, "cn-shanghai", &[]).await;
    assert_eq!(listed[0]["ImageId"], id);
    assert_eq!(
        listed[0]["ImageName"], "",
        "DestinationImageName defaults to empty"
    );
}

#[tokio::test]
async fn copy_time_follows_image_size_and_target_region() {
    // 100 ms + 10 ms/GiB: the 40 GiB golden image takes 500 ms; 200 GiB 2.1 s; copies into
    // cn-beijing are immediate.
    let emu = start(
        builder()
            .image(
                ImageSeed::new(
                    imageshare_alibaba::ECS,
                    "m-big0000001",
                    OWNER,
                    "cn-hangzhou",
                )
                .name("big")
                .size_gib(200),
            )
            .copy_ready_after_ms(100)
            .copy_ms_per_gib(10)
            .copy_time(CopyTime {
                region: "cn-beijing".into(),
                provider: None,
                ready_after_ms: Some(0),
                ms_per_gib: Some(0),
            }),
    )
    .await;
    for (image, region, name) in [
        ("m-golden0001", "cn-shanghai", "golden-sh"),
        ("m-big0000001", "cn-shanghai", "big-sh"),
        ("m-golden0001", "cn-beijing", "golden-bj"),
    ] {
        let v = ecs(
            &emu,
            "CopyImage",
            &[
                ("RegionId", "cn-hangzhou"),
                ("ImageId", image),
                ("DestinationRegionId", region),
                ("DestinationImageName", name),
            ],
        )
        .await;
        assert!(v["ImageId"].is_string(), "{v}");
    }
    let status = |region: &'static str, name: &'static str| {
        let emu = &emu;
        async move {
            let l = ecs_images(emu, region, &[("ImageName", name), ("Status", ALL_STATES)]).await;
            assert_eq!(l.len(), 1, "{name}: {l:?}");
            (l[0]["Status"].as_str().unwrap().to_owned(), percent(&l[0]))
        }
    };
    assert_eq!(status("cn-beijing", "golden-bj").await.0, "Available");
    assert_eq!(status("cn-shanghai", "golden-sh").await.0, "Creating");
    assert_eq!(
        ecs_images(&emu, "cn-shanghai", &[("ImageName", "big-sh")])
            .await
            .len(),
        0
    );

    sleep_ms(700).await;
    assert_eq!(
        status("cn-shanghai", "golden-sh").await,
        ("Available".into(), 100)
    );
    let (big, big_progress) = status("cn-shanghai", "big-sh").await;
    assert_eq!(big, "Creating", "200 GiB take 2.1 s");
    assert!(
        (25..60).contains(&big_progress),
        "{big_progress}% after ~0.7 of 2.1 s"
    );
}

// ------------------------------------------------------------------------------ CVM

#[tokio::test]
async fn cvm_sync_copy_is_found_by_image_name_filter_syncing_then_normal() {
    let emu = start(builder().copy_ready_after_ms(800)).await;
    let name = "golden-img-golden01";
    let r = tc(
        &emu,
        "cvm",
        "SyncImages",
        "ap-guangzhou",
        json!({"ImageIds": ["img-golden01"], "DestinationRegions": ["ap-shanghai"],
               "ImageName": name, "ImageSetRequired": true}),
    )
    .await;
    let id = r["ImageSet"][0]["ImageId"]
        .as_str()
        .expect("new id")
        .to_owned();
    assert_eq!(r["ImageSet"][0]["Region"], "ap-shanghai");

    let lookup = || {
        let emu = &emu;
        async move {
            let r = tc(
                emu,
                "cvm",
                "DescribeImages",
                "ap-shanghai",
                json!({"Filters": [
                    {"Name": "image-name", "Values": [name]},
                    {"Name": "image-type", "Values": ["PRIVATE_IMAGE"]},
                ]}),
            )
            .await;
            r["ImageSet"].as_array().expect("ImageSet").clone()
        }
    };
    let set = lookup().await;
    assert_eq!(set.len(), 1, "{set:?}");
    assert_eq!(set[0]["ImageId"], id.as_str());
    assert_eq!(set[0]["ImageName"], name);
    assert_eq!(set[0]["ImageState"], "SYNCING");
    let early = set[0]["SyncPercent"].as_u64().unwrap();
    assert!(early < 50);
    sleep_ms(400).await;
    let mid = lookup().await[0]["SyncPercent"].as_u64().unwrap();
    assert!(mid > early && mid < 100, "{early} then {mid}");
    sleep_ms(500).await;
    let done = lookup().await;
    assert_eq!(done[0]["ImageState"], "NORMAL");
    assert_eq!(done[0]["SyncPercent"], 100);
}

#[tokio::test]
async fn cvm_sync_names_failures_and_limits() {
    let emu = start(builder().copy_fault(CopyFault {
        provider: Some(imageshare_tencent::CVM),
        region: Some("ap-beijing".into()),
        fail_after_ms: 0,
        ..CopyFault::default()
    }))
    .await;
    // Without ImageName the copy keeps the source's name (tencent.md §1.4).
    let r = tc(
        &emu,
        "cvm",
        "SyncImages",
        "ap-guangzhou",
        json!({"ImageIds": ["img-golden01"], "DestinationRegions": ["ap-shanghai", "ap-beijing"]}),
    )
    .await;
    assert!(tc_code(&r).is_none(), "{r}");
    assert_eq!(r["ImageSet"], json!([]), "ImageSetRequired not set");
    for (region, state) in [("ap-shanghai", "NORMAL"), ("ap-beijing", "CREATEFAILED")] {
        let r = tc(
            &emu,
            "cvm",
            "DescribeImages",
            region,
            json!({"Filters": [{"Name": "image-name", "Values": ["golden"]}]}),
        )
        .await;
        let set = r["ImageSet"].as_array().unwrap();
        assert_eq!(set.len(), 1, "{region}: {set:?}");
        assert_eq!(set[0]["ImageName"], "golden");
        assert_eq!(set[0]["ImageState"], state, "{region}");
    }
    let long = "g".repeat(61);
    let r = tc(
        &emu,
        "cvm",
        "SyncImages",
        "ap-guangzhou",
        json!({"ImageIds": ["img-golden01"], "DestinationRegions": ["ap-chengdu"], "ImageName": long}),
    )
    .await;
    assert_eq!(tc_code(&r), Some("InvalidParameterValue.TooLong"));
}

// ------------------------------------------------------------------------- Lighthouse

#[tokio::test]
async fn sync_blueprint_keeps_the_name_and_is_found_syncing_then_normal() {
    let emu = start(builder().copy_ready_after_ms(500)).await;
    let r = tc(
        &emu,
        "lighthouse",
        "SyncBlueprint",
        "ap-guangzhou",
        json!({"BlueprintId": "lhbp-golden01", "DestinationRegions": ["ap-shanghai"]}),
    )
    .await;
    let set = r["DestinationRegionBlueprintSet"].as_array().expect("set");
    let id = set[0]["BlueprintId"].as_str().unwrap().to_owned();
    let lookup = || {
        let emu = &emu;
        async move {
            let r = tc(
                emu,
                "lighthouse",
                "DescribeBlueprints",
                "ap-shanghai",
                json!({"Filters": [
                    {"Name": "blueprint-name", "Values": ["golden-bp"]},
                    {"Name": "blueprint-type", "Values": ["PRIVATE"]},
                ]}),
            )
            .await;
            r["BlueprintSet"].as_array().expect("BlueprintSet").clone()
        }
    };
    let found = lookup().await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["BlueprintId"], id.as_str());
    assert_eq!(
        found[0]["BlueprintName"], "golden-bp",
        "the copy keeps the name"
    );
    assert_eq!(found[0]["BlueprintState"], "SYNCING");
    sleep_ms(600).await;
    assert_eq!(lookup().await[0]["BlueprintState"], "NORMAL");
}

#[tokio::test]
async fn sync_blueprint_faults_and_limits() {
    let emu = start(builder().copy_ready_after_ms(2_000).copy_fault(CopyFault {
        image: Some("lhbp-golden01".into()),
        fail_after_ms: 100,
        ..CopyFault::default()
    }))
    .await;
    let r = tc(
        &emu,
        "lighthouse",
        "SyncBlueprint",
        "ap-guangzhou",
        json!({"BlueprintId": "lhbp-golden01", "DestinationRegions": ["ap-beijing"]}),
    )
    .await;
    assert!(tc_code(&r).is_none(), "{r}");
    sleep_ms(200).await;
    let r = tc(
        &emu,
        "lighthouse",
        "DescribeBlueprints",
        "ap-beijing",
        json!({"Filters": [{"Name": "blueprint-name", "Values": ["golden-bp"]}]}),
    )
    .await;
    assert_eq!(r["BlueprintSet"][0]["BlueprintState"], "SYNCING_FAILED");

    let eleven: Vec<String> = (0..11).map(|i| format!("ap-region{i}")).collect();
    let r = tc(
        &emu,
        "lighthouse",
        "SyncBlueprint",
        "ap-guangzhou",
        json!({"BlueprintId": "lhbp-golden01", "DestinationRegions": eleven}),
    )
    .await;
    assert_eq!(tc_code(&r), Some("LimitExceeded"));
    let r = tc(
        &emu,
        "lighthouse",
        "SyncBlueprint",
        "ap-guangzhou",
        json!({"BlueprintId": "lhbp-golden01", "DestinationRegions": ["ap-singapore"]}),
    )
    .await;
    assert_eq!(
        tc_code(&r),
        Some("InvalidParameterValue.NotSupportCrossBorderSyncBlueprint")
    );
}

// --------------------------------------------------------------------------- UCloud

async fn uhost_custom(emu: &Emulator, region: &str) -> Vec<Value> {
    let v = ucloud(
        emu,
        &[
            ("Action", "DescribeImage"),
            ("Region", region),
            ("ProjectId", "org-a1"),
            ("ImageType", "Custom"),
            ("Offset", "0"),
            ("Limit", "100"),
        ],
    )
    .await;
    v["ImageSet"].as_array().expect("ImageSet").clone()
}

#[tokio::test]
async fn uhost_copy_is_listed_copying_then_available_or_unavailable_when_failed() {
    let emu = start(builder().copy_ready_after_ms(400).copy_fault(CopyFault {
        region: Some("hk".into()),
        fail_after_ms: 100,
        ..CopyFault::default()
    }))
    .await;
    let copy = |region: &'static str, name: Option<&'static str>| {
        let emu = &emu;
        async move {
            let mut p = vec![
                ("Action", "CopyCustomImage"),
                ("Region", "cn-bj2"),
                ("ProjectId", "org-a1"),
                ("SourceImageId", "uimage-golden"),
                ("TargetProjectId", "org-a1"),
                ("TargetRegion", region),
            ];
            if let Some(n) = name {
                p.push(("TargetImageName", n));
            }
            let v = ucloud(emu, &p).await;
            v["TargetImageId"]
                .as_str()
                .unwrap_or_else(|| panic!("{v}"))
                .to_owned()
        }
    };
    let id = copy("cn-sh2", Some("golden-uimage-golden")).await;
    let failing = copy("hk", None).await;
    // DescribeImage has no name parameter: the caller picks the name from the listing.
    let sh = uhost_custom(&emu, "cn-sh2").await;
    let mine = sh
        .iter()
        .find(|i| i["ImageId"] == id.as_str())
        .expect("listed");
    assert_eq!(mine["ImageName"], "golden-uimage-golden");
    assert_eq!(mine["State"], "Copying");
    sleep_ms(500).await;
    let sh = uhost_custom(&emu, "cn-sh2").await;
    assert_eq!(sh[0]["State"], "Available");
    let hk = uhost_custom(&emu, "hk").await;
    assert_eq!(hk[0]["ImageId"], failing.as_str());
    assert_eq!(
        hk[0]["ImageName"], "golden",
        "no TargetImageName: the source's name"
    );
    assert_eq!(hk[0]["State"], "Unavailable");
}

// ------------------------------------------------------------------------ world file

#[test]
fn world_file_reads_copy_settings() {
    let text = r#"
copy_ready_after_ms = 5000
copy_ms_per_gib = 500

[[account]]
id = "100000000001"

[[image]]
provider = "alibaba-ecs"
id = "m-bp1golden"
owner = "100000000001"
region = "cn-hangzhou"
size_gib = 80

[[copy_time]]
region = "cn-beijing"
provider = "alibaba-ecs"
ready_after_ms = 60000

[[copy_fault]]
region = "cn-shanghai"
image = "m-bp1golden"
fail_after_ms = 2000
times = 1
"#;
    let w = World::from_toml_str(text).expect("valid");
    assert_eq!(w.copy_ms_per_gib, 500);
    assert_eq!(w.images[0].size_gib, Some(80));
    assert_eq!(w.copy_times[0].ready_after_ms, Some(60_000));
    assert_eq!(w.copy_faults[0].times, Some(1));
    assert_eq!(
        imageshare_emulator::world::copies::copy_duration(
            &w,
            imageshare_alibaba::ECS,
            "cn-beijing",
            80
        ),
        Duration::from_millis(60_000 + 500 * 80)
    );
    assert_eq!(
        imageshare_emulator::world::copies::copy_duration(
            &w,
            imageshare_alibaba::ECS,
            "cn-shanghai",
            80
        ),
        Duration::from_millis(5_000 + 500 * 80)
    );

    let typo = text.replace("fail_after_ms", "fail_after");
    let e = World::from_toml_str(&typo).unwrap_err().to_string();
    assert!(e.contains("unknown field `fail_after`"), "{e}");
    let zero = text.replace("times = 1", "times = 0");
    let e = World::from_toml_str(&zero).unwrap_err().to_string();
    assert!(e.contains("times must be at least 1"), "{e}");
}

// ------------------------------------------------------------------ busy sync sources

#[tokio::test]
async fn sync_sources_are_held_busy_when_the_world_says_so() {
    let emu = start(builder().copy_ready_after_ms(400).copy_source_busy(true)).await;
    // Lighthouse: the source shows SYNCING until the call's copies end; another sync of it
    // meanwhile is refused; afterwards it works again.
    let sync = |regions: Value| {
        let emu = &emu;
        async move {
            tc(
                emu,
                "lighthouse",
                "SyncBlueprint",
                "ap-guangzhou",
                json!({"BlueprintId": "lhbp-golden01", "DestinationRegions": regions}),
            )
            .await
        }
    };
    let source_state = || {
        let emu = &emu;
        async move {
            tc(
                emu,
                "lighthouse",
                "DescribeBlueprints",
                "ap-guangzhou",
                json!({"BlueprintIds": ["lhbp-golden01"]}),
            )
            .await["BlueprintSet"][0]["BlueprintState"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let first = sync(json!(["ap-shanghai", "ap-beijing"])).await;
    assert!(tc_code(&first).is_none(), "one call, two regions: {first}");
    assert_eq!(source_state().await, "SYNCING");
    let again = sync(json!(["ap-chengdu"])).await;
    assert_eq!(
        tc_code(&again),
        Some("FailedOperation.UnableToSyncBlueprint")
    );
    sleep_ms(500).await;
    assert_eq!(source_state().await, "NORMAL");
    assert!(tc_code(&sync(json!(["ap-chengdu"])).await).is_none());

    // CVM: the same, refused with FailedOperation.InvalidImageState.
    let cvm_sync = |region: &'static str| {
        let emu = &emu;
        async move {
            tc(
                emu,
                "cvm",
                "SyncImages",
                "ap-guangzhou",
                json!({"ImageIds": ["img-golden01"], "DestinationRegions": [region]}),
            )
            .await
        }
    };
    assert!(tc_code(&cvm_sync("ap-shanghai").await).is_none());
    let source = tc(
        &emu,
        "cvm",
        "DescribeImages",
        "ap-guangzhou",
        json!({"ImageIds": ["img-golden01"]}),
    )
    .await;
    assert_eq!(source["ImageSet"][0]["ImageState"], "SYNCING");
    assert_eq!(
        tc_code(&cvm_sync("ap-beijing").await),
        Some("FailedOperation.InvalidImageState")
    );
    sleep_ms(500).await;
    assert!(tc_code(&cvm_sync("ap-beijing").await).is_none());
}

#[tokio::test]
async fn sync_sources_are_not_held_by_default() {
    let emu = start(builder().copy_ready_after_ms(5_000)).await;
    for region in ["ap-shanghai", "ap-beijing"] {
        let r = tc(
            &emu,
            "lighthouse",
            "SyncBlueprint",
            "ap-guangzhou",
            json!({"BlueprintId": "lhbp-golden01", "DestinationRegions": [region]}),
        )
        .await;
        assert!(tc_code(&r).is_none(), "{region}: {r}");
    }
}

#[tokio::test]
async fn the_state_api_shows_copies_with_state_progress_and_size() {
    let emu = start(builder().copy_ready_after_ms(5_000).copy_fault(CopyFault {
        region: Some("cn-beijing".into()),
        ..CopyFault::default()
    }))
    .await;
    for region in ["cn-shanghai", "cn-beijing"] {
        ecs(
            &emu,
            "CopyImage",
            &[
                ("RegionId", "cn-hangzhou"),
                ("ImageId", "m-golden0001"),
                ("DestinationRegionId", region),
                ("DestinationImageName", "golden-copy"),
            ],
        )
        .await;
    }
    let text = reqwest::get(format!("{}/_imageshare/state", emu.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let state: Value = serde_json::from_str(&text).unwrap();
    let images = state["images"].as_array().unwrap();
    let in_region = |r: &str| {
        images
            .iter()
            .find(|i| i["region"] == r && i["provider"] == "alibaba-ecs")
            .unwrap_or_else(|| panic!("no copy in {r}: {images:?}"))
    };
    assert_eq!(in_region("cn-shanghai")["state"], "creating");
    assert!(in_region("cn-shanghai")["progress"].as_u64().unwrap() < 100);
    assert_eq!(in_region("cn-shanghai")["size_gib"], 40);
    assert_eq!(in_region("cn-beijing")["state"], "failed");
    assert_eq!(in_region("cn-hangzhou")["progress"], 100);
}

#[tokio::test]
async fn ecs_copies_being_made_are_cancelled_not_deleted() {
    let emu = start(builder().copy_ready_after_ms(400)).await;
    let copy = |name: &'static str| {
        let emu = &emu;
        async move {
            ecs(
                emu,
                "CopyImage",
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("ImageId", "m-golden0001"),
                    ("DestinationRegionId", "cn-shanghai"),
                    ("DestinationImageName", name),
                ],
            )
            .await["ImageId"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let in_sh = |id: String| {
        let emu = &emu;
        async move {
            let v = ecs(
                emu,
                "DeleteImage",
                &[("RegionId", "cn-shanghai"), ("ImageId", id.as_str())],
            )
            .await;
            v["Code"].as_str().map(str::to_owned)
        }
    };
    let cancel = |id: String, region: &'static str| {
        let emu = &emu;
        async move {
            let v = ecs(
                emu,
                "CancelCopyImage",
                &[("RegionId", region), ("ImageId", id.as_str())],
            )
            .await;
            v["Code"].as_str().map(str::to_owned)
        }
    };
    let first = copy("golden-one").await;
    assert_eq!(
        in_sh(first.clone()).await.as_deref(),
        Some("IncorrectImageStatus")
    );
    assert_eq!(cancel(first.clone(), "cn-shanghai").await, None);
    let left = ecs_images(&emu, "cn-shanghai", &[("Status", ALL_STATES)]).await;
    assert!(left.is_empty(), "the cancelled copy is gone: {left:?}");
    assert_eq!(
        cancel(first, "cn-shanghai").await.as_deref(),
        Some("InvalidImageId.NotFound")
    );
    // Not a copy; a finished copy (which DeleteImage then deletes).
    assert_eq!(
        cancel("m-golden0001".into(), "cn-hangzhou")
            .await
            .as_deref(),
        Some("ImageCreatedNotFromCopy")
    );
    let second = copy("golden-two").await;
    sleep_ms(500).await;
    assert_eq!(
        cancel(second.clone(), "cn-shanghai").await.as_deref(),
        Some("IncorrectImageStatus")
    );
    assert_eq!(in_sh(second).await, None);
}
