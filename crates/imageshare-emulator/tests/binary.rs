//! The standalone binary: serves the default world, prints its address, answers a signed
//! request, and refuses a bad world file.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use imageshare_ucloud::signer::{form_encode, sign_request};
use imageshare_ucloud::UCloudCredentials;

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(args: &[&str]) -> (Serve, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_imageshare-emulator"))
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the emulator binary");
    let stdout = child.stdout.take().unwrap();
    let guard = Serve(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (guard, url)
}

async fn describe(url: &str, private: &str) -> serde_json::Value {
    let creds = UCloudCredentials::new("emu-ucloud-public-1", private);
    let params = sign_request(
        vec![
            ("Action".into(), "DescribeImage".into()),
            ("Region".into(), "cn-bj2".into()),
            ("ImageType".into(), "Custom".into()),
        ],
        &creds,
    );
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .post(format!("{url}/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_encode(&params))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).expect("a JSON answer"))
        .unwrap()
}

#[tokio::test]
async fn serves_the_default_world_and_answers_signed_requests() {
    let (_child, url) = serve(&["--port", "0"]);
    let bad = describe(&url, "wrong").await;
    assert_eq!(bad["RetCode"], 171, "{bad}");
    let good = describe(&url, "emu-ucloud-private-1").await;
    let rc = good["RetCode"].as_u64().unwrap();
    assert!(![170, 171, 172].contains(&rc), "{good}");
}

#[tokio::test]
async fn loads_a_world_file() {
    let dir = std::env::temp_dir().join(format!("imageshare-emu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("world.toml");
    std::fs::write(
        &path,
        r#"
[[account]]
id = "100000000001"
projects = ["org-a1b2c3"]
keys.ucloud = { public = "emu-ucloud-public-1", private = "other-private" }
"#,
    )
    .unwrap();
    let (_child, url) = serve(&["--world", path.to_str().unwrap()]);
    // The default world's key no longer verifies: the file's key is in force.
    assert_eq!(describe(&url, "emu-ucloud-private-1").await["RetCode"], 171);
    let ok = describe(&url, "other-private").await;
    assert_ne!(ok["RetCode"], 171, "{ok}");
}

#[test]
fn refuses_a_bad_world_file_with_status_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_imageshare-emulator"))
        .args(["serve", "--world", "/nonexistent/world.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/world.toml"), "{err}");
}

#[test]
fn example_world_prints_the_default_world() {
    let out = Command::new(env!("CARGO_BIN_EXE_imageshare-emulator"))
        .arg("example-world")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, imageshare_emulator::World::EXAMPLE_TOML);
    assert!(imageshare_emulator::World::from_toml_str(&text).is_ok());
}
