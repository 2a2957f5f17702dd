//! TCP framing for push-pull, fallback probes and keyring operations: one request frame and
//! one reply frame per connection, each `[u32 BE length][sealed message]`.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::GossipError;
use crate::wire::MAX_FRAME;

/// Reads one frame.
pub(crate) async fn read_frame(stream: &mut TcpStream) -> Result<Vec<u8>, GossipError> {
    let len = stream.read_u32().await? as usize;
    if len > MAX_FRAME {
        return Err(GossipError::Protocol(format!(
            "frame of {len} bytes is too large"
        )));
    }
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).await?;
    Ok(buf)
}

/// Writes one frame.
pub(crate) async fn write_frame(stream: &mut TcpStream, frame: &[u8]) -> Result<(), GossipError> {
    if frame.len() > MAX_FRAME {
        return Err(GossipError::Protocol(format!(
            "frame of {} bytes is too large",
            frame.len()
        )));
    }
    stream.write_u32(frame.len() as u32).await?;
    stream.write_all(frame).await?;
    stream.flush().await?;
    Ok(())
}

/// The bytes one frame takes on the wire (its length prefix included).
pub(crate) fn framed_len(frame: &[u8]) -> u64 {
    frame.len() as u64 + 4
}

/// Connects, sends `frame`, returns the reply frame; all within `timeout`. `sent` is
/// called once the frame is written (the driver's counters).
pub(crate) async fn exchange(
    to: SocketAddr,
    frame: &[u8],
    timeout: Duration,
    sent: impl FnOnce(),
) -> Result<Vec<u8>, GossipError> {
    let work = async {
        let mut stream = TcpStream::connect(to).await?;
        stream.set_nodelay(true)?;
        write_frame(&mut stream, frame).await?;
        sent();
        read_frame(&mut stream).await
    };
    tokio::time::timeout(timeout, work).await.map_err(|_| {
        GossipError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("{to}: timed out"),
        ))
    })?
}
