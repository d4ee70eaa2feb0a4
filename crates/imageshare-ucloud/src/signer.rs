//! The UCloud SHA1 parameter signature (`docs.ucloud.cn/api/summary/signature`), as pure
//! functions, for both sides of the wire.
//!
//! Signing (client side):
//! 1. flatten the request parameters ([`flatten`]): arrays become `Key.0`, `Key.1`, ...;
//!    objects become `Key.Field`; booleans `true` / `false`; numbers as the Go SDK prints them
//!    (`42.0` -> `42`, `0.5` -> `0.5`); `null` is omitted;
//! 2. add `PublicKey` (and `SecurityToken` for STS credentials);
//! 3. sort by parameter name in byte order (`Key.10` sorts before `Key.2`);
//! 4. concatenate `name + value` with no separator and no escaping ([`canonical_string`]);
//! 5. append the private key ([`string_to_sign`]);
//! 6. `Signature` = lowercase hex SHA1 of the UTF-8 bytes ([`sign`]).
//!
//! [`sign_request`] does steps 2 to 6 and returns the parameter list, `Signature` included,
//! ready for [`form_encode`].
//!
//! Verifying (the emulator's side): [`verify`] and [`verify_with`] recompute the signature
//! over the received (decoded) parameters and compare; a failure is a [`VerifyError`] that
//! knows UCloud's gateway `RetCode` and message ([`VerifyError::ret_code`]).
//!
//! ```
//! use imageshare_core::Secret;
//! use imageshare_ucloud::signer;
//!
//! let params = signer::flatten(&serde_json::json!({
//!     "Action": "DescribeImage",
//!     "ImageIds": ["uimage-a", "uimage-b"],
//! }))
//! .unwrap();
//! assert_eq!(
//!     signer::canonical_string(&params),
//!     "ActionDescribeImageImageIds.0uimage-aImageIds.1uimage-b"
//! );
//! let sig = signer::sign(&params, &Secret::new("my_private_key"));
//! assert_eq!(sig.len(), 40);
//! ```

use imageshare_core::secret::constant_time_eq;
use serde_json::{Map, Number, Value};
use sha1::{Digest, Sha1};

use imageshare_core::Secret;

use crate::credential::UCloudCredentials;

/// Name of the signature parameter.
pub const SIGNATURE: &str = "Signature";
/// Name of the public-key parameter.
pub const PUBLIC_KEY: &str = "PublicKey";
/// Name of the STS token parameter (signed like any other parameter).
pub const SECURITY_TOKEN: &str = "SecurityToken";

/// `RetCode` of the UCloud gateway for a request without `Signature` (`summary/public.md`).
pub const RET_CODE_MISSING_SIGNATURE: u32 = 170;
/// `RetCode` of the UCloud gateway for a wrong signature (`summary/public.md`).
pub const RET_CODE_SIGNATURE_ERROR: u32 = 171;
/// `RetCode` of the UCloud gateway for an unknown public key ("user does not exist").
pub const RET_CODE_USER_NOT_EXISTS: u32 = 172;

/// One flattened request parameter: `(name, value)`, both as sent on the wire (decoded).
pub type Param = (String, String);

/// Why a JSON value could not be flattened into request parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlattenError {
    /// Request parameters must be a JSON object (name -> value).
    #[error("UCloud request parameters must be a JSON object of name -> value, got {0}")]
    NotAnObject(&'static str),
}

/// Flattens a JSON object of request parameters into `(name, value)` pairs, the way the
/// official SDKs' form encoders do (ucloud.md §4.2):
///
/// | value | pairs |
/// |---|---|
/// | string | as is (empty strings are kept and signed as `Name` + ``) |
/// | integer | decimal |
/// | float | [`format_float`] (`42.0` -> `42`, `0.5` -> `0.5`, never an exponent) |
/// | bool | `true` / `false` |
/// | `K: [a, b]` | `K.0=a`, `K.1=b` |
/// | `K: [{"F": v}]` | `K.0.F=v` |
/// | `K: {"F": v}` | `K.F=v` |
/// | `null` | omitted |
///
/// Pairs come out in the object's order (arrays by index); [`sign`] sorts them.
pub fn flatten(params: &Value) -> Result<Vec<Param>, FlattenError> {
    match params {
        Value::Object(map) => Ok(flatten_map(map)),
        Value::Null => Err(FlattenError::NotAnObject("null")),
        Value::Bool(_) => Err(FlattenError::NotAnObject("a boolean")),
        Value::Number(_) => Err(FlattenError::NotAnObject("a number")),
        Value::String(_) => Err(FlattenError::NotAnObject("a string")),
        Value::Array(_) => Err(FlattenError::NotAnObject("an array")),
    }
}

