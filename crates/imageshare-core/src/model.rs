//! The domain model shared by every adapter: providers, regions, images, principals,
//! sharees and share reports.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::time::Timestamp;

/// The identity of one image-sharing surface (`alibaba-ecs`, `tencent-cvm`, ...): a stable
/// kebab-case name. Core knows no provider: each provider crate declares its own with
/// [`Provider::new`] (e.g. `imageshare_tencent::CVM`), and the facade's registry lists
/// the ones compiled in. Cheap to copy, compared and ordered by name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Provider(&'static str);

impl Provider {
    /// Longest provider name accepted.
    pub const MAX_NAME_LEN: usize = 40;

    /// A provider named `name`: 1 to [`Provider::MAX_NAME_LEN`] lowercase ASCII letters,
    /// digits and `-`, starting with a letter. Checked at compile time in a `const`.
    ///
    /// # Panics
    /// When `name` is not such a name.
    #[must_use]
    pub const fn new(name: &'static str) -> Provider {
        assert!(
            Self::is_valid_name(name),
            "a provider name is lowercase kebab-case"
        );
        Provider(name)
    }

    const fn is_valid_name(name: &str) -> bool {
        let b = name.as_bytes();
        if b.is_empty() || b.len() > Self::MAX_NAME_LEN || !b[0].is_ascii_lowercase() {
            return false;
        }
        let mut i = 0;
        while i < b.len() {
            if !(b[i].is_ascii_lowercase() || b[i].is_ascii_digit() || b[i] == b'-') {
                return false;
            }
            i += 1;
        }
        true
    }

