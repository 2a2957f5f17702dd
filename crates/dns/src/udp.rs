//! The UDP listener: a fixed set of worker tasks share one socket, each receiving a
//! query, answering it through the request handler and sending the answer itself.
//!
//! hickory-server's own UDP listener spawns a task per packet and hands every response
//! to a sender task over a channel; on the hot path of a registry that costs more than
//! answering. Here concurrency is bounded by the number of workers (no queue grows with
//! load: the kernel's socket buffer is the only one), and a packet costs one receive,
//! one handler call and one send. Parsing and encoding stay hickory's.

use std::net::SocketAddr;
use std::sync::Arc;

use hickory_server::net::xfer::Protocol;
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use crate::in_process::answer_raw;
use crate::server::DnsHandler;

/// Workers per listener: enough that a few queries waiting on a recursor do not stall
/// the others.
pub const WORKERS: usize = 32;

/// The largest UDP query read. A query is one question and an OPT record, far below
/// this; a longer datagram is cut short by the kernel and answered FORMERR.
const MAX_QUERY: usize = 8192;

/// What answers a query that came over UDP: this agent's [`DnsHandler`], or a client
/// agent's forwarder ([`crate::forwarding`]).
pub trait UdpAnswerer: Send + Sync + 'static {
    /// The encoded answer to `query` from `client`; `None`: nothing is sent.
    fn answer(
        &self,
        query: &[u8],
        client: SocketAddr,
    ) -> impl Future<Output = Option<Vec<u8>>> + Send;
}

impl UdpAnswerer for DnsHandler {
    async fn answer(&self, query: &[u8], client: SocketAddr) -> Option<Vec<u8>> {
        answer_raw(self, query, client, Protocol::Udp).await
    }
}

/// Serves `socket` with `WORKERS` tasks until `shutdown` is cancelled.
pub async fn serve<A: UdpAnswerer>(
    socket: UdpSocket,
    handler: Arc<A>,
    shutdown: CancellationToken,
) {
    let socket = Arc::new(socket);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        workers.spawn(worker(socket.clone(), handler.clone(), shutdown.clone()));
    }
    while workers.join_next().await.is_some() {}
}

async fn worker<A: UdpAnswerer>(
    socket: Arc<UdpSocket>,
    handler: Arc<A>,
    shutdown: CancellationToken,
) {
    let mut buffer = vec![0u8; MAX_QUERY];
    loop {
        let received = tokio::select! {
            received = socket.recv_from(&mut buffer) => received,
            () = shutdown.cancelled() => return,
        };
        let (length, client) = match received {
            Ok(received) => received,
            Err(error) => {
                // ICMP errors from earlier sends surface here on some systems; they are
                // about one client, not the socket.
                tracing::debug!(%error, "DNS UDP receive failed");
                continue;
            }
        };
        if let Some(response) = answer(&*handler, &buffer[..length], client).await
            && let Err(error) = socket.send_to(&response, client).await
        {
            tracing::debug!(%error, %client, "DNS UDP send failed");
        }
    }
}

async fn answer<A: UdpAnswerer>(handler: &A, query: &[u8], client: SocketAddr) -> Option<Vec<u8>> {
    if client.port() == 0 {
        // Nothing can be sent back to port 0 (and hickory refuses it as a source).
        return None;
    }
    handler.answer(query, client).await
}
