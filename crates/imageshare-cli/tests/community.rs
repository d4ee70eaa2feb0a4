//! Community images end to end against an in-process emulator whose world lets the owner
//! publish (`community_terms_signed`): `publish` without `--everyone-in-the-region` is
//! refused before anything is sent; with it the image is published, another account of
//! the region sees it (`DescribeImages` `ImageOwnerAlias=others` `IsPublic=true` on the
//! wire, `IsPublic: true`; not in `shared-with-me`), `audit`
//! shows the `publish` record (principal `everyone`) with the call's request id; then
//! `unpublish`, and the failures the cloud answers (an account that has not signed the
//! terms, an image that is not published) are recorded as failed.

mod common;

use common::{fresh_dir, run_async, stderr, stdout, strings, OWNER};
use imageshare::core::audit::{AuditAction, AuditOutcome, AuditPrincipal};
use imageshare::core::Site;
use imageshare::AuditLog;
use imageshare_emulator::{Emulator, ImageSeed, World};
use serde_json::Value;

const REGION: &str = "cn-hangzhou";
const IMAGE: &str = "m-commcli0001";
/// Another account of the region; it has not signed the community-image terms.
const PEER: &str = "100000000002";
const PEER_IMAGE: &str = "m-commcli0002";

fn world() -> World {
    let ecs = |id: &str, owner: &str| ImageSeed::new(imageshare::alibaba::ECS, id, owner, REGION);
    World::builder()
        .account(OWNER, Site::China)
        .community_terms_signed()
        .account(PEER, Site::China)
        .image(ecs(IMAGE, OWNER).name("community"))
        .image(ecs(PEER_IMAGE, PEER))
        .build()
        .unwrap()
}

/// Runs the CLI as `account` on ECS with the trail in `dir`.
async fn run(
    emu: &Emulator,
    dir: &std::path::Path,
    account: &str,
    args: &[&str],
) -> std::process::Output {
    let a = emu.account(account).unwrap().keys.alibaba.unwrap();
    let env = vec![
        ("ALIBABA_CLOUD_ACCESS_KEY_ID".to_owned(), a.id),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET".to_owned(), a.secret),
        ("IMAGESHARE_ENDPOINT".to_owned(), emu.base_url()),
    ];
    let trail = dir.join("audit.jsonl");
    let mut all = strings(&["-p", "alibaba-ecs", "-r", REGION, "--audit-log"]);
    all.push(trail.display().to_string());
    all.extend(strings(args));
    run_async(dir.to_owned(), all, env).await
}

/// The ids of `DescribeImages ImageOwnerAlias=others IsPublic=true` as `account`, on the
/// wire (no CLI command lists community images), with each image's `IsPublic`.
async fn community_images(emu: &Emulator, account: &str) -> Vec<(String, Value)> {
    use imageshare::alibaba::unstable::{rpc_v1, ECS_VERSION};
    use imageshare::core::time;
    let a = emu.account(account).unwrap().keys.alibaba.unwrap();
    let creds = imageshare::alibaba::AlibabaCredentials::new(a.id, a.secret);
    let req = rpc_v1::RpcRequest::new("DescribeImages", ECS_VERSION)
        .param("RegionId", REGION)
        .param("ImageOwnerAlias", "others")
        .param("IsPublic", "true");
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
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    body["Images"]["Image"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|i| {
            (
                i["ImageId"].as_str().unwrap().to_owned(),
                i["IsPublic"].clone(),
            )
        })
        .collect()
}

