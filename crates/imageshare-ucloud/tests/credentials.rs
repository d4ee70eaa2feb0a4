//! The UCloud credential chain, hermetically: every environment is a `StaticEnv`, never the
//! real process environment or home directory.

use imageshare_core::credentials::StaticEnv;
use imageshare_core::Error;
use imageshare_ucloud::{CredentialSource, UCloudChain, UCloudConfig, UCloudCredentials, UHOST};
use std::path::PathBuf;

const HOME: &str = "/home/u";
const CRED_FILE: &str = "/home/u/.ucloud/credential.json";
const CFG_FILE: &str = "/home/u/.ucloud/config.json";

const FILE_PRIVATE: &str = "file-private-key-SECRET";
const ENV_PRIVATE: &str = "env-private-key-SECRET";
const EXPLICIT_PRIVATE: &str = "explicit-private-key-SECRET";

/// The shape the UCloud CLI writes, with the extra fields the SDK ignores.
fn cli_files(env: StaticEnv) -> StaticEnv {
    env.with_home(HOME)
        .with_file(
            CFG_FILE,
            r#"[
              {"project_id":"org-default","region":"cn-bj2","zone":"cn-bj2-02",
               "base_url":"https://api.ucloud.cn","timeout_sec":15,"profile":"default",
               "active":false,"max_retry_times":3,"agree_upload_log":true},
              {"project_id":"org-work","region":"hk","zone":"hk-02",
               "base_url":"https://api.ucloud-global.com","timeout_sec":20,"profile":"work",
               "active":true},
              {"project_id":"org-ci","region":"cn-sh2","zone":"","base_url":"",
               "timeout_sec":0,"profile":"ci","active":false}
            ]"#,
        )
        .with_file(
            CRED_FILE,
            &format!(
                r#"[
              {{"public_key":"pub-default","private_key":"default-{FILE_PRIVATE}","profile":"default","cookie":"c","auth_mode":"AKSK"}},
              {{"public_key":"pub-work","private_key":"{FILE_PRIVATE}","profile":"work"}},
              {{"public_key":"pub-ci","private_key":"ci-{FILE_PRIVATE}","profile":"ci"}}
            ]"#
            ),
        )
}

fn env_keys(env: StaticEnv) -> StaticEnv {
    env.with_var("UCLOUD_PUBLIC_KEY", "pub-env")
        .with_var("UCLOUD_PRIVATE_KEY", ENV_PRIVATE)
}

#[test]
fn explicit_credentials_win_over_everything() {
    let env = env_keys(cli_files(StaticEnv::new()));
    let creds = UCloudCredentials::new("pub-explicit", EXPLICIT_PRIVATE);
    let found = UCloudChain::new()
        .credentials(creds.clone())
        .resolve(&env)
        .unwrap();
    assert_eq!(found.fixed_credentials(), Some(&creds));
    assert_eq!(found.credential_source, CredentialSource::Explicit);
    // Settings not given explicitly still come from the files (active profile "work").
    assert_eq!(found.config.project_id.as_deref(), Some("org-work"));
    assert_eq!(found.profile.as_deref(), Some("work"));
}

#[test]
fn environment_keys_win_over_the_shared_file() {
    let env = env_keys(cli_files(StaticEnv::new()));
    let found = UCloudChain::new().resolve(&env).unwrap();
    assert_eq!(found.fixed_credentials().unwrap().public_key, "pub-env");
    assert_eq!(
        found.fixed_credentials().unwrap().private_key.expose(),
        ENV_PRIVATE
    );
    assert_eq!(found.fixed_credentials().unwrap().security_token, None);
    assert_eq!(found.credential_source, CredentialSource::Environment);
}

#[test]
fn shared_file_active_profile_is_used_without_a_name() {
    let env = cli_files(StaticEnv::new());
    let found = UCloudChain::new().resolve(&env).unwrap();
    assert_eq!(found.fixed_credentials().unwrap().public_key, "pub-work");
    assert_eq!(
        found.fixed_credentials().unwrap().private_key.expose(),
        FILE_PRIVATE
    );
    assert_eq!(
        found.credential_source,
        CredentialSource::SharedFile {
            path: PathBuf::from(CRED_FILE),
            profile: "work".into()
        }
    );
    assert_eq!(found.profile.as_deref(), Some("work"));
    assert_eq!(
        found.config,
        UCloudConfig {
            project_id: Some("org-work".into()),
            region: Some("hk".into()),
            zone: Some("hk-02".into()),
            base_url: Some("https://api.ucloud-global.com".into()),
            timeout_secs: Some(20),
        }
    );
}

