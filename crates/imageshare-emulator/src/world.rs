//! The emulator's seed world: accounts with their keys, UCloud projects, images and
//! initial grants, and the fault plan. Built in code ([`World::builder`]) or read from a
//! TOML file ([`World::from_toml_str`], [`World::from_toml_file`]).
//!
//! The file format (stable; more fields may be added):
//!
//! ```toml
//! seed = 7                       # optional: fixes the request ids (random per process without it)
//! accept_any_account = false     # true: any well-formed account id exists (default: refused)
//! community_terms_signed = ["100000000001"]   # optional: accounts that may publish community images
//!
//! [[account]]
//! id = "100000000001"            # the account id as the cloud writes it
//! site = "china"                 # or "international"
//! projects = ["org-a1b2c3"]      # UCloud projects owned by this account
//! roles = ["AliyunECSShareEncryptImageDefaultRole"]   # optional service roles
//! keys.tencent = { id = "AKID...", secret = "...", token = "..." }  # token: optional (STS)
//! keys.alibaba = { id = "LTAI...", secret = "..." }
//! keys.ucloud  = { public = "...", private = "..." }
//!
//! [[image]]
//! provider = "tencent-cvm"       # alibaba-ecs | alibaba-sas | tencent-cvm | tencent-lighthouse | ucloud
//! id = "img-abc12345"
//! owner = "100000000001"         # account id (UCloud: project id)
//! region = "ap-guangzhou"
//! origin = "custom"              # custom | marketplace | imported | public
//! encrypted = "none"             # none | service-key | cmk
//! kind = "system-disk"           # system-disk | whole-machine | lightweight-host (default: lightweight-host on SAS and Lighthouse, else system-disk)
//! state = "available"            # available | creating | unavailable | failed
//! name = "golden"                # optional
//! size_gib = 40                  # optional: the image's size, which copy times may depend on
//!                                # (default: what the provider's listing reports, e.g. 40 on ECS, 50 on CVM)
//! shared_with = ["100000000002"] # optional initial grants
//!
//! [faults]                       # optional
//! seed = 42
//! [[faults.rule]]
//! provider = "tencent-cvm"       # optional: every provider when absent
//! action = "ModifyImageSharePermission"   # optional: every action when absent
//! qps = 10                       # requests per second before the cloud's throttling code
//! throttle_rate = 0.2            # share answered with the throttling code (not counted in the qps window)
//! error_rate = 0.05              # share of requests answered with the cloud's 5xx
//! drop_rate = 0.02               # share of connections closed without an answer
//! latency_ms = [5, 20]           # added latency, uniform in [min, max]
//! ```
//!
//! A file is read strictly: an unknown field anywhere (`encryption = "cmk"` for
//! `encrypted`) is refused as `file:line:column: unknown field ...`, and every image's id,
//! owner, grantees and region must have its provider's form ([`World::validate_forms`]: the
//! limit tables' image-id prefixes and principal forms).
//!
//! `community_terms_signed` lists the accounts that have signed Alibaba Cloud's Community
//! Image Terms of Service: only they can publish an ECS custom image as a community image
//! (`ModifyImageSharePermission` `IsPublic=true`); any other account is refused with
//! `PublicImageAgreement.NotSigned`, as every account was before the list existed (it is
//! empty by default). A published image is seen by every account of its region
//! (`DescribeImages` `ImageOwnerAlias=others` `IsPublic=true`), cannot be shared or
//! copied, and keeps its direct shares when it is unpublished; unpublishing an image that
//! is not published is refused (`Image.NotPublic`): see [`crate::engine::community`] and
//! the ECS front-end. (The list sits at the top of the file rather than on
//! `[[account]]`, so that [`Account`], which code builds field by field, keeps its
//! fields.)
//!
//! How long copies take, per image size and target region, and which copies fail
//! (`copy_ready_after_ms`, `copy_ms_per_gib`, `[[copy_time]]`, `[[copy_fault]]`) are
//! described in the [`copies`] part.
//!
//! Resource directories with their folders and members (`[[resource_directory]]`, the
//! targets of Alibaba Resource Sharing) are described in the [`directory`] part.
//!
//! Roles, OIDC providers, `[sts]` and `[metadata]` (the emulated STS and instance metadata
//! services) are described in the `roles` part: see [`RoleSeed`], [`OidcProviderSeed`],
//! [`StsSettings`] and [`MetadataSettings`].

