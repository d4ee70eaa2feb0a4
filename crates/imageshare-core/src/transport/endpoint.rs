//! [`Endpoint`]: the one parser of endpoint overrides (private endpoints, VPC endpoints,
//! the emulator) and of each cloud's default endpoint.

use crate::error::{Error, Result};

/// An API endpoint: an absolute `http` or `https` URL with a host, parsed once. It carries
/// no user name or password (they would replace the request signature with HTTP Basic
/// credentials sent in clear), no query and no fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    scheme: String,
    authority: String,
    path: String,
}

impl Endpoint {
    /// Parses `endpoint` (`https://host[:port][/path]`). On failure,
    /// [`Error::InvalidInput`] for the field `endpoint`, naming the problem and the form
    /// expected; the text never repeats a password.
    pub fn parse(endpoint: &str) -> Result<Endpoint> {
        let bad = |why: String| Err(Error::invalid_input("endpoint", why));
        let url = match reqwest::Url::parse(endpoint) {
            Ok(url) => url,
            Err(e) => {
                return bad(format!(
                    "{:?} is not a URL ({e}); expected e.g. https://host[:port]",
                    redact_userinfo(endpoint)
                ))
            }
        };
        let shown = redact_userinfo(endpoint);
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return bad(format!(
                "{shown:?} must be an http:// or https:// URL with a host"
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return bad(format!(
                "{shown:?} carries a user name or password; requests are signed with the \
                 cloud's keys, never sent with credentials in the URL: give only \
                 scheme://host[:port]"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return bad(format!(
                "{shown:?} must not carry a query or fragment: give scheme://host[:port]"
            ));
        }
        let host = url.host_str().unwrap_or_default();
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(Endpoint {
            scheme: url.scheme().to_owned(),
            authority,
            path: url.path().to_owned(),
        })
    }

    /// Refuses an endpoint with a path: for APIs that live at `/` (`api` names them in
    /// the error).
    pub fn without_path(self, api: &str) -> Result<Endpoint> {
        if self.path != "/" {
            return Err(Error::invalid_input(
                "endpoint",
                format!(
                    "{:?} has a path; {api} live at \"/\": give only scheme, host and port",
                    self.url()
                ),
            ));
        }
        Ok(self)
    }

    /// `http` or `https`.
    #[must_use]
    pub fn scheme(&self) -> &str {
        &self.scheme
    }
    /// `host` or `host:port` (the port only when the URL gave one other than the
    /// scheme's default): the value of a signed `Host` header.
    #[must_use]
    pub fn authority(&self) -> &str {
        &self.authority
    }
    /// The host name alone.
    #[must_use]
    pub fn host(&self) -> &str {
        match self.authority.rsplit_once(':') {
            Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => &self.authority,
        }
    }
    /// The path, `/` when none was given.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }
    /// `scheme://authority`, without the path.
    #[must_use]
    pub fn base(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }
    /// The whole URL: `scheme://authority/path`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.path)
    }
}

/// `endpoint` with any `user:password@` replaced by `***@`, for messages.
fn redact_userinfo(endpoint: &str) -> String {
    match (endpoint.find("://"), endpoint.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 && !endpoint[s + 3..at].contains('/') => {
            format!("{}***{}", &endpoint[..s + 3], &endpoint[at..])
        }
        _ => endpoint.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_must_be_an_http_url_with_a_host() {
        let e = Endpoint::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            (e.scheme(), e.authority(), e.host(), e.path()),
            ("http", "127.0.0.1:8080", "127.0.0.1", "/")
        );
        assert_eq!(e.base(), "http://127.0.0.1:8080");
        assert_eq!(e.url(), "http://127.0.0.1:8080/");
        let e = Endpoint::parse("https://ecs.cn-hangzhou.aliyuncs.com:443/").unwrap();
        assert_eq!(
            e.authority(),
            "ecs.cn-hangzhou.aliyuncs.com",
            "default port dropped"
        );
        let e = Endpoint::parse("https://gw.example/tencent").unwrap();
        assert_eq!(
            (e.path(), e.url().as_str()),
            ("/tencent", "https://gw.example/tencent")
        );
        assert!(e.clone().without_path("Alibaba RPC APIs").is_err());
        for bad in [
            "",
            "ecs.aliyuncs.com",
            "ftp://x",
            "http://",
            "not a url",
            "http://h/?a=b",
            "http://h/#f",
        ] {
            let e = Endpoint::parse(bad).unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{bad}: {e}");
        }
    }

    #[test]
    fn userinfo_is_refused_and_never_repeated() {
        for bad in [
            "http://user:s3cr3t@127.0.0.1:8080",
            "https://s3cr3t@h",
            "http://u:s3cr3t@h/x",
        ] {
            let e = Endpoint::parse(bad).unwrap_err().to_string();
            assert!(e.contains("user name or password"), "{e}");
            assert!(!e.contains("s3cr3t"), "{e}");
        }
    }
}
