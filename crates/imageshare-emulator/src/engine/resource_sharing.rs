//! Alibaba Cloud **Resource Sharing** (API 2020-01-10) in the engine: resource shares of
//! ECS images, their target associations (the caller's resource directory, its folders
//! and accounts, or, with `AllowExternalTargets`, outside accounts that accept an
//! invitation), and what a caller receives through them.
//!
//! Rules enforced, with the code the front-end answers (API reference pages
//! `CreateResourceShare`, `AssociateResourceShare`, `DisassociateResourceShare`,
//! `AcceptResourceShareInvitation` of ResourceSharing 2020-01-10 and their error tables,
//! <https://api.alibabacloud.com/document/ResourceSharing/2020-01-10/errorCode>):
//! - at most 5 targets and 5 resources per call (`InvalidParameter.Targets.Length`,
//!   `InvalidParameter.Resources.Length`: "The maximum number of Targets exceeds 5"), no
//!   value twice (`InvalidParameter.Targets.Duplicate`, `...Resources.Duplicate`);
//! - a target is the caller's resource directory (`rd-...`), one of its folders
//!   (`fd-...`) or one of its accounts; an account outside the directory is refused
//!   (`AccountNotInResourceDirectory`) unless the share allows external targets, when it
//!   gets an invitation and its association stays `Associating` until it accepts; any
//!   other target is refused (`InvalidTarget`), the caller itself too
//!   (`ShareWithYourself`), and an external account of the other site
//!   (`InvalidTarget.SiteMismatch`);
//! - a resource is an ECS image (`ResourceType=Image`, the permission library's
//!   "Elastic Compute Service (ECS) | Image") the caller owns and ECS would share (the
//!   same rules as `ModifyImageSharePermission`: not marketplace-derived, no service-key
//!   encryption, the role for a CMK image, available); the emulator models no other
//!   resource type (`InvalidParameter.ResourceType`);
//! - disassociating what is not associated is refused (`DisassociateInvalid`); an
//!   invitation is accepted once, by its receiver (`EntityNotExists.ResourceShareInvitation`,
//!   `InvitationStatus.AlreadyAccepted`, ...).
//!
//! Visibility: an image of a share is received by every account an `Associated` target
//! reaches *when the caller asks* ([`DirectorySeed::reaches`]): a member added to a
//! folder later sees what was shared with the folder without another call (the ECS guide
//! "Share a custom image", scenario 2). Simplifications: associations settle at once (no
//! asynchronous `Associating` for directory targets); shares are not regional (the
//! requests carry no region; the real service shares resources of the endpoint's region).

use std::collections::BTreeMap;

use imageshare_alibaba::ECS_ORG_TARGETS;
use imageshare_core::{time, Principal, Site};

use super::{grant_rules, Engine, EngineError, ImageRecord};
use crate::world::directory::DirectorySeed;

/// The ECS surface, whose images Resource Sharing carries.
const ECS: imageshare_core::Provider = imageshare_alibaba::ECS;

/// The one resource type the emulator shares.
pub const IMAGE_TYPE: &str = "Image";

/// The status of an association.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssociationStatus {
    /// Waiting (an external target's invitation is pending).
    Associating,
    /// In force.
    Associated,
    /// Removed (kept listed, as the service keeps such records for 48 to 96 hours).
    Disassociated,
}

impl AssociationStatus {
    /// The wire value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Associating => "Associating",
            Self::Associated => "Associated",
            Self::Disassociated => "Disassociated",
        }
    }
    fn live(self) -> bool {
        self != Self::Disassociated
    }
}

/// One association of a share: a resource or a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Association {
    /// Image id, or target id (`rd-...`, `fd-...`, an account id).
    pub entity_id: String,
    /// `Image`, or for a target `ResourceDirectory`, `Folder` or `Account`.
    pub entity_type: &'static str,
    /// Status.
    pub status: AssociationStatus,
    /// Whether the target is outside the owner's resource directory.
    pub external: bool,
    /// Unix seconds of the association.
    pub created_unix: u64,
    /// Unix seconds of its last change.
    pub updated_unix: u64,
}

/// Whether an association is of a resource or of a target (`AssociationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssociationType {
    /// A shared resource.
    Resource,
    /// A principal.
    Target,
}

