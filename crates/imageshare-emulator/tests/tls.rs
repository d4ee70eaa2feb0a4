//! TLS: the emulator serves https with a CA generated at start; clients that trust that CA
//! (and only they) connect. UCloud's official Python SDK is driven over https with
//! `REQUESTS_CA_BUNDLE`, Tencent's with its own `HttpProfile(certification=PATH)` (it
//! hands requests certifi's bundle itself, so the variable does not reach it), and the
//! standalone binary's `--tls --ca-out PATH` is checked.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use imageshare_emulator::{Emulator, ServerOptions, World};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn tls_emulator() -> Emulator {
    Emulator::start_with(World::example(), ServerOptions::default().tls(true))
        .await
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("imageshare-tls-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn client_trusting(pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn https_is_served_to_clients_that_trust_the_generated_ca() {
    let emu = tls_emulator().await;
    assert!(
        emu.base_url().starts_with("https://127.0.0.1:"),
        "{}",
        emu.base_url()
    );
    let pem = emu.ca_pem().expect("a CA with TLS");
    let port = emu.addr().port();
    for host in ["127.0.0.1", "localhost"] {
        let resp = client_trusting(&pem)
            .get(format!("https://{host}:{port}/_imageshare/health"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(resp.status().as_u16(), 200, "{host}");
    }
    // A client that does not trust the CA is refused by its own verification.
    let untrusted = reqwest::Client::new()
        .get(format!("{}/_imageshare/health", emu.base_url()))
        .send()
        .await;
    assert!(untrusted.is_err(), "an unknown CA must not verify");
    // Each emulator has its own CA; plain http has none.
    assert_ne!(tls_emulator().await.ca_pem(), Some(pem));
    assert_eq!(common::emulator().await.ca_pem(), None);
}

#[tokio::test]
async fn a_plain_http_request_to_the_tls_port_gets_no_answer_and_the_server_goes_on() {
    let emu = tls_emulator().await;
    let plain = reqwest::Client::new()
        .get(format!("http://{}/_imageshare/health", emu.addr()))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    let resp = client_trusting(&emu.ca_pem().unwrap())
        .get(format!("{}/_imageshare/health", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
}

/// The interop Python, when it can import `module`.
fn python(module: &str) -> Option<PathBuf> {
    let p = std::env::var_os("IMAGESHARE_INTEROP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/interop-venv/bin/python"));
    let ok = Command::new(&p)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(p)
}

/// Runs `script` (in tests/interop/) with `args`; `REQUESTS_CA_BUNDLE` set to `bundle` or
/// unset, and no other CA or proxy variable.
fn run_python(
    python: &PathBuf,
    script: &str,
    args: &[String],
    bundle: Option<&PathBuf>,
) -> std::process::Output {
    let mut cmd = Command::new(python);
    cmd.arg(repo().join("tests/interop").join(script))
        .args(args)
        .env_remove("SSL_CERT_FILE")
        .env_remove("CURL_CA_BUNDLE")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy");
    match bundle {
        Some(b) => cmd.env("REQUESTS_CA_BUNDLE", b),
        None => cmd.env_remove("REQUESTS_CA_BUNDLE"),
    };
    cmd.output().unwrap()
}

fn json_line(out: &std::process::Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ucloud_python_sdk_over_https_with_requests_ca_bundle() {
    let Some(python) = python("ucloud") else {
        eprintln!(
            "SKIP ucloud_python_sdk_over_https: no Python with ucloud-sdk-python3 \
             (IMAGESHARE_INTEROP_PYTHON, or tests/run.sh's target/interop-venv)"
        );
        return;
    };
    let emu = tls_emulator().await;
    let dir = scratch("ucloud");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, emu.ca_pem().unwrap()).unwrap();
    let key = emu.account("100000000001").unwrap().keys.ucloud.unwrap();
    let args = [
        emu.base_url(),
        key.public.clone(),
        key.private.clone(),
        "org-a1b2c3".into(),
    ];
    // Without the CA the SDK's verification refuses the emulator's certificate.
    let refused = run_python(&python, "ucloud/tls.py", &args, None);
    assert!(
        !refused.status.success(),
        "connected without trusting the CA"
    );
    assert!(emu.grants("uimage-golden01").is_empty());
    let v = json_line(&run_python(&python, "ucloud/tls.py", &args, Some(&ca)));
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(v["describe"], serde_json::json!(["uimage-golden01"]), "{v}");
    let grants: Vec<String> = emu
        .grants("uimage-golden01")
        .into_iter()
        .map(|g| g.principal)
        .collect();
    assert_eq!(grants, ["org-d4e5f6"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_python_sdk_over_https_with_its_certification_setting() {
    let Some(python) = python("tencentcloud.cvm") else {
        eprintln!(
            "SKIP tencent_python_sdk_over_https: no Python with tencentcloud-sdk-python \
             (IMAGESHARE_INTEROP_PYTHON, or tests/run.sh's target/interop-venv)"
        );
        return;
    };
    let emu = tls_emulator().await;
    let dir = scratch("tencent");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, emu.ca_pem().unwrap()).unwrap();
    let key = emu.account("100000000001").unwrap().keys.tencent.unwrap();
    let mut args = vec![emu.addr().to_string(), key.id.clone(), key.secret.clone()];
    let refused = run_python(&python, "tencent/tls.py", &args, Some(&ca));
    assert!(
        !refused.status.success(),
        "REQUESTS_CA_BUNDLE is not expected to reach this SDK: if it now does, say so in tls.py"
    );
    args.push(ca.display().to_string());
    let v = json_line(&run_python(&python, "tencent/tls.py", &args, None));
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(v["describe"], serde_json::json!(["img-6pb6lrmy"]));
    assert_eq!(v["sharees"], serde_json::json!(["100000000002"]));
    assert_eq!(emu.grants("img-6pb6lrmy").len(), 1);
}

struct Serve(std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_writes_the_ca_and_prints_an_https_url() {
    let dir = scratch("binary");
    let ca = dir.join("ca.pem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_imageshare-emulator"))
        .args(["serve", "--tls", "--ca-out"])
        .arg(&ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = Serve(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let pem = std::fs::read_to_string(&ca).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let resp = client_trusting(&pem)
        .get(format!("{url}/_imageshare/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    // --ca-out without --tls is a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_imageshare-emulator"))
        .args(["serve", "--ca-out", "/nonexistent/ca.pem"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
