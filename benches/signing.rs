//! Signing cost per algorithm on a typical share request (10 principals), with fixed time
//! and nonce so every iteration signs the same bytes.
//!
//! `cargo bench --bench signing` (full), or `cargo bench --bench signing -- --quick`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use imageshare::alibaba::AlibabaCredentials;
use imageshare_alibaba::signer::{acs3, rpc_v1};
use imageshare_tencent::{sign as tc3_sign, Tc3Request, TencentCredentials};
use imageshare_ucloud::{sign_request, UCloudCredentials};

const TS: u64 = 1_700_000_000;
const NONCE: &str = "3156853299f313e23d1673dc12e1703d";

fn accounts() -> Vec<String> {
    (0..10).map(|i| format!("1000000000{i:02}")).collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("sign ModifyImageSharePermission (10 accounts)");

    let tc = TencentCredentials::new(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
    );
    let body = serde_json::to_vec(&serde_json::json!({
        "ImageId": "img-6pb6lrmy", "Permission": "SHARE", "AccountIds": accounts()
    }))
    .unwrap();
    g.bench_function("TC3-HMAC-SHA256", |b| {
        b.iter(|| {
            let req = Tc3Request::post_json(
                "cvm",
                "cvm.tencentcloudapi.com",
                "ModifyImageSharePermission",
                "2017-03-12",
                black_box(&body),
                TS,
            )
            .region("ap-guangzhou");
            black_box(tc3_sign(&tc, &req))
        })
    });

    let ali = AlibabaCredentials::new("YourAccessKeyId", "YourAccessKeySecret");
    let rpc = rpc_v1::RpcRequest::new("ModifyImageSharePermission", "2014-05-26")
        .param("RegionId", "cn-hangzhou")
        .param("ImageId", "m-bp18ygjuqnwhechc")
        .list("AddAccount", accounts());
    g.bench_function("Alibaba RPC v1 (HMAC-SHA1)", |b| {
        b.iter(|| black_box(rpc_v1::sign(&ali, black_box(&rpc), TS, NONCE)))
    });

    let mut v3 = acs3::Acs3Request::new(
        "ecs.cn-hangzhou.aliyuncs.com",
        "ModifyImageSharePermission",
        "2014-05-26",
    )
    .query("RegionId", "cn-hangzhou")
    .query("ImageId", "m-bp18ygjuqnwhechc");
    for (i, a) in accounts().into_iter().enumerate() {
        v3 = v3.query(format!("AddAccount.{}", i + 1), a);
    }
    g.bench_function("Alibaba ACS3-HMAC-SHA256", |b| {
        b.iter(|| black_box(acs3::sign(&ali, black_box(&v3), TS, NONCE)))
    });

    let uc = UCloudCredentials::new(
        "ucloudsomeone@example.com1296235120854146120",
        "46f09bb9fab4f12dfc160dae12273d5332b5debe",
    );
    let mut params = vec![
        ("Action".to_owned(), "ShareCustomImage".to_owned()),
        ("Region".to_owned(), "cn-bj2".to_owned()),
        ("ImageId".to_owned(), "uimage-golden01".to_owned()),
    ];
    for (i, a) in accounts().into_iter().enumerate() {
        params.push((format!("TargetProjectIds.{i}"), format!("org-{a}")));
    }
    g.bench_function("UCloud SHA1 parameter signature", |b| {
        b.iter(|| black_box(sign_request(black_box(params.clone()), &uc)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
