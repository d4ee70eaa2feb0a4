//! Alibaba Cloud **Resource Sharing** (API 2020-01-10): ECS images shared with a whole
//! resource directory, a folder of it, or one member account, so that accounts that
//! join the directory or folder later gain access without another call.
//!
//! Resource Sharing is an RPC-style API signed like ECS (the official SDK's
//! `style = 'RPC'`, `POST /`, parameters in the query): this client is the ECS
//! adapter's [`OpenApiClient`] for version `2020-01-10` at
//! `https://resourcesharing.<region>.aliyuncs.com` (the SDK's `'regional'` endpoint rule
//! for product `resourcesharing`), sharing its credentials, transport and clock.
//!
//! imageshare keeps **one resource share per image**, named `imageshare-<image id>`
//! ([`share_name`]) and found again by that name on every run, so a re-run or a retry
//! never makes a second share.
//!
//! | trait call (ECS adapter, organisation principals) | Resource Sharing action |
//! |---|---|
//! | `share` (first time for the image) | `ListResourceShares` (`ResourceOwner=Self`, `ResourceShareName`), then `CreateResourceShare` with `ResourceShareName`, `Resources.1.ResourceId` / `Resources.1.ResourceType=Image`, `Targets.N` (N <= 5), `AllowExternalTargets` |
//! | `share` (share exists) | `AssociateResourceShare` with `ResourceShareId`, `Targets.N` (N <= 5) |
//! | `unshare` | `ListResourceShareAssociations` (which targets are associated now), then `DisassociateResourceShare` with `ResourceShareId`, `Targets.N` (N <= 5) for those only |
//! | `sharees` (organisation part) | `ListResourceShareAssociations` with `AssociationType=Target`, `ResourceShareIds.1`, `MaxResults=100`, `NextToken` |
//! | [`ResourceSharing::accept_invitation`] (recipient side, outside accounts) | `AcceptResourceShareInvitation` with `ResourceShareInvitationId` |
//!
//! Targets: the resource directory id (`rd-...`, [`Principal::Directory`]), a folder id
//! (`fd-...`, [`Principal::Folder`]), a member account id ([`Principal::Member`]). An
//! account outside the directory is a target only when the share has
//! `AllowExternalTargets=true` (set with
//! [`EcsBuilder::allow_external_targets`](crate::EcsBuilder::allow_external_targets)), and
//! it must accept the invitation.
//!
//! Sources:
//! - Official Python SDK `alibabacloud-resourcesharing20200110`
//!   (`aliyun/alibabacloud-python-sdk`, `resourcesharing-20200110/`): `client.py`
//!   (actions, version `2020-01-10`, RPC style, endpoint rule `regional` for
//!   `resourcesharing`); `models/_create_resource_share_request.py` (`ResourceShareName`
//!   1-50 characters of letters, digits, `.`, `_`, `-`; `AllowExternalTargets`;
//!   `Resources.N` "Valid values of N: 1 to 5");
//!   `models/_associate_resource_share_request.py` (`ResourceShareId` required,
//!   `Resources.N` 1 to 5); `models/_list_resource_share_associations_request.py`
//!   (`AssociationType` `Resource` | `Target` required, `MaxResults` 1-100, `NextToken`,
//!   `ResourceShareIds.N` 1 to 5); `models/_list_resource_shares_request.py`
//!   (`ResourceOwner` `Self` | `OtherAccounts` required).
//! - API reference "AssociateResourceShare" / "CreateResourceShare"
//!   (alibabacloud.com/help/en/resource-management/resource-sharing/developer-reference/api-resourcesharing-2020-01-10-associateresourceshare,
//!   `...-createresourceshare`): `Targets.N` "The value of N can be from 1 to 5. This
//!   means that you can add up to 5 principals at a time"; targets are a resource
//!   directory id, a folder id or a member id.
//! - ROS `ALIYUN::ResourceManager::ResourceShareAssociation`: up to 5 targets and 5
//!   resources per call (protocols/field-2026-12.md 4).
//! - Resource Sharing permission library: "Elastic Compute Service (ECS) | Image |
//!   AliyunRSDefaultPermissionImage"; the ECS guide "Share a custom image", scenario 2:
//!   accounts added to the directory or folder later gain access automatically
//!   (field-2026-12.md 4).

