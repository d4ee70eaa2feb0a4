//! The cross-product rules in the engine (engine::cross_product): CVM -> Lighthouse
//! eligibility, and a SAS image shared to ECS counting as shared on delete; the Lighthouse
//! wording of each reason is pinned as the front-end answered it before the move.

mod common;

use common::send;
use imageshare_core::time::now_unix;
use imageshare_core::LimitRule;
use imageshare_emulator::engine::{sas_to_ecs_key, Engine, EngineError, Ineligible, Relation};
use imageshare_emulator::{Emulator, ImageSeed, World};
use imageshare_tencent::signer::{sign as tc3_sign, Tc3Request};
use imageshare_tencent::TencentCredentials;
use serde_json::{json, Value};

const OWNER: &str = "100000000001";

#[test]
fn cvm_to_lighthouse_eligibility_is_the_engines() {
    let cvm = imageshare_tencent::CVM;
    let mut e = Engine::new(World::example());
    let mut why = |id: &str| {
        let v = e.image(cvm, OWNER, "ap-guangzhou", id).unwrap();
        e.cvm_to_lighthouse(&v)
    };
    assert_eq!(why("img-6pb6lrmy"), Ok(()));
    assert_eq!(why("img-whole001"), Err(Ineligible::WholeMachine));
    assert_eq!(why("img-creating"), Err(Ineligible::NotAvailable));
    assert_eq!(why("img-recv0001"), Err(Ineligible::NotOwned));
    let seed = ImageSeed::new(
        imageshare_tencent::LIGHTHOUSE,
        "lhbp-6pb6lrmy",
        OWNER,
        "ap-guangzhou",
    );
    e.add_image(&seed);
    let v = e.image(cvm, OWNER, "ap-guangzhou", "img-6pb6lrmy").unwrap();
    assert_eq!(v.relation, Relation::Owner);
    assert_eq!(e.cvm_to_lighthouse(&v), Err(Ineligible::AlreadyShared));
}

#[test]
fn a_sas_image_shared_to_ecs_is_not_deleted() {
    let sas = imageshare_alibaba::SAS;
    let mut e = Engine::new(World::example());
    let id = "m-sas000000001";
    assert!(e.check_delete(sas, OWNER, "cn-hangzhou", id).is_ok());
    let ecs_side = ImageSeed::new(
        imageshare_alibaba::ECS,
        &sas_to_ecs_key(id),
        "1999999999999999",
        "cn-hangzhou",
    );
    e.add_image(&ecs_side);
    assert!(e.shared_elsewhere(sas, id));
    match e.delete(sas, OWNER, "cn-hangzhou", id) {
        Err(EngineError::Rule { rule, message }) => {
            assert_eq!(rule, LimitRule::DeleteWhileShared);
            assert_eq!(message, "m-sas000000001 is shared to ECS");
        }
        other => panic!("{other:?}"),
    }
}

async fn lighthouse(emu: &Emulator, action: &str, body: Value) -> Value {
    let creds = TencentCredentials::new("AKIDEMU0000000000000000000000001", "emu-tencent-secret-1");
    let payload = body.to_string().into_bytes();
    let host = emu.addr().to_string();
    let req = Tc3Request::post_json(
        "lighthouse",
        &host,
        action,
        "2020-03-24",
        &payload,
        now_unix(),
    )
    .region("ap-guangzhou");
    let sig = tc3_sign(&creds, &req);
    let headers: Vec<(String, String)> = sig
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    send(emu, "POST", "", &headers, payload).await.body["Response"].clone()
}

#[tokio::test]
async fn lighthouse_words_each_reason_as_before() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let reasons = |r: &Value| -> Vec<(String, String)> {
        r["ImageSet"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let id = i["ImageId"].as_str().unwrap().to_owned();
                (id, i["UnshareableReason"].as_str().unwrap().to_owned())
            })
            .collect()
    };
    let all =
        json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE", "SHARED_IMAGE"]}]});
    let before = reasons(&lighthouse(&emu, "DescribeImagesToShare", all.clone()).await);
    let share = json!({"ImageId": "img-6pb6lrmy", "Permission": "SHARE"});
    let shared = lighthouse(&emu, "ModifyImageSharePermission", share.clone()).await;
    assert_eq!(shared["BlueprintId"], "lhbp-6pb6lrmy", "{shared}");
    let after = reasons(&lighthouse(&emu, "DescribeImagesToShare", all).await);
    let again = lighthouse(&emu, "ModifyImageSharePermission", share).await;
    let reason = |set: &[(String, String)], id: &str| {
        set.iter()
            .find(|(i, _)| i == id)
            .map(|(_, r)| r.clone())
            .unwrap()
    };
    assert_eq!(reason(&before, "img-6pb6lrmy"), "");
    assert_eq!(
        reason(&before, "img-whole001"),
        "Whole-instance images cannot be shared to Lighthouse."
    );
    assert_eq!(
        reason(&before, "img-creating"),
        "The image is not in the NORMAL state."
    );
    assert_eq!(
        reason(&before, "img-recv0001"),
        "Only custom images of this account can be shared to Lighthouse."
    );
    assert_eq!(
        reason(&after, "img-6pb6lrmy"),
        "The image has already been shared to Lighthouse."
    );
    assert_eq!(
        again["Error"],
        json!({"Code": "UnsupportedOperation.ImageAlreadyShared",
               "Message": "The image `img-6pb6lrmy` has already been shared to Lighthouse as `lhbp-6pb6lrmy`."})
    );
}
