//! A client agent's link to the servers: every call goes to the [`ServerPool`]'s
//! current server over server RPC; a server that cannot be reached (or is not serving
//! yet) is rotated out and the next one tried, once each, since nothing was done
//! there. A call whose outcome is unknown (the server died mid-request) is tried on the
//! next server only when repeating it is harmless (reads).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, counter};
use proconsul_consensus::agent_acl::TokenLookup;
use proconsul_consensus::agent_rpc::{
    AgentCallError, ForwardedDnsQuery, ForwardedHttpRequest, ForwardedHttpResponse, NodeView,
    ServerRpcClient,
};
use proconsul_consensus::{Applied, ConsensusError, RpcTls};
use proconsul_state::Command;

use crate::server_pool::ServerPool;

/// Why a call to the servers gave no answer; the texts are Consul's.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// No server is known (none joined yet).
    #[error("No known Consul servers")]
    NoServers,
    /// No server could be reached, or one failed mid-request.
    #[error("rpc error making call: {0}")]
    Rpc(AgentCallError),
    /// A server answered with its consensus's refusal ("No cluster leader" ...).
    #[error(transparent)]
    Refused(ConsensusError),
    /// A server's ACLs refused a write's token (`Permission denied: ...`).
    #[error("{0}")]
    Denied(String),
}

/// The server pool and the RPC client, shared by everything that calls servers.
pub struct ServerLink {
    pool: Arc<ServerPool>,
    rpc: ServerRpcClient,
    /// `client.rpc`: every call a server is asked (each server tried counts), and
    /// `client.rpc.failed`: those that got no answer, as a Consul client agent counts them.
    rpc_calls: Counter,
    rpc_failed: Counter,
}

/// How long a forwarded DNS query may take.
const DNS_TIMEOUT: Duration = Duration::from_secs(5);

impl ServerLink {
    pub fn new(tls: &RpcTls) -> ServerLink {
        ServerLink {
            pool: Arc::new(ServerPool::default()),
            rpc: ServerRpcClient::new(tls),
            rpc_calls: counter!("client.rpc"),
            rpc_failed: counter!("client.rpc.failed"),
        }
    }

    /// The servers calls go to (gossip's servers, through [`ServerPool::replace`]).
    pub fn pool(&self) -> &Arc<ServerPool> {
        &self.pool
    }

    /// Server RPC's new TLS settings (a reload).
    pub fn reload_tls(&self, tls: &RpcTls) {
        self.rpc.reconfigure(tls);
    }