    /// The stable, kebab-case name used by the CLI, manifests and logs (`alibaba-ecs`, ...).
    #[must_use]
    pub fn name(self) -> &'static str {
        self.0
    }

    /// The provider of a name read at run time (a manifest, an audit record). Any
    /// well-formed name is accepted: whether a provider of that name is compiled in is the
    /// facade registry's to say. Each distinct name is kept once for the process.
    pub fn from_name(name: &str) -> Result<Provider, Error> {
        if !Self::is_valid_name(name) {
            return Err(Error::invalid_input(
                "provider",
                format!(
                    "{name:?} is not a provider name (lowercase letters, digits and `-`, at \
                     most {} characters, e.g. cloud-product)",
                    Self::MAX_NAME_LEN
                ),
            ));
        }
        static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
        let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = names.iter().find(|n| **n == name) {
            return Ok(Provider(known));
        }
        let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
        names.push(leaked);
        Ok(Provider(leaked))
    }
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Provider {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Provider {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Provider::from_name(&name).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for Provider {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::from_name(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOUD: Provider = Provider::new("example-cloud");

    #[test]
    fn serde_names_are_the_names() {
        let json = serde_json::to_string(&CLOUD).unwrap();
        assert_eq!(json, "\"example-cloud\"");
        assert_eq!(serde_json::from_str::<Provider>(&json).unwrap(), CLOUD);
        assert_eq!("example-cloud".parse::<Provider>().unwrap(), CLOUD);
        assert_eq!(format!("{CLOUD} {CLOUD:?}"), "example-cloud example-cloud");
        // A name read twice is kept once.
        let a = Provider::from_name("other-cloud").unwrap();
        let b = Provider::from_name("other-cloud").unwrap();
        assert!(std::ptr::eq(a.name(), b.name()));
        for bad in ["", "Tencent", "a b", "-x", "x_y", &"a".repeat(41)] {
            let e = Provider::from_name(bad).unwrap_err();
            assert!(e.to_string().contains("is not a provider name"), "{e}");
            assert!(serde_json::from_str::<Provider>(&format!("{bad:?}")).is_err());
        }
    }

    #[test]
    fn region_ids_are_letters_digits_and_dashes() {
        for ok in ["cn-hangzhou", "ap-guangzhou", "cn-bj2", "hk", "us-east-1"] {
            assert!(
                Region::from(ok).check(CLOUD, "cn-bj2", "region").is_ok(),
                "{ok}"
            );
        }
        let long = "a".repeat(Region::MAX_LEN + 1);
        for (bad, says) in [
            ("", "it is empty"),
            ("cn hangzhou", "' ' is not allowed"),
            ("cn-bj2&x=1", "'&' is not allowed"),
            ("cn-bj2\r\nX-Injected: 1", "'\\r' is not allowed"),
            ("cn_hangzhou", "'_' is not allowed"),
            (long.as_str(), "65 characters, at most 64"),
        ] {
            let e = Region::from(bad)
                .check(CLOUD, "cn-hangzhou", "region")
                .unwrap_err();
            assert!(
                matches!(&e, Error::InvalidInput { field, .. } if field == "region"),
                "{e:?}"
            );
            let text = e.to_string();
            assert!(
                text.contains("is not a region id of example-cloud"),
                "{text}"
            );
            assert!(text.contains(says), "{bad:?}: {text}");
            assert!(text.contains("e.g. cn-hangzhou"), "{text}");
        }
    }

    #[test]
    fn share_report_keeps_request_ids_in_call_order() {
        let mut r = ShareReport::new(ImageId::from("m-1"));
        assert_eq!(r.request_id(), None);
        r.add_request_id("");
        assert!(r.request_ids().is_empty(), "an empty id is not recorded");
        let mut r = r.with_request_id("req-1");
        assert_eq!(r.request_id(), Some("req-1"));
        r.extend(ShareReport::new(ImageId::from("m-1")).with_request_id("req-2"));
        assert_eq!(r.request_id(), Some("req-2"));
        assert_eq!(r.request_ids(), ["req-1", "req-2"]);
    }
}

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a string verbatim (no validation: adapters and the limit checker validate).
            pub fn new(s: impl Into<String>) -> Self {
                Self(s.into())
            }
            /// The identifier as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_newtype!(
    /// A cloud region id as the provider spells it (`cn-hangzhou`, `ap-guangzhou`, `cn-bj2`).
    Region
);
impl Region {
    /// Longest region id [`Region::check`] accepts.
    pub const MAX_LEN: usize = 64;

    /// Checks that this is a well-formed region id of `provider` (whose regions look like
    /// `example`, named in the error): 1 to
    /// [`Region::MAX_LEN`] ASCII letters, digits and `-` (`cn-hangzhou`, `ap-guangzhou`,
    /// `cn-bj2`, `hk`), so nothing in it can change the query string, form body or header
    /// it is sent in. Whether the region exists is the provider's to say. On failure,
    /// [`Error::InvalidInput`] for `field` (`region`, `target region`, ...).
    pub fn check(&self, provider: Provider, example: &str, field: &str) -> Result<(), Error> {
        let s = self.as_str();
        let why = if s.is_empty() {
            "it is empty".to_owned()
        } else if s.len() > Self::MAX_LEN {
            format!("{} characters, at most {}", s.len(), Self::MAX_LEN)
        } else if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            format!("{c:?} is not allowed")
        } else {
            return Ok(());
        };
        Err(Error::invalid_input(
            field,
            format!(
                "{s:?} is not a region id of {provider} ({why}; letters, digits and `-` \
                 only, e.g. {example})"
            ),
        ))
    }
}

string_newtype!(
    /// A provider image id (`m-...`, `img-...`, `lhbp-...`, `uimage-...`). The form each
    /// provider accepts is [`ImageIdRule`](crate::limits::ImageIdRule).
    ImageId
);
string_newtype!(
    /// A provider account id (Alibaba account UID, Tencent root-account UIN).
    AccountId
);
string_newtype!(
    /// A UCloud project id (`org-...`).
    ProjectId
);

/// Which Alibaba Cloud site an account belongs to. Some surfaces (SAS) refuse to share
/// between the China site and the international site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Site {
    /// aliyun.com / cloud.tencent.com (mainland China site).
    China,
    /// alibabacloud.com / tencentcloud.com (international site).
    International,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Site::China => "china",
            Site::International => "international",
        })
    }
}

