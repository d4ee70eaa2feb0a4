//! The plan/apply manifest: which principals each image must be shared with.
//!
//! ```toml
//! [[image]]
//! provider = "tencent-cvm"          # alibaba-ecs | alibaba-sas | tencent-cvm | tencent-lighthouse | ucloud
//! region = "ap-guangzhou"
//! id = "img-6pb6lrmy"
//! share_with = ["100000000002", "account:100000000003"]   # ids, or account:ID / project:ID
//! # alibaba-ecs also: "directory:rd-...", "folder:fd-...", "member:ID" (Resource Sharing)
//! prune = true                      # unshare principals not listed (default: false)
//! profile = "golden"                # optional: the named profile whose credentials act
//! role = "qcs::cam::uin/100000000001:roleName/image-publisher"  # optional: assume this role
//!
//! [[image]]
//! provider = "alibaba-ecs"
//! region = "cn-hangzhou"                  # where the source image lives
//! id = "m-bp18ygjuqnwhechc"
//! share_with = ["1234567890123456"]
//! regions = ["cn-shanghai", "cn-beijing"] # also copy into these regions and share every copy
//! ```
//!
//! `regions` distributes the image ([`distribute`](crate::distribute)): it is copied into
//! each listed region with the cloud's own copy action (ECS `CopyImage`, CVM
//! `SyncImages`, Lighthouse `SyncBlueprint`, UCloud `CopyCustomImage`), and the source and
//! every copy are shared with `share_with` (`prune` applies in every region). A copy is
//! found again by its name, so a re-run never copies twice. The listed regions must be
//! region ids of the provider, other than the entry's own `region`, each listed once; a
//! provider without a cross-region copy (Alibaba SAS) is refused at parse time naming the
//! rule (`cross-region-copy`), as is a region across a border its copy does not cross
//! (`copy-border`: Lighthouse between mainland China and elsewhere), from the provider's
//! copy table ([`crate::copy_limits_of`]).
//!
//! `profile` and `role` let one manifest share images owned by many accounts: an entry
//! is carried out with the credentials of `profile` (else the command's), and with `role`
//! assumed on top of them when given. Entries with the same provider, region, profile and
//! role share one connection. The audit trail records which identity acted.
//!
//! Every validation error names the file, the line and column, and the field. An entry is
//! checked against its provider before anything is sent: the region must be a region id
//! ([`Region::check`]), the id a custom image id of the provider
//! ([`ImageIdRule`](crate::limits::ImageIdRule)), every principal of the form the
//! provider shares to (a bare id, or `account:ID` / `project:ID` as `imageshare sharees`
//! prints it, of the kind the provider shares to; or, where the provider has organisation
//! sharing (Alibaba ECS with Resource Sharing), `directory:rd-...`, `folder:fd-...` or
//! `member:ID` of the organisation table's forms), and there may be no more distinct
//! principals of the image's own list than the provider shares one image with
//! (`max_sharees_per_image`; organisation targets are not counted). Organisation
//! principals are carried out only with organisation sharing on (the CLI's
//! `--resource-sharing`).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use imageshare_core::files::{read_text_capped, ReadFileError};
use imageshare_core::limits::ImageIdUse;
use imageshare_core::limits::OrgTargetLimits;
use imageshare_core::{Error, ImageId, Principal, PrincipalKind, Provider, Region};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// One image entry of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestImage {
    /// The provider.
    pub provider: Provider,
    /// The region (a well-formed region id of the provider).
    pub region: Region,
    /// The image id (a custom image id of the provider).
    pub id: ImageId,
    /// Who it must be shared with.
    pub share_with: Vec<Principal>,
    /// Whether to unshare principals not listed.
    pub prune: bool,
    /// Who acts for this entry: the profile and the role to assume (none: the command's
    /// credentials).
    #[serde(skip_serializing_if = "Identity::is_default")]
    pub identity: Identity,
    /// The regions the image is also copied into, every copy shared with `share_with`
    /// (empty: the image is shared in its own region only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<Region>,
    /// Line of the entry in the file (1-based).
    pub line: usize,
}

