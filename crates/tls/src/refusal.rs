//! Closing a connection whose TLS handshake was refused so that the client reads the
//! alert rustls has just written (`certificate required`, `unknown CA`, ...), for the
//! HTTPS API and server RPC alike.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a refused connection is read from (what arrives is dropped) before it is
/// closed.
pub const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// Closes a connection whose handshake was refused so that the client reads the alert
/// rustls has just written (`certificate required`, `unknown CA`, ...): the agent's side
/// is shut (FIN after the alert), then what the client still sends is read and dropped
/// until it closes, for [`REFUSAL_LINGER`] at most.
///
/// Closing at once would lose the alert to a race: a TLS 1.3 client finishes its side
/// of the handshake before the agent has checked its certificate and sends its request
/// straight away, and a socket closed with unread data (or receiving data after the
/// close) answers with a reset, so the client's next write failed with "broken pipe"
/// instead of "remote error: tls: certificate required" (Go's client, one run in ten).
pub async fn linger(mut stream: TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let mut discard = [0u8; 4096];
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        while let Ok(1..) = stream.read(&mut discard).await {}
    })
    .await;
}
