//! Signature V3: `ACS3-HMAC-SHA256`, carried in headers (alibaba.md 5.3).
//!
//! ```text
//! CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQueryString \n
//!                    CanonicalHeaders (each "name:value\n") \n SignedHeaders \n hex(sha256(body))
//! StringToSign     = "ACS3-HMAC-SHA256\n" + hex(sha256(CanonicalRequest))
//! Signature        = hex(HMAC-SHA256(AccessKeySecret, StringToSign))
//! Authorization: ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<names>,Signature=<sig>
//! ```
//!
//! The client side is [`sign`]; the server side is [`authorization_of`] (to learn the
//! access key id) and [`verify`], which accepts whatever headers `SignedHeaders` lists.

use std::collections::BTreeMap;
use std::fmt;

use hmac::{Hmac, Mac};
use imageshare_core::time::format_iso8601;
use imageshare_core::Secret;
use sha2::{Digest, Sha256};

use super::{constant_time_eq, percent_encode, sorted_pairs};
use crate::credential::AlibabaCredentials;

/// The algorithm name, first word of the `Authorization` header.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// `hex(sha256(""))`, the `x-acs-content-sha256` of an empty body.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Headers [`sign`] sets itself; an extra header with one of these names is dropped.
pub const COMPUTED_HEADERS: [&str; 8] = [
    "authorization",
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-security-token",
    "x-acs-signature-nonce",
    "x-acs-version",
];

/// Lowercase hex SHA-256.
#[must_use]
pub fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The canonical query string: sorted by key bytes (repeated keys by value), each
/// `enc(key)=enc(value)` (an empty value gives `key=`), joined by `&`; `""` when empty.
pub fn canonical_query_string<K: AsRef<str>, V: AsRef<str>>(query: &[(K, V)]) -> String {
    sorted_pairs(query)
        .into_iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The canonical URI: the path as sent on the wire (already percent-encoded), `/` when
/// empty. Use [`encode_path`] to build one from a raw path.
#[must_use]
pub fn canonical_uri(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

/// Percent-encodes a raw resource path, keeping `/` (RPC-style requests use `/`).
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(percent_encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// Canonical headers and signed headers of `headers`: names lower-cased, values trimmed,
/// repeated names merged into one line with their values sorted and joined by `,` (as the
/// official SDK does), lines sorted by name. Returns
/// (`"name:value\n"` lines, `"name;name"`).
pub fn canonical_headers<K: AsRef<str>, V: AsRef<str>>(headers: &[(K, V)]) -> (String, String) {
    let mut merged: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (k, v) in headers {
        merged
            .entry(k.as_ref().to_ascii_lowercase())
            .or_default()
            .push(v.as_ref().trim());
    }
    let mut lines = String::new();
    let mut names = Vec::with_capacity(merged.len());
    for (name, mut values) in merged {
        values.sort_unstable();
        lines.push_str(&name);
        lines.push(':');
        lines.push_str(&values.join(","));
        lines.push('\n');
        names.push(name);
    }
    (lines, names.join(";"))
}

/// Joins the six parts of the canonical request (the method is upper-cased). The
/// canonical headers already end in `\n`, so an empty line precedes the signed headers.
#[must_use]
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    hashed_payload: &str,
) -> String {
    format!(
        "{}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{hashed_payload}",
        method.to_ascii_uppercase()
    )
}

/// `"ACS3-HMAC-SHA256\n" + hex(sha256(canonical_request))`.
#[must_use]
pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", hex_sha256(canonical_request.as_bytes()))
}

/// `hex(HMAC-SHA256(secret, string_to_sign))` (the key is the bare secret, no `&`).
#[must_use]
pub fn signature(string_to_sign: &str, secret: &Secret) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `Authorization` header value.
#[must_use]
pub fn authorization(access_key_id: &str, signed_headers: &str, signature: &str) -> String {
    format!("{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}")
}

/// A request to sign with V3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Request {
    /// HTTP method (`POST` for RPC actions, as the official SDK sends).
    pub method: String,
    /// The endpoint host, e.g. `ecs.cn-hangzhou.aliyuncs.com` (sent as `host`).
    pub host: String,
    /// The path as sent on the wire, already percent-encoded; `/` for RPC actions.
    pub path: String,
    /// The API action (sent as `x-acs-action`).
    pub action: String,
    /// The API version (sent as `x-acs-version`).
    pub version: String,
    /// Query parameters (decoded values; arrays flattened as `Name.1`, ...).
    pub query: Vec<(String, String)>,
    /// Extra headers to send and sign (`content-type`, `user-agent`, `accept`, ...).
    pub headers: Vec<(String, String)>,
    /// The body (empty for RPC actions). Set `content-type` in `headers` when non-empty.
    pub body: Vec<u8>,
}

