//! The credential sources on the wire (wiremock as STS, the metadata server and a
//! credentials URI) and the chain's order over a hermetic `StaticEnv`.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{fast_retry, json, query, KEY_ID, REGION, SECRET};
use imageshare_alibaba::signer::rpc_v1;
use imageshare_alibaba::{AlibabaCredentials, EcsImageSharing, SasImageSharing};
use imageshare_core::credentials::{Env, StaticEnv};
use imageshare_core::{time, AssumeRole, ClientBuilder, Error, ImageSharingExt, Secret};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ROLE: &str = "acs:ram::1234567890:role/imageshare";
const STS_ID: &str = "STS.NUwireTestKey";
const STS_SECRET: &str = "sts-secret-never-printed";
const STS_TOKEN: &str = "sts-token-never-printed";
const OIDC_TOKEN: &str = "oidc-token-never-printed";

/// `k=v&...` decoded.
fn form(body: &[u8]) -> Vec<(String, String)> {
    let text = std::str::from_utf8(body).unwrap();
    if text.is_empty() {
        return Vec::new();
    }
    text.split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let d = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .unwrap()
                    .into_owned()
            };
            (d(k), d(v))
        })
        .collect()
}

fn get<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn expiration_in(secs: u64) -> String {
    time::format_iso8601(time::now_unix() + secs)
}

/// An STS assume answer valid `ttl` seconds from each request.
fn assume_answer(ttl: u64) -> impl Fn(&Request) -> ResponseTemplate + Send + Sync {
    move |_: &Request| {
        json(
            200,
            serde_json::json!({
                "RequestId": "req-assume",
                "AssumedRoleUser": {"Arn": format!("{ROLE}/s"), "AssumedRoleId": "3:s"},
                "Credentials": {
                    "AccessKeyId": STS_ID,
                    "AccessKeySecret": STS_SECRET,
                    "SecurityToken": STS_TOKEN,
                    "Expiration": expiration_in(ttl),
                }
            }),
        )
    }
}

fn identity_answer() -> ResponseTemplate {
    json(
        200,
        serde_json::json!({
            "RequestId": "req-id",
            "AccountId": "1234567890",
            "Arn": format!("{ROLE}/s"),
            "IdentityType": "AssumedRoleUser",
            "PrincipalId": "3:s",
            "UserId": "3",
        }),
    )
}

async fn requests(server: &MockServer, action: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            get(&query(r), "Action") == Some(action)
                || (action == "GET" && r.method.as_str() == "GET")
        })
        .collect()
}

fn ecs_on(server: &MockServer, env: impl Env + 'static) -> imageshare_alibaba::EcsBuilder {
    EcsImageSharing::builder()
        .region(REGION)
        .endpoint(server.uri())
        .sts_endpoint(server.uri())
        .metadata_endpoint(server.uri())
        .retry(fast_retry(2))
        .env(env)
}

fn assert_no_secret(text: &str) {
    for s in [SECRET, STS_SECRET, STS_TOKEN, OIDC_TOKEN] {
        assert!(!text.contains(s), "secret leaked: {text}");
    }
}

