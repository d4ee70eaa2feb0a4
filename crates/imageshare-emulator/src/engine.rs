//! The world engine: provider-agnostic state (accounts, projects, images, grants) and the
//! operations every front-end translates to. Every sharing rule is enforced here, once,
//! from the same [`ShareLimits`] tables the client-side checker uses; front-ends only map
//! [`EngineError`]s to their cloud's exact error codes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use imageshare_core::{
    limits::EncryptedPolicy, time, ImageKind, LimitRule, Principal, PrincipalKind, Provider,
    ProviderSpec, ShareLimits, Site,
};

use serde::Deserialize;

use crate::world::{Account, Encrypted, ImageSeed, Origin, State, World};

pub mod community;
pub mod cross_product;
pub mod grant_rules;
pub mod metadata;
pub mod resource_sharing;
pub mod sts;

pub use cross_product::{blueprint_for_cvm, sas_to_ecs_key, Ineligible};
pub use grant_rules::{grant_rules, GrantRefusal, GrantRules};
pub use metadata::MetadataRefusal;
pub use sts::{AssumeRole, OidcClaims, Session, SessionRefusal, StsError};

/// The role Alibaba ECS needs to share encrypted images.
pub const ECS_ENCRYPTED_SHARE_ROLE: &str = "AliyunECSShareEncryptImageDefaultRole";

/// Every provider the emulator serves, as the provider crates declare them.
pub fn served() -> impl Iterator<Item = &'static ProviderSpec> {
    [
        imageshare_alibaba::PROVIDERS,
        imageshare_tencent::PROVIDERS,
        imageshare_ucloud::PROVIDERS,
    ]
    .into_iter()
    .flatten()
}

/// A served provider, from a name in a world or fault file: refuses (with the names the
/// emulator serves) a provider it has no front-end for. For `#[serde(deserialize_with)]`.
pub fn deserialize_served<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Provider, D::Error> {
    let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
    served()
        .find(|s| s.provider.name() == name)
        .map(|s| s.provider)
        .ok_or_else(|| {
            let known: Vec<&str> = served().map(|s| s.provider.name()).collect();
            serde::de::Error::custom(format!(
                "unknown provider {name:?}; the emulator serves {}",
                known.join(", ")
            ))
        })
}

/// [`deserialize_served`] for an optional provider.
pub fn deserialize_served_opt<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Provider>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Served(#[serde(deserialize_with = "deserialize_served")] Provider);
    Ok(Option::<Served>::deserialize(d)?.map(|s| s.0))
}

/// Whether `provider` shares with projects (its images are owned by projects).
#[must_use]
pub fn shares_to_projects(provider: Provider) -> bool {
    limits_for(provider).principal_kind == PrincipalKind::Project
}

/// The documented limits of a provider (the provider crates' tables).
///
/// # Panics
/// When the emulator does not serve `provider` (its front-ends only produce the ones it
/// serves).
#[must_use]
pub fn limits_for(provider: Provider) -> &'static ShareLimits {
    served()
        .find(|s| s.provider == provider)
        .map(|s| s.limits)
        .unwrap_or_else(|| panic!("the emulator does not serve {provider}"))
}

/// Whether `provider` refuses to delete an image that is still being created or copied.
/// Tencent documents it: DeleteImages "images that are creating, syncing or importing
/// cannot be deleted" (tencent.md §1.5), DeleteBlueprints needs a settled state (§2.6).
/// Alibaba and UCloud document no such rule; the emulator lets them delete.
#[must_use]
pub fn delete_waits_for_creation(provider: Provider) -> bool {
    matches!(
        provider,
        imageshare_tencent::CVM | imageshare_tencent::LIGHTHOUSE
    )
}

/// The principal-form rule of [`Engine::share`]: `principal` must be what `provider`
/// shares with (a main-account id of the right length, a project id). Front-ends that
/// check a request's accounts before its image (a cloud answers that first) call this.
pub fn check_principal_form(provider: Provider, principal: &str) -> Result<(), EngineError> {
    let limits = limits_for(provider);
    // A provider's own table names accounts or projects; organisation kinds belong to
    // Resource Sharing (`resource_sharing`), never to a share list.
    let principal = match limits.principal_kind {
        PrincipalKind::Project => Principal::project(principal),
        _ => Principal::account(principal),
    };
    limits
        .check_principal_form(&principal)
        .map_err(|e| EngineError::Rule {
            rule: LimitRule::PrincipalForm,
            message: e.explanation,
        })
}

