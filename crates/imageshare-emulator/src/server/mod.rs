//! The HTTP server: one loopback address serves every provider. Requests are told apart by
//! the markers a real request carries (never by path), authenticated as the cloud does,
//! passed through fault injection, and answered by the provider's front-end. Paths under
//! `/_imageshare/` go to the admin API instead. Each connection runs under the timeouts
//! and the cap of [`ServerOptions`] (`limits`, `watchdog`).

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use imageshare_core::Provider;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

mod limits;
mod tls;
mod watchdog;

pub use limits::ServerOptions;
pub use tls::SERVER_NAMES as TLS_SERVER_NAMES;

use crate::admin;
use crate::engine::{Engine, Grant};
use crate::faults::{FaultEvent, FaultInjector, FaultKind};
use crate::frontend::{self, Call};
use crate::world::{Account, World};

/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;

/// A request as received, decoded once for every front-end.
#[derive(Debug, Clone)]
pub struct WireRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, as sent.
    pub path: String,
    /// The raw query string (without `?`).
    pub raw_query: String,
    /// Query parameters, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    /// Headers with lowercase names, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
    /// Form parameters of an `application/x-www-form-urlencoded` body, decoded.
    form: Vec<(String, String)>,
    /// Query and form parameters together (query first).
    params: Vec<(String, String)>,
}

impl WireRequest {
    /// A request; the query and a form body are decoded here, once for every front-end.
    pub fn new(
        method: String,
        path: String,
        raw_query: String,
        headers: Vec<(String, String)>,
        body: Bytes,
    ) -> Self {
        let mut wire = WireRequest {
            method,
            path,
            query: parse_urlencoded(&raw_query),
            raw_query,
            headers,
            body,
            form: Vec::new(),
            params: Vec::new(),
        };
        if wire.content_type() == "application/x-www-form-urlencoded" {
            wire.form = parse_urlencoded(&String::from_utf8_lossy(&wire.body));
        }
        wire.params = wire.query.iter().chain(&wire.form).cloned().collect();
        wire
    }
    /// The first header named `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// The content type without parameters, lowercase.
    pub fn content_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }
    /// Form parameters of an `application/x-www-form-urlencoded` body, decoded.
    pub fn form(&self) -> &[(String, String)] {
        &self.form
    }
    /// Query and form parameters together (query first).
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }
}

/// Decodes `a=b&c=d` (with `+` as space, as HTML forms send it).
#[must_use]
pub fn parse_urlencoded(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// An answer from a front-end.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// The provider's error code, if this is an error (for the call log).
    pub code: Option<String>,
}

impl Reply {
    /// A JSON reply.
    #[must_use]
    pub fn json(status: u16, value: &serde_json::Value, code: Option<String>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(value).unwrap_or_default(),
            code,
        }
    }
}

/// One call the emulator received, for inspection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRecord {
    /// Provider.
    pub provider: Provider,
    /// Action.
    pub action: String,
    /// The authenticated account, if authentication passed (for a request signed with
    /// temporary credentials: the role's account; `None` for an anonymous one, such as
    /// AssumeRoleWithOIDC or a metadata request).
    pub account: Option<String>,
    /// For a request signed with temporary credentials: the role session, as
    /// `<role ARN>/<RoleSessionName>`.
    pub session: Option<String>,
    /// `None` on success, else the error code answered (or `dropped`).
    pub error: Option<String>,
    /// The request id the emulator gave this call (also sent in the answer, except for a
    /// dropped connection), so a client's record of a call can be matched to this log.
    pub request_id: String,
}

