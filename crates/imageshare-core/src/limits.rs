//! `ShareLimits`: the documented sharing limits of one provider, as data.
//!
//! Each provider crate holds its table as a `const`; the one checker in
//! [`crate::checker`] applies any table.

use crate::error::{Error, LimitRule, LimitViolation, Result};
use crate::model::{ImageId, ImageKind, Principal, PrincipalKind, Provider, Region};

/// What an operation does with an image id, which decides the form the id must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageIdUse {
    /// A lookup (`image`): any image the provider lists, public images included, whose
    /// ids need not carry the custom-image prefix (an ECS public image id has no `m-`).
    /// Only the character set and length are checked.
    Lookup,
    /// An operation only custom images support (share, unshare, sharees, copy, delete,
    /// a manifest entry): the id must also have the provider's custom-image form.
    Custom,
}

/// The form of one provider's image ids, as data. [`ShareLimits::image_id_rule`] gives the
/// rule of a provider (its prefix is the table's `image_id_prefix`);
/// [`ImageIdRule::check`] (or [`ShareLimits::check_image_id`]) applies it. The limit
/// checker, the manifest parser and the CLI all call it, so the rule lives here only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageIdRule {
    /// The provider the rule is for (named in errors).
    pub provider: Provider,
    /// The prefix of the provider's custom image ids; at least one ASCII letter or digit
    /// follows it, and nothing else.
    pub custom_prefix: &'static str,
    /// Longest id accepted, in characters.
    pub max_len: usize,
}

impl ImageIdRule {
    /// Longest image id of any provider accepted: at most 128 characters of
    /// `[A-Za-z0-9._-]` (public ECS ids such as `ubuntu_22_04_x64_20G_alibase_20230907.vhd`
    /// use `_` and `.`).
    pub const MAX_LEN: usize = 128;

    /// The rule of `provider`, whose custom image ids start with `custom_prefix`, at most
    /// [`ImageIdRule::MAX_LEN`] characters long.
    #[must_use]
    pub const fn new(provider: Provider, custom_prefix: &'static str) -> Self {
        ImageIdRule {
            provider,
            custom_prefix,
            max_len: Self::MAX_LEN,
        }
    }
    /// The same rule with another longest length.
    #[must_use]
    pub const fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// Checks `id` for `use_`. On failure, [`Error::InvalidInput`] for the field
    /// `image id`, whose text names the id and the problem (`invalid image id "m-1&x":
    /// '&' is not allowed ...`).
    pub fn check(&self, id: &str, use_: ImageIdUse) -> Result<()> {
        let bad = |why: String| Err(Error::invalid_input("image id", format!("{id:?}: {why}")));
        if id.is_empty() {
            return bad("it is empty".to_owned());
        }
        let chars = id.chars().count();
        if chars > self.max_len {
            return bad(format!("{chars} characters, at most {}", self.max_len));
        }
        if let Some(c) = id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return bad(format!(
                "{c:?} is not allowed (letters, digits, `-`, `_` and `.` only)"
            ));
        }
        if use_ == ImageIdUse::Custom {
            let rest = id.strip_prefix(self.custom_prefix).unwrap_or("");
            if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return bad(format!(
                    "{} custom image ids have the form {}<letters and digits>",
                    self.provider, self.custom_prefix
                ));
            }
        }
        Ok(())
    }
}

/// A principal id that does not have the form its provider's table requires: the form
/// expected (`limit`) and what is wrong with this id (`explanation`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{explanation} (expected {limit})")]
#[non_exhaustive]
pub struct PrincipalFormError {
    /// The form expected (`a main-account id of 5 to 20 digits`, `an id of the form org-...`).
    pub limit: String,
    /// What is wrong with the id, naming it.
    pub explanation: String,
}

impl PrincipalFormError {
    /// An id refused: the form expected (`limit`) and what is wrong with it.
    pub fn new(limit: impl Into<String>, explanation: impl Into<String>) -> Self {
        PrincipalFormError {
            limit: limit.into(),
            explanation: explanation.into(),
        }
    }
}

