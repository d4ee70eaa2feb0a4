//! Move a Tencent CVM custom image to Lighthouse and share the blueprint across accounts,
//! in one call: `imageshare::migrate::cvm_to_lighthouse` (`DescribeImagesToShare` says the
//! image is eligible, Lighthouse `ModifyImageSharePermission` makes the blueprint, then the
//! blueprint is shared). Then the other direction: Tencent publishes no Lighthouse -> CVM
//! API, so `migrate::lighthouse_to_cvm` fails with a typed `Error::Unsupported` that says
//! what to do instead, and sends nothing.
//!
//! ```sh
//! cargo run --example cvm_to_lighthouse           # embedded emulator
//!
//! # the real cloud: Tencent credentials in the environment and a region (flag or variable)
//! TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=... \
//!   cargo run --example cvm_to_lighthouse -- --region ap-guangzhou \
//!     --image img-xxxxxxxx --to 100000000002
//! ```

#[path = "support/mod.rs"]
mod support;
use imageshare::testing::ConnectEmulator;
use imageshare::ClientBuilder;
use std::process::ExitCode;
use support::{cloud_region, flag};

use imageshare::migrate::{self, Wait};
use imageshare::tencent::TencentLighthouseImageSharing;
use imageshare::Connect;
use imageshare::{Error, ImageId, Principal};
use imageshare_emulator::{Emulator, World};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

#[tokio::main]
async fn main() -> ExitCode {
    support::exit(run().await)
}

async fn run() -> Result<()> {
    let emulator;
    // The flows need the Lighthouse adapter itself (for its CVM operations), so it is built
    // with its own builder rather than `imageshare::Connect`.
    let (lighthouse, image, to) = match cloud_region(imageshare::tencent::CVM) {
        Some(region) => {
            println!("running against Tencent Cloud in {region}, credentials from the environment");
            let image = flag("--image").ok_or("--image ID (a CVM custom image) is required")?;
            let to = flag("--to").ok_or("--to ACCOUNT[,ACCOUNT...] is required")?;
            let lighthouse = TencentLighthouseImageSharing::from_env()?
                .region(region.as_str())
                .build()?;
            let to = to
                .split(',')
                .map(|a| Principal::account(a.trim()))
                .collect();
            (lighthouse, ImageId::from(image), to)
        }
        None => {
            emulator = Emulator::start(World::example()).await?;
            println!(
                "no Tencent credentials and region in the environment: running on the embedded \
                 emulator at {} (world: examples/world.toml)",
                emulator.base_url()
            );
            let lighthouse = Connect::new(imageshare::tencent::LIGHTHOUSE)
                .region("ap-guangzhou")
                .emulator(&emulator, "100000000001")
                .lighthouse()?;
            let to = vec![Principal::account("100000000002")];
            (lighthouse, ImageId::from("img-6pb6lrmy"), to)
        }
    };

    println!(
        "\nCVM image {image} -> Lighthouse blueprint -> shared with {} account(s)",
        to.len()
    );
    let report = migrate::cvm_to_lighthouse(&lighthouse, &image, &to, Wait::default()).await?;
    for (n, step) in report.steps.iter().enumerate() {
        println!("{}. {}\n     -> {}", n + 1, step.action, step.result);
    }
    let shared = report
        .shared
        .as_ref()
        .ok_or("the flow did not share the blueprint")?;
    for (who, outcome) in shared.iter() {
        println!("   {who}: {outcome}");
    }
    if shared.count(imageshare::OutcomeKind::Granted)
        + shared.count(imageshare::OutcomeKind::AlreadyGranted)
        != to.len()
    {
        return Err(format!("blueprint {} not shared with everyone", report.image).into());
    }

    println!("\nLighthouse blueprint {} -> CVM", report.image);
    match migrate::lighthouse_to_cvm(&lighthouse, &report.image).await {
        Err(Error::Unsupported {
            operation, reason, ..
        }) => {
            println!("   unsupported: {operation}\n   {reason}");
            Ok(())
        }
        Err(other) => Err(format!("expected Error::Unsupported, got: {other}").into()),
        Ok(id) => Err(format!("Lighthouse -> CVM has no public API, yet it made {id}").into()),
    }
}
