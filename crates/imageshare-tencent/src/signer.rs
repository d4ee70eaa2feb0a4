//! TC3-HMAC-SHA256 (Tencent Cloud API signature v3): the signing side used by the CVM and
//! Lighthouse adapters, and the verifying side used by the project's emulator.
//!
//! Both sides are pure functions of their inputs (credentials, request parts, timestamp): no
//! clock, no randomness, no I/O, so the published vectors pin them byte for byte.
//!
//! The algorithm (tencent.md §4.3):
//!
//! ```text
//! CanonicalRequest = Method \n CanonicalURI \n CanonicalQueryString \n
//!                    CanonicalHeaders \n SignedHeaders \n hex(SHA256(payload))
//! StringToSign     = "TC3-HMAC-SHA256" \n Timestamp \n Date/service/tc3_request \n
//!                    hex(SHA256(CanonicalRequest))
//! SecretDate       = HMAC-SHA256("TC3" + SecretKey, Date)
//! SecretService    = HMAC-SHA256(SecretDate, service)
//! SecretSigning    = HMAC-SHA256(SecretService, "tc3_request")
//! Signature        = hex(HMAC-SHA256(SecretSigning, StringToSign))
//! ```
//!
//! `Date` is the UTC date (`YYYY-MM-DD`) of the timestamp. Canonical header lines are
//! `lowercase(name):lowercase(trim(value))\n`, sorted by name: Tencent's own newer sample code
//! lowercases the `x-tc-action` value (vector C of tencent.md §4.5), and the values of
//! `content-type` and `host` are lowercase in every official example, so lowercasing every
//! signed value reproduces all published vectors. Both the signer and the verifier apply it.
//!
//! | file | what |
//! |---|---|
//! | `signer.rs` | the request parts ([`Tc3Request`]), the signer ([`Tc3Signer`], [`sign`]) and the steps of the computation both sides share |
//! | `signer/verify.rs` | the verifying side ([`Tc3Verifier`], [`Tc3Authorization`], [`ReceivedRequest`], [`VerifyError`]) |

use std::fmt;

use hmac::{Hmac, Mac};
use imageshare_core::time::format_date;
use imageshare_core::Secret;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

use crate::credential::TencentCredentials;

pub mod verify;

pub use verify::{
    scope_from_authorization, ReceivedRequest, Tc3Authorization, Tc3Verifier, Verified, VerifyError,
};

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name that starts every TC3 `Authorization` header and string to sign.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// The last element of every TC3 credential scope.
pub const TERMINATOR: &str = "tc3_request";
/// The content type the official SDKs send with JSON POST bodies.
pub const CONTENT_TYPE_JSON: &str = "application/json";
/// The content type Tencent requires for GET requests (parameters in the query string).
pub const CONTENT_TYPE_FORM: &str = "application/x-www-form-urlencoded";
/// The `X-TC-Content-SHA256` value that marks an unsigned payload; the literal string is
/// then hashed in place of the body.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Tencent answers `AuthFailure.SignatureExpire` when `X-TC-Timestamp` is more than this many
/// seconds away from server time (tencent.md §4.2).
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// The HTTP method of a signed request. Tencent accepts POST (JSON body, recommended) and GET
/// (parameters in the query string, empty payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `POST`, body is the action's parameters as JSON.
    Post,
    /// `GET`, parameters in the query string.
    Get,
}

impl Method {
    /// `POST` or `GET`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Get => "GET",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which headers the signer covers. Tencent requires at least `content-type` and `host`; the
/// Go and Python SDKs sign exactly those two, newer official sample code also signs
/// `x-tc-action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignedHeaderSet {
    /// `content-type;host` (what the official SDKs sign).
    #[default]
    ContentTypeHost,
    /// `content-type;host;x-tc-action` (what newer official sample code signs).
    ContentTypeHostAction,
}

