//! UCloud `RetCode` values: the documented ones this crate and the emulator use, and the
//! codes imageshare chose for the project-sharing rules UCloud documents no code for.
//!
//! Sources: gateway codes from `docs.ucloud.cn/api/summary/public` (ucloud.md §3.5); UHost
//! product codes from `docs.ucloud.cn/api/uhost-api/error_code` (UCloudDoc-Team/api
//! `uhost-api/error_code.md`).
//!
//! # Codes chosen by imageshare (not UCloud's)
//!
//! UCloud publishes no API action for project sharing, and so no error code for its rules.
//! The emulator answers those rules with the codes below, in the unused `899x` range after
//! UCloud's last documented UHost code (8987). They are **imageshare's choice**: a real
//! deployment that serves share actions may use other codes.
//!
//! | code | rule |
//! |---|---|
//! | [`SHARE_QUOTA_EXCEEDED`] 8990 | more than 50 projects on one image |
//! | [`SHARE_CROSS_REGION`] 8991 | the image lives in another region than the request's `Region` |
//! | [`SHARE_LIGHTWEIGHT_IMAGE`] 8992 | a Lightweight App UHost (ULHost) image |
//! | [`SHARE_SYSTEM_DISK_ONLY`] 8993 | an image with data-disk snapshots (system-disk images only) |
//! | [`SHARE_NOT_SHARER`] 8994 | the caller received the image: only the sharer shares or cancels |
//! | [`SHARE_WITH_OWN_PROJECT`] 8995 | the target project is the image's own project |
//!
//! Documented codes reused for sharing, where their text fits: [`IMAGE_NOT_FOUND`] (8956,
//! "resource does not exist or is not a custom image"), [`IMAGE_STATE_UNAVAILABLE`] (8961,
//! "source image state unavailable"), [`PROJECT_NOT_EXISTS`] (292) for an unknown target
//! project and [`PARAMETER_ERROR`] (230) for a malformed parameter.

use imageshare_core::transport::RetryReason;

/// Success.
pub const OK: i64 = 0;
/// Service temporarily unavailable, retry later (gateway).
pub const SERVICE_UNAVAILABLE: i64 = 150;
/// Request throttled (gateway).
pub const THROTTLED: i64 = 153;
/// Missing `Action` (gateway).
pub const MISSING_ACTION: i64 = 160;
/// `Action` does not exist (gateway).
pub const ACTION_NOT_EXISTS: i64 = 161;
/// Missing `Signature` (gateway).
pub const MISSING_SIGNATURE: i64 = 170;
/// Signature error (gateway).
pub const SIGNATURE_ERROR: i64 = 171;
/// User does not exist: unknown `PublicKey` (gateway).
pub const USER_NOT_EXISTS: i64 = 172;
/// Token does not exist (gateway, "Token 不存在", `summary/public.md`).
///
/// To a request signed with temporary credentials (it carried a `SecurityToken`), the
/// client reads it as **the token expired** (`Error::CredentialsExpired`: refresh once,
/// retry once). UCloud documents no separate "token expired" RetCode: the Go SDK's
/// `client.CredentialExpiredError` (`docs/en-us/Auth.md`) is raised by the SDK itself
/// before sending, when `Credential.Expires` has passed (`ucloud/client.go`,
/// `ucloud/error/client_error.go`), never from an answer; ucloud-cli measured that the
/// gateway answers 174 for an expired as well as a forged Bearer token
/// (`cmd/internal/platform/client.go`). That 174 is also what an expired STS
/// `SecurityToken` gets is **UNCONFIRMED**; a wrong guess costs one refresh and one retry.
pub const TOKEN_NOT_EXISTS: i64 = 174;
/// Parameter problem, e.g. `Params [ImageId] not available` (seen from the gateway by the
/// UCloud CLI; not in the documented table, ucloud.md §3.5).
pub const PARAMETER_ERROR: i64 = 230;
/// Project does not exist (gateway).
pub const PROJECT_NOT_EXISTS: i64 = 292;
/// IAM permission check failed (gateway).
pub const PERMISSION_DENIED: i64 = 299;
/// Resource does not exist or is not a custom image (UHost).
pub const IMAGE_NOT_FOUND: i64 = 8956;
/// Source image state unavailable (UHost, image copy).
pub const IMAGE_STATE_UNAVAILABLE: i64 = 8961;
/// Target project equals the source image's project, nothing to migrate (UHost, copy).
pub const SAME_PROJECT_COPY: i64 = 8962;

/// imageshare's code: the image is already shared with 50 projects.
pub const SHARE_QUOTA_EXCEEDED: i64 = 8990;
/// imageshare's code: sharing across regions is not supported.
pub const SHARE_CROSS_REGION: i64 = 8991;
/// imageshare's code: Lightweight App UHost images cannot be shared.
pub const SHARE_LIGHTWEIGHT_IMAGE: i64 = 8992;
/// imageshare's code: only system-disk images can be shared.
pub const SHARE_SYSTEM_DISK_ONLY: i64 = 8993;
/// imageshare's code: only the sharer (the owning project) shares or cancels a share.
pub const SHARE_NOT_SHARER: i64 = 8994;
/// imageshare's code: an image cannot be shared with its own project.
pub const SHARE_WITH_OWN_PROJECT: i64 = 8995;

/// True for the gateway codes that reject the credentials or the signature
/// (170, 171, 172, 174): the client maps them to `Error::Auth`.
#[must_use]
pub fn is_auth(code: i64) -> bool {
    matches!(
        code,
        MISSING_SIGNATURE | SIGNATURE_ERROR | USER_NOT_EXISTS | TOKEN_NOT_EXISTS
    )
}

/// Why an answer with `code` is worth retrying after a pause, if it is: 153 (throttled)
/// is [`RetryReason::Throttled`], 150 (service temporarily unavailable, "retry later")
/// [`RetryReason::ServerError`].
///
/// Both official SDKs treat gateway codes below 2000 as non-retryable (ucloud.md §6);
/// imageshare retries these two on idempotent actions only, because both say the request
/// was not processed.
#[must_use]
pub fn retry_reason(code: i64) -> Option<RetryReason> {
    match code {
        THROTTLED => Some(RetryReason::Throttled),
        SERVICE_UNAVAILABLE => Some(RetryReason::ServerError),
        _ => None,
    }
}

/// Why an HTTP status is worth retrying, for the statuses both official SDKs retry
/// (ucloud.md §6): 429 is [`RetryReason::Throttled`]; 502, 503 and 504 are
/// [`RetryReason::ServerError`]. (500 is not retried, unlike
/// [`RetryReason::of_status`].)
#[must_use]
pub fn status_retry_reason(status: u16) -> Option<RetryReason> {
    match status {
        429 => Some(RetryReason::Throttled),
        502..=504 => Some(RetryReason::ServerError),
        _ => None,
    }
}
