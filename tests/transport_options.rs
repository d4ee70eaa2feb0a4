//! #18 item 7: the transport's proxy (explicit and from the environment, with `NO_PROXY`),
//! extra root certificates and an injected HTTP client, end to end against the emulator
//! through a local forward proxy (examples/support/proxy.rs), all on 127.0.0.1.

#[path = "../examples/support/proxy.rs"]
mod proxy;

use imageshare::testing::ConnectEmulator;
use imageshare::{
    ClientBuilder, Connect, DynSharing, Error, ImageSharingExt, RetryConfig, RootCertificate,
    StaticEnv,
};
use imageshare_emulator::{Emulator, ServerOptions, World};
use proxy::LocalProxy;

const ACCOUNT: &str = "100000000001";
const IMAGE: &str = "img-6pb6lrmy";

fn cvm(emu: &Emulator) -> Connect {
    Connect::new(imageshare::tencent::CVM)
        .region("ap-guangzhou")
        .emulator(emu, ACCOUNT)
}

/// One read that is exactly one request: CVM `DescribeImageSharePermission` of IMAGE (an
/// image lookup is two since #17 bug 8a: `DescribeImages`, then CBS `DescribeSnapshots`).
async fn one_read(sharing: &DynSharing) -> imageshare::Result<()> {
    sharing.sharees(&IMAGE.into()).await?;
    Ok(())
}

async fn tls_emulator() -> (Emulator, String) {
    let emu = Emulator::start_with(World::example(), ServerOptions::default().tls(true))
        .await
        .unwrap();
    let ca = emu.ca_pem().expect("a TLS emulator has a CA");
    (emu, ca)
}

/// A file under the temp dir, unique to this process and `name`.
fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "imageshare-transport-{}-{name}",
        std::process::id()
    ));
    std::fs::write(&path, contents).unwrap();
    path
}

#[tokio::test]
async fn an_explicit_proxy_carries_the_calls_and_no_proxy_bypasses_it() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let proxy = LocalProxy::start().await.unwrap();
    let authority = emu.base_url().trim_start_matches("http://").to_owned();

    let builder = cvm(&emu).proxy(proxy.url().replace("http://", "http://build:s3cr3t@"));
    let shown = format!("{:?}", builder.config());
    assert!(
        shown.contains("http://***@127.0.0.1") && !shown.contains("s3cr3t"),
        "{shown}"
    );
    let via = builder.build().unwrap();
    one_read(&via).await.unwrap();
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    // An http endpoint is asked of the proxy in absolute form, with the proxy's
    // credentials as Basic auth ("build:s3cr3t").
    assert_eq!(seen[0].request_line, format!("POST http://{authority}/"));
    assert_eq!(
        seen[0].proxy_authorization.as_deref(),
        Some("Basic YnVpbGQ6czNjcjN0")
    );

    // The endpoint's host in the bypass list: straight to the emulator.
    let direct = cvm(&emu)
        .proxy(proxy.url())
        .no_proxy("example.invalid, 127.0.0.1")
        .build()
        .unwrap();
    one_read(&direct).await.unwrap();
    assert_eq!(
        proxy.seen().len(),
        1,
        "the proxy saw no more: {:?}",
        proxy.seen()
    );
    assert_eq!(emu.calls().len(), 2);
}

#[tokio::test]
async fn the_proxy_variables_come_from_the_builders_env_not_the_process() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let proxy = LocalProxy::start().await.unwrap();

    let env = StaticEnv::new().with_var("http_proxy", &proxy.url());
    one_read(&cvm(&emu).env(env).build().unwrap())
        .await
        .unwrap();
    assert_eq!(proxy.seen().len(), 1, "{:?}", proxy.seen());

    // NO_PROXY (a CIDR block here) sends the endpoint direct.
    let env = StaticEnv::new()
        .with_var("ALL_PROXY", &proxy.url())
        .with_var("NO_PROXY", "127.0.0.0/8");
    one_read(&cvm(&emu).env(env).build().unwrap())
        .await
        .unwrap();
    assert_eq!(proxy.seen().len(), 1, "{:?}", proxy.seen());

    // without_proxy ignores the variables.
    let env = StaticEnv::new().with_var("HTTP_PROXY", &proxy.url());
    let options = imageshare::ClientOptions::new().without_proxy();
    one_read(&cvm(&emu).env(env).client_options(options).build().unwrap())
        .await
        .unwrap();
    assert_eq!(proxy.seen().len(), 1, "{:?}", proxy.seen());

    // A variable that is no proxy URL fails build(), naming the variable, not its value's
    // credentials.
    let env = StaticEnv::new().with_var("HTTP_PROXY", "ftp://u:hunter2@proxy:21");
    let e = cvm(&emu).env(env).build().unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("HTTP_PROXY") && !e.contains("hunter2"), "{e}");
    assert_eq!(emu.calls().len(), 3, "nothing sent by the refused build");
}