/// The parts of one Tencent Cloud API request that the signature covers or that travel as
/// common-parameter headers. Plain data: build it with [`Tc3Request::post_json`] or
/// [`Tc3Request::get`] and adjust the public fields or the builder methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tc3Request<'a> {
    /// Signing service: the first label of the host (`cvm`, `lighthouse`), also for
    /// `*.intl.tencentcloudapi.com` hosts.
    pub service: &'a str,
    /// The `Host` header, e.g. `cvm.tencentcloudapi.com`.
    pub host: &'a str,
    /// `X-TC-Action`, e.g. `ModifyImageSharePermission`.
    pub action: &'a str,
    /// `X-TC-Version`, e.g. `2017-03-12`.
    pub version: &'a str,
    /// `X-TC-Region`, sent when set.
    pub region: Option<&'a str>,
    /// `X-TC-Language` (`zh-CN` / `en-US`), sent when set.
    pub language: Option<&'a str>,
    /// POST or GET.
    pub method: Method,
    /// The canonical URI; always `/` for Tencent Cloud APIs.
    pub canonical_uri: &'a str,
    /// The query string exactly as it is sent (already percent-encoded, without `?`); empty
    /// for POST. [`canonical_query`] builds one from parameters.
    pub query: &'a str,
    /// `Content-Type`, byte-identical to what is sent.
    pub content_type: &'a str,
    /// The exact body bytes (empty for GET).
    pub payload: &'a [u8],
    /// `X-TC-Timestamp`, Unix seconds. The credential scope date is its UTC date.
    pub timestamp: u64,
    /// Which headers to sign.
    pub signed_headers: SignedHeaderSet,
    /// Send `X-TC-Content-SHA256: UNSIGNED-PAYLOAD` and sign the literal string instead of
    /// the body.
    pub unsigned_payload: bool,
}

impl<'a> Tc3Request<'a> {
    /// A POST with a JSON body and `Content-Type: application/json`, as the official SDKs send.
    #[must_use]
    pub fn post_json(
        service: &'a str,
        host: &'a str,
        action: &'a str,
        version: &'a str,
        payload: &'a [u8],
        timestamp: u64,
    ) -> Self {
        Tc3Request {
            service,
            host,
            action,
            version,
            region: None,
            language: None,
            method: Method::Post,
            canonical_uri: "/",
            query: "",
            content_type: CONTENT_TYPE_JSON,
            payload,
            timestamp,
            signed_headers: SignedHeaderSet::ContentTypeHost,
            unsigned_payload: false,
        }
    }

    /// A GET with the parameters in `query` (already encoded), an empty payload and
    /// `Content-Type: application/x-www-form-urlencoded`.
    #[must_use]
    pub fn get(
        service: &'a str,
        host: &'a str,
        action: &'a str,
        version: &'a str,
        query: &'a str,
        timestamp: u64,
    ) -> Self {
        Tc3Request {
            method: Method::Get,
            query,
            content_type: CONTENT_TYPE_FORM,
            ..Tc3Request::post_json(service, host, action, version, b"", timestamp)
        }
    }

    /// Sets `X-TC-Region`.
    #[must_use]
    pub fn region(mut self, region: &'a str) -> Self {
        self.region = Some(region);
        self
    }

    /// Sets `X-TC-Language`.
    #[must_use]
    pub fn language(mut self, language: &'a str) -> Self {
        self.language = Some(language);
        self
    }

    /// Overrides `Content-Type` (e.g. `application/json; charset=utf-8`).
    #[must_use]
    pub fn content_type(mut self, content_type: &'a str) -> Self {
        self.content_type = content_type;
        self
    }

    /// Overrides the canonical URI (default `/`).
    #[must_use]
    pub fn canonical_uri(mut self, uri: &'a str) -> Self {
        self.canonical_uri = uri;
        self
    }

    /// Chooses which headers to sign.
    #[must_use]
    pub fn signed_headers(mut self, set: SignedHeaderSet) -> Self {
        self.signed_headers = set;
        self
    }

    /// Signs `UNSIGNED-PAYLOAD` instead of the body.
    #[must_use]
    pub fn unsigned_payload(mut self, unsigned: bool) -> Self {
        self.unsigned_payload = unsigned;
        self
    }
}

