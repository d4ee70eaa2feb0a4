//! `imageshare audit`: the records of the audit trail (see [`crate::trail`]) that the
//! filters select, oldest first.

use std::fmt;

use imageshare::core::audit::{AuditPrincipal, AuditRecord};
use imageshare::core::{AuditLog, Provider};
use serde::Serialize;

use crate::cli::{ActionFilter, Global};
use crate::exit::{usage, Failure, FAILED};
use crate::output::Document;
use crate::table::table;
use crate::trail;

/// `imageshare audit [--image ID] [--principal P] [--action A]`; `--provider` selects one
/// provider.
pub fn run(
    g: &Global,
    image: Option<String>,
    principal: Option<String>,
    action: Option<ActionFilter>,
) -> Result<AuditRecords, Failure> {
    let filter = Filter {
        provider: g.provider_filter()?,
        image,
        principal,
        action,
    };
    show(g, &filter)
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

/// `account:ID`, `project:ID`, `service:PROVIDER`, or `everyone` (a community image).
fn principal_text(p: &AuditPrincipal) -> String {
    let kind = match p {
        AuditPrincipal::Account(_) => "account",
        AuditPrincipal::Project(_) => "project",
        AuditPrincipal::Service(_) => "service",
        AuditPrincipal::Everyone => return "everyone".to_owned(),
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
pub fn show(g: &Global, filter: &Filter) -> Result<AuditRecords, Failure> {
    if g.no_audit {
        return Err(usage(
            "--no-audit: there is no trail to read (give --audit-log PATH, or neither)",
        ));
    }
    let path = trail::path(g)?;
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
    let trail = AuditLog::read_trail(&path)?;
    for s in &trail.skipped {
        // The records around it are printed; the fragment is named, never echoed.
        eprintln!(
            "imageshare: warning: {} line {}: not an audit record ({} bytes; a record cut \
             short by a crash or a full disk?), skipped: {}",
            path.display(),
            s.line,
            s.bytes,
            s.reason
        );
    }
    let records: Vec<AuditRecord> = trail
        .records
        .into_iter()
        .filter(|r| filter.matches(r))
        .collect();
    Ok(AuditRecords(records))
}

/// The records printed. Text: a table (time, provider, region, image, action, principal,
/// outcome, request id). JSON: `{"records": [...]}`, the records as the trail holds them.
#[derive(Debug)]
pub struct AuditRecords(Vec<AuditRecord>);

impl Serialize for AuditRecords {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::output::keyed(s, "records", &self.0)
    }
}

impl fmt::Display for AuditRecords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = self
            .0
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
        let header = [
            "TIME",
            "PROVIDER",
            "REGION",
            "IMAGE",
            "ACTION",
            "PRINCIPAL",
            "OUTCOME",
            "REQUEST ID",
        ];
        f.write_str(&table(&header, rows))
    }
}

impl Document for AuditRecords {}

#[cfg(test)]
mod tests {
    use super::*;
    use imageshare::core::audit::{AuditAction, AuditOutcome};

    #[test]
    fn filters_match_ids_and_kinds() {
        let mut r = AuditRecord::now(
            imageshare::tencent::CVM,
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
                    provider: Some(imageshare::tencent::LIGHTHOUSE),
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
        r.principal = AuditPrincipal::Service(imageshare::alibaba::ECS);
        assert_eq!(principal_text(&r.principal), "service:alibaba-ecs");
    }
}
