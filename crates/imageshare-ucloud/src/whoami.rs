//! `whoami` for UCloud: who the adapter's credentials act as.
//!
//! UCloud has a caller-identity action: `GetUserInfo` of UAccount (ucloud-sdk-go
//! `services/uaccount/apis.go`, no parameters, answer `DataSet: []UserInfo` with `UserId`,
//! `UserEmail`, `CompanyName`, ... in `services/uaccount/models.go`); ucloud-cli calls it to
//! check the keys it was configured with (`cmd/region.go` `getUserInfo`, `cmd/configure.go`)
//! and expects exactly one entry. It is not in the public API reference
//! (UCloudDoc-Team/api has no `uaccount-api/get_user_info.md`).
//!
//! [`whoami`] reports the `UserId` of that one entry as the account, where the credentials
//! came from, and when temporary credentials expire. When the cloud refuses the action
//! (RetCode 299, IAM permission denied, as a sub-account or a narrow role may get; 161,
//! action unknown, from an endpoint without UAccount) the account is the configured project
//! (or `default project`) and the source says plainly that **the cloud did not confirm
//! it**. UCloud reports no ARN for the caller, so `arn` is `None`.

use serde::Deserialize;

use imageshare_core::{CallContext, CallerIdentity, Error, Result};

use crate::client::{error_ret_code, Idempotency, UCloudClient};
use crate::retcode;
use crate::UHOST;

/// The UAccount caller-identity action.
pub const GET_USER_INFO: &str = "GetUserInfo";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetUserInfoResponse {
    #[serde(default)]
    data_set: Vec<UserInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserInfo {
    #[serde(default)]
    user_id: serde_json::Value,
}

/// Who `client`'s credentials act as (see the [module docs](self)).
pub async fn whoami(client: &UCloudClient, cx: &CallContext) -> Result<CallerIdentity> {
    let source = client.credentials().source().to_owned();
    let answer = client
        .call::<GetUserInfoResponse>(cx, GET_USER_INFO, Vec::new(), Idempotency::Idempotent)
        .await;
    let expires = client.credentials().get().await?.expires;
    match answer {
        Ok(answer) => {
            let [user] = answer.body.data_set.as_slice() else {
                return Err(Error::decode(
                    UHOST,
                    GET_USER_INFO,
                    format!(
                        "expected one DataSet entry, got {}",
                        answer.body.data_set.len()
                    ),
                    answer.request_id,
                ));
            };
            let account = match &user.user_id {
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) if !s.is_empty() => s.clone(),
                _ => {
                    return Err(Error::decode(
                        UHOST,
                        GET_USER_INFO,
                        "the user entry has no UserId",
                        answer.request_id,
                    ))
                }
            };
            Ok(CallerIdentity::new(UHOST, account, source).with_expires(expires))
        }
        Err(e)
            if matches!(
                error_ret_code(&e),
                Some(retcode::PERMISSION_DENIED | retcode::ACTION_NOT_EXISTS)
            ) =>
        {
            let code = error_ret_code(&e).unwrap_or_default();
            let project = client.project_id().unwrap_or("default project").to_owned();
            Ok(CallerIdentity::new(
                UHOST,
                project,
                format!(
                    "{source}; account not confirmed by the cloud ({GET_USER_INFO} refused \
                     with RetCode {code}): this is the configured project"
                ),
            )
            .with_expires(expires))
        }
        Err(e) => Err(e),
    }
}
