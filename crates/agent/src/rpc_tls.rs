//! Server RPC's TLS files (Consul's `tls.internal_rpc` over `tls.defaults`): read and
//! checked when the agent starts, where a bad file stops it, and again on `reload`,
//! where a bad file keeps the configuration in use. What the flags mean is told in
//! `proconsul_consensus::RpcTls`.

use proconsul_consensus::RpcTls;
use proconsul_tls::{ClientTls, ServerTls, TlsError};

/// Where server RPC's certificate, key and CA are, and which checks are on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcTlsSettings {
    /// The server's certificate, key and CA, with `verify_incoming` and
    /// `tls_min_version`: with them peers may connect over TLS.
    pub server: Option<ServerTls>,
    /// `verify_outgoing`: calls to peers go over TLS, checked against the CA (and the
    /// server name under `verify_server_hostname`), presenting the server's certificate.
    pub client: Option<ClientTls>,
    /// `verify_incoming`: plaintext and certificate-less peers are refused.
    pub verify_incoming: bool,
    /// `verify_server_hostname`: `server.<datacenter>.<domain>`, the name every server's
    /// certificate carries.
    pub server_name: Option<String>,
}

impl RpcTlsSettings {
    /// Reads and checks the files and builds the rustls configurations.
    pub fn load(&self) -> Result<RpcTls, TlsError> {
        let acceptor = self
            .server
            .as_ref()
            .map(proconsul_tls::server_config)
            .transpose()?;
        let connector = self
            .client
            .as_ref()
            .map(proconsul_tls::client_config)
            .transpose()?;
        Ok(RpcTls {
            acceptor,
            verify_incoming: self.verify_incoming,
            connector,
            server_name: self.server_name.clone(),
        })
    }
}