use std::collections::BTreeSet;
use std::path::Path;

use imageshare_core::{Provider, Site};
use serde::{Deserialize, Serialize};

use crate::faults::FaultPlan;

pub mod copies;
pub mod directory;
pub mod roles;

pub use copies::{CopyFault, CopyTime};
pub use directory::{DirectorySeed, FolderSeed, MemberSeed};
pub use roles::{Cloud, MetadataSettings, OidcProviderSeed, RoleSeed, StsSettings};

/// Errors reading a world.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The file could not be read.
    #[error("cannot read world file {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown fields or values: `file:line:column: what`.
    #[error(
        "invalid world {}{}: {message}",
        path.as_deref().unwrap_or("<toml>"),
        line.map(|l| format!(":{l}:{}", column.unwrap_or(1))).unwrap_or_default()
    )]
    Parse {
        /// The path, when read from a file.
        path: Option<String>,
        /// The line (from 1) of what is wrong, when the parser knows it.
        line: Option<usize>,
        /// The column (from 1) of what is wrong, when the parser knows it.
        column: Option<usize>,
        /// What is wrong (`unknown field `encryption`, expected one of ...`).
        message: String,
    },
    /// The world is well-formed but inconsistent (duplicate ids, unknown owner, ...).
    #[error("inconsistent world: {0}")]
    Invalid(String),
}

/// Tencent API key of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TencentKey {
    /// SecretId.
    pub id: String,
    /// SecretKey.
    pub secret: String,
    /// Session token, for keys that are temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Alibaba Cloud AccessKey of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlibabaKey {
    /// AccessKeyId.
    pub id: String,
    /// AccessKeySecret.
    pub secret: String,
    /// STS security token, for temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// UCloud API key pair of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UCloudKey {
    /// PublicKey.
    pub public: String,
    /// PrivateKey.
    pub private: String,
}

/// An account's keys, per cloud.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// Tencent Cloud key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tencent: Option<TencentKey>,
    /// Alibaba Cloud key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alibaba: Option<AlibabaKey>,
    /// UCloud key pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ucloud: Option<UCloudKey>,
}

/// An account of the world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The account id as the cloud writes it.
    pub id: String,
    /// China or international site.
    #[serde(default = "default_site")]
    pub site: Site,
    /// UCloud projects owned by the account.
    #[serde(default)]
    pub projects: Vec<String>,
    /// Service roles granted (e.g. `AliyunECSShareEncryptImageDefaultRole`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Keys, per cloud.
    #[serde(default)]
    pub keys: Keys,
}

