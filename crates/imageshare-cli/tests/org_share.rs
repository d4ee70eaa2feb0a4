//! Organisation sharing from the CLI, through the emulator's Resource Sharing and
//! resource directory: `share --to folder:fd-...` (no flag needed), what members see,
//! `sharees` with --resource-sharing, `unshare`, and a manifest with organisation
//! principals through `plan` / `apply` (adding, no change on a re-run, pruning), with
//! what is refused before anything is sent; community images (`publish` / `unpublish`).

mod common;

use common::*;
use imageshare::core::Site;
use imageshare_emulator::frontend::alibaba::resource_sharing::ALIBABA_RESOURCE_SHARING;
use imageshare_emulator::world::{DirectorySeed, Encrypted};
use imageshare_emulator::{Emulator, ImageSeed, World};

const REGION: &str = "cn-hangzhou";
const IMAGE: &str = "m-orgcli00001";
/// A member in fd-Prod.
const PROD: &str = "100000000002";
/// A member in fd-Dev.
const DEV: &str = "100000000004";

fn world() -> World {
    let mut b = World::builder();
    for id in [OWNER, PROD, "100000000003", DEV] {
        b = b.account(id, Site::China);
    }
    let ecs = |id: &str| ImageSeed::new(imageshare::alibaba::ECS, id, OWNER, REGION);
    b.image(ecs(IMAGE))
        .image(ecs("m-orgcmk00001").encrypted(Encrypted::Cmk))
        .resource_directory(
            DirectorySeed::new("rd-CliOrg", OWNER)
                .folder("fd-Prod", None)
                .folder("fd-Dev", None)
                .member(PROD, Some("fd-Prod"))
                .member(DEV, Some("fd-Dev")),
        )
        .build()
        .unwrap()
}

/// The environment of `account` (its Alibaba keys, the emulator as endpoint).
fn env_of(emu: &Emulator, account: &str) -> Vec<(String, String)> {
    let a = emu.account(account).unwrap().keys.alibaba.unwrap();
    vec![
        ("ALIBABA_CLOUD_ACCESS_KEY_ID".into(), a.id),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET".into(), a.secret),
        ("IMAGESHARE_ENDPOINT".into(), emu.base_url()),
    ]
}

async fn run(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(String, String)],
) -> std::process::Output {
    let mut all = strings(&["--no-audit", "-p", "alibaba-ecs", "-r", REGION]);
    all.extend(strings(args));
    run_async(dir.to_owned(), all, env.to_vec()).await
}