impl Acs3Request {
    /// A `POST /` request for `action` of API `version` on `host`, without parameters.
    pub fn new(
        host: impl Into<String>,
        action: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            method: "POST".to_owned(),
            host: host.into(),
            path: "/".to_owned(),
            action: action.into(),
            version: version.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    /// Sets the HTTP method.
    #[must_use]
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = method.into();
        self
    }
    /// Sets the path (as sent on the wire).
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }
    /// Adds a query parameter.
    #[must_use]
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }
    /// Adds an extra header to send and sign.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

/// A V3-signed request: the headers to send, and the intermediate values.
///
/// `Debug` redacts `x-acs-security-token` and the canonical request (which contains it).
#[derive(Clone, PartialEq, Eq)]
pub struct Acs3Signed {
    /// Every header to send (lower-case names), `authorization` last.
    pub headers: Vec<(String, String)>,
    /// The canonical request that was hashed.
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// The hex signature.
    pub signature: String,
}

impl Acs3Signed {
    /// The value of one header (name compared case-insensitively).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The `Authorization` header value.
    #[must_use]
    pub fn authorization(&self) -> &str {
        self.header("authorization").unwrap_or_default()
    }
}

impl fmt::Debug for Acs3Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                if k == "x-acs-security-token" {
                    (k.as_str(), "***")
                } else {
                    (k.as_str(), v.as_str())
                }
            })
            .collect();
        f.debug_struct("Acs3Signed")
            .field("headers", &shown)
            .field("canonical_request", &"<redacted>")
            .field("string_to_sign", &self.string_to_sign)
            .field("signature", &self.signature)
            .finish()
    }
}

/// Signs `request` with `credentials` at `date` (Unix seconds) with `nonce`. Returns the
/// headers to send: `host`, `x-acs-action`, `x-acs-version`, `x-acs-date`,
/// `x-acs-signature-nonce`, `x-acs-content-sha256`, `x-acs-security-token` (STS only), the
/// request's extra headers, and `authorization`. Every header but `authorization` is
/// signed. An extra header named like one of [`COMPUTED_HEADERS`] is dropped.
#[must_use]
pub fn sign(
    credentials: &AlibabaCredentials,
    request: &Acs3Request,
    date: u64,
    nonce: &str,
) -> Acs3Signed {
    let payload_hash = hex_sha256(&request.body);
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), request.host.clone()),
        ("x-acs-action".into(), request.action.clone()),
        ("x-acs-version".into(), request.version.clone()),
        ("x-acs-date".into(), format_iso8601(date)),
        ("x-acs-signature-nonce".into(), nonce.to_owned()),
        ("x-acs-content-sha256".into(), payload_hash.clone()),
    ];
    if let Some(token) = &credentials.security_token {
        headers.push(("x-acs-security-token".into(), token.expose().to_owned()));
    }
    for (name, value) in &request.headers {
        let name = name.to_ascii_lowercase();
        if !COMPUTED_HEADERS.contains(&name.as_str()) {
            headers.push((name, value.clone()));
        }
    }

    let (canon_headers, signed_headers) = canonical_headers(&headers);
    let canonical_request = canonical_request(
        &request.method,
        canonical_uri(&request.path),
        &canonical_query_string(&request.query),
        &canon_headers,
        &signed_headers,
        &payload_hash,
    );
    let string_to_sign = string_to_sign(&canonical_request);
    let signature = signature(&string_to_sign, &credentials.access_key_secret);
    headers.push((
        "authorization".into(),
        authorization(&credentials.access_key_id, &signed_headers, &signature),
    ));
    Acs3Signed {
        headers,
        canonical_request,
        string_to_sign,
        signature,
    }
}

