//! Resource directories (Alibaba Resource Directory), as the world declares them: the
//! directory, its folders and its member accounts, which Alibaba Resource Sharing
//! targets (`rd-...`, `fd-...`, a member's account id).
//!
//! ```toml
//! [[resource_directory]]
//! id = "rd-3G6Z2a"                   # rd-<letters and digits>
//! management_account = "100000000001"
//!
//! [[resource_directory.folder]]
//! id = "fd-prod01"                   # fd-<letters and digits>
//! parent = "fd-root01"               # optional: a folder of the same directory (else the root)
//!
//! [[resource_directory.member]]
//! account = "100000000002"           # an [[account]]
//! folder = "fd-prod01"               # optional: the folder it sits in (else the root)
//! ```
//!
//! Read strictly like the rest of the world (unknown fields refused); [`validate`]
//! checks the id forms (the same rule as the client's `ECS_ORG_TARGETS`), that every
//! account is a known `[[account]]` and in one directory at most (the management account
//! is a member of its own directory, at its root), and that every folder reference exists
//! in its directory without cycles. Members can be added at run time
//! ([`crate::Engine::add_directory_member`]): accounts that join a folder later see what
//! was shared with it, without another call.

use std::collections::BTreeSet;

use imageshare_alibaba::ECS_ORG_TARGETS;
use imageshare_core::Principal;
use serde::{Deserialize, Serialize};

use super::WorldError;

/// A resource directory of the world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorySeed {
    /// `rd-...`.
    pub id: String,
    /// The management account (an `[[account]]`), which shares with the directory.
    pub management_account: String,
    /// Folders.
    #[serde(default, rename = "folder", skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<FolderSeed>,
    /// Member accounts.
    #[serde(default, rename = "member", skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberSeed>,
}

/// A folder of a resource directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderSeed {
    /// `fd-...`.
    pub id: String,
    /// The parent folder; the root when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// A member account of a resource directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberSeed {
    /// The member's account id (an `[[account]]`).
    pub account: String,
    /// The folder it sits in; the root when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
}

impl DirectorySeed {
    /// A directory with no folders or members.
    #[must_use]
    pub fn new(id: &str, management_account: &str) -> Self {
        Self {
            id: id.to_owned(),
            management_account: management_account.to_owned(),
            folders: Vec::new(),
            members: Vec::new(),
        }
    }
    /// Adds a folder under `parent` (the root when `None`).
    #[must_use]
    pub fn folder(mut self, id: &str, parent: Option<&str>) -> Self {
        self.folders.push(FolderSeed {
            id: id.to_owned(),
            parent: parent.map(str::to_owned),
        });
        self
    }
    /// Adds a member in `folder` (the root when `None`).
    #[must_use]
    pub fn member(mut self, account: &str, folder: Option<&str>) -> Self {
        self.members.push(MemberSeed {
            account: account.to_owned(),
            folder: folder.map(str::to_owned),
        });
        self
    }

    /// The folders from `folder` up to the root (`folder` first).
    fn ancestors<'a>(&'a self, folder: &'a str) -> Vec<&'a str> {
        let mut out = vec![folder];
        let mut at = folder;
        // Bounded by the folder count: the world refuses cycles.
        for _ in 0..self.folders.len() {
            match self
                .folders
                .iter()
                .find(|f| f.id == at)
                .and_then(|f| f.parent.as_deref())
            {
                Some(p) => {
                    out.push(p);
                    at = p;
                }
                None => break,
            }
        }
        out
    }

    /// Where `account` sits in this directory: `Some(None)` at the root (the management
    /// account, which is a member of its own directory, or a member without a folder),
    /// `Some(Some(folder))` in a folder, `None` when it is not in the directory.
    #[must_use]
    pub fn placement(&self, account: &str) -> Option<Option<&str>> {
        if let Some(m) = self.members.iter().find(|m| m.account == account) {
            return Some(m.folder.as_deref());
        }
        (self.management_account == account).then_some(None)
    }

    /// Whether `account` is in this directory (the management account or a member).
    #[must_use]
    pub fn contains(&self, account: &str) -> bool {
        self.placement(account).is_some()
    }

    /// Whether `account` is reached by the Resource Sharing target `target` of this
    /// directory: the directory id (every member), a folder id (the members in it or in
    /// its sub-folders, at the time of asking: a member added later is reached too), or
    /// the member's own account id.
    #[must_use]
    pub fn reaches(&self, target: &str, account: &str) -> bool {
        let Some(folder) = self.placement(account) else {
            return false;
        };
        target == self.id
            || target == account
            || folder.is_some_and(|f| self.ancestors(f).contains(&target))
    }

    /// Whether `target` names this directory, one of its folders or one of its accounts.
    #[must_use]
    pub fn knows(&self, target: &str) -> bool {
        target == self.id || self.folders.iter().any(|f| f.id == target) || self.contains(target)
    }
}

/// Checks the world's directories against its accounts (see the module docs).
pub fn validate(dirs: &[DirectorySeed], accounts: &BTreeSet<&str>) -> Result<(), WorldError> {
    let invalid = |m: String| Err(WorldError::Invalid(m));
    let provider = imageshare_alibaba::ECS;
    let mut ids = BTreeSet::new();
    let mut members = BTreeSet::new();
    for d in dirs {
        let what = format!("resource_directory {}", d.id);
        if let Err(e) = ECS_ORG_TARGETS.check_form(provider, &Principal::directory(d.id.as_str())) {
            return invalid(format!("{what}: {e}"));
        }
        if !ids.insert(d.id.as_str()) {
            return invalid(format!("{what} appears twice"));
        }
        if !accounts.contains(d.management_account.as_str()) {
            return invalid(format!(
                "{what}: management_account {} is not a known account",
                d.management_account
            ));
        }
        // The management account is a member of its own directory, of no other.
        if !members.insert(d.management_account.as_str()) {
            return invalid(format!(
                "{what}: management_account {} is already in a directory",
                d.management_account
            ));
        }
        for f in &d.folders {
            if let Err(e) = ECS_ORG_TARGETS.check_form(provider, &Principal::folder(f.id.as_str()))
            {
                return invalid(format!("{what}: folder {e}"));
            }
            if !ids.insert(f.id.as_str()) {
                return invalid(format!("{what}: folder {} appears twice", f.id));
            }
        }
        for f in &d.folders {
            if let Some(p) = &f.parent {
                if !d.folders.iter().any(|g| &g.id == p) {
                    return invalid(format!("{what}: folder {} has unknown parent {p}", f.id));
                }
            }
            let chain = d.ancestors(&f.id);
            if chain.len() > d.folders.len() || chain[1..].contains(&f.id.as_str()) {
                return invalid(format!("{what}: folder {} is its own ancestor", f.id));
            }
        }
        for m in &d.members {
            if !accounts.contains(m.account.as_str()) {
                return invalid(format!(
                    "{what}: member {} is not a known account",
                    m.account
                ));
            }
            if !members.insert(m.account.as_str()) {
                return invalid(format!(
                    "{what}: member {} is already a member of a directory",
                    m.account
                ));
            }
            if let Some(f) = &m.folder {
                if !d.folders.iter().any(|g| &g.id == f) {
                    return invalid(format!(
                        "{what}: member {} is in unknown folder {f}",
                        m.account
                    ));
                }
            }
        }
    }
    Ok(())
}