#[test]
fn named_profile_from_env_beats_the_active_one() {
    let env = cli_files(StaticEnv::new()).with_var("UCLOUD_PROFILE", "default");
    let found = UCloudChain::new().resolve(&env).unwrap();
    assert_eq!(found.fixed_credentials().unwrap().public_key, "pub-default");
    assert_eq!(found.profile.as_deref(), Some("default"));
    assert_eq!(found.config.region.as_deref(), Some("cn-bj2"));
    assert_eq!(found.config.timeout_secs, Some(15));
}

#[test]
fn explicit_profile_beats_ucloud_profile() {
    let env = cli_files(StaticEnv::new()).with_var("UCLOUD_PROFILE", "default");
    let found = UCloudChain::new().profile("ci").resolve(&env).unwrap();
    assert_eq!(found.fixed_credentials().unwrap().public_key, "pub-ci");
    // Empty strings and timeout_sec 0 in the file count as absent.
    assert_eq!(
        found.config,
        UCloudConfig {
            project_id: Some("org-ci".into()),
            region: Some("cn-sh2".into()),
            ..Default::default()
        }
    );
    assert_eq!(
        found.config.base_url_or_default(),
        imageshare_ucloud::credential::DEFAULT_BASE_URL
    );
}

#[test]
fn settings_resolve_field_by_field_explicit_then_env_then_file() {
    let env = cli_files(StaticEnv::new())
        .with_var("UCLOUD_REGION", "cn-gd")
        .with_var("UCLOUD_ZONE", "cn-gd-02")
        .with_var("UCLOUD_API_BASE_URL", "http://127.0.0.1:9000")
        .with_var("UCLOUD_TIMEOUT_SECOND", "7");
    let found = UCloudChain::new()
        .zone("explicit-zone")
        .resolve(&env)
        .unwrap();
    assert_eq!(
        found.config,
        UCloudConfig {
            project_id: Some("org-work".into()), // file (active profile)
            region: Some("cn-gd".into()),        // env beats file
            zone: Some("explicit-zone".into()),  // explicit beats env
            base_url: Some("http://127.0.0.1:9000".into()),
            timeout_secs: Some(7),
        }
    );
}

#[test]
fn env_values_beat_non_empty_file_values_unlike_the_go_sdk() {
    // Go's LoadDefaultUCloudConfig would let the file's project overwrite the env's.
    let env = env_keys(cli_files(StaticEnv::new())).with_var("UCLOUD_PROJECT_ID", "org-env");
    let found = UCloudChain::new().resolve(&env).unwrap();
    assert_eq!(found.config.project_id.as_deref(), Some("org-env"));
    assert_eq!(found.fixed_credentials().unwrap().public_key, "pub-env");
}

#[test]
fn shared_file_paths_can_be_overridden() {
    let env = StaticEnv::new()
        .with_home(HOME)
        .with_var("UCLOUD_SHARED_CREDENTIAL_FILE", "~/elsewhere/creds.json")
        .with_var("UCLOUD_SHARED_CONFIG_FILE", "/etc/ucloud/config.json")
        .with_var("UCLOUD_PROFILE", "p")
        .with_file(
            "/home/u/elsewhere/creds.json",
            r#"[{"public_key":"pub-p","private_key":"priv-p","profile":"p"}]"#,
        )
        .with_file(
            "/etc/ucloud/config.json",
            r#"[{"profile":"p","region":"hk"}]"#,
        );
    let found = UCloudChain::new().resolve(&env).unwrap();
    assert_eq!(found.fixed_credentials().unwrap().public_key, "pub-p");
    assert_eq!(found.config.region.as_deref(), Some("hk"));
    assert_eq!(
        found.credential_source,
        CredentialSource::SharedFile {
            path: PathBuf::from("/home/u/elsewhere/creds.json"),
            profile: "p".into()
        }
    );

    // The explicit path beats the variable.
    let env = env.with_file(
        "/tmp/explicit.json",
        r#"[{"public_key":"pub-x","private_key":"priv-x","profile":"p"}]"#,
    );
    let found = UCloudChain::new()
        .shared_credential_file("/tmp/explicit.json")
        .resolve(&env)
        .unwrap();
    assert_eq!(found.fixed_credentials().unwrap().public_key, "pub-x");
}

#[test]
fn the_last_matching_profile_wins_as_in_the_go_sdk() {
    let env = StaticEnv::new()
        .with_home(HOME)
        .with_file(
            CFG_FILE,
            r#"[{"profile":"a","active":true},{"profile":"b","active":true}]"#,
        )
        .with_file(
            CRED_FILE,
            r#"[{"public_key":"pub-a","private_key":"x","profile":"a"},
                {"public_key":"pub-b1","private_key":"x","profile":"b"},
                {"public_key":"pub-b2","private_key":"x","profile":"b"}]"#,
        );
    let found = UCloudChain::new().resolve(&env).unwrap();
    assert_eq!(found.profile.as_deref(), Some("b"));
    assert_eq!(found.fixed_credentials().unwrap().public_key, "pub-b2");
}

