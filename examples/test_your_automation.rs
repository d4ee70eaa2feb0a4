//! The mocked-test use case: test your own image-sharing automation against the embedded
//! emulator, with no cloud account and no network, and assert on what the "cloud" saw
//! through the emulator's inspection API (grants, calls per action, faults served).
//!
//! `share_golden_image` below stands for your code. It takes `&dyn ImageSharing`, so
//! production passes an adapter from `imageshare::connect` and tests pass one pointed at
//! the emulator. The `test_*` functions are what you would write in your own `tests/`
//! (each with `#[tokio::test]`); here `main` runs them in turn, and a failed assertion
//! exits non-zero.
//!
//! ```sh
//! cargo run --example test_your_automation        # the tests, on the embedded emulator
//!
//! # the same function against real Tencent CVM: credentials and a region in the environment
//! TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=... \
//!   cargo run --example test_your_automation -- --region ap-guangzhou \
//!     --image img-xxxxxxxx --to 100000000002,100000000003
//! ```

#[path = "support/mod.rs"]
mod support;
use imageshare::tencent::TencentCredentials;
use imageshare::ClientBuilder;
use imageshare::ImageSharingExt;
use imageshare::LimitRule;
use imageshare::{Connect, DynSharing, Error, ImageId, ImageSharing, Principal, ShareOutcome};
use imageshare_emulator::{Emulator, FaultKind, FaultPlan, FaultRule, World};
use support::{cloud_region, flag};

// ---- your automation ---------------------------------------------------------------------

/// Shares `image` with every account, checks that the grants took, and returns the
/// accounts that got a new grant (a re-run returns none).
async fn share_golden_image(
    sharing: &dyn ImageSharing,
    image: &ImageId,
    accounts: &[&str],
) -> imageshare::Result<Vec<String>> {
    let to: Vec<Principal> = accounts.iter().map(|a| Principal::account(*a)).collect();
    let report = sharing.share(image, &to).await?;
    let sharees = sharing.sharees(image).await?;
    if let Some(missing) = to
        .iter()
        .find(|p| !sharees.iter().any(|s| &s.principal == *p))
    {
        return Err(Error::invalid_input(
            "accounts",
            format!("{missing} is not a sharee of {image} after sharing"),
        ));
    }
    Ok(report
        .iter()
        .filter(|(_, outcome)| matches!(outcome, ShareOutcome::Granted))
        .map(|(who, _)| who.id().to_owned())
        .collect())
}

// ---- your tests --------------------------------------------------------------------------

const GOLDEN: &str = "img-6pb6lrmy"; // in examples/world.toml, owned by 100000000001
const ACCOUNTS: [&str; 2] = ["100000000002", "200000000001"];
const SHARE_ACTION: &str = "ModifyImageSharePermission";

/// A fresh emulator of the example world, and a CVM adapter signed in as the image owner.
async fn emulator_and_cvm() -> (Emulator, DynSharing) {
    let emu = Emulator::start(World::example())
        .await
        .expect("emulator starts");
    let key = emu.account("100000000001").unwrap().keys.tencent.unwrap();
    let cvm = Connect::new(imageshare::tencent::CVM)
        .endpoint(emu.base_url())
        .region("ap-guangzhou")
        .credentials(TencentCredentials::new(key.id, key.secret))
        .build()
        .expect("adapter builds");
    (emu, cvm)
}

async fn test_shares_with_every_account_in_one_call() {
    let (emu, cvm) = emulator_and_cvm().await;
    let new = share_golden_image(&cvm, &GOLDEN.into(), &ACCOUNTS)
        .await
        .expect("sharing succeeds");
    assert_eq!(new, ACCOUNTS);
    let mut grants: Vec<String> = emu
        .grants(GOLDEN)
        .into_iter()
        .map(|g| g.principal)
        .collect();
    grants.sort();
    assert_eq!(grants, ACCOUNTS, "the cloud holds exactly these grants");
    let calls = emu.action_count(imageshare::tencent::CVM, SHARE_ACTION);
    assert_eq!(calls, 1, "both accounts go in one batched call");
}

async fn test_a_second_run_sends_no_write() {
    let (emu, cvm) = emulator_and_cvm().await;
    share_golden_image(&cvm, &GOLDEN.into(), &ACCOUNTS)
        .await
        .unwrap();
    let again = share_golden_image(&cvm, &GOLDEN.into(), &ACCOUNTS)
        .await
        .unwrap();
    assert!(again.is_empty(), "nothing new on a re-run: {again:?}");
    assert_eq!(emu.action_count(imageshare::tencent::CVM, SHARE_ACTION), 1);
    assert_eq!(emu.grants(GOLDEN).len(), 2);
}

async fn test_a_received_image_is_refused_before_any_request() {
    let (emu, cvm) = emulator_and_cvm().await;
    // img-recv0001 was shared with us by 100000000002: CVM does not let us share it onward.
    let err = share_golden_image(&cvm, &"img-recv0001".into(), &ACCOUNTS)
        .await
        .expect_err("re-sharing a received image is refused");
    let violation = err.as_limit().expect("a limit-checker refusal");
    assert_eq!(violation.rule, LimitRule::ReceivedImage);
    assert_eq!(emu.action_count(imageshare::tencent::CVM, SHARE_ACTION), 0);
    assert_eq!(emu.grants("img-recv0001").len(), 1, "only its grant to us");
}

async fn test_survives_throttling() {
    let (emu, cvm) = emulator_and_cvm().await;
    // One DescribeImageSharePermission per second: the automation's check right after the
    // share is answered with Tencent's throttling code until the client's retry gets in.
    emu.set_faults(
        FaultPlan::seeded(7).rule(
            FaultRule::new()
                .with_provider(imageshare::tencent::CVM)
                .with_action("DescribeImageSharePermission")
                .with_qps(1),
        ),
    );
    let new = share_golden_image(&cvm, &GOLDEN.into(), &ACCOUNTS)
        .await
        .expect("the client retries past throttling");
    assert_eq!(new.len(), 2);
    let throttled = emu.faults_served();
    assert!(throttled.iter().any(|f| f.kind == FaultKind::Throttle));
    assert_eq!(
        emu.action_count(imageshare::tencent::CVM, SHARE_ACTION),
        1,
        "no duplicate"
    );
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    support::exit(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    if let Some(region) = cloud_region(imageshare::tencent::CVM) {
        println!("running share_golden_image against Tencent CVM in {region}");
        let image = flag("--image").ok_or("--image ID is required against the real cloud")?;
        let to = flag("--to").ok_or("--to ACCOUNT[,ACCOUNT...] is required")?;
        let accounts: Vec<&str> = to.split(',').map(str::trim).collect();
        let cvm = imageshare::connect("tencent-cvm", &region)?;
        let new = share_golden_image(&cvm, &image.into(), &accounts).await?;
        println!("new grants: {new:?}");
        return Ok(());
    }
    println!("no Tencent credentials and region in the environment: running the tests on the embedded emulator");
    test_shares_with_every_account_in_one_call().await;
    println!("test shares_with_every_account_in_one_call ... ok");
    test_a_second_run_sends_no_write().await;
    println!("test a_second_run_sends_no_write ... ok");
    test_a_received_image_is_refused_before_any_request().await;
    println!("test a_received_image_is_refused_before_any_request ... ok");
    test_survives_throttling().await;
    println!("test survives_throttling ... ok");
    println!("\n4 passed");
    Ok(())
}
