//! Authentication as the clouds do it: hand-signed requests (with the signer crates) for
//! every failure mode, each answered with the cloud's exact error code and HTTP status.

mod common;

use common::*;
use imageshare_alibaba::AlibabaCredentials;
use imageshare_core::time;
use imageshare_emulator::{Emulator, World};

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
    assert_eq!(last.provider, imageshare_tencent::CVM);
    assert_eq!(last.action, "DescribeImages");
    assert_eq!(last.account, None);
    assert_eq!(last.error.as_deref(), Some("AuthFailure.SecretIdNotFound"));
}
