//! Hand-signed requests against a running emulator, shared by the emulator's tests.
#![allow(dead_code)]

use imageshare_alibaba::signer::{acs3, rpc_v1};
use imageshare_alibaba::AlibabaCredentials;

use imageshare_emulator::{Emulator, World};
use imageshare_tencent::signer::{sign as tc3_sign, Tc3Request};
use imageshare_tencent::TencentCredentials;
use imageshare_ucloud::signer::{form_encode, sign_request};
use imageshare_ucloud::UCloudCredentials;
use serde_json::Value;

pub async fn emulator() -> Emulator {
    Emulator::start(World::example()).await.unwrap()
}

pub fn host(emu: &Emulator) -> String {
    emu.addr().to_string()
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

pub async fn send(
    emu: &Emulator,
    method: &str,
    query: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Answer {
    let url = if query.is_empty() {
        format!("{}/", emu.base_url())
    } else {
        format!("{}/?{query}", emu.base_url())
    };
    let mut req = reqwest::Client::new().request(method.parse().unwrap(), url);
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("host") {
            req = req.header(k.as_str(), v.as_str());
        }
    }
    let resp = req.body(body).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        body,
        headers,
    }
}

// ---------------------------------------------------------------- Tencent TC3

pub async fn tencent(emu: &Emulator, id: &str, secret: &str, ts: u64, tamper: bool) -> Answer {
    let creds = TencentCredentials::new(id, secret);
    let payload = br#"{"ImageIds":["img-6pb6lrmy"]}"#.to_vec();
    let host = host(emu);
    let req = Tc3Request::post_json("cvm", &host, "DescribeImages", "2017-03-12", &payload, ts)
        .region("ap-guangzhou");
    let sig = tc3_sign(&creds, &req);
    let headers: Vec<(String, String)> = sig
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let body = if tamper {
        br#"{"ImageIds":["img-6pb6lrmz"]}"#.to_vec()
    } else {
        payload
    };
    send(emu, "POST", "", &headers, body).await
}

pub fn tc_code(a: &Answer) -> Option<&str> {
    a.body["Response"]["Error"]["Code"].as_str()
}

// ---------------------------------------------------------------- Alibaba RPC v1 / ACS3

pub fn ali_creds(secret: &str) -> AlibabaCredentials {
    AlibabaCredentials::new("LTAIEMU000000001", secret)
}

pub async fn alibaba_rpc(
    emu: &Emulator,
    creds: &AlibabaCredentials,
    ts: u64,
    nonce: &str,
) -> Answer {
    let req = rpc_v1::RpcRequest::new("DescribeImages", "2014-05-26")
        .param("RegionId", "cn-hangzhou")
        .param("ImageId", "m-bp18ygjuqnwhechc");
    let signed = rpc_v1::sign(creds, &req, ts, nonce);
    send(emu, "POST", &signed.query_string(), &[], Vec::new()).await
}

pub async fn alibaba_acs3(
    emu: &Emulator,
    creds: &AlibabaCredentials,
    ts: u64,
    nonce: &str,
) -> Answer {
    let req = acs3::Acs3Request::new(host(emu), "DescribeImages", "2014-05-26")
        .query("RegionId", "cn-hangzhou")
        .query("ImageId", "m-bp18ygjuqnwhechc");
    let signed = acs3::sign(creds, &req, ts, nonce);
    let q = rpc_v1::encode_params(&req.query);
    send(emu, "POST", &q, &signed.headers, Vec::new()).await
}

pub fn ali_code(a: &Answer) -> Option<&str> {
    a.body["Code"].as_str()
}

// ---------------------------------------------------------------- UCloud

pub async fn ucloud(emu: &Emulator, public: &str, private: &str, drop: Option<&str>) -> Answer {
    let creds = UCloudCredentials::new(public, private);
    let params = vec![
        ("Action".to_owned(), "DescribeImage".to_owned()),
        ("Region".to_owned(), "cn-bj2".to_owned()),
        ("ImageType".to_owned(), "Custom".to_owned()),
    ];
    let mut signed = sign_request(params, &creds);
    if let Some(name) = drop {
        signed.retain(|(k, _)| k != name);
    }
    send(
        emu,
        "POST",
        "",
        &[(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        form_encode(&signed).into_bytes(),
    )
    .await
}