impl Account {
    /// This account's Alibaba Cloud key as adapter credentials (with its STS token).
    #[must_use]
    pub fn alibaba_credentials(&self) -> Option<imageshare_alibaba::AlibabaCredentials> {
        self.keys.alibaba.as_ref().map(|k| {
            let c = imageshare_alibaba::AlibabaCredentials::new(k.id.as_str(), k.secret.as_str());
            match &k.token {
                Some(t) => c.with_security_token(t.as_str()),
                None => c,
            }
        })
    }
    /// This account's Tencent Cloud key as adapter credentials (with its token).
    #[must_use]
    pub fn tencent_credentials(&self) -> Option<imageshare_tencent::TencentCredentials> {
        self.keys.tencent.as_ref().map(|k| {
            let c = imageshare_tencent::TencentCredentials::new(k.id.as_str(), k.secret.as_str());
            match &k.token {
                Some(t) => c.with_token(t.as_str()),
                None => c,
            }
        })
    }
    /// This account's UCloud key pair as adapter credentials.
    #[must_use]
    pub fn ucloud_credentials(&self) -> Option<imageshare_ucloud::UCloudCredentials> {
        self.keys.ucloud.as_ref().map(|k| {
            imageshare_ucloud::UCloudCredentials::new(k.public.as_str(), k.private.as_str())
        })
    }
    /// This account's key for `cloud` (a [`ProviderSpec::cloud`](imageshare_core::ProviderSpec)
    /// name: `alibaba`, `tencent`, `ucloud`), as the registry's type-erased credentials;
    /// `None` when it has none or the emulator does not play that cloud.
    pub fn credentials(&self, cloud: &str) -> Option<imageshare_core::Credentials> {
        match cloud {
            imageshare_alibaba::providers::CLOUD => self.alibaba_credentials().map(Into::into),
            imageshare_tencent::providers::CLOUD => self.tencent_credentials().map(Into::into),
            imageshare_ucloud::providers::CLOUD => self.ucloud_credentials().map(Into::into),
            _ => None,
        }
    }
}

fn default_site() -> Site {
    Site::China
}

/// Where an image of the world comes from (the world's view; "received" is derived from
/// grants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Created by the owner.
    Custom,
    /// Built from a marketplace image.
    Marketplace,
    /// Imported from an image file.
    Imported,
    /// A public (provider) image.
    Public,
}

/// Encryption of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encrypted {
    /// Not encrypted.
    None,
    /// Service key.
    ServiceKey,
    /// Customer-managed key.
    Cmk,
}

/// Lifecycle state of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Usable.
    Available,
    /// Being created or copied.
    Creating,
    /// Deprecated or broken.
    Unavailable,
    /// Its creation or copy failed (ECS `CreateFailed`, CVM `CREATEFAILED`, Lighthouse
    /// `SYNCING_FAILED`).
    Failed,
}

/// An image of the world. In a world file, `kind` defaults per provider to the first kind
/// the provider shares ([`default_kind`]: a lightweight-host image on SAS and Lighthouse, a
/// system-disk image elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ImageSeedFile")]
#[non_exhaustive]
pub struct ImageSeed {
    /// Which surface the image belongs to (one the emulator serves).
    #[serde(deserialize_with = "crate::engine::deserialize_served")]
    pub provider: Provider,
    /// Image id.
    pub id: String,
    /// Owner account id (UCloud: project id).
    pub owner: String,
    /// Region.
    pub region: String,
    /// Origin.
    #[serde(default = "default_origin")]
    pub origin: Origin,
    /// Encryption.
    #[serde(default = "default_encrypted")]
    pub encrypted: Encrypted,
    /// Kind.
    pub kind: imageshare_core::ImageKind,
    /// State.
    #[serde(default = "default_state")]
    pub state: State,
    /// Name; the id when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Initial grants (account ids; UCloud: project ids).
    #[serde(default)]
    pub shared_with: Vec<String>,
    /// Size in GiB; the provider's default ([`crate::engine::default_size_gib`]) when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_gib: Option<u64>,
}

/// An `[[image]]` table as written: every field of [`ImageSeed`], `kind` optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageSeedFile {
    #[serde(deserialize_with = "crate::engine::deserialize_served")]
    provider: Provider,
    id: String,
    owner: String,
    region: String,
    #[serde(default = "default_origin")]
    origin: Origin,
    #[serde(default = "default_encrypted")]
    encrypted: Encrypted,
    #[serde(default)]
    kind: Option<imageshare_core::ImageKind>,
    #[serde(default = "default_state")]
    state: State,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    shared_with: Vec<String>,
    #[serde(default)]
    size_gib: Option<u64>,
}

