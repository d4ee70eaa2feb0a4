//! `CopyLimits`: what one provider's cross-region copy allows, as data, like
//! [`ShareLimits`](crate::limits::ShareLimits) for sharing. An adapter whose cloud copies
//! images between regions returns its table from
//! [`ImageSharing::copy_limits`](crate::ImageSharing::copy_limits); the limit checker
//! refuses a cross-region copy on an adapter without one (rule `cross-region-copy`, e.g.
//! Simple Application Server, whose API has no copy action) and a copy across a border
//! the cloud's copy does not cross (rule `copy-border`, e.g. Lighthouse between mainland
//! China and elsewhere), before anything is sent.
//!
//! The table also says how a copy made by [`distribute`](crate::distribute) is found again
//! ([`CopyLimits::copy_name`]): a copy is named after its source (`<source name>-<source
//! id>`, cut to the cloud's longest name) where the copy action takes a name, and keeps
//! the source's own name where it does not (Lighthouse `SyncBlueprint`). A re-run, a retry
//! after a timeout or a run after `kill -9` looks that name up in the target region
//! ([`ImageSharing::images_named_in`](crate::ImageSharing::images_named_in)) and never
//! copies twice.

use crate::error::{Error, LimitRule, LimitViolation, Result};
use crate::model::{Image, Provider, Region};

/// A border between groups of regions that a provider's copy does not cross.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionBorder {
    /// The regions on one side (region ids; every other region is on the other side).
    pub inside: &'static [&'static str],
    /// What the inside is called in errors (`mainland China`).
    pub inside_name: &'static str,
    /// What the outside is called in errors (`outside mainland China`).
    pub outside_name: &'static str,
}

impl RegionBorder {
    /// Whether `region` is on the inside.
    #[must_use]
    pub fn contains(&self, region: &Region) -> bool {
        self.inside.contains(&region.as_str())
    }
    /// The name of `region`'s side.
    #[must_use]
    pub fn side_of(&self, region: &Region) -> &'static str {
        if self.contains(region) {
            self.inside_name
        } else {
            self.outside_name
        }
    }
}

/// The documented limits of a provider's cross-region copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyLimits {
    /// The cloud's copy action (`CopyImage`, `SyncImages`, `SyncBlueprint`,
    /// `CopyCustomImage`), named in errors.
    pub action: &'static str,
    /// Most destination regions one call of the action takes.
    pub max_regions_per_call: usize,
    /// The longest name (in characters) the action gives a copy; 0 when the action takes no
    /// name and the copy keeps its source's.
    pub max_name_chars: usize,
    /// A border the copy does not cross, when the cloud has one.
    pub border: Option<RegionBorder>,
    /// Whether the source is busy while its copies are made (Lighthouse: a syncing
    /// blueprint is `SYNCING` and cannot be synced again until its copies end): then
    /// [`distribute`](crate::distribute) sends the next batch of regions only when the
    /// source is available again.
    pub source_busy_while_copying: bool,
    /// Where these numbers come from.
    pub source: &'static str,
}

impl CopyLimits {
    /// Checks one copy of an image in `from` to `to` against the border, if any.
    pub fn check_pair(&self, provider: Provider, from: &Region, to: &Region) -> Result<()> {
        let Some(border) = self.border else {
            return Ok(());
        };
        if border.contains(from) == border.contains(to) {
            return Ok(());
        }
        Err(Error::Limit(LimitViolation {
            provider,
            rule: LimitRule::CopyBorder,
            limit: format!(
                "copies within {} or within {} only",
                border.inside_name, border.outside_name
            ),
            value: format!(
                "{from} ({}) -> {to} ({})",
                border.side_of(from),
                border.side_of(to)
            ),
            explanation: format!(
                "{provider} {} does not copy between {} and {}; copy from a region on {to}'s \
                 side instead, or make the image there",
                self.action, border.inside_name, border.outside_name
            ),
        }))
    }

