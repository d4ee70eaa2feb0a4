//! The verifying side of TC3-HMAC-SHA256, used by the project's emulator: parse the
//! `Authorization` header ([`Tc3Authorization`], [`scope_from_authorization`]), then
//! recompute the signature over the request as received ([`ReceivedRequest`]) the way
//! Tencent's API gateway does ([`Tc3Verifier`]). A failure is a [`VerifyError`] whose
//! [`code`](VerifyError::code) is the Tencent error code to answer with.
//!
//! It shares the signature computation with the signing side ([`super::sign`]), so a
//! signer bug and a verifier bug cannot cancel out in different ways.

use imageshare_core::secret::constant_time_eq;
use imageshare_core::time::format_date;
use imageshare_core::Secret;

use super::{
    compute, credential_scope, hash_hex, Parts, ALGORITHM, MAX_CLOCK_SKEW_SECS, TERMINATOR,
    UNSIGNED_PAYLOAD,
};

/// Why a TC3 request failed verification. [`VerifyError::code`] gives the Tencent error code
/// the emulator answers with. No variant carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `Authorization` header.
    #[error("the request carries no Authorization header")]
    MissingAuthorization,
    /// The `Authorization` header is not a well-formed TC3 header.
    #[error("malformed TC3-HMAC-SHA256 Authorization header: {reason}")]
    MalformedAuthorization {
        /// What is wrong.
        reason: String,
    },
    /// No `X-TC-Timestamp` header.
    #[error("the request carries no X-TC-Timestamp header")]
    MissingTimestamp,
    /// `X-TC-Timestamp` is not a Unix time in seconds.
    #[error("X-TC-Timestamp {value:?} is not a Unix time in seconds")]
    InvalidTimestamp {
        /// The value received.
        value: String,
    },
    /// `X-TC-Timestamp` is too far from the server clock.
    #[error("signature expired: X-TC-Timestamp {timestamp} is more than {max_skew} s away from server time {now}")]
    Expired {
        /// The request's timestamp.
        timestamp: u64,
        /// The verifier's clock.
        now: u64,
        /// The allowed skew in seconds.
        max_skew: u64,
    },
    /// The credential scope date is not the UTC date of `X-TC-Timestamp`.
    #[error("credential scope date {credential_date} is not the UTC date {timestamp_date} of X-TC-Timestamp")]
    DateMismatch {
        /// The date in the credential scope.
        credential_date: String,
        /// The UTC date of `X-TC-Timestamp`.
        timestamp_date: String,
    },
    /// The credential scope names another service than the endpoint serves.
    #[error(
        "credential scope service {got:?} does not match the service {expected:?} of this endpoint"
    )]
    ServiceMismatch {
        /// The service the endpoint serves.
        expected: String,
        /// The service in the credential scope.
        got: String,
    },
    /// `SignedHeaders` lacks a header Tencent requires to be signed (`content-type`, `host`).
    #[error("SignedHeaders must include {header}")]
    RequiredHeaderNotSigned {
        /// The header that must be signed.
        header: &'static str,
    },
    /// A header named in `SignedHeaders` is not in the request.
    #[error("signed header {header} is not present in the request")]
    MissingSignedHeader {
        /// The missing header (lowercase).
        header: String,
    },
    /// The recomputed signature differs from the one sent. Carries the server-side canonical
    /// request and string to sign (no key material) to debug client bugs.
    #[error("the signature does not match the request")]
    SignatureMismatch {
        /// The canonical request the verifier computed.
        canonical_request: String,
        /// The string to sign the verifier computed.
        string_to_sign: String,
    },
}

impl VerifyError {
    /// The Tencent Cloud error code for this failure (tencent.md §3.2). Tencent documents
    /// `SignatureFailure`, `SignatureExpire` and `InvalidAuthorization` but not which exact
    /// check yields which; the mapping for the date, service and missing-header cases
    /// (`SignatureFailure`, because the server's recomputed signature cannot match) and for
    /// a missing or invalid timestamp (`MissingParameter`, `InvalidParameterValue`) is ours.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingAuthorization
            | VerifyError::MalformedAuthorization { .. }
            | VerifyError::RequiredHeaderNotSigned { .. } => "AuthFailure.InvalidAuthorization",
            VerifyError::MissingTimestamp => "MissingParameter",
            VerifyError::InvalidTimestamp { .. } => "InvalidParameterValue",
            VerifyError::Expired { .. } => "AuthFailure.SignatureExpire",
            VerifyError::DateMismatch { .. }
            | VerifyError::ServiceMismatch { .. }
            | VerifyError::MissingSignedHeader { .. }
            | VerifyError::SignatureMismatch { .. } => "AuthFailure.SignatureFailure",
        }
    }
}

/// A parsed TC3 `Authorization` header:
/// `TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=a;b, Signature=<hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tc3Authorization {
    /// The SecretId (not secret).
    pub secret_id: String,
    /// The credential scope date, `YYYY-MM-DD`.
    pub date: String,
    /// The credential scope service (`cvm`, `lighthouse`); the emulator routes by it.
    pub service: String,
    /// The signed header names, lowercased, in the order sent.
    pub signed_headers: Vec<String>,
    /// The signature, lowercase hex.
    pub signature: String,
}

