//! `agent/self`'s `Stats`: the sections `consul info` prints, with Consul's keys and
//! string values (Consul's `Agent.Stats`). `serf_lan` comes from the LAN gossip pool,
//! `serf_wan` from a server's WAN pool (client agents have none). Serf's query and event
//! queues and coordinate resets are 0: the pools send no user events or queries.
//!
//! Rust equivalents where Consul reports Go's runtime: `runtime.version` says Rust and
//! Proconsul's version (Go's names its release), `goroutines` the tokio tasks alive now, `max_procs` the runtime's worker threads,
//! `cpu_count` the logical CPUs. `raft.fsm_pending` is 0 (openraft applies committed
//! entries without a queue Consul could count), and the protocol and snapshot versions
//! are hashicorp/raft's.

use serde_json::{Value, json};

use crate::agent::AgentInner;
use crate::build_info;

/// The `Stats` object of `agent/self`.
pub fn stats(agent: &AgentInner) -> Value {
    let checks = agent.local.checks();
    let of_type = |kind: &str| {
        checks
            .values()
            .filter(|check| check.check.check_type == kind)
            .count()
            .to_string()
    };
    let runtime = tokio::runtime::Handle::current().metrics();
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let mut stats = json!({
        "serf_lan": serf_section(&agent.gossip.stats()),
        "agent": {
            "check_monitors": of_type("script"),
            "check_ttls": of_type("ttl"),
            "checks": checks.len().to_string(),
            "services": agent.local.services().len().to_string(),
        },
        "build": {
            "prerelease": build_info::PRERELEASE,
            "revision": build_info::REVISION,
            "version": crate::CONSUL_COMPAT_VERSION,
            "version_metadata": "",
        },
        "consul": consul_section(agent),
        "runtime": {
            "arch": std::env::consts::ARCH,
            "cpu_count": cpus.to_string(),
            "goroutines": runtime.num_alive_tasks().to_string(),
            "max_procs": runtime.num_workers().to_string(),
            "os": std::env::consts::OS,
            "version": format!("rust (proconsul {})", build_info::PROCONSUL_VERSION),
        },
    });
    if let (Some(wan), Some(sections)) = (&agent.wan, stats.as_object_mut()) {
        sections.insert("serf_wan".to_string(), serf_section(&wan.gossip.stats()));
    }
    // Only servers run Raft (Consul's clients have no `raft` section).
    if let (Some(consensus), Some(sections)) = (agent.catalog.server(), stats.as_object_mut()) {
        sections.insert("raft".to_string(), raft_section(consensus));
    }
    stats
}

/// A gossip pool's section (`serf_lan`, `serf_wan`).
fn serf_section(serf: &proconsul_gossip::GossipStats) -> Value {
    json!({
        "coordinate_resets": "0",
        "encrypted": serf.encrypted.to_string(),
        "event_queue": "0",
        "event_time": serf.event_time.to_string(),
        "failed": serf.failed.to_string(),
        "health_score": serf.health_score.to_string(),
        "intent_queue": serf.intent_queue.to_string(),
        "left": serf.left.to_string(),
        "member_time": serf.member_time.to_string(),
        "members": serf.members.to_string(),
        "query_queue": "0",
        "query_time": "0",
    })
}

/// The `consul` section: a server's leadership, or a client's known servers.
fn consul_section(agent: &AgentInner) -> Value {
    let acl = if agent.config.acl.enabled {
        "enabled"
    } else {
        "disabled"
    };
    match (agent.catalog.server(), agent.catalog.client()) {
        (Some(consensus), _) => json!({
            "acl": acl,
            "bootstrap": (agent.config.dev || agent.config.bootstrap).to_string(),
            "known_datacenters": agent
                .wan
                .as_ref()
                .map_or(1, |wan| wan.datacenters.names().len())
                .to_string(),
            "leader": consensus.is_leader().to_string(),
            "leader_addr": consensus.leader().map(|leader| leader.rpc_addr).unwrap_or_default(),
            "server": "true",
        }),
        (None, link) => json!({
            "acl": acl,
            "known_servers": link.map_or(0, |link| link.pool().servers().len()).to_string(),
            "server": "false",
        }),
    }
}

/// The `raft` section, hashicorp/raft's keys.
fn raft_section(consensus: &proconsul_consensus::Consensus) -> Value {
    let raft = consensus.raft_stats();
    json!({
        "applied_index": raft.applied_index.to_string(),
        "commit_index": raft.commit_index.to_string(),
        "fsm_pending": "0",
        "last_contact": last_contact(&raft),
        "last_log_index": raft.last_log_index.to_string(),
        "last_log_term": raft.last_log_term.to_string(),
        "last_snapshot_index": raft.last_snapshot_index.to_string(),
        "last_snapshot_term": raft.last_snapshot_term.to_string(),
        "latest_configuration": raft.latest_configuration,
        "latest_configuration_index": raft.latest_configuration_index.to_string(),
        "num_peers": raft.num_peers.to_string(),
        "protocol_version": "3",
        "protocol_version_max": "3",
        "protocol_version_min": "0",
        "snapshot_version_max": "1",
        "snapshot_version_min": "0",
        "state": raft.state,
        "term": raft.term.to_string(),
    })
}

/// hashicorp/raft's `last_contact`: `0` on the leader, else Go's duration text.
fn last_contact(raft: &proconsul_consensus::RaftStats) -> String {
    if raft.state == "Leader" {
        return "0".to_string();
    }
    let millis = raft.last_contact.as_secs_f64() * 1000.0;
    if millis < 1000.0 {
        format!("{millis:.3}ms")
    } else {
        format!("{:.3}s", millis / 1000.0)
    }
}
