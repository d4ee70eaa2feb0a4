//! The fetching credential sources on the wire (wiremock): STS `AssumeRole` (TC3-signed
//! with the base keys), `AssumeRoleWithWebIdentity` (unsigned, `Authorization: SKIP`),
//! `GetCallerIdentity` (whoami), the CVM metadata GETs; their parsing; refresh across
//! expiry with 32 concurrent calls; one refresh and one retry on `AuthFailure.TokenFailure`;
//! and that no secret reaches Debug, Display or an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use imageshare_core::credentials::{Env, StaticEnv};
use imageshare_core::transport::RetryConfig;
use imageshare_core::{
    AssumeRole, ClientBuilder, Clock, Error, ImageSharingExt, Principal, RateLimits, Secret,
    Timestamp,
};
use imageshare_tencent::credential::{chain_with, Services};
use imageshare_tencent::{
    ReceivedRequest, Tc3Verifier, TencentCredentials, TencentCvmImageSharing,
    TencentLighthouseImageSharing, CVM,
};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const BASE_ID: &str = "AKIDbase000000000000000000000000";
const BASE_KEY: &str = "base-secret-key-NEVER-SHOWN";
const TMP_KEY: &str = "tmp-secret-key-NEVER-SHOWN";
const TMP_TOKEN: &str = "tmp-session-token-NEVER-SHOWN";
const OIDC_TOKEN: &str = "oidc-jwt-NEVER-SHOWN";
const ROLE: &str = "qcs::cam::uin/100000000001:roleName/imageshare";
const TS: u64 = 1_551_113_065;
const REGION: &str = "ap-guangzhou";

fn assert_no_secret(text: &str) {
    for s in [BASE_KEY, TMP_KEY, TMP_TOKEN, OIDC_TOKEN] {
        assert!(!text.contains(s), "secret {s:?} leaked into: {text}");
    }
}

fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(10),
        multiplier: 2.0,
        max_elapsed: None,
    }
}

fn h(req: &Request, name: &str) -> String {
    req.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

fn body_json(req: &Request) -> serde_json::Value {
    serde_json::from_slice(&req.body).unwrap()
}

async fn of_action(server: &MockServer, action: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.headers.get("x-tc-action").and_then(|v| v.to_str().ok()) == Some(action))
        .collect()
}

/// Issues `AKIDtmpN` / `tmp-session-token-NEVER-SHOWN-N`, valid `ttl` seconds from `now()`.
struct IssueRole {
    issued: Arc<AtomicU64>,
    ttl: u64,
    now: fn() -> u64,
}

impl Respond for IssueRole {
    fn respond(&self, _req: &Request) -> ResponseTemplate {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let exp = (self.now)() + self.ttl;
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"Response": {
            "Credentials": {
                "Token": format!("{TMP_TOKEN}-{n}"),
                "TmpSecretId": format!("AKIDtmp{n}"),
                "TmpSecretKey": TMP_KEY,
            },
            "ExpiredTime": exp,
            "Expiration": Timestamp::from_unix(exp).to_string(),
            "RequestId": format!("sts-{n}"),
        }}))
    }
}

fn fixed_now() -> u64 {
    TS
}

fn system_now() -> u64 {
    imageshare_core::time::now_unix()
}

/// STS on `server` issuing role credentials valid `ttl` s; returns the issue counter.
async fn sts_issues(
    server: &MockServer,
    action: &str,
    ttl: u64,
    now: fn() -> u64,
) -> Arc<AtomicU64> {
    let issued = Arc::new(AtomicU64::new(0));
    Mock::given(method("POST"))
        .and(header("x-tc-action", action))
        .respond_with(IssueRole {
            issued: issued.clone(),
            ttl,
            now,
        })
        .mount(server)
        .await;
    issued
}

async fn answer(server: &MockServer, action: &str, body: serde_json::Value) {
    Mock::given(method("POST"))
        .and(header("x-tc-action", action))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({ "Response": body })),
        )
        .mount(server)
        .await;
}