/// Why the engine refused an operation. Front-ends map these to their cloud's codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A documented sharing rule (the same rules as the client-side limit checker).
    #[error("rule {rule}: {message}")]
    Rule {
        /// The rule.
        rule: LimitRule,
        /// Details (offending value).
        message: String,
    },
    /// The image is not visible to the caller in this region.
    #[error("image {0} not found")]
    ImageNotFound(String),
    /// A principal does not exist.
    #[error("principal {0} does not exist")]
    PrincipalNotFound(String),
    /// The caller lacks a service role the operation needs.
    #[error("role {0} is missing")]
    MissingRole(String),
    /// The caller may see the image but not change it (not the owner).
    #[error("image {0} is not owned by the caller")]
    NotOwner(String),
    /// A parameter is invalid.
    #[error("invalid parameter {name}: {message}")]
    InvalidParameter {
        /// Parameter name.
        name: String,
        /// Why.
        message: String,
    },
    /// The image is in a state that forbids the operation (e.g. still being created).
    #[error("image {id} is {state}")]
    InvalidState {
        /// Image.
        id: String,
        /// Its state.
        state: String,
    },
    /// A grant change the cloud refuses beyond its limit table ([`GrantRules`]).
    #[error(transparent)]
    Grant(GrantRefusal),
}

/// How the caller relates to an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The caller owns it.
    Owner,
    /// It was shared with the caller.
    Received,
    /// It is a public image.
    Public,
    /// It is another account's community image (Alibaba ECS, [`community`]).
    Community,
}

/// A live image record.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRecord {
    /// Surface.
    pub provider: Provider,
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Owner account id (UCloud: project id).
    pub owner: String,
    /// Region.
    pub region: String,
    /// Origin.
    pub origin: Origin,
    /// Encryption.
    pub encrypted: Encrypted,
    /// Kind.
    pub kind: ImageKind,
    /// State.
    pub state: State,
    /// Unix seconds of creation.
    pub created_unix: u64,
    /// Size in GiB (what the listings report; copy times may depend on it).
    pub size_gib: u64,
    /// How far its creation or copy has come, 0 to 100 (100 once available).
    pub progress: u8,
    /// For copies still being made: when they end, and how.
    clock: Option<CopyClock>,
    /// For the source of a CVM or Lighthouse sync, when the world holds sources busy
    /// ([`World::copy_source_busy`](crate::world::World)): until when its copies are being
    /// made.
    syncing_until: Option<Instant>,
    /// Image this one was copied from, if any.
    pub copied_from: Option<String>,
}

/// The timing of a copy being made: it started at `started`, is available `ready_after`
/// later, unless it fails `fail_after` after it started (when that is sooner).
#[derive(Debug, Clone, Copy, PartialEq)]
struct CopyClock {
    started: Instant,
    ready_after: Duration,
    fail_after: Option<Duration>,
}

impl CopyClock {
    /// When the copy ends, available or failed.
    fn end(&self) -> Instant {
        let span = self
            .fail_after
            .map_or(self.ready_after, |f| f.min(self.ready_after));
        self.started + span
    }

    /// The state and progress of the copy at `now`.
    fn at(&self, now: Instant) -> (State, u8) {
        let elapsed = now.saturating_duration_since(self.started);
        let percent = |d: Duration| -> u8 {
            if self.ready_after.is_zero() {
                return 0;
            }
            // Below 100 while not available.
            (d.as_millis() * 100 / self.ready_after.as_millis()).min(99) as u8
        };
        match self.fail_after {
            Some(f) if f <= self.ready_after && elapsed >= f => (State::Failed, percent(f)),
            _ if elapsed >= self.ready_after => (State::Available, 100),
            _ => (State::Creating, percent(elapsed)),
        }
    }
}

impl ImageRecord {
    /// Whether this image is the source of a sync still under way (see
    /// [`Engine::hold_source`]): CVM and Lighthouse then show it `SYNCING` and refuse
    /// another sync of it.
    #[must_use]
    pub fn source_syncing(&self) -> bool {
        self.syncing_until.is_some_and(|t| Instant::now() < t)
    }

