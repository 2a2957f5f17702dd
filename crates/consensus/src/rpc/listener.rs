//! Server RPC's accept loop: each connection is told apart by its first byte (a TLS
//! handshake starts with 0x16, an HTTP request with a letter), held to the TLS settings
//! in force when it arrived, and served in its own task, so a slow or hostile peer cannot
//! hold up the others. Every refusal is logged with the peer's address: plaintext under
//! `verify_incoming`, a failed handshake (no certificate, another CA, expired). Under
//! `verify_server_hostname` a peer whose certificate is not for `server.<dc>.<domain>`
//! (a client agent's client certificate) may make client agents' calls (`/agent/...`)
//! only, as Consul keeps Raft and server-to-server RPC to servers; other calls are
//! refused and logged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::rpc::tls::ListenerTls;

/// How long a peer may take to send its first byte and finish its handshake.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);
/// How long open connections get to finish at shutdown.
const DRAIN_DEADLINE: Duration = Duration::from_secs(5);
/// The first byte of a TLS record carrying a handshake.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// Serves `router` on `listener` until `shutdown`, then lets open calls finish (for a
/// few seconds).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Arc<ArcSwap<ListenerTls>>,
    shutdown: CancellationToken,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "server RPC: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let tls = tls.load_full();
        let router = router.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            match tokio::time::timeout(HANDSHAKE_DEADLINE, admit(stream, peer, &tls)).await {
                Ok(Some(Admitted::Plain(stream))) => {
                    serve_connection(stream, peer, router, watcher, PeerRole::Any).await;
                }
                Ok(Some(Admitted::Tls(stream, role))) => {
                    serve_connection(*stream, peer, router, watcher, role).await;
                }
                Ok(None) => {}
                Err(_) => tracing::warn!(
                    %peer,
                    "server RPC: refused a connection that did not finish its handshake in time"
                ),
            }
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_DEADLINE) => {
            tracing::debug!("server RPC: connections still open at shutdown were dropped");
        }
    }
}

/// A connection this server agreed to serve.
enum Admitted {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>, PeerRole),
}

/// What an admitted peer may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PeerRole {
    /// Every call: a server, or any peer without `verify_server_hostname`.
    Any,
    /// Client agents' calls only: its certificate is not a server's.
    ClientAgent,
}

/// The paths of client agents' calls (`/agent/http`, `/agent/write`, ...).
const CLIENT_AGENT_PATHS: &str = "/agent/";

/// Applies the TLS settings to a new connection; `None` when it is refused (and logged).
async fn admit(stream: TcpStream, peer: SocketAddr, tls: &ListenerTls) -> Option<Admitted> {
    let mut first = [0u8; 1];
    match stream.peek(&mut first).await {
        Ok(0) | Err(_) => return None,
        Ok(_) => {}
    }
    if first[0] != TLS_HANDSHAKE_RECORD {
        if tls.verify_incoming {
            tracing::warn!(%peer, "server RPC: refused a plaintext connection (verify_incoming is on)");
            return None;
        }
        return Some(Admitted::Plain(stream));
    }
    let Some(acceptor) = &tls.acceptor else {
        tracing::warn!(%peer, "server RPC: refused a TLS connection: this server has no certificate (tls.internal_rpc cert_file)");
        return None;
    };
    let stream = match acceptor.accept(stream).into_fallible().await {
        Ok(stream) => stream,
        Err((error, stream)) => {
            tracing::warn!(%peer, %error, "server RPC: TLS handshake refused");
            // So the peer reads the alert, not a reset (within the handshake deadline).
            proconsul_tls::refusal::linger(stream).await;
            return None;
        }
    };
    let mut role = PeerRole::Any;
    if let Some(name) = &tls.server_name {
        let holds_name = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .is_some_and(|certificate| {
                proconsul_tls::verify::certificate_is_for(certificate, name)
            });
        if !holds_name {
            tracing::debug!(%peer, expected = %name, "server RPC: a peer whose certificate is not a server's may make client agents' calls only (verify_server_hostname)");
            role = PeerRole::ClientAgent;
        }
    }
    Some(Admitted::Tls(Box::new(stream), role))
}

/// Serves HTTP/1.1 calls on one admitted connection until it closes or the server
/// shuts down.
async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    router: Router,
    watcher: Watcher,
    role: PeerRole,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(
        move |mut request: hyper::Request<hyper::body::Incoming>| {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            let router = router.clone();
            async move {
                if role == PeerRole::ClientAgent
                    && !request.uri().path().starts_with(CLIENT_AGENT_PATHS)
                {
                    tracing::warn!(%peer, path = %request.uri().path(), "server RPC: refused a server-only call from a peer whose certificate is not a server's (verify_server_hostname)");
                    let refusal = axum::response::IntoResponse::into_response((
                        axum::http::StatusCode::FORBIDDEN,
                        "server-only call from a peer without a server certificate",
                    ));
                    return Ok(refusal);
                }
                router.oneshot(request).await
            }
        },
    );
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    if let Err(error) = watcher.watch(connection).await {
        tracing::debug!(%peer, %error, "server RPC: connection ended with an error");
    }
}
