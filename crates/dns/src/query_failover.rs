//! Prepared-query failover for `<query>.query` lookups: when the local execution of a
//! query with a `Service.Failover` policy leaves no instance, Consul runs the same
//! execution in other datacenters and answers with the first one's instances. Reaching
//! them is the agent's business (WAN routes, RTT order, server RPC), so the handler is
//! given an async closure, [`QueryFailover`], as it is for other datacenters' names
//! ([`crate::remote`]); the answer is then built here, with the local records logic
//! ([`crate::answer::failed_over`]).
//!
//! The answer builder stays synchronous: it marks a response that should fail over
//! ([`crate::answer::Response::failover`]), and the server layer, which is async
//! anyway, calls the closure and builds the answer again from what it brought.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use proconsul_api::ServiceEntry;
use proconsul_api::query::PreparedQuery;

/// What the closure is asked to run elsewhere.
#[derive(Debug, Clone)]
pub struct FailoverRequest {
    /// The query as rendered here (templates interpolated), to run as it is.
    pub query: PreparedQuery,
    /// The DNS token a client agent forwarded its query with (the remote datacenter
    /// filters with it, as a forwarded HTTP execution is filtered with the caller's
    /// token); `None`: the answering agent's own DNS token applies.
    pub token: Option<String>,
}

/// What failing over found: the datacenter that answered and its instances (none when
/// no datacenter had any).
#[derive(Debug, Clone, Default)]
pub struct FailoverFound {
    /// The datacenter the instances are in (SRV targets name it).
    pub datacenter: String,
    pub nodes: Vec<ServiceEntry>,
}

/// Runs a rendered query in the failover datacenters; `None` when none could be asked
/// or none had an instance.
pub type QueryFailover = Arc<
    dyn Fn(FailoverRequest) -> Pin<Box<dyn Future<Output = Option<FailoverFound>> + Send>>
        + Send
        + Sync,
>;

/// Whether `query` names any datacenter to fail over to (`NearestN` or `Datacenters`;
/// `Targets` name peers, which do not exist here).
pub fn has_failover(query: &PreparedQuery) -> bool {
    let failover = &query.service.failover;
    failover.nearest_n > 0
        || failover
            .datacenters
            .as_ref()
            .is_some_and(|dcs| !dcs.is_empty())
}