    /// Creation time as `YYYY-MM-DDTHH:MM:SSZ`.
    #[must_use]
    pub fn created_iso(&self) -> String {
        time::format_iso8601(self.created_unix)
    }
}

/// An image as a caller sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageView {
    /// The record.
    pub image: ImageRecord,
    /// The caller's relation to it.
    pub relation: Relation,
    /// Whether it currently has grants.
    pub shared: bool,
    /// Whether it is a community image (published; [`community`]).
    pub community: bool,
}

/// A share grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Who (account id; UCloud: project id).
    pub principal: String,
    /// Unix seconds.
    pub created_unix: u64,
}

impl Grant {
    /// Grant time as `YYYY-MM-DDTHH:MM:SSZ`.
    #[must_use]
    pub fn created_iso(&self) -> String {
        time::format_iso8601(self.created_unix)
    }
}

/// Where a copy goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySpec {
    /// Destination region (the source region when `None`).
    pub region: Option<String>,
    /// Destination owner (UCloud project); the caller when `None`.
    pub project: Option<String>,
    /// Name of the copy.
    pub name: Option<String>,
}

/// The engine state.
#[derive(Debug)]
pub struct Engine {
    world: World,
    images: BTreeMap<String, ImageRecord>,
    grants: BTreeMap<String, Vec<Grant>>,
    next_id: u64,
    /// Copies each `[[copy_fault]]` has failed so far (by index).
    copy_faults_used: Vec<u32>,
    sts: sts::StsState,
    metadata_tokens: metadata::MetadataTokens,
    resource_shares: resource_sharing::ResourceShares,
    /// Ids of the published community images ([`community`]).
    community: BTreeSet<String>,
}

impl Engine {
    /// Builds the engine state from a validated world.
    #[must_use]
    pub fn new(world: World) -> Self {
        let now = time::now_unix();
        let mut images = BTreeMap::new();
        let mut grants = BTreeMap::new();
        for seed in &world.images {
            images.insert(seed.id.clone(), record_from_seed(seed, now));
            if !seed.shared_with.is_empty() {
                grants.insert(
                    seed.id.clone(),
                    seed.shared_with
                        .iter()
                        .map(|p| Grant {
                            principal: p.clone(),
                            created_unix: now,
                        })
                        .collect(),
                );
            }
        }
        Self {
            world,
            images,
            grants,
            next_id: 1,
            copy_faults_used: Vec::new(),
            sts: sts::StsState::default(),
            metadata_tokens: metadata::MetadataTokens::default(),
            resource_shares: resource_sharing::ResourceShares::default(),
            community: BTreeSet::new(),
        }
    }

    /// The seed world (accounts and keys).
    #[must_use]
    pub fn world(&self) -> &World {
        &self.world
    }

    /// Adds an image at run time (tests, the `CreateImage` family of actions).
    pub fn add_image(&mut self, seed: &ImageSeed) {
        self.images
            .insert(seed.id.clone(), record_from_seed(seed, time::now_unix()));
    }

    /// Grants of an image (inspection).
    #[must_use]
    pub fn grants(&self, image: &str) -> Vec<Grant> {
        self.grants.get(image).cloned().unwrap_or_default()
    }

    /// Every image record (inspection).
    pub fn images(&self) -> impl Iterator<Item = &ImageRecord> {
        self.images.values()
    }

    /// Brings every copy whose creation delay has passed to `available` (inspection sees
    /// what a caller would).
    pub fn refresh_all(&mut self) {
        let ids: Vec<String> = self.images.keys().cloned().collect();
        for id in ids {
            self.refresh(&id);
        }
    }

    fn refresh(&mut self, id: &str) {
        if let Some(img) = self.images.get_mut(id) {
            if let Some(clock) = img.clock {
                let (state, progress) = clock.at(Instant::now());
                img.state = state;
                img.progress = progress;
                if state != State::Creating {
                    img.clock = None;
                }
            }
        }
    }