/// [`flatten`] for a parameter map.
#[must_use]
pub fn flatten_map(params: &Map<String, Value>) -> Vec<Param> {
    let mut out = Vec::with_capacity(params.len());
    for (key, value) in params {
        flatten_value(key, value, &mut out);
    }
    out
}

/// Flattens one parameter `key = value` into `out` (see [`flatten`] for the rules).
pub fn flatten_value(key: &str, value: &Value, out: &mut Vec<Param>) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push((key.to_owned(), b.to_string())),
        Value::Number(n) => out.push((key.to_owned(), format_number(n))),
        Value::String(s) => out.push((key.to_owned(), s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten_value(&format!("{key}.{i}"), item, out);
            }
        }
        Value::Object(fields) => {
            for (field, item) in fields {
                flatten_value(&format!("{key}.{field}"), item, out);
            }
        }
    }
}

/// A JSON number as UCloud signs it: integers as integers, floats as [`format_float`].
#[must_use]
pub fn format_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        // Without serde_json's `arbitrary_precision`, a number is i64, u64 or a finite f64.
        format_float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// A float as the Go SDK prints it (`strconv.FormatFloat(v, 'f', -1, 64)`): the shortest
/// decimal that reads back as the same `f64`, never an exponent, no trailing `.0`
/// (`42.0` -> `42`, `42.1` -> `42.1`, `1e-5` -> `0.00001`, `-3.0` -> `-3`).
///
/// Rust's `Display` for `f64` has exactly these properties. Pass `f64`, never a widened
/// `f32` (`42.1f32 as f64` prints `42.099998474121094`, as it does in Go).
#[must_use]
pub fn format_float(x: f64) -> String {
    format!("{x}")
}

/// The parameters sorted by name in byte order, each as `name + value`, concatenated with
/// no separator and no escaping. A `Signature` parameter, if present, is left out. This is
/// the string to hash without the private key, so it is safe to log.
///
/// Parameters with the same name (which a well-formed request never has) keep their order.
pub fn canonical_string<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, _)| *k != SIGNATURE)
        .collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let len = sorted.iter().map(|(k, v)| k.len() + v.len()).sum();
    let mut out = String::with_capacity(len);
    for (k, v) in sorted {
        out.push_str(k);
        out.push_str(v);
    }
    out
}

/// The exact string that is hashed: [`canonical_string`] followed by the private key. It
/// contains the private key, so it is returned as a [`Secret`] (prints `***`).
pub fn string_to_sign<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    private_key: &Secret,
) -> Secret {
    let mut s = canonical_string(params);
    s.push_str(private_key.expose());
    Secret::new(s)
}

/// The UCloud signature of `params` (which must already contain `PublicKey`, and
/// `SecurityToken` for STS credentials): lowercase hex SHA1 of [`string_to_sign`],
/// 40 characters. A `Signature` parameter in `params` is ignored.
pub fn sign<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], private_key: &Secret) -> String {
    let to_sign = string_to_sign(params, private_key);
    hex::encode(Sha1::digest(to_sign.expose().as_bytes()))
}

