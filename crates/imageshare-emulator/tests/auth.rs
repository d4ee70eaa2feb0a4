//! Authentication as the clouds do it: hand-signed requests (with the signer crates) for
//! every failure mode, each answered with the cloud's exact error code and HTTP status.

use imageshare_alibaba::signer::{acs3, rpc_v1};
use imageshare_alibaba::AlibabaCredentials;
use imageshare_core::time;
use imageshare_emulator::{Emulator, World};
use imageshare_tencent::signer::{sign as tc3_sign, Tc3Request};
use imageshare_tencent::TencentCredentials;
use imageshare_ucloud::signer::{form_encode, sign_request};
use imageshare_ucloud::UCloudCredentials;
use serde_json::Value;

async fn emulator() -> Emulator {
    Emulator::start(World::example()).await.unwrap()
}

fn host(emu: &Emulator) -> String {
    emu.addr().to_string()
}

struct Answer {
    status: u16,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

async fn send(
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

async fn tencent(emu: &Emulator, id: &str, secret: &str, ts: u64, tamper: bool) -> Answer {
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

fn tc_code(a: &Answer) -> Option<&str> {
    a.body["Response"]["Error"]["Code"].as_str()
}

#[tokio::test]
async fn tencent_auth_failures_have_tencent_codes() {
    let emu = emulator().await;
    let (id, secret) = ("AKIDEMU0000000000000000000000001", "emu-tencent-secret-1");
    let now = time::now_unix();

    let ok = tencent(&emu, id, secret, now, false).await;
    assert_eq!(ok.status, 200);
    assert!(
        !tc_code(&ok).unwrap_or("").starts_with("AuthFailure"),
        "{:?}",
        ok.body
    );
    assert!(ok.body["Response"]["RequestId"].is_string());

    for (answer, code) in [
        (
            tencent(&emu, "AKIDunknown", secret, now, false).await,
            "AuthFailure.SecretIdNotFound",
        ),
        (
            tencent(&emu, id, "wrong-secret", now, false).await,
            "AuthFailure.SignatureFailure",
        ),
        (
            tencent(&emu, id, secret, now, true).await,
            "AuthFailure.SignatureFailure",
        ),
        (
            tencent(&emu, id, secret, now - 600, false).await,
            "AuthFailure.SignatureExpire",
        ),
    ] {
        // Tencent answers API errors with HTTP 200 and Response.Error.
        assert_eq!(answer.status, 200);
        assert_eq!(tc_code(&answer), Some(code), "{:?}", answer.body);
        assert!(answer.body["Response"]["RequestId"].is_string());
    }
    let malformed = send(
        &emu,
        "POST",
        "",
        &[
            ("authorization".into(), "TC3-HMAC-SHA256 garbage".into()),
            ("x-tc-action".into(), "DescribeImages".into()),
        ],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(
        tc_code(&malformed),
        Some("AuthFailure.InvalidAuthorization")
    );
}

// ---------------------------------------------------------------- Alibaba RPC v1 / ACS3

fn ali_creds(secret: &str) -> AlibabaCredentials {
    AlibabaCredentials::new("LTAIEMU000000001", secret)
}

async fn alibaba_rpc(emu: &Emulator, creds: &AlibabaCredentials, ts: u64, nonce: &str) -> Answer {
    let req = rpc_v1::RpcRequest::new("DescribeImages", "2014-05-26")
        .param("RegionId", "cn-hangzhou")
        .param("ImageId", "m-bp18ygjuqnwhechc");
    let signed = rpc_v1::sign(creds, &req, ts, nonce);
    send(emu, "POST", &signed.query_string(), &[], Vec::new()).await
}

async fn alibaba_acs3(emu: &Emulator, creds: &AlibabaCredentials, ts: u64, nonce: &str) -> Answer {
    let req = acs3::Acs3Request::new(host(emu), "DescribeImages", "2014-05-26")
        .query("RegionId", "cn-hangzhou")
        .query("ImageId", "m-bp18ygjuqnwhechc");
    let signed = acs3::sign(creds, &req, ts, nonce);
    let q = rpc_v1::encode_params(&req.query);
    send(emu, "POST", &q, &signed.headers, Vec::new()).await
}

fn ali_code(a: &Answer) -> Option<&str> {
    a.body["Code"].as_str()
}

#[tokio::test]
async fn alibaba_auth_failures_have_alibaba_codes_for_both_signature_versions() {
    let emu = emulator().await;
    let good = ali_creds("emu-alibaba-secret-1");
    let bad = ali_creds("wrong");
    let unknown = AlibabaCredentials::new("LTAIunknown", "x");
    let now = time::now_unix();

    for v3 in [false, true] {
        let call = |creds: AlibabaCredentials, ts: u64, nonce: String| {
            let emu = &emu;
            async move {
                if v3 {
                    alibaba_acs3(emu, &creds, ts, &nonce).await
                } else {
                    alibaba_rpc(emu, &creds, ts, &nonce).await
                }
            }
        };
        let ok = call(good.clone(), now, time::nonce()).await;
        assert!(
            ali_code(&ok).is_none_or(|c| !c.contains("Signature") && !c.contains("AccessKey")),
            "v3={v3}: {:?}",
            ok.body
        );
        let cases = [
            (
                unknown.clone(),
                now,
                time::nonce(),
                404,
                "InvalidAccessKeyId.NotFound",
            ),
            (
                bad.clone(),
                now,
                time::nonce(),
                403,
                "SignatureDoesNotMatch",
            ),
            (
                good.clone(),
                now - 3600,
                time::nonce(),
                400,
                "InvalidTimeStamp.Expired",
            ),
        ];
        for (creds, ts, nonce, status, code) in cases {
            let a = call(creds, ts, nonce).await;
            assert_eq!(
                (a.status, ali_code(&a)),
                (status, Some(code)),
                "v3={v3}: {:?}",
                a.body
            );
            for field in ["RequestId", "HostId", "Message", "Recommend"] {
                assert!(
                    a.body[field].is_string(),
                    "v3={v3}: {field} missing: {:?}",
                    a.body
                );
            }
        }
        // A replayed nonce is refused even with a valid signature.
        let nonce = time::nonce();
        let first = call(good.clone(), now, nonce.clone()).await;
        assert_ne!(ali_code(&first), Some("SignatureNonceUsed"));
        let replay = call(good.clone(), now, nonce).await;
        assert_eq!(
            (replay.status, ali_code(&replay)),
            (400, Some("SignatureNonceUsed")),
            "v3={v3}"
        );
    }
}

#[tokio::test]
async fn alibaba_sts_token_must_match_the_key() {
    let mut world = World::example();
    world.accounts[0].keys.alibaba.as_mut().unwrap().token = Some("sts-token-1".into());
    let emu = Emulator::start(world).await.unwrap();
    let now = time::now_unix();
    let without = alibaba_rpc(
        &emu,
        &ali_creds("emu-alibaba-secret-1"),
        now,
        &time::nonce(),
    )
    .await;
    assert_eq!(
        ali_code(&without),
        Some("InvalidSecurityToken.MismatchWithAccessKey")
    );
    let with = ali_creds("emu-alibaba-secret-1").with_security_token("sts-token-1");
    let ok = alibaba_acs3(&emu, &with, now, &time::nonce()).await;
    assert!(
        ali_code(&ok).is_none_or(|c| !c.contains("SecurityToken")),
        "{:?}",
        ok.body
    );
}

// ---------------------------------------------------------------- UCloud

async fn ucloud(emu: &Emulator, public: &str, private: &str, drop: Option<&str>) -> Answer {
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

#[tokio::test]
async fn ucloud_auth_failures_have_ucloud_retcodes() {
    let emu = emulator().await;
    let ok = ucloud(&emu, "emu-ucloud-public-1", "emu-ucloud-private-1", None).await;
    assert_eq!(ok.status, 200);
    let rc = ok.body["RetCode"].as_u64().unwrap();
    assert!(![170, 171, 172].contains(&rc), "{:?}", ok.body);
    assert!(ok.headers.contains_key("x-ucloud-request-uuid"));
    for (answer, code) in [
        (
            ucloud(&emu, "emu-ucloud-public-1", "wrong", None).await,
            171,
        ),
        (ucloud(&emu, "nobody", "x", None).await, 172),
        (
            ucloud(
                &emu,
                "emu-ucloud-public-1",
                "emu-ucloud-private-1",
                Some("Signature"),
            )
            .await,
            170,
        ),
    ] {
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.body["RetCode"].as_u64(),
            Some(code),
            "{:?}",
            answer.body
        );
        assert_eq!(answer.body["Action"], "DescribeImageResponse");
        assert!(answer.body["Message"].is_string());
    }
}

// ---------------------------------------------------------------- routing

#[tokio::test]
async fn requests_of_no_cloud_are_refused_and_every_call_is_logged() {
    let emu = emulator().await;
    let a = send(&emu, "GET", "foo=bar", &[], Vec::new()).await;
    assert_eq!(a.status, 400);
    let now = time::now_unix();
    tencent(&emu, "AKIDunknown", "x", now, false).await;
    let calls = emu.calls();
    let last = calls.last().unwrap();
    assert_eq!(last.provider, imageshare_core::Provider::TencentCvm);
    assert_eq!(last.action, "DescribeImages");
    assert_eq!(last.account, None);
    assert_eq!(last.error.as_deref(), Some("AuthFailure.SecretIdNotFound"));
}
