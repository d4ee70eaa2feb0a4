//! The command line: the clap argument types, the parsers of their values, and the checks
//! of the values a command reads from them (provider, region, image ids, principals,
//! project ids), all made before anything is sent.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use imageshare::core::audit::AuditAction;
use imageshare::core::limits::ImageIdUse;
use imageshare::core::{Error, ImageId, Principal, PrincipalKind, Provider, TrustPolicy};
use tracing_subscriber::filter::Targets;

use crate::exit::{usage, Failure};
use crate::logging::parse_log_filter;
use crate::output::Format;
use crate::wording::shown;

/// The text after `--help`: the exit statuses and the audit trail.
pub const EXIT_HELP: &str = "\
Exit status: 0 done; 1 the cloud refused or failed, or the audit trail could not be opened, \
written or read; 2 bad usage or input; 3 refused before anything was sent, by the limit \
checker or by the trust policy (--trust-owner); 4 credentials missing or rejected; 5 \
partially applied or cancelled (the report says what was done), or a confirmation answered \
no (nothing changed). Ctrl-C stops starting new calls and ends the command within about a \
second (status 5); a second Ctrl-C exits at once (status 130). A closed stdout \
(`| head -1`) ends the command quietly (status 141). With --output json an error is one \
JSON object on stderr (SCHEMA.md).

Audit trail: share, unshare, delete --unshare-first, copy --to-project, migrate and apply \
--yes record every grant and revoke, one JSON line each, in --audit-log PATH (default \
$XDG_STATE_HOME/imageshare/audit.jsonl, else ~/.local/state/imageshare/audit.jsonl) unless \
--no-audit is given; `imageshare audit` prints it.";

