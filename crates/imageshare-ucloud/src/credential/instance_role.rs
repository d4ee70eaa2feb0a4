//! The instance role of a UHost / UPHost: temporary credentials from the metadata server
//! ([`InstanceRoleProvider`]), **only when asked for** ([`InstanceRole`]).
//!
//! # What UCloud's Go SDK does (confirmed, ucloud/ucloud-sdk-go at `ff76b12`)
//!
//! | rule | source |
//! |---|---|
//! | metadata server `http://100.80.80.80`, plain GETs | `ucloud/metadata/client.go` (`globalEndpoint`, `SendRequest`) |
//! | v2: `GET /meta-data/v2/iam/security-credentials[/<role>]`, optional headers `Duration-Seconds` (900-3600, default 3600), `Session-Name`, `Role-Policy` (base64 JSON) | `external/sts_common.go` (`stsV2BasePath`), `external/sts_creds_v2.go` (`AssumeRoleV2Request`, `loadSTSConfigV2`) |
//! | v2 answer `{RetCode, Message, Data{AccessKeyId, AccessKeySecret, SecurityToken, Expiration (ISO 8601), CharacterName, ProjectID, HostID, UHostID, UPHostId}}`; `RetCode` != 0 is an error | `external/sts_creds_v2.go`, `external/sts_creds_v2_test.go` |
//! | v1: `GET /meta-data/v1/uam/security-credentials[/<role>]`, answer `{RetCode, Message, Data{Expiration (Unix seconds), PrivateKey, PublicKey, SecurityToken, ProjectID, CharacterName, UHostID, UPHostId}}` (the SDK does not check `RetCode` there; imageshare does) | `external/sts_creds.go` |
//! | region and zone: `GET /meta-data/latest/region`, `/meta-data/latest/availability-zone` (text, trimmed) | `external/sts_common.go` (`fetchRegionAndZone`) |
//! | with instance-role credentials the SDK talks to the in-VPC endpoint `http://api.service.ucloud.cn` | `external/sts_common.go` (`internalBaseUrl`) |
//! | the default chain (`external.LoadDefaultUCloudConfig`: environment, then shared files) **never** tries the metadata server: a program asks for it with `LoadSTSConfig` (v1) or `LoadSTSConfigV2` (v2) | `external/config.go`; `docs/en-us/Auth.md`; `examples/stscreds/main.go` |
//! | the SDK picks no version for you; v2 is the newer API (added in "sdk: add STS V2 support", `8b619ba`) and the one with session options | `git log -- external/` |
//! | ucloud-cli has no STS or instance-role configuration (AK/SK or OAuth only) | ucloud/ucloud-cli `cmd/internal/platform/config.go`, `client.go` at `713ed48` |
//!
//! # What imageshare does
//!
//! As the SDK: the instance role is used only when asked for
//! ([`UCloudImageSharingBuilder::instance_role`](crate::UCloudImageSharingBuilder::instance_role)),
//! v2 by default ([`MetadataVersion`]). Asked for, it is the last source of the key chain
//! (after explicit, environment and shared-file keys); not asked for, the chain notes it in
//! the "no credentials found" error so that a user on a UHost learns it exists. The metadata
//! server is `ClientConfig::metadata_endpoint()` (`IMAGESHARE_METADATA_ENDPOINT`) when set,
//! else [`METADATA_ENDPOINT`], with short timeouts (1 s to connect, 3 s per request). It is
//! fetched when the credentials are first needed (the chain itself never does I/O beyond
//! files); an unreachable server is an [`Error::CredentialSource`] naming the URL and
//! listing every source the chain tried before. When no base URL is configured anywhere,
//! the client then uses [`INTERNAL_BASE_URL`], as the SDK does.
//!
//! Not done: the answer's `ProjectID` and the metadata region and zone are not applied to
//! the client, because the builder needs the region before any I/O: set the region (and
//! the project, for sub-accounts) explicitly or in `UCLOUD_*`; [`InstanceRoleProvider::placement`]
//! reads them for a caller who wants to.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;

