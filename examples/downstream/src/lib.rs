//! A downstream crate of imageshare: everything here is written against the `imageshare`
//! facade's root API only (`imageshare::Connect`, `imageshare::Error`, ...), as a first
//! user would from the rustdoc. `tests/downstream.rs` runs each part against the embedded
//! emulator.
//!
//! 1. [`share_everywhere`]: one image shared on several clouds, every failure handled by
//!    its kind ([`Handled`]).
//! 2. [`sharees_of`]: a stream of sharees returned from a function (it owns what it needs).
//! 3. [`look_up_concurrently`]: one client shared by spawned tasks (a cheap clone each).
//! 4. [`behind_corporate_proxy`]: a proxy and a private CA.
//! 5. [`Vault`]: a credentials provider of our own.

use std::sync::atomic::{AtomicUsize, Ordering};

use imageshare::{
    BoxStream, ClientBuilder, Connect, DynSharing, Error, Expiring, ImageId, ImageSharing,
    ImageSharingExt, OutcomeKind, Principal, ProvideCredentials, ProvideFuture, Provider, Result,
    RootCertificate, Sharee, TencentCredentials,
};

/// One image to share on one cloud.
#[derive(Debug, Clone)]
pub struct Target {
    /// The connection (behind the limit checker, as `Connect::build` returns it).
    pub sharing: DynSharing,
    /// The image on that cloud.
    pub image: ImageId,
    /// Who to share it with.
    pub to: Vec<Principal>,
}

/// What the automation does with the result of one cloud's share, decided by the error's
/// kind, never by its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Shared: how many grants are new, how many were there already.
    Done {
        /// New grants.
        granted: usize,
        /// Grants that existed.
        already: usize,
    },
    /// The request itself is wrong (a limit or a malformed value): fix the manifest. No
    /// write was sent.
    FixRequest(String),
    /// The image is not there (wrong id or region).
    Missing(String),
    /// The credentials are missing or refused: page a human, do not retry.
    Credentials(String),
    /// Some principals got the grant and some did not: retry those.
    Partial {
        /// The report's counts (`1 granted, 1 failed`).
        summary: String,
    },
    /// The cloud or the network failed after the retries: try the whole run again later.
    RetryLater(String),
    /// Anything else, with the cloud's code when there is one.
    Other(String),
}

/// Sorts an error by kind (the enum is `#[non_exhaustive]`: there is a catch-all arm).
#[must_use]
pub fn handle(e: &Error) -> Handled {
    match e {
        Error::Limit(v) => Handled::FixRequest(format!("{}: {}", v.rule, v.explanation)),
        Error::InvalidInput { field, message, .. } => {
            Handled::FixRequest(format!("{field}: {message}"))
        }
        Error::NotFound { what, id, .. } => Handled::Missing(format!("{what} {id}")),
        Error::Auth { code, .. } => Handled::Credentials(code.clone()),
        Error::CredentialsNotFound { .. }
        | Error::CredentialSource { .. }
        | Error::CredentialsExpired { .. } => Handled::Credentials(e.to_string()),
        Error::Partial(report) => Handled::Partial {
            summary: report.summary(),
        },
        e if e.is_retryable() => Handled::RetryLater(e.to_string()),
        Error::Api(api) => Handled::Other(api.code.clone()),
        e => Handled::Other(e.to_string()),
    }
}

/// Shares every target's image (one cloud after another) and says, per cloud, what to do
/// next. One cloud's failure does not stop the others.
pub async fn share_everywhere(targets: &[Target]) -> Vec<(Provider, Handled)> {
    let mut out = Vec::new();
    for t in targets {
        let handled = match t.sharing.share(&t.image, &t.to).await {
            Ok(report) => match report.into_result() {
                Ok(report) => Handled::Done {
                    granted: report.count(OutcomeKind::Granted),
                    already: report.count(OutcomeKind::AlreadyGranted),
                },
                Err(e) => handle(&e),
            },
            Err(e) => handle(&e),
        };
        out.push((t.sharing.provider(), handled));
    }
    out
}

/// The sharees of `image`, as a stream that borrows nothing: it can be returned from here,
/// from a web handler or a spawned task, and outlives the caller's `sharing`.
#[must_use]
pub fn sharees_of(sharing: &DynSharing, image: &ImageId) -> BoxStream<'static, Result<Sharee>> {
    sharing.sharees_stream(image)
}

/// Looks every image up in its own spawned task, all through one client: each task gets a
/// clone (an `Arc` increment), and they share its connection pool, credentials cache and
/// rate limiter. Returns the names in the order of `images`.
pub async fn look_up_concurrently(sharing: &DynSharing, images: &[ImageId]) -> Result<Vec<String>> {
    let tasks: Vec<_> = images
        .iter()
        .cloned()
        .map(|id| {
            let sharing = sharing.clone();
            tokio::spawn(async move { sharing.image(&id).await.map(|img| img.name) })
        })
        .collect();
    let mut names = Vec::with_capacity(tasks.len());
    for task in tasks {
        let name = task
            .await
            .map_err(|e| Error::invalid_input("task", format!("a lookup task failed: {e}")))??;
        names.push(name);
    }
    Ok(names)
}

/// A connection through the corporate proxy at `proxy_url`, to `endpoint` (a private or VPC
/// endpoint) whose certificate the corporate CA `ca_pem` signed. Hosts in `direct` (in
/// `NO_PROXY` syntax) bypass the proxy.
#[must_use]
pub fn behind_corporate_proxy(
    provider: Provider,
    region: &str,
    endpoint: &str,
    proxy_url: &str,
    ca_pem: &[u8],
    direct: Option<&str>,
) -> Connect {
    let connect = Connect::new(provider)
        .region(region)
        .endpoint(endpoint)
        .proxy(proxy_url)
        .root_certificate(RootCertificate::from_pem(ca_pem));
    match direct {
        Some(hosts) => connect.no_proxy(hosts),
        None => connect,
    }
}

/// Tencent keys handed out by our vault (here: a fixed pair), counting the requests; it
/// never asks at `build()`, and the adapter caches what it gives.
#[derive(Debug)]
pub struct Vault {
    secret_id: String,
    secret_key: String,
    requests: AtomicUsize,
}

impl Vault {
    /// A vault that hands out this key pair.
    #[must_use]
    pub fn new(secret_id: &str, secret_key: &str) -> Self {
        Vault {
            secret_id: secret_id.to_owned(),
            secret_key: secret_key.to_owned(),
            requests: AtomicUsize::new(0),
        }
    }
    /// How many times the adapter asked for keys.
    #[must_use]
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl ProvideCredentials<TencentCredentials> for Vault {
    fn provide(&self) -> ProvideFuture<'_, TencentCredentials> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            // A real vault is an HTTP call here; long-term keys never expire.
            Ok(Expiring::never(TencentCredentials::new(
                self.secret_id.clone(),
                self.secret_key.clone(),
            )))
        })
    }
    fn source(&self) -> String {
        "the team vault".to_owned()
    }
}
