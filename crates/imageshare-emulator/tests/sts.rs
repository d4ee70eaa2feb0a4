//! The emulated STS of both clouds and their instance metadata services, on the wire:
//! assume, refuse, expire, temporary credentials accepted on later actions as the role's
//! account, anonymous OIDC actions, IMDSv2, and the call log.

mod alibaba_common;

use std::time::Duration;

use alibaba_common::{acs3, nonce, now, rpc, Answer};
use imageshare_alibaba::AlibabaCredentials;
use imageshare_core::Site;
use imageshare_emulator::engine::sts::unsigned_jwt;
use imageshare_emulator::frontend::alibaba::sts::ALIBABA_STS;
use imageshare_emulator::frontend::metadata::{ALIBABA_METADATA, TENCENT_METADATA};
use imageshare_emulator::frontend::tencent::sts::TENCENT_STS;
use imageshare_emulator::world::{Cloud, OidcProviderSeed, RoleSeed};
use imageshare_emulator::{Emulator, ImageSeed, World};
use imageshare_tencent::signer::{sign as tc3_sign, Tc3Request};
use imageshare_tencent::TencentCredentials;
use serde_json::{json, Value};

const OWNER: &str = "100000000001";
const CALLER: &str = "100000000002";
const ALI_PROVIDER: &str = "acs:ram::100000000001:oidc-provider/ci";
const TC_PROVIDER: &str = "ci-provider";
const ISS: &str = "https://issuer.example.com";
const ALI_ROLE: &str = "acs:ram::100000000001:role/deployer";
const TC_ROLE: &str = "qcs::cam::uin/100000000001:roleName/deployer";

fn world(ttl: Option<u64>, imdsv2: bool) -> World {
    let mut b = World::builder()
        .account(OWNER, Site::China)
        .account(CALLER, Site::China)
        .oidc_provider(OidcProviderSeed::alibaba(
            ALI_PROVIDER,
            ISS,
            &["sts.aliyuncs.com"],
        ))
        .oidc_provider(OidcProviderSeed::tencent(TC_PROVIDER, ISS, &["tke"]))
        .role_seed(
            RoleSeed::new(Cloud::Alibaba, OWNER, "deployer")
                .trust(CALLER)
                .trust(&format!("oidc:{ALI_PROVIDER}"))
                .instance(),
        )
        .role_seed(
            RoleSeed::new(Cloud::Alibaba, OWNER, "guarded")
                .trust(CALLER)
                .external_id("xid-1"),
        )
        .role_seed(
            RoleSeed::new(Cloud::Tencent, OWNER, "deployer")
                .trust(CALLER)
                .trust(&format!("oidc:{TC_PROVIDER}"))
                .instance(),
        )
        .image(ImageSeed::new(
            imageshare_alibaba::ECS,
            "m-golden0001",
            OWNER,
            "cn-hangzhou",
        ))
        .image(ImageSeed::new(
            imageshare_tencent::CVM,
            "img-6pb6lrmy",
            OWNER,
            "ap-guangzhou",
        ))
        .imdsv2_required(imdsv2);
    if let Some(t) = ttl {
        b = b.credentials_ttl_secs(t);
    }
    b.build().expect("valid world")
}

fn ali(account: &str) -> AlibabaCredentials {
    AlibabaCredentials::new(format!("LTAI{account}"), format!("ali-secret-{account}"))
}

fn tc(account: &str) -> TencentCredentials {
    TencentCredentials::new(format!("AKID{account}"), format!("tc-secret-{account}"))
}

async fn ali_rpc(
    emu: &Emulator,
    creds: &AlibabaCredentials,
    action: &str,
    version: &str,
    params: &[(&str, &str)],
) -> Answer {
    rpc(
        &emu.base_url(),
        creds,
        action,
        version,
        params,
        now(),
        &nonce(),
        &[],
    )
    .await
}