/// What form a principal id must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrincipalForm {
    /// A numeric main-account id of `min_len..=max_len` digits. Ids that carry one of
    /// `sub_user_markers` (a user name, an ARN) are refused with a message that says so.
    NumericAccountId {
        /// Fewest digits.
        min_len: usize,
        /// Most digits.
        max_len: usize,
        /// Substrings that mark an id as a user of an account rather than the account
        /// (`@`, an ARN prefix): such ids are refused with a message naming
        /// `sub_user_name`.
        sub_user_markers: &'static [&'static str],
        /// What such an id is called on this cloud (`a RAM user or sub-account`).
        sub_user_name: &'static str,
    },
    /// An id with a fixed prefix followed by at least one `[A-Za-z0-9]` (UCloud `org-...`).
    PrefixedId {
        /// The prefix, e.g. `org-`.
        prefix: &'static str,
    },
}

/// The limits of sharing with the organisation kinds of principal ([`Principal::Directory`],
/// [`Principal::Folder`], [`Principal::Member`]) where a provider has them (Alibaba ECS,
/// through Resource Sharing). Pure data, like [`ShareLimits`]; an adapter that has such
/// sharing returns its table from
/// [`ImageSharing::org_targets`](crate::ImageSharing::org_targets), and every other
/// adapter's checker refuses those kinds with the `principal-kind` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrgTargetLimits {
    /// The service that carries these shares (`Alibaba Resource Sharing`), named in errors.
    pub service: &'static str,
    /// Most targets (directory, folders, members) one association call may carry; the
    /// checker splits into batches of this size.
    pub max_targets_per_call: usize,
    /// Most resources one association call may carry.
    pub max_resources_per_call: usize,
    /// The prefix of a resource directory id (`rd-`).
    pub directory_prefix: &'static str,
    /// The prefix of a folder id (`fd-`).
    pub folder_prefix: &'static str,
    /// The form of a member id (an account id).
    pub member_form: PrincipalForm,
    /// Where these numbers come from.
    pub source: &'static str,
}

impl OrgTargetLimits {
    /// The limits of `service`, whose resource directory ids start with
    /// `directory_prefix`, folder ids with `folder_prefix`, and whose member ids have the
    /// form `member_form`; one target and one resource per call and no source until the
    /// `with_*` setters say otherwise. A `const fn`, so that a table stays `const` data.
    #[must_use]
    pub const fn new(
        service: &'static str,
        directory_prefix: &'static str,
        folder_prefix: &'static str,
        member_form: PrincipalForm,
    ) -> Self {
        OrgTargetLimits {
            service,
            max_targets_per_call: 1,
            max_resources_per_call: 1,
            directory_prefix,
            folder_prefix,
            member_form,
            source: "",
        }
    }
    /// The same limits with `n` targets per association call.
    #[must_use]
    pub const fn with_max_targets_per_call(mut self, n: usize) -> Self {
        self.max_targets_per_call = n;
        self
    }
    /// The same limits with `n` resources per association call.
    #[must_use]
    pub const fn with_max_resources_per_call(mut self, n: usize) -> Self {
        self.max_resources_per_call = n;
        self
    }
    /// The same limits, citing `source`.
    #[must_use]
    pub const fn with_source(mut self, source: &'static str) -> Self {
        self.source = source;
        self
    }

    /// Checks the form of an organisation principal: `rd-` / `fd-` followed by letters
    /// and digits, a member's account id by [`member_form`](Self::member_form).
    /// Principals of other kinds pass (their own table checks them).
    pub fn check_form(&self, provider: Provider, p: &Principal) -> Result<(), PrincipalFormError> {
        let prefixed = |prefix: &str, what: &str| {
            let rest = p.id().strip_prefix(prefix).unwrap_or("");
            if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(PrincipalFormError {
                    limit: format!("an id of the form {prefix}<letters and digits>"),
                    explanation: format!("{:?} is not a {what} id ({prefix}...)", p.id()),
                });
            }
            Ok(())
        };
        match p.kind() {
            PrincipalKind::Directory => prefixed(self.directory_prefix, "resource directory"),
            PrincipalKind::Folder => prefixed(self.folder_prefix, "resource directory folder"),
            PrincipalKind::Member => form_check(provider, self.member_form, p.id()),
            _ => Ok(()),
        }
    }
}

