//! A tiny HTTP forward proxy on 127.0.0.1 (ephemeral port), for the proxy example and
//! tests: `CONNECT host:port` tunnels (https endpoints) and absolute-form requests
//! (`GET http://host:port/... HTTP/1.1`, http endpoints), each forwarded as is. It records
//! the first request line of every connection and its `Proxy-Authorization` header, so a
//! test can tell that a call went through it. Not a real proxy: no access control, one
//! upstream per connection.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One connection the proxy served: its first request line (`CONNECT 127.0.0.1:4433`,
/// `POST http://127.0.0.1:8080/`) and the `Proxy-Authorization` value it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub request_line: String,
    pub proxy_authorization: Option<String>,
}

/// A running proxy; dropping it stops accepting connections.
pub struct LocalProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LocalProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LocalProxy {
    /// Starts a proxy on 127.0.0.1 with an ephemeral port.
    pub async fn start() -> std::io::Result<LocalProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, log).await;
                });
            }
        });
        Ok(LocalProxy { addr, seen, task })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every connection served so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(mut client: TcpStream, log: Arc<Mutex<Vec<Seen>>>) -> std::io::Result<()> {
    // The request head, at most 64 KiB.
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = client.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let proxy_authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, v)| v.trim().to_owned());
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    log.lock().unwrap().push(Seen {
        request_line: format!("{method} {target}"),
        proxy_authorization,
    });
    if method == "CONNECT" {
        let mut upstream = TcpStream::connect(target).await?;
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await?;
        // Anything the client sent after the head (a TLS hello sent early).
        upstream.write_all(&head[end..]).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    } else {
        let authority = target
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default();
        let mut upstream = TcpStream::connect(authority).await?;
        upstream.write_all(&head).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    }
    Ok(())
}
