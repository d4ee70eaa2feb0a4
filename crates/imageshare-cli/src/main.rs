//! The `imageshare` command-line tool: share custom images across accounts and projects
//! on Alibaba Cloud, Tencent Cloud and UCloud, plan/apply a manifest, and run the
//! multi-cloud emulator.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use imageshare::core::bulk::{Bulk, BulkOptions};
use imageshare::core::limits::{EncryptedPolicy, ImageIdRule, ImageIdUse, PrincipalForm};
use imageshare::core::plan::{self, SharePlan};
use imageshare::core::transport::{ClientOptions, RetryConfig, RetryLog};
use imageshare::core::{
    AuditLog, CheckOptions, CopyTarget, Error, Image, ImageId, ImageOrigin, ImageSharing,
    ImageSharingExt, Principal, PrincipalKind, Provider, ShareLimits, ShareReport, TrustPolicy,
};
use imageshare::manifest::Manifest;
use imageshare::{Connect, DynSharing};
use serde_json::{json, Value};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

mod bulk;
mod demo;
mod listing;
mod progress;
mod trail;

const EXIT_HELP: &str = "\
Exit status: 0 done; 1 the cloud refused or failed, or the audit trail could not be opened, \
written or read; 2 bad usage or input; 3 refused before anything was sent, by the limit \
checker or by the trust policy (--trust-owner); 4 credentials missing or rejected; 5 \
partially applied or cancelled (the report says what was done).

Audit trail: share, unshare, delete --unshare-first, copy --to-project, migrate and apply \
--yes record every grant and revoke, one JSON line each, in --audit-log PATH (default \
$XDG_STATE_HOME/imageshare/audit.jsonl, else ~/.local/state/imageshare/audit.jsonl) unless \
--no-audit is given; `imageshare audit` prints it.";

/// Share custom machine images across accounts and projects.
#[derive(Debug, Parser)]
#[command(name = "imageshare", version, about, after_help = EXIT_HELP)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// Provider: alibaba-ecs, alibaba-sas, tencent-cvm, tencent-lighthouse, ucloud.
    #[arg(long, short = 'p', global = true, env = "IMAGESHARE_PROVIDER")]
    provider: Option<String>,
    /// Region (else the cloud's own region variable or profile).
    #[arg(long, short = 'r', global = true, env = "IMAGESHARE_REGION")]
    region: Option<String>,
    /// Endpoint override (private endpoint, VPC endpoint, the emulator).
    #[arg(long, global = true, env = "IMAGESHARE_ENDPOINT")]
    endpoint: Option<String>,
    /// Named profile of the cloud's CLI profile file (ALIBABA_CLOUD_PROFILE, a section of
    /// ~/.tencentcloud/credentials, UCLOUD_PROFILE). Credentials never come from flags.
    #[arg(long, global = true)]
    profile: Option<String>,
    /// UCloud project to act in.
    #[arg(long, global = true, env = "UCLOUD_PROJECT_ID")]
    project: Option<String>,
    /// Output format.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// Confirm that encrypted images may be shared (customer-managed key and sharing role
    /// in place).
    #[arg(long, global = true)]
    allow_encrypted: bool,
    /// Seconds allowed for one attempt of one API call (1-3600). A call is tried at most 5
    /// times (a timed-out write is retried only when repeating it is harmless), with at
    /// most 3 s of backoff in all, and not retried once 120 s have passed: one call gives
    /// up after at most min(5 x TIMEOUT, 120 + TIMEOUT) + 3 seconds. A command on one
    /// image stops at its first failed call, so an endpoint that never answers fails it
    /// within that bound. `apply` and `share` / `unshare` of several images work on many
    /// images at once and give a step whose call failed with a retryable error up to 2
    /// more passes (each re-reads the sharees, then sends the call again): a step gives up
    /// after at most 3 such calls and their reads.
    #[arg(
        long,
        global = true,
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    timeout: u64,
    /// Log to stderr: a level (off, error, warn, info, debug, trace) or comma-separated
    /// `target=level` directives with an optional default level
    /// (`imageshare_core=trace,info`). Warnings (such as a credentials file other users can
    /// read) are always shown unless this says `off`.
    #[arg(long, global = true, env = "IMAGESHARE_LOG", value_parser = parse_log_filter)]
    log_level: Option<Targets>,
    /// The audit trail (JSON lines) that commands which grant or revoke append to, and that
    /// `imageshare audit` reads. Default: $XDG_STATE_HOME/imageshare/audit.jsonl, else
    /// $HOME/.local/state/imageshare/audit.jsonl. A trail that cannot be opened fails the
    /// command before anything is sent.
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "no_audit")]
    audit_log: Option<PathBuf>,
    /// Record nothing in the audit trail.
    #[arg(long, global = true)]
    no_audit: bool,
    /// Accept images shared with you only from this owner (an account id; UCloud: a
    /// project id): `ID` on every provider the command uses, `PROVIDER:ID` on that one.
    /// Repeat it or separate with commas. `shared-with-me` then hides the other owners'
    /// images (and says how many), `copy` and `migrate` refuse them before sending
    /// anything (status 3). Your own images are always accepted.
    #[arg(
        long,
        global = true,
        value_name = "[PROVIDER:]ID",
        value_delimiter = ',',
        value_parser = parse_trust_owner
    )]
    trust_owner: Vec<TrustOwner>,
    /// With --trust-owner: also accept public and marketplace images.
    #[arg(long, global = true, requires = "trust_owner")]
    trust_public: bool,
}

/// One `--trust-owner`: an owner id, on one provider or on all.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TrustOwner {
    provider: Option<Provider>,
    id: String,
}

/// Parses `--trust-owner`: `ID` or `PROVIDER:ID`, the id made of letters, digits, `-`,
/// `_` and `.`.
fn parse_trust_owner(raw: &str) -> Result<TrustOwner, String> {
    let raw = raw.trim();
    let (provider, id) = match raw.split_once(':') {
        Some((p, id)) => (
            Some(
                p.trim()
                    .parse::<Provider>()
                    .map_err(|e| format!("{raw:?}: {e}"))?,
            ),
            id.trim(),
        ),
        None => (None, raw),
    };
    if id.is_empty() {
        return Err(format!("{raw:?} names no owner id"));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "{raw:?}: {c:?} is not allowed in an owner id (letters, digits, `-`, `_` and `.`)"
        ));
    }
    Ok(TrustOwner {
        provider,
        id: id.to_owned(),
    })
}

