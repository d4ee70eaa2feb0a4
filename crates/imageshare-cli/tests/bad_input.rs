//! The bad-input corpus (issue #9, item 2): one table of inputs that can never be right,
//! given to the CLI (flags, manifests, credentials) and to the library. Each case must be
//! refused with a typed error (CLI: the exit status; library: the `Error` variant) whose
//! message names the problem, and must send nothing to the cloud: each case runs against
//! its own in-process emulator, whose call log must be empty afterwards. Cases that can
//! only be judged after a read (the image's region, owner, encryption, current sharees)
//! are marked `Sent::ReadsOnly`: the log may hold reads, never a call that changes
//! anything.

mod common;

use imageshare::testing::ConnectEmulator;
use imageshare::ClientBuilder;
use imageshare::ImageSharingExt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use common::{fresh_dir, owner_env, run_async, stderr, strings, writes, OWNER};
use imageshare::core::{Error, Principal, Provider};
use imageshare::manifest::{Manifest, ManifestError};
use imageshare::Connect;
use imageshare_emulator::{Emulator, World};

/// What a refused case may have sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// Not a single request.
    Nothing,
    /// Reads only (`Describe*`, `List*`, `Get*`): the check needs the image or its
    /// sharees first.
    ReadsOnly,
}

/// A library error: the core `Error`, or a manifest error.
enum LibError {
    Core(Error),
    Manifest(ManifestError),
}

impl From<Error> for LibError {
    fn from(e: Error) -> Self {
        LibError::Core(e)
    }
}

impl From<ManifestError> for LibError {
    fn from(e: ManifestError) -> Self {
        LibError::Manifest(e)
    }
}

/// The name of an error's variant, for the table.
fn variant(e: &LibError) -> &'static str {
    match e {
        LibError::Manifest(_) => "ManifestError",
        LibError::Core(e) => match e {
            Error::Limit(_) => "Limit",
            Error::Api(_) => "Api",
            Error::Auth { .. } => "Auth",
            Error::CredentialsNotFound { .. } => "CredentialsNotFound",
            Error::Transport { .. } => "Transport",
            Error::Decode { .. } => "Decode",
            Error::InvalidInput { .. } => "InvalidInput",
            Error::NotFound { .. } => "NotFound",
            Error::Unsupported { .. } => "Unsupported",
            Error::Timeout { .. } => "Timeout",
            Error::Partial(_) => "Partial",
            _ => "other",
        },
    }
}

fn message(e: &LibError) -> String {
    match e {
        LibError::Core(e) => e.to_string(),
        LibError::Manifest(e) => e.to_string(),
    }
}

type LibFuture = Pin<Box<dyn Future<Output = Result<(), LibError>> + Send>>;
type LibFn = Box<dyn Fn(Arc<Emulator>, PathBuf) -> LibFuture + Send + Sync>;

/// How a case is run.
enum Input {
    /// The binary with these arguments; `{dir}` in an argument or a variable is the case's
    /// own directory (also its `HOME`). `unset` removes owner variables; `files` are written
    /// into the case directory first.
    Cli {
        args: Vec<String>,
        set: Vec<(String, String)>,
        unset: Vec<String>,
        files: Vec<(String, String)>,
        prepare: Option<fn(&Path)>,
        code: i32,
    },
    /// A library call against the emulator; must fail with `variant`.
    Lib { call: LibFn, variant: &'static str },
}

/// One row of the corpus.
struct Case {
    name: &'static str,
    input: Input,
    says: &'static str,
    sent: Sent,
    /// Why the case cannot run here (decided at run time), if it cannot.
    skip: Option<fn() -> Option<&'static str>>,
}

impl Case {
    fn says(mut self, s: &'static str) -> Self {
        self.says = s;
        self
    }
    fn reads_only(mut self) -> Self {
        self.sent = Sent::ReadsOnly;
        self
    }
    fn code(mut self, c: i32) -> Self {
        if let Input::Cli { code, .. } = &mut self.input {
            *code = c;
        }
        self
    }
    fn set(mut self, k: &str, v: &str) -> Self {
        if let Input::Cli { set, .. } = &mut self.input {
            set.push((k.to_owned(), v.to_owned()));
        }
        self
    }
    fn unset(mut self, names: &[&str]) -> Self {
        if let Input::Cli { unset, .. } = &mut self.input {
            unset.extend(names.iter().map(|s| (*s).to_owned()));
        }
        self
    }
    fn file(mut self, name: &str, text: impl Into<String>) -> Self {
        if let Input::Cli { files, .. } = &mut self.input {
            files.push((name.to_owned(), text.into()));
        }
        self
    }
    fn prepare(mut self, f: fn(&Path)) -> Self {
        if let Input::Cli { prepare, .. } = &mut self.input {
            *prepare = Some(f);
        }
        self
    }
    fn skip_when(mut self, f: fn() -> Option<&'static str>) -> Self {
        self.skip = Some(f);
        self
    }
}

/// A CLI case; exit status 2 unless `.code()` says otherwise.
fn cli(name: &'static str, args: &[&str]) -> Case {
    Case {
        name,
        input: Input::Cli {
            args: strings(args),
            set: Vec::new(),
            unset: Vec::new(),
            files: Vec::new(),
            prepare: None,
            code: 2,
        },
        says: "",
        sent: Sent::Nothing,
        skip: None,
    }
}

/// A CLI case whose arguments are built at run time.
fn cli_owned(name: &'static str, args: Vec<String>) -> Case {
    let mut c = cli(name, &[]);
    if let Input::Cli { args: a, .. } = &mut c.input {
        *a = args;
    }
    c
}

/// A library case.
fn lib<F, Fut>(name: &'static str, variant: &'static str, call: F) -> Case
where
    F: Fn(Arc<Emulator>, PathBuf) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), LibError>> + Send + 'static,
{
    Case {
        name,
        input: Input::Lib {
            call: Box::new(move |emu, dir| Box::pin(call(emu, dir))),
            variant,
        },
        says: "",
        sent: Sent::Nothing,
        skip: None,
    }
}

const ECS: [&str; 4] = ["--provider", "alibaba-ecs", "--region", "cn-hangzhou"];
const SAS: [&str; 4] = ["--provider", "alibaba-sas", "--region", "cn-hangzhou"];
const CVM: [&str; 4] = ["--provider", "tencent-cvm", "--region", "ap-guangzhou"];
const LH: [&str; 4] = [
    "--provider",
    "tencent-lighthouse",
    "--region",
    "ap-guangzhou",
];
const UC: [&str; 4] = ["--provider", "ucloud", "--region", "cn-bj2"];

fn at<'a>(base: &[&'a str], rest: &[&'a str]) -> Vec<&'a str> {
    [base, rest].concat()
}

/// Every cloud's key variables (to take them all away).
const ALL_KEYS: [&str; 6] = [
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRET_KEY",
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "UCLOUD_PUBLIC_KEY",
    "UCLOUD_PRIVATE_KEY",
];

/// `n` distinct well-formed account ids that are nobody in the example world.
fn accounts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("3{i:011}")).collect()
}

fn manifest_entry(provider: &str, region: &str, id: &str, share_with: &[String]) -> String {
    let list: Vec<String> = share_with.iter().map(|p| format!("{p:?}")).collect();
    format!(
        "[[image]]\nprovider = \"{provider}\"\nregion = \"{region}\"\nid = \"{id}\"\nshare_with = [{}]\n",
        list.join(", ")
    )
}

