//! Prepared-query failover (`Service.Failover`): when no instance of a query's service
//! is healthy here, the query (as rendered here) runs in other datacenters, the
//! `NearestN` nearest by estimated round trip first, then `Datacenters` in their order
//! (unknown ones and repeats skipped), until one has instances; the answer says which
//! datacenter gave them and how many were tried (`Failovers`), as Consul's does.
//!
//! The remote datacenter runs the query definition it is sent through a Proconsul
//! endpoint of its own (`PUT /v1/internal/query/execute-remote`, served to forwarded
//! requests only), reached like any `?dc=` request.
//!
//! Both executions use [`fail_over`]: HTTP's (`/v1/query/:id/execute`, forwarding the
//! caller's headers) and DNS's (`<query>.query` lookups, through the closure
//! [`dns_failover`] gives the DNS handler, with the DNS token).

use std::sync::Arc;
use std::time::Duration;

use proconsul_api::ServiceEntry;
use proconsul_api::query::PreparedQuery;
use proconsul_consensus::agent_rpc::ForwardedHttpRequest;
use proconsul_dns::{FailoverFound, FailoverRequest, QueryFailover};
use serde::{Deserialize, Serialize};

use crate::http::origin::Origin;
use crate::membership::wan::Wan;
use crate::token_resolver::TokenResolver;

/// The remote endpoint's path.
pub const EXECUTE_REMOTE_PATH: &str = "/v1/internal/query/execute-remote";
/// How long one datacenter may take to answer.
const REMOTE_TIMEOUT: Duration = Duration::from_secs(30);

/// What the remote endpoint takes (Proconsul's own JSON, not Consul's).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteExecute {
    /// The query as rendered where it was asked (`Near` cleared: no RTT sort there).
    pub query: PreparedQuery,
    pub limit: usize,
    pub connect: bool,
}

/// What failing over found.
pub struct FailoverAnswer {
    /// The last datacenter that answered (`None`: none did).
    pub datacenter: Option<String>,
    pub nodes: Vec<ServiceEntry>,
    /// Datacenters tried.
    pub failovers: u64,
}

/// The datacenters to try, in order: the `nearest_n` nearest other ones (`by_distance`
/// is every known one, nearest first), then `listed` ones that are known and not
/// already in.
pub fn failover_order(
    by_distance: &[String],
    local: &str,
    nearest_n: usize,
    listed: &[String],
) -> Vec<String> {
    let mut order: Vec<String> = by_distance
        .iter()
        .filter(|dc| *dc != local)
        .take(nearest_n)
        .cloned()
        .collect();
    for dc in listed {
        if dc != local && by_distance.contains(dc) && !order.contains(dc) {
            order.push(dc.clone());
        } else if !by_distance.contains(dc) {
            tracing::debug!(datacenter = %dc, "query: skipping an unknown failover datacenter");
        }
    }
    order
}

/// Runs `query` in the failover datacenters until one has instances; `None` when the
/// query has no failover. `headers` go with each request (the caller's token).
pub async fn fail_over(
    wan: &Wan,
    agent_node: &str,
    query: &PreparedQuery,
    limit: usize,
    connect: bool,
    headers: Vec<(String, Vec<u8>)>,
) -> Option<FailoverAnswer> {
    let failover = &query.service.failover;
    let listed = failover.datacenters.as_deref().unwrap_or_default();
    let nearest_n = usize::try_from(failover.nearest_n).unwrap_or(0);
    if nearest_n == 0 && listed.is_empty() {
        return None;
    }
    let order = failover_order(
        &wan.datacenters_by_distance(),
        wan.datacenters.local(),
        nearest_n,
        listed,
    );
    let mut remote_query = query.clone();
    remote_query.service.near = String::new();
    let body = serde_json::to_vec(&RemoteExecute {
        query: remote_query,
        limit,
        connect,
    })
    .ok()?;
    let mut answer = FailoverAnswer {
        datacenter: None,
        nodes: Vec::new(),
        failovers: 0,
    };
    for datacenter in order {
        answer.failovers += 1;
        let request = ForwardedHttpRequest {
            method: "PUT".to_string(),
            uri: format!("{EXECUTE_REMOTE_PATH}?dc={datacenter}"),
            headers: headers.clone(),
            body: body.clone(),
            peer: None,
            origin: Origin {
                node: agent_node.to_string(),
                services: Vec::new(),
            }
            .encode(),
        };
        let link = match wan.datacenters.route(&datacenter) {
            Ok(link) => link,
            Err(error) => {
                tracing::warn!(%datacenter, %error, "query: failover datacenter skipped");
                continue;
            }
        };
        let nodes = match link.http(&request, REMOTE_TIMEOUT, true).await {
            Ok(reply) if reply.status == 200 => {
                serde_json::from_slice::<Vec<ServiceEntry>>(&reply.body)
            }
            Ok(reply) => {
                tracing::warn!(%datacenter, status = reply.status, body = %String::from_utf8_lossy(&reply.body), "query: failover datacenter refused");
                continue;
            }
            Err(error) => {
                tracing::warn!(%datacenter, %error, "query: failover datacenter unreachable");
                continue;
            }
        };
        match nodes {
            Ok(nodes) => {
                answer.datacenter = Some(datacenter);
                answer.nodes = nodes;
                if !answer.nodes.is_empty() {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(%datacenter, %error, "query: failover answer does not decode");
            }
        }
    }
    Some(answer)
}

/// The closure the DNS handler fails `<query>.query` lookups over with
/// ([`proconsul_dns::DnsHandler::with_query_failover`]): [`fail_over`] with the token the
/// lookup came with (a client agent's DNS token), else this agent's DNS token (with
/// ACLs, `acl`), so the other datacenters filter as an HTTP execution with that token.
pub fn dns_failover(
    wan: Arc<Wan>,
    agent_node: String,
    acl: Option<Arc<TokenResolver>>,
) -> QueryFailover {
    Arc::new(move |request: FailoverRequest| {
        let wan = wan.clone();
        let agent_node = agent_node.clone();
        let token = request
            .token
            .or_else(|| acl.as_ref().and_then(|resolver| resolver.dns_token()))
            .filter(|token| !token.is_empty());
        Box::pin(async move {
            let headers = token
                .map(|token| ("x-consul-token".to_string(), token.into_bytes()))
                .into_iter()
                .collect();
            let found = fail_over(&wan, &agent_node, &request.query, 0, false, headers).await?;
            Some(FailoverFound {
                datacenter: found.datacenter?,
                nodes: found.nodes,
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn nearest_first_then_the_listed_ones_known_and_new() {
        let by_distance = names(&["dc1", "dc3", "dc2", "dc4"]);
        assert_eq!(
            failover_order(
                &by_distance,
                "dc1",
                2,
                &names(&["dc4", "dc2", "dc9", "dc1"])
            ),
            ["dc3", "dc2", "dc4"]
        );
        assert_eq!(
            failover_order(&by_distance, "dc1", 0, &names(&["dc4", "dc2"])),
            ["dc4", "dc2"]
        );
        assert_eq!(
            failover_order(&by_distance, "dc1", 9, &[]),
            ["dc3", "dc2", "dc4"]
        );
    }
}