impl From<ImageSeedFile> for ImageSeed {
    fn from(f: ImageSeedFile) -> Self {
        ImageSeed {
            kind: f.kind.unwrap_or_else(|| default_kind(f.provider)),
            provider: f.provider,
            id: f.id,
            owner: f.owner,
            region: f.region,
            origin: f.origin,
            encrypted: f.encrypted,
            state: f.state,
            name: f.name,
            shared_with: f.shared_with,
            size_gib: f.size_gib,
        }
    }
}

/// The kind an image of `provider` has unless its seed says otherwise: the first kind the
/// provider's limit table shares (SAS and Lighthouse share lightweight-host images only;
/// ECS, CVM and UHost system-disk images), system-disk when the table names none.
#[must_use]
pub fn default_kind(provider: Provider) -> imageshare_core::ImageKind {
    crate::engine::served()
        .find(|s| s.provider == provider)
        .and_then(|s| s.limits.shareable_kinds.first().copied())
        .unwrap_or(imageshare_core::ImageKind::SystemDisk)
}

fn default_origin() -> Origin {
    Origin::Custom
}
fn default_encrypted() -> Encrypted {
    Encrypted::None
}
fn default_state() -> State {
    State::Available
}

impl ImageSeed {
    /// An available, unencrypted, custom image of the provider's [`default_kind`].
    #[must_use]
    pub fn new(provider: Provider, id: &str, owner: &str, region: &str) -> Self {
        Self {
            provider,
            id: id.to_owned(),
            owner: owner.to_owned(),
            region: region.to_owned(),
            origin: Origin::Custom,
            encrypted: Encrypted::None,
            kind: default_kind(provider),
            state: State::Available,
            name: None,
            shared_with: Vec::new(),
            size_gib: None,
        }
    }
    /// Sets the origin.
    #[must_use]
    pub fn origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }
    /// Sets the encryption.
    #[must_use]
    pub fn encrypted(mut self, e: Encrypted) -> Self {
        self.encrypted = e;
        self
    }
    /// Sets the kind.
    #[must_use]
    pub fn kind(mut self, k: imageshare_core::ImageKind) -> Self {
        self.kind = k;
        self
    }
    /// Sets the state.
    #[must_use]
    pub fn state(mut self, s: State) -> Self {
        self.state = s;
        self
    }
    /// Sets the name.
    #[must_use]
    pub fn name(mut self, n: &str) -> Self {
        self.name = Some(n.to_owned());
        self
    }
    /// Sets the size in GiB.
    #[must_use]
    pub fn size_gib(mut self, gib: u64) -> Self {
        self.size_gib = Some(gib);
        self
    }
    /// Adds initial grants.
    #[must_use]
    pub fn shared_with(mut self, who: &[&str]) -> Self {
        self.shared_with.extend(who.iter().map(|s| (*s).to_owned()));
        self
    }
}

