//! Signature V2 for RPC APIs: `HMAC-SHA1`, `SignatureVersion=1.0` (alibaba.md 5.2).
//!
//! ```text
//! CanonicalizedQueryString = join("&", enc(k) + "=" + enc(v))   sorted by key, Signature excluded
//! StringToSign = METHOD + "&" + enc("/") + "&" + enc(CanonicalizedQueryString)
//! Signature    = base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))
//! ```
//!
//! The client side is [`sign`] (a whole request) or [`compute`] (any parameter set, e.g. a
//! published test vector); the server side is [`verify`].

use std::fmt;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use imageshare_core::time::format_iso8601;
use imageshare_core::Secret;
use sha1::Sha1;

use super::{constant_time_eq, percent_encode, sorted_pairs};
use crate::credential::AlibabaCredentials;

/// The `SignatureMethod` value of this scheme.
pub const SIGNATURE_METHOD: &str = "HMAC-SHA1";
/// The `SignatureVersion` value of this scheme.
pub const SIGNATURE_VERSION: &str = "1.0";
/// The parameter that carries the signature.
pub const SIGNATURE_PARAM: &str = "Signature";

/// Parameters [`sign`] sets itself; a business parameter with one of these names is dropped.
pub const COMMON_PARAMS: [&str; 10] = [
    "AccessKeyId",
    "Action",
    "Format",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
];

/// The canonicalized query string: every parameter but `Signature`, sorted by key bytes
/// (repeated keys by value), each `enc(key)=enc(value)`, joined by `&`.
pub fn canonicalized_query<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    sorted_pairs(params)
        .into_iter()
        .filter(|(k, _)| *k != SIGNATURE_PARAM)
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `METHOD&%2F&enc(canonicalized_query)`; the method is upper-cased.
#[must_use]
pub fn string_to_sign(method: &str, canonicalized_query: &str) -> String {
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode("/"),
        percent_encode(canonicalized_query)
    )
}

/// `base64(HMAC-SHA1(secret + "&", string_to_sign))`.
#[must_use]
pub fn signature(string_to_sign: &str, secret: &Secret) -> String {
    let mut key = Vec::with_capacity(secret.expose().len() + 1);
    key.extend_from_slice(secret.expose().as_bytes());
    key.push(b'&');
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The three intermediate values of a V2 signature, for tests and debugging.
#[derive(Clone, PartialEq, Eq)]
pub struct RpcV1Computation {
    /// The canonicalized query string.
    pub canonicalized_query: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// The base64 signature.
    pub signature: String,
}

impl fmt::Debug for RpcV1Computation {
    // The canonicalized query can hold a SecurityToken: print only the signature.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcV1Computation")
            .field("canonicalized_query", &"<redacted>")
            .field("string_to_sign", &"<redacted>")
            .field("signature", &self.signature)
            .finish()
    }
}

/// Signs any parameter set as given (any `Signature` parameter is ignored): the low-level
/// step under [`sign`], usable for published vectors and legacy spellings such as
/// `TimeStamp`.
pub fn compute<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    params: &[(K, V)],
    secret: &Secret,
) -> RpcV1Computation {
    let canonicalized_query = canonicalized_query(params);
    let string_to_sign = string_to_sign(method, &canonicalized_query);
    let signature = signature(&string_to_sign, secret);
    RpcV1Computation {
        canonicalized_query,
        string_to_sign,
        signature,
    }
}

/// An RPC request to sign: HTTP method, action, API version and business parameters
/// (arrays already flattened as `Name.1`, `Name.2`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcRequest {
    /// HTTP method (`POST`, as the official SDK sends, or `GET`).
    pub method: String,
    /// The API action, e.g. `ModifyImageSharePermission`.
    pub action: String,
    /// The API version, e.g. `2014-05-26`.
    pub version: String,
    /// Business parameters, in the caller's order.
    pub params: Vec<(String, String)>,
}

impl RpcRequest {
    /// A `POST` request for `action` of API `version`, without business parameters.
    pub fn new(action: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            method: "POST".to_owned(),
            action: action.into(),
            version: version.into(),
            params: Vec::new(),
        }
    }
    /// Sets the HTTP method.
    #[must_use]
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = method.into();
        self
    }
    /// Adds a business parameter.
    #[must_use]
    pub fn param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((key.into(), value.into()));
        self
    }
    /// Adds a repeated list as `name.1`, `name.2`, ... (1-based, as the SDKs flatten).
    #[must_use]
    pub fn list<I, S>(mut self, name: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for (i, v) in values.into_iter().enumerate() {
            self.params.push((format!("{name}.{}", i + 1), v.into()));
        }
        self
    }
}