/// Who an image is shared with: another account, or (UCloud) a project, or (Alibaba
/// Resource Sharing) a resource directory, one of its folders or one of its members.
///
/// The printed form is `kind:id` (`account:1234567890`, `project:org-1`,
/// `directory:rd-3G6Z2a`, `folder:fd-bVaRIG`, `member:1234567890`), and
/// [`Principal::parse_prefixed`] reads it back. The organisation kinds exist on Alibaba
/// Cloud only ([`PrincipalKind::is_org`]); every other provider's limit checker refuses
/// them with the `principal-kind` rule before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Principal {
    /// An account id (Alibaba, Tencent).
    Account(AccountId),
    /// A project id (UCloud).
    Project(ProjectId),
    /// A whole resource directory, by its id (`rd-...`): every member account, present
    /// and future (Alibaba Resource Sharing).
    Directory(String),
    /// A folder of a resource directory (`fd-...`): every member account in it and in its
    /// sub-folders, present and future (Alibaba Resource Sharing).
    Folder(String),
    /// One member account of the caller's resource directory, by account id (Alibaba
    /// Resource Sharing; an outside account needs the share's `AllowExternalTargets`).
    Member(AccountId),
}

impl Principal {
    /// An account principal.
    pub fn account(id: impl Into<String>) -> Self {
        Principal::Account(AccountId::new(id))
    }
    /// A project principal.
    pub fn project(id: impl Into<String>) -> Self {
        Principal::Project(ProjectId::new(id))
    }
    /// A resource-directory principal (`rd-...`).
    pub fn directory(id: impl Into<String>) -> Self {
        Principal::Directory(id.into())
    }
    /// A resource-directory folder principal (`fd-...`).
    pub fn folder(id: impl Into<String>) -> Self {
        Principal::Folder(id.into())
    }
    /// A resource-directory member principal (an account id).
    pub fn member(id: impl Into<String>) -> Self {
        Principal::Member(AccountId::new(id))
    }
    /// The raw id, whatever the kind.
    #[must_use]
    pub fn id(&self) -> &str {
        match self {
            Principal::Account(a) | Principal::Member(a) => a.as_str(),
            Principal::Project(p) => p.as_str(),
            Principal::Directory(id) | Principal::Folder(id) => id,
        }
    }
    /// The kind of this principal.
    #[must_use]
    pub fn kind(&self) -> PrincipalKind {
        match self {
            Principal::Account(_) => PrincipalKind::Account,
            Principal::Project(_) => PrincipalKind::Project,
            Principal::Directory(_) => PrincipalKind::Directory,
            Principal::Folder(_) => PrincipalKind::Folder,
            Principal::Member(_) => PrincipalKind::Member,
        }
    }
    /// A principal of `kind` with `id`.
    pub fn of_kind(kind: PrincipalKind, id: impl Into<String>) -> Self {
        match kind {
            PrincipalKind::Account => Principal::account(id),
            PrincipalKind::Project => Principal::project(id),
            PrincipalKind::Directory => Principal::directory(id),
            PrincipalKind::Folder => Principal::folder(id),
            PrincipalKind::Member => Principal::member(id),
        }
    }
    /// Reads the printed form `kind:id` (the inverse of `Display`; the id is trimmed).
    /// `None` when `s` has no known `kind:` prefix, so that callers can read a bare id as
    /// their provider's default kind.
    #[must_use]
    pub fn parse_prefixed(s: &str) -> Option<Principal> {
        let (kind, id) = s.trim().split_once(':')?;
        let kind = PrincipalKind::ALL.into_iter().find(|k| k.name() == kind)?;
        Some(Principal::of_kind(kind, id.trim()))
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.id())
    }
}

impl Principal {
    /// `principals` without repeats, first occurrences in order: the one dedupe of the
    /// data path (the limit checker's, the bulk engine's), O(n).
    #[must_use]
    pub fn dedupe(principals: &[Principal]) -> Vec<Principal> {
        let mut seen = std::collections::HashSet::with_capacity(principals.len());
        principals
            .iter()
            .filter(|p| seen.insert(*p))
            .cloned()
            .collect()
    }
}

/// The kind of principal a provider shares to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PrincipalKind {
    /// Accounts.
    Account,
    /// Projects.
    Project,
    /// Resource directories (Alibaba Resource Sharing).
    Directory,
    /// Resource-directory folders (Alibaba Resource Sharing).
    Folder,
    /// Resource-directory members (Alibaba Resource Sharing).
    Member,
}

