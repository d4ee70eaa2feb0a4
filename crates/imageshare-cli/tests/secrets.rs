//! Secrets (issue #9, item 5). Every CLI command, succeeding and failing (bad signature,
//! unknown key, wrong session token, API errors, limit refusals, broken credential files),
//! runs with logging at TRACE and `--output json` against an emulator whose owner account
//! has distinctive secret keys and session tokens. Nothing printed (stdout, stderr, where
//! the log goes) may contain a secret key, a session token, the TC3 keys derived from the
//! SecretKey, or a request signature; the access key ids appear only where intended (never
//! on stdout; on stderr only in the error line of a rejected key). Also: credential files
//! other users can read raise a warning that names the file and the fix.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use common::{fresh_dir, run_in, stderr, stdout, strings, OWNER};
use imageshare::core::Secret;
use imageshare_emulator::world::{AlibabaKey, TencentKey, UCloudKey};
use imageshare_emulator::{Emulator, World};

const TC_ID: &str = "AKIDsecretsTEST00000000000000001";
const TC_KEY: &str = "TCsecretKEY7f3a9c2eDoNotLog";
const TC_TOKEN: &str = "TCsessionTOKENb81d44DoNotLog";
const ALI_ID: &str = "LTAIsecretsTEST001";
const ALI_KEY: &str = "ALIsecretKEY5e2b71DoNotLog";
const ALI_TOKEN: &str = "ALIstsTOKENc90a13DoNotLog";
const UC_PUBLIC: &str = "uc-public-secretsTEST";
const UC_KEY: &str = "UCprivateKEY3d8e55DoNotLog";

/// The example world with the owner's keys replaced by the distinctive ones above
/// (temporary credentials with session tokens on Tencent and Alibaba).
fn world() -> World {
    let mut w = World::example();
    w.copy_ready_after_ms = 50;
    let owner = w.accounts.iter_mut().find(|a| a.id == OWNER).unwrap();
    owner.keys.tencent = Some(TencentKey {
        id: TC_ID.into(),
        secret: TC_KEY.into(),
        token: Some(TC_TOKEN.into()),
    });
    owner.keys.alibaba = Some(AlibabaKey {
        id: ALI_ID.into(),
        secret: ALI_KEY.into(),
        token: Some(ALI_TOKEN.into()),
    });
    owner.keys.ucloud = Some(UCloudKey {
        public: UC_PUBLIC.into(),
        private: UC_KEY.into(),
    });
    w
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The owner's keys and tokens as each cloud's variables.
fn owner_env(emu: &Emulator) -> Vec<(String, String)> {
    let mut env = pairs(&[
        ("TENCENTCLOUD_SECRET_ID", TC_ID),
        ("TENCENTCLOUD_SECRET_KEY", TC_KEY),
        ("TENCENTCLOUD_SECURITY_TOKEN", TC_TOKEN),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", ALI_ID),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ALI_KEY),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", ALI_TOKEN),
        ("UCLOUD_PUBLIC_KEY", UC_PUBLIC),
        ("UCLOUD_PRIVATE_KEY", UC_KEY),
        ("UCLOUD_PROJECT_ID", "org-a1b2c3"),
    ]);
    env.push(("IMAGESHARE_ENDPOINT".into(), emu.base_url()));
    env
}

