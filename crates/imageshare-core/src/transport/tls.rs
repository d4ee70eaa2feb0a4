//! Extra root certificates ([`RootCertificate`]): the CA of a private or VPC endpoint (or
//! of a TLS-inspecting proxy), trusted on top of the built-in roots (Mozilla's, through
//! `webpki-roots`), and the words of a certificate the transport does not trust.
//!
//! A certificate is read and checked when the transport is built, so a bad PEM fails
//! `build()` with [`Error::InvalidInput`] naming the file (and which certificate in it),
//! never the first call.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::CertificateDer;

use crate::credentials::Env;
use crate::error::{Error, Result};

/// One or more CA certificates (PEM, `-----BEGIN CERTIFICATE-----` sections) to trust on
/// top of the built-in roots: from bytes, or from a file read when the transport is built.
///
/// ```
/// use imageshare_core::transport::{ClientOptions, RootCertificate};
///
/// let options = ClientOptions::new()
///     .with_root_certificate(RootCertificate::from_pem_file("/etc/pki/corp-ca.pem"));
/// // The file is read, and every certificate in it checked, by `build()`.
/// # drop(options);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RootCertificate {
    source: Source,
}

#[derive(Clone, PartialEq, Eq)]
enum Source {
    Pem(Arc<[u8]>),
    File(PathBuf),
}

impl fmt::Debug for RootCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::Pem(b) => write!(f, "RootCertificate(PEM, {} bytes)", b.len()),
            Source::File(p) => write!(f, "RootCertificate({})", p.display()),
        }
    }
}

impl RootCertificate {
    /// The certificates of a PEM document (one or several `CERTIFICATE` sections; other
    /// sections, such as keys, are skipped).
    #[must_use]
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Self {
        RootCertificate {
            source: Source::Pem(Arc::from(pem.as_ref())),
        }
    }

    /// The certificates of the PEM file at `path`, read when the transport is built
    /// (through the builder's [`Env`], so tests can give it).
    #[must_use]
    pub fn from_pem_file(path: impl Into<PathBuf>) -> Self {
        RootCertificate {
            source: Source::File(path.into()),
        }
    }

    /// The file, if the certificates come from one.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        match &self.source {
            Source::File(p) => Some(p),
            Source::Pem(_) => None,
        }
    }

    /// Reads (when from a file) and checks every certificate: each PEM section decodes
    /// and is an X.509 certificate usable as a trust anchor; at least one is there.
    pub(crate) fn load(&self, env: &dyn Env) -> Result<Vec<reqwest::Certificate>> {
        let (what, text);
        let bytes: &[u8] = match &self.source {
            Source::Pem(b) => {
                what = "the PEM given to RootCertificate::from_pem".to_owned();
                b
            }
            Source::File(p) => {
                what = format!("the file {}", p.display());
                text = env.read_file(p).map_err(|e| bad(&what, &e.to_string()))?;
                text.as_bytes()
            }
        };
        let mut certs = Vec::new();
        for (i, der) in CertificateDer::pem_slice_iter(bytes).enumerate() {
            let n = i + 1;
            let der =
                der.map_err(|e| bad(&what, &format!("certificate {n}: {}", pem_words(&e))))?;
            // What the TLS stack will do with it: make it a trust anchor.
            rustls::RootCertStore::empty()
                .add(der.clone())
                .map_err(|e| {
                    bad(
                        &what,
                        &format!(
                            "certificate {n} is not an X.509 certificate usable as a root ({e})"
                        ),
                    )
                })?;
            certs.push(
                reqwest::Certificate::from_der(der.as_ref())
                    .map_err(|e| bad(&what, &format!("certificate {n}: {e}")))?,
            );
        }
        if certs.is_empty() {
            return Err(bad(
                &what,
                "no certificate in it (expected PEM: -----BEGIN CERTIFICATE----- ...)",
            ));
        }
        Ok(certs)
    }
}

fn bad(what: &str, why: &str) -> Error {
    Error::invalid_input("root certificate", format!("{what}: {why}"))
}