async fn assume_ali(emu: &Emulator, params: &[(&str, &str)]) -> Answer {
    ali_rpc(emu, &ali(CALLER), "AssumeRole", "2015-04-01", params).await
}

fn ali_session(a: &Answer) -> AlibabaCredentials {
    let c = &a.body["Credentials"];
    AlibabaCredentials::new(
        c["AccessKeyId"].as_str().unwrap(),
        c["AccessKeySecret"].as_str().unwrap(),
    )
    .with_security_token(c["SecurityToken"].as_str().unwrap())
}

async fn describe_ecs(emu: &Emulator, creds: &AlibabaCredentials) -> Answer {
    ali_rpc(
        emu,
        creds,
        "DescribeImages",
        "2014-05-26",
        &[("RegionId", "cn-hangzhou"), ("ImageId", "m-golden0001")],
    )
    .await
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value, String) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, body, text)
}

async fn tencent(
    emu: &Emulator,
    creds: &TencentCredentials,
    service: &str,
    action: &str,
    version: &str,
    payload: &Value,
) -> Value {
    let payload = serde_json::to_vec(payload).unwrap();
    let host = emu.addr().to_string();
    let req = Tc3Request::post_json(service, &host, action, version, &payload, now())
        .region("ap-guangzhou");
    let sig = tc3_sign(creds, &req);
    let mut http = reqwest::Client::new().post(format!("{}/", emu.base_url()));
    for (k, v) in sig.headers.iter() {
        if !k.eq_ignore_ascii_case("host") {
            http = http.header(k.to_string(), v.as_str());
        }
    }
    send(http.body(payload)).await.1
}

fn jwt(aud: &str, exp_in: i64) -> String {
    let exp = now() as i64 + exp_in;
    unsigned_jwt(
        &json!({"iss": ISS, "aud": aud, "sub": "system:serviceaccount:ci:deployer", "exp": exp}),
    )
}