/// How a provider treats encrypted images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncryptedPolicy {
    /// Encrypted images are shared like any other.
    Allowed,
    /// Service-key-encrypted images are refused; other encrypted images need the caller to
    /// acknowledge the prerequisites (a customer-managed key and the provider's sharing
    /// role), via `CheckOptions::allow_encrypted`.
    CustomerKeyWithAcknowledgement {
        /// What the caller must have in place (shown in the error).
        prerequisite: &'static str,
    },
    /// Encrypted images cannot be shared at all.
    Forbidden,
}

/// The documented limits of one provider's image sharing. Pure data: a provider crate
/// declares one as a `const`, the checker enforces it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShareLimits {
    /// Which provider this table describes.
    pub provider: Provider,
    /// The prefix of the provider's custom image ids (its [`ImageIdRule`]).
    pub image_id_prefix: &'static str,
    /// A region id of the provider, named as an example in errors about region ids.
    pub example_region: &'static str,
    /// Principals this provider shares to.
    pub principal_kind: PrincipalKind,
    /// The form a principal id must have.
    pub principal_form: PrincipalForm,
    /// Most principals one image can be shared with at once; `None` when unpublished.
    pub max_sharees_per_image: Option<usize>,
    /// Most principals one API call may carry; the checker splits into batches of this size.
    pub max_principals_per_call: usize,
    /// Sharing stays in the image's region (the client must be in that region).
    pub same_region_only: bool,
    /// Whether an image received from another account may be shared onward.
    pub reshare_received: bool,
    /// Whether images derived from marketplace images may be shared.
    pub share_marketplace_derived: bool,
    /// Encrypted-image rule.
    pub encrypted: EncryptedPolicy,
    /// Whether China-site and international-site accounts may share with each other.
    pub cross_site: bool,
    /// Image kinds that can be shared.
    pub shareable_kinds: &'static [ImageKind],
    /// Whether the image must be in the available state to be shared.
    pub require_available: bool,
    /// Whether an image must have no sharees before it can be deleted.
    pub delete_requires_unshare: bool,
    /// Where these numbers come from (shown in docs, not used by the checker).
    pub source: &'static str,
}

