//! Interop: the clouds' official STS clients and credential providers, unchanged, against
//! the emulator's STS on its one address; the temporary credentials they obtain then call
//! ECS / CVM on the emulator.
//!
//! - Alibaba (tests/interop/alibaba/sts.py): alibabacloud-sts20150401 AssumeRole (ACS3 and
//!   V2 signed), AssumeRoleWithOIDC (anonymous), GetCallerIdentity, then ECS
//!   DescribeImages with the STS credentials. The credential library's RAM-role-ARN and
//!   OIDC providers hard-code HTTPS and certifi's CA bundle, so they are not run (see the
//!   script's docs).
//! - Tencent (tests/interop/tencent/sts.py): tencentcloud-sdk-python-common's
//!   `CommonClient` making exactly the calls of `STSAssumeRoleCredential` (TC3-signed
//!   AssumeRole) and `OIDCRoleArnCredential` (AssumeRoleWithWebIdentity with
//!   `Authorization: SKIP`), then CVM DescribeImages. The providers themselves only speak
//!   HTTPS verified against certifi's bundle, so they are not run (see the script's docs).
//!
//! Runs when `IMAGESHARE_INTEROP_PYTHON` names a Python with tests/interop/*/requirements.txt
//! installed; otherwise it says why it skipped and passes.

#[path = "interop/support.rs"]
mod support;

use std::process::Command;

use imageshare_core::Site;
use imageshare_emulator::engine::sts::unsigned_jwt;
use imageshare_emulator::frontend::alibaba::sts::ALIBABA_STS;
use imageshare_emulator::frontend::tencent::sts::TENCENT_STS;
use imageshare_emulator::world::{Cloud, OidcProviderSeed, RoleSeed};
use imageshare_emulator::{Emulator, ImageSeed, World};

const OWNER: &str = "100000000001";
const CALLER: &str = "100000000002";
const ALI_PROVIDER: &str = "acs:ram::100000000001:oidc-provider/ci";
const TC_PROVIDER: &str = "ci-provider";
const ISS: &str = "https://issuer.example.com";

fn world() -> World {
    World::builder()
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
                .trust(&format!("oidc:{ALI_PROVIDER}")),
        )
        .role_seed(
            RoleSeed::new(Cloud::Tencent, OWNER, "deployer")
                .trust(CALLER)
                .trust(&format!("oidc:{TC_PROVIDER}")),
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
        .build()
        .expect("valid world")
}

fn jwt(aud: &str) -> String {
    let exp = imageshare_core::time::now_unix() + 600;
    unsigned_jwt(&serde_json::json!({"iss": ISS, "aud": aud, "sub": "ci", "exp": exp}))
}

async fn run(python: std::ffi::OsString, args: Vec<String>) -> String {
    let output = tokio::task::spawn_blocking(move || Command::new(python).args(args).output())
        .await
        .unwrap()
        .expect("run the interop script");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "interop script failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("interop: all checks passed"), "{stdout}");
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alibaba_official_sts_sdk_against_the_emulator() {
    let Some(python) = support::python("alibaba") else {
        return;
    };
    let emu = Emulator::start(world()).await.unwrap();
    let key = emu.account(CALLER).and_then(|a| a.keys.alibaba).unwrap();
    let args = vec![
        imageshare_tests::repo_path("tests/interop/alibaba/sts.py")
            .display()
            .to_string(),
        emu.base_url(),
        "--caller".into(),
        format!("{}:{}", key.id, key.secret),
        "--role-arn".into(),
        "acs:ram::100000000001:role/deployer".into(),
        "--provider-arn".into(),
        ALI_PROVIDER.into(),
        "--oidc-token".into(),
        jwt("sts.aliyuncs.com"),
    ];
    run(python, args).await;
    assert_eq!(emu.action_count(ALIBABA_STS, "AssumeRole"), 3);
    assert_eq!(emu.action_count(ALIBABA_STS, "AssumeRoleWithOIDC"), 1);
    let ecs: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| c.action == "DescribeImages")
        .collect();
    assert_eq!(ecs.len(), 3);
    assert!(ecs
        .iter()
        .all(|c| c.error.is_none() && c.account.as_deref() == Some(OWNER) && c.session.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_official_credential_providers_against_the_emulator() {
    let Some(python) = support::python("tencent") else {
        return;
    };
    let emu = Emulator::start(world()).await.unwrap();
    let key = emu.account(CALLER).and_then(|a| a.keys.tencent).unwrap();
    let args = vec![
        imageshare_tests::repo_path("tests/interop/tencent/sts.py")
            .display()
            .to_string(),
        emu.base_url(),
        "--caller".into(),
        format!("{}:{}", key.id, key.secret),
        "--role-arn".into(),
        "qcs::cam::uin/100000000001:roleName/deployer".into(),
        "--provider-id".into(),
        TC_PROVIDER.into(),
        "--oidc-token".into(),
        jwt("tke"),
    ];
    run(python, args).await;
    assert_eq!(emu.action_count(TENCENT_STS, "AssumeRole"), 2);
    assert_eq!(emu.action_count(TENCENT_STS, "GetCallerIdentity"), 1);
    assert_eq!(
        emu.action_count(TENCENT_STS, "AssumeRoleWithWebIdentity"),
        1
    );
    let cvm: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| c.action == "DescribeImages")
        .collect();
    assert_eq!(cvm.len(), 2);
    assert!(cvm
        .iter()
        .all(|c| c.error.is_none() && c.account.as_deref() == Some(OWNER)));
}