/// `env` with `name` set to `value` (replacing it).
fn with(env: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut e: Vec<(String, String)> = env.iter().filter(|(k, _)| k != name).cloned().collect();
    e.push((name.into(), value.into()));
    e
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYY-MM-DD` (UTC) of a day counted from 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Every string that must never be printed: the secrets, the tokens, the Alibaba RPC
/// signing key, and the TC3 keys derived from the SecretKey for yesterday, today and
/// tomorrow (UTC) and both Tencent services.
fn forbidden() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = [
        ("Tencent SecretKey", TC_KEY),
        ("Tencent session token", TC_TOKEN),
        ("Alibaba AccessKey secret", ALI_KEY),
        ("Alibaba STS token", ALI_TOKEN),
        ("UCloud private key", UC_KEY),
    ]
    .iter()
    .map(|(what, s)| ((*what).to_owned(), (*s).to_owned()))
    .collect();
    // Substrings too, in case something truncates: any 12 characters of a secret.
    for (what, s) in out.clone() {
        for i in (0..s.len().saturating_sub(12)).step_by(6) {
            out.push((format!("{what} (part)"), s[i..i + 12].to_owned()));
        }
    }
    let today = (SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400) as i64;
    for day in today - 1..=today + 1 {
        let date = civil(day);
        for service in ["cvm", "lighthouse"] {
            let k = imageshare::tencent::unstable::signer::derive_keys(
                &Secret::new(TC_KEY),
                &date,
                service,
            );
            for (name, key) in [
                ("SecretDate", k.secret_date),
                ("SecretService", k.secret_service),
                ("SecretSigning", k.secret_signing),
            ] {
                out.push((format!("TC3 {name} {date} {service}"), hex(&key)));
                out.push((
                    format!("TC3 {name} {date} {service} (bytes)"),
                    key[..8]
                        .iter()
                        .map(u8::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                ));
            }
        }
    }
    out
}

/// Checks one run's output; returns the problems found.
fn leaks(label: &str, o: &Output, forbidden: &[(String, String)]) -> Vec<String> {
    leaks_in(label, &stdout(o), &stderr(o), forbidden)
}

fn leaks_in(label: &str, out: &str, err: &str, forbidden: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (stream, text) in [("stdout", out), ("stderr", err)] {
        let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for (what, s) in forbidden {
            if text.contains(s.as_str()) || squeezed.contains(s.as_str()) {
                problems.push(format!("{label}: {what} in {stream}"));
            }
        }
        // Signatures and authorization headers: never, or only redacted.
        for marker in [
            "TC3-HMAC-SHA256",
            "ACS3-HMAC-SHA256",
            "Authorization:",
            "authorization:",
        ] {
            if text.contains(marker) {
                problems.push(format!("{label}: {marker:?} in {stream}"));
            }
        }
        for (i, _) in text.match_indices("Signature=") {
            if !text[i + "Signature=".len()..].starts_with("***") {
                problems.push(format!("{label}: an unredacted Signature= in {stream}"));
            }
        }
    }
    // Key ids name a key, they are not secret; still, they belong nowhere on stdout, and
    // on stderr only in the error line of a rejected key.
    for id in [TC_ID, ALI_ID, UC_PUBLIC, "AKIDunknown", "LTAIunknown"] {
        if out.contains(id) {
            problems.push(format!("{label}: key id {id} on stdout"));
        }
        for line in err.lines().filter(|l| l.contains(id)) {
            let rejected = [
                "rejected the credentials",
                "AuthFailure",
                "InvalidAccessKeyId",
            ]
            .iter()
            .any(|m| line.contains(m));
            if !rejected {
                problems.push(format!(
                    "{label}: key id {id} on stderr outside an auth error: {line}"
                ));
            }
        }
    }
    problems
}

struct Run {
    label: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Expected exit status.
    code: i32,
}

fn run(label: &str, args: &[&str], env: &[(String, String)], code: i32) -> Run {
    Run {
        label: label.to_owned(),
        args: strings(&[&["--log-level", "trace", "--output", "json"][..], args].concat()),
        env: env.to_vec(),
        code,
    }
}

fn manifest(dir: &Path) -> String {
    let p = dir.join("images.toml");
    std::fs::write(
        &p,
        "[[image]]\nprovider = \"alibaba-ecs\"\nregion = \"cn-hangzhou\"\nid = \"m-bp18ygjuqnwhechc\"\nshare_with = [\"200000000001\"]\n\n\
         [[image]]\nprovider = \"tencent-lighthouse\"\nregion = \"ap-guangzhou\"\nid = \"lhbp-6jc6l8yb\"\nshare_with = [\"100000000002\"]\n\n\
         [[image]]\nprovider = \"ucloud\"\nregion = \"cn-bj2\"\nid = \"uimage-golden01\"\nshare_with = [\"org-g7h8i9\"]\nprune = true\n",
    )
    .unwrap();
    p.display().to_string()
}

#[test]
fn the_leak_check_finds_each_kind_of_leak() {
    let forbidden = forbidden();
    let clean = "2026-01-01T00:00:00Z DEBUG api_call{provider=tencent-cvm}: done";
    assert!(leaks_in("clean", "{}", clean, &forbidden).is_empty());
    let today = (SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400) as i64;
    let signing = imageshare::tencent::unstable::signer::derive_keys(
        &Secret::new(TC_KEY),
        &civil(today),
        "cvm",
    );
    let leaked = [
        format!("secret={TC_KEY}"),
        format!("key: {}", &ALI_TOKEN[3..18]),
        format!("k={}", hex(&signing.secret_signing)),
        format!("{:?}", signing.secret_date),
        "GET /?Signature=abc%3D".to_owned(),
        "authorization: TC3-HMAC-SHA256 Credential=x".to_owned(),
        format!("INFO using {ALI_ID}"),
    ];
    for text in &leaked {
        assert!(
            !leaks_in("leak", "", text, &forbidden).is_empty(),
            "not caught: {text}"
        );
    }
    assert!(!leaks_in("stdout", TC_ID, "", &forbidden).is_empty());
    // A key id in the error line of a rejected key is where it belongs.
    let rejected = format!(
        "imageshare: tencent-cvm rejected the credentials: AuthFailure.SecretIdNotFound: {TC_ID}"
    );
    assert!(leaks_in("rejected", "", &rejected, &forbidden).is_empty());
    assert!(leaks_in("redacted", "", "GET /?Signature=***&x=1", &forbidden).is_empty());
    assert_eq!(civil(0), "1970-01-01");
    assert_eq!(civil(20_454), "2026-01-01");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_prints_a_secret_at_trace_level() {
    let emu = Emulator::start(world()).await.unwrap();
    let env = owner_env(&emu);
    let dir = fresh_dir("secrets");
    let m = manifest(&dir);
    let ecs = ["--provider", "alibaba-ecs", "--region", "cn-hangzhou"];
    let sas = ["--provider", "alibaba-sas", "--region", "cn-hangzhou"];
    let cvm = ["--provider", "tencent-cvm", "--region", "ap-guangzhou"];
    let lh = [
        "--provider",
        "tencent-lighthouse",
        "--region",
        "ap-guangzhou",
    ];
    let uc = ["--provider", "ucloud", "--region", "cn-bj2"];
    let at = |base: &[&'static str], rest: &[&'static str]| -> Vec<&'static str> {
        [base, rest].concat()
    };
    let images = [
        (&ecs, "m-bp18ygjuqnwhechc", "100000000002"),
        (&sas, "m-sas000000001", "100000000002"),
        (&cvm, "img-6pb6lrmy", "100000000002"),
        (&lh, "lhbp-6jc6l8yb", "100000000002"),
        (&uc, "uimage-golden01", "org-d4e5f6"),
    ];
    let mut runs = vec![run("limits", &["limits"], &env, 0)];
    for (base, image, to) in images {
        let p = base[1];
        let missing = match p {
            "alibaba-ecs" | "alibaba-sas" => "m-nothere00001",
            "tencent-cvm" => "img-nothere1",
            "tencent-lighthouse" => "lhbp-nothere1",
            _ => "uimage-nothere1",
        };
        for (what, rest, code) in [
            ("image", vec!["image", image], 0),
            ("share", vec!["share", image, "--to", to], 0),
            ("sharees", vec!["sharees", image], 0),
            ("unshare", vec!["unshare", image, "--from", to], 0),
            ("share again", vec!["share", image, "--to", to], 0),
            ("unshare --all", vec!["unshare", image, "--all"], 0),
            ("shared-with-me", vec!["shared-with-me"], 0),
            ("not found", vec!["image", missing], 1),
        ] {
            runs.push(run(
                &format!("{p} {what}"),
                &[&base[..], &rest].concat(),
                &env,
                code,
            ));
        }
        // A well-formed account nobody has: the cloud refuses (an API error).
        if p != "ucloud" {
            runs.push(run(
                &format!("{p} share with nobody"),
                &[&base[..], &["share", image, "--to", "123456789012"]].concat(),
                &env,
                1,
            ));
        }
    }
    // Copies and deletes.
    runs.push(run(
        "ecs copy",
        &at(
            &ecs,
            &["copy", "m-bp18ygjuqnwhechc", "--to-region", "cn-shanghai"],
        ),
        &env,
        0,
    ));
    runs.push(run(
        "cvm copy",
        &at(
            &cvm,
            &["copy", "img-6pb6lrmy", "--to-region", "ap-shanghai"],
        ),
        &env,
        0,
    ));
    runs.push(run(
        "ucloud copy",
        &at(&uc, &["copy", "uimage-golden01", "--to-region", "cn-sh2"]),
        &env,
        0,
    ));
    runs.push(run(
        "ucloud copy to another account's project",
        &at(
            &uc,
            &["copy", "uimage-golden01", "--to-project", "org-d4e5f6"],
        ),
        &env,
        1,
    ));
    runs.push(run(
        "sas copy (unsupported)",
        &at(&sas, &["copy", "m-sas000000001"]),
        &env,
        1,
    ));
    runs.push(run(
        "ucloud delete",
        &at(&uc, &["delete", "uimage-ulhost01", "--yes"]),
        &env,
        0,
    ));
    runs.push(run(
        "cvm delete --unshare-first",
        &at(
            &cvm,
            &["delete", "img-whole001", "--unshare-first", "--yes"],
        ),
        &env,
        0,
    ));
    runs.push(run(
        "ecs delete of a received image",
        &at(&ecs, &["delete", "m-bprecv000001", "--yes"]),
        &env,
        1,
    ));
    // Limit refusals.
    runs.push(run(
        "sas RAM user",
        &at(
            &sas,
            &["share", "m-sas000000001", "--to", "alice@1.onaliyun.com"],
        ),
        &env,
        3,
    ));
    runs.push(run(
        "ecs encrypted",
        &at(&ecs, &["share", "m-bpcmk0000001", "--to", "100000000002"]),
        &env,
        3,
    ));
    // Migrations.
    runs.push(run(
        "migrate sas-to-ecs",
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
        0,
    ));
    runs.push(run(
        "migrate cvm-to-lighthouse",
        &[
            "--region",
            "ap-guangzhou",
            "migrate",
            "cvm-to-lighthouse",
            "img-6pb6lrmy",
            "--to",
            "100000000002",
            "--wait-secs",
            "10",
        ],
        &env,
        0,
    ));
    runs.push(run(
        "migrate lighthouse-to-cvm",
        &[
            "--region",
            "ap-guangzhou",
            "migrate",
            "lighthouse-to-cvm",
            "lhbp-6jc6l8yb",
        ],
        &env,
        1,
    ));
    runs.push(run(
        "migrate copy",
        &at(
            &ecs,
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
        ),
        &env,
        0,
    ));
    // Plan and apply.
    runs.push(run("plan", &["plan", "-f", &m], &env, 0));
    runs.push(run("apply without --yes", &["apply", "-f", &m], &env, 2));
    runs.push(run("apply", &["apply", "-f", &m, "--yes"], &env, 0));
    runs.push(run("apply again", &["apply", "-f", &m, "--yes"], &env, 0));
    // Several images through the bulk engine (one missing: partial, 5), then the audit
    // trail all of the above wrote.
    runs.push(run(
        "ecs share several images",
        &at(
            &ecs,
            &[
                "share",
                "m-bp18ygjuqnwhechc",
                "m-bpnothere0001",
                "--to",
                "100000000002",
            ],
        ),
        &env,
        5,
    ));
    runs.push(run("audit", &["audit"], &env, 0));
    // Rejected keys: a wrong secret (bad signature), an unknown key id, a wrong token.
    for (p, base, image, id_var, key_var, unknown) in [
        (
            "tencent",
            &cvm,
            "img-6pb6lrmy",
            "TENCENTCLOUD_SECRET_ID",
            "TENCENTCLOUD_SECRET_KEY",
            "AKIDunknown",
        ),
        (
            "tencent",
            &lh,
            "lhbp-6jc6l8yb",
            "TENCENTCLOUD_SECRET_ID",
            "TENCENTCLOUD_SECRET_KEY",
            "AKIDunknown",
        ),
        (
            "alibaba",
            &ecs,
            "m-bp18ygjuqnwhechc",
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "LTAIunknown",
        ),
        (
            "alibaba",
            &sas,
            "m-sas000000001",
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "LTAIunknown",
        ),
        (
            "ucloud",
            &uc,
            "uimage-golden01",
            "UCLOUD_PUBLIC_KEY",
            "UCLOUD_PRIVATE_KEY",
            "uc-public-unknown",
        ),
    ] {
        let args = at(base, &["sharees", image]);
        let label = base[1];
        // The secret with one character changed: a signature the cloud cannot match.
        let wrong = format!("{}X", &env.iter().find(|(k, _)| k == key_var).unwrap().1);
        runs.push(run(
            &format!("{label} bad signature"),
            &args,
            &with(&env, key_var, &wrong),
            4,
        ));
        runs.push(run(
            &format!("{label} unknown key"),
            &args,
            &with(&env, id_var, unknown),
            4,
        ));
        let token_var = match p {
            "tencent" => Some("TENCENTCLOUD_SECURITY_TOKEN"),
            "alibaba" => Some("ALIBABA_CLOUD_SECURITY_TOKEN"),
            _ => None,
        };
        if let Some(v) = token_var {
            runs.push(run(
                &format!("{label} wrong token"),
                &args,
                &with(&env, v, "not-the-token"),
                4,
            ));
        }
    }
    // The log level from IMAGESHARE_LOG instead of the flag.
    runs.push(Run {
        label: "IMAGESHARE_LOG=trace".into(),
        args: strings(&at(&cvm, &["--output", "json", "sharees", "img-6pb6lrmy"])),
        env: with(&env, "IMAGESHARE_LOG", "trace"),
        code: 0,
    });

    let forbidden = forbidden();
    let mut problems = Vec::new();
    let mut traced = 0;
    for r in &runs {
        let o = run_in(&dir, &r.args, &r.env);
        if o.status.code() != Some(r.code) {
            problems.push(format!(
                "{}: exit {:?}, expected {}: {}",
                r.label,
                o.status.code(),
                r.code,
                stderr(&o)
            ));
        }
        if stderr(&o).contains(" TRACE ") {
            traced += 1;
        }
        problems.extend(leaks(&r.label, &o, &forbidden));
    }
    // The audit trail (the default one, under the scratch HOME) holds no secret either,
    // nor a key id.
    let trail = std::fs::read_to_string(dir.join(".local/state/imageshare/audit.jsonl")).unwrap();
    assert!(trail.lines().count() > 10, "{trail}");
    problems.extend(leaks_in("audit trail", &trail, "", &forbidden));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The logs were on: most runs send requests and so write TRACE lines.
    assert!(
        traced * 2 > runs.len(),
        "{traced} of {} runs logged at TRACE",
        runs.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes the three clouds' profile files into `home` with `mode`, holding the owner's
/// keys (no environment variables needed).
#[cfg(unix)]
fn profile_files(home: &Path, mode: u32) -> [std::path::PathBuf; 3] {
    use std::os::unix::fs::PermissionsExt;
    let files = [
        (
            ".aliyun/config.json",
            format!(
                r#"{{"current": "default", "profiles": [{{"name": "default", "mode": "StsToken",
                "access_key_id": "{ALI_ID}", "access_key_secret": "{ALI_KEY}",
                "sts_token": "{ALI_TOKEN}", "region_id": "cn-hangzhou"}}]}}"#
            ),
        ),
        (
            ".tencentcloud/credentials",
            format!("[default]\nsecret_id = {TC_ID}\nsecret_key = {TC_KEY}\n"),
        ),
        (
            ".ucloud/credential.json",
            format!(
                r#"[{{"public_key": "{UC_PUBLIC}", "private_key": "{UC_KEY}", "profile": "default"}}]"#
            ),
        ),
    ];
    std::fs::create_dir_all(home.join(".ucloud")).unwrap();
    std::fs::write(
        home.join(".ucloud/config.json"),
        r#"[{"profile": "default", "active": true, "project_id": "org-a1b2c3", "region": "cn-bj2"}]"#,
    )
    .unwrap();
    files.map(|(rel, text)| {
        let p = home.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    })
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_files_other_users_can_read_are_warned_about() {
    // The Tencent file holds no token: the Tencent account of this world has none.
    let mut w = world();
    let owner = w.accounts.iter_mut().find(|a| a.id == OWNER).unwrap();
    owner.keys.tencent.as_mut().unwrap().token = None;
    let emu = Emulator::start(w).await.unwrap();
    let endpoint = vec![("IMAGESHARE_ENDPOINT".to_owned(), emu.base_url())];
    let forbidden = forbidden();
    let commands = [
        ("alibaba-ecs", "cn-hangzhou", "m-bp18ygjuqnwhechc", 0),
        ("tencent-cvm", "ap-guangzhou", "img-6pb6lrmy", 1),
        ("ucloud", "cn-bj2", "uimage-golden01", 2),
    ];
    for mode in [0o644, 0o640, 0o604, 0o660] {
        let home = fresh_dir(&format!("perm-{mode:o}"));
        let files = profile_files(&home, mode);
        for (provider, region, image, file) in commands {
            let args = strings(&["--provider", provider, "--region", region, "sharees", image]);
            let o = run_in(&home, &args, &endpoint);
            let (err, path) = (stderr(&o), files[file].display().to_string());
            assert_eq!(o.status.code(), Some(0), "{provider} {mode:o}: {err}");
            assert_eq!(
                err.matches(&format!("chmod 600 {path}")).count(),
                1,
                "{provider} {mode:o}: one warning naming the file and the fix: {err}"
            );
            assert!(err.contains("WARN"), "{err}");
            assert!(err.contains(&format!("mode {mode:03o}")), "{err}");
            let problems = leaks(&format!("{provider} {mode:o}"), &o, &forbidden);
            assert!(problems.is_empty(), "{}", problems.join("\n"));
            // --log-level off silences it.
            let quiet = [
                &["--log-level", "off"][..],
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
            ]
            .concat();
            let o = run_in(&home, &strings(&quiet), &endpoint);
            assert_eq!(o.status.code(), Some(0));
            assert!(!stderr(&o).contains("chmod"), "{}", stderr(&o));
        }
        let _ = std::fs::remove_dir_all(&home);
    }
    // Owner-only files: no warning.
    let home = fresh_dir("perm-600");
    profile_files(&home, 0o600);
    for (provider, region, image, _) in commands {
        let args = strings(&["--provider", provider, "--region", region, "sharees", image]);
        let o = run_in(&home, &args, &endpoint);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stderr(&o).is_empty(), "{provider}: {}", stderr(&o));
    }
    let _ = std::fs::remove_dir_all(&home);
}
