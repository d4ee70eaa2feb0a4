//! tccli's profile files in the chain, over a hermetic `StaticEnv`: the shapes `tccli
//! configure set` writes (plain keys, `role-arn`, `type: cvm-role`, oauth), the region of
//! `.configure`, the profile choice (`TCCLI_PROFILE`, the builder's profile), and where the
//! source sits in the chain's order.

use imageshare_core::credentials::StaticEnv;
use imageshare_core::{ClientBuilder, Error};
use imageshare_tencent::credential::{
    chain, chain_with, Services, ENV_REGION, ENV_SECRET_ID, ENV_SECRET_KEY, SYSTEM_PROFILE_FILE,
};
use imageshare_tencent::{TencentCvmImageSharing, CVM};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOME: &str = "/home/tester";
const INI: &str = "/home/tester/.tencentcloud/credentials";
const CRED: &str = "/home/tester/.tccli/default.credential";
const CONF: &str = "/home/tester/.tccli/default.configure";
const PROD_CRED: &str = "/home/tester/.tccli/prod.credential";
const PROD_CONF: &str = "/home/tester/.tccli/prod.configure";
const KEY: &str = "tccli-secret-key-NEVER-SHOWN";
const TOKEN: &str = "tccli-token-NEVER-SHOWN";
const ROLE: &str = "qcs::cam::uin/100000000001:roleName/deploy";

fn assert_no_secret(text: &str) {
    for s in [KEY, TOKEN] {
        assert!(!text.contains(s), "secret {s:?} leaked into: {text}");
    }
}

fn home() -> StaticEnv {
    StaticEnv::new().with_home(HOME)
}

/// `tccli configure set secretId AKIDtccli secretKey ... token ...`.
fn keys(id: &str) -> String {
    format!(r#"{{"secretId": "{id}", "secretKey": "{KEY}", "token": "{TOKEN}"}}"#)
}

/// What `tccli configure set region <region>` writes (region under `_sys_param`).
fn configure(region: &str) -> String {
    format!(
        r#"{{"_sys_param": {{"region": "{region}", "output": "json", "arrayCount": 10}},
            "cvm": {{"endpoint": "cvm.tencentcloudapi.com", "version": "2017-03-12"}}}}"#
    )
}

#[test]
fn plain_keys_with_token_and_the_configure_region() {
    let env = home()
        .with_file_mode(CRED, &keys("AKIDtccli"), 0o600)
        .with_file(CONF, &configure("ap-chengdu"));
    let r = chain(CVM, None, None).resolve(&env).unwrap();
    let creds = r.credentials.fixed().unwrap();
    assert_eq!(creds.secret_id, "AKIDtccli");
    assert_eq!(creds.secret_key.expose(), KEY);
    assert_eq!(creds.token.as_ref().unwrap().expose(), TOKEN);
    assert_eq!(r.source, format!("tccli profile {CRED}"));
    assert_eq!(r.region.as_ref().map(|r| r.as_str()), Some("ap-chengdu"));
    assert_no_secret(&format!("{r:?}"));
    assert!(env.warnings().is_empty());

    // The adapter takes the region from it too.
    let cvm = TencentCvmImageSharing::builder().env(env).build().unwrap();
    assert_eq!(cvm.client().region().as_str(), "ap-chengdu");
}