/// The parts of a parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Authorization {
    /// `Credential`: the access key id.
    pub access_key_id: String,
    /// `SignedHeaders`: lower-cased, sorted, de-duplicated.
    pub signed_headers: Vec<String>,
    /// `Signature`: the hex signature.
    pub signature: String,
}

/// Why a received V3 request was refused. No variant carries the secret or the expected
/// signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Acs3VerifyError {
    /// No `Authorization` header.
    #[error("the request has no Authorization header")]
    MissingAuthorization,
    /// The `Authorization` header names another algorithm.
    #[error("unsupported signature algorithm {found} (expected ACS3-HMAC-SHA256)")]
    UnsupportedAlgorithm {
        /// The algorithm named (or a placeholder when it is not a plausible name).
        found: String,
    },
    /// The `Authorization` header cannot be parsed.
    #[error("malformed Authorization header: {reason}")]
    MalformedAuthorization {
        /// What is wrong.
        reason: &'static str,
    },
    /// A header listed in `SignedHeaders` is not in the request.
    #[error("signed header {name} is missing from the request")]
    MissingSignedHeader {
        /// The missing header (lower case).
        name: String,
    },
    /// `x-acs-content-sha256` is not the SHA-256 of the body.
    #[error("x-acs-content-sha256 does not match the SHA-256 of the body")]
    ContentSha256Mismatch,
    /// The signature does not match the one computed with the secret.
    #[error("the signature does not match the one computed over the received request")]
    SignatureMismatch,
}

impl Acs3VerifyError {
    /// The Alibaba error code to answer with (alibaba.md 2.3): `SignatureDoesNotMatch`
    /// when the request was signed but the values disagree, `IncompleteSignature` ("does
    /// not conform to Aliyun standards") when it cannot be checked.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Acs3VerifyError::SignatureMismatch | Acs3VerifyError::ContentSha256Mismatch => {
                "SignatureDoesNotMatch"
            }
            _ => "IncompleteSignature",
        }
    }
    /// The HTTP status alibaba.md 2.3 gives for [`Self::code`] (403 for
    /// `SignatureDoesNotMatch`, 400 otherwise).
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self.code() {
            "SignatureDoesNotMatch" => 403,
            _ => 400,
        }
    }
}

/// Parses an `Authorization` header value:
/// `ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,Signature=<hex>` (whitespace
/// after the commas tolerated, parts in any order).
pub fn parse_authorization(value: &str) -> Result<Acs3Authorization, Acs3VerifyError> {
    let value = value.trim();
    let (algorithm, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        let plausible = !algorithm.is_empty()
            && algorithm.len() <= 40
            && algorithm
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        return Err(Acs3VerifyError::UnsupportedAlgorithm {
            found: if plausible {
                algorithm.to_owned()
            } else {
                "(not an algorithm name)".to_owned()
            },
        });
    }
    let malformed = |reason| Acs3VerifyError::MalformedAuthorization { reason };
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, val) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| malformed("a part is not key=value"))?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => {
                return Err(malformed(
                    "unknown part (expected Credential, SignedHeaders, Signature)",
                ))
            }
        };
        if slot.replace(val.trim()).is_some() {
            return Err(malformed("a part is repeated"));
        }
    }
    let credential = credential
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("Credential is missing or empty"))?;
    let signed = signed
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("SignedHeaders is missing or empty"))?;
    let signature = signature
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("Signature is missing or empty"))?;
    let mut signed_headers: Vec<String> = Vec::new();
    for name in signed.split(';') {
        let name = name.trim();
        if name.is_empty() {
            return Err(malformed("SignedHeaders has an empty name"));
        }
        signed_headers.push(name.to_ascii_lowercase());
    }
    signed_headers.sort_unstable();
    signed_headers.dedup();
    Ok(Acs3Authorization {
        access_key_id: credential.to_owned(),
        signed_headers,
        signature: signature.to_owned(),
    })
}

