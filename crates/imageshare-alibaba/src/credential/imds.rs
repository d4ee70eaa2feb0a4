//! Shared by the metadata-server and credentials-URI sources: a `GET` through the
//! adapter's transport and the `{Code, AccessKeyId, AccessKeySecret, SecurityToken,
//! Expiration}` answer both serve.

use imageshare_core::credentials::Expiring;
use imageshare_core::transport::{
    header_map, ApiCall, HttpRequest, HttpResponse, Method, RetryReason,
};
use imageshare_core::{ApiError, CallContext, Error, Result};
use serde::Deserialize;

use super::sts::{temporary, Services};
use super::AlibabaCredentials;

/// A temporary-credentials answer (metadata server, credentials URI). No `Debug`: it
/// holds secrets.
#[derive(Deserialize)]
pub(crate) struct CredentialsAnswer {
    #[serde(rename = "Code", default)]
    code: Option<String>,
    #[serde(rename = "AccessKeyId", default)]
    access_key_id: String,
    #[serde(rename = "AccessKeySecret", default)]
    access_key_secret: String,
    #[serde(rename = "SecurityToken", default)]
    security_token: String,
    #[serde(rename = "Expiration", default)]
    expiration: String,
}

/// Parses an answer: JSON of [`CredentialsAnswer`]'s shape whose `Code`, when present, is
/// `Success`. The error never quotes the body (it may hold a secret).
pub(crate) fn parse_credentials(
    body: &[u8],
    code_required: bool,
) -> std::result::Result<Expiring<AlibabaCredentials>, String> {
    let a: CredentialsAnswer = serde_json::from_slice(body).map_err(|e| {
        format!(
            "the answer is not the expected JSON ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        )
    })?;
    match a.code.as_deref() {
        Some("Success") => {}
        None if !code_required => {}
        other => {
            return Err(format!(
                "the answer's Code is {:?}, not \"Success\"",
                other.unwrap_or("")
            ))
        }
    }
    temporary(
        a.access_key_id,
        a.access_key_secret,
        a.security_token,
        &a.expiration,
    )
}

/// `GET url` with `headers` through the transport (timeouts, retries of 5xx and
/// connection failures, a span named `action`): the body of a 2xx answer, else an
/// `Error::Api` with code `HTTP<status>`.
pub(crate) async fn get(
    services: &Services,
    action: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Vec<u8>> {
    send(services, Method::Get, action, url, headers).await
}

/// [`get`] with another method (`PUT` for the IMDSv2 token).
pub(crate) async fn send(
    services: &Services,
    method: Method,
    action: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Vec<u8>> {
    let provider = services.provider();
    services
        .transport()
        .call(
            &CallContext::new(),
            ApiCall {
                provider,
                action,
                region: "-",
                idempotent: true,
            },
            |_| {
                Ok(HttpRequest {
                    method,
                    url: url.to_owned(),
                    headers: header_map(headers.iter().copied())?,
                    body: Default::default(),
                })
            },
            |resp: HttpResponse| {
                if (200..300).contains(&resp.status) {
                    return Ok(resp.body);
                }
                Err(Error::from(
                    ApiError::new(
                        provider,
                        action,
                        resp.status,
                        format!("HTTP{}", resp.status),
                        format!("HTTP {} ({} bytes)", resp.status, resp.body.len()),
                    )
                    .with_retry(RetryReason::of_status(resp.status)),
                ))
            },
        )
        .await
}

/// `url` without its query string (which may carry a token), for messages.
pub(crate) fn shown_url(url: &str) -> &str {
    url.split_once('?').map_or(url, |(base, _)| base)
}