/// Everything the signer computed: the intermediate values (for tests and debugging) and the
/// headers to send. `Debug` masks the `X-TC-Token` value.
#[derive(Clone, PartialEq, Eq)]
pub struct Tc3Signature {
    /// `hex(SHA256(payload))`, or of `UNSIGNED-PAYLOAD`.
    pub hashed_payload: String,
    /// The canonical header lines, each ending in `\n`.
    pub canonical_headers: String,
    /// `content-type;host[;x-tc-action]`.
    pub signed_headers: String,
    /// The canonical request.
    pub canonical_request: String,
    /// `hex(SHA256(canonical_request))`.
    pub hashed_canonical_request: String,
    /// The UTC date of the timestamp, `YYYY-MM-DD`.
    pub date: String,
    /// `date/service/tc3_request`.
    pub credential_scope: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// The lowercase hex signature.
    pub signature: String,
    /// The full `Authorization` header value.
    pub authorization: String,
    /// The headers to send, in this order: `Authorization`, `Content-Type`, `Host`,
    /// `X-TC-Action`, `X-TC-Version`, `X-TC-Timestamp`, then when set `X-TC-Region`,
    /// `X-TC-Token`, `X-TC-Language`, `X-TC-Content-SHA256`.
    pub headers: Vec<(&'static str, String)>,
}

impl Tc3Signature {
    /// The value of one header to send (name compared case-insensitively).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for Tc3Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                if n.eq_ignore_ascii_case("x-tc-token") {
                    (*n, "***")
                } else {
                    (*n, v.as_str())
                }
            })
            .collect();
        f.debug_struct("Tc3Signature")
            .field("canonical_request", &self.canonical_request)
            .field("string_to_sign", &self.string_to_sign)
            .field("signature", &self.signature)
            .field("headers", &headers)
            .finish_non_exhaustive()
    }
}

/// Signs Tencent Cloud API requests with one set of credentials.
#[derive(Debug, Clone)]
pub struct Tc3Signer {
    credentials: TencentCredentials,
}

impl Tc3Signer {
    /// A signer for these credentials.
    #[must_use]
    pub fn new(credentials: TencentCredentials) -> Self {
        Tc3Signer { credentials }
    }

    /// The credentials this signer uses.
    #[must_use]
    pub fn credentials(&self) -> &TencentCredentials {
        &self.credentials
    }

    /// Signs one request. Pure: the same inputs always give the same output.
    #[must_use]
    pub fn sign(&self, request: &Tc3Request<'_>) -> Tc3Signature {
        sign(&self.credentials, request)
    }
}

/// Signs one request with `credentials` (the function behind [`Tc3Signer::sign`]).
#[must_use]
pub fn sign(credentials: &TencentCredentials, request: &Tc3Request<'_>) -> Tc3Signature {
    let hashed_payload = if request.unsigned_payload {
        hash_hex(UNSIGNED_PAYLOAD.as_bytes())
    } else {
        hash_hex(request.payload)
    };

    let mut header_pairs: Vec<(&str, &str)> = vec![
        ("content-type", request.content_type),
        ("host", request.host),
    ];
    if request.signed_headers == SignedHeaderSet::ContentTypeHostAction {
        header_pairs.push(("x-tc-action", request.action));
    }
    let (canonical_headers, signed_headers) = canonical_headers(&header_pairs);

    let date = format_date(request.timestamp);
    let computed = compute(
        &credentials.secret_key,
        &Parts {
            method: request.method.as_str(),
            canonical_uri: request.canonical_uri,
            query: request.query,
            canonical_headers: &canonical_headers,
            signed_headers: &signed_headers,
            hashed_payload: &hashed_payload,
            timestamp: request.timestamp,
            date: &date,
            service: request.service,
        },
    );

    let authorization = format!(
        "{ALGORITHM} Credential={}/{}, SignedHeaders={}, Signature={}",
        credentials.secret_id, computed.credential_scope, signed_headers, computed.signature
    );

    let mut headers: Vec<(&'static str, String)> = vec![
        ("Authorization", authorization.clone()),
        ("Content-Type", request.content_type.to_owned()),
        ("Host", request.host.to_owned()),
        ("X-TC-Action", request.action.to_owned()),
        ("X-TC-Version", request.version.to_owned()),
        ("X-TC-Timestamp", request.timestamp.to_string()),
    ];
    if let Some(region) = request.region {
        headers.push(("X-TC-Region", region.to_owned()));
    }
    if let Some(token) = credentials.token.as_ref().filter(|t| !t.is_empty()) {
        headers.push(("X-TC-Token", token.expose().to_owned()));
    }
    if let Some(language) = request.language {
        headers.push(("X-TC-Language", language.to_owned()));
    }
    if request.unsigned_payload {
        headers.push(("X-TC-Content-SHA256", UNSIGNED_PAYLOAD.to_owned()));
    }

    Tc3Signature {
        hashed_payload,
        canonical_headers,
        signed_headers,
        canonical_request: computed.canonical_request,
        hashed_canonical_request: computed.hashed_canonical_request,
        date,
        credential_scope: computed.credential_scope,
        string_to_sign: computed.string_to_sign,
        signature: computed.signature,
        authorization,
        headers,
    }
}

