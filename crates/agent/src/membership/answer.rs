//! Members as `/v1/agent/members` and `agent/self`'s `Member` show them: Consul's
//! `AgentMember` with serf's numeric status and the protocol versions a Consul agent
//! reports (memberlist 1..5, speaking 2; serf delegate 2..5, speaking 4).

use proconsul_api::AgentMember;
use proconsul_gossip::Member;

/// One member in Consul's shape. In the WAN view a server is `<node>.<dc>` on its
/// `wan_join_port`.
pub fn agent_member(member: &Member, wan: bool) -> AgentMember {
    let (name, port) = if wan {
        let dc = member.tags.get("dc").map_or("", String::as_str);
        let port = member
            .tags
            .get("wan_join_port")
            .and_then(|port| port.parse().ok())
            .unwrap_or(member.addr.port());
        (format!("{}.{dc}", member.name), port)
    } else {
        (member.name.clone(), member.addr.port())
    };
    AgentMember {
        name,
        addr: member.addr.ip().to_string(),
        port,
        tags: member.tags.clone(),
        status: member.status as u8,
        protocol_min: 1,
        protocol_max: 5,
        protocol_cur: 2,
        delegate_min: 2,
        delegate_max: 5,
        delegate_cur: 4,
    }
}