    /// The name a copy of `source` made for distribution gets, by which it is found again:
    /// `<source name>-<source id>` cut (on a character boundary, from the name's end) to
    /// [`max_name_chars`](Self::max_name_chars); `None` when the action takes no name (the
    /// copy keeps the source's name, [`copy_identity`](Self::copy_identity) is that name).
    #[must_use]
    pub fn copy_name(&self, source: &Image) -> Option<String> {
        if self.max_name_chars == 0 {
            return None;
        }
        let id = source.id.as_str();
        let suffix = format!("-{id}");
        let room = self.max_name_chars.saturating_sub(suffix.chars().count());
        let name: String = source.name.trim().chars().take(room).collect();
        let name = name.trim_end_matches(|c: char| c.is_whitespace() || c == '-' || c == '_');
        Some(if name.is_empty() {
            id.chars().take(self.max_name_chars).collect()
        } else {
            format!("{name}{suffix}")
        })
    }

    /// The name the copy of `source` has in a target region: [`copy_name`](Self::copy_name)
    /// where the action names copies, else the source's own name.
    #[must_use]
    pub fn copy_identity(&self, source: &Image) -> String {
        self.copy_name(source)
            .unwrap_or_else(|| source.name.clone())
    }
}

/// The refusal of a cross-region copy by a provider without one (no [`CopyLimits`]).
#[must_use]
pub fn no_cross_region_copy(provider: Provider, to: &Region) -> Error {
    Error::Limit(LimitViolation {
        provider,
        rule: LimitRule::CrossRegionCopy,
        limit: "no cross-region copy action".to_owned(),
        value: format!("a copy to {to}"),
        explanation: format!(
            "{provider}'s API has no action that copies an image to another region; copy it \
             in the console, or move it to a product that can (imageshare migrate)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Encryption, ImageKind, ImageOrigin, ImageState};

    const BORDER: RegionBorder = RegionBorder {
        inside: &["ap-guangzhou", "ap-shanghai"],
        inside_name: "mainland China",
        outside_name: "outside mainland China",
    };

    fn limits(max_name_chars: usize) -> CopyLimits {
        CopyLimits {
            action: "SyncThings",
            max_regions_per_call: 10,
            max_name_chars,
            border: Some(BORDER),
            source_busy_while_copying: false,
            source: "test",
        }
    }

    fn image(id: &str, name: &str) -> Image {
        Image {
            id: id.into(),
            name: name.into(),
            owner: None,
            owner_site: None,
            region: "ap-guangzhou".into(),
            state: ImageState::Available,
            origin: ImageOrigin::Custom,
            encryption: Encryption::None,
            kind: ImageKind::SystemDisk,
            created_at: None,
            progress: None,
        }
    }

    #[test]
    fn the_border_refuses_crossing_pairs_only() {
        let l = limits(60);
        let p = Provider::new("tencent-lighthouse");
        l.check_pair(p, &"ap-guangzhou".into(), &"ap-shanghai".into())
            .unwrap();
        l.check_pair(p, &"ap-singapore".into(), &"ap-tokyo".into())
            .unwrap();
        let Err(Error::Limit(v)) = l.check_pair(p, &"ap-guangzhou".into(), &"ap-tokyo".into())
        else {
            panic!("a crossing pair must be refused");
        };
        assert_eq!(v.rule, LimitRule::CopyBorder);
        assert!(v.value.contains("ap-guangzhou (mainland China)"), "{v}");
        assert!(v.value.contains("ap-tokyo (outside mainland China)"), "{v}");
        assert!(v.explanation.contains("SyncThings"), "{v}");
    }

    #[test]
    fn copy_names_carry_the_source_id_and_fit() {
        let l = limits(20);
        let src = image("img-12345678", "golden-base-image-2026");
        let name = l.copy_name(&src).unwrap();
        assert_eq!(
            name, "golden-img-12345678",
            "cut to 20, without a dangling '-'"
        );
        // Multi-byte names are cut on a character boundary.
        let src = image("img-1", "镜像镜像镜像镜像镜像镜像镜像镜像镜像");
        let name = l.copy_name(&src).unwrap();
        assert_eq!(name.chars().count(), 20);
        assert!(name.ends_with("-img-1"));
        // No name: the id alone.
        assert_eq!(l.copy_name(&image("img-1", " ")).unwrap(), "img-1");
        // An action without names keeps the source's.
        let keep = limits(0);
        assert_eq!(keep.copy_name(&src), None);
        assert_eq!(keep.copy_identity(&src), src.name);
    }
}