/// The inputs of the signature computation shared by signer and verifier.
struct Parts<'a> {
    method: &'a str,
    canonical_uri: &'a str,
    query: &'a str,
    canonical_headers: &'a str,
    signed_headers: &'a str,
    hashed_payload: &'a str,
    timestamp: u64,
    date: &'a str,
    service: &'a str,
}

/// What [`compute`] gives: the intermediate values and the signature.
struct Computed {
    canonical_request: String,
    hashed_canonical_request: String,
    credential_scope: String,
    string_to_sign: String,
    signature: String,
}

/// The signature computation both sides run (canonical request, string to sign, key
/// chain, signature).
fn compute(secret_key: &Secret, parts: &Parts<'_>) -> Computed {
    let canonical_request = canonical_request(
        parts.method,
        parts.canonical_uri,
        parts.query,
        parts.canonical_headers,
        parts.signed_headers,
        parts.hashed_payload,
    );
    let hashed_canonical_request = hash_hex(canonical_request.as_bytes());
    let credential_scope = credential_scope(parts.date, parts.service);
    let string_to_sign = string_to_sign(
        parts.timestamp,
        &credential_scope,
        &hashed_canonical_request,
    );
    let keys = derive_keys(secret_key, parts.date, parts.service);
    let signature = signature_hex(&keys, &string_to_sign);
    Computed {
        canonical_request,
        hashed_canonical_request,
        credential_scope,
        string_to_sign,
        signature,
    }
}

/// Lowercase hex of the SHA-256 of `data` (`HashedRequestPayload`,
/// `HashedCanonicalRequest`).
#[must_use]
pub fn hash_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Builds the canonical header block and the `SignedHeaders` list from `(name, value)` pairs:
/// names and values lowercased, values trimmed, sorted by name.
#[must_use]
pub fn canonical_headers(pairs: &[(&str, &str)]) -> (String, String) {
    let mut lines: Vec<(String, String)> = pairs
        .iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_lowercase()))
        .collect();
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    let mut block = String::new();
    for (n, v) in &lines {
        block.push_str(n);
        block.push(':');
        block.push_str(v);
        block.push('\n');
    }
    let signed: Vec<&str> = lines.iter().map(|(n, _)| n.as_str()).collect();
    (block, signed.join(";"))
}

/// `Method \n URI \n Query \n CanonicalHeaders \n SignedHeaders \n HashedPayload`.
/// `canonical_headers` already ends with `\n`, so an empty line separates it from
/// `signed_headers`, exactly as in the published example.
#[must_use]
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    hashed_payload: &str,
) -> String {
    format!("{method}\n{canonical_uri}\n{query}\n{canonical_headers}\n{signed_headers}\n{hashed_payload}")
}

/// `date/service/tc3_request`.
#[must_use]
pub fn credential_scope(date: &str, service: &str) -> String {
    format!("{date}/{service}/{TERMINATOR}")
}

/// `TC3-HMAC-SHA256 \n timestamp \n scope \n hashed_canonical_request`.
#[must_use]
pub fn string_to_sign(
    timestamp: u64,
    credential_scope: &str,
    hashed_canonical_request: &str,
) -> String {
    format!("{ALGORITHM}\n{timestamp}\n{credential_scope}\n{hashed_canonical_request}")
}

/// The derived keys of the TC3 key chain. They are key material (valid for one day and
/// service): `Debug` does not print them.
#[derive(Clone, PartialEq, Eq)]
pub struct DerivedKeys {
    /// `HMAC-SHA256("TC3" + SecretKey, date)`.
    pub secret_date: [u8; 32],
    /// `HMAC-SHA256(secret_date, service)`.
    pub secret_service: [u8; 32],
    /// `HMAC-SHA256(secret_service, "tc3_request")`: the key that signs the string to sign.
    pub secret_signing: [u8; 32],
}