impl AssociationType {
    /// The wire value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resource => "Resource",
            Self::Target => "Target",
        }
    }
}

/// A resource share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceShare {
    /// `rs-...`.
    pub id: String,
    /// Name (1 to 50 letters, digits, `.`, `_`, `-`).
    pub name: String,
    /// The owner account.
    pub owner: String,
    /// Whether accounts outside the directory may be targets.
    pub allow_external_targets: bool,
    /// Unix seconds of creation.
    pub created_unix: u64,
    /// Unix seconds of the last change.
    pub updated_unix: u64,
    /// Resources.
    pub resources: Vec<Association>,
    /// Targets.
    pub targets: Vec<Association>,
}

impl ResourceShare {
    /// `Pending` while an invitation waits, else `Active` (the service's
    /// `ResourceShareStatus`).
    #[must_use]
    pub fn status(&self) -> &'static str {
        if self
            .targets
            .iter()
            .any(|t| t.status == AssociationStatus::Associating)
        {
            "Pending"
        } else {
            "Active"
        }
    }
    /// The associations of one type.
    #[must_use]
    pub fn associations(&self, kind: AssociationType) -> &[Association] {
        match kind {
            AssociationType::Resource => &self.resources,
            AssociationType::Target => &self.targets,
        }
    }
    fn associations_mut(&mut self, kind: AssociationType) -> &mut Vec<Association> {
        match kind {
            AssociationType::Resource => &mut self.resources,
            AssociationType::Target => &mut self.targets,
        }
    }
}

/// The status of an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Waiting for the receiver.
    Pending,
    /// Accepted.
    Accepted,
    /// Rejected.
    Rejected,
    /// Withdrawn by the owner (the target was disassociated).
    Cancelled,
}

impl InvitationStatus {
    /// The wire value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Accepted => "Accepted",
            Self::Rejected => "Rejected",
            Self::Cancelled => "Cancelled",
        }
    }
}

/// An invitation of an account outside the owner's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// `i-...`.
    pub id: String,
    /// The share.
    pub share_id: String,
    /// The share's name.
    pub share_name: String,
    /// The share's owner.
    pub sender: String,
    /// The invited account.
    pub receiver: String,
    /// Status.
    pub status: InvitationStatus,
    /// Unix seconds of creation.
    pub created_unix: u64,
}

/// A resource named in a request: `Resources.N.ResourceType` and `.ResourceId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    /// Type (`Image`).
    pub resource_type: String,
    /// Id.
    pub id: String,
}

/// The list a per-call rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `Targets.N`.
    Targets,
    /// `Resources.N`.
    Resources,
}

impl Field {
    /// The parameter name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Targets => "Targets",
            Self::Resources => "Resources",
        }
    }
}

/// Why a Resource Sharing request was refused (the front-end words each in the
/// service's code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    /// The share does not exist or is not the caller's.
    #[error("resource share {0} does not exist in the current account")]
    ShareNotFound(String),
    /// More entries than one call may carry.
    #[error("{count} {} in one call; at most {max}", .field.as_str())]
    TooMany {
        /// Which list.
        field: Field,
        /// How many were sent.
        count: usize,
        /// The maximum.
        max: usize,
    },
    /// A value appears twice in one list.
    #[error("{} contains {value} twice", .field.as_str())]
    Duplicate {
        /// Which list.
        field: Field,
        /// The value.
        value: String,
    },
    /// A target that is not a resource directory, folder or account id.
    #[error("target {value:?}: {why}")]
    MalformedTarget {
        /// The value.
        value: String,
        /// Why.
        why: String,
    },
    /// A target that is not in the caller's resource directory (and not an outside
    /// account the share may invite).
    #[error("target {0} does not exist in the resource directory")]
    InvalidTarget(String),
    /// An account outside the directory, and the share does not allow external targets.
    #[error("account {0} is not a member of the resource directory")]
    NotInDirectory(String),
    /// An outside account of the other site.
    #[error("account {0} is registered at another site")]
    SiteMismatch(String),
    /// The caller named itself.
    #[error("cannot share resources with yourself")]
    ShareWithYourself,
    /// An association call with neither resources nor targets.
    #[error("either a resource or a target must be specified")]
    BothEmpty,
    /// A resource type the emulator does not share.
    #[error("resource type {0:?} is not supported (the emulator shares ECS images, `Image`)")]
    ResourceType(String),
    /// An image that cannot be shared (the ECS rule that refuses it).
    #[error("resource {id} cannot be shared: {refusal}")]
    Resource {
        /// The image id.
        id: String,
        /// The ECS refusal.
        refusal: EngineError,
    },
    /// A disassociation of something not associated.
    #[error("{0} is not associated with the resource share")]
    DisassociateInvalid(String),
    /// No such invitation for the caller.
    #[error("resource share invitation {0} does not exist in the current account")]
    InvitationNotFound(String),
    /// The invitation is no longer pending.
    #[error("resource share invitation {id} is {}", .status.as_str())]
    InvitationNotPending {
        /// The invitation.
        id: String,
        /// Its status.
        status: InvitationStatus,
    },
}

