//! Roles, OIDC identity providers and the settings of the emulated STS and instance
//! metadata services, as the world declares them.
//!
//! ```toml
//! [sts]
//! credentials_ttl_secs = 3      # optional: lifetime of every credential the emulator issues
//!
//! [metadata]
//! imdsv2_required = true        # optional: Alibaba metadata GETs need X-aliyun-ecs-metadata-token
//!
//! [[role]]
//! cloud = "alibaba"             # alibaba | tencent
//! account = "100000000001"      # the account owning the role (an [[account]])
//! name = "deployer"
//! trust = ["100000000002", "oidc:acs:ram::100000000001:oidc-provider/ci"]
//! max_session_secs = 3600       # optional (Alibaba default 3600, Tencent 43200)
//! external_id = "abc"           # optional: AssumeRole must send this ExternalId
//! instance = true               # optional: the role of the emulated instance (one per cloud)
//!
//! [[oidc_provider]]
//! cloud = "alibaba"
//! arn = "acs:ram::100000000001:oidc-provider/ci"   # Alibaba: the OIDCProviderArn
//! # id = "ci-provider"                              # Tencent: the ProviderId
//! issuer = "https://issuer.example.com"
//! audiences = ["sts.aliyuncs.com"]
//! ```
//!
//! Role ARNs: Alibaba `acs:ram::<account>:role/<name>` (RAM role ARNs are lowercase; the
//! emulator compares names without case), Tencent `qcs::cam::uin/<account>:roleName/<name>`
//! or `qcs::cam::uin/<account>:role/<role id>` (the forms of the Tencent STS AssumeRole
//! documentation, <https://www.tencentcloud.com/document/api/1150/49456>).

use serde::{Deserialize, Serialize};

/// The clouds whose STS the emulator plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// Alibaba Cloud (STS 2015-04-01, ECS instance metadata).
    Alibaba,
    /// Tencent Cloud (STS 2018-08-13, CVM instance metadata).
    Tencent,
}

impl Cloud {
    /// `alibaba` / `tencent`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Alibaba => "alibaba",
            Cloud::Tencent => "tencent",
        }
    }
    /// The longest session a role allows when the world does not say: Alibaba RAM roles
    /// default to 3600 s, Tencent CAM roles allow up to 43200 s.
    #[must_use]
    pub fn default_max_session_secs(self) -> u64 {
        match self {
            Cloud::Alibaba => 3600,
            Cloud::Tencent => 43200,
        }
    }
    /// The highest maximum session a role of this cloud may declare (both: 12 hours).
    #[must_use]
    pub fn max_session_ceiling(self) -> u64 {
        43200
    }
}

/// A role of the world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSeed {
    /// The cloud the role lives in.
    pub cloud: Cloud,
    /// The account owning the role.
    pub account: String,
    /// The role name.
    pub name: String,
    /// Who may assume it: account ids, or `oidc:<provider arn or id>`.
    #[serde(default)]
    pub trust: Vec<String>,
    /// The longest session (seconds) it allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_session_secs: Option<u64>,
    /// The ExternalId an AssumeRole must send, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Whether this is the role attached to the emulated instance (metadata service).
    #[serde(default)]
    pub instance: bool,
}

impl RoleSeed {
    /// A role of `account` on `cloud`, trusted by nobody yet.
    #[must_use]
    pub fn new(cloud: Cloud, account: &str, name: &str) -> Self {
        Self {
            cloud,
            account: account.to_owned(),
            name: name.to_owned(),
            trust: Vec::new(),
            max_session_secs: None,
            external_id: None,
            instance: false,
        }
    }
    /// Adds a trusted principal (an account id or `oidc:<provider>`).
    #[must_use]
    pub fn trust(mut self, who: &str) -> Self {
        self.trust.push(who.to_owned());
        self
    }
    /// Sets the longest session.
    #[must_use]
    pub fn max_session_secs(mut self, secs: u64) -> Self {
        self.max_session_secs = Some(secs);
        self
    }
    /// Requires this ExternalId.
    #[must_use]
    pub fn external_id(mut self, id: &str) -> Self {
        self.external_id = Some(id.to_owned());
        self
    }
    /// Makes it the role of the emulated instance.
    #[must_use]
    pub fn instance(mut self) -> Self {
        self.instance = true;
        self
    }
    /// The role's ARN in its cloud's form.
    #[must_use]
    pub fn arn(&self) -> String {
        match self.cloud {
            Cloud::Alibaba => format!(
                "acs:ram::{}:role/{}",
                self.account,
                self.name.to_lowercase()
            ),
            Cloud::Tencent => format!("qcs::cam::uin/{}:roleName/{}", self.account, self.name),
        }
    }
    /// The longest session it allows.
    #[must_use]
    pub fn max_session(&self) -> u64 {
        self.max_session_secs
            .unwrap_or_else(|| self.cloud.default_max_session_secs())
    }
}

/// An OIDC identity provider registered in a cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderSeed {
    /// The cloud it is registered in; derived from `arn` (Alibaba) or `id` (Tencent) when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<Cloud>,
    /// Alibaba: the provider ARN `acs:ram::<account>:oidc-provider/<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Tencent: the ProviderId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The `iss` its tokens must carry.
    pub issuer: String,
    /// The client ids (`aud`) it accepts.
    #[serde(default)]
    pub audiences: Vec<String>,
}

impl OidcProviderSeed {
    /// An Alibaba provider by ARN.
    #[must_use]
    pub fn alibaba(arn: &str, issuer: &str, audiences: &[&str]) -> Self {
        Self {
            cloud: Some(Cloud::Alibaba),
            arn: Some(arn.to_owned()),
            id: None,
            issuer: issuer.to_owned(),
            audiences: audiences.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
    /// A Tencent provider by ProviderId.
    #[must_use]
    pub fn tencent(id: &str, issuer: &str, audiences: &[&str]) -> Self {
        Self {
            cloud: Some(Cloud::Tencent),
            arn: None,
            id: Some(id.to_owned()),
            issuer: issuer.to_owned(),
            audiences: audiences.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
    /// The cloud it belongs to.
    #[must_use]
    pub fn cloud(&self) -> Cloud {
        self.cloud.unwrap_or(if self.arn.is_some() {
            Cloud::Alibaba
        } else {
            Cloud::Tencent
        })
    }
    /// The name a request and a role's trust use: the ARN (Alibaba) or the id (Tencent).
    #[must_use]
    pub fn key(&self) -> &str {
        self.arn.as_deref().or(self.id.as_deref()).unwrap_or("")
    }
}

/// Settings of the emulated STS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StsSettings {
    /// Lifetime (seconds) of every credential the emulator issues (STS and instance
    /// metadata). When absent, STS credentials live for the DurationSeconds asked (default
    /// 3600 on Alibaba, 7200 on Tencent) and instance credentials for 3600 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_ttl_secs: Option<u64>,
}

/// Settings of the emulated instance metadata service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataSettings {
    /// Whether the Alibaba metadata service refuses GETs without a valid
    /// `X-aliyun-ecs-metadata-token` (IMDSv1 disabled, "hardened mode").
    #[serde(default)]
    pub imdsv2_required: bool,
}