impl PrincipalKind {
    /// Every kind.
    pub const ALL: [PrincipalKind; 5] = [
        PrincipalKind::Account,
        PrincipalKind::Project,
        PrincipalKind::Directory,
        PrincipalKind::Folder,
        PrincipalKind::Member,
    ];
    /// The kind's name, as printed before the id (`folder` in `folder:fd-1`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            PrincipalKind::Account => "account",
            PrincipalKind::Project => "project",
            PrincipalKind::Directory => "directory",
            PrincipalKind::Folder => "folder",
            PrincipalKind::Member => "member",
        }
    }
    /// Whether this is a resource-directory kind (directory, folder, member): shared
    /// through Alibaba Resource Sharing rather than an image's own share list.
    #[must_use]
    pub fn is_org(self) -> bool {
        matches!(
            self,
            PrincipalKind::Directory | PrincipalKind::Folder | PrincipalKind::Member
        )
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an image came from, as far as sharing rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ImageOrigin {
    /// A custom image created in the caller's own account.
    Custom,
    /// A custom image built from a marketplace image (carries a product code).
    MarketplaceDerived,
    /// An image another account shared with the caller.
    Received,
    /// A public (provider-supplied) or community image.
    Public,
}

impl fmt::Display for ImageOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageOrigin::Custom => "custom",
            ImageOrigin::MarketplaceDerived => "marketplace-derived",
            ImageOrigin::Received => "received",
            ImageOrigin::Public => "public",
        })
    }
}

/// What an image captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ImageKind {
    /// A system-disk image.
    SystemDisk,
    /// A whole-machine (whole-instance) image with data disks.
    WholeMachine,
    /// An image of a lightweight host (SAS, Lighthouse, UCloud ULHost).
    LightweightHost,
}

impl fmt::Display for ImageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageKind::SystemDisk => "system-disk",
            ImageKind::WholeMachine => "whole-machine",
            ImageKind::LightweightHost => "lightweight-host",
        })
    }
}

/// Whether, and how, an image is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Encryption {
    /// Not encrypted.
    None,
    /// Encrypted with the provider's service key (never shareable on ECS).
    ServiceKey,
    /// Encrypted with a customer-managed key (CMK).
    CustomerKey,
    /// Encrypted, key type not reported by the API.
    Unknown,
    /// The API does not say whether the image is encrypted (Tencent Lighthouse, SAS,
    /// UCloud; Tencent CVM when CBS `DescribeSnapshots` cannot say): the client cannot
    /// check encryption rules, the server does.
    NotReported,
}

impl Encryption {
    /// True when the image is known to be encrypted.
    #[must_use]
    pub fn is_encrypted(self) -> bool {
        matches!(
            self,
            Encryption::ServiceKey | Encryption::CustomerKey | Encryption::Unknown
        )
    }
}

/// The lifecycle state of an image, normalised across providers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ImageState {
    /// Usable (Alibaba `Available`, Tencent `NORMAL`, UCloud `Available`).
    Available,
    /// Being created, copied, synced or imported.
    Pending,
    /// Creation, copy or import failed.
    Failed,
    /// Deprecated or unavailable.
    Unavailable,
    /// Any other provider state, verbatim.
    Other(String),
}

impl fmt::Display for ImageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageState::Available => f.write_str("available"),
            ImageState::Pending => f.write_str("pending"),
            ImageState::Failed => f.write_str("failed"),
            ImageState::Unavailable => f.write_str("unavailable"),
            ImageState::Other(s) => f.write_str(s),
        }
    }
}

/// An image as the limit checker and callers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Image {
    /// The provider image id.
    pub id: ImageId,
    /// Display name.
    pub name: String,
    /// Owning account (or project, on UCloud), when the API reports it.
    pub owner: Option<Principal>,
    /// The owner's site, when known (Alibaba China vs international).
    pub owner_site: Option<Site>,
    /// Region the image lives in.
    pub region: Region,
    /// Lifecycle state.
    pub state: ImageState,
    /// Where the image came from.
    pub origin: ImageOrigin,
    /// Encryption.
    pub encryption: Encryption,
    /// What the image captures.
    pub kind: ImageKind,
    /// Creation time, when the provider reports one it can read (JSON: RFC 3339 UTC).
    pub created_at: Option<Timestamp>,
    /// How far a copy being made has come, in percent, when the provider reports it (ECS
    /// `Progress`, CVM `SyncPercent`); `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
}

