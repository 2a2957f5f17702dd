//! The sending side of server RPC: one pooled HTTP/1.1 client per server, postcard
//! bodies, a deadline on every call; over TLS under `verify_outgoing`. A new TLS
//! configuration (reload) replaces the pool, so later calls use the new certificate.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How long connecting to a peer may take before it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a call failed, split by what the caller may conclude.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The request never reached the peer: nothing was done there, trying again is safe.
    #[error("cannot reach {addr}: {reason}")]
    Unreachable { addr: String, reason: String },
    /// The request may have reached the peer; its effect is unknown.
    #[error("server RPC to {addr} failed: {reason}")]
    Failed { addr: String, reason: String },
}

/// Cheap to clone; clones share the connection pool and see a new TLS configuration.
#[derive(Clone)]
pub struct RpcClient {
    transport: Arc<ArcSwap<Transport>>,
}

/// The pool calls go through: plaintext, or TLS with one client configuration.
enum Transport {
    Plain(Client<HttpConnector, Full<Bytes>>),
    Tls(Client<HttpsConnector<HttpConnector>, Full<Bytes>>),
}

impl Transport {
    fn new(tls: Option<&Arc<rustls::ClientConfig>>) -> Transport {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        // TLS connections are made by the connector, so http:// URIs must pass it.
        connector.enforce_http(tls.is_none());
        let mut builder = Client::builder(TokioExecutor::new());
        builder.pool_idle_timeout(Duration::from_secs(60));
        match tls {
            None => Transport::Plain(builder.build(connector)),
            Some(config) => {
                // The connector offers HTTP/1.1 by ALPN itself.
                let mut config = rustls::ClientConfig::clone(config);
                config.alpn_protocols.clear();
                let https = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(config)
                    .https_only()
                    .enable_http1()
                    .wrap_connector(connector);
                Transport::Tls(builder.build(https))
            }
        }
    }

    fn scheme(&self) -> &'static str {
        match self {
            Transport::Plain(_) => "http",
            Transport::Tls(_) => "https",
        }
    }

    async fn request(
        &self,
        request: hyper::Request<Full<Bytes>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, hyper_util::client::legacy::Error> {
        match self {
            Transport::Plain(client) => client.request(request).await,
            Transport::Tls(client) => client.request(request).await,
        }
    }
}

impl Default for RpcClient {
    fn default() -> Self {
        RpcClient::new(None)
    }
}

impl RpcClient {
    /// Plaintext calls, or TLS with `tls` (`verify_outgoing`).
    pub fn new(tls: Option<&Arc<rustls::ClientConfig>>) -> RpcClient {
        RpcClient {
            transport: Arc::new(ArcSwap::from_pointee(Transport::new(tls))),
        }
    }

    /// Later calls use `tls` (or plaintext); calls under way finish on their connection.
    pub fn reconfigure(&self, tls: Option<&Arc<rustls::ClientConfig>>) {
        self.transport.store(Arc::new(Transport::new(tls)));
    }

    /// Posts `request` to `path` on the server RPC address `addr` and decodes the answer.
    pub async fn call<Req, Resp>(
        &self,
        addr: &str,
        path: &str,
        request: &Req,
        timeout: Duration,
    ) -> Result<Resp, CallError>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
    {
        let failed = |reason: String| CallError::Failed {
            addr: addr.to_string(),
            reason,
        };
        let body = postcard::to_allocvec(request).map_err(|error| failed(error.to_string()))?;
        let transport = self.transport.load_full();
        let scheme = transport.scheme();
        let http_request = hyper::Request::post(format!("{scheme}://{addr}{path}"))
            .header(hyper::header::CONTENT_TYPE, "application/octet-stream")
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| CallError::Unreachable {
                addr: addr.to_string(),
                reason: error.to_string(),
            })?;
        let exchange = async {
            let response = transport.request(http_request).await.map_err(|error| {
                if error.is_connect() {
                    CallError::Unreachable {
                        addr: addr.to_string(),
                        reason: error.to_string(),
                    }
                } else {
                    failed(error.to_string())
                }
            })?;
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|error| failed(error.to_string()))?
                .to_bytes();
            if !status.is_success() {
                return Err(failed(format!(
                    "{status}: {}",
                    String::from_utf8_lossy(&bytes)
                )));
            }
            postcard::from_bytes(&bytes).map_err(|error| failed(format!("bad answer: {error}")))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| failed(format!("no answer within {timeout:?}")))?
    }
}
