//! The sending side of server RPC: one pooled HTTP/1.1 client per server, postcard
//! bodies, a deadline on every call; over TLS under `verify_outgoing`. A new TLS
//! configuration (reload) replaces the pool, so later calls use the new certificate.
//! A server's connections leave from its bind address (as Consul's do), so that kernel
//! rules on source addresses (iptables in a private network namespace) can partition
//! servers on one host. Under the test fault layer every request passes it first.

use std::net::IpAddr;
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

use crate::fault::FaultLayer;
use crate::fault::layer::FROM_HEADER;

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
    /// The address connections leave from (`None`: the kernel's choice).
    source: Option<IpAddr>,
    /// The test fault layer, when `PROCONSUL_TEST_FAULTS=1` made one.
    faults: Option<Arc<FaultLayer>>,
}

/// The pool calls go through: plaintext, or TLS with one client configuration.
enum Transport {
    Plain(Client<HttpConnector, Full<Bytes>>),
    Tls(Client<HttpsConnector<HttpConnector>, Full<Bytes>>),
}

impl Transport {
    fn new(tls: Option<&Arc<rustls::ClientConfig>>, source: Option<IpAddr>) -> Transport {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_local_address(source);
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
        RpcClient::from(tls, None, None)
    }

    /// A server's client: connections leave from `source` (its bind address, unless
    /// that is unspecified), and requests pass `faults` first when given.
    pub(crate) fn for_server(
        tls: Option<&Arc<rustls::ClientConfig>>,
        source: IpAddr,
        faults: Option<Arc<FaultLayer>>,
    ) -> RpcClient {
        let source = (!source.is_unspecified()).then_some(source);
        RpcClient::from(tls, source, faults)
    }

    fn from(
        tls: Option<&Arc<rustls::ClientConfig>>,
        source: Option<IpAddr>,
        faults: Option<Arc<FaultLayer>>,
    ) -> RpcClient {
        RpcClient {
            transport: Arc::new(ArcSwap::from_pointee(Transport::new(tls, source))),
            source,
            faults,
        }
    }

    /// Later calls use `tls` (or plaintext); calls under way finish on their connection.
    pub fn reconfigure(&self, tls: Option<&Arc<rustls::ClientConfig>>) {
        self.transport
            .store(Arc::new(Transport::new(tls, self.source)));
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
        let mut http_request = hyper::Request::post(format!("{scheme}://{addr}{path}"))
            .header(hyper::header::CONTENT_TYPE, "application/octet-stream");
        if let Some(faults) = &self.faults {
            http_request = http_request.header(FROM_HEADER, faults.me());
        }
        let http_request = http_request
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| CallError::Unreachable {
                addr: addr.to_string(),
                reason: error.to_string(),
            })?;
        let exchange = async {
            if let Some(faults) = &self.faults
                && !faults.pass_request(addr, path).await
            {
                return Err(CallError::Unreachable {
                    addr: addr.to_string(),
                    reason: "test fault: refused".to_string(),
                });
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_server_connects_from_its_bind_address() {
        let listener = tokio::net::TcpListener::bind("127.0.0.3:0")
            .await
            .expect("127.0.0.3 is loopback");
        let addr = listener.local_addr().expect("bound").to_string();
        let client = RpcClient::for_server(None, "127.0.0.2".parse().expect("ip"), None);
        let call = tokio::spawn(async move {
            let answer: Result<(), CallError> = client
                .call(&addr, "/raft/vote", &(), Duration::from_secs(5))
                .await;
            answer
        });
        let (_stream, peer) = listener.accept().await.expect("a connection");
        assert_eq!(peer.ip().to_string(), "127.0.0.2");
        call.abort();
    }

    #[tokio::test]
    async fn an_unspecified_bind_address_leaves_the_choice_to_the_kernel() {
        let client = RpcClient::for_server(None, "0.0.0.0".parse().expect("ip"), None);
        assert_eq!(client.source, None);
    }

    #[tokio::test]
    async fn a_refusing_fault_rule_fails_the_call_before_it_leaves() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bound");
        let addr = listener.local_addr().expect("bound").to_string();
        let faults = FaultLayer::new("127.0.0.1:1".to_string());
        faults
            .set(crate::fault::FaultSet {
                rules: vec![crate::fault::FaultRule {
                    from: None,
                    to: Some(addr.clone()),
                    kinds: vec!["raft".to_string()],
                    leg: None,
                    action: crate::fault::FaultAction::Refuse,
                }],
                seed: 0,
            })
            .expect("valid");
        let client = RpcClient::for_server(None, "127.0.0.1".parse().expect("ip"), Some(faults));
        let answer: Result<(), CallError> = client
            .call(&addr, "/raft/vote", &(), Duration::from_secs(5))
            .await;
        assert!(
            matches!(answer, Err(CallError::Unreachable { .. })),
            "{answer:?}"
        );
        // Nothing reached the listener.
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(accepted.is_err());
    }
}