use imageshare_core::credentials::{Expiring, ProvideCredentials, ProvideFuture};
use imageshare_core::transport::{
    ApiCall, ClientOptions, HeaderMap, HeaderName, HeaderValue, HttpRequest, Method, RetryConfig,
    Transport,
};
use imageshare_core::{Error, Result, Secret};

use crate::UHOST;

use super::sts::{parse_expiration, secret};
use super::UCloudCredentials;

/// The metadata server of UCloud hosts (`ucloud/metadata/client.go`).
pub const METADATA_ENDPOINT: &str = "http://100.80.80.80";
/// The in-VPC API endpoint the SDK uses with instance-role credentials
/// (`external/sts_common.go`).
pub const INTERNAL_BASE_URL: &str = "http://api.service.ucloud.cn";
/// The v1 credentials path.
pub const V1_PATH: &str = "/meta-data/v1/uam/security-credentials";
/// The v2 credentials path.
pub const V2_PATH: &str = "/meta-data/v2/iam/security-credentials";
/// The region path.
pub const REGION_PATH: &str = "/meta-data/latest/region";
/// The zone path.
pub const ZONE_PATH: &str = "/meta-data/latest/availability-zone";
/// Time allowed to connect to the metadata server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Time allowed for one metadata request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// Which metadata credentials API to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetadataVersion {
    /// `/meta-data/v1/uam/security-credentials` (`LoadSTSConfig`).
    V1,
    /// `/meta-data/v2/iam/security-credentials` (`LoadSTSConfigV2`), with session options.
    #[default]
    V2,
}

/// The instance role asked for: the role name (`None`: the host's role) and, for v2, the
/// session options sent as headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceRole {
    /// The API version (v2 by default).
    pub version: MetadataVersion,
    /// The role name appended to the path; `None` for the role bound to the host.
    pub role: Option<String>,
    /// `Duration-Seconds` (v2 only).
    pub duration: Option<Duration>,
    /// `Session-Name` (v2 only).
    pub session_name: Option<String>,
    /// `Role-Policy`, base64 JSON (v2 only).
    pub policy: Option<String>,
}

impl InstanceRole {
    /// The host's role over the v2 API.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// The role named `role`.
    #[must_use]
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }
    /// The v1 API instead of v2 (session options are then not sent).
    #[must_use]
    pub fn v1(mut self) -> Self {
        self.version = MetadataVersion::V1;
        self
    }
    /// `Duration-Seconds` (v2).
    #[must_use]
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }
    /// `Session-Name` (v2).
    #[must_use]
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.session_name = Some(name.into());
        self
    }
    /// `Role-Policy` (v2, base64 JSON).
    #[must_use]
    pub fn policy(mut self, policy: impl Into<String>) -> Self {
        self.policy = Some(policy.into());
        self
    }

    /// The path of the credentials request. A role name must be one path segment (no
    /// `/`, `?`, `#`, whitespace or control character), else [`Error::InvalidInput`].
    pub fn path(&self) -> Result<String> {
        let base = match self.version {
            MetadataVersion::V1 => V1_PATH,
            MetadataVersion::V2 => V2_PATH,
        };
        match self.role.as_deref().filter(|r| !r.is_empty()) {
            None => Ok(base.to_owned()),
            Some(role)
                if role
                    .chars()
                    .all(|c| !c.is_whitespace() && !c.is_control() && !"/?#%".contains(c)) =>
            {
                Ok(format!("{base}/{role}"))
            }
            Some(role) => Err(Error::invalid_input(
                "instance_role",
                format!("{role:?} is not a role name (one path segment)"),
            )),
        }
    }

    /// The v2 session headers (none for v1). Values are checked as header values.
    pub fn headers(&self) -> Result<HeaderMap> {
        let mut map = HeaderMap::new();
        if self.version == MetadataVersion::V1 {
            return Ok(map);
        }
        let mut add = |name: &'static str, value: String| -> Result<()> {
            let v = HeaderValue::from_str(&value).map_err(|_| {
                Error::invalid_input("instance_role", format!("{name} is not a header value"))
            })?;
            map.insert(HeaderName::from_static(name), v);
            Ok(())
        };
        if let Some(d) = self.duration.filter(|d| d.as_secs() > 0) {
            add("duration-seconds", d.as_secs().to_string())?;
        }
        if let Some(s) = self.session_name.clone().filter(|s| !s.is_empty()) {
            add("session-name", s)?;
        }
        if let Some(p) = self.policy.clone().filter(|p| !p.is_empty()) {
            add("role-policy", p)?;
        }
        Ok(map)
    }
}

