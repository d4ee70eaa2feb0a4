//! The HTTP(S) proxy of the transport: from the environment (the default) or set
//! explicitly, resolved once when the transport is built.
//!
//! reqwest's own reading of the process environment is turned off (`no_proxy()` on its
//! builder) and done here instead, through the [`Env`] the credential chains read, so
//! that a test (or a program running several configurations) can give the proxy
//! variables without touching the process environment. The rules are reqwest's
//! (hyper-util's `Matcher::from_env`, itself after curl's):
//!
//! | variable | for |
//! |---|---|
//! | `HTTPS_PROXY`, else `https_proxy` | `https://` endpoints |
//! | `HTTP_PROXY`, else `http_proxy` | `http://` endpoints |
//! | `ALL_PROXY`, else `all_proxy` | either, when the one above is unset |
//! | `NO_PROXY`, else `no_proxy` | hosts that bypass the proxy |
//!
//! A `NO_PROXY` entry is a host name (matching it and its subdomains; a leading dot is
//! allowed), an IP address, a CIDR block (`10.0.0.0/8`) or `*` (everything). Inside a CGI
//! program (`REQUEST_METHOD` set) no proxy variable is read ("httpoxy": a client's `Proxy:`
//! header would arrive as `HTTP_PROXY`). curl differs in one point: it never reads
//! uppercase `HTTP_PROXY`.
//!
//! An explicit proxy ([`ClientOptions::with_proxy_url`](super::ClientOptions::with_proxy_url))
//! replaces the proxy variables; the bypass list is the one given with
//! [`with_no_proxy`](super::ClientOptions::with_no_proxy), else `NO_PROXY` (as curl keeps
//! honouring `NO_PROXY` with `--proxy`). A proxy URL may carry credentials
//! (`http://user:password@proxy:3128`, sent as `Proxy-Authorization: Basic`): they are
//! never printed, in `Debug` or in an error.

use std::fmt;

use crate::credentials::Env;
use crate::error::{Error, Result};

/// Where the proxy comes from (see the module docs).
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) enum ProxyConfig {
    /// The proxy variables of the environment.
    #[default]
    FromEnv,
    /// No proxy at all, whatever the environment says.
    Disabled,
    /// One proxy for every endpoint; `no_proxy` when given, else `NO_PROXY`.
    Url {
        url: String,
        no_proxy: Option<String>,
    },
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyConfig::FromEnv => f.write_str("FromEnv"),
            ProxyConfig::Disabled => f.write_str("Disabled"),
            ProxyConfig::Url { url, no_proxy } => f
                .debug_struct("Url")
                .field("url", &redact_userinfo(url))
                .field("no_proxy", no_proxy)
                .finish(),
        }
    }
}

