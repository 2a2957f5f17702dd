//! Checks spoken over HTTP/2, in cleartext (h2c) or over TLS (`GRPCUseTLS`,
//! `H2PingUseTLS`, with ALPN h2): gRPC's standard health protocol
//! (`grpc.health.v1.Health/Check`) and an HTTP/2 PING.

use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use h2::client::SendRequest;
use proconsul_api::HealthStatus;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::probe::ProbeResult;
use super::tls::TlsOptions;

/// A byte stream to an HTTP/2 server: plain TCP (h2c) or TLS.
trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Transport for T {}

/// Connects to `address`, over TLS when `tls` is given.
async fn transport(address: &str, tls: Option<&TlsOptions>) -> Result<Box<dyn Transport>, String> {
    match tls {
        Some(options) => Ok(Box::new(super::tls::connect(address, options, true).await?)),
        None => Ok(Box::new(
            TcpStream::connect(address)
                .await
                .map_err(|error| format!("dial tcp {address}: {error}"))?,
        )),
    }
}

/// Opens an HTTP/2 connection to `address`; the connection task ends with the handle.
async fn connect(address: &str, tls: Option<&TlsOptions>) -> Result<SendRequest<Bytes>, String> {
    let stream = transport(address, tls).await?;
    let (client, connection) = h2::client::handshake(stream)
        .await
        .map_err(|error| format!("HTTP/2 handshake with {address}: {error}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// `GRPC = "host:port[/service]"`: asks the server's health service about `service`
/// (the server as a whole when empty). SERVING is passing; anything else is critical.
pub async fn grpc(target: &str, tls: Option<&TlsOptions>, timeout: Duration) -> ProbeResult {
    let (address, service) = target.split_once('/').unwrap_or((target, ""));
    match tokio::time::timeout(timeout, grpc_call(address, service, tls)).await {
        Err(_) => critical(format!("gRPC check {target}: timed out after {timeout:?}")),
        Ok(Err(error)) => critical(format!("gRPC check {target}: {error}")),
        Ok(Ok(1)) => ProbeResult {
            status: HealthStatus::Passing,
            output: format!("gRPC check {target}: success"),
        },
        Ok(Ok(status)) => critical(format!(
            "gRPC check {target}: failed with status {}",
            serving_status_name(status)
        )),
    }
}

fn serving_status_name(status: u64) -> &'static str {
    match status {
        0 => "UNKNOWN",
        1 => "SERVING",
        2 => "NOT_SERVING",
        3 => "SERVICE_UNKNOWN",
        _ => "unrecognised",
    }
}

/// One unary `Health/Check` call; returns the `ServingStatus` number.
async fn grpc_call(address: &str, service: &str, tls: Option<&TlsOptions>) -> Result<u64, String> {
    let client = connect(address, tls).await?;
    let mut client = client.ready().await.map_err(|error| error.to_string())?;
    let request = http::Request::post(format!("http://{address}/grpc.health.v1.Health/Check"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .map_err(|error| error.to_string())?;
    let (response, mut body_stream) = client
        .send_request(request, false)
        .map_err(|error| error.to_string())?;
    // HealthCheckRequest { string service = 1; }, in a gRPC length-prefixed frame.
    let mut message = Vec::new();
    if !service.is_empty() {
        message.push(0x0a);
        put_varint(&mut message, service.len() as u64);
        message.extend_from_slice(service.as_bytes());
    }
    let mut frame = BytesMut::with_capacity(5 + message.len());
    frame.extend_from_slice(&[0]);
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(&message);
    body_stream
        .send_data(frame.freeze(), true)
        .map_err(|error| error.to_string())?;

    let response = response.await.map_err(|error| error.to_string())?;
    if !response.status().is_success() {
        return Err(format!("HTTP status {}", response.status()));
    }
    if let Some(error) = grpc_error(response.headers()) {
        return Err(error);
    }
    let mut body = response.into_body();
    let mut received = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|error| error.to_string())?;
        let _ = body.flow_control().release_capacity(chunk.len());
        received.extend_from_slice(&chunk);
        if received.len() > 64 * 1024 {
            return Err("response too large".to_string());
        }
    }
    if let Ok(Some(trailers)) = body.trailers().await
        && let Some(error) = grpc_error(&trailers)
    {
        return Err(error);
    }
    parse_health_response(&received)
}

/// A non-zero `grpc-status` as an error text.
fn grpc_error(headers: &http::HeaderMap) -> Option<String> {
    let status = headers.get("grpc-status")?.to_str().ok()?;
    if status == "0" {
        return None;
    }
    let message = headers
        .get("grpc-message")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    Some(format!("rpc error: code = {status} desc = {message}"))
}

/// Decodes `HealthCheckResponse { ServingStatus status = 1; }` from one gRPC frame.
fn parse_health_response(frame: &[u8]) -> Result<u64, String> {
    if frame.len() < 5 {
        return Err("empty gRPC response".to_string());
    }
    let length = u32::from_be_bytes([frame[1], frame[2], frame[3], frame[4]]) as usize;
    let mut message = frame.get(5..5 + length).ok_or("truncated gRPC response")?;
    let mut status = 0;
    while message.has_remaining() {
        let key = get_varint(&mut message)?;
        match (key >> 3, key & 7) {
            (1, 0) => status = get_varint(&mut message)?,
            (_, 0) => {
                get_varint(&mut message)?;
            }
            (_, 2) => {
                let skip = get_varint(&mut message)? as usize;
                if skip > message.remaining() {
                    return Err("malformed gRPC response".to_string());
                }
                message.advance(skip);
            }
            _ => return Err("malformed gRPC response".to_string()),
        }
    }
    Ok(status)
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn get_varint(input: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *input.first().ok_or("truncated varint")?;
        *input = &input[1..];
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint too long".to_string())
}

/// `H2PING = "host:port"`: an HTTP/2 PING answered in time is passing.
pub async fn h2ping(address: &str, tls: Option<&TlsOptions>, timeout: Duration) -> ProbeResult {
    match tokio::time::timeout(timeout, ping_once(address, tls)).await {
        Err(_) => critical(format!("HTTP2 ping {address}: timed out after {timeout:?}")),
        Ok(Err(error)) => critical(format!("HTTP2 ping {address}: {error}")),
        Ok(Ok(())) => ProbeResult {
            status: HealthStatus::Passing,
            output: "HTTP2 ping was successful".to_string(),
        },
    }
}

async fn ping_once(address: &str, tls: Option<&TlsOptions>) -> Result<(), String> {
    let stream = transport(address, tls).await?;
    let (_client, mut connection) = h2::client::handshake(stream)
        .await
        .map_err(|error| format!("HTTP/2 handshake: {error}"))?;
    let mut ping_pong = connection.ping_pong().ok_or("ping already in use")?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let result = ping_pong
        .ping(h2::Ping::opaque())
        .await
        .map(|_| ())
        .map_err(|error| error.to_string());
    driver.abort();
    result
}

fn critical(output: String) -> ProbeResult {
    ProbeResult {
        status: HealthStatus::Critical,
        output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_responses_decode() {
        // SERVING
        assert_eq!(parse_health_response(&[0, 0, 0, 0, 2, 0x08, 0x01]), Ok(1));
        // An empty message is UNKNOWN (0), as protobuf defaults it.
        assert_eq!(parse_health_response(&[0, 0, 0, 0, 0]), Ok(0));
        // An unknown length-delimited field is skipped.
        assert_eq!(
            parse_health_response(&[0, 0, 0, 0, 5, 0x12, 0x01, b'x', 0x08, 0x02]),
            Ok(2)
        );
        assert!(parse_health_response(&[0, 0, 0, 0, 9, 0x08]).is_err());
        assert!(parse_health_response(&[]).is_err());
        assert!(parse_health_response(&[0, 0, 0, 0, 2, 0x08, 0xff]).is_err());
    }

    #[test]
    fn varints_round_trip() {
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(get_varint(&mut out.as_slice()), Ok(value));
        }
    }
}
