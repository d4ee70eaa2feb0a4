//! The grant rules that the limit tables do not carry (engine::grant_rules), enforced by
//! the engine for every caller, and the exact Tencent answers the front-ends make of them
//! (code and message), which the move from the front-ends into the engine kept.

mod common;

use common::{send, Answer};
use imageshare_core::time::now_unix;
use imageshare_emulator::engine::{grant_rules, Engine, EngineError, GrantRefusal};
use imageshare_emulator::{Emulator, World};
use imageshare_tencent::signer::{sign as tc3_sign, Tc3Request};
use imageshare_tencent::TencentCredentials;
use serde_json::{json, Value};

const OWNER: &str = "100000000001";
const PEER: &str = "100000000002";

/// The default world plus a deprecated CVM image of the owner.
fn world() -> World {
    let text = format!(
        "{}\n[[image]]\nprovider = \"tencent-cvm\"\nid = \"img-deprec01\"\nowner = \"{OWNER}\"\n\
         region = \"ap-guangzhou\"\nstate = \"unavailable\"\n",
        World::EXAMPLE_TOML
    );
    World::from_toml_str(&text).unwrap()
}

fn many(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("3000000000{i:02}")).collect()
}

#[test]
fn the_engine_applies_each_clouds_grant_rules() {
    let cvm = imageshare_tencent::CVM;
    let lh = imageshare_tencent::LIGHTHOUSE;
    let mut e = Engine::new(world());
    let peer = vec![PEER.to_owned()];
    let both = vec!["200000000001".to_owned(), PEER.to_owned()];

    // CVM: a second share of the same account is refused, naming it; nothing changes.
    e.share(cvm, OWNER, "ap-guangzhou", "img-6pb6lrmy", &peer)
        .unwrap();
    let err = e.share(cvm, OWNER, "ap-guangzhou", "img-6pb6lrmy", &both);
    assert_eq!(
        err,
        Err(EngineError::Grant(GrantRefusal::AlreadyGranted {
            image: "img-6pb6lrmy".into(),
            principal: PEER.into(),
        }))
    );
    assert_eq!(e.grants("img-6pb6lrmy").len(), 1);
    // A CVM cancel of an account without a grant succeeds.
    let out = e
        .unshare(cvm, OWNER, "ap-guangzhou", "img-6pb6lrmy", &both)
        .unwrap();
    assert_eq!(
        out,
        vec![("200000000001".into(), false), (PEER.into(), true)]
    );
    // A deprecated CVM image refuses both.
    for r in [
        e.share(cvm, OWNER, "ap-guangzhou", "img-deprec01", &peer),
        e.unshare(cvm, OWNER, "ap-guangzhou", "img-deprec01", &peer),
    ] {
        assert_eq!(
            r,
            Err(EngineError::Grant(GrantRefusal::Deprecated(
                "img-deprec01".into()
            )))
        );
    }

    // Lighthouse: a cancel of an account without a grant is refused; 11 accounts are too many.
    let err = e.unshare(lh, OWNER, "ap-guangzhou", "lhbp-6jc6l8yb", &peer);
    assert_eq!(
        err,
        Err(EngineError::Grant(GrantRefusal::NotGranted {
            image: "lhbp-6jc6l8yb".into(),
            principal: PEER.into(),
        }))
    );
    let err = e.share(lh, OWNER, "ap-guangzhou", "lhbp-6jc6l8yb", &many(11));
    assert_eq!(
        err,
        Err(EngineError::Grant(GrantRefusal::TooManyPrincipals {
            max: 10,
            got: 11
        }))
    );

    // Alibaba ECS: an already granted account is reported, not refused.
    let ecs = imageshare_alibaba::ECS;
    e.share(ecs, OWNER, "cn-hangzhou", "m-bp18ygjuqnwhechc", &peer)
        .unwrap();
    let out = e
        .share(ecs, OWNER, "cn-hangzhou", "m-bp18ygjuqnwhechc", &peer)
        .unwrap();
    assert_eq!(out, vec![(PEER.into(), false)]);
    assert!(!grant_rules(ecs).refuse_already_granted);
}

async fn tc(emu: &Emulator, version: &str, action: &str, body: Value) -> Value {
    let creds = TencentCredentials::new("AKIDEMU0000000000000000000000001", "emu-tencent-secret-1");
    let payload = body.to_string().into_bytes();
    let service = if version == "2020-03-24" {
        "lighthouse"
    } else {
        "cvm"
    };
    let host = emu.addr().to_string();
    let req = Tc3Request::post_json(service, &host, action, version, &payload, now_unix())
        .region("ap-guangzhou");
    let sig = tc3_sign(&creds, &req);
    let headers: Vec<(String, String)> = sig
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let a: Answer = send(emu, "POST", "", &headers, payload).await;
    assert_eq!(a.status, 200);
    a.body["Response"]["Error"].clone()
}

fn error(code: &str, message: &str) -> Value {
    json!({"Code": code, "Message": message})
}

#[tokio::test]
async fn tencent_answers_are_unchanged() {
    let emu = Emulator::start(world()).await.unwrap();
    let cvm = |id: &str, accounts: &[&str], permission: &str| json!({"ImageId": id, "AccountIds": accounts, "Permission": permission});
    let share = cvm("img-6pb6lrmy", &[PEER], "SHARE");
    assert_eq!(
        tc(
            &emu,
            "2017-03-12",
            "ModifyImageSharePermission",
            share.clone()
        )
        .await,
        Value::Null
    );
    assert_eq!(
        tc(&emu, "2017-03-12", "ModifyImageSharePermission", share).await,
        error(
            "FailedOperation.AccountAlreadyExists",
            "The image `img-6pb6lrmy` is already shared with account `100000000002`."
        )
    );
    assert_eq!(
        tc(
            &emu,
            "2017-03-12",
            "ModifyImageSharePermission",
            cvm("img-deprec01", &[PEER], "CANCEL")
        )
        .await,
        error(
            "InvalidParameterValue.InvalidImageId",
            "The image `img-deprec01` is deprecated; the operation is not allowed on it."
        )
    );

    let lh = |accounts: &[String]| json!({"BlueprintId": "lhbp-6jc6l8yb", "AccountIds": accounts});
    let eleven = many(11);
    assert_eq!(
        tc(
            &emu,
            "2020-03-24",
            "ShareBlueprintAcrossAccounts",
            lh(&eleven)
        )
        .await,
        error(
            "InvalidParameterValue.LimitExceeded",
            "At most 10 AccountIds are allowed per request; got 11."
        )
    );
    let peer = vec![PEER.to_owned()];
    assert_eq!(
        tc(
            &emu,
            "2020-03-24",
            "CancelShareBlueprintAcrossAccounts",
            lh(&peer)
        )
        .await,
        error(
            "UnsupportedOperation.BlueprintHasNotShared",
            "The blueprint `lhbp-6jc6l8yb` is not shared with account `100000000002`."
        )
    );
    assert_eq!(
        tc(
            &emu,
            "2020-03-24",
            "ShareBlueprintAcrossAccounts",
            lh(&peer)
        )
        .await,
        Value::Null
    );
    assert_eq!(
        tc(
            &emu,
            "2020-03-24",
            "ShareBlueprintAcrossAccounts",
            lh(&peer)
        )
        .await,
        error(
            "UnsupportedOperation.BlueprintAlreadyShared",
            "The blueprint `lhbp-6jc6l8yb` is already shared with account `100000000002`."
        )
    );
}