fn verify(req: &Request, service: &str, secret: &str) -> String {
    let received = ReceivedRequest::new("POST", "/", "", &req.body).headers(
        req.headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned())),
    );
    Tc3Verifier::new()
        .expected_service(service)
        .now(TS)
        .verify(&received, &Secret::new(secret))
        .unwrap_or_else(|e| panic!("signature does not verify: {e}"))
        .secret_id
}

fn assumed_cvm(server: &MockServer, role: AssumeRole, clock: Clock) -> TencentCvmImageSharing {
    TencentCvmImageSharing::builder()
        .env(StaticEnv::new())
        .endpoint(server.uri())
        .sts_endpoint(server.uri())
        .credentials(TencentCredentials::new(BASE_ID, BASE_KEY))
        .assume_role(role)
        .region(REGION)
        .clock(clock)
        .retry(fast_retry())
        // The published CVM quotas would pace the bursts; these tests count STS calls.
        .rate_limits(RateLimits::none())
        .build()
        .unwrap()
}

// ---- STS AssumeRole and GetCallerIdentity -------------------------------------------------

#[tokio::test]
async fn assume_role_is_signed_with_the_base_keys_and_whoami_with_the_role() {
    let server = MockServer::start().await;
    sts_issues(&server, "AssumeRole", 7200, fixed_now).await;
    answer(
        &server,
        "GetCallerIdentity",
        serde_json::json!({
            "Arn": "qcs::cam::uin/100000000001:roleName/imageshare",
            "AccountId": "100000000001",
            "UserId": "4611686018427397919:s1",
            "PrincipalId": "100000000009",
            "Type": "CAMRole",
            "RequestId": "who-1",
        }),
    )
    .await;
    let role = AssumeRole::new(ROLE)
        .session_name("s1")
        .external_id("ext-1")
        .duration(Duration::from_secs(900))
        .policy(r#"{"version":"2.0","statement":[{"effect":"allow","action":["cvm:*"],"resource":"*"}]}"#);
    let cvm = assumed_cvm(&server, role, Clock::fixed(TS));
    let me = cvm.whoami().await.unwrap();
    assert_eq!(me.provider, CVM);
    assert_eq!(me.account, "100000000001");
    assert_eq!(me.arn.as_deref(), Some(ROLE));
    assert_eq!(
        me.source,
        format!("role {ROLE} assumed with explicit credentials")
    );
    assert_eq!(me.expires, Some(Timestamp::from_unix(TS + 7200)));

    let assume = of_action(&server, "AssumeRole").await;
    assert_eq!(assume.len(), 1);
    let req = &assume[0];
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), "/");
    assert_eq!(h(req, "content-type"), "application/json");
    assert_eq!(h(req, "x-tc-version"), "2018-08-13");
    assert_eq!(h(req, "x-tc-region"), "ap-guangzhou");
    assert_eq!(h(req, "x-tc-timestamp"), TS.to_string());
    assert!(
        req.headers.get("x-tc-token").is_none(),
        "long-term base keys: no token"
    );
    assert!(h(req, "authorization").starts_with(&format!(
        "TC3-HMAC-SHA256 Credential={BASE_ID}/2019-02-25/sts/tc3_request, "
    )));
    assert_eq!(verify(req, "sts", BASE_KEY), BASE_ID);
    assert_eq!(
        body_json(req),
        serde_json::json!({
            "RoleArn": ROLE,
            "RoleSessionName": "s1",
            "DurationSeconds": 900,
            // URL-encoded, as STS asks (models.go AssumeRoleRequestParams.Policy).
            "Policy": "%7B%22version%22%3A%222.0%22%2C%22statement%22%3A%5B%7B%22effect%22%3A%22allow%22%2C%22action%22%3A%5B%22cvm%3A%2A%22%5D%2C%22resource%22%3A%22%2A%22%7D%5D%7D",
            "ExternalId": "ext-1",
        })
    );

    let who = of_action(&server, "GetCallerIdentity").await;
    assert_eq!(who.len(), 1);
    let req = &who[0];
    assert_eq!(h(req, "x-tc-version"), "2018-08-13");
    assert_eq!(h(req, "x-tc-token"), format!("{TMP_TOKEN}-1"));
    assert_eq!(std::str::from_utf8(&req.body).unwrap(), "{}");
    assert_eq!(verify(req, "sts", TMP_KEY), "AKIDtmp1");

    assert_no_secret(&format!("{cvm:?} {me:?}"));
}