impl Global {
    /// The trust policy of `--trust-owner` / `--trust-public` (none: any owner).
    fn trust_policy(&self) -> TrustPolicy {
        let mut policy = TrustPolicy::new().allow_public(self.trust_public);
        for owner in &self.trust_owner {
            policy = match owner.provider {
                Some(p) => policy.allow(p, owner.id.as_str()),
                None => policy.allow_everywhere(owner.id.as_str()),
            };
        }
        policy
    }
}

/// Attempts per API call (the transport's retry policy; the `--timeout` help quotes it).
const RETRY_ATTEMPTS: u32 = 5;
/// The most time spent waiting between the attempts of one call, in seconds.
const RETRY_BACKOFF_SECS: u64 = 3;
/// No retry once this many seconds have passed since the first attempt.
const RETRY_WINDOW_SECS: u64 = 120;

/// The longest one API call can take with `--timeout timeout_secs`, in seconds: see the
/// `--timeout` help.
fn call_bound_secs(timeout_secs: u64) -> u64 {
    (u64::from(RETRY_ATTEMPTS) * timeout_secs).min(RETRY_WINDOW_SECS + timeout_secs)
        + RETRY_BACKOFF_SECS
}

/// The retry policy of every call the CLI makes: the transport's default, whose bounds the
/// `--timeout` help states (a unit test holds them together).
fn retry_policy() -> RetryConfig {
    RetryConfig::default()
}

/// Parses `--log-level`: a level, or `target=level` directives and at most one bare level
/// (the default for other targets). Unknown levels are refused rather than read as target
/// names.
fn parse_log_filter(spec: &str) -> Result<Targets, String> {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let level_ok = |l: &str| LEVELS.contains(&l.trim().to_ascii_lowercase().as_str());
    for d in spec.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = match d.split_once('=') {
            Some((target, level)) if !target.trim().is_empty() => level,
            Some(_) => return Err(format!("{d:?} has no target before `=`")),
            None => d,
        };
        if !level_ok(level) {
            return Err(format!(
                "{level:?} is not a log level (expected one of {})",
                LEVELS.join(", ")
            ));
        }
    }
    let targets: Targets = spec.parse().map_err(|e| format!("not a log filter: {e}"))?;
    Ok(match targets.default_level() {
        Some(_) => targets,
        None => targets.with_default(LevelFilter::WARN),
    })
}

/// Installs the stderr log: warnings always, more with `--log-level` / `IMAGESHARE_LOG`.
fn init_logging(filter: Option<Targets>) {
    let filter = filter.unwrap_or_else(|| Targets::new().with_default(LevelFilter::WARN));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(true);
    // Fails only when a subscriber is already set, which this binary never does.
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the documented sharing limits (all providers, or --provider's).
    Limits,
    /// Show one image.
    Image { id: String },
    /// Share images with accounts (UCloud: projects).
    ///
    /// Several images go through the bulk engine: many at once, an outcome per image and
    /// principal, retries counted; status 5 when some failed and others did not, or on
    /// Ctrl-C (what was done is printed).
    Share {
        /// The images.
        #[arg(value_name = "ID", required = true)]
        ids: Vec<String>,
        /// Principals, comma-separated or repeated.
        #[arg(long, required = true, value_delimiter = ',')]
        to: Vec<String>,
    },
    /// Revoke grants.
    ///
    /// Several images go through the bulk engine, as with `share`.
    Unshare {
        /// The images.
        #[arg(value_name = "ID", required = true)]
        ids: Vec<String>,
        /// Principals, comma-separated or repeated.
        #[arg(
            long,
            value_delimiter = ',',
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        from: Vec<String>,
        /// Every current sharee.
        #[arg(long)]
        all: bool,
    },
    /// List who an image is shared with.
    ///
    /// Printed as the pages arrive (JSON: one array, written element by element).
    Sharees { id: String },
    /// List images other accounts (projects) shared with me.
    ///
    /// Printed as the pages arrive (JSON: one array, written element by element). With
    /// --trust-owner, the images of other owners are hidden, and their number per owner is
    /// printed after the list (on stderr with --output json).
    SharedWithMe,
    /// Copy an image (own copy, another region, another UCloud project).
    Copy {
        id: String,
        /// Destination region.
        #[arg(long, conflicts_with = "to_project")]
        to_region: Option<String>,
        /// Destination UCloud project.
        #[arg(long)]
        to_project: Option<String>,
        /// Name of the copy.
        #[arg(long)]
        name: Option<String>,
    },
    /// Delete an image.
    Delete {
        id: String,
        /// Unshare it from everyone first.
        #[arg(long)]
        unshare_first: bool,
    },
    /// Move images between products and regions, then share them onward.
    Migrate {
        #[command(subcommand)]
        flow: MigrateFlow,
    },
    /// Show what `apply` would change for a manifest.
    Plan {
        /// The manifest (TOML).
        #[arg(long, short = 'f')]
        file: String,
    },
    /// Make the live sharees match a manifest.
    Apply {
        /// The manifest (TOML).
        #[arg(long, short = 'f')]
        file: String,
        /// Apply without asking.
        #[arg(long)]
        yes: bool,
    },
    /// The multi-cloud emulator.
    Emulator {
        #[command(subcommand)]
        command: EmulatorCommand,
    },
    /// The whole story on the embedded emulator, no credentials needed.
    ///
    /// Records nothing in the audit trail: its grants are made in a made-up world.
    Demo,
    /// Print the audit trail: who was granted which image, and when.
    ///
    /// Every grant, revoke and cross-project copy recorded in --audit-log PATH (or the
    /// default trail), oldest first, with the provider's request id; JSON: the records as
    /// written. Filters combine; --provider selects one provider.
    Audit {
        /// Only this image.
        #[arg(long)]
        image: Option<String>,
        /// Only this principal: its id, or `account:ID`, `project:ID`, `service:PROVIDER`.
        #[arg(long)]
        principal: Option<String>,
        /// Only this action.
        #[arg(long, value_enum)]
        action: Option<trail::ActionFilter>,
    },
}

#[derive(Debug, Subcommand)]
enum MigrateFlow {
    /// Alibaba: a Simple Application Server custom image to ECS, then share it from ECS.
    SasToEcs(MigrateArgs),
    /// Tencent: a CVM image to a Lighthouse blueprint, then share the blueprint.
    CvmToLighthouse(MigrateArgs),
    /// Tencent: a Lighthouse blueprint to CVM (no public API: always refused).
    LighthouseToCvm {
        /// The blueprint.
        blueprint: String,
    },
    /// Copy to another region (of --provider), wait until available, then share there.
    Copy {
        #[command(flatten)]
        args: MigrateArgs,
        /// Destination region.
        #[arg(long)]
        to_region: String,
    },
}

#[derive(Debug, Args)]
struct MigrateArgs {
    /// The image to move.
    image: String,
    /// Principals to share the result with, comma-separated or repeated.
    #[arg(long, value_delimiter = ',')]
    to: Vec<String>,
    /// Longest wait for a copy to become available, in seconds.
    #[arg(long, default_value_t = 1800)]
    wait_secs: u64,
}

#[derive(Debug, Subcommand)]
enum EmulatorCommand {
    /// Serve on 127.0.0.1 until stopped.
    Serve {
        /// Port (0: ephemeral).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// World file (default: the built-in example world).
        #[arg(long)]
        world: Option<String>,
    },
}

/// An error with its exit status.
struct Failure {
    code: u8,
    message: String,
    /// No answer came from the cloud (timeout, connection failure): `main` names the
    /// endpoint and the timeout in force.
    transport: bool,
}

impl Failure {
    /// A failure with this exit status and message.
    fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            transport: false,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::from(&e)
    }
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Self {
        let code = match e {
            Error::Limit(_) | Error::Untrusted { .. } => 3,
            Error::Audit { .. } => 1,
            Error::Auth { .. } | Error::CredentialsNotFound { .. } => 4,
            Error::Partial(_) => 5,
            Error::InvalidInput { .. } => 2,
            _ => 1,
        };
        Failure {
            code,
            message: e.to_string(),
            transport: matches!(e, Error::Transport { .. }),
        }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(2, message)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.log_level.clone());
    let endpoint = cli.global.endpoint.clone();
    let timeout = cli.global.timeout;
    let mut out = std::io::stdout().lock();
    match run(cli, &mut out).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let _ = out.flush();
            eprintln!("imageshare: {}", f.message);
            if f.transport {
                let endpoint = endpoint
                    .map(|e| format!("endpoint {e}"))
                    .unwrap_or_else(|| "the provider's endpoint".to_owned());
                eprintln!(
                    "imageshare: no answer from {endpoint}: each attempt may take up to \
                     --timeout {timeout} s; a call gives up after at most {} s",
                    call_bound_secs(timeout)
                );
            }
            ExitCode::from(f.code)
        }
    }
}