/// Share custom machine images across accounts and projects.
#[derive(Debug, Parser)]
#[command(name = "imageshare", version, about, after_help = EXIT_HELP)]
pub struct Cli {
    /// The flags every command takes.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The heading of the flags every command takes, in every command's help: after the
/// command's own options, which come first under `Options:`.
pub const GLOBAL_HEADING: &str = "Global options";

/// The flags every command takes (`global = true`: before or after the command name).
/// Listed under [`GLOBAL_HEADING`], after the command's own options.
#[derive(Debug, Args)]
#[command(next_help_heading = GLOBAL_HEADING)]
pub struct Global {
    /// Provider: alibaba-ecs, alibaba-sas, tencent-cvm, tencent-lighthouse, ucloud.
    #[arg(long, short = 'p', global = true, env = "IMAGESHARE_PROVIDER")]
    pub provider: Option<String>,
    /// Region (else the cloud's own region variable or profile).
    #[arg(long, short = 'r', global = true, env = "IMAGESHARE_REGION")]
    pub region: Option<String>,
    /// Endpoint override (private endpoint, VPC endpoint, the emulator).
    #[arg(long, global = true, env = "IMAGESHARE_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Named profile of the cloud's CLI profile file (ALIBABA_CLOUD_PROFILE, a section of
    /// ~/.tencentcloud/credentials, UCLOUD_PROFILE). Credentials never come from flags.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// UCloud project to act in.
    #[arg(long, global = true, env = "UCLOUD_PROJECT_ID")]
    pub project: Option<String>,
    /// Output format: text, or one JSON document per command (SCHEMA.md), errors as one
    /// JSON object on stderr.
    #[arg(
        long,
        short = 'o',
        global = true,
        value_enum,
        env = "IMAGESHARE_OUTPUT",
        default_value_t = Format::Text
    )]
    pub output: Format,
    /// Confirm that encrypted images may be shared (customer-managed key and sharing role
    /// in place).
    #[arg(long, global = true)]
    pub allow_encrypted: bool,
    /// Alibaba ECS: share with a whole resource directory, a folder of it or one member
    /// through Resource Sharing (`directory:rd-...`, `folder:fd-...`, `member:ID` wherever
    /// principals are given, manifests included), and list those among the sharees
    /// (`sharees`, `unshare --all`, `plan` / `apply` and their pruning; one more read per
    /// image). `share` and
    /// `unshare` given such a principal turn it on by themselves. Ignored by providers
    /// without organisation sharing.
    #[arg(long, global = true)]
    pub resource_sharing: bool,
    /// Like --resource-sharing, and let accounts outside the resource directory be
    /// targets (`member:ID`; Resource Sharing's AllowExternalTargets): each must accept
    /// the invitation before it sees the image.
    #[arg(long, global = true)]
    pub allow_external_targets: bool,
    /// Seconds allowed for one attempt of one API call (1-3600); how retries bound a
    /// command: README, "Timeouts".
    #[arg(
        long,
        global = true,
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub timeout: u64,
    /// Log to stderr: a level (off, error, warn, info, debug, trace) or comma-separated
    /// `target=level` directives with an optional default level
    /// (`imageshare_core=trace,info`). Warnings (such as a credentials file other users can
    /// read) are always shown unless this says `off`.
    #[arg(long, global = true, env = "IMAGESHARE_LOG", value_parser = parse_log_filter)]
    pub log_level: Option<Targets>,
    /// The audit trail (JSON lines) that commands which grant or revoke append to, and that
    /// `imageshare audit` reads. Default: $XDG_STATE_HOME/imageshare/audit.jsonl, else
    /// $HOME/.local/state/imageshare/audit.jsonl. A trail that cannot be opened fails the
    /// command before anything is sent.
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "no_audit")]
    pub audit_log: Option<PathBuf>,
    /// Record nothing in the audit trail.
    #[arg(long, global = true)]
    pub no_audit: bool,
    /// Write no progress and no notes on stderr (warnings and errors still are).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Send no write (share, unshare, copy, delete, the migration flows' hand-overs):
    /// print the calls that would be sent instead, and exit 0. Reads (image lookups,
    /// sharee listings, plans) are still sent; limit and trust refusals still apply
    /// (status 3); nothing is written to the audit trail. `apply --dry-run` needs no
    /// --yes. Commands that only read ignore it.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// The writes a `--dry-run` did not send (not a flag).
    #[arg(skip)]
    pub dry_run_calls: crate::dryrun::Recorder,
    /// Accept images shared with you only from this owner (an account id; UCloud: a
    /// project id): `ID` on every provider the command uses, `PROVIDER:ID` on that one;
    /// `ID` may be written `account:ID` / `project:ID`, as owners are printed.
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
    pub trust_owner: Vec<TrustOwner>,
    /// With --trust-owner: also accept public and marketplace images.
    #[arg(long, global = true, requires = "trust_owner")]
    pub trust_public: bool,
    /// Assume this role (STS AssumeRole) with the credentials found, and act as it:
    /// acs:ram::ACCOUNT:role/NAME (Alibaba Cloud), qcs::cam::uin/ACCOUNT:roleName/NAME
    /// (Tencent Cloud). Refreshed before it expires.
    #[arg(long, global = true, value_name = "ARN", env = "IMAGESHARE_ASSUME_ROLE", value_parser = parse_role_arn)]
    pub assume_role: Option<String>,
    /// With --assume-role: the session name (2-64 of letters, digits, `.@_-=,+`; default
    /// imageshare-UNIXTIME).
    #[arg(long, global = true, requires = "assume_role", value_parser = parse_session_name)]
    pub role_session_name: Option<String>,
    /// With --assume-role: the external id the role's trust policy asks for (2-128 of
    /// letters, digits, `=,.@:/_-`).
    #[arg(long, global = true, requires = "assume_role", value_parser = parse_external_id)]
    pub external_id: Option<String>,
    /// With --assume-role: seconds the credentials are asked for (900-43200; the cloud
    /// caps it at the role's maximum).
    #[arg(
        long,
        global = true,
        requires = "assume_role",
        value_name = "SECS",
        value_parser = clap::value_parser!(u64).range(900..=43200)
    )]
    pub duration: Option<u64>,
    /// The STS endpoint the credential sources call (a regional or VPC STS endpoint, the
    /// emulator).
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "IMAGESHARE_STS_ENDPOINT"
    )]
    pub sts_endpoint: Option<String>,
    /// The instance metadata server the instance-role sources read (the emulator in
    /// tests; the clouds' link-local addresses by default).
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "IMAGESHARE_METADATA_ENDPOINT"
    )]
    pub metadata_endpoint: Option<String>,
}