#[tokio::test]
async fn alibaba_assume_role_answers_the_sdk_shape_and_its_credentials_act_as_the_role_account() {
    let emu = Emulator::start(world(None, false)).await.unwrap();
    let a = assume_ali(
        &emu,
        &[
            ("RoleArn", ALI_ROLE),
            ("RoleSessionName", "ci-run"),
            ("DurationSeconds", "900"),
        ],
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let c = &a.body["Credentials"];
    assert!(c["AccessKeyId"].as_str().unwrap().starts_with("STS."));
    assert!(c["AccessKeySecret"].as_str().is_some() && c["SecurityToken"].as_str().is_some());
    let exp = imageshare_core::time::parse_iso8601(c["Expiration"].as_str().unwrap()).unwrap();
    assert!(exp.abs_diff(now() + 900) <= 2, "Expiration {exp}");
    assert_eq!(
        a.body["AssumedRoleUser"]["Arn"],
        format!("{ALI_ROLE}/ci-run")
    );
    assert!(a.body["AssumedRoleUser"]["AssumedRoleId"]
        .as_str()
        .unwrap()
        .ends_with(":ci-run"));
    assert!(a.body["RequestId"].is_string());

    // RPC v1 with SecurityToken, and ACS3 with x-acs-security-token: the role's account.
    let session = ali_session(&a);
    let d = describe_ecs(&emu, &session).await;
    assert_eq!(d.status, 200, "{:?}", d.body);
    assert_eq!(d.body["Images"]["Image"][0]["ImageId"], "m-golden0001");
    let d3 = acs3(
        &emu.base_url(),
        &session,
        "DescribeImages",
        "2014-05-26",
        &[("RegionId", "cn-hangzhou")],
        now(),
        &nonce(),
    )
    .await;
    assert_eq!(d3.status, 200, "{:?}", d3.body);
    let last = emu.calls().last().cloned().unwrap();
    assert_eq!(last.account.as_deref(), Some(OWNER));
    assert_eq!(
        last.session.as_deref(),
        Some(&*format!("{ALI_ROLE}/ci-run"))
    );

    let who = ali_rpc(&emu, &session, "GetCallerIdentity", "2015-04-01", &[]).await;
    assert_eq!(who.body["IdentityType"], "AssumedRoleUser");
    assert_eq!(who.body["AccountId"], OWNER);
    assert_eq!(
        who.body["Arn"],
        "acs:ram::100000000001:assumed-role/deployer/ci-run"
    );
    let root = ali_rpc(&emu, &ali(CALLER), "GetCallerIdentity", "2015-04-01", &[]).await;
    assert_eq!(root.body["IdentityType"], "Account");
    assert_eq!(root.body["Arn"], "acs:ram::100000000002:root");

    assert_eq!(emu.action_count(ALIBABA_STS, "AssumeRole"), 1);
    assert_eq!(emu.action_count(ALIBABA_STS, "GetCallerIdentity"), 2);
    let sts_call = emu
        .calls()
        .into_iter()
        .find(|c| c.action == "AssumeRole")
        .unwrap();
    assert_eq!(sts_call.account.as_deref(), Some(CALLER));
}

#[tokio::test]
async fn alibaba_refusals_use_the_sts_codes() {
    let emu = Emulator::start(world(None, false)).await.unwrap();
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str);
    let cases: &[Case<'_>] = &[
        (
            &[
                ("RoleArn", "acs:ram::100000000001:role/nope"),
                ("RoleSessionName", "s1"),
            ],
            404,
            "EntityNotExist.Role",
        ),
        (
            &[("RoleArn", "not-an-arn"), ("RoleSessionName", "s1")],
            400,
            "InvalidParameter.RoleArn",
        ),
        (
            &[
                ("RoleArn", ALI_ROLE),
                ("RoleSessionName", "s1"),
                ("DurationSeconds", "7200"),
            ],
            400,
            "InvalidParameter.DurationSeconds",
        ),
        (
            &[("RoleArn", ALI_ROLE), ("RoleSessionName", "bad name!")],
            400,
            "InvalidParameter.RoleSessionName",
        ),
        (
            &[
                ("RoleArn", "acs:ram::100000000001:role/guarded"),
                ("RoleSessionName", "s1"),
            ],
            403,
            "NoPermission",
        ),
        (
            &[
                ("RoleArn", "acs:ram::100000000001:role/guarded"),
                ("RoleSessionName", "s1"),
                ("ExternalId", "other"),
            ],
            403,
            "NoPermission",
        ),
        (&[("RoleSessionName", "s1")], 400, "MissingParameter"),
    ];
    for (params, status, code) in cases {
        let a = assume_ali(&emu, params).await;
        assert_eq!(
            (a.status, a.code()),
            (*status, *code),
            "{params:?}: {:?}",
            a.body
        );
    }
    let ok = assume_ali(
        &emu,
        &[
            ("RoleArn", "acs:ram::100000000001:role/guarded"),
            ("RoleSessionName", "s1"),
            ("ExternalId", "xid-1"),
        ],
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    // The owner itself is not in the role's trust.
    let own = ali_rpc(
        &emu,
        &ali(OWNER),
        "AssumeRole",
        "2015-04-01",
        &[("RoleArn", ALI_ROLE), ("RoleSessionName", "s1")],
    )
    .await;
    assert_eq!((own.status, own.code()), (403, "NoPermission"));
    // A bad signature on STS is refused like on any action.
    let bad = ali_rpc(
        &emu,
        &AlibabaCredentials::new(format!("LTAI{CALLER}"), "wrong"),
        "AssumeRole",
        "2015-04-01",
        &[("RoleArn", ALI_ROLE), ("RoleSessionName", "s1")],
    )
    .await;
    assert_eq!(bad.code(), "SignatureDoesNotMatch");
    assert_eq!(emu.action_count(ALIBABA_STS, "AssumeRole"), cases.len() + 3);
}

#[tokio::test]
async fn alibaba_temporary_credentials_expire_and_bad_tokens_are_refused() {
    let emu = Emulator::start(world(Some(1), false)).await.unwrap();
    let a = assume_ali(&emu, &[("RoleArn", ALI_ROLE), ("RoleSessionName", "s1")]).await;
    let session = ali_session(&a);
    assert_eq!(describe_ecs(&emu, &session).await.status, 200);
    let c = &a.body["Credentials"];
    let (id, secret) = (
        c["AccessKeyId"].as_str().unwrap(),
        c["AccessKeySecret"].as_str().unwrap(),
    );
    let no_token = describe_ecs(&emu, &AlibabaCredentials::new(id, secret)).await;
    assert_eq!(no_token.code(), "MissingSecurityToken");
    let garbage = describe_ecs(
        &emu,
        &AlibabaCredentials::new(id, secret).with_security_token("CAISgarbage"),
    )
    .await;
    assert_eq!(garbage.code(), "InvalidSecurityToken.Malformed");
    let other = assume_ali(&emu, &[("RoleArn", ALI_ROLE), ("RoleSessionName", "s2")]).await;
    let swapped = AlibabaCredentials::new(id, secret)
        .with_security_token(other.body["Credentials"]["SecurityToken"].as_str().unwrap());
    assert_eq!(
        describe_ecs(&emu, &swapped).await.code(),
        "InvalidSecurityToken.MismatchWithAccessKey"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let expired = describe_ecs(&emu, &session).await;
    assert_eq!(
        (expired.status, expired.code()),
        (400, "InvalidSecurityToken.Expired"),
        "{:?}",
        expired.body
    );
    // The world's TTL shortens what was asked; Expiration says so.
    let exp = imageshare_core::time::parse_iso8601(c["Expiration"].as_str().unwrap()).unwrap();
    assert!(exp <= now() + 1);
}

#[tokio::test]
async fn alibaba_assume_role_with_oidc_is_anonymous_and_checks_the_token() {
    let emu = Emulator::start(world(None, false)).await.unwrap();
    // As aliyun/credentials-python's OIDC provider sends it: GET, no AccessKeyId, no
    // signature, no nonce.
    let call = |token: String, provider: &'static str| {
        let ts = imageshare_core::time::format_iso8601(now());
        reqwest::Client::new()
            .get(format!("{}/", emu.base_url()))
            .query(&[
                ("Action", "AssumeRoleWithOIDC"),
                ("Format", "JSON"),
                ("Version", "2015-04-01"),
                ("DurationSeconds", "3600"),
                ("RoleArn", ALI_ROLE),
                ("OIDCProviderArn", provider),
                ("OIDCToken", token.as_str()),
                ("RoleSessionName", "oidc-s"),
                ("Timestamp", ts.as_str()),
            ])
    };
    let (status, body, _) = send(call(jwt("sts.aliyuncs.com", 600), ALI_PROVIDER)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["Credentials"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .starts_with("STS."));
    assert_eq!(body["OIDCTokenInfo"]["Issuer"], ISS);
    let session = AlibabaCredentials::new(
        body["Credentials"]["AccessKeyId"].as_str().unwrap(),
        body["Credentials"]["AccessKeySecret"].as_str().unwrap(),
    )
    .with_security_token(body["Credentials"]["SecurityToken"].as_str().unwrap());
    assert_eq!(describe_ecs(&emu, &session).await.status, 200);
    let cases = [
        (
            jwt("someone-else", 600),
            ALI_PROVIDER,
            "AuthenticationFail.OIDCToken.AudienceNotMatch",
        ),
        (
            jwt("sts.aliyuncs.com", -10),
            ALI_PROVIDER,
            "AuthenticationFail.OIDCToken.Expired",
        ),
        (
            "not.a-jwt".to_owned(),
            ALI_PROVIDER,
            "AuthenticationFail.OIDCToken.Invalid",
        ),
        (
            jwt("sts.aliyuncs.com", 600),
            "acs:ram::100000000001:oidc-provider/nope",
            "AuthenticationFail.NoPermission",
        ),
    ];
    for (token, provider, code) in cases {
        let (status, body, _) = send(call(token, provider)).await;
        assert_eq!(
            (status, body["Code"].as_str().unwrap_or("")),
            (401, code),
            "{body}"
        );
    }
    let log = emu.calls();
    let oidc: Vec<_> = log
        .iter()
        .filter(|c| c.action == "AssumeRoleWithOIDC")
        .collect();
    assert_eq!(oidc.len(), 5);
    assert!(oidc
        .iter()
        .all(|c| c.account.is_none() && c.provider == ALIBABA_STS));
}

#[tokio::test]
async fn tencent_sts_assume_role_web_identity_and_caller_identity() {
    let emu = Emulator::start(world(None, false)).await.unwrap();
    let a = tencent(
        &emu,
        &tc(CALLER),
        "sts",
        "AssumeRole",
        "2018-08-13",
        &json!({"RoleArn": TC_ROLE, "RoleSessionName": "ci", "DurationSeconds": 7200}),
    )
    .await;
    let r = &a["Response"];
    assert!(r["Error"].is_null(), "{a}");
    let c = &r["Credentials"];
    let (id, key, token) = (
        c["TmpSecretId"].as_str().unwrap(),
        c["TmpSecretKey"].as_str().unwrap(),
        c["Token"].as_str().unwrap(),
    );
    assert!(r["ExpiredTime"].as_u64().unwrap().abs_diff(now() + 7200) <= 2);
    assert!(r["Expiration"].as_str().unwrap().ends_with('Z'));

    let session = TencentCredentials::new(id, key).with_token(token);
    let d = tencent(
        &emu,
        &session,
        "cvm",
        "DescribeImages",
        "2017-03-12",
        &json!({"ImageIds": ["img-6pb6lrmy"]}),
    )
    .await;
    assert_eq!(
        d["Response"]["ImageSet"][0]["ImageId"], "img-6pb6lrmy",
        "{d}"
    );
    assert_eq!(emu.calls().last().unwrap().account.as_deref(), Some(OWNER));
    let no_token = tencent(
        &emu,
        &TencentCredentials::new(id, key),
        "cvm",
        "DescribeImages",
        "2017-03-12",
        &json!({}),
    )
    .await;
    assert_eq!(
        no_token["Response"]["Error"]["Code"],
        "AuthFailure.TokenFailure"
    );

    let who = tencent(
        &emu,
        &session,
        "sts",
        "GetCallerIdentity",
        "2018-08-13",
        &json!({}),
    )
    .await;
    assert_eq!(who["Response"]["AccountId"], OWNER);
    assert_eq!(who["Response"]["Type"], "AssumedRole");

    let refusals = [
        (
            json!({"RoleArn": "qcs::cam::uin/100000000001:roleName/nope", "RoleSessionName": "ci"}),
            "ResourceNotFound.RoleNotFound",
        ),
        (
            json!({"RoleArn": TC_ROLE, "RoleSessionName": "ci", "DurationSeconds": 43201}),
            "InvalidParameter.OverTimeError",
        ),
        (
            json!({"RoleArn": "nope", "RoleSessionName": "ci"}),
            "InvalidParameter.ParamError",
        ),
    ];
    for (payload, code) in refusals {
        let e = tencent(
            &emu,
            &tc(CALLER),
            "sts",
            "AssumeRole",
            "2018-08-13",
            &payload,
        )
        .await;
        assert_eq!(e["Response"]["Error"]["Code"], code, "{payload}");
    }
    let untrusted = tencent(
        &emu,
        &tc(OWNER),
        "sts",
        "AssumeRole",
        "2018-08-13",
        &json!({"RoleArn": TC_ROLE, "RoleSessionName": "ci"}),
    )
    .await;
    assert_eq!(
        untrusted["Response"]["Error"]["Code"],
        "UnauthorizedOperation"
    );

    // AssumeRoleWithWebIdentity as tencentcloud-sdk-python sends it: Authorization: SKIP.
    let web = |token: String| {
        reqwest::Client::new()
            .post(format!("{}/", emu.base_url()))
            .header("Authorization", "SKIP")
            .header("Content-Type", "application/json")
            .header("X-TC-Action", "AssumeRoleWithWebIdentity")
            .header("X-TC-Version", "2018-08-13")
            .header("X-TC-Region", "ap-guangzhou")
            .header("X-TC-Timestamp", now().to_string())
            .body(json!({"ProviderId": TC_PROVIDER, "WebIdentityToken": token, "RoleArn": TC_ROLE, "RoleSessionName": "web", "DurationSeconds": 3600}).to_string())
    };
    let (_, ok, _) = send(web(jwt("tke", 600))).await;
    assert!(
        ok["Response"]["Credentials"]["TmpSecretId"].is_string(),
        "{ok}"
    );
    let (_, bad, _) = send(web(jwt("other", 600))).await;
    assert_eq!(
        bad["Response"]["Error"]["Code"],
        "InvalidParameter.WebIdentityTokenError"
    );
    assert_eq!(emu.action_count(TENCENT_STS, "AssumeRole"), 5);
    assert_eq!(
        emu.action_count(TENCENT_STS, "AssumeRoleWithWebIdentity"),
        2
    );
}

#[tokio::test]
async fn tencent_temporary_credentials_expire() {
    let emu = Emulator::start(world(Some(1), false)).await.unwrap();
    let a = tencent(
        &emu,
        &tc(CALLER),
        "sts",
        "AssumeRole",
        "2018-08-13",
        &json!({"RoleArn": TC_ROLE, "RoleSessionName": "ci"}),
    )
    .await;
    let c = &a["Response"]["Credentials"];
    let session = TencentCredentials::new(
        c["TmpSecretId"].as_str().unwrap(),
        c["TmpSecretKey"].as_str().unwrap(),
    )
    .with_token(c["Token"].as_str().unwrap());
    let payload = json!({"ImageIds": ["img-6pb6lrmy"]});
    let ok = tencent(
        &emu,
        &session,
        "cvm",
        "DescribeImages",
        "2017-03-12",
        &payload,
    )
    .await;
    assert!(ok["Response"]["Error"].is_null(), "{ok}");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let late = tencent(
        &emu,
        &session,
        "cvm",
        "DescribeImages",
        "2017-03-12",
        &payload,
    )
    .await;
    assert_eq!(
        late["Response"]["Error"]["Code"],
        "AuthFailure.TokenFailure"
    );
}

#[tokio::test]
async fn alibaba_metadata_with_imdsv2_required() {
    let emu = Emulator::start(world(Some(2), true)).await.unwrap();
    let base = emu.base_url();
    let client = reqwest::Client::new();
    let creds_path = format!("{base}/latest/meta-data/ram/security-credentials/");
    // IMDSv1 refused.
    let (status, _, _) = send(client.get(&creds_path)).await;
    assert_eq!(status, 401);
    let (status, _, _) = send(
        client
            .get(&creds_path)
            .header("X-aliyun-ecs-metadata-token", "forged"),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _, _) = send(client.put(format!("{base}/latest/api/token"))).await;
    assert_eq!(status, 400, "a token needs a TTL");
    let (status, _, token) = send(
        client
            .put(format!("{base}/latest/api/token"))
            .header("X-aliyun-ecs-metadata-token-ttl-seconds", "21600"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, role) = send(
        client
            .get(&creds_path)
            .header("X-aliyun-ecs-metadata-token", &token),
    )
    .await;
    assert_eq!((status, role.as_str()), (200, "deployer"));
    let (status, body, _) = send(
        client
            .get(format!("{creds_path}deployer"))
            .header("X-aliyun-ecs-metadata-token", &token),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["Code"], "Success");
    for field in [
        "AccessKeyId",
        "AccessKeySecret",
        "SecurityToken",
        "Expiration",
        "LastUpdated",
    ] {
        assert!(body[field].is_string(), "{field}");
    }
    let session = AlibabaCredentials::new(
        body["AccessKeyId"].as_str().unwrap(),
        body["AccessKeySecret"].as_str().unwrap(),
    )
    .with_security_token(body["SecurityToken"].as_str().unwrap());
    assert_eq!(describe_ecs(&emu, &session).await.status, 200);
    let (status, _, _) = send(
        client
            .get(format!("{creds_path}other"))
            .header("X-aliyun-ecs-metadata-token", &token),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(emu.action_count(ALIBABA_METADATA, "/latest/api/token"), 2);
    // Rotated after half its life: a later fetch gives fresh credentials.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, again, _) = send(
        client
            .get(format!("{creds_path}deployer"))
            .header("X-aliyun-ecs-metadata-token", &token),
    )
    .await;
    assert_ne!(again["AccessKeyId"], body["AccessKeyId"]);
}

#[tokio::test]
async fn tencent_metadata_serves_the_instance_role() {
    let emu = Emulator::start(world(None, true)).await.unwrap();
    let base = format!(
        "{}/latest/meta-data/cam/security-credentials/",
        emu.base_url()
    );
    let (status, _, role) = send(reqwest::Client::new().get(&base)).await;
    assert_eq!((status, role.as_str()), (200, "deployer"));
    let (_, body, _) = send(reqwest::Client::new().get(format!("{base}deployer"))).await;
    assert_eq!(body["Code"], "Success");
    assert!(body["ExpiredTime"].as_u64().unwrap() > now());
    let session = TencentCredentials::new(
        body["TmpSecretId"].as_str().unwrap(),
        body["TmpSecretKey"].as_str().unwrap(),
    )
    .with_token(body["Token"].as_str().unwrap());
    let d = tencent(
        &emu,
        &session,
        "cvm",
        "DescribeImages",
        "2017-03-12",
        &json!({"ImageIds": ["img-6pb6lrmy"]}),
    )
    .await;
    assert!(d["Response"]["Error"].is_null(), "{d}");
    assert_eq!(
        emu.action_count(
            TENCENT_METADATA,
            "/latest/meta-data/cam/security-credentials/deployer"
        ),
        1
    );
}

#[test]
fn world_file_declares_roles_providers_and_settings() {
    let w = World::from_toml_str(
        r#"
        [sts]
        credentials_ttl_secs = 3
        [metadata]
        imdsv2_required = true
        [[account]]
        id = "100000000001"
        [[oidc_provider]]
        arn = "acs:ram::100000000001:oidc-provider/ci"
        issuer = "https://issuer.example.com"
        audiences = ["sts.aliyuncs.com"]
        [[role]]
        cloud = "alibaba"
        account = "100000000001"
        name = "deployer"
        trust = ["100000000001", "oidc:acs:ram::100000000001:oidc-provider/ci"]
        instance = true
        "#,
    )
    .unwrap();
    assert_eq!(w.roles[0].arn(), "acs:ram::100000000001:role/deployer");
    assert_eq!(w.sts.credentials_ttl_secs, Some(3));
    let bad =
        |extra: &str| World::from_toml_str(&format!("[[account]]\nid = \"1\"\n{extra}")).is_err();
    assert!(bad(
        "[[role]]\ncloud = \"alibaba\"\naccount = \"2\"\nname = \"r\""
    ));
    assert!(bad(
        "[[role]]\ncloud = \"alibaba\"\naccount = \"1\"\nname = \"r\"\ntrust = [\"oidc:nope\"]"
    ));
    assert!(bad("[[role]]\ncloud = \"alibaba\"\naccount = \"1\"\nname = \"r\"\ninstance = true\n[[role]]\ncloud = \"alibaba\"\naccount = \"1\"\nname = \"s\"\ninstance = true"));
    assert!(bad(
        "[[role]]\ncloud = \"tencent\"\naccount = \"1\"\nname = \"r\"\nmax_session_secs = 50000"
    ));
}
