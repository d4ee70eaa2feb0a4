//! The instance metadata services of both clouds on the emulator's one address, told
//! apart by path (the only marker a metadata request carries; no API request uses these
//! paths). The real services live at `http://100.100.100.200` (Alibaba) and
//! `http://metadata.tencentyun.com` (Tencent); a client pointed at the emulator sends the
//! same paths to its base URL.
//!
//! | cloud | request | answer |
//! |---|---|---|
//! | Alibaba | `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds` (1..=21600) | the token, `text/plain` (400 when the TTL is missing or out of range) |
//! | Alibaba | `GET /latest/meta-data/ram/security-credentials/` | the instance role's name, `text/plain` (404 without one) |
//! | Alibaba | `GET /latest/meta-data/ram/security-credentials/<role>` | `{"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration", "LastUpdated", "Code": "Success"}` |
//! | Tencent | `GET /latest/meta-data/cam/security-credentials/` | the role name, `text/plain` |
//! | Tencent | `GET /latest/meta-data/cam/security-credentials/<role>` | `{"TmpSecretId", "TmpSecretKey", "ExpiredTime", "Expiration", "Token", "Code": "Success"}` |
//!
//! Alibaba GETs may carry `X-aliyun-ecs-metadata-token`; an unknown or expired one is
//! refused with 401, and so is a GET without one when the world sets
//! `metadata.imdsv2_required` (IMDSv1 disabled). The 401 status is UNCONFIRMED (it is the
//! answer of the hardened-mode services the clients are written against).
//!
//! Sources: aliyun/credentials-python 1.0.12
//! `alibabacloud_credentials/provider/ecs_ram_role.py` (host `100.100.100.200`, paths
//! `/latest/meta-data/ram/security-credentials/` and `/latest/api/token`, method `PUT`,
//! headers `X-aliyun-ecs-metadata-token-ttl-seconds` and `X-aliyun-ecs-metadata-token`,
//! fields `Code` (must be `Success`), `AccessKeyId`, `AccessKeySecret`, `SecurityToken`,
//! `Expiration` in `%Y-%m-%dT%H:%M:%SZ`); tencentcloud-sdk-python-common 3.1.195
//! `tencentcloud/common/credential.py` `CVMRoleCredential` (endpoint
//! `http://metadata.tencentyun.com/latest/meta-data/cam/security-credentials/`, fields
//! `TmpSecretId`, `TmpSecretKey`, `Token`, `ExpiredTime`). `LastUpdated` and Tencent's
//! `Expiration` / `Code` follow the clouds' metadata documentation.

use imageshare_core::Provider;
use serde_json::json;

use super::{Call, Caller, Frontend, Surface};
use crate::engine::{MetadataRefusal, Session};
use crate::faults::FaultKind;
use crate::server::{Reply, WireRequest};
use crate::world::Cloud;

/// The provider Alibaba metadata requests count for in the call log.
pub const ALIBABA_METADATA: Provider = Provider::new("alibaba-ecs-metadata");
/// The provider Tencent metadata requests count for in the call log.
pub const TENCENT_METADATA: Provider = Provider::new("tencent-cvm-metadata");

/// Alibaba's token path.
pub const ALIBABA_TOKEN_PATH: &str = "/latest/api/token";
/// Alibaba's credentials path (the role name follows).
pub const ALIBABA_CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
/// Tencent's credentials path (the role name follows).
pub const TENCENT_CREDENTIALS_PATH: &str = "/latest/meta-data/cam/security-credentials/";
/// Alibaba's token TTL header.
pub const TOKEN_TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";
/// Alibaba's token header.
pub const TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";

/// The metadata front-end.
pub(crate) struct Metadata;

fn text(status: u16, body: &str, code: Option<&str>) -> Reply {
    Reply {
        status,
        headers: vec![("content-type".into(), "text/plain".into())],
        body: body.as_bytes().to_vec(),
        code: code.map(str::to_owned),
    }
}

