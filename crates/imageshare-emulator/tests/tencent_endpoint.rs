//! What Tencent's Node.js SDK signs at a custom endpoint, hand-signed: the host without
//! the port and the endpoint's first label as the scope's service. Accepted, routed by
//! `X-TC-Version`; anything else signed for another host or with another key still fails.

mod common;

use common::{emulator, send, tc_code, Answer};
use imageshare_core::time::now_unix;
use imageshare_emulator::Emulator;
use imageshare_tencent::signer::{sign as tc3_sign, Tc3Request};
use imageshare_tencent::TencentCredentials;

async fn signed(emu: &Emulator, service: &str, host: &str, version: &str, secret: &str) -> Answer {
    let creds = TencentCredentials::new("AKIDEMU0000000000000000000000001", secret);
    let (action, payload) = if version == "2020-03-24" {
        (
            "DescribeBlueprints",
            br#"{"BlueprintIds":["lhbp-6jc6l8yb"]}"#.to_vec(),
        )
    } else {
        (
            "DescribeImages",
            br#"{"ImageIds":["img-6pb6lrmy"]}"#.to_vec(),
        )
    };
    let req = Tc3Request::post_json(service, host, action, version, &payload, now_unix())
        .region("ap-guangzhou");
    let sig = tc3_sign(&creds, &req);
    let headers: Vec<(String, String)> = sig
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    // The Host header sent is the emulator's address with its port.
    send(emu, "POST", "", &headers, payload).await
}

const SECRET: &str = "emu-tencent-secret-1";

#[tokio::test]
async fn the_nodejs_sdk_signature_is_accepted_and_routed_by_version() {
    let emu = emulator().await;
    let a = signed(&emu, "127", "127.0.0.1", "2017-03-12", SECRET).await;
    assert_eq!(tc_code(&a), None, "{}", a.body);
    assert!(a.body["Response"]["ImageSet"].is_array(), "{}", a.body);
    let a = signed(&emu, "127", "127.0.0.1", "2020-03-24", SECRET).await;
    assert_eq!(tc_code(&a), None, "{}", a.body);
    assert!(a.body["Response"]["BlueprintSet"].is_array(), "{}", a.body);
    // The real service, signed over the Host as sent (with its port), as before.
    let host = emu.addr().to_string();
    let a = signed(&emu, "cvm", &host, "2017-03-12", SECRET).await;
    assert_eq!(tc_code(&a), None, "{}", a.body);
    // And over the host without the port with the real service.
    let a = signed(&emu, "cvm", "127.0.0.1", "2017-03-12", SECRET).await;
    assert_eq!(tc_code(&a), None, "{}", a.body);
}

#[tokio::test]
async fn the_signature_check_is_not_weakened() {
    let emu = emulator().await;
    for (service, host, secret) in [
        ("127", "127.0.0.2", SECRET),   // another host
        ("127", "localhost", SECRET),   // another name of the same host
        ("127", "127.0.0.1", "wrong"),  // another key
        ("cvm", "127.0.0.1:1", SECRET), // another port
    ] {
        let a = signed(&emu, service, host, "2017-03-12", secret).await;
        assert_eq!(
            tc_code(&a),
            Some("AuthFailure.SignatureFailure"),
            "{service} {host}: {}",
            a.body
        );
    }
    // A real product the emulator does not serve is answered as such.
    let a = signed(&emu, "vpc", "127.0.0.1", "2017-03-12", SECRET).await;
    assert_eq!(tc_code(&a), Some("NoSuchProduct"), "{}", a.body);
}