/// The Resource Sharing state of the engine.
#[derive(Debug, Default)]
pub struct ResourceShares {
    shares: BTreeMap<String, ResourceShare>,
    invitations: BTreeMap<String, Invitation>,
    serial: u64,
}

impl ResourceShares {
    fn next_id(&mut self, prefix: &str) -> String {
        self.serial += 1;
        format!("{prefix}emu{:08x}", self.serial)
    }
}

/// A target checked and placed: internal (in the owner's directory) or external.
struct PlacedTarget {
    id: String,
    entity_type: &'static str,
    external: bool,
}

/// Checks the per-call rules of one list: at most `max` entries, none twice.
fn check_list<'a>(
    field: Field,
    items: impl ExactSizeIterator<Item = &'a str>,
    max: usize,
) -> Result<(), ShareError> {
    let count = items.len();
    if count > max {
        return Err(ShareError::TooMany { field, count, max });
    }
    let mut seen: Vec<&str> = Vec::with_capacity(count);
    for v in items {
        if seen.contains(&v) {
            return Err(ShareError::Duplicate {
                field,
                value: v.to_owned(),
            });
        }
        seen.push(v);
    }
    Ok(())
}

/// The per-call rules of one association call's two lists.
fn check_lists(resources: &[ResourceRef], targets: &[String]) -> Result<(), ShareError> {
    check_list(
        Field::Resources,
        resources.iter().map(|r| r.id.as_str()),
        ECS_ORG_TARGETS.max_resources_per_call,
    )?;
    check_list(
        Field::Targets,
        targets.iter().map(String::as_str),
        ECS_ORG_TARGETS.max_targets_per_call,
    )
}

/// The principal a target id names: `rd-...` a directory, `fd-...` a folder, else an
/// account (the id forms of the client's `ECS_ORG_TARGETS`).
fn target_principal(id: &str) -> Principal {
    if id.starts_with(ECS_ORG_TARGETS.directory_prefix) {
        Principal::directory(id)
    } else if id.starts_with(ECS_ORG_TARGETS.folder_prefix) {
        Principal::folder(id)
    } else {
        Principal::member(id)
    }
}

impl Engine {
    /// The resource directory `account` is in (as management account or member).
    #[must_use]
    pub fn directory_of(&self, account: &str) -> Option<&DirectorySeed> {
        self.world
            .resource_directories
            .iter()
            .find(|d| d.contains(account))
    }

    /// Adds `account` (a known account in no directory) to `directory`, in `folder` (the
    /// root when `None`): from now on it receives what was shared with the directory, the
    /// folder or the folder's ancestors.
    pub fn add_directory_member(
        &mut self,
        directory: &str,
        account: &str,
        folder: Option<&str>,
    ) -> Result<(), String> {
        if self.world.account(account).is_none() {
            return Err(format!("{account} is not a known account"));
        }
        if let Some(d) = self.directory_of(account) {
            return Err(format!(
                "{account} is already in resource directory {}",
                d.id
            ));
        }
        let d = self
            .world
            .resource_directories
            .iter_mut()
            .find(|d| d.id == directory)
            .ok_or_else(|| format!("no resource directory {directory}"))?;
        if let Some(f) = folder {
            if !d.folders.iter().any(|g| g.id == f) {
                return Err(format!("resource directory {directory} has no folder {f}"));
            }
        }
        d.members.push(crate::world::MemberSeed {
            account: account.to_owned(),
            folder: folder.map(str::to_owned),
        });
        Ok(())
    }