mod model;
mod publish;

pub use model::{
    AssociationsResponse, CreateResourceShareResponse, ListAssociationsResponse,
    ListResourceSharesResponse, ResourceShare, ResourceShareAssociation,
};
pub use publish::Publish;

use std::sync::Arc;

use imageshare_core::paging::{paginate, Listing, Page, PageCursor, TryStreamExt};
use imageshare_core::transport::Endpoint;
use imageshare_core::{
    CallContext, ClientBuilder, Error, ImageId, OrganisationSharing, Principal, Result,
    ShareLimits, ShareOutcome, ShareReport, Sharee, Timestamp,
};

use crate::client::{CallSpec, OpenApiClient};
use crate::limits::ECS_ORG_TARGETS;
use crate::model::{Answer, Empty};
use crate::{AlibabaBuilder, EcsImageSharing};

/// The Resource Sharing API version.
pub const RESOURCE_SHARING_VERSION: &str = "2020-01-10";

/// The `ResourceType` of an ECS image in Resource Sharing.
pub const IMAGE_RESOURCE_TYPE: &str = "Image";

/// The prefix of the names of the resource shares imageshare makes.
pub const SHARE_NAME_PREFIX: &str = "imageshare-";

/// Page size of the listings (`MaxResults`, at most 100).
pub const MAX_RESULTS: u32 = 100;

/// The default Resource Sharing endpoint of a region.
#[must_use]
pub fn default_endpoint(region: &str) -> String {
    format!("https://resourcesharing.{region}.aliyuncs.com")
}

/// The name of the one resource share imageshare keeps for `image`: `imageshare-<id>`
/// (within the 50 characters of letters, digits, `.`, `_`, `-` the API allows for any
/// image id the limit checker accepts up to 39 characters; longer ids are cut, which
/// keeps the name stable).
#[must_use]
pub fn share_name(image: &ImageId) -> String {
    let mut name = format!("{SHARE_NAME_PREFIX}{image}");
    name.truncate(50);
    name
}

/// The Resource Sharing settings of the ECS builder beyond the shared
/// [`OrganisationSharing`] of its [`ClientConfig`](imageshare_core::ClientConfig).
#[derive(Debug, Clone, Default)]
pub(crate) struct OrgSettings {
    /// An explicit Resource Sharing endpoint.
    pub(crate) endpoint: Option<String>,
}

impl AlibabaBuilder<EcsImageSharing> {
    /// Turns organisation sharing on: the limit checker then accepts `directory:`,
    /// `folder:` and `member:` principals, which go through Resource Sharing, and
    /// `sharees` also lists the targets of the image's resource share (one more read per
    /// listing). Off by default, so that plain account sharing never calls Resource
    /// Sharing (which an account may not have activated or be allowed to call). The same
    /// as [`ClientBuilder::organisation_sharing`] (the facade's `Connect` sets it so).
    #[must_use]
    pub fn resource_sharing(self, enabled: bool) -> Self {
        self.organisation_sharing(enabled)
    }

    /// The Resource Sharing endpoint (`scheme://host[:port]`). Default: the endpoint set
    /// with `endpoint(..)` when it is not an `ecs.` host (an emulator or gateway that
    /// serves every product), else `https://resourcesharing.<region>.aliyuncs.com`.
    #[must_use]
    pub fn resource_sharing_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.org.endpoint = Some(endpoint.into());
        self
    }

    /// Creates the image's resource share with `AllowExternalTargets=true`, so that
    /// accounts outside the resource directory can be targets (they must accept the
    /// invitation: [`ResourceSharing::accept_invitation`]). Default: false, directory
    /// members only. The same as [`ClientBuilder::external_targets`].
    #[must_use]
    pub fn allow_external_targets(self, allow: bool) -> Self {
        self.external_targets(allow)
    }
}

