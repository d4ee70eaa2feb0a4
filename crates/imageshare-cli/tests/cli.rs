//! The `imageshare` binary against an in-process emulator: credentials from the clouds'
//! own environment variables, exit codes, JSON output, plan/apply convergence, and the demo.

use std::path::PathBuf;
use std::process::{Command, Output};

use imageshare_emulator::{Emulator, World};

/// Runs the binary with a clean environment (no cloud variables, an empty HOME) plus `env`.
fn run(args: &[&str], env: &[(&str, String)]) -> Output {
    let home = std::env::temp_dir().join(format!("imageshare-cli-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imageshare"));
    cmd.args(args).env_clear().env("HOME", &home);
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The owner account's keys, as each cloud's own variables.
fn owner_env(emu: &Emulator) -> Vec<(&'static str, String)> {
    let k = emu.account("100000000001").unwrap().keys;
    let (t, a, u) = (k.tencent.unwrap(), k.alibaba.unwrap(), k.ucloud.unwrap());
    vec![
        ("TENCENTCLOUD_SECRET_ID", t.id),
        ("TENCENTCLOUD_SECRET_KEY", t.secret),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", a.id),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", a.secret),
        ("UCLOUD_PUBLIC_KEY", u.public),
        ("UCLOUD_PRIVATE_KEY", u.private),
        ("UCLOUD_PROJECT_ID", "org-a1b2c3".into()),
        ("IMAGESHARE_ENDPOINT", emu.base_url()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_sharees_unshare_with_cloud_variables() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let env = owner_env(&emu);
    let base = ["--provider", "tencent-cvm", "--region", "ap-guangzhou"];
    let share = [
        &base[..],
        // A bare id and the printed form `account:ID` (#17 bug 9).
        &[
            "share",
            "img-6pb6lrmy",
            "--to",
            "100000000002,account:200000000001",
        ],
    ]
    .concat();
    let o = run(&share, &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("account:100000000002: granted"),
        "{}",
        stdout(&o)
    );
    assert_eq!(emu.grants("img-6pb6lrmy").len(), 2);

    let o = run(
        &[&base[..], &["--output", "json", "sharees", "img-6pb6lrmy"]].concat(),
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["schema"], "imageshare/sharees/v1");
    assert_eq!(v["sharees"].as_array().unwrap().len(), 2);

    let o = run(
        &[
            &base[..],
            &["unshare", "img-6pb6lrmy", "--from", "account:200000000001"],
        ]
        .concat(),
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(emu.grants("img-6pb6lrmy").len(), 1);
    // No secret in anything printed.
    for out in [stdout(&o), stderr(&o)] {
        assert!(!out.contains("emu-tencent-secret-1"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_say_what_went_wrong() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let env = owner_env(&emu);
    let sas = ["--provider", "alibaba-sas", "--region", "cn-hangzhou"];
    // A RAM user: refused by the limit checker, nothing sent (3).
    let o = run(
        &[
            &sas[..],
            &["share", "m-sas000000001", "--to", "alice@1234.onaliyun.com"],
        ]
        .concat(),
        &env,
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("RAM user"), "{}", stderr(&o));
    assert_eq!(
        emu.action_count(imageshare::alibaba::SAS, "AddCustomImageShareAccount"),
        0
    );
    // Unknown provider: usage (2).
    let o = run(
        &["--provider", "aws", "--region", "x", "sharees", "i-1"],
        &env,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // No credentials anywhere: 4, and the message lists the sources tried.
    let o = run(
        &[
            "--provider",
            "tencent-cvm",
            "--region",
            "ap-guangzhou",
            "sharees",
            "img-6pb6lrmy",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("TENCENTCLOUD_SECRET_ID"),
        "{}",
        stderr(&o)
    );
    // Wrong secret: the cloud rejects it (4).
    let mut bad = env.clone();
    bad.retain(|(k, _)| *k != "TENCENTCLOUD_SECRET_KEY");
    bad.push(("TENCENTCLOUD_SECRET_KEY", "wrong".into()));
    let o = run(
        &[
            "--provider",
            "tencent-cvm",
            "--region",
            "ap-guangzhou",
            "sharees",
            "img-6pb6lrmy",
        ],
        &bad,
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("AuthFailure"), "{}", stderr(&o));
    // An endpoint that is not a URL: invalid input (2).
    let mut e2 = env.clone();
    e2.push(("IMAGESHARE_ENDPOINT", "not a url".into()));
    let o = run(
        &[
            "--provider",
            "alibaba-ecs",
            "--region",
            "cn-hangzhou",
            "--endpoint",
            "not a url",
            "sharees",
            "m-1",
        ],
        &e2,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

fn manifest(dir: &str, text: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("imageshare-cli-{dir}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("images.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// What `sharees` prints goes back in as `--to`, `--from`, a manifest's `share_with`
/// (#17 bug 9).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_principals_round_trip() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let env = owner_env(&emu);
    let cvm = ["--no-audit", "-p", "tencent-cvm", "-r", "ap-guangzhou"];
    let o = run(
        &[
            &cvm[..],
            &["share", "img-6pb6lrmy", "--to", "account:100000000002"],
        ]
        .concat(),
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&[&cvm[..], &["sharees", "img-6pb6lrmy"]].concat(), &env);
    let printed: Vec<String> = stdout(&o)
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert_eq!(printed, ["account:100000000002"], "{}", stdout(&o));
    let path = manifest(
        "round-trip",
        &format!(
            "[[image]]\nprovider = \"tencent-cvm\"\nregion = \"ap-guangzhou\"\n\
             id = \"img-6pb6lrmy\"\nshare_with = [\"{}\"]\n",
            printed[0]
        ),
    );
    let o = run(&["-o", "json", "plan", "-f", path.to_str().unwrap()], &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["changes"], 0, "{v}");
    let o = run(
        &[
            &cvm[..],
            &["unshare", "img-6pb6lrmy", "--from", &printed[0]],
        ]
        .concat(),
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(emu.grants("img-6pb6lrmy").is_empty());

    // plan --detailed-exitcode, as terraform: 2 with changes (the plan printed, no
    // error), 0 without, 1 on any error (a usage error included).
    let f = path.to_str().unwrap();
    let o = run(&["plan", "--detailed-exitcode", "-f", f], &env);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stdout(&o).contains("1 to share"), "{}", stdout(&o));
    assert_eq!(stderr(&o), "");
    let o = run(&["apply", "--yes", "--no-audit", "-f", f], &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["plan", "--detailed-exitcode", "-f", f], &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(
        &["plan", "--detailed-exitcode", "-f", "/nonexistent.toml"],
        &env,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = run(&["plan", "-f", "/nonexistent.toml"], &env);
    assert_eq!(o.status.code(), Some(2), "without the flag: usage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_then_apply_converges_and_a_second_apply_changes_nothing() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let env = owner_env(&emu);
    let path = manifest(
        "apply",
        r#"
[[image]]
provider = "alibaba-ecs"
region = "cn-hangzhou"
id = "m-bp18ygjuqnwhechc"
share_with = ["100000000002", "200000000001"]

[[image]]
provider = "ucloud"
region = "cn-bj2"
id = "uimage-golden01"
share_with = ["org-d4e5f6"]
prune = true
"#,
    );
    let f = path.to_str().unwrap();
    let o = run(&["plan", "-f", f], &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("3 to share, 0 to unshare"),
        "{}",
        stdout(&o)
    );
    // Without --yes nothing is applied.
    let o = run(&["apply", "-f", f], &env);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(emu.grants("m-bp18ygjuqnwhechc").is_empty());
    let o = run(&["apply", "-f", f, "--yes"], &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(emu.grants("m-bp18ygjuqnwhechc").len(), 2);
    assert_eq!(emu.grants("uimage-golden01").len(), 1);
    let writes = |emu: &Emulator| {
        emu.calls()
            .iter()
            .filter(|c| {
                [
                    "ModifyImageSharePermission",
                    "ShareCustomImage",
                    "CancelShareCustomImage",
                ]
                .contains(&c.action.as_str())
            })
            .count()
    };
    let before = writes(&emu);
    let o = run(&["apply", "-f", f, "--yes"], &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("nothing to do"), "{}", stdout(&o));
    assert_eq!(writes(&emu), before, "the second apply sends no write call");
    // The plan as one JSON document: every image unchanged now.
    let o = run(&["--output", "json", "plan", "-f", f], &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["schema"], "imageshare/plan/v1");
    assert_eq!(v["changes"], 0);
    for entry in v["plans"].as_array().unwrap() {
        assert_eq!(entry["image"]["id"], entry["plan"]["image"], "{entry}");
        assert!(
            entry["plan"]["add"].as_array().unwrap().is_empty(),
            "{entry}"
        );
        assert!(
            !entry["plan"]["unchanged"].as_array().unwrap().is_empty(),
            "{entry}"
        );
    }
    // A no-op apply prints the same shape as one that changes something.
    let o = run(&["--output", "json", "apply", "-f", f, "--yes"], &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["schema"], "imageshare/apply/v1");
    assert_eq!((&v["changes"], &v["applied"]), (&0.into(), &false.into()));
    assert_eq!(v["results"], serde_json::json!([]));
    assert!(v["plans"].as_array().is_some_and(|p| !p.is_empty()), "{v}");
    assert_eq!(v["retries"]["plan"]["retry_passes"], 0, "{v}");
    assert_eq!(v["retries"]["apply"]["retry_passes"], 0, "{v}");
}

#[test]
fn emulator_serve_prints_its_address_and_answers() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_imageshare"))
        .args(["emulator", "serve", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().strip_prefix("listening on ").map(str::to_owned);
    // A request of no cloud gets the emulator's 400, which proves it is serving.
    let answered = url.as_ref().map(|u| {
        let addr = u.strip_prefix("http://").unwrap().to_owned();
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        use std::io::{Read, Write};
        s.write_all(b"GET /?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        resp
    });
    let _ = child.kill();
    let _ = child.wait();
    let url = url.unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(answered.unwrap().starts_with("HTTP/1.1 400"));
}

/// `emulator serve --tls --ca-out PATH` (#16): https on 127.0.0.1 with a CA made at start,
/// written before the address is printed; a client trusting that CA is answered, one that
/// does not is refused by its own certificate check.
#[tokio::test]
async fn emulator_serve_over_tls_writes_its_ca_and_answers_https() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("imageshare-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_imageshare"))
        .args(["emulator", "serve", "--port", "0", "--tls", "--ca-out"])
        .arg(&ca)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().strip_prefix("listening on ").map(str::to_owned);
    let result = async {
        let url = url.ok_or_else(|| format!("unexpected first line {line:?}"))?;
        if !url.starts_with("https://127.0.0.1:") {
            return Err(format!("not https: {url}"));
        }
        let pem = std::fs::read(&ca).map_err(|e| e.to_string())?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| e.to_string())?;
        let trusting = reqwest::Client::builder()
            .add_root_certificate(cert)
            .build()
            .map_err(|e| e.to_string())?;
        let health = format!("{url}/_imageshare/health");
        let resp = trusting
            .get(&health)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| e.to_string())?;
        let untrusted = reqwest::Client::new().get(&health).send().await;
        Ok::<_, String>((status, body, untrusted.is_err()))
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let (status, body, refused) = result.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    assert!(
        refused,
        "a client without the CA must refuse the certificate"
    );
}

#[test]
fn bad_manifest_names_file_line_and_field() {
    let path = manifest(
        "bad",
        "[[image]]\nprovider = \"tencent-cvm\"\nregion = \"ap-guangzhou\"\nid = \"img-1\"\nshare_with = [\"12ab\"]\n",
    );
    let o = run(&["plan", "-f", path.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:5:", path.display())), "{err}");
    assert!(err.contains("image[0].share_with[0]"), "{err}");
}

#[test]
fn demo_runs_the_whole_story_without_credentials() {
    let o = run(&["demo"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.matches(": granted").count(), 5, "{out}");
    assert!(out.contains("calls sent for them: 0"), "{out}");
}

#[test]
fn limits_as_json() {
    let o = run(&["--output", "json", "limits"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["schema"], "imageshare/limits/v1");
    assert_eq!(v["limits"].as_array().unwrap().len(), 5);
    let ecs = v["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["provider"] == "alibaba-ecs")
        .unwrap();
    assert_eq!(ecs["max_principals_per_call"], 10);
    // ECS has organisation sharing (Resource Sharing, 5 targets per call); CVM has none.
    assert_eq!(ecs["organisation"]["max_targets_per_call"], 5);
    assert_eq!(ecs["organisation"]["max_resources_per_call"], 5);
    let cvm = v["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["provider"] == "tencent-cvm")
        .unwrap();
    assert!(cvm["organisation"].is_null());
    let o = run(&["--provider", "alibaba-ecs", "limits"], &[]);
    assert!(
        stdout(&o).contains("organisation sharing:      Alibaba Resource Sharing"),
        "{}",
        stdout(&o)
    );
}

/// Runs `args` in text and JSON; both must exit 0, the JSON must parse.
fn both_formats(args: &[&str], env: &[(&str, String)]) -> (String, serde_json::Value) {
    let o = run(args, env);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    let text = stdout(&o);
    assert!(!text.trim().is_empty(), "{args:?}: empty text output");
    let o = run(&[&["--output", "json"][..], args].concat(), env);
    assert_eq!(o.status.code(), Some(0), "{args:?} json: {}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("{args:?}: not one JSON document ({e}): {}", stdout(&o)));
    let schema = json["schema"].as_str().unwrap_or_default();
    assert!(
        schema.starts_with("imageshare/") && schema.ends_with("/v1"),
        "{args:?}: {json}"
    );
    (text, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_in_both_output_formats() {
    let mut world = World::example();
    world.copy_ready_after_ms = 100;
    let emu = Emulator::start(world).await.unwrap();
    let env = owner_env(&emu);
    let ecs = ["--provider", "alibaba-ecs", "--region", "cn-hangzhou"];
    fn at<'a>(ecs: &[&'a str], rest: &[&'a str]) -> Vec<&'a str> {
        [ecs, rest].concat()
    }
    let at = |rest: &[&'static str]| at(&ecs, rest);

    let (text, json) = both_formats(&at(&["image", "m-bp18ygjuqnwhechc"]), &env);
    assert!(text.starts_with("ID"), "a table: {text}");
    assert_eq!(json["image"]["id"], "m-bp18ygjuqnwhechc");

    // share (text), then share again (json): already granted.
    let o = run(
        &at(&["share", "m-bp18ygjuqnwhechc", "--to", "100000000002"]),
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (_, json) = both_formats(
        &at(&["share", "m-bp18ygjuqnwhechc", "--to", "100000000002"]),
        &env,
    );
    assert_eq!(
        json["results"][0]["results"][0]["outcome"],
        "already-granted"
    );

    let (text, json) = both_formats(&at(&["sharees", "m-bp18ygjuqnwhechc"]), &env);
    assert!(
        text.contains("PRINCIPAL") && text.contains("100000000002"),
        "{text}"
    );
    assert_eq!(json["sharees"][0]["principal"]["id"], "100000000002");

    // The recipient's view, with the recipient's keys.
    let k = emu.account("100000000002").unwrap().keys.alibaba.unwrap();
    let recipient = vec![
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", k.id),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", k.secret),
        ("IMAGESHARE_ENDPOINT", emu.base_url()),
    ];
    let (text, json) = both_formats(&at(&["shared-with-me"]), &recipient);
    assert!(text.contains("m-bp18ygjuqnwhechc"), "{text}");
    assert!(json["images"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == "m-bp18ygjuqnwhechc"));

    // unshare --all in JSON, then text says there is nothing left.
    let o = run(
        &[
            &["--output", "json"][..],
            &at(&["unshare", "m-bp18ygjuqnwhechc", "--all"]),
        ]
        .concat(),
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["results"][0]["results"][0]["outcome"], "revoked");
    let o = run(&at(&["unshare", "m-bp18ygjuqnwhechc", "--all"]), &env);
    assert!(stdout(&o).contains("no sharees"), "{}", stdout(&o));

    // copy (own copy in another region), then delete it with --unshare-first.
    let (text, _) = both_formats(
        &at(&["copy", "m-bp18ygjuqnwhechc", "--to-region", "cn-shanghai"]),
        &env,
    );
    let copy = text.trim().to_owned();
    assert!(copy.starts_with("m-"), "{copy}");
    let sh = ["--provider", "alibaba-ecs", "--region", "cn-shanghai"];
    let o = run(
        &[&sh[..], &["delete", &copy, "--unshare-first", "--yes"]].concat(),
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("deleted {copy}")),
        "{}",
        stdout(&o)
    );

    // Migrations.
    let (text, json) = both_formats(
        &[
            "--region",
            "cn-hangzhou",
            "migrate",
            "sas-to-ecs",
            "m-sas000000001",
            "--to",
            "100000000002",
            "--wait-secs",
            "10",
        ],
        &env,
    );
    assert!(text.contains("ModifyImageShareStatus"), "{text}");
    // The second run (JSON) finds the own ECS copy the first made, never copies twice
    // (#15 §1: migrations are idempotent), and the grant is already there.
    assert_eq!(json["shared"]["results"][0]["outcome"], "already-granted");
    assert!(
        text.contains(json["image"].as_str().unwrap()),
        "the same copy both runs: {text}\n{json:#}"
    );
    let cvm_to_lh = [
        "--region",
        "ap-guangzhou",
        "migrate",
        "cvm-to-lighthouse",
        "img-6pb6lrmy",
        "--to",
        "100000000002",
    ];
    let o = run(&[&["--output", "json"][..], &cvm_to_lh[..]].concat(), &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["image"].as_str().unwrap().starts_with("lhbp-"), "{v}");
    // An image goes to Lighthouse once: the second run is refused with Tencent's reason.
    let o = run(&cvm_to_lh, &env);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("already been shared"), "{}", stderr(&o));
    let o = run(
        &[
            "--region",
            "ap-guangzhou",
            "migrate",
            "lighthouse-to-cvm",
            "lhbp-6jc6l8yb",
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("not supported"), "{}", stderr(&o));
    let (_, json) = both_formats(
        &[
            &ecs[..],
            &[
                "migrate",
                "copy",
                "m-bp18ygjuqnwhechc",
                "--to-region",
                "cn-beijing",
                "--to",
                "100000000002",
                "--wait-secs",
                "10",
            ],
        ]
        .concat(),
        &env,
    );
    assert!(json["image"].as_str().unwrap().starts_with("m-"), "{json}");

    // limits in both formats.
    both_formats(&["limits"], &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_exit_1_and_keep_the_provider_code() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let env = owner_env(&emu);
    // A well-formed account that does not exist: the cloud refuses (1), code kept.
    let o = run(
        &[
            "--provider",
            "alibaba-ecs",
            "--region",
            "cn-hangzhou",
            "share",
            "m-bp18ygjuqnwhechc",
            "--to",
            "123456789012",
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("InvalidAccount.NotFound"),
        "{}",
        stderr(&o)
    );
    // Not found: 1.
    let o = run(
        &[
            "--provider",
            "tencent-cvm",
            "--region",
            "ap-guangzhou",
            "image",
            "img-nothere1",
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // Missing --provider: usage (2).
    let o = run(&["sharees", "img-1"], &env);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_selects_a_named_section_of_the_cloud_profile_file() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let k = emu.account("100000000001").unwrap().keys.tencent.unwrap();
    let dir = std::env::temp_dir().join(format!("imageshare-cli-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("credentials");
    std::fs::write(
        &file,
        format!("[default]\nsecret_id = AKIDnobody\nsecret_key = x\n\n[work]\nsecret_id = {}\nsecret_key = {}\n", k.id, k.secret),
    )
    .unwrap();
    let env = vec![
        ("TENCENTCLOUD_CREDENTIALS_FILE", file.display().to_string()),
        ("IMAGESHARE_ENDPOINT", emu.base_url()),
    ];
    let base = [
        "--provider",
        "tencent-cvm",
        "--region",
        "ap-guangzhou",
        "sharees",
        "img-6pb6lrmy",
    ];
    let o = run(&base, &env);
    assert_eq!(
        o.status.code(),
        Some(4),
        "default profile has a bogus key: {}",
        stderr(&o)
    );
    let o = run(&[&["--profile", "work"][..], &base[..]].concat(), &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
