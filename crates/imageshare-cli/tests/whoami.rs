//! `imageshare whoami`, `--assume-role` and manifest identities (#14) through the binary,
//! against the emulator's STS: the caller's keys assume a role of the owner's account, the
//! commands act as that account, and the audit trail names the identity that acted.

mod common;

use common::{fresh_dir, run_async, stderr, stdout, strings};
use imageshare::core::audit::{AuditLog, AuditOutcome};
use imageshare::core::Site;
use imageshare_emulator::frontend::tencent::sts::TENCENT_STS;
use imageshare_emulator::world::{Cloud, RoleSeed};
use imageshare_emulator::{Emulator, ImageSeed, World};
use serde_json::Value;

const OWNER: &str = "100000000001";
const CALLER: &str = "100000000002";
const FRIEND: &str = "100000000003";
const ROLE: &str = "qcs::cam::uin/100000000001:roleName/publisher";

async fn emulator() -> Emulator {
    let world = World::builder()
        .account(OWNER, Site::China)
        .account(CALLER, Site::China)
        .account(FRIEND, Site::China)
        .role_seed(RoleSeed::new(Cloud::Tencent, OWNER, "publisher").trust(CALLER))
        .image(ImageSeed::new(
            imageshare::tencent::CVM,
            "img-owned001",
            OWNER,
            "ap-guangzhou",
        ))
        .build()
        .unwrap();
    Emulator::start(world).await.unwrap()
}

/// The caller's Tencent keys, the emulator as endpoint and STS endpoint.
fn caller_env(emu: &Emulator) -> Vec<(String, String)> {
    let k = emu.account(CALLER).unwrap().keys.tencent.unwrap();
    [
        ("TENCENTCLOUD_SECRET_ID", k.id),
        ("TENCENTCLOUD_SECRET_KEY", k.secret),
        ("IMAGESHARE_ENDPOINT", emu.base_url()),
        ("IMAGESHARE_STS_ENDPOINT", emu.base_url()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_prints_the_account_the_credentials_act_as() {
    let emu = emulator().await;
    let home = fresh_dir("whoami");
    let base = ["--provider", "tencent-cvm", "--region", "ap-guangzhou"];

    // The caller's own keys.
    let o = run_async(
        home.clone(),
        strings(&[&base[..], &["whoami", "--output", "json"]].concat()),
        caller_env(&emu),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let rows = v["identities"].as_array().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["provider"], "tencent-cvm");
    assert_eq!(rows[0]["account"], CALLER);
    assert!(
        rows[0]["source"]
            .as_str()
            .unwrap()
            .contains("TENCENTCLOUD_SECRET_ID"),
        "{v}"
    );
    assert!(
        rows[0]["expires"].is_null(),
        "long-term keys do not expire: {v}"
    );

    // ... assuming the owner's role: the role's account, with an expiry.
    let o = run_async(
        home.clone(),
        strings(
            &[
                &base[..],
                &[
                    "--assume-role",
                    ROLE,
                    "--role-session-name",
                    "ci-run",
                    "whoami",
                ],
            ]
            .concat(),
        ),
        caller_env(&emu),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains(OWNER) && text.contains("ci-run"), "{text}");
    assert!(
        text.contains(&format!("role {ROLE} assumed with")),
        "{text}"
    );
    assert_eq!(emu.action_count(TENCENT_STS, "AssumeRole"), 1);

    // A role that does not trust the caller: exit 4, saying which source failed.
    let o = run_async(
        home.clone(),
        strings(
            &[
                &base[..],
                &[
                    "--assume-role",
                    "qcs::cam::uin/100000000001:roleName/nobody",
                    "whoami",
                ],
            ]
            .concat(),
        ),
        caller_env(&emu),
    )
    .await;
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("nobody"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_entry_with_a_role_is_applied_as_that_role_and_audited_so() {
    let emu = emulator().await;
    let home = fresh_dir("whoami-manifest");
    let manifest = home.join("m.toml");
    std::fs::write(
        &manifest,
        format!(
            "[[image]]\nprovider = \"tencent-cvm\"\nregion = \"ap-guangzhou\"\nid = \"img-owned001\"\nshare_with = [\"{FRIEND}\"]\nrole = \"{ROLE}\"\n"
        ),
    )
    .unwrap();
    let trail = home.join("audit.jsonl");
    let o = run_async(
        home.clone(),
        vec![
            "--audit-log".into(),
            trail.display().to_string(),
            "apply".into(),
            "-f".into(),
            manifest.display().to_string(),
            "--yes".into(),
        ],
        caller_env(&emu),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let grants: Vec<String> = emu
        .grants("img-owned001")
        .into_iter()
        .map(|g| g.principal)
        .collect();
    assert_eq!(grants, [FRIEND]);
    let records = AuditLog::read(&trail).unwrap();
    let granted: Vec<_> = records
        .iter()
        .filter(|r| r.outcome == AuditOutcome::Granted)
        .collect();
    assert_eq!(granted.len(), 1, "{records:?}");
    let identity = granted[0].identity.as_deref().unwrap_or_default();
    assert!(
        identity.contains(ROLE),
        "the trail names the role: {identity:?}"
    );
}