#[tokio::test]
async fn assume_role_is_signed_with_the_base_keys_and_sends_the_role_in_the_form() {
    let server = MockServer::start().await;
    Mock::given(query_param("Action", "AssumeRole"))
        .respond_with(assume_answer(3600))
        .mount(&server)
        .await;
    Mock::given(query_param("Action", "GetCallerIdentity"))
        .respond_with(identity_answer())
        .mount(&server)
        .await;
    let ecs = ecs_on(&server, StaticEnv::new())
        .credentials(AlibabaCredentials::new(KEY_ID, SECRET))
        .assume_role(
            AssumeRole::new(ROLE)
                .session_name("wire-session")
                .external_id("ext-1")
                .duration(Duration::from_secs(1800))
                .policy(r#"{"Version":"1"}"#),
        )
        .build()
        .unwrap();
    let me = ecs.whoami().await.unwrap();
    assert_eq!(me.account, "1234567890");
    assert_eq!(me.arn.as_deref(), Some(format!("{ROLE}/s").as_str()));
    assert_eq!(
        me.source,
        format!("role {ROLE} assumed with explicit credentials")
    );
    let expires = me.expires.expect("temporary credentials expire").unix();
    assert!(expires > time::now_unix() + 3000, "{expires}");

    let assume = requests(&server, "AssumeRole").await;
    assert_eq!(assume.len(), 1);
    let r = &assume[0];
    assert_eq!(r.method.as_str(), "POST");
    assert_eq!(r.url.path(), "/");
    assert_eq!(
        r.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    let q = query(r);
    let f = form(&r.body);
    for (k, v) in [
        ("Action", "AssumeRole"),
        ("Version", "2015-04-01"),
        ("Format", "JSON"),
        ("AccessKeyId", KEY_ID),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
    ] {
        assert_eq!(get(&q, k), Some(v), "{k} in {q:?}");
    }
    assert!(get(&q, "Signature").is_some() && get(&q, "SignatureNonce").is_some());
    assert_eq!(
        get(&q, "SecurityToken"),
        None,
        "long-term base keys have no token"
    );
    assert_eq!(
        get(&q, "RoleArn"),
        None,
        "business parameters go in the body"
    );
    for (k, v) in [
        ("RoleArn", ROLE),
        ("RoleSessionName", "wire-session"),
        ("DurationSeconds", "1800"),
        ("Policy", r#"{"Version":"1"}"#),
        ("ExternalId", "ext-1"),
    ] {
        assert_eq!(get(&f, k), Some(v), "{k} in {f:?}");
    }
    // One signature over query and form, with the base secret.
    let all: Vec<(String, String)> = q.iter().chain(&f).cloned().collect();
    rpc_v1::verify("POST", &all, &Secret::new(SECRET)).unwrap();

    // whoami signs with the role's temporary credentials.
    let who = requests(&server, "GetCallerIdentity").await;
    assert_eq!(who.len(), 1);
    let q = query(&who[0]);
    let f = form(&who[0].body);
    assert_eq!(get(&q, "AccessKeyId"), Some(STS_ID));
    assert_eq!(get(&q, "SecurityToken"), Some(STS_TOKEN));
    let all: Vec<(String, String)> = q.iter().chain(&f).cloned().collect();
    rpc_v1::verify("POST", &all, &Secret::new(STS_SECRET)).unwrap();

    assert_no_secret(&format!("{ecs:?} {me:?}"));
}

#[tokio::test]
async fn sts_refusals_are_credential_source_errors_with_the_code_verbatim() {
    let server = MockServer::start().await;
    Mock::given(query_param("Action", "AssumeRole"))
        .respond_with(json(
            403,
            serde_json::json!({"RequestId": "r-1", "Code": "NoPermission",
                "Message": "You are not authorized to do this action."}),
        ))
        .mount(&server)
        .await;
    let sas = SasImageSharing::builder()
        .region(REGION)
        .endpoint(server.uri())
        .sts_endpoint(server.uri())
        .env(StaticEnv::new())
        .retry(fast_retry(2))
        .credentials(AlibabaCredentials::new(KEY_ID, SECRET))
        .assume_role(AssumeRole::new(ROLE))
        .build()
        .unwrap();
    let err = sas.whoami().await.unwrap_err();
    match &err {
        Error::CredentialSource {
            code, source_name, ..
        } => {
            assert_eq!(code.as_deref(), Some("NoPermission"));
            assert!(source_name.contains(ROLE), "{source_name}");
        }
        other => panic!("expected CredentialSource, got {other:?}"),
    }
    assert_no_secret(&format!("{err} {err:?}"));
    // The default session name.
    let r = &requests(&server, "AssumeRole").await[0];
    let name = get(&form(&r.body), "RoleSessionName").unwrap().to_owned();
    assert!(name.starts_with("imageshare-"), "{name}");
}

/// Variables from a map, files from the disk (so a test can rewrite a token file).
#[derive(Debug, Clone, Default)]
struct DiskEnv {
    vars: HashMap<String, String>,
}

impl Env for DiskEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.is_empty()).cloned()
    }
    fn home_dir(&self) -> Option<PathBuf> {
        None
    }
    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
}

fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("imageshare-ali-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("token")
}