/// The Resource Sharing client of the ECS adapter.
#[derive(Debug, Clone)]
pub struct ResourceSharing {
    client: OpenApiClient,
    allow_external_targets: bool,
    enabled: bool,
}

impl ResourceSharing {
    /// The client for `ecs`'s region and credentials with `settings`.
    pub(crate) fn new(
        ecs: &OpenApiClient,
        explicit: Option<&str>,
        settings: &OrgSettings,
        organisation: OrganisationSharing,
    ) -> Result<Self> {
        let region = ecs.region().as_str();
        let endpoint = match (&settings.endpoint, explicit) {
            (Some(e), _) => e.clone(),
            (None, Some(e)) if !Endpoint::parse(e)?.host().starts_with("ecs.") => e.to_owned(),
            _ => default_endpoint(region),
        };
        let endpoint = Endpoint::parse(&endpoint)?.without_path("Alibaba RPC APIs")?;
        Ok(Self {
            client: ecs.for_product(RESOURCE_SHARING_VERSION, endpoint),
            allow_external_targets: organisation.allow_external_targets,
            enabled: organisation.enabled,
        })
    }

    /// Whether organisation sharing is on for the adapter
    /// ([`EcsBuilder::resource_sharing`](crate::EcsBuilder::resource_sharing)).
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The underlying OpenAPI client.
    #[must_use]
    pub fn client(&self) -> &OpenApiClient {
        &self.client
    }