/// Signs a request for sending: removes any `PublicKey`, `SecurityToken` and `Signature`
/// already in `params`, adds `PublicKey` (and `SecurityToken` when the credentials carry
/// one), sorts by name and appends `Signature`. The result is ready for [`form_encode`].
#[must_use]
pub fn sign_request(params: Vec<Param>, credentials: &UCloudCredentials) -> Vec<Param> {
    let mut params: Vec<Param> = params
        .into_iter()
        .filter(|(k, _)| k != PUBLIC_KEY && k != SECURITY_TOKEN && k != SIGNATURE)
        .collect();
    params.push((PUBLIC_KEY.to_owned(), credentials.public_key.clone()));
    if let Some(token) = &credentials.security_token {
        params.push((SECURITY_TOKEN.to_owned(), token.expose().to_owned()));
    }
    params.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let signature = sign(&params, &credentials.private_key);
    params.push((SIGNATURE.to_owned(), signature));
    params
}

/// Why a received request's signature was refused. Each variant knows the UCloud gateway's
/// answer ([`VerifyError::ret_code`], [`VerifyError::message`]). No variant carries the
/// private key or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No (or an empty) `Signature` parameter.
    #[error("the request has no Signature parameter")]
    MissingSignature,
    /// No (or an empty) `PublicKey` parameter.
    #[error("the request has no PublicKey parameter")]
    MissingPublicKey,
    /// No private key is known for this public key.
    #[error("no private key is known for public key {public_key:?}")]
    UnknownPublicKey {
        /// The public key the request named.
        public_key: String,
    },
    /// A parameter appears more than once, so the signed string is ambiguous.
    #[error("parameter {name} appears more than once")]
    DuplicateParameter {
        /// The repeated name.
        name: String,
    },
    /// The signature is not the SHA1 of the received parameters and the private key.
    #[error("signature mismatch: {received:?} does not sign the received parameters")]
    Mismatch {
        /// The `Signature` the request carried.
        received: String,
    },
}

impl VerifyError {
    /// The `RetCode` the UCloud gateway answers with (ucloud.md §3.5): 170 missing
    /// signature, 171 signature error, 172 user does not exist.
    ///
    /// A missing `PublicKey` is answered as 172: the gateway documents no code for it, and
    /// without a key there is no user (UNCONFIRMED). A repeated parameter is answered as
    /// 171, since no single signed string exists for it (imageshare's choice).
    #[must_use]
    pub fn ret_code(&self) -> u32 {
        match self {
            VerifyError::MissingSignature => RET_CODE_MISSING_SIGNATURE,
            VerifyError::MissingPublicKey | VerifyError::UnknownPublicKey { .. } => {
                RET_CODE_USER_NOT_EXISTS
            }
            VerifyError::DuplicateParameter { .. } | VerifyError::Mismatch { .. } => {
                RET_CODE_SIGNATURE_ERROR
            }
        }
    }

    /// The gateway's `Message` for [`VerifyError::ret_code`]. `Signature VerifyAC Error`
    /// (171) and `User Not Exists` (172) are the texts UCloud's own API-access FAQ shows;
    /// no text is published for 170, so `Missing Signature` is imageshare's wording.
    /// Clients must not parse messages (ucloud.md §3.4).
    #[must_use]
    pub fn message(&self) -> &'static str {
        match self.ret_code() {
            RET_CODE_MISSING_SIGNATURE => "Missing Signature",
            RET_CODE_USER_NOT_EXISTS => "User Not Exists",
            _ => "Signature VerifyAC Error",
        }
    }
}

/// Verifies a received request (decoded parameters, `PublicKey` and `Signature` included)
/// against the private key of its `PublicKey`, in constant time. Parameters with empty
/// values are part of the signed string (`Name` + ``), as the sender signed them.
pub fn verify<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    private_key: &Secret,
) -> Result<(), VerifyError> {
    verify_with(params, |_| Some(private_key.clone())).map(|_| ())
}

