//! The agent's DNS: a server answers from its replica; a client agent, which has none,
//! forwards each query's bytes to a server over server RPC and returns the server's
//! answer, so both answer alike. A server builds its handler even with DNS off, for
//! the queries its clients forward.

use std::net::SocketAddr;
use std::sync::Arc;

use proconsul_consensus::Consensus;
use proconsul_consensus::agent_rpc::ForwardedDnsQuery;
use proconsul_dns::{DnsConfig, DnsHandler, DnsServer, ForwardQuery, ForwardingDnsServer};

use crate::agent_tokens::AgentTokens;
use crate::catalog_backend::CatalogBackend;
use crate::config::AgentConfig;
use crate::error::AgentError;
use crate::token_resolver::TokenResolver;

/// The bound DNS listeners (UDP and TCP on one address).
pub enum DnsListener {
    /// A server's, answering from its replica.
    Server(DnsServer),
    /// A client agent's, answering through a server.
    Client(ForwardingDnsServer),
}

impl DnsListener {
    /// Binds the listeners when DNS is on (`ports.dns` is not -1).
    pub async fn bind(
        config: &AgentConfig,
        catalog: &CatalogBackend,
        handler: Option<&Arc<DnsHandler>>,
        tokens: &Arc<AgentTokens>,
    ) -> Result<Option<DnsListener>, AgentError> {
        let Some(port) = config.dns_port else {
            return Ok(None);
        };
        let addr = SocketAddr::new(config.dns_addr.unwrap_or(config.client_addr), port);
        let listener = match (handler, catalog.client()) {
            (Some(handler), _) => {
                DnsListener::Server(DnsServer::bind(addr, handler.clone()).await?)
            }
            (None, Some(link)) => {
                let link = link.clone();
                // With ACLs the server answers as this agent's DNS token may read (an
                // anonymous lookup without one); without, as the server's DNS token.
                let acl = config.acl.enabled.then(|| tokens.clone());
                let forward: ForwardQuery = Arc::new(move |packet, peer, tcp| {
                    let link = link.clone();
                    let token = acl
                        .as_ref()
                        .map(|tokens| tokens.dns_token().unwrap_or_default());
                    Box::pin(async move {
                        let query = ForwardedDnsQuery {
                            packet,
                            tcp,
                            peer,
                            token,
                        };
                        match link.dns(&query).await {
                            Ok(answer) => answer,
                            Err(error) => {
                                tracing::warn!(%error, "dns: no server answered a forwarded query");
                                None
                            }
                        }
                    })
                });
                DnsListener::Client(ForwardingDnsServer::bind(addr, forward).await?)
            }
            (None, None) => return Ok(None),
        };
        Ok(Some(listener))
    }

    /// The address both listeners are bound to.
    pub fn local_addr(&self) -> SocketAddr {
        match self {
            DnsListener::Server(server) => server.local_addr(),
            DnsListener::Client(server) => server.local_addr(),
        }
    }

    /// Serves until `shutdown` completes.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) {
        match self {
            DnsListener::Server(server) => server.serve_until(shutdown).await,
            DnsListener::Client(server) => server.serve_until(shutdown).await,
        }
    }
}

/// A server's DNS handler, reading the replica this agent reads; `remote` answers other
/// datacenters' names and `failover` runs prepared queries there (with a WAN pool).
pub fn server_handler(
    config: &AgentConfig,
    consensus: &Consensus,
    node_name: &str,
    acl_resolver: Option<&Arc<TokenResolver>>,
    remote: Option<proconsul_dns::RemoteQuery>,
    failover: Option<proconsul_dns::QueryFailover>,
) -> Result<Arc<DnsHandler>, AgentError> {
    let reader = consensus.reader().clone();
    let dns_config = DnsConfig {
        datacenter: config.datacenter.clone(),
        node_name: node_name.to_string(),
        ..config.dns.clone()
    };
    let mut handler = DnsHandler::new(
        dns_config,
        Arc::new(move || reader.current()),
        config.bind_addr,
    )?;
    if let Some(resolver) = acl_resolver {
        handler = handler.with_acl(dns_acl(resolver.clone()));
    }
    if let Some(remote) = remote {
        handler = handler.with_remote(remote);
    }
    if let Some(failover) = failover {
        handler = handler.with_query_failover(failover);
    }
    Ok(Arc::new(handler))
}

/// The DNS token's authorizer (`acl.tokens.dns`, else `default`, else anonymous); a
/// token that does not resolve allows nothing.
fn dns_acl(resolver: Arc<TokenResolver>) -> proconsul_dns::AclSource {
    Arc::new(move |state: &proconsul_state::State| {
        let secret = resolver.dns_token();
        let now = proconsul_api::go_time::GoTime::from(std::time::SystemTime::now());
        match resolver.resolve(state, secret.as_deref(), now) {
            Ok((_, authorizer)) => authorizer,
            Err(error) => {
                tracing::warn!(%error, "dns: the DNS token does not resolve; answering nothing");
                Arc::new(proconsul_acl::Authorizer::deny_all())
            }
        }
    })
}