/// Parses a duration: one or more of a whole number and a unit, `ms`, `s`, `m` or `h`
/// (`500ms`, `90s`, `45m`, `1h30m`); from 1 ms to 7 days.
pub fn parse_duration(raw: &str) -> Result<std::time::Duration, String> {
    use std::time::Duration;
    let shown = shown(raw);
    let bad = || format!("{shown}: a duration is a number and a unit: 500ms, 90s, 45m, 2h, 1h30m");
    let text = raw.trim();
    if text.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 || digits > 9 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let part = match &rest[..unit_len] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n * 60),
            "h" => Duration::from_secs(n * 3600),
            _ => return Err(bad()),
        };
        total += part;
        rest = &rest[unit_len..];
    }
    if total.is_zero() || total > Duration::from_secs(7 * 24 * 3600) {
        return Err(format!("{shown}: a duration from 1ms to 7 days (168h)"));
    }
    Ok(total)
}

/// Parses `--assume-role`: an ARN without white space or control characters, at most 256
/// characters (each cloud checks its own form when the role is assumed).
pub fn parse_role_arn(raw: &str) -> Result<String, String> {
    let shown = shown(raw);
    if raw.is_empty() || raw.len() > 256 {
        return Err(format!("{shown}: a role ARN has 1 to 256 characters"));
    }
    if let Some(c) = raw.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{shown}: {c:?} is not allowed in a role ARN"));
    }
    Ok(raw.to_owned())
}

/// Parses `--role-session-name`: 2-64 characters of letters, digits and `.@_-=,+` (the
/// set both Alibaba Cloud and Tencent Cloud STS accept).
pub fn parse_session_name(raw: &str) -> Result<String, String> {
    check_token(raw, "a role session name", 2, 64, ".@_-=,+")
}

/// Parses `--external-id`: 2-128 characters of letters, digits and `=,.@:/_-`.
pub fn parse_external_id(raw: &str) -> Result<String, String> {
    check_token(raw, "an external id", 2, 128, "=,.@:/_-")
}

fn check_token(
    raw: &str,
    what: &str,
    min: usize,
    max: usize,
    extra: &str,
) -> Result<String, String> {
    let shown = shown(raw);
    let n = raw.chars().count();
    if n < min || n > max {
        return Err(format!(
            "{shown}: {what} has {min} to {max} characters, not {n}"
        ));
    }
    if let Some(c) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || extra.contains(*c)))
    {
        return Err(format!(
            "{shown}: {c:?} is not allowed in {what} (letters, digits and `{extra}`)"
        ));
    }
    Ok(raw.to_owned())
}

/// One `--trust-owner`: an owner id, on one provider or on all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustOwner {
    /// The provider it applies to; all when `None`.
    pub provider: Option<Provider>,
    /// The owner id.
    pub id: String,
}

/// Parses `--trust-owner`: `ID` or `PROVIDER:ID`, where `ID` may be written as `sharees`,
/// `audit` and `shared-with-me` print owners, `account:ID` / `project:ID` (no provider is
/// named `account` or `project`, so `account:ID` is an owner on every provider); the id
/// made of letters, digits, `-`, `_` and `.`.
pub fn parse_trust_owner(raw: &str) -> Result<TrustOwner, String> {
    let raw = raw.trim();
    let shown = shown(raw);
    /// `ID` without its `account:` / `project:` kind.
    fn bare(id: &str) -> &str {
        let id = id.trim();
        match id.split_once(':') {
            Some(("account" | "project", id)) => id.trim(),
            _ => id,
        }
    }
    let (provider, id) = match raw.split_once(':') {
        Some(("account" | "project", _)) => (None, bare(raw)),
        Some((p, id)) => (
            Some(parse_provider(p).map_err(|e| format!("{shown}: {e}"))?),
            bare(id),
        ),
        None => (None, raw),
    };
    if id.is_empty() {
        return Err(format!("{shown} names no owner id"));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "{shown}: {c:?} is not allowed in an owner id (letters, digits, `-`, `_` and `.`)"
        ));
    }
    Ok(TrustOwner {
        provider,
        id: id.to_owned(),
    })
}

