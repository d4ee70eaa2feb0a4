//! Temporary credentials on the wire: STS AssumeRole, the instance role from the metadata
//! server, the SecurityToken parameter, refresh before expiry, RetCode 174 -> one refresh
//! and one retry, whoami, and no secret in Debug, Display or errors.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use imageshare_core::credentials::StaticEnv;
use imageshare_core::time::{format_iso8601, now_unix};
use imageshare_core::transport::RetryConfig;
use imageshare_core::{AssumeRole, ClientBuilder, Error, ImageId, ImageSharingExt, Secret};
use imageshare_ucloud::credential::instance_role::{InstanceRole, V1_PATH, V2_PATH};
use imageshare_ucloud::{signer, UCloudChain, UCloudCredentials, UCloudImageSharing, UHOST};

const PUBLIC: &str = "pub-long-term";
const PRIVATE: &str = "PRIVATE-long-term-never-shown";
const STS_ID: &str = "STS.3iXw5eCvtFQBwXmVVypLUa";
const STS_SECRET: &str = "STS-SECRET-never-shown";
const STS_TOKEN: &str = "STS-TOKEN-never-shown";
const ROLE: &str = "ucs:iam::65906048:role/test";

fn form(req: &Request) -> Vec<(String, String)> {
    signer::form_decode(std::str::from_utf8(&req.body).unwrap()).unwrap()
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn action_of(req: &Request) -> String {
    get(&form(req), "Action").unwrap_or_default().to_owned()
}

fn no_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 1,
        ..RetryConfig::default()
    }
}

/// Answers AssumeRole with credentials valid `ttl` seconds from now, numbered `-N`.
struct StsAnswer {
    ttl: u64,
    issued: Arc<AtomicU64>,
}

impl Respond for StsAnswer {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(json!({
            "Action": "AssumeRoleResponse",
            "RetCode": 0,
            "Credentials": {
                "AccessKeyId": format!("{STS_ID}-{n}"),
                "AccessKeySecret": STS_SECRET,
                "SecurityToken": format!("{STS_TOKEN}-{n}"),
                "Expiration": format_iso8601(now_unix() + self.ttl),
            }
        }))
    }
}

fn describe_ok() -> Value {
    json!({"Action": "DescribeImageResponse", "RetCode": 0, "TotalCount": 1, "ImageSet": [{
        "Zone": "cn-bj2-02", "ImageId": "uimage-a", "ImageName": "a", "ImageType": "Custom",
        "OsType": "Linux", "OsName": "CentOS", "State": "Available", "ImageSize": 20,
        "CreateTime": 1_700_000_000, "Features": [], "Tag": "Default", "DataSnapshotIds": []
    }]})
}

async fn mount_sts(server: &MockServer, ttl: u64) -> Arc<AtomicU64> {
    let issued = Arc::new(AtomicU64::new(0));
    Mock::given(method("POST"))
        .and(body_string_contains("Action=AssumeRole&"))
        .respond_with(StsAnswer {
            ttl,
            issued: issued.clone(),
        })
        .mount(server)
        .await;
    issued
}