/// Verifies a received request, looking up the private key of its `PublicKey` with
/// `lookup` (`None`: unknown key, RetCode 172). Returns the verified public key.
///
/// Checks run in the gateway's order of concern: signature present, public key present
/// and known, no repeated parameter, signature matches.
pub fn verify_with<K, V, F>(params: &[(K, V)], lookup: F) -> Result<String, VerifyError>
where
    K: AsRef<str>,
    V: AsRef<str>,
    F: FnOnce(&str) -> Option<Secret>,
{
    let received = single_value(params, SIGNATURE)?
        .filter(|s| !s.is_empty())
        .ok_or(VerifyError::MissingSignature)?;
    let public_key = single_value(params, PUBLIC_KEY)?
        .filter(|s| !s.is_empty())
        .ok_or(VerifyError::MissingPublicKey)?;
    let private_key = lookup(public_key).ok_or_else(|| VerifyError::UnknownPublicKey {
        public_key: public_key.to_owned(),
    })?;
    let mut names: Vec<&str> = params.iter().map(|(k, _)| k.as_ref()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(VerifyError::DuplicateParameter {
            name: w[0].to_owned(),
        });
    }
    let expected = sign(params, &private_key);
    if constant_time_eq(expected.as_bytes(), received.as_bytes()) {
        Ok(public_key.to_owned())
    } else {
        Err(VerifyError::Mismatch {
            received: received.to_owned(),
        })
    }
}

/// The value of parameter `name`, `None` when absent, an error when repeated.
fn single_value<'a, K: AsRef<str>, V: AsRef<str>>(
    params: &'a [(K, V)],
    name: &str,
) -> Result<Option<&'a str>, VerifyError> {
    let mut found = None;
    for (k, v) in params {
        if k.as_ref() == name {
            if found.is_some() {
                return Err(VerifyError::DuplicateParameter {
                    name: name.to_owned(),
                });
            }
            found = Some(v.as_ref());
        }
    }
    Ok(found)
}

/// Why a form body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// A `%` not followed by two hex digits.
    #[error("invalid percent escape at byte {0} of the form body")]
    InvalidEscape(usize),
    /// The decoded bytes of a name or value are not UTF-8.
    #[error("form parameter {0:?} is not valid UTF-8 once decoded")]
    InvalidUtf8(String),
}

/// Encodes parameters as `application/x-www-form-urlencoded`, in the given order, as Go's
/// `url.Values.Encode` escapes them: `A-Z a-z 0-9 - _ . ~` as is, space as `+`, every other
/// byte as `%XX` (upper-case hex). The signature covers the decoded values, never this text.
pub fn form_encode<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        escape_into(k.as_ref(), &mut out);
        out.push('=');
        escape_into(v.as_ref(), &mut out);
    }
    out
}

fn escape_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0x0f) as usize] as char);
            }
        }
    }
}

/// Decodes an `application/x-www-form-urlencoded` body (or a query string without the
/// `?`) into parameters, in order: `+` is a space, `%XX` a byte; a pair without `=` has an
/// empty value; empty segments (`a=1&&b=2`) are skipped. Use it on the emulator side before
/// [`verify`].
pub fn form_decode(body: &str) -> Result<Vec<Param>, FormError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for segment in body.split('&') {
        let start = offset;
        offset += segment.len() + 1;
        if segment.is_empty() {
            continue;
        }
        let (k, v, v_start) = match segment.find('=') {
            Some(i) => (&segment[..i], &segment[i + 1..], start + i + 1),
            None => (segment, "", start + segment.len()),
        };
        let name = unescape(k, start)?;
        let value = unescape(v, v_start)?;
        out.push((name, value));
    }
    Ok(out)
}

fn unescape(s: &str, at: usize) -> Result<String, FormError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|c| hex_digit(*c));
                let lo = bytes.get(i + 2).and_then(|c| hex_digit(*c));
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => return Err(FormError::InvalidEscape(at + i)),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|e| FormError::InvalidUtf8(String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_reports_bad_escapes_with_their_offset() {
        assert_eq!(unescape("a%2", 10), Err(FormError::InvalidEscape(11)));
        assert_eq!(unescape("%zz", 0), Err(FormError::InvalidEscape(0)));
        assert_eq!(unescape("%41%2b+", 0).unwrap(), "A+ ");
        assert!(matches!(unescape("%ff", 0), Err(FormError::InvalidUtf8(_))));
    }

    #[test]
    fn single_value_refuses_repeats() {
        let p = [("A", "1"), ("A", "2")];
        assert_eq!(
            single_value(&p, "A"),
            Err(VerifyError::DuplicateParameter { name: "A".into() })
        );
        assert_eq!(single_value(&p, "B"), Ok(None));
    }
}
