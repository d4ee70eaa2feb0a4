//! Alibaba Cloud request signing, both sides: the client signs, the emulator verifies.
//!
//! - [`rpc_v1`]: signature V2 for RPC APIs (`HMAC-SHA1`, `SignatureVersion=1.0`), carried
//!   in query parameters (alibaba.md 5.2).
//! - [`acs3`]: signature V3 (`ACS3-HMAC-SHA256`), carried in headers (alibaba.md 5.3).
//!
//! Every function is pure: credentials, request parts, time and nonce in, strings out.
//! Both share [`percent_encode`] (alibaba.md 5.1).

use imageshare_core::secret::constant_time_eq;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

pub mod acs3;
pub mod rpc_v1;

/// Bytes that are percent-encoded: everything but the RFC 3986 unreserved set
/// `A-Z a-z 0-9 - _ . ~`.
const ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Alibaba's percent-encoding (alibaba.md 5.1): RFC 3986 over the UTF-8 bytes, uppercase
/// hex, unreserved characters `A-Z a-z 0-9 - _ . ~` kept; so space is `%20` (never `+`),
/// `*` is `%2A`, `~` stays `~` and `/` is `%2F`.
///
/// ```
/// use imageshare_alibaba::percent_encode;
/// assert_eq!(percent_encode("a b*c~/é"), "a%20b%2Ac~%2F%C3%A9");
/// ```
#[must_use]
pub fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, ENCODE_SET).to_string()
}

/// Sorts `(key, value)` pairs by key bytes (then value bytes, so that repeated keys have a
/// stable order) and returns them borrowed.
fn sorted_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_per_alibaba_rules() {
        assert_eq!(percent_encode(""), "");
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(percent_encode(" "), "%20");
        assert_eq!(percent_encode("*"), "%2A");
        assert_eq!(percent_encode("/"), "%2F");
        assert_eq!(percent_encode("+"), "%2B");
        assert_eq!(percent_encode("="), "%3D");
        assert_eq!(percent_encode("&"), "%26");
        assert_eq!(percent_encode("%"), "%25");
        assert_eq!(percent_encode(":"), "%3A");
        assert_eq!(
            percent_encode("2023-03-13T08:34:30Z"),
            "2023-03-13T08%3A34%3A30Z"
        );
        // Unicode: UTF-8 bytes, uppercase hex.
        assert_eq!(percent_encode("杭州"), "%E6%9D%AD%E5%B7%9E");
        assert_eq!(percent_encode("ü"), "%C3%BC");
        assert_eq!(percent_encode("\u{1F600}"), "%F0%9F%98%80");
        // Every ASCII byte outside the unreserved set is encoded, uppercase.
        for b in 0u8..128 {
            let c = b as char;
            let enc = percent_encode(&c.to_string());
            if c.is_ascii_alphanumeric() || "-_.~".contains(c) {
                assert_eq!(enc, c.to_string());
            } else {
                assert_eq!(enc, format!("%{b:02X}"));
            }
        }
    }

    #[test]
    fn sorts_by_key_bytes_then_value() {
        let pairs = [("b", "1"), ("a", "2"), ("a", "1"), ("B", "0")];
        assert_eq!(
            sorted_pairs(&pairs),
            vec![("B", "0"), ("a", "1"), ("a", "2"), ("b", "1")]
        );
    }
}
