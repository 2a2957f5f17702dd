//! The sending side of server RPC: one pooled HTTP/1.1 client per server, postcard
//! bodies, a deadline on every call.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
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

/// Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct RpcClient {
    http: Client<HttpConnector, Full<Bytes>>,
}

impl Default for RpcClient {
    fn default() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        RpcClient {
            http: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(60))
                .build(connector),
        }
    }
}

impl RpcClient {
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
        let http_request = hyper::Request::post(format!("http://{addr}{path}"))
            .header(hyper::header::CONTENT_TYPE, "application/octet-stream")
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| CallError::Unreachable {
                addr: addr.to_string(),
                reason: error.to_string(),
            })?;
        let exchange = async {
            let response = self.http.request(http_request).await.map_err(|error| {
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
