//! Share a golden image with several accounts (UCloud: projects) on one provider: the
//! per-principal report, an idempotent re-run, the sharee list, a request the limit checker
//! refuses before anything is sent, and unsharing what this run granted.
//!
//! ```sh
//! cargo run --example share_across_accounts                          # embedded emulator, Alibaba ECS
//! cargo run --example share_across_accounts -- --provider ucloud     # any provider, on the emulator
//!
//! # the real cloud: its credentials in the environment and a region (flag or variable)
//! TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=... \
//!   cargo run --example share_across_accounts -- --provider tencent-cvm \
//!     --region ap-guangzhou --image img-xxxxxxxx --to 100000000002,100000000003
//! ```
//!
//! Providers: alibaba-ecs, alibaba-sas, tencent-cvm, tencent-lighthouse, ucloud. Against a
//! real cloud the run leaves the image as it found it: it unshares only the grants it made.

#[path = "support/mod.rs"]
mod support;
use imageshare::testing::ConnectEmulator;
use imageshare::ClientBuilder;
use imageshare::ImageSharingExt;
use std::process::ExitCode;
use support::{cloud_region, expect, flag};

use imageshare::{
    Connect, ImageId, ImageSharing, Principal, PrincipalKind, Provider, ShareOutcome,
};
use imageshare_emulator::{Emulator, World};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

#[tokio::main]
async fn main() -> ExitCode {
    support::exit(run().await)
}

async fn run() -> Result<()> {
    let provider: Provider = flag("--provider")
        .as_deref()
        .unwrap_or("alibaba-ecs")
        .parse()?;
    let emulator;
    let (sharing, image, to): (_, _, Vec<Principal>) = match cloud_region(provider) {
        Some(region) => {
            println!("running against {provider} in {region}, credentials from the environment");
            let image = flag("--image").ok_or("--image ID is required against a real cloud")?;
            let to = flag("--to").ok_or("--to ID[,ID...] is required against a real cloud")?;
            let to = to.split(',').map(|id| principal(provider, id)).collect();
            let sharing = Connect::new(provider).region(region).build()?;
            (sharing, ImageId::from(image), to)
        }
        None => {
            emulator = Emulator::start(World::example()).await?;
            println!(
                "no {provider} credentials and region in the environment: running on the \
                 embedded emulator at {} (world: examples/world.toml)",
                emulator.base_url()
            );
            let (region, image, to) = golden_image_of_the_example_world(provider);
            let sharing = Connect::new(provider)
                .region(region)
                .emulator(&emulator, "100000000001")
                .build()?;
            let to = to.iter().map(|id| principal(provider, id)).collect();
            (sharing, ImageId::from(image), to)
        }
    };

    let img = sharing.image(&image).await?;
    println!(
        "\n1. image {}: {} ({}, {})",
        img.id, img.name, img.kind, img.state
    );

    // The limit checker (in front of every adapter Connect builds) dedupes the principals,
    // skips those already granted and batches the rest by the provider's per-call maximum.
    let report = sharing.share(&image, &to).await?;
    println!("2. share:");
    for (who, outcome) in report.iter() {
        println!("     {who}: {outcome}");
    }
    let granted: Vec<Principal> = report
        .iter()
        .filter(|(_, o)| matches!(o, ShareOutcome::Granted))
        .map(|(p, _)| p.clone())
        .collect();

    let again = sharing.share(&image, &to).await?;
    println!("3. the same share again: {}", again.summary());
    expect(
        again.count(imageshare::OutcomeKind::AlreadyGranted) == again.len(),
        "a re-run grants nothing new",
    )?;

    let sharees = sharing.sharees(&image).await?;
    let names: Vec<String> = sharees.iter().map(|s| s.principal.to_string()).collect();
    println!("4. sharees: {}", names.join(", "));
    expect(
        to.iter().all(|p| sharees.iter().any(|s| &s.principal == p)),
        "every principal is listed as a sharee",
    )?;

    // One principal more than the provider allows per image (or, where it publishes no
    // maximum, a principal of the wrong kind): refused with Error::Limit, no share is sent.
    let limits = sharing.limits();
    let one_too_many: Vec<Principal> = match limits.max_sharees_per_image {
        Some(max) => (0..=max.saturating_sub(sharees.len()) as u64)
            .map(|n| match limits.principal_kind {
                PrincipalKind::Project => Principal::project(format!("org-bulk{n}")),
                _ => Principal::account((300_000_000_000 + n).to_string()),
            })
            .collect(),
        None => vec![Principal::project("org-d4e5f6")],
    };
    let err = sharing
        .share(&image, &one_too_many)
        .await
        .err()
        .ok_or("the limit checker let an impossible share through")?;
    let violation = err
        .as_limit()
        .ok_or_else(|| format!("not a limit: {err}"))?;
    println!("5. {} more principals refused: {err}", one_too_many.len());
    println!("     rule {}, limit {}", violation.rule, violation.limit);

    if granted.is_empty() {
        println!("6. nothing to unshare: every principal had a grant before this run");
    } else {
        let report = sharing.unshare(&image, &granted).await?;
        println!("6. unshare what this run granted: {}", report.summary());
        let left = sharing.sharees(&image).await?;
        expect(
            !left.iter().any(|s| granted.contains(&s.principal)),
            "unshared principals are gone from the sharee list",
        )?;
    }
    Ok(())
}

/// An account id, or on UCloud a project id.
fn principal(provider: Provider, id: &str) -> Principal {
    match imageshare::limits_of(provider).map(|l| l.principal_kind) {
        Some(PrincipalKind::Project) => Principal::project(id.trim()),
        _ => Principal::account(id.trim()),
    }
}

/// Region, golden image and recipients of `provider` in examples/world.toml. SAS and
/// Lighthouse refuse China-site to international-site sharing, so they get one recipient.
fn golden_image_of_the_example_world(
    provider: Provider,
) -> (&'static str, &'static str, &'static [&'static str]) {
    match provider {
        imageshare::alibaba::ECS => (
            "cn-hangzhou",
            "m-bp18ygjuqnwhechc",
            &["100000000002", "200000000001"],
        ),
        imageshare::alibaba::SAS => ("cn-hangzhou", "m-sas000000001", &["100000000002"]),
        imageshare::tencent::CVM => (
            "ap-guangzhou",
            "img-6pb6lrmy",
            &["100000000002", "200000000001"],
        ),
        imageshare::tencent::LIGHTHOUSE => ("ap-guangzhou", "lhbp-6jc6l8yb", &["100000000002"]),
        _ => ("cn-bj2", "uimage-golden01", &["org-d4e5f6", "org-g7h8i9"]),
    }
}