    fn spec(idempotent: bool) -> CallSpec<'static> {
        CallSpec {
            idempotent,
            image: None,
        }
    }

    /// The active resource share imageshare keeps for `image`, if there is one
    /// (`ListResourceShares` with `ResourceOwner=Self` and the share's name).
    pub async fn find_share(
        &self,
        cx: &CallContext,
        image: &ImageId,
    ) -> Result<Option<ResourceShare>> {
        let name = share_name(image);
        let base = params([("ResourceOwner", "Self"), ("ResourceShareName", &name)]);
        let shares = self
            .list_all(
                cx,
                "ListResourceShares",
                base,
                |r: ListResourceSharesResponse| (r.resource_shares, r.next_token),
            )
            .await?;
        Ok(shares.into_iter().find(|s| {
            s.resource_share_name == name
                && matches!(s.resource_share_status.as_str(), "Active" | "Pending")
        }))
    }

    /// Every item of the token-paged listing `action` (`MaxResults` of [`MAX_RESULTS`],
    /// `NextToken`) with the parameters `base`, through the one pager
    /// ([`paginate`]: it stops on a token that does not advance and after too many pages).
    async fn list_all<R, T>(
        &self,
        cx: &CallContext,
        action: &'static str,
        base: Vec<(String, String)>,
        items: fn(R) -> (Vec<T>, String),
    ) -> Result<Vec<T>>
    where
        R: Answer + Send,
        T: Send,
    {
        let listing = Listing::new(self.client.provider(), action);
        paginate(listing, |cursor| {
            let mut p = base.clone();
            p.push(("MaxResults".to_owned(), MAX_RESULTS.to_string()));
            if let Some(PageCursor::Token(token)) = cursor {
                p.push(("NextToken".to_owned(), token));
            }
            async move {
                let resp: R = self.client.call(cx, action, p, Self::spec(true)).await?;
                let (items, next) = items(resp);
                let next = (!next.is_empty()).then_some(PageCursor::Token(next));
                Ok(Page::new(items, next))
            }
        })
        .try_collect()
        .await
    }

    /// Shares `image` with `targets` (directory, folders, members; at most 5): creates the
    /// image's resource share with them, or associates them with the existing one.
    pub async fn share(
        &self,
        cx: &CallContext,
        image: &ImageId,
        targets: &[Principal],
    ) -> Result<ShareReport> {
        let targets = ECS_LIMITS_REF.org_targets_for_call(targets, &ECS_ORG_TARGETS)?;
        let request_id = match self.find_share(cx, image).await? {
            Some(share) => {
                let mut p = params([("ResourceShareId", share.resource_share_id.as_str())]);
                push_targets(&mut p, &targets);
                let resp: AssociationsResponse = self
                    .client
                    .call(cx, "AssociateResourceShare", p, Self::spec(true))
                    .await?;
                resp.request_id
            }
            None => {
                let name = share_name(image);
                let mut p = params([
                    ("ResourceShareName", name.as_str()),
                    ("Resources.1.ResourceId", image.as_str()),
                    ("Resources.1.ResourceType", IMAGE_RESOURCE_TYPE),
                ]);
                if self.allow_external_targets {
                    p.push(("AllowExternalTargets".to_owned(), "true".to_owned()));
                }
                push_targets(&mut p, &targets);
                let resp: CreateResourceShareResponse = self
                    .client
                    .call(cx, "CreateResourceShare", p, Self::spec(false))
                    .await?;
                resp.request_id
            }
        };
        Ok(report(image, &targets, ShareOutcome::Granted, request_id))
    }

    /// Revokes `targets` (at most 5) from the image's resource share
    /// (`DisassociateResourceShare`). Only targets associated now are sent (the service
    /// refuses the others with `DisassociateInvalid`), so a re-run is a no-op: the others,
    /// and every target of an image without a share, are reported not granted.
    pub async fn unshare(
        &self,
        cx: &CallContext,
        image: &ImageId,
        targets: &[Principal],
    ) -> Result<ShareReport> {
        let targets = ECS_LIMITS_REF.org_targets_for_call(targets, &ECS_ORG_TARGETS)?;
        let Some(share) = self.find_share(cx, image).await? else {
            return Ok(report(
                image,
                &targets,
                ShareOutcome::NotGranted,
                String::new(),
            ));
        };
        let live = self.live_targets(cx, &share.resource_share_id).await?;
        let (associated, absent): (Vec<Principal>, Vec<Principal>) = targets
            .into_iter()
            .partition(|t| live.iter().any(|a| a.entity_id == t.id()));
        let mut out = report(image, &absent, ShareOutcome::NotGranted, String::new());
        if associated.is_empty() {
            return Ok(out);
        }
        let mut p = params([("ResourceShareId", share.resource_share_id.as_str())]);
        push_targets(&mut p, &associated);
        let resp: AssociationsResponse = self
            .client
            .call(cx, "DisassociateResourceShare", p, Self::spec(true))
            .await?;
        out.extend(report(
            image,
            &associated,
            ShareOutcome::Revoked,
            resp.request_id,
        ));
        Ok(out)
    }

    /// The organisation targets `image` is shared with now (associations `Associated` or
    /// `Associating` of the image's resource share); empty when it has none.
    pub async fn sharees(&self, cx: &CallContext, image: &ImageId) -> Result<Vec<Sharee>> {
        let Some(share) = self.find_share(cx, image).await? else {
            return Ok(Vec::new());
        };
        Ok(self
            .live_targets(cx, &share.resource_share_id)
            .await?
            .iter()
            .map(|a| {
                Sharee::new(target_principal(&a.entity_id))
                    .with_shared_at(Timestamp::from_reported("CreateTime", &a.create_time))
            })
            .collect())
    }

    /// The target associations of share `share_id` that are `Associated` or
    /// `Associating` (`ListResourceShareAssociations`, every page).
    async fn live_targets(
        &self,
        cx: &CallContext,
        share_id: &str,
    ) -> Result<Vec<ResourceShareAssociation>> {
        let base = params([
            ("AssociationType", "Target"),
            ("ResourceShareIds.1", share_id),
        ]);
        let all = self
            .list_all(
                cx,
                "ListResourceShareAssociations",
                base,
                |r: ListAssociationsResponse| (r.resource_share_associations, r.next_token),
            )
            .await?;
        Ok(all
            .into_iter()
            .filter(|a| matches!(a.association_status.as_str(), "Associated" | "Associating"))
            .collect())
    }

    /// Accepts a resource-share invitation on the recipient side (an account outside the
    /// directory, invited through a share with `AllowExternalTargets=true`):
    /// `AcceptResourceShareInvitation`.
    pub async fn accept_invitation(&self, cx: &CallContext, invitation_id: &str) -> Result<String> {
        if invitation_id.is_empty()
            || !invitation_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(Error::invalid_input(
                "invitation id",
                format!("{invitation_id:?} is not a resource share invitation id (letters, digits and `-`)"),
            ));
        }
        let p = params([("ResourceShareInvitationId", invitation_id)]);
        let resp: Empty = self
            .client
            .call(cx, "AcceptResourceShareInvitation", p, Self::spec(true))
            .await?;
        Ok(resp.request_id)
    }
}

