//! Signing cost, imageshare vs the clouds' official Python SDKs, on the same input: the
//! four requests of benches/signing.rs (a share with 10 accounts, fixed time and nonce).
//!
//! In each of several rounds, imageshare's four signers run in a timed loop (`Instant`,
//! `black_box`), then benches/python/sign.py runs the SDKs' own signing code on the same
//! input under `$IMAGESHARE_INTEROP_PYTHON` (timeit), after checking that every SDK
//! signature equals imageshare's (a mismatch fails the run). The rounds interleave the two
//! sides so both see the same machine; each figure is the best round.
//! Prints ns per signature for both and the ratio.
//!
//! ```text
//! IMAGESHARE_INTEROP_PYTHON=target/interop-venv/bin/python cargo bench --bench sign_ratio
//! IMAGESHARE_BENCH_QUICK=1 IMAGESHARE_INTEROP_PYTHON=... cargo bench --bench sign_ratio
//! ```
//!
//! Exits non-zero when the Python script fails (signature mismatch, missing SDK).

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use imageshare::alibaba::AlibabaCredentials;
use imageshare_alibaba::signer::{acs3, rpc_v1};
use imageshare_tencent::{sign as tc3_sign, Tc3Request, TencentCredentials};
use imageshare_ucloud::{sign_request, UCloudCredentials};
use serde_json::json;

// The inputs of benches/signing.rs.
const TS: u64 = 1_700_000_000;
const NONCE: &str = "3156853299f313e23d1673dc12e1703d";
const TC_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const TC_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const ALI_ID: &str = "YourAccessKeyId";
const ALI_SECRET: &str = "YourAccessKeySecret";
const UC_PUBLIC: &str = "ucloudsomeone@example.com1296235120854146120";
const UC_PRIVATE: &str = "46f09bb9fab4f12dfc160dae12273d5332b5debe";

struct Sizes {
    /// Rounds; each round times every Rust signer, then runs the Python script once.
    rounds: u32,
    rust_iters: u64,
    py_number: u64,
}

fn accounts() -> Vec<String> {
    (0..10).map(|i| format!("1000000000{i:02}")).collect()
}

/// ns per call over `iters` calls, after a short warm-up.
fn time_ns<R>(iters: u64, mut f: impl FnMut() -> R) -> f64 {
    for _ in 0..iters.min(1_000) {
        black_box(f());
    }
    let start = Instant::now();
    for _ in 0..iters {
        black_box(f());
    }
    start.elapsed().as_nanos() as f64 / iters as f64
}

fn main() -> ExitCode {
    support::exit("sign_ratio", run())
}