#[test]
fn older_configure_files_keep_the_region_at_the_top() {
    let env = home()
        .with_file(CRED, &keys("AKIDtccli"))
        .with_file(CONF, r#"{"region": "ap-beijing", "output": "json"}"#);
    let r = chain(CVM, None, None).resolve(&env).unwrap();
    assert_eq!(r.region.as_ref().map(|r| r.as_str()), Some("ap-beijing"));
}

#[test]
fn the_region_variable_wins_unless_a_profile_was_named() {
    let env = home()
        .with_var(ENV_REGION, "ap-shanghai")
        .with_file(CRED, &keys("AKIDtccli"))
        .with_file(CONF, &configure("ap-chengdu"))
        .with_file(PROD_CRED, &keys("AKIDprod"))
        .with_file(PROD_CONF, &configure("ap-nanjing"));
    let cvm = TencentCvmImageSharing::builder()
        .env(env.clone())
        .build()
        .unwrap();
    assert_eq!(cvm.client().region().as_str(), "ap-shanghai");
    let cvm = TencentCvmImageSharing::builder()
        .env(env)
        .profile("prod")
        .build()
        .unwrap();
    assert_eq!(cvm.client().region().as_str(), "ap-nanjing");
}

#[test]
fn the_profile_comes_from_the_builder_else_tccli_profile_else_default() {
    let env = home()
        .with_file(CRED, &keys("AKIDdefault"))
        .with_file(PROD_CRED, &keys("AKIDprod"))
        .with_file("/home/tester/.tccli/ci.credential", &keys("AKIDci"));
    let id = |env: &StaticEnv, profile: Option<&str>| {
        chain(CVM, None, profile)
            .resolve(env)
            .unwrap()
            .credentials
            .fixed()
            .unwrap()
            .secret_id
            .clone()
    };
    assert_eq!(id(&env, None), "AKIDdefault");
    let with_var = env.clone().with_var("TCCLI_PROFILE", "ci");
    assert_eq!(id(&with_var, None), "AKIDci");
    assert_eq!(
        id(&with_var, Some("prod")),
        "AKIDprod",
        "the builder's profile wins"
    );
}

#[test]
fn role_arn_assumes_the_role_with_the_file_keys() {
    let env = home().with_file(
        CRED,
        &format!(
            r#"{{"secretId": "AKIDtccli", "secretKey": "{KEY}", "role-arn": "{ROLE}",
                "role-session-name": "tccli-session"}}"#
        ),
    );
    let r = chain(CVM, None, None).resolve(&env).unwrap();
    assert!(r.credentials.fixed().is_none(), "fetched, not fixed");
    assert_eq!(
        r.source,
        format!("role {ROLE} assumed with tccli profile {CRED}")
    );
    let dbg = format!("{:?}", r.credentials);
    assert!(dbg.contains("tccli-session"), "{dbg}");
    assert_no_secret(&dbg);

    // Without role-session-name, the default session name (tccli would ignore the role).
    let env = home().with_file(
        CRED,
        &format!(r#"{{"secretId": "AKIDtccli", "secretKey": "{KEY}", "role-arn": "{ROLE}"}}"#),
    );
    let r = chain(CVM, None, None).resolve(&env).unwrap();
    assert!(format!("{:?}", r.credentials).contains("imageshare-"));
}

