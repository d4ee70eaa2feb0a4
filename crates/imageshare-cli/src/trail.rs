//! The audit trail of the CLI: where it is kept, opening it for the commands that grant
//! or revoke, and `imageshare audit`, which prints it.
//!
//! Every command that can change who may use an image (`share`, `unshare`, `delete
//! --unshare-first`, `copy --to-project`, `migrate`, `apply --yes`) opens the trail before
//! it sends anything and records each grant, revoke and cross-project copy in it, one JSON
//! line per `(image, principal)` (`imageshare::core::audit`). The file is
//! `--audit-log PATH`, else `$XDG_STATE_HOME/imageshare/audit.jsonl`, else
//! `$HOME/.local/state/imageshare/audit.jsonl`; `--no-audit` records nothing. `demo` never
//! writes it: its grants are made in an embedded emulator's made-up world, not in a cloud.

use std::io::Write;
use std::path::PathBuf;

use imageshare::core::audit::{AuditPrincipal, AuditRecord};
use imageshare::core::{AuditLog, Provider};
use serde_json::json;

use crate::cli::{ActionFilter, Global};
use crate::exit::{usage, Failure, FAILED};
use crate::output::{emit, table};

/// The file's path under a state directory.
const UNDER_STATE_DIR: &str = "imageshare/audit.jsonl";

/// The default trail: `$XDG_STATE_HOME/imageshare/audit.jsonl` (an absolute
/// `XDG_STATE_HOME` only, as the XDG base directory specification says), else
/// `$HOME/.local/state/imageshare/audit.jsonl`; `None` when neither is set.
pub fn default_path(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(state) = set("XDG_STATE_HOME").filter(|p| p.is_absolute()) {
        return Some(state.join(UNDER_STATE_DIR));
    }
    set("HOME").map(|home| home.join(".local/state").join(UNDER_STATE_DIR))
}

/// The trail of this command: `--audit-log`, else the default.
pub fn path(g: &Global) -> Result<PathBuf, Failure> {
    if let Some(p) = &g.audit_log {
        return Ok(p.clone());
    }
    default_path(|name| std::env::var(name).ok()).ok_or_else(|| {
        usage(
            "cannot tell where to keep the audit trail: neither XDG_STATE_HOME nor HOME is \
             set; choose a file with --audit-log PATH, or record nothing with --no-audit",
        )
    })
}

/// Opens the trail of a command that grants or revokes, before it sends anything; `None`
/// with `--no-audit`. A trail that cannot be opened fails the command (status 1, the
/// message names the path) with nothing sent.
pub fn open(g: &Global) -> Result<Option<AuditLog>, Failure> {
    if g.no_audit {
        return Ok(None);
    }
    let path = path(g)?;
    AuditLog::open(&path).map(Some).map_err(|e| {
        let mut f = Failure::from(e);
        f.message.push_str(
            "; choose another file with --audit-log PATH, or record nothing with --no-audit",
        );
        f
    })
}

/// Which records `imageshare audit` prints.
#[derive(Debug, Default)]
pub struct Filter {
    /// The provider (`--provider`).
    pub provider: Option<Provider>,
    /// The image id.
    pub image: Option<String>,
    /// The principal: its id, or `kind:id` (`account:100000000002`, `service:alibaba-ecs`).
    pub principal: Option<String>,
    /// The action.
    pub action: Option<ActionFilter>,
}

impl Filter {
    fn matches(&self, r: &AuditRecord) -> bool {
        self.provider.is_none_or(|p| p == r.provider)
            && self.image.as_deref().is_none_or(|i| i == r.image.as_str())
            && self
                .principal
                .as_deref()
                .is_none_or(|p| p == r.principal.id() || p == principal_text(&r.principal))
            && self.action.is_none_or(|a| a.action() == r.action)
    }
}

/// `account:ID`, `project:ID` or `service:PROVIDER`.
fn principal_text(p: &AuditPrincipal) -> String {
    let kind = match p {
        AuditPrincipal::Account(_) => "account",
        AuditPrincipal::Project(_) => "project",
        AuditPrincipal::Service(_) => "service",
    };
    format!("{kind}:{}", p.id())
}

