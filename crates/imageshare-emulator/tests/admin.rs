//! The admin API over HTTP: health, state, the call log, faults (read and replace), reset
//! and a new world, each as a test suite in another language would use it.

mod common;

use common::{emulator, host, send, tc_code, Answer};
use imageshare_core::time::now_unix;
use imageshare_emulator::Emulator;
use imageshare_tencent::signer::{sign as tc3_sign, Tc3Request};
use imageshare_tencent::TencentCredentials;
use serde_json::{json, Value};

async fn admin(emu: &Emulator, method: &str, path: &str, body: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .request(
            method.parse().unwrap(),
            format!("{}/_imageshare/{path}", emu.base_url()),
        )
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A CVM call signed by account 100000000001.
async fn cvm(emu: &Emulator, action: &str, payload: Value) -> Answer {
    let creds = TencentCredentials::new("AKIDEMU0000000000000000000000001", "emu-tencent-secret-1");
    let body = serde_json::to_vec(&payload).unwrap();
    let host = host(emu);
    let req = Tc3Request::post_json("cvm", &host, action, "2017-03-12", &body, now_unix())
        .region("ap-guangzhou");
    let sig = tc3_sign(&creds, &req);
    let headers: Vec<(String, String)> = sig
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    send(emu, "POST", "", &headers, body).await
}

async fn share(emu: &Emulator, to: &str) -> Answer {
    cvm(
        emu,
        "ModifyImageSharePermission",
        json!({"ImageId": "img-6pb6lrmy", "AccountIds": [to], "Permission": "SHARE"}),
    )
    .await
}

fn image<'a>(state: &'a Value, id: &str) -> &'a Value {
    state["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no image {id} in {state}"))
}

#[tokio::test]
async fn health_names_the_served_providers() {
    let emu = emulator().await;
    let (status, body) = admin(&emu, "GET", "health", "").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    let providers: Vec<&str> = body["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for p in [
        "alibaba-ecs",
        "alibaba-sas",
        "tencent-cvm",
        "tencent-lighthouse",
        "ucloud",
    ] {
        assert!(providers.contains(&p), "{p} missing from {providers:?}");
    }
}

#[tokio::test]
async fn state_shows_accounts_without_secrets_and_grants_as_they_change() {
    let emu = emulator().await;
    let (status, state) = admin(&emu, "GET", "state", "").await;
    assert_eq!(status, 200);
    let text = state.to_string();
    assert!(
        !text.contains("emu-tencent-secret"),
        "a secret leaked: {text}"
    );
    assert_eq!(state["accounts"][0]["id"], "100000000001");
    assert_eq!(
        state["accounts"][0]["key_ids"]["tencent"],
        "AKIDEMU0000000000000000000000001"
    );
    let img = image(&state, "img-6pb6lrmy");
    assert_eq!(img["provider"], "tencent-cvm");
    assert_eq!(img["owner"], "100000000001");
    assert_eq!(img["region"], "ap-guangzhou");
    assert_eq!(img["state"], "available");
    assert_eq!(img["shared_with"], json!([]));
    assert_eq!(
        image(&state, "img-recv0001")["shared_with"],
        json!(["100000000001"])
    );

    let a = share(&emu, "100000000002").await;
    assert_eq!(tc_code(&a), None, "{}", a.body);
    let (_, state) = admin(&emu, "GET", "state", "").await;
    assert_eq!(
        image(&state, "img-6pb6lrmy")["shared_with"],
        json!(["100000000002"])
    );
}