impl fmt::Debug for DerivedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DerivedKeys { *** }")
    }
}

/// Derives the TC3 key chain for one date and service.
#[must_use]
pub fn derive_keys(secret_key: &Secret, date: &str, service: &str) -> DerivedKeys {
    let mut k = String::with_capacity(3 + secret_key.expose().len());
    k.push_str("TC3");
    k.push_str(secret_key.expose());
    let secret_date = hmac(k.as_bytes(), date.as_bytes());
    // Best effort: do not leave the prefixed key lying around (volatile writes, so the
    // compiler keeps them although the buffer is dropped right after).
    let mut bytes = k.into_bytes();
    for b in bytes.iter_mut() {
        // SAFETY: `b` is a valid, aligned, exclusive reference to a byte of `bytes`.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    let secret_service = hmac(&secret_date, service.as_bytes());
    let secret_signing = hmac(&secret_service, TERMINATOR.as_bytes());
    DerivedKeys {
        secret_date,
        secret_service,
        secret_signing,
    }
}

/// `lowercase(hex(HMAC-SHA256(SecretSigning, string_to_sign)))`: the signature.
#[must_use]
pub fn signature_hex(keys: &DerivedKeys, string_to_sign: &str) -> String {
    hex::encode(hmac(&keys.secret_signing, string_to_sign.as_bytes()))
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The service a Tencent host signs for: its first label (`cvm.tencentcloudapi.com` ->
/// `cvm`, `lighthouse.intl.tencentcloudapi.com` -> `lighthouse`). A port is ignored.
#[must_use]
pub fn service_from_host(host: &str) -> &str {
    let host = host.split(':').next().unwrap_or(host);
    host.split('.').next().unwrap_or(host)
}

/// RFC 3986 unreserved characters stay as they are; everything else is `%XX` (uppercase).
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one query component per RFC 3986 with uppercase hex (space is `%20`,
/// `*` is `%2A`, `~` stays).
#[must_use]
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// A query string for a GET request: parameters sorted by key (then value), each key and
/// value RFC 3986 percent-encoded, joined with `&`. Send exactly this string and sign it.
#[must_use]
pub fn canonical_query(params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params.to_vec();
    sorted.sort();
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_is_the_first_host_label() {
        assert_eq!(service_from_host("cvm.tencentcloudapi.com"), "cvm");
        assert_eq!(
            service_from_host("lighthouse.intl.tencentcloudapi.com"),
            "lighthouse"
        );
        assert_eq!(
            service_from_host("cvm.ap-guangzhou.tencentcloudapi.com:443"),
            "cvm"
        );
    }

    #[test]
    fn percent_encoding_is_rfc3986_uppercase() {
        assert_eq!(
            percent_encode("a b*c~d/e+f=g&h"),
            "a%20b%2Ac~d%2Fe%2Bf%3Dg%26h"
        );
        assert_eq!(percent_encode("未命名"), "%E6%9C%AA%E5%91%BD%E5%90%8D");
        assert_eq!(
            canonical_query(&[("Limit", "20"), ("ImageId", "img-6pb6lrmy"), ("A.0", "x y")]),
            "A.0=x%20y&ImageId=img-6pb6lrmy&Limit=20"
        );
        assert_eq!(canonical_query(&[]), "");
    }

    #[test]
    fn canonical_headers_sort_trim_and_lowercase() {
        let (block, signed) = canonical_headers(&[
            ("X-TC-Action", " DescribeInstances "),
            ("Host", "cvm.tencentcloudapi.com"),
            ("Content-Type", "application/json"),
        ]);
        assert_eq!(
            block,
            "content-type:application/json\nhost:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n"
        );
        assert_eq!(signed, "content-type;host;x-tc-action");
    }

    #[test]
    fn derived_keys_do_not_print() {
        let k = derive_keys(&Secret::new("k"), "2019-02-25", "cvm");
        assert_eq!(format!("{k:?}"), "DerivedKeys { *** }");
    }
}