impl Global {
    /// The role of `--assume-role` and its options, if given.
    pub fn assume_role(&self) -> Option<imageshare::AssumeRole> {
        let arn = self.assume_role.as_ref()?;
        let mut role = imageshare::AssumeRole::new(arn.as_str());
        role.session_name = self.role_session_name.clone();
        role.external_id = self.external_id.clone();
        role.duration = self.duration.map(std::time::Duration::from_secs);
        Some(role)
    }

    /// The trust policy of `--trust-owner` / `--trust-public` (none: any owner).
    pub fn trust_policy(&self) -> TrustPolicy {
        let mut policy = TrustPolicy::new().allow_public(self.trust_public);
        for owner in &self.trust_owner {
            policy = match owner.provider {
                Some(p) => policy.allow(p, owner.id.as_str()),
                None => policy.allow_everywhere(owner.id.as_str()),
            };
        }
        policy
    }

    /// `--provider`, required by this command; `--project` is checked too, for a provider
    /// that shares to projects.
    pub fn provider(&self) -> Result<Provider, Failure> {
        let p = self
            .provider_filter()?
            .ok_or_else(|| usage("--provider is required for this command"))?;
        if let Some(project) = &self.project {
            check_project_id(p, "--project", project)?;
        }
        Ok(p)
    }

    /// `--provider` where it is optional and selects (`limits`, `audit`): `None` for all.
    pub fn provider_filter(&self) -> Result<Option<Provider>, Failure> {
        self.provider
            .as_deref()
            .map(parse_provider)
            .transpose()
            .map_err(usage)
    }

    /// `--region`, required by this command.
    pub fn region(&self) -> Result<&str, Failure> {
        self.region
            .as_deref()
            .ok_or_else(|| usage("--region is required for this command"))
    }
}

/// A provider named on the command line, looked up in the facade's registry (the
/// providers compiled in); the error lists them.
pub fn parse_provider(name: &str) -> Result<Provider, String> {
    imageshare::registry::lookup(name)
        .map(|spec| spec.provider)
        .map_err(|e| e.to_string())
}

/// Checks a project id given on the command line (`--project`, `--to-project`) for
/// `provider`, with its limits table's own principal rule, before anything is sent. Only
/// providers that share to projects (UCloud: `org-...`) have one to check.
pub fn check_project_id(provider: Provider, flag: &str, raw: &str) -> Result<(), Failure> {
    let Some(limits) = imageshare::limits_of(provider) else {
        return Ok(()); // Not compiled in: the build step says so.
    };
    if limits.principal_kind != PrincipalKind::Project {
        return Ok(());
    }
    limits
        .check_principal_form(&Principal::project(raw))
        .map_err(|e| {
            usage(format!(
                "invalid {flag}: {}; expected {}",
                e.explanation, e.limit
            ))
        })
}

/// Checks an image id before anything is sent, with the rule the limit checker and the
/// manifest parser use (the provider's table's `image_id_rule`): 1-128 ASCII letters,
/// digits, `-`, `_` or `.`; when `custom`, also the provider's custom-image prefix
/// followed by letters and digits. `image` accepts public image ids too
/// (`custom` false): an ECS public image id has no `m-`.
pub fn image_id(provider: Provider, raw: &str, custom: bool) -> Result<ImageId, Failure> {
    let use_ = if custom {
        ImageIdUse::Custom
    } else {
        ImageIdUse::Lookup
    };
    let Some(limits) = imageshare::limits_of(provider) else {
        return Err(usage(format!("{provider} is not compiled in")));
    };
    match limits.image_id_rule().check(raw, use_) {
        Ok(()) => Ok(ImageId::from(raw)),
        Err(Error::InvalidInput { message, .. }) => {
            Err(usage(format!("invalid image id {message}")))
        }
        Err(e) => Err(usage(e.to_string())),
    }
}