    /// The clock of a new copy of `source` into `region`: its time from the world's copy
    /// settings ([`crate::world::copies`]), and its failure when a `[[copy_fault]]` with
    /// uses left picks it (using one).
    fn copy_clock(&mut self, source: &ImageRecord, region: &str) -> CopyClock {
        let ready_after = crate::world::copies::copy_duration(
            &self.world,
            source.provider,
            region,
            source.size_gib,
        );
        let fault = self
            .world
            .copy_faults
            .iter()
            .enumerate()
            .find(|(i, f)| {
                f.matches(source.provider, &source.id, region)
                    && f.times
                        .is_none_or(|n| self.copy_faults_used.get(*i).copied().unwrap_or(0) < n)
            })
            .map(|(i, f)| (i, f.fail_after_ms));
        let fail_after = fault.map(|(i, ms)| {
            if self.copy_faults_used.len() <= i {
                self.copy_faults_used.resize(i + 1, 0);
            }
            self.copy_faults_used[i] += 1;
            Duration::from_millis(ms).min(ready_after)
        });
        CopyClock {
            started: Instant::now(),
            ready_after,
            fail_after,
        }
    }

    /// The principals `caller` acts as: the account itself and its projects.
    fn is_caller(&self, caller: &str, who: &str) -> bool {
        caller == who
    }

    fn relation(&self, caller: &str, img: &ImageRecord) -> Option<Relation> {
        // A public image belongs to the cloud, whoever the world lists as its owner.
        if img.origin == Origin::Public {
            Some(Relation::Public)
        } else if self.is_caller(caller, &img.owner) {
            Some(Relation::Owner)
        } else if self
            .grants
            .get(&img.id)
            .is_some_and(|g| g.iter().any(|g| g.principal == caller))
            || self.received_through_resource_share(caller, img)
        {
            Some(Relation::Received)
        } else if self.community.contains(&img.id) {
            Some(Relation::Community)
        } else {
            None
        }
    }

    fn view(&self, caller: &str, img: &ImageRecord) -> Option<ImageView> {
        self.relation(caller, img).map(|relation| ImageView {
            image: img.clone(),
            relation,
            shared: self.grants.get(&img.id).is_some_and(|g| !g.is_empty()),
            community: self.community.contains(&img.id),
        })
    }

    /// Looks an image up as `caller` sees it in `region` on `provider`.
    pub fn image(
        &mut self,
        provider: Provider,
        caller: &str,
        region: &str,
        id: &str,
    ) -> Result<ImageView, EngineError> {
        self.refresh(id);
        self.images
            .get(id)
            .filter(|i| i.provider == provider && i.region == region)
            .and_then(|i| self.view(caller, i))
            .ok_or_else(|| EngineError::ImageNotFound(id.to_owned()))
    }

    /// Images `caller` sees in `region`, filtered by relation, sorted by id.
    pub fn list(
        &mut self,
        provider: Provider,
        caller: &str,
        region: &str,
        relations: &[Relation],
    ) -> Vec<ImageView> {
        let ids: Vec<String> = self
            .images
            .values()
            .filter(|i| i.provider == provider && i.region == region)
            .map(|i| i.id.clone())
            .collect();
        for id in &ids {
            self.refresh(id);
        }
        self.images
            .values()
            .filter(|i| i.provider == provider && i.region == region)
            .filter_map(|i| self.view(caller, i))
            .filter(|v| relations.contains(&v.relation))
            .collect()
    }

    fn owned(
        &mut self,
        provider: Provider,
        caller: &str,
        region: &str,
        id: &str,
    ) -> Result<ImageView, EngineError> {
        let view = self.image(provider, caller, region, id)?;
        let limits = limits_for(provider);
        match view.relation {
            Relation::Owner => Ok(view),
            Relation::Public => Err(EngineError::Rule {
                rule: LimitRule::PublicImage,
                message: format!("{id} is a public image"),
            }),
            Relation::Received if !limits.reshare_received => Err(EngineError::Rule {
                rule: LimitRule::ReceivedImage,
                message: format!("{id} was shared with {caller} by {}", view.image.owner),
            }),
            // "You can share only your own custom images": another account's community
            // image is not the caller's to change.
            Relation::Received | Relation::Community => Err(EngineError::NotOwner(id.to_owned())),
        }
    }

    fn principal_site(&self, provider: Provider, principal: &str) -> Option<Site> {
        if shares_to_projects(provider) {
            self.world.project_owner(principal).map(|a| a.site)
        } else {
            self.world.account(principal).map(|a| a.site)
        }
    }

    fn owner_account(&self, provider: Provider, owner: &str) -> Option<&Account> {
        if shares_to_projects(provider) {
            self.world.project_owner(owner)
        } else {
            self.world.account(owner)
        }
    }