    /// Every resource share (inspection).
    pub fn resource_shares(&self) -> impl Iterator<Item = &ResourceShare> {
        self.resource_shares.shares.values()
    }

    /// Every invitation (inspection).
    pub fn resource_share_invitations(&self) -> impl Iterator<Item = &Invitation> {
        self.resource_shares.invitations.values()
    }

    /// Whether `caller` receives `img` through a resource share (see the module docs).
    pub(super) fn received_through_resource_share(&self, caller: &str, img: &ImageRecord) -> bool {
        if img.provider != ECS || self.resource_shares.shares.is_empty() {
            return false;
        }
        self.resource_shares.shares.values().any(|s| {
            s.resources
                .iter()
                .any(|r| r.status == AssociationStatus::Associated && r.entity_id == img.id)
                && self.share_reaches(s, caller)
        })
    }

    /// Whether an `Associated` target of `share` reaches `account`.
    fn share_reaches(&self, share: &ResourceShare, account: &str) -> bool {
        let dir = self.directory_of(&share.owner);
        share
            .targets
            .iter()
            .filter(|t| t.status == AssociationStatus::Associated)
            .any(|t| {
                if t.external {
                    t.entity_id == account
                } else {
                    dir.is_some_and(|d| d.reaches(&t.entity_id, account))
                }
            })
    }

    /// Checks a target of a share of `caller` (see the module docs for the rules).
    fn place_target(
        &self,
        caller: &str,
        allow_external: bool,
        target: &str,
    ) -> Result<PlacedTarget, ShareError> {
        if target == caller {
            return Err(ShareError::ShareWithYourself);
        }
        let principal = target_principal(target);
        ECS_ORG_TARGETS
            .check_form(ECS, &principal)
            .map_err(|e| ShareError::MalformedTarget {
                value: target.to_owned(),
                why: e.explanation,
            })?;
        let entity_type = match principal.kind() {
            imageshare_core::PrincipalKind::Directory => "ResourceDirectory",
            imageshare_core::PrincipalKind::Folder => "Folder",
            _ => "Account",
        };
        let placed = |external| PlacedTarget {
            id: target.to_owned(),
            entity_type,
            external,
        };
        if self.directory_of(caller).is_some_and(|d| d.knows(target)) {
            return Ok(placed(false));
        }
        if entity_type != "Account" {
            return Err(ShareError::InvalidTarget(target.to_owned()));
        }
        if !allow_external {
            return Err(ShareError::NotInDirectory(target.to_owned()));
        }
        let caller_site = self.world.account(caller).map(|a| a.site);
        let site = match self.world.account(target) {
            Some(a) => a.site,
            None if self.world.accept_any_account => caller_site.unwrap_or(Site::China),
            None => return Err(ShareError::InvalidTarget(target.to_owned())),
        };
        if caller_site.is_some_and(|s| s != site) {
            return Err(ShareError::SiteMismatch(target.to_owned()));
        }
        Ok(placed(true))
    }

    /// Checks a resource of a share of `caller`: an ECS image it owns that ECS would share.
    fn check_resource(&mut self, caller: &str, r: &ResourceRef) -> Result<(), ShareError> {
        if r.resource_type != IMAGE_TYPE {
            return Err(ShareError::ResourceType(r.resource_type.clone()));
        }
        let refused = |refusal| ShareError::Resource {
            id: r.id.clone(),
            refusal,
        };
        let region = self
            .images
            .get(&r.id)
            .filter(|i| i.provider == ECS)
            .map(|i| i.region.clone())
            .ok_or_else(|| refused(EngineError::ImageNotFound(r.id.clone())))?;
        let view = self.owned(ECS, caller, &region, &r.id).map_err(refused)?;
        grant_rules(ECS)
            .check_state(&r.id, view.image.state)
            .map_err(refused)?;
        self.check_image_rules(ECS, &view.image).map_err(refused)
    }

    /// Checks one association call's lists and places its targets; nothing changes.
    fn check_call(
        &mut self,
        caller: &str,
        allow_external: bool,
        resources: &[ResourceRef],
        targets: &[String],
    ) -> Result<Vec<PlacedTarget>, ShareError> {
        check_lists(resources, targets)?;
        for r in resources {
            self.check_resource(caller, r)?;
        }
        targets
            .iter()
            .map(|t| self.place_target(caller, allow_external, t))
            .collect()
    }