/// Checks the image ids of `share` / `unshare` and drops repeats (a repeated image would
/// be worked on twice at once).
pub fn image_ids(p: Provider, raw: &[String]) -> Result<Vec<ImageId>, Failure> {
    let mut ids: Vec<ImageId> = Vec::with_capacity(raw.len());
    for r in raw {
        let id = image_id(p, r, true)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The principals of `--to` / `--from`: a bare id is of the kind `provider` shares to
/// (accounts, or UCloud projects); `KIND:ID`, the form `sharees` and `audit` print, names
/// the kind (`account`, `project`, and for organisation sharing `directory`, `folder`,
/// `member`; one the provider does not share to is refused by the limit checker, before
/// anything is sent). Blank entries are dropped.
pub fn principals(provider: Provider, raw: &[String]) -> Vec<Principal> {
    let kind = imageshare::limits_of(provider).map_or(PrincipalKind::Account, |l| l.principal_kind);
    raw.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| Principal::parse_prefixed(s).unwrap_or_else(|| Principal::of_kind(kind, s)))
        .collect()
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the documented sharing limits (all providers, or --provider's).
    Limits,
    /// Print who the credentials act as, per provider (all, or --provider's), and where
    /// they came from: the account (UCloud: the project), the ARN, the source, the expiry
    /// of temporary credentials.
    Whoami,
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
        /// Principals (ID, or `account:ID` / `project:ID` as `sharees` prints them),
        /// comma-separated or repeated.
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
        /// Principals (ID, or `account:ID` / `project:ID` as `sharees` prints them),
        /// comma-separated or repeated.
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
    ///
    /// Asks first on a terminal; without one, refused unless --yes is given.
    Delete {
        id: String,
        /// Unshare it from everyone first.
        #[arg(long)]
        unshare_first: bool,
        /// Delete without asking (needed when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Alibaba ECS: publish an image as a community image, which every Alibaba Cloud
    /// account in its region can then use. Refused before anything is sent without
    /// --everyone-in-the-region, and for an encrypted, marketplace-derived, not own or not
    /// available image (status 3).
    Publish {
        id: String,
        /// Confirm that every account in the image's region may use it.
        #[arg(long)]
        everyone_in_the_region: bool,
    },
    /// Alibaba ECS: make a community image private again (direct shares stay).
    Unpublish { id: String },
    /// Move images between products and regions, then share them onward.
    Migrate {
        #[command(subcommand)]
        flow: MigrateFlow,
    },
    /// Show what `apply` would change for a manifest.
    ///
    /// Entries with `regions`: per region, copy needed / copying (NN%) / ready / failed,
    /// and the share changes.
    Plan {
        /// The manifest (TOML, at most 4 MiB); `-` reads it from standard input.
        #[arg(long, short = 'f')]
        file: String,
        /// Exit 0 when nothing would change, 2 when something would, 1 on any error (as
        /// terraform plan -detailed-exitcode).
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Make the live sharees match a manifest.
    ///
    /// Without --yes: on a terminal, shows the plan and asks; without one, prints the plan
    /// and changes nothing (status 2). Entries with `regions` are copied into each region
    /// (a copy made before, or still being made, is found again, never made twice) and
    /// every copy shared as soon as it is available; a region not done ends with status 5
    /// and a report per region (README: "Distribute a golden image to many regions").
    Apply {
        /// The manifest (TOML, at most 4 MiB); `-` reads it from standard input.
        #[arg(long, short = 'f')]
        file: String,
        /// Apply without asking (needed when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Entries with `regions`: give up on a region whose copy is not available this
        /// long after it was started or found (`90s`, `45m`, `2h`, `1h30m`). The copy goes
        /// on in the cloud; a later run finds it (never copies twice). Status 5.
        #[arg(long, value_name = "DURATION", default_value = "60m", value_parser = parse_duration)]
        copy_timeout: std::time::Duration,
        /// Entries with `regions`: how often a copy's state is read while waiting for it.
        #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
        copy_poll: std::time::Duration,
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
        /// Only this principal: its id, or `account:ID`, `project:ID`, `service:PROVIDER`,
        /// `everyone` (community images).
        #[arg(long)]
        principal: Option<String>,
        /// Only this action.
        #[arg(long, value_enum)]
        action: Option<ActionFilter>,
    },
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    ///
    /// For example `imageshare completions bash > ~/.local/share/bash-completion/completions/imageshare`,
    /// or `imageshare completions zsh > "${fpath[1]}/_imageshare"`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `imageshare man > imageshare.1 && man ./imageshare.1`.
    ///
    /// With --dir, write a page per command into DIR instead (imageshare.1,
    /// imageshare-share.1, ...) and print their paths.
    Man {
        /// Write every command's page into this directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// The flows of `migrate`.
#[derive(Debug, Subcommand)]
pub enum MigrateFlow {
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

/// The longest `--wait-secs` (a day).
pub const MAX_WAIT_SECS: u64 = 86_400;

/// The arguments every `migrate` flow that shares onward takes.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The image to move.
    pub image: String,
    /// Principals to share the result with, comma-separated or repeated.
    #[arg(long, value_delimiter = ',')]
    pub to: Vec<String>,
    /// Longest wait for a copy to become available, in seconds (1-86400).
    #[arg(
        long,
        default_value_t = 1800,
        value_parser = clap::value_parser!(u64).range(1..=MAX_WAIT_SECS)
    )]
    pub wait_secs: u64,
}

/// The commands of `emulator`.
#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve on 127.0.0.1 until stopped.
    Serve {
        /// Port (0-65535; 0: an ephemeral one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// World file (default: the built-in example world).
        #[arg(long)]
        world: Option<String>,
        /// Serve https: a CA and a certificate for 127.0.0.1 and localhost are made at
        /// start (give clients the CA with --ca-out).
        #[arg(long)]
        tls: bool,
        /// With --tls: write the CA certificate (PEM) to PATH, for the clients to trust.
        #[arg(long, value_name = "PATH", requires = "tls")]
        ca_out: Option<std::path::PathBuf>,
    },
}

/// `imageshare audit --action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ActionFilter {
    /// Grants (shares, and the migration flows' hand-overs to another service).
    Grant,
    /// Revokes.
    Revoke,
    /// Copies into another project.
    Copy,
    /// Community images published (Alibaba ECS).
    Publish,
    /// Community images unpublished.
    Unpublish,
}

impl ActionFilter {
    /// The audit trail's action this selects.
    pub fn action(self) -> AuditAction {
        match self {
            ActionFilter::Grant => AuditAction::Grant,
            ActionFilter::Revoke => AuditAction::Revoke,
            ActionFilter::Copy => AuditAction::Copy,
            ActionFilter::Publish => AuditAction::Publish,
            ActionFilter::Unpublish => AuditAction::Unpublish,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_numbers_with_units() {
        use std::time::Duration;
        for (text, d) in [
            ("500ms", Duration::from_millis(500)),
            ("90s", Duration::from_secs(90)),
            ("60m", Duration::from_secs(3600)),
            ("2h", Duration::from_secs(7200)),
            ("1h30m", Duration::from_secs(5400)),
            (" 10s ", Duration::from_secs(10)),
        ] {
            assert_eq!(parse_duration(text), Ok(d), "{text}");
        }
        for bad in [
            "",
            "10",
            "s",
            "1.5h",
            "-1s",
            "10 s",
            "1d",
            "0s",
            "169h",
            "9999999999s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
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
                provider: Some(imageshare::tencent::CVM),
                id: "100000000003".into()
            }
        );
        let policy = cli.global.trust_policy();
        let cvm: Vec<&str> = policy.allowed(imageshare::tencent::CVM).unwrap().collect();
        assert_eq!(cvm, ["100000000002", "100000000003"]);
        let uc: Vec<&str> = policy.allowed(imageshare::ucloud::UHOST).unwrap().collect();
        assert_eq!(uc, ["100000000002", "org-a1b2c3"]);
        assert!(imageshare::registry::providers().all(|s| policy.restricts(s.provider)));
        // No flag: no policy.
        let cli = Cli::try_parse_from(["imageshare", "shared-with-me"]).unwrap();
        assert!(cli.global.trust_policy().is_unrestricted());
        // The printed forms: account:ID / project:ID, alone or after a provider.
        for (raw, provider, id) in [
            ("account:100000000002", None, "100000000002"),
            (" project:org-a1b2c3 ", None, "org-a1b2c3"),
            (
                "tencent-cvm:account:100000000003",
                Some(imageshare::tencent::CVM),
                "100000000003",
            ),
            (
                "ucloud:project:org-a1b2c3",
                Some(imageshare::ucloud::UHOST),
                "org-a1b2c3",
            ),
        ] {
            let got = parse_trust_owner(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(
                got,
                TrustOwner {
                    provider,
                    id: id.into()
                },
                "{raw}"
            );
        }
        for (bad, says) in [
            ("", "names no owner"),
            ("account:", "names no owner"),
            ("tencent-cvm:account:", "names no owner"),
            ("account:a:b", "not allowed"),
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
    fn principals_accept_the_printed_forms() {
        let raw: Vec<String> = ["100000000002", "account:100000000003", " project:org-1 "]
            .map(String::from)
            .to_vec();
        assert_eq!(
            principals(imageshare::tencent::CVM, &raw),
            [
                Principal::account("100000000002"),
                Principal::account("100000000003"),
                Principal::project("org-1"),
            ]
        );
        assert_eq!(
            principals(imageshare::ucloud::UHOST, &raw[..1]),
            [Principal::project("100000000002")]
        );
        // The organisation kinds, as `sharees --resource-sharing` prints them.
        let raw: Vec<String> = [
            "directory:rd-Org1",
            " folder: fd-Prod",
            "member:100000000004",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            principals(imageshare::alibaba::ECS, &raw),
            [
                Principal::directory("rd-Org1"),
                Principal::folder("fd-Prod"),
                Principal::member("100000000004"),
            ]
        );
    }

    #[test]
    fn image_ids_are_checked_per_provider() {
        for (p, id) in [
            (imageshare::alibaba::ECS, "m-bp18ygjuqnwhechc"),
            (imageshare::alibaba::SAS, "m-sas000000001"),
            (imageshare::tencent::CVM, "img-6pb6lrmy"),
            (imageshare::tencent::LIGHTHOUSE, "lhbp-6jc6l8yb"),
            (imageshare::ucloud::UHOST, "uimage-golden01"),
        ] {
            assert!(image_id(p, id, true).is_ok(), "{p} {id}");
            for other in ["", "m-", "img-a b", "uimage-x&y=1", "m-bp1-x"] {
                assert!(image_id(p, other, true).is_err(), "{p} {other:?}");
            }
        }
        // `image` also shows public images, whose ECS ids have no m- prefix.
        let public = "ubuntu_22_04_x64_20G_alibase_20230907.vhd";
        assert!(image_id(imageshare::alibaba::ECS, public, false).is_ok());
        assert!(image_id(imageshare::alibaba::ECS, public, true).is_err());
        let long = format!("m-{}", "a".repeat(127));
        let f = image_id(imageshare::alibaba::ECS, &long, false)
            .err()
            .unwrap();
        assert_eq!(f.code, 2);
        assert!(f.message.contains("at most 128"), "{}", f.message);
    }
}