impl Image {
    /// An image `id` in `region`, with no name, owner, creation time or progress, and
    /// otherwise a custom, available system-disk image whose encryption is not reported;
    /// the `with_*` setters change each field.
    ///
    /// ```
    /// use imageshare_core::{Encryption, Image, ImageState, Principal};
    ///
    /// let image = Image::new("m-1", "cn-hangzhou")
    ///     .with_name("golden")
    ///     .with_owner(Some(Principal::account("100000000001")))
    ///     .with_state(ImageState::Pending)
    ///     .with_encryption(Encryption::None);
    /// assert_eq!(image.name, "golden");
    /// ```
    #[must_use]
    pub fn new(id: impl Into<ImageId>, region: impl Into<Region>) -> Self {
        Image {
            id: id.into(),
            name: String::new(),
            owner: None,
            owner_site: None,
            region: region.into(),
            state: ImageState::Available,
            origin: ImageOrigin::Custom,
            encryption: Encryption::NotReported,
            kind: ImageKind::SystemDisk,
            created_at: None,
            progress: None,
        }
    }
    /// The same with another id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<ImageId>) -> Self {
        self.id = id.into();
        self
    }
    /// The same with display name `name`.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
    /// The same with owner `owner` (`None`: not reported).
    #[must_use]
    pub fn with_owner(mut self, owner: Option<Principal>) -> Self {
        self.owner = owner;
        self
    }
    /// The same with the owner's site `site` (`None`: not known).
    #[must_use]
    pub fn with_owner_site(mut self, site: Option<Site>) -> Self {
        self.owner_site = site;
        self
    }
    /// The same in another region.
    #[must_use]
    pub fn with_region(mut self, region: impl Into<Region>) -> Self {
        self.region = region.into();
        self
    }
    /// The same in lifecycle state `state`.
    #[must_use]
    pub fn with_state(mut self, state: ImageState) -> Self {
        self.state = state;
        self
    }
    /// The same with origin `origin`.
    #[must_use]
    pub fn with_origin(mut self, origin: ImageOrigin) -> Self {
        self.origin = origin;
        self
    }
    /// The same with encryption `encryption`.
    #[must_use]
    pub fn with_encryption(mut self, encryption: Encryption) -> Self {
        self.encryption = encryption;
        self
    }
    /// The same of kind `kind`.
    #[must_use]
    pub fn with_kind(mut self, kind: ImageKind) -> Self {
        self.kind = kind;
        self
    }
    /// The same created at `created_at` (`None`: not reported).
    #[must_use]
    pub fn with_created_at(mut self, created_at: Option<Timestamp>) -> Self {
        self.created_at = created_at;
        self
    }
    /// The same with copy progress `progress`, in percent (`None`: not reported).
    #[must_use]
    pub fn with_progress(mut self, progress: Option<u8>) -> Self {
        self.progress = progress;
        self
    }
}

/// Who the credentials of an adapter act as: what `imageshare whoami` prints. Filled from
/// the cloud's caller-identity action (Alibaba Cloud and Tencent Cloud STS
/// `GetCallerIdentity`) and the credential source that was used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CallerIdentity {
    /// The provider.
    pub provider: Provider,
    /// The account the credentials act as (UCloud: the project, when no account id is
    /// reported).
    pub account: String,
    /// The principal's ARN, when the cloud reports one (a RAM user, an assumed role).
    pub arn: Option<String>,
    /// Where the credentials came from (`environment variable ...`, `role ... assumed
    /// with ...`); never a secret.
    pub source: String,
    /// When temporary credentials expire; `None` for long-term keys.
    pub expires: Option<crate::time::Timestamp>,
}

impl CallerIdentity {
    /// An identity of `provider`: `account`, from `source`.
    pub fn new(provider: Provider, account: impl Into<String>, source: impl Into<String>) -> Self {
        CallerIdentity {
            provider,
            account: account.into(),
            arn: None,
            source: source.into(),
            expires: None,
        }
    }
    /// The same with the principal's `arn`.
    #[must_use]
    pub fn with_arn(mut self, arn: Option<String>) -> Self {
        self.arn = arn;
        self
    }
    /// The same, expiring at `expires`.
    #[must_use]
    pub fn with_expires(mut self, expires: Option<crate::time::Timestamp>) -> Self {
        self.expires = expires;
        self
    }
}

/// One principal an image is shared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Sharee {
    /// Who.
    pub principal: Principal,
    /// When the grant was made, when the provider reports it (JSON: RFC 3339 UTC).
    pub shared_at: Option<Timestamp>,
}