/// The outcome column: `granted`, `failed (CODE)`, `copied -> NEW`.
fn outcome_text(r: &AuditRecord) -> String {
    let mut s = serde_json::to_value(r.outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    if let Some(code) = &r.error_code {
        s.push_str(&format!(" ({code})"));
    }
    if let Some(new) = &r.new_image {
        s.push_str(&format!(" -> {new}"));
    }
    s
}

/// `imageshare audit`: the records of the trail that `filter` selects, oldest first.
pub fn show(g: &Global, filter: &Filter, out: &mut dyn Write) -> Result<(), Failure> {
    if g.no_audit {
        return Err(usage(
            "--no-audit: there is no trail to read (give --audit-log PATH, or neither)",
        ));
    }
    let path = path(g)?;
    if !path.exists() {
        return Err(Failure::new(
            FAILED,
            format!(
                "no audit trail at {}: nothing has been recorded there (commands that grant \
                 or revoke write it unless --no-audit is given; --audit-log PATH reads \
                 another file)",
                path.display()
            ),
        ));
    }
    let records: Vec<AuditRecord> = AuditLog::read(&path)?
        .into_iter()
        .filter(|r| filter.matches(r))
        .collect();
    let rows = records
        .iter()
        .map(|r| {
            vec![
                r.time.clone(),
                r.provider.to_string(),
                r.region.to_string(),
                r.image.to_string(),
                r.action.to_string(),
                principal_text(&r.principal),
                outcome_text(r),
                r.request_id.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let text = table(
        &[
            "TIME",
            "PROVIDER",
            "REGION",
            "IMAGE",
            "ACTION",
            "PRINCIPAL",
            "OUTCOME",
            "REQUEST ID",
        ],
        rows,
    );
    emit(out, g.output, text, json!(records))
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageshare::core::audit::{AuditAction, AuditOutcome};

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_default_trail_follows_xdg_then_home() {
        assert_eq!(
            default_path(lookup(&[("XDG_STATE_HOME", "/s"), ("HOME", "/h")])),
            Some(PathBuf::from("/s/imageshare/audit.jsonl"))
        );
        // A relative or empty XDG_STATE_HOME is ignored, as the specification says.
        for xdg in ["relative/dir", ""] {
            assert_eq!(
                default_path(lookup(&[("XDG_STATE_HOME", xdg), ("HOME", "/h")])),
                Some(PathBuf::from("/h/.local/state/imageshare/audit.jsonl"))
            );
        }
        assert_eq!(default_path(lookup(&[])), None);
        assert_eq!(default_path(lookup(&[("HOME", "")])), None);
    }

    #[test]
    fn filters_match_ids_and_kinds() {
        let mut r = AuditRecord::now(
            Provider::TencentCvm,
            "ap-guangzhou".into(),
            "img-1".into(),
            AuditPrincipal::Account("100000000002".into()),
            AuditAction::Grant,
            AuditOutcome::Granted,
        );
        let all = Filter::default();
        assert!(all.matches(&r));
        for (f, want) in [
            (
                Filter {
                    principal: Some("100000000002".into()),
                    ..Filter::default()
                },
                true,
            ),
            (
                Filter {
                    principal: Some("account:100000000002".into()),
                    ..Filter::default()
                },
                true,
            ),
            (
                Filter {
                    principal: Some("project:100000000002".into()),
                    ..Filter::default()
                },
                false,
            ),
            (
                Filter {
                    image: Some("img-2".into()),
                    ..Filter::default()
                },
                false,
            ),
            (
                Filter {
                    provider: Some(Provider::TencentLighthouse),
                    ..Filter::default()
                },
                false,
            ),
            (
                Filter {
                    action: Some(ActionFilter::Revoke),
                    ..Filter::default()
                },
                false,
            ),
        ] {
            assert_eq!(f.matches(&r), want, "{f:?}");
        }
        r.error_code = Some("ServiceUnavailable".into());
        r.outcome = AuditOutcome::Failed;
        assert_eq!(outcome_text(&r), "failed (ServiceUnavailable)");
        r.principal = AuditPrincipal::Service(Provider::AlibabaEcs);
        assert_eq!(principal_text(&r.principal), "service:alibaba-ecs");
    }
}