#[test]
fn nothing_found_lists_every_source_tried() {
    let env = StaticEnv::new().with_home(HOME);
    let err = UCloudChain::new().resolve(&env).unwrap_err();
    let Error::CredentialsNotFound {
        provider, tried, ..
    } = &err
    else {
        panic!("unexpected error {err:?}");
    };
    assert_eq!(*provider, UHOST);
    assert_eq!(tried.len(), 4, "{tried:?}");
    assert!(tried[0].contains("explicit"), "{tried:?}");
    assert!(tried[1].contains("UCLOUD_PUBLIC_KEY"), "{tried:?}");
    assert!(tried[1].contains("UCLOUD_PRIVATE_KEY"), "{tried:?}");
    assert!(tried[2].contains(CRED_FILE), "{tried:?}");
    assert!(tried[2].contains("not found"), "{tried:?}");
    // Not asked for, the instance role is named, so that a user on a UHost learns of it.
    assert!(tried[3].contains("instance role"), "{tried:?}");
    assert!(tried[3].contains("not asked for"), "{tried:?}");
    let msg = err.to_string();
    for needle in ["ucloud", "explicit", "UCLOUD_PUBLIC_KEY", CRED_FILE] {
        assert!(msg.contains(needle), "{needle} missing from {msg}");
    }
}

#[test]
fn nothing_found_explains_profile_problems() {
    // No name and no active profile.
    let env = StaticEnv::new()
        .with_home(HOME)
        .with_file(CFG_FILE, r#"[{"profile":"default","active":false}]"#)
        .with_file(
            CRED_FILE,
            r#"[{"public_key":"p","private_key":"s","profile":"default"}]"#,
        );
    let msg = UCloudChain::new().resolve(&env).unwrap_err().to_string();
    assert!(msg.contains("no profile selected"), "{msg}");
    assert!(msg.contains("UCLOUD_PROFILE"), "{msg}");
    assert!(msg.contains(CFG_FILE), "{msg}");

    // A name that is not in the file.
    let msg = UCloudChain::new()
        .profile("nope")
        .resolve(&env)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("no profile \"nope\""), "{msg}");

    // A profile with no keys at all.
    let env = StaticEnv::new()
        .with_home(HOME)
        .with_file(CRED_FILE, r#"[{"profile":"default"}]"#);
    let msg = UCloudChain::new()
        .profile("default")
        .resolve(&env)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("has no keys"), "{msg}");

    // No home directory at all.
    let msg = UCloudChain::new()
        .resolve(&StaticEnv::new())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("no home directory"), "{msg}");
}

#[test]
fn half_a_key_pair_is_an_error_not_a_fall_through() {
    let env = cli_files(StaticEnv::new()).with_var("UCLOUD_PUBLIC_KEY", "pub-env");
    let err = UCloudChain::new().resolve(&env).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "UCLOUD_PRIVATE_KEY"),
        "{err:?}"
    );

    let env = cli_files(StaticEnv::new()).with_var("UCLOUD_PRIVATE_KEY", ENV_PRIVATE);
    let err = UCloudChain::new().resolve(&env).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "UCLOUD_PUBLIC_KEY"),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains(ENV_PRIVATE));

    let env = StaticEnv::new().with_home(HOME).with_file(
        CRED_FILE,
        &format!(r#"[{{"private_key":"{FILE_PRIVATE}","profile":"p"}}]"#),
    );
    let err = UCloudChain::new().profile("p").resolve(&env).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("public_key"), "{text}");
    assert!(!text.contains(FILE_PRIVATE), "{text}");
}