/// A parsed, validated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Where it was read from (`<string>` when parsed from text).
    pub path: PathBuf,
    /// The images, in file order.
    pub images: Vec<ManifestImage>,
}

/// The largest manifest read, in bytes (4 MiB: some 40 000 image entries).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// A manifest that cannot be used, with the place at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The field at fault (`image[2].share_with[1]`), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ManifestError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    image: Vec<Spanned<RawImage>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    provider: Spanned<String>,
    region: Spanned<String>,
    id: Spanned<String>,
    #[serde(default)]
    share_with: Vec<Spanned<String>>,
    #[serde(default)]
    prune: bool,
    #[serde(default)]
    profile: Option<Spanned<String>>,
    #[serde(default)]
    role: Option<Spanned<String>>,
    #[serde(default)]
    regions: Vec<Spanned<String>>,
}

/// Who carries out a manifest entry: a named profile of the cloud's profile file and a
/// role to assume; both `None`: the command's own credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Identity {
    /// The named profile whose credentials act.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The ARN of the role assumed with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl Identity {
    /// Whether this is the command's own identity (no profile, no role).
    #[must_use]
    pub fn is_default(&self) -> bool {
        self.profile.is_none() && self.role.is_none()
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.profile, &self.role) {
            (None, None) => f.write_str("the command's credentials"),
            (Some(p), None) => write!(f, "profile {p}"),
            (None, Some(r)) => write!(f, "role {r}"),
            (Some(p), Some(r)) => write!(f, "role {r} assumed with profile {p}"),
        }
    }
}

/// Checks a `profile` or `role` value: 1 to 256 characters, no white space or control
/// characters (each cloud checks its own role form when the role is assumed).
fn check_identity_value(what: &str, v: &str) -> Result<(), String> {
    if v.is_empty() || v.chars().count() > 256 {
        return Err(format!("a {what} has 1 to 256 characters"));
    }
    if let Some(c) = v.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{c:?} is not allowed in a {what}"));
    }
    Ok(())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

