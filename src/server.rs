//! HTTP/1.1 on hyper-util with the timeouts warp's own `serve` lacks: a
//! header-read timeout so half-sent requests are dropped, keep-alive, and
//! graceful shutdown with a deadline. Open connections are bounded by the
//! file descriptors there are (less a reserve for files and ffmpeg): a
//! connection takes its place (a permit) before `accept` and gives it back
//! only once its socket is closed, so the descriptors in use never pass the
//! bound however slowly connections are shed. At the bound, the oldest idle
//! connection is asked to make room, so a thousand clients that send
//! nothing never lock out the TV.

use crate::sync::Locked;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_layer::Layer;
use warp::{Filter, Reply};

/// The TCP peer of a request, put in its extensions for the routes
/// (`warp::ext::optional::<Peer>()`): who gets a password wrong.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::SocketAddr);

/// Hands each request of one connection its peer address, and counts
/// the requests in flight on it (until their body is sent) so an idle
/// connection is known.
#[derive(Clone)]
struct WithPeer<S> {
    inner: S,
    peer: std::net::SocketAddr,
    busy: Arc<AtomicUsize>,
    /// Whether a whole request has come on this connection yet.
    served: Arc<AtomicBool>,
}

/// One request in flight; dropped with its response's body.
struct Busy(Arc<AtomicUsize>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its connection counted busy until it ends.
pub struct Tracked<B> {
    inner: B,
    _busy: Busy,
}

impl<B: http_body::Body + Unpin> http_body::Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl<S, B, RB> tower_service::Service<warp::http::Request<B>> for WithPeer<S>
where
    S: tower_service::Service<warp::http::Request<B>, Response = warp::http::Response<RB>>,
    S::Future: Send + 'static,
    RB: 'static,
{
    type Response = warp::http::Response<Tracked<RB>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: warp::http::Request<B>) -> Self::Future {
        req.extensions_mut().insert(Peer(self.peer));
        self.served.store(true, Ordering::SeqCst);
        self.busy.fetch_add(1, Ordering::SeqCst);
        let busy = Busy(self.busy.clone());
        let response = self.inner.call(req);
        Box::pin(async move {
            let r = response.await?;
            Ok(r.map(|inner| Tracked { inner, _busy: busy }))
        })
    }
}

/// The connections open now, oldest first, with what is needed to close
/// one that is idle.
#[derive(Default)]
struct Open {
    next: u64,
    conns: BTreeMap<u64, (Arc<AtomicUsize>, Arc<Notify>)>,
}

impl Open {
    /// Counts a new connection in, with its requests in flight and its
    /// closer: its id.
    fn add(&mut self, busy: Arc<AtomicUsize>, close: Arc<Notify>) -> u64 {
        self.next += 1;
        self.conns.insert(self.next, (busy, close));
        self.next
    }
}

/// Descriptors kept for files, posters, state and ffmpeg's pipes.
const FD_RESERVE: u64 = 256;
/// A connection that has not made a whole request by then is closed
/// (sooner than the header-read timeout): it only holds a descriptor.
const FIRST_REQUEST_WITHIN: Duration = Duration::from_secs(5);

/// Raises the soft limit on open files to the hard one (systemd's soft
/// limit is 1024, far below what a few hundred clients need) and says how
/// many connections may be open at once. Called once at start-up.
pub fn connection_limit() -> usize {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((1024, 1024));
    let soft = if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        hard
    } else {
        soft
    };
    // rlim_t is 32 bits on armv7 (so not useless there).
    #[allow(clippy::useless_conversion)]
    let soft = u64::from(soft);
    let limit = soft.saturating_sub(FD_RESERVE).clamp(32, 100_000) as usize;
    tracing::info!("open files allowed: {soft}; connections at once: up to {limit}");
    limit
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// A client must send its whole request head within this.
    pub header_read: Duration,
    /// In-flight requests get this long after a shutdown signal.
    pub shutdown_grace: Duration,
    /// Connections open at once (see [`connection_limit`]).
    pub max_connections: usize,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
            max_connections: 1000,
        }
    }
}

