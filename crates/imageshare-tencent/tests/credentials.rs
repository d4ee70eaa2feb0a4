//! The Tencent credential chain over a hermetic `StaticEnv` (never the real $HOME).

use imageshare_core::credentials::{fixed, CredentialChain, StaticEnv};
use imageshare_core::{ClientBuilder, Error};
use imageshare_tencent::credential::{
    chain, chain_with, region_from_env, ProfileFile, Services, ENV_CREDENTIALS_FILE, ENV_KEY_PAIR,
    ENV_REGION, ENV_SECRET_ID, ENV_SECRET_KEY, ENV_SECURITY_TOKEN, ENV_TOKEN, SYSTEM_PROFILE_FILE,
};
use imageshare_tencent::{TencentCredentials, TencentCvmImageSharing, CVM, LIGHTHOUSE};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOME: &str = "/home/tester";
const HOME_FILE: &str = "/home/tester/.tencentcloud/credentials";
const FILE_KEY: &str = "file-secret-key-QQQ";
const ENV_KEY: &str = "env-secret-key-ZZZ";
const TOKEN: &str = "session-token-TTT";

fn home_env() -> StaticEnv {
    StaticEnv::new().with_home(HOME)
}

fn profile_file() -> String {
    format!("[default]\nsecret_id = AKIDfile\nsecret_key = {FILE_KEY}\n\n[prod]\nsecret_id = AKIDprod\nsecret_key = prod-key\n")
}

fn secrets() -> [&'static str; 3] {
    [FILE_KEY, ENV_KEY, TOKEN]
}

fn assert_no_secret(text: &str) {
    for s in secrets() {
        assert!(!text.contains(s), "secret {s:?} leaked into: {text}");
    }
}

#[test]
fn explicit_credentials_come_first() {
    let env = home_env()
        .with_var(ENV_SECRET_ID, "AKIDenv")
        .with_var(ENV_SECRET_KEY, ENV_KEY)
        .with_var(ENV_REGION, "ap-shanghai")
        .with_file(HOME_FILE, &profile_file());
    let explicit = TencentCredentials::new("AKIDexplicit", "explicit-key").with_token(TOKEN);
    let r = chain(
        CVM,
        Some(fixed(explicit.clone(), "explicit credentials")),
        None,
    )
    .resolve(&env)
    .unwrap();
    assert_eq!(r.credentials.fixed(), Some(&explicit));
    assert_eq!(r.source, "explicit credentials");
    // The region variable applies whatever source supplied the keys.
    assert_eq!(region_from_env(&env), Some("ap-shanghai".into()));
    let cvm = TencentCvmImageSharing::builder()
        .env(env)
        .credentials(explicit)
        .build()
        .unwrap();
    assert_eq!(cvm.client().region().as_str(), "ap-shanghai");
}

#[test]
fn environment_comes_before_the_profile_file() {
    let env = home_env()
        .with_var(ENV_SECRET_ID, "AKIDenv")
        .with_var(ENV_SECRET_KEY, ENV_KEY)
        .with_file(HOME_FILE, &profile_file());
    let r = chain(CVM, None, None).resolve(&env).unwrap();
    assert_eq!(r.credentials.fixed().unwrap().secret_id, "AKIDenv");
    assert_eq!(r.credentials.fixed().unwrap().secret_key.expose(), ENV_KEY);
    assert_eq!(r.credentials.fixed().unwrap().token, None);
    assert_eq!(r.source, format!("environment variable {ENV_SECRET_ID}"));
    assert_eq!(r.region, None);
}

/// #17 bug 7: one rule on every cloud. Keys are not trimmed (as Tencent's SDKs would) but
/// refused, naming the variable and the character, never the value; the region still is.
#[test]
fn environment_keys_with_stray_white_space_are_refused_not_trimmed() {
    let env = StaticEnv::new()
        .with_var(ENV_SECRET_ID, " AKIDenv")
        .with_var(ENV_SECRET_KEY, ENV_KEY)
        .with_var(ENV_REGION, " ap-guangzhou ");
    let e = chain(CVM, None, None).resolve(&env).unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(&e, imageshare_core::Error::InvalidInput { field, .. }
            if field == &format!("environment variable {ENV_SECRET_ID}")),
        "{e:?}"
    );
    assert!(text.contains("the SecretId has a leading space"), "{text}");
    let env = env
        .with_var(ENV_SECRET_ID, "AKIDenv")
        .with_var(ENV_SECRET_KEY, &format!("{ENV_KEY}\n"));
    let text = chain(CVM, None, None)
        .resolve(&env)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains(&format!(
            "invalid environment variable {ENV_SECRET_KEY}: the SecretKey has a trailing newline"
        )),
        "{text}"
    );
    assert!(!text.contains(ENV_KEY), "the secret leaked: {text}");
    assert_eq!(region_from_env(&env), Some("ap-guangzhou".into()));
}