#[tokio::test]
async fn default_session_name_and_no_duration() {
    let server = MockServer::start().await;
    sts_issues(&server, "AssumeRole", 7200, fixed_now).await;
    answer(
        &server,
        "DescribeImageSharePermission",
        serde_json::json!({"SharePermissionSet": [], "RequestId": "r"}),
    )
    .await;
    let cvm = assumed_cvm(&server, AssumeRole::new(ROLE), Clock::fixed(TS));
    cvm.sharees(&"img-6pb6lrmy".into()).await.unwrap();
    let req = &of_action(&server, "AssumeRole").await[0];
    assert_eq!(
        body_json(req),
        serde_json::json!({"RoleArn": ROLE, "RoleSessionName": format!("imageshare-{TS}")})
    );
    // The CVM call is signed with the role's credentials and carries its token.
    let call = &of_action(&server, "DescribeImageSharePermission").await[0];
    assert_eq!(h(call, "x-tc-token"), format!("{TMP_TOKEN}-1"));
    assert_eq!(verify(call, "cvm", TMP_KEY), "AKIDtmp1");
}

#[tokio::test]
async fn whoami_on_lighthouse_with_long_term_keys_has_no_expiry() {
    let server = MockServer::start().await;
    answer(
        &server,
        "GetCallerIdentity",
        serde_json::json!({"Arn": "qcs::cam::uin/100000000001:uin/100000000001", "AccountId": "100000000001", "UserId": "100000000001", "PrincipalId": "100000000001", "Type": "RootAccount", "RequestId": "w"}),
    )
    .await;
    let lh = TencentLighthouseImageSharing::builder()
        .env(StaticEnv::new())
        .endpoint(server.uri())
        .sts_endpoint(server.uri())
        .credentials(TencentCredentials::new(BASE_ID, BASE_KEY))
        .region(REGION)
        .clock(Clock::fixed(TS))
        .build()
        .unwrap();
    let me = lh.whoami().await.unwrap();
    assert_eq!(me.provider, imageshare_tencent::LIGHTHOUSE);
    assert_eq!((me.account.as_str(), me.expires), ("100000000001", None));
    assert_eq!(me.source, "explicit credentials");
    let req = &of_action(&server, "GetCallerIdentity").await[0];
    assert_eq!(verify(req, "sts", BASE_KEY), BASE_ID);
}

