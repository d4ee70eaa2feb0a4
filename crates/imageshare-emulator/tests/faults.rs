//! Fault injection through the real server: each cloud's throttling code for a QPS quota,
//! its 5xx, dropped connections, and the same seed giving the same sequence of faults.

mod common;

use common::*;
use imageshare_core::{time, Provider};
use imageshare_emulator::{Emulator, FaultKind, FaultPlan, FaultRule, World};

fn rule(provider: Provider, action: &str) -> FaultRule {
    FaultRule::new().with_provider(provider).with_action(action)
}

#[tokio::test]
async fn qps_quota_answers_with_each_clouds_throttling_code() {
    let plan = FaultPlan::seeded(1)
        .rule(rule(imageshare_tencent::CVM, "DescribeImages").with_qps(1))
        .rule(rule(imageshare_alibaba::ECS, "DescribeImages").with_qps(1))
        .rule(rule(imageshare_ucloud::UHOST, "DescribeImage").with_qps(1));
    let mut world = World::example();
    world.faults = plan;
    let emu = Emulator::start(world).await.unwrap();
    let now = time::now_unix();
    let (id, secret) = ("AKIDEMU0000000000000000000000001", "emu-tencent-secret-1");

    let first = tencent(&emu, id, secret, now, false).await;
    assert_ne!(tc_code(&first), Some("RequestLimitExceeded"));
    let second = tencent(&emu, id, secret, now, false).await;
    assert_eq!(
        (second.status, tc_code(&second)),
        (200, Some("RequestLimitExceeded"))
    );

    let creds = ali_creds("emu-alibaba-secret-1");
    alibaba_rpc(&emu, &creds, now, &time::nonce()).await;
    let throttled = alibaba_acs3(&emu, &creds, now, &time::nonce()).await;
    assert_eq!(
        (throttled.status, ali_code(&throttled)),
        (400, Some("Throttling.User"))
    );

    ucloud(&emu, "emu-ucloud-public-1", "emu-ucloud-private-1", None).await;
    let uc = ucloud(&emu, "emu-ucloud-public-1", "emu-ucloud-private-1", None).await;
    assert_eq!((uc.status, uc.body["RetCode"].as_u64()), (200, Some(153)));

    let served: Vec<_> = emu.faults_served().into_iter().map(|f| f.kind).collect();
    assert_eq!(served, vec![FaultKind::Throttle; 3]);
    // Unauthenticated requests are refused before they count against the quota.
    let bad = tencent(&emu, id, "wrong", now, false).await;
    assert_eq!(tc_code(&bad), Some("AuthFailure.SignatureFailure"));
}

#[tokio::test]
async fn server_errors_and_dropped_connections() {
    let emu = emulator().await;
    emu.set_faults(FaultPlan::seeded(3).rule(FaultRule::new().with_error_rate(1.0)));
    let now = time::now_unix();
    let tc = tencent(
        &emu,
        "AKIDEMU0000000000000000000000001",
        "emu-tencent-secret-1",
        now,
        false,
    )
    .await;
    assert_eq!((tc.status, tc_code(&tc)), (500, Some("InternalError")));
    let ali = alibaba_rpc(
        &emu,
        &ali_creds("emu-alibaba-secret-1"),
        now,
        &time::nonce(),
    )
    .await;
    assert_eq!((ali.status, ali_code(&ali)), (500, Some("InternalError")));
    let uc = ucloud(&emu, "emu-ucloud-public-1", "emu-ucloud-private-1", None).await;
    assert_eq!(uc.status, 503);

    emu.set_faults(FaultPlan::seeded(3).rule(FaultRule::new().with_drop_rate(1.0)));
    let url = format!("{}/", emu.base_url());
    let err = reqwest::Client::new()
        .post(url)
        .header("x-tc-action", "DescribeImages")
        .header("authorization", "TC3-HMAC-SHA256 Credential=AKIDEMU0000000000000000000000001/2020-01-01/cvm/tc3_request, SignedHeaders=content-type;host, Signature=00")
        .send()
        .await;
    // Authentication fails first, so this one is answered...
    assert!(err.is_ok());
    // ...while an authenticated request has its connection closed without an answer.
    let result = tencent_raw(&emu, now).await;
    assert!(
        result.is_err(),
        "expected a dropped connection, got {result:?}"
    );
    assert_eq!(
        emu.calls().last().unwrap().error.as_deref(),
        Some("dropped")
    );
}

/// A correctly signed Tencent request whose transport error is returned, not unwrapped.
async fn tencent_raw(emu: &Emulator, now: u64) -> Result<u16, reqwest::Error> {
    use imageshare_tencent::signer::{sign, Tc3Request};
    let creds = imageshare_tencent::TencentCredentials::new(
        "AKIDEMU0000000000000000000000001",
        "emu-tencent-secret-1",
    );
    let host = host(emu);
    let payload = b"{}";
    let req = Tc3Request::post_json("cvm", &host, "DescribeImages", "2017-03-12", payload, now);
    let sig = sign(&creds, &req);
    let mut r = reqwest::Client::new().post(format!("{}/", emu.base_url()));
    for (k, v) in &sig.headers {
        if !k.eq_ignore_ascii_case("host") {
            r = r.header(*k, v.as_str());
        }
    }
    r.body(payload.to_vec())
        .send()
        .await
        .map(|r| r.status().as_u16())
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults_through_the_server() {
    async fn run(seed: u64) -> Vec<Option<String>> {
        let mut world = World::example();
        world.faults = FaultPlan::seeded(seed)
            .rule(rule(imageshare_ucloud::UHOST, "DescribeImage").with_error_rate(0.3));
        let emu = Emulator::start(world).await.unwrap();
        for _ in 0..40 {
            ucloud(&emu, "emu-ucloud-public-1", "emu-ucloud-private-1", None).await;
        }
        emu.calls().into_iter().map(|c| c.error).collect()
    }
    let a = run(11).await;
    assert_eq!(a, run(11).await);
    assert_ne!(a, run(12).await);
    let errors = a.iter().filter(|e| e.as_deref() == Some("HTTP503")).count();
    assert!((3..=25).contains(&errors), "{errors} of 40");
}