/// The seed world of an emulator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct World {
    /// Seed of the request ids: the same seed gives the same ids in every process (and
    /// after every reset); without one, each process draws its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Treat any well-formed account id (or UCloud project id) as an existing account of
    /// the same site as the image's owner, for suites that do not care about recipients.
    /// Off by default: the clouds refuse accounts that do not exist.
    #[serde(default)]
    pub accept_any_account: bool,
    /// Accounts.
    #[serde(default, rename = "account")]
    pub accounts: Vec<Account>,
    /// Images.
    #[serde(default, rename = "image")]
    pub images: Vec<ImageSeed>,
    /// Fault injection.
    #[serde(default)]
    pub faults: FaultPlan,
    /// Milliseconds a copied image stays `creating` before it becomes available (the fixed
    /// part of a copy's time; see [`copies`]).
    #[serde(default)]
    pub copy_ready_after_ms: u64,
    /// Milliseconds a copy takes per GiB of its source, on top of `copy_ready_after_ms`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub copy_ms_per_gib: u64,
    /// Other copy times for copies into given regions.
    #[serde(default, rename = "copy_time", skip_serializing_if = "Vec::is_empty")]
    pub copy_times: Vec<CopyTime>,
    /// Copies that fail.
    #[serde(default, rename = "copy_fault", skip_serializing_if = "Vec::is_empty")]
    pub copy_faults: Vec<CopyFault>,
    /// Holds the source of a CVM `SyncImages` / Lighthouse `SyncBlueprint` busy (`SYNCING`,
    /// another sync of it refused) until its copies have ended (see [`copies`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub copy_source_busy: bool,
    /// Roles that STS can issue credentials for (see the `roles` section of the format).
    #[serde(default, rename = "role", skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleSeed>,
    /// OIDC identity providers registered in the clouds.
    #[serde(
        default,
        rename = "oidc_provider",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub oidc_providers: Vec<OidcProviderSeed>,
    /// STS settings.
    #[serde(default)]
    pub sts: StsSettings,
    /// Instance metadata settings.
    #[serde(default)]
    pub metadata: MetadataSettings,
    /// Resource directories (Alibaba Resource Sharing targets; see [`directory`]).
    #[serde(
        default,
        rename = "resource_directory",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resource_directories: Vec<DirectorySeed>,
    /// Accounts that have signed the Community Image Terms of Service, and so may publish
    /// Alibaba ECS community images (empty by default: publishing is refused with
    /// `PublicImageAgreement.NotSigned`; see [`crate::engine::community`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub community_terms_signed: Vec<String>,
}

impl World {
    /// An empty world to fill in code.
    #[must_use]
    pub fn builder() -> WorldBuilder {
        WorldBuilder::default()
    }

    /// Parses a world from TOML text.
    pub fn from_toml_str(text: &str) -> Result<World, WorldError> {
        Self::parse(text, None)
    }