#[test]
fn session_token_from_either_variable() {
    let base = StaticEnv::new()
        .with_var(ENV_SECRET_ID, "AKIDenv")
        .with_var(ENV_SECRET_KEY, ENV_KEY);
    let r = chain(CVM, None, None)
        .resolve(&base.clone().with_var(ENV_TOKEN, TOKEN))
        .unwrap();
    assert_eq!(
        r.credentials
            .fixed()
            .unwrap()
            .token
            .as_ref()
            .map(|t| t.expose()),
        Some(TOKEN)
    );
    assert!(r.credentials.fixed().unwrap().is_temporary());

    let r = chain(CVM, None, None)
        .resolve(&base.clone().with_var(ENV_SECURITY_TOKEN, TOKEN))
        .unwrap();
    assert_eq!(
        r.credentials
            .fixed()
            .unwrap()
            .token
            .as_ref()
            .map(|t| t.expose()),
        Some(TOKEN)
    );

    // Both set: TENCENTCLOUD_SECURITY_TOKEN wins.
    let r = chain(CVM, None, None)
        .resolve(
            &base
                .with_var(ENV_SECURITY_TOKEN, "from-security")
                .with_var(ENV_TOKEN, "from-tccli"),
        )
        .unwrap();
    assert_eq!(
        r.credentials
            .fixed()
            .unwrap()
            .token
            .as_ref()
            .map(|t| t.expose()),
        Some("from-security")
    );
}

#[test]
fn half_set_environment_is_an_error_not_a_fall_through() {
    for env in [
        home_env().with_var(ENV_SECRET_ID, "AKIDenv"),
        home_env().with_var(ENV_SECRET_KEY, ENV_KEY),
    ] {
        let env = env.with_file(HOME_FILE, &profile_file());
        let err = chain(CVM, None, None).resolve(&env).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(ENV_SECRET_ID) && msg.contains(ENV_SECRET_KEY),
            "{msg}"
        );
        assert_no_secret(&msg);
        assert_no_secret(&format!("{err:?}"));
    }
}

#[test]
fn profile_file_in_home() {
    let env = home_env()
        .with_file(HOME_FILE, &profile_file())
        .with_var(ENV_TOKEN, TOKEN);
    let r = chain(CVM, None, None).resolve(&env).unwrap();
    assert_eq!(r.credentials.fixed().unwrap().secret_id, "AKIDfile");
    assert_eq!(r.credentials.fixed().unwrap().secret_key.expose(), FILE_KEY);
    // The SDKs read no token from the file, and an env token belongs to env keys only.
    assert_eq!(r.credentials.fixed().unwrap().token, None);
    assert_eq!(r.source, format!("profile [default] of {HOME_FILE}"));
}

#[test]
fn profile_section_can_be_chosen() {
    let env = home_env().with_file(HOME_FILE, &profile_file());
    let r = chain(CVM, None, Some("prod")).resolve(&env).unwrap();
    assert_eq!(r.credentials.fixed().unwrap().secret_id, "AKIDprod");
    assert_eq!(
        r.credentials.fixed().unwrap().secret_key.expose(),
        "prod-key"
    );
}

#[test]
fn profile_file_path_override() {
    let env = home_env()
        .with_var(ENV_CREDENTIALS_FILE, "/srv/tc/creds.ini")
        .with_file(
            "/srv/tc/creds.ini",
            "[default]\nsecret_id=AKIDover\nsecret_key=over-key\n",
        )
        .with_file(HOME_FILE, &profile_file());
    let r = chain(CVM, None, None).resolve(&env).unwrap();
    assert_eq!(r.credentials.fixed().unwrap().secret_id, "AKIDover");
    assert_eq!(r.source, "profile [default] of /srv/tc/creds.ini");
}

