//! Names of other datacenters (`<svc>.service.<dc>`, `<node>.node.<dc>`,
//! `<query>.query.<dc>`): the query's bytes go, through a closure the agent gives (it
//! sends them to a server of that datacenter over server RPC), to that datacenter's DNS
//! handler, whose answer is relayed unchanged, so TTLs and health rules are the remote
//! server's. A datacenter nobody knows is answered here (NXDOMAIN), one whose servers
//! are all down SERVFAIL.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use crate::name::Lookup;

/// What another datacenter made of a query.
pub enum RemoteAnswer {
    /// Its encoded answer.
    Answer(Vec<u8>),
    /// No such datacenter: answered here, as a local name that names nothing.
    UnknownDatacenter,
    /// It is known but no server answered.
    Unreachable,
}

/// Asks another datacenter: `(datacenter, query, client, over_tcp)`.
pub type RemoteQuery = Arc<
    dyn Fn(String, Vec<u8>, SocketAddr, bool) -> Pin<Box<dyn Future<Output = RemoteAnswer> + Send>>
        + Send
        + Sync,
>;

/// The datacenter a lookup names when it is not `local` (matched without case);
/// address lookups (`<hex>.addr.<dc>`) decode locally whatever their datacenter.
pub fn remote_datacenter<'a>(lookup: &'a Lookup, local: &str) -> Option<&'a str> {
    let datacenter = match lookup {
        Lookup::Service { datacenter, .. }
        | Lookup::Node { datacenter, .. }
        | Lookup::Query { datacenter, .. } => datacenter.as_deref()?,
        _ => return None,
    };
    (!datacenter.eq_ignore_ascii_case(local)).then_some(datacenter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::parse;

    #[test]
    fn only_service_node_and_query_names_of_other_datacenters_go_there() {
        let remote = |labels: &[&str]| remote_datacenter(&parse(labels), "dc1").map(str::to_string);
        assert_eq!(remote(&["web", "service", "dc2"]).as_deref(), Some("dc2"));
        assert_eq!(remote(&["n1", "node", "dc2", "dc"]).as_deref(), Some("dc2"));
        assert_eq!(remote(&["q", "query", "dc2"]).as_deref(), Some("dc2"));
        assert_eq!(remote(&["web", "service", "dc1"]), None);
        assert_eq!(remote(&["web", "service", "DC1"]), None);
        assert_eq!(remote(&["web", "service"]), None);
        assert_eq!(remote(&["7f000001", "addr", "dc2"]), None);
    }
}