impl Sharee {
    /// A grant to `principal`, with no grant time.
    #[must_use]
    pub fn new(principal: Principal) -> Self {
        Sharee {
            principal,
            shared_at: None,
        }
    }
    /// The same, granted at `shared_at` (`None`: not reported).
    #[must_use]
    pub fn with_shared_at(mut self, shared_at: Option<Timestamp>) -> Self {
        self.shared_at = shared_at;
        self
    }
}

/// Where `copy` puts the new image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CopyTarget {
    /// A copy owned by the caller in the same region (e.g. a recipient's own copy of a
    /// received image).
    OwnCopy {
        /// Name of the new image; the provider default when `None`.
        name: Option<String>,
    },
    /// A copy in another region.
    Region {
        /// Destination region.
        region: Region,
        /// Name of the new image; the provider default when `None`.
        name: Option<String>,
    },
    /// A copy into another project (UCloud), optionally in another region.
    Project {
        /// Destination project.
        project: ProjectId,
        /// Destination region; the source region when `None`.
        region: Option<Region>,
        /// Name of the new image; the provider default when `None`.
        name: Option<String>,
    },
}

/// The outcome for one principal of a share or unshare request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ShareOutcome {
    /// The grant was created.
    Granted,
    /// The principal already had a grant; nothing was sent for it.
    AlreadyGranted,
    /// The grant was removed.
    Revoked,
    /// The principal had no grant; nothing was sent for it.
    NotGranted,
    /// The request carrying this principal failed.
    Failed(Arc<Error>),
}

/// What happened to one principal, without the error: for counting and filtering a
/// [`ShareReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum OutcomeKind {
    /// The grant was created.
    Granted,
    /// The principal already had a grant.
    AlreadyGranted,
    /// The grant was removed.
    Revoked,
    /// The principal had no grant.
    NotGranted,
    /// The request carrying this principal failed.
    Failed,
}

impl OutcomeKind {
    /// Every kind, in display order.
    pub const ALL: [OutcomeKind; 5] = [
        OutcomeKind::Granted,
        OutcomeKind::AlreadyGranted,
        OutcomeKind::Revoked,
        OutcomeKind::NotGranted,
        OutcomeKind::Failed,
    ];

    /// A short stable label (`granted`, `already-granted`, `revoked`, `not-granted`, `failed`).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            OutcomeKind::Granted => "granted",
            OutcomeKind::AlreadyGranted => "already-granted",
            OutcomeKind::Revoked => "revoked",
            OutcomeKind::NotGranted => "not-granted",
            OutcomeKind::Failed => "failed",
        }
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl ShareOutcome {
    /// What happened, without the error.
    #[must_use]
    pub fn kind(&self) -> OutcomeKind {
        match self {
            ShareOutcome::Granted => OutcomeKind::Granted,
            ShareOutcome::AlreadyGranted => OutcomeKind::AlreadyGranted,
            ShareOutcome::Revoked => OutcomeKind::Revoked,
            ShareOutcome::NotGranted => OutcomeKind::NotGranted,
            ShareOutcome::Failed(_) => OutcomeKind::Failed,
        }
    }
    /// True for `Failed`.
    #[must_use]
    pub fn is_failure(&self) -> bool {
        matches!(self, ShareOutcome::Failed(_))
    }
    /// True when the state changed (granted or revoked).
    #[must_use]
    pub fn is_change(&self) -> bool {
        matches!(self, ShareOutcome::Granted | ShareOutcome::Revoked)
    }
    /// A short stable label (`granted`, `already-granted`, `revoked`, `not-granted`, `failed`).
    #[must_use]
    pub fn label(&self) -> &'static str {
        self.kind().label()
    }
}

impl fmt::Display for ShareOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShareOutcome::Failed(e) => write!(f, "failed: {e}"),
            other => f.write_str(other.label()),
        }
    }
}