#[test]
fn system_file_is_the_last_file() {
    let env = home_env().with_file(
        SYSTEM_PROFILE_FILE,
        "[default]\nsecret_id = AKIDetc\nsecret_key = etc-key\n",
    );
    let r = chain(CVM, None, None).resolve(&env).unwrap();
    assert_eq!(r.credentials.fixed().unwrap().secret_id, "AKIDetc");
    assert_eq!(
        r.source,
        format!("profile [default] of {SYSTEM_PROFILE_FILE}")
    );
    // ... and can be left out of a chain of one's own.
    let err = CredentialChain::new(CVM)
        .then(ENV_KEY_PAIR.source(|p| fixed(TencentCredentials::from_key_pair(p), "env")))
        .then(ProfileFile::user(None))
        .resolve(&env)
        .unwrap_err();
    assert!(matches!(err, Error::CredentialsNotFound { .. }));
}

/// What the chain of `provider` found nothing in, over `env`: the CVM instance role is the
/// last source, selected lazily, so the "nothing found" comes from its first fetch; here
/// the metadata server (wiremock) says no role is bound (404).
async fn nothing_found(provider: imageshare_core::Provider, env: &StaticEnv) -> Error {
    let metadata = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/latest/meta-data/cam/security-credentials/"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&metadata)
        .await;
    let services = Services::new(provider).with_metadata_endpoint(metadata.uri());
    let found = chain_with(&services, None, None).resolve(env).unwrap();
    assert_eq!(
        found.source,
        format!("CVM instance role from {}", metadata.uri())
    );
    found.credentials.provide().await.unwrap_err()
}

#[tokio::test]
async fn nothing_found_lists_every_source() {
    let err = nothing_found(LIGHTHOUSE, &home_env()).await;
    let Error::CredentialsNotFound {
        provider, tried, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*provider, LIGHTHOUSE);
    assert_eq!(
        tried[..6],
        [
            "explicit credentials (none given)".to_owned(),
            format!("environment variables {ENV_SECRET_ID} and {ENV_SECRET_KEY} (unset)"),
            format!("profile file {HOME_FILE} (not found)"),
            format!("tccli profile {HOME}/.tccli/default.credential (not found)"),
            format!("profile file {SYSTEM_PROFILE_FILE} (not found)"),
            "TKE OIDC: environment variables TKE_REGION, TKE_PROVIDER_ID, \
             TKE_WEB_IDENTITY_TOKEN_FILE, TKE_ROLE_ARN (unset)"
                .to_owned(),
        ]
    );
    assert!(
        tried[6].starts_with("CVM instance role (no CAM role is bound to this instance (http://")
            && tried[6].ends_with("/latest/meta-data/cam/security-credentials/ answered 404))"),
        "{}",
        tried[6]
    );
    assert_eq!(tried.len(), 7);
    let msg = err.to_string();
    assert!(
        msg.starts_with("no tencent-lighthouse credentials found; tried: "),
        "{msg}"
    );
}

#[tokio::test]
async fn nothing_found_without_home_directory() {
    let err = nothing_found(CVM, &StaticEnv::new()).await;
    let Error::CredentialsNotFound { tried, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        tried[2].contains("no home directory") && tried[2].contains(ENV_CREDENTIALS_FILE),
        "{tried:?}"
    );
    assert!(tried[3].contains("no home directory"), "{tried:?}");
    assert_eq!(tried.len(), 7);
}

