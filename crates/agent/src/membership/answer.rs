//! Members as `/v1/agent/members` and `agent/self`'s `Member` show them: Consul's
//! `AgentMember` with serf's numeric status and the protocol versions a Consul agent
//! reports (memberlist 1..5, speaking 2; serf delegate 2..5, speaking 4).

use proconsul_api::AgentMember;
use proconsul_gossip::Member;

/// One member (of either pool; WAN members are already named `<node>.<dc>`) in
/// Consul's shape.
pub fn agent_member(member: &Member) -> AgentMember {
    AgentMember {
        name: member.name.clone(),
        addr: member.addr.ip().to_string(),
        port: member.addr.port(),
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
