//! Server RPC for client agents: what a client agent (no Raft, no state) asks of a
//! server, and the types both sides share.
//!
//! Consensus only carries these requests. An HTTP request travels as opaque data and a
//! server runs it through whatever [`ForwardedRequests`] the agent installed
//! ([`Consensus::serve_forwarded`]); a DNS query travels as its packet. Commands
//! (the client's own catalog writes) go through the receiving server's
//! [`Consensus::write`], which forwards them to the leader, and [`NodeView`] is the
//! catalog's view of one node, read for the client's anti-entropy and alias checks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use proconsul_api::{AgentService, HealthCheck, Node};
use proconsul_state::{Command, State};
use serde::{Deserialize, Serialize};

use crate::agent_acl::{AgentWrite, TokenLookup};
use crate::error::ConsensusError;
use crate::forward::WRITE_TIMEOUT;
use crate::node::Applied;
use crate::rpc::client::{CallError, RpcClient};
use crate::rpc::messages::{self, Answer, RemoteError, WriteApplied};
use crate::rpc::tls::RpcTls;

/// An HTTP request an agent received and hands to a server, as opaque data.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ForwardedHttpRequest {
    pub method: String,
    /// The path and query string as the agent received them.
    pub uri: String,
    /// The headers that matter to the server (tokens, content negotiation).
    pub headers: Vec<(String, Vec<u8>)>,
    #[serde(with = "raw_bytes")]
    pub body: Vec<u8>,
    /// The address of the agent's own client, when it came over TCP.
    pub peer: Option<SocketAddr>,
    /// Facts about the forwarding agent that requests about "this agent" need, encoded
    /// by the agent (opaque here).
    #[serde(with = "raw_bytes")]
    pub origin: Vec<u8>,
}

/// A server's answer to a [`ForwardedHttpRequest`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ForwardedHttpResponse {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    #[serde(with = "raw_bytes")]
    pub body: Vec<u8>,
}

/// A DNS query an agent received, for a server to answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForwardedDnsQuery {
    #[serde(with = "raw_bytes")]
    pub packet: Vec<u8>,
    /// Over TCP (else UDP): decides the size limit of the answer.
    pub tcp: bool,
    /// The address of the agent's own client.
    pub peer: SocketAddr,
    /// A client agent with ACLs: its DNS token (`acl.tokens.dns`, else `default`, else
    /// none: anonymous), so that the server answers only what that token may read, as
    /// Consul's client agents send their DNS token with each lookup. `None` (no ACLs on
    /// the client, or another datacenter's server): the server's own DNS token.
    #[serde(default)]
    pub token: Option<String>,
}

/// The catalog's view of one node: whether it is registered, its services and checks
/// (shared with the state they were read from).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeView {
    pub node: Option<Arc<Node>>,
    pub services: Vec<Arc<AgentService>>,
    pub checks: Vec<Arc<HealthCheck>>,
}

impl NodeView {
    /// `node`'s entry, services and checks in `state`.
    pub fn of(state: &State, node: &str) -> NodeView {
        NodeView {
            node: state.node(node).cloned(),
            services: state.node_services(node),
            checks: state.node_checks(node),
        }
    }
}

/// What a server does with forwarded requests: the agent installs it, so that
/// consensus carries HTTP and DNS without knowing either API.
pub trait ForwardedRequests: Send + Sync + 'static {
    /// Answers an HTTP request as the server's own API would.
    fn http(&self, request: ForwardedHttpRequest) -> BoxFuture<'static, ForwardedHttpResponse>;
    /// Answers a DNS query as the server's own DNS would; `None`: no answer is sent.
    fn dns(&self, query: ForwardedDnsQuery) -> BoxFuture<'static, Option<Vec<u8>>>;
    /// Whether the token with secret `token` may make a client's catalog write
    /// (`Err`: Consul's refusal text). Always `Ok` with ACLs off.
    fn vet_write(&self, token: &str, command: &Command) -> Result<(), String>;
    /// What the token with `secret` grants, for a client agent's own endpoints.
    fn token_grant(&self, secret: &str) -> TokenLookup;
}

/// The request a client agent sends for [`NodeView`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NodeViewRequest {
    pub node: String,
}

/// Why a call from a client agent to a server did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum AgentCallError {
    /// The request never reached the server: nothing was done there.
    #[error("{0}")]
    Unreachable(String),
    /// The server was reached but cannot serve such requests yet: nothing was done.
    #[error("{0}")]
    Unavailable(String),
    /// The request may have reached the server; its effect is unknown.
    #[error("{0}")]
    Failed(String),
    /// The server answered with a refusal from its consensus.
    #[error(transparent)]
    Refused(#[from] ConsensusError),
    /// The server's ACLs refused the write's token (Consul's `Permission denied: ...`).
    #[error("{0}")]
    Denied(String),
}

impl AgentCallError {
    /// Whether the request surely did nothing, so another server may be asked.
    pub fn nothing_done(&self) -> bool {
        matches!(
            self,
            AgentCallError::Unreachable(_) | AgentCallError::Unavailable(_)
        )
    }
}

impl From<CallError> for AgentCallError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Unreachable { .. } => AgentCallError::Unreachable(error.to_string()),
            CallError::Failed { .. } => AgentCallError::Failed(error.to_string()),
        }
    }
}