fn provider(g: &Global) -> Result<Provider, Failure> {
    let name = g
        .provider
        .as_deref()
        .ok_or_else(|| usage("--provider is required for this command"))?;
    let p: Provider = name.parse().map_err(|e: Error| usage(e.to_string()))?;
    if p == Provider::UCloud {
        if let Some(project) = &g.project {
            check_project_id("--project", project)?;
        }
    }
    Ok(p)
}

/// Checks a UCloud project id (`org-...`) given on the command line, with the UCloud
/// limits table's own rule, before anything is sent.
fn check_project_id(flag: &str, raw: &str) -> Result<(), Failure> {
    let Some(limits) = imageshare::limits_of(Provider::UCloud) else {
        return Ok(()); // UCloud not compiled in: the build step says so.
    };
    limits
        .check_principal_form(&Principal::project(raw))
        .map_err(|(limit, why)| usage(format!("invalid {flag}: {why}; expected {limit}")))
}

/// The HTTP options of one command: the timeout, and a fresh rate limiter that every
/// adapter built from clones of these options shares.
fn client_options(g: &Global) -> ClientOptions {
    ClientOptions::default().with_timeout(Duration::from_secs(g.timeout))
}

/// The connection options of one command on `provider` (in `region`, else --region):
/// fresh HTTP options, the trust policy, and `audit` when the command records its grants.
fn options(
    g: &Global,
    provider: Provider,
    region: Option<&str>,
    audit: Option<&AuditLog>,
) -> Connect {
    options_with(g, provider, region, client_options(g), audit)
}

/// [`options`] with the HTTP options (and so the rate limiter) given.
fn options_with(
    g: &Global,
    provider: Provider,
    region: Option<&str>,
    client: ClientOptions,
    audit: Option<&AuditLog>,
) -> Connect {
    let mut c = Connect::new(provider)
        .client_options(client)
        .retry(retry_policy())
        .check_options(CheckOptions {
            allow_encrypted: g.allow_encrypted,
            ..Default::default()
        })
        .trust(g.trust_policy());
    if let Some(log) = audit {
        c = c.audit(log.clone());
    }
    if let Some(r) = region.or(g.region.as_deref()) {
        c = c.region(r);
    }
    if let Some(e) = &g.endpoint {
        c = c.endpoint(e.as_str());
    }
    if let Some(p) = &g.project {
        c = c.project_id(p.as_str());
    }
    if let Some(p) = &g.profile {
        c = c.profile(p.as_str());
    }
    c
}

/// The adapter of [`options`], behind the limit checker.
fn connect(
    g: &Global,
    provider: Provider,
    region: Option<&str>,
    audit: Option<&AuditLog>,
) -> Result<DynSharing, Failure> {
    Ok(options(g, provider, region, audit).build()?)
}

/// Checks an image id before anything is sent, with the core rule the limit checker and
/// the manifest parser use ([`ImageIdRule`]): 1-128 ASCII letters, digits, `-`, `_` or
/// `.`; when `custom`, also the provider's custom-image prefix (`m-`, `img-`, `lhbp-`,
/// `uimage-`) followed by letters and digits. `image` accepts public image ids too
/// (`custom` false): an ECS public image id has no `m-`.
fn image_id(provider: Provider, raw: &str, custom: bool) -> Result<ImageId, Failure> {
    let use_ = if custom {
        ImageIdUse::Custom
    } else {
        ImageIdUse::Lookup
    };
    match ImageIdRule::of(provider).check(raw, use_) {
        Ok(()) => Ok(ImageId::from(raw)),
        Err(Error::InvalidInput { message, .. }) => {
            Err(usage(format!("invalid image id {message}")))
        }
        Err(e) => Err(usage(e.to_string())),
    }
}