async fn mount(server: &MockServer, action: &str, body: Value) {
    Mock::given(method("POST"))
        .and(body_string_contains(format!("Action={action}&")))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

fn role_builder(
    server: &MockServer,
    role: AssumeRole,
) -> imageshare_ucloud::UCloudImageSharingBuilder {
    UCloudImageSharing::builder()
        .env(StaticEnv::new())
        .base_url(server.uri())
        .credentials(UCloudCredentials::new(PUBLIC, PRIVATE))
        .region("cn-bj2")
        .project_id("org-a1")
        .retry(no_retry())
        .assume_role(role)
}

#[tokio::test]
async fn assume_role_wire_and_the_token_signed_into_every_call() {
    let server = MockServer::start().await;
    mount_sts(&server, 3600).await;
    mount(&server, "DescribeImage", describe_ok()).await;
    let role = AssumeRole::new(ROLE)
        .session_name("s-1")
        .duration(Duration::from_secs(1800))
        .policy(r#"{"Statement":[]}"#);
    let a = role_builder(&server, role).build().unwrap();
    a.image(&ImageId::from("uimage-a")).await.unwrap();

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    let sts = form(&reqs[0]);
    let names: Vec<&str> = sts.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "Action",
            "DurationSeconds",
            "Policy",
            "PublicKey",
            "Region",
            "RoleSessionName",
            "RoleUrn",
            "Signature"
        ],
        "sorted, no token, no project"
    );
    assert_eq!(get(&sts, "RoleUrn"), Some(ROLE));
    assert_eq!(get(&sts, "RoleSessionName"), Some("s-1"));
    assert_eq!(get(&sts, "DurationSeconds"), Some("1800"));
    assert_eq!(get(&sts, "Policy"), Some(r#"{"Statement":[]}"#));
    assert_eq!(get(&sts, "PublicKey"), Some(PUBLIC));
    signer::verify(&sts, &Secret::new(PRIVATE)).expect("signed with the long-term key");

    let call = form(&reqs[1]);
    assert_eq!(get(&call, "Action"), Some("DescribeImage"));
    assert_eq!(
        get(&call, "PublicKey"),
        Some(format!("{STS_ID}-1").as_str())
    );
    assert_eq!(
        get(&call, "SecurityToken"),
        Some(format!("{STS_TOKEN}-1").as_str())
    );
    signer::verify(&call, &Secret::new(STS_SECRET)).expect("token signed with the STS secret");
    let without_token: Vec<_> = call
        .iter()
        .filter(|(k, _)| k != "SecurityToken")
        .cloned()
        .collect();
    assert!(
        signer::verify(&without_token, &Secret::new(STS_SECRET)).is_err(),
        "the SecurityToken is part of the signature"
    );
}

#[tokio::test]
async fn assume_role_input_is_checked_at_build() {
    let server = MockServer::start().await;
    for (role, field) in [
        (AssumeRole::new("acs:ram::1:role/x"), "role"),
        (AssumeRole::new(ROLE).external_id("e"), "external_id"),
        (
            AssumeRole::new(ROLE).duration(Duration::from_secs(60)),
            "duration",
        ),
        (
            AssumeRole::new(ROLE).session_name("bad name"),
            "session_name",
        ),
    ] {
        let e = role_builder(&server, role).build().unwrap_err();
        assert!(
            matches!(&e, Error::InvalidInput { field: f, .. } if f == field),
            "{e:?}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn assume_role_goes_to_the_sts_endpoint_when_set_and_failures_name_the_role() {
    let api = MockServer::start().await;
    let sts = MockServer::start().await;
    mount(
        &sts,
        "AssumeRole",
        json!({"Action": "AssumeRoleResponse", "RetCode": 299, "Message": "no permission"}),
    )
    .await;
    let a = role_builder(&api, AssumeRole::new(ROLE))
        .sts_endpoint(sts.uri())
        .build()
        .unwrap();
    let e = a.image(&ImageId::from("uimage-a")).await.unwrap_err();
    assert!(matches!(e, Error::CredentialSource { .. }), "{e:?}");
    assert_eq!(e.code(), Some("299"));
    let text = format!("{e} {e:?}");
    assert!(text.contains(ROLE), "{text}");
    assert!(!text.contains(PRIVATE), "{text}");
    assert_eq!(sts.received_requests().await.unwrap().len(), 1);
    assert!(api.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn refresh_once_per_validity_period_for_32_concurrent_calls() {
    let server = MockServer::start().await;
    // TTL 3 s: refreshed when half of it (1 s) is left, i.e. 2 s after each fetch.
    let issued = mount_sts(&server, 3).await;
    mount(&server, "DescribeImage", describe_ok()).await;
    let a = Arc::new(
        role_builder(&server, AssumeRole::new(ROLE))
            .build()
            .unwrap(),
    );
    let burst = |a: Arc<UCloudImageSharing>| async move {
        let calls: Vec<_> = (0..32)
            .map(|_| {
                let a = a.clone();
                tokio::spawn(async move { a.image(&ImageId::from("uimage-a")).await })
            })
            .collect();
        for c in calls {
            c.await.unwrap().unwrap();
        }
    };
    burst(a.clone()).await;
    assert_eq!(
        issued.load(Ordering::SeqCst),
        1,
        "one AssumeRole for 32 calls"
    );
    tokio::time::sleep(Duration::from_millis(2600)).await;
    burst(a.clone()).await;
    assert_eq!(
        issued.load(Ordering::SeqCst),
        2,
        "one more AssumeRole after the refresh point"
    );
    let reqs = server.received_requests().await.unwrap();
    let tokens: std::collections::BTreeSet<String> = reqs
        .iter()
        .filter(|r| action_of(r) == "DescribeImage")
        .map(|r| get(&form(r), "SecurityToken").unwrap().to_owned())
        .collect();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert_eq!(a.client().credentials().fetch_count(), 2);
}

#[tokio::test]
async fn retcode_174_with_a_token_refreshes_once_and_retries_once() {
    let server = MockServer::start().await;
    let issued = mount_sts(&server, 3600).await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=DescribeImage&"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"RetCode": 174, "Message": "Token Not Exists"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount(&server, "DescribeImage", describe_ok()).await;
    let a = role_builder(&server, AssumeRole::new(ROLE))
        .build()
        .unwrap();
    a.image(&ImageId::from("uimage-a")).await.unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    let reqs = server.received_requests().await.unwrap();
    let actions: Vec<String> = reqs.iter().map(action_of).collect();
    assert_eq!(
        actions,
        ["AssumeRole", "DescribeImage", "AssumeRole", "DescribeImage"]
    );
    assert_eq!(
        get(&form(&reqs[3]), "SecurityToken"),
        Some(format!("{STS_TOKEN}-2").as_str())
    );

    // Twice in a row: one refresh, one retry, then the error.
    let server = MockServer::start().await;
    let issued = mount_sts(&server, 3600).await;
    mount(
        &server,
        "DescribeImage",
        json!({"RetCode": 174, "Message": "Token Not Exists"}),
    )
    .await;
    let a = role_builder(&server, AssumeRole::new(ROLE))
        .build()
        .unwrap();
    let e = a.image(&ImageId::from("uimage-a")).await.unwrap_err();
    assert!(matches!(e, Error::CredentialsExpired { .. }), "{e:?}");
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

#[tokio::test]
async fn retcode_174_with_long_term_keys_is_an_auth_error_not_retried() {
    let server = MockServer::start().await;
    mount(
        &server,
        "DescribeImage",
        json!({"RetCode": 174, "Message": "Token Not Exists"}),
    )
    .await;
    let a = UCloudImageSharing::builder()
        .env(StaticEnv::new())
        .base_url(server.uri())
        .credentials(UCloudCredentials::new(PUBLIC, PRIVATE))
        .region("cn-bj2")
        .retry(no_retry())
        .build()
        .unwrap();
    let e = a.image(&ImageId::from("uimage-a")).await.unwrap_err();
    assert!(
        matches!(e, Error::Auth { ref code, .. } if code == "174"),
        "{e:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

fn v2_answer(ttl: u64) -> Value {
    json!({"RetCode": 0, "Message": "", "Data": {
        "AccessKeyId": STS_ID, "AccessKeySecret": STS_SECRET, "SecurityToken": STS_TOKEN,
        "Expiration": format_iso8601(now_unix() + ttl),
        "CharacterName": "ucs:iam::60036:role/ucs-service-role/ServiceRoleForUK8S",
        "ProjectID": "org-hlrtnn", "HostID": "uhost-abc123", "UHostID": "uhost-abc123"
    }})
}

fn role_host(
    metadata: &MockServer,
    api: &MockServer,
    role: InstanceRole,
) -> imageshare_ucloud::UCloudImageSharingBuilder {
    UCloudImageSharing::builder()
        .env(StaticEnv::new())
        .base_url(api.uri())
        .metadata_endpoint(metadata.uri())
        .region("cn-bj2")
        .retry(no_retry())
        .instance_role(role)
}

#[tokio::test]
async fn instance_role_v2_wire_headers_and_signing() {
    let metadata = MockServer::start().await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{V2_PATH}/ServiceRoleForUK8S")))
        .and(header("Duration-Seconds", "900"))
        .and(header("Session-Name", "s1"))
        .and(header("Role-Policy", "e30="))
        .respond_with(ResponseTemplate::new(200).set_body_json(v2_answer(3600)))
        .mount(&metadata)
        .await;
    mount(&api, "DescribeImage", describe_ok()).await;
    let role = InstanceRole::new()
        .role("ServiceRoleForUK8S")
        .duration(Duration::from_secs(900))
        .session_name("s1")
        .policy("e30=");
    let a = role_host(&metadata, &api, role).build().unwrap();
    let source = a.client().credentials().source().to_owned();
    assert!(
        source.contains("instance role \"ServiceRoleForUK8S\""),
        "{source}"
    );
    assert!(source.contains(&metadata.uri()), "{source}");
    a.image(&ImageId::from("uimage-a")).await.unwrap();
    assert_eq!(metadata.received_requests().await.unwrap().len(), 1);
    let call = form(&api.received_requests().await.unwrap()[0]);
    assert_eq!(get(&call, "PublicKey"), Some(STS_ID));
    assert_eq!(get(&call, "SecurityToken"), Some(STS_TOKEN));
    signer::verify(&call, &Secret::new(STS_SECRET)).unwrap();
    let who = a.whoami().await;
    // GetUserInfo is not mounted on `api`: wiremock answers 404, an error.
    assert!(who.is_err());
}

#[tokio::test]
async fn instance_role_v1_wire_and_parse() {
    let metadata = MockServer::start().await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(V1_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "RetCode": 0, "Message": "", "Data": {
                "Expiration": now_unix() + 3600, "PrivateKey": STS_SECRET,
                "PublicKey": STS_ID, "SecurityToken": STS_TOKEN, "ProjectID": "org-x",
                "CharacterName": "UHostInstance", "UHostID": "uhost-1"
            }
        })))
        .mount(&metadata)
        .await;
    mount(&api, "DescribeImage", describe_ok()).await;
    let a = role_host(
        &metadata,
        &api,
        InstanceRole::new().v1().session_name("ignored"),
    )
    .build()
    .unwrap();
    a.image(&ImageId::from("uimage-a")).await.unwrap();
    let get_req = &metadata.received_requests().await.unwrap()[0];
    assert!(
        get_req.headers.get("session-name").is_none(),
        "v1 sends no session headers"
    );
    let call = form(&api.received_requests().await.unwrap()[0]);
    assert_eq!(get(&call, "SecurityToken"), Some(STS_TOKEN));
    signer::verify(&call, &Secret::new(STS_SECRET)).unwrap();
}

#[tokio::test]
async fn instance_role_refusals_and_bad_answers_never_show_a_secret() {
    let metadata = MockServer::start().await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{V2_PATH}/InvalidRole")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"RetCode": 161, "Message": "Role not found"})),
        )
        .mount(&metadata)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{V2_PATH}/Garbled")))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!(
            r#"{{"RetCode":0,"Data":{{"AccessKeySecret":"{STS_SECRET}","#
        )))
        .mount(&metadata)
        .await;
    let a = role_host(&metadata, &api, InstanceRole::new().role("InvalidRole"))
        .build()
        .unwrap();
    let e = a.image(&ImageId::from("uimage-a")).await.unwrap_err();
    assert!(matches!(e, Error::CredentialSource { .. }), "{e:?}");
    assert_eq!(e.code(), Some("161"));
    assert!(e.to_string().contains("Role not found"), "{e}");
    let a = role_host(&metadata, &api, InstanceRole::new().role("Garbled"))
        .build()
        .unwrap();
    let e = a.image(&ImageId::from("uimage-a")).await.unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(!text.contains(STS_SECRET), "{text}");
    assert!(api.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn unreachable_metadata_server_lists_every_source_tried() {
    let api = MockServer::start().await;
    let a = UCloudImageSharing::builder()
        .env(StaticEnv::new().with_home("/home/u"))
        .base_url(api.uri())
        .metadata_endpoint("http://127.0.0.1:1")
        .region("cn-bj2")
        .retry(no_retry())
        .instance_role(InstanceRole::new())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let e = a.image(&ImageId::from("uimage-a")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    let msg = e.to_string();
    for needle in [
        "http://127.0.0.1:1",
        "did not answer",
        "explicit credentials",
        "UCLOUD_PUBLIC_KEY",
        "/home/u/.ucloud/credential.json",
    ] {
        assert!(msg.contains(needle), "{needle} missing from {msg}");
    }
}

#[test]
fn chain_order_with_the_instance_role() {
    // Asked for, it is the last source: environment keys still win.
    let env = StaticEnv::new()
        .with_home("/home/u")
        .with_var("UCLOUD_PUBLIC_KEY", "pub-env")
        .with_var("UCLOUD_PRIVATE_KEY", "priv-env");
    let found = UCloudChain::new()
        .instance_role(InstanceRole::new())
        .resolve(&env)
        .unwrap();
    assert_eq!(found.fixed_credentials().unwrap().public_key, "pub-env");
    assert_eq!(found.config.base_url, None);

    // Nothing else: the instance role, fetched later, and the in-VPC endpoint.
    let found = UCloudChain::new()
        .instance_role(InstanceRole::new().role("R"))
        .metadata_endpoint("http://169.0.0.9")
        .resolve(&StaticEnv::new().with_home("/home/u"))
        .unwrap();
    assert!(found.fixed_credentials().is_none());
    assert!(found
        .credential_source
        .to_string()
        .contains("http://169.0.0.9"));
    assert_eq!(
        found.config.base_url.as_deref(),
        Some("http://api.service.ucloud.cn")
    );
    // ... unless a base URL is configured.
    let found = UCloudChain::new()
        .instance_role(InstanceRole::new())
        .base_url("https://api.ucloud.cn")
        .resolve(&StaticEnv::new())
        .unwrap();
    assert_eq!(
        found.config.base_url.as_deref(),
        Some("https://api.ucloud.cn")
    );

    // A role name that is not one path segment is refused at once.
    let e = UCloudChain::new()
        .instance_role(InstanceRole::new().role("a/../b"))
        .resolve(&StaticEnv::new())
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
}

#[tokio::test]
async fn whoami_reports_the_user_or_says_it_is_unconfirmed() {
    let server = MockServer::start().await;
    mount_sts(&server, 3600).await;
    mount(
        &server,
        "GetUserInfo",
        json!({"Action": "GetUserInfoResponse", "RetCode": 0, "DataSet": [
            {"UserId": 65_906_048, "UserEmail": "someone@example.com", "CompanyName": "c"}
        ]}),
    )
    .await;
    let a = role_builder(&server, AssumeRole::new(ROLE))
        .build()
        .unwrap();
    let who = a.whoami().await.unwrap();
    assert_eq!(who.provider, UHOST);
    assert_eq!(who.account, "65906048");
    assert_eq!(who.arn, None);
    assert!(who.source.contains(ROLE), "{}", who.source);
    assert!(
        who.source.contains("explicit credentials"),
        "{}",
        who.source
    );
    assert!(who.expires.is_some());
    let reqs = server.received_requests().await.unwrap();
    let last = form(reqs.last().unwrap());
    assert_eq!(get(&last, "Action"), Some("GetUserInfo"));
    assert!(get(&last, "SecurityToken").is_some());

    let server = MockServer::start().await;
    mount(
        &server,
        "GetUserInfo",
        json!({"RetCode": 299, "Message": "permission denied"}),
    )
    .await;
    let a = UCloudImageSharing::builder()
        .env(StaticEnv::new())
        .base_url(server.uri())
        .credentials(UCloudCredentials::new(PUBLIC, PRIVATE))
        .region("cn-bj2")
        .project_id("org-a1")
        .retry(no_retry())
        .build()
        .unwrap();
    let who = a.whoami().await.unwrap();
    assert_eq!(who.account, "org-a1");
    assert!(
        who.source.contains("not confirmed by the cloud"),
        "{}",
        who.source
    );
    assert_eq!(who.expires, None);
}

#[tokio::test]
async fn no_secret_in_debug_or_display() {
    let server = MockServer::start().await;
    mount_sts(&server, 3600).await;
    mount(&server, "DescribeImage", describe_ok()).await;
    let a = role_builder(&server, AssumeRole::new(ROLE))
        .build()
        .unwrap();
    a.image(&ImageId::from("uimage-a")).await.unwrap();
    let text = format!(
        "{a:?} {:?} {}",
        a.client().credentials(),
        a.client().credentials().source()
    );
    for secret in [PRIVATE, STS_SECRET, STS_TOKEN] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains(STS_ID), "the key id may show: {text}");
}