    /// Reads a world from a TOML file.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<World, WorldError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| WorldError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, Some(path.display().to_string()))
    }

    /// The text of `examples/world.toml`, the default world (`imageshare-emulator
    /// example-world` prints it, so that clients in other languages can read its keys).
    pub const EXAMPLE_TOML: &'static str = include_str!("../../../examples/world.toml");

    /// The world shipped as `examples/world.toml` (what `serve` loads by default).
    #[must_use]
    pub fn example() -> World {
        Self::from_toml_str(Self::EXAMPLE_TOML).expect("examples/world.toml is valid")
    }

    fn parse(text: &str, path: Option<String>) -> Result<World, WorldError> {
        let world: World = toml::from_str(text).map_err(|e| {
            let (line, column) = match e.span() {
                Some(span) => {
                    let (l, c) = line_column(text, span.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            WorldError::Parse {
                path: path.clone(),
                line,
                column,
                message: match e.message().trim() {
                    // The parser has no words for a value cut short at the end of the text.
                    "" => "malformed TOML (a value is missing or incomplete)".to_owned(),
                    m => m.to_owned(),
                },
            }
        })?;
        world.validate_forms()?;
        world.validate()?;
        Ok(world)
    }

    /// Checks every image's id, owner, grantees and region against its provider's forms
    /// (the limit tables' image-id prefix and principal form: `img-...` on CVM, `m-...` on
    /// ECS and SAS, `lhbp-...` on Lighthouse, `uimage-...` on UHost; numeric account ids,
    /// `org-...` projects). A world file is always checked; a world built in code is not, so
    /// that a test can seed a malformed id on purpose.
    pub fn validate_forms(&self) -> Result<(), WorldError> {
        use imageshare_core::limits::ImageIdUse;
        for i in &self.images {
            let limits = crate::engine::limits_for(i.provider);
            let what = format!("image {} ({})", i.id, i.provider);
            let use_ = if i.origin == Origin::Public {
                ImageIdUse::Lookup
            } else {
                ImageIdUse::Custom
            };
            limits
                .image_id_rule()
                .check(&i.id, use_)
                .map_err(|e| WorldError::Invalid(format!("{what}: {e}")))?;
            limits
                .check_region(&imageshare_core::Region::new(i.region.as_str()), "region")
                .map_err(|e| WorldError::Invalid(format!("{what}: {e}")))?;
            for (field, p) in std::iter::once(("owner", &i.owner))
                .chain(i.shared_with.iter().map(|g| ("shared_with", g)))
            {
                crate::engine::check_principal_form(i.provider, p)
                    .map_err(|e| WorldError::Invalid(format!("{what}: {field} {e}")))?;
            }
        }
        Ok(())
    }

    /// Checks that ids are unique and owners and grantees exist.
    pub fn validate(&self) -> Result<(), WorldError> {
        let mut ids = BTreeSet::new();
        let mut projects = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for a in &self.accounts {
            if !ids.insert(a.id.as_str()) {
                return Err(WorldError::Invalid(format!(
                    "account {} appears twice",
                    a.id
                )));
            }
            for p in &a.projects {
                if !projects.insert(p.as_str()) {
                    return Err(WorldError::Invalid(format!("project {p} appears twice")));
                }
            }
            for k in [
                a.keys.tencent.as_ref().map(|k| k.id.as_str()),
                a.keys.alibaba.as_ref().map(|k| k.id.as_str()),
                a.keys.ucloud.as_ref().map(|k| k.public.as_str()),
            ]
            .into_iter()
            .flatten()
            {
                if !keys.insert(k) {
                    return Err(WorldError::Invalid(format!("key id {k} appears twice")));
                }
            }
        }
        if let Some(a) = self
            .community_terms_signed
            .iter()
            .find(|a| !ids.contains(a.as_str()))
        {
            return Err(WorldError::Invalid(format!(
                "community_terms_signed: {a} is not an account of the world"
            )));
        }
        let mut images = BTreeSet::new();
        for i in &self.images {
            if !images.insert(i.id.as_str()) {
                return Err(WorldError::Invalid(format!("image {} appears twice", i.id)));
            }
            let projects_own = crate::engine::shares_to_projects(i.provider);
            let owner_known = if projects_own {
                projects.contains(i.owner.as_str())
            } else {
                ids.contains(i.owner.as_str())
            };
            if !owner_known {
                return Err(WorldError::Invalid(format!(
                    "image {}: owner {} is not a known {}",
                    i.id,
                    i.owner,
                    if projects_own { "project" } else { "account" }
                )));
            }
            for g in &i.shared_with {
                let known = self.accept_any_account
                    || if projects_own {
                        projects.contains(g.as_str())
                    } else {
                        ids.contains(g.as_str())
                    };
                if !known {
                    return Err(WorldError::Invalid(format!(
                        "image {}: shared_with {g} is not a known principal",
                        i.id
                    )));
                }
            }
        }
        self.validate_roles(&ids)?;
        directory::validate(&self.resource_directories, &ids)?;
        self.faults.validate().map_err(WorldError::Invalid)?;
        copies::validate(&self.copy_times, &self.copy_faults).map_err(WorldError::Invalid)?;
        Ok(())
    }

    /// Roles: a known owner, unique names per cloud and account, a sane maximum session,
    /// trusted OIDC providers that exist in the role's cloud, at most one instance role per
    /// cloud; providers: unique, with an issuer.
    fn validate_roles(&self, accounts: &BTreeSet<&str>) -> Result<(), WorldError> {
        let invalid = |m: String| Err(WorldError::Invalid(m));
        let mut providers = BTreeSet::new();
        for p in &self.oidc_providers {
            if p.key().is_empty() {
                return invalid(format!(
                    "oidc_provider {:?}: needs an arn (Alibaba) or an id (Tencent)",
                    p.issuer
                ));
            }
            if p.issuer.is_empty() {
                return invalid(format!("oidc_provider {}: issuer is empty", p.key()));
            }
            if !providers.insert((p.cloud(), p.key())) {
                return invalid(format!("oidc_provider {} appears twice", p.key()));
            }
        }
        let mut roles = BTreeSet::new();
        let mut instance = BTreeSet::new();
        for r in &self.roles {
            let what = format!("role {} of {} ({})", r.name, r.account, r.cloud.name());
            if !accounts.contains(r.account.as_str()) {
                return invalid(format!("{what}: account is not a known account"));
            }
            if r.name.is_empty()
                || !roles.insert((r.cloud, r.account.as_str(), r.name.to_lowercase()))
            {
                return invalid(format!("{what}: empty or duplicate name"));
            }
            let max = r.max_session();
            if !(900..=r.cloud.max_session_ceiling()).contains(&max) {
                return invalid(format!(
                    "{what}: max_session_secs {max} is not within 900..=43200"
                ));
            }
            for t in &r.trust {
                if let Some(p) = t.strip_prefix("oidc:") {
                    if !providers.contains(&(r.cloud, p)) {
                        return invalid(format!("{what}: trusts unknown oidc_provider {p}"));
                    }
                }
            }
            if r.instance && !instance.insert(r.cloud) {
                return invalid(format!("{what}: a second instance role for this cloud"));
            }
        }
        if self.sts.credentials_ttl_secs == Some(0) {
            return invalid("sts.credentials_ttl_secs must be at least 1".into());
        }
        Ok(())
    }

    /// The account holding this Tencent SecretId.
    #[must_use]
    pub fn account_by_tencent_key(&self, id: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.keys.tencent.as_ref().is_some_and(|k| k.id == id))
    }
    /// The account holding this Alibaba AccessKeyId.
    #[must_use]
    pub fn account_by_alibaba_key(&self, id: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.keys.alibaba.as_ref().is_some_and(|k| k.id == id))
    }
    /// The account holding this UCloud PublicKey.
    #[must_use]
    pub fn account_by_ucloud_key(&self, public: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.keys.ucloud.as_ref().is_some_and(|k| k.public == public))
    }
    /// Whether account `id` has signed the Community Image Terms of Service
    /// ([`World::community_terms_signed`]).
    #[must_use]
    pub fn signed_community_terms(&self, id: &str) -> bool {
        self.community_terms_signed.iter().any(|a| a == id)
    }
    /// An account by id.
    #[must_use]
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }
    /// The account owning a UCloud project.
    #[must_use]
    pub fn project_owner(&self, project: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.projects.iter().any(|p| p == project))
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Line and column (from 1, in characters) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// Builds a [`World`] in code.
#[derive(Debug, Default)]
pub struct WorldBuilder {
    world: World,
}