#[tokio::test]
async fn oidc_is_anonymous_and_rereads_the_token_file_on_each_refresh() {
    let server = MockServer::start().await;
    Mock::given(query_param("Action", "AssumeRoleWithOIDC"))
        .respond_with(assume_answer(3600))
        .mount(&server)
        .await;
    let file = temp_file("oidc");
    std::fs::write(&file, format!("{OIDC_TOKEN}-1\n")).unwrap();
    let mut env = DiskEnv::default();
    for (k, v) in [
        ("ALIBABA_CLOUD_ROLE_ARN", ROLE),
        (
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "acs:ram::1234567890:oidc-provider/ack",
        ),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", file.to_str().unwrap()),
        ("ALIBABA_CLOUD_ROLE_SESSION_NAME", "rrsa-session"),
    ] {
        env.vars.insert(k.to_owned(), v.to_owned());
    }
    let ecs = ecs_on(&server, env).build().unwrap();
    let cache = ecs.client().credentials();
    assert!(
        cache.source().starts_with(&format!("OIDC role {ROLE}")),
        "{}",
        cache.source()
    );
    let first = cache.get().await.unwrap();
    assert_eq!(first.credentials.access_key_id, STS_ID);
    std::fs::write(&file, format!("{OIDC_TOKEN}-2")).unwrap();
    cache.invalidate(&first);
    cache.get().await.unwrap();

    let sent = requests(&server, "AssumeRoleWithOIDC").await;
    assert_eq!(sent.len(), 2);
    for (r, token) in sent
        .iter()
        .zip([format!("{OIDC_TOKEN}-1"), format!("{OIDC_TOKEN}-2")])
    {
        assert_eq!(r.method.as_str(), "POST");
        let q = query(r);
        let f = form(&r.body);
        for k in [
            "AccessKeyId",
            "Signature",
            "SignatureNonce",
            "SecurityToken",
        ] {
            assert_eq!(get(&q, k), None, "anonymous: no {k}");
            assert_eq!(get(&f, k), None, "anonymous: no {k}");
        }
        assert_eq!(get(&q, "Version"), Some("2015-04-01"));
        assert_eq!(get(&q, "Format"), Some("JSON"));
        assert!(get(&q, "Timestamp").is_some());
        assert_eq!(
            get(&q, "OIDCToken"),
            None,
            "the token never goes in the URL"
        );
        assert_eq!(get(&f, "OIDCToken"), Some(token.as_str()));
        assert_eq!(get(&f, "RoleArn"), Some(ROLE));
        assert_eq!(
            get(&f, "OIDCProviderArn"),
            Some("acs:ram::1234567890:oidc-provider/ack")
        );
        assert_eq!(get(&f, "RoleSessionName"), Some("rrsa-session"));
        assert_eq!(get(&f, "DurationSeconds"), Some("3600"));
    }

    // A missing token file: a CredentialSource error naming the file.
    std::fs::remove_file(&file).unwrap();
    let stale = cache.get().await.unwrap();
    cache.invalidate(&stale);
    let err = cache.get().await.unwrap_err();
    assert!(matches!(err, Error::CredentialSource { .. }), "{err:?}");
    assert!(err.to_string().contains(file.to_str().unwrap()), "{err}");
    assert_no_secret(&format!("{err} {err:?} {ecs:?}"));
}