impl ShareLimits {
    /// The table of `provider`, whose custom image ids start with `image_id_prefix`, whose
    /// regions look like `example_region`, and which shares to principals of
    /// `principal_kind` with ids of `principal_form`. Every other field starts at its most
    /// conservative value (one principal per call, no published per-image maximum, same
    /// region only, no re-sharing of received or marketplace-derived images, encrypted
    /// images forbidden, no cross-site sharing, no shareable kind, available images only,
    /// unshare before delete, no source) until its `with_*` setter says otherwise. A
    /// `const fn`, so that a provider's table stays `const` data:
    ///
    /// ```
    /// use imageshare_core::limits::{EncryptedPolicy, PrincipalForm};
    /// use imageshare_core::{ImageKind, PrincipalKind, Provider, ShareLimits};
    ///
    /// const LIMITS: ShareLimits = ShareLimits::new(
    ///     Provider::new("example-cloud"),
    ///     "img-",
    ///     "xx-north-1",
    ///     PrincipalKind::Account,
    ///     PrincipalForm::PrefixedId { prefix: "acct-" },
    /// )
    /// // Documented: 50 accounts per image, 10 per call.
    /// .with_max_sharees_per_image(Some(50))
    /// .with_max_principals_per_call(10)
    /// .with_shareable_kinds(&[ImageKind::SystemDisk])
    /// .with_encrypted(EncryptedPolicy::Allowed)
    /// .with_source("example-cloud API reference");
    /// assert_eq!(LIMITS.max_principals_per_call, 10);
    /// ```
    #[must_use]
    pub const fn new(
        provider: Provider,
        image_id_prefix: &'static str,
        example_region: &'static str,
        principal_kind: PrincipalKind,
        principal_form: PrincipalForm,
    ) -> Self {
        ShareLimits {
            provider,
            image_id_prefix,
            example_region,
            principal_kind,
            principal_form,
            max_sharees_per_image: None,
            max_principals_per_call: 1,
            same_region_only: true,
            reshare_received: false,
            share_marketplace_derived: false,
            encrypted: EncryptedPolicy::Forbidden,
            cross_site: false,
            shareable_kinds: &[],
            require_available: true,
            delete_requires_unshare: true,
            source: "",
        }
    }
    /// The same table with the provider it describes.
    #[must_use]
    pub const fn with_provider(mut self, provider: Provider) -> Self {
        self.provider = provider;
        self
    }
    /// The same table with the prefix of custom image ids.
    #[must_use]
    pub const fn with_image_id_prefix(mut self, image_id_prefix: &'static str) -> Self {
        self.image_id_prefix = image_id_prefix;
        self
    }
    /// The same table with the example region of errors.
    #[must_use]
    pub const fn with_example_region(mut self, example_region: &'static str) -> Self {
        self.example_region = example_region;
        self
    }
    /// The same table with the principal kind shared to.
    #[must_use]
    pub const fn with_principal_kind(mut self, principal_kind: PrincipalKind) -> Self {
        self.principal_kind = principal_kind;
        self
    }
    /// The same table with the form principal ids must have.
    #[must_use]
    pub const fn with_principal_form(mut self, principal_form: PrincipalForm) -> Self {
        self.principal_form = principal_form;
        self
    }
    /// A copy of this table with another per-call maximum (for a provider whose per-call
    /// limit is unpublished and made configurable). Values below 1 become 1.
    #[must_use]
    pub const fn with_max_principals_per_call(mut self, n: usize) -> Self {
        self.max_principals_per_call = if n == 0 { 1 } else { n };
        self
    }
    /// The same table; most principals one image can be shared with at once (`None`: unpublished).
    #[must_use]
    pub const fn with_max_sharees_per_image(
        mut self,
        max_sharees_per_image: Option<usize>,
    ) -> Self {
        self.max_sharees_per_image = max_sharees_per_image;
        self
    }
    /// The same table; whether sharing stays in the image's region.
    #[must_use]
    pub const fn with_same_region_only(mut self, same_region_only: bool) -> Self {
        self.same_region_only = same_region_only;
        self
    }
    /// The same table; whether an image received from another account may be shared onward.
    #[must_use]
    pub const fn with_reshare_received(mut self, reshare_received: bool) -> Self {
        self.reshare_received = reshare_received;
        self
    }
    /// The same table; whether images derived from marketplace images may be shared.
    #[must_use]
    pub const fn with_share_marketplace_derived(mut self, share_marketplace_derived: bool) -> Self {
        self.share_marketplace_derived = share_marketplace_derived;
        self
    }
    /// The same table; the encrypted-image rule.
    #[must_use]
    pub const fn with_encrypted(mut self, encrypted: EncryptedPolicy) -> Self {
        self.encrypted = encrypted;
        self
    }
    /// The same table; whether China-site and international-site accounts may share with each other.
    #[must_use]
    pub const fn with_cross_site(mut self, cross_site: bool) -> Self {
        self.cross_site = cross_site;
        self
    }
    /// The same table; the image kinds that can be shared.
    #[must_use]
    pub const fn with_shareable_kinds(mut self, shareable_kinds: &'static [ImageKind]) -> Self {
        self.shareable_kinds = shareable_kinds;
        self
    }
    /// The same table; whether the image must be available to be shared.
    #[must_use]
    pub const fn with_require_available(mut self, require_available: bool) -> Self {
        self.require_available = require_available;
        self
    }
    /// The same table; whether an image must have no sharees before it can be deleted.
    #[must_use]
    pub const fn with_delete_requires_unshare(mut self, delete_requires_unshare: bool) -> Self {
        self.delete_requires_unshare = delete_requires_unshare;
        self
    }
    /// The same table; where these numbers come from.
    #[must_use]
    pub const fn with_source(mut self, source: &'static str) -> Self {
        self.source = source;
        self
    }
}