/// Per-principal result of a share or unshare, in request order (after de-duplication),
/// with the request ids of the API calls that produced it (for an audit trail), and the
/// principals for which no call was sent because an earlier call of the same request was
/// refused ([`ShareReport::not_attempted`], [`ShareReport::stopped_by`]).
///
/// ```
/// use std::sync::Arc;
/// use imageshare_core::{Error, ImageId, OutcomeKind, Principal, ShareOutcome, ShareReport};
///
/// // What `share` returns (built by hand here).
/// let mut report = ShareReport::new(ImageId::from("img-6pb6lrmy")).with_request_id("req-1");
/// report.push(Principal::account("100000000002"), ShareOutcome::Granted);
/// report.push(Principal::account("100000000003"), ShareOutcome::AlreadyGranted);
///
/// for (who, outcome) in report.iter() {
///     println!("{who}: {outcome}"); // 100000000002: granted
/// }
/// assert_eq!(report.count(OutcomeKind::Granted), 1);
/// assert_eq!(report.count(OutcomeKind::AlreadyGranted), 1);
/// assert_eq!(report.summary(), "1 granted, 1 already-granted");
/// assert_eq!(report.request_id(), Some("req-1"));
/// assert!(report.is_complete());
///
/// // A failed principal makes the report partial: `into_result` turns it into an error,
/// // so `?` never hides it.
/// let refused = Error::invalid_input("principal", "not an account id");
/// report.push(Principal::account("x"), ShareOutcome::Failed(Arc::new(refused)));
/// assert_eq!(report.failures().count(), 1);
/// match report.into_result() {
///     Err(Error::Partial(report)) => assert_eq!(report.count(OutcomeKind::Failed), 1),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone)]
pub struct ShareReport {
    /// The image the report is about.
    pub image: ImageId,
    entries: Vec<(Principal, ShareOutcome)>,
    request_ids: Vec<String>,
    /// Boxed: most reports have none, and a report travels inside errors.
    stopped: Option<Box<Stopped>>,
}

/// Principals not attempted after a refusal, and that refusal.
#[derive(Debug, Clone)]
struct Stopped {
    not_attempted: Vec<Principal>,
    cause: Arc<Error>,
}

