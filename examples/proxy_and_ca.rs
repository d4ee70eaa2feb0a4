//! Reach an endpoint through an HTTP proxy and trust a private CA: what a private or VPC
//! endpoint behind a company's proxy and internal CA needs. Only the facade's root API is
//! used (`ClientOptions`, `RootCertificate`, the builder's `proxy`/`no_proxy`/
//! `root_certificate`).
//!
//! ```sh
//! cargo run --example proxy_and_ca        # embedded TLS emulator behind a local proxy
//!
//! # the real cloud: credentials and region in the environment, the proxy in HTTPS_PROXY
//! # (NO_PROXY honoured), a private endpoint and the CA that signed its certificate
//! HTTPS_PROXY=http://proxy.corp.example:3128 TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=... \
//!   cargo run --example proxy_and_ca -- --provider tencent-cvm --region ap-guangzhou \
//!     --endpoint https://cvm.internal.example --ca /etc/pki/corp-ca.pem --image img-xxxxxxxx
//! ```
//!
//! On the emulator it shows, in order: the call without the CA fails at once with an
//! untrusted-certificate error (not retried); with the CA it succeeds through the proxy (a
//! `CONNECT` tunnel the proxy counts); with the endpoint in `NO_PROXY` it bypasses the proxy.

#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/mod.rs"]
mod support;

use std::process::ExitCode;
use std::time::Duration;

use imageshare::testing::ConnectEmulator;
use imageshare::{
    ClientBuilder, ClientOptions, Connect, Error, ImageId, ImageSharingExt, Provider,
    RootCertificate,
};
use imageshare_emulator::{Emulator, ServerOptions, World};
use proxy::LocalProxy;
use support::{cloud_region, expect, flag};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

#[tokio::main]
async fn main() -> ExitCode {
    support::exit(run().await)
}

async fn run() -> Result<()> {
    let provider: Provider = flag("--provider")
        .as_deref()
        .unwrap_or("tencent-cvm")
        .parse()?;
    match cloud_region(provider) {
        Some(region) => real_cloud(provider, region).await,
        None => on_the_emulator().await,
    }
}

/// The real cloud: the proxy from the environment (`HTTPS_PROXY`, `NO_PROXY`), the CA and
/// endpoint from the command line.
async fn real_cloud(provider: Provider, region: String) -> Result<()> {
    let image = flag("--image").ok_or("--image ID is required against a real cloud")?;
    let mut options = ClientOptions::new().with_timeout(Duration::from_secs(20));
    if let Some(ca) = flag("--ca") {
        options = options.with_root_certificate(RootCertificate::from_pem_file(ca));
    }
    let mut connect = Connect::new(provider)
        .region(region)
        .client_options(options);
    if let Some(endpoint) = flag("--endpoint") {
        connect = connect.endpoint(endpoint);
    }
    let sharing = connect.build()?;
    let img = sharing.image(&ImageId::from(image)).await?;
    println!("image {}: {} ({})", img.id, img.name, img.state);
    Ok(())
}

/// The emulator (Tencent CVM) behind a local proxy.
async fn on_the_emulator() -> Result<()> {
    // The emulator serving https with a certificate of its own CA (rcgen), as an internal
    // endpoint would; the CA is written to a file, as a company's would be.
    let emulator =
        Emulator::start_with(World::example(), ServerOptions::default().tls(true)).await?;
    let ca_file =
        std::env::temp_dir().join(format!("imageshare-example-ca-{}.pem", std::process::id()));
    std::fs::write(
        &ca_file,
        emulator.ca_pem().ok_or("no CA on a TLS emulator")?,
    )?;
    let proxy = LocalProxy::start().await?;
    println!(
        "emulator at {} (private CA in {}), proxy at {}",
        emulator.base_url(),
        ca_file.display(),
        proxy.url()
    );
    // An image of the example world (examples/world.toml).
    let (region, image) = ("ap-guangzhou", ImageId::from("img-6pb6lrmy"));
    let connect = || {
        Connect::new(imageshare::tencent::CVM)
            .region(region)
            .emulator(&emulator, "100000000001")
            .proxy(proxy.url())
    };

    // 1. Without the CA: refused at the first attempt, and the error says what to do.
    let err = connect()
        .build()?
        .image(&image)
        .await
        .err()
        .ok_or("an untrusted certificate was accepted")?;
    let retryable = matches!(
        err,
        Error::Transport {
            retryable: true,
            ..
        }
    );
    println!("1. without the CA: {err}");
    expect(!retryable, "an untrusted certificate is not retried")?;
    expect(emulator.calls().is_empty(), "nothing reached the server")?;

    // 2. With the CA (a PEM file; `RootCertificate::from_pem` takes bytes), through the
    //    proxy: one CONNECT tunnel.
    let sharing = connect()
        .root_certificate(RootCertificate::from_pem_file(&ca_file))
        .build()?;
    let img = sharing.image(&image).await?;
    println!(
        "2. with the CA, through the proxy: image {}: {}",
        img.id, img.name
    );
    let seen = proxy.seen();
    expect(
        seen.len() == 2 && seen.iter().all(|s| s.request_line.starts_with("CONNECT ")),
        "both calls were CONNECT tunnels through the proxy",
    )?;
    println!("   the proxy saw: {}", seen[1].request_line);

    // 3. The endpoint's host in NO_PROXY: straight to the server.
    let direct = connect()
        .no_proxy("127.0.0.1")
        .root_certificate(RootCertificate::from_pem_file(&ca_file))
        .build()?;
    direct.image(&image).await?;
    expect(proxy.seen().len() == 2, "NO_PROXY bypassed the proxy")?;
    println!("3. with NO_PROXY=127.0.0.1: direct, the proxy saw nothing more");
    let _ = std::fs::remove_file(&ca_file);
    Ok(())
}