    /// `CreateResourceShare`: a new share of `caller` with `resources` and `targets`.
    pub fn create_resource_share(
        &mut self,
        caller: &str,
        name: &str,
        allow_external_targets: bool,
        resources: &[ResourceRef],
        targets: &[String],
    ) -> Result<ResourceShare, ShareError> {
        let placed = self.check_call(caller, allow_external_targets, resources, targets)?;
        let now = time::now_unix();
        let id = self.resource_shares.next_id("rs-");
        self.resource_shares.shares.insert(
            id.clone(),
            ResourceShare {
                id: id.clone(),
                name: name.to_owned(),
                owner: caller.to_owned(),
                allow_external_targets,
                created_unix: now,
                updated_unix: now,
                resources: Vec::new(),
                targets: Vec::new(),
            },
        );
        self.apply_associations(&id, resources, placed, now);
        Ok(self.resource_shares.shares[&id].clone())
    }

    /// `AssociateResourceShare`: adds `resources` and `targets` to a share of `caller`
    /// (an entity already associated stays as it is). Returns the associations touched.
    pub fn associate_resource_share(
        &mut self,
        caller: &str,
        share_id: &str,
        resources: &[ResourceRef],
        targets: &[String],
    ) -> Result<(ResourceShare, Vec<(AssociationType, Association)>), ShareError> {
        if resources.is_empty() && targets.is_empty() {
            return Err(ShareError::BothEmpty);
        }
        let allow_external = self.own_share(caller, share_id)?.allow_external_targets;
        let placed = self.check_call(caller, allow_external, resources, targets)?;
        let touched = self.apply_associations(share_id, resources, placed, time::now_unix());
        Ok((self.resource_shares.shares[share_id].clone(), touched))
    }

    /// `DisassociateResourceShare`: removes `resources` and `targets` (each must be
    /// associated or associating) from a share of `caller`; a pending invitation of a
    /// removed target is cancelled. Returns the associations touched.
    pub fn disassociate_resource_share(
        &mut self,
        caller: &str,
        share_id: &str,
        resources: &[ResourceRef],
        targets: &[String],
    ) -> Result<(ResourceShare, Vec<(AssociationType, Association)>), ShareError> {
        if resources.is_empty() && targets.is_empty() {
            return Err(ShareError::BothEmpty);
        }
        check_lists(resources, targets)?;
        let share = self.own_share(caller, share_id)?;
        let wanted: Vec<(AssociationType, &str)> = resources
            .iter()
            .map(|r| (AssociationType::Resource, r.id.as_str()))
            .chain(
                targets
                    .iter()
                    .map(|t| (AssociationType::Target, t.as_str())),
            )
            .collect();
        for (kind, id) in &wanted {
            let live = share
                .associations(*kind)
                .iter()
                .any(|a| a.entity_id == *id && a.status.live());
            if !live {
                return Err(ShareError::DisassociateInvalid((*id).to_owned()));
            }
        }
        let now = time::now_unix();
        let state = &mut self.resource_shares;
        let share = state.shares.get_mut(share_id).expect("checked above");
        let mut touched = Vec::new();
        for (kind, id) in wanted {
            if let Some(a) = share
                .associations_mut(kind)
                .iter_mut()
                .find(|a| a.entity_id == id)
            {
                a.status = AssociationStatus::Disassociated;
                a.updated_unix = now;
                touched.push((kind, a.clone()));
            }
            if kind == AssociationType::Target {
                for inv in state.invitations.values_mut().filter(|i| {
                    i.share_id == share_id
                        && i.receiver == id
                        && i.status == InvitationStatus::Pending
                }) {
                    inv.status = InvitationStatus::Cancelled;
                }
            }
        }
        share.updated_unix = now;
        Ok((share.clone(), touched))
    }

    /// The shares `caller` owns (`ResourceOwner=Self`) or receives through an associated
    /// target (`OtherAccounts`), by id.
    #[must_use]
    pub fn list_resource_shares(&self, caller: &str, own: bool) -> Vec<&ResourceShare> {
        self.resource_shares
            .shares
            .values()
            .filter(|s| {
                if own {
                    s.owner == caller
                } else {
                    s.owner != caller && self.share_reaches(s, caller)
                }
            })
            .collect()
    }