fn json(o: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_is_seen_by_the_region_audited_and_unpublished() {
    let emu = Emulator::start(world()).await.unwrap();
    let dir = fresh_dir("community");
    let trail = dir.join("audit.jsonl");
    let modify = || emu.action_count(imageshare::alibaba::ECS, "ModifyImageSharePermission");

    // Without the confirmation: a usage error (2), nothing sent, nothing recorded.
    let o = run(&emu, &dir, OWNER, &["publish", IMAGE]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--everyone-in-the-region"),
        "{}",
        stderr(&o)
    );
    assert_eq!(modify(), 0);
    assert!(!trail.exists());

    // Published.
    let o = run(
        &emu,
        &dir,
        OWNER,
        &["-o", "json", "publish", IMAGE, "--everyone-in-the-region"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let published = json(&o);
    assert_eq!(published["schema"], "imageshare/publish/v1");
    assert_eq!(published["image"], IMAGE);
    assert_eq!(published["public"], true);
    let request_id = published["request_id"].as_str().unwrap().to_owned();
    assert_eq!(modify(), 1);
    assert!(emu.with_engine(|e| e.is_community(IMAGE)));

    // Another account of the region sees it among the community images; it was shared
    // with no one.
    assert_eq!(
        community_images(&emu, PEER).await,
        [(IMAGE.to_owned(), Value::Bool(true))]
    );
    let o = run(&emu, &dir, PEER, &["-o", "json", "shared-with-me"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stdout(&o).contains(IMAGE), "{}", stdout(&o));
    // Looked up by id, it is a public image to that account (the trust policy's view).
    let o = run(&emu, &dir, PEER, &["-o", "json", "image", IMAGE]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["image"]["origin"], "public", "{}", stdout(&o));

    // The trail has the publish, for everyone, with the call's request id.
    let o = run(
        &emu,
        &dir,
        OWNER,
        &["-o", "json", "audit", "--action", "publish"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let records = json(&o)["records"].as_array().unwrap().clone();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["image"], IMAGE);
    assert_eq!(records[0]["action"], "publish");
    assert_eq!(
        records[0]["principal"],
        serde_json::json!({"kind": "everyone"})
    );
    assert_eq!(records[0]["outcome"], "granted");
    assert_eq!(records[0]["request_id"], request_id.as_str());
    let o = run(&emu, &dir, OWNER, &["audit", "--principal", "everyone"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.lines()
            .any(|l| l.contains(IMAGE) && l.contains("publish") && l.contains("everyone")),
        "{text}"
    );

    // Unpublished: the other account no longer sees it.
    let o = run(&emu, &dir, OWNER, &["-o", "json", "unpublish", IMAGE]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let unpublished = json(&o);
    assert_eq!(unpublished["schema"], "imageshare/unpublish/v1");
    assert_eq!(unpublished["public"], false);
    assert!(!unpublished["request_id"].as_str().unwrap().is_empty());
    assert!(!emu.with_engine(|e| e.is_community(IMAGE)));
    assert!(community_images(&emu, PEER).await.is_empty());

    // Refused by the cloud, and recorded as failed: unpublishing what is not published,
    // publishing without the signed terms.
    let o = run(&emu, &dir, OWNER, &["unpublish", IMAGE]).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("Image.NotPublic"), "{}", stderr(&o));
    let o = run(
        &emu,
        &dir,
        PEER,
        &["publish", PEER_IMAGE, "--everyone-in-the-region"],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("PublicImageAgreement.NotSigned"),
        "{}",
        stderr(&o)
    );

    let trail = AuditLog::read(&trail).unwrap();
    let got: Vec<_> = trail
        .iter()
        .map(|r| {
            assert_eq!(r.principal, AuditPrincipal::Everyone);
            (
                r.image.as_str(),
                r.action,
                r.outcome,
                r.error_code.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (IMAGE, AuditAction::Publish, AuditOutcome::Granted, None),
            (IMAGE, AuditAction::Unpublish, AuditOutcome::Revoked, None),
            (
                IMAGE,
                AuditAction::Unpublish,
                AuditOutcome::Failed,
                Some("Image.NotPublic")
            ),
            (
                PEER_IMAGE,
                AuditAction::Publish,
                AuditOutcome::Failed,
                Some("PublicImageAgreement.NotSigned")
            ),
        ]
    );
    // Who acted is named, as for grants.
    assert!(trail.iter().all(|r| r.identity.is_some()), "{trail:?}");
}
