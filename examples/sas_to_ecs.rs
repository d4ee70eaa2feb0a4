//! Migrate an Alibaba Simple Application Server (SAS) custom image to ECS and share it
//! onward from ECS, in one call: `imageshare::migrate::sas_to_ecs`. It prints every step the
//! flow took (`ModifyImageShareStatus`, the own ECS copy, the wait, the onward share) and
//! checks that the recipients are ECS sharees of the resulting image.
//!
//! ```sh
//! cargo run --example sas_to_ecs                  # embedded emulator
//!
//! # the real cloud: Alibaba credentials in the environment and a region (flag or variable)
//! ALIBABA_CLOUD_ACCESS_KEY_ID=... ALIBABA_CLOUD_ACCESS_KEY_SECRET=... \
//!   cargo run --example sas_to_ecs -- --region cn-hangzhou --image m-xxxxxxxx --to 1234567890
//! ```

#[path = "support/mod.rs"]
mod support;
use imageshare::testing::ConnectEmulator;
use imageshare::ClientBuilder;
use imageshare::ImageSharingExt;
use std::process::ExitCode;
use support::{cloud_region, flag};

use imageshare::alibaba::SasImageSharing;
use imageshare::migrate::{self, Wait};
use imageshare::{Connect, ImageId, Principal};
use imageshare_emulator::{Emulator, World};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

#[tokio::main]
async fn main() -> ExitCode {
    support::exit(run().await)
}

async fn run() -> Result<()> {
    let emulator;
    // `migrate::sas_to_ecs` needs the SAS adapter itself (for `share_to_ecs`), so SAS is
    // built with its own builder; ECS can be any adapter, here one from `Connect`.
    let (sas, ecs, image, to) = match cloud_region(imageshare::alibaba::SAS) {
        Some(region) => {
            println!("running against Alibaba Cloud in {region}, credentials from the environment");
            let image = flag("--image").ok_or("--image ID (a SAS custom image) is required")?;
            let to = flag("--to").ok_or("--to ACCOUNT[,ACCOUNT...] is required")?;
            let sas = SasImageSharing::from_env()?
                .region(region.as_str())
                .build()?;
            let ecs = Connect::new(imageshare::alibaba::ECS)
                .region(region)
                .build()?;
            let to = to
                .split(',')
                .map(|a| Principal::account(a.trim()))
                .collect();
            (sas, ecs, ImageId::from(image), to)
        }
        None => {
            emulator = Emulator::start(World::example()).await?;
            println!(
                "no Alibaba credentials and region in the environment: running on the embedded \
                 emulator at {} (world: examples/world.toml)",
                emulator.base_url()
            );
            let sas = Connect::new(imageshare::alibaba::SAS)
                .region("cn-hangzhou")
                .emulator(&emulator, "100000000001")
                .sas()?;
            let ecs = Connect::new(imageshare::alibaba::ECS)
                .region("cn-hangzhou")
                .emulator(&emulator, "100000000001")
                .build()?;
            let to = vec![Principal::account("100000000002")];
            (sas, ecs, ImageId::from("m-sas000000001"), to)
        }
    };

    let source = sas.image(&image).await?;
    println!(
        "\nSAS image {}: {} ({})",
        source.id, source.name, source.state
    );

    let report = migrate::sas_to_ecs(&sas, &ecs, &image, &to, Wait::default()).await?;
    for (n, step) in report.steps.iter().enumerate() {
        println!("{}. {}\n     -> {}", n + 1, step.action, step.result);
    }
    let shared = report
        .shared
        .as_ref()
        .ok_or("the flow did not share onward")?;
    for (who, outcome) in shared.iter() {
        println!("   {who}: {outcome}");
    }

    let sharees = ecs.sharees(&report.image).await?;
    if !to.iter().all(|p| sharees.iter().any(|s| &s.principal == p)) {
        return Err(format!("{} is not shared with every recipient in ECS", report.image).into());
    }
    println!(
        "\nECS image {} is shared with {} account(s); recipients launch ECS instances from it",
        report.image,
        sharees.len()
    );
    Ok(())
}
