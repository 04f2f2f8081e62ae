//! The HTTP query API (`reckon run --http-addr`): axum on its own port, serving the read model
//! ([`crate::runtime::read_model`]) that the processor feeds.
//!
//! - [`incidents`]: `GET /incidents/{id}`, `GET /incidents/{id}/history`, `GET /incidents`.
//! - [`updates`]: `GET /updates`, server-sent events with exact resumption.
//! - [`health`]: `GET /healthz`, `GET /readyz`.
//! - [`peers`]: interactive queries: the known instances and forwarding to them.
//! - [`query`]: strict parsing of query strings and ids; [`error`]: JSON error bodies.
//! - [`args`]: the options of `reckon run` that turn it on; [`serve`]: the connection loop.
//!
//! The routes and their semantics are documented in `docs/http-api.md`.

pub mod args;
pub mod error;
pub mod health;
pub mod incidents;
pub mod peers;
pub mod query;
pub mod serve;
pub mod updates;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use args::HttpArgs;
pub use peers::{Forwarder, PeerInfo, Peers};

use crate::runtime::ReadModel;

/// How the API runs.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// This instance's id (as announced to peers).
    pub instance_id: String,
    /// How long a forwarded query may take per peer.
    pub forward_timeout: Duration,
    /// Interval of SSE keep-alive comments.
    pub keep_alive: Duration,
    /// How long a client may take to send a request's headers before its connection is
    /// closed (idle keep-alive connections included).
    pub header_timeout: Duration,
}

impl HttpConfig {
    /// Defaults: forwarding 2 s per peer, a keep-alive comment every 15 s, 10 s to send the
    /// headers of a request.
    pub fn new(instance_id: impl Into<String>) -> Self {
        Self {
            instance_id: instance_id.into(),
            forward_timeout: Duration::from_secs(2),
            keep_alive: Duration::from_secs(15),
            header_timeout: Duration::from_secs(10),
        }
    }
}

struct Inner {
    model: Arc<ReadModel>,
    peers: Peers,
    forwarder: Forwarder,
    config: HttpConfig,
    shutdown: watch::Receiver<bool>,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// The read model.
    pub fn model(&self) -> &Arc<ReadModel> {
        &self.0.model
    }

    /// The known instances.
    pub fn peers(&self) -> &Peers {
        &self.0.peers
    }

    /// The forwarding client.
    pub fn forwarder(&self) -> &Forwarder {
        &self.0.forwarder
    }

    /// This instance's id.
    pub fn instance_id(&self) -> &str {
        &self.0.config.instance_id
    }

    /// SSE keep-alive interval.
    pub fn keep_alive(&self) -> Duration {
        self.0.config.keep_alive
    }

    /// Flips to `true` when the server shuts down (SSE streams end on it).
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.0.shutdown.clone()
    }
}

/// The routes over a state.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/incidents", get(incidents::list_incidents))
        .route("/incidents/{id}", get(incidents::get_incident))
        .route("/incidents/{id}/history", get(incidents::get_history))
        .route("/updates", get(updates::updates))
        .fallback(error::no_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state)
}

/// A running HTTP server.
#[derive(Debug)]
pub struct HttpServer {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

impl HttpServer {
    /// Binds `addr` and serves the API on the current tokio runtime.
    pub async fn start(
        addr: SocketAddr,
        model: Arc<ReadModel>,
        peers: Peers,
        config: HttpConfig,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Self::serve(listener, model, peers, config)
    }

    /// Serves the API on a bound listener.
    pub fn serve(
        listener: tokio::net::TcpListener,
        model: Arc<ReadModel>,
        peers: Peers,
        config: HttpConfig,
    ) -> std::io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let (shutdown, signal) = watch::channel(false);
        let header_timeout = config.header_timeout;
        let state = AppState(Arc::new(Inner {
            model,
            peers,
            forwarder: Forwarder::new(config.forward_timeout),
            config,
            shutdown: signal.clone(),
        }));
        let app = router(state);
        let task = tokio::spawn(serve::serve(listener, app, header_timeout, signal));
        tracing::info!(%local_addr, "serving the HTTP API");
        Ok(Self {
            local_addr,
            shutdown,
            task,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections, ends the SSE streams, and waits (at most `grace`) for
    /// requests in flight.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.shutdown.send(true);
        let mut task = self.task;
        match tokio::time::timeout(grace, &mut task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "HTTP server error"),
            Ok(Err(e)) => tracing::warn!(error = %e, "HTTP server task failed"),
            Err(_) => {
                tracing::warn!(?grace, "HTTP requests still running at shutdown; dropped");
                task.abort();
            }
        }
    }
}
