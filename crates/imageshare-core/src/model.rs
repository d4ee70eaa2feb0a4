//! The domain model shared by every adapter: providers, regions, images, principals,
//! sharees and share reports.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The image-sharing surfaces imageshare speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    /// Alibaba Cloud Elastic Compute Service (API 2014-05-26).
    AlibabaEcs,
    /// Alibaba Cloud Simple Application Server (SWAS-OPEN, API 2020-06-01).
    AlibabaSas,
    /// UCloud UHost (project-level sharing).
    #[serde(rename = "ucloud")]
    UCloud,
    /// Tencent Cloud CVM (API 2017-03-12).
    TencentCvm,
    /// Tencent Cloud Lighthouse blueprints (API 2020-03-24).
    TencentLighthouse,
}

impl Provider {
    /// Every provider, in a stable order.
    pub const ALL: [Provider; 5] = [
        Provider::AlibabaEcs,
        Provider::AlibabaSas,
        Provider::UCloud,
        Provider::TencentCvm,
        Provider::TencentLighthouse,
    ];

    /// The stable, kebab-case name used by the CLI and manifests (`alibaba-ecs`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Provider::AlibabaEcs => "alibaba-ecs",
            Provider::AlibabaSas => "alibaba-sas",
            Provider::UCloud => "ucloud",
            Provider::TencentCvm => "tencent-cvm",
            Provider::TencentLighthouse => "tencent-lighthouse",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_are_the_cli_names() {
        for p in Provider::ALL {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.name()));
            assert_eq!(serde_json::from_str::<Provider>(&json).unwrap(), p);
            assert_eq!(p.name().parse::<Provider>().unwrap(), p);
        }
    }

    #[test]
    fn region_ids_are_letters_digits_and_dashes() {
        for ok in ["cn-hangzhou", "ap-guangzhou", "cn-bj2", "hk", "us-east-1"] {
            assert!(
                Region::from(ok).check(Provider::UCloud, "region").is_ok(),
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
                .check(Provider::AlibabaEcs, "region")
                .unwrap_err();
            assert!(
                matches!(&e, Error::InvalidInput { field, .. } if field == "region"),
                "{e:?}"
            );
            let text = e.to_string();
            assert!(text.contains("is not a region id of alibaba-ecs"), "{text}");
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

impl std::str::FromStr for Provider {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let known: Vec<&str> = Provider::ALL.iter().map(|p| p.name()).collect();
                Error::invalid_input(
                    "provider",
                    format!(
                        "unknown provider {s:?}; known providers: {}",
                        known.join(", ")
                    ),
                )
            })
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

    /// Checks that this is a well-formed region id of `provider`: 1 to
    /// [`Region::MAX_LEN`] ASCII letters, digits and `-` (`cn-hangzhou`, `ap-guangzhou`,
    /// `cn-bj2`, `hk`), so nothing in it can change the query string, form body or header
    /// it is sent in. Whether the region exists is the provider's to say. On failure,
    /// [`Error::InvalidInput`] for `field` (`region`, `target region`, ...).
    pub fn check(&self, provider: Provider, field: &str) -> Result<(), Error> {
        let s = self.as_str();
        let example = match provider {
            Provider::AlibabaEcs | Provider::AlibabaSas => "cn-hangzhou",
            Provider::TencentCvm | Provider::TencentLighthouse => "ap-guangzhou",
            Provider::UCloud => "cn-bj2",
        };
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

/// Who an image is shared with: another account, or (UCloud) a project.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Principal {
    /// An account id (Alibaba, Tencent).
    Account(AccountId),
    /// A project id (UCloud).
    Project(ProjectId),
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
    /// The raw id, whatever the kind.
    pub fn id(&self) -> &str {
        match self {
            Principal::Account(a) => a.as_str(),
            Principal::Project(p) => p.as_str(),
        }
    }
    /// The kind of this principal.
    pub fn kind(&self) -> PrincipalKind {
        match self {
            Principal::Account(_) => PrincipalKind::Account,
            Principal::Project(_) => PrincipalKind::Project,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Account(a) => write!(f, "account:{a}"),
            Principal::Project(p) => write!(f, "project:{p}"),
        }
    }
}

/// The kind of principal a provider shares to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrincipalKind {
    /// Accounts.
    Account,
    /// Projects.
    Project,
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PrincipalKind::Account => "account",
            PrincipalKind::Project => "project",
        })
    }
}