impl ShareReport {
    /// An empty report for `image`, with no request id.
    #[must_use]
    pub fn new(image: ImageId) -> Self {
        Self {
            image,
            entries: Vec::new(),
            request_ids: Vec::new(),
            stopped: None,
        }
    }
    /// Records `principals` as not attempted: an earlier call of the same request was
    /// refused with `cause` (an error that is not retried), so nothing was sent for them.
    /// The first cause recorded is kept.
    pub fn stop(&mut self, principals: impl IntoIterator<Item = Principal>, cause: Arc<Error>) {
        let stopped = self.stopped.get_or_insert_with(|| {
            Box::new(Stopped {
                not_attempted: Vec::new(),
                cause,
            })
        });
        stopped.not_attempted.extend(principals);
    }
    /// The principals for which nothing was sent (see [`ShareReport::stop`]), in request
    /// order. They are not among [`ShareReport::iter`]'s entries.
    #[must_use]
    pub fn not_attempted(&self) -> &[Principal] {
        self.stopped
            .as_ref()
            .map_or(&[], |s| s.not_attempted.as_slice())
    }
    /// The refusal after which the remaining principals were not attempted, if any.
    #[must_use]
    pub fn stopped_by(&self) -> Option<&Arc<Error>> {
        self.stopped.as_ref().map(|s| &s.cause)
    }
    /// The report with `request_id` recorded as the id of (one of) the API calls that
    /// produced it; an empty id is ignored.
    #[must_use]
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.add_request_id(request_id);
        self
    }
    /// Records the request id of an API call that contributed to the report (in call
    /// order); an empty id is ignored.
    pub fn add_request_id(&mut self, request_id: impl Into<String>) {
        let id = request_id.into();
        if !id.is_empty() {
            self.request_ids.push(id);
        }
    }
    /// The request id of the API call that produced the report: the last one when several
    /// calls did (batches, a retried conflict); `None` when no call was made or the
    /// provider sent none.
    pub fn request_id(&self) -> Option<&str> {
        self.request_ids.last().map(String::as_str)
    }
    /// The request ids of every API call that contributed, in call order.
    #[must_use]
    pub fn request_ids(&self) -> &[String] {
        &self.request_ids
    }
    /// Records the outcome for one principal.
    pub fn push(&mut self, principal: Principal, outcome: ShareOutcome) {
        self.entries.push((principal, outcome));
    }
    /// Records the same outcome for every principal of `principals`.
    pub fn push_all<'a>(
        &mut self,
        principals: impl IntoIterator<Item = &'a Principal>,
        outcome: ShareOutcome,
    ) {
        for p in principals {
            self.entries.push((p.clone(), outcome.clone()));
        }
    }
    /// Appends another report's entries and request ids (same image).
    pub fn extend(&mut self, other: ShareReport) {
        self.entries.extend(other.entries);
        self.request_ids.extend(other.request_ids);
        if let Some(other) = other.stopped {
            self.stop(other.not_attempted, other.cause);
        }
    }
    /// Iterates over `(principal, outcome)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&Principal, &ShareOutcome)> {
        self.entries.iter().map(|(p, o)| (p, o))
    }
    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// True when there are no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// The outcome for one principal, if it is in the report.
    #[must_use]
    pub fn outcome(&self, principal: &Principal) -> Option<&ShareOutcome> {
        self.entries
            .iter()
            .find(|(p, _)| p == principal)
            .map(|(_, o)| o)
    }
    /// Principals whose request failed.
    pub fn failures(&self) -> impl Iterator<Item = (&Principal, &Arc<Error>)> {
        self.entries.iter().filter_map(|(p, o)| match o {
            ShareOutcome::Failed(e) => Some((p, e)),
            _ => None,
        })
    }
    /// The first failure of the report: the error of the first principal whose request
    /// failed, in request order, else the refusal after which principals were not
    /// attempted ([`stopped_by`](Self::stopped_by)); `None` for a complete report. It is
    /// the [`source`](std::error::Error::source) of [`Error::Partial`].
    #[must_use]
    pub fn first_failure(&self) -> Option<&Arc<Error>> {
        self.failures()
            .map(|(_, e)| e)
            .next()
            .or_else(|| self.stopped_by())
    }
    /// Number of entries whose outcome is of this kind.
    #[must_use]
    pub fn count(&self, kind: OutcomeKind) -> usize {
        self.entries
            .iter()
            .filter(|(_, o)| o.kind() == kind)
            .count()
    }
    /// True when any entry failed.
    #[must_use]
    pub fn has_failures(&self) -> bool {
        self.entries.iter().any(|(_, o)| o.is_failure())
    }
    /// True when every principal was attempted and none failed.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        !self.has_failures() && self.not_attempted().is_empty()
    }
    /// Turns a report with failures or principals not attempted into `Error::Partial`, so
    /// a partial failure is never silent for a caller that uses `?`.
    pub fn into_result(self) -> Result<ShareReport, Error> {
        if !self.is_complete() {
            Err(Error::Partial(Box::new(self)))
        } else {
            Ok(self)
        }
    }
    /// The counts per outcome (`2 granted, 1 failed`), then the principals not attempted
    /// (`480 not-attempted`); `nothing to do` for an empty report.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for kind in OutcomeKind::ALL {
            let n = self.count(kind);
            if n > 0 {
                parts.push(format!("{n} {kind}"));
            }
        }
        if !self.not_attempted().is_empty() {
            parts.push(format!("{} not-attempted", self.not_attempted().len()));
        }
        if parts.is_empty() {
            "nothing to do".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

impl fmt::Display for ShareReport {
    /// `image: summary`, and when principals were not attempted, why, the first three of
    /// them and what to do (`m-1: 10 failed, 480 not-attempted; not sent after a refusal
    /// that is not retried (InvalidAccount.NotFound): account:1, account:2, account:3 and
    /// 477 more; fix the failed principals and run again`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.image, self.summary())?;
        let Some(stopped) = self
            .stopped
            .as_ref()
            .filter(|s| !s.not_attempted.is_empty())
        else {
            return Ok(());
        };
        let cause = stopped
            .cause
            .code()
            .map(|code| format!(" ({code})"))
            .unwrap_or_default();
        let mut names: Vec<String> = stopped
            .not_attempted
            .iter()
            .take(3)
            .map(ToString::to_string)
            .collect();
        let more = stopped.not_attempted.len() - names.len();
        if more > 0 {
            names.push(format!("and {more} more"));
        }
        write!(
            f,
            "; not sent after a refusal that is not retried{cause}: {}; fix the failed \
             principals and run again",
            names.join(", ")
        )
    }
}
