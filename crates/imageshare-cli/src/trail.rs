//! The audit trail of the CLI: where it is kept, and opening it for the commands that
//! grant or revoke (`imageshare audit` prints it: `commands::audit`).
//!
//! Every command that can change who may use an image (`share`, `unshare`, `delete
//! --unshare-first`, `copy --to-project`, `migrate`, `apply --yes`, `publish`,
//! `unpublish`) opens the trail before it sends anything and records each grant, revoke,
//! cross-project copy and (un)publishing of a community image in it, one JSON line per
//! `(image, principal)` (`imageshare::core::audit`). The file is
//! `--audit-log PATH`, else `$XDG_STATE_HOME/imageshare/audit.jsonl`, else
//! `$HOME/.local/state/imageshare/audit.jsonl`; `--no-audit` records nothing. `demo` never
//! writes it: its grants are made in an embedded emulator's made-up world, not in a cloud.

use std::path::PathBuf;

use imageshare::core::AuditLog;

use crate::cli::Global;
use crate::exit::{usage, Failure};

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
    if g.no_audit || g.dry_run {
        // A dry run grants and revokes nothing: there is nothing to record.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