/// `{RetCode, Message, Data}` of both versions.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetadataAnswer {
    #[serde(default)]
    ret_code: serde_json::Value,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Option<MetadataCredentials>,
}

/// `Data` of v1 and v2: v2 names the keys `AccessKeyId` / `AccessKeySecret`, v1
/// `PublicKey` / `PrivateKey`. Secrets go straight into [`Secret`]s.
#[derive(Deserialize)]
struct MetadataCredentials {
    #[serde(default, rename = "AccessKeyId", alias = "PublicKey")]
    key_id: String,
    #[serde(
        default,
        rename = "AccessKeySecret",
        alias = "PrivateKey",
        deserialize_with = "secret"
    )]
    key_secret: Secret,
    #[serde(default, rename = "SecurityToken", deserialize_with = "secret")]
    security_token: Secret,
    #[serde(default, rename = "Expiration")]
    expiration: serde_json::Value,
    #[serde(default, rename = "CharacterName")]
    character_name: String,
}

/// Instance-role credentials from the metadata server. See the [module docs](self).
pub struct InstanceRoleProvider {
    endpoint: String,
    role: InstanceRole,
    transport: Transport,
    tried_before: Vec<String>,
}

impl fmt::Debug for InstanceRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceRoleProvider")
            .field("endpoint", &self.endpoint)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl InstanceRoleProvider {
    /// A provider asking `endpoint` (default [`METADATA_ENDPOINT`]) for `role`, with the
    /// short timeouts of the [module docs](self). Fails on a malformed role name or header.
    pub fn new(endpoint: Option<&str>, role: InstanceRole) -> Result<Self> {
        role.path()?;
        role.headers()?;
        let options = ClientOptions::default()
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_timeout(REQUEST_TIMEOUT)
            .without_rate_limiter();
        Ok(InstanceRoleProvider {
            endpoint: endpoint
                .unwrap_or(METADATA_ENDPOINT)
                .trim_end_matches('/')
                .to_owned(),
            role,
            transport: Transport::new(options, RetryConfig::none())?,
            tried_before: Vec::new(),
        })
    }

    /// The same, saying in its errors which sources the chain tried before it.
    #[must_use]
    pub fn with_tried_before(mut self, tried: Vec<String>) -> Self {
        self.tried_before = tried;
        self
    }

    /// The metadata server asked.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn failed(&self, message: String, code: Option<String>, cause: Option<Error>) -> Error {
        let tried = if self.tried_before.is_empty() {
            String::new()
        } else {
            format!(
                "; sources tried before it: {}",
                self.tried_before.join("; ")
            )
        };
        Error::credential_source(
            UHOST,
            self.source(),
            format!("{message}{tried}"),
            code,
            cause.map(Box::new),
        )
    }

    async fn get(&self, path: &str, headers: HeaderMap) -> Result<String> {
        let url = format!("{}{path}", self.endpoint);
        let call = ApiCall {
            provider: UHOST,
            action: "metadata",
            region: "",
            idempotent: true,
        };
        let request = HttpRequest {
            method: Method::Get,
            url: url.clone(),
            headers,
            body: Bytes::new(),
        };
        let response = self.transport.send(&call, request).await.map_err(|e| {
            self.failed(
                format!(
                    "the metadata server {url} did not answer; the instance role works only \
                     on a UCloud host with a role bound to it"
                ),
                None,
                Some(e),
            )
        })?;
        if !(200..300).contains(&response.status) {
            return Err(self.failed(
                format!(
                    "the metadata server answered {url} with HTTP {}",
                    response.status
                ),
                Some(format!("HTTP{}", response.status)),
                None,
            ));
        }
        String::from_utf8(response.body).map_err(|_| {
            self.failed(
                format!("the metadata answer of {url} is not UTF-8"),
                None,
                None,
            )
        })
    }

    /// The host's region and zone (`/meta-data/latest/region`, `.../availability-zone`).
    pub async fn placement(&self) -> Result<(String, String)> {
        let region = self.get(REGION_PATH, HeaderMap::new()).await?;
        let zone = self.get(ZONE_PATH, HeaderMap::new()).await?;
        Ok((region.trim().to_owned(), zone.trim().to_owned()))
    }

    async fn fetch(&self) -> Result<Expiring<UCloudCredentials>> {
        let path = self.role.path()?;
        let text = self.get(&path, self.role.headers()?).await?;
        // Never echo the text: it holds the secret.
        let answer: MetadataAnswer = serde_json::from_str(&text).map_err(|e| {
            self.failed(
                format!(
                    "the metadata credentials answer is not the expected JSON (line {} column {})",
                    e.line(),
                    e.column()
                ),
                None,
                None,
            )
        })?;
        let code = match &answer.ret_code {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            serde_json::Value::Null => Some(0),
            _ => None,
        };
        if code != Some(0) {
            return Err(self.failed(
                format!(
                    "the metadata server refused the instance role: RetCode {} {:?}",
                    answer.ret_code, answer.message
                ),
                Some(answer.ret_code.to_string().trim_matches('"').to_owned()),
                None,
            ));
        }
        let Some(data) = answer.data else {
            return Err(self.failed("the metadata answer has no Data".into(), None, None));
        };
        if data.key_id.is_empty() || data.key_secret.expose().is_empty() {
            return Err(self.failed(
                "the metadata answer has no key pair (is a role bound to this host?)".into(),
                None,
                None,
            ));
        }
        let expires = parse_expiration(&data.expiration).ok_or_else(|| {
            self.failed(
                format!(
                    "the metadata answer's Expiration {} is not a time",
                    data.expiration
                ),
                None,
                None,
            )
        })?;
        tracing::debug!(role = %data.character_name, "instance-role credentials fetched");
        let mut credentials = UCloudCredentials::new(data.key_id, data.key_secret);
        if !data.security_token.expose().is_empty() {
            credentials = credentials.with_security_token(data.security_token);
        }
        Ok(Expiring::until(credentials, expires))
    }
}