/// A signed RPC request: the complete parameter list to send.
///
/// `Debug` redacts `SecurityToken`; [`RpcV1Signed::query_string`] is for the wire only.
#[derive(Clone, PartialEq, Eq)]
pub struct RpcV1Signed {
    /// HTTP method the signature is for.
    pub method: String,
    /// Every parameter to send, sorted by key, `Signature` last.
    pub params: Vec<(String, String)>,
    /// The intermediate values.
    pub computation: RpcV1Computation,
}

impl RpcV1Signed {
    /// The signature (base64).
    #[must_use]
    pub fn signature(&self) -> &str {
        &self.computation.signature
    }
    /// The value of one parameter.
    #[must_use]
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// The parameters as a percent-encoded query string (or form body), in `params` order.
    #[must_use]
    pub fn query_string(&self) -> String {
        encode_params(&self.params)
    }
}

impl fmt::Debug for RpcV1Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<(&str, &str)> = self
            .params
            .iter()
            .map(|(k, v)| {
                if k == "SecurityToken" {
                    (k.as_str(), "***")
                } else {
                    (k.as_str(), v.as_str())
                }
            })
            .collect();
        f.debug_struct("RpcV1Signed")
            .field("method", &self.method)
            .field("params", &shown)
            .finish()
    }
}

/// `enc(k)=enc(v)` joined by `&`, in the given order (for a URL query or a form body).
pub fn encode_params<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encode(k.as_ref()),
                percent_encode(v.as_ref())
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Signs `request` with `credentials` at `timestamp` (Unix seconds) with `nonce`, and
/// returns every parameter to send: the business parameters plus `AccessKeyId`, `Action`,
/// `Version`, `Format=JSON`, `SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`,
/// `SignatureNonce`, `Timestamp` (`YYYY-MM-DDTHH:MM:SSZ`), `SecurityToken` (STS only) and
/// `Signature`. A business parameter named like one of [`COMMON_PARAMS`] is dropped.
#[must_use]
pub fn sign(
    credentials: &AlibabaCredentials,
    request: &RpcRequest,
    timestamp: u64,
    nonce: &str,
) -> RpcV1Signed {
    let mut params: Vec<(String, String)> = request
        .params
        .iter()
        .filter(|(k, _)| !COMMON_PARAMS.contains(&k.as_str()))
        .cloned()
        .collect();
    let mut common = vec![
        ("AccessKeyId", credentials.access_key_id.clone()),
        ("Action", request.action.clone()),
        ("Format", "JSON".to_owned()),
        ("SignatureMethod", SIGNATURE_METHOD.to_owned()),
        ("SignatureNonce", nonce.to_owned()),
        ("SignatureVersion", SIGNATURE_VERSION.to_owned()),
        ("Timestamp", format_iso8601(timestamp)),
        ("Version", request.version.clone()),
    ];
    if let Some(token) = &credentials.security_token {
        common.push(("SecurityToken", token.expose().to_owned()));
    }
    params.extend(common.into_iter().map(|(k, v)| (k.to_owned(), v)));
    params.sort_unstable();

    let computation = compute(&request.method, &params, &credentials.access_key_secret);
    params.push((SIGNATURE_PARAM.to_owned(), computation.signature.clone()));
    RpcV1Signed {
        method: request.method.to_ascii_uppercase(),
        params,
        computation,
    }
}

/// Why a received V2 RPC signature was refused. No variant carries the secret, the
/// expected signature or the string to sign (which can hold a security token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RpcV1VerifyError {
    /// No `Signature` parameter.
    #[error("the request has no Signature parameter")]
    MissingSignature,
    /// More than one `Signature` parameter.
    #[error("the request has more than one Signature parameter")]
    DuplicateSignature,
    /// `SignatureMethod` is missing or not `HMAC-SHA1`.
    #[error("SignatureMethod must be HMAC-SHA1 (got {})", found.as_deref().unwrap_or("nothing"))]
    UnsupportedSignatureMethod {
        /// What the request carried.
        found: Option<String>,
    },
    /// `SignatureVersion` is missing or not `1.0`.
    #[error("SignatureVersion must be 1.0 (got {})", found.as_deref().unwrap_or("nothing"))]
    UnsupportedSignatureVersion {
        /// What the request carried.
        found: Option<String>,
    },
    /// The signature does not match the one computed with the secret.
    #[error("the signature does not match the one computed over the received parameters")]
    SignatureMismatch,
}

