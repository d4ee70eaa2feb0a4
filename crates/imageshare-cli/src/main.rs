//! The `imageshare` command-line tool: share custom images across accounts and projects
//! on Alibaba Cloud, Tencent Cloud and UCloud, plan/apply a manifest, and run the
//! multi-cloud emulator.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use imageshare::core::bulk::Bulk;
use imageshare::core::limits::{EncryptedPolicy, PrincipalForm};
use imageshare::core::plan::{self, SharePlan};
use imageshare::core::transport::ClientOptions;
use imageshare::core::{
    CheckOptions, CopyTarget, Error, Image, ImageSharing, ImageSharingExt, Principal,
    PrincipalKind, Provider, ShareLimits, ShareReport,
};
use imageshare::manifest::Manifest;
use imageshare::{Connect, DynSharing};
use serde_json::{json, Value};

mod demo;
mod progress;

const EXIT_HELP: &str = "\
Exit status: 0 done; 1 the cloud refused or failed; 2 bad usage or input; 3 refused by the \
limit checker before anything was sent; 4 credentials missing or rejected; 5 partially \
applied (the report says what was done).";

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
    /// Per-request timeout in seconds.
    #[arg(long, global = true, default_value_t = 30)]
    timeout: u64,
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
    /// Share an image with accounts (UCloud: projects).
    Share {
        id: String,
        /// Principals, comma-separated or repeated.
        #[arg(long, required = true, value_delimiter = ',')]
        to: Vec<String>,
    },
    /// Revoke grants.
    Unshare {
        id: String,
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
    Sharees { id: String },
    /// List images other accounts (projects) shared with me.
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
    Demo,
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
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::from(&e)
    }
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Self {
        let code = match e {
            Error::Limit(_) => 3,
            Error::Auth { .. } | Error::CredentialsNotFound { .. } => 4,
            Error::Partial(_) => 5,
            Error::InvalidInput { .. } => 2,
            _ => 1,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        message: message.into(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    match run(cli, &mut out).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let _ = out.flush();
            eprintln!("imageshare: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn provider(g: &Global) -> Result<Provider, Failure> {
    let name = g
        .provider
        .as_deref()
        .ok_or_else(|| usage("--provider is required for this command"))?;
    name.parse().map_err(|e: Error| usage(e.to_string()))
}

/// The HTTP options of one command: the timeout, and a fresh rate limiter that every
/// adapter built from clones of these options shares.
fn client_options(g: &Global) -> ClientOptions {
    ClientOptions::default().with_timeout(Duration::from_secs(g.timeout))
}

fn options(g: &Global, provider: Provider, region: Option<&str>) -> Connect {
    options_with(g, provider, region, client_options(g))
}

fn options_with(
    g: &Global,
    provider: Provider,
    region: Option<&str>,
    client: ClientOptions,
) -> Connect {
    let mut c = Connect::new(provider)
        .client_options(client)
        .check_options(CheckOptions {
            allow_encrypted: g.allow_encrypted,
            ..Default::default()
        });
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

fn connect(g: &Global, provider: Provider, region: Option<&str>) -> Result<DynSharing, Failure> {
    Ok(options(g, provider, region).build()?)
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
    written.map_err(|e| Failure {
        code: 1,
        message: format!("cannot write output: {e}"),
    })
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
            let s = connect(g, provider(g)?, None)?;
            let img = s.image(&id.into()).await?;
            emit(
                out,
                o,
                table(&IMAGE_COLUMNS, vec![image_row(&img)]),
                json!(img),
            )
        }
        Command::Share { id, to } => {
            let p = provider(g)?;
            let s = connect(g, p, None)?;
            let to = principals(p, &to);
            let bar = progress::spinner(&format!("sharing {id} with {} principals", to.len()));
            let result = s.share(&id.into(), &to).await;
            bar.finish_and_clear();
            match result {
                Ok(r) => emit(out, o, report_text(&r), report_json(&r)),
                Err(e) => Err(partial(out, o, e)),
            }
        }
        Command::Unshare { id, from, all } => {
            let p = provider(g)?;
            let s = connect(g, p, None)?;
            let id = id.into();
            let from = if all {
                s.sharees(&id)
                    .await?
                    .into_iter()
                    .map(|x| x.principal)
                    .collect()
            } else {
                principals(p, &from)
            };
            if from.is_empty() {
                return emit(
                    out,
                    o,
                    format!("{id} has no sharees"),
                    json!({"image": id, "results": []}),
                );
            }
            let bar = progress::spinner(&format!("unsharing {id} from {} principals", from.len()));
            let result = s.unshare(&id, &from).await;
            bar.finish_and_clear();
            match result {
                Ok(r) => emit(out, o, report_text(&r), report_json(&r)),
                Err(e) => Err(partial(out, o, e)),
            }
        }
        Command::Sharees { id } => {
            let s = connect(g, provider(g)?, None)?;
            let list = s.sharees(&id.into()).await?;
            let rows = list
                .iter()
                .map(|x| {
                    vec![
                        x.principal.to_string(),
                        x.shared_at.clone().unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            emit(
                out,
                o,
                table(&["PRINCIPAL", "SHARED AT"], rows),
                json!(list),
            )
        }
        Command::SharedWithMe => {
            let s = connect(g, provider(g)?, None)?;
            let list = s.shared_with_me().await?;
            let rows = list.iter().map(image_row).collect();
            emit(out, o, table(&IMAGE_COLUMNS, rows), json!(list))
        }
        Command::Copy {
            id,
            to_region,
            to_project,
            name,
        } => {
            let s = connect(g, provider(g)?, None)?;
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
            let new_id = s.copy(&id.into(), target).await?;
            emit(out, o, new_id.to_string(), json!({ "image": new_id }))
        }
        Command::Delete { id, unshare_first } => {
            let s = connect(g, provider(g)?, None)?;
            let id = id.into();
            if unshare_first {
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
                s.delete(&id).await?;
                emit(out, o, format!("deleted {id}"), json!({ "deleted": id }))
            }
        }
        Command::Plan { file } => {
            let m = Manifest::from_file(&file).map_err(|e| usage(e.to_string()))?;
            let plans = plan_manifest(&connect_manifest(g, &m)?, &m).await?;
            emit(out, o, plans_text(&plans), json!(plans))
        }
        Command::Apply { file, yes } => {
            let m = Manifest::from_file(&file).map_err(|e| usage(e.to_string()))?;
            let conns = connect_manifest(g, &m)?;
            let plans = plan_manifest(&conns, &m).await?;
            if plans.iter().all(|(_, p)| p.is_noop()) {
                return emit(out, o, "nothing to do".into(), json!({"changes": 0}));
            }
            if !yes {
                emit(out, o, plans_text(&plans), json!(plans))?;
                return Err(usage(
                    "not applied: run again with --yes to apply this plan",
                ));
            }
            apply_plans(g, &conns, &plans, out).await
        }
        Command::Migrate { flow } => migrate(g, flow, out).await,
        Command::Emulator {
            command: EmulatorCommand::Serve { port, world },
        } => demo::serve(port, world.as_deref(), out).await,
        Command::Demo => demo::run(out).await,
    }
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

async fn migrate(g: &Global, flow: MigrateFlow, out: &mut dyn Write) -> Result<(), Failure> {
    use imageshare::migrate as m;
    let report = match flow {
        MigrateFlow::SasToEcs(a) => {
            let r = region_of(g)?;
            let sas = options(g, Provider::AlibabaSas, Some(r)).sas()?;
            let ecs = connect(g, Provider::AlibabaEcs, Some(r))?;
            let to = principals(Provider::AlibabaEcs, &a.to);
            m::sas_to_ecs(&sas, &ecs, &a.image.into(), &to, wait(a.wait_secs)).await
        }
        MigrateFlow::CvmToLighthouse(a) => {
            let r = region_of(g)?;
            let lh = options(g, Provider::TencentLighthouse, Some(r)).lighthouse()?;
            let to = principals(Provider::TencentLighthouse, &a.to);
            m::cvm_to_lighthouse(&lh, &a.image.into(), &to, wait(a.wait_secs)).await
        }
        MigrateFlow::LighthouseToCvm { blueprint } => {
            let r = region_of(g)?;
            let lh = options(g, Provider::TencentLighthouse, Some(r)).lighthouse()?;
            let id = m::lighthouse_to_cvm(&lh, &blueprint.into()).await?;
            return emit(out, g.output, id.to_string(), json!({ "image": id }));
        }
        MigrateFlow::Copy { args: a, to_region } => {
            let p = provider(g)?;
            let source = connect(g, p, None)?;
            let target = connect(g, p, Some(&to_region))?;
            let to = principals(p, &a.to);
            m::copy_then_share(&source, &target, &a.image.into(), &to, wait(a.wait_secs)).await
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

/// Images `apply` works on at once (each through its provider's rate limiter).
const APPLY_CONCURRENCY: usize = 8;

/// Applies every plan that changes something with the bulk engine: unshare then share per
/// image, images in parallel (bounded), every call paced by the provider's rate limits
/// (one limiter for the whole run, shared by every adapter). Ctrl-C stops starting new
/// work; what was done is printed and the status is 5.
async fn apply_plans(
    g: &Global,
    conns: &Connections,
    plans: &[Planned],
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let o = g.output;
    let steps: usize = plans
        .iter()
        .map(|(_, p)| usize::from(!p.remove.is_empty()) + usize::from(!p.add.is_empty()))
        .sum();
    let bar = progress::bar(steps as u64, "applying");
    let mut job = Bulk::new()
        .concurrency(APPLY_CONCURRENCY)
        .on_progress(|op| {
            bar.set_message(format!("{} {} {}", op.provider, op.op, op.image));
            bar.inc(1);
        });
    for (img, p) in plans.iter().filter(|(_, p)| !p.is_noop()) {
        job = job.plan(&conns[&(img.provider, img.region.clone())], p);
    }
    let report = job
        .run_until(async {
            // Without signal support, never cancel.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await;
    bar.finish_and_clear();
    let mut results = Vec::new();
    let mut text = String::new();
    let mut failed: Option<Failure> = None;
    for op in &report.ops {
        if op.passes == 0 {
            // Skipped after a failed unshare (reported there), or cancelled.
            if report.cancelled {
                text.push_str(&format!(
                    "{}: {} of {} principals not attempted (cancelled)\n",
                    op.image,
                    op.op,
                    op.not_attempted.len()
                ));
                results.push(json!({
                    "image": op.image,
                    "operation": op.op,
                    "not_attempted": op.not_attempted,
                }));
            }
            continue;
        }
        match op.failure() {
            Some(e) => {
                text.push_str(&format!("{}: {e}\n", op.image));
                results.push(json!({"image": op.image, "error": e.to_string()}));
                failed.get_or_insert_with(|| Failure::from(e.as_ref()));
            }
            None => {
                text.push_str(&report_text(&op.report));
                results.push(report_json(&op.report));
            }
        }
    }
    emit(out, o, text, json!(results))?;
    if let Some(f) = failed {
        return Err(f);
    }
    if report.cancelled {
        return Err(Failure {
            code: 5,
            message: format!("cancelled: {}; run apply again to finish", report.summary()),
        });
    }
    Ok(())
}

/// One adapter per (provider, region) of a manifest.
type Connections = BTreeMap<(Provider, String), DynSharing>;

/// Connects every (provider, region) of a manifest once, before anything is sent, from one
/// `ClientOptions`: one rate limiter paces the plan's reads and the apply's writes alike.
fn connect_manifest(g: &Global, m: &Manifest) -> Result<Connections, Failure> {
    let client = client_options(g);
    let mut conns = Connections::new();
    for img in &m.images {
        let key = (img.provider, img.region.clone());
        if let std::collections::btree_map::Entry::Vacant(slot) = conns.entry(key) {
            slot.insert(options_with(g, img.provider, Some(&img.region), client.clone()).build()?);
        }
    }
    Ok(conns)
}

async fn plan_manifest(conns: &Connections, m: &Manifest) -> Result<Vec<Planned>, Failure> {
    let mut plans = Vec::new();
    for img in &m.images {
        let p = plan::plan(
            &conns[&(img.provider, img.region.clone())],
            &img.id.as_str().into(),
            &img.share_with,
            img.prune,
        )
        .await
        .map_err(|e| {
            Failure::from(e).with_context(&format!("{}:{}", m.path.display(), img.line))
        })?;
        plans.push((img.clone(), p));
    }
    Ok(plans)
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