    /// The invitations `caller` received, by id.
    #[must_use]
    pub fn list_invitations(&self, caller: &str) -> Vec<&Invitation> {
        self.resource_shares
            .invitations
            .values()
            .filter(|i| i.receiver == caller)
            .collect()
    }

    /// `AcceptResourceShareInvitation` (`accept`) or `RejectResourceShareInvitation`: the
    /// receiver answers a pending invitation; accepting brings its target association to
    /// `Associated`, rejecting removes it.
    pub fn answer_invitation(
        &mut self,
        caller: &str,
        invitation_id: &str,
        accept: bool,
    ) -> Result<Invitation, ShareError> {
        let state = &mut self.resource_shares;
        let inv = state
            .invitations
            .get_mut(invitation_id)
            .filter(|i| i.receiver == caller)
            .ok_or_else(|| ShareError::InvitationNotFound(invitation_id.to_owned()))?;
        if inv.status != InvitationStatus::Pending {
            return Err(ShareError::InvitationNotPending {
                id: inv.id.clone(),
                status: inv.status,
            });
        }
        inv.status = if accept {
            InvitationStatus::Accepted
        } else {
            InvitationStatus::Rejected
        };
        let inv = inv.clone();
        let now = time::now_unix();
        if let Some(share) = state.shares.get_mut(&inv.share_id) {
            for t in share.targets.iter_mut().filter(|t| {
                t.entity_id == caller && t.external && t.status == AssociationStatus::Associating
            }) {
                t.status = if accept {
                    AssociationStatus::Associated
                } else {
                    AssociationStatus::Disassociated
                };
                t.updated_unix = now;
            }
        }
        Ok(inv)
    }

    /// A share of `caller`, or [`ShareError::ShareNotFound`].
    fn own_share(&self, caller: &str, share_id: &str) -> Result<&ResourceShare, ShareError> {
        self.resource_shares
            .shares
            .get(share_id)
            .filter(|s| s.owner == caller)
            .ok_or_else(|| ShareError::ShareNotFound(share_id.to_owned()))
    }

    /// Records checked associations on share `share_id`: new or re-made ones become
    /// `Associated` (an external target `Associating`, with a new invitation); live ones
    /// stay as they are.
    fn apply_associations(
        &mut self,
        share_id: &str,
        resources: &[ResourceRef],
        targets: Vec<PlacedTarget>,
        now: u64,
    ) -> Vec<(AssociationType, Association)> {
        let state = &mut self.resource_shares;
        let mut invite: Vec<String> = Vec::new();
        let share = state
            .shares
            .get_mut(share_id)
            .expect("a share of the caller");
        let entries = resources
            .iter()
            .map(|r| (AssociationType::Resource, r.id.clone(), IMAGE_TYPE, false))
            .chain(
                targets
                    .into_iter()
                    .map(|t| (AssociationType::Target, t.id, t.entity_type, t.external)),
            );
        let mut touched = Vec::new();
        for (kind, id, entity_type, external) in entries {
            let status = if external {
                AssociationStatus::Associating
            } else {
                AssociationStatus::Associated
            };
            let list = share.associations_mut(kind);
            let a = match list.iter_mut().find(|a| a.entity_id == id) {
                Some(a) if a.status.live() => a,
                Some(a) => {
                    *a = Association {
                        status,
                        external,
                        updated_unix: now,
                        ..a.clone()
                    };
                    if external {
                        invite.push(id.clone());
                    }
                    a
                }
                None => {
                    list.push(Association {
                        entity_id: id.clone(),
                        entity_type,
                        status,
                        external,
                        created_unix: now,
                        updated_unix: now,
                    });
                    if external {
                        invite.push(id.clone());
                    }
                    list.last_mut().expect("just pushed")
                }
            };
            touched.push((kind, a.clone()));
        }
        share.updated_unix = now;
        let (name, owner) = (share.name.clone(), share.owner.clone());
        for receiver in invite {
            let id = state.next_id("i-");
            state.invitations.insert(
                id.clone(),
                Invitation {
                    id,
                    share_id: share_id.to_owned(),
                    share_name: name.clone(),
                    sender: owner.clone(),
                    receiver,
                    status: InvitationStatus::Pending,
                    created_unix: now,
                },
            );
        }
        touched
    }
}
