//! A hung endpoint (issue #9, item 6): a listener on 127.0.0.1 that accepts connections
//! and never answers. Every command that makes a request, on every provider it applies
//! to, run with `--timeout 1`, must fail with a non-zero status and a message that says
//! the call timed out, names the provider and operation, and names the endpoint, within a
//! bound: one call gives up after at most 5 attempts x 1 s + 3 s of backoff (see
//! `imageshare --help`), and the test allows 30 s, generously, as a correctness bound (not
//! a benchmark). Commands run 16 at a time so the file takes well under a minute.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{fresh_dir, run_async, stderr, strings};
use tokio::net::TcpListener;

/// The most a command may take against the hung endpoint with `--timeout 1`.
const BOUND: Duration = Duration::from_secs(30);

/// Accepts connections on 127.0.0.1 (ephemeral port) and keeps them open, silent, until
/// the test ends. Returns the endpoint URL.
async fn hung_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        // Bounded: the commands below open at most a few hundred connections in all.
        while held.len() < 10_000 {
            match listener.accept().await {
                Ok((socket, _)) => held.push(socket),
                Err(_) => break,
            }
        }
    });
    url
}

/// Fake keys for every cloud: nothing ever checks them, the endpoint never answers.
fn env(endpoint: &str) -> Vec<(String, String)> {
    [
        ("TENCENTCLOUD_SECRET_ID", "AKIDhungendpointtest"),
        ("TENCENTCLOUD_SECRET_KEY", "hung-tencent-secret"),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIhungendpoint"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "hung-alibaba-secret"),
        ("UCLOUD_PUBLIC_KEY", "hung-ucloud-public"),
        ("UCLOUD_PRIVATE_KEY", "hung-ucloud-private"),
        ("UCLOUD_PROJECT_ID", "org-a1b2c3"),
        ("IMAGESHARE_ENDPOINT", endpoint),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// One provider: its flag value, a region, another region, a custom image id, and a
/// principal of the right form.
struct Target {
    provider: &'static str,
    region: &'static str,
    other_region: &'static str,
    image: &'static str,
    principal: &'static str,
}

const TARGETS: [Target; 5] = [
    Target {
        provider: "alibaba-ecs",
        region: "cn-hangzhou",
        other_region: "cn-shanghai",
        image: "m-bp18ygjuqnwhechc",
        principal: "100000000002",
    },
    Target {
        provider: "alibaba-sas",
        region: "cn-hangzhou",
        other_region: "cn-shanghai",
        image: "m-sas000000001",
        principal: "100000000002",
    },
    Target {
        provider: "tencent-cvm",
        region: "ap-guangzhou",
        other_region: "ap-shanghai",
        image: "img-6pb6lrmy",
        principal: "100000000002",
    },
    Target {
        provider: "tencent-lighthouse",
        region: "ap-guangzhou",
        other_region: "ap-shanghai",
        image: "lhbp-6jc6l8yb",
        principal: "100000000002",
    },
    Target {
        provider: "ucloud",
        region: "cn-bj2",
        other_region: "cn-sh2",
        image: "uimage-golden01",
        principal: "org-d4e5f6",
    },
];

/// What a command must do against the hung endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Send a request and time out.
    TimesOut,
    /// Refuse at once without sending anything: the provider has no API for it.
    Unsupported,
    /// Refuse at once without sending anything, naming the limit rule: a copy to another
    /// region on a provider without cross-region copy (`cross-region-copy`, #15 §1).
    NoCrossRegionCopy,
}

/// Operations the provider has no API for: refused before any request.
fn unsupported(provider: &str, rest: &[&str]) -> bool {
    let copy = rest.first() == Some(&"copy") || rest.get(1) == Some(&"copy");
    (provider == "alibaba-sas" && copy)
        || (provider == "tencent-lighthouse" && rest.first() == Some(&"copy") && rest.len() == 2)
}

/// Every command, for every provider it applies to, with what it must do.
fn commands(dir: &std::path::Path) -> Vec<(String, Vec<String>, Expect)> {
    let mut out = Vec::new();
    for t in &TARGETS {
        let base = [
            "--timeout",
            "1",
            "--provider",
            t.provider,
            "--region",
            t.region,
        ];
        let per: [&[&str]; 11] = [
            &["image", t.image],
            &["share", t.image, "--to", t.principal],
            &["unshare", t.image, "--from", t.principal],
            &["unshare", t.image, "--all"],
            &["sharees", t.image],
            &["shared-with-me"],
            &["copy", t.image, "--to-region", t.other_region],
            &["copy", t.image],
            &["delete", t.image, "--yes"],
            &["delete", t.image, "--unshare-first", "--yes"],
            &[
                "migrate",
                "copy",
                t.image,
                "--to-region",
                t.other_region,
                "--to",
                t.principal,
            ],
        ];
        for rest in per {
            let args = strings(&[&base[..], rest].concat());
            let to_region = rest.contains(&"--to-region");
            let expect = if unsupported(t.provider, rest) && to_region {
                Expect::NoCrossRegionCopy
            } else if unsupported(t.provider, rest) {
                Expect::Unsupported
            } else {
                Expect::TimesOut
            };
            out.push((t.provider.to_owned(), args, expect));
        }
        let manifest = dir.join(format!("{}.toml", t.provider));
        std::fs::write(
            &manifest,
            format!(
                "[[image]]\nprovider = \"{}\"\nregion = \"{}\"\nid = \"{}\"\nshare_with = [\"{}\"]\n",
                t.provider, t.region, t.image, t.principal
            ),
        )
        .unwrap();
        let m = manifest.display().to_string();
        for rest in [
            vec!["plan", "-f", &m],
            vec!["apply", "-f", &m, "--yes"],
            vec!["apply", "-f", &m],
        ] {
            let args = strings(&[&["--timeout", "1"][..], &rest].concat());
            out.push((t.provider.to_owned(), args, Expect::TimesOut));
        }
    }
    for (provider, flow, expect) in [
        (
            "alibaba-sas",
            vec![
                "--region",
                "cn-hangzhou",
                "migrate",
                "sas-to-ecs",
                "m-sas000000001",
            ],
            Expect::TimesOut,
        ),
        (
            // Reads the CVM images Lighthouse may take, through the Lighthouse API.
            "tencent-lighthouse",
            vec![
                "--region",
                "ap-guangzhou",
                "migrate",
                "cvm-to-lighthouse",
                "img-6pb6lrmy",
                "--to",
                "100000000002",
            ],
            Expect::TimesOut,
        ),
        (
            "tencent-lighthouse",
            vec![
                "--region",
                "ap-guangzhou",
                "migrate",
                "lighthouse-to-cvm",
                "lhbp-6jc6l8yb",
            ],
            Expect::Unsupported,
        ),
    ] {
        let args = strings(&[&["--timeout", "1"][..], &flow].concat());
        out.push((provider.to_owned(), args, expect));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_fails_in_bounded_time_against_a_hung_endpoint() {
    let endpoint = hung_endpoint().await;
    let host = endpoint.trim_start_matches("http://").to_owned();
    let dir = fresh_dir("hung");
    let cmds = commands(&dir);
    let timing_out = cmds.iter().filter(|c| c.2 == Expect::TimesOut).count();
    assert!(
        timing_out >= 60,
        "{timing_out} commands that send a request"
    );
    let permits = Arc::new(tokio::sync::Semaphore::new(16));
    let mut set = tokio::task::JoinSet::new();
    for (provider, args, expect) in cmds {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let (env, home) = (env(&endpoint), dir.clone());
        set.spawn(async move {
            let started = Instant::now();
            let o = run_async(home, args.clone(), env).await;
            drop(permit);
            (provider, args, expect, o, started.elapsed())
        });
    }
    let mut failures = Vec::new();
    let mut slowest = Duration::ZERO;
    let mut ran = 0;
    while let Some(r) = set.join_next().await {
        let (provider, args, expect, o, took) = r.unwrap();
        ran += 1;
        slowest = slowest.max(took);
        let err = stderr(&o);
        let cmd = args.join(" ");
        let mut problems = Vec::new();
        match o.status.code() {
            Some(0) | None => problems.push(format!("exit {:?}", o.status.code())),
            Some(_) => {}
        }
        if took > BOUND {
            problems.push(format!("took {took:?}"));
        }
        match expect {
            Expect::TimesOut => {
                // The transport says "timed out" when its HTTP client's timer fires first
                // and "no complete answer within" when its own guard does (the same 1 s);
                // both say that the time allowed ran out.
                if !(err.contains("timed out") || err.contains("no complete answer within 1s")) {
                    problems.push("does not say it timed out".into());
                }
                if !err.contains(&format!("{provider} ")) || !err.contains(": transport error:") {
                    problems.push("does not name the provider and operation".into());
                }
                if !err.contains(&host) {
                    problems.push("does not name the endpoint".into());
                }
            }
            Expect::Unsupported | Expect::NoCrossRegionCopy => {
                let says = if expect == Expect::Unsupported {
                    err.contains(&format!("{provider}: ")) && err.contains("is not supported")
                } else {
                    err.contains(&format!("{provider} limit cross-region-copy violated"))
                };
                if !says {
                    problems.push(format!("does not say why it is refused ({expect:?})"));
                }
                if took > Duration::from_secs(5) {
                    problems.push(format!("took {took:?} to refuse without a request"));
                }
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{cmd}: {}\n{err}", problems.join(", ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} commands:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{ran} commands against a hung endpoint; slowest {slowest:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