/// The ECS table, for the per-call checks of the organisation targets.
const ECS_LIMITS_REF: &ShareLimits = &crate::limits::ECS_LIMITS;

/// The principal of a target id: `rd-...` a directory, `fd-...` a folder, else a
/// member account (the id forms are the API's; `EntityType` is not relied on, since
/// the docs give it as `Account` for every target in one place and as
/// `ResourceDirectory` / `Folder` / `Account` in another).
#[must_use]
pub fn target_principal(id: &str) -> Principal {
    if id.starts_with(ECS_ORG_TARGETS.directory_prefix) {
        Principal::directory(id)
    } else if id.starts_with(ECS_ORG_TARGETS.folder_prefix) {
        Principal::folder(id)
    } else {
        Principal::member(id)
    }
}

/// `Targets.1..N` from the principals' ids.
fn push_targets(p: &mut Vec<(String, String)>, targets: &[Principal]) {
    for (i, t) in targets.iter().enumerate() {
        p.push((format!("Targets.{}", i + 1), t.id().to_owned()));
    }
}

fn params<const N: usize>(pairs: [(&str, &str); N]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn report(
    image: &ImageId,
    targets: &[Principal],
    outcome: ShareOutcome,
    request_id: String,
) -> ShareReport {
    let mut r = ShareReport::new(image.clone());
    if !request_id.is_empty() {
        r.add_request_id(request_id);
    }
    for t in targets {
        r.push(t.clone(), outcome.clone());
    }
    r
}

/// Splits `principals` into the image's own share list (accounts) and the organisation
/// targets Resource Sharing carries.
pub(crate) fn split(principals: &[Principal]) -> (Vec<Principal>, Vec<Principal>) {
    principals.iter().cloned().partition(|p| !p.kind().is_org())
}

/// Runs the account part and the organisation part of one share / unshare and merges
/// their reports. A part that fails marks its own principals failed; when both parts
/// ran and one failed, the answer is `Error::Partial`; when only one part ran, its error
/// is the answer.
pub(crate) async fn merged<A, O>(
    image: &ImageId,
    accounts: &[Principal],
    org: &[Principal],
    account_part: A,
    org_part: O,
) -> Result<ShareReport>
where
    A: std::future::Future<Output = Result<ShareReport>>,
    O: std::future::Future<Output = Result<ShareReport>>,
{
    match (accounts.is_empty(), org.is_empty()) {
        (_, true) => return account_part.await,
        (true, false) => return org_part.await,
        _ => {}
    }
    let mut out = ShareReport::new(image.clone());
    for (part, who) in [(account_part.await, accounts), (org_part.await, org)] {
        match part {
            Ok(r) => out.extend(r),
            Err(Error::Partial(r)) => out.extend(*r),
            Err(e) => {
                let e = Arc::new(e);
                for p in who {
                    out.push(p.clone(), ShareOutcome::Failed(e.clone()));
                }
            }
        }
    }
    out.into_result()
}