impl RpcV1VerifyError {
    /// The Alibaba error code to answer with (alibaba.md 2.3): `SignatureDoesNotMatch`
    /// for a wrong signature, `IncompleteSignature` ("does not conform to Aliyun
    /// standards") for a request that cannot be checked.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            RpcV1VerifyError::SignatureMismatch => "SignatureDoesNotMatch",
            _ => "IncompleteSignature",
        }
    }
    /// The HTTP status alibaba.md 2.3 gives for [`Self::code`] (403 for
    /// `SignatureDoesNotMatch`, 400 otherwise).
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            RpcV1VerifyError::SignatureMismatch => 403,
            _ => 400,
        }
    }
}

/// Verifies a received V2 RPC request: `params` are every decoded query (and form-body)
/// parameter, `Signature` included; `secret` is the secret of the request's
/// `AccessKeyId`. Checks `SignatureMethod`/`SignatureVersion`, recomputes the signature
/// and compares in constant time. Timestamp freshness and nonce reuse are the caller's
/// checks (they need a clock and state).
pub fn verify<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    params: &[(K, V)],
    secret: &Secret,
) -> Result<(), RpcV1VerifyError> {
    let values = |name: &str| -> Vec<&str> {
        params
            .iter()
            .filter(|(k, _)| k.as_ref() == name)
            .map(|(_, v)| v.as_ref())
            .collect()
    };
    let received = match values(SIGNATURE_PARAM).as_slice() {
        [] => return Err(RpcV1VerifyError::MissingSignature),
        [one] => (*one).to_owned(),
        _ => return Err(RpcV1VerifyError::DuplicateSignature),
    };
    let sig_method = values("SignatureMethod");
    if sig_method.as_slice() != [SIGNATURE_METHOD] {
        return Err(RpcV1VerifyError::UnsupportedSignatureMethod {
            found: sig_method.first().map(|s| shorten(s)),
        });
    }
    let sig_version = values("SignatureVersion");
    if sig_version.as_slice() != [SIGNATURE_VERSION] {
        return Err(RpcV1VerifyError::UnsupportedSignatureVersion {
            found: sig_version.first().map(|s| shorten(s)),
        });
    }
    let expected = compute(method, params, secret).signature;
    if constant_time_eq(expected.as_bytes(), received.as_bytes()) {
        Ok(())
    } else {
        Err(RpcV1VerifyError::SignatureMismatch)
    }
}