fn pem_words(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { .. } => "a PEM section has no END line".into(),
        pem::Error::IllegalSectionStart { .. } => "a PEM BEGIN line is malformed".into(),
        pem::Error::Base64Decode(_) => "its body is not base64".into(),
        other => format!("bad PEM ({other})"),
    }
}

/// When `e` (a failed request) failed because the server's certificate is not trusted:
/// rustls's words for why. Found in the cause chain, where rustls's error sits inside
/// `io::Error`s (nested: hyper-util wraps the TLS connector's), whose `source()` skips the
/// error they wrap; so each `io::Error` is opened too. Bounded: at most 32 links.
pub(crate) fn untrusted_certificate(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut stack = vec![e];
    for _ in 0..32 {
        let err = stack.pop()?;
        if let Some(rustls::Error::InvalidCertificate(c)) = err.downcast_ref::<rustls::Error>() {
            return Some(format!("{c:?}"));
        }
        if let Some(source) = err.source() {
            stack.push(source);
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            stack.push(inner);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::StaticEnv;

    /// A fresh self-signed CA certificate (PEM) and its key (PEM).
    fn ca(name: &str) -> (String, String) {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn every_certificate_of_a_bundle_is_loaded_and_other_sections_skipped() {
        let (a, key) = ca("imageshare test CA a");
        let (b, _) = ca("imageshare test CA b");
        let bundle = format!("# corporate roots\n{a}{key}{b}");
        let env = StaticEnv::new().with_file("/ca/bundle.pem", &bundle);
        let certs = RootCertificate::from_pem_file("/ca/bundle.pem")
            .load(&env)
            .unwrap();
        assert_eq!(certs.len(), 2);
        assert_eq!(RootCertificate::from_pem(&a).load(&env).unwrap().len(), 1);
        assert_eq!(
            RootCertificate::from_pem_file("/ca/bundle.pem").path(),
            Some(Path::new("/ca/bundle.pem"))
        );
        // A broken second certificate is named by its place in the file.
        let broken =
            format!("{a}-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n");
        let e = RootCertificate::from_pem(broken)
            .load(&env)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("certificate 2 is not an X.509 certificate"),
            "{e}"
        );
    }

    #[test]
    fn an_untrusted_certificate_is_found_inside_nested_io_errors() {
        use std::io::{Error as Io, ErrorKind};
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let nested = Io::other(Io::new(ErrorKind::InvalidData, tls));
        assert_eq!(
            untrusted_certificate(&nested).as_deref(),
            Some("UnknownIssuer")
        );
        assert_eq!(untrusted_certificate(&Io::other("refused")), None);
    }

    #[test]
    fn a_file_without_certificates_or_with_a_broken_one_is_refused_by_name() {
        let env = StaticEnv::new()
            .with_file("/ca/empty.pem", "just text\n")
            .with_file(
                "/ca/broken.pem",
                "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n",
            )
            .with_file(
                "/ca/garbage.pem",
                "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n",
            );
        let e = RootCertificate::from_pem_file("/ca/empty.pem")
            .load(&env)
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
        let e = e.to_string();
        assert!(
            e.starts_with("invalid root certificate: the file /ca/empty.pem: no certificate"),
            "{e}"
        );
        let e = RootCertificate::from_pem_file("/ca/broken.pem")
            .load(&env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/ca/broken.pem: certificate 1:"), "{e}");
        let e = RootCertificate::from_pem_file("/ca/garbage.pem")
            .load(&env)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/ca/garbage.pem: certificate 1 is not an X.509 certificate"),
            "{e}"
        );
        let e = RootCertificate::from_pem_file("/ca/missing.pem")
            .load(&env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("the file /ca/missing.pem: "), "{e}");
        let e = RootCertificate::from_pem("")
            .load(&env)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("the PEM given to RootCertificate::from_pem: no certificate"),
            "{e}"
        );
        assert_eq!(
            format!("{:?}", RootCertificate::from_pem("abc")),
            "RootCertificate(PEM, 3 bytes)"
        );
    }
}