fn cloud_of(path: &str) -> Option<Cloud> {
    if path == ALIBABA_TOKEN_PATH || path.starts_with("/latest/meta-data/ram/") {
        Some(Cloud::Alibaba)
    } else if path.starts_with("/latest/meta-data/cam/") {
        Some(Cloud::Tencent)
    } else {
        None
    }
}

fn credentials(cloud: Cloud, s: &Session) -> serde_json::Value {
    match cloud {
        Cloud::Alibaba => json!({
            "AccessKeyId": s.access_key_id,
            "AccessKeySecret": s.secret.expose(),
            "SecurityToken": s.token.expose(),
            "Expiration": s.expiration_iso(),
            "LastUpdated": s.issued_iso(),
            "Code": "Success",
        }),
        Cloud::Tencent => json!({
            "TmpSecretId": s.access_key_id,
            "TmpSecretKey": s.secret.expose(),
            "Token": s.token.expose(),
            "ExpiredTime": s.expires_unix,
            "Expiration": s.expiration_iso(),
            "Code": "Success",
        }),
    }
}

impl Frontend for Metadata {
    fn classify(&self, wire: &WireRequest) -> Option<Surface> {
        let provider = match cloud_of(&wire.path)? {
            Cloud::Alibaba => ALIBABA_METADATA,
            Cloud::Tencent => TENCENT_METADATA,
        };
        Some(Surface {
            provider,
            product: Some(provider),
            action: wire.path.clone(),
            version: String::new(),
        })
    }

    /// Anonymous; Alibaba GETs are checked against the IMDSv2 token rules.
    fn authenticate(&self, call: &Call<'_>) -> Result<Caller, Reply> {
        let wire = call.wire;
        if cloud_of(&wire.path) == Some(Cloud::Alibaba) && wire.path != ALIBABA_TOKEN_PATH {
            call.shared
                .engine()
                .check_metadata_token(wire.header(TOKEN_HEADER))
                .map_err(|r| match r {
                    MetadataRefusal::TokenRequired => text(
                        401,
                        "Unauthorized: a metadata token is required",
                        Some("401"),
                    ),
                    _ => text(401, "Unauthorized: invalid metadata token", Some("401")),
                })?;
        }
        Ok(Caller::anonymous())
    }

    fn dispatch(&self, call: &Call<'_>, _caller: &Caller) -> Reply {
        let wire = call.wire;
        let _span = tracing::info_span!("metadata", path = %wire.path).entered();
        let Some(cloud) = cloud_of(&wire.path) else {
            return text(404, "Not Found", Some("404"));
        };
        let mut engine = call.shared.engine();
        if wire.path == ALIBABA_TOKEN_PATH {
            if wire.method != "PUT" {
                return text(405, "Method Not Allowed", Some("405"));
            }
            return match engine.issue_metadata_token(wire.header(TOKEN_TTL_HEADER)) {
                Ok(token) => text(200, &token, None),
                Err(_) => text(
                    400,
                    "Bad Request: X-aliyun-ecs-metadata-token-ttl-seconds must be 1..21600",
                    Some("400"),
                ),
            };
        }
        if wire.method != "GET" {
            return text(405, "Method Not Allowed", Some("405"));
        }
        let base = match cloud {
            Cloud::Alibaba => ALIBABA_CREDENTIALS_PATH,
            Cloud::Tencent => TENCENT_CREDENTIALS_PATH,
        };
        let Some(rest) = wire.path.strip_prefix(base) else {
            return text(404, "Not Found", Some("404"));
        };
        if rest.is_empty() {
            return match engine.instance_role(cloud) {
                Some(role) => text(200, &role.name, None),
                None => text(404, "Not Found", Some("404")),
            };
        }
        match engine.instance_credentials(cloud, rest.trim_end_matches('/')) {
            Some(session) => Reply::json(200, &credentials(cloud, &session), None),
            None => text(404, "Not Found", Some("404")),
        }
    }

    fn fault_reply(&self, _call: &Call<'_>, _kind: FaultKind) -> Reply {
        text(500, "Internal Server Error", Some("500"))
    }
}
