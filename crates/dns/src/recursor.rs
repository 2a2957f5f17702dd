//! Forwarding of names outside the domain to the configured `recursors`, as Consul
//! does: the client's own query goes to each recursor in turn (or in a random order)
//! until one answers within `recursor_timeout`.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::Message;
use rand::seq::SliceRandom;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::Semaphore;

use crate::config::RecursorStrategy;

/// The most forwarded queries in flight; more are answered SERVFAIL at once rather
/// than queued.
const MAX_IN_FLIGHT: usize = 256;

/// Sends queries on to upstream resolvers.
pub struct Recursor {
    servers: Vec<SocketAddr>,
    timeout: Duration,
    strategy: RecursorStrategy,
    in_flight: Semaphore,
}

/// Why no upstream answer came back.
#[derive(Debug, thiserror::Error)]
pub enum RecursorError {
    #[error("too many queries are being forwarded")]
    Busy,
    #[error("no recursor answered: {0}")]
    NoAnswer(String),
}

impl Recursor {
    pub fn new(servers: Vec<SocketAddr>, timeout: Duration, strategy: RecursorStrategy) -> Self {
        Recursor {
            servers,
            timeout,
            strategy,
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
        }
    }

    /// Forwards the client's raw query (over TCP when it came over TCP) and returns the
    /// first upstream answer whose ID matches.
    pub async fn forward(
        &self,
        query: &[u8],
        id: u16,
        tcp: bool,
    ) -> Result<Message, RecursorError> {
        let _permit = self
            .in_flight
            .try_acquire()
            .map_err(|_| RecursorError::Busy)?;
        let mut order = self.servers.clone();
        if self.strategy == RecursorStrategy::Random {
            order.shuffle(&mut rand::rng());
        }
        let mut last_error = String::from("no recursors");
        for server in order {
            let exchange = async {
                if tcp {
                    exchange_tcp(server, query).await
                } else {
                    exchange_udp(server, query).await
                }
            };
            match tokio::time::timeout(self.timeout, exchange).await {
                Ok(Ok(bytes)) => match Message::from_vec(&bytes) {
                    Ok(message) if message.metadata.id == id => return Ok(message),
                    Ok(_) => last_error = format!("{server}: answer with another ID"),
                    Err(error) => last_error = format!("{server}: {error}"),
                },
                Ok(Err(error)) => last_error = format!("{server}: {error}"),
                Err(_) => last_error = format!("{server}: timed out"),
            }
            tracing::debug!(%server, error = %last_error, "recursor failed; trying the next");
        }
        Err(RecursorError::NoAnswer(last_error))
    }
}

async fn exchange_udp(server: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(server).await?;
    socket.send(query).await?;
    let mut buffer = vec![0u8; 65535];
    let length = socket.recv(&mut buffer).await?;
    buffer.truncate(length);
    Ok(buffer)
}

async fn exchange_tcp(server: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(server).await?;
    let length = u16::try_from(query.len())
        .map_err(|_| std::io::Error::other("query longer than a DNS message"))?;
    stream.write_all(&length.to_be_bytes()).await?;
    stream.write_all(query).await?;
    let length = stream.read_u16().await?;
    let mut buffer = vec![0u8; usize::from(length)];
    stream.read_exact(&mut buffer).await?;
    Ok(buffer)
}
