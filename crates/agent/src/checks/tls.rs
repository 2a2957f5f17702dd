//! TLS for the checks that open their own connections (TCP with `TCPUseTLS`, gRPC with
//! `GRPCUseTLS`, H2PING with `H2PingUseTLS`): rustls on ring, the platform's trusted
//! roots, `TLSServerName` as the name sent and verified, `TLSSkipVerify` to accept any
//! certificate.

use std::sync::{Arc, OnceLock};

use proconsul_tls::verify::Unverified;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use rustls_platform_verifier::BuilderVerifierExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// How a check's TLS connection is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// `TLSServerName`: the name sent (SNI) and verified; the target's host when unset.
    pub server_name: Option<String>,
    /// `TLSSkipVerify`.
    pub skip_verify: bool,
}

/// Connects to `address` (`host:port`) over TCP and completes a TLS handshake,
/// offering HTTP/2 by ALPN when `http2` is set (gRPC, H2PING).
pub async fn connect(
    address: &str,
    options: &TlsOptions,
    http2: bool,
) -> Result<TlsStream<TcpStream>, String> {
    let name = match &options.server_name {
        Some(name) if !name.is_empty() => name.clone(),
        _ => host_of(address).to_string(),
    };
    let server_name = ServerName::try_from(name.clone())
        .map_err(|error| format!("invalid TLS server name {name:?}: {error}"))?;
    let config = client_config(options.skip_verify, http2)?;
    let stream = TcpStream::connect(address)
        .await
        .map_err(|error| format!("dial tcp {address}: {error}"))?;
    TlsConnector::from(config)
        .connect(server_name, stream)
        .await
        .map_err(|error| format!("TLS handshake with {address}: {error}"))
}

/// `host:port` → `host`, without the brackets of an IPv6 literal.
fn host_of(address: &str) -> &str {
    let host = address
        .rsplit_once(':')
        .map_or(address, |(host, _port)| host);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// The four client configurations, built once: loading the platform's roots is far
/// too costly to repeat for every probe.
fn client_config(skip_verify: bool, http2: bool) -> Result<Arc<ClientConfig>, String> {
    static CONFIGS: OnceLock<[Result<Arc<ClientConfig>, String>; 4]> = OnceLock::new();
    let configs = CONFIGS.get_or_init(|| {
        [(false, false), (false, true), (true, false), (true, true)]
            .map(|(skip_verify, http2)| build_config(skip_verify, http2))
    });
    configs[usize::from(skip_verify) * 2 + usize::from(http2)].clone()
}

fn build_config(skip_verify: bool, http2: bool) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?;
    let mut config = if skip_verify {
        builder
            .dangerous()
            // `TLSSkipVerify`: any certificate, but the handshake's signatures are still
            // checked, so the peer must hold the key of the certificate it sent.
            .with_custom_certificate_verifier(Arc::new(Unverified { provider }))
            .with_no_client_auth()
    } else {
        builder
            .with_platform_verifier()
            .map_err(|error| format!("cannot load the trusted roots: {error}"))?
            .with_no_client_auth()
    };
    if http2 {
        config.alpn_protocols = vec![b"h2".to_vec()];
    }
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_taken_from_addresses() {
        assert_eq!(host_of("db.example:5432"), "db.example");
        assert_eq!(host_of("127.0.0.1:443"), "127.0.0.1");
        assert_eq!(host_of("[::1]:443"), "::1");
        assert_eq!(host_of("noport"), "noport");
    }
}