impl ShareLimits {
    /// The image-id rule of this table's provider.
    #[must_use]
    pub fn image_id_rule(&self) -> ImageIdRule {
        ImageIdRule::new(self.provider, self.image_id_prefix)
    }

    /// Checks that `region` is a well-formed region id of this provider
    /// ([`Region::check`], with this table's example region).
    pub fn check_region(&self, region: &Region, field: &str) -> Result<()> {
        region.check(self.provider, self.example_region, field)
    }

    /// Checks `id` against this provider's [`ImageIdRule`] for `use_`
    /// ([`Error::InvalidInput`] naming the id and the problem).
    pub fn check_image_id(&self, id: &ImageId, use_: ImageIdUse) -> Result<()> {
        self.image_id_rule().check(id.as_str(), use_)
    }

    /// Checks the form of a principal id against `principal_form` (not its kind). The
    /// limit checker, the manifest, the CLI and the emulator all call this, so the rule
    /// lives in one place.
    pub fn check_principal_form(&self, p: &Principal) -> Result<(), PrincipalFormError> {
        form_check(self.provider, self.principal_form, p.id())
    }
}

/// Checks `id` against `form` (the one rule of [`ShareLimits::check_principal_form`] and
/// [`OrgTargetLimits::check_form`]).
fn form_check(provider: Provider, form: PrincipalForm, id: &str) -> Result<(), PrincipalFormError> {
    match form {
        PrincipalForm::NumericAccountId {
            min_len,
            max_len,
            sub_user_markers,
            sub_user_name,
        } => {
            let limit = format!("a main-account id of {min_len} to {max_len} digits");
            if sub_user_markers.iter().any(|m| id.contains(m)) {
                return Err(PrincipalFormError {
                    limit,
                    explanation: format!(
                        "{id:?} looks like {sub_user_name}; {} shares only with main \
                         (root) accounts, given by their numeric account id",
                        provider
                    ),
                });
            }
            if id.is_empty()
                || !id.bytes().all(|b| b.is_ascii_digit())
                || id.len() < min_len
                || id.len() > max_len
            {
                return Err(PrincipalFormError {
                    explanation: format!("{id:?} is not {limit}"),
                    limit,
                });
            }
        }
        PrincipalForm::PrefixedId { prefix } => {
            let rest = id.strip_prefix(prefix).unwrap_or("");
            if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(PrincipalFormError {
                    limit: format!("an id of the form {prefix}<letters and digits>"),
                    explanation: format!("{id:?} is not a {} project id ({prefix}...)", provider),
                });
            }
        }
    }
    Ok(())
}

impl ShareLimits {
    fn violation(&self, rule: LimitRule, limit: String, value: String, why: String) -> Error {
        Error::Limit(LimitViolation {
            provider: self.provider,
            rule,
            limit,
            value,
            explanation: why,
        })
    }

    /// Checks a list of principals against this table's kind and form rules and returns
    /// them de-duplicated in request order. An empty list is `InvalidInput`; a principal of
    /// the wrong kind or form is `Error::Limit`. This is the limit checker's principal rule
    /// for a provider without organisation sharing; see [`check_principals_with`](Self::check_principals_with).
    pub fn check_principals(&self, principals: &[Principal]) -> Result<Vec<Principal>> {
        self.dedupe_principals(principals, true, None)
    }

    /// [`check_principals`](Self::check_principals) for a provider whose organisation
    /// sharing (if any) has the limits `org`: directory, folder and member principals are
    /// accepted, and their forms checked, only when `org` is `Some`.
    pub fn check_principals_with(
        &self,
        principals: &[Principal],
        org: Option<&OrgTargetLimits>,
    ) -> Result<Vec<Principal>> {
        self.dedupe_principals(principals, true, org)
    }