/// A request as the server received it.
#[derive(Debug, Clone, Copy)]
pub struct ReceivedRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The path as received (percent-encoded, without the query).
    pub path: &'a str,
    /// Decoded query parameters.
    pub query: &'a [(String, String)],
    /// Every received header, names in any case, `authorization` included.
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

impl ReceivedRequest<'_> {
    /// Every value of a header (name compared case-insensitively).
    #[must_use]
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Finds and parses the `Authorization` header of a received request (the server reads
/// the access key id from it to look up the secret).
pub fn authorization_of(
    request: &ReceivedRequest<'_>,
) -> Result<Acs3Authorization, Acs3VerifyError> {
    match request.header_values("authorization").as_slice() {
        [] => Err(Acs3VerifyError::MissingAuthorization),
        [one] => parse_authorization(one),
        _ => Err(Acs3VerifyError::MalformedAuthorization {
            reason: "more than one Authorization header",
        }),
    }
}

/// Verifies a received V3 request with the `secret` of its access key: parses the
/// `Authorization` header, checks `x-acs-content-sha256` (when sent) against the body,
/// rebuilds the canonical request over exactly the headers `SignedHeaders` lists, and
/// compares signatures in constant time. Returns the parsed authorization on success.
/// Date freshness and nonce reuse are the caller's checks.
pub fn verify(
    request: &ReceivedRequest<'_>,
    secret: &Secret,
) -> Result<Acs3Authorization, Acs3VerifyError> {
    let auth = authorization_of(request)?;
    let payload_hash = hex_sha256(request.body);
    for sent in request.header_values("x-acs-content-sha256") {
        if !sent.trim().eq_ignore_ascii_case(&payload_hash) {
            return Err(Acs3VerifyError::ContentSha256Mismatch);
        }
    }
    let mut signed: Vec<(&str, &str)> = Vec::new();
    for name in &auth.signed_headers {
        let values = request.header_values(name);
        if values.is_empty() {
            return Err(Acs3VerifyError::MissingSignedHeader { name: name.clone() });
        }
        signed.extend(values.into_iter().map(|v| (name.as_str(), v)));
    }
    let (canon_headers, signed_headers) = canonical_headers(&signed);
    let canonical_request = canonical_request(
        request.method,
        canonical_uri(request.path),
        &canonical_query_string(request.query),
        &canon_headers,
        &signed_headers,
        &payload_hash,
    );
    let expected = signature(&string_to_sign(&canonical_request), secret);
    if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(auth)
    } else {
        Err(Acs3VerifyError::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> AlibabaCredentials {
        AlibabaCredentials::new("LTAI5tTestKeyId", "TestSecret-0123456789")
    }

    fn request() -> Acs3Request {
        Acs3Request::new(
            "ecs.cn-hangzhou.aliyuncs.com",
            "ModifyImageSharePermission",
            "2014-05-26",
        )
        .query("RegionId", "cn-hangzhou")
        .query("ImageId", "m-bp18ygjuqnwhechc")
        .query("AddAccount.1", "1234567890")
    }

    fn received<'a>(signed: &'a Acs3Signed, req: &'a Acs3Request) -> ReceivedRequest<'a> {
        ReceivedRequest {
            method: &req.method,
            path: &req.path,
            query: &req.query,
            headers: &signed.headers,
            body: &req.body,
        }
    }

    #[test]
    fn sign_returns_the_documented_headers() {
        let signed = sign(&creds(), &request(), 1_698_315_752, "nonce-1");
        let names: Vec<&str> = signed.headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "host",
                "x-acs-action",
                "x-acs-version",
                "x-acs-date",
                "x-acs-signature-nonce",
                "x-acs-content-sha256",
                "authorization"
            ]
        );
        assert_eq!(signed.header("x-acs-date"), Some("2023-10-26T10:22:32Z"));
        assert_eq!(
            signed.header("X-Acs-Content-Sha256"),
            Some(EMPTY_BODY_SHA256)
        );
        assert_eq!(
            signed.authorization(),
            format!(
                "ACS3-HMAC-SHA256 Credential=LTAI5tTestKeyId,SignedHeaders=host;x-acs-action;\
                 x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
                 Signature={}",
                signed.signature
            )
        );
        let req = request();
        let auth = verify(&received(&signed, &req), &creds().access_key_secret).unwrap();
        assert_eq!(auth.access_key_id, "LTAI5tTestKeyId");
        assert_eq!(auth.signed_headers.len(), 6);
    }

    #[test]
    fn extra_headers_are_signed_and_computed_ones_cannot_be_overridden() {
        let req = request()
            .header("User-Agent", "imageshare/0.1")
            .header("Host", "evil.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(&b"a=1"[..]);
        let signed = sign(&creds(), &req, 1_700_000_000, "n");
        assert_eq!(signed.header("host"), Some("ecs.cn-hangzhou.aliyuncs.com"));
        assert_eq!(
            signed.headers.iter().filter(|(k, _)| k == "host").count(),
            1
        );
        assert_eq!(signed.header("user-agent"), Some("imageshare/0.1"));
        assert_eq!(
            signed.header("x-acs-content-sha256"),
            Some(hex_sha256(b"a=1").as_str())
        );
        assert!(signed
            .authorization()
            .contains("SignedHeaders=content-type;host;user-agent;x-acs-action;"));
        verify(&received(&signed, &req), &creds().access_key_secret).unwrap();
    }

    #[test]
    fn canonical_headers_merge_trim_and_sort() {
        let (lines, names) = canonical_headers(&[
            ("X-B", "  two "),
            ("x-a", "1"),
            ("x-b", "one"),
            ("Accept", "application/json"),
        ]);
        assert_eq!(lines, "accept:application/json\nx-a:1\nx-b:one,two\n");
        assert_eq!(names, "accept;x-a;x-b");
        assert_eq!(
            canonical_headers::<&str, &str>(&[]),
            (String::new(), String::new())
        );
    }

    #[test]
    fn canonical_uri_and_path_encoding() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(encode_path("/a b/c*d/~e"), "/a%20b/c%2Ad/~e");
        assert_eq!(encode_path("/"), "/");
    }

    #[test]
    fn parse_authorization_accepts_documented_form_and_variants() {
        let a = parse_authorization(
            "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=x-acs-date;Host,Signature=ab12",
        )
        .unwrap();
        assert_eq!(a.access_key_id, "id");
        assert_eq!(a.signed_headers, ["host", "x-acs-date"]);
        assert_eq!(a.signature, "ab12");
        let b = parse_authorization(
            " ACS3-HMAC-SHA256 Signature=ab12, Credential=id, SignedHeaders=host;x-acs-date ",
        )
        .unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn parse_authorization_rejects_malformed_values() {
        for (value, reason) in [
            ("ACS3-HMAC-SHA256", "a part is not key=value"),
            (
                "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host",
                "Signature is missing or empty",
            ),
            (
                "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=a",
                "Credential is missing or empty",
            ),
            (
                "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=,Signature=a",
                "SignedHeaders is missing or empty",
            ),
            (
                "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host;;x,Signature=a",
                "SignedHeaders has an empty name",
            ),
            (
                "ACS3-HMAC-SHA256 Credential=id,Credential=id,SignedHeaders=host,Signature=a",
                "a part is repeated",
            ),
            (
                "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=a,Extra=1",
                "unknown part (expected Credential, SignedHeaders, Signature)",
            ),
        ] {
            assert_eq!(
                parse_authorization(value),
                Err(Acs3VerifyError::MalformedAuthorization { reason }),
                "{value}"
            );
        }
        assert_eq!(
            parse_authorization("ACS3-HMAC-SM3 Credential=id,SignedHeaders=host,Signature=a"),
            Err(Acs3VerifyError::UnsupportedAlgorithm {
                found: "ACS3-HMAC-SM3".into()
            })
        );
        let err = parse_authorization("Bearer=sup3r/secret+value Credential=x").unwrap_err();
        assert!(!err.to_string().contains("sup3r"), "{err}");
        assert_eq!(err.code(), "IncompleteSignature");
        assert_eq!(err.http_status(), 400);
    }

    #[test]
    fn verify_reports_missing_pieces() {
        let req = request();
        let signed = sign(&creds(), &req, 1_700_000_000, "n");
        let secret = creds().access_key_secret;

        let no_auth: Vec<_> = signed
            .headers
            .iter()
            .filter(|(k, _)| k != "authorization")
            .cloned()
            .collect();
        let r = ReceivedRequest {
            headers: &no_auth,
            ..received(&signed, &req)
        };
        assert_eq!(
            verify(&r, &secret),
            Err(Acs3VerifyError::MissingAuthorization)
        );

        let no_nonce: Vec<_> = signed
            .headers
            .iter()
            .filter(|(k, _)| k != "x-acs-signature-nonce")
            .cloned()
            .collect();
        let r = ReceivedRequest {
            headers: &no_nonce,
            ..received(&signed, &req)
        };
        assert_eq!(
            verify(&r, &secret),
            Err(Acs3VerifyError::MissingSignedHeader {
                name: "x-acs-signature-nonce".into()
            })
        );

        let mut twice = signed.headers.clone();
        twice.push(("Authorization".into(), signed.authorization().into()));
        let r = ReceivedRequest {
            headers: &twice,
            ..received(&signed, &req)
        };
        assert!(matches!(
            verify(&r, &secret),
            Err(Acs3VerifyError::MalformedAuthorization { .. })
        ));

        let r = ReceivedRequest {
            body: b"tampered",
            ..received(&signed, &req)
        };
        let err = verify(&r, &secret).unwrap_err();
        assert_eq!(err, Acs3VerifyError::ContentSha256Mismatch);
        assert_eq!(err.code(), "SignatureDoesNotMatch");
        assert_eq!(err.http_status(), 403);
    }

    #[test]
    fn received_header_names_are_case_insensitive() {
        let req = request();
        let signed = sign(&creds(), &req, 1_700_000_000, "n");
        let shouted: Vec<(String, String)> = signed
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), format!(" {v} ")))
            .collect();
        let r = ReceivedRequest {
            headers: &shouted,
            ..received(&signed, &req)
        };
        verify(&r, &creds().access_key_secret).unwrap();
    }

    #[test]
    fn debug_redacts_the_security_token() {
        let sts = AlibabaCredentials::sts("STS.id", "sec", "TOKEN-VALUE-xyz");
        let signed = sign(&sts, &request(), 0, "n");
        assert_eq!(
            signed.header("x-acs-security-token"),
            Some("TOKEN-VALUE-xyz")
        );
        let debug = format!("{signed:?}");
        assert!(!debug.contains("TOKEN-VALUE-xyz"), "{debug}");
        assert!(debug.contains("x-acs-security-token"), "{debug}");
    }
}
