//! Wire models of the Resource Sharing (2020-01-10) answers imageshare reads, in the
//! field names of the official SDK's response models
//! (`aliyun/alibabacloud-python-sdk` `resourcesharing-20200110/.../models/`
//! `_create_resource_share_response_body.py`, `_list_resource_shares_response_body.py`,
//! `_list_resource_share_associations_response_body.py`,
//! `_associate_resource_share_response_body.py`). Unknown fields are ignored, missing
//! ones take their defaults.

use serde::Deserialize;

use crate::model::Answer;

/// One resource share (`ResourceShare` of `CreateResourceShare`, an entry of
/// `ListResourceShares`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ResourceShare {
    /// `rs-...`.
    pub resource_share_id: String,
    /// The name (`imageshare-<image id>` for the shares imageshare makes).
    pub resource_share_name: String,
    /// The owner account id.
    pub resource_share_owner: String,
    /// `Active`, `Pending`, `Deleting`, `Deleted`.
    pub resource_share_status: String,
    /// Whether accounts outside the resource directory may be targets.
    pub allow_external_targets: bool,
    /// Creation time.
    pub create_time: String,
}

/// `CreateResourceShare` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateResourceShareResponse {
    /// The request id.
    pub request_id: String,
    /// The share made.
    pub resource_share: ResourceShare,
}

/// `ListResourceShares` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListResourceSharesResponse {
    /// The request id.
    pub request_id: String,
    /// The token of the next page; empty on the last.
    pub next_token: String,
    /// The shares of this page.
    pub resource_shares: Vec<ResourceShare>,
}

/// One association: a resource or a target of a resource share.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ResourceShareAssociation {
    /// `rs-...`.
    pub resource_share_id: String,
    /// The share's name.
    pub resource_share_name: String,
    /// `Resource` or `Target`.
    pub association_type: String,
    /// The resource id (`m-...`) or the target id (`rd-...`, `fd-...`, an account id).
    pub entity_id: String,
    /// The resource type (`Image`), or for a target `ResourceDirectory`, `Folder`,
    /// `Account` or `Service`.
    pub entity_type: String,
    /// `Associating`, `Associated`, `Failed`, `Disassociating`, `Disassociated`.
    pub association_status: String,
    /// Why an association failed.
    pub association_status_message: String,
    /// Whether the target is outside the resource directory.
    pub external: bool,
    /// When the association was made.
    pub create_time: String,
}

/// `AssociateResourceShare` / `DisassociateResourceShare` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AssociationsResponse {
    /// The request id.
    pub request_id: String,
    /// The associations made or removed.
    pub resource_share_associations: Vec<ResourceShareAssociation>,
}

/// `ListResourceShareAssociations` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListAssociationsResponse {
    /// The request id.
    pub request_id: String,
    /// The token of the next page; empty on the last.
    pub next_token: String,
    /// The associations of this page.
    pub resource_share_associations: Vec<ResourceShareAssociation>,
}

impl Answer for CreateResourceShareResponse {
    fn request_id(&self) -> &str {
        &self.request_id
    }
}
impl Answer for ListResourceSharesResponse {
    fn request_id(&self) -> &str {
        &self.request_id
    }
}
impl Answer for AssociationsResponse {
    fn request_id(&self) -> &str {
        &self.request_id
    }
}
impl Answer for ListAssociationsResponse {
    fn request_id(&self) -> &str {
        &self.request_id
    }
}