/// Where an image came from, as far as sharing rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
pub enum Encryption {
    /// Not encrypted.
    None,
    /// Encrypted with the provider's service key (never shareable on ECS).
    ServiceKey,
    /// Encrypted with a customer-managed key (CMK).
    CustomerKey,
    /// Encrypted, key type not reported by the API.
    Unknown,
    /// The API does not say whether the image is encrypted (Tencent CVM and Lighthouse,
    /// SAS, UCloud): the client cannot check encryption rules, the server does.
    NotReported,
}

impl Encryption {
    /// True when the image is known to be encrypted.
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
    /// Creation time as the provider printed it (ISO 8601).
    pub created_at: Option<String>,
}

/// One principal an image is shared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sharee {
    /// Who.
    pub principal: Principal,
    /// When the grant was made, as the provider printed it (ISO 8601), if reported.
    pub shared_at: Option<String>,
}

/// Where `copy` puts the new image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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

impl ShareOutcome {
    /// True for `Failed`.
    pub fn is_failure(&self) -> bool {
        matches!(self, ShareOutcome::Failed(_))
    }
    /// True when the state changed (granted or revoked).
    pub fn is_change(&self) -> bool {
        matches!(self, ShareOutcome::Granted | ShareOutcome::Revoked)
    }
    /// A short stable label (`granted`, `already-granted`, `revoked`, `not-granted`, `failed`).
    pub fn label(&self) -> &'static str {
        match self {
            ShareOutcome::Granted => "granted",
            ShareOutcome::AlreadyGranted => "already-granted",
            ShareOutcome::Revoked => "revoked",
            ShareOutcome::NotGranted => "not-granted",
            ShareOutcome::Failed(_) => "failed",
        }
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
/// with the request ids of the API calls that produced it (for an audit trail).
#[derive(Debug, Clone)]
pub struct ShareReport {
    /// The image the report is about.
    pub image: ImageId,
    entries: Vec<(Principal, ShareOutcome)>,
    request_ids: Vec<String>,
}

impl ShareReport {
    /// An empty report for `image`, with no request id.
    pub fn new(image: ImageId) -> Self {
        Self {
            image,
            entries: Vec::new(),
            request_ids: Vec::new(),
        }
    }
    /// The report with `request_id` recorded as the id of (one of) the API calls that
    /// produced it; an empty id is ignored.
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
    }
    /// Iterates over `(principal, outcome)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&Principal, &ShareOutcome)> {
        self.entries.iter().map(|(p, o)| (p, o))
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// The outcome for one principal, if it is in the report.
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
    /// Number of entries whose outcome has this label.
    pub fn count(&self, label: &str) -> usize {
        self.entries
            .iter()
            .filter(|(_, o)| o.label() == label)
            .count()
    }
    /// True when any entry failed.
    pub fn has_failures(&self) -> bool {
        self.entries.iter().any(|(_, o)| o.is_failure())
    }
    /// Turns a report with failures into `Error::Partial`, so a partial failure is never
    /// silent for a caller that uses `?`.
    pub fn into_result(self) -> Result<ShareReport, Error> {
        if self.has_failures() {
            Err(Error::Partial(Box::new(self)))
        } else {
            Ok(self)
        }
    }
    /// One line per entry: `principal: outcome`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for label in [
            "granted",
            "already-granted",
            "revoked",
            "not-granted",
            "failed",
        ] {
            let n = self.count(label);
            if n > 0 {
                parts.push(format!("{n} {label}"));
            }
        }
        if parts.is_empty() {
            "nothing to do".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

impl fmt::Display for ShareReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.image, self.summary())
    }
}
