//! DNS on a client agent: it has no state to answer from, so every query goes, as the
//! bytes that came, to a server, whose own handler answers it as if it had come there
//! over the same protocol; the answer goes back unchanged. UDP is served by the same
//! workers as a server's ([`crate::udp`]); TCP by a small listener of its own (DNS's
//! two-byte length framing, an idle timeout, a bound on connections), since there is
//! no handler here to hand hickory's listener.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::server::DnsError;
use crate::udp::{self, UdpAnswerer};

/// Answers a query elsewhere: `(query, client, over_tcp)` to the encoded answer, or
/// `None` when none can be had (the client then gets SERVFAIL).
pub type ForwardQuery = Arc<
    dyn Fn(Vec<u8>, SocketAddr, bool) -> Pin<Box<dyn Future<Output = Option<Vec<u8>>> + Send>>
        + Send
        + Sync,
>;

/// How long a TCP connection may stay silent between queries (as the server's).
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// TCP connections served at once; more are closed at once.
const MAX_TCP_CONNECTIONS: usize = 512;

/// A client agent's DNS listeners, UDP and TCP on one address.
pub struct ForwardingDnsServer {
    udp: UdpSocket,
    tcp: TcpListener,
    forward: Arc<Forwarder>,
    local_addr: SocketAddr,
}

/// The forwarding function, with SERVFAIL when it has no answer.
struct Forwarder(ForwardQuery);

impl Forwarder {
    async fn answer(&self, query: &[u8], client: SocketAddr, tcp: bool) -> Option<Vec<u8>> {
        match (self.0)(query.to_vec(), client, tcp).await {
            Some(answer) => Some(answer),
            None => crate::in_process::server_failure(query),
        }
    }
}

impl UdpAnswerer for Forwarder {
    async fn answer(&self, query: &[u8], client: SocketAddr) -> Option<Vec<u8>> {
        Forwarder::answer(self, query, client, false).await
    }
}

impl ForwardingDnsServer {
    /// Binds UDP and TCP on `addr` (port 0: an ephemeral port, the same for both).
    pub async fn bind(addr: SocketAddr, forward: ForwardQuery) -> Result<Self, DnsError> {
        let (udp, tcp, local_addr) = crate::server::bind_sockets(addr).await?;
        Ok(ForwardingDnsServer {
            udp,
            tcp,
            forward: Arc::new(Forwarder(forward)),
            local_addr,
        })
    }

    /// The address both listeners are bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then stops both listeners and waits for the
    /// queries under way.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) {
        let stop = CancellationToken::new();
        let udp = tokio::spawn(udp::serve(self.udp, self.forward.clone(), stop.clone()));
        let tcp = tokio::spawn(serve_tcp(self.tcp, self.forward, stop.clone()));
        shutdown.await;
        stop.cancel();
        if let Err(error) = udp.await {
            tracing::warn!(%error, "DNS UDP workers failed");
        }
        if let Err(error) = tcp.await {
            tracing::warn!(%error, "DNS TCP listener failed");
        }
    }
}

/// Accepts TCP connections until `stop`, each served by a task of its own.
async fn serve_tcp(listener: TcpListener, forward: Arc<Forwarder>, stop: CancellationToken) {
    let connections = TaskTracker::new();
    let slots = Arc::new(Semaphore::new(MAX_TCP_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => break,
        };
        let (stream, client) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::debug!(%error, "DNS TCP accept failed");
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%client, "DNS TCP: too many connections; closing this one");
            continue;
        };
        let forward = forward.clone();
        let stop = stop.clone();
        connections.spawn(async move {
            serve_connection(stream, client, &forward, &stop).await;
            drop(slot);
        });
    }
    connections.close();
    connections.wait().await;
}

/// Answers the queries of one connection in turn until it closes, idles or errs.
async fn serve_connection(
    mut stream: TcpStream,
    client: SocketAddr,
    forward: &Forwarder,
    stop: &CancellationToken,
) {
    loop {
        let query = tokio::select! {
            query = tokio::time::timeout(TCP_IDLE_TIMEOUT, read_message(&mut stream)) => query,
            () = stop.cancelled() => return,
        };
        let Ok(Ok(query)) = query else {
            return;
        };
        let Some(answer) = forward.answer(&query, client, true).await else {
            return;
        };
        let Ok(length) = u16::try_from(answer.len()) else {
            return;
        };
        let mut framed = Vec::with_capacity(answer.len() + 2);
        framed.extend_from_slice(&length.to_be_bytes());
        framed.extend_from_slice(&answer);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

/// One length-prefixed DNS message.
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut length = [0u8; 2];
    stream.read_exact(&mut length).await?;
    let mut message = vec![0u8; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut message).await?;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for `a.service.consul` A with ID 0x1234.
    fn query() -> Vec<u8> {
        let mut packet = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in ["a", "service", "consul"] {
            packet.push(label.len() as u8);
            packet.extend_from_slice(label.as_bytes());
        }
        packet.extend_from_slice(&[0, 0, 1, 0, 1]);
        packet
    }

    /// Echoes the query with the response bit set, recording the protocol it saw.
    fn echo(seen_tcp: Arc<std::sync::Mutex<Vec<bool>>>) -> ForwardQuery {
        Arc::new(move |mut query: Vec<u8>, _client, tcp| {
            seen_tcp.lock().unwrap().push(tcp);
            Box::pin(async move {
                query[2] |= 0x80;
                Some(query)
            })
        })
    }

    #[tokio::test]
    async fn queries_over_udp_and_tcp_are_forwarded_with_their_protocol() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let server = ForwardingDnsServer::bind("127.0.0.1:0".parse().unwrap(), echo(seen.clone()))
            .await
            .unwrap();
        let addr = server.local_addr();
        let stop = CancellationToken::new();
        let serving = tokio::spawn({
            let stop = stop.clone();
            server.serve_until(async move { stop.cancelled().await })
        });

        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.send_to(&query(), addr).await.unwrap();
        let mut buffer = [0u8; 512];
        let (length, _) = socket.recv_from(&mut buffer).await.unwrap();
        assert_eq!(buffer[..2], [0x12, 0x34]);
        assert_eq!(buffer[2] & 0x80, 0x80);
        assert_eq!(length, query().len());

        let mut stream = TcpStream::connect(addr).await.unwrap();
        for _ in 0..2 {
            let packet = query();
            let mut framed = (packet.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&packet);
            stream.write_all(&framed).await.unwrap();
            let answer = read_message(&mut stream).await.unwrap();
            assert_eq!(answer[2] & 0x80, 0x80);
        }
        assert_eq!(*seen.lock().unwrap(), [false, true, true]);
        stop.cancel();
        serving.await.unwrap();
    }

    #[tokio::test]
    async fn no_answer_is_a_server_failure() {
        let forward: ForwardQuery = Arc::new(|_, _, _| Box::pin(async { None }));
        let answer = Forwarder(forward)
            .answer(&query(), "127.0.0.1:5000".parse().unwrap(), false)
            .await
            .unwrap();
        assert_eq!(answer[..2], [0x12, 0x34]);
        // QR set, RCODE 2 (SERVFAIL).
        assert_eq!(answer[2] & 0x80, 0x80);
        assert_eq!(answer[3] & 0x0f, 2);
    }
}