/// The proxies in force, resolved: what reqwest is given.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct ResolvedProxy {
    /// For `http://` endpoints, with where it came from (a variable or `with_proxy_url`).
    pub(crate) http: Option<(reqwest::Url, &'static str)>,
    /// For `https://` endpoints.
    pub(crate) https: Option<(reqwest::Url, &'static str)>,
    /// The bypass list (`NO_PROXY` syntax), empty for none.
    pub(crate) no_proxy: String,
}

impl fmt::Debug for ResolvedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |p: &Option<(reqwest::Url, &'static str)>| {
            p.as_ref()
                .map(|(u, from)| format!("{} ({from})", redact_userinfo(u.as_str())))
        };
        f.debug_struct("ResolvedProxy")
            .field("http", &show(&self.http))
            .field("https", &show(&self.https))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// The first of `names` set (non-empty) in `env`, with its name.
fn first_var(env: &dyn Env, names: [&'static str; 2]) -> Option<(String, &'static str)> {
    names.into_iter().find_map(|n| env.var(n).map(|v| (v, n)))
}

fn no_proxy_of(env: &dyn Env) -> String {
    first_var(env, ["NO_PROXY", "no_proxy"])
        .map(|(v, _)| v)
        .unwrap_or_default()
}

impl ProxyConfig {
    /// The proxies this setting gives in `env`. A proxy URL that does not parse, or whose
    /// scheme is not `http` or `https`, is [`Error::InvalidInput`] naming where it came
    /// from (never its credentials).
    pub(crate) fn resolve(&self, env: &dyn Env) -> Result<ResolvedProxy> {
        match self {
            ProxyConfig::Disabled => Ok(ResolvedProxy::default()),
            ProxyConfig::Url { url, no_proxy } => {
                let url = parse_proxy_url(url, "with_proxy_url")?;
                Ok(ResolvedProxy {
                    http: Some((url.clone(), "with_proxy_url")),
                    https: Some((url, "with_proxy_url")),
                    no_proxy: no_proxy.clone().unwrap_or_else(|| no_proxy_of(env)),
                })
            }
            ProxyConfig::FromEnv => {
                if env.var("REQUEST_METHOD").is_some() {
                    return Ok(ResolvedProxy::default());
                }
                let parse = |v: Option<(String, &'static str)>| -> Result<_> {
                    v.map(|(raw, name)| parse_proxy_url(&raw, name).map(|u| (u, name)))
                        .transpose()
                };
                let all = parse(first_var(env, ["ALL_PROXY", "all_proxy"]))?;
                let http = parse(first_var(env, ["HTTP_PROXY", "http_proxy"]))?;
                let https = parse(first_var(env, ["HTTPS_PROXY", "https_proxy"]))?;
                Ok(ResolvedProxy {
                    http: http.or_else(|| all.clone()),
                    https: https.or(all),
                    no_proxy: no_proxy_of(env),
                })
            }
        }
    }
}

impl ResolvedProxy {
    /// Whether any endpoint goes through a proxy.
    pub(crate) fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    /// `builder` with these proxies and reqwest's own reading of the environment off.
    pub(crate) fn apply(
        &self,
        builder: reqwest::ClientBuilder,
    ) -> std::result::Result<reqwest::ClientBuilder, reqwest::Error> {
        let mut builder = builder.no_proxy();
        let no_proxy = || reqwest::NoProxy::from_string(&self.no_proxy);
        if let Some((url, _)) = &self.http {
            builder = builder.proxy(reqwest::Proxy::http(url.clone())?.no_proxy(no_proxy()));
        }
        if let Some((url, _)) = &self.https {
            builder = builder.proxy(reqwest::Proxy::https(url.clone())?.no_proxy(no_proxy()));
        }
        Ok(builder)
    }
}

/// `raw` as a proxy URL: `scheme://[user:password@]host[:port]`, the scheme `http`
/// (the default when none is written, as curl and reqwest take `proxy:3128`) or `https`.
fn parse_proxy_url(raw: &str, from: &str) -> Result<reqwest::Url> {
    let raw = raw.trim();
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("http://{raw}")
    };
    let bad = |why: &str| {
        Error::invalid_input(
            "proxy",
            format!("{from}: {} is not a proxy URL: {why}", redact_userinfo(raw)),
        )
    };
    let url = reqwest::Url::parse(&with_scheme)
        .map_err(|e| bad(&format!("{e} (expected http://host:port)")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(&format!(
            "the scheme {:?} is not supported (http or https)",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it names no host"));
    }
    Ok(url)
}

/// `url` with any `user:password@` replaced by `***@`, parsed or not: the form every
/// proxy URL is printed in.
#[must_use]
pub fn redact_userinfo(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    match url[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::StaticEnv;

    fn url(p: &Option<(reqwest::Url, &'static str)>) -> Option<(String, &'static str)> {
        p.as_ref().map(|(u, n)| (u.as_str().to_owned(), *n))
    }

    #[test]
    fn userinfo_is_redacted_parsed_or_not() {
        assert_eq!(
            redact_userinfo("http://alice:s3cr3t@proxy:3128/"),
            "http://***@proxy:3128/"
        );
        assert_eq!(redact_userinfo("alice:s3cr3t@proxy:3128"), "***@proxy:3128");
        assert_eq!(redact_userinfo("http://proxy:3128"), "http://proxy:3128");
        assert_eq!(
            redact_userinfo("http://proxy:3128/a@b"),
            "http://proxy:3128/a@b"
        );
        assert_eq!(redact_userinfo("http://a@b@proxy"), "http://***@proxy");
    }

    #[test]
    fn the_environment_gives_per_scheme_proxies_uppercase_first_then_all_proxy() {
        let env = StaticEnv::new()
            .with_var("https_proxy", "http://lower:1")
            .with_var("HTTPS_PROXY", "http://upper:2")
            .with_var("all_proxy", "proxy-all:3")
            .with_var("no_proxy", ".internal, 10.0.0.0/8");
        let r = ProxyConfig::FromEnv.resolve(&env).unwrap();
        assert_eq!(
            url(&r.https),
            Some(("http://upper:2/".into(), "HTTPS_PROXY"))
        );
        // No HTTP_PROXY: ALL_PROXY, with http:// added.
        assert_eq!(
            url(&r.http),
            Some(("http://proxy-all:3/".into(), "all_proxy"))
        );
        assert_eq!(r.no_proxy, ".internal, 10.0.0.0/8");

        let r = ProxyConfig::FromEnv.resolve(&StaticEnv::new()).unwrap();
        assert!(r.is_empty());
        // CGI: the variables are not read at all ("httpoxy").
        let cgi = StaticEnv::new()
            .with_var("HTTP_PROXY", "http://injected:1")
            .with_var("REQUEST_METHOD", "GET");
        assert!(ProxyConfig::FromEnv.resolve(&cgi).unwrap().is_empty());
    }

    #[test]
    fn an_explicit_proxy_replaces_the_variables_and_keeps_no_proxy_unless_given() {
        let env = StaticEnv::new()
            .with_var("HTTPS_PROXY", "http://env:1")
            .with_var("NO_PROXY", "env.example");
        let explicit = ProxyConfig::Url {
            url: "http://u:p@explicit:8080".into(),
            no_proxy: None,
        };
        let r = explicit.resolve(&env).unwrap();
        assert_eq!(
            url(&r.https),
            Some(("http://u:p@explicit:8080/".into(), "with_proxy_url"))
        );
        assert_eq!(r.no_proxy, "env.example");
        let dbg = format!("{r:?} {explicit:?}");
        assert!(
            !dbg.contains("u:p") && dbg.contains("***@explicit:8080"),
            "{dbg}"
        );
        let given = ProxyConfig::Url {
            url: "explicit:8080".into(),
            no_proxy: Some("mine.example".into()),
        };
        assert_eq!(given.resolve(&env).unwrap().no_proxy, "mine.example");
        assert!(ProxyConfig::Disabled.resolve(&env).unwrap().is_empty());
    }

    #[test]
    fn a_bad_proxy_url_names_its_source_never_its_password() {
        let env = StaticEnv::new().with_var("HTTPS_PROXY", "socks5://alice:s3cr3t@proxy:1080");
        let e = ProxyConfig::FromEnv.resolve(&env).unwrap_err().to_string();
        assert!(
            e.starts_with("invalid proxy: HTTPS_PROXY: socks5://***@proxy:1080"),
            "{e}"
        );
        assert!(
            e.contains("\"socks5\" is not supported") && !e.contains("s3cr3t"),
            "{e}"
        );
        let bad = ProxyConfig::Url {
            url: "http://alice:s3cr3t@".into(),
            no_proxy: None,
        };
        let e = bad.resolve(&env).unwrap_err().to_string();
        assert!(e.contains("with_proxy_url") && !e.contains("s3cr3t"), "{e}");
    }
}