fn principals(provider: Provider, raw: &[String]) -> Vec<Principal> {
    let kind = imageshare::limits_of(provider).map(|l| l.principal_kind);
    raw.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| match kind {
            Some(PrincipalKind::Project) => Principal::project(s),
            _ => Principal::account(s),
        })
        .collect()
}

fn emit(out: &mut dyn Write, output: Output, text: String, json: Value) -> Result<(), Failure> {
    let written = match output {
        Output::Text => writeln!(out, "{}", text.trim_end()),
        Output::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        ),
    };
    written.map_err(|e| Failure::new(1, format!("cannot write output: {e}")))
}

fn report_json(r: &ShareReport) -> Value {
    json!({
        "image": r.image,
        "results": r.iter().map(|(p, o)| {
            let mut v = json!({"principal": p, "outcome": o.label()});
            if let imageshare::core::ShareOutcome::Failed(e) = o {
                v["error"] = json!(e.to_string());
                v["code"] = json!(e.code());
            }
            v
        }).collect::<Vec<_>>(),
    })
}

fn report_text(r: &ShareReport) -> String {
    let mut s = String::new();
    for (p, o) in r.iter() {
        s.push_str(&format!("{p}: {o}\n"));
    }
    s.push_str(&format!("{r}\n"));
    s
}

/// A failed multi-batch share: print the per-principal report, then fail with status 5.
fn partial(out: &mut dyn Write, output: Output, e: Error) -> Failure {
    if let Error::Partial(r) = &e {
        let _ = emit(out, output, report_text(r), report_json(r));
    }
    e.into()
}

const IMAGE_COLUMNS: [&str; 8] = [
    "ID",
    "NAME",
    "REGION",
    "STATE",
    "ORIGIN",
    "KIND",
    "ENCRYPTION",
    "OWNER",
];

fn image_row(i: &Image) -> Vec<String> {
    vec![
        i.id.to_string(),
        i.name.clone(),
        i.region.to_string(),
        i.state.to_string(),
        i.origin.to_string(),
        i.kind.to_string(),
        format!("{:?}", i.encryption).to_lowercase(),
        i.owner.as_ref().map_or("-".to_owned(), |o| o.to_string()),
    ]
}

/// A plain text table: a header row, then aligned columns.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = vec![line(header.iter().map(|h| h.to_string()).collect())];
    if rows.is_empty() {
        out.push("(none)".to_owned());
    }
    out.extend(rows.into_iter().map(line));
    out.join("\n")
}