#[tokio::test]
async fn role_arn_calls_the_sts_endpoint_of_the_configure_file() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"Response": {
            "Credentials": {"Token": "t", "TmpSecretId": "AKIDtmp", "TmpSecretKey": "k"},
            "ExpiredTime": 4_000_000_000u64, "RequestId": "r"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let env = home()
        .with_file(
            CRED,
            &format!(
                r#"{{"secretId": "AKIDtccli", "secretKey": "{KEY}", "role-arn": "{ROLE}", "role-session-name": "s"}}"#
            ),
        )
        .with_file(CONF, &format!(r#"{{"_sys_param": {{}}, "sts": {{"endpoint": "{}"}}}}"#, server.uri()));
    let r = chain(CVM, None, None).resolve(&env).unwrap();
    let got = r.credentials.provide().await.unwrap();
    assert_eq!(got.credentials.secret_id, "AKIDtmp");
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs[0].headers["x-tc-action"], "AssumeRole");
    assert!(reqs[0].headers["authorization"]
        .to_str()
        .unwrap()
        .contains("Credential=AKIDtccli/"));
}

#[tokio::test]
async fn cvm_role_profiles_use_the_instance_role_and_fail_as_a_named_source() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/latest/meta-data/cam/security-credentials/"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    // `tccli configure set use-cvm-role true` writes only the type.
    let env = home().with_file(CRED, r#"{"type": "cvm-role"}"#);
    let services = Services::new(CVM).with_metadata_endpoint(server.uri());
    let r = chain_with(&services, None, None).resolve(&env).unwrap();
    assert_eq!(
        r.source,
        format!("tccli profile {CRED} (type cvm-role): CVM instance role")
    );
    let err = r.credentials.provide().await.unwrap_err();
    let Error::CredentialSource {
        source_name,
        message,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(source_name, &r.source);
    assert!(message.contains("no CAM role is bound"), "{message}");
}

#[test]
fn broken_files_are_errors_that_hide_their_content() {
    for (text, says) in [
        (
            format!(r#"{{"secretId": "AKIDx", "token": "{TOKEN}"}}"#),
            "has secretId but no secretKey",
        ),
        (
            format!(r#"{{"secretKey": "{KEY}"}}"#),
            "has secretKey but no secretId",
        ),
        (
            format!(r#"{{"secretId": "AKIDx", "secretKey": "{KEY}""#),
            "not valid JSON: line 1",
        ),
        (format!(r#"["{KEY}"]"#), "not a JSON object"),
    ] {
        let env = home().with_file(CRED, &text);
        let err = chain(CVM, None, None).resolve(&env).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        assert!(msg.contains(says) && msg.contains(CRED), "{msg}");
        assert_no_secret(&msg);
        assert_no_secret(&format!("{err:?}"));
    }
    // A file without keys (only `type: default`) is skipped with a reason.
    let env = home().with_file(CRED, r#"{"type": "default"}"#);
    let services = Services::new(CVM).with_metadata_endpoint("http://127.0.0.1:1");
    let r = chain_with(&services, None, None).resolve(&env).unwrap();
    assert!(r.source.starts_with("CVM instance role"), "{}", r.source);
}

#[test]
fn expired_oauth_keys_say_to_run_tccli() {
    let env = home().with_file(
        CRED,
        &format!(
            r#"{{"type": "oauth", "secretId": "AKIDoauth", "secretKey": "{KEY}", "token": "{TOKEN}",
                "expiresAt": 1000, "oauth": {{"openId": "o", "accessToken": "{TOKEN}", "expiresAt": 1000,
                "refreshToken": "{TOKEN}", "site": "cn"}}}}"#
        ),
    );
    let err = chain(CVM, None, None).resolve(&env).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::CredentialSource { .. }), "{err:?}");
    assert!(msg.contains("expired at 1970-01-01T00:16:40Z"), "{msg}");
    assert!(msg.contains("tccli auth login"), "{msg}");
    assert_no_secret(&msg);
}

#[test]
fn order_env_then_ini_then_tccli_then_system_then_oidc() {
    let ini = "[default]\nsecret_id = AKIDini\nsecret_key = ini-key\n";
    let etc = "[default]\nsecret_id = AKIDetc\nsecret_key = etc-key\n";
    let all = home()
        .with_var(ENV_SECRET_ID, "AKIDenv")
        .with_var(ENV_SECRET_KEY, "env-key")
        .with_file(INI, ini)
        .with_file(CRED, &keys("AKIDtccli"))
        .with_file(SYSTEM_PROFILE_FILE, etc)
        .with_var("TKE_REGION", "ap-shanghai")
        .with_var("TKE_PROVIDER_ID", "p")
        .with_var("TKE_WEB_IDENTITY_TOKEN_FILE", "/var/run/token")
        .with_var("TKE_ROLE_ARN", ROLE)
        .with_file("/var/run/token", "jwt");
    let source = |env: &StaticEnv| chain(CVM, None, None).resolve(env).unwrap().source;
    assert_eq!(
        source(&all),
        format!("environment variable {ENV_SECRET_ID}")
    );
    let no_env = home()
        .with_file(INI, ini)
        .with_file(CRED, &keys("AKIDtccli"))
        .with_file(SYSTEM_PROFILE_FILE, etc)
        .with_var("TKE_REGION", "ap-shanghai")
        .with_var("TKE_PROVIDER_ID", "p")
        .with_var("TKE_WEB_IDENTITY_TOKEN_FILE", "/var/run/token")
        .with_var("TKE_ROLE_ARN", ROLE)
        .with_file("/var/run/token", "jwt");
    assert_eq!(source(&no_env), format!("profile [default] of {INI}"));
    let no_ini = StaticEnv::new()
        .with_home(HOME)
        .with_file(CRED, &keys("AKIDtccli"))
        .with_file(SYSTEM_PROFILE_FILE, etc)
        .with_var("TKE_REGION", "ap-shanghai")
        .with_var("TKE_PROVIDER_ID", "p")
        .with_var("TKE_WEB_IDENTITY_TOKEN_FILE", "/var/run/token")
        .with_var("TKE_ROLE_ARN", ROLE)
        .with_file("/var/run/token", "jwt");
    assert_eq!(source(&no_ini), format!("tccli profile {CRED}"));
    let only_etc_and_oidc = StaticEnv::new()
        .with_home(HOME)
        .with_file(SYSTEM_PROFILE_FILE, etc)
        .with_var("TKE_REGION", "ap-shanghai")
        .with_var("TKE_PROVIDER_ID", "p")
        .with_var("TKE_WEB_IDENTITY_TOKEN_FILE", "/var/run/token")
        .with_var("TKE_ROLE_ARN", ROLE)
        .with_file("/var/run/token", "jwt");
    assert_eq!(
        source(&only_etc_and_oidc),
        format!("profile [default] of {SYSTEM_PROFILE_FILE}")
    );
    let only_oidc = StaticEnv::new()
        .with_var("TKE_REGION", "ap-shanghai")
        .with_var("TKE_PROVIDER_ID", "p")
        .with_var("TKE_WEB_IDENTITY_TOKEN_FILE", "/var/run/token")
        .with_var("TKE_ROLE_ARN", ROLE)
        .with_file("/var/run/token", "jwt");
    assert_eq!(
        source(&only_oidc),
        format!("TKE OIDC role {ROLE} (token file /var/run/token, TKE_ROLE_ARN)")
    );
    assert!(source(&StaticEnv::new())
        .starts_with("CVM instance role from http://metadata.tencentyun.com"));
}
