//! TLS for the checks that open their own connections (TCP with `TCPUseTLS`, gRPC with
//! `GRPCUseTLS`, H2PING with `H2PingUseTLS`): rustls on ring, the platform's trusted
//! roots, `TLSServerName` as the name sent and verified, `TLSSkipVerify` to accept any
//! certificate.

use std::sync::{Arc, OnceLock};

use proconsul_tls::verify::Unverified;
use rustls::ClientConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::checks_tls::ChecksTls;
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
    /// The agent's configurations (its CA and certificate), set when the check runs;
    /// the platform's roots alone when unset.
    pub agent: Option<AgentConfigs>,
}

/// The four client configurations of one agent's TLS checks (indexed by skip-verify and
/// HTTP/2): the platform's roots plus the agent's CA, and the agent's certificate with
/// `verify_outgoing`. Built once when the check runner starts.
#[derive(Debug, Clone)]
pub struct AgentConfigs(Arc<[Arc<ClientConfig>; 4]>);

impl PartialEq for AgentConfigs {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for AgentConfigs {}

impl AgentConfigs {
    /// The configurations for `agent`'s TLS material; `None` when it has none (the
    /// platform's roots serve then).
    pub fn new(agent: &ChecksTls) -> Result<Option<AgentConfigs>, String> {
        if agent == &ChecksTls::default() {
            return Ok(None);
        }
        let files =
            proconsul_tls::files::ca_files(agent.ca_file.as_deref(), agent.ca_path.as_deref())
                .map_err(|error| error.to_string())?;
        let mut roots = Vec::new();
        for file in &files {
            roots.extend(
                proconsul_tls::files::certificates(file).map_err(|error| error.to_string())?,
            );
        }
        let identity = match &agent.client_cert {
            None => None,
            Some((cert, key)) => Some((
                proconsul_tls::files::certificates(cert).map_err(|error| error.to_string())?,
                proconsul_tls::files::private_key(key).map_err(|error| error.to_string())?,
            )),
        };
        let build = |skip_verify: bool, http2: bool| {
            build_config(skip_verify, http2, &roots, identity.as_ref())
        };
        Ok(Some(AgentConfigs(Arc::new([
            build(false, false)?,
            build(false, true)?,
            build(true, false)?,
            build(true, true)?,
        ]))))
    }

    fn get(&self, skip_verify: bool, http2: bool) -> Arc<ClientConfig> {
        self.0[usize::from(skip_verify) * 2 + usize::from(http2)].clone()
    }
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
    let config = match &options.agent {
        Some(agent) => agent.get(options.skip_verify, http2),
        None => client_config(options.skip_verify, http2)?,
    };
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
            .map(|(skip_verify, http2)| build_config(skip_verify, http2, &[], None))
    });
    configs[usize::from(skip_verify) * 2 + usize::from(http2)].clone()
}

/// A client certificate chain and its key.
type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn build_config(
    skip_verify: bool,
    http2: bool,
    extra_roots: &[CertificateDer<'static>],
    identity: Option<&Identity>,
) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .dangerous();
    let builder = if skip_verify {
        // `TLSSkipVerify`: any certificate, but the handshake's signatures are still
        // checked, so the peer must hold the key of the certificate it sent.
        builder.with_custom_certificate_verifier(Arc::new(Unverified { provider }))
    } else {
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
            extra_roots.to_vec(),
            provider,
        )
        .map_err(|error| format!("cannot load the trusted roots: {error}"))?;
        builder.with_custom_certificate_verifier(Arc::new(verifier))
    };
    let mut config = match identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain.clone(), key.clone_key())
            .map_err(|error| format!("the agent's certificate: {error}"))?,
        None => builder.with_no_client_auth(),
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