    fn dedupe_principals(
        &self,
        principals: &[Principal],
        check_form: bool,
        org: Option<&OrgTargetLimits>,
    ) -> Result<Vec<Principal>> {
        if principals.is_empty() {
            return Err(Error::invalid_input(
                "principals",
                format!(
                    "the list of {}s is empty; give at least one",
                    self.principal_kind
                ),
            ));
        }
        for p in principals {
            let kind = p.kind();
            if kind.is_org() {
                let Some(org) = org else {
                    return Err(self.violation(
                        LimitRule::PrincipalKind,
                        format!("{} principals only", self.principal_kind),
                        p.to_string(),
                        format!(
                            "{} shares images with {}s; this adapter has no organisation \
                             sharing, and {kind} principals need one (Alibaba ECS with \
                             Resource Sharing on: EcsBuilder::resource_sharing(true), the \
                             CLI's --resource-sharing)",
                            self.provider, self.principal_kind
                        ),
                    ));
                };
                if check_form {
                    org.check_form(self.provider, p).map_err(|e| {
                        self.violation(
                            LimitRule::PrincipalForm,
                            e.limit,
                            p.to_string(),
                            e.explanation,
                        )
                    })?;
                }
                continue;
            }
            if kind != self.principal_kind {
                return Err(self.violation(
                    LimitRule::PrincipalKind,
                    format!("{} principals only", self.principal_kind),
                    p.to_string(),
                    format!(
                        "{} shares images with {}s, not {}s",
                        self.provider, self.principal_kind, kind
                    ),
                ));
            }
            if check_form {
                self.check_principal_form(p).map_err(|e| {
                    self.violation(
                        LimitRule::PrincipalForm,
                        e.limit,
                        p.to_string(),
                        e.explanation,
                    )
                })?;
            }
        }
        Ok(Principal::dedupe(principals))
    }

    /// What an adapter checks before building one API call: the list is not empty, every
    /// principal is of the kind the wire can carry (`Error::Limit`), and there are no more
    /// than one call may carry (`InvalidInput`: ECS would silently ignore the rest;
    /// [`Checked`](crate::Checked) splits into batches). Duplicates are dropped, order
    /// kept. Rule-level checks (id form, quotas) stay with the checker, so an adapter used
    /// without it lets the server judge them.
    pub fn principals_for_call(&self, principals: &[Principal]) -> Result<Vec<Principal>> {
        let out = self.dedupe_principals(principals, false, None)?;
        check_per_call(
            self,
            &out,
            self.max_principals_per_call,
            self.principal_kind.name(),
        )?;
        Ok(out)
    }

    /// [`principals_for_call`](Self::principals_for_call) for the organisation targets of
    /// one association call: only directory / folder / member principals, at most
    /// `org.max_targets_per_call`.
    pub fn org_targets_for_call(
        &self,
        principals: &[Principal],
        org: &OrgTargetLimits,
    ) -> Result<Vec<Principal>> {
        let out = self.dedupe_principals(principals, false, Some(org))?;
        if let Some(p) = out.iter().find(|p| !p.kind().is_org()) {
            return Err(Error::invalid_input(
                "principals",
                format!("{p} is not a resource directory, folder or member"),
            ));
        }
        check_per_call(self, &out, org.max_targets_per_call, "target")?;
        Ok(out)
    }
}

