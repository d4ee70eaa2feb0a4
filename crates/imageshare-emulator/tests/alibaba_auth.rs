//! Alibaba authentication as the gateway does it, for both signature versions, with
//! hand-signed requests: unknown key, wrong secret, expired timestamp, replayed nonce,
//! STS token; the error envelope; and the Tea SDK's V2 request shape.

mod alibaba_common;

use alibaba_common::*;
use imageshare_alibaba::{AlibabaCredentials, ECS_VERSION, SAS_VERSION};
use imageshare_emulator::Emulator;

const DESCRIBE: &[(&str, &str)] = &[("RegionId", REGION), ("ImageOwnerAlias", "self")];

#[derive(Clone, Copy, Debug)]
enum Sig {
    Rpc,
    Acs3,
}

async fn call(
    emu: &Emulator,
    sig: Sig,
    creds: &AlibabaCredentials,
    unix: u64,
    nonce: &str,
) -> Answer {
    match sig {
        Sig::Rpc => {
            rpc(
                &emu.base_url(),
                creds,
                "DescribeImages",
                ECS_VERSION,
                DESCRIBE,
                unix,
                nonce,
                &[],
            )
            .await
        }
        Sig::Acs3 => {
            acs3(
                &emu.base_url(),
                creds,
                "DescribeImages",
                ECS_VERSION,
                DESCRIBE,
                unix,
                nonce,
            )
            .await
        }
    }
}

fn assert_envelope(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{a:?}");
    assert_eq!(a.code(), code, "{a:?}");
    for field in ["RequestId", "HostId", "Message", "Recommend"] {
        assert!(a.body[field].is_string(), "{field} missing: {a:?}");
    }
    let rid = a.body["RequestId"].as_str().unwrap();
    assert_eq!(rid.len(), 36, "{rid}");
    assert!(a.body["Recommend"].as_str().unwrap().contains(code));
}

#[tokio::test]
async fn both_signature_versions_authenticate_and_refuse_like_the_gateway() {
    let emu = Emulator::start(world()).await.unwrap();
    for sig in [Sig::Rpc, Sig::Acs3] {
        // A good request.
        let a = call(&emu, sig, &creds(OWNER), now(), &nonce()).await;
        assert_eq!(a.status, 200, "{sig:?}: {a:?}");
        assert!(a.body["RequestId"].is_string());
        assert!(a.body["Images"]["Image"].is_array());

        // Unknown access key.
        let unknown = AlibabaCredentials::new("LTAInobody", "whatever");
        let a = call(&emu, sig, &unknown, now(), &nonce()).await;
        assert_envelope(&a, 404, "InvalidAccessKeyId.NotFound");

        // Wrong secret.
        let bad = AlibabaCredentials::new(key_id(OWNER), "not-the-secret");
        let a = call(&emu, sig, &bad, now(), &nonce()).await;
        assert_envelope(&a, 403, "SignatureDoesNotMatch");

        // Timestamp 20 minutes old, and 20 minutes ahead.
        for t in [now() - 20 * 60, now() + 20 * 60] {
            let a = call(&emu, sig, &creds(OWNER), t, &nonce()).await;
            assert_envelope(&a, 400, "InvalidTimeStamp.Expired");
        }

        // A replayed nonce: the first use passes, the second is refused.
        let n = nonce();
        let a = call(&emu, sig, &creds(OWNER), now(), &n).await;
        assert_eq!(a.status, 200, "{a:?}");
        let a = call(&emu, sig, &creds(OWNER), now(), &n).await;
        assert_envelope(&a, 400, "SignatureNonceUsed");
    }
    let refused = emu
        .calls()
        .iter()
        .filter(|c| c.error.is_some() && c.account.is_none())
        .count();
    assert_eq!(
        refused,
        2 * 5,
        "every refusal is recorded without an account"
    );
}

#[tokio::test]
async fn unknown_action_and_version_and_missing_parameters() {
    let emu = Emulator::start(world()).await.unwrap();
    let base = emu.base_url();
    let a = rpc(
        &base,
        &creds(OWNER),
        "RunInstances",
        ECS_VERSION,
        &[("RegionId", REGION)],
        now(),
        &nonce(),
        &[],
    )
    .await;
    assert_envelope(&a, 404, "InvalidAction.NotFound");
    let a = acs3(
        &base,
        &creds(OWNER),
        "DescribeImages",
        "2099-01-01",
        DESCRIBE,
        now(),
        &nonce(),
    )
    .await;
    assert_envelope(&a, 400, "InvalidVersion");
    let a = acs3(
        &base,
        &creds(OWNER),
        "ModifyImageSharePermission",
        ECS_VERSION,
        &[("RegionId", REGION)],
        now(),
        &nonce(),
    )
    .await;
    assert_envelope(&a, 400, "MissingParameter");
    assert!(a.body["Message"].as_str().unwrap().contains("ImageId"));
    let a = rpc(
        &base,
        &creds(OWNER),
        "ListCustomImages",
        SAS_VERSION,
        &[("RegionId", REGION), ("PageSize", "101")],
        now(),
        &nonce(),
        &[],
    )
    .await;
    assert_envelope(&a, 400, "InvalidParameter");
    assert!(a.body["Recommend"]
        .as_str()
        .unwrap()
        .contains("product=swas-open"));
}

#[tokio::test]
async fn sts_credentials_need_their_token() {
    let mut w = world();
    let owner = w.accounts.iter_mut().find(|a| a.id == OWNER).unwrap();
    owner.keys.alibaba.as_mut().unwrap().token = Some("CAIS-token-1".into());
    let emu = Emulator::start(w).await.unwrap();
    let with = creds(OWNER).with_security_token("CAIS-token-1");
    let wrong = creds(OWNER).with_security_token("CAIS-token-2");
    for sig in [Sig::Rpc, Sig::Acs3] {
        assert_eq!(call(&emu, sig, &with, now(), &nonce()).await.status, 200);
        let a = call(&emu, sig, &wrong, now(), &nonce()).await;
        assert_envelope(&a, 400, "InvalidSecurityToken.MismatchWithAccessKey");
        let a = call(&emu, sig, &creds(OWNER), now(), &nonce()).await;
        assert_envelope(&a, 400, "InvalidSecurityToken.MismatchWithAccessKey");
    }
}

#[tokio::test]
async fn tea_sdk_v2_requests_with_acs_headers_are_rpc_v1() {
    // The official Tea SDK with signatureAlgorithm = "v2" signs RPC v1 in the query and
    // also sends x-acs-action / x-acs-version headers (and no Authorization).
    let emu = Emulator::start(world()).await.unwrap();
    let headers = [
        ("x-acs-action", "DescribeImages"),
        ("x-acs-version", ECS_VERSION),
    ];
    let a = rpc(
        &emu.base_url(),
        &creds(OWNER),
        "DescribeImages",
        ECS_VERSION,
        DESCRIBE,
        now(),
        &nonce(),
        &headers,
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.body["TotalCount"].as_u64().unwrap() >= 1);
    let bad = AlibabaCredentials::new(key_id(OWNER), "nope");
    let a = rpc(
        &emu.base_url(),
        &bad,
        "DescribeImages",
        ECS_VERSION,
        DESCRIBE,
        now(),
        &nonce(),
        &headers,
    )
    .await;
    assert_envelope(&a, 403, "SignatureDoesNotMatch");
}