#[tokio::test]
async fn a_refused_assume_is_a_credential_source_error_with_the_code_verbatim() {
    let server = MockServer::start().await;
    answer(
        &server,
        "AssumeRole",
        serde_json::json!({"Error": {"Code": "InvalidParameter.AccountNotAllowed", "Message": "role not trusted"}, "RequestId": "deny-1"}),
    )
    .await;
    let cvm = assumed_cvm(&server, AssumeRole::new(ROLE), Clock::fixed(TS));
    let err = cvm.sharees(&"img-6pb6lrmy".into()).await.unwrap_err();
    let Error::CredentialSource {
        source_name,
        code,
        message,
        cause,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(code.as_deref(), Some("InvalidParameter.AccountNotAllowed"));
    assert_eq!(
        source_name,
        &format!("role {ROLE} assumed with explicit credentials")
    );
    assert!(message.contains("trust policy"), "{message}");
    assert_eq!(cause.as_ref().and_then(|c| c.request_id()), Some("deny-1"));
    assert!(of_action(&server, "DescribeImageSharePermission")
        .await
        .is_empty());
    assert_no_secret(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn an_unreachable_sts_names_the_source() {
    let cvm = TencentCvmImageSharing::builder()
        .env(StaticEnv::new())
        .endpoint("http://127.0.0.1:1")
        .sts_endpoint("http://127.0.0.1:1")
        .credentials(TencentCredentials::new(BASE_ID, BASE_KEY))
        .assume_role(AssumeRole::new(ROLE))
        .region(REGION)
        .retry(fast_retry())
        .build()
        .unwrap();
    let err = cvm.sharees(&"img-6pb6lrmy".into()).await.unwrap_err();
    assert!(matches!(err, Error::CredentialSource { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("STS AssumeRole could not be reached"), "{msg}");
    assert!(msg.contains(ROLE), "{msg}");
    // The transport failure is the cause, and the whole chain says it once (#18 item 5).
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
    let line = imageshare_core::error::report(&err);
    assert_eq!(
        line.matches("cannot connect (127.0.0.1:1)").count(),
        1,
        "{line}"
    );
}

#[tokio::test]
async fn assuming_a_role_with_nothing_found_is_the_chains_nothing_found() {
    let cvm = TencentCvmImageSharing::builder()
        .env(StaticEnv::new())
        .metadata_endpoint("http://127.0.0.1:1")
        .sts_endpoint("http://127.0.0.1:1")
        .assume_role(AssumeRole::new(ROLE))
        .region(REGION)
        .build()
        .unwrap();
    let err = cvm.whoami().await.unwrap_err();
    let Error::CredentialsNotFound { tried, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(tried.len(), 7);
}

#[test]
fn durations_outside_what_sts_accepts_are_refused_at_build() {
    for secs in [0, 43_201] {
        let err = TencentCvmImageSharing::builder()
            .env(StaticEnv::new())
            .credentials(TencentCredentials::new(BASE_ID, BASE_KEY))
            .assume_role(AssumeRole::new(ROLE).duration(Duration::from_secs(secs)))
            .region(REGION)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }
}

// ---- refresh ------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_calls_across_an_expiry_assume_the_role_once_per_period() {
    let server = MockServer::start().await;
    // A TTL of 3 s: the cache refreshes min(180 s, 3 s / 2) = 1 s before expiry, so the
    // credentials count as fresh for 2 s.
    let issued = sts_issues(&server, "AssumeRole", 3, system_now).await;
    Mock::given(header("x-tc-action", "DescribeImageSharePermission"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(20))
                .set_body_json(
                    serde_json::json!({"Response": {"SharePermissionSet": [], "RequestId": "r"}}),
                ),
        )
        .mount(&server)
        .await;
    let cvm = Arc::new(assumed_cvm(&server, AssumeRole::new(ROLE), Clock::system()));
    let burst = |cvm: Arc<TencentCvmImageSharing>| async move {
        let calls: Vec<_> = (0..32)
            .map(|_| {
                let cvm = cvm.clone();
                tokio::spawn(async move { cvm.sharees(&"img-6pb6lrmy".into()).await })
            })
            .collect();
        for c in calls {
            c.await.unwrap().unwrap();
        }
    };
    burst(cvm.clone()).await;
    assert_eq!(
        issued.load(Ordering::SeqCst),
        1,
        "one AssumeRole for 32 calls"
    );
    // Past the refresh point (2 s after issue, second-granular clock: wait 3 s).
    tokio::time::sleep(Duration::from_millis(3100)).await;
    burst(cvm.clone()).await;
    assert_eq!(
        issued.load(Ordering::SeqCst),
        2,
        "one more AssumeRole after the expiry"
    );
    assert_eq!(of_action(&server, "AssumeRole").await.len(), 2);
    // Every CVM call carried the token of a role session that was valid then.
    let calls = of_action(&server, "DescribeImageSharePermission").await;
    assert_eq!(calls.len(), 64);
    let tokens: Vec<String> = calls.iter().map(|r| h(r, "x-tc-token")).collect();
    assert!(tokens[..32].iter().all(|t| *t == format!("{TMP_TOKEN}-1")));
    assert!(tokens[32..].iter().all(|t| *t == format!("{TMP_TOKEN}-2")));
    assert_eq!(cvm.client().credentials().fetch_count(), 2);
}

#[tokio::test]
async fn token_failure_refreshes_once_and_retries_once() {
    let server = MockServer::start().await;
    let issued = sts_issues(&server, "AssumeRole", 7200, fixed_now).await;
    Mock::given(header("x-tc-action", "DescribeImageSharePermission"))
        .and(header("x-tc-token", format!("{TMP_TOKEN}-1").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"Response": {
            "Error": {"Code": "AuthFailure.TokenFailure", "Message": "token expired"},
            "RequestId": "expired-1"}})),
        )
        .mount(&server)
        .await;
    Mock::given(header("x-tc-action", "DescribeImageSharePermission"))
        .and(header("x-tc-token", format!("{TMP_TOKEN}-2").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"Response": {
            "SharePermissionSet": [{"AccountId": "100000000002", "CreatedTime": "2018-06-10T11:02:50Z"}],
            "RequestId": "ok-2"}})))
        .mount(&server)
        .await;
    let cvm = assumed_cvm(&server, AssumeRole::new(ROLE), Clock::fixed(TS));
    let sharees = cvm.sharees(&"img-6pb6lrmy".into()).await.unwrap();
    assert_eq!(sharees[0].principal, Principal::account("100000000002"));
    assert_eq!(issued.load(Ordering::SeqCst), 2, "exactly one refresh");
    assert_eq!(
        of_action(&server, "DescribeImageSharePermission")
            .await
            .len(),
        2,
        "exactly one retry"
    );

    // With a token that stays refused, the second refusal is the answer (no loop).
    let server = MockServer::start().await;
    let issued = sts_issues(&server, "AssumeRole", 7200, fixed_now).await;
    answer(&server, "DescribeImageSharePermission", serde_json::json!({
        "Error": {"Code": "AuthFailure.TokenFailure", "Message": "token expired"}, "RequestId": "x"})).await;
    let cvm = assumed_cvm(&server, AssumeRole::new(ROLE), Clock::fixed(TS));
    let err = cvm.sharees(&"img-6pb6lrmy".into()).await.unwrap_err();
    assert!(matches!(err, Error::CredentialsExpired { .. }), "{err:?}");
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    assert_eq!(
        of_action(&server, "DescribeImageSharePermission")
            .await
            .len(),
        2
    );
}

// ---- TKE OIDC -----------------------------------------------------------------------------

/// Variables from a map; files from the real file system (the token file is rewritten
/// between exchanges); no home directory.
#[derive(Debug, Clone, Default)]
struct DiskEnv {
    vars: HashMap<String, String>,
}

impl DiskEnv {
    fn with_var(mut self, k: &str, v: &str) -> Self {
        self.vars.insert(k.to_owned(), v.to_owned());
        self
    }
}

impl Env for DiskEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
    fn home_dir(&self) -> Option<PathBuf> {
        None
    }
    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("imageshare-tc-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, contents).unwrap();
    file
}

fn tke_env(token_file: &Path) -> DiskEnv {
    DiskEnv::default()
        .with_var("TKE_REGION", "ap-shanghai")
        .with_var("TKE_PROVIDER_ID", "tke-oidc-provider")
        .with_var("TKE_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap())
        .with_var("TKE_ROLE_ARN", ROLE)
}

#[tokio::test]
async fn oidc_exchanges_the_token_file_unsigned_and_reads_it_again_on_refresh() {
    let server = MockServer::start().await;
    let issued = sts_issues(&server, "AssumeRoleWithWebIdentity", 7200, fixed_now).await;
    let file = temp_file("oidc", &format!("{OIDC_TOKEN}-a\n"));
    let env = tke_env(&file);
    let services = Services::new(CVM)
        .with_sts_endpoint(server.uri())
        .with_clock(Clock::fixed(TS))
        .with_env(Arc::new(env.clone()));
    let found = chain_with(&services, None, None).resolve(&env).unwrap();
    assert_eq!(
        found.source,
        format!(
            "TKE OIDC role {ROLE} (token file {}, TKE_ROLE_ARN)",
            file.display()
        )
    );
    let got = found.credentials.provide().await.unwrap();
    assert_eq!(got.credentials.secret_id, "AKIDtmp1");
    assert_eq!(
        got.credentials.token.as_ref().unwrap().expose(),
        format!("{TMP_TOKEN}-1")
    );
    assert_eq!(got.expires, Some(Timestamp::from_unix(TS + 7200)));
    std::fs::write(&file, format!("{OIDC_TOKEN}-b")).unwrap();
    found.credentials.provide().await.unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2);

    let reqs = of_action(&server, "AssumeRoleWithWebIdentity").await;
    for (req, token) in reqs.iter().zip(["a", "b"]) {
        assert_eq!(h(req, "authorization"), "SKIP");
        assert_eq!(h(req, "x-tc-version"), "2018-08-13");
        assert_eq!(h(req, "x-tc-region"), "ap-shanghai");
        assert_eq!(h(req, "x-tc-timestamp"), TS.to_string());
        assert_eq!(h(req, "content-type"), "application/json");
        assert!(req.headers.get("x-tc-token").is_none());
        assert_eq!(
            body_json(req),
            serde_json::json!({
                "ProviderId": "tke-oidc-provider",
                "WebIdentityToken": format!("{OIDC_TOKEN}-{token}"),
                "RoleArn": ROLE,
                "RoleSessionName": format!("imageshare-{TS}"),
                "DurationSeconds": 7200,
            })
        );
    }
    assert_no_secret(&format!("{:?} {:?}", found.credentials, got));
}

#[tokio::test]
async fn oidc_token_file_missing_or_expired_is_a_credential_source_error() {
    // Missing at build: the chain stops with an error naming the file.
    let env = tke_env(Path::new("/nonexistent/imageshare/token"));
    let services = Services::new(CVM).with_env(Arc::new(env.clone()));
    let err = chain_with(&services, None, None).resolve(&env).unwrap_err();
    let Error::CredentialSource { message, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("/nonexistent/imageshare/token"),
        "{message}"
    );
    assert!(message.contains("projected token volume"), "{message}");

    // Expired (a JWT whose exp is past) when refreshing: the same kind of error.
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let jwt = |exp: u64| {
        format!(
            "{}.{}.sig",
            b64("{\"alg\":\"RS256\"}"),
            b64(&format!("{{\"exp\":{exp}}}"))
        )
    };
    let file = temp_file("expired", &jwt(TS + 60));
    let env = tke_env(&file);
    let services = Services::new(CVM)
        .with_sts_endpoint("http://127.0.0.1:1")
        .with_clock(Clock::fixed(TS))
        .with_env(Arc::new(env.clone()));
    let found = chain_with(&services, None, None).resolve(&env).unwrap();
    std::fs::write(&file, jwt(TS - 1)).unwrap();
    let err = found.credentials.provide().await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::CredentialSource { .. }), "{err:?}");
    assert!(msg.contains("expired at 2019-02-25T16:44:24Z"), "{msg}");
    assert!(msg.contains(&file.display().to_string()), "{msg}");
}

