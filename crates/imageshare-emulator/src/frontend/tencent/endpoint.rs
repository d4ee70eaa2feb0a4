//! What Tencent's official clients sign when pointed at an endpoint that is not
//! `<service>.tencentcloudapi.com`, and how the emulator accepts it without weakening the
//! TC3 check.
//!
//! Tencent's Node.js SDK (`tencentcloud-sdk-nodejs`, `src/common/abstract_client.ts`,
//! <https://github.com/TencentCloud/tencentcloud-sdk-nodejs/blob/master/src/common/abstract_client.ts>)
//! takes the credential scope's service from the endpoint's first label
//! (`service: this.endpoint.split(".")[0]`), so an endpoint `127.0.0.1:PORT` signs for the
//! service `127`; and its signer (`src/common/sign.ts`) signs `host:` with the URL's
//! hostname, without the port, while the `Host` header it sends carries the port. Tencent's
//! own API gateway never sees either (its endpoints are `<service>.tencentcloudapi.com` on
//! port 443, TC3 documentation: <https://www.tencentcloud.com/document/api/213/33224>).
//!
//! So the emulator:
//!
//! - routes by the scope's service when it is one it serves (`cvm`, `lighthouse`, `sts`,
//!   `cbs`);
//!   when the service is the first label of the request's own `Host` (what such a client
//!   derived from a custom endpoint) and names no served product, by `X-TC-Version`
//!   (CVM 2017-03-12, Lighthouse 2020-03-24, STS 2018-08-13; CBS shares CVM's version, so
//!   such a client reaches CBS only by signing for `cbs`); any other service is a real
//!   product it does not serve and is answered as such. The signature is always verified
//!   with the scope the client used.
//! - verifies the signature over the `Host` header as sent, and only if that does not
//!   match and the header carries a port, once more over the host without the port. Each
//!   attempt is an exact match of the full signature, so no request passes that a client
//!   holding the key did not sign.

use super::{CVM_VERSION, LIGHTHOUSE_VERSION};
use crate::server::WireRequest;

/// The STS API version (2018-08-13).
const STS_VERSION: &str = "2018-08-13";

/// Services the emulator serves by their scope name.
const SERVED: [&str; 4] = ["cvm", "lighthouse", "sts", "cbs"];

/// The service a TC3 request is for, given its credential scope's service `scope`: the
/// scope's when it is served or is a real product; the one its `X-TC-Version` names when
/// the scope is only the first label of a custom endpoint (see the module docs).
pub(crate) fn effective_service(wire: &WireRequest, scope: &str) -> String {
    if SERVED.contains(&scope) {
        return scope.to_owned();
    }
    let first_label = wire
        .header("host")
        .map(|h| h.split('.').next().unwrap_or(""))
        .unwrap_or("");
    if scope.is_empty() || scope == first_label {
        let by_version = match wire.header("x-tc-version").unwrap_or("").trim() {
            CVM_VERSION => Some("cvm"),
            LIGHTHOUSE_VERSION => Some("lighthouse"),
            STS_VERSION => Some("sts"),
            _ => None,
        };
        if let Some(service) = by_version {
            return service.to_owned();
        }
    }
    scope.to_owned()
}

/// The `Host` header without its port (`127.0.0.1:8080` -> `127.0.0.1`, `[::1]:80` ->
/// `[::1]`); `None` when it carries none.
pub(crate) fn host_without_port(host: &str) -> Option<&str> {
    let (name, port) = host.rsplit_once(':')?;
    let bracketed_v6 = name.starts_with('[') && name.ends_with(']');
    let plain = !name.contains(':');
    (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && (bracketed_v6 || plain))
        .then_some(name)
}

/// The request's headers with `Host` without its port, for the second verification.
pub(crate) fn headers_with_portless_host(wire: &WireRequest) -> Option<Vec<(String, String)>> {
    let host = wire.header("host")?;
    let bare = host_without_port(host)?;
    Some(
        wire.headers
            .iter()
            .map(|(k, v)| {
                if k == "host" {
                    (k.clone(), bare.to_owned())
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn wire(host: &str, version: &str) -> WireRequest {
        WireRequest::new(
            "POST".into(),
            "/".into(),
            String::new(),
            vec![
                ("host".into(), host.into()),
                ("x-tc-version".into(), version.into()),
            ],
            Bytes::new(),
        )
    }

    #[test]
    fn served_scopes_route_by_themselves_endpoint_labels_by_version() {
        let w = wire("127.0.0.1:9000", "2020-03-24");
        assert_eq!(effective_service(&w, "cvm"), "cvm");
        assert_eq!(effective_service(&w, "127"), "lighthouse");
        assert_eq!(
            effective_service(&wire("127.0.0.1:9000", "2017-03-12"), "127"),
            "cvm"
        );
        assert_eq!(
            effective_service(&wire("127.0.0.1:9", "2018-08-13"), "127"),
            "sts"
        );
        let w = wire("localhost:9000", "2017-03-12");
        assert_eq!(effective_service(&w, "localhost:9000"), "cvm");
        // A served scope is routed by itself (CBS shares CVM's version 2017-03-12).
        assert_eq!(effective_service(&w, "cbs"), "cbs");
        // A real product the emulator does not serve stays that product.
        assert_eq!(effective_service(&w, "vpc"), "vpc");
        // An endpoint label with an unknown version stays what was signed.
        assert_eq!(
            effective_service(&wire("127.0.0.1:9", "2099-01-01"), "127"),
            "127"
        );
    }

    #[test]
    fn ports_are_stripped_only_when_there_is_one() {
        assert_eq!(host_without_port("127.0.0.1:8080"), Some("127.0.0.1"));
        assert_eq!(host_without_port("localhost:1"), Some("localhost"));
        assert_eq!(host_without_port("[::1]:443"), Some("[::1]"));
        assert_eq!(host_without_port("127.0.0.1"), None);
        assert_eq!(host_without_port("::1"), None);
        assert_eq!(host_without_port("host:"), None);
        assert_eq!(host_without_port("host:8a"), None);
    }
}