    /// Shares an image with `principals` (all or nothing). Returns, per distinct principal
    /// in request order, whether a new grant was made (`false`: already granted).
    pub fn share(
        &mut self,
        provider: Provider,
        caller: &str,
        region: &str,
        id: &str,
        principals: &[String],
    ) -> Result<Vec<(String, bool)>, EngineError> {
        let limits = limits_for(provider);
        let rules = grant_rules(provider);
        rules.check_call_size(limits, principals.len())?;
        let view = self.owned(provider, caller, region, id)?;
        self.refuse_community(id, "shared")?;
        let img = &view.image;
        rules.check_state(id, img.state)?;
        if rules.refuse_already_granted {
            if let Some(dup) = self.first_with_grant(id, principals, true) {
                return Err(GrantRefusal::AlreadyGranted {
                    image: id.to_owned(),
                    principal: dup.to_owned(),
                }
                .into());
            }
        }
        self.check_image_rules(provider, img)?;
        let owner_site = self.owner_account(provider, &img.owner).map(|a| a.site);
        let mut distinct: Vec<String> = Vec::new();
        for p in principals {
            check_principal_form(provider, p)?;
            if *p == img.owner || (!shares_to_projects(provider) && p == caller) {
                return Err(EngineError::Rule {
                    rule: LimitRule::ShareWithSelf,
                    message: format!("{p} owns {id}"),
                });
            }
            let site = match self.principal_site(provider, p) {
                Some(site) => site,
                // Well-formed (checked above), and the world accepts any account: one of
                // the owner's site, so no cross-site rule refuses it.
                None if self.world.accept_any_account => owner_site.unwrap_or(Site::China),
                None => return Err(EngineError::PrincipalNotFound(p.clone())),
            };
            if !limits.cross_site && owner_site.is_some_and(|s| s != site) {
                return Err(EngineError::Rule {
                    rule: LimitRule::CrossSite,
                    message: format!("{p} is an account of the {site} site"),
                });
            }
            if !distinct.contains(p) {
                distinct.push(p.clone());
            }
        }
        let current = self.grants.get(id).cloned().unwrap_or_default();
        let new: Vec<&String> = distinct
            .iter()
            .filter(|p| !current.iter().any(|g| &g.principal == *p))
            .collect();
        if let Some(max) = limits.max_sharees_per_image {
            if current.len() + new.len() > max {
                return Err(EngineError::Rule {
                    rule: LimitRule::MaxShareesPerImage,
                    message: format!(
                        "{} current + {} new exceeds {max}",
                        current.len(),
                        new.len()
                    ),
                });
            }
        }
        let now = time::now_unix();
        let entry = self.grants.entry(id.to_owned()).or_default();
        let mut out = Vec::with_capacity(distinct.len());
        for p in distinct {
            let is_new = !entry.iter().any(|g| g.principal == p);
            if is_new {
                entry.push(Grant {
                    principal: p.clone(),
                    created_unix: now,
                });
            }
            out.push((p, is_new));
        }
        Ok(out)
    }

    /// The rules an image must meet to be shared at all, whoever with (after ownership
    /// and state): not marketplace-derived, encryption as the provider allows, a shareable
    /// kind, available where the provider requires it. Shared by [`Engine::share`] and
    /// Alibaba Resource Sharing ([`resource_sharing`]).
    fn check_image_rules(&self, provider: Provider, img: &ImageRecord) -> Result<(), EngineError> {
        let limits = limits_for(provider);
        let id = img.id.as_str();
        if img.origin == Origin::Marketplace && !limits.share_marketplace_derived {
            return Err(EngineError::Rule {
                rule: LimitRule::MarketplaceDerived,
                message: format!("{id} is derived from a marketplace image"),
            });
        }
        if img.encrypted != Encrypted::None {
            match limits.encrypted {
                EncryptedPolicy::Allowed => {}
                EncryptedPolicy::CustomerKeyWithAcknowledgement { .. } => {
                    if img.encrypted == Encrypted::ServiceKey {
                        return Err(EngineError::Rule {
                            rule: LimitRule::EncryptedImage,
                            message: format!("{id} is encrypted with the service key"),
                        });
                    }
                    let has_role = self
                        .owner_account(provider, &img.owner)
                        .is_some_and(|a| a.roles.iter().any(|r| r == ECS_ENCRYPTED_SHARE_ROLE));
                    if !has_role {
                        return Err(EngineError::MissingRole(
                            ECS_ENCRYPTED_SHARE_ROLE.to_owned(),
                        ));
                    }
                }
                // `Forbidden`, and any policy the emulator was not written for: refused.
                _ => {
                    return Err(EngineError::Rule {
                        rule: LimitRule::EncryptedImage,
                        message: format!("{id} is encrypted"),
                    })
                }
            }
        }
        if !limits.shareable_kinds.contains(&img.kind) {
            return Err(EngineError::Rule {
                rule: LimitRule::ImageKind,
                message: format!("{id} is a {} image", img.kind),
            });
        }
        if limits.require_available && img.state != State::Available {
            return Err(EngineError::Rule {
                rule: LimitRule::ImageState,
                message: format!("{id} is {:?}", img.state).to_lowercase(),
            });
        }
        Ok(())
    }