#[tokio::test]
async fn a_private_ca_must_be_added_and_then_is_trusted() {
    let (emu, ca) = tls_emulator().await;

    // Without it: a clear error, at the first attempt (no retry changes a certificate).
    let e = one_read(&cvm(&emu).build().unwrap()).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Transport {
                retryable: false,
                ..
            }
        ),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("the server's TLS certificate is not trusted (UnknownIssuer)"),
        "{text}"
    );
    assert!(
        text.contains("ClientOptions::with_root_certificate"),
        "{text}"
    );
    assert!(emu.calls().is_empty(), "no request reached the server");

    // With it, as bytes or as a file.
    one_read(
        &cvm(&emu)
            .root_certificate(RootCertificate::from_pem(&ca))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let file = temp_file("ca.pem", &ca);
    one_read(
        &cvm(&emu)
            .root_certificate(RootCertificate::from_pem_file(&file))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(emu.calls().len(), 2);

    // A bad PEM file fails build() naming the file.
    let bad = temp_file(
        "bad.pem",
        "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n",
    );
    let e = cvm(&emu)
        .root_certificate(RootCertificate::from_pem_file(&bad))
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    let e = e.to_string();
    assert!(
        e.contains(&format!(
            "the file {}: certificate 1 is not an X.509",
            bad.display()
        )),
        "{e}"
    );
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_file(bad);
}

#[tokio::test]
async fn https_through_the_proxy_is_a_connect_tunnel() {
    let (emu, ca) = tls_emulator().await;
    let proxy = LocalProxy::start().await.unwrap();
    let authority = emu.base_url().trim_start_matches("https://").to_owned();
    let env = StaticEnv::new().with_var("HTTPS_PROXY", &proxy.url());

    // Without the CA: one tunnel only, so one attempt (a transport failure that is not about
    // the certificate would be retried: see the next assertions).
    let e = one_read(&cvm(&emu).env(env.clone()).build().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Transport {
                retryable: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(proxy.seen().len(), 1, "{:?}", proxy.seen());
    one_read(
        &cvm(&emu)
            .env(env)
            .root_certificate(RootCertificate::from_pem(&ca))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let seen = proxy.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen.iter()
            .all(|s| s.request_line == format!("CONNECT {authority}")),
        "{seen:?}"
    );
    assert_eq!(emu.calls().len(), 1);

    // The contrast: a tunnel to a closed port is a failure worth retrying, and is retried
    // (three attempts, three tunnels asked for).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let retry = RetryConfig::builder()
        .max_attempts(3)
        .initial_backoff(std::time::Duration::from_millis(1))
        .max_backoff(std::time::Duration::from_millis(2))
        .build();
    let e = one_read(
        &cvm(&emu)
            .endpoint(format!("https://127.0.0.1:{closed_port}"))
            .proxy(proxy.url())
            .retry(retry)
            .build()
            .unwrap(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_eq!(proxy.seen().len(), 2 + 3, "{:?}", proxy.seen());
}

#[tokio::test]
async fn an_injected_client_is_used_and_refuses_settings_it_would_ignore() {
    let (emu, ca) = tls_emulator().await;
    // The application's own client trusts the CA; the transport's default would not.
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    one_read(&cvm(&emu).http_client(client.clone()).build().unwrap())
        .await
        .unwrap();
    assert_eq!(emu.calls().len(), 1);

    let e = cvm(&emu)
        .http_client(client)
        .root_certificate(RootCertificate::from_pem(&ca))
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    assert!(e.to_string().contains("with_http_client"), "{e}");
}