async fn run(cli: Cli, out: &mut dyn Write) -> Result<(), Failure> {
    let g = &cli.global;
    let o = g.output;
    match cli.command {
        Command::Limits => {
            let want = g
                .provider
                .as_deref()
                .map(|p| p.parse::<Provider>())
                .transpose()
                .map_err(|e| usage(e.to_string()))?;
            let tables: Vec<&ShareLimits> = imageshare::limit_tables()
                .into_iter()
                .filter(|t| want.is_none_or(|p| p == t.provider))
                .collect();
            let text = tables
                .iter()
                .map(|t| render_limits(t))
                .collect::<Vec<_>>()
                .join("\n");
            let json = json!(tables.iter().map(|t| limits_json(t)).collect::<Vec<_>>());
            emit(out, o, text, json)
        }
        Command::Image { id } => {
            let p = provider(g)?;
            let id = image_id(p, &id, false)?;
            let s = connect(g, p, None, None)?;
            let img = s.image(&id).await?;
            emit(
                out,
                o,
                table(&IMAGE_COLUMNS, vec![image_row(&img)]),
                json!(img),
            )
        }
        Command::Share { ids, to } => {
            let p = provider(g)?;
            let ids = image_ids(p, &ids)?;
            let to = principals(p, &to);
            let log = trail::open(g)?;
            let s = connect(g, p, None, log.as_ref())?;
            let [id] = ids.as_slice() else {
                let job = Bulk::new().share_all(&s, ids.iter().cloned(), &to);
                return run_bulk(job, ids.len(), "sharing", out, o).await;
            };
            let bar = progress::spinner(&format!("sharing {id} with {} principals", to.len()));
            let result = s.share(id, &to).await;
            bar.finish_and_clear();
            match result {
                Ok(r) => emit(out, o, report_text(&r), report_json(&r)),
                Err(e) => Err(partial(out, o, e)),
            }
        }
        Command::Unshare { ids, from, all } => {
            let p = provider(g)?;
            let ids = image_ids(p, &ids)?;
            let log = trail::open(g)?;
            let s = connect(g, p, None, log.as_ref())?;
            let from = principals(p, &from);
            let [id] = ids.as_slice() else {
                let mut job = Bulk::new();
                for id in &ids {
                    let from = if all {
                        all_sharees(&s, id).await?
                    } else {
                        from.clone()
                    };
                    // An image with no sharees makes --all a no-op for it.
                    if !from.is_empty() || !all {
                        job = job.unshare(&s, id.clone(), &from);
                    }
                }
                if job.is_empty() {
                    let text = "none of these images has sharees".to_owned();
                    let json = json!({"results": [], "retries": RetryLog::new()});
                    return emit(out, o, text, json);
                }
                let steps = job.len();
                return run_bulk(job, steps, "unsharing", out, o).await;
            };
            let from = if all {
                all_sharees(&s, id).await?
            } else {
                from
            };
            // An empty --from list is refused by the checker below; an image with no
            // sharees makes --all a no-op.
            if all && from.is_empty() {
                return emit(
                    out,
                    o,
                    format!("{id} has no sharees"),
                    json!({"image": id, "results": []}),
                );
            }
            let bar = progress::spinner(&format!("unsharing {id} from {} principals", from.len()));
            let result = s.unshare(id, &from).await;
            bar.finish_and_clear();
            match result {
                Ok(r) => emit(out, o, report_text(&r), report_json(&r)),
                Err(e) => Err(partial(out, o, e)),
            }
        }
        Command::Sharees { id } => {
            let p = provider(g)?;
            let id = image_id(p, &id, true)?;
            let s = connect(g, p, None, None)?;
            let listing = listing::Listing::new(out, o, SHAREE_COLUMNS);
            listing::print(
                listing,
                s.sharees_stream(&id),
                |_| true,
                |x| {
                    let row = vec![
                        x.principal.to_string(),
                        x.shared_at.clone().unwrap_or_else(|| "-".into()),
                    ];
                    (row, json!(x))
                },
            )
            .await
            .map(|_| ())
        }
        Command::SharedWithMe => shared_with_me(g, out).await,
        Command::Copy {
            id,
            to_region,
            to_project,
            name,
        } => {
            let p = provider(g)?;
            let id = image_id(p, &id, true)?;
            if let Some(project) = &to_project {
                if p != Provider::UCloud {
                    return Err(usage(format!(
                        "--to-project is for UCloud only: {p} images belong to an account, \
                         not a project (copy with --to-region, or without either for an own \
                         copy)"
                    )));
                }
                check_project_id("--to-project", project)?;
            }
            // Only a copy into another project hands the image to someone else.
            let log = match &to_project {
                Some(_) => trail::open(g)?,
                None => None,
            };
            let s = connect(g, p, None, log.as_ref())?;
            let target = match (to_region, to_project) {
                (_, Some(project)) => CopyTarget::Project {
                    project: project.into(),
                    region: None,
                    name,
                },
                (Some(region), None) => CopyTarget::Region {
                    region: region.into(),
                    name,
                },
                (None, None) => CopyTarget::OwnCopy { name },
            };
            let new_id = s.copy(&id, target).await?;
            emit(out, o, new_id.to_string(), json!({ "image": new_id }))
        }
        Command::Delete { id, unshare_first } => {
            let p = provider(g)?;
            let id = image_id(p, &id, true)?;
            if unshare_first {
                let log = trail::open(g)?;
                let s = connect(g, p, None, log.as_ref())?;
                let r = s
                    .unshare_all_and_delete(&id)
                    .await
                    .map_err(|e| partial(out, o, e))?;
                emit(
                    out,
                    o,
                    format!("{}deleted {id}", report_text(&r)),
                    json!({"deleted": id, "unshared": report_json(&r)}),
                )
            } else {
                let s = connect(g, p, None, None)?;
                s.delete(&id).await?;
                emit(out, o, format!("deleted {id}"), json!({ "deleted": id }))
            }
        }
        Command::Plan { file } => {
            let m = Manifest::from_file(&file).map_err(|e| usage(e.to_string()))?;
            check_manifest(g, &m)?;
            let plans = plan_manifest(&connect_manifest(g, &m, None)?, &m).await?;
            emit(out, o, plans_text(&plans), json!(plans))
        }
        Command::Apply { file, yes } => {
            let m = Manifest::from_file(&file).map_err(|e| usage(e.to_string()))?;
            check_manifest(g, &m)?;
            // Without --yes nothing is changed, so nothing is recorded.
            let log = if yes { trail::open(g)? } else { None };
            let conns = connect_manifest(g, &m, log.as_ref())?;
            let (plans, plan_retries) = RetryLog::collect(plan_manifest(&conns, &m)).await;
            let plans = plans?;
            if plans.iter().all(|(_, p)| p.is_noop()) {
                return emit(out, o, "nothing to do".into(), json!({"changes": 0}));
            }
            if !yes {
                emit(out, o, plans_text(&plans), json!(plans))?;
                return Err(usage(
                    "not applied: run again with --yes to apply this plan",
                ));
            }
            apply_plans(g, &conns, &plans, &plan_retries, out).await
        }
        Command::Migrate { flow } => migrate(g, flow, out).await,
        Command::Emulator {
            command: EmulatorCommand::Serve { port, world },
        } => demo::serve(port, world.as_deref(), out).await,
        Command::Demo => demo::run(out).await,
        Command::Audit {
            image,
            principal,
            action,
        } => {
            let filter = trail::Filter {
                provider: g
                    .provider
                    .as_deref()
                    .map(|p| p.parse::<Provider>())
                    .transpose()
                    .map_err(|e| usage(e.to_string()))?,
                image,
                principal,
                action,
            };
            trail::show(g, &filter, out)
        }
    }
}

/// The text columns of `sharees` (streamed: fixed widths).
const SHAREE_COLUMNS: &[listing::Column] = &[("PRINCIPAL", 28), ("SHARED AT", 20)];

/// The text columns of `shared-with-me` (streamed: fixed widths).
const SHARED_IMAGE_COLUMNS: &[listing::Column] = &[
    ("ID", 22),
    ("NAME", 20),
    ("REGION", 14),
    ("STATE", 11),
    ("ORIGIN", 10),
    ("KIND", 11),
    ("ENCRYPTION", 12),
    ("OWNER", 0),
];

/// Every current sharee of `id`, read page by page.
async fn all_sharees(s: &DynSharing, id: &ImageId) -> Result<Vec<Principal>, Failure> {
    Ok(s.sharees_stream(id)
        .map_ok(|x| x.principal)
        .try_collect()
        .await?)
}