#[tokio::test]
async fn an_expired_oidc_jwt_is_refused_before_sending() {
    use base64::Engine;
    let server = MockServer::start().await;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let jwt = format!(
        "{}.{}.sig",
        b64(r#"{"alg":"RS256"}"#),
        b64(r#"{"exp":1000}"#)
    );
    let env = StaticEnv::new()
        .with_var("ALIBABA_CLOUD_ROLE_ARN", ROLE)
        .with_var(
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "acs:ram::1:oidc-provider/x",
        )
        .with_var("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/var/run/token")
        .with_file("/var/run/token", &jwt);
    let ecs = ecs_on(&server, env).build().unwrap();
    let err = ecs.client().credentials().get().await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("/var/run/token") && msg.contains("expired"),
        "{msg}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

fn metadata_answer(code: &str) -> ResponseTemplate {
    json(
        200,
        serde_json::json!({
            "Code": code,
            "AccessKeyId": STS_ID,
            "AccessKeySecret": STS_SECRET,
            "SecurityToken": STS_TOKEN,
            "Expiration": expiration_in(3600),
            "LastUpdated": "2024-01-01T00:00:00Z",
        }),
    )
}

#[tokio::test]
async fn ecs_ram_role_gets_an_imdsv2_token_discovers_the_role_then_reads_its_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/latest/api/token"))
        .and(header("x-aliyun-ecs-metadata-token-ttl-seconds", "21600"))
        .respond_with(ResponseTemplate::new(200).set_body_string("imds-token-1"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/latest/meta-data/ram/security-credentials/"))
        .and(header("x-aliyun-ecs-metadata-token", "imds-token-1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("EcsRole\n"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/latest/meta-data/ram/security-credentials/EcsRole"))
        .and(header("x-aliyun-ecs-metadata-token", "imds-token-1"))
        .respond_with(metadata_answer("Success"))
        .mount(&server)
        .await;
    let ecs = ecs_on(&server, StaticEnv::new()).build().unwrap();
    let cache = ecs.client().credentials();
    assert_eq!(
        cache.source(),
        format!("ECS instance RAM role (discovered) via {}", server.uri())
    );
    let c = cache.get().await.unwrap();
    assert_eq!(c.credentials.access_key_id, STS_ID);
    assert!(c.expires.is_some());
    let sent = server.received_requests().await.unwrap();
    let calls: Vec<(String, &str)> = sent
        .iter()
        .map(|r| (r.method.to_string(), r.url.path()))
        .collect();
    assert_eq!(
        calls,
        [
            ("PUT".to_owned(), "/latest/api/token"),
            (
                "GET".to_owned(),
                "/latest/meta-data/ram/security-credentials/"
            ),
            (
                "GET".to_owned(),
                "/latest/meta-data/ram/security-credentials/EcsRole"
            )
        ]
    );

    // No token to be had (the PUT answers 404): IMDSv1, no token header, as the libraries.
    let v1 = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/latest/meta-data/ram/security-credentials/Named"))
        .respond_with(metadata_answer("Success"))
        .mount(&v1)
        .await;
    let env = StaticEnv::new().with_var("ALIBABA_CLOUD_ECS_METADATA", "Named");
    let ecs = ecs_on(&v1, env).build().unwrap();
    ecs.client().credentials().get().await.unwrap();
    let sent = v1.received_requests().await.unwrap();
    assert_eq!(sent.len(), 2, "the PUT, then the GET");
    assert!(sent
        .iter()
        .all(|r| r.headers.get("x-aliyun-ecs-metadata-token").is_none()));

    // ... unless IMDSv1 is disabled: then a failed PUT is an error naming why.
    let env = StaticEnv::new()
        .with_var("ALIBABA_CLOUD_ECS_METADATA", "Named")
        .with_var("ALIBABA_CLOUD_IMDSV1_DISABLED", "true");
    let ecs = ecs_on(&v1, env).build().unwrap();
    let err = ecs.client().credentials().get().await.unwrap_err();
    assert!(matches!(err, Error::CredentialSource { .. }), "{err:?}");
    assert!(err.to_string().contains("IMDSv2 token"), "{err}");
    assert!(
        err.to_string().contains("ALIBABA_CLOUD_IMDSV1_DISABLED"),
        "{err}"
    );

    // A named role is read directly; a Code other than Success is refused.
    let named = MockServer::start().await;
    Mock::given(path("/latest/meta-data/ram/security-credentials/Named"))
        .respond_with(metadata_answer("Failure"))
        .mount(&named)
        .await;
    let env = StaticEnv::new().with_var("ALIBABA_CLOUD_ECS_METADATA", "Named");
    let ecs = ecs_on(&named, env).build().unwrap();
    let err = ecs.client().credentials().get().await.unwrap_err();
    assert!(matches!(err, Error::CredentialSource { .. }), "{err:?}");
    assert!(err.to_string().contains("not \"Success\""), "{err}");
    assert_no_secret(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn credentials_uri_is_read_with_get() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/creds"))
        .respond_with(metadata_answer("Success"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/bad"))
        .respond_with(metadata_answer("Failure"))
        .mount(&server)
        .await;
    let uri = format!("{}/creds?ticket=abc", server.uri());
    let env = StaticEnv::new().with_var("ALIBABA_CLOUD_CREDENTIALS_URI", &uri);
    let ecs = EcsImageSharing::builder()
        .region(REGION)
        .endpoint(server.uri())
        .env(env)
        .build()
        .unwrap();
    let cache = ecs.client().credentials();
    assert_eq!(
        cache.source(),
        format!("ALIBABA_CLOUD_CREDENTIALS_URI={}/creds", server.uri()),
        "the query (maybe a ticket) is not shown"
    );
    let c = cache.get().await.unwrap();
    assert_eq!(
        c.credentials.security_token.as_ref().unwrap().expose(),
        STS_TOKEN
    );
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].url.query(), Some("ticket=abc"));

    let env = StaticEnv::new().with_var(
        "ALIBABA_CLOUD_CREDENTIALS_URI",
        &format!("{}/bad", server.uri()),
    );
    let ecs = EcsImageSharing::builder()
        .region(REGION)
        .endpoint(server.uri())
        .env(env)
        .build()
        .unwrap();
    let err = ecs.client().credentials().get().await.unwrap_err();
    assert!(matches!(err, Error::CredentialSource { .. }), "{err:?}");
    assert_no_secret(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn thirty_two_calls_across_an_expiry_assume_the_role_once_per_validity_period() {
    let server = MockServer::start().await;
    Mock::given(query_param("Action", "AssumeRole"))
        .respond_with(assume_answer(3))
        .mount(&server)
        .await;
    Mock::given(query_param("Action", "GetCallerIdentity"))
        .respond_with(identity_answer().set_delay(Duration::from_millis(20)))
        .mount(&server)
        .await;
    let ecs = Arc::new(
        ecs_on(&server, StaticEnv::new())
            .credentials(AlibabaCredentials::new(KEY_ID, SECRET))
            .assume_role(AssumeRole::new(ROLE))
            .build()
            .unwrap(),
    );
    let burst = || {
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let ecs = ecs.clone();
                tokio::spawn(async move { ecs.whoami().await })
            })
            .collect();
        async move {
            for t in tasks {
                t.await.unwrap().unwrap();
            }
        }
    };
    burst().await;
    assert_eq!(requests(&server, "AssumeRole").await.len(), 1);
    // Lifetime 3 s: refreshed when at most min(180, 3/2) = 1 s is left.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    burst().await;
    assert_eq!(requests(&server, "AssumeRole").await.len(), 2);
    assert_eq!(requests(&server, "GetCallerIdentity").await.len(), 64);
}

#[tokio::test]
async fn an_expired_token_answer_refreshes_once_and_retries_once() {
    let server = MockServer::start().await;
    Mock::given(query_param("Action", "AssumeRole"))
        .respond_with(assume_answer(3600))
        .mount(&server)
        .await;
    let expired = Arc::new(AtomicU64::new(0));
    let seen = expired.clone();
    Mock::given(query_param("Action", "GetCallerIdentity"))
        .respond_with(move |_: &Request| {
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                json(
                    400,
                    serde_json::json!({"RequestId": "r-exp", "Code": "InvalidSecurityToken.Expired",
                        "Message": "Specified SecurityToken is expired."}),
                )
            } else {
                identity_answer()
            }
        })
        .mount(&server)
        .await;
    let ecs = ecs_on(&server, StaticEnv::new())
        .credentials(AlibabaCredentials::new(KEY_ID, SECRET))
        .assume_role(AssumeRole::new(ROLE))
        .build()
        .unwrap();
    ecs.whoami().await.unwrap();
    assert_eq!(requests(&server, "AssumeRole").await.len(), 2);
    assert_eq!(requests(&server, "GetCallerIdentity").await.len(), 2);

    // Fixed credentials are not retried: the refusal surfaces as CredentialsExpired.
    let fixed_server = MockServer::start().await;
    Mock::given(query_param("Action", "GetCallerIdentity"))
        .respond_with(json(
            400,
            serde_json::json!({"Code": "InvalidSecurityToken.Expired", "Message": "x"}),
        ))
        .mount(&fixed_server)
        .await;
    let ecs = ecs_on(&fixed_server, StaticEnv::new())
        .credentials(AlibabaCredentials::sts(STS_ID, STS_SECRET, STS_TOKEN))
        .build()
        .unwrap();
    let err = ecs.whoami().await.unwrap_err();
    assert!(matches!(err, Error::CredentialsExpired { .. }), "{err:?}");
    assert_eq!(fixed_server.received_requests().await.unwrap().len(), 1);
    assert_no_secret(&format!("{err} {err:?}"));
}

// ---- The chain's order over StaticEnv (no network: only sources are resolved). ----

const HOME: &str = "/home/t";
const CONFIG: &str = "/home/t/.aliyun/config.json";

fn config_json() -> String {
    format!(
        r#"{{"current": "ak", "profiles": [
  {{"name": "ak", "mode": "AK", "access_key_id": "LTAIak", "access_key_secret": "{SECRET}",
    "region_id": "cn-beijing"}},
  {{"name": "sts", "mode": "StsToken", "access_key_id": "STS.x", "access_key_secret": "{SECRET}",
    "sts_token": "{STS_TOKEN}"}},
  {{"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIrole",
    "access_key_secret": "{SECRET}", "ram_role_arn": "{ROLE}", "ram_session_name": "cli",
    "expired_seconds": 900, "sts_region": "cn-shanghai", "external_id": "e"}},
  {{"name": "chain", "mode": "ChainableRamRoleArn", "source_profile": "role",
    "ram_role_arn": "acs:ram::2:role/second", "ram_session_name": "c2"}},
  {{"name": "loop-a", "mode": "ChainableRamRoleArn", "source_profile": "loop-b",
    "ram_role_arn": "acs:ram::2:role/a"}},
  {{"name": "loop-b", "mode": "ChainableRamRoleArn", "source_profile": "loop-a",
    "ram_role_arn": "acs:ram::2:role/b"}},
  {{"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "InstanceRole"}},
  {{"name": "oidc", "mode": "OIDC", "ram_role_arn": "{ROLE}",
    "oidc_provider_arn": "acs:ram::1:oidc-provider/p", "oidc_token_file": "/t/token",
    "ram_session_name": "o"}},
  {{"name": "uri", "mode": "CredentialsURI", "credentials_uri": "http://127.0.0.1:9/creds"}},
  {{"name": "sso", "mode": "CloudSSO", "cloud_sso_sign_in_url": "https://x"}}
]}}"#
    )
}

fn home() -> StaticEnv {
    StaticEnv::new()
        .with_home(HOME)
        .with_file(CONFIG, &config_json())
}

/// The source the ECS adapter's chain picks over `env` (its credentials are not fetched).
fn source_of(env: StaticEnv) -> Result<String, Error> {
    EcsImageSharing::builder()
        .region(REGION)
        .env(env)
        .build()
        .map(|e| e.client().credentials().source().to_owned())
}

fn with_profile(name: &str) -> StaticEnv {
    home().with_var("ALIBABA_CLOUD_PROFILE", name)
}

#[test]
fn every_config_json_mode() {
    assert_eq!(
        source_of(home()).unwrap(),
        format!("profile \"ak\" of {CONFIG}")
    );
    assert_eq!(
        source_of(with_profile("sts")).unwrap(),
        format!("profile \"sts\" of {CONFIG}")
    );
    assert_eq!(
        source_of(with_profile("role")).unwrap(),
        format!("role {ROLE} assumed with the keys of profile \"role\" of {CONFIG}")
    );
    assert_eq!(
        source_of(with_profile("chain")).unwrap(),
        format!("role acs:ram::2:role/second assumed with role {ROLE} assumed with the keys of profile \"role\" of {CONFIG}")
    );
    assert_eq!(
        source_of(with_profile("ecs")).unwrap(),
        "ECS instance RAM role InstanceRole via http://100.100.100.200"
    );
    assert_eq!(
        source_of(with_profile("oidc")).unwrap(),
        format!("OIDC role {ROLE} of profile \"oidc\" of {CONFIG} (token file /t/token)")
    );
    assert_eq!(
        source_of(with_profile("uri")).unwrap(),
        format!("credentials URI of profile \"uri\" of {CONFIG}")
    );
    for (profile, note) in [
        ("loop-a", "source_profile cycle"),
        ("sso", "mode CloudSSO not supported"),
    ] {
        let err = source_of(with_profile(profile)).unwrap_err();
        assert!(matches!(err, Error::CredentialsNotFound { .. }), "{err:?}");
        assert!(err.to_string().contains(note), "{err}");
        assert_no_secret(&format!("{err} {err:?}"));
    }
    // The builder's profile wins over ALIBABA_CLOUD_PROFILE, which wins over `current`.
    let b = EcsImageSharing::builder()
        .region(REGION)
        .env(with_profile("sts"))
        .profile("role")
        .build()
        .unwrap();
    assert!(b.client().credentials().source().contains("\"role\""));
    // ALIBABA_CLOUD_CONFIG_FILE names another file.
    let env = StaticEnv::new()
        .with_var("ALIBABA_CLOUD_CONFIG_FILE", "/etc/ali.json")
        .with_file("/etc/ali.json", &config_json());
    assert_eq!(source_of(env).unwrap(), "profile \"ak\" of /etc/ali.json");
}

#[test]
fn precedence_follows_the_credentials_go_default_chain() {
    let oidc = |env: StaticEnv| {
        env.with_var("ALIBABA_CLOUD_ROLE_ARN", ROLE)
            .with_var(
                "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                "acs:ram::1:oidc-provider/p",
            )
            .with_var("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/t/token")
    };
    let ecs = |env: StaticEnv| env.with_var("ALIBABA_CLOUD_ECS_METADATA", "R");
    let uri =
        |env: StaticEnv| env.with_var("ALIBABA_CLOUD_CREDENTIALS_URI", "http://127.0.0.1:9/c");
    let keys = |env: StaticEnv| {
        env.with_var("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv")
            .with_var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    };
    let all = keys(oidc(ecs(uri(home()))));
    assert_eq!(
        source_of(all).unwrap(),
        "environment variable ALIBABA_CLOUD_ACCESS_KEY_ID"
    );
    assert!(source_of(oidc(ecs(uri(home()))))
        .unwrap()
        .starts_with("OIDC role"));
    assert!(source_of(ecs(uri(home())))
        .unwrap()
        .starts_with("profile \"ak\""));
    let no_file = StaticEnv::new().with_home(HOME);
    assert!(source_of(ecs(uri(no_file.clone())))
        .unwrap()
        .starts_with("ECS instance RAM role R"));
    assert!(source_of(uri(no_file.clone()))
        .unwrap()
        .starts_with("ALIBABA_CLOUD_CREDENTIALS_URI="));
    // The metadata server disabled: the URI is next.
    let disabled =
        ecs(uri(no_file.clone())).with_var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
    assert!(source_of(disabled)
        .unwrap()
        .starts_with("ALIBABA_CLOUD_CREDENTIALS_URI="));
    // Without a sign of it, the metadata server is not used, and the error says how.
    let err = source_of(no_file.clone()).unwrap_err().to_string();
    assert!(err.contains("ALIBABA_CLOUD_ECS_METADATA"), "{err}");
    let disabled = no_file.with_var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "TRUE");
    let err = source_of(disabled).unwrap_err().to_string();
    assert!(
        err.contains("skipped: ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"),
        "{err}"
    );
    // OIDC needs all three variables; a partial set is noted and skipped.
    let partial = home().with_var("ALIBABA_CLOUD_ROLE_ARN", ROLE);
    assert!(source_of(partial).unwrap().starts_with("profile \"ak\""));
}

#[test]
fn sts_endpoint_follows_region_and_vpc_variables() {
    use imageshare_alibaba::credential::sts::sts_endpoint;
    let env = StaticEnv::new();
    assert_eq!(
        sts_endpoint(None, &env, None, false),
        "https://sts.aliyuncs.com"
    );
    assert_eq!(
        sts_endpoint(None, &env, Some("cn-shanghai"), false),
        "https://sts.cn-shanghai.aliyuncs.com"
    );
    assert_eq!(
        sts_endpoint(None, &env, Some("cn-shanghai"), true),
        "https://sts-vpc.cn-shanghai.aliyuncs.com"
    );
    let env = StaticEnv::new()
        .with_var("ALIBABA_CLOUD_STS_REGION", "ap-southeast-1")
        .with_var("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "true");
    assert_eq!(
        sts_endpoint(None, &env, None, false),
        "https://sts-vpc.ap-southeast-1.aliyuncs.com"
    );
    assert_eq!(
        sts_endpoint(None, &env, Some("cn-beijing"), false),
        "https://sts-vpc.cn-beijing.aliyuncs.com",
        "a profile's sts_region wins over the variable"
    );
    assert_eq!(
        sts_endpoint(Some("http://127.0.0.1:8080/".into()), &env, None, false),
        "http://127.0.0.1:8080"
    );
}