#[tokio::test]
async fn unreachable_metadata_server_ends_the_chain_with_nothing_found() {
    // A closed port: connection refused at once (the connect timeout is 1 s otherwise).
    let services = Services::new(CVM).with_metadata_endpoint("http://127.0.0.1:1");
    let found = chain_with(&services, None, None)
        .resolve(&home_env())
        .unwrap();
    let started = std::time::Instant::now();
    let err = found.credentials.provide().await.unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let Error::CredentialsNotFound { tried, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(tried.len(), 7);
    assert!(
        tried[6].starts_with("CVM instance role (metadata server http://127.0.0.1:1/latest/meta-data/cam/security-credentials/ unreachable: ")
            && tried[6].ends_with("not a CVM instance?)"),
        "{}",
        tried[6]
    );
}

#[tokio::test]
async fn profile_without_the_section_or_keys_is_skipped_with_a_reason() {
    let env = home_env().with_file(HOME_FILE, "[other]\nsecret_id = a\nsecret_key = b\n");
    let Error::CredentialsNotFound { tried, .. } = nothing_found(CVM, &env).await else {
        panic!()
    };
    assert_eq!(
        tried[2],
        format!("profile file {HOME_FILE} (no [default] section)")
    );

    let env = home_env().with_file(HOME_FILE, "[default]\nregion = ap-guangzhou\n");
    let Error::CredentialsNotFound { tried, .. } = nothing_found(CVM, &env).await else {
        panic!()
    };
    assert_eq!(
        tried[2],
        format!("profile file {HOME_FILE} ([default] has no secret_id and secret_key)")
    );
}

#[test]
fn half_configured_profile_is_an_error() {
    for text in [
        format!("[default]\nsecret_key = {FILE_KEY}\n"),
        "[default]\nsecret_id = AKIDfile\nsecret_key =\n".to_owned(),
    ] {
        let env = home_env().with_file(HOME_FILE, &text);
        let err = chain(CVM, None, None).resolve(&env).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        assert!(err.to_string().contains(HOME_FILE), "{err}");
        assert_no_secret(&err.to_string());
        assert_no_secret(&format!("{err:?}"));
    }
}

#[test]
fn broken_profile_file_is_an_error_that_hides_its_content() {
    let env = home_env().with_file(
        HOME_FILE,
        &format!("[default]\nsecret_id = AKIDfile\n{FILE_KEY}\n"),
    );
    let err = chain(CVM, None, None).resolve(&env).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert!(msg.contains("line 3"), "{msg}");
    assert!(msg.contains(HOME_FILE), "{msg}");
    assert_no_secret(&msg);
    assert_no_secret(&format!("{err:?}"));
}

#[test]
fn profile_file_with_comments_crlf_and_odd_spacing() {
    let text = format!(
        "\u{feff}; Tencent Cloud credentials\r\n# managed by hand\r\n\r\n   [default]   \r\n\
         \tsecret_id=AKIDfile   ; trailing comment\r\n  SECRET_KEY   =   {FILE_KEY}   \r\n"
    );
    let env = home_env().with_file(HOME_FILE, &text);
    let r = chain(CVM, None, None).resolve(&env).unwrap();
    assert_eq!(r.credentials.fixed().unwrap().secret_id, "AKIDfile");
    assert_eq!(r.credentials.fixed().unwrap().secret_key.expose(), FILE_KEY);
}

#[test]
fn explicit_credentials_are_validated() {
    for (id, key) in [
        ("", "k"),
        ("AKID", ""),
        ("AK ID", "k"),
        ("AK/ID", "k"),
        ("AK,ID", "k"),
    ] {
        let err = chain(
            CVM,
            Some(fixed(TencentCredentials::new(id, key), "explicit")),
            None,
        )
        .resolve(&StaticEnv::new())
        .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{id:?}: {err:?}");
    }
}

#[test]
fn debug_and_display_never_show_key_or_token() {
    let c = TencentCredentials::new("AKIDshown", ENV_KEY).with_token(TOKEN);
    let debug = format!("{c:?}");
    let pretty = format!("{c:#?}");
    let display = c.to_string();
    for text in [&debug, &pretty, &display] {
        assert_no_secret(text);
        assert!(text.contains("AKIDshown"), "{text}");
    }
    assert!(debug.contains("***"), "{debug}");
    assert_eq!(
        display,
        "Tencent Cloud key AKIDshown (temporary, with session token)"
    );
    assert_eq!(
        TencentCredentials::new("AKIDshown", ENV_KEY).to_string(),
        "Tencent Cloud key AKIDshown"
    );

    let env = StaticEnv::new()
        .with_var(ENV_SECRET_ID, "AKIDenv")
        .with_var(ENV_SECRET_KEY, ENV_KEY)
        .with_var(ENV_TOKEN, TOKEN);
    let resolved = chain(CVM, None, None).resolve(&env).unwrap();
    assert_no_secret(&format!("{resolved:?}"));
    let chain = chain(CVM, Some(fixed(c, "explicit")), None);
    assert_no_secret(&format!("{chain:?}"));
}