impl Tc3Authorization {
    /// Parses an `Authorization` header value.
    pub fn parse(value: &str) -> Result<Self, VerifyError> {
        let malformed = |reason: &str| VerifyError::MalformedAuthorization {
            reason: reason.to_owned(),
        };
        let value = value.trim();
        let (algorithm, rest) = value.split_once(' ').ok_or_else(|| {
            malformed("expected `TC3-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`")
        })?;
        if algorithm != ALGORITHM {
            let shown: String = algorithm.chars().take(40).collect();
            return Err(VerifyError::MalformedAuthorization {
                reason: format!("unsupported algorithm {shown:?}; expected {ALGORITHM}"),
            });
        }
        let mut credential = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (key, val) = part
                .split_once('=')
                .ok_or_else(|| malformed("every field must be `Name=value`"))?;
            let slot = match key.trim() {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => {
                    return Err(malformed(
                        "unknown field; expected Credential, SignedHeaders and Signature",
                    ))
                }
            };
            if slot.is_some() {
                return Err(malformed("a field is repeated"));
            }
            *slot = Some(val.trim());
        }
        let credential = credential.ok_or_else(|| malformed("missing Credential"))?;
        let signed_headers = signed_headers.ok_or_else(|| malformed("missing SignedHeaders"))?;
        let signature = signature.ok_or_else(|| malformed("missing Signature"))?;

        let scope: Vec<&str> = credential.split('/').collect();
        let [secret_id, date, service, terminator] = scope.as_slice() else {
            return Err(malformed(
                "Credential must be `<SecretId>/<YYYY-MM-DD>/<service>/tc3_request`",
            ));
        };
        if secret_id.is_empty() {
            return Err(malformed("empty SecretId in Credential"));
        }
        if !is_date(date) {
            return Err(malformed("credential scope date must be YYYY-MM-DD"));
        }
        if service.is_empty() {
            return Err(malformed("empty service in Credential"));
        }
        if *terminator != TERMINATOR {
            return Err(malformed("credential scope must end with tc3_request"));
        }
        let headers: Vec<String> = signed_headers
            .split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        if headers.iter().any(|h| h.is_empty()) {
            return Err(malformed("empty name in SignedHeaders"));
        }
        if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed("Signature must be 64 hex digits"));
        }
        Ok(Tc3Authorization {
            secret_id: (*secret_id).to_owned(),
            date: (*date).to_owned(),
            service: (*service).to_owned(),
            signed_headers: headers,
            signature: signature.to_ascii_lowercase(),
        })
    }

    /// `date/service/tc3_request`.
    #[must_use]
    pub fn credential_scope(&self) -> String {
        credential_scope(&self.date, &self.service)
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// The SecretId and the service of a TC3 `Authorization` header: what the emulator needs to
/// route a request (by service) and look up the key (by SecretId) before verifying it.
pub fn scope_from_authorization(authorization: &str) -> Result<(String, String), VerifyError> {
    let a = Tc3Authorization::parse(authorization)?;
    Ok((a.secret_id, a.service))
}

/// A request as the server received it, for verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest<'a> {
    /// The HTTP method as received (`POST`, `GET`).
    pub method: &'a str,
    /// The request path (the canonical URI, normally `/`).
    pub path: &'a str,
    /// The raw query string as received, without `?`.
    pub query: &'a str,
    /// The received headers (names compared case-insensitively, first occurrence wins).
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub payload: &'a [u8],
}

impl<'a> ReceivedRequest<'a> {
    /// A received request without headers; add them with [`ReceivedRequest::header`].
    #[must_use]
    pub fn new(method: &'a str, path: &'a str, query: &'a str, payload: &'a [u8]) -> Self {
        ReceivedRequest {
            method,
            path,
            query,
            headers: Vec::new(),
            payload,
        }
    }

    /// Adds one received header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds received headers.
    #[must_use]
    pub fn headers<I, N, V>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = (N, V)>,
        N: Into<String>,
        V: Into<String>,
    {
        self.headers
            .extend(headers.into_iter().map(|(n, v)| (n.into(), v.into())));
        self
    }

    /// The first value of a header (name compared case-insensitively).
    #[must_use]
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The SecretId that signed the request.
    pub secret_id: String,
    /// The credential scope service.
    pub service: String,
    /// The credential scope date.
    pub date: String,
    /// `X-TC-Timestamp`.
    pub timestamp: u64,
    /// The signed header names (lowercase).
    pub signed_headers: Vec<String>,
    /// Whether the client signed `UNSIGNED-PAYLOAD` instead of the body.
    pub unsigned_payload: bool,
}

/// Verifies TC3 signatures the way Tencent's API gateway does: recomputes the signature
/// from the received method, URI, query, the headers named in `SignedHeaders`, the payload
/// and `X-TC-Timestamp`, with the secret key of the credential's SecretId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tc3Verifier {
    expected_service: Option<String>,
    now: Option<u64>,
    max_skew: u64,
}