impl Manifest {
    /// Reads and validates a manifest file. Only a regular file (or a symbolic link to
    /// one) of at most [`MAX_MANIFEST_BYTES`] is read: a device, FIFO or directory is
    /// refused before it is opened, a larger file before it is read.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Manifest, ManifestError> {
        let path = path.as_ref();
        let fail = |message: String| ManifestError {
            path: path.to_owned(),
            line: None,
            column: None,
            field: None,
            message,
        };
        let text = read_text_capped(path, MAX_MANIFEST_BYTES).map_err(|e| match e {
            ReadFileError::NotAFile(kind) => fail(format!(
                "cannot read the manifest: it is {kind}, not a regular file; give the path of \
                 a TOML file (or `-` for standard input)"
            )),
            ReadFileError::TooLarge { max } => fail(format!(
                "the manifest is larger than {max} bytes; a manifest may be at most {max} \
                 bytes (split it into several files)"
            )),
            other => fail(format!("cannot read the manifest: {other}")),
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates manifest text; `path` is only used in error messages.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Manifest, ManifestError> {
        let path = path.as_ref().to_owned();
        let err = |span: Option<Range<usize>>, field: Option<String>, message: String| {
            let (line, column) = match span {
                Some(s) => {
                    let (l, c) = line_col(text, s.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            ManifestError {
                path: path.clone(),
                line,
                column,
                field,
                message,
            }
        };
        let raw: RawManifest = toml::from_str(text).map_err(|e| {
            // The TOML parser gives some errors (a control character in a comment) no
            // message: name the character at fault instead of printing nothing.
            let message = match e.message().trim() {
                "" => match e.span().and_then(|s| text.get(s.start..)?.chars().next()) {
                    Some(c) if c.is_control() => {
                        format!(
                            "control character U+{:04X} is not allowed here",
                            u32::from(c)
                        )
                    }
                    _ => "invalid TOML syntax".to_owned(),
                },
                m => m.to_owned(),
            };
            err(e.span(), None, message)
        })?;
        if raw.image.is_empty() {
            return Err(err(None, None, "no [[image]] entries".to_owned()));
        }
        let mut images = Vec::with_capacity(raw.image.len());
        let mut seen = std::collections::BTreeSet::new();
        for (i, entry) in raw.image.into_iter().enumerate() {
            let entry_span = entry.span();
            let img = entry.into_inner();
            let field = |name: &str| Some(format!("image[{i}].{name}"));
            let spec = crate::registry::lookup(img.provider.get_ref())
                .map_err(|e| err(Some(img.provider.span()), field("provider"), e.to_string()))?;
            let (provider, limits, org) = (spec.provider, spec.limits, spec.org_targets);
            for (name, v) in [("region", &img.region), ("id", &img.id)] {
                if v.get_ref().trim().is_empty() {
                    return Err(err(Some(v.span()), field(name), "must not be empty".into()));
                }
            }
            // The message of an `InvalidInput`, without its field (the manifest names it).
            let message = |e: Error| match e {
                Error::InvalidInput { message, .. } => message,
                other => other.to_string(),
            };
            limits
                .check_region(&Region::new(img.region.get_ref().as_str()), "region")
                .map_err(|e| err(Some(img.region.span()), field("region"), message(e)))?;
            let key = (
                provider,
                img.region.get_ref().clone(),
                img.id.get_ref().clone(),
            );
            if !seen.insert(key) {
                return Err(err(
                    Some(img.id.span()),
                    field("id"),
                    format!(
                        "image {} of {provider} in {} is listed twice",
                        img.id.get_ref(),
                        img.region.get_ref()
                    ),
                ));
            }
            limits
                .image_id_rule()
                .check(img.id.get_ref(), ImageIdUse::Custom)
                .map_err(|e| err(Some(img.id.span()), field("id"), message(e)))?;
            let mut share_with: Vec<Principal> = Vec::with_capacity(img.share_with.len());
            let mut first_too_many = None;
            // The per-image maximum counts the image's own share list, not the
            // organisation targets (a resource share of their own).
            let mut own = 0;
            for (j, who) in img.share_with.iter().enumerate() {
                let p = manifest_principal(who.get_ref(), limits.principal_kind, provider, org)
                    .map_err(|m| {
                        err(
                            Some(who.span()),
                            Some(format!("image[{i}].share_with[{j}]")),
                            m,
                        )
                    })?;
                let form = match org {
                    Some(org) if p.kind().is_org() => org.check_form(provider, &p),
                    _ => limits.check_principal_form(&p),
                };
                if let Err(e) = form {
                    return Err(err(
                        Some(who.span()),
                        Some(format!("image[{i}].share_with[{j}]")),
                        e.to_string(),
                    ));
                }
                if share_with.contains(&p) {
                    continue;
                }
                if !p.kind().is_org() {
                    own += 1;
                }
                share_with.push(p);
                if Some(own) == limits.max_sharees_per_image.map(|m| m + 1)
                    && first_too_many.is_none()
                {
                    first_too_many = Some((j, who.span()));
                }
            }
            if let (Some(max), Some((j, span))) = (limits.max_sharees_per_image, first_too_many) {
                let kind = limits.principal_kind;
                return Err(err(
                    Some(span),
                    Some(format!("image[{i}].share_with[{j}]")),
                    format!(
                        "{} distinct {kind}s for one image; {provider} shares one image with at \
                         most {max} {kind}s (this entry is the first one too many)",
                        own
                    ),
                ));
            }
            for (name, v) in [("profile", &img.profile), ("role", &img.role)] {
                if let Some(v) = v {
                    check_identity_value(name, v.get_ref())
                        .map_err(|m| err(Some(v.span()), field(name), m))?;
                }
            }
            let regions = check_regions(&img.regions, img.region.get_ref(), limits)
                .and_then(|regions| {
                    check_copies(provider, img.region.get_ref(), &regions)?;
                    Ok(regions)
                })
                .map_err(|(j, m)| {
                    err(
                        Some(img.regions[j].span()),
                        Some(format!("image[{i}].regions[{j}]")),
                        m,
                    )
                })?;
            images.push(ManifestImage {
                provider,
                region: Region::new(img.region.into_inner()),
                id: ImageId::new(img.id.into_inner()),
                share_with,
                prune: img.prune,
                identity: Identity {
                    profile: img.profile.map(Spanned::into_inner),
                    role: img.role.map(Spanned::into_inner),
                },
                regions,
                line: line_col(text, entry_span.start).0,
            });
        }
        Ok(Manifest { path, images })
    }
}

/// Checks an entry's `regions`: each a region id of the provider, not the entry's own
/// `region`, listed once. A failure is the index of the value at fault and what is wrong.
fn check_regions(
    raw: &[Spanned<String>],
    own: &str,
    limits: &imageshare_core::ShareLimits,
) -> Result<Vec<Region>, (usize, String)> {
    let mut regions: Vec<Region> = Vec::with_capacity(raw.len());
    for (j, r) in raw.iter().enumerate() {
        let value = r.get_ref().trim();
        if value.is_empty() {
            return Err((j, "must not be empty".into()));
        }
        let region = Region::new(value);
        limits
            .check_region(&region, "regions")
            .map_err(|e| match e {
                Error::InvalidInput { message, .. } => (j, message),
                other => (j, other.to_string()),
            })?;
        if value == own.trim() {
            return Err((
                j,
                format!(
                    "{value} is the image's own region: the image is shared there already; \
                     list only the regions to copy it into"
                ),
            ));
        }
        if regions.contains(&region) {
            return Err((j, format!("region {value} is listed twice")));
        }
        regions.push(region);
    }
    Ok(regions)
}

/// Checks that `provider` copies images across regions, and from `from` into each of
/// `regions` ([`crate::copy_limits_of`]: rules `cross-region-copy`, `copy-border`). A
/// failure is the index of the region at fault and the limit's refusal.
fn check_copies(provider: Provider, from: &str, regions: &[Region]) -> Result<(), (usize, String)> {
    let Some(first) = regions.first() else {
        return Ok(());
    };
    let Some(copy) = crate::copy_limits_of(provider) else {
        return Err((
            0,
            imageshare_core::copy_limits::no_cross_region_copy(provider, first).to_string(),
        ));
    };
    let from = Region::new(from.trim());
    for (j, r) in regions.iter().enumerate() {
        copy.check_pair(provider, &from, r)
            .map_err(|e| (j, e.to_string()))?;
    }
    Ok(())
}

/// A `share_with` entry: a bare id, of the kind `provider` shares to (`kind`), or the form
/// `sharees` and `audit` print, `account:ID` / `project:ID`, whose kind must be that one.
fn manifest_principal(
    raw: &str,
    kind: PrincipalKind,
    provider: Provider,
    org: Option<&OrgTargetLimits>,
) -> Result<Principal, String> {
    let raw = raw.trim();
    let p = Principal::parse_prefixed(raw).unwrap_or_else(|| Principal::of_kind(kind, raw));
    let named = p.kind();
    if named.is_org() {
        if org.is_none() {
            return Err(format!(
                "{provider} has no organisation sharing: {named}:ID principals are for \
                 alibaba-ecs (Resource Sharing); write the {kind} id, or {kind}:ID"
            ));
        }
        return Ok(p);
    }
    if named != kind {
        return Err(format!(
            "{provider} shares images with {kind}s, not {named}s: write the {kind} id, or \
             {kind}:ID"
        ));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[image]]
provider = "tencent-cvm"
region = "ap-guangzhou"
id = "img-6pb6lrmy"
share_with = ["100000000002", "100000000003"]
prune = true

[[image]]
provider = "ucloud"
region = "cn-bj2"
id = "uimage-golden01"
share_with = ["org-d4e5f6"]
"#;

    #[test]
    fn parses_a_good_manifest() {
        let m = Manifest::parse(GOOD, "m.toml").unwrap();
        assert_eq!(m.images.len(), 2);
        assert_eq!(m.images[0].provider.name(), "tencent-cvm");
        assert!(m.images[0].prune);
        assert_eq!(
            m.images[1].share_with,
            vec![Principal::project("org-d4e5f6")]
        );
        assert!(!m.images[1].prune);
    }

    fn error(text: &str) -> ManifestError {
        Manifest::parse(text, "m.toml").unwrap_err()
    }

    #[test]
    fn share_with_accepts_the_printed_forms() {
        // `account:ID` / `project:ID`, as `sharees` and `audit` print them, mixed with
        // bare ids; a repeat in the other form is the same principal.
        let text = GOOD
            .replace(
                "[\"100000000002\", \"100000000003\"]",
                "[\"account:100000000002\", \" account:100000000003\", \"100000000002\"]",
            )
            .replace("[\"org-d4e5f6\"]", "[\"project:org-d4e5f6\"]");
        let m = Manifest::parse(&text, "m.toml").unwrap();
        assert_eq!(
            m.images[0].share_with,
            [
                Principal::account("100000000002"),
                Principal::account("100000000003")
            ]
        );
        assert_eq!(m.images[1].share_with, [Principal::project("org-d4e5f6")]);
        // A kind the provider does not share to is refused, at its place.
        let e = error(&GOOD.replace("\"100000000003\"", "\"project:org-d4e5f6\""));
        assert_eq!(e.field.as_deref(), Some("image[0].share_with[1]"));
        assert!(
            e.message
                .contains("tencent-cvm shares images with accounts, not projects"),
            "{e}"
        );
        let e = error(&GOOD.replace("\"org-d4e5f6\"", "\"account:100000000002\""));
        assert!(e.message.contains("with projects, not accounts"), "{e}");
        // The form is checked after the prefix.
        let e = error(&GOOD.replace("\"100000000003\"", "\"account:bob@x.onaliyun.com\""));
        assert_eq!(e.field.as_deref(), Some("image[0].share_with[1]"));
    }

    #[test]
    fn organisation_principals_on_ecs_only_and_not_counted_against_the_image_list() {
        let entry = |provider: &str, region: &str, id: &str, who: &str| {
            format!(
                "[[image]]\nprovider = \"{provider}\"\nregion = \"{region}\"\nid = \"{id}\"\n\
                 share_with = [{who}]\n"
            )
        };
        // ECS: 50 accounts (its per-image maximum) and organisation targets besides.
        let accounts: Vec<String> = (0..50).map(|i| format!("\"1000000001{i:02}\"")).collect();
        let who = format!(
            "{}, \"directory:rd-Org1\", \" folder: fd-Prod \", \"member:100000000009\"",
            accounts.join(", ")
        );
        let m = Manifest::parse(
            &entry("alibaba-ecs", "cn-hangzhou", "m-golden0001", &who),
            "m.toml",
        )
        .unwrap();
        let sw = &m.images[0].share_with;
        assert_eq!(sw.len(), 53);
        assert_eq!(sw[50], Principal::directory("rd-Org1"));
        assert_eq!(sw[51], Principal::folder("fd-Prod"));
        assert_eq!(sw[52], Principal::member("100000000009"));
        // The account maximum still holds.
        let who = format!(
            "{}, \"100000000299\", \"folder:fd-Prod\"",
            accounts.join(", ")
        );
        let e = Manifest::parse(
            &entry("alibaba-ecs", "cn-hangzhou", "m-golden0001", &who),
            "m.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("51 distinct accounts"), "{e}");
        for (text, why) in [
            (
                entry(
                    "alibaba-ecs",
                    "cn-hangzhou",
                    "m-golden0001",
                    "\"folder:prod\"",
                ),
                "fd-",
            ),
            (
                entry(
                    "alibaba-sas",
                    "cn-hangzhou",
                    "m-golden0001",
                    "\"folder:fd-Prod\"",
                ),
                "no organisation sharing",
            ),
            (
                entry(
                    "tencent-cvm",
                    "ap-guangzhou",
                    "img-6pb6lrmy",
                    "\"directory:rd-1\"",
                ),
                "no organisation sharing",
            ),
        ] {
            let e = Manifest::parse(&text, "m.toml").unwrap_err().to_string();
            assert!(e.contains("share_with[0]") && e.contains(why), "{why}: {e}");
        }
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let e = error(&GOOD.replace("\"tencent-cvm\"", "\"aws\""));
        assert_eq!(e.line, Some(3));
        assert_eq!(e.field.as_deref(), Some("image[0].provider"));
        assert!(e.to_string().starts_with("m.toml:3:"), "{e}");
        assert!(e.message.contains("unknown provider"), "{e}");

        let e = error(&GOOD.replace("\"100000000003\"", "\"bob@x.onaliyun.com\""));
        assert_eq!(e.line, Some(6));
        assert_eq!(e.field.as_deref(), Some("image[0].share_with[1]"));

        let e = error(&GOOD.replace("\"org-d4e5f6\"", "\"100000000002\""));
        assert_eq!(e.field.as_deref(), Some("image[1].share_with[0]"));
        assert!(e.message.contains("project id"), "{e}");

        let e = error("[[image]]\nprovider = \"ucloud\"\nregion = \"cn-bj2\"\n");
        assert!(e.message.contains("id"), "{e}");
        let e = error("[[image]\nprovider = ");
        assert_eq!(e.line, Some(1), "{e}");
        let e = error(&format!("{GOOD}\nextra = 1\n"));
        assert!(e.message.contains("extra"), "{e}");
        let e = error(&format!(
            "{GOOD}\n[[image]]\nprovider = \"ucloud\"\nregion = \"cn-bj2\"\nid = \"uimage-golden01\"\n"
        ));
        assert!(e.message.contains("listed twice"), "{e}");
        let e = error("");
        assert!(e.message.contains("no [[image]]"), "{e}");
        let e = Manifest::from_file("/nonexistent/m.toml").unwrap_err();
        assert!(e.to_string().contains("/nonexistent/m.toml"), "{e}");
    }

    #[test]
    fn ids_and_regions_are_checked_against_the_provider() {
        // A CVM image id on a UCloud entry (line 12).
        let e = error(&GOOD.replace("\"uimage-golden01\"", "\"img-6pb6lrmy\""));
        assert_eq!((e.line, e.column), (Some(12), Some(6)), "{e}");
        assert_eq!(e.field.as_deref(), Some("image[1].id"));
        assert!(
            e.message
                .contains("ucloud custom image ids have the form uimage-<letters and digits>"),
            "{e}"
        );
        assert!(
            e.to_string()
                .starts_with("m.toml:12:6: image[1].id: \"img-6pb6lrmy\""),
            "{e}"
        );

        let e = error(&GOOD.replace("\"img-6pb6lrmy\"", "\"img-6pb6&Action=DeleteImages\""));
        assert_eq!((e.line, e.field.as_deref()), (Some(5), Some("image[0].id")));
        assert!(e.message.contains("'&' is not allowed"), "{e}");

        let e = error(&GOOD.replace("\"img-6pb6lrmy\"", &format!("\"img-{}\"", "a".repeat(200))));
        assert!(e.message.contains("204 characters, at most 128"), "{e}");

        let e = error(&GOOD.replace("\"cn-bj2\"", "\"cn-bj2&x=1\""));
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(11), Some("image[1].region"))
        );
        assert!(
            e.message
                .contains("\"cn-bj2&x=1\" is not a region id of ucloud"),
            "{e}"
        );
    }

    #[test]
    fn more_principals_than_the_provider_shares_one_image_with_are_refused() {
        // SAS shares one image with at most 10 accounts; duplicates count once.
        let mut ids: Vec<String> = (0..10).map(|i| format!("3{i:011}")).collect();
        ids.push(ids[0].clone());
        let entry = |ids: &[String]| {
            let list: Vec<String> = ids.iter().map(|p| format!("{p:?}")).collect();
            format!(
                "[[image]]\nprovider = \"alibaba-sas\"\nregion = \"cn-hangzhou\"\n\
                 id = \"m-sas000000001\"\nshare_with = [\n{}\n]\n",
                list.join(",\n")
            )
        };
        let m = Manifest::parse(&entry(&ids), "m.toml").unwrap();
        assert_eq!(m.images[0].share_with.len(), 10);

        ids.push("300000000099".into());
        ids.push("300000000098".into());
        let e = Manifest::parse(&entry(&ids), "m.toml").unwrap_err();
        // The 11th distinct account is the 12th entry (index 11), on line 17.
        assert_eq!(e.field.as_deref(), Some("image[0].share_with[11]"), "{e}");
        assert_eq!(e.line, Some(17), "{e}");
        assert!(
            e.message.contains(
                "12 distinct accounts for one image; alibaba-sas shares one image with at most \
                 10 accounts"
            ),
            "{e}"
        );
    }

    #[test]
    fn regions_are_region_ids_of_the_provider_other_than_its_own_listed_once() {
        let entry = |regions: &str| {
            format!(
                "[[image]]\nprovider = \"alibaba-ecs\"\nregion = \"cn-hangzhou\"\n\
                 id = \"m-bp18ygjuqnwhechc\"\nshare_with = [\"1234567890123456\"]\n\
                 regions = [{regions}]\n"
            )
        };
        let m = Manifest::parse(&entry("\"cn-shanghai\", \"cn-beijing\""), "m.toml").unwrap();
        assert_eq!(
            m.images[0].regions,
            [Region::new("cn-shanghai"), Region::new("cn-beijing")]
        );
        // Left out or empty: no distribution.
        let m = Manifest::parse(&entry(""), "m.toml").unwrap();
        assert!(m.images[0].regions.is_empty());
        assert!(Manifest::parse(GOOD, "m.toml").unwrap().images[0]
            .regions
            .is_empty());

        for (regions, column, why) in [
            (
                "\"cn-shanghai\", \"cn shanghai\"",
                27,
                "is not a region id of alibaba-ecs",
            ),
            ("\"cn-shanghai\", \" \"", 27, "must not be empty"),
            (
                "\"cn-shanghai\", \"cn-shanghai\"",
                27,
                "region cn-shanghai is listed twice",
            ),
            (
                "\"cn-hangzhou\"",
                12,
                "cn-hangzhou is the image's own region",
            ),
        ] {
            let e = error(&entry(regions));
            assert_eq!((e.line, e.column), (Some(6), Some(column)), "{e}");
            let j = usize::from(column != 12);
            assert_eq!(
                e.field.as_deref(),
                Some(format!("image[0].regions[{j}]").as_str()),
                "{e}"
            );
            assert!(e.message.contains(why), "{why}: {e}");
        }

        // A provider without cross-region copy, named by its rule, at the first region.
        let sas = entry("\"cn-shanghai\"")
            .replace("alibaba-ecs", "alibaba-sas")
            .replace("m-bp18ygjuqnwhechc", "m-sas000000001");
        let e = error(&sas);
        assert_eq!(e.field.as_deref(), Some("image[0].regions[0]"), "{e}");
        assert!(
            e.message.contains("limit cross-region-copy violated"),
            "{e}"
        );
        // A pair across the border of Lighthouse's SyncBlueprint.
        let lh = "[[image]]\nprovider = \"tencent-lighthouse\"\nregion = \"ap-guangzhou\"\n\
                  id = \"lhbp-abcd1234\"\nregions = [\"ap-shanghai\", \"ap-singapore\"]\n";
        let e = error(lh);
        assert_eq!(e.field.as_deref(), Some("image[0].regions[1]"), "{e}");
        assert!(e.message.contains("limit copy-border violated"), "{e}");
    }
}
