//! Declarative sharing: a TOML manifest says who each image must be shared with; `plan`
//! diffs it against the live sharees (add / remove / unchanged) and `apply` makes it so
//! through the limit checker. The manifest is planned and applied twice: the second round
//! has nothing to do and sends no request.
//!
//! ```sh
//! cargo run --example plan_apply                  # embedded emulator, the manifest below
//!
//! # real clouds: each listed cloud's credentials in the environment; regions come from
//! # the manifest. Without --yes it only plans.
//! cargo run --example plan_apply -- --manifest images.toml [--yes]
//! ```

#[path = "support/mod.rs"]
mod support;
use imageshare::testing::ConnectEmulator;
use imageshare::ClientBuilder;
use imageshare::ImageSharingExt;
use std::process::ExitCode;
use support::flag;

use imageshare::manifest::Manifest;
use imageshare::plan::{self, SharePlan};
use imageshare::{Connect, DynSharing, ImageId, ImageSharing, Principal};
use imageshare_emulator::{Emulator, World};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

/// The manifest used on the emulator (image ids of examples/world.toml).
const MANIFEST: &str = r#"
[[image]]
provider = "alibaba-ecs"
region = "cn-hangzhou"
id = "m-bp18ygjuqnwhechc"
share_with = ["100000000002", "200000000001"]

[[image]]
provider = "tencent-cvm"
region = "ap-guangzhou"
id = "img-6pb6lrmy"
share_with = ["100000000002"]
prune = true                # remove sharees not listed here

[[image]]
provider = "ucloud"
region = "cn-bj2"
id = "uimage-golden01"
share_with = ["org-d4e5f6", "org-g7h8i9"]
"#;

#[tokio::main]
async fn main() -> ExitCode {
    support::exit(run().await)
}

async fn run() -> Result<()> {
    let emulator = match flag("--manifest") {
        Some(path) => {
            println!("running against the real clouds, manifest {path}");
            None
        }
        None => {
            let emu = Emulator::start(World::example()).await?;
            println!(
                "no --manifest given: running on the embedded emulator at {} (world: \
                 examples/world.toml) with the manifest in this example",
                emu.base_url()
            );
            Some(emu)
        }
    };
    let manifest = match flag("--manifest") {
        Some(path) => Manifest::from_file(path)?,
        None => Manifest::parse(MANIFEST, "examples/plan_apply.rs")?,
    };

    let mut targets = Vec::new();
    for entry in &manifest.images {
        let mut c = Connect::new(entry.provider).region(entry.region.as_str());
        if let Some(emu) = &emulator {
            c = c.emulator(emu, "100000000001");
        }
        targets.push((c.build()?, entry));
    }

    if emulator.is_some() {
        // Someone shared the CVM image by hand earlier; the manifest prunes that grant.
        let (cvm, _) = targets
            .iter()
            .find(|(_, e)| e.id.as_str() == "img-6pb6lrmy")
            .expect("in manifest");
        cvm.share(
            &"img-6pb6lrmy".into(),
            &[Principal::account("200000000001")],
        )
        .await?;
        println!("(set-up: img-6pb6lrmy was shared by hand with 200000000001)");
    }

    for round in 1..=2 {
        println!("\n== round {round}: plan");
        let mut plans: Vec<(&DynSharing, SharePlan)> = Vec::new();
        for (sharing, entry) in &targets {
            let id = ImageId::from(entry.id.as_str());
            let p = plan::plan(sharing, &id, &entry.share_with, entry.prune).await?;
            println!(
                "   {:<18} {:<20} add [{}] remove [{}] unchanged [{}]",
                entry.provider.name(),
                entry.id,
                list(&p.add),
                list(&p.remove),
                list(&p.unchanged)
            );
            plans.push((sharing, p));
        }
        if emulator.is_none() && !std::env::args().any(|a| a == "--yes") {
            println!("\nplan only; run again with --yes to apply");
            return Ok(());
        }

        println!("== round {round}: apply");
        let calls_before = emulator.as_ref().map_or(0, |e| e.calls().len());
        let mut changed = 0;
        for (sharing, p) in &plans {
            let outcome = if p.is_noop() {
                "nothing to do".to_owned()
            } else {
                changed += 1;
                let done = plan::apply(*sharing, p).await?;
                let reports = [done.unshared, done.shared].into_iter().flatten();
                reports.map(|r| r.summary()).collect::<Vec<_>>().join(", ")
            };
            let provider = sharing.provider().name();
            println!("   {provider:<18} {:<20} {outcome}", p.image.as_str());
        }
        if let Some(emu) = &emulator {
            let sent = emu.calls().len() - calls_before;
            println!("   requests sent by apply (checker look-ups included): {sent}");
            if round == 2 && sent != 0 {
                return Err("the second apply sent requests; it must have nothing to do".into());
            }
        }
        if round == 2 && changed != 0 {
            return Err("the second apply changed something; apply must be idempotent".into());
        }
    }

    if let Some(emu) = &emulator {
        // The emulator's view agrees with the manifest.
        for entry in &manifest.images {
            let mut granted: Vec<String> = emu
                .grants(entry.id.as_str())
                .into_iter()
                .map(|g| g.principal)
                .collect();
            let mut wanted: Vec<String> =
                entry.share_with.iter().map(|p| p.id().to_owned()).collect();
            granted.sort();
            wanted.sort();
            if granted != wanted {
                return Err(format!("{}: grants {granted:?}, wanted {wanted:?}", entry.id).into());
            }
        }
        println!("\nthe emulator's grants match the manifest");
    }
    Ok(())
}

fn list(principals: &[Principal]) -> String {
    let ids: Vec<&str> = principals.iter().map(|p| p.id()).collect();
    ids.join(", ")
}
