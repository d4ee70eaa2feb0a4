//! `apply` over many images through the bulk engine: every image of a manifest applied
//! (unshare, then share), one refused image reported with its error and the exit status
//! of the first failure, the others applied anyway, and a second apply a no-op.

use std::collections::BTreeSet;
use std::process::{Command, Output};

use imageshare::core::Site;
use imageshare_emulator::world::{Encrypted, ImageSeed};
use imageshare_emulator::{Emulator, World};

const OWNER: &str = "100000000001";

fn run(args: &[&str], emu: &Emulator) -> Output {
    let home = std::env::temp_dir().join(format!("imageshare-bulk-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let k = emu.account(OWNER).unwrap().keys;
    let (t, a) = (k.tencent.unwrap(), k.alibaba.unwrap());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imageshare"));
    cmd.args(args)
        .env_clear()
        .env("HOME", &home)
        .env("TENCENTCLOUD_SECRET_ID", t.id)
        .env("TENCENTCLOUD_SECRET_KEY", t.secret)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", a.id)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", a.secret)
        .env("IMAGESHARE_ENDPOINT", emu.base_url());
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    cmd.output().unwrap()
}

fn peers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("5000000000{i:02}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_many_images_reports_each_and_fails_with_the_first_error() {
    let mut b = World::builder().account(OWNER, Site::China);
    for p in peers(14) {
        b = b.account(&p, Site::China);
    }
    let stale = &peers(14)[12..];
    let stale: Vec<&str> = stale.iter().map(String::as_str).collect();
    for i in 0..6 {
        b = b
            .image(
                ImageSeed::new(
                    imageshare::tencent::CVM,
                    &format!("img-apply{i}"),
                    OWNER,
                    "ap-guangzhou",
                )
                .shared_with(&stale),
            )
            .image(ImageSeed::new(
                imageshare::alibaba::ECS,
                &format!("m-apply{i}"),
                OWNER,
                "cn-hangzhou",
            ));
    }
    b = b.image(
        ImageSeed::new(
            imageshare::tencent::CVM,
            "img-locked",
            OWNER,
            "ap-guangzhou",
        )
        .encrypted(Encrypted::Cmk),
    );
    let emu = Emulator::start(b.build().unwrap()).await.unwrap();

    let want: Vec<String> = peers(12);
    let list = want
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut manifest = String::new();
    for i in 0..6 {
        manifest.push_str(&format!(
            "[[image]]\nprovider = \"tencent-cvm\"\nregion = \"ap-guangzhou\"\nid = \"img-apply{i}\"\nshare_with = [{list}]\nprune = true\n\n\
             [[image]]\nprovider = \"alibaba-ecs\"\nregion = \"cn-hangzhou\"\nid = \"m-apply{i}\"\nshare_with = [{list}]\n\n"
        ));
    }
    manifest.push_str(&format!(
        "[[image]]\nprovider = \"tencent-cvm\"\nregion = \"ap-guangzhou\"\nid = \"img-locked\"\nshare_with = [{list}]\n"
    ));
    let dir = std::env::temp_dir().join(format!("imageshare-bulk-apply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("images.toml");
    std::fs::write(&path, manifest).unwrap();
    let f = path.to_str().unwrap();

    let o = run(&["--output", "json", "apply", "-f", f, "--yes"], &emu);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    // The checker refused one image before sending (CBS DescribeSnapshots reports it
    // encrypted, #17 bug 8a): status 3, its error in the output, the others applied.
    assert_eq!(o.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stderr.contains("img-locked is encrypted"), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let entries = v["results"].as_array().unwrap();
    // 6 CVM images: unshare (prune) + share; 6 ECS: share; the locked one: its error.
    assert_eq!(entries.len(), 6 * 2 + 6 + 1, "{stdout}");
    let locked: Vec<_> = entries
        .iter()
        .filter(|e| e["image"] == "img-locked")
        .collect();
    assert_eq!(locked.len(), 1);
    assert!(locked[0]["error"]
        .as_str()
        .unwrap()
        .contains("img-locked is encrypted"));
    assert_eq!(locked[0]["code"], "encrypted-image");
    assert_eq!(locked[0]["operation"], "share");
    assert_eq!(locked[0]["provider"], "tencent-cvm");
    // Each step says what it did per principal, and its retries (none here: no faults).
    for e in entries {
        assert!(e["results"].is_array(), "{e}");
        assert_eq!(e["retries"], serde_json::json!([]), "{e}");
        assert_eq!(e["retry_passes"], 0, "{e}");
    }
    let unshares = entries
        .iter()
        .filter(|e| e["operation"] == "unshare")
        .count();
    assert_eq!(unshares, 6);
    // The job's retries: the plan's reads and the apply's calls, none failed.
    assert_eq!(v["schema"], "imageshare/apply/v1", "{stdout}");
    assert_eq!(v["applied"], true, "{stdout}");
    assert_eq!(
        v["retries"]["plan"]["by_action"],
        serde_json::json!([]),
        "{stdout}"
    );
    assert_eq!(v["retries"]["plan"]["retried"]["throttled"], 0, "{stdout}");
    assert_eq!(v["retries"]["apply"]["retried"]["throttled"], 0, "{stdout}");
    assert_eq!(v["retries"]["apply"]["retry_passes"], 0, "{stdout}");
    let want_set: BTreeSet<String> = want.iter().cloned().collect();
    for i in 0..6 {
        for id in [format!("img-apply{i}"), format!("m-apply{i}")] {
            let g = emu.grants(&id);
            let set: BTreeSet<String> = g.iter().map(|g| g.principal.clone()).collect();
            assert_eq!(set.len(), g.len(), "{id}: duplicate grant");
            assert_eq!(set, want_set, "{id}");
        }
    }
    assert!(emu.grants("img-locked").is_empty());

    // Only the refused image is left to do.
    let o = run(&["plan", "-f", f], &emu);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("12 to share, 0 to unshare"), "{text}");
}
