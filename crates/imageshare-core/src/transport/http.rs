//! The HTTP request a signer produces and the answer the transport hands to the decoder,
//! with the redaction that keeps signatures and tokens out of `Debug` and error text.

use std::fmt;

use bytes::Bytes;
pub use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{Error, Result};

/// The HTTP method of an API call (the clouds' APIs use these two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT` (the Alibaba Cloud IMDSv2 token request).
    Put,
}

impl Method {
    /// `GET`, `POST` or `PUT`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An HTTP request as a signer produced it. Its headers are typed ([`HeaderMap`]: each name
/// and value checked once, when the request is built); its body is [`Bytes`]: built once
/// per call and shared by every attempt, never copied.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: Method,
    /// The full URL, query string included.
    pub url: String,
    /// Headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// The typed headers of a signer's `(name, value)` pairs. A name or value that cannot be
/// sent (a control character in a session token, ...) is [`Error::InvalidInput`] naming
/// the header, never its value (it may be a secret).
pub fn header_map<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = name.as_ref();
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            Error::invalid_input("header", format!("{name:?} is not an HTTP header name"))
        })?;
        let value = HeaderValue::from_str(value.as_ref()).map_err(|_| {
            Error::invalid_input(
                "header",
                format!(
                    "the value of {name} cannot be sent in an HTTP header (a control or \
                     non-ASCII character; check the credentials it comes from)"
                ),
            )
        })?;
        map.append(header, value);
    }
    Ok(map)
}

impl fmt::Debug for HttpRequest {
    // Headers are not printed: they carry signatures and tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &redact_query(&self.url))
            .field("headers", &format_args!("[{} headers]", self.headers.len()))
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The URL with every query value that could carry a secret replaced by `***`.
#[must_use]
pub fn redact_query(url: &str) -> String {
    match url.split_once('?') {
        None => url.to_owned(),
        Some((base, q)) => {
            let parts: Vec<String> = q
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _))
                        if ["signature", "securitytoken", "token"]
                            .contains(&k.to_ascii_lowercase().as_str()) =>
                    {
                        format!("{k}=***")
                    }
                    _ => kv.to_owned(),
                })
                .collect();
            format!("{base}?{}", parts.join("&"))
        }
    }
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (names lowercase).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The host (and port, when given) of `url`, for messages: never the path or the query
/// string, which may carry a signature.
pub(crate) fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_else(|| "the endpoint".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_names_host_and_port_only() {
        assert_eq!(
            host_of("https://ecs.aliyuncs.com/?Action=X&Signature=s3cr3t"),
            "ecs.aliyuncs.com"
        );
        assert_eq!(host_of("http://127.0.0.1:8080/a?b=c"), "127.0.0.1:8080");
        assert_eq!(host_of("not a url"), "the endpoint");
    }

    #[test]
    fn headers_are_checked_once_and_never_echo_a_value() {
        let map = header_map([("X-TC-Action", "DescribeImages"), ("host", "h:1")]).unwrap();
        assert_eq!(map.get("x-tc-action").unwrap(), "DescribeImages");
        assert_eq!(map.len(), 2);
        let e = header_map([("x-tc-token", "s3cr3t\nInjected: 1")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("x-tc-token") && !e.contains("s3cr3t"), "{e}");
        assert!(header_map([("bad name", "v")]).is_err());
    }

    #[test]
    fn redacts_signature_and_token() {
        assert_eq!(
            redact_query("https://h/?Action=X&Signature=abc%3D&SecurityToken=t&RegionId=r"),
            "https://h/?Action=X&Signature=***&SecurityToken=***&RegionId=r"
        );
        let req = HttpRequest {
            method: Method::Post,
            url: "https://h/?Signature=abc".into(),
            headers: header_map([("authorization", "TC3 Signature=deadbeef")]).unwrap(),
            body: Bytes::new(),
        };
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("abc") && !dbg.contains("deadbeef"), "{dbg}");
    }
}