fn run() -> Result<(), String> {
    let quick = support::quick();
    let sizes = if quick {
        Sizes {
            rounds: 3,
            rust_iters: 2_000,
            py_number: 200,
        }
    } else {
        Sizes {
            rounds: 5,
            rust_iters: 50_000,
            py_number: 5_000,
        }
    };
    let python = support::python()?;

    // TC3: ModifyImageSharePermission on CVM, JSON body.
    let tc = TencentCredentials::new(TC_ID, TC_KEY);
    let body = serde_json::to_vec(&json!({
        "ImageId": "img-6pb6lrmy", "Permission": "SHARE", "AccountIds": accounts()
    }))
    .map_err(|e| e.to_string())?;
    fn tc_req(body: &[u8]) -> Tc3Request<'_> {
        Tc3Request::post_json(
            "cvm",
            "cvm.tencentcloudapi.com",
            "ModifyImageSharePermission",
            "2017-03-12",
            body,
            TS,
        )
        .region("ap-guangzhou")
    }
    let tc3_expected = tc3_sign(&tc, &tc_req(&body)).authorization;
    let mut tc3 = || tc3_sign(&tc, &tc_req(black_box(&body)));

    // Alibaba RPC v1 and ACS3: ModifyImageSharePermission on ECS.
    let ali = AlibabaCredentials::new(ALI_ID, ALI_SECRET);
    let rpc = rpc_v1::RpcRequest::new("ModifyImageSharePermission", "2014-05-26")
        .param("RegionId", "cn-hangzhou")
        .param("ImageId", "m-bp18ygjuqnwhechc")
        .list("AddAccount", accounts());
    let rpc_expected = rpc_v1::sign(&ali, &rpc, TS, NONCE).signature().to_owned();
    let mut rpc_v1 = || rpc_v1::sign(&ali, black_box(&rpc), TS, NONCE);

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
    let acs3_expected = acs3::sign(&ali, &v3, TS, NONCE).authorization().to_owned();
    let mut acs3 = || acs3::sign(&ali, black_box(&v3), TS, NONCE);

    // UCloud: ShareCustomImage with 10 target projects.
    let uc = UCloudCredentials::new(UC_PUBLIC, UC_PRIVATE);
    let mut params = vec![
        ("Action".to_owned(), "ShareCustomImage".to_owned()),
        ("Region".to_owned(), "cn-bj2".to_owned()),
        ("ImageId".to_owned(), "uimage-golden01".to_owned()),
    ];
    for (i, a) in accounts().into_iter().enumerate() {
        params.push((format!("TargetProjectIds.{i}"), format!("org-{a}")));
    }
    let uc_expected = sign_request(params.clone(), &uc)
        .into_iter()
        .find(|(k, _)| k == "Signature")
        .map(|(_, v)| v)
        .ok_or("sign_request added no Signature")?;
    let mut ucloud = || sign_request(black_box(params.clone()), &uc);

    let config = json!({
        "timestamp": TS,
        "nonce": NONCE,
        "number": sizes.py_number,
        "repeat": 1,
        "tencent": {
            "secret_id": TC_ID, "secret_key": TC_KEY, "service": "cvm",
            "host": "cvm.tencentcloudapi.com", "action": "ModifyImageSharePermission",
            "version": "2017-03-12", "region": "ap-guangzhou",
            "body": String::from_utf8(body.clone()).map_err(|e| e.to_string())?,
        },
        "alibaba": {
            "key_id": ALI_ID, "secret": ALI_SECRET,
            "host": v3.host, "action": v3.action, "version": v3.version,
            "rpc_params": rpc.params, "acs3_query": v3.query,
        },
        "ucloud": {
            "public_key": UC_PUBLIC, "private_key": UC_PRIVATE, "params": params,
        },
        "expected": {
            "tc3": tc3_expected, "rpc_v1": rpc_expected,
            "acs3": acs3_expected, "ucloud": uc_expected,
        },
    });

    // Rounds interleave the two sides, so both see the same machine; best round of each.
    let keys = ["tc3", "rpc_v1", "acs3", "ucloud"];
    let mut ours = [f64::INFINITY; 4];
    let mut theirs = [f64::INFINITY; 4];
    for _ in 0..sizes.rounds {
        let n = sizes.rust_iters;
        let round = [
            time_ns(n, &mut tc3),
            time_ns(n, &mut rpc_v1),
            time_ns(n, &mut acs3),
            time_ns(n, &mut ucloud),
        ];
        for (best, x) in ours.iter_mut().zip(round) {
            *best = best.min(x);
        }
        if let Some(python) = &python {
            // The script checks every signature against imageshare's each time.
            let out = support::run_python(python, "sign.py", &config)?;
            for (best, key) in theirs.iter_mut().zip(keys) {
                let x = out[key]
                    .as_f64()
                    .ok_or_else(|| format!("sign.py gave no figure for {key}: {out}"))?;
                *best = best.min(x);
            }
        }
    }
    let labels = [
        "TC3-HMAC-SHA256",
        "Alibaba RPC v1 (HMAC-SHA1)",
        "Alibaba ACS3-HMAC-SHA256",
        "UCloud SHA1 parameters",
    ];

    println!();
    println!(
        "Signing a 10-account share request, ns per signature ({} mode; best of {} \
         interleaved rounds of {} imageshare / {} Python signatures)",
        if quick { "quick" } else { "full" },
        sizes.rounds,
        sizes.rust_iters,
        sizes.py_number
    );
    println!(
        "{:<28} {:>14} {:>14} {:>8}",
        "algorithm", "imageshare ns", "python ns", "ratio"
    );
    for ((label, ns), t) in labels.into_iter().zip(ours).zip(theirs) {
        let (py_col, ratio) = if python.is_some() {
            (support::grouped(t), format!("{:.1}x", t / ns))
        } else {
            ("-".to_owned(), "-".to_owned())
        };
        println!(
            "{label:<28} {:>14} {py_col:>14} {ratio:>8}",
            support::grouped(ns)
        );
    }
    if python.is_some() {
        println!("(every Python SDK signature equals imageshare's on this input)");
    }
    Ok(())
}