fn not_root() -> Option<&'static str> {
    #[cfg(unix)]
    {
        if common::is_root() {
            return Some("running as root, which reads a mode-000 file anyway");
        }
        None
    }
    #[cfg(not(unix))]
    Some("file permission bits are a Unix notion")
}

fn not_unix() -> Option<&'static str> {
    if cfg!(unix) {
        None
    } else {
        Some("symbolic links to devices are a Unix notion")
    }
}

fn no_mkfifo() -> Option<&'static str> {
    let found = std::process::Command::new("mkfifo")
        .arg("--version")
        .output()
        .is_ok();
    (!found).then_some("no mkfifo on this machine")
}

/// The adapter of `provider` on the emulator, as the owner, behind the checker.
fn owner(emu: &Emulator, provider: Provider, region: &str) -> imageshare::DynSharing {
    Connect::new(provider)
        .region(region)
        .emulator(emu, OWNER)
        .build()
        .unwrap()
}

fn corpus() -> Vec<Case> {
    let good_manifest = manifest_entry(
        "alibaba-ecs",
        "cn-hangzhou",
        "m-bp18ygjuqnwhechc",
        &strings(&["100000000002"]),
    );
    vec![
        // ---- flags -------------------------------------------------------------------
        cli(
            "unknown provider",
            &["--provider", "aws", "--region", "x", "sharees", "i-1"],
        )
        .says("unknown provider \"aws\""),
        cli(
            "missing provider",
            &["--region", "cn-hangzhou", "sharees", "m-1"],
        )
        .says("--provider is required"),
        cli(
            "missing region",
            &["--provider", "tencent-cvm", "sharees", "img-6pb6lrmy"],
        )
        .unset(&["TENCENTCLOUD_REGION"])
        .says("no region given"),
        cli(
            "ECS: region with a space",
            &[
                "--provider",
                "alibaba-ecs",
                "--region",
                "cn hangzhou",
                "sharees",
                "m-bp18ygjuqnwhechc",
            ],
        )
        .says("is not a region id"),
        cli(
            "CVM: empty region",
            &[
                "--provider",
                "tencent-cvm",
                "--region",
                "",
                "sharees",
                "img-6pb6lrmy",
            ],
        )
        .says("\"\" is not a region id of tencent-cvm"),
        cli(
            "UCloud: region with query characters",
            &[
                "--provider",
                "ucloud",
                "--region",
                "cn-bj2&x=1",
                "sharees",
                "uimage-golden01",
            ],
        )
        .says("\"cn-bj2&x=1\" is not a region id of ucloud"),
        cli(
            "CVM: copy to a malformed region",
            &at(&CVM, &["copy", "img-6pb6lrmy", "--to-region", "ap-shanghai&x=1"]),
        )
        .says("invalid target region: \"ap-shanghai&x=1\" is not a region id of tencent-cvm"),
        cli(
            "CVM: copy to its own region",
            &at(&CVM, &["copy", "img-6pb6lrmy", "--to-region", "ap-guangzhou"]),
        )
        .says("ap-guangzhou is the adapter's own region"),
        cli(
            "unknown output format",
            &[&ECS[..], &["--output", "yaml", "sharees", "m-1"]].concat(),
        )
        .says("invalid value 'yaml' for '--output"),
        cli(
            "timeout not a number",
            &[&ECS[..], &["--timeout", "soon", "sharees", "m-1"]].concat(),
        )
        .says("invalid value 'soon' for '--timeout"),
        cli(
            "timeout zero",
            &[&ECS[..], &["--timeout", "0", "sharees", "m-1"]].concat(),
        )
        .says("0 is not in 1..=3600"),
        cli(
            "timeout negative",
            &[&ECS[..], &["--timeout=-5", "sharees", "m-1"]].concat(),
        )
        .says("'--timeout"),
        cli("unknown log level", &["--log-level", "verbose", "limits"])
            .says("\"verbose\" is not a log level"),
        cli(
            "endpoint not a URL",
            &[
                &ECS[..],
                &["--endpoint", "not a url", "sharees", "m-bp18ygjuqnwhechc"],
            ]
            .concat(),
        )
        .says("invalid endpoint: \"not a url\" is not a URL"),
        cli(
            "endpoint of another scheme",
            &[
                &CVM[..],
                &["--endpoint", "ftp://127.0.0.1:1", "sharees", "img-6pb6lrmy"],
            ]
            .concat(),
        )
        .says("must be an http:// or https:// URL"),
        cli(
            "endpoint without host",
            &[
                &UC[..],
                &["--endpoint", "http://", "sharees", "uimage-golden01"],
            ]
            .concat(),
        )
        .says("invalid endpoint"),
        // #17 bug 1: userinfo in the endpoint replaced the signature with HTTP Basic
        // credentials sent in clear. The emulator is the endpoint: nothing may reach it.
        cli(
            "endpoint with a user name and password",
            &[
                &CVM[..],
                &[
                    "--endpoint",
                    "http://admin:s3cr3t@{emu}",
                    "sharees",
                    "img-6pb6lrmy",
                ],
            ]
            .concat(),
        )
        .says("carries a user name or password"),
        cli("unknown command", &[&ECS[..], &["frobnicate"]].concat())
            .says("unrecognized subcommand 'frobnicate'"),
        cli(
            "copy to a region and a project",
            &[
                &UC[..],
                &[
                    "copy",
                    "uimage-golden01",
                    "--to-region",
                    "cn-sh2",
                    "--to-project",
                    "org-d4e5f6",
                ],
            ]
            .concat(),
        )
        .says("cannot be used with"),
        cli(
            "unshare with neither --from nor --all",
            &at(&CVM, &["unshare", "img-6pb6lrmy"]),
        )
        .says("--from <FROM>"),
        cli(
            "wait-secs not a number",
            &[
                &CVM[..],
                &[
                    "migrate",
                    "copy",
                    "img-6pb6lrmy",
                    "--to-region",
                    "ap-shanghai",
                    "--wait-secs",
                    "later",
                ],
            ]
            .concat(),
        )
        .says("invalid value 'later' for '--wait-secs"),
        cli(
            "migrate without region",
            &["migrate", "sas-to-ecs", "m-sas000000001"],
        )
        .says("--region is required"),
        // ---- numbers: every numeric flag's range is checked when parsed (#17 bug 4) ----
        cli_owned(
            "wait-secs that would wrap (#17 bug 4)",
            strings(&at(
                &CVM,
                &["migrate", "copy", "img-6pb6lrmy", "--to-region", "ap-shanghai", "--wait-secs", "18446744073709552"],
            )),
        )
        .says("18446744073709552 is not in 1..=86400"),
        cli_owned(
            "wait-secs zero (#17 bug 4)",
            strings(&at(
                &CVM,
                &["migrate", "copy", "img-6pb6lrmy", "--to-region", "ap-shanghai", "--wait-secs", "0"],
            )),
        )
        .says("0 is not in 1..=86400"),
        cli(
            "timeout past u64 (#17 bug 4)",
            &at(&ECS, &["--timeout", "99999999999999999999999", "sharees", "m-1"]),
        )
        .says("invalid value '99999999999999999999999' for '--timeout"),
        cli(
            "timeout above its range (#17 bug 4)",
            &at(&ECS, &["--timeout", "3601", "sharees", "m-1"]),
        )
        .says("3601 is not in 1..=3600"),
        cli(
            "emulator port above 65535 (#17 bug 4)",
            &["emulator", "serve", "--port", "65536"],
        )
        .says("65536 is not in 0..=65535"),
        cli(
            "negative wait-secs (#17 bug 4)",
            &at(&CVM, &["migrate", "copy", "img-6pb6lrmy", "--to-region", "ap-shanghai", "--wait-secs=-1"]),
        )
        .says("--wait-secs"),
        // ---- unbounded reads: devices, FIFOs and huge files are refused fast (#17 bug 3) --
        cli("manifest is /dev/zero (#17 bug 3)", &["plan", "-f", "/dev/zero"])
            .says("it is a character device, not a regular file"),
        cli("manifest is a symlink to /dev/zero (#17 bug 3)", &["apply", "-f", "{dir}/m.toml", "--yes"])
            .prepare(|dir| {
                #[cfg(unix)]
                std::os::unix::fs::symlink("/dev/zero", dir.join("m.toml")).unwrap();
                #[cfg(not(unix))]
                let _ = dir;
            })
            .skip_when(not_unix)
            .says("it is a character device, not a regular file"),
        cli("manifest is a FIFO (#17 bug 3)", &["plan", "-f", "{dir}/m.toml"])
            .prepare(|dir| {
                let ok = std::process::Command::new("mkfifo")
                    .arg(dir.join("m.toml"))
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(ok, "mkfifo");
            })
            .skip_when(no_mkfifo)
            .says("it is a FIFO, not a regular file"),
        cli("manifest larger than 4 MiB (#17 bug 3)", &["plan", "-f", "{dir}/m.toml"])
            .prepare(|dir| {
                let f = std::fs::File::create(dir.join("m.toml")).unwrap();
                f.set_len(5 * 1024 * 1024).unwrap(); // sparse: nothing is written
            })
            .says("a manifest may be at most 4194304 bytes"),
        cli("audit trail is /dev/zero (#17 bug 3)", &["--audit-log", "/dev/zero", "audit"])
            .code(1)
            .says("/dev/zero: it is not a regular file"),
        cli("audit trail of one endless line (#17 bug 3)", &["--audit-log", "{dir}/a.jsonl", "audit"])
            .prepare(|dir| {
                let f = std::fs::File::create(dir.join("a.jsonl")).unwrap();
                f.set_len(300 * 1024 * 1024).unwrap(); // 300 MB of NULs, no newline, sparse
            })
            .code(1)
            .says("line 1 is longer than 65536 bytes"),
        cli("world file is /dev/zero (#17 bug 3)", &["emulator", "serve", "--world", "/dev/zero"])
            .says("cannot read the world file /dev/zero: it is a character device"),
        cli("world file larger than 4 MiB (#17 bug 3)", &["emulator", "serve", "--world", "{dir}/w.toml"])
            .prepare(|dir| {
                let f = std::fs::File::create(dir.join("w.toml")).unwrap();
                f.set_len(5 * 1024 * 1024).unwrap();
            })
            .says("the world file"),
        // ---- printed principal forms (#17 bug 9) ----------------------------------------
        cli(
            "CVM: share to a project:ID (#17 bug 9)",
            &at(&CVM, &["share", "img-6pb6lrmy", "--to", "project:org-a1b2c3"]),
        )
        .code(3)
        .reads_only()
        .says("org-a1b2c3"),
        // ---- organisation principals (#15) ---------------------------------------------
        cli(
            "ECS: a folder id without fd- (#15)",
            &at(&ECS, &["share", "m-bp18ygjuqnwhechc", "--to", "folder:prod"]),
        )
        .code(3)
        .says("is not a resource directory folder id (fd-...)"),
        cli(
            "CVM: a folder principal (#15)",
            &at(&CVM, &["share", "img-6pb6lrmy", "--to", "folder:fd-Prod"]),
        )
        .code(3)
        .says("has no organisation sharing"),
        cli(
            "ECS: a directory id with a dot (#15)",
            &at(&ECS, &["share", "m-bp18ygjuqnwhechc", "--to", "directory:rd-a.b"]),
        )
        .code(3)
        .says("is not a resource directory id (rd-...)"),
        cli(
            "manifest folder on SAS (#15)",
            &["plan", "-f", "{dir}/m.toml"],
        )
        .file(
            "m.toml",
            manifest_entry(
                "alibaba-sas",
                "cn-hangzhou",
                "m-sas000000001",
                &strings(&["folder:fd-Prod"]),
            ),
        )
        .says("image[0].share_with[0]: alibaba-sas has no organisation sharing"),
        cli(
            "manifest folder without --resource-sharing (#15: the plan would not see it)",
            &["plan", "-f", "{dir}/m.toml"],
        )
        .file(
            "m.toml",
            manifest_entry(
                "alibaba-ecs",
                "cn-hangzhou",
                "m-bp18ygjuqnwhechc",
                &strings(&["folder:fd-Prod"]),
            ),
        )
        .code(3)
        .says("--resource-sharing"),
        // ---- community images (#15) -------------------------------------------------
        cli(
            "publish without --everyone-in-the-region (#15)",
            &at(&ECS, &["publish", "m-bp18ygjuqnwhechc"]),
        )
        .says("pass --everyone-in-the-region to confirm"),
        cli(
            "publish an encrypted image (#15)",
            &at(&ECS, &["publish", "m-bpcmk0000001", "--everyone-in-the-region"]),
        )
        .code(3)
        .reads_only()
        .says("encrypted images cannot be published"),
        cli(
            "publish on CVM (#15)",
            &at(
                &["--provider", "tencent-cvm", "--region", "ap-guangzhou"],
                &["publish", "img-6pb6lrmy", "--everyone-in-the-region"],
            ),
        )
        .says("tencent-cvm has no community images"),
        // ---- image ids ---------------------------------------------------------------
        cli(
            "ECS: a CVM image id",
            &at(&ECS, &["share", "img-6pb6lrmy", "--to", "100000000002"]),
        )
        .says("alibaba-ecs custom image ids have the form m-"),
        cli("ECS: empty image id", &at(&ECS, &["sharees", ""]))
            .says("invalid image id \"\": it is empty"),
        cli(
            "ECS: image id with a space",
            &at(&ECS, &["image", "m-bp18 ygjuqnwhechc"]),
        )
        .says("' ' is not allowed"),
        cli(
            "ECS: image id with query characters",
            &at(&ECS, &["delete", "m-1&Action=DeleteImage"]),
        )
        .says("'&' is not allowed"),
        cli(
            "SAS: a Lighthouse id",
            &at(&SAS, &["share", "lhbp-6jc6l8yb", "--to", "100000000002"]),
        )
        .says("alibaba-sas custom image ids have the form m-"),
        cli(
            "CVM: an ECS image id",
            &at(&CVM, &["unshare", "m-bp18ygjuqnwhechc", "--all"]),
        )
        .says("tencent-cvm custom image ids have the form img-"),
        cli(
            "CVM: bare prefix",
            &at(&CVM, &["copy", "img-", "--to-region", "ap-shanghai"]),
        )
        .says("tencent-cvm custom image ids have the form img-"),
        cli(
            "Lighthouse: a CVM image id",
            &at(&LH, &["share", "img-6pb6lrmy", "--to", "100000000002"]),
        )
        .says("tencent-lighthouse custom image ids have the form lhbp-"),
        cli(
            "UCloud: an ECS image id",
            &at(&UC, &["sharees", "m-bp18ygjuqnwhechc"]),
        )
        .says("ucloud custom image ids have the form uimage-"),
        cli_owned(
            "UCloud: a 200-character image id",
            strings(&at(&UC, &["image", &format!("uimage-{}", "a".repeat(193))])),
        )
        .says("200 characters, at most 128"),
        cli(
            "migrate sas-to-ecs: an ECS-looking CVM id",
            &["--region", "cn-hangzhou", "migrate", "sas-to-ecs", "img-1"],
        )
        .says("alibaba-sas custom image ids have the form m-"),
        cli(
            "migrate lighthouse-to-cvm: a CVM id",
            &[
                "--region",
                "ap-guangzhou",
                "migrate",
                "lighthouse-to-cvm",
                "img-6pb6lrmy",
            ],
        )
        .says("tencent-lighthouse custom image ids have the form lhbp-"),
        // ---- principals --------------------------------------------------------------
        cli(
            "empty principal list",
            &at(&ECS, &["share", "m-bp18ygjuqnwhechc", "--to", ""]),
        )
        .says("the list of accounts is empty"),
        cli(
            "only separators",
            &at(&CVM, &["unshare", "img-6pb6lrmy", "--from", ",,"]),
        )
        .says("the list of accounts is empty"),
        cli(
            "ECS: account id with letters",
            &at(&ECS, &["share", "m-bp18ygjuqnwhechc", "--to", "12ab"]),
        )
        .code(3)
        .says("\"12ab\" is not a main-account id"),
        cli(
            "ECS: account id too short",
            &at(&ECS, &["share", "m-bp18ygjuqnwhechc", "--to", "123"]),
        )
        .code(3)
        .says("\"123\" is not a main-account id of 5 to 20 digits"),
        cli(
            "ECS: a UCloud project id",
            &at(&ECS, &["share", "m-bp18ygjuqnwhechc", "--to", "org-d4e5f6"]),
        )
        .code(3)
        .says("\"org-d4e5f6\" is not a main-account id"),
        cli(
            "ECS: a RAM user ARN",
            &at(
                &ECS,
                &[
                    "unshare",
                    "m-bp18ygjuqnwhechc",
                    "--from",
                    "acs:ram::1234567890:user/alice",
                ],
            ),
        )
        .code(3)
        .says("looks like a RAM user"),
        cli(
            "SAS: a RAM user logon name",
            &at(
                &SAS,
                &[
                    "share",
                    "m-sas000000001",
                    "--to",
                    "alice@1234567890.onaliyun.com",
                ],
            ),
        )
        .code(3)
        .says("looks like a RAM user"),
        cli(
            "CVM: account id too long",
            &at(
                &CVM,
                &["share", "img-6pb6lrmy", "--to", "123456789012345678901"],
            ),
        )
        .code(3)
        .says("is not a main-account id of 5 to 20 digits"),
        cli(
            "Lighthouse: a project id",
            &at(&LH, &["share", "lhbp-6jc6l8yb", "--to", "org-d4e5f6"]),
        )
        .code(3)
        .says("\"org-d4e5f6\" is not a main-account id"),
        cli(
            "UCloud: an account id",
            &at(&UC, &["share", "uimage-golden01", "--to", "100000000002"]),
        )
        .code(3)
        .says("\"100000000002\" is not a ucloud project id"),
        cli(
            "UCloud: --project is an account id",
            &at(
                &UC,
                &["--project", "100000000001", "sharees", "uimage-golden01"],
            ),
        )
        .says("invalid --project: \"100000000001\" is not a ucloud project id"),
        cli(
            "UCloud: copy to an account",
            &at(
                &UC,
                &["copy", "uimage-golden01", "--to-project", "100000000002"],
            ),
        )
        .says("invalid --to-project: \"100000000002\" is not a ucloud project id"),
        cli(
            "CVM: copy to a project",
            &at(
                &CVM,
                &["copy", "img-6pb6lrmy", "--to-project", "org-d4e5f6"],
            ),
        )
        .says("--to-project is for ucloud only"),
        cli_owned("ECS: 51 distinct accounts (50 per image)", {
            let mut a = strings(&at(&ECS, &["share", "m-bp18ygjuqnwhechc"]));
            a.push("--to".into());
            a.push(accounts(51).join(","));
            a
        })
        .code(3)
        .says("at most 50 accounts")
        .reads_only(),
        cli(
            "share with the owner",
            &at(&CVM, &["share", "img-6pb6lrmy", "--to", OWNER]),
        )
        .code(3)
        .says("cannot be shared with its owner")
        .reads_only(),
        cli(
            "cross-region: the image lives in another region",
            &[
                "--provider",
                "alibaba-ecs",
                "--region",
                "cn-shanghai",
                "share",
                "m-bp18ygjuqnwhechc",
                "--to",
                "100000000002",
            ],
        )
        .code(1)
        .says("m-bp18ygjuqnwhechc not found")
        .reads_only(),
        // #17 bug 8: CVM cannot share an encrypted image at all; the describe call says it is
        // encrypted, so the refusal is made before ModifyImageSharePermission is sent.
        cli(
            "CVM: an encrypted image",
            &at(&CVM, &["share", "img-enc00001", "--to", "100000000002"]),
        )
        .code(3)
        .says("img-enc00001")
        .says("encrypted")
        .reads_only(),
        cli(
            "an encrypted image without --allow-encrypted",
            &at(&ECS, &["share", "m-bpcmk0000001", "--to", "100000000002"]),
        )
        .code(3)
        .says("--allow-encrypted")
        .reads_only(),
        cli(
            "a public image",
            &at(&UC, &["share", "uimage-centos79", "--to", "org-d4e5f6"]),
        )
        .code(3)
        .says("shares custom images only")
        .reads_only(),
        // ---- manifests ---------------------------------------------------------------
        cli("manifest missing", &["plan", "-f", "{dir}/nothere.toml"])
            .says("cannot read the manifest"),
        cli("manifest is a directory", &["plan", "-f", "{dir}"]).says("cannot read the manifest"),
        cli(
            "manifest unreadable (mode 000)",
            &["apply", "-f", "{dir}/m.toml", "--yes"],
        )
        .file("m.toml", good_manifest.clone())
        .prepare(|dir| {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(
                    dir.join("m.toml"),
                    std::fs::Permissions::from_mode(0o000),
                )
                .unwrap();
            }
            #[cfg(not(unix))]
            let _ = dir;
        })
        .skip_when(not_root)
        .says("Permission denied"),
        cli(
            "manifest half-written",
            &["apply", "-f", "{dir}/m.toml", "--yes"],
        )
        .file(
            "m.toml",
            good_manifest[..good_manifest.len() - 10].to_owned(),
        )
        .says("m.toml:5"),
        cli("manifest empty", &["plan", "-f", "{dir}/m.toml"])
            .file("m.toml", "# nothing yet\n")
            .says("no [[image]] entries"),
        cli("manifest unknown provider", &["plan", "-f", "{dir}/m.toml"])
            .file(
                "m.toml",
                manifest_entry("aws", "us-east-1", "ami-1", &strings(&["100000000002"])),
            )
            .says("image[0].provider: invalid provider: unknown provider \"aws\""),
        // ---- roles and STS (#14) ----------------------------------------------------
        cli(
            "--duration below what STS issues",
            &at(&CVM, &["--assume-role", "qcs::cam::uin/100000000001:roleName/r", "--duration", "60", "whoami"]),
        )
        .says("60 is not in 900..=43200"),
        cli(
            "--duration that wraps around",
            &at(&CVM, &["--assume-role", "qcs::cam::uin/100000000001:roleName/r", "--duration", "18446744073709552000", "whoami"]),
        )
        .says("invalid value '18446744073709552000'"),
        cli(
            "--role-session-name with a space",
            &at(&ECS, &["--assume-role", "acs:ram::1234567890123456:role/r", "--role-session-name", "my session", "whoami"]),
        )
        .says("' ' is not allowed in a role session name"),
        cli(
            "--external-id without --assume-role",
            &at(&ECS, &["--external-id", "abc", "whoami"]),
        )
        .says("--assume-role <ARN>"),
        cli(
            "--assume-role with a newline",
            &at(&ECS, &["--assume-role", "acs:ram::1:role/r\nx", "whoami"]),
        )
        .says("is not allowed in a role ARN"),
        cli("manifest role with white space", &["plan", "-f", "{dir}/m.toml"])
            .file("m.toml", format!("{good_manifest}role = \"acs:ram::1:role/a b\"\n"))
            .says("image[0].role: ' ' is not allowed in a role"),
        cli("manifest empty profile", &["plan", "-f", "{dir}/m.toml"])
            .file("m.toml", format!("{good_manifest}profile = \"\"\n"))
            .says("image[0].profile: a profile has 1 to 256 characters"),
        cli("manifest unknown field", &["plan", "-f", "{dir}/m.toml"])
            .file("m.toml", format!("{good_manifest}shar_with = []\n"))
            .says("unknown field `shar_with`"),
        cli(
            "manifest image listed twice",
            &["apply", "-f", "{dir}/m.toml", "--yes"],
        )
        .file("m.toml", format!("{good_manifest}\n{good_manifest}"))
        .says("is listed twice"),
        // ---- manifest `regions` (#15 §1) ---------------------------------------------
        cli("manifest regions on SAS (#15)", &["apply", "-f", "{dir}/m.toml", "--yes"])
            .file(
                "m.toml",
                format!(
                    "{}regions = [\"cn-shanghai\"]\n",
                    manifest_entry(
                        "alibaba-sas",
                        "cn-hangzhou",
                        "m-sas000000001",
                        &strings(&["100000000002"]),
                    )
                ),
            )
            .says("image[0].regions[0]: alibaba-sas limit cross-region-copy violated"),
        cli("manifest regions across Lighthouse's border (#15)", &["plan", "-f", "{dir}/m.toml"])
            .file(
                "m.toml",
                format!(
                    "{}regions = [\"ap-singapore\"]\n",
                    manifest_entry(
                        "tencent-lighthouse",
                        "ap-guangzhou",
                        "lhbp-abcd1234",
                        &strings(&["100000000002"]),
                    )
                ),
            )
            .says("image[0].regions[0]: tencent-lighthouse limit copy-border violated"),
        cli("manifest malformed region in regions (#15)", &["plan", "-f", "{dir}/m.toml"])
            .file(
                "m.toml",
                format!("{good_manifest}regions = [\"cn-shanghai\", \"cn shanghai\"]\n"),
            )
            .says("m.toml:6:27: image[0].regions[1]: \"cn shanghai\" is not a region id of alibaba-ecs"),
        cli("manifest region listed twice in regions (#15)", &["plan", "-f", "{dir}/m.toml"])
            .file(
                "m.toml",
                format!("{good_manifest}regions = [\"cn-shanghai\", \"cn-shanghai\"]\n"),
            )
            .says("image[0].regions[1]: region cn-shanghai is listed twice"),
        cli("manifest own region in regions (#15)", &["plan", "-f", "{dir}/m.toml"])
            .file(
                "m.toml",
                format!("{good_manifest}regions = [\"cn-hangzhou\"]\n"),
            )
            .says("image[0].regions[0]: cn-hangzhou is the image's own region"),
        cli("manifest empty id", &["plan", "-f", "{dir}/m.toml"])
            .file(
                "m.toml",
                manifest_entry("tencent-cvm", "ap-guangzhou", " ", &[]),
            )
            .says("image[0].id: must not be empty"),
        cli(
            "manifest image id of another provider",
            &["apply", "-f", "{dir}/m.toml", "--yes"],
        )
        .file(
            "m.toml",
            manifest_entry(
                "alibaba-ecs",
                "cn-hangzhou",
                "img-6pb6lrmy",
                &strings(&["100000000002"]),
            ),
        )
        .says("alibaba-ecs custom image ids have the form m-"),
        cli(
            "manifest RAM user on SAS",
            &["apply", "-f", "{dir}/m.toml", "--yes"],
        )
        .file(
            "m.toml",
            manifest_entry(
                "alibaba-sas",
                "cn-hangzhou",
                "m-sas000000001",
                &strings(&["alice@1234.onaliyun.com"]),
            ),
        )
        .says("image[0].share_with[0]: \"alice@1234.onaliyun.com\" looks like a RAM user"),
        cli(
            "manifest project id on CVM",
            &["plan", "-f", "{dir}/m.toml"],
        )
        .file(
            "m.toml",
            manifest_entry(
                "tencent-cvm",
                "ap-guangzhou",
                "img-6pb6lrmy",
                &strings(&["org-d4e5f6"]),
            ),
        )
        .says("image[0].share_with[0]"),
        cli(
            "manifest project:ID on CVM",
            &["plan", "-f", "{dir}/m.toml"],
        )
        .file(
            "m.toml",
            manifest_entry(
                "tencent-cvm",
                "ap-guangzhou",
                "img-6pb6lrmy",
                &strings(&["account:100000000002", "project:org-d4e5f6"]),
            ),
        )
        .says("image[0].share_with[1]: tencent-cvm shares images with accounts, not projects"),
        cli(
            "manifest account:ID on UCloud",
            &["plan", "-f", "{dir}/m.toml"],
        )
        .file(
            "m.toml",
            manifest_entry(
                "ucloud",
                "cn-bj2",
                "uimage-golden01",
                &strings(&["account:100000000002"]),
            ),
        )
        .says("image[0].share_with[0]: ucloud shares images with projects, not accounts"),
        cli(
            "manifest account id on UCloud",
            &["plan", "-f", "{dir}/m.toml"],
        )
        .file(
            "m.toml",
            manifest_entry(
                "ucloud",
                "cn-bj2",
                "uimage-golden01",
                &strings(&["100000000002"]),
            ),
        )
        .says("is not a ucloud project id"),
        cli(
            "manifest 10,001 principals",
            &["apply", "-f", "{dir}/m.toml", "--yes"],
        )
        .file(
            "m.toml",
            manifest_entry(
                "tencent-cvm",
                "ap-guangzhou",
                "img-6pb6lrmy",
                &accounts(10_001),
            ),
        )
        .says("10001 distinct accounts for one image; tencent-cvm shares one image with at most 500"),
        cli(
            "manifest region with query characters",
            &["plan", "-f", "{dir}/m.toml"],
        )
        .file(
            "m.toml",
            manifest_entry(
                "alibaba-ecs",
                "cn-hangzhou&RegionId=x",
                "m-bp18ygjuqnwhechc",
                &strings(&["100000000002"]),
            ),
        )
        .says("image[0].region: \"cn-hangzhou&RegionId=x\" is not a region id of alibaba-ecs"),
        // ---- credentials -------------------------------------------------------------
        cli(
            "no credentials anywhere",
            &at(&CVM, &["sharees", "img-6pb6lrmy"]),
        )
        .unset(&ALL_KEYS)
        .code(4)
        .says("no tencent-cvm credentials found; tried:"),
        cli(
            "Tencent SecretId without SecretKey",
            &at(&CVM, &["sharees", "img-6pb6lrmy"]),
        )
        .unset(&["TENCENTCLOUD_SECRET_KEY"])
        .says("TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY is not"),
        cli(
            "Tencent SecretId with a space",
            &at(&CVM, &["sharees", "img-6pb6lrmy"]),
        )
        .set("TENCENTCLOUD_SECRET_ID", "AKID with space")
        .says("SecretId contains whitespace"),
        cli(
            "Tencent profile file not INI",
            &at(&CVM, &["sharees", "img-6pb6lrmy"]),
        )
        .unset(&ALL_KEYS)
        .set("TENCENTCLOUD_CREDENTIALS_FILE", "{dir}/tc")
        .file("tc", "[default\nsecret_id = AKIDx\n")
        .says("not a valid INI file: line 1: section header without closing `]`"),
        cli(
            "Tencent profile without the named section",
            &at(&CVM, &["--profile", "ghost", "sharees", "img-6pb6lrmy"]),
        )
        .unset(&ALL_KEYS)
        .set("TENCENTCLOUD_CREDENTIALS_FILE", "{dir}/tc")
        .file("tc", "[default]\nsecret_id = AKIDx\nsecret_key = y\n")
        .code(4)
        .says("no [ghost] section"),
        cli(
            "Alibaba id without secret",
            &at(&ECS, &["sharees", "m-bp18ygjuqnwhechc"]),
        )
        .unset(&["ALIBABA_CLOUD_ACCESS_KEY_SECRET"])
        .code(4)
        .says("ALIBABA_CLOUD_ACCESS_KEY_ID is set but no access key secret variable is"),
        cli(
            "Alibaba profile file not JSON",
            &at(&ECS, &["sharees", "m-bp18ygjuqnwhechc"]),
        )
        .unset(&ALL_KEYS)
        .file(
            ".aliyun/config.json",
            "{\"current\": \"default\", \"profiles\": [",
        )
        .code(4)
        .says("not a valid CLI profile file"),
        cli(
            "UCloud private key without public key",
            &at(&UC, &["sharees", "uimage-golden01"]),
        )
        .unset(&["UCLOUD_PUBLIC_KEY"])
        .says("UCLOUD_PRIVATE_KEY is set but UCLOUD_PUBLIC_KEY is not"),
        cli(
            "UCloud credential file not JSON",
            &at(&UC, &["sharees", "uimage-golden01"]),
        )
        .unset(&ALL_KEYS)
        .file(".ucloud/credential.json", "[{\"public_key\": \"p\", ")
        .says("malformed UCloud shared file"),
        cli(
            "UCloud timeout not a number",
            &at(&UC, &["sharees", "uimage-golden01"]),
        )
        .set("UCLOUD_TIMEOUT_SECOND", "ten")
        .says("UCLOUD_TIMEOUT_SECOND: expected a whole number of seconds"),
        // ---- library calls -----------------------------------------------------------
        lib(
            "lib: endpoint not a URL",
            "InvalidInput",
            |emu, _| async move {
                Connect::new(imageshare::tencent::CVM)
                    .region("ap-guangzhou")
                    .emulator(&emu, OWNER)
                    .endpoint("127.0.0.1:1")
                    .build()?;
                Ok(())
            },
        )
        .says("invalid endpoint"),
        lib("lib: unknown provider", "InvalidInput", |_, _| async move {
            imageshare::registry::lookup("gcp-compute")?;
            Ok(())
        })
        .says("unknown provider \"gcp-compute\""),
        lib(
            "lib: empty principal list",
            "InvalidInput",
            |emu, _| async move {
                owner(&emu, imageshare::alibaba::ECS, "cn-hangzhou")
                    .share(&"m-bp18ygjuqnwhechc".into(), &[])
                    .await?;
                Ok(())
            },
        )
        .says("the list of accounts is empty"),
        lib("lib: unshare nobody", "InvalidInput", |emu, _| async move {
            owner(&emu, imageshare::ucloud::UHOST, "cn-bj2")
                .unshare(&"uimage-golden01".into(), &[])
                .await?;
            Ok(())
        })
        .says("the list of projects is empty"),
        lib("lib: a project on ECS", "Limit", |emu, _| async move {
            owner(&emu, imageshare::alibaba::ECS, "cn-hangzhou")
                .share(
                    &"m-bp18ygjuqnwhechc".into(),
                    &[Principal::project("org-d4e5f6")],
                )
                .await?;
            Ok(())
        })
        .says("shares images with accounts, not projects"),
        lib("lib: an account on UCloud", "Limit", |emu, _| async move {
            owner(&emu, imageshare::ucloud::UHOST, "cn-bj2")
                .share(
                    &"uimage-golden01".into(),
                    &[Principal::account("100000000002")],
                )
                .await?;
            Ok(())
        })
        .says("shares images with projects, not accounts"),
        lib(
            "lib: a RAM user on SAS among good ids",
            "Limit",
            |emu, _| async move {
                owner(&emu, imageshare::alibaba::SAS, "cn-hangzhou")
                    .share(
                        &"m-sas000000001".into(),
                        &[
                            Principal::account("100000000002"),
                            Principal::account("bob@100000000002.onaliyun.com"),
                        ],
                    )
                    .await?;
                Ok(())
            },
        )
        .says("looks like a RAM user"),
        lib(
            "lib: 10,001 principals on ECS",
            "Limit",
            |emu, _| async move {
                let to: Vec<Principal> = accounts(10_001)
                    .into_iter()
                    .map(Principal::account)
                    .collect();
                owner(&emu, imageshare::alibaba::ECS, "cn-hangzhou")
                    .share(&"m-bp18ygjuqnwhechc".into(), &to)
                    .await?;
                Ok(())
            },
        )
        .says("(0 current + 10001 new)")
        .reads_only(),
        lib(
            "lib: 10,001 principals on UCloud",
            "Limit",
            |emu, _| async move {
                let to: Vec<Principal> = (0..10_001)
                    .map(|i| Principal::project(format!("org-z{i}")))
                    .collect();
                owner(&emu, imageshare::ucloud::UHOST, "cn-bj2")
                    .share(&"uimage-golden01".into(), &to)
                    .await?;
                Ok(())
            },
        )
        .says("at most 50 projects")
        .reads_only(),
        lib(
            "lib: duplicates do not dodge the per-image limit",
            "Limit",
            |emu, _| async move {
                // 11 distinct accounts, each given 100 times: deduplicated to 11 > 10 (SAS).
                let to: Vec<Principal> = (0..100)
                    .flat_map(|_| accounts(11))
                    .map(Principal::account)
                    .collect();
                owner(&emu, imageshare::alibaba::SAS, "cn-hangzhou")
                    .share(&"m-sas000000001".into(), &to)
                    .await?;
                Ok(())
            },
        )
        .says("(0 current + 11 new)")
        .reads_only(),
        lib("lib: cross-region image", "NotFound", |emu, _| async move {
            owner(&emu, imageshare::tencent::CVM, "ap-shanghai")
                .share(
                    &"img-6pb6lrmy".into(),
                    &[Principal::account("100000000002")],
                )
                .await?;
            Ok(())
        })
        .says("img-6pb6lrmy not found")
        .reads_only(),
        lib("lib: share with the owner", "Limit", |emu, _| async move {
            owner(&emu, imageshare::alibaba::ECS, "cn-hangzhou")
                .share(&"m-bp18ygjuqnwhechc".into(), &[Principal::account(OWNER)])
                .await?;
            Ok(())
        })
        .says("cannot be shared with its owner")
        .reads_only(),
        lib(
            "lib: copy to a project on CVM",
            "Unsupported",
            |emu, _| async move {
                owner(&emu, imageshare::tencent::CVM, "ap-guangzhou")
                    .copy(
                        &"img-6pb6lrmy".into(),
                        imageshare::core::CopyTarget::Project {
                            project: "org-d4e5f6".into(),
                            region: None,
                            name: None,
                        },
                    )
                    .await?;
                Ok(())
            },
        )
        .says("copy to a project is not supported"),
        lib(
            "lib: empty explicit secret",
            "InvalidInput",
            |_, _| async move {
                Connect::new(imageshare::alibaba::ECS)
                    .region("cn-hangzhou")
                    .credentials(imageshare::alibaba::AlibabaCredentials::new(
                        "LTAIempty",
                        "",
                    ))
                    .build()?;
                Ok(())
            },
        )
        .says("the explicit secret of access key LTAIempty is empty"),
        lib(
            "lib: SecretId with a newline",
            "InvalidInput",
            |_, _| async move {
                Connect::new(imageshare::tencent::LIGHTHOUSE)
                    .region("ap-guangzhou")
                    .credentials(imageshare::tencent::TencentCredentials::new(
                        "AKID\nX-Injected: 1",
                        "k",
                    ))
                    .build()?;
                Ok(())
            },
        )
        .says("SecretId contains whitespace"),
        lib(
            "lib: an ECS image id on UCloud",
            "InvalidInput",
            |emu, _| async move {
                owner(&emu, imageshare::ucloud::UHOST, "cn-bj2")
                    .share(
                        &"m-bp18ygjuqnwhechc".into(),
                        &[Principal::project("org-d4e5f6")],
                    )
                    .await?;
                Ok(())
            },
        )
        .says("invalid image id: \"m-bp18ygjuqnwhechc\": ucloud custom image ids have the form uimage-"),
        lib(
            "lib: image id with query characters",
            "InvalidInput",
            |emu, _| async move {
                owner(&emu, imageshare::alibaba::ECS, "cn-hangzhou")
                    .image(&"m-1&Action=DeleteImage".into())
                    .await?;
                Ok(())
            },
        )
        .says("'&' is not allowed"),
        lib(
            "lib: delete a public image id",
            "InvalidInput",
            |emu, _| async move {
                owner(&emu, imageshare::alibaba::ECS, "cn-hangzhou")
                    .delete(&"ubuntu_22_04_x64_20G_alibase_20230907.vhd".into())
                    .await?;
                Ok(())
            },
        )
        .says("alibaba-ecs custom image ids have the form m-"),
        lib(
            "lib: sharees of a 200-character id",
            "InvalidInput",
            |emu, _| async move {
                let long = format!("lhbp-{}", "a".repeat(195));
                owner(&emu, imageshare::tencent::LIGHTHOUSE, "ap-guangzhou")
                    .sharees(&long.as_str().into())
                    .await?;
                Ok(())
            },
        )
        .says("200 characters, at most 128"),
        lib(
            "lib: UCloud copy to an account id",
            "InvalidInput",
            |emu, _| async move {
                owner(&emu, imageshare::ucloud::UHOST, "cn-bj2")
                    .copy(
                        &"uimage-golden01".into(),
                        imageshare::core::CopyTarget::Project {
                            project: "100000000002".into(),
                            region: None,
                            name: None,
                        },
                    )
                    .await?;
                Ok(())
            },
        )
        .says("invalid target project: \"100000000002\" is not a ucloud project id"),
        lib(
            "lib: UCloud region with query characters",
            "InvalidInput",
            |emu, _| async move {
                Connect::new(imageshare::ucloud::UHOST)
                    .region("cn-bj2&x=1")
                    .emulator(&emu, OWNER)
                    .build()?;
                Ok(())
            },
        )
        .says("\"cn-bj2&x=1\" is not a region id of ucloud"),
        lib(
            "lib: ECS copy to a malformed region",
            "InvalidInput",
            |emu, _| async move {
                owner(&emu, imageshare::alibaba::ECS, "cn-hangzhou")
                    .copy(
                        &"m-bp18ygjuqnwhechc".into(),
                        imageshare::core::CopyTarget::Region {
                            region: "cn-shanghai\r\nX-Injected: 1".into(),
                            name: None,
                        },
                    )
                    .await?;
                Ok(())
            },
        )
        .says("invalid target region: \"cn-shanghai\\r\\nX-Injected: 1\" is not a region id"),
        lib(
            "lib: CVM copy to its own region",
            "InvalidInput",
            |emu, _| async move {
                owner(&emu, imageshare::tencent::CVM, "ap-guangzhou")
                    .copy(
                        &"img-6pb6lrmy".into(),
                        imageshare::core::CopyTarget::Region {
                            region: "ap-guangzhou".into(),
                            name: None,
                        },
                    )
                    .await?;
                Ok(())
            },
        )
        .says("SyncImages copies a custom image to other regions only"),
        lib(
            "lib: manifest image id of another provider",
            "ManifestError",
            |_, _| async move {
                let text = manifest_entry(
                    "tencent-lighthouse",
                    "ap-guangzhou",
                    "img-6pb6lrmy",
                    &strings(&["100000000002"]),
                );
                Manifest::parse(&text, "m.toml")?;
                Ok(())
            },
        )
        .says("m.toml:4:6: image[0].id: \"img-6pb6lrmy\": tencent-lighthouse custom image ids"),
        lib(
            "lib: manifest 11 accounts on SAS",
            "ManifestError",
            |_, _| async move {
                let text = manifest_entry(
                    "alibaba-sas",
                    "cn-hangzhou",
                    "m-sas000000001",
                    &accounts(11),
                );
                Manifest::parse(&text, "m.toml")?;
                Ok(())
            },
        )
        .says("image[0].share_with[10]: 11 distinct accounts for one image; alibaba-sas shares"),
        lib(
            "lib: manifest half-written",
            "ManifestError",
            |_, _| async move {
                Manifest::parse("[[image]]\nprovider = \"ucloud\"\nregion = \"cn-", "m.toml")?;
                Ok(())
            },
        )
        .says("m.toml:3"),
        lib(
            "lib: manifest missing",
            "ManifestError",
            |_, dir| async move {
                Manifest::from_file(dir.join("absent.toml"))?;
                Ok(())
            },
        )
        .says("cannot read the manifest"),
        // ==== core-refusals block (#17 bugs 7 and 8): begin ===============================
        // Bug 7: one rule for stray white space in credentials on every cloud: refused
        // before anything is sent, naming the variable or file and the character, never
        // the value (Tencent used to trim, Alibaba and UCloud to sign with it).
        cli(
            "Alibaba secret with a trailing newline (#17 bug 7)",
            &at(&ECS, &["sharees", "m-bp18ygjuqnwhechc"]),
        )
        .set("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "emu-alibaba-secret-1\n")
        .says("invalid environment variable ALIBABA_CLOUD_ACCESS_KEY_SECRET: the access key secret has a trailing newline"),
        cli(
            "Tencent SecretKey with a trailing newline (#17 bug 7)",
            &at(&CVM, &["sharees", "img-6pb6lrmy"]),
        )
        .set("TENCENTCLOUD_SECRET_KEY", "emu-tencent-secret-1\n")
        .says("invalid environment variable TENCENTCLOUD_SECRET_KEY: the SecretKey has a trailing newline"),
        cli(
            "UCloud public key with a leading space (#17 bug 7)",
            &at(&UC, &["sharees", "uimage-golden01"]),
        )
        .set("UCLOUD_PUBLIC_KEY", " emu-ucloud-public-1")
        .says("invalid environment variable UCLOUD_PUBLIC_KEY: the public key has a leading space"),
        cli(
            "Alibaba profile key with a trailing space (#17 bug 7)",
            &at(&ECS, &["sharees", "m-bp18ygjuqnwhechc"]),
        )
        .unset(&ALL_KEYS)
        .file(
            ".aliyun/config.json",
            "{\"current\": \"default\", \"profiles\": [{\"name\": \"default\", \"mode\": \"AK\", \
             \"access_key_id\": \"LTAIEMU000000001 \", \"access_key_secret\": \"emu-alibaba-secret-1\"}]}",
        )
        .says("config.json: the access_key_id has a trailing space"),
        cli(
            "UCloud credential file key with a trailing tab (#17 bug 7)",
            &at(&UC, &["sharees", "uimage-golden01"]),
        )
        .unset(&ALL_KEYS)
        .set("UCLOUD_PROFILE", "default")
        .file(
            ".ucloud/credential.json",
            "[{\"profile\": \"default\", \"public_key\": \"emu-ucloud-public-1\", \
             \"private_key\": \"emu-ucloud-private-1\\t\"}]",
        )
        .says("credential.json: the private_key has a trailing tab"),
        cli(
            "tccli secretKey with a carriage return (#17 bug 7)",
            &at(&CVM, &["sharees", "img-6pb6lrmy"]),
        )
        .unset(&ALL_KEYS)
        .file(
            ".tccli/default.credential",
            "{\"secretId\": \"AKIDEMU0000000000000000000000001\", \"secretKey\": \"emu-tencent-secret-1\\r\"}",
        )
        .says("default.credential: the secretKey has a trailing carriage return"),
        // Bug 8: refusals that the describe calls make possible before anything is sent.
        // ECS DescribeImages says an image is encrypted but not with which key: the advice
        // covers both keys and never promises that --allow-encrypted shares a service-key
        // image (which ECS refuses, ServiceKeyEncryptedImageUnsupported).
        cli(
            "ECS: a service-key image gets advice that works (#17 bug 8)",
            &at(&ECS, &["share", "m-bpservicekey1", "--to", "100000000002"]),
        )
        .code(3)
        .says("Encrypted with the service key: it cannot be shared, even with --allow-encrypted; share a copy re-encrypted with your customer-managed key")
        .reads_only(),
        cli(
            "ECS: the re-encryption route is named (#17 bug 8)",
            &at(&ECS, &["share", "m-bpservicekey1", "--to", "100000000002"]),
        )
        .code(3)
        .says("CopyImage Encrypted=true and KMSKeyId=<your CMK>")
        .reads_only(),
        // A SAS image received from another account: ModifyImageShareStatus would answer
        // "not found"; the lookup names the owner first, and nothing is sent.
        cli(
            "migrate sas-to-ecs of a received image (#17 bug 8)",
            &[
                "--region",
                "cn-hangzhou",
                "migrate",
                "sas-to-ecs",
                "m-sasrecv00001",
                "--to",
                "100000000002",
            ],
        )
        .code(3)
        .says("m-sasrecv00001 was shared with you by account 100000000002; only the owner can share it to ECS")
        .reads_only(),
        // ==== core-refusals block (#17 bugs 7 and 8): end =================================
    ]
}

