//! Tencent Cloud's CLI, tccli, against the emulator, pointed at it the way its docs set an
//! endpoint (`--endpoint HOST:PORT`; tccli speaks https only, so the emulator serves TLS
//! and tests/interop/tccli/run_tccli.py makes tccli trust its CA).
//!
//! tccli is pinned in tests/interop/tccli/requirements-tccli.txt and installed by
//! tests/run.sh into target/tccli-venv, whose Python it names in IMAGESHARE_INTEROP_TCCLI.
//! Without it the test prints why it is skipped and passes.

use std::path::PathBuf;
use std::process::{Command, Output};

use imageshare_emulator::{Emulator, ServerOptions, World};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python with tccli installed, or why the test is skipped.
fn tccli_python() -> Result<PathBuf, String> {
    let python = std::env::var_os("IMAGESHARE_INTEROP_TCCLI")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .ok_or("IMAGESHARE_INTEROP_TCCLI is not set (tests/run.sh installs tccli)")?;
    let ok = Command::new(&python)
        .args(["-c", "import tccli.main"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        return Err(format!("{} cannot import tccli", python.display()));
    }
    Ok(python)
}

struct Tccli {
    python: PathBuf,
    ca: PathBuf,
    home: PathBuf,
    endpoint: String,
}

impl Tccli {
    /// `tccli SERVICE ACTION ARGS... --region ap-guangzhou --endpoint HOST:PORT`, with the
    /// owner's keys in tccli's environment variables.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.python)
            .arg(repo().join("tests/interop/tccli/run_tccli.py"))
            .arg(&self.ca)
            .args(args)
            .args(["--region", "ap-guangzhou", "--endpoint", &self.endpoint])
            .env("HOME", &self.home)
            .env("TENCENTCLOUD_SECRET_ID", "AKIDEMU0000000000000000000000001")
            .env("TENCENTCLOUD_SECRET_KEY", "emu-tencent-secret-1")
            .env_remove("TENCENTCLOUD_SESSION_TOKEN")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .output()
            .expect("run tccli")
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "tccli {args:?}: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("tccli {args:?}: {e}: {stdout}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tccli_shares_through_the_emulator_over_https() {
    let python = match tccli_python() {
        Ok(p) => p,
        Err(why) => {
            println!("skipped: tccli interop: {why}");
            return;
        }
    };
    let emu = Emulator::start_with(World::example(), ServerOptions::default().tls(true))
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("imageshare-tccli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, emu.ca_pem().unwrap()).unwrap();
    let endpoint = emu.addr().to_string();
    let cli = Tccli {
        python,
        ca,
        home: dir.clone(),
        endpoint,
    };
    // tccli blocks; run it off the runtime that serves the emulator.
    let result = tokio::task::spawn_blocking(move || {
        let share = [
            "cvm",
            "ModifyImageSharePermission",
            "--ImageId",
            "img-6pb6lrmy",
            "--AccountIds",
            r#"["100000000002"]"#,
            "--Permission",
            "SHARE",
        ];
        let shared = cli.json(&share);
        let listed = cli.json(&[
            "cvm",
            "DescribeImageSharePermission",
            "--ImageId",
            "img-6pb6lrmy",
        ]);
        let again = cli.run(&share);
        (shared, listed, again)
    })
    .await
    .unwrap();
    let (shared, listed, again) = result;
    assert!(shared["RequestId"].is_string(), "{shared}");
    assert_eq!(
        listed["SharePermissionSet"][0]["AccountId"], "100000000002",
        "{listed}"
    );
    // A refusal is tccli's SDK error with Tencent's code, and a non-zero exit.
    assert!(!again.status.success());
    let text = String::from_utf8_lossy(&again.stdout).to_string()
        + &String::from_utf8_lossy(&again.stderr);
    assert!(
        text.contains("FailedOperation.AccountAlreadyExists"),
        "{text}"
    );
    assert_eq!(emu.grants("img-6pb6lrmy").len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
