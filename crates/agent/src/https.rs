//! The HTTPS API: the same router as plain HTTP, behind rustls, on `ports.https`.
//!
//! Each connection's handshake runs in its own task (with a deadline), so a slow or
//! hostile client cannot hold up the accept loop; a refused handshake (no client
//! certificate under `verify_incoming`, one from another CA, plaintext on the TLS
//! port) is logged with the peer's address, and the connection lingers briefly so that
//! the client reads the alert (`proconsul_tls::refusal::linger`). HTTP/2 and HTTP/1.1 are offered by ALPN.
//!
//! The configuration is swapped whole on `reload` ([`HttpsTls::reload`]): new
//! connections use the new certificate and CA, open ones keep theirs, and a reload
//! whose files are bad keeps the old configuration and says why.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use proconsul_tls::{ServerTls, TlsError};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// How long a client may take to finish its handshake.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);
/// How long open connections get to finish at shutdown.
const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// The HTTPS listener's settings and its current rustls configuration.
pub struct HttpsTls {
    settings: ServerTls,
    current: ArcSwap<rustls::ServerConfig>,
}

impl HttpsTls {
    /// Reads and checks the files of `settings`.
    pub fn load(settings: ServerTls) -> Result<HttpsTls, TlsError> {
        let config = proconsul_tls::server_config(&settings)?;
        Ok(HttpsTls {
            settings,
            current: ArcSwap::new(config),
        })
    }

    /// Reads the certificate, key and CA files again; on an error the configuration in
    /// use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = proconsul_tls::server_config(&self.settings)?;
        self.current.store(config);
        tracing::info!(cert = %self.settings.cert_file.display(), "HTTPS: certificates reloaded");
        Ok(())
    }

    fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.current.load_full())
    }
}

/// Serves `router` over TLS on `listener` until `shutdown`, then lets open
/// connections finish (for a few seconds).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Arc<HttpsTls>,
    shutdown: CancellationToken,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "HTTPS: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let acceptor = tls.acceptor();
        let router = router.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let handshake = acceptor.accept(stream).into_fallible();
            let stream = match tokio::time::timeout(HANDSHAKE_DEADLINE, handshake).await {
                Ok(Ok(stream)) => stream,
                Ok(Err((error, stream))) => {
                    tracing::warn!(%peer, %error, "HTTPS: handshake refused");
                    proconsul_tls::refusal::linger(stream).await;
                    return;
                }
                Err(_) => {
                    tracing::warn!(%peer, "HTTPS: handshake timed out");
                    return;
                }
            };
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    // The peer address rides along, as on plain HTTP (`Near: "_ip"`).
                    request.extensions_mut().insert(ConnectInfo(peer));
                    router.clone().oneshot(request)
                },
            );
            let builder = auto::Builder::new(TokioExecutor::new());
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(error) = watcher.watch(connection).await {
                tracing::debug!(%peer, %error, "HTTPS: connection ended with an error");
            }
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_DEADLINE) => {
            tracing::debug!("HTTPS: connections still open at shutdown were dropped");
        }
    }
}

/// Where and with what the HTTPS API listens (`ports.https`, `addresses.https`,
/// `tls.https` over `tls.defaults`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsSettings {
    pub addr: SocketAddr,
    pub tls: ServerTls,
}