/// Whether `account` sees IMAGE in `shared-with-me`.
async fn sees(emu: &Emulator, dir: &std::path::Path, account: &str) -> bool {
    let o = run(
        dir,
        &["-o", "json", "shared-with-me"],
        &env_of(emu, account),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stdout(&o).contains(IMAGE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_sharees_and_unshare_a_folder() {
    let emu = Emulator::start(world()).await.unwrap();
    let dir = fresh_dir("org-share");
    let env = env_of(&emu, OWNER);

    let o = run(&dir, &["share", IMAGE, "--to", "folder:fd-Prod"], &env).await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(
        emu.action_count(ALIBABA_RESOURCE_SHARING, "CreateResourceShare"),
        1
    );
    assert!(sees(&emu, &dir, PROD).await);
    assert!(!sees(&emu, &dir, DEV).await);

    // sharees lists the folder with --resource-sharing, and reads nothing of Resource
    // Sharing without it.
    let o = run(&dir, &["--resource-sharing", "sharees", IMAGE], &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("folder:fd-Prod"), "{}", stdout(&o));
    let reads = emu.action_count(ALIBABA_RESOURCE_SHARING, "ListResourceShares");
    let o = run(&dir, &["sharees", IMAGE], &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stdout(&o).contains("fd-Prod"), "{}", stdout(&o));
    assert_eq!(
        emu.action_count(ALIBABA_RESOURCE_SHARING, "ListResourceShares"),
        reads
    );

    let o = run(&dir, &["unshare", IMAGE, "--from", "folder:fd-Prod"], &env).await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert!(!sees(&emu, &dir, PROD).await);
    assert_eq!(
        emu.action_count(ALIBABA_RESOURCE_SHARING, "DisassociateResourceShare"),
        1
    );

    // Refused before anything is sent: a malformed folder id, and a folder on a
    // provider without organisation sharing.
    let before = emu.calls().len();
    let o = run(&dir, &["share", IMAGE, "--to", "folder:prod"], &env).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("fd-"), "{}", stderr(&o));
    let mut sas = strings(&["--no-audit", "-p", "alibaba-sas", "-r", REGION]);
    sas.extend(strings(&[
        "share",
        "m-sas0000001",
        "--to",
        "folder:fd-Prod",
    ]));
    let o = run_async(dir.clone(), sas, env.clone()).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("organisation sharing"),
        "{}",
        stderr(&o)
    );
    assert_eq!(emu.calls().len(), before, "{:?}", writes(&emu.calls()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_apply_manage_organisation_principals() {
    let emu = Emulator::start(world()).await.unwrap();
    let dir = fresh_dir("org-manifest");
    let env = env_of(&emu, OWNER);
    let file = dir.join("images.toml");
    let write = |share_with: &str| {
        std::fs::write(
            &file,
            format!(
                "[[image]]\nprovider = \"alibaba-ecs\"\nregion = \"{REGION}\"\nid = \"{IMAGE}\"\n\
                 share_with = [{share_with}]\nprune = true\n"
            ),
        )
        .unwrap();
    };
    let f = file.to_str().unwrap();
    write("\"folder:fd-Prod\", \"member:100000000004\", \"100000000003\"");

    let o = run(
        &dir,
        &["--resource-sharing", "plan", "--detailed-exitcode", "-f", f],
        &env,
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("folder:fd-Prod"), "{}", stdout(&o));
    let o = run(
        &dir,
        &["--resource-sharing", "apply", "--yes", "-f", f],
        &env,
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert!(sees(&emu, &dir, PROD).await);
    assert!(sees(&emu, &dir, DEV).await);
    assert_eq!(
        emu.grants(IMAGE).len(),
        1,
        "the account through the image's own list"
    );

    // A re-run has nothing to do.
    let o = run(
        &dir,
        &["--resource-sharing", "plan", "--detailed-exitcode", "-f", f],
        &env,
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let writes_before = writes(&emu.calls()).len();
    let o = run(
        &dir,
        &["--resource-sharing", "apply", "--yes", "-f", f],
        &env,
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(writes(&emu.calls()).len(), writes_before);

    // Dropping the folder prunes it (DisassociateResourceShare); the member stays.
    write("\"member:100000000004\", \"100000000003\"");
    let o = run(
        &dir,
        &["--resource-sharing", "apply", "--yes", "-f", f],
        &env,
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert!(!sees(&emu, &dir, PROD).await);
    assert!(sees(&emu, &dir, DEV).await);
    assert_eq!(emu.with_engine(|e| e.resource_shares().count()), 1);

    // Without --resource-sharing an organisation principal is refused before anything is
    // sent (the adapter has no organisation sharing).
    let before = emu.calls().len();
    let o = run(&dir, &["plan", "-f", f], &env).await;
    assert_eq!(o.status.code(), Some(3), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("organisation sharing"),
        "{}",
        stderr(&o)
    );
    // The CLI's flag, not the library's call.
    let err = stderr(&o);
    assert!(
        err.contains("(Alibaba ECS with Resource Sharing on: --resource-sharing)"),
        "{err}"
    );
    assert!(!err.contains("::"), "{err}");
    assert!(writes(&emu.calls()[before..]).is_empty());

    // A folder on a provider without organisation sharing: refused at load, naming the
    // field.
    std::fs::write(
        &file,
        "[[image]]\nprovider = \"tencent-cvm\"\nregion = \"ap-guangzhou\"\n\
         id = \"img-6pb6lrmy\"\nshare_with = [\"folder:fd-Prod\"]\n",
    )
    .unwrap();
    let o = run(&dir, &["plan", "-f", f], &env).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("share_with[0]"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no organisation sharing"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_needs_confirmation_and_unpublish_sends_is_public_false() {
    let emu = Emulator::start(world()).await.unwrap();
    let dir = fresh_dir("org-publish");
    let env = env_of(&emu, OWNER);
    let modify = || emu.action_count(imageshare::alibaba::ECS, "ModifyImageSharePermission");

    // Refused before anything is sent: no confirmation, an encrypted image, another
    // provider.
    let o = run(&dir, &["publish", IMAGE], &env).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--everyone-in-the-region"),
        "{}",
        stderr(&o)
    );
    let o = run(
        &dir,
        &["publish", "m-orgcmk00001", "--everyone-in-the-region"],
        &env,
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("encrypted"), "{}", stderr(&o));
    let mut cvm = strings(&["--no-audit", "-p", "tencent-cvm", "-r", "ap-guangzhou"]);
    cvm.extend(strings(&["unpublish", "img-6pb6lrmy"]));
    let o = run_async(dir.clone(), cvm, env.clone()).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(modify(), 0);

    // Sent: the emulator's accounts have not signed the community-image terms, and the
    // cloud's code comes back (status 1).
    let o = run(
        &dir,
        &["-o", "json", "publish", IMAGE, "--everyone-in-the-region"],
        &env,
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("PublicImageAgreement.NotSigned"),
        "{}",
        stderr(&o)
    );
    assert_eq!(modify(), 1);

    // Sent: the image is not a community image, and the cloud says so (status 1). A
    // successful unpublish is in tests/community.rs.
    let o = run(&dir, &["-o", "json", "unpublish", IMAGE], &env).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("Image.NotPublic"), "{}", stderr(&o));
    assert_eq!(modify(), 2);
}