    /// Runs `attempt` against the current server, moving on to the next while nothing
    /// was done there (or, with `repeatable`, also when the outcome is unknown); each
    /// server is tried at most once.
    async fn call<T, Fut>(
        &self,
        repeatable: bool,
        attempt: impl Fn(SocketAddr) -> Fut,
    ) -> Result<T, LinkError>
    where
        Fut: Future<Output = Result<T, AgentCallError>>,
    {
        let tries = self.pool.servers().len().max(1);
        let mut last = LinkError::NoServers;
        for _ in 0..tries {
            let Some(server) = self.pool.current() else {
                return Err(last);
            };
            self.rpc_calls.increment(1);
            match attempt(server.rpc_addr).await {
                Ok(answer) => return Ok(answer),
                Err(AgentCallError::Refused(refusal)) => return Err(LinkError::Refused(refusal)),
                Err(AgentCallError::Denied(refusal)) => return Err(LinkError::Denied(refusal)),
                Err(error) => {
                    self.rpc_failed.increment(1);
                    tracing::debug!(server = %server.name, %error, "client: call to server failed");
                    self.pool.failed(&server);
                    let retry = repeatable || error.nothing_done();
                    last = LinkError::Rpc(error);
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(last)
    }

    /// One of the agent's own catalog writes, made with the token whose secret is
    /// `token`, through a server to the leader.
    pub async fn write(&self, command: &Command, token: &str) -> Result<Applied, LinkError> {
        self.call(false, |addr| self.rpc.write(addr, command, token))
            .await
    }

    /// What the token with `secret` grants, as a server resolves it.
    pub async fn token_grant(&self, secret: &str) -> Result<TokenLookup, LinkError> {
        self.call(true, |addr| self.rpc.token_grant(addr, secret))
            .await
    }

    /// The catalog's view of `node`.
    pub async fn node_view(&self, node: &str) -> Result<NodeView, LinkError> {
        self.call(true, |addr| self.rpc.node_view(addr, node)).await
    }

    /// A server's answer to an HTTP request; `repeatable` when sending it twice is
    /// harmless (a read).
    pub async fn http(
        &self,
        request: &ForwardedHttpRequest,
        timeout: Duration,
        repeatable: bool,
    ) -> Result<ForwardedHttpResponse, LinkError> {
        self.call(repeatable, |addr| self.rpc.http(addr, request, timeout))
            .await
    }

    /// A server's DNS answer to `query`.
    pub async fn dns(&self, query: &ForwardedDnsQuery) -> Result<Option<Vec<u8>>, LinkError> {
        self.call(true, |addr| self.rpc.dns(addr, query, DNS_TIMEOUT))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::server_pool::ServerEndpoint;

    fn link(servers: &[u8]) -> ServerLink {
        let link = ServerLink::new(&RpcTls::default());
        link.pool.replace(
            servers
                .iter()
                .map(|i| ServerEndpoint {
                    name: format!("s{i}"),
                    rpc_addr: SocketAddr::from(([127, 0, 0, *i], 8300)),
                })
                .collect(),
        );
        link
    }

    /// Calls `link` with an attempt that fails with `failure` on every server but
    /// `good`; returns the answer and the servers tried.
    async fn attempt(
        link: &ServerLink,
        repeatable: bool,
        good: u8,
        failure: fn() -> AgentCallError,
    ) -> (Result<u8, LinkError>, Vec<u8>) {
        let tried = Mutex::new(Vec::new());
        let answer = link
            .call(repeatable, |addr| {
                let last = match addr.ip() {
                    std::net::IpAddr::V4(ip) => ip.octets()[3],
                    std::net::IpAddr::V6(_) => 0,
                };
                tried.lock().unwrap().push(last);
                async move {
                    if last == good {
                        Ok(last)
                    } else {
                        Err(failure())
                    }
                }
            })
            .await;
        (answer, tried.into_inner().unwrap())
    }

    #[tokio::test]
    async fn unreached_servers_are_skipped_once_each_and_the_answering_one_stays_current() {
        let link = link(&[1, 2, 3]);
        let unreachable = || AgentCallError::Unreachable("refused".into());
        let (answer, tried) = attempt(&link, false, 3, unreachable).await;
        assert_eq!(answer.unwrap(), 3);
        assert_eq!(tried.last(), Some(&3));
        assert!(tried.len() <= 3);
        assert_eq!(link.pool.current().unwrap().name, "s3");
        // Nobody answers: each server is tried once, then Consul's error.
        let (answer, tried) = attempt(&link, false, 9, unreachable).await;
        assert_eq!(tried.len(), 3);
        let error = answer.unwrap_err().to_string();
        assert!(error.starts_with("rpc error making call: "), "{error}");
    }

    #[tokio::test]
    async fn an_unknown_outcome_is_retried_for_reads_only() {
        let failed = || AgentCallError::Failed("reset".into());
        let link = link(&[1, 2]);
        let first = link.pool.current().unwrap().name;
        let (answer, tried) = attempt(&link, false, 0, failed).await;
        assert!(answer.is_err());
        assert_eq!(tried.len(), 1);
        // The failed server is no longer current.
        assert_ne!(link.pool.current().unwrap().name, first);
        let (answer, tried) = attempt(&link, true, 0, failed).await;
        assert!(answer.is_err());
        assert_eq!(tried.len(), 2);
    }

    #[tokio::test]
    async fn a_refusal_is_the_servers_answer_and_no_server_is_consuls_text() {
        let refused = || AgentCallError::Refused(ConsensusError::NoLeader);
        let link = link(&[1, 2]);
        let (answer, tried) = attempt(&link, true, 0, refused).await;
        assert_eq!(tried.len(), 1);
        assert_eq!(answer.unwrap_err().to_string(), "No cluster leader");
        let empty = ServerLink::new(&RpcTls::default());
        let (answer, tried) = attempt(&empty, true, 0, refused).await;
        assert!(tried.is_empty());
        assert_eq!(answer.unwrap_err().to_string(), "No known Consul servers");
    }
}