#[test]
fn oidc_with_some_variables_unset_is_refused() {
    let env = StaticEnv::new()
        .with_var("TKE_REGION", "ap-shanghai")
        .with_var("TKE_ROLE_ARN", ROLE);
    let err = chain_with(&Services::new(CVM), None, None)
        .resolve(&env)
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert!(
        msg.contains("TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE unset"),
        "{msg}"
    );
}

#[tokio::test]
async fn oidc_refused_by_sts_keeps_the_code() {
    let server = MockServer::start().await;
    answer(&server, "AssumeRoleWithWebIdentity", serde_json::json!({
        "Error": {"Code": "InvalidParameter.WebIdentityTokenError", "Message": "bad token"}, "RequestId": "o"})).await;
    let file = temp_file("refused", OIDC_TOKEN);
    let env = tke_env(&file);
    let services = Services::new(CVM)
        .with_sts_endpoint(server.uri())
        .with_retry(fast_retry())
        .with_env(Arc::new(env.clone()));
    let found = chain_with(&services, None, None).resolve(&env).unwrap();
    let err = found.credentials.provide().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameter.WebIdentityTokenError"));
    assert!(err.to_string().contains("TKE_PROVIDER_ID"), "{err}");
    assert_no_secret(&format!("{err} {err:?}"));
}