#[test]
fn malformed_files_are_errors_that_never_quote_the_file() {
    for bad in [
        format!(r#"{{"public_key":"p","private_key":"{FILE_PRIVATE}","profile":"p"}}"#), // object, not array
        format!(r#"[{{"public_key":"p","private_key":"{FILE_PRIVATE}" "profile":"p"}}]"#), // syntax
        format!(r#"[{{"public_key":"p","private_key":"{FILE_PRIVATE}","profile":7}}]"#), // type
        format!(r#"[{{"public_key":"p","private_key":"{FILE_PRIVATE}""#),                // eof
    ] {
        let env = StaticEnv::new().with_home(HOME).with_file(CRED_FILE, &bad);
        let err = UCloudChain::new().profile("p").resolve(&env).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(
            matches!(&err, Error::InvalidInput { field, .. } if field == CRED_FILE),
            "{text}"
        );
        assert!(text.contains("line 1"), "{text}");
        assert!(!text.contains(FILE_PRIVATE), "{text}");
    }
}

#[test]
fn a_broken_file_does_not_matter_when_it_is_not_needed() {
    let env = StaticEnv::new()
        .with_home(HOME)
        .with_file(CRED_FILE, "not json")
        .with_file(CFG_FILE, "not json either");
    let found = UCloudChain::new()
        .credentials(UCloudCredentials::new("p", "s"))
        .project_id("org-x")
        .region("cn-bj2")
        .zone("cn-bj2-02")
        .base_url("http://127.0.0.1:1")
        .timeout_secs(5)
        .resolve(&env)
        .unwrap();
    assert_eq!(found.fixed_credentials().unwrap().public_key, "p");
    assert_eq!(found.profile, None);

    // An empty file is an empty list of profiles, not an error.
    let env = StaticEnv::new()
        .with_home(HOME)
        .with_file(CRED_FILE, "  \n");
    let msg = UCloudChain::new().resolve(&env).unwrap_err().to_string();
    assert!(msg.contains("no profile selected"), "{msg}");
}

#[test]
fn a_bad_timeout_variable_is_an_input_error() {
    let env = env_keys(StaticEnv::new()).with_var("UCLOUD_TIMEOUT_SECOND", "15s");
    let err = UCloudChain::new().resolve(&env).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "UCLOUD_TIMEOUT_SECOND"),
        "{err:?}"
    );
}

#[test]
fn config_builder_values_and_or() {
    let explicit = UCloudConfig {
        region: Some("hk".into()),
        ..Default::default()
    };
    let chain = UCloudChain::new()
        .config(explicit)
        .credentials(UCloudCredentials::new("p", "s"));
    let found = chain
        .resolve(&StaticEnv::new().with_var("UCLOUD_REGION", "cn-bj2"))
        .unwrap();
    assert_eq!(found.config.region.as_deref(), Some("hk"));
    assert!(!found.config.is_complete());
}

#[test]
fn credentials_debug_never_shows_the_private_key_or_token() {
    let creds = UCloudCredentials::new("pub-visible", EXPLICIT_PRIVATE)
        .with_security_token("sts-token-SECRET");
    for text in [format!("{creds:?}"), format!("{creds:#?}")] {
        assert!(text.contains("pub-visible"), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.contains("***"), "{text}");
    }
    let plain = UCloudCredentials::new("pub", EXPLICIT_PRIVATE);
    assert_eq!(
        format!("{plain:?}"),
        r#"UCloudCredentials { public_key: "pub", private_key: "***", security_token: None }"#
    );

    // Nor does anything that contains them.
    let env = cli_files(StaticEnv::new());
    let found = UCloudChain::new()
        .credentials(creds.clone())
        .resolve(&env)
        .unwrap();
    let text = format!("{found:?} {:?} {}", found.config, found.credential_source);
    assert!(!text.contains("SECRET"), "{text}");
    let chain = UCloudChain::new().credentials(creds);
    assert!(!format!("{chain:?}").contains("SECRET"));

    let from_file = UCloudChain::new().resolve(&env).unwrap();
    let text = format!("{from_file:?} {}", from_file.credential_source);
    assert!(!text.contains(FILE_PRIVATE), "{text}");
    assert!(text.contains("work"), "{text}");
}

#[test]
fn credential_source_display_names_the_source() {
    assert_eq!(
        CredentialSource::Explicit.to_string(),
        "explicit credentials"
    );
    assert!(CredentialSource::Environment
        .to_string()
        .contains("UCLOUD_PRIVATE_KEY"));
    assert_eq!(
        CredentialSource::SharedFile {
            path: CRED_FILE.into(),
            profile: "work".into()
        }
        .to_string(),
        format!("profile \"work\" of {CRED_FILE}")
    );
}

#[test]
fn signing_through_the_credentials_uses_public_key_and_token() {
    let creds = UCloudCredentials::new(
        "ucloudsomeone@example.com1296235120854146120",
        "46f09bb9fab4f12dfc160dae12273d5332b5debe",
    );
    let signed = creds.sign(vec![
        ("Action".into(), "DescribeUHostInstance".into()),
        ("Region".into(), "cn-bj2".into()),
        ("Limit".into(), "10".into()),
    ]);
    assert_eq!(
        signed.last().unwrap().1,
        "cba5cf5ec4d4233d206b1b54951e3787350a642f"
    );
}

#[test]
fn nothing_found_names_how_the_credential_file_was_chosen() {
    let env = StaticEnv::new()
        .with_home(HOME)
        .with_var("UCLOUD_SHARED_CREDENTIAL_FILE", "/nowhere/creds.json");
    let msg = UCloudChain::new().resolve(&env).unwrap_err().to_string();
    assert!(
        msg.contains("/nowhere/creds.json (from UCLOUD_SHARED_CREDENTIAL_FILE) (not found)"),
        "{msg}"
    );
    let msg = UCloudChain::new()
        .shared_credential_file("~/mine.json")
        .resolve(&env)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("/home/u/mine.json (given explicitly) (not found)"),
        "{msg}"
    );
}