/// Refuses more than `max` principals for one call (`InvalidInput`).
fn check_per_call(limits: &ShareLimits, out: &[Principal], max: usize, what: &str) -> Result<()> {
    if out.len() > max {
        return Err(Error::invalid_input(
            "principals",
            format!(
                "{} {what}s in one call; {} takes at most {max} per call (wrap the adapter in \
                 imageshare_core::Checked, which splits the list into batches)",
                out.len(),
                limits.provider,
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const CLOUD: Provider = Provider::new("example-cloud");

    /// A table of a made-up provider (`example-cloud`, regions like `xx-north-1`) whose
    /// custom image ids start with `prefix`; other modules' tests use it too.
    pub(crate) fn limits(prefix: &'static str) -> ShareLimits {
        ShareLimits {
            provider: CLOUD,
            image_id_prefix: prefix,
            example_region: "xx-north-1",
            principal_kind: PrincipalKind::Account,
            principal_form: PrincipalForm::NumericAccountId {
                min_len: 5,
                max_len: 20,
                sub_user_markers: &["@", "arn:"],
                sub_user_name: "a sub-user",
            },
            max_sharees_per_image: None,
            max_principals_per_call: 10,
            same_region_only: true,
            reshare_received: false,
            share_marketplace_derived: true,
            encrypted: EncryptedPolicy::Allowed,
            cross_site: true,
            shareable_kinds: &[],
            require_available: true,
            delete_requires_unshare: false,
            source: "test",
        }
    }

    fn refused(prefix: &'static str, id: &str, use_: ImageIdUse) -> String {
        match limits(prefix).check_image_id(&ImageId::from(id), use_) {
            Err(Error::InvalidInput { field, message }) => {
                assert_eq!(field, "image id");
                message
            }
            other => panic!("{prefix} {id:?}: {other:?}"),
        }
    }

    #[test]
    fn image_ids_have_the_tables_custom_form() {
        for (prefix, good) in [("m-", "m-bp18ygjuqnwhechc"), ("img-", "img-6pb6lrmy")] {
            for use_ in [ImageIdUse::Lookup, ImageIdUse::Custom] {
                let id = ImageId::from(good);
                assert!(limits(prefix).check_image_id(&id, use_).is_ok(), "{good}");
            }
            let dashed = format!("{prefix}bp1-x");
            for other in ["m-", "img-", "lhbp-", "x", "public.vhd", &dashed] {
                let m = refused(prefix, other, ImageIdUse::Custom);
                assert!(
                    m.contains(&format!(
                        "example-cloud custom image ids have the form {prefix}<letters and digits>"
                    )),
                    "{m}"
                );
            }
        }
    }

    #[test]
    fn lookups_take_public_ids_but_never_bad_characters_or_lengths() {
        let public = "ubuntu_22_04_x64_20G_alibase_20230907.vhd";
        let rule = limits("m-").image_id_rule();
        assert!(rule.check(public, ImageIdUse::Lookup).is_ok());
        assert!(refused("m-", public, ImageIdUse::Custom)
            .contains("example-cloud custom image ids have the form m-"));
        for use_ in [ImageIdUse::Lookup, ImageIdUse::Custom] {
            assert_eq!(refused("m-", "", use_), "\"\": it is empty");
            let m = refused("m-", "m-1&Action=DeleteImage", use_);
            assert!(m.contains("'&' is not allowed"), "{m}");
            let m = refused("img-", "img-a b", use_);
            assert!(m.contains("' ' is not allowed"), "{m}");
            let m = refused("img-", "img-a\r\nX: 1", use_);
            assert!(m.contains("'\\r' is not allowed"), "{m}");
            let m = refused("img-", "img-é", use_);
            assert!(m.contains("'é' is not allowed"), "{m}");
            let long = format!("uimage-{}", "a".repeat(193));
            let m = refused("uimage-", &long, use_);
            assert!(m.contains("200 characters, at most 128"), "{m}");
        }
        let longest = format!("m-{}", "a".repeat(126));
        assert!(rule.check(&longest, ImageIdUse::Custom).is_ok());
    }

    #[test]
    fn regions_and_sub_users_are_named_with_the_tables_data() {
        let l = limits("img-");
        let e = l.check_region(&Region::from("a b"), "region").unwrap_err();
        assert!(e.to_string().contains("e.g. xx-north-1"), "{e}");
        let e = l
            .check_principal_form(&Principal::account("bob@12345"))
            .unwrap_err();
        assert!(e.explanation.contains("looks like a sub-user"), "{e}");
        assert_eq!(e.limit, "a main-account id of 5 to 20 digits");
        assert!(l
            .check_principal_form(&Principal::account("123456"))
            .is_ok());
    }
}