impl WorldBuilder {
    /// Adds a resource directory (validated with the world at `build`).
    #[must_use]
    pub fn resource_directory(mut self, d: DirectorySeed) -> Self {
        self.world.resource_directories.push(d);
        self
    }

    /// Adds an account with deterministic keys for every cloud, derived from its id
    /// (`AKID<id>`, `LTAI<id>`, `ucloud<id>@example.com` with secrets `secret-<id>`).
    #[must_use]
    pub fn account(mut self, id: &str, site: Site) -> Self {
        self.world.accounts.push(Account {
            id: id.to_owned(),
            site,
            projects: Vec::new(),
            roles: Vec::new(),
            keys: Keys {
                tencent: Some(TencentKey {
                    id: format!("AKID{id}"),
                    secret: format!("tc-secret-{id}"),
                    token: None,
                }),
                alibaba: Some(AlibabaKey {
                    id: format!("LTAI{id}"),
                    secret: format!("ali-secret-{id}"),
                    token: None,
                }),
                ucloud: Some(UCloudKey {
                    public: format!("ucloud{id}@example.com"),
                    private: format!("uc-private-{id}"),
                }),
            },
        });
        self
    }
    /// Adds a fully specified account.
    #[must_use]
    pub fn account_with(mut self, account: Account) -> Self {
        self.world.accounts.push(account);
        self
    }
    /// Gives the last added account a UCloud project.
    #[must_use]
    pub fn project(mut self, project: &str) -> Self {
        if let Some(a) = self.world.accounts.last_mut() {
            a.projects.push(project.to_owned());
        }
        self
    }
    /// Records that the last added account has signed the Community Image Terms of Service
    /// (it may publish ECS community images; [`World::community_terms_signed`]).
    #[must_use]
    pub fn community_terms_signed(mut self) -> Self {
        if let Some(a) = self.world.accounts.last() {
            self.world.community_terms_signed.push(a.id.clone());
        }
        self
    }
    /// Gives the last added account a service role.
    #[must_use]
    pub fn role(mut self, role: &str) -> Self {
        if let Some(a) = self.world.accounts.last_mut() {
            a.roles.push(role.to_owned());
        }
        self
    }
    /// Adds an image.
    #[must_use]
    pub fn image(mut self, image: ImageSeed) -> Self {
        self.world.images.push(image);
        self
    }
    /// Sets the fault plan.
    #[must_use]
    pub fn faults(mut self, faults: FaultPlan) -> Self {
        self.world.faults = faults;
        self
    }
    /// Sets how long copies stay `creating`.
    #[must_use]
    pub fn copy_ready_after_ms(mut self, ms: u64) -> Self {
        self.world.copy_ready_after_ms = ms;
        self
    }
    /// Sets how long copies take per GiB of their source (see [`copies`]).
    #[must_use]
    pub fn copy_ms_per_gib(mut self, ms: u64) -> Self {
        self.world.copy_ms_per_gib = ms;
        self
    }
    /// Adds another copy time for copies into a region (see [`copies`]).
    #[must_use]
    pub fn copy_time(mut self, time: CopyTime) -> Self {
        self.world.copy_times.push(time);
        self
    }
    /// Holds CVM and Lighthouse sync sources busy while their copies are made (see
    /// [`copies`]).
    #[must_use]
    pub fn copy_source_busy(mut self, busy: bool) -> Self {
        self.world.copy_source_busy = busy;
        self
    }
    /// Adds copies that fail (see [`copies`]).
    #[must_use]
    pub fn copy_fault(mut self, fault: CopyFault) -> Self {
        self.world.copy_faults.push(fault);
        self
    }
    /// Adds a role.
    #[must_use]
    pub fn role_seed(mut self, role: RoleSeed) -> Self {
        self.world.roles.push(role);
        self
    }
    /// Registers an OIDC identity provider.
    #[must_use]
    pub fn oidc_provider(mut self, provider: OidcProviderSeed) -> Self {
        self.world.oidc_providers.push(provider);
        self
    }
    /// Sets the lifetime of every issued credential.
    #[must_use]
    pub fn credentials_ttl_secs(mut self, secs: u64) -> Self {
        self.world.sts.credentials_ttl_secs = Some(secs);
        self
    }
    /// Fixes the request ids' seed (see [`World::seed`]).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.world.seed = Some(seed);
        self
    }
    /// Accepts any well-formed account id as existing (see [`World::accept_any_account`]).
    #[must_use]
    pub fn accept_any_account(mut self, accept: bool) -> Self {
        self.world.accept_any_account = accept;
        self
    }
    /// Makes the Alibaba metadata service require an IMDSv2 token.
    #[must_use]
    pub fn imdsv2_required(mut self, required: bool) -> Self {
        self.world.metadata.imdsv2_required = required;
        self
    }
    /// Validates and returns the world.
    pub fn build(self) -> Result<World, WorldError> {
        self.world.validate()?;
        Ok(self.world)
    }
}
