//! TLS for clients that insist on https: at start, a fresh certificate authority and a
//! server certificate for `127.0.0.1`, `::1` and `localhost` signed by it are generated
//! (rcgen, ECDSA P-256 over ring), and connections are served with rustls. The CA
//! certificate (PEM) is what a client trusts: `REQUESTS_CA_BUNDLE` for Python's `requests`
//! (<https://requests.readthedocs.io/en/latest/user/advanced/#ssl-cert-verification>),
//! `NODE_EXTRA_CA_CERTS` for Node.js (<https://nodejs.org/api/cli.html#node_extra_ca_certsfile>),
//! `SSL_CERT_FILE` for most others. The keys live only in memory and are never logged;
//! nothing is written but the CA certificate, by the caller.
//!
//! Certificate shape follows RFC 5280: the CA has `basicConstraints cA=TRUE` and
//! `keyCertSign`; the server certificate names its hosts as subjectAltName entries (IP
//! addresses as iPAddress, RFC 6125 §6.4 / RFC 2818 §3.1) with `serverAuth`.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The hosts the server certificate is valid for.
pub const SERVER_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];

/// What a TLS emulator serves with: the acceptor, and the CA certificate clients trust.
#[derive(Clone)]
pub(crate) struct Tls {
    pub(crate) acceptor: TlsAcceptor,
    /// The CA certificate, PEM.
    pub(crate) ca_pem: String,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

fn other(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("TLS setup: {e}"))
}

impl Tls {
    /// A fresh CA and server certificate, and a rustls server configuration with them.
    pub(crate) fn generate() -> std::io::Result<Tls> {
        let _span = tracing::debug_span!("tls_generate").entered();
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(other)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.distinguished_name = DistinguishedName::new();
        ca.distinguished_name
            .push(DnType::CommonName, "imageshare-emulator local CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().map_err(other)?;
        let ca_cert = ca.self_signed(&ca_key).map_err(other)?;

        let names: Vec<String> = SERVER_NAMES.iter().map(|s| (*s).to_owned()).collect();
        let mut server = CertificateParams::new(names).map_err(other)?;
        server.distinguished_name = DistinguishedName::new();
        server
            .distinguished_name
            .push(DnType::CommonName, "imageshare-emulator");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        server.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let server_key = KeyPair::generate().map_err(other)?;
        let server_cert = server
            .signed_by(&server_key, &ca_cert, &ca_key)
            .map_err(other)?;

        let chain: Vec<CertificateDer<'static>> =
            vec![server_cert.der().clone(), ca_cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(other)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(other)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            ca_pem: ca_cert.pem(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_pem_is_generated_fresh_each_time() {
        let a = Tls::generate().unwrap();
        let b = Tls::generate().unwrap();
        assert!(a.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_ne!(a.ca_pem, b.ca_pem);
        assert!(
            !format!("{a:?}").contains("BEGIN"),
            "Debug shows no material"
        );
    }
}