/// `shared-with-me`: the images other owners shared with the caller, printed as they
/// arrive. With --trust-owner, the images of owners outside the policy are left out and
/// counted per owner at the end (stdout in text, stderr with --output json, so the JSON
/// stays one array of images).
async fn shared_with_me(g: &Global, out: &mut dyn Write) -> Result<(), Failure> {
    let p = provider(g)?;
    let policy = g.trust_policy();
    // The unfiltered listing: the policy is applied here, so the left-out images can be
    // counted.
    let s = options(g, p, None, None)
        .trust(TrustPolicy::new())
        .build()?;
    let mut hidden: BTreeMap<String, usize> = BTreeMap::new();
    let listing = listing::Listing::new(&mut *out, g.output, SHARED_IMAGE_COLUMNS);
    listing::print(
        listing,
        s.shared_with_me_stream(),
        |img| {
            if !policy.restricts(p) {
                return true;
            }
            let split = policy.partition(p, vec![img.clone()]);
            for (refused, _) in &split.refused {
                *hidden.entry(owner_label(refused)).or_insert(0) += 1;
            }
            split.refused.is_empty()
        },
        |img| (image_row(img), json!(img)),
    )
    .await?;
    if hidden.is_empty() {
        return Ok(());
    }
    let n: usize = hidden.values().sum();
    let owners: Vec<String> = hidden.iter().map(|(o, k)| format!("{o}: {k}")).collect();
    let note = format!(
        "{n} image{} hidden by the trust policy ({}); --trust-owner ID shows an owner's images",
        if n == 1 { "" } else { "s" },
        owners.join(", ")
    );
    match g.output {
        Output::Text => writeln!(out, "{note}")
            .map_err(|e| Failure::new(1, format!("cannot write output: {e}"))),
        Output::Json => {
            eprintln!("imageshare: {note}");
            Ok(())
        }
    }
}

/// Who an image left out by the trust policy belongs to, for the count.
fn owner_label(img: &Image) -> String {
    match (&img.owner, img.origin) {
        (Some(owner), _) => format!("owner {}", owner.id()),
        (None, ImageOrigin::Public) => "public or marketplace".to_owned(),
        (None, _) => "owner not reported".to_owned(),
    }
}

