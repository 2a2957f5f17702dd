//! The DNS handler's way to other datacenters: a query naming one goes, as its bytes,
//! to an alive server there (the `/agent/dns` call client agents use), whose DNS handler
//! answers it as if it had come over the same protocol.

use std::sync::Arc;

use proconsul_consensus::agent_rpc::ForwardedDnsQuery;
use proconsul_dns::{RemoteAnswer, RemoteQuery};

use crate::membership::wan::datacenters::{Datacenters, RouteError};

/// The closure [`proconsul_dns::DnsHandler::with_remote`] takes.
pub fn remote_query(datacenters: Arc<Datacenters>) -> RemoteQuery {
    Arc::new(move |datacenter, packet, peer, tcp| {
        let datacenters = datacenters.clone();
        Box::pin(async move {
            let link = match datacenters.route(&datacenter) {
                Ok(link) => link,
                Err(RouteError::NoPath) => return RemoteAnswer::UnknownDatacenter,
                Err(RouteError::Unreachable) => return RemoteAnswer::Unreachable,
            };
            // Tokens are not replicated between datacenters yet: the remote server
            // answers as its own DNS token may read.
            let query = ForwardedDnsQuery {
                packet,
                tcp,
                peer,
                token: None,
            };
            match link.dns(&query).await {
                Ok(Some(answer)) => RemoteAnswer::Answer(answer),
                Ok(None) => RemoteAnswer::Unreachable,
                Err(error) => {
                    tracing::warn!(%datacenter, %error, "dns: no server of the datacenter answered");
                    RemoteAnswer::Unreachable
                }
            }
        })
    })
}