#[tokio::test]
async fn calls_log_caller_outcome_and_request_id() {
    let emu = emulator().await;
    let ok = share(&emu, "100000000002").await;
    let again = share(&emu, "100000000002").await;
    let refused = tc_code(&again).unwrap().to_owned();
    let (status, body) = admin(&emu, "GET", "calls", "").await;
    assert_eq!(status, 200);
    let calls = body["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2, "{body}");
    assert_eq!(calls[0]["provider"], "tencent-cvm");
    assert_eq!(calls[0]["action"], "ModifyImageSharePermission");
    assert_eq!(calls[0]["caller"], "100000000001");
    assert_eq!(calls[0]["session"], Value::Null);
    assert_eq!(calls[0]["outcome"], "ok");
    assert_eq!(
        calls[0]["request_id"], ok.body["Response"]["RequestId"],
        "the log's request id is the one answered"
    );
    assert_eq!(calls[1]["outcome"], "error");
    assert_eq!(calls[1]["error"], refused.as_str());
    // Admin requests are not logged; filters narrow the log.
    let (_, body) = admin(&emu, "GET", "calls?action=DescribeImages", "").await;
    assert_eq!(body["calls"], json!([]));
    let (_, body) = admin(&emu, "GET", "calls?provider=tencent-cvm", "").await;
    assert_eq!(body["calls"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn faults_are_read_replaced_and_served() {
    let emu = emulator().await;
    let (status, body) = admin(&emu, "GET", "faults", "").await;
    assert_eq!(status, 200);
    assert_eq!(body["plan"]["rules"], json!([]));
    assert_eq!(body["served"], json!([]));

    let plan = json!({"seed": 7, "rules": [
        {"provider": "tencent-cvm", "action": "DescribeImages", "error_rate": 1.0}
    ]});
    let (status, body) = admin(&emu, "PUT", "faults", &plan.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["plan"]["seed"], 7);
    assert_eq!(body["plan"]["rules"][0]["error_rate"], 1.0);

    let a = cvm(&emu, "DescribeImages", json!({})).await;
    assert_eq!(tc_code(&a), Some("InternalError"), "{}", a.body);
    let (_, body) = admin(&emu, "GET", "faults", "").await;
    assert_eq!(
        body["served"],
        json!([{"provider": "tencent-cvm", "action": "DescribeImages", "kind": "server-error", "quota": false}])
    );

    // Bad plans are refused and leave the plan in force.
    for bad in [
        r#"{"rules": [{"error_rate": 2.0}]}"#,
        r#"{"rules": [{"provider": "aws-ec2"}]}"#,
        "not json",
    ] {
        let (status, body) = admin(&emu, "PUT", "faults", bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("fault plan"),
            "{body}"
        );
    }
    let (_, body) = admin(&emu, "GET", "faults", "").await;
    assert_eq!(body["plan"]["seed"], 7);
}

#[tokio::test]
async fn reset_returns_to_the_loaded_world() {
    let emu = emulator().await;
    share(&emu, "100000000002").await;
    admin(&emu, "PUT", "faults", r#"{"rules": [{"error_rate": 1.0}]}"#).await;
    let (status, body) = admin(&emu, "POST", "reset", "").await;
    assert_eq!((status, body), (200, json!({"status": "reset"})));
    let (_, state) = admin(&emu, "GET", "state", "").await;
    assert_eq!(image(&state, "img-6pb6lrmy")["shared_with"], json!([]));
    let (_, calls) = admin(&emu, "GET", "calls", "").await;
    assert_eq!(calls["calls"], json!([]));
    let (_, faults) = admin(&emu, "GET", "faults", "").await;
    assert_eq!(faults["plan"]["rules"], json!([]));
    // Calls work again (the fault plan of the world is back).
    let a = share(&emu, "100000000002").await;
    assert_eq!(tc_code(&a), None, "{}", a.body);
}

#[tokio::test]
async fn a_new_world_replaces_the_state_and_becomes_the_reset_target() {
    let emu = emulator().await;
    let world = r#"
[[account]]
id = "100000000001"
keys.tencent = { id = "AKIDEMU0000000000000000000000001", secret = "emu-tencent-secret-1" }
[[account]]
id = "100000000002"
[[image]]
provider = "tencent-cvm"
id = "img-6pb6lrmy"
owner = "100000000001"
region = "ap-guangzhou"
shared_with = ["100000000002"]
"#;
    let (status, body) = admin(&emu, "PUT", "world", world).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"status": "loaded", "accounts": 2, "images": 1})
    );
    let (_, state) = admin(&emu, "GET", "state", "").await;
    assert_eq!(state["images"].as_array().unwrap().len(), 1);
    assert_eq!(state["accounts"].as_array().unwrap().len(), 2);
    let a = cvm(
        &emu,
        "ModifyImageSharePermission",
        json!({"ImageId": "img-6pb6lrmy", "AccountIds": ["100000000002"], "Permission": "CANCEL"}),
    )
    .await;
    assert_eq!(tc_code(&a), None, "{}", a.body);
    admin(&emu, "POST", "reset", "").await;
    let (_, state) = admin(&emu, "GET", "state", "").await;
    assert_eq!(
        image(&state, "img-6pb6lrmy")["shared_with"],
        json!(["100000000002"]),
        "reset returns to the world last loaded"
    );

    // An invalid world is refused with the parser's message; the state is unchanged.
    let (status, body) = admin(&emu, "PUT", "world", "[[image]]\nprovider = 3\n").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("invalid world"),
        "{body}"
    );
    let (_, state) = admin(&emu, "GET", "state", "").await;
    assert_eq!(state["images"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_resources_and_methods_are_refused_in_json() {
    let emu = emulator().await;
    let (status, body) = admin(&emu, "GET", "nope", "").await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
    let (status, body) = admin(&emu, "DELETE", "state", "").await;
    assert_eq!(status, 405);
    assert!(body["error"].as_str().unwrap().contains("GET"), "{body}");
    let (status, _) = admin(&emu, "GET", "reset", "").await;
    assert_eq!(status, 405);
    // A cloud path is still not the admin API.
    let (status, _) = admin(&emu, "GET", "../health", "").await;
    assert_ne!(status, 200);
}