/// A client-supplied value echoed in an error, cut to a sane length.
fn shorten(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> AlibabaCredentials {
        AlibabaCredentials::new("LTAI5tTestKeyId", "TestSecret-0123456789")
    }

    fn share_request() -> RpcRequest {
        RpcRequest::new("ModifyImageSharePermission", "2014-05-26")
            .param("RegionId", "cn-hangzhou")
            .param("ImageId", "m-bp18ygjuqnwhechc")
            .list("AddAccount", ["1234567890", "1234567891"])
    }

    #[test]
    fn sign_sets_every_common_parameter() {
        let signed = sign(&creds(), &share_request(), 1_678_696_470, "nonce-1");
        let keys: Vec<&str> = signed.params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "AccessKeyId",
                "Action",
                "AddAccount.1",
                "AddAccount.2",
                "Format",
                "ImageId",
                "RegionId",
                "SignatureMethod",
                "SignatureNonce",
                "SignatureVersion",
                "Timestamp",
                "Version",
                "Signature",
            ]
        );
        assert_eq!(signed.param("AccessKeyId"), Some("LTAI5tTestKeyId"));
        assert_eq!(signed.param("Action"), Some("ModifyImageSharePermission"));
        assert_eq!(signed.param("Version"), Some("2014-05-26"));
        assert_eq!(signed.param("Format"), Some("JSON"));
        assert_eq!(signed.param("SignatureMethod"), Some("HMAC-SHA1"));
        assert_eq!(signed.param("SignatureVersion"), Some("1.0"));
        assert_eq!(signed.param("SignatureNonce"), Some("nonce-1"));
        assert_eq!(signed.param("Timestamp"), Some("2023-03-13T08:34:30Z"));
        assert_eq!(signed.param("SecurityToken"), None);
        assert_eq!(signed.param("Signature"), Some(signed.signature()));
        assert_eq!(signed.method, "POST");
        verify("POST", &signed.params, &creds().access_key_secret).unwrap();
    }

    #[test]
    fn sign_is_deterministic_and_depends_on_time_and_nonce() {
        let a = sign(&creds(), &share_request(), 1_700_000_000, "n");
        let b = sign(&creds(), &share_request(), 1_700_000_000, "n");
        assert_eq!(a, b);
        assert_ne!(
            a.signature(),
            sign(&creds(), &share_request(), 1_700_000_001, "n").signature()
        );
        assert_ne!(
            a.signature(),
            sign(&creds(), &share_request(), 1_700_000_000, "m").signature()
        );
        assert_ne!(
            a.signature(),
            sign(&creds(), &share_request().method("GET"), 1_700_000_000, "n").signature()
        );
    }

    #[test]
    fn business_params_cannot_override_common_params() {
        let req = share_request()
            .param("Format", "XML")
            .param("AccessKeyId", "someone-else")
            .param("Signature", "forged");
        let signed = sign(&creds(), &req, 1_700_000_000, "n");
        assert_eq!(signed.param("Format"), Some("JSON"));
        assert_eq!(signed.param("AccessKeyId"), Some("LTAI5tTestKeyId"));
        assert_eq!(
            signed
                .params
                .iter()
                .filter(|(k, _)| k == "Signature")
                .count(),
            1
        );
        verify("POST", &signed.params, &creds().access_key_secret).unwrap();
    }

    #[test]
    fn verify_reports_structural_problems() {
        let secret = creds().access_key_secret;
        let signed = sign(&creds(), &share_request(), 1_700_000_000, "n");
        let without: Vec<_> = signed
            .params
            .iter()
            .filter(|(k, _)| k != "Signature")
            .cloned()
            .collect();
        assert_eq!(
            verify("POST", &without, &secret),
            Err(RpcV1VerifyError::MissingSignature)
        );
        let mut twice = signed.params.clone();
        twice.push(("Signature".into(), signed.signature().into()));
        assert_eq!(
            verify("POST", &twice, &secret),
            Err(RpcV1VerifyError::DuplicateSignature)
        );
        let mut sha256 = signed.params.clone();
        for (k, v) in &mut sha256 {
            if k == "SignatureMethod" {
                *v = "HMAC-SHA256".into();
            }
        }
        let err = verify("POST", &sha256, &secret).unwrap_err();
        assert_eq!(
            err,
            RpcV1VerifyError::UnsupportedSignatureMethod {
                found: Some("HMAC-SHA256".into())
            }
        );
        assert_eq!(err.code(), "IncompleteSignature");
        assert_eq!(err.http_status(), 400);
        let no_version: Vec<_> = signed
            .params
            .iter()
            .filter(|(k, _)| k != "SignatureVersion")
            .cloned()
            .collect();
        assert_eq!(
            verify("POST", &no_version, &secret),
            Err(RpcV1VerifyError::UnsupportedSignatureVersion { found: None })
        );
        let mismatch = verify("GET", &signed.params, &secret).unwrap_err();
        assert_eq!(mismatch, RpcV1VerifyError::SignatureMismatch);
        assert_eq!(mismatch.code(), "SignatureDoesNotMatch");
        assert_eq!(mismatch.http_status(), 403);
    }

    #[test]
    fn query_string_is_percent_encoded_in_param_order() {
        let req = RpcRequest::new("DescribeImages", "2014-05-26").param("ImageName", "a b/c");
        let signed = sign(&creds(), &req, 0, "n");
        let qs = signed.query_string();
        assert!(qs.contains("ImageName=a%20b%2Fc"), "{qs}");
        assert!(qs.contains("Timestamp=1970-01-01T00%3A00%3A00Z"), "{qs}");
        assert!(
            qs.ends_with(&format!("Signature={}", percent_encode(signed.signature()))),
            "{qs}"
        );
        assert_eq!(encode_params::<&str, &str>(&[]), "");
    }

    #[test]
    fn debug_redacts_the_security_token() {
        let sts = AlibabaCredentials::sts("STS.id", "sec", "TOKEN-VALUE-xyz");
        let signed = sign(&sts, &share_request(), 0, "n");
        assert_eq!(signed.param("SecurityToken"), Some("TOKEN-VALUE-xyz"));
        let debug = format!("{signed:?} {:?}", signed.computation);
        assert!(!debug.contains("TOKEN-VALUE-xyz"), "{debug}");
        assert!(debug.contains("SecurityToken"), "{debug}");
    }
}