    /// Revokes grants. Returns, per distinct principal, whether it had a grant.
    pub fn unshare(
        &mut self,
        provider: Provider,
        caller: &str,
        region: &str,
        id: &str,
        principals: &[String],
    ) -> Result<Vec<(String, bool)>, EngineError> {
        let rules = grant_rules(provider);
        rules.check_call_size(limits_for(provider), principals.len())?;
        let view = self.owned(provider, caller, region, id)?;
        rules.check_state(id, view.image.state)?;
        if rules.refuse_not_granted {
            if let Some(absent) = self.first_with_grant(id, principals, false) {
                return Err(GrantRefusal::NotGranted {
                    image: id.to_owned(),
                    principal: absent.to_owned(),
                }
                .into());
            }
        }
        let entry = self.grants.entry(id.to_owned()).or_default();
        let mut out: Vec<(String, bool)> = Vec::new();
        for p in principals {
            if out.iter().any(|(q, _)| q == p) {
                continue;
            }
            let had = entry.iter().any(|g| &g.principal == p);
            entry.retain(|g| &g.principal != p);
            out.push((p.clone(), had));
        }
        Ok(out)
    }

    /// The grants of an image the caller owns, oldest first.
    pub fn sharees(
        &mut self,
        provider: Provider,
        caller: &str,
        region: &str,
        id: &str,
    ) -> Result<Vec<Grant>, EngineError> {
        Ok(self.sharees_slice(provider, caller, region, id)?.to_vec())
    }

    /// The grants of an image the caller owns, oldest first, borrowed: paged listings take
    /// one page of them without copying the rest (an image may have 100,000 grants).
    pub fn sharees_slice(
        &mut self,
        provider: Provider,
        caller: &str,
        region: &str,
        id: &str,
    ) -> Result<&[Grant], EngineError> {
        if !self.owns(provider, caller, region, id) {
            return Err(EngineError::ImageNotFound(id.to_owned()));
        }
        Ok(self.grants_of(id))
    }

    /// Whether `caller` owns image `id` in `region` on `provider`, without copying it.
    fn owns(&mut self, provider: Provider, caller: &str, region: &str, id: &str) -> bool {
        self.refresh(id);
        self.images.get(id).is_some_and(|i| {
            i.provider == provider
                && i.region == region
                && i.origin != Origin::Public
                && self.is_caller(caller, &i.owner)
        })
    }

