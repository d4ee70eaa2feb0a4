//! `imageshare limits`: the documented sharing limits of every provider, or of
//! `--provider`'s.

use std::fmt;

use imageshare::core::limits::{EncryptedPolicy, PrincipalForm};
use imageshare::core::ShareLimits;
use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

use crate::cli::Global;
use crate::exit::Failure;
use crate::output::Document;

/// `imageshare limits`.
pub fn run(g: &Global) -> Result<LimitTables, Failure> {
    let want = g.provider_filter()?;
    Ok(LimitTables(
        imageshare::limit_tables()
            .into_iter()
            .filter(|t| want.is_none_or(|p| p == t.provider))
            .map(LimitTable)
            .collect(),
    ))
}

/// The limit tables printed. Text: one block per provider, a blank line between. JSON:
/// `{"limits": [`[`LimitTable`]`]}`.
#[derive(Debug)]
pub struct LimitTables(Vec<LimitTable>);

impl Serialize for LimitTables {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::output::keyed(s, "limits", &self.0)
    }
}

impl fmt::Display for LimitTables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

impl Document for LimitTables {}

/// One provider's limits. Text: a block of aligned lines. JSON: the table's numbers and
/// rules (not the principal form and the encrypted-image rule, which the text shows).
#[derive(Debug)]
pub struct LimitTable(&'static ShareLimits);

impl Serialize for LimitTable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut m = s.serialize_struct("LimitTable", 13)?;
        m.serialize_field("provider", &t.provider)?;
        m.serialize_field("principal_kind", &t.principal_kind)?;
        m.serialize_field("max_sharees_per_image", &t.max_sharees_per_image)?;
        m.serialize_field("max_principals_per_call", &t.max_principals_per_call)?;
        m.serialize_field("same_region_only", &t.same_region_only)?;
        m.serialize_field("reshare_received", &t.reshare_received)?;
        m.serialize_field("share_marketplace_derived", &t.share_marketplace_derived)?;
        m.serialize_field("cross_site", &t.cross_site)?;
        m.serialize_field("shareable_kinds", &t.shareable_kinds)?;
        m.serialize_field("require_available", &t.require_available)?;
        m.serialize_field("delete_requires_unshare", &t.delete_requires_unshare)?;
        m.serialize_field("source", &t.source)?;
        m.serialize_field(
            "organisation",
            &imageshare::org_targets_of(t.provider).map(|o| {
                serde_json::json!({
                    "service": o.service,
                    "max_targets_per_call": o.max_targets_per_call,
                    "max_resources_per_call": o.max_resources_per_call,
                    "source": o.source,
                })
            }),
        )?;
        m.end()
    }
}

impl fmt::Display for LimitTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        let per_image = t
            .max_sharees_per_image
            .map_or("unpublished".to_owned(), |n| n.to_string());
        let form = match t.principal_form {
            PrincipalForm::NumericAccountId {
                min_len, max_len, ..
            } => {
                format!("numeric main-account id, {min_len}-{max_len} digits")
            }
            PrincipalForm::PrefixedId { prefix } => format!("{prefix}..."),
            // A form this table printer was not written for.
            other => format!("{other:?}"),
        };
        let encrypted = match t.encrypted {
            EncryptedPolicy::Allowed => "allowed".to_owned(),
            EncryptedPolicy::Forbidden => "refused".to_owned(),
            EncryptedPolicy::CustomerKeyWithAcknowledgement { prerequisite } => {
                format!("customer key only, needs {prerequisite}")
            }
            // A policy this table printer was not written for.
            other => format!("{other:?}"),
        };
        let kinds: Vec<String> = t.shareable_kinds.iter().map(|k| k.to_string()).collect();
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        writeln!(
            f,
            "{provider}\n  principals:                {kind}s ({form})\n  per image:                 {per_image}\n  per call:                  {per_call}\n  same region only:          {region}\n  re-share received images:  {reshare}\n  marketplace-derived:       {market}\n  encrypted images:          {encrypted}\n  China/international sites: {cross}\n  image kinds:               {kinds}\n  must be available:         {avail}\n  unshare before delete:     {del}\n  source:                    {source}",
            provider = t.provider,
            kind = t.principal_kind,
            per_call = t.max_principals_per_call,
            region = yes_no(t.same_region_only),
            reshare = yes_no(t.reshare_received),
            market = yes_no(t.share_marketplace_derived),
            cross = if t.cross_site { "may share" } else { "may not share" },
            kinds = kinds.join(", "),
            avail = yes_no(t.require_available),
            del = yes_no(t.delete_requires_unshare),
            source = t.source,
        )?;
        if let Some(o) = imageshare::org_targets_of(t.provider) {
            writeln!(
                f,
                "  organisation sharing:      {service}: directory:{dir}..., folder:{folder}..., \
                 member:ID; at most {targets} targets and {resources} resources per call \
                 (--resource-sharing)\n    source:                  {source}",
                service = o.service,
                dir = o.directory_prefix,
                folder = o.folder_prefix,
                targets = o.max_targets_per_call,
                resources = o.max_resources_per_call,
                source = o.source,
            )?;
        }
        Ok(())
    }
}
