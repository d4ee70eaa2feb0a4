//! A load generator's HTTP/1.1 client, in the manner of `wrk`: one blocking keep-alive
//! connection per thread, a request written as prepared bytes, the answer read with its
//! `Content-Length` (or chunked) framing, nothing else. It costs the measured servers'
//! figures as little as a client can, so a figure says how fast the *server* is; both
//! servers of a comparison are driven by the same code.
//!
//! A server that answers `Connection: close` (or HTTP/1.0 without keep-alive) is redialled
//! before the next request, as any client would.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

/// A byte stream to a server: plain TCP or TLS over TCP.
pub trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// How to reach the server: its address and, for https, the TLS client settings.
#[derive(Clone)]
pub struct Dialer {
    addr: SocketAddr,
    tls: Option<(
        Arc<rustls::ClientConfig>,
        rustls::pki_types::ServerName<'static>,
    )>,
}

impl Dialer {
    /// Plain HTTP to `addr`.
    pub fn plain(addr: SocketAddr) -> Self {
        Self { addr, tls: None }
    }

    /// HTTPS to `addr`, trusting only the CA certificate(s) in `ca_pem`, verifying the
    /// server's certificate for `server_name`.
    pub fn tls(addr: SocketAddr, ca_pem: &[u8], server_name: &str) -> Result<Self, String> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, ServerName};
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem) {
            let cert = cert.map_err(|e| format!("CA PEM: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("CA certificate: {e}"))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from(server_name.to_owned()).map_err(|e| e.to_string())?;
        Ok(Self {
            addr,
            tls: Some((Arc::new(config), name)),
        })
    }

    /// A new connection (the TLS handshake happens on first use).
    pub fn dial(&self) -> io::Result<Box<dyn Stream>> {
        let tcp = TcpStream::connect(self.addr)?;
        tcp.set_nodelay(true)?;
        Ok(match &self.tls {
            None => Box::new(tcp),
            Some((config, name)) => {
                let conn = rustls::ClientConnection::new(Arc::clone(config), name.clone())
                    .map_err(io::Error::other)?;
                Box::new(rustls::StreamOwned::new(conn, tcp))
            }
        })
    }
}

/// One answer: its status and body.
pub struct Answer<'a> {
    /// The HTTP status code.
    pub status: u16,
    /// The body, de-chunked.
    pub body: &'a [u8],
}

/// One keep-alive connection, redialled when the server closes it.
pub struct Conn {
    dialer: Dialer,
    stream: Option<Box<dyn Stream>>,
    /// Bytes read from the stream and not yet consumed.
    buf: Vec<u8>,
    body: Vec<u8>,
}

impl Conn {
    /// A connection to be dialled on first use.
    pub fn new(dialer: Dialer) -> Self {
        Self {
            dialer,
            stream: None,
            buf: Vec::with_capacity(16 * 1024),
            body: Vec::with_capacity(16 * 1024),
        }
    }

    /// Sends `request` (a whole HTTP/1.1 request, headers and body) and reads its answer.
    pub fn round_trip(&mut self, request: &[u8]) -> io::Result<Answer<'_>> {
        if self.stream.is_none() {
            self.stream = Some(self.dialer.dial()?);
            self.buf.clear();
        }
        let stream = self.stream.as_mut().expect("dialled above");
        stream.write_all(request)?;
        stream.flush()?;
        let (status, keep_alive) = read_answer(stream.as_mut(), &mut self.buf, &mut self.body)?;
        if !keep_alive {
            self.stream = None;
        }
        Ok(Answer {
            status,
            body: &self.body,
        })
    }
}

/// Reads more bytes into `buf`; an early end of stream is an error.
fn fill(stream: &mut dyn Stream, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk)?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection mid-answer",
        ));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reads one answer from `stream` (leftover bytes in `buf`) into `body`:
/// (status, whether the connection stays open).
fn read_answer(
    stream: &mut dyn Stream,
    buf: &mut Vec<u8>,
    body: &mut Vec<u8>,
) -> io::Result<(u16, bool)> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        fill(stream, buf)?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| invalid("non-UTF-8 head"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid(format!("status line {status_line:?}")))?;
    let mut length = None;
    let mut chunked = false;
    let mut keep_alive = version == "HTTP/1.1";
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| invalid("content-length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            keep_alive = value.eq_ignore_ascii_case("keep-alive");
        }
    }
    buf.drain(..head_end);
    body.clear();
    if chunked {
        loop {
            let line_end = loop {
                if let Some(i) = find(buf, b"\r\n") {
                    break i;
                }
                fill(stream, buf)?;
            };
            let size = std::str::from_utf8(&buf[..line_end])
                .ok()
                .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
                .ok_or_else(|| invalid("chunk size"))?;
            buf.drain(..line_end + 2);
            while buf.len() < size + 2 {
                fill(stream, buf)?;
            }
            body.extend_from_slice(&buf[..size]);
            buf.drain(..size + 2);
            if size == 0 {
                // No trailers are expected of these servers.
                return Ok((status, keep_alive));
            }
        }
    }
    match length {
        Some(n) => {
            while buf.len() < n {
                fill(stream, buf)?;
            }
            body.extend_from_slice(&buf[..n]);
            buf.drain(..n);
        }
        None => {
            // Framed by the end of the connection (HTTP/1.0 style).
            loop {
                match fill(stream, buf) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
            }
            body.append(buf);
            keep_alive = false;
        }
    }
    Ok((status, keep_alive))
}
