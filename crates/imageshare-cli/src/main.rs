//! The `imageshare` command-line tool: share custom images across accounts and projects
//! on Alibaba Cloud, Tencent Cloud and UCloud, plan/apply a manifest, and run the
//! multi-cloud emulator.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use imageshare::core::bulk::{Bulk, BulkOptions};
use imageshare::core::limits::{EncryptedPolicy, PrincipalForm};
use imageshare::core::plan::{self, SharePlan};
use imageshare::core::transport::RetryLog;
use imageshare::core::{
    AuditLog, CopyTarget, Error, Image, ImageId, ImageOrigin, ImageSharing, ImageSharingExt,
    Principal, Provider, ShareLimits, TrustPolicy,
};
use imageshare::manifest::Manifest;
use imageshare::DynSharing;
use serde_json::{json, Value};

use crate::cli::{
    check_project_id, image_id, image_ids, principals, Cli, Command, EmulatorCommand, Global,
    MigrateFlow,
};
use crate::connect::{client_options, connect, options, options_with};
use crate::exit::{usage, Failure};
use crate::output::{emit, image_row, report_json, report_text, table, Format, IMAGE_COLUMNS};

mod bulk;
mod cli;
mod connect;
mod demo;
mod exit;
mod listing;
mod logging;
mod output;
mod progress;
mod trail;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.global.log_level.clone());
    let endpoint = cli.global.endpoint.clone();
    let timeout = cli.global.timeout;
    let mut out = std::io::stdout().lock();
    match run(cli, &mut out).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let _ = out.flush();
            f.exit(endpoint.as_deref(), timeout)
        }
    }
}

/// A failed multi-batch share: print the per-principal report, then fail with status 5.
fn partial(out: &mut dyn Write, output: Format, e: Error) -> Failure {
    if let Error::Partial(r) = &e {
        let _ = emit(out, output, report_text(r), report_json(r));
    }
    e.into()
}

async fn run(cli: Cli, out: &mut dyn Write) -> Result<(), Failure> {
    let g = &cli.global;
    let o = g.output;
    match cli.command {
        Command::Limits => {
            let want = g.provider_filter()?;
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
            let p = g.provider()?;
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
            let p = g.provider()?;
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
            let p = g.provider()?;
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
            let p = g.provider()?;
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
            let p = g.provider()?;
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
            let p = g.provider()?;
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
                provider: g.provider_filter()?,
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
    let p = g.provider()?;
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
        Format::Text => writeln!(out, "{note}").map_err(Failure::output),
        Format::Json => {
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

/// `share` / `unshare` of several images: the bulk engine, then one entry per image,
/// the retries, and status 5 when some failed and others did not (or on Ctrl-C).
async fn run_bulk(
    job: Bulk<'_>,
    steps: usize,
    label: &str,
    out: &mut dyn Write,
    o: Format,
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

/// `migrate`: the flows of `imageshare::migrate`, with the trust policy and the audit
/// trail of this command (`Connect::flows`).
async fn migrate(g: &Global, flow: MigrateFlow, out: &mut dyn Write) -> Result<(), Failure> {
    let report = match flow {
        MigrateFlow::SasToEcs(a) => {
            let r = g.region()?;
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
            let r = g.region()?;
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
            let r = g.region()?;
            let blueprint = image_id(Provider::TencentLighthouse, &blueprint, true)?;
            let lh = options(g, Provider::TencentLighthouse, Some(r), None).lighthouse()?;
            let id = imageshare::migrate::lighthouse_to_cvm(&lh, &blueprint).await?;
            return emit(out, g.output, id.to_string(), json!({ "image": id }));
        }
        MigrateFlow::Copy { args: a, to_region } => {
            let p = g.provider()?;
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