impl ProvideCredentials<UCloudCredentials> for InstanceRoleProvider {
    fn provide(&self) -> ProvideFuture<'_, UCloudCredentials> {
        Box::pin(self.fetch())
    }

    fn source(&self) -> String {
        let version = match self.role.version {
            MetadataVersion::V1 => "v1",
            MetadataVersion::V2 => "v2",
        };
        match &self.role.role {
            Some(role) => format!(
                "instance role {role:?} from the metadata server {} ({version})",
                self.endpoint
            ),
            None => format!(
                "instance role from the metadata server {} ({version})",
                self.endpoint
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_headers() {
        assert_eq!(InstanceRole::new().path().unwrap(), V2_PATH);
        assert_eq!(
            InstanceRole::new().role("R1").v1().path().unwrap(),
            format!("{V1_PATH}/R1")
        );
        for bad in ["a/b", "a b", "a?x", "a%2f"] {
            assert!(InstanceRole::new().role(bad).path().is_err(), "{bad:?}");
        }
        let h = InstanceRole::new()
            .duration(Duration::from_secs(900))
            .session_name("s1")
            .policy("e30=")
            .headers()
            .unwrap();
        assert_eq!(h.get("duration-seconds").unwrap(), "900");
        assert_eq!(h.get("session-name").unwrap(), "s1");
        assert_eq!(h.get("role-policy").unwrap(), "e30=");
        assert!(InstanceRole::new()
            .v1()
            .session_name("s")
            .headers()
            .unwrap()
            .is_empty());
        assert!(InstanceRole::new().session_name("a\nb").headers().is_err());
    }
}