/// Checks the image ids of `share` / `unshare` and drops repeats (a repeated image would
/// be worked on twice at once).
fn image_ids(p: Provider, raw: &[String]) -> Result<Vec<ImageId>, Failure> {
    let mut ids: Vec<ImageId> = Vec::with_capacity(raw.len());
    for r in raw {
        let id = image_id(p, r, true)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// `share` / `unshare` of several images: the bulk engine, then one entry per image,
/// the retries, and status 5 when some failed and others did not (or on Ctrl-C).
async fn run_bulk(
    job: Bulk<'_>,
    steps: usize,
    label: &str,
    out: &mut dyn Write,
    o: Output,
) -> Result<(), Failure> {
    let report = bulk::run(job, steps, label).await;
    let summary = report.retry_summary();
    let r = bulk::render(&report);
    let text = format!("{}retries: {summary}", r.text);
    emit(
        out,
        o,
        text,
        json!({"results": r.results, "retries": summary}),
    )?;
    bulk::finish(
        &report,
        r.first_failure,
        bulk::Exit::Partial,
        "run the command again to finish",
    )
}

fn wait(secs: u64) -> imageshare::migrate::Wait {
    imageshare::migrate::Wait {
        timeout: Duration::from_secs(secs),
        // Look about 30 times over the allowed wait, at least every 10 s.
        poll: Duration::from_millis((secs * 1000 / 30).clamp(100, 10_000)),
    }
}

fn region_of(g: &Global) -> Result<&str, Failure> {
    g.region
        .as_deref()
        .ok_or_else(|| usage("--region is required for this command"))
}

/// `migrate`: the flows of `imageshare::migrate`, with the trust policy and the audit
/// trail of this command (`Connect::flows`).
async fn migrate(g: &Global, flow: MigrateFlow, out: &mut dyn Write) -> Result<(), Failure> {
    let report = match flow {
        MigrateFlow::SasToEcs(a) => {
            let r = region_of(g)?;
            let id = image_id(Provider::AlibabaSas, &a.image, true)?;
            let to = principals(Provider::AlibabaEcs, &a.to);
            let log = trail::open(g)?;
            let ecs_options = options(g, Provider::AlibabaEcs, Some(r), log.as_ref());
            let flows = ecs_options.flows();
            let sas = options(g, Provider::AlibabaSas, Some(r), None).sas()?;
            let ecs = ecs_options.build()?;
            flows
                .sas_to_ecs(&sas, &ecs, &id, &to, wait(a.wait_secs))
                .await
        }
        MigrateFlow::CvmToLighthouse(a) => {
            let r = region_of(g)?;
            let id = image_id(Provider::TencentCvm, &a.image, true)?;
            let to = principals(Provider::TencentLighthouse, &a.to);
            let log = trail::open(g)?;
            let lh_options = options(g, Provider::TencentLighthouse, Some(r), log.as_ref());
            let flows = lh_options.flows();
            let lh = lh_options.lighthouse()?;
            flows
                .cvm_to_lighthouse(&lh, &id, &to, wait(a.wait_secs))
                .await
        }
        MigrateFlow::LighthouseToCvm { blueprint } => {
            // Always refused (no public API): nothing to record.
            let r = region_of(g)?;
            let blueprint = image_id(Provider::TencentLighthouse, &blueprint, true)?;
            let lh = options(g, Provider::TencentLighthouse, Some(r), None).lighthouse()?;
            let id = imageshare::migrate::lighthouse_to_cvm(&lh, &blueprint).await?;
            return emit(out, g.output, id.to_string(), json!({ "image": id }));
        }
        MigrateFlow::Copy { args: a, to_region } => {
            let p = provider(g)?;
            let id = image_id(p, &a.image, true)?;
            let to = principals(p, &a.to);
            let log = trail::open(g)?;
            let source_options = options(g, p, None, log.as_ref());
            let flows = source_options.flows();
            let source = source_options.build()?;
            let target = connect(g, p, Some(&to_region), log.as_ref())?;
            flows
                .copy_then_share(&source, &target, &id, &to, wait(a.wait_secs))
                .await
        }
    }
    .map_err(|e| partial(out, g.output, e))?;
    let mut text = String::new();
    for (i, s) in report.steps.iter().enumerate() {
        text.push_str(&format!("{}. {}: {}\n", i + 1, s.action, s.result));
    }
    text.push_str(&format!("result: {}\n", report.image));
    let json = json!({
        "image": report.image,
        "steps": report.steps,
        "shared": report.shared.as_ref().map(report_json),
    });
    emit(out, g.output, text, json)
}

/// The manifest's image entry and its plan.
type Planned = (imageshare::manifest::ManifestImage, SharePlan);

/// Applies every plan that changes something with the bulk engine (its default options:
/// bounded concurrency across images, retry passes): unshare then share per image, every call
/// paced by the provider's rate limits (one limiter for the whole run, shared by every
/// adapter). Ctrl-C stops starting new work; what was done is printed and the status is
/// 5. The JSON output is `{"results": [one entry per step], "retries": {"plan": ...,
/// "apply": ...}}`.
async fn apply_plans(
    g: &Global,
    conns: &Connections,
    plans: &[Planned],
    plan_retries: &RetryLog,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let steps: usize = plans
        .iter()
        .map(|(_, p)| usize::from(!p.remove.is_empty()) + usize::from(!p.add.is_empty()))
        .sum();
    let mut job = Bulk::with_options(BulkOptions::default());
    for (img, p) in plans.iter().filter(|(_, p)| !p.is_noop()) {
        job = job.plan(&conns[&(img.provider, img.region.clone())], p);
    }
    let report = bulk::run(job, steps, "applying").await;
    let summary = report.retry_summary();
    let r = bulk::render(&report);
    let text = format!("{}retries: plan {plan_retries}; apply {summary}", r.text);
    let json = json!({
        "results": r.results,
        "retries": {"plan": plan_retries, "apply": summary},
    });
    emit(out, g.output, text, json)?;
    bulk::finish(
        &report,
        r.first_failure,
        bulk::Exit::FirstFailure,
        "run apply again to finish",
    )
}

/// One adapter per (provider, region) of a manifest.
type Connections = BTreeMap<(Provider, String), DynSharing>;

/// Checks every image id of a manifest (and --project) before anything is opened or sent.
fn check_manifest(g: &Global, m: &Manifest) -> Result<(), Failure> {
    for img in &m.images {
        image_id(img.provider, &img.id, true)
            .map_err(|f| f.with_context(&format!("{}:{}", m.path.display(), img.line)))?;
        if let (Provider::UCloud, Some(project)) = (img.provider, &g.project) {
            check_project_id("--project", project)?;
        }
    }
    Ok(())
}

/// Connects every (provider, region) of a (checked) manifest once, before anything is
/// sent, from one `ClientOptions`: one rate limiter paces the plan's reads and the apply's
/// writes alike. `audit` records the apply's grants and revokes.
fn connect_manifest(
    g: &Global,
    m: &Manifest,
    audit: Option<&AuditLog>,
) -> Result<Connections, Failure> {
    let client = client_options(g);
    let mut conns = Connections::new();
    for img in &m.images {
        let key = (img.provider, img.region.clone());
        if let std::collections::btree_map::Entry::Vacant(slot) = conns.entry(key) {
            let c = options_with(g, img.provider, Some(&img.region), client.clone(), audit);
            slot.insert(c.build()?);
        }
    }
    Ok(conns)
}

/// Images planned at once (each plan is one listing of the image's sharees).
const PLAN_CONCURRENCY: usize = 8;

/// Plans every image of the manifest, [`PLAN_CONCURRENCY`] at a time, in manifest order.
/// The first failure (with the manifest line of its image) ends it.
async fn plan_manifest(conns: &Connections, m: &Manifest) -> Result<Vec<Planned>, Failure> {
    stream::iter(&m.images)
        .map(|img| async move {
            let conn = &conns[&(img.provider, img.region.clone())];
            match plan::plan(conn, &img.id.as_str().into(), &img.share_with, img.prune).await {
                Ok(p) => Ok((img.clone(), p)),
                Err(e) => Err(Failure::from(e).with_context(&format!(
                    "{}:{}",
                    m.path.display(),
                    img.line
                ))),
            }
        })
        .buffered(PLAN_CONCURRENCY)
        .try_collect()
        .await
}

impl Failure {
    fn with_context(mut self, place: &str) -> Self {
        self.message = format!("{place}: {}", self.message);
        self
    }
}

fn plans_text(plans: &[Planned]) -> String {
    let mut s = String::new();
    let (mut adds, mut removes) = (0, 0);
    for (img, p) in plans {
        s.push_str(&format!("{} {} {}\n", img.provider, img.region, p.image));
        for a in &p.add {
            s.push_str(&format!("  + {a}\n"));
        }
        for r in &p.remove {
            s.push_str(&format!("  - {r}\n"));
        }
        for u in &p.unchanged {
            s.push_str(&format!("  = {u}\n"));
        }
        for k in &p.kept {
            s.push_str(&format!(
                "  ~ {k} (not in the manifest, kept: prune is off)\n"
            ));
        }
        adds += p.add.len();
        removes += p.remove.len();
    }
    if adds + removes == 0 {
        s.push_str("nothing to do\n");
    } else {
        s.push_str(&format!("{adds} to share, {removes} to unshare\n"));
    }
    s
}

fn limits_json(t: &ShareLimits) -> Value {
    json!({
        "provider": t.provider,
        "principal_kind": t.principal_kind,
        "max_sharees_per_image": t.max_sharees_per_image,
        "max_principals_per_call": t.max_principals_per_call,
        "same_region_only": t.same_region_only,
        "reshare_received": t.reshare_received,
        "share_marketplace_derived": t.share_marketplace_derived,
        "cross_site": t.cross_site,
        "shareable_kinds": t.shareable_kinds,
        "require_available": t.require_available,
        "delete_requires_unshare": t.delete_requires_unshare,
        "source": t.source,
    })
}

fn render_limits(t: &ShareLimits) -> String {
    let per_image = t
        .max_sharees_per_image
        .map_or("unpublished".to_owned(), |n| n.to_string());
    let form = match t.principal_form {
        PrincipalForm::NumericAccountId { min_len, max_len } => {
            format!("numeric main-account id, {min_len}-{max_len} digits")
        }
        PrincipalForm::PrefixedId { prefix } => format!("{prefix}..."),
    };
    let encrypted = match t.encrypted {
        EncryptedPolicy::Allowed => "allowed".to_owned(),
        EncryptedPolicy::Forbidden => "refused".to_owned(),
        EncryptedPolicy::CustomerKeyWithAcknowledgement { prerequisite } => {
            format!("customer key only, needs {prerequisite}")
        }
    };
    let kinds: Vec<String> = t.shareable_kinds.iter().map(|k| k.to_string()).collect();
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    format!(
        "{provider}\n  principals:                {kind}s ({form})\n  per image:                 {per_image}\n  per call:                  {per_call}\n  same region only:          {region}\n  re-share received images:  {reshare}\n  marketplace-derived:       {market}\n  encrypted images:          {encrypted}\n  China/international sites: {cross}\n  image kinds:               {kinds}\n  must be available:         {avail}\n  unshare before delete:     {del}\n  source:                    {source}\n",
        provider = t.provider,
        kind = t.principal_kind,
        per_call = t.max_principals_per_call,
        region = yes_no(t.same_region_only),
        reshare = yes_no(t.reshare_received),
        market = yes_no(t.share_marketplace_derived),
        cross = if t.cross_site { "may share" } else { "may not share" },
        kinds = kinds.join(", "),
        avail = yes_no(t.require_available),
        del = yes_no(t.delete_requires_unshare),
        source = t.source,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_help_matches_the_retry_policy() {
        let r = retry_policy();
        assert_eq!(r.max_attempts, RETRY_ATTEMPTS);
        assert_eq!(r.max_elapsed, Some(Duration::from_secs(RETRY_WINDOW_SECS)));
        // The longest waits (jitter at its top) between the attempts of one call.
        let backoff: Duration = (1..RETRY_ATTEMPTS).map(|a| r.backoff(a, 1.0)).sum();
        assert!(
            backoff <= Duration::from_secs(RETRY_BACKOFF_SECS),
            "{backoff:?}"
        );
        assert_eq!(call_bound_secs(1), 8);
        assert_eq!(call_bound_secs(30), 153);
        assert_eq!(call_bound_secs(60), 183);
        // The help text quotes the same numbers.
        use clap::CommandFactory;
        let help = Cli::command()
            .get_arguments()
            .find(|a| a.get_id() == "timeout")
            .and_then(|a| a.get_help().map(|h| h.to_string()))
            .unwrap();
        for quoted in [
            format!("at most {RETRY_ATTEMPTS}"),
            format!("at most {RETRY_BACKOFF_SECS} s"),
            format!("once {RETRY_WINDOW_SECS} s have passed"),
            format!("{RETRY_WINDOW_SECS} + TIMEOUT) + {RETRY_BACKOFF_SECS}"),
        ] {
            assert!(help.contains(&quoted), "{quoted:?} not in {help:?}");
        }
        // ... and the bulk engine's defaults, which apply and several-image share use.
        let bulk = BulkOptions::default();
        for quoted in [
            format!("up to {} more passes", bulk.retry_passes),
            format!("at most {} such calls", bulk.retry_passes + 1),
        ] {
            let flat = help.replace('\n', " ");
            let quoted = quoted.replace('\n', " ");
            assert!(flat.contains(&quoted), "{quoted:?} not in {help:?}");
        }
    }

    #[test]
    fn trust_owners_build_the_policy() {
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "imageshare",
            "--trust-owner",
            "100000000002,tencent-cvm:100000000003",
            "--trust-owner",
            " ucloud:org-a1b2c3 ",
            "shared-with-me",
        ])
        .unwrap();
        assert_eq!(
            cli.global.trust_owner[1],
            TrustOwner {
                provider: Some(Provider::TencentCvm),
                id: "100000000003".into()
            }
        );
        let policy = cli.global.trust_policy();
        let cvm: Vec<&str> = policy.allowed(Provider::TencentCvm).unwrap().collect();
        assert_eq!(cvm, ["100000000002", "100000000003"]);
        let uc: Vec<&str> = policy.allowed(Provider::UCloud).unwrap().collect();
        assert_eq!(uc, ["100000000002", "org-a1b2c3"]);
        assert!(Provider::ALL.iter().all(|p| policy.restricts(*p)));
        // No flag: no policy.
        let cli = Cli::try_parse_from(["imageshare", "shared-with-me"]).unwrap();
        assert!(cli.global.trust_policy().is_unrestricted());
        for (bad, says) in [
            ("", "names no owner"),
            ("aws:1", "unknown provider"),
            ("tencent-cvm:", "names no owner"),
            ("1 2", "not allowed"),
            ("a/b", "not allowed"),
        ] {
            let e = parse_trust_owner(bad).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
        // --trust-public needs an owner list; --audit-log and --no-audit exclude each other.
        for args in [
            &["imageshare", "--trust-public", "shared-with-me"][..],
            &["imageshare", "--audit-log", "/x", "--no-audit", "audit"][..],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn log_filters_accept_levels_and_directives_only() {
        for ok in [
            "trace",
            "WARN",
            "off",
            "imageshare_core=trace",
            "imageshare=debug,info",
        ] {
            assert!(parse_log_filter(ok).is_ok(), "{ok}");
        }
        // Warnings stay on by default when only targets are named.
        let t = parse_log_filter("imageshare_core=trace").unwrap();
        assert_eq!(t.default_level(), Some(LevelFilter::WARN));
        assert_eq!(
            parse_log_filter("debug").unwrap().default_level(),
            Some(LevelFilter::DEBUG)
        );
        for bad in ["verbose", "imageshare=loud", "=debug"] {
            assert!(parse_log_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn image_ids_are_checked_per_provider() {
        for (p, id) in [
            (Provider::AlibabaEcs, "m-bp18ygjuqnwhechc"),
            (Provider::AlibabaSas, "m-sas000000001"),
            (Provider::TencentCvm, "img-6pb6lrmy"),
            (Provider::TencentLighthouse, "lhbp-6jc6l8yb"),
            (Provider::UCloud, "uimage-golden01"),
        ] {
            assert!(image_id(p, id, true).is_ok(), "{p} {id}");
            for other in ["", "m-", "img-a b", "uimage-x&y=1", "m-bp1-x"] {
                assert!(image_id(p, other, true).is_err(), "{p} {other:?}");
            }
        }
        // `image` also shows public images, whose ECS ids have no m- prefix.
        let public = "ubuntu_22_04_x64_20G_alibase_20230907.vhd";
        assert!(image_id(Provider::AlibabaEcs, public, false).is_ok());
        assert!(image_id(Provider::AlibabaEcs, public, true).is_err());
        let long = format!("m-{}", "a".repeat(127));
        let f = image_id(Provider::AlibabaEcs, &long, false).err().unwrap();
        assert_eq!(f.code, 2);
        assert!(f.message.contains("at most 128"), "{}", f.message);
    }
}