impl From<RemoteError> for AgentCallError {
    fn from(error: RemoteError) -> Self {
        match error {
            RemoteError::NotReady => {
                AgentCallError::Unavailable("the server's API is not serving yet".to_string())
            }
            other => AgentCallError::Refused(other.into()),
        }
    }
}

/// A client agent's side of server RPC: the same pooled client (and TLS) as servers
/// use between themselves. Cheap to clone.
#[derive(Clone)]
pub struct ServerRpcClient {
    pub(crate) rpc: RpcClient,
}

/// The longest a client's catalog write may take: the server's own hold time for a
/// leader and commit, plus the trip.
const CLIENT_WRITE_TIMEOUT: Duration = Duration::from_secs(WRITE_TIMEOUT.as_secs() + 3);

impl ServerRpcClient {
    /// Plaintext, or TLS as `tls.internal_rpc` says (`verify_outgoing`).
    pub fn new(tls: &RpcTls) -> ServerRpcClient {
        ServerRpcClient {
            rpc: RpcClient::new(tls.connector.as_ref()),
        }
    }

    /// Later calls use `tls` (a reload); calls under way finish on their connection.
    pub fn reconfigure(&self, tls: &RpcTls) {
        self.rpc.reconfigure(tls.connector.as_ref());
    }

    /// Has the server at `addr` answer `request`; `timeout` must cover the longest
    /// blocking query.
    pub async fn http(
        &self,
        addr: SocketAddr,
        request: &ForwardedHttpRequest,
        timeout: Duration,
    ) -> Result<ForwardedHttpResponse, AgentCallError> {
        let answer: Answer<ForwardedHttpResponse> = self
            .rpc
            .call(&addr.to_string(), messages::AGENT_HTTP, request, timeout)
            .await?;
        Ok(answer?)
    }

    /// Writes `command` through the server at `addr` (which forwards it to its leader),
    /// made with the token whose secret is `token` (the server checks it with ACLs on).
    pub async fn write(
        &self,
        addr: SocketAddr,
        command: &Command,
        token: &str,
    ) -> Result<Applied, AgentCallError> {
        let request = AgentWrite {
            command: command.clone(),
            token: token.to_string(),
        };
        let answer: Answer<Result<WriteApplied, String>> = self
            .rpc
            .call(
                &addr.to_string(),
                messages::AGENT_WRITE,
                &request,
                CLIENT_WRITE_TIMEOUT,
            )
            .await?;
        let applied = answer?.map_err(AgentCallError::Denied)?;
        Ok(Applied {
            index: applied.index,
            outcome: applied.outcome,
        })
    }

    /// The catalog's view of `node`, as the leader has it.
    pub async fn node_view(
        &self,
        addr: SocketAddr,
        node: &str,
    ) -> Result<NodeView, AgentCallError> {
        let request = NodeViewRequest {
            node: node.to_string(),
        };
        let answer: Answer<NodeView> = self
            .rpc
            .call(
                &addr.to_string(),
                messages::AGENT_NODE,
                &request,
                CLIENT_WRITE_TIMEOUT,
            )
            .await?;
        Ok(answer?)
    }

    /// The server's DNS answer to `query`.
    pub async fn dns(
        &self,
        addr: SocketAddr,
        query: &ForwardedDnsQuery,
        timeout: Duration,
    ) -> Result<Option<Vec<u8>>, AgentCallError> {
        let answer: Answer<Option<Vec<u8>>> = self
            .rpc
            .call(&addr.to_string(), messages::AGENT_DNS, query, timeout)
            .await?;
        Ok(answer?)
    }
}

/// The installed handler, if the agent has installed one yet.
pub(crate) type InstalledHandler = std::sync::OnceLock<Arc<dyn ForwardedRequests>>;

/// Byte strings as one length-prefixed run in binary formats (postcard), not a
/// sequence of numbers decoded one at a time.
mod raw_bytes {
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_byte_buf(BytesVisitor)
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("bytes")
        }

        fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
            Ok(bytes.to_vec())
        }

        fn visit_byte_buf<E: Error>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(bytes)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(byte) = seq.next_element()? {
                bytes.push(byte);
            }
            Ok(bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forwarded_request_survives_postcard() {
        let request = ForwardedHttpRequest {
            method: "PUT".to_string(),
            uri: "/v1/kv/a?cas=0".to_string(),
            headers: vec![("x-consul-token".to_string(), b"secret".to_vec())],
            body: (0..=255).collect(),
            peer: Some("127.0.0.9:4000".parse().unwrap()),
            origin: vec![1, 2, 3],
        };
        let bytes = postcard::to_allocvec(&request).unwrap();
        let back: ForwardedHttpRequest = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.body, request.body);
        assert_eq!(back.headers, request.headers);
        assert_eq!(back.peer, request.peer);
        assert_eq!(back.origin, request.origin);
    }

    #[test]
    fn only_unreached_or_unready_servers_did_nothing() {
        assert!(AgentCallError::Unreachable("x".into()).nothing_done());
        assert!(AgentCallError::from(RemoteError::NotReady).nothing_done());
        assert!(!AgentCallError::Failed("x".into()).nothing_done());
        assert!(!AgentCallError::from(RemoteError::NoLeader).nothing_done());
    }
}