// ---- CVM instance role --------------------------------------------------------------------

const ROLE_PATH: &str = "/latest/meta-data/cam/security-credentials/";

async fn metadata(role_body: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ROLE_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("imageshare-cvm-role"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROLE_PATH}imageshare-cvm-role")))
        .respond_with(ResponseTemplate::new(200).set_body_json(role_body))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn cvm_role_reads_the_role_name_then_its_credentials() {
    let server = metadata(serde_json::json!({
        "TmpSecretId": "AKIDcvmrole",
        "TmpSecretKey": TMP_KEY,
        "ExpiredTime": TS + 21600,
        "Expiration": Timestamp::from_unix(TS + 21600).to_string(),
        "Token": TMP_TOKEN,
        "Code": "Success",
    }))
    .await;
    let services = Services::new(CVM).with_metadata_endpoint(server.uri());
    let found = chain_with(&services, None, None)
        .resolve(&StaticEnv::new())
        .unwrap();
    let got = found.credentials.provide().await.unwrap();
    assert_eq!(got.credentials.secret_id, "AKIDcvmrole");
    assert_eq!(got.credentials.secret_key.expose(), TMP_KEY);
    assert_eq!(got.credentials.token.as_ref().unwrap().expose(), TMP_TOKEN);
    assert_eq!(got.expires, Some(Timestamp::from_unix(TS + 21600)));
    let reqs = server.received_requests().await.unwrap();
    let paths: Vec<&str> = reqs.iter().map(|r| r.url.path()).collect();
    assert_eq!(
        paths,
        [
            ROLE_PATH,
            "/latest/meta-data/cam/security-credentials/imageshare-cvm-role"
        ]
    );
    assert!(reqs
        .iter()
        .all(|r| r.method.as_str() == "GET" && r.body.is_empty()));
    assert_no_secret(&format!("{:?} {:?}", found.credentials, got));
}

#[tokio::test]
async fn cvm_role_answer_without_success_is_a_credential_source_error() {
    let server = metadata(
        serde_json::json!({"Code": "Failed", "TmpSecretId": "", "TmpSecretKey": "", "Token": ""}),
    )
    .await;
    let services = Services::new(CVM).with_metadata_endpoint(server.uri());
    let found = chain_with(&services, None, None)
        .resolve(&StaticEnv::new())
        .unwrap();
    let err = found.credentials.provide().await.unwrap_err();
    assert!(matches!(err, Error::CredentialSource { .. }), "{err:?}");
    assert_eq!(err.code(), Some("Failed"));
    assert!(err.to_string().contains("imageshare-cvm-role"), "{err}");
}

#[tokio::test]
async fn a_cvm_adapter_signs_with_the_instance_role() {
    let server = metadata(serde_json::json!({
        "TmpSecretId": "AKIDcvmrole", "TmpSecretKey": TMP_KEY, "ExpiredTime": TS + 21600,
        "Token": TMP_TOKEN, "Code": "Success"}))
    .await;
    answer(
        &server,
        "DescribeImageSharePermission",
        serde_json::json!({"SharePermissionSet": [], "RequestId": "r"}),
    )
    .await;
    let cvm = TencentCvmImageSharing::builder()
        .env(StaticEnv::new())
        .endpoint(server.uri())
        .metadata_endpoint(server.uri())
        .region(REGION)
        .clock(Clock::fixed(TS))
        .build()
        .unwrap();
    cvm.sharees(&"img-6pb6lrmy".into()).await.unwrap();
    let call = &of_action(&server, "DescribeImageSharePermission").await[0];
    assert_eq!(h(call, "x-tc-token"), TMP_TOKEN);
    assert_eq!(verify(call, "cvm", TMP_KEY), "AKIDcvmrole");
    assert_eq!(
        cvm.client().credentials().source(),
        format!("CVM instance role from {}", server.uri())
    );
}