/// Serves `routes` on `listener`, with socket.io (the runners') in front
/// of them on `/socket.io/`, until `shutdown` resolves; then lets
/// in-flight requests finish for up to the grace period. A connection
/// that becomes a websocket leaves this server's count once upgraded.
pub async fn serve<F>(
    listener: TcpListener,
    routes: F,
    socket_io: socketioxide::layer::SocketIoLayer,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()>,
) where
    F: Filter<Error = Infallible> + Clone + Send + Sync + 'static,
    F::Extract: Reply,
{
    let service = socket_io.layer(warp::service(routes));
    // Every connection task holds a clone; all are gone when the last
    // connection has ended.
    let (alive, all_ended) = tokio::sync::mpsc::channel::<()>(1);
    let draining = tokio_util::sync::CancellationToken::new();
    let builder = http1_builder(&timeouts);
    tokio::pin!(shutdown);
    let open = Arc::new(Mutex::new(Open::default()));
    let places = Arc::new(Semaphore::new(timeouts.max_connections));
    loop {
        // A place first: at the bound, no accept until a socket is closed.
        let place = match places.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => tokio::select! {
                _ = &mut shutdown => break,
                p = place_freed(&places, &open) => p,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, don't spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let busy = Arc::new(AtomicUsize::new(0));
        let served = Arc::new(AtomicBool::new(false));
        let close = Arc::new(Notify::new());
        let id = open.locked().add(busy.clone(), close.clone());
        let conn = builder.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(WithPeer {
                inner: service.clone(),
                peer,
                busy,
                served: served.clone(),
            }),
        );
        let conn = conn.with_upgrades();
        let open = open.clone();
        let (alive, draining) = (alive.clone(), draining.clone());
        tokio::spawn(async move {
            let _alive = alive;
            let silent = no_request_within(FIRST_REQUEST_WITHIN, &served);
            tokio::pin!(conn);
            tokio::select! {
                ended = conn.as_mut() => if let Err(e) = ended {
                    tracing::debug!("connection ended: {e}");
                },
                _ = close.notified() => tracing::debug!("closed an idle connection to make room"),
                _ = silent => tracing::debug!("closed a connection that sent no request"),
                _ = draining.cancelled() => {
                    // The request in flight finishes; then it closes.
                    conn.as_mut().graceful_shutdown();
                    if let Err(e) = conn.as_mut().await {
                        tracing::debug!("connection ended: {e}");
                    }
                }
            }
            open.locked().conns.remove(&id);
            // The socket is closed (the connection dropped with the select).
            drop(place);
        });
    }
    drop(listener);
    grace_period(timeouts.shutdown_grace, draining, alive, all_ended).await;
}

/// Asks every connection to finish its request in flight and close, and
/// waits up to `grace` for the last one (`alive` is this server's clone of
/// what each connection holds).
async fn grace_period(
    grace: Duration,
    draining: tokio_util::sync::CancellationToken,
    alive: tokio::sync::mpsc::Sender<()>,
    mut all_ended: tokio::sync::mpsc::Receiver<()>,
) {
    tracing::info!("shutting down: waiting up to {grace:?} for open requests");
    draining.cancel();
    drop(alive);
    if tokio::time::timeout(grace, all_ended.recv()).await.is_err() {
        tracing::info!("grace period over; closing the remaining connections");
    }
}

/// HTTP/1.1 with keep-alive and the header-read timeout.
fn http1_builder(timeouts: &Timeouts) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read)
        .keep_alive(true);
    builder
}

/// At the bound: a place, once a connection closed to make room (the
/// oldest idle one is asked again every 100 ms) gives its place back.
async fn place_freed(places: &Arc<Semaphore>, open: &Mutex<Open>) -> OwnedSemaphorePermit {
    loop {
        shed_oldest_idle(open);
        let wait = tokio::time::sleep(Duration::from_millis(100));
        tokio::select! {
            p = places.clone().acquire_owned() => return p.expect("the semaphore is never closed"),
            _ = wait => {}
        }
    }
}

/// Resolves when a connection has sent no whole request within `limit`;
/// never once it has.
async fn no_request_within(limit: Duration, served: &AtomicBool) {
    tokio::time::sleep(limit).await;
    if served.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
}

/// Asks the oldest connection with nothing in flight (one that sent
/// nothing yet, or idles between requests) to close; its place comes back
/// once its socket is closed.
fn shed_oldest_idle(open: &Mutex<Open>) {
    let mut o = open.locked();
    let idle = o
        .conns
        .iter()
        .find(|(_, (b, _))| b.load(Ordering::SeqCst) == 0)
        .map(|(id, _)| *id);
    match idle.and_then(|id| o.conns.remove(&id)) {
        Some((_, shut)) => shut.notify_one(),
        None => tracing::debug!("{} connections busy: a new one waits", o.conns.len()),
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}