/// Replaces `{dir}` with the case directory and `{emu}` with the emulator's
/// `host:port`.
fn expand(s: &str, dir: &Path, emu: &Emulator) -> String {
    let base = emu.base_url();
    let authority = base.split_once("://").map_or(base.as_str(), |(_, a)| a);
    s.replace("{dir}", &dir.display().to_string())
        .replace("{emu}", authority.trim_end_matches('/'))
}

/// Runs one case: `Ok(true)` when it ran and passed, `Ok(false)` when it cannot run here
/// (the reason is printed); `Err` says what was wrong with the outcome.
async fn check(case: Case, index: usize) -> Result<bool, String> {
    if let Some(reason) = case.skip.and_then(|f| f()) {
        println!("skipped {:?}: {reason}", case.name);
        return Ok(false);
    }
    let emu = Arc::new(Emulator::start(World::example()).await.unwrap());
    let dir = fresh_dir(&format!("bad-{index}"));
    let name = case.name;
    let (what, text) = match case.input {
        Input::Cli {
            args,
            set,
            unset,
            files,
            prepare,
            code,
        } => {
            for (f, text) in &files {
                let p = dir.join(f);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, text).unwrap();
            }
            if let Some(f) = prepare {
                f(&dir);
            }
            let mut env = owner_env(&emu);
            env.retain(|(k, _)| !unset.contains(k) && !set.iter().any(|(s, _)| s == k));
            env.extend(set.iter().map(|(k, v)| (k.clone(), expand(v, &dir, &emu))));
            let args: Vec<String> = args.iter().map(|a| expand(a, &dir, &emu)).collect();
            let o = run_async(dir.clone(), args, env).await;
            let err = stderr(&o);
            if o.status.code() != Some(code) {
                return Err(format!(
                    "{name}: exit {:?}, expected {code}: {err}",
                    o.status.code()
                ));
            }
            (format!("exit {code}"), err)
        }
        Input::Lib {
            call,
            variant: want,
        } => match call(emu.clone(), dir.clone()).await {
            Ok(()) => return Err(format!("{name}: accepted, expected {want}")),
            Err(e) => {
                let got = variant(&e);
                if got != want {
                    return Err(format!("{name}: {got}, expected {want}: {}", message(&e)));
                }
                (got.to_owned(), message(&e))
            }
        },
    };
    if !text.contains(case.says) {
        return Err(format!(
            "{name} ({what}): the message does not say {:?}: {text}",
            case.says
        ));
    }
    let calls = emu.calls();
    match case.sent {
        Sent::Nothing if !calls.is_empty() => {
            let sent: Vec<String> = calls.iter().map(|c| c.action.clone()).collect();
            return Err(format!("{name}: sent {sent:?}, expected nothing"));
        }
        Sent::ReadsOnly if !writes(&calls).is_empty() => {
            return Err(format!("{name}: sent writes {:?}", writes(&calls)));
        }
        _ => {}
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_bad_input_is_refused_with_its_reason_and_nothing_is_sent() {
    let cases = corpus();
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());
    let names: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    for c in &cases {
        assert!(!c.says.is_empty(), "{}: no expected message", c.name);
    }
    let total = cases.len();
    let library = cases
        .iter()
        .filter(|c| matches!(c.input, Input::Lib { .. }))
        .count();
    let after_reads = cases.iter().filter(|c| c.sent == Sent::ReadsOnly).count();
    // Bounded: four cases at a time, each with its own emulator and directory.
    let permits = Arc::new(tokio::sync::Semaphore::new(4));
    let mut set = tokio::task::JoinSet::new();
    for (i, case) in cases.into_iter().enumerate() {
        let permit = permits.clone().acquire_owned().await.unwrap();
        set.spawn(async move {
            let r = check(case, i).await;
            drop(permit);
            r
        });
    }
    let mut failures = Vec::new();
    let mut skipped = 0;
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(true) => {}
            Ok(false) => skipped += 1,
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!(
        "{} of {total} bad inputs refused ({} CLI, {library} library; {skipped} skipped); \
         {after_reads} after reads only, the rest with nothing sent",
        total - skipped,
        total - library
    );
}
