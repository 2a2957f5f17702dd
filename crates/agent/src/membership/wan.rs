//! Several datacenters: a server's WAN gossip pool (`pool`), which every server of every
//! datacenter joins as `<node>.<dc>` (`flood` brings this datacenter's servers in through
//! their LAN tags), the per-datacenter server lists it feeds (`datacenters`), DNS names
//! of other datacenters (`dns_forward`) and the datacenters ordered by estimated round
//! trip (`distance`). The HTTP side lives in `http`: `datacenter_forward` (requests with
//! `?dc=`) and `query_failover` (prepared queries failing over).

pub mod datacenters;
pub mod distance;
pub mod dns_forward;
pub mod flood;
pub mod pool;

use std::sync::Arc;

use proconsul_gossip::Gossip;

use crate::coordinate_client::AgentCoordinate;
use datacenters::Datacenters;

/// A server's part in the WAN: its pool, its WAN coordinate and the datacenters it routes
/// to.
pub struct Wan {
    /// The WAN gossip pool (servers of every datacenter, named `<node>.<dc>`).
    pub gossip: Gossip,
    /// This server's coordinate among the WAN pool's members (apart from the LAN one,
    /// as in Consul).
    pub coordinate: AgentCoordinate,
    /// Each datacenter's alive servers, as the WAN pool has them.
    pub datacenters: Arc<Datacenters>,
}

impl Wan {
    /// The servers of every datacenter the WAN pool knows (members that have not left),
    /// each with its WAN coordinate when gossip has one (this server's own as it is
    /// now), by datacenter; node names without the `.dc` suffix.
    pub fn datacenter_coordinates(
        &self,
    ) -> std::collections::BTreeMap<
        String,
        Vec<(String, Option<proconsul_api::coordinate::Coordinate>)>,
    > {
        let mut by_dc: std::collections::BTreeMap<String, Vec<_>> = Default::default();
        by_dc.insert(self.datacenters.local().to_string(), Vec::new());
        let me = self.gossip.local_name();
        let members = self.gossip.members();
        for server in datacenters::wan_servers(&members) {
            if server.member.status == proconsul_gossip::MemberStatus::Left {
                continue;
            }
            let name = &server.member.name;
            let coordinate = if name == me {
                Some(self.coordinate.current())
            } else {
                self.gossip
                    .coordinate_of(name)
                    .and_then(|blob| crate::coordinate_client::decode(&blob))
            };
            let node = name
                .strip_suffix(&format!(".{}", server.datacenter))
                .unwrap_or(name)
                .to_string();
            by_dc
                .entry(server.datacenter.to_string())
                .or_default()
                .push((node, coordinate));
        }
        by_dc
    }

    /// Every known datacenter, this one first, then by median estimated round trip.
    pub fn datacenters_by_distance(&self) -> Vec<String> {
        let coordinates = self
            .datacenter_coordinates()
            .into_iter()
            .map(|(dc, servers)| {
                (
                    dc,
                    servers.into_iter().filter_map(|(_, coord)| coord).collect(),
                )
            })
            .collect();
        distance::by_distance(
            self.datacenters.local(),
            &self.coordinate.current(),
            &coordinates,
        )
    }
}
