//! Server RPC's TLS, as Consul's `tls.internal_rpc` sets it up, in the three flags that
//! let a running cluster move from plaintext to mutual TLS one step at a time:
//! a certificate lets peers speak TLS to this server (plaintext still accepted);
//! `verify_outgoing` makes this server speak only TLS to its peers; `verify_incoming`
//! refuses plaintext and peers without a certificate signed by the CA. With
//! `verify_server_hostname` a peer must also hold `server.<dc>.<domain>`, so a client
//! certificate of the same CA cannot pass for a server (CVE-2021-37219).
//!
//! The agent reads the files; this crate only holds the rustls configurations, swapped
//! whole on reload.

use std::sync::Arc;

/// Server RPC's TLS settings, ready to use. The default is plaintext both ways.
#[derive(Clone, Default)]
pub struct RpcTls {
    /// The listener's configuration when this server has a certificate: peers may then
    /// connect with TLS. Under `verify_incoming` its verifier requires a client
    /// certificate signed by the CA.
    pub acceptor: Option<Arc<rustls::ServerConfig>>,
    /// `verify_incoming`: plaintext connections are refused.
    pub verify_incoming: bool,
    /// `verify_outgoing`: every call to a peer is made over TLS with this configuration.
    pub connector: Option<Arc<rustls::ClientConfig>>,
    /// `verify_server_hostname`: the name (`server.<dc>.<domain>`) a TLS peer's
    /// certificate must be valid for to be served.
    pub server_name: Option<String>,
}

/// What the listener needs of [`RpcTls`], prepared once per configuration.
pub(crate) struct ListenerTls {
    pub acceptor: Option<tokio_rustls::TlsAcceptor>,
    pub verify_incoming: bool,
    pub server_name: Option<String>,
}

impl From<&RpcTls> for ListenerTls {
    fn from(tls: &RpcTls) -> Self {
        let acceptor = tls.acceptor.as_ref().map(|config| {
            // Server RPC is HTTP/1.1 only; offer just that.
            let mut config = rustls::ServerConfig::clone(config);
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            tokio_rustls::TlsAcceptor::from(Arc::new(config))
        });
        ListenerTls {
            acceptor,
            verify_incoming: tls.verify_incoming,
            server_name: tls.server_name.clone(),
        }
    }
}

impl std::fmt::Debug for RpcTls {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RpcTls")
            .field("accepts_tls", &self.acceptor.is_some())
            .field("verify_incoming", &self.verify_incoming)
            .field("verify_outgoing", &self.connector.is_some())
            .field("server_name", &self.server_name)
            .finish()
    }
}