    /// The first of `principals` that has a grant on `id` (`granted`), or the first that
    /// has none (`!granted`).
    fn first_with_grant<'a>(
        &self,
        id: &str,
        principals: &'a [String],
        granted: bool,
    ) -> Option<&'a str> {
        let current = self.grants_of(id);
        principals
            .iter()
            .find(|p| current.iter().any(|g| &g.principal == *p) == granted)
            .map(String::as_str)
    }

    /// The grants of an image, borrowed (inspection and paged listings).
    pub fn grants_of(&self, image: &str) -> &[Grant] {
        self.grants
            .get(image)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Copies an image. Grants are not copied. A received image can be copied only into
    /// its own region (the recipient's own copy).
    pub fn copy(
        &mut self,
        provider: Provider,
        caller: &str,
        region: &str,
        id: &str,
        spec: CopySpec,
    ) -> Result<String, EngineError> {
        let view = self.image(provider, caller, region, id)?;
        if view.relation == Relation::Public {
            return Err(EngineError::Rule {
                rule: LimitRule::PublicImage,
                message: format!("{id} is a public image"),
            });
        }
        self.refuse_community(id, "copied")?;
        if view.image.state != State::Available {
            return Err(EngineError::InvalidState {
                id: id.to_owned(),
                state: format!("{:?}", view.image.state).to_lowercase(),
            });
        }
        let target_region = spec.region.clone().unwrap_or_else(|| region.to_owned());
        if view.relation == Relation::Received && target_region != region {
            return Err(EngineError::InvalidParameter {
                name: "DestinationRegion".to_owned(),
                message: "a received image can be copied only within its own region".to_owned(),
            });
        }
        if let Some(project) = &spec.project {
            let caller_owns = self.world.project_owner(project).is_some_and(|a| {
                self.owner_account(provider, &view.image.owner)
                    .is_some_and(|o| o.id == a.id)
            });
            if !caller_owns {
                return Err(EngineError::PrincipalNotFound(project.clone()));
            }
        }
        let prefix = limits_for(provider).image_id_prefix;
        let new_id = format!("{prefix}copy{:08x}", self.next_id);
        self.next_id += 1;
        let clock = self.copy_clock(&view.image, &target_region);
        let mut rec = view.image.clone();
        rec.id = new_id.clone();
        rec.name = spec
            .name
            .unwrap_or_else(|| default_copy_name(provider, &view.image.name));
        rec.owner = spec.project.unwrap_or_else(|| {
            if view.relation == Relation::Received {
                caller.to_owned()
            } else {
                view.image.owner.clone()
            }
        });
        rec.region = target_region;
        rec.created_unix = time::now_unix();
        rec.copied_from = Some(id.to_owned());
        rec.clock = Some(clock);
        rec.syncing_until = None;
        self.images.insert(new_id.clone(), rec);
        self.refresh(&new_id);
        Ok(new_id)
    }

    /// Holds `source` busy until every one of `copies` (made from it by one sync call) has
    /// ended, when the world says so ([`World::copy_source_busy`](crate::world::World)):
    /// Lighthouse documents that a blueprint being synced shows `SYNCING` until "源地域同步结束"
    /// and that only `NORMAL` blueprints sync (SyncBlueprint, API 2020-03-24, as the
    /// official SDK's client doc states it); CVM's SyncImages takes only `NORMAL` images and
    /// lists `FailedOperation.InvalidImageState` ("镜像状态繁忙", image busy). Off by default.
    pub fn hold_source(&mut self, source: &str, copies: &[String]) {
        if !self.world.copy_source_busy {
            return;
        }
        let until = copies
            .iter()
            .filter_map(|c| self.images.get(c))
            .filter_map(|c| c.clock.map(|k| k.end()))
            .max();
        if let (Some(until), Some(rec)) = (until, self.images.get_mut(source)) {
            rec.syncing_until = Some(rec.syncing_until.map_or(until, |t| t.max(until)));
        }
    }

    /// Deletes an image the caller owns (every rule of [`Engine::check_delete`]).
    /// Deleting removes its grants.
    pub fn delete(
        &mut self,
        provider: Provider,
        caller: &str,
        region: &str,
        id: &str,
    ) -> Result<(), EngineError> {
        self.check_delete(provider, caller, region, id)?;
        self.images.remove(id);
        self.grants.remove(id);
        self.community.remove(id);
        Ok(())
    }

    /// The rules of [`Engine::delete`], checked without deleting (a front-end that deletes
    /// several images all or nothing, or answers a dry run, checks each one first): only
    /// the owner deletes; not while the image is still being created or copied where the
    /// provider says so ([`delete_waits_for_creation`]); not while it has grants, or is
    /// shared to another product ([`Engine::shared_elsewhere`]), where the provider's limits
    /// say so.
    pub fn check_delete(
        &mut self,
        provider: Provider,
        caller: &str,
        region: &str,
        id: &str,
    ) -> Result<(), EngineError> {
        let view = self.owned(provider, caller, region, id)?;
        if view.image.state == State::Creating && delete_waits_for_creation(provider) {
            return Err(EngineError::InvalidState {
                id: id.to_owned(),
                state: format!("{:?}", view.image.state).to_lowercase(),
            });
        }
        let n = self.grants.get(id).map_or(0, Vec::len);
        if limits_for(provider).delete_requires_unshare {
            let message = if n > 0 {
                format!("{id} is shared with {n} principals")
            } else if self.shared_elsewhere(provider, id) {
                format!("{id} is shared to ECS")
            } else {
                return Ok(());
            };
            return Err(EngineError::Rule {
                rule: LimitRule::DeleteWhileShared,
                message,
            });
        }
        Ok(())
    }

    /// Creates an image of `provider` owned by `owner` derived from `source` (cross-product
    /// moves such as SAS -> ECS or CVM -> Lighthouse). Returns the new id.
    pub fn derive_image(
        &mut self,
        source: &str,
        provider: Provider,
        new_id: String,
    ) -> Result<String, EngineError> {
        let src = self
            .images
            .get(source)
            .cloned()
            .ok_or_else(|| EngineError::ImageNotFound(source.to_owned()))?;
        let mut rec = src;
        rec.provider = provider;
        rec.id = new_id.clone();
        rec.copied_from = Some(source.to_owned());
        rec.syncing_until = None;
        rec.created_unix = time::now_unix();
        self.images.insert(new_id.clone(), rec);
        Ok(new_id)
    }

    /// Removes an image without rules (the reverse of [`Engine::derive_image`]).
    pub fn remove_image(&mut self, id: &str) -> Option<ImageRecord> {
        self.grants.remove(id);
        self.community.remove(id);
        self.images.remove(id)
    }

    /// A fresh id counter value (for front-ends that mint ids).
    pub fn next_serial(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// The name a copy gets when the copy action is sent none:
///
/// - ECS `CopyImage` `DestinationImageName`: "默认值:空" (empty by default; ECS API reference,
///   CopyImage, <https://help.aliyun.com/document_detail/25538.html>, as mirrored in the
///   `pages` corpus); what DescribeImages then shows as `ImageName` is UNCONFIRMED.
/// - CVM `SyncImages` `ImageName`: "defaults to the source image name" (tencent.md §1.4,
///   <https://cloud.tencent.com/document/api/213/15711>; "默认使用源镜像名称", official SDK
///   SyncImagesRequest).
/// - Lighthouse `SyncBlueprint` takes no name; the copy keeps the blueprint's name
///   (tencent.md §2.5; the front-end passes it).
/// - UCloud `CopyCustomImage` `TargetImageName` is optional (ucloud.md §1.3) and its default
///   undocumented: the source's name (UNCONFIRMED).
#[must_use]
pub fn default_copy_name(provider: Provider, source_name: &str) -> String {
    if provider == imageshare_alibaba::ECS {
        String::new()
    } else {
        source_name.to_owned()
    }
}

/// The size (GiB) an image of `provider` and `kind` has unless its seed says: what each
/// front-end has always reported (ECS 40 / 140 with a data disk, CVM 50 / 150, SAS 40,
/// Lighthouse 20, UHost 20 as in UCloud's documented example).
#[must_use]
pub fn default_size_gib(provider: Provider, kind: ImageKind) -> u64 {
    let whole = kind == ImageKind::WholeMachine;
    match provider {
        p if p == imageshare_alibaba::ECS => {
            if whole {
                140
            } else {
                40
            }
        }
        p if p == imageshare_tencent::CVM => {
            if whole {
                150
            } else {
                50
            }
        }
        p if p == imageshare_alibaba::SAS => 40,
        _ => 20,
    }
}

fn record_from_seed(seed: &ImageSeed, now: u64) -> ImageRecord {
    ImageRecord {
        provider: seed.provider,
        id: seed.id.clone(),
        name: seed.name.clone().unwrap_or_else(|| seed.id.clone()),
        owner: seed.owner.clone(),
        region: seed.region.clone(),
        origin: seed.origin,
        encrypted: seed.encrypted,
        kind: seed.kind,
        state: seed.state,
        created_unix: now,
        size_gib: seed
            .size_gib
            .unwrap_or_else(|| default_size_gib(seed.provider, seed.kind)),
        progress: match seed.state {
            State::Available | State::Unavailable => 100,
            State::Creating => 50,
            State::Failed => 0,
        },
        clock: None,
        syncing_until: None,
        copied_from: None,
    }
}