/// State shared by every connection.
pub(crate) struct Shared {
    /// The world `reset` returns to: the one loaded at start or by the last `load_world`.
    pub(crate) loaded: Mutex<World>,
    pub(crate) engine: Mutex<Engine>,
    pub(crate) faults: Mutex<FaultInjector>,
    pub(crate) calls: Mutex<Vec<CallRecord>>,
    pub(crate) nonces: Mutex<HashSet<String>>,
    serial: AtomicU64,
    seed: AtomicU64,
    pub(crate) options: ServerOptions,
    tls: Option<tls::Tls>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// A fresh request id in the shape `8-4-4-4-12` hex, reproducible from the world's
    /// `seed` when it sets one.
    pub(crate) fn request_id(&self) -> String {
        let n = self.serial.fetch_add(1, Ordering::Relaxed);
        let seed = self.seed.load(Ordering::Relaxed);
        let mut rng = fastrand::Rng::with_seed(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            rng.u32(..),
            rng.u16(..),
            rng.u16(..0x1000),
            0x8000 | rng.u16(..0x4000),
            rng.u64(..1 << 48)
        )
    }
    pub(crate) fn engine(&self) -> MutexGuard<'_, Engine> {
        lock(&self.engine)
    }
    /// Makes `world` the loaded world and installs it (see [`Shared::reset`]).
    pub(crate) fn load_world(&self, world: World) {
        *lock(&self.loaded) = world.clone();
        self.install(world);
    }
    /// Back to the loaded world: its images and grants, its fault plan with fresh
    /// generators; the call log, the served-fault log, STS sessions and seen nonces are
    /// emptied.
    pub(crate) fn reset(&self) {
        let world = lock(&self.loaded).clone();
        self.install(world);
    }
    fn install(&self, world: World) {
        if let Some(seed) = world.seed {
            // A fixed seed gives the same request ids again after a reset.
            self.seed.store(seed, Ordering::Relaxed);
            self.serial.store(1, Ordering::Relaxed);
        }
        *lock(&self.faults) = FaultInjector::new(world.faults.clone());
        *self.engine() = Engine::new(world);
        lock(&self.calls).clear();
        lock(&self.nonces).clear();
    }
    /// Replaces the fault plan, keeping the served-fault log.
    pub(crate) fn set_faults(&self, plan: crate::faults::FaultPlan) {
        let mut f = lock(&self.faults);
        let events = f.events().to_vec();
        *f = FaultInjector::new(plan);
        f.restore_events(events);
    }
    /// Records a nonce; false when it was seen before.
    pub(crate) fn fresh_nonce(&self, key_id: &str, nonce: &str) -> bool {
        lock(&self.nonces).insert(format!("{key_id}\u{0}{nonce}"))
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Emulator {
    /// Starts an emulator of `world` on 127.0.0.1 with an ephemeral port.
    pub async fn start(world: World) -> std::io::Result<Emulator> {
        Self::bind(world, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts an emulator of `world` on 127.0.0.1 with an ephemeral port and these
    /// timeouts and limits.
    pub async fn start_with(world: World, options: ServerOptions) -> std::io::Result<Emulator> {
        Self::bind_with(world, SocketAddr::from(([127, 0, 0, 1], 0)), options).await
    }

    /// Starts an emulator of `world` on `addr`.
    pub async fn bind(world: World, addr: SocketAddr) -> std::io::Result<Emulator> {
        Self::bind_with(world, addr, ServerOptions::default()).await
    }

    /// Starts an emulator of `world` on `addr` with these timeouts and limits.
    pub async fn bind_with(
        world: World,
        addr: SocketAddr,
        options: ServerOptions,
    ) -> std::io::Result<Emulator> {
        let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
        world.validate().map_err(|e| invalid(e.to_string()))?;
        options.validate().map_err(invalid)?;
        let tls = if options.tls {
            Some(tls::Tls::generate()?)
        } else {
            None
        };
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        // Request ids: fixed by the world's seed, else drawn per process (fastrand's
        // global generator is seeded from the OS), so two runs' audit trails never collide.
        let seed = world.seed.unwrap_or_else(|| fastrand::u64(..));
        let shared = Arc::new(Shared {
            loaded: Mutex::new(world.clone()),
            faults: Mutex::new(FaultInjector::new(world.faults.clone())),
            engine: Mutex::new(Engine::new(world)),
            calls: Mutex::new(Vec::new()),
            nonces: Mutex::new(HashSet::new()),
            serial: AtomicU64::new(1),
            seed: AtomicU64::new(seed),
            options,
            tls,
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared.clone(), stopped));
        tracing::info!(%addr, "emulator listening");
        Ok(Emulator {
            addr,
            shared,
            stop,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:<port>` (`https://` with TLS): point every adapter's endpoint
    /// here.
    #[must_use]
    pub fn base_url(&self) -> String {
        let scheme = if self.shared.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// With TLS: the PEM certificate of the CA generated at start, which signed the
    /// server's certificate (for 127.0.0.1, ::1 and localhost); clients trust it
    /// (`REQUESTS_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`). `None` without TLS.
    #[must_use]
    pub fn ca_pem(&self) -> Option<String> {
        self.shared.tls.as_ref().map(|t| t.ca_pem.clone())
    }

    /// The socket address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The seed world (accounts and keys).
    #[must_use]
    pub fn world(&self) -> World {
        self.shared.engine().world().clone()
    }

    /// The account with this id (for its keys).
    #[must_use]
    pub fn account(&self, id: &str) -> Option<Account> {
        self.shared.engine().world().account(id).cloned()
    }

    /// Current grants of an image.
    #[must_use]
    pub fn grants(&self, image: &str) -> Vec<Grant> {
        self.shared.engine().grants(image)
    }

    /// Runs `f` on the engine (inspection or direct seeding).
    pub fn with_engine<R>(&self, f: impl FnOnce(&mut Engine) -> R) -> R {
        f(&mut self.shared.engine())
    }

    /// Every call received, in order.
    #[must_use]
    pub fn calls(&self) -> Vec<CallRecord> {
        lock(&self.shared.calls).clone()
    }

    /// Calls received per (provider, action).
    #[must_use]
    pub fn action_counts(&self) -> BTreeMap<(Provider, String), usize> {
        let mut out = BTreeMap::new();
        for c in lock(&self.shared.calls).iter() {
            *out.entry((c.provider, c.action.clone())).or_insert(0) += 1;
        }
        out
    }

    /// Calls received for one action of one provider.
    #[must_use]
    pub fn action_count(&self, provider: Provider, action: &str) -> usize {
        lock(&self.shared.calls)
            .iter()
            .filter(|c| c.provider == provider && c.action == action)
            .count()
    }

    /// Back to the world loaded at start (or by the last [`Emulator::load_world`]): its
    /// images, grants and fault plan; the call log, the served-fault log, STS sessions and
    /// seen nonces are emptied. Also `POST /_imageshare/reset`.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Replaces the world (validated first) and resets to it; later resets return to it.
    /// Also `PUT /_imageshare/world`.
    pub fn load_world(&self, world: World) -> Result<(), crate::world::WorldError> {
        world.validate()?;
        self.shared.load_world(world);
        Ok(())
    }

    /// Replaces the fault plan (the served-fault log is kept; generators restart from the
    /// new plan's seed).
    pub fn set_faults(&self, plan: crate::faults::FaultPlan) {
        self.shared.set_faults(plan);
    }

    /// Faults served so far.
    #[must_use]
    pub fn faults_served(&self) -> Vec<FaultEvent> {
        lock(&self.shared.faults).events().to_vec()
    }

    /// Stops the server and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Accepts connections until stopped: at most `max_connections` at once (the rest wait in
/// the backlog), with a back-off after lasting accept errors (out of descriptors).
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(shared.options.max_connections));
    let mut backoff = limits::AcceptBackoff::new();
    loop {
        let permit = tokio::select! {
            _ = stopped.changed() => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(conn) => {
                backoff.reset();
                conn
            }
            Err(e) => {
                let wait = backoff.after(&e);
                if !wait.is_zero() {
                    tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "accept failed; backing off");
                    tokio::select! {
                        _ = stopped.changed() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
                continue;
            }
        };
        // Answers go out at once, not held back by Nagle's algorithm waiting for the
        // client's delayed ACK (up to 40 ms on Linux) when an answer or a TLS flight takes
        // more than one write; as nginx's `tcp_nodelay on` (its default).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %e, "TCP_NODELAY not set");
        }
        tokio::spawn(serve_connection(
            stream,
            peer,
            shared.clone(),
            stopped.clone(),
            permit,
        ));
    }
}

/// Serves one accepted connection, after a TLS handshake (bounded by the header timeout)
/// when the server has TLS.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    stopped: watch::Receiver<bool>,
    permit: OwnedSemaphorePermit,
) {
    let state = watchdog::ConnState::new();
    let Some(tls) = shared.tls.clone() else {
        let io = watchdog::Tracked::new(stream, state.clone());
        return serve_http(io, state, peer, shared, stopped, permit).await;
    };
    let handshake = tokio::time::timeout(
        shared.options.header_timeout,
        tls.acceptor
            .accept(watchdog::Tracked::new(stream, state.clone())),
    );
    match handshake.await {
        Ok(Ok(io)) => serve_http(io, state, peer, shared, stopped, permit).await,
        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
    }
}

/// Serves HTTP/1.1 on one connection until it closes, the watchdog expires it, or the
/// server stops.
async fn serve_http<IO>(
    io: IO,
    state: Arc<watchdog::ConnState>,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service_state = state.clone();
    let service_shared = shared.clone();
    let service = service_fn(move |req| {
        let shared = service_shared.clone();
        let state = service_state.clone();
        async move {
            state.begin();
            let res = serve(shared, peer, req).await;
            state.end();
            res
        }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped.changed() => {}
        _ = watchdog::expired(&state, &shared.options) => {
            tracing::debug!(%peer, "connection closed: header or idle timeout");
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Serves one request. `Err` closes the connection without an answer (dropped-connection
/// fault).
async fn serve(
    shared: Arc<Shared>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(
        shared.options.header_timeout,
        Limited::new(body, MAX_BODY).collect(),
    );
    let body = match read.await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(_)) => return Ok(plain(413, "request body too large or unreadable")),
        Err(_) => {
            let mut r = plain(408, "request body not received in time");
            r.headers_mut().insert(
                "connection",
                hyper::header::HeaderValue::from_static("close"),
            );
            return Ok(r);
        }
    };
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let wire = WireRequest::new(
        parts.method.as_str().to_owned(),
        parts.uri.path().to_owned(),
        raw_query,
        parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    );
    if admin::is_admin_path(&wire.path) {
        return Ok(to_response(admin::handle(&shared, peer, &wire), ""));
    }
    let Some((frontend, surface)) = frontend::route(&wire) else {
        return Ok(plain(
            400,
            "imageshare-emulator: not a request of any emulated cloud (no Alibaba Version, \
             Tencent TC3 authorization, UCloud PublicKey/Action or instance metadata path)",
        ));
    };
    let request_id = shared.request_id();
    let call = Call {
        shared: &shared,
        surface: &surface,
        wire: &wire,
        request_id: &request_id,
    };
    // `None`: the connection is dropped without an answer (an injected fault).
    let (account, reply) = match frontend.authenticate(&call) {
        Err(reply) => (None, Some(reply)),
        Ok(caller) => {
            let decision =
                lock(&shared.faults).decide(surface.provider, &surface.action, Instant::now());
            if !decision.delay.is_zero() {
                tokio::time::sleep(decision.delay).await;
            }
            let reply = match decision.fault {
                Some(FaultKind::Drop) => None,
                Some(kind) => Some(frontend.fault_reply(&call, kind)),
                None => Some(frontend.dispatch(&call, &caller)),
            };
            (Some(caller), reply)
        }
    };
    let (account, session) = match account {
        Some(caller) => (
            caller.account.map(|a| a.id),
            caller
                .session
                .map(|s| format!("{}/{}", s.role_arn, s.session_name)),
        ),
        None => (None, None),
    };
    let error = match &reply {
        Some(reply) => reply.code.clone(),
        None => Some("dropped".into()),
    };
    lock(&shared.calls).push(CallRecord {
        provider: surface.provider,
        action: surface.action.clone(),
        account,
        session,
        error,
        request_id: request_id.clone(),
    });
    match reply {
        Some(reply) => Ok(to_response(reply, &request_id)),
        None => Err(std::io::Error::other("fault injection: connection dropped")),
    }
}

fn plain(status: u16, text: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from(text.to_owned())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn to_response(reply: Reply, request_id: &str) -> Response<Full<Bytes>> {
    let mut b = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    if !request_id.is_empty() {
        b = b.header("x-emulator-request-id", request_id);
    }
    b.body(Full::new(Bytes::from(reply.body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