impl Default for Tc3Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Tc3Verifier {
    /// A verifier that checks neither the clock nor the service (add them with
    /// [`Tc3Verifier::now`] and [`Tc3Verifier::expected_service`]); the allowed skew is
    /// [`MAX_CLOCK_SKEW_SECS`].
    #[must_use]
    pub fn new() -> Self {
        Tc3Verifier {
            expected_service: None,
            now: None,
            max_skew: MAX_CLOCK_SKEW_SECS,
        }
    }

    /// Refuses credential scopes for another service (`ServiceMismatch`).
    #[must_use]
    pub fn expected_service(mut self, service: impl Into<String>) -> Self {
        self.expected_service = Some(service.into());
        self
    }

    /// The server clock (Unix seconds) to check `X-TC-Timestamp` against (`Expired`).
    #[must_use]
    pub fn now(mut self, now: u64) -> Self {
        self.now = Some(now);
        self
    }

    /// The allowed distance between `X-TC-Timestamp` and [`Tc3Verifier::now`], in seconds.
    #[must_use]
    pub fn max_skew(mut self, secs: u64) -> Self {
        self.max_skew = secs;
        self
    }

    /// Parses the request's `Authorization` header and verifies the request with
    /// `secret_key` (the key of that header's SecretId).
    pub fn verify(
        &self,
        request: &ReceivedRequest<'_>,
        secret_key: &Secret,
    ) -> Result<Verified, VerifyError> {
        let header = request
            .header_value("authorization")
            .ok_or(VerifyError::MissingAuthorization)?;
        let auth = Tc3Authorization::parse(header)?;
        self.verify_parsed(request, &auth, secret_key)
    }

    /// Verifies a request whose `Authorization` header was already parsed (the emulator
    /// parses it first to look up the key by SecretId).
    pub fn verify_parsed(
        &self,
        request: &ReceivedRequest<'_>,
        auth: &Tc3Authorization,
        secret_key: &Secret,
    ) -> Result<Verified, VerifyError> {
        let ts_value = request
            .header_value("x-tc-timestamp")
            .ok_or(VerifyError::MissingTimestamp)?;
        let timestamp: u64 =
            ts_value
                .trim()
                .parse()
                .map_err(|_| VerifyError::InvalidTimestamp {
                    value: ts_value.chars().take(40).collect(),
                })?;
        if let Some(now) = self.now {
            if now.abs_diff(timestamp) > self.max_skew {
                return Err(VerifyError::Expired {
                    timestamp,
                    now,
                    max_skew: self.max_skew,
                });
            }
        }
        let timestamp_date = format_date(timestamp);
        if auth.date != timestamp_date {
            return Err(VerifyError::DateMismatch {
                credential_date: auth.date.clone(),
                timestamp_date,
            });
        }
        if let Some(expected) = &self.expected_service {
            if &auth.service != expected {
                return Err(VerifyError::ServiceMismatch {
                    expected: expected.clone(),
                    got: auth.service.clone(),
                });
            }
        }
        for required in ["content-type", "host"] {
            if !auth.signed_headers.iter().any(|h| h == required) {
                return Err(VerifyError::RequiredHeaderNotSigned { header: required });
            }
        }

        let mut canonical_headers = String::new();
        for name in &auth.signed_headers {
            let value =
                request
                    .header_value(name)
                    .ok_or_else(|| VerifyError::MissingSignedHeader {
                        header: name.clone(),
                    })?;
            canonical_headers.push_str(name);
            canonical_headers.push(':');
            canonical_headers.push_str(&value.trim().to_lowercase());
            canonical_headers.push('\n');
        }
        let signed_headers = auth.signed_headers.join(";");
        let unsigned_payload = request
            .header_value("x-tc-content-sha256")
            .is_some_and(|v| v.trim() == UNSIGNED_PAYLOAD);
        let hashed_payload = if unsigned_payload {
            hash_hex(UNSIGNED_PAYLOAD.as_bytes())
        } else {
            hash_hex(request.payload)
        };

        let computed = compute(
            secret_key,
            &Parts {
                method: request.method,
                canonical_uri: request.path,
                query: request.query,
                canonical_headers: &canonical_headers,
                signed_headers: &signed_headers,
                hashed_payload: &hashed_payload,
                timestamp,
                date: &auth.date,
                service: &auth.service,
            },
        );
        if !constant_time_eq(computed.signature.as_bytes(), auth.signature.as_bytes()) {
            return Err(VerifyError::SignatureMismatch {
                canonical_request: computed.canonical_request,
                string_to_sign: computed.string_to_sign,
            });
        }
        Ok(Verified {
            secret_id: auth.secret_id.clone(),
            service: auth.service.clone(),
            date: auth.date.clone(),
            timestamp,
            signed_headers: auth.signed_headers.clone(),
            unsigned_payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_shape_is_checked() {
        assert!(is_date("2019-02-25"));
        assert!(!is_date("2019-2-25"));
        assert!(!is_date("2019/02/25"));
        assert!(!is_date("20190225xx"));
    }
}
